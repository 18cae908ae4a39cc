//! The view's clock: which packets the diagrams show, and where the dots are, at a chosen speed.
//!
//! The packets are recorded as they happen; the view plays them back on its own clock, which
//! runs `speed` times as fast as the page's (0.25× to 4×), can pause, and can step one packet
//! at a time. Live at 1× or faster, with nothing held back, the view *follows* the wire: it
//! shows every packet the moment it is recorded. A loaded recording plays from its first packet
//! to its last the same way. Pure: the page passes in its clock (`wall`, the packets' clock).
//!
//! ```
//! use std::time::Duration;
//! use eda_core::trace::playback::{Playback, Speed};
//! use eda_core::trace::PacketHistory;
//!
//! let history = PacketHistory::new(10);
//! let ms = Duration::from_millis;
//! let mut view = Playback::live(Speed::ONE);
//! assert!(view.shown().is_none(), "following: everything is shown");
//! view.pause(ms(1000), &history);
//! assert_eq!(view.view_now(ms(5000)), ms(1000), "paused: the view's clock stands still");
//! view.set_speed("0.25".parse().unwrap(), ms(5000), &history);
//! view.resume(ms(5000), &history);
//! // Nothing was held back, so it goes on from now, a quarter as fast as the page's clock.
//! assert_eq!(view.view_now(ms(5400)), ms(5100));
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::history::PacketHistory;

/// How long a dot takes to travel its edge, on the view's clock.
pub const TRIP: Duration = Duration::from_millis(600);
/// A quiet stretch longer than this (on the page's clock) is skipped: the view jumps to just
/// before the next packet instead of making the learner wait.
pub const MAX_IDLE: Duration = Duration::from_millis(1000);
/// How long (on the page's clock) before the next packet a skipped quiet stretch ends.
pub const IDLE_LEAD: Duration = Duration::from_millis(250);

/// How fast the view's clock runs against the page's: 0.25×, 0.5×, 1×, 2× or 4×.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Speed {
    /// In quarters: 1 is 0.25×, 16 is 4×.
    quarters: u32,
}

impl Speed {
    pub const ONE: Speed = Speed { quarters: 4 };
    /// Every speed the page offers, slowest first.
    pub const ALL: [Speed; 5] = [
        Speed { quarters: 1 },
        Speed { quarters: 2 },
        Speed { quarters: 4 },
        Speed { quarters: 8 },
        Speed { quarters: 16 },
    ];

    /// `wall` on the page's clock is this long on the view's.
    pub fn to_view(self, wall: Duration) -> Duration {
        wall * self.quarters / 4
    }

    /// `view` on the view's clock is this long on the page's.
    pub fn to_wall(self, view: Duration) -> Duration {
        view * 4 / self.quarters
    }

    /// The value a link and the page's selector use: `0.25`, `0.5`, `1`, `2`, `4`.
    pub fn value(self) -> &'static str {
        match self.quarters {
            1 => "0.25",
            2 => "0.5",
            4 => "1",
            8 => "2",
            _ => "4",
        }
    }

    /// Slower than the wire: the view falls behind it.
    pub fn is_slow_motion(self) -> bool {
        self.quarters < 4
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×", self.value())
    }
}

impl FromStr for Speed {
    type Err = String;

    /// `0.25`, `.25`, `0.5`, `1`, `2`, `4`, each optionally followed by `x` or `×`.
    fn from_str(text: &str) -> Result<Self, String> {
        let bare = text.trim().trim_end_matches(['x', 'X', '×']);
        let quarters = match bare {
            "0.25" | ".25" => 1,
            "0.5" | ".5" | "0.50" => 2,
            "1" | "1.0" => 4,
            "2" | "2.0" => 8,
            "4" | "4.0" => 16,
            _ => {
                return Err(format!(
                    "speed {} is not one of {}",
                    crate::outside_text::quoted(text),
                    Speed::ALL.map(|s| s.to_string()).join(", ")
                ))
            }
        };
        Ok(Speed { quarters })
    }
}

/// What the view shows: packets numbered below `below`, and clicks made up to `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    /// Packets with a smaller `seq` are shown.
    pub below: u64,
    /// The view's time: clicks up to it are shown.
    pub until: Duration,
}

impl Shown {
    pub fn packet(&self, seq: u64) -> bool {
        seq < self.below
    }

    pub fn action(&self, at: Duration) -> bool {
        at <= self.until
    }
}

/// Whether packet `seq` is drawn under `shown` (`None`: following the wire, everything is).
pub fn shows(shown: Option<Shown>, seq: u64) -> bool {
    shown.is_none_or(|s| s.packet(seq))
}

/// Where the packets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The four services, now: the view can never be ahead of the page's clock.
    Live,
    /// A loaded recording, which ends with its last packet.
    Recording,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playback {
    speed: Speed,
    paused: bool,
    source: Source,
    /// The view's time at `wall_anchor`; it runs on at `speed` from there.
    view_anchor: Duration,
    wall_anchor: Duration,
    /// Set by a step: exactly the packets below this are shown until the view runs again
    /// (a packet at the same instant as the stepped one stays hidden).
    stepped_below: Option<u64>,
    /// What the last [`Self::tick`] found; `None` while following.
    shown: Option<Shown>,
    /// The time of the last packet of a recording.
    end: Duration,
}

impl Playback {
    /// The live wire, followed from now on.
    pub fn live(speed: Speed) -> Self {
        Playback {
            speed,
            paused: false,
            source: Source::Live,
            view_anchor: Duration::ZERO,
            wall_anchor: Duration::ZERO,
            stepped_below: None,
            shown: None,
            end: Duration::ZERO,
        }
    }

    /// A loaded recording, played from its first packet (or click) at `speed` from `wall`.
    pub fn recording(
        speed: Speed,
        history: &PacketHistory,
        first_action: Option<Duration>,
        wall: Duration,
    ) -> Self {
        // The earliest and the latest time, not the first and the last packet's: packets are
        // listed in the order they were recorded, and the clients stamp their times on their
        // own, so a packet may carry a time a little before the one listed above it. A replay
        // that ended at the last packet's time would never show a later one.
        let first_packet = history.iter().map(|p| p.at).min();
        let start = match (first_packet, first_action) {
            (Some(p), Some(a)) => p.min(a),
            (p, a) => p.or(a).unwrap_or_default(),
        };
        let mut playback = Playback {
            source: Source::Recording,
            end: history
                .iter()
                .map(|p| p.at)
                .max()
                .unwrap_or(start)
                .max(start),
            ..Playback::live(speed)
        };
        playback.anchor(start, wall);
        playback.shown = Some(playback.compute(wall, history));
        playback
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    pub fn source(&self) -> Source {
        self.source
    }

    /// What the diagrams show; `None` while following the live wire: everything.
    pub fn shown(&self) -> Option<Shown> {
        self.shown
    }

    /// Whether the packet numbered `seq` is shown.
    pub fn shows_packet(&self, seq: u64) -> bool {
        shows(self.shown, seq)
    }

    fn anchor(&mut self, view: Duration, wall: Duration) {
        self.view_anchor = view;
        self.wall_anchor = wall;
    }

    /// Following the live wire: every packet is shown the moment it is recorded.
    pub fn is_following(&self) -> bool {
        self.source == Source::Live
            && !self.paused
            && !self.speed.is_slow_motion()
            && self.view_anchor == self.wall_anchor
    }

    /// The view's time when the page's clock reads `wall`.
    pub fn view_now(&self, wall: Duration) -> Duration {
        if self.paused {
            return self.view_anchor;
        }
        let run = self.view_anchor + self.speed.to_view(wall.saturating_sub(self.wall_anchor));
        match self.source {
            Source::Live => run.min(wall),
            // Long enough after the last packet for its dot to arrive.
            Source::Recording => run.min(self.end + TRIP),
        }
    }

    /// A recording played to its end (and its last dot arrived).
    pub fn finished(&self, wall: Duration) -> bool {
        self.source == Source::Recording && self.view_now(wall) >= self.end + TRIP
    }

    /// Whether the page should call [`Self::tick`] on every frame: the view is running and
    /// not simply following the wire, nor at the end of a recording.
    pub fn needs_frames(&self, wall: Duration) -> bool {
        !self.paused && !self.is_following() && !self.finished(wall)
    }

    /// Moves the view on to `wall`: catches up with the wire (then follows it), skips a quiet
    /// stretch, and works out what is shown. True if the packets shown changed.
    pub fn tick(&mut self, wall: Duration, history: &PacketHistory) -> bool {
        if !self.paused {
            let now = self.view_now(wall);
            let (last_shown, next_hidden) = Self::around(now, history);
            // No dot on its way: nothing to lose by jumping ahead.
            let quiet = last_shown.is_none_or(|at| at + TRIP <= now);
            match next_hidden {
                // Live with nothing held back: the view is back with the wire.
                None if self.source == Source::Live && (now >= wall || quiet) => {
                    self.anchor(wall, wall)
                }
                Some(next) if quiet && next > now + self.speed.to_view(MAX_IDLE) => {
                    let resume = next.saturating_sub(self.speed.to_view(IDLE_LEAD));
                    self.anchor(resume, wall);
                }
                _ => {}
            }
        }
        let shown = (!self.is_following()).then(|| self.compute(wall, history));
        // The view's time moves on every frame; only a packet more or less is a change
        // worth drawing the views again for (a click shows with the PUBLISH it caused).
        let changed = shown.map(|s| s.below) != self.shown.map(|s| s.below);
        self.shown = shown;
        changed
    }

    fn compute(&self, wall: Duration, history: &PacketHistory) -> Shown {
        let until = self.view_now(wall);
        let below = match self.stepped_below {
            Some(below) if self.paused => below,
            _ => {
                let first_hidden = history.iter().find(|p| p.at > until).map(|p| p.seq);
                match (first_hidden, self.shown) {
                    // Nothing kept is shown, and packets the view had not shown yet fell off
                    // the history meanwhile: they are still the first not shown (counted in
                    // `waiting_arrived`, never drawn).
                    (Some(seq), Some(before))
                        if history.iter().next().map(|p| p.seq) == Some(seq)
                            && before.below < seq =>
                    {
                        before.below
                    }
                    (Some(seq), _) => seq,
                    (None, _) => history.next_seq(),
                }
            }
        };
        Shown { below, until }
    }

    /// At the view's time `now`: the latest time among the packets shown (those listed before
    /// the first one stamped after `now`), and that first hidden packet's time.
    ///
    /// Only the packets shown count for the dots on their way: a packet listed after a hidden
    /// one waits behind it however early it was stamped, and draws no dot. (Counting them kept
    /// a replay whose one packet was stamped a year late from skipping to it until every packet
    /// listed after it had "played", unseen.)
    fn around(now: Duration, history: &PacketHistory) -> (Option<Duration>, Option<Duration>) {
        let mut last_shown: Option<Duration> = None;
        for packet in history.iter() {
            if packet.at > now {
                return (last_shown, Some(packet.at));
            }
            last_shown = Some(last_shown.map_or(packet.at, |last| last.max(packet.at)));
        }
        (last_shown, None)
    }

    /// How many packets arrived that the view has not shown yet, whether the history still
    /// keeps them or not: while paused under load more arrive than the history's capacity
    /// (2000), and the oldest of them fall off before they are shown. At least
    /// [`Self::waiting`]; 0 while following the wire.
    pub fn waiting_arrived(&self, history: &PacketHistory) -> u64 {
        match self.shown {
            None => 0,
            Some(shown) => history
                .next_seq()
                .saturating_sub(shown.below)
                .max(self.waiting(history) as u64),
        }
    }

    /// How many recorded packets the view has not shown yet, among those the history keeps.
    pub fn waiting(&self, history: &PacketHistory) -> usize {
        match self.shown {
            None => 0,
            Some(shown) => history
                .iter()
                .rev()
                .take_while(|p| !shown.packet(p.seq))
                .count(),
        }
    }

    pub fn set_speed(&mut self, speed: Speed, wall: Duration, history: &PacketHistory) {
        let now = self.view_now(wall);
        self.anchor(now, wall);
        self.speed = speed;
        self.tick(wall, history);
    }

    /// Freezes the view where it is: packets recorded from now on wait.
    pub fn pause(&mut self, wall: Duration, history: &PacketHistory) {
        if !self.paused {
            let now = self.view_now(wall);
            self.anchor(now, wall);
            self.paused = true;
        }
        self.tick(wall, history);
    }

    /// Runs the view on from where it stopped.
    pub fn resume(&mut self, wall: Duration, history: &PacketHistory) {
        if self.paused {
            self.wall_anchor = wall;
            self.paused = false;
            self.stepped_below = None;
        }
        self.tick(wall, history);
    }

    /// Pauses, then shows the next packet not yet shown, and returns its `seq`; `None` when
    /// every recorded packet is already shown.
    pub fn step(&mut self, wall: Duration, history: &PacketHistory) -> Option<u64> {
        self.pause(wall, history);
        let below = match self.shown {
            Some(shown) => shown.below,
            None => history.next_seq(),
        };
        let next = history.iter().find(|p| p.seq >= below)?;
        let (seq, at) = (next.seq, next.at);
        self.view_anchor = self.view_anchor.max(at);
        self.stepped_below = Some(seq + 1);
        self.shown = Some(Shown {
            below: seq + 1,
            until: self.view_anchor,
        });
        Some(seq)
    }

    /// Live: drops whatever is held back and follows the wire from now, at least at 1×.
    /// A recording: plays again from its start.
    pub fn jump_to_live(&mut self, wall: Duration) {
        self.paused = false;
        self.stepped_below = None;
        if self.speed.is_slow_motion() {
            self.speed = Speed::ONE;
        }
        self.anchor(wall, wall);
        self.shown = None;
    }

    /// A recording: plays again from its first packet; a paused replay stays paused there,
    /// for *Step* to go on one packet at a time (a newcomer's break-test: *Replay from the
    /// start* set a paused replay running).
    pub fn restart(
        &mut self,
        wall: Duration,
        history: &PacketHistory,
        first_action: Option<Duration>,
    ) {
        let paused = self.paused;
        *self = Playback::recording(self.speed, history, first_action, wall);
        if paused {
            self.pause(wall, history);
        }
    }
}

#[cfg(test)]
mod tests;
