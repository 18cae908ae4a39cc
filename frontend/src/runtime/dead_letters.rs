//! Dead letters sent back in: a *Retry* of a dead letter's message (perhaps fixed) and a poison
//! message sent on purpose, each only through its gate ([`super::gates`]); and the list of
//! dead letters left to handle, kept in the tab's database by the store keeper.

use std::rc::Rc;

use broker_bridge::{
    Direction, Packet, PacketEvent, Publish, PublishRequest, Publishing, QoS, SessionError,
};

use eda_core::services::acl::publisher_of;
use eda_core::services::dead_letter::deadletter_topic;
use eda_core::services::instances::Instance;
use eda_core::services::retry_gate::{
    check_retry_size, check_store_retry, poison_refused, retry_refused,
};
use eda_core::services::ServiceId;
use eda_core::state::Action;
use eda_core::trace::dead_letters::KeptDeadLetter;

use super::clients::RECEIVE_LIMIT;
use super::gates::Held;
use super::publish::at_most_broker_maximum;
use super::Runtime;

impl Runtime {
    /// A service published `kept`: the page lists it, and the tab's database keeps it until
    /// the learner retries or discards it ([`Runtime::forget_dead_letter`]).
    pub(super) fn keep_dead_letter(self: &Rc<Self>, kept: KeptDeadLetter) {
        if let Some(keeper) = &self.keeper {
            keeper.keep_dead_letter(&kept.id, kept.to_stored());
        }
        self.tell(Action::DeadLetterKept(kept));
    }

    /// `instance`'s client sent `packet`: a first PUBLISH (a DUP resend keeps its packet id)
    /// carrying a dead letter on its way is followed to its acknowledgement.
    pub(super) fn dead_letter_sent(&self, instance: Instance, packet: &PacketEvent) {
        let (Some(keeper), Direction::Outgoing, Packet::Publish(publish)) =
            (&self.keeper, packet.direction, &packet.packet)
        else {
            return;
        };
        if !publish.dup {
            let id = (publish.qos != QoS::AtMostOnce)
                .then_some(publish.packet_id)
                .flatten();
            keeper.dead_letter_sent(instance, &publish.topic, &publish.payload, id);
        }
    }

    /// Dead letters a reload found whose PUBLISH the broker had not acknowledged
    /// ([`KeptDeadLetter::unpublished`]): published again by their service's client (queued
    /// until it is connected) and followed as at first.
    pub fn publish_unacked_dead_letters(self: &Rc<Self>, letters: &[KeptDeadLetter]) {
        if self.keeper.is_none() {
            return;
        }
        for kept in letters.iter().filter(|k| k.unpublished) {
            // Refused (e.g. over the broker's limit): it never will be; listed all the same.
            let _ = self.publish_dead_letter(kept.service.into(), kept);
        }
    }

    /// Publishes `kept`'s letter on its service's dead-letter topic with `instance`'s client
    /// (QoS 1, or the broker's maximum if lower), followed in the tab's database from before
    /// the PUBLISH until the broker acknowledges it: a connected client sends it within
    /// `publish_with`, and the packet's event, which the following needs, comes before it
    /// returns (a break-test saw every dead letter published again at the next reload,
    /// acknowledged). One the client refuses at once is stored as never to be sent. Returns
    /// the client's answer.
    pub(super) fn publish_dead_letter(
        &self,
        instance: Instance,
        kept: &KeptDeadLetter,
    ) -> Result<Publishing, SessionError> {
        let client = self.client(instance);
        let request = PublishRequest::new(
            self.namespace.wire(&deadletter_topic(kept.service)),
            kept.letter.to_json(),
            at_most_broker_maximum(&client, QoS::AtLeastOnce),
        );
        let (topic, payload) = (request.topic.clone(), request.payload.clone());
        if let Some(keeper) = &self.keeper {
            keeper.keep_dead_letter_unacked(kept.clone(), topic.clone(), payload.clone());
        }
        let published = client.publish_with(request);
        if let (Err(_), Some(keeper)) = (&published, &self.keeper) {
            keeper.dead_letter_not_sent(&topic, &payload);
        }
        published
    }

    /// The learner retried or discarded the dead letter `id`: out of the tab's database.
    pub fn forget_dead_letter(&self, id: &str) {
        if let Some(keeper) = &self.keeper {
            keeper.forget_dead_letter(id);
        }
    }

    /// Publishes a dead letter's message again (perhaps fixed) to its original `topic`, with
    /// the client of the service that publishes it ([`Retry::publisher`]), if the retry gate lets
    /// it through ([`OrderGate::check_retry`]) and its consumers here can read it
    /// ([`check_retry_size`]).
    ///
    /// # Errors
    ///
    /// The page's sentence: why nothing was published ([`retry_refused`]; one from the gate
    /// goes by itself once the retry could go), or why the publish failed.
    ///
    /// [`Retry::publisher`]: eda_core::services::retry_gate::Retry::publisher
    /// [`OrderGate::check_retry`]: eda_core::services::order_gate::OrderGate::check_retry
    pub fn retry_dead_letter(
        self: &Rc<Self>,
        gave_up: ServiceId,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<(), String> {
        let by = publisher_of(topic).unwrap_or(gave_up);
        let size = self.publish_size(by, topic, &payload);
        if let Err(refusal) = check_retry_size(topic, size, RECEIVE_LIMIT) {
            return Err(retry_refused(&refusal));
        }
        let held = check_store_retry(topic, &payload, self.flow.borrow().order.store());
        if let Err(refusal) = held {
            return Err(retry_refused(&refusal));
        }
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
        self.publish_raw(by, topic, payload)
            .map_err(|reason| format!("Retry: {reason}"))
    }

    /// Publishes a poison message (an order, `payload` on `orders/created`, by OrderService) if
    /// the order gate lets a new order through ([`OrderGate::check_new_order`]: a poison message
    /// is an order, and would start a saga in the old style during a coordination switch).
    ///
    /// # Errors
    ///
    /// The page's sentence: why nothing was sent ([`poison_refused`], which goes by itself once
    /// an order could go), or why the publish failed.
    ///
    /// [`OrderGate::check_new_order`]: eda_core::services::order_gate::OrderGate::check_new_order
    pub fn send_poison(self: &Rc<Self>, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        if let Err(refusal) = self.new_order_gate() {
            return Err(self.hold_back(poison_refused(&refusal), Held::Poison));
        }
        *self.held_back.borrow_mut() = None;
        self.publish_raw(ServiceId::Order, topic, payload)
            .map_err(|reason| format!("Poison message: {reason}"))
    }

    /// The size in bytes, fixed header included, of the PUBLISH [`Self::publish_raw`] would send
    /// (a consumer receives the same topic and payload).
    fn publish_size(&self, service: ServiceId, topic: &str, payload: &[u8]) -> usize {
        let qos = self.capped(service.into(), self.qos.get().of(topic));
        let mut publish = Publish::new(self.namespace.wire(topic), payload.to_vec(), qos);
        publish.packet_id = (qos != QoS::AtMostOnce).then_some(1);
        // Only a payload no packet can carry fails to encode: too large by any measure.
        Packet::Publish(publish)
            .encode(self.protocol)
            .map_or(usize::MAX, |bytes| bytes.len())
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
