//! The topic namespace the page runs under (`?ns=`), beside the broker bar: which prefix every
//! topic carries and how to watch them (with mosquitto_sub, or in the packet inspector when the
//! broker runs in the page), or why the link's value was not used.

use eda_core::domain::namespace::Namespace;
use yew::prelude::*;

use super::outside_text::sentence;

#[derive(Properties, PartialEq)]
pub struct NamespaceNoteProps {
    pub namespace: Namespace,
    /// Why `?ns=` was not used.
    pub error: Option<String>,
    /// The page's broker runs in the page (`?broker=inpage`): no other program can watch it.
    #[prop_or_default]
    pub in_page: bool,
    /// The page's broker URL (`ws://host:port/…`): its host goes into the watch command.
    #[prop_or_default]
    pub broker_url: String,
}

/// The host of `url` for `mosquitto_sub -h` (`classroom.example`, `::1`), if the browser can
/// read one. The command watched the broker on localhost whatever the page's broker was (a
/// newcomer's break-test with the README's own classroom example).
fn host_of(url: &str) -> Option<String> {
    let host = web_sys::Url::new(url).ok()?.hostname();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| host.to_owned())
}

/// Nothing without a namespace and no error: the page is as it always was.
#[component]
pub fn NamespaceNote(props: &NamespaceNoteProps) -> Html {
    let error = props.error.as_ref().map(|error| {
        html! { <p class="error" role="alert" data-testid="namespace-error">{ sentence(error) }</p> }
    });
    let note = props.namespace.value().map(|ns| {
        let watch = if props.in_page {
            html! {
                { " Watch them in the packet inspector: the broker runs in this page, so \
                   mosquitto_sub cannot reach it." }
            }
        } else {
            let host = host_of(&props.broker_url)
                .map(|h| format!("-h {h} "))
                .unwrap_or_default();
            // This project's brokers' plain MQTT ports are known (a newcomer's break-test on
            // the cluster watched port 1883, another broker, with the command as printed).
            let known = broker_bridge::url::plain_mqtt_port(&props.broker_url);
            let port = known
                .filter(|p| *p != 1883)
                .map(|p| format!("-p {p} "))
                .unwrap_or_default();
            let command = format!(
                "mosquitto_sub {host}{port}-t '{}' -v",
                props.namespace.watch_filter()
            );
            let port_note = if known.is_some() {
                " (add -u and -P with a user who may read them if the broker asks for a \
                 password, e.g. the secure config's watcher)."
            } else {
                " (add -p with the broker's plain MQTT port if it is not 1883, which the page \
                 cannot know, and -u and -P with a user who may read them if the broker asks \
                 for a password, e.g. the secure config's watcher)."
            };
            html! {<>
                { " Watch them: " }
                <code data-testid="namespace-watch">{ command }</code>
                { port_note }
            </>}
        };
        html! {
            <p class="namespace" data-testid="namespace" data-namespace={ns.to_owned()}>
                { "Topics under " }<code>{ format!("{ns}/") }</code>
                { " (a classroom on one broker): this page's services publish and subscribe only \
                   there, so pages with another ?ns= never process its orders, nor it theirs." }
                { watch }
            </p>
        }
    });
    html! { <>{ for error }{ for note }</> }
}
