//! CONNECT (§3.1): the first packet a client sends.

use super::wire::{check_len, put_binary, put_string, put_u16, Reader};
use super::{DecodeError, EncodeError, QoS};

const PROTOCOL_NAME: &str = "MQTT";
const PROTOCOL_LEVEL_3_1_1: u8 = 4;

/// The message the broker publishes for a client that vanishes without DISCONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    pub client_id: String,
    /// Seconds; 0 turns keepalive off.
    pub keep_alive: u16,
    pub clean_session: bool,
    pub will: Option<LastWill>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
}

impl Connect {
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        check_len("client id", self.client_id.len())?;
        let mut flags = 0u8;
        if self.clean_session {
            flags |= 0b0000_0010;
        }
        if let Some(will) = &self.will {
            check_len("will topic", will.topic.len())?;
            check_len("will payload", will.payload.len())?;
            flags |= 0b0000_0100 | (will.qos.level() << 3);
            if will.retain {
                flags |= 0b0010_0000;
            }
        }
        if let Some(user) = &self.username {
            check_len("username", user.len())?;
            flags |= 0b1000_0000;
        }
        if let Some(pass) = &self.password {
            check_len("password", pass.len())?;
            flags |= 0b0100_0000;
        }
        put_string(out, PROTOCOL_NAME);
        out.push(PROTOCOL_LEVEL_3_1_1);
        out.push(flags);
        put_u16(out, self.keep_alive);
        put_string(out, &self.client_id);
        if let Some(will) = &self.will {
            put_string(out, &will.topic);
            put_binary(out, &will.payload);
        }
        if let Some(user) = &self.username {
            put_string(out, user);
        }
        if let Some(pass) = &self.password {
            put_binary(out, pass);
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name = r.string()?;
        let level = r.u8()?;
        if name != PROTOCOL_NAME || level != PROTOCOL_LEVEL_3_1_1 {
            return Err(DecodeError::UnsupportedProtocol { name, level });
        }
        let flags = r.u8()?;
        let has_will = flags & 0b0000_0100 != 0;
        let will_qos = QoS::from_bits((flags >> 3) & 0b11)?;
        let will_retain = flags & 0b0010_0000 != 0;
        let has_password = flags & 0b0100_0000 != 0;
        let has_username = flags & 0b1000_0000 != 0;
        let reserved = flags & 1 != 0;
        // §3.1.2.4-6: without a will its QoS and retain must be zero; a password needs a username.
        if reserved
            || (!has_will && (will_qos != QoS::AtMostOnce || will_retain))
            || (has_password && !has_username)
        {
            return Err(DecodeError::InvalidConnectFlags(flags));
        }
        let keep_alive = r.u16()?;
        let client_id = r.string()?;
        let will = if has_will {
            Some(LastWill {
                topic: r.string()?,
                payload: r.binary()?.to_vec(),
                qos: will_qos,
                retain: will_retain,
            })
        } else {
            None
        };
        let username = has_username.then(|| r.string()).transpose()?;
        let password = has_password
            .then(|| r.binary().map(<[u8]>::to_vec))
            .transpose()?;
        Ok(Connect {
            client_id,
            keep_alive,
            clean_session: flags & 0b0000_0010 != 0,
            will,
            username,
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{round_trip, NO_LIMIT};
    use crate::packet::Packet;

    fn minimal() -> Connect {
        Connect {
            client_id: "eda-1a2b3c-payment".into(),
            keep_alive: 30,
            clean_session: true,
            will: None,
            username: None,
            password: None,
        }
    }

    #[test]
    fn minimal_connect_has_the_spec_layout() {
        let bytes = round_trip(Packet::Connect(minimal()));
        // Fixed header, then "MQTT", level 4, flags (clean session), keepalive 30.
        assert_eq!(
            &bytes[..12],
            &[0x10, 30, 0, 4, b'M', b'Q', b'T', b'T', 4, 0b10, 0, 30]
        );
        assert_eq!(&bytes[12..14], &[0, 18]);
    }

    #[test]
    fn connect_with_everything_round_trips() {
        round_trip(Packet::Connect(Connect {
            will: Some(LastWill {
                topic: "services/payment/status".into(),
                payload: b"offline".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
            }),
            username: Some("learner".into()),
            password: Some(vec![0, 1, 2, 255]),
            clean_session: false,
            ..minimal()
        }));
    }

    #[test]
    fn other_protocols_and_bad_flags_are_refused() {
        let mut bytes = Packet::Connect(minimal()).encode().unwrap();
        bytes[8] = 3; // protocol level 3 (MQTT 3.1)
        assert!(matches!(
            Packet::decode(&bytes, NO_LIMIT),
            Err(DecodeError::UnsupportedProtocol { level: 3, .. })
        ));
        let mut bytes = Packet::Connect(minimal()).encode().unwrap();
        bytes[9] |= 0b0100_0000; // password without username
        assert!(matches!(
            Packet::decode(&bytes, NO_LIMIT),
            Err(DecodeError::InvalidConnectFlags(_))
        ));
    }
}
