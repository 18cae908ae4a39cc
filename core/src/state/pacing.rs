//! How often the page is told what the services did: the report period, stretched while the
//! page's drawing is costly, so drawing takes a bounded share of the main thread however many
//! orders a second arrive (issue 14: at 100 orders a second the page must stay responsive).
//!
//! The rule is pure; the runtime (frontend) measures how long its last report took to apply and
//! draw, and asks [`report_period`] how long to wait before the next one.

use std::time::Duration;

/// The shortest report period: a lone change waits at most this long behind the last report.
pub const MIN_REPORT_PERIOD: Duration = Duration::from_millis(100);
/// The longest: under any load the panels move at least this often.
pub const MAX_REPORT_PERIOD: Duration = Duration::from_millis(400);
/// The period is this many times the last report's cost (its script: applying the batch and
/// Yew's render). Style, layout and paint after it cost about as much again, so drawing stays
/// under about a third of the main thread (`2 / 6`), leaving the rest for the services, their
/// packets, the flow's dots and the learner's input.
pub const COST_MULTIPLE: u32 = 6;

/// The time to leave between the start of one report and the start of the next, given how long
/// the last one took (`last_cost`, wall time of applying it and rendering): `COST_MULTIPLE ×
/// last_cost`, clamped to [`MIN_REPORT_PERIOD`]..=[`MAX_REPORT_PERIOD`].
///
/// ```
/// use std::time::Duration;
/// use eda_core::state::pacing::report_period;
/// assert_eq!(report_period(Duration::from_millis(5)), Duration::from_millis(100));
/// assert_eq!(report_period(Duration::from_millis(30)), Duration::from_millis(180));
/// assert_eq!(report_period(Duration::from_secs(1)), Duration::from_millis(400));
/// ```
pub fn report_period(last_cost: Duration) -> Duration {
    last_cost
        .saturating_mul(COST_MULTIPLE)
        .clamp(MIN_REPORT_PERIOD, MAX_REPORT_PERIOD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cheap_report_keeps_the_shortest_period() {
        assert_eq!(report_period(Duration::ZERO), MIN_REPORT_PERIOD);
        assert_eq!(report_period(Duration::from_millis(16)), MIN_REPORT_PERIOD);
    }

    #[test]
    fn a_costly_report_stretches_the_period_in_proportion() {
        assert_eq!(
            report_period(Duration::from_millis(25)),
            Duration::from_millis(150)
        );
        assert_eq!(
            report_period(Duration::from_millis(60)),
            Duration::from_millis(360)
        );
    }

    #[test]
    fn the_period_never_exceeds_the_longest() {
        assert_eq!(report_period(Duration::from_millis(67)), MAX_REPORT_PERIOD);
        assert_eq!(report_period(Duration::MAX), MAX_REPORT_PERIOD);
    }
}
