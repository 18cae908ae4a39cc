//! The Dead letters panel's model: every dead letter a service published, read off the traced
//! packets (what `mosquitto_sub -t 'deadletter/+'` shows), less those the learner has retried
//! or discarded.

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
}
