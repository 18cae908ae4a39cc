//! The bounded memory of the trace: the newest packets and the user's actions, each in a ring
//! of fixed capacity that counts what it had to drop, so the page can say so.

use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::PacketEvent;
use uuid::Uuid;

use super::packet::{Participant, TracedPacket};
use crate::domain::namespace::Namespace;

/// The newest `capacity` items; older ones fall off and are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
    dropped: u64,
}

impl<T> Ring<T> {
    /// Keeps at most `capacity` items (0 keeps none and counts every one as dropped).
    pub fn new(capacity: usize) -> Self {
        Ring {
            items: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            dropped: 0,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.capacity == 0 {
            self.dropped += 1;
            return;
        }
        if self.items.len() == self.capacity {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }

    /// Oldest first.
    pub fn iter(&self) -> std::collections::vec_deque::Iter<'_, T> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many items fell off the front since the ring was made or last cleared.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    /// Counts `n` more items as dropped without keeping them (items that were never pushed:
    /// the start of a recording longer than the ring).
    pub fn count_dropped(&mut self, n: u64) {
        self.dropped = self.dropped.saturating_add(n);
    }

    /// Forgets everything, the dropped count included.
    pub fn clear(&mut self) {
        self.items.clear();
        self.dropped = 0;
    }
}

impl<'a, T> IntoIterator for &'a Ring<T> {
    type Item = &'a T;
    type IntoIter = std::collections::vec_deque::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Something the user did that the diagram draws on the Client lifeline.
///
/// `at` must be on the same clock as the packets' (the page's monotonic clock), so the click
/// lands before the PUBLISH it caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    /// The order form's click, and the order id OrderService answered with.
    PlacedOrder { at: Duration, order_id: Uuid },
    /// *Crash* on a service's (or an instance's) badge: its connection dropped without a word
    /// of MQTT. Kept so a recording replays the crash (its packets cannot tell it: the broker's
    /// Will reaches the status monitor, not the crashed client).
    Crashed {
        at: Duration,
        instance: crate::services::instances::Instance,
    },
    /// *Restart* on a crashed service's (or instance's) badge.
    Restarted {
        at: Duration,
        instance: crate::services::instances::Instance,
    },
    /// The services began following another saga style (*Coordination*): from `at` on, the
    /// flow diagram's edges are `to`'s. Kept so a recording replays each part of the session
    /// under the style it ran under, not the one in effect when it was downloaded.
    StyleChanged {
        at: Duration,
        from: crate::services::SagaStyle,
        to: crate::services::SagaStyle,
    },
}

impl UserAction {
    pub fn at(&self) -> Duration {
        match self {
            UserAction::PlacedOrder { at, .. }
            | UserAction::Crashed { at, .. }
            | UserAction::Restarted { at, .. }
            | UserAction::StyleChanged { at, .. } => *at,
        }
    }

    /// The order the click placed; `None` for anything else.
    pub fn order_id(&self) -> Option<Uuid> {
        match self {
            UserAction::PlacedOrder { order_id, .. } => Some(*order_id),
            _ => None,
        }
    }
}

/// The saga style in effect at `at`, from the style changes among `actions` (in time order):
/// the last change at or before `at` gives its `to`; before the first change, its `from`;
/// with no change at all, `latest`, the style in effect now.
pub fn style_at<'a>(
    actions: impl IntoIterator<Item = &'a UserAction>,
    latest: crate::services::SagaStyle,
    at: Duration,
) -> crate::services::SagaStyle {
    let mut style = None;
    for action in actions {
        if let UserAction::StyleChanged { at: when, from, to } = *action {
            if when > at {
                return style.unwrap_or(from);
            }
            style = Some(to);
        }
    }
    style.unwrap_or(latest)
}

/// The user's actions, bounded like the packets. Small `Copy` items, so its derived
/// `PartialEq` is cheap enough for Yew props.
pub type ActionLog = Ring<UserAction>;

/// Every packet the four clients sent and received, newest `capacity` kept.
///
/// `PartialEq` is for Yew props, which compare on every render of the parent: it compares each
/// packet's `seq`, time, service and `Rc` *pointers*, not the decoded packets and bytes, so a
/// full history of a few thousand costs a few thousand word comparisons. Two histories that hold
/// the same `Rc`s hold the same packets; two that merely decoded equal packets separately
/// compare unequal, which costs at most one needless render.
#[derive(Debug, Clone)]
pub struct PacketHistory {
    ring: Ring<TracedPacket>,
    next_seq: u64,
    /// The topic namespace the packets travel under: taken off their topics for the views.
    namespace: Namespace,
}

impl PacketHistory {
    pub fn new(capacity: usize) -> Self {
        PacketHistory {
            ring: Ring::new(capacity),
            next_seq: 0,
            namespace: Namespace::none(),
        }
    }

    /// The same, for packets whose topics travel under `namespace` (`?ns=`): each packet's
    /// [`TracedPacket::topic`] is the flow's topic, the namespace taken off.
    pub fn with_namespace(mut self, namespace: Namespace) -> Self {
        self.namespace = namespace;
        self
    }

    /// The topic namespace the packets travel under.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// Traces `event`, seen by `participant`'s client (a [`ServiceId`] or the status monitor),
    /// under the next sequence number, and returns that number. The usual way in: it keeps `seq`
    /// increasing, which [`Self::get`] relies on.
    pub fn record(&mut self, participant: impl Into<Participant>, event: &PacketEvent) -> u64 {
        let seq = self.next_seq;
        let packet = TracedPacket::from_event_in(seq, participant, event, &self.namespace);
        self.push(packet);
        seq
    }

    /// Adds a packet built elsewhere. Its `seq` should be above every earlier one; later
    /// [`Self::record`] calls continue after the highest seen.
    pub fn push(&mut self, packet: TracedPacket) {
        self.next_seq = self.next_seq.max(packet.seq.saturating_add(1));
        self.ring.push(packet);
    }

    /// Oldest first.
    pub fn iter(&self) -> std::collections::vec_deque::Iter<'_, TracedPacket> {
        self.ring.iter()
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// How many packets fell off the front: shown beside the count of those kept.
    pub fn dropped(&self) -> u64 {
        self.ring.dropped()
    }

    /// Counts `n` packets as dropped that were never pushed (the start of a recording longer
    /// than the history: [`super::recording::REPLAYED`]).
    pub fn count_dropped(&mut self, n: u64) {
        self.ring.count_dropped(n);
    }

    /// The sequence number the next [`Self::record`] will use.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The packet numbered `seq`, unless it was dropped (or never existed).
    pub fn get(&self, seq: u64) -> Option<&TracedPacket> {
        let items = &self.ring.items;
        match items.binary_search_by_key(&seq, |p| p.seq) {
            Ok(index) => items.get(index),
            // Only reached for a seq that is not there, or if `push` was given seqs out of
            // order: then a scan still finds it.
            Err(_) => items.iter().find(|p| p.seq == seq),
        }
    }

    /// Forgets every packet and the dropped count; sequence numbers keep increasing, so a
    /// `seq` the view still holds never names a different packet.
    pub fn clear(&mut self) {
        self.ring.clear();
    }
}

impl PartialEq for PacketHistory {
    fn eq(&self, other: &Self) -> bool {
        self.next_seq == other.next_seq
            && self.namespace == other.namespace
            && self.ring.capacity == other.ring.capacity
            && self.ring.dropped == other.ring.dropped
            && self.ring.len() == other.ring.len()
            && self.iter().zip(other.iter()).all(|(a, b)| {
                a.seq == b.seq
                    && a.at == b.at
                    && a.participant == b.participant
                    && Rc::ptr_eq(&a.packet, &b.packet)
                    && Rc::ptr_eq(&a.bytes, &b.bytes)
            })
    }
}

impl<'a> IntoIterator for &'a PacketHistory {
    type Item = &'a TracedPacket;
    type IntoIter = std::collections::vec_deque::Iter<'a, TracedPacket>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::ServiceId;
    use crate::trace::script::event;
    use broker_bridge::{Direction, Packet, ProtocolVersion};

    fn ping(at: u64) -> PacketEvent {
        event(
            at,
            Direction::Outgoing,
            Packet::PingReq,
            ProtocolVersion::V311,
        )
    }

    #[test]
    fn keeps_the_newest_and_counts_what_fell_off() {
        let mut history = PacketHistory::new(3);
        assert!(history.is_empty());
        for at in 0..5 {
            assert_eq!(history.record(ServiceId::Order, &ping(at)), at);
        }
        let seqs: Vec<u64> = history.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [2, 3, 4]);
        assert_eq!((history.len(), history.dropped()), (3, 2));
        assert_eq!(history.get(1), None, "dropped");
        assert_eq!(history.get(3).map(|p| p.at), Some(Duration::from_millis(3)));
        assert_eq!(history.get(99), None);

        history.clear();
        assert_eq!((history.len(), history.dropped()), (0, 0));
        assert_eq!(history.record(ServiceId::Order, &ping(9)), 5, "seqs go on");
    }

    #[test]
    fn get_finds_packets_pushed_out_of_order() {
        let mut history = PacketHistory::new(10);
        for seq in [5, 2, 8] {
            history.push(TracedPacket::from_event(
                seq,
                ServiceId::Payment,
                &ping(seq),
            ));
        }
        assert_eq!(history.get(2).map(|p| p.seq), Some(2));
        assert_eq!(history.next_seq(), 9);
    }

    #[test]
    fn equal_while_they_share_packets() {
        let mut a = PacketHistory::new(4);
        a.record(ServiceId::Order, &ping(1));
        let mut b = a.clone();
        assert_eq!(a, b);
        a.record(ServiceId::Order, &ping(2));
        assert_ne!(a, b);
        b.record(ServiceId::Order, &ping(2));
        assert_ne!(a, b, "equal content decoded twice is not the same history");
        let c = a.clone();
        assert_eq!(a, c);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut ring = Ring::new(0);
        ring.push(1);
        assert_eq!((ring.len(), ring.dropped()), (0, 1));
    }

    #[test]
    fn actions_are_bounded_the_same_way() {
        let mut log = ActionLog::new(2);
        for ms in 0..3 {
            log.push(UserAction::PlacedOrder {
                at: Duration::from_millis(ms),
                order_id: Uuid::from_u128(ms.into()),
            });
        }
        let kept: Vec<Duration> = log.iter().map(UserAction::at).collect();
        assert_eq!(kept, [Duration::from_millis(1), Duration::from_millis(2)]);
        assert_eq!(log.dropped(), 1);
        assert_eq!(
            log.last().and_then(UserAction::order_id),
            Some(Uuid::from_u128(2))
        );
    }
}
