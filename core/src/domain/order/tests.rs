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

fn fail_payment() -> OrderCommand {
    OrderCommand::FailPayment {
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

/// The order after `history`, each decided as `sequential` says.
fn after(history: &[OrderCommand], sequential: bool) -> Order {
    let mut order = Order::new(id(1), "C123", 59.98);
    for command in history {
        order.handle(command, sequential).unwrap();
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
    let table: Vec<(&str, Vec<OrderCommand>, bool, OrderCommand, Outcome)> = vec![
        (
            "stock first",
            vec![],
            true,
            confirm_inventory(),
            ok(vec![inventory_ok.clone()], InventoryConfirmed),
        ),
        (
            "then payment completes",
            vec![confirm_inventory()],
            true,
            confirm_payment(),
            ok(vec![payment_ok.clone(), OrderEvent::Completed], Completed),
        ),
        (
            "parallel: payment first",
            vec![],
            false,
            confirm_payment(),
            ok(vec![payment_ok.clone()], PaymentConfirmed),
        ),
        (
            "parallel: then stock completes",
            vec![confirm_payment()],
            false,
            confirm_inventory(),
            ok(vec![inventory_ok.clone(), OrderEvent::Completed], Completed),
        ),
        (
            "sequential: no payment before stock",
            vec![],
            true,
            confirm_payment(),
            Err(Refusal::PaymentBeforeInventory),
        ),
        (
            "decline",
            vec![confirm_inventory()],
            true,
            fail_payment(),
            ok(
                vec![
                    OrderEvent::PaymentFailed {
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
            true,
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
            "parallel: both fail, the first reason stays",
            vec![fail_inventory()],
            false,
            fail_payment(),
            Err(Refusal::Cancelled {
                reason: "out of stock".into(),
                what: "payment failure",
            }),
        ),
        (
            "timeout",
            vec![confirm_inventory()],
            true,
            time_out(),
            ok(vec![cancelled("payment timed out")], Cancelled),
        ),
        (
            "a late success after the timeout",
            vec![confirm_inventory(), time_out()],
            true,
            confirm_payment(),
            Err(Refusal::Cancelled {
                reason: "payment timed out".into(),
                what: "payment confirmation",
            }),
        ),
        (
            "a timeout after completion",
            vec![confirm_inventory(), confirm_payment()],
            true,
            time_out(),
            Err(Refusal::Completed("cancellation")),
        ),
        (
            "nothing after Completed",
            vec![confirm_inventory(), confirm_payment()],
            true,
            fail_payment(),
            Err(Refusal::Completed("payment failure")),
        ),
        (
            "a duplicate result",
            vec![confirm_inventory()],
            true,
            confirm_inventory(),
            ok(vec![], InventoryConfirmed),
        ),
        (
            "a duplicate after completion",
            vec![confirm_inventory(), confirm_payment()],
            true,
            confirm_payment(),
            ok(vec![], Completed),
        ),
        (
            "a duplicate failure after cancellation",
            vec![fail_payment()],
            false,
            fail_payment(),
            ok(vec![], Cancelled),
        ),
        (
            "a second cancellation",
            vec![time_out()],
            true,
            OrderCommand::Cancel { reason: "x".into() },
            ok(vec![], Cancelled),
        ),
        (
            "a release after cancellation",
            vec![confirm_inventory(), fail_payment()],
            true,
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
            false,
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
            true,
            release(),
            ok(vec![], Cancelled),
        ),
        (
            "a release of nothing",
            vec![fail_inventory()],
            true,
            release(),
            Err(Refusal::NothingToUndo("release")),
        ),
    ];
    for (name, history, sequential, command, expected) in table {
        let mut order = after(&history, sequential);
        let version = order.version;
        let got = order
            .handle(&command, sequential)
            .map(|events| (events, order.status));
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
        events.extend(live.handle(command, true).unwrap());
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
    let completed = after(&[confirm_inventory(), confirm_payment()], true);
    assert_eq!(
        completed
            .decide(&fail_payment(), true)
            .unwrap_err()
            .to_string(),
        "the order is already completed: payment failure refused"
    );
    assert_eq!(
        after(&[], true)
            .decide(&confirm_payment(), true)
            .unwrap_err()
            .to_string(),
        "payment confirmation refused: the inventory is not confirmed yet"
    );
    assert_eq!(
        after(&[], true)
            .decide(&refund(), true)
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
