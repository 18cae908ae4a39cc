//! OrderService's outbox on the wire: each PUBLISH its client sends and each acknowledgement
//! told to the store keeper (which deletes a row once all of it is acknowledged), and what a
//! reload found owed published again, as decided, once OrderService is connected and its
//! consumers have subscribed (the order gate's rule). See `eda_core::store::outbox`.

use std::rc::Rc;

use broker_bridge::{Direction, Packet, PacketEvent, PublishRequest, QoS, SessionError};

use eda_core::domain::DomainEvent;
use eda_core::services::instances::Instance;
use eda_core::services::ServiceId;
use eda_core::store::outbox::{refused_for_good, OwedMessage};
use eda_core::store::EVENTSTORE_PREFIX;

use crate::store_keeper::Publication;

use super::publish::at_most_broker_maximum;
use super::report::{note, problem};
use super::Runtime;

impl Runtime {
    /// OrderService's client sent `packet`: a first PUBLISH (a DUP resend keeps its packet id)
    /// is told to the outbox.
    pub(super) fn outbox_sent(&self, packet: &PacketEvent) {
        let (Some(keeper), Direction::Outgoing, Packet::Publish(publish)) =
            (&self.keeper, packet.direction, &packet.packet)
        else {
            return;
        };
        if publish.dup {
            return;
        }
        if let Some(topic) = self.namespace.strip(&publish.topic) {
            keeper.handle_sent(topic, &publish.payload, publish.packet_id);
        }
    }

    /// OrderService's client sent `packet`: a first PUBLISH (not a DUP resend) of a
    /// compensating message is told to the services, whose compensation check then counts its
    /// deadline from now, and never sends a copy while this one still waited to go out
    /// ([`eda_core::services::Flow::published`]).
    pub(super) fn compensation_sent(self: &Rc<Self>, packet: &PacketEvent) {
        let (Direction::Outgoing, Packet::Publish(publish)) = (packet.direction, &packet.packet)
        else {
            return;
        };
        let (Some(topic), Some(now), false) = (
            self.namespace.strip(&publish.topic),
            crate::clock::wall_clock(),
            publish.dup,
        ) else {
            return;
        };
        // Only a compensation counts: every other PUBLISH (each order's events too) goes by
        // on its topic alone.
        if !eda_core::services::order::is_compensating_topic(topic) {
            return;
        }
        // With the time it went out, even when told later.
        let (topic, payload) = (topic.to_owned(), publish.payload.clone());
        self.with_flow_soon(move |flow| flow.published(&topic, &payload, now));
    }

    /// OrderService's client refused from its offline queue, never sending it, `payload` on
    /// `topic` (the wire's, with the namespace): if it is a compensating message, its check no
    /// longer waits for that copy and sends one when due
    /// ([`eda_core::services::Flow::not_published`]).
    pub(super) fn compensation_refused(self: &Rc<Self>, topic: &str, payload: Vec<u8>) {
        let Some(topic) = self.namespace.strip(topic) else {
            return;
        };
        if !eda_core::services::order::is_compensating_topic(topic) {
            return;
        }
        let topic = topic.to_owned();
        self.with_flow_soon(move |flow| flow.not_published(&topic, &payload));
    }

    /// Runs `tell` on the services now, or, while they are deciding (a client's events can come
    /// from inside a publish, with the services borrowed), from a zero-delay timer right after.
    fn with_flow_soon(self: &Rc<Self>, tell: impl FnOnce(&mut eda_core::services::Flow) + 'static) {
        match self.flow.try_borrow_mut() {
            Ok(mut flow) => tell(&mut flow),
            Err(_) => self.later(std::time::Duration::ZERO, move |runtime| {
                tell(&mut runtime.flow.borrow_mut())
            }),
        }
    }

    /// The broker acknowledged or refused `service`'s PUBLISH `packet_id`: told to the outbox
    /// if it is OrderService's.
    pub(super) fn outbox_acknowledged(&self, service: ServiceId, packet_id: u16) {
        if let (Some(keeper), ServiceId::Order) = (&self.keeper, service) {
            keeper.handle_acknowledged(packet_id);
        }
    }

    /// `service`'s client refused, before sending, the message on `topic` (the wire's, with the
    /// namespace) with `payload` (`None`: refused from the offline queue, known by its topic)
    /// because of `why`. If it is OrderService's, owed, and refused for good
    /// ([`refused_for_good`]; a message from the offline queue only breaks the broker's limits
    /// for good), the outbox crosses it off, and OrderService's log says so: published again
    /// after a reload, it would be refused again, every time.
    pub(super) fn outbox_refused(
        self: &Rc<Self>,
        service: ServiceId,
        topic: &str,
        payload: Option<&[u8]>,
        why: &str,
    ) {
        let (Some(keeper), ServiceId::Order) = (&self.keeper, service) else {
            return;
        };
        let Some(topic) = self.namespace.strip(topic) else {
            return;
        };
        if keeper.handle_refused(topic, payload) {
            let text = format!(
                "crossed {topic} off what it owes the wire: the client refused it before \
                 sending ({why}), and it would be refused again every time, so a reload does \
                 not publish it again"
            );
            self.log(ServiceId::Order, note("outbox", text));
        }
    }

    /// [`Runtime::outbox_refused`] for a refusal `publish_with` returned, if it is for good.
    pub(super) fn outbox_publish_refused(
        self: &Rc<Self>,
        service: ServiceId,
        request: (&str, &[u8]),
        error: &SessionError,
    ) {
        if refused_for_good(error) {
            let (topic, payload) = request;
            self.outbox_refused(service, topic, Some(payload), &error.to_string());
        }
    }

    /// Publishes again, in position order, what a reload found owed, once orders could be
    /// placed (OrderService connected, its consumers subscribed): before that a consumer with
    /// a clean session would miss it; then what OrderService decided meanwhile, held behind it
    /// ([`StoreKeeper::hold_behind_owed`](crate::store_keeper::StoreKeeper::hold_behind_owed)).
    /// Once per page; what fails is logged.
    pub(super) fn publish_owed(self: &Rc<Self>) {
        let Some(keeper) = &self.keeper else {
            return;
        };
        if self.order_gate().is_err() {
            return;
        }
        let mut topics = Vec::new();
        for (_, messages) in keeper.take_owed() {
            for message in messages {
                match self.publish_owed_message(&message) {
                    Ok(()) => topics.push(message.topic),
                    Err(e) => self.log(ServiceId::Order, problem(&message.topic, e)),
                }
            }
        }
        // Then what OrderService decided meanwhile, held behind it.
        for (instance, publication) in keeper.take_behind_owed() {
            match publication {
                Publication::Decided(event) => self.publish_decided(instance, &event),
                Publication::Stored(event) => self.publish_stored(instance, &event),
            }
        }
        // The compensations owed went out: their checks count from now.
        let checks = std::mem::take(&mut *self.checks_behind_owed.borrow_mut());
        self.run(ServiceId::Order.into(), checks);
        if topics.is_empty() {
            return;
        }
        // Said where the learner looks for what OrderService did (the store note said it would).
        let count = topics.len();
        // The kinds of message, once each: `eventstore/orders/…` stands for every stream.
        for topic in &mut topics {
            if topic.starts_with(EVENTSTORE_PREFIX) {
                *topic = format!("{EVENTSTORE_PREFIX}…");
            }
        }
        topics.sort();
        topics.dedup();
        let text = format!(
            "published again {count} message{} a reload found unacknowledged in the browser's \
             database ({}): at least once, a consumer that had one already ignores the copy",
            if count == 1 { "" } else { "s" },
            topics.join(", ")
        );
        self.log(ServiceId::Order, note("outbox", text));
    }

    /// Whether `instance`'s publication (`make` gives it, only if so) is held: OrderService's,
    /// behind what a reload found owed (it then goes out after it, from
    /// [`Runtime::publish_owed`]).
    pub(super) fn held_behind_owed(
        &self,
        instance: Instance,
        make: impl FnOnce() -> Publication,
    ) -> bool {
        match (&self.keeper, instance.service) {
            (Some(keeper), ServiceId::Order) => keeper.hold_behind_owed(instance, make),
            _ => false,
        }
    }

    /// Publishes `message` with OrderService's client, byte for byte as decided: an event
    /// store copy at QoS 1, an outcome or command at its topic's QoS (both capped at the
    /// broker's maximum), under MQTT 5.0 with its orderId as `correlationId`, as at first.
    fn publish_owed_message(self: &Rc<Self>, message: &OwedMessage) -> Result<(), String> {
        let instance = ServiceId::Order.into();
        let client = self.client(instance);
        let payload = message.payload.as_bytes().to_vec();
        let request = if message.topic.starts_with(EVENTSTORE_PREFIX) {
            let qos = at_most_broker_maximum(&client, QoS::AtLeastOnce);
            PublishRequest::new(self.namespace.wire(&message.topic), payload, qos)
        } else {
            let event = DomainEvent::decode(&message.topic, message.payload.as_bytes())
                .map_err(|e| e.to_string())?;
            self.event_request(instance, &event, payload)
        };
        let topic = request.topic.clone();
        client.publish_with(request).map(|_| ()).map_err(|e| {
            let request = (topic.as_str(), message.payload.as_bytes());
            self.outbox_publish_refused(ServiceId::Order, request, &e);
            e.to_string()
        })
    }
}
