//! DISCONNECT (§3.14). In MQTT 3.1.1 only the client sends it, and it is empty. In MQTT 5.0
//! either side sends it with a reason code and properties; remaining length 0 means Normal
//! disconnection, and with no properties the property length is left out.

use super::error::v5_only;
use super::property::PropertyPlace;
use super::reason::{check_reason, read_reason};
use super::wire::Reader;
use super::{DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion, ReasonCode};

const PLACE: PropertyPlace = PropertyPlace::Packet(PacketKind::Disconnect);

/// A DISCONNECT; `Default` is Normal disconnection without properties, the only one 3.1.1
/// has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnect {
    /// Normal disconnection (0x00) unless said otherwise; always that in 3.1.1.
    pub reason: ReasonCode,
    /// MQTT 5.0: Session Expiry Interval, Reason String, Server Reference, User Property.
    pub properties: Properties,
}

impl Disconnect {
    /// A DISCONNECT with `reason` and no properties.
    pub fn new(reason: ReasonCode) -> Self {
        Disconnect {
            reason,
            properties: Properties::new(),
        }
    }

    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        v5_only(
            version,
            self.reason != ReasonCode::NORMAL_DISCONNECTION,
            "a DISCONNECT reason code",
        )?;
        v5_only(version, !self.properties.is_empty(), "properties")?;
        check_reason(self.reason, PacketKind::Disconnect)?;
        if self.properties.is_empty() {
            if self.reason != ReasonCode::NORMAL_DISCONNECTION {
                out.push(self.reason.byte());
            }
        } else {
            out.push(self.reason.byte());
            self.properties.write(out, PLACE)?;
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut disconnect = Disconnect::default();
        if version == ProtocolVersion::V5 && r.remaining() > 0 {
            disconnect.reason = read_reason(r, PacketKind::Disconnect)?;
            if r.remaining() > 0 {
                disconnect.properties = Properties::read(r, PLACE)?;
            }
        }
        Ok(disconnect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{decode, round_trip_v5, V311, V5};
    use crate::packet::{Packet, Property, ALL_REASON_CODES};

    #[test]
    fn normal_disconnection_is_empty_in_both_versions() {
        assert_eq!(
            round_trip_v5(Packet::Disconnect(Disconnect::default())),
            [0xe0, 0]
        );
        assert_eq!(
            decode(&[0xe0, 1, 0], V5),
            Ok(Packet::Disconnect(Disconnect::default()))
        );
        assert_eq!(
            decode(&[0xe0, 1, 0], V311),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn a_reason_alone_is_one_byte() {
        assert_eq!(
            round_trip_v5(Packet::Disconnect(Disconnect::new(
                ReasonCode::DisconnectWithWillMessage
            ))),
            [0xe0, 1, 0x04]
        );
    }

    #[test]
    fn every_disconnect_reason_and_property_round_trips() {
        for reason in ALL_REASON_CODES
            .into_iter()
            .filter(|c| c.allowed_in(PacketKind::Disconnect))
        {
            round_trip_v5(Packet::Disconnect(Disconnect::new(reason)));
            round_trip_v5(Packet::Disconnect(Disconnect {
                reason,
                properties: Properties::new()
                    .with(Property::SessionExpiryInterval(0))
                    .with(Property::ReasonString("another client took the id".into()))
                    .with_user_property("node", "b")
                    .with(Property::ServerReference("broker-2:1883".into())),
            }));
        }
    }

    #[test]
    fn codes_disconnect_may_not_carry_and_3_1_1_reasons_are_refused() {
        assert_eq!(
            decode(&[0xe0, 1, 0x91], V5),
            Err(DecodeError::InvalidReasonCode {
                code: 0x91,
                kind: PacketKind::Disconnect
            })
        );
        assert!(matches!(
            Packet::Disconnect(Disconnect::new(ReasonCode::ProtocolError)).encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }
}
