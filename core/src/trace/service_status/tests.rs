use broker_bridge::{ProtocolVersion, QoS};

use super::*;
use crate::trace::playback::Shown;
use crate::trace::script::{order, Script};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn started(n: u128, due_ms: u64) -> ServiceEvent {
    ServiceEvent::WorkStarted {
        order_id: order(n),
        due: ms(due_ms),
    }
}

fn done(n: u128) -> ServiceEvent {
    ServiceEvent::WorkDone { order_id: order(n) }
}

fn pending(log: &ServiceLog, service: ServiceId) -> Vec<(u128, u128)> {
    log.status_at(service, None)
        .work
        .pending
        .iter()
        .map(|w| (w.order_id.as_u128(), w.due.as_millis()))
        .collect()
}

fn up() -> ServiceEvent {
    ServiceEvent::Link(Link::Connected {
        url: "ws://localhost:9001".into(),
    })
}

#[test]
fn work_is_pending_from_its_start_until_its_timer_fires_then_done() {
    let mut log = ServiceLog::new(100);
    assert_eq!(
        log.status_at(ServiceId::Payment, None),
        ServiceStatus::default()
    );
    log.record(ms(0), ServiceId::Payment, started(1, 1000));
    log.record(ms(300), ServiceId::Payment, started(2, 1300));
    log.record(ms(300), ServiceId::Inventory, started(1, 800));
    assert_eq!(
        pending(&log, ServiceId::Payment),
        [(order(1).as_u128(), 1000), (order(2).as_u128(), 1300)]
    );
    log.record(ms(1000), ServiceId::Payment, done(1));
    assert_eq!(
        pending(&log, ServiceId::Payment),
        [(order(2).as_u128(), 1300)]
    );
    let payment = log.status_at(ServiceId::Payment, None);
    assert_eq!(payment.work.last, LastOutcome::Done);
    assert_eq!(
        pending(&log, ServiceId::Inventory),
        [(order(1).as_u128(), 800)]
    );
    let inventory = log.status_at(ServiceId::Inventory, None);
    assert_eq!(inventory.work.last, LastOutcome::Idle);
}

#[test]
fn the_status_is_the_fold_of_the_events_up_to_the_view_s_time() {
    let mut log = ServiceLog::new(100);
    log.record(ms(10), ServiceId::Payment, up());
    log.record(ms(20), ServiceId::Payment, started(1, 1020));
    log.record(ms(1020), ServiceId::Payment, done(1));
    let at = |t| log.status_at(ServiceId::Payment, Some(ms(t)));
    assert_eq!(at(5), ServiceStatus::default(), "before anything happened");
    assert!(at(10).link.is_connected());
    assert_eq!(at(10).work.pending.len(), 0);
    assert_eq!(at(500).work.pending.len(), 1, "paused mid-payment");
    assert_eq!(at(1020).work.pending.len(), 0);
    assert_eq!(at(1020).work.last, LastOutcome::Done);
}

#[test]
fn a_duplicate_delivery_is_two_pieces_of_work_and_each_completion_ends_one() {
    let mut log = ServiceLog::new(100);
    log.record(ms(0), ServiceId::Payment, started(1, 1000));
    log.record(ms(5), ServiceId::Payment, started(1, 1005));
    log.record(ms(1000), ServiceId::Payment, done(1));
    assert_eq!(pending(&log, ServiceId::Payment).len(), 1);
    log.record(ms(1005), ServiceId::Payment, done(1));
    log.record(ms(1006), ServiceId::Payment, done(1));
    assert!(pending(&log, ServiceId::Payment).is_empty());
}

#[test]
fn pending_work_is_bounded_and_forgets_the_oldest() {
    let mut log = ServiceLog::new(10_000);
    for n in 0..WORK_LIMIT as u128 + 2 {
        log.record(ms(n as u64), ServiceId::Inventory, started(n, 800));
    }
    let status = log.status_at(ServiceId::Inventory, None);
    assert_eq!(status.work.pending.len(), WORK_LIMIT);
    assert_eq!(
        status.work.pending.front().map(|w| w.order_id),
        Some(order(2))
    );
}

#[test]
fn the_last_outcome_follows_the_events_and_a_failure_after_completion_wins() {
    let mut log = ServiceLog::new(100);
    let failed = |reason: &str| ServiceEvent::Outcome(LastOutcome::Failed(reason.into()));
    let last = |log: &ServiceLog| log.status_at(ServiceId::Payment, None).work.last;
    log.record(ms(1), ServiceId::Payment, failed("payload is not JSON"));
    assert_eq!(
        last(&log),
        LastOutcome::Failed("payload is not JSON".into())
    );
    log.record(
        ms(2),
        ServiceId::Payment,
        ServiceEvent::Outcome(LastOutcome::Done),
    );
    assert_eq!(last(&log), LastOutcome::Done);
    // The runtime reports the end of the work before publishing its result.
    log.record(ms(3), ServiceId::Payment, started(1, 1000));
    log.record(ms(1000), ServiceId::Payment, done(1));
    log.record(ms(1000), ServiceId::Payment, failed("not connected"));
    assert_eq!(last(&log), LastOutcome::Failed("not connected".into()));
}

#[test]
fn a_restart_forgets_unfinished_work_whose_timers_are_gone() {
    let mut log = ServiceLog::new(100);
    log.record(ms(0), ServiceId::Payment, up());
    log.record(ms(1), ServiceId::Payment, started(1, 1000));
    log.record(
        ms(2),
        ServiceId::Payment,
        ServiceEvent::Restarted {
            url: "ws://127.0.0.1:19001".into(),
        },
    );
    let status = log.status_at(ServiceId::Payment, None);
    assert!(status.work.pending.is_empty());
    assert_eq!(status.link, Link::starting("ws://127.0.0.1:19001"));
}

#[test]
fn events_that_fall_off_the_log_still_count() {
    let mut log = ServiceLog::new(3);
    log.record(ms(0), ServiceId::Order, up());
    for n in 0..5 {
        log.record(ms(1 + n), ServiceId::Payment, started(n.into(), 900));
    }
    assert_eq!(log.len(), 3);
    assert!(
        log.status_at(ServiceId::Order, None).link.is_connected(),
        "the link came up before the oldest event kept"
    );
    assert_eq!(pending(&log, ServiceId::Payment).len(), 5);
    log.clear();
    assert!(log.is_empty());
    assert_eq!(
        pending(&log, ServiceId::Payment).len(),
        5,
        "cleared, not undone"
    );
    assert!(log.status_at(ServiceId::Order, None).link.is_connected());
}

#[test]
fn a_recording_tells_links_from_connack_and_work_from_the_order_and_its_result() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    script.place_order(order(1), QoS::AtLeastOnce);
    let history = &script.history;
    let log = ServiceLog::inferred(history, crate::services::SagaStyle::Parallel, 1000);
    // Everything shown: connected, and every service done (QueryService had nothing to do:
    // the seed's script has no event store).
    for (service, status) in log.statuses_at(None) {
        assert!(status.link.is_connected(), "{service}");
        assert!(status.work.pending.is_empty(), "{service}");
        if service != crate::services::ServiceId::Query {
            assert_eq!(status.work.last, LastOutcome::Done, "{service}");
        }
    }
    // Shown up to the delivery of orders/created to PaymentService: it is working, due when
    // the recording shows its payments/processed going out.
    let delivered = history
        .iter()
        .find(|p| {
            p.participant == ServiceId::Payment
                && p.kind == PacketKind::Publish
                && p.direction == Direction::Incoming
        })
        .unwrap();
    let result = history
        .iter()
        .find(|p| p.topic.as_deref() == Some(topics::PAYMENTS_PROCESSED))
        .unwrap();
    let cut = Shown {
        below: delivered.seq + 1,
        until: delivered.at,
    };
    let payment = log.status_at(ServiceId::Payment, Some(cut.until));
    assert!(payment.link.is_connected());
    let work: Vec<_> = payment
        .work
        .pending
        .iter()
        .map(|w| (w.order_id, w.due))
        .collect();
    assert_eq!(work, [(order(1), result.at)]);
    // Before any packet: every client still connecting.
    for (_, status) in log.statuses_at(Some(Duration::ZERO)) {
        assert_eq!(status, ServiceStatus::default());
    }
}

#[test]
fn subscriptions_are_asked_then_granted_or_refused_and_forgotten_with_the_link() {
    use broker_bridge::packet::SubscribeReturnCode;
    use broker_bridge::ReasonCode;
    let mut log = ServiceLog::new(100);
    let answers = |log: &ServiceLog| {
        log.status_at(ServiceId::Notification, None)
            .subscriptions(
                ServiceId::Notification,
                crate::services::SagaStyle::Parallel,
            )
            .into_iter()
            // The seed's three: those this test answers.
            .filter(|(filter, _)| topics::SEED.contains(filter))
            .map(|(filter, grant)| format!("{filter} {}", grant.word()))
            .collect::<Vec<_>>()
    };
    log.record(ms(0), ServiceId::Notification, up());
    assert_eq!(
        answers(&log),
        [
            "orders/created asked",
            "payments/processed asked",
            "inventory/reserved asked"
        ]
    );
    log.record(
        ms(5),
        ServiceId::Notification,
        ServiceEvent::Subscribed {
            answers: vec![
                (
                    topics::ORDERS_CREATED.into(),
                    SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                ),
                (
                    topics::PAYMENTS_PROCESSED.into(),
                    SubscribeReturnCode::Failure,
                ),
                (
                    topics::INVENTORY_RESERVED.into(),
                    SubscribeReturnCode::Refused(ReasonCode::NotAuthorized),
                ),
            ],
            protocol: ProtocolVersion::V5,
        },
    );
    let status = log.status_at(ServiceId::Notification, None);
    assert_eq!(
        status.subscriptions(
            ServiceId::Notification,
            crate::services::SagaStyle::Parallel
        )[..3],
        [
            (topics::ORDERS_CREATED, Grant::Granted(QoS::AtLeastOnce)),
            (
                topics::PAYMENTS_PROCESSED,
                Grant::Refused("Unspecified error (0x80)".into())
            ),
            (
                topics::INVENTORY_RESERVED,
                Grant::Refused("Not authorized (0x87)".into())
            ),
        ]
    );
    // The connection ends: the next one asks again.
    log.record(
        ms(9),
        ServiceId::Notification,
        ServiceEvent::Link(Link::starting("ws://localhost:9001")),
    );
    assert!(answers(&log).iter().all(|a| a.ends_with(" asked")));
}

#[test]
fn a_recording_tells_the_broker_s_answers_from_its_subacks() {
    use broker_bridge::packet::{SubAck, Subscribe, SubscribeReturnCode};
    use broker_bridge::{Packet, Properties, SubscriptionOptions};
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    let granted = |log: &ServiceLog| {
        // The seed's three: those the scripted clients subscribe to.
        let mut answers = log.status_at(ServiceId::Notification, None).subscriptions(
            ServiceId::Notification,
            crate::services::SagaStyle::Parallel,
        );
        answers.retain(|(filter, _)| topics::SEED.contains(filter));
        answers
    };
    let log = ServiceLog::inferred(&script.history, crate::services::SagaStyle::Parallel, 1000);
    assert!(granted(&log)
        .iter()
        .all(|(_, g)| *g == Grant::Granted(QoS::ExactlyOnce)));
    // Subscribed again to payments/processed, and refused; a SUBACK nobody asked for is ignored.
    let again = Subscribe {
        packet_id: 2,
        filters: vec![(
            topics::PAYMENTS_PROCESSED.into(),
            SubscriptionOptions::new(QoS::AtLeastOnce),
        )],
        properties: Properties::new(),
    };
    script.send(
        ServiceId::Notification,
        Direction::Outgoing,
        Packet::Subscribe(again),
    );
    let refusal = SubAck::new(2, vec![SubscribeReturnCode::Failure]);
    script.send(
        ServiceId::Notification,
        Direction::Incoming,
        Packet::SubAck(refusal),
    );
    let stray = SubAck::new(9, vec![SubscribeReturnCode::Granted(QoS::AtMostOnce)]);
    script.send(
        ServiceId::Notification,
        Direction::Incoming,
        Packet::SubAck(stray),
    );
    let log = ServiceLog::inferred(&script.history, crate::services::SagaStyle::Parallel, 1000);
    assert_eq!(
        granted(&log),
        [
            (topics::ORDERS_CREATED, Grant::Granted(QoS::ExactlyOnce)),
            // A 3.1.1 script: its SUBACK's 0x80 is "Failure" (41-AJ F6).
            (
                topics::PAYMENTS_PROCESSED,
                Grant::Refused("Failure (0x80)".into())
            ),
            (topics::INVENTORY_RESERVED, Grant::Granted(QoS::ExactlyOnce)),
        ]
    );
}

#[test]
fn a_recording_starts_work_only_for_the_messages_that_start_it() {
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    script.place_order(order(1), QoS::AtMostOnce);
    // The outcome reaches PaymentService after its work: it is not more work.
    let confirmed = broker_bridge::packet::Publish::new(
        topics::ORDERS_CONFIRMED,
        format!(
            r#"{{"orderId":"{}","confirmedAt":"2024-01-15T10:30:01.000Z"}}"#,
            order(1)
        )
        .into_bytes(),
        QoS::AtMostOnce,
    );
    script.send(
        ServiceId::Payment,
        Direction::Incoming,
        broker_bridge::Packet::Publish(confirmed),
    );
    for style in crate::services::SagaStyle::ALL {
        let log = ServiceLog::inferred(&script.history, style, 1000);
        let payment = log.status_at(ServiceId::Payment, None);
        assert!(
            payment.work.pending.is_empty(),
            "{style}: {:?}",
            payment.work
        );
    }
    // Under orchestration, orders/created starts no work for either: commands do.
    let log = ServiceLog::inferred(
        &script.history,
        crate::services::SagaStyle::Orchestration,
        1000,
    );
    let cut = script
        .history
        .iter()
        .find(|p| p.participant == ServiceId::Inventory && p.kind == PacketKind::Publish)
        .unwrap()
        .at;
    assert!(log
        .status_at(ServiceId::Inventory, Some(cut))
        .work
        .pending
        .is_empty());
    let parallel =
        ServiceLog::inferred(&script.history, crate::services::SagaStyle::Parallel, 1000);
    assert_eq!(
        parallel
            .status_at(ServiceId::Inventory, Some(cut))
            .work
            .pending
            .len(),
        1
    );
}

#[test]
fn a_shared_subscription_answers_for_its_filter() {
    use broker_bridge::packet::SubscribeReturnCode;
    use broker_bridge::ReasonCode;
    let mut log = ServiceLog::new(100);
    log.record(ms(0), ServiceId::Payment, up());
    log.record(
        ms(5),
        ServiceId::Payment,
        ServiceEvent::Subscribed {
            answers: vec![
                (
                    "$share/eda-t-payment/orders/created".into(),
                    SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                ),
                (
                    "$share/eda-t-payment/orders/cancelled".into(),
                    SubscribeReturnCode::Refused(ReasonCode::SharedSubscriptionsNotSupported),
                ),
            ],
            protocol: ProtocolVersion::V5,
        },
    );
    let status = log.status_at(ServiceId::Payment, None);
    let grants = status.subscriptions(ServiceId::Payment, crate::services::SagaStyle::Parallel);
    assert_eq!(
        grants,
        [
            (topics::ORDERS_CREATED, Grant::Granted(QoS::AtLeastOnce)),
            (topics::ORDERS_CONFIRMED, Grant::Asked),
            (
                topics::ORDERS_CANCELLED,
                Grant::Refused("Shared Subscriptions not supported (0x9E)".into())
            ),
        ]
    );
}

/// NotificationService's answers for the seed's three filters, as `filter word`.
fn seed_answers(log: &ServiceLog) -> Vec<String> {
    log.status_at(ServiceId::Notification, None)
        .subscriptions(
            ServiceId::Notification,
            crate::services::SagaStyle::Parallel,
        )
        .into_iter()
        .filter(|(filter, _)| topics::SEED.contains(filter))
        .map(|(filter, grant)| format!("{filter} {}", grant.word()))
        .collect()
}

fn all_granted() -> ServiceEvent {
    use broker_bridge::packet::SubscribeReturnCode;
    ServiceEvent::Subscribed {
        answers: topics::SEED
            .iter()
            .map(|f| {
                (
                    (*f).to_owned(),
                    SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                )
            })
            .collect(),
        protocol: ProtocolVersion::V5,
    }
}

fn lost() -> ServiceEvent {
    ServiceEvent::Link(Link::Disconnected {
        url: "ws://localhost:9001".into(),
        reason: broker_bridge::ConnectionError::Stopped("the broker went away".into()),
        retry_in: ms(500),
        attempt: 1,
    })
}

// A newcomer's break-test: Mosquitto restarted with the sessions it persisted; the services
// came back with Session Present 1, sent no SUBSCRIBE, so no SUBACK came, and the header said
// "(asked)" for good.
#[test]
fn a_session_the_broker_kept_keeps_its_subscriptions_without_a_suback() {
    let notification = ServiceId::Notification;
    let mut log = ServiceLog::new(100);
    log.record(
        ms(0),
        notification,
        ServiceEvent::Session { present: false },
    );
    log.record(ms(0), notification, up());
    log.record(ms(5), notification, all_granted());
    // Two failed tries while the broker restarts, then a connection to the session it kept.
    log.record(ms(100), notification, lost());
    log.record(
        ms(200),
        notification,
        ServiceEvent::Link(Link::starting("ws://localhost:9001")),
    );
    log.record(ms(300), notification, lost());
    assert!(seed_answers(&log).iter().all(|a| a.ends_with(" asked")));
    log.record(
        ms(900),
        notification,
        ServiceEvent::Session { present: true },
    );
    log.record(ms(900), notification, up());
    let status = log.status_at(notification, None);
    let kept = status.subscriptions(notification, crate::services::SagaStyle::Parallel);
    assert_eq!(
        kept[0],
        (topics::ORDERS_CREATED, Grant::Kept(QoS::AtLeastOnce))
    );
    assert!(
        seed_answers(&log).iter().all(|a| a.ends_with(" kept")),
        "{:?}",
        seed_answers(&log)
    );
    // The client asks again all the same (the broker may have restored an older save): the
    // SUBACK granting a kept subscription leaves it kept.
    log.record(ms(905), notification, all_granted());
    assert!(
        seed_answers(&log).iter().all(|a| a.ends_with(" kept")),
        "{:?}",
        seed_answers(&log)
    );
    // Kept through a second restart too.
    log.record(ms(1000), notification, lost());
    log.record(
        ms(1100),
        notification,
        ServiceEvent::Session { present: true },
    );
    log.record(ms(1100), notification, up());
    assert!(seed_answers(&log).iter().all(|a| a.ends_with(" kept")));
    // The broker lost the session: asked again until the new SUBACK.
    log.record(ms(2000), notification, lost());
    log.record(
        ms(2100),
        notification,
        ServiceEvent::Session { present: false },
    );
    log.record(ms(2100), notification, up());
    assert!(seed_answers(&log).iter().all(|a| a.ends_with(" asked")));
    log.record(ms(2105), notification, all_granted());
    assert!(seed_answers(&log).iter().all(|a| a.ends_with(" granted")));
    // A session the broker kept does not bring back what the lost one held.
    log.record(ms(3000), notification, lost());
    log.record(
        ms(3050),
        notification,
        ServiceEvent::Session { present: false },
    );
    log.record(ms(3050), notification, lost());
    log.record(
        ms(3100),
        notification,
        ServiceEvent::Session { present: true },
    );
    log.record(ms(3100), notification, up());
    assert!(seed_answers(&log).iter().all(|a| a.ends_with(" asked")));
}

#[test]
fn a_recording_keeps_subscriptions_across_a_connack_with_session_present() {
    use broker_bridge::packet::{ConnAck, Connect};
    use broker_bridge::{Packet, ReasonCode};
    let mut script = Script::new(ProtocolVersion::V311);
    script.connect_all();
    let reconnect = |script: &mut Script, clean: bool, present: bool| {
        let mut connect = Connect::new(ProtocolVersion::V311, "eda-test-notification", 30);
        connect.clean_session = clean;
        script.send(
            ServiceId::Notification,
            Direction::Outgoing,
            Packet::Connect(connect),
        );
        script.send(
            ServiceId::Notification,
            Direction::Incoming,
            Packet::ConnAck(ConnAck::new(present, ReasonCode::Success)),
        );
    };
    reconnect(&mut script, false, true);
    let log = ServiceLog::inferred(&script.history, crate::services::SagaStyle::Parallel, 1000);
    assert!(
        seed_answers(&log).iter().all(|a| a.ends_with(" kept")),
        "{:?}",
        seed_answers(&log)
    );
    // A broker claiming a session present to a clean CONNECT is not believed.
    reconnect(&mut script, true, true);
    let log = ServiceLog::inferred(&script.history, crate::services::SagaStyle::Parallel, 1000);
    assert!(seed_answers(&log).iter().all(|a| a.ends_with(" asked")));
}
