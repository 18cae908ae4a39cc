//! The order gate's and retry gate's use: whether an order, a dead letter's *Retry* or a
//! poison message may go now (from each service's link or crash), what the gate held back, and
//! telling the page when the gate's answer changes ([`Runtime::review_order_gate`]).

use std::rc::Rc;

use broker_bridge::Link;

use eda_core::services::acl::publisher_of;
use eda_core::services::instances::Instance;
use eda_core::services::order_gate::{OrderLink, OrderRefusal};
use eda_core::services::retry_gate::{Retry, RetryRefusal};
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
        let instance = Instance::from(service);
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
                .unwrap_or_else(|| Link::starting(self.url_of(service))),
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

    /// Remembers a refused retry (`Some((gave_up, topic))`) or poison message (`None`) and its
    /// `sentence`, which [`Runtime::review_order_gate`] takes back once it could go; returns
    /// the sentence.
    pub(super) fn hold_back(&self, sentence: String, retry: Option<(ServiceId, &str)>) -> String {
        *self.held_back.borrow_mut() = Some(HeldBack {
            sentence: sentence.clone(),
            retry: retry.map(|(gave_up, topic)| (gave_up, topic.to_owned())),
        });
        sentence
    }

    /// Looks at the order gate again after a change it depends on, and tells the page if its
    /// answer changed (once orders can be placed, the form's refusal is out of date and goes;
    /// so does the sentence of a retry or poison message held back that could go now).
    pub(super) fn review_order_gate(self: &Rc<Self>) {
        let passes = self
            .held_back
            .borrow()
            .as_ref()
            .map(|held| match &held.retry {
                Some((gave_up, topic)) => self.retry_gate(*gave_up, topic).is_ok(),
                None => self.order_gate().is_ok(),
            });
        if passes == Some(true) {
            if let Some(held) = self.held_back.borrow_mut().take() {
                self.tell_now(Action::RedeliveryRefusalOutdated(held.sentence));
            }
        }
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

/// A *Retry* (of `retry`'s service's dead letter on its topic) or a poison message (`None`) the
/// gate held back, and what the page was told.
pub(super) struct HeldBack {
    sentence: String,
    retry: Option<(ServiceId, String)>,
}
