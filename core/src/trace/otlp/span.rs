//! The spans of a saga as plain values, on the packets' clock: what [`super::saga`] builds
//! and `json.rs` writes (OTLP `trace.proto`'s `Span`, its events, links and status).

use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use crate::services::ServiceId;

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
    pub(super) fn of_packet(seq: u64) -> SpanId {
        SpanId(seq.saturating_add(1).to_be_bytes())
    }

    pub(super) fn root(order_id: Uuid) -> SpanId {
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
    /// `stringValue`.
    Text(String),
    /// `intValue` (int64; a decimal string in the JSON).
    Int(i64),
    /// `boolValue`.
    Bool(bool),
    /// `doubleValue`; only a finite number is written (JSON has no NaN), else the attribute is
    /// left out.
    Double(f64),
    /// `arrayValue` of `stringValue`s.
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
    /// `<KIND> sent` or `<KIND> received` from the client's view, or for the saga's span
    /// `order created`, `order completed`, `order cancelled`.
    pub name: String,
    pub attributes: Attributes,
}

/// A link to the span, in the same trace, that published the message a span handled (OTLP
/// `Span.Link`; the messaging conventions' link from a consumer to its producer).
#[derive(Debug, Clone, PartialEq)]
pub struct SpanLink {
    /// The publishing span's id (its trace is the linking span's).
    pub span_id: SpanId,
    pub attributes: Attributes,
}

/// One span of a saga.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// See [`SpanId`] for how it is derived.
    pub span_id: SpanId,
    /// The root's id for every span but the root.
    pub parent: Option<SpanId>,
    /// `order saga`, `process <topic>` or `publish <topic>`.
    pub name: String,
    /// INTERNAL for the saga, CONSUMER for a handling, PRODUCER for a publish of its own.
    pub kind: SpanKind,
    /// Whose span it is: its resource's `service.name`.
    pub service: ServiceId,
    /// The MQTT client that saw its packets: its resource's `service.instance.id`.
    pub client_id: Option<String>,
    /// Its first packet, on the packets' clock.
    pub start: Duration,
    /// Its last packet (acknowledgements included); never before `start`.
    pub end: Duration,
    /// `messaging.*` after the semantic conventions, and ours under `eda.`.
    pub attributes: Attributes,
    /// Its packets, oldest first (for the saga's span, its creation and outcome).
    pub events: Vec<SpanEvent>,
    /// For a handling, the span that published the message it handled, when the trace holds it
    /// (not for a message published from outside the page).
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

/// One order's saga: its trace id and spans, the root first, the others by start time. Made
/// only by [`super::order_trace`] and [`super::session_traces`], so it always has its root.
#[derive(Debug, Clone, PartialEq)]
pub struct SagaTrace {
    pub(crate) order_id: Uuid,
    pub(crate) trace_id: TraceId,
    /// Never empty: the root first.
    pub(crate) spans: Vec<Span>,
}

impl SagaTrace {
    /// The order whose saga this is.
    pub fn order_id(&self) -> Uuid {
        self.order_id
    }

    /// The order's UUID bytes.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// Every span, the root first, the others by start time.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The saga's span, parent of every other.
    pub fn root(&self) -> &Span {
        // Built with its root, and never emptied (the fields are the crate's).
        &self.spans[0]
    }
}
