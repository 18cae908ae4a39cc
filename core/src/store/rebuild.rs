//! How far the read model is behind the store, and rebuilding it from the store in steps a
//! driver can spread over frames (showing progress, letting the browser paint).

use std::time::Duration;

use super::event_store::EventStore;
use super::read_model::ReadModel;
use crate::domain::timestamp::Timestamp;

/// How far a read model is behind the store it projects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    /// The store's events the read model has not applied (0 when caught up).
    pub events_behind: u64,
    /// Milliseconds from the recording of the oldest event not applied to `now`; 0 when caught
    /// up (and when `now` is before that recording).
    pub ms_behind: u64,
    /// Of [`Lag::events_behind`], those older than the newest of the store's events applied
    /// ([`ReadModel::position_in`] the store): later events arrived and these did not. QueryService may never
    /// receive them (published before it subscribed, with no session to keep them); a rebuild
    /// from the store projects them.
    pub skipped: u64,
}

impl Lag {
    /// The lag of `model` behind `store` at `now` (the page's clock, handed in).
    pub fn of(model: &ReadModel, store: &EventStore, now: Timestamp) -> Lag {
        let head = store.head();
        let from = model.checkpoint() + 1;
        // The store's events not projected: those after the checkpoint not applied, and those
        // at a position where the read model applied another event (43-AP F2).
        let strangers = model.strangers_in(store);
        let mut missing: Vec<u64> = (from..=head).filter(|&p| !model.has_applied(p)).collect();
        missing.extend(&strangers);
        missing.sort_unstable();
        let ms_behind = missing
            .first()
            .and_then(|&p| store.at(p))
            .map_or(0, |oldest| {
                let ms = now.unix_millis() - oldest.recorded_at.unix_millis();
                u64::try_from(ms).unwrap_or(0)
            });
        let position = model.position_in(store);
        let skipped = missing.iter().take_while(|&&p| p < position).count() as u64;
        Lag {
            events_behind: missing.len() as u64,
            ms_behind,
            skipped,
        }
    }

    /// [`Lag::ms_behind`] as a duration.
    pub fn time_behind(self) -> Duration {
        Duration::from_millis(self.ms_behind)
    }
}

/// How far a [`Rebuild`] has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Events projected so far.
    pub done: u64,
    /// Events to project in all: the rebuild's limit, or the store's head at the last step.
    pub total: u64,
}

impl Progress {
    /// Whether every event up to the total is projected.
    pub fn is_finished(self) -> bool {
        self.done >= self.total
    }
}

/// The words before a finished rebuild's totals in the Read model panel. `asked` is the
/// position typed in *Up to position* (`None`: empty, the whole store), `up_to` the limit the
/// rebuild ran with (`None`: the whole store, also when `asked` is at or past the store's head),
/// `position` the rebuilt read model's position (the store's head, for the whole store).
///
/// ```
/// # use eda_core::store::rebuilt_heading;
/// assert_eq!(rebuilt_heading(Some(3), Some(3), 3), "Rebuilt from the event store up to position 3 (time travel): ");
/// assert_eq!(rebuilt_heading(None, None, 5), "Rebuilt from the event store, positions 1 to 5 (the whole store then): ");
/// assert_eq!(
///     rebuilt_heading(Some(99999), None, 5),
///     "The store holds 5 events, so position 99999 is past its end: rebuilt from the event \
///      store up to position 5, the whole store: "
/// );
/// ```
pub fn rebuilt_heading(asked: Option<u64>, up_to: Option<u64>, position: u64) -> String {
    match (up_to, asked) {
        (Some(p), _) => format!("Rebuilt from the event store up to position {p} (time travel): "),
        (None, Some(asked)) if asked > position => format!(
            "The store holds {position} event{}, so position {asked} is past its end: rebuilt \
             from the event store up to position {position}, the whole store: ",
            if position == 1 { "" } else { "s" }
        ),
        // Which positions, so the line stays true as the store grows beside it (a newcomer's
        // break-test read "111 orders … equals the live read model" beside 121 orders).
        (None, _) => format!(
            "Rebuilt from the event store, positions 1 to {position} (the whole store then): "
        ),
    }
}

/// A read model rebuilt from scratch by projecting the store's events in position order, a
/// chunk per [`Rebuild::step`]. With a limit it is **time travel**: the read model as it was
/// when the store's head was that position.
///
/// ```
/// # use eda_core::store::{EventStore, Rebuild};
/// let store = EventStore::new();
/// let mut rebuild = Rebuild::new(None);
/// while !rebuild.step(&store, 500).is_finished() {
///     // a driver would yield to the browser here and show the progress
/// }
/// let model = rebuild.finish();
/// assert_eq!(model.position(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Rebuild {
    up_to: Option<u64>,
    done: u64,
    model: ReadModel,
}

impl Rebuild {
    /// A rebuild of the events up to position `up_to` (inclusive), or of the whole store
    /// (`None`: events appended while it runs are included, up to the head at the last step).
    pub fn new(up_to: Option<u64>) -> Rebuild {
        Rebuild {
            up_to,
            ..Rebuild::default()
        }
    }

    /// Projects up to `max_events` more events of `store` (0 projects none) and says how far
    /// the rebuild is.
    pub fn step(&mut self, store: &EventStore, max_events: usize) -> Progress {
        let total = self.up_to.map_or(store.head(), |p| p.min(store.head()));
        let last = total.min(self.done.saturating_add(max_events as u64));
        for event in store.read_all(self.done + 1, Some(last)) {
            self.model.project(event);
        }
        self.done = self.done.max(last);
        Progress {
            done: self.done,
            total,
        }
    }

    /// The read model as far as the steps went (step until [`Progress::is_finished`] first).
    pub fn finish(self) -> ReadModel {
        self.model
    }
}
