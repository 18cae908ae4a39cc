//! The streaming decoder: WebSocket frames arrive with part of a packet, one packet, or several;
//! [`Decoder`] buffers them and yields whole packets with their raw bytes.

use crate::packet::{DecodeError, Packet, ProtocolVersion};

/// Turns a byte stream cut anywhere into whole packets of one protocol version.
///
/// MQTT over WebSocket does not align packets with frames ([MQTT-6.0.0-2]), so the decoder
/// keeps what it has not used yet until the rest arrives.
///
/// ```
/// use broker_bridge::codec::Decoder;
/// use broker_bridge::packet::{Packet, ProtocolVersion};
///
/// let mut decoder = Decoder::new(256 * 1024, ProtocolVersion::V311);
/// decoder.push(&[0xD0]); // the first byte of a PINGRESP
/// assert_eq!(decoder.next_packet(), Ok(None));
/// decoder.push(&[0x00, 0x20]); // its second byte, and the start of a CONNACK
/// assert_eq!(decoder.next_packet(), Ok(Some((Packet::PingResp, vec![0xD0, 0x00]))));
/// assert_eq!(decoder.buffered(), 1);
/// ```
pub struct Decoder {
    buf: Vec<u8>,
    /// Start of the undecoded bytes in `buf`; the consumed prefix is dropped lazily.
    start: usize,
    max_packet_size: usize,
    version: ProtocolVersion,
}

impl Decoder {
    /// A decoder for a connection speaking `version` that refuses packets of more than
    /// `max_packet_size` bytes, fixed header included, as soon as their length is known.
    pub fn new(max_packet_size: usize, version: ProtocolVersion) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_packet_size,
            version,
        }
    }

    /// The protocol version the bytes are read as.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Appends bytes as they came from the transport, in any pieces.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete packet and the bytes it was made of, or `Ok(None)` until more arrive.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the bytes are no valid packet of this version, or announce one
    /// larger than the maximum. The stream has then lost its framing: the connection must be
    /// closed (MQTT 5.0 §4.13; 3.1.1 §4.8).
    pub fn next_packet(&mut self) -> Result<Option<(Packet, Vec<u8>)>, DecodeError> {
        let pending = &self.buf[self.start..];
        match Packet::decode(pending, self.max_packet_size, self.version)? {
            Some((packet, used)) => {
                let raw = pending[..used].to_vec();
                self.start += used;
                Ok(Some((packet, raw)))
            }
            None => Ok(None),
        }
    }

    /// Bytes received but not yet part of a whole packet.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Forgets everything buffered, for a new connection.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Ack, Properties, Property, Publish, QoS, ReasonCode};
    use ProtocolVersion::{V311, V5};

    fn sample_packets(version: ProtocolVersion) -> Vec<Packet> {
        let mut packets = vec![
            Packet::PingResp,
            Packet::Publish(Publish {
                packet_id: Some(3),
                ..Publish::new("payments/processed", vec![b'x'; 300], QoS::AtLeastOnce)
            }),
            Packet::PubAck(Ack::new(3)),
            Packet::Publish(Publish {
                retain: true,
                ..Publish::new("a", vec![], QoS::AtMostOnce)
            }),
        ];
        if version == V5 {
            packets.push(Packet::Publish(Publish {
                properties: Properties::new()
                    .with_user_property("correlationId", "7")
                    .with(Property::MessageExpiryInterval(60)),
                ..Publish::new("orders/created", b"{}".to_vec(), QoS::AtMostOnce)
            }));
            packets.push(Packet::PubAck(Ack::with_reason(
                4,
                ReasonCode::QuotaExceeded,
            )));
        }
        packets
    }

    fn stream(version: ProtocolVersion) -> Vec<u8> {
        sample_packets(version)
            .iter()
            .flat_map(|p| p.encode(version).unwrap())
            .collect()
    }

    fn drain(decoder: &mut Decoder) -> Vec<Packet> {
        let mut out = Vec::new();
        while let Some((packet, _)) = decoder.next_packet().unwrap() {
            out.push(packet);
        }
        out
    }

    #[test]
    fn several_packets_in_one_frame() {
        for version in [V311, V5] {
            let mut decoder = Decoder::new(1 << 20, version);
            decoder.push(&stream(version));
            assert_eq!(drain(&mut decoder), sample_packets(version));
            assert_eq!(decoder.buffered(), 0);
        }
    }

    #[test]
    fn raw_bytes_are_exactly_the_packets_bytes() {
        let packet = Packet::PubAck(Ack::with_reason(513, ReasonCode::NoMatchingSubscribers));
        let mut decoder = Decoder::new(1 << 20, V5);
        decoder.push(&packet.encode(V5).unwrap());
        let (_, raw) = decoder.next_packet().unwrap().unwrap();
        assert_eq!(raw, [0x40, 3, 2, 1, 0x10]);
    }

    #[test]
    fn the_version_decides_how_bytes_read() {
        // A PUBACK with a reason code: a valid 5.0 packet, trailing bytes in 3.1.1.
        let bytes = [0x40, 3, 0, 1, 0x10];
        let mut v5 = Decoder::new(64, V5);
        v5.push(&bytes);
        assert!(v5.next_packet().unwrap().is_some());
        let mut v311 = Decoder::new(64, V311);
        v311.push(&bytes);
        assert_eq!(v311.next_packet(), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn max_packet_size_is_enforced() {
        for version in [V311, V5] {
            let mut decoder = Decoder::new(64, version);
            decoder.push(&sample_packets(version)[1].encode(version).unwrap()[..3]);
            assert!(matches!(
                decoder.next_packet(),
                Err(DecodeError::PacketTooLarge { max: 64, .. })
            ));
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// However the stream is cut into frames, the same packets come out in order.
        #[test]
        fn any_split_yields_the_same_packets(
            cuts in proptest::collection::vec(1usize..40, 0..30usize),
            v5 in proptest::prelude::any::<bool>(),
        ) {
            let version = if v5 { V5 } else { V311 };
            let packets = sample_packets(version);
            let stream = stream(version);
            let mut decoder = Decoder::new(1 << 20, version);
            let mut out = Vec::new();
            let mut pos = 0usize;
            for cut in cuts.into_iter().chain(std::iter::once(usize::MAX)) {
                let end = pos.saturating_add(cut).min(stream.len());
                decoder.push(&stream[pos..end]);
                out.extend(drain(&mut decoder));
                pos = end;
                if pos == stream.len() { break; }
            }
            proptest::prop_assert_eq!(out, packets);
        }

        /// Bytes from the network never panic the decoder.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512usize)) {
            for version in [V311, V5] {
                let mut decoder = Decoder::new(4096, version);
                decoder.push(&bytes);
                while let Ok(Some(_)) = decoder.next_packet() {}
            }
        }

        /// Bytes that start like a v5 packet with a property list (the likeliest place for a
        /// length mistake) never panic either, and what decodes re-encodes to the same packet.
        #[test]
        fn arbitrary_v5_property_lists_never_panic(
            kind in proptest::sample::select(vec![0x20u8, 0x30, 0x40, 0x62, 0x90, 0xb0, 0xe0, 0xf0]),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200usize),
        ) {
            let prefix: &[u8] = match kind {
                0x20 => &[0, 0],
                0x30 => &[0, 1, b't'],
                0x40 | 0x62 | 0x90 | 0xb0 => &[0, 1, 0],
                _ => &[0],
            };
            let mut bytes = vec![kind];
            let body: Vec<u8> = prefix.iter().copied().chain(body).collect();
            crate::packet::wire::put_remaining_length(&mut bytes, body.len());
            bytes.extend_from_slice(&body);
            if let Ok(Some((packet, used))) = Packet::decode(&bytes, 4096, V5) {
                proptest::prop_assert_eq!(used, bytes.len());
                let again = packet.encode(V5).unwrap();
                let back = Packet::decode(&again, 4096, V5).unwrap().unwrap().0;
                proptest::prop_assert_eq!(back, packet);
            }
        }
    }
}
