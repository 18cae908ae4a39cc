//! The broker's maximum QoS for our publishes: stated by an MQTT 5.0 CONNACK, learned under
//! MQTT 3.1.1, and what the session does with a message accepted above it.
//!
//! A 3.1.1 CONNACK has no Maximum QoS, yet brokers have one: Mosquitto 2.0's `max_qos` closes
//! a 3.1.1 connection whose PUBLISH is above it, and a session that re-sends that PUBLISH on
//! every new connection, as §4.4 asks, meets the same close forever. So the session learns
//! the ceiling ([`LearnedMaximumQoS`]) from a SUBACK granting less than asked, or from two
//! closes in a row after the same QoS 2 PUBLISH ([`QoSEvidence`]), and from then on treats it
//! as 5.0's Maximum QoS.

use super::{Event, Session, Status};
use crate::capabilities::{LearnedMaximumQoS, QoSEvidence};
use crate::inflight::Stage;
use crate::packet::{ProtocolVersion, Publish, QoS, SubscribeReturnCode};

impl Session {
    /// MQTT 3.1.1: the broker's maximum QoS as the session learned it (see
    /// [`QoSEvidence`]); `None` while nothing showed one, and always under MQTT 5.0 (its
    /// CONNACK states it: [`Session::capabilities`]). Kept across reconnects to the same
    /// broker; [`Session::forget_broker`] drops it.
    pub fn learned_maximum_qos(&self) -> Option<&LearnedMaximumQoS> {
        self.learned_qos.as_ref()
    }

    /// MQTT 3.1.1: takes `learned` as the broker's maximum QoS, e.g. from another client of
    /// the same broker that learned it, if lower than what this session knows. Returns whether
    /// it was. No [`Event::MaximumQoSLearned`] follows (the caller knows). Ignored under MQTT
    /// 5.0, whose CONNACK says it.
    pub fn learn_maximum_qos(&mut self, learned: LearnedMaximumQoS) -> bool {
        if self.options.protocol != ProtocolVersion::V311 || learned.maximum >= self.maximum_qos() {
            return false;
        }
        self.learned_qos = Some(learned);
        true
    }

    /// The driver moves to another broker: what was learned of this one (its maximum QoS under
    /// 3.1.1) is forgotten, and the reconnect delays start over.
    pub fn forget_broker(&mut self) {
        self.learned_qos = None;
        self.qos2_closed = None;
        self.health.reset();
    }

    /// The highest QoS the broker takes from us: its CONNACK's Maximum QoS (5.0), or the one
    /// learned (3.1.1); 2 when nothing says less.
    pub(super) fn maximum_qos(&self) -> QoS {
        let learned = self
            .learned_qos
            .as_ref()
            .map_or(QoS::ExactlyOnce, |l| l.maximum);
        self.limits.maximum_qos.min(learned)
    }

    /// 3.1.1: a SUBACK granting less than a filter asked teaches the broker's ceiling.
    pub(super) fn learn_from_grants(
        &mut self,
        asked: &[(String, QoS)],
        codes: &[SubscribeReturnCode],
    ) {
        if self.options.protocol != ProtocolVersion::V311 {
            return;
        }
        for ((filter, asked), code) in asked.iter().zip(codes) {
            if let SubscribeReturnCode::Granted(granted) = *code {
                if granted < *asked {
                    self.learned(LearnedMaximumQoS {
                        maximum: granted,
                        evidence: QoSEvidence::Granted {
                            filter: filter.clone(),
                            asked: *asked,
                            granted,
                        },
                    });
                }
            }
        }
    }

    /// 3.1.1: the transport of an accepted connection closed without a word. A QoS 2 PUBLISH
    /// awaiting its PUBREC is noted; if the one noted at the previous close is still awaiting
    /// it (it was re-sent on this connection, and met the same end), the ceiling is 1.
    pub(super) fn learn_from_close(&mut self) {
        if self.options.protocol != ProtocolVersion::V311 || self.status != Status::Connected {
            return;
        }
        let awaiting: Vec<(u16, String)> = self
            .outgoing
            .pending()
            .filter(|(_, stage)| *stage == Stage::AwaitingPubRec)
            .filter_map(|(p, _)| Some((p.packet_id?, p.topic.clone())))
            .collect();
        let again = self
            .qos2_closed
            .and_then(|id| awaiting.iter().find(|(a, _)| *a == id));
        if let Some((_, topic)) = again {
            let topic = topic.clone();
            self.qos2_closed = None;
            self.learned(LearnedMaximumQoS {
                maximum: QoS::AtLeastOnce,
                evidence: QoSEvidence::ClosedAfterPublish { topic },
            });
        } else {
            self.qos2_closed = awaiting.first().map(|(id, _)| *id);
        }
    }

    /// Adopts `learned` if lower than the ceiling known, and says so.
    fn learned(&mut self, learned: LearnedMaximumQoS) {
        if learned.maximum < self.maximum_qos() {
            self.learned_qos = Some(learned.clone());
            self.events.push_back(Event::MaximumQoSLearned(learned));
        }
    }

    /// A message accepted before the broker's ceiling was known goes out at the ceiling, and
    /// the lowering is reported; never dropped for it. `publish` is one not sent yet.
    pub(super) fn lower_unsent(&mut self, publish: &mut Publish) {
        let maximum = self.maximum_qos();
        if publish.qos > maximum {
            self.events.push_back(Event::QoSLowered {
                packet_id: None,
                topic: publish.topic.clone(),
                asked: publish.qos,
                sent: maximum,
            });
            publish.qos = maximum;
        }
    }

    /// [`Session::lower_unsent`] for message `id` in flight, before it is re-sent: the
    /// message as it must go now, if lowered.
    pub(super) fn lower_in_flight(&mut self, id: u16) -> Option<Publish> {
        let maximum = self.maximum_qos();
        let (asked, lowered) = {
            let asked = self
                .outgoing
                .pending()
                .find(|(p, _)| p.packet_id == Some(id))?
                .0
                .qos;
            (asked, self.outgoing.lower(id, maximum)?)
        };
        self.events.push_back(Event::QoSLowered {
            packet_id: lowered.packet_id,
            topic: lowered.topic.clone(),
            asked,
            sent: maximum,
        });
        Some(lowered)
    }
}
