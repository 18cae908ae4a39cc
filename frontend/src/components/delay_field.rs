//! A simulated delay in whole milliseconds. The field keeps what the learner types while the
//! page redraws around it (Yew puts a controlled input back to its value on every render, and
//! under load the page renders ten times a second); the value goes out on change.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DelayFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    /// The delay in use; the field shows it again whenever it changes.
    pub millis: u64,
    /// The text typed, when the learner is done with it (change).
    pub on_change: Callback<String>,
}

#[component]
pub fn DelayField(props: &DelayFieldProps) -> Html {
    let draft = use_state(|| props.millis.to_string());
    {
        let draft = draft.clone();
        use_effect_with(props.millis, move |millis| draft.set(millis.to_string()));
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
            <input id={props.id.clone()} type="number" min="0" max="10000" step="100"
                value={(*draft).clone()} {oninput} {onchange} />
        </>
    }
}
