//! Replays the decoder fuzz target's corpus (`fuzz/corpus/decoder/`) and a seed of every packet
//! kind through the same code the fuzzer runs, in both protocol versions: what once made it
//! fail stays fixed. Native only: the browser has no files to read.

use std::path::Path;

use super::exercise;
use crate::packet::{
    Ack, Auth, ConnAck, Connect, Disconnect, Packet, Properties, Property, ProtocolVersion,
    Publish, QoS, ReasonCode, SubAck, SubscribeReturnCode, UnsubAck,
};

#[test]
fn the_committed_corpus_replays_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decoder");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus folder exists") {
        let path = entry.unwrap().path();
        exercise(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(
        count >= 14,
        "expected at least the 14 seed inputs in {}",
        dir.display()
    );
}

/// MQTT 5.0 packets a broker sends, with properties and reason codes, whole and cut short at
/// every length: the places where a length or an identifier can be wrong.
#[test]
fn v5_broker_packets_and_their_prefixes_replay_without_a_panic() {
    let reason = Properties::new()
        .with(Property::ReasonString("why".into()))
        .with_user_property("k", "v");
    let packets = [
        Packet::ConnAck(ConnAck {
            properties: Properties::new()
                .with(Property::ReceiveMaximum(1))
                .with(Property::ServerKeepAlive(5))
                .with(Property::AssignedClientIdentifier("auto".into())),
            ..ConnAck::new(false, ReasonCode::Success)
        }),
        Packet::Publish(Publish {
            packet_id: Some(1),
            properties: Properties::new()
                .with(Property::SubscriptionIdentifier(300))
                .with(Property::CorrelationData(vec![1, 2]))
                .with_user_property("correlationId", "7"),
            ..Publish::new("orders/created", b"{}".to_vec(), QoS::ExactlyOnce)
        }),
        Packet::PubAck(Ack {
            packet_id: 1,
            reason: ReasonCode::QuotaExceeded,
            properties: reason.clone(),
        }),
        Packet::PubRec(Ack::with_reason(2, ReasonCode::NotAuthorized)),
        Packet::PubRel(Ack::new(1)),
        Packet::PubComp(Ack::with_reason(1, ReasonCode::PacketIdentifierNotFound)),
        Packet::SubAck(SubAck {
            properties: reason.clone(),
            ..SubAck::new(
                1,
                vec![SubscribeReturnCode::Refused(ReasonCode::TopicFilterInvalid)],
            )
        }),
        Packet::UnsubAck(UnsubAck {
            reasons: vec![ReasonCode::NoSubscriptionExisted],
            ..UnsubAck::new(2)
        }),
        Packet::Disconnect(Disconnect {
            reason: ReasonCode::SessionTakenOver,
            properties: reason.clone(),
        }),
        Packet::Auth(Auth {
            reason: ReasonCode::ContinueAuthentication,
            properties: reason,
        }),
        Packet::Connect(Connect::new(ProtocolVersion::V5, "c", 10)),
    ];
    let mut stream = Vec::new();
    for packet in &packets {
        let bytes = packet.encode(ProtocolVersion::V5).unwrap();
        for cut in 0..=bytes.len() {
            exercise(&bytes[..cut]);
        }
        stream.extend(bytes);
    }
    exercise(&stream);
}
