use super::*;
use broker_bridge::Link;

const UP: OrderLink<'static> = OrderLink::Up(&CONNECTED);
const CONNECTED: Link = Link::Connected { url: String::new() };

fn all_subscribed() -> OrderGate {
    let mut gate = OrderGate::default();
    for service in ServiceId::ALL {
        gate.subscribed(service);
    }
    gate
}

/// PaymentService's dead letter of an order, everyone up, with sessions `kept` or clean.
fn payment_retry(kept: bool) -> Retry<'static> {
    Retry {
        topic: "orders/created",
        gave_up: ServiceId::Payment,
        gave_up_link: UP,
        publisher_link: UP,
        sessions_kept: kept,
    }
}

#[test]
fn a_retry_goes_when_everyone_is_up_and_subscribed_in_every_style_and_session() {
    for style in SagaStyle::ALL {
        for kept in [true, false] {
            let gate = all_subscribed();
            assert_eq!(
                gate.check_retry(style, &payment_retry(kept)),
                Ok(()),
                "{style}"
            );
        }
    }
}

#[test]
fn the_publisher_is_the_topic_s_owner_and_its_state_comes_first() {
    let gate = OrderGate::default();
    let retry = Retry {
        topic: "payments/processed",
        gave_up: ServiceId::Order,
        publisher_link: OrderLink::Crashed,
        ..payment_retry(false)
    };
    assert_eq!(retry.publisher(), ServiceId::Payment);
    let refused = gate
        .check_retry(SagaStyle::Parallel, &retry)
        .expect_err("PaymentService crashed");
    assert_eq!(
        refused,
        RetryRefusal::Publisher {
            publisher: ServiceId::Payment.into(),
            why: OrderRefusal::Crashed
        }
    );
    assert_eq!(
        retry_refused(&refused),
        "Retry: PaymentService is crashed, so the message was not published again. Press \
         Restart on PaymentService, then try again. The dead letter stays listed, with your \
         edits."
    );
    // A topic no service publishes: the service that gave up publishes it again.
    let unowned = Retry {
        topic: "somewhere/else",
        ..retry
    };
    assert_eq!(unowned.publisher(), ServiceId::Order);
}

#[test]
fn a_publisher_still_connecting_refuses_rather_than_queueing_for_its_first_connack() {
    let gate = all_subscribed();
    let connecting = Link::starting("ws://h:2");
    let retry = Retry {
        publisher_link: OrderLink::Up(&connecting),
        ..payment_retry(true)
    };
    let refused = gate.check_retry(SagaStyle::Parallel, &retry).unwrap_err();
    assert!(
        retry_refused(&refused)
            .starts_with("Retry: OrderService is still connecting to the broker at ws://h:2, so"),
        "{}",
        retry_refused(&refused)
    );
}

#[test]
fn consumers_of_the_topic_not_subscribed_yet_hold_the_retry_but_query_service_does_not() {
    let mut gate = OrderGate::default();
    for service in [ServiceId::Order, ServiceId::Notification, ServiceId::Query] {
        gate.subscribed(service);
    }
    let refused = gate
        .check_retry(SagaStyle::Parallel, &payment_retry(true))
        .unwrap_err();
    assert_eq!(
        refused,
        RetryRefusal::Publisher {
            publisher: ServiceId::Order.into(),
            why: OrderRefusal::WaitingFor(vec![ServiceId::Payment, ServiceId::Inventory]),
        }
    );
    assert!(retry_refused(&refused).starts_with(
        "Retry: OrderService is waiting for PaymentService, InventoryService to subscribe, so"
    ));
    // Under orchestration PaymentService and InventoryService do not read inventory/reserved:
    // they do not hold its retry back.
    let mut gate = OrderGate::default();
    gate.subscribed(ServiceId::Order);
    gate.subscribed(ServiceId::Notification);
    let reserved = Retry {
        topic: "inventory/reserved",
        gave_up: ServiceId::Order,
        ..payment_retry(true)
    };
    assert_eq!(
        gate.check_retry(SagaStyle::Orchestration, &reserved),
        Ok(())
    );
    // QueryService's own dead letter (an event of an order's stream) waits for it.
    let query = Retry {
        topic: "eventstore/orders/5a1f3c1e-0000-4000-8000-000000000001",
        gave_up: ServiceId::Query,
        ..reserved
    };
    assert_eq!(
        gate.check_retry(SagaStyle::Orchestration, &query),
        Err(RetryRefusal::Publisher {
            publisher: ServiceId::Order.into(),
            why: OrderRefusal::WaitingFor(vec![ServiceId::Query]),
        })
    );
}

#[test]
fn clean_sessions_hold_a_retry_until_the_service_that_gave_up_is_subscribed_again() {
    let mut gate = all_subscribed();
    gate.left(ServiceId::Payment);
    let crashed = Retry {
        gave_up_link: OrderLink::Crashed,
        ..payment_retry(false)
    };
    let refused = gate.check_retry(SagaStyle::Parallel, &crashed).unwrap_err();
    assert_eq!(
        refused,
        RetryRefusal::GaveUpAway {
            service: ServiceId::Payment,
            crashed: true
        }
    );
    let text = retry_refused(&refused);
    assert!(
        text.contains("Press Restart on PaymentService, then Retry once it has subscribed again"),
        "{text}"
    );
    // Restarted: connected, no SUBACK yet. A message now would go before its SUBSCRIBE.
    let restarted = Retry {
        gave_up_link: UP,
        ..crashed
    };
    let refused = gate
        .check_retry(SagaStyle::Parallel, &restarted)
        .unwrap_err();
    assert_eq!(
        refused,
        RetryRefusal::GaveUpAway {
            service: ServiceId::Payment,
            crashed: false
        }
    );
    assert!(!retry_refused(&refused).contains("Restart"));
    // Orders still go: a crashed consumer missing them is the lesson of clean sessions.
    assert_eq!(gate.check(SagaStyle::Parallel, UP), Ok(()));
    assert!(!gate.subscribed(ServiceId::Payment), "not its first SUBACK");
    assert_eq!(gate.check_retry(SagaStyle::Parallel, &restarted), Ok(()));
}

#[test]
fn persistent_sessions_let_a_retry_wait_at_the_broker_for_a_crashed_consumer() {
    let mut gate = all_subscribed();
    gate.left(ServiceId::Payment);
    let retry = Retry {
        gave_up_link: OrderLink::Crashed,
        ..payment_retry(true)
    };
    assert_eq!(gate.check_retry(SagaStyle::Parallel, &retry), Ok(()));
}

#[test]
fn another_consumer_crashed_with_a_clean_session_does_not_hold_the_retry_but_one_reconnecting_does()
{
    let mut gate = all_subscribed();
    gate.crashed(ServiceId::Inventory);
    assert_eq!(
        gate.check_retry(SagaStyle::Parallel, &payment_retry(false)),
        Ok(())
    );
    // Restarted, or its connection dropped (a broker restart): it subscribes again within
    // moments, and a message now would reach its clean session's nothing.
    gate.restarted(ServiceId::Inventory);
    let refused = gate
        .check_retry(SagaStyle::Parallel, &payment_retry(false))
        .unwrap_err();
    assert_eq!(
        refused,
        RetryRefusal::Publisher {
            publisher: ServiceId::Order.into(),
            why: OrderRefusal::WaitingFor(vec![ServiceId::Inventory]),
        }
    );
    // With persistent sessions the broker queues it for InventoryService meanwhile.
    assert_eq!(
        gate.check_retry(SagaStyle::Parallel, &payment_retry(true)),
        Ok(())
    );
    gate.subscribed(ServiceId::Inventory);
    assert_eq!(
        gate.check_retry(SagaStyle::Parallel, &payment_retry(false)),
        Ok(())
    );
}

/// Two PaymentService instances share one subscription group: one subscribed is enough, and
/// PaymentService is crashed only when both are.
#[test]
fn one_subscribed_instance_of_several_is_enough_and_the_last_one_leaving_holds_the_retry() {
    let second = Instance::new(ServiceId::Payment, 2);
    let mut gate = all_subscribed();
    gate.subscribed(second);
    // The first instance crashed: the second one takes the retry.
    gate.crashed(ServiceId::Payment);
    assert_eq!(
        gate.check_retry(SagaStyle::Parallel, &payment_retry(false)),
        Ok(())
    );
    // Both crashed.
    gate.crashed(second);
    let both_down = Retry {
        gave_up_link: OrderLink::Crashed,
        ..payment_retry(false)
    };
    assert_eq!(
        gate.check_retry(SagaStyle::Parallel, &both_down),
        Err(RetryRefusal::GaveUpAway {
            service: ServiceId::Payment,
            crashed: true
        })
    );
    // The second one restarted and subscribed again, then crashed again: the first one is still
    // down, nobody in the group is subscribed (the gate once stayed open here).
    gate.restarted(second);
    gate.subscribed(second);
    assert_eq!(
        gate.check_retry(SagaStyle::Parallel, &payment_retry(false)),
        Ok(())
    );
    gate.crashed(second);
    assert!(gate.is_down(ServiceId::Payment));
    assert_eq!(
        gate.check_retry(SagaStyle::Parallel, &both_down),
        Err(RetryRefusal::GaveUpAway {
            service: ServiceId::Payment,
            crashed: true
        })
    );
    // Its connection dropped instead (the first one still down): not crashed, reconnecting.
    gate.restarted(second);
    assert!(!gate.is_down(ServiceId::Payment));
    assert!(!gate.is_subscribed_now(ServiceId::Payment));
}

#[test]
fn a_move_to_another_broker_forgets_both_kinds_of_subscription() {
    let mut gate = all_subscribed();
    gate.moved(ServiceId::Payment);
    assert!(!gate.has_subscribed(ServiceId::Payment));
    assert!(!gate.is_subscribed_now(ServiceId::Payment));
    assert!(matches!(
        gate.check_retry(SagaStyle::Parallel, &payment_retry(true)),
        Err(RetryRefusal::Publisher {
            why: OrderRefusal::WaitingFor(_),
            ..
        })
    ));
}

#[test]
fn a_refused_poison_message_says_why_and_what_to_do() {
    let text = poison_refused(&OrderRefusal::WaitingFor(vec![ServiceId::Payment]));
    assert_eq!(
        text,
        "Poison message: OrderService is waiting for PaymentService to subscribe, so it was not \
         sent. An order published now would reach nobody who has not subscribed yet; this \
         message goes away once they have."
    );
    assert!(poison_refused(&OrderRefusal::Crashed)
        .starts_with("Poison message: OrderService is crashed, so it was not sent. Press Restart"));
}

/// A *Deliver again* of the traced PUBLISH `topic` by `by` in state `link`.
fn again(topic: &'static str, by: ServiceId, link: OrderLink<'static>) -> Retry<'static> {
    Retry {
        topic,
        gave_up: by,
        gave_up_link: link,
        publisher_link: link,
        sessions_kept: false,
    }
}

#[test]
fn deliver_again_is_refused_while_its_instance_is_crashed_or_not_connected() {
    let payment_2 = Instance::new(ServiceId::Payment, 2);
    let gate = all_subscribed();
    let style = SagaStyle::Parallel;
    let by_order = again("orders/created", ServiceId::Order, UP);
    assert_eq!(
        gate.check_deliver_again(style, ServiceId::Order.into(), &by_order),
        Ok(())
    );
    let crashed = again("payments/processed", ServiceId::Payment, OrderLink::Crashed);
    let refused = gate
        .check_deliver_again(style, payment_2, &crashed)
        .expect_err("crashed");
    assert_eq!(
        deliver_again_refused(&refused),
        "Deliver again: PaymentService 2 is crashed, so the message was not published again. \
         Press Restart on PaymentService 2, then try again."
    );
    let connecting = Link::Connecting {
        url: "ws://h:1".into(),
        attempt: 1,
        last_failure: None,
    };
    let connecting = Retry {
        publisher_link: OrderLink::Up(&connecting),
        ..by_order
    };
    let refused = gate
        .check_deliver_again(style, ServiceId::Order.into(), &connecting)
        .expect_err("connecting");
    assert_eq!(
        deliver_again_refused(&refused),
        "Deliver again: OrderService is still connecting to the broker at ws://h:1, so the \
         message was not published again. Wait until it shows connected, then try again."
    );
}

// Deliver again once waited only for its own client: right after a broker restart with clean
// sessions, an order published again by a reconnected OrderService reached none of the
// consumers still reconnecting.
#[test]
fn deliver_again_waits_for_the_consumers_of_its_topic_as_a_retry_does() {
    let style = SagaStyle::Parallel;
    let mut gate = all_subscribed();
    // The broker restarted: every connection dropped; OrderService is back first.
    for service in ServiceId::ALL {
        gate.left(service);
    }
    gate.subscribed(ServiceId::Order);
    let by_order = again("orders/created", ServiceId::Order, UP);
    let refused = gate
        .check_deliver_again(style, ServiceId::Order.into(), &by_order)
        .unwrap_err();
    assert_eq!(
        refused,
        RetryRefusal::Publisher {
            publisher: ServiceId::Order.into(),
            why: OrderRefusal::WaitingFor(vec![
                ServiceId::Payment,
                ServiceId::Inventory,
                ServiceId::Notification
            ]),
        }
    );
    assert!(deliver_again_refused(&refused).starts_with(
        "Deliver again: OrderService is waiting for PaymentService, InventoryService, \
         NotificationService to subscribe, so the message was not published again."
    ));
    // A message PaymentService received, delivered again by its own client: it waits for
    // PaymentService's SUBACK, said as for a retry.
    let to_payment = again("orders/created", ServiceId::Payment, UP);
    assert_eq!(
        deliver_again_refused(
            &gate
                .check_deliver_again(style, ServiceId::Payment.into(), &to_payment)
                .unwrap_err()
        ),
        "Deliver again: PaymentService, which sent or received it, has not subscribed again \
         since it reconnected and its session is clean: the broker keeps nothing for it while \
         it is not subscribed, so the message was not published again. Press Deliver again \
         once it has subscribed again (this sentence goes then)."
    );
    // With persistent sessions the broker keeps them for the consumers meanwhile.
    let kept = Retry {
        sessions_kept: true,
        ..by_order
    };
    assert_eq!(
        gate.check_deliver_again(style, ServiceId::Order.into(), &kept),
        Ok(())
    );
    for service in ServiceId::ALL {
        gate.subscribed(service);
    }
    assert_eq!(
        gate.check_deliver_again(style, ServiceId::Order.into(), &by_order),
        Ok(())
    );
}

// A newcomer's break-test: a dead letter's payload edited to 300 KB was retried, left the list
// without a word, and the consumers logged "exceeds this page's 256 KiB limit" ~8 s later.
#[test]
fn a_retry_larger_than_the_page_s_limit_is_refused_with_its_size_and_the_limit() {
    let limit = 256 * 1024;
    assert_eq!(check_retry_size("orders/created", limit, limit), Ok(()));
    let refused = check_retry_size("orders/created", 300_000, limit).unwrap_err();
    assert_eq!(
        retry_refused(&refused),
        "Retry: a message of 300 KB on orders/created exceeds this page's 256 KiB limit: its \
         consumers here would skip it unread, so the message was not published again. Shorten \
         the payload, then press Retry. The dead letter stays listed, with your edits."
    );
}

/// A newcomer's break-test: QueryService's dead letter on the store's topic, "fixed" into a
/// well-formed stored event and retried, went out by OrderService's client as a forged event.
#[test]
fn a_retry_on_the_store_s_topic_goes_only_with_an_event_the_store_holds() {
    use crate::domain::{OrderItem, Timestamp};
    use crate::store::{EventStore, ExpectedVersion, StreamEvent};
    let mut store = EventStore::new();
    let stream = uuid::Uuid::from_u128(7);
    let created = StreamEvent::Created {
        customer_id: "C123".into(),
        items: vec![OrderItem {
            product_id: "P001".into(),
            quantity: 1,
            price: 5.0,
        }],
        total_amount: 5.0,
        saga: None,
    };
    let now = Timestamp::from_unix_millis(1_764_000_000_000).unwrap();
    let kept = store
        .append(stream, ExpectedVersion::NoStream, vec![created], now)
        .unwrap()
        .remove(0);
    let topic = kept.topic();
    assert_eq!(check_store_retry(&topic, &kept.to_json(), &store), Ok(()));
    // The store's event with another customer, at a position the store has or not.
    let forged = String::from_utf8(kept.to_json())
        .unwrap()
        .replace("C123", "C999");
    assert_eq!(
        check_store_retry(&topic, forged.as_bytes(), &store),
        Err(RetryRefusal::NotTheStores)
    );
    let ahead = String::from_utf8(kept.to_json())
        .unwrap()
        .replace("\"position\":1", "\"position\":2");
    assert_eq!(
        check_store_retry(&topic, ahead.as_bytes(), &store),
        Err(RetryRefusal::NotTheStores)
    );
    assert_eq!(
        check_store_retry(&topic, b"not json", &store),
        Err(RetryRefusal::NotTheStores)
    );
    // Every other topic: any payload.
    assert_eq!(check_store_retry("orders/created", b"x", &store), Ok(()));
    let said = retry_refused(&RetryRefusal::NotTheStores);
    assert!(
        said.starts_with(
            "Retry: OrderService publishes on eventstore/orders/… only the events its event \
             store holds"
        ),
        "{said}"
    );
    assert!(
        said.contains("press Rebuild in the Read model panel"),
        "{said}"
    );
}
