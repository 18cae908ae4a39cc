//! InventoryService's stock: a field to set it (`P001:5,P002:0`; a product not listed is not
//! counted), and beside it what is left now, live: each reservation takes from it and each
//! release gives back.

use eda_core::services::Stock;
use yew::prelude::*;

use super::outside_text::outside;
use super::DraftField;

#[derive(Properties, PartialEq)]
pub struct StockPanelProps {
    /// What the learner (or the link) set.
    pub configured: Stock,
    /// On hand now.
    pub levels: Stock,
    /// The text to set them, when the learner is done typing.
    pub on_change: Callback<String>,
}

#[component]
pub fn StockPanel(props: &StockPanelProps) -> Html {
    html! {
        <div class="setting stock" data-testid="stock">
            <DraftField id="stock-levels" label="Stock" kind="text" placeholder="P001:5, P002:0"
                value={props.configured.to_string()} on_change={props.on_change.clone()} />
            if props.levels.0.is_empty() {
                <span class="muted" data-testid="stock-unlimited">{ "No product counted: every reservation succeeds." }</span>
            } else {
                <span class="muted" id="stock-left">{ "Left now:" }</span>
                <ul class="stock-levels" aria-labelledby="stock-left">
                    { for props.levels.0.iter().map(|(product, units)| {
                        let from = props.configured.of(product).map(|n| format!("{n} at the start"));
                        html! {
                            <li key={product.clone()} data-testid="stock-level" data-product={product.clone()}
                                data-units={units.to_string()} title={from}
                                class={classes!((*units == 0).then_some("empty"))}>
                                { outside(product) }{ format!(": {units} left") }
                            </li>
                        }
                    }) }
                </ul>
            }
        </div>
    }
}
