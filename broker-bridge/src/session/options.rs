//! How a session connects ([`Options`]) and what the application asks to publish
//! ([`PublishRequest`]).

use std::time::Duration;

use crate::packet::{
    Connect, LastWill, Properties, Property, ProtocolVersion, QoS, MAX_PACKET_SIZE,
};

/// How a session connects and behaves. [`Options::new`] gives the defaults; change fields
/// before [`Session::new`](super::Session::new).
///
/// ```
/// use std::time::Duration;
/// use broker_bridge::{Options, ProtocolVersion};
///
/// let options = Options::new("eda-demo-payment");
/// assert_eq!(options.keep_alive, Duration::from_secs(30));
/// assert_eq!(options.connect_timeout, Duration::from_secs(10));
/// assert_eq!(options.ping_timeout, Duration::from_secs(10));
/// assert_eq!(options.max_packet_size, 256 * 1024);
/// assert_eq!(options.offline_queue_limit, 100);
/// assert_eq!(options.reconnect_min, Duration::from_millis(500));
/// assert_eq!(options.reconnect_max, Duration::from_secs(10));
/// assert_eq!(options.healthy_after, Duration::from_secs(5));
/// assert_eq!(options.protocol, ProtocolVersion::V311);
/// assert_eq!(options.v5().protocol, ProtocolVersion::V5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The client identifier the broker knows us by; a second connection with the same one
    /// takes the session over and the first is disconnected. Brokers must accept 1 to 23
    /// letters and digits ([MQTT-3.1.3-5]). Empty asks the broker to choose (5.0: see
    /// [`Session::assigned_client_id`](super::Session::assigned_client_id)); a 3.1.1
    /// broker refuses that unless `clean_session` is set ([MQTT-3.1.3-8]).
    pub client_id: String,
    /// Default 30 s. Rounded down to whole seconds on the wire and capped at 65,535 s; zero
    /// turns keepalive off. In MQTT 5.0 the broker may impose another value (Server Keep
    /// Alive, [MQTT-3.2.2-21]).
    pub keep_alive: Duration,
    /// Default `true`. Clean Session in MQTT 3.1.1, Clean Start in MQTT 5.0: start without the
    /// state the broker kept from an earlier connection. (In 3.1.1, `false` also asks the
    /// broker to keep the session after this connection; in 5.0 that is `session_expiry`.)
    pub clean_session: bool,
    /// Default `None`. The message the broker publishes if we vanish without DISCONNECT.
    pub will: Option<LastWill>,
    /// Default 256 KiB (262,144 bytes). The largest packet accepted from the broker, fixed
    /// header included. MQTT 5.0 tells the broker (Maximum Packet Size), so it does not send
    /// bigger ones ([MQTT-3.1.2-24]), and one that does loses the connection
    /// ([`ProtocolViolation::Malformed`](super::ProtocolViolation::Malformed)). MQTT 3.1.1
    /// cannot tell it: a larger PUBLISH is skipped unread and acknowledged
    /// ([`Event::MessageTooLarge`](super::Event::MessageTooLarge)); any other packet that large
    /// loses the connection.
    pub max_packet_size: usize,
    /// Default 10 s. How long a connection attempt may take, from starting to open the
    /// transport ([`Session::handle_transport_opening`](super::Session::handle_transport_opening):
    /// the WebSocket handshake) to the broker's CONNACK, before
    /// [`ConnectionError::OpenTimeout`](super::ConnectionError::OpenTimeout) (the WebSocket
    /// never opened) or [`ConnectionError::ConnectTimeout`](super::ConnectionError::ConnectTimeout)
    /// (no CONNACK). MQTT 3.1.1 and 5.0 §3.1.4 (non-normative) let a client close a connection
    /// whose CONNACK does not come "within a reasonable amount of time"; MQTT.js's
    /// `connectTimeout` bounds the same wait at 30 s. 10 s is shorter because a page waits
    /// with its user: a broker on a LAN or localhost answers in milliseconds, one across the
    /// world within a second or two.
    pub connect_timeout: Duration,
    /// Default 10 s. How long to wait for PINGRESP after PINGREQ, before
    /// [`ConnectionError::KeepaliveTimeout`](super::ConnectionError::KeepaliveTimeout).
    pub ping_timeout: Duration,
    /// Default 100. How many publishes made while offline are kept for the next connection;
    /// one more is refused with
    /// [`SessionError::OfflineQueueFull`](super::SessionError::OfflineQueueFull).
    pub offline_queue_limit: usize,
    /// Default [`ProtocolVersion::V311`]. The MQTT version the connection speaks.
    pub protocol: ProtocolVersion,
    /// Default `None`. MQTT 5.0: how long the broker keeps our session (subscriptions,
    /// unacknowledged messages) after the connection ends, in whole seconds, capped at
    /// 0xFFFFFFFF (never expires). `None` ends it with the connection (§3.1.2.11.2).
    pub session_expiry: Option<Duration>,
    /// Default 65,535. MQTT 5.0: how many QoS 1 and 2 messages the broker may have in flight
    /// to us at once; more lose the connection ([`ReceiveMaximumExceeded`]). 65,535, the
    /// protocol's default, is not sent.
    ///
    /// [`ReceiveMaximumExceeded`]: super::ProtocolViolation::ReceiveMaximumExceeded
    pub receive_maximum: u16,
    /// Default empty. MQTT 5.0: user properties sent with CONNECT, in order.
    pub connect_user_properties: Vec<(String, String)>,
    /// Default 500 ms. The first delay before reconnecting after a loss
    /// ([`Session::reconnect_delay`](super::Session::reconnect_delay)); doubled after each
    /// attempt until a connection proves healthy.
    pub reconnect_min: Duration,
    /// Default 10 s. The longest delay between reconnects (before up to a fifth of jitter
    /// comes off).
    pub reconnect_max: Duration,
    /// Default `None`. The CONNECT's User Name (§3.1.3.5), at most 65,535 bytes of UTF-8.
    /// Never shown: the CONNECT in [`Event::Packet`](super::Event::Packet) carries it redacted
    /// ([`Connect::redacted`]).
    pub username: Option<String>,
    /// Default `None`. The CONNECT's Password (§3.1.3.6), at most 65,535 bytes; in 3.1.1 only
    /// with a user name ([MQTT-3.1.2-22]). Redacted like the user name.
    pub password: Option<Vec<u8>>,
    /// Default 5 s. How long an accepted connection must live to count as healthy, unless it
    /// carries a message first (a live message in, or one of ours acknowledged). Only a healthy
    /// connection starts the reconnect delays over; one that dies sooner is
    /// [`ConnectionError::ClosedAfterAccept`](super::ConnectionError::ClosedAfterAccept).
    pub healthy_after: Duration,
    /// Default `false`: a QoS 1 PUBLISH received is answered with PUBACK, and a QoS 2 one with
    /// PUBREC, as it arrives. When `true` the answer waits until the application says it has
    /// made the message safe ([`Session::acknowledge`](super::Session::acknowledge), with the
    /// message's [`DeliveryToken`](super::DeliveryToken)); answers still go in the order the
    /// messages came (MQTT 3.1.1 §4.6, [MQTT-4.6.0-2] and [MQTT-4.6.0-3]; 5.0 §4.6). Until then
    /// the broker holds the message for the session: if the connection ends first, it sends it
    /// again on the next (with a persistent session, MQTT 3.1.1 §4.4), and the application is
    /// given it again. A broker delivers no more unanswered QoS 1 and 2 messages than its own
    /// limit (Mosquitto: `max_inflight_messages`), so slow answers slow the flow to this client.
    pub manual_acks: bool,
}

impl Options {
    /// MQTT 3.1.1 options for `client_id`, with the defaults given on each field: keepalive
    /// 30 s, CONNACK and PINGRESP timeouts 10 s each, packets up to 256 KiB, 100 publishes
    /// queued while offline, clean session, no will, reconnects after 0.5 s growing to 10 s,
    /// healthy after 5 s,
    /// messages answered as they arrive.
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
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(10),
            healthy_after: Duration::from_secs(5),
            username: None,
            password: None,
            manual_acks: false,
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
        connect.username = self.username.clone();
        connect.password = self.password.clone();
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
    /// The topic name; no wildcards.
    pub topic: String,
    /// The message body, any bytes.
    pub payload: Vec<u8>,
    /// The QoS to publish with.
    pub qos: QoS,
    /// Whether the broker keeps it for future subscribers of the topic.
    pub retain: bool,
    /// MQTT 5.0 only (must stay empty in 3.1.1): User Property, Response Topic, Correlation
    /// Data, Message Expiry Interval, Content Type, Payload Format Indicator.
    pub properties: Properties,
}

impl PublishRequest {
    /// A message that is not retained and has no properties.
    pub fn new(topic: impl Into<String>, payload: impl Into<Vec<u8>>, qos: QoS) -> Self {
        PublishRequest {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain: false,
            properties: Properties::new(),
        }
    }

    /// Sets [`PublishRequest::retain`].
    pub fn retained(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    /// Adds a property ([`Properties::add`]: a second one of a kind replaces the first, except
    /// user properties).
    pub fn with_property(mut self, property: Property) -> Self {
        self.properties.add(property);
        self
    }

    /// Appends a user property, e.g. a `correlationId`.
    pub fn with_user_property(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with_property(Property::UserProperty(name.into(), value.into()))
    }
}
