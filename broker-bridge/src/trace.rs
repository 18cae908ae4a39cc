//! The packet event: every MQTT packet in and out of a session, as the views see it.

use std::time::Duration;

use crate::packet::{Packet, PacketKind, Properties, ProtocolVersion, QoS, ReasonCode};

/// Which way a packet went, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From this client to the broker.
    Outgoing,
    /// From the broker to this client.
    Incoming,
}

/// One packet in or out of a session ([`Event::Packet`](crate::Event::Packet)): the unit the
/// diagrams, the sequence view and the packet inspector are drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketEvent {
    /// The session's clock when the packet was queued for sending or decoded: the driver's
    /// `now`, a [`Duration`] since its own origin.
    pub at: Duration,
    /// The client identifier the session connects with ([`Options::client_id`]).
    ///
    /// [`Options::client_id`]: crate::Options::client_id
    pub client_id: String,
    /// Sent or received.
    pub direction: Direction,
    /// The packet, decoded.
    pub packet: Packet,
    /// The packet exactly as it crossed the wire, fixed header included.
    pub bytes: Vec<u8>,
    /// The protocol version the session speaks, in which `bytes` are encoded: what the
    /// packet's codes mean on the wire (a 3.1.1 CONNACK's return code 4 is decoded as 5.0's
    /// reason code 0x86 Bad User Name or Password, §3.2.2.3 of each spec).
    pub protocol: ProtocolVersion,
    /// A PUBLISH over the client's limit ([`Options::max_packet_size`]), taken in no further
    /// than its topic and packet id and its payload skipped unread: `packet` holds it without
    /// the payload, `bytes` that PUBLISH as the client re-encoded it (its header, not the
    /// wire's), and this what was skipped. `None` for every packet taken in whole.
    ///
    /// [`Options::max_packet_size`]: crate::Options::max_packet_size
    pub skipped: Option<SkippedPayload>,
}

/// What [`PacketEvent::skipped`] left unread: the whole packet's size and the limit it broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedPayload {
    /// The whole PUBLISH's size on the wire in bytes, fixed header included.
    pub size: usize,
    /// The limit it broke, in bytes.
    pub max: usize,
}

impl PacketEvent {
    /// The packet's kind (CONNECT, PUBLISH …).
    pub fn kind(&self) -> PacketKind {
        self.packet.kind()
    }

    /// The packet identifier of PUBLISH (QoS 1 and 2), its acknowledgements, SUBSCRIBE,
    /// UNSUBSCRIBE and their acknowledgements.
    pub fn packet_id(&self) -> Option<u16> {
        self.packet.packet_id()
    }

    /// The topic name of a PUBLISH.
    pub fn topic(&self) -> Option<&str> {
        match &self.packet {
            Packet::Publish(p) => Some(&p.topic),
            _ => None,
        }
    }

    /// The QoS of a PUBLISH.
    pub fn qos(&self) -> Option<QoS> {
        match &self.packet {
            Packet::Publish(p) => Some(p.qos),
            _ => None,
        }
    }

    /// The reason code of CONNACK, the publish acknowledgements, DISCONNECT and AUTH.
    pub fn reason_code(&self) -> Option<ReasonCode> {
        self.packet.reason_code()
    }

    /// The MQTT 5.0 properties, in wire order (empty on a 3.1.1 connection).
    pub fn properties(&self) -> Option<&Properties> {
        self.packet.properties()
    }

    /// `(dup, retain)` for a PUBLISH.
    pub fn publish_flags(&self) -> Option<(bool, bool)> {
        match &self.packet {
            Packet::Publish(p) => Some((p.dup, p.retain)),
            _ => None,
        }
    }
}
