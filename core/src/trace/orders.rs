//! The Orders panel's model: one row per order, folded from the messages of the flow seen on
//! the wire (every PUBLISH any of the four clients sent or received). The same fold for the
//! live page and a replayed recording, and it needs nothing but packets: what the panel says,
//! `mosquitto_sub -t '#'` could have told.
//!
//! A message is usually seen several times (published once, delivered to each subscriber);
//! the fold is idempotent, so each counts once. Two different charges for one order are both
//! counted: that is a double charge, and the row says so. The copy going out names the client
//! that published a result or a compensation: which of PaymentService's instances charged,
//! declined or refunded the order ([`OrderRow::step_by`]).
//!
//! A row says how it [`Start`]s: with its `orders/created` (who ordered, the total, the time its
//! outcome is measured from), before the page forgot what came first (*Clear*, or older orders
//! dropped: those facts are no longer known, and no time is made up), before a reload (restored
//! from OrderService's store in the browser's database, and marked so: see the `from_store` module), or
//! never: results for an order nobody created on the wire, counted apart from the open and
//! finished ones.
//!
//! ```
//! use std::time::Duration;
//! use eda_core::domain::events::{DomainEvent, OrderCancelled};
//! use eda_core::domain::order::OrderStatus;
//! use eda_core::domain::Timestamp;
//! use eda_core::trace::orders::OrderBook;
//! use uuid::Uuid;
//!
//! let mut book = OrderBook::new(100);
//! let now = Timestamp::from_unix_millis(0).unwrap();
//! let order_id = Uuid::from_u128(1);
//! let cancelled = OrderCancelled { order_id, reason: "payment declined".into(), cancelled_at: now };
//! book.apply(Duration::from_millis(900), &DomainEvent::from(cancelled));
//! let row = book.row(order_id).unwrap();
//! assert_eq!(row.status, OrderStatus::Cancelled);
//! assert_eq!(row.reason.as_deref(), Some("payment declined"));
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use uuid::Uuid;

use broker_bridge::{Direction, Packet};

use super::history::PacketHistory;
use super::packet::{Participant, TracedPacket};
use crate::config::COMPENSATION_TRIES;
use crate::domain::events::DomainEvent;
use crate::domain::money::{more_cents, same_cents};
use crate::domain::order::{OrderStatus, StepKind};
use crate::domain::timestamp::Timestamp;
use crate::domain::topics;
use crate::services::memory::Recent;
use crate::services::ServiceId;

/// Why a message one of this page's services published, or one OrderService sent again and
/// again, never reached the service it was for ([`OrderRow::unheard_step`],
/// [`OrderRow::compensating`]).
const DROPPED_WHY: &str = "a broker drops a message by its own rules without a word under MQTT \
     3.1.1, e.g. an ACL that forbids its topic (5.0 tells the publisher Not authorized, 0x87); a \
     service crashed or cut off is the other cause (its badge says so). Mosquitto's log names a \
     refused publish (Denied PUBLISH), but not a delivery its read rule held back: that shows only \
     as a Received PUBLISH with no Sending PUBLISH to the service";

/// Why a result one of the page's clients published never reached OrderService, for the row
/// ([`OrderRow::unheard_step`]): the broker holds it still (stopped answering), took it before
/// OrderService subscribed again after a restart without its session, or dropped it by its own
/// rules. Newcomers' break-tests (36-S F1, F2) were pointed at an ACL, and at a badge that
/// said nothing, for a broker restarted without its save and for a frozen one.
const UNDELIVERED_WHY: &str = "the broker has not delivered it: a broker that stopped answering \
     holds it until it answers again (the services' connections end within about 40 s); one \
     restarted without OrderService's session took it before OrderService subscribed again \
     (OrderService's log then says Session Present 0); or a broker dropped it by its own rules \
     without a word under MQTT 3.1.1, e.g. an ACL that forbids its topic (5.0 tells the \
     publisher Not authorized, 0x87). Mosquitto's log names a refused publish (Denied PUBLISH), \
     but not a delivery its read rule held back: that shows only as a Received PUBLISH with no \
     Sending PUBLISH to OrderService";

/// How many orders the panel keeps as rows; older ones are dropped, and still counted in
/// [`OrderBook::counts`] as they stood when dropped.
pub const ORDERS_KEPT: usize = 500;

/// Amounts from the wire as the panel shows them, exact to the cent (see [`amount_text`]).
pub use crate::domain::money::amount_text;

/// How an order's row starts: whether its `orders/created` was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Its `orders/created` was seen at this time, on the packets' clock.
    Created(Duration),
    /// Its `orders/created` was not seen, but the page knew the order before it forgot what came
    /// first (*Clear*, or the order dropped from a full book): it started before then, and who
    /// ordered what, and when, is no longer known.
    Forgotten,
    /// Restored from OrderService's event store in the browser's database after a reload
    /// ([`OrderBook::restore`]): its `orders/created` went out before this page loaded; who
    /// ordered and the total come from the store, the time it was created on the packets'
    /// clock is not known.
    Restored,
    /// Its `orders/created` was never seen, nor the order before: someone published results for
    /// an order nobody created on the wire.
    Unknown,
    /// Its `orders/created` was seen at this time, a copy of an order that had already ended in
    /// OrderService's store (published again from outside after *Clear*, or after the book
    /// dropped the order): every consumer ignores it as a duplicate, and the row takes the
    /// outcome, steps and compensations from the store ([`OrderBook::replayed`]).
    Replayed(Duration),
}

impl Start {
    /// `created`, `forgotten`, `restored` or `unknown`: the row's `data-start`.
    pub fn word(self) -> &'static str {
        match self {
            Start::Created(_) => "created",
            Start::Forgotten => "forgotten",
            Start::Restored => "restored",
            Start::Unknown => "unknown",
            Start::Replayed(_) => "replayed",
        }
    }

    /// The row's mark when it did not start on this page's wire: `restored from the browser's
    /// database after a reload`, or for a replay `ended before this copy of its orders/created
    /// (a replay, ignored as a duplicate): the outcome is OrderService's store's`; `None`
    /// otherwise.
    pub fn mark(self) -> Option<&'static str> {
        match self {
            Start::Restored => Some("restored from the browser's database after a reload"),
            Start::Replayed(_) => Some(
                "ended before this copy of its orders/created (a replay, ignored as a \
                 duplicate): the outcome is OrderService's store's",
            ),
            Start::Created(_) | Start::Forgotten | Start::Unknown => None,
        }
    }

    /// Why the row does not know its customer, total or time (`""` when it does); `recording`
    /// when the packets are a loaded recording's, not the wire's.
    pub fn why_not_known(self, recording: bool) -> &'static str {
        match self {
            Start::Created(_) => "",
            Start::Replayed(_) => {
                "ended before this copy of its orders/created: when it was first created is not \
                 in the picture"
            }
            Start::Forgotten => {
                "started before Clear: its orders/created is no longer in the picture"
            }
            Start::Restored => {
                "restored after a reload: its orders/created went out before this page loaded"
            }
            Start::Unknown if recording => "no orders/created for this order in the recording",
            Start::Unknown => "no orders/created for this order was seen on the wire",
        }
    }
}

/// One thing that happened to an order, as its row lists it.
#[derive(Debug, Clone, PartialEq)]
pub enum StepSeen {
    /// The stock was reserved (under this reservation id).
    Reserved(Uuid),
    /// The stock could not be reserved.
    ReservationFailed(String),
    /// A charge went through (under this payment id, for this amount).
    Charged(Uuid, f64),
    /// A charge was declined (under this payment id, for this reason).
    Declined(Uuid, String),
    /// A successful payment whose amount is not the order's total (under this payment id,
    /// for this amount): OrderService refuses it as not this order's charge
    /// ([`Refusal::WrongAmount`](crate::domain::order::Refusal::WrongAmount)), so it is not
    /// counted as a charge.
    OtherAmount(Uuid, f64),
}

impl StepSeen {
    /// The step in a few words, for the row.
    pub fn describe(&self) -> String {
        match self {
            StepSeen::Reserved(_) => "✓ stock reserved".to_owned(),
            StepSeen::ReservationFailed(reason) => format!("✕ reservation failed: {reason}"),
            StepSeen::Charged(_, amount) => format!("✓ charged {}", amount_text(*amount)),
            StepSeen::Declined(_, reason) => format!("✕ payment failed: {reason}"),
            StepSeen::OtherAmount(_, amount) => format!(
                "✕ a payment of {}, not the order's total: not its charge",
                amount_text(*amount)
            ),
        }
    }

    /// Whether the step failed.
    pub fn failed(&self) -> bool {
        matches!(
            self,
            StepSeen::ReservationFailed(_) | StepSeen::Declined(..) | StepSeen::OtherAmount(..)
        )
    }

    /// Whether PaymentService told it: a charge or a decline.
    pub fn is_payment(&self) -> bool {
        matches!(
            self,
            StepSeen::Charged(..) | StepSeen::Declined(..) | StepSeen::OtherAmount(..)
        )
    }

    /// The message that told it, when it names one (topic and id), as
    /// [`DomainEvent::identity`] does.
    fn identity(&self) -> Option<(&'static str, Uuid)> {
        match self {
            StepSeen::Reserved(id) => Some((topics::INVENTORY_RESERVED, *id)),
            StepSeen::Charged(id, _) | StepSeen::Declined(id, _) | StepSeen::OtherAmount(id, _) => {
                Some((topics::PAYMENTS_PROCESSED, *id))
            }
            StepSeen::ReservationFailed(_) => None,
        }
    }
}

/// A compensation seen for an order.
#[derive(Debug, Clone, PartialEq)]
pub enum Compensation {
    /// The reservation was released.
    Released(Uuid),
    /// A charge was refunded.
    Refunded(Uuid, f64),
}

impl Compensation {
    /// The compensation in a few words, for the row.
    pub fn describe(&self) -> String {
        match self {
            _ if self.before_the_step() => match self {
                Compensation::Released(_) => "↺ nothing to release: never reserved".to_owned(),
                Compensation::Refunded(..) => "↺ nothing to refund: never charged".to_owned(),
            },
            Compensation::Released(_) => "↺ stock released".to_owned(),
            Compensation::Refunded(_, amount) => format!("↺ refunded {}", amount_text(*amount)),
        }
    }

    /// Whether this is a compensation before the step: the participant had nothing to undo
    /// (the nil id of [`PaymentRefunded::uncharged`](crate::domain::events::PaymentRefunded::uncharged)
    /// and [`InventoryReleased::unreserved`](crate::domain::events::InventoryReleased::unreserved)),
    /// so it undoes no charge or reservation the row lists.
    pub fn before_the_step(&self) -> bool {
        match self {
            Compensation::Released(id) | Compensation::Refunded(id, _) => id.is_nil(),
        }
    }

    /// Whether PaymentService made it.
    pub fn is_refund(&self) -> bool {
        matches!(self, Compensation::Refunded(..))
    }

    /// The message that told it (topic and id), as [`DomainEvent::identity`] does.
    fn identity(&self) -> (&'static str, Uuid) {
        match self {
            Compensation::Released(id) => (topics::INVENTORY_RELEASED, *id),
            Compensation::Refunded(id, _) => (topics::PAYMENTS_REFUNDED, *id),
        }
    }
}

/// Whether a step the wire shows done is left to undo ([`OrderRow::compensating`],
/// [`OrderRow::forgotten`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undone {
    /// Nothing left: every such step undone, or none done.
    No,
    /// Its compensation not seen yet.
    Awaited,
    /// Answered "nothing to undo" by a participant that had forgotten the step.
    Forgotten,
}

/// One order as the wire has told it so far.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    /// The order's id.
    pub order_id: Uuid,
    /// Who ordered; `None` until its `orders/created` is seen.
    pub customer_id: Option<String>,
    /// Its total, in currency units as the wire carries it; `None` until its `orders/created`
    /// is seen.
    pub total: Option<f64>,
    /// Whether its `orders/created` was seen, and when.
    pub start: Start,
    /// Where it is, in the aggregate's words.
    pub status: OrderStatus,
    /// The steps taken, in the order seen.
    pub steps: Vec<StepSeen>,
    /// The compensations made, in the order seen.
    pub compensations: Vec<Compensation>,
    /// The refunds seen while the order ran (before its outcome on the wire): (payment id,
    /// amount). One of part of the charge OrderService refuses (44-AS F1).
    running_refunds: Vec<(Uuid, f64)>,
    /// The compensations that came once the row showed a step of their kind done, under none
    /// of those steps' ids ([`OrderRow::names_another_step`]; 44-AT F6).
    after_other_steps: Vec<Compensation>,
    /// Why it was cancelled.
    pub reason: Option<String>,
    /// When its first message was seen, on the packets' clock.
    pub first_seen: Duration,
    /// When its outcome (`orders/confirmed` or `orders/cancelled`) was seen.
    pub ended: Option<Duration>,
    /// How many outcomes were published for it: more than one would break the saga's promise
    /// of exactly one.
    pub outcomes: u32,
    /// The first outcome seen after the one the row shows that is not a copy of it: another
    /// status, or another reason (`orders/cancelled` "by hand" from outside, then OrderService's
    /// own). `None` while every outcome seen is the same.
    pub other_outcome: Option<(OrderStatus, Option<String>)>,
    /// Whether the outcome the row shows went out from one of this page's clients (its
    /// OrderService): that one is shown, and one from outside is [`OrderRow::other_outcome`],
    /// whichever reached the wire first.
    outcome_own: bool,
    /// The traced packet of its `orders/created`, to deliver it again.
    pub created_seq: Option<u64>,
    /// How many times a page's client published, for it, `orders/cancelled`,
    /// `commands/inventory/release` and `commands/payment/refund`: OrderService sends a
    /// compensating message again until it sees the compensation done.
    sent: [u32; 3],
    /// When the last of each of [`Self::sent`] went out (the packets' clock; zero before the
    /// first).
    last_sent: [Duration; 3],
    /// The client that published each result and compensation, by the message's identity,
    /// and when (the packets' clock): seen on the copy going out.
    published_by: Vec<((&'static str, Uuid), String, Duration)>,
    /// Why OrderService gave up on the last `orders/created` it got for this order and
    /// published it to `deadletter/order` (e.g. `handler failed: …`): no order exists in its
    /// store, so no deadline will end it; `None` otherwise, and again once another
    /// `orders/created` for it (a fixed Retry) comes.
    pub dead_lettered: Option<String>,
    /// The `orders/created` OrderService dead-lettered: a copy of it delivered to another of the
    /// page's clients afterwards is the same message, not a new creation (44-AT F2: an order
    /// refused at once for its size read "◔ Pending" when the other services' copies came after
    /// OrderService's dead letter).
    dead_lettered_creation: Option<crate::domain::events::OrderCreated>,
    /// The failure reason code the broker answered its `orders/created` with (a PUBACK or
    /// PUBREC of 0x80 or above, MQTT 5.0 §3.4.2.1 and §3.5.2.1, e.g. `Quota exceeded (0x97)`):
    /// the broker published nothing, no participant heard of it, and no deadline will end it
    /// (a newcomer's break-test, 34-K F5: such orders stayed "Pending …" for ever, the reason
    /// only in a log line that scrolled away). `None` otherwise.
    pub refused: Option<String>,
    /// The reason code of [`OrderRow::refused`], for [`OrderRow::refused_advice`].
    refused_code: Option<broker_bridge::ReasonCode>,
    /// The identities (topic and id, [`DomainEvent::identity`]) of the results this page's
    /// OrderService received for the order, and when (the packets' clock): a result another of
    /// the page's clients published and OrderService never received was dropped on the way, or
    /// one received after the deadline's cancellation came late ([`OrderRow::unheard_step`]).
    heard_by_order: Vec<((&'static str, Uuid), Duration)>,
    /// The results published for the order that OrderService had not received when it sent a
    /// CONNECT with a clean session (a *Restart* or a reconnection under `?session=clean`): the
    /// broker discarded what it held for the old session, so they never reach it
    /// ([`OrderRow::unheard_step`] says so, not a fault of the broker: a newcomer's
    /// break-test, 37-V F6, was pointed at the broker's log in the README's "Lose the answer"
    /// lesson).
    missed_by_clean_start: Vec<(&'static str, Uuid)>,
    /// The same, when OrderService asked for its session kept and the broker had none
    /// (Session Present 0 on its reconnection: a broker restarted without persistence, 42-AL
    /// F3: every row listed three guesses, though OrderService's log had said which).
    missed_by_lost_session: Vec<(&'static str, Uuid)>,
    /// The results this page's clients published for the order that the broker refused
    /// (PUBACK or PUBREC 0x80 or above, MQTT 5.0 §3.4.2.1), each with the reason: an
    /// [`OrderRow::unheard_step`] names that refusal, not guesses (43-AN F3: a payments/processed
    /// refused Not authorized (0x87) was said first to be held by a broker that stopped
    /// answering).
    refused_results: Vec<((&'static str, Uuid), String)>,
    /// How many compensating messages (`orders/cancelled`, or orchestration's command) this
    /// page's PaymentService, then InventoryService, received for the order
    /// ([`OrderRow::compensating`]).
    compensation_heard: [u32; 2],
    /// How many times this page's OrderService published the order's `orders/created`, and
    /// how many deliveries of it any of the page's clients received
    /// ([`OrderRow::undelivered_note`]).
    created_flow: [u32; 2],
    /// The identities of the steps a restored row took from PaymentService's and
    /// InventoryService's memory alone ([`OrderBook::take_participants`]): OrderService's
    /// store did not hold them ([`OrderRow::kept_step`]).
    kept_only: Vec<(&'static str, Uuid)>,
}

impl OrderRow {
    fn new(order_id: Uuid, at: Duration, start: Start) -> Self {
        OrderRow {
            order_id,
            customer_id: None,
            total: None,
            start,
            status: OrderStatus::Pending,
            steps: Vec::new(),
            compensations: Vec::new(),
            dead_lettered_creation: None,
            running_refunds: Vec::new(),
            after_other_steps: Vec::new(),
            reason: None,
            first_seen: at,
            ended: None,
            outcomes: 0,
            other_outcome: None,
            outcome_own: false,
            created_seq: None,
            sent: [0; 3],
            last_sent: [Duration::ZERO; 3],
            published_by: Vec::new(),
            missed_by_clean_start: Vec::new(),
            missed_by_lost_session: Vec::new(),
            refused_results: Vec::new(),
            dead_lettered: None,
            refused: None,
            refused_code: None,
            heard_by_order: Vec::new(),
            kept_only: Vec::new(),
            compensation_heard: [0; 2],
            created_flow: [0; 2],
        }
    }

    /// While the order is cancelled with a step the wire shows done and not undone: what is
    /// awaited, `compensating: refund not seen yet` (and `release`), or, once its compensating
    /// message went out [`COMPENSATION_TRIES`] times, `refund not confirmed after 4 tries`
    /// (OrderService then gives up, a deadline later). `crashed`: how PaymentService, then
    /// InventoryService, stands after the learner's *Crash* ([`ParticipantDown`]): the cause
    /// named when it received none of the tries (45-AV F2: the row sent the learner to ACLs and
    /// the broker's log first; 45-AW F2: under a clean session it promised a Restart would
    /// help, and after it blamed ACLs again). `None` otherwise.
    pub fn compensating(&self, crashed: [ParticipantDown; 2]) -> Option<String> {
        if self.status != OrderStatus::Cancelled {
            return None;
        }
        let [cancelled, release_asked, refund_asked] = self.sent;
        // Orchestrated, the command is the compensating message; else orders/cancelled.
        let tries = |asked: u32| if asked > 0 { asked } else { cancelled };
        // When the last try went out, by the same rule.
        let last_try = |slot: usize| {
            if self.sent[slot] > 0 {
                self.last_sent[slot]
            } else {
                self.last_sent[0]
            }
        };
        let [refund, release] = self.not_undone();
        let mut awaited = Vec::new();
        // A step answered "nothing to undo" is not awaited any more: [`OrderRow::forgotten`].
        if refund == Undone::Awaited {
            awaited.push(("refund", tries(refund_asked)));
        }
        if release == Undone::Awaited {
            awaited.push(("release", tries(release_asked)));
        }
        if awaited.is_empty() {
            return None;
        }
        let lines: Vec<String> = awaited
            .into_iter()
            .map(|(what, tries)| {
                // The step was this page's, and its service received not one of the tries: the
                // broker dropped them (a newcomer's break-test, 34-J F8: an ACL that forbids
                // PaymentService to read orders/cancelled, under MQTT 3.1.1, and nothing said so).
                let refund = what == "refund";
                let step_ours = self
                    .steps
                    .iter()
                    .any(|s| s.is_payment() == refund && self.step_by(s).is_some());
                let (service, heard, down, last) = if refund {
                    let last = last_try(2);
                    (
                        "PaymentService",
                        self.compensation_heard[0],
                        crashed[0],
                        last,
                    )
                } else {
                    let last = last_try(1);
                    (
                        "InventoryService",
                        self.compensation_heard[1],
                        crashed[1],
                        last,
                    )
                };
                // Back without its session, the participant missed only the tries that went
                // out before its broker accepted it again: a later one it did not receive was
                // dropped by the broker, as if it had never crashed.
                let down = match down {
                    ParticipantDown::BackWithoutSession { since } if last >= since => {
                        ParticipantDown::No
                    }
                    down => down,
                };
                let step = if refund { "charge" } else { "reservation" };
                let outsider = (tries >= COMPENSATION_TRIES)
                    .then(|| self.outsiders_left(refund))
                    .flatten();
                if let Some(left) = outsider {
                    // The step left undone is no client's of this page (a charge published by
                    // hand): its participant has nothing of it to undo (45-AW F5: the row said
                    // only "not confirmed", the forged charge never named).
                    format!(
                        "{what} not confirmed after {tries} tries: the {step} left, {}…, was \
                         made by no client of this page (another client's, by hand?), so \
                         {service} has nothing of it to {what}",
                        &left.to_string()[..8]
                    )
                } else if tries >= COMPENSATION_TRIES
                    && heard == 0
                    && step_ours
                    && down != ParticipantDown::No
                {
                    match down {
                        ParticipantDown::Crashed { kept: true } => format!(
                            "{what} not confirmed after {tries} tries: {service} is crashed, so it \
                             received none of them; with a persistent session the broker keeps \
                             them for it, and it answers once restarted (Restart)"
                        ),
                        ParticipantDown::Crashed { kept: false } => format!(
                            "{what} not confirmed after {tries} tries: {service} is crashed, so it \
                             received none of them, and its session is clean: the broker keeps \
                             none of them for it, so a Restart does not bring them, and the \
                             {step} is left to {what} by hand"
                        ),
                        _ => format!(
                            "{what} not confirmed after {tries} tries: {service} received none \
                             of them: they went out while it was crashed, and it came back \
                             without its session (clean, or Session Present 0), so the broker \
                             had dropped them; the {step} is left to {what} by hand"
                        ),
                    }
                } else if tries >= COMPENSATION_TRIES && heard == 0 && step_ours {
                    format!(
                        "{what} not confirmed after {tries} tries: {service} received none of \
                         them ({DROPPED_WHY})"
                    )
                } else if tries >= COMPENSATION_TRIES {
                    format!("{what} not confirmed after {tries} tries")
                } else {
                    format!("compensating: {what} not seen yet")
                }
            })
            .collect();
        Some(lines.join("; "))
    }

    /// While the order is cancelled with a step the wire shows done, not undone, and answered
    /// "nothing to undo" (the nil id of a compensation before the step): what the participant
    /// forgot. It had done the step, then lost its memory of it (PaymentService and
    /// InventoryService keep theirs in the tab's database, decision 0021, but a reload with no
    /// database empties it), so OrderService
    /// takes the answer as the end of its compensation: the charge is never refunded, and the
    /// reloaded InventoryService counts its stock from the link's levels again (what the Stock
    /// panel shows), the reservation forgotten rather than released. `None` otherwise.
    pub fn forgotten(&self) -> Option<String> {
        if self.status != OrderStatus::Cancelled {
            return None;
        }
        let [refund, release] = self.not_undone();
        // Seen on the wire by this page, and published by none of its clients: the step came
        // from outside (a newcomer's break-test: a charge forged for a declined order was
        // blamed on a reload that never happened).
        let outside = |charge: bool| {
            matches!(self.start, Start::Created(_))
                && self
                    .steps
                    .iter()
                    .filter(|s| {
                        if charge {
                            matches!(s, StepSeen::Charged(..))
                        } else {
                            matches!(s, StepSeen::Reserved(_))
                        }
                    })
                    .all(|s| self.step_by(s).is_none())
        };
        // The answer "nothing to undo" seen by this page and published by none of its clients
        // (a newcomer's break-test: a nil refund published by hand while PaymentService was
        // crashed ended OrderService's requests, and the row blamed a reload).
        let answer_outside = |refund: bool| {
            matches!(self.start, Start::Created(_))
                && self
                    .compensations
                    .iter()
                    .filter(|c| c.is_refund() == refund && c.before_the_step())
                    .all(|c| self.compensation_by(c).is_none())
        };
        let mut lines = Vec::new();
        if refund == Undone::Forgotten {
            lines.push(if outside(true) {
                "PaymentService answered that it charged nothing: the charge on the wire is not \
                 its own (no client of this page published it: another client's, by hand?), so \
                 nobody refunded it"
            } else if answer_outside(true) {
                "PaymentService's charge is on the wire, and the answer that nothing was charged \
                 is not its own (no client of this page published it: another client's, by \
                 hand?): OrderService took it as the end of the compensation, so the charge was \
                 never refunded"
            } else {
                "PaymentService answered that it charged nothing, though its charge is on the \
                 wire: it forgot it (reloaded with no database to keep its memory in), so the charge was never \
                 refunded"
            });
        }
        if release == Undone::Forgotten {
            lines.push(if outside(false) {
                "InventoryService answered that it reserved nothing: the reservation on the wire \
                 is not its own (no client of this page published it: another client's, by \
                 hand?), so nobody released it"
            } else if answer_outside(false) {
                "InventoryService's reservation is on the wire, and the answer that nothing was \
                 reserved is not its own (no client of this page published it: another client's, \
                 by hand?): OrderService took it as the end of the compensation, so nothing was \
                 released and the stock stays held"
            } else {
                "InventoryService answered that it reserved nothing, though its reservation is \
                 on the wire: it forgot it (reloaded with no database to keep its memory in) and started afresh from \
                 the link's stock levels, so the stock it reserved is counted as on hand again \
                 and nothing was released"
            });
        }
        (!lines.is_empty()).then(|| lines.join("; "))
    }

    /// A completed order with a compensation on the wire: OrderService asked for none, so it
    /// was made by hand or by another client (a newcomer's break-test: under orchestration a
    /// refund command published from outside undid a completed order, and the row said
    /// nothing). `undone after completion: OrderService asked for no compensation (a refund
    /// or release by hand, or another client's)`; `None` otherwise.
    pub fn undone_after_completion(&self) -> Option<&'static str> {
        // One under another id than the step the row shows done undoes nothing of it:
        // OrderService refuses it (`Refusal::NotTheStep`), and the order stays as it was (a
        // newcomer's break-test, 35-M F11: a release under a made-up id, refused, made the row
        // say the completed order was undone).
        // One of a second charge (or reservation), the order's own standing, undoes the double
        // step, not the order (45-AW F3: a refund by hand of a completed order's second charge
        // read "undone after completion").
        let undoes = |c: &Compensation| {
            !self.shows_done(c.is_refund())
                || (self.undoes_a_step(c) && self.names_the_first_step(c))
        };
        if self.status != OrderStatus::Completed {
            return None;
        }
        // A refund of part of the charge while the order ran was refused (44-AS F1).
        let refused = |c: &Compensation| matches!(c, Compensation::Refunded(id, amount) if self.refused_while_running(*id, *amount));
        let after = |f: &dyn Fn(&Compensation) -> bool| {
            self.compensations
                .iter()
                .any(|c| !c.before_the_step() && !refused(c) && f(c))
        };
        if after(&undoes) {
            return Some(
                "undone after completion: OrderService asked for no compensation (a refund or \
                 release by hand, or another client's)",
            );
        }
        // Less than the charge under its id: OrderService records it too, and the revenue
        // falls by it (43-AP F4: the row said nothing of it).
        after(&|c| self.refunds_in_part(c)).then_some(
            "refunded in part after completion: OrderService asked for no compensation (a \
             refund by hand, or another client's)",
        )
    }

    /// The id of a charge (`refund`) or reservation the row shows done, undone by no
    /// compensation it shows, and published by no client of this page, when every step of
    /// that kind left undone is such, on a row whose `orders/created` this page saw; `None`
    /// otherwise.
    fn outsiders_left(&self, refund: bool) -> Option<Uuid> {
        // Only for an order this page saw created: a restored row's steps were seen by the page
        // before the reload, whose packets went with it.
        if !matches!(self.start, Start::Created(_)) {
            return None;
        }
        let left: Vec<&StepSeen> = self
            .done_steps(refund)
            .filter(|s| {
                !self
                    .compensations
                    .iter()
                    .any(|c| self.step_named_by(c) == Some(*s) && self.undoes_a_step(c))
            })
            .collect();
        match left.as_slice() {
            [] => None,
            steps if steps.iter().all(|s| self.step_by(s).is_none()) => {
                steps[0].identity().map(|(_, id)| id)
            }
            _ => None,
        }
    }

    /// Whether `compensation` names the first step of its kind the row shows (the order's own,
    /// as OrderService's store keeps it: a later one is recorded beside it).
    fn names_the_first_step(&self, compensation: &Compensation) -> bool {
        let first = self.done_steps(compensation.is_refund()).next();
        first.is_some() && first == self.step_named_by(compensation)
    }

    /// Whether `compensation` is a refund of less than the charge the row shows under its id
    /// (and more than nothing).
    fn refunds_in_part(&self, compensation: &Compensation) -> bool {
        match (compensation, self.step_named_by(compensation)) {
            (Compensation::Refunded(_, amount), Some(StepSeen::Charged(_, charged))) => {
                !same_cents(*amount, 0.0) && more_cents(*charged, *amount)
            }
            _ => false,
        }
    }

    /// Whether the row shows the step a compensation of that kind undoes done: a charge
    /// (`refund`), or a reservation.
    fn shows_done(&self, refund: bool) -> bool {
        self.done_steps(refund).next().is_some()
    }

    /// The steps the row shows done of a kind: charges (`refund`), or reservations; in the
    /// order seen.
    fn done_steps(&self, refund: bool) -> impl Iterator<Item = &StepSeen> {
        self.steps.iter().filter(move |s| match s {
            StepSeen::Charged(..) => refund,
            StepSeen::Reserved(_) => !refund,
            _ => false,
        })
    }

    /// Whether `compensation`, a refund or release under a real id, comes after the row showed
    /// a step of its kind done and names none of them by id: OrderService refuses it
    /// ([`Refusal::NotTheStep`](crate::domain::order::Refusal::NotTheStep)).
    /// Recorded on arrival: a charge of the refund's id that comes after it (a late step) makes
    /// it a step's own again.
    fn names_another_step(&self, compensation: &Compensation) -> bool {
        self.after_other_steps.contains(compensation) && self.step_named_by(compensation).is_none()
    }

    /// Lists `compensation`, as seen now, noting whether it names another step than those the
    /// row shows done of its kind.
    fn compensate(&mut self, compensation: Compensation) {
        if !compensation.before_the_step()
            && self.shows_done(compensation.is_refund())
            && self.step_named_by(&compensation).is_none()
        {
            self.after_other_steps.push(compensation.clone());
        }
        self.compensations.push(compensation);
    }

    /// Whether `compensation` undoes a step the row shows done: a refund of a charge's id and
    /// amount, a release of a reservation's id.
    fn undoes_a_step(&self, compensation: &Compensation) -> bool {
        match (compensation, self.step_named_by(compensation)) {
            (Compensation::Refunded(_, amount), Some(StepSeen::Charged(_, charged))) => {
                same_cents(*charged, *amount)
            }
            (_, step) => step.is_some(),
        }
    }

    /// The step the row shows that `compensation` names by its id, whatever its amount: the
    /// `✓ charged` step of a refund's payment id, the `✓ stock reserved` step of a release's
    /// reservation id.
    fn step_named_by(&self, compensation: &Compensation) -> Option<&StepSeen> {
        self.steps.iter().find(|s| match (compensation, s) {
            (Compensation::Refunded(id, _), StepSeen::Charged(charged, _)) => charged == id,
            (Compensation::Released(id), StepSeen::Reserved(reserved)) => reserved == id,
            _ => false,
        })
    }

    /// For the refund and the release, in that order: whether a step the wire shows done is
    /// left to undo, and how.
    fn not_undone(&self) -> [Undone; 2] {
        let count =
            |f: &dyn Fn(&&Compensation) -> bool| self.compensations.iter().filter(f).count();
        let reserved = self.reservations();
        // A refund of another amount than every charge (0.01 from outside) undoes none of
        // them: OrderService refuses it too (`Refusal::ShortRefund`) and still waits.
        // Nor does one under another id than every charge or reservation shown (a made-up id
        // from outside): OrderService refuses it (`Refusal::NotTheStep`) and still waits.
        let undoes = |c: &&Compensation| self.undoes_a_step(c);
        let left = |done: usize, refund: bool| {
            let undone = count(&|c| c.is_refund() == refund && !c.before_the_step() && undoes(c));
            let nothing = count(&|c| c.is_refund() == refund && c.before_the_step());
            match (done > undone, nothing > 0) {
                (false, _) => Undone::No,
                (true, false) => Undone::Awaited,
                (true, true) => Undone::Forgotten,
            }
        };
        [left(self.charges(), true), left(reserved, false)]
    }

    /// OrderService sent a CONNECT with a clean session: every result published for the order
    /// that it had not received by then will not reach it.
    /// Or (`session_lost`) OrderService asked for its session kept and its broker had none
    /// (Session Present 0): every such result is gone with the session.
    fn note_unheard(&mut self, session_lost: bool) {
        let missed = if session_lost {
            &mut self.missed_by_lost_session
        } else {
            &mut self.missed_by_clean_start
        };
        for (identity, _, _) in &self.published_by {
            let heard = self.heard_by_order.iter().any(|(i, _)| i == identity);
            if !heard && !missed.contains(identity) {
                missed.push(*identity);
            }
        }
    }

    /// Why the row adds to `step` that OrderService never received it: the order was cancelled
    /// as timed out waiting for that participant, one of this page's clients published the
    /// step's message, and this page's OrderService received no copy of it. The broker took the
    /// message and delivered it to nobody that matters: an ACL that forbids the topic (to the
    /// publisher, or to OrderService's subscription) does so without a word under MQTT 3.1.1
    /// (5.0 tells the publisher Not authorized, 0x87, §3.4.2.1). A newcomer's break-test (34-J F8)
    /// saw "inventory timed out" although InventoryService had answered in 0.8 s, and nothing
    /// pointed at the ACL. While OrderService is crashed (`order_crashed`) that is the cause
    /// named (40-AD F4: the row named a broker that stopped answering, one restarted, an ACL,
    /// everything but the crash the learner had just made). `None` otherwise.
    pub fn unheard_step(&self, step: &StepSeen, order_crashed: bool) -> Option<String> {
        let reason = self.reason.as_deref()?;
        let participant = if step.is_payment() {
            "payment"
        } else {
            "inventory"
        };
        if self.status != OrderStatus::Cancelled
            || !reason.ends_with("timed out")
            || !reason.contains(participant)
        {
            return None;
        }
        let identity = step.identity()?;
        let (topic, _) = identity;
        self.published(identity)?;
        if let Some(heard) = self.heard_by_order(identity) {
            // Published before the deadline's cancellation, received after it: the broker
            // delivered it late (44-AT F3: results of orders near 256 KiB queued behind the
            // large messages on OrderService's connection, 7 s and more).
            let published = self.published_at(identity)?;
            let cancelled = self.ended?;
            if !(published < cancelled && cancelled < heard) {
                return None;
            }
            let participant = if step.is_payment() {
                StepKind::Payment
            } else {
                StepKind::Reservation
            }
            .participant();
            return Some(format!(
                "OrderService received this {topic} {} after {participant} published it, once \
                 the deadline had cancelled the order: the broker delivered it late (large \
                 messages ahead of it on OrderService's connection, such as orders of hundreds \
                 of KB, or a busy broker, hold it up)",
                broker_bridge::session::duration_text(heard.saturating_sub(published))
            ));
        }
        let refused = self
            .refused_results
            .iter()
            .find(|(refused, _)| *refused == identity);
        Some(if let Some((_, reason)) = refused {
            format!(
                "OrderService never received this {topic}: the broker refused it, {reason} (its \
                 answer to the PUBLISH), and published it to no one: a rule of the broker's, such \
                 as an ACL that denies the topic to the publisher"
            )
        } else if self.missed_by_clean_start.contains(&identity) {
            format!(
                "OrderService never received this {topic}: it went out while OrderService was \
                 away, and OrderService connected again with a clean session, so the broker \
                 dropped what it held for the old one (with persistent sessions it would have \
                 queued it and delivered it on the reconnection)"
            )
        } else if self.missed_by_lost_session.contains(&identity) {
            format!(
                "OrderService never received this {topic}: the broker had no session kept for \
                 OrderService when it connected again (Session Present 0, though it asked for \
                 one kept: a broker restarted without persistence, or from a save older than \
                 the session), so what it held for OrderService was gone"
            )
        } else if order_crashed {
            format!(
                "OrderService has not received this {topic}: it is crashed. With a persistent \
                 session the broker keeps it for OrderService and delivers it after Restart; with \
                 a clean session it is lost"
            )
        } else {
            format!("OrderService never received this {topic}: {UNDELIVERED_WHY}")
        })
    }

    /// What a restored row adds to `step` when it knows the step only from the participant's
    /// memory in the tab's database: OrderService never recorded it, and this page has not seen
    /// its message since; lost, most likely queued in the page when it reloaded (README:
    /// PaymentService's and InventoryService's results have no outbox). A newcomer's break-test
    /// (35-L F6) read "✓ charged 59.98 ✓ stock reserved" on rows whose results the wire never
    /// carried. `None` otherwise.
    pub fn kept_step(&self, step: &StepSeen) -> Option<String> {
        let identity = step.identity()?;
        (self.kept_only.contains(&identity) && self.published(identity).is_none()).then(|| {
            let service = if step.is_payment() {
                "PaymentService"
            } else {
                "InventoryService"
            };
            // No guess the page cannot back: it keeps no packet from before the reload, so it
            // cannot tell a message queued in the page then from one the wire carried and
            // OrderService never received (42-AL F2: the row said "queued in the page" of a
            // result the wire had carried 30 s before).
            format!(
                "kept by {service} in the tab's database, not recorded by OrderService: its {} \
                 is not among the messages this page saw since the reload, and the page keeps \
                 none from before it to tell why: queued in the page when it reloaded, or \
                 published and never received by OrderService (a broker that lost its session)",
                identity.0
            )
        })
    }

    /// The client id that published the message of `step` (PaymentService's instance that
    /// charged or declined, InventoryService that reserved), if the trace saw it go out.
    pub fn step_by(&self, step: &StepSeen) -> Option<&str> {
        self.published(step.identity()?)
    }

    /// What the row adds to `compensation` when it undoes a step the wire never showed done: a
    /// refund of a payment id no `payments/processed` carried, a release of a reservation id no
    /// `inventory/reserved` did. The step happened (the participant kept it in the tab's
    /// database), but its message was lost: queued in the page when it reloaded, say (README:
    /// PaymentService's and InventoryService's results have no outbox). A newcomer's
    /// break-test saw "↺ refunded 59.98" with no "✓ charged" and a refund of a payment id that
    /// was never published. `None` for the others, and for the compensation before the step.
    pub fn unseen_step(&self, compensation: &Compensation) -> Option<&'static str> {
        if compensation.before_the_step() {
            return None;
        }
        // One under another id than the step the row shows done, or one of less than the
        // total while the order ran: refused ([`Self::not_taken`] says so), not a step lost
        // (45-AV F3: a 5.00 refund by hand before the charge read both).
        let refused_running = matches!(compensation, Compensation::Refunded(id, amount) if self.refused_while_running(*id, *amount));
        if self.names_another_step(compensation) || refused_running {
            return None;
        }
        let seen = self.step_named_by(compensation).is_some();
        // Published by none of this page's clients: a refund made up by hand is as likely as a
        // lost charge (a newcomer's break-test: a 0.01 refund with a made-up id read as a
        // charge lost in a reload).
        let ours = self.compensation_by(compensation).is_some();
        // After Clear the page forgot what came before: nothing may have been lost (44-AQ F4:
        // "lost" of a reservation the wire had carried before the Clear).
        let cleared = matches!(self.start, Start::Forgotten);
        (!seen).then_some(match (compensation, ours) {
            (Compensation::Refunded(..), _) if cleared => {
                "its charge's payments/processed is not among the messages this page kept: before the Clear, or lost (e.g. queued in a page that reloaded)"
            }
            (Compensation::Released(_), _) if cleared => {
                "its reservation's inventory/reserved is not among the messages this page kept: before the Clear, or lost (e.g. queued in a page that reloaded)"
            }
            (Compensation::Refunded(..), true) => {
                "its charge's payments/processed is not among the messages this page saw: lost, e.g. queued in a page that reloaded"
            }
            (Compensation::Released(_), true) => {
                "its reservation's inventory/reserved is not among the messages this page saw: lost, e.g. queued in a page that reloaded"
            }
            (Compensation::Refunded(..), false) => {
                "no charge of its id is among the messages this page saw, and no client of this page published it: another client's (by hand?), or a charge lost, e.g. queued in a page that reloaded"
            }
            (Compensation::Released(_), false) => {
                "no reservation of its id is among the messages this page saw, and no client of this page published it: another client's (by hand?), or a reservation lost, e.g. queued in a page that reloaded"
            }
        })
    }

    /// What the row adds to `compensation`, a "nothing to undo" answer (the nil id), when the
    /// row also shows that kind of step done and undone (a compensation of a step the row
    /// shows; not a refund of a charge it does not show, 41-AJ F4): the answer was true when given (the
    /// charge came later, and was refunded at once) or given by another participant, but
    /// "never charged" beside "✓ charged" and "↺ refunded" reads as a contradiction (a
    /// newcomer's break-test, 35-P F4: a nil refund published by hand, then the page's late
    /// charge and its refund). `None` for the others.
    pub fn answered_before_a_step(&self, compensation: &Compensation) -> Option<&'static str> {
        if !compensation.before_the_step() {
            return None;
        }
        let undone = self.compensations.iter().any(|c| {
            c.is_refund() == compensation.is_refund()
                && !c.before_the_step()
                && self.undoes_a_step(c)
        });
        (undone).then_some(if compensation.is_refund() {
            "so it was when answered, or for the PaymentService that answered: the row also shows a charge, refunded"
        } else {
            "so it was when answered, or for the InventoryService that answered: the row also shows a reservation, released"
        })
    }

    /// Why OrderService does not take `compensation`, a refund (or, on a completed order, a
    /// "nothing to undo" answer of either kind) the row lists, as one more:
    /// its amount is more than the order's total (refused:
    /// [`Refusal::RefundOverCharge`](crate::domain::order::Refusal::RefundOverCharge)), or
    /// its payment id was refunded before in the row (OrderService records one refund per
    /// payment; this one it ignores); a refund or release under another id than every step of
    /// its kind the row shows done. `None` for the others. A newcomer's
    /// break-test saw a refused 5000.00 refund and an ignored repeat listed as two refunds.
    pub fn not_taken(&self, compensation: &Compensation) -> Option<String> {
        // "Nothing to undo" (the nil id) for a completed order whose step the row shows done:
        // OrderService asked no compensation of it, and refuses the answer
        // ([`Refusal::NothingAskedOfCompleted`](crate::domain::order::Refusal::NothingAskedOfCompleted)),
        // a newcomer's break-test (35-M F7).
        let (_, id) = compensation.identity();
        let nil_for_done = id.is_nil() && self.shows_done(compensation.is_refund());
        if nil_for_done && self.status == OrderStatus::Completed {
            return Some(
                "a \"nothing to undo\" answer for a completed order, whose step was done: \
                 OrderService asked none, and refuses it"
                    .to_owned(),
            );
        }
        // Under another id than every step of its kind the row shows done (a made-up id, or
        // another order's): OrderService refuses it
        // ([`Refusal::NotTheStep`](crate::domain::order::Refusal::NotTheStep)). 44-AT F6: the
        // row said a charge of its id might have been lost.
        if self.names_another_step(compensation) {
            let (kind, step) = if compensation.is_refund() {
                ("payment", "charge")
            } else {
                ("reservation", "reservation")
            };
            return Some(format!(
                "{kind} {}… is not the {step} this row shows: it undoes nothing of this order's, \
                 and OrderService refuses it",
                &id.to_string()[..8]
            ));
        }
        let Compensation::Refunded(id, amount) = compensation else {
            return None;
        };
        if id.is_nil() {
            return None;
        }
        if let Some(total) = self.total.filter(|total| more_cents(*amount, *total)) {
            return Some(format!(
                "more than the order's total {}: OrderService refuses it",
                amount_text(total)
            ));
        }
        // Refusal::NotAsked: part of the charge, while the order ran (44-AS F1).
        if self.refused_while_running(*id, *amount) {
            return Some(
                "a refund of less than the order's total while the order ran: OrderService asked for \
                 none, and refuses it"
                    .to_owned(),
            );
        }
        // Refusal::ZeroRefund (41-AH F2).
        if self.status == OrderStatus::Completed && same_cents(*amount, 0.0) {
            return Some(
                "a refund of 0.00 of a completed order undoes nothing: OrderService refuses it"
                    .to_owned(),
            );
        }
        self.repeated_refund(compensation).then(|| {
            format!(
                "payment {}… refunded again: OrderService records one refund per payment and \
                 ignores this one",
                &id.to_string()[..8]
            )
        })
    }

    /// Whether `compensation` is a refund of a payment id an earlier refund in the row has, one
    /// OrderService recorded: of the order's total (or of a charge's amount), or of less on a
    /// completed order (a refund by hand). Another amount on a running or cancelled order is
    /// refused ([`Refusal::ShortRefund`](crate::domain::order::Refusal::ShortRefund)), so the
    /// real refund under the same id after it is not a repeat.
    /// Whether a refund under `id` of `amount`, not the order's total, came while the order
    /// ran: OrderService refuses it ([`Refusal::NotAsked`](crate::domain::order::Refusal::NotAsked)).
    fn refused_while_running(&self, id: Uuid, amount: f64) -> bool {
        !id.is_nil()
            && self.total.is_some_and(|total| !same_cents(amount, total))
            && self
                .running_refunds
                .iter()
                .any(|(i, a)| *i == id && same_cents(*a, amount))
    }

    fn repeated_refund(&self, compensation: &Compensation) -> bool {
        let Compensation::Refunded(id, _) = compensation else {
            return false;
        };
        let recorded = |amount: f64| {
            if self.refused_while_running(*id, amount) {
                return false;
            }
            let whole = self.total.is_some_and(|total| same_cents(amount, total))
                || self.steps.iter().any(
                    |s| matches!(s, StepSeen::Charged(_, charged) if same_cents(*charged, amount)),
                );
            let by_hand = self.status == OrderStatus::Completed
                && !same_cents(amount, 0.0)
                && self.total.is_some_and(|total| !more_cents(amount, total));
            whole || by_hand
        };
        // This very entry of the list (two refunds of one amount are equal: 43-AO F9), or the
        // first equal to it.
        let at = self
            .compensations
            .iter()
            .position(|c| std::ptr::eq(c, compensation))
            .or_else(|| self.compensations.iter().position(|c| c == compensation));
        let Some(at) = at else {
            return false;
        };
        self.compensations[..at].iter().any(
            |c| matches!(c, Compensation::Refunded(earlier, amount) if earlier == id && recorded(*amount)),
        )
    }

    /// The client id that published `compensation`, if the trace saw it go out. A
    /// compensation before the step (the nil id) goes by the order's id, as its message's
    /// identity does ([`DomainEvent::identity`]).
    pub fn compensation_by(&self, compensation: &Compensation) -> Option<&str> {
        let (topic, id) = compensation.identity();
        let id = if id.is_nil() { self.order_id } else { id };
        self.published((topic, id))
    }

    fn published(&self, identity: (&'static str, Uuid)) -> Option<&str> {
        self.published_by
            .iter()
            .find(|(i, _, _)| *i == identity)
            .map(|(_, client, _)| client.as_str())
    }

    /// When one of this page's clients published the result of `identity` (the packets'
    /// clock); `None` when none did.
    fn published_at(&self, identity: (&'static str, Uuid)) -> Option<Duration> {
        self.published_by
            .iter()
            .find(|(i, _, _)| *i == identity)
            .map(|(_, _, at)| *at)
    }

    /// When this page's OrderService first received the result of `identity` (the packets'
    /// clock); `None` when it has not.
    fn heard_by_order(&self, identity: (&'static str, Uuid)) -> Option<Duration> {
        self.heard_by_order
            .iter()
            .find(|(i, _)| *i == identity)
            .map(|(_, at)| *at)
    }

    /// How long from its `orders/created` to its outcome; `None` before the outcome, and when
    /// its `orders/created` was not seen (a time from its first result would be made up).
    pub fn time_to_outcome(&self) -> Option<Duration> {
        match self.start {
            Start::Created(at) => self.ended.map(|end| end.saturating_sub(at)),
            Start::Forgotten | Start::Restored | Start::Unknown | Start::Replayed(_) => None,
        }
    }

    /// Whether OrderService dead-lettered the order's `orders/created` and nothing has ended
    /// it or created it again since ([`OrderRow::dead_lettered`]): the order waits for a
    /// learner's Retry, not for a service.
    /// Whether the broker refused its `orders/created` ([`OrderRow::refused`]) and nothing else
    /// moved it since.
    pub fn is_refused(&self) -> bool {
        self.refused.is_some() && !self.status.is_terminal() && self.steps.is_empty()
    }

    /// What to do about a refused `orders/created` ([`OrderRow::refused`]), and whether the
    /// same message could pass another time (*Deliver again* sends the same bytes). Too large
    /// (0x95, MQTT 5.0 §3.4.2.1) is refused again every time: a smaller order, or a larger
    /// limit (a newcomer's break-test, 46-AY F3: "Place it again" for an order over Mosquitto's
    /// `message_size_limit`); not authorized (0x87) until the broker's access rules change;
    /// anything else (e.g. Quota exceeded, 0x97) may pass later.
    pub fn refused_advice(&self) -> (&'static str, bool) {
        use broker_bridge::ReasonCode as R;
        match self.refused_code {
            Some(R::PacketTooLarge) => (
                "Place a smaller order (fewer lines), or raise the broker's limit (Mosquitto's \
                 message_size_limit): the same order is refused again",
                false,
            ),
            Some(R::NotAuthorized) => (
                "The broker's access rules forbid OrderService to publish orders/created: the \
                 same order is refused until they allow it",
                true,
            ),
            _ => ("Place it again", true),
        }
    }

    pub fn is_dead_lettered(&self) -> bool {
        self.dead_lettered.is_some() && !self.status.is_terminal()
    }

    /// Whether anyone created this order on the wire, as far as the page knows.
    pub fn is_unknown(&self) -> bool {
        self.start == Start::Unknown
    }

    /// For an order nobody created, what the row says after "Unknown order" (and what outcome
    /// was seen for it): `": not seen created on the wire (before this page loaded, not yet, or never); an orders/confirmed for it was seen"`.
    /// `None` for any other order.
    pub fn unknown_note(&self, recording: bool) -> Option<String> {
        if !self.is_unknown() {
            return None;
        }
        let never = if recording {
            "never created in this recording"
        } else {
            "not seen created on the wire (before this page loaded, not yet, or never)"
        };
        let seen = match self.status {
            OrderStatus::Completed => "; an orders/confirmed for it was seen",
            OrderStatus::Cancelled => "; an orders/cancelled for it was seen",
            _ => "",
        };
        Some(format!(": {never}{seen}"))
    }

    /// How many distinct charges went through: 2 or more is a double charge.
    pub fn charges(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, StepSeen::Charged(..)))
            .count()
    }

    /// How many reservations the wire shows for the order (two: delivered twice with the
    /// idempotent consumers off, or two pages' InventoryServices on the same topics).
    pub fn reservations(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, StepSeen::Reserved(_)))
            .count()
    }

    fn has_step(&self, step: &StepSeen) -> bool {
        self.steps.contains(step)
    }

    fn step(&mut self, step: StepSeen) {
        if !self.has_step(&step) {
            self.steps.push(step);
        }
    }

    /// The status from the steps, while no outcome is known.
    fn progress(&mut self) {
        if self.status.is_terminal() {
            return;
        }
        let reserved = self
            .steps
            .iter()
            .any(|s| matches!(s, StepSeen::Reserved(_)));
        let charged = self.charges() > 0;
        self.status = match (reserved, charged) {
            (true, false) => OrderStatus::InventoryConfirmed,
            (false, true) => OrderStatus::PaymentConfirmed,
            // Both done: confirmed once OrderService says so.
            (true, true) => OrderStatus::PaymentConfirmed,
            (false, false) => OrderStatus::Pending,
        };
    }

    fn outcome(&mut self, at: Duration, status: OrderStatus, reason: Option<String>) {
        self.outcomes += 1;
        if self.ended.is_none() {
            self.ended = Some(at);
            self.status = status;
            self.reason = reason;
        } else if self.other_outcome.is_none() && (status, &reason) != (self.status, &self.reason) {
            self.other_outcome = Some((status, reason));
        }
    }

    /// This page's client published `status` (and `reason`) at `at`: if the row shows another
    /// outcome, seen first from outside (a forged `orders/cancelled` before OrderService's own
    /// `orders/confirmed`), OrderService's takes its place and the other becomes
    /// [`OrderRow::other_outcome`] (a newcomer's break-test: the row said "Cancelled,
    /// compensating: refund not seen yet" for an order OrderService had confirmed).
    fn own_outcome(&mut self, at: Duration, status: OrderStatus, reason: Option<String>) {
        if self.outcome_own {
            return;
        }
        self.outcome_own = true;
        if (status, &reason) == (self.status, &self.reason) {
            // The same outcome, but seen before the order was created: another client's, and
            // this one OrderService's own. Two on the wire, and the time to the outcome is to
            // this one (a newcomer's break-test, 35-M F3: a forged orders/confirmed before the
            // order left "✓ Completed … 0 ms" and no mark of two outcomes).
            let before_creation = matches!(
                (self.ended, self.start),
                (Some(seen), Start::Created(created)) if seen < created
            );
            if before_creation {
                self.other_outcome = Some((status, reason));
                self.ended = Some(at);
            }
            return;
        }
        if self.other_outcome.as_ref() == Some(&(status, reason.clone())) {
            let shown = (self.status, self.reason.take());
            self.other_outcome = Some(shown);
            self.status = status;
            self.reason = reason;
            self.ended = Some(at);
        }
    }

    /// A cancelled order whose `orders/created` this page's OrderService published and none of
    /// the page's clients received, not even OrderService's own subscription: the broker took
    /// it (it refused nothing, else the row is refused) and delivered it to nobody, so no
    /// participant heard of the order and its deadline ended it. `None` otherwise (a newcomer's
    /// break-test, 46-AY F1: Mosquitto with `max_inflight_messages 1` discarded 8 of 10 QoS 2
    /// orders under MQTT 3.1.1, and each row said only "inventory and payment timed out").
    pub fn undelivered_note(&self) -> Option<String> {
        let [sent, delivered] = self.created_flow;
        (self.status == OrderStatus::Cancelled
            && sent > 0
            && delivered == 0
            && self.refused.is_none()
            && self.dead_lettered.is_none())
        .then(|| {
            "the broker took its orders/created and delivered it to no client of this page, so \
             no participant heard of the order (OrderService's log names the likely causes)"
                .to_owned()
        })
    }

    /// An order with two different outcomes on the wire ([`OrderRow::other_outcome`]): `also
    /// on the wire: orders/cancelled ("by hand"): two outcomes for one order, so more than
    /// OrderService published one (on an open broker any client may)`. `None` while every
    /// outcome seen is the same message.
    pub fn other_outcome_note(&self) -> Option<String> {
        let (status, reason) = self.other_outcome.as_ref()?;
        let topic = match status {
            OrderStatus::Completed => topics::ORDERS_CONFIRMED.to_owned(),
            _ => match reason {
                Some(reason) => format!("{} (\"{reason}\")", topics::ORDERS_CANCELLED),
                None => topics::ORDERS_CANCELLED.to_owned(),
            },
        };
        Some(format!(
            "also on the wire: {topic}: two outcomes for one order, so more than OrderService \
             published one (on an open broker any client may)"
        ))
    }
}

/// How a participant stands after the learner's *Crash*, for [`OrderRow::compensating`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParticipantDown {
    /// Running, and not back from a crash without its session.
    #[default]
    No,
    /// Crashed now; `kept`: its session is persistent, so the broker keeps what comes for it.
    Crashed { kept: bool },
    /// Restarted after its last crash, and its broker had not kept its session (clean, or
    /// Session Present 0): what was published for it meanwhile and not delivered is gone.
    /// `since`: when its broker accepted it again (its CONNACK, the packets' clock); what went
    /// out from then on reached it as to any running participant.
    BackWithoutSession { since: Duration },
}

/// The panel's counts: orders that reached each outcome, those still open, and rows for orders
/// nobody created (in none of the others).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCounts {
    pub completed: usize,
    pub cancelled: usize,
    pub open: usize,
    pub unknown: usize,
    /// Orders whose `orders/created` OrderService dead-lettered ([`OrderRow::is_dead_lettered`]):
    /// not open, since nothing will move them but a Retry.
    pub dead_lettered: usize,
    /// Orders whose `orders/created` the broker refused ([`OrderRow::is_refused`]): not open,
    /// since nothing will move them.
    pub refused: usize,
}

/// Which of [`OrderCounts`]' numbers a row counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tally {
    Completed,
    Cancelled,
    Open,
    Unknown,
    DeadLettered,
    Refused,
}

impl Tally {
    fn of(row: &OrderRow) -> Tally {
        match (row.is_unknown(), row.status) {
            (true, _) => Tally::Unknown,
            (false, _) if row.is_dead_lettered() => Tally::DeadLettered,
            (false, _) if row.is_refused() => Tally::Refused,
            (false, OrderStatus::Completed) => Tally::Completed,
            (false, OrderStatus::Cancelled) => Tally::Cancelled,
            (false, _) => Tally::Open,
        }
    }
}

impl OrderCounts {
    fn count(&mut self, tally: Tally) -> &mut usize {
        match tally {
            Tally::Completed => &mut self.completed,
            Tally::Cancelled => &mut self.cancelled,
            Tally::Open => &mut self.open,
            Tally::Unknown => &mut self.unknown,
            Tally::DeadLettered => &mut self.dead_lettered,
            Tally::Refused => &mut self.refused,
        }
    }

    /// `2 completed, 0 cancelled, 1 open`, then `, 1 dead-lettered (its orders/created is in
    /// OrderService's dead letters)` and `, 1 unknown (not seen created on the wire)` when there
    /// are any.
    pub fn summary(&self) -> String {
        let OrderCounts {
            completed,
            cancelled,
            open,
            unknown,
            dead_lettered,
            refused,
        } = self;
        let mut text = format!("{completed} completed, {cancelled} cancelled, {open} open");
        // "its" for one, "their" for more (a newcomer's break-test, 35-M F1).
        let words = |n: usize| {
            if n == 1 {
                ("its", "is", "was")
            } else {
                ("their", "are", "were")
            }
        };
        if *dead_lettered > 0 {
            let (its, is, _) = words(*dead_lettered);
            text.push_str(&format!(
                ", {dead_lettered} dead-lettered ({its} orders/created {is} in OrderService's dead letters)"
            ));
        }
        if *refused > 0 {
            let (its, _, was) = words(*refused);
            text.push_str(&format!(
                ", {refused} refused by the broker ({its} orders/created {was} not published)"
            ));
        }
        if *unknown > 0 {
            text.push_str(&format!(
                ", {unknown} unknown (not seen created on the wire)"
            ));
        }
        text
    }
}

/// Every order seen, newest last, at most [`ORDERS_KEPT`] as rows; the counts cover the
/// dropped ones too.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBook {
    rows: VecDeque<OrderRow>,
    capacity: usize,
    dropped: u64,
    /// The dropped orders, counted as they stood when dropped.
    dropped_counts: OrderCounts,
    /// Dropped orders that had not ended, the newest [`REMEMBERED_PER_ROW`] times the
    /// capacity: a later message for one brings its row back, and it is counted there instead
    /// (a burst of 1,500 orders from outside, all open at once, outgrew twice the capacity: the
    /// rest were counted twice, as dropped and again as rows).
    dropped_unfinished: Recent<Uuid, Tally>,
    /// Each outcome and compensation message seen (topic and its id), so a delivery seen again
    /// counts once.
    seen: VecDeque<(Uuid, &'static str, Uuid)>,
    /// Each refund seen on the wire (its order, [`refund_key`], its `refundedAt`), as many as
    /// `seen` keeps: a refund of the same payment id and amount at another time is a second
    /// refund, not a copy (43-AO F9: the row took it for a copy and did not mark it; a copy,
    /// PaymentService's answer sent again, keeps its `refundedAt`).
    refund_times: VecDeque<(Uuid, Uuid, Timestamp)>,
    /// Orders the book knew and then forgot (cleared, or dropped when full), the newest
    /// [`REMEMBERED_PER_ROW`] times the capacity: a result for one of them starts a
    /// [`Start::Forgotten`] row, not an unknown one.
    forgotten: Recent<Uuid, ()>,
    /// Each message of the flow a page's client published at QoS 1 or 2 and the broker has not
    /// answered yet: the client id, its packet id, the order, the message's identity; the
    /// newest [`AWAITED_KEPT`].
    awaited: VecDeque<(String, u16, Uuid, (&'static str, Uuid))>,
    /// Whether OrderService's last CONNECT asked for its session kept (Clean Session 0):
    /// a CONNACK then without Session Present says the broker lost it.
    order_asked_kept: bool,
}

/// How many unanswered PUBLISHes of the flow's messages the book follows ([`OrderBook`]'s
/// `awaited`).
const AWAITED_KEPT: usize = 1_000;

/// How many dropped orders the book remembers per row it keeps (see [`OrderBook`]'s
/// `dropped_unfinished` and `forgotten`): 20, so 10,000 beside [`ORDERS_KEPT`] rows.
const REMEMBERED_PER_ROW: usize = 20;

impl Default for OrderBook {
    fn default() -> Self {
        OrderBook::new(ORDERS_KEPT)
    }
}

impl OrderBook {
    /// An empty book of at most `capacity` orders (at least one).
    pub fn new(capacity: usize) -> Self {
        OrderBook {
            rows: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            dropped_counts: OrderCounts::default(),
            dropped_unfinished: Recent::new(capacity.max(1) * REMEMBERED_PER_ROW),
            seen: VecDeque::new(),
            refund_times: VecDeque::new(),
            forgotten: Recent::new(capacity.max(1) * REMEMBERED_PER_ROW),
            awaited: VecDeque::new(),
            order_asked_kept: false,
        }
    }

    /// An empty book that remembers every order this one knows as forgotten: the book to fold a
    /// part of the same packets into (a paused view), where an order whose `orders/created`
    /// is not in that part is not an unknown one.
    pub fn emptied(&self) -> OrderBook {
        let mut book = OrderBook::new(self.capacity);
        book.forgotten = self.forgotten.clone();
        for row in self.rows.iter().filter(|r| !r.is_unknown()) {
            book.forget(row.order_id);
        }
        book
    }

    fn forget(&mut self, order_id: Uuid) {
        // Known already: it keeps its place (`Recent::insert`).
        self.forgotten.insert(order_id, ());
    }

    /// How many orders are completed, cancelled, open, and unknown (not seen created on the
    /// wire): every order the book was given since it was made or cleared, those dropped
    /// from its rows included (as they stood when dropped, unless a later message brought the
    /// row back).
    pub fn counts(&self) -> OrderCounts {
        self.rows
            .iter()
            .fold(self.dropped_counts, |mut counts, row| {
                *counts.count(Tally::of(row)) += 1;
                counts
            })
    }

    /// How many of the rows kept are open orders whose outcome OrderService's `store` holds
    /// already ([`OrderRow::decided_note`]: decided while the broker was away, its message not
    /// on the wire yet). The panel says so beside its open count, which the wire decides (45-AV
    /// F4: "1 open" beside the store's "none was open" after a reload with the broker down).
    pub fn open_decided_in(&self, store: &crate::store::EventStore) -> usize {
        self.rows
            .iter()
            .filter(|row| matches!(Tally::of(row), Tally::Open))
            .filter(|row| {
                row.decided_note(store.fold(row.order_id).as_ref())
                    .is_some()
            })
            .count()
    }

    /// How many of the rows kept are open orders (as [`OrderBook::counts`] counts them open:
    /// not ended, refused, dead-lettered or unknown) first seen by `at`, on the packets' clock.
    pub fn open_first_seen_by(&self, at: Duration) -> usize {
        self.rows
            .iter()
            .filter(|row| row.first_seen <= at && matches!(Tally::of(row), Tally::Open))
            .count()
    }

    /// How many orders the book keeps as rows (the newest; older ones are dropped).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The book of every message in `history`, in order.
    pub fn from_packets(history: &PacketHistory, capacity: usize) -> OrderBook {
        let mut book = OrderBook::new(capacity);
        for packet in history.iter() {
            book.apply_packet(packet);
        }
        book
    }

    /// Folds the message of a traced packet (nothing if it carries none): as
    /// [`OrderBook::apply`]; an order's row also remembers the packet of its `orders/created`,
    /// and, from a copy going out, who published a result or a compensation. The status
    /// monitor's packets ([`Participant::Monitor`]) tell no order anything.
    pub fn apply_packet(&mut self, packet: &TracedPacket) {
        let Participant::Service(service) = packet.participant else {
            return;
        };
        self.note_answer(packet);
        match (packet.packet.as_ref(), packet.direction, service) {
            (Packet::Connect(connect), Direction::Outgoing, ServiceId::Order) => {
                self.order_asked_kept = !connect.clean_session;
                if connect.clean_session {
                    for row in &mut self.rows {
                        row.note_unheard(false);
                    }
                }
            }
            (Packet::ConnAck(connack), Direction::Incoming, ServiceId::Order)
                if self.order_asked_kept
                    && !connack.session_present
                    && connack.code == broker_bridge::ReasonCode::Success =>
            {
                for row in &mut self.rows {
                    row.note_unheard(true);
                }
            }
            _ => {}
        }
        let Some(message) = packet.message.as_deref() else {
            self.note_dead_letter(packet);
            return;
        };
        // A copy of the creation OrderService dead-lettered, delivered to another client after
        // the dead letter, is the same message: the row stays dead-lettered (44-AT F2).
        if let (DomainEvent::OrderCreated(created), Direction::Incoming) =
            (message, packet.direction)
        {
            let copy = self
                .rows
                .iter()
                .rfind(|r| r.order_id == created.order_id)
                .is_some_and(|r| {
                    r.dead_lettered.is_some() && r.dead_lettered_creation.as_ref() == Some(created)
                });
            if copy {
                return;
            }
        }
        // A creation after OrderService dead-lettered the one before replaces it (`apply`):
        // *Deliver again* then sends this one.
        let recreated = matches!(message, DomainEvent::OrderCreated(_))
            && self
                .rows
                .iter()
                .rfind(|r| r.order_id == message.order_id())
                .is_some_and(|r| r.dead_lettered.is_some());
        self.apply(packet.at, message);
        let Some(row) = self
            .rows
            .iter_mut()
            .rfind(|r| r.order_id == message.order_id())
        else {
            return;
        };
        if let DomainEvent::OrderCreated(_) = message {
            match packet.direction {
                Direction::Outgoing if service == ServiceId::Order => row.created_flow[0] += 1,
                Direction::Incoming => row.created_flow[1] += 1,
                Direction::Outgoing => {}
            }
        }
        match message {
            DomainEvent::OrderCreated(_) if recreated => row.created_seq = Some(packet.seq),
            DomainEvent::OrderCreated(_) => {
                row.created_seq.get_or_insert(packet.seq);
            }
            DomainEvent::OrderConfirmed(_) if packet.direction == Direction::Outgoing => {
                row.own_outcome(packet.at, OrderStatus::Completed, None);
            }
            DomainEvent::OrderCancelled(_)
            | DomainEvent::ReleaseInventory(_)
            | DomainEvent::RefundPayment(_)
                if packet.direction == Direction::Outgoing =>
            {
                if let DomainEvent::OrderCancelled(c) = message {
                    row.own_outcome(packet.at, OrderStatus::Cancelled, Some(c.reason.clone()));
                }
                let slot = match message {
                    DomainEvent::OrderCancelled(_) => 0,
                    DomainEvent::ReleaseInventory(_) => 1,
                    _ => 2,
                };
                row.sent[slot] += 1;
                row.last_sent[slot] = packet.at;
            }
            DomainEvent::PaymentProcessed(_)
            | DomainEvent::PaymentRefunded(_)
            | DomainEvent::InventoryReserved(_)
            | DomainEvent::InventoryReleased(_)
                if packet.direction == Direction::Outgoing =>
            {
                let identity = message.identity();
                if row.published(identity).is_none() {
                    row.published_by
                        .push((identity, packet.client_id.clone(), packet.at));
                }
            }
            DomainEvent::PaymentProcessed(_) | DomainEvent::InventoryReserved(_)
                if service == ServiceId::Order =>
            {
                let identity = message.identity();
                if row.heard_by_order(identity).is_none() {
                    row.heard_by_order.push((identity, packet.at));
                }
            }
            DomainEvent::OrderCancelled(_)
            | DomainEvent::RefundPayment(_)
            | DomainEvent::ReleaseInventory(_) => match service {
                ServiceId::Payment => row.compensation_heard[0] += 1,
                ServiceId::Inventory => row.compensation_heard[1] += 1,
                _ => {}
            },
            _ => {}
        }
    }

    /// After a reload, the dead letters the tab's database kept: each of OrderService's for an
    /// `orders/created` gives its order a row again (marked restored, as the store's orders
    /// are: [`Start::Restored`]), with who ordered, the total, and [`OrderRow::dead_lettered`],
    /// at `at` on the packets' clock; a row already there keeps what it knows. No order of
    /// those exists in OrderService's store, so without this the row was gone while its dead
    /// letters were still listed.
    pub fn restore_dead_lettered(
        &mut self,
        at: Duration,
        kept: &[crate::trace::dead_letters::KeptDeadLetter],
    ) {
        for kept in kept {
            if let Some((creation, reason)) = order_service_s_creation(&kept.letter) {
                self.mark_dead_lettered(at, creation, reason, Start::Restored);
            }
        }
    }

    /// The row of the order `created` names, made at `at` if there is none (marked restored:
    /// its `orders/created` went out before this page loaded), with who ordered and the total
    /// if it lacked them, marked dead-lettered for `reason` unless it has ended.
    fn mark_dead_lettered(
        &mut self,
        at: Duration,
        (order_id, created): (Uuid, crate::domain::events::OrderCreated),
        reason: String,
        start: Start,
    ) {
        let row = self.row_mut(order_id, at);
        if row.start == Start::Unknown {
            row.start = start;
        }
        row.customer_id.get_or_insert(created.customer_id.clone());
        row.total.get_or_insert(created.total_amount);
        if !row.status.is_terminal() {
            row.dead_lettered = Some(reason);
            row.dead_lettered_creation = Some(created);
        }
    }

    /// Follows the broker's answers to the `orders/created` a page's client publishes: one it
    /// refused (a PUBACK or PUBREC with a failure reason code) marks the order's row
    /// ([`OrderRow::refused`]).
    fn note_answer(&mut self, packet: &TracedPacket) {
        use broker_bridge::packet::Packet;
        let Some(packet_id) = packet.packet_id else {
            return;
        };
        let key = |(client, id, _, _): &(String, u16, Uuid, (&'static str, Uuid))| {
            *client == packet.client_id && *id == packet_id
        };
        match (packet.direction, packet.packet.as_ref()) {
            (Direction::Outgoing, Packet::Publish(_)) => {
                // An `orders/created`, or a participant's result (a step's or a
                // compensation's), whose refusal a row names.
                let Some(message) = packet.message.as_deref() else {
                    return;
                };
                self.awaited.retain(|entry| !key(entry));
                if self.awaited.len() == AWAITED_KEPT {
                    self.awaited.pop_front();
                }
                self.awaited.push_back((
                    packet.client_id.clone(),
                    packet_id,
                    message.order_id(),
                    message.identity(),
                ));
            }
            (Direction::Incoming, Packet::PubAck(ack) | Packet::PubRec(ack)) => {
                let Some(at) = self.awaited.iter().position(key) else {
                    return;
                };
                let Some((_, _, order_id, identity)) = self.awaited.remove(at) else {
                    return;
                };
                if !ack.reason.is_error() {
                    return;
                }
                let reason = ack.reason.to_string();
                let Some(row) = self.rows.iter_mut().rfind(|r| r.order_id == order_id) else {
                    return;
                };
                if identity.0 == crate::domain::topics::ORDERS_CREATED {
                    row.refused = Some(reason);
                    row.refused_code = Some(ack.reason);
                } else if !row.refused_results.iter().any(|(i, _)| *i == identity) {
                    row.refused_results.push((identity, reason));
                }
            }
            _ => {}
        }
    }

    /// A dead letter OrderService published (the copy going out on `deadletter/order`) for an
    /// `orders/created` it could not process marks that order's row
    /// ([`OrderRow::dead_lettered`]), made if this page never saw the order (its last try was
    /// kept in the tab's database across a reload); any other packet, nothing.
    fn note_dead_letter(&mut self, packet: &TracedPacket) {
        use crate::services::dead_letter::DeadLetter;
        if packet.direction != Direction::Outgoing {
            return;
        }
        let broker_bridge::Packet::Publish(publish) = packet.packet.as_ref() else {
            return;
        };
        let Some((ServiceId::Order, letter)) = packet
            .topic
            .as_deref()
            .and_then(|topic| DeadLetter::decode(topic, &publish.payload))
        else {
            return;
        };
        let Some((creation, reason)) = order_service_s_creation(&letter) else {
            return;
        };
        // Dead-lettered at its first try (a message OrderService could not read, e.g. not UTF-8
        // text): its orders/created came on this page's wire a moment ago, not before a reload
        // (a newcomer's break-test, 35-M F1: such a row said "restored … after a reload" with
        // no reload). After more tries, they may have straddled a reload (the tries are kept
        // in the tab's database), and the creation came before it.
        let start = if letter.attempts <= 1 {
            Start::Created(packet.at)
        } else {
            Start::Restored
        };
        self.mark_dead_lettered(packet.at, creation, reason, start);
    }

    /// How many payment results (`payments/processed`) each client published, by client id:
    /// the share of the orders each of PaymentService's instances handled.
    pub fn payments_by(&self) -> std::collections::BTreeMap<&str, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for row in &self.rows {
            for (identity, client, _) in &row.published_by {
                if identity.0 == topics::PAYMENTS_PROCESSED {
                    *counts.entry(client.as_str()).or_default() += 1;
                }
            }
        }
        counts
    }

    /// Oldest first.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &OrderRow> + ExactSizeIterator {
        self.rows.iter()
    }

    /// The row of `order_id`.
    pub fn row(&self, order_id: Uuid) -> Option<&OrderRow> {
        self.rows.iter().find(|r| r.order_id == order_id)
    }

    /// How many orders fell off the book.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many orders the book holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the book holds no order.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Forgets every order (and the dropped count), but not that it knew them: a result for
    /// an order placed before, arriving after, starts a [`Start::Forgotten`] row, not an
    /// unknown one.
    pub fn clear(&mut self) {
        let before = std::mem::replace(self, OrderBook::new(self.capacity));
        *self = before.emptied();
    }

    fn row_mut(&mut self, order_id: Uuid, at: Duration) -> &mut OrderRow {
        let index = match self.rows.iter().rposition(|r| r.order_id == order_id) {
            Some(index) => index,
            None => {
                if self.rows.len() == self.capacity {
                    if let Some(gone) = self.rows.pop_front() {
                        self.drop_row(&gone);
                    }
                    self.dropped += 1;
                }
                self.bring_back(order_id);
                let start = if self.forgotten.contains(&order_id) {
                    Start::Forgotten
                } else {
                    Start::Unknown
                };
                self.rows.push_back(OrderRow::new(order_id, at, start));
                self.rows.len() - 1
            }
        };
        &mut self.rows[index]
    }

    /// Counts `gone`, dropped from the rows, as it stands.
    fn drop_row(&mut self, gone: &OrderRow) {
        if !gone.is_unknown() {
            self.forget(gone.order_id);
        }
        let tally = Tally::of(gone);
        *self.dropped_counts.count(tally) += 1;
        if !gone.status.is_terminal() {
            self.dropped_unfinished.insert(gone.order_id, tally);
        }
    }

    /// A row for `order_id` is made again: if it was dropped unfinished, it no longer counts
    /// among the dropped ones (its row counts it).
    fn bring_back(&mut self, order_id: Uuid) {
        if let Some(tally) = self.dropped_unfinished.remove(&order_id) {
            let count = self.dropped_counts.count(tally);
            *count = count.saturating_sub(1);
            // Shown again: no longer one of the older orders not shown.
            self.dropped = self.dropped.saturating_sub(1);
        }
    }

    /// Whether a refund of `order_id` under `key` ([`refund_key`]) refunded at `at` is another
    /// refund than those of that key seen before, each at another time; remembers its time.
    /// `false` for the first of its key, and for a copy (the same time).
    fn refunded_again(&mut self, order_id: Uuid, key: Uuid, at: Timestamp) -> bool {
        let mut times = self
            .refund_times
            .iter()
            .filter(|(order, k, _)| *order == order_id && *k == key)
            .map(|(_, _, time)| *time)
            .peekable();
        let known = times.peek().is_some();
        let copy = times.any(|time| time == at);
        if copy {
            return false;
        }
        if self.refund_times.len() >= self.capacity * 8 {
            self.refund_times.pop_front();
        }
        self.refund_times.push_back((order_id, key, at));
        known
    }

    /// Whether this outcome or compensation was already counted; remembers it if not.
    fn first_time(&mut self, order_id: Uuid, topic: &'static str, id: Uuid) -> bool {
        let key = (order_id, topic, id);
        if self.seen.contains(&key) {
            return false;
        }
        if self.seen.len() >= self.capacity * 8 {
            self.seen.pop_front();
        }
        self.seen.push_back(key);
        true
    }

    /// Folds one message seen at `at` on the packets' clock.
    pub fn apply(&mut self, at: Duration, message: &DomainEvent) {
        let order_id = message.order_id();
        // Outcomes and compensations are counted once per message, however many clients saw it.
        let once = match message {
            DomainEvent::OrderConfirmed(_) => Some(("confirmed", Uuid::nil())),
            // Another reason is another message (one from outside, then OrderService's own):
            // a copy, OrderService's again, has the same.
            DomainEvent::OrderCancelled(c) => Some(("cancelled", reason_key(&c.reason))),
            DomainEvent::InventoryReleased(r) => Some(("released", r.reservation_id)),
            DomainEvent::PaymentRefunded(r) => {
                let key = refund_key(r.payment_id, r.amount);
                // A second refund of the same amount, at another time, is one (43-AO F9).
                if self.refunded_again(order_id, key, r.refunded_at) {
                    None
                } else {
                    Some(("refunded", key))
                }
            }
            _ => None,
        };
        if let Some((kind, id)) = once {
            if !self.first_time(order_id, kind, id) {
                return;
            }
        }
        match message {
            DomainEvent::OrderCreated(created) => {
                let row = self.row_mut(order_id, at);
                // The first creation stands: every consumer ignores another `orders/created`
                // for the same order as a duplicate, whatever it carries. Unless OrderService
                // dead-lettered the one before: then no order exists, and this one (a fixed
                // Retry) is the order.
                let dead_lettered = row.dead_lettered.take().is_some();
                // A restored row's order was created before the reload: a copy seen now (a
                // subscriber's session delivering again what it had not acknowledged, or the
                // outbox publishing it again) is not its creation, and its time is not on this
                // clock (the clean clone of stop 45). A dead-lettered one's was not: this is it
                // (40-AD F3: a poison order fixed and retried after a reload read "restored").
                let created_before = matches!(
                    row.start,
                    Start::Created(_) | Start::Replayed(_) | Start::Restored
                );
                if dead_lettered && row.start == Start::Restored || !created_before {
                    row.start = Start::Created(at);
                }
                if dead_lettered || row.customer_id.is_none() {
                    row.customer_id = Some(created.customer_id.clone());
                    row.total = Some(created.total_amount);
                    // A payment that came before the creation (kept by OrderService until it)
                    // was listed before the total was known: one of another amount is not its
                    // charge (41-AH F3: "✓ charged 0.01", then "✕ charged 2 times").
                    let total = created.total_amount;
                    for step in &mut row.steps {
                        if let StepSeen::Charged(id, amount) = *step {
                            if !same_cents(amount, total) {
                                *step = StepSeen::OtherAmount(id, amount);
                            }
                        }
                    }
                    row.progress();
                }
            }
            DomainEvent::InventoryReserved(r) => {
                let step = match (&r.reason, r.success) {
                    (_, true) => StepSeen::Reserved(r.reservation_id),
                    (reason, false) => StepSeen::ReservationFailed(
                        reason.clone().unwrap_or_else(|| "no reason given".into()),
                    ),
                };
                let row = self.row_mut(order_id, at);
                row.step(step);
                row.progress();
            }
            DomainEvent::PaymentProcessed(p) => {
                let total = self.row(order_id).and_then(|row| row.total);
                let other_amount = total.is_some_and(|total| !same_cents(p.amount, total));
                let step = match (&p.reason, p.success) {
                    (_, true) if other_amount => StepSeen::OtherAmount(p.payment_id, p.amount),
                    (_, true) => StepSeen::Charged(p.payment_id, p.amount),
                    (reason, false) => StepSeen::Declined(
                        p.payment_id,
                        reason.clone().unwrap_or_else(|| "no reason given".into()),
                    ),
                };
                let row = self.row_mut(order_id, at);
                row.step(step);
                row.progress();
            }
            DomainEvent::OrderConfirmed(_) => {
                self.row_mut(order_id, at)
                    .outcome(at, OrderStatus::Completed, None);
            }
            DomainEvent::OrderCancelled(c) => {
                let reason = Some(c.reason.clone());
                self.row_mut(order_id, at)
                    .outcome(at, OrderStatus::Cancelled, reason);
            }
            DomainEvent::InventoryReleased(r) => {
                let done = Compensation::Released(r.reservation_id);
                self.row_mut(order_id, at).compensate(done);
            }
            DomainEvent::PaymentRefunded(r) => {
                let done = Compensation::Refunded(r.payment_id, r.amount);
                let row = self.row_mut(order_id, at);
                if !row.status.is_terminal() {
                    row.running_refunds.push((r.payment_id, r.amount));
                }
                row.compensate(done);
            }
            // Orchestration's commands say what was asked, not what happened.
            _ => {}
        }
    }
}

/// The order and its creation in a dead letter of OrderService's for an `orders/created` it
/// could not process, and why; `None` for any other dead letter (another service's, another
/// topic, a payload that is no order).
fn order_service_s_creation(
    letter: &crate::services::dead_letter::DeadLetter,
) -> Option<((Uuid, crate::domain::events::OrderCreated), String)> {
    if letter.service != crate::services::ServiceId::Order.name()
        || letter.topic != topics::ORDERS_CREATED
    {
        return None;
    }
    match DomainEvent::decode(topics::ORDERS_CREATED, letter.payload.as_bytes()) {
        Ok(DomainEvent::OrderCreated(created)) => {
            Some(((created.order_id, created), letter.reason.clone()))
        }
        _ => None,
    }
}

/// What tells a cancellation from another of the same order: its reason, hashed.
fn reason_key(reason: &str) -> Uuid {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    reason.hash(&mut hasher);
    Uuid::from_u128(u128::from(hasher.finish()))
}

/// What tells a refund from another in the row: its payment id and its amount, so a refund of
/// another amount under a charge's id (0.01 from outside) does not hide the charge's own refund.
/// When it was refunded tells apart two of the same amount ([`OrderBook`]'s `refund_times`).
fn refund_key(payment_id: Uuid, amount: f64) -> Uuid {
    let cents = (amount * 100.0).round() as i64 as u64;
    Uuid::from_u128(payment_id.as_u128() ^ (u128::from(cents) << 64))
}

mod from_store;

#[cfg(test)]
mod tests;
