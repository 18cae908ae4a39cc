//! AUTH (MQTT 5.0 §3.15): a step of an extended authentication exchange (challenge and
//! response), in either direction. It does not exist in 3.1.1. Remaining length 0 means Success
//! without properties.

use super::error::v5_only;
use super::property::PropertyPlace;
use super::reason::{check_reason, read_reason};
use super::wire::Reader;
use super::{DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion, ReasonCode};

const PLACE: PropertyPlace = PropertyPlace::Packet(PacketKind::Auth);

/// An AUTH packet; `Default` is Success without properties. We never start an extended
/// authentication, so a broker's AUTH is a protocol violation to the session
/// ([MQTT-4.12.0-6]); the type exists to decode, show and refuse it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    /// Success, Continue authentication or Re-authenticate.
    pub reason: ReasonCode,
    /// Authentication Method, Authentication Data, Reason String, User Property.
    pub properties: Properties,
}

impl Auth {
    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        v5_only(version, true, "AUTH")?;
        check_reason(self.reason, PacketKind::Auth)?;
        if self.reason != ReasonCode::Success || !self.properties.is_empty() {
            out.push(self.reason.byte());
            self.properties.write(out, PLACE)?;
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut auth = Auth::default();
        if r.remaining() > 0 {
            auth.reason = read_reason(r, PacketKind::Auth)?;
            // Like DISCONNECT, a lone reason code stands for an empty property list.
            if r.remaining() > 0 {
                auth.properties = Properties::read(r, PLACE)?;
            }
        }
        Ok(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{decode, round_trip_v5, V311, V5};
    use crate::packet::{Packet, Property};

    #[test]
    fn success_without_properties_is_empty() {
        assert_eq!(round_trip_v5(Packet::Auth(Auth::default())), [0xf0, 0]);
    }

    #[test]
    fn every_auth_reason_and_property_round_trips() {
        for reason in [
            ReasonCode::Success,
            ReasonCode::ContinueAuthentication,
            ReasonCode::ReAuthenticate,
        ] {
            let bytes = round_trip_v5(Packet::Auth(Auth {
                reason,
                properties: Properties::new(),
            }));
            assert_eq!(
                bytes.len(),
                if reason == ReasonCode::Success { 2 } else { 4 }
            );
            round_trip_v5(Packet::Auth(Auth {
                reason,
                properties: Properties::new()
                    .with(Property::AuthenticationMethod("SCRAM-SHA-256".into()))
                    .with(Property::AuthenticationData(vec![0, 0xff, 0x19]))
                    .with(Property::ReasonString("next step".into()))
                    .with_user_property("k", "v"),
            }));
        }
        assert_eq!(
            decode(&[0xf0, 1, 0x18], V5),
            Ok(Packet::Auth(Auth {
                reason: ReasonCode::ContinueAuthentication,
                properties: Properties::new()
            }))
        );
    }

    #[test]
    fn auth_is_refused_in_3_1_1_and_with_foreign_codes() {
        assert!(matches!(
            Packet::Auth(Auth::default()).encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
        assert_eq!(
            decode(&[0xf0, 2, 0x87, 0], V5),
            Err(DecodeError::InvalidReasonCode {
                code: 0x87,
                kind: PacketKind::Auth
            })
        );
    }
}
