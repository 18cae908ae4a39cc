//! Publishing with a service's client: a domain event at its topic's QoS (capped at the
//! broker's Maximum QoS), InventoryService's retained stock levels, and a traced PUBLISH sent
//! once more ([`Runtime::deliver_again`]).

use std::rc::Rc;

use broker_bridge::ws::Client;
use broker_bridge::{ProtocolVersion, PublishRequest, QoS, SessionError};

use eda_core::domain::DomainEvent;
use eda_core::services::instances::Instance;
use eda_core::services::retry_gate::{deliver_again_refused, redelivered_note};
use eda_core::services::stock_levels::StockUpdate;
use eda_core::services::ServiceId;
use eda_core::state::{broker_fit, Action};

use super::gates::Held;
use super::Runtime;

impl Runtime {
    /// Publishes a domain event with `instance`'s client at its topic's QoS. Under MQTT 5.0 the
    /// event carries its orderId in the `correlationId` user property.
    /// The QoS is the topic's, or the broker's Maximum QoS if lower (the page warns of it, see
    /// `eda_core::state::broker_fit`); a message over the broker's Maximum Packet Size is
    /// reported to the page as well as refused.
    pub(super) fn publish(
        self: &Rc<Self>,
        instance: Instance,
        event: &DomainEvent,
    ) -> Result<(), String> {
        let request = self.event_request(instance, event, event.to_json());
        let Some(request) = self.unless_crashed(instance, request) else {
            return Ok(());
        };
        let (topic, payload) = (request.topic.clone(), request.payload.clone());
        self.client(instance)
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| {
                self.outbox_publish_refused(instance.service, (&topic, &payload), &e);
                // Never on the wire: a compensation check does not wait for it.
                if instance.service == ServiceId::Order {
                    if let Ok(mut flow) = self.flow.try_borrow_mut() {
                        flow.not_published(event.topic(), &payload);
                    }
                }
                self.warn_if_too_large(event.topic(), &e);
                e.to_string()
            })
    }

    /// Warns on the page (the broker's capabilities) when `e` refused a message to `topic` (the
    /// flow's topic, without the namespace) for the broker's Maximum Packet Size: every
    /// publish the page makes says so, not only an order's
    /// ([`broker_fit::message_too_large`]).
    pub(super) fn warn_if_too_large(self: &Rc<Self>, topic: &str, e: &SessionError) {
        if let SessionError::PacketTooLarge { size, max, .. } = e {
            let warning = broker_fit::message_too_large(topic, *size, *max);
            self.tell(Action::CapabilityRefused(warning));
        }
    }

    /// The PUBLISH of `event` by `instance`'s client with `payload` (its JSON, as decided): on
    /// its topic under the page's namespace, at the topic's QoS capped at the broker's maximum
    /// ([`Runtime::capped`]), under MQTT 5.0 with its orderId as the `correlationId` user
    /// property.
    pub(super) fn event_request(
        &self,
        instance: Instance,
        event: &DomainEvent,
        payload: impl Into<Vec<u8>>,
    ) -> PublishRequest {
        let qos = self.capped(instance, self.qos.get().of(event.topic()));
        let topic = self.namespace.wire(event.topic());
        let request = PublishRequest::new(topic, payload, qos);
        if self.protocol == ProtocolVersion::V5 {
            request.with_user_property(
                eda_core::config::CORRELATION_PROPERTY,
                event.order_id().to_string(),
            )
        } else {
            request
        }
    }

    /// `qos`, or the Maximum QoS of `instance`'s broker if that is lower: a client must not
    /// publish above it (MQTT 5.0 §3.2.2.3.4, [MQTT-3.2.2-11]).
    pub(super) fn capped(&self, instance: Instance, qos: QoS) -> QoS {
        let caps = self.client(instance).capabilities();
        caps.map_or(qos, |caps| caps.cap_qos(qos))
    }

    /// Publishes, retained, InventoryService's level of one product (or the empty message that
    /// clears it) with `instance`'s client, at `qos`. On a broker whose CONNACK says Retain
    /// Available 0 (MQTT 5.0 §3.2.2.3.5: a retained PUBLISH there is a protocol error) the level
    /// goes without the retain flag, for the clients subscribed now, and a clearing message is
    /// not sent (the broker keeps no level to clear).
    pub(super) fn retain(
        &self,
        instance: Instance,
        update: &StockUpdate,
        qos: QoS,
    ) -> Result<(), String> {
        let keeps_retained = self
            .client(instance)
            .capabilities()
            .is_none_or(|c| c.retain_available);
        let payload = update.payload();
        if !keeps_retained && payload.is_empty() {
            return Ok(());
        }
        let qos = self.capped(instance, qos);
        let topic = self.namespace.wire(&update.topic());
        let request = PublishRequest::new(topic, payload, qos).retained(keeps_retained);
        let Some(request) = self.unless_crashed(instance, request) else {
            return Ok(());
        };
        self.client(instance)
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Publishes once more, with the client that sent or received it, exactly the message of
    /// the traced PUBLISH numbered `seq` (same topic, payload and QoS): what a consumer sees when
    /// a message is redelivered after a lost acknowledgement. Refused as a dead letter's
    /// *Retry* is ([`OrderGate::check_deliver_again`]): while that client's instance is crashed
    /// or not connected (a crashed instance's aborted client would take the publish and never
    /// send it), and while a consumer of its topic has not subscribed (e.g. reconnecting after
    /// a broker restart with clean sessions: it would never get it).
    ///
    /// # Errors
    ///
    /// The page's sentence, "Deliver again: …": why nothing was published
    /// ([`deliver_again_refused`], which goes by itself once it could go), the packet gone or
    /// not a PUBLISH, or why the publish failed.
    ///
    /// [`OrderGate::check_deliver_again`]: eda_core::services::order_gate::OrderGate::check_deliver_again
    pub fn deliver_again(&self, seq: u64) -> Result<Option<String>, String> {
        let (service, client_id, publish) = {
            let trace = self.trace.0.borrow();
            let packet = trace
                .packets
                .get(seq)
                .ok_or_else(|| format!("Deliver again: packet {seq} is no longer in the trace"))?;
            match packet.packet.as_ref() {
                broker_bridge::Packet::Publish(p) => {
                    let service = packet.participant.service().ok_or_else(|| {
                        format!(
                            "Deliver again: packet {seq} is the status monitor's, which handles no order"
                        )
                    })?;
                    (service, packet.client_id.clone(), p.clone())
                }
                _ => return Err(format!("Deliver again: packet {seq} is not a PUBLISH")),
            }
        };
        let instance = self
            .clients
            .borrow()
            .iter()
            .find(|(_, c)| c.client_id() == client_id)
            .map_or_else(|| Instance::from(service), |(instance, _)| *instance);
        // A topic outside the namespace is no topic of the flow: no consumer of ours waits.
        let topic = self
            .namespace
            .strip(&publish.topic)
            .unwrap_or(publish.topic.as_str());
        if let Err(refusal) = self.deliver_again_gate(instance, topic) {
            let sentence = deliver_again_refused(&refusal);
            let held = Held::DeliverAgain(instance, topic.to_owned());
            return Err(self.hold_back(sentence, held));
        }
        let request = PublishRequest::new(&publish.topic, publish.payload.clone(), publish.qos);
        self.client(instance)
            .publish_with(request)
            .map(|_| redelivered_note(self.subscribed_style.get(), topic))
            .map_err(|e| format!("Deliver again: {instance} could not publish it again: {e}"))
    }
}

/// `qos`, or the maximum QoS `client`'s broker takes if lower (stated in its 5.0 CONNACK, or
/// learned under 3.1.1): a client must not send above it ([MQTT-3.2.2-11]).
pub(super) fn at_most_broker_maximum(client: &Client, qos: QoS) -> QoS {
    client
        .capabilities()
        .map_or(qos, |caps| qos.min(caps.maximum_qos))
}
