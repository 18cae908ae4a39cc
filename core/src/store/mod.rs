//! Event sourcing and CQRS (source document 004's "Event Store" and "CQRS Implementation",
//! 003's OrderService "CQRS + Event Sourcing" and AnalyticsService): OrderService's event store,
//! QueryService's read model, AnalyticsService's figures. Pure: times come in as arguments, and
//! nothing here touches the network or the browser's database; the drivers carry the events
//! there and back.
//!
//! - **Write side** ([`EventStore`]): a **stream** per order (`order-<orderId>`), appended to
//!   under an **expected version** ([`ExpectedVersion`]; a stale one is a
//!   [`AppendError::Conflict`]); every event gets a global **position** and a **version** in
//!   its stream. The order aggregate is the **fold** of its stream, at any version (**rewind**).
//!   Events are JSON ([`StoredEvent::to_json`], [`StoredEvent::decode`]) in a **schema**
//!   ([`CURRENT_SCHEMA`]); older ones are **upcast** as they are read ([`upcast`]).
//! - **The wire**: OrderService publishes each appended event on `eventstore/orders/<orderId>`
//!   ([`topic`]), QoS 1, not retained; the payload is the [`StoredEvent`]'s JSON.
//! - **Read side** ([`ReadModel`]): the **projection** of those events into a view per order,
//!   **idempotent** by (stream, version); it may **lag** ([`Lag`]) and can be **rebuilt** from
//!   the store in steps ([`Rebuild`]), up to any position (time travel).
//! - **Analytics** ([`Figures`]): orders per minute, revenue, cancellation rates, time to end.
//!
//! ```
//! use eda_core::domain::order::{OrderEvent, OrderStatus};
//! use eda_core::domain::{OrderItem, Timestamp};
//! use eda_core::store::{
//!     topic, EventStore, ExpectedVersion, Projected, ReadModel, StoredEvent, StreamEvent,
//! };
//! use uuid::Uuid;
//!
//! let order_id = Uuid::from_u128(1);
//! let now = Timestamp::parse("2026-12-01T10:30:00.000Z").unwrap();
//! let mut store = EventStore::new();
//!
//! // OrderService creates the order's stream, then appends what the aggregate decided.
//! let created = StreamEvent::Created {
//!     customer_id: "C123".into(),
//!     items: vec![OrderItem { product_id: "P001".into(), quantity: 2, price: 29.99 }],
//!     total_amount: 59.98,
//!     saga: None,
//! };
//! let appended = store.append(order_id, ExpectedVersion::NoStream, vec![created], now).unwrap();
//! let reserved = OrderEvent::InventoryConfirmed { reservation_id: Uuid::from_u128(2) };
//! store.append(order_id, ExpectedVersion::Exactly(1), vec![reserved.into()], now).unwrap();
//!
//! // A writer that decided from version 1 is too late.
//! let late = OrderEvent::Cancelled { reason: "payment timed out".into() };
//! let refused = store.append(order_id, ExpectedVersion::Exactly(1), vec![late.into()], now);
//! assert_eq!(
//!     refused.unwrap_err().to_string(),
//!     "concurrency error: order-00000000-0000-0000-0000-000000000001 is at version 2, not 1"
//! );
//!
//! // Each appended event goes on the wire; QueryService projects what it receives.
//! let mut model = ReadModel::new();
//! for event in store.read_all(0, None) {
//!     let received = StoredEvent::decode_on(&topic(order_id), &event.to_json()).unwrap();
//!     assert_eq!(model.project(&received), Projected::Applied { released: 0, refused: Vec::new() });
//! }
//! assert_eq!(model.project(&appended[0]), Projected::Duplicate);
//! assert_eq!(model.get(order_id).unwrap().status, OrderStatus::InventoryConfirmed);
//!
//! // The aggregate is the fold of its stream; rewound to version 1, it is just created.
//! assert_eq!(store.fold(order_id).unwrap().status, OrderStatus::InventoryConfirmed);
//! assert_eq!(store.fold_to(order_id, 1).unwrap().status, OrderStatus::Pending);
//! ```

mod analytics;
mod event_store;
mod lag_line;
mod not_projected;
pub mod outbox;
mod read_model;
mod rebuild;
mod revenue;
mod stored_event;
mod stream_event;
pub mod upcast;

#[cfg(test)]
mod tests;

use std::time::Duration;

use uuid::Uuid;

pub use analytics::{
    csv_text, nearest_rank, percent_text, reason_kind, CsvRow, Figures, MinuteCount, ReasonCount,
    NUMBER_TAKEN_OUT,
};
pub use event_store::{AppendError, EventStore, ExpectedVersion};
pub use lag_line::{
    died_in_crash_older, held_line, lag_beside_lost, lag_line, lag_text, lost_after_lag,
    lost_in_crash, LagText, QueryCrash,
};
pub use not_projected::NotProjected;
pub use read_model::{OrderView, Projected, ReadModel, Totals};
pub use rebuild::{rebuilt_heading, Lag, Progress, Rebuild};
pub use revenue::cents;
pub use stored_event::{StoreError, StoredEvent};
pub use stream_event::{StreamEvent, EVENT_TYPES};
pub use upcast::CURRENT_SCHEMA;

/// The topic of an order's stream is this and its id: `eventstore/orders/<orderId>`.
/// OrderService publishes each appended event there, QoS 1, not retained.
pub const EVENTSTORE_PREFIX: &str = "eventstore/orders/";

/// Every stream's events: what QueryService (and AnalyticsService) subscribe to.
pub const EVENTSTORE_FILTER: &str = "eventstore/orders/+";

/// The topic `stream`'s events are published on: `eventstore/orders/<orderId>`.
pub fn topic(stream: Uuid) -> String {
    format!("{EVENTSTORE_PREFIX}{stream}")
}

/// The stream a topic of [`EVENTSTORE_FILTER`] names; `None` for any other topic.
pub fn stream_of_topic(topic: &str) -> Option<Uuid> {
    topic.strip_prefix(EVENTSTORE_PREFIX)?.parse().ok()
}

/// A stream's name in text (logs, errors, the page): `order-<orderId>`.
pub fn stream_name(stream: Uuid) -> String {
    format!("order-{stream}")
}

/// The largest packet the page's clients read, in bytes (256 KiB: broker-bridge's
/// `Options::max_packet_size` default, fixed header included). A larger one is skipped unread
/// (MQTT 3.1.1) or withheld by the broker (5.0, Maximum Packet Size).
pub const PAGE_PACKET_LIMIT: usize = 256 * 1024;

/// What a PUBLISH on `eventstore/orders/<id>` adds to its event's JSON, at most, in bytes: the
/// fixed header (5), the topic (its length 2, a namespace up to 200 characters and its `/`, the
/// prefix and the id: under 260), the packet id (2) and MQTT 5.0's properties (the correlation
/// id and its user property, under 700).
pub const STORE_PUBLISH_OVERHEAD: usize = 1024;

/// How many bytes the `OrderCreated` OrderService would append for `created` takes on the wire
/// at most ([`StoredEvent::to_json`] at the longest position, style and time, plus
/// [`STORE_PUBLISH_OVERHEAD`]): over [`PAGE_PACKET_LIMIT`], QueryService could never receive it
/// (44-AQ F2: an order of 262,000 bytes from outside was accepted, and its store event of
/// 262,085 bytes never reached the read model).
pub fn created_event_size(created: &crate::domain::events::OrderCreated) -> usize {
    let mut event = StreamEvent::from(created.clone());
    if let StreamEvent::Created { saga, .. } = &mut event {
        *saga = Some(crate::services::SagaStyle::Choreography);
    }
    let stored = StoredEvent {
        position: u64::MAX,
        stream: created.order_id,
        version: 1,
        schema: CURRENT_SCHEMA,
        recorded_at: created.created_at,
        event,
    };
    stored.to_json().len() + STORE_PUBLISH_OVERHEAD
}

/// How long QueryService waits before projecting a received event unless
/// `?projection_ms=` says otherwise: not at all.
pub const DEFAULT_PROJECTION_DELAY: Duration = Duration::ZERO;

/// The delays a learner may set with `?projection_ms=`, in milliseconds.
pub const PROJECTION_DELAY_RANGE_MS: std::ops::RangeInclusive<u64> = 0..=60_000;

/// A projection delay in whole milliseconds from 0 to 60000, the value of `?projection_ms=`
/// (to watch the read model lag behind the store). The error is a sentence for the page:
/// `"slow" is not a projection delay: use whole milliseconds from 0 to 60000`.
pub fn parse_projection_delay(text: &str) -> Result<Duration, String> {
    crate::services::settings::parse_millis(text, PROJECTION_DELAY_RANGE_MS, "a projection delay")
}
