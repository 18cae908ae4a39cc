//! Answers held for the application ([`Options::manual_acks`]): sent once released, in the
//! order the messages came, and forgotten with their connection (the broker sends again).

use super::fake_broker::*;
use super::*;
use crate::packet::Ack;

fn manual() -> Options {
    let mut options = Options::new("c");
    options.manual_acks = true;
    options
}

fn token_of(b: &mut FakeBroker, packet_id: u16) -> DeliveryToken {
    let publish = b
        .messages()
        .into_iter()
        .find(|p| p.packet_id == Some(packet_id))
        .expect("delivered");
    b.session.delivery_token(&publish).expect("a token")
}

#[test]
fn a_qos1_puback_waits_for_the_application_and_goes_in_the_order_received() {
    let mut b = FakeBroker::connected(manual());
    b.sent();
    b.deliver(MS(5), incoming(QoS::AtLeastOnce, Some(7), false));
    let first = token_of(&mut b, 7);
    b.deliver(MS(6), incoming(QoS::AtLeastOnce, Some(8), false));
    let second = token_of(&mut b, 8);
    assert_eq!(b.sent(), [], "nothing answered before the application says");
    // The later one released first waits for the earlier ([MQTT-4.6.0-2]).
    b.session.acknowledge(MS(7), second);
    assert_eq!(b.sent(), []);
    b.session.acknowledge(MS(8), first);
    assert_eq!(
        b.sent(),
        [Packet::PubAck(Ack::new(7)), Packet::PubAck(Ack::new(8))]
    );
    // A token used twice answers nothing more.
    b.session.acknowledge(MS(9), first);
    assert_eq!(b.sent(), []);
}

#[test]
fn a_qos2_pubrec_waits_for_the_application_and_the_handshake_ends_as_usual() {
    let mut b = FakeBroker::connected(manual());
    b.sent();
    b.deliver(MS(5), incoming(QoS::ExactlyOnce, Some(9), false));
    let token = token_of(&mut b, 9);
    assert_eq!(b.sent(), []);
    // The broker sends it again (DUP) before our PUBREC: not delivered twice, not answered yet.
    b.deliver(MS(6), incoming(QoS::ExactlyOnce, Some(9), true));
    assert!(b.messages().is_empty());
    assert_eq!(b.sent(), []);
    b.session.acknowledge(MS(7), token);
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(9))]);
    b.deliver(MS(8), Packet::PubRel(Ack::new(9)));
    assert_eq!(b.sent(), [Packet::PubComp(Ack::new(9))]);
}

#[test]
fn a_held_answer_dies_with_its_connection_and_the_message_is_delivered_again() {
    let mut options = manual();
    options.clean_session = false;
    let mut b = FakeBroker::connected(options);
    b.sent();
    b.deliver(MS(5), incoming(QoS::AtLeastOnce, Some(3), false));
    let old_one = token_of(&mut b, 3);
    b.deliver(MS(6), incoming(QoS::ExactlyOnce, Some(4), false));
    let old_two = token_of(&mut b, 4);
    b.session.handle_transport_closed(MS(10), dropped());
    b.reconnect(S(1), true);
    // A token of the old connection answers nothing on the new one.
    b.session.acknowledge(S(1), old_one);
    b.session.acknowledge(S(1), old_two);
    assert_eq!(b.sent(), []);
    // The broker sends both again; both reach the application again, and are answered once
    // it says so.
    b.deliver(S(2), incoming(QoS::AtLeastOnce, Some(3), true));
    b.deliver(S(2), incoming(QoS::ExactlyOnce, Some(4), true));
    let again: Vec<u16> = b.messages().iter().filter_map(|p| p.packet_id).collect();
    assert_eq!(again, [3, 4]);
    b.deliver(S(3), incoming(QoS::AtLeastOnce, Some(5), false));
    let one = token_of(&mut b, 5);
    let publish_3 = incoming_publish(QoS::AtLeastOnce, 3);
    let publish_4 = incoming_publish(QoS::ExactlyOnce, 4);
    let t3 = b.session.delivery_token(&publish_3).expect("owed again");
    let t4 = b.session.delivery_token(&publish_4).expect("owed again");
    b.session.acknowledge(S(3), t3);
    b.session.acknowledge(S(3), t4);
    b.session.acknowledge(S(3), one);
    assert_eq!(
        b.sent(),
        [
            Packet::PubAck(Ack::new(3)),
            Packet::PubRec(Ack::new(4)),
            Packet::PubAck(Ack::new(5))
        ]
    );
}

#[test]
fn without_manual_acks_answers_go_at_once_and_no_token_is_given() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.deliver(MS(5), incoming(QoS::AtLeastOnce, Some(7), false));
    assert_eq!(b.sent(), [Packet::PubAck(Ack::new(7))]);
    let publish = b.messages().remove(0);
    assert_eq!(b.session.delivery_token(&publish), None);
}

/// The PUBLISH of [`incoming`] with `packet_id`, as the application was given it.
fn incoming_publish(qos: QoS, packet_id: u16) -> Publish {
    match incoming(qos, Some(packet_id), false) {
        Packet::Publish(p) => p,
        _ => unreachable!(),
    }
}

#[test]
fn on_3_1_1_at_most_twenty_qos_2_messages_are_in_flight_the_rest_wait_for_a_pubcomp() {
    // A newcomer's break-test: Mosquitto keeps 20 QoS 2 messages of a client awaiting PUBREL
    // and discards more, answering PUBREC as usual (3.1.1 has no reason code).
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    for i in 0..25u8 {
        b.session
            .publish(S(1), "inventory/reserved", vec![i], QoS::ExactlyOnce, false)
            .unwrap();
    }
    let sent: Vec<Publish> = b
        .sent()
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), super::V311_QOS2_IN_FLIGHT);
    assert_eq!(b.session.queued(), 5);
    // A QoS 1 message published now waits behind them: the order of publishes is kept.
    b.session
        .publish(
            S(1),
            "inventory/stock/P001",
            vec![99],
            QoS::AtLeastOnce,
            false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    // A PUBREC does not free the place (the broker still holds the message until PUBREL); the
    // PUBCOMP does, and the oldest waiting message goes.
    let first = sent[0].packet_id.unwrap();
    b.deliver(S(2), Packet::PubRec(Ack::new(first)));
    assert_eq!(b.sent(), [Packet::PubRel(Ack::new(first))]);
    b.deliver(S(3), Packet::PubComp(Ack::new(first)));
    let next: Vec<Packet> = b.sent();
    assert!(
        matches!(next.as_slice(), [Packet::Publish(p)] if p.payload == [20]),
        "{next:?}"
    );
}
