//! Answers to QoS 1 and 2 messages received, held until the application has made each message
//! safe ([`Options::manual_acks`](super::Options::manual_acks)), then sent in the order the
//! messages came (MQTT 3.1.1 §4.6, [MQTT-4.6.0-2], [MQTT-4.6.0-3]).

use std::collections::VecDeque;
use std::time::Duration;

use super::{Session, Status};
use crate::packet::{Ack, Packet, Publish, QoS};
use crate::session::ConnectionError;

/// Names one QoS 1 or 2 message received on one connection, for
/// [`Session::acknowledge`]. Given by [`Session::delivery_token`]; a token of an earlier
/// connection acknowledges nothing (the broker sends that message again instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryToken {
    /// The connection it came on, counted from 1 by the session.
    connection: u64,
    /// Its packet identifier on that connection.
    packet_id: u16,
}

/// One answer owed to the broker: PUBACK (QoS 1) or PUBREC (QoS 2) for `packet_id`, and
/// whether the application has released it.
#[derive(Debug, Clone, Copy)]
struct Owed {
    packet_id: u16,
    qos: QoS,
    released: bool,
}

/// The answers owed on the current connection, in the order their messages came.
#[derive(Debug, Default)]
pub(super) struct OwedAcks {
    /// Counts the connections: a token names the one it came on.
    connection: u64,
    queue: VecDeque<Owed>,
}

impl OwedAcks {
    /// A new connection: what was owed on the last one is forgotten (the broker sends those
    /// messages again). Returns the packet ids of the QoS 2 ones, which the session must
    /// deliver again when they come back.
    pub(super) fn next_connection(&mut self) -> Vec<u16> {
        self.connection += 1;
        self.queue
            .drain(..)
            .filter(|owed| owed.qos == QoS::ExactlyOnce)
            .map(|owed| owed.packet_id)
            .collect()
    }

    /// Whether the answer for `packet_id` is still held.
    pub(super) fn holds(&self, packet_id: u16) -> bool {
        self.queue.iter().any(|owed| owed.packet_id == packet_id)
    }

    fn owe(&mut self, packet_id: u16, qos: QoS) -> DeliveryToken {
        self.queue.push_back(Owed {
            packet_id,
            qos,
            released: false,
        });
        self.token(packet_id)
    }

    fn token(&self, packet_id: u16) -> DeliveryToken {
        DeliveryToken {
            connection: self.connection,
            packet_id,
        }
    }

    /// Releases the answer `token` names; `false` if it names nothing owed now.
    fn release(&mut self, token: DeliveryToken) -> bool {
        if token.connection != self.connection {
            return false;
        }
        match self
            .queue
            .iter_mut()
            .find(|owed| owed.packet_id == token.packet_id && !owed.released)
        {
            Some(owed) => {
                owed.released = true;
                true
            }
            None => false,
        }
    }

    /// The answers now due, oldest first: the released ones before the first still held.
    fn due(&mut self) -> Vec<Packet> {
        let mut due = Vec::new();
        while self.queue.front().is_some_and(|owed| owed.released) {
            let Some(owed) = self.queue.pop_front() else {
                break;
            };
            let ack = Ack::new(owed.packet_id);
            due.push(match owed.qos {
                QoS::ExactlyOnce => Packet::PubRec(ack),
                _ => Packet::PubAck(ack),
            });
        }
        due
    }
}

impl Session {
    /// The token that acknowledges `publish` later ([`Session::acknowledge`]): `Some` for a
    /// QoS 1 or 2 message received on the current connection when
    /// [`Options::manual_acks`](super::Options::manual_acks) is on, `None` otherwise (it was
    /// answered as it came, or needs no answer).
    pub fn delivery_token(&self, publish: &Publish) -> Option<DeliveryToken> {
        let id = publish.packet_id?;
        (self.options.manual_acks && publish.qos != QoS::AtMostOnce && self.owed.holds(id))
            .then(|| self.owed.token(id))
    }

    /// The application has made the message `token` names safe: its PUBACK or PUBREC goes,
    /// with those of the messages before it that were released already, in the order they
    /// came; an answer for a later message waits for the earlier ones. Nothing happens for a
    /// token of an earlier connection, or one already used. Sending can fail (the connection
    /// is then lost, as after any failed write).
    pub fn acknowledge(&mut self, now: Duration, token: DeliveryToken) {
        if !self.owed.release(token) || self.status != Status::Connected {
            return;
        }
        for packet in self.owed.due() {
            if let Err(e) = self.send(now, packet) {
                self.lose(now, ConnectionError::AnswerFailed(e));
                return;
            }
        }
    }

    /// Holds the answer to a QoS 1 or 2 message just received: `true` when
    /// [`Options::manual_acks`](super::Options::manual_acks) is on (it goes on
    /// [`Session::acknowledge`]), `false` when it must go now.
    pub(super) fn hold_answer(&mut self, packet_id: u16, qos: QoS) -> bool {
        if !self.options.manual_acks {
            return false;
        }
        self.owed.owe(packet_id, qos);
        true
    }
}
