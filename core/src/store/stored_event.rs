//! A stored event and its JSON: what OrderService publishes on `eventstore/orders/<orderId>`,
//! what the browser database keeps, one line of a JSON-lines export. Anyone may publish to the
//! broker and a learner may edit a database, so decoding trusts nothing: any bytes give an
//! event or an error a learner can read.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::stream_event::{StreamEvent, EVENT_TYPES};
use super::upcast::{upcast, CURRENT_SCHEMA};
use super::{stream_name, EVENTSTORE_PREFIX};
use crate::domain::events::{in_words, with_hidden};
use crate::domain::timestamp::Timestamp;
use crate::outside_text::quoted;

/// One event as the store keeps it (source document 004's `EventData`: aggregate id, type,
/// data, version, time), with its place in the whole store.
///
/// Its JSON, compact, camelCase, fields in this order (`docs/wire-contract/eventstore-order-created.json`):
/// `{"position":7,"stream":"<orderId>","version":3,"type":"PaymentConfirmed","schema":2,
/// "recordedAt":"2026-12-01T10:30:01.123Z","data":{"paymentId":"<uuid>","amount":59.98}}`;
/// `type` and `data` as [`StreamEvent`] lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Its place among all the store's events: 1 for the first ever appended, then each next
    /// one 1 more, whatever its stream.
    pub position: u64,
    /// The stream it belongs to: the order's id (the stream's name is `order-<orderId>`).
    pub stream: Uuid,
    /// Its place in its stream: 1 for the `OrderCreated`, then 1 more for each next event.
    pub version: u64,
    /// The schema its JSON was written in: [`CURRENT_SCHEMA`] for everything appended here,
    /// older for an event recorded by an older page and upcast as it was read. `event` is
    /// always in the current shape; [`StoredEvent::to_json`] writes the current schema.
    pub schema: u32,
    /// When the store appended it (the page's clock, handed in; milliseconds, UTC).
    pub recorded_at: Timestamp,
    /// What happened.
    pub event: StreamEvent,
}

/// Why bytes are not a stored event, or events are not a store. Every message is a sentence a
/// learner can read, naming the field, the line or the position at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The bytes are not UTF-8 (JSON is).
    #[error("stored event is not UTF-8 text")]
    NotUtf8,
    /// serde_json's description of the syntax error, naming an invisible character where it
    /// stopped, if there is one.
    #[error("stored event is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not the envelope: "stored event is not an event of the store: missing field
    /// `recordedAt` at line 1 column 80".
    #[error("stored event is not an event of the store: {0}")]
    WrongShape(String),
    /// A `type` no order's stream holds.
    #[error("stored event has `type` {0}, which no order's stream holds: use one of {types}", types = EVENT_TYPES.join(", "))]
    UnknownType(String),
    /// A schema this page cannot read: 0, or newer than [`CURRENT_SCHEMA`].
    #[error(
        "stored {event_type} has schema {schema}; this page reads schemas 1 to {CURRENT_SCHEMA}"
    )]
    UnknownSchema { event_type: String, schema: u32 },
    /// The `data` does not fit its `type` (after upcasting).
    #[error("stored {event_type} has the wrong `data`: {reason}")]
    BadData { event_type: String, reason: String },
    /// The right shape carrying values no store holds.
    #[error("stored {event_type} is not valid: {reason}")]
    Invalid { event_type: String, reason: String },
    /// Received on a topic other than its stream's.
    #[error("stored event of {stream} arrived on topic {}, not {}", quoted(.topic), .expected)]
    WrongTopic {
        stream: String,
        topic: String,
        expected: String,
    },
    /// One line of a JSON-lines text (counted from 1) is not a stored event.
    #[error("line {line}: {error}")]
    Line { line: usize, error: Box<StoreError> },
    /// Positions that are not 1, 2, 3 … in order.
    #[error("the store's positions are not contiguous: position {found} where {expected} was due")]
    PositionGap { expected: u64, found: u64 },
    /// A stream whose versions are not 1, 2, 3 … in the order of the positions.
    #[error("{stream} is not contiguous: version {found} at position {position}, where {expected} was due")]
    VersionGap {
        stream: String,
        position: u64,
        expected: u64,
        found: u64,
    },
    /// A stream that does not start with `OrderCreated`, or has a second one.
    #[error("{stream} at version {version}: {reason}")]
    Misplaced {
        stream: String,
        version: u64,
        reason: String,
    },
}

/// The envelope as written: borrowed, fields in the documented order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Written {
    position: u64,
    stream: Uuid,
    version: u64,
    #[serde(rename = "type")]
    event_type: &'static str,
    schema: u32,
    recorded_at: Timestamp,
    data: super::stream_event::Data,
}

/// The envelope as read: `data` is read once its type and schema are known. Named as the
/// errors name it ("expected struct StoredEvent").
#[derive(Deserialize)]
#[serde(rename = "StoredEvent", rename_all = "camelCase")]
struct Read {
    position: u64,
    stream: Uuid,
    version: u64,
    #[serde(rename = "type")]
    event_type: String,
    schema: u32,
    recorded_at: Timestamp,
    data: Value,
}

/// The longest message of serde_json's kept whole: it quotes a mistyped value in full, and
/// echoing a megabyte back into the page's log helps nobody.
const MAX_MESSAGE_CHARS: usize = 300;

fn short(message: String) -> String {
    match crate::outside_text::cut(&message, MAX_MESSAGE_CHARS) {
        Some(start) => format!("{start}… (cut)"),
        None => message,
    }
}

impl StoredEvent {
    /// The event as compact JSON (the payload on `eventstore/orders/<orderId>`), in the
    /// current schema ([`CURRENT_SCHEMA`]) whatever schema it was read from.
    pub fn to_json(&self) -> Vec<u8> {
        let written = Written {
            position: self.position,
            stream: self.stream,
            version: self.version,
            event_type: self.event.type_name(),
            schema: CURRENT_SCHEMA,
            recorded_at: self.recorded_at,
            data: self.event.data(),
        };
        // serde_json fails only on a failing writer (a Vec never does), a failing Serialize
        // impl (ours write strings, numbers and arrays of them) or a non-string map key (none).
        serde_json::to_vec(&written).expect("a stored event always serializes to JSON")
    }

    /// Reads a stored event from JSON in any schema from 1 to [`CURRENT_SCHEMA`], upcasting an
    /// older one (see [`super::upcast`]). Fields it does not know are ignored.
    ///
    /// Errors, in the order they are looked for ([`StoreError`]): not UTF-8, not JSON, not the
    /// envelope (a missing field, a `stream` that is no UUID, a `recordedAt` that is no RFC 3339
    /// time), an unknown `type`, an unknown `schema`, `data` that does not fit the type, and
    /// values no store holds (`position` or `version` 0, a negative amount, an empty
    /// customer or reason). Never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<StoredEvent, StoreError> {
        let text = std::str::from_utf8(bytes).map_err(|_| StoreError::NotUtf8)?;
        // Syntax first, so "not JSON" and "not the envelope" are told apart.
        serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map_err(|e| StoreError::NotJson(short(with_hidden(text, &e))))?;
        // serde would also take an array of the seven values for the envelope.
        if let Some(found) = crate::domain::events::decode::not_an_object(text) {
            return Err(StoreError::WrongShape(format!(
                "it is {found}, not an object"
            )));
        }
        let read: Read = serde_json::from_str(text)
            .map_err(|e| StoreError::WrongShape(short(with_hidden(text, &e))))?;
        if !EVENT_TYPES.contains(&read.event_type.as_str()) {
            let shown: String = read.event_type.chars().take(40).collect();
            return Err(StoreError::UnknownType(quoted(&shown)));
        }
        let event_type = read.event_type;
        if !(1..=CURRENT_SCHEMA).contains(&read.schema) {
            return Err(StoreError::UnknownSchema {
                event_type,
                schema: read.schema,
            });
        }
        let bad_data = |reason: String| StoreError::BadData {
            event_type: event_type.clone(),
            reason,
        };
        let data = upcast(&event_type, read.schema, read.data).map_err(bad_data)?;
        let event = StreamEvent::from_data(&event_type, data)
            .unwrap_or_else(|| Err(format!("`{event_type}` is not a known type")))
            .map_err(|reason| {
                bad_data(short(
                    crate::outside_text::visible(&in_words(&reason)).into_owned(),
                ))
            })?;
        let invalid = |reason: String| StoreError::Invalid {
            event_type: event_type.clone(),
            reason,
        };
        if read.position == 0 {
            return Err(invalid("`position` is 0; positions start at 1".into()));
        }
        if read.version == 0 {
            return Err(invalid("`version` is 0; versions start at 1".into()));
        }
        event.check().map_err(invalid)?;
        Ok(StoredEvent {
            position: read.position,
            stream: read.stream,
            version: read.version,
            schema: read.schema,
            recorded_at: read.recorded_at,
            event,
        })
    }

    /// [`StoredEvent::decode`] for a message received on `topic`, which must be its stream's
    /// (`eventstore/orders/<orderId>`, see [`super::topic`]).
    pub fn decode_on(topic: &str, bytes: &[u8]) -> Result<StoredEvent, StoreError> {
        let event = StoredEvent::decode(bytes)?;
        let expected = super::topic(event.stream);
        if topic != expected {
            let shown: String = topic.chars().take(EVENTSTORE_PREFIX.len() + 40).collect();
            return Err(StoreError::WrongTopic {
                stream: stream_name(event.stream),
                topic: shown,
                expected,
            });
        }
        Ok(event)
    }

    /// The MQTT topic this event is published on: `eventstore/orders/<orderId>`.
    pub fn topic(&self) -> String {
        super::topic(self.stream)
    }
}
