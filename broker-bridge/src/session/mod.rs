//! The sans-I/O MQTT client session, MQTT 3.1.1 or 5.0 per connection.
//!
//! [`Session`] owns the protocol state of one client and nothing else: no socket, no clock, no
//! timer. Its methods come in four kinds, after quinn-proto:
//! - getters (`status`, `client_id`, `connack`, …);
//! - `handle_*` for input: the transport opened, bytes arrived, the transport closed, a timer
//!   fired. Each takes `now`, the driver's monotonic clock as a [`Duration`] since any origin;
//! - commands from the application: [`Session::subscribe`], [`Session::publish`],
//!   [`Session::publish_with`], [`Session::disconnect`] …;
//! - `poll_*` for output: bytes to send ([`Session::poll_transmit`]), what happened
//!   ([`Session::poll_event`]) and when to call [`Session::handle_timeout`] next
//!   ([`Session::poll_timeout`]).
//!
//! A fatal problem (malformed bytes, a refused CONNECT, a keepalive timeout, the broker's
//! DISCONNECT) is reported as [`Event::ConnectionLost`]; the driver then closes the transport and
//! reconnects after [`Session::reconnect_delay`] with [`Session::handle_transport_open`].
//! The delays grow until a connection proves healthy, not merely accepted (see `health.rs`).
//! Subscriptions are made again on every new connection, even in a session the broker says it
//! kept (a broker restored from an older save may hold fewer), and unacknowledged publishes
//! re-sent.
//!
//! In MQTT 3.1.1 a PUBLISH larger than [`Options::max_packet_size`] does not cost the
//! connection: it is skipped unread, acknowledged as its QoS requires, and reported as
//! [`Event::MessageTooLarge`].
//!
//! In MQTT 5.0 the session also obeys the broker's CONNACK: Server Keep Alive replaces our
//! keepalive, Receive Maximum caps our QoS 1/2 messages in flight (the rest wait in order),
//! Maximum Packet Size, Maximum QoS and Retain Available refuse what the broker would not take.
//! Problems it detects in the broker's packets are answered with a DISCONNECT carrying a reason
//! code before the connection is declared lost.
//!
//! ## The broker's maximum QoS
//!
//! A client must not publish above the broker's maximum QoS (5.0 [MQTT-3.2.2-11]); a broker
//! may close the connection for it, and Mosquitto 2.0 does, under 3.1.1 too. The rule:
//! - **MQTT 5.0**: the maximum is the CONNACK's Maximum QoS (§3.2.2.3.4, absent means 2).
//! - **MQTT 3.1.1**: the CONNACK cannot say it, so the session learns it
//!   ([`Session::learned_maximum_qos`], [`Event::MaximumQoSLearned`]): from a SUBACK that
//!   grants a filter less than it asked ("The Server might grant a lower maximum QoS than the
//!   subscriber requested", §3.8.4; return codes 0x00-0x02, 0x80, §3.9.3), or, failing that,
//!   from the connection closed twice in a row, without a word, while the same QoS 2 PUBLISH
//!   awaited its PUBREC (then 1). One close teaches nothing: a broker may restart.
//! - Either way, a new publish above the maximum is refused
//!   ([`SessionError::QoSNotSupported`]; an application caps its QoS with
//!   [`BrokerCapabilities::cap_qos`]), and a message accepted before the maximum was known
//!   (queued, or in flight without its PUBACK or PUBREC) is sent at the maximum instead, and
//!   reported ([`Event::QoSLowered`]): never dropped, and never re-sent above it into the
//!   same close, connection after connection.

mod acks;
mod connection_error;
#[cfg(test)]
mod fake_broker;
mod health;
mod options;
mod packet_ids;
mod qos_ceiling;
mod receive;
mod send;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_acks;
#[cfg(test)]
mod tests_health;
#[cfg(test)]
mod tests_qos_ceiling;
#[cfg(test)]
mod tests_v5;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

pub use acks::DeliveryToken;
pub(crate) use connection_error::refusal;
pub use connection_error::{
    duration_text, BrokerFault, ConnectionError, ProtocolViolation, Takeover, ABNORMAL_CLOSURE,
};
pub use options::{Options, PublishRequest};

use crate::capabilities::{BrokerCapabilities, LearnedMaximumQoS};
use crate::codec::{Decoded, Decoder, OversizedPublish};
use crate::inflight::{InFlight, PacketIds};
use crate::keepalive::{Keepalive, KeepaliveAction};
use crate::packet::{
    ConnAck, Disconnect, EncodeError, Packet, PacketKind, PropertyId, PropertyPlace,
    ProtocolVersion, Publish, QoS, ReasonCode, SubscribeReturnCode, SubscriptionOptions,
    Unsubscribe,
};
use crate::topic::{self, TopicError};
use crate::trace::{Direction, PacketEvent};
use health::Health;

/// Where the session is in the life of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No transport, or the last one was lost or left: bytes are ignored, publishes queue.
    Offline,
    /// CONNECT sent, CONNACK awaited (for at most [`Options::connect_timeout`]).
    Connecting,
    /// The broker accepted CONNECT: packets flow.
    Connected,
}

/// What happened in the session, for the driver and the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A packet went out or came in. Every packet produces exactly one.
    Packet(PacketEvent),
    /// The broker accepted CONNECT. Every subscription is asked for again (also in a session it
    /// kept), and unacknowledged and queued publishes have been sent.
    Connected {
        /// The broker resumed the session it kept for our client id ([`ConnAck`]).
        session_present: bool,
    },
    /// The broker answered a SUBSCRIBE: one code per filter, in order. In MQTT 5.0 a refusal
    /// may be [`SubscribeReturnCode::Refused`] with its reason: test with
    /// [`SubscribeReturnCode::is_failure`]. Shared subscriptions (`$share/…`) on a connection
    /// whose CONNACK said Shared Subscription Available 0 are not sent (the broker may close
    /// the connection for them): they come back at once as refused with 0x9E, Shared
    /// Subscriptions not supported, and are asked again on the next connection.
    Subscribed {
        /// The filters of the SUBSCRIBE, with the QoS asked for each.
        filters: Vec<(String, QoS)>,
        /// The broker's answer for each filter, in the same order.
        granted: Vec<SubscribeReturnCode>,
    },
    /// The broker confirmed an UNSUBSCRIBE; in MQTT 5.0 with one reason code per filter (e.g.
    /// No subscription existed), empty in 3.1.1.
    Unsubscribed {
        /// The filters of the UNSUBSCRIBE.
        filters: Vec<String>,
        /// MQTT 5.0: one reason code per filter, in order; empty in 3.1.1.
        reasons: Vec<ReasonCode>,
    },
    /// An application message for this client; its MQTT 5.0 properties (user properties,
    /// correlation data, response topic …) are in `properties`.
    Message(Publish),
    /// MQTT 3.1.1: a message larger than [`Options::max_packet_size`] came, and was skipped
    /// without being read (and acknowledged, at QoS 1 or 2, so the broker does not send it
    /// again). Not an [`Event::Packet`]: only its head was read. Its acknowledgement is one.
    MessageTooLarge(OversizedPublish),
    /// The broker did something it must not, which the session worked around; the connection
    /// carries on.
    BrokerFault(BrokerFault),
    /// MQTT 5.0: the broker refused CONNECT because of our Will (0x9A Retain not supported for
    /// a retained Will, [MQTT-3.2.2-13]; 0x9B QoS not supported for a Will above its Maximum
    /// QoS, [MQTT-3.2.2-12]), and the session lowered the Will to what the broker takes for the
    /// next attempt. The text says what changed, e.g. `the Will is no longer retained: the broker
    /// refused CONNECT with Retain not supported (0x9A)`.
    WillAdjusted(String),
    /// The connection ended for want of a PINGRESP `missed` times in a row, each after the
    /// broker had accepted it: from the next PINGREQ on the session waits `wait` for the
    /// PINGRESP ([`Session::ping_wait_after`]). [`ping_wait_text`] says it in words.
    PingWaitLonger {
        /// Connections in a row that ended without a PINGRESP.
        missed: u32,
        /// The PINGRESP wait from now on.
        wait: Duration,
    },
    /// MQTT 3.1.1: the session learned the broker's maximum QoS (see the module's "The
    /// broker's maximum QoS"); its `Display` is the sentence for the page. From now on
    /// [`Session::capabilities`] says it. Not emitted for one told with
    /// [`Session::learn_maximum_qos`].
    MaximumQoSLearned(LearnedMaximumQoS),
    /// A message accepted before the broker's maximum QoS was known (queued, or in flight
    /// without its first acknowledgement) went out at that maximum instead of the QoS asked:
    /// sent, not dropped.
    QoSLowered {
        /// The packet identifier it is sent with; `None` at QoS 0, or if it was queued (a
        /// later [`Event::Delivered`] carries the one assigned).
        packet_id: Option<u16>,
        /// Its topic.
        topic: String,
        /// The QoS the application asked for.
        asked: QoS,
        /// The QoS it is sent at: the broker's maximum.
        sent: QoS,
    },
    /// One of our QoS 1 or 2 publishes was fully acknowledged: PUBACK (QoS 1) or PUBCOMP
    /// (QoS 2). In MQTT 5.0 a PUBACK with 0x10 No matching subscribers counts as delivered.
    Delivered {
        /// The packet identifier it was sent with.
        packet_id: u16,
        /// Its topic.
        topic: String,
    },
    /// One of our publishes did not get through: the broker refused it (MQTT 5.0 PUBACK or
    /// PUBREC with a reason code of 0x80 or more; `packet_id` is set), or a message queued while
    /// offline broke a limit the broker announced on reconnecting (`packet_id` is `None`).
    PublishFailed {
        /// The packet identifier it was sent with; `None` if it was never sent.
        packet_id: Option<u16>,
        /// Its topic.
        topic: String,
        /// Its payload, as given to publish: with the topic, what tells the caller which of its
        /// messages this was (one refused from the offline queue has no packet identifier).
        payload: Vec<u8>,
        /// Why, in words, e.g. `the broker refused the message: Quota exceeded (0x97)` or
        /// `not sent: the broker does not keep retained messages (Retain Available is 0)`.
        reason: String,
    },
    /// The connection is unusable; the driver must close the transport. Not emitted for
    /// [`Session::disconnect`], nor for a transport closed while already offline.
    ConnectionLost {
        /// Why; its `Display` is the sentence users read.
        reason: ConnectionError,
    },
}

/// What became of a publish the session accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publishing {
    /// Its PUBLISH is in the transmit queue.
    Sent {
        /// The packet identifier assigned; `None` at QoS 0. [`Event::Delivered`] or
        /// [`Event::PublishFailed`] will carry it.
        packet_id: Option<u16>,
    },
    /// Not sent yet: kept until the next connection, or (MQTT 5.0) until the broker's Receive
    /// Maximum lets another QoS 1/2 message be in flight. Sent in order.
    Queued {
        /// How many messages wait now, this one included.
        queued: usize,
    },
}

/// Why the session refused a command. Nothing was sent, and the session is unchanged except
/// where the command says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Offline, and [`Options::offline_queue_limit`] messages already wait.
    #[error("not connected and the offline queue is full ({limit} messages); the message was not accepted")]
    OfflineQueueFull {
        /// The limit.
        limit: usize,
    },
    /// A topic name or filter breaks MQTT's rules (§4.7).
    #[error(transparent)]
    InvalidTopic(#[from] TopicError),
    /// All 65,535 packet identifiers belong to unacknowledged messages or subscriptions.
    #[error("all packet identifiers are in use")]
    NoPacketId,
    /// The packet cannot be encoded in the version spoken, e.g. MQTT 5.0 properties on a
    /// 3.1.1 connection.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// MQTT 5.0: the packet is larger than the broker's Maximum Packet Size ([MQTT-3.2.2-15]).
    #[error("the {kind} is {size} bytes, more than the {max} the broker accepts (its Maximum Packet Size); nothing was sent")]
    PacketTooLarge {
        /// The packet.
        kind: PacketKind,
        /// Its size in bytes, fixed header included.
        size: usize,
        /// The broker's limit in bytes.
        max: usize,
    },
    /// MQTT 5.0: the message's QoS is above the broker's Maximum QoS ([MQTT-3.2.2-11]).
    /// Or MQTT 3.1.1: above the maximum the session learned ([`Session::learned_maximum_qos`]).
    #[error("the broker accepts messages up to QoS {} only (its Maximum QoS); this one asks for QoS {}", .maximum.level(), .requested.level())]
    QoSNotSupported {
        /// The QoS asked for.
        requested: QoS,
        /// The broker's Maximum QoS, stated (5.0) or learned (3.1.1).
        maximum: QoS,
    },
    /// MQTT 5.0: a retained message to a broker whose Retain Available is 0
    /// ([MQTT-3.2.2-14]).
    #[error("the broker does not keep retained messages (Retain Available is 0)")]
    RetainNotSupported,
    /// Topic Alias or Subscription Identifier on a message we publish: we announce no topic
    /// aliases, and a client must not send a Subscription Identifier (5.0 [MQTT-3.3.4-6]).
    #[error("{0} cannot be set on a message we publish: we use no topic aliases, and subscription identifiers are the broker's")]
    PropertyNotForPublish(PropertyId),
    /// MQTT 5.0: No Local on a shared subscription, a Protocol Error ([MQTT-3.8.3-4]).
    #[error("No Local cannot be set on the shared subscription {0:?} (MQTT 5.0 §3.8.3.1)")]
    NoLocalOnSharedSubscription(String),
}

/// How many QoS 2 PUBLISHes a session keeps in flight on MQTT 3.1.1, the rest queued until a
/// PUBCOMP frees a place. 3.1.1 has no Receive Maximum, but Mosquitto keeps at most
/// `max_inflight_messages` (20 by default, and in `static/mosquitto.conf`) QoS 2 messages of a
/// client awaiting PUBREL and discards any more while answering PUBREC as usual (a 3.1.1 PUBREC
/// has no reason code; 5.0's says 0x97 Quota exceeded): a newcomer's break-test lost a
/// reservation that way with *Publish twice* at QoS 2. QoS 1 needs no such state on the broker.
pub const V311_QOS2_IN_FLIGHT: usize = 20;

/// The longest the session waits for a PINGRESP ([`Session::ping_wait_after`]): 320 s, long
/// enough for about 12 MB at the 40 KB a second of Mosquitto 2.0.11's WebSocket listener.
pub const MAX_PING_WAIT: Duration = Duration::from_secs(320);

/// [`Event::PingWaitLonger`] in words, for a service's log: `missed` connections in a row ended
/// without a PINGRESP, and the session now waits `wait`.
pub fn ping_wait_text(missed: u32, wait: Duration) -> String {
    let times = match missed {
        1 => "once".to_owned(),
        2 => "twice in a row".to_owned(),
        n => format!("{n} times in a row"),
    };
    format!(
        "no PINGRESP came in time {times} on a connection the broker had accepted, so from now \
         on the service waits {} s for it. A broker answers a PINGREQ after what it is already \
         sending, and the page reads a message only once all of it has come: something large \
         may be crossing a slow link (under MQTT 3.1.1 the broker sends a message of any size; \
         Mosquitto's WebSocket listener sends about 40 KB a second). Until it is through the \
         service hears nothing on this connection. A broker limit (Mosquitto: max_packet_size) \
         or MQTT 5.0 (the page then announces its limit) keeps such messages away",
        wait.as_secs()
    )
}

/// What the broker's CONNACK allows (MQTT 5.0); unlimited in 3.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BrokerLimits {
    receive_maximum: usize,
    maximum_packet_size: Option<usize>,
    maximum_qos: QoS,
    retain_available: bool,
    shared_subscriptions: bool,
}

impl BrokerLimits {
    const NONE: BrokerLimits = BrokerLimits {
        receive_maximum: usize::MAX,
        maximum_packet_size: None,
        maximum_qos: QoS::ExactlyOnce,
        retain_available: true,
        shared_subscriptions: true,
    };

    fn of(ack: &ConnAck) -> Self {
        let p = &ack.properties;
        BrokerLimits {
            receive_maximum: p
                .receive_maximum()
                .map_or(usize::from(u16::MAX), usize::from),
            maximum_packet_size: p.maximum_packet_size().map(|m| m as usize),
            maximum_qos: p.maximum_qos().unwrap_or(QoS::ExactlyOnce),
            retain_available: p.retain_available().unwrap_or(true),
            shared_subscriptions: p.shared_subscription_available().unwrap_or(true),
        }
    }
}

/// The protocol state of one MQTT client: see the [module documentation](self) for how to
/// drive it, and the crate's for an example.
pub struct Session {
    options: Options,
    status: Status,
    decoder: Decoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    keepalive: Keepalive,
    /// Connections in a row that ended for want of a PINGRESP, each one the broker had accepted:
    /// the PINGRESP wait grows with them ([`Session::ping_wait_after`]); a PINGRESP within the
    /// options' wait, or a broker that cannot be reached, sets it back to 0.
    late_pingresps: u32,
    connect_deadline: Option<Duration>,
    /// While a transport is being opened ([`Session::handle_transport_opening`]): when the
    /// connect timeout runs out if it has not opened by then.
    opening_deadline: Option<Duration>,
    ids: PacketIds,
    outgoing: InFlight,
    /// QoS 2 messages received (PUBREC sent) whose PUBREL has not come: delivered once only.
    incoming_qos2: packet_ids::PacketIdSet,
    /// Filters the application asked for, re-subscribed on every new connection.
    subscriptions: Vec<(String, SubscriptionOptions)>,
    /// Filters the broker granted in the session it holds for us: asked again with Retain
    /// Handling 1 (MQTT 5.0) when it says it kept the session.
    confirmed: BTreeSet<String>,
    pending_subacks: HashMap<u16, Vec<(String, QoS)>>,
    pending_unsubacks: HashMap<u16, Vec<String>>,
    /// Publishes not sent yet: made while offline, or waiting for a Receive Maximum slot.
    unsent: VecDeque<Publish>,
    /// The CONNACK of the current connection.
    connack: Option<ConnAck>,
    limits: BrokerLimits,
    /// MQTT 3.1.1: the broker's maximum QoS, learned; kept across connections.
    learned_qos: Option<LearnedMaximumQoS>,
    /// MQTT 3.1.1: the QoS 2 PUBLISH that awaited its PUBREC when the last accepted connection
    /// closed without a word.
    qos2_closed: Option<u16>,
    health: Health,
    /// Answers to messages received, held for the application ([`Options::manual_acks`]).
    owed: acks::OwedAcks,
}

impl Session {
    /// An offline session; nothing happens until [`Session::handle_transport_open`]. Commands
    /// work at once: subscriptions wait for the connection, publishes queue.
    pub fn new(options: Options) -> Self {
        let health = Health::new(
            options.reconnect_min,
            options.reconnect_max,
            options.healthy_after,
        );
        Self {
            decoder: Decoder::new(options.max_packet_size, options.protocol),
            keepalive: Keepalive::new(options.keep_alive, options.ping_timeout),
            late_pingresps: 0,
            options,
            status: Status::Offline,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            connect_deadline: None,
            opening_deadline: None,
            ids: PacketIds::default(),
            outgoing: InFlight::default(),
            incoming_qos2: packet_ids::PacketIdSet::default(),
            subscriptions: Vec::new(),
            pending_subacks: HashMap::new(),
            pending_unsubacks: HashMap::new(),
            unsent: VecDeque::new(),
            connack: None,
            limits: BrokerLimits::NONE,
            learned_qos: None,
            qos2_closed: None,
            confirmed: BTreeSet::new(),
            health,
            owed: acks::OwedAcks::default(),
        }
    }

    /// Offline, connecting or connected.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The client identifier of [`Options::client_id`] (empty if the broker is to choose one:
    /// see [`Session::assigned_client_id`]).
    pub fn client_id(&self) -> &str {
        &self.options.client_id
    }

    /// The MQTT version this session speaks ([`Options::protocol`]).
    pub fn protocol(&self) -> ProtocolVersion {
        self.options.protocol
    }

    /// The client identifier the broker chose for us (MQTT 5.0, when we connected with an
    /// empty one).
    pub fn assigned_client_id(&self) -> Option<&str> {
        self.connack
            .as_ref()
            .and_then(|c| c.properties.assigned_client_identifier())
    }

    /// The broker's accepting CONNACK of the current connection (of the last one while
    /// offline), with its limits as properties.
    pub fn connack(&self) -> Option<&ConnAck> {
        self.connack.as_ref()
    }

    /// What the broker of the current connection (of the last one while offline) can do, read
    /// from its accepting CONNACK; `None` before the first. Under MQTT 3.1.1 every value is the
    /// default ([`BrokerCapabilities::announced`] is false) but the maximum QoS once learned
    /// ([`BrokerCapabilities::maximum_qos_learned`]).
    pub fn capabilities(&self) -> Option<BrokerCapabilities> {
        self.connack.as_ref().map(|ack| {
            BrokerCapabilities::of(self.options.protocol, ack)
                .with_learned(self.learned_qos.as_ref())
        })
    }

    /// The keepalive in force: ours, or the broker's Server Keep Alive (MQTT 5.0).
    pub fn keep_alive(&self) -> Duration {
        self.keepalive.interval()
    }

    /// Publishes not sent yet (offline, or waiting for the broker's Receive Maximum).
    pub fn queued(&self) -> usize {
        self.unsent.len()
    }

    /// Our QoS 1/2 publishes not yet fully acknowledged.
    pub fn in_flight(&self) -> usize {
        self.outgoing.len()
    }

    /// Our publishes not known to be safe with the broker, as requests to publish again: the
    /// QoS 1 and 2 ones in flight (lowest packet identifier first, a QoS 2 one even after its
    /// PUBREC) and then those not sent yet, in order. This is the client's session state
    /// (MQTT 3.1.1 §3.1.2.4, 5.0 §4.1) that a process keeping it on disk would still hold after
    /// it died: a new client publishes them again, as new messages (a subscriber may get one
    /// twice, at least once). QoS 0 messages sent are not kept: at most once.
    pub fn unacknowledged(&self) -> Vec<PublishRequest> {
        let request = |publish: &Publish| PublishRequest {
            topic: publish.topic.clone(),
            payload: publish.payload.clone(),
            qos: publish.qos,
            retain: publish.retain,
            properties: publish.properties.clone(),
        };
        self.outgoing
            .pending()
            .map(|(publish, _)| request(publish))
            .chain(self.unsent.iter().map(request))
            .collect()
    }

    /// Takes out our QoS 1 and 2 publishes in flight, with their packet identifiers and
    /// stages, to hand to the session that follows under the same client id
    /// ([`Session::adopt_in_flight`]); [`Session::unacknowledged`] then gives only those not
    /// sent yet.
    pub fn take_in_flight(&mut self) -> crate::inflight::Carried {
        self.outgoing.take()
    }

    /// Takes `carried` (another session's, under the same client id: [`Session::take_in_flight`])
    /// as its own publishes in flight, before connecting: after the CONNACK each is sent again
    /// as on any reconnection (§4.4), a PUBLISH with DUP 1 under its identifier, or its PUBREL;
    /// under Session Present 0, from its PUBLISH. Their MQTT 5.0 properties are dropped if this
    /// session speaks 3.1.1.
    pub fn adopt_in_flight(&mut self, carried: crate::inflight::Carried) {
        let carried = if self.options.protocol == ProtocolVersion::V311 {
            carried.without_properties()
        } else {
            carried
        };
        self.outgoing.adopt(carried);
    }

    // ---- input -------------------------------------------------------------------------------

    /// The driver starts opening a transport at `now` (e.g. creates the WebSocket, whose
    /// opening handshake follows): the connect timeout ([`Options::connect_timeout`]) starts.
    /// It covers the opening and the CONNACK together, as MQTT.js's `connectTimeout` does: if
    /// the transport has not opened when it runs out, [`Session::handle_timeout`] reports
    /// [`ConnectionError::OpenTimeout`] (a server that accepts the TCP connection and never
    /// answers the handshake leaves a browser's WebSocket opening for minutes); if it opened
    /// but no CONNACK came, [`ConnectionError::ConnectTimeout`]. Either way the driver closes
    /// the transport and reconnects after [`Session::reconnect_delay`], as after any loss.
    /// Optional: without it the timeout starts at [`Session::handle_transport_open`] and covers
    /// the CONNACK alone.
    pub fn handle_transport_opening(&mut self, now: Duration) {
        self.opening_deadline = Some(now + self.options.connect_timeout);
    }

    /// The transport is open: CONNECT is queued and the CONNACK deadline armed (what is left of
    /// the connect timeout started by [`Session::handle_transport_opening`], else all of it
    /// from `now`). Anything left
    /// from an earlier connection (unread bytes, unsent packets, pending SUBACKs, answers held
    /// for the application) is forgotten; unacknowledged publishes are kept for re-sending
    /// after CONNACK.
    pub fn handle_transport_open(&mut self, now: Duration) {
        self.decoder.clear();
        self.transmit.clear();
        // Answers held for the application die with the connection: the broker sends those
        // messages again, and a QoS 2 one is then delivered again (its PUBREC never went).
        for id in self.owed.next_connection() {
            self.incoming_qos2.remove(&id);
        }
        self.pending_subacks.clear();
        self.pending_unsubacks.clear();
        self.connack = None;
        self.limits = BrokerLimits::NONE;
        self.keepalive.set_interval(self.options.keep_alive);
        self.keepalive.reset(now);
        self.status = Status::Connecting;
        let deadline = self.opening_deadline.take();
        self.connect_deadline = Some(deadline.unwrap_or(now + self.options.connect_timeout));
        self.health.on_left();
        if let Err(e) = self.send(now, Packet::Connect(self.options.connect())) {
            self.lose(
                now,
                match e {
                    SessionError::Encode(e) => ConnectionError::InvalidConnect(e),
                    other => ConnectionError::AnswerFailed(other),
                },
            );
        }
    }

    /// Bytes from the transport, in whatever pieces they came. Ignored while offline. Bytes
    /// that are no valid packet lose the connection ([`ProtocolViolation::Malformed`]).
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        if self.status == Status::Offline {
            return;
        }
        self.decoder.push(bytes);
        loop {
            match self.decoder.next_item() {
                Ok(Some(Decoded::Oversized(publish))) => {
                    self.on_oversized(now, publish);
                    if self.status == Status::Offline {
                        return;
                    }
                }
                Ok(Some(Decoded::Packet(packet, raw))) => {
                    self.events.push_back(Event::Packet(PacketEvent {
                        at: now,
                        client_id: self.options.client_id.clone(),
                        direction: Direction::Incoming,
                        packet: packet.clone(),
                        bytes: raw,
                        protocol: self.options.protocol,
                        skipped: None,
                    }));
                    self.receive(now, packet);
                    if self.status == Status::Offline {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    self.fail(now, ProtocolViolation::Malformed(e));
                    return;
                }
            }
        }
    }

    /// The transport closed or failed at `now`; `reason` is how (the driver usually passes
    /// [`ConnectionError::TransportClosed`], [`ConnectionError::TransportFailed`] or
    /// [`ConnectionError::TextFrame`]). Emits [`Event::ConnectionLost`] with the reason in
    /// the session's words: a transport that closed after CONNECT becomes
    /// [`ConnectionError::ClosedBeforeConnAck`], [`ConnectionError::ClosedAfterAccept`],
    /// [`ConnectionError::TakenOver`] or [`ConnectionError::Dropped`]. Nothing is emitted if
    /// the session was offline (the transport never opened, or the loss was already
    /// reported); call [`Session::reconnect_delay`] all the same.
    pub fn handle_transport_closed(&mut self, now: Duration, reason: ConnectionError) {
        self.opening_deadline = None;
        if reason.is_unreachable() {
            self.ping_in_time();
        }
        self.learn_from_close();
        self.lose(now, reason);
    }

    /// Call at or after the instant [`Session::poll_timeout`] gave; calling early or again is
    /// harmless. Sends PINGREQ when due, or loses the connection with
    /// [`ConnectionError::OpenTimeout`], [`ConnectionError::ConnectTimeout`] or
    /// [`ConnectionError::KeepaliveTimeout`].
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.status {
            Status::Offline => {
                if self.opening_deadline.is_some_and(|d| now >= d) {
                    // The transport never opened: no connection to lose, only the attempt.
                    self.opening_deadline = None;
                    self.events.push_back(Event::ConnectionLost {
                        reason: ConnectionError::OpenTimeout {
                            timeout: self.options.connect_timeout,
                        },
                    });
                }
            }
            Status::Connecting => {
                if self.connect_deadline.is_some_and(|d| now >= d) {
                    self.lose(
                        now,
                        ConnectionError::ConnectTimeout {
                            timeout: self.options.connect_timeout,
                        },
                    );
                }
            }
            Status::Connected => match self.keepalive.poll(now) {
                KeepaliveAction::Nothing => {}
                KeepaliveAction::SendPing => {
                    if self.send(now, Packet::PingReq).is_ok() {
                        self.keepalive.on_ping_sent(now);
                    }
                }
                KeepaliveAction::Expired => {
                    let timeout = self.keepalive.timeout();
                    self.late_pingresps += 1;
                    let longer = self.ping_wait_after(self.late_pingresps);
                    if longer > timeout {
                        self.keepalive.set_timeout(longer);
                        self.events.push_back(Event::PingWaitLonger {
                            missed: self.late_pingresps,
                            wait: longer,
                        });
                    }
                    self.lose(now, ConnectionError::KeepaliveTimeout { timeout });
                }
            },
        }
    }

    /// A PINGRESP came within the options' wait, or the broker cannot be reached at all (the
    /// timeouts were no slow link): the PINGRESP wait is the options' again.
    fn ping_in_time(&mut self) {
        self.late_pingresps = 0;
        self.keepalive.set_timeout(self.options.ping_timeout);
    }

    /// The PINGRESP wait after `missed` connections in a row ended without one: the options'
    /// [`Options::ping_timeout`] times 4 for each, up to [`MAX_PING_WAIT`] (never below the
    /// option). The broker answers a PINGREQ after what it is already sending on the
    /// connection, and a browser's WebSocket hands over a message only once it has all of it:
    /// a large message crossing a slow link (Mosquitto 2.0.11's WebSocket listener sends about
    /// 40 KB a second; under MQTT 3.1.1 nothing caps what it sends) looks like a dead broker.
    /// Closed at each timeout, the connection was sent the message again on the next (a
    /// persistent session keeps it) and never got past it: a newcomer's break-test (35-M F2)
    /// saw a 10 MB message wedge OrderService for good, reconnecting every 40 s. Waiting
    /// longer each time lets the message through; a connection the broker cannot be reached
    /// on sets the wait back.
    pub fn ping_wait_after(&self, missed: u32) -> Duration {
        let base = self.options.ping_timeout;
        let grown = base.saturating_mul(4u32.saturating_pow(missed.min(8)));
        grown.min(MAX_PING_WAIT).max(base)
    }

    // ---- commands ----------------------------------------------------------------------------

    /// Subscribes now if connected, and on every later connection the broker did not keep the
    /// session of; a filter subscribed again replaces its options. Answered by
    /// [`Event::Subscribed`].
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidTopic`] for a bad filter (then nothing changes). Connected,
    /// also the errors of sending SUBSCRIBE: [`SessionError::NoPacketId`],
    /// [`SessionError::PacketTooLarge`]; the filters are kept for the next connection.
    pub fn subscribe(
        &mut self,
        now: Duration,
        filters: &[(&str, QoS)],
    ) -> Result<(), SessionError> {
        let filters: Vec<(&str, SubscriptionOptions)> =
            filters.iter().map(|&(f, q)| (f, q.into())).collect();
        self.subscribe_with(now, &filters)
    }

    /// [`Session::subscribe`] with MQTT 5.0 subscription options (No Local, Retain As
    /// Published, Retain Handling). Shared subscriptions are filters `$share/{group}/{filter}`.
    ///
    /// # Errors
    ///
    /// Those of [`Session::subscribe`], and before anything changes:
    /// [`SessionError::Encode`] for options other than QoS on a 3.1.1 session,
    /// [`SessionError::NoLocalOnSharedSubscription`].
    pub fn subscribe_with(
        &mut self,
        now: Duration,
        filters: &[(&str, SubscriptionOptions)],
    ) -> Result<(), SessionError> {
        for &(filter, options) in filters {
            topic::validate_filter(filter)?;
            if options != SubscriptionOptions::new(options.qos) {
                crate::packet::require_v5(
                    self.options.protocol,
                    "No Local, Retain As Published and Retain Handling",
                )?;
            }
            if options.no_local && topic::shared_parts(filter).is_some() {
                return Err(SessionError::NoLocalOnSharedSubscription(filter.to_owned()));
            }
        }
        let mut new = Vec::new();
        for &(filter, options) in filters {
            match self.subscriptions.iter_mut().find(|(f, _)| f == filter) {
                Some(existing) => existing.1 = options,
                None => self.subscriptions.push((filter.to_owned(), options)),
            }
            new.push((filter.to_owned(), options));
        }
        if self.status == Status::Connected && !new.is_empty() {
            self.send_subscribe(now, new)?;
        }
        Ok(())
    }

    /// Stops a subscription: no longer re-made on reconnect, and UNSUBSCRIBE sent if connected
    /// (answered by [`Event::Unsubscribed`]).
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidTopic`] for a bad filter (then nothing changes). Connected,
    /// also the errors of sending UNSUBSCRIBE: [`SessionError::NoPacketId`],
    /// [`SessionError::PacketTooLarge`]; the filters are forgotten all the same.
    pub fn unsubscribe(&mut self, now: Duration, filters: &[&str]) -> Result<(), SessionError> {
        for filter in filters {
            topic::validate_filter(filter)?;
        }
        self.subscriptions
            .retain(|(f, _)| !filters.contains(&f.as_str()));
        self.confirmed.retain(|f| !filters.contains(&f.as_str()));
        if self.status == Status::Connected && !filters.is_empty() {
            let packet_id = self.allocate_id()?;
            let filters: Vec<String> = filters.iter().map(|f| (*f).to_owned()).collect();
            self.pending_unsubacks.insert(packet_id, filters.clone());
            let unsubscribe = Unsubscribe {
                packet_id,
                filters,
                properties: Default::default(),
            };
            self.send(now, Packet::Unsubscribe(unsubscribe))?;
        }
        Ok(())
    }

    /// Publishes now if connected; otherwise queues the message (up to the offline limit).
    /// `payload` is any bytes; `retain` asks the broker to keep it for future subscribers.
    ///
    /// # Errors
    ///
    /// As [`Session::publish_with`].
    pub fn publish(
        &mut self,
        now: Duration,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<Publishing, SessionError> {
        self.publish_with(
            now,
            PublishRequest::new(topic, payload, qos).retained(retain),
        )
    }

    /// Publishes a message with MQTT 5.0 properties (user properties, response topic,
    /// correlation data, message expiry interval, content type …). Sent now if connected and,
    /// for QoS 1/2, if the broker's Receive Maximum allows another message in flight; otherwise
    /// queued and sent in order. Only the offline queue has a limit
    /// ([`Options::offline_queue_limit`]); the queue behind Receive Maximum has none.
    ///
    /// # Errors
    ///
    /// The message is not accepted, and nothing is queued, for:
    /// - [`SessionError::InvalidTopic`]: a bad topic name or Response Topic;
    /// - [`SessionError::Encode`]: properties on a 3.1.1 session, or properties PUBLISH may not
    ///   carry; [`SessionError::PropertyNotForPublish`]: Topic Alias, Subscription Identifier;
    /// - offline: [`SessionError::OfflineQueueFull`];
    /// - connected: the broker's limits, [`SessionError::QoSNotSupported`],
    ///   [`SessionError::RetainNotSupported`], [`SessionError::PacketTooLarge`], and
    ///   [`SessionError::NoPacketId`].
    pub fn publish_with(
        &mut self,
        now: Duration,
        request: PublishRequest,
    ) -> Result<Publishing, SessionError> {
        topic::validate_name(&request.topic)?;
        self.check_properties(&request.properties)?;
        let publish = Publish {
            retain: request.retain,
            properties: request.properties,
            ..Publish::new(request.topic, request.payload, request.qos)
        };
        self.admit(&publish)?;
        if self.status == Status::Connected
            && (publish.qos == QoS::AtMostOnce
                || (self.unsent.is_empty() && self.has_slot(publish.qos)))
        {
            let packet_id = self.send_publish(now, publish)?;
            return Ok(Publishing::Sent { packet_id });
        }
        self.unsent.push_back(publish);
        Ok(Publishing::Queued {
            queued: self.unsent.len(),
        })
    }

    /// Says goodbye politely: DISCONNECT (Normal disconnection), so the broker discards the
    /// Last Will ([MQTT-3.14.4-3], 3.1.1 and 5.0). The session goes offline
    /// without [`Event::ConnectionLost`]; the driver then closes the transport.
    pub fn disconnect(&mut self, now: Duration) {
        self.leave(now, ReasonCode::NORMAL_DISCONNECTION);
    }

    /// Says goodbye but asks the broker to publish the Last Will anyway: DISCONNECT with reason
    /// 0x04 in MQTT 5.0. MQTT 3.1.1 has no such packet, so nothing is sent and the driver's
    /// closing the transport makes the broker publish the will.
    pub fn disconnect_with_will(&mut self, now: Duration) {
        self.leave(now, ReasonCode::DisconnectWithWillMessage);
    }

    fn leave(&mut self, now: Duration, reason: ReasonCode) {
        let says_it = self.options.protocol == ProtocolVersion::V5
            || reason == ReasonCode::NORMAL_DISCONNECTION;
        if self.status == Status::Connected && says_it {
            let _ = self.send(now, Packet::Disconnect(Disconnect::new(reason)));
        }
        self.status = Status::Offline;
        self.connect_deadline = None;
        self.opening_deadline = None;
        self.health.on_left();
    }

    // ---- reconnecting ------------------------------------------------------------------------

    /// How long to wait before opening the next transport, with one more attempt counted: call
    /// it after every loss ([`Event::ConnectionLost`], or a transport that never opened).
    /// [`Options::reconnect_min`] doubled per attempt up to [`Options::reconnect_max`], less up
    /// to a fifth at random: `jitter` is a random number in `[0, 1)`. The delays start over
    /// only once a connection proves healthy (it lived [`Options::healthy_after`] or carried a
    /// message), never on CONNACK alone.
    pub fn reconnect_delay(&mut self, jitter: f64) -> Duration {
        self.health.next_delay(jitter)
    }

    /// How many delays [`Session::reconnect_delay`] handed out since a connection last proved
    /// healthy (0 before the first).
    pub fn reconnect_attempt(&self) -> u32 {
        self.health.attempt()
    }

    /// Starts the reconnect delays over, e.g. when the driver moves to another broker.
    pub fn reset_reconnect(&mut self) {
        self.health.reset();
    }

    /// Whether a driver should reconnect by itself after losing the connection for `reason`:
    /// not after [`ConnectionError::is_permanent_refusal`] (bad user name or password, not
    /// authorized, banned …), which the same CONNECT would only meet again, every 10 s,
    /// forever; nor after [`ConnectionError::Stopped`]. Then it waits for the user: new
    /// settings ([`Session::set_credentials`]) or a plain "try again".
    pub fn should_reconnect(&self, reason: &ConnectionError) -> bool {
        !reason.is_permanent_refusal() && !reason.is_stopped()
    }

    /// The User Name and Password of the next CONNECT ([`Options::username`],
    /// [`Options::password`]); `None` sends none. The current connection is not touched: the
    /// driver reconnects to use them.
    pub fn set_credentials(&mut self, username: Option<String>, password: Option<Vec<u8>>) {
        self.options.username = username;
        self.options.password = password;
    }

    // ---- output ------------------------------------------------------------------------------

    /// The next packet to send, encoded, oldest first. Bytes queued for a connection that was
    /// lost are dropped when the next one opens.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next thing that happened, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.status {
            Status::Offline => self.opening_deadline,
            Status::Connecting => self.connect_deadline,
            Status::Connected => self.keepalive.deadline(),
        }
    }

    // ---- checks ------------------------------------------------------------------------------

    /// Properties the application may put on a PUBLISH, in the version we speak.
    fn check_properties(&self, props: &crate::packet::Properties) -> Result<(), SessionError> {
        if props.is_empty() {
            return Ok(());
        }
        crate::packet::require_v5(self.options.protocol, "message properties")?;
        props.check(PropertyPlace::Packet(PacketKind::Publish))?;
        for id in [PropertyId::TopicAlias, PropertyId::SubscriptionIdentifier] {
            if props.contains(id) {
                return Err(SessionError::PropertyNotForPublish(id));
            }
        }
        if let Some(response_topic) = props.response_topic() {
            topic::validate_name(response_topic)?;
        }
        Ok(())
    }

    /// Whether [`Session::publish_with`] would accept `request` now, without sending or queuing
    /// anything: for an application that must keep a message somewhere safe before it
    /// publishes it, and would rather refuse it at once than keep one the client will refuse.
    ///
    /// # Errors
    ///
    /// Those of [`Session::publish_with`] but [`SessionError::NoPacketId`] (met only when the
    /// message is sent).
    pub fn check_publish(&self, request: &PublishRequest) -> Result<(), SessionError> {
        topic::validate_name(&request.topic)?;
        self.check_properties(&request.properties)?;
        self.admit(&Publish {
            retain: request.retain,
            properties: request.properties.clone(),
            ..Publish::new(request.topic.clone(), request.payload.clone(), request.qos)
        })
    }

    /// Connected, what the broker allows ([`Session::check_limits`]); offline, room in the
    /// offline queue ([`Options::offline_queue_limit`]).
    fn admit(&self, publish: &Publish) -> Result<(), SessionError> {
        if self.status == Status::Connected {
            self.check_limits(publish)
        } else if self.unsent.len() >= self.options.offline_queue_limit {
            Err(SessionError::OfflineQueueFull {
                limit: self.options.offline_queue_limit,
            })
        } else {
            Ok(())
        }
    }

    /// What the broker's CONNACK allows (MQTT 5.0), and the maximum QoS learned (3.1.1).
    fn check_limits(&self, publish: &Publish) -> Result<(), SessionError> {
        if publish.qos > self.maximum_qos() {
            return Err(SessionError::QoSNotSupported {
                requested: publish.qos,
                maximum: self.maximum_qos(),
            });
        }
        if publish.retain && !self.limits.retain_available {
            return Err(SessionError::RetainNotSupported);
        }
        if let Some(max) = self.limits.maximum_packet_size {
            let mut sized = publish.clone();
            sized.packet_id = (publish.qos != QoS::AtMostOnce).then_some(1);
            let size = Packet::Publish(sized).encode(self.options.protocol)?.len();
            if size > max {
                return Err(SessionError::PacketTooLarge {
                    kind: PacketKind::Publish,
                    size,
                    max,
                });
            }
        }
        Ok(())
    }

    /// Whether one more message at `qos` (1 or 2) may go in flight: the broker's Receive
    /// Maximum (MQTT 5.0), and on MQTT 3.1.1 at most [`V311_QOS2_IN_FLIGHT`] QoS 2 messages.
    fn has_slot(&self, qos: QoS) -> bool {
        if self.outgoing.len() >= self.limits.receive_maximum {
            return false;
        }
        qos != QoS::ExactlyOnce
            || self.options.protocol == ProtocolVersion::V5
            || self.outgoing.count_at(QoS::ExactlyOnce) < V311_QOS2_IN_FLIGHT
    }
}
