//! The order aggregate, as source document 004 gives it: the states Pending,
//! InventoryConfirmed, PaymentConfirmed, Completed and Cancelled, and the transitions between
//! them. Two pure functions, as event-sourced aggregates are written: [`Order::decide`] turns a
//! command into the events it causes (or refuses an impossible transition), and
//! [`Order::apply`] folds an event into the state. The state is only ever the fold of its
//! events.
//!
//! ```
//! use eda_core::domain::order::{Order, OrderCommand, OrderStatus};
//! use uuid::Uuid;
//!
//! let order_id = Uuid::from_u128(1);
//! let mut order = Order::new(order_id, "C123", 59.98);
//! let confirm = OrderCommand::ConfirmInventory { reservation_id: Uuid::from_u128(2) };
//! for event in order.decide(&confirm).unwrap() {
//!     order.apply(&event);
//! }
//! assert_eq!(order.status, OrderStatus::InventoryConfirmed);
//!
//! // Cancelled, then a payment arrives: recorded (now a charge to undo), still cancelled.
//! let cancel = OrderCommand::Cancel { reason: "payment timed out".into() };
//! order.handle(&cancel).unwrap();
//! let late = OrderCommand::ConfirmPayment { payment_id: Uuid::from_u128(3), amount: 59.98 };
//! order.handle(&late).unwrap();
//! assert_eq!(order.status, OrderStatus::Cancelled);
//! assert!(order.payment.is_confirmed(), "to be refunded");
//!
//! // Completed, then a cancellation: refused.
//! let mut done = Order::new(order_id, "C123", 59.98);
//! done.handle(&OrderCommand::ConfirmInventory { reservation_id: Uuid::from_u128(2) }).unwrap();
//! done.handle(&OrderCommand::ConfirmPayment { payment_id: Uuid::from_u128(3), amount: 59.98 }).unwrap();
//! let refused = done.decide(&cancel).unwrap_err();
//! assert_eq!(refused.to_string(), "the order is already completed: cancellation refused");
//! ```

use std::fmt;

use uuid::Uuid;

use super::money::{amount_text, more_cents, same_cents};

/// Where an order is, in the seed's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Created; no step has succeeded yet.
    Pending,
    /// The stock is reserved; the payment is not confirmed yet.
    InventoryConfirmed,
    /// The payment is confirmed; the stock is not reserved yet (only when both run at once).
    PaymentConfirmed,
    /// Every step succeeded. Terminal.
    Completed,
    /// The saga gave up. Terminal.
    Cancelled,
}

impl OrderStatus {
    /// Every status, in the order an order lives them.
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Pending,
        OrderStatus::InventoryConfirmed,
        OrderStatus::PaymentConfirmed,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    /// The status named `name` ([`OrderStatus::name`]), if any.
    pub fn from_name(name: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the order's life is over.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Cancelled)
    }

    /// The seed's name: `Pending`, `InventoryConfirmed`, …
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::Pending => "Pending",
            OrderStatus::InventoryConfirmed => "InventoryConfirmed",
            OrderStatus::PaymentConfirmed => "PaymentConfirmed",
            OrderStatus::Completed => "Completed",
            OrderStatus::Cancelled => "Cancelled",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One step of the saga (the reservation, or the payment), as the order knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Step {
    /// No result yet.
    #[default]
    Awaiting,
    /// Done, under this reservation or payment id.
    Confirmed(Uuid),
    /// Failed, for this reason.
    Failed(String),
    /// Done, then undone by a compensation (released or refunded); the nil id when the
    /// participant had not done it (a compensation before the step: nothing to undo, and the
    /// step refused if it comes later).
    Compensated(Uuid),
    /// Done under this id, then its participant answered the compensation with "nothing to
    /// undo" (the nil id): it forgot the step (PaymentService and InventoryService keep their
    /// memory in the page only, so a reload empties it), so the step was never undone. The
    /// compensation is over all the same: nothing more is asked.
    Forgotten(Uuid),
}

/// Which step of the saga a [`Step`] is: the words for it differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// InventoryService's reservation (undone by a release).
    Reservation,
    /// PaymentService's charge (undone by a refund).
    Payment,
}

impl StepKind {
    /// The participant that does the step: `InventoryService`, `PaymentService`.
    pub fn participant(self) -> &'static str {
        match self {
            StepKind::Reservation => "InventoryService",
            StepKind::Payment => "PaymentService",
        }
    }

    /// The step's noun, as in `reservation 7c9e…`: `reservation`, `payment`.
    pub fn noun(self) -> &'static str {
        match self {
            StepKind::Reservation => "reservation",
            StepKind::Payment => "payment",
        }
    }

    /// The compensation's verb, and its past participle: `release`/`released`,
    /// `refund`/`refunded`.
    pub fn undo_verb(self) -> (&'static str, &'static str) {
        match self {
            StepKind::Reservation => ("release", "released"),
            StepKind::Payment => ("refund", "refunded"),
        }
    }
}

impl fmt::Display for Step {
    /// `awaiting`, `done (7c9e6679-…)`, `failed: out of stock`, `undone (7c9e6679-…)`,
    /// `undone before it was done`, `never undone: its service forgot it (7c9e6679-…)`. The
    /// Event store panel's rewind says it with the step's own words: [`Step::describe`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Awaiting => f.write_str("awaiting"),
            Step::Confirmed(id) => write!(f, "done ({id})"),
            Step::Failed(reason) => write!(f, "failed: {reason}"),
            Step::Compensated(id) if id.is_nil() => f.write_str("undone before it was done"),
            Step::Compensated(id) => write!(f, "undone ({id})"),
            Step::Forgotten(id) => write!(f, "never undone: its service forgot it ({id})"),
        }
    }
}

impl Step {
    /// The step as the Event store panel's rewind shows it, in the words of its `kind`: as
    /// [`Step`]'s `Display`, except a step its participant forgot, which says what happened
    /// (`InventoryService had nothing to release: it forgot reservation 7c9e6679-… (reloaded
    /// with no database to keep its memory in), or never made it (another client published
    /// it), so it was never released`: the store cannot tell a forged step from a forgotten
    /// one) rather than that it was never done,
    /// and a compensation before the step (the nil id: nothing was charged or reserved), which
    /// says it as the Orders row does: `nothing to refund: never charged`, `nothing to release:
    /// never reserved`.
    pub fn describe(&self, kind: StepKind) -> String {
        match self {
            Step::Compensated(id) if id.is_nil() => {
                let never = match kind {
                    StepKind::Reservation => "reserved",
                    StepKind::Payment => "charged",
                };
                format!("nothing to {}: never {never}", kind.undo_verb().0)
            }
            Step::Forgotten(id) => {
                let (verb, done) = kind.undo_verb();
                format!(
                    "{} had nothing to {verb}: it forgot {} {id} (reloaded with no database to keep its memory in), or \
                     never made it (another client published it), so it was never {done}",
                    kind.participant(),
                    kind.noun()
                )
            }
            other => other.to_string(),
        }
    }

    /// The step after a compensation under `id` (a release's or refund's): undone, or, when
    /// the answer is "nothing to undo" (the nil id) for a step that was done, forgotten by its
    /// participant ([`Step::Forgotten`]).
    fn undone(&self, id: Uuid) -> Step {
        match self {
            Step::Confirmed(done) if id.is_nil() => Step::Forgotten(*done),
            _ => Step::Compensated(id),
        }
    }

    /// Whether the step succeeded (and has not been undone).
    pub fn is_confirmed(&self) -> bool {
        matches!(self, Step::Confirmed(_))
    }
}

/// What happened to an order: the events the aggregate is the fold of.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderEvent {
    /// The stock was reserved.
    InventoryConfirmed { reservation_id: Uuid },
    /// The stock could not be reserved.
    InventoryFailed { reason: String },
    /// The payment went through.
    PaymentConfirmed { payment_id: Uuid, amount: f64 },
    /// The payment was declined (PaymentService's `paymentId` of the decline; the nil id for a
    /// decline stored in schema 2 or older, which kept none).
    PaymentFailed { payment_id: Uuid, reason: String },
    /// Every step succeeded.
    Completed,
    /// The saga gave up.
    Cancelled { reason: String },
    /// A compensation: the reservation was released.
    InventoryReleased { reservation_id: Uuid },
    /// A compensation: the payment was refunded.
    PaymentRefunded { payment_id: Uuid, amount: f64 },
}

/// What the saga asks of an order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderCommand {
    /// InventoryService reserved the stock.
    ConfirmInventory { reservation_id: Uuid },
    /// InventoryService could not.
    FailInventory { reason: String },
    /// PaymentService charged.
    ConfirmPayment { payment_id: Uuid, amount: f64 },
    /// PaymentService declined (under this `paymentId`).
    FailPayment { payment_id: Uuid, reason: String },
    /// Give up (the deadline passed).
    Cancel { reason: String },
    /// InventoryService released the reservation.
    RecordRelease { reservation_id: Uuid },
    /// PaymentService refunded the charge.
    RecordRefund { payment_id: Uuid, amount: f64 },
}

impl OrderCommand {
    /// The command in a few words, for refusals.
    fn what(&self) -> &'static str {
        match self {
            OrderCommand::ConfirmInventory { .. } => "inventory confirmation",
            OrderCommand::FailInventory { .. } => "inventory failure",
            OrderCommand::ConfirmPayment { .. } => "payment confirmation",
            OrderCommand::FailPayment { .. } => "payment failure",
            OrderCommand::Cancel { .. } => "cancellation",
            OrderCommand::RecordRelease { .. } => "release",
            OrderCommand::RecordRefund { .. } => "refund",
        }
    }
}

/// The reason an order still running is cancelled with when InventoryService's release of it
/// arrives (`inventory/released`, OrderService having asked for none): someone else's
/// `orders/cancelled`, or the release itself, came from outside. Published in the order's
/// `orders/cancelled` (`reason`).
pub const UNASKED_RELEASE: &str = "inventory released before the order completed";

/// As [`UNASKED_RELEASE`], for a refund of the order's total (`payments/refunded`).
pub const UNASKED_REFUND: &str = "payment refunded before the order completed";

/// As [`UNASKED_RELEASE`], for a "nothing to release" answer (the nil id): nothing was
/// released, and the answer says a cancellation was asked (44-AS F6: such an order read
/// "inventory released before the order completed").
pub const UNASKED_NOTHING_RELEASED: &str =
    "\"nothing to release\" answered before the order completed";

/// As [`UNASKED_NOTHING_RELEASED`], for a "nothing to refund" answer (`payments/refunded`,
/// the nil id).
pub const UNASKED_NOTHING_REFUNDED: &str =
    "\"nothing to refund\" answered before the order completed";

/// The cancellation reason of `command`, a compensation of an order still running.
fn unasked_reason(command: &OrderCommand) -> &'static str {
    match command {
        OrderCommand::RecordRefund { payment_id, .. } if payment_id.is_nil() => {
            UNASKED_NOTHING_REFUNDED
        }
        OrderCommand::RecordRefund { .. } => UNASKED_REFUND,
        OrderCommand::RecordRelease { reservation_id } if reservation_id.is_nil() => {
            UNASKED_NOTHING_RELEASED
        }
        _ => UNASKED_RELEASE,
    }
}

/// Why an order refused a command: a transition its states do not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Nothing may happen to a completed order (not even a cancellation).
    #[error("the order is already completed: {0} refused")]
    Completed(&'static str),
    /// A compensation of a step that was never done.
    #[error("{0} refused: nothing was done to undo")]
    NothingToUndo(&'static str),
    /// A refund of an order still running whose amount is not the order's total: OrderService
    /// asked for no compensation, and it does not undo this order's charge (a client by hand).
    /// A release, or a refund of the total, of a running order cancels it instead
    /// ([`UNASKED_RELEASE`], [`UNASKED_REFUND`]).
    #[error("{0} refused: the order is still running, so no compensation was asked")]
    NotAsked(&'static str),
    /// A successful payment whose amount is not the order's total: not taken as its payment
    /// (the order waits for its own charge). Both as the page writes amounts (`59.98`).
    #[error(
        "payment confirmation refused: its amount {amount} is not the order's total {total}, so \
         it is not this order's charge"
    )]
    WrongAmount { amount: String, total: String },
    /// A refund of a cancelled order whose amount is not the order's total (the amount of its
    /// only possible charge): it does not undo the charge, so the compensation is still
    /// awaited (a newcomer's break-test: a 0.01 refund ended OrderService's requests for good).
    /// The nil payment id ("nothing to refund: never charged", amount 0) is not such a refund.
    #[error(
        "refund refused: its amount {amount} is not the order's total {total}, so it does not \
         undo the charge (OrderService still waits for the refund)"
    )]
    ShortRefund { amount: String, total: String },
    /// A refund larger than the order's total, the most any charge of the order can have been
    /// (a payment of another amount is not its charge: [`Refusal::WrongAmount`]): it undoes no
    /// charge of this order, whatever the order's status, so it is not recorded (a newcomer's
    /// break-test: a 5000.00 refund from outside of a completed 59.98 order went into its
    /// stream and hid its revenue).
    #[error(
        "refund refused: its amount {amount} is more than the order's total {total}, the most \
         it can have been charged"
    )]
    RefundOverCharge { amount: String, total: String },
    /// A refund of 0.00 of a completed order under a payment id (not the nil id's "nothing to
    /// refund" answer): it undoes nothing of the charge, so it is not recorded (a newcomer's
    /// break-test, 41-AH F2: recorded, it used up the payment's one refund, the rewind said
    /// the payment was undone, and the real refund after it was ignored as a repeat, the
    /// revenue keeping money the wire showed refunded).
    #[error("refund refused: its amount is 0.00, so it undoes nothing of the charge")]
    ZeroRefund,
    /// A refund or release under another id than the charge or reservation the order holds
    /// (`held`): it undoes nothing of this order, whatever its status, so it is not recorded
    /// and a cancelled order still waits for its own (a newcomer's break-test: a refund under a
    /// made-up payment id ended OrderService's requests, and the real charge was never
    /// refunded). Ids as hyphenated lowercase UUIDs.
    #[error(
        "{what} refused: {kind} {id} is not this order's {kind} ({held}), so it undoes nothing \
         of it"
    )]
    NotTheStep {
        what: &'static str,
        kind: &'static str,
        id: Uuid,
        held: Uuid,
    },
    /// A "nothing to undo" answer (the nil id: [`PaymentRefunded::uncharged`], a release of
    /// nothing) for a completed order whose step is done (`held`): OrderService asks no
    /// compensation of a completed order, and the answer contradicts the step, so it is not
    /// recorded (a newcomer's break-test, 35-M F7: from outside, both went into the completed
    /// order's stream, and its row read "✓ charged 59.98 … ↺ nothing to refund: never
    /// charged").
    ///
    /// [`PaymentRefunded::uncharged`]: crate::domain::events::PaymentRefunded::uncharged
    #[error(
        "{what} refused: a \"nothing to undo\" answer (the nil id), but the order is completed, \
         so no compensation was asked, and its {kind} {held} was done"
    )]
    NothingAskedOfCompleted {
        what: &'static str,
        kind: &'static str,
        held: Uuid,
    },
}

/// An order as OrderService keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The order's id (the seed's `orderId`).
    pub order_id: Uuid,
    /// Who ordered.
    pub customer_id: String,
    /// The total, in currency units.
    pub total: f64,
    /// Where the order is.
    pub status: OrderStatus,
    /// The reservation step.
    pub inventory: Step,
    /// The payment step.
    pub payment: Step,
    /// Why the order was cancelled.
    pub cancel_reason: Option<String>,
    /// Charges of this order under another payment id than the step's own, not refunded yet: a
    /// second charge (the idempotent consumer off, a copy handled twice, one from outside) while
    /// the step's own holds, whatever the order's status: the step stays the first (45-AW F1:
    /// while the order ran, the later one became the step). A refund under one of them is recorded, and
    /// leaves the step as it is (44-AS F2, 44-AT F1: it was refused as "not this order's
    /// payment", and the store kept one of the two refunds).
    pub other_charges: Vec<Uuid>,
    /// Those of [`Order::other_charges`] refunded since: their refund again is nothing new.
    pub other_refunded: Vec<Uuid>,
    /// Reservations of this order under another reservation id than the step's own, not
    /// released yet, by the same rules as [`Order::other_charges`]: a second InventoryService
    /// (two tabs on one broker) or a copy handled twice reserved it again. Its release is
    /// recorded (45-AU F1: the later reservation replaced the first in the fold, and the first
    /// one's release was refused as "not this order's reservation").
    pub other_reservations: Vec<Uuid>,
    /// Those of [`Order::other_reservations`] released since.
    pub other_released: Vec<Uuid>,
    /// What the recorded refund gave back, in currency units: `None` until a refund under a
    /// real payment id is recorded. Less than [`Order::total`] for a refund in part (by hand,
    /// of a completed order: the saga only ever refunds the whole charge).
    pub refunded: Option<f64>,
    /// How many events the order is the fold of.
    pub version: u64,
}

impl Order {
    /// A new order (the seed's `Order.Create`): Pending, with no step done.
    pub fn new(order_id: Uuid, customer_id: &str, total: f64) -> Order {
        Order {
            order_id,
            customer_id: customer_id.to_owned(),
            total,
            status: OrderStatus::Pending,
            inventory: Step::Awaiting,
            payment: Step::Awaiting,
            cancel_reason: None,
            other_charges: Vec::new(),
            other_refunded: Vec::new(),
            other_reservations: Vec::new(),
            other_released: Vec::new(),
            refunded: None,
            version: 0,
        }
    }

    /// The events `command` causes, or why the order refuses it. A result is a fact and is
    /// taken in whatever order it arrives (a payment before the stock, even where the saga
    /// asks for the stock first: the two travel on different topics, which keep no order
    /// between them). A result that repeats one already recorded causes nothing: deciding is
    /// idempotent.
    pub fn decide(&self, command: &OrderCommand) -> Result<Vec<OrderEvent>, Refusal> {
        use OrderCommand as C;
        // Compensations of an ended order are recorded: undoing is always allowed (a refund by
        // hand of a completed order's charge lowers its revenue). One that arrives before the
        // result it undoes (another topic, so another order of arrival) is recorded too, and
        // that result, when it comes, is then nothing new.
        //
        // An order still running asked for none: a participant that undid its step then did so
        // for someone else's `orders/cancelled` (or the event itself came from outside). Which,
        // OrderService cannot tell on an open broker, and either way it may not complete an
        // order whose reservation or charge may be gone: it records the compensation and
        // cancels, and the cancellation has the other step undone (a newcomer's break-test: one
        // forged `orders/cancelled` had the charge refunded and the stock released, and
        // OrderService confirmed the order all the same; an earlier rule refused the release,
        // so the order completed with nothing held). A refund of another amount than the total
        // is not this order's charge being undone: it is refused, and the order runs on.
        if let C::RecordRefund { payment_id, amount } = command {
            if !payment_id.is_nil() && more_cents(*amount, self.total) {
                return Err(Refusal::RefundOverCharge {
                    amount: amount_text(*amount),
                    total: amount_text(self.total),
                });
            }
            if !payment_id.is_nil()
                && self.status == OrderStatus::Completed
                && same_cents(*amount, 0.0)
            {
                return Err(Refusal::ZeroRefund);
            }
        }
        let undone = match command {
            C::RecordRefund { payment_id, .. } => Some((*payment_id, &self.payment, "payment")),
            C::RecordRelease { reservation_id } => {
                Some((*reservation_id, &self.inventory, "reservation"))
            }
            _ => None,
        };
        if let Some((id, Step::Confirmed(held), kind)) = undone {
            if id.is_nil() && self.status == OrderStatus::Completed {
                return Err(Refusal::NothingAskedOfCompleted {
                    what: command.what(),
                    kind,
                    held: *held,
                });
            }
        }
        // A refund of another charge of this order (not the step's own): recorded, the step
        // as it is (44-AS F2).
        if let C::RecordRefund { payment_id, amount } = command {
            if self.other_charges.contains(payment_id) && same_cents(*amount, self.total) {
                return Ok(vec![OrderEvent::PaymentRefunded {
                    payment_id: *payment_id,
                    amount: *amount,
                }]);
            }
            if self.other_refunded.contains(payment_id) {
                return Ok(Vec::new());
            }
        }
        // The same for a release of another reservation of this order (45-AU F1).
        if let C::RecordRelease { reservation_id } = command {
            if self.other_reservations.contains(reservation_id) {
                return Ok(vec![OrderEvent::InventoryReleased {
                    reservation_id: *reservation_id,
                }]);
            }
            if self.other_released.contains(reservation_id) {
                return Ok(Vec::new());
            }
        }
        // The step's own id, done or undone already: another undoes nothing of it (43-AP F3: a
        // refund under a made-up id of a completed order refunded in part before was taken,
        // unrecorded, and logged as accepted).
        let own_id = |step: &Step| match step {
            Step::Confirmed(held) => Some(*held),
            Step::Compensated(held) if !held.is_nil() => Some(*held),
            _ => None,
        };
        if let Some((id, held, kind)) =
            undone.and_then(|(id, step, kind)| own_id(step).map(|held| (id, held, kind)))
        {
            if !id.is_nil() && id != held {
                return Err(Refusal::NotTheStep {
                    what: command.what(),
                    kind,
                    id,
                    held,
                });
            }
        }
        let compensation = matches!(command, C::RecordRelease { .. } | C::RecordRefund { .. });
        let running = compensation && !self.status.is_terminal();
        if running {
            if let C::RecordRefund { payment_id, amount } = command {
                if !payment_id.is_nil() && !same_cents(*amount, self.total) {
                    return Err(Refusal::NotAsked(command.what()));
                }
            }
        }
        let then_cancel = |mut events: Vec<OrderEvent>| {
            if running {
                events.push(OrderEvent::Cancelled {
                    reason: unasked_reason(command).to_owned(),
                });
            }
            events
        };
        match command {
            C::RecordRelease { reservation_id } => {
                return match &self.inventory {
                    Step::Confirmed(_) | Step::Awaiting => {
                        Ok(then_cancel(vec![OrderEvent::InventoryReleased {
                            reservation_id: *reservation_id,
                        }]))
                    }
                    Step::Compensated(_) | Step::Forgotten(_) => Ok(Vec::new()),
                    // "Nothing was reserved" (a compensation before the step) for a step that
                    // failed: both say nothing is held.
                    Step::Failed(_) if reservation_id.is_nil() => Ok(Vec::new()),
                    _ => Err(Refusal::NothingToUndo(command.what())),
                };
            }
            C::RecordRefund { payment_id, amount } => {
                let undoes = payment_id.is_nil() || same_cents(*amount, self.total);
                if self.status == OrderStatus::Cancelled
                    && matches!(self.payment, Step::Confirmed(_) | Step::Awaiting)
                    && !undoes
                {
                    return Err(Refusal::ShortRefund {
                        amount: amount_text(*amount),
                        total: amount_text(self.total),
                    });
                }
                return match &self.payment {
                    Step::Confirmed(_) | Step::Awaiting => {
                        Ok(then_cancel(vec![OrderEvent::PaymentRefunded {
                            payment_id: *payment_id,
                            amount: *amount,
                        }]))
                    }
                    Step::Compensated(_) | Step::Forgotten(_) => Ok(Vec::new()),
                    Step::Failed(_) if payment_id.is_nil() => Ok(Vec::new()),
                    _ => Err(Refusal::NothingToUndo(command.what())),
                };
            }
            // A charge of another amount is not this order's payment, whatever its status: a
            // newcomer's break-test published a 0.01 payment before PaymentService's 59.98, and
            // the order completed on it, then refused the real charge.
            C::ConfirmPayment { amount, .. } if !same_cents(*amount, self.total) => {
                return Err(Refusal::WrongAmount {
                    amount: amount_text(*amount),
                    total: amount_text(self.total),
                });
            }
            _ => {}
        }
        match self.status {
            // A second charge or reservation of a completed order (the idempotent consumer off,
            // a copy handled twice) is a fact: recorded beside the step, which stays the first,
            // so its refund or release is recorded too (44-AT F1: refused, then its refund was
            // "not this order's payment", and the store held neither; 45-AU F1).
            OrderStatus::Completed => {
                if let Some(second) = self.second_step(command) {
                    return Ok(vec![second]);
                }
                // The same result again is a duplicate, not a contradiction.
                return if self.repeats(command) {
                    Ok(Vec::new())
                } else {
                    Err(Refusal::Completed(command.what()))
                };
            }
            OrderStatus::Cancelled => {
                // A result after the saga gave up is still a fact: recorded (a success is then
                // one more step to undo), and the order stays cancelled.
                return Ok(match command {
                    _ if self.repeats(command) => Vec::new(),
                    C::ConfirmInventory { reservation_id } => {
                        vec![OrderEvent::InventoryConfirmed {
                            reservation_id: *reservation_id,
                        }]
                    }
                    C::ConfirmPayment { payment_id, amount } => {
                        vec![OrderEvent::PaymentConfirmed {
                            payment_id: *payment_id,
                            amount: *amount,
                        }]
                    }
                    C::FailInventory { reason } => vec![OrderEvent::InventoryFailed {
                        reason: reason.clone(),
                    }],
                    C::FailPayment { payment_id, reason } => vec![OrderEvent::PaymentFailed {
                        payment_id: *payment_id,
                        reason: reason.clone(),
                    }],
                    C::Cancel { .. } | C::RecordRelease { .. } | C::RecordRefund { .. } => {
                        Vec::new()
                    }
                });
            }
            _ => {}
        }
        if self.repeats(command) {
            return Ok(Vec::new());
        }
        let cancel = |reason: &str| OrderEvent::Cancelled {
            reason: reason.to_owned(),
        };
        Ok(match command {
            C::ConfirmInventory { reservation_id } => {
                let mut events = vec![OrderEvent::InventoryConfirmed {
                    reservation_id: *reservation_id,
                }];
                if self.payment.is_confirmed() {
                    events.push(OrderEvent::Completed);
                }
                events
            }
            C::ConfirmPayment { payment_id, amount } => {
                let mut events = vec![OrderEvent::PaymentConfirmed {
                    payment_id: *payment_id,
                    amount: *amount,
                }];
                if self.inventory.is_confirmed() {
                    events.push(OrderEvent::Completed);
                }
                events
            }
            C::FailInventory { reason } => vec![
                OrderEvent::InventoryFailed {
                    reason: reason.clone(),
                },
                cancel(reason),
            ],
            C::FailPayment { payment_id, reason } => vec![
                OrderEvent::PaymentFailed {
                    payment_id: *payment_id,
                    reason: reason.clone(),
                },
                cancel(reason),
            ],
            C::Cancel { reason } => vec![cancel(reason)],
            C::RecordRelease { .. } | C::RecordRefund { .. } => Vec::new(),
        })
    }

    /// The event recording `command` as a second step of a completed order: a success under
    /// another id than its step's own (done or undone), not one it holds already; `None`
    /// otherwise.
    fn second_step(&self, command: &OrderCommand) -> Option<OrderEvent> {
        let other = |step: &Step, id: Uuid| {
            matches!(step, Step::Confirmed(first) | Step::Compensated(first) if *first != id)
                && !self.repeats(command)
        };
        match command {
            OrderCommand::ConfirmPayment { payment_id, amount }
                if other(&self.payment, *payment_id) =>
            {
                Some(OrderEvent::PaymentConfirmed {
                    payment_id: *payment_id,
                    amount: *amount,
                })
            }
            OrderCommand::ConfirmInventory { reservation_id }
                if other(&self.inventory, *reservation_id) =>
            {
                Some(OrderEvent::InventoryConfirmed {
                    reservation_id: *reservation_id,
                })
            }
            _ => None,
        }
    }

    /// Whether `command` reports a result this order already holds.
    fn repeats(&self, command: &OrderCommand) -> bool {
        match command {
            OrderCommand::ConfirmInventory { reservation_id } => {
                self.inventory == Step::Confirmed(*reservation_id)
                    || self.inventory == Step::Compensated(*reservation_id)
                    || self.inventory == Step::Forgotten(*reservation_id)
                    || self.other_reservations.contains(reservation_id)
                    || self.other_released.contains(reservation_id)
            }
            OrderCommand::ConfirmPayment { payment_id, .. } => {
                self.payment == Step::Confirmed(*payment_id)
                    || self.payment == Step::Compensated(*payment_id)
                    || self.payment == Step::Forgotten(*payment_id)
                    || self.other_charges.contains(payment_id)
                    || self.other_refunded.contains(payment_id)
            }
            OrderCommand::FailInventory { reason } => {
                self.inventory == Step::Failed(reason.clone())
            }
            OrderCommand::FailPayment { reason, .. } => {
                self.payment == Step::Failed(reason.clone())
            }
            _ => false,
        }
    }

    /// The order after `event`.
    pub fn apply(&mut self, event: &OrderEvent) {
        match event {
            // A completed order's later reservation, or a second one while the first holds:
            // beside the step, which stays the first (45-AW F1: the later one became the step,
            // so a forged one could push the real one aside).
            OrderEvent::InventoryConfirmed { reservation_id }
                if self.status == OrderStatus::Completed
                    || matches!(self.inventory, Step::Confirmed(first) if first != *reservation_id) =>
            {
                if !self.other_reservations.contains(reservation_id) {
                    self.other_reservations.push(*reservation_id);
                }
            }
            OrderEvent::InventoryConfirmed { reservation_id } => {
                self.inventory = Step::Confirmed(*reservation_id);
                if self.status == OrderStatus::Pending {
                    self.status = OrderStatus::InventoryConfirmed;
                }
            }
            // The same for a charge.
            OrderEvent::PaymentConfirmed { payment_id, .. }
                if self.status == OrderStatus::Completed
                    || matches!(self.payment, Step::Confirmed(first) if first != *payment_id) =>
            {
                if !self.other_charges.contains(payment_id) {
                    self.other_charges.push(*payment_id);
                }
            }
            OrderEvent::PaymentConfirmed { payment_id, .. } => {
                self.payment = Step::Confirmed(*payment_id);
                if self.status == OrderStatus::Pending {
                    self.status = OrderStatus::PaymentConfirmed;
                }
            }
            OrderEvent::InventoryFailed { reason } => self.inventory = Step::Failed(reason.clone()),
            OrderEvent::PaymentFailed { reason, .. } => self.payment = Step::Failed(reason.clone()),
            OrderEvent::Completed => self.status = OrderStatus::Completed,
            OrderEvent::Cancelled { reason } => {
                self.status = OrderStatus::Cancelled;
                self.cancel_reason = Some(reason.clone());
            }
            OrderEvent::InventoryReleased { reservation_id }
                if self.other_reservations.contains(reservation_id) =>
            {
                self.other_reservations.retain(|id| id != reservation_id);
                self.other_released.push(*reservation_id);
            }
            OrderEvent::InventoryReleased { reservation_id } => {
                self.inventory = Step::undone(&self.inventory, *reservation_id)
            }
            OrderEvent::PaymentRefunded { payment_id, .. }
                if self.other_charges.contains(payment_id) =>
            {
                self.other_charges.retain(|id| id != payment_id);
                self.other_refunded.push(*payment_id);
            }
            OrderEvent::PaymentRefunded { payment_id, amount } => {
                self.payment = Step::undone(&self.payment, *payment_id);
                if !payment_id.is_nil() {
                    self.refunded = Some(*amount);
                }
            }
        }
        self.version += 1;
    }

    /// The payment step as the Event store panel's rewind shows it: [`Step::describe`], except a
    /// refund of part of the charge (recorded by hand for a completed order), which is not the
    /// step undone: `refunded in part: 10.00 of 59.98 (7c9e6679-…); the rest stays charged`.
    /// Then the order's other charges, undone or not (45-AU F1: a second charge recorded at v5
    /// left the rewind at v5 the same as at v4): `done (…); also charged: 3ad88590-… (not
    /// refunded)`.
    pub fn describe_payment(&self) -> String {
        let step = match (&self.payment, self.refunded) {
            (Step::Compensated(id), Some(amount)) if !same_cents(amount, self.total) => format!(
                "refunded in part: {} of {} ({id}); the rest stays charged",
                amount_text(amount),
                amount_text(self.total)
            ),
            (step, _) => step.describe(StepKind::Payment),
        };
        step + &others(
            "charged",
            &self.other_refunded,
            &self.other_charges,
            "refunded",
        )
    }

    /// The reservation step as the Event store panel's rewind shows it: [`Step::describe`],
    /// then the order's other reservations, released or not: `done (…); also reserved:
    /// 5ac863cd-… (released)`.
    pub fn describe_inventory(&self) -> String {
        self.inventory.describe(StepKind::Reservation)
            + &others(
                "reserved",
                &self.other_released,
                &self.other_reservations,
                "released",
            )
    }

    /// Decides `command` and applies what it causes; returns the events.
    pub fn handle(&mut self, command: &OrderCommand) -> Result<Vec<OrderEvent>, Refusal> {
        let events = self.decide(command)?;
        for event in &events {
            self.apply(event);
        }
        Ok(events)
    }
}

/// `; also charged: a (refunded), b (not refunded)` for the other steps of a kind, undone ones
/// first; empty for none.
fn others(done: &str, undone: &[Uuid], open: &[Uuid], undo: &str) -> String {
    if undone.is_empty() && open.is_empty() {
        return String::new();
    }
    let listed = undone
        .iter()
        .map(|id| format!("{id} ({undo})"))
        .chain(open.iter().map(|id| format!("{id} (not {undo})")))
        .collect::<Vec<_>>()
        .join(", ");
    format!("; also {done}: {listed}")
}

#[cfg(test)]
mod tests;
