//! A message a service received: handled by its decision, logged, tried again after a failing
//! handler, or published to the service's dead letters once it gives up ([`next_step`]). A
//! message waiting for its next try is kept in the runtime's [`PendingTries`], not only in its
//! timer: a runtime replaced by another hands it over, and a crash logs it as lost. It is kept
//! in the tab's database too, under one key from its first failure to its end (processed,
//! dead-lettered, or lost with a crash), so a reload tries it again when due
//! ([`Runtime::resume_tries`]).
//!
//! [`PendingTries`]: eda_core::services::pending_tries::PendingTries

use std::rc::Rc;
use std::time::Duration;

use broker_bridge::ws::Client;
use broker_bridge::{DeliveryToken, QoS};

use crate::clock::{time_of_day, wall_clock};
use eda_core::services::dead_letter::{
    deadletter_topic, next_step, DeadLetter, Step, MAX_ATTEMPTS,
};
use eda_core::services::instances::Instance;
use eda_core::services::pending_tries::{PendingTry, Received};
use eda_core::services::{Command, Rejection, RejectionKind, ServiceId};
use eda_core::state::{LogEntry, Outcome};
use eda_core::store::StoredEvent;
use eda_core::trace::dead_letters::KeptDeadLetter;

use super::report::problem;
use super::Runtime;

/// How the broker delivered a PUBLISH: its RETAIN and DUP flags (MQTT 3.1.1 and 5.0 §3.3.1),
/// and, for a client that answers only once a message is safe ([`Options::manual_acks`]), the
/// answer it owes.
///
/// [`Options::manual_acks`]: broker_bridge::Options::manual_acks
#[derive(Clone)]
pub(super) struct Delivery {
    /// RETAIN: a retained copy, sent because of a subscription.
    pub retained: bool,
    /// DUP: the broker sent it before (a redelivery after a reconnection).
    pub redelivered: bool,
    /// The client it came to and its token: the PUBACK or PUBREC goes once what the message
    /// led to is in the tab's database ([`Runtime::answer_when_kept`]).
    pub answer: Option<(Client, DeliveryToken)>,
}

impl Runtime {
    pub(super) fn on_message(
        self: &Rc<Self>,
        instance: Instance,
        topic: &str,
        qos: QoS,
        correlation: Option<String>,
        payload: &[u8],
        delivery: Delivery,
    ) {
        let (retained, redelivered) = (delivery.retained, delivery.redelivered);
        // Before the tab's database is read back, the services would decide without what they
        // remembered: the message waits (a persistent session delivers at CONNACK).
        if let Some(keeper) = self.keeper.as_ref().filter(|k| k.is_reading()) {
            let runtime = Rc::downgrade(self);
            let (topic, payload) = (topic.to_owned(), payload.to_vec());
            keeper.hold_while_reading(Box::new(move || {
                if let Some(runtime) = runtime.upgrade().filter(|r| !r.closed.get()) {
                    runtime.on_message(instance, &topic, qos, correlation, &payload, delivery);
                }
            }));
            return;
        }
        if instance.service == ServiceId::Order && topic == eda_core::domain::topics::ORDERS_CREATED
        {
            self.awaiting_echo
                .borrow_mut()
                .remove(&super::echo_key(payload));
        }
        let message = Received {
            instance,
            topic: topic.to_owned(),
            qos,
            correlation,
            payload: payload.to_vec(),
        };
        // A retained copy (sent because of a subscription) is old news: logged, not processed.
        let copy = retained.then(|| Rejection::retained_copy(&self.namespace.wire(topic)));
        self.handle_message(message, 1, None, copy, redelivered);
        self.answer_when_kept(delivery.answer);
    }

    /// Sends the broker the answer `answer` names (the PUBACK or PUBREC of a message a
    /// service's client received in a persistent session, [`Options::manual_acks`]) once every
    /// event appended so far, the message's own among them, is in the tab's database, and every
    /// memo given so far (a participant's memory of what the message changed: a charge, a
    /// reservation sold or released; OrderService's message kept until its order's creation
    /// arrives): a reload before that finds the message still owed by the broker, which sends
    /// it again to the persistent session, instead of an order on the wire that OrderService
    /// never stored (an order charged and reserved for good, with no outcome), or an outcome
    /// InventoryService heard and forgot (its units held for good). Work a message started and
    /// has not finished (a charge that takes `payment_ms`) is not waited for: the message is
    /// answered, and a crash loses that work (the crash lesson). At once when the page keeps
    /// nothing.
    ///
    /// [`Options::manual_acks`]: broker_bridge::Options::manual_acks
    fn answer_when_kept(&self, answer: Option<(Client, DeliveryToken)>) {
        let Some((client, token)) = answer else {
            return;
        };
        match &self.keeper {
            Some(keeper) => {
                // What the message changed in the participants' memory, and a message kept until
                // its order's creation arrives (OrderService's memo,
                // [`eda_core::services::durable::Memo::early`]): written now, and committed
                // before the answer too, so a reload does not lose it (break-test 33-H F3).
                keeper.keep_memos(self.flow.borrow_mut().take_changed());
                let memos = keeper.clone();
                keeper.after_kept(Box::new(move || {
                    memos.after_memos(Box::new(move || client.acknowledge(token)));
                }));
            }
            None => client.acknowledge(token),
        }
    }

    /// Handles a message on its `attempt`-th try: processed, or logged, retried after a
    /// failing handler, or published to the service's dead letters ([`next_step`]). `kept`: the
    /// key the tab's database keeps it under since its first failure (`None` on its first try).
    /// `refused`: the service's answer decided before its handler (a retained copy).
    /// `redelivered`: the PUBLISH carried the DUP flag, which a duplicate's log line explains
    /// ([`Rejection::delivered`]).
    pub(super) fn handle_message(
        self: &Rc<Self>,
        message: Received,
        attempt: u32,
        kept: Option<String>,
        refused: Option<Rejection>,
        redelivered: bool,
    ) {
        let (instance, service) = (message.instance, message.instance.service);
        let retained_copy = refused.is_some();
        let decision = match (refused, wall_clock()) {
            (Some(refusal), _) => Err(refusal),
            (None, Some(now)) => {
                let decision =
                    self.flow
                        .borrow_mut()
                        .handle(service, now, &message.topic, &message.payload);
                self.follow_style();
                decision.map_err(|r| r.delivered(redelivered))
            }
            (None, None) => Err(Rejection::new("the browser clock is out of range")),
        };
        let rejection = decision.as_ref().err();
        let retry_after = self.flow.borrow().settings.retry_after;
        let step = rejection.map(|r| next_step(r.kind, attempt, retry_after));
        let outcome = match (&decision, step) {
            (Ok(_), _) => Outcome::Accepted,
            (Err(r), _) if r.is_duplicate() => Outcome::Duplicate(r.reason.clone()),
            (Err(r), _) if r.kind == RejectionKind::Early => Outcome::Kept(r.reason.clone()),
            (Err(r), Some(Step::Retry { .. })) => Outcome::Failed(format!(
                "{} (attempt {attempt} of {MAX_ATTEMPTS}; trying again)",
                r.reason
            )),
            (Err(r), Some(Step::DeadLetter)) => {
                let topic = self.namespace.wire(&deadletter_topic(service));
                Outcome::Rejected(match self.dead_letter(&message, &r.reason, attempt) {
                    Ok(()) => format!("{} (attempt {attempt}; sent to {topic})", r.reason),
                    Err(why) => format!(
                        "{} (attempt {attempt}; kept in the Dead letters panel, but not sent \
                         to {topic}: {why})",
                        r.reason
                    ),
                })
            }
            (Err(r), _) => Outcome::Rejected(r.reason.clone()),
        };
        // A duplicate ignored, like a message that asked for nothing, leaves the badge as it was
        // (unless its answer goes again).
        let did_something = match &decision {
            // Busy work started (a charge, a reservation): the badge shows it working once its
            // timer is armed (after the participant's memory is kept, decision 0021), then
            // done. A "done" now came before the work, a frame of "✓ done" ahead of "working"
            // (seen in a clean clone).
            Ok(commands)
                if commands
                    .iter()
                    .any(|c| matches!(c, Command::Schedule { work, .. } if work.is_busy())) =>
            {
                false
            }
            // QueryService's projection changes its read model and publishes nothing.
            Ok(commands) => !commands.is_empty() || service == ServiceId::Query,
            Err(rejection) => !rejection.is_duplicate() || !rejection.answer_again.is_empty(),
        };
        self.log_and_show(
            service,
            LogEntry {
                at: time_of_day(wall_clock()),
                topic: message.topic.clone(),
                qos: Some(message.qos),
                correlation: message.correlation.clone(),
                payload: String::from_utf8_lossy(&message.payload).into_owned(),
                outcome,
            },
            did_something,
        );
        // QueryService projected the event at once (no delay): applied, or held until the
        // version it follows arrives. The page's copy projects it too, so it holds and
        // releases the same events and stays equal to QueryService's.
        let projected = match &decision {
            Ok(commands) => commands.is_empty(),
            Err(rejection) => rejection.kind == RejectionKind::Early,
        };
        if service == ServiceId::Query && projected {
            if let Ok(event) = StoredEvent::decode_on(&message.topic, &message.payload) {
                let flow = self.flow.borrow();
                self.trace
                    .0
                    .borrow_mut()
                    .project(&event, flow.order.store());
            }
        }
        // An event its read model refused (one no store holds, e.g. a version after the
        // order's end) is only in QueryService's log, which the page does not show: the Read
        // model panel's lag line says it too. A retained copy is not one (its refusal is not
        // the read model's).
        let refused = match &decision {
            Err(r) if r.kind == RejectionKind::Refused && !retained_copy => Some(&r.reason),
            _ => None,
        };
        if let (ServiceId::Query, Some(reason)) = (service, refused) {
            if let Ok(event) = StoredEvent::decode_on(&message.topic, &message.payload) {
                let ours = self.flow.borrow().order.store().holds(&event);
                self.trace
                    .0
                    .borrow_mut()
                    .not_projected
                    .refused(&event, reason, ours);
                self.trace_changed.set(true);
                self.report_soon();
            }
        }
        match (decision, step) {
            (Err(_), Some(Step::Retry { after })) => {
                return self.try_again(message, attempt + 1, after, kept)
            }
            (Ok(commands), _) => self.run(instance, commands),
            // Kept and published above, before its log line says where it went.
            (Err(_), Some(Step::DeadLetter)) => {}
            // A copy of a compensation answered before: the answer goes again.
            (Err(rejection), _) if !rejection.answer_again.is_empty() => {
                self.run(instance, rejection.answer_again)
            }
            // Nothing to do, but what it processed may be a participant's to keep.
            _ if service != ServiceId::Order => self.run(instance, Vec::new()),
            _ => {}
        }
        // Its end, after what it led to (a dead letter kept first: a reload in between finds
        // the try again, and its dead letter goes twice rather than not at all).
        if let (Some(key), Some(keeper)) = (kept, &self.keeper) {
            keeper.forget_pending_try(&key);
        }
    }

    /// Keeps `message` for its `attempt`-th try, `after` now, in the tab's database too (under
    /// `kept`, the key of its earlier try, or a new one), and arms its timer.
    fn try_again(
        self: &Rc<Self>,
        message: Received,
        attempt: u32,
        after: Duration,
        kept: Option<String>,
    ) {
        let Some(now) = wall_clock() else {
            let reason = format!(
                "not tried again (try {attempt} of {MAX_ATTEMPTS}): the browser clock is out of range"
            );
            self.log(message.instance.service, problem(&message.topic, reason));
            if let (Some(key), Some(keeper)) = (kept, &self.keeper) {
                keeper.forget_pending_try(&key);
            }
            return;
        };
        let key = kept.unwrap_or_else(|| crate::clock::fresh_id().to_string());
        let id = self
            .pending_tries
            .borrow_mut()
            .schedule(now, after, message, attempt, key);
        if let (Some(pending), Some(keeper)) = (self.pending_tries.borrow().get(id), &self.keeper) {
            keeper.keep_pending_try(pending);
        }
        self.arm_try(id, after);
    }

    /// Arms the timer of the try kept under `id` in the runtime's pending tries, due `after` now:
    /// it takes the try back then, unless it is gone (lost with a crash, handed over to another
    /// runtime).
    fn arm_try(self: &Rc<Self>, id: u64, after: Duration) {
        self.later(after, move |runtime| {
            let taken = runtime.pending_tries.borrow_mut().take(id);
            if let Some(pending) = taken {
                runtime.handle_message(
                    pending.message,
                    pending.attempt,
                    Some(pending.key),
                    None,
                    false,
                );
            }
        });
    }

    /// Goes on with `tries`, each when due: handed over by the runtime this one replaces, or
    /// read back from the tab's database after a reload. An instance no longer run hands its
    /// tries to the service's first instance; a try made before the clients are connected
    /// publishes into their offline queues.
    pub(super) fn resume_tries(self: &Rc<Self>, tries: Vec<PendingTry>) {
        let now = wall_clock();
        for mut pending in tries {
            let message = &mut pending.message;
            if self.client_of(message.instance).is_none() {
                message.instance = message.instance.service.into();
            }
            let left = now.map_or(0, |now| {
                (pending.due.unix_millis() - now.unix_millis()).max(0)
            });
            let id = self.pending_tries.borrow_mut().keep(pending);
            self.arm_try(id, Duration::from_millis(left as u64));
        }
    }

    /// The tab's database kept `tries` across a reload: each service's log says which, and
    /// each is tried when due (`Runtime::resume_tries`).
    pub fn restore_tries(self: &Rc<Self>, tries: Vec<PendingTry>) {
        for pending in &tries {
            self.log_try(pending, Outcome::Kept(pending.kept_across_reload()));
        }
        self.resume_tries(tries);
    }

    /// Logs what became of `pending` (`outcome`) in its service's log.
    fn log_try(self: &Rc<Self>, pending: &PendingTry, outcome: Outcome) {
        let entry = LogEntry {
            at: time_of_day(wall_clock()),
            topic: pending.message.topic.clone(),
            qos: Some(pending.message.qos),
            correlation: pending.message.correlation.clone(),
            payload: String::from_utf8_lossy(&pending.message.payload).into_owned(),
            outcome,
        };
        self.log(pending.message.instance.service, entry);
    }

    /// `instance` crashed: the messages it was waiting to try again die with it (they were
    /// acknowledged when they arrived, so the broker will not send them again); its log says
    /// which ([`PendingTry::lost_with_crash`]).
    ///
    /// [`PendingTry::lost_with_crash`]: eda_core::services::pending_tries::PendingTry::lost_with_crash
    pub(super) fn lose_tries_of(self: &Rc<Self>, instance: Instance) {
        let lost = self.pending_tries.borrow_mut().crashed(instance);
        for pending in lost {
            if let Some(keeper) = &self.keeper {
                keeper.forget_pending_try(&pending.key);
            }
            self.log_try(&pending, Outcome::Failed(pending.lost_with_crash()));
        }
    }

    /// Publishes `message` to its service's dead letters, with why and how many tries, and
    /// keeps it in the Dead letters panel (and the tab's database) whether or not the broker
    /// took it.
    ///
    /// # Errors
    ///
    /// Why it is not on the wire: the client refused the PUBLISH (e.g. larger than the
    /// broker's Maximum Packet Size, which the page's warnings then name too), or the browser
    /// clock is out of range (nothing kept).
    fn dead_letter(
        self: &Rc<Self>,
        message: &Received,
        reason: &str,
        attempts: u32,
    ) -> Result<(), String> {
        let Some(now) = wall_clock() else {
            return Err("the browser clock is out of range".to_owned());
        };
        let service = message.instance.service;
        let letter = DeadLetter::of_message(
            service,
            &message.topic,
            &message.payload,
            reason,
            attempts,
            now,
        );
        // Kept whether or not the broker takes it: a dead letter is never lost for its size.
        let kept = KeptDeadLetter {
            id: crate::clock::fresh_id().to_string(),
            service,
            letter,
            unpublished: false,
            refused: None,
        };
        let published = self.publish_dead_letter(message.instance, &kept);
        if let Err(e) = &published {
            self.warn_if_too_large(&deadletter_topic(service), e);
        }
        match &self.keeper {
            Some(_) => self.tell(eda_core::state::Action::DeadLetterKept(kept)),
            None => self.keep_dead_letter(kept),
        }
        published.map(|_| ()).map_err(|e| e.to_string())
    }
}
