use std::time::Duration;

use broker_bridge::packet::Packet;
use broker_bridge::{Direction, ProtocolVersion};

use super::*;
use crate::services::ServiceId;
use crate::trace::script::Script;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A PINGREQ from OrderService at each of `times` (ms); returns the script and the seqs.
fn packets_at(times: &[u64]) -> (Script, Vec<u64>) {
    let mut script = Script::new(ProtocolVersion::V311);
    let mut seqs = Vec::new();
    for &at in times {
        // `send` adds 1 ms itself.
        script.wait(at - script.now().as_millis() as u64 - 1);
        seqs.push(script.send(ServiceId::Order, Direction::Outgoing, Packet::PingReq));
        assert_eq!(script.now(), ms(at));
    }
    (script, seqs)
}

fn below(playback: &Playback) -> Option<u64> {
    playback.shown().map(|s| s.below)
}

#[test]
fn speeds_parse_from_a_link_and_print_back() {
    for speed in Speed::ALL {
        assert_eq!(speed.value().parse::<Speed>(), Ok(speed));
    }
    assert_eq!("0.25x".parse::<Speed>().unwrap().value(), "0.25");
    assert_eq!("4×".parse::<Speed>().unwrap().to_string(), "4×");
    for bad in ["3", "", "fast", "-1", "0"] {
        let error = bad.parse::<Speed>().unwrap_err();
        assert!(error.contains("0.25×, 0.5×, 1×, 2×, 4×"), "{error}");
    }
    let quarter: Speed = "0.25".parse().unwrap();
    assert_eq!(quarter.to_view(ms(400)), ms(100));
    assert_eq!(quarter.to_wall(ms(100)), ms(400));
}

#[test]
fn live_at_1x_follows_the_wire_and_shows_everything_at_once() {
    let (script, _) = packets_at(&[10, 20, 30]);
    let mut view = Playback::live(Speed::ONE);
    assert!(!view.tick(ms(31), &script.history));
    assert!(view.is_following() && view.shown().is_none());
    assert_eq!(view.view_now(ms(500)), ms(500));
    assert!(!view.needs_frames(ms(500)), "following needs no frame loop");
}

#[test]
fn paused_the_view_freezes_and_new_packets_wait() {
    let (mut script, seqs) = packets_at(&[10, 20]);
    let mut view = Playback::live(Speed::ONE);
    view.pause(ms(25), &script.history);
    assert_eq!(below(&view), Some(seqs[1] + 1), "both shown");
    script.wait(10);
    let late = script.send(ServiceId::Order, Direction::Outgoing, Packet::PingReq);
    view.tick(ms(5000), &script.history);
    assert!(!view.shows_packet(late), "recorded while paused: held back");
    assert_eq!(view.view_now(ms(5000)), ms(25));
    assert_eq!(view.waiting(&script.history), 1);
    assert!(!view.needs_frames(ms(5000)));
    // Running again at 1× it shows up 6 ms of view time later (31 - 25).
    view.resume(ms(6000), &script.history);
    view.tick(ms(6005), &script.history);
    assert!(!view.shows_packet(late));
    view.tick(ms(6006), &script.history);
    assert!(view.shows_packet(late));
}

#[test]
fn step_shows_exactly_one_more_packet_even_at_the_same_instant() {
    let (mut script, seqs) = packets_at(&[10, 20]);
    // Two more packets at the same instant as the second.
    let mut twins = Vec::new();
    for _ in 0..2 {
        let event = crate::trace::script::event_for(
            ServiceId::Payment,
            20,
            Direction::Incoming,
            Packet::PingResp,
            ProtocolVersion::V311,
        );
        twins.push(script.history.record(ServiceId::Payment, &event));
    }
    let mut view = Playback::live(Speed::ONE);
    view.pause(ms(5), &script.history);
    assert_eq!(below(&view), Some(seqs[0]), "nothing shown yet");
    assert_eq!(view.step(ms(100), &script.history), Some(seqs[0]));
    assert_eq!(view.step(ms(200), &script.history), Some(seqs[1]));
    assert!(view.is_paused());
    assert!(
        !view.shows_packet(twins[0]),
        "same time, later seq: still hidden"
    );
    assert_eq!(view.view_now(ms(300)), ms(20));
    assert_eq!(view.step(ms(300), &script.history), Some(twins[0]));
    assert_eq!(view.step(ms(300), &script.history), Some(twins[1]));
    assert_eq!(view.step(ms(300), &script.history), None, "nothing left");
    assert_eq!(view.waiting(&script.history), 0);
}

#[test]
fn slow_motion_lags_the_wire_and_2x_catches_up_then_follows() {
    let (script, seqs) = packets_at(&[1000, 1100, 1200]);
    let mut view = Playback::live(Speed::ONE);
    view.pause(ms(990), &script.history);
    view.set_speed("0.25".parse().unwrap(), ms(990), &script.history);
    view.resume(ms(1000), &script.history);
    // 400 ms of the page is 100 ms of the view.
    view.tick(ms(1400), &script.history);
    assert_eq!(view.view_now(ms(1400)), ms(1090));
    assert_eq!(below(&view), Some(seqs[1]), "only the first packet so far");
    view.set_speed("2".parse().unwrap(), ms(1400), &script.history);
    view.tick(ms(1500), &script.history);
    assert_eq!(view.view_now(ms(1500)), ms(1290));
    assert_eq!(below(&view), Some(seqs[2] + 1));
    // 210 ms behind, gaining 1 ms per ms: the view reaches the wire at 1710, then follows it.
    view.tick(ms(1700), &script.history);
    assert!(!view.is_following() && view.needs_frames(ms(1700)));
    view.tick(ms(1711), &script.history);
    assert!(view.is_following(), "caught up");
    assert_eq!(view.shown(), None);
    assert_eq!(view.view_now(ms(2000)), ms(2000));
}

#[test]
fn a_quiet_stretch_is_skipped_once_the_last_dot_arrived() {
    let (script, seqs) = packets_at(&[100, 20_100]);
    let mut view = Playback::recording(Speed::ONE, &script.history, None, ms(0));
    view.tick(ms(0), &script.history);
    assert_eq!(
        below(&view),
        Some(seqs[1]),
        "the first packet, at the start"
    );
    // While its dot travels the view keeps going at 1×.
    view.tick(ms(300), &script.history);
    assert_eq!(view.view_now(ms(300)), ms(400));
    // Once it arrived (100 + 600 ms) the 19 s gap is skipped to just before the next packet.
    view.tick(ms(700), &script.history);
    assert_eq!(view.view_now(ms(700)), ms(20_100) - IDLE_LEAD);
    assert_eq!(below(&view), Some(seqs[1]));
    view.tick(ms(950), &script.history);
    assert_eq!(below(&view), Some(seqs[1] + 1));
    // At 0.25× the same gap ends a quarter as far ahead on the view's clock.
    let mut slow = Playback::recording("0.25".parse().unwrap(), &script.history, None, ms(0));
    slow.tick(ms(2400), &script.history);
    assert_eq!(slow.view_now(ms(2400)), ms(20_100) - IDLE_LEAD / 4);
}

#[test]
fn a_recording_plays_from_its_first_packet_to_its_end_and_again() {
    let (script, seqs) = packets_at(&[5000, 5200, 5400]);
    let click = Some(ms(4990));
    let mut view = Playback::recording("2".parse().unwrap(), &script.history, click, ms(100));
    assert_eq!(view.source(), Source::Recording);
    assert_eq!(view.view_now(ms(100)), ms(4990), "starts at the click");
    assert_eq!(below(&view), Some(seqs[0]));
    view.tick(ms(150), &script.history);
    assert_eq!(below(&view), Some(seqs[1]), "100 ms of view in 50 ms");
    assert!(!view.finished(ms(150)));
    view.tick(ms(1000), &script.history);
    assert_eq!(below(&view), Some(seqs[2] + 1));
    assert!(
        view.finished(ms(1000)),
        "5400 + the last dot's trip reached"
    );
    assert!(!view.needs_frames(ms(1000)));
    assert_eq!(
        view.view_now(ms(9000)),
        ms(5400) + TRIP,
        "it stops at the end"
    );
    view.restart(ms(9000), &script.history, click);
    assert_eq!(below(&view), Some(seqs[0]));
    assert!(view.needs_frames(ms(9000)));
}

#[test]
fn jump_to_live_shows_everything_held_back() {
    let (script, _) = packets_at(&[10, 20, 30]);
    let mut view = Playback::live("0.5".parse().unwrap());
    view.pause(ms(5), &script.history);
    assert_eq!(view.waiting(&script.history), 3);
    view.jump_to_live(ms(40));
    assert!(view.is_following());
    assert_eq!(
        view.speed(),
        Speed::ONE,
        "slow motion cannot follow the wire"
    );
    assert_eq!(view.waiting(&script.history), 0);
}

// A newcomer's break-test: paused under load, about 6,000 packets arrived, and the bar said
// "2000 packets waiting": the count stopped at the history's capacity.
#[test]
fn paused_under_load_the_packets_waiting_count_those_the_history_no_longer_keeps() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.history = crate::trace::history::PacketHistory::new(5);
    let ping =
        |script: &mut Script| script.send(ServiceId::Order, Direction::Outgoing, Packet::PingReq);
    ping(&mut script);
    let mut view = Playback::live(Speed::ONE);
    // Paused after the first packet (1 ms); each one after it comes 1 ms later.
    view.pause(ms(1), &script.history);
    let mut last = 0;
    for _ in 0..12 {
        last = ping(&mut script);
        view.tick(ms(100), &script.history);
    }
    assert_eq!(view.waiting(&script.history), 5, "the history keeps 5");
    assert_eq!(
        view.waiting_arrived(&script.history),
        12,
        "12 arrived since the pause"
    );
    // Ticked only now and then, the same.
    for _ in 0..3 {
        last = ping(&mut script);
    }
    view.tick(ms(200), &script.history);
    assert_eq!(view.waiting_arrived(&script.history), 15);
    // Step shows the oldest packet still kept; the ones before it are gone for good.
    let stepped = view.step(ms(300), &script.history).unwrap();
    assert_eq!(stepped, last - 4);
    assert_eq!(view.waiting_arrived(&script.history), 4);
    assert_eq!(view.waiting(&script.history), 4);
    // Running again, the view catches up and counts nothing waiting.
    view.resume(ms(400), &script.history);
    view.tick(ms(100_000), &script.history);
    assert_eq!(view.waiting_arrived(&script.history), 0);
}

/// A history of PINGREQs listed in this order, packet `i` stamped `times[i]`.
fn listed_at(times: &[Duration]) -> PacketHistory {
    let mut history = PacketHistory::new(times.len());
    for (seq, &at) in times.iter().enumerate() {
        let mut event = crate::trace::script::event(
            0,
            Direction::Outgoing,
            Packet::PingReq,
            ProtocolVersion::V311,
        );
        event.at = at;
        history.push(crate::trace::TracedPacket::from_event(
            seq as u64,
            ServiceId::Order,
            &event,
        ));
    }
    history
}

/// Runs a recording at 1× from wall 0 in 10 ms frames; the wall time it finished at, if it did
/// within `limit`.
fn finishes_within(history: &PacketHistory, limit: Duration) -> Option<Duration> {
    let mut view = Playback::recording(Speed::ONE, history, None, ms(0));
    let mut wall = ms(0);
    while wall <= limit {
        view.tick(wall, history);
        if view.finished(wall) {
            assert_eq!(below(&view), Some(history.next_seq()), "every packet shown");
            return Some(wall);
        }
        wall += ms(10);
    }
    None
}

// A newcomer's break-test: one packet of a recording edited to a year later (or to the largest
// time a file can hold) kept the replay on "packet 5 of 1178" for as long as the packets listed
// after it took to play (they wait behind it, but their dots were counted as on their way), or
// for good.
#[test]
fn a_packet_stamped_far_after_the_ones_listed_below_it_is_skipped_to_at_once() {
    let year = Duration::from_secs(365 * 24 * 3600);
    for far in [year, Duration::from_micros(u64::MAX)] {
        let mut times: Vec<Duration> = (1..=40).map(|i| ms(100 * i)).collect();
        times[4] = far;
        let history = listed_at(&times);
        let mut view = Playback::recording(Speed::ONE, &history, None, ms(0));
        // Packets 0 to 3 at 100 to 400 ms; packet 4 holds back the 35 listed after it.
        view.tick(ms(300), &history);
        assert_eq!(below(&view), Some(4), "{far:?}");
        // Once packet 3's dot arrived (400 + 600 ms), the stretch up to packet 4 is skipped,
        // not played through the 3.6 s of packets waiting behind it.
        let done = finishes_within(&history, ms(3000))
            .unwrap_or_else(|| panic!("a packet at {far:?} held the replay for more than 3 s"));
        // 300 ms to packet 3, its dot's trip, the lead before packet 4, packet 4's own trip.
        assert!(
            done <= ms(300) + TRIP + IDLE_LEAD + TRIP + ms(20),
            "{done:?}"
        );
    }
}
