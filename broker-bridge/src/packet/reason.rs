//! MQTT 5.0 reason codes (§2.4): one byte on CONNACK, the publish acknowledgements, SUBACK,
//! UNSUBACK, DISCONNECT and AUTH saying how an operation went. Values below 0x80 mean success,
//! 0x80 and above failure. Each packet allows only some of them (§2.4, Table 2-6).

use super::PacketKind;

/// Every reason code of MQTT 5.0, named as in the specification; each variant lists the packets
/// that may carry it (§2.4, Table 2-6). `Display` gives the name and the byte, e.g.
/// `Not authorized (0x87)`.
///
/// 0x00 has three names depending on the packet: *Success*, *Normal disconnection* (DISCONNECT)
/// and *Granted QoS 0* (SUBACK); [`ReasonCode::name_in`] gives the right one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    /// 0x00 Success; *Normal disconnection* on DISCONNECT, *Granted QoS 0* on SUBACK (every
    /// packet with a reason code).
    #[default]
    Success = 0x00,
    /// 0x01 Granted QoS 1 (SUBACK).
    GrantedQoS1 = 0x01,
    /// 0x02 Granted QoS 2 (SUBACK).
    GrantedQoS2 = 0x02,
    /// 0x04 Disconnect with Will Message (DISCONNECT).
    DisconnectWithWillMessage = 0x04,
    /// 0x10 No matching subscribers (PUBACK, PUBREC).
    NoMatchingSubscribers = 0x10,
    /// 0x11 No subscription existed (UNSUBACK).
    NoSubscriptionExisted = 0x11,
    /// 0x18 Continue authentication (AUTH).
    ContinueAuthentication = 0x18,
    /// 0x19 Re-authenticate (AUTH).
    ReAuthenticate = 0x19,
    /// 0x80 Unspecified error (CONNACK, PUBACK, PUBREC, SUBACK, UNSUBACK, DISCONNECT).
    UnspecifiedError = 0x80,
    /// 0x81 Malformed Packet (CONNACK, DISCONNECT).
    MalformedPacket = 0x81,
    /// 0x82 Protocol Error (CONNACK, DISCONNECT).
    ProtocolError = 0x82,
    /// 0x83 Implementation specific error (CONNACK, PUBACK, PUBREC, SUBACK, UNSUBACK, DISCONNECT).
    ImplementationSpecificError = 0x83,
    /// 0x84 Unsupported Protocol Version (CONNACK).
    UnsupportedProtocolVersion = 0x84,
    /// 0x85 Client Identifier not valid (CONNACK).
    ClientIdentifierNotValid = 0x85,
    /// 0x86 Bad User Name or Password (CONNACK).
    BadUserNameOrPassword = 0x86,
    /// 0x87 Not authorized (CONNACK, PUBACK, PUBREC, SUBACK, UNSUBACK, DISCONNECT).
    NotAuthorized = 0x87,
    /// 0x88 Server unavailable (CONNACK).
    ServerUnavailable = 0x88,
    /// 0x89 Server busy (CONNACK, DISCONNECT).
    ServerBusy = 0x89,
    /// 0x8A Banned (CONNACK).
    Banned = 0x8A,
    /// 0x8B Server shutting down (DISCONNECT).
    ServerShuttingDown = 0x8B,
    /// 0x8C Bad authentication method (CONNACK, DISCONNECT).
    BadAuthenticationMethod = 0x8C,
    /// 0x8D Keep Alive timeout (DISCONNECT).
    KeepAliveTimeout = 0x8D,
    /// 0x8E Session taken over (DISCONNECT).
    SessionTakenOver = 0x8E,
    /// 0x8F Topic Filter invalid (SUBACK, UNSUBACK, DISCONNECT).
    TopicFilterInvalid = 0x8F,
    /// 0x90 Topic Name invalid (CONNACK, PUBACK, PUBREC, DISCONNECT).
    TopicNameInvalid = 0x90,
    /// 0x91 Packet Identifier in use (PUBACK, PUBREC, SUBACK, UNSUBACK).
    PacketIdentifierInUse = 0x91,
    /// 0x92 Packet Identifier not found (PUBREL, PUBCOMP).
    PacketIdentifierNotFound = 0x92,
    /// 0x93 Receive Maximum exceeded (DISCONNECT).
    ReceiveMaximumExceeded = 0x93,
    /// 0x94 Topic Alias invalid (DISCONNECT).
    TopicAliasInvalid = 0x94,
    /// 0x95 Packet too large (CONNACK, DISCONNECT).
    PacketTooLarge = 0x95,
    /// 0x96 Message rate too high (DISCONNECT).
    MessageRateTooHigh = 0x96,
    /// 0x97 Quota exceeded (CONNACK, PUBACK, PUBREC, SUBACK, DISCONNECT).
    QuotaExceeded = 0x97,
    /// 0x98 Administrative action (DISCONNECT).
    AdministrativeAction = 0x98,
    /// 0x99 Payload format invalid (CONNACK, PUBACK, PUBREC, DISCONNECT).
    PayloadFormatInvalid = 0x99,
    /// 0x9A Retain not supported (CONNACK, DISCONNECT).
    RetainNotSupported = 0x9A,
    /// 0x9B QoS not supported (CONNACK, DISCONNECT).
    QoSNotSupported = 0x9B,
    /// 0x9C Use another server (CONNACK, DISCONNECT).
    UseAnotherServer = 0x9C,
    /// 0x9D Server moved (CONNACK, DISCONNECT).
    ServerMoved = 0x9D,
    /// 0x9E Shared Subscriptions not supported (SUBACK, DISCONNECT).
    SharedSubscriptionsNotSupported = 0x9E,
    /// 0x9F Connection rate exceeded (CONNACK, DISCONNECT).
    ConnectionRateExceeded = 0x9F,
    /// 0xA0 Maximum connect time (DISCONNECT).
    MaximumConnectTime = 0xA0,
    /// 0xA1 Subscription Identifiers not supported (SUBACK, DISCONNECT).
    SubscriptionIdentifiersNotSupported = 0xA1,
    /// 0xA2 Wildcard Subscriptions not supported (SUBACK, DISCONNECT).
    WildcardSubscriptionsNotSupported = 0xA2,
}

use ReasonCode as R;

/// Every code, in numeric order (for tables and tests).
pub const ALL_REASON_CODES: [ReasonCode; 43] = [
    R::Success,
    R::GrantedQoS1,
    R::GrantedQoS2,
    R::DisconnectWithWillMessage,
    R::NoMatchingSubscribers,
    R::NoSubscriptionExisted,
    R::ContinueAuthentication,
    R::ReAuthenticate,
    R::UnspecifiedError,
    R::MalformedPacket,
    R::ProtocolError,
    R::ImplementationSpecificError,
    R::UnsupportedProtocolVersion,
    R::ClientIdentifierNotValid,
    R::BadUserNameOrPassword,
    R::NotAuthorized,
    R::ServerUnavailable,
    R::ServerBusy,
    R::Banned,
    R::ServerShuttingDown,
    R::BadAuthenticationMethod,
    R::KeepAliveTimeout,
    R::SessionTakenOver,
    R::TopicFilterInvalid,
    R::TopicNameInvalid,
    R::PacketIdentifierInUse,
    R::PacketIdentifierNotFound,
    R::ReceiveMaximumExceeded,
    R::TopicAliasInvalid,
    R::PacketTooLarge,
    R::MessageRateTooHigh,
    R::QuotaExceeded,
    R::AdministrativeAction,
    R::PayloadFormatInvalid,
    R::RetainNotSupported,
    R::QoSNotSupported,
    R::UseAnotherServer,
    R::ServerMoved,
    R::SharedSubscriptionsNotSupported,
    R::ConnectionRateExceeded,
    R::MaximumConnectTime,
    R::SubscriptionIdentifiersNotSupported,
    R::WildcardSubscriptionsNotSupported,
];

impl ReasonCode {
    /// 0x00 on DISCONNECT.
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode::Success;
    /// 0x00 on SUBACK.
    pub const GRANTED_QOS_0: ReasonCode = ReasonCode::Success;

    /// The code of a byte; `None` for the bytes MQTT 5.0 leaves undefined.
    pub fn from_byte(byte: u8) -> Option<Self> {
        ALL_REASON_CODES.iter().copied().find(|c| *c as u8 == byte)
    }

    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// 0x80 and above: the operation failed.
    pub fn is_error(self) -> bool {
        self.byte() >= 0x80
    }

    /// The specification's name, for a person: e.g. "Quota exceeded".
    pub fn describe(self) -> &'static str {
        match self {
            R::Success => "Success",
            R::GrantedQoS1 => "Granted QoS 1",
            R::GrantedQoS2 => "Granted QoS 2",
            R::DisconnectWithWillMessage => "Disconnect with Will Message",
            R::NoMatchingSubscribers => "No matching subscribers",
            R::NoSubscriptionExisted => "No subscription existed",
            R::ContinueAuthentication => "Continue authentication",
            R::ReAuthenticate => "Re-authenticate",
            R::UnspecifiedError => "Unspecified error",
            R::MalformedPacket => "Malformed Packet",
            R::ProtocolError => "Protocol Error",
            R::ImplementationSpecificError => "Implementation specific error",
            R::UnsupportedProtocolVersion => "Unsupported Protocol Version",
            R::ClientIdentifierNotValid => "Client Identifier not valid",
            R::BadUserNameOrPassword => "Bad User Name or Password",
            R::NotAuthorized => "Not authorized",
            R::ServerUnavailable => "Server unavailable",
            R::ServerBusy => "Server busy",
            R::Banned => "Banned",
            R::ServerShuttingDown => "Server shutting down",
            R::BadAuthenticationMethod => "Bad authentication method",
            R::KeepAliveTimeout => "Keep Alive timeout",
            R::SessionTakenOver => "Session taken over",
            R::TopicFilterInvalid => "Topic Filter invalid",
            R::TopicNameInvalid => "Topic Name invalid",
            R::PacketIdentifierInUse => "Packet Identifier in use",
            R::PacketIdentifierNotFound => "Packet Identifier not found",
            R::ReceiveMaximumExceeded => "Receive Maximum exceeded",
            R::TopicAliasInvalid => "Topic Alias invalid",
            R::PacketTooLarge => "Packet too large",
            R::MessageRateTooHigh => "Message rate too high",
            R::QuotaExceeded => "Quota exceeded",
            R::AdministrativeAction => "Administrative action",
            R::PayloadFormatInvalid => "Payload format invalid",
            R::RetainNotSupported => "Retain not supported",
            R::QoSNotSupported => "QoS not supported",
            R::UseAnotherServer => "Use another server",
            R::ServerMoved => "Server moved",
            R::SharedSubscriptionsNotSupported => "Shared Subscriptions not supported",
            R::ConnectionRateExceeded => "Connection rate exceeded",
            R::MaximumConnectTime => "Maximum connect time",
            R::SubscriptionIdentifiersNotSupported => "Subscription Identifiers not supported",
            R::WildcardSubscriptionsNotSupported => "Wildcard Subscriptions not supported",
        }
    }

    /// The name this code has on `kind`: 0x00 is "Normal disconnection" on DISCONNECT and
    /// "Granted QoS 0" on SUBACK.
    pub fn name_in(self, kind: PacketKind) -> &'static str {
        match (self, kind) {
            (R::Success, PacketKind::Disconnect) => "Normal disconnection",
            (R::Success, PacketKind::SubAck) => "Granted QoS 0",
            _ => self.describe(),
        }
    }

    /// Whether the specification allows this code on `kind` (Table 2-6). On DISCONNECT that
    /// table also lists 0x8C (Bad authentication method), which the DISCONNECT section's own
    /// table omits; we accept it.
    pub fn allowed_in(self, kind: PacketKind) -> bool {
        use PacketKind as K;
        let b = self.byte();
        match kind {
            K::ConnAck => matches!(
                b,
                0x00 | 0x80..=0x8A | 0x8C | 0x90 | 0x95 | 0x97 | 0x99..=0x9D | 0x9F
            ),
            K::PubAck | K::PubRec => {
                matches!(
                    b,
                    0x00 | 0x10 | 0x80 | 0x83 | 0x87 | 0x90 | 0x91 | 0x97 | 0x99
                )
            }
            K::PubRel | K::PubComp => matches!(b, 0x00 | 0x92),
            K::SubAck => matches!(
                b,
                0x00..=0x02 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91 | 0x97 | 0x9E | 0xA1 | 0xA2
            ),
            K::UnsubAck => matches!(b, 0x00 | 0x11 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91),
            K::Disconnect => matches!(
                b,
                0x00 | 0x04
                    | 0x80..=0x83
                    | 0x87
                    | 0x89
                    | 0x8B..=0x90
                    | 0x93..=0xA2
            ),
            K::Auth => matches!(b, 0x00 | 0x18 | 0x19),
            _ => false,
        }
    }
}

/// "Not authorized (0x87)": the name and the byte a packet inspector shows.
impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (0x{:02X})", self.describe(), self.byte())
    }
}

/// Reads the reason code byte of `kind`, refusing codes the packet may not carry.
pub(crate) fn read_reason(
    r: &mut super::wire::Reader<'_>,
    kind: PacketKind,
) -> Result<ReasonCode, super::DecodeError> {
    let byte = r.u8()?;
    match ReasonCode::from_byte(byte) {
        Some(code) if code.allowed_in(kind) => Ok(code),
        // A refusal of a PUBLISH with a failure code the acknowledgement may not carry:
        // Mosquitto 2.0 answers one over its `message_size_limit` with PUBACK 0x95 (Packet too
        // large, listed for CONNACK and DISCONNECT only). Taken as the refusal it is, not as a
        // malformed packet that ends the connection: the PUBLISH went out again on every
        // reconnection and was refused again, for ever, and the service never came back (a
        // newcomer's break-test, 34-J F5).
        Some(code)
            if matches!(kind, PacketKind::PubAck | PacketKind::PubRec) && code.is_error() =>
        {
            Ok(code)
        }
        _ => Err(super::DecodeError::InvalidReasonCode { code: byte, kind }),
    }
}

/// Refuses to put a code on `kind` that the packet may not carry.
pub(crate) fn check_reason(code: ReasonCode, kind: PacketKind) -> Result<(), super::EncodeError> {
    if code.allowed_in(kind) {
        Ok(())
    } else {
        Err(super::EncodeError::ReasonNotAllowed { code, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_maps_to_at_most_one_code_and_back() {
        let mut known = 0;
        for byte in 0..=255u8 {
            if let Some(code) = ReasonCode::from_byte(byte) {
                assert_eq!(code.byte(), byte);
                known += 1;
            }
        }
        assert_eq!(known, ALL_REASON_CODES.len());
        assert!(ALL_REASON_CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn learners_read_the_specs_names() {
        assert_eq!(R::NotAuthorized.to_string(), "Not authorized (0x87)");
        assert_eq!(R::QuotaExceeded.describe(), "Quota exceeded");
        assert_eq!(R::TopicFilterInvalid.describe(), "Topic Filter invalid");
        assert_eq!(
            R::SharedSubscriptionsNotSupported.describe(),
            "Shared Subscriptions not supported"
        );
        assert_eq!(
            R::Success.name_in(PacketKind::Disconnect),
            "Normal disconnection"
        );
        assert_eq!(R::Success.name_in(PacketKind::SubAck), "Granted QoS 0");
        assert_eq!(R::Success.name_in(PacketKind::PubAck), "Success");
    }

    #[test]
    fn each_packet_allows_the_specs_codes() {
        use PacketKind as K;
        let count = |kind| {
            ALL_REASON_CODES
                .iter()
                .filter(|c| c.allowed_in(kind))
                .count()
        };
        // Table 2-6 of the specification, counted per packet.
        assert_eq!(count(K::ConnAck), 22);
        assert_eq!(count(K::PubAck), 9);
        assert_eq!(count(K::PubRec), 9);
        assert_eq!(count(K::PubRel), 2);
        assert_eq!(count(K::PubComp), 2);
        assert_eq!(count(K::SubAck), 12);
        assert_eq!(count(K::UnsubAck), 7);
        assert_eq!(count(K::Disconnect), 30);
        assert_eq!(count(K::Auth), 3);
        assert!(!R::SessionTakenOver.allowed_in(K::ConnAck));
        assert!(R::SessionTakenOver.allowed_in(K::Disconnect));
        assert!(!R::QuotaExceeded.allowed_in(K::UnsubAck));
        assert!(!R::Success.allowed_in(K::Publish));
    }
}
