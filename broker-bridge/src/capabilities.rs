//! What the broker can do, read from its CONNACK (MQTT 5.0 §3.2.2.3): the limits and features
//! it announces, each with the value a client must assume when the property is absent.
//!
//! An MQTT 3.1.1 CONNACK carries no properties at all, so [`BrokerCapabilities::announced`] is
//! false and every value is the 5.0 default (everything available, no limit): the client
//! cannot know, and finds a limit only when the broker closes the connection. One limit it
//! can learn: the broker's maximum QoS ([`LearnedMaximumQoS`], see
//! [`Session`](crate::Session)'s MQTT 3.1.1 rule), shown in
//! [`BrokerCapabilities::maximum_qos_learned`].
//!
//! ```
//! use broker_bridge::capabilities::BrokerCapabilities;
//! use broker_bridge::packet::{ConnAck, Property, QoS, ReasonCode};
//! use broker_bridge::ProtocolVersion;
//!
//! let mut ack = ConnAck::new(false, ReasonCode::Success);
//! ack.properties.add(Property::MaximumQoS(QoS::AtLeastOnce));
//! let caps = BrokerCapabilities::of(ProtocolVersion::V5, &ack);
//! assert_eq!(caps.maximum_qos, QoS::AtLeastOnce);
//! assert!(caps.retain_available); // absent: available
//! assert_eq!(caps.rows()[0].value, "1");
//! ```

use crate::packet::{ConnAck, Property, PropertyId, ProtocolVersion, QoS, ReasonCode};

/// How an MQTT 3.1.1 session learned that its broker takes our messages up to a QoS only
/// (a 3.1.1 CONNACK cannot say so; 5.0's states Maximum QoS, §3.2.2.3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QoSEvidence {
    /// A SUBACK granted `granted` for a subscription to `filter` that asked for `asked`: "The
    /// Server might grant a lower maximum QoS than the subscriber requested" (3.1.1 §3.8.4;
    /// return codes 0x00-0x02 and 0x80, §3.9.3). Brokers grant their own ceiling (Mosquitto's
    /// `max_qos`, AWS IoT's and RabbitMQ's QoS 1), so it is taken for our publishes too.
    Granted {
        /// The filter of the SUBSCRIBE.
        filter: String,
        /// The QoS it asked for.
        asked: QoS,
        /// The QoS the broker granted, lower.
        granted: QoS,
    },
    /// The broker closed the connection twice in a row, without a word, while the same QoS 2
    /// PUBLISH of ours to `topic` awaited its PUBREC (sent, then re-sent on the next
    /// connection, §4.4): what Mosquitto's `max_qos 1` does to an MQTT 3.1.1 client ("Too high
    /// QoS in PUBLISH …, disconnecting"). Teaches a ceiling of 1.
    ClosedAfterPublish {
        /// The topic of that PUBLISH.
        topic: String,
    },
}

/// The broker's maximum QoS for our publishes, as an MQTT 3.1.1 session learned it, and how.
///
/// Its `Display` is the sentence for the page, e.g. `this broker grants at most QoS 1: a
/// SUBACK granted QoS 1 for payments/processed, asked at QoS 2 (MQTT 3.1.1 §3.8.4, §3.9.3)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedMaximumQoS {
    /// The highest QoS the broker takes from us, 0 or 1.
    pub maximum: QoS,
    /// What showed it.
    pub evidence: QoSEvidence,
}

impl std::fmt::Display for QoSEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QoSEvidence::Granted {
                filter,
                asked,
                granted,
            } => write!(
                f,
                "a SUBACK granted QoS {} for {filter}, asked at QoS {} (MQTT 3.1.1 §3.8.4, §3.9.3)",
                granted.level(),
                asked.level()
            ),
            QoSEvidence::ClosedAfterPublish { topic } => write!(
                f,
                "it closed the connection twice in a row while a QoS 2 PUBLISH to {topic} \
                 awaited its PUBREC (Mosquitto's max_qos does this to MQTT 3.1.1 clients)"
            ),
        }
    }
}

impl std::fmt::Display for LearnedMaximumQoS {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this broker grants at most QoS {}: {}",
            self.maximum.level(),
            self.evidence
        )
    }
}

/// The broker's capabilities for one connection, as its accepting CONNACK stated them or as
/// MQTT 5.0 says to assume when a property is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerCapabilities {
    /// The MQTT version of the connection.
    pub protocol: ProtocolVersion,
    /// Whether the CONNACK could carry properties (MQTT 5.0). False in 3.1.1: every value
    /// below is then a default, not the broker's word.
    pub announced: bool,
    /// Maximum QoS (0x24, §3.2.2.3.4): the highest QoS the broker accepts in a PUBLISH from us;
    /// absent means 2. A client must not send more ([MQTT-3.2.2-11]). Under MQTT 3.1.1, the
    /// one the session learned when it did ([`BrokerCapabilities::maximum_qos_learned`]).
    pub maximum_qos: QoS,
    /// MQTT 3.1.1: how the session learned `maximum_qos`, which the CONNACK could not state;
    /// `None` while it has learned nothing (and always under 5.0).
    pub maximum_qos_learned: Option<LearnedMaximumQoS>,
    /// Retain Available (0x25, §3.2.2.3.5): whether the broker keeps retained messages;
    /// absent means yes. A retained PUBLISH or a Will with Retain to a broker without them is
    /// refused ([MQTT-3.2.2-14]).
    pub retain_available: bool,
    /// Wildcard Subscription Available (0x28, §3.2.2.3.11): whether filters with `+` or `#`
    /// are allowed; absent means yes.
    pub wildcard_subscription_available: bool,
    /// Shared Subscription Available (0x2A, §3.2.2.3.13): whether `$share/{group}/{filter}`
    /// is allowed; absent means yes.
    pub shared_subscription_available: bool,
    /// Subscription Identifiers Available (0x29, §3.2.2.3.12); absent means yes.
    pub subscription_identifiers_available: bool,
    /// Maximum Packet Size (0x27, §3.2.2.3.6), in bytes, fixed header included: the largest
    /// packet the broker accepts from us; `None` (absent) means only the protocol's limit
    /// (268,435,460 bytes).
    pub maximum_packet_size: Option<u32>,
    /// Topic Alias Maximum (0x22, §3.2.2.3.8): how many topic aliases we may use; absent
    /// means 0 (none).
    pub topic_alias_maximum: u16,
    /// Receive Maximum (0x21, §3.2.2.3.3): how many of our QoS 1 and 2 messages may await
    /// acknowledgement at once; absent means 65,535.
    pub receive_maximum: u16,
    /// Server Keep Alive (0x13, §3.2.2.3.14), in seconds: the keepalive the broker imposes
    /// instead of ours; `None` when it keeps ours.
    pub server_keep_alive: Option<u16>,
    /// The properties above that the CONNACK stated, in the order of [`BrokerCapabilities::rows`]
    /// (the others are defaults).
    stated: Vec<PropertyId>,
}

/// One line of the capabilities display: a CONNACK property, its value in words, and whether
/// the broker stated it or the default is assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityRow {
    /// The property's name in the specification, e.g. `Maximum QoS`.
    pub property: &'static str,
    /// Its identifier, e.g. `0x24`.
    pub id: PropertyId,
    /// The value: `1`, `yes`, `no`, `1048576 bytes`, `no limit` …
    pub value: String,
    /// True if the CONNACK carried the property; false if absent and the default assumed.
    pub stated: bool,
    /// MQTT 3.1.1: how the value was learned, since the CONNACK could not state it (only
    /// Maximum QoS, see [`LearnedMaximumQoS`]); `None` for a stated or default value.
    pub learned: Option<String>,
}

impl BrokerCapabilities {
    /// What a broker that says nothing allows: the MQTT 5.0 defaults, as under 3.1.1.
    pub fn defaults(protocol: ProtocolVersion) -> Self {
        BrokerCapabilities {
            protocol,
            announced: protocol == ProtocolVersion::V5,
            maximum_qos: QoS::ExactlyOnce,
            maximum_qos_learned: None,
            retain_available: true,
            wildcard_subscription_available: true,
            shared_subscription_available: true,
            subscription_identifiers_available: true,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            receive_maximum: u16::MAX,
            server_keep_alive: None,
            stated: Vec::new(),
        }
    }

    /// The capabilities an accepting CONNACK of a `protocol` connection states (its
    /// properties; none in 3.1.1), the default for each one absent.
    pub fn of(protocol: ProtocolVersion, ack: &ConnAck) -> Self {
        let mut caps = Self::defaults(protocol);
        if protocol != ProtocolVersion::V5 {
            return caps;
        }
        for property in &ack.properties {
            let id = property.id();
            let known = match property {
                Property::MaximumQoS(q) => {
                    caps.maximum_qos = *q;
                    true
                }
                Property::RetainAvailable(v) => {
                    caps.retain_available = *v;
                    true
                }
                Property::WildcardSubscriptionAvailable(v) => {
                    caps.wildcard_subscription_available = *v;
                    true
                }
                Property::SharedSubscriptionAvailable(v) => {
                    caps.shared_subscription_available = *v;
                    true
                }
                Property::SubscriptionIdentifierAvailable(v) => {
                    caps.subscription_identifiers_available = *v;
                    true
                }
                Property::MaximumPacketSize(v) => {
                    caps.maximum_packet_size = Some(*v);
                    true
                }
                Property::TopicAliasMaximum(v) => {
                    caps.topic_alias_maximum = *v;
                    true
                }
                Property::ReceiveMaximum(v) => {
                    caps.receive_maximum = *v;
                    true
                }
                Property::ServerKeepAlive(v) => {
                    caps.server_keep_alive = Some(*v);
                    true
                }
                _ => false,
            };
            if known && !caps.stated.contains(&id) {
                caps.stated.push(id);
            }
        }
        caps
    }

    /// These capabilities with the maximum QoS an MQTT 3.1.1 session learned, if lower than
    /// the one assumed.
    pub fn with_learned(mut self, learned: Option<&LearnedMaximumQoS>) -> Self {
        if let Some(learned) = learned.filter(|l| l.maximum < self.maximum_qos) {
            self.maximum_qos = learned.maximum;
            self.maximum_qos_learned = Some(learned.clone());
        }
        self
    }

    /// Whether the CONNACK carried the property `id`.
    pub fn stated(&self, id: PropertyId) -> bool {
        self.stated.contains(&id)
    }

    /// The QoS to publish at when `wanted` is asked for: `wanted`, or the broker's Maximum QoS
    /// if that is lower ([MQTT-3.2.2-11]).
    pub fn cap_qos(&self, wanted: QoS) -> QoS {
        wanted.min(self.maximum_qos)
    }

    /// Every capability as a line of the display, in a fixed order: Maximum QoS, Retain
    /// Available, Wildcard Subscription Available, Shared Subscription Available, Maximum
    /// Packet Size, Topic Alias Maximum, Receive Maximum, Server Keep Alive, Subscription
    /// Identifiers Available.
    pub fn rows(&self) -> Vec<CapabilityRow> {
        let yes_no = |v: bool| if v { "yes" } else { "no" }.to_owned();
        let row = |property, id, value| CapabilityRow {
            property,
            id,
            value,
            stated: self.stated(id),
            learned: (id == PropertyId::MaximumQoS)
                .then(|| {
                    self.maximum_qos_learned
                        .as_ref()
                        .map(|l| l.evidence.to_string())
                })
                .flatten(),
        };
        vec![
            row(
                "Maximum QoS",
                PropertyId::MaximumQoS,
                self.maximum_qos.level().to_string(),
            ),
            row(
                "Retain Available",
                PropertyId::RetainAvailable,
                yes_no(self.retain_available),
            ),
            row(
                "Wildcard Subscription Available",
                PropertyId::WildcardSubscriptionAvailable,
                yes_no(self.wildcard_subscription_available),
            ),
            row(
                "Shared Subscription Available",
                PropertyId::SharedSubscriptionAvailable,
                yes_no(self.shared_subscription_available),
            ),
            row(
                "Maximum Packet Size",
                PropertyId::MaximumPacketSize,
                self.maximum_packet_size
                    .map_or_else(|| "no limit".to_owned(), |m| format!("{m} bytes")),
            ),
            row(
                "Topic Alias Maximum",
                PropertyId::TopicAliasMaximum,
                self.topic_alias_maximum.to_string(),
            ),
            row(
                "Receive Maximum",
                PropertyId::ReceiveMaximum,
                self.receive_maximum.to_string(),
            ),
            row(
                "Server Keep Alive",
                PropertyId::ServerKeepAlive,
                self.server_keep_alive
                    .map_or_else(|| "ours".to_owned(), |s| format!("{s} s")),
            ),
            row(
                "Subscription Identifiers Available",
                PropertyId::SubscriptionIdentifierAvailable,
                yes_no(self.subscription_identifiers_available),
            ),
        ]
    }
}

/// What a refusing CONNACK tells of the broker's capabilities. A broker states them only in a
/// CONNACK that accepts (MQTT 5.0 §3.2.2.3; a 3.1.1 CONNACK never does), so after a refusal
/// they are unknown, except what the refusal itself names: 0x9B QoS not supported (a Will QoS
/// above the broker's Maximum QoS, [MQTT-3.2.2-12]), 0x9A Retain not supported (a retained
/// Will, [MQTT-3.2.2-13]), 0x95 Packet too large (our CONNECT is over its Maximum Packet
/// Size); and 0x84 Unsupported Protocol Version (3.1.1's return code 1) says the broker will
/// state none of them in this version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedCapabilities {
    /// The refusal in words, as [`ConnectionError::Refused`](crate::ConnectionError::Refused)
    /// says it after "the broker refused the connection: ", e.g. `Not authorized (0x87)`.
    pub reason: String,
    /// What it means for the capabilities, in one or two sentences.
    pub meaning: String,
    /// The capabilities the refusal tells something of (marked stated), in the order of
    /// [`BrokerCapabilities::rows`]; empty when it tells nothing of any.
    pub rows: Vec<CapabilityRow>,
}

impl RefusedCapabilities {
    /// What the refusing `connack` of a `protocol` CONNECT tells of the capabilities.
    pub fn of(protocol: ProtocolVersion, connack: &ConnAck) -> Self {
        let told = |property, id, value: String| CapabilityRow {
            property,
            id,
            value,
            stated: true,
            learned: None,
        };
        let unknown_rest = "the others are unknown until the broker accepts a CONNECT";
        let (meaning, rows) = match connack.code {
            ReasonCode::UnsupportedProtocolVersion => (
                format!(
                    "The broker does not speak MQTT {}, so it states none of its capabilities to \
                     this client: choose the other version under Protocol (a 3.1.1 CONNACK \
                     states none of them either).",
                    match protocol {
                        ProtocolVersion::V311 => "3.1.1",
                        ProtocolVersion::V5 => "5.0",
                    }
                ),
                Vec::new(),
            ),
            ReasonCode::QoSNotSupported => {
                let value = connack.properties.maximum_qos().map_or_else(
                    || "below the QoS of our Last Will".to_owned(),
                    |q| q.level().to_string(),
                );
                (
                    format!(
                        "The broker takes no Will at our Will's QoS: its Maximum QoS is lower \
                         (MQTT 5.0 [MQTT-3.2.2-12]); {unknown_rest}."
                    ),
                    vec![told("Maximum QoS", PropertyId::MaximumQoS, value)],
                )
            }
            ReasonCode::RetainNotSupported => (
                format!(
                    "The broker keeps no retained messages, so it takes no retained Will (MQTT \
                     5.0 [MQTT-3.2.2-13]); {unknown_rest}."
                ),
                vec![told(
                    "Retain Available",
                    PropertyId::RetainAvailable,
                    "no".to_owned(),
                )],
            ),
            ReasonCode::PacketTooLarge => (
                format!(
                    "Our CONNECT is larger than the broker takes (a long Will, or credentials); \
                     {unknown_rest}."
                ),
                vec![told(
                    "Maximum Packet Size",
                    PropertyId::MaximumPacketSize,
                    "smaller than our CONNECT".to_owned(),
                )],
            ),
            _ => (
                "A broker states what it can do only in a CONNACK that accepts: none of its \
                 capabilities is known until it accepts one of these services (fix what the \
                 refusal names, then Try again)."
                    .to_owned(),
                Vec::new(),
            ),
        };
        RefusedCapabilities {
            reason: crate::session::refusal(protocol, connack),
            meaning,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::tests::decode;
    use crate::packet::{Packet, Properties, ReasonCode};

    /// A 5.0 CONNACK decoded from its bytes, so the tests read the wire form.
    fn decoded(bytes: &[u8], version: ProtocolVersion) -> ConnAck {
        match decode(bytes, version).expect("a CONNACK") {
            Packet::ConnAck(ack) => ack,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_v5_connack_s_properties_become_capabilities_and_the_rest_defaults() {
        // 0x20, remaining 15: flags 0, reason 0, properties 12:
        // 0x24 1 (Maximum QoS 1), 0x25 0 (Retain Available 0), 0x27 00 00 07 D0 (2000 bytes),
        // 0x22 00 0A (Topic Alias Maximum 10).
        let ack = decoded(
            &[
                0x20, 15, 0, 0, 12, 0x24, 1, 0x25, 0, 0x27, 0, 0, 0x07, 0xD0, 0x22, 0, 10,
            ],
            ProtocolVersion::V5,
        );
        let caps = BrokerCapabilities::of(ProtocolVersion::V5, &ack);
        assert!(caps.announced);
        assert_eq!(caps.maximum_qos, QoS::AtLeastOnce);
        assert!(!caps.retain_available);
        assert_eq!(caps.maximum_packet_size, Some(2000));
        assert_eq!(caps.topic_alias_maximum, 10);
        assert!(caps.wildcard_subscription_available && caps.shared_subscription_available);
        assert_eq!(caps.receive_maximum, u16::MAX);
        assert_eq!(caps.cap_qos(QoS::ExactlyOnce), QoS::AtLeastOnce);
        assert_eq!(caps.cap_qos(QoS::AtMostOnce), QoS::AtMostOnce);
        let rows = caps.rows();
        let shown: Vec<_> = rows
            .iter()
            .map(|r| (r.property, r.value.as_str(), r.stated))
            .collect();
        assert_eq!(
            shown,
            [
                ("Maximum QoS", "1", true),
                ("Retain Available", "no", true),
                ("Wildcard Subscription Available", "yes", false),
                ("Shared Subscription Available", "yes", false),
                ("Maximum Packet Size", "2000 bytes", true),
                ("Topic Alias Maximum", "10", true),
                ("Receive Maximum", "65535", false),
                ("Server Keep Alive", "ours", false),
                ("Subscription Identifiers Available", "yes", false),
            ]
        );
    }

    #[test]
    fn every_capability_property_is_read() {
        let mut ack = ConnAck::new(false, ReasonCode::Success);
        ack.properties = Properties::new()
            .with(Property::WildcardSubscriptionAvailable(false))
            .with(Property::SharedSubscriptionAvailable(false))
            .with(Property::SubscriptionIdentifierAvailable(false))
            .with(Property::ReceiveMaximum(20))
            .with(Property::ServerKeepAlive(30))
            .with(Property::MaximumQoS(QoS::AtMostOnce))
            .with(Property::AssignedClientIdentifier("auto-1".into()));
        let caps = BrokerCapabilities::of(ProtocolVersion::V5, &ack);
        assert!(!caps.wildcard_subscription_available);
        assert!(!caps.shared_subscription_available);
        assert!(!caps.subscription_identifiers_available);
        assert_eq!(caps.receive_maximum, 20);
        assert_eq!(caps.server_keep_alive, Some(30));
        assert_eq!(caps.maximum_qos, QoS::AtMostOnce);
        assert_eq!(caps.rows().iter().filter(|r| r.stated).count(), 6);
        assert!(caps.rows().iter().any(|r| r.value == "30 s"));
    }

    #[test]
    fn a_maximum_qos_learned_under_3_1_1_shows_in_its_row_with_how() {
        let ack = decoded(&[0x20, 2, 0, 0], ProtocolVersion::V311);
        let learned = LearnedMaximumQoS {
            maximum: QoS::AtLeastOnce,
            evidence: QoSEvidence::ClosedAfterPublish {
                topic: "orders/created".into(),
            },
        };
        let caps = BrokerCapabilities::of(ProtocolVersion::V311, &ack).with_learned(Some(&learned));
        assert!(!caps.announced);
        assert_eq!(caps.cap_qos(QoS::ExactlyOnce), QoS::AtLeastOnce);
        let row = &caps.rows()[0];
        assert_eq!(
            (row.property, row.value.as_str(), row.stated),
            ("Maximum QoS", "1", false)
        );
        assert!(row
            .learned
            .as_deref()
            .is_some_and(|l| l.contains("closed the connection twice")));
        assert!(caps.rows()[1..].iter().all(|r| r.learned.is_none()));
        // Not lower than a stated maximum: nothing changes.
        let mut strict = ConnAck::new(false, ReasonCode::Success);
        strict.properties.add(Property::MaximumQoS(QoS::AtMostOnce));
        let caps =
            BrokerCapabilities::of(ProtocolVersion::V5, &strict).with_learned(Some(&learned));
        assert_eq!(
            (caps.maximum_qos, caps.maximum_qos_learned),
            (QoS::AtMostOnce, None)
        );
    }

    #[test]
    fn a_refusal_says_what_it_means_for_the_capabilities() {
        let wrong_password = decoded(&[0x20, 2, 0, 5], ProtocolVersion::V311);
        let refused = RefusedCapabilities::of(ProtocolVersion::V311, &wrong_password);
        assert!(
            refused.reason.contains("return code 5"),
            "{}",
            refused.reason
        );
        assert!(refused
            .meaning
            .contains("none of its capabilities is known"));
        assert_eq!(refused.rows, []);
        // aedes, asked for MQTT 5.0.
        let unsupported = ConnAck::new(false, ReasonCode::UnsupportedProtocolVersion);
        let refused = RefusedCapabilities::of(ProtocolVersion::V5, &unsupported);
        assert_eq!(refused.reason, "Unsupported Protocol Version (0x84)");
        assert!(
            refused.meaning.contains("does not speak MQTT 5.0"),
            "{}",
            refused.meaning
        );
        // A refusal for our Will's QoS names Maximum QoS, with the value if the broker gave it.
        let mut qos = ConnAck::new(false, ReasonCode::QoSNotSupported);
        qos.properties.add(Property::MaximumQoS(QoS::AtMostOnce));
        let rows = RefusedCapabilities::of(ProtocolVersion::V5, &qos).rows;
        let shown: Vec<_> = rows
            .iter()
            .map(|r| (r.property, r.value.as_str(), r.stated))
            .collect();
        assert_eq!(shown, [("Maximum QoS", "0", true)]);
        let retain = ConnAck::new(false, ReasonCode::RetainNotSupported);
        let rows = RefusedCapabilities::of(ProtocolVersion::V5, &retain).rows;
        assert_eq!(
            (rows[0].property, rows[0].value.as_str()),
            ("Retain Available", "no")
        );
    }

    #[test]
    fn a_3_1_1_connack_announces_nothing_and_everything_is_assumed() {
        let ack = decoded(&[0x20, 2, 0, 0], ProtocolVersion::V311);
        let caps = BrokerCapabilities::of(ProtocolVersion::V311, &ack);
        assert!(!caps.announced);
        assert_eq!(caps, BrokerCapabilities::defaults(ProtocolVersion::V311));
        assert!(caps.rows().iter().all(|r| !r.stated));
        assert_eq!(caps.maximum_qos, QoS::ExactlyOnce);
    }
}
