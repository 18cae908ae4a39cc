//! Offering an order's saga, or every order of the session, as an OpenTelemetry trace file
//! (OTLP/JSON, for Jaeger or any OTLP receiver). The model is [`eda_core::trace::otlp`]; this
//! picks where the packets' clock starts and hands the text to the download.

use eda_core::trace::otlp::{self, Epoch, Export};
use eda_core::trace::playback::Source;
use eda_core::trace::Trace;
use uuid::Uuid;

use super::download::download;
use crate::clock;

/// Where the packets' clock starts on the Unix clock: this page's time origin while it shows
/// its own packets; for a replayed recording (whose file keeps only times since its page
/// started) the estimate from the messages' stamps, else this page's origin, else 1970.
fn epoch(trace: &Trace) -> Epoch {
    let recording = trace.playback.source() == Source::Recording;
    let estimate = || Epoch::from_messages(&trace.packets);
    let page = clock::packets_epoch;
    let chosen = if recording {
        estimate().or_else(page)
    } else {
        page().or_else(estimate)
    };
    chosen.unwrap_or(Epoch::from_unix_nanos(0))
}

/// What the page says after an export: nothing, or a note (orders left out), or why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportMessage {
    /// The export is being made (a large trace takes a moment): said before the work starts.
    Working,
    Note(String),
    Error(String),
}

fn offer(result: Result<Export, otlp::OtlpError>) -> Option<ExportMessage> {
    match result {
        Ok(export) => match download(&export.file_name, "application/json", &export.json) {
            Ok(()) => export.note().map(ExportMessage::Note),
            Err(_) => Some(ExportMessage::Error(
                "the browser refused to save the file".to_owned(),
            )),
        },
        Err(error) => Some(ExportMessage::Error(error.to_string())),
    }
}

/// Runs `work` right after the browser next paints the page: a `requestAnimationFrame`
/// callback (run just before that paint) queues it as a zero-delay task, which runs once the
/// frame is drawn. So words set just before (*Exporting the trace (OTLP)…*) are on screen
/// before the work holds the page, and the work waits no longer than that. Without a window or
/// an animation frame (never in a browser page), a zero-delay task alone.
pub fn after_next_paint(work: impl FnOnce() + 'static) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let queue = move || {
        gloo::timers::callback::Timeout::new(0, work).forget();
    };
    let Some(window) = web_sys::window() else {
        return queue();
    };
    // The callback is kept by the browser until it runs, once.
    let slot = std::rc::Rc::new(std::cell::Cell::new(Some(queue)));
    let in_frame = slot.clone();
    let frame = Closure::once_into_js(move || {
        if let Some(queue) = in_frame.take() {
            queue();
        }
    });
    if window
        .request_animation_frame(frame.unchecked_ref())
        .is_err()
    {
        if let Some(queue) = slot.take() {
            queue();
        }
    }
}

/// Downloads `order_id`'s saga as `saga-<orderId>.otlp.json`.
pub fn export_order(trace: &Trace, order_id: Uuid) -> Option<ExportMessage> {
    offer(otlp::export_order(&trace.packets, order_id, epoch(trace)))
}

/// Downloads every order's saga as `playground-session.otlp.json`.
pub fn export_session(trace: &Trace) -> Option<ExportMessage> {
    let recording = trace.playback.source() == Source::Recording;
    let result = otlp::export_session(&trace.packets, epoch(trace));
    offer(result.map_err(|e| if recording { e.for_recording() } else { e }))
}

/// The message under an export button (`otlp-error` or `otlp-note`), or nothing.
pub fn message_view(message: Option<&ExportMessage>) -> yew::Html {
    use yew::html;
    match message {
        None => yew::Html::default(),
        Some(ExportMessage::Working) => html! {
            <p class="note" role="status" data-testid="otlp-working">
                { "Exporting the trace (OTLP)…" }</p>
        },
        Some(ExportMessage::Error(text)) => html! {
            <p class="error" role="alert" data-testid="otlp-error">
                { "Could not export the trace: " }{ text.clone() }</p>
        },
        Some(ExportMessage::Note(text)) => html! {
            <p class="note" role="status" data-testid="otlp-note">{ format!("Trace exported; {text}.") }</p>
        },
    }
}
