//! PaymentService: charges every new order after a delay and publishes the outcome.
//!
//! The seed's flow is the happy path, so every charge succeeds.

use uuid::Uuid;

use super::{Command, Delays, Work};
use crate::domain::events::{DomainEvent, OrderCreated, PaymentProcessed};
use crate::domain::timestamp::Timestamp;

/// A new order starts the (simulated) charge; other events are not this service's business.
pub fn on_event(delays: &Delays, event: DomainEvent) -> Vec<Command> {
    match event {
        DomainEvent::OrderCreated(order) => {
            vec![Command::Schedule {
                after: delays.payment,
                work: Work::ChargePayment(order),
            }]
        }
        DomainEvent::PaymentProcessed(_) | DomainEvent::InventoryReserved(_) => Vec::new(),
    }
}

/// The charge for `order` finished at `now`; `payment_id` is new.
pub fn charge(order: &OrderCreated, now: Timestamp, payment_id: Uuid) -> PaymentProcessed {
    PaymentProcessed {
        order_id: order.order_id,
        payment_id,
        amount: order.total_amount,
        success: true,
        processed_at: now,
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
    fn a_new_order_schedules_the_charge_after_the_payment_delay() {
        let delays = Delays {
            payment: Duration::from_millis(1234),
            ..Delays::default()
        };
        assert_eq!(
            on_event(&delays, order().into()),
            [Command::Schedule {
                after: Duration::from_millis(1234),
                work: Work::ChargePayment(order())
            }]
        );
    }

    #[test]
    fn other_events_are_ignored() {
        let payment: PaymentProcessed = serde_json::from_str(seed::PAYMENT_PROCESSED).unwrap();
        assert_eq!(on_event(&Delays::default(), payment.into()), []);
    }

    #[test]
    fn the_charge_carries_the_order_total_the_time_and_the_new_id() {
        let now = Timestamp::parse("2024-01-15T10:30:01.000Z").unwrap();
        let payment_id = Uuid::from_u128(7);
        let mut order = order();
        order.total_amount = 12.34;
        let payment = charge(&order, now, payment_id);
        assert_eq!(
            payment,
            PaymentProcessed {
                order_id: order.order_id,
                payment_id,
                amount: 12.34,
                success: true,
                processed_at: now,
            }
        );
    }
}
