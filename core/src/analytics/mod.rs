//! AnalyticsService (source document 003's fifth service, `/api/analytics/metrics`) as the page
//! shows it: the figures of OrderService's event store ([`Figures`]: orders, orders per minute,
//! completed, cancelled, open, revenue, cancellation rate by reason, time from order to end),
//! the broker round trip read from the packets ([`RoundTrip`]), the headline figures in words,
//! the CSV export, and the geometry of three small charts ([`charts`]). Pure: a function of the
//! trace, so the view only draws.
//!
//! ```
//! use eda_core::analytics::{charts, Analytics};
//! use eda_core::domain::{OrderItem, Timestamp};
//! use eda_core::store::{ExpectedVersion, StreamEvent};
//! use eda_core::trace::Trace;
//! use uuid::Uuid;
//!
//! let mut trace = Trace::default();
//! let created = StreamEvent::Created {
//!     customer_id: "C123".into(),
//!     items: vec![OrderItem { product_id: "P001".into(), quantity: 2, price: 29.99 }],
//!     total_amount: 59.98,
//!     saga: None,
//! };
//! let now = Timestamp::parse("2026-12-01T10:30:00.000Z").unwrap();
//! trace.store.append(Uuid::from_u128(1), ExpectedVersion::NoStream, vec![created], now).unwrap();
//!
//! let analytics = Analytics::of(&trace);
//! assert_eq!((analytics.figures.orders, analytics.figures.open), (1, 1));
//! let orders = &analytics.headlines()[0];
//! assert_eq!((orders.key, orders.shown.as_str()), ("orders", "1"));
//! assert!(analytics.to_csv().ends_with("broker_round_trip_samples,,0\r\n"));
//! let chart = charts::orders_per_minute(&analytics.figures);
//! assert_eq!(chart.summary, "Orders per minute, UTC: 1 at 10:30.");
//! ```

pub mod charts;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::store::{csv_text, percent_text, CsvRow, Figures};
use crate::trace::round_trip::RoundTrip;
use crate::trace::Trace;

/// What the page shows for a figure that does not exist yet (a rate before any order ended).
pub const NONE_YET: &str = "—";

/// Everything the Analytics panel shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analytics {
    /// The figures of every event in the store.
    pub figures: Figures,
    /// The round trips of the publishes among the packets the trace holds.
    pub round_trip: RoundTrip,
}

/// One headline figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    /// A name for selectors, kebab case: `orders`, `revenue`, `round-trip-p50`, ….
    pub key: &'static str,
    /// What it is, in words: `Cancellation rate`.
    pub label: &'static str,
    /// As shown, with its unit: `60.0 %`, `22.34`, `1234 ms`, or [`NONE_YET`].
    pub shown: String,
    /// The bare number, as the CSV writes it (`60.0`, `1234`); empty when there is none yet.
    pub value: String,
}

impl Analytics {
    /// The figures of `trace`'s copy of the store (every event) and the round trips of its
    /// packets.
    pub fn of(trace: &Trace) -> Analytics {
        Analytics {
            figures: Figures::of(trace.store.read_all(0, None)),
            round_trip: RoundTrip::of(trace.packets.iter()),
        }
    }

    /// The headline figures, in this order: orders, completed, cancelled, open, revenue (exact
    /// to the cent), cancellation rate (cancelled of ended orders, one decimal), time from
    /// order to end p50 and p95 (whole milliseconds, nearest rank), broker round trip p50 and
    /// p95 (milliseconds, one decimal) and how many publishes were answered.
    pub fn headlines(&self) -> Vec<Headline> {
        let f = &self.figures;
        let count = |key, label, n: u64| headline(key, label, n.to_string(), "");
        let ms = |d: Option<Duration>| d.map_or(String::new(), |d| d.as_millis().to_string());
        vec![
            count("orders", "Orders", f.orders),
            count("completed", "Completed", f.completed),
            count("cancelled", "Cancelled", f.cancelled),
            count("open", "Open", f.open),
            headline("revenue", "Revenue", f.revenue.to_string(), ""),
            headline(
                "cancellation-rate",
                "Cancellation rate",
                percent_text(f.cancellation_permille()),
                " %",
            ),
            headline(
                "time-to-end-p50",
                "Order to end, p50",
                ms(f.time_to_end_p50()),
                " ms",
            ),
            headline(
                "time-to-end-p95",
                "Order to end, p95",
                ms(f.time_to_end_p95()),
                " ms",
            ),
            headline(
                "round-trip-p50",
                "Broker round trip, p50",
                RoundTrip::ms_text(self.round_trip.p50()),
                " ms",
            ),
            headline(
                "round-trip-p95",
                "Broker round trip, p95",
                RoundTrip::ms_text(self.round_trip.p95()),
                " ms",
            ),
            // The trace keeps the newest packets only: the figure says over which (a
            // newcomer's break-test read 0 after a backlog of 500 orders filled the window).
            count(
                "round-trip-samples",
                SAMPLES_LABEL,
                self.round_trip.count() as u64,
            ),
        ]
    }

    /// The CSV rows: the figures' ([`Figures::csv_rows`]), then the round trip's:
    /// `broker_round_trip_p50_ms` and `broker_round_trip_p95_ms` (milliseconds, one decimal;
    /// empty before any answer) and `broker_round_trip_samples`.
    pub fn csv_rows(&self) -> Vec<CsvRow> {
        let mut rows = self.figures.csv_rows();
        let round_trip = &self.round_trip;
        rows.push((
            "broker_round_trip_p50_ms",
            String::new(),
            RoundTrip::ms_text(round_trip.p50()),
        ));
        rows.push((
            "broker_round_trip_p95_ms",
            String::new(),
            RoundTrip::ms_text(round_trip.p95()),
        ));
        rows.push((
            "broker_round_trip_samples",
            String::new(),
            round_trip.count().to_string(),
        ));
        rows
    }

    /// The CSV the panel exports as `analytics.csv`: [`Analytics::csv_rows`] quoted as
    /// [`Figures::to_csv`] says (RFC 4180, columns `figure,key,value`).
    pub fn to_csv(&self) -> String {
        csv_text(&self.csv_rows())
    }
}

/// The label of the round trip's sample count: the samples come from the packets the trace
/// still holds, the newest [`crate::trace::HISTORY_CAPACITY`].
pub const SAMPLES_LABEL: &str = "Publishes answered, in the newest 2000 packets";

fn headline(key: &'static str, label: &'static str, value: String, unit: &str) -> Headline {
    let shown = if value.is_empty() {
        NONE_YET.to_owned()
    } else {
        format!("{value}{unit}")
    };
    Headline {
        key,
        label,
        shown,
        value,
    }
}
