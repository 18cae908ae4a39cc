//! The wire contract's examples of `eventstore/orders/<orderId>` (`docs/wire-contract/`): each
//! read and written back byte for byte (without layout), and named in the README.

use super::*;
use crate::domain::events::{seed, DomainEvent, OrderCreated};
use crate::domain::topics;

const CURRENT: &str = include_str!("../../../../docs/wire-contract/eventstore-order-created.json");
const SCHEMA_1: &str =
    include_str!("../../../../docs/wire-contract/eventstore-order-created-v1.json");
const DECLINED: &str =
    include_str!("../../../../docs/wire-contract/eventstore-payment-declined.json");
const DECLINED_SCHEMA_2: &str =
    include_str!("../../../../docs/wire-contract/eventstore-payment-declined-v2.json");
const README: &str = include_str!("../../../../docs/wire-contract/README.md");

/// The example without its layout: whitespace outside strings dropped (the examples hold no
/// escaped quotes).
fn compact(pretty: &str) -> String {
    let mut in_string = false;
    pretty
        .chars()
        .filter(|&c| {
            if c == '"' {
                in_string = !in_string;
            }
            in_string || !c.is_whitespace()
        })
        .collect()
}

/// The example, read; checked to be written back as it is (without layout), ending in a newline.
fn read_back(example: &str) -> StoredEvent {
    let event = StoredEvent::decode(example.as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(event.to_json()).unwrap(),
        compact(example)
    );
    assert!(example.ends_with("}\n"));
    event
}

#[test]
fn the_current_example_reads_and_writes_back_byte_for_byte() {
    let event = read_back(CURRENT);
    // It is the seed's order, as OrderService would append it first.
    let seed: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
    let mut store = EventStore::new();
    let mut first: StreamEvent = seed.clone().into();
    if let StreamEvent::Created { saga, .. } = &mut first {
        *saga = Some(crate::services::SagaStyle::Parallel);
    }
    let appended = store
        .append(
            seed.order_id,
            ExpectedVersion::NoStream,
            vec![first],
            seed.created_at,
        )
        .unwrap();
    assert_eq!(appended, std::slice::from_ref(&event));
    let on_wire = StoredEvent::decode_on(
        &format!("eventstore/orders/{}", seed::ORDER_ID),
        CURRENT.as_bytes(),
    );
    assert_eq!(on_wire, Ok(event));
}

#[test]
fn the_schema_1_example_is_upcast_to_the_current_one_without_its_items() {
    let old = StoredEvent::decode(SCHEMA_1.as_bytes()).unwrap();
    assert_eq!(old.schema, 1);
    assert!(SCHEMA_1.ends_with("}\n"));
    let written = String::from_utf8(old.to_json()).unwrap();
    // Schema 1 kept no items, nor the saga's style.
    let current_without_items = compact(CURRENT)
        .replace(
            r#""items":[{"productId":"P001","quantity":2,"price":29.99}]"#,
            r#""items":[]"#,
        )
        .replace(r#","saga":"parallel""#, "");
    assert_eq!(written, current_without_items);
}

#[test]
fn the_decline_example_keeps_payment_service_s_payment_id() {
    let event = read_back(DECLINED);
    // What OrderService appends when the seed's order meets the seed's decline.
    let seed_order: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
    let declined = match DomainEvent::decode(
        topics::PAYMENTS_PROCESSED,
        include_bytes!("../../../../docs/wire-contract/payment-declined.json"),
    ) {
        Ok(DomainEvent::PaymentProcessed(p)) => p,
        other => panic!("the seed's decline: {other:?}"),
    };
    let mut store = EventStore::new();
    store
        .append(
            seed_order.order_id,
            ExpectedVersion::NoStream,
            vec![seed_order.clone().into()],
            seed_order.created_at,
        )
        .unwrap();
    let command = OrderCommand::FailPayment {
        payment_id: declined.payment_id,
        reason: declined.reason.clone().unwrap(),
    };
    let decided = store
        .fold(seed_order.order_id)
        .unwrap()
        .handle(&command)
        .unwrap();
    let appended = store
        .append(
            seed_order.order_id,
            ExpectedVersion::Exactly(1),
            decided.into_iter().map(StreamEvent::from).collect(),
            declined.processed_at,
        )
        .unwrap();
    assert_eq!(appended[0], event);
}

#[test]
fn the_schema_2_decline_is_upcast_with_the_nil_payment_id() {
    let old = StoredEvent::decode(DECLINED_SCHEMA_2.as_bytes()).unwrap();
    assert_eq!(old.schema, 2);
    assert!(DECLINED_SCHEMA_2.ends_with("}\n"));
    let written = String::from_utf8(old.to_json()).unwrap();
    assert_eq!(
        written,
        compact(DECLINED).replace(
            "7bc21a45-8923-4671-a1ed-3d874e22bfa2",
            "00000000-0000-0000-0000-000000000000"
        )
    );
}

#[test]
fn the_readme_describes_the_topic_its_examples_and_every_type() {
    let section: String = README
        .lines()
        .skip_while(|l| !l.starts_with("## The event store"))
        .take_while(|l| !l.starts_with("## ") || l.starts_with("## The event store"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !section.is_empty(),
        "README has a section ## The event store"
    );
    for needle in [
        "`eventstore/orders/<orderId>`",
        "`eventstore/orders/+`",
        "(eventstore-order-created.json)",
        "(eventstore-order-created-v1.json)",
        "(eventstore-payment-declined.json)",
        "(eventstore-payment-declined-v2.json)",
        "QoS 1",
        "not retained",
    ] {
        assert!(
            section.contains(needle),
            "README's event store section: {needle}"
        );
    }
    for type_name in EVENT_TYPES {
        assert!(
            section.contains(&format!("`{type_name}`")),
            "README: {type_name}"
        );
    }
    assert_eq!(EVENTSTORE_FILTER, format!("{EVENTSTORE_PREFIX}+"));
}

#[test]
fn the_store_s_topics_are_not_the_flow_s() {
    // The services' topics carry DomainEvents; the store's do not, and none of the flow's
    // topics falls under the store's filter.
    assert!(DomainEvent::decode(&topic(A), CURRENT.as_bytes()).is_err());
    for flow_topic in topics::ALL {
        assert_eq!(stream_of_topic(flow_topic), None, "{flow_topic}");
        assert!(!flow_topic.starts_with("eventstore/"));
    }
}
