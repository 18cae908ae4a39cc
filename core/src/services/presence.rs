//! Whether each service is up, as the broker tells it: every service connects with a **Last
//! Will** on `services/<service>/status` (retained, QoS 1) saying it is offline, and publishes
//! a retained "online" there once connected. If its connection ends without DISCONNECT (a
//! crash), the broker publishes the Will; anyone subscribed to `services/+/status`, or joining
//! later, learns of it from the broker. PaymentService's further instances each have their own
//! (`services/payment-2/status`), so one instance's Will never speaks for another.
//!
//! ```
//! use eda_core::services::presence::{status_topic, Presence};
//! use eda_core::services::ServiceId;
//!
//! let will = Presence::will(ServiceId::Payment, "eda-a1b2c3-payment");
//! assert_eq!(status_topic(ServiceId::Payment), "services/payment/status");
//! let read = Presence::decode(&status_topic(ServiceId::Payment), &will.to_json()).unwrap();
//! assert_eq!(read.0.service, ServiceId::Payment);
//! assert!(!read.1.is_online());
//! ```

pub mod relay;
pub mod watch;

use serde::{Deserialize, Serialize};

use super::instances::Instance;
use super::ServiceId;
use crate::domain::Timestamp;

/// The filter that follows every service's status.
pub const STATUS_FILTER: &str = "services/+/status";

/// The topic of a service's (or one instance's) status: `services/<slug>/status`, e.g.
/// `services/payment/status`, `services/payment-2/status`.
pub fn status_topic(instance: impl Into<Instance>) -> String {
    format!("services/{}/status", instance.into().slug())
}

/// What the Will says: the connection ended without the service saying goodbye.
pub const WILL_REASON: &str =
    "the connection ended without DISCONNECT: the broker published this Last Will";

/// A service's status message (retained on its status topic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    /// The service's name, e.g. `PaymentService`.
    pub service: String,
    /// `online` or `offline`.
    pub status: String,
    /// Why it is offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The MQTT client id of the connection the status is about.
    pub client_id: String,
    /// When it came online (absent from a Will, which is written before anything happens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

impl Presence {
    /// The Last Will `service` connects with: offline, because its connection ended without
    /// DISCONNECT.
    pub fn will(service: ServiceId, client_id: &str) -> Presence {
        Presence {
            service: service.name().to_owned(),
            status: "offline".to_owned(),
            reason: Some(WILL_REASON.to_owned()),
            client_id: client_id.to_owned(),
            since: None,
        }
    }

    /// What `service` publishes once connected, at `now`.
    pub fn online(service: ServiceId, client_id: &str, now: Timestamp) -> Presence {
        Presence {
            service: service.name().to_owned(),
            status: "online".to_owned(),
            reason: None,
            client_id: client_id.to_owned(),
            since: Some(now),
        }
    }

    /// What `service` publishes before it leaves on purpose (its DISCONNECT discards the Will).
    pub fn stopped(service: ServiceId, client_id: &str) -> Presence {
        Presence {
            service: service.name().to_owned(),
            status: "offline".to_owned(),
            reason: Some("stopped on purpose (DISCONNECT)".to_owned()),
            client_id: client_id.to_owned(),
            since: None,
        }
    }

    /// What `service` publishes on the broker it leaves for another (the learner's *Connect*
    /// to another broker, or `inpage`): its DISCONNECT there discards the Will, and an online
    /// status left retained would tell every other page on that broker that its services still
    /// consume there (a newcomer's break-test: "every order is processed twice" for a page
    /// long gone).
    pub fn moved(service: ServiceId, client_id: &str) -> Presence {
        Presence {
            reason: Some("left for another broker (DISCONNECT)".to_owned()),
            ..Presence::stopped(service, client_id)
        }
    }

    /// Whether the status says online.
    pub fn is_online(&self) -> bool {
        self.status == "online"
    }

    /// The payload: compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a presence always serializes to JSON")
    }

    /// The service (or instance) and its status, from a message on `topic`; `None` for
    /// anything else (a topic outside `services/+/status`, or a payload that is not a status).
    /// An empty payload (a cleared retained status) is `None` too.
    pub fn decode(topic: &str, payload: &[u8]) -> Option<(Instance, Presence)> {
        let slug = topic.strip_prefix("services/")?.strip_suffix("/status")?;
        let instance = Instance::from_slug(slug)?;
        let presence: Presence = serde_json::from_slice(payload).ok()?;
        matches!(presence.status.as_str(), "online" | "offline").then_some((instance, presence))
    }
}

/// What came on the status topic of an instance, read as the wire contract says or not: the
/// status monitor hears anyone's retained message there, the learner's `mosquitto_pub` too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A status of the contract's shape naming the topic's own service.
    Status(Presence),
    /// An empty message: the broker's retained status was cleared (MQTT 3.1.1 §3.3.1.3).
    Cleared,
    /// A status (`online`, `offline`, …) without a `clientId`: it is no connection's word.
    WithoutClientId {
        /// Its `status` field.
        status: String,
    },
    /// A status naming another service than the topic's (e.g. OrderService on
    /// `services/payment/status`).
    OtherService {
        /// The service it names.
        named: String,
    },
    /// Anything else (not JSON, another shape, a status neither `online` nor `offline`): its
    /// text, cut to [`SHOWN_CHARS`] characters.
    Unreadable(String),
    /// A message over the page's size limit, skipped unread (3.1.1: no way to announce the
    /// limit; [`broker_bridge::codec::OversizedPublish`]): `size` bytes, the whole PUBLISH. No
    /// status is that large; retained, a late subscriber would read it (a newcomer's
    /// break-test, 35-M F6: a 300 KB retained status stayed for good, and nothing said so).
    TooLarge {
        /// The PUBLISH's size in bytes.
        size: usize,
    },
}

/// How many characters of an unreadable message a note quotes.
pub const SHOWN_CHARS: usize = 80;

/// `payload` as text for a note: lossy UTF-8, cut to [`SHOWN_CHARS`] characters (`…` after).
pub fn shown_text(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    let mut shown: String = text.chars().take(SHOWN_CHARS).collect();
    if text.chars().count() > SHOWN_CHARS {
        shown.push('…');
    }
    shown
}

impl Heard {
    /// The instance whose status topic `topic` is, and what `payload` says there; `None` for a
    /// topic outside `services/+/status` or naming no instance the page knows.
    pub fn read(topic: &str, payload: &[u8]) -> Option<(Instance, Heard)> {
        let slug = topic.strip_prefix("services/")?.strip_suffix("/status")?;
        let instance = Instance::from_slug(slug)?;
        if payload.is_empty() {
            return Some((instance, Heard::Cleared));
        }
        let own_name = instance.service.name();
        if let Some((_, presence)) = Presence::decode(topic, payload) {
            let heard = if presence.service == own_name {
                Heard::Status(presence)
            } else {
                Heard::OtherService {
                    named: presence.service,
                }
            };
            return Some((instance, heard));
        }
        let value: Option<serde_json::Value> = serde_json::from_slice(payload).ok();
        let field = |name: &str| {
            value
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let heard = match (field("service"), field("status"), field("clientId")) {
            (Some(named), Some(_), _) if named != own_name => Heard::OtherService { named },
            (Some(_), Some(status), None) => Heard::WithoutClientId { status },
            _ => Heard::Unreadable(shown_text(payload)),
        };
        Some((instance, heard))
    }
}

/// The log line of a service whose broker answered its CONNECT again with Session Present 0,
/// though it connected with Clean Session 0 (`?session=persistent`, the default) and had
/// subscribed on that broker before (MQTT 3.1.1 §3.2.2.2, 5.0 §3.2.2.1.1): the broker no
/// longer has its session, so what was published for it while it was away, and its
/// subscriptions, are gone; the page subscribes again. A broker restarted without persistence
/// (as this project's Mosquitto configs are) forgets every session. A newcomer's break-test
/// saw a charge on the wire, "✓ charged" for 20 s, then "payment timed out", with no word of the
/// lost session.
pub fn session_lost_note(instance: &str) -> String {
    format!(
        "the broker answered {instance}'s CONNECT with Session Present 0: it no longer has \
         {instance}'s session (kept across connections, Clean Session 0), so what was published \
         for it while it was away is lost, and so is what comes before its new SUBSCRIBE: it \
         subscribes again. A broker restarted without persistence forgets every session (Mosquitto keeps \
         them with persistence true), and one with persistence that was killed comes back with \
         its last save, without the sessions made since (Mosquitto saves every \
         autosave_interval seconds, and on a clean stop); an answer lost so runs out its saga's \
         deadline, and an orders/confirmed lost so leaves InventoryService's reservation held \
         (the Stock panel counts it)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn will_online_and_stopped_read_back_from_their_topic() {
        let now = Timestamp::parse("2024-01-15T10:30:00.000Z").unwrap();
        for service in ServiceId::ALL {
            let topic = status_topic(service);
            for presence in [
                Presence::will(service, "id"),
                Presence::online(service, "id", now),
                Presence::stopped(service, "id"),
                Presence::moved(service, "id"),
            ] {
                assert_eq!(
                    Presence::decode(&topic, &presence.to_json()),
                    Some((service.into(), presence))
                );
            }
        }
        let json =
            String::from_utf8(Presence::online(ServiceId::Order, "c", now).to_json()).unwrap();
        assert_eq!(
            json,
            r#"{"service":"OrderService","status":"online","clientId":"c","since":"2024-01-15T10:30:00.000Z"}"#
        );
    }

    #[test]
    fn the_wire_contract_s_examples_read_and_write_back_byte_for_byte() {
        let compact = |pretty: &str| -> String {
            // Whitespace outside strings only: the Will's reason has spaces.
            let (mut out, mut in_string) = (String::new(), false);
            for c in pretty.chars() {
                if c == '"' {
                    in_string = !in_string;
                }
                if in_string || !c.is_whitespace() {
                    out.push(c);
                }
            }
            out
        };
        for (text, online) in [
            (
                include_str!("../../../docs/wire-contract/service-online.json"),
                true,
            ),
            (
                include_str!("../../../docs/wire-contract/service-will.json"),
                false,
            ),
        ] {
            let (service, presence) =
                Presence::decode("services/payment/status", text.as_bytes()).unwrap();
            assert_eq!(
                (service, presence.is_online()),
                (ServiceId::Payment.into(), online)
            );
            assert_eq!(
                String::from_utf8(presence.to_json()).unwrap(),
                compact(text)
            );
        }
        let will = Presence::will(ServiceId::Payment, "eda-3f9a1c-payment");
        let example = include_str!("../../../docs/wire-contract/service-will.json");
        assert_eq!(String::from_utf8(will.to_json()).unwrap(), compact(example));
    }

    #[test]
    fn an_instance_of_payment_service_has_its_own_status_topic() {
        let second = Instance::new(ServiceId::Payment, 2);
        assert_eq!(status_topic(second), "services/payment-2/status");
        let will = Presence::will(ServiceId::Payment, "eda-ab-payment-2").to_json();
        let (instance, presence) = Presence::decode("services/payment-2/status", &will).unwrap();
        assert_eq!(instance, second);
        assert_eq!(presence.client_id, "eda-ab-payment-2");
        assert_eq!(Presence::decode("services/order-2/status", &will), None);
    }

    #[test]
    fn anything_else_is_not_a_status() {
        let good = Presence::will(ServiceId::Order, "c").to_json();
        assert_eq!(Presence::decode("services/unknown/status", &good), None);
        assert_eq!(Presence::decode("services/order/health", &good), None);
        assert_eq!(
            Presence::decode("services/order/status", b""),
            None,
            "a cleared retained status"
        );
        assert_eq!(
            Presence::decode(
                "services/order/status",
                b"{\"status\":\"maybe\",\"service\":\"x\",\"clientId\":\"c\"}"
            ),
            None
        );
    }

    #[test]
    fn whatever_comes_on_a_status_topic_is_read_in_words() {
        let topic = "services/payment/status";
        let read = |payload: &[u8]| Heard::read(topic, payload).map(|(_, heard)| heard);
        let will = Presence::will(ServiceId::Payment, "eda-ab-payment");
        assert_eq!(read(&will.to_json()), Some(Heard::Status(will)));
        assert_eq!(read(b""), Some(Heard::Cleared));
        assert_eq!(
            read(b"not json"),
            Some(Heard::Unreadable("not json".into()))
        );
        assert_eq!(
            read(br#"{"service":"PaymentService","status":"offline"}"#),
            Some(Heard::WithoutClientId {
                status: "offline".into()
            })
        );
        let order = Presence::online(
            ServiceId::Order,
            "eda-ab-order",
            Timestamp::parse("2024-01-15T10:30:00.000Z").unwrap(),
        );
        assert_eq!(
            read(&order.to_json()),
            Some(Heard::OtherService {
                named: "OrderService".into()
            })
        );
        assert_eq!(
            read(br#"{"service":"OrderService","status":"offline"}"#),
            Some(Heard::OtherService {
                named: "OrderService".into()
            })
        );
        assert_eq!(
            read(br#"{"service":"PaymentService","status":"maybe","clientId":"c"}"#),
            Some(Heard::Unreadable(
                r#"{"service":"PaymentService","status":"maybe","clientId":"c"}"#.into()
            ))
        );
        let long = "x".repeat(200);
        assert_eq!(
            read(long.as_bytes()),
            Some(Heard::Unreadable(format!("{}…", "x".repeat(SHOWN_CHARS))))
        );
        assert_eq!(Heard::read("services/unknown/status", b"x"), None);
        assert_eq!(Heard::read("orders/created", b"x"), None);
    }
}
