//! The event store, in memory: a stream per order, appended to under an expected version, read
//! back by stream or by position, folded into the aggregate at any version.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use super::stored_event::{StoreError, StoredEvent};
use super::stream_event::StreamEvent;
use super::stream_name;
use super::upcast::CURRENT_SCHEMA;
use crate::domain::order::{Order, OrderEvent};
use crate::domain::timestamp::Timestamp;

/// What a writer believes a stream's version to be when it appends (source document 004's
/// `expectedVersion`): the append succeeds only if it is so, so two writers deciding from the
/// same state cannot both append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// The stream has no events yet: the writer is creating the order.
    NoStream,
    /// The stream's last event has this version (1 after its `OrderCreated`).
    /// `Exactly(0)` means the same as [`ExpectedVersion::NoStream`].
    Exactly(u64),
}

impl ExpectedVersion {
    /// The version the stream must be at: 0 for no stream.
    pub fn version(self) -> u64 {
        match self {
            ExpectedVersion::NoStream => 0,
            ExpectedVersion::Exactly(version) => version,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    /// `new (no stream)` or `3`, to follow "is at version 4, not ".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version() {
            0 => f.write_str("new (no stream)"),
            version => write!(f, "{version}"),
        }
    }
}

/// Why an append was refused. Nothing is appended when it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// Someone appended since the writer read the stream (optimistic concurrency): the writer
    /// must read it again, decide again, and append under the new version.
    #[error("concurrency error: {} is at version {actual}, not {expected}", stream_name(*.stream))]
    Conflict {
        /// The stream appended to.
        stream: Uuid,
        /// The version the writer gave.
        expected: ExpectedVersion,
        /// The stream's version now (0 for no stream).
        actual: u64,
    },
    /// A new stream must start with `OrderCreated`.
    #[error("{} has no events yet: its first must be OrderCreated, not {first}", stream_name(*.stream))]
    NotCreatedFirst { stream: Uuid, first: &'static str },
    /// `OrderCreated` again, in a stream that has one (at the version given).
    #[error("{} is already created: OrderCreated cannot be its version {version}", stream_name(*.stream))]
    CreatedAgain { stream: Uuid, version: u64 },
}

/// Every event appended, in memory, by global position; each order's events form its stream.
/// Restored from the browser's database with [`EventStore::load`], exported and imported as
/// JSON lines.
///
/// Invariants (checked by [`EventStore::append`] and [`EventStore::load`]): positions are 1, 2,
/// 3 … with no gap; each stream's versions are 1, 2, 3 … in position order; version 1 is the
/// stream's `OrderCreated` and no other version is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventStore {
    /// By position: `events[p - 1]` has position `p`.
    events: Vec<StoredEvent>,
    /// Each stream's events, as indices into `events`.
    by_stream: HashMap<Uuid, Vec<usize>>,
    /// Streams in the order of their first append.
    streams: Vec<Uuid>,
}

impl EventStore {
    /// An empty store (head 0).
    pub fn new() -> EventStore {
        EventStore::default()
    }

    /// A store holding `events` (the browser database's copy, in any order): sorted by
    /// position, then checked as [`EventStore`]'s invariants say. Errors name the first
    /// position, version or stream at fault ([`StoreError::PositionGap`],
    /// [`StoreError::VersionGap`], [`StoreError::Misplaced`]).
    pub fn load(mut events: Vec<StoredEvent>) -> Result<EventStore, StoreError> {
        crate::stable_sort::by_key(&mut events, |e| e.position);
        let mut store = EventStore::new();
        for event in events {
            store.insert(event)?;
        }
        Ok(store)
    }

    /// The store of `events` (in position order) up to the first that does not fit
    /// ([`EventStore::insert`]'s checks), and that event's position and why; the store of all
    /// of them when each fits. A reload reads back what a damaged database holds before the
    /// damage rather than nothing (a newcomer's break-test, 36-Q F2).
    pub fn load_prefix(
        events: impl IntoIterator<Item = StoredEvent>,
    ) -> (EventStore, Option<(u64, StoreError)>) {
        let mut store = EventStore::new();
        for event in events {
            let position = event.position;
            if let Err(error) = store.insert(event) {
                return (store, Some((position, error)));
            }
        }
        (store, None)
    }

    /// Adds one event another store appended (a copy kept in step, such as the page's view of
    /// OrderService's store): it must be the next position, its stream's next version, and an
    /// `OrderCreated` exactly when it is version 1. Errors as [`EventStore::load`]'s, with
    /// nothing added.
    pub fn insert(&mut self, event: StoredEvent) -> Result<(), StoreError> {
        let expected = self.head() + 1;
        if event.position != expected {
            return Err(StoreError::PositionGap {
                expected,
                found: event.position,
            });
        }
        let due = self.version(event.stream) + 1;
        if event.version != due {
            return Err(StoreError::VersionGap {
                stream: stream_name(event.stream),
                position: event.position,
                expected: due,
                found: event.version,
            });
        }
        let created = matches!(event.event, StreamEvent::Created { .. });
        if created != (event.version == 1) {
            let reason = if created {
                "OrderCreated may only be a stream's first event".to_owned()
            } else {
                format!(
                    "a stream's first event must be OrderCreated, not {}",
                    event.event.type_name()
                )
            };
            return Err(StoreError::Misplaced {
                stream: stream_name(event.stream),
                version: event.version,
                reason,
            });
        }
        self.push(event);
        Ok(())
    }

    /// Appends `events` to `stream` if it is at the `expected` version; returns them as stored,
    /// numbered from the next position and the next version, each recorded at `now`.
    ///
    /// Errors ([`AppendError`]), with nothing appended: the stream is at another version
    /// ([`AppendError::Conflict`]: "concurrency error: order-… is at version 4, not 3"); a new
    /// stream that does not start with [`StreamEvent::Created`]; a second `Created`. An empty
    /// `events` appends nothing, after the version check.
    pub fn append(
        &mut self,
        stream: Uuid,
        expected: ExpectedVersion,
        events: Vec<StreamEvent>,
        now: Timestamp,
    ) -> Result<Vec<StoredEvent>, AppendError> {
        let actual = self.version(stream);
        if actual != expected.version() {
            return Err(AppendError::Conflict {
                stream,
                expected,
                actual,
            });
        }
        for (offset, event) in (1..).zip(&events) {
            let version = actual + offset;
            match event {
                StreamEvent::Created { .. } if version > 1 => {
                    return Err(AppendError::CreatedAgain { stream, version })
                }
                StreamEvent::Order(_) if version == 1 => {
                    return Err(AppendError::NotCreatedFirst {
                        stream,
                        first: event.type_name(),
                    })
                }
                _ => {}
            }
        }
        let appended: Vec<StoredEvent> = (1..)
            .zip(events)
            .map(|(offset, event)| StoredEvent {
                position: self.head() + offset,
                stream,
                version: actual + offset,
                schema: CURRENT_SCHEMA,
                recorded_at: now,
                event,
            })
            .collect();
        for event in &appended {
            self.push(event.clone());
        }
        Ok(appended)
    }

    fn push(&mut self, event: StoredEvent) {
        let index = self.events.len();
        let stream = self.by_stream.entry(event.stream).or_default();
        if stream.is_empty() {
            self.streams.push(event.stream);
        }
        stream.push(index);
        self.events.push(event);
    }

    /// The last position appended: the number of events in the store (0 when empty).
    pub fn head(&self) -> u64 {
        self.events.len() as u64
    }

    /// The event at `position` (1 is the first appended); `None` past the head or at 0.
    pub fn at(&self, position: u64) -> Option<&StoredEvent> {
        let index = usize::try_from(position.checked_sub(1)?).ok()?;
        self.events.get(index)
    }

    /// Whether the store holds `event` itself, at its position (the same stream, version, type
    /// and body): an event the read model refused that this store holds is not a stranger.
    pub fn holds(&self, event: &StoredEvent) -> bool {
        self.at(event.position) == Some(event)
    }

    /// How many events the store holds (the same as [`EventStore::head`]).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether nothing was ever appended.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The version of `stream`'s last event: what to append under next. 0 for a stream with
    /// no events.
    pub fn version(&self, stream: Uuid) -> u64 {
        self.by_stream.get(&stream).map_or(0, |s| s.len() as u64)
    }

    /// `stream`'s events, version 1 first; none for an unknown stream.
    pub fn stream(&self, stream: Uuid) -> impl ExactSizeIterator<Item = &StoredEvent> + '_ {
        self.by_stream
            .get(&stream)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&index| &self.events[index])
    }

    /// Every stream's id, in the order of its first append.
    pub fn streams(&self) -> &[Uuid] {
        &self.streams
    }

    /// The events from position `from` (inclusive; 0 reads from the start) up to position
    /// `up_to` (inclusive; `None` for the head), in position order. Empty when `from` is past
    /// the end.
    pub fn read_all(&self, from: u64, up_to: Option<u64>) -> &[StoredEvent] {
        let end = up_to.map_or(self.head(), |p| p.min(self.head()));
        let start = from.saturating_sub(1);
        if start >= end {
            return &[];
        }
        // Both bounds are at most `events.len()`.
        &self.events[start as usize..end as usize]
    }

    /// The order as its whole stream says it is: [`Order::new`] from the `OrderCreated`, then
    /// [`Order::apply`] of each next event. `None` for a stream with no events.
    ///
    /// Its `version` counts the events after the creation (`Order::new` starts at 0), as
    /// OrderService's in-memory aggregate does; the stream's own version is one more. Append
    /// under [`EventStore::version`].
    pub fn fold(&self, stream: Uuid) -> Option<Order> {
        self.fold_to(stream, u64::MAX)
    }

    /// Rewind: the order as it was once its stream reached `version` (events of versions 1 to
    /// `version`; a version past the stream's end gives the whole stream). `None` for a stream
    /// with no events or for version 0, before the order existed.
    pub fn fold_to(&self, stream: Uuid, version: u64) -> Option<Order> {
        let mut events = self.stream(stream).take_while(|e| e.version <= version);
        let first = events.next()?;
        let StreamEvent::Created {
            customer_id,
            total_amount,
            ..
        } = &first.event
        else {
            // The invariants put OrderCreated first; a store cannot hold otherwise.
            return None;
        };
        let mut order = Order::new(stream, customer_id, *total_amount);
        for stored in events {
            if let StreamEvent::Order(event) = &stored.event {
                order.apply(event);
            }
        }
        Some(order)
    }

    /// How long the order took, by the store's clock: from its stream's first event
    /// (OrderCreated) to the first that ended it (OrderCompleted or OrderCancelled), the
    /// difference of their `recordedAt` (whole milliseconds; the seed's event-store envelope).
    /// `None` for a stream with no events, one not ended, or a later event recorded before the
    /// first (a clock set back).
    ///
    /// After a reload this is the row's time to outcome: the packets' clock of the page before
    /// is gone with it.
    pub fn time_to_outcome(&self, stream: Uuid) -> Option<Duration> {
        let mut events = self.stream(stream);
        let created = events.next()?.recorded_at.unix_millis();
        let ended = events.find(|e| {
            matches!(
                e.event,
                StreamEvent::Order(OrderEvent::Completed | OrderEvent::Cancelled { .. })
            )
        })?;
        let ms = u64::try_from(ended.recorded_at.unix_millis() - created).ok()?;
        Some(Duration::from_millis(ms))
    }

    /// The whole store as JSON lines: each event's [`StoredEvent::to_json`] and a `\n`, by
    /// position (empty text for an empty store).
    pub fn to_json_lines(&self) -> String {
        let mut text = String::new();
        for event in &self.events {
            // to_json writes JSON, which is UTF-8.
            text.push_str(&String::from_utf8_lossy(&event.to_json()));
            text.push('\n');
        }
        text
    }

    /// A store from JSON lines, as [`EventStore::to_json_lines`] writes them; blank lines are
    /// skipped, `\r\n` line ends accepted. Errors: the first line that is no stored event
    /// ([`StoreError::Line`], "line 3: stored event is not JSON: …"), then what
    /// [`EventStore::load`] finds.
    pub fn from_json_lines(text: &str) -> Result<EventStore, StoreError> {
        let mut events = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let event = StoredEvent::decode(line.as_bytes()).map_err(|error| StoreError::Line {
                line: index + 1,
                error: Box::new(error),
            })?;
            events.push(event);
        }
        EventStore::load(events)
    }
}
