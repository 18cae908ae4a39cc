//! One packet as the sequence diagram and the packet inspector need it: the columns of the
//! inspector's table read once from the decoded packet, and the packet and its bytes behind
//! `Rc`s so the history can hold thousands and the view can clone them freely.

use std::rc::Rc;
use std::time::Duration;

use broker_bridge::packet::ConnectReturnCode;
use broker_bridge::{
    Direction, Packet, PacketEvent, PacketKind, ProtocolVersion, QoS, ReasonCode, SkippedPayload,
};
use uuid::Uuid;

use crate::config::CORRELATION_PROPERTY;
use crate::domain::events::{order_id_in_payload, DomainEvent};
use crate::domain::namespace::Namespace;
use crate::services::ServiceId;

/// Whose client saw a packet: one of the services' (each instance its own client), or the page's
/// **status monitor**, its sixth client (`eda-<session>-monitor`). The monitor subscribes to
/// `services/+/status` and `inventory/stock/+`, so a service's Last Will (the broker's PUBLISH
/// of its offline status, MQTT 3.1.1 §3.1.2.5, 5.0 §3.1.2.5) and the retained stock levels reach
/// the page through it; its packets are traced like the services', on a lifeline of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Participant {
    Service(ServiceId),
    /// The status monitor.
    Monitor,
}

impl Participant {
    /// The service's name, or `Status monitor`.
    pub fn name(self) -> &'static str {
        match self {
            Participant::Service(service) => service.name(),
            Participant::Monitor => "Status monitor",
        }
    }

    /// The service's slug, or `monitor` (the end of the monitor's client id): recordings and
    /// test selectors.
    pub fn slug(self) -> &'static str {
        match self {
            Participant::Service(service) => service.slug(),
            Participant::Monitor => "monitor",
        }
    }

    /// The service, if it is one.
    pub fn service(self) -> Option<ServiceId> {
        match self {
            Participant::Service(service) => Some(service),
            Participant::Monitor => None,
        }
    }

    /// The participant a recording names by `slug` ([`Self::slug`]).
    pub fn from_slug(slug: &str) -> Option<Participant> {
        if slug == "monitor" {
            return Some(Participant::Monitor);
        }
        ServiceId::ALL
            .into_iter()
            .find(|s| s.slug() == slug)
            .map(Participant::Service)
    }
}

impl From<ServiceId> for Participant {
    fn from(service: ServiceId) -> Participant {
        Participant::Service(service)
    }
}

impl PartialEq<ServiceId> for Participant {
    fn eq(&self, service: &ServiceId) -> bool {
        *self == Participant::Service(*service)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TracedPacket {
    /// Its place in the whole trace, counted from 0; never reused, even after the history
    /// drops it.
    pub seq: u64,
    /// The page's monotonic clock when the packet was sent or decoded.
    pub at: Duration,
    /// Whose client saw the packet: a service's, or the status monitor's.
    pub participant: Participant,
    pub client_id: String,
    pub direction: Direction,
    pub kind: PacketKind,
    pub packet_id: Option<u16>,
    /// A PUBLISH's topic as the flow names it: the topic namespace (`?ns=`)
    /// taken off, what every view classifies by. A topic outside the namespace is kept whole.
    /// The topic on the wire is [`Self::wire_topic`].
    pub topic: Option<String>,
    pub qos: Option<QoS>,
    pub dup: bool,
    pub retain: bool,
    /// On the wire, fixed header included.
    pub size: usize,
    /// The order the packet belongs to, when the packet itself says so: the order of the flow
    /// message it carries, the order whose stream an event-store topic names
    /// (`eventstore/orders/<orderId>`, namespace taken off), else a payload's `orderId`, else
    /// its correlation property (see [`order_id_of`]). An acknowledgement has none of its own: the
    /// views take its PUBLISH's ([`super::sequence::packet_orders`]).
    pub order_id: Option<Uuid>,
    /// A refusal or other result that is not plain success, in words and named as the
    /// packet's protocol version names it: "Not authorized (0x87)" in 5.0, "Connection Refused,
    /// bad user name or password (4)" for a 3.1.1 CONNACK (§3.2.2.3).
    pub reason: Option<String>,
    /// The protocol version its client speaks, in which [`Self::bytes`] are encoded.
    pub protocol: ProtocolVersion,
    /// A PUBLISH over the page's size limit, its payload skipped unread
    /// ([`PacketEvent::skipped`]): [`Self::size`] is then the whole packet's on the wire, and
    /// [`Self::bytes`] the PUBLISH without its payload.
    pub skipped: Option<SkippedPayload>,
    /// A PUBLISH whose topic and payload are a message of the flow, decoded (once, here).
    pub message: Option<Rc<DomainEvent>>,
    pub bytes: Rc<[u8]>,
    pub packet: Rc<Packet>,
}

impl TracedPacket {
    /// The instance whose client sent or received it: `PaymentService 2` for a packet of
    /// `eda-…-payment-2`, its service's name otherwise (a client id not of this page's form
    /// included). Competing consumers share a lifeline; the views name the instance so the
    /// broker's choice of one per message can be seen (a break-test, 37-U F3, found every
    /// instance's packets named "PaymentService").
    pub fn instance_name(&self) -> String {
        self.instance()
            .map_or_else(|| self.participant.name().to_owned(), |i| i.name())
    }

    /// The further instance (number 2 and up) whose client it is; `None` for the first
    /// instance and for any other client id.
    pub fn further_instance(&self) -> Option<crate::services::instances::Instance> {
        self.instance().filter(|i| i.number > 1)
    }

    fn instance(&self) -> Option<crate::services::instances::Instance> {
        let label = crate::services::instances::client_label(&self.client_id);
        crate::services::instances::Instance::from_slug(label)
            .filter(|i| self.participant == i.service)
    }

    /// A packet of a page without a topic namespace.
    pub fn from_event(
        seq: u64,
        participant: impl Into<Participant>,
        event: &PacketEvent,
    ) -> TracedPacket {
        Self::from_event_in(seq, participant, event, &Namespace::none())
    }

    /// The packet as the views and recordings keep it. A CONNECT's user name and password
    /// are replaced by `*`s ([`Connect::redacted`](broker_bridge::packet::Connect::redacted)),
    /// in the packet and in its bytes, whoever made the event: the trace, and every recording,
    /// OTLP export and inspector made from it, never holds a credential.
    ///
    /// Its topic travels under `namespace`: its [`Self::topic`] and its message are
    /// read with the namespace taken off. A PUBLISH outside the namespace is no message of the
    /// flow.
    pub fn from_event_in(
        seq: u64,
        participant: impl Into<Participant>,
        event: &PacketEvent,
        namespace: &Namespace,
    ) -> TracedPacket {
        let redacted;
        let event = match &event.packet {
            Packet::Connect(c) if c.has_credentials() => {
                let hidden = Packet::Connect(c.redacted());
                // A CONNECT is encoded in the version it names; the same length as the original.
                redacted = PacketEvent {
                    bytes: hidden.encode(c.protocol).unwrap_or_default(),
                    packet: hidden,
                    ..event.clone()
                };
                &redacted
            }
            _ => event,
        };
        let packet = &event.packet;
        let wire = event.topic();
        let flow_topic = wire.and_then(|t| namespace.strip(t));
        let message = match (packet, flow_topic) {
            (Packet::Publish(p), Some(topic)) => {
                DomainEvent::decode(topic, &p.payload).ok().map(Rc::new)
            }
            _ => None,
        };
        let (dup, retain) = event.publish_flags().unwrap_or((false, false));
        TracedPacket {
            seq,
            at: event.at,
            participant: participant.into(),
            client_id: event.client_id.clone(),
            direction: event.direction,
            kind: packet.kind(),
            packet_id: packet.packet_id(),
            topic: flow_topic.or(wire).map(str::to_owned),
            qos: event.qos(),
            dup,
            retain,
            size: event
                .skipped
                .map_or(event.bytes.len(), |skipped| skipped.size),
            // What the message itself says first: the correlation property is the publisher's
            // word beside it (a newcomer's break-test drew order B's orders/created under order
            // A, whose id its correlationId carried, as the services did not).
            order_id: match &message {
                Some(m) => Some(m.order_id()),
                None => flow_topic
                    .and_then(crate::store::stream_of_topic)
                    .or_else(|| order_id_of(packet)),
            },
            reason: match event.skipped {
                Some(skipped) => Some(skipped_text(skipped)),
                None => reason_of(packet, event.protocol),
            },
            protocol: event.protocol,
            skipped: event.skipped,
            bytes: event.bytes.as_slice().into(),
            packet: Rc::new(packet.clone()),
            message,
        }
    }

    /// A PUBLISH's topic exactly as it went over the wire, namespace and all (the packet
    /// inspector's); `None` for every other packet.
    pub fn wire_topic(&self) -> Option<&str> {
        match self.packet.as_ref() {
            Packet::Publish(p) => Some(&p.topic),
            _ => None,
        }
    }

    /// What the packet means for an order's saga, for the diagrams to mark it.
    pub fn mark(&self) -> Option<Mark> {
        if self.kind == PacketKind::Publish
            && self
                .topic
                .as_deref()
                .is_some_and(|t| t.starts_with("deadletter/"))
        {
            return Some(Mark::Failure);
        }
        let message = self.message.as_deref()?;
        if message.is_failure() {
            Some(Mark::Failure)
        } else if message.is_compensation() {
            Some(Mark::Compensation)
        } else {
            None
        }
    }

    /// The bytes in lowercase hex, separated by spaces, 16 to a line.
    pub fn hex(&self) -> String {
        self.bytes
            .chunks(16)
            .map(|line| {
                line.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A PUBLISH's payload for a person: JSON indented two spaces a level ([`indented`]: its
    /// keys in their order on the wire, its numbers and escapes as sent), otherwise the text
    /// with invalid UTF-8 replaced. `None` for every other packet.
    pub fn payload_text(&self) -> Option<String> {
        let Packet::Publish(publish) = self.packet.as_ref() else {
            return None;
        };
        let json = serde_json::from_slice::<serde::de::IgnoredAny>(&publish.payload).is_ok();
        let text = String::from_utf8_lossy(&publish.payload);
        Some(if json {
            indented(&text)
        } else {
            text.into_owned()
        })
    }

    /// The PUBLISH header flags in words, e.g. "DUP QoS 1 RETAIN"; empty for other packets,
    /// whose flags are fixed by the specification.
    pub fn flags(&self) -> String {
        let Some(qos) = self.qos else {
            return String::new();
        };
        let mut words = Vec::with_capacity(3);
        if self.dup {
            words.push("DUP".to_owned());
        }
        words.push(format!("QoS {}", qos.level()));
        if self.retain {
            words.push("RETAIN".to_owned());
        }
        words.join(" ")
    }

    /// The decoded fields for the inspector, as (name, value) in the packet's own order.
    pub fn fields(&self) -> Vec<(String, String)> {
        super::fields::fields(&self.packet, self.protocol, self.skipped)
    }
}

/// The order a packet carries: the `orderId` of a PUBLISH payload that is a JSON object, else
/// the MQTT 5.0 user property [`CORRELATION_PROPERTY`] when it holds a UUID (an
/// acknowledgement's, or beside a payload without an order). Anything else, however
/// malformed, is simply no order.
pub fn order_id_of(packet: &Packet) -> Option<Uuid> {
    match packet {
        Packet::Publish(publish) => order_id_in_payload(&publish.payload),
        _ => None,
    }
    .or_else(|| correlation_of(packet))
}

/// The MQTT 5.0 user property [`CORRELATION_PROPERTY`], when it holds a UUID.
fn correlation_of(packet: &Packet) -> Option<Uuid> {
    packet
        .properties()
        .and_then(|p| p.user_property(CORRELATION_PROPERTY))
        .and_then(|value| value.trim().parse().ok())
}

/// What a packet means for an order's saga, marked in colour **and** a symbol in the diagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A step failed (`"success": false`) or the order was cancelled.
    Failure,
    /// A compensation: a release or refund, or the command for one.
    Compensation,
}

impl Mark {
    /// For CSS classes and `data-mark`: `failure` or `compensation`.
    pub fn word(self) -> &'static str {
        match self {
            Mark::Failure => "failure",
            Mark::Compensation => "compensation",
        }
    }

    /// Shape as well as colour: `✕` for a failure, `↺` for a compensation.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Failure => "✕",
            Mark::Compensation => "↺",
        }
    }
}

/// "skipped unread: 348 KB, more than this page's 256 KiB limit" for a PUBLISH over the limit.
pub(super) fn skipped_text(skipped: SkippedPayload) -> String {
    let (size, limit) = broker_bridge::codec::over_limit(skipped.size, skipped.max);
    format!("skipped unread: {size}, more than this page's {limit} limit")
}

/// What a person should notice about an answer: a single reason code other than Success, a
/// refused subscription, an unsubscribe that was not plain success; in `protocol`'s words (a
/// 3.1.1 CONNACK carries a return code, 4, not 5.0's reason code 0x86: a newcomer's
/// break-test, 41-AJ F6).
fn reason_of(packet: &Packet, protocol: ProtocolVersion) -> Option<String> {
    let words: Vec<String> = match packet {
        Packet::SubAck(suback) => suback
            .return_codes
            .iter()
            .filter(|code| code.is_failure())
            .map(|code| code.describe_in(protocol))
            .collect(),
        Packet::ConnAck(connack) if protocol != ProtocolVersion::V5 => {
            ConnectReturnCode::from_reason(connack.code)
                .filter(|code| *code != ConnectReturnCode::Accepted)
                .map(|code| format!("{} ({})", code.name(), code as u8))
                .into_iter()
                .collect()
        }
        Packet::UnsubAck(unsuback) => unsuback
            .reasons
            .iter()
            .filter(|code| **code != ReasonCode::Success)
            .map(ToString::to_string)
            .collect(),
        _ => packet
            .reason_code()
            .filter(|code| *code != ReasonCode::Success)
            .map(|code| code.to_string())
            .into_iter()
            .collect(),
    };
    (!words.is_empty()).then(|| words.join(", "))
}

/// Valid JSON `text` laid out as `serde_json::to_string_pretty` would (two spaces a level,
/// `"key": value`, empty `{}` and `[]` kept on one line), but token for token as written: the
/// keys in their order (the wire contract's field order, which a map would sort: a newcomer's
/// break-test), numbers and escapes as sent. White space between tokens is dropped first.
pub fn indented(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                if let Some(&close) = chars.peek().filter(|&&n| n == '}' || n == ']') {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::seed;
    use crate::trace::script::{event, event_for};
    use broker_bridge::packet::{Ack, ConnAck, SubAck, SubscribeReturnCode};
    use broker_bridge::{ProtocolVersion, Publish};

    fn publish(payload: &[u8]) -> Publish {
        Publish::new("orders/created", payload.to_vec(), QoS::AtMostOnce)
    }

    fn traced(packet: Packet) -> TracedPacket {
        let version = ProtocolVersion::V5;
        TracedPacket::from_event(
            0,
            ServiceId::Order,
            &event(0, Direction::Outgoing, packet, version),
        )
    }

    fn seed_order() -> Uuid {
        seed::ORDER_ID.parse().unwrap()
    }

    #[test]
    fn columns_come_from_the_packet_and_its_bytes() {
        let mut p = publish(seed::ORDER_CREATED.as_bytes());
        p.qos = QoS::AtLeastOnce;
        p.packet_id = Some(3);
        p.dup = true;
        p.retain = true;
        let packet = Packet::Publish(p);
        let size = packet.encode(ProtocolVersion::V5).unwrap().len();
        let t = TracedPacket::from_event(
            7,
            ServiceId::Payment,
            &event_for(
                ServiceId::Payment,
                12,
                Direction::Incoming,
                packet,
                ProtocolVersion::V5,
            ),
        );
        assert_eq!(
            (
                t.seq,
                t.at,
                t.participant,
                t.client_id.as_str(),
                t.direction
            ),
            (
                7,
                Duration::from_millis(12),
                Participant::Service(ServiceId::Payment),
                "eda-test-payment",
                Direction::Incoming
            )
        );
        assert_eq!(
            (t.kind, t.packet_id, t.topic.as_deref(), t.qos),
            (
                PacketKind::Publish,
                Some(3),
                Some("orders/created"),
                Some(QoS::AtLeastOnce)
            )
        );
        assert_eq!(
            (t.size, t.bytes.len(), t.order_id),
            (size, size, Some(seed_order()))
        );
        assert_eq!(t.flags(), "DUP QoS 1 RETAIN");
        assert_eq!(t.reason, None);
    }

    #[test]
    fn order_id_from_the_payload_first_then_the_correlation_property() {
        let other: Uuid = "7bc21a45-8923-4671-a1ed-3d874e22bfa2".parse().unwrap();
        let mut p = publish(seed::ORDER_CREATED.as_bytes());
        p.properties = p
            .properties
            .with_user_property(CORRELATION_PROPERTY, other.to_string());
        assert_eq!(
            traced(Packet::Publish(p)).order_id,
            Some(seed_order()),
            "the message's own order, not the publisher's property beside it"
        );

        let mut p = publish(b"not json");
        p.properties = p
            .properties
            .with_user_property(CORRELATION_PROPERTY, other.to_string());
        assert_eq!(
            traced(Packet::Publish(p)).order_id,
            Some(other),
            "property alone"
        );

        let mut p = publish(seed::ORDER_CREATED.as_bytes());
        p.properties = p
            .properties
            .with_user_property(CORRELATION_PROPERTY, "not a uuid");
        assert_eq!(
            traced(Packet::Publish(p)).order_id,
            Some(seed_order()),
            "bad property"
        );

        let mut ack = Ack::new(4);
        ack.properties = ack
            .properties
            .with_user_property(CORRELATION_PROPERTY, other.to_string());
        assert_eq!(traced(Packet::PubAck(ack)).order_id, Some(other));
    }

    #[test]
    fn garbage_payloads_have_no_order_and_do_not_panic() {
        let deep = "[".repeat(100_000);
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"not json".to_vec(),
            vec![0xff, 0xfe, 0x00, 0xc3, 0x28],
            br#"["3fa85f64-5717-4562-b3fc-2c963f66afa6"]"#.to_vec(),
            br#"{"orderId":42}"#.to_vec(),
            br#"{"orderId":"nope"}"#.to_vec(),
            br#"{"orderId":null}"#.to_vec(),
            br#"{"order":{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}}"#.to_vec(),
            br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6""#.to_vec(),
            b"null".to_vec(),
            deep.into_bytes(),
        ];
        for payload in cases {
            let t = traced(Packet::Publish(publish(&payload)));
            assert_eq!(t.order_id, None, "{:?}", String::from_utf8_lossy(&payload));
            assert!(t.payload_text().is_some());
        }
        // And arbitrary bytes, from a fixed-seed xorshift so a failure reproduces.
        let alphabet = b"{}[]\":,orderId 0123456789abcdef-\xff";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..500 {
            let payload: Vec<u8> = (0..round % 64)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let t = traced(Packet::Publish(publish(&payload)));
            assert_eq!(t.order_id, None);
            let _ = (t.payload_text(), t.fields(), t.hex());
        }
    }

    /// An event-store message names its order in its topic (`eventstore/orders/<orderId>`),
    /// not in an `orderId` field: the sequence diagram's order filter, the flow's dots and the
    /// OTLP export of one order count it (a tester found 4 of them drawn under "All orders" and
    /// none under the order's own filter).
    #[test]
    fn an_event_store_message_belongs_to_the_order_its_topic_names() {
        let order = seed_order();
        let stored = br#"{"position":1,"stream":"3fa85f64-5717-4562-b3fc-2c963f66afa6","version":1,"type":"OrderCreated","schema":3,"recordedAt":"2024-01-15T10:30:00.000Z","data":{}}"#;
        let topic = crate::store::topic(order);
        let p = Publish::new(topic.as_str(), stored.to_vec(), QoS::AtMostOnce);
        assert_eq!(traced(Packet::Publish(p)).order_id, Some(order));
        // Under a topic namespace, read with the namespace taken off.
        let ns = Namespace::parse("class-a").unwrap();
        let p = Publish::new(ns.wire(&topic), b"not json".to_vec(), QoS::AtMostOnce);
        let event = event(
            0,
            Direction::Incoming,
            Packet::Publish(p),
            ProtocolVersion::V5,
        );
        let t = TracedPacket::from_event_in(0, ServiceId::Query, &event, &ns);
        assert_eq!(t.order_id, Some(order));
        // A topic that only looks like one names no order.
        for topic in [
            "eventstore/orders/o-1",
            "eventstore/orders/",
            "x/eventstore/orders/1",
        ] {
            let p = Publish::new(topic, b"{}".to_vec(), QoS::AtMostOnce);
            assert_eq!(traced(Packet::Publish(p)).order_id, None, "{topic}");
        }
    }

    #[test]
    fn payload_is_pretty_json_or_lossy_text() {
        let t = traced(Packet::Publish(publish(br#"{"a":[1,2]}"#)));
        assert_eq!(
            t.payload_text().unwrap(),
            "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
        );
        // As on the wire: the keys' order, numbers and escapes; white space laid out anew.
        let wire =
            br#"{"position":4,"stream":"x","data":{},"list":[ ],"n":1.50,"s":"a\"{,:}\u00e9"}"#;
        assert_eq!(
            traced(Packet::Publish(publish(wire)))
                .payload_text()
                .unwrap(),
            "{\n  \"position\": 4,\n  \"stream\": \"x\",\n  \"data\": {},\n  \"list\": [],\n  \
             \"n\": 1.50,\n  \"s\": \"a\\\"{,:}\\u00e9\"\n}"
        );
        let hand = b"{ \"b\" : [ 1 , { \"c\" : null } ] ,\n \"a\" : true }";
        assert_eq!(
            traced(Packet::Publish(publish(hand)))
                .payload_text()
                .unwrap(),
            "{\n  \"b\": [\n    1,\n    {\n      \"c\": null\n    }\n  ],\n  \"a\": true\n}"
        );
        assert_eq!(
            traced(Packet::Publish(publish(b"{\"a\":")))
                .payload_text()
                .unwrap(),
            "{\"a\":",
            "not JSON: as text"
        );
        let t = traced(Packet::Publish(publish(b"caf\xc3\xa9 \xff")));
        assert_eq!(t.payload_text().unwrap(), "café \u{fffd}");
        assert_eq!(traced(Packet::PingReq).payload_text(), None);
    }

    #[test]
    fn indented_lays_out_json_as_serde_json_pretty_does() {
        let values = [
            serde_json::json!({"orderId": "x", "items": [{"productId": "P001", "quantity": 2, "price": 29.99}], "totalAmount": 59.98}),
            serde_json::json!([[], {}, [1, [2, []]], {"a": {"b": {}}}, "\"]\\", -0.5, null, false]),
            serde_json::json!("plain"),
            serde_json::json!(7),
        ];
        for value in values {
            let compact = serde_json::to_string(&value).unwrap();
            assert_eq!(
                indented(&compact),
                serde_json::to_string_pretty(&value).unwrap(),
                "{compact}"
            );
        }
    }

    #[test]
    fn hex_is_lowercase_sixteen_to_a_line() {
        let t = traced(Packet::Publish(publish(b"0123456789")));
        let bytes = Packet::Publish(publish(b"0123456789"))
            .encode(ProtocolVersion::V5)
            .unwrap();
        assert_eq!(bytes.len(), 29);
        let hex = t.hex();
        let lines: Vec<&str> = hex.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "30 1b 00 0e 6f 72 64 65 72 73 2f 63 72 65 61 74");
        assert_eq!(lines[1], "65 64 00 30 31 32 33 34 35 36 37 38 39");
        assert_eq!(traced(Packet::PingReq).hex(), "c0 00");
    }

    #[test]
    fn flags_only_for_publish() {
        assert_eq!(traced(Packet::Publish(publish(b""))).flags(), "QoS 0");
        assert_eq!(traced(Packet::PubAck(Ack::new(1))).flags(), "");
    }

    #[test]
    fn reasons_only_when_not_plain_success() {
        let table = [
            (Packet::PubAck(Ack::new(1)), None),
            (
                Packet::PubAck(Ack::with_reason(1, ReasonCode::QuotaExceeded)),
                Some("Quota exceeded (0x97)"),
            ),
            (
                Packet::PubAck(Ack::with_reason(1, ReasonCode::NoMatchingSubscribers)),
                Some("No matching subscribers (0x10)"),
            ),
            (
                Packet::ConnAck(ConnAck::new(false, ReasonCode::NotAuthorized)),
                Some("Not authorized (0x87)"),
            ),
            (
                Packet::SubAck(SubAck::new(
                    1,
                    vec![
                        SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                        SubscribeReturnCode::Refused(ReasonCode::NotAuthorized),
                    ],
                )),
                Some("Not authorized (0x87)"),
            ),
            (Packet::PingResp, None),
        ];
        for (packet, expected) in table {
            let kind = packet.kind();
            assert_eq!(traced(packet).reason.as_deref(), expected, "{kind}");
        }
    }

    /// A 3.1.1 answer's reason is its return code, named as 3.1.1 names it (41-AJ F6: the
    /// packet inspector showed a refused 3.1.1 CONNACK as "Bad User Name or Password (0x86)").
    #[test]
    fn reasons_in_3_1_1_are_its_return_codes() {
        let v311 = |packet: Packet| {
            let event = event(0, Direction::Incoming, packet, ProtocolVersion::V311);
            TracedPacket::from_event(0, ServiceId::Order, &event).reason
        };
        assert_eq!(
            v311(Packet::ConnAck(ConnAck::new(
                false,
                ReasonCode::BadUserNameOrPassword
            )))
            .as_deref(),
            Some("Connection Refused, bad user name or password (4)")
        );
        assert_eq!(
            v311(Packet::ConnAck(ConnAck::new(false, ReasonCode::Success))),
            None
        );
        assert_eq!(
            v311(Packet::SubAck(SubAck::new(
                1,
                vec![SubscribeReturnCode::Failure]
            )))
            .as_deref(),
            Some("Failure (0x80)")
        );
    }
}
