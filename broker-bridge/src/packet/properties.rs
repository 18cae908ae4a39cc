//! A packet's MQTT 5.0 property list (§2.2.2): a variable byte integer length, then properties
//! in any order. [`Properties`] keeps them in wire order, so a packet inspector shows what came,
//! and so encoding what was decoded gives the same bytes.
//!
//! Decoding refuses unknown identifiers, properties the packet may not carry, and a second
//! copy of any property but User Property (and Subscription Identifier in PUBLISH).

use super::property::{Property, PropertyId, PropertyPlace};
use super::wire::{put_remaining_length, var_int_len, Reader, MAX_REMAINING_LENGTH};
use super::{DecodeError, EncodeError, QoS};

/// A property list in wire order; empty by default and always empty in MQTT 3.1.1. The
/// getters return the first property of their kind, `None` when it is absent.
///
/// ```
/// use broker_bridge::packet::{Properties, Property};
///
/// let props = Properties::new()
///     .with(Property::MessageExpiryInterval(60))
///     .with_user_property("correlationId", "7")
///     .with(Property::MessageExpiryInterval(30)); // replaces the first
/// assert_eq!(props.message_expiry_interval(), Some(30));
/// assert_eq!(props.user_property("correlationId"), Some("7"));
/// assert_eq!(props.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    list: Vec<Property>,
}

impl Properties {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the list is empty (then a PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT or AUTH
    /// may leave out its property length).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many properties, each user property counted.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// In wire order.
    pub fn iter(&self) -> std::slice::Iter<'_, Property> {
        self.list.iter()
    }

    /// Adds a property. User properties and subscription identifiers are appended; any other
    /// property replaces an earlier value of its kind, so a list built this way never holds a
    /// duplicate the specification forbids.
    pub fn add(&mut self, property: Property) {
        let id = property.id();
        if !matches!(
            id,
            PropertyId::UserProperty | PropertyId::SubscriptionIdentifier
        ) {
            if let Some(slot) = self.list.iter_mut().find(|p| p.id() == id) {
                *slot = property;
                return;
            }
        }
        self.list.push(property);
    }

    /// [`Properties::add`], for building a list in one expression.
    pub fn with(mut self, property: Property) -> Self {
        self.add(property);
        self
    }

    /// Appends a user property (name, value).
    pub fn with_user_property(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with(Property::UserProperty(name.into(), value.into()))
    }

    /// Removes every property with this identifier.
    pub fn remove(&mut self, id: PropertyId) {
        self.list.retain(|p| p.id() != id);
    }

    /// The first property with this identifier.
    pub fn get(&self, id: PropertyId) -> Option<&Property> {
        self.list.iter().find(|p| p.id() == id)
    }

    /// Whether a property with this identifier is present.
    pub fn contains(&self, id: PropertyId) -> bool {
        self.get(id).is_some()
    }

    fn find<'a, T>(&'a self, f: impl Fn(&'a Property) -> Option<T>) -> Option<T> {
        self.list.iter().find_map(f)
    }

    /// User properties in the order they came.
    pub fn user_properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.list.iter().filter_map(|p| match p {
            Property::UserProperty(k, v) => Some((k.as_str(), v.as_str())),
            _ => None,
        })
    }

    /// The value of the first user property named `name`.
    pub fn user_property(&self, name: &str) -> Option<&str> {
        self.user_properties()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// Every [`Property::SubscriptionIdentifier`], in wire order: a PUBLISH from the broker
    /// carries one per subscription it matched.
    pub fn subscription_identifiers(&self) -> impl Iterator<Item = u32> + '_ {
        self.list.iter().filter_map(|p| match p {
            Property::SubscriptionIdentifier(id) => Some(*id),
            _ => None,
        })
    }

    /// [`Property::PayloadFormatIndicator`]: `Some(true)` if the payload is declared UTF-8 text.
    pub fn payload_is_utf8(&self) -> Option<bool> {
        self.find(|p| match p {
            Property::PayloadFormatIndicator(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::MessageExpiryInterval`], in seconds.
    pub fn message_expiry_interval(&self) -> Option<u32> {
        self.find(|p| match p {
            Property::MessageExpiryInterval(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::ContentType`].
    pub fn content_type(&self) -> Option<&str> {
        self.find(|p| match p {
            Property::ContentType(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// [`Property::ResponseTopic`].
    pub fn response_topic(&self) -> Option<&str> {
        self.find(|p| match p {
            Property::ResponseTopic(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// [`Property::CorrelationData`].
    pub fn correlation_data(&self) -> Option<&[u8]> {
        self.find(|p| match p {
            Property::CorrelationData(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    /// [`Property::SessionExpiryInterval`], in seconds.
    pub fn session_expiry_interval(&self) -> Option<u32> {
        self.find(|p| match p {
            Property::SessionExpiryInterval(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::AssignedClientIdentifier`].
    pub fn assigned_client_identifier(&self) -> Option<&str> {
        self.find(|p| match p {
            Property::AssignedClientIdentifier(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// [`Property::ServerKeepAlive`], in seconds.
    pub fn server_keep_alive(&self) -> Option<u16> {
        self.find(|p| match p {
            Property::ServerKeepAlive(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::ServerReference`].
    pub fn server_reference(&self) -> Option<&str> {
        self.find(|p| match p {
            Property::ServerReference(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// [`Property::ReasonString`].
    pub fn reason_string(&self) -> Option<&str> {
        self.find(|p| match p {
            Property::ReasonString(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// [`Property::ReceiveMaximum`]; absent means 65,535.
    pub fn receive_maximum(&self) -> Option<u16> {
        self.find(|p| match p {
            Property::ReceiveMaximum(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::TopicAliasMaximum`]; absent means 0.
    pub fn topic_alias_maximum(&self) -> Option<u16> {
        self.find(|p| match p {
            Property::TopicAliasMaximum(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::TopicAlias`].
    pub fn topic_alias(&self) -> Option<u16> {
        self.find(|p| match p {
            Property::TopicAlias(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::MaximumQoS`]; absent means QoS 2.
    pub fn maximum_qos(&self) -> Option<QoS> {
        self.find(|p| match p {
            Property::MaximumQoS(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::RetainAvailable`]; absent means `true`.
    pub fn retain_available(&self) -> Option<bool> {
        self.find(|p| match p {
            Property::RetainAvailable(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::SharedSubscriptionAvailable`]; absent means `true`.
    pub fn shared_subscription_available(&self) -> Option<bool> {
        self.find(|p| match p {
            Property::SharedSubscriptionAvailable(v) => Some(*v),
            _ => None,
        })
    }

    /// [`Property::MaximumPacketSize`], in bytes; absent means no limit.
    pub fn maximum_packet_size(&self) -> Option<u32> {
        self.find(|p| match p {
            Property::MaximumPacketSize(v) => Some(*v),
            _ => None,
        })
    }

    /// Fails if the list cannot go in `place`: a property the packet may not carry, or a second
    /// copy of one that may appear once.
    pub fn check(&self, place: PropertyPlace) -> Result<(), EncodeError> {
        for (i, property) in self.list.iter().enumerate() {
            let id = property.id();
            if !id.allowed_in(place) {
                return Err(EncodeError::PropertyNotAllowed {
                    property: id,
                    place,
                });
            }
            if !id.may_repeat_in(place) && self.list[..i].iter().any(|p| p.id() == id) {
                return Err(EncodeError::DuplicateProperty(id));
            }
        }
        Ok(())
    }

    /// Writes the property length and the properties.
    pub(crate) fn write(&self, out: &mut Vec<u8>, place: PropertyPlace) -> Result<(), EncodeError> {
        self.check(place)?;
        let mut body = Vec::new();
        for property in &self.list {
            property.write(&mut body)?;
        }
        if body.len() > MAX_REMAINING_LENGTH {
            return Err(EncodeError::PacketTooLarge(body.len()));
        }
        out.reserve(var_int_len(body.len()) + body.len());
        put_remaining_length(out, body.len());
        out.extend_from_slice(&body);
        Ok(())
    }

    /// Reads a property length and that many bytes of properties.
    pub(crate) fn read(r: &mut Reader<'_>, place: PropertyPlace) -> Result<Self, DecodeError> {
        let len = r.var_int()? as usize;
        let mut block = r.sub(len)?;
        let mut list: Vec<Property> = Vec::new();
        while block.remaining() > 0 {
            let property = Property::read(&mut block)?;
            let id = property.id();
            if !id.allowed_in(place) {
                return Err(DecodeError::PropertyNotAllowed {
                    property: id,
                    place,
                });
            }
            if !id.may_repeat_in(place) && list.iter().any(|p| p.id() == id) {
                return Err(DecodeError::DuplicateProperty(id));
            }
            list.push(property);
        }
        Ok(Properties { list })
    }
}

impl<'a> IntoIterator for &'a Properties {
    type Item = &'a Property;
    type IntoIter = std::slice::Iter<'a, Property>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::PacketKind;

    const PUBLISH: PropertyPlace = PropertyPlace::Packet(PacketKind::Publish);

    fn encode(props: &Properties, place: PropertyPlace) -> Vec<u8> {
        let mut out = Vec::new();
        props.write(&mut out, place).unwrap();
        out
    }

    fn decode(bytes: &[u8], place: PropertyPlace) -> Result<Properties, DecodeError> {
        let mut r = Reader::new(bytes);
        let props = Properties::read(&mut r, place)?;
        r.finish()?;
        Ok(props)
    }

    #[test]
    fn an_empty_list_is_one_zero_byte() {
        assert_eq!(encode(&Properties::new(), PUBLISH), [0]);
        assert_eq!(decode(&[0], PUBLISH), Ok(Properties::new()));
    }

    #[test]
    fn repeated_user_properties_keep_their_order() {
        let props = Properties::new()
            .with_user_property("b", "2")
            .with(Property::ContentType("application/json".into()))
            .with_user_property("a", "1")
            .with_user_property("b", "3");
        let bytes = encode(&props, PUBLISH);
        let back = decode(&bytes, PUBLISH).unwrap();
        assert_eq!(back, props);
        assert_eq!(
            back.user_properties().collect::<Vec<_>>(),
            [("b", "2"), ("a", "1"), ("b", "3")]
        );
        assert_eq!(back.user_property("b"), Some("2"));
        assert_eq!(back.content_type(), Some("application/json"));
    }

    #[test]
    fn add_replaces_a_single_valued_property_in_place() {
        let props = Properties::new()
            .with(Property::MessageExpiryInterval(5))
            .with_user_property("k", "v")
            .with(Property::MessageExpiryInterval(60));
        assert_eq!(props.len(), 2);
        assert_eq!(props.message_expiry_interval(), Some(60));
        assert_eq!(
            props.iter().next(),
            Some(&Property::MessageExpiryInterval(60))
        );
    }

    #[test]
    fn a_duplicate_single_property_is_an_error() {
        // Two Message Expiry Intervals.
        let bytes = [10, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2];
        assert_eq!(
            decode(&bytes, PUBLISH),
            Err(DecodeError::DuplicateProperty(
                PropertyId::MessageExpiryInterval
            ))
        );
    }

    #[test]
    fn subscription_identifiers_repeat_in_publish_only() {
        // A second identifier whose variable byte integer is cut off by the list's length.
        assert_eq!(
            decode(&[4, 0x0B, 1, 0x0B, 0x82], PUBLISH),
            Err(DecodeError::Truncated)
        );
        let bytes = [5, 0x0B, 1, 0x0B, 0x82, 1];
        let props = decode(&bytes, PUBLISH).unwrap();
        assert_eq!(
            props.subscription_identifiers().collect::<Vec<_>>(),
            [1, 130]
        );
        assert_eq!(
            decode(&bytes, PropertyPlace::Packet(PacketKind::Subscribe)),
            Err(DecodeError::DuplicateProperty(
                PropertyId::SubscriptionIdentifier
            ))
        );
        let two = Properties::new()
            .with(Property::SubscriptionIdentifier(1))
            .with(Property::SubscriptionIdentifier(2));
        assert_eq!(
            two.check(PropertyPlace::Packet(PacketKind::Subscribe)),
            Err(EncodeError::DuplicateProperty(
                PropertyId::SubscriptionIdentifier
            ))
        );
    }

    #[test]
    fn an_unknown_identifier_is_an_error() {
        assert_eq!(
            decode(&[2, 0x05, 0], PUBLISH),
            Err(DecodeError::UnknownProperty(0x05))
        );
    }

    #[test]
    fn a_property_the_packet_may_not_carry_is_an_error_both_ways() {
        // Session Expiry Interval in a PUBLISH.
        assert_eq!(
            decode(&[5, 0x11, 0, 0, 0, 1], PUBLISH),
            Err(DecodeError::PropertyNotAllowed {
                property: PropertyId::SessionExpiryInterval,
                place: PUBLISH
            })
        );
        let props = Properties::new().with(Property::SessionExpiryInterval(1));
        assert_eq!(
            props.write(&mut Vec::new(), PUBLISH),
            Err(EncodeError::PropertyNotAllowed {
                property: PropertyId::SessionExpiryInterval,
                place: PUBLISH
            })
        );
    }

    #[test]
    fn a_truncated_property_list_is_an_error() {
        // Length says 10; only 3 bytes follow.
        assert_eq!(
            decode(&[10, 0x02, 0, 0], PUBLISH),
            Err(DecodeError::Truncated)
        );
        // Length 3 cuts the four-byte Message Expiry Interval short.
        assert_eq!(
            decode(&[3, 0x02, 0, 0, 0, 1], PUBLISH),
            Err(DecodeError::Truncated)
        );
        // A property length that is not a valid variable byte integer.
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff, 0x01], PUBLISH),
            Err(DecodeError::MalformedVariableInteger)
        );
        // No property length at all.
        assert_eq!(decode(&[], PUBLISH), Err(DecodeError::Truncated));
    }
}
