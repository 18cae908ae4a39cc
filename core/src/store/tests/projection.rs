//! The read side: the projection is idempotent and waits for gaps, answers queries, measures
//! its lag, and a rebuild from the store gives the same read model, at any position.

use proptest::prelude::*;

use super::*;
use crate::domain::money::{Cents, CentsSum};
use crate::domain::order::OrderStatus;

fn live(events: &[StoredEvent]) -> ReadModel {
    let mut model = ReadModel::new();
    for event in events {
        model.project(event);
    }
    model
}

/// The article the refusals put before an event type: `an OrderCancelled`, `a PaymentConfirmed`.
fn an(type_name: &str) -> &'static str {
    if type_name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

fn rebuilt(store: &EventStore, up_to: Option<u64>) -> ReadModel {
    let mut rebuild = Rebuild::new(up_to);
    while !rebuild.step(store, 4).is_finished() {}
    rebuild.finish()
}

#[test]
fn the_read_model_answers_what_the_shop_did() {
    let store = shop();
    let model = live(store.read_all(0, None));
    let ids = |views: Vec<&OrderView>| -> Vec<Uuid> { views.iter().map(|v| v.order_id).collect() };
    assert_eq!(ids(model.by_customer("C123")), [A, C, E]);
    assert!(model.by_customer("c123").is_empty(), "compared exactly");
    assert_eq!(
        ids(model.by_customer_typed(" C123 ")),
        [A, C, E],
        "a space typed by mistake"
    );
    assert!(model.by_customer_typed("").is_empty());
    assert_eq!(ids(model.by_status(OrderStatus::Completed)), [A, D]);
    assert_eq!(ids(model.by_status(OrderStatus::Cancelled)), [B, C, F, G]);
    assert_eq!(ids(model.by_status(OrderStatus::InventoryConfirmed)), [E]);
    assert_eq!(ids(model.orders().collect()), [A, B, C, D, E, F, G]);
    assert_eq!(
        model.totals(),
        Totals {
            orders: 7,
            completed: 2,
            cancelled: 4,
            pending: 1,
            // A 59.98 + D 100.01 less the 30.00 of its charge refunded; C's refunded late
            // charge never counted.
            revenue: CentsSum::Exact(Cents(12_999)),
        }
    );
    let d = model.get(D).unwrap();
    assert_eq!(
        (d.version, d.created_at, d.updated_at, d.ended_at),
        (5, at(65_000), at(70_000), Some(at(67_500)))
    );
    let c = model.get(C).unwrap();
    assert_eq!(c.cancel_reason.as_deref(), Some("payment timed out"));
    assert_eq!(c.ended_at, Some(at(55_000)), "the end is the cancellation");
    assert_eq!(model.get(E).unwrap().ended_at, None);
    assert_eq!(
        (model.position(), model.applied(), model.held()),
        (26, 26, 0)
    );
}

#[test]
fn revenue_is_exact_to_the_cent_where_floats_drift() {
    let mut store = EventStore::new();
    for n in 0..10u128 {
        let id = Uuid::from_u128(0x500 + n);
        create(&mut store, id, 0, created("C1", 1, 0.10, 0.10));
        act(
            &mut store,
            id,
            1,
            OrderCommand::ConfirmInventory { reservation_id: id },
        );
        act(
            &mut store,
            id,
            2,
            OrderCommand::ConfirmPayment {
                payment_id: id,
                amount: 0.10,
            },
        );
    }
    let revenue = live(store.read_all(0, None)).totals().revenue;
    assert_eq!(revenue.to_string(), "1.00");
    assert_ne!(
        (0..10).map(|_| 0.10).sum::<f64>(),
        1.0,
        "what f64 would say"
    );
    assert_eq!(Figures::of(store.read_all(0, None)).revenue, revenue);
}

/// Completes `count` orders of the largest amount an event may carry, from id `first` on.
fn complete_largest(store: &mut EventStore, first: u128, count: u128) {
    // The double JSON's `9999999999999.99` reads as: `MAX_EXACT_CENTS`.
    let largest: f64 = "9999999999999.99".parse().unwrap();
    for n in first..first + count {
        let id = Uuid::from_u128(0x9000 + n);
        create(store, id, 0, created("C1", 1, largest, largest));
        act(
            store,
            id,
            1,
            OrderCommand::ConfirmInventory { reservation_id: id },
        );
        act(
            store,
            id,
            2,
            OrderCommand::ConfirmPayment {
                payment_id: id,
                amount: largest,
            },
        );
    }
}

#[test]
fn revenue_past_64_bits_of_cents_says_so_instead_of_sticking_at_the_top() {
    // The break-test showed 184467440737095516.15 (2^64 − 1 cents) as if exact. Each amount is
    // at most 9999999999999.99 now; 18446 of them still sum exactly.
    let mut store = EventStore::new();
    complete_largest(&mut store, 0, 18_446);
    let totals = live(store.read_all(0, None)).totals();
    assert_eq!(totals.completed, 18_446);
    assert_eq!(totals.revenue.to_string(), "184459999999999815.54");
    assert_eq!(Figures::of(store.read_all(0, None)).revenue, totals.revenue);
    // One more passes u64 cents: both say so, with no figure.
    complete_largest(&mut store, 18_446, 1);
    let revenue = live(store.read_all(0, None)).totals().revenue;
    assert_eq!(revenue, CentsSum::TooLarge);
    assert_eq!(
        revenue.to_string(),
        "too large to show exactly (more than 184467440737095516.15)"
    );
    assert_eq!(
        Figures::of(store.read_all(0, None)).revenue,
        CentsSum::TooLarge
    );
}

#[test]
fn a_redelivered_event_is_a_duplicate_and_changes_nothing() {
    let store = shop();
    let events = store.read_all(0, None);
    let mut model = live(events);
    let before = model.clone();
    for event in events {
        assert_eq!(model.project(event), Projected::Duplicate);
    }
    assert_eq!(model, before);
}

#[test]
fn an_event_ahead_of_its_stream_is_held_until_the_gap_fills() {
    let store = shop();
    let b: Vec<StoredEvent> = store.stream(B).cloned().collect();
    let mut model = ReadModel::new();
    assert_eq!(model.project(&b[2]), Projected::Held);
    assert_eq!(model.project(&b[3]), Projected::Held);
    assert_eq!(
        model.project(&b[3]),
        Projected::Duplicate,
        "held twice is held once"
    );
    assert_eq!(model.get(B), None, "not created yet");
    assert_eq!(
        model.project(&b[0]),
        Projected::Applied {
            released: 0,
            refused: Vec::new()
        }
    );
    assert_eq!(model.get(B).unwrap().status, OrderStatus::Pending);
    assert_eq!(model.held(), 2);
    assert_eq!(
        model.project(&b[1]),
        Projected::Applied {
            released: 2,
            refused: Vec::new()
        }
    );
    let view = model.get(B).unwrap();
    assert_eq!((view.status, view.version), (OrderStatus::Cancelled, 4));
    assert_eq!(model.held(), 0);
    assert_eq!(
        model.project(&b[4]),
        Projected::Applied {
            released: 0,
            refused: Vec::new()
        }
    );
}

#[test]
fn an_event_no_store_holds_is_refused_not_applied() {
    let store = shop();
    let mut second = store.stream(A).nth(1).unwrap().clone();
    second.version = 1;
    let mut model = ReadModel::new();
    assert_eq!(
        model.project(&second),
        Projected::Refused("InventoryConfirmed as the first event of a stream".into())
    );
    assert_eq!(model, ReadModel::new());
    let mut again = store.stream(A).next().unwrap().clone();
    model.project(&again);
    again.version = 2;
    again.position = 999;
    assert_eq!(
        model.project(&again),
        Projected::Refused("OrderCreated at version 2 of a created order".into())
    );
    assert_eq!(model.get(A).unwrap().version, 1);
}

/// A newcomer's break-test: a made-up order published from outside at the positions the store
/// would use next was projected; then the store's own events at those positions were projected
/// too, and the panel said "Caught up" with the made-up order's total in the read model.
#[test]
fn a_second_event_at_a_position_projected_before_is_refused() {
    let store = shop();
    let first = store.stream(A).next().unwrap().clone();
    let mut model = ReadModel::new();
    assert_eq!(
        model.project(&first),
        Projected::Applied {
            released: 0,
            refused: Vec::new()
        }
    );
    // Another stream's first event, claiming the position the store gave A's creation.
    let mut stranger = store.stream(B).next().unwrap().clone();
    stranger.position = first.position;
    assert_eq!(
        model.project(&stranger),
        Projected::Refused(format!(
            "OrderCreated refused: position {} was projected before, from another event (version \
             1 of {}), and no store holds two events at one position",
            first.position,
            super::super::stream_name(A)
        ))
    );
    assert_eq!(model.get(B), None, "not projected");
    assert_eq!(
        model.project(&first),
        Projected::Duplicate,
        "the same event again"
    );
}

/// A tester's hand-published event at a version the order already has (or holds), at a
/// position that is not that version's, was a "duplicate ignored" in QueryService's log alone:
/// it is no redelivery but a second event at one version, refused with why.
#[test]
fn a_second_event_at_a_version_projected_or_held_is_refused_not_a_duplicate() {
    let store = shop();
    let a: Vec<StoredEvent> = store.stream(A).cloned().collect();
    let mut model = live(store.read_all(0, None));
    let before = model.clone();
    let mut other = a[1].clone();
    other.position = 9999;
    assert_eq!(
        model.project(&other),
        Projected::Refused(format!(
            "{} refused: version 2 of that order was projected before, from another event \
             (position 9999 is not the one it had)",
            other.event.type_name()
        ))
    );
    assert_eq!(
        model.project(&a[1]),
        Projected::Duplicate,
        "the event itself again"
    );
    assert_eq!(model, before);
    // 41-AJ F2: at its own position and version, but another event: no redelivery either.
    let mut changed = a[1].clone();
    changed.event = a[2].event.clone();
    assert_ne!(changed.event.type_name(), a[1].event.type_name());
    assert_eq!(
        model.project(&changed),
        Projected::Refused(format!(
            "{} refused: version 2 of that order was projected from {} {} at position {}, and no \
             redelivery changes an event",
            changed.event.type_name(),
            an(a[1].event.type_name()),
            a[1].event.type_name(),
            a[1].position
        ))
    );
    assert_eq!(model, before);
    // Of the same type, but saying otherwise (here, recorded at another time): no redelivery
    // either (41-AJ F2's same-type forgery passed as one).
    let mut retold = a[1].clone();
    retold.recorded_at =
        crate::domain::Timestamp::from_unix_millis(a[1].recorded_at.unix_millis() + 1).unwrap();
    assert_eq!(
        model.project(&retold),
        Projected::Refused(format!(
            "{0} refused: version 2 of that order was projected from {2} {0} that said otherwise \
             at position {1}, and no redelivery changes an event",
            a[1].event.type_name(),
            a[1].position,
            an(a[1].event.type_name())
        ))
    );
    assert_eq!(model.project(&a[1]), Projected::Duplicate);
    assert_eq!(model, before);
    // 41-AH F1: at a position applied before, but another event's (B's creation): no
    // redelivery either (it was a "duplicate", ignored without a word, because something had
    // been applied at that position).
    let b_first = store.stream(B).next().unwrap().position;
    let mut elsewhere = a[1].clone();
    elsewhere.position = b_first;
    assert_eq!(
        model.project(&elsewhere),
        Projected::Refused(format!(
            "{} refused: version 2 of that order was projected before, from another event \
             (position {b_first} is not the one it had)",
            elsewhere.event.type_name()
        ))
    );
    assert_eq!(model, before);

    let b: Vec<StoredEvent> = store.stream(B).cloned().collect();
    let mut model = ReadModel::new();
    assert_eq!(model.project(&b[2]), Projected::Held);
    let mut other = b[2].clone();
    other.position += 100;
    assert!(matches!(model.project(&other), Projected::Refused(_)));
    assert_eq!(model.project(&b[2]), Projected::Duplicate);
    assert_eq!(model.held(), 1);
}

/// The live feed as MQTT may deliver it: events redelivered, and one stream's events out of
/// order (B's third before its second).
fn messy_feed(store: &EventStore) -> Vec<StoredEvent> {
    let mut feed: Vec<StoredEvent> = Vec::new();
    for event in store.read_all(0, None) {
        feed.push(event.clone());
        if event.position % 3 == 0 {
            feed.push(event.clone());
        }
    }
    let second = feed
        .iter()
        .position(|e| (e.stream, e.version) == (B, 2))
        .unwrap();
    let third = feed
        .iter()
        .position(|e| (e.stream, e.version) == (B, 3))
        .unwrap();
    feed.swap(second, third);
    feed
}

#[test]
fn a_rebuild_equals_the_live_read_model_fed_duplicates_and_a_gap() {
    let store = shop();
    let mut model = ReadModel::new();
    let outcomes: Vec<Projected> = messy_feed(&store)
        .iter()
        .map(|e| model.project(e))
        .collect();
    assert!(outcomes.contains(&Projected::Held), "the feed had a gap");
    assert!(
        outcomes.contains(&Projected::Duplicate),
        "the feed had redeliveries"
    );
    assert!(outcomes.contains(&Projected::Applied {
        released: 1,
        refused: Vec::new()
    }));
    assert_eq!(rebuilt(&store, None), model);
    assert_eq!(rebuilt(&store, None).totals().revenue, Cents(12_999));
}

#[test]
fn a_rebuild_up_to_a_position_is_the_read_model_of_that_moment() {
    let store = shop();
    for p in 0..=store.head() {
        let then = live(store.read_all(0, Some(p)));
        assert_eq!(rebuilt(&store, Some(p)), then, "position {p}");
        assert_eq!(then.position(), p);
    }
    // Position 8: A completed, B just cancelled, C not yet created.
    let then = rebuilt(&store, Some(8));
    assert_eq!(then.get(B).unwrap().status, OrderStatus::Cancelled);
    assert_eq!(then.get(C), None);
    assert_eq!(then.totals().revenue, Cents(5_998));
    assert_eq!(
        rebuilt(&store, Some(3)).get(A).unwrap().status,
        OrderStatus::InventoryConfirmed
    );
}

#[test]
fn a_rebuild_reports_progress_in_chunks_and_follows_a_growing_store() {
    let mut store = shop();
    let mut rebuild = Rebuild::new(None);
    assert_eq!(rebuild.step(&store, 0), Progress { done: 0, total: 26 });
    let steps: Vec<Progress> = (0..4).map(|_| rebuild.step(&store, 10)).collect();
    let done: Vec<(u64, bool)> = steps.iter().map(|p| (p.done, p.is_finished())).collect();
    assert_eq!(done, [(10, false), (20, false), (26, true), (26, true)]);
    // Appended while rebuilding: the next step takes it in.
    act(
        &mut store,
        E,
        90_000,
        OrderCommand::Cancel {
            reason: "payment timed out".into(),
        },
    );
    assert_eq!(
        rebuild.step(&store, 10),
        Progress {
            done: 27,
            total: 27
        }
    );
    assert_eq!(rebuild.finish(), live(store.read_all(0, None)));
    // A limit past the head stops at the head.
    let mut beyond = Rebuild::new(Some(1_000));
    assert_eq!(
        beyond.step(&store, 1_000),
        Progress {
            done: 27,
            total: 27
        }
    );
}

#[test]
fn lag_counts_the_events_not_projected_and_the_age_of_the_oldest() {
    let store = shop();
    let now = at(200_000);
    let caught_up = live(store.read_all(0, None));
    assert_eq!(Lag::of(&caught_up, &store, now), Lag::default());
    assert_eq!(
        Lag::of(&ReadModel::new(), &EventStore::new(), now),
        Lag::default()
    );
    // Positions 1 to 12 delivered but 10 (C's creation, at 50 s): C's 11 and 12 held.
    let mut model = ReadModel::new();
    for event in store
        .read_all(0, Some(12))
        .iter()
        .filter(|e| e.position != 10)
    {
        model.project(event);
    }
    assert_eq!(
        (model.held(), model.applied(), model.checkpoint()),
        (2, 9, 9)
    );
    let lag = Lag::of(&model, &store, now);
    assert_eq!(
        lag,
        Lag {
            events_behind: 26 - 9,
            ms_behind: 150_000,
            skipped: 0
        }
    );
    // Applied beyond the checkpoint, and not counted behind: D's creation (14). 10 to 13 are
    // now older than an event applied: skipped, not merely late.
    model.project(&store.read_all(14, Some(14))[0]);
    let lag_then = Lag::of(&model, &store, now);
    assert_eq!(lag_then.events_behind, 26 - 10);
    assert_eq!((model.position(), lag_then.skipped), (14, 4));
    assert_eq!(lag.time_behind().as_secs(), 150);
    // A clock behind the store's says 0, not a wrap-around.
    assert_eq!(Lag::of(&model, &store, at(0)).ms_behind, 0);
    let nothing = Lag::of(&ReadModel::new(), &store, now);
    assert_eq!(
        nothing,
        Lag {
            events_behind: 26,
            ms_behind: 200_000,
            skipped: 0
        }
    );
}

#[test]
fn the_projection_delay_setting_reads_whole_milliseconds_up_to_a_minute() {
    use std::time::Duration;
    assert_eq!(DEFAULT_PROJECTION_DELAY, Duration::ZERO);
    for (text, ms) in [("0", 0), ("1500", 1_500), (" 60000 ", 60_000)] {
        assert_eq!(parse_projection_delay(text), Ok(Duration::from_millis(ms)));
    }
    for text in ["", "-1", "60001", "1.5", "slow", "1e3"] {
        let error = parse_projection_delay(text).unwrap_err();
        assert!(
            error.ends_with("is not a projection delay: use whole milliseconds from 0 to 60000"),
            "{error}"
        );
    }
    assert_eq!(
        parse_projection_delay("slow").unwrap_err(),
        "\"slow\" is not a projection delay: use whole milliseconds from 0 to 60000"
    );
    // A cleared field is named as such, not as "".
    for text in ["", "  "] {
        assert_eq!(
            parse_projection_delay(text).unwrap_err(),
            "an empty value is not a projection delay: use whole milliseconds from 0 to 60000"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever order MQTT delivers the events in, and however often, the read model ends as
    /// the rebuild from the store.
    #[test]
    fn any_delivery_order_with_redeliveries_ends_as_the_rebuild(
        feed in Just(shop().read_all(0, None).to_vec())
            .prop_flat_map(|events| {
                let n = events.len();
                (Just(events), proptest::collection::vec(0..n, 0..20))
            })
            .prop_map(|(mut events, again)| {
                let repeats: Vec<StoredEvent> = again.iter().map(|&i| events[i].clone()).collect();
                events.extend(repeats);
                events
            })
            .prop_shuffle()
    ) {
        let store = shop();
        let model = live(&feed);
        prop_assert_eq!(model.held(), 0);
        prop_assert_eq!(Lag::of(&model, &store, at(0)).events_behind, 0);
        prop_assert_eq!(model, rebuilt(&store, None));
    }
}

/// A forged event that ends an order a second time (an `OrderCancelled` after its
/// `OrderCompleted`, at the stream's next version) is refused, as the aggregate refuses it:
/// the read model keeps the order completed and its revenue; the stream's real next version is
/// still taken.
#[test]
fn an_event_that_ends_an_ended_order_again_is_refused() {
    let store = shop();
    let mut model = live(store.read_all(0, None));
    let a = model.get(A).unwrap().clone();
    assert_eq!(a.status, OrderStatus::Completed);
    let revenue = model.totals().revenue;
    let forged = StoredEvent {
        position: store.head() + 1,
        stream: A,
        version: a.version + 1,
        schema: crate::store::CURRENT_SCHEMA,
        recorded_at: at(99_000),
        event: StreamEvent::Order(crate::domain::order::OrderEvent::Cancelled {
            reason: "forged".into(),
        }),
    };
    assert_eq!(
        model.project(&forged),
        Projected::Refused("OrderCancelled refused: the order is already Completed".into())
    );
    assert_eq!(model.get(A).unwrap().status, OrderStatus::Completed);
    assert_eq!(model.totals().revenue, revenue);
    let completed_again = StoredEvent {
        event: StreamEvent::Order(crate::domain::order::OrderEvent::Completed),
        ..forged.clone()
    };
    assert!(matches!(
        model.project(&completed_again),
        Projected::Refused(_)
    ));
    // A compensation after completion (a duplicate charge refunded) is still taken.
    let refund = StoredEvent {
        event: StreamEvent::Order(crate::domain::order::OrderEvent::PaymentRefunded {
            payment_id: Uuid::from_u128(77),
            amount: 1.0,
        }),
        ..forged
    };
    assert!(matches!(model.project(&refund), Projected::Applied { .. }));
}

/// A newcomer's break-test: an `OrderCancelled` at version 7 of an order completed at version 4
/// was held "until version 5 arrives", a promise nothing could keep (version 5 would be refused
/// as the order is already Completed). It is refused at once; a compensation past a gap after
/// the end is still held, since it could follow.
#[test]
fn an_event_that_would_end_an_ended_order_again_past_a_gap_is_refused_not_held() {
    let store = shop();
    let mut model = live(store.read_all(0, None));
    let a = model.get(A).unwrap().clone();
    assert_eq!(a.status, OrderStatus::Completed);
    let forged = StoredEvent {
        position: 10_001,
        stream: A,
        version: a.version + 3,
        schema: crate::store::CURRENT_SCHEMA,
        recorded_at: at(99_000),
        event: StreamEvent::Order(crate::domain::order::OrderEvent::Cancelled {
            reason: "evil".into(),
        }),
    };
    assert_eq!(
        model.project(&forged),
        Projected::Refused(format!(
            "OrderCancelled refused: the order is already Completed at version {}, and an ended \
             order does not end again, whatever versions come between",
            a.version
        ))
    );
    assert_eq!(
        model.held(),
        0,
        "nothing held for a version that cannot come"
    );
    assert_eq!(model.get(A).unwrap().status, OrderStatus::Completed);
    // Completed after a cancellation, past a gap: refused too.
    let b = model.get(B).unwrap().clone();
    assert_eq!(b.status, OrderStatus::Cancelled);
    let completed = StoredEvent {
        stream: B,
        version: b.version + 2,
        event: StreamEvent::Order(crate::domain::order::OrderEvent::Completed),
        ..forged.clone()
    };
    assert!(matches!(model.project(&completed), Projected::Refused(_)));
    // A refund past a gap could still follow: held, as before.
    let refund = StoredEvent {
        event: StreamEvent::Order(crate::domain::order::OrderEvent::PaymentRefunded {
            payment_id: Uuid::from_u128(77),
            amount: 1.0,
        }),
        ..forged
    };
    assert_eq!(model.project(&refund), Projected::Held);
    assert_eq!(model.held(), 1);
}

/// A newcomer's break-test: an order published by hand for customer " C9" could not be asked
/// for, the query box dropping the spaces typed.
#[test]
fn the_query_box_finds_a_customer_id_with_spaces_around_it_as_typed() {
    let mut store = EventStore::new();
    create(&mut store, A, 0, created(" C9", 1, 1.0, 1.0));
    create(&mut store, B, 10, created("C9", 1, 1.0, 1.0));
    let model = live(store.read_all(0, None));
    let ids = |views: Vec<&OrderView>| -> Vec<Uuid> { views.iter().map(|v| v.order_id).collect() };
    assert_eq!(
        ids(model.by_customer_typed(" C9")),
        [A],
        "as typed, spaces included"
    );
    assert_eq!(ids(model.by_customer_typed("C9")), [B]);
    assert_eq!(
        ids(model.by_customer_typed("C9 ")),
        [B],
        "no such id: without the space"
    );
}

/// 41-AH F11: version 2 at position 49 after version 1 at position 50 was projected; a store
/// appends an order's versions at rising positions, so no store holds it. Refused, held or not.
#[test]
fn a_later_version_at_a_lower_position_is_refused() {
    let store = shop();
    let a: Vec<StoredEvent> = store.stream(A).cloned().collect();
    let mut created = a[0].clone();
    created.position = 50;
    let mut second = a[1].clone();
    second.position = 49;
    let mut model = live(&[created.clone()]);
    assert_eq!(
        model.project(&second),
        Projected::Refused(format!(
            "{} refused: version 2 at position 49, not after version 1 of that order at position \
             50, and a store appends an order's versions at rising positions",
            second.event.type_name()
        ))
    );
    assert_eq!(model.get(A).map(|v| v.version), Some(1));
    // Held before its version 1 arrived: not applied when the gap fills either.
    let mut held = ReadModel::new();
    assert_eq!(held.project(&second), Projected::Held);
    let Projected::Applied {
        released: 0,
        refused,
    } = held.project(&created)
    else {
        panic!("version 1 applied");
    };
    assert_eq!(refused.len(), 1, "the held version 2, said refused");
    assert_eq!(refused[0].0, second);
    assert!(
        refused[0].1.contains("at rising positions"),
        "{}",
        refused[0].1
    );
    assert_eq!(held.get(A).map(|v| v.version), Some(1));
    assert_eq!(held.held(), 0, "refused, not kept");
    // At a higher position it is taken.
    second.position = 51;
    assert_eq!(
        model.project(&second),
        Projected::Applied {
            released: 0,
            refused: Vec::new()
        }
    );
}
