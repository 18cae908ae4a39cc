use super::*;
use crate::domain::topics;
use crate::trace::history::ActionLog;
use crate::trace::script::{order, Script};
use broker_bridge::packet::Ack;
use broker_bridge::{ProtocolVersion, Publish, QoS, ReasonCode};
use Direction::{Incoming, Outgoing};
use Lifeline::{
    Broker, Client, InventoryService, NotificationService, OrderService, PaymentService,
};

const ALL: View = View {
    order: None,
    control_packets: false,
    shown: None,
};

fn drawn(arrows: &[Arrow]) -> Vec<(Lifeline, Lifeline, &str)> {
    arrows
        .iter()
        .map(|a| (a.from, a.to, a.label.as_str()))
        .collect()
}

fn one_order(qos: QoS) -> Vec<Arrow> {
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    script.place_order(order(1), qos);
    arrows(&script.history, &ActionLog::new(0), &ALL)
}

#[test]
fn qos_0_draws_the_publish_legs_only() {
    assert_eq!(
        drawn(&one_order(QoS::AtMostOnce)),
        [
            (OrderService, Broker, "PUBLISH orders/created (QoS 0)"),
            (Broker, PaymentService, "PUBLISH orders/created (QoS 0)"),
            (Broker, InventoryService, "PUBLISH orders/created (QoS 0)"),
            (
                Broker,
                NotificationService,
                "PUBLISH orders/created (QoS 0)"
            ),
            (
                InventoryService,
                Broker,
                "PUBLISH inventory/reserved (QoS 0)"
            ),
            (
                Broker,
                NotificationService,
                "PUBLISH inventory/reserved (QoS 0)"
            ),
            (PaymentService, Broker, "PUBLISH payments/processed (QoS 0)"),
            (
                Broker,
                NotificationService,
                "PUBLISH payments/processed (QoS 0)"
            ),
        ]
    );
}

#[test]
fn qos_1_draws_a_puback_on_every_leg() {
    assert_eq!(
        drawn(&one_order(QoS::AtLeastOnce)),
        [
            (OrderService, Broker, "PUBLISH orders/created (QoS 1, id 1)"),
            (Broker, OrderService, "PUBACK (id 1)"),
            (
                Broker,
                PaymentService,
                "PUBLISH orders/created (QoS 1, id 1)"
            ),
            (PaymentService, Broker, "PUBACK (id 1)"),
            (
                Broker,
                InventoryService,
                "PUBLISH orders/created (QoS 1, id 1)"
            ),
            (InventoryService, Broker, "PUBACK (id 1)"),
            (
                Broker,
                NotificationService,
                "PUBLISH orders/created (QoS 1, id 1)"
            ),
            (NotificationService, Broker, "PUBACK (id 1)"),
            (
                InventoryService,
                Broker,
                "PUBLISH inventory/reserved (QoS 1, id 1)"
            ),
            (Broker, InventoryService, "PUBACK (id 1)"),
            (
                Broker,
                NotificationService,
                "PUBLISH inventory/reserved (QoS 1, id 2)"
            ),
            (NotificationService, Broker, "PUBACK (id 2)"),
            (
                PaymentService,
                Broker,
                "PUBLISH payments/processed (QoS 1, id 1)"
            ),
            (Broker, PaymentService, "PUBACK (id 1)"),
            (
                Broker,
                NotificationService,
                "PUBLISH payments/processed (QoS 1, id 3)"
            ),
            (NotificationService, Broker, "PUBACK (id 3)"),
        ]
    );
}

#[test]
fn qos_2_draws_the_four_packet_handshake_on_every_leg() {
    let (o, b, p, i, n) = (
        OrderService,
        Broker,
        PaymentService,
        InventoryService,
        NotificationService,
    );
    assert_eq!(
        drawn(&one_order(QoS::ExactlyOnce)),
        [
            (o, b, "PUBLISH orders/created (QoS 2, id 1)"),
            (b, o, "PUBREC (id 1)"),
            (o, b, "PUBREL (id 1)"),
            (b, o, "PUBCOMP (id 1)"),
            (b, p, "PUBLISH orders/created (QoS 2, id 1)"),
            (p, b, "PUBREC (id 1)"),
            (b, p, "PUBREL (id 1)"),
            (p, b, "PUBCOMP (id 1)"),
            (b, i, "PUBLISH orders/created (QoS 2, id 1)"),
            (i, b, "PUBREC (id 1)"),
            (b, i, "PUBREL (id 1)"),
            (i, b, "PUBCOMP (id 1)"),
            (b, n, "PUBLISH orders/created (QoS 2, id 1)"),
            (n, b, "PUBREC (id 1)"),
            (b, n, "PUBREL (id 1)"),
            (n, b, "PUBCOMP (id 1)"),
            (i, b, "PUBLISH inventory/reserved (QoS 2, id 1)"),
            (b, i, "PUBREC (id 1)"),
            (i, b, "PUBREL (id 1)"),
            (b, i, "PUBCOMP (id 1)"),
            (b, n, "PUBLISH inventory/reserved (QoS 2, id 2)"),
            (n, b, "PUBREC (id 2)"),
            (b, n, "PUBREL (id 2)"),
            (n, b, "PUBCOMP (id 2)"),
            (p, b, "PUBLISH payments/processed (QoS 2, id 1)"),
            (b, p, "PUBREC (id 1)"),
            (p, b, "PUBREL (id 1)"),
            (b, p, "PUBCOMP (id 1)"),
            (b, n, "PUBLISH payments/processed (QoS 2, id 3)"),
            (n, b, "PUBREC (id 3)"),
            (b, n, "PUBREL (id 3)"),
            (n, b, "PUBCOMP (id 3)"),
        ]
    );
}

#[test]
fn the_click_comes_first_and_the_answer_after_the_publish() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.place_order(order(1), QoS::AtLeastOnce);
    let arrows = arrows(&script.history, &script.actions, &ALL);
    assert_eq!(
        drawn(&arrows[..4]),
        [
            (Client, OrderService, "Place order"),
            (OrderService, Broker, "PUBLISH orders/created (QoS 1, id 1)"),
            (OrderService, Client, "orderId 3fa85f64…"),
            (Broker, OrderService, "PUBACK (id 1)"),
        ]
    );
    assert_eq!(
        (arrows[0].kind, arrows[2].kind, arrows[0].packet_seq),
        (ArrowKind::PlaceOrder, ArrowKind::OrderAccepted, None)
    );
    // Clicking an arrow opens its packet.
    let seq = arrows[3].packet_seq.unwrap();
    assert_eq!(script.history.get(seq).unwrap().kind, PacketKind::PubAck);
    assert_eq!(relative_ms(&arrows)[..4], [0, 0, 0, 1]);
}

/// Two orders whose handshakes overlap, with the same packet ids in flight both ways on
/// PaymentService's client.
#[test]
fn the_order_filter_keeps_one_order_and_its_acknowledgements() {
    use ServiceId::{Order, Payment};
    let (a, b) = (order(1), order(2));
    let mut s = Script::new(ProtocolVersion::V311);
    s.connect_all();
    let mut of_a = Vec::new();
    let mut of_b = Vec::new();
    let q1 = QoS::AtLeastOnce;
    let q2 = QoS::ExactlyOnce;
    let created = topics::ORDERS_CREATED;

    let id_a = s.publish(Order, Outgoing, created, a, q1);
    of_a.push(s.history.next_seq() - 1);
    let id_b = s.publish(Order, Outgoing, created, b, q1);
    of_b.push(s.history.next_seq() - 1);
    of_b.push(s.send(Order, Incoming, Packet::PubAck(Ack::new(id_b.unwrap()))));
    of_a.push(s.send(Order, Incoming, Packet::PubAck(Ack::new(id_a.unwrap()))));

    // Broker → PaymentService: A as incoming id 1 at QoS 2; PaymentService publishes B's result
    // as its own outgoing id 1 meanwhile.
    let in_a = s.publish(Payment, Incoming, created, a, q2).unwrap();
    of_a.push(s.history.next_seq() - 1);
    let out_b = s
        .publish(Payment, Outgoing, topics::PAYMENTS_PROCESSED, b, q2)
        .unwrap();
    of_b.push(s.history.next_seq() - 1);
    assert_eq!((in_a, out_b), (1, 1), "the same id, both ways");
    // A's steps as PaymentService receives, B's as it publishes, alternating.
    let steps = [
        (Outgoing, PacketKind::PubRec, a),
        (Incoming, PacketKind::PubRec, b),
        (Incoming, PacketKind::PubRel, a),
        (Outgoing, PacketKind::PubRel, b),
        (Outgoing, PacketKind::PubComp, a),
        (Incoming, PacketKind::PubComp, b),
    ];
    for (direction, kind, of) in steps {
        let ack = Ack::new(1);
        let packet = match kind {
            PacketKind::PubRec => Packet::PubRec(ack),
            PacketKind::PubRel => Packet::PubRel(ack),
            _ => Packet::PubComp(ack),
        };
        let seq = s.send(Payment, direction, packet);
        if of == a { &mut of_a } else { &mut of_b }.push(seq);
    }
    s.actions.push(UserAction::PlacedOrder {
        at: Duration::ZERO,
        order_id: b,
    });

    let only = |order| View {
        order: Some(order),
        control_packets: true,
        shown: None,
    };
    let seqs = |arrows: &[Arrow]| {
        arrows
            .iter()
            .filter_map(|a| a.packet_seq)
            .collect::<Vec<_>>()
    };
    let shown_a = arrows(&s.history, &s.actions, &only(a));
    assert_eq!(seqs(&shown_a), of_a);
    assert!(shown_a.iter().all(|arrow| arrow.order_id == Some(a)));
    let shown_b = arrows(&s.history, &s.actions, &only(b));
    assert_eq!(seqs(&shown_b), of_b);
    assert_eq!(
        shown_b.len(),
        of_b.len() + 2,
        "and the click with its answer"
    );
    assert_eq!(
        arrows(&s.history, &s.actions, &only(order(3))),
        [],
        "an order that is not there"
    );
    assert_eq!(orders_in(&s.history, &s.actions), [b, a]);
}

#[test]
fn control_packets_are_hidden_unless_asked_for() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    script.place_order(order(1), QoS::AtMostOnce);
    script.send(ServiceId::Order, Outgoing, Packet::PingReq);
    script.send(ServiceId::Order, Incoming, Packet::PingResp);
    let control = View {
        order: None,
        control_packets: true,
        shown: None,
    };
    let all = arrows(&script.history, &[], &control);
    // QueryService connects too (its CONNECT and CONNACK: 2 more).
    assert_eq!(all.len(), 8 + 2 + 4 * 2 + 3 * 2 + 2);
    assert_eq!(
        drawn(&all[..6]),
        [
            (OrderService, Broker, "CONNECT"),
            (Broker, OrderService, "CONNACK"),
            (PaymentService, Broker, "CONNECT"),
            (Broker, PaymentService, "CONNACK"),
            (PaymentService, Broker, "SUBSCRIBE orders/created"),
            (Broker, PaymentService, "SUBACK (id 1)"),
        ]
    );
    assert!(all
        .iter()
        .any(|a| a.label == "SUBSCRIBE orders/created, payments/processed, inventory/reserved"));
    assert_eq!(
        drawn(&all[all.len() - 2..]),
        [
            (OrderService, Broker, "PINGREQ"),
            (Broker, OrderService, "PINGRESP")
        ]
    );
    let flow = arrows(&script.history, &[], &ALL);
    assert_eq!(flow.len(), 8);
    assert!(flow
        .iter()
        .all(|a| a.kind == ArrowKind::Packet(PacketKind::Publish)));
}

#[test]
fn labels_show_dup_retain_and_refusals() {
    let mut script = Script::new(ProtocolVersion::V5);
    let mut publish = Publish::new("orders/created", b"{}".to_vec(), QoS::AtLeastOnce);
    publish.packet_id = Some(3);
    publish.dup = true;
    publish.retain = true;
    script.send(ServiceId::Order, Outgoing, Packet::Publish(publish));
    let refusal = Ack::with_reason(3, ReasonCode::QuotaExceeded);
    script.send(ServiceId::Order, Incoming, Packet::PubAck(refusal));
    assert_eq!(
        drawn(&arrows(&script.history, &[], &ALL)),
        [
            (
                OrderService,
                Broker,
                "PUBLISH orders/created (QoS 1, id 3, DUP, RETAIN)"
            ),
            (Broker, OrderService, "PUBACK (id 3): Quota exceeded (0x97)"),
        ]
    );
}

/// An order's whole story: OrderService's copy of each appended event on
/// `eventstore/orders/<orderId>` and QueryService's delivery of it, with their PUBACKs, are the
/// order's (the filter drew none of them, and QueryService's lane stayed empty).
#[test]
fn the_order_filter_keeps_the_order_s_event_store_messages_and_their_acknowledgements() {
    use ServiceId::{Order, Query};
    let (a, b) = (order(1), order(2));
    let mut s = Script::new(ProtocolVersion::V311);
    s.connect_all();
    s.place_order(a, QoS::AtLeastOnce);
    s.stored_leg(Order, Outgoing, a, 1, QoS::AtLeastOnce);
    s.stored_leg(Query, Incoming, a, 1, QoS::AtLeastOnce);
    s.place_order(b, QoS::AtLeastOnce);
    s.stored_leg(Order, Outgoing, b, 2, QoS::AtLeastOnce);
    s.stored_leg(Query, Incoming, b, 2, QoS::AtLeastOnce);
    let only = |order| View {
        order: Some(order),
        control_packets: false,
        shown: None,
    };
    let shown = arrows(&s.history, &s.actions, &only(a));
    let stored: Vec<_> = drawn(&shown)
        .into_iter()
        .filter(|(from, to, label)| {
            label.contains("eventstore/") || [*from, *to].contains(&Lifeline::QueryService)
        })
        .collect();
    let topic = format!("eventstore/orders/{a}");
    assert_eq!(
        stored,
        [
            (
                OrderService,
                Broker,
                format!("PUBLISH {topic} (QoS 1, id 2)").as_str()
            ),
            (
                Broker,
                Lifeline::QueryService,
                format!("PUBLISH {topic} (QoS 1, id 1)").as_str()
            ),
            (Lifeline::QueryService, Broker, "PUBACK (id 1)"),
        ]
    );
    let acks = shown
        .iter()
        .filter(|arrow| arrow.label == "PUBACK (id 2)" && arrow.to == OrderService)
        .count();
    assert_eq!(acks, 1, "OrderService's PUBACK for its event-store publish");
    assert!(shown.iter().all(|arrow| arrow.order_id == Some(a)));
    assert!(!drawn(&shown)
        .iter()
        .any(|(.., label)| label.contains(&b.to_string())));
    assert_eq!(orders_in(&s.history, &s.actions), [a, b]);
}

#[test]
fn mqtt_5_orders_follow_the_correlation_property() {
    let mut script = Script::new(ProtocolVersion::V5);
    script.place_order(order(1), QoS::ExactlyOnce);
    script.place_order(order(2), QoS::ExactlyOnce);
    for id in [order(1), order(2)] {
        let view = View {
            order: Some(id),
            control_packets: false,
            shown: None,
        };
        let shown = arrows(&script.history, &[], &view);
        assert_eq!(shown.len(), 32, "{id}");
    }
}

#[test]
fn acknowledgements_of_forgotten_publishes_belong_to_no_order() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.history = PacketHistory::new(1);
    script.place_order(order(1), QoS::AtLeastOnce);
    let last = arrows(&script.history, &[], &ALL);
    assert_eq!(
        drawn(&last),
        [(NotificationService, Broker, "PUBACK (id 3)")]
    );
    assert_eq!(last[0].order_id, None);
    let view = View {
        order: Some(order(1)),
        control_packets: false,
        shown: None,
    };
    assert_eq!(arrows(&script.history, &[], &view), []);
}

#[test]
fn a_stray_acknowledgement_after_the_handshake_ended_belongs_to_no_order() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.place_order(order(1), QoS::AtLeastOnce);
    let stray = script.send(ServiceId::Order, Incoming, Packet::PubAck(Ack::new(1)));
    let real = script
        .history
        .iter()
        .find(|p| p.kind == PacketKind::PubAck && p.participant == ServiceId::Order)
        .unwrap();
    let orders = packet_orders(&script.history);
    assert_eq!(orders.get(&real.seq), Some(&order(1)), "the real one");
    assert_eq!(orders.get(&stray), None);
}

#[test]
fn lifelines_in_the_seed_s_order() {
    let names: Vec<&str> = Lifeline::ALL.iter().map(|l| l.name()).collect();
    assert_eq!(
        names,
        [
            "Client",
            "OrderService",
            "MQTT Broker",
            "PaymentService",
            "InventoryService",
            "NotificationService",
            "QueryService",
            "Status monitor"
        ]
    );
    for (index, lifeline) in Lifeline::ALL.iter().enumerate() {
        assert_eq!(lifeline.index(), index);
    }
    for service in ServiceId::ALL {
        assert_eq!(Lifeline::from_service(service).name(), service.name());
    }
    assert_eq!(relative_ms(&[]), Vec::<u64>::new());
}

#[test]
fn only_what_the_playback_shows_is_drawn() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    script.place_order(order(1), QoS::AtMostOnce);
    let everything = arrows(&script.history, &script.actions, &ALL);
    let publishes: Vec<&Arrow> = everything
        .iter()
        .filter(|a| a.packet_seq.is_some())
        .collect();
    // Up to (not including) the third PUBLISH arrow, and the click made before them.
    let cut = crate::trace::playback::Shown {
        below: publishes[2].packet_seq.unwrap(),
        until: publishes[1].at,
    };
    let some = arrows(
        &script.history,
        &script.actions,
        &View {
            shown: Some(cut),
            ..ALL
        },
    );
    assert_eq!(
        drawn(&some),
        [
            (Client, OrderService, "Place order"),
            (OrderService, Broker, "PUBLISH orders/created (QoS 0)"),
            (OrderService, Client, "orderId 3fa85f64…"),
            (Broker, PaymentService, "PUBLISH orders/created (QoS 0)"),
        ]
    );
    assert_eq!(drawn(&some), drawn(&everything[..4]));
    // Before the click: nothing.
    let none = View {
        shown: Some(crate::trace::playback::Shown {
            below: 0,
            until: Duration::ZERO,
        }),
        ..ALL
    };
    assert_eq!(arrows(&script.history, &script.actions, &none), []);
}

#[test]
fn labels_name_invisible_characters_and_isolate_right_to_left_topics() {
    use broker_bridge::packet::Publish;
    use broker_bridge::{Packet, PacketEvent, ProtocolVersion, QoS};
    let label = |topic: &str| {
        let packet = Packet::Publish(Publish::new(topic, b"{}".to_vec(), QoS::AtMostOnce));
        let bytes = packet.encode(ProtocolVersion::V311).unwrap();
        let event = PacketEvent {
            at: Duration::from_millis(1),
            client_id: "eda-test-notification".into(),
            direction: broker_bridge::Direction::Incoming,
            packet,
            bytes,
            protocol: ProtocolVersion::V311,
            skipped: None,
        };
        packet_label(&TracedPacket::from_event(
            0,
            ServiceId::Notification,
            &event,
        ))
    };
    assert_eq!(label("orders/created"), "PUBLISH orders/created (QoS 0)");
    assert_eq!(
        label("orders/\u{202E}detaerc"),
        "PUBLISH orders/⟨U+202E RLO⟩detaerc (QoS 0)"
    );
    assert_eq!(
        label("הזמנות/x"),
        "PUBLISH \u{2068}הזמנות/x\u{2069} (QoS 0)"
    );
}

#[test]
fn clicks_older_than_the_packets_kept_are_not_drawn_once_packets_were_dropped() {
    // A newcomer's break-test: at 100 orders a second the history keeps the last packets, the
    // clicks of many more orders stayed, and their arrows stood alone above the rest.
    let mut script = Script::new(ProtocolVersion::V311);
    // Room for one order's eight PUBLISH packets at QoS 0: the second order's.
    script.history = PacketHistory::new(8);
    script.place_order(order(1), QoS::AtMostOnce);
    script.wait(10);
    script.place_order(order(2), QoS::AtMostOnce);
    assert!(
        script.history.dropped() > 0,
        "order 1's packets were dropped"
    );
    let drawn_orders: Vec<Option<Uuid>> = arrows(&script.history, &script.actions, &ALL)
        .iter()
        .filter(|a| !matches!(a.kind, ArrowKind::Packet(_)))
        .map(|a| a.order_id)
        .collect();
    assert!(!drawn_orders.is_empty(), "order 2's click is drawn");
    assert!(
        drawn_orders.iter().all(|id| *id == Some(order(2))),
        "only the click whose packets are kept: {drawn_orders:?}"
    );

    // Nothing dropped: every click is drawn, as before.
    let mut whole = Script::new(ProtocolVersion::V311);
    whole.place_order(order(1), QoS::AtMostOnce);
    whole.place_order(order(2), QoS::AtMostOnce);
    let clicks = arrows(&whole.history, &whole.actions, &ALL)
        .iter()
        .filter(|a| !matches!(a.kind, ArrowKind::Packet(_)))
        .filter_map(|a| a.order_id)
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(clicks.len(), 2);
}

// A break-test (37-U F3): two competing PaymentService instances drew every delivery as
// "PaymentService"; the broker's choice of one per message could not be seen.
#[test]
fn a_further_instance_is_named_on_its_arrows_and_in_the_packet_views() {
    use broker_bridge::{Packet, PacketEvent};
    let mut history = crate::trace::PacketHistory::new(10);
    for (n, client) in ["eda-3f9a1c-payment", "eda-3f9a1c-payment-2"]
        .into_iter()
        .enumerate()
    {
        let mut publish = Publish::new(topics::ORDERS_CREATED, b"{}".to_vec(), QoS::AtLeastOnce);
        publish.packet_id = Some(n as u16 + 1);
        let packet = Packet::Publish(publish);
        let event = PacketEvent {
            at: std::time::Duration::from_millis(n as u64),
            client_id: client.into(),
            direction: Incoming,
            bytes: packet.encode(ProtocolVersion::V311).unwrap(),
            packet,
            protocol: ProtocolVersion::V311,
            skipped: None,
        };
        history.record(crate::services::ServiceId::Payment, &event);
    }
    let drawn_arrows = arrows(&history, &ActionLog::new(0), &ALL);
    assert_eq!(
        drawn(&drawn_arrows),
        [
            (
                Broker,
                PaymentService,
                "PUBLISH orders/created (QoS 1, id 1)"
            ),
            (
                Broker,
                PaymentService,
                "PUBLISH orders/created (QoS 1, id 2) · PaymentService 2"
            ),
        ]
    );
    let names: Vec<String> = history.iter().map(|p| p.instance_name()).collect();
    assert_eq!(names, ["PaymentService", "PaymentService 2"]);
}

// A break-test (37-U F7): the PUBLISH that clears a retained stock level read like the one
// that set it.
#[test]
fn a_retained_publish_with_no_payload_says_it_clears_the_retained_message() {
    use broker_bridge::{Packet, PacketEvent};
    let mut history = crate::trace::PacketHistory::new(10);
    for (n, payload) in [b"{\"units\":5}".to_vec(), Vec::new()]
        .into_iter()
        .enumerate()
    {
        let mut publish = Publish::new("inventory/stock/P002", payload, QoS::AtLeastOnce);
        publish.packet_id = Some(n as u16 + 8);
        publish.retain = true;
        let packet = Packet::Publish(publish);
        let event = PacketEvent {
            at: std::time::Duration::from_millis(n as u64),
            client_id: "eda-3f9a1c-inventory".into(),
            direction: Outgoing,
            bytes: packet.encode(ProtocolVersion::V311).unwrap(),
            packet,
            protocol: ProtocolVersion::V311,
            skipped: None,
        };
        history.record(crate::services::ServiceId::Inventory, &event);
    }
    let labels: Vec<String> = arrows(&history, &ActionLog::new(0), &ALL)
        .into_iter()
        .map(|a| a.label)
        .collect();
    assert_eq!(
        labels,
        [
            "PUBLISH inventory/stock/P002 (QoS 1, id 8, RETAIN)",
            "PUBLISH inventory/stock/P002 (QoS 1, id 9, RETAIN, empty: clears the retained message)"
        ]
    );
}
