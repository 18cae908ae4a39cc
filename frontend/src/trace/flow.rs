//! The flow diagram as data: the order flow's six nodes and the edges between them, where each
//! goes on the page, which edge a traced PUBLISH travelled, the moving dots ("pulses") of the
//! last moments, and what each node's badge says.
//!
//! The broker is a tall bar; every service talks to it over straight, horizontal edges, one per
//! topic and direction, so parallel edges never cross and each topic keeps its own label. One
//! order is then one PUBLISH into the broker and three deliveries out of it: fan-out is what the
//! picture shows when the packets arrive.
//!
//! Pulses come from the packet history only: one per PUBLISH packet event (and one per click of
//! "Place order"), keyed by the packet's `seq`, stamped with the time the packet was sent or
//! received. Nothing here guesses when a message moves.
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{Packet, Publish};
//! use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
//! use frontend::services::ServiceId;
//! use frontend::trace::flow::{pulses, Edge, Node};
//! use frontend::trace::{ActionLog, PacketHistory};
//!
//! let mut history = PacketHistory::new(100);
//! let packet = Packet::Publish(Publish::new("orders/created", b"{}".to_vec(), QoS::AtMostOnce));
//! let event = PacketEvent {
//!     at: Duration::from_millis(1000),
//!     client_id: "eda-demo-payment".into(),
//!     direction: Direction::Incoming,
//!     bytes: packet.encode(ProtocolVersion::V311).unwrap(),
//!     packet,
//! };
//! let seq = history.record(ServiceId::Payment, &event);
//!
//! let now = Duration::from_millis(1200);
//! let shown = pulses(&history, &ActionLog::new(10), now, Duration::from_secs(2), 60);
//! assert_eq!(shown.shown.len(), 1);
//! assert_eq!(shown.shown[0].edge, Edge::new(Node::Broker, Node::Payment, "orders/created"));
//! assert_eq!(shown.shown[0].key.id(), format!("p{seq}"));
//! ```

use std::time::Duration;

use broker_bridge::{Direction, PacketKind};
use uuid::Uuid;

use super::history::{ActionLog, PacketHistory, UserAction};
use super::packet::TracedPacket;
use crate::services::ServiceId;
use crate::state::{LastOutcome, LinkView, WorkView};

/// How long a dot stays on the page after its packet; the animation itself is shorter.
pub const PULSE_WINDOW: Duration = Duration::from_secs(2);
/// Dots drawn at once; beyond that each edge shows how many it did not draw.
pub const MAX_PULSES: usize = 60;

// ---------------------------------------------------------------------------------------------
// Nodes and edges

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
}

impl Node {
    pub const ALL: [Node; 6] = [
        Node::Client,
        Node::Order,
        Node::Broker,
        Node::Payment,
        Node::Inventory,
        Node::Notification,
    ];

    /// The node of a service.
    pub fn of(service: ServiceId) -> Node {
        match service {
            ServiceId::Order => Node::Order,
            ServiceId::Payment => Node::Payment,
            ServiceId::Inventory => Node::Inventory,
            ServiceId::Notification => Node::Notification,
        }
    }

    /// The service the node stands for, if it is one.
    pub fn service(self) -> Option<ServiceId> {
        match self {
            Node::Client | Node::Broker => None,
            Node::Order => Some(ServiceId::Order),
            Node::Payment => Some(ServiceId::Payment),
            Node::Inventory => Some(ServiceId::Inventory),
            Node::Notification => Some(ServiceId::Notification),
        }
    }

    /// For test selectors and edge ids: the service's slug, `client` or `broker`.
    pub fn slug(self) -> &'static str {
        match self {
            Node::Client => "client",
            Node::Broker => "broker",
            other => other.service().map(ServiceId::slug).unwrap_or_default(),
        }
    }

    /// The name written in the box.
    pub fn name(self) -> &'static str {
        match self {
            Node::Client => "Order form",
            Node::Broker => "MQTT broker",
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

/// Every edge: the request, then per service (in [`ServiceId::ALL`]'s order) the deliveries of
/// what it subscribes to and the publishes of what it publishes, as the services declare them.
pub fn edges() -> Vec<Edge> {
    let mut edges = vec![Edge::PLACE_ORDER];
    for service in ServiceId::ALL {
        let node = Node::of(service);
        for &topic in service.subscriptions() {
            edges.push(Edge::new(Node::Broker, node, topic));
        }
        for &topic in service.publications() {
            edges.push(Edge::new(node, Node::Broker, topic));
        }
    }
    edges
}

/// The edge a traced packet travelled: a PUBLISH a service sent goes from it to the broker on
/// its topic, a PUBLISH it received from the broker to it on the subscription that matched.
/// Every other packet, and a PUBLISH on a topic the diagram has no edge for, travels none.
pub fn edge_of(packet: &TracedPacket) -> Option<Edge> {
    if packet.kind != PacketKind::Publish {
        return None;
    }
    let topic = packet.topic.as_deref()?;
    let node = Node::of(packet.service);
    match packet.direction {
        Direction::Outgoing => packet
            .service
            .publications()
            .iter()
            .find(|&&name| name == topic)
            .map(|&name| Edge::new(node, Node::Broker, name)),
        Direction::Incoming => packet
            .service
            .subscriptions()
            .iter()
            .find(|&&filter| broker_bridge::topic::matches(filter, topic))
            .map(|&filter| Edge::new(Node::Broker, node, filter)),
    }
}

// ---------------------------------------------------------------------------------------------
// Pulses

/// What a dot stands for, and its identity on the page: a new key is a new animation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PulseKey {
    /// The n-th click of "Place order" since the page opened (first among equal times: the
    /// click causes the PUBLISH).
    Click(u64),
    /// The packet with this [`TracedPacket::seq`].
    Packet(u64),
}

impl PulseKey {
    /// Unique on the page: `p<seq>` or `c<n>`.
    pub fn id(&self) -> String {
        match self {
            PulseKey::Packet(seq) => format!("p{seq}"),
            PulseKey::Click(n) => format!("c{n}"),
        }
    }

    pub fn seq(&self) -> Option<u64> {
        match self {
            PulseKey::Packet(seq) => Some(*seq),
            PulseKey::Click(_) => None,
        }
    }
}

/// One dot travelling one edge, from the moment its packet was sent or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pulse {
    pub key: PulseKey,
    pub edge: Edge,
    pub order_id: Option<Uuid>,
    /// When the packet was sent or received (the click made), on the packets' clock.
    pub at: Duration,
}

/// The dots to draw now, and per edge how many more there were.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pulses {
    /// Oldest first, at most the `max` asked for: the newest ones.
    pub shown: Vec<Pulse>,
    /// Edges whose recent dots were not all drawn, with how many were left out, in
    /// [`edges`]'s order.
    pub hidden: Vec<(Edge, usize)>,
}

/// The pulses of the PUBLISH packets and clicks of the last `window` before `now`; at most
/// `max` of them drawn, the newest, the others counted per edge.
pub fn pulses(
    history: &PacketHistory,
    actions: &ActionLog,
    now: Duration,
    window: Duration,
    max: usize,
) -> Pulses {
    let recent = |at: Duration| now.saturating_sub(at) <= window;
    // Packets are recorded as they happen: the recent ones are at the back.
    let mut all: Vec<Pulse> = history
        .iter()
        .rev()
        .take_while(|p| recent(p.at))
        .filter_map(|p| {
            edge_of(p).map(|edge| Pulse {
                key: PulseKey::Packet(p.seq),
                edge,
                order_id: p.order_id,
                at: p.at,
            })
        })
        .collect();
    // The clicks, numbered from the first ever made (the log's dropped ones included).
    let first = actions.dropped();
    all.extend(
        actions
            .iter()
            .enumerate()
            .filter(|(_, action)| recent(action.at()))
            .map(|(index, action)| match *action {
                UserAction::PlacedOrder { at, order_id } => Pulse {
                    key: PulseKey::Click(first + index as u64),
                    edge: Edge::PLACE_ORDER,
                    order_id: Some(order_id),
                    at,
                },
            }),
    );
    all.sort_by_key(|p| (p.at, p.key));
    let cut = all.len().saturating_sub(max);
    let shown = all.split_off(cut);
    let hidden = edges()
        .into_iter()
        .map(|edge| (edge, all.iter().filter(|p| p.edge == edge).count()))
        .filter(|&(_, n)| n > 0)
        .collect();
    Pulses { shown, hidden }
}

// ---------------------------------------------------------------------------------------------
// Node states

/// A node's link to the broker, as its badge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Connected,
    Disconnected,
}

impl Link {
    pub fn of(link: &LinkView) -> Link {
        match link {
            LinkView::Connecting { .. } => Link::Connecting,
            LinkView::Connected => Link::Connected,
            LinkView::Disconnected { .. } => Link::Disconnected,
        }
    }

    /// For `data-state`, as the status strip says it.
    pub fn word(self) -> &'static str {
        match self {
            Link::Connecting => "connecting",
            Link::Connected => "connected",
            Link::Disconnected => "disconnected",
        }
    }

    /// Shape as well as colour (the status strip's symbols).
    pub fn symbol(self) -> &'static str {
        match self {
            Link::Connecting => "◌",
            Link::Connected => "●",
            Link::Disconnected => "✕",
        }
    }
}

/// What a node is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    Idle,
    /// Simulated work in hand: how many pieces, and how long until the first is due.
    Working {
        orders: usize,
        due_in: Duration,
    },
    Done,
    Failed {
        reason: String,
    },
}

impl Activity {
    /// For `data-activity`.
    pub fn word(&self) -> &'static str {
        match self {
            Activity::Idle => "idle",
            Activity::Working { .. } => "working",
            Activity::Done => "done",
            Activity::Failed { .. } => "failed",
        }
    }

    pub fn symbol(&self) -> &'static str {
        match self {
            Activity::Idle => "–",
            Activity::Working { .. } => "◔",
            Activity::Done => "✓",
            Activity::Failed { .. } => "⚠",
        }
    }
}

/// Everything a node's badge shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    pub node: Node,
    /// `None` for the order form, which is the page itself.
    pub link: Option<Link>,
    pub activity: Activity,
}

impl NodeState {
    /// The one word the node's frame is drawn for (its colour and line style): a link that is
    /// not up overrides the activity, which carries on underneath (work finishes while
    /// disconnected, and its result waits for the broker).
    pub fn look(&self) -> &'static str {
        match self.link {
            Some(link @ (Link::Disconnected | Link::Connecting)) => link.word(),
            _ => self.activity.word(),
        }
    }

    /// The link line, e.g. `● connected`; the broker is `reachable` when any service reaches it.
    pub fn link_text(&self) -> Option<String> {
        let link = self.link?;
        let word = match (self.node, link) {
            (Node::Broker, Link::Connected) => "reachable",
            (Node::Broker, Link::Disconnected) => "unreachable",
            (_, link) => link.word(),
        };
        Some(format!("{} {word}", link.symbol()))
    }

    /// The activity line, e.g. `◔ working 0.6 s`. The broker has none.
    pub fn activity_text(&self) -> Option<String> {
        let symbol = self.activity.symbol();
        let words = match (&self.activity, self.node) {
            (_, Node::Broker) => return None,
            (Activity::Working { orders: 1, due_in }, _) => {
                format!("working {}", seconds(*due_in))
            }
            (Activity::Working { orders, due_in }, _) => {
                format!("{orders} orders, next {}", seconds(*due_in))
            }
            (Activity::Done, Node::Client) => "order placed".to_owned(),
            (Activity::Failed { .. }, Node::Client) => "refused".to_owned(),
            (Activity::Idle, Node::Client) => "ready".to_owned(),
            (activity, _) => activity.word().to_owned(),
        };
        Some(format!("{symbol} {words}"))
    }

    /// The node in a sentence, for screen readers and the tooltip: `<name>, <link>: <activity>`.
    pub fn describe(&self) -> String {
        let name = self.node.name();
        let link = self.link.map(|link| match (self.node, link) {
            (Node::Broker, Link::Connected) => "reached by the services",
            (Node::Broker, Link::Disconnected) => "no service reaches it",
            (Node::Broker, Link::Connecting) => "the services are connecting",
            (_, link) => link.word(),
        });
        let activity = match (&self.activity, self.node) {
            (_, Node::Broker) => None,
            (Activity::Working { orders, due_in }, _) => Some(format!(
                "working on {orders} order{}, next done in {}",
                if *orders == 1 { "" } else { "s" },
                seconds(*due_in)
            )),
            (Activity::Failed { reason }, Node::Client) => Some(format!("refused: {reason}")),
            (Activity::Failed { reason }, _) => Some(format!("failed: {reason}")),
            (Activity::Done, Node::Client) => Some("order placed".to_owned()),
            (Activity::Idle, Node::Client) => Some("ready".to_owned()),
            (activity, _) => Some(activity.word().to_owned()),
        };
        match (link, activity) {
            (Some(link), Some(activity)) => format!("{name}, {link}: {activity}"),
            (Some(only), None) => format!("{name}: {only}"),
            (None, Some(only)) => format!("{name}: {only}"),
            (None, None) => name.to_owned(),
        }
    }
}

/// `0.6 s`: tenths, rounded up, so the count reaches `0.0 s` only when it is due.
pub fn seconds(duration: Duration) -> String {
    let tenths = duration.as_millis().div_ceil(100);
    format!("{}.{} s", tenths / 10, tenths % 10)
}

/// A service's badge: its link, and its work in hand first, else how its last message or work
/// ended. `now` is on the packets' clock, like the work's due times.
pub fn service_state(
    service: ServiceId,
    link: &LinkView,
    work: &WorkView,
    now: Duration,
) -> NodeState {
    let activity = match work.pending.iter().map(|w| w.due).min() {
        Some(due) => Activity::Working {
            orders: work.pending.len(),
            due_in: due.saturating_sub(now),
        },
        None => match &work.last {
            LastOutcome::Idle => Activity::Idle,
            LastOutcome::Done => Activity::Done,
            LastOutcome::Failed(reason) => Activity::Failed {
                reason: reason.clone(),
            },
        },
    };
    NodeState {
        node: Node::of(service),
        link: Some(Link::of(link)),
        activity,
    }
}

/// The broker as the services see it: reachable while any of them is connected, unreachable
/// when all of them are disconnected, else connecting.
pub fn broker_state<'a>(links: impl IntoIterator<Item = &'a LinkView>) -> NodeState {
    let links: Vec<Link> = links.into_iter().map(Link::of).collect();
    let link = if links.contains(&Link::Connected) {
        Link::Connected
    } else if !links.is_empty() && links.iter().all(|&l| l == Link::Disconnected) {
        Link::Disconnected
    } else {
        Link::Connecting
    };
    NodeState {
        node: Node::Broker,
        link: Some(link),
        activity: Activity::Idle,
    }
}

/// The order form: refused (with the reason the form shows), an order placed, or ready.
pub fn client_state(placed_order: Option<Uuid>, refusal: Option<&str>) -> NodeState {
    let activity = match (refusal, placed_order) {
        (Some(reason), _) => Activity::Failed {
            reason: reason.to_owned(),
        },
        (None, Some(_)) => Activity::Done,
        (None, None) => Activity::Idle,
    };
    NodeState {
        node: Node::Client,
        link: None,
        activity,
    }
}

// ---------------------------------------------------------------------------------------------
// Layout

/// Wide: OrderService left of the broker, the three subscribers right of it. Narrow (a
/// phone): every service in one column left of the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Wide,
    Narrow,
}

const MARGIN: f64 = 12.0;
pub const NODE_WIDTH: f64 = 164.0;
const NODE_MIN_HEIGHT: f64 = 56.0;
const CLIENT_HEIGHT: f64 = 44.0;
/// The form's request runs down from the form to OrderService.
const REQUEST_LENGTH: f64 = 40.0;
/// Between two parallel edges of one node.
const EDGE_GAP: f64 = 24.0;
/// The horizontal run of an edge between a node and the broker, and the broker's width: a
/// little tighter on a phone, whose stylesheet sets larger letters for the smaller scale.
const LANE: f64 = 150.0;
const NARROW_LANE: f64 = 132.0;
const BROKER_WIDTH: f64 = 112.0;
const NARROW_BROKER_WIDTH: f64 = 104.0;
const ROW_GAP: f64 = 16.0;

/// A node's box, in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeBox {
    pub node: Node,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl NodeBox {
    pub fn center_x(&self) -> f64 {
        self.x + self.width / 2.0
    }

    pub fn center_y(&self) -> f64 {
        self.y + self.height / 2.0
    }
}

/// An edge's straight line, from its tail to its head, and where its label goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeLine {
    pub edge: Edge,
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub label_x: f64,
    pub label_y: f64,
    /// SVG `text-anchor` of the label: `middle` above a horizontal edge, `start` beside a
    /// vertical one.
    pub label_anchor: &'static str,
}

impl EdgeLine {
    /// The SVG path, tail to head.
    pub fn path(&self) -> String {
        format!("M {} {} L {} {}", self.x1, self.y1, self.x2, self.y2)
    }

    /// The point `distance` back from the head along the line (where the count of dots not
    /// drawn sits: on the line, clear of the middle of its label).
    pub fn before_head(&self, distance: f64) -> (f64, f64) {
        let (dx, dy) = (self.x2 - self.x1, self.y2 - self.y1);
        let length = dx.hypot(dy);
        if length == 0.0 {
            return (self.x2, self.y2);
        }
        let back = distance.min(length) / length;
        (self.x2 - dx * back, self.y2 - dy * back)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowLayout {
    pub width: f64,
    pub height: f64,
    /// In [`Node::ALL`]'s order.
    pub nodes: Vec<NodeBox>,
    /// In [`edges`]'s order.
    pub lines: Vec<EdgeLine>,
}

impl FlowLayout {
    pub fn node(&self, node: Node) -> NodeBox {
        self.nodes
            .iter()
            .copied()
            .find(|b| b.node == node)
            .expect("flow_layout places every node")
    }

    pub fn line(&self, edge: Edge) -> Option<EdgeLine> {
        self.lines.iter().copied().find(|l| l.edge == edge)
    }
}

/// The edges between `node` and the broker, in [`edges`]'s order.
fn broker_edges(node: Node) -> Vec<Edge> {
    edges()
        .into_iter()
        .filter(|e| {
            (e.from, e.to) == (node, Node::Broker) || (e.from, e.to) == (Node::Broker, node)
        })
        .collect()
}

fn service_height(node: Node) -> f64 {
    let lanes = broker_edges(node).len() as f64;
    (lanes * EDGE_GAP + 16.0).max(NODE_MIN_HEIGHT)
}

/// Where everything goes. Fixed: the same for every state, so nothing jumps as the flow runs.
pub fn flow_layout(orientation: Orientation) -> FlowLayout {
    let (lane, broker_width) = match orientation {
        Orientation::Wide => (LANE, BROKER_WIDTH),
        Orientation::Narrow => (NARROW_LANE, NARROW_BROKER_WIDTH),
    };
    let left = MARGIN;
    let broker_x = left + NODE_WIDTH + lane;
    let right = broker_x + broker_width + lane;
    let client = NodeBox {
        node: Node::Client,
        x: left,
        y: MARGIN,
        width: NODE_WIDTH,
        height: CLIENT_HEIGHT,
    };
    let order_y = client.y + client.height + REQUEST_LENGTH;
    let service = |node: Node, x: f64, y: f64| NodeBox {
        node,
        x,
        y,
        width: NODE_WIDTH,
        height: service_height(node),
    };
    let order = service(Node::Order, left, order_y);
    // The subscribers, one under the other: right of the broker from the top, or under
    // OrderService.
    let (column_x, mut y) = match orientation {
        Orientation::Wide => (right, MARGIN),
        Orientation::Narrow => (left, order.y + order.height + ROW_GAP),
    };
    let mut subscribers = Vec::new();
    for node in [Node::Payment, Node::Inventory, Node::Notification] {
        let b = service(node, column_x, y);
        y = b.y + b.height + ROW_GAP;
        subscribers.push(b);
    }
    let bottom = subscribers
        .iter()
        .chain([&order])
        .map(|b| b.y + b.height)
        .fold(0.0, f64::max);
    let broker_top = match orientation {
        Orientation::Wide => MARGIN,
        Orientation::Narrow => order.y,
    };
    let broker = NodeBox {
        node: Node::Broker,
        x: broker_x,
        y: broker_top,
        width: broker_width,
        height: bottom - broker_top,
    };
    let width = match orientation {
        Orientation::Wide => right + NODE_WIDTH + MARGIN,
        Orientation::Narrow => broker_x + broker_width + MARGIN,
    };
    let mut nodes = vec![client, order, broker];
    nodes.extend(subscribers);
    nodes.sort_by_key(|b| b.node);

    let mut lines = Vec::new();
    for edge in edges() {
        if edge == Edge::PLACE_ORDER {
            let x = client.center_x();
            let (y1, y2) = (client.y + client.height, order.y);
            lines.push(EdgeLine {
                edge,
                x1: x,
                y1,
                x2: x,
                y2,
                label_x: x + 12.0,
                label_y: (y1 + y2) / 2.0 + 4.0,
                label_anchor: "start",
            });
            continue;
        }
        let node = if edge.from == Node::Broker {
            edge.to
        } else {
            edge.from
        };
        let b = nodes[node as usize];
        let lanes = broker_edges(node);
        let index = lanes.iter().position(|e| *e == edge).unwrap_or(0) as f64;
        // Centred on the box, a little low: each label sits above its line.
        let y = b.center_y() + (index - (lanes.len() as f64 - 1.0) / 2.0) * EDGE_GAP + 5.0;
        let (node_side, broker_side) = if b.x < broker.x {
            (b.x + b.width, broker.x)
        } else {
            (b.x, broker.x + broker.width)
        };
        let (x1, x2) = if edge.from == Node::Broker {
            (broker_side, node_side)
        } else {
            (node_side, broker_side)
        };
        lines.push(EdgeLine {
            edge,
            x1,
            y1: y,
            x2,
            y2: y,
            label_x: (x1 + x2) / 2.0,
            label_y: y - 8.0,
            label_anchor: "middle",
        });
    }
    FlowLayout {
        width,
        height: bottom + MARGIN,
        nodes,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use broker_bridge::packet::{Ack, Packet, Publish};
    use broker_bridge::{ProtocolVersion, QoS};

    use super::*;
    use crate::domain::topics::{INVENTORY_RESERVED, ORDERS_CREATED, PAYMENTS_PROCESSED};
    use crate::state::PendingWork;
    use crate::trace::script::{event_for, order, payload, Script};

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn traced(service: ServiceId, direction: Direction, packet: Packet) -> TracedPacket {
        let event = event_for(service, 1, direction, packet, ProtocolVersion::V311);
        TracedPacket::from_event(0, service, &event)
    }

    fn publish(topic: &str) -> Packet {
        let body = payload(topic, order(1)).into_bytes();
        Packet::Publish(Publish::new(topic, body, QoS::AtMostOnce))
    }

    #[test]
    fn the_edges_are_the_seed_s_publishes_and_subscriptions() {
        let ids: Vec<String> = edges().iter().map(Edge::id).collect();
        assert_eq!(
            ids,
            [
                "client-order-place-order",
                "order-broker-orders/created",
                "broker-payment-orders/created",
                "payment-broker-payments/processed",
                "broker-inventory-orders/created",
                "inventory-broker-inventory/reserved",
                "broker-notification-orders/created",
                "broker-notification-payments/processed",
                "broker-notification-inventory/reserved",
            ]
        );
        let kinds: Vec<EdgeKind> = edges().iter().map(Edge::kind).collect();
        assert_eq!(kinds[0], EdgeKind::Request);
        assert_eq!(
            (kinds[1], kinds[2], kinds[3]),
            (EdgeKind::Publish, EdgeKind::Delivery, EdgeKind::Publish)
        );
        assert_eq!(Edge::PLACE_ORDER.label(), "Place order");
        assert_eq!(edges()[3].topic_class(), "t-payments-processed");
        assert_eq!(
            edges()[6].describe(),
            "The broker delivers orders/created to NotificationService, which subscribes to it"
        );
        assert_eq!(
            edges()[1].describe(),
            "OrderService publishes orders/created to the broker"
        );
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
            (ServiceId::Order, Incoming, publish(ORDERS_CREATED)),
            (ServiceId::Payment, Incoming, publish(PAYMENTS_PROCESSED)),
            (
                ServiceId::Notification,
                Incoming,
                publish("orders/cancelled"),
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

    /// The seed's whole flow at `qos`, after the four connected and subscribed.
    fn one_order(qos: QoS) -> Script {
        let mut script = Script::new(ProtocolVersion::V311);
        script.connect_all();
        script.place_order(order(1), qos);
        script
    }

    fn count_by_edge(pulses: &[Pulse]) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for pulse in pulses {
            *counts.entry(pulse.edge.id()).or_default() += 1;
        }
        counts
    }

    #[test]
    fn one_order_is_one_pulse_per_publish_packet_keyed_by_its_seq() {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let script = one_order(qos);
            let now = script.now();
            let drawn = pulses(
                &script.history,
                &script.actions,
                now,
                PULSE_WINDOW,
                MAX_PULSES,
            );
            assert_eq!(drawn.hidden, []);
            let expected: HashMap<String, usize> = edges().iter().map(|e| (e.id(), 1)).collect();
            assert_eq!(count_by_edge(&drawn.shown), expected, "QoS {}", qos.level());
            assert!(drawn.shown.iter().all(|p| p.order_id == Some(order(1))));
            // Each packet pulse names its PUBLISH by seq, at the packet's own time.
            for pulse in &drawn.shown {
                let PulseKey::Packet(seq) = pulse.key else {
                    assert_eq!(pulse.edge, Edge::PLACE_ORDER);
                    continue;
                };
                let packet = script.history.get(seq).unwrap();
                assert_eq!(packet.kind, PacketKind::Publish);
                assert_eq!((packet.at, edge_of(packet)), (pulse.at, Some(pulse.edge)));
            }
            // The click first, then the publish into the broker, then its three deliveries.
            let order_of: Vec<String> = drawn.shown.iter().take(5).map(|p| p.edge.id()).collect();
            assert_eq!(order_of[0], "client-order-place-order");
            assert_eq!(order_of[1], "order-broker-orders/created");
            assert!(order_of[2..]
                .iter()
                .all(|id| id.ends_with("orders/created")));
        }
    }

    #[test]
    fn a_pulse_keeps_its_key_while_newer_packets_arrive_and_leaves_after_the_window() {
        let mut script = one_order(QoS::AtLeastOnce);
        let first = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            60,
        );
        script.place_order(order(2), QoS::AtLeastOnce);
        let second = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            60,
        );
        assert_eq!(
            second.shown[..first.shown.len()],
            first.shown[..],
            "same keys, same pulses"
        );
        let keys: Vec<PulseKey> = second.shown.iter().map(|p| p.key).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "keys are unique");
        assert!(keys.contains(&PulseKey::Click(0)) && keys.contains(&PulseKey::Click(1)));

        // Two seconds after the last packet of the first order, only the second's remain.
        let last_of_first = first.shown.last().unwrap().at;
        let later = last_of_first + PULSE_WINDOW + ms(1);
        let left = pulses(&script.history, &script.actions, later, PULSE_WINDOW, 60);
        assert!(!left.shown.is_empty());
        assert!(left.shown.iter().all(|p| p.order_id == Some(order(2))));
        let gone = script.now() + PULSE_WINDOW + ms(1);
        assert_eq!(
            pulses(&script.history, &script.actions, gone, PULSE_WINDOW, 60),
            Pulses::default()
        );
    }

    #[test]
    fn beyond_the_limit_the_newest_are_drawn_and_the_rest_counted_per_edge() {
        let mut script = Script::new(ProtocolVersion::V311);
        for n in 1..=10 {
            script.place_order(order(n), QoS::AtMostOnce);
        }
        let drawn = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            20,
        );
        assert_eq!(drawn.shown.len(), 20);
        let hidden: usize = drawn.hidden.iter().map(|(_, n)| n).sum();
        assert_eq!(hidden, 10 * 9 - 20);
        // The last order's nine are all drawn.
        assert_eq!(
            drawn
                .shown
                .iter()
                .filter(|p| p.order_id == Some(order(10)))
                .count(),
            9
        );
        assert!(
            drawn.shown.windows(2).all(|w| w[0].at <= w[1].at),
            "oldest first"
        );
        let oldest_drawn = drawn.shown[0].at;
        let everything = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            1000,
        );
        assert_eq!(everything.shown.len(), 90);
        let left_out: Vec<Pulse> = everything
            .shown
            .into_iter()
            .filter(|p| !drawn.shown.contains(p))
            .collect();
        assert_eq!(left_out.len(), hidden);
        assert!(
            left_out.iter().all(|p| p.at <= oldest_drawn),
            "what is hidden is older"
        );
        let per_edge = count_by_edge(&left_out);
        assert_eq!(drawn.hidden.len(), per_edge.len());
        for (edge, n) in &drawn.hidden {
            assert_eq!(per_edge.get(&edge.id()), Some(n), "{}", edge.id());
        }
        assert_eq!(
            pulses(
                &script.history,
                &script.actions,
                script.now(),
                PULSE_WINDOW,
                0
            )
            .shown,
            []
        );
    }

    #[test]
    fn clicks_are_numbered_from_the_first_even_after_the_log_dropped_some() {
        let mut actions = ActionLog::new(2);
        for n in 0..3 {
            actions.push(UserAction::PlacedOrder {
                at: ms(n),
                order_id: order(n as u128 + 1),
            });
        }
        let drawn = pulses(&PacketHistory::new(1), &actions, ms(10), PULSE_WINDOW, 60);
        let keys: Vec<String> = drawn.shown.iter().map(|p| p.key.id()).collect();
        assert_eq!(keys, ["c1", "c2"]);
        assert_eq!(drawn.shown[0].key.seq(), None);
        assert_eq!(PulseKey::Packet(7).seq(), Some(7));
    }

    fn work(pending: &[(u128, u64)], last: LastOutcome) -> WorkView {
        WorkView {
            pending: pending
                .iter()
                .map(|&(n, due)| PendingWork {
                    order_id: order(n),
                    due: ms(due),
                })
                .collect(),
            last,
        }
    }

    fn down() -> LinkView {
        LinkView::Disconnected {
            reason: "refused".into(),
            retry_in: ms(500),
            attempt: 1,
        }
    }

    #[test]
    fn a_service_works_from_the_start_of_its_work_counting_down_to_the_first_due() {
        let link = LinkView::Connected;
        let idle = service_state(ServiceId::Payment, &link, &WorkView::default(), ms(0));
        assert_eq!(
            (idle.link, idle.activity.clone()),
            (Some(Link::Connected), Activity::Idle)
        );
        assert_eq!(
            (
                idle.look(),
                idle.link_text().unwrap(),
                idle.activity_text().unwrap()
            ),
            ("idle", "● connected".to_owned(), "– idle".to_owned())
        );

        let one = service_state(
            ServiceId::Payment,
            &link,
            &work(&[(1, 1500)], LastOutcome::Idle),
            ms(1000),
        );
        assert_eq!(
            one.activity,
            Activity::Working {
                orders: 1,
                due_in: ms(500)
            }
        );
        assert_eq!(
            (one.look(), one.activity_text().unwrap()),
            ("working", "◔ working 0.5 s".to_owned())
        );
        assert_eq!(
            one.describe(),
            "PaymentService, connected: working on 1 order, next done in 0.5 s"
        );

        let two = service_state(
            ServiceId::Payment,
            &link,
            &work(&[(1, 1500), (2, 1250)], LastOutcome::Done),
            ms(1000),
        );
        assert_eq!(
            two.activity,
            Activity::Working {
                orders: 2,
                due_in: ms(250)
            }
        );
        assert_eq!(two.activity_text().unwrap(), "◔ 2 orders, next 0.3 s");

        // A timer that fires late counts down to zero and stays there.
        let late = service_state(
            ServiceId::Payment,
            &link,
            &work(&[(1, 1500)], LastOutcome::Idle),
            ms(1600),
        );
        assert_eq!(
            late.activity,
            Activity::Working {
                orders: 1,
                due_in: ms(0)
            }
        );
        assert_eq!(late.activity_text().unwrap(), "◔ working 0.0 s");
    }

    #[test]
    fn then_done_or_failed_until_the_next_work() {
        let link = LinkView::Connected;
        let done = service_state(
            ServiceId::Inventory,
            &link,
            &work(&[], LastOutcome::Done),
            ms(5),
        );
        assert_eq!(
            (done.look(), done.activity_text().unwrap()),
            ("done", "✓ done".to_owned())
        );
        let failed = service_state(
            ServiceId::Notification,
            &link,
            &work(&[], LastOutcome::Failed("payload is not JSON".into())),
            ms(5),
        );
        assert_eq!(
            failed.activity,
            Activity::Failed {
                reason: "payload is not JSON".into()
            }
        );
        assert_eq!(
            (failed.look(), failed.activity_text().unwrap()),
            ("failed", "⚠ failed".to_owned())
        );
        assert_eq!(
            failed.describe(),
            "NotificationService, connected: failed: payload is not JSON"
        );
        // Work in hand shows over the last outcome.
        let again = service_state(
            ServiceId::Inventory,
            &link,
            &work(&[(2, 900)], LastOutcome::Failed("x".into())),
            ms(100),
        );
        assert_eq!(again.activity.word(), "working");
    }

    #[test]
    fn a_link_that_is_not_up_overrides_the_look_and_the_work_goes_on_underneath() {
        let working = work(&[(1, 1000)], LastOutcome::Idle);
        let state = service_state(ServiceId::Payment, &down(), &working, ms(400));
        assert_eq!(state.link, Some(Link::Disconnected));
        assert_eq!(state.look(), "disconnected");
        assert_eq!(state.link_text().unwrap(), "✕ disconnected");
        assert_eq!(state.activity_text().unwrap(), "◔ working 0.6 s");
        let connecting = LinkView::Connecting { attempt: 2 };
        let state = service_state(
            ServiceId::Order,
            &connecting,
            &work(&[], LastOutcome::Done),
            ms(0),
        );
        assert_eq!(
            (state.look(), state.link_text().unwrap()),
            ("connecting", "◌ connecting".to_owned())
        );
    }

    #[test]
    fn the_broker_is_reachable_while_any_service_reaches_it() {
        let up = LinkView::Connected;
        let trying = LinkView::Connecting { attempt: 1 };
        let table = [
            (
                vec![down(), up.clone(), down()],
                Link::Connected,
                "● reachable",
            ),
            (vec![down(), down()], Link::Disconnected, "✕ unreachable"),
            (
                vec![down(), trying.clone()],
                Link::Connecting,
                "◌ connecting",
            ),
            (vec![], Link::Connecting, "◌ connecting"),
        ];
        for (links, expected, text) in table {
            let state = broker_state(&links);
            assert_eq!(state.link, Some(expected), "{links:?}");
            assert_eq!(state.link_text().as_deref(), Some(text));
            assert_eq!(state.activity_text(), None);
        }
        assert_eq!(
            broker_state(&[down()]).describe(),
            "MQTT broker: no service reaches it"
        );
    }

    #[test]
    fn the_order_form_is_ready_then_placed_or_refused() {
        let ready = client_state(None, None);
        assert_eq!(
            (ready.link, ready.look(), ready.activity_text().unwrap()),
            (None, "idle", "– ready".to_owned())
        );
        assert_eq!(ready.describe(), "Order form: ready");
        let placed = client_state(Some(order(1)), None);
        assert_eq!(
            (placed.look(), placed.activity_text().unwrap()),
            ("done", "✓ order placed".to_owned())
        );
        let refused = client_state(Some(order(1)), Some("OrderService is not connected"));
        assert_eq!(
            (refused.look(), refused.activity_text().unwrap()),
            ("failed", "⚠ refused".to_owned())
        );
        assert_eq!(
            refused.describe(),
            "Order form: refused: OrderService is not connected"
        );
        assert_eq!(refused.link_text(), None);
    }

    #[test]
    fn seconds_are_tenths_rounded_up() {
        let table = [
            (0, "0.0 s"),
            (1, "0.1 s"),
            (100, "0.1 s"),
            (101, "0.2 s"),
            (950, "1.0 s"),
            (12_340, "12.4 s"),
        ];
        for (millis, text) in table {
            assert_eq!(seconds(ms(millis)), text, "{millis} ms");
        }
    }

    fn inside(b: &NodeBox, x: f64, y: f64) -> bool {
        x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height
    }

    fn on_border(b: &NodeBox, x: f64, y: f64) -> bool {
        inside(b, x, y) && (x == b.x || x == b.x + b.width || y == b.y || y == b.y + b.height)
    }

    fn overlap(a: &NodeBox, b: &NodeBox) -> bool {
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    }

    #[test]
    fn every_edge_runs_from_the_border_of_its_tail_to_the_border_of_its_head() {
        for orientation in [Orientation::Wide, Orientation::Narrow] {
            let layout = flow_layout(orientation);
            assert_eq!(
                layout.nodes.iter().map(|b| b.node).collect::<Vec<_>>(),
                Node::ALL
            );
            assert_eq!(
                layout.lines.iter().map(|l| l.edge).collect::<Vec<_>>(),
                edges()
            );
            for line in &layout.lines {
                let (from, to) = (layout.node(line.edge.from), layout.node(line.edge.to));
                assert!(
                    on_border(&from, line.x1, line.y1),
                    "{orientation:?} {} tail",
                    line.edge.id()
                );
                assert!(
                    on_border(&to, line.x2, line.y2),
                    "{orientation:?} {} head",
                    line.edge.id()
                );
                assert!(line.x1 == line.x2 || line.y1 == line.y2, "straight");
                let length = (line.x2 - line.x1).abs() + (line.y2 - line.y1).abs();
                assert!(length >= 40.0, "{} is {length} long", line.edge.id());
                assert!(line
                    .path()
                    .starts_with(&format!("M {} {} L ", line.x1, line.y1)));
                let (x, y) = line.before_head(30.0);
                let back = (line.x2 - x).abs() + (line.y2 - y).abs();
                assert!((back - 30.0).abs() < 1e-9, "{} {back}", line.edge.id());
                let on_line = if line.x1 == line.x2 {
                    x == line.x1 && y.min(line.y1.min(line.y2)) == line.y1.min(line.y2)
                } else {
                    y == line.y1 && x.min(line.x1.min(line.x2)) == line.x1.min(line.x2)
                };
                assert!(on_line, "{} ({x}, {y})", line.edge.id());
            }
            // No two boxes overlap, all fit, and parallel edges keep their distance.
            for (i, a) in layout.nodes.iter().enumerate() {
                assert!(a.x >= 0.0 && a.y >= 0.0);
                assert!(a.x + a.width <= layout.width && a.y + a.height <= layout.height);
                for b in &layout.nodes[i + 1..] {
                    assert!(
                        !overlap(a, b),
                        "{orientation:?}: {:?} and {:?}",
                        a.node,
                        b.node
                    );
                }
            }
            for (i, a) in layout.lines.iter().enumerate() {
                for b in &layout.lines[i + 1..] {
                    if a.y1 == a.y2
                        && b.y1 == b.y2
                        && a.x1.min(a.x2) < b.x1.max(b.x2)
                        && b.x1.min(b.x2) < a.x1.max(a.x2)
                    {
                        assert!(
                            (a.y1 - b.y1).abs() >= EDGE_GAP,
                            "{} / {}",
                            a.edge.id(),
                            b.edge.id()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn wide_puts_the_subscribers_right_of_the_broker_and_narrow_fits_a_phone() {
        let wide = flow_layout(Orientation::Wide);
        let broker = wide.node(Node::Broker);
        assert!(wide.node(Node::Order).x < broker.x);
        for node in [Node::Payment, Node::Inventory, Node::Notification] {
            assert!(wide.node(node).x > broker.x, "{node:?}");
        }
        let narrow = flow_layout(Orientation::Narrow);
        let broker = narrow.node(Node::Broker);
        for node in Node::ALL.into_iter().filter(|&n| n != Node::Broker) {
            assert!(narrow.node(node).x < broker.x, "{node:?}");
        }
        assert!(narrow.width <= 430.0, "narrow is {} wide", narrow.width);
        assert!(wide.width > narrow.width && wide.height < narrow.height);
        // The request runs down from the form to OrderService.
        let request = narrow.line(Edge::PLACE_ORDER).unwrap();
        assert_eq!((request.x1, request.label_anchor), (request.x2, "start"));
        assert!(request.y1 < request.y2);
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
                "notification"
            ]
        );
        assert_eq!(
            (Node::Client.name(), Node::Broker.name()),
            ("Order form", "MQTT broker")
        );
        for service in ServiceId::ALL {
            assert_eq!(Node::of(service).service(), Some(service));
            assert_eq!(Node::of(service).name(), service.name());
        }
    }
}
