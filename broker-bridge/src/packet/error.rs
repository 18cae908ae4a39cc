//! What can be wrong with bytes from the network, and what cannot be put on the wire.

use super::{PacketKind, PropertyId, PropertyPlace, ProtocolVersion, QoS, ReasonCode};

/// Why bytes from the network are not a valid MQTT packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed remaining length (more than four bytes)")]
    MalformedRemainingLength,
    #[error("malformed variable byte integer (more than four bytes)")]
    MalformedVariableInteger,
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
    #[error("reason code {code:#04x} is not one {kind} may carry")]
    InvalidReasonCode { code: u8, kind: PacketKind },
    #[error("unknown property identifier {0:#04x}")]
    UnknownProperty(u8),
    #[error("property {0} appears twice; it may appear once")]
    DuplicateProperty(PropertyId),
    #[error("property {property} is not allowed in {place}")]
    PropertyNotAllowed {
        property: PropertyId,
        place: PropertyPlace,
    },
    #[error("property {property} has the forbidden value {value}")]
    InvalidPropertyValue { property: PropertyId, value: u32 },
    #[error("invalid subscription options {0:#010b} (reserved bits set, or Retain Handling 3)")]
    InvalidSubscriptionOptions(u8),
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
    #[error("{what} does not exist in {version}; it needs MQTT 5.0")]
    NeedsV5 {
        what: &'static str,
        version: ProtocolVersion,
    },
    #[error("reason code {code} is not one {kind} may carry")]
    ReasonNotAllowed { code: ReasonCode, kind: PacketKind },
    #[error("property {property} is not allowed in {place}")]
    PropertyNotAllowed {
        property: PropertyId,
        place: PropertyPlace,
    },
    #[error("property {0} may appear only once here")]
    DuplicateProperty(PropertyId),
    #[error("property {property} cannot have the value {value}")]
    InvalidPropertyValue { property: PropertyId, value: u32 },
    #[error("{0} needs at least one topic filter")]
    EmptyTopicList(PacketKind),
}

/// Refuses, in MQTT 3.1.1, something only MQTT 5.0 can say.
pub(crate) fn v5_only(
    version: ProtocolVersion,
    present: bool,
    what: &'static str,
) -> Result<(), EncodeError> {
    if present && version == ProtocolVersion::V311 {
        return Err(EncodeError::NeedsV5 { what, version });
    }
    Ok(())
}
