//! CONNACK (§3.2): the broker's answer to CONNECT.
//!
//! The six return codes of MQTT 3.1.1 became reason codes in MQTT 5.0 (1 → 0x84 Unsupported
//! Protocol Version … 5 → 0x87 Not authorized), so [`ConnAck::code`] is a [`ReasonCode`] in both
//! versions and 3.1.1 encodes the six that exist there with their old numbers.

use super::error::v5_only;
use super::property::PropertyPlace;
use super::reason::{check_reason, read_reason};
use super::wire::Reader;
use super::{DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion, ReasonCode};

/// Why a broker accepted or refused an MQTT 3.1.1 connection (§3.2.2.3, Table 3.1), named
/// as there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReturnCode {
    /// 0: the connection is accepted.
    Accepted = 0,
    /// 1: the broker does not speak the protocol level we asked for.
    UnacceptableProtocolVersion = 1,
    /// 2: the client identifier is valid UTF-8 but not allowed by the broker.
    IdentifierRejected = 2,
    /// 3: the network connection is up but the MQTT service is not.
    ServerUnavailable = 3,
    /// 4: the user name or password is malformed.
    BadUsernameOrPassword = 4,
    /// 5: the client is not authorized to connect.
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The return code of a CONNACK byte.
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidConnectReturnCode`] for 6 to 255, reserved in 3.1.1.
    pub fn from_byte(b: u8) -> Result<Self, DecodeError> {
        Ok(match b {
            0 => Self::Accepted,
            1 => Self::UnacceptableProtocolVersion,
            2 => Self::IdentifierRejected,
            3 => Self::ServerUnavailable,
            4 => Self::BadUsernameOrPassword,
            5 => Self::NotAuthorized,
            other => return Err(DecodeError::InvalidConnectReturnCode(other)),
        })
    }

    /// The MQTT 5.0 reason code this return code became.
    pub fn reason(self) -> ReasonCode {
        match self {
            Self::Accepted => ReasonCode::Success,
            Self::UnacceptableProtocolVersion => ReasonCode::UnsupportedProtocolVersion,
            Self::IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
            Self::ServerUnavailable => ReasonCode::ServerUnavailable,
            Self::BadUsernameOrPassword => ReasonCode::BadUserNameOrPassword,
            Self::NotAuthorized => ReasonCode::NotAuthorized,
        }
    }

    /// The 3.1.1 return code for a reason code, if 3.1.1 has one.
    pub fn from_reason(reason: ReasonCode) -> Option<Self> {
        [
            Self::Accepted,
            Self::UnacceptableProtocolVersion,
            Self::IdentifierRejected,
            Self::ServerUnavailable,
            Self::BadUsernameOrPassword,
            Self::NotAuthorized,
        ]
        .into_iter()
        .find(|c| c.reason() == reason)
    }

    /// Its name in 3.1.1's Table 3.1 (§3.2.2.3): "Connection Refused, bad user name or
    /// password".
    pub fn name(self) -> &'static str {
        match self {
            Self::Accepted => "Connection Accepted",
            Self::UnacceptableProtocolVersion => {
                "Connection Refused, unacceptable protocol version"
            }
            Self::IdentifierRejected => "Connection Refused, identifier rejected",
            Self::ServerUnavailable => "Connection Refused, Server unavailable",
            Self::BadUsernameOrPassword => "Connection Refused, bad user name or password",
            Self::NotAuthorized => "Connection Refused, not authorized",
        }
    }

    /// What the refusal means, in words for the page (the text after "the broker refused the
    /// connection: ").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Accepted => "connection accepted",
            Self::UnacceptableProtocolVersion => "the broker does not speak MQTT 3.1.1",
            Self::IdentifierRejected => "the broker rejected the client id",
            Self::ServerUnavailable => "the MQTT service is unavailable",
            Self::BadUsernameOrPassword => "bad user name or password",
            Self::NotAuthorized => "not authorized (the broker refuses this client: a wrong password, a user it does not know, or anonymous clients not allowed in)",
        }
    }
}

/// The broker's answer to CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    /// The broker resumed a session it kept for this client id (so subscriptions need not be
    /// made again); always false with Clean Session / Clean Start and with a refusal (3.1.1
    /// [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]).
    pub session_present: bool,
    /// Success, or why the broker refused. In 3.1.1 only the six codes of
    /// [`ConnectReturnCode`] exist.
    pub code: ReasonCode,
    /// The broker's limits and answers (MQTT 5.0): Receive Maximum, Maximum Packet Size,
    /// Server Keep Alive, Assigned Client Identifier, Reason String …
    pub properties: Properties,
}

impl ConnAck {
    /// A CONNACK without properties.
    pub fn new(session_present: bool, code: ReasonCode) -> Self {
        ConnAck {
            session_present,
            code,
            properties: Properties::new(),
        }
    }

    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        out.push(u8::from(self.session_present));
        match version {
            ProtocolVersion::V311 => {
                v5_only(version, !self.properties.is_empty(), "properties")?;
                let code =
                    ConnectReturnCode::from_reason(self.code).ok_or(EncodeError::NeedsV5 {
                        what: "this CONNACK reason code",
                        version,
                    })?;
                out.push(code as u8);
            }
            ProtocolVersion::V5 => {
                check_reason(self.code, PacketKind::ConnAck)?;
                out.push(self.code.byte());
                self.properties
                    .write(out, PropertyPlace::Packet(PacketKind::ConnAck))?;
            }
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let ack_flags = r.u8()?;
        if ack_flags & 0xfe != 0 {
            return Err(DecodeError::InvalidConnectFlags(ack_flags));
        }
        let session_present = ack_flags & 1 == 1;
        if version == ProtocolVersion::V311 || r.remaining() == 1 {
            // A 3.1.1 broker refuses a 5.0 CONNECT with a 3.1.1 CONNACK (code 1, no property
            // length). Reading it as what it is lets the page say "Unsupported Protocol
            // Version" instead of "malformed packet".
            let code = ConnectReturnCode::from_byte(r.u8()?)?;
            if version == ProtocolVersion::V5 && code == ConnectReturnCode::Accepted {
                return Err(DecodeError::Truncated);
            }
            return Ok(ConnAck::new(session_present, code.reason()));
        }
        let code = read_reason(r, PacketKind::ConnAck)?;
        let properties = Properties::read(r, PropertyPlace::Packet(PacketKind::ConnAck))?;
        Ok(ConnAck {
            session_present,
            code,
            properties,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{decode, round_trip, round_trip_v5, V311, V5};
    use crate::packet::{Packet, Property, QoS, ALL_REASON_CODES};

    #[test]
    fn connack_round_trips_with_every_3_1_1_code() {
        for code in 0..=5 {
            let reason = ConnectReturnCode::from_byte(code).unwrap().reason();
            let bytes = round_trip(Packet::ConnAck(ConnAck::new(code == 0, reason)));
            assert_eq!(bytes, [0x20, 2, u8::from(code == 0), code]);
        }
    }

    #[test]
    fn unknown_return_code_is_an_error() {
        assert_eq!(
            decode(&[0x20, 2, 0, 6], V311),
            Err(DecodeError::InvalidConnectReturnCode(6))
        );
        assert!(matches!(
            Packet::ConnAck(ConnAck::new(false, ReasonCode::Banned)).encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }

    #[test]
    fn v5_connack_has_a_property_length_even_when_empty() {
        assert_eq!(
            round_trip_v5(Packet::ConnAck(ConnAck::new(true, ReasonCode::Success))),
            [0x20, 3, 1, 0, 0]
        );
    }

    #[test]
    fn every_v5_connack_reason_code_round_trips() {
        for code in ALL_REASON_CODES
            .into_iter()
            .filter(|c| c.allowed_in(PacketKind::ConnAck))
        {
            let mut ack = ConnAck::new(false, code);
            ack.properties
                .add(Property::ReasonString(code.describe().into()));
            let bytes = round_trip_v5(Packet::ConnAck(ack));
            assert_eq!(bytes[3], code.byte());
        }
        assert_eq!(
            decode(&[0x20, 3, 0, 0x8E, 0], V5),
            Err(DecodeError::InvalidReasonCode {
                code: 0x8E,
                kind: PacketKind::ConnAck
            })
        );
    }

    #[test]
    fn every_connack_property_round_trips() {
        let properties = Properties::new()
            .with(Property::SessionExpiryInterval(3600))
            .with(Property::ReceiveMaximum(20))
            .with(Property::MaximumQoS(QoS::AtLeastOnce))
            .with(Property::RetainAvailable(false))
            .with(Property::MaximumPacketSize(1 << 20))
            .with(Property::AssignedClientIdentifier("auto-7f3a".into()))
            .with(Property::TopicAliasMaximum(10))
            .with(Property::ReasonString("welcome".into()))
            .with_user_property("region", "eu")
            .with(Property::WildcardSubscriptionAvailable(true))
            .with(Property::SubscriptionIdentifierAvailable(false))
            .with(Property::SharedSubscriptionAvailable(true))
            .with(Property::ServerKeepAlive(20))
            .with(Property::ResponseInformation("replies/".into()))
            .with(Property::ServerReference("other:1883".into()))
            .with(Property::AuthenticationMethod("SCRAM-SHA-1".into()))
            .with(Property::AuthenticationData(vec![1, 2, 3]));
        assert_eq!(properties.len(), 17);
        round_trip_v5(Packet::ConnAck(ConnAck {
            session_present: true,
            code: ReasonCode::Success,
            properties,
        }));
    }

    #[test]
    fn a_3_1_1_refusal_of_a_v5_connect_reads_as_unsupported_protocol_version() {
        assert_eq!(
            decode(&[0x20, 2, 0, 1], V5),
            Ok(Packet::ConnAck(ConnAck::new(
                false,
                ReasonCode::UnsupportedProtocolVersion
            )))
        );
        // An "accepted" without a property length is still malformed in 5.0.
        assert_eq!(decode(&[0x20, 2, 0, 0], V5), Err(DecodeError::Truncated));
    }
}
