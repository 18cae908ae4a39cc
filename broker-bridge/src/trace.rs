//! The packet event: every MQTT packet in and out of a session, as the views see it.

use std::time::Duration;

use crate::packet::{Packet, PacketKind, Properties, QoS, ReasonCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From this client to the broker.
    Outgoing,
    /// From the broker to this client.
    Incoming,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketEvent {
    /// The session's clock when the packet was sent or decoded.
    pub at: Duration,
    pub client_id: String,
    pub direction: Direction,
    pub packet: Packet,
    /// The packet exactly as it crossed the wire, fixed header included.
    pub bytes: Vec<u8>,
}

impl PacketEvent {
    pub fn kind(&self) -> PacketKind {
        self.packet.kind()
    }

    pub fn packet_id(&self) -> Option<u16> {
        self.packet.packet_id()
    }

    pub fn topic(&self) -> Option<&str> {
        match &self.packet {
            Packet::Publish(p) => Some(&p.topic),
            _ => None,
        }
    }

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
