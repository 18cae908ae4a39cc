//! NotificationService: tells the customer what happened to their order, one notification per
//! event it subscribes to, worded as in the seed for the seed's three events.

use super::Command;
use crate::domain::events::DomainEvent;
use crate::domain::money::amount_text;
use crate::outside_text::isolate;

/// Every event NotificationService receives is worth telling the customer about; a command is
/// not (it never subscribes to any).
pub fn on_event(event: &DomainEvent) -> Vec<Command> {
    message(event).map(Command::Notify).into_iter().collect()
}

/// The notification text, if the event is one a customer hears of; order ids are written as
/// hyphenated lowercase UUIDs. Text that came from outside (the customer id, a reason) has its
/// invisible characters named and right-to-left text isolated ([`isolate`]), so it cannot turn
/// the sentence around.
pub fn message(event: &DomainEvent) -> Option<String> {
    let because = |reason: &Option<String>| match reason {
        Some(reason) => format!(": {}", isolate(reason)),
        None => String::new(),
    };
    Some(match event {
        DomainEvent::OrderCreated(order) => {
            format!(
                "Order confirmation email sent to {}",
                isolate(&order.customer_id)
            )
        }
        DomainEvent::PaymentProcessed(payment) if payment.success => {
            format!("Payment confirmation for Order {}", payment.order_id)
        }
        DomainEvent::PaymentProcessed(payment) => format!(
            "Payment failed for Order {}{}",
            payment.order_id,
            because(&payment.reason)
        ),
        DomainEvent::InventoryReserved(reserved) if reserved.success => {
            format!("Inventory confirmation for Order {}", reserved.order_id)
        }
        DomainEvent::InventoryReserved(reserved) => format!(
            "Inventory reservation failed for Order {}{}",
            reserved.order_id,
            because(&reserved.reason)
        ),
        DomainEvent::OrderConfirmed(confirmed) => {
            format!("Order {} confirmed", confirmed.order_id)
        }
        DomainEvent::OrderCancelled(cancelled) => {
            format!(
                "Order {} cancelled: {}",
                cancelled.order_id,
                isolate(&cancelled.reason)
            )
        }
        // Nothing was charged (a compensation before the step): nothing to tell the customer.
        DomainEvent::PaymentRefunded(refund) if refund.is_uncharged() => return None,
        DomainEvent::PaymentRefunded(refund) => format!(
            "Refund issued for Order {}: {}",
            refund.order_id,
            amount_text(refund.amount)
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::seed;
    use crate::domain::topics;
    use crate::domain::Timestamp;
    use crate::services::{Flow, FlowSettings, ServiceId};

    fn notify(topic: &str, payload: &str) -> Vec<Command> {
        let now = Timestamp::from_unix_millis(0).unwrap();
        Flow::new(FlowSettings::default())
            .handle(ServiceId::Notification, now, topic, payload.as_bytes())
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
    fn the_saga_s_outcomes_and_refunds_are_told_with_their_reason() {
        let id = seed::ORDER_ID;
        let cases = [
            (
                topics::ORDERS_CONFIRMED,
                format!(r#"{{"orderId":"{id}","confirmedAt":"2024-01-15T10:30:01.000Z"}}"#),
                format!("Order {id} confirmed"),
            ),
            (
                topics::ORDERS_CANCELLED,
                format!(
                    r#"{{"orderId":"{id}","reason":"payment declined","cancelledAt":"2024-01-15T10:30:01.000Z"}}"#
                ),
                format!("Order {id} cancelled: payment declined"),
            ),
            (
                topics::PAYMENTS_REFUNDED,
                format!(
                    r#"{{"orderId":"{id}","paymentId":"{id}","amount":59.98,"refundedAt":"2024-01-15T10:30:01.000Z"}}"#
                ),
                format!("Refund issued for Order {id}: 59.98"),
            ),
        ];
        for (topic, payload, expected) in cases {
            assert_eq!(notify(topic, &payload), text(&expected), "{topic}");
        }
        let declined = seed::PAYMENT_PROCESSED.replace(
            r#""success": true,"#,
            r#""success": false, "reason": "payment declined","#,
        );
        assert_eq!(
            notify(topics::PAYMENTS_PROCESSED, &declined),
            text(&format!("Payment failed for Order {id}: payment declined"))
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
