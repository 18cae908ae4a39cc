//! Catch-up or loss: for each service the learner crashed, what was published for it while it
//! was down, and what the broker delivered when it came back. The model is
//! [`eda_core::trace::outages`]; this only says it.

use eda_core::services::SagaStyle;
use eda_core::trace::outages::outages;
use yew::prelude::*;

use crate::SharedTrace;

#[derive(Properties, PartialEq)]
pub struct OutagesProps {
    pub trace: SharedTrace,
    /// Changes whenever packets or service events were recorded.
    pub version: u64,
    /// It decides what each service subscribes to, so what it missed.
    pub saga: SagaStyle,
}

#[component]
pub fn Outages(props: &OutagesProps) -> Html {
    let list = outages(&props.trace.0.borrow(), props.saga);
    if list.is_empty() {
        return Html::default();
    }
    html! {
        <ul class="outages" aria-label="Crashes and what they cost" aria-live="polite">
            { for list.iter().map(|o| html! {
                <li data-testid="outage" data-service={o.instance.slug()} data-published={o.published.to_string()}
                    data-missed={o.missed.to_string()}
                    data-caught-up={o.caught_up.to_string()} data-lost={o.lost().to_string()}
                    data-published-again={o.published_again.to_string()}
                    data-restarted={o.restarted_at.is_some().to_string()}>
                    { o.describe() }
                </li>
            }) }
        </ul>
    }
}
