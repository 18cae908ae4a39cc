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

use super::durable::{time_of, ChargeMemo, PaymentMemo};
use super::memory::{Asked, Compensation, Recent, SagaStanding, ORDERS_REMEMBERED};
use super::settings::{FlowSettings, PaymentRule, SagaStyle};
use super::{Command, Rejection, ServiceId, Work};
use crate::domain::events::{DomainEvent, PaymentProcessed, PaymentRefunded};
use crate::domain::timestamp::Timestamp;

/// The reason of a charge (or reservation) refused because its order was compensated before
/// the step: `payments/processed` (`inventory/reserved`) with `"success": false`.
pub const ALREADY_CANCELLED: &str = "order already cancelled";

/// What PaymentService says of an event that would start the charge of `order_id`
/// (`orders/created` in parallel, a reservation under choreography) arriving after the order's
/// cancellation: a line of its log; nothing is charged and no `payments/processed` is published
/// (decision 0008: a late event starts nothing; only a command, under orchestration, is answered
/// `order already cancelled`). Topics keep no order between them (MQTT §4.6), so this is an
/// ordinary race, not a refusal.
fn cancelled_first(order_id: Uuid) -> Command {
    Command::Log {
        line: format!(
            "order {order_id} is cancelled: nothing is charged for it (its cancellation arrived \
             first)"
        ),
        gave_up: false,
    }
}

/// A charge that went through.
#[derive(Debug, Clone, PartialEq)]
struct Charged {
    payment_id: Uuid,
    amount: f64,
    /// When its refund was published (`None`: not refunded), kept so that the refund can be
    /// sent again as it was ([`PaymentService::answers_again`]).
    refunded_at: Option<Timestamp>,
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
    /// How each order's saga stands (cancelled, confirmed, failed, compensated before the step).
    saga: SagaStanding,
}

impl Default for PaymentService {
    fn default() -> Self {
        PaymentService {
            totals: Recent::new(ORDERS_REMEMBERED),
            charges: Recent::new(ORDERS_REMEMBERED),
            saga: SagaStanding::default(),
        }
    }
}

impl PaymentService {
    /// What PaymentService remembers of `order_id`, to keep in the tab's database
    /// ([`super::durable`]); `None` if nothing.
    pub fn memo(&self, order_id: Uuid) -> Option<PaymentMemo> {
        let memo = PaymentMemo {
            total: self.totals.get(&order_id).copied(),
            charges: self
                .charges
                .get(&order_id)
                .map(|charges| {
                    charges
                        .iter()
                        .map(|c| ChargeMemo {
                            payment_id: c.payment_id,
                            amount: c.amount,
                            refunded_at: c.refunded_at.map(Timestamp::unix_millis),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            saga: self.saga.memo(order_id),
        };
        (memo != PaymentMemo::default()).then_some(memo)
    }

    /// Takes back what [`PaymentService::memo`] gave for `order_id` (after a reload), replacing
    /// what it holds of the order. Returns how many charges are not refunded.
    pub fn restore_memo(&mut self, order_id: Uuid, memo: &PaymentMemo) -> usize {
        if let Some(total) = memo.total {
            self.totals.insert(order_id, total);
        }
        let charges: Vec<Charged> = memo
            .charges
            .iter()
            .map(|c| Charged {
                payment_id: c.payment_id,
                amount: c.amount,
                refunded_at: time_of(c.refunded_at),
            })
            .collect();
        let open = charges.iter().filter(|c| c.refunded_at.is_none()).count();
        if !charges.is_empty() {
            self.charges.insert(order_id, charges);
        }
        self.saga.restore(order_id, &memo.saga);
        open
    }

    /// Every charge of `order_id` it made (and remembers): payment id and amount (currency
    /// units), oldest first; two for an order delivered twice with the idempotent consumer off.
    pub fn charges_of(&self, order_id: Uuid) -> Vec<(Uuid, f64)> {
        self.charges
            .get(&order_id)
            .map_or_else(Vec::new, |charges| {
                charges.iter().map(|c| (c.payment_id, c.amount)).collect()
            })
    }

    /// Whether a charge of `order_id` is not refunded.
    pub fn has_charged(&self, order_id: Uuid) -> bool {
        self.charges
            .get(&order_id)
            .is_some_and(|charges| charges.iter().any(|c| c.refunded_at.is_none()))
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
            // to charge, and the log says why where this would have started the charge.
            (style, DomainEvent::OrderCreated(order))
                if self.saga.cancelled.contains(&order.order_id) =>
            {
                if style == SagaStyle::Parallel {
                    return Ok(vec![cancelled_first(order.order_id)]);
                }
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
                    self.saga.failed.insert(reserved.order_id, ());
                    return Ok(Vec::new());
                }
                if self.saga.cancelled.contains(&reserved.order_id) {
                    return Ok(vec![cancelled_first(reserved.order_id)]);
                }
                // The step is the order's, not the reservation's: another reservation of an
                // order charged here (a second InventoryService, a second tab of the link) or
                // confirmed charges nothing more. The idempotent consumer keys a reservation by
                // its id, so without this each one charged again (a newcomer's break-test,
                // 35-M F9: two tabs charged one order 4 times). With the idempotent consumers
                // off, a step done twice is the lesson.
                if settings.dedupe {
                    let order_id = reserved.order_id;
                    let done = if let Some(charge) = self
                        .charges
                        .get(&order_id)
                        .and_then(|charges| charges.first())
                    {
                        Some(format!(
                            "it was charged here already (payment {})",
                            charge.payment_id
                        ))
                    } else if charging {
                        Some("its charge is under way here".to_owned())
                    } else if self.saga.confirmed.contains(&order_id) {
                        Some("it is confirmed already".to_owned())
                    } else {
                        None
                    };
                    if let Some(done) = done {
                        return Err(Rejection::new(format!(
                            "another reservation of order {order_id} ({}) charges nothing: {done}; \
                             a payment is one per order, whatever the reservations",
                            reserved.reservation_id
                        )));
                    }
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
                // With the idempotent consumers off, a step done twice is the lesson
                // (the order delivered again is charged and reserved twice).
                self.saga
                    .confirmation(confirmed.order_id, charging && settings.dedupe);
                Vec::new()
            }
            (_, DomainEvent::OrderCancelled(cancelled)) => {
                self.saga
                    .cancellation(cancelled.order_id, "refunded")
                    .map_err(Rejection::new)?;
                self.compensate(cancelled.order_id, now, charging, Asked::ByCancellation)
            }
            (_, DomainEvent::RefundPayment(command)) => {
                self.compensate(command.order_id, now, charging, Asked::ByCommand)
            }
            _ => Vec::new(),
        })
    }

    /// A refund asked for `order_id` at `now`: the refunds of its charges not refunded yet; or,
    /// never charged, not `charging` and not failed, the compensation before the step
    /// ([`PaymentRefunded::uncharged`], the same message again each time it is asked, and the
    /// order remembered as compensated); nothing while a charge is under way or when the step failed. Asked again
    /// once every charge is refunded, the refunds it published, again
    /// ([`PaymentService::answers_again`]): the answer to the first request may have been lost
    /// on its way to OrderService, which asks until it hears one.
    fn compensate(
        &mut self,
        order_id: Uuid,
        now: Timestamp,
        charging: bool,
        asked: Asked,
    ) -> Vec<Command> {
        let charged = self.charges.contains(&order_id);
        match self.saga.compensation(order_id, now, charged, charging, asked) {
            Compensation::Undo => {
                let refunds = self.refund(order_id, now);
                if refunds.is_empty() {
                    self.answers_again(order_id)
                } else {
                    refunds
                }
            }
            Compensation::Nothing => Vec::new(),
            Compensation::AnswerAgain => self.answers_again(order_id),
            Compensation::BeforeTheStep if self.saga.failed.contains(&order_id) => vec![
                Command::Publish(PaymentRefunded::uncharged(order_id, now).into()),
                Command::Log {
                    line: format!(
                        "order {order_id}: nothing to refund, its payment failed here; OrderService asks for a refund all the same (it did not hear the failure, or another charge of the order came from elsewhere): answered with the nil paymentId, so that its saga ends"
                    ),
                    gave_up: false,
                },
            ],
            Compensation::BeforeTheStep => vec![
                Command::Publish(PaymentRefunded::uncharged(order_id, now).into()),
                Command::Log {
                    line: format!(
                        "order {order_id}: nothing to refund, it was never charged here: answered with the nil paymentId (the compensation before the step); a charge asked for it later is not made"
                    ),
                    gave_up: false,
                },
            ],
        }
    }

    /// Whether a copy of a compensation of `order_id` (its identity processed before) still
    /// owes an answer: nothing was charged for it here ([`SagaStanding::owes_an_answer`]).
    pub fn owes_an_answer(&self, order_id: Uuid) -> bool {
        self.saga
            .owes_an_answer(order_id, self.charges.contains(&order_id))
    }

    /// Whether PaymentService neither did `order_id`'s step nor saw it fail or confirmed
    /// ([`SagaStanding::never_did_its_step`]).
    pub fn never_did_its_step(&self, order_id: Uuid) -> bool {
        self.saga
            .never_did_its_step(order_id, self.charges.contains(&order_id))
    }

    /// Whether PaymentService still owes `order_id` its charge's result: nothing charged or
    /// declined for it, and its saga not ended or compensated here
    /// ([`SagaStanding::owes_its_step`]).
    pub fn owes_its_step(&self, order_id: Uuid) -> bool {
        self.saga
            .owes_its_step(order_id, self.charges.contains(&order_id))
    }

    /// What PaymentService answered before to a compensation of `order_id`, to send again when
    /// it is asked once more (the copy taken for a duplicate, or the same request again): each
    /// refund it published, byte for byte as it went (the same `paymentId`, `amount` and
    /// `refundedAt`, so a consumer that had it ignores the copy by its identity), or, if it was
    /// compensated before the step, its `payments/refunded` with the nil id and amount 0 (dated
    /// as the first: byte for byte too). Nothing if it answered nothing yet (a charge under way, a declined one, an order
    /// it never heard of). The idempotent consumer's rule that a request processed before gets
    /// its answer again: OrderService sends a compensation until it hears it done (decision
    /// 0008), and without this a lost answer would leave it asking in vain.
    pub fn answers_again(&self, order_id: Uuid) -> Vec<Command> {
        if let Some(&answered_at) = self.saga.compensated_early.get(&order_id) {
            return vec![Command::Publish(
                PaymentRefunded::uncharged(order_id, answered_at).into(),
            )];
        }
        let Some(charges) = self.charges.get(&order_id) else {
            return Vec::new();
        };
        charges
            .iter()
            .filter_map(|charged| {
                let refunded_at = charged.refunded_at?;
                Some(Command::Publish(
                    PaymentRefunded {
                        order_id,
                        payment_id: charged.payment_id,
                        amount: charged.amount,
                        refunded_at,
                    }
                    .into(),
                ))
            })
            .collect()
    }

    /// The refunds of `order_id`'s charges not refunded yet (none if it was not charged).
    fn refund(&mut self, order_id: Uuid, now: Timestamp) -> Vec<Command> {
        let Some(charges) = self.charges.get_mut(&order_id) else {
            return Vec::new();
        };
        charges
            .iter_mut()
            .filter(|c| c.refunded_at.is_none())
            .map(|charged| {
                charged.refunded_at = Some(now);
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
        // Compensated before this charge was asked, or confirmed without it while it was under
        // way: refused, not charged.
        let reason = if self.saga.compensated_early.contains(&order_id) {
            Some(ALREADY_CANCELLED.to_owned())
        } else if self.saga.confirmed_while_under_way(order_id) {
            Some(super::memory::CONFIRMED_WITHOUT_IT.to_owned())
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
            self.saga.failed.insert(order_id, ());
        } else {
            let charged = Charged {
                payment_id,
                amount,
                refunded_at: None,
            };
            match self.charges.get_mut(&order_id) {
                Some(charges) => charges.push(charged),
                None => self.charges.insert(order_id, vec![charged]),
            }
            if self.saga.cancelled.contains(&order_id) {
                commands.extend(self.refund(order_id, now));
            }
        }
        commands
    }
}
