use super::*;

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
    for (orientation, style) in [Orientation::Wide, Orientation::Narrow]
        .into_iter()
        .flat_map(|o| SagaStyle::ALL.map(|s| (o, s)))
    {
        let layout = flow_layout(orientation, style);
        assert_eq!(
            layout.nodes.iter().map(|b| b.node).collect::<Vec<_>>(),
            Node::ALL
        );
        assert_eq!(
            layout.lines.iter().map(|l| l.edge).collect::<Vec<_>>(),
            edges(style)
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
    let wide = flow_layout(Orientation::Wide, SagaStyle::Parallel);
    let broker = wide.node(Node::Broker);
    assert!(wide.node(Node::Order).x < broker.x);
    for node in [Node::Payment, Node::Inventory, Node::Notification] {
        assert!(wide.node(node).x > broker.x, "{node:?}");
    }
    let narrow = flow_layout(Orientation::Narrow, SagaStyle::Parallel);
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
fn the_status_monitor_sits_under_query_service_and_no_edge_crosses_a_box_or_another_edge() {
    for (orientation, style) in [Orientation::Wide, Orientation::Narrow]
        .into_iter()
        .flat_map(|o| SagaStyle::ALL.map(|s| (o, s)))
    {
        let layout = flow_layout(orientation, style);
        let (monitor, query, broker) = (
            layout.node(Node::Monitor),
            layout.node(Node::Query),
            layout.node(Node::Broker),
        );
        // Left of the broker, under QueryService, the lowest box of its column.
        assert_eq!(monitor.x, query.x, "{orientation:?}");
        assert_eq!(
            monitor.y,
            query.y + query.height + ROW_GAP,
            "{orientation:?}"
        );
        assert!(monitor.x + monitor.width < broker.x);
        assert!(layout
            .nodes
            .iter()
            .all(|b| b.x != monitor.x || b.y <= monitor.y));
        assert!(monitor.y + monitor.height <= broker.y + broker.height);
        let into_monitor: Vec<&str> = layout
            .lines
            .iter()
            .filter(|l| l.edge.to == Node::Monitor)
            .map(|l| l.edge.label())
            .collect();
        assert_eq!(into_monitor, ["services/+/status", "inventory/stock/+"]);
        // Every edge is horizontal (the request vertical) and passes through no box but its
        // two ends: so, with every box alone in its rows on its side, no two edges cross.
        for line in &layout.lines {
            for b in &layout.nodes {
                if b.node == line.edge.from || b.node == line.edge.to {
                    continue;
                }
                let (x1, x2) = (line.x1.min(line.x2), line.x1.max(line.x2));
                let (y1, y2) = (line.y1.min(line.y2), line.y1.max(line.y2));
                let through = x1 < b.x + b.width && b.x < x2 && y1 <= b.y + b.height && b.y <= y2;
                assert!(
                    !through,
                    "{orientation:?} {} through {:?}",
                    line.edge.id(),
                    b.node
                );
            }
            for other in &layout.lines {
                let vertical = |l: &EdgeLine| l.x1 == l.x2;
                if let (true, false) = (vertical(line), vertical(other)) {
                    let crosses = (other.x1.min(other.x2) < line.x1
                        && line.x1 < other.x1.max(other.x2))
                        && (line.y1.min(line.y2) < other.y1 && other.y1 < line.y1.max(line.y2));
                    assert!(!crosses, "{} crosses {}", line.edge.id(), other.edge.id());
                }
            }
        }
    }
}
