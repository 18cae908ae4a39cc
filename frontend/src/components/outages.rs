//! Catch-up or loss: for each service the learner crashed, what was published for it while it
//! was down, and what the broker delivered when it came back. The model is
//! [`eda_core::trace::outages`]; this only says it.
//!
//! Only the newest [`SHOWN`] lines are open above the order form; the earlier ones fold into
//! a closed "N earlier crashes" (a newcomer's break-test: 50 crashes pushed *Place order* far
//! off the first screen).

use eda_core::services::SagaStyle;
use eda_core::trace::outages::{outages, Outage};
use eda_core::trace::playback::Source;
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
    let (list, now, live, ended) = {
        let trace = props.trace.0.borrow();
        // A replay's line is as of its view time; a live page's as of now.
        let shown = trace.playback.shown().map(|s| s.until);
        let live = trace.playback.source() == Source::Live;
        let now = shown.filter(|_| !live).unwrap_or_else(crate::clock::now);
        // A replay played to its end: a line not settled by then never will be.
        let ended = !live && trace.playback.finished(crate::clock::now());
        (outages(&trace, trace.saga), now, live, ended)
    };
    // A restart's line says "not delivered yet" for a moment: drawn again when it settles.
    let redraw = use_force_update();
    let due = live
        .then(|| list.iter().filter_map(|o| o.settles_at(now)).min())
        .flatten();
    use_effect_with(due, move |due| {
        let timer = due.map(|at| {
            let wait = at.saturating_sub(crate::clock::now()).as_millis() + 1;
            gloo::timers::callback::Timeout::new(
                u32::try_from(wait).unwrap_or(u32::MAX),
                move || redraw.force_update(),
            )
        });
        move || drop(timer)
    });
    if list.is_empty() {
        return Html::default();
    }
    let line = |o: &Outage| line(o, now, ended);
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

/// One crash's line at `now` (the packets' clock): `data-settled` false while what it missed
/// may still come ([`Outage::settled`]), `data-lost` 0 until then; `ended`: a replay played to
/// its end, where an unsettled line says the recording ends there ([`Outage::describe_at_end`]).
fn line(o: &Outage, now: std::time::Duration, ended: bool) -> Html {
    let text = if ended {
        o.describe_at_end(now)
    } else {
        o.describe_at(now)
    };
    html! {
        <li data-testid="outage" data-service={o.instance.slug()} data-published={o.published.to_string()}
            data-missed={o.missed.to_string()} data-shared={o.shared.to_string()}
            data-settled={o.settled(now).to_string()}
            data-caught-up={o.caught_up.to_string()} data-lost={o.lost_at(now).to_string()}
            data-published-again={o.published_again.to_string()}
            data-work-lost={o.work_lost.to_string()}
            data-restarted={(o.restarted_at.is_some() && !o.removed).to_string()}
            data-removed={o.removed.to_string()}>
            { text }
        </li>
    }
}
