//! InventoryService: reserves stock for every new order after a delay and publishes the outcome.
//!
//! The seed's flow is the happy path, so every reservation succeeds.

use uuid::Uuid;

use super::{Command, Delays, Work};
use crate::domain::events::{DomainEvent, InventoryReserved, OrderCreated};
use crate::domain::timestamp::Timestamp;

/// A new order starts the (simulated) reservation; other events are not this service's business.
pub fn on_event(delays: &Delays, event: DomainEvent) -> Vec<Command> {
    match event {
        DomainEvent::OrderCreated(order) => {
            vec![Command::Schedule {
                after: delays.inventory,
                work: Work::ReserveInventory(order),
            }]
        }
        DomainEvent::PaymentProcessed(_) | DomainEvent::InventoryReserved(_) => Vec::new(),
    }
}

/// The reservation for `order` finished at `now`; `reservation_id` is new.
pub fn reserve(order: &OrderCreated, now: Timestamp, reservation_id: Uuid) -> InventoryReserved {
    InventoryReserved {
        order_id: order.order_id,
        reservation_id,
        success: true,
        reserved_at: now,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::events::seed;

    fn order() -> OrderCreated {
        serde_json::from_str(seed::ORDER_CREATED).unwrap()
    }

    #[test]
    fn a_new_order_schedules_the_reservation_after_the_inventory_delay() {
        assert_eq!(
            on_event(&Delays::default(), order().into()),
            [Command::Schedule {
                after: Duration::from_millis(800),
                work: Work::ReserveInventory(order())
            }]
        );
    }

    #[test]
    fn other_events_are_ignored() {
        let reserved: InventoryReserved = serde_json::from_str(seed::INVENTORY_RESERVED).unwrap();
        assert_eq!(on_event(&Delays::default(), reserved.into()), []);
    }

    #[test]
    fn the_reservation_reproduces_the_seed_payload_from_the_seed_order() {
        let now = Timestamp::parse("2024-01-15T10:30:00.800Z").unwrap();
        let reservation_id = "9de43f67-1234-5678-b9cd-4e567f89abc3".parse().unwrap();
        let expected: InventoryReserved = serde_json::from_str(seed::INVENTORY_RESERVED).unwrap();
        assert_eq!(reserve(&order(), now, reservation_id), expected);
    }
}
