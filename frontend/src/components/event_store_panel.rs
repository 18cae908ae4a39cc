//! The Event store panel: OrderService's store as it appends (a copy the runtime keeps in step,
//! [`eda_core::trace::Trace::store`]). Each order is a stream; pick one to see its events with
//! their version, global position, type, time and body, and **rewind** it: a slider over its
//! versions shows the order as the fold of its events up to that one
//! ([`eda_core::store::EventStore::fold_to`]). The whole store exports as JSON lines.

use eda_core::store::{stream_name, EventStore};
use uuid::Uuid;
use yew::prelude::*;

use super::download::download;
use super::outside_text::outside;
use crate::SharedTrace;

/// How many streams the list draws, newest first; the rest are counted.
const STREAMS_DRAWN: usize = 50;

#[derive(Properties, PartialEq)]
pub struct EventStorePanelProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded (every append publishes one).
    pub version: u64,
    /// What the browser's database did: restored the store after a reload (`Ok`), or cannot
    /// keep it (`Err`, the page goes on in memory).
    #[prop_or_default]
    pub note: Option<Result<String, String>>,
}

#[derive(Properties, PartialEq)]
struct StreamProps {
    /// The store, read when drawing (the panel redraws on `version`).
    trace: SharedTrace,
    version: u64,
    stream: Uuid,
}

/// One stream: its events, and the rewind slider with the order at the version chosen.
#[component]
fn Stream(props: &StreamProps) -> Html {
    let chosen = use_state(|| None::<u64>);
    let trace = props.trace.0.borrow();
    let store: &EventStore = &trace.store;
    let head = store.version(props.stream);
    let at = chosen.map_or(head, |v| v.clamp(1, head.max(1)));
    let oninput = {
        let chosen = chosen.clone();
        Callback::from(move |e: InputEvent| {
            let value = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .value();
            chosen.set(value.parse().ok());
        })
    };
    let rows = store.stream(props.stream).map(|event| {
        let later = event.version > at;
        html! {
            <tr key={event.position} data-testid="store-event" data-version={event.version.to_string()}
                data-position={event.position.to_string()} data-type={event.event.type_name()}
                class={classes!(later.then_some("later"))}>
                <td>{ event.version }</td>
                <td>{ event.position }</td>
                <td>{ event.event.type_name() }</td>
                <td><time>{ event.recorded_at.to_string() }</time></td>
                <td><code>{ outside(&event.event.data_json()) }</code></td>
            </tr>
        }
    });
    let order = store.fold_to(props.stream, at);
    let slider_id = format!("rewind-{}", props.stream);
    // What a screen reader says as the slider moves: the event and the order's state, not only
    // the number (45-AU F4).
    let value_text = {
        let event = usize::try_from(at)
            .ok()
            .and_then(|at| store.stream(props.stream).nth(at.checked_sub(1)?))
            .map_or("", |e| e.event.type_name());
        let state = order.as_ref().map_or("", |o| o.status.name());
        format!("version {at} of {head}: {event}; the order {state}")
    };
    html! {
        <div class="store-stream" data-testid="store-stream-detail" data-stream={props.stream.to_string()}>
            <div class="store-table">
            <table class="store-events">
                <caption>{ format!("{}: {head} event{}", stream_name(props.stream), if head == 1 { "" } else { "s" }) }</caption>
                <thead><tr><th>{ "Version" }</th><th>{ "Position" }</th><th>{ "Type" }</th><th>{ "Recorded" }</th><th>{ "Body" }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            </div>
            if head > 1 {
                <label for={slider_id.clone()}>{ format!("Rewind: version {at} of {head}") }</label>
                <input id={slider_id} type="range" min="1" max={head.to_string()} value={at.to_string()}
                    aria-valuetext={value_text} data-testid="store-rewind" {oninput} />
            }
            if let Some(order) = order {
                <dl class="store-rewound" data-testid="store-rewound" data-version={at.to_string()}
                    data-status={order.status.name()}>
                    <dt>{ "State" }</dt><dd>{ order.status.name() }</dd>
                    <dt>{ "Inventory" }</dt><dd>{ outside(&order.describe_inventory()) }</dd>
                    <dt>{ "Payment" }</dt><dd>{ outside(&order.describe_payment()) }</dd>
                    if let Some(reason) = &order.cancel_reason {
                        <dt>{ "Cancelled because" }</dt><dd>{ outside(reason) }</dd>
                    }
                </dl>
            }
        </div>
    }
}

#[component]
pub fn EventStorePanel(props: &EventStorePanelProps) -> Html {
    let selected = use_state(|| None::<Uuid>);
    let export_error = use_state(|| None::<String>);
    let open_error = use_state(|| None::<String>);
    let trace = props.trace.0.borrow();
    let store = &trace.store;
    let streams = store.streams();
    let export = {
        let (trace, export_error) = (props.trace.clone(), export_error.clone());
        Callback::from(move |_: MouseEvent| {
            let lines = trace.0.borrow().store.to_json_lines();
            let outcome = download("event-store.jsonl", "application/x-ndjson", &lines);
            export_error.set(
                outcome
                    .err()
                    .map(|_| "The browser refused the download.".to_owned()),
            );
        })
    };
    let items = streams.iter().rev().take(STREAMS_DRAWN).map(|&id| {
        let status = store.fold(id).map(|o| o.status.name()).unwrap_or("");
        let version = store.version(id);
        let pick = {
            let selected = selected.clone();
            Callback::from(move |_: MouseEvent| selected.set(Some(id)))
        };
        let current = *selected == Some(id);
        html! {
            <li key={id.to_string()}>
                <button type="button" class={classes!("link", current.then_some("current"))} data-testid="store-stream"
                    data-stream={id.to_string()} data-version={version.to_string()} data-status={status}
                    aria-pressed={current.to_string()} onclick={pick}>
                    { format!("{} · v{version} · {status}", stream_name(id)) }
                </button>
            </li>
        }
    });
    let hidden = streams.len().saturating_sub(STREAMS_DRAWN);
    // Any stream, by its order id: the list draws the newest only (a newcomer's break-test
    // could not rewind the declined order a class had placed first, 450 streams down).
    let open_by_id = {
        let (selected, open_error, trace) =
            (selected.clone(), open_error.clone(), props.trace.clone());
        Callback::from(move |e: Event| {
            let text = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .value();
            let id = text.trim();
            let id = id.strip_prefix("order-").unwrap_or(id);
            match Uuid::parse_str(id) {
                Ok(id) if trace.0.borrow().store.version(id) > 0 => {
                    open_error.set(None);
                    selected.set(Some(id));
                }
                // The stream shown before goes: under the error it read as the answer (43-AO
                // F8).
                Ok(id) => {
                    selected.set(None);
                    open_error.set(Some(format!(
                        "The store holds no stream {}.",
                        stream_name(id)
                    )));
                }
                Err(_) if id.is_empty() => open_error.set(None),
                Err(_) => {
                    selected.set(None);
                    open_error.set(Some(
                        "An order id is a UUID, e.g. 3fa85f64-5717-4562-b3fc-2c963f66afa6 (with \
                         or without order- before it)."
                            .to_owned(),
                    ));
                }
            }
        })
    };
    html! {
        <section class="card event-store" aria-labelledby="event-store-title" data-testid="event-store">
            <h2 id="event-store-title">{ "Event store" }</h2>
            <p class="muted" data-testid="store-summary" data-head={store.head().to_string()}>
                { format!("OrderService keeps each order as a stream of events, appended at an expected version and published on {}: {} event{} in {} stream{}.",
                    trace.packets.namespace().wire("eventstore/orders/<orderId>"), store.head(), if store.head() == 1 { "" } else { "s" }, streams.len(), if streams.len() == 1 { "" } else { "s" }) }
            </p>
            { match &props.note {
                Some(Ok(restored)) => html! { <p class="muted" data-testid="store-note" data-kind="restored">{ restored.clone() }</p> },
                Some(Err(why)) => html! { <p class="error" role="alert" data-testid="store-note" data-kind="failed">{ why.clone() }</p> },
                None => Html::default(),
            } }
            if !store.is_empty() {
                <button type="button" class="small" data-testid="store-export" onclick={export}>{ "Export (JSON lines)" }</button>
            }
            if let Some(error) = &*export_error {
                <p class="error" role="alert">{ error.clone() }</p>
            }
            <ul class="store-streams">{ for items }</ul>
            if hidden > 0 {
                <p class="muted" data-testid="store-older">{ format!("and {hidden} older stream{}: open one by its order id below.", if hidden == 1 { "" } else { "s" }) }</p>
            }
            if !store.is_empty() {
                <label class="field">
                    <span class="label">{ "Open a stream by order id" }</span>
                    <input type="text" data-testid="store-open" placeholder="order id" onchange={open_by_id} />
                </label>
            }
            if let Some(error) = &*open_error {
                <p class="error" role="alert" data-testid="store-open-error">{ error.clone() }</p>
            }
            if let Some(id) = *selected {
                if store.version(id) > 0 {
                    <Stream key={id.to_string()} trace={props.trace.clone()} version={props.version} stream={id} />
                }
            }
        </section>
    }
}
