//! Reports to the page: each service's badge events and log lines recorded in the trace, and
//! the page's actions sent in batches at most once a period ([`report_period`]).

use std::rc::Rc;
use std::time::Duration;

use gloo::timers::callback::Timeout;

use crate::clock::{self, time_of_day, wall_clock};
use eda_core::services::ServiceId;
use eda_core::state::pacing::report_period;
use eda_core::state::{Action, LogEntry, Outcome};
use eda_core::trace::service_status::{LastOutcome, ServiceEvent};

use super::Runtime;

impl Runtime {
    /// Records what `service` did for its badge in the flow diagram (in the trace, so the
    /// playback's clock governs it like the packets).
    pub(super) fn record(self: &Rc<Self>, service: ServiceId, event: ServiceEvent) {
        self.trace
            .0
            .borrow_mut()
            .record_service(clock::now(), service, event);
        self.trace_changed.set(true);
        self.report_soon();
    }

    /// A line in `service`'s event log, and its badge's last outcome.
    pub(super) fn log(self: &Rc<Self>, service: ServiceId, entry: LogEntry) {
        self.log_and_show(service, entry, true);
    }

    /// A line in `service`'s event log; the badge shows its outcome when `shown` (a message
    /// accepted that made the service do nothing leaves the badge as it was: a failure stays
    /// on screen though a cancellation follows it).
    pub(super) fn log_and_show(self: &Rc<Self>, service: ServiceId, entry: LogEntry, shown: bool) {
        let outcome = match &entry.outcome {
            Outcome::Accepted
            | Outcome::Duplicate(_)
            | Outcome::Kept(_)
            | Outcome::Lowered(_)
            | Outcome::Note => LastOutcome::Done,
            Outcome::Rejected(reason) | Outcome::Failed(reason) => {
                LastOutcome::Failed(reason.clone())
            }
        };
        if shown {
            self.record(service, ServiceEvent::Outcome(outcome));
        }
        self.tell(Action::Logged(service, entry));
    }

    /// Tells the page, with the next batch.
    pub(super) fn tell(self: &Rc<Self>, action: Action) {
        self.pending.borrow_mut().push(action);
        self.report_soon();
    }

    /// Tells the page at once, with whatever else is pending: a change of a service's
    /// connection, rare under any load, and what a learner watches at start-up. Not from a
    /// timer: at start-up a timer waits behind every socket event and render queued meanwhile
    /// (Yew still renders it after this task, from a microtask).
    pub(super) fn tell_now(self: &Rc<Self>, action: Action) {
        self.pending.borrow_mut().push(action);
        self.report_pending();
    }

    /// Reports at most once a period ([`report_period`]: 100 ms, stretched up to 400 ms while
    /// each report costs the page much to draw, and 400 ms while the page is busy), and at once (from a zero-delay timer) when the
    /// last report is that long ago: a lone change, such as a packet, is shown without waiting
    /// out a period; a burst of messages (100 orders a second is ~1200 actions and ~3000
    /// packets) re-renders once a period.
    pub(super) fn report_soon(self: &Rc<Self>) {
        let period = report_period(self.report_cost.get(), crate::busy::is_busy());
        let wait = self.last_report.get().map_or(Duration::ZERO, |last| {
            (last + period).saturating_sub(clock::now())
        });
        self.schedule_report(wait);
    }

    /// Sends what is pending in `wait`, unless a report is already due by then; a report due
    /// later is brought forward (its timer, when it fires, finds itself replaced).
    fn schedule_report(self: &Rc<Self>, wait: Duration) {
        let due = clock::now() + wait;
        if self
            .report_due
            .get()
            .is_some_and(|scheduled| scheduled <= due)
        {
            return;
        }
        self.report_due.set(Some(due));
        let runtime = Rc::downgrade(self);
        Timeout::new(wait.as_millis() as u32, move || {
            let Some(runtime) = runtime.upgrade() else {
                return;
            };
            if runtime.report_due.get() == Some(due) {
                runtime.report_pending();
            }
        })
        .forget();
    }

    /// Sends what is pending now, in one batch; a report scheduled meanwhile finds itself
    /// replaced and sends nothing.
    fn report_pending(&self) {
        self.report_due.set(None);
        let started = clock::now();
        self.last_report.set(Some(started));
        let mut actions = std::mem::take(&mut *self.pending.borrow_mut());
        if self.trace_changed.replace(false) {
            self.trace.0.borrow_mut().projecting = self.flow.borrow().projection_positions();
            actions.push(Action::TraceChanged);
        }
        if !actions.is_empty() {
            crate::busy::follow(actions.len());
            (self.report)(Action::Batch(actions));
            // Yew renders from a microtask queued by the report; this one is queued after it,
            // so it runs once the render is done.
            let cost = self.report_cost.clone();
            wasm_bindgen_futures::spawn_local(async move {
                cost.set(clock::now().saturating_sub(started));
            });
        }
    }
}

/// A line of a service's own (no message behind it) under `topic`, saying `text`, now.
pub(super) fn note(topic: &str, text: String) -> LogEntry {
    LogEntry {
        at: time_of_day(wall_clock()),
        topic: topic.to_owned(),
        qos: None,
        correlation: None,
        payload: text,
        outcome: Outcome::Note,
    }
}

pub(super) fn problem(topic: &str, reason: String) -> LogEntry {
    LogEntry {
        at: time_of_day(wall_clock()),
        topic: topic.to_owned(),
        qos: None,
        correlation: None,
        payload: String::new(),
        outcome: Outcome::Failed(reason),
    }
}
