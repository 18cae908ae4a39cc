//! Traces others can open: an order's saga (or every order of the session) as an
//! OpenTelemetry trace in OTLP/JSON, the body of an OTLP/HTTP `POST /v1/traces` with
//! `Content-Type: application/json`, which Jaeger, an OpenTelemetry Collector or any OTLP
//! receiver takes as it is.
//!
//! Pure: built from the traced packets alone, with no clock. The packets' clock only counts
//! from the page's start, so the caller says where that start is on the Unix clock
//! ([`Epoch`]: the page's `performance.timeOrigin`, or for a replayed recording an estimate
//! from the messages' own timestamps, [`Epoch::from_messages`]).
//!
//! **The shape** (source: the OTLP specification, "OTLP/HTTP" and "JSON Protobuf Encoding",
//! over `opentelemetry/proto/trace/v1/trace.proto`):
//! - one trace per order; its `traceId` is the order's UUID, its 16 bytes as they are, so the
//!   trace id reads as the order id without dashes (`3fa85f64…afa6`);
//! - a root span `order saga` (kind INTERNAL) from the order's first packet to its last,
//!   with `eda.order.*` attributes (id, status, customer, total, reason) and its creation and
//!   outcome as span events; status ERROR with the reason when the saga was cancelled;
//! - one child span per service's handling of a message of the order: `process <topic>`
//!   (kind CONSUMER) from the delivery to that service's client to the last thing it published
//!   as a result, or the delivery alone; `publish <topic>` (kind PRODUCER) for a publish no
//!   delivery caused (the order form's, a deadline's cancellation). How a publish is matched to
//!   its cause: [`saga`]. Status ERROR when the handling published a failed result, a
//!   cancellation or a dead letter;
//! - attributes after the messaging semantic conventions: `messaging.system` = `mqtt`,
//!   `messaging.operation.type` (`process` or `send`), `messaging.operation.name`,
//!   `messaging.destination.name` (the topic), `messaging.client.id`, `messaging.message.id`
//!   (the id that makes the message the same message), `messaging.message.body.size`; and
//!   ours under `eda.` (`eda.order.id`, `eda.published`, `eda.saga.compensation`…);
//! - every packet of a span (the PUBLISHes and their PUBACK, PUBREC, PUBREL, PUBCOMP) is a span
//!   event named `PUBLISH received`, `PUBACK sent`… with its `eda.packet.seq` (the packet
//!   inspector's number), topic, packet id, QoS and time; a consumer span links to the span
//!   that published the message it handled;
//! - one `resourceSpans` per MQTT client: `service.name` is the service's name
//!   (`PaymentService`), `service.instance.id` its client id; one scope, `eda-playground`.
//!
//! Times are Unix nanoseconds as decimal strings; ids lowercase hex (32 and 16 digits). The
//! same packets always give the same text: ids are derived, never drawn ([`SpanId`]), and
//! resources, spans and events are sorted.
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{Packet, Publish};
//! use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
//! use eda_core::services::ServiceId;
//! use eda_core::trace::otlp::{export_order, Epoch};
//! use eda_core::trace::PacketHistory;
//!
//! let order = r#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","customerId":"C123",
//!     "items":[{"productId":"P001","quantity":2,"price":29.99}],"totalAmount":59.98,
//!     "createdAt":"2024-01-15T10:30:00.000Z"}"#;
//! let mut history = PacketHistory::new(100);
//! for (at, service, direction) in [
//!     (2, ServiceId::Order, Direction::Outgoing),
//!     (4, ServiceId::Payment, Direction::Incoming),
//! ] {
//!     let packet = Packet::Publish(Publish::new("orders/created", order.as_bytes().to_vec(), QoS::AtMostOnce));
//!     let bytes = packet.encode(ProtocolVersion::V311).unwrap();
//!     let client_id = format!("eda-demo-{}", service.slug());
//!     history.record(service, &PacketEvent { at: Duration::from_millis(at), client_id, direction, packet, bytes, protocol: ProtocolVersion::V311, skipped: None });
//! }
//!
//! // The page started at 2024-01-15T10:30:00Z.
//! let epoch = Epoch::from_unix_millis(1_705_314_600_000.0).unwrap();
//! let export = export_order(&history, "3fa85f64-5717-4562-b3fc-2c963f66afa6".parse().unwrap(), epoch).unwrap();
//! assert_eq!(export.file_name, "saga-3fa85f64-5717-4562-b3fc-2c963f66afa6.otlp.json");
//! assert_eq!(export.spans, 3); // the saga, OrderService's publish, PaymentService's handling
//! let json: serde_json::Value = serde_json::from_str(&export.json).unwrap();
//! let spans = &json["resourceSpans"][1]["scopeSpans"][0]["spans"];
//! assert_eq!(json["resourceSpans"][1]["resource"]["attributes"][0]["value"]["stringValue"], "PaymentService");
//! assert_eq!(spans[0]["traceId"], "3fa85f6457174562b3fc2c963f66afa6");
//! assert_eq!(spans[0]["name"], "process orders/created");
//! assert_eq!(spans[0]["startTimeUnixNano"], "1705314600004000000");
//! ```

pub mod saga;
pub mod span;

mod json;
mod packets;

use std::collections::HashMap;
use std::time::Duration;

use broker_bridge::Direction;
use uuid::Uuid;

pub use json::SCOPE_NAME;
pub use saga::ONE_HANDLING;
pub use span::{SagaTrace, Span, SpanEvent, SpanId, SpanKind, SpanLink, TraceId, Value};

use super::packet::TracedPacket;
use super::PacketHistory;
use crate::domain::events::DomainEvent;

/// The file a whole session's export is offered as.
pub const SESSION_FILE_NAME: &str = "playground-session.otlp.json";

/// The file an order's export is offered as: `saga-<orderId>.otlp.json`.
pub fn order_file_name(order_id: Uuid) -> String {
    format!("saga-{order_id}.otlp.json")
}

/// Why there is nothing to export. Its `Display` is the sentence the page shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtlpError {
    /// None of the order's PUBLISHes is among the packets kept.
    #[error("order {0} is not in the trace: none of its messages is among the packets kept (cleared, or dropped as older than the newest ones)")]
    NotInTrace(Uuid),
    /// The nil UUID: an all-zero trace id is invalid in OpenTelemetry.
    #[error("an order with the nil id (all zeros) cannot be exported: OpenTelemetry forbids an all-zero trace id")]
    NilOrder,
    /// The session export found no order.
    #[error("there is no order in the trace to export yet: place an order first")]
    NoOrders,
    /// The session export of a replayed recording found no order: placing one cannot help
    /// until the page is back to live ([`OtlpError::for_recording`]).
    #[error("the recording being replayed holds no order to export: load one that does, or press Back to live and place an order")]
    NoOrdersRecorded,
    /// The Unix time given for the packets' clock start is not a time OTLP can carry (the
    /// value, as given).
    #[error("the page's clock start ({0}) is not a time OTLP can carry: it must be after 1970 and before 2554")]
    BadEpoch(String),
    /// A packet's time lands past what unsigned 64-bit nanoseconds hold (the year 2554).
    #[error(
        "a packet at {0:?} after the page's start lands past what OTLP's nanosecond times can hold"
    )]
    TimeOutOfRange(Duration),
    /// The JSON writer failed (never seen: the text is made of plain strings and numbers).
    #[error("the trace could not be written as JSON: {0}")]
    Encoding(String),
}

impl OtlpError {
    /// The same error said of a replayed recording: [`OtlpError::NoOrders`] becomes
    /// [`OtlpError::NoOrdersRecorded`] (a newcomer's break-test: "place an order first" while
    /// replaying, when no order can be placed); the others are unchanged.
    pub fn for_recording(self) -> Self {
        match self {
            OtlpError::NoOrders => OtlpError::NoOrdersRecorded,
            other => other,
        }
    }
}

/// Where the packets' clock starts on the Unix clock: the time to add to every packet's `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Epoch {
    unix_nanos: u64,
}

impl Epoch {
    /// The start `n` nanoseconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix_nanos(n: u64) -> Epoch {
        Epoch { unix_nanos: n }
    }

    /// The start `ms` milliseconds after 1970-01-01T00:00:00Z, fractions kept to the
    /// nanosecond: what the browser's `performance.timeOrigin` gives.
    ///
    /// # Errors
    /// [`OtlpError::BadEpoch`] for a value that is not a number, negative, or past 2554.
    pub fn from_unix_millis(ms: f64) -> Result<Epoch, OtlpError> {
        let bad = || OtlpError::BadEpoch(format!("{ms} ms"));
        // Whole milliseconds and the fraction apart: `ms * 1e6` would round today's times to
        // 256 ns.
        let whole = ms.trunc();
        if !(0.0..=(u64::MAX / 1_000_000) as f64).contains(&whole) {
            return Err(bad());
        }
        let fraction = ((ms - whole) * 1e6).round() as u64;
        (whole as u64)
            .checked_mul(1_000_000)
            .and_then(|n| n.checked_add(fraction))
            .map(Epoch::from_unix_nanos)
            .ok_or_else(bad)
    }

    /// An estimate from the messages the page's services published, each stamped with the
    /// wall clock (`createdAt`, `processedAt`…, to the millisecond) as it went out: the median
    /// of (stamp − packet time). For a replayed recording, whose file keeps only times since
    /// its page's start. `None` when no service published a message of the flow.
    pub fn from_messages(packets: &PacketHistory) -> Option<Epoch> {
        let mut offsets: Vec<i128> = packets
            .iter()
            .filter(|p| p.direction == Direction::Outgoing)
            .filter_map(|p| {
                let stamped = i128::from(stamped_at(p.message.as_deref()?)) * 1_000_000;
                Some(stamped - p.at.as_nanos() as i128)
            })
            .filter(|offset| *offset >= 0)
            .collect();
        crate::stable_sort::by(&mut offsets, i128::cmp);
        let median = *offsets.get(offsets.len() / 2)?;
        u64::try_from(median).ok().map(Epoch::from_unix_nanos)
    }

    /// Nanoseconds since 1970 of the packet time `at`.
    ///
    /// # Errors
    /// [`OtlpError::TimeOutOfRange`] past the year 2554.
    pub fn unix_nanos(self, at: Duration) -> Result<u64, OtlpError> {
        u64::try_from(at.as_nanos())
            .ok()
            .and_then(|at| self.unix_nanos.checked_add(at))
            .ok_or(OtlpError::TimeOutOfRange(at))
    }
}

/// The wall-clock time a message of the flow carries, in Unix milliseconds.
fn stamped_at(message: &DomainEvent) -> i64 {
    let at = match message {
        DomainEvent::OrderCreated(m) => m.created_at,
        DomainEvent::PaymentProcessed(m) => m.processed_at,
        DomainEvent::InventoryReserved(m) => m.reserved_at,
        DomainEvent::OrderConfirmed(m) => m.confirmed_at,
        DomainEvent::OrderCancelled(m) => m.cancelled_at,
        DomainEvent::InventoryReleased(m) => m.released_at,
        DomainEvent::PaymentRefunded(m) => m.refunded_at,
        DomainEvent::ReserveInventory(m) => m.requested_at,
        DomainEvent::ChargePayment(m) => m.requested_at,
        DomainEvent::ReleaseInventory(m) => m.requested_at,
        DomainEvent::RefundPayment(m) => m.requested_at,
    };
    at.unix_millis()
}

/// One export, ready to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The OTLP/JSON text.
    pub json: String,
    /// [`order_file_name`] or [`SESSION_FILE_NAME`].
    pub file_name: String,
    /// How many traces (orders) it holds.
    pub orders: usize,
    /// How many spans, roots included.
    pub spans: usize,
    /// Orders seen but left out: only the nil order id, which no trace id can carry.
    pub left_out: Vec<Uuid>,
    /// How many packets older than those exported the page dropped: 0 when the file holds
    /// every packet seen.
    pub packets_dropped: u64,
    /// How many packets the page keeps, the newest ([`crate::trace::HISTORY_CAPACITY`] live).
    pub packets_kept: usize,
    /// Of the traces, how many lack their order's `orders/created` (their root's
    /// `eda.order.start` is `unknown`): cut short by the dropped packets, when any were.
    pub without_start: usize,
}

impl Export {
    /// What the page says about orders left out or cut short, if any: the nil id's, and, when
    /// older packets were dropped, that the file begins with them (a newcomer's break-test: a
    /// session of 51 orders gave a file of 50, ten of them half-traces, without a word).
    pub fn note(&self) -> Option<String> {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut parts = Vec::new();
        if !self.left_out.is_empty() {
            let n = self.left_out.len();
            parts.push(format!(
                "{n} order{} with the nil id left out: OpenTelemetry forbids an all-zero trace id",
                plural(n)
            ));
        }
        if self.packets_dropped > 0 {
            let cut = match self.without_start {
                0 => String::new(),
                n => format!(
                    "{n} of its orders begin{} after {} orders/created; ",
                    if n == 1 { "s" } else { "" },
                    if n == 1 { "its" } else { "their" }
                ),
            };
            parts.push(format!(
                "it holds the newest {} packets, {} older one{} dropped: {cut}orders whose every \
                 packet is older are not in it",
                self.packets_kept,
                self.packets_dropped,
                plural(usize::try_from(self.packets_dropped).unwrap_or(usize::MAX))
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Whether `publishes` (one order's) hold its `orders/created`.
fn has_start(publishes: &[&TracedPacket]) -> bool {
    publishes
        .iter()
        .any(|p| matches!(p.message.as_deref(), Some(DomainEvent::OrderCreated(_))))
}

/// Every order's PUBLISHes, oldest first, orders in the order their first packet came.
fn publishes_by_order(packets: &PacketHistory) -> Vec<(Uuid, Vec<&TracedPacket>)> {
    let mut orders: Vec<(Uuid, Vec<&TracedPacket>)> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for packet in packets.iter() {
        let Some(order_id) = packets::order_of(packet) else {
            continue;
        };
        let at = *index.entry(order_id).or_insert_with(|| {
            orders.push((order_id, Vec::new()));
            orders.len() - 1
        });
        orders[at].1.push(packet);
    }
    orders
}

/// The saga of `order_id` as spans, from `packets`.
///
/// # Errors
/// [`OtlpError::NilOrder`] for the nil UUID; [`OtlpError::NotInTrace`] when no PUBLISH of
/// the order is among `packets`.
pub fn order_trace(packets: &PacketHistory, order_id: Uuid) -> Result<SagaTrace, OtlpError> {
    if order_id.is_nil() {
        return Err(OtlpError::NilOrder);
    }
    let publishes: Vec<&TracedPacket> = packets
        .iter()
        .filter(|p| packets::order_of(p) == Some(order_id))
        .collect();
    saga::build(order_id, &publishes, &packets::Acks::new(packets))
}

/// Every order's saga in `packets`, in the order the orders first appeared, and the orders
/// left out (the nil id).
pub fn session_traces(packets: &PacketHistory) -> (Vec<SagaTrace>, Vec<Uuid>) {
    let acks = packets::Acks::new(packets);
    let mut traces = Vec::new();
    let mut left_out = Vec::new();
    for (order_id, publishes) in publishes_by_order(packets) {
        match saga::build(order_id, &publishes, &acks) {
            Ok(trace) => traces.push(trace),
            Err(_) => left_out.push(order_id),
        }
    }
    (traces, left_out)
}

/// `traces` as OTLP/JSON, times put on the Unix clock by `epoch`.
///
/// # Errors
/// [`OtlpError::TimeOutOfRange`] when a time lands past 2554.
pub fn to_json(traces: &[SagaTrace], epoch: Epoch) -> Result<String, OtlpError> {
    json::encode(traces, epoch)
}

/// The saga of `order_id` as an OTLP/JSON file, named [`order_file_name`].
///
/// # Errors
/// As [`order_trace`] and [`to_json`].
pub fn export_order(
    packets: &PacketHistory,
    order_id: Uuid,
    epoch: Epoch,
) -> Result<Export, OtlpError> {
    let trace = order_trace(packets, order_id)?;
    let spans = trace.spans.len();
    Ok(Export {
        json: to_json(std::slice::from_ref(&trace), epoch)?,
        file_name: order_file_name(order_id),
        orders: 1,
        spans,
        left_out: Vec::new(),
        packets_dropped: 0,
        packets_kept: packets.capacity(),
        without_start: 0,
    })
}

/// Every order's saga in `packets` as one OTLP/JSON file, named [`SESSION_FILE_NAME`].
///
/// # Errors
/// [`OtlpError::NoOrders`] when no order can be exported; as [`to_json`].
pub fn export_session(packets: &PacketHistory, epoch: Epoch) -> Result<Export, OtlpError> {
    let (traces, left_out) = session_traces(packets);
    if traces.is_empty() {
        return Err(OtlpError::NoOrders);
    }
    let without_start = publishes_by_order(packets)
        .iter()
        .filter(|(order_id, publishes)| !order_id.is_nil() && !has_start(publishes))
        .count();
    Ok(Export {
        json: to_json(&traces, epoch)?,
        file_name: SESSION_FILE_NAME.to_owned(),
        orders: traces.len(),
        spans: traces.iter().map(|t| t.spans.len()).sum(),
        left_out,
        packets_dropped: packets.dropped(),
        packets_kept: packets.capacity(),
        without_start,
    })
}

#[cfg(test)]
mod wire;

#[cfg(test)]
mod tests;
