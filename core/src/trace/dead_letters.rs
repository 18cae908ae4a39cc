//! The Dead letters panel's model. Live, it is the list the page keeps ([`KeptDeadLetter`], in
//! [`crate::state::State::dead_letters`]): every dead letter this page's services published,
//! until the learner retries or discards it, across *Clear* and (in the browser's database) a
//! reload. A recording has no such list: its dead letters are read off its traced packets
//! ([`dead_letters`], what `mosquitto_sub -t 'deadletter/+'` showed).

use std::time::Duration;

use broker_bridge::{Direction, Packet};

use super::history::PacketHistory;
use crate::services::dead_letter::DeadLetter;
use crate::services::ServiceId;

/// One dead letter, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterSeen {
    /// The traced PUBLISH that carried it: the panel's key.
    pub seq: u64,
    /// When it was published, on the packets' clock.
    pub at: Duration,
    /// The service that gave up on the message.
    pub service: ServiceId,
    /// What it carries.
    pub letter: DeadLetter,
}

/// The dead letters the services published (each seen once, as it went out), oldest first,
/// except those in `handled`.
pub fn dead_letters(history: &PacketHistory, handled: &[u64]) -> Vec<DeadLetterSeen> {
    history
        .iter()
        .filter(|p| p.direction == Direction::Outgoing && !handled.contains(&p.seq))
        .filter_map(|p| {
            let Packet::Publish(publish) = p.packet.as_ref() else {
                return None;
            };
            let (service, letter) = DeadLetter::decode(p.topic.as_deref()?, &publish.payload)?;
            Some(DeadLetterSeen {
                seq: p.seq,
                at: p.at,
                service,
                letter,
            })
        })
        .collect()
}

/// A dead letter the page keeps listed until the learner retries or discards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptDeadLetter {
    /// Unique for the tab (a UUID as text, made when it was published): the panel's key, and
    /// the key of its row in the browser's database.
    pub id: String,
    /// The service that gave up on the message.
    pub service: ServiceId,
    /// What it carries, as published on `deadletter/<service>`.
    pub letter: DeadLetter,
    /// Its PUBLISH on `deadletter/<service>` has not been acknowledged by the broker yet (it
    /// may wait in the client's offline queue while the broker is away): a reload publishes it
    /// again (a newcomer's break-test: dead letters decided while the broker was down, then a
    /// reload, stayed listed and never reached the wire).
    pub unpublished: bool,
}

impl KeptDeadLetter {
    /// The text stored for it: the dead letter's JSON, as published; one not published yet
    /// ([`KeptDeadLetter::unpublished`]) is stored as `{"unpublished":<that JSON>}`.
    pub fn to_stored(&self) -> String {
        let json = String::from_utf8_lossy(&self.letter.to_json()).into_owned();
        if self.unpublished {
            format!("{{\"unpublished\":{json}}}")
        } else {
            json
        }
    }

    /// The dead letter stored under `id` as `json` ([`KeptDeadLetter::to_stored`]); `None` if
    /// it is not a dead letter of one of the services (another version of the page wrote it).
    pub fn from_stored(id: &str, json: &str) -> Option<KeptDeadLetter> {
        #[derive(serde::Deserialize)]
        struct Unpublished {
            unpublished: DeadLetter,
        }
        let (letter, unpublished) = match serde_json::from_str::<DeadLetter>(json) {
            Ok(letter) => (letter, false),
            Err(_) => (
                serde_json::from_str::<Unpublished>(json).ok()?.unpublished,
                true,
            ),
        };
        let service = ServiceId::ALL
            .into_iter()
            .find(|s| s.name() == letter.service)?;
        Some(KeptDeadLetter {
            id: id.to_owned(),
            service,
            letter,
            unpublished,
        })
    }
}

#[cfg(test)]
mod tests {
    use broker_bridge::packet::Publish;
    use broker_bridge::{ProtocolVersion, QoS};

    use super::*;
    use crate::domain::Timestamp;
    use crate::services::dead_letter::deadletter_topic;
    use crate::trace::script::Script;

    #[test]
    fn published_dead_letters_are_listed_and_handled_ones_left_out() {
        let mut script = Script::new(ProtocolVersion::V311);
        let letter = DeadLetter {
            service: "PaymentService".into(),
            topic: "orders/created".into(),
            payload: "not json".into(),
            payload_hex: None,
            reason: "payload is not JSON".into(),
            attempts: 1,
            failed_at: Timestamp::from_unix_millis(0).unwrap(),
        };
        let publish =
            |topic: String| Packet::Publish(Publish::new(topic, letter.to_json(), QoS::AtMostOnce));
        let first = script.send(
            ServiceId::Payment,
            Direction::Outgoing,
            publish(deadletter_topic(ServiceId::Payment)),
        );
        // The same letter delivered to a subscriber is not a second one.
        script.send(
            ServiceId::Order,
            Direction::Incoming,
            publish(deadletter_topic(ServiceId::Payment)),
        );
        let second = script.send(
            ServiceId::Inventory,
            Direction::Outgoing,
            publish(deadletter_topic(ServiceId::Inventory)),
        );
        let seen = dead_letters(&script.history, &[]);
        assert_eq!(
            seen.iter().map(|d| (d.seq, d.service)).collect::<Vec<_>>(),
            [(first, ServiceId::Payment), (second, ServiceId::Inventory)]
        );
        assert_eq!(seen[0].letter, letter);
        assert_eq!(dead_letters(&script.history, &[first]).len(), 1);
    }

    #[test]
    fn a_kept_dead_letter_reads_back_from_what_is_stored() {
        let kept = KeptDeadLetter {
            id: "0b8f".into(),
            service: ServiceId::Notification,
            letter: DeadLetter {
                service: "NotificationService".into(),
                topic: "orders/created".into(),
                payload: "{\"customerId\":\"POISON\"}".into(),
                payload_hex: None,
                reason: "poison".into(),
                attempts: 3,
                failed_at: Timestamp::from_unix_millis(1_000).unwrap(),
            },
            unpublished: false,
        };
        assert_eq!(
            KeptDeadLetter::from_stored("0b8f", &kept.to_stored()),
            Some(kept.clone())
        );
        // One whose PUBLISH the broker has not acknowledged reads back as such.
        let waiting = KeptDeadLetter {
            unpublished: true,
            ..kept.clone()
        };
        assert!(waiting.to_stored().starts_with("{\"unpublished\":{"));
        assert_eq!(
            KeptDeadLetter::from_stored("0b8f", &waiting.to_stored()),
            Some(waiting)
        );
        assert_eq!(KeptDeadLetter::from_stored("0b8f", "not json"), None);
        let unknown = kept
            .to_stored()
            .replace("NotificationService", "MailService");
        assert_eq!(KeptDeadLetter::from_stored("0b8f", &unknown), None);
    }
}
