//! One order's saga as spans, read off the traced packets alone: a root span for the saga, and
//! one span per service's handling of a message of the order. Clock-free: every time is on the
//! packets' clock; `json.rs` puts them on the Unix clock.
//!
//! **Which packets** (`packets.rs`). Every PUBLISH whose order is this one (its MQTT 5.0 correlation property,
//! else the stream an `eventstore/orders/<orderId>` topic names, else its payload's `orderId`; a
//! dead letter by the order of the message it carries), and
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
//!    release from `orders/cancelled` or `commands/inventory/release`; orchestration's refund
//!    or release command from a result delivered after the client published the cancellation
//!    (a late result), never one before (a command sent again by a timer); `orders/confirmed` from a
//!    successful result, `orders/cancelled` from a failed one…; a dead letter, or a topic outside
//!    the flow, from whatever was delivered last); a second delivery of a message the client
//!    already had (a redelivery) causes nothing;
//! 4. otherwise it starts a span of its own: the order form's `orders/created`, the cancellation
//!    when a saga's deadline passes, anything published from a timer; named by the flow's
//!    message, not by the event store's copy that OrderService publishes before it.
//!
//! **The event store and QueryService's projection.** OrderService's copy of each appended
//! event on `eventstore/orders/<orderId>` is the order's (the topic names it) and joins the
//! handling that appended it (rules 2 and 3; its cause told by the event it carries, as the
//! message it records: an `OrderCancelled` by a failed result, or none, a deadline's). Each delivery of one to QueryService is a span of
//! its own (its projection: `process eventstore/orders/<orderId>`, with the stored event's type,
//! position and version); QueryService publishes nothing but the dead letter of an event it
//! cannot read, which joins the span of that delivery.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::{Direction, Packet};
use uuid::Uuid;

use super::packets::{int, key, packet_event, payload, Acks, MessageKey};
use super::span::{
    Attributes, SagaTrace, Span, SpanEvent, SpanId, SpanKind, SpanLink, TraceId, Value,
};
use super::OtlpError;
use crate::domain::events::DomainEvent;
use crate::domain::topics;
use crate::services::dead_letter::DeadLetter;
use crate::services::ServiceId;
use crate::store::{stream_of_topic, StoredEvent};
use crate::trace::orders::{OrderBook, Start};
use crate::trace::packet::TracedPacket;

/// How close two publishes of one client for one order must be, with no delivery between, to
/// count as one handling's: a handler publishes what it decided at once, while work that ends
/// later (a timer) is the simulated work's hundreds of milliseconds or a deadline's seconds
/// away.
pub const ONE_HANDLING: Duration = Duration::from_millis(10);

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
        // OrderService's copy of an appended event: by the event, as the message it records
        // (46-AX F1: the copy of a deadline's cancellation joined the last delivery, whatever
        // it was, and its span, a successful reservation's, turned ERROR).
        stored if stream_of_topic(stored).is_some() => {
            match StoredEvent::decode(payload(published)).map(|e| e.event.type_name()) {
                Ok("OrderCreated") => topic == ORDERS_CREATED,
                Ok("InventoryConfirmed" | "InventoryFailed") => topic == INVENTORY_RESERVED,
                Ok("PaymentConfirmed" | "PaymentFailed") => topic == PAYMENTS_PROCESSED,
                Ok("OrderCompleted") => result && ok,
                Ok("OrderCancelled") => result && !ok,
                Ok("InventoryReleased") => topic == INVENTORY_RELEASED,
                Ok("PaymentRefunded") => topic == PAYMENTS_REFUNDED,
                _ => true,
            }
        }
        // A dead letter is the message the client could not handle.
        other if other.starts_with("deadletter/") => true,
        _ => true,
    }
}

/// Whether `packet` carries an event of the store: its topic is `eventstore/orders/<orderId>`.
fn is_stored(packet: &TracedPacket) -> bool {
    packet.topic.as_deref().and_then(stream_of_topic).is_some()
}

/// Whether `packet` is a dead letter (`deadletter/<service>`).
fn is_dead_letter(packet: &TracedPacket) -> bool {
    packet
        .topic
        .as_deref()
        .is_some_and(|t| t.starts_with("deadletter/"))
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
    let (_, letter) = DeadLetter::decode(packet.topic.as_deref()?, &publish.payload)?;
    Some(format!("dead-lettered: {}", letter.reason))
}

/// A span being built.
struct Handling<'a> {
    span: Span,
    /// What was delivered, for a consumer span that is no redelivery.
    delivered: Option<Rc<DomainEvent>>,
    /// A delivery of an event-store message (`eventstore/orders/<orderId>`).
    stored: bool,
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
    // Per client: when it first published the order's cancellation. A compensating command
    // (orchestration's refund or release) is caused by a result delivered after it (a late
    // result, undone at once), never by one before: a command sent again later is the
    // compensation check's timer (46-AZ F2: its retry joined the successful reservation's span).
    let mut cancelled_at: HashMap<&str, Duration> = HashMap::new();

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
                    stored: is_stored(packet),
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
                let compensating = matches!(
                    topic,
                    topics::COMMAND_REFUND_PAYMENT | topics::COMMAND_RELEASE_INVENTORY
                );
                let cancelled = cancelled_at.get(client).copied();
                let cause = || {
                    deliveries.get(client).and_then(|list| {
                        list.iter().rev().copied().find(|&i| {
                            let handling = &spans[i];
                            let in_time = !compensating
                                || cancelled.is_some_and(|at| handling.span.start >= at);
                            !handling.redelivery
                                && in_time
                                && (causes(handling.delivered.as_deref(), packet)
                                    || (handling.stored && is_dead_letter(packet)))
                        })
                    })
                };
                let index = match resend.or(after_own).or_else(cause) {
                    // A span of its own that only the store's copies began (a decision no
                    // delivery caused, e.g. a deadline's cancellation: OrderService publishes
                    // the copy first) is named by the flow's message that follows them, as
                    // `mosquitto_sub` shows the decision: `publish orders/cancelled`.
                    Some(index)
                        if spans[index].span.kind == SpanKind::Producer
                            && !is_stored(packet)
                            && spans[index].published.iter().all(|p| is_stored(p)) =>
                    {
                        let head = new_span(packet, root_id, SpanKind::Producer, order_id);
                        let span = &mut spans[index].span;
                        span.name = head.name;
                        span.attributes = head.attributes;
                        span.events.extend(head.events);
                        index
                    }
                    Some(index) => {
                        spans[index].span.events.push(packet_event(packet));
                        index
                    }
                    None => {
                        let span = new_span(packet, root_id, SpanKind::Producer, order_id);
                        spans.push(Handling {
                            span,
                            delivered: None,
                            stored: false,
                            redelivery: false,
                            published: Vec::new(),
                        });
                        spans.len() - 1
                    }
                };
                spans[index].published.push(packet);
                if topic == topics::ORDERS_CANCELLED {
                    cancelled_at.entry(client).or_insert(packet.at);
                }
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
    crate::stable_sort::by_key(&mut spans, |s| (s.start, s.span_id));
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
    // The destination as the broker knew it, topic namespace and all.
    let topic = packet.wire_topic().unwrap_or_default().to_owned();
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
    let stored = is_stored(packet)
        .then(|| StoredEvent::decode(payload(packet)).ok())
        .flatten();
    if let Some(event) = stored {
        let (position, version) = (int(event.position), int(event.version));
        let event_type = event.event.type_name().to_owned();
        attributes.push(("eda.message.type", Value::Text(event_type)));
        attributes.push(("eda.store.position", Value::Int(position)));
        attributes.push(("eda.store.version", Value::Int(version)));
    }
    attributes.push(("eda.order.id", Value::Text(order_id.to_string())));
    Span {
        span_id: SpanId::of_packet(packet.seq),
        parent: Some(root),
        name: format!("{verb} {topic}"),
        kind,
        // `order_of` leaves the status monitor's packets out.
        service: packet.participant.service().unwrap_or(ServiceId::Order),
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
    crate::stable_sort::by_key(&mut span.events, |e| e.at);
    span.start = span.events.first().map_or(span.start, |e| e.at);
    span.end = span
        .events
        .last()
        .map_or(span.end, |e| e.at)
        .max(span.start);
    if !published.is_empty() {
        let mut topics: Vec<String> = Vec::new();
        // As the broker knew them, topic namespace and all, like every other topic of the
        // span (a teacher's break-test: a search by the topic mosquitto_sub shows found none).
        for p in &published {
            let topic = p.wire_topic().unwrap_or_default().to_owned();
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
        .find(|p| p.participant == ServiceId::Order)
        .map(|p| p.client_id.clone());
    let mut attributes: Attributes = vec![("eda.order.id", Value::Text(order_id.to_string()))];
    let mut events = Vec::new();
    let mut error = None;
    match row {
        // Dead-lettered: no order exists in OrderService's store and no deadline ends it (a
        // newcomer's break-test read "Pending" and an unset status for it, where the Orders
        // panel says it was dead-lettered).
        Some(row) if row.is_dead_lettered() => {
            let reason = row.dead_lettered.clone().unwrap_or_default();
            attributes.push(("eda.order.status", Value::Text("DeadLettered".into())));
            attributes.push(("eda.order.start", Value::Text(row.start.word().into())));
            if let Some(customer) = &row.customer_id {
                attributes.push(("eda.order.customer_id", Value::Text(customer.clone())));
            }
            attributes.push(("eda.saga.reason", Value::Text(reason.clone())));
            error = Some(format!(
                "dead-lettered: OrderService could not process its orders/created ({reason}), so \
                 no order exists"
            ));
        }
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
    crate::stable_sort::by_key(&mut events, |e| e.at);
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
