//! `frontend/index.html` opens the services' WebSockets at navigation, before the wasm runs,
//! from the link as this module's [`super::query`] reads it. Its script repeats a few facts of
//! the core; these tests keep them in step. (A socket the script gets wrong costs only time:
//! the clients take a socket only for the exact URL they connect to, and open their own.)

use crate::config::DEFAULT_BROKER_URL;
use crate::services::instances::MAX_INSTANCES;
use crate::services::ServiceId;
use crate::state::service_brokers::param_of;

const PAGE: &str = include_str!("../../../frontend/index.html");

/// The inline script that opens the sockets.
fn script() -> &'static str {
    let start = PAGE
        .find("__edaEarlySockets")
        .expect("index.html opens early sockets");
    let from = PAGE[..start].rfind("<script>").expect("inside a <script>");
    let to = start + PAGE[start..].find("</script>").expect("a closed <script>");
    &PAGE[from..to]
}

#[test]
fn the_script_uses_the_default_broker_and_the_parameters_of_the_link() {
    let script = script();
    assert!(script.contains(&format!("var DEFAULT_BROKER = '{DEFAULT_BROKER_URL}';")));
    assert!(script.contains("link.get('broker')"));
    assert!(script.contains("link.get('payment_instances')"));
    assert!(script.contains(&format!("'{}'", broker_bridge::url::IN_PAGE_BROKER)));
    // `broker_` + slug is each service's own broker parameter.
    assert!(script.contains("link.get('broker_' + s)"));
    for service in ServiceId::ALL {
        assert_eq!(param_of(service), format!("broker_{}", service.slug()));
    }
}

#[test]
fn the_script_opens_the_sockets_in_the_order_the_clients_connect() {
    // Instance::all: the five services in ServiceId::ALL's order, then PaymentService's
    // further instances; the runtime's status monitor last.
    let slugs: Vec<String> = ServiceId::ALL
        .iter()
        .map(|s| format!("'{}'", s.slug()))
        .collect();
    assert!(script().contains(&format!("var SERVICES = [{}];", slugs.join(", "))));
    assert_eq!(
        ServiceId::ALL[1],
        ServiceId::Payment,
        "urls[1] is PaymentService's"
    );
    assert!(script().contains(&format!("/^[1-{MAX_INSTANCES}]$/")));
}
