//! The view's clock, in the learner's hands: speed (0.25× to 4×), pause, step one packet, back
//! to live (or from the start of a recording), and what the diagrams are showing. The clock
//! itself is [`eda_core::trace::playback`]; this only shows and changes it.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::outside_text::sentence;
use crate::SharedTrace;
use eda_core::trace::playback::{Source, Speed};

#[derive(Properties, PartialEq)]
pub struct PlaybackBarProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded or the playback changed.
    pub version: u64,
    /// Why a `?speed=` or `?view=` in the link was ignored.
    pub error: Option<String>,
    pub on_speed: Callback<Speed>,
    /// Pause if running, run if paused.
    pub on_pause: Callback<()>,
    pub on_step: Callback<()>,
    /// Live: show everything held back and follow the wire. A recording: play it again.
    pub on_jump: Callback<()>,
}

/// A button's symbol, drawn: ⏸ and ⏭ are missing from common fonts (DejaVu has neither) and
/// showed as empty boxes. `path` is in a 16 × 16 box, filled with the text's colour.
fn icon(path: &'static str) -> Html {
    html! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
            <path d={path} />
        </svg>
    }
}

/// ▶, ⏸ and ⏭ as paths.
const PLAY: &str = "M4 2.5v11l9-5.5z";
const PAUSE: &str = "M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z";
const STEP: &str = "M2.5 2.5v11l8-5.5zM11 2.5h2.5v11H11z";

/// "6000 packets waiting; the oldest 4000 are no longer kept (the page keeps the last 2000)"
/// when more arrived than the history keeps, else "12 packets waiting".
fn waiting_text(arrived: u64, kept: usize, capacity: usize) -> String {
    let waiting = format!("{} waiting", plural(arrived as usize, "packet"));
    let gone = arrived.saturating_sub(kept as u64);
    if gone == 0 {
        return waiting;
    }
    format!(
        "{waiting}; the oldest {gone} are no longer kept (the page keeps the last {capacity} \
         packets) and will not be drawn"
    )
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

#[component]
pub fn PlaybackBar(props: &PlaybackBarProps) -> Html {
    let trace = props.trace.0.borrow();
    let playback = &trace.playback;
    let wall = crate::clock::now();
    let (speed, paused, source) = (playback.speed(), playback.is_paused(), playback.source());
    let waiting = playback.waiting(&trace.packets);
    let arrived = playback.waiting_arrived(&trace.packets);
    let waiting_said = waiting_text(arrived, waiting, trace.packets.capacity());
    let total = trace.packets.len();
    // The first part is announced when it changes (a live region); the counts after it change
    // with every packet and are not, or a busy wire would talk over everything.
    let (headline, detail) = match source {
        Source::Live if playback.is_following() => (
            "Live: each packet is drawn as it crosses the wire.".to_owned(),
            String::new(),
        ),
        // Nothing waiting: no "next one" to step to yet (42-AK F5, after Clear).
        Source::Live if paused && arrived == 0 => (
            "Paused:".to_owned(),
            " no packet waiting. Step shows the next one once it comes.".to_owned(),
        ),
        Source::Live if paused => (
            "Paused:".to_owned(),
            format!(" {waiting_said}. Step shows the next one."),
        ),
        Source::Live => (
            format!("Slow motion at {speed}: the picture runs behind the wire"),
            format!(" ({waiting_said})."),
        ),
        Source::Recording if playback.finished(wall) && waiting == 0 => (
            "Replay finished:".to_owned(),
            format!(" {}.", plural(total, "packet")),
        ),
        Source::Recording => (
            format!(
                "{} at {speed}:",
                if paused { "Replay paused" } else { "Replaying" }
            ),
            format!(" packet {} of {total}.", total - waiting),
        ),
    };
    let on_speed = {
        let on_speed = props.on_speed.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Ok(speed) = value.parse() {
                on_speed.emit(speed);
            }
        })
    };
    let on_pause = props.on_pause.reform(|_: MouseEvent| ());
    let on_step = props.on_step.reform(|_: MouseEvent| ());
    let on_jump = props.on_jump.reform(|_: MouseEvent| ());
    let (jump_label, jump_id, jump_useful) = match source {
        Source::Live => ("Jump to live", "jump-live", !playback.is_following()),
        Source::Recording => ("Replay from the start", "replay-restart", true),
    };
    let nothing_to_step = waiting == 0;

    html! {
        <div class="playback-bar" role="group" aria-label="Animation" data-testid="playback-bar">
            <label for="speed">{ "Speed" }</label>
            <select id="speed" onchange={on_speed} data-testid="speed"
                title="How fast the picture plays: below 1× it runs behind the wire">
                { for Speed::ALL.iter().map(|s| html! {
                    <option value={s.value()} selected={*s == speed}>{ s.to_string() }</option>
                }) }
            </select>
            <button type="button" onclick={on_pause} data-testid="pause" aria-pressed={paused.to_string()}>
                if paused { { icon(PLAY) }{ " Play" } } else { { icon(PAUSE) }{ " Pause" } }
            </button>
            <button type="button" onclick={on_step} data-testid="step" disabled={nothing_to_step}
                title="Pause, then show the next packet and open it in the inspector">
                { icon(STEP) }{ " Step" }
            </button>
            <button type="button" onclick={on_jump} data-testid={jump_id} disabled={!jump_useful}>
                { jump_label }
            </button>
            <span class="playback-status" data-testid="playback-status"
                data-waiting={arrived.to_string()} data-kept={waiting.to_string()}
                data-paused={paused.to_string()}>
                <span role="status">{ headline }</span>{ detail }</span>
            if let Some(error) = &props.error {
                <p class="error" role="alert" data-testid="playback-error">{ sentence(error) }</p>
            }
        </div>
    }
}
