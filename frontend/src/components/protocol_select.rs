//! The MQTT version the four services connect with.

use broker_bridge::ProtocolVersion;
use eda_core::state::query::protocol_value;
use yew::prelude::*;

use super::SettingSelect;

#[derive(Properties, PartialEq)]
pub struct ProtocolSelectProps {
    pub protocol: ProtocolVersion,
    /// Why a `?mqtt=` in the link was ignored.
    pub error: Option<String>,
    /// `3.1.1` or `5`.
    pub on_change: Callback<String>,
}

#[component]
pub fn ProtocolSelect(props: &ProtocolSelectProps) -> Html {
    let choices: Vec<(AttrValue, AttrValue)> = vec![
        ("3.1.1".into(), "MQTT 3.1.1".into()),
        (
            "5".into(),
            "MQTT 5.0 (orderId in a correlationId user property)".into(),
        ),
    ];
    html! {
        <SettingSelect id="mqtt-version" label="Protocol" {choices}
            selected={protocol_value(props.protocol)} error={props.error.clone()}
            on_change={props.on_change.clone()} />
    }
}
