//! MQTT 3.1.1 control packets: one file per packet family, each with `read`, `write` and
//! round-trip tests. [`Packet::decode`] and [`Packet::encode`] dispatch on the fixed header.
//!
//! Decoding never panics: any byte sequence yields a packet, a request for more bytes, or a
//! [`DecodeError`] a person can read.

mod ack;
mod connack;
mod connect;
mod publish;
mod subscribe;
mod unsubscribe;
pub(crate) mod wire;

pub use connack::{ConnAck, ConnectReturnCode};
pub use connect::{Connect, LastWill};
pub use publish::Publish;
pub use subscribe::{SubAck, Subscribe, SubscribeReturnCode};
pub use unsubscribe::Unsubscribe;

use wire::{put_remaining_length, read_remaining_length, Reader, MAX_REMAINING_LENGTH};

/// Quality of service of a PUBLISH (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    pub fn from_bits(bits: u8) -> Result<Self, DecodeError> {
        match bits {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            other => Err(DecodeError::InvalidQoS(other)),
        }
    }

    pub fn level(self) -> u8 {
        self as u8
    }
}

/// The fourteen control packet types of MQTT 3.1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Connect(Connect),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(u16),
    PingReq,
    PingResp,
    Disconnect,
}

/// A packet's type without its contents, for traces and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    Connect,
    ConnAck,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    PingReq,
    PingResp,
    Disconnect,
}

impl PacketKind {
    /// The name the MQTT specification and broker logs use, e.g. `PUBACK`.
    pub fn name(self) -> &'static str {
        match self {
            PacketKind::Connect => "CONNECT",
            PacketKind::ConnAck => "CONNACK",
            PacketKind::Publish => "PUBLISH",
            PacketKind::PubAck => "PUBACK",
            PacketKind::PubRec => "PUBREC",
            PacketKind::PubRel => "PUBREL",
            PacketKind::PubComp => "PUBCOMP",
            PacketKind::Subscribe => "SUBSCRIBE",
            PacketKind::SubAck => "SUBACK",
            PacketKind::Unsubscribe => "UNSUBSCRIBE",
            PacketKind::UnsubAck => "UNSUBACK",
            PacketKind::PingReq => "PINGREQ",
            PacketKind::PingResp => "PINGRESP",
            PacketKind::Disconnect => "DISCONNECT",
        }
    }

    fn type_bits(self) -> u8 {
        match self {
            PacketKind::Connect => 1,
            PacketKind::ConnAck => 2,
            PacketKind::Publish => 3,
            PacketKind::PubAck => 4,
            PacketKind::PubRec => 5,
            PacketKind::PubRel => 6,
            PacketKind::PubComp => 7,
            PacketKind::Subscribe => 8,
            PacketKind::SubAck => 9,
            PacketKind::Unsubscribe => 10,
            PacketKind::UnsubAck => 11,
            PacketKind::PingReq => 12,
            PacketKind::PingResp => 13,
            PacketKind::Disconnect => 14,
        }
    }

    fn from_type_bits(bits: u8) -> Result<Self, DecodeError> {
        Ok(match bits {
            1 => PacketKind::Connect,
            2 => PacketKind::ConnAck,
            3 => PacketKind::Publish,
            4 => PacketKind::PubAck,
            5 => PacketKind::PubRec,
            6 => PacketKind::PubRel,
            7 => PacketKind::PubComp,
            8 => PacketKind::Subscribe,
            9 => PacketKind::SubAck,
            10 => PacketKind::Unsubscribe,
            11 => PacketKind::UnsubAck,
            12 => PacketKind::PingReq,
            13 => PacketKind::PingResp,
            14 => PacketKind::Disconnect,
            other => return Err(DecodeError::ReservedPacketType(other)),
        })
    }

    /// The fixed-header flags every packet but PUBLISH must carry (§2.2.2).
    fn required_flags(self) -> u8 {
        match self {
            PacketKind::PubRel | PacketKind::Subscribe | PacketKind::Unsubscribe => 0b0010,
            _ => 0,
        }
    }
}

impl std::fmt::Display for PacketKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why bytes from the network are not a valid MQTT 3.1.1 packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed remaining length (more than four bytes)")]
    MalformedRemainingLength,
    #[error("packet of {size} bytes exceeds the maximum of {max} bytes")]
    PacketTooLarge { size: usize, max: usize },
    #[error("reserved packet type {0}")]
    ReservedPacketType(u8),
    #[error("invalid fixed-header flags {flags:#06b} for {kind}")]
    InvalidFlags { kind: PacketKind, flags: u8 },
    #[error("invalid QoS {0}")]
    InvalidQoS(u8),
    #[error("packet ends before its contents do")]
    Truncated,
    #[error("{0} unexpected bytes after the packet's contents")]
    TrailingBytes(usize),
    #[error("string is not valid UTF-8 (or contains U+0000)")]
    InvalidUtf8,
    #[error("packet identifier 0 is not allowed")]
    ZeroPacketId,
    #[error("unsupported protocol {name:?} level {level}")]
    UnsupportedProtocol { name: String, level: u8 },
    #[error("malformed CONNECT flags {0:#010b}")]
    InvalidConnectFlags(u8),
    #[error("unknown CONNACK return code {0}")]
    InvalidConnectReturnCode(u8),
    #[error("unknown SUBACK return code {0:#04x}")]
    InvalidSubscribeReturnCode(u8),
    #[error("{0} without any topic filter")]
    EmptyTopicList(PacketKind),
    #[error("PUBLISH topic name contains a wildcard or is empty: {0:?}")]
    InvalidTopicName(String),
}

/// Why a packet cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{what} is {len} bytes; at most 65535 fit")]
    FieldTooLong { what: &'static str, len: usize },
    #[error("packet body of {0} bytes exceeds MQTT's 268435455")]
    PacketTooLarge(usize),
    #[error("a QoS {0:?} PUBLISH needs a packet identifier, and QoS 0 must not have one")]
    PacketIdMismatch(QoS),
}

impl Packet {
    pub fn kind(&self) -> PacketKind {
        match self {
            Packet::Connect(_) => PacketKind::Connect,
            Packet::ConnAck(_) => PacketKind::ConnAck,
            Packet::Publish(_) => PacketKind::Publish,
            Packet::PubAck(_) => PacketKind::PubAck,
            Packet::PubRec(_) => PacketKind::PubRec,
            Packet::PubRel(_) => PacketKind::PubRel,
            Packet::PubComp(_) => PacketKind::PubComp,
            Packet::Subscribe(_) => PacketKind::Subscribe,
            Packet::SubAck(_) => PacketKind::SubAck,
            Packet::Unsubscribe(_) => PacketKind::Unsubscribe,
            Packet::UnsubAck(_) => PacketKind::UnsubAck,
            Packet::PingReq => PacketKind::PingReq,
            Packet::PingResp => PacketKind::PingResp,
            Packet::Disconnect => PacketKind::Disconnect,
        }
    }

    /// The packet identifier, for the packets that carry one.
    pub fn packet_id(&self) -> Option<u16> {
        match self {
            Packet::Publish(p) => p.packet_id,
            Packet::PubAck(id)
            | Packet::PubRec(id)
            | Packet::PubRel(id)
            | Packet::PubComp(id)
            | Packet::UnsubAck(id) => Some(*id),
            Packet::Subscribe(s) => Some(s.packet_id),
            Packet::SubAck(s) => Some(s.packet_id),
            Packet::Unsubscribe(u) => Some(u.packet_id),
            _ => None,
        }
    }

    /// Serialises the packet, fixed header included.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut body = Vec::new();
        let flags = match self {
            Packet::Connect(c) => {
                c.write(&mut body)?;
                0
            }
            Packet::ConnAck(c) => {
                c.write(&mut body);
                0
            }
            Packet::Publish(p) => {
                p.write(&mut body)?;
                p.header_flags()
            }
            Packet::PubAck(id)
            | Packet::PubRec(id)
            | Packet::PubRel(id)
            | Packet::PubComp(id)
            | Packet::UnsubAck(id) => {
                ack::write(&mut body, *id);
                self.kind().required_flags()
            }
            Packet::Subscribe(s) => {
                s.write(&mut body)?;
                self.kind().required_flags()
            }
            Packet::SubAck(s) => {
                s.write(&mut body);
                0
            }
            Packet::Unsubscribe(u) => {
                u.write(&mut body)?;
                self.kind().required_flags()
            }
            Packet::PingReq | Packet::PingResp | Packet::Disconnect => 0,
        };
        if body.len() > MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge(body.len()));
        }
        let mut out = Vec::with_capacity(body.len() + 5);
        out.push((self.kind().type_bits() << 4) | flags);
        put_remaining_length(&mut out, body.len());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decodes one packet from the start of `bytes`.
    ///
    /// Returns `Ok(None)` when `bytes` holds only part of a packet, and otherwise the packet with
    /// the number of bytes it used. `max_packet_size` bounds the whole packet, header included,
    /// and is checked as soon as the header is read, before the body arrives.
    pub fn decode(
        bytes: &[u8],
        max_packet_size: usize,
    ) -> Result<Option<(Packet, usize)>, DecodeError> {
        let Some(&first) = bytes.first() else {
            return Ok(None);
        };
        let kind = PacketKind::from_type_bits(first >> 4)?;
        let flags = first & 0x0f;
        if kind != PacketKind::Publish && flags != kind.required_flags() {
            return Err(DecodeError::InvalidFlags { kind, flags });
        }
        let Some((body_len, len_len)) = read_remaining_length(&bytes[1..])? else {
            return Ok(None);
        };
        let total = 1 + len_len + body_len;
        if total > max_packet_size {
            return Err(DecodeError::PacketTooLarge {
                size: total,
                max: max_packet_size,
            });
        }
        if bytes.len() < total {
            return Ok(None);
        }
        let mut r = Reader::new(&bytes[1 + len_len..total]);
        let packet = match kind {
            PacketKind::Connect => Packet::Connect(Connect::read(&mut r)?),
            PacketKind::ConnAck => Packet::ConnAck(ConnAck::read(&mut r)?),
            PacketKind::Publish => Packet::Publish(Publish::read(flags, &mut r)?),
            PacketKind::PubAck => Packet::PubAck(ack::read(&mut r)?),
            PacketKind::PubRec => Packet::PubRec(ack::read(&mut r)?),
            PacketKind::PubRel => Packet::PubRel(ack::read(&mut r)?),
            PacketKind::PubComp => Packet::PubComp(ack::read(&mut r)?),
            PacketKind::Subscribe => Packet::Subscribe(Subscribe::read(&mut r)?),
            PacketKind::SubAck => Packet::SubAck(SubAck::read(&mut r)?),
            PacketKind::Unsubscribe => Packet::Unsubscribe(Unsubscribe::read(&mut r)?),
            PacketKind::UnsubAck => Packet::UnsubAck(ack::read(&mut r)?),
            PacketKind::PingReq => Packet::PingReq,
            PacketKind::PingResp => Packet::PingResp,
            PacketKind::Disconnect => Packet::Disconnect,
        };
        r.finish()?;
        Ok(Some((packet, total)))
    }
}

/// Reads a non-zero packet identifier (§2.3.1).
pub(crate) fn read_packet_id(r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    match r.u16()? {
        0 => Err(DecodeError::ZeroPacketId),
        id => Ok(id),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const NO_LIMIT: usize = usize::MAX;

    /// Encodes, decodes, and checks the packet survives unchanged and uses every byte.
    pub fn round_trip(packet: Packet) -> Vec<u8> {
        let bytes = packet.encode().expect("encodes");
        let (decoded, used) = Packet::decode(&bytes, NO_LIMIT)
            .expect("decodes")
            .expect("complete");
        assert_eq!(decoded, packet);
        assert_eq!(used, bytes.len());
        bytes
    }

    #[test]
    fn empty_packets_have_their_exact_two_bytes() {
        assert_eq!(round_trip(Packet::PingReq), [0xc0, 0x00]);
        assert_eq!(round_trip(Packet::PingResp), [0xd0, 0x00]);
        assert_eq!(round_trip(Packet::Disconnect), [0xe0, 0x00]);
    }

    #[test]
    fn reserved_types_and_wrong_flags_are_errors() {
        assert_eq!(
            Packet::decode(&[0x00, 0x00], NO_LIMIT),
            Err(DecodeError::ReservedPacketType(0))
        );
        assert_eq!(
            Packet::decode(&[0xf0, 0x00], NO_LIMIT),
            Err(DecodeError::ReservedPacketType(15))
        );
        assert_eq!(
            Packet::decode(&[0xc1, 0x00], NO_LIMIT),
            Err(DecodeError::InvalidFlags {
                kind: PacketKind::PingReq,
                flags: 1
            })
        );
        // PUBREL must carry 0b0010.
        assert!(matches!(
            Packet::decode(&[0x60, 0x02, 0x00, 0x01], NO_LIMIT),
            Err(DecodeError::InvalidFlags { .. })
        ));
    }

    #[test]
    fn partial_input_asks_for_more() {
        let bytes = Packet::PubAck(7).encode().unwrap();
        for cut in 0..bytes.len() {
            assert_eq!(
                Packet::decode(&bytes[..cut], NO_LIMIT),
                Ok(None),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn oversized_packets_are_refused_from_the_header_alone() {
        // Header announces 1000 bytes; only the header has arrived.
        let header = [0x30, 0xe8, 0x07];
        assert_eq!(
            Packet::decode(&header, 512),
            Err(DecodeError::PacketTooLarge {
                size: 1003,
                max: 512
            })
        );
    }

    #[test]
    fn ping_with_a_body_is_trailing_bytes() {
        assert_eq!(
            Packet::decode(&[0xc0, 0x01, 0x00], NO_LIMIT),
            Err(DecodeError::TrailingBytes(1))
        );
    }
}
