//! Carrying out what the services decided ([`Command`]): publishing, retaining, recording,
//! notifying, and arming timers for simulated work and deadlines (crash-aware), through the
//! store keeper's outbox for OrderService.

use std::rc::Rc;
use std::time::Duration;

use gloo::timers::callback::Timeout;
use uuid::Uuid;

use crate::clock::{self, fresh_id, wall_clock};
use crate::store_keeper::Publication;
use eda_core::domain::DomainEvent;
use eda_core::services::instances::Instance;
use eda_core::services::{published_twice, Command, ServiceId, Work};
use eda_core::state::{Action, LogEntry, Outcome};
use eda_core::store::outbox::owed;
use eda_core::trace::service_status::{LastOutcome, ServiceEvent};

use super::report::{note, problem};
use super::{Armed, Runtime};

impl Runtime {
    /// Carries out what `instance`'s service decided, with `instance`'s client: the instance
    /// that received a message does the work it starts and publishes the result.
    pub(super) fn run(self: &Rc<Self>, instance: Instance, commands: Vec<Command>) {
        // The outbox: what OrderService decided with an append goes out once the append is in
        // the tab's database, so a reload cannot lose an event whose consequences were seen.
        // What follows from the appends is kept with them until the broker acknowledges it.
        if let (Some(keeper), ServiceId::Order) = (&self.keeper, instance.service) {
            let appended: Vec<_> = commands
                .iter()
                .filter_map(|command| match command {
                    Command::Record(event) => Some(event),
                    _ => None,
                })
                .collect();
            if !appended.is_empty() {
                keeper.keep(&appended, owed(&commands));
                // An order placed here is stored now: its kept placement goes once the append
                // is committed (`StoreKeeper::keep_placed`).
                let started: Vec<Uuid> = appended
                    .iter()
                    .filter(|event| event.version == 1)
                    .map(|event| event.stream)
                    .collect();
                if !started.is_empty() {
                    let forget = keeper.clone();
                    keeper.after_kept(Box::new(move || {
                        for order_id in started {
                            forget.forget_placed(order_id);
                        }
                    }));
                }
            }
            keeper.after_kept(self.run_by_current(instance, commands));
            return;
        }
        // A participant's memory is kept before what it decided goes out (decision 0021): a
        // reload then finds every charge and reservation whose message was published.
        if let Some(keeper) = &self.keeper {
            let changed = self.flow.borrow_mut().take_changed();
            keeper.keep_memos(changed);
            keeper.after_memos(self.run_by_current(instance, commands));
            return;
        }
        self.run_now(instance, commands);
    }

    /// The participants' memory kept in the tab's database after a reload (`memos`, and
    /// InventoryService's `stock` if it was kept), taken back before any message is handled:
    /// each participant's log says what it restored, and a stock taken back is stated again,
    /// retained, and shown (the database's levels are the truth: they were written before each
    /// level went out).
    pub fn restore_participants(
        self: &Rc<Self>,
        memos: Vec<eda_core::services::durable::Memo>,
        stock: Option<eda_core::services::Stock>,
    ) {
        // The messages OrderService kept for orders not created yet go into the Orders panel
        // as they did when they arrived: the packets they came in are gone with the reload
        // (41-AH F6: an order completed on them read only its participants' refusals).
        let early: Vec<DomainEvent> = memos
            .iter()
            .flat_map(|memo| &memo.early)
            .filter_map(|kept| DomainEvent::decode(&kept.topic, kept.payload.as_bytes()).ok())
            .collect();
        if !early.is_empty() {
            let now = clock::now();
            let mut trace = self.trace.0.borrow_mut();
            for event in &early {
                trace.orders.apply(now, event);
            }
            drop(trace);
            self.trace_changed.set(true);
        }
        let restored = self.flow.borrow_mut().restore_memos(memos, stock);
        for (service, line) in restored.lines() {
            self.log(service, note("reload", line));
        }
        // The database held no stock: the link's levels are kept now, not only once an order
        // moves them (36-S F4).
        if let Some(keeper) = &self.keeper {
            keeper.keep_memos(self.flow.borrow_mut().take_changed());
        }
        if restored.stock {
            let now = self.flow.borrow().inventory.stock().clone();
            let linked = now.with_held(&self.flow.borrow().inventory.held());
            // Stated when InventoryService connects, which waits for the database to be read
            // back (`on_connected`): from the stock taken back, and once.
            // The link carries the stock in use (so Copy link reproduces it; the field shows it
            // too), and the Stock panel says where it came from.
            crate::address_bar::remember(&eda_core::state::query::Setting::Stock(linked.clone()));
            self.tell(Action::StockRestored(linked));
            self.tell(Action::StockNow(now));
        }
        self.tell_held();
    }

    /// `commands` carried out later, by whichever runtime runs the services by then (the
    /// protocol may have been switched meanwhile: they were decided by the services it took
    /// over); by none while a recording is shown.
    fn run_by_current(&self, instance: Instance, commands: Vec<Command>) -> Box<dyn FnOnce()> {
        let current = self.current.clone();
        Box::new(move || {
            let runtime = current.borrow().upgrade();
            if let Some(runtime) = runtime {
                runtime.run_now(instance, commands);
            }
        })
    }

    /// [`Runtime::run`], now.
    fn run_now(self: &Rc<Self>, instance: Instance, commands: Vec<Command>) {
        let service = instance.service;
        // The stock changed (the decision says so with its retained levels): the page shows it.
        let stock_changed = commands.iter().any(|c| matches!(c, Command::Retain(_)));
        for command in commands {
            match command {
                Command::Publish(event) => {
                    if !self.held_behind_owed(instance, || Publication::Decided(event.clone())) {
                        self.publish_decided(instance, &event);
                    }
                }
                Command::Retain(update) => {
                    let qos = self.qos.get().of(&update.topic());
                    if let Err(e) = self.retain(instance, &update, qos) {
                        self.log(service, problem(&update.topic(), e));
                    }
                }
                Command::Schedule { after, work } => {
                    let worker = if work.service() == service {
                        instance
                    } else {
                        work.service().into()
                    };
                    self.arm_scheduled(after, work, worker);
                }
                Command::Notify(text) => self.tell(Action::Notified(text)),
                Command::Log { line, gave_up } => self.log(
                    service,
                    LogEntry {
                        outcome: if gave_up {
                            Outcome::Failed("given up after its last try".to_owned())
                        } else {
                            Outcome::Note
                        },
                        ..note("compensation", line.clone())
                    },
                ),
                Command::Record(event) => self.record_stored(instance, event),
            }
        }
        if stock_changed {
            let now = self.flow.borrow().inventory.stock().clone();
            self.tell(Action::StockNow(now));
        }
        if stock_changed || service == ServiceId::Inventory {
            self.tell_held();
        }
    }

    /// Tells the page the units InventoryService's open reservations hold
    /// ([`eda_core::services::inventory::InventoryService::held`]) when they changed since it
    /// was last told (a reservation, a release, a confirmation, an edit of the stock).
    pub(super) fn tell_held(self: &Rc<Self>) {
        let held = self.flow.borrow().inventory.held();
        if *self.held_told.borrow() != held {
            *self.held_told.borrow_mut() = held.clone();
            self.tell(Action::StockHeld(held));
        }
    }

    /// Publishes `event`, as `instance` decided it (and once more under the duplicate-rate
    /// injection); a refusal goes to the service's log, and a failed step to its badge.
    pub(super) fn publish_decided(self: &Rc<Self>, instance: Instance, event: &DomainEvent) {
        let service = instance.service;
        let twice = published_twice(event.identity(), self.duplicates());
        let result = self.publish(instance, event).and_then(|()| {
            // The duplicate-rate injection: the same message once more, as a redelivery after
            // a lost acknowledgement would look to a consumer.
            if twice {
                self.publish(instance, event)
            } else {
                Ok(())
            }
        });
        if let Err(e) = result {
            self.log(service, problem(event.topic(), e));
        } else if event.is_failure() && service != ServiceId::Order {
            // The service that failed a step shows it on its badge.
            let reason = failure_reason(event);
            self.record(service, ServiceEvent::Outcome(LastOutcome::Failed(reason)));
        }
    }

    /// [`Runtime::arm`] for work a decision scheduled, unless every copy of it in the flow's
    /// schedule has its timer armed already: a decision waits for the tab's database before it
    /// is carried out, and a runtime that took over meanwhile (another MQTT version, session
    /// mode or number of instances) armed the schedule it was handed, this work included. A
    /// newcomer's break-test (CI): every order of a burst was charged and reserved twice, with
    /// two payment ids, across an MQTT version switch while the database was busy.
    fn arm_scheduled(self: &Rc<Self>, after: Duration, work: Work, worker: Instance) {
        let armed = self
            .armed
            .borrow()
            .iter()
            .filter(|a| a.work == work)
            .count();
        if armed >= self.flow.borrow().scheduled_count(&work) {
            return;
        }
        self.arm(after, work, worker);
    }

    /// Arms a timer for `work`, due `after` from now, done by `worker`; the flow has it in its
    /// schedule. Busy work shows on its service's badge. Work of an instance crashed since it
    /// was armed dies, though the instance was restarted before it fell due (a newcomer's
    /// break-test: a quick *Restart* and the crashed process still charged); a saga's deadline
    /// is kept, as a scheduler would keep it, and acts once OrderService is back.
    pub(super) fn arm(self: &Rc<Self>, after: Duration, work: Work, worker: Instance) {
        let (order_id, busy) = (work.order_id(), work.is_busy());
        // On the packets' clock, so the flow diagram counts down against it.
        let due = clock::now() + after;
        let crashes = self.links.borrow().crash_count(worker);
        self.armed.borrow_mut().push(Armed {
            work: work.clone(),
            worker,
            crashes,
        });
        if busy {
            self.links.borrow_mut().work_started(worker, order_id);
            self.record(worker.service, ServiceEvent::WorkStarted { order_id, due });
        }
        self.later(after, move |runtime| {
            let was_armed = {
                let mut armed = runtime.armed.borrow_mut();
                let this = |a: &Armed| a.work == work && a.worker == worker && a.crashes == crashes;
                armed
                    .iter()
                    .position(this)
                    .map(|at| armed.remove(at))
                    .is_some()
            };
            let crashed_since = runtime.links.borrow().crash_count(worker) != crashes;
            // Its crash took it off the schedule already ([`Runtime::crash`]): abandoned again,
            // the same work scheduled anew since (a copy of its message) would go instead.
            if busy && crashed_since && !was_armed {
                return;
            }
            // QueryService's crash dropped its projections from the flow already
            // (`Flow::drop_projections`).
            if crashed_since && matches!(work, Work::Project(_)) {
                return;
            }
            if busy && crashed_since {
                runtime.flow.borrow_mut().abandon(&work);
                runtime.follow_style();
                return;
            }
            if runtime.is_crashed(worker) {
                if busy {
                    runtime.flow.borrow_mut().abandon(&work);
                    runtime.follow_style();
                } else {
                    runtime.arm(RETRY_DEADLINE, work, worker);
                }
                return;
            }
            // A compensation's try counts only when it can go out: while OrderService is away
            // from the broker, a copy sent again would only wait in its client beside the first.
            if matches!(work, Work::Compensation { .. }) && !runtime.client(worker).is_connected() {
                runtime.arm(RETRY_DEADLINE, work, worker);
                return;
            }
            // Before the result goes out, so a publish that fails is the last word.
            if busy {
                runtime.links.borrow_mut().work_done(worker, order_id);
                runtime.record(worker.service, ServiceEvent::WorkDone { order_id });
            }
            if let Work::Project(event) = &work {
                // The page's copy of the read model follows QueryService's; what it refuses
                // (QueryService too, with no word on the page) goes in the lag line.
                let flow = runtime.flow.borrow();
                runtime
                    .trace
                    .0
                    .borrow_mut()
                    .project(event, flow.order.store());
                drop(flow);
                runtime.trace_changed.set(true);
                runtime.report_soon();
            }
            match wall_clock() {
                Some(now) => {
                    let done = runtime.flow.borrow_mut().complete(work, now, fresh_id());
                    runtime.run(worker, done);
                    runtime.follow_style();
                }
                None => runtime.log(
                    worker.service,
                    problem("work", "the browser clock is out of range".into()),
                ),
            }
        });
    }

    /// Runs `then` with the runtime `after` from now (whole ms, at most `u32::MAX`), unless by
    /// then the runtime is gone or closed (replaced by another, which was handed what this one
    /// had in hand).
    pub(super) fn later(self: &Rc<Self>, after: Duration, then: impl FnOnce(Rc<Self>) + 'static) {
        let runtime = Rc::downgrade(self);
        let millis = after.as_millis().min(u32::MAX as u128) as u32;
        Timeout::new(millis, move || {
            if let Some(runtime) = runtime.upgrade().filter(|r| !r.closed.get()) {
                then(runtime);
            }
        })
        .forget();
    }
}

/// Why a failure message says the step failed.
fn failure_reason(event: &DomainEvent) -> String {
    match event {
        DomainEvent::PaymentProcessed(p) => p.reason.clone(),
        DomainEvent::InventoryReserved(r) => r.reason.clone(),
        DomainEvent::OrderCancelled(c) => Some(c.reason.clone()),
        _ => None,
    }
    .unwrap_or_else(|| "failed".to_owned())
}

/// How long a saga's deadline (or a compensation check) waits to act again while OrderService
/// is crashed (or, for a check, not connected).
const RETRY_DEADLINE: Duration = Duration::from_millis(500);
