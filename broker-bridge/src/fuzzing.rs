//! The body of the decoder fuzz target (`fuzz/fuzz_targets/decoder.rs`), kept here so the
//! ordinary test suite replays the same code over the committed corpus (`tests/fuzz_corpus.rs`).
//! Any panic in here is a bug: these bytes stand for whatever the network sends.

use std::time::Duration;

use crate::codec::Decoder;
use crate::packet::{ConnAck, ConnectReturnCode, Packet, QoS};
use crate::session::{Options, Session};

const MAX_PACKET: usize = 4096;

/// Feeds `data` to a decoder and to a connected session, cut into frames whose size the first
/// byte chooses, and checks that every packet decoded re-encodes to the same packet.
pub fn exercise(data: &[u8]) {
    let frame = data.first().map_or(1, |b| usize::from(*b) % 17 + 1);

    let mut decoder = Decoder::new(MAX_PACKET);
    for chunk in data.chunks(frame) {
        decoder.push(chunk);
        while let Ok(Some((packet, raw))) = decoder.next_packet() {
            assert!(raw.len() <= MAX_PACKET);
            let again = packet.encode().expect("a decoded packet encodes");
            let (decoded, _) = Packet::decode(&again, usize::MAX)
                .expect("our own encoding decodes")
                .expect("complete");
            assert_eq!(decoded, packet);
        }
    }

    let mut options = Options::new("fuzz");
    options.max_packet_size = MAX_PACKET;
    let mut session = Session::new(options);
    let _ = session.subscribe(Duration::ZERO, &[("#", QoS::ExactlyOnce)]);
    session.handle_transport_open(Duration::ZERO);
    let connack = Packet::ConnAck(ConnAck {
        session_present: false,
        code: ConnectReturnCode::Accepted,
    });
    session.handle_bytes(Duration::ZERO, &connack.encode().unwrap_or_default());
    let _ = session.publish(Duration::ZERO, "t", vec![1], QoS::ExactlyOnce, false);
    let _ = session.publish(Duration::ZERO, "t", vec![2], QoS::AtLeastOnce, false);
    for (i, chunk) in data.chunks(frame).enumerate() {
        let now = Duration::from_secs(i as u64);
        session.handle_bytes(now, chunk);
        session.handle_timeout(now);
        while session.poll_event().is_some() {}
        while session.poll_transmit().is_some() {}
    }
}
