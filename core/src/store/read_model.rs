//! QueryService's read model (the query side of CQRS, source documents 003 and 004): a view
//! of each order, kept up to date by projecting the store's events as they arrive on
//! `eventstore/orders/+`. It is fed by nothing else, so it can always be thrown away and rebuilt
//! from the store ([`super::Rebuild`]), and it can lag behind the store ([`super::Lag`]).
//!
//! MQTT delivers at least once and keeps no order between topics, so the projection is
//! idempotent by (stream, version) and holds an event that arrives before the one it follows.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::event_store::EventStore;
use super::revenue::OrderRevenue;
use super::stored_event::StoredEvent;
use super::stream_event::StreamEvent;
use super::stream_name;
use crate::domain::events::{article, OrderItem};
use crate::domain::money::CentsSum;
use crate::domain::order::{Order, OrderEvent, OrderStatus};
use crate::domain::timestamp::Timestamp;

/// One order as QueryService answers for it (source document 004's `OrderReadModel`).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderView {
    /// The order's id: its stream.
    pub order_id: Uuid,
    /// Who ordered.
    pub customer_id: String,
    /// The items as created (empty for an order recorded in schema 1).
    pub items: Vec<OrderItem>,
    /// The total in currency units, as created.
    pub total_amount: f64,
    /// Where the order is: the aggregate's status after the events projected.
    pub status: OrderStatus,
    /// Why it was cancelled, once it is.
    pub cancel_reason: Option<String>,
    /// The version of the last event of its stream projected (1 after the creation).
    pub version: u64,
    /// When the `OrderCreated` was recorded.
    pub created_at: Timestamp,
    /// When the last event projected was recorded.
    pub updated_at: Timestamp,
    /// When the order completed or was cancelled; `None` while it is open.
    pub ended_at: Option<Timestamp>,
}

/// The read model's headline figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Orders created.
    pub orders: u64,
    /// Of those, completed.
    pub completed: u64,
    /// Of those, cancelled.
    pub cancelled: u64,
    /// Of those, still open (Pending, InventoryConfirmed or PaymentConfirmed).
    pub pending: u64,
    /// Completed orders' totals, less refunds of the charges that paid them, exact to the
    /// cent, or [`CentsSum::TooLarge`] past `u64::MAX` cents (never a saturated figure). A
    /// refunded charge of a cancelled order never counted, so it is not subtracted.
    pub revenue: CentsSum,
}

/// What [`ReadModel::project`] did with an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Projected {
    /// Applied; `released` events held behind it were applied too, and the held events in
    /// `refused` (each with why) were not: their version came, and no store holds them at
    /// their place (41-AH F11: a later version at a lower position). They are dropped, not
    /// held again.
    Applied {
        released: usize,
        refused: Vec<(StoredEvent, String)>,
    },
    /// Its (stream, version) was applied or held before, from the same position: ignored (a
    /// redelivery). The same (stream, version) at another position is no redelivery but a
    /// second event at one version, which no store holds: [`Projected::Refused`].
    Duplicate,
    /// It arrived before the version it follows: held, and applied once that one arrives.
    Held,
    /// No store holds such an event (a first version that is not `OrderCreated`, an
    /// `OrderCreated` that is not first, an event after the order's end, a second event at a
    /// version already projected or held, a second event at a position already projected):
    /// ignored, for this reason.
    Refused(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    view: OrderView,
    order: Order,
    revenue: OrderRevenue,
    /// The position of the newest version applied: the next is at a higher one.
    position: u64,
}

/// A fingerprint of the whole event, as [`StoredEvent::to_json`] writes it (position, stream,
/// version, type, `recordedAt`, data, in the current schema): a true redelivery has the same,
/// an event forged at another's position and version with other data has not (41-AJ F2).
/// Kept in place of the event itself, which the store holds already.
fn fingerprint(event: &StoredEvent) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    event.to_json().hash(&mut hasher);
    hasher.finish()
}

/// Whether `event` would end an order in `status` a second time, which the aggregate refuses
/// (domain/order.rs: nothing ends an order again). Both end states are terminal here (no
/// projected event leaves Completed or Cancelled), so this holds at any later version too.
/// A compensation after the end (a refund, a release) is not such an event: it is taken.
fn ends_again(status: OrderStatus, event: &OrderEvent) -> bool {
    matches!(
        (status, event),
        (
            OrderStatus::Completed,
            OrderEvent::Completed
                | OrderEvent::Cancelled { .. }
                | OrderEvent::InventoryFailed { .. }
                | OrderEvent::PaymentFailed { .. }
        ) | (OrderStatus::Cancelled, OrderEvent::Completed)
    )
}

/// The views of every order projected, with the bookkeeping that makes projecting idempotent.
/// Two read models that projected the same events, in any order and however often, are equal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadModel {
    entries: BTreeMap<Uuid, Entry>,
    /// Position of each order's `OrderCreated` → the order: the views in creation order.
    created: BTreeMap<u64, Uuid>,
    /// Events waiting for the version before them, by (stream, version).
    held: BTreeMap<(Uuid, u64), StoredEvent>,
    /// Every position up to this one is applied.
    checkpoint: u64,
    /// Positions applied beyond `checkpoint + 1`.
    ahead: BTreeSet<u64>,
    /// The highest position applied.
    position: u64,
    /// The (stream, version) applied at each position: a second event at a position projected
    /// before is refused, as no store holds two events at one position.
    /// With the event's type and a fingerprint of the whole event ([`fingerprint`]): a
    /// "redelivery" of another type, or of the same type with other data, at the same position
    /// and version is refused (41-AJ F2).
    at_position: BTreeMap<u64, (Uuid, u64, &'static str, u64)>,
    /// How many events were applied.
    applied: u64,
}

impl ReadModel {
    /// An empty read model: no orders, position 0.
    pub fn new() -> ReadModel {
        ReadModel::default()
    }

    /// Projects one event of the store into the views: [`Projected::Applied`] if it is the
    /// next version of its stream (then any held events that now follow), [`Projected::Held`]
    /// if versions before it are missing (unless it would end an ended order again: refused at
    /// once, at any version), [`Projected::Duplicate`] if its (stream, version)
    /// was seen before at the same position, [`Projected::Refused`] if another (stream, version)
    /// was applied at its position. Never panics; an event no store could hold is
    /// [`Projected::Refused`].
    pub fn project(&mut self, event: &StoredEvent) -> Projected {
        let key = (event.stream, event.version);
        let next = self.next_version(event.stream);
        if event.version < next || self.held.contains_key(&key) {
            // A redelivery is the same event: applied at its position, or the one held (41-AH
            // F1: "some event was applied at its position" let another order's position pass
            // a forged version as a duplicate, ignored without a word).
            // The type and fingerprint of the event at the same place (its position, this
            // version), if any.
            let there = match self.held.get(&key) {
                Some(held) => (held.position == event.position)
                    .then(|| (held.event.type_name(), fingerprint(held))),
                None => self
                    .at_position
                    .get(&event.position)
                    .filter(|&&(stream, version, ..)| (stream, version) == key)
                    .map(|&(_, _, type_name, print)| (type_name, print)),
            };
            // The same place, another event (41-AJ F2: a PaymentFailed forged at the position
            // and version of the store's PaymentConfirmed passed as a redelivery; so did a
            // PaymentConfirmed of another amount).
            if let Some((type_name, print)) = there {
                let other = if type_name != event.event.type_name() {
                    Some(format!("{} {type_name}", article(type_name)))
                } else if print != fingerprint(event) {
                    Some(format!(
                        "{} {type_name} that said otherwise",
                        article(type_name)
                    ))
                } else {
                    None
                };
                if let Some(other) = other {
                    return Projected::Refused(format!(
                        "{} refused: version {} of that order was projected from {other} at \
                         position {}, and no redelivery changes an event",
                        event.event.type_name(),
                        event.version,
                        event.position
                    ));
                }
            }
            let same = there.is_some();
            if !same {
                return Projected::Refused(format!(
                    "{} refused: version {} of that order was projected before, from another \
                     event (position {} is not the one it had)",
                    event.event.type_name(),
                    event.version,
                    event.position
                ));
            }
            return Projected::Duplicate;
        }
        // A store numbers its events one by one: an event at a position projected before
        // from another (stream, version) is not that store's, or the one before was not.
        if let Some(&(stream, version, ..)) = self.at_position.get(&event.position) {
            return Projected::Refused(format!(
                "{} refused: position {} was projected before, from another event (version {} \
                 of {}), and no store holds two events at one position",
                event.event.type_name(),
                event.position,
                version,
                stream_name(stream)
            ));
        }
        if event.version > next {
            // An ended order stays ended, whatever the versions between: an event that would
            // end it again can never be applied, so it is refused now rather than held for a
            // version whose arrival would only refuse it.
            if let Some(entry) = self.entries.get(&event.stream) {
                if let StreamEvent::Order(order_event) = &event.event {
                    if ends_again(entry.order.status, order_event) {
                        return Projected::Refused(format!(
                            "{} refused: the order is already {} at version {}, and an \
                             ended order does not end again, whatever versions come between",
                            event.event.type_name(),
                            entry.order.status.name(),
                            entry.view.version
                        ));
                    }
                }
            }
            self.held.insert(key, event.clone());
            return Projected::Held;
        }
        if let Err(reason) = self.apply(event) {
            return Projected::Refused(reason);
        }
        let mut released = 0;
        let mut refused = Vec::new();
        while let Some(held) = self
            .held
            .remove(&(event.stream, self.next_version(event.stream)))
        {
            if let Err(reason) = self.apply(&held) {
                refused.push((held, reason));
                break;
            }
            released += 1;
        }
        Projected::Applied { released, refused }
    }

    fn next_version(&self, stream: Uuid) -> u64 {
        self.entries.get(&stream).map_or(1, |e| e.view.version + 1)
    }

    fn apply(&mut self, stored: &StoredEvent) -> Result<(), String> {
        let at = stored.recorded_at;
        // A store appends a stream's versions at rising positions (41-AH F11: version 2 at
        // position 49 after version 1 at position 50 was projected).
        if let Some(entry) = self.entries.get(&stored.stream) {
            if stored.position <= entry.position {
                return Err(format!(
                    "{} refused: version {} at position {}, not after version {} of that order at \
                     position {}, and a store appends an order's versions at rising positions",
                    stored.event.type_name(),
                    stored.version,
                    stored.position,
                    entry.view.version,
                    entry.position
                ));
            }
        }
        match (&stored.event, self.entries.get_mut(&stored.stream)) {
            (
                StreamEvent::Created {
                    customer_id,
                    items,
                    total_amount,
                    ..
                },
                None,
            ) => {
                let mut revenue = OrderRevenue::default();
                revenue.record(&stored.event);
                let view = OrderView {
                    order_id: stored.stream,
                    customer_id: customer_id.clone(),
                    items: items.clone(),
                    total_amount: *total_amount,
                    status: OrderStatus::Pending,
                    cancel_reason: None,
                    version: stored.version,
                    created_at: at,
                    updated_at: at,
                    ended_at: None,
                };
                let order = Order::new(stored.stream, customer_id, *total_amount);
                self.entries.insert(
                    stored.stream,
                    Entry {
                        view,
                        order,
                        revenue,
                        position: stored.position,
                    },
                );
                self.created.insert(stored.position, stored.stream);
            }
            // The aggregate's rule (domain/order.rs): nothing ends an order a second time. The
            // store never holds such an event; one on the wire was not written by OrderService.
            (StreamEvent::Order(event), Some(entry)) if ends_again(entry.order.status, event) => {
                return Err(format!(
                    "{} refused: the order is already {}",
                    stored.event.type_name(),
                    entry.order.status.name()
                ))
            }
            (StreamEvent::Order(event), Some(entry)) => {
                entry.order.apply(event);
                entry.revenue.record(&stored.event);
                entry.position = stored.position;
                let view = &mut entry.view;
                view.status = entry.order.status;
                view.cancel_reason.clone_from(&entry.order.cancel_reason);
                view.version = stored.version;
                view.updated_at = at;
                if matches!(event, OrderEvent::Completed | OrderEvent::Cancelled { .. }) {
                    view.ended_at.get_or_insert(at);
                }
            }
            (StreamEvent::Created { .. }, Some(_)) => {
                return Err(format!(
                    "OrderCreated at version {} of a created order",
                    stored.version
                ))
            }
            (StreamEvent::Order(_), None) => {
                return Err(format!(
                    "{} as the first event of a stream",
                    stored.event.type_name()
                ))
            }
        }
        self.at_position.insert(
            stored.position,
            (
                stored.stream,
                stored.version,
                stored.event.type_name(),
                fingerprint(stored),
            ),
        );
        self.mark(stored.position);
        Ok(())
    }

    fn mark(&mut self, position: u64) {
        self.applied += 1;
        self.position = self.position.max(position);
        if position == self.checkpoint + 1 {
            self.checkpoint = position;
            while self.ahead.remove(&(self.checkpoint + 1)) {
                self.checkpoint += 1;
            }
        } else if position > self.checkpoint {
            self.ahead.insert(position);
        }
    }

    /// The highest position applied (0 before any).
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The newest position up to `head` (a store's) that was applied; 0 for none. It is
    /// [`ReadModel::position`] unless the read model applied an event past the store's end
    /// (forged by another client, or another page's store on the same topics): what the store
    /// holds is then judged from here, not from the forged position (43-AN F1: after one event
    /// at position 999999, the store's own events waiting out the projection delay counted as
    /// skipped, and the lag line said nothing of them).
    ///
    /// Nor from an event forged at a position the store reached later (43-AP F2: one forged at
    /// position 5 when the store was at 4 made the line say "at position 5 of 12" and count 7
    /// events behind of the store's 8 not projected): the newest position up to the store's
    /// head whose applied event is the store's own there ([`ReadModel::has_projected`]).
    pub fn position_in(&self, store: &EventStore) -> u64 {
        self.at_position
            .range(..=store.head())
            .rev()
            .find(|(p, _)| store.at(**p).is_some_and(|e| self.has_projected(e)))
            .map_or(0, |(p, _)| *p)
    }

    /// Whether the event at `event`'s position that was applied is `event` (its stream,
    /// version and type): false when nothing was applied there, or another event was (forged
    /// at a position the store reached later; the store's own, arriving after it, is refused,
    /// as no store holds two events at one position).
    pub fn has_projected(&self, event: &StoredEvent) -> bool {
        self.at_position
            .get(&event.position)
            .is_some_and(|(stream, version, kind, _)| {
                (*stream, *version, *kind) == (event.stream, event.version, event.event.type_name())
            })
    }

    /// The positions past `head` (a store's) where the read model applied an event, ascending:
    /// events no store of this page holds yet (44-AS F4: the lag line named only the highest).
    pub fn applied_past(&self, head: u64) -> impl Iterator<Item = u64> + '_ {
        self.at_position
            .range(head.saturating_add(1)..)
            .map(|(p, _)| *p)
    }

    /// The positions up to `store`'s head where the read model applied another event than the
    /// store's there (forged by another client, or another page's store on the same topics,
    /// before the store reached the position), ascending.
    pub fn strangers_in(&self, store: &EventStore) -> Vec<u64> {
        self.at_position
            .range(..=store.head())
            .filter(|(p, _)| store.at(**p).is_some_and(|e| !self.has_projected(e)))
            .map(|(p, _)| *p)
            .collect()
    }

    /// Every position up to this one is applied: the store's events after it are the ones
    /// the read model may still miss.
    pub fn checkpoint(&self) -> u64 {
        self.checkpoint
    }

    /// Whether the event at `position` was applied.
    pub fn has_applied(&self, position: u64) -> bool {
        (position >= 1 && position <= self.checkpoint) || self.ahead.contains(&position)
    }

    /// How many events were applied (duplicates and held events not counted).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// How many events are held, waiting for the versions before them.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The events held, in (stream, version) order, each with the version of its stream it
    /// waits for (the next one to apply: 1 while the stream's `OrderCreated` has not arrived).
    pub fn held_events(&self) -> impl Iterator<Item = (&StoredEvent, u64)> + '_ {
        self.held
            .values()
            .map(|event| (event, self.next_version(event.stream)))
    }

    /// The view of `order_id`, once its creation is projected.
    pub fn get(&self, order_id: Uuid) -> Option<&OrderView> {
        self.entries.get(&order_id).map(|e| &e.view)
    }

    /// Every order's view, in the order the orders were created (by the position of their
    /// `OrderCreated`).
    pub fn orders(&self) -> impl Iterator<Item = &OrderView> + '_ {
        self.created
            .values()
            .filter_map(|id| self.entries.get(id).map(|e| &e.view))
    }

    /// The orders of `customer_id` (compared exactly), in creation order (source document
    /// 003's `GET /api/orders/customer/{customerId}`).
    pub fn by_customer(&self, customer_id: &str) -> Vec<&OrderView> {
        self.orders()
            .filter(|v| v.customer_id == customer_id)
            .collect()
    }

    /// The orders of the customer id `typed` in the query box: [`ReadModel::by_customer`] of
    /// the text as typed, spaces around it included (an order published by hand may carry
    /// them), or, if that finds none, of the text without them (a space typed by mistake).
    pub fn by_customer_typed(&self, typed: &str) -> Vec<&OrderView> {
        match self.by_customer(typed) {
            exact if !exact.is_empty() || typed.trim() == typed => exact,
            _ => self.by_customer(typed.trim()),
        }
    }

    /// The orders now in `status`, in creation order.
    pub fn by_status(&self, status: OrderStatus) -> Vec<&OrderView> {
        self.orders().filter(|v| v.status == status).collect()
    }

    /// How many orders, by outcome, and the revenue.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for entry in self.entries.values() {
            totals.orders += 1;
            match entry.view.status {
                OrderStatus::Completed => totals.completed += 1,
                OrderStatus::Cancelled => totals.cancelled += 1,
                _ => totals.pending += 1,
            }
            totals.revenue = totals.revenue.plus(entry.revenue.kept());
        }
        totals
    }
}
