//! Which broker each service talks to, shown when the link gives some services a broker of
//! their own (`?broker_<service>=`, e.g. the nodes of a cluster), or when one of those
//! parameters could not be used; and a button that puts every service back on the page's broker.

use yew::prelude::*;

use super::outside_text::{outside, sentence};
use eda_core::services::ServiceId;
use eda_core::state::service_brokers::{param_of, same_broker, ServiceBrokers};

#[derive(Properties, PartialEq)]
pub struct ServiceBrokersProps {
    /// The page's broker.
    pub page_url: String,
    pub brokers: ServiceBrokers,
    /// Why a `?broker_<service>=` in the link was not used.
    pub error: Option<String>,
    /// Every service on the page's broker (the `broker_<service>` parameters removed).
    pub on_reset: Callback<()>,
}

#[component]
pub fn ServiceBrokersList(props: &ServiceBrokersProps) -> Html {
    if props.brokers.is_empty() && props.error.is_none() {
        return Html::default();
    }
    let rows = ServiceId::ALL.into_iter().map(|service| {
        let own = props.brokers.own(service);
        let url = props.brokers.url_of(service, &props.page_url);
        html! {
            <li data-testid={format!("service-broker-{}", service.slug())} data-broker={url.to_owned()}
                data-own={own.is_some().to_string()}>
                <span class="name">{ service.name() }</span>{ " → " }<code>{ outside(url) }</code>
                { if own.is_some() && same_broker(url, &props.page_url) {
                    // One in-page broker per page, and one broker per address (46-AX F3: the
                    // in-page broker named twice read as a broker of its own).
                    format!(" (the page's broker: ?{}= names the same one)", param_of(service))
                } else if own.is_some() {
                    let which = if broker_bridge::url::is_in_page(url) { "the in-page broker, " } else { "" };
                    format!(" ({which}its own, from ?{}=)", param_of(service))
                } else {
                    " (the page's broker)".to_owned()
                } }
            </li>
        }
    });
    let onclick = {
        let on_reset = props.on_reset.clone();
        Callback::from(move |_: MouseEvent| on_reset.emit(()))
    };
    html! {
        <section class="service-brokers" data-testid="service-brokers" aria-label="Which broker each service talks to">
            if !props.brokers.is_empty() {
                <p>{ "Some services talk to a broker of their own (from the link); the others use the \
                      broker above, and follow it when you connect to another." }</p>
                <ul>{ for rows }</ul>
                <button type="button" class="small" data-testid="service-brokers-reset" {onclick}>
                    { "Put every service on the broker above" }</button>
            }
            if let Some(error) = &props.error {
                <p class="error" role="alert" data-testid="service-brokers-error">{ sentence(error) }</p>
            }
            if let Some(split) = props.brokers.split_warning(&props.page_url) {
                <p class="error" role="alert" data-testid="service-brokers-split">{ split }</p>
            }
        </section>
    }
}
