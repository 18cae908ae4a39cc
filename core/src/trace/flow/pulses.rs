//! The moving dots of the flow diagram: one per recent PUBLISH packet and click, each keyed
//! for the page, at most so many drawn and the rest counted per edge.

use std::time::Duration;

use uuid::Uuid;

use super::edges::edge_of;
use super::Edge;
use crate::trace::history::{ActionLog, PacketHistory, UserAction};
use crate::trace::playback::{shows, Shown, TRIP};

/// How long a dot stays on the page after its packet: its trip, then it is gone.
pub const PULSE_WINDOW: Duration = TRIP;
/// Dots drawn at once; beyond that each edge shows how many it did not draw.
pub const MAX_PULSES: usize = 60;

/// What a dot stands for, and its identity on the page: a new key is a new animation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PulseKey {
    /// The n-th click of "Place order" since the page opened (first among equal times: the
    /// click causes the PUBLISH).
    Click(u64),
    /// The packet with this [`TracedPacket::seq`](crate::trace::TracedPacket::seq).
    Packet(u64),
}

impl PulseKey {
    /// Unique on the page: `p<seq>` or `c<n>`.
    pub fn id(&self) -> String {
        match self {
            PulseKey::Packet(seq) => format!("p{seq}"),
            PulseKey::Click(n) => format!("c{n}"),
        }
    }

    pub fn seq(&self) -> Option<u64> {
        match self {
            PulseKey::Packet(seq) => Some(*seq),
            PulseKey::Click(_) => None,
        }
    }
}

/// One dot travelling one edge, from the moment its packet was sent or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pulse {
    pub key: PulseKey,
    pub edge: Edge,
    pub order_id: Option<Uuid>,
    /// When the packet was sent or received (the click made), on the packets' clock.
    pub at: Duration,
    /// A failure or compensation the packet carries: the dot is drawn in its colour.
    pub mark: Option<crate::trace::packet::Mark>,
}

impl Pulse {
    /// How far along its edge the dot is at the view's time `now`: 0 at the tail, 1 at the
    /// head, which it reaches [`TRIP`] after its packet.
    pub fn travelled(&self, now: Duration) -> f64 {
        let gone = now.saturating_sub(self.at).as_secs_f64();
        (gone / TRIP.as_secs_f64()).min(1.0)
    }
}

/// The dots to draw now, and per edge how many more there were.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pulses {
    /// Oldest first, at most the `max` asked for: the newest ones.
    pub shown: Vec<Pulse>,
    /// Edges whose recent dots were not all drawn, with how many were left out, in the order
    /// of their first dot left out.
    pub hidden: Vec<(Edge, usize)>,
}

/// The pulses of the PUBLISH packets and clicks of the last `window` before `now`; at most
/// `max` of them drawn, the newest, the others counted per edge.
pub fn pulses(
    history: &PacketHistory,
    actions: &ActionLog,
    now: Duration,
    window: Duration,
    max: usize,
) -> Pulses {
    shown_pulses(history, actions, now, None, window, max)
}

/// [`pulses`] of what the playback shows: packets below `shown.below`, clicks up to `now`.
pub fn shown_pulses(
    history: &PacketHistory,
    actions: &ActionLog,
    now: Duration,
    shown: Option<Shown>,
    window: Duration,
    max: usize,
) -> Pulses {
    choose(
        recent_pulses(history, actions, now, shown, window),
        max,
        &[],
    )
}

/// Every pulse of the last `window` before `now` that the playback shows (packets below
/// `shown.below`, clicks up to `now`), oldest first (by time, then key).
pub fn recent_pulses(
    history: &PacketHistory,
    actions: &ActionLog,
    now: Duration,
    shown: Option<Shown>,
    window: Duration,
) -> Vec<Pulse> {
    let recent = |at: Duration| at <= now && now - at <= window;
    // Packets are recorded as they happen: the recent ones are at the back, and those not
    // shown yet behind them.
    let mut all: Vec<Pulse> = history
        .iter()
        .rev()
        .skip_while(|p| !shows(shown, p.seq) || p.at > now)
        .take_while(|p| recent(p.at))
        .filter_map(|p| {
            edge_of(p).map(|edge| Pulse {
                key: PulseKey::Packet(p.seq),
                edge,
                order_id: p.order_id,
                at: p.at,
                mark: p.mark(),
            })
        })
        .collect();
    // The clicks, numbered from the first ever made (the log's dropped ones included).
    let first = actions.dropped();
    all.extend(
        actions
            .iter()
            .enumerate()
            .filter(|(_, action)| recent(action.at()))
            .filter_map(|(index, action)| match *action {
                UserAction::PlacedOrder { at, order_id } => Some(Pulse {
                    key: PulseKey::Click(first + index as u64),
                    edge: Edge::PLACE_ORDER,
                    order_id: Some(order_id),
                    at,
                    mark: None,
                }),
                // Drawn by the badges and the node's state, not as a dot.
                UserAction::Crashed { .. }
                | UserAction::Restarted { .. }
                | UserAction::StyleChanged { .. } => None,
            }),
    );
    crate::stable_sort::by_key(&mut all, |p| (p.at, p.key));
    all
}

/// At most `max` of `all` (oldest first, as [`recent_pulses`] gives them) to draw, the others
/// counted per edge. The dots of `kept` (those drawn before) that are still in `all` stay drawn
/// until their trip ends; free places go to the newest of the others.
///
/// So a dot, once drawn, travels its whole edge: under load (at 100 orders a second some 900
/// pulses are travelling at once), drawing the newest `max` each time replaced almost every dot
/// a frame or two after it appeared, and the page spent its time creating and removing
/// elements for dots nobody could follow. With `kept` empty, simply the newest `max`.
///
/// ```
/// use std::time::Duration;
/// use eda_core::trace::flow::{choose, Edge, Pulse, PulseKey};
///
/// let pulse = |seq: u64| Pulse { key: PulseKey::Packet(seq), edge: Edge::PLACE_ORDER,
///     order_id: None, at: Duration::from_millis(seq), mark: None };
/// let all: Vec<Pulse> = (1..=5).map(pulse).collect();
/// let keys = |chosen: &[Pulse]| chosen.iter().map(|p| p.key.seq().unwrap()).collect::<Vec<_>>();
/// // The newest two, with nothing drawn before.
/// assert_eq!(keys(&choose(all.clone(), 2, &[]).shown), [4, 5]);
/// // Packet 2 was drawn: it stays, and the newest takes the other place.
/// assert_eq!(keys(&choose(all, 2, &[PulseKey::Packet(2)]).shown), [2, 5]);
/// ```
pub fn choose(mut all: Vec<Pulse>, max: usize, kept: &[PulseKey]) -> Pulses {
    let mut drawn = vec![false; all.len()];
    let mut places = max;
    if !kept.is_empty() {
        for (i, pulse) in all.iter().enumerate() {
            if places == 0 {
                break;
            }
            if kept.contains(&pulse.key) {
                drawn[i] = true;
                places -= 1;
            }
        }
    }
    for i in (0..all.len()).rev() {
        if places == 0 {
            break;
        }
        if !drawn[i] {
            drawn[i] = true;
            places -= 1;
        }
    }
    let mut shown = Vec::with_capacity(max.min(all.len()));
    let mut hidden: Vec<(Edge, usize)> = Vec::new();
    for (pulse, drawn) in all.drain(..).zip(drawn) {
        if drawn {
            shown.push(pulse);
        } else {
            match hidden.iter_mut().find(|(edge, _)| *edge == pulse.edge) {
                Some((_, n)) => *n += 1,
                None => hidden.push((pulse.edge, 1)),
            }
        }
    }
    Pulses { shown, hidden }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use broker_bridge::{PacketKind, ProtocolVersion, QoS};

    use super::*;
    use crate::trace::script::{order, Script};

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    /// The seed's whole flow at `qos`, after the four connected and subscribed.
    fn one_order(qos: QoS) -> Script {
        let mut script = Script::new(ProtocolVersion::V311);
        script.connect_all();
        script.place_order(order(1), qos);
        script
    }

    fn count_by_edge(pulses: &[Pulse]) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for pulse in pulses {
            *counts.entry(pulse.edge.id()).or_default() += 1;
        }
        counts
    }

    #[test]
    fn under_load_a_dot_once_drawn_travels_its_whole_edge() {
        // 1,500 pulses a second (100 orders a second), a frame every 20 ms choosing again.
        let pulse = |n: u64| Pulse {
            key: PulseKey::Packet(n),
            edge: Edge::PLACE_ORDER,
            order_id: None,
            at: Duration::from_micros(n * 667),
            mark: None,
        };
        let mut kept: Vec<PulseKey> = Vec::new();
        let mut first_drawn: HashMap<PulseKey, Duration> = HashMap::new();
        let mut created = 0;
        for frame in 1..=150u64 {
            let now = ms(frame * 20);
            let all: Vec<Pulse> = (0..=now.as_micros() as u64 / 667)
                .map(pulse)
                .filter(|p| now - p.at <= PULSE_WINDOW)
                .collect();
            let chosen = choose(all.clone(), MAX_PULSES, &kept);
            assert_eq!(chosen.shown.len(), MAX_PULSES.min(all.len()));
            let hidden: usize = chosen.hidden.iter().map(|(_, n)| n).sum();
            assert_eq!(
                hidden + chosen.shown.len(),
                all.len(),
                "every pulse drawn or counted"
            );
            let now_keys: Vec<PulseKey> = chosen.shown.iter().map(|p| p.key).collect();
            // Every dot drawn last frame and still travelling is drawn again.
            for key in &kept {
                if all.iter().any(|p| p.key == *key) {
                    assert!(
                        now_keys.contains(key),
                        "{key:?} dropped mid-trip at frame {frame}"
                    );
                }
            }
            for key in &now_keys {
                first_drawn.entry(*key).or_insert_with(|| {
                    created += 1;
                    now
                });
            }
            kept = now_keys;
        }
        // 3 s: 60 places, each dot about 600 ms: some 300 dots, not one per pulse (4,500).
        assert!(created < 400, "{created} dots created in 3 s");
        // With nothing kept, the newest (as before).
        let all: Vec<Pulse> = (0..100).map(pulse).collect();
        let newest = choose(all, MAX_PULSES, &[]);
        assert_eq!(
            newest.shown.first().map(|p| p.key),
            Some(PulseKey::Packet(40))
        );
    }

    #[test]
    fn one_order_is_one_pulse_per_publish_packet_keyed_by_its_seq() {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let script = one_order(qos);
            let now = script.now();
            let drawn = pulses(
                &script.history,
                &script.actions,
                now,
                PULSE_WINDOW,
                MAX_PULSES,
            );
            assert_eq!(drawn.hidden, []);
            // The seed's flow: the click, one publish per topic, and its deliveries.
            let expected: HashMap<String, usize> = [
                "client-order-place-order",
                "order-broker-orders/created",
                "broker-payment-orders/created",
                "broker-inventory-orders/created",
                "broker-notification-orders/created",
                "inventory-broker-inventory/reserved",
                "broker-notification-inventory/reserved",
                "payment-broker-payments/processed",
                "broker-notification-payments/processed",
            ]
            .into_iter()
            .map(|id| (id.to_owned(), 1))
            .collect();
            assert_eq!(count_by_edge(&drawn.shown), expected, "QoS {}", qos.level());
            assert!(drawn.shown.iter().all(|p| p.order_id == Some(order(1))));
            // Each packet pulse names its PUBLISH by seq, at the packet's own time.
            for pulse in &drawn.shown {
                let PulseKey::Packet(seq) = pulse.key else {
                    assert_eq!(pulse.edge, Edge::PLACE_ORDER);
                    continue;
                };
                let packet = script.history.get(seq).unwrap();
                assert_eq!(packet.kind, PacketKind::Publish);
                assert_eq!((packet.at, edge_of(packet)), (pulse.at, Some(pulse.edge)));
            }
            // The click first, then the publish into the broker, then its three deliveries.
            let order_of: Vec<String> = drawn.shown.iter().take(5).map(|p| p.edge.id()).collect();
            assert_eq!(order_of[0], "client-order-place-order");
            assert_eq!(order_of[1], "order-broker-orders/created");
            assert!(order_of[2..]
                .iter()
                .all(|id| id.ends_with("orders/created")));
        }
    }

    #[test]
    fn a_pulse_keeps_its_key_while_newer_packets_arrive_and_leaves_after_the_window() {
        let mut script = one_order(QoS::AtLeastOnce);
        let first = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            60,
        );
        script.place_order(order(2), QoS::AtLeastOnce);
        let second = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            60,
        );
        assert_eq!(
            second.shown[..first.shown.len()],
            first.shown[..],
            "same keys, same pulses"
        );
        let keys: Vec<PulseKey> = second.shown.iter().map(|p| p.key).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "keys are unique");
        assert!(keys.contains(&PulseKey::Click(0)) && keys.contains(&PulseKey::Click(1)));

        // Two seconds after the last packet of the first order, only the second's remain.
        let last_of_first = first.shown.last().unwrap().at;
        let later = last_of_first + PULSE_WINDOW + ms(1);
        let left = pulses(&script.history, &script.actions, later, PULSE_WINDOW, 60);
        assert!(!left.shown.is_empty());
        assert!(left.shown.iter().all(|p| p.order_id == Some(order(2))));
        let gone = script.now() + PULSE_WINDOW + ms(1);
        assert_eq!(
            pulses(&script.history, &script.actions, gone, PULSE_WINDOW, 60),
            Pulses::default()
        );
    }

    #[test]
    fn beyond_the_limit_the_newest_are_drawn_and_the_rest_counted_per_edge() {
        let mut script = Script::new(ProtocolVersion::V311);
        for n in 1..=10 {
            script.place_order(order(n), QoS::AtMostOnce);
        }
        let drawn = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            20,
        );
        assert_eq!(drawn.shown.len(), 20);
        let hidden: usize = drawn.hidden.iter().map(|(_, n)| n).sum();
        assert_eq!(hidden, 10 * 9 - 20);
        // The last order's nine are all drawn.
        assert_eq!(
            drawn
                .shown
                .iter()
                .filter(|p| p.order_id == Some(order(10)))
                .count(),
            9
        );
        assert!(
            drawn.shown.windows(2).all(|w| w[0].at <= w[1].at),
            "oldest first"
        );
        let oldest_drawn = drawn.shown[0].at;
        let everything = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            1000,
        );
        assert_eq!(everything.shown.len(), 90);
        let left_out: Vec<Pulse> = everything
            .shown
            .into_iter()
            .filter(|p| !drawn.shown.contains(p))
            .collect();
        assert_eq!(left_out.len(), hidden);
        assert!(
            left_out.iter().all(|p| p.at <= oldest_drawn),
            "what is hidden is older"
        );
        let per_edge = count_by_edge(&left_out);
        assert_eq!(drawn.hidden.len(), per_edge.len());
        for (edge, n) in &drawn.hidden {
            assert_eq!(per_edge.get(&edge.id()), Some(n), "{}", edge.id());
        }
        assert_eq!(
            pulses(
                &script.history,
                &script.actions,
                script.now(),
                PULSE_WINDOW,
                0
            )
            .shown,
            []
        );
    }

    #[test]
    fn clicks_are_numbered_from_the_first_even_after_the_log_dropped_some() {
        let mut actions = ActionLog::new(2);
        for n in 0..3 {
            actions.push(UserAction::PlacedOrder {
                at: ms(n),
                order_id: order(n as u128 + 1),
            });
        }
        let drawn = pulses(&PacketHistory::new(1), &actions, ms(10), PULSE_WINDOW, 60);
        let keys: Vec<String> = drawn.shown.iter().map(|p| p.key.id()).collect();
        assert_eq!(keys, ["c1", "c2"]);
        assert_eq!(drawn.shown[0].key.seq(), None);
        assert_eq!(PulseKey::Packet(7).seq(), Some(7));
    }

    #[test]
    fn only_what_the_playback_shows_gets_a_dot_travelling_on_the_view_s_clock() {
        let script = one_order(QoS::AtMostOnce);
        let everything = pulses(
            &script.history,
            &script.actions,
            script.now(),
            PULSE_WINDOW,
            60,
        );
        let publishes: Vec<u64> = everything
            .shown
            .iter()
            .filter_map(|p| p.key.seq())
            .collect();
        // Shown up to (not including) the second PUBLISH: the click and the first PUBLISH.
        let cut = Shown {
            below: publishes[1],
            until: script.now(),
        };
        let some = shown_pulses(
            &script.history,
            &script.actions,
            script.now(),
            Some(cut),
            PULSE_WINDOW,
            60,
        );
        let keys: Vec<String> = some.shown.iter().map(|p| p.key.id()).collect();
        assert_eq!(keys, ["c0".to_owned(), format!("p{}", publishes[0])]);
        // Nothing recorded after the view's time is drawn, even if `shown` would allow it.
        let first = everything.shown[1];
        let early = shown_pulses(
            &script.history,
            &script.actions,
            first.at,
            None,
            PULSE_WINDOW,
            60,
        );
        assert!(early.shown.iter().all(|p| p.at <= first.at));
        // A dot is at its tail when its packet is traced, half-way 300 ms later, then at its head.
        assert_eq!(first.travelled(first.at), 0.0);
        assert_eq!(first.travelled(first.at + TRIP / 2), 0.5);
        assert_eq!(first.travelled(first.at + TRIP * 3), 1.0);
    }
}
