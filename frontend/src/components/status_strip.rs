//! One badge per service with its connection state, and help when the broker is out of reach.

use yew::prelude::*;

use broker_bridge::Link;
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

#[component]
pub fn StatusStrip(props: &StatusStripProps) -> Html {
    let badges = props
        .services
        .iter()
        .map(|(id, client_id, link)| {
            let state = link.word();
            let title = match link {
                Link::Disconnected { reason, .. } => reason.to_string(),
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

    let retry = props
        .services
        .iter()
        .filter(|_| !props.replaying)
        .find_map(|(_, _, link)| match link {
            Link::Disconnected {
                reason,
                retry_in,
                attempt,
                ..
            } => Some((reason.clone(), *retry_in, *attempt)),
            _ => None,
        });
    let help = retry.map(|(reason, retry_in, attempt)| {
        html! {
            <div class="help" role="status" data-testid="broker-help">
                <p>
                    { "Cannot reach the MQTT broker at " }<code>{ &props.broker_url }</code>
                    { format!(" ({reason}). Retrying in {:.1} s (attempt {attempt}); the page connects by itself once the broker is up.", retry_in.as_secs_f32()) }
                </p>
                <p>
                    { "Start Mosquitto with this project's config: " }
                    <code>{ "./scripts/play" }</code>{ " or " }
                    <code>{ "mosquitto -c static/mosquitto.conf" }</code>
                    { " (WebSocket listener on port 9001). Another broker? Put its ws:// URL above." }
                </p>
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
