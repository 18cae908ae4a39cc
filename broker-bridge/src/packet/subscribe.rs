//! SUBSCRIBE and SUBACK (§3.8, §3.9). MQTT 5.0 adds properties to both, and turns the byte after
//! each filter from a QoS into subscription options (QoS, No Local, Retain As Published, Retain
//! Handling).

use super::error::v5_only;
use super::property::PropertyPlace;
use super::wire::{check_len, put_string, put_u16, Reader};
use super::{read_packet_id, DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion};
use super::{QoS, ReasonCode};

/// When the broker sends retained messages for a new subscription (MQTT 5.0 §3.8.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RetainHandling {
    /// At every SUBSCRIBE (what 3.1.1 always does).
    #[default]
    SendAtSubscribe = 0,
    /// Only if the subscription did not exist yet.
    SendAtSubscribeIfNew = 1,
    /// Never: the subscription receives only messages published after it.
    DoNotSend = 2,
}

/// What a subscription asks for. Only `qos` exists in MQTT 3.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionOptions {
    /// The highest QoS the broker may deliver with.
    pub qos: QoS,
    /// Do not receive our own publishes on this subscription.
    pub no_local: bool,
    /// Keep the RETAIN flag of forwarded messages as it was published.
    pub retain_as_published: bool,
    /// When retained messages are sent for this subscription.
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    /// `qos` with the other options as MQTT 3.1.1 behaves (all off, retained messages at every
    /// SUBSCRIBE); `From<QoS>` does the same.
    pub fn new(qos: QoS) -> Self {
        SubscriptionOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
        }
    }

    fn byte(self) -> u8 {
        self.qos.level()
            | (u8::from(self.no_local) << 2)
            | (u8::from(self.retain_as_published) << 3)
            | ((self.retain_handling as u8) << 4)
    }

    fn from_byte(byte: u8) -> Result<Self, DecodeError> {
        let retain_handling = match (byte >> 4) & 0b11 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::InvalidSubscriptionOptions(byte)),
        };
        if byte & 0b1100_0000 != 0 {
            return Err(DecodeError::InvalidSubscriptionOptions(byte));
        }
        Ok(SubscriptionOptions {
            qos: QoS::from_bits(byte & 0b11)?,
            no_local: byte & 0b0100 != 0,
            retain_as_published: byte & 0b1000 != 0,
            retain_handling,
        })
    }
}

impl From<QoS> for SubscriptionOptions {
    fn from(qos: QoS) -> Self {
        SubscriptionOptions::new(qos)
    }
}

/// A SUBSCRIBE: one or more filters with their options, under one packet identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Non-zero; the SUBACK carries it back.
    pub packet_id: u16,
    /// Topic filters with the options asked for each.
    pub filters: Vec<(String, SubscriptionOptions)>,
    /// MQTT 5.0: Subscription Identifier (at most one), User Property.
    pub properties: Properties,
}

impl Subscribe {
    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        v5_only(version, !self.properties.is_empty(), "properties")?;
        if self.filters.is_empty() {
            return Err(EncodeError::EmptyTopicList(PacketKind::Subscribe));
        }
        put_u16(out, self.packet_id);
        if version == ProtocolVersion::V5 {
            self.properties
                .write(out, PropertyPlace::Packet(PacketKind::Subscribe))?;
        }
        for (filter, options) in &self.filters {
            check_len("topic filter", filter.len())?;
            v5_only(
                version,
                *options != SubscriptionOptions::new(options.qos),
                "No Local, Retain As Published and Retain Handling",
            )?;
            put_string(out, filter);
            out.push(options.byte());
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let properties = match version {
            ProtocolVersion::V5 => {
                Properties::read(r, PropertyPlace::Packet(PacketKind::Subscribe))?
            }
            ProtocolVersion::V311 => Properties::new(),
        };
        let mut filters = Vec::new();
        while r.remaining() > 0 {
            let filter = r.string()?;
            let byte = r.u8()?;
            let options = match version {
                ProtocolVersion::V5 => SubscriptionOptions::from_byte(byte)?,
                ProtocolVersion::V311 if byte & 0xfc != 0 => {
                    return Err(DecodeError::InvalidQoS(byte))
                }
                ProtocolVersion::V311 => SubscriptionOptions::new(QoS::from_bits(byte)?),
            };
            filters.push((filter, options));
        }
        if filters.is_empty() {
            return Err(DecodeError::EmptyTopicList(PacketKind::Subscribe));
        }
        Ok(Subscribe {
            packet_id,
            filters,
            properties,
        })
    }
}

/// The broker's answer for one filter: the QoS it granted, or a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeReturnCode {
    /// Accepted, at this maximum QoS (which may be lower than asked for).
    Granted(QoS),
    /// 0x80: MQTT 3.1.1's only refusal, and MQTT 5.0's "Unspecified error".
    Failure,
    /// An MQTT 5.0 refusal with a more precise reason (e.g. 0x87 Not authorized, 0x97 Quota
    /// exceeded). Never holds 0x80: that is [`SubscribeReturnCode::Failure`].
    Refused(ReasonCode),
}

impl SubscribeReturnCode {
    /// The return code for a SUBACK reason code; `None` for a code SUBACK may not carry.
    pub fn from_reason(code: ReasonCode) -> Option<Self> {
        if !code.allowed_in(PacketKind::SubAck) {
            return None;
        }
        Some(match code {
            ReasonCode::Success => Self::Granted(QoS::AtMostOnce),
            ReasonCode::GrantedQoS1 => Self::Granted(QoS::AtLeastOnce),
            ReasonCode::GrantedQoS2 => Self::Granted(QoS::ExactlyOnce),
            ReasonCode::UnspecifiedError => Self::Failure,
            refusal => Self::Refused(refusal),
        })
    }

    /// The reason code on the wire.
    pub fn reason(self) -> ReasonCode {
        match self {
            Self::Granted(QoS::AtMostOnce) => ReasonCode::Success,
            Self::Granted(QoS::AtLeastOnce) => ReasonCode::GrantedQoS1,
            Self::Granted(QoS::ExactlyOnce) => ReasonCode::GrantedQoS2,
            Self::Failure => ReasonCode::UnspecifiedError,
            Self::Refused(code) => code,
        }
    }

    /// Whether the broker refused the subscription, for any reason. Prefer this to comparing
    /// with [`SubscribeReturnCode::Failure`], which misses MQTT 5.0's precise refusals.
    pub fn is_failure(self) -> bool {
        !matches!(self, Self::Granted(_))
    }

    /// "Granted QoS 1", "Not authorized (0x87)"… (MQTT 5.0's names, §3.9.3).
    pub fn describe(self) -> String {
        match self {
            Self::Granted(_) => self.reason().name_in(PacketKind::SubAck).to_owned(),
            _ => self.reason().to_string(),
        }
    }

    /// [`SubscribeReturnCode::describe`] as `version` names it: 3.1.1's "Success - Maximum QoS
    /// 1" and "Failure (0x80)" (§3.9.3 of 3.1.1), 5.0's "Granted QoS 1" and "Unspecified error
    /// (0x80)".
    pub fn describe_in(self, version: ProtocolVersion) -> String {
        match (version, self) {
            (ProtocolVersion::V5, _) => self.describe(),
            (_, Self::Granted(qos)) => format!("Success - Maximum QoS {}", qos.level()),
            (_, _) => format!("Failure (0x{:02X})", self.reason().byte()),
        }
    }
}

/// The broker's answer to a SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: u16,
    /// One per filter of the SUBSCRIBE, in the same order ([MQTT-3.9.3-1]).
    pub return_codes: Vec<SubscribeReturnCode>,
    /// MQTT 5.0: Reason String, User Property.
    pub properties: Properties,
}

impl SubAck {
    /// A SUBACK without properties.
    pub fn new(packet_id: u16, return_codes: Vec<SubscribeReturnCode>) -> Self {
        SubAck {
            packet_id,
            return_codes,
            properties: Properties::new(),
        }
    }

    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        v5_only(version, !self.properties.is_empty(), "properties")?;
        if self.return_codes.is_empty() {
            return Err(EncodeError::EmptyTopicList(PacketKind::SubAck));
        }
        put_u16(out, self.packet_id);
        if version == ProtocolVersion::V5 {
            self.properties
                .write(out, PropertyPlace::Packet(PacketKind::SubAck))?;
        }
        for code in &self.return_codes {
            let reason = code.reason();
            v5_only(
                version,
                matches!(code, SubscribeReturnCode::Refused(_)),
                "a SUBACK reason code other than 0x80",
            )?;
            super::reason::check_reason(reason, PacketKind::SubAck)?;
            out.push(reason.byte());
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let properties = match version {
            ProtocolVersion::V5 => Properties::read(r, PropertyPlace::Packet(PacketKind::SubAck))?,
            ProtocolVersion::V311 => Properties::new(),
        };
        let mut return_codes = Vec::new();
        while r.remaining() > 0 {
            let byte = r.u8()?;
            let code = match version {
                ProtocolVersion::V311 if !matches!(byte, 0..=2 | 0x80) => None,
                _ => ReasonCode::from_byte(byte).and_then(SubscribeReturnCode::from_reason),
            };
            return_codes.push(code.ok_or(DecodeError::InvalidSubscribeReturnCode(byte))?);
        }
        if return_codes.is_empty() {
            return Err(DecodeError::EmptyTopicList(PacketKind::SubAck));
        }
        Ok(SubAck {
            packet_id,
            return_codes,
            properties,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{decode, round_trip, round_trip_v5, V311, V5};
    use crate::packet::{Packet, Property, ALL_REASON_CODES};

    fn filters(list: &[(&str, QoS)]) -> Vec<(String, SubscriptionOptions)> {
        list.iter()
            .map(|(f, q)| ((*f).to_owned(), SubscriptionOptions::new(*q)))
            .collect()
    }

    #[test]
    fn subscribe_with_several_filters_round_trips() {
        let bytes = round_trip(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: filters(&[
                ("orders/created", QoS::AtLeastOnce),
                ("payments/+", QoS::AtMostOnce),
                ("inventory/#", QoS::ExactlyOnce),
            ]),
            properties: Properties::new(),
        }));
        assert_eq!(bytes[0], 0x82);
    }

    #[test]
    fn v5_subscription_options_and_properties_round_trip() {
        let every_option = SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
        };
        let bytes = round_trip_v5(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![
                ("orders/created".into(), every_option),
                (
                    "$share/workers/payments/#".into(),
                    SubscriptionOptions {
                        retain_handling: RetainHandling::SendAtSubscribeIfNew,
                        ..QoS::AtLeastOnce.into()
                    },
                ),
            ],
            properties: Properties::new()
                .with(Property::SubscriptionIdentifier(42))
                .with_user_property("who", "inventory"),
        }));
        // Options byte of the first filter: QoS 2 | No Local | RAP | Retain Handling 2.
        assert_eq!(bytes[bytes.len() - 29], 0b0010_1110);
        assert_eq!(*bytes.last().unwrap(), 0b0001_0001);
    }

    #[test]
    fn v5_options_are_refused_in_3_1_1_and_reserved_bits_in_5_0() {
        let mut sub = Subscribe {
            packet_id: 1,
            filters: filters(&[("a", QoS::AtMostOnce)]),
            properties: Properties::new(),
        };
        sub.filters[0].1.no_local = true;
        assert!(matches!(
            Packet::Subscribe(sub).encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
        for bad in [0b0011_0000u8, 0b0100_0000, 0b1000_0001] {
            assert_eq!(
                decode(&[0x82, 7, 0, 1, 0, 0, 1, b'a', bad], V5),
                Err(DecodeError::InvalidSubscriptionOptions(bad))
            );
        }
        // In 3.1.1 the same bits are a bad QoS byte.
        assert_eq!(
            decode(&[0x82, 6, 0, 1, 0, 1, b'a', 0b0100], V311),
            Err(DecodeError::InvalidQoS(0b0100))
        );
    }

    #[test]
    fn suback_round_trips_with_grants_and_refusals() {
        let bytes = round_trip(Packet::SubAck(SubAck::new(
            1,
            vec![
                SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                SubscribeReturnCode::Failure,
            ],
        )));
        assert_eq!(bytes, [0x90, 4, 0, 1, 1, 0x80]);
    }

    #[test]
    fn every_v5_suback_reason_code_round_trips_with_its_name() {
        let codes: Vec<_> = ALL_REASON_CODES
            .into_iter()
            .filter(|c| c.allowed_in(PacketKind::SubAck))
            .map(|c| SubscribeReturnCode::from_reason(c).unwrap())
            .collect();
        assert_eq!(codes.len(), 12);
        let mut ack = SubAck::new(7, codes.clone());
        ack.properties
            .add(Property::ReasonString("quota for guests is 2".into()));
        round_trip_v5(Packet::SubAck(ack));
        assert_eq!(codes[0].describe(), "Granted QoS 0");
        assert!(!codes[2].is_failure());
        assert_eq!(codes[3], SubscribeReturnCode::Failure);
        assert!(codes[3..].iter().all(|c| c.is_failure()));
        assert_eq!(
            SubscribeReturnCode::from_reason(ReasonCode::SharedSubscriptionsNotSupported)
                .unwrap()
                .describe(),
            "Shared Subscriptions not supported (0x9E)"
        );
    }

    #[test]
    fn empty_lists_and_bad_codes_are_errors() {
        assert_eq!(
            decode(&[0x82, 2, 0, 1], V311),
            Err(DecodeError::EmptyTopicList(PacketKind::Subscribe))
        );
        assert_eq!(
            decode(&[0x90, 3, 0, 1, 3], V311),
            Err(DecodeError::InvalidSubscribeReturnCode(3))
        );
        // 0x87 is a 5.0 code only.
        assert_eq!(
            decode(&[0x90, 3, 0, 1, 0x87], V311),
            Err(DecodeError::InvalidSubscribeReturnCode(0x87))
        );
        assert_eq!(
            decode(&[0x90, 4, 0, 1, 0, 0x8E], V5),
            Err(DecodeError::InvalidSubscribeReturnCode(0x8E))
        );
        assert_eq!(
            decode(&[0x90, 3, 0, 1, 0], V5),
            Err(DecodeError::EmptyTopicList(PacketKind::SubAck))
        );
        assert!(matches!(
            Packet::SubAck(SubAck::new(
                1,
                vec![SubscribeReturnCode::Refused(ReasonCode::QuotaExceeded)]
            ))
            .encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }
}
