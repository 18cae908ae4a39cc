//! InventoryService's stock: the units on hand per product, live, and a field to set them
//! (`P001:5,P002:0`; a product not listed is not counted).

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
                <ul class="stock-levels" aria-label="Units on hand">
                    { for props.levels.0.iter().map(|(product, units)| html! {
                        <li key={product.clone()} data-testid="stock-level" data-product={product.clone()}
                            data-units={units.to_string()} class={classes!((*units == 0).then_some("empty"))}>
                            { outside(product) }{ format!(": {units}") }
                        </li>
                    }) }
                </ul>
            }
        </div>
    }
}
