//! NotificationService: one notification per event of the flow, worded as in the seed.

use super::Command;
use crate::domain::events::DomainEvent;
use crate::outside_text::isolate;

/// Every event of the flow is worth telling the customer about.
pub fn on_event(event: &DomainEvent) -> Vec<Command> {
    vec![Command::Notify(message(event))]
}

/// The notification text; order ids are written as hyphenated lowercase UUIDs. The customer id
/// came from outside: its invisible characters are named and right-to-left text is isolated
/// ([`isolate`]), so it cannot turn the sentence around.
pub fn message(event: &DomainEvent) -> String {
    match event {
        DomainEvent::OrderCreated(order) => {
            format!(
                "Order confirmation email sent to {}",
                isolate(&order.customer_id)
            )
        }
        DomainEvent::PaymentProcessed(payment) if payment.success => {
            format!("Payment confirmation for Order {}", payment.order_id)
        }
        DomainEvent::PaymentProcessed(payment) => {
            format!("Payment failed for Order {}", payment.order_id)
        }
        DomainEvent::InventoryReserved(reserved) if reserved.success => {
            format!("Inventory confirmation for Order {}", reserved.order_id)
        }
        DomainEvent::InventoryReserved(reserved) => {
            format!(
                "Inventory reservation failed for Order {}",
                reserved.order_id
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::seed;
    use crate::domain::topics;
    use crate::services::{handle, Delays, ServiceId};

    fn notify(topic: &str, payload: &str) -> Vec<Command> {
        handle(
            ServiceId::Notification,
            &Delays::default(),
            topic,
            payload.as_bytes(),
        )
        .unwrap()
    }

    fn text(text: &str) -> Vec<Command> {
        vec![Command::Notify(text.into())]
    }

    #[test]
    fn externally_published_seed_events_give_the_seed_texts() {
        let cases = [
            (
                topics::ORDERS_CREATED,
                seed::ORDER_CREATED,
                "Order confirmation email sent to C123",
            ),
            (
                topics::PAYMENTS_PROCESSED,
                seed::PAYMENT_PROCESSED,
                "Payment confirmation for Order 3fa85f64-5717-4562-b3fc-2c963f66afa6",
            ),
            (
                topics::INVENTORY_RESERVED,
                seed::INVENTORY_RESERVED,
                "Inventory confirmation for Order 3fa85f64-5717-4562-b3fc-2c963f66afa6",
            ),
        ];
        for (topic, payload, expected) in cases {
            assert_eq!(notify(topic, payload), text(expected), "{topic}");
        }
    }

    #[test]
    fn failures_are_worded_as_failures() {
        let payment = seed::PAYMENT_PROCESSED.replace("true", "false");
        assert_eq!(
            notify(topics::PAYMENTS_PROCESSED, &payment),
            text("Payment failed for Order 3fa85f64-5717-4562-b3fc-2c963f66afa6")
        );
        let reserved = seed::INVENTORY_RESERVED.replace("true", "false");
        assert_eq!(
            notify(topics::INVENTORY_RESERVED, &reserved),
            text("Inventory reservation failed for Order 3fa85f64-5717-4562-b3fc-2c963f66afa6")
        );
    }

    #[test]
    fn order_ids_are_printed_lowercase_even_when_published_uppercase() {
        let upper = seed::PAYMENT_PROCESSED.replace(seed::ORDER_ID, &seed::ORDER_ID.to_uppercase());
        assert_eq!(
            notify(topics::PAYMENTS_PROCESSED, &upper),
            text("Payment confirmation for Order 3fa85f64-5717-4562-b3fc-2c963f66afa6")
        );
    }

    #[test]
    fn a_customer_id_from_outside_cannot_turn_the_sentence_around() {
        let cases = [
            (
                "C\\u202e123",
                "Order confirmation email sent to C⟨U+202E RLO⟩123",
            ),
            (
                "C\\u0000123",
                "Order confirmation email sent to C⟨U+0000 NUL⟩123",
            ),
            (
                "שלום (1)",
                "Order confirmation email sent to \u{2068}שלום (1)\u{2069}",
            ),
        ];
        for (customer, expected) in cases {
            let order = seed::ORDER_CREATED.replace("C123", customer);
            assert_eq!(notify(topics::ORDERS_CREATED, &order), text(expected));
        }
    }

    #[test]
    fn the_customer_id_is_quoted_as_published() {
        let other = seed::ORDER_CREATED.replace("C123", "ada@example.com");
        assert_eq!(
            notify(topics::ORDERS_CREATED, &other),
            text("Order confirmation email sent to ada@example.com")
        );
    }
}
