//! Competing consumers: PaymentService may run as up to three **instances**, each its own MQTT
//! client (`eda-<tag>-payment`, `eda-<tag>-payment-2`, `eda-<tag>-payment-3`), sharing its work
//! through a shared subscription: the broker gives each message to one member of the group.
//!
//! The instances share PaymentService's memory ([`super::Flow`]'s `payment`, as a real
//! deployment would share a database), so every one of its topics can be shared: whichever
//! instance receives an order charges it, whichever receives its cancellation refunds it (the
//! charge is in the shared memory), and each message is handled once by the group. With one
//! instance nothing changes: plain subscriptions, as always. `docs/decisions/0009` says why.
//!
//! ```
//! use eda_core::services::instances::{filters, Instance};
//! use eda_core::services::{SagaStyle, ServiceId};
//!
//! let second = Instance::new(ServiceId::Payment, 2);
//! assert_eq!(second.client_id("a1b2c3"), "eda-a1b2c3-payment-2");
//! assert_eq!(
//!     filters(ServiceId::Payment, SagaStyle::Orchestration, 2, "a1b2c3"),
//!     ["$share/eda-a1b2c3-payment/commands/payment/charge", "$share/eda-a1b2c3-payment/commands/payment/refund"]
//! );
//! assert_eq!(filters(ServiceId::Payment, SagaStyle::Orchestration, 1, "a1b2c3"), ["commands/payment/charge", "commands/payment/refund"]);
//! ```

use std::fmt;

use super::{SagaStyle, ServiceId};

/// The most instances PaymentService may run (`?payment_instances=`).
pub const MAX_INSTANCES: u8 = 3;

/// The services whose work may be shared by several instances.
pub fn may_compete(service: ServiceId) -> bool {
    service == ServiceId::Payment
}

/// One MQTT client of a service. Instance 1 is the service as it always was (its client id,
/// its status topic); PaymentService may also run instances 2 and 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Instance {
    pub service: ServiceId,
    /// 1, 2 or 3.
    pub number: u8,
}

impl From<ServiceId> for Instance {
    /// The service's first (or only) instance.
    fn from(service: ServiceId) -> Self {
        Instance { service, number: 1 }
    }
}

impl Instance {
    /// Instance `number` of `service`.
    pub fn new(service: ServiceId, number: u8) -> Self {
        Instance { service, number }
    }

    /// Every instance of the four services when PaymentService runs `payment_instances` (1 to
    /// [`MAX_INSTANCES`]): the four services first, then PaymentService's further instances.
    pub fn all(payment_instances: u8) -> Vec<Instance> {
        let extra = (2..=payment_instances.clamp(1, MAX_INSTANCES))
            .map(|n| Instance::new(ServiceId::Payment, n));
        ServiceId::ALL
            .into_iter()
            .map(Instance::from)
            .chain(extra)
            .collect()
    }

    /// `payment`, `payment-2`: the end of its client id, its status topic's level and the
    /// page's test selectors.
    pub fn slug(self) -> String {
        match self.number {
            1 => self.service.slug().to_owned(),
            n => format!("{}-{n}", self.service.slug()),
        }
    }

    /// `PaymentService`, `PaymentService 2`.
    pub fn name(self) -> String {
        match self.number {
            1 => self.service.name().to_owned(),
            n => format!("{} {n}", self.service.name()),
        }
    }

    /// `eda-<session_tag>-<slug>`, e.g. `eda-3f9a1c-payment-2`.
    pub fn client_id(self, session_tag: &str) -> String {
        format!("eda-{session_tag}-{}", self.slug())
    }

    /// The instance whose slug is `slug` (`payment-2`); `None` for anything else, and for a
    /// further instance of a service that has none.
    pub fn from_slug(slug: &str) -> Option<Instance> {
        let (service, number) = match slug.rsplit_once('-') {
            Some((service, n)) if !n.starts_with('0') => (service, n.parse::<u8>().ok()?),
            _ => (slug, 1),
        };
        let service = ServiceId::ALL.into_iter().find(|s| s.slug() == service)?;
        let instance = Instance::new(service, number);
        let valid = number == 1 || (may_compete(service) && (2..=MAX_INSTANCES).contains(&number));
        // `payment-1` is not a slug: the first instance is plain `payment`.
        (valid && instance.slug() == slug).then_some(instance)
    }
}

impl fmt::Display for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The part of one of this page's client ids that names the service or instance: `payment-2`
/// from `eda-3f9a1c-payment-2`. Any other client id is returned whole.
pub fn client_label(client_id: &str) -> &str {
    let Some((tag, label)) = client_id
        .strip_prefix("eda-")
        .and_then(|rest| rest.split_once('-'))
    else {
        return client_id;
    };
    let ours = !tag.is_empty()
        && tag.chars().all(|c| c.is_ascii_hexdigit())
        && Instance::from_slug(label).is_some();
    if ours {
        label
    } else {
        client_id
    }
}

/// The shared subscription's group of `service` in the page whose client ids carry
/// `session_tag`: `eda-<tag>-payment`. One group per page, because the memory the instances
/// share is the page's, and because Mosquitto keeps giving a share of the messages to a member
/// whose persistent session outlives its page.
pub fn share_group(service: ServiceId, session_tag: &str) -> String {
    format!("eda-{session_tag}-{}", service.slug())
}

/// The filters each instance of `service` subscribes to under `style` when `instances` of it
/// run: with one, its topics as always; with more, each of them through the group's shared
/// subscription `$share/<group>/<topic>`, so each message goes to one instance.
pub fn filters(
    service: ServiceId,
    style: SagaStyle,
    instances: u8,
    session_tag: &str,
) -> Vec<String> {
    let topics = service.subscriptions(style).iter();
    if instances > 1 && may_compete(service) {
        let group = share_group(service, session_tag);
        topics.map(|t| format!("$share/{group}/{t}")).collect()
    } else {
        topics.map(|t| (*t).to_owned()).collect()
    }
}

/// The flow's filters a kept session of `service` may still hold from an earlier page of this tab
/// (the same client id: another coordination style, another number of instances) that
/// `wanted` leaves out, each once: what to UNSUBSCRIBE when the broker answers with Session
/// Present (MQTT 3.1.1 §3.2.2.2: the session, subscriptions included, is the one it kept), so
/// that no message of another style keeps arriving, to be refused as one the service does not
/// subscribe to.
pub fn stale_filters(service: ServiceId, wanted: &[String], session_tag: &str) -> Vec<String> {
    let mut stale: Vec<String> = Vec::new();
    for style in SagaStyle::ALL {
        // One instance subscribes to the topics; any more to the group's shares of them.
        for instances in [1, MAX_INSTANCES] {
            for filter in filters(service, style, instances, session_tag) {
                if !wanted.contains(&filter) && !stale.contains(&filter) {
                    stale.push(filter);
                }
            }
        }
    }
    stale
}

/// PaymentService's further instances whose sessions a page of this tab may have left on the
/// broker, and that a page running `running` instances does not run: numbers `running + 1` to
/// `ran`, where `ran` is the most instances a page of this tab ran since such sessions were last
/// ended (both clamped to 1 to [`MAX_INSTANCES`]); empty when `ran <= running`.
///
/// Such a session outlives its instance when the instance was crashed as the count was
/// lowered, or when a reload left it behind (no DISCONNECT, no UNSUBSCRIBE): it keeps its place
/// in the shared subscription's group, and Mosquitto queues a share of every later message for
/// it, to deliver it again when an instance of that number comes back. A page ends each one
/// with a CONNECT with Clean Session 1 (MQTT 3.1.1 §3.1.2.4; Clean Start with Session Expiry 0
/// on 5.0, §3.1.2.4 and §3.1.2.11.2) and a DISCONNECT; what the broker had queued for it goes
/// with the session: Mosquitto gives it to no other member (MQTT 5.0 §4.8.2 says a server SHOULD
/// for QoS 1, MUST NOT for QoS 2).
///
/// ```
/// use eda_core::services::instances::{sessions_left_behind, Instance};
/// use eda_core::services::ServiceId;
///
/// assert_eq!(sessions_left_behind(3, 1), [Instance::new(ServiceId::Payment, 2), Instance::new(ServiceId::Payment, 3)]);
/// assert!(sessions_left_behind(2, 2).is_empty());
/// ```
pub fn sessions_left_behind(ran: u8, running: u8) -> Vec<Instance> {
    let running = running.clamp(1, MAX_INSTANCES);
    (running + 1..=ran.min(MAX_INSTANCES))
        .map(|n| Instance::new(ServiceId::Payment, n))
        .collect()
}

/// A whole number of instances from 1 to [`MAX_INSTANCES`], the value of
/// `?payment_instances=`.
pub fn parse_instances(text: &str) -> Result<u8, String> {
    match super::settings::whole_number::<u8>(text).ok_or(()) {
        Ok(n) if (1..=MAX_INSTANCES).contains(&n) => Ok(n),
        _ => Err(format!(
            "{text:?} is not a number of instances: use 1 to {MAX_INSTANCES}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sessions_left_behind_are_the_instances_above_those_running() {
        let payment = |n| Instance::new(ServiceId::Payment, n);
        assert_eq!(sessions_left_behind(3, 2), [payment(3)]);
        assert_eq!(sessions_left_behind(2, 1), [payment(2)]);
        // Never the first instance (it always runs), nor a fourth.
        assert!(sessions_left_behind(1, 1).is_empty());
        assert!(sessions_left_behind(0, 1).is_empty());
        assert_eq!(sessions_left_behind(9, 0), [payment(2), payment(3)]);
        assert!(sessions_left_behind(1, 3).is_empty());
    }

    #[test]
    fn a_kept_session_s_filters_of_another_style_or_instance_count_are_stale() {
        // A break-test: a reload into orchestration with persistent sessions, and PaymentService
        // went on receiving orders/cancelled from the parallel style's kept subscription, each
        // refused in red as "does not subscribe".
        let wanted = filters(ServiceId::Payment, SagaStyle::Orchestration, 1, "t");
        let stale = stale_filters(ServiceId::Payment, &wanted, "t");
        for filter in [
            "orders/created",
            "orders/cancelled",
            "$share/eda-t-payment/orders/created",
        ] {
            assert!(stale.contains(&filter.to_owned()), "{filter} in {stale:?}");
        }
        assert!(wanted.iter().all(|f| !stale.contains(f)), "{stale:?}");
        let mut unique = stale.clone();
        unique.dedup();
        assert_eq!(unique.len(), stale.len());
        // NotificationService follows the same topics in every style: nothing is stale.
        let notification = filters(ServiceId::Notification, SagaStyle::Parallel, 1, "t");
        assert_eq!(
            stale_filters(ServiceId::Notification, &notification, "t"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn one_instance_subscribes_as_always_and_more_share_every_topic_of_payment_s() {
        for style in SagaStyle::ALL {
            for service in ServiceId::ALL {
                let plain: Vec<String> = service
                    .subscriptions(style)
                    .iter()
                    .map(|t| (*t).to_owned())
                    .collect();
                assert_eq!(filters(service, style, 1, "t"), plain, "{service} {style}");
                let shared = filters(service, style, 3, "t");
                if service == ServiceId::Payment {
                    let expected: Vec<String> = plain
                        .iter()
                        .map(|t| format!("$share/eda-t-payment/{t}"))
                        .collect();
                    assert_eq!(shared, expected, "{style}");
                    for filter in &shared {
                        assert!(broker_bridge::topic::validate_filter(filter).is_ok());
                    }
                } else {
                    assert_eq!(shared, plain, "{service} never shares");
                }
            }
        }
    }

    #[test]
    fn instances_are_named_and_read_back_from_their_slug() {
        let all = Instance::all(3);
        assert_eq!(all.len(), 7);
        for instance in &all {
            assert_eq!(Instance::from_slug(&instance.slug()), Some(*instance));
        }
        assert_eq!(Instance::all(1), ServiceId::ALL.map(Instance::from));
        assert_eq!(Instance::all(0).len(), 5, "at least one of each");
        assert_eq!(Instance::all(9).len(), 7, "at most three");
        let second = Instance::new(ServiceId::Payment, 2);
        assert_eq!(
            (second.slug(), second.name(), second.client_id("ab")),
            (
                "payment-2".to_owned(),
                "PaymentService 2".to_owned(),
                "eda-ab-payment-2".to_owned()
            )
        );
        assert_eq!(
            Instance::from(ServiceId::Order).client_id("ab"),
            "eda-ab-order"
        );
        for bad in [
            "order-2",
            "payment-4",
            "payment-0",
            "payment-1",
            "payment-02",
            "payment-",
            "x",
            "",
        ] {
            assert_eq!(Instance::from_slug(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_client_id_of_the_page_is_labelled_by_its_instance() {
        assert_eq!(client_label("eda-3f9a1c-payment-2"), "payment-2");
        assert_eq!(client_label("eda-3f9a1c-order"), "order");
        for other in [
            "e2e-witness-1",
            "eda-xyz-payment",
            "eda--payment",
            "eda-ab-shop",
            "eda-ab",
        ] {
            assert_eq!(client_label(other), other);
        }
    }

    #[test]
    fn the_number_of_instances_is_one_to_three() {
        assert_eq!(parse_instances(" 2 "), Ok(2));
        for bad in ["0", "4", "two", "-1", ""] {
            assert!(
                parse_instances(bad).unwrap_err().contains("1 to 3"),
                "{bad}"
            );
        }
    }
}
