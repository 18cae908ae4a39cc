//! AnalyticsService's figures on the shop, computed by hand from its table.

use std::time::Duration;

use super::*;
use crate::domain::money::Cents;

fn figures() -> Figures {
    Figures::of(shop().read_all(0, None))
}

#[test]
fn the_shop_s_figures_are_the_ones_computed_by_hand() {
    let figures = figures();
    let minute = |m: i64| Timestamp::from_unix_millis(T0 + m * 60_000).unwrap();
    assert_eq!(figures.orders, 7);
    assert_eq!(
        figures.orders_per_minute,
        [
            MinuteCount {
                minute: minute(0),
                orders: 3
            },
            MinuteCount {
                minute: minute(1),
                orders: 2
            },
            MinuteCount {
                minute: minute(2),
                orders: 2
            },
        ]
    );
    assert_eq!(
        (
            figures.completed,
            figures.cancelled,
            figures.open,
            figures.ended()
        ),
        (2, 4, 1, 6)
    );
    // 59.98 + 100.01 - 30.00, to the cent; C's late charge was refunded and never counted.
    assert_eq!(figures.revenue, Cents(12_999));
    // 4 of 6 ended orders: 666.67 per thousand, rounded half up.
    assert_eq!(figures.cancellation_permille(), Some(667));
    let reasons: Vec<(&str, u64)> = figures
        .cancelled_by_reason
        .iter()
        .map(|r| (r.reason.as_str(), r.orders))
        .collect();
    assert_eq!(
        reasons,
        [
            ("payment declined", 2),
            (r#"out of stock: "P001" (… asked, … left)"#, 1),
            ("payment timed out", 1)
        ]
    );
    assert_eq!(
        figures.cancellation_permille_for("payment declined"),
        Some(333)
    );
    assert_eq!(
        figures.cancellation_permille_for("payment timed out"),
        Some(167)
    );
    assert_eq!(figures.cancellation_permille_for("no such reason"), Some(0));
    // F 400, G 900, A 1000, B 1500, D 2500, C 5000 (C ends at its cancellation, not at the
    // refund of the late charge after it).
    assert_eq!(
        figures.times_to_end_ms,
        [400, 900, 1_000, 1_500, 2_500, 5_000]
    );
    // Nearest rank of 6: p50 is rank 3, p95 rank ⌈5.7⌉ = 6.
    assert_eq!(
        figures.time_to_end_p50(),
        Some(Duration::from_millis(1_000))
    );
    assert_eq!(
        figures.time_to_end_p95(),
        Some(Duration::from_millis(5_000))
    );
}

#[test]
fn the_csv_has_a_row_per_figure_minute_and_reason_quoted_as_rfc_4180_says() {
    let expected = [
        "figure,key,value",
        "orders,,7",
        "orders_per_minute,2026-12-01T10:30:00.000Z,3",
        "orders_per_minute,2026-12-01T10:31:00.000Z,2",
        "orders_per_minute,2026-12-01T10:32:00.000Z,2",
        "completed,,2",
        "cancelled,,4",
        "cancelled,payment declined,2",
        r#"cancelled,"out of stock: ""P001"" (… asked, … left)",1"#,
        "cancelled,payment timed out,1",
        "open,,1",
        "revenue,,129.99",
        "cancellation_rate_percent,,66.7",
        "cancellation_rate_percent,payment declined,33.3",
        r#"cancellation_rate_percent,"out of stock: ""P001"" (… asked, … left)",16.7"#,
        "cancellation_rate_percent,payment timed out,16.7",
        "time_to_end_p50_ms,,1000",
        "time_to_end_p95_ms,,5000",
        "",
    ];
    assert_eq!(figures().to_csv(), expected.join("\r\n"));
}

#[test]
fn figures_that_do_not_exist_yet_are_empty_not_zero() {
    let none = Figures::of(&[]);
    assert_eq!(
        none.to_csv(),
        "figure,key,value\r\norders,,0\r\ncompleted,,0\r\ncancelled,,0\r\nopen,,0\r\n\
         revenue,,0.00\r\ncancellation_rate_percent,,\r\ntime_to_end_p50_ms,,\r\n\
         time_to_end_p95_ms,,\r\n"
    );
    assert_eq!(none.cancellation_permille(), None);
    assert_eq!(none.time_to_end_p95(), None);
}

#[test]
fn a_reason_from_outside_cannot_become_a_formula_or_break_the_rows() {
    let mut store = EventStore::new();
    for (n, reason) in [
        "=HYPERLINK(\"http://x\",\"y\")",
        "line one\nline two",
        "@SUM(A1)",
    ]
    .into_iter()
    .enumerate()
    {
        let id = Uuid::from_u128(0x700 + n as u128);
        create(&mut store, id, 0, created("C1", 1, 1.0, 1.0));
        act(
            &mut store,
            id,
            10,
            OrderCommand::Cancel {
                reason: reason.into(),
            },
        );
    }
    let csv = Figures::of(store.read_all(0, None)).to_csv();
    assert!(
        csv.contains(
            "cancellation_rate_percent,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",33.3\r\n"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("cancellation_rate_percent,\"line one\nline two\",33.3\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("cancellation_rate_percent,'@SUM(A1),33.3\r\n"),
        "{csv}"
    );
}

#[test]
fn figures_of_the_past_are_those_of_the_events_up_to_then() {
    let store = shop();
    // Position 8: A completed, B just cancelled.
    let then = Figures::of(store.read_all(0, Some(8)));
    assert_eq!(
        (then.orders, then.completed, then.cancelled, then.open),
        (2, 1, 1, 0)
    );
    assert_eq!(then.revenue, Cents(5_998));
    assert_eq!(then.times_to_end_ms, [1_000, 1_500]);
    // Events whose creation is not among them are left out.
    let tail = Figures::of(store.read_all(22, None));
    assert_eq!(
        (tail.orders, tail.cancelled, tail.open),
        (1, 1, 0),
        "only G's creation"
    );
    for p in [0, 5, 13, 26] {
        let events = store.read_all(0, Some(p));
        let mut model = ReadModel::new();
        events.iter().for_each(|e| {
            model.project(e);
        });
        let figures = Figures::of(events);
        let totals = model.totals();
        assert_eq!(
            (
                figures.revenue,
                figures.orders,
                figures.completed,
                figures.cancelled,
                figures.open
            ),
            (
                totals.revenue,
                totals.orders,
                totals.completed,
                totals.cancelled,
                totals.pending
            ),
            "the read model and the analytics agree at position {p}"
        );
    }
}

#[test]
fn nearest_rank_picks_a_value_never_an_interpolation() {
    let values = [15, 20, 35, 40, 50];
    let table = [
        (0, 15),
        (5, 15),
        (30, 20),
        (40, 20),
        (50, 35),
        (95, 50),
        (100, 50),
        (255, 50),
    ];
    for (percent, expected) in table {
        assert_eq!(nearest_rank(&values, percent), Some(expected), "p{percent}");
    }
    assert_eq!(nearest_rank(&[], 50), None);
    assert_eq!(nearest_rank(&[7], 95), Some(7));
    assert_eq!(
        nearest_rank(&[1, 2], 50),
        Some(1),
        "rank ⌈1⌉, not the mean 1.5"
    );
}

#[test]
fn cents_of_an_amount_are_its_whole_cents_and_nonsense_counts_nothing() {
    assert_eq!(cents(59.98), Cents(5_998));
    assert_eq!(cents(0.3), Cents(30));
    assert_eq!(cents(100.01), Cents(10_001));
    // Decoding refuses these, so no sum meets them; were one to, it adds nothing (0.1 + 0.2 is
    // 0.30000000000000004, not a whole number of cents).
    for nonsense in [f64::NAN, -1.0, f64::NEG_INFINITY, 0.1 + 0.2, 0.005, 1e300] {
        assert_eq!(cents(nonsense), Cents(0));
    }
}
