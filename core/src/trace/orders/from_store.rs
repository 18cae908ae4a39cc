//! What OrderService's event store tells the Orders panel besides the wire: the orders it held
//! before a reload ([`OrderBook::restore`], rows marked [`Start::Restored`]), and an outcome it
//! decided that the wire has not shown yet ([`OrderRow::decided_note`]: the message waits in
//! OrderService's client while the broker is away).
//!
//! The rows stay the wire's: a restored row says where it came from, and from then on the wire
//! moves it on like any other.

use std::time::Duration;

use super::{Compensation, OrderBook, OrderRow, Start, StepSeen};
use crate::domain::order::{Order, OrderEvent, OrderStatus};
use crate::domain::topics;
use crate::store::{EventStore, StreamEvent};

impl OrderBook {
    /// Takes in every order of `store` (OrderService's, read back from the browser's database
    /// after a reload), at `at` on the packets' clock, in the order they were created: a row
    /// marked [`Start::Restored`] (unless the wire showed its `orders/created` meanwhile) with
    /// who ordered, the total, the steps and compensations recorded, and the order's state as
    /// the store folds it. What the wire then shows moves it on; an outcome seen again on the
    /// wire (the outbox publishes again what was not acknowledged) counts as the row's first.
    pub fn restore(&mut self, at: Duration, store: &EventStore) {
        self.restore_owing(at, store, &[]);
    }

    /// [`OrderBook::restore`], when a reload found the outcomes of `owed` (their
    /// `orders/cancelled` or `orders/confirmed`) not yet acknowledged by the broker: their rows
    /// stay open, as before a reload, and [`OrderRow::decided_note`] says the outcome waits
    /// for the broker (a newcomer's break-test, 36-Q F4: reloaded while the broker was down,
    /// rows read "✕ Cancelled" for cancellations the wire had not shown).
    ///
    /// The rows then stand in the store's order (the order OrderService appended the orders),
    /// rows the wire made before the restore included; a row of an order the store does not
    /// hold comes after them, as the newer it is (37-U F4: a retained `orders/created` handed
    /// over before the database answered made the newest order the oldest row).
    pub fn restore_owing(&mut self, at: Duration, store: &EventStore, owed: &[uuid::Uuid]) {
        for &order_id in store.streams() {
            self.take_from_store(at, store, order_id);
            if owed.contains(&order_id) {
                if let Some(row) = self.rows.iter_mut().rfind(|r| r.order_id == order_id) {
                    if row.start == Start::Restored && row.outcomes == 0 {
                        row.status = OrderStatus::Pending;
                        row.reason = None;
                        row.progress();
                    }
                }
            }
        }
        let place: std::collections::HashMap<uuid::Uuid, usize> = store
            .streams()
            .iter()
            .enumerate()
            .map(|(i, &order_id)| (order_id, i))
            .collect();
        crate::stable_sort::by_key(self.rows.make_contiguous(), |row| {
            place.get(&row.order_id).copied().unwrap_or(usize::MAX)
        });
    }

    /// An `orders/created` just seen at `at` made a new row for `order_id`, but the order had
    /// already ended in `store` (a copy published again after *Clear*, or after the book dropped
    /// its row): the row takes its outcome, steps and compensations from the store and is marked
    /// [`Start::Replayed`], not left open for ever waiting for an outcome the wire showed long
    /// ago (a newcomer's break-test: "its orders/confirmed is not on the wire yet: it waits for
    /// the broker", with the broker up). Nothing if the order is open or unknown to the store.
    pub fn replayed(&mut self, at: Duration, store: &EventStore, order_id: uuid::Uuid) {
        if !store
            .fold(order_id)
            .is_some_and(|order| order.status.is_terminal())
        {
            return;
        }
        self.take_from_store(at, store, order_id);
        if let Some(row) = self.rows.iter_mut().rfind(|r| r.order_id == order_id) {
            if let Start::Created(seen) = row.start {
                row.start = Start::Replayed(seen);
            }
        }
    }

    /// After [`OrderBook::restore`]: what PaymentService and InventoryService kept in the tab's
    /// database of each restored order (decision 0021) adds the charges and reservations the
    /// store does not hold, so a row of an order charged or reserved twice (a redelivery with
    /// the idempotent consumers off) still says so after a reload (a newcomer's break-test,
    /// 34-I F4: "✕ charged 2 times ✕ reserved 2 times" became "✓ charged 59.98", while both
    /// charges and both reservations were still kept).
    pub fn take_participants(
        &mut self,
        payment: &crate::services::payment::PaymentService,
        inventory: &crate::services::inventory::InventoryService,
    ) {
        for row in self.rows.iter_mut().filter(|r| r.start == Start::Restored) {
            let kept = payment
                .charges_of(row.order_id)
                .into_iter()
                .map(|(payment_id, amount)| StepSeen::Charged(payment_id, amount))
                .chain(
                    inventory
                        .reservations_of(row.order_id)
                        .into_iter()
                        .map(StepSeen::Reserved),
                );
            for step in kept {
                // Not in OrderService's store: known from the participant alone (35-L F6).
                if !row.has_step(&step) {
                    row.kept_only.extend(step.identity());
                    row.step(step);
                }
            }
        }
    }

    /// [`OrderBook::restore`] for one order of `store`.
    fn take_from_store(&mut self, at: Duration, store: &EventStore, order_id: uuid::Uuid) {
        {
            let Some(order) = store.fold(order_id) else {
                return;
            };
            let mut steps = Vec::new();
            let mut compensations = Vec::new();
            for stored in store.stream(order_id) {
                let StreamEvent::Order(event) = &stored.event else {
                    continue;
                };
                match event {
                    OrderEvent::InventoryConfirmed { reservation_id } => {
                        steps.push(StepSeen::Reserved(*reservation_id));
                    }
                    OrderEvent::InventoryFailed { reason } => {
                        steps.push(StepSeen::ReservationFailed(reason.clone()));
                    }
                    OrderEvent::PaymentConfirmed { payment_id, amount } => {
                        steps.push(StepSeen::Charged(*payment_id, *amount));
                    }
                    // The nil id for a decline stored in schema 2 or older.
                    OrderEvent::PaymentFailed { payment_id, reason } => {
                        steps.push(StepSeen::Declined(*payment_id, reason.clone()));
                    }
                    OrderEvent::InventoryReleased { reservation_id } => {
                        if self.first_time(order_id, "released", *reservation_id) {
                            compensations.push(Compensation::Released(*reservation_id));
                        }
                    }
                    OrderEvent::PaymentRefunded { payment_id, amount } => {
                        if self.first_time(
                            order_id,
                            "refunded",
                            super::refund_key(*payment_id, *amount),
                        ) {
                            compensations.push(Compensation::Refunded(*payment_id, *amount));
                        }
                    }
                    OrderEvent::Completed | OrderEvent::Cancelled { .. } => {}
                }
            }
            let row = self.row_mut(order_id, at);
            if !matches!(row.start, Start::Created(_)) {
                row.start = Start::Restored;
            }
            row.customer_id.get_or_insert(order.customer_id.clone());
            row.total.get_or_insert(order.total);
            for step in steps {
                row.step(step);
            }
            row.compensations.extend(compensations);
            if !row.status.is_terminal() {
                row.status = order.status;
                row.reason = order.cancel_reason.clone();
            }
        }
    }
}

impl OrderRow {
    /// While the wire has not shown the outcome OrderService recorded in its store (`stored`,
    /// the order folded from its stream): what the row says of it, e.g. `cancelled by
    /// OrderService (payment timed out); its orders/cancelled is not on the wire yet: it waits
    /// for the broker`. `None` once the wire shows an outcome, or while the store has none.
    pub fn decided_note(&self, stored: Option<&Order>) -> Option<String> {
        let stored = stored?;
        if self.status.is_terminal() {
            return None;
        }
        let (what, topic) = match stored.status {
            OrderStatus::Cancelled => {
                let reason = stored.cancel_reason.as_deref().unwrap_or("no reason given");
                (
                    format!("cancelled by OrderService ({reason})"),
                    topics::ORDERS_CANCELLED,
                )
            }
            OrderStatus::Completed => (
                "completed by OrderService".to_owned(),
                topics::ORDERS_CONFIRMED,
            ),
            _ => return None,
        };
        Some(format!(
            "{what}; its {topic} is not on the wire yet: it waits for the broker"
        ))
    }
}
