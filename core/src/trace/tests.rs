//! The trace's operations as the page's buttons use them: clear, replay a recording, pause,
//! step, jump, speed. Each test drives a trace built from a scripted order on virtual time.

use std::time::Duration;

use broker_bridge::{ProtocolVersion, QoS};

use super::script::{order, Script};
use super::service_status::{LastOutcome, ServiceEvent};
use super::*;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A live trace of one QoS 1 order through four connected services, and the time after it.
fn live() -> (Trace, Duration) {
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    script.place_order(order(1), QoS::AtLeastOnce);
    let end = script.now();
    let mut trace = Trace::new(script.history, script.actions);
    trace.services.record(
        ms(1),
        ServiceId::Payment,
        ServiceEvent::Link(broker_bridge::Link::Connected {
            url: "ws://localhost:9001".into(),
        }),
    );
    (trace, end)
}

fn shown_count(trace: &Trace) -> usize {
    trace
        .packets
        .iter()
        .filter(|p| trace.playback.shows_packet(p.seq))
        .count()
}

#[test]
fn clear_forgets_packets_and_clicks_but_not_what_the_services_are_doing() {
    let (mut trace, end) = live();
    assert!(!trace.packets.is_empty() && !trace.actions.is_empty());
    trace.clear(end);
    assert!(trace.packets.is_empty());
    assert!(trace.actions.is_empty());
    let payment = trace.services.status_at(ServiceId::Payment, None);
    assert!(payment.link.is_connected(), "still connected after Clear");
}

#[test]
fn a_replayed_recording_starts_at_its_beginning_at_the_chosen_speed_with_its_own_badges() {
    let (recorded, _) = live();
    let total = recorded.packets.len();
    let recorded = recording::load(&recording::record(&recorded)).unwrap();
    let mut trace = Trace::default();
    let half: Speed = "0.5".parse().unwrap();
    trace.set_speed(half, ms(0));
    let wall = ms(100_000);
    trace.replay(recorded, wall);
    assert_eq!(trace.playback.source(), Source::Recording);
    assert_eq!(trace.playback.speed(), half);
    assert!(shown_count(&trace) < total, "played from its start");
    // At its start no service has connected yet; played to its end, every one is done.
    let at_start = trace.statuses();
    assert!(at_start.iter().all(|(_, s)| !s.link.is_connected()));
    let later = wall + ms(60_000);
    let (_, done) = trace.tick(later);
    assert!(done, "a recording played to its end needs no more frames");
    assert_eq!(shown_count(&trace), total);
    for (service, status) in trace.statuses() {
        assert!(status.link.is_connected(), "{service}");
        // QueryService had nothing to do: the seed's script has no event store.
        if service != crate::services::ServiceId::Query {
            assert_eq!(status.work.last, LastOutcome::Done, "{service}");
        }
    }
}

/// Loaded while the live view was paused, a recording stays paused at its start, for *Step*
/// (42-AK F5: it started playing at once).
#[test]
fn a_recording_loaded_while_paused_stays_paused_at_its_start() {
    let (recorded, _) = live();
    let recorded = recording::load(&recording::record(&recorded)).unwrap();
    let mut trace = Trace::default();
    trace.toggle_pause(ms(0));
    assert!(trace.playback.is_paused());
    let wall = ms(100_000);
    trace.replay(recorded, wall);
    assert!(trace.playback.is_paused(), "still paused");
    let at_start = shown_count(&trace);
    trace.tick(wall + ms(60_000));
    assert_eq!(shown_count(&trace), at_start, "nothing played while paused");
    assert!(at_start < trace.packets.len());
}

#[test]
fn a_recording_whose_packet_times_go_back_still_plays_to_its_end() {
    // Packets are listed in the order they were recorded; their times need not be in order.
    // The last packet stamped before the one above it used to end the replay there, with that
    // one and everything after it never shown.
    let (recorded, _) = live();
    let total = recorded.packets.len();
    let text = recording::record(&recorded);
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let packets = json["packets"].as_array_mut().unwrap();
    let last = packets.len() - 1;
    packets[last]["atUs"] = 5.into();
    packets[3]["atUs"] = 90_000_000.into(); // a minute and a half after everything else
    let recorded = recording::load(&json.to_string()).unwrap();
    let mut trace = Trace::default();
    let wall = ms(1_000);
    trace.replay(recorded, wall);
    let mut now = wall;
    for _ in 0..2_000 {
        now += ms(50);
        if trace.tick(now).1 {
            break;
        }
    }
    assert!(trace.playback.finished(now), "the replay ends");
    assert_eq!(trace.playback.waiting(&trace.packets), 0);
    assert_eq!(shown_count(&trace), total, "every packet shown");
}

#[test]
fn pause_holds_new_packets_back_and_resume_runs_on() {
    let (mut trace, end) = live();
    trace.toggle_pause(end);
    assert!(trace.playback.is_paused());
    let before = shown_count(&trace);
    let mut script = Script::new(ProtocolVersion::V311);
    script.wait(end.as_millis() as u64 + 10);
    script.place_order(order(2), QoS::AtMostOnce);
    let next = trace.packets.next_seq();
    for p in script.history.iter() {
        trace.packets.push(TracedPacket {
            seq: next + p.seq,
            ..p.clone()
        });
    }
    trace.tick(end + ms(50));
    assert_eq!(shown_count(&trace), before, "paused: the new order waits");
    trace.toggle_pause(end + ms(60));
    assert!(!trace.playback.is_paused());
    trace.jump(end + ms(5_000));
    assert!(trace.playback.is_following());
    assert_eq!(shown_count(&trace), trace.packets.len());
}

#[test]
fn step_shows_one_packet_more_each_time_and_says_which() {
    let (mut trace, end) = live();
    trace.toggle_pause(end);
    let total = trace.packets.len();
    let seqs: Vec<u64> = trace.packets.iter().map(|p| p.seq).collect();
    // Paused at the end of a live trace: everything is shown, there is nothing to step to.
    assert_eq!(shown_count(&trace), total);
    assert_eq!(trace.step(end), None);
    // A recording steps from its first packet.
    let recorded = recording::load(&recording::record(&trace)).unwrap();
    let mut replayed = Trace::default();
    replayed.replay(recorded, ms(0));
    let first = replayed.step(ms(0));
    let shown = shown_count(&replayed);
    let second = replayed.step(ms(0));
    assert!(replayed.playback.is_paused());
    assert_eq!(shown_count(&replayed), shown + 1);
    let (first, second) = (first.unwrap(), second.unwrap());
    let i = seqs.iter().position(|&s| s == first).unwrap();
    assert_eq!(seqs[i + 1], second, "the packet right after");
}

#[test]
fn jump_plays_a_recording_again_from_its_start() {
    let (recorded, _) = live();
    let total = recorded.packets.len();
    let mut trace = Trace::default();
    trace.replay(
        recording::load(&recording::record(&recorded)).unwrap(),
        ms(0),
    );
    trace.tick(ms(60_000));
    assert_eq!(shown_count(&trace), total);
    trace.jump(ms(60_000));
    assert!(shown_count(&trace) < total);
    // Paused, it starts again paused: nothing more is shown as time passes.
    trace.tick(ms(120_000));
    assert_eq!(shown_count(&trace), total);
    trace.toggle_pause(ms(120_000));
    trace.jump(ms(120_000));
    let at_start = shown_count(&trace);
    assert!(at_start < total);
    trace.tick(ms(180_000));
    assert_eq!(shown_count(&trace), at_start, "still paused");
    assert!(trace.step(ms(180_000)).is_some());
    assert_eq!(shown_count(&trace), at_start + 1);
}

#[test]
fn a_live_view_in_slow_motion_jumps_back_to_1x() {
    let (mut trace, end) = live();
    trace.set_speed("0.25".parse().unwrap(), end);
    assert!(!trace.playback.is_following());
    trace.jump(end + ms(10));
    assert_eq!(trace.playback.speed(), Speed::ONE);
    assert!(trace.playback.is_following());
}

/// 37-U F1: the status monitor's packets were not traced, so a Last Will never showed as a
/// packet. The broker's PUBLISH of PaymentService's Will to the monitor is an arrow to the
/// monitor's lifeline, tells no order anything, travels no edge of the flow diagram, and a
/// recording keeps it (format version 6, `"service": "monitor"`).
#[test]
fn the_status_monitor_s_packets_are_traced_on_a_lifeline_of_their_own() {
    use broker_bridge::packet::Publish;
    use broker_bridge::{Direction, Packet, PacketEvent};

    use crate::services::presence::{status_topic, Presence};

    let (mut trace, end) = live();
    let rows_before = trace.orders.rows().count();
    let will = Presence::will(ServiceId::Payment, "eda-test-payment");
    let mut publish = Publish::new(
        status_topic(ServiceId::Payment),
        will.to_json(),
        QoS::AtLeastOnce,
    );
    publish.packet_id = Some(1);
    let packet = Packet::Publish(publish);
    let event = PacketEvent {
        at: end + ms(5),
        client_id: "eda-test-monitor".into(),
        direction: Direction::Incoming,
        bytes: packet.encode(ProtocolVersion::V311).unwrap(),
        packet,
        protocol: ProtocolVersion::V311,
        skipped: None,
    };
    let seq = trace.record(Participant::Monitor, &event);

    let arrows = sequence::arrows(&trace.packets, &trace.actions, &sequence::View::default());
    let last = arrows.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.label.as_str()),
        (
            sequence::Lifeline::Broker,
            sequence::Lifeline::StatusMonitor,
            "PUBLISH services/payment/status (QoS 1, id 1)"
        )
    );
    let traced = trace.packets.get(seq).unwrap();
    assert_eq!(traced.instance_name(), "Status monitor");
    assert_eq!(
        flow::edge_of(traced).map(|e| e.id()).as_deref(),
        Some("broker-monitor-services/+/status"),
        "the Will travels broker → Status monitor in the flow diagram"
    );
    assert_eq!(trace.orders.rows().count(), rows_before, "no order's row");

    let text = recording::record(&trace);
    assert!(text.contains("\"version\": 6"), "{text}");
    assert!(text.contains("\"service\": \"monitor\""));
    let loaded = recording::load(&text).unwrap();
    let back = loaded.packets.iter().last().unwrap();
    assert_eq!(
        (back.participant, back.topic.as_deref()),
        (Participant::Monitor, Some("services/payment/status"))
    );
    // A session the monitor saw nothing of still writes a version older pages read.
    let (quiet, _) = live();
    assert!(!recording::record(&quiet).contains("\"version\": 6"));
}
