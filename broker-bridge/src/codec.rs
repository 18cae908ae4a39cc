//! The streaming decoder: WebSocket frames arrive with part of a packet, one packet, or several;
//! [`Decoder`] buffers them and yields whole packets with their raw bytes.
//!
//! On an MQTT 3.1.1 connection a PUBLISH larger than the maximum is not a reason to drop the
//! connection: 3.1.1 has no way to tell the broker our limit, so the broker did nothing wrong.
//! The decoder reads such a packet only up to its packet identifier, then lets the rest go by
//! as it arrives without keeping it, and reports it as [`Decoded::Oversized`] once its last
//! byte has passed (see `docs/decisions/0007-skipping-oversized-messages.md`). In MQTT 5.0 we
//! announce the limit (Maximum Packet Size), so a larger packet is the broker's protocol error.

use std::fmt;

use crate::packet::wire::read_remaining_length;
use crate::packet::{DecodeError, Packet, PacketKind, ProtocolVersion, QoS};

/// What the decoder found next in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole packet and the bytes it was made of.
    Packet(Packet, Vec<u8>),
    /// MQTT 3.1.1: a PUBLISH larger than the maximum, read up to its packet identifier and
    /// skipped to its last byte without being kept. A QoS 1 or 2 one still needs its
    /// acknowledgement, or the broker sends it again.
    Oversized(OversizedPublish),
}

/// A PUBLISH too large to take in, as far as it was read: its header and topic, not its
/// payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OversizedPublish {
    /// The topic name.
    pub topic: String,
    /// The QoS it was sent with.
    pub qos: QoS,
    /// Its packet identifier (QoS 1 and 2).
    pub packet_id: Option<u16>,
    /// The DUP flag: a re-delivery.
    pub dup: bool,
    /// The RETAIN flag: a retained message, sent because of a subscription.
    pub retain: bool,
    /// The whole packet's size in bytes, fixed header included.
    pub size: usize,
    /// The limit it broke ([`Options::max_packet_size`](crate::Options::max_packet_size)).
    pub max: usize,
}

/// `348 KB` (decimal, rounded) for a size, `1 byte`, `999 bytes` below a kilobyte.
pub fn kilobytes(size: usize) -> String {
    match size {
        1 => "1 byte".to_owned(),
        0..=999 => format!("{size} bytes"),
        _ => format!("{} KB", (size + 500) / 1000),
    }
}

/// `256 KiB` for a limit that is a whole number of kibibytes, else `1000 bytes`.
pub fn kibibytes(size: usize) -> String {
    if size >= 1024 && size % 1024 == 0 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} bytes")
    }
}

/// `n` with a comma between each group of three digits (`262,144`), as the page writes counts.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A `size` in bytes over a `max` in bytes, and the limit, in words where the one reads larger
/// than the other: `("348 KB", "256 KiB")` ([`kilobytes`], [`kibibytes`]); both in bytes for a
/// limit that is no whole number of kibibytes (`("1,200 bytes", "1,000 bytes")`). A size less than 5 %
/// over the limit is given in bytes, and so is the limit beside its kibibytes: `("262,210
/// bytes", "256 KiB (262,144 bytes)")`, since "262 KB exceeds 256 KiB" reads as a contradiction
/// (a newcomer's break-test, 44-AQ F8: 256 KiB is 262,144 bytes).
pub fn over_limit(size: usize, max: usize) -> (String, String) {
    let limit = kibibytes(max);
    if !limit.ends_with("KiB") {
        (
            format!("{} bytes", grouped(size as u64)),
            format!("{} bytes", grouped(max as u64)),
        )
    } else if size >= max.saturating_add(max / 20) {
        (kilobytes(size), limit)
    } else {
        (
            format!("{} bytes", grouped(size as u64)),
            format!("{limit} ({} bytes)", grouped(max as u64)),
        )
    }
}

impl fmt::Display for OversizedPublish {
    /// `a message of 348 KB on orders/created exceeds the 256 KiB limit` ([`over_limit`]'s
    /// words).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (size, limit) = over_limit(self.size, self.max);
        write!(
            f,
            "a message of {size} on {} exceeds the {limit} limit",
            self.topic,
        )
    }
}

/// The PUBLISH being skipped: what was read of it, and how many of its bytes are still to come.
#[derive(Debug, Clone)]
struct Skipping {
    publish: OversizedPublish,
    remaining: usize,
}

/// Turns a byte stream cut anywhere into whole packets of one protocol version.
///
/// MQTT over WebSocket does not align packets with frames ([MQTT-6.0.0-2]), so the decoder
/// keeps what it has not used yet until the rest arrives.
///
/// ```
/// use broker_bridge::codec::{Decoded, Decoder};
/// use broker_bridge::packet::{Packet, ProtocolVersion};
///
/// let mut decoder = Decoder::new(256 * 1024, ProtocolVersion::V311);
/// decoder.push(&[0xD0]); // the first byte of a PINGRESP
/// assert_eq!(decoder.next_item(), Ok(None));
/// decoder.push(&[0x00, 0x20]); // its second byte, and the start of a CONNACK
/// assert_eq!(decoder.next_item(), Ok(Some(Decoded::Packet(Packet::PingResp, vec![0xD0, 0x00]))));
/// assert_eq!(decoder.buffered(), 1);
/// ```
pub struct Decoder {
    buf: Vec<u8>,
    /// Start of the undecoded bytes in `buf`; the consumed prefix is dropped lazily.
    start: usize,
    max_packet_size: usize,
    version: ProtocolVersion,
    skipping: Option<Skipping>,
}

impl Decoder {
    /// A decoder for a connection speaking `version` that refuses packets of more than
    /// `max_packet_size` bytes, fixed header included, as soon as their length is known; in
    /// 3.1.1 it skips a PUBLISH that large instead ([`Decoded::Oversized`]).
    pub fn new(max_packet_size: usize, version: ProtocolVersion) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_packet_size,
            version,
            skipping: None,
        }
    }

    /// The protocol version the bytes are read as.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Appends bytes as they came from the transport, in any pieces. Bytes of a PUBLISH being
    /// skipped are dropped here, never kept.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if let Some(skipping) = &mut self.skipping {
            let dropped = skipping.remaining.min(bytes.len());
            skipping.remaining -= dropped;
            bytes = &bytes[dropped..];
        }
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete packet and the bytes it was made of, or a PUBLISH skipped whole; or
    /// `Ok(None)` until more bytes arrive.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the bytes are no valid packet of this version, or announce one
    /// larger than the maximum (other than a 3.1.1 PUBLISH, which is skipped). The stream has
    /// then lost its framing: the connection must be closed (MQTT 5.0 §4.13; 3.1.1 §4.8).
    pub fn next_item(&mut self) -> Result<Option<Decoded>, DecodeError> {
        if let Some(skipping) = &self.skipping {
            if skipping.remaining > 0 {
                return Ok(None);
            }
            let done = self.skipping.take().map(|s| s.publish);
            return Ok(done.map(Decoded::Oversized));
        }
        let pending = &self.buf[self.start..];
        match Packet::decode(pending, self.max_packet_size, self.version) {
            Ok(Some((packet, used))) => {
                let raw = pending[..used].to_vec();
                self.start += used;
                Ok(Some(Decoded::Packet(packet, raw)))
            }
            Ok(None) => Ok(None),
            Err(DecodeError::PacketTooLarge { size, max })
                if self.version == ProtocolVersion::V311
                    && pending.first().is_some_and(|b| b >> 4 == 3) =>
            {
                self.start_skipping(size, max)
            }
            Err(e) => Err(e),
        }
    }

    /// An oversized 3.1.1 PUBLISH begins the buffered bytes: once its topic and packet
    /// identifier are in, keep those and let the rest go.
    fn start_skipping(&mut self, size: usize, max: usize) -> Result<Option<Decoded>, DecodeError> {
        let pending = &self.buf[self.start..];
        let Some(head) = oversized_head(pending, size, max)? else {
            // At most 65,544 bytes (header, a topic of 65,535, packet id): then it is known.
            return Ok(None);
        };
        let buffered = pending.len().min(size);
        self.start += buffered;
        self.skipping = Some(Skipping {
            publish: head,
            remaining: size - buffered,
        });
        // Whatever part of it came in one frame goes now, and the buffer does not stay large.
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.shrink_to(self.max_packet_size);
        self.next_item()
    }

    /// Bytes received but not yet part of a whole packet (a skipped PUBLISH's bytes are not
    /// kept, so they do not count).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Forgets everything buffered, and any PUBLISH being skipped, for a new connection.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.skipping = None;
    }
}

/// Reads an oversized 3.1.1 PUBLISH of `size` bytes up to its packet identifier: `Ok(None)`
/// until those bytes are buffered. Checked like any PUBLISH: QoS, DUP at QoS 0, a topic that is
/// UTF-8 without U+0000 or wildcards, a packet identifier that is not 0.
fn oversized_head(
    bytes: &[u8],
    size: usize,
    max: usize,
) -> Result<Option<OversizedPublish>, DecodeError> {
    let flags = bytes[0] & 0x0f;
    let qos = QoS::from_bits((flags >> 1) & 0b11)?;
    let dup = flags & 0b1000 != 0;
    if dup && qos == QoS::AtMostOnce {
        return Err(DecodeError::InvalidFlags {
            kind: PacketKind::Publish,
            flags,
        });
    }
    let Some((_, len_len)) = read_remaining_length(&bytes[1..])? else {
        return Ok(None);
    };
    let body = &bytes[1 + len_len..];
    let Some(topic_len) = body
        .get(..2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return Ok(None);
    };
    let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    if 1 + len_len + 2 + topic_len + id_len > size {
        return Err(DecodeError::Truncated);
    }
    let Some(rest) = body.get(2..2 + topic_len + id_len) else {
        return Ok(None);
    };
    let (topic, id) = rest.split_at(topic_len);
    let topic = std::str::from_utf8(topic)
        .ok()
        .filter(|t| !t.contains('\0'))
        .ok_or(DecodeError::InvalidUtf8)?;
    if topic.is_empty() || topic.contains(['+', '#']) {
        return Err(DecodeError::InvalidTopicName(topic.to_owned()));
    }
    let packet_id = match id {
        [] => None,
        [0, 0] => return Err(DecodeError::ZeroPacketId),
        [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => return Err(DecodeError::Truncated),
    };
    Ok(Some(OversizedPublish {
        topic: topic.to_owned(),
        qos,
        packet_id,
        dup,
        retain: flags & 1 != 0,
        size,
        max,
    }))
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
        while let Some(item) = decoder.next_item().unwrap() {
            match item {
                Decoded::Packet(packet, _) => out.push(packet),
                Decoded::Oversized(o) => panic!("unexpected oversized {o:?}"),
            }
        }
        out
    }

    fn next_packet(decoder: &mut Decoder) -> Result<Option<(Packet, Vec<u8>)>, DecodeError> {
        decoder.next_item().map(|item| {
            item.map(|item| match item {
                Decoded::Packet(packet, raw) => (packet, raw),
                Decoded::Oversized(o) => panic!("unexpected oversized {o:?}"),
            })
        })
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
        let (_, raw) = next_packet(&mut decoder).unwrap().unwrap();
        assert_eq!(raw, [0x40, 3, 2, 1, 0x10]);
    }

    #[test]
    fn the_version_decides_how_bytes_read() {
        // A PUBACK with a reason code: a valid 5.0 packet, trailing bytes in 3.1.1.
        let bytes = [0x40, 3, 0, 1, 0x10];
        let mut v5 = Decoder::new(64, V5);
        v5.push(&bytes);
        assert!(next_packet(&mut v5).unwrap().is_some());
        let mut v311 = Decoder::new(64, V311);
        v311.push(&bytes);
        assert_eq!(v311.next_item(), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn max_packet_size_is_enforced_from_the_header() {
        // In 5.0 for every packet (we announce the limit); in 3.1.1 for every packet but PUBLISH.
        let publish = sample_packets(V5)[1].encode(V5).unwrap();
        let mut decoder = Decoder::new(64, V5);
        decoder.push(&publish[..3]);
        assert!(matches!(
            decoder.next_item(),
            Err(DecodeError::PacketTooLarge { max: 64, .. })
        ));
        let suback = Packet::SubAck(crate::packet::SubAck::new(
            1,
            vec![crate::packet::SubscribeReturnCode::Granted(QoS::AtMostOnce); 100],
        ));
        let mut decoder = Decoder::new(64, V311);
        decoder.push(&suback.encode(V311).unwrap()[..3]);
        assert!(matches!(
            decoder.next_item(),
            Err(DecodeError::PacketTooLarge { max: 64, .. })
        ));
    }

    fn big_publish(qos: QoS, payload: usize) -> Vec<u8> {
        let publish = Publish {
            packet_id: (qos != QoS::AtMostOnce).then_some(7),
            retain: true,
            ..Publish::new("orders/created", vec![b'x'; payload], qos)
        };
        Packet::Publish(publish).encode(V311).unwrap()
    }

    #[test]
    fn an_oversized_3_1_1_publish_is_skipped_without_being_kept() {
        let big = big_publish(QoS::AtLeastOnce, 348_000);
        let mut stream = big.clone();
        stream.extend(Packet::PingResp.encode(V311).unwrap());
        let mut decoder = Decoder::new(256 * 1024, V311);
        let mut items = Vec::new();
        for chunk in stream.chunks(1000) {
            decoder.push(chunk);
            while let Some(item) = decoder.next_item().unwrap() {
                items.push(item);
            }
            assert!(
                decoder.buffered() <= 1000,
                "kept {} bytes",
                decoder.buffered()
            );
        }
        assert_eq!(
            items,
            [
                Decoded::Oversized(OversizedPublish {
                    topic: "orders/created".into(),
                    qos: QoS::AtLeastOnce,
                    packet_id: Some(7),
                    dup: false,
                    retain: true,
                    size: big.len(),
                    max: 256 * 1024,
                }),
                Decoded::Packet(Packet::PingResp, vec![0xD0, 0]),
            ]
        );
        assert_eq!(big.len(), 348_022);
        let Decoded::Oversized(o) = &items[0] else {
            unreachable!()
        };
        assert_eq!(
            o.to_string(),
            "a message of 348 KB on orders/created exceeds the 256 KiB limit"
        );
    }

    #[test]
    fn an_oversized_publish_in_one_frame_with_the_next_packets_yields_them_all() {
        let mut stream = big_publish(QoS::AtMostOnce, 5000);
        stream.extend(Packet::PingResp.encode(V311).unwrap());
        stream.extend(big_publish(QoS::ExactlyOnce, 5000));
        let mut decoder = Decoder::new(1024, V311);
        decoder.push(&stream);
        let mut kinds = Vec::new();
        while let Some(item) = decoder.next_item().unwrap() {
            kinds.push(match item {
                Decoded::Packet(packet, _) => format!("{}", packet.kind()),
                Decoded::Oversized(o) => {
                    format!("oversized QoS {} {:?}", o.qos.level(), o.packet_id)
                }
            });
        }
        assert_eq!(
            kinds,
            [
                "oversized QoS 0 None",
                "PINGRESP",
                "oversized QoS 2 Some(7)"
            ]
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn an_oversized_publish_is_checked_like_any_publish() {
        let mut wildcard = big_publish(QoS::AtMostOnce, 5000);
        wildcard[3 + 2] = b'+'; // the topic's first byte (fixed header is 1 + 2 bytes here)
        let mut qos3 = big_publish(QoS::AtMostOnce, 5000);
        qos3[0] |= 0b110;
        let mut zero_id = big_publish(QoS::AtLeastOnce, 5000);
        let id_at = 3 + 2 + "orders/created".len();
        zero_id[id_at..id_at + 2].copy_from_slice(&[0, 0]);
        let mut long_topic = big_publish(QoS::AtMostOnce, 5000);
        long_topic[3..5].copy_from_slice(&[0xFF, 0xFF]);
        let cases = [
            (
                wildcard,
                DecodeError::InvalidTopicName("+rders/created".into()),
            ),
            (long_topic, DecodeError::Truncated),
            (qos3, DecodeError::InvalidQoS(3)),
            (zero_id, DecodeError::ZeroPacketId),
        ];
        for (bytes, expected) in cases {
            let mut decoder = Decoder::new(1024, V311);
            decoder.push(&bytes);
            assert_eq!(decoder.next_item(), Err(expected));
        }
        // A long topic is waited for (the head is at most 65,544 bytes), then read.
        let topic = "t".repeat(60_000);
        let long_topic =
            Packet::Publish(Publish::new(topic.clone(), vec![0; 5000], QoS::AtMostOnce))
                .encode(V311)
                .unwrap();
        let mut decoder = Decoder::new(1024, V311);
        decoder.push(&long_topic[..1000]);
        assert_eq!(decoder.next_item(), Ok(None));
        decoder.push(&long_topic[1000..]);
        assert!(matches!(decoder.next_item(), Ok(Some(Decoded::Oversized(o))) if o.topic == topic));
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        let table = [
            (1, "1 byte"),
            (999, "999 bytes"),
            (1000, "1 KB"),
            (348_022, "348 KB"),
        ];
        for (size, text) in table {
            assert_eq!(kilobytes(size), text);
        }
        assert_eq!(kibibytes(256 * 1024), "256 KiB");
        assert_eq!(kibibytes(4096), "4 KiB");
        assert_eq!(kibibytes(1000), "1000 bytes");
    }

    /// 44-AQ F8: a size just over 256 KiB read "262 KB exceeds 256 KiB".
    #[test]
    fn a_size_just_over_its_limit_is_said_in_bytes_beside_the_limits_bytes() {
        let limit = 256 * 1024;
        assert_eq!(
            over_limit(262_210, limit),
            (
                "262,210 bytes".to_owned(),
                "256 KiB (262,144 bytes)".to_owned()
            )
        );
        assert_eq!(
            over_limit(348_022, limit),
            ("348 KB".to_owned(), "256 KiB".to_owned())
        );
        assert_eq!(
            over_limit(1200, 1000),
            ("1,200 bytes".to_owned(), "1,000 bytes".to_owned())
        );
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
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
                while let Ok(Some(_)) = decoder.next_item() {}
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
