//! The delivery guarantee of the flow: one choice for every topic, and one per topic beneath it.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::SettingSelect;
use eda_core::state::{parse_level, FlowQos};

#[derive(Properties, PartialEq)]
pub struct QosSettingsProps {
    pub qos: FlowQos,
    /// Why a QoS in the link was ignored.
    pub error: Option<String>,
    pub on_change: Callback<FlowQos>,
}

/// What the shared selector shows while the topics differ.
const MIXED: &str = "mixed";

/// `qos-orders` for `orders/created`: the id of that topic's selector.
pub fn topic_select_id(topic: &str) -> String {
    format!("qos-{}", topic.split('/').next().unwrap_or(topic))
}

#[component]
pub fn QosSettings(props: &QosSettingsProps) -> Html {
    let mut choices: Vec<(AttrValue, AttrValue)> = vec![
        ("0".into(), "QoS 0 — at most once (PUBLISH only)".into()),
        ("1".into(), "QoS 1 — at least once (PUBLISH, PUBACK)".into()),
        (
            "2".into(),
            "QoS 2 — exactly once (PUBLISH, PUBREC, PUBREL, PUBCOMP)".into(),
        ),
    ];
    let uniform = props.qos.uniform_level();
    if uniform.is_none() {
        choices.push((MIXED.into(), "Mixed — set per topic below".into()));
    }
    let on_all = {
        let on_change = props.on_change.clone();
        Callback::from(move |value: String| {
            if let Some(level) = parse_level(&value) {
                on_change.emit(FlowQos::uniform(level));
            }
        })
    };
    let topics = props.qos.iter().map(|(topic, qos)| {
        let id = topic_select_id(topic);
        let onchange = {
            let (on_change, current) = (props.on_change.clone(), props.qos);
            Callback::from(move |e: Event| {
                let value = e.target_unchecked_into::<HtmlSelectElement>().value();
                if let Some(level) = parse_level(&value) {
                    on_change.emit(current.with(topic, level));
                }
            })
        };
        html! {
            <span class="topic-qos">
                <label for={id.clone()}>{ topic }</label>
                <select id={id.clone()} {onchange} data-testid={id}
                    title={format!("QoS of {topic}: its publisher sends with it, its subscribers ask for it")}>
                    { for (0..=2u8).map(|level| html! {
                        <option value={level.to_string()} selected={qos.level() == level}>{ format!("QoS {level}") }</option>
                    }) }
                </select>
            </span>
        }
    });
    html! {
        <div class="qos-settings">
            <SettingSelect id="flow-qos" label="Delivery guarantee" {choices}
                selected={uniform.map_or(MIXED.to_owned(), |q| q.level().to_string())}
                error={props.error.clone()} on_change={on_all} />
            <fieldset class="per-topic">
                <legend>{ "Per topic" }</legend>
                { for topics }
            </fieldset>
        </div>
    }
}
