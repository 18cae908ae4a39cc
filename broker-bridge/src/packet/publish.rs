//! PUBLISH (§3.3): an application message, in either direction. MQTT 5.0 puts a property list
//! between the packet identifier and the payload.

use super::error::v5_only;
use super::property::PropertyPlace;
use super::wire::{check_len, put_string, put_u16, Reader};
use super::{read_packet_id, DecodeError, EncodeError, PacketKind, Properties, ProtocolVersion};
use super::{PropertyId, QoS};

const PLACE: PropertyPlace = PropertyPlace::Packet(PacketKind::Publish);

/// An application message as it travels, with its header flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// The topic name: at most 65,535 bytes, no wildcards ([MQTT-3.3.2-2]). In 5.0 it may
    /// be empty when a Topic Alias stands for it (§3.3.2.3.4).
    pub topic: String,
    /// Present exactly when `qos` is 1 or 2 (3.1.1 [MQTT-2.3.1-5], 5.0 [MQTT-2.2.1-2]).
    pub packet_id: Option<u16>,
    /// The QoS it is sent with.
    pub qos: QoS,
    /// Set on a re-delivery of a QoS 1 or 2 message ([MQTT-3.3.1-1]); always false at QoS 0
    /// ([MQTT-3.3.1-2]).
    pub dup: bool,
    /// To the broker: keep it as the topic's retained message. From the broker: it is a
    /// retained message sent because of a new subscription (3.1.1 §3.3.1.3; in 5.0 unless the
    /// subscription asked for Retain As Published).
    pub retain: bool,
    /// The message body, any bytes (UTF-8 text if the Payload Format Indicator says so).
    pub payload: Vec<u8>,
    /// MQTT 5.0: User Property, Response Topic, Correlation Data, Message Expiry Interval,
    /// Content Type, Payload Format Indicator, Subscription Identifier, Topic Alias. Always
    /// empty in 3.1.1.
    pub properties: Properties,
}

impl Publish {
    /// A message without packet id (the session assigns one), flags or properties.
    pub fn new(topic: impl Into<String>, payload: impl Into<Vec<u8>>, qos: QoS) -> Self {
        Publish {
            topic: topic.into(),
            packet_id: None,
            qos,
            dup: false,
            retain: false,
            payload: payload.into(),
            properties: Properties::new(),
        }
    }

    pub(crate) fn header_flags(&self) -> u8 {
        (u8::from(self.dup) << 3) | (self.qos.level() << 1) | u8::from(self.retain)
    }

    pub(crate) fn write(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        check_len("topic", self.topic.len())?;
        v5_only(version, !self.properties.is_empty(), "properties")?;
        put_string(out, &self.topic);
        match (self.qos, self.packet_id) {
            (QoS::AtMostOnce, None) => {}
            (QoS::AtLeastOnce | QoS::ExactlyOnce, Some(id)) if id != 0 => put_u16(out, id),
            (qos, _) => return Err(EncodeError::PacketIdMismatch(qos)),
        }
        if version == ProtocolVersion::V5 {
            self.properties.write(out, PLACE)?;
        }
        out.extend_from_slice(&self.payload);
        Ok(())
    }

    pub(crate) fn read(
        flags: u8,
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let qos = QoS::from_bits((flags >> 1) & 0b11)?;
        let dup = flags & 0b1000 != 0;
        // §3.3.1.1: DUP must be 0 for QoS 0 messages.
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::InvalidFlags {
                kind: PacketKind::Publish,
                flags,
            });
        }
        let topic = r.string()?;
        let packet_id = match qos {
            QoS::AtMostOnce => None,
            _ => Some(read_packet_id(r)?),
        };
        let properties = match version {
            ProtocolVersion::V5 => Properties::read(r, PLACE)?,
            ProtocolVersion::V311 => Properties::new(),
        };
        // In 5.0 an empty topic is allowed when a Topic Alias stands for it (§3.3.2.1).
        let aliased = properties.contains(PropertyId::TopicAlias);
        if (topic.is_empty() && !aliased) || topic.contains(['+', '#']) {
            return Err(DecodeError::InvalidTopicName(topic));
        }
        Ok(Publish {
            topic,
            packet_id,
            qos,
            dup,
            retain: flags & 1 != 0,
            payload: r.rest().to_vec(),
            properties,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::{decode, round_trip, round_trip_v5, V311, V5};
    use crate::packet::{Packet, Property};

    fn publish(qos: QoS, packet_id: Option<u16>) -> Publish {
        Publish {
            packet_id,
            ..Publish::new(
                "orders/created",
                br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}"#.to_vec(),
                qos,
            )
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
        for version in [V311, V5] {
            crate::packet::tests::round_trip_in(
                version,
                Packet::Publish(Publish {
                    payload: vec![],
                    ..publish(QoS::AtMostOnce, None)
                }),
            );
        }
    }

    #[test]
    fn v5_puts_the_property_length_before_the_payload() {
        let bytes = round_trip_v5(Packet::Publish(Publish::new(
            "a",
            b"hi".to_vec(),
            QoS::AtMostOnce,
        )));
        assert_eq!(bytes, [0x30, 6, 0, 1, b'a', 0, b'h', b'i']);
    }

    #[test]
    fn every_publish_property_round_trips_in_order() {
        let mut p = publish(QoS::AtLeastOnce, Some(3));
        p.properties = Properties::new()
            .with(Property::PayloadFormatIndicator(true))
            .with(Property::MessageExpiryInterval(30))
            .with(Property::ContentType("application/json".into()))
            .with(Property::ResponseTopic("orders/replies/7".into()))
            .with(Property::CorrelationData(b"req-7".to_vec()))
            .with_user_property("correlationId", "3fa85f64")
            .with_user_property("source", "OrderService")
            .with(Property::SubscriptionIdentifier(1))
            .with(Property::SubscriptionIdentifier(268_435_455))
            .with(Property::TopicAlias(4));
        round_trip_v5(Packet::Publish(p));
    }

    #[test]
    fn an_aliased_publish_may_have_an_empty_topic_in_v5_only() {
        let mut p = Publish::new("", b"x".to_vec(), QoS::AtMostOnce);
        p.properties.add(Property::TopicAlias(1));
        round_trip_v5(Packet::Publish(p));
        assert!(matches!(
            decode(&[0x30, 3, 0, 0, 0], V5),
            Err(DecodeError::InvalidTopicName(_))
        ));
    }

    #[test]
    fn packet_id_must_match_qos_when_encoding() {
        assert_eq!(
            Packet::Publish(publish(QoS::AtLeastOnce, None)).encode(V311),
            Err(EncodeError::PacketIdMismatch(QoS::AtLeastOnce))
        );
        assert_eq!(
            Packet::Publish(publish(QoS::AtMostOnce, Some(1))).encode(V5),
            Err(EncodeError::PacketIdMismatch(QoS::AtMostOnce))
        );
        let mut p = publish(QoS::AtMostOnce, None);
        p.properties.add(Property::ContentType("x".into()));
        assert!(matches!(
            Packet::Publish(p).encode(V311),
            Err(EncodeError::NeedsV5 { .. })
        ));
    }

    #[test]
    fn malformed_publishes_are_errors() {
        for version in [V311, V5] {
            // QoS 3.
            assert_eq!(
                decode(&[0x36, 4, 0, 1, b'a', 0], version),
                Err(DecodeError::InvalidQoS(3))
            );
            // DUP on QoS 0.
            assert!(matches!(
                decode(&[0x38, 4, 0, 1, b'a', 0], version),
                Err(DecodeError::InvalidFlags { .. })
            ));
            // Wildcard in a topic name.
            assert!(matches!(
                decode(&[0x30, 4, 0, 1, b'#', 0], version),
                Err(DecodeError::InvalidTopicName(_))
            ));
            // QoS 1 without room for a packet id.
            assert_eq!(
                decode(&[0x32, 3, 0, 1, b'a'], version),
                Err(DecodeError::Truncated)
            );
        }
        // 5.0 needs the property length.
        assert_eq!(
            decode(&[0x30, 3, 0, 1, b'a'], V5),
            Err(DecodeError::Truncated)
        );
    }
}
