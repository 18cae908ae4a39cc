//! Which edge of the flow diagram a traced packet travelled, and the list of every edge.

use broker_bridge::{Direction, PacketKind};

use super::{Edge, Node};
use crate::services::{SagaStyle, ServiceId};
use crate::trace::packet::{Participant, TracedPacket};

/// Every edge under `style`: the request, then per service (in [`ServiceId::ALL`]'s order) the
/// deliveries of what it subscribes to and the publishes of what it publishes, as the services
/// declare them. The saga's style decides who subscribes to what, so the picture follows it.
pub fn edges(style: SagaStyle) -> Vec<Edge> {
    let mut edges = vec![Edge::PLACE_ORDER];
    for service in ServiceId::ALL {
        let node = Node::of(service);
        for &topic in service.subscriptions(style) {
            edges.push(Edge::new(Node::Broker, node, topic));
        }
        for &topic in service.publications(style) {
            edges.push(Edge::new(node, Node::Broker, topic));
        }
    }
    edges
}

/// The edge a traced packet travelled: a PUBLISH a service sent goes from it to the broker on
/// its topic, a PUBLISH it received from the broker to it on the subscription that matched.
/// Every other packet, and a PUBLISH on a topic the diagram has no edge for, travels none. The
/// edge is the same whatever the style (a trace may span a change of style); a style whose
/// picture lacks it does not draw it. The status monitor has no box: its packets travel none
/// (the sequence diagram draws them).
pub fn edge_of(packet: &TracedPacket) -> Option<Edge> {
    let Participant::Service(service) = packet.participant else {
        return None;
    };
    if packet.kind != PacketKind::Publish {
        return None;
    }
    let topic = packet.topic.as_deref()?;
    let node = Node::of(service);
    match packet.direction {
        Direction::Outgoing => SagaStyle::ALL
            .iter()
            .flat_map(|&style| service.publications(style))
            .find(|&&name| broker_bridge::topic::matches(name, topic))
            .map(|&name| Edge::new(node, Node::Broker, name)),
        Direction::Incoming => SagaStyle::ALL
            .iter()
            .flat_map(|&style| service.subscriptions(style))
            .find(|&&filter| broker_bridge::topic::matches(filter, topic))
            .map(|&filter| Edge::new(Node::Broker, node, filter)),
    }
}

#[cfg(test)]
mod tests {
    use broker_bridge::packet::{Ack, Packet, Publish};
    use broker_bridge::{ProtocolVersion, QoS};

    use super::*;
    use crate::domain::topics::{INVENTORY_RESERVED, ORDERS_CREATED, PAYMENTS_PROCESSED};
    use crate::trace::flow::EdgeKind;
    use crate::trace::script::{event_for, order, payload};

    fn traced(service: ServiceId, direction: Direction, packet: Packet) -> TracedPacket {
        let event = event_for(service, 1, direction, packet, ProtocolVersion::V311);
        TracedPacket::from_event(0, service, &event)
    }

    fn publish(topic: &str) -> Packet {
        let body = payload(topic, order(1)).into_bytes();
        Packet::Publish(Publish::new(topic, body, QoS::AtMostOnce))
    }

    #[test]
    fn the_edges_are_the_services_publishes_and_subscriptions() {
        let ids: Vec<String> = edges(SagaStyle::Parallel).iter().map(Edge::id).collect();
        assert_eq!(
            ids,
            [
                "client-order-place-order",
                "broker-order-orders/created",
                "broker-order-inventory/reserved",
                "broker-order-payments/processed",
                "broker-order-inventory/released",
                "broker-order-payments/refunded",
                "order-broker-orders/created",
                "order-broker-orders/confirmed",
                "order-broker-orders/cancelled",
                "order-broker-eventstore/orders/+",
                "broker-payment-orders/created",
                "broker-payment-orders/confirmed",
                "broker-payment-orders/cancelled",
                "payment-broker-payments/processed",
                "payment-broker-payments/refunded",
                "broker-inventory-orders/created",
                "broker-inventory-orders/confirmed",
                "broker-inventory-orders/cancelled",
                "inventory-broker-inventory/reserved",
                "inventory-broker-inventory/released",
                "broker-notification-orders/created",
                "broker-notification-payments/processed",
                "broker-notification-inventory/reserved",
                "broker-notification-orders/confirmed",
                "broker-notification-orders/cancelled",
                "broker-notification-payments/refunded",
                "broker-query-eventstore/orders/+",
            ]
        );
        let edges = edges(SagaStyle::Parallel);
        let kinds: Vec<EdgeKind> = edges.iter().map(Edge::kind).collect();
        assert_eq!(kinds[0], EdgeKind::Request);
        assert_eq!(
            (kinds[1], kinds[6], kinds[13]),
            (EdgeKind::Delivery, EdgeKind::Publish, EdgeKind::Publish)
        );
        assert_eq!(Edge::PLACE_ORDER.label(), "Place order");
        assert_eq!(edges[13].topic_class(), "t-payments-processed");
        assert_eq!(
            edges[20].describe(),
            "The broker delivers orders/created to NotificationService, which subscribes to it"
        );
        assert_eq!(
            edges[6].describe(),
            "OrderService publishes orders/created to the broker"
        );
    }

    #[test]
    fn the_picture_follows_the_saga_s_style() {
        let has = |style, id: &str| edges(style).iter().any(|e| e.id() == id);
        // Choreography: payment waits for the reservation.
        assert!(has(
            SagaStyle::Choreography,
            "broker-payment-inventory/reserved"
        ));
        assert!(!has(
            SagaStyle::Parallel,
            "broker-payment-inventory/reserved"
        ));
        // Orchestration: commands from OrderService, and no one else reacts to orders/created.
        assert!(has(
            SagaStyle::Orchestration,
            "order-broker-commands/payment/charge"
        ));
        assert!(has(
            SagaStyle::Orchestration,
            "broker-inventory-commands/inventory/release"
        ));
        assert!(!has(
            SagaStyle::Orchestration,
            "broker-inventory-orders/created"
        ));
        assert!(!has(
            SagaStyle::Parallel,
            "order-broker-commands/payment/charge"
        ));
    }

    #[test]
    fn a_publish_travels_the_edge_of_its_service_direction_and_topic() {
        use Direction::{Incoming, Outgoing};
        use ServiceId::{Inventory, Notification, Order, Payment};
        let table = [
            (
                Order,
                Outgoing,
                ORDERS_CREATED,
                "order-broker-orders/created",
            ),
            (
                Payment,
                Incoming,
                ORDERS_CREATED,
                "broker-payment-orders/created",
            ),
            (
                Inventory,
                Incoming,
                ORDERS_CREATED,
                "broker-inventory-orders/created",
            ),
            (
                Notification,
                Incoming,
                ORDERS_CREATED,
                "broker-notification-orders/created",
            ),
            (
                Payment,
                Outgoing,
                PAYMENTS_PROCESSED,
                "payment-broker-payments/processed",
            ),
            (
                Inventory,
                Outgoing,
                INVENTORY_RESERVED,
                "inventory-broker-inventory/reserved",
            ),
            (
                Notification,
                Incoming,
                PAYMENTS_PROCESSED,
                "broker-notification-payments/processed",
            ),
            (
                Notification,
                Incoming,
                INVENTORY_RESERVED,
                "broker-notification-inventory/reserved",
            ),
        ];
        for (service, direction, topic, id) in table {
            let edge = edge_of(&traced(service, direction, publish(topic)));
            assert_eq!(
                edge.map(|e| e.id()).as_deref(),
                Some(id),
                "{service} {direction:?} {topic}"
            );
        }
    }

    #[test]
    fn other_packets_and_topics_without_an_edge_travel_none() {
        use Direction::{Incoming, Outgoing};
        let cases = [
            // Acks are part of a message's handshake, not a message.
            (ServiceId::Order, Incoming, Packet::PubAck(Ack::new(1))),
            (ServiceId::Payment, Outgoing, Packet::PubAck(Ack::new(1))),
            (ServiceId::Order, Outgoing, Packet::PingReq),
            // No service publishes what it does not own, nor receives what it did not ask for.
            (ServiceId::Payment, Outgoing, publish(ORDERS_CREATED)),
            (ServiceId::Order, Incoming, publish("orders/confirmed")),
            (ServiceId::Payment, Incoming, publish(PAYMENTS_PROCESSED)),
            (
                ServiceId::Notification,
                Incoming,
                publish("orders/archived"),
            ),
        ];
        for (service, direction, packet) in cases {
            let kind = packet.kind();
            assert_eq!(
                edge_of(&traced(service, direction, packet)),
                None,
                "{service} {direction:?} {kind}"
            );
        }
    }
}
