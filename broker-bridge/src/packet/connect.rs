//! CONNECT (§3.1): the first packet a client sends. It names the protocol level, so it is the one
//! packet read the same way whatever version the reader expects.

use super::error::v5_only;
use super::property::PropertyPlace;
use super::wire::{check_len, put_binary, put_string, put_u16, Reader};
use super::{DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion, QoS};

const PROTOCOL_NAME: &str = "MQTT";

/// The message the broker publishes for a client that vanishes without DISCONNECT (§3.1.2.5;
/// in 5.0 also after DISCONNECT 0x04, Disconnect with Will Message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    /// The topic it is published to; a topic name, no wildcards.
    pub topic: String,
    /// The message body, at most 65,535 bytes.
    pub payload: Vec<u8>,
    /// The QoS it is published with.
    pub qos: QoS,
    /// Whether the broker keeps it as the topic's retained message.
    pub retain: bool,
    /// MQTT 5.0 will properties: Will Delay Interval, Message Expiry Interval, Content Type,
    /// Response Topic, Correlation Data, Payload Format Indicator, User Property.
    pub properties: Properties,
}

impl LastWill {
    /// A will that is not retained and has no properties.
    pub fn new(topic: impl Into<String>, payload: impl Into<Vec<u8>>, qos: QoS) -> Self {
        LastWill {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain: false,
            properties: Properties::new(),
        }
    }
}

/// The first packet of every connection: who we are, how long we may stay silent, what to
/// publish if we vanish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol level this CONNECT announces and is encoded in.
    pub protocol: ProtocolVersion,
    /// The client identifier, at most 65,535 bytes. Brokers must accept 1 to 23 letters and
    /// digits (3.1.1 [MQTT-3.1.3-5]); empty asks the broker to choose (in 3.1.1 only with Clean
    /// Session).
    pub client_id: String,
    /// Seconds; 0 turns keepalive off.
    pub keep_alive: u16,
    /// Clean Session in 3.1.1, Clean Start in 5.0.
    pub clean_session: bool,
    /// The Last Will, if any.
    pub will: Option<LastWill>,
    /// The user name, if any.
    pub username: Option<String>,
    /// The password, if any: binary, at most 65,535 bytes. In 3.1.1 only with a user name
    /// ([MQTT-3.1.2-22]).
    pub password: Option<Vec<u8>>,
    /// MQTT 5.0: Session Expiry Interval, Receive Maximum, Maximum Packet Size, Topic Alias
    /// Maximum, User Property …
    pub properties: Properties,
}

impl Connect {
    /// A clean-session CONNECT without will or credentials.
    pub fn new(protocol: ProtocolVersion, client_id: impl Into<String>, keep_alive: u16) -> Self {
        Connect {
            protocol,
            client_id: client_id.into(),
            keep_alive,
            clean_session: true,
            will: None,
            username: None,
            password: None,
            properties: Properties::new(),
        }
    }

    /// The same CONNECT with its User Name and Password each replaced by as many `*` as it had
    /// bytes: what a trace, a log or a recording may keep. The packet keeps its size and still
    /// encodes and decodes, so an inspector can say "hidden, 8 bytes" without ever holding the
    /// secret. Without credentials, the CONNECT unchanged.
    ///
    /// ```
    /// use broker_bridge::packet::Connect;
    /// use broker_bridge::ProtocolVersion;
    ///
    /// let mut connect = Connect::new(ProtocolVersion::V311, "eda-1-payment", 30);
    /// connect.username = Some("PaymentService".into());
    /// connect.password = Some(b"s3cret".to_vec());
    /// let hidden = connect.redacted();
    /// assert_eq!(hidden.username.as_deref(), Some("**************"));
    /// assert_eq!(hidden.password.as_deref(), Some(&b"******"[..]));
    /// ```
    pub fn redacted(&self) -> Connect {
        let mut hidden = self.clone();
        hidden.username = self.username.as_ref().map(|u| "*".repeat(u.len()));
        hidden.password = self.password.as_ref().map(|p| vec![b'*'; p.len()]);
        hidden
    }

    /// Whether the CONNECT carries a User Name or a Password.
    pub fn has_credentials(&self) -> bool {
        self.username.is_some() || self.password.is_some()
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let version = self.protocol;
        let v5 = version == ProtocolVersion::V5;
        check_len("client id", self.client_id.len())?;
        v5_only(version, !self.properties.is_empty(), "properties")?;
        let mut flags = 0u8;
        if self.clean_session {
            flags |= 0b0000_0010;
        }
        if let Some(will) = &self.will {
            check_len("will topic", will.topic.len())?;
            check_len("will payload", will.payload.len())?;
            v5_only(version, !will.properties.is_empty(), "will properties")?;
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
            v5_only(
                version,
                self.username.is_none(),
                "a password without a username",
            )?;
            flags |= 0b0100_0000;
        }
        put_string(out, PROTOCOL_NAME);
        out.push(version.level());
        out.push(flags);
        put_u16(out, self.keep_alive);
        if v5 {
            self.properties
                .write(out, PropertyPlace::Packet(PacketKind::Connect))?;
        }
        put_string(out, &self.client_id);
        if let Some(will) = &self.will {
            if v5 {
                will.properties.write(out, PropertyPlace::Will)?;
            }
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
        let protocol = match ProtocolVersion::from_level(level) {
            Some(protocol) if name == PROTOCOL_NAME => protocol,
            _ => return Err(DecodeError::UnsupportedProtocol { name, level }),
        };
        let v5 = protocol == ProtocolVersion::V5;
        let flags = r.u8()?;
        let has_will = flags & 0b0000_0100 != 0;
        let will_qos = QoS::from_bits((flags >> 3) & 0b11)?;
        let will_retain = flags & 0b0010_0000 != 0;
        let has_password = flags & 0b0100_0000 != 0;
        let has_username = flags & 0b1000_0000 != 0;
        let reserved = flags & 1 != 0;
        // §3.1.2.4-6: without a will its QoS and retain must be zero. In 3.1.1 a password needs
        // a username; 5.0 lifted that rule.
        if reserved
            || (!has_will && (will_qos != QoS::AtMostOnce || will_retain))
            || (!v5 && has_password && !has_username)
        {
            return Err(DecodeError::InvalidConnectFlags(flags));
        }
        let keep_alive = r.u16()?;
        let properties = if v5 {
            Properties::read(r, PropertyPlace::Packet(PacketKind::Connect))?
        } else {
            Properties::new()
        };
        let client_id = r.string()?;
        let will = if has_will {
            let properties = if v5 {
                Properties::read(r, PropertyPlace::Will)?
            } else {
                Properties::new()
            };
            Some(LastWill {
                topic: r.string()?,
                payload: r.binary()?.to_vec(),
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };
        let username = has_username.then(|| r.string()).transpose()?;
        let password = has_password
            .then(|| r.binary().map(<[u8]>::to_vec))
            .transpose()?;
        Ok(Connect {
            protocol,
            client_id,
            keep_alive,
            clean_session: flags & 0b0000_0010 != 0,
            will,
            username,
            password,
            properties,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{decode, round_trip, round_trip_v5, V311, V5};
    use crate::packet::{Packet, Property};

    fn minimal(protocol: ProtocolVersion) -> Connect {
        Connect::new(protocol, "eda-1a2b3c-payment", 30)
    }

    #[test]
    fn minimal_connect_has_the_spec_layout() {
        let bytes = round_trip(Packet::Connect(minimal(V311)));
        // Fixed header, then "MQTT", level 4, flags (clean session), keepalive 30.
        assert_eq!(
            &bytes[..12],
            &[0x10, 30, 0, 4, b'M', b'Q', b'T', b'T', 4, 0b10, 0, 30]
        );
        assert_eq!(&bytes[12..14], &[0, 18]);
    }

    #[test]
    fn minimal_v5_connect_adds_level_5_and_an_empty_property_list() {
        let bytes = round_trip_v5(Packet::Connect(minimal(V5)));
        assert_eq!(
            &bytes[..13],
            &[0x10, 31, 0, 4, b'M', b'Q', b'T', b'T', 5, 0b10, 0, 30, 0]
        );
        // CONNECT is read at its own level whatever the reader expects.
        assert_eq!(decode(&bytes, V311), Ok(Packet::Connect(minimal(V5))));
    }

    fn everything(protocol: ProtocolVersion) -> Connect {
        Connect {
            will: Some(LastWill {
                retain: true,
                ..LastWill::new(
                    "services/payment/status",
                    b"offline".to_vec(),
                    QoS::AtLeastOnce,
                )
            }),
            username: Some("learner".into()),
            password: Some(vec![0, 1, 2, 255]),
            clean_session: false,
            ..minimal(protocol)
        }
    }

    #[test]
    fn connect_with_everything_round_trips() {
        round_trip(Packet::Connect(everything(V311)));
    }

    #[test]
    fn v5_connect_with_every_connect_and_will_property_round_trips() {
        let mut connect = everything(V5);
        connect.properties = Properties::new()
            .with(Property::SessionExpiryInterval(3600))
            .with(Property::ReceiveMaximum(10))
            .with(Property::MaximumPacketSize(262_144))
            .with(Property::TopicAliasMaximum(0))
            .with(Property::RequestResponseInformation(true))
            .with(Property::RequestProblemInformation(false))
            .with_user_property("app", "eda")
            .with_user_property("app", "playground")
            .with(Property::AuthenticationMethod("PLAIN".into()))
            .with(Property::AuthenticationData(b"token".to_vec()));
        if let Some(will) = &mut connect.will {
            will.properties = Properties::new()
                .with(Property::WillDelayInterval(5))
                .with(Property::PayloadFormatIndicator(true))
                .with(Property::MessageExpiryInterval(60))
                .with(Property::ContentType("text/plain".into()))
                .with(Property::ResponseTopic("services/payment/ack".into()))
                .with(Property::CorrelationData(vec![7; 16]))
                .with_user_property("reason", "crash");
        }
        round_trip_v5(Packet::Connect(connect));
    }

    #[test]
    fn v5_allows_a_password_without_a_username() {
        round_trip_v5(Packet::Connect(Connect {
            password: Some(b"token".to_vec()),
            ..minimal(V5)
        }));
        assert!(matches!(
            Packet::Connect(Connect {
                password: Some(b"token".to_vec()),
                ..minimal(V311)
            })
            .encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }

    #[test]
    fn will_properties_are_checked_against_the_will_table() {
        let mut connect = everything(V5);
        if let Some(will) = &mut connect.will {
            will.properties.add(Property::SessionExpiryInterval(1));
        }
        assert_eq!(
            Packet::Connect(connect).encode(V5),
            Err(EncodeError::PropertyNotAllowed {
                property: crate::packet::PropertyId::SessionExpiryInterval,
                place: PropertyPlace::Will
            })
        );
    }

    #[test]
    fn other_protocols_and_bad_flags_are_refused() {
        let mut bytes = Packet::Connect(minimal(V311)).encode(V311).unwrap();
        bytes[8] = 3; // protocol level 3 (MQTT 3.1)
        assert!(matches!(
            decode(&bytes, V5),
            Err(DecodeError::UnsupportedProtocol { level: 3, .. })
        ));
        let mut bytes = Packet::Connect(minimal(V311)).encode(V311).unwrap();
        bytes[9] |= 0b0100_0000; // password without username
        assert!(matches!(
            decode(&bytes, V311),
            Err(DecodeError::InvalidConnectFlags(_))
        ));
        // Properties in a 3.1.1 CONNECT cannot be encoded.
        let mut connect = minimal(V311);
        connect.properties.add(Property::SessionExpiryInterval(1));
        assert!(matches!(
            Packet::Connect(connect).encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }
}
