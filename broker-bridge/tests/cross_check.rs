//! Our codec against an independent one (`mqttbytes`, the codec rumqtt used): every packet we
//! encode must be read back by it as the same packet, what it encodes we must decode, and both
//! must produce the same bytes. MQTT 3.1.1 here (`mqttbytes::v4`); MQTT 5.0 is in
//! `cross_check_v5.rs`.
#![cfg(not(target_arch = "wasm32"))]

use broker_bridge::packet::{
    Ack, ConnAck, Connect, ConnectReturnCode, Disconnect, LastWill, Packet, Properties,
    ProtocolVersion, Publish, QoS, SubAck, Subscribe, SubscribeReturnCode, UnsubAck, Unsubscribe,
};
use bytes::BytesMut;
use mqttbytes::v4;
use proptest::prelude::*;

fn their_qos(qos: QoS) -> mqttbytes::QoS {
    match qos {
        QoS::AtMostOnce => mqttbytes::QoS::AtMostOnce,
        QoS::AtLeastOnce => mqttbytes::QoS::AtLeastOnce,
        QoS::ExactlyOnce => mqttbytes::QoS::ExactlyOnce,
    }
}

/// The same packet in mqttbytes' terms.
fn theirs(packet: &Packet) -> v4::Packet {
    match packet {
        Packet::Connect(c) => v4::Packet::Connect(v4::Connect {
            protocol: mqttbytes::Protocol::V4,
            keep_alive: c.keep_alive,
            client_id: c.client_id.clone(),
            clean_session: c.clean_session,
            last_will: c.will.as_ref().map(|w| {
                v4::LastWill::new(
                    w.topic.clone(),
                    w.payload.clone(),
                    their_qos(w.qos),
                    w.retain,
                )
            }),
            login: c.username.as_ref().map(|u| {
                let password = c.password.clone().unwrap_or_default();
                v4::Login::new(u.clone(), String::from_utf8(password).unwrap())
            }),
        }),
        Packet::ConnAck(a) => v4::Packet::ConnAck(v4::ConnAck::new(
            match ConnectReturnCode::from_reason(a.code).expect("a 3.1.1 code") {
                ConnectReturnCode::Accepted => v4::ConnectReturnCode::Success,
                ConnectReturnCode::UnacceptableProtocolVersion => {
                    v4::ConnectReturnCode::RefusedProtocolVersion
                }
                ConnectReturnCode::IdentifierRejected => v4::ConnectReturnCode::BadClientId,
                ConnectReturnCode::ServerUnavailable => v4::ConnectReturnCode::ServiceUnavailable,
                ConnectReturnCode::BadUsernameOrPassword => {
                    v4::ConnectReturnCode::BadUserNamePassword
                }
                ConnectReturnCode::NotAuthorized => v4::ConnectReturnCode::NotAuthorized,
            },
            a.session_present,
        )),
        Packet::Publish(p) => {
            let mut publish =
                v4::Publish::new(p.topic.clone(), their_qos(p.qos), p.payload.clone());
            publish.pkid = p.packet_id.unwrap_or(0);
            publish.dup = p.dup;
            publish.retain = p.retain;
            v4::Packet::Publish(publish)
        }
        Packet::PubAck(a) => v4::Packet::PubAck(v4::PubAck::new(a.packet_id)),
        Packet::PubRec(a) => v4::Packet::PubRec(v4::PubRec::new(a.packet_id)),
        Packet::PubRel(a) => v4::Packet::PubRel(v4::PubRel::new(a.packet_id)),
        Packet::PubComp(a) => v4::Packet::PubComp(v4::PubComp::new(a.packet_id)),
        Packet::Subscribe(s) => v4::Packet::Subscribe(v4::Subscribe {
            pkid: s.packet_id,
            filters: s
                .filters
                .iter()
                .map(|(f, o)| v4::SubscribeFilter::new(f.clone(), their_qos(o.qos)))
                .collect(),
        }),
        Packet::SubAck(s) => v4::Packet::SubAck(v4::SubAck::new(
            s.packet_id,
            s.return_codes
                .iter()
                .map(|c| match c {
                    SubscribeReturnCode::Granted(q) => {
                        v4::SubscribeReasonCode::Success(their_qos(*q))
                    }
                    SubscribeReturnCode::Failure | SubscribeReturnCode::Refused(_) => {
                        v4::SubscribeReasonCode::Failure
                    }
                })
                .collect(),
        )),
        Packet::Unsubscribe(u) => v4::Packet::Unsubscribe(v4::Unsubscribe {
            pkid: u.packet_id,
            topics: u.filters.clone(),
        }),
        Packet::UnsubAck(u) => v4::Packet::UnsubAck(v4::UnsubAck::new(u.packet_id)),
        Packet::PingReq => v4::Packet::PingReq,
        Packet::PingResp => v4::Packet::PingResp,
        Packet::Disconnect(_) => v4::Packet::Disconnect,
        Packet::Auth(_) => unreachable!("AUTH does not exist in MQTT 3.1.1"),
    }
}

fn their_bytes(packet: &v4::Packet) -> Vec<u8> {
    let mut buf = BytesMut::new();
    match packet {
        v4::Packet::Connect(p) => p.write(&mut buf),
        v4::Packet::ConnAck(p) => p.write(&mut buf),
        v4::Packet::Publish(p) => p.write(&mut buf),
        v4::Packet::PubAck(p) => p.write(&mut buf),
        v4::Packet::PubRec(p) => p.write(&mut buf),
        v4::Packet::PubRel(p) => p.write(&mut buf),
        v4::Packet::PubComp(p) => p.write(&mut buf),
        v4::Packet::Subscribe(p) => p.write(&mut buf),
        v4::Packet::SubAck(p) => p.write(&mut buf),
        v4::Packet::Unsubscribe(p) => p.write(&mut buf),
        v4::Packet::UnsubAck(p) => p.write(&mut buf),
        v4::Packet::PingReq => v4::PingReq.write(&mut buf),
        v4::Packet::PingResp => v4::PingResp.write(&mut buf),
        v4::Packet::Disconnect => v4::Disconnect.write(&mut buf),
    }
    .expect("mqttbytes encodes");
    buf.to_vec()
}

const V311: ProtocolVersion = ProtocolVersion::V311;

fn cross_check(packet: Packet) {
    let ours = packet.encode(V311).expect("we encode");
    let expected = theirs(&packet);
    let read = v4::read(&mut BytesMut::from(&ours[..]), usize::MAX)
        .unwrap_or_else(|e| panic!("mqttbytes cannot read our {:?}: {e:?}", packet.kind()));
    assert_eq!(
        read, expected,
        "mqttbytes reads our bytes as another packet"
    );
    let theirs_bytes = their_bytes(&expected);
    assert_eq!(ours, theirs_bytes, "different bytes for {packet:?}");
    let (decoded, used) = Packet::decode(&theirs_bytes, usize::MAX, V311)
        .expect("we decode theirs")
        .expect("complete");
    assert_eq!((decoded, used), (packet, theirs_bytes.len()));
}

fn publish(qos: QoS, packet_id: Option<u16>, dup: bool, retain: bool, payload: &[u8]) -> Packet {
    Packet::Publish(Publish {
        packet_id,
        dup,
        retain,
        ..Publish::new("orders/created", payload.to_vec(), qos)
    })
}

#[test]
fn every_packet_kind_matches_the_independent_codec() {
    let connect = Connect::new(V311, "eda-1a2b3c-payment", 30);
    let packets = vec![
        Packet::Connect(connect.clone()),
        Packet::Connect(Connect {
            clean_session: false,
            will: Some(LastWill {
                retain: true,
                ..LastWill::new(
                    "services/payment/status",
                    b"offline".to_vec(),
                    QoS::AtLeastOnce,
                )
            }),
            username: Some("learner".into()),
            password: Some(b"secret".to_vec()),
            ..connect
        }),
        Packet::ConnAck(ConnAck::new(true, ConnectReturnCode::Accepted.reason())),
        Packet::ConnAck(ConnAck::new(
            false,
            ConnectReturnCode::NotAuthorized.reason(),
        )),
        publish(QoS::AtMostOnce, None, false, false, b"{}"),
        publish(QoS::AtLeastOnce, Some(1), false, true, &[0u8; 300]),
        publish(QoS::ExactlyOnce, Some(65535), true, false, b""),
        Packet::PubAck(Ack::new(7)),
        Packet::PubRec(Ack::new(8)),
        Packet::PubRel(Ack::new(9)),
        Packet::PubComp(Ack::new(10)),
        Packet::Subscribe(Subscribe {
            packet_id: 2,
            filters: vec![
                ("orders/created".into(), QoS::AtLeastOnce.into()),
                ("payments/+".into(), QoS::ExactlyOnce.into()),
                ("#".into(), QoS::AtMostOnce.into()),
            ],
            properties: Properties::new(),
        }),
        Packet::SubAck(SubAck::new(
            2,
            vec![
                SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                SubscribeReturnCode::Granted(QoS::ExactlyOnce),
                SubscribeReturnCode::Failure,
            ],
        )),
        Packet::Unsubscribe(Unsubscribe {
            packet_id: 3,
            filters: vec!["orders/created".into(), "payments/#".into()],
            properties: Properties::new(),
        }),
        Packet::UnsubAck(UnsubAck::new(3)),
        Packet::PingReq,
        Packet::PingResp,
        Packet::Disconnect(Disconnect::default()),
    ];
    for packet in packets {
        cross_check(packet);
    }
}

proptest! {
    /// Publishes of any topic, payload, QoS and flags encode identically in both codecs.
    #[test]
    fn any_publish_matches_the_independent_codec(
        topic in "[a-z0-9/ _-]{1,40}",
        payload in proptest::collection::vec(any::<u8>(), 0..2000),
        qos in 0u8..3,
        packet_id in 1u16..,
        dup in any::<bool>(),
        retain in any::<bool>(),
    ) {
        let qos = QoS::from_bits(qos).unwrap();
        let (packet_id, dup) = match qos {
            QoS::AtMostOnce => (None, false),
            _ => (Some(packet_id), dup),
        };
        cross_check(Packet::Publish(Publish { packet_id, dup, retain, ..Publish::new(topic, payload, qos) }));
    }
}
