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
            let command = format!("mosquitto_sub -t '{}' -v", props.namespace.watch_filter());
            html! {<>
                { " Watch them: " }
                <code data-testid="namespace-watch">{ command }</code>
                { " (add -u and -P with a user who may read them if the broker asks for a \
                   password, e.g. the secure config's watcher)." }
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
