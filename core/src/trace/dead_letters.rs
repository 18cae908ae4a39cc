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

/// What the Dead letters panel says under a dead letter whose order has ended since, as the
/// Orders panel (`orders`) shows it: the order no longer waits for it, and a Retry would only
/// send the message again (a break-test, 37-U F5: a poison order fixed and completed left its
/// three other dead letters listed with nothing to say they were done with). `None` while its
/// order is open, unknown to the page, or not named by the message.
pub fn order_ended_note(letter: &DeadLetter, orders: &super::orders::OrderBook) -> Option<String> {
    let order_id = crate::domain::events::order_id_in_payload(letter.payload.as_bytes())?;
    let row = orders.row(order_id)?;
    row.status.is_terminal().then(|| {
        let id = order_id.to_string();
        format!(
            "Its order {}… has ended since ({}, as the Orders panel shows): it no longer waits \
             for this message, and a Retry would only deliver it again. Discard it once you \
             have looked at it.",
            &id[..8],
            row.status
        )
    })
}

/// The dead letters a page keeps ([`KeptDeadLetter`]), in the order given (the state keeps
/// them oldest first), each id once, with an index of their ids: a flood of junk keeps
/// thousands (3,000 junk messages on `orders/created` make 12,000), and checking each new one
/// against the whole list cost the page a time that grew as the square of their number. Reads
/// as a slice of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptDeadLetters {
    letters: Vec<KeptDeadLetter>,
    ids: std::collections::HashSet<String>,
}

impl KeptDeadLetters {
    /// Whether one with `id` is kept.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Adds `kept` at the end, unless one with its id is kept already. Returns whether it was
    /// added.
    pub fn push(&mut self, kept: KeptDeadLetter) -> bool {
        let added = self.ids.insert(kept.id.clone());
        if added {
            self.letters.push(kept);
        }
        added
    }

    /// Adds those of `letters` whose id is not kept yet, then orders the whole list by when
    /// their services gave up ([`DeadLetter::failed_at`]; stable: letters of the same
    /// millisecond keep their order).
    pub fn merge_by_failure(&mut self, letters: Vec<KeptDeadLetter>) {
        for kept in letters {
            self.push(kept);
        }
        self.letters.sort_by_key(|d| d.letter.failed_at);
    }

    /// The kept one at `at` (an index into the slice), to change in place; its id stays.
    pub fn get_mut(&mut self, at: usize) -> Option<&mut KeptDeadLetter> {
        self.letters.get_mut(at)
    }

    /// Drops the one with `id`. Returns whether one was kept.
    pub fn remove(&mut self, id: &str) -> bool {
        let removed = self.ids.remove(id);
        if removed {
            self.letters.retain(|d| d.id != id);
        }
        removed
    }
}

impl std::ops::Deref for KeptDeadLetters {
    type Target = [KeptDeadLetter];

    fn deref(&self) -> &[KeptDeadLetter] {
        &self.letters
    }
}

impl FromIterator<KeptDeadLetter> for KeptDeadLetters {
    /// Each id once: a later one of an id already taken is dropped.
    fn from_iter<I: IntoIterator<Item = KeptDeadLetter>>(iter: I) -> Self {
        let mut kept = KeptDeadLetters::default();
        for letter in iter {
            kept.push(letter);
        }
        kept
    }
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
    /// The broker refused its PUBLISH on `deadletter/<service>` (an MQTT 5.0 PUBACK or PUBREC
    /// with a reason code of 0x80 or more, §3.4.2.1, e.g. 0x87 Not authorized from an access
    /// rule), in the session's words: no other client received it, and this list holds the
    /// only copy (a newcomer's break-test, 39-AA F2: the panel listed it like the others).
    /// Under MQTT 3.1.1 a broker drops such a message without a word, and this stays `None`.
    pub refused: Option<String>,
}

impl KeptDeadLetter {
    /// The text stored for it: the dead letter's JSON, as published; one not published yet
    /// ([`KeptDeadLetter::unpublished`]) is stored as `{"unpublished":<that JSON>}`, one the
    /// broker refused ([`KeptDeadLetter::refused`]) as `{"refused":"<why>","letter":<that
    /// JSON>}`.
    pub fn to_stored(&self) -> String {
        let json = String::from_utf8_lossy(&self.letter.to_json()).into_owned();
        match (&self.refused, self.unpublished) {
            (Some(why), _) => format!(
                "{{\"refused\":{},\"letter\":{json}}}",
                serde_json::Value::String(why.clone())
            ),
            (None, true) => format!("{{\"unpublished\":{json}}}"),
            (None, false) => json,
        }
    }

    /// The dead letter stored under `id` as `json` ([`KeptDeadLetter::to_stored`]); `None` if
    /// it is not a dead letter of one of the services (another version of the page wrote it).
    pub fn from_stored(id: &str, json: &str) -> Option<KeptDeadLetter> {
        #[derive(serde::Deserialize)]
        struct Unpublished {
            unpublished: DeadLetter,
        }
        #[derive(serde::Deserialize)]
        struct Refused {
            refused: String,
            letter: DeadLetter,
        }
        let (letter, unpublished, refused) = match serde_json::from_str::<DeadLetter>(json) {
            Ok(letter) => (letter, false, None),
            Err(_) => match serde_json::from_str::<Refused>(json) {
                Ok(Refused { refused, letter }) => (letter, false, Some(refused)),
                Err(_) => (
                    serde_json::from_str::<Unpublished>(json).ok()?.unpublished,
                    true,
                    None,
                ),
            },
        };
        let service = ServiceId::ALL
            .into_iter()
            .find(|s| s.name() == letter.service)?;
        Some(KeptDeadLetter {
            id: id.to_owned(),
            service,
            letter,
            unpublished,
            refused,
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

    // A break-test (37-U F5): a poison order fixed and completed left its other dead letters
    // listed with nothing to say they were done with.
    #[test]
    fn a_dead_letter_whose_order_has_ended_says_so() {
        use crate::domain::events::DomainEvent;
        let letter: DeadLetter = serde_json::from_str(include_str!(
            "../../../docs/wire-contract/deadletter-payment.json"
        ))
        .unwrap();
        let order_id = crate::domain::events::order_id_in_payload(letter.payload.as_bytes())
            .expect("the poison order's id");
        let mut orders = super::super::orders::OrderBook::new(10);
        let at = Duration::from_millis;
        let created = include_str!("../../../docs/wire-contract/order-created.json").replace(
            "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            &order_id.to_string(),
        );
        let confirmed = include_str!("../../../docs/wire-contract/order-confirmed.json").replace(
            "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            &order_id.to_string(),
        );
        let event = |topic, json: &str| DomainEvent::decode(topic, json.as_bytes()).unwrap();
        orders.apply(at(1), &event("orders/created", &created));
        assert_eq!(
            order_ended_note(&letter, &orders),
            None,
            "open: still waiting"
        );
        orders.apply(at(2), &event("orders/confirmed", &confirmed));
        let note = order_ended_note(&letter, &orders).unwrap();
        assert!(
            note.starts_with(&format!(
                "Its order {}… has ended since (Completed, as the Orders panel shows)",
                &order_id.to_string()[..8]
            )),
            "{note}"
        );
        let not_json = DeadLetter {
            payload: "not json".into(),
            ..letter.clone()
        };
        assert_eq!(order_ended_note(&not_json, &orders), None);
        assert_eq!(
            order_ended_note(&letter, &super::super::orders::OrderBook::new(10)),
            None
        );
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
            refused: None,
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
        // One the broker refused reads back with the broker's words (quotes and all).
        let refused = KeptDeadLetter {
            refused: Some("the broker refused the message: Not authorized (0x87) \"x\"".into()),
            ..kept.clone()
        };
        assert!(refused
            .to_stored()
            .starts_with("{\"refused\":\"the broker refused"));
        assert_eq!(
            KeptDeadLetter::from_stored("0b8f", &refused.to_stored()),
            Some(refused)
        );
        assert_eq!(KeptDeadLetter::from_stored("0b8f", "not json"), None);
        let unknown = kept
            .to_stored()
            .replace("NotificationService", "MailService");
        assert_eq!(KeptDeadLetter::from_stored("0b8f", &unknown), None);
    }
}
