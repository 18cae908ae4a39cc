//! What can be wrong with bytes from the network, and what cannot be put on the wire.

use super::{PacketKind, PropertyId, PropertyPlace, ProtocolVersion, QoS, ReasonCode};

/// Why bytes from the network are not a valid MQTT packet: a Malformed Packet or a Protocol
/// Error in MQTT 5.0's terms (§1.2, §4.13), a protocol violation in 3.1.1's (§4.8). Either way
/// the connection is lost; the `Display` text is what the user reads after "malformed packet
/// from the broker: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A Remaining Length whose fourth byte still has its continuation bit set (3.1.1
    /// §2.2.3, 5.0 §2.1.4).
    #[error("malformed remaining length (more than four bytes)")]
    MalformedRemainingLength,
    /// A Variable Byte Integer (property length, Subscription Identifier) longer than four
    /// bytes (5.0 §1.5.5).
    #[error("malformed variable byte integer (more than four bytes)")]
    MalformedVariableInteger,
    /// The packet, fixed header included, announces more bytes than we accept; refused from
    /// its header alone.
    #[error("packet of {size} bytes exceeds the maximum of {max} bytes")]
    PacketTooLarge {
        /// The announced size in bytes.
        size: usize,
        /// Our limit in bytes ([`Options::max_packet_size`](crate::Options::max_packet_size)).
        max: usize,
    },
    /// Type 0, or type 15 (AUTH) on a 3.1.1 connection.
    #[error("reserved packet type {0}")]
    ReservedPacketType(u8),
    /// Fixed-header flags other than the ones the packet type requires (3.1.1 §2.2.2,
    /// 5.0 [MQTT-2.1.3-1]): 0b0010 for PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0 for the others.
    #[error("invalid fixed-header flags {flags:#06b} for {kind}")]
    InvalidFlags {
        /// The packet type.
        kind: PacketKind,
        /// The low four bits of the first byte.
        flags: u8,
    },
    /// QoS 3, in a PUBLISH header ([MQTT-3.3.1-4]) or a SUBSCRIBE's requested QoS; in a
    /// 3.1.1 SUBSCRIBE also a requested-QoS byte with its reserved bits set.
    #[error("invalid QoS {0}")]
    InvalidQoS(u8),
    /// The packet's body ends inside a field.
    #[error("packet ends before its contents do")]
    Truncated,
    /// The Remaining Length covers more bytes than the packet's fields use.
    #[error("{0} unexpected bytes after the packet's contents")]
    TrailingBytes(usize),
    /// A string that is not well-formed UTF-8 or contains U+0000 (3.1.1 [MQTT-1.5.3-1],
    /// [MQTT-1.5.3-2]; 5.0 [MQTT-1.5.4-1], [MQTT-1.5.4-2]).
    #[error("string is not valid UTF-8 (or contains U+0000)")]
    InvalidUtf8,
    /// Packet identifier 0 (3.1.1 [MQTT-2.3.1-1], 5.0 [MQTT-2.2.1-3]).
    #[error("packet identifier 0 is not allowed")]
    ZeroPacketId,
    /// A CONNECT whose protocol name is not `MQTT` or whose level is neither 4 nor 5.
    #[error("unsupported protocol {name:?} level {level}")]
    UnsupportedProtocol {
        /// The protocol name, e.g. `MQIsdp` (MQTT 3.1).
        name: String,
        /// The protocol level byte.
        level: u8,
    },
    /// CONNECT flags with the reserved bit set, or an inconsistent will or password flag; or
    /// CONNACK acknowledge flags with a reserved bit set.
    #[error("malformed CONNECT flags {0:#010b}")]
    InvalidConnectFlags(u8),
    /// A 3.1.1 CONNACK return code above 5 (§3.2.2.3).
    #[error("unknown CONNACK return code {0}")]
    InvalidConnectReturnCode(u8),
    /// A SUBACK code that is neither a granted QoS nor a failure the version allows (3.1.1:
    /// 0x80 only).
    #[error("unknown SUBACK return code {0:#04x}")]
    InvalidSubscribeReturnCode(u8),
    /// A SUBSCRIBE, SUBACK, UNSUBSCRIBE or (5.0) UNSUBACK with no entries (3.1.1
    /// [MQTT-3.8.3-3], [MQTT-3.10.3-2]).
    #[error("{0} without any topic filter")]
    EmptyTopicList(PacketKind),
    /// A PUBLISH topic with a wildcard ([MQTT-3.3.2-2]), or empty without a Topic Alias.
    #[error("PUBLISH topic name contains a wildcard or is empty: {0:?}")]
    InvalidTopicName(String),
    /// MQTT 5.0: a reason code the packet may not carry (§2.4, Table 2-6).
    #[error("reason code {code:#04x} is not one {kind} may carry")]
    InvalidReasonCode {
        /// The byte received.
        code: u8,
        /// The packet that carried it.
        kind: PacketKind,
    },
    /// MQTT 5.0: a property identifier the specification does not define (§2.2.2.2).
    #[error("unknown property identifier {0:#04x}")]
    UnknownProperty(u8),
    /// MQTT 5.0: a property twice in one packet, other than User Property or (in PUBLISH)
    /// Subscription Identifier.
    #[error("property {0} appears twice; it may appear once")]
    DuplicateProperty(PropertyId),
    /// MQTT 5.0: a property in a packet (or the will) that may not carry it (§2.2.2.2, Table
    /// 2-4).
    #[error("property {property} is not allowed in {place}")]
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// Where it was found.
        place: PropertyPlace,
    },
    /// MQTT 5.0: a property value the specification forbids, e.g. Receive Maximum 0 or a
    /// Maximum QoS of 2.
    #[error("property {property} has the forbidden value {value}")]
    InvalidPropertyValue {
        /// The property.
        property: PropertyId,
        /// The value received.
        value: u32,
    },
    /// MQTT 5.0: subscription options with reserved bits set ([MQTT-3.8.3-5]), or Retain
    /// Handling 3 (§3.8.3.1).
    #[error("invalid subscription options {0:#010b} (reserved bits set, or Retain Handling 3)")]
    InvalidSubscriptionOptions(u8),
}

/// Why a packet cannot be put on the wire. Nothing was sent; the caller's input is at fault,
/// never the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A string or binary field over 65,535 bytes, the most its two-byte length can say.
    #[error("{what} is {len} bytes; at most 65535 fit")]
    FieldTooLong {
        /// Which field, e.g. `topic`.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A body over 268,435,455 bytes, the most a Remaining Length can say.
    #[error("packet body of {0} bytes exceeds MQTT's 268435455")]
    PacketTooLarge(usize),
    /// A QoS 1 or 2 PUBLISH without a packet identifier, or a QoS 0 one with one
    /// (3.1.1 [MQTT-2.3.1-5], 5.0 [MQTT-2.2.1-2]).
    #[error("a QoS {0:?} PUBLISH needs a packet identifier, and QoS 0 must not have one")]
    PacketIdMismatch(QoS),
    /// Something only MQTT 5.0 can say (properties, a reason code, subscription options …)
    /// on a 3.1.1 connection.
    #[error("{what} does not exist in {version}; it needs MQTT 5.0")]
    NeedsV5 {
        /// What was asked for.
        what: &'static str,
        /// The version spoken.
        version: ProtocolVersion,
    },
    /// A reason code the packet may not carry (5.0 §2.4, Table 2-6).
    #[error("reason code {code} is not one {kind} may carry")]
    ReasonNotAllowed {
        /// The code.
        code: ReasonCode,
        /// The packet.
        kind: PacketKind,
    },
    /// A property the packet (or the will) may not carry (5.0 §2.2.2.2, Table 2-4).
    #[error("property {property} is not allowed in {place}")]
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// Where it was put.
        place: PropertyPlace,
    },
    /// A property given twice, other than User Property or (in PUBLISH) Subscription
    /// Identifier.
    #[error("property {0} may appear only once here")]
    DuplicateProperty(PropertyId),
    /// A property value the specification forbids, e.g. Receive Maximum 0.
    #[error("property {property} cannot have the value {value}")]
    InvalidPropertyValue {
        /// The property.
        property: PropertyId,
        /// The value given.
        value: u32,
    },
    /// A SUBSCRIBE or UNSUBSCRIBE without filters (3.1.1 [MQTT-3.8.3-3], [MQTT-3.10.3-2]).
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
