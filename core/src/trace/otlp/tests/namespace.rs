//! Every view that classifies packets by topic reads a page under a topic namespace (`?ns=`)
//! as it reads the same page without one: the same sagas (real decisions, see `wire.rs`), their
//! topics put under `class-7/` on the wire, classified the same way; the packet inspector and
//! the OTLP destinations show the wire's topics.

use broker_bridge::{Packet, PacketEvent, ProtocolVersion, QoS};

use super::super::wire::Wire;
use super::*;
use crate::domain::namespace::Namespace;
use crate::services::{SagaStyle, Stock};
use crate::trace::dead_letters::dead_letters;
use crate::trace::flow::edge_of;
use crate::trace::orders::{OrderBook, ORDERS_KEPT};
use crate::trace::recording;
use crate::trace::{ActionLog, PacketHistory, Trace};

/// `plain`'s packets as a page under `ns` would have sent and received them: every PUBLISH's
/// topic and every SUBSCRIBE's filter under the namespace, the bytes encoded again.
fn under(ns: &Namespace, plain: &PacketHistory) -> PacketHistory {
    let mut history = PacketHistory::new(plain.capacity()).with_namespace(ns.clone());
    for traced in plain.iter() {
        let mut packet = traced.packet.as_ref().clone();
        match &mut packet {
            Packet::Publish(p) => p.topic = ns.wire(&p.topic),
            Packet::Subscribe(s) => {
                for (filter, _) in &mut s.filters {
                    *filter = ns.wire_filter(filter);
                }
            }
            _ => {}
        }
        let event = PacketEvent {
            at: traced.at,
            client_id: traced.client_id.clone(),
            direction: traced.direction,
            bytes: packet.encode(ProtocolVersion::V311).unwrap(),
            packet,
            protocol: ProtocolVersion::V311,
            skipped: None,
        };
        history.record(traced.participant, &event);
    }
    history
}

/// Sagas of every kind: confirmed, declined (a cancellation and a refund), dead-lettered.
fn sagas() -> Vec<Wire> {
    let mut wires = Vec::new();
    for style in SagaStyle::ALL {
        let mut wire = Wire::new(
            settings(style, |s| {
                s.payment.decline_over =
                    Some(crate::services::settings::parse_limit("100").unwrap())
            }),
            QoS::AtLeastOnce,
        );
        wire.place(order(1), 2);
        wire.place(order(2), 5);
        wire.settle();
        wires.push(wire);
    }
    let mut dead = Wire::new(
        settings(SagaStyle::Parallel, |s| {
            s.stock = Stock::parse("P002:5").unwrap()
        }),
        QoS::ExactlyOnce,
    );
    dead.place(order(3), 1);
    dead.settle();
    wires.push(dead);
    wires
}

#[test]
fn every_packet_is_classified_as_without_a_namespace() {
    let ns: Namespace = "class-7".parse().unwrap();
    for wire in sagas() {
        let plain = &wire.history;
        let namespaced = under(&ns, plain);
        assert_eq!(namespaced.len(), plain.len());
        let mut publishes = 0;
        for (a, b) in plain.iter().zip(namespaced.iter()) {
            assert_eq!(b.topic, a.topic, "packet {}", a.seq);
            assert_eq!(b.message, a.message, "packet {}", a.seq);
            assert_eq!(b.order_id, a.order_id, "packet {}", a.seq);
            assert_eq!(b.mark(), a.mark(), "packet {}", a.seq);
            assert_eq!(edge_of(b), edge_of(a), "packet {}", a.seq);
            if let Some(topic) = &a.topic {
                // The inspector shows the wire.
                assert_eq!(b.wire_topic(), Some(format!("class-7/{topic}").as_str()));
                publishes += 1;
            }
        }
        assert!(publishes > 10, "the sagas published");
        assert_eq!(
            OrderBook::from_packets(&namespaced, ORDERS_KEPT),
            OrderBook::from_packets(plain, ORDERS_KEPT)
        );
        assert_eq!(dead_letters(&namespaced, &[]), dead_letters(plain, &[]));
    }
}

#[test]
fn the_orders_panel_and_dead_letters_see_the_sagas_under_a_namespace() {
    let ns: Namespace = "school/class-7".parse().unwrap();
    let wires = sagas();
    let namespaced = under(&ns, &wires[0].history);
    let book = OrderBook::from_packets(&namespaced, ORDERS_KEPT);
    let counts = book.counts();
    assert_eq!(
        (counts.completed, counts.cancelled),
        (1, 1),
        "{}",
        counts.summary()
    );
    let dead = under(&ns, &wires.last().unwrap().history);
    let letters = dead_letters(&dead, &[]);
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].letter.topic, "orders/created");
}

#[test]
fn otlp_traces_are_the_same_sagas_with_the_wire_s_destinations() {
    let ns: Namespace = "class-7".parse().unwrap();
    for wire in sagas() {
        let namespaced = under(&ns, &wire.history);
        let (plain_traces, _) = session_traces(&wire.history);
        let (ns_traces, _) = session_traces(&namespaced);
        assert_eq!(ns_traces.len(), plain_traces.len());
        for (a, b) in plain_traces.iter().zip(&ns_traces) {
            let expected: Vec<String> = summary(a)
                .into_iter()
                .map(|line| {
                    let line = line
                        .replace(" process ", " process class-7/")
                        .replace(" publish ", " publish class-7/");
                    // What each span published (eda.published, after the arrow) is named as
                    // on the wire too.
                    let Some((head, tail)) = line.split_once(" → ") else {
                        return line;
                    };
                    let (published, status) =
                        tail.split_once(" ✕").map_or((tail, ""), |(p, s)| (p, s));
                    let published = published.replace(", ", ", class-7/");
                    let status = if status.is_empty() {
                        String::new()
                    } else {
                        format!(" ✕{status}")
                    };
                    format!("{head} → class-7/{published}{status}")
                })
                .collect();
            assert_eq!(summary(b), expected);
        }
    }
}

#[test]
fn a_recording_under_a_namespace_plays_back_as_the_flow_and_says_its_namespace() {
    let ns: Namespace = "class-7".parse().unwrap();
    let wire = &sagas()[0];
    let trace = Trace::new(under(&ns, &wire.history), ActionLog::new(10));
    let text = recording::record(&trace);
    assert!(text.contains("\"version\": 3"), "{text:.200}");
    assert!(text.contains("\"namespace\": \"class-7\""), "{text:.200}");
    let loaded = recording::load(&text).unwrap();
    assert_eq!(loaded.packets.namespace(), &ns);
    let counts = loaded.orders.counts();
    assert_eq!(
        (counts.completed, counts.cancelled),
        (1, 1),
        "{}",
        counts.summary()
    );
    assert_eq!(
        loaded
            .packets
            .iter()
            .map(|p| p.topic.clone())
            .collect::<Vec<_>>(),
        wire.history
            .iter()
            .map(|p| p.topic.clone())
            .collect::<Vec<_>>()
    );
    // Without a namespace, the file is version 2, as before namespaces.
    let plain = recording::record(&Trace::new(wire.history.clone(), ActionLog::new(10)));
    assert!(plain.contains("\"version\": 2") && !plain.contains("namespace"));
    // A namespace a page could not have run under is refused, with why.
    let bad = text.replace("\"namespace\": \"class-7\"", "\"namespace\": \"class/#\"");
    let error = recording::load(&bad).err().unwrap().to_string();
    assert!(
        error.contains("\"namespace\"") && error.contains("wildcard"),
        "{error}"
    );
}
