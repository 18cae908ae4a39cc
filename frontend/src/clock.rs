//! The page's clocks and its source of fresh ids: the only place in the app that reads the
//! time or draws a random number (clippy's `disallowed-methods`, in `clippy.toml`, refuses them
//! anywhere else). The core takes what these return as input.

use std::time::Duration;

use eda_core::domain::Timestamp;
use eda_core::trace::otlp::Epoch;
use uuid::Uuid;

/// The packets' clock: the page's monotonic time since it loaded (`performance.now()`), the
/// same clock every traced packet's `at`, every work's `due` and the playback's `wall` use.
#[allow(clippy::disallowed_methods)]
pub fn now() -> Duration {
    broker_bridge::ws::now()
}

/// Wall-clock time as the domain's timestamp (the seed's `createdAt`, `processedAt`…), or
/// `None` if the browser's clock is outside the years 0000–9999.
#[allow(clippy::disallowed_methods)]
pub fn wall_clock() -> Option<Timestamp> {
    Timestamp::from_unix_millis(js_sys::Date::now() as i64).ok()
}

/// Where the packets' clock starts on the Unix clock: the page's `performance.timeOrigin`
/// (what `performance.now()` counts from), for an OpenTelemetry export. `None` if the browser
/// gives no performance clock or an impossible origin.
pub fn packets_epoch() -> Option<Epoch> {
    let origin = web_sys::window()?.performance()?.time_origin();
    Epoch::from_unix_millis(origin).ok()
}

/// Milliseconds since the Unix epoch, for comparing two moments a second or so apart.
#[allow(clippy::disallowed_methods)]
pub fn unix_millis() -> f64 {
    js_sys::Date::now()
}

/// `HH:MM:SS.mmm` (UTC) of a timestamp, for log lines; empty for `None`.
pub fn time_of_day(at: Option<Timestamp>) -> String {
    // "2024-01-15T10:30:00.800Z" → "10:30:00.800"
    at.map(|t| t.to_string().get(11..23).unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// A fresh random id (version 4): an order id, an event id.
#[allow(clippy::disallowed_methods)]
pub fn fresh_id() -> Uuid {
    Uuid::new_v4()
}

/// Six fresh hex digits that make a tab's client ids unique: `eda-<tag>-order`… (a reload of
/// the same tab keeps its tag: [`crate::tab_session::session_tag`]).
pub fn fresh_session_tag() -> String {
    fresh_id().simple().to_string()[..6].to_owned()
}
