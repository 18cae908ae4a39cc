//! The sans-I/O MQTT client session.
//!
//! [`Session`] owns the protocol state of one client and nothing else: no socket, no clock, no
//! timer. Its methods come in four kinds, after quinn-proto:
//! - getters (`status`, `client_id`, …);
//! - `handle_*` for input: the transport opened, bytes arrived, the transport closed, a timer
//!   fired. Each takes `now`, the driver's monotonic clock as a [`Duration`] since any origin;
//! - commands from the application: [`Session::subscribe`], [`Session::publish`],
//!   [`Session::disconnect`];
//! - `poll_*` for output: bytes to send ([`Session::poll_transmit`]), what happened
//!   ([`Session::poll_event`]) and when to call [`Session::handle_timeout`] next
//!   ([`Session::poll_timeout`]).
//!
//! A fatal problem (malformed bytes, a refused CONNECT, a keepalive timeout) is reported as
//! [`Event::ConnectionLost`]; the driver then closes the transport and reconnects later with
//! [`Session::handle_transport_open`]. Subscriptions are re-made and unacknowledged publishes
//! re-sent on every new connection.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use crate::codec::Decoder;
use crate::inflight::{InFlight, PacketIds, Stage};
use crate::keepalive::{Keepalive, KeepaliveAction};
use crate::packet::{
    ConnAck, Connect, ConnectReturnCode, EncodeError, LastWill, Packet, Publish, QoS, SubAck,
    Subscribe, SubscribeReturnCode, Unsubscribe,
};
use crate::topic::{self, TopicError};
use crate::trace::{Direction, PacketEvent};

#[cfg(test)]
mod tests;

/// How a session connects and behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub client_id: String,
    /// Rounded down to whole seconds on the wire; zero turns keepalive off.
    pub keep_alive: Duration,
    pub clean_session: bool,
    pub will: Option<LastWill>,
    /// The largest packet accepted from the broker, fixed header included.
    pub max_packet_size: usize,
    /// How long to wait for CONNACK after CONNECT.
    pub connect_timeout: Duration,
    /// How long to wait for PINGRESP after PINGREQ.
    pub ping_timeout: Duration,
    /// How many publishes made while offline are kept for the next connection.
    pub offline_queue_limit: usize,
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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No transport, or the last one was lost.
    Offline,
    /// CONNECT sent, CONNACK awaited.
    Connecting,
    Connected,
}

/// What happened in the session, for the driver and the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A packet went out or came in. Every packet produces exactly one.
    Packet(PacketEvent),
    Connected {
        session_present: bool,
    },
    /// The broker answered a SUBSCRIBE: one code per filter, in order.
    Subscribed {
        filters: Vec<(String, QoS)>,
        granted: Vec<SubscribeReturnCode>,
    },
    /// The broker confirmed an UNSUBSCRIBE.
    Unsubscribed {
        filters: Vec<String>,
    },
    /// An application message for this client.
    Message(Publish),
    /// One of our QoS 1 or 2 publishes was fully acknowledged.
    Delivered {
        packet_id: u16,
        topic: String,
    },
    /// The connection is unusable; the driver must close the transport.
    ConnectionLost {
        reason: String,
    },
}

/// What became of a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publishing {
    Sent {
        packet_id: Option<u16>,
    },
    /// Not connected: kept and sent on the next connection.
    Queued {
        queued: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("not connected and the offline queue is full ({limit} messages); the message was not accepted")]
    OfflineQueueFull { limit: usize },
    #[error(transparent)]
    InvalidTopic(#[from] TopicError),
    #[error("all packet identifiers are in use")]
    NoPacketId,
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

pub struct Session {
    options: Options,
    status: Status,
    decoder: Decoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    keepalive: Keepalive,
    connect_deadline: Option<Duration>,
    ids: PacketIds,
    outgoing: InFlight,
    /// QoS 2 messages received (PUBREC sent) whose PUBREL has not come: delivered once only.
    incoming_qos2: BTreeSet<u16>,
    /// Filters the application asked for, re-subscribed on every new connection.
    subscriptions: Vec<(String, QoS)>,
    pending_subacks: HashMap<u16, Vec<(String, QoS)>>,
    pending_unsubacks: HashMap<u16, Vec<String>>,
    offline: VecDeque<Publish>,
}

impl Session {
    pub fn new(options: Options) -> Self {
        Self {
            decoder: Decoder::new(options.max_packet_size),
            keepalive: Keepalive::new(options.keep_alive, options.ping_timeout),
            options,
            status: Status::Offline,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            connect_deadline: None,
            ids: PacketIds::default(),
            outgoing: InFlight::default(),
            incoming_qos2: BTreeSet::new(),
            subscriptions: Vec::new(),
            pending_subacks: HashMap::new(),
            pending_unsubacks: HashMap::new(),
            offline: VecDeque::new(),
        }
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn client_id(&self) -> &str {
        &self.options.client_id
    }

    /// Publishes waiting for a connection.
    pub fn queued(&self) -> usize {
        self.offline.len()
    }

    /// Our QoS 1/2 publishes not yet fully acknowledged.
    pub fn in_flight(&self) -> usize {
        self.outgoing.len()
    }

    // ---- input -------------------------------------------------------------------------------

    /// The transport is open: send CONNECT.
    pub fn handle_transport_open(&mut self, now: Duration) {
        self.decoder.clear();
        self.transmit.clear();
        self.pending_subacks.clear();
        self.pending_unsubacks.clear();
        self.keepalive.reset(now);
        self.status = Status::Connecting;
        self.connect_deadline = Some(now + self.options.connect_timeout);
        let connect = Connect {
            client_id: self.options.client_id.clone(),
            keep_alive: self.options.keep_alive.as_secs().min(u16::MAX as u64) as u16,
            clean_session: self.options.clean_session,
            will: self.options.will.clone(),
            username: None,
            password: None,
        };
        if let Err(e) = self.send(now, Packet::Connect(connect)) {
            self.lose(format!("could not encode CONNECT: {e}"));
        }
    }

    /// Bytes from the transport, in whatever pieces they came.
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        if self.status == Status::Offline {
            return;
        }
        self.decoder.push(bytes);
        loop {
            match self.decoder.next_packet() {
                Ok(Some((packet, raw))) => {
                    self.events.push_back(Event::Packet(PacketEvent {
                        at: now,
                        client_id: self.options.client_id.clone(),
                        direction: Direction::Incoming,
                        packet: packet.clone(),
                        bytes: raw,
                    }));
                    self.receive(now, packet);
                    if self.status == Status::Offline {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    self.lose(format!("malformed packet from the broker: {e}"));
                    return;
                }
            }
        }
    }

    /// The transport closed or failed.
    pub fn handle_transport_closed(&mut self, reason: &str) {
        self.lose(reason.to_owned());
    }

    /// Call at or after the instant [`Session::poll_timeout`] gave.
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.status {
            Status::Offline => {}
            Status::Connecting => {
                if self.connect_deadline.is_some_and(|d| now >= d) {
                    let secs = self.options.connect_timeout.as_secs_f32();
                    self.lose(format!("no CONNACK from the broker within {secs} s"));
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
                    let secs = self.keepalive.timeout().as_secs_f32();
                    self.lose(format!("no PINGRESP from the broker within {secs} s"));
                }
            },
        }
    }

    // ---- commands ----------------------------------------------------------------------------

    /// Subscribes now if connected, and on every later connection.
    pub fn subscribe(
        &mut self,
        now: Duration,
        filters: &[(&str, QoS)],
    ) -> Result<(), SessionError> {
        for (filter, _) in filters {
            topic::validate_filter(filter)?;
        }
        let mut new = Vec::new();
        for &(filter, qos) in filters {
            match self.subscriptions.iter_mut().find(|(f, _)| f == filter) {
                Some(existing) => existing.1 = qos,
                None => self.subscriptions.push((filter.to_owned(), qos)),
            }
            new.push((filter.to_owned(), qos));
        }
        if self.status == Status::Connected && !new.is_empty() {
            self.send_subscribe(now, new)?;
        }
        Ok(())
    }

    /// Stops a subscription: no longer re-made on reconnect, and UNSUBSCRIBE sent if connected.
    pub fn unsubscribe(&mut self, now: Duration, filters: &[&str]) -> Result<(), SessionError> {
        for filter in filters {
            topic::validate_filter(filter)?;
        }
        self.subscriptions
            .retain(|(f, _)| !filters.contains(&f.as_str()));
        if self.status == Status::Connected && !filters.is_empty() {
            let packet_id = self.allocate_id()?;
            let filters: Vec<String> = filters.iter().map(|f| (*f).to_owned()).collect();
            self.pending_unsubacks.insert(packet_id, filters.clone());
            self.send(now, Packet::Unsubscribe(Unsubscribe { packet_id, filters }))?;
        }
        Ok(())
    }

    /// Publishes now if connected; otherwise queues the message (up to the offline limit).
    pub fn publish(
        &mut self,
        now: Duration,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<Publishing, SessionError> {
        topic::validate_name(topic)?;
        let publish = Publish {
            topic: topic.to_owned(),
            packet_id: None,
            qos,
            dup: false,
            retain,
            payload,
        };
        if self.status == Status::Connected {
            let packet_id = self.send_publish(now, publish)?;
            return Ok(Publishing::Sent { packet_id });
        }
        if self.offline.len() >= self.options.offline_queue_limit {
            return Err(SessionError::OfflineQueueFull {
                limit: self.options.offline_queue_limit,
            });
        }
        self.offline.push_back(publish);
        Ok(Publishing::Queued {
            queued: self.offline.len(),
        })
    }

    /// Says goodbye politely: DISCONNECT, so the broker discards the Last Will.
    pub fn disconnect(&mut self, now: Duration) {
        if self.status == Status::Connected {
            let _ = self.send(now, Packet::Disconnect);
        }
        self.status = Status::Offline;
        self.connect_deadline = None;
    }

    // ---- output ------------------------------------------------------------------------------

    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.status {
            Status::Offline => None,
            Status::Connecting => self.connect_deadline,
            Status::Connected => self.keepalive.deadline(),
        }
    }

    // ---- internals ---------------------------------------------------------------------------

    fn send(&mut self, now: Duration, packet: Packet) -> Result<(), EncodeError> {
        let bytes = packet.encode()?;
        self.transmit.push_back(bytes.clone());
        self.keepalive.on_sent(now);
        self.events.push_back(Event::Packet(PacketEvent {
            at: now,
            client_id: self.options.client_id.clone(),
            direction: Direction::Outgoing,
            packet,
            bytes,
        }));
        Ok(())
    }

    fn allocate_id(&mut self) -> Result<u16, SessionError> {
        let (outgoing, subacks, unsubacks) = (
            &self.outgoing,
            &self.pending_subacks,
            &self.pending_unsubacks,
        );
        self.ids
            .allocate(|id| {
                outgoing.contains(id) || subacks.contains_key(&id) || unsubacks.contains_key(&id)
            })
            .ok_or(SessionError::NoPacketId)
    }

    fn send_publish(
        &mut self,
        now: Duration,
        mut publish: Publish,
    ) -> Result<Option<u16>, SessionError> {
        if publish.qos != QoS::AtMostOnce {
            publish.packet_id = Some(self.allocate_id()?);
        }
        let packet_id = publish.packet_id;
        self.send(now, Packet::Publish(publish.clone()))?;
        self.outgoing.insert(publish);
        Ok(packet_id)
    }

    fn send_subscribe(
        &mut self,
        now: Duration,
        filters: Vec<(String, QoS)>,
    ) -> Result<(), SessionError> {
        let packet_id = self.allocate_id()?;
        self.pending_subacks.insert(packet_id, filters.clone());
        self.send(now, Packet::Subscribe(Subscribe { packet_id, filters }))?;
        Ok(())
    }

    fn lose(&mut self, reason: String) {
        if self.status == Status::Offline {
            return;
        }
        self.status = Status::Offline;
        self.connect_deadline = None;
        self.events.push_back(Event::ConnectionLost { reason });
    }

    fn receive(&mut self, now: Duration, packet: Packet) {
        let result = match packet {
            Packet::ConnAck(ack) => self.on_connack(now, ack),
            Packet::Publish(publish) => self.on_publish(now, publish),
            Packet::PubAck(id) => {
                self.delivered(id, Stage::AwaitingPubAck);
                Ok(())
            }
            Packet::PubRec(id) => {
                if self
                    .outgoing
                    .advance(id, Stage::AwaitingPubRec, Stage::AwaitingPubComp)
                    || self.outgoing.stage(id) == Some(Stage::AwaitingPubComp)
                {
                    self.send(now, Packet::PubRel(id)).map_err(Into::into)
                } else {
                    Ok(())
                }
            }
            Packet::PubRel(id) => {
                self.incoming_qos2.remove(&id);
                self.send(now, Packet::PubComp(id)).map_err(Into::into)
            }
            Packet::PubComp(id) => {
                self.delivered(id, Stage::AwaitingPubComp);
                Ok(())
            }
            Packet::SubAck(ack) => {
                self.on_suback(ack);
                Ok(())
            }
            Packet::UnsubAck(id) => {
                if let Some(filters) = self.pending_unsubacks.remove(&id) {
                    self.events.push_back(Event::Unsubscribed { filters });
                }
                Ok(())
            }
            Packet::PingResp => {
                self.keepalive.on_pingresp();
                Ok(())
            }
            other @ (Packet::Connect(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect) => {
                self.lose(format!(
                    "the broker sent {}, which only clients send",
                    other.kind()
                ));
                Ok(())
            }
        };
        if let Err(e) = result {
            self.lose(format!("could not answer the broker: {e}"));
        }
    }

    fn on_connack(&mut self, now: Duration, ack: ConnAck) -> Result<(), SessionError> {
        if self.status != Status::Connecting {
            self.lose("the broker sent a second CONNACK".into());
            return Ok(());
        }
        if ack.code != ConnectReturnCode::Accepted {
            self.lose(format!(
                "the broker refused the connection: {}",
                ack.code.describe()
            ));
            return Ok(());
        }
        self.status = Status::Connected;
        self.connect_deadline = None;
        self.keepalive.reset(now);
        self.events.push_back(Event::Connected {
            session_present: ack.session_present,
        });
        if !ack.session_present {
            // The broker starts a new session: its packet ids start again, so ids of QoS 2
            // messages we had received under the old one mean nothing now.
            self.incoming_qos2.clear();
            if !self.subscriptions.is_empty() {
                self.send_subscribe(now, self.subscriptions.clone())?;
            }
        }
        // §4.4: re-send what the broker has not acknowledged, then what waited offline.
        self.outgoing.mark_all_dup();
        let resend: Vec<Packet> = self
            .outgoing
            .pending()
            .map(|(publish, stage)| match stage {
                Stage::AwaitingPubComp => Packet::PubRel(publish.packet_id.unwrap_or_default()),
                _ => Packet::Publish(publish.clone()),
            })
            .collect();
        for packet in resend {
            self.send(now, packet)?;
        }
        while let Some(publish) = self.offline.pop_front() {
            self.send_publish(now, publish)?;
        }
        Ok(())
    }

    fn on_publish(&mut self, now: Duration, publish: Publish) -> Result<(), SessionError> {
        match (publish.qos, publish.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => {
                self.send(now, Packet::PubAck(id))?;
                self.events.push_back(Event::Message(publish));
            }
            (QoS::ExactlyOnce, Some(id)) => {
                // A re-sent QoS 2 message whose PUBREL we have not seen was already delivered.
                if self.incoming_qos2.insert(id) {
                    self.events.push_back(Event::Message(publish));
                }
                self.send(now, Packet::PubRec(id))?;
            }
            _ => self.events.push_back(Event::Message(publish)),
        }
        Ok(())
    }

    fn on_suback(&mut self, ack: SubAck) {
        if let Some(filters) = self.pending_subacks.remove(&ack.packet_id) {
            self.events.push_back(Event::Subscribed {
                filters,
                granted: ack.return_codes,
            });
        }
    }

    fn delivered(&mut self, packet_id: u16, stage: Stage) {
        if let Some(publish) = self.outgoing.complete(packet_id, stage) {
            self.events.push_back(Event::Delivered {
                packet_id,
                topic: publish.topic,
            });
        }
    }
}
