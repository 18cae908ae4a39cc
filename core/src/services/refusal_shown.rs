//! How long the page keeps a gate's refusal sentence (a *Retry*, a poison message or a
//! *Deliver again* held back, [`super::retry_gate`]) once the gate has opened: the sentence is
//! out of date then, but it goes no sooner than [`READABLE_FOR`] after it was shown, or it would
//! flash and vanish (during a reconnection the gate can open within 100 ms of the click, and the
//! click seemed to do nothing). The learner's next click replaces it at once.
//!
//! The driver stamps the refusal with the time it was shown, asks [`fate`] whenever the gate may
//! have changed, and for [`Fate::GoesAt`] arms one timer and asks again when it fires; no clock
//! is read here.
//!
//! ```
//! use std::time::Duration;
//! use eda_core::services::refusal_shown::{fate, Fate, READABLE_FOR};
//!
//! let shown = Duration::from_secs(10);
//! // The gate opened 100 ms after the click: the sentence stays until it has been readable.
//! assert_eq!(fate(shown, true, shown + Duration::from_millis(100)), Fate::GoesAt(shown + READABLE_FOR));
//! assert_eq!(fate(shown, true, shown + READABLE_FOR), Fate::GoesNow);
//! // Still refused: it stays, whatever the time.
//! assert_eq!(fate(shown, false, shown + READABLE_FOR * 10), Fate::Stays);
//! ```

use std::time::Duration;

/// The least time a refusal sentence stays on the page once shown, unless the learner clicks
/// again: 4 s, about twice what a reader needs for its 20 to 40 words' first half (the cause)
/// at the 200 to 250 words a minute of on-screen reading, and short enough not to stay over a
/// gate that has long opened.
pub const READABLE_FOR: Duration = Duration::from_secs(4);

/// What becomes of a refusal sentence shown at `shown_at`, asked at `now` (both on the same
/// clock, e.g. the packets' clock), when the gate's answer is now `passes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Still true (the gate still refuses): it stays.
    Stays,
    /// Out of date and readable long enough: it goes now.
    GoesNow,
    /// Out of date, but shown less than [`READABLE_FOR`] ago: ask again at this time.
    GoesAt(Duration),
}

/// The [`Fate`] of a refusal shown at `shown_at`, at `now`, when the gate now `passes`.
pub fn fate(shown_at: Duration, passes: bool, now: Duration) -> Fate {
    if !passes {
        return Fate::Stays;
    }
    let readable_until = shown_at.saturating_add(READABLE_FOR);
    if now >= readable_until {
        Fate::GoesNow
    } else {
        Fate::GoesAt(readable_until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOWN: Duration = Duration::from_secs(30);

    #[test]
    fn a_gate_that_opens_at_once_keeps_the_sentence_readable_for_the_whole_figure() {
        for after in [0, 1, 100, 3_999] {
            let now = SHOWN + Duration::from_millis(after);
            assert_eq!(
                fate(SHOWN, true, now),
                Fate::GoesAt(SHOWN + READABLE_FOR),
                "{after} ms"
            );
        }
    }

    #[test]
    fn a_gate_that_opens_later_takes_the_sentence_away_at_once() {
        assert_eq!(fate(SHOWN, true, SHOWN + READABLE_FOR), Fate::GoesNow);
        assert_eq!(
            fate(SHOWN, true, SHOWN + Duration::from_secs(60)),
            Fate::GoesNow
        );
    }

    #[test]
    fn a_refusal_still_true_stays() {
        assert_eq!(fate(SHOWN, false, SHOWN), Fate::Stays);
        assert_eq!(fate(SHOWN, false, SHOWN + READABLE_FOR), Fate::Stays);
    }

    #[test]
    fn a_clock_at_its_end_does_not_overflow() {
        assert_eq!(fate(Duration::MAX, true, Duration::MAX), Fate::GoesNow);
    }
}
