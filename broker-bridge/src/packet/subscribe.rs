//! SUBSCRIBE and SUBACK (§3.8, §3.9).

use super::wire::{check_len, put_string, put_u16, Reader};
use super::{read_packet_id, DecodeError, EncodeError, PacketKind, QoS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    pub packet_id: u16,
    /// Topic filters with the maximum QoS asked for each.
    pub filters: Vec<(String, QoS)>,
}

impl Subscribe {
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_u16(out, self.packet_id);
        for (filter, qos) in &self.filters {
            check_len("topic filter", filter.len())?;
            put_string(out, filter);
            out.push(qos.level());
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let mut filters = Vec::new();
        while r.remaining() > 0 {
            let filter = r.string()?;
            let options = r.u8()?;
            if options & 0xfc != 0 {
                return Err(DecodeError::InvalidQoS(options));
            }
            filters.push((filter, QoS::from_bits(options)?));
        }
        if filters.is_empty() {
            return Err(DecodeError::EmptyTopicList(PacketKind::Subscribe));
        }
        Ok(Subscribe { packet_id, filters })
    }
}

/// The broker's answer for one filter: the QoS it granted, or a refusal (0x80).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeReturnCode {
    Granted(QoS),
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    pub packet_id: u16,
    pub return_codes: Vec<SubscribeReturnCode>,
}

impl SubAck {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_u16(out, self.packet_id);
        for code in &self.return_codes {
            out.push(match code {
                SubscribeReturnCode::Granted(qos) => qos.level(),
                SubscribeReturnCode::Failure => 0x80,
            });
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let mut return_codes = Vec::new();
        while r.remaining() > 0 {
            return_codes.push(match r.u8()? {
                0x80 => SubscribeReturnCode::Failure,
                b @ 0..=2 => SubscribeReturnCode::Granted(QoS::from_bits(b)?),
                other => return Err(DecodeError::InvalidSubscribeReturnCode(other)),
            });
        }
        if return_codes.is_empty() {
            return Err(DecodeError::EmptyTopicList(PacketKind::SubAck));
        }
        Ok(SubAck {
            packet_id,
            return_codes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{round_trip, NO_LIMIT};
    use crate::packet::Packet;

    #[test]
    fn subscribe_with_several_filters_round_trips() {
        let bytes = round_trip(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![
                ("orders/created".into(), QoS::AtLeastOnce),
                ("payments/+".into(), QoS::AtMostOnce),
                ("inventory/#".into(), QoS::ExactlyOnce),
            ],
        }));
        assert_eq!(bytes[0], 0x82);
    }

    #[test]
    fn suback_round_trips_with_grants_and_refusals() {
        let bytes = round_trip(Packet::SubAck(SubAck {
            packet_id: 1,
            return_codes: vec![
                SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                SubscribeReturnCode::Failure,
            ],
        }));
        assert_eq!(bytes, [0x90, 4, 0, 1, 1, 0x80]);
    }

    #[test]
    fn empty_lists_and_bad_codes_are_errors() {
        assert_eq!(
            Packet::decode(&[0x82, 2, 0, 1], NO_LIMIT),
            Err(DecodeError::EmptyTopicList(PacketKind::Subscribe))
        );
        assert_eq!(
            Packet::decode(&[0x90, 3, 0, 1, 3], NO_LIMIT),
            Err(DecodeError::InvalidSubscribeReturnCode(3))
        );
    }
}
