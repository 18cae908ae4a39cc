//! InventoryService's stock: a field to set it (`P001:5,P002:0`; empty, nothing is counted and
//! every product is known; once set, it is the catalogue, and an order for a product it does not
//! list is dead-lettered), and beside it what is left now, live: each reservation takes from it and each
//! release gives back. Each level is also retained on the broker (`inventory/stock/<productId>`);
//! a product the learner stops counting has its retained level cleared, and the panel says so.

use eda_core::services::Stock;
use yew::prelude::*;

use super::outside_text::{outside, sentence};
use super::DraftField;

#[derive(Properties, PartialEq)]
pub struct StockPanelProps {
    /// What the learner (or the link) set.
    pub configured: Stock,
    /// On hand now.
    pub levels: Stock,
    /// Held by open reservations, apart from what is on hand (a product with none left out).
    #[prop_or_default]
    pub held: Stock,
    /// Products no longer counted, whose retained level InventoryService cleared.
    #[prop_or_default]
    pub uncounted: Vec<String>,
    /// The text to set them, when the learner is done typing.
    pub on_change: Callback<String>,
    /// Why the stock typed (or given in the link) was not used.
    #[prop_or_default]
    pub error: Option<String>,
    /// Where the stock in use came from, when not from the link or the field (the tab's
    /// database, after a reload): [`eda_core::state::State::stock_restored_note`].
    #[prop_or_default]
    pub restored: Option<String>,
    /// Whether the broker keeps retained messages (false when its CONNACK says Retain
    /// Available 0): the levels then go without the retain flag.
    #[prop_or(true)]
    pub retained: bool,
}

#[component]
pub fn StockPanel(props: &StockPanelProps) -> Html {
    // With nothing counted there is no catalogue: every reservation succeeds, and no product
    // is unknown (a newcomer's break-test, 35-N F2: the line said an order for it would be
    // dead-lettered beside "every reservation succeeds", and the order completed).
    let unknown = if props.levels.0.is_empty() {
        ")"
    } else {
        "; a new order for it is dead-lettered as unknown)"
    };
    let uncounted = props.uncounted.iter().map(|product| {
        html! {
            <li key={format!("uncounted-{product}")} class="uncounted" data-testid="stock-uncounted"
                data-product={product.clone()}>
                { outside(product) }{ ": no longer counted (its retained level was cleared" }{ unknown }
            </li>
        }
    });
    html! {
        <div class="setting stock" data-testid="stock">
            <DraftField id="stock-levels" label="Stock" kind="text" placeholder="P001:5, P002:0"
                value={props.configured.to_string()} on_change={props.on_change.clone()} />
            if let Some(error) = &props.error {
                <p class="error" role="alert" data-testid="stock-error">{ sentence(error) }</p>
            }
            if let Some(note) = &props.restored {
                <span class="muted" data-testid="stock-restored">{ note.clone() }</span>
            }
            if props.levels.0.is_empty() {
                <span class="muted" data-testid="stock-unlimited">{ "No product counted: every reservation succeeds. Once a stock is set, it is the catalogue: an order for a product it does not list is dead-lettered." }</span>
            }
            if !props.levels.0.is_empty() || !props.uncounted.is_empty() {
                <span class="muted" id="stock-left">{ "Left now:" }</span>
                <ul class="stock-levels" aria-labelledby="stock-left">
                    { for props.levels.0.iter().map(|(product, units)| {
                        let held = props.held.of(product).unwrap_or_default();
                        let title = level_title(props.configured.of(product), held);
                        html! {
                            <li key={product.clone()} data-testid="stock-level" data-product={product.clone()}
                                data-units={units.to_string()} data-held={held.to_string()} title={title}
                                class={classes!((*units == 0).then_some("empty"))}>
                                { outside(product) }{ format!(": {units} left") }
                                if held > 0 {
                                    <span class="held">{ format!(", {held} held") }</span>
                                }
                            </li>
                        }
                    }) }
                    { for uncounted }
                </ul>
            }
            if !props.levels.0.is_empty() {
                <span class="muted" data-testid="stock-retained" data-retained={props.retained.to_string()}>
                    if props.retained {
                        { "Retained on inventory/stock/<product>: a client that subscribes later gets these levels at once." }
                    } else {
                        { "Published on inventory/stock/<product> without the retain flag: the broker keeps no retained messages (its CONNACK says Retain Available 0), so only a client subscribed at the time gets each level." }
                    }
                </span>
            }
        </div>
    }
}

/// What "open" means for a reservation: as InventoryService knows it, which may not be the
/// order's outcome (a break-test: orders Completed on the page, their `orders/confirmed` lost
/// with InventoryService's session, and the panel said "held by open reservations" for good).
const OPEN: &str = " (open as InventoryService knows: it has heard neither the order \
                    confirmed nor the reservation released; one whose outcome it never heard, \
                    lost with its session by a broker restarted, stays held: see its log)";

/// A level's title: what the Stock field set (units on hand then) and how the level moves from
/// there, with the units `held` by open reservations, which are not on hand
/// ([`eda_core::services::inventory::InventoryService::held`]).
fn level_title(set: Option<u32>, held: u32) -> String {
    let set = set.map_or_else(String::new, |n| {
        format!("{n} set in the Stock field (units on hand then). ")
    });
    let held = match held {
        0 => String::new(),
        1 => format!(" 1 unit is held by an open reservation{OPEN}."),
        n => format!(" {n} units are held by open reservations{OPEN}."),
    };
    format!(
        "{set}A reservation takes from what is left; a release gives its units back, also one \
         made before the last edit of the stock; a confirmed order's units are sold.{held}"
    )
}
