//! The packets an order's trace is made of: its PUBLISHes (a dead letter by the order of the
//! message it carries), their acknowledgements matched by client and packet id, and each
//! packet as a span event.

use std::collections::HashMap;

use broker_bridge::{Direction, Packet, PacketKind};
use uuid::Uuid;

use super::span::{Attributes, SpanEvent, Value};
use crate::domain::events::order_id_in_payload;
use crate::services::dead_letter::DeadLetter;
use crate::store::stream_of_topic;
use crate::trace::packet::TracedPacket;
use crate::trace::PacketHistory;

/// The order a PUBLISH belongs to: the packet's own (an event-store message's is the stream
/// its topic names), or for a dead letter the order of the message it carries: the stream of
/// its `eventstore/orders/<orderId>` topic, else its payload's `orderId`.
pub(crate) fn order_of(packet: &TracedPacket) -> Option<Uuid> {
    // The status monitor handles no order: its packets make no span.
    if packet.kind != PacketKind::Publish || packet.participant.service().is_none() {
        return None;
    }
    packet.order_id.or_else(|| {
        let Packet::Publish(publish) = packet.packet.as_ref() else {
            return None;
        };
        let (_, letter) = DeadLetter::decode(packet.topic.as_deref()?, &publish.payload)?;
        stream_of_topic(&letter.topic).or_else(|| order_id_in_payload(letter.payload.as_bytes()))
    })
}

/// Every acknowledgement in the history, by client and packet id, oldest first.
pub(crate) struct Acks<'a>(HashMap<(&'a str, u16), Vec<&'a TracedPacket>>);

impl<'a> Acks<'a> {
    pub(crate) fn new(history: &'a PacketHistory) -> Acks<'a> {
        let mut index: HashMap<_, Vec<_>> = HashMap::new();
        for packet in history.iter() {
            let is_ack = matches!(
                packet.kind,
                PacketKind::PubAck | PacketKind::PubRec | PacketKind::PubRel | PacketKind::PubComp
            );
            if let (true, Some(id)) = (is_ack, packet.packet_id) {
                index
                    .entry((packet.client_id.as_str(), id))
                    .or_default()
                    .push(packet);
            }
        }
        Acks(index)
    }

    /// The acknowledgements of `publish`: the first PUBACK back; or the first PUBREC back, the
    /// PUBREL after it, the PUBCOMP after that. The packet id is not reused before they are
    /// through (MQTT 3.1.1 §2.3.1), so the first ones after the PUBLISH are its own.
    pub(super) fn of(&self, publish: &TracedPacket) -> Vec<&'a TracedPacket> {
        let Some(id) = publish.packet_id else {
            return Vec::new();
        };
        let Some(candidates) = self.0.get(&(publish.client_id.as_str(), id)) else {
            return Vec::new();
        };
        let back = match publish.direction {
            Direction::Outgoing => Direction::Incoming,
            Direction::Incoming => Direction::Outgoing,
        };
        let steps: &[(PacketKind, Direction)] = match publish.qos.map(|q| q.level()) {
            Some(1) => &[(PacketKind::PubAck, back)],
            Some(2) => &[
                (PacketKind::PubRec, back),
                (PacketKind::PubRel, publish.direction),
                (PacketKind::PubComp, back),
            ],
            _ => &[],
        };
        let mut found = Vec::new();
        let mut after = publish.seq;
        for (kind, direction) in steps {
            let next = candidates
                .iter()
                .find(|p| p.seq > after && p.kind == *kind && p.direction == *direction);
            match next {
                Some(p) => {
                    after = p.seq;
                    found.push(*p);
                }
                None => break,
            }
        }
        found
    }
}

pub(super) fn payload(packet: &TracedPacket) -> &[u8] {
    match packet.packet.as_ref() {
        Packet::Publish(publish) => &publish.payload,
        _ => &[],
    }
}

/// A message as the broker routes it: its topic and payload.
pub(super) type MessageKey<'a> = (&'a str, &'a [u8]);

pub(super) fn key(packet: &TracedPacket) -> MessageKey<'_> {
    (packet.topic.as_deref().unwrap_or_default(), payload(packet))
}

/// The event of one packet.
pub(super) fn packet_event(packet: &TracedPacket) -> SpanEvent {
    let verb = match packet.direction {
        Direction::Outgoing => "sent",
        Direction::Incoming => "received",
    };
    let mut attributes: Attributes = vec![("eda.packet.seq", Value::Int(int(packet.seq)))];
    // The destination as the broker knew it, topic namespace and all.
    if let Some(topic) = packet.wire_topic() {
        attributes.push(("messaging.destination.name", Value::Text(topic.to_owned())));
    }
    if let Some(id) = packet.packet_id {
        attributes.push(("eda.mqtt.packet_id", Value::Int(id.into())));
    }
    if let Some(qos) = packet.qos {
        attributes.push(("eda.mqtt.qos", Value::Int(qos.level().into())));
    }
    if packet.dup {
        attributes.push(("eda.mqtt.dup", Value::Bool(true)));
    }
    if packet.retain {
        attributes.push(("eda.mqtt.retain", Value::Bool(true)));
    }
    attributes.push(("eda.packet.size", Value::Int(int(packet.size as u64))));
    if let Some(message) = packet.message.as_deref() {
        attributes.push(("eda.message.type", Value::Text(message.name().to_owned())));
    }
    SpanEvent {
        at: packet.at,
        name: format!("{} {verb}", packet.kind),
        attributes,
    }
}

pub(super) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
