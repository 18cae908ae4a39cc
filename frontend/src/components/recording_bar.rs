//! Record and replay: download this session's packets and clicks as JSON, or load a recording
//! (file picker or drag and drop) to see it in the diagrams with no broker connected; and
//! export every order's saga as an OpenTelemetry trace (OTLP/JSON) for Jaeger or any OTel
//! viewer.

use wasm_bindgen_futures::JsFuture;
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

use super::download::download;
use super::otlp_export::{after_next_paint, export_session, message_view, ExportMessage};
use super::outside_text::sentence;
use crate::SharedTrace;
use eda_core::outside_text::isolate;
use eda_core::trace::recording::{self, RecordingError};
use eda_core::trace::Trace;

/// The note under a recording shown while `open` sagas of the live session had not ended.
fn left_open_note(open: usize) -> String {
    format!(
        "{} when the services stopped. This tab's database keeps \
         them (OrderService's store, and the charges and reservations PaymentService and \
         InventoryService had made): Back to live reloads the page, and they resume there, \
         restored, with what is left of their deadlines, as after any reload; a charge or \
         reservation of an order cancelled then is refunded or released. Only the work in hand \
         (a payment or reservation not yet made) stopped for good: its deadline cancels its \
         order.",
        if open == 1 {
            "1 order was still running its saga".to_owned()
        } else {
            format!("{open} orders were still running their sagas")
        }
    )
}

/// The warning shown instead of loading `name` while `running` sagas have not ended.
fn held_note(name: &str, running: usize) -> String {
    let sagas = if running == 1 {
        "1 order is still running its saga".to_owned()
    } else {
        format!("{running} orders are still running their sagas")
    };
    format!(
        "{sagas} (a payment or reservation in hand, or a cancellation not yet undone). Loading \
         {name} stops the services while it plays. The sagas are not lost: this tab's database \
         keeps OrderService's store and the charges and reservations already made, and Back to \
         live resumes them, with what is left of their deadlines (a charge or reservation of \
         an order cancelled meanwhile is undone then). The work in hand stops for good, and its \
         deadline cancels its order. Wait until the Orders panel shows them ended and load it \
         again, or load it anyway."
    )
}

/// What loading a file gave: its name and the trace, or why not.
pub type Loaded = (String, Result<Trace, String>);

#[derive(Properties, PartialEq)]
pub struct RecordingBarProps {
    pub trace: SharedTrace,
    /// The name of the recording shown instead of the live session.
    pub replaying: Option<String>,
    /// The orders open in the live session when the recording replaced it.
    #[prop_or_default]
    pub left_open: usize,
    /// Why the last file could not be loaded.
    pub error: Option<String>,
    pub on_loaded: Callback<Loaded>,
    /// How many sagas the running services have not ended: a recording read while any have
    /// is held, with a warning, until the learner loads it anyway or drops it.
    #[prop_or(Callback::from(|()| 0))]
    pub sagas_in_flight: Callback<(), usize>,
    /// Forget the packets, clicks, logs and notifications shown so far.
    pub on_clear: Callback<MouseEvent>,
}

/// Reads `file` and hands the result to `on_loaded`; `loading` names it meanwhile (a large
/// file takes seconds to read and decode).
fn read(file: File, on_loaded: Callback<Loaded>, loading: UseStateHandle<Option<String>>) {
    let name = file.name();
    loading.set(Some(name.clone()));
    wasm_bindgen_futures::spawn_local(async move {
        let result = match JsFuture::from(file.text()).await {
            Ok(text) => recording::load(&text.as_string().unwrap_or_default())
                .map_err(|e: RecordingError| e.to_string()),
            Err(_) => Err("the browser could not read the file".to_owned()),
        };
        loading.set(None);
        on_loaded.emit((name, result));
    });
}

#[component]
pub fn RecordingBar(props: &RecordingBarProps) -> Html {
    // What the last download left out of the session, if anything (said until the next one).
    let download_note = use_state(|| None::<String>);
    let on_download = {
        let (trace, download_note) = (props.trace.clone(), download_note.clone());
        Callback::from(move |_: MouseEvent| {
            let trace = trace.0.borrow();
            let text = recording::record(&trace);
            let _ = download("playground-recording.json", "application/json", &text);
            download_note.set(recording::download_note(&trace));
        })
    };
    let otlp_message = use_state(|| None::<ExportMessage>);
    // How many exports were asked for: each click says *Exporting the trace (OTLP)…* first (a
    // large trace takes a moment, and the page showed nothing meanwhile); the effect below, run
    // once the render has put the words in the page, makes the export right after the frame
    // that paints them. Asked from the click itself, the frame could come before the words
    // were rendered: Yew's scheduler, busy under load, finishes a long render in a later task.
    let exports_asked = use_state(|| 0_u32);
    let on_export_otlp = {
        let (otlp_message, exports_asked) = (otlp_message.clone(), exports_asked.clone());
        Callback::from(move |_: MouseEvent| {
            otlp_message.set(Some(ExportMessage::Working));
            exports_asked.set(exports_asked.wrapping_add(1));
        })
    };
    {
        let (trace, otlp_message) = (props.trace.clone(), otlp_message.clone());
        use_effect_with(*exports_asked, move |&asked| {
            if asked > 0 {
                after_next_paint(move || otlp_message.set(export_session(&trace.0.borrow())));
            }
        });
    }
    // A recording read while sagas are in flight waits here (the name and the count shown, the
    // trace kept aside) until Load anyway or Keep live.
    let held = use_state(|| None::<(String, usize)>);
    let held_trace = use_mut_ref(|| None::<(String, Trace)>);
    let on_read = {
        let (on_loaded, in_flight) = (props.on_loaded.clone(), props.sagas_in_flight.clone());
        let (held, held_trace) = (held.clone(), held_trace.clone());
        Callback::from(move |(name, result): Loaded| match result {
            Ok(recorded) => {
                let running = in_flight.emit(());
                if running > 0 {
                    held.set(Some((name.clone(), running)));
                    *held_trace.borrow_mut() = Some((name, recorded));
                } else {
                    held.set(None);
                    held_trace.borrow_mut().take();
                    on_loaded.emit((name, Ok(recorded)));
                }
            }
            Err(why) => on_loaded.emit((name, Err(why))),
        })
    };
    let on_load_anyway = {
        let on_loaded = props.on_loaded.clone();
        let (held, held_trace) = (held.clone(), held_trace.clone());
        Callback::from(move |_: MouseEvent| {
            held.set(None);
            let recorded = held_trace.borrow_mut().take();
            if let Some((name, recorded)) = recorded {
                on_loaded.emit((name, Ok(recorded)));
            }
        })
    };
    let on_keep_live = {
        let (held, held_trace) = (held.clone(), held_trace.clone());
        Callback::from(move |_: MouseEvent| {
            held.set(None);
            held_trace.borrow_mut().take();
        })
    };
    let loading = use_state(|| None::<String>);
    let on_pick = {
        let (on_loaded, loading) = (on_read.clone(), loading.clone());
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                read(file, on_loaded.clone(), loading.clone());
            }
            input.set_value("");
        })
    };
    let on_drag_over = Callback::from(|e: DragEvent| e.prevent_default());
    let on_drop = {
        let (on_loaded, loading) = (on_read, loading.clone());
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            let file = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|files| files.get(0));
            if let Some(file) = file {
                read(file, on_loaded.clone(), loading.clone());
            }
        })
    };
    let on_live = Callback::from(|_: MouseEvent| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    // A recording longer than the page keeps replays its end only: said under its name.
    let replayed_part = props
        .replaying
        .as_ref()
        .and_then(|_| recording::replayed_part(&props.trace.0.borrow()));
    html! {
        <div class="recording-bar" ondragover={on_drag_over} ondrop={on_drop} data-testid="recording-drop">
            // Clear empties the trace: during a replay that is the recording itself, which the
            // page could not give back (a newcomer's break-test lost the file's 618 packets
            // while the banner still named it). Replay from the start starts the picture afresh.
            <button type="button" onclick={props.on_clear.clone()} data-testid="clear"
                disabled={props.replaying.is_some()}
                title={props.replaying.as_ref().map(|_| "A recording is shown: Clear would throw it away. Replay from the start draws it afresh; Back to live returns to the live services.")}>
                { "Clear" }</button>
            <button type="button" onclick={on_download} data-testid="download-recording">{ "Download recording" }</button>
            <button type="button" class="small" onclick={on_export_otlp} data-testid="export-otlp-session"
                title="Every order's saga as an OpenTelemetry trace (OTLP/JSON): open it in Jaeger or any OTLP viewer">
                { "Export trace (OTLP)" }</button>
            <label class="file">{ "Load recording " }
                <input type="file" accept=".json,application/json" onchange={on_pick} data-testid="load-recording" />
            </label>
            <span class="hint">{ "(or drop a recording here)" }</span>
            if let Some(note) = &*download_note {
                <p class="note" role="status" data-testid="download-note">{ note.clone() }</p>
            }
            if let Some((name, running)) = &*held {
                <div class="note" role="alert" data-testid="recording-held">
                    <p class="error">{ held_note(&isolate(name), *running) }</p>
                    <button type="button" onclick={on_load_anyway} data-testid="load-anyway">{ "Load anyway" }</button>
                    <button type="button" onclick={on_keep_live} data-testid="keep-live">{ "Keep live" }</button>
                </div>
            }
            if let Some(name) = &*loading {
                <p class="note" role="status" data-testid="recording-loading">
                    { format!("Loading the recording {}…", isolate(name)) }</p>
            }
            if let Some(name) = &props.replaying {
                <p class="replaying" role="status" data-testid="replaying">
                    { format!("Showing the recording {}; the services are disconnected. ", isolate(name)) }
                    <button type="button" onclick={on_live}
                        title="Reloads the page: the orders, the event store and the services' memory come back from the tab's database">
                        { "Back to live" }</button>
                </p>
                // A newcomer's break-test: the recording's two orders sat beside this page's
                // own notifications and logs, and nothing said which panel showed which session.
                <p class="note" data-testid="replay-scope">
                    { "The recording drives the flow and sequence diagrams, the packets, the \
                       Orders panel and the crash lines. The rest is this page's own session, \
                       stopped while the recording is shown: the badges' client ids, the \
                       services' logs, Notifications, the Event store, the Read model and \
                       Analytics. Back to live reloads the page: the orders, the Event store and \
                       what the services remember come back from the tab's database, but the \
                       services' logs and Notifications start again empty." }
                </p>
                if let Some(part) = replayed_part {
                    <p class="note" data-testid="replayed-part">{ part }</p>
                }
                if props.left_open > 0 {
                    <p class="note" data-testid="left-open">
                        { left_open_note(props.left_open) }
                    </p>
                }
            }
            { message_view(otlp_message.as_ref()) }
            if let Some(error) = &props.error {
                <p class="error" role="alert" data-testid="recording-error">{ sentence(error) }</p>
            }
        </div>
    }
}
