//! One MQTT 5.0 property (§2.2.2.2): an identifier byte, then a value of the type that identifier
//! fixes. Which packets may carry which property is the specification's table, kept here.

use super::wire::{check_len, put_binary, put_remaining_length, put_string, put_u16, put_u32};
use super::wire::{Reader, MAX_REMAINING_LENGTH};
use super::{DecodeError, EncodeError, PacketKind, QoS};

/// A property's identifier (MQTT 5.0 §2.2.2.2, Table 2-4), with the specification's name;
/// `Display` gives both, e.g. `Topic Alias (0x23)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PropertyId {
    /// `0x01`: [`Property::PayloadFormatIndicator`].
    PayloadFormatIndicator = 0x01,
    /// `0x02`: [`Property::MessageExpiryInterval`].
    MessageExpiryInterval = 0x02,
    /// `0x03`: [`Property::ContentType`].
    ContentType = 0x03,
    /// `0x08`: [`Property::ResponseTopic`].
    ResponseTopic = 0x08,
    /// `0x09`: [`Property::CorrelationData`].
    CorrelationData = 0x09,
    /// `0x0B`: [`Property::SubscriptionIdentifier`].
    SubscriptionIdentifier = 0x0B,
    /// `0x11`: [`Property::SessionExpiryInterval`].
    SessionExpiryInterval = 0x11,
    /// `0x12`: [`Property::AssignedClientIdentifier`].
    AssignedClientIdentifier = 0x12,
    /// `0x13`: [`Property::ServerKeepAlive`].
    ServerKeepAlive = 0x13,
    /// `0x15`: [`Property::AuthenticationMethod`].
    AuthenticationMethod = 0x15,
    /// `0x16`: [`Property::AuthenticationData`].
    AuthenticationData = 0x16,
    /// `0x17`: [`Property::RequestProblemInformation`].
    RequestProblemInformation = 0x17,
    /// `0x18`: [`Property::WillDelayInterval`].
    WillDelayInterval = 0x18,
    /// `0x19`: [`Property::RequestResponseInformation`].
    RequestResponseInformation = 0x19,
    /// `0x1A`: [`Property::ResponseInformation`].
    ResponseInformation = 0x1A,
    /// `0x1C`: [`Property::ServerReference`].
    ServerReference = 0x1C,
    /// `0x1F`: [`Property::ReasonString`].
    ReasonString = 0x1F,
    /// `0x21`: [`Property::ReceiveMaximum`].
    ReceiveMaximum = 0x21,
    /// `0x22`: [`Property::TopicAliasMaximum`].
    TopicAliasMaximum = 0x22,
    /// `0x23`: [`Property::TopicAlias`].
    TopicAlias = 0x23,
    /// `0x24`: [`Property::MaximumQoS`].
    MaximumQoS = 0x24,
    /// `0x25`: [`Property::RetainAvailable`].
    RetainAvailable = 0x25,
    /// `0x26`: [`Property::UserProperty`].
    UserProperty = 0x26,
    /// `0x27`: [`Property::MaximumPacketSize`].
    MaximumPacketSize = 0x27,
    /// `0x28`: [`Property::WildcardSubscriptionAvailable`].
    WildcardSubscriptionAvailable = 0x28,
    /// `0x29`: [`Property::SubscriptionIdentifierAvailable`].
    SubscriptionIdentifierAvailable = 0x29,
    /// `0x2A`: [`Property::SharedSubscriptionAvailable`].
    SharedSubscriptionAvailable = 0x2A,
}

use PropertyId as P;

/// Every identifier, in numeric order.
pub const ALL_PROPERTY_IDS: [PropertyId; 27] = [
    P::PayloadFormatIndicator,
    P::MessageExpiryInterval,
    P::ContentType,
    P::ResponseTopic,
    P::CorrelationData,
    P::SubscriptionIdentifier,
    P::SessionExpiryInterval,
    P::AssignedClientIdentifier,
    P::ServerKeepAlive,
    P::AuthenticationMethod,
    P::AuthenticationData,
    P::RequestProblemInformation,
    P::WillDelayInterval,
    P::RequestResponseInformation,
    P::ResponseInformation,
    P::ServerReference,
    P::ReasonString,
    P::ReceiveMaximum,
    P::TopicAliasMaximum,
    P::TopicAlias,
    P::MaximumQoS,
    P::RetainAvailable,
    P::UserProperty,
    P::MaximumPacketSize,
    P::WildcardSubscriptionAvailable,
    P::SubscriptionIdentifierAvailable,
    P::SharedSubscriptionAvailable,
];

/// Where a property list sits: in a packet's variable header, or in CONNECT's will.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyPlace {
    /// The properties of a packet of this kind.
    Packet(PacketKind),
    /// The Will Properties in CONNECT's payload (§3.1.3.2).
    Will,
}

impl std::fmt::Display for PropertyPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PropertyPlace::Packet(kind) => write!(f, "{kind}"),
            PropertyPlace::Will => f.write_str("the will properties"),
        }
    }
}

impl PropertyId {
    /// The property of an identifier byte; `None` for the bytes the specification leaves
    /// undefined.
    pub fn from_byte(byte: u8) -> Option<Self> {
        ALL_PROPERTY_IDS.iter().copied().find(|p| *p as u8 == byte)
    }

    /// The identifier byte.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// The specification's name, e.g. "Message Expiry Interval".
    pub fn name(self) -> &'static str {
        match self {
            P::PayloadFormatIndicator => "Payload Format Indicator",
            P::MessageExpiryInterval => "Message Expiry Interval",
            P::ContentType => "Content Type",
            P::ResponseTopic => "Response Topic",
            P::CorrelationData => "Correlation Data",
            P::SubscriptionIdentifier => "Subscription Identifier",
            P::SessionExpiryInterval => "Session Expiry Interval",
            P::AssignedClientIdentifier => "Assigned Client Identifier",
            P::ServerKeepAlive => "Server Keep Alive",
            P::AuthenticationMethod => "Authentication Method",
            P::AuthenticationData => "Authentication Data",
            P::RequestProblemInformation => "Request Problem Information",
            P::WillDelayInterval => "Will Delay Interval",
            P::RequestResponseInformation => "Request Response Information",
            P::ResponseInformation => "Response Information",
            P::ServerReference => "Server Reference",
            P::ReasonString => "Reason String",
            P::ReceiveMaximum => "Receive Maximum",
            P::TopicAliasMaximum => "Topic Alias Maximum",
            P::TopicAlias => "Topic Alias",
            P::MaximumQoS => "Maximum QoS",
            P::RetainAvailable => "Retain Available",
            P::UserProperty => "User Property",
            P::MaximumPacketSize => "Maximum Packet Size",
            P::WildcardSubscriptionAvailable => "Wildcard Subscription Available",
            P::SubscriptionIdentifierAvailable => "Subscription Identifier Available",
            P::SharedSubscriptionAvailable => "Shared Subscription Available",
        }
    }

    /// Whether the specification lets this property appear in `place` (§2.2.2.2, Table 2-4).
    pub fn allowed_in(self, place: PropertyPlace) -> bool {
        use PacketKind as K;
        let PropertyPlace::Packet(kind) = place else {
            return matches!(
                self,
                P::PayloadFormatIndicator
                    | P::MessageExpiryInterval
                    | P::ContentType
                    | P::ResponseTopic
                    | P::CorrelationData
                    | P::WillDelayInterval
                    | P::UserProperty
            );
        };
        match self {
            P::PayloadFormatIndicator
            | P::MessageExpiryInterval
            | P::ContentType
            | P::ResponseTopic
            | P::CorrelationData
            | P::TopicAlias => kind == K::Publish,
            P::SubscriptionIdentifier => matches!(kind, K::Publish | K::Subscribe),
            P::SessionExpiryInterval => matches!(kind, K::Connect | K::ConnAck | K::Disconnect),
            P::AuthenticationMethod | P::AuthenticationData => {
                matches!(kind, K::Connect | K::ConnAck | K::Auth)
            }
            P::RequestProblemInformation | P::RequestResponseInformation => kind == K::Connect,
            P::WillDelayInterval => false,
            P::ServerReference => matches!(kind, K::ConnAck | K::Disconnect),
            P::ReasonString => matches!(
                kind,
                K::ConnAck
                    | K::PubAck
                    | K::PubRec
                    | K::PubRel
                    | K::PubComp
                    | K::SubAck
                    | K::UnsubAck
                    | K::Disconnect
                    | K::Auth
            ),
            P::ReceiveMaximum | P::TopicAliasMaximum | P::MaximumPacketSize => {
                matches!(kind, K::Connect | K::ConnAck)
            }
            P::UserProperty => !matches!(kind, K::PingReq | K::PingResp),
            P::AssignedClientIdentifier
            | P::ServerKeepAlive
            | P::ResponseInformation
            | P::MaximumQoS
            | P::RetainAvailable
            | P::WildcardSubscriptionAvailable
            | P::SubscriptionIdentifierAvailable
            | P::SharedSubscriptionAvailable => kind == K::ConnAck,
        }
    }

    /// User properties may repeat anywhere, subscription identifiers in PUBLISH (one per
    /// matching subscription); every other property at most once.
    pub fn may_repeat_in(self, place: PropertyPlace) -> bool {
        match self {
            P::UserProperty => true,
            P::SubscriptionIdentifier => place == PropertyPlace::Packet(PacketKind::Publish),
            _ => false,
        }
    }
}

impl std::fmt::Display for PropertyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), self.byte())
    }
}

/// One MQTT 5.0 property with its value. Flags that the specification encodes as a byte 0 or
/// 1 are `bool`; Maximum QoS is a [`QoS`] (0 or 1 only). Strings and binary values hold at
/// most 65,535 bytes. "Absent" below is what the specification assumes when a packet leaves
/// the property out. Sections are MQTT 5.0's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    /// PUBLISH, will: `true` says the payload is UTF-8 text, `false` (or absent) unspecified
    /// bytes (§3.3.2.3.2).
    PayloadFormatIndicator(bool),
    /// PUBLISH, will: seconds the broker keeps the message for subscribers that have not
    /// received it yet; absent, it never expires (§3.3.2.3.3).
    MessageExpiryInterval(u32),
    /// PUBLISH, will: the payload's content type, e.g. a MIME type; its meaning is the
    /// applications' (§3.3.2.3.9).
    ContentType(String),
    /// PUBLISH, will: the topic name a response should be published to (§3.3.2.3.5, §4.10).
    ResponseTopic(String),
    /// PUBLISH, will: opaque bytes the requester uses to match a response to its request
    /// (§3.3.2.3.6).
    CorrelationData(Vec<u8>),
    /// SUBSCRIBE: a number, 1 to 268,435,455, the broker sends back with every message that
    /// subscription matched; PUBLISH from the broker: one per matching subscription
    /// (§3.8.2.1.2, §3.3.2.3.8).
    SubscriptionIdentifier(u32),
    /// CONNECT, CONNACK, DISCONNECT: seconds the broker keeps the session after the
    /// connection ends; absent or 0, it ends with the connection; 0xFFFFFFFF, never
    /// (§3.1.2.11.2).
    SessionExpiryInterval(u32),
    /// CONNACK: the client identifier the broker chose because CONNECT's was empty
    /// (§3.2.2.3.7).
    AssignedClientIdentifier(String),
    /// CONNACK: seconds; the keepalive the broker imposes instead of ours ([MQTT-3.2.2-21]).
    ServerKeepAlive(u16),
    /// CONNECT, CONNACK, AUTH: the name of the extended authentication method (§4.12).
    AuthenticationMethod(String),
    /// CONNECT, CONNACK, AUTH: the method's data (§3.1.2.11.10).
    AuthenticationData(Vec<u8>),
    /// CONNECT: `false` asks the broker to send Reason Strings and User Properties only on
    /// PUBLISH, CONNACK and DISCONNECT; absent, `true` (§3.1.2.11.7).
    RequestProblemInformation(bool),
    /// Will: seconds the broker waits after the connection is lost before publishing the
    /// will; absent, 0 (§3.1.3.2.2).
    WillDelayInterval(u32),
    /// CONNECT: `true` asks for Response Information in CONNACK; absent, `false`
    /// (§3.1.2.11.6).
    RequestResponseInformation(bool),
    /// CONNACK: the basis for building response topics, if asked for (§3.2.2.3.15).
    ResponseInformation(String),
    /// CONNACK, DISCONNECT: another server to use, with 0x9C Use another server or 0x9D
    /// Server moved (§4.11).
    ServerReference(String),
    /// CONNACK, the acknowledgements, DISCONNECT, AUTH: words for a person, for
    /// diagnostics; not to be parsed.
    ReasonString(String),
    /// CONNECT, CONNACK: how many QoS 1 and 2 messages the sender of it will process at once;
    /// never 0; absent, 65,535 (§3.1.2.11.3, §3.2.2.3.3, §4.9).
    ReceiveMaximum(u16),
    /// CONNECT, CONNACK: the highest Topic Alias the sender of it accepts; absent or 0, none
    /// (§3.1.2.11.5, §3.2.2.3.8).
    TopicAliasMaximum(u16),
    /// PUBLISH: a number standing for the topic on this connection, 1 to the receiver's Topic
    /// Alias Maximum; never 0 (§3.3.2.3.4).
    TopicAlias(u16),
    /// CONNACK: the highest QoS the broker accepts from us, 0 or 1; absent, 2 (§3.2.2.3.4,
    /// [MQTT-3.2.2-11]).
    MaximumQoS(QoS),
    /// CONNACK: `false` if the broker keeps no retained messages; absent, `true`
    /// ([MQTT-3.2.2-14]).
    RetainAvailable(bool),
    /// Any packet but PINGREQ and PINGRESP, and the will: a name and a value whose meaning is
    /// the applications'; may repeat, even with the same name, and the order is kept.
    UserProperty(String, String),
    /// CONNECT, CONNACK: bytes; the largest packet the sender of it accepts, fixed header
    /// included; never 0; absent, no limit but the protocol's (§3.1.2.11.4, §3.2.2.3.6).
    MaximumPacketSize(u32),
    /// CONNACK: `false` if the broker refuses filters with wildcards; absent, `true`
    /// (§3.2.2.3.11).
    WildcardSubscriptionAvailable(bool),
    /// CONNACK: `false` if the broker refuses Subscription Identifiers; absent, `true`
    /// (§3.2.2.3.12).
    SubscriptionIdentifierAvailable(bool),
    /// CONNACK: `false` if the broker refuses shared subscriptions; absent, `true`
    /// (§3.2.2.3.13).
    SharedSubscriptionAvailable(bool),
}

impl Property {
    /// The property's identifier.
    pub fn id(&self) -> PropertyId {
        match self {
            Property::PayloadFormatIndicator(_) => P::PayloadFormatIndicator,
            Property::MessageExpiryInterval(_) => P::MessageExpiryInterval,
            Property::ContentType(_) => P::ContentType,
            Property::ResponseTopic(_) => P::ResponseTopic,
            Property::CorrelationData(_) => P::CorrelationData,
            Property::SubscriptionIdentifier(_) => P::SubscriptionIdentifier,
            Property::SessionExpiryInterval(_) => P::SessionExpiryInterval,
            Property::AssignedClientIdentifier(_) => P::AssignedClientIdentifier,
            Property::ServerKeepAlive(_) => P::ServerKeepAlive,
            Property::AuthenticationMethod(_) => P::AuthenticationMethod,
            Property::AuthenticationData(_) => P::AuthenticationData,
            Property::RequestProblemInformation(_) => P::RequestProblemInformation,
            Property::WillDelayInterval(_) => P::WillDelayInterval,
            Property::RequestResponseInformation(_) => P::RequestResponseInformation,
            Property::ResponseInformation(_) => P::ResponseInformation,
            Property::ServerReference(_) => P::ServerReference,
            Property::ReasonString(_) => P::ReasonString,
            Property::ReceiveMaximum(_) => P::ReceiveMaximum,
            Property::TopicAliasMaximum(_) => P::TopicAliasMaximum,
            Property::TopicAlias(_) => P::TopicAlias,
            Property::MaximumQoS(_) => P::MaximumQoS,
            Property::RetainAvailable(_) => P::RetainAvailable,
            Property::UserProperty(..) => P::UserProperty,
            Property::MaximumPacketSize(_) => P::MaximumPacketSize,
            Property::WildcardSubscriptionAvailable(_) => P::WildcardSubscriptionAvailable,
            Property::SubscriptionIdentifierAvailable(_) => P::SubscriptionIdentifierAvailable,
            Property::SharedSubscriptionAvailable(_) => P::SharedSubscriptionAvailable,
        }
    }

    /// A value the specification forbids, as the number a person can compare with the rule.
    fn invalid_value(&self) -> Option<u32> {
        match self {
            Property::SubscriptionIdentifier(v)
                if *v == 0 || *v as usize > MAX_REMAINING_LENGTH =>
            {
                Some(*v)
            }
            Property::ReceiveMaximum(0) | Property::TopicAlias(0) => Some(0),
            Property::MaximumPacketSize(0) => Some(0),
            Property::MaximumQoS(QoS::ExactlyOnce) => Some(2),
            _ => None,
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let id = self.id();
        if let Some(value) = self.invalid_value() {
            return Err(EncodeError::InvalidPropertyValue {
                property: id,
                value,
            });
        }
        let name = id.name();
        out.push(id.byte());
        match self {
            Property::PayloadFormatIndicator(b)
            | Property::RequestProblemInformation(b)
            | Property::RequestResponseInformation(b)
            | Property::RetainAvailable(b)
            | Property::WildcardSubscriptionAvailable(b)
            | Property::SubscriptionIdentifierAvailable(b)
            | Property::SharedSubscriptionAvailable(b) => out.push(u8::from(*b)),
            Property::MaximumQoS(qos) => out.push(qos.level()),
            Property::MessageExpiryInterval(v)
            | Property::SessionExpiryInterval(v)
            | Property::WillDelayInterval(v)
            | Property::MaximumPacketSize(v) => put_u32(out, *v),
            Property::ServerKeepAlive(v)
            | Property::ReceiveMaximum(v)
            | Property::TopicAliasMaximum(v)
            | Property::TopicAlias(v) => put_u16(out, *v),
            Property::SubscriptionIdentifier(v) => put_remaining_length(out, *v as usize),
            Property::ContentType(s)
            | Property::ResponseTopic(s)
            | Property::AssignedClientIdentifier(s)
            | Property::AuthenticationMethod(s)
            | Property::ResponseInformation(s)
            | Property::ServerReference(s)
            | Property::ReasonString(s) => {
                check_len(name, s.len())?;
                put_string(out, s);
            }
            Property::CorrelationData(b) | Property::AuthenticationData(b) => {
                check_len(name, b.len())?;
                put_binary(out, b);
            }
            Property::UserProperty(key, value) => {
                check_len("user property name", key.len())?;
                check_len("user property value", value.len())?;
                put_string(out, key);
                put_string(out, value);
            }
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let byte = r.u8()?;
        let id = PropertyId::from_byte(byte).ok_or(DecodeError::UnknownProperty(byte))?;
        let flag = |r: &mut Reader<'_>| match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::InvalidPropertyValue {
                property: id,
                value: other.into(),
            }),
        };
        let property = match id {
            P::PayloadFormatIndicator => Property::PayloadFormatIndicator(flag(r)?),
            P::MessageExpiryInterval => Property::MessageExpiryInterval(r.u32()?),
            P::ContentType => Property::ContentType(r.string()?),
            P::ResponseTopic => Property::ResponseTopic(r.string()?),
            P::CorrelationData => Property::CorrelationData(r.binary()?.to_vec()),
            P::SubscriptionIdentifier => Property::SubscriptionIdentifier(r.var_int()?),
            P::SessionExpiryInterval => Property::SessionExpiryInterval(r.u32()?),
            P::AssignedClientIdentifier => Property::AssignedClientIdentifier(r.string()?),
            P::ServerKeepAlive => Property::ServerKeepAlive(r.u16()?),
            P::AuthenticationMethod => Property::AuthenticationMethod(r.string()?),
            P::AuthenticationData => Property::AuthenticationData(r.binary()?.to_vec()),
            P::RequestProblemInformation => Property::RequestProblemInformation(flag(r)?),
            P::WillDelayInterval => Property::WillDelayInterval(r.u32()?),
            P::RequestResponseInformation => Property::RequestResponseInformation(flag(r)?),
            P::ResponseInformation => Property::ResponseInformation(r.string()?),
            P::ServerReference => Property::ServerReference(r.string()?),
            P::ReasonString => Property::ReasonString(r.string()?),
            P::ReceiveMaximum => Property::ReceiveMaximum(r.u16()?),
            P::TopicAliasMaximum => Property::TopicAliasMaximum(r.u16()?),
            P::TopicAlias => Property::TopicAlias(r.u16()?),
            P::MaximumQoS => match r.u8()? {
                0 => Property::MaximumQoS(QoS::AtMostOnce),
                1 => Property::MaximumQoS(QoS::AtLeastOnce),
                other => {
                    return Err(DecodeError::InvalidPropertyValue {
                        property: id,
                        value: other.into(),
                    })
                }
            },
            P::RetainAvailable => Property::RetainAvailable(flag(r)?),
            P::UserProperty => Property::UserProperty(r.string()?, r.string()?),
            P::MaximumPacketSize => Property::MaximumPacketSize(r.u32()?),
            P::WildcardSubscriptionAvailable => Property::WildcardSubscriptionAvailable(flag(r)?),
            P::SubscriptionIdentifierAvailable => {
                Property::SubscriptionIdentifierAvailable(flag(r)?)
            }
            P::SharedSubscriptionAvailable => Property::SharedSubscriptionAvailable(flag(r)?),
        };
        match property.invalid_value() {
            Some(value) => Err(DecodeError::InvalidPropertyValue {
                property: id,
                value,
            }),
            None => Ok(property),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip_and_unknown_bytes_are_none() {
        for id in ALL_PROPERTY_IDS {
            assert_eq!(PropertyId::from_byte(id.byte()), Some(id));
        }
        for unknown in [0x00, 0x04, 0x0A, 0x10, 0x14, 0x1B, 0x1D, 0x20, 0x2B, 0xFF] {
            assert_eq!(PropertyId::from_byte(unknown), None, "{unknown:#x}");
        }
        assert_eq!(
            P::MessageExpiryInterval.to_string(),
            "Message Expiry Interval (0x02)"
        );
    }

    #[test]
    fn the_table_puts_properties_where_the_spec_does() {
        use PacketKind as K;
        let publish = PropertyPlace::Packet(K::Publish);
        assert!(P::CorrelationData.allowed_in(publish));
        assert!(P::CorrelationData.allowed_in(PropertyPlace::Will));
        assert!(!P::CorrelationData.allowed_in(PropertyPlace::Packet(K::Connect)));
        assert!(P::WillDelayInterval.allowed_in(PropertyPlace::Will));
        assert!(!P::WillDelayInterval.allowed_in(PropertyPlace::Packet(K::Connect)));
        assert!(!P::TopicAlias.allowed_in(PropertyPlace::Will));
        assert!(P::ServerKeepAlive.allowed_in(PropertyPlace::Packet(K::ConnAck)));
        assert!(!P::ServerKeepAlive.allowed_in(PropertyPlace::Packet(K::Connect)));
        assert!(P::UserProperty.allowed_in(PropertyPlace::Packet(K::Unsubscribe)));
        assert!(!P::ReasonString.allowed_in(PropertyPlace::Packet(K::Subscribe)));
        assert!(P::SubscriptionIdentifier.may_repeat_in(publish));
        assert!(!P::SubscriptionIdentifier.may_repeat_in(PropertyPlace::Packet(K::Subscribe)));
    }

    /// One value of every property, each encoded alone and read back.
    fn one_of_each() -> Vec<Property> {
        vec![
            Property::PayloadFormatIndicator(true),
            Property::MessageExpiryInterval(u32::MAX),
            Property::ContentType("application/json".into()),
            Property::ResponseTopic("orders/replies".into()),
            Property::CorrelationData(vec![0, 255]),
            Property::SubscriptionIdentifier(268_435_455),
            Property::SessionExpiryInterval(3600),
            Property::AssignedClientIdentifier("auto-1".into()),
            Property::ServerKeepAlive(20),
            Property::AuthenticationMethod("SCRAM-SHA-256".into()),
            Property::AuthenticationData(vec![1, 2, 3]),
            Property::RequestProblemInformation(false),
            Property::WillDelayInterval(5),
            Property::RequestResponseInformation(true),
            Property::ResponseInformation("replies/".into()),
            Property::ServerReference("broker-2:1883".into()),
            Property::ReasonString("why".into()),
            Property::ReceiveMaximum(1),
            Property::TopicAliasMaximum(0),
            Property::TopicAlias(65535),
            Property::MaximumQoS(QoS::AtLeastOnce),
            Property::RetainAvailable(false),
            Property::UserProperty("".into(), "value".into()),
            Property::MaximumPacketSize(1),
            Property::WildcardSubscriptionAvailable(true),
            Property::SubscriptionIdentifierAvailable(false),
            Property::SharedSubscriptionAvailable(true),
        ]
    }

    #[test]
    fn every_property_round_trips_alone() {
        let all = one_of_each();
        let ids: Vec<_> = all.iter().map(Property::id).collect();
        assert_eq!(ids, ALL_PROPERTY_IDS, "one of each, in identifier order");
        for property in all {
            let mut out = Vec::new();
            property.write(&mut out).unwrap();
            assert_eq!(out[0], property.id().byte());
            let mut r = Reader::new(&out);
            assert_eq!(Property::read(&mut r), Ok(property.clone()));
            assert_eq!(r.remaining(), 0, "{property:?} used every byte");
            // Cut short anywhere, it is an error, never a panic.
            for cut in 1..out.len() {
                assert!(Property::read(&mut Reader::new(&out[..cut])).is_err());
            }
        }
    }

    #[test]
    fn forbidden_values_are_refused_both_ways() {
        let mut out = Vec::new();
        assert_eq!(
            Property::ReceiveMaximum(0).write(&mut out),
            Err(EncodeError::InvalidPropertyValue {
                property: P::ReceiveMaximum,
                value: 0
            })
        );
        assert!(Property::SubscriptionIdentifier(268_435_456)
            .write(&mut out)
            .is_err());
        assert!(Property::MaximumQoS(QoS::ExactlyOnce)
            .write(&mut out)
            .is_err());
        for bytes in [
            &[0x21, 0, 0][..],   // Receive Maximum 0
            &[0x23, 0, 0],       // Topic Alias 0
            &[0x27, 0, 0, 0, 0], // Maximum Packet Size 0
            &[0x0B, 0],          // Subscription Identifier 0
            &[0x24, 2],          // Maximum QoS 2
            &[0x25, 2],          // Retain Available 2
            &[0x01, 7],          // Payload Format Indicator 7
        ] {
            assert!(
                matches!(
                    Property::read(&mut Reader::new(bytes)),
                    Err(DecodeError::InvalidPropertyValue { .. })
                ),
                "{bytes:?}"
            );
        }
    }
}
