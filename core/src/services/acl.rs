//! Least privilege on the broker: the topics each service publishes and subscribes to, gathered
//! from the one place each is decided (saga styles, instances, status and Will, retained stock,
//! dead letters, event store), so a broker's access list can be checked against them
//! (`static/mosquitto-secure.acl`, tested below) and the page can show a publish the list
//! refuses.
//!
//! Each service connects as the user named like it ([`ServiceId::name`], e.g.
//! `PaymentService`); [`WATCHER`] reads everything and writes nothing.

use std::collections::BTreeSet;

use super::dead_letter::deadletter_topic;
use super::instances::{filters, Instance, MAX_INSTANCES};
use super::presence::status_topic;
use super::{SagaStyle, ServiceId};
use crate::domain::topics;

/// The user that may read every topic (`#`) and publish none: `mosquitto_sub`, and the page's
/// status monitor when it signs in with the page's own credentials.
pub const WATCHER: &str = "watcher";

/// What the least-privilege demonstration tries: PaymentService publishing `orders/created`,
/// which only OrderService may do. A broker enforcing the secure config refuses it (MQTT 5.0:
/// PUBACK 0x87 Not authorized; MQTT 3.1.1: acknowledged and dropped, nobody receives it).
pub const OUTSIDE_ACL: (ServiceId, &str) = (ServiceId::Payment, topics::ORDERS_CREATED);

/// The body of the least-privilege demonstration's PUBLISH ([`OUTSIDE_ACL`]): `{"probe":"least
/// privilege: PaymentService publishing on orders/created"}`. No order: a service that
/// receives it dead-letters it.
pub fn probe_payload() -> String {
    let (service, topic) = OUTSIDE_ACL;
    format!("{{\"probe\":\"least privilege: {service} publishing on {topic}\"}}")
}

/// What became of the demonstration's PUBLISH, as far as the page can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The broker refused it, with this reason (MQTT 5.0 PUBACK `Not authorized (0x87)`).
    Refused(String),
    /// The broker acknowledged it, and none of the page's services has received it (yet).
    Acknowledged,
    /// One of the page's services subscribed to the topic received it: the broker passed it on.
    Delivered,
}

/// The demonstration's answer in words. Under MQTT 3.1.1 a PUBACK says nothing of the ACL (the
/// protocol has no way to refuse a PUBLISH), so an acknowledgement alone says what an enforcing
/// broker does rather than that this one dropped it (44-AR F1: on a broker with no ACL the page
/// said "dropped it silently" while its own services dead-lettered the message). A delivery
/// settles it, in either version.
///
/// ```
/// use eda_core::services::acl::{probe_answer, ProbeOutcome};
/// assert!(probe_answer(&ProbeOutcome::Delivered, false).starts_with("Delivered:"));
/// assert!(probe_answer(&ProbeOutcome::Acknowledged, false).starts_with("Accepted:"));
/// ```
pub fn probe_answer(outcome: &ProbeOutcome, v311: bool) -> String {
    let (service, topic) = OUTSIDE_ACL;
    match (outcome, v311) {
        (ProbeOutcome::Refused(reason), _) => format!(
            "Refused: {service} may not publish on {topic}, and the broker said so ({reason}). \
             Nobody received it."
        ),
        (ProbeOutcome::Delivered, _) => format!(
            "Delivered: this broker let {service} publish on {topic}, and the page's services \
             subscribed to it received it (their dead letters: it is no order). It enforces no \
             ACL for this user."
        ),
        (ProbeOutcome::Acknowledged, true) => format!(
            "The broker answered PUBACK, as MQTT 3.1.1 requires: 3.1.1 has no way to refuse a \
             PUBLISH, so the PUBACK says nothing of the ACL. A broker enforcing it (Mosquitto \
             with static/mosquitto-secure.conf) drops it silently: then none of the page's \
             services subscribed to {topic} receives it, and {service} cannot tell. Switch to \
             MQTT 5.0 to see the refusal (reason code 0x87 Not authorized)."
        ),
        (ProbeOutcome::Acknowledged, false) => format!(
            "Accepted: this broker let {service} publish on {topic} (PUBACK Success): it \
             enforces no ACL for this user."
        ),
    }
}

/// The topics (or filters, for families such as `eventstore/orders/+`) a service uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicsUsed {
    /// Topics it publishes, its Will included; a `+` stands for one level it fills in (an
    /// order id, a product id).
    pub publish: BTreeSet<String>,
    /// Filters it subscribes to, as the broker checks them: a shared subscription
    /// `$share/<group>/<filter>` counts as its `<filter>` (Mosquitto 2.0 checks that part).
    pub subscribe: BTreeSet<String>,
}

/// Everything `service` may publish and subscribe to, in every saga style and with up to
/// [`MAX_INSTANCES`] instances, with no topic namespace and under one of one level (`+/…`:
/// `?ns=class-7`; a deeper namespace is not in the secure ACL).
pub fn topics_used(service: ServiceId) -> TopicsUsed {
    let mut used = TopicsUsed::default();
    for style in SagaStyle::ALL {
        for topic in service.publications(style) {
            used.publish.insert((*topic).to_owned());
        }
        for filter in filters(service, style, MAX_INSTANCES, "tag") {
            let plain =
                broker_bridge::topic::shared_parts(&filter).map_or(filter.as_str(), |p| p.1);
            used.subscribe.insert(plain.to_owned());
        }
    }
    // Its status (online, and the Will's offline), one topic per instance.
    for instance in Instance::all(MAX_INSTANCES) {
        if instance.service == service {
            used.publish.insert(status_topic(instance));
        }
    }
    // The stock levels it states, retained.
    if service == ServiceId::Inventory {
        used.publish
            .insert(topics::INVENTORY_STOCK_FILTER.to_owned());
    }
    // Every service may give up on a message.
    used.publish.insert(deadletter_topic(service));
    // The same under a one-level topic namespace (`?ns=class-7`: `class-7/orders/created`).
    for set in [&mut used.publish, &mut used.subscribe] {
        let namespaced: Vec<String> = set.iter().map(|t| format!("+/{t}")).collect();
        set.extend(namespaced);
    }
    used
}

/// The service whose events `topic` carries (a flow topic, without a namespace): the one
/// allowed to publish it ([`topics_used`]), `None` for a topic no service publishes. A dead
/// letter's *Retry* is published by it, as the original was: under a least-privilege ACL
/// (`static/mosquitto-secure.acl`) the consumer that gave up may not publish its input.
pub fn publisher_of(topic: &str) -> Option<ServiceId> {
    ServiceId::ALL.into_iter().find(|service| {
        topics_used(*service)
            .publish
            .iter()
            .any(|allowed| broker_bridge::topic::matches(allowed, topic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // 44-AR F1: on a broker enforcing no ACL, MQTT 3.1.1, the page said the broker "dropped it
    // silently: nobody subscribed to orders/created received it" while its own services had
    // received and dead-lettered it. The PUBACK alone says what an enforcing broker does; a
    // delivery says it was delivered.
    #[test]
    fn a_3_1_1_puback_alone_does_not_claim_a_drop_and_a_delivery_says_delivered() {
        let acked = probe_answer(&ProbeOutcome::Acknowledged, true);
        assert!(!acked.contains("dropped it"), "{acked}");
        assert!(
            acked.contains("3.1.1 has no way to refuse a PUBLISH"),
            "{acked}"
        );
        assert!(
            acked.contains("drops it silently: then none of the page's services"),
            "{acked}"
        );
        for v311 in [true, false] {
            assert_eq!(
                probe_answer(&ProbeOutcome::Delivered, v311),
                "Delivered: this broker let PaymentService publish on orders/created, and the \
                 page's services subscribed to it received it (their dead letters: it is no \
                 order). It enforces no ACL for this user."
            );
        }
        assert_eq!(
            probe_payload(),
            r#"{"probe":"least privilege: PaymentService publishing on orders/created"}"#
        );
    }
    use broker_bridge::topic::matches;

    /// The user blocks of a Mosquitto ACL file: (user, access, topic), in order.
    fn acl_lines(text: &str) -> Vec<(String, String, String)> {
        let mut user = None::<String>;
        let mut lines = Vec::new();
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                [comment, ..] if comment.starts_with('#') => {}
                ["user", name] => user = Some((*name).to_owned()),
                ["topic", access, topic] => {
                    let user = user.clone().expect("every topic line is in a user's block");
                    lines.push((user, (*access).to_owned(), (*topic).to_owned()));
                }
                other => panic!("a line this test does not know: {other:?}"),
            }
        }
        lines
    }

    fn granted(lines: &[(String, String, String)], user: &str, access: &str) -> BTreeSet<String> {
        lines
            .iter()
            .filter(|(u, a, _)| u == user && (a == access || a == "readwrite"))
            .map(|(_, _, t)| t.clone())
            .collect()
    }

    const ACL: &str = include_str!("../../../static/mosquitto-secure.acl");

    #[test]
    fn the_secure_acl_grants_each_service_exactly_the_topics_it_uses() {
        let lines = acl_lines(ACL);
        for service in ServiceId::ALL {
            let used = topics_used(service);
            let user = service.name();
            assert_eq!(
                granted(&lines, user, "write"),
                used.publish,
                "{user} publishes"
            );
            assert_eq!(
                granted(&lines, user, "read"),
                used.subscribe,
                "{user} subscribes"
            );
        }
        assert_eq!(
            granted(&lines, WATCHER, "read"),
            BTreeSet::from(["#".to_owned()])
        );
        assert_eq!(granted(&lines, WATCHER, "write"), BTreeSet::new());
        let users: BTreeSet<&str> = lines.iter().map(|(u, _, _)| u.as_str()).collect();
        let expected: BTreeSet<&str> = ServiceId::ALL
            .iter()
            .map(|s| s.name())
            .chain([WATCHER])
            .collect();
        assert_eq!(users, expected, "no other user, no pattern for everyone");
    }

    #[test]
    fn the_demonstrated_publish_is_outside_the_acl_and_only_order_service_may_make_it() {
        let lines = acl_lines(ACL);
        let (service, topic) = OUTSIDE_ACL;
        let may = |user: &str| {
            granted(&lines, user, "write")
                .iter()
                .any(|f| matches(f, topic))
        };
        assert!(!may(service.name()));
        assert!(may(ServiceId::Order.name()));
        // The families a service fills in are one level deep, as the real topics are.
        let order = uuid::Uuid::nil();
        assert!(topics_used(ServiceId::Order)
            .publish
            .iter()
            .any(|f| matches(f, &crate::store::topic(order))));
        assert!(topics_used(ServiceId::Inventory)
            .publish
            .iter()
            .any(|f| matches(f, &super::super::stock_levels::stock_topic("P001"))));
    }

    #[test]
    fn a_shared_subscription_counts_as_its_filter() {
        let payment = topics_used(ServiceId::Payment);
        assert!(payment.subscribe.contains(topics::ORDERS_CREATED));
        assert!(payment.subscribe.iter().all(|f| !f.starts_with("$share")));
        assert!(payment.publish.contains("services/payment-3/status"));
    }

    #[test]
    fn a_retried_dead_letter_goes_out_as_its_publisher() {
        assert_eq!(publisher_of(topics::ORDERS_CREATED), Some(ServiceId::Order));
        assert_eq!(
            publisher_of(topics::PAYMENTS_PROCESSED),
            Some(ServiceId::Payment)
        );
        assert_eq!(
            publisher_of(topics::INVENTORY_RESERVED),
            Some(ServiceId::Inventory)
        );
        assert_eq!(
            publisher_of(topics::COMMAND_CHARGE_PAYMENT),
            Some(ServiceId::Order)
        );
        assert_eq!(
            publisher_of("eventstore/orders/o-1"),
            Some(ServiceId::Order)
        );
        assert_eq!(publisher_of("telemetry/x"), None);
    }
}
