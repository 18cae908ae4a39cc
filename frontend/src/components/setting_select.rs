//! One setting of the flow chosen from a short list (QoS, MQTT version), with the reason a
//! value from the link was ignored.

use super::outside_text::sentence;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SettingSelectProps {
    /// The `<select>`'s id; its error is `{id}-error`, test id `{id}-error` too.
    pub id: AttrValue,
    pub label: AttrValue,
    /// `(value, label)` pairs.
    pub choices: Vec<(AttrValue, AttrValue)>,
    pub selected: AttrValue,
    pub error: Option<String>,
    pub on_change: Callback<String>,
}

#[component]
pub fn SettingSelect(props: &SettingSelectProps) -> Html {
    let onchange = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: Event| {
            on_change.emit(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let error_id = format!("{}-error", props.id);
    html! {
        <div class="setting">
            <label for={props.id.clone()}>{ &props.label }</label>
            <select id={props.id.clone()} {onchange} aria-describedby={error_id.clone()}>
                { for props.choices.iter().map(|(value, label)| html! {
                    <option value={value.clone()} selected={*value == props.selected}>{ label }</option>
                }) }
            </select>
            if let Some(error) = &props.error {
                <p id={error_id.clone()} class="error" role="alert" data-testid={error_id}>{ sentence(error) }</p>
            }
        </div>
    }
}
