//! The in-page broker in the page: while it is in use, what it is and what it cannot do; while
//! the configured broker cannot be reached, a one-click offer to use it instead.

use broker_bridge::url::{is_in_page, IN_PAGE_BROKER};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InPageBrokerProps {
    /// The broker in use (`state.broker_url`).
    pub url: String,
    /// No broker answers at `url` (a service's link is down as unreachable).
    pub unreachable: bool,
    /// Connect to a broker (called with [`IN_PAGE_BROKER`]), as the broker field's Connect does.
    pub on_connect: Callback<String>,
}

#[component]
pub fn InPageBroker(props: &InPageBrokerProps) -> Html {
    if is_in_page(&props.url) {
        return html! {
            <div class="in-page-broker" role="note" data-testid="in-page-broker">
                <p>
                    <strong>{ "The broker runs in this page" }</strong>
                    { " (mqtt5-wasm's broker, in a Web Worker): the services speak the same MQTT \
                       3.1.1 or 5.0 packets to it as to Mosquitto, so QoS handshakes, Wills, \
                       retained messages and persistent sessions behave as they do there. Its \
                       limits: it keeps everything in memory, so its sessions and retained \
                       messages vanish when the page reloads; only this tab can reach it, so \
                       another tab, " }<code>{ "mosquitto_sub" }</code>{ " or " }
                    <code>{ "mosquitto_pub" }</code>
                    { " cannot watch or publish; it has no log: the packet inspector is the \
                       wire; and it has no users or access rules (it refuses any password). For \
                       all of that, run Mosquitto and put its ws:// URL above." }
                </p>
            </div>
        };
    }
    if !props.unreachable {
        return Html::default();
    }
    let onclick = {
        let on_connect = props.on_connect.clone();
        Callback::from(move |_: MouseEvent| on_connect.emit(IN_PAGE_BROKER.to_owned()))
    };
    html! {
        <p class="in-page-offer" data-testid="in-page-offer">
            { "No broker at hand? The playground can run one inside this page instead: nothing to \
               install, the same MQTT packets, kept in memory only. " }
            <button type="button" data-testid="use-in-page-broker" {onclick}>{ "Use the in-page broker" }</button>
        </p>
    }
}
