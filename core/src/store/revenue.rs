//! What an order brings in, in exact cents: the one definition the read model's totals and the
//! analytics share.

use uuid::Uuid;

use super::stream_event::StreamEvent;
use crate::domain::money::{amount_cents, Cents};
use crate::domain::order::OrderEvent;

/// An amount in currency units as the events carry it (59.98) in whole cents (`59.98 * 100` is
/// 5997.999…, which is 5998 cents), as [`amount_cents`] reads it. Decoding refuses every amount
/// it cannot read (negative, NaN, infinite, beyond
/// [`MAX_EXACT_CENTS`](crate::domain::money::MAX_EXACT_CENTS), not a whole number of cents such
/// as `0.1 + 0.2`), so none reaches a sum; were one to, it would count as 0, never as a huge or
/// rounded figure.
pub fn cents(amount: f64) -> Cents {
    amount_cents("amount", amount).unwrap_or_default()
}

/// One order's money, folded from its stream's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct OrderRevenue {
    total: Cents,
    completed: bool,
    /// The first confirmed charge: the one a completed order was paid with.
    charge: Option<Uuid>,
    /// Refunds of that charge.
    refunded: Cents,
}

impl OrderRevenue {
    pub(super) fn record(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Created { total_amount, .. } => self.total = cents(*total_amount),
            StreamEvent::Order(OrderEvent::Completed) => self.completed = true,
            StreamEvent::Order(OrderEvent::PaymentConfirmed { payment_id, .. }) => {
                self.charge.get_or_insert(*payment_id);
            }
            StreamEvent::Order(OrderEvent::PaymentRefunded { payment_id, amount })
                if self.charge == Some(*payment_id) =>
            {
                // Each refund is at most `MAX_EXACT_CENTS`; past u64, refunds exceed any total
                // and `kept` is 0 either way.
                self.refunded = Cents(self.refunded.0.saturating_add(cents(*amount).0));
            }
            StreamEvent::Order(_) => {}
        }
    }

    /// What the business keeps: a completed order's total, less refunds of the charge that
    /// paid it (never below 0); nothing for an order not completed. A refund of another charge
    /// (a duplicate, or the charge of a cancelled order) gives back money never counted.
    pub(super) fn kept(&self) -> Cents {
        if self.completed {
            Cents(self.total.0.saturating_sub(self.refunded.0))
        } else {
            Cents(0)
        }
    }
}
