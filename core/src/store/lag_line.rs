//! The read model's lag in words (the QueryService panel's lag line), durations written as the
//! page writes them everywhere ([`duration_text`]: `250 ms`, `12 s`, `2 min 26 s`).

use broker_bridge::session::duration_text;

use super::Lag;

/// The lag line of a read model projected to `position` of a store whose head is `head`:
/// caught up, behind (late only), missing (events older than `position` never came), or
/// ahead of the store (something other than OrderService published on its topics).
pub fn lag_line(lag: Lag, position: u64, head: u64) -> String {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let time = duration_text(lag.time_behind());
    if position > head {
        return format!(
            "The read model holds events the store does not (position {position}; the store is \
             at {head}): something other than OrderService published on eventstore/orders/…"
        );
    }
    if lag.events_behind == 0 {
        return format!("Caught up: projected to position {position} of {head}.");
    }
    if lag.skipped == 0 {
        return format!(
            "Behind: {} event{} ({time}) not projected yet; at position {position} of {head}.",
            lag.events_behind,
            plural(lag.events_behind)
        );
    }
    let newer = lag.events_behind - lag.skipped;
    let newer = if newer > 0 {
        format!("; {newer} newer event{} not projected yet", plural(newer))
    } else {
        String::new()
    };
    format!(
        "Missing {} event{} ({time}) older than position {position}, which it has projected \
         (the store is at {head}{newer}): QueryService has not received them, and will not if \
         it was not subscribed when they were published. Rebuild projects them from the event \
         store.",
        lag.skipped,
        plural(lag.skipped),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lag(events_behind: u64, skipped: u64, ms_behind: u64) -> Lag {
        Lag {
            events_behind,
            ms_behind,
            skipped,
        }
    }

    #[test]
    fn a_long_lag_is_written_in_minutes_and_seconds_a_short_one_in_ms() {
        let long = lag_line(lag(4, 4, 146_367), 42, 46);
        assert!(
            long.starts_with("Missing 4 events (2 min 26 s) older than position 42, which"),
            "{long}"
        );
        let short = lag_line(lag(4, 4, 250), 42, 46);
        assert!(
            short.starts_with("Missing 4 events (250 ms) older"),
            "{short}"
        );
        assert_eq!(
            lag_line(lag(1, 0, 12_400), 42, 43),
            "Behind: 1 event (12 s) not projected yet; at position 42 of 43."
        );
    }

    #[test]
    fn caught_up_newer_events_and_a_model_ahead_of_the_store() {
        assert_eq!(
            lag_line(lag(0, 0, 0), 7, 7),
            "Caught up: projected to position 7 of 7."
        );
        assert!(lag_line(lag(5, 2, 30), 7, 10)
            .contains("(the store is at 10; 3 newer events not projected yet)"));
        assert!(lag_line(lag(0, 0, 0), 9, 7).starts_with("The read model holds events"));
    }
}
