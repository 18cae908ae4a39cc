//! `docs/wire-contract/` is the contract: one example payload per message of the flow, and a
//! README that names every topic. These tests read each example on its topic, write it back
//! and demand the file's bytes (without layout), so the docs cannot drift from what the
//! services publish; and they demand an example for every topic, and a mention of every topic
//! and example in the README.

use super::DomainEvent;
use crate::domain::topics;

/// Each example file, the topic it travels on, and its text.
const EXAMPLES: [(&str, &str, &str); 15] = [
    (
        "order-created.json",
        topics::ORDERS_CREATED,
        include_str!("../../../../docs/wire-contract/order-created.json"),
    ),
    (
        "payment-processed.json",
        topics::PAYMENTS_PROCESSED,
        include_str!("../../../../docs/wire-contract/payment-processed.json"),
    ),
    (
        "payment-declined.json",
        topics::PAYMENTS_PROCESSED,
        include_str!("../../../../docs/wire-contract/payment-declined.json"),
    ),
    (
        "inventory-reserved.json",
        topics::INVENTORY_RESERVED,
        include_str!("../../../../docs/wire-contract/inventory-reserved.json"),
    ),
    (
        "inventory-failed.json",
        topics::INVENTORY_RESERVED,
        include_str!("../../../../docs/wire-contract/inventory-failed.json"),
    ),
    (
        "order-confirmed.json",
        topics::ORDERS_CONFIRMED,
        include_str!("../../../../docs/wire-contract/order-confirmed.json"),
    ),
    (
        "order-cancelled.json",
        topics::ORDERS_CANCELLED,
        include_str!("../../../../docs/wire-contract/order-cancelled.json"),
    ),
    (
        "inventory-released.json",
        topics::INVENTORY_RELEASED,
        include_str!("../../../../docs/wire-contract/inventory-released.json"),
    ),
    (
        "payment-refunded.json",
        topics::PAYMENTS_REFUNDED,
        include_str!("../../../../docs/wire-contract/payment-refunded.json"),
    ),
    (
        "inventory-released-unreserved.json",
        topics::INVENTORY_RELEASED,
        include_str!("../../../../docs/wire-contract/inventory-released-unreserved.json"),
    ),
    (
        "payment-refunded-uncharged.json",
        topics::PAYMENTS_REFUNDED,
        include_str!("../../../../docs/wire-contract/payment-refunded-uncharged.json"),
    ),
    (
        "reserve-inventory.json",
        topics::COMMAND_RESERVE_INVENTORY,
        include_str!("../../../../docs/wire-contract/reserve-inventory.json"),
    ),
    (
        "charge-payment.json",
        topics::COMMAND_CHARGE_PAYMENT,
        include_str!("../../../../docs/wire-contract/charge-payment.json"),
    ),
    (
        "release-inventory.json",
        topics::COMMAND_RELEASE_INVENTORY,
        include_str!("../../../../docs/wire-contract/release-inventory.json"),
    ),
    (
        "refund-payment.json",
        topics::COMMAND_REFUND_PAYMENT,
        include_str!("../../../../docs/wire-contract/refund-payment.json"),
    ),
];

const README: &str = include_str!("../../../../docs/wire-contract/README.md");

/// The JSON without its layout: whitespace outside strings removed. (The seed's tests split on
/// all whitespace; the reasons here have spaces inside their strings.)
fn compact(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in pretty.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn compact_keeps_the_spaces_inside_strings() {
    assert_eq!(
        compact("{\n  \"reason\": \"out of stock: \\\"P001\\\" (2 asked)\",\n  \"n\": 1\n}\n"),
        r#"{"reason":"out of stock: \"P001\" (2 asked)","n":1}"#
    );
}

#[test]
fn every_example_reads_on_its_topic_and_writes_back_byte_for_byte() {
    for (file, topic, text) in EXAMPLES {
        let event = DomainEvent::decode(topic, text.as_bytes())
            .unwrap_or_else(|e| panic!("{file} on {topic}: {e}"));
        assert_eq!(event.topic(), topic, "{file}");
        let written = String::from_utf8(event.to_json()).unwrap();
        assert_eq!(written, compact(text), "{file}: what the services write");
        assert!(text.ends_with("}\n"), "{file} ends with one newline");
    }
}

#[test]
fn every_topic_has_an_example_and_every_example_file_is_checked() {
    for topic in topics::ALL {
        assert!(
            EXAMPLES.iter().any(|(_, t, _)| *t == topic),
            "no example for {topic}"
        );
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/wire-contract");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort_unstable();
    let mut checked: Vec<String> = EXAMPLES.iter().map(|(f, ..)| (*f).to_owned()).collect();
    // The services' status messages (services/+/status), checked in services/presence.rs; a
    // dead letter (deadletter/<service>), checked in services/dead_letter.rs; InventoryService's
    // retained stock level (inventory/stock/<productId>), checked in services/stock_levels.rs;
    // the event store's events (eventstore/orders/<orderId>), checked in store/tests/wire.rs.
    checked.extend(
        [
            "service-online.json",
            "service-will.json",
            "deadletter-payment.json",
            "deadletter-inventory.json",
            "deadletter-order-not-text.json",
            "stock-level.json",
            "eventstore-order-created.json",
            "eventstore-order-created-v1.json",
            "eventstore-payment-declined.json",
            "eventstore-payment-declined-v2.json",
        ]
        .map(str::to_owned),
    );
    checked.sort_unstable();
    assert_eq!(on_disk, checked, "an example file this test does not read");
}

#[test]
fn the_readme_names_every_topic_and_example() {
    for topic in topics::ALL {
        assert!(README.contains(&format!("`{topic}`")), "README: {topic}");
    }
    for (file, ..) in EXAMPLES {
        assert!(README.contains(&format!("({file})")), "README links {file}");
    }
}

#[test]
fn the_failure_and_success_forms_of_a_result_differ_only_in_the_outcome() {
    let by_name = |name: &str| EXAMPLES.iter().find(|(f, ..)| *f == name).unwrap().2;
    let without_outcome = |text: &str| {
        let mut value: serde_json::Value = serde_json::from_str(text).unwrap();
        let map = value.as_object_mut().unwrap();
        (map.remove("success"), map.remove("reason"), value)
    };
    for (success, failure) in [
        ("payment-processed.json", "payment-declined.json"),
        ("inventory-reserved.json", "inventory-failed.json"),
    ] {
        let (ok, no_reason, ok_rest) = without_outcome(by_name(success));
        let (failed, reason, failed_rest) = without_outcome(by_name(failure));
        assert_eq!((ok, no_reason), (Some(true.into()), None), "{success}");
        assert_eq!(failed, Some(false.into()), "{failure}");
        assert!(reason.is_some_and(|r| r.is_string()), "{failure} says why");
        assert_eq!(ok_rest, failed_rest, "{success} and {failure}");
    }
}

/// The services a cell of the README's topic table names (`Order, Payment (to learn the
/// total)` names two).
fn services_named(cell: &str) -> Vec<crate::services::ServiceId> {
    use crate::services::ServiceId;
    let words: Vec<&str> = cell
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    ServiceId::ALL
        .into_iter()
        .filter(|s| {
            let short = s.name().trim_end_matches("Service");
            words.iter().any(|w| *w == short || *w == s.name())
        })
        .collect()
}

#[test]
fn the_readme_s_topic_table_says_who_publishes_and_subscribes_as_the_services_do() {
    use crate::services::{SagaStyle, ServiceId};
    let mut rows = 0;
    // The flow's table only: the section "## Topics", up to the next heading of its level.
    let topics_section = README
        .lines()
        .skip_while(|l| *l != "## Topics")
        .skip(1)
        .take_while(|l| !l.starts_with("## "));
    for line in topics_section.filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let topic = cells[1].trim_matches('`');
        assert!(topics::ALL.contains(&topic), "README row for {topic}");
        let publishers: Vec<ServiceId> = ServiceId::ALL
            .into_iter()
            .filter(|s| {
                SagaStyle::ALL
                    .iter()
                    .any(|&st| s.publications(st).contains(&topic))
            })
            .collect();
        assert_eq!(
            services_named(cells[2]),
            publishers,
            "{topic}: published by"
        );
        for (style, cell) in SagaStyle::ALL.into_iter().zip(&cells[3..6]) {
            let subscribers: Vec<ServiceId> = ServiceId::ALL
                .into_iter()
                .filter(|s| s.subscriptions(style).contains(&topic))
                .collect();
            assert_eq!(services_named(cell), subscribers, "{topic}: {style}");
        }
        rows += 1;
    }
    assert_eq!(rows, topics::ALL.len(), "one row per topic");
}
