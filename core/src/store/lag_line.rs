//! The read model's lag in words (the QueryService panel's lag line), durations written as the
//! page writes them everywhere ([`duration_text`]: `250 ms`, `12 s`, `2 min 26 s`).

use broker_bridge::session::duration_text;

use super::{stream_name, Lag, ReadModel};

/// How many held events [`held_line`] names; the rest are counted.
const HELD_NAMED: usize = 3;

/// The lag line of `model` (projected to [`ReadModel::position`]) behind a store whose head is
/// `head` ([`Lag::of`]): caught up, behind (late only), missing (events older than its position
/// never came), or ahead of the store (something other than OrderService published on its
/// topics); then, while it holds events that arrived before the version they follow, which
/// ([`held_line`]).
pub fn lag_line(lag: Lag, model: &ReadModel, head: u64) -> String {
    let line = store_lag_line(lag, model.position(), head);
    match held_line(model) {
        Some(held) => format!("{line} {held}"),
        None => line,
    }
}

/// The events `model` holds (each arrived before the version of its order it follows, and is
/// projected once that one arrives; source: the projection's rule in [`ReadModel::project`]),
/// the first three named with the version each waits for; `None` when it holds none.
///
/// ```
/// # use eda_core::store::{held_line, ReadModel};
/// assert_eq!(held_line(&ReadModel::new()), None);
/// ```
pub fn held_line(model: &ReadModel) -> Option<String> {
    let count = model.held();
    if count == 0 {
        return None;
    }
    let mut named: Vec<String> = model
        .held_events()
        .take(HELD_NAMED)
        .map(|(event, waits_for)| {
            format!(
                "{} (version {} of {}, position {}) waits for version {waits_for}",
                event.event.type_name(),
                event.version,
                stream_name(event.stream),
                event.position
            )
        })
        .collect();
    if count > HELD_NAMED {
        named.push(format!("and {} more", count - HELD_NAMED));
    }
    let (events, they) = if count == 1 {
        ("1 event".to_owned(), "it follows")
    } else {
        (format!("{count} events"), "they follow")
    };
    Some(format!(
        "Holding {events} that arrived before the version {they}: {}. Each is projected as soon \
         as the version it waits for arrives. If that never comes (published while QueryService \
         was not subscribed, or lost by a broker that restarted), Rebuild projects the order \
         from the event store.",
        named.join("; ")
    ))
}

/// The lag line's first sentence: the lag behind the store alone.
fn store_lag_line(lag: Lag, position: u64, head: u64) -> String {
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
    use crate::store::StoredEvent;

    /// A model projected to `position`, caught up with a store whose head is there.
    fn at(position: u64) -> ReadModel {
        let mut model = ReadModel::new();
        for p in 1..=position {
            let created = format!(
                r#"{{"position":{p},"stream":"00000000-0000-0000-0000-{p:012}","version":1,"type":"OrderCreated","schema":3,"recordedAt":"2026-12-02T09:20:00.000Z","data":{{"customerId":"C1","items":[],"totalAmount":1}}}}"#
            );
            model.project(&StoredEvent::decode(created.as_bytes()).unwrap());
        }
        model
    }

    fn lag(events_behind: u64, skipped: u64, ms_behind: u64) -> Lag {
        Lag {
            events_behind,
            ms_behind,
            skipped,
        }
    }

    #[test]
    fn a_long_lag_is_written_in_minutes_and_seconds_a_short_one_in_ms() {
        let long = store_lag_line(lag(4, 4, 146_367), 42, 46);
        assert!(
            long.starts_with("Missing 4 events (2 min 26 s) older than position 42, which"),
            "{long}"
        );
        let short = store_lag_line(lag(4, 4, 250), 42, 46);
        assert!(
            short.starts_with("Missing 4 events (250 ms) older"),
            "{short}"
        );
        assert_eq!(
            store_lag_line(lag(1, 0, 12_400), 42, 43),
            "Behind: 1 event (12 s) not projected yet; at position 42 of 43."
        );
    }

    #[test]
    fn caught_up_newer_events_and_a_model_ahead_of_the_store() {
        assert_eq!(
            store_lag_line(lag(0, 0, 0), 7, 7),
            "Caught up: projected to position 7 of 7."
        );
        assert!(store_lag_line(lag(5, 2, 30), 7, 10)
            .contains("(the store is at 10; 3 newer events not projected yet)"));
        assert!(store_lag_line(lag(0, 0, 0), 9, 7).starts_with("The read model holds events"));
    }

    const STREAM: &str = "55555555-5555-5555-5555-555555555555";

    fn hand_published(position: u64, version: u64, kind: &str, data: &str) -> StoredEvent {
        let json = format!(
            r#"{{"position":{position},"stream":"{STREAM}","version":{version},"type":"{kind}","schema":3,"recordedAt":"2026-12-02T09:20:01.000Z","data":{data}}}"#
        );
        StoredEvent::decode(json.as_bytes()).unwrap()
    }

    #[test]
    fn an_event_ahead_of_its_version_is_named_while_held_and_applied_when_the_gap_fills() {
        // The break-test: the store at position 4, then version 2 of a stream by hand, then
        // its version 1.
        let mut model = at(4);
        let cancelled = hand_published(6, 2, "OrderCancelled", r#"{"reason":"payment declined"}"#);
        model.project(&cancelled);
        assert_eq!(
            lag_line(Lag::default(), &model, 4),
            format!(
                "Caught up: projected to position 4 of 4. Holding 1 event that arrived before \
                 the version it follows: OrderCancelled (version 2 of order-{STREAM}, position \
                 6) waits for version 1. Each is projected as soon as the version it waits for \
                 arrives. If that never comes (published while QueryService was not subscribed, \
                 or lost by a broker that restarted), Rebuild projects the order from the event \
                 store."
            )
        );
        model.project(&hand_published(
            5,
            1,
            "OrderCreated",
            r#"{"customerId":"FAKE","items":[],"totalAmount":7}"#,
        ));
        assert_eq!(held_line(&model), None);
        let fake = model.by_customer("FAKE");
        assert_eq!(fake.len(), 1);
        assert_eq!(fake[0].status.name(), "Cancelled");
        assert_eq!(fake[0].version, 2);
        assert_eq!(model.totals().cancelled, 1);
        assert!(lag_line(Lag::default(), &model, 4).starts_with("The read model holds events"));
    }

    #[test]
    fn several_held_events_name_three_and_count_the_rest() {
        let mut model = at(0);
        for version in 2..=6 {
            model.project(&hand_published(
                version + 10,
                version,
                "OrderCompleted",
                "{}",
            ));
        }
        let line = held_line(&model).unwrap();
        assert!(
            line.starts_with(
                "Holding 5 events that arrived before the version they follow: OrderCompleted \
                 (version 2 of order-55555555"
            ),
            "{line}"
        );
        assert!(line.contains("waits for version 1; and 2 more."), "{line}");
    }
}
