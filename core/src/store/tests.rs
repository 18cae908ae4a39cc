//! The store's tests, with the shop they share: seven orders written the way OrderService
//! writes, fold the stream, decide, append under the version folded.

use uuid::Uuid;

use super::*;
use crate::domain::order::{OrderCommand, OrderEvent};
use crate::domain::{OrderItem, Timestamp};

mod analytics;
mod append;
// With proptest, which is a native-only dev-dependency (core/Cargo.toml).
#[cfg(not(target_arch = "wasm32"))]
mod decode;
#[cfg(not(target_arch = "wasm32"))]
mod projection;
mod wire;

/// 2026-12-01T10:30:00.000Z.
const T0: i64 = 1_796_121_000_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + ms).unwrap()
}

const A: Uuid = Uuid::from_u128(0xA);
const B: Uuid = Uuid::from_u128(0xB);
const C: Uuid = Uuid::from_u128(0xC);
const D: Uuid = Uuid::from_u128(0xD);
const E: Uuid = Uuid::from_u128(0xE);
const F: Uuid = Uuid::from_u128(0xF);
const G: Uuid = Uuid::from_u128(0x10);

/// The reason F is cancelled: commas and quotes, for the CSV.
const OUT_OF_STOCK: &str = r#"out of stock: "P001" (2 asked, 1 left)"#;

fn created(customer: &str, quantity: u32, price: f64, total: f64) -> StreamEvent {
    StreamEvent::Created {
        customer_id: customer.into(),
        items: vec![OrderItem {
            product_id: "P001".into(),
            quantity,
            price,
        }],
        total_amount: total,
        saga: None,
    }
}

/// What OrderService does with a command for an order: folds the stream, decides, appends
/// what the aggregate decided under the version it folded.
fn act(store: &mut EventStore, order_id: Uuid, ms: i64, command: OrderCommand) {
    let mut order = store.fold(order_id).expect("the order is created");
    let events = order.handle(&command).expect("the order takes it");
    let expected = ExpectedVersion::Exactly(store.version(order_id));
    let events = events.into_iter().map(StreamEvent::from).collect();
    store.append(order_id, expected, events, at(ms)).unwrap();
}

fn create(store: &mut EventStore, order_id: Uuid, ms: i64, event: StreamEvent) {
    store
        .append(order_id, ExpectedVersion::NoStream, vec![event], at(ms))
        .unwrap();
}

/// Seven orders over three minutes, appended in time order (26 events):
///
/// | order | customer | total | what happens | ends after |
/// |---|---|---|---|---|
/// | A | C123 | 59.98 | reserved, paid, completed | 1000 ms |
/// | B | C456 | 10.10 | reserved, payment declined, cancelled, released | 1500 ms |
/// | C | C123 | 0.30 | timed out, then a late charge, refunded | 5000 ms |
/// | D | C789 | 100.01 | reserved, paid, completed; 30.00 of its charge refunded | 2500 ms |
/// | E | C123 | 0.20 | reserved, still open | — |
/// | F | C"Q | 5.55 | out of stock, cancelled | 400 ms |
/// | G | C456 | 1.00 | payment declined, cancelled | 900 ms |
fn shop() -> EventStore {
    use OrderCommand as Cmd;
    let reserve = |n: u128| Cmd::ConfirmInventory {
        reservation_id: Uuid::from_u128(0x100 + n),
    };
    let pay = |n: u128, amount| Cmd::ConfirmPayment {
        payment_id: Uuid::from_u128(0x200 + n),
        amount,
    };
    let declined = || Cmd::FailPayment {
        payment_id: Uuid::from_u128(0x2FF),
        reason: "payment declined".into(),
    };
    let mut store = EventStore::new();
    let s = &mut store;
    create(s, A, 0, created("C123", 2, 29.99, 59.98));
    act(s, A, 800, reserve(0xA));
    act(s, A, 1_000, pay(0xA, 59.98));
    create(s, B, 20_000, created("C456", 1, 10.10, 10.10));
    act(s, B, 20_800, reserve(0xB));
    act(s, B, 21_500, declined());
    act(
        s,
        B,
        21_600,
        Cmd::RecordRelease {
            reservation_id: Uuid::from_u128(0x10B),
        },
    );
    create(s, C, 50_000, created("C123", 3, 0.10, 0.30));
    act(
        s,
        C,
        55_000,
        Cmd::Cancel {
            reason: "payment timed out".into(),
        },
    );
    act(s, C, 55_200, pay(0xC, 0.30));
    act(
        s,
        C,
        55_300,
        Cmd::RecordRefund {
            payment_id: Uuid::from_u128(0x20C),
            amount: 0.30,
        },
    );
    create(s, D, 65_000, created("C789", 1, 100.01, 100.01));
    act(s, D, 66_000, reserve(0xD));
    act(s, D, 67_500, pay(0xD, 100.01));
    act(
        s,
        D,
        70_000,
        Cmd::RecordRefund {
            payment_id: Uuid::from_u128(0x20D),
            amount: 30.00,
        },
    );
    create(s, E, 70_000, created("C123", 2, 0.10, 0.20));
    act(s, E, 71_000, reserve(0xE));
    create(s, F, 125_000, created("C\"Q", 1, 5.55, 5.55));
    act(
        s,
        F,
        125_400,
        Cmd::FailInventory {
            reason: OUT_OF_STOCK.into(),
        },
    );
    create(s, G, 126_000, created("C456", 1, 1.00, 1.00));
    act(s, G, 126_900, declined());
    store
}

#[test]
fn the_shop_is_what_its_table_says() {
    let store = shop();
    assert_eq!(store.head(), 26);
    assert_eq!(store.streams(), [A, B, C, D, E, F, G]);
    let types: Vec<&str> = store.stream(D).map(|e| e.event.type_name()).collect();
    assert_eq!(
        types,
        [
            "OrderCreated",
            "InventoryConfirmed",
            "PaymentConfirmed",
            "OrderCompleted",
            "PaymentRefunded"
        ]
    );
    assert!(matches!(
        store.stream(C).nth(1).map(|e| &e.event),
        Some(StreamEvent::Order(OrderEvent::Cancelled { .. }))
    ));
}

/// A row restored after a reload takes its time to outcome from the store (42-AM F2): the
/// table's "ends after", the first ending event's `recordedAt` less OrderCreated's; nothing
/// for the open order, an unknown stream, or an end recorded before the creation.
#[test]
fn time_to_outcome_is_the_tables_ends_after() {
    let store = shop();
    let ms = |stream| store.time_to_outcome(stream).map(|t| t.as_millis());
    assert_eq!(
        [A, B, C, D, E, F, G].map(ms),
        [
            Some(1_000),
            Some(1_500),
            Some(5_000),
            Some(2_500),
            None,
            Some(400),
            Some(900)
        ]
    );
    assert_eq!(store.time_to_outcome(Uuid::from_u128(0x99)), None);
    let mut set_back = EventStore::new();
    create(&mut set_back, A, 5_000, created("C123", 1, 1.00, 1.00));
    act(
        &mut set_back,
        A,
        4_000,
        OrderCommand::Cancel {
            reason: "payment timed out".into(),
        },
    );
    assert_eq!(set_back.time_to_outcome(A), None);
}
