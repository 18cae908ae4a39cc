//! OrderService: places the form's orders, and runs each order's saga (its process manager).
//!
//! It keeps every order it sees created (from the form or published by any other client) as an
//! [`Order`] aggregate, follows the results of the other services, and says how each order
//! ends on the wire: `orders/confirmed`, or `orders/cancelled` with the reason. Every order gets
//! a deadline (a scheduled [`Work::Deadline`]); an order still open when it passes is cancelled
//! as timed out. Under orchestration it also sends the commands: reserve, then charge, and the
//! compensations (release, refund), including for a success that arrives after it gave up.

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;

use super::settings::{FlowSettings, SagaStyle};
use super::{Command, Rejection, RejectionKind, Work};
use crate::config::COMPENSATION_TRIES;
use crate::domain::events::{
    ChargePayment, DomainEvent, OrderCancelled, OrderConfirmed, OrderCreated, RefundPayment,
    ReleaseInventory, ReserveInventory,
};
use crate::domain::order::{Order, OrderCommand, OrderEvent, Refusal, Step};
use crate::domain::order_form::ValidOrder;
use crate::domain::timestamp::Timestamp;
use crate::store::{EventStore, ExpectedVersion, StreamEvent};

/// The event for `order`, placed at `now` under `order_id` (the seed's `Guid.NewGuid()`, made
/// by the caller). The total comes from whole cents, so it is exact to the cent.
pub fn place(now: Timestamp, order_id: Uuid, order: &ValidOrder) -> OrderCreated {
    OrderCreated {
        order_id,
        customer_id: order.customer_id.clone(),
        items: order.items.clone(),
        total_amount: order.total_amount(),
        created_at: now,
    }
}

/// The form's sentence when placing stopped: `asked` orders were asked for (1 for *Place
/// order*, 10 for *Place 10 orders*), `placed` of them went out before `cause` (e.g.
/// "OrderService is not connected to the broker at ws://…") stopped the rest.
pub fn orders_refused(cause: &str, asked: usize, placed: usize) -> String {
    let missing = asked.saturating_sub(placed);
    match (asked, placed) {
        (0 | 1, _) => format!("{cause}, so the order was not placed."),
        (_, 0) => format!("{cause}, so none of the {asked} orders was placed."),
        _ => format!(
            "{cause}, so {missing} of the {asked} orders {} not placed ({placed} {}).",
            if missing == 1 { "was" } else { "were" },
            if placed == 1 { "was" } else { "were" },
        ),
    }
}

/// A compensation OrderService waits to see done for a cancelled order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undo {
    /// The reservation released (`inventory/released`).
    Release,
    /// The charge refunded (`payments/refunded`).
    Refund,
}

impl Undo {
    /// `release` or `refund`, for the log.
    pub fn what(self) -> &'static str {
        match self {
            Undo::Release => "release",
            Undo::Refund => "refund",
        }
    }
}

/// Where OrderService's latest copy of a compensating message (a cancellation's
/// `orders/cancelled`, or under orchestration a release or refund command) stands: decided
/// and not yet on the wire (waiting in its client's offline queue, or behind what a reload
/// found owed, for the broker), or published at a time the driver reported
/// ([`super::Flow::published`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOnWire {
    /// Decided, and not yet sent to the broker.
    Unsent,
    /// Its PUBLISH went out at this time.
    Published(Timestamp),
}

/// The topic of the message that asks for `undo` under `style`: `orders/cancelled` (parallel,
/// choreography: one message asks for both), or the orchestrator's release or refund command.
pub fn compensating_topic(style: SagaStyle, undo: Undo) -> &'static str {
    use crate::domain::topics::{
        COMMAND_REFUND_PAYMENT, COMMAND_RELEASE_INVENTORY, ORDERS_CANCELLED,
    };
    match (style, undo) {
        (SagaStyle::Orchestration, Undo::Release) => COMMAND_RELEASE_INVENTORY,
        (SagaStyle::Orchestration, Undo::Refund) => COMMAND_REFUND_PAYMENT,
        _ => ORDERS_CANCELLED,
    }
}

/// Whether `topic` (without the namespace) carries a compensating message OrderService
/// publishes: `orders/cancelled`, `commands/inventory/release`, `commands/payment/refund`. A
/// check on the topic alone, so that no other message is decoded to find out.
pub fn is_compensating_topic(topic: &str) -> bool {
    use crate::domain::topics::{
        COMMAND_REFUND_PAYMENT, COMMAND_RELEASE_INVENTORY, ORDERS_CANCELLED,
    };
    [
        ORDERS_CANCELLED,
        COMMAND_RELEASE_INVENTORY,
        COMMAND_REFUND_PAYMENT,
    ]
    .contains(&topic)
}

/// The order and topic of `payload` on `topic` if it is a compensating message OrderService
/// publishes ([`compensation_of`]); `None` for any other, read without decoding it
/// ([`is_compensating_topic`]), and for one that does not decode.
pub fn compensation_on(topic: &str, payload: &[u8]) -> Option<(Uuid, &'static str)> {
    if !is_compensating_topic(topic) {
        return None;
    }
    compensation_of(&DomainEvent::decode(topic, payload).ok()?)
}

/// The order and topic of `event` if it is a compensating message OrderService publishes
/// (`orders/cancelled`, `commands/inventory/release`, `commands/payment/refund`); `None` for
/// any other.
pub fn compensation_of(event: &DomainEvent) -> Option<(Uuid, &'static str)> {
    match event {
        DomainEvent::OrderCancelled(_)
        | DomainEvent::ReleaseInventory(_)
        | DomainEvent::RefundPayment(_) => Some((event.order_id(), event.topic())),
        _ => None,
    }
}

/// How much longer a compensation check due at `now` waits before it may send its message
/// again, given where the copy before it stands (`copy`; `None`: not known, e.g. sent before
/// a reload), `timeout` being the saga's deadline; `None`: it may act now.
///
/// A copy still unsent makes it wait a whole `timeout` more (then it looks again): a copy sent
/// now would only wait beside it, and both would reach every participant at once (a
/// break-test saw each `orders/cancelled` go out twice, 0.7 s apart, after a broker outage).
/// A copy published at `at` is given its whole `timeout` from then, as the check counts from a
/// first send.
pub fn check_waits(
    copy: Option<CopyOnWire>,
    timeout: Duration,
    now: Timestamp,
) -> Option<Duration> {
    match copy? {
        CopyOnWire::Unsent => Some(timeout),
        CopyOnWire::Published(at) => {
            let timeout_ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
            let due = at.unix_millis().saturating_add(timeout_ms);
            let left = due.saturating_sub(now.unix_millis());
            u64::try_from(left)
                .ok()
                .filter(|&ms| ms > 0)
                .map(Duration::from_millis)
        }
    }
}

/// One order's saga: the aggregate, the style it started under and its items.
#[derive(Debug, Clone, PartialEq)]
pub struct Saga {
    /// The order as the saga knows it.
    pub order: Order,
    /// The style the order's saga runs under (a change of style applies to new orders).
    pub style: SagaStyle,
}

/// OrderService's memory: an event store holding one stream per order it has seen created
/// (source document 004's event-sourced `OrderService`), and the style each saga started
/// under. An order is never kept as a state: it is folded from its stream each time it is
/// needed ([`EventStore::fold`]), decided on, and what it decided appended under the version it
/// read ([`ExpectedVersion::Exactly`]); each appended event is also published
/// ([`Command::Record`]) for the read side.
#[derive(Debug, Clone, Default)]
pub struct OrderService {
    store: EventStore,
    styles: BTreeMap<Uuid, SagaStyle>,
    /// The compensations it gave up on after its last try, until one is seen done after all
    /// (then its log takes the give-up back). The page's memory only: a reload forgets it.
    given_up: Vec<(Uuid, Undo)>,
    /// Under parallel and choreography, per cancelled order: how many times its
    /// `orders/cancelled` has gone out (the first included) and when the last copy did. The
    /// release and the refund are both asked by that one message, so their checks share this
    /// count: one copy a round, numbered once, and given up after [`COMPENSATION_TRIES`] in
    /// all (40-AD F1: with the release heard between the two checks of a round, both sent a
    /// copy, the log said "try 2 of 4" twice and the wire had 5). The page's memory only: after
    /// a reload the checks' own counts go on.
    cancel_copies: BTreeMap<Uuid, (u32, Timestamp)>,
}

impl OrderService {
    /// How many orders' copies of `orders/cancelled` are counted (tests: the count goes once
    /// the saga is settled).
    #[cfg(test)]
    pub(crate) fn copies_counted(&self) -> usize {
        self.cancel_copies.len()
    }

    /// Drops `order_id`'s count of `orders/cancelled` copies once nothing of it is left to
    /// check: every compensation seen done, or given up on. A step seen done after that (a
    /// participant back late) is checked with a new count: the copies spent before went out
    /// before it was done (kept, the spent count made its check give up at once, sending
    /// nothing).
    fn forget_copies_once_settled(&mut self, order_id: Uuid) {
        let open = self.saga(order_id).map_or_else(Vec::new, |saga| {
            to_undo(&saga.order, saga.style)
                .into_iter()
                .filter(|undo| !self.given_up.contains(&(order_id, *undo)))
                .collect()
        });
        if open.is_empty() {
            self.cancel_copies.remove(&order_id);
        }
    }

    /// Whether OrderService gave up on compensation `undo` of `order_id` after its last try
    /// (and has not seen it done since): nothing will ask for it again, so the saga has ended
    /// as far as OrderService can take it (its log says to undo it by hand).
    pub fn gave_up(&self, order_id: Uuid, undo: Undo) -> bool {
        self.given_up.contains(&(order_id, undo))
    }

    /// The saga of `order_id` (its order folded from its stream), if OrderService has seen it
    /// created.
    pub fn saga(&self, order_id: Uuid) -> Option<Saga> {
        let order = self.store.fold(order_id)?;
        let style = self.styles.get(&order_id).copied().unwrap_or_default();
        Some(Saga { order, style })
    }

    /// Every saga, in the order the orders were created.
    pub fn sagas(&self) -> impl Iterator<Item = Saga> + '_ {
        self.store.streams().iter().filter_map(|id| self.saga(*id))
    }

    /// The event store: every order's stream.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Takes over `store` (the page's own, read back from the browser's database after a
    /// reload), each saga under the style its creation kept (`style`, the page's, for one that
    /// kept none); returns each open order's deadline to arm: what is
    /// left of `timeout` since its creation was recorded, at `now` (due at once when it has
    /// passed). A cancelled order with a step still done and not undone, or asked to be undone
    /// while it was awaited (its release or refund not seen before the reload), gets its
    /// compensation check ([`Work::Compensation`]) again,
    /// due what is left of `timeout` since the later of its cancellation and that step, as a
    /// first try: how often the message went out before the reload died with the page.
    ///
    /// `resent`: the orders whose compensation (`orders/cancelled`, or the orchestrator's
    /// commands) the outbox publishes again now, never acknowledged before the reload: their
    /// checks are due a whole `timeout` from now, as after a first send, so the check does not
    /// send the same message in the same moment (a break-test saw each one go out twice).
    pub fn restore(
        &mut self,
        store: EventStore,
        style: SagaStyle,
        timeout: Duration,
        now: Timestamp,
        resent: &[Uuid],
    ) -> Vec<Command> {
        // Refilled by `extend`, not `collect`: collecting into a B-tree compiles a sort of its own.
        // Each saga under the style it started under, as its creation kept it; one stored
        // before the style was kept, under the page's.
        self.styles.clear();
        self.styles.extend(store.streams().iter().map(|id| {
            let kept = store
                .stream(*id)
                .next()
                .and_then(|first| match &first.event {
                    StreamEvent::Created { saga, .. } => *saga,
                    StreamEvent::Order(_) => None,
                });
            (*id, kept.unwrap_or(style))
        }));
        self.store = store;
        let mut deadlines = Vec::new();
        for &order_id in self.store.streams() {
            let open = self
                .store
                .fold(order_id)
                .is_some_and(|order| !order.status.is_terminal());
            let created = self.store.stream(order_id).next().map(|e| e.recorded_at);
            if let (true, Some(created)) = (open, created) {
                let elapsed = u64::try_from(now.unix_millis() - created.unix_millis()).unwrap_or(0);
                deadlines.push(Command::Schedule {
                    after: timeout.saturating_sub(Duration::from_millis(elapsed)),
                    work: Work::Deadline { order_id },
                });
            }
            let since = if resent.contains(&order_id) {
                Some(now)
            } else {
                None
            };
            deadlines.extend(self.restored_checks(order_id, timeout, now, since));
        }
        deadlines
    }

    /// The compensation checks a restored cancelled order still needs: one per step done and
    /// not undone, and one per step its cancellation asked to undo ([`to_undo`], under the
    /// order's style) whose answer has not come yet (the step or its compensation in the
    /// participant's hands when the page died), due what is left of `timeout` since the later
    /// of the cancellation and that step (as the check was first armed), or since `resent`
    /// (its compensation published again at that time).
    fn restored_checks(
        &self,
        order_id: Uuid,
        timeout: Duration,
        now: Timestamp,
        resent: Option<Timestamp>,
    ) -> Vec<Command> {
        let Some(order) = self.store.fold(order_id) else {
            return Vec::new();
        };
        if order.status != crate::domain::order::OrderStatus::Cancelled {
            return Vec::new();
        }
        let recorded = |pick: &dyn Fn(&OrderEvent) -> bool| {
            self.store
                .stream(order_id)
                .filter(|e| matches!(&e.event, StreamEvent::Order(event) if pick(event)))
                .map(|e| e.recorded_at.unix_millis())
                .max()
        };
        let cancelled = recorded(&|e| matches!(e, OrderEvent::Cancelled { .. }));
        // The checks the page before armed: one per compensation the cancellation asked for
        // (a step done, or asked and not answered yet), folded as the order was then, and one
        // per step heard done after it; each while its step is still not undone.
        let style = self.styles.get(&order_id).copied().unwrap_or_default();
        let version = self
            .store
            .stream(order_id)
            .find(|e| matches!(e.event, StreamEvent::Order(OrderEvent::Cancelled { .. })))
            .map_or(u64::MAX, |e| e.version);
        let asked = self
            .store
            .fold_to(order_id, version)
            .map(|at_cancellation| to_undo(&at_cancellation, style))
            .unwrap_or_default();
        let mut checks = Vec::new();
        for undo in [Undo::Release, Undo::Refund] {
            let state = match undo {
                Undo::Release => &order.inventory,
                Undo::Refund => &order.payment,
            };
            let open = match state {
                Step::Confirmed(_) => true,
                Step::Awaiting => asked.contains(&undo),
                _ => false,
            };
            if !open {
                continue;
            }
            let step = recorded(&|e| match undo {
                Undo::Release => matches!(e, OrderEvent::InventoryConfirmed { .. }),
                Undo::Refund => matches!(e, OrderEvent::PaymentConfirmed { .. }),
            });
            let since = match resent {
                Some(at) => at.unix_millis(),
                None => cancelled.max(step).unwrap_or(now.unix_millis()),
            };
            let elapsed = u64::try_from(now.unix_millis() - since).unwrap_or(0);
            checks.push(check(
                order_id,
                undo,
                1,
                timeout.saturating_sub(Duration::from_millis(elapsed)),
            ));
        }
        checks
    }

    /// Appends `events` to `order_id`'s stream under `expected`, and publishes each for the
    /// read side. A stale `expected` is refused with the store's concurrency error.
    fn append(
        &mut self,
        order_id: Uuid,
        expected: ExpectedVersion,
        events: Vec<StreamEvent>,
        now: Timestamp,
    ) -> Result<Vec<Command>, Rejection> {
        let stored = self
            .store
            .append(order_id, expected, events, now)
            .map_err(|e| Rejection::new(e.to_string()))?;
        Ok(stored.into_iter().map(Command::Record).collect())
    }

    /// What a message asks of OrderService.
    pub fn on_event(
        &mut self,
        settings: &FlowSettings,
        now: Timestamp,
        event: DomainEvent,
    ) -> Result<Vec<Command>, Rejection> {
        if let DomainEvent::OrderCreated(created) = event {
            // The store is OrderService's own memory of what it started: a copy of an order's
            // creation that the idempotent consumer's bounded memory no longer holds (or with
            // idempotency off) is still a duplicate, and says so (a newcomer's break-test: a
            // replay 600 orders later was logged as accepted, though it started nothing).
            let version = self.store.version(created.order_id);
            if version > 0 {
                return Err(Rejection {
                    reason: format!(
                        "duplicate ignored: order {} is already in OrderService's event store \
                         (stream version {version}): an orders/created starts an order once",
                        created.order_id
                    ),
                    kind: RejectionKind::Duplicate,
                    answer_again: Vec::new(),
                });
            }
            return Ok(self.start(settings, now, created));
        }
        let order_id = event.order_id();
        let command = match event {
            DomainEvent::InventoryReserved(r) if r.success => OrderCommand::ConfirmInventory {
                reservation_id: r.reservation_id,
            },
            DomainEvent::InventoryReserved(r) => OrderCommand::FailInventory {
                reason: r.reason.unwrap_or_else(|| "inventory not available".into()),
            },
            DomainEvent::PaymentProcessed(p) if p.success => OrderCommand::ConfirmPayment {
                payment_id: p.payment_id,
                amount: p.amount,
            },
            DomainEvent::PaymentProcessed(p) => OrderCommand::FailPayment {
                payment_id: p.payment_id,
                reason: p.reason.unwrap_or_else(|| "payment failed".into()),
            },
            DomainEvent::InventoryReleased(r) => OrderCommand::RecordRelease {
                reservation_id: r.reservation_id,
            },
            DomainEvent::PaymentRefunded(r) => OrderCommand::RecordRefund {
                payment_id: r.payment_id,
                amount: r.amount,
            },
            _ => return Ok(Vec::new()),
        };
        self.decide(order_id, now, command, settings.saga_timeout)
    }

    /// A new order: its saga starts, with its deadline; under orchestration the first command
    /// goes out. An order seen before is a duplicate and starts nothing.
    fn start(
        &mut self,
        settings: &FlowSettings,
        now: Timestamp,
        created: OrderCreated,
    ) -> Vec<Command> {
        let order_id = created.order_id;
        if self.store.version(order_id) > 0 {
            return Vec::new();
        }
        let style = settings.saga;
        let items = created.items.clone();
        // The style is kept with the creation: a reload resumes the saga under it.
        let mut first = StreamEvent::from(created);
        if let StreamEvent::Created { saga, .. } = &mut first {
            *saga = Some(style);
        }
        let Ok(mut commands) = self.append(order_id, ExpectedVersion::NoStream, vec![first], now)
        else {
            return Vec::new();
        };
        self.styles.insert(order_id, style);
        commands.push(Command::Schedule {
            after: settings.saga_timeout,
            work: Work::Deadline { order_id },
        });
        if style == SagaStyle::Orchestration {
            let reserve = ReserveInventory {
                order_id,
                items,
                requested_at: now,
            };
            commands.push(Command::Publish(reserve.into()));
        }
        commands
    }

    /// The order's deadline passed at `now`: an order still open is cancelled as timed out.
    /// `settings.saga_timeout` is also how long it waits to see each compensation done.
    pub fn deadline(
        &mut self,
        settings: &FlowSettings,
        order_id: Uuid,
        now: Timestamp,
    ) -> Vec<Command> {
        let Some(saga) = self.saga(order_id) else {
            return Vec::new();
        };
        if saga.order.status.is_terminal() {
            return Vec::new();
        }
        let waiting_inventory = saga.order.inventory == Step::Awaiting;
        let waiting_payment = saga.order.payment == Step::Awaiting;
        let reason = match (saga.style, waiting_inventory, waiting_payment) {
            (SagaStyle::Parallel, true, true) => "inventory and payment timed out",
            (_, true, _) => "inventory timed out",
            _ => "payment timed out",
        };
        let cancel = OrderCommand::Cancel {
            reason: reason.to_owned(),
        };
        self.decide(order_id, now, cancel, settings.saga_timeout)
            .unwrap_or_default()
    }

    /// A compensation check is due at `now` ([`Work::Compensation`]): the compensating message
    /// of `undo` for the cancelled order has gone out `sent` times. Done (the order holds the
    /// release or refund, folded from `inventory/released` or `payments/refunded`, or the step
    /// failed): nothing. A step whose answer never came is treated as one known done.
    /// Not seen yet: the message goes out again (a consumer that processed it ignores the copy,
    /// by its identity) and the next check is due `settings.saga_timeout` later; after
    /// [`COMPENSATION_TRIES`] sends, OrderService gives up and says so in its log ("refund not
    /// confirmed after 4 tries"). The message is the saga's own: under parallel and
    /// choreography a copy of its `orders/cancelled` (same reason, same `cancelledAt`), under
    /// orchestration the command again.
    pub fn check_compensation(
        &mut self,
        settings: &FlowSettings,
        order_id: Uuid,
        undo: Undo,
        sent: u32,
        now: Timestamp,
    ) -> Vec<Command> {
        let Some(saga) = self.saga(order_id) else {
            return Vec::new();
        };
        let step = match undo {
            Undo::Release => &saga.order.inventory,
            Undo::Refund => &saga.order.payment,
        };
        // Done, or asked and never answered (its outcome unknown): still to undo.
        if !matches!(step, Step::Confirmed(_) | Step::Awaiting) {
            self.forget_copies_once_settled(order_id);
            return Vec::new();
        }
        let what = undo.what();
        // In parallel and choreography both compensations are asked by the same message
        // (`orders/cancelled`): one copy a round for both, counted once per order.
        let shared = saga.style != SagaStyle::Orchestration;
        let sent = match self.cancel_copies.get(&order_id) {
            Some(&(copies, last)) if shared => {
                // The other check sent a copy less than a round ago: this one waits for the
                // round that copy started.
                let since = now.unix_millis().saturating_sub(last.unix_millis());
                let since = Duration::from_millis(u64::try_from(since).unwrap_or(0));
                if since < settings.saga_timeout {
                    let wait = settings.saga_timeout - since;
                    return vec![check(order_id, undo, copies.max(sent), wait)];
                }
                copies.max(sent)
            }
            _ => sent,
        };
        if sent >= COMPENSATION_TRIES {
            let (done, participant) = match undo {
                Undo::Release => ("reservation", "InventoryService"),
                Undo::Refund => ("charge", "PaymentService"),
            };
            // A step never answered may never have been done (a newcomer's break-test: the log
            // spoke of "its charge to undo by hand" for an order PaymentService never charged).
            let line = if *step == Step::Awaiting {
                format!(
                    "{what} not confirmed after {sent} tries: OrderService gives up on it; order \
                     {order_id} stays cancelled, and whether it has a {done} to undo is unknown \
                     ({participant} never answered): check by hand"
                )
            } else {
                format!(
                    "{what} not confirmed after {sent} tries: OrderService gives up on it; order \
                     {order_id} stays cancelled with its {done} to undo by hand"
                )
            };
            // The refund rides on the same orders/cancelled, which now stops going out: its own
            // check gives up only rounds later (it waits while copies go out), so this line
            // names the charge too (a newcomer's break-test: the log named only the reservation
            // of an order that had been charged).
            let charge = match saga.order.payment {
                Step::Awaiting => " Its refund was asked by the same orders/cancelled, which is \
                     no longer sent again: whether it has a charge to undo is unknown too \
                     (PaymentService never answered)."
                    .to_owned(),
                Step::Confirmed(_) => " Its refund was asked by the same orders/cancelled, which \
                     is no longer sent again: its charge may be left to undo by hand too."
                    .to_owned(),
                _ => String::new(),
            };
            let line = if undo == Undo::Release
                && saga.style != SagaStyle::Orchestration
                && to_undo(&saga.order, saga.style).contains(&Undo::Refund)
            {
                format!("{line}.{charge}")
            } else {
                line
            };
            if !self.given_up.contains(&(order_id, undo)) {
                self.given_up.push((order_id, undo));
            }
            self.forget_copies_once_settled(order_id);
            return vec![Command::Log {
                line,
                gave_up: true,
            }];
        }
        // A copy of orders/cancelled asks for the release and the refund both, when both are
        // awaited: the line says both (a newcomer's break-test read only "release not confirmed
        // yet" while the refund was unconfirmed too).
        let awaited = |step: &Step| matches!(step, Step::Confirmed(_) | Step::Awaiting);
        let what = if shared && awaited(&saga.order.inventory) && awaited(&saga.order.payment) {
            "release and refund"
        } else {
            what
        };
        if shared {
            self.cancel_copies.insert(order_id, (sent + 1, now));
        }
        let reason = saga.order.cancel_reason.clone().unwrap_or_default();
        let message = match (saga.style, undo) {
            (SagaStyle::Orchestration, Undo::Release) => release(order_id, &reason, now),
            (SagaStyle::Orchestration, Undo::Refund) => refund(order_id, &reason, now),
            _ => {
                let cancelled_at = self
                    .store
                    .stream(order_id)
                    .find(|e| matches!(e.event, StreamEvent::Order(OrderEvent::Cancelled { .. })))
                    .map_or(now, |e| e.recorded_at);
                Command::Publish(
                    OrderCancelled {
                        order_id,
                        reason,
                        cancelled_at,
                    }
                    .into(),
                )
            }
        };
        let topic = match &message {
            Command::Publish(event) => event.topic(),
            _ => "",
        };
        vec![
            message,
            Command::Log {
                line: format!(
                    "{what} not confirmed yet: {topic} sent again for order {order_id} (try {} \
                     of {COMPENSATION_TRIES})",
                    sent + 1
                ),
                gave_up: false,
            },
            check(order_id, undo, sent + 1, settings.saga_timeout),
        ]
    }

    /// Puts `command` to the order and says what follows: the outcome on the wire, and under
    /// orchestration the next command or the compensations.
    ///
    /// Each compensation it asks for (or, under parallel and choreography, leaves to the
    /// participants' reaction to `orders/cancelled`) is checked `retry` later
    /// ([`OrderService::check_compensation`]): a saga's compensation is not fire-and-forget.
    fn decide(
        &mut self,
        order_id: Uuid,
        now: Timestamp,
        command: OrderCommand,
        retry: Duration,
    ) -> Result<Vec<Command>, Rejection> {
        // Read the stream, fold it, decide, and append under the version read.
        let expected = ExpectedVersion::Exactly(self.store.version(order_id));
        let Some(mut saga) = self.saga(order_id) else {
            return Err(Rejection::early(super::ServiceId::Order, order_id));
        };
        let orchestrated = saga.style == SagaStyle::Orchestration;
        let gave_up = saga.order.cancel_reason.clone();
        // A step with no answer at the cancellation was compensated then (its command sent):
        // its late success needs no second command.
        let (inventory_open, payment_open) = (
            saga.order.inventory == Step::Awaiting,
            saga.order.payment == Step::Awaiting,
        );
        let was_running = !saga.order.status.is_terminal();
        let events = saga.order.handle(&command).map_err(|refusal| Rejection {
            kind: match refusal {
                Refusal::WrongAmount { .. }
                | Refusal::ShortRefund { .. }
                | Refusal::RefundOverCharge { .. }
                | Refusal::ZeroRefund
                | Refusal::NotTheStep { .. }
                // A refund of part of the charge while the order runs (44-AS F1: remembered as
                // processed, it made every real refund under the charge's id a "duplicate",
                // and none reached the store).
                | Refusal::NotAsked(_) => RejectionKind::NotItsOwn,
                _ => RejectionKind::Refused,
            },
            ..Rejection::new(refusal.to_string())
        })?;
        let mut commands = self.append(
            order_id,
            expected,
            events.iter().cloned().map(StreamEvent::from).collect(),
            now,
        )?;
        // A compensation recorded before, again (another refundedAt, say): nothing new, and
        // said so (45-AW F6: the log said only "accepted" where the row said "ignored").
        if events.is_empty() {
            let again = match &command {
                OrderCommand::RecordRefund { payment_id, .. } if !payment_id.is_nil() => {
                    Some(format!("refund of payment {payment_id}"))
                }
                OrderCommand::RecordRelease { reservation_id } if !reservation_id.is_nil() => {
                    Some(format!("release of reservation {reservation_id}"))
                }
                _ => None,
            };
            if let Some(again) = again {
                commands.push(Command::Log {
                    line: format!(
                        "{again} for order {order_id}: nothing new, the order's stream holds it \
                         already (one per payment or reservation), so nothing is recorded"
                    ),
                    gave_up: false,
                });
            }
        }
        let order = &saga.order;
        if was_running && order.status.is_terminal() {
            if let Some(line) = unasked_compensation(order_id, &command) {
                commands.push(Command::Log {
                    line,
                    gave_up: false,
                });
            }
        }
        for event in &events {
            match event {
                // A success after the saga gave up: under orchestration, OrderService asks for
                // it to be undone unless it did at the cancellation, not knowing the outcome (in
                // the other styles the service that did it undoes it, if it heard
                // orders/cancelled: the check sends that again if it did not).
                OrderEvent::InventoryConfirmed { .. } if gave_up.is_some() => {
                    if orchestrated && !inventory_open {
                        commands.push(release(order_id, gave_up.as_deref().unwrap_or(""), now));
                    }
                    commands.push(check(order_id, Undo::Release, 1, retry));
                }
                OrderEvent::PaymentConfirmed { .. } if gave_up.is_some() => {
                    if orchestrated && !payment_open {
                        commands.push(refund(order_id, gave_up.as_deref().unwrap_or(""), now));
                    }
                    commands.push(check(order_id, Undo::Refund, 1, retry));
                }
                // A compensation given up on, seen done after all (a newcomer's break-test: a
                // participant reconnecting after a broker restart answered 0.3 s after the last
                // try, and the log's last word still said to undo it by hand).
                OrderEvent::InventoryReleased { .. } | OrderEvent::PaymentRefunded { .. } => {
                    // Only once nothing of that kind is left held: the refund of a second
                    // charge leaves the order's own to undo.
                    let (undo, left) = match event {
                        OrderEvent::InventoryReleased { .. } => (
                            Undo::Release,
                            order.inventory.is_confirmed() || !order.other_reservations.is_empty(),
                        ),
                        _ => (
                            Undo::Refund,
                            order.payment.is_confirmed() || !order.other_charges.is_empty(),
                        ),
                    };
                    let given_up = self.given_up.iter().position(|g| *g == (order_id, undo));
                    if let (Some(at), false) = (given_up, left) {
                        self.given_up.remove(at);
                        commands.push(Command::Log {
                            line: format!(
                                "{} of order {order_id} seen done after all, after OrderService \
                                 gave up on it: nothing is left to undo by hand",
                                undo.what()
                            ),
                            gave_up: false,
                        });
                    }
                }
                OrderEvent::Completed => commands.push(Command::Publish(
                    OrderConfirmed {
                        order_id,
                        confirmed_at: now,
                    }
                    .into(),
                )),
                OrderEvent::Cancelled { reason } => {
                    commands.push(Command::Publish(
                        OrderCancelled {
                            order_id,
                            reason: reason.clone(),
                            cancelled_at: now,
                        }
                        .into(),
                    ));
                    for undo in to_undo(order, saga.style) {
                        if orchestrated {
                            commands.push(match undo {
                                Undo::Release => release(order_id, reason, now),
                                Undo::Refund => refund(order_id, reason, now),
                            });
                        }
                        commands.push(check(order_id, undo, 1, retry));
                    }
                }
                // The charge is asked once per order, on its first reservation: a second one
                // (another InventoryService's, under its own id) asks nothing more (a
                // newcomer's break-test, 35-M F10: a second commands/payment/charge went out,
                // and only PaymentService's memory kept it from a second charge).
                OrderEvent::InventoryConfirmed { .. }
                    if orchestrated && !order.status.is_terminal() && inventory_open =>
                {
                    commands.push(Command::Publish(
                        ChargePayment {
                            order_id,
                            customer_id: order.customer_id.clone(),
                            amount: order.total,
                            requested_at: now,
                        }
                        .into(),
                    ))
                }
                _ => {}
            }
        }
        Ok(commands)
    }
}

/// OrderService's log line when `command`, a release or refund, arrives for an order still
/// running and so cancels it ([`crate::domain::order::UNASKED_RELEASE`]); `None` for any other
/// command. Says why: OrderService asked for no compensation, so someone else did (on an open
/// broker any client may publish `orders/cancelled`, or the release itself).
fn unasked_compensation(order_id: Uuid, command: &OrderCommand) -> Option<String> {
    let (service, what, topic) = match command {
        OrderCommand::RecordRelease { reservation_id } => (
            "InventoryService",
            if reservation_id.is_nil() {
                "answered that it has nothing to release"
            } else {
                "released its reservation"
            },
            "inventory/released",
        ),
        OrderCommand::RecordRefund { payment_id, .. } => (
            "PaymentService",
            if payment_id.is_nil() {
                "answered that it has nothing to refund"
            } else {
                "refunded its charge"
            },
            "payments/refunded",
        ),
        _ => return None,
    };
    Some(format!(
        "order {order_id} cancelled: {service} {what} ({topic}) while the order was still \
         running, and OrderService asked for no compensation: someone else published \
         orders/cancelled for it, or the {topic} itself (on an open broker any client may; see \
         least privilege). An order whose step may be undone is not completed: OrderService \
         cancels it, and the cancellation has the other step undone"
    ))
}

/// The compensations a cancelled `order` asks for, run under `style`: every step the saga
/// asked for and did not hear fail, whether it heard it done or heard nothing (an answer lost
/// on its way, e.g. by a broker that lost OrderService's session, or a command that never
/// arrived). The participant undoes what it did, or answers that there was nothing to undo and
/// refuses the step if it comes later (the compensation before the step).
///
/// The reservation is asked for in every style as the order is created; the charge too in
/// parallel; under choreography on the reservation, which OrderService may not have heard
/// (so unless the reservation failed); under orchestration by OrderService itself, once it
/// heard the stock reserved.
pub fn to_undo(order: &Order, style: SagaStyle) -> Vec<Undo> {
    let open = |step: &Step| matches!(step, Step::Confirmed(_) | Step::Awaiting);
    let charge_asked = match style {
        SagaStyle::Parallel => true,
        SagaStyle::Choreography => !matches!(order.inventory, Step::Failed(_)),
        SagaStyle::Orchestration => {
            order.inventory.is_confirmed() || order.payment != Step::Awaiting
        }
    };
    let mut undo = Vec::new();
    if open(&order.inventory) {
        undo.push(Undo::Release);
    }
    if charge_asked && open(&order.payment) {
        undo.push(Undo::Refund);
    }
    undo
}

/// The check of `undo` for the order, due `after`, its message sent `sent` times.
fn check(order_id: Uuid, undo: Undo, sent: u32, after: Duration) -> Command {
    Command::Schedule {
        after,
        work: Work::Compensation {
            order_id,
            undo,
            sent,
        },
    }
}

fn release(order_id: Uuid, reason: &str, now: Timestamp) -> Command {
    Command::Publish(
        ReleaseInventory {
            order_id,
            reason: reason.to_owned(),
            requested_at: now,
        }
        .into(),
    )
}

fn refund(order_id: Uuid, reason: &str, now: Timestamp) -> Command {
    Command::Publish(
        RefundPayment {
            order_id,
            reason: reason.to_owned(),
            requested_at: now,
        }
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::{seed, DomainEvent};
    use crate::domain::order_form::{validate, ItemDraft, OrderDraft};

    #[test]
    fn placing_the_seed_example_publishes_the_seed_payload() {
        let order = validate(&OrderDraft::seed_example()).unwrap();
        let now = Timestamp::parse("2024-01-15T10:30:00Z").unwrap();
        let event = place(now, seed::ORDER_ID.parse().unwrap(), &order);

        let expected: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
        assert_eq!(event, expected);
        let compact: String = seed::ORDER_CREATED.split_whitespace().collect();
        assert_eq!(DomainEvent::from(event).to_json(), compact.into_bytes());
    }

    #[test]
    fn the_total_is_exact_to_the_cent() {
        let draft = OrderDraft {
            customer_id: "C9".into(),
            items: vec![
                ItemDraft {
                    product_id: "P1".into(),
                    quantity: "3".into(),
                    price: "0.1".into(),
                },
                ItemDraft {
                    product_id: "P2".into(),
                    quantity: "1".into(),
                    price: "0.2".into(),
                },
            ],
        };
        let order = validate(&draft).unwrap();
        let now = Timestamp::from_unix_millis(0).unwrap();
        let event = place(now, Uuid::nil(), &order);
        assert_eq!(event.total_amount, 0.5);
        let json = String::from_utf8(DomainEvent::from(event).to_json()).unwrap();
        assert!(json.contains(r#""totalAmount":0.5,"#), "{json}");
        assert!(json.contains(r#""price":0.1}"#), "{json}");
    }

    #[test]
    fn ids_and_time_are_the_callers() {
        let order = validate(&OrderDraft::seed_example()).unwrap();
        let id = Uuid::from_u128(42);
        let now = Timestamp::from_unix_millis(1_705_314_600_800).unwrap();
        let event = place(now, id, &order);
        assert_eq!((event.order_id, event.created_at), (id, now));
        assert_eq!(event.customer_id, "C123");
    }
}
