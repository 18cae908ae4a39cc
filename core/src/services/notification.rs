//! NotificationService: tells the customer what happened to their order, one notification per
//! event it subscribes to, worded as in the seed for the seed's three events. It keeps a little
//! memory of what it told, so that a message from outside contradicting it (an
//! `orders/cancelled` after the customer was told the order is confirmed, a refund under a
//! payment id that is no charge of the order it heard of, or larger than that charge) is not
//! passed on to the customer: its neighbours refuse such messages, and the customer must not
//! hear of what they refused. Its memory is kept in the tab's database with the other
//! participants' (decision 0021, [`NotificationService::memo`]), so a reload keeps it. With no
//! memory of the order (it joined late, or the tab's database is off), it tells what it
//! receives.

use uuid::Uuid;

use super::durable::{ChargeMemo, NotificationMemo};
use super::memory::{Recent, ORDERS_REMEMBERED};
use super::{Command, Rejection, RejectionKind};
use crate::domain::events::DomainEvent;
use crate::domain::money::{amount_text, more_cents, same_cents};
use crate::outside_text::isolate;

/// NotificationService's memory: the orders it told confirmed, and the charges it told of per
/// order (payment id and amount), of the newest [`ORDERS_REMEMBERED`] orders.
#[derive(Debug, Clone)]
pub struct NotificationService {
    confirmed: Recent<Uuid, ()>,
    charges: Recent<Uuid, Vec<(Uuid, f64)>>,
}

impl Default for NotificationService {
    fn default() -> Self {
        NotificationService {
            confirmed: Recent::new(ORDERS_REMEMBERED),
            charges: Recent::new(ORDERS_REMEMBERED),
        }
    }
}

impl NotificationService {
    /// What it told of `order_id`, for the tab's database; `None` when nothing.
    pub fn memo(&self, order_id: Uuid) -> Option<NotificationMemo> {
        let memo = NotificationMemo {
            confirmed: self.confirmed.contains(&order_id),
            charges: self
                .charges
                .get(&order_id)
                .map(|charges| {
                    charges
                        .iter()
                        .map(|&(payment_id, amount)| ChargeMemo {
                            payment_id,
                            amount,
                            refunded_at: None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        (memo != NotificationMemo::default()).then_some(memo)
    }

    /// Takes back what [`NotificationService::memo`] gave for `order_id` (after a reload).
    pub fn restore_memo(&mut self, order_id: Uuid, memo: &NotificationMemo) {
        if memo.confirmed {
            self.confirmed.insert(order_id, ());
        }
        if !memo.charges.is_empty() {
            let charges = memo.charges.iter().map(|c| (c.payment_id, c.amount));
            self.charges.insert(order_id, charges.collect());
        }
    }

    /// What NotificationService does with `event`: the notification ([`message`]), or a
    /// refusal, logged and not told, for a message that contradicts what it told before:
    /// - a cancellation of an order told confirmed ([`RejectionKind::Refused`]: an order has one
    ///   outcome; PaymentService and InventoryService refuse it too);
    /// - a refund under a payment id that is none of the order's charges it told of, when it told
    ///   of one, or of more than that charge ([`RejectionKind::NotItsOwn`], as OrderService's
    ///   [`crate::domain::order::Refusal::NotTheStep`] and `RefundOverCharge`: not remembered as
    ///   processed, so the real refund under the same id is still told).
    ///
    /// A command is never received (it subscribes to none).
    pub fn on_event(&mut self, event: &DomainEvent) -> Result<Vec<Command>, Rejection> {
        match event {
            DomainEvent::OrderConfirmed(e) => self.confirmed.insert(e.order_id, ()),
            // A confirmation after a cancellation is told: under orchestration no participant
            // hears a forged `orders/cancelled`, and OrderService's confirmation that follows
            // it is the order's outcome.
            DomainEvent::OrderCancelled(e) if self.confirmed.contains(&e.order_id) => {
                return Err(Rejection::new(format!(
                    "order {} was told confirmed already: an order has one outcome, so the \
                     customer is not told it is cancelled (two outcomes on the wire for one \
                     order)",
                    e.order_id
                )));
            }
            DomainEvent::PaymentProcessed(p) if p.success => {
                match self.charges.get_mut(&p.order_id) {
                    Some(charges) if charges.iter().any(|(id, _)| *id == p.payment_id) => {}
                    Some(charges) => charges.push((p.payment_id, p.amount)),
                    None => self
                        .charges
                        .insert(p.order_id, vec![(p.payment_id, p.amount)]),
                }
            }
            DomainEvent::PaymentRefunded(r) if !r.is_uncharged() => {
                // A refund of nothing tells the customer nothing, and leaves the real one
                // under the same payment id to be told (41-AJ F1: "Refund issued …: 0.00",
                // then the real refund ignored as a duplicate).
                if same_cents(r.amount, 0.0) {
                    return Err(not_its_own(format!(
                        "refund of 0.00 under payment id {}: it refunds nothing, so the customer \
                         is not told of it",
                        r.payment_id
                    )));
                }
                if let Some(charges) = self.charges.get(&r.order_id) {
                    match charges.iter().find(|(id, _)| *id == r.payment_id) {
                        None => {
                            return Err(not_its_own(format!(
                                "refund under payment id {}, which is none of the order's \
                                 charges told to the customer ({}): the customer is not told of \
                                 it",
                                r.payment_id,
                                charges
                                    .iter()
                                    .map(|(id, _)| id.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )))
                        }
                        Some((_, charged)) if more_cents(r.amount, *charged) => {
                            return Err(not_its_own(format!(
                                "refund of {} under payment id {}, which charged {}: the \
                                 customer is not told of it",
                                amount_text(r.amount),
                                r.payment_id,
                                amount_text(*charged)
                            )))
                        }
                        Some(_) => {}
                    }
                }
            }
            _ => {}
        }
        Ok(message(event).map(Command::Notify).into_iter().collect())
    }
}

fn not_its_own(reason: String) -> Rejection {
    Rejection {
        reason,
        kind: RejectionKind::NotItsOwn,
        answer_again: Vec::new(),
    }
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
    use crate::services::{Flow, FlowSettings, RejectionKind, ServiceId};

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

    /// A newcomer's break-test (C6): NotificationService told the customer whatever a forged
    /// message said: "cancelled" after "confirmed", and a refund that undid no charge.
    #[test]
    fn what_contradicts_what_the_customer_was_told_is_refused_not_told() {
        let id = seed::ORDER_ID;
        let (charge, other) = (
            "11111111-1111-4111-8111-111111111111",
            "22222222-2222-4222-8222-222222222222",
        );
        let now = Timestamp::from_unix_millis(0).unwrap();
        let mut flow = Flow::new(FlowSettings::default());
        let mut handle = |topic: &str, payload: String| {
            flow.handle(ServiceId::Notification, now, topic, payload.as_bytes())
        };
        let refund = |payment: &str, amount: &str| {
            format!(
                r#"{{"orderId":"{id}","paymentId":"{payment}","amount":{amount},"refundedAt":"2024-01-15T10:30:02.000Z"}}"#
            )
        };
        // Nothing heard of the order's charge: a refund is told as it comes.
        let earlier = "33333333-3333-4333-8333-333333333333";
        assert_eq!(
            handle(topics::PAYMENTS_REFUNDED, refund(earlier, "1.00")).unwrap(),
            text(&format!("Refund issued for Order {id}: 1.00"))
        );
        let charged = format!(
            r#"{{"orderId":"{id}","paymentId":"{charge}","amount":59.98,"success":true,"processedAt":"2024-01-15T10:30:01.000Z"}}"#
        );
        assert_eq!(
            handle(topics::PAYMENTS_PROCESSED, charged).unwrap(),
            text(&format!("Payment confirmation for Order {id}"))
        );
        let confirmed = format!(r#"{{"orderId":"{id}","confirmedAt":"2024-01-15T10:30:01.000Z"}}"#);
        assert_eq!(
            handle(topics::ORDERS_CONFIRMED, confirmed).unwrap(),
            text(&format!("Order {id} confirmed"))
        );
        let forged = format!(
            r#"{{"orderId":"{id}","reason":"forged","cancelledAt":"2024-01-15T10:30:03.000Z"}}"#
        );
        let refused = handle(topics::ORDERS_CANCELLED, forged).unwrap_err();
        assert_eq!(refused.kind, RejectionKind::Refused);
        assert!(
            refused.reason.contains("was told confirmed already"),
            "{}",
            refused.reason
        );
        // A refund under another id than the charge told of, or of more than it.
        let made_up = handle(topics::PAYMENTS_REFUNDED, refund(other, "59.98")).unwrap_err();
        assert_eq!(made_up.kind, RejectionKind::NotItsOwn);
        assert_eq!(
            made_up.reason,
            format!(
                "refund under payment id {other}, which is none of the order's charges told to \
                 the customer ({charge}): the customer is not told of it"
            )
        );
        let over = handle(topics::PAYMENTS_REFUNDED, refund(charge, "100.00")).unwrap_err();
        assert_eq!(over.kind, RejectionKind::NotItsOwn);
        assert_eq!(
            over.reason,
            format!(
                "refund of 100.00 under payment id {charge}, which charged 59.98: the customer \
                 is not told of it"
            )
        );
        // 41-AJ F1: a refund of 0.00 under the charge's id tells nothing, and is not
        // remembered either.
        let nothing = handle(topics::PAYMENTS_REFUNDED, refund(charge, "0")).unwrap_err();
        assert_eq!(nothing.kind, RejectionKind::NotItsOwn);
        assert_eq!(
            nothing.reason,
            format!(
                "refund of 0.00 under payment id {charge}: it refunds nothing, so the customer \
                 is not told of it"
            )
        );
        // Not remembered as processed: the charge's own refund is told.
        assert_eq!(
            handle(topics::PAYMENTS_REFUNDED, refund(charge, "59.98")).unwrap(),
            text(&format!("Refund issued for Order {id}: 59.98"))
        );
        // A confirmation after a cancellation is told (under orchestration a forged
        // cancellation changes nothing, and OrderService's confirmation is the outcome).
        let later = "44444444-4444-4444-8444-444444444444";
        let cancelled = format!(
            r#"{{"orderId":"{later}","reason":"forged","cancelledAt":"2024-01-15T10:30:03.000Z"}}"#
        );
        assert_eq!(
            handle(topics::ORDERS_CANCELLED, cancelled).unwrap(),
            text(&format!("Order {later} cancelled: forged"))
        );
        let confirmed =
            format!(r#"{{"orderId":"{later}","confirmedAt":"2024-01-15T10:30:04.000Z"}}"#);
        assert_eq!(
            handle(topics::ORDERS_CONFIRMED, confirmed).unwrap(),
            text(&format!("Order {later} confirmed"))
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
