//! The Analytics panel's three small charts as geometry, so the view only draws: orders per
//! minute (columns), cancellations by reason (bars), and the time from order to end (a
//! histogram with the p50 and p95 marked). Every coordinate is a whole unit of the SVG's
//! `viewBox` (`0 0 width height`, [`WIDTH`] wide); the page scales the drawing to its column.
//! Each chart also says what it shows in a sentence ([`Chart::summary`], its accessible name)
//! and holds the same numbers as a table ([`Chart::table`]) for screen readers.

mod per_minute;
mod reasons;
mod time_to_end;

pub use per_minute::orders_per_minute;
pub use reasons::cancellations_by_reason;
pub use time_to_end::{bins_for, time_to_end};

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
    /// What the drawing leaves out, in a sentence shown under it (orders older than the
    /// minutes drawn); `None` when it leaves out nothing.
    pub note: Option<String>,
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
