//! CONNACK (§3.2): the broker's answer to CONNECT.

use super::wire::Reader;
use super::DecodeError;

/// Why a broker accepted or refused a connection (§3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReturnCode {
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUsernameOrPassword = 4,
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    fn from_byte(b: u8) -> Result<Self, DecodeError> {
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

    /// What the refusal means, in words for the page.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Accepted => "connection accepted",
            Self::UnacceptableProtocolVersion => "the broker does not speak MQTT 3.1.1",
            Self::IdentifierRejected => "the broker rejected the client id",
            Self::ServerUnavailable => "the MQTT service is unavailable",
            Self::BadUsernameOrPassword => "bad user name or password",
            Self::NotAuthorized => "not authorized (does the broker allow anonymous clients?)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub code: ConnectReturnCode,
}

impl ConnAck {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.session_present));
        out.push(self.code as u8);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ack_flags = r.u8()?;
        if ack_flags & 0xfe != 0 {
            return Err(DecodeError::InvalidConnectFlags(ack_flags));
        }
        Ok(ConnAck {
            session_present: ack_flags & 1 == 1,
            code: ConnectReturnCode::from_byte(r.u8()?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{round_trip, NO_LIMIT};
    use crate::packet::Packet;

    #[test]
    fn connack_round_trips_with_every_code() {
        for code in 0..=5 {
            let ack = ConnAck {
                session_present: code == 0,
                code: ConnectReturnCode::from_byte(code).unwrap(),
            };
            let bytes = round_trip(Packet::ConnAck(ack));
            assert_eq!(bytes, [0x20, 2, u8::from(code == 0), code]);
        }
    }

    #[test]
    fn unknown_return_code_is_an_error() {
        assert_eq!(
            Packet::decode(&[0x20, 2, 0, 6], NO_LIMIT),
            Err(DecodeError::InvalidConnectReturnCode(6))
        );
    }
}
