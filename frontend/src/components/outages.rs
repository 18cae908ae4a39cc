//! Catch-up or loss: for each service the learner crashed, what was published for it while it
//! was down, and what the broker delivered when it came back. The model is
//! [`eda_core::trace::outages`]; this only says it.
//!
//! Only the newest [`SHOWN`] lines are open above the order form; the earlier ones fold into
//! a closed "N earlier crashes" (a newcomer's break-test: 50 crashes pushed *Place order* far
//! off the first screen).

use eda_core::services::SagaStyle;
use eda_core::trace::outages::{outages, Outage};
use yew::prelude::*;

use crate::SharedTrace;

/// How many crashes' lines are shown open, the newest.
pub const SHOWN: usize = 3;

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
    let (earlier, newest) = list.split_at(list.len().saturating_sub(SHOWN));
    let folded = (!earlier.is_empty()).then(|| {
        let n = earlier.len();
        html! {
            <details class="outages-earlier" data-testid="outages-earlier" data-count={n.to_string()}>
                <summary>{ format!("{n} earlier crash{}", if n == 1 { "" } else { "es" }) }</summary>
                <ul class="outages">{ for earlier.iter().map(line) }</ul>
            </details>
        }
    });
    html! {
        <div aria-label="Crashes and what they cost" role="group">
            { folded }
            <ul class="outages" aria-live="polite">{ for newest.iter().map(line) }</ul>
        </div>
    }
}

/// One crash's line.
fn line(o: &Outage) -> Html {
    html! {
        <li data-testid="outage" data-service={o.instance.slug()} data-published={o.published.to_string()}
            data-missed={o.missed.to_string()}
            data-caught-up={o.caught_up.to_string()} data-lost={o.lost().to_string()}
            data-published-again={o.published_again.to_string()}
            data-work-lost={o.work_lost.to_string()}
            data-restarted={(o.restarted_at.is_some() && !o.removed).to_string()}
            data-removed={o.removed.to_string()}>
            { o.describe() }
        </li>
    }
}
