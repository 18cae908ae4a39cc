//! What a decision owes the wire, and how the outbox follows it to its acknowledgement.

use uuid::Uuid;

use super::*;
use crate::domain::events::{seed, OrderCreated};
use crate::domain::{topics, Timestamp};
use crate::services::{Flow, FlowSettings, ServiceId, Work};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// OrderService takes the seed's order, then its deadline passes: the cancellation's commands.
fn cancellation() -> (Uuid, Vec<Command>) {
    let order: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
    let mut flow = Flow::new(FlowSettings::default());
    let created = flow
        .handle(
            ServiceId::Order,
            at("2024-01-15T10:30:00.000Z"),
            topics::ORDERS_CREATED,
            seed::ORDER_CREATED.as_bytes(),
        )
        .unwrap();
    assert!(owed(&created).is_some(), "the order's creation is appended");
    let deadline = Work::Deadline {
        order_id: order.order_id,
    };
    let cancelled = flow.complete(deadline, at("2024-01-15T10:31:00.000Z"), Uuid::from_u128(9));
    (order.order_id, cancelled)
}

fn message(topic: &str, payload: &str) -> OwedMessage {
    OwedMessage {
        topic: topic.into(),
        payload: payload.into(),
    }
}

#[test]
fn a_cancellation_owes_its_stored_copy_and_its_outcome_as_decided_in_order() {
    let (order_id, commands) = cancellation();
    let (position, messages) = owed(&commands).expect("the cancellation is appended");
    let stored: Vec<_> = commands
        .iter()
        .filter_map(|c| match c {
            Command::Record(event) => Some(event.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(position, stored.last().unwrap().position);
    let topics: Vec<_> = messages.iter().map(|m| m.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            format!("eventstore/orders/{order_id}").as_str(),
            topics::ORDERS_CANCELLED
        ]
    );
    // Byte for byte what the decision publishes: a repeat is the same message.
    assert_eq!(messages[0].payload.as_bytes(), stored[0].to_json());
    let published = commands.iter().find_map(|c| match c {
        Command::Publish(event) => Some(event.to_json()),
        _ => None,
    });
    assert_eq!(Some(messages[1].payload.as_bytes().to_vec()), published);
}

#[test]
fn a_decision_that_appends_nothing_owes_nothing() {
    let order: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
    let charge = Work::Charge {
        order_id: order.order_id,
        amount: 59.98,
    };
    let mut flow = Flow::new(FlowSettings::default());
    let charged = flow.complete(charge, at("2024-01-15T10:30:01.000Z"), Uuid::from_u128(3));
    assert!(!charged.is_empty());
    assert_eq!(owed(&charged), None);
}

#[test]
fn a_row_survives_the_database_as_json() {
    let (_, commands) = cancellation();
    let (_, messages) = owed(&commands).unwrap();
    assert_eq!(row_from_json(&row_to_json(&messages)), Ok(messages));
    assert!(row_from_json("{\"not\":\"a row\"}").is_err());
}

#[test]
fn a_row_is_settled_once_every_message_of_it_is_acknowledged() {
    let mut outbox = Outbox::default();
    let copy = message("eventstore/orders/1", "{\"position\":4}");
    let outcome = message("orders/cancelled", "{\"orderId\":\"1\"}");
    outbox.owe(4, vec![copy.clone(), outcome.clone()]);
    // Both queued while offline: their packet ids come with their PUBLISH.
    assert!(outbox
        .handle_sent(&copy.topic, copy.payload.as_bytes(), Some(11))
        .is_empty());
    assert!(outbox
        .handle_sent(&outcome.topic, outcome.payload.as_bytes(), Some(12))
        .is_empty());
    assert!(outbox.handle_acknowledged(11).is_empty(), "one of two");
    assert!(!outbox.is_settled());
    assert_eq!(outbox.handle_acknowledged(12), [4]);
    assert!(outbox.is_settled());
    assert!(
        outbox.handle_acknowledged(12).is_empty(),
        "an acknowledgement counts once"
    );
}

#[test]
fn a_qos_0_message_is_settled_once_sent() {
    let mut outbox = Outbox::default();
    outbox.owe(2, vec![message("orders/cancelled", "{}")]);
    assert_eq!(outbox.handle_sent("orders/cancelled", b"{}", None), [2]);
}

#[test]
fn what_no_row_owes_settles_nothing_and_a_reused_packet_id_is_forgotten() {
    let mut outbox = Outbox::default();
    outbox.owe(3, vec![message("orders/cancelled", "{\"a\":1}")]);
    // The same topic with another payload is another message.
    assert!(outbox
        .handle_sent("orders/cancelled", b"{\"a\":2}", None)
        .is_empty());
    assert!(outbox
        .handle_sent("orders/cancelled", b"{\"a\":1}", Some(5))
        .is_empty());
    // The connection dropped; packet id 5 now carries another message: its PUBACK is not ours.
    assert!(outbox
        .handle_sent("orders/created", b"{}", Some(5))
        .is_empty());
    assert!(outbox.handle_acknowledged(5).is_empty());
    assert_eq!(outbox.unsettled().map(|(p, _)| p).collect::<Vec<_>>(), [3]);
}

#[test]
fn rows_read_back_after_a_reload_are_unsettled_in_position_order_until_acknowledged() {
    let mut outbox = Outbox::default();
    outbox.owe(9, vec![message("orders/cancelled", "{\"b\":1}")]);
    outbox.owe(5, vec![message("orders/cancelled", "{\"a\":1}")]);
    outbox.owe(6, Vec::new());
    let order: Vec<_> = outbox.unsettled().map(|(p, _)| p).collect();
    assert_eq!(order, [5, 9], "an empty row is settled already");
    assert!(outbox
        .handle_sent("orders/cancelled", b"{\"b\":1}", Some(1))
        .is_empty());
    assert_eq!(outbox.handle_acknowledged(1), [9]);
    outbox.clear();
    assert!(outbox.is_settled());
}

#[test]
fn a_refusal_that_can_never_pass_crosses_the_message_off_a_passing_one_keeps_it() {
    use broker_bridge::{PacketKind, QoS, SessionError};
    let too_large = SessionError::PacketTooLarge {
        kind: PacketKind::Publish,
        size: 2_000,
        max: 1_024,
    };
    let queue_full = SessionError::OfflineQueueFull { limit: 100 };
    let qos = SessionError::QoSNotSupported {
        requested: QoS::ExactlyOnce,
        maximum: QoS::AtLeastOnce,
    };
    assert!(refused_for_good(&too_large), "its size never changes");
    assert!(!refused_for_good(&queue_full), "the queue drains");
    assert!(!refused_for_good(&SessionError::NoPacketId));
    assert!(
        !refused_for_good(&qos),
        "the page caps the QoS to the broker's"
    );

    let mut outbox = Outbox::default();
    let copy = message("eventstore/orders/1", "{\"position\":4}");
    let outcome = message("orders/cancelled", "{\"orderId\":\"1\"}");
    outbox.owe(4, vec![copy.clone(), outcome.clone()]);
    // Refused for good before sending: off its row, the other message still owed.
    let refused = outbox.handle_refused(&outcome.topic, Some(outcome.payload.as_bytes()));
    assert!(refused.is_empty(), "the copy is still owed");
    assert_eq!(
        outbox.unsettled().collect::<Vec<_>>(),
        [(4, &[copy.clone()][..])]
    );
    assert!(
        outbox
            .handle_refused(&copy.topic, Some(b"another payload"))
            .is_empty(),
        "another message"
    );
    // Queued offline and refused on reconnecting: only its topic is known.
    assert_eq!(outbox.handle_refused(&copy.topic, None), [4]);
    assert!(outbox.is_settled());
}

#[test]
fn a_message_refused_from_the_offline_queue_is_not_one_in_flight() {
    let mut outbox = Outbox::default();
    let first = message("orders/cancelled", "{\"a\":1}");
    let second = message("orders/cancelled", "{\"a\":2}");
    outbox.owe(3, vec![first.clone()]);
    outbox.owe(5, vec![second.clone()]);
    assert!(outbox
        .handle_sent(&first.topic, first.payload.as_bytes(), Some(7))
        .is_empty());
    assert_eq!(outbox.handle_refused("orders/cancelled", None), [5]);
    assert_eq!(outbox.handle_acknowledged(7), [3]);
}

#[test]
fn the_order_a_compensation_owed_is_for_is_read_off_its_message_and_nothing_else_counts() {
    let (order_id, commands) = cancellation();
    let (_, messages) = owed(&commands).unwrap();
    let compensated: Vec<Uuid> = messages.iter().filter_map(compensated_order).collect();
    assert_eq!(compensated, [order_id], "{messages:?}");
    let other = OwedMessage {
        topic: topics::ORDERS_CONFIRMED.into(),
        payload: format!(r#"{{"orderId":"{order_id}"}}"#),
    };
    assert_eq!(compensated_order(&other), None);
    let unreadable = OwedMessage {
        topic: topics::ORDERS_CANCELLED.into(),
        payload: "not json".into(),
    };
    assert_eq!(compensated_order(&unreadable), None);
}
