//! The services' decisions one message at a time: names, subscriptions, refusals, work.

use super::*;
use crate::domain::events::{seed, OrderCreated};

fn now() -> Timestamp {
    Timestamp::parse("2024-01-15T10:30:00.000Z").unwrap()
}

fn flow() -> Flow {
    Flow::new(FlowSettings::default())
}

fn order() -> OrderCreated {
    serde_json::from_str(seed::ORDER_CREATED).unwrap()
}

fn reason(result: Result<Vec<Command>, Rejection>) -> String {
    result.unwrap_err().reason
}

#[test]
fn services_are_named_as_in_the_seed() {
    let table = [
        (ServiceId::Order, "OrderService", "order"),
        (ServiceId::Payment, "PaymentService", "payment"),
        (ServiceId::Inventory, "InventoryService", "inventory"),
        (
            ServiceId::Notification,
            "NotificationService",
            "notification",
        ),
        (ServiceId::Query, "QueryService", "query"),
    ];
    assert_eq!(ServiceId::ALL, table.map(|(id, _, _)| id));
    for (id, name, slug) in table {
        assert_eq!(
            (id.name(), id.slug(), id.to_string()),
            (name, slug, name.to_owned())
        );
    }
}

#[test]
fn the_seed_s_subscriptions_hold_in_every_style() {
    for style in SagaStyle::ALL {
        let notification = ServiceId::Notification.subscriptions(style);
        assert!(
            topics::SEED.iter().all(|t| notification.contains(t)),
            "{style}"
        );
        let order = ServiceId::Order.subscriptions(style);
        assert!(
            order.contains(&topics::ORDERS_CREATED),
            "{style}: OrderService sees every order"
        );
    }
    assert_eq!(
        ServiceId::Payment.subscriptions(SagaStyle::Parallel)[0],
        topics::ORDERS_CREATED
    );
    assert_eq!(
        ServiceId::Inventory.subscriptions(SagaStyle::Parallel)[0],
        topics::ORDERS_CREATED
    );
}

#[test]
fn every_published_topic_has_a_subscriber_and_a_single_publisher() {
    for style in SagaStyle::ALL {
        let published: Vec<&str> = ServiceId::ALL
            .iter()
            .flat_map(|s| s.publications(style).iter().copied())
            .collect();
        for topic in &published {
            let publishers = published.iter().filter(|t| *t == topic).count();
            let subscribers = ServiceId::ALL
                .iter()
                .filter(|s| s.subscriptions(style).contains(topic))
                .count();
            assert_eq!(publishers, 1, "{style}: {topic}");
            assert!(subscribers >= 1, "{style}: {topic}");
        }
        // And every subscription is to something somebody publishes.
        for service in ServiceId::ALL {
            for topic in service.subscriptions(style) {
                assert!(
                    published.contains(topic),
                    "{style}: {service} waits for {topic}"
                );
            }
        }
    }
}

#[test]
fn commands_travel_only_under_orchestration() {
    for style in SagaStyle::ALL {
        let uses_commands = ServiceId::ALL.iter().any(|s| {
            s.subscriptions(style)
                .iter()
                .any(|t| t.starts_with("commands/"))
        });
        assert_eq!(uses_commands, style == SagaStyle::Orchestration, "{style}");
    }
}

#[test]
fn default_delays_are_the_seed_s_one_second_and_800_ms() {
    let delays = Delays::default();
    assert_eq!(delays.payment, Duration::from_millis(1000));
    assert_eq!(delays.inventory, Duration::from_millis(800));
}

#[test]
fn decisions_per_service_on_a_new_order() {
    let settings = FlowSettings {
        delays: Delays {
            payment: Duration::from_millis(5),
            inventory: Duration::from_millis(7),
        },
        ..FlowSettings::default()
    };
    let order_json = seed::ORDER_CREATED.as_bytes();
    let order_id = order().order_id;
    let table = [
        (
            ServiceId::Order,
            vec![
                // The order's stream starts in OrderService's event store, with the style its
                // saga runs under.
                Command::Record(crate::store::StoredEvent {
                    position: 1,
                    stream: order_id,
                    version: 1,
                    schema: crate::store::CURRENT_SCHEMA,
                    recorded_at: now(),
                    event: match crate::store::StreamEvent::from(order()) {
                        crate::store::StreamEvent::Created {
                            customer_id,
                            items,
                            total_amount,
                            ..
                        } => crate::store::StreamEvent::Created {
                            customer_id,
                            items,
                            total_amount,
                            saga: Some(SagaStyle::Parallel),
                        },
                        other => other,
                    },
                }),
                Command::Schedule {
                    after: settings.saga_timeout,
                    work: Work::Deadline { order_id },
                },
            ],
        ),
        (
            ServiceId::Payment,
            vec![Command::Schedule {
                after: Duration::from_millis(5),
                work: Work::Charge {
                    order_id,
                    amount: 59.98,
                },
            }],
        ),
        (
            ServiceId::Inventory,
            vec![Command::Schedule {
                after: Duration::from_millis(7),
                work: Work::Reserve {
                    order_id,
                    items: order().items,
                },
            }],
        ),
        (
            ServiceId::Notification,
            vec![Command::Notify(
                "Order confirmation email sent to C123".into(),
            )],
        ),
    ];
    let mut flow = Flow::new(settings);
    for (service, expected) in table {
        assert_eq!(
            flow.handle(service, now(), topics::ORDERS_CREATED, order_json),
            Ok(expected)
        );
    }
}

#[test]
fn refuses_topics_the_service_does_not_subscribe_to() {
    let cases = [
        (ServiceId::Order, topics::ORDERS_CONFIRMED, "{}"),
        (
            ServiceId::Payment,
            topics::PAYMENTS_PROCESSED,
            seed::PAYMENT_PROCESSED,
        ),
        (
            ServiceId::Payment,
            topics::INVENTORY_RESERVED,
            seed::INVENTORY_RESERVED,
        ),
        (
            ServiceId::Inventory,
            topics::INVENTORY_RESERVED,
            seed::INVENTORY_RESERVED,
        ),
        (ServiceId::Notification, "orders/archived", "{}"),
        (
            ServiceId::Inventory,
            topics::COMMAND_RESERVE_INVENTORY,
            "{}",
        ),
    ];
    for (service, topic, payload) in cases {
        assert_eq!(
            reason(flow().handle(service, now(), topic, payload.as_bytes())),
            format!("{service} does not subscribe to `{topic}`")
        );
    }
}

#[test]
fn refuses_payloads_that_are_not_the_event_with_a_readable_reason() {
    let empty_items = r#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","customerId":"C123",
        "items":[],"totalAmount":0,"createdAt":"2024-01-15T10:30:00.000Z"}"#;
    let cases = [
        ("not json", "payload is not JSON: a word JSON does not know at line 1 column 2 (its only words are true, false and null; a text goes in double quotes)"),
        ("{}", "payload is not an OrderCreated event: missing field `orderId` at line 1 column 2"),
        (empty_items, "payload is not a valid OrderCreated event: `items` is empty; an order has at least one item"),
    ];
    // QueryService reads the store's events, not the domain's (see store/tests/decode.rs).
    for service in ServiceId::ALL
        .into_iter()
        .filter(|s| *s != ServiceId::Query)
    {
        for (payload, expected) in cases {
            let result = flow().handle(service, now(), topics::ORDERS_CREATED, payload.as_bytes());
            assert_eq!(reason(result), expected, "{service}");
        }
        let result = flow().handle(service, now(), topics::ORDERS_CREATED, &[0xc3, 0x28]);
        assert_eq!(reason(result), "payload is not UTF-8 text");
    }
}

#[test]
fn rejection_reads_as_its_reason() {
    let rejection = Rejection::from(EventError::NotUtf8);
    assert_eq!(rejection.to_string(), "payload is not UTF-8 text");
}

#[test]
fn completing_work_publishes_the_seed_s_results_with_the_given_time_and_id() {
    let order_id = order().order_id;
    let now = Timestamp::parse("2024-01-15T10:30:01.000Z").unwrap();
    let payment_id: Uuid = "7bc21a45-8923-4671-a1ed-3d874e22bfa2".parse().unwrap();
    let charged = flow().complete(
        Work::Charge {
            order_id,
            amount: 59.98,
        },
        now,
        payment_id,
    );
    let expected: DomainEvent =
        serde_json::from_str::<crate::domain::PaymentProcessed>(seed::PAYMENT_PROCESSED)
            .unwrap()
            .into();
    assert_eq!(charged, [Command::Publish(expected)]);

    let now = Timestamp::parse("2024-01-15T10:30:00.800Z").unwrap();
    let reservation_id: Uuid = "9de43f67-1234-5678-b9cd-4e567f89abc3".parse().unwrap();
    let work = Work::Reserve {
        order_id,
        items: order().items,
    };
    let reserved = flow().complete(work, now, reservation_id);
    let expected: DomainEvent =
        serde_json::from_str::<crate::domain::InventoryReserved>(seed::INVENTORY_RESERVED)
            .unwrap()
            .into();
    assert_eq!(reserved, [Command::Publish(expected)]);
}

#[test]
fn work_knows_its_service_and_order() {
    let order_id = order().order_id;
    let charge = Work::Charge {
        order_id,
        amount: 1.0,
    };
    let reserve = Work::Reserve {
        order_id,
        items: Vec::new(),
    };
    let deadline = Work::Deadline { order_id };
    assert_eq!(
        (charge.service(), reserve.service(), deadline.service()),
        (ServiceId::Payment, ServiceId::Inventory, ServiceId::Order)
    );
    assert!(charge.is_busy() && reserve.is_busy() && !deadline.is_busy());
    assert_eq!(charge.order_id().to_string(), seed::ORDER_ID);
}

#[test]
fn orders_refused_says_how_many_of_how_many_were_not_placed() {
    use super::order::orders_refused;
    let cause = "OrderService is not connected to the broker at ws://localhost:9001";
    assert_eq!(
        orders_refused(cause, 1, 0),
        format!("{cause}, so the order was not placed.")
    );
    assert_eq!(
        orders_refused(cause, 10, 0),
        format!("{cause}, so none of the 10 orders was placed.")
    );
    assert_eq!(
        orders_refused(cause, 10, 3),
        format!("{cause}, so 7 of the 10 orders were not placed (3 were).")
    );
    assert_eq!(
        orders_refused(cause, 10, 9),
        format!("{cause}, so 1 of the 10 orders was not placed (9 were).")
    );
}

#[test]
fn a_duplicate_says_whether_the_broker_redelivered_it_or_its_publisher_sent_it_twice() {
    let mut flow = flow();
    let created = seed::ORDER_CREATED.as_bytes();
    flow.handle(
        ServiceId::Notification,
        now(),
        topics::ORDERS_CREATED,
        created,
    )
    .unwrap();
    let again = || {
        let mut copy = flow.clone();
        copy.handle(
            ServiceId::Notification,
            now(),
            topics::ORDERS_CREATED,
            created,
        )
        .unwrap_err()
    };
    let redelivered = again().delivered(true).reason;
    assert!(
        redelivered.starts_with("duplicate ignored: orders/created ")
            && redelivered.contains("a redelivery by the broker (DUP flag set)")
            && redelivered.contains("MQTT 3.1.1 §3.3.1.1, 5.0 §3.3.1.1")
            && redelivered.contains("nobody published it twice"),
        "{redelivered}"
    );
    let published_twice = again().delivered(false).reason;
    assert!(
        published_twice.contains("a second PUBLISH under the same identity (DUP flag not set)")
            && published_twice.contains("by its publisher or another client")
            && !published_twice.contains("redelivery by the broker (DUP"),
        "{published_twice}"
    );
    // Any other rejection is left as it was.
    let refused = Rejection::new("no").delivered(true);
    assert_eq!(refused.reason, "no");
}

/// A copy of an order's creation that the idempotent consumer's memory no longer holds (or
/// with idempotency off) is still a duplicate to OrderService: its event store has the order.
#[test]
fn order_service_ignores_a_creation_its_store_already_holds_even_without_the_memory() {
    for dedupe in [false, true] {
        let mut flow = Flow::new(FlowSettings {
            dedupe,
            ..FlowSettings::default()
        });
        let json = seed::ORDER_CREATED.as_bytes();
        let first = flow.handle(ServiceId::Order, now(), topics::ORDERS_CREATED, json);
        assert!(first.is_ok_and(|c| !c.is_empty()), "the order starts");
        let again = flow
            .handle(ServiceId::Order, now(), topics::ORDERS_CREATED, json)
            .unwrap_err();
        assert!(again.is_duplicate(), "dedupe {dedupe}: {again:?}");
        if !dedupe {
            assert_eq!(
                again.reason,
                format!(
                    "duplicate ignored: order {} is already in OrderService's event store \
                     (stream version 1): an orders/created starts an order once",
                    order().order_id
                )
            );
        }
    }
}

/// A newcomer's break-test: with the idempotent consumers off, an order processed; switched
/// on, the very same `orders/created` published again was charged and reserved again, since
/// nothing had been remembered while off. The consumers remember either way.
#[test]
fn switching_the_idempotent_consumers_on_covers_what_was_processed_while_off() {
    let mut flow = Flow::new(FlowSettings {
        dedupe: false,
        ..FlowSettings::default()
    });
    let json = seed::ORDER_CREATED.as_bytes();
    for service in [
        ServiceId::Payment,
        ServiceId::Inventory,
        ServiceId::Notification,
    ] {
        let first = flow.handle(service, now(), topics::ORDERS_CREATED, json);
        assert!(first.is_ok(), "{service:?}: {first:?}");
    }
    flow.settings.dedupe = true;
    for service in [
        ServiceId::Payment,
        ServiceId::Inventory,
        ServiceId::Notification,
    ] {
        let again = flow
            .handle(service, now(), topics::ORDERS_CREATED, json)
            .unwrap_err();
        assert!(again.is_duplicate(), "{service:?}: {again:?}");
    }
}

/// A refund of another amount under the charge's payment id is refused and not remembered:
/// the charge's own refund under the same id is then recorded, not ignored as a duplicate.
#[test]
fn a_short_refund_under_the_charge_s_id_does_not_hide_the_real_refund() {
    let mut flow = flow();
    let order_id = order().order_id;
    let at = |s| Timestamp::parse(s).unwrap();
    let handle = |flow: &mut Flow, topic, json: String| {
        flow.handle(ServiceId::Order, now(), topic, json.as_bytes())
    };
    handle(
        &mut flow,
        topics::ORDERS_CREATED,
        seed::ORDER_CREATED.to_owned(),
    )
    .unwrap();
    let payment_id = Uuid::from_u128(7);
    let charge = format!(
        r#"{{"orderId":"{order_id}","paymentId":"{payment_id}","amount":59.98,"success":true,"processedAt":"2024-01-15T10:30:01.000Z"}}"#
    );
    handle(&mut flow, topics::PAYMENTS_PROCESSED, charge).unwrap();
    flow.complete(
        Work::Deadline { order_id },
        at("2024-01-15T10:30:09.000Z"),
        Uuid::from_u128(9),
    );
    let refund = |amount: &str| {
        format!(
            r#"{{"orderId":"{order_id}","paymentId":"{payment_id}","amount":{amount},"refundedAt":"2024-01-15T10:30:10.000Z"}}"#
        )
    };
    let short = handle(&mut flow, topics::PAYMENTS_REFUNDED, refund("0.01")).unwrap_err();
    assert_eq!(short.kind, RejectionKind::NotItsOwn, "{short:?}");
    let real = handle(&mut flow, topics::PAYMENTS_REFUNDED, refund("59.98"));
    assert!(real.is_ok_and(|c| !c.is_empty()), "the refund is recorded");
}

/// A newcomer's break-test: `payments/processed` and `inventory/reserved` published before the
/// order's `orders/created` completed it at once (OrderService keeps early results); the real
/// PaymentService and InventoryService, hearing `orders/confirmed` while their steps were under
/// way, then charged and reserved all the same, and nobody undid it ("charged 2 times", stock
/// held). Now the steps finish refused: nothing charged, nothing reserved.
#[test]
fn a_step_under_way_when_its_order_is_heard_confirmed_is_refused_not_done_twice() {
    let confirmed = r#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","confirmedAt":"2024-01-15T10:30:01.000Z"}"#;
    for dedupe in [true, false] {
        let mut flow = Flow::new(FlowSettings {
            dedupe,
            ..FlowSettings::default()
        });
        let created = seed::ORDER_CREATED.as_bytes();
        for service in [ServiceId::Payment, ServiceId::Inventory] {
            let steps = flow.handle(service, now(), topics::ORDERS_CREATED, created);
            assert!(
                steps.is_ok_and(|c| c.iter().any(|c| matches!(c, Command::Schedule { .. }))),
                "{service:?} starts its step"
            );
        }
        for service in [ServiceId::Payment, ServiceId::Inventory] {
            let heard = flow.handle(
                service,
                now(),
                topics::ORDERS_CONFIRMED,
                confirmed.as_bytes(),
            );
            assert!(heard.is_ok(), "{service:?}: {heard:?}");
        }
        for (_, work) in flow.scheduled() {
            let done = flow.complete(work.clone(), now(), Uuid::from_u128(7));
            let results: Vec<&DomainEvent> = done
                .iter()
                .filter_map(|c| match c {
                    Command::Publish(event) => Some(event),
                    _ => None,
                })
                .collect();
            let refused =
                |reason: &Option<String>| reason.as_deref() == Some(memory::CONFIRMED_WITHOUT_IT);
            match results.as_slice() {
                [DomainEvent::PaymentProcessed(p)] if dedupe => {
                    assert!(!p.success && refused(&p.reason), "{p:?}")
                }
                [DomainEvent::InventoryReserved(r), ..] if dedupe => {
                    assert!(!r.success && refused(&r.reason), "{r:?}")
                }
                // With the idempotent consumers off, the step is done: the lesson's double.
                [DomainEvent::PaymentProcessed(p)] => assert!(p.success, "{p:?}"),
                [DomainEvent::InventoryReserved(r), ..] => assert!(r.success, "{r:?}"),
                other => panic!("{work:?}: {other:?}"),
            }
        }
        assert_eq!(
            flow.payment.has_charged(order().order_id),
            !dedupe,
            "dedupe {dedupe}: charged"
        );
    }
}

/// 44-AQ F2: an order from outside of about 262,000 bytes was accepted by every service and
/// completed; OrderService's `OrderCreated` for it (262,085 bytes) was over the 256 KiB the
/// page's clients read, so QueryService never received it, and the page blamed a sender. Every
/// service refuses it now, dead-lettered (malformed), and nothing is charged or reserved; one
/// just under the limit is taken.
#[test]
fn an_order_whose_store_event_the_read_side_could_never_receive_is_refused_by_every_service() {
    let sized = |count: usize| {
        let mut created = order();
        created.items = (0..count)
            .map(|_| crate::domain::events::OrderItem {
                product_id: "P".repeat(64),
                quantity: 1,
                price: 0.01,
            })
            .collect();
        created.total_amount = (count as f64 * 0.01 * 100.0).round() / 100.0;
        created
    };
    let big = sized(2_447);
    assert!(crate::store::created_event_size(&big) > crate::store::PAGE_PACKET_LIMIT);
    let json = DomainEvent::from(big).to_json();
    assert!(
        json.len() < crate::store::PAGE_PACKET_LIMIT,
        "the order itself is read"
    );
    for service in [
        ServiceId::Order,
        ServiceId::Payment,
        ServiceId::Inventory,
        ServiceId::Notification,
    ] {
        let mut flow = flow();
        let refused = flow
            .handle(service, now(), topics::ORDERS_CREATED, &json)
            .unwrap_err();
        assert_eq!(refused.kind, RejectionKind::Malformed, "{service}");
        assert!(
            refused.reason.starts_with(
                "order refused: its OrderCreated in OrderService's event store would take up to"
            ),
            "{service}: {}",
            refused.reason
        );
        assert!(
            refused
                .reason
                .contains("over the 256 KiB (262,144 bytes) this page's clients read"),
            "{}",
            refused.reason
        );
        assert_eq!(flow.order.store().len(), 0, "{service}: nothing stored");
    }
    let fits = sized(2_000);
    assert!(crate::store::created_event_size(&fits) <= crate::store::PAGE_PACKET_LIMIT);
    let mut flow = flow();
    let json = DomainEvent::from(fits).to_json();
    assert!(flow
        .handle(ServiceId::Order, now(), topics::ORDERS_CREATED, &json)
        .is_ok());
    assert_eq!(flow.order.store().len(), 1);
}
