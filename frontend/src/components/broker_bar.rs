//! The broker URL field: shows the URL in use, takes a new one, and says why a bad one was not
//! used.

use super::outside_text::sentence;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BrokerBarProps {
    pub url: String,
    pub error: Option<String>,
    pub on_connect: Callback<String>,
}

#[component]
pub fn BrokerBar(props: &BrokerBarProps) -> Html {
    let text = use_state(|| props.url.clone());
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            text.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onsubmit = {
        let (text, on_connect) = (text.clone(), props.on_connect.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_connect.emit((*text).clone());
        })
    };
    html! {
        <form class="broker-bar" {onsubmit}>
            <label for="broker-url">{ "Broker (MQTT over WebSocket)" }</label>
            <input id="broker-url" type="text" value={(*text).clone()} {oninput}
                spellcheck="false" autocomplete="off"
                aria-invalid={props.error.is_some().to_string()}
                aria-describedby="broker-error" />
            <button type="submit" data-testid="apply-broker">{ "Connect" }</button>
            if let Some(error) = &props.error {
                <p id="broker-error" class="error" role="alert" data-testid="broker-error">{ sentence(error) }</p>
            }
        </form>
    }
}
