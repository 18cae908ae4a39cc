//! MQTT control packets, 3.1.1 and 5.0: one file per packet family, each with `read`, `write`
//! and round-trip tests. [`Packet::decode`] and [`Packet::encode`] dispatch on the fixed header
//! and take the [`ProtocolVersion`] the connection speaks: MQTT 5.0 adds properties
//! ([`Properties`]), reason codes ([`ReasonCode`]), subscription options and the AUTH packet.
//!
//! Decoding never panics: any byte sequence yields a packet, a request for more bytes, or a
//! [`DecodeError`] a person can read.

mod ack;
mod auth;
mod connack;
mod connect;
mod disconnect;
mod error;
mod properties;
mod property;
mod publish;
mod reason;
mod subscribe;
mod unsubscribe;
pub(crate) mod wire;

pub use ack::Ack;
pub use auth::Auth;
pub use connack::{ConnAck, ConnectReturnCode};
pub use connect::{Connect, LastWill};
pub use disconnect::Disconnect;
pub use error::{DecodeError, EncodeError};
pub use properties::Properties;
pub use property::{Property, PropertyId, PropertyPlace, ALL_PROPERTY_IDS};
pub use publish::Publish;
pub use reason::{ReasonCode, ALL_REASON_CODES};
pub use subscribe::{RetainHandling, SubAck, Subscribe, SubscribeReturnCode, SubscriptionOptions};
pub use unsubscribe::{UnsubAck, Unsubscribe};

use wire::{put_remaining_length, read_remaining_length, Reader, MAX_REMAINING_LENGTH};

/// The largest packet MQTT can frame, 268,435,460 bytes: a type byte, four length bytes and
/// the largest body a Remaining Length can announce (3.1.1 §2.2.3, 5.0 §2.1.4).
pub const MAX_PACKET_SIZE: usize = 1 + 4 + MAX_REMAINING_LENGTH;

/// The MQTT version a connection speaks, chosen by the client in CONNECT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1, protocol level 4.
    #[default]
    V311,
    /// MQTT 5.0, protocol level 5.
    V5,
}

impl ProtocolVersion {
    /// The protocol level byte of CONNECT.
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V311 => 4,
            ProtocolVersion::V5 => 5,
        }
    }

    /// The version of a protocol level byte; `None` for any level but 4 and 5 (3 is MQTT
    /// 3.1, which we do not speak).
    pub fn from_level(level: u8) -> Option<Self> {
        match level {
            4 => Some(ProtocolVersion::V311),
            5 => Some(ProtocolVersion::V5),
            _ => None,
        }
    }
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProtocolVersion::V311 => "MQTT 3.1.1",
            ProtocolVersion::V5 => "MQTT 5.0",
        })
    }
}

/// Quality of service of a PUBLISH (§4.3), ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    /// QoS 0: sent once, never acknowledged; lost if the connection is.
    AtMostOnce = 0,
    /// QoS 1: PUBLISH and PUBACK; re-sent until acknowledged, so it may arrive twice.
    AtLeastOnce = 1,
    /// QoS 2: PUBLISH, PUBREC, PUBREL, PUBCOMP; delivered once.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS of a level, 0 to 2.
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidQoS`] for 3, which no PUBLISH may carry (3.1.1 and 5.0
    /// [MQTT-3.3.1-4]), or anything larger.
    pub fn from_bits(bits: u8) -> Result<Self, DecodeError> {
        match bits {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            other => Err(DecodeError::InvalidQoS(other)),
        }
    }

    /// 0, 1 or 2.
    pub fn level(self) -> u8 {
        self as u8
    }
}

/// The fourteen control packet types of MQTT 3.1.1, and AUTH, the fifteenth of MQTT 5.0
/// (§2.1.2 of 5.0; §2.2.1 of 3.1.1), with their contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Client to broker, first on every connection (§3.1).
    Connect(Connect),
    /// Broker to client, the answer to CONNECT (§3.2).
    ConnAck(ConnAck),
    /// An application message, either way (§3.3).
    Publish(Publish),
    /// Acknowledges a QoS 1 PUBLISH (§3.4).
    PubAck(Ack),
    /// First answer to a QoS 2 PUBLISH (§3.5).
    PubRec(Ack),
    /// Answers PUBREC; the QoS 2 sender may forget the message (§3.6).
    PubRel(Ack),
    /// Answers PUBREL, ending the QoS 2 exchange (§3.7).
    PubComp(Ack),
    /// Client to broker: filters to subscribe to (§3.8).
    Subscribe(Subscribe),
    /// Broker to client: the answer to SUBSCRIBE, one code per filter (§3.9).
    SubAck(SubAck),
    /// Client to broker: filters to stop (§3.10).
    Unsubscribe(Unsubscribe),
    /// Broker to client: the answer to UNSUBSCRIBE (§3.11).
    UnsubAck(UnsubAck),
    /// Client to broker: keepalive probe (§3.12).
    PingReq,
    /// Broker to client: the answer to PINGREQ (§3.13).
    PingResp,
    /// The end of a connection: from the client in 3.1.1, from either side in 5.0 (§3.14).
    Disconnect(Disconnect),
    /// MQTT 5.0 only: extended authentication, either way (§3.15).
    Auth(Auth),
}

/// A packet's type without its contents, for traces and tables (see [`Packet`] for what each
/// one does). `Display` gives the specification's name ([`PacketKind::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// CONNECT, type 1.
    Connect,
    /// CONNACK, type 2.
    ConnAck,
    /// PUBLISH, type 3.
    Publish,
    /// PUBACK, type 4.
    PubAck,
    /// PUBREC, type 5.
    PubRec,
    /// PUBREL, type 6.
    PubRel,
    /// PUBCOMP, type 7.
    PubComp,
    /// SUBSCRIBE, type 8.
    Subscribe,
    /// SUBACK, type 9.
    SubAck,
    /// UNSUBSCRIBE, type 10.
    Unsubscribe,
    /// UNSUBACK, type 11.
    UnsubAck,
    /// PINGREQ, type 12.
    PingReq,
    /// PINGRESP, type 13.
    PingResp,
    /// DISCONNECT, type 14.
    Disconnect,
    /// AUTH, type 15 (MQTT 5.0; reserved in 3.1.1).
    Auth,
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
            PacketKind::Auth => "AUTH",
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
            PacketKind::Auth => 15,
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
            15 => PacketKind::Auth,
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

impl Packet {
    /// The packet's type.
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
            Packet::Disconnect(_) => PacketKind::Disconnect,
            Packet::Auth(_) => PacketKind::Auth,
        }
    }

    /// The packet identifier, for the packets that carry one.
    pub fn packet_id(&self) -> Option<u16> {
        match self {
            Packet::Publish(p) => p.packet_id,
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
                Some(a.packet_id)
            }
            Packet::Subscribe(s) => Some(s.packet_id),
            Packet::SubAck(s) => Some(s.packet_id),
            Packet::Unsubscribe(u) => Some(u.packet_id),
            Packet::UnsubAck(u) => Some(u.packet_id),
            _ => None,
        }
    }

    /// The packet's MQTT 5.0 properties (always empty in 3.1.1); `None` for packets that have
    /// none (PINGREQ, PINGRESP).
    pub fn properties(&self) -> Option<&Properties> {
        Some(match self {
            Packet::Connect(c) => &c.properties,
            Packet::ConnAck(c) => &c.properties,
            Packet::Publish(p) => &p.properties,
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
                &a.properties
            }
            Packet::Subscribe(s) => &s.properties,
            Packet::SubAck(s) => &s.properties,
            Packet::Unsubscribe(u) => &u.properties,
            Packet::UnsubAck(u) => &u.properties,
            Packet::Disconnect(d) => &d.properties,
            Packet::Auth(a) => &a.properties,
            Packet::PingReq | Packet::PingResp => return None,
        })
    }

    /// The single reason code of CONNACK, the publish acknowledgements, DISCONNECT and AUTH.
    /// (SUBACK and UNSUBACK carry one per filter.)
    pub fn reason_code(&self) -> Option<ReasonCode> {
        match self {
            Packet::ConnAck(c) => Some(c.code),
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
                Some(a.reason)
            }
            Packet::Disconnect(d) => Some(d.reason),
            Packet::Auth(a) => Some(a.reason),
            _ => None,
        }
    }

    /// Serialises the packet for a connection speaking `version`, fixed header included.
    /// CONNECT is the exception: it carries its own protocol level ([`Connect::protocol`]).
    ///
    /// # Errors
    ///
    /// An [`EncodeError`] when the packet cannot be said on the wire: something only MQTT 5.0
    /// has in a 3.1.1 packet, a reason code or property the packet may not carry, a string
    /// over 65,535 bytes, a body over 268,435,455 bytes, a PUBLISH whose packet identifier
    /// does not fit its QoS, or a SUBSCRIBE or UNSUBSCRIBE without filters.
    pub fn encode(&self, version: ProtocolVersion) -> Result<Vec<u8>, EncodeError> {
        let mut body = Vec::new();
        match self {
            Packet::Connect(c) => c.write(&mut body)?,
            Packet::ConnAck(c) => c.write(&mut body, version)?,
            Packet::Publish(p) => p.write(&mut body, version)?,
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
                a.write(&mut body, self.kind(), version)?
            }
            Packet::Subscribe(s) => s.write(&mut body, version)?,
            Packet::SubAck(s) => s.write(&mut body, version)?,
            Packet::Unsubscribe(u) => u.write(&mut body, version)?,
            Packet::UnsubAck(u) => u.write(&mut body, version)?,
            Packet::PingReq | Packet::PingResp => {}
            Packet::Disconnect(d) => d.write(&mut body, version)?,
            Packet::Auth(a) => a.write(&mut body, version)?,
        }
        let flags = match self {
            Packet::Publish(p) => p.header_flags(),
            _ => self.kind().required_flags(),
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

    /// Decodes one packet from the start of `bytes`, as a connection speaking `version` reads it.
    /// CONNECT is read at whichever level (4 or 5) it announces.
    ///
    /// Returns `Ok(None)` when `bytes` holds only part of a packet, and otherwise the packet with
    /// the number of bytes it used. `max_packet_size` bounds the whole packet, header included,
    /// and is checked as soon as the header is read, before the body arrives.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the bytes are no valid packet for `version` (a Malformed Packet
    /// or a Protocol Error in 5.0's terms, §4.13), or announce more than `max_packet_size`
    /// bytes.
    pub fn decode(
        bytes: &[u8],
        max_packet_size: usize,
        version: ProtocolVersion,
    ) -> Result<Option<(Packet, usize)>, DecodeError> {
        let Some(&first) = bytes.first() else {
            return Ok(None);
        };
        let kind = PacketKind::from_type_bits(first >> 4)?;
        if kind == PacketKind::Auth && version == ProtocolVersion::V311 {
            return Err(DecodeError::ReservedPacketType(15));
        }
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
        let v = version;
        let packet = match kind {
            PacketKind::Connect => Packet::Connect(Connect::read(&mut r)?),
            PacketKind::ConnAck => Packet::ConnAck(ConnAck::read(&mut r, v)?),
            PacketKind::Publish => Packet::Publish(Publish::read(flags, &mut r, v)?),
            PacketKind::PubAck => Packet::PubAck(Ack::read(&mut r, kind, v)?),
            PacketKind::PubRec => Packet::PubRec(Ack::read(&mut r, kind, v)?),
            PacketKind::PubRel => Packet::PubRel(Ack::read(&mut r, kind, v)?),
            PacketKind::PubComp => Packet::PubComp(Ack::read(&mut r, kind, v)?),
            PacketKind::Subscribe => Packet::Subscribe(Subscribe::read(&mut r, v)?),
            PacketKind::SubAck => Packet::SubAck(SubAck::read(&mut r, v)?),
            PacketKind::Unsubscribe => Packet::Unsubscribe(Unsubscribe::read(&mut r, v)?),
            PacketKind::UnsubAck => Packet::UnsubAck(UnsubAck::read(&mut r, v)?),
            PacketKind::PingReq => Packet::PingReq,
            PacketKind::PingResp => Packet::PingResp,
            PacketKind::Disconnect => Packet::Disconnect(Disconnect::read(&mut r, v)?),
            PacketKind::Auth => Packet::Auth(Auth::read(&mut r)?),
        };
        r.finish()?;
        Ok(Some((packet, total)))
    }
}

/// Refuses, in MQTT 3.1.1, something only MQTT 5.0 can say.
pub(crate) fn require_v5(version: ProtocolVersion, what: &'static str) -> Result<(), EncodeError> {
    error::v5_only(version, true, what)
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
    pub use ProtocolVersion::{V311, V5};

    /// Encodes for `version`, decodes, and checks the packet survives unchanged and uses every
    /// byte.
    pub fn round_trip_in(version: ProtocolVersion, packet: Packet) -> Vec<u8> {
        let bytes = packet.encode(version).expect("encodes");
        let (decoded, used) = Packet::decode(&bytes, NO_LIMIT, version)
            .expect("decodes")
            .expect("complete");
        assert_eq!(decoded, packet);
        assert_eq!(used, bytes.len());
        bytes
    }

    /// [`round_trip_in`] MQTT 3.1.1.
    pub fn round_trip(packet: Packet) -> Vec<u8> {
        round_trip_in(V311, packet)
    }

    /// [`round_trip_in`] MQTT 5.0.
    pub fn round_trip_v5(packet: Packet) -> Vec<u8> {
        round_trip_in(V5, packet)
    }

    pub fn decode(bytes: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
        Packet::decode(bytes, NO_LIMIT, version).map(|p| p.expect("complete").0)
    }

    #[test]
    fn empty_packets_have_their_exact_two_bytes() {
        for version in [V311, V5] {
            assert_eq!(round_trip_in(version, Packet::PingReq), [0xc0, 0x00]);
            assert_eq!(round_trip_in(version, Packet::PingResp), [0xd0, 0x00]);
            assert_eq!(
                round_trip_in(version, Packet::Disconnect(Disconnect::default())),
                [0xe0, 0x00]
            );
        }
    }

    #[test]
    fn reserved_types_and_wrong_flags_are_errors() {
        for version in [V311, V5] {
            assert_eq!(
                Packet::decode(&[0x00, 0x00], NO_LIMIT, version),
                Err(DecodeError::ReservedPacketType(0))
            );
            assert_eq!(
                Packet::decode(&[0xc1, 0x00], NO_LIMIT, version),
                Err(DecodeError::InvalidFlags {
                    kind: PacketKind::PingReq,
                    flags: 1
                })
            );
            // PUBREL must carry 0b0010.
            assert!(matches!(
                Packet::decode(&[0x60, 0x02, 0x00, 0x01], NO_LIMIT, version),
                Err(DecodeError::InvalidFlags { .. })
            ));
        }
        // AUTH is type 15: reserved in 3.1.1, a packet in 5.0.
        assert_eq!(
            Packet::decode(&[0xf0, 0x00], NO_LIMIT, V311),
            Err(DecodeError::ReservedPacketType(15))
        );
        assert!(Packet::decode(&[0xf0, 0x00], NO_LIMIT, V5).is_ok());
        assert!(matches!(
            Packet::decode(&[0xf1, 0x00], NO_LIMIT, V5),
            Err(DecodeError::InvalidFlags { .. })
        ));
    }

    #[test]
    fn partial_input_asks_for_more() {
        for version in [V311, V5] {
            let bytes = Packet::PubAck(Ack::new(7)).encode(version).unwrap();
            for cut in 0..bytes.len() {
                assert_eq!(
                    Packet::decode(&bytes[..cut], NO_LIMIT, version),
                    Ok(None),
                    "cut {cut}"
                );
            }
        }
    }

    #[test]
    fn oversized_packets_are_refused_from_the_header_alone() {
        // Header announces 1000 bytes; only the header has arrived.
        let header = [0x30, 0xe8, 0x07];
        for version in [V311, V5] {
            assert_eq!(
                Packet::decode(&header, 512, version),
                Err(DecodeError::PacketTooLarge {
                    size: 1003,
                    max: 512
                })
            );
        }
    }

    #[test]
    fn ping_with_a_body_is_trailing_bytes() {
        assert_eq!(
            Packet::decode(&[0xc0, 0x01, 0x00], NO_LIMIT, V5),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn versions_name_their_levels() {
        assert_eq!(ProtocolVersion::default(), V311);
        assert_eq!(V5.level(), 5);
        assert_eq!(ProtocolVersion::from_level(4), Some(V311));
        assert_eq!(ProtocolVersion::from_level(3), None);
        assert_eq!(V5.to_string(), "MQTT 5.0");
    }
}
