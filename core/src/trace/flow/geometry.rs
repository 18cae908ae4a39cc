//! Where the flow diagram's boxes and arrows go, wide or on a phone: fixed geometry, the same
//! for every state.

use super::edges::edges;
use super::{Edge, Node};
use crate::services::SagaStyle;

/// Wide: OrderService, QueryService and the status monitor left of the broker, the three
/// subscribers right of it. Narrow (a phone): every service, then the status monitor, in one
/// column left of the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Wide,
    Narrow,
}

const MARGIN: f64 = 12.0;
pub const NODE_WIDTH: f64 = 164.0;
const NODE_MIN_HEIGHT: f64 = 72.0;
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

/// The edges between `node` and the broker under `style`, in [`edges`]'s order.
fn broker_edges(node: Node, style: SagaStyle) -> Vec<Edge> {
    edges(style)
        .into_iter()
        .filter(|e| {
            (e.from, e.to) == (node, Node::Broker) || (e.from, e.to) == (Node::Broker, node)
        })
        .collect()
}

fn service_height(node: Node, style: SagaStyle) -> f64 {
    let lanes = broker_edges(node, style).len() as f64;
    (lanes * EDGE_GAP + 16.0).max(NODE_MIN_HEIGHT)
}

/// Where everything goes under `style` (which decides the edges). Fixed: the same for every
/// state, so nothing jumps as the flow runs.
pub fn flow_layout(orientation: Orientation, style: SagaStyle) -> FlowLayout {
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
        height: service_height(node, style),
    };
    let order = service(Node::Order, left, order_y);
    // The subscribers, one under the other: right of the broker from the top, or under
    // OrderService. The read side (QueryService) under OrderService, whose store it follows,
    // or last in the column; the status monitor under it (it handles no order). Every box
    // stands alone in its rows on its side of the broker, so its horizontal edges cross no
    // other.
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
    let query = match orientation {
        Orientation::Wide => service(Node::Query, left, order.y + order.height + ROW_GAP),
        Orientation::Narrow => service(Node::Query, left, y),
    };
    subscribers.push(query);
    subscribers.push(service(
        Node::Monitor,
        left,
        query.y + query.height + ROW_GAP,
    ));
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
    crate::stable_sort::by_key(&mut nodes, |b| b.node);

    let mut lines = Vec::new();
    for edge in edges(style) {
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
        let lanes = broker_edges(node, style);
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
mod tests;
