//! The write side: appending under an expected version, reading back, folding and rewinding,
//! restoring and exporting.

use super::*;
use crate::domain::order::{Order, OrderStatus, Step};

fn cancel(reason: &str) -> StreamEvent {
    OrderEvent::Cancelled {
        reason: reason.into(),
    }
    .into()
}

#[test]
fn appends_number_positions_across_the_store_and_versions_within_each_stream() {
    let mut store = EventStore::new();
    assert_eq!(
        (store.head(), store.version(A), store.is_empty()),
        (0, 0, true)
    );
    let first = store
        .append(
            A,
            ExpectedVersion::NoStream,
            vec![created("C1", 1, 1.0, 1.0)],
            at(0),
        )
        .unwrap();
    let second = store
        .append(
            B,
            ExpectedVersion::NoStream,
            vec![created("C2", 1, 2.0, 2.0)],
            at(5),
        )
        .unwrap();
    let placed: Vec<(u64, Uuid, u64)> = [&first[..], &second[..]]
        .concat()
        .iter()
        .map(|e| (e.position, e.stream, e.version))
        .collect();
    assert_eq!(placed, [(1, A, 1), (2, B, 1)]);
    let more = store
        .append(
            A,
            ExpectedVersion::Exactly(1),
            vec![
                OrderEvent::InventoryFailed {
                    reason: "out of stock".into(),
                }
                .into(),
                cancel("out of stock"),
            ],
            at(9),
        )
        .unwrap();
    let placed: Vec<(u64, u64, u32, Timestamp)> = more
        .iter()
        .map(|e| (e.position, e.version, e.schema, e.recorded_at))
        .collect();
    assert_eq!(placed, [(3, 2, 3, at(9)), (4, 3, 3, at(9))]);
    assert_eq!(
        (store.head(), store.version(A), store.version(B)),
        (4, 3, 1)
    );
    assert_eq!(store.streams(), [A, B]);
    let a: Vec<u64> = store.stream(A).map(|e| e.position).collect();
    assert_eq!(a, [1, 3, 4]);
    assert_eq!(store.stream(C).len(), 0);
}

#[test]
fn a_stale_expected_version_is_a_conflict_and_appends_nothing() {
    let mut store = shop();
    let before = store.clone();
    let cases = [
        (
            A,
            ExpectedVersion::Exactly(3),
            "concurrency error: order-00000000-0000-0000-0000-00000000000a is at version 4, not 3",
        ),
        (
            A,
            ExpectedVersion::NoStream,
            "concurrency error: order-00000000-0000-0000-0000-00000000000a is at version 4, not new (no stream)",
        ),
        (
            Uuid::from_u128(0x99),
            ExpectedVersion::Exactly(2),
            "concurrency error: order-00000000-0000-0000-0000-000000000099 is at version 0, not 2",
        ),
    ];
    for (stream, expected, message) in cases {
        let error = store
            .append(stream, expected, vec![cancel("late")], at(200_000))
            .unwrap_err();
        assert_eq!(error.to_string(), message);
        assert_eq!(
            error,
            AppendError::Conflict {
                stream,
                expected,
                actual: store.version(stream)
            }
        );
        // Even an empty append checks the version.
        assert!(store.append(stream, expected, vec![], at(0)).is_err());
    }
    assert_eq!(store, before, "nothing appended");
    assert_eq!(
        store.append(A, ExpectedVersion::Exactly(4), vec![], at(0)),
        Ok(vec![])
    );
    assert_eq!(ExpectedVersion::Exactly(0).version(), 0);
    let zero = store.append(
        Uuid::from_u128(0x98),
        ExpectedVersion::Exactly(0),
        vec![created("C1", 1, 1.0, 1.0)],
        at(0),
    );
    assert!(zero.is_ok(), "Exactly(0) is no stream");
}

#[test]
fn two_writers_deciding_from_the_same_version_cannot_both_append() {
    let mut store = shop();
    // Both read E at version 2 (reserved) and decide.
    let read = store.fold(E).unwrap();
    let expected = ExpectedVersion::Exactly(store.version(E));
    let mut paying = read.clone();
    let paid = paying
        .handle(&OrderCommand::ConfirmPayment {
            payment_id: Uuid::from_u128(0x20E),
            amount: 0.20,
        })
        .unwrap();
    let mut timing_out = read.clone();
    let timed_out = timing_out
        .handle(&OrderCommand::Cancel {
            reason: "payment timed out".into(),
        })
        .unwrap();
    let into = |events: Vec<OrderEvent>| events.into_iter().map(StreamEvent::from).collect();
    store.append(E, expected, into(paid), at(80_000)).unwrap();
    let lost = store
        .append(E, expected, into(timed_out), at(80_001))
        .unwrap_err();
    assert!(
        matches!(lost, AppendError::Conflict { actual: 4, .. }),
        "{lost}"
    );
    // The loser reads again and decides again: a completed order refuses the cancellation, so
    // the order is not both completed and cancelled.
    let again = store.fold(E).unwrap();
    assert_eq!(again.status, OrderStatus::Completed);
    assert!(again
        .decide(&OrderCommand::Cancel {
            reason: "payment timed out".into()
        })
        .is_err());
}

#[test]
fn a_stream_starts_with_its_creation_and_has_only_one() {
    let mut store = EventStore::new();
    let error = store
        .append(A, ExpectedVersion::NoStream, vec![cancel("no")], at(0))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "order-00000000-0000-0000-0000-00000000000a has no events yet: its first must be \
         OrderCreated, not OrderCancelled"
    );
    let twice = vec![created("C1", 1, 1.0, 1.0), created("C1", 1, 1.0, 1.0)];
    let error = store
        .append(A, ExpectedVersion::NoStream, twice, at(0))
        .unwrap_err();
    assert_eq!(
        error,
        AppendError::CreatedAgain {
            stream: A,
            version: 2
        }
    );
    assert_eq!(
        error.to_string(),
        "order-00000000-0000-0000-0000-00000000000a is already created: OrderCreated cannot \
         be its version 2"
    );
    assert!(
        store.is_empty(),
        "a refused batch appends none of its events"
    );
}

#[test]
fn read_all_reads_positions_from_and_up_to_inclusive() {
    let store = shop();
    let positions =
        |events: &[StoredEvent]| -> Vec<u64> { events.iter().map(|e| e.position).collect() };
    assert_eq!(
        positions(store.read_all(0, None)),
        (1..=26).collect::<Vec<_>>()
    );
    assert_eq!(positions(store.read_all(1, None)).len(), 26);
    assert_eq!(positions(store.read_all(24, None)), [24, 25, 26]);
    assert_eq!(positions(store.read_all(3, Some(5))), [3, 4, 5]);
    assert_eq!(positions(store.read_all(7, Some(7))), [7]);
    assert_eq!(positions(store.read_all(25, Some(1_000))), [25, 26]);
    assert!(store.read_all(27, None).is_empty());
    assert!(store.read_all(5, Some(4)).is_empty());
    assert!(store.read_all(0, Some(0)).is_empty());
    assert!(store.read_all(u64::MAX, Some(u64::MAX)).is_empty());
}

#[test]
fn the_fold_is_the_aggregate_that_decided_and_rewinding_shows_each_step() {
    let store = shop();
    // D as OrderService's aggregate holds it after the same commands.
    let mut live = Order::new(D, "C789", 100.01);
    for command in [
        OrderCommand::ConfirmInventory {
            reservation_id: Uuid::from_u128(0x10D),
        },
        OrderCommand::ConfirmPayment {
            payment_id: Uuid::from_u128(0x20D),
            amount: 100.01,
        },
        OrderCommand::RecordRefund {
            payment_id: Uuid::from_u128(0x20D),
            amount: 30.00,
        },
    ] {
        live.handle(&command).unwrap();
    }
    let folded = store.fold(D).unwrap();
    assert_eq!(folded, live);
    assert_eq!(
        folded.version + 1,
        store.version(D),
        "the creation is version 1"
    );
    let steps: Vec<(OrderStatus, Step)> = (1..=5)
        .map(|v| {
            let order = store.fold_to(D, v).unwrap();
            (order.status, order.payment)
        })
        .collect();
    let charge = Uuid::from_u128(0x20D);
    assert_eq!(
        steps,
        [
            (OrderStatus::Pending, Step::Awaiting),
            (OrderStatus::InventoryConfirmed, Step::Awaiting),
            (OrderStatus::InventoryConfirmed, Step::Confirmed(charge)),
            (OrderStatus::Completed, Step::Confirmed(charge)),
            (OrderStatus::Completed, Step::Compensated(charge)),
        ]
    );
    assert_eq!(store.fold_to(D, 99), store.fold(D));
    assert_eq!(store.fold_to(D, 0), None, "before the order existed");
    assert_eq!(store.fold(Uuid::from_u128(0x99)), None);
    let cancelled = store.fold(C).unwrap();
    assert_eq!(
        cancelled.cancel_reason.as_deref(),
        Some("payment timed out")
    );
}

#[test]
fn load_restores_a_store_from_events_in_any_order_and_refuses_a_broken_one() {
    let store = shop();
    let mut events = store.read_all(0, None).to_vec();
    events.reverse();
    assert_eq!(EventStore::load(events.clone()).unwrap(), store);
    assert_eq!(EventStore::load(Vec::new()).unwrap(), EventStore::new());

    let all = store.read_all(0, None).to_vec();
    let without = |position: u64| -> Vec<StoredEvent> {
        all.iter()
            .filter(|e| e.position != position)
            .cloned()
            .collect()
    };
    let error = EventStore::load(without(5)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the store's positions are not contiguous: position 6 where 5 was due"
    );
    let mut doubled = all.clone();
    doubled.push(all[3].clone());
    assert_eq!(
        EventStore::load(doubled),
        Err(StoreError::PositionGap {
            expected: 5,
            found: 4
        })
    );
    // Position 3 of A's stream given version 4: version 3 is missing.
    let mut skipped = all.clone();
    skipped[2].version = 4;
    assert_eq!(
        EventStore::load(skipped).unwrap_err().to_string(),
        "order-00000000-0000-0000-0000-00000000000a is not contiguous: version 4 at position 3, \
         where 3 was due"
    );
    let mut first_not_created = all.clone();
    first_not_created[0].event = cancel("no");
    assert_eq!(
        EventStore::load(first_not_created).unwrap_err().to_string(),
        "order-00000000-0000-0000-0000-00000000000a at version 1: a stream's first event must \
         be OrderCreated, not OrderCancelled"
    );
    let mut created_again = all;
    created_again[1].event = created("C1", 1, 1.0, 1.0);
    assert_eq!(
        EventStore::load(created_again).unwrap_err().to_string(),
        "order-00000000-0000-0000-0000-00000000000a at version 2: OrderCreated may only be a \
         stream's first event"
    );
}

/// A newcomer's break-test (36-Q F2): one bad event threw the whole database away on reload.
/// The events before the first that does not fit make the store; that one is named.
#[test]
fn load_prefix_keeps_the_events_before_the_first_that_does_not_fit() {
    let store = shop();
    let all = store.read_all(0, None).to_vec();
    let (whole, none) = EventStore::load_prefix(all.clone());
    assert_eq!((whole, none), (store, None));
    let mut skipped = all.clone();
    skipped[6].version += 1;
    let (prefix, refused) = EventStore::load_prefix(skipped);
    assert_eq!(prefix.head(), 6, "positions 1 to 6");
    assert_eq!(prefix.read_all(0, None), &all[..6]);
    let (position, error) = refused.unwrap();
    assert_eq!(position, 7);
    assert!(
        matches!(error, StoreError::VersionGap { position: 7, .. }),
        "{error}"
    );
}

#[test]
fn json_lines_round_trip_the_whole_store() {
    let store = shop();
    let text = store.to_json_lines();
    assert_eq!(text.lines().count(), 26);
    assert!(text.ends_with("}\n"));
    assert!(text.starts_with(
        "{\"position\":1,\"stream\":\"00000000-0000-0000-0000-00000000000a\",\"version\":1,\
         \"type\":\"OrderCreated\",\"schema\":3,\"recordedAt\":\"2026-12-01T10:30:00.000Z\",\
         \"data\":{\"customerId\":\"C123\","
    ));
    assert_eq!(EventStore::from_json_lines(&text).unwrap(), store);
    // Windows line ends and blank lines, as an editor may leave them.
    let edited = format!("\r\n{}\r\n\r\n", text.replace('\n', "\r\n"));
    assert_eq!(EventStore::from_json_lines(&edited).unwrap(), store);
    assert_eq!(EventStore::new().to_json_lines(), "");
    assert_eq!(EventStore::from_json_lines("").unwrap(), EventStore::new());
}

#[test]
fn a_damaged_line_is_named_by_its_number() {
    let text = shop().to_json_lines();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"position\":3,";
    let error = EventStore::from_json_lines(&lines.join("\n")).unwrap_err();
    assert!(
        matches!(error, StoreError::Line { line: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("line 3: stored event is not JSON: the text ends inside"),
        "{error}"
    );
    // A line dropped: each line reads, the store does not.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(9);
    let error = EventStore::from_json_lines(&lines.join("\n")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the store's positions are not contiguous: position 11 where 10 was due"
    );
}
