//! The session against a fake broker, on virtual time: every step is a packet we hand it or a
//! packet it must send. MQTT 3.1.1 here; `tests_v5.rs` has MQTT 5.0.

use super::fake_broker::{
    accepted, dropped, incoming, lost, lost_text, packet_events, FakeBroker, MS, S,
};
use super::*;
use crate::packet::{Ack, ConnAck, ConnectReturnCode, LastWill, SubAck, UnsubAck};
// The same tests run in the browser (`cargo test --target wasm32-unknown-unknown`): the session
// reads no clock, so virtual time works there too.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn connect_carries_client_id_keepalive_and_will() {
    let mut options = Options::new("eda-abc123-payment");
    options.keep_alive = S(15);
    options.will = Some(LastWill {
        retain: true,
        ..LastWill::new("services/payment", b"offline".to_vec(), QoS::AtLeastOnce)
    });
    let mut b = FakeBroker::new(options.clone());
    b.session.handle_transport_open(S(0));
    let Packet::Connect(c) = b.sent_one() else {
        panic!("expected CONNECT")
    };
    assert_eq!(c.protocol, ProtocolVersion::V311);
    assert!(c.properties.is_empty());
    assert_eq!(c.client_id, "eda-abc123-payment");
    assert_eq!(c.keep_alive, 15);
    assert!(c.clean_session);
    assert_eq!(c.will, options.will);
    assert_eq!(b.session.status(), Status::Connecting);
}

#[test]
fn a_3_1_1_connect_is_byte_for_byte_what_it_always_was() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session.handle_transport_open(S(0));
    assert_eq!(
        b.session.poll_transmit().unwrap(),
        [0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 0b10, 0, 30, 0, 1, b'c']
    );
}

#[test]
fn every_packet_in_and_out_is_an_event() {
    let mut b = FakeBroker::connected(Options::new("c"));
    let events = b.take_events();
    let trace: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Packet(p) => Some((p.direction, p.kind())),
            _ => None,
        })
        .collect();
    assert_eq!(
        trace,
        [
            (Direction::Outgoing, PacketKind::Connect),
            (Direction::Incoming, PacketKind::ConnAck)
        ]
    );
    assert!(events.contains(&Event::Connected {
        session_present: false
    }));
}

#[test]
fn subscriptions_made_before_connecting_go_out_after_connack_and_report_grants() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session
        .subscribe(S(0), &[("orders/created", QoS::AtLeastOnce)])
        .unwrap();
    assert!(b.sent().is_empty(), "nothing is sent while offline");
    b.session.handle_transport_open(S(0));
    b.sent();
    b.deliver(MS(1), Packet::ConnAck(accepted()));
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    assert_eq!(
        sub.filters,
        [("orders/created".to_owned(), QoS::AtLeastOnce.into())]
    );
    b.deliver(
        MS(2),
        Packet::SubAck(SubAck::new(
            sub.packet_id,
            vec![SubscribeReturnCode::Failure],
        )),
    );
    assert!(b.take_events().contains(&Event::Subscribed {
        filters: vec![("orders/created".to_owned(), QoS::AtLeastOnce)],
        granted: vec![SubscribeReturnCode::Failure],
    }));
}

#[test]
fn qos1_publish_completes_on_puback_and_is_resent_with_dup_when_the_puback_is_lost() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    let outcome = b
        .session
        .publish(
            MS(10),
            "orders/created",
            b"{}".to_vec(),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap();
    let Publishing::Sent {
        packet_id: Some(id),
    } = outcome
    else {
        panic!("expected a packet id, got {outcome:?}")
    };
    let Packet::Publish(first) = b.sent_one() else {
        panic!()
    };
    assert!(!first.dup);
    // The PUBACK is lost with the connection.
    b.session.handle_transport_closed(MS(20), dropped());
    assert_eq!(
        lost_text(&b.take_events()).as_deref(),
        Some("the connection dropped after 19 ms")
    );
    assert_eq!(b.session.in_flight(), 1);
    b.session.handle_transport_open(S(1));
    b.sent();
    b.deliver(S(1), Packet::ConnAck(accepted()));
    let Packet::Publish(again) = b.sent_one() else {
        panic!()
    };
    assert!(again.dup, "a re-sent PUBLISH carries DUP");
    assert_eq!(again.packet_id, Some(id));
    b.deliver(S(1), Packet::PubAck(Ack::new(id)));
    assert!(b.take_events().contains(&Event::Delivered {
        packet_id: id,
        topic: "orders/created".into()
    }));
    assert_eq!(b.session.in_flight(), 0);
}

#[test]
fn what_is_not_acknowledged_or_not_sent_is_handed_over_and_nothing_acknowledged_is() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    let publish = |b: &mut FakeBroker, topic: &str, qos| {
        b.session
            .publish(
                MS(10),
                topic,
                topic.as_bytes().to_vec(),
                qos,
                qos == QoS::AtMostOnce,
            )
            .unwrap()
    };
    let Publishing::Sent {
        packet_id: Some(acked),
    } = publish(&mut b, "acked", QoS::AtLeastOnce)
    else {
        panic!()
    };
    publish(&mut b, "awaiting-puback", QoS::AtLeastOnce);
    publish(&mut b, "at-most-once", QoS::AtMostOnce);
    publish(&mut b, "awaiting-pubrec", QoS::ExactlyOnce);
    b.deliver(MS(20), Packet::PubAck(Ack::new(acked)));
    // The connection drops; one more is queued offline.
    b.session.handle_transport_closed(MS(30), dropped());
    publish(&mut b, "queued", QoS::AtLeastOnce);
    let kept: Vec<(String, QoS)> = b
        .session
        .unacknowledged()
        .into_iter()
        .map(|r| (r.topic, r.qos))
        .collect();
    assert_eq!(
        kept,
        [
            ("awaiting-puback".into(), QoS::AtLeastOnce),
            ("awaiting-pubrec".into(), QoS::ExactlyOnce),
            ("queued".into(), QoS::AtLeastOnce)
        ]
    );
}

#[test]
fn incoming_qos1_is_acknowledged_and_delivered() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.deliver(MS(5), incoming(QoS::AtLeastOnce, Some(77), false));
    assert_eq!(b.sent(), [Packet::PubAck(Ack::new(77))]);
    assert_eq!(b.messages().len(), 1);
}

#[test]
fn duplicate_incoming_qos2_is_delivered_once() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.deliver(MS(5), incoming(QoS::ExactlyOnce, Some(9), false));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(9))]);
    // The broker did not get our PUBREC and sends the message again.
    b.deliver(MS(6), incoming(QoS::ExactlyOnce, Some(9), true));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(9))]);
    assert_eq!(b.messages().len(), 1, "delivered exactly once");
    b.deliver(MS(7), Packet::PubRel(Ack::new(9)));
    assert_eq!(b.sent(), [Packet::PubComp(Ack::new(9))]);
    // After PUBREL the id is free: a new message with it is a new message.
    b.deliver(MS(8), incoming(QoS::ExactlyOnce, Some(9), false));
    assert_eq!(b.messages().len(), 1);
}

// A newcomer's break-test: Mosquitto answered PUBREC, was killed and came back without its data
// (Session Present 0); the PUBREL went to a session that had never seen the message, Mosquitto
// answered PUBCOMP, and an orders/confirmed the page counted reached no subscriber.
#[test]
fn a_released_qos2_message_is_published_again_to_a_session_the_broker_lost() {
    for clean_session in [false, true] {
        let mut options = Options::new("c");
        options.clean_session = clean_session;
        let mut b = FakeBroker::connected(options);
        b.sent();
        b.session
            .publish(S(0), "orders/confirmed", vec![7], QoS::ExactlyOnce, false)
            .unwrap();
        let Packet::Publish(first) = b.sent_one() else {
            panic!()
        };
        let id = first.packet_id.unwrap();
        b.deliver(MS(1), Packet::PubRec(Ack::new(id)));
        assert_eq!(b.sent(), [Packet::PubRel(Ack::new(id))]);
        b.session.handle_transport_closed(MS(2), dropped());
        let again = b.reconnect(S(1), false);
        let [Packet::Publish(p)] = again.as_slice() else {
            panic!("expected the PUBLISH again, got {again:?}")
        };
        assert_eq!(
            (&p.topic[..], &p.payload[..], p.qos),
            ("orders/confirmed", &[7][..], QoS::ExactlyOnce)
        );
        assert!(p.dup, "a re-delivery attempt carries DUP ([MQTT-3.3.1-1])");
        // The handshake starts over: PUBREC, PUBREL, PUBCOMP, then delivered once.
        let id = p.packet_id.unwrap();
        b.deliver(S(1), Packet::PubRec(Ack::new(id)));
        assert_eq!(b.sent(), [Packet::PubRel(Ack::new(id))]);
        b.deliver(S(1), Packet::PubComp(Ack::new(id)));
        let delivered = b
            .take_events()
            .iter()
            .filter(|e| matches!(e, Event::Delivered { packet_id, .. } if *packet_id == id))
            .count();
        assert_eq!(delivered, 1, "clean session {clean_session}");
    }
}

#[test]
fn outgoing_qos2_handshake_and_lost_pubcomp_resends_pubrel() {
    let mut options = Options::new("c");
    options.clean_session = false;
    let mut b = FakeBroker::connected(options);
    b.sent();
    b.session
        .publish(S(0), "payments/processed", vec![1], QoS::ExactlyOnce, false)
        .unwrap();
    let Packet::Publish(p) = b.sent_one() else {
        panic!()
    };
    let id = p.packet_id.unwrap();
    b.deliver(MS(1), Packet::PubRec(Ack::new(id)));
    assert_eq!(b.sent(), [Packet::PubRel(Ack::new(id))]);
    // PUBCOMP lost with the connection: after reconnecting to the session the broker kept,
    // PUBREL (not PUBLISH) is re-sent (§4.4).
    b.session.handle_transport_closed(MS(2), dropped());
    assert_eq!(b.reconnect(S(1), true), [Packet::PubRel(Ack::new(id))]);
    b.deliver(S(1), Packet::PubComp(Ack::new(id)));
    assert!(b
        .take_events()
        .iter()
        .any(|e| matches!(e, Event::Delivered { packet_id, .. } if *packet_id == id)));
}

#[test]
fn keepalive_pings_when_quiet_and_declares_the_connection_dead_without_pingresp() {
    let mut options = Options::new("c");
    options.keep_alive = S(30);
    options.ping_timeout = S(5);
    let mut b = FakeBroker::connected(options);
    b.sent();
    assert_eq!(b.session.poll_timeout(), Some(MS(1) + S(30)));
    b.session.handle_timeout(S(20));
    assert!(b.sent().is_empty(), "too early to ping");
    b.session.handle_timeout(MS(1) + S(30));
    assert_eq!(b.sent(), [Packet::PingReq]);
    b.deliver(S(31), Packet::PingResp);
    b.session.handle_timeout(S(35));
    assert!(lost(&b.take_events()).is_none(), "PINGRESP arrived in time");
    // The next ping goes unanswered.
    let next = b.session.poll_timeout().unwrap();
    b.session.handle_timeout(next);
    assert_eq!(b.sent(), [Packet::PingReq]);
    b.session.handle_timeout(next + S(5));
    let events = b.take_events();
    assert_eq!(
        lost(&events),
        Some(&ConnectionError::KeepaliveTimeout { timeout: S(5) }),
        "{events:?}"
    );
    assert_eq!(b.session.status(), Status::Offline);
}

/// A newcomer's break-test (35-M F2): a 10 MB message on a slow WebSocket held the PINGRESP
/// back past every wait; closed at each timeout, the connection was sent the message again on
/// the next and never got past it. The wait grows while connections the broker accepts keep
/// ending so, and a PINGRESP in time, or a broker not reached at all, sets it back.
#[test]
fn the_pingresp_wait_grows_while_accepted_connections_keep_timing_out() {
    let mut options = Options::new("c");
    options.keep_alive = S(30);
    options.ping_timeout = S(10);
    let mut b = FakeBroker::connected(options);
    b.sent();
    // Pings until one goes unanswered; returns the wait that ran out and the events.
    let time_out = |b: &mut FakeBroker| {
        let ping = b.session.poll_timeout().unwrap();
        b.session.handle_timeout(ping);
        assert_eq!(b.sent(), [Packet::PingReq]);
        let deadline = b.session.poll_timeout().unwrap();
        b.session.handle_timeout(deadline);
        let events = b.take_events();
        let Some(ConnectionError::KeepaliveTimeout { timeout }) = lost(&events).cloned() else {
            panic!("{events:?}")
        };
        let longer = events.iter().find_map(|e| match e {
            Event::PingWaitLonger { missed, wait } => Some((*missed, *wait)),
            _ => None,
        });
        (deadline - ping, timeout, longer)
    };
    assert_eq!(time_out(&mut b), (S(10), S(10), Some((1, S(40)))));
    let now = b.session.poll_timeout().unwrap_or(S(100));
    b.reconnect(now.max(S(100)), true);
    assert_eq!(time_out(&mut b), (S(40), S(40), Some((2, S(160)))));
    b.reconnect(S(400), true);
    assert_eq!(time_out(&mut b), (S(160), S(160), Some((3, S(320)))));
    b.reconnect(S(800), true);
    assert_eq!(
        time_out(&mut b),
        (S(320), S(320), None),
        "at most MAX_PING_WAIT: nothing longer to say"
    );
    assert_eq!(b.session.ping_wait_after(20), MAX_PING_WAIT);

    // The message got through: a late PINGRESP (200 s) keeps the long wait; one within the
    // option's 10 s sets it back.
    b.reconnect(S(1200), true);
    let pong = |b: &mut FakeBroker, after: Duration| {
        let ping = b.session.poll_timeout().unwrap();
        b.session.handle_timeout(ping);
        assert_eq!(b.sent(), [Packet::PingReq]);
        b.deliver(ping + after, Packet::PingResp);
        assert!(lost(&b.take_events()).is_none());
    };
    pong(&mut b, S(200));
    pong(&mut b, S(15));
    pong(&mut b, S(1));
    assert_eq!(time_out(&mut b), (S(10), S(10), Some((1, S(40)))));

    // A broker that cannot be reached: the timeouts were no slow link.
    b.session
        .handle_transport_closed(S(2000), ConnectionError::TransportFailed("refused".into()));
    b.take_events();
    b.reconnect(S(2100), true);
    assert_eq!(time_out(&mut b).0, S(10));
    let text = ping_wait_text(2, S(160));
    assert!(
        text.starts_with("no PINGRESP came in time twice in a row on a connection the broker had accepted, so from now on the service waits 160 s for it."),
        "{text}"
    );
}

#[test]
fn missing_connack_times_out() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session.handle_transport_open(S(0));
    assert_eq!(b.session.poll_timeout(), Some(S(10)));
    b.session.handle_timeout(S(10));
    assert_eq!(
        lost_text(&b.take_events()).as_deref(),
        Some("no CONNACK from the broker within 10000 ms")
    );
}

/// A server that accepts the TCP connection and never answers the WebSocket handshake: the
/// connect timeout, given as a time like every other, ends the attempt (before, the session
/// was offline with no deadline, and the page said "connecting" for ever).
#[test]
fn a_transport_that_never_opens_times_out() {
    let mut options = Options::new("c");
    options.connect_timeout = S(4);
    let mut b = FakeBroker::new(options);
    assert_eq!(b.session.poll_timeout(), None, "nothing tried, nothing due");
    b.session.handle_transport_opening(S(1));
    assert_eq!(b.session.status(), Status::Offline);
    assert_eq!(b.session.poll_timeout(), Some(S(5)));
    b.session.handle_timeout(S(4));
    assert!(lost(&b.take_events()).is_none(), "not due yet");
    b.session.handle_timeout(S(5));
    let events = b.take_events();
    let reason = lost(&events).expect("the attempt ends");
    assert_eq!(*reason, ConnectionError::OpenTimeout { timeout: S(4) });
    assert!(reason.is_timeout() && !reason.is_unreachable());
    assert_eq!(reason.unanswered_within(), Some(S(4)));
    assert_eq!(
        reason.to_string(),
        "no answer to the WebSocket opening handshake within 4000 ms"
    );
    assert_eq!(b.session.poll_timeout(), None, "said once");
    b.session.handle_timeout(S(9));
    assert!(lost(&b.take_events()).is_none());
    // The driver closes the socket it gave up on: nothing more to report.
    b.session.handle_transport_closed(S(9), dropped());
    assert!(lost(&b.take_events()).is_none());
    assert!(b.session.reconnect_delay(0.0) > Duration::ZERO);
}

/// The timeout covers the handshake and the CONNACK together: a WebSocket that opened late
/// leaves the CONNACK what is left of it.
#[test]
fn the_connect_timeout_covers_the_opening_and_the_connack() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session.handle_transport_opening(S(0));
    b.session.handle_transport_open(S(3));
    assert_eq!(b.session.status(), Status::Connecting);
    assert_eq!(b.session.poll_timeout(), Some(S(10)));
    b.session.handle_timeout(S(10));
    let events = b.take_events();
    let reason = lost(&events).expect("no CONNACK");
    assert_eq!(*reason, ConnectionError::ConnectTimeout { timeout: S(10) });
    assert_eq!(reason.unanswered_within(), Some(S(10)));
    // The next attempt gets a whole timeout again.
    b.session.handle_transport_opening(S(12));
    b.session.handle_transport_open(S(12));
    assert_eq!(b.session.poll_timeout(), Some(S(22)));
}

/// A transport that fails before it opens (nothing listens) is the driver's to report; the
/// deadline of its attempt goes with it, so no timeout follows it.
#[test]
fn a_transport_that_fails_to_open_leaves_no_deadline() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session.handle_transport_opening(S(0));
    b.session.handle_transport_closed(MS(5), dropped());
    assert!(lost(&b.take_events()).is_none());
    assert_eq!(b.session.poll_timeout(), None);
    b.session.handle_timeout(S(10));
    assert!(lost(&b.take_events()).is_none());
}

#[test]
fn refused_connack_explains_why() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session.handle_transport_open(S(0));
    b.deliver(
        MS(1),
        Packet::ConnAck(ConnAck::new(
            false,
            ConnectReturnCode::NotAuthorized.reason(),
        )),
    );
    let events = b.take_events();
    assert!(lost(&events).is_some_and(ConnectionError::is_refusal));
    assert_eq!(
        lost_text(&events).as_deref(),
        Some(
            "the broker refused the connection: \
             not authorized (the broker refuses this client: a wrong password, a user it does not know, or anonymous clients not allowed in) (return code 5)"
        )
    );
}

#[test]
fn offline_publishes_are_queued_up_to_the_limit_and_sent_on_connect() {
    let mut options = Options::new("c");
    options.offline_queue_limit = 2;
    let mut b = FakeBroker::new(options);
    for i in 0..2 {
        assert_eq!(
            b.session
                .publish(S(0), "t", vec![i], QoS::AtLeastOnce, false)
                .unwrap(),
            Publishing::Queued {
                queued: i as usize + 1
            }
        );
    }
    assert_eq!(
        b.session
            .publish(S(0), "t", vec![9], QoS::AtLeastOnce, false),
        Err(SessionError::OfflineQueueFull { limit: 2 })
    );
    b.session.handle_transport_open(S(1));
    b.sent();
    b.deliver(S(1), Packet::ConnAck(accepted()));
    let payloads: Vec<_> = b
        .sent()
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p.payload,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(payloads, [vec![0], vec![1]]);
    assert_eq!(b.session.queued(), 0);
}

#[test]
fn malformed_bytes_and_client_only_packets_lose_the_connection_without_panicking() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.session.handle_bytes(S(1), &[0xf0, 0x00]);
    assert_eq!(
        lost_text(&b.take_events()).as_deref(),
        Some("malformed packet from the broker: reserved packet type 15")
    );

    let mut b = FakeBroker::connected(Options::new("c"));
    b.deliver(S(1), Packet::PingReq);
    assert_eq!(
        lost(&b.take_events()),
        Some(&ProtocolViolation::ClientOnlyPacket(PacketKind::PingReq).into())
    );
}

/// A newcomer's break-test: a SUBACK one return code short left the SUBSCRIBE's last filter
/// "asked" for good, with nothing said.
#[test]
fn a_suback_with_another_count_of_codes_than_filters_loses_the_connection() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.session
        .subscribe(
            S(1),
            &[
                ("orders/created", QoS::AtLeastOnce),
                ("orders/cancelled", QoS::AtLeastOnce),
            ],
        )
        .unwrap();
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    b.deliver(
        S(2),
        Packet::SubAck(SubAck::new(
            sub.packet_id,
            vec![SubscribeReturnCode::Granted(QoS::AtLeastOnce)],
        )),
    );
    let events = b.take_events();
    assert_eq!(
        lost_text(&events).as_deref(),
        Some(
            "the broker's SUBACK answered 2 topic filters with 1 return codes (one per filter \
             is the rule)"
        )
    );
    assert!(
        !events.iter().any(|e| matches!(e, Event::Subscribed { .. })),
        "no filter taken as granted: {events:?}"
    );
}

#[test]
fn split_frames_reassemble_into_messages() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    let bytes = incoming(QoS::AtMostOnce, None, false)
        .encode(ProtocolVersion::V311)
        .unwrap();
    for chunk in bytes.chunks(3) {
        b.session.handle_bytes(S(1), chunk);
    }
    assert_eq!(b.messages().len(), 1);
}

#[test]
fn invalid_topics_are_refused_before_anything_is_sent() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    for topic in ["", "orders/+", "orders/#"] {
        assert_eq!(
            b.session
                .publish(S(1), topic, vec![], QoS::AtMostOnce, false),
            Err(SessionError::InvalidTopic(
                crate::topic::validate_name(topic).unwrap_err()
            ))
        );
    }
    assert!(b.sent().is_empty());
}

#[test]
fn disconnect_sends_disconnect_and_goes_offline_quietly() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.session.disconnect(S(2));
    assert_eq!(b.sent(), [Packet::Disconnect(Disconnect::default())]);
    assert_eq!(b.session.status(), Status::Offline);
    assert!(lost(&b.take_events()).is_none());
}

#[test]
fn a_new_broker_session_forgets_half_finished_incoming_qos2() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.deliver(MS(5), incoming(QoS::ExactlyOnce, Some(1), false));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(1))]);
    assert_eq!(b.messages().len(), 1);
    // The connection drops before PUBREL; the broker comes back without our session, so its
    // packet ids start again and id 1 now means a new message.
    b.session.handle_transport_closed(MS(6), dropped());
    b.session.handle_transport_open(S(1));
    b.sent();
    b.deliver(S(1), Packet::ConnAck(accepted()));
    b.sent();
    b.deliver(S(2), incoming(QoS::ExactlyOnce, Some(1), false));
    assert_eq!(b.messages().len(), 1, "a new message, not a duplicate");
}

#[test]
fn a_resumed_broker_session_still_suppresses_the_duplicate() {
    let mut options = Options::new("c");
    options.clean_session = false;
    let mut b = FakeBroker::connected(options);
    b.sent();
    b.deliver(MS(5), incoming(QoS::ExactlyOnce, Some(1), false));
    b.take_events();
    b.session.handle_transport_closed(MS(6), dropped());
    b.reconnect(S(1), true);
    b.deliver(S(2), incoming(QoS::ExactlyOnce, Some(1), true));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(1))]);
    assert!(
        b.messages().is_empty(),
        "the re-sent message was delivered before"
    );
}

// A newcomer's break-test: Mosquitto, killed after our PUBREC and before its PUBREL, came back
// from an older save with Session Present 1 and reused the id for a new message (DUP 0): taken
// as a repeat, it was answered PUBREC and never delivered, and an order's saga never started.
#[test]
fn a_new_qos2_message_under_an_id_the_broker_forgot_is_delivered_and_said() {
    let message = |topic: &str, payload: &[u8], dup| {
        Packet::Publish(Publish {
            packet_id: Some(12),
            dup,
            ..Publish::new(topic, payload.to_vec(), QoS::ExactlyOnce)
        })
    };
    let mut options = Options::new("c");
    options.clean_session = false;
    let mut b = FakeBroker::connected(options);
    b.sent();
    b.deliver(MS(5), message("inventory/reserved", b"{\"a\":1}", false));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(12))]);
    assert_eq!(b.messages().len(), 1);
    b.session.handle_transport_closed(MS(6), dropped());
    b.reconnect(S(1), true);
    b.sent();
    // The same message again, with or without DUP (a broker that forgot to set it): a repeat.
    b.deliver(S(2), message("inventory/reserved", b"{\"a\":1}", false));
    b.deliver(S(2), message("orders/created", b"{\"b\":2}", true));
    assert!(b.messages().is_empty(), "repeats are not delivered again");
    // A new message under the id: delivered, and the broker's lapse said.
    b.deliver(S(3), message("orders/created", b"{\"b\":2}", false));
    assert_eq!(b.sent(), vec![Packet::PubRec(Ack::new(12)); 3]);
    let events = b.take_events();
    let delivered: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(p) => Some(p.topic.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, ["orders/created"]);
    let said = events.iter().find_map(|e| match e {
        Event::BrokerFault(fault) => Some(fault.to_string()),
        _ => None,
    });
    assert_eq!(
        said.as_deref(),
        Some(
            "the broker sent a new QoS 2 message on orders/created under packet id 12, whose \
             earlier message still awaited its PUBREL: it forgot that exchange (restored from an \
             older save?); the new message is delivered, not dropped as a repeat"
        )
    );
    // Its PUBREL completes it once; a repeat of it is not delivered again.
    b.deliver(S(4), message("orders/created", b"{\"b\":2}", true));
    assert!(b.messages().is_empty());
    b.deliver(S(5), Packet::PubRel(Ack::new(12)));
    assert_eq!(b.sent().last(), Some(&Packet::PubComp(Ack::new(12))));
}

#[test]
fn unsubscribe_stops_resubscribing_and_reports_the_unsuback() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session
        .subscribe(
            S(0),
            &[
                ("orders/created", QoS::AtLeastOnce),
                ("payments/#", QoS::AtMostOnce),
            ],
        )
        .unwrap();
    b.session.handle_transport_open(S(0));
    b.sent();
    b.deliver(MS(1), Packet::ConnAck(accepted()));
    b.sent();
    b.session.unsubscribe(MS(2), &["orders/created"]).unwrap();
    let Packet::Unsubscribe(unsub) = b.sent_one() else {
        panic!("expected UNSUBSCRIBE")
    };
    assert_eq!(unsub.filters, ["orders/created"]);
    b.deliver(MS(3), Packet::UnsubAck(UnsubAck::new(unsub.packet_id)));
    assert!(b.take_events().contains(&Event::Unsubscribed {
        filters: vec!["orders/created".into()],
        reasons: vec![],
    }));
    // After a reconnect only the remaining filter is subscribed again.
    b.session.handle_transport_closed(MS(4), dropped());
    b.session.handle_transport_open(S(1));
    b.sent();
    b.deliver(S(1), Packet::ConnAck(accepted()));
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    assert_eq!(
        sub.filters,
        [("payments/#".to_owned(), QoS::AtMostOnce.into())]
    );
}

#[test]
fn malformed_filters_are_refused_before_anything_is_sent() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    assert!(matches!(
        b.session
            .subscribe(S(1), &[("orders/#/x", QoS::AtMostOnce)]),
        Err(SessionError::InvalidTopic(
            crate::topic::TopicError::MisplacedHash(_)
        ))
    ));
    assert!(b.sent().is_empty());
}

#[test]
fn credentials_reach_the_broker_but_the_packet_event_hides_them() {
    for protocol in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let mut options = Options::new("c");
        options.protocol = protocol;
        options.username = Some("PaymentService".into());
        options.password = Some(b"hunter2".to_vec());
        let mut b = FakeBroker::new(options);
        b.session.handle_transport_open(S(0));
        let events = b.take_events();
        let sent = b.sent();
        let [Packet::Connect(on_the_wire)] = sent.as_slice() else {
            panic!("{sent:?}");
        };
        assert_eq!(on_the_wire.username.as_deref(), Some("PaymentService"));
        assert_eq!(on_the_wire.password.as_deref(), Some(&b"hunter2"[..]));
        let shown = packet_events(&events);
        let [shown] = shown.as_slice() else {
            panic!("{events:?}");
        };
        let Packet::Connect(c) = &shown.packet else {
            panic!("{shown:?}");
        };
        assert_eq!(c.username.as_deref(), Some("**************"));
        assert_eq!(c.password.as_deref(), Some(&b"*******"[..]));
        let text = String::from_utf8_lossy(&shown.bytes);
        assert!(
            !text.contains("hunter2") && !text.contains("Payment"),
            "{text}"
        );
        // The same size as what went out, and the bytes decode to the packet shown.
        let real = Packet::Connect(on_the_wire.clone())
            .encode(protocol)
            .unwrap();
        assert_eq!(shown.bytes.len(), real.len());
        let again = Packet::decode(&shown.bytes, usize::MAX, protocol).unwrap();
        assert_eq!(again.map(|(p, _)| p), Some(shown.packet.clone()));
    }
}

#[test]
fn only_refusals_that_retrying_cannot_fix_stop_the_reconnects() {
    use ConnectReturnCode as R;
    let v311 = [
        (R::UnacceptableProtocolVersion, false),
        (R::IdentifierRejected, false),
        (R::ServerUnavailable, true),
        (R::BadUsernameOrPassword, false),
        (R::NotAuthorized, false),
    ]
    .map(|(code, retry)| (ProtocolVersion::V311, code.reason(), retry));
    let v5 = [
        (ReasonCode::UnsupportedProtocolVersion, false),
        (ReasonCode::ClientIdentifierNotValid, false),
        (ReasonCode::BadUserNameOrPassword, false),
        (ReasonCode::NotAuthorized, false),
        (ReasonCode::Banned, false),
        (ReasonCode::BadAuthenticationMethod, false),
        (ReasonCode::TopicNameInvalid, false),
        (ReasonCode::PacketTooLarge, false),
        (ReasonCode::PayloadFormatInvalid, false),
        (ReasonCode::ServerUnavailable, true),
        (ReasonCode::ServerBusy, true),
        (ReasonCode::ConnectionRateExceeded, true),
        (ReasonCode::UnspecifiedError, true),
    ]
    .map(|(code, retry)| (ProtocolVersion::V5, code, retry));
    for (protocol, code, retry) in v311.into_iter().chain(v5) {
        let mut options = Options::new("c");
        options.protocol = protocol;
        let mut b = FakeBroker::new(options);
        b.session.handle_transport_open(S(0));
        b.deliver(MS(1), Packet::ConnAck(ConnAck::new(false, code)));
        let events = b.take_events();
        let reason: ConnectionError = lost(&events).expect("lost").clone();
        assert_eq!(
            reason.is_permanent_refusal(),
            !retry,
            "{protocol:?} {code:?}"
        );
        assert_eq!(b.session.should_reconnect(&reason), retry, "{code:?}");
    }
    let stopped = ConnectionError::Stopped("closed".into());
    assert!(!Session::new(Options::new("c")).should_reconnect(&stopped));
    let gone = ConnectionError::TransportClosed {
        code: 1006,
        reason: String::new(),
    };
    assert!(Session::new(Options::new("c")).should_reconnect(&gone));
}

#[test]
fn new_credentials_go_with_the_next_connect() {
    let mut b = FakeBroker::new(Options::new("c"));
    b.session.handle_transport_open(S(0));
    let [Packet::Connect(first)]: [Packet; 1] = b.sent().try_into().unwrap() else {
        panic!()
    };
    assert_eq!((first.username, first.password), (None, None));
    b.deliver(
        MS(1),
        Packet::ConnAck(ConnAck::new(
            false,
            ConnectReturnCode::BadUsernameOrPassword.reason(),
        )),
    );
    b.session
        .set_credentials(Some("OrderService".into()), Some(b"pw".to_vec()));
    b.session.handle_transport_open(S(1));
    let [Packet::Connect(second)]: [Packet; 1] = b.sent().try_into().unwrap() else {
        panic!()
    };
    assert_eq!(second.username.as_deref(), Some("OrderService"));
    assert_eq!(second.password.as_deref(), Some(&b"pw"[..]));
}

/// A newcomer's break-test (34-K F5, F6, F9): the page replaced its clients (another MQTT
/// version) with QoS 2 messages in flight. The new client published them anew under new packet
/// ids: subscribers got each twice, and the broker kept the old exchanges open for good. Carried
/// over, the new session sends the PUBREL of the one the broker answered with PUBREC and the
/// PUBLISH (DUP 1, same id) of the one it did not; a 5.0 message loses its properties for 3.1.1.
#[test]
fn a_session_that_follows_sends_the_carried_publishes_again_under_their_ids() {
    let mut options = Options::new("c");
    options.clean_session = false;
    let mut old = FakeBroker::connected(options.clone());
    old.sent();
    old.session
        .publish(S(0), "orders/created", vec![1], QoS::ExactlyOnce, false)
        .unwrap();
    old.session
        .publish(S(0), "orders/created", vec![2], QoS::ExactlyOnce, false)
        .unwrap();
    let ids: Vec<u16> = old
        .sent()
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.packet_id.unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    old.deliver(MS(1), Packet::PubRec(Ack::new(ids[0])));
    old.sent();
    let carried = old.session.take_in_flight();
    assert_eq!(carried.len(), 2);
    assert!(old.session.unacknowledged().is_empty(), "taken out");

    let mut new = FakeBroker::new(options);
    new.session.adopt_in_flight(carried);
    let again = new.reconnect(S(1), true);
    assert_eq!(again[0], Packet::PubRel(Ack::new(ids[0])));
    let Packet::Publish(p) = &again[1] else {
        panic!("{again:?}")
    };
    assert_eq!(
        (p.packet_id, p.dup, p.payload.to_vec()),
        (Some(ids[1]), true, vec![2])
    );
    // A new message takes an id the carried ones do not hold.
    new.session
        .publish(S(2), "orders/created", vec![3], QoS::ExactlyOnce, false)
        .unwrap();
    let Packet::Publish(fresh) = new.sent_one() else {
        panic!()
    };
    assert!(!ids.contains(&fresh.packet_id.unwrap()));
}
