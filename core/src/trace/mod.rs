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

mod escape;
mod fields;
pub mod flow;
pub mod history;
pub mod packet;
pub mod playback;
pub mod recording;
pub mod sequence;
pub mod virtual_list;

pub use history::{ActionLog, PacketHistory, Ring, UserAction};
pub use packet::TracedPacket;
pub use sequence::export::{to_mermaid, to_svg};
pub use sequence::rows::{sequence_layout, ArrowShape, SequenceLayout};
pub use sequence::{
    arrows, orders_in, packet_orders, relative_ms, Arrow, ArrowKind, Lifeline, View,
};

#[cfg(test)]
mod script;

/// How many packets and user actions the page keeps; older ones are dropped and counted.
pub const HISTORY_CAPACITY: usize = 2000;

/// Every packet of the four clients and the user's actions, and which of them the views show.
pub struct Trace {
    pub packets: PacketHistory,
    pub actions: ActionLog,
    /// Which of them the views show, and the dots' clock.
    pub playback: playback::Playback,
}

impl Trace {
    pub fn new(packets: PacketHistory, actions: ActionLog) -> Self {
        Trace {
            packets,
            actions,
            playback: playback::Playback::live(playback::Speed::ONE),
        }
    }

    /// When the first click of the trace was made.
    pub fn first_action(&self) -> Option<std::time::Duration> {
        self.actions.iter().next().map(UserAction::at)
    }

    /// The flow diagram's dots when the page's clock reads `wall`, and the view's time then.
    pub fn pulses_at(&self, wall: std::time::Duration) -> (flow::Pulses, std::time::Duration) {
        let view_now = self.playback.view_now(wall);
        let pulses = flow::shown_pulses(
            &self.packets,
            &self.actions,
            view_now,
            self.playback.shown(),
            flow::PULSE_WINDOW,
            flow::MAX_PULSES,
        );
        (pulses, view_now)
    }
}
