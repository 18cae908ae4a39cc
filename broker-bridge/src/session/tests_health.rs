//! Brokers and peers that misbehave, on virtual time: a broker that accepts and closes, another
//! client taking our client id, a message over our limit, a Session Present we never asked
//! for. What the session decides (the delays, the words, what it sends) is checked here.

use super::fake_broker::{accepted, dropped, lost, lost_text, packet_events, FakeBroker, MS, S};
use super::*;
use crate::packet::{Ack, ConnAck, Disconnect, SubAck};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn subscribed(client_id: &str) -> FakeBroker {
    let mut b = FakeBroker::new(Options::new(client_id));
    b.session
        .subscribe(S(0), &[("orders/created", QoS::AtLeastOnce)])
        .unwrap();
    b
}

/// Opens the transport at `now` and accepts CONNECT 5 ms later; returns the SUBSCRIBE's id.
fn accept(b: &mut FakeBroker, now: Duration) -> Option<u16> {
    b.session.handle_transport_open(now);
    b.sent();
    b.deliver(now + MS(5), Packet::ConnAck(accepted()));
    b.sent().into_iter().find_map(|p| match p {
        Packet::Subscribe(s) => Some(s.packet_id),
        _ => None,
    })
}

fn grant(b: &mut FakeBroker, now: Duration, packet_id: u16) {
    b.deliver(
        now,
        Packet::SubAck(SubAck::new(
            packet_id,
            vec![SubscribeReturnCode::Granted(QoS::AtLeastOnce)],
        )),
    );
}

/// Closes the transport at `now`; the reason reported, and the delay the session asks for
/// (without jitter).
fn close(b: &mut FakeBroker, now: Duration) -> (String, Duration) {
    b.session.handle_transport_closed(now, dropped());
    let reason = lost_text(&b.take_events()).expect("a loss is reported");
    (reason, b.session.reconnect_delay(0.0))
}

// ---- 1. a broker that accepts, then closes ------------------------------------------------

#[test]
fn a_broker_that_accepts_then_closes_at_once_gets_ever_longer_delays() {
    let mut b = subscribed("eda-t-payment");
    let mut now = S(0);
    let mut delays = Vec::new();
    let mut reasons = Vec::new();
    for _ in 0..7 {
        accept(&mut b, now);
        // The SUBSCRIBE is never answered: 50 ms after CONNACK the socket closes.
        let (reason, delay) = close(&mut b, now + MS(55));
        reasons.push(reason);
        delays.push(delay.as_millis());
        now += MS(55) + delay;
    }
    assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert_eq!(b.session.reconnect_attempt(), 7);
    // The first is no pattern yet (44-AQ F3: a broker killed a second after accepting looks
    // the same): said dropped; the second on says the broker closes.
    assert_eq!(reasons[0], "the connection dropped after 50 ms");
    assert_eq!(
        reasons[1],
        "accepted, then closed by the broker after 50 ms (2 times in a row)"
    );
    assert_eq!(
        reasons[6],
        "accepted, then closed by the broker after 50 ms (7 times in a row)"
    );
    assert!(lost(&b.take_events()).is_none());
}

#[test]
fn the_delays_start_over_only_once_a_connection_lived_long_enough() {
    let mut b = subscribed("c");
    accept(&mut b, S(0));
    close(&mut b, MS(100));
    let id = accept(&mut b, S(1)).unwrap();
    grant(&mut b, S(1) + MS(10), id);
    // 4.9 s after CONNACK: not yet healthy, so the delay grows.
    let (_, delay) = close(&mut b, S(1) + MS(4905));
    assert_eq!(delay, S(1));
    accept(&mut b, S(10));
    let (reason, delay) = close(&mut b, S(10) + MS(5) + S(5));
    assert_eq!(
        delay,
        MS(500),
        "a healthy connection starts the delays over"
    );
    assert_eq!(reason, "the connection dropped after 5000 ms");
    assert_eq!(b.session.reconnect_attempt(), 1);
}

#[test]
fn a_live_message_proves_a_connection_healthy_but_a_retained_one_does_not() {
    for (retain, expected) in [(true, MS(2000)), (false, MS(500))] {
        let mut b = subscribed("c");
        for i in 0..2 {
            accept(&mut b, S(10 * i));
            close(&mut b, S(10 * i) + MS(50));
        }
        accept(&mut b, S(30));
        let message = Publish {
            retain,
            ..Publish::new("orders/created", b"{}".to_vec(), QoS::AtMostOnce)
        };
        b.deliver(S(30) + MS(10), Packet::Publish(message));
        let (_, delay) = close(&mut b, S(30) + MS(50));
        assert_eq!(delay, expected, "retain {retain}");
    }
}

/// A newcomer's break-test: a broker that sends a malformed packet 3 s into every connection,
/// each of which had carried a live message first, had the page reconnect after 0.5 s for ever
/// ("attempt 1"). The same fault in a row lengthens the delays, healthy-looking or not; a
/// connection that ends otherwise starts them over.
#[test]
fn the_broker_s_protocol_fault_in_every_connection_lengthens_the_delays() {
    let mut b = subscribed("c");
    let mut now = S(0);
    let mut delays = Vec::new();
    for _ in 0..4 {
        accept(&mut b, now);
        let live = Publish::new("orders/created", b"{}".to_vec(), QoS::AtMostOnce);
        b.deliver(now + MS(10), Packet::Publish(live));
        // 3 s in: a packet only clients send.
        b.deliver(now + S(3), Packet::PingReq);
        assert!(lost_text(&b.take_events()).is_some_and(|t| t.contains("only clients send")));
        let delay = b.session.reconnect_delay(0.0);
        delays.push(delay.as_millis());
        now += S(3) + delay;
    }
    assert_eq!(delays, [500, 1000, 2000, 4000]);
    // A connection that ends without a fault, after carrying traffic: the delays start over.
    accept(&mut b, now);
    let live = Publish::new("orders/created", b"{}".to_vec(), QoS::AtMostOnce);
    b.deliver(now + MS(10), Packet::Publish(live));
    let (_, delay) = close(&mut b, now + S(6));
    assert_eq!(delay, MS(500));
}

#[test]
fn one_of_ours_acknowledged_proves_a_connection_healthy() {
    let mut b = FakeBroker::new(Options::new("c"));
    accept(&mut b, S(0));
    close(&mut b, MS(50));
    accept(&mut b, S(1));
    b.session
        .publish(
            S(1) + MS(6),
            "orders/created",
            vec![1],
            QoS::AtLeastOnce,
            false,
        )
        .unwrap();
    let Packet::Publish(p) = b.sent_one() else {
        panic!("expected PUBLISH")
    };
    b.deliver(S(1) + MS(8), Packet::PubAck(Ack::new(p.packet_id.unwrap())));
    let (_, delay) = close(&mut b, S(1) + MS(50));
    assert_eq!(delay, MS(500));
}

#[test]
fn attempts_never_accepted_lengthen_the_delays_too() {
    let mut b = FakeBroker::new(Options::new("c"));
    // Nothing answers: the driver reports a transport that never opened.
    b.session.handle_transport_closed(S(0), dropped());
    assert!(
        b.take_events().is_empty(),
        "nothing to report: it never opened"
    );
    assert_eq!(b.session.reconnect_delay(0.0), MS(500));
    // The socket opens but closes before CONNACK.
    b.session.handle_transport_open(S(1));
    b.session.handle_transport_closed(S(1) + MS(3), dropped());
    let reason = lost(&b.take_events()).cloned().unwrap();
    assert!(!reason.is_unreachable(), "something answered");
    assert_eq!(
        reason.to_string(),
        "the connection opened, then closed before the broker answered CONNECT"
    );
    assert_eq!(b.session.reconnect_delay(0.0), S(1));
    b.session.reset_reconnect();
    assert_eq!(b.session.reconnect_delay(0.0), MS(500), "another broker");
}

// ---- 2. another client takes our client id ------------------------------------------------

#[test]
fn closed_while_idle_after_being_served_twice_in_a_row_reads_as_a_takeover() {
    let mut b = subscribed("eda-t-payment");
    let mut now = S(0);
    let mut reasons = Vec::new();
    for _ in 0..3 {
        let id = accept(&mut b, now).unwrap();
        grant(&mut b, now + MS(10), id);
        // Another client connects as eda-t-payment a second later: the broker closes us.
        let (reason, delay) = close(&mut b, now + MS(1005));
        reasons.push(reason);
        now += MS(1005) + delay;
    }
    assert_eq!(reasons[0], "the connection dropped after 1000 ms");
    assert_eq!(
        reasons[1],
        "taken over by another client using this client id, it seems: the broker answered \
         this client, then closed the connection without a word while it was idle, 2 times in a \
         row (the last after 1000 ms)"
    );
    assert!(reasons[2].contains("3 times in a row"));
    assert_eq!(b.session.reconnect_attempt(), 3, "and the delays grow");
}

#[test]
fn a_close_while_we_wait_for_an_answer_is_no_takeover() {
    let mut b = subscribed("c");
    let mut now = S(0);
    for round in 0..3 {
        let id = accept(&mut b, now).unwrap();
        grant(&mut b, now + MS(10), id);
        // We published and the broker closes before its PUBACK: it may object to the message.
        b.session
            .publish(
                now + MS(20),
                "orders/created",
                vec![1],
                QoS::AtLeastOnce,
                false,
            )
            .unwrap();
        let (reason, delay) = close(&mut b, now + MS(25));
        let expected = if round == 0 {
            "the connection dropped after 20 ms"
        } else {
            "accepted, then closed by the broker after 20 ms"
        };
        assert!(reason.starts_with(expected), "{reason}");
        now += MS(25) + delay;
    }
}

#[test]
fn a_5_0_disconnect_session_taken_over_is_a_takeover_at_once() {
    let mut b = FakeBroker::connected(Options::new("c").v5());
    b.sent();
    b.deliver(
        S(60),
        Packet::Disconnect(Disconnect::new(ReasonCode::SessionTakenOver)),
    );
    let reason = lost(&b.take_events()).cloned().unwrap();
    assert!(matches!(
        reason,
        ConnectionError::TakenOver(Takeover::Said(_))
    ));
    assert!(reason.is_closed_after_accept() && !reason.is_unreachable());
    assert_eq!(reason.reason_code(), Some(ReasonCode::SessionTakenOver));
    assert_eq!(
        reason.to_string(),
        "taken over by another client using this client id \
         (the broker said: Session taken over (0x8E))"
    );
}

// ---- 3. a message over our limit ----------------------------------------------------------

fn oversized(qos: QoS, packet_id: Option<u16>, dup: bool) -> Vec<u8> {
    let order = Publish {
        packet_id,
        dup,
        retain: true,
        ..Publish::new("orders/created", vec![b' '; 348_000], qos)
    };
    Packet::Publish(order)
        .encode(ProtocolVersion::V311)
        .unwrap()
}

#[test]
fn an_oversized_3_1_1_message_is_skipped_acknowledged_and_the_connection_kept() {
    let mut b = subscribed("c");
    let id = accept(&mut b, S(0)).unwrap();
    grant(&mut b, MS(10), id);
    b.take_events();
    // 348 KB in 16 KiB frames, as a WebSocket may bring them, then the next order.
    for chunk in oversized(QoS::AtLeastOnce, Some(41), false).chunks(16 * 1024) {
        b.session.handle_bytes(MS(20), chunk);
    }
    assert_eq!(b.sent(), [Packet::PubAck(Ack::new(41))]);
    let events = b.take_events();
    assert!(lost(&events).is_none(), "the connection is kept");
    let skipped: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::MessageTooLarge(o) => Some(o.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        skipped,
        ["a message of 348 KB on orders/created exceeds the 256 KiB limit"]
    );
    // The wire views see the PUBLISH, without its payload, before the PUBACK (42-AK F1).
    let packets = packet_events(&events);
    assert_eq!(packets.len(), 2, "{packets:?}");
    let Packet::Publish(seen) = &packets[0].packet else {
        panic!("{:?}", packets[0].packet)
    };
    assert_eq!(
        (
            seen.topic.as_str(),
            seen.packet_id,
            seen.payload.len(),
            seen.retain
        ),
        ("orders/created", Some(41), 0, true)
    );
    assert_eq!(
        packets[0].skipped.map(|s| (s.size, s.max)),
        Some((
            oversized(QoS::AtLeastOnce, Some(41), false).len(),
            256 * 1024
        ))
    );
    assert_eq!(packets[1].packet, Packet::PubAck(Ack::new(41)));
    assert_eq!(packets[1].skipped, None);
    b.deliver(
        MS(30),
        super::fake_broker::incoming(QoS::AtLeastOnce, Some(42), false),
    );
    assert_eq!(b.messages().len(), 1, "the next message arrives");
    assert_eq!(b.session.status(), Status::Connected);
}

#[test]
fn an_oversized_qos2_message_is_received_once_and_completed() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.session
        .handle_bytes(MS(5), &oversized(QoS::ExactlyOnce, Some(7), false));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(7))]);
    // Our PUBREC was lost: the broker sends it again, with DUP.
    b.session
        .handle_bytes(MS(6), &oversized(QoS::ExactlyOnce, Some(7), true));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(7))]);
    b.deliver(MS(7), Packet::PubRel(Ack::new(7)));
    assert_eq!(b.sent(), [Packet::PubComp(Ack::new(7))]);
    let reported = b
        .take_events()
        .iter()
        .filter(|e| matches!(e, Event::MessageTooLarge(_)))
        .count();
    assert_eq!(reported, 1);
}

#[test]
fn an_oversized_5_0_packet_still_breaks_the_protocol() {
    // We announced our Maximum Packet Size: the broker must not send more ([MQTT-3.1.2-24]).
    let mut b = FakeBroker::connected(Options::new("c").v5());
    b.sent();
    let order = Publish::new("orders/created", vec![b' '; 348_000], QoS::AtMostOnce);
    let bytes = Packet::Publish(order).encode(ProtocolVersion::V5).unwrap();
    b.session.handle_bytes(MS(5), &bytes[..100]);
    assert_eq!(
        b.sent(),
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::PacketTooLarge
        ))]
    );
    assert!(lost(&b.take_events()).is_some());
}

// ---- 4. Session Present = 1 in answer to a clean session -----------------------------------

#[test]
fn a_3_1_1_session_present_to_a_clean_session_is_not_trusted() {
    let mut b = subscribed("c");
    b.session.handle_transport_open(S(0));
    b.sent();
    b.deliver(
        MS(5),
        Packet::ConnAck(ConnAck::new(true, ReasonCode::Success)),
    );
    assert!(
        matches!(b.sent().as_slice(), [Packet::Subscribe(_)]),
        "subscribes anyway"
    );
    let events = b.take_events();
    let fault = events.iter().find_map(|e| match e {
        Event::BrokerFault(f) => Some(f.to_string()),
        _ => None,
    });
    assert_eq!(
        fault.as_deref(),
        Some(
            "the broker claimed a session this client never had (Session Present in answer to \
             Clean Session, [MQTT-3.2.2-1]); subscribing anyway"
        )
    );
    assert!(events.contains(&Event::Connected {
        session_present: false
    }));
}

#[test]
fn a_5_0_session_present_to_clean_start_closes_the_connection() {
    let mut b = FakeBroker::new(Options::new("c").v5());
    b.session.handle_transport_open(S(0));
    b.sent();
    b.deliver(
        MS(5),
        Packet::ConnAck(ConnAck::new(true, ReasonCode::Success)),
    );
    assert_eq!(
        b.sent(),
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::ProtocolError
        ))]
    );
    let events = b.take_events();
    assert!(!events.iter().any(|e| matches!(e, Event::Connected { .. })));
    assert_eq!(
        lost_text(&events).as_deref(),
        Some(
            "the broker claimed a session this client never had (Session Present in answer to \
             Clean Start)"
        )
    );
}

#[test]
fn a_kept_session_is_asked_for_every_subscription_again() {
    let mut options = Options::new("c");
    options.clean_session = false;
    let mut b = FakeBroker::new(options);
    b.session
        .subscribe(
            S(0),
            &[
                ("orders/created", QoS::AtLeastOnce),
                ("payments/processed", QoS::AtLeastOnce),
            ],
        )
        .unwrap();
    let id = accept(&mut b, S(0)).unwrap();
    b.deliver(
        MS(10),
        Packet::SubAck(SubAck::new(
            id,
            vec![
                SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                SubscribeReturnCode::Failure,
            ],
        )),
    );
    close(&mut b, S(60));
    let Ok::<[Packet; 1], _>([Packet::Subscribe(again)]) = b.reconnect(S(61), true).try_into()
    else {
        panic!("expected one SUBSCRIBE")
    };
    // Both asked again: the refused one, and the granted one too (Session Present says the
    // broker holds a session, not which subscriptions: one restored from an older save may
    // have lost it).
    assert_eq!(
        again.filters,
        [
            ("orders/created".to_owned(), QoS::AtLeastOnce.into()),
            ("payments/processed".to_owned(), QoS::AtLeastOnce.into())
        ],
        "every subscription asked for again"
    );
}
