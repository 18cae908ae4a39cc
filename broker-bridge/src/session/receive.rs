//! What the session does with each packet from the broker.

use std::time::Duration;

use super::send::explain;
use super::{
    BrokerFault, BrokerLimits, ConnectionError, Event, ProtocolViolation, Session, SessionError,
    Status,
};
use crate::codec::OversizedPublish;
use crate::inflight::Stage;
use crate::packet::{
    Ack, ConnAck, Disconnect, Packet, PacketKind, ProtocolVersion, Publish, QoS, ReasonCode,
    RetainHandling, SubAck, UnsubAck,
};
use crate::trace::{Direction, PacketEvent, SkippedPayload};

impl Session {
    pub(super) fn receive(&mut self, now: Duration, packet: Packet) {
        self.keepalive.on_received(now);
        let v5 = self.options.protocol == ProtocolVersion::V5;
        let result = match packet {
            Packet::ConnAck(ack) => self.on_connack(now, ack),
            Packet::Publish(publish) => self.on_publish(now, publish),
            Packet::PubAck(ack) => {
                self.on_puback(now, ack);
                Ok(())
            }
            Packet::PubRec(ack) => self.on_pubrec(now, ack),
            Packet::PubRel(ack) => self.on_pubrel(now, ack),
            Packet::PubComp(ack) => {
                // Any reason completes it: PUBREC already said the broker has the message, and
                // 0x92 (not found) means it had finished with it.
                let id = ack.packet_id;
                self.health.on_served();
                if let Some(publish) = self.outgoing.complete(id, Stage::AwaitingPubComp) {
                    self.health.on_delivered();
                    self.events.push_back(Event::Delivered {
                        packet_id: id,
                        topic: publish.topic,
                    });
                    self.release_unsent(now);
                }
                Ok(())
            }
            Packet::SubAck(ack) => {
                self.on_suback(now, ack);
                Ok(())
            }
            Packet::UnsubAck(ack) => {
                self.on_unsuback(ack);
                Ok(())
            }
            Packet::PingResp => {
                let took = self.keepalive.on_pingresp(now);
                // Within the options' wait: the link is quick again. A PINGRESP that needed the
                // longer wait keeps it (set back, the next would time out again, and so on).
                if self.late_pingresps > 0
                    && took.is_some_and(|took| took <= self.options.ping_timeout)
                {
                    self.ping_in_time();
                }
                self.health.on_served();
                Ok(())
            }
            Packet::Disconnect(disconnect) if v5 => {
                self.on_disconnect(now, disconnect);
                Ok(())
            }
            Packet::Auth(_) => {
                self.fail(now, ProtocolViolation::UnexpectedAuth);
                Ok(())
            }
            other @ (Packet::Connect(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect(_)) => {
                self.fail(now, ProtocolViolation::ClientOnlyPacket(other.kind()));
                Ok(())
            }
        };
        if let Err(e) = result {
            self.lose(now, ConnectionError::AnswerFailed(e));
        }
    }

    /// A CONNECT refused for its Will (MQTT 5.0 §3.2.2.2: 0x9A for a retained Will on a broker
    /// without retained messages, 0x9B for a Will QoS above the broker's Maximum QoS): the Will
    /// is lowered to what the broker takes, so the next attempt can succeed. Says what changed;
    /// `None` when the refusal is for something else or the Will is already as low.
    fn lower_will_for(&mut self, ack: &ConnAck) -> Option<String> {
        let will = self.options.will.as_mut()?;
        match ack.code {
            ReasonCode::RetainNotSupported if will.retain => {
                will.retain = false;
                Some(
                    "the Will is no longer retained: the broker refused CONNECT with Retain not \
                     supported (0x9A), so it keeps no retained messages"
                        .to_owned(),
                )
            }
            ReasonCode::QoSNotSupported => {
                let maximum = ack.properties.maximum_qos().unwrap_or(QoS::AtMostOnce);
                (will.qos > maximum).then(|| {
                    will.qos = maximum;
                    format!(
                        "the Will now travels at QoS {}: the broker refused CONNECT with QoS not \
                         supported (0x9B)",
                        maximum as u8
                    )
                })
            }
            _ => None,
        }
    }

    fn on_connack(&mut self, now: Duration, ack: ConnAck) -> Result<(), SessionError> {
        if self.status != Status::Connecting {
            self.fail(now, ProtocolViolation::SecondConnAck);
            return Ok(());
        }
        if ack.code != ReasonCode::Success {
            if let Some(change) = self.lower_will_for(&ack) {
                self.events.push_back(Event::WillAdjusted(change));
            }
            self.lose(
                now,
                ConnectionError::Refused {
                    protocol: self.options.protocol,
                    connack: ack,
                },
            );
            return Ok(());
        }
        // A session we asked the broker to discard cannot be present. 5.0: close
        // ([MQTT-3.2.2-4]); 3.1.1: the broker's fault ([MQTT-3.2.2-1]), so start afresh.
        if ack.session_present && self.options.clean_session {
            if self.options.protocol == ProtocolVersion::V5 {
                self.fail(now, ProtocolViolation::SessionPresentOnCleanStart);
                return Ok(());
            }
            self.events.push_back(Event::BrokerFault(
                BrokerFault::SessionPresentOnCleanSession,
            ));
        }
        let session_present = ack.session_present && !self.options.clean_session;
        self.status = Status::Connected;
        self.health.on_accepted(now);
        self.connect_deadline = None;
        if let Some(secs) = ack.properties.server_keep_alive() {
            self.keepalive
                .set_interval(Duration::from_secs(secs.into()));
        }
        self.keepalive.reset(now);
        self.limits = BrokerLimits::of(&ack);
        self.connack = Some(ack);
        self.events.push_back(Event::Connected { session_present });
        if !session_present {
            // The broker starts a new session: its packet ids start again, so ids of QoS 2
            // messages we had received under the old one mean nothing now.
            self.incoming_qos2.clear();
            self.confirmed.clear();
            // A QoS 2 message the old session answered with PUBREC is unknown to this one: a
            // PUBREL would be answered with PUBCOMP (a broker answers a PUBREL it has no record
            // of so, §4.3.3) and the message crossed off, though a broker that forwards on
            // PUBREL (Mosquitto) never passed it on. 5.0 asks the client to discard its session
            // state on Session Present 0 ([MQTT-3.2.2-5]), 3.1.1 to discard it with Clean
            // Session 1 (§3.1.2.4): the message is published again instead, from its PUBLISH
            // (a newcomer's break-test: Mosquitto killed and restarted without its data after
            // PUBREC, and an orders/confirmed the page counted reached nobody).
            self.outgoing.restart_released();
        }
        // Subscribe to every filter again, even in a session the broker says it kept: Session
        // Present says it holds a session for our client id, not which subscriptions the session
        // holds. A broker restored from an older save (Mosquitto saves every autosave_interval;
        // killed without warning, it comes back with its last save) holds the session as it was
        // then, without the subscriptions made since, and a client that trusted Session Present
        // would hear nothing on them, for good (a newcomer's kill -9 left two services deaf).
        // Subscribing again replaces a subscription the broker holds without interrupting its
        // flow (MQTT 3.1.1 §3.8.4, 5.0 §3.8.4). In 5.0 one granted in the session it kept is
        // asked with Retain Handling 1, so that its retained messages come again only if the
        // broker had lost it (§3.8.3.1); 3.1.1 has no such option, and they come again.
        let v5 = self.options.protocol == ProtocolVersion::V5;
        let again: Vec<_> = self
            .subscriptions
            .iter()
            .map(|(filter, options)| {
                let mut options = *options;
                if v5
                    && session_present
                    && self.confirmed.contains(filter)
                    && options.retain_handling == RetainHandling::SendAtSubscribe
                {
                    options.retain_handling = RetainHandling::SendAtSubscribeIfNew;
                }
                (filter.clone(), options)
            })
            .collect();
        if !again.is_empty() {
            self.send_subscribe(now, again)?;
        }
        // §4.4: re-send what the broker has not acknowledged, then what waited.
        self.resend_in_flight(now);
        self.release_unsent(now);
        Ok(())
    }

    fn on_publish(&mut self, now: Duration, publish: Publish) -> Result<(), SessionError> {
        if let Some(alias) = publish.properties.topic_alias() {
            self.fail(now, ProtocolViolation::TopicAlias(alias));
            return Ok(());
        }
        // A retained message comes again on every connection: it proves nothing about this one.
        if !publish.retain {
            self.health.on_delivered();
        }
        match (publish.qos, publish.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => {
                if !self.hold_answer(id, QoS::AtLeastOnce) {
                    self.send(now, Packet::PubAck(Ack::new(id)))?;
                }
                self.events.push_back(Event::Message(publish));
            }
            (QoS::ExactlyOnce, Some(id)) => {
                // A PUBLISH sent again carries DUP 1 ([MQTT-3.3.1-1]). One with DUP 0, another
                // topic or payload, under an id whose PUBREL has not come is a new message: the
                // broker forgot the exchange (Mosquitto killed and restored from an older save,
                // with Session Present 1). Taken as a repeat, it was answered PUBREC and never
                // delivered (a newcomer's break-test: an order charged and reserved, its saga
                // never started).
                let digest = super::packet_ids::digest(&publish.topic, &publish.payload);
                let forgotten = !publish.dup
                    && !self.owed.holds(id)
                    && matches!(self.incoming_qos2.digest(id), Some(Some(d)) if d != digest);
                if forgotten {
                    self.incoming_qos2.remove(&id);
                    self.events
                        .push_back(Event::BrokerFault(BrokerFault::ForgottenQos2 {
                            packet_id: id,
                            topic: publish.topic.clone(),
                        }));
                }
                // A re-sent QoS 2 message whose PUBREL we have not seen was already delivered.
                if self.incoming_qos2.insert_with(id, Some(digest)) {
                    let limit = self.options.receive_maximum;
                    if self.options.protocol == ProtocolVersion::V5
                        && self.incoming_qos2.len() > usize::from(limit)
                    {
                        self.incoming_qos2.remove(&id);
                        self.fail(now, ProtocolViolation::ReceiveMaximumExceeded { limit });
                        return Ok(());
                    }
                    let held = self.hold_answer(id, QoS::ExactlyOnce);
                    self.events.push_back(Event::Message(publish));
                    if held {
                        return Ok(());
                    }
                } else if self.owed.holds(id) {
                    // Its PUBREC is held for the application: it goes when released.
                    return Ok(());
                }
                self.send(now, Packet::PubRec(Ack::new(id)))?;
            }
            _ => self.events.push_back(Event::Message(publish)),
        }
        Ok(())
    }

    /// MQTT 3.1.1: a message too large to take in was skipped; acknowledge it as its QoS
    /// requires, or the broker sends it again (and again, if it is retained, on every
    /// connection). A re-sent QoS 2 one whose PUBREL has not come is reported once.
    pub(super) fn on_oversized(&mut self, now: Duration, publish: OversizedPublish) {
        // On the wire views as what it was, a PUBLISH, before the answer to it: a PUBACK of
        // nothing read as an acknowledgement of a message that never came (42-AK F1).
        let seen = Publish {
            packet_id: publish.packet_id,
            dup: publish.dup,
            retain: publish.retain,
            ..Publish::new(publish.topic.clone(), Vec::new(), publish.qos)
        };
        let packet = Packet::Publish(seen);
        if let Ok(bytes) = packet.encode(self.options.protocol) {
            self.events.push_back(Event::Packet(PacketEvent {
                at: now,
                client_id: self.options.client_id.clone(),
                direction: Direction::Incoming,
                packet,
                bytes,
                protocol: self.options.protocol,
                skipped: Some(SkippedPayload {
                    size: publish.size,
                    max: publish.max,
                }),
            }));
        }
        let answer = match (publish.qos, publish.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => Some((true, Packet::PubAck(Ack::new(id)))),
            (QoS::ExactlyOnce, Some(id)) => {
                let first = self.incoming_qos2.insert(id);
                Some((first, Packet::PubRec(Ack::new(id))))
            }
            _ => None,
        };
        if answer.as_ref().is_none_or(|(report, _)| *report) {
            self.events.push_back(Event::MessageTooLarge(publish));
        }
        if let Some((_, packet)) = answer {
            if let Err(e) = self.send(now, packet) {
                self.lose(now, ConnectionError::AnswerFailed(e));
            }
        }
    }

    fn on_puback(&mut self, now: Duration, ack: Ack) {
        self.health.on_served();
        if let Some(publish) = self.outgoing.complete(ack.packet_id, Stage::AwaitingPubAck) {
            self.report_outcome(publish, &ack, PacketKind::PubAck);
            self.release_unsent(now);
        }
    }

    fn on_pubrec(&mut self, now: Duration, ack: Ack) -> Result<(), SessionError> {
        let id = ack.packet_id;
        self.health.on_served();
        if ack.reason.is_error() {
            // The broker refused the message: the exchange ends here, without PUBREL.
            if let Some(publish) = self.outgoing.complete(id, Stage::AwaitingPubRec) {
                self.report_outcome(publish, &ack, PacketKind::PubRec);
                self.release_unsent(now);
            }
            return Ok(());
        }
        let known = self
            .outgoing
            .advance(id, Stage::AwaitingPubRec, Stage::AwaitingPubComp)
            || self.outgoing.stage(id) == Some(Stage::AwaitingPubComp);
        let reply = match (known, self.options.protocol) {
            (true, _) => Ack::new(id),
            (false, ProtocolVersion::V5) => {
                Ack::with_reason(id, ReasonCode::PacketIdentifierNotFound)
            }
            (false, ProtocolVersion::V311) => return Ok(()),
        };
        self.send(now, Packet::PubRel(reply))
    }

    fn on_pubrel(&mut self, now: Duration, ack: Ack) -> Result<(), SessionError> {
        let id = ack.packet_id;
        let known = self.incoming_qos2.remove(&id);
        let reply = if known || self.options.protocol == ProtocolVersion::V311 {
            Ack::new(id)
        } else {
            Ack::with_reason(id, ReasonCode::PacketIdentifierNotFound)
        };
        self.send(now, Packet::PubComp(reply))
    }

    fn on_suback(&mut self, now: Duration, ack: SubAck) {
        self.health.on_served();
        if let Some(filters) = self.pending_subacks.remove(&ack.packet_id) {
            if filters.len() != ack.return_codes.len() {
                // Which code answers which filter cannot be known: a protocol error, as an
                // empty SUBACK is (the subscriptions are asked again on the next connection).
                self.fail(
                    now,
                    ProtocolViolation::SubAckCount {
                        filters: filters.len(),
                        codes: ack.return_codes.len(),
                    },
                );
                return;
            }
            self.learn_from_grants(&filters, &ack.return_codes);
            for ((filter, _), code) in filters.iter().zip(&ack.return_codes) {
                if code.is_failure() {
                    self.confirmed.remove(filter);
                } else {
                    self.confirmed.insert(filter.clone());
                }
            }
            self.events.push_back(Event::Subscribed {
                filters,
                granted: ack.return_codes,
            });
        }
    }

    fn on_unsuback(&mut self, ack: UnsubAck) {
        self.health.on_served();
        if let Some(filters) = self.pending_unsubacks.remove(&ack.packet_id) {
            self.events.push_back(Event::Unsubscribed {
                filters,
                reasons: ack.reasons,
            });
        }
    }

    /// MQTT 5.0: the broker closes the connection and says why.
    fn on_disconnect(&mut self, now: Duration, disconnect: Disconnect) {
        self.lose(now, ConnectionError::BrokerDisconnect(disconnect));
    }

    /// Delivered, or refused with the broker's reason (PUBACK, or PUBREC of 0x80 or more).
    fn report_outcome(&mut self, publish: Publish, ack: &Ack, kind: PacketKind) {
        let packet_id = ack.packet_id;
        if !ack.reason.is_error() {
            self.health.on_delivered();
        }
        let event = if ack.reason.is_error() {
            Event::PublishFailed {
                packet_id: Some(packet_id),
                topic: publish.topic,
                payload: publish.payload,
                reason: format!(
                    "the broker refused the message: {}",
                    explain(ack.reason, kind, &ack.properties)
                ),
            }
        } else {
            Event::Delivered {
                packet_id,
                topic: publish.topic,
            }
        };
        self.events.push_back(event);
    }
}
