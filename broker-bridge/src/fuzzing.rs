//! The body of the decoder fuzz target (`fuzz/fuzz_targets/decoder.rs`), kept here so the
//! ordinary test suite replays the same code over the committed corpus (`fuzzing/tests.rs`).
//! Any panic in here is a bug: these bytes stand for whatever the network sends.
//!
//! Compiled only for this crate's unit tests and with the `fuzzing` feature, which the fuzz
//! crate turns on: it is no part of the API.

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use std::time::Duration;

use crate::codec::{Decoded, Decoder};
use crate::packet::{ConnAck, Packet, Property, ProtocolVersion, QoS, ReasonCode};
use crate::session::{Options, PublishRequest, Session};

const MAX_PACKET: usize = 4096;

/// Runs `data` through both protocol versions: see [`exercise_version`].
pub fn exercise(data: &[u8]) {
    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        exercise_version(data, version);
    }
}

/// Feeds `data` to a decoder and to a connected session speaking `version`, cut into frames
/// whose size the first byte chooses, and checks that every packet decoded re-encodes to the
/// same packet.
pub fn exercise_version(data: &[u8], version: ProtocolVersion) {
    let frame = data.first().map_or(1, |b| usize::from(*b) % 17 + 1);

    let mut decoder = Decoder::new(MAX_PACKET, version);
    for chunk in data.chunks(frame) {
        decoder.push(chunk);
        while let Ok(Some(item)) = decoder.next_item() {
            let Decoded::Packet(packet, raw) = item else {
                continue;
            };
            assert!(raw.len() <= MAX_PACKET);
            let again = packet.encode(version).expect("a decoded packet encodes");
            let (decoded, _) = Packet::decode(&again, usize::MAX, version)
                .expect("our own encoding decodes")
                .expect("complete");
            assert_eq!(decoded, packet);
        }
    }

    let mut options = Options::new("fuzz");
    options.max_packet_size = MAX_PACKET;
    options.protocol = version;
    options.receive_maximum = 4;
    let mut session = Session::new(options);
    let _ = session.subscribe(Duration::ZERO, &[("#", QoS::ExactlyOnce)]);
    session.handle_transport_open(Duration::ZERO);
    let mut connack = ConnAck::new(false, ReasonCode::Success);
    if version == ProtocolVersion::V5 {
        // Tight limits, so the fuzzed acknowledgements exercise the waiting queue.
        connack.properties.add(Property::ReceiveMaximum(1));
        connack.properties.add(Property::MaximumPacketSize(256));
    }
    let connack = Packet::ConnAck(connack).encode(version).unwrap_or_default();
    session.handle_bytes(Duration::ZERO, &connack);
    let _ = session.publish(Duration::ZERO, "t", vec![1], QoS::ExactlyOnce, false);
    let _ = session.publish(Duration::ZERO, "t", vec![2], QoS::AtLeastOnce, false);
    if version == ProtocolVersion::V5 {
        let request = PublishRequest::new("t", vec![3], QoS::AtLeastOnce)
            .with_user_property("correlationId", "1");
        let _ = session.publish_with(Duration::ZERO, request);
    }
    for (i, chunk) in data.chunks(frame).enumerate() {
        let now = Duration::from_secs(i as u64);
        session.handle_bytes(now, chunk);
        session.handle_timeout(now);
        while session.poll_event().is_some() {}
        while session.poll_transmit().is_some() {}
    }
}
