//! The order gate's and retry gate's use: whether an order, a dead letter's *Retry*, a poison
//! message or a *Deliver again* may go now (from each service's or instance's link or crash),
//! what the gate held back, and telling the page when the gate's answer changes
//! ([`Runtime::review_order_gate`]).

use std::rc::Rc;

use broker_bridge::Link;

use eda_core::services::acl::publisher_of;
use eda_core::services::instances::Instance;
use eda_core::services::order_gate::{OrderLink, OrderRefusal};
use eda_core::services::retry_gate::{check_deliver_again, Retry, RetryRefusal};
use eda_core::services::ServiceId;
use eda_core::state::{Action, SessionMode};

use super::Runtime;

impl Runtime {
    /// Whether OrderService may place an order now ([`OrderGate::check`]): not while it is
    /// crashed or not connected, nor before every service has subscribed once.
    pub(super) fn order_gate(&self) -> Result<(), OrderRefusal> {
        let order = self.link_state(ServiceId::Order);
        self.order_gate
            .borrow()
            .check(self.subscribed_style.get(), order.as_link())
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

    /// Whether a dead letter of `gave_up` on `topic` may be published again now
    /// ([`OrderGate::check_retry`]).
    pub(super) fn retry_gate(&self, gave_up: ServiceId, topic: &str) -> Result<(), RetryRefusal> {
        let retry_by = self.link_state(publisher_of(topic).unwrap_or(gave_up));
        let gave_up_state = self.link_state(gave_up);
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

    /// Whether `instance`'s client may publish a traced PUBLISH once more now
    /// ([`check_deliver_again`]).
    pub(super) fn deliver_again_gate(&self, instance: Instance) -> Result<(), OrderRefusal> {
        check_deliver_again(self.instance_state(instance).as_link())
    }

    /// Remembers what was refused (`held`) and its `sentence`, which
    /// [`Runtime::review_order_gate`] takes back once it could go; returns the sentence.
    pub(super) fn hold_back(&self, sentence: String, held: Held) -> String {
        *self.held_back.borrow_mut() = Some(HeldBack {
            sentence: sentence.clone(),
            held,
        });
        sentence
    }

    /// Looks at the order gate again after a change it depends on, and tells the page if its
    /// answer changed (once orders can be placed, the form's refusal is out of date and goes;
    /// so does the sentence of a retry, poison message or *Deliver again* held back that could
    /// go now).
    pub(super) fn review_order_gate(self: &Rc<Self>) {
        let passes = self
            .held_back
            .borrow()
            .as_ref()
            .map(|held| match &held.held {
                Held::Retry { gave_up, topic } => self.retry_gate(*gave_up, topic).is_ok(),
                Held::Poison => self.order_gate().is_ok(),
                Held::DeliverAgain(instance) => self.deliver_again_gate(*instance).is_ok(),
            });
        if passes == Some(true) {
            if let Some(held) = self.held_back.borrow_mut().take() {
                self.tell_now(Action::RedeliveryRefusalOutdated(held.sentence));
            }
        }
        // What a reload found owed goes out once orders could.
        self.publish_owed();
        let now = self.order_gate().err().map(|refusal| refusal.cause());
        if self.gate_told.borrow().as_ref() == Some(&now) {
            return;
        }
        *self.gate_told.borrow_mut() = Some(now.clone());
        self.tell_now(Action::OrderGate(now));
    }
}

/// A service's state for the gates: `None` while crashed, else its link.
struct LinkState(Option<Link>);

impl LinkState {
    fn as_link(&self) -> OrderLink<'_> {
        self.0.as_ref().map_or(OrderLink::Crashed, OrderLink::Up)
    }
}

/// What the gate held back, and what the page was told.
pub(super) struct HeldBack {
    sentence: String,
    held: Held,
}

impl HeldBack {
    /// The same, for a runtime that runs `instances`: a *Deliver again* by an instance no
    /// longer run waits for its service's first instance.
    pub(super) fn for_instances(self, instances: &[Instance]) -> Self {
        let held = match self.held {
            Held::DeliverAgain(instance) if !instances.contains(&instance) => {
                Held::DeliverAgain(instance.service.into())
            }
            held => held,
        };
        HeldBack { held, ..self }
    }
}

/// What the gate held back: the page's sentence goes once it could go.
pub(super) enum Held {
    /// A *Retry* of `gave_up`'s dead letter on `topic`.
    Retry { gave_up: ServiceId, topic: String },
    /// A poison message (an order).
    Poison,
    /// A *Deliver again* by this instance's client.
    DeliverAgain(Instance),
}
