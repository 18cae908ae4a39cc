//! The three charts' geometry, summaries and tables, on the known stream and at their limits.

use super::*;
use crate::analytics::charts::{self, Anchor, Chart, LineKind};

/// (x, y, width, height, value) of each bar.
fn bars(chart: &Chart) -> Vec<(u32, u32, u32, u32, u64)> {
    chart
        .bars
        .iter()
        .map(|b| (b.x, b.y, b.width, b.height, b.value))
        .collect()
}

/// (x, y, anchor, text) of each text.
fn texts(chart: &Chart) -> Vec<(u32, u32, Anchor, &str)> {
    chart
        .texts
        .iter()
        .map(|t| (t.x, t.y, t.anchor, t.text.as_str()))
        .collect()
}

fn assert_inside(chart: &Chart) {
    for bar in &chart.bars {
        assert!(
            bar.x + bar.width <= chart.width,
            "{bar:?} in {}",
            chart.width
        );
        assert!(
            bar.y + bar.height <= chart.height,
            "{bar:?} in {}",
            chart.height
        );
    }
    for line in &chart.lines {
        assert!(line.x1.max(line.x2) <= chart.width && line.y1.max(line.y2) <= chart.height);
    }
    for text in &chart.texts {
        assert!(text.x <= chart.width && text.y <= chart.height, "{text:?}");
    }
}

#[test]
fn orders_per_minute_are_columns_with_the_empty_minute_between_drawn_empty() {
    let chart = charts::orders_per_minute(&Analytics::of(&known()).figures);
    // Plot: x 30 to 312, y 16 to 106; three slots of 94, columns of 40 (four fifths would be
    // 75) in their middle; the busiest minute (3) is 90 tall, 2 is 60.
    assert_eq!(
        bars(&chart),
        [
            (57, 16, 40, 90, 3),
            (151, 106, 40, 0, 0),
            (245, 46, 40, 60, 2)
        ]
    );
    assert_eq!(chart.bars[2].tooltip, "10:32 UTC: 2 orders");
    assert_eq!(
        texts(&chart),
        [
            (26, 20, Anchor::End, "3"),
            (26, 106, Anchor::End, "0"),
            (30, 122, Anchor::Start, "10:30"),
            (312, 122, Anchor::End, "10:32"),
        ]
    );
    assert_eq!((chart.width, chart.height), (320, 128));
    assert_eq!(
        chart.summary,
        "Orders per minute, UTC: 3 at 10:30, 0 at 10:31, 2 at 10:32."
    );
    assert_eq!(chart.table.headings, ["Minute", "Orders"]);
    assert_eq!(
        chart.table.rows,
        [
            ["2026-12-01 10:30", "3"],
            ["2026-12-01 10:31", "0"],
            ["2026-12-01 10:32", "2"]
        ]
    );
    assert_inside(&chart);
}

#[test]
fn only_the_newest_thirty_minutes_are_drawn_and_a_single_order_is_one_full_column() {
    let mut store = EventStore::new();
    for minute in 0..40 {
        create(&mut store, 1_000 + minute, minute as i64 * 60_000, 1, 1.0);
    }
    let chart = charts::orders_per_minute(&Figures::of(store.read_all(0, None)));
    assert_eq!(chart.bars.len(), charts::MINUTES_SHOWN);
    assert_eq!(chart.table.rows[0][0], "2026-12-01 10:40", "from minute 10");
    assert_eq!(chart.table.rows.last().unwrap()[0], "2026-12-01 11:09");
    assert!(chart.bars.iter().all(|b| b.height == 90 && b.width >= 1));
    assert_inside(&chart);
    // The ten older minutes' orders are said under the chart and in its summary.
    let note = "The newest 30 minutes are drawn; 10 orders before 10:40 UTC are not (Export \
                CSV lists every minute).";
    assert_eq!(chart.note.as_deref(), Some(note));
    assert!(chart.summary.ends_with(note), "{}", chart.summary);

    let mut store = EventStore::new();
    create(&mut store, 1, 0, 1, 1.0);
    let chart = charts::orders_per_minute(&Figures::of(store.read_all(0, None)));
    assert_eq!(
        bars(&chart),
        [(151, 16, 40, 90, 1)],
        "in the middle, not one block"
    );
    assert_eq!(chart.texts.len(), 3, "one minute: written once");
    assert_eq!(chart.summary, "Orders per minute, UTC: 1 at 10:30.");
    assert_eq!(chart.note, None, "nothing left out");
}

#[test]
fn cancellations_by_reason_are_bars_as_long_as_their_count_with_the_reason_above() {
    let chart = charts::cancellations_by_reason(&Analytics::of(&known()).figures);
    assert_eq!(bars(&chart), [(4, 19, 232, 11, 1), (4, 51, 232, 11, 1)]);
    assert_eq!(
        texts(&chart),
        [
            (4, 15, Anchor::Start, OUT_OF_STOCK_KIND),
            (240, 29, Anchor::Start, "1 (25.0 %)"),
            (4, 47, Anchor::Start, DECLINED_KIND),
            (240, 61, Anchor::Start, "1 (25.0 %)"),
        ]
    );
    assert_eq!(chart.bars[1].tooltip, format!("{DECLINED_KIND}: 1 order"));
    assert_eq!(chart.height, 72);
    assert_eq!(
        chart.summary,
        format!("Cancellations by reason: 1 order for {OUT_OF_STOCK_KIND}; 1 order for {DECLINED_KIND}.")
    );
    assert_eq!(
        chart.table.rows,
        [
            [OUT_OF_STOCK_KIND, "1", "25.0 %"],
            [DECLINED_KIND, "1", "25.0 %"]
        ]
    );
    assert_inside(&chart);
}

#[test]
fn many_reasons_draw_the_eight_most_frequent_and_the_table_holds_all_named_as_they_came() {
    let mut store = EventStore::new();
    // Reason k cancels k + 1 orders; reason 0 carries a right-to-left override. Named by
    // letters: reasons that differ only by a number are one kind.
    let mut id = 0;
    for k in 0..10u64 {
        for _ in 0..=k {
            id += 1;
            create(&mut store, id, 0, 1, 1.0);
            let reason = if k == 0 {
                "\u{202E}evil".to_owned()
            } else {
                format!("reason {}", char::from(b'a' + k as u8))
            };
            act(&mut store, id, 10, OrderCommand::Cancel { reason });
        }
    }
    let figures = Figures::of(store.read_all(0, None));
    let chart = charts::cancellations_by_reason(&figures);
    assert_eq!(chart.bars.len(), charts::REASONS_DRAWN);
    let widths: Vec<(u64, u32)> = chart.bars.iter().map(|b| (b.value, b.width)).collect();
    // 10 of 10 is the whole 232; 3 of 10 is 69.6, rounded.
    assert_eq!(
        widths,
        [
            (10, 232),
            (9, 209),
            (8, 186),
            (7, 162),
            (6, 139),
            (5, 116),
            (4, 93),
            (3, 70)
        ]
    );
    let last = chart.texts.last().unwrap();
    assert_eq!(
        (last.text.as_str(), last.class),
        ("and 2 more reasons (in the table)", "axis")
    );
    assert_eq!(chart.table.rows.len(), 10);
    assert_eq!(
        chart.table.rows[9],
        ["\u{202E}evil", "1", "1.8 %"],
        "as it came: the view names it"
    );
    assert!(chart.summary.ends_with("1 order for ⟨U+202E RLO⟩evil."));
    assert_inside(&chart);
}

#[test]
fn bins_are_one_two_or_five_times_a_power_of_ten_and_at_most_ten() {
    let table = [
        (0, (1, 1)),
        (9, (1, 10)),
        (10, (2, 6)),
        (19, (2, 10)),
        (20, (5, 5)),
        (199, (20, 10)),
        (1_000, (200, 6)),
        (5_000, (1_000, 6)),
        (u64::MAX, (2_000_000_000_000_000_000, 10)),
    ];
    for (max, expected) in table {
        assert_eq!(charts::bins_for(max), expected, "{max}");
    }
}

#[test]
fn time_to_end_is_a_histogram_with_the_p50_and_p95_marked() {
    let chart = charts::time_to_end(&Analytics::of(&known()).figures);
    // Bins of 200 ms, six of them to hold 1000; 282 units for 1200 ms.
    let counts: Vec<u64> = chart.bars.iter().map(|b| b.value).collect();
    assert_eq!(counts, [0, 1, 1, 1, 0, 1]);
    assert_eq!(
        bars(&chart)[1],
        (82, 28, 37, 80, 1),
        "slots of 47, columns of 37"
    );
    let lines: Vec<(u32, u32, u32, LineKind)> = chart
        .lines
        .iter()
        .map(|l| (l.x1, l.y1, l.y2, l.kind))
        .filter(|l| l.3 != LineKind::Axis)
        .collect();
    // p50 = 400 ms at 30 + 400 × 282 / 1200 = 124; p95 = 1000 ms at 265.
    assert_eq!(
        lines,
        [(124, 26, 108, LineKind::P50), (265, 14, 108, LineKind::P95)]
    );
    assert_eq!(
        texts(&chart),
        [
            (26, 32, Anchor::End, "1"),
            (124, 23, Anchor::Middle, "p50"),
            (265, 11, Anchor::Middle, "p95"),
            (30, 124, Anchor::Start, "0 ms"),
            (312, 124, Anchor::End, "1200 ms"),
        ]
    );
    assert_eq!(
        chart.summary,
        "Time from order to end of 4 ended orders: p50 400 ms, p95 1000 ms; 0 in 0 to 199 ms, \
         1 in 200 to 399 ms, 1 in 400 to 599 ms, 1 in 600 to 799 ms, 0 in 800 to 999 ms, \
         1 in 1000 to 1199 ms."
    );
    assert_eq!(chart.table.rows[5], ["1000 to 1199 ms", "1"]);
    assert_inside(&chart);
}

#[test]
fn a_marker_at_the_edge_keeps_its_label_inside_and_no_order_ended_draws_nothing() {
    let mut store = EventStore::new();
    create(&mut store, 1, 0, 1, 1.0);
    act(
        &mut store,
        1,
        199,
        OrderCommand::Cancel {
            reason: "payment timed out".into(),
        },
    );
    let chart = charts::time_to_end(&Figures::of(store.read_all(0, None)));
    // 199 ms in bins of 20: 30 + 199 × 282 / 200 = 310.
    let p95 = chart.texts.iter().find(|t| t.text == "p95").unwrap();
    assert_eq!((p95.x, chart.lines[2].x1), (308, 310));
    assert_inside(&chart);

    let none = Figures::of(&[]);
    for chart in [
        charts::orders_per_minute(&none),
        charts::cancellations_by_reason(&none),
        charts::time_to_end(&none),
    ] {
        assert!(chart.bars.is_empty() && chart.table.rows.is_empty());
        assert!(chart.summary.contains("no order"), "{}", chart.summary);
        assert_inside(&chart);
    }
}

#[test]
fn an_order_recorded_ending_before_its_creation_is_not_drawn_as_a_fast_one() {
    let cancel = || OrderCommand::Cancel {
        reason: "payment timed out".into(),
    };
    let mut store = EventStore::new();
    create(&mut store, 1, 0, 1, 1.0);
    // The clock set back two hours between the order and its end.
    act(&mut store, 1, -7_200_000, cancel());
    let figures = Figures::of(store.read_all(0, None));
    assert_eq!((figures.ended_before_created, figures.ended()), (1, 1));
    let chart = charts::time_to_end(&figures);
    assert!(chart.bars.is_empty(), "no time is known: nothing drawn");
    assert_eq!(
        chart.summary,
        "Time from order to end: none measured. 1 order not drawn: it was recorded ending before \
         it was created (a clock set back between the two), so the time it took is not known."
    );

    create(&mut store, 2, 0, 1, 1.0);
    act(&mut store, 2, 1_000, cancel());
    let chart = charts::time_to_end(&Figures::of(store.read_all(0, None)));
    assert_eq!(
        chart.bars.iter().map(|b| b.value).sum::<u64>(),
        1,
        "the other one"
    );
    assert!(chart
        .note
        .as_deref()
        .unwrap()
        .starts_with("1 order not drawn"));
}
