//! Test fixture: the packets of scripted orders, encoded with broker-bridge's real codec and
//! traced as the runtime would, one millisecond apart.

use std::collections::HashMap;
use std::time::Duration;

use broker_bridge::packet::{Ack, ConnAck, Connect, SubAck, Subscribe, SubscribeReturnCode};
use broker_bridge::{
    Direction, Packet, PacketEvent, Properties, ProtocolVersion, Publish, QoS, ReasonCode,
    SubscriptionOptions,
};
use uuid::Uuid;

use super::history::{ActionLog, PacketHistory, UserAction};
use crate::config::CORRELATION_PROPERTY;
use crate::domain::events::seed;
use crate::domain::topics;
use crate::services::ServiceId;

/// `packet` as `service`'s client saw it at `at_ms`, with the bytes it has on the wire.
pub fn event_for(
    service: ServiceId,
    at_ms: u64,
    direction: Direction,
    packet: Packet,
    version: ProtocolVersion,
) -> PacketEvent {
    let bytes = packet.encode(version).expect("the script encodes");
    PacketEvent {
        at: Duration::from_millis(at_ms),
        client_id: format!("eda-test-{}", service.slug()),
        direction,
        packet,
        bytes,
        protocol: version,
        skipped: None,
    }
}

/// [`event_for`] OrderService.
pub fn event(
    at_ms: u64,
    direction: Direction,
    packet: Packet,
    version: ProtocolVersion,
) -> PacketEvent {
    event_for(ServiceId::Order, at_ms, direction, packet, version)
}

pub fn order(n: u128) -> Uuid {
    match n {
        1 => seed::ORDER_ID.parse().unwrap(),
        n => Uuid::from_u128(0x1111_0000_0000_4000_8000_0000_0000_0000 + n),
    }
}

/// The seed's payload for `topic`, for `order`.
pub fn payload(topic: &str, order: Uuid) -> String {
    let seed_json = match topic {
        topics::ORDERS_CREATED => seed::ORDER_CREATED,
        topics::PAYMENTS_PROCESSED => seed::PAYMENT_PROCESSED,
        _ => seed::INVENTORY_RESERVED,
    };
    seed_json.replace(seed::ORDER_ID, &order.to_string())
}

/// The seed's subscriptions (before the saga): what these scripted traces model.
fn seed_subscriptions(service: ServiceId) -> &'static [&'static str] {
    match service {
        ServiceId::Order | ServiceId::Query => &[],
        ServiceId::Payment | ServiceId::Inventory => &[topics::ORDERS_CREATED],
        ServiceId::Notification => &topics::SEED,
    }
}

pub struct Script {
    pub history: PacketHistory,
    pub actions: ActionLog,
    pub version: ProtocolVersion,
    now_ms: u64,
    /// Each client numbers its own publishes; the broker numbers each client's deliveries.
    next_id: HashMap<(ServiceId, Direction), u16>,
}

impl Script {
    pub fn new(version: ProtocolVersion) -> Self {
        Script {
            history: PacketHistory::new(10_000),
            actions: ActionLog::new(100),
            version,
            now_ms: 0,
            next_id: HashMap::new(),
        }
    }

    pub fn now(&self) -> Duration {
        Duration::from_millis(self.now_ms)
    }

    /// Lets `ms` pass before the next packet.
    pub fn wait(&mut self, ms: u64) {
        self.now_ms += ms;
    }

    pub fn send(&mut self, service: ServiceId, direction: Direction, packet: Packet) -> u64 {
        self.now_ms += 1;
        let event = event_for(service, self.now_ms, direction, packet, self.version);
        self.history.record(service, &event)
    }

    /// CONNECT/CONNACK for all four, then SUBSCRIBE/SUBACK for those that subscribe.
    pub fn connect_all(&mut self) {
        for service in ServiceId::ALL {
            let client_id = format!("eda-test-{}", service.slug());
            let connect = Connect::new(self.version, client_id, 30);
            self.send(service, Direction::Outgoing, Packet::Connect(connect));
            let connack = ConnAck::new(false, ReasonCode::Success);
            self.send(service, Direction::Incoming, Packet::ConnAck(connack));
            let filters = seed_subscriptions(service);
            if filters.is_empty() {
                continue;
            }
            let subscribe = Subscribe {
                packet_id: 1,
                filters: filters
                    .iter()
                    .map(|f| ((*f).to_owned(), SubscriptionOptions::new(QoS::ExactlyOnce)))
                    .collect(),
                properties: Properties::new(),
            };
            self.send(service, Direction::Outgoing, Packet::Subscribe(subscribe));
            let granted = vec![SubscribeReturnCode::Granted(QoS::ExactlyOnce); filters.len()];
            self.send(
                service,
                Direction::Incoming,
                Packet::SubAck(SubAck::new(1, granted)),
            );
        }
    }

    /// A PUBLISH of `order`'s event on `topic`; returns its packet id.
    pub fn publish(
        &mut self,
        service: ServiceId,
        direction: Direction,
        topic: &str,
        order: Uuid,
        qos: QoS,
    ) -> Option<u16> {
        let mut publish = Publish::new(topic, payload(topic, order).into_bytes(), qos);
        if qos != QoS::AtMostOnce {
            let id = self.next_id.entry((service, direction)).or_insert(0);
            *id += 1;
            publish.packet_id = Some(*id);
        }
        if self.version == ProtocolVersion::V5 {
            publish.properties =
                Properties::new().with_user_property(CORRELATION_PROPERTY, order.to_string());
        }
        let id = publish.packet_id;
        self.send(service, direction, Packet::Publish(publish));
        id
    }

    /// A PUBLISH of `order`'s stored event at `position` on `eventstore/orders/<order>` (its
    /// payload names the order only as `stream`, as OrderService's does) and its handshake.
    pub fn stored_leg(
        &mut self,
        service: ServiceId,
        direction: Direction,
        order: Uuid,
        position: u64,
        qos: QoS,
    ) {
        let payload = format!(
            r#"{{"position":{position},"stream":"{order}","version":{position},"type":"OrderCreated","schema":3,"recordedAt":"2024-01-15T10:30:00.000Z","data":{{}}}}"#
        );
        let topic = crate::store::topic(order);
        let mut publish = Publish::new(topic.as_str(), payload.into_bytes(), qos);
        if qos != QoS::AtMostOnce {
            let id = self.next_id.entry((service, direction)).or_insert(0);
            *id += 1;
            publish.packet_id = Some(*id);
        }
        let id = publish.packet_id;
        self.send(service, direction, Packet::Publish(publish));
        self.finish(service, direction, id, qos);
    }

    /// The rest of the handshake for a PUBLISH that went `direction` from `service`'s view.
    pub fn finish(&mut self, service: ServiceId, direction: Direction, id: Option<u16>, qos: QoS) {
        let Some(id) = id else { return };
        let back = match direction {
            Direction::Outgoing => Direction::Incoming,
            Direction::Incoming => Direction::Outgoing,
        };
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => {
                self.send(service, back, Packet::PubAck(Ack::new(id)));
            }
            QoS::ExactlyOnce => {
                self.send(service, back, Packet::PubRec(Ack::new(id)));
                self.send(service, direction, Packet::PubRel(Ack::new(id)));
                self.send(service, back, Packet::PubComp(Ack::new(id)));
            }
        }
    }

    /// A PUBLISH and its whole handshake.
    pub fn leg(
        &mut self,
        service: ServiceId,
        direction: Direction,
        topic: &str,
        order: Uuid,
        qos: QoS,
    ) {
        let id = self.publish(service, direction, topic, order, qos);
        self.finish(service, direction, id, qos);
    }

    /// The user's click, then the seed's whole flow for `order`, one leg after another.
    pub fn place_order(&mut self, order: Uuid, qos: QoS) {
        use Direction::{Incoming, Outgoing};
        use ServiceId::{Inventory, Notification, Order, Payment};
        self.actions.push(UserAction::PlacedOrder {
            at: self.now() + Duration::from_millis(1),
            order_id: order,
        });
        let legs = [
            (Order, Outgoing, topics::ORDERS_CREATED),
            (Payment, Incoming, topics::ORDERS_CREATED),
            (Inventory, Incoming, topics::ORDERS_CREATED),
            (Notification, Incoming, topics::ORDERS_CREATED),
            (Inventory, Outgoing, topics::INVENTORY_RESERVED),
            (Notification, Incoming, topics::INVENTORY_RESERVED),
            (Payment, Outgoing, topics::PAYMENTS_PROCESSED),
            (Notification, Incoming, topics::PAYMENTS_PROCESSED),
        ];
        for (service, direction, topic) in legs {
            self.leg(service, direction, topic, order, qos);
        }
    }
}
