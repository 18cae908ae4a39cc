//! The time from order to end: a histogram with the p50 and p95 marked.

use super::{axis_text, plural, text, Anchor, Chart, Line, LineKind, Plot, Table, MAX_BINS, WIDTH};
use crate::store::Figures;

/// The smallest bin width of 1, 2 or 5 times a power of ten (milliseconds) that holds
/// `0..=max` in at most [`MAX_BINS`] bins, and how many bins that makes.
pub fn bins_for(max: u64) -> (u64, u64) {
    let mut scale: u64 = 1;
    loop {
        for step in [1, 2, 5].map(|m| m * scale) {
            if max / step < MAX_BINS {
                return (step, max / step + 1);
            }
        }
        scale = scale.saturating_mul(10);
    }
}

/// The time from order to end (completed or cancelled), as a histogram: ended orders counted
/// in bins of equal width ([`bins_for`] the longest time), with vertical lines at the p50
/// and p95 (nearest rank) labelled `p50` and `p95` above the plot, each on its own row. Under it `0` and the last bin's end in
/// ms. The table: one row per bin, `1000 to 1999 ms` and its count.
pub fn time_to_end(figures: &Figures) -> Chart {
    let plot = Plot {
        left: 30,
        top: 28,
        width: WIDTH - 38,
        height: 80,
    };
    let times = &figures.times_to_end_ms;
    let Some(&longest) = times.last() else {
        return Chart {
            width: WIDTH,
            height: plot.bottom() + 22,
            summary: match not_measured(figures) {
                Some(note) => format!("Time from order to end: none measured. {note}"),
                None => "Time from order to end: no order has ended yet.".to_owned(),
            },
            bars: Vec::new(),
            lines: vec![plot.base_line()],
            texts: Vec::new(),
            table: Table {
                caption: "Time from order to end".to_owned(),
                headings: vec!["Time", "Orders"],
                rows: Vec::new(),
            },
            note: None,
        };
    };
    let (step, bins) = bins_for(longest);
    let span = step.saturating_mul(bins);
    let range = |bin: u64| {
        let from = bin.saturating_mul(step);
        if step == 1 {
            format!("{from} ms")
        } else {
            format!("{from} to {} ms", from.saturating_add(step - 1))
        }
    };
    let counts: Vec<(u64, String)> = (0..bins)
        .map(|bin| {
            let n = times.iter().filter(|&&t| t / step == bin).count() as u64;
            (
                n,
                format!("{}: {}", range(bin), plural(n, "order", "orders")),
            )
        })
        .collect();
    let bars = plot.columns(&counts);
    let max = counts.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let mut lines = vec![plot.base_line()];
    let mut texts = vec![axis_text(plot.left - 4, plot.top + 4, Anchor::End, max)];
    let at = |ms: u64| {
        let along = u128::from(ms.min(span)) * u128::from(plot.width) / u128::from(span);
        plot.left + u32::try_from(along).unwrap_or(plot.width)
    };
    // Each label on its own row above the plot (p95 over p50), centred on its line, so two
    // close ones cannot overlap; kept inside the drawing at its edges.
    let markers = [
        (figures.time_to_end_p50(), LineKind::P50, 23),
        (figures.time_to_end_p95(), LineKind::P95, 11),
    ];
    for (time, kind, label_y) in markers {
        let Some(time) = time else { continue };
        let x = at(u64::try_from(time.as_millis()).unwrap_or(u64::MAX));
        lines.push(Line {
            x1: x,
            y1: label_y + 3,
            x2: x,
            y2: plot.bottom(),
            kind,
        });
        let label_x = x.clamp(12, WIDTH - 12);
        let name = kind.class().to_owned();
        texts.push(text(label_x, label_y, Anchor::Middle, "label", name));
    }
    let below = plot.bottom() + 16;
    texts.push(text(plot.left, below, Anchor::Start, "axis", "0 ms".into()));
    texts.push(text(
        plot.right(),
        below,
        Anchor::End,
        "axis",
        format!("{span} ms"),
    ));
    let ms = |d: Option<std::time::Duration>| d.map_or(0, |d| d.as_millis());
    let summary = format!(
        "Time from order to end of {}: p50 {} ms, p95 {} ms; {}.",
        plural(times.len() as u64, "ended order", "ended orders"),
        ms(figures.time_to_end_p50()),
        ms(figures.time_to_end_p95()),
        counts
            .iter()
            .enumerate()
            .map(|(bin, (n, _))| format!("{n} in {}", range(bin as u64)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = counts
        .iter()
        .enumerate()
        .map(|(bin, (n, _))| vec![range(bin as u64), n.to_string()])
        .collect();
    Chart {
        width: WIDTH,
        height: plot.bottom() + 22,
        summary,
        bars,
        lines,
        texts,
        table: Table {
            caption: "Time from order to end".to_owned(),
            headings: vec!["Time", "Orders"],
            rows,
        },
        note: not_measured(figures),
    }
}

/// The ended orders the histogram leaves out, in a sentence: their end is recorded before
/// their creation, so no time they took is known (a newcomer's break-test set the clock back
/// two hours mid-order, and the order was counted in `0 to 499 ms`).
fn not_measured(figures: &Figures) -> Option<String> {
    let n = figures.ended_before_created;
    let (was, it) = if n == 1 {
        ("it was", "it")
    } else {
        ("they were", "they")
    };
    (n > 0).then(|| {
        format!(
            "{} not drawn: {was} recorded ending before {was} created (a clock set back between \
             the two), so the time {it} took is not known.",
            plural(n, "order", "orders"),
        )
    })
}
