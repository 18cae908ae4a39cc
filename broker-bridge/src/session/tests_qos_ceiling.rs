//! MQTT 3.1.1 against a broker whose maximum QoS is below 2 (Mosquitto's `max_qos 1`): it
//! grants QoS 1 for a QoS 2 subscription, and closes the connection on a QoS 2 PUBLISH. The
//! session learns the ceiling and never re-sends that PUBLISH into the same close forever.

use super::fake_broker::{accepted, dropped, FakeBroker, MS, S};
use super::*;
use crate::capabilities::{LearnedMaximumQoS, QoSEvidence};
use crate::packet::{Ack, SubAck};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A 3.1.1 client with a persistent session, as the page's services are.
fn persistent(client_id: &str) -> Options {
    let mut options = Options::new(client_id);
    options.clean_session = false;
    options
}

fn publishes(b: &mut FakeBroker) -> Vec<Publish> {
    b.sent()
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn lowered(events: &[Event]) -> Vec<(Option<u16>, QoS, QoS)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::QoSLowered {
                packet_id,
                asked,
                sent,
                ..
            } => Some((*packet_id, *asked, *sent)),
            _ => None,
        })
        .collect()
}

/// Subscribes `filter` at QoS 2 and answers with the broker's grant.
fn subscribe_granted(b: &mut FakeBroker, now: Duration, filter: &str, granted: QoS) {
    b.session
        .subscribe(now, &[(filter, QoS::ExactlyOnce)])
        .unwrap();
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    b.deliver(
        now + MS(1),
        Packet::SubAck(SubAck::new(
            sub.packet_id,
            vec![SubscribeReturnCode::Granted(granted)],
        )),
    );
}

#[test]
fn a_suback_granting_qos_1_for_qos_2_caps_publishes_at_1() {
    let mut b = FakeBroker::connected(persistent("eda-t-order"));
    b.sent();
    subscribe_granted(&mut b, S(1), "payments/processed", QoS::AtLeastOnce);
    let events = b.take_events();
    let learned = LearnedMaximumQoS {
        maximum: QoS::AtLeastOnce,
        evidence: QoSEvidence::Granted {
            filter: "payments/processed".into(),
            asked: QoS::ExactlyOnce,
            granted: QoS::AtLeastOnce,
        },
    };
    assert!(
        events.contains(&Event::MaximumQoSLearned(learned.clone())),
        "{events:?}"
    );
    assert_eq!(
        learned.to_string(),
        "this broker grants at most QoS 1: a SUBACK granted QoS 1 for payments/processed, asked \
         at QoS 2 (MQTT 3.1.1 §3.8.4, §3.9.3)"
    );
    // What the application caps its QoS with, as under MQTT 5.0's Maximum QoS.
    let caps = b.session.capabilities().unwrap();
    assert_eq!(caps.maximum_qos, QoS::AtLeastOnce);
    assert_eq!(caps.maximum_qos_learned, Some(learned));
    let qos = caps.cap_qos(QoS::ExactlyOnce);
    assert_eq!(qos, QoS::AtLeastOnce);
    b.session
        .publish(S(2), "orders/created", b"{}".to_vec(), qos, false)
        .unwrap();
    let sent = publishes(&mut b);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].qos, QoS::AtLeastOnce, "the PUBLISH on the wire");
    // Asked above it, as with 5.0's Maximum QoS: refused, nothing sent.
    assert_eq!(
        b.session.publish(
            S(2),
            "orders/created",
            b"{}".to_vec(),
            QoS::ExactlyOnce,
            false
        ),
        Err(SessionError::QoSNotSupported {
            requested: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce
        })
    );
    assert!(b.sent().is_empty());
}

#[test]
fn a_qos_2_publish_sent_before_the_suback_is_re_sent_at_qos_1_after_the_close() {
    // Mosquitto 2.0.11 with max_qos 1: the order goes out at QoS 2 before the SUBACK that
    // tells the ceiling; the broker closes the connection on it ("Too high QoS in PUBLISH").
    let mut b = FakeBroker::connected(persistent("eda-t-order"));
    b.sent();
    b.session
        .subscribe(S(1), &[("payments/processed", QoS::ExactlyOnce)])
        .unwrap();
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    b.session
        .publish(
            S(1),
            "orders/created",
            b"order".to_vec(),
            QoS::ExactlyOnce,
            false,
        )
        .unwrap();
    let id = publishes(&mut b)[0].packet_id;
    b.deliver(
        S(1) + MS(1),
        Packet::SubAck(SubAck::new(
            sub.packet_id,
            vec![SubscribeReturnCode::Granted(QoS::AtLeastOnce)],
        )),
    );
    b.session.handle_transport_closed(S(1) + MS(2), dropped());
    b.take_events();
    // The broker kept the session (and the subscription): asked again, but its SUBACK is not
    // awaited here.
    let again = b.reconnect(S(2), true);
    let Some(resent) = again.iter().find_map(|p| match p {
        Packet::Publish(p) => Some(p),
        _ => None,
    }) else {
        panic!("expected the order again, got {again:?}")
    };
    assert_eq!(
        (resent.qos, resent.packet_id, resent.payload.as_slice()),
        (QoS::AtLeastOnce, id, &b"order"[..]),
        "re-sent at QoS 1 with its packet identifier"
    );
    assert_eq!(
        lowered(&b.take_events()),
        [(id, QoS::ExactlyOnce, QoS::AtLeastOnce)]
    );
    b.deliver(S(2) + MS(3), Packet::PubAck(Ack::new(id.unwrap())));
    assert!(b.take_events().contains(&Event::Delivered {
        packet_id: id.unwrap(),
        topic: "orders/created".into()
    }));
    assert_eq!(b.session.in_flight(), 0);
}

#[test]
fn two_closes_in_a_row_after_the_same_qos_2_publish_teach_qos_1() {
    // No QoS 2 subscription to learn from (only orders/created is at QoS 2, and this client
    // does not subscribe to it): the broker's closes are the only sign.
    let mut b = FakeBroker::connected(persistent("eda-t-order"));
    b.sent();
    b.session
        .publish(
            S(1),
            "orders/created",
            b"order".to_vec(),
            QoS::ExactlyOnce,
            false,
        )
        .unwrap();
    let id = publishes(&mut b)[0].packet_id;
    b.session.handle_transport_closed(S(1) + MS(1), dropped());
    // One close may be anything (the broker restarting): the same PUBLISH again, at QoS 2.
    let again = b.reconnect(S(2), true);
    assert!(
        matches!(again.as_slice(), [Packet::Publish(p)] if p.qos == QoS::ExactlyOnce && p.dup),
        "{again:?}"
    );
    assert_eq!(
        b.session.capabilities().unwrap().maximum_qos,
        QoS::ExactlyOnce
    );
    b.session.handle_transport_closed(S(2) + MS(3), dropped());
    let events = b.take_events();
    let learned = events.iter().find_map(|e| match e {
        Event::MaximumQoSLearned(l) => Some(l.clone()),
        _ => None,
    });
    let learned = learned.expect("the second close teaches the ceiling");
    assert_eq!(learned.maximum, QoS::AtLeastOnce);
    assert_eq!(
        learned.to_string(),
        "this broker grants at most QoS 1: it closed the connection twice in a row while a QoS 2 \
         PUBLISH to orders/created awaited its PUBREC (Mosquitto's max_qos does this to MQTT \
         3.1.1 clients)"
    );
    // The third connection carries it at QoS 1, and the loop ends.
    let third = b.reconnect(S(4), true);
    assert!(
        matches!(third.as_slice(), [Packet::Publish(p)] if p.qos == QoS::AtLeastOnce && p.packet_id == id),
        "{third:?}"
    );
    b.deliver(S(4) + MS(3), Packet::PubAck(Ack::new(id.unwrap())));
    assert_eq!(b.session.in_flight(), 0);
}

#[test]
fn a_close_after_which_the_re_sent_qos_2_publish_is_answered_teaches_nothing() {
    // The broker restarted once: the re-sent PUBLISH gets its PUBREC.
    let mut b = FakeBroker::connected(persistent("c"));
    b.sent();
    b.session
        .publish(S(1), "orders/created", vec![1], QoS::ExactlyOnce, false)
        .unwrap();
    let id = publishes(&mut b)[0].packet_id.unwrap();
    b.session.handle_transport_closed(S(1) + MS(1), dropped());
    b.reconnect(S(2), true);
    b.deliver(S(2) + MS(2), Packet::PubRec(Ack::new(id)));
    assert!(matches!(b.sent_one(), Packet::PubRel(_)));
    // Closed again before PUBCOMP: a PUBREL in flight is no QoS 2 PUBLISH.
    b.session.handle_transport_closed(S(2) + MS(3), dropped());
    let again = b.reconnect(S(3), true);
    assert!(matches!(again.as_slice(), [Packet::PubRel(_)]), "{again:?}");
    // Another QoS 2 message, closed once: still nothing learned.
    b.session
        .publish(S(3), "orders/created", vec![2], QoS::ExactlyOnce, false)
        .unwrap();
    b.session.handle_transport_closed(S(3) + MS(1), dropped());
    assert!(b
        .take_events()
        .iter()
        .all(|e| !matches!(e, Event::MaximumQoSLearned(_))));
    assert_eq!(b.session.learned_maximum_qos(), None);
    assert_eq!(
        b.session.capabilities().unwrap().maximum_qos,
        QoS::ExactlyOnce
    );
}

#[test]
fn queued_messages_above_the_ceiling_are_sent_at_it_not_dropped() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    subscribe_granted(&mut b, S(1), "a", QoS::AtMostOnce);
    assert_eq!(
        b.session.learned_maximum_qos().map(|l| l.maximum),
        Some(QoS::AtMostOnce)
    );
    b.session.handle_transport_closed(S(2), dropped());
    // Accepted while offline, at QoS 2 and 1: the broker takes QoS 0 only.
    for (payload, qos) in [(1, QoS::ExactlyOnce), (2, QoS::AtLeastOnce)] {
        b.session
            .publish(S(3), "orders/created", vec![payload], qos, false)
            .unwrap();
    }
    let sent = b.reconnect(S(4), false);
    let sent: Vec<_> = sent
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some((p.payload, p.qos, p.packet_id, p.dup)),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        [
            (vec![1], QoS::AtMostOnce, None, false),
            (vec![2], QoS::AtMostOnce, None, false)
        ]
    );
    assert_eq!(
        lowered(&b.take_events()),
        [
            (None, QoS::ExactlyOnce, QoS::AtMostOnce),
            (None, QoS::AtLeastOnce, QoS::AtMostOnce)
        ]
    );
}

#[test]
fn a_ceiling_learned_elsewhere_or_forgotten_with_the_broker() {
    let learned = LearnedMaximumQoS {
        maximum: QoS::AtLeastOnce,
        evidence: QoSEvidence::Granted {
            filter: "orders/created".into(),
            asked: QoS::ExactlyOnce,
            granted: QoS::AtLeastOnce,
        },
    };
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    // Another client of the same broker learned it: told, not re-announced.
    assert!(b.session.learn_maximum_qos(learned.clone()));
    assert!(!b.session.learn_maximum_qos(learned.clone()), "not lower");
    assert!(b
        .take_events()
        .iter()
        .all(|e| !matches!(e, Event::MaximumQoSLearned(_))));
    assert_eq!(b.session.learned_maximum_qos(), Some(&learned));
    // A grant of 2 later says nothing against it; another broker starts afresh.
    subscribe_granted(&mut b, S(1), "x", QoS::ExactlyOnce);
    assert_eq!(b.session.learned_maximum_qos(), Some(&learned));
    b.session.forget_broker();
    assert_eq!(b.session.learned_maximum_qos(), None);
}

#[test]
fn under_5_0_the_connack_speaks_and_a_lower_grant_teaches_nothing() {
    let mut options = Options::new("c");
    options.protocol = ProtocolVersion::V5;
    let mut b = FakeBroker::connected(options);
    b.sent();
    subscribe_granted(&mut b, S(1), "a", QoS::AtLeastOnce);
    assert_eq!(b.session.learned_maximum_qos(), None);
    assert_eq!(
        b.session.capabilities().unwrap().maximum_qos,
        QoS::ExactlyOnce
    );
    let told = LearnedMaximumQoS {
        maximum: QoS::AtMostOnce,
        evidence: QoSEvidence::ClosedAfterPublish { topic: "t".into() },
    };
    assert!(!b.session.learn_maximum_qos(told), "5.0 ignores it");
}

#[test]
fn under_5_0_a_queued_qos_2_message_goes_at_the_connack_s_maximum_qos() {
    // Accepted while offline; the broker's CONNACK then says Maximum QoS 1. Sent at 1 and
    // said, not dropped ([MQTT-3.2.2-11]: never above it).
    let mut options = Options::new("c");
    options.protocol = ProtocolVersion::V5;
    let mut b = FakeBroker::new(options);
    b.session
        .publish(S(0), "orders/created", vec![7], QoS::ExactlyOnce, false)
        .unwrap();
    b.session.handle_transport_open(S(1));
    b.sent();
    let mut ack = accepted();
    ack.properties
        .add(crate::packet::Property::MaximumQoS(QoS::AtLeastOnce));
    b.deliver(S(1), Packet::ConnAck(ack));
    let sent = publishes(&mut b);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].qos, QoS::AtLeastOnce);
    let events = b.take_events();
    assert_eq!(
        lowered(&events),
        [(None, QoS::ExactlyOnce, QoS::AtLeastOnce)],
        "queued: no packet identifier yet"
    );
    assert!(events
        .iter()
        .all(|e| !matches!(e, Event::PublishFailed { .. })));
}
