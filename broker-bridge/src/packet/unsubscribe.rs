//! UNSUBSCRIBE (§3.10). Its answer, UNSUBACK, is in `ack.rs`.

use super::wire::{check_len, put_string, put_u16, Reader};
use super::{read_packet_id, DecodeError, EncodeError, PacketKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub packet_id: u16,
    pub filters: Vec<String>,
}

impl Unsubscribe {
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_u16(out, self.packet_id);
        for filter in &self.filters {
            check_len("topic filter", filter.len())?;
            put_string(out, filter);
        }
        Ok(())
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let mut filters = Vec::new();
        while r.remaining() > 0 {
            filters.push(r.string()?);
        }
        if filters.is_empty() {
            return Err(DecodeError::EmptyTopicList(PacketKind::Unsubscribe));
        }
        Ok(Unsubscribe { packet_id, filters })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::round_trip;
    use crate::packet::Packet;

    #[test]
    fn unsubscribe_round_trips() {
        let bytes = round_trip(Packet::Unsubscribe(Unsubscribe {
            packet_id: 42,
            filters: vec!["orders/created".into(), "payments/#".into()],
        }));
        assert_eq!(bytes[0], 0xa2);
    }
}
