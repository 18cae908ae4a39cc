//! UNSUBSCRIBE and UNSUBACK (§3.10, §3.11). In MQTT 3.1.1 UNSUBACK is a packet identifier alone;
//! MQTT 5.0 adds properties to both and one reason code per filter to UNSUBACK.

use super::error::v5_only;
use super::property::PropertyPlace;
use super::reason::{check_reason, read_reason};
use super::wire::{check_len, put_string, put_u16, Reader};
use super::ReasonCode;
use super::{read_packet_id, DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion};

/// An UNSUBSCRIBE: filters to stop, under one packet identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Non-zero; the UNSUBACK carries it back.
    pub packet_id: u16,
    /// The filters to stop, exactly as they were subscribed; at least one.
    pub filters: Vec<String>,
    /// MQTT 5.0: User Property.
    pub properties: Properties,
}

impl Unsubscribe {
    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        v5_only(version, !self.properties.is_empty(), "properties")?;
        if self.filters.is_empty() {
            return Err(EncodeError::EmptyTopicList(PacketKind::Unsubscribe));
        }
        put_u16(out, self.packet_id);
        if version == ProtocolVersion::V5 {
            self.properties
                .write(out, PropertyPlace::Packet(PacketKind::Unsubscribe))?;
        }
        for filter in &self.filters {
            check_len("topic filter", filter.len())?;
            put_string(out, filter);
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let properties = match version {
            ProtocolVersion::V5 => {
                Properties::read(r, PropertyPlace::Packet(PacketKind::Unsubscribe))?
            }
            ProtocolVersion::V311 => Properties::new(),
        };
        let mut filters = Vec::new();
        while r.remaining() > 0 {
            filters.push(r.string()?);
        }
        if filters.is_empty() {
            return Err(DecodeError::EmptyTopicList(PacketKind::Unsubscribe));
        }
        Ok(Unsubscribe {
            packet_id,
            filters,
            properties,
        })
    }
}

/// The broker's answer to an UNSUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// The UNSUBSCRIBE's packet identifier.
    pub packet_id: u16,
    /// One per filter of the UNSUBSCRIBE, in order (MQTT 5.0); empty in 3.1.1.
    pub reasons: Vec<ReasonCode>,
    /// MQTT 5.0: Reason String, User Property.
    pub properties: Properties,
}

impl UnsubAck {
    /// The 3.1.1 UNSUBACK: an identifier alone.
    pub fn new(packet_id: u16) -> Self {
        UnsubAck {
            packet_id,
            reasons: Vec::new(),
            properties: Properties::new(),
        }
    }

    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        v5_only(version, !self.properties.is_empty(), "properties")?;
        v5_only(version, !self.reasons.is_empty(), "UNSUBACK reason codes")?;
        if version == ProtocolVersion::V5 && self.reasons.is_empty() {
            return Err(EncodeError::EmptyTopicList(PacketKind::UnsubAck));
        }
        put_u16(out, self.packet_id);
        if version == ProtocolVersion::V5 {
            self.properties
                .write(out, PropertyPlace::Packet(PacketKind::UnsubAck))?;
        }
        for reason in &self.reasons {
            check_reason(*reason, PacketKind::UnsubAck)?;
            out.push(reason.byte());
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut ack = UnsubAck::new(read_packet_id(r)?);
        if version == ProtocolVersion::V5 {
            ack.properties = Properties::read(r, PropertyPlace::Packet(PacketKind::UnsubAck))?;
            while r.remaining() > 0 {
                ack.reasons.push(read_reason(r, PacketKind::UnsubAck)?);
            }
            if ack.reasons.is_empty() {
                return Err(DecodeError::EmptyTopicList(PacketKind::UnsubAck));
            }
        }
        Ok(ack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{decode, round_trip, round_trip_v5, V311, V5};
    use crate::packet::{Packet, Property, ALL_REASON_CODES};

    fn unsubscribe() -> Unsubscribe {
        Unsubscribe {
            packet_id: 42,
            filters: vec!["orders/created".into(), "payments/#".into()],
            properties: Properties::new(),
        }
    }

    #[test]
    fn unsubscribe_round_trips() {
        let bytes = round_trip(Packet::Unsubscribe(unsubscribe()));
        assert_eq!(bytes[0], 0xa2);
        let mut v5 = unsubscribe();
        v5.properties = Properties::new().with_user_property("why", "shutdown");
        round_trip_v5(Packet::Unsubscribe(v5));
    }

    #[test]
    fn unsuback_is_an_identifier_in_3_1_1() {
        assert_eq!(
            round_trip(Packet::UnsubAck(UnsubAck::new(9))),
            [0xb0, 2, 0, 9]
        );
        assert!(matches!(
            Packet::UnsubAck(UnsubAck {
                reasons: vec![ReasonCode::Success],
                ..UnsubAck::new(9)
            })
            .encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }

    #[test]
    fn v5_unsuback_carries_one_reason_per_filter() {
        let reasons: Vec<_> = ALL_REASON_CODES
            .into_iter()
            .filter(|c| c.allowed_in(PacketKind::UnsubAck))
            .collect();
        assert_eq!(reasons.len(), 7);
        let bytes = round_trip_v5(Packet::UnsubAck(UnsubAck {
            packet_id: 9,
            reasons: reasons.clone(),
            properties: Properties::new().with(Property::ReasonString("done".into())),
        }));
        assert_eq!(
            bytes[bytes.len() - 7..],
            [0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91]
        );
        assert_eq!(
            round_trip_v5(Packet::UnsubAck(UnsubAck {
                reasons: vec![ReasonCode::NoSubscriptionExisted],
                ..UnsubAck::new(9)
            })),
            [0xb0, 4, 0, 9, 0, 0x11]
        );
    }

    #[test]
    fn malformed_unsubacks_are_errors() {
        // No reason codes in 5.0.
        assert_eq!(
            decode(&[0xb0, 3, 0, 9, 0], V5),
            Err(DecodeError::EmptyTopicList(PacketKind::UnsubAck))
        );
        // Quota exceeded is not an UNSUBACK code.
        assert_eq!(
            decode(&[0xb0, 4, 0, 9, 0, 0x97], V5),
            Err(DecodeError::InvalidReasonCode {
                code: 0x97,
                kind: PacketKind::UnsubAck
            })
        );
        // 3.1.1 has nothing after the identifier.
        assert_eq!(
            decode(&[0xb0, 3, 0, 9, 0], V311),
            Err(DecodeError::TrailingBytes(1))
        );
        assert_eq!(
            decode(&[0xa2, 3, 0, 9, 0], V5),
            Err(DecodeError::EmptyTopicList(PacketKind::Unsubscribe))
        );
    }
}
