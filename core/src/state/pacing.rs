//! How often the page is told what the services did: the report period, stretched while the
//! page's drawing is costly, so drawing takes a bounded share of the main thread however many
//! orders a second arrive (issue 14: at 100 orders a second the page must stay responsive).
//!
//! The rule is pure; the runtime (frontend) measures how long its last report took to apply and
//! draw, and asks [`report_period`] how long to wait before the next one.

use std::time::Duration;

/// The shortest report period: a lone change waits at most this long behind the last report.
pub const MIN_REPORT_PERIOD: Duration = Duration::from_millis(100);
/// The longest: under any load the panels move at least this often; the period of a busy page.
pub const MAX_REPORT_PERIOD: Duration = Duration::from_millis(400);
/// The period is this many times the last report's cost (its script: applying the batch and
/// Yew's render). Style, layout and paint after it cost about as much again, so drawing stays
/// under about a third of the main thread (`2 / 6`), leaving the rest for the services, their
/// packets, the flow's dots and the learner's input.
pub const COST_MULTIPLE: u32 = 6;

/// The time to leave between the start of one report and the start of the next, given how long
/// the last one took (`last_cost`, wall time of applying it and rendering) and whether the page
/// is `busy` ([`Load`]): calm, `COST_MULTIPLE × last_cost`, clamped to
/// [`MIN_REPORT_PERIOD`]..=[`MAX_REPORT_PERIOD`]; busy, [`MAX_REPORT_PERIOD`] whatever the cost.
///
/// Busy means a sustained load (100 orders a second), where what a report costs is mostly what
/// it costs at all: each one makes the page diff, lay out and paint again, and costs frames
/// whatever it holds. Measured (docs/benchmarks.md, "Fewer reports while busy"): at 100 orders a
/// second the main thread went from ~9.2 to ~7.4 ms per order and the flow view from 46–48 to
/// 51 frames a second with the longest period while busy. A lone change on a calm page still
/// waits at most [`MIN_REPORT_PERIOD`].
///
/// ```
/// use std::time::Duration;
/// use eda_core::state::pacing::report_period;
/// assert_eq!(report_period(Duration::from_millis(5), false), Duration::from_millis(100));
/// assert_eq!(report_period(Duration::from_millis(30), false), Duration::from_millis(180));
/// assert_eq!(report_period(Duration::from_secs(1), false), Duration::from_millis(400));
/// assert_eq!(report_period(Duration::from_millis(5), true), Duration::from_millis(400));
/// ```
pub fn report_period(last_cost: Duration, busy: bool) -> Duration {
    if busy {
        return MAX_REPORT_PERIOD;
    }
    last_cost
        .saturating_mul(COST_MULTIPLE)
        .clamp(MIN_REPORT_PERIOD, MAX_REPORT_PERIOD)
}

/// A batch with more actions than this is a large one: each order brings about a dozen
/// actions, so 100 orders a second fill a 100 ms batch with about 120, while a lone order's
/// dozen is spread over several batches.
pub const BUSY_ACTIONS: usize = 40;
/// This many large batches in a row make the page busy: a sustained load, not one burst.
pub const BUSY_STREAK: u8 = 3;
/// A busy page calms down once no large batch has come for this long (the load is over). Not
/// sooner: each switch changes how the parts out of sight are drawn, so a load that comes in
/// bursts (a learner pressing *Place 10 orders* again and again) keeps the page busy
/// throughout instead of switching it at every pause.
pub const CALM_AFTER: Duration = Duration::from_millis(1000);

/// Whether the page is under a sustained load, from the size of each report's batch: busy
/// after [`BUSY_STREAK`] large batches (more than [`BUSY_ACTIONS`] actions) in a row, calm again
/// only when told ([`Load::calm`]: the frontend's timer, [`CALM_AFTER`] after the last large
/// batch). Counted in actions, not milliseconds, so the same load is busy on any machine and in
/// any build. While busy the page stops laying out and painting the parts out of sight (the
/// frontend's `data-busy`); everything is drawn again when it calms down.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    streak: u8,
    busy: bool,
}

impl Load {
    /// Takes in a report's batch of `actions`; returns whether the page is now busy.
    pub fn report(&mut self, actions: usize) -> bool {
        if Self::is_large(actions) {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.streak = 0;
        }
        if self.streak >= BUSY_STREAK {
            self.busy = true;
        }
        self.busy
    }

    /// Whether a batch of `actions` is a large one (it keeps a busy page busy).
    pub fn is_large(actions: usize) -> bool {
        actions > BUSY_ACTIONS
    }

    /// The load is over: no large batch for [`CALM_AFTER`].
    pub fn calm(&mut self) {
        *self = Load::default();
    }

    pub fn is_busy(&self) -> bool {
        self.busy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cheap_report_keeps_the_shortest_period() {
        assert_eq!(report_period(Duration::ZERO, false), MIN_REPORT_PERIOD);
        assert_eq!(
            report_period(Duration::from_millis(16), false),
            MIN_REPORT_PERIOD
        );
    }

    #[test]
    fn a_costly_report_stretches_the_period_in_proportion() {
        assert_eq!(
            report_period(Duration::from_millis(25), false),
            Duration::from_millis(150)
        );
        assert_eq!(
            report_period(Duration::from_millis(60), false),
            Duration::from_millis(360)
        );
    }

    #[test]
    fn the_period_never_exceeds_the_longest() {
        assert_eq!(
            report_period(Duration::from_millis(67), false),
            MAX_REPORT_PERIOD
        );
        assert_eq!(report_period(Duration::MAX, false), MAX_REPORT_PERIOD);
    }

    #[test]
    fn a_busy_page_reports_at_the_longest_period_however_cheap_its_reports() {
        for cost in [Duration::ZERO, Duration::from_millis(20), Duration::MAX] {
            assert_eq!(report_period(cost, true), MAX_REPORT_PERIOD, "{cost:?}");
        }
    }

    #[test]
    fn busy_after_a_streak_of_large_batches_and_calm_only_when_told() {
        let mut load = Load::default();
        assert!(!load.report(200), "one burst is not a load");
        assert!(!load.report(200));
        assert!(load.report(200), "three large batches in a row are");
        assert!(load.report(5), "a pause in the load does not calm it");
        assert!(load.report(200));
        load.calm();
        assert!(!load.is_busy());
        assert!(!load.report(200), "and the streak starts again");
    }

    #[test]
    fn a_small_batch_breaks_the_streak() {
        let mut load = Load::default();
        load.report(100);
        load.report(100);
        load.report(30);
        assert!(!load.report(100), "the streak was broken");
        load.report(100);
        assert!(load.report(100));
        assert!(Load::is_large(41) && !Load::is_large(40));
    }
}
