//! Which broker each service talks to, when not the page's: `?broker_order=`,
//! `?broker_payment=`, `?broker_inventory=`, `?broker_notification=`, `?broker_query=`, each a
//! `ws://` or `wss://` URL checked as `?broker=` is ([`check_broker_url`]). A cluster's nodes are
//! brokers too: spread over them, the services' events cross from node to node, which is what a
//! cluster is for. A service without its own URL uses the page's (`?broker=`), and follows it
//! when the learner connects the page to another broker; one with its own stays on it.
//! PaymentService's further instances use PaymentService's.
//!
//! ```
//! use eda_core::services::ServiceId;
//! use eda_core::state::service_brokers::ServiceBrokers;
//!
//! let link = [("broker_payment", "ws://127.0.0.1:9102"), ("broker_query", "http://x")];
//! let get = |key: &str| link.iter().find(|(k, _)| *k == key).map(|&(_, v)| v);
//! let (brokers, error) = ServiceBrokers::from_link(get);
//! let page = "ws://127.0.0.1:9101";
//! assert_eq!(brokers.url_of(ServiceId::Payment, page), "ws://127.0.0.1:9102");
//! assert_eq!(brokers.url_of(ServiceId::Order, page), page);
//! assert_eq!(brokers.url_of(ServiceId::Query, page), page);
//! assert!(error.unwrap().starts_with("Ignored ?broker_query= in the link"));
//! ```

use super::query::check_broker_url;
use crate::services::ServiceId;

/// The link parameter that gives `service` its own broker: `broker_<slug>` (`broker_payment`).
pub fn param_of(service: ServiceId) -> String {
    format!("broker_{}", service.slug())
}

/// Every per-service broker parameter, in [`ServiceId::ALL`]'s order.
pub const PARAMS: [&str; 5] = [
    "broker_order",
    "broker_payment",
    "broker_inventory",
    "broker_notification",
    "broker_query",
];

/// The services that have a broker of their own, and its URL (already checked); the others use
/// the page's. One slot per service, in [`ServiceId::ALL`]'s order (an array, not a map: five
/// keys need no B-tree code in the page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceBrokers([Option<String>; ServiceId::ALL.len()]);

impl ServiceBrokers {
    /// From the link's `broker_<service>` parameters (`get` returns a parameter's first value):
    /// each usable URL is kept; each other value is left out, and named in the sentence returned
    /// (`Ignored ?broker_payment= in the link: "http://x": … PaymentService uses the page's
    /// broker.`), so that service uses the page's broker.
    pub fn from_link<'a>(get: impl Fn(&str) -> Option<&'a str>) -> (Self, Option<String>) {
        let mut brokers = ServiceBrokers::default();
        let mut errors = Vec::new();
        for service in ServiceId::ALL {
            let key = param_of(service);
            let Some(raw) = get(&key) else { continue };
            match check_broker_url(raw) {
                Ok(url) => {
                    brokers.0[service as usize] = Some(url);
                }
                // Empty: no URL to suggest here, the page's broker is the fallback (a
                // newcomer's break-test, 35-L F5, on a cluster page was told to try 9001).
                Err(_) if raw.trim().is_empty() => errors.push(format!(
                    "Ignored ?{key}= in the link: it is empty. {} uses the page's broker.",
                    service.name()
                )),
                Err(e) => errors.push(format!(
                    "Ignored ?{key}= in the link: {e}. {} uses the page's broker.",
                    service.name()
                )),
            }
        }
        (brokers, (!errors.is_empty()).then(|| errors.join(" ")))
    }

    /// The broker `service` talks to: its own, or `page` (the page's broker).
    pub fn url_of<'a>(&'a self, service: ServiceId, page: &'a str) -> &'a str {
        self.own(service).unwrap_or(page)
    }

    /// `service`'s own broker, if the link gave it one.
    pub fn own(&self, service: ServiceId) -> Option<&str> {
        self.0[service as usize].as_deref()
    }

    /// Whether every service uses the page's broker.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// The services with a broker of their own and its URL, in [`ServiceId::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (ServiceId, &str)> {
        ServiceId::ALL
            .into_iter()
            .filter_map(|service| Some((service, self.own(service)?)))
    }

    /// Gives `service` its own broker `url` (checked by the caller), or (`None`) the page's.
    pub fn set(&mut self, service: ServiceId, url: Option<String>) {
        self.0[service as usize] = url;
    }

    /// A warning when some services are on the in-page broker and others are not: the in-page
    /// broker runs in this page, and no network broker relays to it, so the two groups never
    /// hear each other. What follows depends on who is cut off from OrderService: PaymentService
    /// or InventoryService, and every order waits out its saga deadline; only
    /// NotificationService or QueryService, and orders complete while that service hears
    /// nothing (a newcomer's break-test: `?broker_query=inpage` was told every order would time
    /// out, and all completed). `None` when all or none are in-page. Names the in-page ones,
    /// e.g. `PaymentService is on the in-page broker, …`.
    pub fn split_warning(&self, page: &str) -> Option<String> {
        let in_page_of = |s: ServiceId| broker_bridge::url::is_in_page(self.url_of(s, page));
        let in_page: Vec<&str> = ServiceId::ALL
            .into_iter()
            .filter(|&s| in_page_of(s))
            .map(ServiceId::name)
            .collect();
        if in_page.is_empty() || in_page.len() == ServiceId::ALL.len() {
            return None;
        }
        let (who, verb) = match in_page.as_slice() {
            [one] => ((*one).to_owned(), "is"),
            many => (many.join(", "), "are"),
        };
        let apart = |s: ServiceId| in_page_of(s) != in_page_of(ServiceId::Order);
        let outcome = if apart(ServiceId::Payment) || apart(ServiceId::Inventory) {
            "every order will time out".to_owned()
        } else {
            let mut deaf = Vec::new();
            if apart(ServiceId::Notification) {
                deaf.push("NotificationService sends no notification");
            }
            if apart(ServiceId::Query) {
                deaf.push("QueryService's read model receives no event");
            }
            format!("orders complete, but {}", deaf.join(" and "))
        };
        Some(format!(
            "{who} {verb} on the in-page broker and the others are not: the in-page broker lives \
             in this page and no other broker relays to it, so the two groups never hear each \
             other: {outcome}. Put every service on one broker."
        ))
    }

    /// The link parameters that say these brokers: every `broker_<service>`, `Some` URL for a
    /// service with its own, `None` (removed) for the others.
    pub fn params(&self) -> Vec<(String, Option<String>)> {
        ServiceId::ALL
            .into_iter()
            .map(|service| (param_of(service), self.own(service).map(str::to_owned)))
            .collect()
    }
}

/// Whether two broker URLs of the link, as checked (`INPAGE` already read as `inpage`), name one
/// broker: the same address, or both the in-page broker (a page runs one).
///
/// ```
/// use eda_core::state::service_brokers::same_broker;
/// assert!(same_broker("inpage", "inpage"));
/// assert!(same_broker("ws://localhost:9001", "ws://localhost:9001"));
/// assert!(!same_broker("ws://localhost:9001", "ws://localhost:9002"));
/// assert!(!same_broker("inpage", "ws://localhost:9001"));
/// ```
pub fn same_broker(a: &str, b: &str) -> bool {
    use broker_bridge::url::is_in_page;
    a == b || (is_in_page(a) && is_in_page(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_as_usize_is_its_place_in_all() {
        // ServiceBrokers' slots are indexed by `service as usize`.
        for (place, service) in ServiceId::ALL.into_iter().enumerate() {
            assert_eq!(service as usize, place, "{service:?}");
        }
    }

    fn read(link: &[(&'static str, &'static str)]) -> (ServiceBrokers, Option<String>) {
        ServiceBrokers::from_link(|key| link.iter().find(|(k, _)| *k == key).map(|&(_, v)| v))
    }

    #[test]
    fn params_are_named_after_each_service() {
        let named: Vec<String> = ServiceId::ALL.into_iter().map(param_of).collect();
        assert_eq!(named, PARAMS);
    }

    #[test]
    fn each_service_may_have_its_own_broker_and_the_rest_use_the_page_s() {
        let (brokers, error) = read(&[
            ("broker_order", " ws://10.0.0.1:8083/mqtt "),
            ("broker_inventory", "wss://node-b.example:8084/mqtt"),
        ]);
        assert_eq!(error, None);
        let page = "ws://localhost:9001";
        let urls: Vec<&str> = ServiceId::ALL
            .into_iter()
            .map(|s| brokers.url_of(s, page))
            .collect();
        assert_eq!(
            urls,
            [
                "ws://10.0.0.1:8083/mqtt",
                page,
                "wss://node-b.example:8084/mqtt",
                page,
                page
            ]
        );
        let own: Vec<_> = brokers.iter().map(|(s, _)| s).collect();
        assert_eq!(own, [ServiceId::Order, ServiceId::Inventory]);
    }

    #[test]
    fn a_bad_url_is_explained_and_that_service_uses_the_page_s_broker() {
        let (brokers, error) = read(&[
            ("broker_payment", "http://node-b:9102"),
            ("broker_notification", ""),
            ("broker_query", "ws://127.0.0.1:9102"),
        ]);
        assert_eq!(brokers.own(ServiceId::Payment), None);
        assert_eq!(brokers.own(ServiceId::Notification), None);
        assert_eq!(brokers.own(ServiceId::Query), Some("ws://127.0.0.1:9102"));
        let error = error.unwrap();
        assert!(
            error.starts_with("Ignored ?broker_payment= in the link: \"http://node-b:9102\"")
                && error.contains("PaymentService uses the page's broker.")
                && error.contains(
                    "Ignored ?broker_notification= in the link: it is empty. \
                     NotificationService uses the page's broker."
                ),
            "{error}"
        );
        // No broker suggested for an empty one: the page's is used (35-L F5: 9001 was
        // suggested on a cluster page).
        assert!(!error.contains("try ws://localhost:9001"), "{error}");
        assert!(!error.contains("broker_query"), "{error}");
    }

    #[test]
    fn params_write_every_service_s_broker_and_remove_the_others() {
        let mut brokers = ServiceBrokers::default();
        brokers.set(ServiceId::Payment, Some("ws://127.0.0.1:9102".into()));
        let params = brokers.params();
        assert_eq!(params.len(), 5);
        assert!(params.contains(&(
            "broker_payment".to_owned(),
            Some("ws://127.0.0.1:9102".to_owned())
        )));
        assert!(params.contains(&("broker_order".to_owned(), None)));
        brokers.set(ServiceId::Payment, None);
        assert!(brokers.is_empty());
        assert!(brokers.params().iter().all(|(_, v)| v.is_none()));
    }

    #[test]
    fn services_split_between_the_in_page_broker_and_a_network_one_are_warned_of() {
        let net = "ws://localhost:9001";
        let mut brokers = ServiceBrokers::default();
        assert_eq!(brokers.split_warning(net), None);
        assert_eq!(brokers.split_warning("inpage"), None);
        brokers.set(ServiceId::Payment, Some("inpage".into()));
        let warning = brokers.split_warning(net).unwrap();
        assert!(
            warning.starts_with("PaymentService is on the in-page broker"),
            "{warning}"
        );
        // The page on the in-page broker, PaymentService on a network one: the other four are.
        brokers.set(ServiceId::Payment, Some(net.into()));
        let warning = brokers.split_warning("inpage").unwrap();
        assert!(
            warning.contains("OrderService, InventoryService"),
            "{warning}"
        );
        assert!(warning.contains(" are on the in-page broker"), "{warning}");
        assert!(warning.contains("every order will time out"), "{warning}");
        // Only the read side apart: the orders complete; what the learner loses is said.
        let mut brokers = ServiceBrokers::default();
        brokers.set(ServiceId::Query, Some("inpage".into()));
        let warning = brokers.split_warning(net).unwrap();
        assert!(
            warning.contains("orders complete, but QueryService's read model receives no event"),
            "{warning}"
        );
        assert!(!warning.contains("time out"), "{warning}");
        brokers.set(ServiceId::Notification, Some("inpage".into()));
        let warning = brokers.split_warning(net).unwrap();
        assert!(
            warning.contains("NotificationService sends no notification and QueryService's"),
            "{warning}"
        );
    }
}
