//! Dead letters sent back in: a *Retry* of a dead letter's message (perhaps fixed) and a poison
//! message sent on purpose, each only through its gate ([`super::gates`]).

use std::rc::Rc;

use broker_bridge::PublishRequest;

use eda_core::services::acl::publisher_of;
use eda_core::services::retry_gate::{poison_refused, retry_refused};
use eda_core::services::ServiceId;

use super::gates::Held;
use super::Runtime;

impl Runtime {
    /// Publishes a dead letter's message again (perhaps fixed) to its original `topic`, with
    /// the client of the service that publishes it ([`Retry::publisher`]), if the retry gate lets
    /// it through ([`OrderGate::check_retry`]).
    ///
    /// # Errors
    ///
    /// The page's sentence: why nothing was published ([`retry_refused`], which goes by itself
    /// once the retry could go), or why the publish failed.
    ///
    /// [`Retry::publisher`]: eda_core::services::retry_gate::Retry::publisher
    /// [`OrderGate::check_retry`]: eda_core::services::order_gate::OrderGate::check_retry
    pub fn retry_dead_letter(
        self: &Rc<Self>,
        gave_up: ServiceId,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<(), String> {
        if let Err(refusal) = self.retry_gate(gave_up, topic) {
            return Err(self.hold_back(
                retry_refused(&refusal),
                Held::Retry {
                    gave_up,
                    topic: topic.to_owned(),
                },
            ));
        }
        *self.held_back.borrow_mut() = None;
        let by = publisher_of(topic).unwrap_or(gave_up);
        self.publish_raw(by, topic, payload)
            .map_err(|reason| format!("Retry: {reason}"))
    }

    /// Publishes a poison message (an order, `payload` on `orders/created`, by OrderService) if
    /// the order gate lets an order through ([`OrderGate::check`]).
    ///
    /// # Errors
    ///
    /// The page's sentence: why nothing was sent ([`poison_refused`], which goes by itself once
    /// an order could go), or why the publish failed.
    ///
    /// [`OrderGate::check`]: eda_core::services::order_gate::OrderGate::check
    pub fn send_poison(self: &Rc<Self>, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        if let Err(refusal) = self.order_gate() {
            return Err(self.hold_back(poison_refused(&refusal), Held::Poison));
        }
        *self.held_back.borrow_mut() = None;
        self.publish_raw(ServiceId::Order, topic, payload)
            .map_err(|reason| format!("Poison message: {reason}"))
    }

    /// Publishes `payload` to `topic` with `service`'s (first) client at the topic's QoS: a
    /// dead letter's message retried (perhaps fixed), or a poison message sent on purpose, once
    /// their gate let them through ([`Runtime::retry_dead_letter`], [`Runtime::send_poison`]).
    fn publish_raw(&self, service: ServiceId, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        if self.is_crashed(service.into()) {
            return Err(format!("{service} is crashed: restart it first"));
        }
        let qos = self.capped(service.into(), self.qos.get().of(topic));
        let wire = self.namespace.wire(topic);
        let request = PublishRequest::new(wire, payload, qos);
        self.client(service.into())
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| format!("{service} could not publish it: {e}"))
    }
}
