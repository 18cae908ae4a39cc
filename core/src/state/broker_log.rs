//! Event-log lines for what the broker did to a service's client, beside its messages: a
//! message too large to take in, a broker fault the client worked around.

use broker_bridge::codec::{over_limit, OversizedPublish};
use broker_bridge::{BrokerFault, QoS};

use super::{LogEntry, Outcome};
use crate::outside_text::isolate;

impl LogEntry {
    /// A message skipped for its size (MQTT 3.1.1), as a rejected entry on its topic: "a
    /// message of 348 KB on orders/created exceeds this page's 256 KiB limit; …". `at` is the
    /// wall-clock time of day.
    pub fn too_large(at: String, skipped: &OversizedPublish) -> LogEntry {
        let answer = match skipped.qos {
            QoS::AtMostOnce => "",
            _ => ", and acknowledged so the broker does not send it again",
        };
        let (size, limit) = over_limit(skipped.size, skipped.max);
        LogEntry {
            at,
            topic: skipped.topic.clone(),
            qos: Some(skipped.qos),
            correlation: None,
            payload: String::new(),
            outcome: Outcome::Rejected(format!(
                "a message of {size} on {} exceeds this page's {limit} limit; skipped \
                 unread{answer}",
                isolate(&skipped.topic),
            )),
        }
    }

    /// A message of ours sent at `sent`, the broker's maximum QoS, instead of `asked` (MQTT 5.0
    /// §3.2.2.3.4, or the maximum an MQTT 3.1.1 session learned): it went, so the entry is
    /// [`Outcome::Lowered`], not a failure. `why` says how the maximum is known; `at` is the
    /// wall-clock time of day.
    pub fn qos_lowered(at: String, topic: &str, asked: QoS, sent: QoS, why: &str) -> LogEntry {
        LogEntry {
            at,
            topic: topic.to_owned(),
            qos: Some(sent),
            correlation: None,
            payload: String::new(),
            outcome: Outcome::Lowered(format!(
                "sent at QoS {}, the broker's maximum, instead of the QoS {} asked: {why}",
                sent.level(),
                asked.level()
            )),
        }
    }

    /// A fault of the broker the client worked around, as a failed entry on `connect`.
    pub fn broker_fault(at: String, fault: &BrokerFault) -> LogEntry {
        LogEntry {
            at,
            topic: "connect".into(),
            qos: None,
            correlation: None,
            payload: String::new(),
            outcome: Outcome::Failed(fault.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_sent_below_the_qos_asked_is_logged_as_lowered_not_failed() {
        let why = "this broker grants at most QoS 1: …";
        let entry = LogEntry::qos_lowered(
            String::new(),
            "orders/created",
            QoS::ExactlyOnce,
            QoS::AtLeastOnce,
            why,
        );
        assert_eq!(entry.qos, Some(QoS::AtLeastOnce));
        assert_eq!(
            entry.outcome,
            Outcome::Lowered(
                "sent at QoS 1, the broker's maximum, instead of the QoS 2 asked: this broker \
                 grants at most QoS 1: …"
                    .into()
            )
        );
    }

    #[test]
    fn a_skipped_message_says_its_size_topic_and_our_limit() {
        let skipped = OversizedPublish {
            topic: "orders/created".into(),
            qos: QoS::AtLeastOnce,
            packet_id: Some(3),
            dup: false,
            retain: true,
            size: 348_022,
            max: 256 * 1024,
        };
        let entry = LogEntry::too_large("10:30:00.000".into(), &skipped);
        assert_eq!(entry.topic, "orders/created");
        assert_eq!(entry.qos, Some(QoS::AtLeastOnce));
        assert_eq!(
            entry.outcome,
            Outcome::Rejected(
                "a message of 348 KB on orders/created exceeds this page's 256 KiB limit; \
                 skipped unread, and acknowledged so the broker does not send it again"
                    .into()
            )
        );
        let at_most_once = OversizedPublish {
            qos: QoS::AtMostOnce,
            packet_id: None,
            ..skipped
        };
        let entry = LogEntry::too_large(String::new(), &at_most_once);
        assert!(matches!(entry.outcome, Outcome::Rejected(r) if r.ends_with("skipped unread")));
    }

    #[test]
    fn a_broker_fault_is_a_failed_connect_line() {
        let entry =
            LogEntry::broker_fault(String::new(), &BrokerFault::SessionPresentOnCleanSession);
        assert_eq!(entry.topic, "connect");
        assert!(
            matches!(&entry.outcome, Outcome::Failed(r) if r.starts_with("the broker claimed a session this client never had"))
        );
    }
}
