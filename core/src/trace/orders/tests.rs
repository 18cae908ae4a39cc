use super::*;
use crate::domain::events::{
    InventoryReleased, InventoryReserved, OrderCancelled, OrderConfirmed, OrderCreated, OrderItem,
    PaymentProcessed, PaymentRefunded,
};
use crate::domain::Timestamp;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Records `message` in `history` as a PUBLISH (QoS 0, MQTT 3.1.1) by `service`'s client
/// `client`, going `direction`, one ms after the packet before it.
fn record(
    history: &mut PacketHistory,
    service: crate::services::ServiceId,
    client: &str,
    direction: broker_bridge::Direction,
    message: &DomainEvent,
) {
    use broker_bridge::packet::{Packet, Publish};
    use broker_bridge::{PacketEvent, ProtocolVersion, QoS};
    let packet = Packet::Publish(Publish::new(
        message.topic(),
        message.to_json(),
        QoS::AtMostOnce,
    ));
    let bytes = packet.encode(ProtocolVersion::V311).unwrap();
    let at = ms(history.iter().count() as u64);
    let event = PacketEvent {
        at,
        client_id: client.into(),
        direction,
        packet,
        bytes,
        protocol: ProtocolVersion::V311,
        skipped: None,
    };
    history.record(service, &event);
}

fn created(order: u128) -> DomainEvent {
    OrderCreated {
        order_id: id(order),
        customer_id: "C123".into(),
        items: vec![OrderItem {
            product_id: "P001".into(),
            quantity: 2,
            price: 29.99,
        }],
        total_amount: 59.98,
        created_at: now(),
    }
    .into()
}

fn reserved(order: u128, success: bool) -> DomainEvent {
    InventoryReserved {
        order_id: id(order),
        reservation_id: id(100 + order),
        success,
        reason: (!success).then(|| "out of stock: P001 (2 asked, 1 left)".into()),
        reserved_at: now(),
    }
    .into()
}

fn charged(order: u128, payment: u128) -> DomainEvent {
    PaymentProcessed {
        order_id: id(order),
        payment_id: id(payment),
        amount: 59.98,
        success: true,
        reason: None,
        processed_at: now(),
    }
    .into()
}

fn refunded(order: u128, payment: u128) -> DomainEvent {
    PaymentRefunded {
        order_id: id(order),
        payment_id: id(payment),
        amount: 59.98,
        refunded_at: now(),
    }
    .into()
}

fn released(order: u128, reservation: u128) -> DomainEvent {
    InventoryReleased {
        order_id: id(order),
        reservation_id: id(reservation),
        released_at: now(),
    }
    .into()
}

#[test]
fn a_cancelled_order_shows_its_steps_compensations_reason_and_time() {
    let mut book = OrderBook::default();
    let cancelled: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "out of stock: P001 (2 asked, 1 left)".into(),
        cancelled_at: now(),
    }
    .into();
    let refunded = refunded(1, 7);
    // Each message seen by several clients: published, then delivered to each subscriber.
    for (at, message, times) in [
        (0, created(1), 4),
        (500, charged(1, 7), 3),
        (800, reserved(1, false), 3),
        (800, cancelled.clone(), 4),
        (801, refunded, 3),
    ] {
        for _ in 0..times {
            book.apply(ms(at), &message);
        }
    }
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        (row.customer_id.as_deref(), row.total),
        (Some("C123"), Some(59.98))
    );
    assert_eq!(row.start, Start::Created(ms(0)));
    assert_eq!(row.status, OrderStatus::Cancelled);
    let steps: Vec<String> = row.steps.iter().map(StepSeen::describe).collect();
    assert_eq!(
        steps,
        [
            "✓ charged 59.98",
            "✕ reservation failed: out of stock: P001 (2 asked, 1 left)"
        ]
    );
    let undone: Vec<String> = row
        .compensations
        .iter()
        .map(Compensation::describe)
        .collect();
    assert_eq!(undone, ["↺ refunded 59.98"]);
    assert_eq!(
        row.reason.as_deref(),
        Some("out of stock: P001 (2 asked, 1 left)")
    );
    assert_eq!(row.time_to_outcome(), Some(ms(800)));
    assert_eq!((row.outcomes, row.charges()), (1, 1));
    assert_eq!(
        row.unseen_step(&row.compensations[0]),
        None,
        "its charge is on the row"
    );
}

// 44-AQ F4: after Clear, a release of a reservation the wire carried before the Clear read
// "lost, e.g. queued in a page that reloaded": the page only forgot it.
#[test]
fn after_clear_a_compensation_of_a_step_before_it_says_so_not_lost() {
    let mut book = OrderBook::default();
    for message in [created(1), reserved(1, true)] {
        book.apply(ms(0), &message);
    }
    book.clear();
    book.apply(ms(10), &released(1, 101));
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.start.word(), "forgotten", "{:?}", row.start);
    assert_eq!(
        row.unseen_step(&row.compensations[0]),
        Some("its reservation's inventory/reserved is not among the messages this page kept: before the Clear, or lost (e.g. queued in a page that reloaded)")
    );
}

// 44-AT F6: a refund under a made-up id of a charged order said a charge of its id might have
// been lost; OrderService refuses it (not the order's payment), and the row says so. A refund
// that came before its charge (a late step) is not one.
#[test]
fn a_compensation_under_another_id_than_the_step_shown_is_said_refused() {
    let mut book = OrderBook::default();
    for message in [
        created(1),
        charged(1, 7),
        reserved(1, true),
        refunded(1, 8),
        released(1, 999),
    ] {
        book.apply(ms(0), &message);
    }
    let row = book.row(id(1)).unwrap();
    let refused: Vec<_> = row.compensations.iter().map(|c| row.not_taken(c)).collect();
    assert_eq!(
        refused,
        [
            Some(format!(
                "payment {}… is not the charge this row shows: it undoes nothing of this order's, and OrderService refuses it",
                &id(8).to_string()[..8]
            )),
            Some(format!(
                "reservation {}… is not the reservation this row shows: it undoes nothing of this order's, and OrderService refuses it",
                &id(999).to_string()[..8]
            )),
        ]
    );
    assert!(row
        .compensations
        .iter()
        .all(|c| row.unseen_step(c).is_none()));
    // The refund first, its charge after: the step's own, not refused.
    let mut book = OrderBook::default();
    for message in [created(2), refunded(2, 9), charged(2, 9)] {
        book.apply(ms(0), &message);
    }
    let row = book.row(id(2)).unwrap();
    assert_eq!(row.not_taken(&row.compensations[0]), None);
    // No charge shown at all: "not among the messages this page saw", as before.
    let mut book = OrderBook::default();
    for message in [created(3), refunded(3, 9)] {
        book.apply(ms(0), &message);
    }
    let row = book.row(id(3)).unwrap();
    assert_eq!(row.not_taken(&row.compensations[0]), None);
    assert!(row.unseen_step(&row.compensations[0]).is_some());
}

// A newcomer's break-test: the page reloaded with the results queued; the rows read "↺ refunded
// 59.98 ↺ stock released" with no charge or reservation, for ids never published.
#[test]
fn a_compensation_of_a_step_the_wire_never_showed_says_so() {
    let mut book = OrderBook::default();
    let refunded = refunded(1, 7);
    let released = released(1, 101);
    for message in [created(1), refunded, released] {
        book.apply(ms(0), &message);
    }
    let row = book.row(id(1)).unwrap();
    let said: Vec<Option<&str>> = row
        .compensations
        .iter()
        .map(|c| row.unseen_step(c))
        .collect();
    assert_eq!(
        said,
        [
            Some("no charge of its id is among the messages this page saw, and no client of this page published it: another client's (by hand?), or a charge lost, e.g. queued in a page that reloaded"),
            Some("no reservation of its id is among the messages this page saw, and no client of this page published it: another client's (by hand?), or a reservation lost, e.g. queued in a page that reloaded")
        ]
    );
    // Published by this page's PaymentService (after a reload): a charge lost, nothing else.
    {
        use crate::services::ServiceId;
        use broker_bridge::Direction;
        let mut history = PacketHistory::new(10);
        record(
            &mut history,
            ServiceId::Order,
            "eda-t-order",
            Direction::Outgoing,
            &created(1),
        );
        record(
            &mut history,
            ServiceId::Payment,
            "eda-t-payment",
            Direction::Outgoing,
            &self::refunded(1, 7),
        );
        let book = OrderBook::from_packets(&history, 10);
        let row = book.row(id(1)).unwrap();
        assert_eq!(
            row.unseen_step(&row.compensations[0]),
            Some("its charge's payments/processed is not among the messages this page saw: lost, e.g. queued in a page that reloaded")
        );
    }
    // Nothing to undo (the nil id) needs no such word.
    assert_eq!(
        row.unseen_step(&Compensation::Refunded(Uuid::nil(), 0.0)),
        None
    );
}

#[test]
fn the_status_follows_the_steps_until_the_outcome() {
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(1));
    assert_eq!(book.row(id(1)).unwrap().status, OrderStatus::Pending);
    book.apply(ms(800), &reserved(1, true));
    assert_eq!(
        book.row(id(1)).unwrap().status,
        OrderStatus::InventoryConfirmed
    );
    book.apply(ms(1000), &charged(1, 7));
    assert_eq!(
        book.row(id(1)).unwrap().status,
        OrderStatus::PaymentConfirmed
    );
    book.apply(
        ms(1000),
        &OrderConfirmed {
            order_id: id(1),
            confirmed_at: now(),
        }
        .into(),
    );
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        (row.status, row.time_to_outcome()),
        (OrderStatus::Completed, Some(ms(1000)))
    );
    // A late message does not reopen it.
    book.apply(ms(1100), &reserved(1, false));
    assert_eq!(book.row(id(1)).unwrap().status, OrderStatus::Completed);
}

#[test]
fn two_charges_for_one_order_are_a_double_charge_and_two_outcomes_are_counted() {
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(1));
    book.apply(ms(1000), &charged(1, 7));
    book.apply(ms(1001), &charged(1, 8));
    book.apply(
        ms(1002),
        &OrderConfirmed {
            order_id: id(1),
            confirmed_at: now(),
        }
        .into(),
    );
    book.apply(
        ms(1003),
        &OrderCancelled {
            order_id: id(1),
            reason: "x".into(),
            cancelled_at: now(),
        }
        .into(),
    );
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.charges(), 2);
    assert_eq!(row.outcomes, 2);
    assert_eq!(
        row.status,
        OrderStatus::Completed,
        "the first outcome stands"
    );
}

#[test]
fn the_book_is_bounded_and_counts_what_it_dropped_and_replays_from_packets() {
    let mut book = OrderBook::new(3);
    for n in 1..=5 {
        book.apply(ms(n as u64), &created(n));
    }
    assert_eq!((book.len(), book.dropped()), (3, 2));
    let kept: Vec<Uuid> = book.rows().map(|r| r.order_id).collect();
    assert_eq!(kept, [id(3), id(4), id(5)]);
    let released: DomainEvent = InventoryReleased {
        order_id: id(5),
        reservation_id: id(105),
        released_at: now(),
    }
    .into();
    book.apply(ms(9), &released);
    book.apply(ms(9), &released);
    assert_eq!(book.row(id(5)).unwrap().compensations.len(), 1);
    book.clear();
    assert!(book.is_empty() && book.dropped() == 0);

    let mut script = crate::trace::script::Script::new(broker_bridge::ProtocolVersion::V311);
    script.connect_all();
    script.place_order(
        crate::trace::script::order(1),
        broker_bridge::QoS::AtLeastOnce,
    );
    let replayed = OrderBook::from_packets(&script.history, 10);
    let row = replayed.row(crate::trace::script::order(1)).unwrap();
    assert_eq!(
        row.status,
        OrderStatus::PaymentConfirmed,
        "both steps done, no outcome in the seed's flow"
    );
    assert_eq!(row.steps.len(), 2);
}

#[test]
fn the_copy_going_out_names_the_instance_that_charged_and_the_one_that_refunded() {
    use crate::services::ServiceId;
    use broker_bridge::Direction;
    let mut history = PacketHistory::new(100);
    let mut record = |service, client: &str, direction, message: &DomainEvent| {
        record(&mut history, service, client, direction, message)
    };
    let refunded: DomainEvent = PaymentRefunded {
        order_id: id(1),
        payment_id: id(201),
        amount: 59.98,
        refunded_at: now(),
    }
    .into();
    let declined: DomainEvent = PaymentProcessed {
        success: false,
        reason: Some("payment declined".into()),
        ..match charged(2, 202) {
            DomainEvent::PaymentProcessed(p) => p,
            _ => unreachable!(),
        }
    }
    .into();
    // OrderService's copies come in first: they name no publisher.
    record(
        ServiceId::Order,
        "eda-t-order",
        Direction::Incoming,
        &charged(1, 201),
    );
    record(
        ServiceId::Payment,
        "eda-t-payment-2",
        Direction::Outgoing,
        &charged(1, 201),
    );
    record(
        ServiceId::Payment,
        "eda-t-payment",
        Direction::Outgoing,
        &refunded,
    );
    record(
        ServiceId::Payment,
        "eda-t-payment",
        Direction::Outgoing,
        &declined,
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.steps.len(), 1, "one charge, seen twice");
    assert_eq!(row.step_by(&row.steps[0]), Some("eda-t-payment-2"));
    assert_eq!(
        row.compensation_by(&row.compensations[0]),
        Some("eda-t-payment")
    );
    let other = book.row(id(2)).unwrap();
    assert_eq!(other.step_by(&other.steps[0]), Some("eda-t-payment"));
    assert_eq!(
        book.payments_by().into_iter().collect::<Vec<_>>(),
        [("eda-t-payment", 1), ("eda-t-payment-2", 1)],
        "a refund is not a payment result"
    );
}

/// `orders/cancelled` for `order`, its payment timed out.
fn timed_out(order: u128) -> DomainEvent {
    OrderCancelled {
        order_id: id(order),
        reason: "payment timed out".into(),
        cancelled_at: now(),
    }
    .into()
}

fn confirmed(order: u128) -> DomainEvent {
    OrderConfirmed {
        order_id: id(order),
        confirmed_at: now(),
    }
    .into()
}

#[test]
fn results_for_an_order_nobody_created_are_an_unknown_order_not_an_open_or_completed_one() {
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(1));
    // Someone publishes a payment for order 2, and a confirmation for order 3, neither created.
    book.apply(ms(10), &charged(2, 7));
    book.apply(ms(20), &confirmed(3));
    for n in [2, 3] {
        let row = book.row(id(n)).unwrap();
        assert!(row.is_unknown(), "order {n}");
        assert_eq!((row.customer_id.as_deref(), row.total), (None, None));
        assert_eq!(
            row.time_to_outcome(),
            None,
            "no time from a start never seen"
        );
    }
    assert_eq!(
        book.counts(),
        OrderCounts {
            completed: 0,
            cancelled: 0,
            open: 1,
            unknown: 2,
            dead_lettered: 0,
            refused: 0,
        },
        "order 1 is open; 2 and 3 are neither open nor completed"
    );
    assert_eq!(
        book.counts().summary(),
        "0 completed, 0 cancelled, 1 open, 2 unknown (not seen created on the wire)"
    );
    let note = |n| book.row(id(n)).unwrap().unknown_note(false);
    assert_eq!(
        note(2).as_deref(),
        Some(": not seen created on the wire (before this page loaded, not yet, or never)")
    );
    assert_eq!(
        note(3).as_deref(),
        Some(": not seen created on the wire (before this page loaded, not yet, or never); an orders/confirmed for it was seen")
    );
    assert_eq!(note(1), None);
    // Its orders/created after all (an outside publisher's order of messages): a real order.
    book.apply(ms(30), &created(2));
    let row = book.row(id(2)).unwrap();
    assert_eq!(row.start, Start::Created(ms(30)));
    assert_eq!(book.counts().unknown, 1);
}

#[test]
fn an_order_whose_start_was_cleared_shows_no_customer_total_or_time_made_up() {
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(1));
    book.apply(ms(0), &created(2));
    book.apply(ms(500), &charged(1, 7));
    book.clear();
    assert!(book.is_empty());
    // The orders in flight finish after Clear.
    book.apply(ms(800), &reserved(1, true));
    book.apply(ms(1000), &confirmed(1));
    book.apply(ms(1200), &confirmed(2));
    // And one nobody ever created, after Clear.
    book.apply(ms(1300), &confirmed(9));
    for n in [1, 2] {
        let row = book.row(id(n)).unwrap();
        assert_eq!(row.start, Start::Forgotten, "order {n}");
        assert_eq!((row.customer_id.as_deref(), row.total), (None, None));
        assert_eq!(row.status, OrderStatus::Completed);
        assert_eq!(
            row.time_to_outcome(),
            None,
            "not 200 ms from its first result"
        );
    }
    assert!(book.row(id(9)).unwrap().is_unknown());
    assert_eq!(
        book.counts(),
        OrderCounts {
            completed: 2,
            cancelled: 0,
            open: 0,
            unknown: 1,
            dead_lettered: 0,
            refused: 0,
        }
    );
    // The paused view folds the packets kept into an emptied book: the same answer.
    let mut part = book.emptied();
    part.apply(ms(1200), &confirmed(2));
    part.apply(ms(1300), &confirmed(9));
    assert_eq!(part.row(id(2)).unwrap().start, Start::Forgotten);
    assert!(part.row(id(9)).unwrap().is_unknown());
}

#[test]
fn an_order_dropped_from_a_full_book_comes_back_as_forgotten() {
    let mut book = OrderBook::new(2);
    for n in 1..=3 {
        book.apply(ms(n as u64), &created(n));
    }
    book.apply(ms(10), &confirmed(1));
    assert_eq!(book.row(id(1)).unwrap().start, Start::Forgotten);
}

#[test]
fn huge_amounts_from_outside_are_shown_short_and_exact() {
    assert_eq!(amount_text(59.98), "59.98");
    assert_eq!(amount_text(0.0), "0.00");
    assert_eq!(amount_text(999_999_999_999.0), "999999999999.00");
    // The largest amount a message may carry, to the cent (a break-test saw 9.00719925474099e13
    // for the old limit). Read as a publisher's JSON gives it.
    let largest: f64 = "9999999999999.99".parse().unwrap();
    assert_eq!(amount_text(largest), "9999999999999.99");
    assert_eq!(amount_text(1e300), "1e300");
    assert_eq!(amount_text(-1.5e20), "-1.5e20");
    assert_eq!(amount_text(1.234_567_890_123_4e15), "1.2345678901234e15");
    let step = StepSeen::Charged(id(1), 1e300).describe();
    assert_eq!(step, "✓ charged 1e300");
    assert_eq!(
        Compensation::Refunded(id(1), 1e300).describe(),
        "↺ refunded 1e300"
    );
}

// A newcomer's break-test: 850 orders, all confirmed on the wire; the header said "500
// completed, 0 cancelled, 0 open" beside "750 older orders not shown".
#[test]
fn the_counts_are_of_every_order_seen_not_only_the_rows_kept() {
    let mut book = OrderBook::default();
    for n in 1..=850 {
        book.apply(ms(n as u64), &created(n));
        book.apply(ms(n as u64), &reserved(n, true));
        book.apply(ms(n as u64), &charged(n, 1000 + n));
        book.apply(ms(n as u64), &confirmed(n));
    }
    assert_eq!((book.len(), book.dropped()), (ORDERS_KEPT, 350));
    assert_eq!(
        book.counts().summary(),
        "850 completed, 0 cancelled, 0 open"
    );
}

#[test]
fn an_order_dropped_open_is_counted_once_when_its_outcome_comes_later() {
    let mut book = OrderBook::new(2);
    for n in 1..=3 {
        book.apply(ms(n as u64), &created(n));
    }
    assert_eq!(book.counts().open, 3, "order 1 dropped, still open");
    book.apply(ms(10), &confirmed(1));
    let counts = book.counts();
    assert_eq!((counts.completed, counts.open), (1, 2), "{counts:?}");
    assert_eq!(book.len(), 2);
    assert_eq!(
        book.counts().completed + book.counts().open,
        3,
        "three orders, whatever the rows hold"
    );
    book.clear();
    assert_eq!(
        book.counts(),
        OrderCounts::default(),
        "Clear forgets the counts"
    );
}

#[test]
fn a_cancelled_order_with_a_step_not_undone_is_compensating_until_the_wire_shows_it_undone() {
    use crate::services::ServiceId;
    use broker_bridge::Direction;
    let mut history = PacketHistory::new(100);
    let cancelled = timed_out(1);
    let refunded = refunded(1, 7);
    let released = released(1, 101);
    let (order, out) = (ServiceId::Order, Direction::Outgoing);
    record(&mut history, order, "eda-t-order", out, &created(1));
    record(
        &mut history,
        ServiceId::Inventory,
        "eda-t-inventory",
        out,
        &reserved(1, true),
    );
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        out,
        &charged(1, 7),
    );
    let compensating = |history: &PacketHistory| {
        OrderBook::from_packets(history, 10)
            .row(id(1))
            .unwrap()
            .compensating(Default::default())
    };
    assert_eq!(compensating(&history), None, "not cancelled");
    record(&mut history, order, "eda-t-order", out, &cancelled);
    assert_eq!(
        compensating(&history).as_deref(),
        Some("compensating: refund not seen yet; compensating: release not seen yet")
    );
    // Delivered to a subscriber: not a try of OrderService's.
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        Direction::Incoming,
        &cancelled,
    );
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        out,
        &refunded,
    );
    assert_eq!(
        compensating(&history).as_deref(),
        Some("compensating: release not seen yet")
    );
    for _ in 1..COMPENSATION_TRIES {
        record(&mut history, order, "eda-t-order", out, &cancelled);
    }
    // InventoryService received none of the tries: the broker dropped them (34-J F8).
    let after_tries = compensating(&history).unwrap();
    assert!(
        after_tries.starts_with(
            "release not confirmed after 4 tries: InventoryService received none of them (a broker \
             drops a message by its own rules without a word under MQTT 3.1.1, e.g. an ACL"
        ),
        "{after_tries}"
    );
    // InventoryService crashed (the learner's Crash): that is the cause named (45-AV F2: ACLs
    // and the broker's log came first).
    let row_now = OrderBook::from_packets(&history, 10);
    assert_eq!(
        row_now.row(id(1)).unwrap().compensating([ParticipantDown::No, ParticipantDown::Crashed { kept: true }]).as_deref(),
        Some("release not confirmed after 4 tries: InventoryService is crashed, so it received none of them; with a persistent session the broker keeps them for it, and it answers once restarted (Restart)")
    );
    // Under a clean session a Restart does not help, and back from it the loss is named, not
    // an ACL (45-AW F2).
    let row = row_now.row(id(1)).unwrap();
    assert_eq!(
        row.compensating([ParticipantDown::No, ParticipantDown::Crashed { kept: false }]).as_deref(),
        Some("release not confirmed after 4 tries: InventoryService is crashed, so it received none of them, and its session is clean: the broker keeps none of them for it, so a Restart does not bring them, and the reservation is left to release by hand")
    );
    // Back after the last try went out (the history's packets are 1 ms apart, `record`).
    let last_try = ms(history.iter().count() as u64 - 1);
    let back_since = |since| {
        [
            ParticipantDown::No,
            ParticipantDown::BackWithoutSession { since },
        ]
    };
    assert_eq!(
        row.compensating(back_since(last_try + ms(1))).as_deref(),
        Some("release not confirmed after 4 tries: InventoryService received none of them: they went out while it was crashed, and it came back without its session (clean, or Session Present 0), so the broker had dropped them; the reservation is left to release by hand")
    );
    // Back before the last try went out: that one reached a running InventoryService, so the
    // crash explains nothing, the broker dropped it (a crash long ago was blamed for an ACL's
    // drops until the next crash).
    assert_eq!(row.compensating(back_since(last_try)), after_tries.into());
    record(
        &mut history,
        ServiceId::Inventory,
        "eda-t-inventory",
        Direction::Incoming,
        &cancelled,
    );
    assert_eq!(
        compensating(&history).as_deref(),
        Some("release not confirmed after 4 tries"),
        "received, and still not released: no word of a broker dropping it"
    );
    let book = OrderBook::from_packets(&history, 10);
    assert_eq!(
        book.row(id(1)).unwrap().outcomes,
        1,
        "copies are one outcome"
    );
    record(
        &mut history,
        ServiceId::Inventory,
        "eda-t-inventory",
        out,
        &released,
    );
    assert_eq!(compensating(&history), None);
}

/// OrderService's store as a reload finds it: order 1 charged, out of stock, cancelled (its
/// refund not seen yet); order 2 completed.
fn stored_orders() -> crate::store::EventStore {
    use crate::domain::order::OrderEvent as E;
    use crate::store::{EventStore, ExpectedVersion, StreamEvent};
    let mut store = EventStore::new();
    let created = |order| match created(order) {
        DomainEvent::OrderCreated(c) => StreamEvent::from(c),
        _ => unreachable!(),
    };
    let cancelled = vec![
        created(1),
        StreamEvent::Order(E::PaymentConfirmed {
            payment_id: id(11),
            amount: 59.98,
        }),
        StreamEvent::Order(E::InventoryFailed {
            reason: "out of stock".into(),
        }),
        StreamEvent::Order(E::Cancelled {
            reason: "out of stock".into(),
        }),
    ];
    let completed = vec![
        created(2),
        StreamEvent::Order(E::InventoryConfirmed {
            reservation_id: id(21),
        }),
        StreamEvent::Order(E::PaymentConfirmed {
            payment_id: id(22),
            amount: 59.98,
        }),
        StreamEvent::Order(E::Completed),
    ];
    store
        .append(id(1), ExpectedVersion::NoStream, cancelled, now())
        .unwrap();
    store
        .append(id(2), ExpectedVersion::NoStream, completed, now())
        .unwrap();
    store
}

/// The clean clone of stop 45: reloaded while the broker was down, a subscriber's session still
/// held an `orders/created` it had not acknowledged, and the broker delivered it again once back.
/// The row took that copy for its creation: marked created, not restored, with a time to outcome
/// of 251 ms counted from the copy.
#[test]
fn a_restored_row_stays_restored_when_a_copy_of_its_orders_created_comes_again() {
    let mut book = OrderBook::new(100);
    book.restore(ms(5), &stored_orders());
    book.apply(ms(9), &created(1));
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        (row.start, row.status),
        (Start::Restored, OrderStatus::Cancelled)
    );
    assert_eq!(
        row.time_to_outcome(),
        None,
        "its start is not on this clock"
    );
    assert_eq!(book.counts().cancelled, 1);
}

#[test]
fn a_reload_restores_each_stored_order_as_a_marked_row_in_its_state() {
    let mut book = OrderBook::new(100);
    book.restore(ms(5), &stored_orders());
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.start, Start::Restored);
    assert_eq!(row.start.word(), "restored");
    assert_eq!(
        row.start.mark(),
        Some("restored from the browser's database after a reload")
    );
    assert_eq!(row.status, OrderStatus::Cancelled);
    assert_eq!(row.reason.as_deref(), Some("out of stock"));
    assert_eq!(
        (row.customer_id.as_deref(), row.total),
        (Some("C123"), Some(59.98))
    );
    assert_eq!(row.unknown_note(false), None, "not an unknown order");
    assert_eq!(
        row.compensating(Default::default()).as_deref(),
        Some("compensating: refund not seen yet")
    );
    assert_eq!(
        row.time_to_outcome(),
        None,
        "its start is not on this clock"
    );
    assert_eq!(book.row(id(2)).unwrap().status, OrderStatus::Completed);
    assert_eq!(
        book.counts(),
        OrderCounts {
            completed: 1,
            cancelled: 1,
            open: 0,
            unknown: 0,
            dead_lettered: 0,
            refused: 0,
        }
    );

    // The wire then moves it on: the outbox's copy of orders/cancelled, and the refund.
    let cancelled = OrderCancelled {
        order_id: id(1),
        reason: "out of stock".into(),
        cancelled_at: now(),
    };
    book.apply(ms(9), &cancelled.into());
    let refunded = PaymentRefunded {
        order_id: id(1),
        payment_id: id(11),
        amount: 59.98,
        refunded_at: now(),
    };
    book.apply(ms(10), &refunded.into());
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        (row.start, row.status),
        (Start::Restored, OrderStatus::Cancelled)
    );
    assert_eq!(row.outcomes, 1);
    assert_eq!(row.compensations, [Compensation::Refunded(id(11), 59.98)]);
    assert_eq!(row.compensating(Default::default()), None);
    assert_eq!(book.counts().unknown, 0);
}

#[test]
fn a_restored_decline_seen_again_on_the_wire_is_one_step() {
    use crate::domain::order::OrderEvent as E;
    use crate::store::{EventStore, ExpectedVersion, StreamEvent};
    let DomainEvent::OrderCreated(order) = created(3) else {
        unreachable!()
    };
    let declined = |payment_id| {
        StreamEvent::Order(E::PaymentFailed {
            payment_id,
            reason: "payment declined".into(),
        })
    };
    let stream = |decline| {
        let mut store = EventStore::new();
        let events = vec![
            StreamEvent::from(order.clone()),
            decline,
            StreamEvent::Order(E::Cancelled {
                reason: "payment declined".into(),
            }),
        ];
        store
            .append(id(3), ExpectedVersion::NoStream, events, now())
            .unwrap();
        store
    };
    // PaymentService's decline, delivered again after the reload (its persistent session).
    let on_wire = PaymentProcessed {
        order_id: id(3),
        payment_id: id(31),
        success: false,
        amount: 59.98,
        reason: Some("payment declined".into()),
        processed_at: now(),
    };
    let steps_after = |store: &EventStore| {
        let mut book = OrderBook::new(100);
        book.restore(ms(5), store);
        book.apply(ms(9), &on_wire.clone().into());
        book.row(id(3)).unwrap().steps.clone()
    };
    assert_eq!(
        steps_after(&stream(declined(id(31)))),
        [StepSeen::Declined(id(31), "payment declined".into())],
        "the store keeps the decline's payment id: the copy is the same step"
    );
    // A decline stored in schema 2 kept no id: read as the nil id, it cannot be matched.
    assert_eq!(steps_after(&stream(declined(Uuid::nil()))).len(), 2);
}

#[test]
fn an_outcome_in_the_store_not_yet_on_the_wire_is_said_until_the_wire_shows_it() {
    let store = stored_orders();
    let mut book = OrderBook::new(100);
    // Order 1 seen created and charged on the wire; its orders/cancelled waits for the broker.
    book.apply(ms(1), &created(1));
    let charged = PaymentProcessed {
        order_id: id(1),
        payment_id: id(11),
        success: true,
        amount: 59.98,
        reason: None,
        processed_at: now(),
    };
    book.apply(ms(2), &charged.into());
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::PaymentConfirmed);
    assert_eq!(
        row.decided_note(store.fold(id(1)).as_ref()).as_deref(),
        Some(
            "cancelled by OrderService (out of stock); its orders/cancelled is not on the wire \
             yet: it waits for the broker"
        )
    );
    assert_eq!(row.decided_note(None), None, "nothing decided");
    // Counted beside the open count (45-AV F4).
    assert_eq!((book.counts().open, book.open_decided_in(&store)), (1, 1));
    let cancelled = OrderCancelled {
        order_id: id(1),
        reason: "out of stock".into(),
        cancelled_at: now(),
    };
    book.apply(ms(3), &cancelled.into());
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Cancelled);
    assert_eq!(row.decided_note(store.fold(id(1)).as_ref()), None);
    assert_eq!(book.open_decided_in(&store), 0);
}

/// A compensation before the step (the nil id: the participant had nothing to undo) is listed
/// as such, and is not taken for the undoing of a step the row shows done.
#[test]
fn a_compensation_before_the_step_is_listed_and_undoes_no_step_shown_done() {
    use crate::services::ServiceId;
    use broker_bridge::Direction;
    let mut history = PacketHistory::new(100);
    let out = Direction::Outgoing;
    let cancelled = timed_out(1);
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        out,
        &created(1),
    );
    let inventory = (ServiceId::Inventory, "eda-t-inventory");
    record(
        &mut history,
        inventory.0,
        inventory.1,
        out,
        &reserved(1, true),
    );
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        out,
        &cancelled,
    );
    let nothing_refunded = PaymentRefunded::uncharged(id(1), now()).into();
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        out,
        &nothing_refunded,
    );
    let nothing_released = InventoryReleased::unreserved(id(1), now()).into();
    record(
        &mut history,
        inventory.0,
        inventory.1,
        out,
        &nothing_released,
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    let listed: Vec<String> = row
        .compensations
        .iter()
        .map(Compensation::describe)
        .collect();
    assert_eq!(
        listed,
        [
            "↺ nothing to refund: never charged",
            "↺ nothing to release: never reserved"
        ]
    );
    // The reservation shown done was answered "nothing to release": InventoryService forgot
    // it (a reload empties its memory). OrderService takes the answer as the end, so the row
    // waits no more, and says what became of the stock: the reloaded InventoryService counts
    // it from the link's levels again (the Stock panel's "P001: 10 left"), not as held.
    assert_eq!(
        row.compensating(Default::default()),
        None,
        "nothing awaited any more"
    );
    assert_eq!(
        row.forgotten().as_deref(),
        Some(
            "InventoryService answered that it reserved nothing, though its reservation is on \
             the wire: it forgot it (reloaded with no database to keep its memory in) and started afresh from the \
             link's stock levels, so the stock it reserved is counted as on hand again and \
             nothing was released"
        )
    );
}

/// A newcomer's break-test (addendum to C2): a nil refund and a nil release published by hand
/// (PaymentService crashed) for an order charged and reserved by this page's clients ended
/// OrderService's requests, and the row said the participants forgot their steps in a reload.
/// The answers came from no client of this page: the row says so.
#[test]
fn a_nothing_to_undo_answer_from_outside_is_not_blamed_on_a_reload() {
    use crate::services::ServiceId;
    use broker_bridge::Direction;
    let mut history = PacketHistory::new(100);
    let (out, incoming) = (Direction::Outgoing, Direction::Incoming);
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        out,
        &created(1),
    );
    record(
        &mut history,
        ServiceId::Inventory,
        "eda-t-inventory",
        out,
        &reserved(1, true),
    );
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        out,
        &charged(1, 200),
    );
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        out,
        &timed_out(1),
    );
    let forged_refund = PaymentRefunded::uncharged(id(1), now()).into();
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        incoming,
        &forged_refund,
    );
    let forged_release = InventoryReleased::unreserved(id(1), now()).into();
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        incoming,
        &forged_release,
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        row.forgotten().as_deref(),
        Some(
            "PaymentService's charge is on the wire, and the answer that nothing was charged is \
             not its own (no client of this page published it: another client's, by hand?): \
             OrderService took it as the end of the compensation, so the charge was never \
             refunded; InventoryService's reservation is on the wire, and the answer that \
             nothing was reserved is not its own (no client of this page published it: another \
             client's, by hand?): OrderService took it as the end of the compensation, so \
             nothing was released and the stock stays held"
        )
    );
}

/// A refund of nothing for an order never charged on the wire is no contradiction: nothing is
/// forgotten, nothing awaited.
#[test]
fn a_compensation_before_a_step_never_done_is_no_forgotten_step() {
    use crate::services::ServiceId;
    use broker_bridge::Direction;
    let mut history = PacketHistory::new(100);
    let out = Direction::Outgoing;
    let cancelled = timed_out(1);
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        out,
        &created(1),
    );
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        out,
        &cancelled,
    );
    let nothing_refunded = PaymentRefunded::uncharged(id(1), now()).into();
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        out,
        &nothing_refunded,
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        (row.compensating(Default::default()), row.forgotten()),
        (None, None)
    );
}

/// Records a PUBLISH of `payload` on `topic` going out of `service`'s client (QoS 0, 3.1.1),
/// one ms after the packet before it.
fn record_raw(
    history: &mut PacketHistory,
    service: crate::services::ServiceId,
    topic: &str,
    payload: Vec<u8>,
) {
    use broker_bridge::packet::{Packet, Publish};
    use broker_bridge::{PacketEvent, ProtocolVersion, QoS};
    let packet = Packet::Publish(Publish::new(topic, payload, QoS::AtMostOnce));
    let bytes = packet.encode(ProtocolVersion::V311).unwrap();
    let event = PacketEvent {
        at: ms(history.iter().count() as u64),
        client_id: format!("eda-t-{}", service.slug()),
        direction: Direction::Outgoing,
        packet,
        bytes,
        protocol: ProtocolVersion::V311,
        skipped: None,
    };
    history.record(service, &event);
}

fn created_by(order: u128, customer: &str, total: f64) -> DomainEvent {
    let DomainEvent::OrderCreated(mut created) = created(order) else {
        unreachable!()
    };
    created.customer_id = customer.into();
    created.total_amount = total;
    created.into()
}

/// OrderService's dead letter for `message` (an `orders/created`), as it publishes it.
fn dead_letter_of(message: &DomainEvent) -> Vec<u8> {
    crate::services::dead_letter::DeadLetter {
        service: "OrderService".into(),
        topic: topics::ORDERS_CREATED.into(),
        payload: String::from_utf8(message.to_json()).unwrap(),
        payload_hex: None,
        reason: "handler failed: customer POISON is refused by every handler".into(),
        attempts: 3,
        failed_at: now(),
    }
    .to_json()
}

#[test]
fn a_second_orders_created_for_an_order_changes_nothing_in_its_row() {
    // A break-test: a second orders/created with the same id and another customer and total,
    // ignored by every service as a duplicate, rewrote the row (customer EVIL, total 1.00).
    use crate::services::ServiceId::{Order, Payment};
    let mut history = PacketHistory::new(100);
    let first = created(1);
    record(
        &mut history,
        Order,
        "eda-t-order",
        Direction::Outgoing,
        &first,
    );
    record(
        &mut history,
        Payment,
        "eda-t-payment",
        Direction::Incoming,
        &first,
    );
    let other = created_by(1, "EVIL", 1.0);
    record(
        &mut history,
        Order,
        "eda-t-order",
        Direction::Incoming,
        &other,
    );
    record(
        &mut history,
        Payment,
        "eda-t-payment",
        Direction::Incoming,
        &other,
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        (row.customer_id.as_deref(), row.total),
        (Some("C123"), Some(59.98))
    );
    assert_eq!(row.created_seq, Some(0), "Deliver again sends the first");
}

#[test]
fn an_order_whose_orders_created_order_service_dead_lettered_is_counted_apart_until_a_fixed_retry()
{
    // A break-test: the poison message's row said Pending for good (no order in OrderService's
    // store, so no deadline), and counted it open; after a fixed Retry, a Retry of another
    // service's unedited dead letter (a duplicate) rewrote the row's customer to POISON.
    use crate::services::dead_letter::deadletter_topic;
    use crate::services::ServiceId::{Order, Payment};
    let mut history = PacketHistory::new(100);
    let poison = created_by(1, "POISON", 59.98);
    record(
        &mut history,
        Order,
        "eda-t-order",
        Direction::Incoming,
        &poison,
    );
    // PaymentService's dead letter says nothing of the order's existence: OrderService's does.
    record_raw(
        &mut history,
        Payment,
        &deadletter_topic(Payment),
        dead_letter_of(&poison),
    );
    let book = OrderBook::from_packets(&history, 10);
    assert!(!book.row(id(1)).unwrap().is_dead_lettered());
    record_raw(
        &mut history,
        Order,
        &deadletter_topic(Order),
        dead_letter_of(&poison),
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert!(row.is_dead_lettered());
    assert_eq!(
        row.dead_lettered.as_deref(),
        Some("handler failed: customer POISON is refused by every handler")
    );
    assert_eq!((book.counts().open, book.counts().dead_lettered), (0, 1));
    assert_eq!(
        book.counts().summary(),
        "0 completed, 0 cancelled, 0 open, 1 dead-lettered (its orders/created is in OrderService's dead letters)"
    );
    // 44-AT F2: another client's copy of the same orders/created, delivered after
    // OrderService's dead letter (one refused at once, for its size), is the same message.
    record(
        &mut history,
        Payment,
        "eda-t-payment",
        Direction::Incoming,
        &poison,
    );
    let book = OrderBook::from_packets(&history, 10);
    assert!(book.row(id(1)).unwrap().is_dead_lettered());
    assert_eq!((book.counts().open, book.counts().dead_lettered), (0, 1));

    // Fixed and retried: this creation is the order.
    let fixed = created_by(1, "C123", 59.98);
    record(
        &mut history,
        Order,
        "eda-t-order",
        Direction::Outgoing,
        &fixed,
    );
    let fixed_seq = history.iter().last().unwrap().seq;
    record(
        &mut history,
        Order,
        "eda-t-order",
        Direction::Incoming,
        &fixed,
    );
    // Then PaymentService's unedited dead letter retried: a duplicate.
    record(
        &mut history,
        Payment,
        "eda-t-payment",
        Direction::Incoming,
        &poison,
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert!(!row.is_dead_lettered());
    assert_eq!(row.customer_id.as_deref(), Some("C123"));
    assert_eq!(
        row.created_seq,
        Some(fixed_seq),
        "Deliver again sends the fixed one"
    );
    assert_eq!((book.counts().open, book.counts().dead_lettered), (1, 0));
}

#[test]
fn order_service_s_dead_letter_of_a_creation_this_page_never_saw_gives_its_order_a_row() {
    // A break-test: the poison message sent, the page reloaded during its retries (kept in the
    // tab's database and tried when due), and the dead letters made after the reload: the
    // Orders panel had no row and counted nothing dead-lettered.
    use crate::services::dead_letter::deadletter_topic;
    use crate::services::ServiceId::Order;
    let mut history = PacketHistory::new(100);
    let poison = created_by(1, "POISON", 59.98);
    record_raw(
        &mut history,
        Order,
        &deadletter_topic(Order),
        dead_letter_of(&poison),
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).expect("a row for the dead-lettered order");
    assert!(row.is_dead_lettered());
    assert_eq!(row.start, Start::Restored);
    assert_eq!(
        (row.customer_id.as_deref(), row.total),
        (Some("POISON"), Some(59.98))
    );
    assert_eq!((book.counts().open, book.counts().dead_lettered), (0, 1));
}

#[test]
fn after_a_reload_order_service_s_kept_dead_letter_of_a_creation_gives_its_order_a_row_again() {
    // A break-test: after a reload the poison order's Dead-lettered row was gone (no store holds
    // such an order) while its four dead letters were still listed.
    use crate::services::dead_letter::DeadLetter;
    use crate::services::ServiceId;
    use crate::trace::dead_letters::KeptDeadLetter;
    let kept = |service: ServiceId, message: &DomainEvent| KeptDeadLetter {
        id: format!("{service}"),
        service,
        letter: DeadLetter::of_message(
            service,
            topics::ORDERS_CREATED,
            &message.to_json(),
            "handler failed: customer POISON is refused by every handler",
            3,
            now(),
        ),
        unpublished: false,
        refused: None,
    };
    let poison = created_by(1, "POISON", 59.98);
    let mut book = OrderBook::new(10);
    book.restore_dead_lettered(
        ms(5),
        &[
            kept(ServiceId::Payment, &created_by(2, "POISON", 1.0)),
            kept(ServiceId::Order, &poison),
        ],
    );
    assert!(
        book.row(id(2)).is_none(),
        "PaymentService's dead letter says nothing of the order"
    );
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.start, Start::Restored);
    assert!(row.is_dead_lettered());
    assert_eq!(
        (row.customer_id.as_deref(), row.total),
        (Some("POISON"), Some(59.98))
    );
    assert_eq!(book.counts().dead_lettered, 1);

    // Fixed and retried after the reload (40-AD F3): this orders/created is the order's
    // creation, seen on this clock, not a copy of one made before the reload.
    book.apply(ms(20), &created_by(1, "C123", 59.98));
    book.apply(ms(30), &confirmed(1));
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.start, Start::Created(ms(20)));
    assert_eq!(row.customer_id.as_deref(), Some("C123"));
    assert_eq!(row.time_to_outcome(), Some(ms(10)));

    // A row the wire already ended keeps its outcome.
    let mut book = OrderBook::new(10);
    book.apply(ms(1), &created(3));
    book.apply(ms(2), &confirmed(3));
    book.restore_dead_lettered(ms(5), &[kept(ServiceId::Order, &created(3))]);
    assert!(!book.row(id(3)).unwrap().is_dead_lettered());
}

/// A newcomer's break-test: 1,500 orders published from outside at once, all open before any
/// result, in a book of 500 rows: "1000 completed, 1501 open, 601 unknown" and "14816 older
/// orders not shown", where every order had completed once. Here twelve times the rows.
#[test]
fn a_burst_of_open_orders_many_times_the_rows_is_counted_once_each() {
    let mut book = OrderBook::new(5);
    for order in 1..=60 {
        book.apply(ms(order as u64), &created(order));
    }
    for order in 1..=60 {
        book.apply(ms(100 + order as u64), &confirmed(order));
    }
    let counts = book.counts();
    assert_eq!(
        (counts.completed, counts.open, counts.unknown),
        (60, 0, 0),
        "{counts:?}"
    );
    assert_eq!(book.len(), 5);
    assert_eq!(book.dropped(), 55, "each order not shown counted once");
}

/// A newcomer's break-test: after *Clear*, the `orders/created` of an order that had ended,
/// published again from a terminal, made a row open for ever ("its orders/confirmed is not on
/// the wire yet: it waits for the broker", with the broker up). The row now takes the outcome
/// from OrderService's store and says it is a replay; a new order is untouched.
#[test]
fn a_replayed_orders_created_of_an_order_that_ended_takes_its_outcome_from_the_store() {
    use crate::services::ServiceId;
    use crate::trace::history::{ActionLog, PacketHistory};
    use crate::trace::Trace;
    use broker_bridge::packet::{Packet, Publish};
    use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
    let mut trace = Trace::new(PacketHistory::new(100), ActionLog::new(100));
    trace.store = stored_orders();
    let mut at = 0;
    let mut see = |trace: &mut Trace, message: &DomainEvent| {
        at += 1;
        let packet = Packet::Publish(Publish::new(
            message.topic(),
            message.to_json(),
            QoS::AtMostOnce,
        ));
        let bytes = packet.encode(ProtocolVersion::V311).unwrap();
        let event = PacketEvent {
            at: ms(at),
            client_id: "eda-t-payment".into(),
            direction: Direction::Incoming,
            packet,
            bytes,
            protocol: ProtocolVersion::V311,
            skipped: None,
        };
        trace.record(ServiceId::Payment, &event);
    };
    // Order 2 completed, order 1 cancelled in the store; order 3 is new.
    for n in [2, 1, 3] {
        see(&mut trace, &created(n));
    }
    let completed = trace.orders.row(id(2)).unwrap();
    assert_eq!(completed.start, Start::Replayed(ms(1)));
    assert_eq!(completed.start.word(), "replayed");
    assert!(completed
        .start
        .mark()
        .unwrap()
        .starts_with("ended before this copy"));
    assert_eq!(completed.status, OrderStatus::Completed);
    assert_eq!(completed.steps.len(), 2, "{:?}", completed.steps);
    let stored = trace.store.fold(id(2));
    assert_eq!(
        completed.decided_note(stored.as_ref()),
        None,
        "nothing waits for the broker"
    );
    assert_eq!(completed.time_to_outcome(), None);
    let cancelled = trace.orders.row(id(1)).unwrap();
    assert_eq!(
        (cancelled.status, cancelled.reason.as_deref()),
        (OrderStatus::Cancelled, Some("out of stock"))
    );
    let new = trace.orders.row(id(3)).unwrap();
    assert_eq!(
        (new.start, new.status),
        (Start::Created(ms(3)), OrderStatus::Pending)
    );
    let counts = trace.orders.counts();
    assert_eq!((counts.completed, counts.cancelled, counts.open), (1, 1, 1));
    // A second copy of a replayed order changes nothing.
    see(&mut trace, &created(2));
    assert_eq!(
        trace.orders.row(id(2)).unwrap().start,
        Start::Replayed(ms(1))
    );
}

/// A refund of another amount than the charge (0.01 from outside under the charge's payment
/// id, a newcomer's break-test) undoes nothing: the row still says the refund is awaited, and
/// lists the charge's own refund when it comes under the same id.
#[test]
fn a_refund_of_another_amount_than_the_charge_leaves_the_refund_awaited() {
    let mut book = OrderBook::new(10);
    let refund = |n: u128, amount: f64| -> DomainEvent {
        PaymentRefunded {
            order_id: id(1),
            payment_id: id(n),
            amount,
            refunded_at: now(),
        }
        .into()
    };
    for (at, message) in [
        (0, created(1)),
        (1, charged(1, 7)),
        (2, timed_out(1)),
        (3, refund(7, 0.01)),
    ] {
        book.apply(ms(at), &message);
    }
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.compensations.len(), 1, "listed: ↺ refunded 0.01");
    assert_eq!(
        row.compensating(Default::default()).as_deref(),
        Some("compensating: refund not seen yet")
    );
    book.apply(ms(4), &refund(7, 59.98));
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.compensating(Default::default()), None);
    assert_eq!(row.compensations.len(), 2, "{:?}", row.compensations);
}

/// A completed order whose charge is refunded from outside (under orchestration, a refund
/// command anyone may publish) says so: OrderService asked for no compensation.
#[test]
fn a_completed_order_undone_from_outside_is_marked() {
    let mut book = OrderBook::new(10);
    for (at, message) in [
        (0, created(1)),
        (1, reserved(1, true)),
        (2, charged(1, 7)),
        (3, confirmed(1)),
    ] {
        book.apply(ms(at), &message);
    }
    assert_eq!(book.row(id(1)).unwrap().undone_after_completion(), None);
    let refunded = refunded(1, 7);
    book.apply(ms(4), &refunded);
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Completed);
    assert!(row
        .undone_after_completion()
        .is_some_and(|t| t.starts_with("undone after completion")));
    // 43-AP F4: a refund of part of the charge, by hand: OrderService records it, the row
    // says so.
    let mut book = OrderBook::new(10);
    for (at, message) in [
        (0, created(2)),
        (1, reserved(2, true)),
        (2, charged(2, 8)),
        (3, confirmed(2)),
        (4, refund_of(2, 8, 10.0)),
    ] {
        book.apply(ms(at), &message);
    }
    assert!(book
        .row(id(2))
        .unwrap()
        .undone_after_completion()
        .is_some_and(|t| t.starts_with("refunded in part after completion")));
}

/// 44-AS F1: a refund of part of the charge by hand while the order ran is refused by
/// OrderService (not recorded): the row says so, does not call the order refunded in part for
/// it, and a later refund by hand after completion, which is recorded, is not "refunded again".
#[test]
fn a_partial_refund_while_the_order_ran_is_marked_not_taken() {
    let mut book = OrderBook::new(10);
    for (at, message) in [
        (0, created(3)),
        (1, charged(3, 9)),
        (2, refund_of(3, 9, 10.0)),
        (3, reserved(3, true)),
        (4, confirmed(3)),
    ] {
        book.apply(ms(at), &message);
    }
    let row = book.row(id(3)).unwrap();
    let early = row.compensations[0].clone();
    assert_eq!(
        row.not_taken(&early).as_deref(),
        Some(
            "a refund of less than the order's total while the order ran: OrderService asked for none, \
             and refuses it"
        )
    );
    assert_eq!(row.undone_after_completion(), None);
    // Before any charge (45-AV F3): refused as well, and no charge "lost" said beside it.
    let mut before = OrderBook::new(10);
    for (at, message) in [(0, created(4)), (1, refund_of(4, 8, 5.0))] {
        before.apply(ms(at), &message);
    }
    let first = before.row(id(4)).unwrap();
    let refund = &first.compensations[0];
    assert!(first.not_taken(refund).is_some());
    assert_eq!(first.unseen_step(refund), None);
    book.apply(ms(5), &refund_of(3, 9, 15.0));
    let row = book.row(id(3)).unwrap();
    let later = row.compensations[1].clone();
    assert_eq!(row.not_taken(&later), None, "recorded: not a repeat");
    assert!(row
        .undone_after_completion()
        .is_some_and(|t| t.starts_with("refunded in part after completion")));
}

/// A newcomer's break-test: one `orders/cancelled` "by hand" from outside for a running order,
/// then OrderService's own (it cancels an order a participant undid): the row showed the first
/// reason and nothing of the second. Copies of the same message are no second outcome.
#[test]
fn a_second_different_outcome_is_named_and_a_copy_is_not() {
    let mut book = OrderBook::new(10);
    let by_hand: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "by hand".into(),
        cancelled_at: now(),
    }
    .into();
    let own: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "inventory released before the order completed".into(),
        cancelled_at: now(),
    }
    .into();
    for (at, message) in [
        (0, created(1)),
        (1, reserved(1, true)),
        (2, by_hand.clone()),
    ] {
        book.apply(ms(at), &message);
    }
    book.apply(ms(3), &by_hand);
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.other_outcome_note(), None, "a copy is the same outcome");
    book.apply(ms(4), &own);
    book.apply(ms(5), &confirmed(1));
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Cancelled);
    assert_eq!(row.reason.as_deref(), Some("by hand"));
    assert_eq!(
        row.other_outcome_note().as_deref(),
        Some(
            "also on the wire: orders/cancelled (\"inventory released before the order \
             completed\"): two outcomes for one order, so more than OrderService published one \
             (on an open broker any client may)"
        )
    );
    // Confirmed first, then a cancellation from outside.
    for (at, message) in [(0, created(2)), (1, confirmed(2)), (2, timed_out(2))] {
        book.apply(ms(at), &message);
    }
    let row = book.row(id(2)).unwrap();
    assert_eq!(row.status, OrderStatus::Completed);
    assert!(row.other_outcome_note().is_some_and(
        |n| n.starts_with("also on the wire: orders/cancelled (\"payment timed out\")")
    ));
}

/// A newcomer's break-test under orchestration: an `orders/cancelled` from outside reached the
/// page's clients first (nobody acts on it in that style), then OrderService confirmed the
/// order; the row said "Cancelled, compensating: refund not seen yet". The outcome this page's
/// OrderService published is the one shown; the other is named.
#[test]
fn the_outcome_order_service_published_is_shown_before_one_from_outside() {
    use crate::services::ServiceId;
    use broker_bridge::Direction;
    let mut history = PacketHistory::new(100);
    let by_hand: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "by hand".into(),
        cancelled_at: now(),
    }
    .into();
    let mut see = |service: ServiceId, direction, message: &DomainEvent| {
        let client = format!("eda-t-{}", service.slug());
        record(&mut history, service, &client, direction, message);
    };
    see(ServiceId::Order, Direction::Outgoing, &created(1));
    see(ServiceId::Notification, Direction::Incoming, &by_hand);
    see(ServiceId::Order, Direction::Incoming, &reserved(1, true));
    see(ServiceId::Order, Direction::Incoming, &charged(1, 7));
    see(ServiceId::Order, Direction::Outgoing, &confirmed(1));
    see(ServiceId::Payment, Direction::Incoming, &confirmed(1));
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Completed);
    assert_eq!(row.reason, None);
    assert_eq!(
        row.compensating(Default::default()),
        None,
        "nothing to compensate"
    );
    assert!(row
        .other_outcome_note()
        .is_some_and(|n| n.starts_with("also on the wire: orders/cancelled (\"by hand\")")));
}

/// 41-AH F3: a payment of 0.01 before the order's creation (OrderService keeps it, then
/// refuses it as not its charge) was listed "✓ charged 0.01", and the real charge after the
/// creation made the row say "charged 2 times".
#[test]
fn a_payment_of_another_amount_before_the_creation_is_not_counted_a_charge() {
    let mut book = OrderBook::default();
    let DomainEvent::PaymentProcessed(mut early) = charged(1, 6) else {
        unreachable!()
    };
    early.amount = 0.01;
    for message in [early.into(), created(1), charged(1, 7)] {
        book.apply(ms(1), &message);
    }
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        row.steps,
        [
            StepSeen::OtherAmount(id(6), 0.01),
            StepSeen::Charged(id(7), 59.98)
        ]
    );
    assert_eq!(row.charges(), 1);
    assert_eq!(
        row.steps[0].describe(),
        "✕ a payment of 0.01, not the order's total: not its charge"
    );
}

fn refund_of(order: u128, payment: u128, amount: f64) -> DomainEvent {
    PaymentRefunded {
        order_id: id(order),
        payment_id: id(payment),
        amount,
        refunded_at: now(),
    }
    .into()
}

/// A newcomer's break-test: a 5000.00 refund of a completed 59.98 order (OrderService refuses
/// it), then a repeat refund of the same payment id (OrderService ignores it) were listed as
/// two refunds, unmarked.
#[test]
fn a_refund_over_the_total_and_a_repeat_of_one_payment_are_marked_as_not_taken() {
    let mut book = OrderBook::default();
    for message in [
        created(1),
        reserved(1, true),
        charged(1, 7),
        confirmed(1),
        refund_of(1, 7, 5000.0),
        refund_of(1, 7, 10.0),
        refund_of(1, 7, 20.0),
    ] {
        book.apply(ms(1), &message);
    }
    let row = book.row(id(1)).unwrap();
    let notes: Vec<Option<String>> = row.compensations.iter().map(|c| row.not_taken(c)).collect();
    assert_eq!(
        notes,
        [
            Some("more than the order's total 59.98: OrderService refuses it".to_owned()),
            None,
            Some(
                "payment 00000000… refunded again: OrderService records one refund per payment \
                 and ignores this one"
                    .to_owned()
            ),
        ]
    );
    // 43-AO F9: the same amount again, refunded a second later: a second refund, marked; the
    // same message again (a copy) is still one.
    let mut book = OrderBook::default();
    let later = |event: DomainEvent| match event {
        DomainEvent::PaymentRefunded(mut r) => {
            r.refunded_at =
                Timestamp::from_unix_millis(r.refunded_at.unix_millis() + 1_000).unwrap();
            DomainEvent::PaymentRefunded(r)
        }
        other => other,
    };
    for message in [
        created(3),
        charged(3, 9),
        confirmed(3),
        refund_of(3, 9, 4.0),
        refund_of(3, 9, 4.0),
        later(refund_of(3, 9, 4.0)),
    ] {
        book.apply(ms(1), &message);
    }
    let row = book.row(id(3)).unwrap();
    let notes: Vec<bool> = row
        .compensations
        .iter()
        .map(|c| row.not_taken(c).is_some())
        .collect();
    assert_eq!(notes, [false, true], "{:?}", row.compensations);
    // A cancelled order: a 0.01 refund under the charge's id is refused, so the refund of the
    // charge after it is no repeat.
    let mut book = OrderBook::default();
    for message in [
        created(2),
        charged(2, 8),
        timed_out(2),
        refund_of(2, 8, 0.01),
        refunded(2, 8),
    ] {
        book.apply(ms(1), &message);
    }
    let row = book.row(id(2)).unwrap();
    assert_eq!(row.not_taken(&row.compensations[1]), None);
    // 41-AH F2: a completed order: a 0.00 refund under the charge's id is refused, so the
    // real refund after it is no repeat.
    let mut book = OrderBook::default();
    for message in [
        created(3),
        reserved(3, true),
        charged(3, 9),
        confirmed(3),
        refund_of(3, 9, 0.0),
        refund_of(3, 9, 59.98),
    ] {
        book.apply(ms(1), &message);
    }
    let row = book.row(id(3)).unwrap();
    let notes: Vec<Option<String>> = row.compensations.iter().map(|c| row.not_taken(c)).collect();
    assert_eq!(
        notes,
        [
            Some(
                "a refund of 0.00 of a completed order undoes nothing: OrderService refuses it"
                    .to_owned()
            ),
            None
        ]
    );
}

/// A newcomer's break-test: a refund under a made-up payment id of the charge's amount read as
/// the compensation done; OrderService refuses it now, and the row still awaits the refund.
#[test]
fn a_refund_under_another_id_than_the_charge_leaves_the_row_compensating() {
    let mut book = OrderBook::default();
    for message in [created(1), charged(1, 7), timed_out(1), refunded(1, 44)] {
        book.apply(ms(1), &message);
    }
    assert!(book
        .row(id(1))
        .unwrap()
        .compensating(Default::default())
        .is_some());
    book.apply(ms(2), &refunded(1, 7));
    assert_eq!(
        book.row(id(1)).unwrap().compensating(Default::default()),
        None
    );
}

/// A newcomer's break-test (34-I F4): with the idempotent consumers off, *Deliver again* charged
/// and reserved an order twice, and the row said so; after a reload it said "✓ charged 59.98"
/// only, though PaymentService and InventoryService had kept both in the tab's database.
#[test]
fn a_restored_row_takes_the_charges_and_reservations_the_participants_kept() {
    use crate::services::durable::{ChargeMemo, HeldMemo, InventoryMemo, PaymentMemo};
    use crate::services::inventory::InventoryService;
    use crate::services::payment::PaymentService;
    let mut book = OrderBook::new(100);
    book.restore(ms(5), &stored_orders());
    let row = book.row(id(2)).unwrap();
    assert_eq!((row.charges(), row.reservations()), (1, 1));
    let before = book.row(id(1)).unwrap().clone();
    let mut payment = PaymentService::default();
    let charge = |n| ChargeMemo {
        payment_id: id(n),
        amount: 59.98,
        refunded_at: None,
    };
    payment.restore_memo(
        id(2),
        &PaymentMemo {
            total: None,
            charges: vec![charge(22), charge(23)],
            saga: Default::default(),
        },
    );
    let mut inventory = InventoryService::new(crate::services::Stock::default());
    let held = |n| HeldMemo {
        reservation_id: id(n),
        taken: Default::default(),
        released_at: None,
    };
    inventory.restore_memo(
        id(2),
        &InventoryMemo {
            held: vec![held(21), held(24)],
            ..Default::default()
        },
    );
    book.take_participants(&payment, &inventory);
    let row = book.row(id(2)).unwrap();
    assert_eq!((row.charges(), row.reservations()), (2, 2));
    // The steps known from the participants alone say so; those of the store do not (35-L F6:
    // "✓ charged" and "✓ stock reserved" on rows whose results the wire never carried).
    let kept: Vec<bool> = row
        .steps
        .iter()
        .map(|s| row.kept_step(s).is_some())
        .collect();
    let from_store = row.steps.len() - 2;
    assert_eq!(kept.iter().filter(|k| **k).count(), 2, "{:?}", row.steps);
    assert!(kept[..from_store].iter().all(|k| !k), "{:?}", row.steps);
    assert!(row
        .kept_step(&row.steps[from_store])
        .unwrap()
        .starts_with("kept by PaymentService in the tab's database, not recorded by OrderService: its payments/processed is not among"));
    // An order the participants kept nothing of is as the store has it.
    assert_eq!(book.row(id(1)).unwrap(), &before);
}

/// A newcomer's break-test (34-K F5): the broker answered OrderService's `orders/created` with
/// PUBREC 0x97 (Quota exceeded): it published nothing. The row stayed "Pending …" for ever.
#[test]
fn an_orders_created_the_broker_refused_marks_its_row_refused_not_open() {
    use crate::services::ServiceId;
    use crate::trace::script::{order, Script};
    use broker_bridge::packet::{Ack, Packet, ReasonCode};
    use broker_bridge::{Direction, ProtocolVersion, QoS};
    let mut script = Script::new(ProtocolVersion::V5);
    script.connect_all();
    let created = crate::domain::topics::ORDERS_CREATED;
    let refused = script
        .publish(
            ServiceId::Order,
            Direction::Outgoing,
            created,
            order(1),
            QoS::ExactlyOnce,
        )
        .unwrap();
    let taken = script
        .publish(
            ServiceId::Order,
            Direction::Outgoing,
            created,
            order(2),
            QoS::ExactlyOnce,
        )
        .unwrap();
    let answer = |id, reason| Packet::PubRec(Ack::with_reason(id, reason));
    script.send(
        ServiceId::Order,
        Direction::Incoming,
        answer(refused, ReasonCode::QuotaExceeded),
    );
    script.send(
        ServiceId::Order,
        Direction::Incoming,
        answer(taken, ReasonCode::Success),
    );
    let book = OrderBook::from_packets(&script.history, 10);
    let row = book.row(order(1)).unwrap();
    assert_eq!(row.refused.as_deref(), Some("Quota exceeded (0x97)"));
    assert!(row.is_refused());
    assert_eq!(
        row.refused_advice(),
        ("Place it again", true),
        "a quota frees up"
    );
    assert!(!book.row(order(2)).unwrap().is_refused());
    let counts = book.counts();
    assert_eq!((counts.refused, counts.open), (1, 1));
    assert!(counts
        .summary()
        .ends_with(", 1 refused by the broker (its orders/created was not published)"));
}

/// A break-test (43-AN F3): under MQTT 5.0 the broker answered PaymentService's
/// payments/processed with PUBACK Not authorized (0x87); the order timed out, and its row said
/// first that a broker that stopped answering held the result. It names the refusal now.
#[test]
fn a_result_the_broker_refused_is_named_with_its_reason_on_its_timed_out_order() {
    use crate::services::ServiceId;
    use crate::trace::script::{order, Script};
    use broker_bridge::packet::{Ack, Packet, Publish, ReasonCode};
    use broker_bridge::{Direction, ProtocolVersion, QoS};
    let mut script = Script::new(ProtocolVersion::V5);
    script.connect_all();
    script.publish(
        ServiceId::Order,
        Direction::Outgoing,
        crate::domain::topics::ORDERS_CREATED,
        order(1),
        QoS::AtMostOnce,
    );
    let charged = script
        .publish(
            ServiceId::Payment,
            Direction::Outgoing,
            crate::domain::topics::PAYMENTS_PROCESSED,
            order(1),
            QoS::AtLeastOnce,
        )
        .unwrap();
    script.send(
        ServiceId::Payment,
        Direction::Incoming,
        Packet::PubAck(Ack::with_reason(charged, ReasonCode::NotAuthorized)),
    );
    let timed_out: DomainEvent = OrderCancelled {
        order_id: order(1),
        reason: "payment timed out".into(),
        cancelled_at: now(),
    }
    .into();
    let cancelled = Publish::new(
        crate::domain::topics::ORDERS_CANCELLED,
        timed_out.to_json(),
        QoS::AtMostOnce,
    );
    script.send(
        ServiceId::Order,
        Direction::Outgoing,
        Packet::Publish(cancelled),
    );
    let book = OrderBook::from_packets(&script.history, 10);
    let row = book.row(order(1)).unwrap();
    let step = row
        .steps
        .iter()
        .find(|s| s.is_payment())
        .expect("the charge is a step");
    let note = row.unheard_step(step, false).unwrap();
    assert!(
        note.starts_with(
            "OrderService never received this payments/processed: the broker refused it, Not \
             authorized (0x87) (its answer to the PUBLISH)"
        ),
        "{note}"
    );
    assert!(!note.contains("stopped answering"), "{note}");
    assert!(!row.is_refused(), "its orders/created was published");
}

/// 44-AT F3: orders near 256 KiB timed out although both participants answered at once: their
/// results reached OrderService seconds later, behind the large messages on its connection, and
/// nothing on the row said the broker had made them late.
#[test]
fn a_result_published_before_the_deadline_and_received_after_it_is_said_late() {
    use crate::services::ServiceId;
    use broker_bridge::Direction::{Incoming, Outgoing};
    let timed_out: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "inventory and payment timed out".into(),
        cancelled_at: now(),
    }
    .into();
    let mut history = PacketHistory::new(100);
    let order = ServiceId::Order;
    // Each packet 1 ms after the one before (`record`).
    record(&mut history, order, "eda-t-order", Outgoing, &created(1));
    record(
        &mut history,
        ServiceId::Inventory,
        "eda-t-inventory",
        Outgoing,
        &reserved(1, true),
    );
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        Outgoing,
        &charged(1, 7),
    );
    // The charge reached OrderService before the deadline; the reservation after it.
    record(&mut history, order, "eda-t-order", Incoming, &charged(1, 7));
    record(&mut history, order, "eda-t-order", Outgoing, &timed_out);
    record(
        &mut history,
        order,
        "eda-t-order",
        Incoming,
        &reserved(1, true),
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    let notes: Vec<_> = row
        .steps
        .iter()
        .map(|s| row.unheard_step(s, false))
        .collect();
    assert_eq!(
        notes,
        [
            Some("OrderService received this inventory/reserved 4 ms after InventoryService published it, once the deadline had cancelled the order: the broker delivered it late (large messages ahead of it on OrderService's connection, such as orders of hundreds of KB, or a busy broker, hold it up)".to_owned()),
            None
        ]
    );
}

/// A newcomer's break-test (34-J F8): an ACL dropped InventoryService's inventory/reserved, the
/// order ended "inventory timed out", and nothing pointed at the broker.
#[test]
fn a_result_published_here_that_order_service_never_received_is_named_on_its_timed_out_order() {
    use crate::services::ServiceId;
    use broker_bridge::Direction::{Incoming, Outgoing};
    let inventory_timed_out: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "inventory timed out".into(),
        cancelled_at: now(),
    }
    .into();
    let mut history = PacketHistory::new(100);
    let order = ServiceId::Order;
    record(&mut history, order, "eda-t-order", Outgoing, &created(1));
    record(
        &mut history,
        ServiceId::Inventory,
        "eda-t-inventory",
        Outgoing,
        &reserved(1, true),
    );
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        Outgoing,
        &charged(1, 7),
    );
    record(&mut history, order, "eda-t-order", Incoming, &charged(1, 7));
    let unheard = |history: &PacketHistory| {
        let book = OrderBook::from_packets(history, 10);
        let row = book.row(id(1)).unwrap();
        row.steps
            .iter()
            .map(|s| row.unheard_step(s, false))
            .collect::<Vec<_>>()
    };
    assert_eq!(unheard(&history), [None, None], "not ended yet");
    let mut ended = history.clone();
    record(
        &mut ended,
        order,
        "eda-t-order",
        Outgoing,
        &inventory_timed_out,
    );
    let notes = unheard(&ended);
    let reserved_note = notes[0].as_deref().unwrap();
    assert!(
        reserved_note
            .starts_with("OrderService never received this inventory/reserved: the broker has not delivered it: a broker that stopped answering"),
        "{reserved_note}"
    );
    assert!(reserved_note.contains("ACL") && reserved_note.contains("0x87"));
    // OrderService crashed: the crash is the cause named (40-AD F4).
    let book = OrderBook::from_packets(&ended, 10);
    let row = book.row(id(1)).unwrap();
    let crashed = row.unheard_step(&row.steps[0], true).unwrap();
    assert!(
        crashed
            .starts_with("OrderService has not received this inventory/reserved: it is crashed.")
            && !crashed.contains("ACL"),
        "{crashed}"
    );
    // Mosquitto logs nothing for a delivery a read rule held back: the note does not send the
    // learner to a log line that is not there (39-AA F1), it says what the log does show.
    assert!(
        !reserved_note.contains("log says which")
            && reserved_note.ends_with(
                "Mosquitto's log names a refused publish (Denied PUBLISH), but not a delivery its \
                 read rule held back: that shows only as a Received PUBLISH with no Sending \
                 PUBLISH to OrderService"
            ),
        "{reserved_note}"
    );
    // Nor a badge that says nothing (36-S F1): a restart without its session is named.
    assert!(
        reserved_note.contains("Session Present 0") && !reserved_note.contains("its badge says so"),
        "{reserved_note}"
    );
    assert_eq!(
        notes[1], None,
        "the charge was received, and the timeout is not payment's"
    );

    // OrderService away (crashed) when it went out, then back with a clean session: the
    // broker dropped what it held for the old session, the lesson of ?session=clean, not a
    // fault of the broker (37-V F6). A persistent one keeps the broker's words.
    // `present`: the broker's CONNACK, Session Present 1 or 0 (`None`: no CONNACK yet).
    let reconnected_with = |clean: bool, present: Option<bool>| {
        use broker_bridge::packet::{ConnAck, Connect, Packet};
        use broker_bridge::{PacketEvent, ProtocolVersion, ReasonCode};
        let mut history = ended.clone();
        let mut connect = Connect::new(ProtocolVersion::V311, "eda-t-order", 30);
        connect.clean_session = clean;
        let mut packets = vec![(Outgoing, Packet::Connect(connect))];
        if let Some(present) = present {
            packets.push((
                Incoming,
                Packet::ConnAck(ConnAck::new(present, ReasonCode::Success)),
            ));
        }
        for (direction, packet) in packets {
            let event = PacketEvent {
                at: ms(100),
                client_id: "eda-t-order".into(),
                direction,
                bytes: packet.encode(ProtocolVersion::V311).unwrap(),
                packet,
                protocol: ProtocolVersion::V311,
                skipped: None,
            };
            history.record(order, &event);
        }
        unheard(&history)
    };
    let reconnected = |clean: bool| reconnected_with(clean, None);
    let clean = reconnected(true);
    let note = clean[0].as_deref().unwrap();
    assert!(
        note.starts_with("OrderService never received this inventory/reserved: it went out while OrderService was away, and OrderService connected again with a clean session"),
        "{note}"
    );
    assert!(!note.contains("broker's log"), "{note}");
    assert_eq!(clean[1], None, "the charge it had received");
    assert_eq!(reconnected(false)[0].as_deref(), Some(reserved_note));
    // A session asked kept and found gone (Session Present 0: a broker restarted without
    // persistence): that cause alone is named (42-AL F3: the three guesses on every row).
    let lost = reconnected_with(false, Some(false));
    let note = lost[0].as_deref().unwrap();
    assert!(
        note.starts_with("OrderService never received this inventory/reserved: the broker had no session kept for OrderService when it connected again (Session Present 0")
            && !note.contains("ACL"),
        "{note}"
    );
    assert_eq!(
        reconnected_with(false, Some(true))[0].as_deref(),
        Some(reserved_note),
        "kept: the broker's words"
    );

    // Received after the deadline, published before it: not a dropped message, a late
    // delivery (44-AT F3).
    let mut late = ended.clone();
    record(
        &mut late,
        order,
        "eda-t-order",
        Incoming,
        &reserved(1, true),
    );
    let notes = unheard(&late);
    assert!(
        notes[0].as_deref().is_some_and(|n| n.starts_with(
            "OrderService received this inventory/reserved 4 ms after InventoryService published it, once the deadline had cancelled the order"
        )),
        "{notes:?}"
    );
    assert_eq!(notes[1], None);
    // Published after the deadline (a slow participant): nothing to say of the broker.
    let mut slow = PacketHistory::new(100);
    record(&mut slow, order, "eda-t-order", Outgoing, &created(1));
    record(
        &mut slow,
        order,
        "eda-t-order",
        Outgoing,
        &inventory_timed_out,
    );
    record(
        &mut slow,
        ServiceId::Inventory,
        "eda-t-inventory",
        Outgoing,
        &reserved(1, true),
    );
    record(
        &mut slow,
        order,
        "eda-t-order",
        Incoming,
        &reserved(1, true),
    );
    assert_eq!(unheard(&slow), [None]);

    // Published by no client of this page (from outside): the page cannot tell.
    let mut outside = PacketHistory::new(100);
    record(&mut outside, order, "eda-t-order", Outgoing, &created(1));
    record(
        &mut outside,
        ServiceId::Inventory,
        "eda-t-inventory",
        Incoming,
        &reserved(1, true),
    );
    record(
        &mut outside,
        order,
        "eda-t-order",
        Outgoing,
        &inventory_timed_out,
    );
    assert_eq!(unheard(&outside), [None]);

    // Another reason: the inventory's step is no cause of a payment's timeout.
    let mut payment = history.clone();
    record(&mut payment, order, "eda-t-order", Outgoing, &timed_out(1));
    assert_eq!(unheard(&payment), [None, None]);
}

/// A newcomer's break-test (35-M F1): an `orders/created` that is not UTF-8 text, dead-lettered
/// at once, made a row marked "restored from the browser's database after a reload" with no
/// reload; the count said "its" for two orders.
#[test]
fn a_creation_dead_lettered_at_its_first_try_started_on_this_wire_not_in_a_reload() {
    use crate::services::dead_letter::{deadletter_topic, DeadLetter};
    use crate::services::ServiceId::Order;
    let mut history = PacketHistory::new(100);
    let mut bytes = String::from_utf8(created_by(1, "C#3", 59.98).to_json())
        .unwrap()
        .into_bytes();
    let at = bytes.iter().position(|&b| b == b'#').unwrap();
    bytes[at] = 0xff;
    let letter = DeadLetter::of_message(
        Order,
        topics::ORDERS_CREATED,
        &bytes,
        "payload is not UTF-8 text",
        1,
        now(),
    );
    record_raw(
        &mut history,
        Order,
        &deadletter_topic(Order),
        letter.to_json(),
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).expect("a row for the dead-lettered order");
    assert!(row.is_dead_lettered());
    assert!(matches!(row.start, Start::Created(_)), "{:?}", row.start);
    assert_eq!(row.start.mark(), None, "no reload to speak of");

    let mut two = history.clone();
    let poison = created_by(2, "POISON", 59.98);
    record_raw(
        &mut two,
        Order,
        &deadletter_topic(Order),
        dead_letter_of(&poison),
    );
    let summary = OrderBook::from_packets(&two, 10).counts().summary();
    assert!(
        summary.ends_with(
            ", 2 dead-lettered (their orders/created are in OrderService's dead letters)"
        ),
        "{summary}"
    );
}

/// A newcomer's break-test (35-M F7): "nothing to undo" answers from outside for a completed
/// order read "↺ nothing to refund: never charged" beside "✓ charged 59.98", as if taken.
#[test]
fn a_nothing_to_undo_answer_for_a_completed_order_is_marked_as_not_taken() {
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(1));
    book.apply(ms(1), &reserved(1, true));
    book.apply(ms(2), &charged(1, 7));
    book.apply(ms(3), &confirmed(1));
    book.apply(ms(4), &released(1, 0));
    let nil_refund: DomainEvent = PaymentRefunded {
        order_id: id(1),
        payment_id: Uuid::nil(),
        amount: 0.0,
        refunded_at: now(),
    }
    .into();
    book.apply(ms(5), &nil_refund);
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Completed);
    let notes: Vec<Option<String>> = row.compensations.iter().map(|c| row.not_taken(c)).collect();
    assert_eq!(notes.len(), 2);
    for note in notes {
        assert_eq!(
            note.as_deref(),
            Some("a \"nothing to undo\" answer for a completed order, whose step was done: OrderService asked none, and refuses it")
        );
    }
}

/// A newcomer's break-test (35-M F11): a release under a made-up reservation id, which
/// OrderService refused as undoing nothing, made a completed order's row say "undone after
/// completion". A refund of its real charge still does.
#[test]
fn a_compensation_under_another_id_is_no_undoing_after_completion() {
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(1));
    book.apply(ms(1), &reserved(1, true));
    book.apply(ms(2), &released(1, 999));
    book.apply(ms(3), &charged(1, 7));
    book.apply(ms(4), &confirmed(1));
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Completed);
    assert_eq!(row.undone_after_completion(), None);
    book.apply(ms(5), &refunded(1, 7));
    assert!(book.row(id(1)).unwrap().undone_after_completion().is_some());
}

/// 45-AW F3: a completed order charged twice (dedupe off), the second charge refunded by hand:
/// the double charge undone, not the order, whose own charge stands.
#[test]
fn a_refund_of_a_completed_order_s_second_charge_is_no_undoing_of_the_order() {
    let mut book = OrderBook::default();
    for (at, message) in [
        (0, created(1)),
        (1, reserved(1, true)),
        (2, charged(1, 7)),
        (3, confirmed(1)),
        (4, charged(1, 8)),
        (5, refunded(1, 8)),
    ] {
        book.apply(ms(at), &message);
    }
    assert_eq!(book.row(id(1)).unwrap().undone_after_completion(), None);
    book.apply(ms(6), &refunded(1, 7));
    assert!(book.row(id(1)).unwrap().undone_after_completion().is_some());
}

/// A newcomer's break-test (35-M F3): an `orders/confirmed` from outside before the order's
/// creation, then OrderService's own: the row read "✓ Completed … 0 ms" with no mark of two
/// outcomes.
#[test]
fn a_confirmation_from_outside_before_the_order_is_a_second_outcome_and_the_time_is_to_the_own() {
    use crate::services::ServiceId;
    use broker_bridge::Direction::{Incoming, Outgoing};
    let mut history = PacketHistory::new(100);
    record(
        &mut history,
        ServiceId::Notification,
        "eda-t-notification",
        Incoming,
        &confirmed(1),
    );
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        Outgoing,
        &created(1),
    );
    record(
        &mut history,
        ServiceId::Inventory,
        "eda-t-inventory",
        Outgoing,
        &reserved(1, true),
    );
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        Outgoing,
        &charged(1, 7),
    );
    record(
        &mut history,
        ServiceId::Order,
        "eda-t-order",
        Outgoing,
        &confirmed(1),
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Completed);
    assert!(
        row.other_outcome_note()
            .is_some_and(|n| n.starts_with("also on the wire: orders/confirmed: two outcomes")),
        "{:?}",
        row.other_outcome_note()
    );
    // Created at 1 ms, OrderService's confirmation at 4 ms.
    assert_eq!(row.time_to_outcome(), Some(ms(3)));

    // OrderService's own confirmation alone, its copies after: one outcome.
    let mut one = PacketHistory::new(100);
    record(
        &mut one,
        ServiceId::Order,
        "eda-t-order",
        Outgoing,
        &created(1),
    );
    record(
        &mut one,
        ServiceId::Order,
        "eda-t-order",
        Outgoing,
        &confirmed(1),
    );
    record(
        &mut one,
        ServiceId::Notification,
        "eda-t-notification",
        Incoming,
        &confirmed(1),
    );
    let book = OrderBook::from_packets(&one, 10);
    assert_eq!(book.row(id(1)).unwrap().other_outcome_note(), None);
}

/// A newcomer's break-test (35-P F4): a "nothing to refund" published by hand, then the page's
/// late charge and its refund. The row read "↺ nothing to refund: never charged" beside
/// "✓ charged 59.98" and "↺ refunded 59.98", unexplained.
#[test]
fn a_nothing_to_undo_answer_beside_a_step_done_and_undone_says_when_it_held() {
    let mut book = OrderBook::default();
    let cancelled: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "payment refunded before the order completed".into(),
        cancelled_at: now(),
    }
    .into();
    for (at, message) in [
        (0, created(1)),
        (300, refunded(1, 0)),
        (301, cancelled),
        (900, charged(1, 7)),
        (901, refunded(1, 7)),
    ] {
        book.apply(ms(at), &message);
    }
    let row = book.row(id(1)).unwrap();
    let notes: Vec<_> = row
        .compensations
        .iter()
        .map(|c| (c.describe(), row.answered_before_a_step(c)))
        .collect();
    assert_eq!(
        notes,
        [
            (
                "↺ nothing to refund: never charged".to_owned(),
                Some("so it was when answered, or for the PaymentService that answered: the row also shows a charge, refunded")
            ),
            ("↺ refunded 59.98".to_owned(), None),
        ]
    );
    // Beside a refund of a charge the row does not show (made up by hand, or lost): no charge,
    // refunded, to speak of (41-AJ F4).
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(3));
    book.apply(ms(300), &refunded(3, 0));
    book.apply(ms(900), &refunded(3, 7));
    let row = book.row(id(3)).unwrap();
    assert_eq!(row.compensations.len(), 2);
    assert!(row
        .compensations
        .iter()
        .all(|c| row.answered_before_a_step(c).is_none()));
    // Alone, the answer needs nothing added.
    let mut book = OrderBook::default();
    book.apply(ms(0), &created(2));
    book.apply(ms(300), &refunded(2, 0));
    let row = book.row(id(2)).unwrap();
    assert_eq!(row.answered_before_a_step(&row.compensations[0]), None);
}

/// A newcomer's break-test (36-Q F4): reloaded while the broker was down, the restored rows read
/// "✕ Cancelled" for cancellations the wire had not shown (still in the outbox). Their rows stay
/// open and say the outcome waits for the broker, as before a reload, until the wire shows it.
#[test]
fn a_restored_order_whose_outcome_is_still_owed_stays_open_until_the_wire_shows_it() {
    let store = stored_orders();
    let mut book = OrderBook::new(100);
    book.restore_owing(ms(5), &store, &[id(1)]);
    let row = book.row(id(1)).unwrap();
    assert!(!row.status.is_terminal(), "{:?}", row.status);
    assert_eq!(
        row.decided_note(store.fold(id(1)).as_ref()).as_deref(),
        Some(
            "cancelled by OrderService (out of stock); its orders/cancelled is not on the wire \
             yet: it waits for the broker"
        )
    );
    assert_eq!(
        book.row(id(2)).unwrap().status,
        OrderStatus::Completed,
        "not owed"
    );
    let cancelled: DomainEvent = OrderCancelled {
        order_id: id(1),
        reason: "out of stock".into(),
        cancelled_at: now(),
    }
    .into();
    book.apply(ms(9), &cancelled);
    let row = book.row(id(1)).unwrap();
    assert_eq!(row.status, OrderStatus::Cancelled);
    assert_eq!(row.decided_note(store.fold(id(1)).as_ref()), None);
}

/// 37-U F4: a reload where the broker handed over a retained `orders/created` before the
/// database answered made that order's row first, then put every restored order after it: the
/// order the page saw last became the oldest row, and fell out of the rows drawn. Rows of the
/// store's orders take the store's order (the order OrderService appended them), and a row of
/// an order the store does not hold stays after them.
#[test]
fn a_row_made_before_the_restore_takes_its_order_s_place_in_the_store() {
    let store = stored_orders();
    let mut book = OrderBook::new(100);
    // The retained copy of the store's last order, and an order the store does not hold.
    book.apply(ms(1), &created(2));
    book.apply(ms(2), &created(9));
    book.restore(ms(5), &store);
    let order: Vec<_> = book.rows().map(|r| r.order_id).collect();
    assert_eq!(order, [id(1), id(2), id(9)]);
}

/// 45-AW F5: a forged second charge of a cancelled order, the page's own refunded: the row
/// said only "refund not confirmed after 4 tries", never naming the charge no client of the
/// page made.
#[test]
fn a_charge_left_that_no_client_of_the_page_made_is_named_after_the_tries() {
    use crate::services::ServiceId;
    use broker_bridge::Direction::{Incoming, Outgoing};
    let mut history = PacketHistory::new(100);
    let order = ServiceId::Order;
    record(&mut history, order, "eda-t-order", Outgoing, &created(1));
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        Outgoing,
        &charged(1, 7),
    );
    record(&mut history, order, "eda-t-order", Incoming, &charged(1, 8));
    for _ in 0..COMPENSATION_TRIES {
        record(&mut history, order, "eda-t-order", Outgoing, &timed_out(1));
    }
    record(
        &mut history,
        ServiceId::Payment,
        "eda-t-payment",
        Outgoing,
        &refunded(1, 7),
    );
    let book = OrderBook::from_packets(&history, 10);
    let row = book.row(id(1)).unwrap();
    assert_eq!(
        row.compensating(Default::default()).as_deref(),
        Some(
            format!(
                "refund not confirmed after 4 tries: the charge left, {}…, was made by no client of this page (another client's, by hand?), so PaymentService has nothing of it to refund",
                &id(8).to_string()[..8]
            )
            .as_str()
        )
    );
}

/// 46-AY F1: the broker acknowledged a QoS 2 orders/created and delivered it to nobody (past
/// Mosquitto's in-flight limit under MQTT 3.1.1); the row, cancelled at its deadline, says so.
#[test]
fn an_order_the_broker_took_and_delivered_to_no_client_says_so_once_cancelled() {
    use crate::services::ServiceId;
    use broker_bridge::Direction::{Incoming, Outgoing};
    let order = ServiceId::Order;
    let mut history = PacketHistory::new(100);
    record(&mut history, order, "eda-t-order", Outgoing, &created(1));
    let note = |history: &PacketHistory| {
        OrderBook::from_packets(history, 10)
            .row(id(1))
            .unwrap()
            .undelivered_note()
    };
    assert_eq!(note(&history), None, "not ended yet");
    record(&mut history, order, "eda-t-order", Outgoing, &timed_out(1));
    assert_eq!(
        note(&history).as_deref(),
        Some("the broker took its orders/created and delivered it to no client of this page, so no participant heard of the order (OrderService's log names the likely causes)")
    );
    // Delivered to one client of the page (here NotificationService): not the broker's drop.
    let mut delivered = PacketHistory::new(100);
    record(&mut delivered, order, "eda-t-order", Outgoing, &created(1));
    record(
        &mut delivered,
        ServiceId::Notification,
        "eda-t-notification",
        Incoming,
        &created(1),
    );
    record(
        &mut delivered,
        order,
        "eda-t-order",
        Outgoing,
        &timed_out(1),
    );
    assert_eq!(note(&delivered), None);
}

/// A newcomer's break-test (46-AY F3): an order over Mosquitto's `message_size_limit`, refused
/// Packet too large (0x95), was told "Place it again" and offered *Deliver again*: the same
/// bytes are refused every time.
#[test]
fn an_order_refused_for_its_size_is_told_to_shrink_not_to_go_again() {
    use crate::services::ServiceId;
    use crate::trace::script::{order, Script};
    use broker_bridge::packet::{Ack, Packet, ReasonCode};
    use broker_bridge::{Direction, ProtocolVersion, QoS};
    for (code, advice, again) in [
        (ReasonCode::PacketTooLarge, "Place a smaller order (fewer lines), or raise the broker's limit (Mosquitto's message_size_limit): the same order is refused again", false),
        (ReasonCode::NotAuthorized, "The broker's access rules forbid OrderService to publish orders/created: the same order is refused until they allow it", true),
    ] {
        let mut script = Script::new(ProtocolVersion::V5);
        script.connect_all();
        let id = script
            .publish(ServiceId::Order, Direction::Outgoing, crate::domain::topics::ORDERS_CREATED, order(1), QoS::AtLeastOnce)
            .unwrap();
        // Mosquitto answers a PUBLISH over its limit with PUBACK 0x95, a code MQTT 5.0 does
        // not list for PUBACK (§3.4.2.1): the decoder takes it, the encoder would not, so the
        // event carries a valid PUBACK's bytes (the book reads the packet, not the bytes).
        let mut event = crate::trace::script::event_for(
            ServiceId::Order,
            1_000,
            Direction::Incoming,
            Packet::PubAck(Ack::with_reason(id, ReasonCode::NotAuthorized)),
            ProtocolVersion::V5,
        );
        event.packet = Packet::PubAck(Ack::with_reason(id, code));
        script.history.record(ServiceId::Order, &event);
        let book = OrderBook::from_packets(&script.history, 10);
        let row = book.row(order(1)).unwrap();
        assert!(row.is_refused(), "{code:?}");
        assert_eq!(row.refused_advice(), (advice, again), "{code:?}");
    }
}
