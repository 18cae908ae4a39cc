//! The reducer's transitions, one test per rule.

use super::*;
use crate::trace::dead_letters::KeptDeadLetter;

fn state() -> State {
    State::new("ws://localhost:9001".into(), None, "a1b2c3")
}

fn entry(n: usize) -> LogEntry {
    LogEntry {
        at: "10:30:00.000".into(),
        topic: "orders/created".into(),
        qos: Some(QoS::AtLeastOnce),
        correlation: None,
        payload: format!("{n}"),
        outcome: Outcome::Accepted,
    }
}

#[test]
fn every_service_has_a_distinct_client_id_and_starts_connecting() {
    let s = state();
    let ids: Vec<_> = s.services.iter().map(|s| s.client_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "eda-a1b2c3-order",
            "eda-a1b2c3-payment",
            "eda-a1b2c3-inventory",
            "eda-a1b2c3-notification",
            "eda-a1b2c3-query"
        ]
    );
    assert!(s.services.iter().all(|s| s.link.word() == "connecting"));
}

#[test]
fn links_change_per_service_and_disconnected_ones_are_listed() {
    let mut s = state();
    s.apply(Action::Link(
        ServiceId::Payment.into(),
        Link::Connected {
            url: "ws://h:1".into(),
        },
    ));
    s.apply(Action::Link(
        ServiceId::Inventory.into(),
        Link::Disconnected {
            url: "ws://h:1".into(),
            reason: broker_bridge::ConnectionError::TransportFailed("gone".into()),
            retry_in: Duration::from_secs(1),
            attempt: 1,
        },
    ));
    assert_eq!(
        s.service(ServiceId::Payment).link,
        Link::Connected {
            url: "ws://h:1".into()
        }
    );
    let down: Vec<_> = s.disconnected().map(|v| v.id).collect();
    assert_eq!(down, [ServiceId::Inventory]);
}

/// 44-AT F4: the help for an unreachable broker tells a URL that worked from one that never did.
#[test]
fn the_url_of_the_last_accepted_connection_is_kept_while_it_is_lost() {
    let mut s = state();
    let payment = Instance::from(ServiceId::Payment);
    assert_eq!(s.service(ServiceId::Payment).connected_at, None);
    s.apply(Action::Link(
        payment,
        Link::Connected {
            url: "ws://h:1".into(),
        },
    ));
    s.apply(Action::Link(
        payment,
        Link::Disconnected {
            url: "ws://h:1".into(),
            reason: broker_bridge::ConnectionError::TransportFailed("gone".into()),
            retry_in: Duration::from_secs(1),
            attempt: 1,
        },
    ));
    assert_eq!(
        s.service(ServiceId::Payment).connected_at.as_deref(),
        Some("ws://h:1")
    );
    // Another service that never connected has none.
    assert_eq!(s.service(ServiceId::Inventory).connected_at, None);
}

#[test]
fn duplicates_ignored_are_counted_even_after_their_entries_fell_off_the_log() {
    let mut s = state();
    for n in 0..LOG_LIMIT + 5 {
        let mut e = entry(n);
        if n % 2 == 0 {
            e.outcome = Outcome::Duplicate("duplicate ignored".into());
        }
        s.apply(Action::Logged(ServiceId::Payment, e));
    }
    let expected = (LOG_LIMIT + 5).div_ceil(2) as u64;
    assert_eq!(s.service(ServiceId::Payment).duplicates_ignored, expected);
    assert_eq!(s.service(ServiceId::Order).duplicates_ignored, 0);
}

#[test]
fn the_log_keeps_the_newest_entries_and_counts_what_it_dropped() {
    let mut s = state();
    for n in 0..LOG_LIMIT + 3 {
        s.apply(Action::Logged(ServiceId::Notification, entry(n)));
    }
    let log = &s.service(ServiceId::Notification);
    assert_eq!(log.log.len(), LOG_LIMIT);
    assert_eq!(log.log_dropped, 3);
    assert_eq!(
        log.log.front().unwrap().payload,
        format!("{}", LOG_LIMIT + 2)
    );
    assert!(s.service(ServiceId::Payment).log.is_empty());
}

#[test]
fn notifications_are_bounded_too() {
    let mut s = state();
    for n in 0..NOTIFICATION_LIMIT + 1 {
        s.apply(Action::Notified(format!("n{n}")));
    }
    assert_eq!(s.notifications.len(), NOTIFICATION_LIMIT);
    assert_eq!(s.notifications_dropped, 1);
    assert_eq!(s.notifications.front().map(String::as_str), Some("n1"));
    assert_eq!(
        s.notifications.back(),
        Some(&format!("n{NOTIFICATION_LIMIT}"))
    );
}

#[test]
fn a_placed_order_clears_the_refusal_and_a_refusal_keeps_the_last_order() {
    let mut s = state();
    s.apply(Action::OrderRefused("not connected".into()));
    assert_eq!(s.form_error.as_deref(), Some("not connected"));
    let id = Uuid::from_u128(7);
    s.apply(Action::OrderPlaced(id));
    assert_eq!((s.placed_order, s.form_error.clone()), (Some(id), None));
    s.apply(Action::OrderRefused("again".into()));
    assert_eq!(s.placed_order, Some(id));
    s.apply(Action::OrderGate(Some("waiting".into())));
    assert_eq!(
        s.form_error.as_deref(),
        Some("again"),
        "a refusal stays while it holds"
    );
    // The gate opening leaves it to be read (36-R F5: it flashed and vanished); the driver
    // says when it has been readable long enough.
    s.apply(Action::OrderGate(None));
    assert_eq!(s.form_error.as_deref(), Some("again"));
    assert_eq!(s.order_gate, None);
    s.apply(Action::FormRefusalOutdated);
    assert_eq!((s.placed_order, s.form_error.clone()), (Some(id), None));
}

#[test]
fn changing_broker_resets_links_and_clears_the_url_error() {
    let mut s = state();
    s.apply(Action::BrokerUrlInvalid("bad".into()));
    s.apply(Action::Link(
        ServiceId::Order.into(),
        Link::Connected {
            url: "ws://h:1".into(),
        },
    ));
    s.apply(Action::BrokerChanged("ws://127.0.0.1:19001".into()));
    assert_eq!(s.broker_url, "ws://127.0.0.1:19001");
    assert_eq!(s.broker_url_error, None);
    assert_eq!(
        s.service(ServiceId::Order).link,
        Link::starting("ws://127.0.0.1:19001")
    );
}

/// A newcomer's break-test (33-G2 F4): *Crash PaymentService* (the Will heard 32 ms after),
/// then *Connect* to the same broker spelled another way. The page's status client subscribes
/// there anew and is sent the Will again, retained, a second later: the badge said "Last Will,
/// 1158 ms after the crash", and its link "connecting" under "✕ PaymentService crashed".
#[test]
fn after_connect_a_crashed_service_stays_crashed_and_a_retained_will_is_not_timed() {
    use crate::services::presence::Presence;
    let mut s = state();
    let payment = Instance::from(ServiceId::Payment);
    let down = Link::Disconnected {
        url: "ws://localhost:9001".into(),
        reason: broker_bridge::ConnectionError::Stopped("crashed".into()),
        retry_in: Duration::ZERO,
        attempt: 0,
    };
    s.apply(Action::Link(payment, down.clone()));
    s.apply(Action::Crashed(payment, Duration::from_millis(1000)));
    s.apply(Action::PresenceSeen(
        payment,
        Presence::will(ServiceId::Payment, "eda-a1b2c3-payment"),
        Some(Duration::from_millis(1032)),
    ));
    s.apply(Action::BrokerChanged("ws://127.0.0.1:9001".into()));
    assert_eq!(s.service(ServiceId::Payment).link, down);
    assert_eq!(
        s.service(ServiceId::Order).link,
        Link::starting("ws://127.0.0.1:9001")
    );
    s.apply(Action::PresenceSeen(
        payment,
        Presence::will(ServiceId::Payment, "eda-a1b2c3-payment"),
        None,
    ));
    let presence = s.service(ServiceId::Payment).presence.clone().unwrap();
    assert_eq!(presence.after_crash, None);
    assert_eq!(presence.words(false, true), "broker: offline (Last Will)");
    // A change that replaces every client ends the crash: the service connects again.
    s.apply(Action::SessionChanged(SessionMode::Clean));
    assert_eq!(s.service(ServiceId::Payment).crashed_at, None);
    assert_eq!(
        s.service(ServiceId::Payment).link,
        Link::starting("ws://127.0.0.1:9001")
    );
}

#[test]
fn switching_brokers_with_orders_open_says_what_stays_behind_until_a_switch_that_leaves_nothing() {
    let mut s = State::new("ws://127.0.0.1:19001".into(), None, "t");
    let open = broker_switch::LeftInFlight {
        open_orders: 3,
        unacknowledged: 0,
        reached: true,
        returning: false,
        clean: false,
        at: Duration::from_secs(5),
    };
    s.apply(Action::BrokerSwitched {
        url: "ws://127.0.0.1:19002".into(),
        left: open,
    });
    assert_eq!(
        s.broker_url, "ws://127.0.0.1:19002",
        "the switch itself happens"
    );
    let note = s.broker_switch_note.clone().expect("a note");
    assert_eq!(
        s.broker_switch_left,
        Some(open),
        "kept to tell when the note goes"
    );
    assert!(
        note.starts_with(
            "Switched brokers with 3 orders open: the messages ws://127.0.0.1:19001 accepted and \
             had not yet delivered to the services stay on that broker"
        ),
        "{note}"
    );
    s.apply(Action::BrokerSwitched {
        url: "ws://127.0.0.1:19001".into(),
        left: broker_switch::LeftInFlight::default(),
    });
    assert_eq!(
        s.broker_switch_note, None,
        "nothing in flight: nothing said"
    );
    assert_eq!(s.broker_switch_left, None);
}

// A newcomer's break-test (32-E F6): A → B → A with orders open said A "has none of these
// services'" sessions, though it kept the ones they left there; with clean sessions it has none.
#[test]
fn back_on_a_broker_left_earlier_the_note_says_it_holds_their_sessions() {
    let (a, b) = ("ws://127.0.0.1:19001", "ws://127.0.0.1:19002");
    let open = broker_switch::LeftInFlight {
        open_orders: 1,
        reached: true,
        ..Default::default()
    };
    for (session, kept) in [(SessionMode::Persistent, true), (SessionMode::Clean, false)] {
        let mut s = State::new(a.into(), None, "t");
        s.session = session;
        s.apply(Action::BrokerSwitched {
            url: b.into(),
            left: open,
        });
        let away = s.broker_switch_note.clone().unwrap();
        // Clean sessions: the old broker discarded them (break-test 34-K F3).
        assert_eq!(away.contains("has none of these services'"), kept, "{away}");
        assert_eq!(away.contains("ran clean sessions"), !kept, "{away}");
        s.apply(Action::BrokerSwitched {
            url: a.into(),
            left: open,
        });
        let back = s.broker_switch_note.clone().unwrap();
        assert_eq!(
            back.contains(&format!(
                "{a} still holds the sessions these services left on it earlier"
            )),
            kept,
            "{session:?}: {back}"
        );
        assert!(!back.contains("has none"), "{back}");
        assert_eq!(back.contains("discarded"), !kept, "{back}");
    }
    // A broker that never accepted them holds nothing: going back to it says so as before.
    let mut s = State::new(a.into(), None, "t");
    let unreached = broker_switch::LeftInFlight {
        reached: false,
        ..open
    };
    s.apply(Action::BrokerSwitched {
        url: b.into(),
        left: unreached,
    });
    s.apply(Action::BrokerSwitched {
        url: a.into(),
        left: open,
    });
    assert!(s
        .broker_switch_note
        .clone()
        .unwrap()
        .contains("has none of these services'"));
}

#[test]
fn changing_qos_clears_its_error() {
    let mut s = State::new("ws://h:1".into(), None, "t");
    s.qos_error = Some("bad".into());
    let qos = FlowQos::uniform(QoS::ExactlyOnce).with("payments/processed", QoS::AtMostOnce);
    s.apply(Action::QosChanged(qos));
    assert_eq!((s.qos, s.qos_error), (qos, None));
}

#[test]
fn changing_protocol_reconnects_every_service() {
    let mut s = State::new("ws://h:1".into(), None, "t");
    s.apply(Action::Link(
        ServiceId::Payment.into(),
        Link::Connected {
            url: "ws://h:1".into(),
        },
    ));
    s.protocol_error = Some("bad".into());
    s.apply(Action::ProtocolChanged(ProtocolVersion::V5));
    assert_eq!(s.protocol, ProtocolVersion::V5);
    assert_eq!(s.protocol_error, None);
    assert_eq!(s.service(ServiceId::Payment).link.word(), "connecting");
}

#[test]
fn a_loaded_recording_stops_the_services_and_a_refusal_is_kept() {
    let mut s = State::new("ws://h:1".into(), None, "t");
    s.apply(Action::Link(
        ServiceId::Payment.into(),
        Link::Connected {
            url: "ws://h:1".into(),
        },
    ));
    s.apply(Action::RecordingRefused("old.json: not JSON".into()));
    s.apply(Action::ReplayLoaded {
        name: "session.json".into(),
        left_open: Some(3),
    });
    assert_eq!(s.replaying.as_deref(), Some("session.json"));
    assert_eq!(s.left_open, 3, "the live session's open orders");
    s.apply(Action::ReplayLoaded {
        name: "other.json".into(),
        left_open: None,
    });
    assert_eq!(
        s.left_open, 3,
        "a second recording replaces the first, not the live session"
    );
    assert_eq!(s.recording_error, None);
    assert!(s.services.iter().all(|v| v.link.word() == "disconnected"));
    assert_eq!(
        s.order_gate.as_deref(),
        Some(REPLAY_GATE),
        "no order can be placed (the form's data-ready)"
    );
    s.apply(Action::OrderGate(None));
    assert_eq!(
        s.order_gate.as_deref(),
        Some(REPLAY_GATE),
        "the stopped runtime's late word does not open it"
    );
    s.apply(Action::RecordingRefused("x.json: newer".into()));
    assert_eq!(s.recording_error.as_deref(), Some("x.json: newer"));
}

#[test]
fn clearing_forgets_logs_notifications_and_the_last_order() {
    let mut s = State::new("ws://h:1".into(), None, "t");
    s.apply(Action::Notified("n".into()));
    s.apply(Action::OrderPlaced(Uuid::from_u128(1)));
    s.apply(Action::Cleared);
    assert!(s.notifications.is_empty());
    assert_eq!(s.placed_order, None);
}

fn kept_dead_letter(id: &str, service: ServiceId, failed_at_ms: i64) -> KeptDeadLetter {
    KeptDeadLetter {
        id: id.into(),
        service,
        letter: crate::services::dead_letter::DeadLetter {
            service: service.name().into(),
            topic: "orders/created".into(),
            payload: "{}".into(),
            payload_hex: None,
            reason: "poison".into(),
            attempts: 3,
            failed_at: crate::domain::Timestamp::from_unix_millis(failed_at_ms).unwrap(),
        },
        unpublished: false,
        refused: None,
    }
}

// A newcomer's break-test (39-AA F2): a dead letter the broker refused (5.0, 0x87 from an
// access rule) was listed like those on the wire.
#[test]
fn a_dead_letter_the_broker_refused_is_marked_with_its_words_and_only_that_one() {
    let mut s = state();
    let first = kept_dead_letter("a", ServiceId::Payment, 10);
    let same_content = kept_dead_letter("b", ServiceId::Payment, 10);
    let other_service = kept_dead_letter("c", ServiceId::Order, 10);
    for kept in [&first, &same_content, &other_service] {
        s.apply(Action::DeadLetterKept(kept.clone()));
    }
    let why = "the broker refused the message: Not authorized (0x87)";
    s.apply(Action::DeadLetterRefused {
        service: ServiceId::Payment,
        letter: first.letter.clone(),
        why: why.into(),
    });
    let refused = |s: &State| {
        s.dead_letters
            .iter()
            .map(|d| (d.id.clone(), d.refused.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        refused(&s),
        [
            ("a".to_owned(), Some(why.to_owned())),
            ("b".to_owned(), None),
            ("c".to_owned(), None)
        ]
    );
    // A second refusal of the same content marks the next one; one of no listed letter, none.
    s.apply(Action::DeadLetterRefused {
        service: ServiceId::Payment,
        letter: first.letter.clone(),
        why: why.into(),
    });
    s.apply(Action::DeadLetterRefused {
        service: ServiceId::Inventory,
        letter: first.letter.clone(),
        why: why.into(),
    });
    assert_eq!(refused(&s)[1].1.as_deref(), Some(why));
    assert_eq!(refused(&s)[2].1, None);
}

#[test]
fn a_dead_letter_stays_listed_across_clear_until_retried_or_discarded() {
    let mut s = state();
    s.apply(Action::DeadLetterKept(kept_dead_letter(
        "a",
        ServiceId::Order,
        10,
    )));
    s.apply(Action::DeadLetterKept(kept_dead_letter(
        "b",
        ServiceId::Payment,
        20,
    )));
    // The same one reported twice is listed once.
    s.apply(Action::DeadLetterKept(kept_dead_letter(
        "a",
        ServiceId::Order,
        10,
    )));
    s.apply(Action::Cleared);
    let ids = |s: &State| {
        s.dead_letters
            .iter()
            .map(|d| d.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&s),
        ["a", "b"],
        "Clear clears the picture, not the dead letters"
    );
    s.redelivery_error = Some("Retry: refused".into());
    s.apply(Action::DeadLetterHandled("a".into()));
    assert_eq!(ids(&s), ["b"]);
    assert!(!s.dead_letters.contains("a") && s.dead_letters.contains("b"));
    assert_eq!(s.redelivery_error, None);
}

#[test]
fn restored_dead_letters_join_those_published_since_oldest_first_once_each() {
    let mut s = state();
    s.apply(Action::DeadLetterKept(kept_dead_letter(
        "new",
        ServiceId::Inventory,
        30,
    )));
    s.apply(Action::DeadLettersRestored(vec![
        kept_dead_letter("old-2", ServiceId::Payment, 20),
        kept_dead_letter("old-1", ServiceId::Order, 10),
        kept_dead_letter("new", ServiceId::Inventory, 30),
    ]));
    let ids = s
        .dead_letters
        .iter()
        .map(|d| d.id.as_str())
        .collect::<Vec<_>>();
    assert_eq!(ids, ["old-1", "old-2", "new"]);
    // Reported again after the restore (its write was read back before its report came).
    s.apply(Action::DeadLetterKept(kept_dead_letter(
        "old-2",
        ServiceId::Payment,
        20,
    )));
    assert_eq!(s.dead_letters.len(), 3);
}

#[test]
fn a_chosen_speed_is_kept_and_clears_the_link_s_complaint() {
    let mut s = state();
    s.playback_error = Some("Ignored ?speed=".into());
    let version = s.trace_version;
    s.apply(Action::SpeedChanged("2".parse().unwrap()));
    assert_eq!(s.speed.value(), "2");
    assert_eq!(s.playback_error, None);
    assert!(
        s.trace_version > version,
        "the views redraw at the new speed"
    );
}

#[test]
fn a_batch_applies_its_actions_in_order() {
    let mut s = state();
    s.apply(Action::Batch(vec![
        Action::Notified("first".into()),
        Action::TraceChanged,
        Action::Notified("second".into()),
        Action::TraceChanged,
    ]));
    let texts: Vec<&str> = s.notifications.iter().map(|n| n.as_str()).collect();
    assert_eq!(texts, ["first", "second"]);
    assert_eq!(s.trace_version, 2);
}

#[test]
fn a_crash_then_the_broker_s_will_says_how_long_the_broker_took() {
    use crate::services::presence::Presence;
    let mut s = state();
    s.apply(Action::Crashed(
        ServiceId::Payment.into(),
        Duration::from_millis(1000),
    ));
    assert_eq!(
        s.service(ServiceId::Payment).crashed_at,
        Some(Duration::from_millis(1000))
    );
    let will = Presence::will(ServiceId::Payment, "eda-a1b2c3-payment");
    s.apply(Action::PresenceSeen(
        ServiceId::Payment.into(),
        will,
        Some(Duration::from_millis(1012)),
    ));
    let presence = s.service(ServiceId::Payment).presence.clone().unwrap();
    assert!(!presence.online);
    assert_eq!(presence.after_crash, Some(Duration::from_millis(12)));
    assert!(presence.reason.unwrap().contains("Last Will"));
    // The same Will delivered again, retained, to a status client subscribing anew (after
    // *Connect*) 3.5 s later: still the 12 ms the broker took.
    s.apply(Action::PresenceSeen(
        ServiceId::Payment.into(),
        Presence::will(ServiceId::Payment, "eda-a1b2c3-payment"),
        Some(Duration::from_millis(4552)),
    ));
    let presence = s.service(ServiceId::Payment).presence.clone().unwrap();
    assert_eq!(presence.after_crash, Some(Duration::from_millis(12)));
    s.apply(Action::Restarted(ServiceId::Payment.into()));
    assert_eq!(s.service(ServiceId::Payment).crashed_at, None);
    let now = crate::domain::Timestamp::from_unix_millis(0).unwrap();
    let online = Presence::online(ServiceId::Payment, "eda-a1b2c3-payment", now);
    s.apply(Action::PresenceSeen(
        ServiceId::Payment.into(),
        online,
        Some(Duration::from_millis(3000)),
    ));
    let presence = s.service(ServiceId::Payment).presence.clone().unwrap();
    assert!(presence.online && presence.after_crash.is_none());
    // A second crash is timed anew.
    s.apply(Action::Crashed(
        ServiceId::Payment.into(),
        Duration::from_millis(5000),
    ));
    s.apply(Action::PresenceSeen(
        ServiceId::Payment.into(),
        Presence::will(ServiceId::Payment, "eda-a1b2c3-payment"),
        Some(Duration::from_millis(5090)),
    ));
    let presence = s.service(ServiceId::Payment).presence.clone().unwrap();
    assert_eq!(presence.after_crash, Some(Duration::from_millis(90)));
}

#[test]
fn another_page_s_services_on_the_broker_are_a_warning_not_our_status() {
    use crate::services::presence::Presence;
    let mut s = state();
    let now = crate::domain::Timestamp::from_unix_millis(0).unwrap();
    let theirs = Presence::online(ServiceId::Payment, "eda-ffffff-payment", now);
    s.apply(Action::PresenceSeen(
        ServiceId::Payment.into(),
        theirs,
        Some(Duration::ZERO),
    ));
    assert_eq!(s.service(ServiceId::Payment).presence, None, "not ours");
    assert_eq!(
        s.other_playgrounds.iter().collect::<Vec<_>>(),
        ["eda-ffffff-payment"]
    );
    // Its tab closed: the broker publishes its Will.
    let will = Presence::will(ServiceId::Payment, "eda-ffffff-payment");
    s.apply(Action::PresenceSeen(
        ServiceId::Payment.into(),
        will,
        Some(Duration::ZERO),
    ));
    assert!(s.other_playgrounds.is_empty());
    // Met again, then this page moves to another broker: not there.
    s.apply(Action::PresenceSeen(
        ServiceId::Payment.into(),
        Presence::online(ServiceId::Payment, "eda-ffffff-payment", now),
        Some(Duration::ZERO),
    ));
    s.apply(Action::BrokerChanged("ws://localhost:9001".into()));
    assert!(
        !s.other_playgrounds.is_empty(),
        "the same broker: still there"
    );
    s.apply(Action::BrokerChanged("inpage".into()));
    assert!(s.other_playgrounds.is_empty());
}

/// A break-test: after *Connect* to another broker, a service kept on a broker of its own
/// still showed the old broker's "broker: online".
#[test]
fn a_status_heard_on_the_page_s_old_broker_is_forgotten_on_another() {
    use crate::services::presence::Presence;
    let mut s = state();
    let now = crate::domain::Timestamp::from_unix_millis(0).unwrap();
    let ours = format!("eda-{}-inventory", s.session_tag);
    s.apply(Action::PresenceSeen(
        ServiceId::Inventory.into(),
        Presence::online(ServiceId::Inventory, &ours, now),
        Some(Duration::ZERO),
    ));
    let url = s.broker_url.clone();
    s.apply(Action::BrokerChanged(url));
    assert!(
        s.service(ServiceId::Inventory).presence.is_some(),
        "the same broker"
    );
    s.apply(Action::BrokerChanged("ws://other:9001".into()));
    assert_eq!(s.service(ServiceId::Inventory).presence, None);
}

#[test]
fn the_session_mode_comes_from_the_link_or_is_explained() {
    let s = State::from_link([("session", "clean")], "t");
    assert_eq!((s.session, s.session_error), (SessionMode::Clean, None));
    let s = State::from_link([("session", "forever")], "t");
    assert_eq!(s.session, SessionMode::Persistent);
    assert!(s.session_error.unwrap().contains("persistent nor clean"));
    let mut s = state();
    s.apply(Action::Crashed(ServiceId::Order.into(), Duration::ZERO));
    s.apply(Action::SessionChanged(SessionMode::Clean));
    assert_eq!(s.session, SessionMode::Clean);
    assert_eq!(
        s.service(ServiceId::Order).crashed_at,
        None,
        "every service reconnects"
    );
}

/// A newcomer's break-test: a script's `change` to the value a setting already has reset every
/// badge to *connecting* and ended the crashes shown, though no new runtime started.
#[test]
fn a_change_to_the_value_in_use_starts_nothing_over() {
    let mut s = state();
    s.apply(Action::Crashed(ServiceId::Payment.into(), Duration::ZERO));
    let before = s.clone();
    for action in [
        Action::SessionChanged(s.session),
        Action::PaymentInstancesChanged(s.payment_instances),
        Action::ProtocolChanged(s.protocol),
    ] {
        s.apply(action);
    }
    assert_eq!(
        s.service(ServiceId::Payment).crashed_at,
        Some(Duration::ZERO),
        "still crashed"
    );
    assert_eq!(s.services, before.services, "no badge starts over");
}

#[test]
fn a_product_removed_from_the_stock_is_listed_as_no_longer_counted_until_counted_again() {
    let mut s = state();
    s.apply(Action::StockNow(Stock::parse("P001:5,P002:1").unwrap()));
    assert!(s.uncounted.is_empty());
    s.apply(Action::StockNow(Stock::parse("P001:3").unwrap()));
    assert_eq!(s.uncounted.iter().collect::<Vec<_>>(), ["P002"]);
    s.apply(Action::StockNow(Stock::parse("P001:1").unwrap()));
    assert_eq!(
        s.uncounted.len(),
        1,
        "a reservation changes levels, not what is counted"
    );
    s.apply(Action::StockNow(Stock::parse("P002:9").unwrap()));
    assert_eq!(s.uncounted.iter().collect::<Vec<_>>(), ["P001"]);
}

/// A break-test: a tab that had opened `?stock=P001:10,P002:5` opens `/?payment_ms=2000`; its
/// database's stock is restored, and orders are cancelled "out of stock" with no word near the
/// Stock field of where that stock came from. And another: *Copy link* then gave no `stock`,
/// so the link opened elsewhere counted nothing. The restored stock is the field's and the
/// link's.
#[test]
fn a_stock_restored_from_the_tab_database_is_said_and_becomes_the_field_s_and_the_link_s() {
    use crate::state::query::Setting;
    let mut s = state();
    s.apply(Action::StockNow(Stock::default()));
    assert_eq!(
        s.stock_restored_note(),
        None,
        "the link's (no stock): nothing to say"
    );
    s.apply(Action::StockRestored(
        Stock::parse("P001:10,P002:5").unwrap(),
    ));
    assert_eq!(s.stock, Stock::parse("P001:10,P002:5").unwrap());
    assert_eq!(
        s.flow.stock,
        Stock::parse("P001:10,P002:5").unwrap(),
        "the field shows the stock in use"
    );
    assert_eq!(
        Setting::Stock(s.flow.stock.clone()).params(),
        [("stock".to_owned(), Some("P001:10,P002:5".to_owned()))],
        "the link carries it"
    );
    assert_eq!(
        s.stock_restored_note().as_deref(),
        Some(
            "Restored from this tab's database (the levels this tab counted before it was \
             loaded again), not taken from this link. The field and the address now hold them \
             as restored (P001:10,P002:5), so Copy link starts a page from these levels; the \
             Stock panel counts on from them. Edit the field to replace them, or clear it to \
             count nothing."
        )
    );
    // Reservations change the levels, not where the stock came from nor the field.
    s.apply(Action::StockNow(Stock::parse("P001:0,P002:5").unwrap()));
    assert!(s.stock_restored_note().is_some());
    assert_eq!(s.flow.stock, Stock::parse("P001:10,P002:5").unwrap());
    // Another setting changed: still the database's.
    let mut flow = s.flow.clone();
    flow.saga_timeout = std::time::Duration::from_millis(1234);
    s.apply(Action::FlowChanged(flow.clone()));
    assert!(s.stock_restored_note().is_some());
    // The learner sets a stock: it is the field's.
    flow.stock = Stock::parse("P001:3").unwrap();
    s.apply(Action::FlowChanged(flow));
    assert_eq!(s.stock_restored_note(), None);

    // A link's stock the database's overrode: the field shows the database's.
    let mut linked = state();
    let mut flow = linked.flow.clone();
    flow.stock = Stock::parse("P001:3").unwrap();
    linked.apply(Action::FlowChanged(flow));
    linked.apply(Action::StockRestored(Stock::parse("P001:10").unwrap()));
    assert_eq!(linked.flow.stock, Stock::parse("P001:10").unwrap());
    assert!(linked
        .stock_restored_note()
        .unwrap()
        .contains("now hold them as restored (P001:10)"));

    // A newcomer's break-test (F2): a later link's own ?stock=P001:100 was replaced by the
    // tab's levels and gone from the address, the note naming nothing of it.
    let mut later = State::from_link([("stock", "P001:100")], "t");
    assert_eq!(
        later.stock_from_link,
        Some(Stock::parse("P001:100").unwrap())
    );
    later.apply(Action::StockRestored(Stock::parse("P001:3").unwrap()));
    assert!(
        later.stock_restored_note().unwrap().ends_with(
            " This link's stock=P001:100 is not what is counted: to count from it, type it in \
             the field."
        ),
        "{:?}",
        later.stock_restored_note()
    );
    // 43-AO F1: F5 on the tab's own link, whose stock=P001:5 the orders have taken to 3
    // since: not a later link's stock, and typing it in would undo what the reload kept.
    let mut reloaded = State::from_link([("stock", "P001:5")], "t");
    reloaded.link_reloaded = true;
    reloaded.apply(Action::StockRestored(Stock::parse("P001:3").unwrap()));
    let note = reloaded.stock_restored_note().unwrap();
    assert!(!note.contains("This link's"), "{note}");
    assert!(
        note.contains("now hold them as restored (P001:3)"),
        "{note}"
    );
    // The same levels as the link's (a reload of an address that holds the restored levels):
    // nothing more to say; nor for a link without ?stock=, or with one refused.
    let mut same = State::from_link([("stock", "P001:3")], "t");
    same.apply(Action::StockRestored(Stock::parse("P001:3").unwrap()));
    assert!(!same.stock_restored_note().unwrap().contains("This link's"));
    assert_eq!(
        State::from_link([("stock", "P001:-3")], "t").stock_from_link,
        None
    );
    assert_eq!(State::from_link([], "t").stock_from_link, None);
    let mut nothing = State::from_link([("stock", ",")], "t");
    nothing.apply(Action::StockRestored(Stock::parse("P001:3").unwrap()));
    assert!(nothing
        .stock_restored_note()
        .unwrap()
        .ends_with(" This link's stock= (nothing counted) is not what is counted: to count from it, type it in the field."));
}

#[test]
fn each_instance_of_payment_service_has_its_own_link_crash_and_status() {
    use crate::services::instances::Instance;
    use crate::services::presence::Presence;
    let mut s = state();
    s.apply(Action::PaymentInstancesChanged(2));
    let second = Instance::new(ServiceId::Payment, 2);
    assert_eq!(s.services.len(), 6);
    s.apply(Action::Link(
        second,
        Link::Connected {
            url: "ws://h:1".into(),
        },
    ));
    s.apply(Action::Crashed(second, Duration::from_millis(10)));
    s.apply(Action::PresenceSeen(
        second,
        Presence::will(ServiceId::Payment, "eda-a1b2c3-payment-2"),
        Some(Duration::from_millis(15)),
    ));
    let view = s.services.iter().find(|v| v.instance() == second).unwrap();
    assert_eq!(view.link.word(), "connected");
    assert_eq!(
        view.presence.as_ref().unwrap().after_crash,
        Some(Duration::from_millis(5))
    );
    let first = s.service(ServiceId::Payment);
    assert_eq!(
        (first.link.word(), first.crashed_at, &first.presence),
        ("connecting", None, &None),
        "the first instance is untouched"
    );
    // A status of an instance the page does not run (retained from before) changes nothing.
    let third = Instance::new(ServiceId::Payment, 3);
    let before = s.clone();
    s.apply(Action::PresenceSeen(
        third,
        Presence::will(ServiceId::Payment, "x"),
        Some(Duration::ZERO),
    ));
    assert_eq!(s, before);
    s.apply(Action::SharingRefused("refused".into()));
    assert_eq!(s.instances_error.as_deref(), Some("refused"));
    s.apply(Action::PaymentInstancesChanged(1));
    assert_eq!(
        (s.services.len(), s.payment_instances, s.instances_error),
        (5, 1, None)
    );
}

#[test]
fn a_held_back_retry_s_refusal_goes_once_out_of_date_but_not_a_newer_word() {
    let mut s = state();
    let held = "Retry: PaymentService, whose dead letter this is, is crashed".to_owned();
    s.apply(Action::RedeliveryRefused(held.clone()));
    s.apply(Action::RedeliveryRefusalOutdated(held.clone()));
    assert_eq!(s.redelivery_error, None);
    // Something said since (another refusal) stays.
    s.apply(Action::RedeliveryRefused(held.clone()));
    s.apply(Action::RedeliveryRefused("Deliver again: gone".into()));
    s.apply(Action::RedeliveryRefusalOutdated(held));
    assert_eq!(s.redelivery_error.as_deref(), Some("Deliver again: gone"));
}

/// A teacher's break-test: a refused Retry stayed shown after a Deliver again that went out.
#[test]
fn a_redelivery_that_went_out_replaces_the_refusal_shown() {
    let mut s = state();
    s.apply(Action::RetryRefused {
        id: "d1".into(),
        reason: "Retry: not one of the store's events".into(),
    });
    s.apply(Action::RetryRefused {
        id: "d1".into(),
        reason: "Retry: not one of the store's events".into(),
    });
    s.apply(Action::RedeliveryDone(Some(
        "Deliver again: orders/created went out again.".into(),
    )));
    assert!(s.redelivery_note.is_some(), "said after it went out");
    s.apply(Action::RedeliveryRefused("Deliver again: gone".into()));
    assert_eq!(
        s.redelivery_note, None,
        "the next click's answer replaces it"
    );
    s.apply(Action::RedeliveryDone(None));
    assert_eq!(s.redelivery_error, None);
    assert_eq!(s.redelivery_repeated(), "");
    s.apply(Action::RedeliveryRefused("Deliver again: gone".into()));
    assert_eq!(s.redelivery_repeated(), "", "a first answer again");
}

/// A newcomer's break-test: a second Retry refused with the same sentence changed nothing on the
/// page, so nothing showed the click was taken.
#[test]
fn the_same_refusal_again_says_how_many_clicks_it_answered() {
    let mut s = state();
    let away = "Retry: OrderService is not connected".to_owned();
    s.apply(Action::RedeliveryRefused(away.clone()));
    assert_eq!(s.redelivery_repeated(), "");
    s.apply(Action::RedeliveryRefused(away.clone()));
    s.apply(Action::RedeliveryRefused(away.clone()));
    assert_eq!(
        s.redelivery_repeated(),
        " (the same answer to 3 clicks in a row)"
    );
    s.apply(Action::RedeliveryRefused("Deliver again: gone".into()));
    assert_eq!(s.redelivery_repeated(), "", "another sentence starts again");
    s.apply(Action::RedeliveryRefused(away.clone()));
    assert_eq!(s.redelivery_repeated(), "");
    // A Retry's refusal names its letter, to be said beside it; the same words for another
    // letter are a first answer.
    s.apply(Action::RetryRefused {
        id: "a".into(),
        reason: away.clone(),
    });
    assert_eq!(s.redelivery_letter.as_deref(), Some("a"));
    assert_eq!(s.redelivery_repeated(), "");
    s.apply(Action::RetryRefused {
        id: "a".into(),
        reason: away.clone(),
    });
    assert_eq!(s.redelivery_refusals, 2);
    s.apply(Action::RetryRefused {
        id: "b".into(),
        reason: away.clone(),
    });
    assert_eq!(
        (s.redelivery_letter.as_deref(), s.redelivery_refusals),
        (Some("b"), 1)
    );
    s.apply(Action::RedeliveryRefused(away));
    assert_eq!(
        s.redelivery_letter, None,
        "Deliver again is said below the panel"
    );
}

/// A change of MQTT version starts every service's client anew, a crashed one's too: the page
/// must not keep a "crashed" badge (and a Restart with nothing to restart) over a service that
/// is back, as it did before (a newcomer's break-test). Sessions and instances did so already.
#[test]
fn a_change_of_mqtt_version_ends_a_crash_as_a_change_of_sessions_or_instances_does() {
    for change in [
        Action::ProtocolChanged(ProtocolVersion::V5),
        Action::SessionChanged(SessionMode::Clean),
    ] {
        let mut s = state();
        s.apply(Action::Crashed(
            ServiceId::Order.into(),
            Duration::from_millis(5),
        ));
        assert!(s.service(ServiceId::Order).crashed_at.is_some());
        s.apply(change.clone());
        assert_eq!(s.service(ServiceId::Order).crashed_at, None, "{change:?}");
    }
}

/// The badge's status line: a status heard from the broker, given as the present only while
/// the service is connected. With the broker down every badge used to say "broker: online"
/// beside "disconnected" (a newcomer's break-test): the page could not have heard otherwise.
#[test]
fn a_status_heard_before_the_connection_was_lost_is_given_as_the_last_word_heard() {
    let online = PresenceView {
        online: true,
        reason: None,
        after_crash: None,
    };
    assert_eq!(online.words(true, false), "broker: online");
    assert!(!online.is_stale(true, false));
    assert_eq!(
        online.words(false, false),
        "broker: last heard online (not connected now)"
    );
    assert!(online.is_stale(false, false));
    let will = PresenceView {
        online: false,
        reason: Some("connection lost without DISCONNECT (Last Will)".into()),
        after_crash: Some(Duration::from_millis(12)),
    };
    // Still crashed: the Will is the lesson, connected or not.
    for connected in [true, false] {
        assert_eq!(
            will.words(connected, true),
            "broker: offline (Last Will, 12 ms after the crash)"
        );
        assert!(!will.is_stale(connected, true));
    }
    let stopped = PresenceView {
        online: false,
        reason: Some("stopped".into()),
        after_crash: None,
    };
    assert_eq!(stopped.words(false, false), "broker: offline");
    assert!(!stopped.is_stale(false, false));
    let will_heard = PresenceView {
        after_crash: None,
        ..will.clone()
    };
    assert_eq!(will_heard.words(true, false), "broker: offline (Last Will)");
    // The page's status monitor down (the page's broker, with the services elsewhere: 35-L F8):
    // the last word heard, and why.
    assert_eq!(
        online.words_monitor_down(false),
        "broker: last heard online (the status monitor is not connected)"
    );
    assert_eq!(
        will_heard.words_monitor_down(false),
        "broker: last heard offline (Last Will; the status monitor is not connected)"
    );
    let mut state = state();
    state.apply(Action::MonitorLost(
        "the broker closed the connection".into(),
    ));
    assert_eq!(
        state.monitor_lost.as_deref(),
        Some("the broker closed the connection")
    );
    state.apply(Action::MonitorAccepted);
    assert_eq!(state.monitor_lost, None);
    // The flow diagram's shorter line follows the same rule (it said "broker: online" under
    // every box with the broker down: the break-test's second look).
    assert_eq!(online.short_words(true, false), "broker: online");
    assert_eq!(
        online.short_words(false, false),
        "broker: last heard online"
    );
    assert_eq!(
        will_heard.short_words(false, true),
        "broker: offline (Will)"
    );
    assert_eq!(
        will_heard.short_words(false, false),
        "broker: last heard offline"
    );
}

/// A newcomer's break-test: PaymentService crashed, the broker went down, then *Restart*. The
/// restarted service cannot connect, so the page cannot hear the broker; its badge still said
/// `broker: offline (Last Will, 98 ms after the crash)` as if heard now, while every other
/// badge said "not connected now". A Will heard before is the last word heard too, once the
/// service is restarted.
#[test]
fn a_will_heard_before_a_restart_without_the_broker_is_given_as_the_last_word_heard() {
    let will = PresenceView {
        online: false,
        reason: Some("connection lost without DISCONNECT (Last Will)".into()),
        after_crash: Some(Duration::from_millis(98)),
    };
    assert_eq!(
        will.words(false, false),
        "broker: last heard offline (Last Will, 98 ms after the crash; not connected now)"
    );
    assert!(will.is_stale(false, false));
    // Restarted and connected again: the Will is the present until the new status comes.
    assert_eq!(
        will.words(true, false),
        "broker: offline (Last Will, 98 ms after the crash)"
    );
    let heard = PresenceView {
        after_crash: None,
        ..will
    };
    assert_eq!(
        heard.words(false, false),
        "broker: last heard offline (Last Will; not connected now)"
    );
}

#[test]
fn a_monitor_refusal_is_followed_by_signed_in_once_the_monitor_is_accepted() {
    let mut s = state();
    s.apply(Action::MonitorAccepted);
    assert!(
        s.notifications.is_empty(),
        "no refusal said: nothing to take back"
    );
    s.apply(Action::MonitorRefused(
        "not authorized (return code 5)".into(),
        None,
    ));
    s.apply(Action::MonitorAccepted);
    s.apply(Action::MonitorAccepted);
    let said: Vec<&str> = s.notifications.iter().map(String::as_str).collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].starts_with("The page's status monitor (the whole page's user under Sign in to the broker) was refused: not authorized (return code 5)."),
        "{}",
        said[0]
    );
    assert_eq!(said[1], MONITOR_SIGNED_IN);
    assert!(said[1].starts_with("Signed in: "));
    // Another broker's advice in place of "fix that user and password" (41-AJ F3: the in-page
    // broker has no users).
    s.apply(Action::MonitorRefused(
        "bad user name or password".into(),
        Some("Clear the passwords."),
    ));
    let said = s.notifications.back().unwrap();
    assert!(
        said.ends_with("nor the page see another page's services. Clear the passwords."),
        "{said}"
    );
}

#[test]
fn an_unrelayed_status_is_shown_for_its_instance_until_taken_back() {
    let mut s = state();
    let payment = Instance::from(ServiceId::Payment);
    s.apply(Action::StatusUnrelayed(payment, Some("not relayed".into())));
    let view = |s: &State| {
        s.services
            .iter()
            .find(|v| v.instance() == payment)
            .unwrap()
            .unrelayed
            .clone()
    };
    assert_eq!(view(&s).as_deref(), Some("not relayed"));
    s.apply(Action::StatusUnrelayed(payment, None));
    assert_eq!(view(&s), None);
    // A connection that ends takes it back too: the next one is judged afresh.
    s.apply(Action::StatusUnrelayed(payment, Some("not relayed".into())));
    s.apply(Action::Link(payment, Link::starting("ws://localhost:9001")));
    assert_eq!(view(&s), None);
}

#[test]
fn a_refused_setting_is_pointed_to_from_the_first_screen() {
    let mut s = state();
    assert!(!s.settings_refused());
    s.apply(Action::DelayRefused(
        crate::services::ServiceId::Payment,
        "Payment delay \"x\" ignored".into(),
    ));
    assert!(s.settings_refused(), "a refused delay");
    let linked = State::from_link([("saga", "sideways")], "t");
    assert!(
        linked.settings_refused(),
        "a link's refused saga style: {:?}",
        linked.flow_error
    );
    let fine = State::from_link([("saga", "parallel"), ("payment_ms", "10")], "t");
    assert!(!fine.settings_refused());
    // 42-AK F3: a refused ?speed= or ?view= was said in the animation's bar alone.
    for (key, value) in [("speed", "0"), ("view", "nonsense")] {
        let playback = State::from_link([(key, value)], "t");
        assert_eq!(playback.refusals_shown(), [RefusalPlace::Playback], "{key}");
    }
    let elsewhere = State::from_link([("projection_ms", "x")], "t");
    assert!(
        elsewhere.projection_error.is_some() && !elsewhere.settings_refused(),
        "the Read model's delay is refused in its own panel, not the settings"
    );
    // A newcomer's break-test: a refused ?retry_ms= or ?projection_ms= was not pointed to.
    assert_eq!(elsewhere.refusals_shown(), [RefusalPlace::ReadModel]);
    let both = State::from_link(
        [
            ("retry_ms", "20000"),
            ("projection_ms", "-1"),
            ("saga", "x"),
        ],
        "t",
    );
    assert_eq!(
        both.refusals_shown(),
        [
            RefusalPlace::Settings,
            RefusalPlace::ReadModel,
            RefusalPlace::DeadLetters
        ]
    );
    assert_eq!(fine.refusals_shown(), []);
}

/// A newcomer's break-test: *Decline over* `abc` refused, then *Saga deadline* `0` refused:
/// only the deadline's sentence was left, beside a field still showing `abc`; a valid *Stock*
/// then took every refusal away while the fields still showed the refused values.
#[test]
fn a_refusal_stays_until_its_own_field_is_taken() {
    use crate::services::FlowField;
    let mut s = state();
    s.apply(Action::FlowRefused(
        FlowField::SagaTimeout,
        "Saga deadline: \"0\" is not a saga deadline".into(),
    ));
    s.apply(Action::FlowRefused(
        FlowField::DeclineOver,
        "Decline over: \"abc\" is not an amount".into(),
    ));
    assert_eq!(
        s.flow_error.as_deref(),
        Some("Decline over: \"abc\" is not an amount Saga deadline: \"0\" is not a saga deadline"),
        "both, in the fields' order"
    );
    // Refused again, the field's sentence is replaced, not repeated.
    s.apply(Action::FlowRefused(
        FlowField::DeclineOver,
        "Decline over: \"abd\" is not an amount".into(),
    ));
    assert_eq!(s.flow_refusals.len(), 2);
    // Another panel's field taken: both stay.
    let flow = s.flow.with(FlowField::Stock, "P001:5").unwrap();
    s.apply(Action::FlowTaken(FlowField::Stock, flow));
    assert!(s.settings_refused());
    assert_eq!(
        s.flow_error.as_deref(),
        Some("Decline over: \"abd\" is not an amount Saga deadline: \"0\" is not a saga deadline")
    );
    // Its own field taken: that one goes, the other stays.
    let flow = s.flow.with(FlowField::DeclineOver, "100").unwrap();
    s.apply(Action::FlowTaken(FlowField::DeclineOver, flow));
    assert_eq!(
        s.flow_error.as_deref(),
        Some("Saga deadline: \"0\" is not a saga deadline")
    );
    // A link's refusal is its field's too.
    let mut linked = State::from_link([("decline_pct", "x"), ("stock", "y")], "t");
    assert!(linked.flow_error.is_some() && linked.stock_error.is_some());
    let flow = linked.flow.with(FlowField::Stock, "P001:1").unwrap();
    linked.apply(Action::FlowTaken(FlowField::Stock, flow));
    assert!(linked.flow_error.is_some() && linked.stock_error.is_none());
}

/// The same for the two delays: PaymentService's refused, then InventoryService's taken.
#[test]
fn a_delay_s_refusal_stays_while_the_other_delay_is_taken() {
    use crate::services::ServiceId;
    let mut s = State::from_link([("payment_ms", "x"), ("inventory_ms", "-1")], "t");
    assert!(s
        .delays_error
        .as_deref()
        .unwrap()
        .contains("?inventory_ms="));
    let mut delays = s.flow.delays;
    delays.inventory = std::time::Duration::from_millis(5);
    s.apply(Action::DelayTaken(ServiceId::Inventory, delays));
    let left = s.delays_error.clone().unwrap();
    assert!(
        left.contains("?payment_ms=") && !left.contains("?inventory_ms="),
        "{left}"
    );
    s.apply(Action::DelayRefused(
        ServiceId::Inventory,
        "Inventory delay: no".into(),
    ));
    assert!(s
        .delays_error
        .as_deref()
        .unwrap()
        .ends_with("Inventory delay: no"));
    s.apply(Action::DelayTaken(ServiceId::Payment, delays));
    s.apply(Action::DelayTaken(ServiceId::Inventory, delays));
    assert_eq!(s.delays_error, None);
    assert!(!s.settings_refused());
}

/// A newcomer's break-test (34-J F2): *Sign in* again as a whole-page user that may not read
/// the statuses; the badges kept "broker: online", heard by the old user's status client.
#[test]
fn a_new_status_reader_forgets_the_statuses_the_old_one_heard() {
    use crate::services::presence::Presence;
    let mut s = state();
    let now = crate::domain::Timestamp::from_unix_millis(0).unwrap();
    s.apply(Action::PresenceSeen(
        ServiceId::Order.into(),
        Presence::online(ServiceId::Order, "eda-a1b2c3-order", now),
        Some(Duration::ZERO),
    ));
    assert!(s.service(ServiceId::Order).presence.is_some());
    s.apply(Action::StatusReaderChanged);
    assert_eq!(s.service(ServiceId::Order).presence, None);
}
