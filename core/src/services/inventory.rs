//! InventoryService: reserves an order's items after a delay and publishes the outcome; fails
//! when the [`Stock`] is short; releases a reservation whose order was cancelled.
//!
//! A reservation takes every item at once or nothing, and a release gives back exactly what was
//! taken, so the stock never goes negative however many orders arrive. An empty stock counts
//! nothing (the seed's happy path); a stock that lists products is the catalogue, and an order
//! for a product it does not list is refused as [`RejectionKind::Unknown`]: dead-lettered,
//! so that once the product is added to the stock, its Retry is reserved (a product removed
//! from the stock while a reservation is under way fails that reservation). What starts a
//! reservation depends on the
//! saga's style: `orders/created` (parallel, choreography) or the command
//! `commands/inventory/reserve` (orchestration); a cancellation (`orders/cancelled`, or
//! `commands/inventory/release`) releases it, and a reservation completing after its order was
//! cancelled is released at once (parallel, choreography).
//!
//! **Compensation before the step.** A release asked for an order InventoryService has never
//! reserved for and is not reserving (the command, or `orders/created`, was lost or is still on
//! its way) is answered anyway, with [`InventoryReleased::unreserved`] (nil `reservationId`), so
//! that OrderService sees the compensation end; a reservation asked for the order later is
//! refused (`inventory/reserved` `"success": false`, reason `order already cancelled`). A
//! reservation under way is not answered yet: it completes, and is released at once. A
//! reservation that failed needs no answer, and gets none.
//!
//! Every change of a counted product's units (a reservation, a release, the learner's edit) is
//! also published retained on `inventory/stock/<productId>` ([`Command::Retain`]), and a product
//! no longer counted has its retained level cleared: see [`super::stock_levels`].

use std::collections::BTreeMap;

use uuid::Uuid;

use super::durable::{time_of, HeldMemo, InventoryMemo};
use super::memory::{Asked, Compensation, Recent, SagaStanding, ORDERS_REMEMBERED};
use super::settings::{FlowSettings, SagaStyle, Stock};
use super::stock_levels::StockUpdate;
use super::{Command, Rejection, RejectionKind, Work};
use crate::domain::events::{DomainEvent, InventoryReleased, InventoryReserved, OrderItem};
use crate::domain::timestamp::Timestamp;

/// A reservation that holds stock.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    reservation_id: Uuid,
    /// Units taken from the stock, per counted product.
    taken: BTreeMap<String, u32>,
    /// When its release was published (`None`: still held), kept so that the release can be
    /// sent again as it was ([`InventoryService::answers_again`]).
    released_at: Option<Timestamp>,
}

/// InventoryService's memory: the stock and what it reserved.
#[derive(Debug, Clone)]
pub struct InventoryService {
    stock: Stock,
    /// Every reservation per order (a redelivered order, with idempotency off, is reserved
    /// twice: a cancellation releases both).
    held: Recent<Uuid, Vec<Held>>,
    /// How each order's saga stands (cancelled, confirmed, failed, compensated before the step).
    saga: SagaStanding,
    /// The orders it was asked to reserve for by command (orchestration): it hears no outcome
    /// of theirs, so their reservations are taken for good unless a release command comes, not
    /// held waiting for an outcome ([`InventoryService::held`]).
    commanded: Recent<Uuid, ()>,
    /// The products the learner stopped counting in this page's life (and has not counted
    /// again): their retained levels are cleared on every broker InventoryService connects to
    /// afterwards, not only the one it was on ([`InventoryService::levels`]).
    uncounted: std::collections::BTreeSet<String>,
}

impl InventoryService {
    /// InventoryService with `stock` on hand.
    pub fn new(stock: Stock) -> Self {
        InventoryService {
            stock,
            held: Recent::new(ORDERS_REMEMBERED),
            saga: SagaStanding::default(),
            commanded: Recent::new(ORDERS_REMEMBERED),
            uncounted: Default::default(),
        }
    }

    /// What InventoryService remembers of `order_id`, to keep in the tab's database
    /// ([`super::durable`]); `None` if nothing.
    pub fn memo(&self, order_id: Uuid) -> Option<InventoryMemo> {
        let memo = InventoryMemo {
            held: self
                .held
                .get(&order_id)
                .map(|holds| {
                    holds
                        .iter()
                        .map(|h| HeldMemo {
                            reservation_id: h.reservation_id,
                            taken: h.taken.clone(),
                            released_at: h.released_at.map(Timestamp::unix_millis),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            saga: self.saga.memo(order_id),
            commanded: self.commanded.contains(&order_id),
        };
        (memo != InventoryMemo::default()).then_some(memo)
    }

    /// Takes back what [`InventoryService::memo`] gave for `order_id` (after a reload). The
    /// stock is not changed: the units a reservation took are already off the stock kept with
    /// it ([`super::durable::STOCK_KEY`]). Returns how many of them are open (as [`Self::held`] counts them).
    pub fn restore_memo(&mut self, order_id: Uuid, memo: &InventoryMemo) -> usize {
        let holds: Vec<Held> = memo
            .held
            .iter()
            .map(|h| Held {
                reservation_id: h.reservation_id,
                taken: h.taken.clone(),
                released_at: time_of(h.released_at),
            })
            .collect();
        if memo.commanded {
            self.commanded.insert(order_id, ());
        }
        self.saga.restore(order_id, &memo.saga);
        // Open as [`Self::held`] counts them: not released, and the order neither confirmed nor
        // commanded (a newcomer's break-test, 35-N F7, read 101 "holding stock" of 150
        // completed orders).
        let ended = self.saga.confirmed.contains(&order_id) || memo.commanded;
        let open = if ended {
            0
        } else {
            holds.iter().filter(|h| h.released_at.is_none()).count()
        };
        if !holds.is_empty() {
            self.held.insert(order_id, holds);
        }
        open
    }

    /// Takes back the stock kept in the tab's database (after a reload): the truth, since it
    /// was written with each reservation and release before their messages went out.
    pub fn restore_stock(&mut self, stock: Stock) {
        self.stock = stock;
    }

    /// The stock on hand now.
    pub fn stock(&self) -> &Stock {
        &self.stock
    }

    /// Units held by open reservations, per counted product: taken off the stock by a
    /// reservation neither released nor confirmed (a confirmed order's units are sold; one
    /// reserved by command, under orchestration, hears no outcome, so its units count as taken,
    /// not held: a break-test saw every orchestrated order's units "held" for good). A
    /// release gives them back to the stock on hand, also after an edit of the stock (which
    /// sets the units on hand and keeps the reservations held: a newcomer's break-test saw
    /// `P001: 14 left` after setting 10, with nothing saying 4 were held). Products with none
    /// held are left out; empty when nothing is counted (nothing is looked at then).
    pub fn held(&self) -> Stock {
        let mut held = std::collections::BTreeMap::new();
        if self.stock.0.is_empty() {
            return Stock(held);
        }
        for (order_id, holds) in self.held.iter() {
            if self.saga.confirmed.contains(order_id) || self.commanded.contains(order_id) {
                continue;
            }
            for hold in holds.iter().filter(|h| h.released_at.is_none()) {
                for (product, units) in &hold.taken {
                    if *units > 0 && self.stock.0.contains_key(product) {
                        *held.entry(product.clone()).or_insert(0u32) += units;
                    }
                }
            }
        }
        Stock(held)
    }

    /// Every reservation of `order_id` it made (and remembers), released or not, oldest first;
    /// two for an order delivered twice with the idempotent consumer off.
    pub fn reservations_of(&self, order_id: Uuid) -> Vec<Uuid> {
        self.held.get(&order_id).map_or_else(Vec::new, |holds| {
            holds.iter().map(|h| h.reservation_id).collect()
        })
    }

    /// Whether it reserved stock for `order_id` (released since or not).
    pub fn did_reserve(&self, order_id: Uuid) -> bool {
        self.held.contains(&order_id)
    }

    /// Whether a reservation of `order_id` still holds stock.
    pub fn holds(&self, order_id: Uuid) -> bool {
        self.held
            .get(&order_id)
            .is_some_and(|holds| holds.iter().any(|h| h.released_at.is_none()))
    }

    /// Replaces the stock on hand (the learner edited it); reservations held are kept. Returns
    /// the retained levels to publish: each product whose units changed, and a clearing for each
    /// product no longer counted.
    pub fn set_stock(&mut self, stock: Stock) -> Vec<Command> {
        let updates = StockUpdate::between(&self.stock, &stock);
        self.stock = stock;
        for update in &updates {
            if let StockUpdate::Uncounted(product) = update {
                self.uncounted.insert(product.clone());
            }
        }
        self.uncounted
            .retain(|product| !self.stock.0.contains_key(product));
        updates.into_iter().map(Command::Retain).collect()
    }

    /// Every counted product's level, retained, then a clearing (an empty retained message) for
    /// each product the learner stopped counting in this page's life: what InventoryService
    /// states each time it connects, so the broker holds the current levels from the start (and
    /// again after it lost them), and a broker it was away from while a product was removed
    /// loses that product's level too (a newcomer's break-test, 34-K F8: the first broker kept
    /// it while the page said it was cleared).
    pub fn levels(&self) -> Vec<Command> {
        let cleared = self.uncounted.iter().cloned().map(StockUpdate::Uncounted);
        StockUpdate::levels(&self.stock)
            .into_iter()
            .chain(cleared)
            .map(Command::Retain)
            .collect()
    }

    /// The retained level of each of `products` still counted.
    fn levels_of<'a>(&self, products: impl IntoIterator<Item = &'a String>) -> Vec<Command> {
        let mut products: Vec<&String> = products.into_iter().collect();
        crate::stable_sort::by(&mut products, |a, b| a.cmp(b));
        products.dedup();
        products
            .into_iter()
            .filter_map(|p| Some(Command::Retain(StockUpdate::level(p, self.stock.of(p)?))))
            .collect()
    }

    /// What a message asks of InventoryService at `now`; `reserving` says whether a
    /// reservation for the message's order is under way (scheduled, not completed: the `Flow`
    /// keeps that schedule).
    pub fn on_event(
        &mut self,
        settings: &FlowSettings,
        now: Timestamp,
        event: DomainEvent,
        reserving: bool,
    ) -> Result<Vec<Command>, Rejection> {
        let reserve = |order_id, items| Command::Schedule {
            after: settings.delays.inventory,
            work: Work::Reserve { order_id, items },
        };
        let items = match &event {
            DomainEvent::OrderCreated(order) if settings.saga != SagaStyle::Orchestration => {
                Some(&order.items)
            }
            DomainEvent::ReserveInventory(command) => {
                self.commanded.insert(command.order_id, ());
                Some(&command.items)
            }
            _ => None,
        };
        if let Some(items) = items {
            let unknown = self
                .stock
                .unknown(items.iter().map(|item| item.product_id.as_str()));
            if !unknown.is_empty() {
                let names: Vec<String> = unknown
                    .iter()
                    .map(|p| crate::outside_text::quoted(p))
                    .collect();
                return Err(Rejection {
                    reason: format!(
                        "unknown product {}: the stock lists only {} (add it to the stock, \
                         then Retry)",
                        names.join(", "),
                        self.stock.0.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    kind: RejectionKind::Unknown,
                    answer_again: Vec::new(),
                });
            }
        }
        Ok(match (settings.saga, event) {
            (SagaStyle::Orchestration, DomainEvent::OrderCreated(_)) => Vec::new(),
            // Cancelled before it arrived here (topics keep no order between them, MQTT
            // §4.6): nothing to reserve, and its log says why. No `inventory/reserved` is
            // published for it (decision 0008: a late event starts nothing; only a command,
            // under orchestration, is answered `order already cancelled`).
            (_, DomainEvent::OrderCreated(order))
                if self.saga.cancelled.contains(&order.order_id) =>
            {
                vec![Command::Log {
                    line: format!(
                        "order {} is cancelled: nothing is reserved for it (its cancellation \
                         arrived first)",
                        order.order_id
                    ),
                    gave_up: false,
                }]
            }
            (_, DomainEvent::OrderCreated(order)) => vec![reserve(order.order_id, order.items)],
            (_, DomainEvent::ReserveInventory(command)) => {
                vec![reserve(command.order_id, command.items)]
            }
            (_, DomainEvent::OrderConfirmed(confirmed)) => {
                // With the idempotent consumers off, a step done twice is the lesson
                // (the order delivered again is charged and reserved twice).
                self.saga
                    .confirmation(confirmed.order_id, reserving && settings.dedupe);
                Vec::new()
            }
            (_, DomainEvent::OrderCancelled(cancelled)) => {
                self.saga
                    .cancellation(cancelled.order_id, "released")
                    .map_err(Rejection::new)?;
                self.compensate(cancelled.order_id, now, reserving, Asked::ByCancellation)
            }
            (_, DomainEvent::ReleaseInventory(command)) => {
                self.compensate(command.order_id, now, reserving, Asked::ByCommand)
            }
            _ => Vec::new(),
        })
    }

    /// A release asked for `order_id` at `now`: gives back what it holds; or, never reserved,
    /// not `reserving` and not failed, the compensation before the step
    /// ([`InventoryReleased::unreserved`], the same message again each time it is asked, and the
    /// order remembered as compensated); nothing while a reservation is under way or when it failed. Asked again
    /// once every reservation is released, the releases it published, again
    /// ([`InventoryService::answers_again`]): the answer to the first request may have been
    /// lost on its way to OrderService, which asks until it hears one.
    fn compensate(
        &mut self,
        order_id: Uuid,
        now: Timestamp,
        reserving: bool,
        asked: Asked,
    ) -> Vec<Command> {
        let reserved = self.held.contains(&order_id);
        match self.saga.compensation(order_id, now, reserved, reserving, asked) {
            Compensation::Undo => {
                let releases = self.release(order_id, now);
                if releases.is_empty() {
                    self.answers_again(order_id)
                } else {
                    releases
                }
            }
            Compensation::Nothing => Vec::new(),
            Compensation::AnswerAgain => self.answers_again(order_id),
            Compensation::BeforeTheStep if self.saga.failed.contains(&order_id) => vec![
                Command::Publish(InventoryReleased::unreserved(order_id, now).into()),
                Command::Log {
                    line: format!(
                        "order {order_id}: nothing to release, its reservation failed here; OrderService asks for a release all the same (it did not hear the failure, or another reservation of the order came from elsewhere): answered with the nil reservationId, so that its saga ends"
                    ),
                    gave_up: false,
                },
            ],
            Compensation::BeforeTheStep => vec![
                Command::Publish(InventoryReleased::unreserved(order_id, now).into()),
                Command::Log {
                    line: format!(
                        "order {order_id}: nothing to release, nothing was reserved for it here: answered with the nil reservationId (the compensation before the step); a reservation asked for it later is not made"
                    ),
                    gave_up: false,
                },
            ],
        }
    }

    /// Whether a copy of a compensation of `order_id` (its identity processed before) still
    /// owes an answer: nothing was reserved for it here ([`SagaStanding::owes_an_answer`]).
    pub fn owes_an_answer(&self, order_id: Uuid) -> bool {
        self.saga
            .owes_an_answer(order_id, self.held.contains(&order_id))
    }

    /// Whether InventoryService neither did `order_id`'s step nor saw it fail or confirmed
    /// ([`SagaStanding::never_did_its_step`]).
    pub fn never_did_its_step(&self, order_id: Uuid) -> bool {
        self.saga
            .never_did_its_step(order_id, self.held.contains(&order_id))
    }

    /// Whether InventoryService still owes `order_id` its reservation's result: nothing
    /// reserved or refused for it, and its saga not ended or compensated here
    /// ([`SagaStanding::owes_its_step`]).
    pub fn owes_its_step(&self, order_id: Uuid) -> bool {
        self.saga
            .owes_its_step(order_id, self.held.contains(&order_id))
    }

    /// What InventoryService answered before to a compensation of `order_id`, to send again
    /// when it is asked once more (the copy taken for a duplicate, or the same request again):
    /// each release it published, byte for byte as it went (the same `reservationId` and
    /// `releasedAt`, so a consumer that had it ignores the copy by its identity), or, if it was
    /// compensated before the step, its `inventory/released` with the nil id (dated as the
    /// first: byte for byte too).
    /// Nothing if it answered nothing yet. The stock is not given back twice: only the messages
    /// go again. See [`super::payment::PaymentService::answers_again`] for why.
    pub fn answers_again(&self, order_id: Uuid) -> Vec<Command> {
        if let Some(&answered_at) = self.saga.compensated_early.get(&order_id) {
            return vec![Command::Publish(
                InventoryReleased::unreserved(order_id, answered_at).into(),
            )];
        }
        let Some(holds) = self.held.get(&order_id) else {
            return Vec::new();
        };
        holds
            .iter()
            .filter_map(|held| {
                let released_at = held.released_at?;
                Some(Command::Publish(
                    InventoryReleased {
                        order_id,
                        reservation_id: held.reservation_id,
                        released_at,
                    }
                    .into(),
                ))
            })
            .collect()
    }

    /// Gives back everything `order_id` holds (nothing if it holds none).
    fn release(&mut self, order_id: Uuid, now: Timestamp) -> Vec<Command> {
        let Some(holds) = self.held.get_mut(&order_id) else {
            return Vec::new();
        };
        let mut releases = Vec::new();
        let mut given_back = Vec::new();
        for held in holds.iter_mut().filter(|h| h.released_at.is_none()) {
            held.released_at = Some(now);
            for (product, units) in &held.taken {
                if let Some(level) = self.stock.0.get_mut(product) {
                    *level = level.saturating_add(*units);
                    given_back.push(product.clone());
                }
            }
            releases.push(Command::Publish(
                InventoryReleased {
                    order_id,
                    reservation_id: held.reservation_id,
                    released_at: now,
                }
                .into(),
            ));
        }
        releases.extend(self.levels_of(&given_back));
        releases
    }

    /// The reservation of `items` for `order_id` finished at `now` under `reservation_id`:
    /// refused (`order already cancelled`) if the order was compensated before the step; else
    /// every counted product must have the units, or nothing is taken; released at once if the
    /// order was heard cancelled meanwhile, whatever the style is now.
    pub fn reserve(
        &mut self,
        order_id: Uuid,
        items: &[OrderItem],
        now: Timestamp,
        reservation_id: Uuid,
    ) -> Vec<Command> {
        let mut wanted: BTreeMap<String, u32> = BTreeMap::new();
        for item in items {
            if self.stock.of(&item.product_id).is_some() {
                let units = wanted.entry(item.product_id.clone()).or_default();
                *units = units.saturating_add(item.quantity);
            }
        }
        // Removed from the stock while the reservation was under way.
        let gone = self
            .stock
            .unknown(items.iter().map(|item| item.product_id.as_str()));
        let short: Vec<String> = wanted
            .iter()
            .filter_map(|(product, &asked)| {
                let left = self.stock.of(product).unwrap_or_default();
                (asked > left).then(|| format!("{product} ({asked} asked, {left} left)"))
            })
            .chain(gone.iter().map(|p| {
                format!(
                    "{} (no longer in the stock)",
                    crate::outside_text::quoted(p)
                )
            }))
            .collect();
        // Compensated before this reservation was asked, or confirmed without it while it was
        // under way: refused, nothing taken.
        let early = self.saga.compensated_early.contains(&order_id);
        let confirmed = !early && self.saga.confirmed_while_under_way(order_id);
        let success = short.is_empty() && !early && !confirmed;
        let reason = if early {
            super::payment::ALREADY_CANCELLED.to_owned()
        } else if confirmed {
            super::memory::CONFIRMED_WITHOUT_IT.to_owned()
        } else {
            format!("out of stock: {}", short.join(", "))
        };
        let reserved = InventoryReserved {
            order_id,
            reservation_id,
            success,
            reason: (!success).then_some(reason),
            reserved_at: now,
        };
        if !success {
            self.saga.failed.insert(order_id, ());
        }
        let mut commands = vec![Command::Publish(reserved.into())];
        if success {
            for (product, units) in &wanted {
                if let Some(level) = self.stock.0.get_mut(product) {
                    *level -= units;
                }
            }
            commands.extend(self.levels_of(wanted.keys()));
            let held = Held {
                reservation_id,
                taken: wanted,
                released_at: None,
            };
            match self.held.get_mut(&order_id) {
                Some(holds) => holds.push(held),
                None => self.held.insert(order_id, vec![held]),
            }
            if self.saga.cancelled.contains(&order_id) {
                commands.extend(self.release(order_id, now));
            }
        }
        commands
    }
}
