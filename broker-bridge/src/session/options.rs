//! How a session connects ([`Options`]) and what the application asks to publish
//! ([`PublishRequest`]).

use std::time::Duration;

use crate::packet::{
    Connect, LastWill, Properties, Property, ProtocolVersion, QoS, MAX_PACKET_SIZE,
};

/// How a session connects and behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub client_id: String,
    /// Rounded down to whole seconds on the wire; zero turns keepalive off. In MQTT 5.0 the
    /// broker may impose another value (Server Keep Alive).
    pub keep_alive: Duration,
    /// Clean Session in MQTT 3.1.1, Clean Start in MQTT 5.0: start without the state the broker
    /// kept from an earlier connection.
    pub clean_session: bool,
    pub will: Option<LastWill>,
    /// The largest packet accepted from the broker, fixed header included. MQTT 5.0 tells the
    /// broker (Maximum Packet Size), so it does not send bigger ones.
    pub max_packet_size: usize,
    /// How long to wait for CONNACK after CONNECT.
    pub connect_timeout: Duration,
    /// How long to wait for PINGRESP after PINGREQ.
    pub ping_timeout: Duration,
    /// How many publishes made while offline are kept for the next connection.
    pub offline_queue_limit: usize,
    /// The MQTT version this connection speaks: 3.1.1 unless set.
    pub protocol: ProtocolVersion,
    /// MQTT 5.0: how long the broker keeps our session (subscriptions, unacknowledged messages)
    /// after the connection ends, in whole seconds. `None` ends it with the connection.
    pub session_expiry: Option<Duration>,
    /// MQTT 5.0: how many QoS 1 and 2 messages the broker may have in flight to us at once.
    /// 65 535, the protocol's default, is not sent.
    pub receive_maximum: u16,
    /// MQTT 5.0: user properties sent with CONNECT.
    pub connect_user_properties: Vec<(String, String)>,
}

impl Options {
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            keep_alive: Duration::from_secs(30),
            clean_session: true,
            will: None,
            max_packet_size: 256 * 1024,
            connect_timeout: Duration::from_secs(10),
            ping_timeout: Duration::from_secs(10),
            offline_queue_limit: 100,
            protocol: ProtocolVersion::V311,
            session_expiry: None,
            receive_maximum: u16::MAX,
            connect_user_properties: Vec::new(),
        }
    }

    /// The same options speaking MQTT 5.0.
    pub fn v5(mut self) -> Self {
        self.protocol = ProtocolVersion::V5;
        self
    }

    /// The CONNECT these options make.
    pub(crate) fn connect(&self) -> Connect {
        let secs = |d: Duration| d.as_secs();
        let mut connect = Connect::new(
            self.protocol,
            self.client_id.clone(),
            secs(self.keep_alive).min(u16::MAX.into()) as u16,
        );
        connect.clean_session = self.clean_session;
        connect.will = self.will.clone();
        if self.protocol == ProtocolVersion::V5 {
            let props = &mut connect.properties;
            if let Some(expiry) = self.session_expiry {
                let secs = secs(expiry).min(u32::MAX.into()) as u32;
                props.add(Property::SessionExpiryInterval(secs));
            }
            if self.receive_maximum != u16::MAX {
                props.add(Property::ReceiveMaximum(self.receive_maximum));
            }
            if self.max_packet_size < MAX_PACKET_SIZE {
                props.add(Property::MaximumPacketSize(self.max_packet_size as u32));
            }
            // We resolve no topic aliases: the broker must send every topic in full.
            props.add(Property::TopicAliasMaximum(0));
            for (name, value) in &self.connect_user_properties {
                props.add(Property::UserProperty(name.clone(), value.clone()));
            }
        }
        connect
    }
}

/// A message to publish, with its MQTT 5.0 properties.
///
/// ```
/// use broker_bridge::{PublishRequest, QoS};
/// use broker_bridge::packet::Property;
///
/// let request = PublishRequest::new("orders/created", b"{}".to_vec(), QoS::AtLeastOnce)
///     .with_user_property("correlationId", "3fa85f64")
///     .with_property(Property::ResponseTopic("orders/replies".into()))
///     .with_property(Property::CorrelationData(b"req-1".to_vec()));
/// assert_eq!(request.properties.user_property("correlationId"), Some("3fa85f64"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
    /// MQTT 5.0 only (must stay empty in 3.1.1): User Property, Response Topic, Correlation
    /// Data, Message Expiry Interval, Content Type, Payload Format Indicator.
    pub properties: Properties,
}

impl PublishRequest {
    pub fn new(topic: impl Into<String>, payload: impl Into<Vec<u8>>, qos: QoS) -> Self {
        PublishRequest {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain: false,
            properties: Properties::new(),
        }
    }

    pub fn retained(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    pub fn with_property(mut self, property: Property) -> Self {
        self.properties.add(property);
        self
    }

    pub fn with_user_property(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with_property(Property::UserProperty(name.into(), value.into()))
    }
}
