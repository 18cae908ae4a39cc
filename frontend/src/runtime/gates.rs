//! The order gate's and retry gate's use: whether an order, a dead letter's *Retry*, a poison
//! message or a *Deliver again* may go now (from each service's or instance's link or crash),
//! what the gate held back, and telling the page when the gate's answer changes
//! ([`Runtime::review_order_gate`]).

use std::rc::Rc;
use std::time::Duration;

use broker_bridge::Link;
use gloo::timers::callback::Timeout;

use eda_core::services::acl::publisher_of;
use eda_core::services::instances::Instance;
use eda_core::services::order_gate::{
    as_the_others_found, said_again, still_true, OrderLink, OrderRefusal,
};
use eda_core::services::refusal_shown::{fate, Fate};
use eda_core::services::retry_gate::{Retry, RetryRefusal};
use eda_core::services::ServiceId;
use eda_core::state::{Action, SessionMode};

use super::Runtime;
use crate::clock;

impl Runtime {
    /// Whether OrderService may publish for the order flow now ([`OrderGate::check`]): not
    /// while it is crashed or not connected, nor before every service has subscribed once. What
    /// belongs to the sagas in flight (a reload's owed messages) asks this; a new order asks
    /// [`Runtime::new_order_gate`].
    pub(super) fn order_gate(&self) -> Result<(), OrderRefusal> {
        let order = self.link_state(ServiceId::Order);
        self.order_gate
            .borrow()
            .check(self.subscribed_style.get(), order.as_link())
    }

    /// How many sagas have not ended ([`Flow::sagas_in_flight`]): an order open, a payment or
    /// reservation in hand, or a cancelled order's charge or reservation not yet undone. What
    /// stopping the services now would leave half-done.
    ///
    /// [`Flow::sagas_in_flight`]: eda_core::services::Flow::sagas_in_flight
    pub fn sagas_in_flight(&self) -> usize {
        self.flow.borrow().sagas_in_flight()
    }

    /// Whether OrderService may place a new order (a new saga) now
    /// ([`OrderGate::check_new_order`]): [`Runtime::order_gate`], and not while a coordination
    /// switch waits for the sagas in flight ([`Flow::style_waiting`]).
    ///
    /// [`OrderGate::check_new_order`]: eda_core::services::order_gate::OrderGate::check_new_order
    /// [`Flow::style_waiting`]: eda_core::services::Flow::style_waiting
    pub(super) fn new_order_gate(&self) -> Result<(), OrderRefusal> {
        // Held until the tab's database is read back, the order would go out late: say so
        // rather than "published" (36-Q F5).
        let reading = self
            .keeper
            .as_ref()
            .is_some_and(|keeper| keeper.is_reading());
        let order = self.link_state(ServiceId::Order);
        let switching = self.flow.borrow().style_waiting();
        self.order_gate
            .borrow()
            .check_new_order(
                self.subscribed_style.get(),
                switching,
                reading,
                order.as_link(),
            )
            .map_err(|refusal| {
                // Its first try still opening: what the others found at the same broker
                // (43-AP F1).
                let others: Vec<LinkState> = ServiceId::ALL
                    .into_iter()
                    .filter(|service| *service != ServiceId::Order)
                    .map(|service| self.link_state(service))
                    .collect();
                let others: Vec<OrderLink<'_>> = others.iter().map(LinkState::as_link).collect();
                as_the_others_found(refusal, order.as_link(), &others)
            })
    }

    /// `service`'s (first instance's) state as the gates need it: crashed, or its link.
    fn link_state(&self, service: ServiceId) -> LinkState {
        self.instance_state(Instance::from(service))
    }

    /// `instance`'s state as the gates need it: crashed, or its link.
    fn instance_state(&self, instance: Instance) -> LinkState {
        let links = self.links.borrow();
        if links.is_crashed(instance) {
            return LinkState(None);
        }
        // Before its client's first report the link names no URL yet.
        let reported = links
            .link_of(instance)
            .filter(|link| !link.url().is_empty());
        LinkState(Some(
            reported
                .cloned()
                .unwrap_or_else(|| Link::starting(self.url_of(instance.service))),
        ))
    }

    /// `service`'s state as the gates need it when it runs several instances: the first
    /// running instance's, crashed only when every one is (one subscribed member of its
    /// shared subscription group is enough to reach it).
    fn service_state(&self, service: ServiceId) -> LinkState {
        let running = self
            .clients
            .borrow()
            .iter()
            .map(|(instance, _)| *instance)
            .find(|i| i.service == service && !self.is_crashed(*i));
        running.map_or(LinkState(None), |instance| self.instance_state(instance))
    }

    /// Whether a dead letter of `gave_up` on `topic` may be published again now
    /// ([`OrderGate::check_retry`]).
    pub(super) fn retry_gate(&self, gave_up: ServiceId, topic: &str) -> Result<(), RetryRefusal> {
        let retry_by = self.link_state(publisher_of(topic).unwrap_or(gave_up));
        let gave_up_state = self.service_state(gave_up);
        let retry = Retry {
            topic,
            gave_up,
            gave_up_link: gave_up_state.as_link(),
            publisher_link: retry_by.as_link(),
            sessions_kept: self.session == SessionMode::Persistent,
        };
        self.order_gate
            .borrow()
            .check_retry(self.subscribed_style.get(), &retry)
    }

    /// Whether `instance`'s client may publish a traced PUBLISH on `topic` (without the
    /// namespace) once more now ([`OrderGate::check_deliver_again`]).
    pub(super) fn deliver_again_gate(
        &self,
        instance: Instance,
        topic: &str,
    ) -> Result<(), RetryRefusal> {
        let by = self.instance_state(instance);
        let service = self.service_state(instance.service);
        let again = Retry {
            topic,
            gave_up: instance.service,
            gave_up_link: service.as_link(),
            publisher_link: by.as_link(),
            sessions_kept: self.session == SessionMode::Persistent,
        };
        self.order_gate
            .borrow()
            .check_deliver_again(self.subscribed_style.get(), instance, &again)
    }

    /// Remembers what was refused (`held`) and its `sentence`, shown now, which
    /// [`Runtime::review_order_gate`] takes back once it could go and has been readable long
    /// enough ([`fate`]); returns the sentence.
    pub(super) fn hold_back(&self, sentence: String, held: Held) -> String {
        *self.held_back.borrow_mut() = Some(HeldBack {
            sentence: sentence.clone(),
            held,
            shown_at: clock::now(),
            timer: None,
        });
        sentence
    }

    /// Looks at the order gate again after a change it depends on, and tells the page if its
    /// answer changed (once orders can be placed, the form's refusal is out of date and goes;
    /// so does the sentence of a retry, poison message or *Deliver again* held back that could
    /// go now, once shown for [`READABLE_FOR`]: a timer asks again then).
    ///
    /// [`READABLE_FOR`]: eda_core::services::refusal_shown::READABLE_FOR
    pub(super) fn review_order_gate(self: &Rc<Self>) {
        let now = clock::now();
        let held_fate = self.held_back.borrow().as_ref().map(|held| {
            let passes = match &held.held {
                Held::Retry { gave_up, topic } => self.retry_gate(*gave_up, topic).is_ok(),
                Held::Poison => self.new_order_gate().is_ok(),
                Held::DeliverAgain(instance, topic) => {
                    self.deliver_again_gate(*instance, topic).is_ok()
                }
            };
            fate(held.shown_at, passes, now)
        });
        match held_fate {
            Some(Fate::GoesNow) => {
                let held = self.held_back.borrow_mut().take();
                if let Some(held) = held {
                    self.tell_now(Action::RedeliveryRefusalOutdated(held.sentence));
                }
            }
            Some(Fate::GoesAt(due)) => self.review_at(due - now),
            Some(Fate::Stays) | None => {}
        }
        // What a reload found owed goes out once orders could.
        self.publish_owed();
        let refusal = self.new_order_gate().err();
        // Read back: look again (the keeper runs what waited for it then).
        if refusal == Some(OrderRefusal::ReadingDatabase) && !self.gate_after_read.replace(true) {
            if let Some(keeper) = &self.keeper {
                let runtime = Rc::downgrade(self);
                keeper.hold_while_reading(Box::new(move || {
                    if let Some(runtime) = runtime.upgrade() {
                        runtime.review_order_gate();
                    }
                }));
            }
        }
        self.review_form_refusal(refusal.as_ref());
        let now = refusal.map(|refusal| refusal.cause());
        if self.gate_told.borrow().as_ref() == Some(&now) {
            return;
        }
        // Opened: a refusal of the form this runtime did not make (before it ran) goes now.
        if now.is_none() && self.form_refusal.borrow().0.is_none() {
            self.tell_now(Action::FormRefusalOutdated);
        }
        *self.gate_told.borrow_mut() = Some(now.clone());
        self.tell_now(Action::OrderGate(now));
    }

    /// The form's refusal was shown now, saying the gate's `refusal` (`None`: no gate made
    /// it) of `asked` orders after `placed` went out; or `None`: an order went out, or the
    /// refusal is gone.
    pub(super) fn form_refused(&self, shown: Option<(Option<OrderRefusal>, usize, usize)>) {
        *self.form_refusal.borrow_mut() = (
            shown.map(|(refusal, asked, placed)| (clock::now(), refusal, (asked, placed))),
            None,
        );
    }

    /// The form's refusal, out of date once the gate says `gate_now` (open, or shut for
    /// another cause: [`still_true`]), goes once it has been readable for [`READABLE_FOR`] (a
    /// newcomer's break-test, 36-R F5: a click refused 100 ms before the services were ready
    /// left a sentence that flashed and vanished, and the click seemed to do nothing); a timer
    /// looks again then. A refusal that said the database was being read back stayed after it
    /// had been, while a service had not subscribed yet (CI, stop 45).
    ///
    /// [`READABLE_FOR`]: eda_core::services::refusal_shown::READABLE_FOR
    ///
    /// Still true but with other figures ("the 3 sagas in flight", now 1; two services not
    /// subscribed, now one), it is said again with them (40-AF F4: the sentence kept the count
    /// of the click while the note beside it counted down); shut now for a cause waiting does
    /// not end (the broker found unreachable after "still connecting"), it says that cause at
    /// once ([`said_again`], 42-AM F3).
    fn review_form_refusal(self: &Rc<Self>, gate_now: Option<&OrderRefusal>) {
        let (shown_at, true_now, moved) = match &self.form_refusal.borrow().0 {
            Some((shown_at, said, counts)) => {
                let moved = said_again(said.as_ref(), gate_now).map(|now| {
                    let new_kind = said.as_ref().map(std::mem::discriminant)
                        != Some(std::mem::discriminant(&now));
                    (now, *counts, new_kind)
                });
                let true_now = moved.is_some() || still_true(said.as_ref(), gate_now);
                (*shown_at, true_now, moved)
            }
            None => return,
        };
        let mut shown_at = shown_at;
        if let Some((refusal, (asked, placed), new_kind)) = moved {
            let sentence =
                eda_core::services::order::orders_refused(&refusal.cause(), asked, placed);
            if let Some(shown) = self.form_refusal.borrow_mut().0.as_mut() {
                shown.1 = Some(refusal.clone());
                // Another cause is another sentence to read: readable from now.
                if new_kind {
                    shown.0 = clock::now();
                    shown_at = shown.0;
                }
            }
            self.tell_now(Action::OrderRefused(format!(
                "{sentence}{}",
                refusal.advice()
            )));
        }
        let now = clock::now();
        match fate(shown_at, !true_now, now) {
            Fate::GoesNow => {
                self.form_refused(None);
                self.tell_now(Action::FormRefusalOutdated);
            }
            Fate::GoesAt(due) => {
                if self.form_refusal.borrow().1.is_some() {
                    return;
                }
                let runtime = Rc::downgrade(self);
                let millis = u32::try_from((due - now).as_millis()).unwrap_or(u32::MAX);
                self.form_refusal.borrow_mut().1 = Some(Timeout::new(millis, move || {
                    if let Some(runtime) = runtime.upgrade() {
                        runtime.form_refusal.borrow_mut().1 = None;
                        // Still out of date? It goes; true again, it stays.
                        let gate_now = runtime.new_order_gate().err();
                        runtime.review_form_refusal(gate_now.as_ref());
                    }
                }));
            }
            Fate::Stays => {}
        }
    }

    /// Arms the held-back refusal's one timer to look at the gate again `after` now (a timer
    /// armed already stays: it fires no later).
    fn review_at(self: &Rc<Self>, after: Duration) {
        let mut held = self.held_back.borrow_mut();
        let Some(held) = held.as_mut().filter(|held| held.timer.is_none()) else {
            return;
        };
        let runtime = Rc::downgrade(self);
        let millis = u32::try_from(after.as_millis()).unwrap_or(u32::MAX);
        held.timer = Some(Timeout::new(millis, move || {
            if let Some(runtime) = runtime.upgrade() {
                if let Some(held) = runtime.held_back.borrow_mut().as_mut() {
                    held.timer = None;
                }
                runtime.review_order_gate();
            }
        }));
    }
}

/// A service's state for the gates: `None` while crashed, else its link.
struct LinkState(Option<Link>);

impl LinkState {
    fn as_link(&self) -> OrderLink<'_> {
        self.0.as_ref().map_or(OrderLink::Crashed, OrderLink::Up)
    }
}

/// What the gate held back, and what the page was told when (packets' clock).
pub(super) struct HeldBack {
    sentence: String,
    held: Held,
    shown_at: Duration,
    /// Looks at the gate again once the sentence has been readable long enough; dropped with it.
    timer: Option<Timeout>,
}

impl HeldBack {
    /// The same, for a runtime that runs `instances`: a *Deliver again* by an instance no
    /// longer run waits for its service's first instance. The old runtime's timer does not
    /// come along: the new runtime's first look at the gate arms its own.
    pub(super) fn for_instances(self, instances: &[Instance]) -> Self {
        let held = match self.held {
            Held::DeliverAgain(instance, topic) if !instances.contains(&instance) => {
                Held::DeliverAgain(instance.service.into(), topic)
            }
            held => held,
        };
        HeldBack {
            held,
            timer: None,
            ..self
        }
    }
}

/// What the gate held back: the page's sentence goes once it could go.
pub(super) enum Held {
    /// A *Retry* of `gave_up`'s dead letter on `topic`.
    Retry { gave_up: ServiceId, topic: String },
    /// A poison message (an order).
    Poison,
    /// A *Deliver again* by this instance's client, on this topic (without the namespace).
    DeliverAgain(Instance, String),
}
