//! The live picture of the wire: every MQTT packet the four services' clients send and
//! receive, kept in a bounded history and drawn as a sequence diagram. Pure: no clock, no
//! browser; the runtime hands in [`broker_bridge::PacketEvent`]s with their times, and the view
//! renders what these functions compute.
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{Ack, Packet, Publish};
//! use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
//! use eda_core::services::ServiceId;
//! use eda_core::trace::{arrows, sequence_layout, to_mermaid, to_svg, ActionLog, PacketHistory, View};
//!
//! let mut history = PacketHistory::new(2000);
//! let mut publish = Publish::new("orders/created", br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}"#.to_vec(), QoS::AtLeastOnce);
//! publish.packet_id = Some(1);
//! for (at, direction, packet) in [
//!     (3, Direction::Outgoing, Packet::Publish(publish)),
//!     (5, Direction::Incoming, Packet::PubAck(Ack::new(1))),
//! ] {
//!     let bytes = packet.encode(ProtocolVersion::V311).unwrap();
//!     let event = PacketEvent {
//!         at: Duration::from_millis(at),
//!         client_id: "eda-demo-order".into(),
//!         direction,
//!         packet,
//!         bytes,
//!         protocol: ProtocolVersion::V311,
//!         skipped: None,
//!     };
//!     history.record(ServiceId::Order, &event);
//! }
//!
//! let view = View { order: "3fa85f64-5717-4562-b3fc-2c963f66afa6".parse().ok(), control_packets: false, shown: None };
//! let arrows = arrows(&history, &ActionLog::new(100), &view);
//! let labels: Vec<_> = arrows.iter().map(|a| a.label.as_str()).collect();
//! assert_eq!(labels, ["PUBLISH orders/created (QoS 1, id 1)", "PUBACK (id 1)"]);
//!
//! let mermaid = to_mermaid(&arrows);
//! assert!(mermaid.contains("Broker-->>OrderService: [+2 ms] PUBACK (id 1)"));
//! let svg = to_svg(&sequence_layout(&arrows, 1.0));
//! assert!(svg.contains("+2 ms"));
//! ```

pub mod dead_letters;
mod escape;
mod fields;
pub mod flow;
pub mod history;
pub mod orders;
pub mod otlp;
pub mod outages;
pub mod packet;
pub mod playback;
pub mod recording;
pub mod round_trip;
pub mod sequence;
pub mod service_links;
pub mod service_status;
pub mod virtual_list;

pub use history::{ActionLog, PacketHistory, Ring, UserAction};
pub use packet::{Participant, TracedPacket};
pub use sequence::export::{to_mermaid, to_svg};
pub use sequence::rows::{sequence_layout, sequence_layout_since, ArrowShape, SequenceLayout};
pub use sequence::{
    arrows, orders_in, packet_orders, relative_ms, Arrow, ArrowKind, Lifeline, View,
};

#[cfg(test)]
mod script;

use std::time::Duration;

use broker_bridge::PacketEvent;
use orders::OrderBook;
use playback::{Playback, Source, Speed};
use service_status::{ServiceEvent, ServiceLog, ServiceStatus};

use crate::services::instances::Instance;
use crate::services::{SagaStyle, ServiceId};

/// How many packets, user actions and service events the page keeps; older ones are dropped
/// and counted.
pub const HISTORY_CAPACITY: usize = 2000;

/// Everything the picture is drawn from: every packet of the four clients, the user's clicks,
/// what the services did (for their badges), and which of it the views show now.
///
/// Every method that changes what is shown takes `wall`, the page's clock (the packets' clock),
/// and never reads a clock itself.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Every packet, newest [`HISTORY_CAPACITY`].
    pub packets: PacketHistory,
    /// The user's clicks.
    pub actions: ActionLog,
    /// What the services did, for their badges.
    pub services: ServiceLog,
    /// How the saga is coordinated: it decides who subscribes to what, and so the flow
    /// diagram's edges.
    pub saga: SagaStyle,
    /// Every order seen on the wire, for the Orders panel (kept up to date by [`Trace::record`]).
    pub orders: OrderBook,
    /// Which of them the views show, and the dots' clock.
    pub playback: Playback,
    /// A copy of OrderService's event store, kept in step by the runtime as OrderService
    /// appends (each event it records), for the Event store panel. Not a packet: clearing
    /// the trace keeps it, as OrderService keeps its store.
    pub store: crate::store::EventStore,
    /// A copy of QueryService's read model, kept in step by the runtime as it projects (the
    /// same events into the same projection), for the Query panel.
    pub read_model: crate::store::ReadModel,
    /// What QueryService received and did not project, and why, for the Read model panel's
    /// lag line (its own event log is not on the page). Kept across a rebuild and a Clear, as
    /// the read model is.
    pub not_projected: crate::store::NotProjected,
    /// The store positions of the events QueryService received and holds for its projection
    /// delay ([`crate::services::Flow::projection_positions`]), as the runtime last reported
    /// them: the lag line does not count them missing (41-AH F4). Empty for a recording.
    pub projecting: std::collections::BTreeSet<u64>,
    /// The crashes, counted as the packets are recorded (live pages; empty for a recording).
    pub outage_ledger: outages::OutageLedger,
    /// A recording's: how many PaymentService instances its page ran (the highest instance
    /// number among its packets' client ids and clicks); 0 for a live trace, whose page says.
    /// The views name the instances by it, not by the viewing page's setting (a teacher's
    /// break-test: a two-instance recording shown on a one-instance page lost "by payment-2").
    pub recorded_payment_instances: u8,
    /// A recording's: how many packets the session that made it had already let go of when
    /// it was downloaded (its `dropped`; the page keeps the last [`HISTORY_CAPACITY`]); 0 for a
    /// live trace. Its replay says it begins partway ([`recording::replayed_part`]).
    pub recorded_dropped: u64,
    /// The flow diagram's dots as last chosen ([`Trace::choose_pulses`]): they stay drawn until
    /// their trip ends ([`flow::choose`]).
    drawn_pulses: Vec<flow::PulseKey>,
    /// A recording's service events the view had reached at the last [`Trace::tick`]: one
    /// between two packets (a lost connection) changes the badges and the flow diagram's nodes
    /// with no packet to say so.
    events_shown: usize,
}

impl Default for Trace {
    /// An empty live trace holding up to [`HISTORY_CAPACITY`] of each.
    fn default() -> Self {
        Trace::new(
            PacketHistory::new(HISTORY_CAPACITY),
            ActionLog::new(HISTORY_CAPACITY),
        )
    }
}

impl Trace {
    /// The saga style in effect at `at` on the packets' clock: [`Trace::saga`] unless the
    /// learner changed it after `at` ([`history::style_at`] over the style changes kept among
    /// the actions). A view draws the style of the moment it shows: live, the current one; a
    /// replay, the one each part of the session ran under.
    pub fn saga_at(&self, at: Duration) -> SagaStyle {
        history::style_at(&self.actions, self.saga, at)
    }

    /// A live trace of `packets` and `actions`, following the wire at 1×, with an empty log of
    /// service events.
    pub fn new(packets: PacketHistory, actions: ActionLog) -> Self {
        Trace {
            packets,
            actions,
            services: ServiceLog::new(HISTORY_CAPACITY),
            saga: SagaStyle::default(),
            orders: OrderBook::default(),
            playback: Playback::live(Speed::ONE),
            store: crate::store::EventStore::new(),
            read_model: crate::store::ReadModel::new(),
            not_projected: crate::store::NotProjected::default(),
            projecting: std::collections::BTreeSet::new(),
            outage_ledger: outages::OutageLedger::default(),
            recorded_payment_instances: 0,
            recorded_dropped: 0,
            drawn_pulses: Vec::new(),
            events_shown: 0,
        }
    }

    /// Records a packet `participant`'s client (a [`ServiceId`] or the status monitor) sent or
    /// received; returns its `seq`. A message of the flow also goes into the Orders panel's book.
    pub fn record(&mut self, participant: impl Into<Participant>, event: &PacketEvent) -> u64 {
        let seq = self.packets.record(participant, event);
        if let Some(packet) = self.packets.get(seq) {
            // An orders/created for an order the book holds no row of: a new order, or a copy
            // of one that ended before (a replay), which the store knows.
            let created = match packet.message.as_deref() {
                Some(crate::domain::DomainEvent::OrderCreated(c))
                    if self.orders.row(c.order_id).is_none() =>
                {
                    Some(c.order_id)
                }
                _ => None,
            };
            self.orders.apply_packet(packet);
            if let Some(order_id) = created {
                self.orders.replayed(packet.at, &self.store, order_id);
            }
            self.outage_ledger.packet(packet);
        }
        seq
    }

    /// Records what `service` did at `at`, for its badge. A crash or a restart of one of its
    /// clients is counted by [`Trace::record_crash`] and [`Trace::record_restart`].
    pub fn record_service(&mut self, at: Duration, service: ServiceId, event: ServiceEvent) {
        self.services.record(at, service, event);
    }

    /// The learner crashed `instance` at `at` (a service, or one of PaymentService's
    /// instances while the others run) with simulated work in hand for `work_lost` orders:
    /// counted in the crashes' count ([`outages::OutageLedger`], its topics those of the
    /// trace's saga style).
    pub fn record_crash(&mut self, at: Duration, instance: Instance, work_lost: usize) {
        self.outage_ledger
            .crashed(at, instance, self.saga, work_lost);
    }

    /// The learner restarted `instance` at `at`: its outage ends.
    pub fn record_restart(&mut self, at: Duration, instance: Instance) {
        self.outage_ledger.restarted(at, instance);
    }

    /// Every client was started anew at `at` (a crashed one's too): every outage ends, as a
    /// restart for the instances in `running`, and as no longer run for the others (fewer
    /// PaymentService instances).
    pub fn record_restart_all(&mut self, at: Duration, running: &[Instance]) {
        self.outage_ledger
            .restarted_all(at, |instance| running.contains(&instance));
    }

    /// The orders as the view shows them: every one seen while the view follows the wire, else
    /// those the packets shown so far tell (a recording played from its start, a paused page).
    pub fn orders_shown(&self) -> std::borrow::Cow<'_, OrderBook> {
        match self.playback.shown() {
            None => std::borrow::Cow::Borrowed(&self.orders),
            Some(shown) => {
                // What the live book knows of orders before the packets kept (Clear, dropped
                // packets) is kept: their rows are not unknown orders.
                let mut book = self.orders.emptied();
                for packet in self.packets.iter().filter(|p| shown.packet(p.seq)) {
                    book.apply_packet(packet);
                }
                std::borrow::Cow::Owned(book)
            }
        }
    }

    /// When the first click of the trace was made.
    pub fn first_action(&self) -> Option<Duration> {
        self.actions.iter().next().map(UserAction::at)
    }

    /// The flow diagram's dots when the page's clock reads `wall`, and the view's time then:
    /// those chosen last ([`Trace::choose_pulses`]) still travelling, free places to the newest
    /// of the others (at most [`flow::MAX_PULSES`]; the rest counted per edge).
    pub fn pulses_at(&self, wall: Duration) -> (flow::Pulses, Duration) {
        let view_now = self.playback.view_now(wall);
        let recent = flow::recent_pulses(
            &self.packets,
            &self.actions,
            view_now,
            self.playback.shown(),
            flow::PULSE_WINDOW,
        );
        let pulses = flow::choose(recent, flow::MAX_PULSES, &self.drawn_pulses);
        (pulses, view_now)
    }

    /// [`Trace::pulses_at`], remembered as the dots drawn: the view that draws them calls it
    /// when the packets or the playback change, so each dot stays until its trip ends.
    pub fn choose_pulses(&mut self, wall: Duration) -> (flow::Pulses, Duration) {
        let (pulses, view_now) = self.pulses_at(wall);
        self.drawn_pulses = pulses.shown.iter().map(|p| p.key).collect();
        (pulses, view_now)
    }

    /// Each service's status as the view shows it: every event while the view follows the
    /// wire, else those up to the view's time as of the last [`Trace::tick`]. The same
    /// projection for a live page and a replayed recording.
    pub fn statuses(&self) -> Vec<(ServiceId, ServiceStatus)> {
        let until = self.playback.shown().map(|s| s.until);
        self.services.statuses_at(until)
    }

    /// The page's copy of QueryService's read model projects `event`, as QueryService does (the
    /// same projection), and what it refuses goes in [`Trace::not_projected`]: the event
    /// itself, or a held event its arrival let out (41-AH F11), each said to be `store`'s own
    /// (OrderService's store) or not. Returns what the projection did.
    pub fn project(
        &mut self,
        event: &crate::store::StoredEvent,
        store: &crate::store::EventStore,
    ) -> crate::store::Projected {
        let projected = self.read_model.project(event);
        match &projected {
            crate::store::Projected::Refused(reason) => {
                self.not_projected
                    .refused(event, reason, store.holds(event))
            }
            crate::store::Projected::Applied { refused, .. } => {
                for (held, reason) in refused {
                    self.not_projected.refused(held, reason, store.holds(held));
                }
            }
            _ => {}
        }
        projected
    }

    /// Forgets every packet, click and order (the services' statuses stay as they are).
    pub fn clear(&mut self, wall: Duration) {
        self.packets.clear();
        self.actions.clear();
        self.orders.clear();
        self.services.clear();
        self.outage_ledger.clear();
        self.playback.tick(wall, &self.packets);
    }

    /// Shows `recorded` instead, played from its start at the speed chosen for this one; paused
    /// at its start if this one was paused, for *Step* (42-AK F5: a teacher who paused to step
    /// through a recording missed its start).
    ///
    /// The Event store's copy, the read model and what it did not project stay this page's
    /// own (a recording holds packets, not a store): the page says they are its own stopped
    /// session, and they read empty while a recording was shown (a teacher's break-test).
    pub fn replay(&mut self, mut recorded: Trace, wall: Duration) {
        let (speed, paused) = (self.playback.speed(), self.playback.is_paused());
        std::mem::swap(&mut recorded.store, &mut self.store);
        std::mem::swap(&mut recorded.read_model, &mut self.read_model);
        std::mem::swap(&mut recorded.not_projected, &mut self.not_projected);
        *self = recorded;
        let first_action = self.first_action();
        self.playback = Playback::recording(speed, &self.packets, first_action, wall);
        if paused {
            self.playback.pause(wall, &self.packets);
        }
    }

    /// Moves the view's clock on to `wall`. Returns whether the packets shown changed, and
    /// whether the view no longer needs a call on every frame.
    ///
    /// A recording's view also changes when its time passes a service event that no packet
    /// comes with (a lost connection, [`ServiceLog::losses`]): a CI run of a broker outage
    /// stopped 0.4 s after the connections opened, with no packet from the loss to the
    /// reconnection, never drew the services disconnected.
    pub fn tick(&mut self, wall: Duration) -> (bool, bool) {
        let changed = self.playback.tick(wall, &self.packets);
        let events_shown = match (self.playback.source(), self.playback.shown()) {
            (Source::Recording, Some(shown)) => self
                .services
                .events()
                .filter(|(at, ..)| *at <= shown.until)
                .count(),
            _ => 0,
        };
        let passed = events_shown != self.events_shown;
        self.events_shown = events_shown;
        (changed || passed, !self.playback.needs_frames(wall))
    }

    /// Pauses a running view, or runs a paused one on from where it stopped.
    pub fn toggle_pause(&mut self, wall: Duration) {
        if self.playback.is_paused() {
            self.playback.resume(wall, &self.packets)
        } else {
            self.playback.pause(wall, &self.packets)
        }
    }

    /// Live: shows everything held back and follows the wire again. A recording: plays it
    /// again from its start.
    pub fn jump(&mut self, wall: Duration) {
        match self.playback.source() {
            Source::Live => self.playback.jump_to_live(wall),
            Source::Recording => {
                let first_action = self.first_action();
                self.playback.restart(wall, &self.packets, first_action)
            }
        }
    }

    /// Pauses and shows one packet more; returns its `seq`, or `None` when all are shown.
    pub fn step(&mut self, wall: Duration) -> Option<u64> {
        self.playback.step(wall, &self.packets)
    }

    /// Plays at `speed` from now on.
    pub fn set_speed(&mut self, speed: Speed, wall: Duration) {
        self.playback.set_speed(speed, wall, &self.packets)
    }
}

#[cfg(test)]
mod tests;
