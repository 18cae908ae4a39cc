//! The reducer's transitions, one test per rule.

use super::*;

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
            "eda-a1b2c3-notification"
        ]
    );
    assert!(s.services.iter().all(|s| s.link.word() == "connecting"));
}

#[test]
fn links_change_per_service_and_disconnected_ones_are_listed() {
    let mut s = state();
    s.apply(Action::Link(ServiceId::Payment, LinkView::Connected));
    s.apply(Action::Link(
        ServiceId::Inventory,
        LinkView::Disconnected {
            reason: "gone".into(),
            retry_in: Duration::from_secs(1),
            attempt: 1,
        },
    ));
    assert_eq!(s.service(ServiceId::Payment).link, LinkView::Connected);
    let down: Vec<_> = s.disconnected().map(|v| v.id).collect();
    assert_eq!(down, [ServiceId::Inventory]);
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
}

#[test]
fn changing_broker_resets_links_and_clears_the_url_error() {
    let mut s = state();
    s.apply(Action::BrokerUrlInvalid("bad".into()));
    s.apply(Action::Link(ServiceId::Order, LinkView::Connected));
    s.apply(Action::BrokerChanged("ws://127.0.0.1:19001".into()));
    assert_eq!(s.broker_url, "ws://127.0.0.1:19001");
    assert_eq!(s.broker_url_error, None);
    assert_eq!(s.service(ServiceId::Order).link.word(), "connecting");
}

fn started(service: ServiceId, n: u128, due_ms: u64) -> Action {
    Action::WorkStarted {
        service,
        order_id: Uuid::from_u128(n),
        due: Duration::from_millis(due_ms),
    }
}

#[test]
fn work_is_pending_from_its_start_until_its_timer_fires_then_done() {
    let mut s = state();
    assert_eq!(s.service(ServiceId::Payment).work, WorkView::default());
    s.apply(started(ServiceId::Payment, 1, 1000));
    s.apply(started(ServiceId::Payment, 2, 1300));
    s.apply(started(ServiceId::Inventory, 1, 800));
    let pending = |s: &State, id| {
        s.service(id)
            .work
            .pending
            .iter()
            .map(|w| (w.order_id.as_u128(), w.due.as_millis()))
            .collect::<Vec<_>>()
    };
    assert_eq!(pending(&s, ServiceId::Payment), [(1, 1000), (2, 1300)]);
    s.apply(Action::WorkDone {
        service: ServiceId::Payment,
        order_id: Uuid::from_u128(1),
    });
    assert_eq!(pending(&s, ServiceId::Payment), [(2, 1300)]);
    assert_eq!(s.service(ServiceId::Payment).work.last, LastOutcome::Done);
    assert_eq!(pending(&s, ServiceId::Inventory), [(1, 800)]);
    assert_eq!(s.service(ServiceId::Inventory).work.last, LastOutcome::Idle);
}

#[test]
fn a_duplicate_delivery_is_two_pieces_of_work_and_each_completion_ends_one() {
    let mut s = state();
    s.apply(started(ServiceId::Payment, 1, 1000));
    s.apply(started(ServiceId::Payment, 1, 1005));
    let done = Action::WorkDone {
        service: ServiceId::Payment,
        order_id: Uuid::from_u128(1),
    };
    s.apply(done.clone());
    assert_eq!(s.service(ServiceId::Payment).work.pending.len(), 1);
    s.apply(done.clone());
    s.apply(done);
    assert!(s.service(ServiceId::Payment).work.pending.is_empty());
}

#[test]
fn pending_work_is_bounded_and_forgets_the_oldest() {
    let mut s = state();
    for n in 0..WORK_LIMIT as u128 + 2 {
        s.apply(started(ServiceId::Inventory, n, 800 + n as u64));
    }
    let work = &s.service(ServiceId::Inventory).work;
    assert_eq!(work.pending.len(), WORK_LIMIT);
    assert_eq!(work.pending.front().map(|w| w.order_id.as_u128()), Some(2));
}

#[test]
fn the_last_outcome_follows_the_log_and_a_failure_after_completion_wins() {
    let mut s = state();
    let logged = |outcome| {
        Action::Logged(
            ServiceId::Payment,
            LogEntry {
                outcome,
                ..entry(0)
            },
        )
    };
    s.apply(logged(Outcome::Rejected("payload is not JSON".into())));
    assert_eq!(
        s.service(ServiceId::Payment).work.last,
        LastOutcome::Failed("payload is not JSON".into())
    );
    s.apply(logged(Outcome::Accepted));
    assert_eq!(s.service(ServiceId::Payment).work.last, LastOutcome::Done);
    // The runtime reports the end of the work before publishing its result.
    s.apply(started(ServiceId::Payment, 1, 1000));
    s.apply(Action::WorkDone {
        service: ServiceId::Payment,
        order_id: Uuid::from_u128(1),
    });
    s.apply(logged(Outcome::Failed("not connected".into())));
    assert_eq!(
        s.service(ServiceId::Payment).work.last,
        LastOutcome::Failed("not connected".into())
    );
}

#[test]
fn a_placed_order_is_order_service_s_work_done() {
    let mut s = state();
    s.apply(Action::OrderPlaced(Uuid::from_u128(3)));
    assert_eq!(s.service(ServiceId::Order).work.last, LastOutcome::Done);
}

#[test]
fn a_new_protocol_forgets_unfinished_work_whose_runtime_is_gone() {
    let mut s = state();
    s.apply(started(ServiceId::Payment, 1, 1000));
    s.apply(Action::ProtocolChanged(ProtocolVersion::V5));
    assert!(s.service(ServiceId::Payment).work.pending.is_empty());
    s.apply(started(ServiceId::Payment, 2, 2000));
    s.apply(Action::BrokerChanged("ws://127.0.0.1:19001".into()));
    assert_eq!(
        s.service(ServiceId::Payment).work.pending.len(),
        1,
        "the same runtime keeps its timers across a broker change"
    );
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
    s.apply(Action::Link(ServiceId::Payment, LinkView::Connected));
    s.protocol_error = Some("bad".into());
    s.apply(Action::ProtocolChanged(ProtocolVersion::V5));
    assert_eq!(s.protocol, ProtocolVersion::V5);
    assert_eq!(s.protocol_error, None);
    assert_eq!(s.service(ServiceId::Payment).link.word(), "connecting");
}

#[test]
fn a_loaded_recording_stops_the_services_and_a_refusal_is_kept() {
    let mut s = State::new("ws://h:1".into(), None, "t");
    s.apply(Action::Link(ServiceId::Payment, LinkView::Connected));
    s.apply(Action::RecordingRefused("old.json: not JSON".into()));
    s.apply(Action::ReplayLoaded("session.json".into()));
    assert_eq!(s.replaying.as_deref(), Some("session.json"));
    assert_eq!(s.recording_error, None);
    assert!(s.services.iter().all(|v| v.link.word() == "disconnected"));
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
