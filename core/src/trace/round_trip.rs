//! The broker round trip, read from the trace: how long the page's own clients waited for the
//! broker to take each message they published. AnalyticsService's one figure that does not come
//! from the event store (source document 003 lists the service; the round trip is ours).
//!
//! A sample is the time from an **outgoing PUBLISH** at QoS 1 or 2 to the broker's first answer
//! to it on the same client: its **PUBACK** (QoS 1) or its **PUBREC** (QoS 2, the first half of
//! the four-packet handshake; PUBREL and PUBCOMP are not waited for). Both times are the page's
//! clock when the packet was handed to the WebSocket and when its answer was decoded, so a
//! sample holds the network both ways and the broker's routing to its subscribers.
//!
//! Left out, since they say nothing about the broker's speed: QoS 0 (no answer), a PUBLISH sent
//! again (DUP, after a reconnect: its wait holds the outage), a PUBLISH still pending when its
//! client connects again, and an answer whose PUBLISH is not in the trace (dropped from the
//! history or cleared). Only the packets the trace still holds count: the newest
//! [`super::HISTORY_CAPACITY`].
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{Ack, Packet, Publish};
//! use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
//! use eda_core::services::ServiceId;
//! use eda_core::trace::round_trip::RoundTrip;
//! use eda_core::trace::PacketHistory;
//!
//! let mut history = PacketHistory::new(100);
//! let mut publish = Publish::new("orders/created", b"{}".to_vec(), QoS::AtLeastOnce);
//! publish.packet_id = Some(1);
//! for (at_us, direction, packet) in [
//!     (3_000, Direction::Outgoing, Packet::Publish(publish)),
//!     (4_250, Direction::Incoming, Packet::PubAck(Ack::new(1))),
//! ] {
//!     let bytes = packet.encode(ProtocolVersion::V311).unwrap();
//!     let at = Duration::from_micros(at_us);
//!     let event = PacketEvent { at, client_id: "eda-a1-order".into(), direction, packet, bytes, protocol: ProtocolVersion::V311, skipped: None };
//!     history.record(ServiceId::Order, &event);
//! }
//! let round_trip = RoundTrip::of(history.iter());
//! assert_eq!(round_trip.samples_us, [1_250]);
//! assert_eq!(round_trip.p50(), Some(Duration::from_micros(1_250)));
//! assert_eq!(RoundTrip::ms_text(round_trip.p50()), "1.3");
//! ```

use std::collections::HashMap;
use std::time::Duration;

use broker_bridge::{Direction, PacketKind, QoS};

use super::packet::TracedPacket;
use crate::store::nearest_rank;

/// The round trips of the page's answered publishes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundTrip {
    /// Each sample in microseconds, shortest first.
    pub samples_us: Vec<u64>,
}

/// A PUBLISH waiting for its answer.
struct Pending {
    at: Duration,
    /// The answer that ends the wait: PUBACK for QoS 1, PUBREC for QoS 2.
    answer: PacketKind,
    /// Sent again (DUP): its answer ends the wait but makes no sample.
    resent: bool,
}

impl RoundTrip {
    /// The round trips in `packets`, taken in the order given (the history's, by `seq`). A
    /// client is told apart by its client id, so PaymentService's instances each count. An
    /// answer stamped before its PUBLISH (a recording whose times go back) counts as 0.
    pub fn of<'a>(packets: impl IntoIterator<Item = &'a TracedPacket>) -> RoundTrip {
        let mut pending: HashMap<(&str, u16), Pending> = HashMap::new();
        let mut samples_us = Vec::new();
        for packet in packets {
            let client = packet.client_id.as_str();
            match (packet.direction, packet.kind) {
                (Direction::Outgoing, PacketKind::Connect) => {
                    pending.retain(|(c, _), _| *c != client);
                }
                (Direction::Outgoing, PacketKind::Publish) => {
                    let answer = match packet.qos {
                        Some(QoS::AtLeastOnce) => PacketKind::PubAck,
                        Some(QoS::ExactlyOnce) => PacketKind::PubRec,
                        _ => continue,
                    };
                    let Some(id) = packet.packet_id else { continue };
                    let resent = packet.dup || pending.contains_key(&(client, id));
                    let at = packet.at;
                    pending.insert((client, id), Pending { at, answer, resent });
                }
                (Direction::Incoming, kind @ (PacketKind::PubAck | PacketKind::PubRec)) => {
                    let Some(id) = packet.packet_id else { continue };
                    let answered = pending
                        .get(&(client, id))
                        .is_some_and(|wait| wait.answer == kind);
                    if !answered {
                        continue;
                    }
                    if let Some(wait) = pending.remove(&(client, id)) {
                        if !wait.resent {
                            let took = packet.at.saturating_sub(wait.at);
                            samples_us.push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                        }
                    }
                }
                _ => {}
            }
        }
        samples_us.sort_unstable();
        RoundTrip { samples_us }
    }

    /// How many publishes were answered (and counted).
    pub fn count(&self) -> usize {
        self.samples_us.len()
    }

    /// The median round trip (nearest rank, as [`nearest_rank`]); `None` before any answer.
    pub fn p50(&self) -> Option<Duration> {
        nearest_rank(&self.samples_us, 50).map(Duration::from_micros)
    }

    /// The 95th percentile of the round trip (nearest rank).
    pub fn p95(&self) -> Option<Duration> {
        nearest_rank(&self.samples_us, 95).map(Duration::from_micros)
    }

    /// A round trip in milliseconds with one decimal, rounded half up (`1.3` for 1250 µs);
    /// empty for `None`. The page and the CSV both write it so.
    pub fn ms_text(time: Option<Duration>) -> String {
        time.map_or(String::new(), |t| {
            let tenths = (t.as_micros() + 50) / 100;
            format!("{}.{}", tenths / 10, tenths % 10)
        })
    }
}

#[cfg(test)]
mod tests {
    use broker_bridge::packet::{Ack, Connect, Packet, Publish};
    use broker_bridge::ProtocolVersion;

    use super::*;
    use crate::services::ServiceId;
    use crate::trace::script::{event_for, order, Script};
    use crate::trace::PacketHistory;
    use Direction::{Incoming, Outgoing};

    fn ms(millis: u64) -> Option<Duration> {
        Some(Duration::from_millis(millis))
    }

    /// `packet` as `client` saw it at `at_ms`.
    fn packet(at_ms: u64, client: &str, direction: Direction, packet: Packet) -> TracedPacket {
        let mut event = event_for(
            ServiceId::Order,
            at_ms,
            direction,
            packet,
            ProtocolVersion::V311,
        );
        event.client_id = client.to_owned();
        TracedPacket::from_event(0, ServiceId::Order, &event)
    }

    fn publish(id: u16, qos: QoS, dup: bool) -> Packet {
        let mut publish = Publish::new("orders/created", b"{}".to_vec(), qos);
        publish.packet_id = (qos != QoS::AtMostOnce).then_some(id);
        publish.dup = dup;
        Packet::Publish(publish)
    }

    #[test]
    fn a_scripted_order_s_publishes_each_make_one_sample() {
        // The seed's order at QoS 1, every packet 1 ms after the one before: each of the three
        // outgoing PUBLISHes (order, inventory, payment) is answered by the next packet.
        let mut script = Script::new(ProtocolVersion::V311);
        script.connect_all();
        script.place_order(order(1), QoS::AtLeastOnce);
        let round_trip = RoundTrip::of(script.history.iter());
        assert_eq!(round_trip.samples_us, [1_000, 1_000, 1_000]);
        assert_eq!((round_trip.p50(), round_trip.p95()), (ms(1), ms(1)));

        // At QoS 2 the wait ends at PUBREC, not at PUBCOMP two packets later.
        let mut script = Script::new(ProtocolVersion::V5);
        script.connect_all();
        script.place_order(order(2), QoS::ExactlyOnce);
        assert_eq!(RoundTrip::of(script.history.iter()).samples_us, [1_000; 3]);

        // At QoS 0 nothing is answered.
        let mut script = Script::new(ProtocolVersion::V311);
        script.connect_all();
        script.place_order(order(3), QoS::AtMostOnce);
        assert_eq!(RoundTrip::of(script.history.iter()), RoundTrip::default());
    }

    #[test]
    fn waits_are_matched_by_client_and_packet_id_and_percentiles_are_nearest_rank() {
        // Two clients both use packet id 1; their answers come back crossed.
        let mut script = Script::new(ProtocolVersion::V311);
        script.send(
            ServiceId::Order,
            Outgoing,
            publish(1, QoS::AtLeastOnce, false),
        );
        script.wait(9);
        script.send(
            ServiceId::Payment,
            Outgoing,
            publish(1, QoS::AtLeastOnce, false),
        );
        script.wait(39);
        script.send(ServiceId::Payment, Incoming, Packet::PubAck(Ack::new(1)));
        script.wait(19);
        script.send(ServiceId::Order, Incoming, Packet::PubAck(Ack::new(1)));
        // Order waited 1 → 71 ms, payment 11 → 51 ms.
        let round_trip = RoundTrip::of(script.history.iter());
        assert_eq!(round_trip.samples_us, [40_000, 70_000]);
        assert_eq!(round_trip.p50(), ms(40), "rank 1 of 2, not the mean");
        assert_eq!(round_trip.p95(), ms(70));
        assert_eq!(round_trip.count(), 2);
    }

    #[test]
    fn resent_unanswered_mismatched_and_reconnected_waits_make_no_sample() {
        let c = "eda-x-order";
        let packets = [
            // DUP: sent again after a reconnect; its answer makes no sample.
            packet(0, c, Outgoing, publish(1, QoS::AtLeastOnce, true)),
            packet(500, c, Incoming, Packet::PubAck(Ack::new(1))),
            // An answer of the wrong kind (PUBREC for a QoS 1 PUBLISH) does not end the wait;
            // the right one does.
            packet(1_000, c, Outgoing, publish(2, QoS::AtLeastOnce, false)),
            packet(1_001, c, Incoming, Packet::PubRec(Ack::new(2))),
            packet(1_003, c, Incoming, Packet::PubAck(Ack::new(2))),
            // The same id sent twice without DUP before its answer: left out too.
            packet(2_000, c, Outgoing, publish(3, QoS::ExactlyOnce, false)),
            packet(2_100, c, Outgoing, publish(3, QoS::ExactlyOnce, false)),
            packet(2_200, c, Incoming, Packet::PubRec(Ack::new(3))),
            // Pending when the client connects again: forgotten; the new connection's id 4 is
            // another message.
            packet(3_000, c, Outgoing, publish(4, QoS::AtLeastOnce, false)),
            packet(
                4_000,
                c,
                Outgoing,
                Packet::Connect(Connect::new(ProtocolVersion::V311, c, 30)),
            ),
            packet(9_000, c, Outgoing, publish(4, QoS::AtLeastOnce, false)),
            packet(9_002, c, Incoming, Packet::PubAck(Ack::new(4))),
            // An answer nobody waits for (its PUBLISH was dropped), and QoS 0.
            packet(9_500, c, Incoming, Packet::PubAck(Ack::new(77))),
            packet(9_600, c, Outgoing, publish(0, QoS::AtMostOnce, false)),
            // Answers are only ever incoming: a PUBACK this client sent is for a delivery.
            packet(9_700, c, Outgoing, publish(5, QoS::AtLeastOnce, false)),
            packet(9_701, c, Outgoing, Packet::PubAck(Ack::new(5))),
        ];
        let round_trip = RoundTrip::of(packets.iter());
        assert_eq!(round_trip.samples_us, [2_000, 3_000]);
    }

    #[test]
    fn the_trace_s_history_is_what_is_measured_and_an_answer_before_its_publish_is_zero() {
        let mut history = PacketHistory::new(3);
        let c = "eda-y-inventory";
        for p in [
            packet(10, c, Outgoing, publish(1, QoS::AtLeastOnce, false)),
            packet(20, c, Outgoing, publish(2, QoS::AtLeastOnce, false)),
            packet(25, c, Incoming, Packet::PubAck(Ack::new(2))),
            // Id 1's PUBLISH has fallen off the history of three.
            packet(30, c, Incoming, Packet::PubAck(Ack::new(1))),
        ] {
            let seq = history.next_seq();
            history.push(TracedPacket { seq, ..p });
        }
        assert_eq!(RoundTrip::of(history.iter()).samples_us, [5_000]);
        let backwards = [
            packet(50, c, Outgoing, publish(1, QoS::AtLeastOnce, false)),
            packet(40, c, Incoming, Packet::PubAck(Ack::new(1))),
        ];
        assert_eq!(RoundTrip::of(backwards.iter()).samples_us, [0]);
    }

    #[test]
    fn milliseconds_with_one_decimal_rounded_half_up() {
        let table = [
            (None, ""),
            (Some(0), "0.0"),
            (Some(49), "0.0"),
            (Some(50), "0.1"),
            (Some(1_250), "1.3"),
            (Some(12_345_678), "12345.7"),
        ];
        for (us, text) in table {
            assert_eq!(
                RoundTrip::ms_text(us.map(Duration::from_micros)),
                text,
                "{us:?}"
            );
        }
        assert_eq!(RoundTrip::default().p50(), None);
    }
}
