//! PUBLISH (§3.3): an application message, in either direction.

use super::wire::{check_len, put_string, put_u16, Reader};
use super::{read_packet_id, DecodeError, EncodeError, QoS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub topic: String,
    /// Present exactly when `qos` is 1 or 2.
    pub packet_id: Option<u16>,
    pub qos: QoS,
    pub dup: bool,
    pub retain: bool,
    pub payload: Vec<u8>,
}

impl Publish {
    pub(crate) fn header_flags(&self) -> u8 {
        (u8::from(self.dup) << 3) | (self.qos.level() << 1) | u8::from(self.retain)
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        check_len("topic", self.topic.len())?;
        put_string(out, &self.topic);
        match (self.qos, self.packet_id) {
            (QoS::AtMostOnce, None) => {}
            (QoS::AtLeastOnce | QoS::ExactlyOnce, Some(id)) if id != 0 => put_u16(out, id),
            (qos, _) => return Err(EncodeError::PacketIdMismatch(qos)),
        }
        out.extend_from_slice(&self.payload);
        Ok(())
    }

    pub(crate) fn read(flags: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let qos = QoS::from_bits((flags >> 1) & 0b11)?;
        let dup = flags & 0b1000 != 0;
        // §3.3.1.1: DUP must be 0 for QoS 0 messages.
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::InvalidFlags {
                kind: super::PacketKind::Publish,
                flags,
            });
        }
        let topic = r.string()?;
        if topic.is_empty() || topic.contains(['+', '#']) {
            return Err(DecodeError::InvalidTopicName(topic));
        }
        let packet_id = match qos {
            QoS::AtMostOnce => None,
            _ => Some(read_packet_id(r)?),
        };
        Ok(Publish {
            topic,
            packet_id,
            qos,
            dup,
            retain: flags & 1 != 0,
            payload: r.rest().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{round_trip, NO_LIMIT};
    use crate::packet::Packet;

    fn publish(qos: QoS, packet_id: Option<u16>) -> Publish {
        Publish {
            topic: "orders/created".into(),
            packet_id,
            qos,
            dup: false,
            retain: false,
            payload: br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}"#.to_vec(),
        }
    }

    #[test]
    fn publish_round_trips_at_every_qos() {
        let q0 = round_trip(Packet::Publish(publish(QoS::AtMostOnce, None)));
        assert_eq!(q0[0], 0x30);
        let q1 = round_trip(Packet::Publish(Publish {
            retain: true,
            ..publish(QoS::AtLeastOnce, Some(10))
        }));
        assert_eq!(q1[0], 0x33);
        let q2 = round_trip(Packet::Publish(Publish {
            dup: true,
            ..publish(QoS::ExactlyOnce, Some(65535))
        }));
        assert_eq!(q2[0], 0x3c);
    }

    #[test]
    fn empty_payload_is_allowed() {
        round_trip(Packet::Publish(Publish {
            payload: vec![],
            ..publish(QoS::AtMostOnce, None)
        }));
    }

    #[test]
    fn packet_id_must_match_qos_when_encoding() {
        assert_eq!(
            Packet::Publish(publish(QoS::AtLeastOnce, None)).encode(),
            Err(EncodeError::PacketIdMismatch(QoS::AtLeastOnce))
        );
        assert_eq!(
            Packet::Publish(publish(QoS::AtMostOnce, Some(1))).encode(),
            Err(EncodeError::PacketIdMismatch(QoS::AtMostOnce))
        );
    }

    #[test]
    fn malformed_publishes_are_errors() {
        // QoS 3.
        assert_eq!(
            Packet::decode(&[0x36, 4, 0, 1, b'a', 0], NO_LIMIT),
            Err(DecodeError::InvalidQoS(3))
        );
        // DUP on QoS 0.
        assert!(matches!(
            Packet::decode(&[0x38, 3, 0, 1, b'a'], NO_LIMIT),
            Err(DecodeError::InvalidFlags { .. })
        ));
        // Wildcard in a topic name.
        assert!(matches!(
            Packet::decode(&[0x30, 3, 0, 1, b'#'], NO_LIMIT),
            Err(DecodeError::InvalidTopicName(_))
        ));
        // QoS 1 without room for a packet id.
        assert_eq!(
            Packet::decode(&[0x32, 3, 0, 1, b'a'], NO_LIMIT),
            Err(DecodeError::Truncated)
        );
    }
}
