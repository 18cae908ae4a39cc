//! PaymentService: charges an order after a delay and publishes the outcome, declining as the
//! learner's [`PaymentRule`] says; refunds a charge whose order was cancelled.
//!
//! What starts a charge depends on the saga's style: `orders/created` (parallel), a successful
//! `inventory/reserved` for an order it saw created (choreography), or the command
//! `commands/payment/charge` (orchestration). A cancellation (`orders/cancelled`, or the command
//! `commands/payment/refund`) refunds what was charged; a charge that completes after its order
//! was cancelled is refunded at once if PaymentService heard the cancellation (it follows
//! `orders/cancelled` in parallel and choreography; under orchestration OrderService asks for
//! the refund itself).

use uuid::Uuid;

use super::memory::{Recent, ORDERS_REMEMBERED};
use super::settings::{FlowSettings, PaymentRule, SagaStyle};
use super::{Command, Rejection, ServiceId, Work};
use crate::domain::events::{DomainEvent, PaymentProcessed, PaymentRefunded};
use crate::domain::timestamp::Timestamp;

/// A charge that went through.
#[derive(Debug, Clone, PartialEq)]
struct Charged {
    payment_id: Uuid,
    amount: f64,
    refunded: bool,
}

/// PaymentService's memory.
#[derive(Debug, Clone)]
pub struct PaymentService {
    /// Totals of the orders seen created (choreography charges on the reservation, which does
    /// not carry the amount).
    totals: Recent<Uuid, f64>,
    /// Every charge per order (a redelivered order, with idempotency off, is charged twice:
    /// a cancellation refunds both).
    charges: Recent<Uuid, Vec<Charged>>,
    /// Orders seen cancelled: a charge completing later is refunded at once.
    cancelled: Recent<Uuid, ()>,
    /// Orders seen confirmed: a cancellation after it undoes nothing.
    confirmed: Recent<Uuid, ()>,
}

impl Default for PaymentService {
    fn default() -> Self {
        PaymentService {
            totals: Recent::new(ORDERS_REMEMBERED),
            charges: Recent::new(ORDERS_REMEMBERED),
            cancelled: Recent::new(ORDERS_REMEMBERED),
            confirmed: Recent::new(ORDERS_REMEMBERED),
        }
    }
}

impl PaymentService {
    /// Whether a charge of `order_id` is not refunded.
    pub fn has_charged(&self, order_id: Uuid) -> bool {
        self.charges
            .get(&order_id)
            .is_some_and(|charges| charges.iter().any(|c| !c.refunded))
    }

    /// What a message asks of PaymentService.
    pub fn on_event(
        &mut self,
        settings: &FlowSettings,
        now: Timestamp,
        event: DomainEvent,
    ) -> Result<Vec<Command>, Rejection> {
        let charge = |order_id, amount| Command::Schedule {
            after: settings.delays.payment,
            work: Work::Charge { order_id, amount },
        };
        Ok(match (settings.saga, event) {
            // Cancelled before it arrived here (topics keep no order between them): nothing
            // to charge.
            (_, DomainEvent::OrderCreated(order)) if self.cancelled.contains(&order.order_id) => {
                Vec::new()
            }
            (SagaStyle::Parallel, DomainEvent::OrderCreated(order)) => {
                vec![charge(order.order_id, order.total_amount)]
            }
            (_, DomainEvent::OrderCreated(order)) => {
                self.totals.insert(order.order_id, order.total_amount);
                Vec::new()
            }
            (SagaStyle::Choreography, DomainEvent::InventoryReserved(reserved)) => {
                // A failed reservation, or one for an order already cancelled: nothing to charge.
                if !reserved.success || self.cancelled.contains(&reserved.order_id) {
                    return Ok(Vec::new());
                }
                match self.totals.get(&reserved.order_id) {
                    Some(&total) => vec![charge(reserved.order_id, total)],
                    // The total comes with the order's creation.
                    None => return Err(Rejection::early(ServiceId::Payment, reserved.order_id)),
                }
            }
            (_, DomainEvent::ChargePayment(command)) => {
                vec![charge(command.order_id, command.amount)]
            }
            (_, DomainEvent::OrderConfirmed(confirmed)) => {
                self.confirmed.insert(confirmed.order_id, ());
                Vec::new()
            }
            (_, DomainEvent::OrderCancelled(cancelled)) => {
                if self.confirmed.contains(&cancelled.order_id) {
                    return Err(Rejection::new(format!(
                        "order {} was already confirmed: nothing is refunded",
                        cancelled.order_id
                    )));
                }
                self.cancelled.insert(cancelled.order_id, ());
                self.refund(cancelled.order_id, now)
            }
            (_, DomainEvent::RefundPayment(command)) => {
                let refunds = self.refund(command.order_id, now);
                if refunds.is_empty() {
                    return Err(Rejection::new(format!(
                        "nothing to refund: order {} was not charged",
                        command.order_id
                    )));
                }
                refunds
            }
            _ => Vec::new(),
        })
    }

    /// The refunds of `order_id`'s charges not refunded yet (none if it was not charged).
    fn refund(&mut self, order_id: Uuid, now: Timestamp) -> Vec<Command> {
        let Some(charges) = self.charges.get_mut(&order_id) else {
            return Vec::new();
        };
        charges
            .iter_mut()
            .filter(|c| !c.refunded)
            .map(|charged| {
                charged.refunded = true;
                Command::Publish(
                    PaymentRefunded {
                        order_id,
                        payment_id: charged.payment_id,
                        amount: charged.amount,
                        refunded_at: now,
                    }
                    .into(),
                )
            })
            .collect()
    }

    /// The charge of `amount` for `order_id` finished at `now` under `payment_id`: approved or
    /// declined by `rule`; refunded at once if PaymentService heard the order cancelled
    /// meanwhile, whatever the style is now (a style changed mid-saga does not leave the
    /// charge behind).
    pub fn charge(
        &mut self,
        rule: &PaymentRule,
        order_id: Uuid,
        amount: f64,
        now: Timestamp,
        payment_id: Uuid,
    ) -> Vec<Command> {
        let reason = rule.decline_reason(order_id, amount);
        let processed = PaymentProcessed {
            order_id,
            payment_id,
            amount,
            success: reason.is_none(),
            reason: reason.clone(),
            processed_at: now,
        };
        let mut commands = vec![Command::Publish(processed.into())];
        if reason.is_none() {
            let charged = Charged {
                payment_id,
                amount,
                refunded: false,
            };
            match self.charges.get_mut(&order_id) {
                Some(charges) => charges.push(charged),
                None => self.charges.insert(order_id, vec![charged]),
            }
            if self.cancelled.contains(&order_id) {
                commands.extend(self.refund(order_id, now));
            }
        }
        commands
    }
}
