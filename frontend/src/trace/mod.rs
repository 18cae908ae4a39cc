//! The live picture of the wire: every MQTT packet the four services' clients send and
//! receive, kept in a bounded history and drawn as a sequence diagram. Pure: no clock, no
//! browser; the runtime hands in [`broker_bridge::PacketEvent`]s with their times, and the view
//! renders what these functions compute.
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{Ack, Packet, Publish};
//! use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
//! use frontend::services::ServiceId;
//! use frontend::trace::{arrows, layout, to_mermaid, to_svg, ActionLog, PacketHistory, View};
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
//! let svg = to_svg(&layout(&arrows, 1.0));
//! assert!(svg.contains("+2 ms"));
//! ```

mod escape;
pub mod export;
mod fields;
pub mod flow;
pub mod flow_replay;
pub mod history;
pub mod layout;
pub mod packet;
pub mod playback;
pub mod recording;
pub mod sequence;
pub mod virtual_list;

pub use export::{to_mermaid, to_svg};
pub use history::{ActionLog, PacketHistory, Ring, UserAction};
pub use layout::{layout, ArrowShape, Layout};
pub use packet::TracedPacket;
pub use sequence::{
    arrows, orders_in, packet_orders, relative_ms, Arrow, ArrowKind, Lifeline, View,
};

#[cfg(test)]
mod script;

#[cfg(test)]
mod purity {
    use std::path::Path;

    /// Split so this file does not match itself.
    const FORBIDDEN: [[&str; 2]; 6] = [
        ["SystemTime::", "now"],
        ["Instant::", "now"],
        ["web_", "sys"],
        ["js_", "sys"],
        ["gloo", "::"],
        ["yew", "::"],
    ];

    /// The trace is computed natively and rendered in the browser; the compiler cannot keep
    /// the browser out of one module of a crate that depends on it, so this test does.
    #[test]
    fn the_trace_reads_no_clock_and_no_browser() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/trace");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for [head, tail] in FORBIDDEN {
                let token = format!("{head}{tail}");
                assert!(!text.contains(&token), "{} uses {token}", path.display());
            }
            checked += 1;
        }
        assert!(checked >= 8, "checked only {checked} files");
    }
}

/// How many packets and user actions the page keeps; older ones are dropped and counted.
pub const HISTORY_CAPACITY: usize = 2000;

/// The history and the user's actions, shared by the runtime (which records) and the views
/// (which read). Kept out of the reducer's state, which is copied on every action.
#[derive(Clone)]
pub struct SharedTrace(pub std::rc::Rc<std::cell::RefCell<Trace>>);

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

impl SharedTrace {
    pub fn new() -> Self {
        SharedTrace(std::rc::Rc::new(std::cell::RefCell::new(Trace::new(
            PacketHistory::new(HISTORY_CAPACITY),
            ActionLog::new(HISTORY_CAPACITY),
        ))))
    }
}

impl Default for SharedTrace {
    fn default() -> Self {
        Self::new()
    }
}

/// The same trace is equal to itself; views re-render on the state's `trace_version`.
impl PartialEq for SharedTrace {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}
