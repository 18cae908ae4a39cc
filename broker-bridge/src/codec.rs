//! The streaming decoder: WebSocket frames arrive with part of a packet, one packet, or several;
//! [`Decoder`] buffers them and yields whole packets with their raw bytes.

use crate::packet::{DecodeError, Packet};

pub struct Decoder {
    buf: Vec<u8>,
    /// Start of the undecoded bytes in `buf`; the consumed prefix is dropped lazily.
    start: usize,
    max_packet_size: usize,
}

impl Decoder {
    pub fn new(max_packet_size: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_packet_size,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete packet and the bytes it was made of, or `Ok(None)` until more arrive.
    /// After an error the stream has lost its framing: the connection must be closed.
    pub fn next_packet(&mut self) -> Result<Option<(Packet, Vec<u8>)>, DecodeError> {
        let pending = &self.buf[self.start..];
        match Packet::decode(pending, self.max_packet_size)? {
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

    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Publish, QoS};

    fn sample_packets() -> Vec<Packet> {
        vec![
            Packet::PingResp,
            Packet::Publish(Publish {
                topic: "payments/processed".into(),
                packet_id: Some(3),
                qos: QoS::AtLeastOnce,
                dup: false,
                retain: false,
                payload: vec![b'x'; 300],
            }),
            Packet::PubAck(3),
            Packet::Publish(Publish {
                topic: "a".into(),
                packet_id: None,
                qos: QoS::AtMostOnce,
                dup: false,
                retain: true,
                payload: vec![],
            }),
        ]
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
        let packets = sample_packets();
        let stream: Vec<u8> = packets.iter().flat_map(|p| p.encode().unwrap()).collect();
        let mut decoder = Decoder::new(1 << 20);
        decoder.push(&stream);
        assert_eq!(drain(&mut decoder), packets);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn raw_bytes_are_exactly_the_packets_bytes() {
        let packet = Packet::PubAck(513);
        let mut decoder = Decoder::new(1 << 20);
        decoder.push(&packet.encode().unwrap());
        let (_, raw) = decoder.next_packet().unwrap().unwrap();
        assert_eq!(raw, [0x40, 2, 2, 1]);
    }

    #[test]
    fn max_packet_size_is_enforced() {
        let mut decoder = Decoder::new(64);
        decoder.push(&sample_packets()[1].encode().unwrap()[..3]);
        assert!(matches!(
            decoder.next_packet(),
            Err(DecodeError::PacketTooLarge { max: 64, .. })
        ));
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// However the stream is cut into frames, the same packets come out in order.
        #[test]
        fn any_split_yields_the_same_packets(cuts in proptest::collection::vec(1usize..40, 0..30usize)) {
            let packets = sample_packets();
            let stream: Vec<u8> = packets.iter().flat_map(|p| p.encode().unwrap()).collect();
            let mut decoder = Decoder::new(1 << 20);
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
            let mut decoder = Decoder::new(4096);
            decoder.push(&bytes);
            while let Ok(Some(_)) = decoder.next_packet() {}
        }
    }
}
