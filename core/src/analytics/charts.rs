//! The Analytics panel's three small charts as geometry, so the view only draws: orders per
//! minute (columns), cancellations by reason (bars), and the time from order to end (a
//! histogram with the p50 and p95 marked). Every coordinate is a whole unit of the SVG's
//! `viewBox` (`0 0 width height`, [`WIDTH`] wide); the page scales the drawing to its column.
//! Each chart also says what it shows in a sentence ([`Chart::summary`], its accessible name)
//! and holds the same numbers as a table ([`Chart::table`]) for screen readers.

use crate::domain::Timestamp;
use crate::outside_text::{cut, visible};
use crate::store::{percent_text, Figures};

/// Every chart's width, in `viewBox` units.
pub const WIDTH: u32 = 320;

/// The newest minutes drawn by [`orders_per_minute`] (the table lists the same).
pub const MINUTES_SHOWN: usize = 30;

/// The most frequent reasons drawn by [`cancellations_by_reason`]; the table lists every one.
pub const REASONS_DRAWN: usize = 8;

/// The most bins of [`time_to_end`]'s histogram.
pub const MAX_BINS: u64 = 10;

/// The widest column: a chart of one or two columns should not be one block.
const MAX_COLUMN: u32 = 40;

/// A reason's characters drawn before it is cut (the whole one is in the bar's tooltip).
const REASON_CHARS: usize = 44;

/// One small chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The `viewBox`'s width: [`WIDTH`].
    pub width: u32,
    /// The `viewBox`'s height.
    pub height: u32,
    /// What the chart shows, in one sentence: its accessible name (`aria-label`, `<title>`).
    pub summary: String,
    pub bars: Vec<Bar>,
    pub lines: Vec<Line>,
    pub texts: Vec<ChartText>,
    /// The same numbers as a table.
    pub table: Table,
}

/// A filled rectangle standing for `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    /// At least 1 for a value above 0, so a small count still shows.
    pub height: u32,
    pub value: u64,
    /// Its own words, for a tooltip (`<title>`): `10:31 UTC: 2 orders`.
    pub tooltip: String,
}

/// What a line is, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The base line of the bars.
    Axis,
    /// The median's marker.
    P50,
    /// The 95th percentile's marker.
    P95,
}

impl LineKind {
    /// A CSS class: `axis`, `p50` or `p95`.
    pub fn class(self) -> &'static str {
        match self {
            LineKind::Axis => "axis",
            LineKind::P50 => "p50",
            LineKind::P95 => "p95",
        }
    }
}

/// A straight line from (x1, y1) to (x2, y2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub x1: u32,
    pub y1: u32,
    pub x2: u32,
    pub y2: u32,
    pub kind: LineKind,
}

/// Where a text stands relative to its `x` (SVG's `text-anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    /// The `text-anchor` value: `start`, `middle` or `end`.
    pub fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// A text drawn in the chart, its baseline at `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartText {
    pub x: u32,
    pub y: u32,
    pub anchor: Anchor,
    /// `axis` (scales, muted) or `label` (names and values).
    pub class: &'static str,
    pub text: String,
}

/// A chart's numbers as a table: a caption, column headings, and rows of cells (text from
/// outside, a reason, left as it came; the view shows it as such).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub headings: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The area the bars stand in.
#[derive(Debug, Clone, Copy)]
struct Plot {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

impl Plot {
    fn bottom(self) -> u32 {
        self.top + self.height
    }

    fn right(self) -> u32 {
        self.left + self.width
    }

    fn base_line(self) -> Line {
        Line {
            x1: self.left,
            y1: self.bottom(),
            x2: self.right(),
            y2: self.bottom(),
            kind: LineKind::Axis,
        }
    }

    /// A column per value, side by side, each four fifths of its slot (at most
    /// [`MAX_COLUMN`] wide, in its middle), as tall as its value over the largest (rounded; at
    /// least 1 for a value above 0).
    fn columns(self, values: &[(u64, String)]) -> Vec<Bar> {
        let n = values.len() as u64;
        let max = values.iter().map(|(v, _)| *v).max().unwrap_or(0);
        values
            .iter()
            .enumerate()
            .map(|(i, (value, tooltip))| {
                let i = i as u64;
                let from = u64::from(self.left) + i * u64::from(self.width) / n;
                let to = u64::from(self.left) + (i + 1) * u64::from(self.width) / n;
                let slot = to - from;
                let width = (slot * 4 / 5).clamp(1, u64::from(MAX_COLUMN));
                let height = scaled(*value, max, self.height);
                Bar {
                    x: to_u32(from + (slot - width) / 2),
                    y: self.bottom() - height,
                    width: to_u32(width),
                    height,
                    value: *value,
                    tooltip: tooltip.clone(),
                }
            })
            .collect()
    }
}

/// `value` of `max` in `length` units, rounded half up; at least 1 for a value above 0.
fn scaled(value: u64, max: u64, length: u32) -> u32 {
    if max == 0 || value == 0 {
        return 0;
    }
    let units = (u128::from(value.min(max)) * u128::from(length) * 2 + u128::from(max))
        / (2 * u128::from(max));
    u32::try_from(units).unwrap_or(length).max(1)
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `10:30`, the minute's hour and minute in UTC.
fn hour_minute(minute: Timestamp) -> String {
    minute.to_string()[11..16].to_owned()
}

/// Orders created per minute (UTC), a column each, from the first minute with an order to the
/// last, empty minutes included: the newest [`MINUTES_SHOWN`] of them. The scale is the
/// busiest minute's count; the first and last minutes are written under the columns.
/// The table: one row per minute drawn, `2026-12-01 10:30` and its count.
pub fn orders_per_minute(figures: &Figures) -> Chart {
    let plot = Plot {
        left: 30,
        top: 16,
        width: WIDTH - 38,
        height: 90,
    };
    let minute_of = |t: Timestamp| t.unix_millis().div_euclid(60_000);
    let last = figures
        .orders_per_minute
        .last()
        .map(|m| minute_of(m.minute));
    let first = figures
        .orders_per_minute
        .first()
        .map(|m| minute_of(m.minute));
    let minutes: Vec<(Timestamp, u64)> = match (first, last) {
        (Some(first), Some(last)) => {
            let from = first.max(last - (MINUTES_SHOWN as i64 - 1));
            (from..=last)
                .filter_map(|m| Timestamp::from_unix_millis(m * 60_000).ok())
                .map(|t| {
                    let count = figures
                        .orders_per_minute
                        .iter()
                        .find(|b| b.minute == t)
                        .map_or(0, |b| b.orders);
                    (t, count)
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let values: Vec<(u64, String)> = minutes
        .iter()
        .map(|(t, n)| {
            let tip = format!("{} UTC: {}", hour_minute(*t), plural(*n, "order", "orders"));
            (*n, tip)
        })
        .collect();
    let bars = plot.columns(&values);
    let max = values.iter().map(|(v, _)| *v).max().unwrap_or(0);
    let mut texts = Vec::new();
    if let (Some((first, _)), Some((last, _))) = (minutes.first(), minutes.last()) {
        texts.push(axis_text(plot.left - 4, plot.top + 4, Anchor::End, max));
        texts.push(axis_text(plot.left - 4, plot.bottom(), Anchor::End, 0));
        let below = plot.bottom() + 16;
        texts.push(text(
            plot.left,
            below,
            Anchor::Start,
            "axis",
            hour_minute(*first),
        ));
        if minutes.len() > 1 {
            texts.push(text(
                plot.right(),
                below,
                Anchor::End,
                "axis",
                hour_minute(*last),
            ));
        }
    }
    let summary = if minutes.is_empty() {
        "Orders per minute: no order yet.".to_owned()
    } else {
        let each: Vec<String> = minutes
            .iter()
            .map(|(t, n)| format!("{n} at {}", hour_minute(*t)))
            .collect();
        format!("Orders per minute, UTC: {}.", each.join(", "))
    };
    let rows = minutes
        .iter()
        .map(|(t, n)| vec![t.to_string()[..16].replace('T', " "), n.to_string()])
        .collect();
    Chart {
        width: WIDTH,
        height: plot.bottom() + 22,
        summary,
        bars,
        lines: vec![plot.base_line()],
        texts,
        table: Table {
            caption: "Orders per minute (UTC)".to_owned(),
            headings: vec!["Minute", "Orders"],
            rows,
        },
    }
}

/// Cancelled orders by reason, most frequent first: a bar each for the first
/// [`REASONS_DRAWN`], its reason above it (cut to 44 characters, invisible characters named)
/// and its count and share of ended orders after it (`2 (40.0 %)`); a line says how many
/// more there are. The table: every reason, its count, its share of ended orders.
pub fn cancellations_by_reason(figures: &Figures) -> Chart {
    const ROW: u32 = 32;
    const TOP: u32 = 4;
    const LEFT: u32 = 4;
    // Room after the longest bar for its count and share.
    let bar_room = WIDTH - LEFT - 84;
    let reasons = &figures.cancelled_by_reason;
    let max = reasons.iter().map(|r| r.orders).max().unwrap_or(0);
    let share = |reason: &str| percent_text(figures.cancellation_permille_for(reason));
    let mut bars = Vec::new();
    let mut texts = Vec::new();
    for (i, reason) in reasons.iter().take(REASONS_DRAWN).enumerate() {
        let top = TOP + i as u32 * ROW;
        let shown = visible(&reason.reason);
        let label = match cut(&shown, REASON_CHARS) {
            Some(start) => format!("{start}…"),
            None => shown.clone().into_owned(),
        };
        texts.push(text(LEFT, top + 11, Anchor::Start, "label", label));
        let width = scaled(reason.orders, max, bar_room);
        bars.push(Bar {
            x: LEFT,
            y: top + 15,
            width,
            height: 11,
            value: reason.orders,
            tooltip: format!("{shown}: {}", plural(reason.orders, "order", "orders")),
        });
        let value = format!("{} ({} %)", reason.orders, share(&reason.reason));
        texts.push(text(
            LEFT + width + 4,
            top + 25,
            Anchor::Start,
            "label",
            value,
        ));
    }
    let drawn = reasons.len().min(REASONS_DRAWN) as u32;
    let mut height = TOP + drawn * ROW + 4;
    let more = reasons.len().saturating_sub(REASONS_DRAWN);
    if more > 0 {
        let words = format!(
            "and {more} more {} (in the table)",
            if more == 1 { "reason" } else { "reasons" }
        );
        texts.push(text(LEFT, height + 10, Anchor::Start, "axis", words));
        height += 16;
    }
    let summary = if reasons.is_empty() {
        "Cancellations by reason: no order cancelled yet.".to_owned()
    } else {
        let each: Vec<String> = reasons
            .iter()
            .map(|r| {
                format!(
                    "{} for {}",
                    plural(r.orders, "order", "orders"),
                    visible(&r.reason)
                )
            })
            .collect();
        format!("Cancellations by reason: {}.", each.join("; "))
    };
    let rows = reasons
        .iter()
        .map(|r| {
            vec![
                r.reason.clone(),
                r.orders.to_string(),
                format!("{} %", share(&r.reason)),
            ]
        })
        .collect();
    Chart {
        width: WIDTH,
        height,
        summary,
        bars,
        lines: Vec::new(),
        texts,
        table: Table {
            caption: "Cancellations by reason".to_owned(),
            headings: vec!["Reason", "Orders", "Share of ended orders"],
            rows,
        },
    }
}

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
            summary: "Time from order to end: no order has ended yet.".to_owned(),
            bars: Vec::new(),
            lines: vec![plot.base_line()],
            texts: Vec::new(),
            table: Table {
                caption: "Time from order to end".to_owned(),
                headings: vec!["Time", "Orders"],
                rows: Vec::new(),
            },
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
    }
}

fn text(x: u32, y: u32, anchor: Anchor, class: &'static str, text: String) -> ChartText {
    ChartText {
        x,
        y,
        anchor,
        class,
        text,
    }
}

fn axis_text(x: u32, y: u32, anchor: Anchor, n: u64) -> ChartText {
    text(x, y, anchor, "axis", n.to_string())
}
