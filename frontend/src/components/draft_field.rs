//! A setting typed in a field. The field keeps what the learner types while the page redraws
//! around it (Yew puts a controlled input back to its value on every render, and under load the
//! page renders ten times a second); the text goes out on change, and the field shows the value
//! in use again whenever that changes.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DraftFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    /// The value in use.
    pub value: AttrValue,
    /// The input's `type`: `number` unless said otherwise.
    #[prop_or(AttrValue::Static("number"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub min: Option<AttrValue>,
    #[prop_or_default]
    pub max: Option<AttrValue>,
    #[prop_or_default]
    pub step: Option<AttrValue>,
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    /// The text typed, when the learner is done with it (change).
    pub on_change: Callback<String>,
}

#[component]
pub fn DraftField(props: &DraftFieldProps) -> Html {
    let draft = use_state(|| props.value.to_string());
    {
        let draft = draft.clone();
        use_effect_with(props.value.clone(), move |value| {
            draft.set(value.to_string())
        });
    }
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onchange = props
        .on_change
        .reform(|e: Event| e.target_unchecked_into::<HtmlInputElement>().value());
    html! {
        <>
            <label for={props.id.clone()}>{ &props.label }</label>
            <input id={props.id.clone()} type={props.kind.clone()} min={props.min.clone()} max={props.max.clone()}
                step={props.step.clone()} placeholder={props.placeholder.clone()}
                value={(*draft).clone()} {oninput} {onchange} />
        </>
    }
}
