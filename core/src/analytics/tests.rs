//! The Analytics panel's model on a known stream: five orders written as OrderService writes
//! them, three answered publishes, every figure, CSV row and chart coordinate worked out by hand.

use std::time::Duration;

use broker_bridge::packet::{Ack, Packet, Publish};
use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
use uuid::Uuid;

use super::*;
use crate::domain::money::Cents;
use crate::domain::order::OrderCommand;
use crate::domain::{OrderItem, Timestamp};
use crate::services::ServiceId;
use crate::store::{EventStore, ExpectedVersion, MinuteCount, ReasonCount, StreamEvent};

mod charts;

/// 2026-12-01T10:30:00.000Z.
const T0: i64 = 1_796_121_000_000;

const DECLINED: &str = "payment declined: the total 59.98 is over the limit of 50.00";
const OUT_OF_STOCK: &str = "out of stock: P001 (2 asked, 1 left)";
/// [`DECLINED`]'s kind, by which the figures count it ([`crate::store::reason_kind`]).
const DECLINED_KIND: &str = "payment declined: total over the limit";
/// [`OUT_OF_STOCK`]'s kind.
const OUT_OF_STOCK_KIND: &str = "out of stock: P001 (… asked, … left)";

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + ms).unwrap()
}

fn create(store: &mut EventStore, id: u128, ms: i64, quantity: u32, price: f64) {
    let created = StreamEvent::Created {
        customer_id: "C123".into(),
        items: vec![OrderItem {
            product_id: "P001".into(),
            quantity,
            price,
        }],
        total_amount: f64::from(quantity) * price,
        saga: None,
    };
    let id = Uuid::from_u128(id);
    store
        .append(id, ExpectedVersion::NoStream, vec![created], at(ms))
        .unwrap();
}

/// As OrderService: fold, decide, append under the version folded.
fn act(store: &mut EventStore, id: u128, ms: i64, command: OrderCommand) {
    let id = Uuid::from_u128(id);
    let mut order = store.fold(id).unwrap();
    let events = order.handle(&command).unwrap();
    let expected = ExpectedVersion::Exactly(store.version(id));
    let events = events.into_iter().map(StreamEvent::from).collect();
    store.append(id, expected, events, at(ms)).unwrap();
}

fn reserve(n: u128) -> OrderCommand {
    OrderCommand::ConfirmInventory {
        reservation_id: Uuid::from_u128(0x100 + n),
    }
}

fn pay(n: u128, amount: f64) -> OrderCommand {
    OrderCommand::ConfirmPayment {
        payment_id: Uuid::from_u128(0x200 + n),
        amount,
    }
}

/// | order | created | total | what happens | ends after |
/// |---|---|---|---|---|
/// | 1 | 10:30:00 | 59.98 | reserved, paid, completed | 700 ms |
/// | 2 | 10:30:20 | 10.00 | paid, reserved, completed | 400 ms |
/// | 3 | 10:30:45 | 59.98 | payment declined (over 50.00), cancelled, released | 250 ms |
/// | 4 | 10:32:10 | 12.34 | reserved, still open | — |
/// | 5 | 10:32:15 | 5.00 | out of stock, cancelled | 1000 ms |
///
/// And OrderService's and PaymentService's clients: three answered publishes of 1.5 ms
/// (QoS 1), 0.25 ms (QoS 2, to its PUBREC) and 3 ms.
fn known() -> Trace {
    let mut trace = Trace::default();
    let s = &mut trace.store;
    create(s, 1, 0, 2, 29.99);
    act(s, 1, 300, reserve(1));
    act(s, 1, 700, pay(1, 59.98));
    create(s, 2, 20_000, 1, 10.00);
    act(s, 2, 20_100, pay(2, 10.00));
    act(s, 2, 20_400, reserve(2));
    create(s, 3, 45_000, 2, 29.99);
    act(s, 3, 45_100, reserve(3));
    let declined = OrderCommand::FailPayment {
        payment_id: Uuid::from_u128(0x203),
        reason: DECLINED.into(),
    };
    act(s, 3, 45_250, declined);
    let released = OrderCommand::RecordRelease {
        reservation_id: Uuid::from_u128(0x103),
    };
    act(s, 3, 45_300, released);
    create(s, 4, 130_000, 1, 12.34);
    act(s, 4, 130_500, reserve(4));
    create(s, 5, 135_000, 1, 5.00);
    let short = OrderCommand::FailInventory {
        reason: OUT_OF_STOCK.into(),
    };
    act(s, 5, 136_000, short);

    let publish = |id, qos| {
        let mut p = Publish::new("orders/created", b"{}".to_vec(), qos);
        p.packet_id = Some(id);
        Packet::Publish(p)
    };
    let packets = [
        (
            "order",
            10_000,
            Direction::Outgoing,
            publish(1, QoS::AtLeastOnce),
        ),
        (
            "order",
            11_500,
            Direction::Incoming,
            Packet::PubAck(Ack::new(1)),
        ),
        (
            "order",
            20_000,
            Direction::Outgoing,
            publish(2, QoS::ExactlyOnce),
        ),
        (
            "order",
            20_250,
            Direction::Incoming,
            Packet::PubRec(Ack::new(2)),
        ),
        (
            "payment",
            30_000,
            Direction::Outgoing,
            publish(1, QoS::AtLeastOnce),
        ),
        (
            "order",
            30_100,
            Direction::Outgoing,
            Packet::PubRel(Ack::new(2)),
        ),
        (
            "payment",
            33_000,
            Direction::Incoming,
            Packet::PubAck(Ack::new(1)),
        ),
    ];
    for (client, at_us, direction, packet) in packets {
        let bytes = packet.encode(ProtocolVersion::V311).unwrap();
        let event = PacketEvent {
            at: Duration::from_micros(at_us),
            client_id: format!("eda-t-{client}"),
            direction,
            packet,
            bytes,
            protocol: ProtocolVersion::V311,
            skipped: None,
        };
        let service = if client == "order" {
            ServiceId::Order
        } else {
            ServiceId::Payment
        };
        trace.record(service, &event);
    }
    trace
}

#[test]
fn the_known_stream_s_figures_and_round_trip_are_the_ones_worked_out_by_hand() {
    let analytics = Analytics::of(&known());
    let f = &analytics.figures;
    assert_eq!((f.orders, f.completed, f.cancelled, f.open), (5, 2, 2, 1));
    assert_eq!(
        f.orders_per_minute,
        [
            MinuteCount {
                minute: at(0),
                orders: 3
            },
            MinuteCount {
                minute: at(120_000),
                orders: 2
            }
        ]
    );
    assert_eq!(
        f.revenue,
        Cents(6_998),
        "59.98 + 10.00; the open 12.34 not yet"
    );
    assert_eq!(
        f.cancelled_by_reason,
        [
            ReasonCount {
                reason: OUT_OF_STOCK_KIND.into(),
                orders: 1
            },
            ReasonCount {
                reason: DECLINED_KIND.into(),
                orders: 1
            }
        ]
    );
    assert_eq!(f.times_to_end_ms, [250, 400, 700, 1_000]);
    assert_eq!(analytics.round_trip.samples_us, [250, 1_500, 3_000]);
}

#[test]
fn a_reason_s_kind_takes_out_numbers_standing_alone_and_nothing_else() {
    use crate::store::reason_kind;

    for (reason, kind) in [
        ("payment declined", "payment declined"),
        ("payment timed out", "payment timed out"),
        (
            "payment declined: the total 1,234.00 is over the limit of 1000.00",
            "payment declined: total over the limit",
        ),
        (
            "payment declined (30 % of orders are)",
            "payment declined: a share of orders",
        ),
        // Digits in a word or an id are not a number.
        (
            "out of stock: P001 (2 asked, 0 left), P_2 (1 asked, 0 left)",
            "out of stock: P001 (… asked, … left), P_2 (… asked, … left)",
        ),
        (
            "order 12345678-5717-4562-b3fc-2c963f66afa6 gone after 3 tries.",
            "order 12345678-5717-4562-b3fc-2c963f66afa6 gone after … tries.",
        ),
        ("v2 at 10.5.", "v2 at …."),
        ("", ""),
    ] {
        assert_eq!(reason_kind(reason), kind, "{reason}");
    }
}

/// One decline rule, many totals: a bar per rule, not one per total (the reason's text carries
/// the total, and the limit). Numbers in a reason of outside words are taken out alike; a
/// product's id is not a number.
#[test]
fn cancellations_are_counted_by_their_reason_s_kind_not_by_the_amounts_in_it() {
    use crate::services::PaymentRule;

    let mut store = EventStore::new();
    let mut cancel = |id: u128, total: f64, reason: String| {
        create(&mut store, id, 0, 1, total);
        act(&mut store, id, 10, OrderCommand::Cancel { reason });
    };
    let over = |limit| PaymentRule {
        decline_over: Some(Cents(limit)),
        ..PaymentRule::default()
    };
    let share = |percent| PaymentRule {
        decline_percent: percent,
        ..PaymentRule::default()
    };
    for (id, total, rule) in [
        (1, 59.98, over(5_000)),
        (2, 89.97, over(5_000)),
        (3, 12.34, over(500)),
        (4, 12.34, share(100)),
        (5, 12.34, share(50)),
    ] {
        let reason = rule.decline_reason(Uuid::from_u128(id), total).unwrap();
        cancel(id, total, reason);
    }
    cancel(6, 1.0, "out of stock: P001 (2 asked, 1 left)".into());
    cancel(7, 1.0, "out of stock: P001 (5 asked, 0 left)".into());
    cancel(8, 1.0, "out of stock: P002 (2 asked, 1 left)".into());
    cancel(9, 1.0, "payment timed out".into());
    let counts: Vec<(String, u64)> = Figures::of(store.read_all(0, None))
        .cancelled_by_reason
        .into_iter()
        .map(|r| (r.reason, r.orders))
        .collect();
    let expected = [
        ("payment declined: total over the limit", 3),
        ("out of stock: P001 (… asked, … left)", 2),
        ("payment declined: a share of orders", 2),
        ("out of stock: P002 (… asked, … left)", 1),
        ("payment timed out", 1),
    ]
    .map(|(reason, orders)| (reason.to_owned(), orders));
    assert_eq!(counts, expected);
}

#[test]
fn the_headlines_say_each_figure_with_its_unit() {
    let shown: Vec<(&str, &str, String, String)> = Analytics::of(&known())
        .headlines()
        .into_iter()
        .map(|h| (h.key, h.label, h.shown, h.value))
        .collect();
    let row = |key, label, shown: &str, value: &str| (key, label, shown.into(), value.into());
    assert_eq!(
        shown,
        [
            row("orders", "Orders", "5", "5"),
            row("completed", "Completed", "2", "2"),
            row("cancelled", "Cancelled", "2", "2"),
            row("open", "Open", "1", "1"),
            row("revenue", "Revenue", "69.98", "69.98"),
            row("cancellation-rate", "Cancellation rate", "50.0 %", "50.0"),
            // Nearest rank of four: p50 is rank 2, p95 rank ⌈3.8⌉ = 4.
            row("time-to-end-p50", "Order to end, p50", "400 ms", "400"),
            row("time-to-end-p95", "Order to end, p95", "1000 ms", "1000"),
            // Of three: rank 2 and rank 3.
            row("round-trip-p50", "Broker round trip, p50", "1.5 ms", "1.5"),
            row("round-trip-p95", "Broker round trip, p95", "3.0 ms", "3.0"),
            row("round-trip-samples", SAMPLES_LABEL, "3", "3"),
        ]
    );
}

#[test]
fn before_anything_happened_a_figure_that_cannot_exist_is_a_dash_not_a_zero() {
    let empty = Analytics::of(&Trace::default());
    let shown: Vec<(&str, String, String)> = empty
        .headlines()
        .into_iter()
        .map(|h| (h.key, h.shown, h.value))
        .collect();
    for (key, shown, value) in &shown {
        match *key {
            "orders" | "completed" | "cancelled" | "open" | "round-trip-samples" => {
                assert_eq!((shown.as_str(), value.as_str()), ("0", "0"), "{key}")
            }
            "revenue" => assert_eq!(shown, "0.00"),
            _ => assert_eq!((shown.as_str(), value.as_str()), (NONE_YET, ""), "{key}"),
        }
    }
    assert!(empty.to_csv().ends_with(
        "broker_round_trip_p50_ms,,\r\nbroker_round_trip_p95_ms,,\r\nbroker_round_trip_samples,,0\r\n"
    ));
}

#[test]
fn the_csv_is_the_figures_then_the_round_trip() {
    let expected = [
        "figure,key,value",
        "orders,,5",
        "orders_per_minute,2026-12-01T10:30:00.000Z,3",
        "orders_per_minute,2026-12-01T10:32:00.000Z,2",
        "completed,,2",
        "cancelled,,2",
        r#"cancelled,"out of stock: P001 (… asked, … left)",1"#,
        "cancelled,payment declined: total over the limit,1",
        "open,,1",
        "revenue,,69.98",
        "cancellation_rate_percent,,50.0",
        r#"cancellation_rate_percent,"out of stock: P001 (… asked, … left)",25.0"#,
        "cancellation_rate_percent,payment declined: total over the limit,25.0",
        "time_to_end_p50_ms,,400",
        "time_to_end_p95_ms,,1000",
        "broker_round_trip_p50_ms,,1.5",
        "broker_round_trip_p95_ms,,3.0",
        "broker_round_trip_samples,,3",
        "",
    ];
    let analytics = Analytics::of(&known());
    assert_eq!(analytics.to_csv(), expected.join("\r\n"));
    assert!(
        analytics.to_csv().starts_with(&analytics.figures.to_csv()),
        "the store's figures as they were, rows added after them"
    );
}

#[test]
fn the_sample_count_names_the_window_the_trace_keeps() {
    assert!(SAMPLES_LABEL.contains(&format!(" {} packets", crate::trace::HISTORY_CAPACITY)));
}
