//! The learner's crash and restart of a service (or one of PaymentService's instances): the
//! client dropped without a word of MQTT (the broker publishes its Will), what it had not got
//! acknowledged kept, and published again by the new client under the same client id.

use std::rc::Rc;

use broker_bridge::ws::Client;
use broker_bridge::{Link, PublishRequest};

use crate::clock;
use eda_core::services::instances::Instance;
use eda_core::services::ServiceId;
use eda_core::state::{Action, LogEntry, Outcome};
use eda_core::trace::history::UserAction;
use eda_core::trace::service_status::CRASHED;

use super::clients::{connect, recall, service_options, sign_in, subscribe};
use super::report::{note, problem};
use super::Armed;

/// How a service's log names the client before this one when the page started the services
/// anew (*Sign in*, another broker, another MQTT version, a reload's runtime), not after a crash
/// ([`Runtime::publish_kept`]).
pub(super) const PREVIOUS_CLIENT: &str =
    "its previous connection (the page started the services anew)";
use super::Runtime;

impl Runtime {
    /// Drops the connection of a service (or one of PaymentService's instances) without a word
    /// of MQTT, as a killed process would: the broker publishes its Last Will. Its simulated
    /// work in hand dies with it, however soon it is restarted, and so do the messages it was
    /// waiting to try again (its log says which: they were acknowledged when they arrived, and
    /// its crash line counts the work); its memory (the sagas, the stock, what it processed)
    /// stays, as a database would. A service with other instances running carries on with them.
    pub fn crash(self: &Rc<Self>, instance: Instance) {
        let Some(client) = self.client_of(instance) else {
            return;
        };
        if self.is_crashed(instance) {
            return;
        }
        let in_hand = self.links.borrow().in_hand_of(instance);
        // QueryService's events waiting out the projection delay are its work in hand.
        let projections = if instance.service == ServiceId::Query {
            self.flow.borrow_mut().drop_projections()
        } else {
            0
        };
        let events = self.links.borrow_mut().crash(instance);
        {
            let now = clock::now();
            let mut trace = self.trace.0.borrow_mut();
            trace.record_crash(now, instance, in_hand.len() + projections);
            // For a recording: its packets cannot tell a crash.
            trace
                .actions
                .push(UserAction::Crashed { at: now, instance });
        }
        self.trace_changed.set(true);
        // The charge in its memory is made; the message saying so may not be out yet. What was
        // in flight keeps its packet ids for the restarted client (a process keeps its session
        // state as long as its session lives); what was not sent yet goes as new.
        self.carried
            .borrow_mut()
            .push((instance, client.take_in_flight()));
        self.kept
            .borrow_mut()
            .push((instance, client.unacknowledged()));
        client.abort();
        self.lose_tries_of(instance);
        // Its work in hand dies now, not when its timer falls due: a copy of the message that
        // started it, handled before then (Deliver again, the publisher's), starts it anew
        // rather than finding it still under way (42-AL F9); and a runtime handed the flow
        // over before then (a switch of sessions, version or instances) does not arm it again
        // for a fresh client (a newcomer's break-test: *Crash*, then *Sessions* → clean, and
        // the orders the page called lost were charged).
        let dead: Vec<Armed> = {
            let mut armed = self.armed.borrow_mut();
            let (dead, kept) = std::mem::take(&mut *armed)
                .into_iter()
                .partition(|a| a.worker == instance && a.work.is_busy());
            *armed = kept;
            dead
        };
        if !dead.is_empty() {
            {
                let mut flow = self.flow.borrow_mut();
                for armed in &dead {
                    flow.abandon(&armed.work);
                }
            }
            self.follow_style();
        }
        // Its timers die with it ([`Runtime::arm`] checks its crash count when they fall due).
        // The message named by its topic: under orchestration a command, which the Orders
        // row's Deliver again (an orders/created) does not send (42-AM F1).
        let started_by = self
            .flow
            .borrow()
            .starting_topic(instance.service)
            .map_or_else(|| "the message".to_owned(), |topic| format!("its {topic}"));
        for order_id in in_hand {
            let why = format!(
                "lost with the crash: its work in hand for order {order_id} ({started_by}, which \
                 started it, was acknowledged to the broker when it arrived, so the broker will \
                 not send it again; a copy of that message, by Deliver again on it in the packet \
                 inspector or from its publisher, starts the work anew)"
            );
            self.log(
                instance.service,
                LogEntry {
                    outcome: Outcome::Failed(why),
                    ..note("crash", String::new())
                },
            );
        }
        if projections > 0 {
            let events = if projections == 1 { "event" } else { "events" };
            let why = format!(
                "lost with the crash: {projections} {events} of the store it had received and was \
                 holding for its projection delay (each acknowledged to the broker when it \
                 arrived, so the broker will not send it again); the read model misses them \
                 until Rebuild projects them from the event store"
            );
            self.log(
                instance.service,
                LogEntry {
                    outcome: Outcome::Failed(why),
                    ..note("crash", String::new())
                },
            );
        }
        self.order_gate.borrow_mut().crashed(instance);
        self.relay_left(instance);
        let link = Link::Disconnected {
            url: self.url_of(instance.service),
            reason: broker_bridge::ConnectionError::Stopped(CRASHED.to_owned()),
            retry_in: std::time::Duration::ZERO,
            attempt: 0,
        };
        for event in events {
            self.record(instance.service, event);
        }
        self.tell_now(Action::Link(instance, link));
        // A click: the badge and what depends on it (Rebuild) follow at once.
        self.tell_now(Action::Crashed(instance, clock::now()));
        self.review_order_gate();
    }

    /// Starts a crashed service (or instance) again with a new client under the same client
    /// id: with a persistent session the broker delivers what it queued meanwhile.
    pub fn restart(self: &Rc<Self>, instance: Instance) {
        if !self.is_crashed(instance) {
            return;
        }
        let url = self.url_of(instance.service);
        let restarted = self.links.borrow_mut().restart(instance, &url);
        {
            let now = clock::now();
            let mut trace = self.trace.0.borrow_mut();
            trace.record_restart(now, instance);
            trace
                .actions
                .push(UserAction::Restarted { at: now, instance });
        }
        self.trace_changed.set(true);
        if let Some(event) = restarted {
            self.record(instance.service, event);
        }
        self.order_gate.borrow_mut().restarted(instance);
        let mut options = service_options(
            &self.session_tag,
            instance,
            self.protocol,
            self.session,
            &self.namespace,
        );
        sign_in(&mut options, self.credentials.for_service(instance.service));
        let weak = Rc::downgrade(self);
        // The runtime exists: nothing is reported early.
        let client = connect(&weak, instance, options, &url, &self.report, &Rc::default());
        recall(&self.learned.borrow(), &client, &url);
        let wanted = self.filters_of(instance.service);
        let qos = self.qos.get();
        subscribe(
            instance,
            &client,
            &wanted,
            qos,
            &self.namespace,
            &self.report,
        );
        self.publish_kept(instance, &client, "its crashed client");
        if let Some(slot) = self
            .clients
            .borrow_mut()
            .iter_mut()
            .find(|(i, _)| *i == instance)
        {
            slot.1 = client;
        }
        self.tell_now(Action::Restarted(instance));
        self.review_order_gate();
    }

    /// Publishes again, with `instance`'s new `client`, what its crashed client had not got
    /// acknowledged, and what it decided before the crash that was to go out after it
    /// ([`Runtime::unless_crashed`]), and says so in its log: at least once, so a consumer may
    /// see one twice (and ignores it).
    ///
    /// `old`: the client that had them, as the log names it: `"its crashed client"` after a
    /// *Restart*, [`PREVIOUS_CLIENT`] when the page started the services anew (a newcomer's
    /// break-test read "crashed" after a *Sign in*).
    pub(super) fn publish_kept(self: &Rc<Self>, instance: Instance, client: &Client, old: &str) {
        // In flight on the old client: the new one, under the same client id, sends each again
        // after its CONNACK under the same packet id (a PUBLISH with DUP 1, or the PUBREL of
        // one the broker answered with PUBREC), as the session's own (MQTT §4.4). Published
        // anew, a QoS 2 message reached subscribers twice and the broker kept its old exchange
        // open for good, until its receive quota ran out (newcomers' break-tests, 34-K F5, F6,
        // F9: "Quota exceeded", orders refused, later ones lost).
        let mut topics: Vec<String> = Vec::new();
        for carried in take_of(&self.carried, instance) {
            topics.extend(carried.topics());
            client.adopt_in_flight(carried);
        }
        let resumed = topics.len();
        let kept: Vec<PublishRequest> = take_of(&self.kept, instance).concat();
        if kept.is_empty() && resumed == 0 {
            return;
        }
        let count = kept.len() + resumed;
        topics.extend(kept.iter().map(|r| r.topic.clone()));
        for mut request in kept {
            // Kept by a client of MQTT 5.0 and published by one of 3.1.1 (the page switched
            // *MQTT version* meanwhile): the message is the same without its 5.0 properties,
            // which a 3.1.1 PUBLISH cannot carry (a newcomer's break-test, 33-G F1: refused,
            // the results never went out, and orders that had succeeded were cancelled).
            if self.protocol == broker_bridge::ProtocolVersion::V311 {
                request.properties = broker_bridge::packet::Properties::new();
            }
            if let Err(e) = client.publish_with(request) {
                self.log(instance.service, problem("restart", e.to_string()));
            }
        }
        let ids = match resumed {
            0 => String::new(),
            n if n == count => " (under the same packet ids, as its session's own)".to_owned(),
            n => format!(" ({n} of them under the same packet ids, as its session's own)"),
        };
        let text = format!(
            "published again {count} message{} {old} had not got acknowledged \
             ({}){ids}: at least once, a consumer may see one twice",
            if count == 1 { "" } else { "s" },
            topics.join(", ")
        );
        self.log(instance.service, note("restart", text));
    }

    /// `request`, to publish with `instance`'s client, unless `instance` is crashed: then it is
    /// kept for its *Restart* ([`Runtime::publish_kept`]) and `None` is returned. What a service
    /// decided before its crash can go out after it: an OrderService decision waits for its
    /// events to be in the tab's database, a participant's for its memory (decision 0021), and
    /// the crashed client, aborted, would take the PUBLISH and never send it (a break-test:
    /// OrderService crashed within ~100 ms of the payments, 8 of 10 `orders/confirmed`
    /// never went out, while the page showed the orders completed).
    pub(super) fn unless_crashed(
        &self,
        instance: Instance,
        request: PublishRequest,
    ) -> Option<PublishRequest> {
        if !self.is_crashed(instance) {
            return Some(request);
        }
        self.kept.borrow_mut().push((instance, vec![request]));
        None
    }

    /// Whether the learner crashed `instance` (and has not restarted it).
    pub(super) fn is_crashed(&self, instance: Instance) -> bool {
        self.links.borrow().is_crashed(instance)
    }
}

/// What `all` holds for `instance`, taken out of it in order; the rest stays.
fn take_of<T>(all: &std::cell::RefCell<Vec<(Instance, T)>>, instance: Instance) -> Vec<T> {
    let mut all = all.borrow_mut();
    let (mine, others): (Vec<_>, Vec<_>) = all.drain(..).partition(|(i, _)| *i == instance);
    *all = others;
    mine.into_iter().map(|(_, item)| item).collect()
}
