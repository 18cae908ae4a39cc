//! The flow diagram as data: the order form, the services, the broker and the status monitor,
//! the edges between them, where each goes on the page, which edge a traced PUBLISH travelled,
//! the moving dots ("pulses") of the last moments, and what each node's badge says.
//!
//! The broker is a tall bar; every service talks to it over straight, horizontal edges, one per
//! topic and direction, so parallel edges never cross and each topic keeps its own label. One
//! order is then one PUBLISH into the broker and three deliveries out of it: fan-out is what the
//! picture shows when the packets arrive. Below the order flow's edges, the wire's other lessons:
//! each service's retained status (`services/<service>/status`, whose Last Will the broker
//! publishes on a crash) and dead letters (`deadletter/<service>`), InventoryService's retained
//! stock levels (`inventory/stock/+`), and their deliveries to the status monitor.
//!
//! Pulses come from the packet history only: one per PUBLISH packet event (and one per click of
//! "Place order"), keyed by the packet's `seq`, stamped with the time the packet was sent or
//! received. Nothing here guesses when a message moves.
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{Packet, Publish};
//! use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
//! use eda_core::services::ServiceId;
//! use eda_core::trace::flow::{pulses, Edge, Node};
//! use eda_core::trace::{ActionLog, PacketHistory};
//!
//! let mut history = PacketHistory::new(100);
//! let packet = Packet::Publish(Publish::new("orders/created", b"{}".to_vec(), QoS::AtMostOnce));
//! let event = PacketEvent {
//!     at: Duration::from_millis(1000),
//!     client_id: "eda-demo-payment".into(),
//!     direction: Direction::Incoming,
//!     bytes: packet.encode(ProtocolVersion::V311).unwrap(),
//!     packet,
//!     protocol: ProtocolVersion::V311,
//!     skipped: None,
//! };
//! let seq = history.record(ServiceId::Payment, &event);
//!
//! let now = Duration::from_millis(1200);
//! let shown = pulses(&history, &ActionLog::new(10), now, Duration::from_secs(2), 60);
//! assert_eq!(shown.shown.len(), 1);
//! assert_eq!(shown.shown[0].edge, Edge::new(Node::Broker, Node::Payment, "orders/created"));
//! assert_eq!(shown.shown[0].key.id(), format!("p{seq}"));
//! ```

mod edges;
mod geometry;
mod nodes;
mod pulses;

pub use edges::{edge_of, edges};
pub use geometry::{flow_layout, EdgeLine, FlowLayout, NodeBox, Orientation, NODE_WIDTH};
pub use nodes::{
    broker_state, client_state, monitor_state, seconds, service_state, Activity, NodeState,
};
pub use pulses::{
    choose, pulses, recent_pulses, shown_pulses, Pulse, PulseKey, Pulses, MAX_PULSES, PULSE_WINDOW,
};

use crate::services::ServiceId;
use crate::trace::packet::Participant;

/// The boxes of the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// The order form: the seed's client, whose request OrderService answers.
    Client,
    Order,
    Broker,
    Payment,
    Inventory,
    Notification,
    /// The read side.
    Query,
    /// The page's sixth client (`eda-<session>-monitor`, decision 0024), subscribed to
    /// `services/+/status` and `inventory/stock/+`: the broker delivers it the services'
    /// statuses, their Last Wills and the retained stock levels. It handles no order.
    Monitor,
}

impl Node {
    pub const ALL: [Node; 8] = [
        Node::Client,
        Node::Order,
        Node::Broker,
        Node::Payment,
        Node::Inventory,
        Node::Notification,
        Node::Query,
        Node::Monitor,
    ];

    /// The node of a service.
    pub fn of(service: ServiceId) -> Node {
        match service {
            ServiceId::Order => Node::Order,
            ServiceId::Payment => Node::Payment,
            ServiceId::Inventory => Node::Inventory,
            ServiceId::Notification => Node::Notification,
            ServiceId::Query => Node::Query,
        }
    }

    /// The service the node stands for, if it is one.
    pub fn service(self) -> Option<ServiceId> {
        match self {
            Node::Client | Node::Broker | Node::Monitor => None,
            Node::Order => Some(ServiceId::Order),
            Node::Payment => Some(ServiceId::Payment),
            Node::Inventory => Some(ServiceId::Inventory),
            Node::Notification => Some(ServiceId::Notification),
            Node::Query => Some(ServiceId::Query),
        }
    }

    /// For test selectors and edge ids: the service's slug, `client`, `broker` or `monitor`.
    pub fn slug(self) -> &'static str {
        match self {
            Node::Client => "client",
            Node::Broker => "broker",
            Node::Monitor => Participant::Monitor.slug(),
            other => other.service().map(ServiceId::slug).unwrap_or_default(),
        }
    }

    /// The name written in the box; the status monitor's is its sequence-diagram lifeline's.
    pub fn name(self) -> &'static str {
        match self {
            Node::Client => "Order form",
            Node::Broker => "MQTT broker",
            Node::Monitor => Participant::Monitor.name(),
            other => other.service().map(ServiceId::name).unwrap_or_default(),
        }
    }
}

/// What travels an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// The user's click on "Place order" (the seed's `POST Order`).
    Request,
    /// A service's client publishes to the broker.
    Publish,
    /// The broker delivers to a subscriber.
    Delivery,
}

/// One arrow of the diagram: a topic published or subscribed, or the form's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edge {
    pub from: Node,
    pub to: Node,
    /// `None` only for the form's request.
    pub topic: Option<&'static str>,
}

impl Edge {
    /// The order form's click, into OrderService.
    pub const PLACE_ORDER: Edge = Edge {
        from: Node::Client,
        to: Node::Order,
        topic: None,
    };

    pub const fn new(from: Node, to: Node, topic: &'static str) -> Edge {
        Edge {
            from,
            to,
            topic: Some(topic),
        }
    }

    pub fn kind(&self) -> EdgeKind {
        match (self.from, self.to) {
            (_, Node::Broker) => EdgeKind::Publish,
            (Node::Broker, _) => EdgeKind::Delivery,
            _ => EdgeKind::Request,
        }
    }

    /// The words on the arrow: its topic, or "Place order".
    pub fn label(&self) -> &'static str {
        self.topic.unwrap_or("Place order")
    }

    /// `<from>-<to>-<topic>`, e.g. `order-broker-orders/created`; `client-order-place-order`.
    pub fn id(&self) -> String {
        format!(
            "{}-{}-{}",
            self.from.slug(),
            self.to.slug(),
            self.topic.unwrap_or("place-order")
        )
    }

    /// A CSS class naming the topic, e.g. `t-orders-created`.
    pub fn topic_class(&self) -> String {
        format!(
            "t-{}",
            self.topic.unwrap_or("place-order").replace('/', "-")
        )
    }

    /// The edge in a sentence, for screen readers.
    pub fn describe(&self) -> String {
        match self.kind() {
            EdgeKind::Request => "The order form asks OrderService to place an order".to_owned(),
            EdgeKind::Publish => format!(
                "{} publishes {} to the broker",
                self.from.name(),
                self.label()
            ),
            EdgeKind::Delivery => format!(
                "The broker delivers {} to {}, which subscribes to it",
                self.label(),
                self.to.name()
            ),
        }
    }
}

/// The diagram is one Tab stop (a roving tab stop, as WAI-ARIA's authoring practices describe
/// for a composite widget): the keyboard reaches its nodes and edges with the arrow keys. Of
/// `len` items in the order drawn (nodes, then edges), with the focus on item `at`: the index
/// `key` (a `KeyboardEvent.key`) moves the focus to. `ArrowRight`/`ArrowDown` the next,
/// `ArrowLeft`/`ArrowUp` the one before (neither wraps), `Home` the first, `End` the last;
/// `None` for any other key, or no items.
///
/// ```
/// use eda_core::trace::flow::roving_step;
/// assert_eq!(roving_step(5, 1, "ArrowRight"), Some(2));
/// assert_eq!(roving_step(5, 4, "ArrowDown"), Some(4));
/// assert_eq!(roving_step(5, 0, "ArrowUp"), Some(0));
/// assert_eq!(roving_step(5, 3, "Home"), Some(0));
/// assert_eq!(roving_step(5, 3, "End"), Some(4));
/// assert_eq!(roving_step(5, 3, "Tab"), None);
/// ```
pub fn roving_step(len: usize, at: usize, key: &str) -> Option<usize> {
    let last = len.checked_sub(1)?;
    let at = at.min(last);
    match key {
        "ArrowRight" | "ArrowDown" => Some((at + 1).min(last)),
        "ArrowLeft" | "ArrowUp" => Some(at.saturating_sub(1)),
        "Home" => Some(0),
        "End" => Some(last),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roving_step_with_no_items_moves_nowhere() {
        assert_eq!(roving_step(0, 0, "ArrowRight"), None);
        assert_eq!(roving_step(0, 0, "End"), None);
    }

    #[test]
    fn nodes_have_slugs_names_and_services() {
        let slugs: Vec<&str> = Node::ALL.iter().map(|n| n.slug()).collect();
        assert_eq!(
            slugs,
            [
                "client",
                "order",
                "broker",
                "payment",
                "inventory",
                "notification",
                "query",
                "monitor"
            ]
        );
        assert_eq!(
            (Node::Client.name(), Node::Broker.name()),
            ("Order form", "MQTT broker")
        );
        assert_eq!(
            (Node::Monitor.name(), Node::Monitor.service()),
            ("Status monitor", None)
        );
        for service in ServiceId::ALL {
            assert_eq!(Node::of(service).service(), Some(service));
            assert_eq!(Node::of(service).name(), service.name());
        }
    }
}
