//! A fake broker for the session tests: it decodes what the session transmitted and feeds it
//! broker packets, in the protocol version the session speaks, on virtual time.

use std::time::Duration;

use super::*;
use crate::packet::ConnAck;

pub const MS: fn(u64) -> Duration = Duration::from_millis;
pub const S: fn(u64) -> Duration = Duration::from_secs;

pub struct FakeBroker {
    pub session: Session,
    events: Vec<Event>,
}

impl FakeBroker {
    pub fn new(options: Options) -> Self {
        Self {
            session: Session::new(options),
            events: Vec::new(),
        }
    }

    /// Opens the transport and answers CONNECT with an accepting CONNACK.
    pub fn connected(options: Options) -> Self {
        Self::connected_with(options, accepted())
    }

    /// Opens the transport and answers CONNECT with `connack`.
    pub fn connected_with(options: Options, connack: ConnAck) -> Self {
        let mut b = Self::new(options);
        b.session.handle_transport_open(S(0));
        assert!(matches!(b.sent().as_slice(), [Packet::Connect(_)]));
        b.deliver(MS(1), Packet::ConnAck(connack));
        b
    }

    /// Opens the transport again at `now` (after a close), answers the CONNECT 1 ms later with
    /// an accepting CONNACK whose Session Present is `present`, and returns what the session
    /// sent after the CONNACK (its SUBSCRIBEs, resent PUBLISHes and PUBRELs).
    pub fn reconnect(&mut self, now: Duration, present: bool) -> Vec<Packet> {
        self.session.handle_transport_open(now);
        assert!(matches!(self.sent().as_slice(), [Packet::Connect(_)]));
        self.deliver(
            now + MS(1),
            Packet::ConnAck(ConnAck::new(present, ReasonCode::Success)),
        );
        self.sent()
    }

    pub fn version(&self) -> ProtocolVersion {
        self.session.protocol()
    }

    pub fn deliver(&mut self, now: Duration, packet: Packet) {
        let bytes = packet.encode(self.version()).unwrap();
        self.session.handle_bytes(now, &bytes);
        self.collect();
    }

    fn collect(&mut self) {
        while let Some(e) = self.session.poll_event() {
            self.events.push(e);
        }
    }

    /// Everything the session sent since the last call.
    pub fn sent(&mut self) -> Vec<Packet> {
        self.collect();
        let version = self.version();
        std::iter::from_fn(|| self.session.poll_transmit())
            .map(|bytes| {
                let (packet, used) = Packet::decode(&bytes, usize::MAX, version)
                    .unwrap()
                    .unwrap();
                assert_eq!(used, bytes.len(), "one packet per transmit");
                packet
            })
            .collect()
    }

    /// The one packet the session sent since the last call.
    pub fn sent_one(&mut self) -> Packet {
        let mut sent = self.sent();
        assert_eq!(sent.len(), 1, "expected one packet, got {sent:?}");
        sent.remove(0)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        self.collect();
        std::mem::take(&mut self.events)
    }

    pub fn messages(&mut self) -> Vec<Publish> {
        self.take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Message(p) => Some(p),
                _ => None,
            })
            .collect()
    }
}

pub fn accepted() -> ConnAck {
    ConnAck::new(false, ReasonCode::Success)
}

pub fn incoming(qos: QoS, packet_id: Option<u16>, dup: bool) -> Packet {
    Packet::Publish(Publish {
        packet_id,
        dup,
        ..Publish::new("orders/created", b"{}".to_vec(), qos)
    })
}

pub fn lost(events: &[Event]) -> Option<&ConnectionError> {
    events.iter().find_map(|e| match e {
        Event::ConnectionLost { reason } => Some(reason),
        _ => None,
    })
}

/// The packet events among `events`, in order.
pub fn packet_events(events: &[Event]) -> Vec<&PacketEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Packet(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// What `lost` says to the user.
pub fn lost_text(events: &[Event]) -> Option<String> {
    lost(events).map(ConnectionError::to_string)
}

/// A WebSocket that closed without a close frame.
pub fn dropped() -> ConnectionError {
    ConnectionError::TransportClosed {
        code: ABNORMAL_CLOSURE,
        reason: String::new(),
    }
}
