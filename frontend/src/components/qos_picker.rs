//! Which MQTT quality of service the order flow uses, for every publish and subscription.

use broker_bridge::QoS;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct QosPickerProps {
    pub qos: QoS,
    /// Why the link's `?qos=` was ignored.
    pub error: Option<String>,
    pub on_change: Callback<QoS>,
}

const CHOICES: [(QoS, &str); 3] = [
    (QoS::AtMostOnce, "QoS 0 — at most once (PUBLISH only)"),
    (QoS::AtLeastOnce, "QoS 1 — at least once (PUBLISH, PUBACK)"),
    (
        QoS::ExactlyOnce,
        "QoS 2 — exactly once (PUBLISH, PUBREC, PUBREL, PUBCOMP)",
    ),
];

#[component]
pub fn QosPicker(props: &QosPickerProps) -> Html {
    let onchange = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some((qos, _)) = CHOICES.iter().find(|(q, _)| q.level().to_string() == value) {
                on_change.emit(*qos);
            }
        })
    };
    html! {
        <div class="qos-picker">
            <label for="flow-qos">{ "Delivery guarantee" }</label>
            <select id="flow-qos" {onchange} aria-describedby="qos-error">
                { for CHOICES.iter().map(|(qos, label)| html! {
                    <option value={qos.level().to_string()} selected={*qos == props.qos}>{ *label }</option>
                }) }
            </select>
            if let Some(error) = &props.error {
                <p id="qos-error" class="error" role="alert" data-testid="qos-error">{ error }</p>
            }
        </div>
    }
}
