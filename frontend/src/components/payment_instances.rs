//! Competing consumers: how many instances PaymentService runs (`?payment_instances=`), what
//! they share and how, and why not when the broker refuses shared subscriptions.

use eda_core::services::instances::MAX_INSTANCES;
use eda_core::state::SessionMode;
use yew::prelude::*;

use super::SettingSelect;

#[derive(Properties, PartialEq)]
pub struct PaymentInstancesProps {
    /// 1 to 3.
    pub instances: u8,
    /// It decides what a crashed instance's share does.
    pub session: SessionMode,
    /// PaymentService's broker is the in-page one (`?broker=inpage`), which does not keep a
    /// crashed member in its group.
    #[prop_or_default]
    pub in_page: bool,
    /// Why the link's value was not used, or why the broker would not let them share.
    pub error: Option<String>,
    /// The value picked (`1` to `3`).
    pub on_change: Callback<String>,
}

/// What a crashed instance's share of the work does, under `session`, on Mosquitto or on the
/// in-page broker (`in_page`): a newcomer's break-test saw the in-page broker give every order
/// to the live instance while the note described Mosquitto's queueing.
fn on_crash(session: SessionMode, in_page: bool) -> &'static str {
    match session {
        SessionMode::Persistent if in_page => {
            "Sessions are persistent, but the in-page broker does not keep a crashed instance in \
             the group: it gives the next messages to the instances still running. Mosquitto \
             keeps it there and queues its share until it comes back (those orders wait, and \
             time out if the saga's deadline comes first): use Mosquitto to see that."
        }
        SessionMode::Clean => {
            "Sessions are clean: a crashed instance's session ends with its connection, so the \
             broker gives the next messages to the instances still running."
        }
        SessionMode::Persistent => {
            "Sessions are persistent: Mosquitto keeps a crashed instance in the group and queues \
             its share of the messages for it (QoS 1 and 2) until it comes back, so those orders \
             wait, and time out if the saga's deadline comes first. Choose clean sessions to see \
             the others take over at once."
        }
    }
}

#[component]
pub fn PaymentInstances(props: &PaymentInstancesProps) -> Html {
    let choices: Vec<(AttrValue, AttrValue)> = (1..=MAX_INSTANCES)
        .map(|n| {
            let label = match n {
                1 => "1: one client, plain subscriptions".to_owned(),
                n => format!("{n}: {n} clients in one shared subscription"),
            };
            (n.to_string().into(), label.into())
        })
        .collect();
    html! {
        <fieldset class="delivery-settings" data-testid="payment-instances">
            <legend>{ "Competing consumers" }</legend>
            <SettingSelect id="payment-instances" label="PaymentService instances" {choices}
                selected={props.instances.to_string()} error={props.error.clone()}
                on_change={props.on_change.clone()} />
            <p class="trade-off">
                { "More than one instance: each is its own MQTT client (eda-…-payment, eda-…-payment-2, …) \
                   subscribed through one shared subscription, $share/<group>/<topic>, so the broker gives \
                   each message to one of them. They share PaymentService's memory, as a database would be \
                   shared, so whichever receives an order charges it and whichever receives its cancellation \
                   refunds it. The Orders panel says which instance charged each order. " }
                if props.instances > 1 {
                    { on_crash(props.session, props.in_page) }
                }
            </p>
        </fieldset>
    }
}
