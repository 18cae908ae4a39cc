//! Catch-up or loss: what a crashed service missed while it was down, and whether the broker
//! delivered it when the service came back. The lesson of persistent sessions, read off the
//! trace: the messages the other services published while it was down, on topics it subscribes
//! to, and which of them it received after its restart.
//!
//! With a persistent session (MQTT 3.1.1 clean session off, 5.0 session expiry) and QoS 1 or 2
//! the broker queues them and delivers them on reconnect: **caught up**. With a clean session,
//! or at QoS 0, they are gone: **lost**, and the saga of each order they belonged to times out.
//!
//! Each crash is an **instance**'s ([`Instance`]): with PaymentService's instances in a shared
//! subscription, a message published while one member is down goes to another member, or is
//! the crashed member's share, queued for it (a persistent session) or lost. What a crashed
//! instance was **owed** is what no other member received, or what it received itself after
//! its restart; the others' are not counted against it. With one instance, everything
//! published on its topics is owed to it.
//!
//! A copy of a message published again **after** the restart (OrderService's compensation
//! check asking for a refund again) is a new message, delivered under any session: it is
//! neither caught up nor lost, so a received copy counts as caught up only beyond the copies
//! published after the restart. With a clean session the original, published while the service
//! was down, stays lost though a later copy reached it.

use std::time::Duration;

use broker_bridge::{Direction, PacketKind};

/// How long after a restart (on the packets' clock) what the crashed client missed is awaited
/// before the rest is called lost: a broker that kept its session sends the queue right after
/// the reconnection (a WebSocket handshake, ~200 ms on Mosquitto 2.0.11, then the backlog).
/// Until then the line says "not delivered yet" ([`Outage::settled`]): a newcomer's break-test
/// read "0 caught up on restart, 3 lost" for the moment between the restart and the catch-up,
/// and for as long as a replay was paused there.
pub const CATCH_UP_GRACE: Duration = Duration::from_secs(3);

use super::service_status::ServiceEvent;
use super::Trace;
use crate::services::instances::{client_label, Instance};
use crate::services::SagaStyle;

/// One crash of a service, or of one of PaymentService's instances, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// The client that crashed: a service (its first instance), or `PaymentService 2`.
    pub instance: Instance,
    /// When it crashed, on the packets' clock.
    pub crashed_at: Duration,
    /// When it was restarted, or no longer run ([`Self::removed`]); `None` while it is down.
    pub restarted_at: Option<Duration>,
    /// When the restarted client's broker accepted it again (its first CONNACK after the
    /// restart), and whether that broker resumed its session (Session Present): what it missed
    /// can come only from then, and only from a session kept. `None` until then (a restart while
    /// the broker is down waits for the broker).
    pub reconnected: Option<(Duration, bool)>,
    /// It was not restarted but is no longer run (PaymentService's instances lowered while it
    /// was down: the page ended its session, and what the broker queued for it went with it).
    pub removed: bool,
    /// Messages published meanwhile (by the other services) on topics it subscribes to.
    pub published: usize,
    /// How many of those were owed to it: every one, unless other instances of its service
    /// share its subscriptions; then those no other instance received, and those it received
    /// itself after its restart, less the [`Self::shared`] ones. Equal to [`Self::published`]
    /// with one instance.
    pub missed: usize,
    /// How many of those went to no running instance while another instance of its service was
    /// down too ([`Self::shared_with`]), and reached neither: each was its share or the
    /// other's, and the broker does not say whose. Counted here and in the other's outage
    /// alike, but in neither's [`Self::missed`] nor lost (a newcomer's break-test: two
    /// instances down at once each read "8 of the 14 … were its share … 8 lost", 16 of 14).
    pub shared: usize,
    /// The other instances down at the same time that [`Self::shared`] messages may belong
    /// to, in instance order; empty when `shared` is 0.
    pub shared_with: Vec<Instance>,
    /// Every one of [`Self::shared_with`] is no longer run: what it was owed went with it.
    pub shared_gone: bool,
    /// How many went to no running instance while it and [`Self::shared_with`] were all down,
    /// and reached none of them: each came back without its session (Session Present 0), so
    /// nobody was owed them any more. Lost for the whole group, counted once, in the outage of
    /// the first of them ([`Self::group_lost_by`]). A newcomer's break-test (35-N F1): every
    /// instance crashed under clean sessions, and each line said "0 lost".
    pub group_lost: usize,
    /// The outage whose [`Outage::lost`] counts [`Self::group_lost`]: `None` for this one.
    pub group_lost_by: Option<Instance>,
    /// How many of those it received after its restart, beyond the copies of the same messages
    /// published again after the restart (those are new messages, not caught up).
    pub caught_up: usize,
    /// How many of those it received only after the line had [settled](Outage::settled) and
    /// called them lost: a broker that kept them in its session sent them when the service
    /// connected to it again later (after a switch of brokers). Still counted lost (the sagas
    /// of their time went on without them), and said so.
    pub late: usize,
    /// Copies of those messages the others published again after the restart (a compensation
    /// check asking again): new messages, neither caught up nor lost; 0 while it is down.
    pub published_again: usize,
    /// Orders whose simulated work it had in hand when it crashed: the message that started
    /// each was acknowledged to the broker when it arrived, so the broker does not send it
    /// again, and the work never finishes (the saga's deadline cancels the order). For
    /// QueryService: the store's events it held for its projection delay.
    pub work_lost: usize,
}

impl Outage {
    /// Missed and never received: lost (0 while the service is still down).
    pub fn lost(&self) -> usize {
        let group = if self.group_lost_by.is_none() {
            self.group_lost
        } else {
            0
        };
        match self.restarted_at {
            Some(_) => self.missed - self.caught_up + group,
            None => 0,
        }
    }

    /// Whether what is not caught up at `now` (the packets' clock: the page's now, or a
    /// replay's view time) is lost for good: down still, or no longer run, or everything caught
    /// up, or reconnected to a broker that kept no session (Session Present 0: nothing will
    /// come), or [`CATCH_UP_GRACE`] past the reconnection. Before that it is "not delivered
    /// yet": a restart while the broker is down is not a loss until the broker is back (a
    /// newcomer's break-test, 33-G2 F1: "2 lost" while the broker was down, "2 caught up"
    /// once it was back).
    pub fn settled(&self, now: Duration) -> bool {
        match (self.restarted_at, self.reconnected) {
            (None, _) => true,
            _ if self.removed || self.caught_up >= self.missed => true,
            (Some(_), None) => false,
            (Some(_), Some((_, false))) => true,
            (Some(_), Some((at, true))) => now >= at + CATCH_UP_GRACE,
        }
    }

    /// When the line settles ([`Outage::settled`]), if it has not at `now`: the time for the
    /// page to draw it again (`None` while it waits for the reconnection, which redraws it).
    pub fn settles_at(&self, now: Duration) -> Option<Duration> {
        let (at, _) = self.reconnected?;
        (!self.settled(now)).then_some(at + CATCH_UP_GRACE)
    }

    /// [`Outage::lost`] as said at `now`: 0 until [`Outage::settled`].
    pub fn lost_at(&self, now: Duration) -> usize {
        if self.settled(now) {
            self.lost()
        } else {
            0
        }
    }

    /// [`Outage::describe`] at `now`: before the line has [`settled`](Outage::settled), what
    /// is not caught up yet is "not delivered yet", not lost.
    pub fn describe_at(&self, now: Duration) -> String {
        if self.settled(now) {
            return self.describe();
        }
        let pending = self.missed - self.caught_up;
        let why = if self.reconnected.is_none() {
            "it has not connected to the broker again yet; a broker that kept its session sends \
             them once it has"
        } else {
            "a broker that kept its session sends them right after the reconnection; at QoS 0 \
             none will come"
        };
        self.unsettled(&format!(
            "{} caught up on restart so far, {pending} not delivered yet ({why})",
            self.caught_up
        ))
    }

    /// A line not [settled](Outage::settled): the crash, what was owed, then `what` became of
    /// it (without a full stop), then the sentences on shared messages, copies and work in
    /// hand.
    fn unsettled(&self, what: &str) -> String {
        format!(
            "{} was down {}: {} meanwhile; {what}.{}{}{}",
            self.instance.name(),
            self.down_text(),
            self.owed_text(),
            self.shared_text(),
            self.again_text(),
            self.work_in_hand()
        )
    }

    /// [`Outage::describe_at`] for a recording played to its end at `end` (its last packet,
    /// on the packets' clock): a line that has not [`settled`](Outage::settled) by then never
    /// will in this replay, so what is not caught up is "not delivered before the recording
    /// ends", neither caught up nor lost (a newcomer's break-test: a finished replay said "not
    /// delivered yet" for good). A settled line reads as [`Outage::describe`].
    pub fn describe_at_end(&self, end: Duration) -> String {
        if self.restarted_at.is_none() || self.settled(end) {
            return self.describe_at(end);
        }
        let pending = self.missed - self.caught_up;
        let when = match self.reconnected {
            Some((at, _)) => {
                let after = end.saturating_sub(at);
                format!(
                    "{}.{} s after it connected again, within the {} s a catch-up is awaited",
                    after.as_secs(),
                    after.subsec_millis() / 100,
                    CATCH_UP_GRACE.as_secs()
                )
            }
            None => "before it connected to the broker again".to_owned(),
        };
        self.unsettled(&format!(
            "{} caught up on restart, {pending} not delivered before the recording ends \
             ({when}): whether they came later, it does not show",
            self.caught_up
        ))
    }

    /// The outage in a sentence, for the page, the crashed client named as its badge names it
    /// (`PaymentService 2`). When other instances took some of what was published meanwhile,
    /// it says how many of how many were its own.
    pub fn describe(&self) -> String {
        let name = self.instance.name();
        let owed = self.owed_text();
        if self.restarted_at.is_none() {
            return format!("{name} is down: {owed} so far.{}", self.work_in_hand());
        }
        let down = self.down_text();
        if self.removed {
            return format!(
                "{name} was down {down}, then no longer run (the page ended its session, and \
                 what the broker had queued for it went with it): {owed} meanwhile; {} lost.{}{}",
                self.lost(),
                self.shared_text(),
                self.work_in_hand()
            );
        }
        format!(
            "{name} was down {down}: {owed} meanwhile; {} caught up on restart, {} lost.{}{}{}{}{}",
            self.caught_up,
            self.lost(),
            self.late_text(),
            self.shared_text(),
            self.group_text(),
            self.again_text(),
            self.work_in_hand()
        )
    }

    /// The sentence on [`Self::group_lost`]; empty if none were.
    fn group_text(&self) -> String {
        if self.group_lost == 0 {
            return String::new();
        }
        let n = self.group_lost;
        let names = self.shared_names();
        let counted = match self.group_lost_by {
            None => "counted here once".to_owned(),
            Some(by) => format!("counted once, in {}'s line", by.name()),
        };
        format!(
            " The {n} published while {names} {} down too reached no instance, and none came \
             back with its session (each was accepted again with Session Present 0): lost for \
             the whole group, {counted}.",
            if self.shared_with.len() == 1 {
                "was"
            } else {
                "were"
            }
        )
    }

    /// The sentence on the messages that came after the line had called them lost; empty if
    /// none did.
    fn late_text(&self) -> String {
        match self.late {
            0 => String::new(),
            1 => " 1 of those lost came later, from a broker that had kept it in the service's \
                  session (connected to again after this line was counted): delivered, but not \
                  caught up on restart; the saga it belonged to may have ended without it."
                .to_owned(),
            n => format!(
                " {n} of those lost came later, from a broker that had kept them in the \
                 service's session (connected to again after this line was counted): delivered, \
                 but not caught up on restart; the sagas they belonged to may have ended without \
                 them."
            ),
        }
    }

    /// The names of [`Self::shared_with`]: "PaymentService 3", "PaymentService 2 and
    /// PaymentService 3".
    fn shared_names(&self) -> String {
        let names: Vec<String> = self.shared_with.iter().map(|i| i.name()).collect();
        match names.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }

    /// The sentence on the messages shared with instances down at the same time, once it is
    /// restarted or no longer run; empty if none were.
    fn shared_text(&self) -> String {
        if self.shared == 0 || self.restarted_at.is_none() {
            return String::new();
        }
        let names = self.shared_names();
        let (they, were) = if self.shared == 1 {
            ("it", "was")
        } else {
            ("they", "were")
        };
        let n = self.shared;
        // Whose they were, the broker does not say; whether the other's session keeps them
        // depends on it being persistent and the QoS above 0 (Mosquitto queues no QoS 0 message
        // for an absent client: its `queue_qos0_messages` is false by default), which the
        // crash line does not know: each case is said as a condition (a newcomer's break-test,
        // 33-G2 F3: at QoS 0 the line blamed a clean session, and said "0 lost" then "lost as
        // well").
        let queued = format!(
            "those that were {names}'s come to {names} on restart if the broker queued them (a \
             persistent session at QoS 1 or 2)"
        );
        match (self.removed, self.shared_gone) {
            (true, true) => {
                let also = if self.lost() > 0 { " as well" } else { "" };
                format!(
                    " The {n} its share or {names}'s {were} lost{also}: no instance they could \
                     go to runs now."
                )
            }
            (true, false) => format!(
                " The {n} its share or {names}'s did not reach it: those that were its share \
                 went with it; {queued}."
            ),
            (false, true) => format!(
                " The {n} its share or {names}'s did not reach it: lost, whether {they} {were} \
                 its own (not queued: a clean session, or QoS 0) or {names}'s, no longer run."
            ),
            (false, false) => format!(
                " The {n} its share or {names}'s did not reach it: {queued}; the rest are lost."
            ),
        }
    }

    /// What was published for it meanwhile: "3 messages published for it", or its share.
    fn owed_text(&self) -> String {
        let messages = |n: usize| {
            if n == 1 {
                "1 message".to_owned()
            } else {
                format!("{n} messages")
            }
        };
        let shared = self.shared + self.group_lost;
        let were = if self.missed == 1 { "was" } else { "were" };
        if shared > 0 {
            let rest = self.published - self.missed - shared;
            let taken = if rest == 0 {
                String::new()
            } else {
                format!(", and {rest} the running instances'")
            };
            return format!(
                "{} of the {} published on its shared subscriptions {were} its share, {} its \
                 share or {}'s (down at the same time: the broker does not say whose){taken}",
                self.missed,
                self.published,
                shared,
                self.shared_names()
            );
        }
        if self.published == self.missed {
            format!("{} published for it", messages(self.missed))
        } else {
            format!(
                "{} of the {} published on its shared subscriptions {were} its share (the rest \
                 were the other instances')",
                self.missed, self.published
            )
        }
    }

    /// How long it was down, to a tenth of a second ("2.2 s"); "0.0 s" while down.
    fn down_text(&self) -> String {
        let down = self
            .restarted_at
            .map_or(Duration::ZERO, |at| at.saturating_sub(self.crashed_at));
        format!("{}.{} s", down.as_secs(), down.subsec_millis() / 100)
    }

    /// The sentence on copies published again after the restart; empty if none were.
    fn again_text(&self) -> String {
        match self.published_again {
            0 => String::new(),
            1 => " 1 copy of them published again after the restart is a new message, neither \
                  caught up nor lost."
                .to_owned(),
            n => format!(
                " {n} copies of them published again after the restart are new messages, \
                 neither caught up nor lost."
            ),
        }
    }

    /// The sentence on the work in hand that died with the crash; empty if none did.
    fn work_in_hand(&self) -> String {
        match self.work_lost {
            0 => String::new(),
            // QueryService's work in hand: the store's events held for its projection delay.
            n if self.instance.service == crate::services::ServiceId::Query => format!(
                " The {n} event{} of the store it held for its projection delay died with it \
                 (acknowledged when {} arrived, so the broker does not send {} again): Rebuild \
                 projects {} from the event store.",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "they" },
                if n == 1 { "it" } else { "them" },
                if n == 1 { "it" } else { "them" },
            ),
            n => {
                format!(
                " Its work in hand for {n} order{} died with it (acknowledged when {} arrived, so \
                 the broker does not send {} again).",
                if n == 1 { "" } else { "s" },
                if n == 1 { "its message" } else { "their messages" },
                if n == 1 { "it" } else { "them" },
            )
            }
        }
    }
}

/// The instance whose client saw `packet`: read off its client id (`eda-<tag>-payment-2`),
/// else the service's first; `None` for the status monitor's packets, which no outage counts.
fn instance_of(packet: &super::packet::TracedPacket) -> Option<Instance> {
    let service = packet.participant.service()?;
    Some(
        Instance::from_slug(client_label(&packet.client_id))
            .filter(|i| i.service == service)
            .unwrap_or_else(|| service.into()),
    )
}

/// What tells a message from another: a message of the flow by its identity
/// ([`crate::domain::events::DomainEvent::identity`]), an event of the store by its stream and
/// version (QueryService's messages).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    Message(&'static str, uuid::Uuid),
    Stored(uuid::Uuid, u64),
}

fn identity(packet: &super::packet::TracedPacket) -> Option<Identity> {
    if let Some(message) = packet.message.as_deref() {
        let (topic, id) = message.identity();
        return Some(Identity::Message(topic, id));
    }
    let topic = packet.topic.as_deref()?;
    let broker_bridge::packet::Packet::Publish(publish) = packet.packet.as_ref() else {
        return None;
    };
    let event = crate::store::StoredEvent::decode_on(topic, &publish.payload).ok()?;
    Some(Identity::Stored(event.stream, event.version))
}

/// How many crashes the ledger remembers (the oldest forgotten first).
pub const LEDGER_CAPACITY: usize = 32;

/// The crashes of a live page, counted as the packets are recorded ([`Trace::record`],
/// [`Trace::record_crash`], [`Trace::record_restart`]) rather than read back from the trace, which keeps only the newest
/// [`super::HISTORY_CAPACITY`] packets and service events: at 100 orders a second that is under
/// a second, so an outage of a few seconds was counted from what was left of it (a newcomer's
/// break-test: 60 orders published while PaymentService was down, "20 … caught up"; with 120,
/// no note at all, its crash event gone too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutageLedger {
    entries: std::collections::VecDeque<Counted>,
    /// How many crashes it remembers: [`LEDGER_CAPACITY`] on a live page; every one when a
    /// trace is read back ([`outages`]).
    capacity: usize,
    /// When a trace is read back: each service's simulated work in hand, from its
    /// [`ServiceEvent::WorkStarted`] and [`ServiceEvent::WorkDone`] events (a live page is
    /// told it with each crash).
    in_hand: Vec<(crate::services::ServiceId, uuid::Uuid)>,
}

impl Default for OutageLedger {
    fn default() -> Self {
        OutageLedger {
            entries: Default::default(),
            capacity: LEDGER_CAPACITY,
            in_hand: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Counted {
    outage: Outage,
    /// The topics the service subscribed to when it crashed (its saga style's).
    wanted: &'static [&'static str],
    /// The copies of each message the others published on them while it was down, and what
    /// came of them.
    missed: std::collections::HashMap<Identity, Copies>,
    /// Whether the restarted client is subscribed again: its first SUBACK after the restart,
    /// or a CONNACK with Session Present (the broker kept its subscriptions). Until then what
    /// the others publish for it reaches it only from a session the broker kept: it counts as
    /// published while it was down (a newcomer's break-test, 35-N F3: under clean sessions,
    /// orders placed right after *Restart* went out before its SUBSCRIBE, were lost to it, and
    /// its line said "0 messages published for it meanwhile … 0 lost").
    resubscribed: bool,
}

/// The copies of one message (one [`Identity`]) a crashed instance missed, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Copies {
    /// Published by the others while it was down.
    down: usize,
    /// Published by the others after its restart: new messages.
    again: usize,
    /// Received by it after its restart: caught up, or a copy published again.
    received: usize,
    /// Received by it after its line had [settled](Outage::settled): from a later connection
    /// (a broker that kept its session, connected to again after a switch of brokers), not
    /// caught up on restart.
    late: usize,
    /// Received by another instance of its service before its restart (the group's share).
    taken: usize,
    /// Received by another instance of its service after its restart (a copy published again
    /// that went to another member, not to it).
    taken_again: usize,
}

impl Copies {
    /// The copies published while it was down that reached it after its restart: what it
    /// received beyond the copies published again that did not go to another member.
    fn caught_up(&self) -> usize {
        let again_to_it = self.again.saturating_sub(self.taken_again);
        self.received.saturating_sub(again_to_it).min(self.down)
    }

    /// The copies published while it was down that reached it only after its line had settled:
    /// what would have been caught up had they come in time.
    fn came_late(&self) -> usize {
        let again_to_it = self.again.saturating_sub(self.taken_again);
        (self.received + self.late)
            .saturating_sub(again_to_it)
            .min(self.down)
            .saturating_sub(self.caught_up())
    }

    /// The copies owed to it: those no other instance took, and those it caught up on.
    fn owed(&self) -> usize {
        self.down.saturating_sub(self.taken).max(self.caught_up())
    }
}

/// What an outage was owed and caught up on, counted afresh ([`OutageLedger::recount`]).
#[derive(Default)]
struct Tally {
    published: usize,
    missed: usize,
    shared: usize,
    caught_up: usize,
    late: usize,
    published_again: usize,
    shared_with: std::collections::BTreeSet<Instance>,
    group_lost: usize,
    group_lost_by: Option<Instance>,
}

impl Tally {
    /// Whether every instance in `shared_with` is no longer run, among `rivals`' outages.
    fn shared_gone(&self, rivals: &[&Counted]) -> bool {
        self.shared_with.iter().all(|instance| {
            rivals
                .iter()
                .rev()
                .find(|r| r.outage.instance == *instance)
                .is_some_and(|r| r.outage.removed)
        })
    }
}

impl Counted {
    /// Counts what it was owed and caught up on, beside `rivals`: the outages of the other
    /// instances of its service. A message it has not received that went to no running
    /// instance is a rival's if that rival received it, shared with the rivals that did not
    /// and were down when it was published (the message is in their count too), else its own.
    fn tally(&self, rivals: &[&Counted]) -> Tally {
        let mut tally = Tally::default();
        for (id, copies) in &self.missed {
            tally.published += copies.down;
            tally.caught_up += copies.caught_up();
            tally.late += copies.came_late();
            tally.published_again += copies.again;
            let owed = copies.owed();
            if owed == 0 || copies.caught_up() > 0 || rivals.is_empty() {
                tally.missed += owed;
                continue;
            }
            let theirs: Vec<&Counted> = rivals
                .iter()
                .copied()
                .filter(|r| r.missed.get(id).is_some_and(|c| c.down > 0))
                .collect();
            if theirs
                .iter()
                .any(|r| r.missed.get(id).is_some_and(|c| c.caught_up() > 0))
            {
                // The rival's share: it got it on its restart.
                continue;
            }
            let sharing: Vec<Instance> = theirs
                .iter()
                .filter(|r| r.missed.get(id).is_some_and(|c| c.owed() > 0))
                .map(|r| r.outage.instance)
                .collect();
            // Every one of them came back without its session: nobody is owed it any more.
            let no_session = |c: &Counted| matches!(c.outage.reconnected, Some((_, false)));
            let all_without_session = no_session(self)
                && theirs
                    .iter()
                    .filter(|r| sharing.contains(&r.outage.instance))
                    .all(|r| no_session(r));
            if sharing.is_empty() {
                tally.missed += owed;
            } else if all_without_session {
                let first = sharing
                    .iter()
                    .copied()
                    .min()
                    .unwrap_or(self.outage.instance);
                tally.group_lost += owed;
                if first < self.outage.instance {
                    tally.group_lost_by = Some(first);
                }
                tally.shared_with.extend(sharing);
            } else {
                tally.shared += owed;
                tally.shared_with.extend(sharing);
            }
        }
        tally
    }
}

impl OutageLedger {
    /// The learner crashed `instance` at `at` with simulated work in hand for `work_lost`
    /// orders: an outage opens, its topics those of `style`.
    pub fn crashed(
        &mut self,
        at: Duration,
        instance: Instance,
        style: SagaStyle,
        work_lost: usize,
    ) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(Counted {
            outage: Outage {
                instance,
                crashed_at: at,
                restarted_at: None,
                reconnected: None,
                removed: false,
                published: 0,
                missed: 0,
                caught_up: 0,
                late: 0,
                published_again: 0,
                shared: 0,
                shared_with: Vec::new(),
                shared_gone: false,
                group_lost: 0,
                group_lost_by: None,
                work_lost,
            },
            wanted: instance.service.subscriptions(style),
            missed: Default::default(),
            resubscribed: false,
        });
    }

    /// `instance` runs again from `at` (*Restart*): its open outage, if any, closes.
    pub fn restarted(&mut self, at: Duration, instance: Instance) {
        if let Some(open) = self
            .entries
            .iter_mut()
            .rev()
            .find(|c| c.outage.instance == instance && c.outage.restarted_at.is_none())
        {
            open.outage.restarted_at = Some(at);
        }
    }

    /// Every client was started anew at `at` (another MQTT version, session mode or number of
    /// instances): every open outage closes, as a restart for an instance still `running`,
    /// and as [`Outage::removed`] for one no longer run.
    pub fn restarted_all(&mut self, at: Duration, running: impl Fn(Instance) -> bool) {
        for open in self
            .entries
            .iter_mut()
            .filter(|c| c.outage.restarted_at.is_none())
        {
            open.outage.restarted_at = Some(at);
            open.outage.removed = !running(open.outage.instance);
        }
        let services: std::collections::BTreeSet<_> = self
            .entries
            .iter()
            .map(|c| c.outage.instance.service)
            .collect();
        for service in services {
            self.recount(service);
        }
    }

    /// Takes in what a service did at `at`, read back from a trace's service events: a crash
    /// opens an outage of its first instance (its topics those of `style`) with the work it
    /// had in hand, a restart closes the service's open ones, work started and done is
    /// followed; the rest changes nothing.
    fn service_event(
        &mut self,
        at: Duration,
        service: crate::services::ServiceId,
        event: &ServiceEvent,
        style: SagaStyle,
    ) {
        match event {
            ServiceEvent::WorkStarted { order_id, .. } => self.in_hand.push((service, *order_id)),
            ServiceEvent::WorkDone { order_id } | ServiceEvent::WorkLost { order_id } => {
                if let Some(at) = self.in_hand.iter().position(|w| *w == (service, *order_id)) {
                    self.in_hand.remove(at);
                }
            }
            ServiceEvent::Crashed => {
                let before = self.in_hand.len();
                self.in_hand.retain(|(s, _)| *s != service);
                let lost = before - self.in_hand.len();
                self.crashed(at, service.into(), style, lost);
            }
            ServiceEvent::Restarted { .. } => {
                for open in self.entries.iter_mut().filter(|c| {
                    c.outage.instance.service == service && c.outage.restarted_at.is_none()
                }) {
                    open.outage.restarted_at = Some(at);
                }
            }
            _ => {}
        }
    }

    /// Takes in a packet just recorded: counted as missed by each instance down when it was
    /// published on a topic it subscribes to, as published again when a copy of a missed
    /// message goes out after its restart, as taken when another instance of its service
    /// receives it, or as caught up when a restarted instance receives what it missed (beyond
    /// the copies published again). A retransmission (DUP) is the same message, not a copy.
    pub fn packet(&mut self, packet: &super::packet::TracedPacket) {
        let Some(instance) = instance_of(packet) else {
            return;
        };
        if self.entries.is_empty() {
            return;
        }
        // A restarted client accepted again: what it missed may come from now on.
        if let (Direction::Incoming, broker_bridge::packet::Packet::ConnAck(ack)) =
            (packet.direction, packet.packet.as_ref())
        {
            if !ack.code.is_error() {
                let mut accepted = false;
                for counted in &mut self.entries {
                    let outage = &mut counted.outage;
                    if outage.instance == instance
                        && outage.reconnected.is_none()
                        && outage.restarted_at.is_some_and(|at| packet.at >= at)
                    {
                        outage.reconnected = Some((packet.at, ack.session_present));
                        counted.resubscribed |= ack.session_present;
                        accepted = true;
                    }
                }
                // Whether it kept its session decides what the group lost
                // ([`Outage::group_lost`]).
                if accepted {
                    self.recount(instance.service);
                }
            }
            return;
        }
        // The restarted client subscribed again: from now on what is published reaches it.
        if let (Direction::Incoming, broker_bridge::packet::Packet::SubAck(_)) =
            (packet.direction, packet.packet.as_ref())
        {
            for counted in &mut self.entries {
                if counted.outage.instance == instance && counted.outage.reconnected.is_some() {
                    counted.resubscribed = true;
                }
            }
            return;
        }
        let Some(id) = identity(packet) else {
            return;
        };
        let retransmitted = matches!(
            packet.packet.as_ref(),
            broker_bridge::packet::Packet::Publish(publish) if publish.dup
        );
        let mut touched = Vec::new();
        for counted in &mut self.entries {
            let outage = &counted.outage;
            let outage_service = outage.instance.service;
            let after_restart = outage
                .restarted_at
                .is_some_and(|restart| packet.at >= restart);
            // Restarted, not subscribed again yet: a message new to it goes where the ones
            // published while it was down went (a kept session, or nowhere).
            let unsubscribed = after_restart && !counted.resubscribed && !outage.removed;
            let copies = match packet.direction {
                // Subscribed again: a copy of a message it missed is a new message to it.
                // Before that (its SUBACK, or a CONNACK with its session), a copy goes where
                // the ones published while it was down went, and is counted with them (38-Y
                // F2: a copy published between *Restart* and the reconnection was called
                // "published again after the restart" though the broker never delivered it).
                Direction::Outgoing if after_restart && !unsubscribed => {
                    if retransmitted || instance.service == outage.instance.service {
                        continue;
                    }
                    match counted.missed.get_mut(&id) {
                        Some(copies) => &mut copies.again,
                        None => continue,
                    }
                }
                Direction::Outgoing => {
                    let wanted = packet.topic.as_deref().is_some_and(|topic| {
                        counted
                            .wanted
                            .iter()
                            .any(|filter| broker_bridge::topic::matches(filter, topic))
                    });
                    if retransmitted
                        || (outage.restarted_at.is_some() && !unsubscribed)
                        || instance.service == outage.instance.service
                        || packet.at < outage.crashed_at
                        || !wanted
                    {
                        continue;
                    }
                    &mut counted.missed.entry(id.clone()).or_default().down
                }
                Direction::Incoming if instance == outage.instance => {
                    // Past its verdict (a broker met again later sent what it had kept): late,
                    // not caught up (a newcomer's break-test, 34-I F1: "10 lost" turned into
                    // "10 caught up on restart" 14 s later, for orders long cancelled).
                    let late = outage.settled(packet.at) && outage.caught_up < outage.missed;
                    match counted.missed.get_mut(&id) {
                        Some(copies) if after_restart && late => &mut copies.late,
                        Some(copies) if after_restart => &mut copies.received,
                        _ => continue,
                    }
                }
                Direction::Incoming => {
                    if instance.service != outage.instance.service {
                        continue;
                    }
                    // After the restart, a copy published again goes first; past those, a
                    // copy published before the restarted client subscribed again (counted
                    // as published while it was down) was taken by the group.
                    match counted.missed.get_mut(&id) {
                        Some(copies) if after_restart && copies.taken_again < copies.again => {
                            &mut copies.taken_again
                        }
                        Some(copies) => &mut copies.taken,
                        None => continue,
                    }
                }
            };
            *copies += 1;
            if !touched.contains(&outage_service) {
                touched.push(outage_service);
            }
        }
        for service in touched {
            self.recount(service);
        }
    }

    /// Counts afresh the outages of `service`'s instances, each beside the others'
    /// ([`Counted::tally`]).
    fn recount(&mut self, service: crate::services::ServiceId) {
        let tallies: Vec<(usize, Tally, bool)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, c)| c.outage.instance.service == service)
            .map(|(i, c)| {
                let rivals: Vec<&Counted> = self
                    .entries
                    .iter()
                    .filter(|r| {
                        r.outage.instance.service == service
                            && r.outage.instance != c.outage.instance
                    })
                    .collect();
                let tally = c.tally(&rivals);
                let gone = tally.shared_gone(&rivals);
                (i, tally, gone)
            })
            .collect();
        for (i, tally, gone) in tallies {
            let outage = &mut self.entries[i].outage;
            outage.published = tally.published;
            outage.missed = tally.missed;
            outage.shared = tally.shared;
            outage.caught_up = tally.caught_up;
            outage.late = tally.late;
            outage.published_again = tally.published_again;
            outage.shared_with = tally.shared_with.into_iter().collect();
            outage.shared_gone = gone;
            outage.group_lost = tally.group_lost;
            outage.group_lost_by = tally.group_lost_by;
        }
    }

    /// Whether `instance` is crashed now: an outage of it is open (not restarted).
    pub fn is_down(&self, instance: Instance) -> bool {
        self.entries
            .iter()
            .any(|c| c.outage.instance == instance && c.outage.restarted_at.is_none())
    }

    /// How `instance` stands after its crashes, for an order row's compensation note
    /// ([`super::orders::ParticipantDown`]): crashed now (its session kept unless
    /// `clean_session`, the page's session setting), or back from its last crash without its
    /// session (its broker answered Session Present 0; from the CONNACK's time), or neither.
    pub fn participant_down(
        &self,
        instance: Instance,
        clean_session: bool,
    ) -> super::orders::ParticipantDown {
        use super::orders::ParticipantDown;
        let last = self
            .entries
            .iter()
            .rev()
            .find(|c| c.outage.instance == instance);
        match last.map(|c| (&c.outage.restarted_at, &c.outage.reconnected)) {
            Some((None, _)) => ParticipantDown::Crashed {
                kept: !clean_session,
            },
            Some((Some(_), Some((since, false)))) => {
                ParticipantDown::BackWithoutSession { since: *since }
            }
            _ => ParticipantDown::No,
        }
    }

    /// Every crash counted, oldest first.
    pub fn outages(&self) -> Vec<Outage> {
        self.entries.iter().map(|c| c.outage.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every crash (the trace was cleared).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.in_hand.clear();
    }
}

/// Every crash, oldest first: those a live page counted as they happened ([`OutageLedger`]),
/// or, for a trace that counted none (a recording), those it holds, read back under the saga
/// `style` (it decides the topics each service subscribes to).
///
/// A recording played back is read only as far as the playback has gone
/// ([`Trace::playback`]'s shown packets and view time, as the badges are): a crash not reached
/// yet is not listed, one reached but not yet restarted reads as still down. A newcomer's
/// break-test: paused at packet 20 of 216, the line already told a crash near packet 120 and
/// what its restart caught up.
pub fn outages(trace: &Trace, style: SagaStyle) -> Vec<Outage> {
    if !trace.outage_ledger.is_empty() {
        return trace.outage_ledger.outages();
    }
    // Read back: the service events and packets the trace holds, replayed in time order
    // through a ledger of its own (a service event first when both happened at the same time).
    let mut ledger = OutageLedger {
        capacity: usize::MAX,
        ..OutageLedger::default()
    };
    let shown = trace.playback.shown();
    if let Some(outages) = read_back_clicks(trace, style, shown, &mut ledger) {
        return outages;
    }
    let mut packets = trace
        .packets
        .iter()
        .filter(|p| shown.is_none_or(|s| s.packet(p.seq)))
        .peekable();
    let events = trace
        .services
        .events()
        .take_while(|(at, ..)| shown.is_none_or(|s| *at <= s.until));
    for (at, service, event) in events {
        while let Some(packet) = packets.next_if(|p| p.at < at) {
            ledger.packet(packet);
        }
        ledger.service_event(
            at,
            service,
            event,
            super::history::style_at(&trace.actions, style, at),
        );
    }
    for packet in packets {
        ledger.packet(packet);
    }
    ledger.outages()
}

/// Each instance's work in hand as its packets tell it, for [`read_back_clicks`].
#[derive(Default)]
struct InHand(Vec<(Instance, uuid::Uuid)>);

impl InHand {
    fn packet(&mut self, packet: &super::packet::TracedPacket, style: SagaStyle) {
        let (Some(order_id), PacketKind::Publish) = (packet.order_id, packet.kind) else {
            return;
        };
        let Some(instance) = instance_of(packet) else {
            return;
        };
        let key = (instance, order_id);
        match packet.direction {
            Direction::Incoming => {
                let starts = packet.message.as_deref().is_some_and(|m| {
                    super::service_status::starts_work(instance.service, m, style)
                });
                if starts && !self.0.contains(&key) {
                    self.0.push(key);
                }
            }
            Direction::Outgoing => self.0.retain(|w| *w != key),
        }
    }

    fn click(
        &mut self,
        ledger: &mut OutageLedger,
        style: SagaStyle,
        (at, instance, crashed): (Duration, Instance, bool),
    ) {
        if crashed {
            let before = self.0.len();
            self.0.retain(|(i, _)| *i != instance);
            ledger.crashed(at, instance, style, before - self.0.len());
        } else {
            ledger.restarted(at, instance);
        }
    }
}

/// [`outages`] read back from the trace's clicks (a recording holds each *Crash* and *Restart*
/// with the instance clicked), when it holds any: each instance's crash as it was, also one of
/// PaymentService's instances while the others ran, which no service event records (a
/// teacher's break-test: a recording made with two instances replayed with no crash line at
/// all). The work each instance had in hand is read off its packets: a message that starts
/// work ([`super::service_status::starts_work`]) until the instance publishes for that order.
/// `None` when the trace holds no click of a crash or restart.
fn read_back_clicks(
    trace: &Trace,
    style: SagaStyle,
    shown: Option<super::playback::Shown>,
    ledger: &mut OutageLedger,
) -> Option<Vec<Outage>> {
    use super::history::UserAction;
    let mut clicks: Vec<(Duration, Instance, bool)> = trace
        .actions
        .iter()
        .filter_map(|action| match *action {
            UserAction::Crashed { at, instance } => Some((at, instance, true)),
            UserAction::Restarted { at, instance } => Some((at, instance, false)),
            UserAction::PlacedOrder { .. } | UserAction::StyleChanged { .. } => None,
        })
        .collect();
    if clicks.is_empty() {
        return None;
    }
    clicks.retain(|(at, ..)| shown.is_none_or(|s| *at <= s.until));
    crate::stable_sort::by_key(&mut clicks, |(at, ..)| *at);
    let mut clicks = clicks.into_iter().peekable();
    let mut work = InHand::default();
    let packets = trace
        .packets
        .iter()
        .filter(|p| shown.is_none_or(|s| s.packet(p.seq)));
    // The style each moment ran under: a recording may hold a change of style.
    let style_at = |at| super::history::style_at(&trace.actions, style, at);
    for packet in packets {
        while let Some(next) = clicks.next_if(|(at, ..)| *at <= packet.at) {
            work.click(ledger, style_at(next.0), next);
        }
        work.packet(packet, style_at(packet.at));
        ledger.packet(packet);
    }
    for next in clicks {
        work.click(ledger, style_at(next.0), next);
    }
    Some(ledger.outages())
}

#[cfg(test)]
mod tests {
    use broker_bridge::{ProtocolVersion, QoS};

    use super::*;
    use crate::services::ServiceId;
    use crate::trace::script::{order, Script};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Records order `n`'s `orders/created` as `instance` sent or received it, one ms after
    /// `now` (advanced); returns that time.
    fn send_order(
        trace: &mut Trace,
        now: &mut u64,
        instance: Instance,
        direction: Direction,
        n: u128,
    ) -> Duration {
        use crate::domain::topics::ORDERS_CREATED;
        use crate::trace::script::{event_for, payload};
        use broker_bridge::packet::{Packet, Publish};
        *now += 1;
        let body = payload(ORDERS_CREATED, order(n)).into_bytes();
        let publish = Publish::new(ORDERS_CREATED, body, QoS::AtMostOnce);
        let mut event = event_for(
            instance.service,
            *now,
            direction,
            Packet::Publish(publish),
            ProtocolVersion::V311,
        );
        event.client_id = instance.client_id("a1b2c3");
        trace.record(instance.service, &event);
        ms(*now)
    }

    /// Records `publish` as `service` sent or received it at `at_ms`; returns that time.
    fn record_publish(
        trace: &mut Trace,
        service: ServiceId,
        at_ms: u64,
        direction: broker_bridge::Direction,
        publish: broker_bridge::packet::Publish,
    ) -> Duration {
        use broker_bridge::packet::Packet;
        let event = crate::trace::script::event_for(
            service,
            at_ms,
            direction,
            Packet::Publish(publish),
            ProtocolVersion::V311,
        );
        trace.record(service, &event);
        ms(at_ms)
    }

    /// PaymentService crashes, two orders go out, it restarts, and (if `catch_up`) receives
    /// them.
    fn crash_and_restart(catch_up: bool) -> Trace {
        crash_and_restart_after(catch_up, Vec::new())
    }

    /// [`crash_and_restart`], PaymentService's `before` events recorded just before its crash.
    fn crash_and_restart_after(catch_up: bool, before: Vec<ServiceEvent>) -> Trace {
        crash_and_restart_with(before, |script| {
            // Its broker accepts it again at once, with the session it kept.
            accept_payment(script, true);
            if catch_up {
                deliver_both_to_payment(script);
            }
        })
    }

    /// PaymentService crashes (its `before` events recorded just before), two orders go out,
    /// it restarts, and `after` writes what follows the restart.
    fn crash_and_restart_with(before: Vec<ServiceEvent>, after: impl FnOnce(&mut Script)) -> Trace {
        let mut script = Script::new(ProtocolVersion::V311);
        script.connect_all();
        let mut trace_events: Vec<_> = before.into_iter().map(|e| (script.now(), e)).collect();
        trace_events.push((script.now() + ms(1), ServiceEvent::Crashed));
        script.wait(10);
        for n in [1, 2] {
            script.publish(
                ServiceId::Order,
                Direction::Outgoing,
                crate::domain::topics::ORDERS_CREATED,
                order(n),
                QoS::AtLeastOnce,
            );
        }
        script.wait(10);
        trace_events.push((script.now(), ServiceEvent::Restarted { url: String::new() }));
        after(&mut script);
        let mut trace = Trace::new(script.history, script.actions);
        for (at, event) in trace_events {
            trace.services.record(at, ServiceId::Payment, event);
        }
        trace
    }

    /// PaymentService's broker accepts it, saying whether it kept its session.
    fn accept_payment(script: &mut Script, present: bool) {
        script.send(
            ServiceId::Payment,
            Direction::Incoming,
            broker_bridge::packet::Packet::ConnAck(broker_bridge::packet::ConnAck::new(
                present,
                broker_bridge::packet::ReasonCode::Success,
            )),
        );
    }

    /// The two orders of [`crash_and_restart_with`] reach PaymentService.
    fn deliver_both_to_payment(script: &mut Script) {
        for n in [1, 2] {
            script.publish(
                ServiceId::Payment,
                Direction::Incoming,
                crate::domain::topics::ORDERS_CREATED,
                order(n),
                QoS::AtLeastOnce,
            );
        }
    }

    #[test]
    fn a_persistent_session_catches_up_and_a_clean_one_loses() {
        let caught = outages(&crash_and_restart(true), SagaStyle::Parallel);
        assert_eq!(caught.len(), 1);
        let o = &caught[0];
        assert_eq!(
            (o.instance, o.published, o.missed, o.caught_up, o.lost()),
            (ServiceId::Payment.into(), 2, 2, 2, 0)
        );
        assert!(
            o.describe()
                .contains("2 messages published for it meanwhile; 2 caught up on restart, 0 lost"),
            "{}",
            o.describe()
        );

        let lost = outages(&crash_and_restart(false), SagaStyle::Parallel);
        assert_eq!(
            (lost[0].missed, lost[0].caught_up, lost[0].lost()),
            (2, 0, 2)
        );
    }

    // A newcomer's break-test: between the restart and the catch-up (live for a moment; in a
    // replay paused there, for good) the line said "0 caught up on restart, 3 lost", the
    // opposite of the persistent session's lesson.
    #[test]
    fn what_is_not_caught_up_yet_is_not_lost_until_the_grace_after_the_restart() {
        let lost = &outages(&crash_and_restart(false), SagaStyle::Parallel)[0];
        let (restarted, resumed) = lost.reconnected.unwrap();
        assert!(resumed);
        let early = restarted + ms(500);
        assert!(!lost.settled(early));
        assert_eq!(lost.lost_at(early), 0);
        assert_eq!(lost.settles_at(early), Some(restarted + CATCH_UP_GRACE));
        let text = lost.describe_at(early);
        assert!(
            text.contains("0 caught up on restart so far, 2 not delivered yet"),
            "{text}"
        );
        assert!(!text.contains("lost"), "{text}");
        assert!(text.contains("at QoS 0 none will come"), "{text}");
        let late = restarted + CATCH_UP_GRACE;
        assert!(lost.settled(late));
        assert_eq!(lost.lost_at(late), 2);
        assert_eq!(lost.describe_at(late), lost.describe());
        assert!(lost
            .describe_at(late)
            .contains("0 caught up on restart, 2 lost"));
        // Caught up in full: settled at once.
        let caught = &outages(&crash_and_restart(true), SagaStyle::Parallel)[0];
        assert!(caught.settled(caught.restarted_at.unwrap()));
        assert_eq!(caught.settles_at(caught.restarted_at.unwrap()), None);
    }

    // Newcomers' break-tests: Restart pressed while the broker was down said "2 lost" 3 s
    // later, then "2 caught up" once the broker was back (33-G2 F1); and under a clean session
    // the line said "not delivered yet (a broker that kept its session sends them …)" though
    // its broker had said it kept none (33-G F2).
    #[test]
    fn the_grace_counts_from_the_reconnection_and_a_session_not_kept_settles_at_once() {
        let lost = &outages(&crash_and_restart(false), SagaStyle::Parallel)[0];
        let restarted = lost.restarted_at.unwrap();
        let waiting = Outage {
            reconnected: None,
            ..lost.clone()
        };
        let much_later = restarted + ms(60_000);
        assert!(!waiting.settled(much_later));
        assert_eq!(waiting.lost_at(much_later), 0);
        assert_eq!(waiting.settles_at(much_later), None);
        let text = waiting.describe_at(much_later);
        assert!(
            text.contains(
                "2 not delivered yet (it has not connected to the broker again yet; a broker \
                 that kept its session sends them once it has)"
            ),
            "{text}"
        );
        let fresh = Outage {
            reconnected: Some((restarted + ms(9_000), false)),
            ..lost.clone()
        };
        assert!(fresh.settled(restarted + ms(9_000)));
        assert_eq!(fresh.lost_at(restarted + ms(9_000)), 2);
    }

    // A newcomer's break-test (34-I F1): PaymentService restarted on the in-page broker
    // (Session Present 0: the line says both lost at once), then the page went back to the
    // Mosquitto that had kept its session, which sent both 14 s later. The line turned into
    // "2 caught up on restart, 0 lost", for orders long cancelled.
    #[test]
    fn what_comes_after_the_line_settled_is_late_not_caught_up() {
        let trace = crash_and_restart_with(Vec::new(), |script| {
            accept_payment(script, false);
            script.wait(14_000);
            accept_payment(script, true);
            deliver_both_to_payment(script);
        });
        let o = &outages(&trace, SagaStyle::Parallel)[0];
        assert_eq!((o.missed, o.caught_up, o.lost(), o.late), (2, 0, 2, 2));
        let text = o.describe();
        assert!(text.contains("0 caught up on restart, 2 lost. 2 of those lost came later, from a broker that had kept them"), "{text}");
    }

    // Left by break-test 32-F: a recording that ends within the grace after a restart was
    // played to its end, and its line still said "not delivered yet", as if more could come.
    #[test]
    fn a_recording_that_ends_before_the_line_settles_says_it_ends_there() {
        let lost = &outages(&crash_and_restart(false), SagaStyle::Parallel)[0];
        let (restarted, _) = lost.reconnected.unwrap();
        let end = restarted + ms(1_200);
        let text = lost.describe_at_end(end);
        assert!(
            text.contains(
                "0 caught up on restart, 2 not delivered before the recording ends (1.2 s after \
                 it connected again, within the 3 s a catch-up is awaited): whether they came \
                 later, it does not show."
            ),
            "{text}"
        );
        assert!(!text.contains("yet") && !text.contains("lost"), "{text}");
        // Settled by the end: the line as it reads live.
        let late = restarted + CATCH_UP_GRACE;
        assert_eq!(lost.describe_at_end(late), lost.describe());
        let caught = &outages(&crash_and_restart(true), SagaStyle::Parallel)[0];
        assert_eq!(
            caught.describe_at_end(caught.restarted_at.unwrap()),
            caught.describe()
        );
    }

    // A newcomer's break-test: a crash with an order in hand said "0 lost" and nothing else,
    // though the order's work never finished (its message was acknowledged on arrival).
    #[test]
    fn the_work_in_hand_at_the_crash_is_said_lost_live_and_read_back() {
        use crate::trace::history::{ActionLog, PacketHistory};
        let mut live = Trace::new(PacketHistory::new(8), ActionLog::new(8));
        live.record_crash(ms(0), ServiceId::Payment.into(), 1);
        assert!(
            outages(&live, SagaStyle::Parallel)[0].describe().ends_with(
                "is down: 0 messages published for it so far. Its work in hand for 1 \
                            order died with it (acknowledged when its message arrived, so the \
                            broker does not send it again)."
            ),
            "{}",
            outages(&live, SagaStyle::Parallel)[0].describe()
        );
        live.record_restart(ms(1000), ServiceId::Payment.into());
        let o = &outages(&live, SagaStyle::Parallel)[0];
        assert_eq!((o.work_lost, o.lost()), (1, 0));
        assert!(o
            .describe()
            .contains("0 lost. Its work in hand for 1 order died"));

        // QueryService's work in hand is the events held for its projection delay.
        let mut query = Trace::new(PacketHistory::new(8), ActionLog::new(8));
        query.record_crash(ms(0), ServiceId::Query.into(), 4);
        let said = outages(&query, SagaStyle::Parallel)[0].describe();
        assert!(
            said.ends_with(
                "The 4 events of the store it held for its projection delay died with it \
                 (acknowledged when they arrived, so the broker does not send them again): \
                 Rebuild projects them from the event store."
            ),
            "{said}"
        );

        // Read back from a recording: two orders started, one done, then the crash.
        let (a, b) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        let started = |order_id| ServiceEvent::WorkStarted {
            order_id,
            due: ms(9),
        };
        let trace = crash_and_restart_after(
            true,
            vec![
                started(a),
                started(b),
                ServiceEvent::WorkDone { order_id: a },
            ],
        );
        let read_back = outages(&trace, SagaStyle::Parallel);
        assert_eq!(read_back[0].work_lost, 1, "{read_back:?}");
        let none = crash_and_restart_after(
            true,
            vec![started(a), ServiceEvent::WorkDone { order_id: a }],
        );
        let o = &outages(&none, SagaStyle::Parallel)[0];
        assert_eq!(o.work_lost, 0);
        assert!(o.describe().ends_with("0 lost."), "{}", o.describe());
    }

    // A newcomer's break-test: a recording paused at packet 20 of 216 already said what a crash
    // near packet 120 had cost, and what its restart caught up.
    #[test]
    fn a_recording_played_back_tells_a_crash_only_once_the_playback_reaches_it() {
        use crate::trace::history::{ActionLog, PacketHistory};
        let recorded = crash_and_restart(true);
        let crash_at = recorded
            .services
            .events()
            .find(|(_, _, e)| matches!(e, ServiceEvent::Crashed))
            .map(|(at, ..)| at)
            .unwrap();
        let mut view = Trace::new(PacketHistory::new(8), ActionLog::new(8));
        view.replay(recorded, ms(0));
        let mut seen = Vec::new();
        // One packet more at a time, as the playback bar's Step does.
        while view.step(ms(0)).is_some() {
            let until = view.playback.shown().unwrap().until;
            let list = outages(&view, SagaStyle::Parallel);
            seen.push((
                until,
                list.first()
                    .map(|o| (o.restarted_at.is_some(), o.caught_up)),
            ));
        }
        for (until, outage) in &seen {
            if *until < crash_at {
                assert_eq!(*outage, None, "before the crash at {until:?}: {seen:?}");
            }
        }
        // Down for a while (the orders published meanwhile shown), then back and caught up.
        assert!(seen.iter().any(|(_, o)| *o == Some((false, 0))), "{seen:?}");
        assert_eq!(seen.last().unwrap().1, Some((true, 2)), "{seen:?}");
        assert!(seen.first().unwrap().1.is_none(), "{seen:?}");
    }

    #[test]
    fn only_topics_the_service_subscribes_to_count() {
        // Under orchestration PaymentService listens to commands, not to orders/created.
        let o = &outages(&crash_and_restart(true), SagaStyle::Orchestration)[0];
        assert_eq!((o.missed, o.caught_up), (0, 0));
    }

    #[test]
    fn while_down_nothing_is_lost_yet() {
        let mut trace = crash_and_restart(false);
        // Forget the restart: the service is still down.
        let events: Vec<(Duration, ServiceId, ServiceEvent)> = trace
            .services
            .events()
            .filter(|(_, _, e)| !matches!(e, ServiceEvent::Restarted { .. }))
            .map(|(at, s, e)| (at, s, e.clone()))
            .collect();
        trace.services = super::super::service_status::ServiceLog::new(100);
        for (at, service, event) in events {
            trace.services.record(at, service, event);
        }
        let o = &outages(&trace, SagaStyle::Parallel)[0];
        assert_eq!((o.restarted_at, o.missed, o.lost()), (None, 2, 0));
        assert!(
            o.describe()
                .starts_with("PaymentService is down: 2 messages"),
            "{}",
            o.describe()
        );
    }

    #[test]
    fn a_live_page_counts_an_outage_longer_than_the_history_holds() {
        use crate::domain::topics::ORDERS_CREATED;
        use crate::trace::history::{ActionLog, PacketHistory};
        use crate::trace::script::payload;
        use broker_bridge::packet::Publish;

        // Room for four packets, and twenty go by: the history keeps the restart's last four.
        let mut trace = Trace::new(PacketHistory::new(4), ActionLog::new(4));
        let mut now = 0;
        let mut send = |trace: &mut Trace, service, direction, n: u128| {
            now += 1;
            let body = payload(ORDERS_CREATED, order(n)).into_bytes();
            let publish = Publish::new(ORDERS_CREATED, body, QoS::AtMostOnce);
            record_publish(trace, service, now, direction, publish)
        };
        trace.record_crash(ms(0), ServiceId::Payment.into(), 0);
        let mut last = ms(0);
        for n in 1..=10 {
            last = send(&mut trace, ServiceId::Order, Direction::Outgoing, n);
        }
        trace.record_restart(last, ServiceId::Payment.into());
        // Eight of the ten come back: two were lost.
        for n in 1..=8 {
            send(&mut trace, ServiceId::Payment, Direction::Incoming, n);
        }
        assert!(trace.packets.dropped() > 0, "the history dropped packets");
        let o = &outages(&trace, SagaStyle::Parallel)[0];
        assert_eq!((o.missed, o.caught_up, o.lost()), (10, 8, 2));

        trace.clear(ms(100));
        assert_eq!(
            outages(&trace, SagaStyle::Parallel),
            vec![],
            "Clear forgets them"
        );
    }

    #[test]
    fn a_crashed_instance_is_owed_only_what_no_other_instance_of_its_group_received() {
        let second = Instance::new(ServiceId::Payment, 2);
        let mut trace = Trace::default();
        let mut now = 0;
        let mut send = |trace: &mut Trace, instance: Instance, direction, n: u128| {
            send_order(trace, &mut now, instance, direction, n)
        };
        // PaymentService 2 crashes; PaymentService (its first instance) runs on.
        trace.record_crash(ms(0), second, 0);
        for n in 1..=4 {
            send(&mut trace, ServiceId::Order.into(), Direction::Outgoing, n);
        }
        // The group's running member takes orders 1 and 3; 2 and 4 are the crashed one's share.
        for n in [1, 3] {
            send(
                &mut trace,
                ServiceId::Payment.into(),
                Direction::Incoming,
                n,
            );
        }
        let o = &outages(&trace, SagaStyle::Parallel)[0];
        assert_eq!((o.instance, o.published, o.missed), (second, 4, 2));
        assert!(
            o.describe()
                .starts_with("PaymentService 2 is down: 2 of the 4 published"),
            "{}",
            o.describe()
        );
        // Restarted, it gets order 2 from its queue; order 4 never comes.
        let at = send(&mut trace, ServiceId::Order.into(), Direction::Incoming, 99);
        trace.record_restart(at, second);
        send(&mut trace, second, Direction::Incoming, 2);
        let o = &outages(&trace, SagaStyle::Parallel)[0];
        assert_eq!((o.published, o.missed, o.caught_up, o.lost()), (4, 2, 1, 1));
        assert!(
            o.describe().contains(
                "2 of the 4 published on its shared subscriptions were its share (the rest \
                 were the other instances') meanwhile; 1 caught up on restart, 1 lost."
            ),
            "{}",
            o.describe()
        );
        assert!(o.describe().starts_with("PaymentService 2 was down "));

        // Crashed again, then the instances lowered to one while it is down: not a restart (a
        // newcomer's break-test read "0 caught up on restart" for an instance never run again).
        trace.record_crash(ms(8), second, 0);
        for n in 5..=6 {
            send(&mut trace, ServiceId::Order.into(), Direction::Outgoing, n);
        }
        trace.record_restart_all(ms(2108), &[ServiceId::Payment.into()]);
        let o = &outages(&trace, SagaStyle::Parallel)[1];
        assert!(o.removed);
        assert_eq!((o.missed, o.caught_up, o.lost()), (2, 0, 2));
        assert_eq!(
            o.describe(),
            "PaymentService 2 was down 2.1 s, then no longer run (the page ended its session, and \
             what the broker had queued for it went with it): 2 messages published for it \
             meanwhile; 2 lost."
        );
    }

    /// A newcomer's break-test: three instances, PaymentService 2 and 3 crashed, ten orders,
    /// then the instances lowered to one. Each line read "8 of the 14 … were its share … 8
    /// lost": 16 of 14, and 16 lost where 8 were. A message no running instance took, while
    /// two were down, is counted as shared by both, owed and lost by neither alone.
    /// A teacher's break-test: a recording made with two PaymentService instances, the second
    /// crashed while the first ran, replayed with no crash line at all (no service event
    /// records an instance's crash while its service runs). Read back from the clicks, it says
    /// what the live page said, the work it had in hand included.
    #[test]
    fn an_instance_s_crash_reads_back_from_a_recording_as_it_was_live() {
        use crate::trace::history::UserAction;
        let second = Instance::new(ServiceId::Payment, 2);
        let mut live = Trace::default();
        let mut now = 0;
        // PaymentService 2 has order 1 in hand when it crashes.
        send_order(
            &mut live,
            &mut now,
            ServiceId::Order.into(),
            Direction::Outgoing,
            1,
        );
        send_order(&mut live, &mut now, second, Direction::Incoming, 1);
        now += 1;
        let crash = ms(now);
        live.record_crash(crash, second, 1);
        live.actions.push(UserAction::Crashed {
            at: crash,
            instance: second,
        });
        for n in 2..=5 {
            send_order(
                &mut live,
                &mut now,
                ServiceId::Order.into(),
                Direction::Outgoing,
                n,
            );
        }
        // The running instance takes 2 and 4; 3 and 5 were PaymentService 2's share.
        for n in [2, 4] {
            send_order(
                &mut live,
                &mut now,
                ServiceId::Payment.into(),
                Direction::Incoming,
                n,
            );
        }
        now += 1;
        live.record_restart(ms(now), second);
        live.actions.push(UserAction::Restarted {
            at: ms(now),
            instance: second,
        });
        for n in [3, 5] {
            send_order(&mut live, &mut now, second, Direction::Incoming, n);
        }
        let said = outages(&live, SagaStyle::Parallel);
        let recorded = Trace::new(live.packets.clone(), live.actions.clone());
        let read_back = outages(&recorded, SagaStyle::Parallel);
        assert_eq!(read_back.len(), 1, "{read_back:?}");
        assert_eq!(read_back[0].instance, second);
        assert_eq!(read_back[0].work_lost, 1);
        assert_eq!(read_back[0].describe(), said[0].describe());
        assert!(
            said[0]
                .describe()
                .contains("2 of the 4 published on its shared subscriptions"),
            "{}",
            said[0].describe()
        );
    }

    #[test]
    fn two_instances_down_at_once_share_what_no_running_instance_took() {
        let (second, third) = (
            Instance::new(ServiceId::Payment, 2),
            Instance::new(ServiceId::Payment, 3),
        );
        let run = |third_restarts: bool, lowered: bool| {
            let mut trace = Trace::default();
            let mut now = 0;
            let mut send = |trace: &mut Trace, instance: Instance, direction, n: u128| {
                send_order(trace, &mut now, instance, direction, n)
            };
            trace.record_crash(ms(0), second, 0);
            trace.record_crash(ms(0), third, 0);
            for n in 1..=6 {
                send(&mut trace, ServiceId::Order.into(), Direction::Outgoing, n);
            }
            // The running instance takes orders 1 and 2; 3 to 6 went to the crashed two.
            for n in [1, 2] {
                send(
                    &mut trace,
                    ServiceId::Payment.into(),
                    Direction::Incoming,
                    n,
                );
            }
            if third_restarts {
                // PaymentService 3 restarts and gets orders 3 and 5 from its queue.
                let at = send(&mut trace, ServiceId::Order.into(), Direction::Incoming, 99);
                trace.record_restart(at, third);
                for n in [3, 5] {
                    send(&mut trace, third, Direction::Incoming, n);
                }
            }
            if lowered {
                trace.record_restart_all(ms(1500), &[ServiceId::Payment.into()]);
            }
            outages(&trace, SagaStyle::Parallel)
        };

        let both_removed = run(false, true);
        for (o, other) in [(&both_removed[0], third), (&both_removed[1], second)] {
            assert!(o.removed);
            assert_eq!(
                (
                    o.published,
                    o.missed,
                    o.shared,
                    o.lost(),
                    o.shared_with.clone()
                ),
                (6, 0, 4, 0, vec![other])
            );
        }
        let text = both_removed[0].describe();
        assert_eq!(
            text,
            "PaymentService 2 was down 1.5 s, then no longer run (the page ended its session, and \
             what the broker had queued for it went with it): 0 of the 6 published on its shared \
             subscriptions were its share, 4 its share or PaymentService 3's (down at the same \
             time: the broker does not say whose), and 2 the running instances' meanwhile; 0 \
             lost. The 4 its share or PaymentService 3's were lost: no instance they \
             could go to runs now."
        );

        // PaymentService 3 got two of the four back: those were its share, the other two
        // PaymentService 2's or lost with a clean session of 3's; neither counts them twice.
        let one_back = run(true, true);
        let (o2, o3) = (&one_back[0], &one_back[1]);
        assert!(o2.removed && !o3.removed);
        assert_eq!(
            (o2.missed, o2.shared, o2.lost()),
            (0, 2, 0),
            "{}",
            o2.describe()
        );
        assert_eq!(
            (o3.missed, o3.caught_up, o3.shared, o3.lost()),
            (2, 2, 2, 0),
            "{}",
            o3.describe()
        );
        assert!(
            o3.describe().contains(
                "0 lost. The 2 its share or PaymentService 2's did not reach it: lost, whether \
                 they were its own (not queued: a clean session, or QoS 0) or PaymentService \
                 2's, no longer run."
            ),
            "{}",
            o3.describe()
        );
        // The same before the instances are lowered: PaymentService 2 is still down.
        let still_down = run(true, false);
        let (o2, o3) = (&still_down[0], &still_down[1]);
        assert_eq!(
            o2.describe(),
            "PaymentService 2 is down: 0 of the 6 published on its shared subscriptions were its \
             share, 2 its share or PaymentService 3's (down at the same time: the broker does not \
             say whose), and 4 the running instances' so far."
        );
        assert!(
            o3.describe().contains(
                "The 2 its share or PaymentService 2's did not reach it: those that were \
                 PaymentService 2's come to PaymentService 2 on restart if the broker queued them \
                 (a persistent session at QoS 1 or 2); the rest are lost."
            ),
            "{}",
            o3.describe()
        );
    }

    /// A newcomer's break-test (35-N F1): every PaymentService instance crashed under clean
    /// sessions, an order went out, all three restarted and each broker said Session Present 0.
    /// Each line said "0 lost", and "come to … on restart if the broker queued them": the order
    /// was lost for the group, and counted nowhere. It is lost once, in the first's line.
    #[test]
    fn every_instance_down_and_back_without_its_session_loses_the_group_s_messages_once() {
        use broker_bridge::packet::{ConnAck, Packet, ReasonCode};
        let instances = [1, 2, 3].map(|n| Instance::new(ServiceId::Payment, n));
        let run = |present: bool| {
            let mut trace = Trace::default();
            let mut now = 0;
            for instance in instances {
                trace.record_crash(ms(0), instance, 0);
            }
            for n in [1, 2] {
                send_order(
                    &mut trace,
                    &mut now,
                    ServiceId::Order.into(),
                    Direction::Outgoing,
                    n,
                );
            }
            for instance in instances {
                now += 1;
                trace.record_restart(ms(now), instance);
                let mut event = crate::trace::script::event_for(
                    ServiceId::Payment,
                    now,
                    Direction::Incoming,
                    Packet::ConnAck(ConnAck::new(present, ReasonCode::Success)),
                    ProtocolVersion::V311,
                );
                event.client_id = instance.client_id("a1b2c3");
                trace.record(ServiceId::Payment, &event);
            }
            outages(&trace, SagaStyle::Parallel)
        };
        let clean = run(false);
        let lost: Vec<usize> = clean.iter().map(Outage::lost).collect();
        assert_eq!(lost, [2, 0, 0], "lost once, in the first's line");
        let first = clean[0].describe();
        assert!(
            first.contains(
                "0 caught up on restart, 2 lost. The 2 published while PaymentService 2 and \
                 PaymentService 3 were down too reached no instance, and none came back with its \
                 session (each was accepted again with Session Present 0): lost for the whole \
                 group, counted here once."
            ),
            "{first}"
        );
        assert!(!first.contains("come to"), "{first}");
        let third = clean[2].describe();
        assert!(
            third.contains("0 lost. The 2 published while PaymentService and PaymentService 2 were down too reached no instance") 
                && third.ends_with("lost for the whole group, counted once, in PaymentService's line."),
            "{third}"
        );
        // Sessions kept: whose they were, the broker does not say, and they may still come.
        let kept = run(true);
        assert_eq!(kept.iter().map(Outage::lost).collect::<Vec<_>>(), [0, 0, 0]);
        assert!(kept.iter().all(|o| o.group_lost == 0 && o.shared == 2));
    }

    /// A newcomer's break-test (35-N F3): under clean sessions, orders placed right after
    /// *Restart*, before the restarted client's SUBSCRIBE, were lost to it, and its line said "0
    /// messages published for it meanwhile … 0 lost". Until it is subscribed again, what is
    /// published for it counts as missed; after, not.
    #[test]
    fn what_is_published_before_the_restarted_client_subscribes_again_is_missed() {
        use broker_bridge::packet::{ConnAck, Packet, ReasonCode, SubAck, SubscribeReturnCode};
        let payment: Instance = ServiceId::Payment.into();
        let incoming = |trace: &mut Trace, now: &mut u64, packet: Packet| {
            *now += 1;
            let mut event = crate::trace::script::event_for(
                ServiceId::Payment,
                *now,
                Direction::Incoming,
                packet,
                ProtocolVersion::V311,
            );
            event.client_id = payment.client_id("a1b2c3");
            trace.record(ServiceId::Payment, &event);
        };
        let run = |present: bool| {
            let mut trace = Trace::default();
            let mut now = 0;
            trace.record_crash(ms(0), payment, 0);
            now += 1;
            trace.record_restart(ms(now), payment);
            let accepted = Packet::ConnAck(ConnAck::new(present, ReasonCode::Success));
            incoming(&mut trace, &mut now, accepted);
            // Placed at once: before its SUBSCRIBE is answered.
            send_order(
                &mut trace,
                &mut now,
                ServiceId::Order.into(),
                Direction::Outgoing,
                1,
            );
            if present {
                // The kept session delivers it.
                send_order(&mut trace, &mut now, payment, Direction::Incoming, 1);
            }
            let granted = vec![SubscribeReturnCode::Granted(QoS::AtLeastOnce)];
            incoming(
                &mut trace,
                &mut now,
                Packet::SubAck(SubAck::new(1, granted)),
            );
            // Subscribed: this one reaches it, and is none of the outage's.
            send_order(
                &mut trace,
                &mut now,
                ServiceId::Order.into(),
                Direction::Outgoing,
                2,
            );
            send_order(&mut trace, &mut now, payment, Direction::Incoming, 2);
            outages(&trace, SagaStyle::Parallel).remove(0)
        };
        let clean = run(false);
        assert_eq!(
            (clean.published, clean.missed, clean.caught_up, clean.lost()),
            (1, 1, 0, 1),
            "{}",
            clean.describe()
        );
        assert!(
            clean
                .describe()
                .contains("1 message published for it meanwhile; 0 caught up on restart, 1 lost."),
            "{}",
            clean.describe()
        );
        let kept = run(true);
        assert_eq!(
            (kept.published, kept.missed, kept.caught_up, kept.lost()),
            (0, 0, 0, 0),
            "a kept session is subscribed at its CONNACK: {}",
            kept.describe()
        );
    }

    /// A newcomer's break-test, `?session=clean`: *Crash* PaymentService, an order's message
    /// goes out while it is down, *Restart*, and OrderService publishes a copy again (its
    /// compensation check asking again). Under a clean session only the copy reaches it: the
    /// page said "1 caught up on restart, 0 lost" for a message the broker never kept. Under a
    /// persistent session the broker delivers the kept one and the copy: 1 caught up, not 2.
    #[test]
    fn a_copy_published_again_after_the_restart_is_neither_caught_up_nor_lost() {
        use crate::domain::topics::ORDERS_CREATED;
        use crate::trace::script::payload;
        use broker_bridge::packet::Publish;

        // `copy_first`: the copy goes out before the kept one is delivered (a persistent
        // session's queue drains after the restart, while OrderService already asks again).
        // `copy_before_subscribed`: a copy goes out between *Restart* and the restarted
        // client's SUBACK (38-Y F2).
        let run_with = |delivered: usize, copy_first: bool, copy_before_subscribed: bool| {
            use broker_bridge::packet::{ConnAck, Packet, ReasonCode, SubAck, SubscribeReturnCode};
            let mut trace = Trace::default();
            let now = std::cell::Cell::new(0);
            let tick = || {
                now.set(now.get() + 1);
                now.get()
            };
            let send = |trace: &mut Trace, service, direction, dup: bool| {
                let body = payload(ORDERS_CREATED, order(1)).into_bytes();
                let mut publish = Publish::new(ORDERS_CREATED, body, QoS::AtLeastOnce);
                publish.dup = dup;
                publish.packet_id = Some(1);
                record_publish(trace, service, tick(), direction, publish)
            };
            trace.record_crash(ms(0), ServiceId::Payment.into(), 0);
            send(&mut trace, ServiceId::Order, Direction::Outgoing, false);
            // A retransmission of the same message is not another copy.
            let at = send(&mut trace, ServiceId::Order, Direction::Outgoing, true);
            trace.record_restart(at, ServiceId::Payment.into());
            if copy_before_subscribed {
                send(&mut trace, ServiceId::Order, Direction::Outgoing, false);
            }
            // Accepted again and subscribed again (with its session if one was kept).
            let kept = delivered > 1;
            let granted = vec![SubscribeReturnCode::Granted(QoS::AtLeastOnce)];
            for packet in [
                Packet::ConnAck(ConnAck::new(kept, ReasonCode::Success)),
                Packet::SubAck(SubAck::new(1, granted)),
            ] {
                let event = crate::trace::script::event_for(
                    ServiceId::Payment,
                    tick(),
                    Direction::Incoming,
                    packet,
                    ProtocolVersion::V311,
                );
                trace.record(ServiceId::Payment, &event);
            }
            if copy_first {
                send(&mut trace, ServiceId::Order, Direction::Outgoing, false);
            }
            for n in 0..delivered {
                if n == delivered - 1 && !copy_first {
                    send(&mut trace, ServiceId::Order, Direction::Outgoing, false);
                }
                send(&mut trace, ServiceId::Payment, Direction::Incoming, false);
            }
            outages(&trace, SagaStyle::Parallel).remove(0)
        };
        let run = |delivered: usize, copy_first: bool| run_with(delivered, copy_first, false);

        // Clean session: only the copy published again arrives.
        let clean = run(1, false);
        assert_eq!(
            (
                clean.published,
                clean.missed,
                clean.caught_up,
                clean.lost(),
                clean.published_again
            ),
            (1, 1, 0, 1, 1)
        );
        assert!(
            clean.describe().ends_with(
                "1 message published for it meanwhile; 0 caught up on restart, 1 lost. 1 copy \
                 of them published again after the restart is a new message, neither caught up \
                 nor lost."
            ),
            "{}",
            clean.describe()
        );
        // Persistent session: the kept one and the copy arrive, in either order.
        for copy_first in [false, true] {
            let kept = run(2, copy_first);
            assert_eq!(
                (
                    kept.missed,
                    kept.caught_up,
                    kept.lost(),
                    kept.published_again
                ),
                (1, 1, 0, 1),
                "copy first: {copy_first}"
            );
        }
        // Clean session, a copy between *Restart* and the SUBACK: it reached nothing, so it
        // is counted with those published while the service was down, not as published again.
        let window = run_with(0, false, true);
        assert_eq!(
            (
                window.published,
                window.caught_up,
                window.lost(),
                window.published_again
            ),
            (2, 0, 2, 0),
            "{}",
            window.describe()
        );
    }
}
