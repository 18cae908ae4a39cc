//! The read model's lag in words (the QueryService panel's lag line), durations written as the
//! page writes them everywhere ([`duration_text`]: `250 ms`, `12 s`, `2 min 26 s`).

use broker_bridge::session::duration_text;

use super::{stream_name, EventStore, Lag, ReadModel};
use crate::domain::Timestamp;

/// How many held events [`held_line`] names; the rest are counted.
const HELD_NAMED: usize = 3;

/// The lag line of `model` (projected to [`ReadModel::position`]) behind a store whose head is
/// `head` ([`Lag::of`]): caught up, behind (late only), or missing (events older than its
/// position never came), after, when it is ahead of the store (something other than this
/// page's OrderService published on its topics), a sentence saying so, its position in the
/// store then being [`ReadModel::position_in`]; then, while it holds events that arrived
/// before the version they follow, which ([`held_line`]).
///
/// `delayed`: the positions QueryService received and holds for its projection delay
/// ([`crate::trace::Trace::projecting`]); those older than its position waited out a longer
/// delay than the events after them (the delay was lowered), and come by themselves.
///
/// `died_older`: how many of the events older than its position it received and held for its
/// projection delay when it crashed ([`died_in_crash_older`]): they are not "not received"
/// either, and [`lost_in_crash`]'s sentence, after, says what became of them (41-AJ F5).
pub fn lag_line(
    lag: Lag,
    model: &ReadModel,
    store: &EventStore,
    delayed: &std::collections::BTreeSet<u64>,
    died_older: u64,
) -> String {
    // Held events older than the position arrived: of the skipped, they are not "not received"
    // (a newcomer's break-test: "Missing 5 events … QueryService has not received them" beside
    // "Holding 4 events that arrived"). Nor are those in the projection delay (41-AH F4).
    // Ahead of the store (a forged event): its own events are judged from the newest of them
    // applied, after a sentence on the forged one (43-AN F1).
    let head = store.head();
    let position = model.position_in(store);
    let strangers = model.strangers_in(store);
    let held_older = model
        .held_events()
        .filter(|(event, _)| event.position < position)
        .count() as u64;
    let delayed_older = delayed
        .range(..position)
        .filter(|at| !model.has_applied(**at) || strangers.binary_search(at).is_ok())
        .count() as u64;
    // The store's events at a stranger's position, arrived (not in the delay): refused.
    let taken_older = strangers
        .iter()
        .filter(|at| **at < position && !delayed.contains(at))
        .count() as u64;
    let line = store_lag_line(
        lag,
        position,
        head,
        (held_older, delayed_older, died_older, taken_older),
    );
    // Those after the position refused too: not "not projected yet", as none will come.
    let taken_newer = strangers
        .iter()
        .filter(|at| **at > position && !delayed.contains(at))
        .count() as u64;
    let line = if taken_newer > 0 {
        format!(
            "{} Of the events after position {position}, {}.",
            line.replacen(" not projected yet", " not projected", 1),
            refused_at_taken(taken_newer)
        )
    } else {
        line
    };
    let past: Vec<u64> = model.applied_past(head).collect();
    let taken = match strangers.as_slice() {
        [] => None,
        [one] => Some(format!(
            "position {one}, where the store holds another event"
        )),
        many => Some(format!(
            "positions {}, where the store holds other events",
            named_positions(many)
        )),
    };
    let line =
        match (past.as_slice(), taken) {
            ([], None) => line,
            // The sentence of 43-AN F1, as it was for one; several named (44-AS F4: only the
            // highest was).
            (past, None) => {
                format!(
            "The read model holds events the store does not ({} {}; the store is at {head}): \
             something other than this page's OrderService published on eventstore/orders/… \
             (another page on the same topics, or a client by hand). Of the store's own \
             events: {line}",
            if past.len() == 1 { "position" } else { "positions" },
            named_positions(past)
        )
            }
            (past, Some(taken)) => {
                let past = match past {
                    [] => None,
                    [one] => Some(format!("position {one} past the store's end, {head}")),
                    many => Some(format!(
                        "positions {} past the store's end, {head}",
                        named_positions(many)
                    )),
                };
                format!(
                "The read model holds events the store does not ({}): something other than this \
                 page's OrderService published on eventstore/orders/… (another page on the same \
                 topics, or a client by hand). Of the store's own events: {line}",
                past.into_iter()
                    .chain([taken])
                    .collect::<Vec<_>>()
                    .join("; ")
            )
            }
        };
    match held_line(model, store, &strangers) {
        Some(held) => format!("{line} {held}"),
        None => line,
    }
}

/// The Read model panel's lag line in its parts ([`lag_text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LagText {
    /// [`lag_line`], as [`lost_in_crash`]'s sentence follows it when there is one
    /// ([`lag_beside_lost`]).
    pub line: String,
    /// [`lost_in_crash`]'s sentence, without the Rebuild advice `line` gave already
    /// ([`lost_after_lag`]).
    pub lost: Option<String>,
    /// [`NotProjected::line`].
    pub not_projected: Option<String>,
}

/// The whole lag line for the Read model panel: [`lag_line`] (its `died_older` from
/// [`died_in_crash_older`]), then, after QueryService's last `crash` (`None`: none, or a
/// recording), [`lost_in_crash`], then what it did not project; the store's topics named as
/// they go on the wire under `namespace` (43-AO F7: `class-r/eventstore/orders/…`).
pub fn lag_text(
    lag: Lag,
    model: &ReadModel,
    store: &EventStore,
    delayed: &std::collections::BTreeSet<u64>,
    crash: Option<QueryCrash>,
    not_projected: &super::NotProjected,
    namespace: &crate::domain::namespace::Namespace,
) -> LagText {
    const TOPICS: &str = "eventstore/orders/…";
    let wire = namespace.wire(TOPICS);
    let namespaced = |text: String| text.replace(TOPICS, &wire);
    let died = crash.map_or(0, |crash| died_in_crash_older(model, store, crash));
    let line = namespaced(lag_line(lag, model, store, delayed, died));
    let lost = crash.and_then(|crash| lost_in_crash(model, store, crash));
    let line = if lost.is_some() {
        lag_beside_lost(&line)
    } else {
        line
    };
    LagText {
        lost: lost.map(|lost| lost_after_lag(&line, &lost)),
        line,
        not_projected: not_projected.line().map(namespaced),
    }
}

/// The events `model` holds (each arrived before the version of its order it follows, and is
/// projected once that one arrives; source: the projection's rule in [`ReadModel::project`]),
/// the first three named with the version each waits for; `None` when it holds none. A
/// version waited for that `store` holds at one of the `strangers` positions (where the read
/// model projected another event: [`ReadModel::strangers_in`]) came and was refused, and will
/// not come again: said so, with Rebuild as the way out (45-AU F2: the line promised it would
/// be projected "as soon as it arrives" beside the refusal of that very version).
///
/// ```
/// # use eda_core::store::{held_line, EventStore, ReadModel};
/// assert_eq!(held_line(&ReadModel::new(), &EventStore::new(), &[]), None);
/// ```
pub fn held_line(model: &ReadModel, store: &EventStore, strangers: &[u64]) -> Option<String> {
    let count = model.held();
    if count == 0 {
        return None;
    }
    // The position of the store's own event that `stream`'s version `version` is, when the read
    // model took that position with another event: refused there.
    let refused_at = |stream, version: u64| {
        let position = store
            .stream(stream)
            .nth(usize::try_from(version).ok()?.checked_sub(1)?)?
            .position;
        strangers
            .binary_search(&position)
            .is_ok()
            .then_some(position)
    };
    // Counted over every held event, not only those named (45-AW F4: with four held, all
    // refused, the line ended "as soon as the version it waits for arrives").
    let blocked = model
        .held_events()
        .filter(|(event, waits_for)| refused_at(event.stream, *waits_for).is_some())
        .count();
    let mut named: Vec<String> = model
        .held_events()
        .take(HELD_NAMED)
        .map(|(event, waits_for)| {
            let waits = format!(
                "{} (version {} of {}, position {}) waits for version {waits_for}",
                event.event.type_name(),
                event.version,
                stream_name(event.stream),
                event.position
            );
            match refused_at(event.stream, waits_for) {
                Some(position) => {
                    format!(
                        "{waits}, which came and was refused: this page's store holds it at \
                         position {position}, where the read model projected another event, \
                         so it will not come again"
                    )
                }
                None => waits,
            }
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
    let after = if blocked == count {
        "Rebuild projects the order from the event store."
    } else {
        "Each is projected as soon as the version it waits for arrives. If that never comes \
         (published while QueryService was not subscribed, lost by a broker that restarted, or \
         dropped by the broker, e.g. over its message size limit: the broker's log says so), Rebuild \
         projects the order from the event store."
    };
    Some(format!(
        "Holding {events} that arrived before the version {they}: {}. {after}",
        named.join("; ")
    ))
}

/// The lag line's first sentence: the lag behind the store alone; of the skipped events,
/// `held_older` arrived and are held ([`held_line`] names them), `delayed_older` arrived and
/// wait out the projection delay they came with, `died_older` arrived and died in a crash
/// (the crash's sentence after says so), `taken_older` arrived at a position where the read
/// model applied another event and were refused, and the rest never came.
fn store_lag_line(
    lag: Lag,
    position: u64,
    head: u64,
    (held_older, delayed_older, died_older, taken_older): (u64, u64, u64, u64),
) -> String {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let time = duration_text(lag.time_behind());
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
    let held = held_older.min(lag.skipped);
    let delayed = delayed_older.min(lag.skipped - held);
    let taken = taken_older.min(lag.skipped - held - delayed);
    let missing = lag.skipped - held - delayed - taken;
    // Refused at a position another event took (43-AP F2): arrived, so not "not received".
    // Waiting out a longer delay than the events after them: arrived, and on their way.
    let waiting = |who: &str, n: u64| {
        let one = n == 1;
        format!(
            "{who} wait{} out the projection delay {} arrived with, longer than that of the \
             events after {}, and {} by {}",
            if one { "s" } else { "" },
            if one { "it" } else { "they" },
            if one { "it" } else { "them" },
            if one { "comes" } else { "come" },
            if one { "itself" } else { "themselves" },
        )
    };
    if missing == 0 {
        let they = |n: u64| if n == 1 { "it" } else { "they" };
        let why = match (held, delayed) {
            (0, 0) => String::new(),
            (_, 0) if taken == 0 => "they arrived before the version they follow".to_owned(),
            (h, 0) => format!(
                "{h} arrived before the version {} follow{}",
                they(h),
                if h == 1 { "s" } else { "" },
            ),
            (0, n) => waiting(they(n), n),
            (h, n) => format!(
                "{h} arrived before the version {} follow{}, and {}",
                they(h),
                if h == 1 { "s" } else { "" },
                waiting(&n.to_string(), n)
            ),
        };
        let why = match (why.is_empty(), taken) {
            (_, 0) => why,
            (true, t) => refused_at_taken(t),
            (false, t) => format!("{why}, and {}", refused_at_taken(t)),
        };
        return format!(
            "Not projected: {} event{} ({time}) older than position {position}, which it has \
             projected (the store is at {head}{newer}); {why}.",
            lag.skipped,
            plural(lag.skipped),
        );
    }
    let mut held = if held > 0 {
        format!(
            " {held} other{} older than position {position} arrived before the version {} \
             follow.",
            plural(held),
            if held == 1 { "it" } else { "they" }
        )
    } else {
        String::new()
    };
    if delayed > 0 {
        held.push_str(&format!(
            " Of the others older than position {position}, {}.",
            waiting(&delayed.to_string(), delayed)
        ));
    }
    if taken > 0 {
        held.push_str(&format!(
            " Of the others older than position {position}, {}.",
            refused_at_taken(taken)
        ));
    }
    // Died in QueryService's hands: received, so not "not received"; the crash's sentence
    // after the line says what became of them.
    let died = died_older.min(missing);
    let unheard = missing - died;
    let why = match (unheard, died) {
        (_, 0) => format!(
            ": QueryService has not received {}, and will not if it was not subscribed when {} \
             published. Rebuild projects {} from the event store.",
            if missing == 1 { "it" } else { "them" },
            if missing == 1 { "it was" } else { "they were" },
            if missing == 1 { "it" } else { "them" },
        ),
        (0, _) => ".".to_owned(),
        (n, _) => format!(
            ": QueryService has not received {n} of them, and will not if it was not \
             subscribed when {} published. Rebuild projects them from the event store.",
            if n == 1 { "that one was" } else { "those were" },
        ),
    };
    format!(
        "Missing {missing} event{} ({time}) older than position {position}, which it has \
         projected (the store is at {head}{newer}){why}{held}",
        plural(missing),
    )
}

/// `positions` as the lag line names them: the first [`HELD_NAMED`], then how many more
/// (`1000, 2000, 2001 and 2 more`).
fn named_positions(positions: &[u64]) -> String {
    let named: Vec<String> = positions
        .iter()
        .take(HELD_NAMED)
        .map(u64::to_string)
        .collect();
    match positions.len().saturating_sub(HELD_NAMED) {
        0 => named.join(", "),
        more => format!("{} and {more} more", named.join(", ")),
    }
}

/// `n` of the store's events that arrived at a position where the read model had applied
/// another event (43-AP F2): `1 arrived at a position where the read model applied another
/// event, and was refused (no store holds two events at one position): Rebuild projects it from
/// the event store`.
fn refused_at_taken(n: u64) -> String {
    let one = n == 1;
    format!(
        "{n} arrived at {} where the read model applied another event, and {} refused (no store \
         holds two events at one position): Rebuild projects {} from the event store",
        if one { "a position" } else { "positions" },
        if one { "was" } else { "were" },
        if one { "it" } else { "them" },
    )
}

/// QueryService's last crash as the lag line needs it, on the page's clock (the events'
/// `recordedAt`): when it crashed and restarted, and what its crash line counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryCrash {
    pub crashed: Timestamp,
    /// `None` while it is down.
    pub restarted: Option<Timestamp>,
    /// Messages published for it while it was down and never received (its crash line's
    /// "lost", once settled; 0 before, or with a session that kept them).
    pub lost: usize,
    /// The store's events it held for its projection delay when it crashed (its crash line's
    /// work lost): acknowledged on arrival, so never sent again.
    pub held: usize,
}

/// The store's events after `model`'s checkpoint it has not applied: (position, recorded at
/// in Unix milliseconds).
fn not_applied<'a>(
    model: &'a ReadModel,
    store: &'a EventStore,
) -> impl Iterator<Item = (u64, i64)> + 'a {
    store
        .read_all(model.checkpoint() + 1, None)
        .iter()
        .filter(|e| !model.has_applied(e.position))
        .chain(
            model
                .strangers_in(store)
                .into_iter()
                .filter_map(|p| store.at(p)),
        )
        .map(|e| (e.position, e.recorded_at.unix_millis()))
}

/// Of the events older than `model`'s position that it has not applied, how many QueryService
/// held for its projection delay when it crashed ([`QueryCrash::held`], recorded before the
/// crash): received, and died with it ([`lag_line`]'s `died_older`).
pub fn died_in_crash_older(model: &ReadModel, store: &EventStore, crash: QueryCrash) -> u64 {
    if crash.held == 0 {
        return 0;
    }
    let (position, crashed) = (model.position_in(store), crash.crashed.unix_millis());
    let older = not_applied(model, store)
        .filter(|(at_position, at)| *at_position < position && *at < crashed)
        .count();
    older.min(crash.held) as u64
}

/// [`lost_in_crash`]'s sentence as it follows the lag line `lag`: without its closing "Rebuild
/// projects them from the event store." when `lag` has said Rebuild projects them already (a
/// newcomer's break-test, 40-AD F9, read it twice in one line).
pub fn lost_after_lag(lag: &str, lost: &str) -> String {
    const CLOSING: &str = " Rebuild projects them from the event store.";
    match lost.strip_suffix(CLOSING) {
        Some(shorter) if lag.contains("Rebuild projects") => shorter.to_owned(),
        _ => lost.to_owned(),
    }
}

/// The lag line `lag` as [`lost_in_crash`]'s sentence follows it: "Behind: 4 events (2187 ms)
/// not projected;", not "not projected yet;" beside "they will not come" (43-AO F5 read the two
/// as opposite statements of the same events). Any other line is as it was.
///
/// ```
/// # use eda_core::store::lag_beside_lost;
/// assert_eq!(
///     lag_beside_lost("Behind: 4 events (2187 ms) not projected yet; at position 125 of 129."),
///     "Behind: 4 events (2187 ms) not projected; at position 125 of 129."
/// );
/// ```
pub fn lag_beside_lost(lag: &str) -> String {
    lag.replacen(" not projected yet;", " not projected;", 1)
}

/// What the lag line adds after a crash of QueryService that cost events (its last crash,
/// [`QueryCrash`]): how many of the events `model` has not applied it held for its projection
/// delay when it crashed (recorded before the crash; at most [`QueryCrash::held`]), and how
/// many were recorded in the store while it was down and lost with a session that kept
/// nothing: neither kind will come, and *Rebuild* projects them. `None` when none of the events
/// behind are of either kind.
///
/// Newcomers' break-tests: after a crash with clean sessions the lag line said "Behind: 4
/// events … not projected yet" beside a crash line saying the 4 were lost; it said the same of
/// events that died in the projection delay, and nothing once a newer event made the lost ones
/// "missing" (33-H F2).
pub fn lost_in_crash(model: &ReadModel, store: &EventStore, crash: QueryCrash) -> Option<String> {
    let ms = Timestamp::unix_millis;
    let behind: Vec<i64> = not_applied(model, store).map(|(_, at)| at).collect();
    let held = if crash.held == 0 {
        0
    } else {
        let before = behind.iter().filter(|at| **at < ms(crash.crashed)).count();
        before.min(crash.held)
    };
    let down = match crash.restarted {
        Some(restarted) if crash.lost > 0 => behind
            .iter()
            .filter(|at| (ms(crash.crashed)..=ms(restarted)).contains(*at))
            .count(),
        _ => 0,
    };
    if held + down == 0 {
        return None;
    }
    let were = |n: usize| if n == 1 { "was" } else { "were" };
    let held_text = (held > 0).then(|| {
        format!(
            "{held} {} held for its projection delay when QueryService crashed, and died with it \
             (acknowledged when {} arrived, so the broker does not send {} again)",
            were(held),
            if held == 1 { "it" } else { "they" },
            if held == 1 { "it" } else { "them" },
        )
    });
    let down_text = (down > 0).then(|| {
        format!(
            "{down} {} appended while QueryService was down, and its crash lost what was \
             published for it meanwhile ({}, its crash line says)",
            were(down),
            crash.lost
        )
    });
    let said = [held_text, down_text]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
    let all = held + down;
    let (they, them) = if all == 1 {
        ("it", "it")
    } else {
        ("they", "them")
    };
    Some(format!(
        "Of the events not projected, {said}: {they} will not come. Rebuild projects {them} from \
         the event store."
    ))
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

    /// The store [`at`] is caught up with: `head` events, each [`created_alone`].
    fn store_of(head: u64) -> EventStore {
        EventStore::load((1..=head).map(created_alone).collect()).unwrap()
    }

    /// One OrderCreated at `position`, of its own stream, recorded at 09:20:00 on 2026-12-02.
    fn created_alone(position: u64) -> StoredEvent {
        let created = format!(
            r#"{{"position":{position},"stream":"00000000-0000-0000-0000-{position:012}","version":1,"type":"OrderCreated","schema":3,"recordedAt":"2026-12-02T09:20:00.000Z","data":{{"customerId":"C1","items":[],"totalAmount":1}}}}"#
        );
        StoredEvent::decode(created.as_bytes()).unwrap()
    }

    // 43-AN F1: one event forged at position 999999, then an order's 4 events waiting out the
    // projection delay: the line said only that the read model was ahead of the store, and the
    // 4 counted as skipped.
    #[test]
    fn a_forged_event_past_the_store_does_not_hide_the_store_s_own_lag() {
        let store = EventStore::load((1..=8).map(created_alone).collect()).unwrap();
        let mut model = at(4);
        model.project(&created_alone(999_999));
        assert_eq!((model.position(), model.position_in(&store)), (999_999, 4));
        let now = Timestamp::from_unix_millis(created_alone(1).recorded_at.unix_millis() + 1_623)
            .unwrap();
        let lag = Lag::of(&model, &store, now);
        assert_eq!((lag.events_behind, lag.skipped), (4, 0));
        let line = lag_line(lag, &model, &store, &std::collections::BTreeSet::new(), 0);
        assert_eq!(
            line,
            "The read model holds events the store does not (position 999999; the store is at \
             8): something other than this page's OrderService published on eventstore/orders/… \
             (another page on the same topics, or a client by hand). Of the store's own events: \
             Behind: 4 events (1623 ms) not projected yet; at position 4 of 8."
        );
        // Caught up with the store's own: said so after.
        let caught_up = Lag::of(&at(8), &store, now);
        let mut ahead = at(8);
        ahead.project(&created_alone(999_999));
        assert!(lag_line(caught_up, &ahead, &store, &Default::default(), 0)
            .ends_with("Of the store's own events: Caught up: projected to position 8 of 8."));
        // Several past the store's end: the first three named, the rest counted (44-AS F4: only
        // the highest was named).
        for p in [1000, 2000, 2001, 3007] {
            ahead.project(&created_alone(p));
        }
        assert!(
            lag_line(caught_up, &ahead, &store, &Default::default(), 0).starts_with(
                "The read model holds events the store does not (positions 1000, 2000, 2001 and 2 \
             more; the store is at 8)"
            )
        );
    }

    // 43-AP F2: one event forged at the position the store reached next (5), one far past it,
    // then two orders' 8 events in the projection delay: the line said "Behind: 7 events …; at
    // position 5 of 12", the forged event counted as the store's own.
    #[test]
    fn an_event_forged_at_the_store_s_next_position_is_not_counted_as_the_store_s() {
        let store = store_of(12);
        let mut model = at(4);
        let forged = hand_published(
            5,
            1,
            "OrderCreated",
            r#"{"customerId":"FAKE","items":[],"totalAmount":7}"#,
        );
        model.project(&forged);
        model.project(&created_alone(999_999));
        assert_eq!(model.position_in(&store), 4);
        assert_eq!(model.strangers_in(&store), [5]);
        let now = Timestamp::from_unix_millis(created_alone(1).recorded_at.unix_millis() + 2_424)
            .unwrap();
        let lag = Lag::of(&model, &store, now);
        assert_eq!((lag.events_behind, lag.skipped), (8, 0));
        let delayed: std::collections::BTreeSet<u64> = (5..=12).collect();
        assert_eq!(
            lag_line(lag, &model, &store, &delayed, 0),
            "The read model holds events the store does not (position 999999 past the store's \
             end, 12; position 5, where the store holds another event): something other than \
             this page's OrderService published on eventstore/orders/… (another page on the same \
             topics, or a client by hand). Of the store's own events: Behind: 8 events (2424 ms) \
             not projected yet; at position 4 of 12."
        );
        // The delay over: the store's own event at 5 is refused (its position is taken), the
        // others projected. Arrived and refused, not "not received".
        for p in 5..=12 {
            model.project(&created_alone(p));
        }
        let lag = Lag::of(&model, &store, now);
        assert_eq!((lag.events_behind, lag.skipped), (1, 1));
        let line = lag_line(lag, &model, &store, &Default::default(), 0);
        assert!(
            line.ends_with(
                "Of the store's own events: Not projected: 1 event (2424 ms) older than position \
                 12, which it has projected (the store is at 12); 1 arrived at a position where \
                 the read model applied another event, and was refused (no store holds two \
                 events at one position): Rebuild projects it from the event store."
            ),
            "{line}"
        );
        // The store's own at 5 refused, the next not arrived yet: both behind, and the refused
        // one is not "not projected yet".
        let mut first = at(4);
        first.project(&forged);
        first.project(&created_alone(5));
        let six = store_of(6);
        let line = lag_line(
            Lag::of(&first, &six, now),
            &first,
            &six,
            &Default::default(),
            0,
        );
        assert!(
            line.ends_with(
                "Of the store's own events: Behind: 2 events (2424 ms) not projected; at \
                 position 4 of 6. Of the events after position 4, 1 arrived at a position where \
                 the read model applied another event, and was refused (no store holds two \
                 events at one position): Rebuild projects it from the event store."
            ),
            "{line}"
        );
        // Only the one at 5: said all the same, though the model is not past the store's end.
        let mut near = at(4);
        near.project(&forged);
        assert!(
            lag_line(Lag::of(&near, &store, now), &near, &store, &delayed, 0).starts_with(
                "The read model holds events the store does not (position 5, where the store \
                 holds another event)"
            )
        );
    }

    // 43-AO F7, now in one place: under ?ns= the line and the not-projected line name the
    // store's topics as they go on the wire.
    #[test]
    fn the_whole_lag_text_names_the_store_s_topics_under_the_namespace() {
        let store = store_of(4);
        let mut model = at(4);
        model.project(&created_alone(999_999));
        let now = Timestamp::from_unix_millis(created_alone(1).recorded_at.unix_millis()).unwrap();
        let namespace = crate::domain::namespace::Namespace::parse("class-r").unwrap();
        let mut ignored = super::super::NotProjected::default();
        let late = hand_published(9_999, 5, "OrderCancelled", r#"{"reason":"by hand"}"#);
        ignored.refused(&late, "OrderCancelled refused: by hand", false);
        let text = lag_text(
            Lag::of(&model, &store, now),
            &model,
            &store,
            &Default::default(),
            None,
            &ignored,
            &namespace,
        );
        assert!(
            text.line.contains(" on class-r/eventstore/orders/… "),
            "{}",
            text.line
        );
        assert!(
            !text.line.contains(" on eventstore/orders/"),
            "{}",
            text.line
        );
        let not_projected = text.not_projected.unwrap();
        assert!(
            not_projected.contains("class-r/eventstore/orders/…"),
            "{not_projected}"
        );
        assert_eq!(text.lost, None);
    }

    // A newcomer's break-test: "Missing 5 events … QueryService has not received them" counted
    // 4 held events, which the next sentence said had arrived.
    #[test]
    fn held_events_older_than_the_position_are_not_called_missing() {
        let line = store_lag_line(lag(5, 5, 6_829), 14, 14, (4, 0, 0, 0));
        assert!(
            line.starts_with("Missing 1 event (6829 ms) older than position 14, which it has projected (the store is at 14): QueryService has not received it, and will not if it was not subscribed when it was published."),
            "{line}"
        );
        assert!(
            line.ends_with(
                " 4 others older than position 14 arrived before the version they follow."
            ),
            "{line}"
        );
        let all_held = store_lag_line(lag(2, 2, 100), 14, 14, (2, 0, 0, 0));
        assert!(
            all_held.starts_with("Not projected: 2 events"),
            "{all_held}"
        );
        assert!(!all_held.contains("not received"), "{all_held}");
    }

    // 41-AH F4: the delay lowered from 20 s to 0, a second order projected at once: the first
    // order's 4 events, still in their 20 s delay, were called missing ("will not come").
    #[test]
    fn events_waiting_out_a_longer_delay_are_not_called_missing() {
        let all = store_lag_line(lag(4, 4, 3_942), 31, 31, (0, 4, 0, 0));
        assert_eq!(
            all,
            "Not projected: 4 events (3942 ms) older than position 31, which it has projected \
             (the store is at 31); they wait out the projection delay they arrived with, longer \
             than that of the events after them, and come by themselves."
        );
        let one = store_lag_line(lag(1, 1, 10), 31, 31, (0, 1, 0, 0));
        assert!(
            one.ends_with("; it waits out the projection delay it arrived with, longer than that of the events after it, and comes by itself."),
            "{one}"
        );
        let both = store_lag_line(lag(3, 3, 10), 31, 31, (1, 2, 0, 0));
        assert!(
            both.ends_with("; 1 arrived before the version it follows, and 2 wait out the projection delay they arrived with, longer than that of the events after them, and come by themselves."),
            "{both}"
        );
        // One really missing beside them: said missing alone, the others said waiting.
        let mixed = store_lag_line(lag(5, 5, 10), 31, 31, (0, 4, 0, 0));
        assert!(mixed.starts_with("Missing 1 event (10 ms)"), "{mixed}");
        assert!(
            mixed.ends_with(" Of the others older than position 31, 4 wait out the projection delay they arrived with, longer than that of the events after them, and come by themselves."),
            "{mixed}"
        );
    }

    #[test]
    fn a_long_lag_is_written_in_minutes_and_seconds_a_short_one_in_ms() {
        let long = store_lag_line(lag(4, 4, 146_367), 42, 46, (0, 0, 0, 0));
        assert!(
            long.starts_with("Missing 4 events (2 min 26 s) older than position 42, which"),
            "{long}"
        );
        let short = store_lag_line(lag(4, 4, 250), 42, 46, (0, 0, 0, 0));
        assert!(
            short.starts_with("Missing 4 events (250 ms) older"),
            "{short}"
        );
        assert_eq!(
            store_lag_line(lag(1, 0, 12_400), 42, 43, (0, 0, 0, 0)),
            "Behind: 1 event (12 s) not projected yet; at position 42 of 43."
        );
    }

    /// The store's event at `position` (an order created), recorded at second `second` of
    /// 09:20.
    fn created_at(position: u64, second: u32) -> StoredEvent {
        let json = format!(
            r#"{{"position":{position},"stream":"00000000-0000-0000-0000-{position:012}","version":1,"type":"OrderCreated","schema":3,"recordedAt":"2026-12-02T09:20:{second:02}.000Z","data":{{"customerId":"C1","items":[],"totalAmount":1}}}}"#
        );
        StoredEvent::decode(json.as_bytes()).unwrap()
    }

    #[test]
    fn the_rebuild_sentence_is_said_once_in_a_lag_line() {
        let lost = "Of the events not projected, 4 were appended while QueryService was down: \
                    they will not come. Rebuild projects them from the event store.";
        let missing = store_lag_line(lag(4, 4, 6_393), 12, 12, (0, 0, 0, 0));
        assert!(missing.contains("Rebuild projects"), "{missing}");
        assert_eq!(
            lost_after_lag(&missing, lost),
            "Of the events not projected, 4 were appended while QueryService was down: they \
             will not come."
        );
        let behind = store_lag_line(lag(1, 0, 12_400), 42, 43, (0, 0, 0, 0));
        assert_eq!(lost_after_lag(&behind, lost), lost);
    }

    #[test]
    fn events_appended_while_query_service_was_down_and_lost_are_said_not_to_come() {
        let seconds = [0, 0, 10, 11, 12, 30];
        let events: Vec<StoredEvent> = (1..=6)
            .zip(seconds)
            .map(|(p, s)| created_at(p, s))
            .collect();
        let store = EventStore::load(events.clone()).unwrap();
        let mut model = ReadModel::new();
        for event in &events[..2] {
            model.project(event);
        }
        let t = |second| Timestamp::parse(&format!("2026-12-02T09:20:{second:02}.000Z")).unwrap();
        let crash = |lost, held| QueryCrash {
            crashed: t(5),
            restarted: Some(t(20)),
            lost,
            held,
        };
        assert_eq!(
            lost_in_crash(&model, &store, crash(3, 0)).as_deref(),
            Some(
                "Of the events not projected, 3 were appended while QueryService was down, and \
                 its crash lost what was published for it meanwhile (3, its crash line says): \
                 they will not come. Rebuild projects them from the event store."
            )
        );
        // Nothing lost (a persistent session kept them): they are on their way.
        assert_eq!(lost_in_crash(&model, &store, crash(0, 0)), None);
        // Rebuilt since: nothing behind is of that time.
        for event in &events[2..] {
            model.project(event);
        }
        assert_eq!(lost_in_crash(&model, &store, crash(3, 0)), None);
        // One behind of that time, the newer one not.
        let mut model = ReadModel::new();
        for event in events.iter().filter(|e| e.position != 4 && e.position != 6) {
            model.project(event);
        }
        assert!(
            lost_in_crash(&model, &store, crash(1, 0)).is_some_and(|line| line
                .starts_with("Of the events not projected, 1 was appended")
                && line.ends_with("projects it from the event store."))
        );
    }

    // A newcomer's break-test (33-H F2): the events QueryService held for its projection delay
    // died with its crash, and the lag line called them "not projected yet", before and after
    // the restart.
    #[test]
    fn events_held_for_the_projection_delay_at_the_crash_are_said_not_to_come() {
        let seconds = [0, 1, 2, 3, 10];
        let events: Vec<StoredEvent> = (1..=5)
            .zip(seconds)
            .map(|(p, s)| created_at(p, s))
            .collect();
        let store = EventStore::load(events.clone()).unwrap();
        let mut model = ReadModel::new();
        model.project(&events[0]);
        let t = |second| Timestamp::parse(&format!("2026-12-02T09:20:{second:02}.000Z")).unwrap();
        let down = QueryCrash {
            crashed: t(5),
            restarted: None,
            lost: 0,
            held: 3,
        };
        assert_eq!(
            lost_in_crash(&model, &store, down).as_deref(),
            Some(
                "Of the events not projected, 3 were held for its projection delay when \
                 QueryService crashed, and died with it (acknowledged when they arrived, so the \
                 broker does not send them again): they will not come. Rebuild projects them \
                 from the event store."
            )
        );
        // Restarted, with the one published meanwhile lost too: both said, once.
        let both = QueryCrash {
            restarted: Some(t(12)),
            lost: 1,
            ..down
        };
        let line = lost_in_crash(&model, &store, both).unwrap();
        assert!(
            line.starts_with(
                "Of the events not projected, 3 were held for its projection delay when \
                 QueryService crashed"
            ) && line.contains(
                "; 1 was appended while QueryService was down, and its crash lost what was \
                 published for it meanwhile (1, its crash line says): they will not come."
            ),
            "{line}"
        );
        // Never more than the crash line counts.
        let one = QueryCrash { held: 1, ..down };
        assert!(lost_in_crash(&model, &store, one)
            .unwrap()
            .starts_with("Of the events not projected, 1 was held"));
        // The one after the crash projected: the 3 held are older than its position, received
        // and died, not "not received" (41-AJ F5).
        model.project(&events[4]);
        assert_eq!(died_in_crash_older(&model, &store, down), 3);
        assert_eq!(died_in_crash_older(&model, &store, one), 1);
        let lag = Lag::of(&model, &store, t(10));
        assert_eq!(lag.skipped, 3);
        let line = lag_line(lag, &model, &store, &Default::default(), 3);
        assert_eq!(
            line,
            "Missing 3 events (9000 ms) older than position 5, which it has projected (the store \
             is at 5)."
        );
        let line = lag_line(lag, &model, &store, &Default::default(), 1);
        assert!(
            line.ends_with(
                ": QueryService has not received 2 of them, and will not if it was not subscribed \
                 when those were published. Rebuild projects them from the event store."
            ),
            "{line}"
        );
    }

    #[test]
    fn caught_up_and_newer_events() {
        assert_eq!(
            store_lag_line(lag(0, 0, 0), 7, 7, (0, 0, 0, 0)),
            "Caught up: projected to position 7 of 7."
        );
        assert!(store_lag_line(lag(5, 2, 30), 7, 10, (0, 0, 0, 0))
            .contains("(the store is at 10; 3 newer events not projected yet)"));
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
            lag_line(Lag::default(), &model, &store_of(4), &Default::default(), 0),
            format!(
                "Caught up: projected to position 4 of 4. Holding 1 event that arrived before \
                 the version it follows: OrderCancelled (version 2 of order-{STREAM}, position \
                 6) waits for version 1. Each is projected as soon as the version it waits for \
                 arrives. If that never comes (published while QueryService was not subscribed, \
                 lost by a broker that restarted, or dropped by the broker, e.g. over its \
                 message size limit: the broker's log says so), Rebuild projects the order from the \
                 event store."
            )
        );
        model.project(&hand_published(
            5,
            1,
            "OrderCreated",
            r#"{"customerId":"FAKE","items":[],"totalAmount":7}"#,
        ));
        assert_eq!(held_line(&model, &store_of(4), &[]), None);
        let fake = model.by_customer("FAKE");
        assert_eq!(fake.len(), 1);
        assert_eq!(fake[0].status.name(), "Cancelled");
        assert_eq!(fake[0].version, 2);
        assert_eq!(model.totals().cancelled, 1);
        assert!(
            lag_line(Lag::default(), &model, &store_of(4), &Default::default(), 0)
                .starts_with("The read model holds events")
        );
    }

    // 45-AU F2: version 2 of an order came and was refused (its position taken by a forged
    // event), and the held version 3 was said to be projected "as soon as" version 2 arrives.
    #[test]
    fn a_held_event_whose_version_came_and_was_refused_is_said_to_wait_for_rebuild() {
        let own = [
            hand_published(
                5,
                1,
                "OrderCreated",
                r#"{"customerId":"C1","items":[],"totalAmount":7}"#,
            ),
            hand_published(6, 2, "OrderCancelled", r#"{"reason":"payment declined"}"#),
        ];
        let store =
            EventStore::load((1..=4).map(created_alone).chain(own.clone()).collect()).unwrap();
        let mut model = at(4);
        model.project(&created_alone(6));
        for event in &own {
            model.project(event);
        }
        let released = hand_published(
            7,
            3,
            "InventoryReleased",
            r#"{"reservationId":"00000000-0000-0000-0000-000000000099"}"#,
        );
        model.project(&released);
        let strangers = model.strangers_in(&store);
        assert_eq!(strangers, [6]);
        assert_eq!(
            held_line(&model, &store, &strangers).unwrap(),
            format!(
                "Holding 1 event that arrived before the version it follows: InventoryReleased \
                 (version 3 of order-{STREAM}, position 7) waits for version 2, which came and \
                 was refused: this page's store holds it at position 6, where the read model \
                 projected another event, so it will not come again. Rebuild projects the order \
                 from the event store."
            )
        );
        // Four held, all behind the refused version: the same end, not only when three or
        // fewer are named (45-AW F4).
        for (position, version) in [(8, 4), (9, 5), (10, 6)] {
            model.project(&hand_published(position, version, "OrderCompleted", "{}"));
        }
        let four = held_line(&model, &store, &strangers).unwrap();
        assert!(
            four.starts_with("Holding 4 events")
                && four.ends_with("and 1 more. Rebuild projects the order from the event store."),
            "{four}"
        );
        // Not refused (no stranger there): the version may still come.
        assert!(held_line(&model, &store, &[])
            .unwrap()
            .ends_with("Each is projected as soon as the version it waits for arrives. If that never comes (published while QueryService was not subscribed, lost by a broker that restarted, or dropped by the broker, e.g. over its message size limit: the broker's log says so), Rebuild projects the order from the event store."));
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
        let line = held_line(&model, &store_of(0), &[]).unwrap();
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
