//! Duplicates and the idempotent consumer: whether each consumer remembers what it processed
//! (`?dedupe=`), and a share of messages published twice (`?duplicates=`).

use eda_core::services::{FlowField, FlowSettings};
use yew::prelude::*;

use super::outside_text::sentence;
use super::{DraftField, SettingSelect};

#[derive(Properties, PartialEq)]
pub struct DeliverySettingsProps {
    pub flow: FlowSettings,
    /// A field and the text typed or picked in it.
    pub on_change: Callback<(FlowField, String)>,
    /// Why a value typed or picked (or given in the link) was not used.
    #[prop_or_default]
    pub error: Option<String>,
}

#[component]
pub fn DeliverySettings(props: &DeliverySettingsProps) -> Html {
    let on = |field: FlowField| props.on_change.reform(move |text: String| (field, text));
    let choices: Vec<(AttrValue, AttrValue)> = vec![
        ("on".into(), "on: a message seen before is ignored".into()),
        ("off".into(), "off: a redelivery is processed again".into()),
    ];
    let dedupe = if props.flow.dedupe { "on" } else { "off" };
    html! {
        <fieldset class="delivery-settings" data-testid="delivery-settings">
            <legend>{ "Duplicates" }</legend>
            <SettingSelect id="dedupe" label="Idempotent consumers" choices={choices}
                selected={dedupe} error={None::<String>} on_change={on(FlowField::Dedupe)} />
            <div class="setting">
                <DraftField id="duplicates" label="Publish twice (% of messages)" min="0" max="100" step="10"
                    value={props.flow.duplicates_percent.to_string()} on_change={on(FlowField::DuplicatesPercent)} />
            </div>
            if let Some(error) = &props.error {
                <p class="error" role="alert" data-testid="delivery-error">{ sentence(error) }</p>
            }
            <p class="trade-off">
                { "MQTT's QoS 1 delivers at least once: a lost acknowledgement means the same message again. \
                   Each consumer here recognises a message by its topic and the id it carries (a payment's id, \
                   a reservation's id, else the order's id; the seed's events have no event id of their own), \
                   remembers the last 40 000, and logs a repeat as ignored. Turn it off and deliver a message \
                   again (the packet inspector's Deliver again) to see an order charged twice." }
            </p>
        </fieldset>
    }
}
