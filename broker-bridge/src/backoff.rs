//! Reconnect delays: exponential, capped, with jitter so that several clients that lost the
//! same broker do not all knock at the same instant. The randomness is an input.

use std::time::Duration;

/// At most this fraction of a delay is taken off at random.
const JITTER_FRACTION: f64 = 0.2;

/// The delays between reconnect attempts: `base`, doubled after each failed attempt up to
/// `max`, each shortened at random by up to a fifth.
///
/// ```
/// use std::time::Duration;
/// use broker_bridge::backoff::Backoff;
///
/// let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
/// assert_eq!(backoff.next_delay(0.0), Duration::from_millis(500));
/// assert_eq!(backoff.next_delay(0.0), Duration::from_secs(1));
/// assert_eq!(backoff.next_delay(0.5), Duration::from_millis(1800)); // 2 s less 10 %
/// backoff.reset(); // a connection proved healthy: the next loss starts again at `base`
/// assert_eq!(backoff.attempt(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Delays that start at `base` and never exceed `max` (before jitter).
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            attempt: 0,
        }
    }

    /// How many delays have been handed out since the last success.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt, and one more attempt counted. `jitter` is a random
    /// number in `[0, 1)` (clamped to `[0, 1]`): 0 gives the nominal delay, values towards 1
    /// take up to a fifth off it.
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let nominal = self
            .base
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        nominal.mul_f64(1.0 - JITTER_FRACTION * jitter.clamp(0.0, 1.0))
    }

    /// Starts again from `base`: call it once a connection proves healthy (the session does,
    /// see `session/health.rs`), not merely when the broker accepts it.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Counts at least `attempts` delays handed out, so the next one is at least
    /// `base × 2^attempts` (up to the maximum): for a fault that repeats across connections
    /// that each looked healthy.
    pub fn at_least(&mut self, attempts: u32) {
        self.attempt = self.attempt.max(attempts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_reset() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
        let delays: Vec<_> = (0..7).map(|_| b.next_delay(0.0).as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(500));
    }

    #[test]
    fn jitter_shortens_by_at_most_a_fifth_and_delays_still_grow() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
        assert_eq!(b.next_delay(0.999_999).as_millis(), 400);
        let worst_second = b.next_delay(0.999_999);
        assert!(worst_second > Duration::from_millis(500));
    }

    #[test]
    fn many_attempts_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        for _ in 0..100 {
            assert!(b.next_delay(0.5) <= Duration::from_secs(30));
        }
    }
}
