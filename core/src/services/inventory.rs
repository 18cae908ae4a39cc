//! InventoryService: reserves an order's items after a delay and publishes the outcome; fails
//! when the [`Stock`] is short; releases a reservation whose order was cancelled.
//!
//! A reservation takes every item at once or nothing, and a release gives back exactly what was
//! taken, so the stock never goes negative however many orders arrive. Products the stock does
//! not list are not counted (the seed's happy path). What starts a reservation depends on the
//! saga's style: `orders/created` (parallel, choreography) or the command
//! `commands/inventory/reserve` (orchestration); a cancellation (`orders/cancelled`, or
//! `commands/inventory/release`) releases it, and a reservation completing after its order was
//! cancelled is released at once (parallel, choreography).

use std::collections::BTreeMap;

use uuid::Uuid;

use super::memory::{Recent, ORDERS_REMEMBERED};
use super::settings::{FlowSettings, SagaStyle, Stock};
use super::{Command, Rejection, Work};
use crate::domain::events::{DomainEvent, InventoryReleased, InventoryReserved, OrderItem};
use crate::domain::timestamp::Timestamp;

/// A reservation that holds stock.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    reservation_id: Uuid,
    /// Units taken from the stock, per counted product.
    taken: BTreeMap<String, u32>,
    released: bool,
}

/// InventoryService's memory: the stock and what it reserved.
#[derive(Debug, Clone)]
pub struct InventoryService {
    stock: Stock,
    held: Recent<Uuid, Held>,
    /// Orders seen cancelled: a reservation completing later is released at once.
    cancelled: Recent<Uuid, ()>,
}

impl InventoryService {
    /// InventoryService with `stock` on hand.
    pub fn new(stock: Stock) -> Self {
        InventoryService {
            stock,
            held: Recent::new(ORDERS_REMEMBERED),
            cancelled: Recent::new(ORDERS_REMEMBERED),
        }
    }

    /// The stock on hand now.
    pub fn stock(&self) -> &Stock {
        &self.stock
    }

    /// Replaces the stock on hand (the learner edited it); reservations held are kept.
    pub fn set_stock(&mut self, stock: Stock) {
        self.stock = stock;
    }

    /// What a message asks of InventoryService.
    pub fn on_event(
        &mut self,
        settings: &FlowSettings,
        now: Timestamp,
        event: DomainEvent,
    ) -> Result<Vec<Command>, Rejection> {
        let reserve = |order_id, items| Command::Schedule {
            after: settings.delays.inventory,
            work: Work::Reserve { order_id, items },
        };
        Ok(match (settings.saga, event) {
            (SagaStyle::Orchestration, DomainEvent::OrderCreated(_)) => Vec::new(),
            (_, DomainEvent::OrderCreated(order)) => vec![reserve(order.order_id, order.items)],
            (_, DomainEvent::ReserveInventory(command)) => {
                vec![reserve(command.order_id, command.items)]
            }
            (_, DomainEvent::OrderCancelled(cancelled)) => {
                self.cancelled.insert(cancelled.order_id, ());
                self.release(cancelled.order_id, now).into_iter().collect()
            }
            (_, DomainEvent::ReleaseInventory(command)) => {
                match self.release(command.order_id, now) {
                    Some(release) => vec![release],
                    None => {
                        return Err(Rejection::new(format!(
                            "nothing to release: no stock is held for order {}",
                            command.order_id
                        )))
                    }
                }
            }
            _ => Vec::new(),
        })
    }

    /// Gives back what `order_id` holds, if anything.
    fn release(&mut self, order_id: Uuid, now: Timestamp) -> Option<Command> {
        let held = self.held.get_mut(&order_id)?;
        if held.released {
            return None;
        }
        held.released = true;
        for (product, units) in &held.taken {
            if let Some(level) = self.stock.0.get_mut(product) {
                *level = level.saturating_add(*units);
            }
        }
        Some(Command::Publish(
            InventoryReleased {
                order_id,
                reservation_id: held.reservation_id,
                released_at: now,
            }
            .into(),
        ))
    }

    /// The reservation of `items` for `order_id` finished at `now` under `reservation_id`:
    /// every counted product must have the units, or nothing is taken; released at once if the
    /// order was cancelled meanwhile (parallel, choreography).
    pub fn reserve(
        &mut self,
        style: SagaStyle,
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
        let short: Vec<String> = wanted
            .iter()
            .filter_map(|(product, &asked)| {
                let left = self.stock.of(product).unwrap_or_default();
                (asked > left).then(|| format!("{product} ({asked} asked, {left} left)"))
            })
            .collect();
        let success = short.is_empty();
        let reserved = InventoryReserved {
            order_id,
            reservation_id,
            success,
            reason: (!success).then(|| format!("out of stock: {}", short.join(", "))),
            reserved_at: now,
        };
        let mut commands = vec![Command::Publish(reserved.into())];
        if success {
            for (product, units) in &wanted {
                if let Some(level) = self.stock.0.get_mut(product) {
                    *level -= units;
                }
            }
            let held = Held {
                reservation_id,
                taken: wanted,
                released: false,
            };
            self.held.insert(order_id, held);
            if style != SagaStyle::Orchestration && self.cancelled.contains(&order_id) {
                commands.extend(self.release(order_id, now));
            }
        }
        commands
    }
}
