//! Test fixture: the four services' real decisions ([`Flow`]) wired through an in-memory
//! broker, every PUBLISH and its acknowledgements traced as the runtime traces them (each
//! service its own client), on virtual time. What the page would have recorded for a saga.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use broker_bridge::packet::Ack;
use broker_bridge::{Direction, Packet, PacketEvent, ProtocolVersion, Publish, QoS};
use uuid::Uuid;

use crate::domain::events::DomainEvent;
use crate::domain::order_form::{validate, OrderDraft};
use crate::domain::Timestamp;
use crate::services::dead_letter::DeadLetter;
use crate::services::{order, Command, Flow, FlowSettings, ServiceId, Work};
use crate::trace::PacketHistory;

/// 2024-01-15T10:30:00Z, the seed's `createdAt`: the wall clock when the packets' clock reads 0.
pub const START_UNIX_MS: i64 = 1_705_314_600_000;

pub fn client(service: ServiceId) -> String {
    format!("eda-test-{}", service.slug())
}

pub struct Wire {
    pub flow: Flow,
    pub history: PacketHistory,
    pub qos: QoS,
    /// Topics whose deliveries the broker sends twice (the second with DUP, as a redelivery).
    pub redelivered: Vec<&'static str>,
    /// Whether OrderService publishes each event it appends on `eventstore/orders/<orderId>`,
    /// for QueryService to project (off: the saga's messages alone).
    pub event_store: bool,
    now_ms: u64,
    timers: Vec<(u64, u64, Work)>,
    armed: u64,
    next_id: u128,
    queue: VecDeque<(ServiceId, Vec<u8>, String, bool)>,
    packet_ids: HashMap<(ServiceId, Direction), u16>,
}

impl Wire {
    pub fn new(settings: FlowSettings, qos: QoS) -> Wire {
        Wire {
            flow: Flow::new(settings),
            history: PacketHistory::new(10_000),
            qos,
            redelivered: Vec::new(),
            event_store: false,
            now_ms: 10,
            timers: Vec::new(),
            armed: 0,
            next_id: 0x5000,
            queue: VecDeque::new(),
            packet_ids: HashMap::new(),
        }
    }

    fn stamp(&self) -> Timestamp {
        Timestamp::from_unix_millis(START_UNIX_MS + self.now_ms as i64).unwrap()
    }

    fn record(&mut self, service: ServiceId, direction: Direction, packet: Packet) {
        let bytes = packet.encode(ProtocolVersion::V311).unwrap();
        let event = PacketEvent {
            at: Duration::from_millis(self.now_ms),
            client_id: client(service),
            direction,
            packet,
            bytes,
            protocol: ProtocolVersion::V311,
            skipped: None,
        };
        self.history.record(service, &event);
    }

    /// A PUBLISH `direction` from `service`'s view, and its acknowledgements.
    fn leg(
        &mut self,
        service: ServiceId,
        direction: Direction,
        topic: &str,
        payload: Vec<u8>,
        dup: bool,
    ) {
        let mut publish = Publish::new(topic, payload, self.qos);
        publish.dup = dup;
        if self.qos != QoS::AtMostOnce {
            let id = self.packet_ids.entry((service, direction)).or_insert(0);
            *id = id.wrapping_add(1).max(1);
            publish.packet_id = Some(*id);
        }
        let id = publish.packet_id;
        self.record(service, direction, Packet::Publish(publish));
        let back = match direction {
            Direction::Outgoing => Direction::Incoming,
            Direction::Incoming => Direction::Outgoing,
        };
        let Some(id) = id else { return };
        if self.qos == QoS::AtLeastOnce {
            self.record(service, back, Packet::PubAck(Ack::new(id)));
        } else {
            self.record(service, back, Packet::PubRec(Ack::new(id)));
            self.record(service, direction, Packet::PubRel(Ack::new(id)));
            self.record(service, back, Packet::PubComp(Ack::new(id)));
        }
    }

    /// `service` publishes `payload` on `topic`; the broker queues it for every subscriber.
    pub fn publish_raw(&mut self, service: ServiceId, topic: &str, payload: Vec<u8>) {
        self.leg(service, Direction::Outgoing, topic, payload.clone(), false);
        // On the wire at once, as the runtime reports each PUBLISH OrderService's client sends.
        if service == ServiceId::Order {
            let now = self.stamp();
            self.flow.published(topic, &payload, now);
        }
        for to in ServiceId::ALL {
            let stored = to == ServiceId::Query && crate::store::stream_of_topic(topic).is_some();
            let subscribed = stored || to.subscriptions(self.flow.settings.saga).contains(&topic);
            if subscribed {
                let twice = self.redelivered.contains(&topic);
                self.queue
                    .push_back((to, payload.clone(), topic.to_owned(), false));
                if twice {
                    self.queue
                        .push_back((to, payload.clone(), topic.to_owned(), true));
                }
            }
        }
    }

    fn run(&mut self, service: ServiceId, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Publish(event) => {
                    self.publish_raw(service, event.topic(), event.to_json())
                }
                Command::Schedule { after, work } => {
                    self.armed += 1;
                    let due = self.now_ms + after.as_millis() as u64;
                    self.timers.push((due, self.armed, work));
                }
                Command::Record(event) if self.event_store => {
                    self.publish_raw(service, &event.topic(), event.to_json())
                }
                Command::Notify(_)
                | Command::Retain(_)
                | Command::Record(_)
                | Command::Log { .. } => {}
            }
        }
    }

    /// Delivers what is queued (1 ms each) and fires timers, earliest first, until nothing is
    /// left. A message a service refuses is dead-lettered at once, as the runtime does for one
    /// that can never be processed.
    pub fn settle(&mut self) {
        loop {
            while let Some((to, payload, topic, dup)) = self.queue.pop_front() {
                self.now_ms += 1;
                self.leg(to, Direction::Incoming, &topic, payload.clone(), dup);
                let now = self.stamp();
                match self.flow.handle(to, now, &topic, &payload) {
                    Ok(commands) => self.run(to, commands),
                    Err(rejection) if !rejection.is_duplicate() => {
                        let letter =
                            DeadLetter::of_message(to, &topic, &payload, &rejection.reason, 1, now);
                        let slug = format!("deadletter/{}", to.slug());
                        self.leg(to, Direction::Outgoing, &slug, letter.to_json(), false);
                    }
                    // A duplicate: ignored, its answer sent again if it is a compensation's.
                    Err(rejection) => self.run(to, rejection.answer_again),
                }
            }
            let Some(next) =
                (0..self.timers.len()).min_by_key(|&i| (self.timers[i].0, self.timers[i].1))
            else {
                return;
            };
            let (due, _, work) = self.timers.remove(next);
            self.now_ms = self.now_ms.max(due);
            self.next_id += 1;
            let service = work.service();
            let commands = self
                .flow
                .complete(work, self.stamp(), Uuid::from_u128(self.next_id));
            self.run(service, commands);
        }
    }

    /// OrderService publishes the form's order (`quantity` × P001 at 29.99 for customer C123).
    pub fn place(&mut self, order_id: Uuid, quantity: u32) {
        let mut draft = OrderDraft::seed_example();
        draft.items[0].quantity = quantity.to_string();
        let created = order::place(self.stamp(), order_id, &validate(&draft).unwrap());
        self.run(
            ServiceId::Order,
            vec![Command::Publish(DomainEvent::from(created))],
        );
    }
}
