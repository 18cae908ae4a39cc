//! Which edge of the flow diagram a traced packet travelled, and the list of every edge.

use broker_bridge::topic::matches;
use broker_bridge::{Direction, PacketKind};

use super::{Edge, Node};
use crate::domain::topics::INVENTORY_STOCK_FILTER;
use crate::services::instances::Instance;
use crate::services::presence::STATUS_FILTER;
use crate::services::{SagaStyle, ServiceId};
use crate::trace::packet::{Participant, TracedPacket};

/// Every edge under `style`: the request, then per service (in [`ServiceId::ALL`]'s order) the
/// deliveries of what it subscribes to and the publishes of what it publishes, as the services
/// declare them. The saga's style decides who subscribes to what, so the picture follows it.
///
/// Then the same in every style, the topics outside the order flow ([`lesson_edges`]): per
/// service its retained status and its dead letters (InventoryService its stock levels first),
/// then the status monitor's two deliveries.
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
    edges.extend(lesson_edges());
    edges
}

/// The edges of the topics outside the order flow, as the page's clients use them (the same
/// in every style):
///
/// - each service publishes its status, retained, on `services/<service>/status` when it
///   connects ([`crate::services::presence::status_topic`]; a further PaymentService
///   instance's `services/payment-2/status` travels PaymentService's edge), and gives up on a
///   message on `deadletter/<service>` ([`crate::services::dead_letter::deadletter_topic`]);
/// - InventoryService publishes each counted product's level, retained, on
///   `inventory/stock/<productId>` ([`crate::services::stock_levels`]), drawn as
///   `inventory/stock/+` as `eventstore/orders/+` stands for one topic per order;
/// - the status monitor subscribes to [`STATUS_FILTER`] and [`INVENTORY_STOCK_FILTER`]: the
///   broker delivers it the statuses, the Last Wills it publishes for a crashed service, and
///   the stock levels.
///
/// No client of the page subscribes to `deadletter/+`, and no service to a status or a stock
/// level, so those have no delivery edge.
fn lesson_edges() -> impl Iterator<Item = Edge> {
    let published = ServiceId::ALL.into_iter().flat_map(|service| {
        let node = Node::of(service);
        let stock = (service == ServiceId::Inventory).then_some(INVENTORY_STOCK_FILTER);
        stock
            .into_iter()
            .chain([status_topic(service), deadletter_topic(service)])
            .map(move |topic| Edge::new(node, Node::Broker, topic))
    });
    published.chain(
        [STATUS_FILTER, INVENTORY_STOCK_FILTER]
            .map(|filter| Edge::new(Node::Broker, Node::Monitor, filter)),
    )
}

/// [`crate::services::presence::status_topic`] of `service`'s first instance, as a label that
/// lives as long as the diagram (a test holds the two equal).
fn status_topic(service: ServiceId) -> &'static str {
    match service {
        ServiceId::Order => "services/order/status",
        ServiceId::Payment => "services/payment/status",
        ServiceId::Inventory => "services/inventory/status",
        ServiceId::Notification => "services/notification/status",
        ServiceId::Query => "services/query/status",
    }
}

/// [`crate::services::dead_letter::deadletter_topic`] of `service`, as a label that lives as
/// long as the diagram (a test holds the two equal).
fn deadletter_topic(service: ServiceId) -> &'static str {
    match service {
        ServiceId::Order => "deadletter/order",
        ServiceId::Payment => "deadletter/payment",
        ServiceId::Inventory => "deadletter/inventory",
        ServiceId::Notification => "deadletter/notification",
        ServiceId::Query => "deadletter/query",
    }
}

/// The edge a traced packet travelled: a PUBLISH a service sent goes from it to the broker on
/// its topic, a PUBLISH it received from the broker to it on the subscription that matched;
/// a PUBLISH the status monitor received, from the broker to it on its filter. Every other
/// packet, and a PUBLISH on a topic the diagram has no edge for, travels none. The edge is the
/// same whatever the style (a trace may span a change of style); a style whose picture lacks
/// it does not draw it.
///
/// `packet.topic` is the flow's topic, the page's topic namespace taken off
/// ([`TracedPacket::topic`]): a page under `?ns=class-7` draws `class-7/deadletter/payment` on
/// `deadletter/payment`'s edge.
pub fn edge_of(packet: &TracedPacket) -> Option<Edge> {
    if packet.kind != PacketKind::Publish {
        return None;
    }
    let topic = packet.topic.as_deref()?;
    let service = match packet.participant {
        Participant::Service(service) => service,
        // The monitor publishes nothing; what it receives came on one of its two filters.
        Participant::Monitor => {
            return match packet.direction {
                Direction::Incoming => [STATUS_FILTER, INVENTORY_STOCK_FILTER]
                    .into_iter()
                    .find(|filter| matches(filter, topic))
                    .map(|filter| Edge::new(Node::Broker, Node::Monitor, filter)),
                Direction::Outgoing => None,
            };
        }
    };
    let node = Node::of(service);
    match packet.direction {
        Direction::Outgoing => SagaStyle::ALL
            .iter()
            .flat_map(|&style| service.publications(style))
            .find(|&&name| matches(name, topic))
            .map(|&name| Edge::new(node, Node::Broker, name))
            .or_else(|| lesson_published(service, topic).map(|t| Edge::new(node, Node::Broker, t))),
        Direction::Incoming => SagaStyle::ALL
            .iter()
            .flat_map(|&style| service.subscriptions(style))
            .find(|&&filter| matches(filter, topic))
            .map(|&filter| Edge::new(Node::Broker, node, filter)),
    }
}

/// The label of `service`'s edge outside the order flow that `topic` (a flow topic) travels:
/// its own status (any of its instances'), its own dead letters, InventoryService's stock.
fn lesson_published(service: ServiceId, topic: &str) -> Option<&'static str> {
    if topic == deadletter_topic(service) {
        return Some(deadletter_topic(service));
    }
    if service == ServiceId::Inventory && matches(INVENTORY_STOCK_FILTER, topic) {
        return Some(INVENTORY_STOCK_FILTER);
    }
    let level = topic.strip_prefix("services/")?.strip_suffix("/status")?;
    (Instance::from_slug(level)?.service == service).then(|| status_topic(service))
}

#[cfg(test)]
mod tests {
    use broker_bridge::packet::{Ack, Packet, Publish};
    use broker_bridge::{ProtocolVersion, QoS};

    use super::*;
    use crate::domain::namespace::Namespace;
    use crate::domain::topics::{
        INVENTORY_RESERVED, INVENTORY_STOCK_PREFIX, ORDERS_CREATED, PAYMENTS_PROCESSED,
    };
    use crate::services::presence::Presence;
    use crate::services::{dead_letter, presence};
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
                // Outside the order flow: statuses, stock levels, dead letters, the monitor.
                "order-broker-services/order/status",
                "order-broker-deadletter/order",
                "payment-broker-services/payment/status",
                "payment-broker-deadletter/payment",
                "inventory-broker-inventory/stock/+",
                "inventory-broker-services/inventory/status",
                "inventory-broker-deadletter/inventory",
                "notification-broker-services/notification/status",
                "notification-broker-deadletter/notification",
                "query-broker-services/query/status",
                "query-broker-deadletter/query",
                "broker-monitor-services/+/status",
                "broker-monitor-inventory/stock/+",
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

    fn traced_in(
        participant: Participant,
        direction: Direction,
        packet: Packet,
        namespace: &Namespace,
    ) -> TracedPacket {
        let mut event = event_for(
            ServiceId::Order,
            1,
            direction,
            packet,
            ProtocolVersion::V311,
        );
        event.client_id = format!("eda-test-{}", participant.slug());
        TracedPacket::from_event_in(0, participant, &event, namespace)
    }

    fn raw(topic: &str, payload: &[u8]) -> Packet {
        let mut publish = Publish::new(topic, payload.to_vec(), QoS::AtLeastOnce);
        publish.packet_id = Some(1);
        publish.retain = true;
        Packet::Publish(publish)
    }

    #[test]
    fn the_lessons_outside_the_order_flow_have_their_edges_in_every_style() {
        for style in SagaStyle::ALL {
            let all = edges(style);
            for service in ServiceId::ALL {
                let node = Node::of(service);
                let status = presence::status_topic(service);
                let dead = dead_letter::deadletter_topic(service);
                for topic in [status.as_str(), dead.as_str()] {
                    let edge = all
                        .iter()
                        .find(|e| (e.from, e.to, e.topic) == (node, Node::Broker, Some(topic)));
                    assert!(edge.is_some(), "{style:?} {service} {topic}");
                }
                // No service subscribes to a status, a stock level or a dead letter.
                assert!(!all.iter().any(|e| e.to == node
                    && e.topic.is_some_and(|t| {
                        t.starts_with("services/")
                            || t.starts_with("deadletter/")
                            || t.starts_with(INVENTORY_STOCK_PREFIX)
                    })));
            }
            let monitor: Vec<String> = all
                .iter()
                .filter(|e| e.from == Node::Monitor || e.to == Node::Monitor)
                .map(Edge::id)
                .collect();
            assert_eq!(
                monitor,
                [
                    "broker-monitor-services/+/status",
                    "broker-monitor-inventory/stock/+"
                ]
            );
            let stock: Vec<String> = all
                .iter()
                .filter(|e| e.topic == Some(INVENTORY_STOCK_FILTER))
                .map(Edge::id)
                .collect();
            assert_eq!(
                stock,
                [
                    "inventory-broker-inventory/stock/+",
                    "broker-monitor-inventory/stock/+"
                ]
            );
        }
        let will = Edge::new(Node::Broker, Node::Monitor, STATUS_FILTER);
        assert_eq!(will.kind(), EdgeKind::Delivery);
        assert_eq!(
            will.describe(),
            "The broker delivers services/+/status to Status monitor, which subscribes to it"
        );
        assert_eq!(will.topic_class(), "t-services-+-status");
    }

    #[test]
    fn a_status_a_will_a_stock_level_and_a_dead_letter_travel_their_edges() {
        use Direction::{Incoming, Outgoing};
        use Participant::Monitor;
        let service = Participant::Service;
        let will = Presence::will(ServiceId::Payment, "eda-test-payment").to_json();
        let online = br#"{"service":"OrderService","status":"online","clientId":"eda-test-order"}"#;
        let level = br#"{"productId":"P001","units":8}"#;
        let table: [(Participant, Direction, &str, &[u8], &str); 9] = [
            (
                service(ServiceId::Order),
                Outgoing,
                "services/order/status",
                online,
                "order-broker-services/order/status",
            ),
            // A second PaymentService instance's status, on PaymentService's edge.
            (
                service(ServiceId::Payment),
                Outgoing,
                "services/payment-2/status",
                online,
                "payment-broker-services/payment/status",
            ),
            (
                service(ServiceId::Inventory),
                Outgoing,
                "inventory/stock/P001",
                level,
                "inventory-broker-inventory/stock/+",
            ),
            // An empty retained message clears a level: a PUBLISH all the same.
            (
                service(ServiceId::Inventory),
                Outgoing,
                "inventory/stock/P002",
                b"",
                "inventory-broker-inventory/stock/+",
            ),
            (
                service(ServiceId::Payment),
                Outgoing,
                "deadletter/payment",
                b"{}",
                "payment-broker-deadletter/payment",
            ),
            (
                service(ServiceId::Query),
                Outgoing,
                "deadletter/query",
                b"{}",
                "query-broker-deadletter/query",
            ),
            // The Last Will the broker publishes for a crashed PaymentService.
            (
                Monitor,
                Incoming,
                "services/payment/status",
                &will,
                "broker-monitor-services/+/status",
            ),
            (
                Monitor,
                Incoming,
                "services/order/status",
                online,
                "broker-monitor-services/+/status",
            ),
            (
                Monitor,
                Incoming,
                "inventory/stock/P001",
                level,
                "broker-monitor-inventory/stock/+",
            ),
        ];
        let ns: Namespace = "class-7".parse().unwrap();
        for (participant, direction, topic, payload, id) in table {
            let plain = traced_in(
                participant,
                direction,
                raw(topic, payload),
                &Namespace::none(),
            );
            assert_eq!(
                edge_of(&plain).map(|e| e.id()).as_deref(),
                Some(id),
                "{participant:?} {direction:?} {topic}"
            );
            // Under a topic namespace the wire's topic is `class-7/…`: the same edge.
            let wire = ns.wire(topic);
            let namespaced = traced_in(participant, direction, raw(&wire, payload), &ns);
            assert_eq!(namespaced.wire_topic(), Some(wire.as_str()));
            assert_eq!(edge_of(&namespaced), edge_of(&plain), "{wire}");
        }
    }

    #[test]
    fn statuses_stock_levels_and_dead_letters_of_others_travel_none() {
        use Direction::{Incoming, Outgoing};
        use Participant::Monitor;
        let service = Participant::Service;
        let ns: Namespace = "class-7".parse().unwrap();
        let cases = [
            // Each service publishes its own status and dead letters, and only
            // InventoryService a stock level.
            (
                service(ServiceId::Payment),
                Outgoing,
                "services/order/status",
                Namespace::none(),
            ),
            (
                service(ServiceId::Order),
                Outgoing,
                "services/order-2/status",
                Namespace::none(),
            ),
            (
                service(ServiceId::Payment),
                Outgoing,
                "deadletter/order",
                Namespace::none(),
            ),
            (
                service(ServiceId::Payment),
                Outgoing,
                "inventory/stock/P001",
                Namespace::none(),
            ),
            (
                service(ServiceId::Order),
                Outgoing,
                "deadletter/+",
                Namespace::none(),
            ),
            // Nobody in the page subscribes to these but the monitor.
            (
                service(ServiceId::Payment),
                Incoming,
                "services/payment/status",
                Namespace::none(),
            ),
            (
                service(ServiceId::Inventory),
                Incoming,
                "inventory/stock/P001",
                Namespace::none(),
            ),
            (
                service(ServiceId::Order),
                Incoming,
                "deadletter/payment",
                Namespace::none(),
            ),
            // The monitor publishes nothing, and hears only its two filters.
            (
                Monitor,
                Outgoing,
                "services/payment/status",
                Namespace::none(),
            ),
            (Monitor, Incoming, "deadletter/payment", Namespace::none()),
            (Monitor, Incoming, "orders/created", Namespace::none()),
            (
                Monitor,
                Incoming,
                "services/payment/extra/status",
                Namespace::none(),
            ),
            // Another class's status on a shared broker, outside the page's namespace.
            (
                Monitor,
                Incoming,
                "class-8/services/payment/status",
                ns.clone(),
            ),
        ];
        for (participant, direction, topic, namespace) in cases {
            let packet = traced_in(participant, direction, raw(topic, b"{}"), &namespace);
            assert_eq!(
                edge_of(&packet),
                None,
                "{participant:?} {direction:?} {topic}"
            );
        }
        let ack = traced_in(Monitor, Incoming, Packet::PubAck(Ack::new(1)), &ns);
        assert_eq!(edge_of(&ack), None);
    }

    #[test]
    fn the_lessons_labels_are_the_services_topics() {
        for service in ServiceId::ALL {
            assert_eq!(status_topic(service), presence::status_topic(service));
            assert_eq!(
                deadletter_topic(service),
                dead_letter::deadletter_topic(service)
            );
        }
    }
}
