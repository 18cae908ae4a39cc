//! The session speaking MQTT 5.0 against the fake broker, on virtual time: what it announces in
//! CONNECT, how it obeys CONNACK, and how reason codes and properties reach the application.

use super::fake_broker::{accepted, dropped, incoming, lost, lost_text, FakeBroker, MS, S};
use super::*;
use crate::packet::{
    Ack, Auth, ConnAck, Properties, Property, RetainHandling, SubAck, Subscribe, UnsubAck,
};
// The same tests run in the browser (`cargo test --target wasm32-unknown-unknown`): the session
// reads no clock, so virtual time works there too.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn v5(client_id: &str) -> Options {
    Options::new(client_id).v5()
}

fn connack(properties: Properties) -> ConnAck {
    ConnAck {
        properties,
        ..accepted()
    }
}

fn publish_qos1(b: &mut FakeBroker, payload: u8) -> Publishing {
    b.session
        .publish(
            S(1),
            "orders/created",
            vec![payload],
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
}

fn sent_publishes(b: &mut FakeBroker) -> Vec<Publish> {
    b.sent()
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        })
        .collect()
}

fn failures(events: &[Event]) -> Vec<(Option<u16>, &str)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PublishFailed {
                packet_id, reason, ..
            } => Some((*packet_id, reason.as_str())),
            _ => None,
        })
        .collect()
}

#[test]
fn connect_announces_level_5_session_expiry_and_our_limits() {
    let mut options = v5("eda-abc123-payment");
    options.clean_session = false;
    options.session_expiry = Some(Duration::from_secs(3600));
    options.receive_maximum = 10;
    options.max_packet_size = 4096;
    options.connect_user_properties = vec![
        ("app".into(), "eda".into()),
        ("service".into(), "payment".into()),
    ];
    let mut b = FakeBroker::new(options);
    b.session.handle_transport_open(S(0));
    let Packet::Connect(c) = b.sent_one() else {
        panic!("expected CONNECT")
    };
    assert_eq!(c.protocol, ProtocolVersion::V5);
    assert!(!c.clean_session, "Clean Start 0 resumes the session");
    let p = &c.properties;
    assert_eq!(p.session_expiry_interval(), Some(3600));
    assert_eq!(p.receive_maximum(), Some(10));
    assert_eq!(p.maximum_packet_size(), Some(4096));
    assert_eq!(p.topic_alias_maximum(), Some(0));
    assert_eq!(
        p.user_properties().collect::<Vec<_>>(),
        [("app", "eda"), ("service", "payment")]
    );
}

#[test]
fn without_session_expiry_the_session_ends_with_the_connection() {
    let mut b = FakeBroker::new(v5("c"));
    b.session.handle_transport_open(S(0));
    let Packet::Connect(c) = b.sent_one() else {
        panic!()
    };
    assert_eq!(c.properties.session_expiry_interval(), None);
    assert_eq!(c.properties.receive_maximum(), None, "65535 is the default");
}

#[test]
fn a_refused_connack_names_the_reason_code_and_the_reason_string() {
    let mut b = FakeBroker::new(v5("c"));
    b.session.handle_transport_open(S(0));
    let mut refusal = ConnAck::new(false, ReasonCode::NotAuthorized);
    refusal
        .properties
        .add(Property::ReasonString("guests may not connect".into()));
    b.deliver(MS(1), Packet::ConnAck(refusal));
    assert_eq!(
        lost_text(&b.take_events()).as_deref(),
        Some("the broker refused the connection: Not authorized (0x87): guests may not connect")
    );
    assert_eq!(b.session.status(), Status::Offline);
}

#[test]
fn a_3_1_1_broker_refusing_our_v5_connect_is_explained() {
    let mut b = FakeBroker::new(v5("c"));
    b.session.handle_transport_open(S(0));
    b.session.handle_bytes(MS(1), &[0x20, 2, 0, 1]);
    let events = b.take_events();
    assert_eq!(
        lost(&events).and_then(ConnectionError::reason_code),
        Some(ReasonCode::UnsupportedProtocolVersion)
    );
    assert_eq!(
        lost_text(&events).as_deref(),
        Some("the broker refused the connection: Unsupported Protocol Version (0x84)")
    );
}

#[test]
fn server_keep_alive_overrides_ours_for_that_connection_only() {
    let mut options = v5("c");
    options.keep_alive = S(30);
    let mut b = FakeBroker::connected_with(
        options,
        connack(Properties::new().with(Property::ServerKeepAlive(5))),
    );
    b.sent();
    assert_eq!(b.session.keep_alive(), S(5));
    assert_eq!(b.session.poll_timeout(), Some(MS(1) + S(5)));
    b.session.handle_timeout(MS(1) + S(5));
    assert_eq!(b.sent(), [Packet::PingReq]);
    // The next connection starts from our own value again.
    b.session.handle_transport_closed(S(6), dropped());
    b.session.handle_transport_open(S(10));
    let Packet::Connect(c) = b.sent_one() else {
        panic!()
    };
    assert_eq!(c.keep_alive, 30);
    b.deliver(S(10), Packet::ConnAck(accepted()));
    assert_eq!(b.session.poll_timeout(), Some(S(40)));
}

#[test]
fn receive_maximum_keeps_extra_messages_queued_until_acks_free_a_slot() {
    let limits = Properties::new().with(Property::ReceiveMaximum(2));
    let mut b = FakeBroker::connected_with(v5("c"), connack(limits));
    b.sent();
    let outcomes: Vec<_> = (0..4).map(|i| publish_qos1(&mut b, i)).collect();
    assert!(matches!(outcomes[1], Publishing::Sent { .. }));
    assert_eq!(outcomes[2], Publishing::Queued { queued: 1 });
    assert_eq!(outcomes[3], Publishing::Queued { queued: 2 });
    let first_two = sent_publishes(&mut b);
    assert_eq!(
        first_two.len(),
        2,
        "only Receive Maximum messages in flight"
    );
    assert_eq!(b.session.in_flight(), 2);
    // QoS 0 is not counted and not held back.
    b.session
        .publish(S(1), "metrics", vec![9], QoS::AtMostOnce, false)
        .unwrap();
    assert_eq!(sent_publishes(&mut b)[0].payload, [9]);
    // One PUBACK frees one slot: the oldest waiting message goes out.
    b.deliver(
        S(2),
        Packet::PubAck(Ack::new(first_two[0].packet_id.unwrap())),
    );
    let third = sent_publishes(&mut b);
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].payload, [2]);
    assert_eq!(b.session.queued(), 1);
    b.deliver(
        S(3),
        Packet::PubAck(Ack::new(first_two[1].packet_id.unwrap())),
    );
    assert_eq!(sent_publishes(&mut b)[0].payload, [3]);
    assert_eq!(b.session.queued(), 0);
}

#[test]
fn a_puback_with_an_error_reason_fails_the_message_and_frees_its_slot() {
    let limits = Properties::new().with(Property::ReceiveMaximum(1));
    let mut b = FakeBroker::connected_with(v5("c"), connack(limits));
    b.sent();
    publish_qos1(&mut b, 0);
    publish_qos1(&mut b, 1);
    let id = sent_publishes(&mut b)[0].packet_id.unwrap();
    let mut refusal = Ack::with_reason(id, ReasonCode::QuotaExceeded);
    refusal
        .properties
        .add(Property::ReasonString("10 messages a minute".into()));
    b.deliver(S(2), Packet::PubAck(refusal));
    let events = b.take_events();
    assert_eq!(
        failures(&events),
        [(
            Some(id),
            "the broker refused the message: Quota exceeded (0x97): 10 messages a minute"
        )]
    );
    assert!(!events.iter().any(|e| matches!(e, Event::Delivered { .. })));
    assert_eq!(sent_publishes(&mut b)[0].payload, [1], "the slot is free");
}

#[test]
fn no_matching_subscribers_is_still_delivered() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    publish_qos1(&mut b, 0);
    let id = sent_publishes(&mut b)[0].packet_id.unwrap();
    b.deliver(
        S(2),
        Packet::PubAck(Ack::with_reason(id, ReasonCode::NoMatchingSubscribers)),
    );
    assert!(b.take_events().contains(&Event::Delivered {
        packet_id: id,
        topic: "orders/created".into()
    }));
}

#[test]
fn a_pubrec_with_an_error_reason_ends_the_qos2_exchange_without_pubrel() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.session
        .publish(S(1), "payments/processed", vec![1], QoS::ExactlyOnce, false)
        .unwrap();
    let id = sent_publishes(&mut b)[0].packet_id.unwrap();
    b.deliver(
        S(2),
        Packet::PubRec(Ack::with_reason(id, ReasonCode::NotAuthorized)),
    );
    assert!(b.sent().is_empty(), "no PUBREL after a refusal");
    assert_eq!(
        failures(&b.take_events()),
        [(
            Some(id),
            "the broker refused the message: Not authorized (0x87)"
        )]
    );
    assert_eq!(b.session.in_flight(), 0);
}

#[test]
fn suback_refusals_carry_their_names() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.session
        .subscribe(
            S(1),
            &[
                ("orders/created", QoS::AtLeastOnce),
                ("admin/#", QoS::AtMostOnce),
                ("$share/workers/payments/#", QoS::AtLeastOnce),
            ],
        )
        .unwrap();
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    let granted = vec![
        SubscribeReturnCode::Granted(QoS::AtLeastOnce),
        SubscribeReturnCode::Refused(ReasonCode::NotAuthorized),
        SubscribeReturnCode::Refused(ReasonCode::SharedSubscriptionsNotSupported),
    ];
    b.deliver(
        S(2),
        Packet::SubAck(SubAck::new(sub.packet_id, granted.clone())),
    );
    let events = b.take_events();
    let Some(Event::Subscribed {
        filters,
        granted: got,
    }) = events
        .iter()
        .find(|e| matches!(e, Event::Subscribed { .. }))
    else {
        panic!("no Subscribed in {events:?}")
    };
    assert_eq!(filters[1], ("admin/#".to_owned(), QoS::AtMostOnce));
    assert_eq!(got, &granted);
    let refused: Vec<String> = got
        .iter()
        .filter(|c| c.is_failure())
        .map(|c| c.describe())
        .collect();
    assert_eq!(
        refused,
        [
            "Not authorized (0x87)",
            "Shared Subscriptions not supported (0x9E)"
        ]
    );
}

#[test]
fn shared_subscriptions_the_connack_says_are_unavailable_are_refused_without_asking() {
    let unavailable = Properties::new().with(Property::SharedSubscriptionAvailable(false));
    let mut b = FakeBroker::new(v5("c"));
    // Asked before connecting: the session sends them once the broker has answered CONNECT.
    b.session
        .subscribe(
            S(0),
            &[
                ("$share/g/orders/created", QoS::AtLeastOnce),
                ("orders/cancelled", QoS::AtLeastOnce),
            ],
        )
        .unwrap();
    b.session.handle_transport_open(S(0));
    b.sent();
    b.deliver(S(1), Packet::ConnAck(connack(unavailable)));
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    let asked: Vec<&str> = sub.filters.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(asked, ["orders/cancelled"], "the shared one is not sent");
    let refusals: Vec<Event> = b
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Subscribed { .. }))
        .collect();
    assert_eq!(
        refusals,
        [Event::Subscribed {
            filters: vec![("$share/g/orders/created".to_owned(), QoS::AtLeastOnce)],
            granted: vec![SubscribeReturnCode::Refused(
                ReasonCode::SharedSubscriptionsNotSupported
            )]
        }]
    );
    // Asked again while connected: refused again, nothing sent.
    b.session
        .subscribe(S(2), &[("$share/g/orders/confirmed", QoS::AtMostOnce)])
        .unwrap();
    assert!(b.sent().is_empty());
    assert!(b
        .take_events()
        .iter()
        .any(|e| matches!(e, Event::Subscribed { granted, .. } if granted[0].is_failure())));
}

#[test]
fn subscription_options_go_on_the_wire() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    let options = SubscriptionOptions {
        no_local: true,
        retain_handling: RetainHandling::DoNotSend,
        ..QoS::AtLeastOnce.into()
    };
    b.session
        .subscribe_with(S(1), &[("orders/created", options)])
        .unwrap();
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!()
    };
    assert_eq!(sub.filters, [("orders/created".to_owned(), options)]);
    // No Local makes no sense on a shared subscription (§3.8.3.1).
    assert_eq!(
        b.session
            .subscribe_with(S(1), &[("$share/g/orders/created", options)]),
        Err(SessionError::NoLocalOnSharedSubscription(
            "$share/g/orders/created".into()
        ))
    );
}

#[test]
fn unsuback_reasons_reach_the_application() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.session.unsubscribe(S(1), &["orders/created"]).unwrap();
    let Packet::Unsubscribe(unsub) = b.sent_one() else {
        panic!()
    };
    b.deliver(
        S(2),
        Packet::UnsubAck(UnsubAck {
            reasons: vec![ReasonCode::NoSubscriptionExisted],
            ..UnsubAck::new(unsub.packet_id)
        }),
    );
    assert!(b.take_events().contains(&Event::Unsubscribed {
        filters: vec!["orders/created".into()],
        reasons: vec![ReasonCode::NoSubscriptionExisted],
    }));
}

#[test]
fn the_brokers_disconnect_is_explained() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    let mut disconnect = Disconnect::new(ReasonCode::SessionTakenOver);
    disconnect.properties.add(Property::ReasonString(
        "another client connected as c".into(),
    ));
    b.deliver(S(5), Packet::Disconnect(disconnect));
    assert_eq!(
        lost_text(&b.take_events()).as_deref(),
        Some(
            "taken over by another client using this client id (the broker said: \
             Session taken over (0x8E): another client connected as c)"
        )
    );
    assert!(b.sent().is_empty(), "no answer to a DISCONNECT");
    assert_eq!(b.session.status(), Status::Offline);

    let mut b = FakeBroker::connected(v5("c"));
    let mut moved = Disconnect::new(ReasonCode::ServerMoved);
    moved
        .properties
        .add(Property::ServerReference("broker-2:1883".into()));
    b.deliver(S(5), Packet::Disconnect(moved));
    assert_eq!(
        lost_text(&b.take_events()).as_deref(),
        Some("the broker disconnected: Server moved (0x9D) (server reference: broker-2:1883)")
    );
}

#[test]
fn an_incoming_topic_alias_is_refused_with_disconnect_0x94() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    let Packet::Publish(mut aliased) = incoming(QoS::AtMostOnce, None, false) else {
        unreachable!()
    };
    aliased.properties.add(Property::TopicAlias(1));
    b.deliver(S(1), Packet::Publish(aliased));
    assert_eq!(
        b.sent(),
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::TopicAliasInvalid
        ))]
    );
    let events = b.take_events();
    assert_eq!(
        lost(&events),
        Some(&ProtocolViolation::TopicAlias(1).into()),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| matches!(e, Event::Message(_))));
}

#[test]
fn user_properties_and_correlation_data_survive_both_ways() {
    let mut b = FakeBroker::connected(v5("eda-order"));
    b.sent();
    let request = PublishRequest::new("orders/created", b"{}".to_vec(), QoS::AtLeastOnce)
        .with_user_property("correlationId", "3fa85f64")
        .with_user_property("source", "OrderService")
        .with_property(Property::ResponseTopic("orders/replies".into()))
        .with_property(Property::CorrelationData(b"req-1".to_vec()))
        .with_property(Property::MessageExpiryInterval(60))
        .with_property(Property::ContentType("application/json".into()));
    let expected = request.properties.clone();
    b.session.publish_with(S(1), request).unwrap();
    let out = sent_publishes(&mut b).remove(0);
    assert_eq!(out.properties, expected, "sent as given, in order");

    // The same message as the broker forwards it to a subscriber.
    let forwarded = Publish {
        packet_id: Some(7),
        properties: out.properties.clone(),
        ..out
    };
    b.deliver(S(2), Packet::Publish(forwarded));
    let received = b.messages().remove(0);
    let p = &received.properties;
    assert_eq!(p.user_property("correlationId"), Some("3fa85f64"));
    assert_eq!(
        p.user_properties().collect::<Vec<_>>(),
        [("correlationId", "3fa85f64"), ("source", "OrderService")]
    );
    assert_eq!(p.response_topic(), Some("orders/replies"));
    assert_eq!(p.correlation_data(), Some(&b"req-1"[..]));
    assert_eq!(p.message_expiry_interval(), Some(60));
    assert_eq!(p.content_type(), Some("application/json"));
}

#[test]
fn properties_the_client_may_not_set_are_refused_early() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    let aliased =
        PublishRequest::new("t", vec![], QoS::AtMostOnce).with_property(Property::TopicAlias(1));
    assert_eq!(
        b.session.publish_with(S(1), aliased),
        Err(SessionError::PropertyNotForPublish(
            crate::packet::PropertyId::TopicAlias
        ))
    );
    let wrong_place = PublishRequest::new("t", vec![], QoS::AtMostOnce)
        .with_property(Property::SessionExpiryInterval(1));
    assert!(matches!(
        b.session.publish_with(S(1), wrong_place),
        Err(SessionError::Encode(_))
    ));
    let bad_reply = PublishRequest::new("t", vec![], QoS::AtMostOnce)
        .with_property(Property::ResponseTopic("replies/#".into()));
    assert!(matches!(
        b.session.publish_with(S(1), bad_reply),
        Err(SessionError::InvalidTopic(_))
    ));
    assert!(b.sent().is_empty());
}

#[test]
fn check_publish_answers_as_publish_would_and_sends_nothing() {
    let limits = Properties::new().with(Property::MaximumPacketSize(64));
    let mut b = FakeBroker::connected_with(v5("c"), connack(limits));
    b.sent();
    let big = PublishRequest::new("orders/created", vec![0; 100], QoS::AtLeastOnce);
    let small = PublishRequest::new("orders/created", vec![0; 10], QoS::AtLeastOnce);
    assert!(matches!(
        b.session.check_publish(&big),
        Err(SessionError::PacketTooLarge { max: 64, .. })
    ));
    assert_eq!(b.session.check_publish(&small), Ok(()));
    assert!(matches!(
        b.session
            .check_publish(&PublishRequest::new("a/+", vec![], QoS::AtMostOnce)),
        Err(SessionError::InvalidTopic(_))
    ));
    assert!(b.sent().is_empty(), "nothing was sent");
    assert!(b.session.unacknowledged().is_empty(), "nothing was queued");
    // publish_with agrees.
    assert!(matches!(
        b.session.publish_with(S(1), big),
        Err(SessionError::PacketTooLarge { max: 64, .. })
    ));
}

#[test]
fn maximum_packet_size_qos_and_retain_of_the_broker_are_obeyed() {
    let limits = Properties::new()
        .with(Property::MaximumPacketSize(64))
        .with(Property::MaximumQoS(QoS::AtLeastOnce))
        .with(Property::RetainAvailable(false));
    let mut b = FakeBroker::connected_with(v5("c"), connack(limits));
    b.sent();
    // What the page shows and the application caps its QoS to.
    let caps = b.session.capabilities().expect("connected");
    assert_eq!(caps.maximum_qos, QoS::AtLeastOnce);
    assert_eq!(caps.maximum_packet_size, Some(64));
    assert!(!caps.retain_available);
    assert_eq!(caps.cap_qos(QoS::ExactlyOnce), QoS::AtLeastOnce);
    let too_big = b
        .session
        .publish(S(1), "orders/created", vec![0; 100], QoS::AtMostOnce, false);
    assert!(
        matches!(too_big, Err(SessionError::PacketTooLarge { max: 64, .. })),
        "{too_big:?}"
    );
    assert_eq!(
        b.session
            .publish(S(1), "t", vec![], QoS::ExactlyOnce, false),
        Err(SessionError::QoSNotSupported {
            requested: QoS::ExactlyOnce,
            maximum: QoS::AtLeastOnce
        })
    );
    assert_eq!(
        b.session.publish(S(1), "t", vec![], QoS::AtMostOnce, true),
        Err(SessionError::RetainNotSupported)
    );
    assert!(b.sent().is_empty(), "nothing was sent");
    b.session
        .publish(S(1), "t", vec![0; 10], QoS::AtLeastOnce, false)
        .unwrap();
    assert_eq!(sent_publishes(&mut b).len(), 1);
}

#[test]
fn a_queued_message_too_big_for_the_new_broker_is_reported_not_sent() {
    let mut b = FakeBroker::new(v5("c"));
    b.session
        .publish(
            S(0),
            "orders/created",
            vec![0; 100],
            QoS::AtLeastOnce,
            false,
        )
        .unwrap();
    b.session
        .publish(S(0), "orders/created", vec![1], QoS::AtLeastOnce, false)
        .unwrap();
    b.session.handle_transport_open(S(1));
    b.sent();
    let limits = Properties::new().with(Property::MaximumPacketSize(64));
    b.deliver(S(1), Packet::ConnAck(connack(limits)));
    let sent = sent_publishes(&mut b);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].payload, [1]);
    let events = b.take_events();
    let failed = failures(&events);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, None);
    assert!(failed[0].1.contains("Maximum Packet Size"), "{failed:?}");
    // Without a packet identifier, its topic and payload say which message it was.
    let refused: Vec<(&str, &[u8])> = events
        .iter()
        .filter_map(|e| match e {
            Event::PublishFailed { topic, payload, .. } => Some((topic.as_str(), &payload[..])),
            _ => None,
        })
        .collect();
    assert_eq!(refused, [("orders/created", &[0u8; 100][..])]);
}

#[test]
fn the_assigned_client_identifier_is_exposed() {
    let assigned = Properties::new().with(Property::AssignedClientIdentifier("auto-7f3a".into()));
    let b = FakeBroker::connected_with(v5(""), connack(assigned));
    assert_eq!(b.session.assigned_client_id(), Some("auto-7f3a"));
    assert_eq!(b.session.client_id(), "");
    assert!(b.session.connack().is_some());
}

#[test]
fn a_present_session_is_subscribed_again_without_its_retained_messages_and_in_flight_messages_are_resent(
) {
    let mut options = v5("c");
    options.clean_session = false;
    options.session_expiry = Some(S(600));
    let mut b = FakeBroker::new(options);
    b.session
        .subscribe(S(0), &[("orders/created", QoS::AtLeastOnce)])
        .unwrap();
    b.session.handle_transport_open(S(0));
    b.sent();
    b.deliver(MS(1), Packet::ConnAck(accepted()));
    let Packet::Subscribe(sub) = b.sent_one() else {
        panic!("expected SUBSCRIBE")
    };
    // Granted: the broker holds it in the session it keeps for us.
    b.deliver(
        MS(2),
        Packet::SubAck(SubAck::new(
            sub.packet_id,
            vec![SubscribeReturnCode::Granted(QoS::AtLeastOnce)],
        )),
    );
    publish_qos1(&mut b, 5);
    let id = sent_publishes(&mut b)[0].packet_id.unwrap();
    b.session.handle_transport_closed(MS(6), dropped());
    // Asked again all the same (a broker restored from an older save holds the session without
    // the subscriptions made since), with Retain Handling 1: no retained messages again if it
    // holds it.
    let sent = b.reconnect(S(2), true);
    let subscribes: Vec<&Subscribe> = sent
        .iter()
        .filter_map(|p| match p {
            Packet::Subscribe(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(subscribes.len(), 1, "{sent:?}");
    assert_eq!(
        subscribes[0].filters,
        [(
            "orders/created".to_owned(),
            SubscriptionOptions {
                retain_handling: RetainHandling::SendAtSubscribeIfNew,
                ..SubscriptionOptions::new(QoS::AtLeastOnce)
            }
        )]
    );
    let again: Vec<&Publish> = sent
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(again.len(), 1, "the PUBLISH again");
    assert_eq!((again[0].packet_id, again[0].dup), (Some(id), true));
}

#[test]
fn disconnect_says_normal_or_asks_for_the_will() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.session.disconnect(S(1));
    let sent = b.session.poll_transmit();
    assert_eq!(sent.as_deref(), Some(&[0xe0, 0x00][..]));

    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.session.disconnect_with_will(S(1));
    assert_eq!(
        b.sent(),
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::DisconnectWithWillMessage
        ))]
    );
    assert_eq!(b.session.status(), Status::Offline);

    // 3.1.1 has no way to say it: nothing is sent, closing the socket triggers the will.
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    b.session.disconnect_with_will(S(1));
    assert!(b.sent().is_empty());
}

#[test]
fn protocol_errors_are_answered_with_a_reason_before_closing() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.session.handle_bytes(S(1), &[0x40, 3, 0, 1, 0x05]); // PUBACK with an unknown reason
    assert_eq!(
        b.sent(),
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::MalformedPacket
        ))]
    );
    assert_eq!(
        lost_text(&b.take_events()).as_deref(),
        Some("malformed packet from the broker: reason code 0x05 is not one PUBACK may carry")
    );

    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.deliver(S(1), Packet::Auth(Auth::default()));
    assert_eq!(
        b.sent(),
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::ProtocolError
        ))]
    );
    assert_eq!(
        lost(&b.take_events()),
        Some(&ProtocolViolation::UnexpectedAuth.into())
    );
}

#[test]
fn the_broker_may_not_exceed_our_receive_maximum() {
    let mut options = v5("c");
    options.receive_maximum = 1;
    let mut b = FakeBroker::connected(options);
    b.sent();
    b.deliver(S(1), incoming(QoS::ExactlyOnce, Some(1), false));
    assert_eq!(b.sent(), [Packet::PubRec(Ack::new(1))]);
    b.deliver(S(1), incoming(QoS::ExactlyOnce, Some(2), false));
    assert_eq!(
        b.sent(),
        [Packet::Disconnect(Disconnect::new(
            ReasonCode::ReceiveMaximumExceeded
        ))]
    );
    let events = b.take_events();
    assert_eq!(
        lost(&events),
        Some(&ProtocolViolation::ReceiveMaximumExceeded { limit: 1 }.into())
    );
}

#[test]
fn an_unknown_pubrel_is_answered_with_packet_identifier_not_found() {
    let mut b = FakeBroker::connected(v5("c"));
    b.sent();
    b.deliver(S(1), Packet::PubRel(Ack::new(42)));
    assert_eq!(
        b.sent(),
        [Packet::PubComp(Ack::with_reason(
            42,
            ReasonCode::PacketIdentifierNotFound
        ))]
    );
}

#[test]
fn a_3_1_1_session_refuses_what_only_5_0_can_say() {
    let mut b = FakeBroker::connected(Options::new("c"));
    b.sent();
    let request = PublishRequest::new("t", vec![], QoS::AtMostOnce).with_user_property("k", "v");
    assert!(matches!(
        b.session.publish_with(S(1), request),
        Err(SessionError::Encode(
            crate::packet::EncodeError::NeedsV5 { .. }
        ))
    ));
    let options = SubscriptionOptions {
        no_local: true,
        ..QoS::AtMostOnce.into()
    };
    assert!(matches!(
        b.session.subscribe_with(S(1), &[("t", options)]),
        Err(SessionError::Encode(
            crate::packet::EncodeError::NeedsV5 { .. }
        ))
    ));
    assert!(b.sent().is_empty());
}

#[test]
fn a_connect_refused_for_its_will_is_tried_again_with_a_will_the_broker_takes() {
    let mut options = v5("c");
    options.will = Some(crate::LastWill::new(
        "services/payment/status",
        b"offline".to_vec(),
        QoS::ExactlyOnce,
    ));
    if let Some(will) = options.will.as_mut() {
        will.retain = true;
    }
    let mut b = FakeBroker::new(options);
    let will_of = |b: &mut FakeBroker| match b.sent().as_slice() {
        [Packet::Connect(c)] => c.will.clone().expect("a Will"),
        other => panic!("{other:?}"),
    };
    let adjusted = |events: &[Event]| {
        events
            .iter()
            .filter_map(|e| match e {
                Event::WillAdjusted(text) => Some(text.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };

    // 0x9A: a broker without retained messages ([MQTT-3.2.2-13]).
    b.session.handle_transport_open(S(0));
    assert!(will_of(&mut b).retain);
    b.deliver(
        MS(1),
        Packet::ConnAck(ConnAck::new(false, ReasonCode::RetainNotSupported)),
    );
    let events = b.take_events();
    assert!(lost(&events).is_some(), "this connection is refused");
    assert_eq!(adjusted(&events).len(), 1);
    assert!(
        adjusted(&events)[0].contains("no longer retained"),
        "{events:?}"
    );

    // 0x9B with Maximum QoS 1: the Will comes down to 1 ([MQTT-3.2.2-12]).
    b.session.handle_transport_open(S(1));
    let will = will_of(&mut b);
    assert!(!will.retain);
    assert_eq!(will.qos, QoS::ExactlyOnce);
    let mut refusal = ConnAck::new(false, ReasonCode::QoSNotSupported);
    refusal
        .properties
        .add(Property::MaximumQoS(QoS::AtLeastOnce));
    b.deliver(S(1) + MS(1), Packet::ConnAck(refusal));
    assert!(adjusted(&b.take_events())[0].contains("QoS 1"));

    b.session.handle_transport_open(S(2));
    let will = will_of(&mut b);
    assert_eq!((will.retain, will.qos), (false, QoS::AtLeastOnce));
    b.deliver(S(2) + MS(1), Packet::ConnAck(accepted()));
    assert_eq!(b.session.status(), Status::Connected);

    // Another refusal leaves the Will alone and says nothing of it.
    let mut other = FakeBroker::new(v5("d"));
    other.session.handle_transport_open(S(0));
    other.deliver(
        MS(1),
        Packet::ConnAck(ConnAck::new(false, ReasonCode::ServerBusy)),
    );
    assert!(adjusted(&other.take_events()).is_empty());
}
