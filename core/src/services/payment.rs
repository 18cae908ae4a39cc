//! PaymentService: charges an order after a delay and publishes the outcome, declining as the
//! learner's [`PaymentRule`] says; refunds a charge whose order was cancelled.
//!
//! What starts a charge depends on the saga's style: `orders/created` (parallel), a successful
//! `inventory/reserved` for an order it saw created (choreography), or the command
//! `commands/payment/charge` (orchestration). A cancellation (`orders/cancelled`, or the command
//! `commands/payment/refund`) refunds what was charged; a charge that completes after its order
//! was cancelled is refunded at once if PaymentService heard the cancellation (it follows
//! `orders/cancelled` in parallel and choreography), or was asked for the refund while charging
//! (orchestration; otherwise OrderService asks for the refund of a late charge itself).
//!
//! **Compensation before the step.** A refund asked for an order PaymentService has never
//! charged and is not charging (the charge command, or `orders/created`, was lost or is still
//! on its way) is answered anyway, with [`PaymentRefunded::uncharged`] (nil `paymentId`,
//! `amount` 0), so that OrderService, which compensates every step it asked for and did not
//! hear fail, sees the compensation end. The order is remembered as compensated: a charge
//! asked for it later is refused with `payments/processed` `"success": false`, reason
//! [`ALREADY_CANCELLED`], rather than charged. A charge under way when the refund is asked is
//! not answered yet: it completes, and is refunded at once. A charge declined (or, under
//! choreography, a reservation failed) needs no answer, and gets none.

use uuid::Uuid;

use super::memory::{Recent, ORDERS_REMEMBERED};
use super::settings::{FlowSettings, PaymentRule, SagaStyle};
use super::{Command, Rejection, ServiceId, Work};
use crate::domain::events::{DomainEvent, PaymentProcessed, PaymentRefunded};
use crate::domain::timestamp::Timestamp;

/// The reason of a charge (or reservation) refused because its order was compensated before
/// the step: `payments/processed` (`inventory/reserved`) with `"success": false`.
pub const ALREADY_CANCELLED: &str = "order already cancelled";

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
    /// Orders whose payment step failed or will not start (declined; under choreography, the
    /// reservation failed): a cancellation has nothing to answer.
    failed: Recent<Uuid, ()>,
    /// Orders compensated before the step ([`PaymentRefunded::uncharged`] published): a charge
    /// asked later is refused.
    compensated_early: Recent<Uuid, ()>,
}

impl Default for PaymentService {
    fn default() -> Self {
        PaymentService {
            totals: Recent::new(ORDERS_REMEMBERED),
            charges: Recent::new(ORDERS_REMEMBERED),
            cancelled: Recent::new(ORDERS_REMEMBERED),
            confirmed: Recent::new(ORDERS_REMEMBERED),
            failed: Recent::new(ORDERS_REMEMBERED),
            compensated_early: Recent::new(ORDERS_REMEMBERED),
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

    /// What a message asks of PaymentService at `now`; `charging` says whether a charge of the
    /// message's order is under way (scheduled, not completed: the `Flow` keeps that schedule).
    pub fn on_event(
        &mut self,
        settings: &FlowSettings,
        now: Timestamp,
        event: DomainEvent,
        charging: bool,
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
                if !reserved.success {
                    self.failed.insert(reserved.order_id, ());
                    return Ok(Vec::new());
                }
                if self.cancelled.contains(&reserved.order_id) {
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
                self.compensate(cancelled.order_id, now, charging)
                    .unwrap_or_default()
            }
            (_, DomainEvent::RefundPayment(command)) => {
                match self.compensate(command.order_id, now, charging) {
                    Some(refunds) => refunds,
                    None => {
                        return Err(Rejection::new(format!(
                            "nothing to refund: order {} was refunded before",
                            command.order_id
                        )))
                    }
                }
            }
            _ => Vec::new(),
        })
    }

    /// A refund asked for `order_id` at `now`: the refunds of its charges not refunded yet; or,
    /// never charged, not `charging` and not failed, the compensation before the step
    /// ([`PaymentRefunded::uncharged`], again each time it is asked, and the order remembered as
    /// compensated); nothing while a charge is under way or when the step failed. `None` when
    /// every charge was refunded before (nothing new to say).
    fn compensate(
        &mut self,
        order_id: Uuid,
        now: Timestamp,
        charging: bool,
    ) -> Option<Vec<Command>> {
        if self.charges.contains(&order_id) {
            let refunds = self.refund(order_id, now);
            return (!refunds.is_empty()).then_some(refunds);
        }
        if charging {
            // Undone at once when it completes (a command is not sent twice: a copy would be
            // taken for a duplicate).
            self.cancelled.insert(order_id, ());
            return Some(Vec::new());
        }
        if self.failed.contains(&order_id) {
            return Some(Vec::new());
        }
        self.compensated_early.insert(order_id, ());
        self.cancelled.insert(order_id, ());
        Some(vec![Command::Publish(
            PaymentRefunded::uncharged(order_id, now).into(),
        )])
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

    /// The charge of `amount` for `order_id` finished at `now` under `payment_id`: refused
    /// ([`ALREADY_CANCELLED`]) if the order was compensated before the step, else approved or
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
        // Compensated before this charge was asked: refused, not charged.
        let reason = if self.compensated_early.contains(&order_id) {
            Some(ALREADY_CANCELLED.to_owned())
        } else {
            rule.decline_reason(order_id, amount)
        };
        let processed = PaymentProcessed {
            order_id,
            payment_id,
            amount,
            success: reason.is_none(),
            reason: reason.clone(),
            processed_at: now,
        };
        let mut commands = vec![Command::Publish(processed.into())];
        if reason.is_some() {
            self.failed.insert(order_id, ());
        } else {
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
