use super::*;
use crate::trace::script::order;
use crate::trace::service_status::{PendingWork, Work};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn status(link: &Link, work: Work) -> ServiceStatus {
    ServiceStatus {
        link: link.clone(),
        work,
        ..ServiceStatus::default()
    }
}

fn work(pending: &[(u128, u64)], last: LastOutcome) -> Work {
    Work {
        pending: pending
            .iter()
            .map(|&(n, due)| PendingWork {
                order_id: order(n),
                due: ms(due),
            })
            .collect(),
        last,
    }
}

fn connected() -> Link {
    Link::Connected {
        url: "ws://localhost:9001".into(),
    }
}

fn trying() -> Link {
    Link::Connecting {
        url: "ws://localhost:9001".into(),
        attempt: 1,
        last_failure: None,
    }
}

fn down() -> Link {
    Link::Disconnected {
        url: "ws://localhost:9001".into(),
        reason: broker_bridge::ConnectionError::TransportFailed("refused".into()),
        retry_in: ms(500),
        attempt: 1,
    }
}

#[test]
fn a_service_works_from_the_start_of_its_work_counting_down_to_the_first_due() {
    let link = connected();
    let idle = service_state(ServiceId::Payment, &status(&link, Work::default()), ms(0));
    assert_eq!(
        (idle.link.clone(), idle.activity.clone()),
        (Some(connected()), Activity::Idle)
    );
    assert_eq!(
        (
            idle.look(),
            idle.link_text().unwrap(),
            idle.activity_text().unwrap()
        ),
        ("idle", "● connected".to_owned(), "– idle".to_owned())
    );

    let one = service_state(
        ServiceId::Payment,
        &status(&link, work(&[(1, 1500)], LastOutcome::Idle)),
        ms(1000),
    );
    assert_eq!(
        one.activity,
        Activity::Working {
            orders: 1,
            due_in: ms(500)
        }
    );
    assert_eq!(
        (one.look(), one.activity_text().unwrap()),
        ("working", "◔ working 0.5 s".to_owned())
    );
    assert_eq!(
        one.describe(),
        "PaymentService, connected: working on 1 order, next done in 0.5 s"
    );

    let two = service_state(
        ServiceId::Payment,
        &status(&link, work(&[(1, 1500), (2, 1250)], LastOutcome::Done)),
        ms(1000),
    );
    assert_eq!(
        two.activity,
        Activity::Working {
            orders: 2,
            due_in: ms(250)
        }
    );
    assert_eq!(two.activity_text().unwrap(), "◔ 2 orders, next 0.3 s");

    // A timer that fires late counts down to zero and stays there.
    let late = service_state(
        ServiceId::Payment,
        &status(&link, work(&[(1, 1500)], LastOutcome::Idle)),
        ms(1600),
    );
    assert_eq!(
        late.activity,
        Activity::Working {
            orders: 1,
            due_in: ms(0)
        }
    );
    assert_eq!(late.activity_text().unwrap(), "◔ working 0.0 s");
}

#[test]
fn then_done_or_failed_until_the_next_work() {
    let link = connected();
    let done = service_state(
        ServiceId::Inventory,
        &status(&link, work(&[], LastOutcome::Done)),
        ms(5),
    );
    assert_eq!(
        (done.look(), done.activity_text().unwrap()),
        ("done", "✓ done".to_owned())
    );
    let failed = service_state(
        ServiceId::Notification,
        &status(
            &link,
            work(&[], LastOutcome::Failed("payload is not JSON".into())),
        ),
        ms(5),
    );
    assert_eq!(
        failed.activity,
        Activity::Failed {
            reason: "payload is not JSON".into()
        }
    );
    assert_eq!(
        (failed.look(), failed.activity_text().unwrap()),
        ("failed", "⚠ failed".to_owned())
    );
    assert_eq!(
        failed.describe(),
        "NotificationService, connected: failed: payload is not JSON"
    );
    // Work in hand shows over the last outcome.
    let again = service_state(
        ServiceId::Inventory,
        &status(&link, work(&[(2, 900)], LastOutcome::Failed("x".into()))),
        ms(100),
    );
    assert_eq!(again.activity.word(), "working");
}

#[test]
fn a_link_that_is_not_up_overrides_the_look_and_the_work_goes_on_underneath() {
    let working = work(&[(1, 1000)], LastOutcome::Idle);
    let state = service_state(ServiceId::Payment, &status(&down(), working), ms(400));
    assert_eq!(state.link, Some(down()));
    assert_eq!(state.look(), "disconnected");
    assert_eq!(state.link_text().unwrap(), "✕ disconnected");
    assert_eq!(state.activity_text().unwrap(), "◔ working 0.6 s");
    let connecting = trying();
    let state = service_state(
        ServiceId::Order,
        &status(&connecting, work(&[], LastOutcome::Done)),
        ms(0),
    );
    assert_eq!(
        (state.look(), state.link_text().unwrap()),
        ("connecting", "◌ connecting".to_owned())
    );
}

#[test]
fn the_broker_is_reachable_while_any_service_reaches_it() {
    let table = [
        (
            vec![down(), connected(), down()],
            "connected",
            "● reachable",
        ),
        (vec![down(), down()], "disconnected", "✕ unreachable"),
        (vec![down(), trying()], "connecting", "◌ connecting"),
        (vec![], "connecting", "◌ connecting"),
    ];
    for (links, expected, text) in table {
        let state = broker_state(&links);
        assert_eq!(
            state.link.as_ref().map(Link::word),
            Some(expected),
            "{links:?}"
        );
        assert_eq!(state.link_text().as_deref(), Some(text));
        assert_eq!(state.activity_text(), None);
    }
    assert_eq!(
        broker_state(&[down()]).describe(),
        "MQTT broker: no service reaches it"
    );
}

#[test]
fn the_order_form_is_ready_then_placed_or_refused() {
    let ready = client_state(None, None);
    assert_eq!(
        (
            ready.link.clone(),
            ready.look(),
            ready.activity_text().unwrap()
        ),
        (None, "idle", "– ready".to_owned())
    );
    assert_eq!(ready.describe(), "Order form: ready");
    let placed = client_state(Some(order(1)), None);
    assert_eq!(
        (placed.look(), placed.activity_text().unwrap()),
        ("done", "✓ order placed".to_owned())
    );
    let refused = client_state(Some(order(1)), Some("OrderService is not connected"));
    assert_eq!(
        (refused.look(), refused.activity_text().unwrap()),
        ("failed", "⚠ refused".to_owned())
    );
    assert_eq!(
        refused.describe(),
        "Order form: refused: OrderService is not connected"
    );
    assert_eq!(refused.link_text(), None);
}

#[test]
fn seconds_are_tenths_rounded_up() {
    let table = [
        (0, "0.0 s"),
        (1, "0.1 s"),
        (100, "0.1 s"),
        (101, "0.2 s"),
        (950, "1.0 s"),
        (12_340, "12.4 s"),
    ];
    for (millis, text) in table {
        assert_eq!(seconds(ms(millis)), text, "{millis} ms");
    }
}

#[test]
fn the_status_monitor_s_box_says_its_name_and_what_it_hears() {
    let monitor = monitor_state();
    assert_eq!(monitor.node, Node::Monitor);
    assert_eq!((monitor.link_text(), monitor.activity_text()), (None, None));
    assert_eq!(monitor.look(), "idle");
    assert_eq!(
        monitor.describe(),
        "Status monitor: the page's own client, subscribed to services/+/status and \
         inventory/stock/+: the services' statuses, their Last Wills and the stock levels"
    );
}
