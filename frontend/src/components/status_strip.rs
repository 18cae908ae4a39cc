//! One badge per service with its connection state, and help when a connection is down: what
//! happened, in the session's words, and what to do about it. Starting Mosquitto is advised only
//! when nothing answered at the broker's address.

use yew::prelude::*;

use super::outside_text::{outside, reason};
use broker_bridge::{ConnectionError, Link};
use eda_core::outside_text::visible;
use eda_core::services::ServiceId;

#[derive(Properties, PartialEq)]
pub struct StatusStripProps {
    /// Each service with its client id and link.
    pub services: Vec<(ServiceId, String, Link)>,
    pub broker_url: String,
    /// A recording is shown: the services were stopped on purpose, no help needed.
    #[prop_or_default]
    pub replaying: bool,
}

/// What went wrong, as one word for `data-diagnosis`.
fn diagnosis(reason: &ConnectionError) -> &'static str {
    match reason {
        r if r.is_unreachable() => "unreachable",
        ConnectionError::TakenOver(_) => "taken-over",
        ConnectionError::ClosedAfterAccept { .. } => "closed-after-accept",
        _ => "lost",
    }
}

/// The help for a service whose link is down: the first line says what happened, the second
/// what to do.
fn help(
    service: ServiceId,
    client_id: &str,
    url: &str,
    why: &ConnectionError,
    retry: String,
) -> Html {
    let name = service.name();
    let text = why.to_string();
    match diagnosis(why) {
        "unreachable" => html! {
            <>
                <p>
                    { "Cannot reach the MQTT broker at " }<code>{ outside(url) }</code>
                    { " (" }{ reason(&text) }{ format!("). {retry}; the page connects by itself once the broker is up.") }
                </p>
                <p>
                    { "Start Mosquitto with this project's config: " }
                    <code>{ "./scripts/play" }</code>{ " or " }
                    <code>{ "mosquitto -c static/mosquitto.conf" }</code>
                    { " (WebSocket listener on port 9001). Another broker? Put its ws:// URL above." }
                </p>
            </>
        },
        "taken-over" => html! {
            <>
                <p>
                    { format!("{name}'s connection to the broker at ") }<code>{ outside(url) }</code>
                    { " was " }{ reason(&text) }{ format!(". {retry}, waiting longer each time.") }
                </p>
                <p>
                    { "Another MQTT client connects as " }<code>{ outside(client_id) }</code>
                    { ", and the broker keeps one connection per client id. Stop that client, or \
                       reload this page: it picks new client ids." }
                </p>
            </>
        },
        "closed-after-accept" => html! {
            <>
                <p>
                    { "The broker at " }<code>{ outside(url) }</code>
                    { format!(" answers, but {name}'s connection was ") }{ reason(&text) }
                    { format!(". {retry}, waiting longer each time.") }
                </p>
                <p>
                    { "The broker's log says why it closes the connection: its limits, its access \
                       rules, or another client using the client id " }
                    <code>{ outside(client_id) }</code>{ "." }
                </p>
            </>
        },
        _ => html! {
            <p>
                { format!("{name} lost its connection to the broker at ") }<code>{ outside(url) }</code>
                { ": " }{ reason(&text) }{ format!(". {retry}.") }
            </p>
        },
    }
}

#[component]
pub fn StatusStrip(props: &StatusStripProps) -> Html {
    let badges = props
        .services
        .iter()
        .map(|(id, client_id, link)| {
            let state = link.word();
            let title = match link {
                Link::Disconnected { reason, .. } => visible(&reason.to_string()).into_owned(),
                _ => format!("{} is {state}", id.name()),
            };
            html! {
                <li class={classes!("badge", state)} data-testid={format!("status-{}", id.slug())}
                    data-state={state} title={title}>
                    <span class="symbol" aria-hidden="true">{ link.symbol() }</span>
                    <span class="name">{ id.name() }</span>
                    <span class="state">{ state }</span>
                    <code data-testid="client-id">{ client_id }</code>
                </li>
            }
        })
        .collect::<Html>();

    let down =
        props
            .services
            .iter()
            .filter(|_| !props.replaying)
            .find_map(|(id, client_id, link)| match link {
                Link::Disconnected {
                    reason,
                    retry_in,
                    attempt,
                    ..
                } => Some((*id, client_id, reason, *retry_in, *attempt)),
                _ => None,
            });
    let help = down.map(|(service, client_id, why, retry_in, attempt)| {
        // Whole tenths, without float formatting.
        let tenths = (retry_in.as_millis() + 50) / 100;
        let retry = format!(
            "Retrying in {}.{} s (attempt {attempt})",
            tenths / 10,
            tenths % 10
        );
        html! {
            <div class="help" role="status" data-testid="broker-help" data-service={service.slug()}
                data-diagnosis={diagnosis(why)} data-attempt={attempt.to_string()}>
                { help(service, client_id, &props.broker_url, why, retry) }
            </div>
        }
    });

    html! {
        <>
            <ul class="status-strip" aria-label="Service connections">{ badges }</ul>
            { for help }
        </>
    }
}
