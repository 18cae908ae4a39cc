//! One order's saga as spans, read off the traced packets alone: a root span for the saga, and
//! one span per service's handling of a message of the order. Clock-free: every time is on the
//! packets' clock; [`super::json`] puts them on the Unix clock.
//!
//! **Which packets.** Every PUBLISH whose order is this one (its MQTT 5.0 correlation property,
//! else its payload's `orderId`; a dead letter by the `orderId` of the message it carries), and
//! the acknowledgements of those PUBLISHes (PUBACK; PUBREC, PUBREL, PUBCOMP), matched by client
//! and packet id.
//!
//! **Which handling a publish belongs to.** The packets do not say what caused a publish, so it
//! is told from what the services do, in this order:
//! 1. the same message (topic and payload) published again by the same client (a resend, or a
//!    crashed client's session replayed on Restart) joins the span of its first sending;
//! 2. a publish within [`ONE_HANDLING`] of another of the same client for this order, with
//!    nothing delivered to that client in between, joins that one's span (one handler
//!    publishing two messages, e.g. a cancellation and the compensation commands);
//! 3. otherwise the latest delivery to that client whose message can cause it (a payment result
//!    from `orders/created`, a successful `inventory/reserved` or `commands/payment/charge`; a
//!    release from `orders/cancelled` or `commands/inventory/release`; `orders/confirmed` from a
//!    successful result, `orders/cancelled` from a failed one…); a second delivery of a message
//!    the client already had (a redelivery) causes nothing;
//! 4. otherwise it starts a span of its own: the order form's `orders/created`, the cancellation
//!    when a saga's deadline passes, anything published from a timer.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::{Direction, Packet, PacketKind};
use uuid::Uuid;

use super::OtlpError;
use crate::domain::events::DomainEvent;
use crate::domain::topics;
use crate::services::dead_letter::DeadLetter;
use crate::services::ServiceId;
use crate::trace::orders::{OrderBook, Start};
use crate::trace::packet::{order_id_in_payload, TracedPacket};
use crate::trace::PacketHistory;

/// How close two publishes of one client for one order must be, with no delivery between, to
/// count as one handling's: a handler publishes what it decided at once, while work that ends
/// later (a timer) is the simulated work's hundreds of milliseconds or a deadline's seconds
/// away.
pub const ONE_HANDLING: Duration = Duration::from_millis(10);

/// A trace id: 16 bytes, never all zero (OTLP `trace.proto`, `Span.trace_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceId(pub [u8; 16]);

impl TraceId {
    /// The order's UUID, its 16 bytes as they are: the trace id of an order's saga reads as its
    /// order id without the dashes. `None` for the nil UUID, which OTLP forbids.
    pub fn of_order(order_id: Uuid) -> Option<TraceId> {
        (!order_id.is_nil()).then(|| TraceId(*order_id.as_bytes()))
    }
}

/// A span id: 8 bytes, never all zero (OTLP `trace.proto`, `Span.span_id`).
///
/// Derived, not drawn: a handling span's id is its first packet's `seq` plus one, big-endian
/// (`0000000000000012` starts at packet 17); the root's is the order id's last 8 bytes with the
/// top bit set. A `seq` stays below 2^53 ([`crate::trace::recording::MAX_SEQ`]), so the two
/// never meet, and an export of the same packets always gives the same ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanId(pub [u8; 8]);

impl SpanId {
    fn of_packet(seq: u64) -> SpanId {
        SpanId(seq.saturating_add(1).to_be_bytes())
    }

    fn root(order_id: Uuid) -> SpanId {
        let low = order_id.as_u128() as u64;
        SpanId((low | 1 << 63).to_be_bytes())
    }
}

/// Lowercase hex, two digits a byte: how OTLP/JSON writes ids.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// What a span stands for, as OTLP's `Span.SpanKind` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// The saga itself (`SPAN_KIND_INTERNAL`, 1).
    Internal,
    /// A publish no delivery caused (`SPAN_KIND_PRODUCER`, 4).
    Producer,
    /// A service handling a delivered message (`SPAN_KIND_CONSUMER`, 5).
    Consumer,
}

impl SpanKind {
    /// The enum's number, as OTLP/JSON writes it.
    pub fn code(self) -> u8 {
        match self {
            SpanKind::Internal => 1,
            SpanKind::Producer => 4,
            SpanKind::Consumer => 5,
        }
    }
}

/// An attribute's value (OTLP `common.proto`, `AnyValue`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
    /// Only finite numbers are kept (JSON has no NaN).
    Double(f64),
    Texts(Vec<String>),
}

/// Attributes in the order they were set; keys are unique.
pub type Attributes = Vec<(&'static str, Value)>;

/// One packet in a span (OTLP `Span.Event`): when, what (`PUBLISH received`, `PUBACK sent`…),
/// and which packet (`eda.packet.seq`, `eda.mqtt.packet_id`, `messaging.destination.name`…).
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEvent {
    /// On the packets' clock.
    pub at: Duration,
    pub name: String,
    pub attributes: Attributes,
}

/// A link to the span, in the same trace, that published the message a span handled (OTLP
/// `Span.Link`; the messaging conventions' link from a consumer to its producer).
#[derive(Debug, Clone, PartialEq)]
pub struct SpanLink {
    pub span_id: SpanId,
    pub attributes: Attributes,
}

/// One span of a saga.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub span_id: SpanId,
    /// The root's id for every span but the root.
    pub parent: Option<SpanId>,
    /// `order saga`, `process <topic>` or `publish <topic>`.
    pub name: String,
    pub kind: SpanKind,
    /// Whose span it is: its resource's `service.name`.
    pub service: ServiceId,
    /// The MQTT client that saw its packets: its resource's `service.instance.id`.
    pub client_id: Option<String>,
    /// Its first packet, on the packets' clock.
    pub start: Duration,
    /// Its last packet (acknowledgements included); never before `start`.
    pub end: Duration,
    pub attributes: Attributes,
    /// Its packets, oldest first.
    pub events: Vec<SpanEvent>,
    pub links: Vec<SpanLink>,
    /// `Some(why)` makes its status ERROR: the saga was cancelled, or the handling published a
    /// failed result, a cancellation or a dead letter.
    pub error: Option<String>,
}

impl Span {
    /// The value of attribute `key`, if set.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

/// One order's saga: its trace id and spans, the root first, the others by start time.
#[derive(Debug, Clone, PartialEq)]
pub struct SagaTrace {
    pub order_id: Uuid,
    pub trace_id: TraceId,
    pub spans: Vec<Span>,
}

impl SagaTrace {
    /// The saga's span, parent of every other.
    pub fn root(&self) -> &Span {
        &self.spans[0]
    }
}

/// The order a PUBLISH belongs to: the packet's own, or for a dead letter the `orderId` of the
/// message it carries.
pub(crate) fn order_of(packet: &TracedPacket) -> Option<Uuid> {
    if packet.kind != PacketKind::Publish {
        return None;
    }
    packet.order_id.or_else(|| {
        let Packet::Publish(publish) = packet.packet.as_ref() else {
            return None;
        };
        let (_, letter) = DeadLetter::decode(&publish.topic, &publish.payload)?;
        order_id_in_payload(letter.payload.as_bytes())
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
    fn of(&self, publish: &TracedPacket) -> Vec<&'a TracedPacket> {
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

/// Whether a client that was delivered `delivered` may have published `published` because of
/// it (rule 3 of the module's doc).
fn causes(delivered: Option<&DomainEvent>, published: &TracedPacket) -> bool {
    use topics::*;
    let Some(delivered) = delivered else {
        return false;
    };
    let (topic, ok) = (delivered.topic(), !delivered.is_failure());
    let result = topic == PAYMENTS_PROCESSED || topic == INVENTORY_RESERVED;
    match published.topic.as_deref().unwrap_or_default() {
        PAYMENTS_PROCESSED => {
            topic == ORDERS_CREATED
                || topic == COMMAND_CHARGE_PAYMENT
                || (topic == INVENTORY_RESERVED && ok)
        }
        INVENTORY_RESERVED => topic == ORDERS_CREATED || topic == COMMAND_RESERVE_INVENTORY,
        ORDERS_CONFIRMED => result && ok,
        COMMAND_CHARGE_PAYMENT => topic == INVENTORY_RESERVED && ok,
        ORDERS_CANCELLED => result && !ok,
        INVENTORY_RELEASED => topic == ORDERS_CANCELLED || topic == COMMAND_RELEASE_INVENTORY,
        PAYMENTS_REFUNDED => topic == ORDERS_CANCELLED || topic == COMMAND_REFUND_PAYMENT,
        // A result after the saga gave up is undone at once.
        COMMAND_RELEASE_INVENTORY => result,
        COMMAND_REFUND_PAYMENT => result,
        COMMAND_RESERVE_INVENTORY => topic == ORDERS_CREATED,
        ORDERS_CREATED => false,
        // A dead letter is the message the client could not handle.
        other if other.starts_with("deadletter/") => true,
        _ => true,
    }
}

/// Why a message says something failed, for an ERROR status.
fn failure_of(packet: &TracedPacket) -> Option<String> {
    if let Some(message) = packet.message.as_deref() {
        let reason = match message {
            DomainEvent::PaymentProcessed(m) if !m.success => m.reason.clone(),
            DomainEvent::InventoryReserved(m) if !m.success => m.reason.clone(),
            DomainEvent::OrderCancelled(m) => Some(m.reason.clone()),
            _ => return None,
        };
        return Some(reason.unwrap_or_else(|| format!("{} failed", message.topic())));
    }
    let Packet::Publish(publish) = packet.packet.as_ref() else {
        return None;
    };
    let (_, letter) = DeadLetter::decode(&publish.topic, &publish.payload)?;
    Some(format!("dead-lettered: {}", letter.reason))
}

fn payload(packet: &TracedPacket) -> &[u8] {
    match packet.packet.as_ref() {
        Packet::Publish(publish) => &publish.payload,
        _ => &[],
    }
}

/// A message as the broker routes it: its topic and payload.
type MessageKey<'a> = (&'a str, &'a [u8]);

fn key(packet: &TracedPacket) -> MessageKey<'_> {
    (packet.topic.as_deref().unwrap_or_default(), payload(packet))
}

/// The event of one packet.
fn packet_event(packet: &TracedPacket) -> SpanEvent {
    let verb = match packet.direction {
        Direction::Outgoing => "sent",
        Direction::Incoming => "received",
    };
    let mut attributes: Attributes = vec![("eda.packet.seq", Value::Int(int(packet.seq)))];
    if let Some(topic) = &packet.topic {
        attributes.push(("messaging.destination.name", Value::Text(topic.clone())));
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

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A span being built.
struct Handling<'a> {
    span: Span,
    /// What was delivered, for a consumer span that is no redelivery.
    delivered: Option<Rc<DomainEvent>>,
    redelivery: bool,
    published: Vec<&'a TracedPacket>,
}

/// The spans of one order from its PUBLISHes (oldest first, all of this order).
pub(crate) fn build(
    order_id: Uuid,
    publishes: &[&TracedPacket],
    acks: &Acks<'_>,
) -> Result<SagaTrace, OtlpError> {
    let trace_id = TraceId::of_order(order_id).ok_or(OtlpError::NilOrder)?;
    if publishes.is_empty() {
        return Err(OtlpError::NotInTrace(order_id));
    }
    let root_id = SpanId::root(order_id);
    let mut spans: Vec<Handling> = Vec::new();
    // Per client: the last span it had a packet of this order in, and when that packet went
    // out if it was one it published.
    let mut last: HashMap<&str, (usize, Option<Duration>)> = HashMap::new();
    // Per client: the spans of its first deliveries of each message, oldest first.
    let mut deliveries: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut delivered_once: HashSet<(&str, MessageKey)> = HashSet::new();
    let mut sent_in: HashMap<(&str, MessageKey), usize> = HashMap::new();
    // The span that last published each message, for the links of those it is delivered to.
    let mut producer: HashMap<MessageKey, usize> = HashMap::new();

    for &packet in publishes {
        let client = packet.client_id.as_str();
        let message_key = key(packet);
        let topic = message_key.0;
        match packet.direction {
            Direction::Incoming => {
                let redelivery = !delivered_once.insert((client, message_key));
                let mut span = new_span(packet, root_id, SpanKind::Consumer, order_id);
                if redelivery {
                    span.attributes.push(("eda.redelivery", Value::Bool(true)));
                }
                if let Some(&from) = producer.get(&message_key) {
                    let link = SpanLink {
                        span_id: spans[from].span.span_id,
                        attributes: vec![
                            ("messaging.destination.name", Value::Text(topic.to_owned())),
                            ("eda.link", Value::Text("published the message".into())),
                        ],
                    };
                    span.links.push(link);
                }
                let index = spans.len();
                spans.push(Handling {
                    span,
                    delivered: packet.message.clone(),
                    redelivery,
                    published: Vec::new(),
                });
                if !redelivery {
                    deliveries.entry(client).or_default().push(index);
                }
                last.insert(client, (index, None));
            }
            Direction::Outgoing => {
                let resend = sent_in.get(&(client, message_key)).copied();
                let after_own = match last.get(client) {
                    Some(&(index, Some(at))) if packet.at.saturating_sub(at) <= ONE_HANDLING => {
                        Some(index)
                    }
                    _ => None,
                };
                let cause = || {
                    deliveries.get(client).and_then(|list| {
                        list.iter().rev().copied().find(|&i| {
                            !spans[i].redelivery && causes(spans[i].delivered.as_deref(), packet)
                        })
                    })
                };
                let index = match resend.or(after_own).or_else(cause) {
                    Some(index) => {
                        spans[index].span.events.push(packet_event(packet));
                        index
                    }
                    None => {
                        let span = new_span(packet, root_id, SpanKind::Producer, order_id);
                        spans.push(Handling {
                            span,
                            delivered: None,
                            redelivery: false,
                            published: Vec::new(),
                        });
                        spans.len() - 1
                    }
                };
                spans[index].published.push(packet);
                sent_in.entry((client, message_key)).or_insert(index);
                producer.insert(message_key, index);
                last.insert(client, (index, Some(packet.at)));
            }
        }
        // Its acknowledgements go with it.
        let index = last.get(client).map_or(0, |(index, _)| *index);
        for ack in acks.of(packet) {
            spans[index].span.events.push(packet_event(ack));
        }
    }

    let mut spans: Vec<Span> = spans.into_iter().map(finish).collect();
    spans.sort_by_key(|s| (s.start, s.span_id));
    let root = root_span(order_id, root_id, publishes, &spans);
    spans.insert(0, root);
    Ok(SagaTrace {
        order_id,
        trace_id,
        spans,
    })
}

/// A span starting with `packet` (its event included).
fn new_span(packet: &TracedPacket, root: SpanId, kind: SpanKind, order_id: Uuid) -> Span {
    let topic = packet.topic.clone().unwrap_or_default();
    let (operation, verb) = match kind {
        SpanKind::Consumer => ("process", "process"),
        _ => ("send", "publish"),
    };
    let mut attributes: Attributes = vec![
        ("messaging.system", Value::Text("mqtt".into())),
        ("messaging.operation.type", Value::Text(operation.into())),
        ("messaging.operation.name", Value::Text(verb.into())),
        ("messaging.destination.name", Value::Text(topic.clone())),
        ("messaging.client.id", Value::Text(packet.client_id.clone())),
    ];
    if let Some(message) = packet.message.as_deref() {
        let id = message.identity().1.to_string();
        attributes.push(("messaging.message.id", Value::Text(id)));
    }
    let size = int(payload(packet).len() as u64);
    attributes.push(("messaging.message.body.size", Value::Int(size)));
    if let Some(message) = packet.message.as_deref() {
        attributes.push(("eda.message.type", Value::Text(message.name().to_owned())));
    }
    attributes.push(("eda.order.id", Value::Text(order_id.to_string())));
    Span {
        span_id: SpanId::of_packet(packet.seq),
        parent: Some(root),
        name: format!("{verb} {topic}"),
        kind,
        service: packet.service,
        client_id: Some(packet.client_id.clone()),
        start: packet.at,
        end: packet.at,
        attributes,
        events: vec![packet_event(packet)],
        links: Vec::new(),
        error: None,
    }
}

/// Its events in time order, its end, what it published, and its status.
fn finish(handling: Handling) -> Span {
    let Handling {
        mut span,
        published,
        ..
    } = handling;
    // Clients stamp their packets on their own: two recorded one after the other may carry
    // times a few microseconds the other way round. The sort is stable, so ties keep the
    // order recorded.
    span.events.sort_by_key(|e| e.at);
    span.start = span.events.first().map_or(span.start, |e| e.at);
    span.end = span
        .events
        .last()
        .map_or(span.end, |e| e.at)
        .max(span.start);
    if !published.is_empty() {
        let mut topics: Vec<String> = Vec::new();
        for p in &published {
            let topic = p.topic.clone().unwrap_or_default();
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        span.attributes
            .push(("eda.published", Value::Texts(topics)));
    }
    let compensation = published.iter().any(|p| {
        p.message
            .as_deref()
            .is_some_and(DomainEvent::is_compensation)
    });
    if compensation {
        span.attributes
            .push(("eda.saga.compensation", Value::Bool(true)));
    }
    span.error = published.iter().find_map(|p| failure_of(p));
    span
}

/// The saga's span: from the order's first packet to its last, with the Orders panel's view of
/// the order (folded from the same packets) and its outcome as an event.
fn root_span(order_id: Uuid, root: SpanId, publishes: &[&TracedPacket], spans: &[Span]) -> Span {
    let mut book = OrderBook::new(1);
    for packet in publishes {
        book.apply_packet(packet);
    }
    let row = book.row(order_id);
    let start = spans.iter().map(|s| s.start).min().unwrap_or_default();
    let end = spans.iter().map(|s| s.end).max().unwrap_or(start);
    let client_id = publishes
        .iter()
        .find(|p| p.service == ServiceId::Order)
        .map(|p| p.client_id.clone());
    let mut attributes: Attributes = vec![("eda.order.id", Value::Text(order_id.to_string()))];
    let mut events = Vec::new();
    let mut error = None;
    match row {
        Some(row) => {
            attributes.push(("eda.order.status", Value::Text(row.status.name().into())));
            attributes.push(("eda.order.start", Value::Text(row.start.word().into())));
            if let Some(customer) = &row.customer_id {
                attributes.push(("eda.order.customer_id", Value::Text(customer.clone())));
            }
            if let Some(total) = row.total.filter(|t| t.is_finite()) {
                attributes.push(("eda.order.total", Value::Double(total)));
            }
            if let Start::Created(at) = row.start {
                events.push(SpanEvent {
                    at,
                    name: "order created".into(),
                    attributes: Vec::new(),
                });
            }
            if let Some(at) = row.ended {
                let status = row.status.name();
                let mut outcome: Attributes =
                    vec![("eda.order.status", Value::Text(status.into()))];
                if let Some(reason) = &row.reason {
                    outcome.push(("eda.saga.reason", Value::Text(reason.clone())));
                    attributes.push(("eda.saga.reason", Value::Text(reason.clone())));
                }
                events.push(SpanEvent {
                    at,
                    name: format!("order {}", status.to_lowercase()),
                    attributes: outcome,
                });
            }
            if row.status == crate::domain::order::OrderStatus::Cancelled {
                error = Some(row.reason.clone().unwrap_or_else(|| "cancelled".into()));
            }
        }
        // Only messages outside the flow (a dead letter) name this order.
        None => attributes.push(("eda.order.status", Value::Text("Unknown".into()))),
    }
    events.sort_by_key(|e| e.at);
    Span {
        span_id: root,
        parent: None,
        name: "order saga".into(),
        kind: SpanKind::Internal,
        service: ServiceId::Order,
        client_id,
        start,
        end,
        attributes,
        events,
        links: Vec::new(),
        error,
    }
}
