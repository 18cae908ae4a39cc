//! What the session puts on the wire, and how it gives up on a connection.

use std::time::Duration;

use super::{ConnectionError, Event, ProtocolViolation, Session, SessionError, Status};
use crate::inflight::Stage;
use crate::packet::{
    Ack, Disconnect, Packet, PacketKind, Properties, ProtocolVersion, Publish, QoS, ReasonCode,
    Subscribe, SubscribeReturnCode, SubscriptionOptions,
};
use crate::trace::{Direction, PacketEvent};

impl Session {
    /// Encodes, checks the broker's Maximum Packet Size, queues the bytes and reports the packet.
    pub(super) fn send(&mut self, now: Duration, packet: Packet) -> Result<(), SessionError> {
        let bytes = packet.encode(self.options.protocol)?;
        if let Some(max) = self.limits.maximum_packet_size {
            if bytes.len() > max {
                return Err(SessionError::PacketTooLarge {
                    kind: packet.kind(),
                    size: bytes.len(),
                    max,
                });
            }
        }
        self.transmit.push_back(bytes.clone());
        self.keepalive.on_sent(now);
        // Credentials go to the broker only: what the application sees (and may show, log or
        // record) is the CONNECT with them replaced by `*`s of the same length.
        let (packet, bytes) = match packet {
            Packet::Connect(c) if c.has_credentials() => {
                let hidden = Packet::Connect(c.redacted());
                let bytes = hidden.encode(self.options.protocol)?;
                (hidden, bytes)
            }
            other => (other, bytes),
        };
        self.events.push_back(Event::Packet(PacketEvent {
            at: now,
            client_id: self.options.client_id.clone(),
            direction: Direction::Outgoing,
            packet,
            bytes,
            protocol: self.options.protocol,
            skipped: None,
        }));
        Ok(())
    }

    pub(super) fn allocate_id(&mut self) -> Result<u16, SessionError> {
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

    pub(super) fn send_publish(
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

    /// Sends SUBSCRIBE for `filters`, except shared subscriptions the broker said it does not
    /// support (CONNACK's Shared Subscription Available 0): those are answered at once as
    /// refused with 0x9E, without asking.
    pub(super) fn send_subscribe(
        &mut self,
        now: Duration,
        filters: Vec<(String, SubscriptionOptions)>,
    ) -> Result<(), SessionError> {
        let (held, filters): (Vec<_>, Vec<_>) = filters.into_iter().partition(|(f, _)| {
            !self.limits.shared_subscriptions && crate::topic::shared_parts(f).is_some()
        });
        if !held.is_empty() {
            let refused = SubscribeReturnCode::Refused(ReasonCode::SharedSubscriptionsNotSupported);
            self.events.push_back(Event::Subscribed {
                granted: vec![refused; held.len()],
                filters: held.into_iter().map(|(f, o)| (f, o.qos)).collect(),
            });
        }
        if filters.is_empty() {
            return Ok(());
        }
        let packet_id = self.allocate_id()?;
        let asked = filters.iter().map(|(f, o)| (f.clone(), o.qos)).collect();
        self.pending_subacks.insert(packet_id, asked);
        let subscribe = Subscribe {
            packet_id,
            filters,
            properties: Properties::new(),
        };
        self.send(now, Packet::Subscribe(subscribe))
    }

    /// Sends queued publishes, in order, while connected and while the broker's Receive Maximum
    /// leaves room for QoS 1/2 ones. A queued message that breaks one of the broker's limits is
    /// reported as failed instead of sent.
    pub(super) fn release_unsent(&mut self, now: Duration) {
        while self.status == Status::Connected {
            let Some(front) = self.unsent.front() else {
                return;
            };
            if front.qos != QoS::AtMostOnce && !self.has_slot(front.qos) {
                return;
            }
            let Some(mut publish) = self.unsent.pop_front() else {
                return;
            };
            self.lower_unsent(&mut publish);
            let result = self
                .check_limits(&publish)
                .and_then(|()| self.send_publish(now, publish.clone()));
            match result {
                Ok(_) => {}
                Err(SessionError::NoPacketId) => {
                    self.unsent.push_front(publish);
                    return;
                }
                Err(e) => self.events.push_back(Event::PublishFailed {
                    packet_id: None,
                    topic: publish.topic,
                    payload: publish.payload,
                    reason: format!("not sent: {e}"),
                }),
            }
        }
    }

    /// After CONNACK: re-sends what the broker has not acknowledged (§4.4), as PUBLISH with DUP
    /// or as PUBREL. A PUBLISH above the broker's maximum QoS goes at the maximum instead
    /// (see the module's "The broker's maximum QoS"). One that no longer fits the broker's
    /// other limits is given up, and reported.
    pub(super) fn resend_in_flight(&mut self, now: Duration) {
        self.outgoing.mark_all_dup();
        let pending: Vec<(Publish, Stage)> = self
            .outgoing
            .pending()
            .map(|(p, stage)| (p.clone(), stage))
            .collect();
        for (publish, stage) in pending {
            let id = publish.packet_id.unwrap_or_default();
            let packet = match stage {
                Stage::AwaitingPubComp => Packet::PubRel(Ack::new(id)),
                _ => Packet::Publish(self.lower_in_flight(id).unwrap_or(publish.clone())),
            };
            if let Err(e) = self.send(now, packet) {
                // Whatever its stage now (a lowered message's changed; at QoS 0 it left).
                if let Some(stage) = self.outgoing.stage(id) {
                    self.outgoing.complete(id, stage);
                }
                self.events.push_back(Event::PublishFailed {
                    packet_id: Some(id),
                    topic: publish.topic,
                    payload: publish.payload,
                    reason: format!("not re-sent: {e}"),
                });
            }
        }
    }

    /// The connection is over at `now`; nothing more is sent. The reason is reported in the
    /// session's words (see [`Session::handle_transport_closed`]).
    pub(super) fn lose(&mut self, now: Duration, reason: ConnectionError) {
        if self.status == Status::Offline {
            return;
        }
        let idle = self.pending_subacks.is_empty()
            && self.pending_unsubacks.is_empty()
            && self.outgoing.is_empty()
            && !self.keepalive.awaiting_pingresp();
        let reason = self.health.on_lost(now, reason, idle);
        self.status = Status::Offline;
        self.connect_deadline = None;
        self.events.push_back(Event::ConnectionLost { reason });
    }

    /// The broker broke the protocol: in MQTT 5.0 tell it why with a DISCONNECT (§4.13), then
    /// give the connection up.
    pub(super) fn fail(&mut self, now: Duration, violation: ProtocolViolation) {
        if self.options.protocol == ProtocolVersion::V5 && self.status != Status::Offline {
            let disconnect = Disconnect::new(violation.reason_code());
            let _ = self.send(now, Packet::Disconnect(disconnect));
        }
        self.lose(now, violation.into());
    }
}

/// "Not authorized (0x87): guests may not publish here", from a reason code and the Reason
/// String and Server Reference that came with it.
pub(super) fn explain(code: ReasonCode, kind: PacketKind, properties: &Properties) -> String {
    let mut text = format!("{} (0x{:02X})", code.name_in(kind), code.byte());
    if let Some(reason) = properties.reason_string() {
        text.push_str(": ");
        text.push_str(reason);
    }
    if let Some(server) = properties.server_reference() {
        text.push_str(&format!(" (server reference: {server})"));
    }
    text
}
