//! AnalyticsService's figures (source document 003's `/api/analytics/metrics`), computed from
//! the store's events alone: a pure function of a slice of them, so the figures of any moment
//! of the past are those of `store.read_all(0, Some(position))`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use uuid::Uuid;

use super::revenue::OrderRevenue;
use super::stored_event::StoredEvent;
use super::stream_event::StreamEvent;
use crate::domain::money::CentsSum;
use crate::domain::order::OrderEvent;
use crate::domain::timestamp::Timestamp;

/// Orders created in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteCount {
    /// The minute's start (seconds and milliseconds 0), UTC.
    pub minute: Timestamp,
    /// `OrderCreated` events recorded in that minute.
    pub orders: u64,
}

/// Orders cancelled for one kind of reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    /// The cancellations' reason kind, [`reason_kind`] of each reason as recorded
    /// (`payment declined: total over the limit`, `payment timed out`, …): one per rule, not
    /// one per total.
    pub reason: String,
    /// Orders cancelled for it.
    pub orders: u64,
}

/// The figures of the orders whose creation is among the events read. Events of a stream
/// whose `OrderCreated` is not among them are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// Orders created.
    pub orders: u64,
    /// Orders created per minute of their `recordedAt`, oldest minute first; minutes with none
    /// are left out.
    pub orders_per_minute: Vec<MinuteCount>,
    /// Orders completed.
    pub completed: u64,
    /// Orders cancelled.
    pub cancelled: u64,
    /// Orders neither completed nor cancelled yet.
    pub open: u64,
    /// Cancellations by reason kind ([`reason_kind`]), most frequent first (ties by kind).
    pub cancelled_by_reason: Vec<ReasonCount>,
    /// Completed orders' totals, less refunds of the charges that paid them, exact to the
    /// cent, or [`CentsSum::TooLarge`] past `u64::MAX` cents (the read model's
    /// [`super::Totals::revenue`]).
    pub revenue: CentsSum,
    /// Time from `OrderCreated` to `OrderCompleted` or `OrderCancelled` (by `recordedAt`) of
    /// each ended order, in milliseconds, shortest first.
    pub times_to_end_ms: Vec<u64>,
    /// Ended orders whose end is recorded before their creation (a wall clock set back
    /// between the two): no time is measured for them, rather than a time no order took.
    pub ended_before_created: u64,
}

/// What stands for a number [`reason_kind`] takes out of a reason.
pub const NUMBER_TAKEN_OUT: &str = "…";

/// The kind of a cancellation's `reason`, by which the analytics count cancellations: one per
/// rule, whatever the amounts and counts of each order. Each number standing alone in the
/// text (`59.98`, `2`, `100`: digits, with `.` or `,` between digits, not part of a word such
/// as `P001` or an id such as `3fa85f64-…`, nor a product id that is a number, followed by its
/// counts in brackets) is written [`NUMBER_TAKEN_OUT`]
/// (`out of stock: P001 (2 asked, 1 left)` → `out of stock: P001 (… asked, … left)`); and
/// PaymentService's decline rules ([`crate::services::PaymentRule::decline_reason`]) are
/// named in words that fit a chart's label: `payment declined: total over the limit` for
/// `?decline_over=` (the total and the limit taken out), `payment declined: a share of
/// orders` for `?decline_pct=`. A reason without numbers is its own kind. Never fails.
///
/// ```
/// use eda_core::store::reason_kind;
///
/// assert_eq!(
///     reason_kind("payment declined: the total 59.98 is over the limit of 50.00"),
///     "payment declined: total over the limit"
/// );
/// assert_eq!(reason_kind("out of stock: P001 (2 asked, 1 left)"), "out of stock: P001 (… asked, … left)");
/// assert_eq!(reason_kind("payment timed out"), "payment timed out");
/// // A product id that is a number, named before its count in brackets, stays.
/// assert_eq!(reason_kind("out of stock: 7 (5 asked, 1 left)"), "out of stock: 7 (… asked, … left)");
/// assert_eq!(reason_kind("out of stock: 1.5 (5 asked, 1 left)"), "out of stock: 1.5 (… asked, … left)");
/// ```
pub fn reason_kind(reason: &str) -> String {
    let masked = numbers_taken_out(reason);
    match masked.as_str() {
        "payment declined: the total … is over the limit of …" => {
            "payment declined: total over the limit".to_owned()
        }
        "payment declined (… % of orders are)" => {
            "payment declined: a share of orders".to_owned()
        }
        _ => masked,
    }
}

/// `text` with each number standing alone written [`NUMBER_TAKEN_OUT`] (see [`reason_kind`]).
fn numbers_taken_out(text: &str) -> String {
    // A character that makes digits next to it part of a word or an id, not a number.
    let joins = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let before = i.checked_sub(1).map(|b| chars[b]);
        if !chars[i].is_ascii_digit() || joins(before) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Digits, and `.` or `,` only between digits.
        let mut end = i;
        while end < chars.len()
            && (chars[end].is_ascii_digit()
                || (matches!(chars[end], '.' | ',')
                    && chars.get(end + 1).is_some_and(char::is_ascii_digit)))
        {
            end += 1;
        }
        // A product id that is a number names what the count in brackets after it is of
        // (`out of stock: 7 (2 asked, 1 left)`): kept, or products `7` and `1.5` were one bar
        // (41-AH F10).
        let names_a_product = chars.get(end) == Some(&' ') && chars.get(end + 1) == Some(&'(');
        if joins(chars.get(end).copied()) || names_a_product {
            out.extend(&chars[i..end]);
        } else {
            out.push_str(NUMBER_TAKEN_OUT);
        }
        i = end;
    }
    out
}

#[derive(Default)]
struct Life {
    created_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
    cancelled: Option<String>,
    revenue: OrderRevenue,
}

impl Figures {
    /// The figures of `events`, as [`super::EventStore::read_all`] gives them (position
    /// order). Never panics.
    pub fn of(events: &[StoredEvent]) -> Figures {
        let mut lives: HashMap<Uuid, Life> = HashMap::new();
        let mut per_minute: BTreeMap<i64, u64> = BTreeMap::new();
        for stored in events {
            let at = stored.recorded_at;
            if let StreamEvent::Created { .. } = stored.event {
                let life = lives.entry(stored.stream).or_default();
                if life.created_at.is_some() {
                    continue;
                }
                life.created_at = Some(at);
                *per_minute
                    .entry(at.unix_millis().div_euclid(60_000))
                    .or_default() += 1;
            }
            let Some(life) = lives.get_mut(&stored.stream) else {
                continue;
            };
            life.revenue.record(&stored.event);
            if life.ended_at.is_none() && stored.event.is_terminal() {
                life.ended_at = Some(at);
                if let StreamEvent::Order(OrderEvent::Cancelled { reason }) = &stored.event {
                    life.cancelled = Some(reason.clone());
                }
            }
        }
        let mut figures = Figures {
            orders: lives.len() as u64,
            orders_per_minute: per_minute
                .into_iter()
                .filter_map(|(minute, orders)| {
                    let minute = Timestamp::from_unix_millis(minute * 60_000).ok()?;
                    Some(MinuteCount { minute, orders })
                })
                .collect(),
            completed: 0,
            cancelled: 0,
            open: 0,
            cancelled_by_reason: Vec::new(),
            revenue: CentsSum::default(),
            times_to_end_ms: Vec::new(),
            ended_before_created: 0,
        };
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for life in lives.values() {
            figures.revenue = figures.revenue.plus(life.revenue.kept());
            let (Some(created), Some(ended)) = (life.created_at, life.ended_at) else {
                figures.open += 1;
                continue;
            };
            let ms = ended.unix_millis().saturating_sub(created.unix_millis());
            match u64::try_from(ms) {
                Ok(ms) => figures.times_to_end_ms.push(ms),
                Err(_) => figures.ended_before_created += 1,
            }
            match &life.cancelled {
                Some(reason) => {
                    figures.cancelled += 1;
                    *reasons.entry(reason_kind(reason)).or_default() += 1;
                }
                None => figures.completed += 1,
            }
        }
        figures.times_to_end_ms.sort_unstable();
        figures.cancelled_by_reason = reasons
            .into_iter()
            .map(|(reason, orders)| ReasonCount { reason, orders })
            .collect();
        // Stable: equal counts stay in the reasons' order.
        crate::stable_sort::by_key(&mut figures.cancelled_by_reason, |r| {
            std::cmp::Reverse(r.orders)
        });
        figures
    }

    /// Orders that ended (completed or cancelled).
    pub fn ended(&self) -> u64 {
        self.completed + self.cancelled
    }

    /// The cancellation rate: cancelled orders per thousand ended orders, rounded half up;
    /// `None` before any order ended. An open order is not counted: it may still go either way.
    pub fn cancellation_permille(&self) -> Option<u64> {
        permille(self.cancelled, self.ended())
    }

    /// The share of ended orders cancelled for `reason`, per thousand, as
    /// [`Figures::cancellation_permille`].
    pub fn cancellation_permille_for(&self, reason: &str) -> Option<u64> {
        let count = self
            .cancelled_by_reason
            .iter()
            .find(|r| r.reason == reason)
            .map_or(0, |r| r.orders);
        permille(count, self.ended())
    }

    /// The median time from creation to end (nearest rank: see [`nearest_rank`]).
    pub fn time_to_end_p50(&self) -> Option<Duration> {
        nearest_rank(&self.times_to_end_ms, 50).map(Duration::from_millis)
    }

    /// The 95th percentile of the time from creation to end (nearest rank).
    pub fn time_to_end_p95(&self) -> Option<Duration> {
        nearest_rank(&self.times_to_end_ms, 95).map(Duration::from_millis)
    }

    /// The figures as CSV (RFC 4180: `,` between fields, CRLF after each record, a field with
    /// `,`, `"`, CR or LF in double quotes with `"` doubled). Columns `figure,key,value`: one
    /// row per figure, one per minute (key: the minute's start) and one per reason (key: the
    /// reason). Rates are percentages with one decimal, times milliseconds, money two decimals;
    /// a figure that does not exist yet (a rate before any order ended) has an empty value.
    /// A key from outside beginning with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, so
    /// a spreadsheet shows it rather than run it as a formula. The rows are
    /// [`Figures::csv_rows`], written by [`csv_text`].
    pub fn to_csv(&self) -> String {
        csv_text(&self.csv_rows())
    }

    /// The rows of [`Figures::to_csv`], before quoting: for a CSV that adds rows of its own.
    pub fn csv_rows(&self) -> Vec<CsvRow> {
        let mut rows: Vec<CsvRow> = vec![("orders", String::new(), self.orders.to_string())];
        for bucket in &self.orders_per_minute {
            rows.push((
                "orders_per_minute",
                bucket.minute.to_string(),
                bucket.orders.to_string(),
            ));
        }
        rows.push(("completed", String::new(), self.completed.to_string()));
        rows.push(("cancelled", String::new(), self.cancelled.to_string()));
        // How many per reason, as the page shows them (41-AH F12: the CSV had the shares alone).
        for reason in &self.cancelled_by_reason {
            rows.push((
                "cancelled",
                reason.reason.clone(),
                reason.orders.to_string(),
            ));
        }
        rows.push(("open", String::new(), self.open.to_string()));
        rows.push(("revenue", String::new(), self.revenue.to_string()));
        rows.push((
            "cancellation_rate_percent",
            String::new(),
            percent_text(self.cancellation_permille()),
        ));
        for reason in &self.cancelled_by_reason {
            let share = permille(reason.orders, self.ended());
            rows.push((
                "cancellation_rate_percent",
                reason.reason.clone(),
                percent_text(share),
            ));
        }
        let ms = |d: Option<Duration>| d.map_or(String::new(), |d| d.as_millis().to_string());
        rows.push((
            "time_to_end_p50_ms",
            String::new(),
            ms(self.time_to_end_p50()),
        ));
        rows.push((
            "time_to_end_p95_ms",
            String::new(),
            ms(self.time_to_end_p95()),
        ));
        rows
    }
}

/// One row of the figures' CSV before quoting: the figure's name, its key (a minute, a reason,
/// or empty) and its value.
pub type CsvRow = (&'static str, String, String);

/// `rows` as CSV under the header `figure,key,value`, quoted as [`Figures::to_csv`] says.
pub fn csv_text(rows: &[CsvRow]) -> String {
    let mut csv = String::from("figure,key,value\r\n");
    for (figure, key, value) in rows {
        // Writing to a String cannot fail.
        let _ = write!(csv, "{figure},{},{value}\r\n", csv_field(key));
    }
    csv
}

/// A rate per thousand as a percentage with one decimal (`667` → `66.7`); empty for `None`.
pub fn percent_text(permille: Option<u64>) -> String {
    permille.map_or(String::new(), |p| format!("{}.{}", p / 10, p % 10))
}

/// `part` per thousand of `whole`, rounded half up; `None` when `whole` is 0.
fn permille(part: u64, whole: u64) -> Option<u64> {
    if whole == 0 {
        return None;
    }
    let scaled = u128::from(part) * 1000;
    let whole = u128::from(whole);
    // At most 1000 × part / whole: fits u64 whenever part <= whole, and saturates otherwise.
    Some(u64::try_from((scaled * 2 + whole) / (2 * whole)).unwrap_or(u64::MAX))
}

/// The nearest-rank percentile of values sorted ascending: the smallest value with at least
/// `percent` % of the values at or below it, i.e. the value of rank ⌈percent × n / 100⌉ (rank 1
/// for 0 %). Always one of the values, never an interpolation. `None` for no values; a
/// `percent` over 100 is taken as 100.
///
/// ```
/// # use eda_core::store::nearest_rank;
/// let times = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000];
/// assert_eq!(nearest_rank(&times, 50), Some(500)); // rank 5
/// assert_eq!(nearest_rank(&times, 95), Some(1000)); // rank ⌈9.5⌉ = 10
/// ```
pub fn nearest_rank(sorted: &[u64], percent: u8) -> Option<u64> {
    let n = sorted.len() as u64;
    let percent = u64::from(percent.min(100));
    let rank = (percent * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// One CSV field (RFC 4180), made safe for spreadsheets.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
