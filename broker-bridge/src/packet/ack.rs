//! PUBACK, PUBREC, PUBREL and PUBCOMP (§3.4–3.7): a packet identifier, and in MQTT 5.0 a reason
//! code and properties. MQTT 5.0 keeps the 3.1.1 layout for the common case: with reason Success
//! and no properties the packet is the identifier alone (remaining length 2), and with no
//! properties the property length is left out (remaining length 3).

use super::error::v5_only;
use super::property::PropertyPlace;
use super::reason::{check_reason, read_reason};
use super::wire::{put_u16, Reader};
use super::{read_packet_id, DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion};
use super::{ReasonCode, ReasonCode::Success};

/// The acknowledgement of one QoS 1 or 2 message, at one step of its handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The identifier of the PUBLISH acknowledged (3.1.1 [MQTT-2.3.1-6], 5.0
    /// [MQTT-2.2.1-5]); never 0.
    pub packet_id: u16,
    /// Always Success in MQTT 3.1.1. In 5.0 a PUBACK or PUBREC of 0x80 or more refuses the
    /// message; PUBREL and PUBCOMP carry Success or 0x92 Packet Identifier not found.
    pub reason: ReasonCode,
    /// MQTT 5.0 only: Reason String, User Property.
    pub properties: Properties,
}

impl Ack {
    /// A successful acknowledgement without properties: what MQTT 3.1.1 sends.
    pub fn new(packet_id: u16) -> Self {
        Self::with_reason(packet_id, Success)
    }

    /// An acknowledgement with a reason code (MQTT 5.0 unless `reason` is Success) and no
    /// properties.
    pub fn with_reason(packet_id: u16, reason: ReasonCode) -> Self {
        Ack {
            packet_id,
            reason,
            properties: Properties::new(),
        }
    }

    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        kind: PacketKind,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        v5_only(version, self.reason != Success, "a reason code")?;
        v5_only(version, !self.properties.is_empty(), "properties")?;
        check_reason(self.reason, kind)?;
        put_u16(out, self.packet_id);
        if self.properties.is_empty() {
            if self.reason != Success {
                out.push(self.reason.byte());
            }
        } else {
            out.push(self.reason.byte());
            self.properties.write(out, PropertyPlace::Packet(kind))?;
        }
        Ok(())
    }

    pub(crate) fn read(
        r: &mut Reader<'_>,
        kind: PacketKind,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let mut ack = Ack::new(packet_id);
        if version == ProtocolVersion::V5 && r.remaining() > 0 {
            ack.reason = read_reason(r, kind)?;
            if r.remaining() > 0 {
                ack.properties = Properties::read(r, PropertyPlace::Packet(kind))?;
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

    #[test]
    fn acks_round_trip_with_their_exact_bytes() {
        assert_eq!(
            round_trip(Packet::PubAck(Ack::new(0x1234))),
            [0x40, 2, 0x12, 0x34]
        );
        assert_eq!(round_trip(Packet::PubRec(Ack::new(1))), [0x50, 2, 0, 1]);
        assert_eq!(round_trip(Packet::PubRel(Ack::new(1))), [0x62, 2, 0, 1]);
        assert_eq!(
            round_trip(Packet::PubComp(Ack::new(65535))),
            [0x70, 2, 0xff, 0xff]
        );
    }

    #[test]
    fn packet_id_zero_and_short_bodies_are_errors() {
        for version in [V311, V5] {
            assert_eq!(
                decode(&[0x40, 2, 0, 0], version),
                Err(DecodeError::ZeroPacketId)
            );
            assert_eq!(decode(&[0x40, 1, 0], version), Err(DecodeError::Truncated));
        }
        // 3.1.1 has nothing after the identifier.
        assert_eq!(
            decode(&[0x40, 3, 0, 1, 0x10], V311),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn v5_success_without_properties_is_the_short_form() {
        assert_eq!(round_trip_v5(Packet::PubAck(Ack::new(5))), [0x40, 2, 0, 5]);
        // A reason but no properties: remaining length 3, no property length.
        assert_eq!(
            round_trip_v5(Packet::PubAck(Ack::with_reason(
                5,
                ReasonCode::QuotaExceeded
            ))),
            [0x40, 3, 0, 5, 0x97]
        );
        // The long forms of Success decode to the same packet.
        for bytes in [&[0x40, 3, 0, 5, 0][..], &[0x40, 4, 0, 5, 0, 0]] {
            assert_eq!(decode(bytes, V5), Ok(Packet::PubAck(Ack::new(5))));
        }
    }

    #[test]
    fn every_reason_code_each_ack_allows_round_trips_in_both_forms() {
        let kinds = [
            (PacketKind::PubAck, Packet::PubAck as fn(Ack) -> Packet),
            (PacketKind::PubRec, Packet::PubRec),
            (PacketKind::PubRel, Packet::PubRel),
            (PacketKind::PubComp, Packet::PubComp),
        ];
        for (kind, make) in kinds {
            let allowed: Vec<_> = ALL_REASON_CODES
                .into_iter()
                .filter(|c| c.allowed_in(kind))
                .collect();
            assert!(allowed.len() >= 2);
            for reason in allowed {
                round_trip_v5(make(Ack::with_reason(9, reason)));
                round_trip_v5(make(Ack {
                    packet_id: 9,
                    reason,
                    properties: Properties::new()
                        .with(Property::ReasonString("why".into()))
                        .with_user_property("trace", "1"),
                }));
            }
        }
    }

    /// Mosquitto 2.0's answer to a PUBLISH over its `message_size_limit` under MQTT 5.0 (a
    /// newcomer's break-test, 34-J F5): a failure all the same, read as one.
    #[test]
    fn a_failure_code_a_puback_may_not_carry_is_read_as_the_refusal_it_is() {
        assert_eq!(
            decode(&[0x40, 3, 0, 1, 0x95], V5),
            Ok(Packet::PubAck(Ack::with_reason(
                1,
                ReasonCode::PacketTooLarge
            )))
        );
        assert_eq!(
            decode(&[0x50, 3, 0, 1, 0x95], V5),
            Ok(Packet::PubRec(Ack::with_reason(
                1,
                ReasonCode::PacketTooLarge
            )))
        );
        // A success code it may not carry is still malformed.
        assert!(decode(&[0x40, 3, 0, 1, 0x01], V5).is_err());
    }

    #[test]
    fn codes_and_properties_the_ack_may_not_carry_are_refused() {
        // PUBREL may not say "Quota exceeded".
        assert_eq!(
            decode(&[0x62, 3, 0, 1, 0x97], V5),
            Err(DecodeError::InvalidReasonCode {
                code: 0x97,
                kind: PacketKind::PubRel
            })
        );
        assert_eq!(
            Packet::PubRel(Ack::with_reason(1, ReasonCode::QuotaExceeded)).encode(V5),
            Err(EncodeError::ReasonNotAllowed {
                code: ReasonCode::QuotaExceeded,
                kind: PacketKind::PubRel
            })
        );
        // Content Type (0x03) has no place in PUBACK.
        assert!(matches!(
            decode(&[0x40, 8, 0, 1, 0, 4, 0x03, 0, 1, b'x'], V5),
            Err(DecodeError::PropertyNotAllowed { .. })
        ));
        // Nor a reason code in 3.1.1.
        assert!(matches!(
            Packet::PubAck(Ack::with_reason(1, ReasonCode::QuotaExceeded)).encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }
}
