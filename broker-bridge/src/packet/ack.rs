//! PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK (§3.4–3.7, §3.11): a packet identifier and
//! nothing else in MQTT 3.1.1.

use super::wire::{put_u16, Reader};
use super::{read_packet_id, DecodeError};

pub(crate) fn write(out: &mut Vec<u8>, packet_id: u16) {
    put_u16(out, packet_id);
}

pub(crate) fn read(r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    read_packet_id(r)
}

#[cfg(test)]
mod tests {
    use crate::packet::tests::{round_trip, NO_LIMIT};
    use crate::packet::{DecodeError, Packet};

    #[test]
    fn acks_round_trip_with_their_exact_bytes() {
        assert_eq!(round_trip(Packet::PubAck(0x1234)), [0x40, 2, 0x12, 0x34]);
        assert_eq!(round_trip(Packet::PubRec(1)), [0x50, 2, 0, 1]);
        assert_eq!(round_trip(Packet::PubRel(1)), [0x62, 2, 0, 1]);
        assert_eq!(round_trip(Packet::PubComp(65535)), [0x70, 2, 0xff, 0xff]);
        assert_eq!(round_trip(Packet::UnsubAck(9)), [0xb0, 2, 0, 9]);
    }

    #[test]
    fn packet_id_zero_and_short_bodies_are_errors() {
        assert_eq!(
            Packet::decode(&[0x40, 2, 0, 0], NO_LIMIT),
            Err(DecodeError::ZeroPacketId)
        );
        assert_eq!(
            Packet::decode(&[0x40, 1, 0], NO_LIMIT),
            Err(DecodeError::Truncated)
        );
    }
}
