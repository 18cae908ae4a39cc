//! Every transition of the order aggregate, as a table: the commands that bring the order to a
//! state, one more command, and what it causes.

use super::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn confirm_inventory() -> OrderCommand {
    OrderCommand::ConfirmInventory {
        reservation_id: id(10),
    }
}

fn confirm_payment() -> OrderCommand {
    OrderCommand::ConfirmPayment {
        payment_id: id(20),
        amount: 59.98,
    }
}

fn fail_inventory() -> OrderCommand {
    OrderCommand::FailInventory {
        reason: "out of stock".into(),
    }
}

/// PaymentService's `paymentId` of the decline [`fail_payment`] reports.
const DECLINE_ID: Uuid = Uuid::from_u128(0xD0);

fn fail_payment() -> OrderCommand {
    OrderCommand::FailPayment {
        payment_id: DECLINE_ID,
        reason: "payment declined".into(),
    }
}

fn time_out() -> OrderCommand {
    OrderCommand::Cancel {
        reason: "payment timed out".into(),
    }
}

fn release() -> OrderCommand {
    OrderCommand::RecordRelease {
        reservation_id: id(10),
    }
}

fn refund() -> OrderCommand {
    OrderCommand::RecordRefund {
        payment_id: id(20),
        amount: 59.98,
    }
}

/// The order after `history`.
fn after(history: &[OrderCommand]) -> Order {
    let mut order = Order::new(id(1), "C123", 59.98);
    for command in history {
        order.handle(command).unwrap();
    }
    order
}

fn cancelled(reason: &str) -> OrderEvent {
    OrderEvent::Cancelled {
        reason: reason.into(),
    }
}

#[test]
fn every_transition_of_the_aggregate() {
    use OrderStatus::*;
    type Outcome = Result<(Vec<OrderEvent>, OrderStatus), Refusal>;
    let ok = |events: Vec<OrderEvent>, status| -> Outcome { Ok((events, status)) };
    let inventory_ok = OrderEvent::InventoryConfirmed {
        reservation_id: id(10),
    };
    let payment_ok = OrderEvent::PaymentConfirmed {
        payment_id: id(20),
        amount: 59.98,
    };
    let released = OrderEvent::InventoryReleased {
        reservation_id: id(10),
    };
    let nil_released = OrderEvent::InventoryReleased {
        reservation_id: Uuid::nil(),
    };
    let refunded = OrderEvent::PaymentRefunded {
        payment_id: id(20),
        amount: 59.98,
    };
    let nil_refunded = OrderEvent::PaymentRefunded {
        payment_id: Uuid::nil(),
        amount: 0.0,
    };
    let nothing_released = || OrderCommand::RecordRelease {
        reservation_id: Uuid::nil(),
    };
    let nothing_refunded = || OrderCommand::RecordRefund {
        payment_id: Uuid::nil(),
        amount: 0.0,
    };
    let table: Vec<(&str, Vec<OrderCommand>, OrderCommand, Outcome)> =
        vec![
        (
            "stock first",
            vec![],
            confirm_inventory(),
            ok(vec![inventory_ok.clone()], InventoryConfirmed),
        ),
        (
            "then payment completes",
            vec![confirm_inventory()],
            confirm_payment(),
            ok(vec![payment_ok.clone(), OrderEvent::Completed], Completed),
        ),
        (
            "parallel: payment first",
            vec![],
            confirm_payment(),
            ok(vec![payment_ok.clone()], PaymentConfirmed),
        ),
        (
            "parallel: then stock completes",
            vec![confirm_payment()],
            confirm_inventory(),
            ok(vec![inventory_ok.clone(), OrderEvent::Completed], Completed),
        ),
        (
            "a payment before the stock, whatever the style (topics keep no order between them)",
            vec![],
            confirm_payment(),
            ok(vec![payment_ok.clone()], PaymentConfirmed),
        ),
        (
            "decline",
            vec![confirm_inventory()],
            fail_payment(),
            ok(
                vec![
                    OrderEvent::PaymentFailed {
                        payment_id: DECLINE_ID,
                        reason: "payment declined".into(),
                    },
                    cancelled("payment declined"),
                ],
                Cancelled,
            ),
        ),
        (
            "out of stock",
            vec![],
            fail_inventory(),
            ok(
                vec![
                    OrderEvent::InventoryFailed {
                        reason: "out of stock".into(),
                    },
                    cancelled("out of stock"),
                ],
                Cancelled,
            ),
        ),
        (
            "parallel: both fail, recorded, the first reason stays",
            vec![fail_inventory()],
            fail_payment(),
            ok(
                vec![OrderEvent::PaymentFailed {
                    payment_id: DECLINE_ID,
                    reason: "payment declined".into(),
                }],
                Cancelled,
            ),
        ),
        (
            "timeout",
            vec![confirm_inventory()],
            time_out(),
            ok(vec![cancelled("payment timed out")], Cancelled),
        ),
        (
            "a late success after the timeout",
            vec![confirm_inventory(), time_out()],
            confirm_payment(),
            ok(vec![payment_ok.clone()], Cancelled),
        ),
        (
            "parallel: a late reservation after a decline",
            vec![fail_payment()],
            confirm_inventory(),
            ok(vec![inventory_ok.clone()], Cancelled),
        ),
        (
            "a refund of a late success",
            vec![time_out(), confirm_payment()],
            refund(),
            ok(
                vec![OrderEvent::PaymentRefunded {
                    payment_id: id(20),
                    amount: 59.98,
                }],
                Cancelled,
            ),
        ),
        (
            "a timeout after completion",
            vec![confirm_inventory(), confirm_payment()],
            time_out(),
            Err(Refusal::Completed("cancellation")),
        ),
        (
            "nothing after Completed",
            vec![confirm_inventory(), confirm_payment()],
            fail_payment(),
            Err(Refusal::Completed("payment failure")),
        ),
        (
            "a duplicate result",
            vec![confirm_inventory()],
            confirm_inventory(),
            ok(vec![], InventoryConfirmed),
        ),
        (
            "a duplicate after completion",
            vec![confirm_inventory(), confirm_payment()],
            confirm_payment(),
            ok(vec![], Completed),
        ),
        (
            "a duplicate failure after cancellation",
            vec![fail_payment()],
            fail_payment(),
            ok(vec![], Cancelled),
        ),
        (
            "a second cancellation",
            vec![time_out()],
            OrderCommand::Cancel { reason: "x".into() },
            ok(vec![], Cancelled),
        ),
        (
            "a release after cancellation",
            vec![confirm_inventory(), fail_payment()],
            release(),
            ok(
                vec![OrderEvent::InventoryReleased {
                    reservation_id: id(10),
                }],
                Cancelled,
            ),
        ),
        (
            "a refund after cancellation",
            vec![confirm_payment(), fail_inventory()],
            refund(),
            ok(
                vec![OrderEvent::PaymentRefunded {
                    payment_id: id(20),
                    amount: 59.98,
                }],
                Cancelled,
            ),
        ),
        (
            "a release twice",
            vec![confirm_inventory(), fail_payment(), release()],
            release(),
            ok(vec![], Cancelled),
        ),
        (
            "a release before the reservation it undoes (another topic, another arrival order)",
            vec![fail_payment()],
            release(),
            ok(
                vec![OrderEvent::InventoryReleased {
                    reservation_id: id(10),
                }],
                Cancelled,
            ),
        ),
        (
            "then the reservation is nothing new",
            vec![fail_payment(), release()],
            confirm_inventory(),
            ok(vec![], Cancelled),
        ),
        (
            "a release of nothing",
            vec![fail_inventory()],
            release(),
            Err(Refusal::NothingToUndo("release")),
        ),
        // Nothing was asked of an order still running: a participant that undid its step did
        // it for someone else's orders/cancelled (a break-test: one forged cancellation, and
        // OrderService confirmed an order whose charge was refunded and stock released). The
        // order cannot complete on a step that may be gone: recorded, then cancelled.
        (
            "a release of a live order",
            vec![confirm_inventory()],
            release(),
            ok(vec![released.clone(), cancelled(UNASKED_RELEASE)], Cancelled),
        ),
        (
            "a release of a live order before its reservation",
            vec![confirm_payment()],
            release(),
            ok(vec![released.clone(), cancelled(UNASKED_RELEASE)], Cancelled),
        ),
        (
            "nothing to release (the nil id) for a live order",
            vec![],
            nothing_released(),
            ok(
                vec![nil_released.clone(), cancelled(UNASKED_NOTHING_RELEASED)],
                Cancelled,
            ),
        ),
        (
            "a refund of a live order",
            vec![confirm_payment()],
            refund(),
            ok(vec![refunded.clone(), cancelled(UNASKED_REFUND)], Cancelled),
        ),
        (
            "nothing to refund (the nil id) for a live order",
            vec![confirm_inventory()],
            nothing_refunded(),
            ok(
                vec![nil_refunded.clone(), cancelled(UNASKED_NOTHING_REFUNDED)],
                Cancelled,
            ),
        ),
        // A refund of another amount does not undo this order's charge: the order runs on.
        (
            "a refund of another amount, of a live order",
            vec![confirm_payment()],
            OrderCommand::RecordRefund {
                payment_id: id(20),
                amount: 0.01,
            },
            Err(Refusal::NotAsked("refund")),
        ),
    ];
    for (name, history, command, expected) in table {
        let mut order = after(&history);
        let version = order.version;
        let got = order.handle(&command).map(|events| (events, order.status));
        assert_eq!(got, expected, "{name}");
        if let Ok((events, _)) = &got {
            assert_eq!(
                order.version,
                version + events.len() as u64,
                "{name}: one version per event"
            );
        }
    }
}

#[test]
fn the_state_is_the_fold_of_its_events() {
    let history = [confirm_inventory(), fail_payment(), release()];
    let mut live = Order::new(id(1), "C123", 59.98);
    let mut events = Vec::new();
    for command in &history {
        events.extend(live.handle(command).unwrap());
    }
    let mut rebuilt = Order::new(id(1), "C123", 59.98);
    for event in &events {
        rebuilt.apply(event);
    }
    assert_eq!(rebuilt, live);
    assert_eq!(live.status, OrderStatus::Cancelled);
    assert_eq!(live.inventory, Step::Compensated(id(10)));
    assert_eq!(live.payment, Step::Failed("payment declined".into()));
    assert_eq!(live.cancel_reason.as_deref(), Some("payment declined"));
    assert_eq!(live.version, 4);
}

#[test]
fn refusals_read_as_sentences() {
    let completed = after(&[confirm_inventory(), confirm_payment()]);
    assert_eq!(
        completed.decide(&fail_payment()).unwrap_err().to_string(),
        "the order is already completed: payment failure refused"
    );
    assert_eq!(
        after(&[fail_payment()])
            .decide(&refund())
            .unwrap_err()
            .to_string(),
        "refund refused: nothing was done to undo"
    );
    for status in [OrderStatus::Completed, OrderStatus::Cancelled] {
        assert!(status.is_terminal());
    }
    assert!(!OrderStatus::PaymentConfirmed.is_terminal());
    assert_eq!(
        OrderStatus::InventoryConfirmed.to_string(),
        "InventoryConfirmed"
    );
}

/// A newcomer's break-test: a reservation made, then the page reloaded (with no database to
/// keep InventoryService's memory in), then the order cancelled; the reloaded InventoryService answers the
/// release with "nothing to release" (the nil id). Rewound, the order said "undone before it
/// was done" at the version after the reservation it showed done: the fold now says that the
/// participant forgot it, and "before it was done" only when it really was not done.
#[test]
fn a_compensation_of_nothing_after_the_step_was_done_says_the_participant_forgot_it() {
    let nothing_released = OrderCommand::RecordRelease {
        reservation_id: Uuid::nil(),
    };
    let nothing_refunded = OrderCommand::RecordRefund {
        payment_id: Uuid::nil(),
        amount: 59.98,
    };
    // The payment confirmed after the cancellation (recorded: a charge to refund).
    let mut order = after(&[
        confirm_inventory(),
        time_out(),
        confirm_payment(),
        nothing_released.clone(),
        nothing_refunded.clone(),
    ]);
    assert_eq!(order.inventory, Step::Forgotten(id(10)));
    assert_eq!(order.payment, Step::Forgotten(id(20)));
    assert_eq!(
        order.inventory.describe(StepKind::Reservation),
        format!(
            "InventoryService had nothing to release: it forgot reservation {} (reloaded with no \
             database to keep its memory in), or never made it (another client published it), so \
             it was never released",
            id(10)
        )
    );
    assert_eq!(
        order.payment.describe(StepKind::Payment),
        format!(
            "PaymentService had nothing to refund: it forgot payment {} (reloaded with no \
             database to keep its memory in), or never made it (another client published it), so \
             it was never refunded",
            id(20)
        )
    );
    // The compensation is over: the same answer again, or the step's result again, is nothing
    // new; nothing is left to undo.
    for again in [
        nothing_released,
        nothing_refunded,
        confirm_inventory(),
        confirm_payment(),
    ] {
        assert_eq!(order.handle(&again), Ok(Vec::new()), "{again:?}");
    }
    assert!(!order.inventory.is_confirmed() && !order.payment.is_confirmed());

    // Before the step (it really was not done): the rewind says it as the Orders row does,
    // "nothing to release: never reserved", not "undone before it was done".
    let early = after(&[
        time_out(),
        OrderCommand::RecordRelease {
            reservation_id: Uuid::nil(),
        },
    ]);
    assert_eq!(early.inventory, Step::Compensated(Uuid::nil()));
    assert_eq!(
        early.inventory.describe(StepKind::Reservation),
        "nothing to release: never reserved"
    );
    // A break-test: an order the deadline cancelled before its payment, rewound to its last
    // version, said "Payment: undone before it was done"; nothing was ever charged.
    let uncharged = after(&[
        time_out(),
        OrderCommand::RecordRefund {
            payment_id: Uuid::nil(),
            amount: 0.0,
        },
    ]);
    assert_eq!(uncharged.payment, Step::Compensated(Uuid::nil()));
    assert_eq!(
        uncharged.payment.describe(StepKind::Payment),
        "nothing to refund: never charged"
    );
    // A whole refund stays "undone".
    let refunded = after(&[confirm_inventory(), time_out(), confirm_payment(), refund()]);
    assert_eq!(refunded.describe_payment(), format!("undone ({})", id(20)));
    // A real release stays "undone".
    let released = after(&[confirm_inventory(), time_out(), release()]);
    assert_eq!(
        released.inventory.describe(StepKind::Reservation),
        format!("undone ({})", id(10))
    );
}

#[test]
fn a_payment_of_another_amount_than_the_total_is_not_the_order_s_payment_in_any_status() {
    // A newcomer's break-test: a 0.01 payment from outside completed a 59.98 order, and the
    // real charge that followed was refused.
    let wrong = OrderCommand::ConfirmPayment {
        payment_id: id(99),
        amount: 0.01,
    };
    let reserved = {
        let mut order = Order::new(id(1), "C123", 59.98);
        order.handle(&confirm_inventory()).unwrap();
        order
    };
    let refusal = reserved.decide(&wrong).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "payment confirmation refused: its amount 0.01 is not the order's total 59.98, so it is \
         not this order's charge"
    );
    // The order still waits for its own charge, and completes on it.
    let mut order = reserved.clone();
    let events = order.handle(&confirm_payment()).unwrap();
    assert_eq!(events.last(), Some(&OrderEvent::Completed));
    // Completed or cancelled: the same refusal, not "already completed" nor a step to undo.
    assert!(matches!(
        order.decide(&wrong),
        Err(Refusal::WrongAmount { .. })
    ));
    let mut cancelled = Order::new(id(1), "C123", 59.98);
    cancelled
        .handle(&OrderCommand::Cancel {
            reason: "payment timed out".into(),
        })
        .unwrap();
    assert!(matches!(
        cancelled.decide(&wrong),
        Err(Refusal::WrongAmount { .. })
    ));
    // The same amount written otherwise (59.980) is the same number of cents.
    let same = OrderCommand::ConfirmPayment {
        payment_id: id(20),
        amount: 59.980,
    };
    assert!(reserved.decide(&same).is_ok());
}

/// A refund that does not undo the charge (another amount) is not the compensation of a
/// cancelled order: refused, and the refund is still awaited; the full refund, or "never
/// charged" (the nil id), is. A completed order still records a refund by hand of any amount.
#[test]
fn a_cancelled_order_refuses_a_refund_of_another_amount_as_its_compensation() {
    let mut cancelled = Order::new(id(1), "C123", 59.98);
    cancelled.handle(&confirm_payment()).unwrap();
    cancelled
        .handle(&OrderCommand::Cancel {
            reason: "inventory timed out".into(),
        })
        .unwrap();
    let refund = |amount: f64, payment_id| OrderCommand::RecordRefund { payment_id, amount };
    let refusal = cancelled.decide(&refund(0.01, id(20))).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "refund refused: its amount 0.01 is not the order's total 59.98, so it does not undo the \
         charge (OrderService still waits for the refund)"
    );
    assert!(cancelled
        .decide(&refund(59.98, id(20)))
        .is_ok_and(|e| !e.is_empty()));
    // Unknown outcome (never answered), then "never charged": the nil id ends it.
    let mut unknown = Order::new(id(2), "C123", 59.98);
    unknown
        .handle(&OrderCommand::Cancel {
            reason: "payment timed out".into(),
        })
        .unwrap();
    assert!(matches!(
        unknown.decide(&refund(0.01, id(21))),
        Err(Refusal::ShortRefund { .. })
    ));
    assert!(unknown.decide(&refund(0.0, Uuid::nil())).is_ok());
    // A completed order: a partial refund by hand is recorded (it lowers the revenue).
    let mut completed = Order::new(id(3), "C123", 59.98);
    completed.handle(&confirm_inventory()).unwrap();
    completed.handle(&confirm_payment()).unwrap();
    assert!(completed
        .decide(&refund(10.0, id(20)))
        .is_ok_and(|e| !e.is_empty()));
}

/// A refund of more than the order's total undoes no charge of the order, whatever its status:
/// refused, with both amounts (a newcomer's break-test: 5000.00 for a 59.98 order was stored).
#[test]
fn a_refund_of_more_than_the_total_is_refused_whatever_the_status() {
    let refund = |amount: f64| OrderCommand::RecordRefund {
        payment_id: id(20),
        amount,
    };
    let mut completed = Order::new(id(3), "C123", 59.98);
    completed.handle(&confirm_inventory()).unwrap();
    completed.handle(&confirm_payment()).unwrap();
    let mut cancelled = Order::new(id(4), "C123", 59.98);
    cancelled.handle(&confirm_payment()).unwrap();
    cancelled
        .handle(&OrderCommand::Cancel {
            reason: "inventory timed out".into(),
        })
        .unwrap();
    let running = Order::new(id(5), "C123", 59.98);
    for order in [&completed, &cancelled, &running] {
        let refusal = order.decide(&refund(5000.0)).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "refund refused: its amount 5000.00 is more than the order's total 59.98, the most \
             it can have been charged",
            "{:?}",
            order.status
        );
        // One cent over is over; the total itself is not.
        assert!(matches!(
            order.decide(&refund(59.99)),
            Err(Refusal::RefundOverCharge { .. })
        ));
        assert!(order.decide(&refund(59.98)).is_ok());
    }
}

/// 41-AH F2: a refund of 0.00 of a completed order under its charge's id is refused (it used up
/// the payment's one refund, and the real refund after it was ignored); the real refund after
/// it is recorded. The nil id's "nothing to refund" answer (amount 0) is another rule.
#[test]
fn a_refund_of_nothing_of_a_completed_order_is_refused_and_the_real_one_after_it_recorded() {
    let mut completed = Order::new(id(3), "C123", 59.98);
    completed.handle(&confirm_inventory()).unwrap();
    completed.handle(&confirm_payment()).unwrap();
    let refund = |amount: f64| OrderCommand::RecordRefund {
        payment_id: id(20),
        amount,
    };
    let refusal = completed.decide(&refund(0.0)).unwrap_err();
    assert_eq!(refusal, Refusal::ZeroRefund);
    assert_eq!(
        refusal.to_string(),
        "refund refused: its amount is 0.00, so it undoes nothing of the charge"
    );
    assert!(
        completed.decide(&refund(0.01)).is_ok(),
        "a cent is a refund"
    );
    assert!(completed
        .handle(&refund(59.98))
        .is_ok_and(|events| !events.is_empty()));
}

/// A refund or release under another id than the step's undoes nothing of the order: refused
/// whatever its status, so a cancelled order still waits for its own (a newcomer's break-test:
/// a refund under a made-up id ended the wait, and the real charge was never refunded). The
/// nil id ("nothing to undo") and a step whose outcome is unknown are not such a case.
#[test]
fn a_compensation_under_another_id_than_the_step_s_is_refused() {
    let refund = |payment_id| OrderCommand::RecordRefund {
        payment_id,
        amount: 59.98,
    };
    let release = |reservation_id| OrderCommand::RecordRelease { reservation_id };
    let cancelled_after = |step: OrderCommand| {
        let mut order = Order::new(id(1), "C123", 59.98);
        order.handle(&step).unwrap();
        order
            .handle(&OrderCommand::Cancel {
                reason: "by hand".into(),
            })
            .unwrap();
        order
    };
    let cancelled = cancelled_after(confirm_payment());
    let unreleased = cancelled_after(confirm_inventory());
    assert_eq!(
        cancelled.decide(&refund(id(44))).unwrap_err().to_string(),
        format!(
            "refund refused: payment {} is not this order's payment ({}), so it undoes nothing \
             of it",
            id(44),
            id(20)
        )
    );
    assert!(matches!(
        unreleased.decide(&release(id(55))),
        Err(Refusal::NotTheStep {
            kind: "reservation",
            ..
        })
    ));
    assert!(cancelled
        .decide(&refund(id(20)))
        .is_ok_and(|e| !e.is_empty()));
    assert!(unreleased
        .decide(&release(id(10)))
        .is_ok_and(|e| !e.is_empty()));
    assert!(cancelled.decide(&refund(Uuid::nil())).is_ok());
    // Completed: a refund by hand goes under the charge's id.
    let mut completed = Order::new(id(2), "C123", 59.98);
    completed.handle(&confirm_inventory()).unwrap();
    completed.handle(&confirm_payment()).unwrap();
    assert!(matches!(
        completed.decide(&refund(id(44))),
        Err(Refusal::NotTheStep { .. })
    ));
    // 43-AP F3: refunded in part by hand (its charge's id), then a refund under another id:
    // refused too, not taken unrecorded.
    completed
        .handle(&OrderCommand::RecordRefund {
            payment_id: id(20),
            amount: 10.0,
        })
        .unwrap();
    // The rewind says what the refund was, not that the step was undone (43 left alone: it
    // said "Payment: undone (…)" while the rest stayed charged).
    assert_eq!(
        completed.describe_payment(),
        format!(
            "refunded in part: 10.00 of 59.98 ({}); the rest stays charged",
            id(20)
        )
    );
    assert!(matches!(
        completed.decide(&OrderCommand::RecordRefund {
            payment_id: id(99),
            amount: 5.0,
        }),
        Err(Refusal::NotTheStep { held, .. }) if held == id(20)
    ));
    // The charge never heard of (its outcome unknown): any id may be it.
    let mut unknown = Order::new(id(3), "C123", 59.98);
    unknown
        .handle(&OrderCommand::Cancel {
            reason: "payment timed out".into(),
        })
        .unwrap();
    assert!(unknown.decide(&refund(id(44))).is_ok_and(|e| !e.is_empty()));
}

/// A newcomer's break-test (35-M F7): a "nothing to undo" answer (the nil id) from outside for a
/// completed order was recorded, and its row read "✓ charged … ↺ nothing to refund: never
/// charged". OrderService asks no compensation of a completed order: refused, not recorded.
#[test]
fn a_nothing_to_undo_answer_for_a_completed_order_is_refused() {
    let mut completed = Order::new(id(2), "C123", 59.98);
    completed.handle(&confirm_inventory()).unwrap();
    completed.handle(&confirm_payment()).unwrap();
    assert_eq!(completed.status, OrderStatus::Completed);
    let nil_refund = OrderCommand::RecordRefund {
        payment_id: Uuid::nil(),
        amount: 0.0,
    };
    let nil_release = OrderCommand::RecordRelease {
        reservation_id: Uuid::nil(),
    };
    assert_eq!(
        completed.decide(&nil_refund).unwrap_err().to_string(),
        format!(
            "refund refused: a \"nothing to undo\" answer (the nil id), but the order is \
             completed, so no compensation was asked, and its payment {} was done",
            id(20)
        )
    );
    assert!(matches!(
        completed.decide(&nil_release),
        Err(Refusal::NothingAskedOfCompleted {
            kind: "reservation",
            ..
        })
    ));
    // A refund by hand of the charge itself is still recorded (undone after completion).
    assert!(completed
        .decide(&OrderCommand::RecordRefund {
            payment_id: id(20),
            amount: 59.98,
        })
        .is_ok_and(|e| !e.is_empty()));
}

/// 44-AS F2: two charges of one order (the idempotent consumer off, a copy handled twice), then
/// its cancellation: PaymentService refunds both. The refund of the first was refused as "not
/// this order's payment" and the store kept one refund of two. Both are recorded now, the step
/// undone by its own; a refund of the first again is nothing new.
#[test]
fn a_second_charge_s_refunds_are_both_recorded() {
    let mut order = Order::new(id(1), "C123", 59.98);
    let charge = |payment: u128| OrderCommand::ConfirmPayment {
        payment_id: id(payment),
        amount: 59.98,
    };
    let refund_of = |payment: u128| OrderCommand::RecordRefund {
        payment_id: id(payment),
        amount: 59.98,
    };
    order.handle(&charge(20)).unwrap();
    order.handle(&charge(21)).unwrap();
    assert_eq!(order.other_charges, [id(21)]);
    order.handle(&time_out()).unwrap();
    let second = order.handle(&refund_of(21)).unwrap();
    assert_eq!(
        second,
        [OrderEvent::PaymentRefunded {
            payment_id: id(21),
            amount: 59.98
        }]
    );
    assert_eq!(
        order.payment,
        Step::Confirmed(id(20)),
        "the step is the first charge"
    );
    assert_eq!(order.handle(&refund_of(21)), Ok(Vec::new()), "nothing new");
    assert_eq!(order.handle(&refund_of(20)).unwrap().len(), 1);
    assert_eq!(order.payment, Step::Compensated(id(20)));
    assert!(order.other_charges.is_empty());
    // A made-up id is still not this order's payment.
    assert!(matches!(
        order.decide(&refund_of(99)),
        Err(Refusal::NotTheStep { .. })
    ));
}

/// 44-AT F1: dedupe off, the order delivered again after it completed: its second charge was
/// refused ("the order is already completed") and its refund then "not this order's payment";
/// the store held neither. Both are recorded now, beside the step, which stays the first charge.
#[test]
fn a_completed_order_s_second_charge_and_its_refund_are_recorded() {
    let mut order = after(&[confirm_inventory(), confirm_payment()]);
    assert_eq!(order.status, OrderStatus::Completed);
    let second = OrderCommand::ConfirmPayment {
        payment_id: id(21),
        amount: 59.98,
    };
    assert_eq!(order.handle(&second).unwrap().len(), 1);
    assert_eq!(
        order.payment,
        Step::Confirmed(id(20)),
        "the step is the first"
    );
    assert_eq!(order.other_charges, [id(21)]);
    assert_eq!(
        order.handle(&second),
        Ok(Vec::new()),
        "a copy is nothing new"
    );
    let refund_of = |payment: u128| OrderCommand::RecordRefund {
        payment_id: id(payment),
        amount: 59.98,
    };
    assert_eq!(order.handle(&refund_of(21)).unwrap().len(), 1);
    assert_eq!(order.payment, Step::Confirmed(id(20)));
    assert_eq!(order.handle(&refund_of(20)).unwrap().len(), 1);
    assert_eq!(order.payment, Step::Compensated(id(20)));
    assert_eq!(order.status, OrderStatus::Completed);
    // A charge of another amount is still not this order's.
    assert!(order
        .decide(&OrderCommand::ConfirmPayment {
            payment_id: id(22),
            amount: 0.01,
        })
        .is_err());
}

/// 45-AU F1: two reservations of one order (two InventoryServices on one broker, or a copy
/// handled twice): the later replaced the first in the fold, and the first one's release was
/// refused as "not this order's reservation". Both releases are recorded now, and the rewind
/// names the other reservation and the other charge.
#[test]
fn a_second_reservation_s_releases_are_both_recorded_and_the_rewind_names_it() {
    let reserve = |reservation: u128| OrderCommand::ConfirmInventory {
        reservation_id: id(reservation),
    };
    let release_of = |reservation: u128| OrderCommand::RecordRelease {
        reservation_id: id(reservation),
    };
    let mut order = Order::new(id(1), "C123", 59.98);
    order.handle(&reserve(30)).unwrap();
    order.handle(&reserve(31)).unwrap();
    assert_eq!(order.other_reservations, [id(31)]);
    assert_eq!(
        order.describe_inventory(),
        format!(
            "done ({}); also reserved: {} (not released)",
            id(30),
            id(31)
        )
    );
    order.handle(&time_out()).unwrap();
    assert_eq!(order.handle(&release_of(31)).unwrap().len(), 1);
    assert_eq!(order.inventory, Step::Confirmed(id(30)));
    assert_eq!(order.handle(&release_of(31)), Ok(Vec::new()), "nothing new");
    assert_eq!(order.handle(&release_of(30)).unwrap().len(), 1);
    assert_eq!(
        order.describe_inventory(),
        format!("undone ({}); also reserved: {} (released)", id(30), id(31))
    );
    assert!(matches!(
        order.decide(&release_of(99)),
        Err(Refusal::NotTheStep { .. })
    ));

    // A completed order reserved and charged again: recorded beside the steps, which stay the
    // first ones.
    let mut completed = after(&[confirm_inventory(), confirm_payment()]);
    let first = completed.describe_payment();
    assert_eq!(completed.handle(&reserve(32)).unwrap().len(), 1);
    completed
        .handle(&OrderCommand::ConfirmPayment {
            payment_id: id(21),
            amount: 59.98,
        })
        .unwrap();
    assert_eq!(completed.status, OrderStatus::Completed);
    assert_eq!(completed.other_reservations, [id(32)]);
    assert_eq!(
        completed.describe_payment(),
        format!("{first}; also charged: {} (not refunded)", id(21))
    );
    assert_eq!(completed.handle(&release_of(32)).unwrap().len(), 1);
    assert!(completed.inventory.is_confirmed(), "the step stays");
}
