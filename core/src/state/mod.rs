//! The page's state and the one reducer that changes it, [`State::apply`]. Pure, so every
//! transition is tested natively; the frontend wraps it for Yew's `use_reducer`.
//!
//! The state is made from the page's link once ([`State::from_link`], grammar in [`query`]);
//! what the four services do reaches it as [`Action`]s from the runtime. The packets and the
//! flow diagram's badges live in the trace ([`crate::trace::Trace`]), not here: the reducer's
//! state is copied on every action.

use std::collections::VecDeque;
use std::time::Duration;

use broker_bridge::{ConnectionError, Link, ProtocolVersion, QoS};
use uuid::Uuid;

use crate::services::instances::Instance;
use crate::services::{FlowSettings, ServiceId, Stock};
use crate::trace::playback::Speed;

pub mod broker_fit;
mod broker_log;
pub mod broker_switch;
mod other_pages;
pub mod pacing;
mod qos;
pub mod query;
pub use other_pages::{other_pages_warning, shows_warning};
pub mod service_brokers;
pub use qos::*;
pub use query::{Panel, Setting};

#[cfg(test)]
mod early_sockets_script;
#[cfg(test)]
mod tests;

/// How many event-log entries each service keeps; older ones are dropped and counted.
pub const LOG_LIMIT: usize = 100;
/// How many notifications the page keeps; older ones are dropped and counted.
pub const NOTIFICATION_LIMIT: usize = 100;
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service processed the message.
    Accepted,
    /// The message was not valid for the service; it carried on.
    Rejected(String),
    /// Something the service tried failed (e.g. a publish the session refused).
    Failed(String),
    /// The message was processed before, and the idempotent consumer ignored it.
    Duplicate(String),
    /// The message arrived before its order's creation (topics keep no order between them):
    /// kept, and handled when the creation arrives.
    Kept(String),
    /// A message of the service's went at a lower QoS than asked, the broker's maximum: sent,
    /// not failed ([`LogEntry::qos_lowered`]).
    Lowered(String),
    /// A line of the service's own, with no message it accepted behind it: what it restored,
    /// said over a false status or stock level, a session ended (a newcomer's break-test read
    /// "accepted" beside "an unreadable status").
    Note,
}

/// One line of a service's event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Wall-clock time, `HH:MM:SS.mmm` UTC.
    pub at: String,
    pub topic: String,
    /// The QoS the message arrived with; `None` for entries that are not a received message.
    pub qos: Option<QoS>,
    /// The `correlationId` user property the message carried (MQTT 5.0).
    pub correlation: Option<String>,
    /// The payload as text (lossy UTF-8), never interpreted as HTML.
    pub payload: String,
    pub outcome: Outcome,
}

/// One service's client as the page shows it: the service itself, or (PaymentService) one of
/// its further instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    pub id: ServiceId,
    /// 1 for the service itself; 2 and 3 for PaymentService's further instances (their log
    /// entries go to the service's log).
    pub number: u8,
    /// `eda-<session tag>-<service slug>`, `eda-<session tag>-payment-2`.
    pub client_id: String,
    /// Its client's link, as the driver last reported it.
    pub link: Link,
    /// The broker URL of its last connection the broker accepted (a CONNACK with success) in
    /// this page, kept while that connection is lost; `None` before its first. The help for a
    /// broker that cannot be reached tells a URL that worked from one that never did (a
    /// newcomer's break-test, 44-AT F4: after a broker kill it suggested a wrong path or TLS for
    /// the URL connected 0.7 s before).
    pub connected_at: Option<String>,
    /// Newest first; at most [`LOG_LIMIT`].
    pub log: VecDeque<LogEntry>,
    /// How many entries fell off the log.
    pub log_dropped: usize,
    /// How many messages it ignored as duplicates (the idempotent consumer), since the page
    /// loaded: redeliveries absorbed.
    pub duplicates_ignored: u64,
    /// When the learner crashed it (packets' clock); `None` while it runs.
    pub crashed_at: Option<Duration>,
    /// Its status as the broker last told it (`services/<service>/status`), and how long after
    /// the crash the broker announced it offline (the Last Will).
    pub presence: Option<PresenceView>,
    /// Connected, but the broker has not relayed its online status: what the page says of it
    /// ([`crate::services::presence::relay::unrelayed_note`]), near its badge.
    pub unrelayed: Option<String>,
}

impl ServiceView {
    /// Which client this is.
    pub fn instance(&self) -> Instance {
        Instance::new(self.id, self.number)
    }
}

/// A service's status as read from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceView {
    /// Online, or offline.
    pub online: bool,
    /// Why offline (the Will's words, or a stop on purpose).
    pub reason: Option<String>,
    /// For an offline status that followed a crash: how long the broker took to say so.
    pub after_crash: Option<Duration>,
}

impl PresenceView {
    /// The badge's line: `broker: online`, `broker: offline (Last Will, 12 ms after the crash)`,
    /// `broker: offline (Last Will)`, `broker: offline`. While this service's own client is not
    /// `connected` the page cannot hear the broker (it reads the status through a connection of
    /// its own to the same broker, lost too when the broker is down), so a status heard before is
    /// given as the last word heard, not as the present: `broker: last heard online (not
    /// connected now)`. The offline status of a service still `crashed` stays as it is (the Will
    /// of a crash is the lesson, and a crashed service is not online either way); once it is
    /// restarted and not connected (the broker down), that Will is the last word heard too:
    /// `broker: last heard offline (Last Will, 12 ms after the crash; not connected now)`.
    pub fn words(&self, connected: bool, crashed: bool) -> String {
        self.words_unless_heard(connected, crashed, "not connected now")
    }

    /// [`PresenceView::words`] while the page's status monitor (its client that reads
    /// `services/+/status` on the page's broker) is not connected, whatever the service's own
    /// client: a status heard before is the last word heard, `broker: last heard online (the
    /// status monitor is not connected)` (a newcomer's break-test, 35-L F8: the page's broker
    /// down, every service on another, and each badge still said `broker: online`).
    pub fn words_monitor_down(&self, crashed: bool) -> String {
        self.words_unless_heard(false, crashed, "the status monitor is not connected")
    }

    fn words_unless_heard(&self, connected: bool, crashed: bool, why: &str) -> String {
        let stale = self.is_stale(connected, crashed);
        let now = if stale {
            format!("; {why}")
        } else {
            String::new()
        };
        let heard = if stale { "last heard " } else { "" };
        match (self.online, &self.reason, self.after_crash) {
            (true, _, _) if stale => format!("broker: last heard online ({why})"),
            (true, _, _) => "broker: online".to_owned(),
            (false, _, Some(after)) => format!(
                "broker: {heard}offline (Last Will, {} ms after the crash{now})",
                after.as_millis()
            ),
            (false, Some(reason), None) if reason.contains("Last Will") => {
                format!("broker: {heard}offline (Last Will{now})")
            }
            (false, _, None) => "broker: offline".to_owned(),
        }
    }

    /// Whether [`PresenceView::words`] gives a status heard before rather than the present one:
    /// the service's client is not `connected`, and the status is online, or the Last Will of
    /// a service no longer `crashed` (restarted). An offline status of a stop on purpose stays
    /// as it is: the service is not connected because it was stopped.
    pub fn is_stale(&self, connected: bool, crashed: bool) -> bool {
        !connected && (self.online || (!crashed && self.is_will()))
    }

    /// Whether the status is an offline one the broker published as a client's Last Will.
    fn is_will(&self) -> bool {
        !self.online
            && (self.after_crash.is_some()
                || self
                    .reason
                    .as_ref()
                    .is_some_and(|r| r.contains("Last Will")))
    }

    /// The flow diagram's shorter line under a service's box, by the same rule as
    /// [`PresenceView::words`]: `broker: online`, `broker: last heard online` (not `connected`),
    /// `broker: offline (Will)`, `broker: last heard offline` (restarted, not `connected`).
    pub fn short_words(&self, connected: bool, crashed: bool) -> &'static str {
        match (self.online, self.is_stale(connected, crashed)) {
            (true, false) => "broker: online",
            (true, true) => "broker: last heard online",
            (false, false) => "broker: offline (Will)",
            (false, true) => "broker: last heard offline",
        }
    }
}

/// Whether the broker keeps a service's session (subscriptions and queued messages) while it is
/// away (`?session=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionMode {
    /// MQTT 3.1.1 clean session off, 5.0 session expiry of an hour: messages published while a
    /// service is down are queued (QoS 1 and 2) and delivered when it comes back.
    #[default]
    Persistent,
    /// A fresh session on every connection: what is published while a service is down is lost
    /// to it.
    Clean,
}

impl SessionMode {
    /// The value of `?session=`.
    pub fn value(self) -> &'static str {
        match self {
            SessionMode::Persistent => "persistent",
            SessionMode::Clean => "clean",
        }
    }

    /// `persistent` or `clean`, in any case.
    pub fn parse(text: &str) -> Result<SessionMode, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "persistent" => Ok(SessionMode::Persistent),
            "clean" => Ok(SessionMode::Clean),
            _ => Err(format!(
                "{} is neither persistent nor clean",
                crate::outside_text::quoted(text.trim())
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Six hex digits that make this page's client ids unique: `eda-<tag>-<service>`.
    pub session_tag: String,
    /// The broker the services use (valid: checked before it gets here).
    pub broker_url: String,
    /// Why the URL the user asked for was not used.
    pub broker_url_error: Option<String>,
    /// The services that talk to a broker of their own (`?broker_<service>=`), e.g. another
    /// node of a cluster; the others use `broker_url`.
    pub service_brokers: service_brokers::ServiceBrokers,
    /// Why a `?broker_<service>=` in the link was not used.
    pub service_brokers_error: Option<String>,
    /// The QoS of each topic's publishes and subscriptions.
    pub qos: FlowQos,
    /// Why a `?qos=` in the link was not used.
    pub qos_error: Option<String>,
    /// Why a `?speed=` or `?view=` in the link was not used.
    pub playback_error: Option<String>,
    /// The part of the picture shown.
    pub panel: Panel,
    /// How fast the picture plays (the trace's playback runs at it).
    pub speed: Speed,
    /// The MQTT version the services connect with.
    pub protocol: ProtocolVersion,
    /// Whether the broker keeps the services' sessions while they are away.
    pub session: SessionMode,
    /// Why a `?session=` in the link was not used.
    pub session_error: Option<String>,
    /// Why a `?mqtt=` in the link was not used.
    pub protocol_error: Option<String>,
    /// Raised when packets were recorded in the shared trace, so the views re-render.
    pub trace_version: u64,
    /// The packet the inspector shows opened (a `TracedPacket::seq`).
    pub selected_packet: Option<u64>,
    /// The recording shown instead of the live session (its file name); the services are
    /// disconnected meanwhile.
    pub replaying: Option<String>,
    /// How many orders were open in the live session when a recording replaced it (their
    /// sagas wait in the tab's database for *Back to live*, a reload); 0 when live.
    pub left_open: usize,
    /// Why the last recording file could not be loaded.
    pub recording_error: Option<String>,
    /// What the services decide by: the delays, the saga's style and deadline, the payment
    /// rule and the stock they started from.
    pub flow: FlowSettings,
    /// Why a delay from the link or the page was not used: [`State::delay_refusals`] joined.
    pub delays_error: Option<String>,
    /// Why PaymentService's or InventoryService's delay was not used, by service (PaymentService
    /// first): a refusal stays until its own field is taken ([`Action::DelayTaken`]).
    pub delay_refusals: Vec<(crate::services::ServiceId, String)>,
    /// Why a saga or failure setting from the link or the page was not used: every
    /// [`FlowField`](crate::services::FlowField) but those with a panel of their own (the stock,
    /// the duplicates' two, the projection delay), shown under *Saga and failures*.
    pub flow_error: Option<String>,
    /// Why the projection delay from the link or the page was not used, shown in the Read model
    /// panel next to its field (and only there: not a repeat of [`State::flow_error`]).
    pub projection_error: Option<String>,
    /// Why the wait between tries from the link or the page was not used, shown in the Dead
    /// letters panel next to its field.
    pub retry_error: Option<String>,
    /// Why the stock from the link or the page was not used, shown by the Stock field.
    pub stock_error: Option<String>,
    /// Why the idempotent consumers' setting or the share published twice, from the link or the
    /// page, was not used, shown under *Duplicates*.
    pub delivery_error: Option<String>,
    /// Each refused saga or failure value by its field, in field order: the five `*_error`
    /// fields above join those of their panel. A refusal stays until its own field is taken
    /// ([`Action::FlowTaken`]), so editing another field of the same panel keeps it (a
    /// newcomer's break-test: *Decline over* `abc` refused, then *Saga deadline* `0`: only the
    /// deadline's sentence was left, beside a field still showing `abc`).
    pub flow_refusals: Vec<(crate::services::FlowField, String)>,
    /// The client ids of services of another page (another tab, another machine) that the
    /// broker says are online on `services/+/status`: they consume the same topics, so every
    /// order is processed by both.
    pub other_playgrounds: std::collections::BTreeSet<String>,
    /// A coordination style chosen while sagas were in flight, and how many: the services
    /// switch once they have ended ([`crate::services::Flow::choose_style`]).
    pub style_waiting: Option<(crate::services::SagaStyle, usize)>,
    /// What the browser's database did with the event store: `Ok` says what came back after a
    /// reload, `Err` why it is not kept (the page goes on in memory).
    pub store_note: Option<Result<String, String>>,
    /// Why the last "Deliver again" (or a dead letter's Retry, or a poison message) published
    /// nothing.
    pub redelivery_error: Option<String>,
    /// How many clicks in a row got [`State::redelivery_error`]'s same sentence: from 2 the
    /// page says so, so a click refused again shows it was taken (a newcomer's break-test: a
    /// second Retry while the broker was still away changed nothing on the page).
    pub redelivery_refusals: u32,
    /// The dead letter whose *Retry* [`State::redelivery_error`] answers, to be said beside it
    /// (a newcomer's break-test: it was drawn below the last letter, far from the first one's
    /// button); `None` for *Deliver again* and the poison message.
    pub redelivery_letter: Option<String>,
    /// What the last *Deliver again* that went out did that a learner may not expect
    /// ([`Action::RedeliveryDone`]); `None` after the next click's answer.
    pub redelivery_note: Option<String>,
    /// What became of the least-privilege demonstration's publish outside the ACL
    /// ([`crate::services::acl::OUTSIDE_ACL`]), in words.
    pub acl_probe: Option<String>,
    /// The dead letters this page's services published and the learner has not yet retried or
    /// discarded, oldest first (by when their service gave up): the Dead letters panel's list.
    /// *Clear* keeps them (it clears the picture, not the work left to do); the browser's
    /// database brings them back after a reload ([`Action::DeadLettersRestored`]). Shared
    /// (`Rc`): the reducer copies the state at every action, and a flood of junk leaves
    /// thousands of them (40-AE F1: 4,000 copied at each action made every order take 6 s).
    pub dead_letters: std::rc::Rc<crate::trace::dead_letters::KeptDeadLetters>,
    /// InventoryService's stock now (it changes with every reservation and release).
    pub stock: Stock,
    /// Units held by open reservations, per counted product, apart from `stock`
    /// ([`crate::services::inventory::InventoryService::held`]); a product with none is left
    /// out.
    pub stock_held: Stock,
    /// Products the learner stopped counting, whose retained level InventoryService cleared
    /// (until counted again).
    pub uncounted: std::collections::BTreeSet<String>,
    /// Whether the stock in use was restored from the tab's database after a reload
    /// ([`Action::StockRestored`]) rather than taken from the link or the field; `false` again
    /// once the learner edits the stock. The Stock panel says it: [`State::stock_restored_note`].
    pub stock_restored: bool,
    /// The stock the link's `?stock=` gave (accepted), if it gave one: the note of a stock
    /// restored from the tab's database names it when it is not what is counted (a
    /// newcomer's break-test: a later link's `?stock=P001:100` was replaced by the tab's levels
    /// and gone from the address, with nothing naming it).
    pub stock_from_link: Option<Stock>,
    /// Whether the browser loaded the page by its reload (F5), so the link is the one the tab
    /// had, not a later one; the driver says so (`false` by default). A link's `?stock=`
    /// reloaded so is the levels the tab's orders have changed since, not a later link's stock
    /// to name ([`State::stock_restored_note`], 43-AO F1).
    pub link_reloaded: bool,
    /// How many instances PaymentService runs (1 to 3), competing for its work.
    pub payment_instances: u8,
    /// Why `?payment_instances=` was not used, or why the instances cannot share the work (the
    /// broker refused the shared subscription).
    pub instances_error: Option<String>,
    /// The topic namespace every topic travels under (`?ns=`); none by default.
    pub namespace: crate::domain::namespace::Namespace,
    /// Why a `?ns=` in the link was not used (the page then runs without a namespace).
    pub namespace_error: Option<String>,
    /// Query parameters of the link the page does not know.
    pub link_notice: Option<String>,
    pub services: Vec<ServiceView>,
    /// Oldest first.
    pub notifications: VecDeque<String>,
    pub notifications_dropped: usize,
    /// The notifications say the status monitor was refused, and not yet that it was
    /// accepted since ([`Action::MonitorAccepted`]).
    pub monitor_refusal_said: bool,
    /// The page's status monitor lost its connection to the page's broker, and why; `None`
    /// once it is connected again ([`Action::MonitorAccepted`]). The badges' status lines are
    /// then the last heard ([`PresenceView::words_monitor_down`]) and [`monitor_down_note`] says
    /// why while services on other brokers carry on.
    pub monitor_lost: Option<String>,
    /// The last order OrderService published.
    pub placed_order: Option<Uuid>,
    /// Why the last "Place order" published nothing.
    pub form_error: Option<String>,
    /// Why an order would be refused now (OrderService crashed or not connected, services yet
    /// to subscribe); `None` once one can be placed. Starts as "not started".
    pub order_gate: Option<String>,
    /// What the broker can do, from the last accepting CONNACK of the current broker and
    /// protocol; `None` until one came.
    pub broker_capabilities: Option<broker_bridge::capabilities::BrokerCapabilities>,
    /// What the last switch of the page's broker left in flight on the old one, in words
    /// ([`broker_switch::switch_note`]); `None` when it left nothing (or before any switch).
    pub broker_switch_note: Option<String>,
    /// What that switch left in flight, and when: the note goes once every order open then
    /// has ended ([`broker_switch::LeftInFlight::settled`]); `None` with the note.
    pub broker_switch_left: Option<broker_switch::LeftInFlight>,
    /// The page's brokers the services left after one had accepted them (switched away from
    /// with *Connect*): under persistent sessions each still holds their sessions
    /// ([`broker_switch::LeftInFlight::returning`]). For the page's lifetime.
    pub brokers_left: std::collections::BTreeSet<String>,
    /// The last message the broker's limits kept from being sent (Maximum Packet Size).
    pub capability_refusal: Option<broker_fit::CapabilityWarning>,
}

/// What the notifications say when the page's status monitor (the whole page's user) is
/// refused for good, with the broker's `reason`; `advice`, a sentence, in place of "fix that
/// user and password, then Sign in" (the in-page broker's: it has no users, clear the
/// password, 41-AJ F3).
pub fn monitor_refused_note(reason: &str, advice: Option<&str>) -> String {
    let what_to_do = match advice {
        Some(advice) => format!(". {advice}"),
        None => ": fix that user and password, then Sign in.".to_owned(),
    };
    format!(
        "The page's status monitor (the whole page's user under Sign in to the broker) was \
         refused: {reason}. The services work without it, but the badges cannot show what the \
         broker says of them, nor the page see another page's services{what_to_do}"
    )
}

/// What the page says while its status monitor is not connected to the page's broker at `url`
/// (`reason`: why, as the client said it) and some service is connected to another broker (a
/// node of a cluster), so the page works on while it hears no status and no stock level (a
/// newcomer's break-test, 35-L F8, saw nothing say so). `start` is how to start the broker at
/// `url` (`broker_bridge::url::start_advice`).
pub fn monitor_down_note(url: &str, reason: &str, start: &str) -> String {
    format!(
        "The page's status monitor (its own client on the page's broker, {url}, which reads \
         services/+/status and the retained stock levels) is not connected: {reason}. Services \
         on other brokers carry on, but the badges' broker: lines are the last heard, and a \
         crash's Last Will or a new stock level will not show until it is back. {start}"
    )
}

/// What the notifications say after [`monitor_refused_note`] once the status monitor is
/// accepted.
pub const MONITOR_SIGNED_IN: &str = "Signed in: the broker accepted the page's status monitor \
     (the whole page's user), so the refusal above is over and the badges show what the broker \
     says of the services.";

/// Why no order can be placed while a recording is shown ([`State::order_gate`]).
pub const REPLAY_GATE: &str = "the services are not running (a recording is shown)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Link(Instance, Link),
    Logged(ServiceId, LogEntry),
    Notified(String),
    /// The page's status monitor (the whole page's user) was refused for good, with this
    /// reason and, when its broker's is not the usual, this advice: said in the notifications
    /// ([`monitor_refused_note`]).
    MonitorRefused(String, Option<&'static str>),
    /// The page's status client signs in as another user (*Sign in* with another whole-page
    /// user): the statuses the old one heard are not its word, so every badge waits for what
    /// the new one hears (a newcomer's break-test, 34-J F2: badges kept "broker: online" from
    /// the old user while the note under them said the new one heard no status at all).
    StatusReaderChanged,
    /// The page's status monitor was accepted: after a refusal said in the notifications, it
    /// is followed there by [`MONITOR_SIGNED_IN`], so the list does not end on a failure.
    MonitorAccepted,
    /// The page's status monitor lost its connection (or has none yet), with the reason.
    MonitorLost(String),
    /// The form's refusal is out of date (the order gate opened) and has been readable long
    /// enough ([`crate::services::refusal_shown`]): it goes.
    FormRefusalOutdated,
    /// Whether the broker relays an instance's online status: `Some(words)` once it has not
    /// within [`crate::services::presence::relay::RELAY_GRACE`] of its announcement, `None`
    /// once it has (or its connection ended).
    StatusUnrelayed(Instance, Option<String>),
    OrderPlaced(Uuid),
    OrderRefused(String),
    /// Why no order can be placed now ([`crate::services::order_gate::OrderRefusal::cause`]),
    /// or `None` once one can ([`crate::services::order_gate::OrderGate::check`] passes): then
    /// the form's last refusal is out of date, and goes.
    OrderGate(Option<String>),
    BrokerChanged(String),
    /// The page's broker changed to `url` with `left` in flight on the old one (what the
    /// services had not finished there): [`Action::BrokerChanged`], and the note that says
    /// what stays behind ([`broker_switch::switch_note`]).
    BrokerSwitched {
        /// The new broker's URL, already checked.
        url: String,
        /// What was in flight when it changed.
        left: broker_switch::LeftInFlight,
    },
    BrokerUrlInvalid(String),
    /// The services with a broker of their own from now on (the others use the page's).
    ServiceBrokersChanged(service_brokers::ServiceBrokers),
    QosChanged(FlowQos),
    /// Several of these, in order: the runtime reports what happened in batches.
    Batch(Vec<Action>),
    /// The learner chose what the picture shows.
    PanelChosen(Panel),
    /// The playback's pause or step changed (it lives in the trace).
    PlaybackChanged,
    /// The learner chose how fast the picture plays.
    SpeedChanged(Speed),
    ProtocolChanged(ProtocolVersion),
    TraceChanged,
    SelectPacket(Option<u64>),
    /// A recording replaced the trace: `name`, its file name; `left_open`, the orders open in
    /// the live session it replaced (`None`: it replaced another recording, and the number
    /// from the live session stays).
    ReplayLoaded {
        /// The recording's file name.
        name: String,
        /// The orders open when the live session stopped.
        left_open: Option<usize>,
    },
    RecordingRefused(String),
    /// The learner set this service's delay (PaymentService's or InventoryService's): the
    /// delays are these now, and its own refusal is withdrawn (the other's stays).
    DelayTaken(crate::services::ServiceId, crate::services::Delays),
    /// Why the delay typed for this service was not used.
    DelayRefused(crate::services::ServiceId, String),
    /// "Deliver again" (or the poison message) published nothing, for this reason.
    RedeliveryRefused(String),
    /// A *Deliver again* or poison message went out: a refusal still shown answered an earlier
    /// click, and the next click replaces it (a teacher's break-test: a refused *Retry* stayed
    /// under the panel after both succeeded, as if they had failed).
    /// With what the page adds about it ([`crate::services::retry_gate::redelivered_note`]:
    /// an `orders/created` under orchestration starts no step), shown until the next click.
    RedeliveryDone(Option<String>),
    /// A dead letter's *Retry* published nothing: the letter's id, and why. Said beside that
    /// letter ([`State::redelivery_letter`]).
    RetryRefused {
        id: String,
        reason: String,
    },
    /// The refusal with this text (a *Retry* or a poison message held back by the gate,
    /// [`crate::services::retry_gate`]) is out of date: it could go now. It goes, unless the
    /// page says something else since.
    RedeliveryRefusalOutdated(String),
    /// The least-privilege demonstration's publish was sent, refused, or dropped: in words.
    AclProbe(String),
    /// A service published this dead letter: listed until retried or discarded.
    DeadLetterKept(crate::trace::dead_letters::KeptDeadLetter),
    /// The dead letters the browser's database kept from before a reload: listed with those
    /// published since (one of each id), oldest first.
    DeadLettersRestored(Vec<crate::trace::dead_letters::KeptDeadLetter>),
    /// The broker refused the PUBLISH of `service`'s dead letter `letter` (MQTT 5.0, a reason
    /// code of 0x80 or more), saying `why`: the listed one with that content (the oldest not
    /// marked yet) is marked ([`KeptDeadLetter::refused`]).
    ///
    /// [`KeptDeadLetter::refused`]: crate::trace::dead_letters::KeptDeadLetter::refused
    DeadLetterRefused {
        service: crate::services::ServiceId,
        letter: crate::services::dead_letter::DeadLetter,
        why: String,
    },
    /// The learner retried or discarded the dead letter with this id: no longer listed.
    DeadLetterHandled(String),
    /// The learner crashed a service (or one instance) at `at` (packets' clock).
    Crashed(Instance, Duration),
    /// The learner restarted a service (or one instance).
    Restarted(Instance),
    /// The broker told a service's (or an instance's) status (its retained status, or its
    /// Last Will). The `Duration` is when the page heard it (packets' clock) if the broker
    /// forwarded it as published (RETAIN 0: MQTT 3.1.1 §3.3.1.3, 5.0 §3.3.1.3 without Retain As
    /// Published); `None` for the retained copy a new subscription is sent, which says nothing
    /// of when it was published (so no Will delay is measured from it).
    PresenceSeen(
        Instance,
        crate::services::presence::Presence,
        Option<Duration>,
    ),
    /// The learner chose how many instances PaymentService runs (the services reconnect).
    PaymentInstancesChanged(u8),
    /// The broker would not let the instances share the work, for this reason.
    SharingRefused(String),
    /// The learner chose whether the broker keeps the services' sessions (they reconnect).
    SessionChanged(SessionMode),
    /// The saga and failure settings are these now, every refusal of theirs withdrawn.
    FlowChanged(FlowSettings),
    /// The learner set this field of the saga and failure settings (the style, the payment
    /// rule, the stock, the deadline…), which are these now: its own refusal is withdrawn, the
    /// other fields' stay.
    FlowTaken(crate::services::FlowField, FlowSettings),
    /// Why the text typed in a saga or failure field (or the projection delay) was not used.
    FlowRefused(crate::services::FlowField, String),
    /// Why the session mode picked was not used.
    SessionRefused(String),
    /// InventoryService's stock changed (a reservation, a release, an edit).
    StockNow(Stock),
    /// The units held by InventoryService's open reservations changed (a reservation, a
    /// release, a confirmation): [`State::stock_held`].
    StockHeld(Stock),
    /// InventoryService took back the stock kept in the tab's database (a reload): the levels in
    /// use are the database's, not the link's. They become the field's and the link's stock
    /// (the driver writes `?stock=` with them), so *Copy link* reproduces what this page counts:
    /// the units on hand with those held for open orders added back ([`Stock::with_held`]);
    /// the driver then tells the units on hand ([`Action::StockNow`]).
    StockRestored(Stock),
    /// The style chosen waits for this many sagas in flight, or (None) is the services' now.
    StyleWaiting(Option<(crate::services::SagaStyle, usize)>),
    /// Forget the logs, notifications and the last order (the trace is cleared by the caller).
    Cleared,
    /// A service's client was accepted: what the broker can do, from its CONNACK.
    BrokerCapabilities(broker_bridge::capabilities::BrokerCapabilities),
    /// A message was not sent because of a limit the broker's CONNACK announced.
    CapabilityRefused(broker_fit::CapabilityWarning),
    /// The browser's database restored the event store (`Ok`, what came back) or could not
    /// keep it (`Err`, why).
    StoreNote(Result<String, String>),
}

impl State {
    /// A refusal of *Deliver again*, the poison message or (`letter`) a dead letter's *Retry*:
    /// counted again when it repeats the last one word for word, for the same letter.
    fn redelivery_refused(&mut self, reason: String, letter: Option<String>) {
        let again =
            self.redelivery_error.as_ref() == Some(&reason) && self.redelivery_letter == letter;
        self.redelivery_refusals = if again {
            self.redelivery_refusals + 1
        } else {
            1
        };
        self.redelivery_error = Some(reason);
        self.redelivery_letter = letter;
        self.redelivery_note = None;
    }

    /// What follows [`State::redelivery_error`] when the same refusal answered more than one
    /// click in a row: ` (the same answer to 3 clicks in a row)`; empty otherwise.
    pub fn redelivery_repeated(&self) -> String {
        match self.redelivery_refusals {
            0 | 1 => String::new(),
            n => format!(" (the same answer to {n} clicks in a row)"),
        }
    }

    /// `session_tag` makes the client ids of this page load unique: `eda-<tag>-<service>`.
    /// Every other setting has its default; [`State::from_link`] reads them from a link.
    pub fn new(broker_url: String, broker_url_error: Option<String>, session_tag: &str) -> Self {
        let services = service_views(session_tag, &broker_url, 1);
        Self {
            session_tag: session_tag.to_owned(),
            broker_url,
            broker_url_error,
            service_brokers: Default::default(),
            service_brokers_error: None,
            qos: FlowQos::default(),
            qos_error: None,
            playback_error: None,
            panel: Panel::All,
            speed: Speed::ONE,
            protocol: crate::config::DEFAULT_PROTOCOL,
            session: SessionMode::default(),
            session_error: None,
            protocol_error: None,
            trace_version: 0,
            selected_packet: None,
            replaying: None,
            left_open: 0,
            broker_switch_note: None,
            broker_switch_left: None,
            brokers_left: std::collections::BTreeSet::new(),
            recording_error: None,
            flow: FlowSettings::default(),
            delays_error: None,
            flow_error: None,
            flow_refusals: Vec::new(),
            delay_refusals: Vec::new(),
            projection_error: None,
            retry_error: None,
            stock_error: None,
            delivery_error: None,
            style_waiting: None,
            store_note: None,
            other_playgrounds: Default::default(),
            redelivery_error: None,
            redelivery_refusals: 0,
            redelivery_letter: None,
            redelivery_note: None,
            acl_probe: None,
            dead_letters: std::rc::Rc::default(),
            stock: Stock::default(),
            stock_held: Stock::default(),
            uncounted: Default::default(),
            stock_restored: false,
            stock_from_link: None,
            link_reloaded: false,
            payment_instances: 1,
            instances_error: None,
            namespace: Default::default(),
            namespace_error: None,
            link_notice: None,
            services,
            notifications: VecDeque::new(),
            notifications_dropped: 0,
            monitor_refusal_said: false,
            monitor_lost: None,
            placed_order: None,
            form_error: None,
            order_gate: Some("the services are starting".to_owned()),
            broker_capabilities: None,
            capability_refusal: None,
        }
    }

    /// The service itself (its first instance).
    pub fn service(&self, id: ServiceId) -> &ServiceView {
        self.services
            .iter()
            .find(|s| s.id == id && s.number == 1)
            .expect("State::new creates every service")
    }

    fn service_mut(&mut self, id: ServiceId) -> &mut ServiceView {
        self.instance_mut(id.into())
            .expect("State::new creates every service")
    }

    /// A notification, after the others: oldest first, the notifications tell the order's story
    /// in sequence; beyond [`NOTIFICATION_LIMIT`] the oldest is dropped and counted.
    fn notify(&mut self, text: String) {
        self.notifications.push_back(text);
        if self.notifications.len() > NOTIFICATION_LIMIT {
            self.notifications.pop_front();
            self.notifications_dropped += 1;
        }
    }

    /// The view of `instance`, if the page runs it.
    fn instance_mut(&mut self, instance: Instance) -> Option<&mut ServiceView> {
        self.services.iter_mut().find(|s| s.instance() == instance)
    }

    /// PaymentService runs `instances` from now on (clamped to 1 to 3): a view per instance,
    /// each starting to connect.
    pub fn set_payment_instances(&mut self, instances: u8) {
        let instances = instances.clamp(1, crate::services::instances::MAX_INSTANCES);
        self.payment_instances = instances;
        self.services.retain(|s| s.number == 1);
        let extra = service_views(&self.session_tag, &self.broker_url, instances);
        self.services
            .extend(extra.into_iter().filter(|s| s.number > 1));
        self.end_crashes();
        self.links_starting();
    }

    /// The broker `service` (each of its instances) talks to: its own, or the page's.
    pub fn broker_of(&self, service: ServiceId) -> &str {
        self.service_brokers.url_of(service, &self.broker_url)
    }

    /// Every crash is over: the services' clients start anew (a change of MQTT version,
    /// sessions or PaymentService instances replaces them all, a crashed one's too).
    fn end_crashes(&mut self) {
        for service in &mut self.services {
            service.crashed_at = None;
        }
    }

    /// Every client starts to connect again, each to its service's broker.
    fn links_starting(&mut self) {
        self.links_starting_where(|_| true);
    }

    /// The clients of the services `moves` picks start to connect again, each to its service's
    /// broker; the others' links stay as they are, and so does a crashed one's: it stays
    /// crashed, not connecting, until *Restart* (a newcomer's break-test: after *Connect* its
    /// badge said `data-state="connecting"` under "✕ PaymentService crashed").
    fn links_starting_where(&mut self, moves: impl Fn(ServiceId) -> bool) {
        for service in &mut self.services {
            if moves(service.id) && service.crashed_at.is_none() {
                let url = self.service_brokers.url_of(service.id, &self.broker_url);
                service.link = Link::starting(url);
                service.unrelayed = None;
            }
        }
    }

    /// Uses `brokers` for the services that have their own from now on (the others use the
    /// page's); the clients whose broker changes start to connect again.
    pub fn set_service_brokers(&mut self, brokers: service_brokers::ServiceBrokers) {
        let before = self.brokers_of_all();
        self.service_brokers = brokers;
        self.service_brokers_error = None;
        let after = self.brokers_of_all();
        self.links_starting_where(|id| before[id as usize] != after[id as usize]);
    }

    /// Each service's broker now, in [`ServiceId::ALL`]'s order.
    fn brokers_of_all(&self) -> [String; ServiceId::ALL.len()] {
        ServiceId::ALL.map(|id| self.broker_of(id).to_owned())
    }

    /// The saga and failure settings are `flow` now.
    fn flow_set(&mut self, flow: FlowSettings) {
        if flow.stock != self.flow.stock {
            // The learner set the stock: it is no longer the database's.
            self.stock_restored = false;
        }
        self.flow = flow;
    }

    /// [`State::delays_error`] from [`State::delay_refusals`], joined by a space.
    fn show_delay_refusals(&mut self) {
        let sentences: Vec<&str> = self
            .delay_refusals
            .iter()
            .map(|(_, s)| s.as_str())
            .collect();
        self.delays_error = (!sentences.is_empty()).then(|| sentences.join(" "));
    }

    /// Each panel's sentence from [`State::flow_refusals`]: its fields' refusals, joined by a
    /// space, in field order.
    fn show_flow_refusals(&mut self) {
        use query::FlowPanel;
        let of = |panel: FlowPanel| {
            let sentences: Vec<&str> = self
                .flow_refusals
                .iter()
                .filter(|(field, _)| FlowPanel::of(*field) == panel)
                .map(|(_, sentence)| sentence.as_str())
                .collect();
            (!sentences.is_empty()).then(|| sentences.join(" "))
        };
        self.flow_error = of(FlowPanel::Saga);
        self.projection_error = of(FlowPanel::ReadModel);
        self.retry_error = of(FlowPanel::DeadLetters);
        self.stock_error = of(FlowPanel::Stock);
        self.delivery_error = of(FlowPanel::Delivery);
    }

    /// Services whose link is down, for the help banner.
    pub fn disconnected(&self) -> impl Iterator<Item = &ServiceView> {
        self.services
            .iter()
            .filter(|s| matches!(s.link, Link::Disconnected { .. }))
    }

    /// Whether a value for the settings section (delivery, delays, protocol, sessions, saga and
    /// failures, stock, duplicates, PaymentService's instances) was refused, from the link or a
    /// field: each refusal is shown beside its field, below the fold, so the page's first screen
    /// points there ([`State::qos_error`] and the other `*_error` fields of that section).
    pub fn settings_refused(&self) -> bool {
        [
            &self.qos_error,
            &self.delays_error,
            &self.protocol_error,
            &self.session_error,
            &self.flow_error,
            &self.stock_error,
            &self.delivery_error,
            &self.instances_error,
        ]
        .iter()
        .any(|e| e.is_some())
    }

    /// Where the page's first screen points for a refused value ([`State::settings_refused`],
    /// then the panels that explain their own: [`State::projection_error`] in the Read model
    /// panel, [`State::retry_error`] in the Dead letters panel), in the page's order. Empty when
    /// nothing was refused.
    pub fn refusals_shown(&self) -> Vec<RefusalPlace> {
        let mut places = Vec::new();
        if self.settings_refused() {
            places.push(RefusalPlace::Settings);
        }
        if self.projection_error.is_some() {
            places.push(RefusalPlace::ReadModel);
        }
        if self.retry_error.is_some() {
            places.push(RefusalPlace::DeadLetters);
        }
        if self.playback_error.is_some() {
            places.push(RefusalPlace::Playback);
        }
        places
    }

    /// Where the stock in use came from, for the Stock panel, when it is not what the link
    /// said: restored from the tab's database after a reload ([`Self::stock_restored`]; the
    /// database's levels win over the link's, README "Event store"), and since then what the
    /// field shows and the address holds ([`Action::StockRestored`]). `None` when the link or
    /// the field set it.
    pub fn stock_restored_note(&self) -> Option<String> {
        if !self.stock_restored {
            return None;
        }
        // Not "the stock this page counts": orders go on changing the levels, the field and
        // the link keep them as restored (a newcomer's break-test: a release after the reload
        // took the panel back to 5 while Copy link gave 3).
        let origin = "Restored from this tab's database (the levels this tab counted before it \
                      was loaded again), not taken from this link";
        let note = if self.flow.stock.0.is_empty() {
            format!("{origin}: nothing is counted, as the field and the address now say. Type a stock to count one.")
        } else {
            format!(
                "{origin}. The field and the address now hold them as restored ({}), so Copy \
                 link starts a page from these levels; the Stock panel counts on from them. \
                 Edit the field to replace them, or clear it to count nothing.",
                self.flow.stock
            )
        };
        // A reload's link is the tab's own: its stock is what the orders since have changed,
        // and typing it in would undo what the reload kept (43-AO F1).
        Some(match &self.stock_from_link {
            Some(asked) if *asked != self.flow.stock && !self.link_reloaded => {
                let asked = if asked.0.is_empty() {
                    "stock= (nothing counted)".to_owned()
                } else {
                    format!("stock={asked}")
                };
                format!("{note} This link's {asked} is not what is counted: to count from it, type it in the field.")
            }
            _ => note,
        })
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Link(instance, link) => {
                if let Some(view) = self.instance_mut(instance) {
                    // A new connection's status is judged afresh (by a runtime that may be new).
                    if !link.is_connected() {
                        view.unrelayed = None;
                    }
                    if let Link::Connected { url } = &link {
                        view.connected_at = Some(url.clone());
                    }
                    view.link = link;
                }
            }
            Action::Logged(id, entry) => {
                let service = self.service_mut(id);
                if matches!(entry.outcome, Outcome::Duplicate(_)) {
                    service.duplicates_ignored += 1;
                }
                service.log.push_front(entry);
                if service.log.len() > LOG_LIMIT {
                    service.log.pop_back();
                    service.log_dropped += 1;
                }
            }
            Action::Notified(text) => self.notify(text),
            Action::StatusReaderChanged => {
                for service in &mut self.services {
                    service.presence = None;
                }
            }
            Action::MonitorRefused(reason, advice) => {
                self.monitor_refusal_said = true;
                self.notify(monitor_refused_note(&reason, advice));
            }
            Action::MonitorLost(reason) => self.monitor_lost = Some(reason),
            Action::MonitorAccepted => {
                self.monitor_lost = None;
                if std::mem::take(&mut self.monitor_refusal_said) {
                    self.notify(MONITOR_SIGNED_IN.to_owned());
                }
            }
            Action::StatusUnrelayed(instance, words) => {
                if let Some(view) = self.instance_mut(instance) {
                    view.unrelayed = words;
                }
            }
            Action::OrderPlaced(id) => {
                self.placed_order = Some(id);
                self.form_error = None;
            }
            Action::OrderRefused(reason) => self.form_error = Some(reason),
            // While a recording is shown no service runs: a late word of the stopped runtime
            // must not open the gate.
            Action::OrderGate(_) if self.replaying.is_some() => {}
            // The form's refusal goes by FormRefusalOutdated, once readable long enough.
            Action::OrderGate(refusal) => self.order_gate = refusal,
            Action::FormRefusalOutdated => self.form_error = None,
            Action::BrokerSwitched { url, left } => {
                let left = broker_switch::LeftInFlight {
                    returning: self.session == SessionMode::Persistent
                        && self.brokers_left.contains(&url),
                    clean: self.session == SessionMode::Clean,
                    ..left
                };
                if left.reached && url != self.broker_url {
                    self.brokers_left.insert(self.broker_url.clone());
                }
                self.broker_switch_note = broker_switch::switch_note(&self.broker_url, &url, left);
                self.broker_switch_left = self.broker_switch_note.is_some().then_some(left);
                self.apply(Action::BrokerChanged(url));
            }
            Action::BrokerChanged(url) => {
                self.broker_url_error = None;
                // The pages met on the broker left behind are not on this one (a newcomer's
                // break-test: the in-page broker warned of another page's services "on this
                // broker").
                // Nor are the statuses it said: each service's is read through the page's
                // broker, so what the old one said is not this one's word (a break-test: a
                // service kept on a broker of its own still showed the old broker's "online").
                if url != self.broker_url {
                    self.other_playgrounds.clear();
                    for service in &mut self.services {
                        service.presence = None;
                    }
                }
                self.broker_url = url;
                self.broker_capabilities = None;
                self.capability_refusal = None;
                // A service with a broker of its own stays on it (and keeps its link).
                let own = self.service_brokers.clone();
                self.links_starting_where(|id| own.own(id).is_none());
            }
            Action::BrokerUrlInvalid(reason) => self.broker_url_error = Some(reason),
            Action::ServiceBrokersChanged(brokers) => self.set_service_brokers(brokers),
            Action::QosChanged(qos) => {
                self.qos = qos;
                self.qos_error = None;
            }
            Action::Batch(actions) => {
                for action in actions {
                    self.apply(action);
                }
            }
            Action::TraceChanged => self.trace_version += 1,
            Action::PanelChosen(panel) => self.panel = panel,
            Action::PlaybackChanged => {
                self.playback_error = None;
                self.trace_version += 1;
            }
            Action::SpeedChanged(speed) => {
                self.speed = speed;
                self.playback_error = None;
                self.trace_version += 1;
            }
            Action::SelectPacket(seq) => self.selected_packet = seq,
            Action::ReplayLoaded { name, left_open } => {
                self.replaying = Some(name);
                if let Some(open) = left_open {
                    self.left_open = open;
                }
                self.order_gate = Some(REPLAY_GATE.to_owned());
                self.recording_error = None;
                self.selected_packet = None;
                self.trace_version += 1;
                for service in &mut self.services {
                    service.link = Link::Disconnected {
                        url: self
                            .service_brokers
                            .url_of(service.id, &self.broker_url)
                            .to_owned(),
                        reason: ConnectionError::Stopped(
                            "stopped while a recording is shown".into(),
                        ),
                        retry_in: Duration::ZERO,
                        attempt: 0,
                    };
                }
            }
            Action::RecordingRefused(reason) => self.recording_error = Some(reason),
            Action::DelayTaken(service, delays) => {
                self.flow.delays = delays;
                self.delay_refusals.retain(|(s, _)| *s != service);
                self.show_delay_refusals();
            }
            Action::FlowChanged(flow) => {
                self.flow_set(flow);
                self.flow_refusals.clear();
                self.show_flow_refusals();
            }
            Action::FlowTaken(field, flow) => {
                self.flow_set(flow);
                self.flow_refusals.retain(|(f, _)| *f != field);
                self.show_flow_refusals();
            }
            Action::FlowRefused(field, reason) => {
                self.flow_refusals.retain(|(f, _)| *f != field);
                let at = self.flow_refusals.partition_point(|(f, _)| *f < field);
                self.flow_refusals.insert(at, (field, reason));
                self.show_flow_refusals();
            }
            Action::SessionRefused(reason) => self.session_error = Some(reason),
            Action::RedeliveryRefused(reason) => self.redelivery_refused(reason, None),
            Action::RedeliveryDone(note) => {
                self.redelivery_note = note;
                self.redelivery_error = None;
                self.redelivery_letter = None;
                self.redelivery_refusals = 0;
            }
            Action::RetryRefused { id, reason } => self.redelivery_refused(reason, Some(id)),
            Action::RedeliveryRefusalOutdated(reason) => {
                if self.redelivery_error.as_ref() == Some(&reason) {
                    self.redelivery_error = None;
                }
            }
            Action::AclProbe(text) => self.acl_probe = Some(text),
            Action::DeadLetterKept(kept) => {
                if !self.dead_letters.contains(&kept.id) {
                    std::rc::Rc::make_mut(&mut self.dead_letters).push(kept);
                }
            }
            Action::DeadLettersRestored(restored) => {
                std::rc::Rc::make_mut(&mut self.dead_letters).merge_by_failure(restored);
            }
            Action::DeadLetterRefused {
                service,
                letter,
                why,
            } => {
                // Looked up first: the list is shared with the views (`Rc`), and copying it
                // for a letter it does not hold would be wasted.
                let at = self.dead_letters.iter().position(|d| {
                    d.service == service && d.letter == letter && d.refused.is_none()
                });
                if let Some(kept) =
                    at.and_then(|at| std::rc::Rc::make_mut(&mut self.dead_letters).get_mut(at))
                {
                    kept.refused = Some(why);
                }
            }
            Action::DeadLetterHandled(id) => {
                if self.dead_letters.contains(&id) {
                    std::rc::Rc::make_mut(&mut self.dead_letters).remove(&id);
                }
                self.redelivery_error = None;
            }
            Action::Crashed(instance, at) => {
                if let Some(view) = self.instance_mut(instance) {
                    view.crashed_at = Some(at);
                }
            }
            Action::Restarted(instance) => {
                if let Some(view) = self.instance_mut(instance) {
                    view.crashed_at = None;
                }
            }
            // The value it already has (a script's `change` event on the same option): the
            // page starts no new runtime for it, so nothing here starts over either (a
            // newcomer's break-test: every badge stayed *connecting*, and a crash was hidden).
            Action::PaymentInstancesChanged(instances) if instances == self.payment_instances => {
                self.instances_error = None;
            }
            Action::PaymentInstancesChanged(instances) => {
                self.instances_error = None;
                self.set_payment_instances(instances);
            }
            Action::SharingRefused(reason) => self.instances_error = Some(reason),
            Action::BrokerCapabilities(caps) => self.broker_capabilities = Some(caps),
            Action::CapabilityRefused(warning) => self.capability_refusal = Some(warning),
            Action::PresenceSeen(instance, presence, at) => {
                // Another page's service: not ours to show, but worth a warning.
                let ours = format!("eda-{}-", self.session_tag);
                if !presence.client_id.starts_with(&ours) {
                    if presence.is_online() {
                        self.other_playgrounds.insert(presence.client_id);
                    } else {
                        self.other_playgrounds.remove(&presence.client_id);
                    }
                    return;
                }
                // A status of an instance this page does not run (a retained one from before).
                let Some(service) = self.instance_mut(instance) else {
                    return;
                };
                let online = presence.is_online();
                let after_crash = match &service.presence {
                    // The same crash's Will seen again: the retained copy the broker delivers
                    // when the page's status client subscribes anew (after *Connect*, a
                    // protocol switch). The broker published it once, when it was first heard,
                    // not seconds later (a newcomer's break-test: "3552 ms after the crash").
                    Some(PresenceView {
                        online: false,
                        after_crash: Some(first),
                        ..
                    }) if !online && service.crashed_at.is_some() => Some(*first),
                    // A retained copy (the status client subscribed after the crash: *Connect*
                    // to the same broker spelled another way) was published some time before:
                    // its arrival is no measure of the broker (a newcomer's break-test: "1158
                    // ms after the crash" for a Will the wire had shown 30 ms after it).
                    _ => service
                        .crashed_at
                        .filter(|_| !online)
                        .zip(at)
                        .map(|(crashed, at)| at.saturating_sub(crashed)),
                };
                service.presence = Some(PresenceView {
                    online,
                    reason: presence.reason,
                    after_crash,
                });
            }
            Action::SessionChanged(mode) if mode == self.session => self.session_error = None,
            Action::ProtocolChanged(protocol) if protocol == self.protocol => {
                self.protocol_error = None;
            }
            Action::SessionChanged(mode) => {
                self.session = mode;
                self.session_error = None;
                self.end_crashes();
                self.links_starting();
            }
            Action::StockRestored(stock) => {
                self.stock_restored = true;
                // The stock in use is what the field shows and the link carries (README "Share
                // it"): opened elsewhere, the link counts what this page counts from here on.
                self.flow.stock = stock.clone();
                self.apply(Action::StockNow(stock));
            }
            Action::StockNow(stock) => {
                for product in self.stock.0.keys() {
                    if !stock.0.contains_key(product) {
                        self.uncounted.insert(product.clone());
                    }
                }
                self.uncounted.retain(|p| !stock.0.contains_key(p));
                self.stock = stock;
            }
            Action::StockHeld(held) => self.stock_held = held,
            Action::StyleWaiting(waiting) => self.style_waiting = waiting,
            // A failure stays shown; a later "restored" does not hide it.
            Action::StoreNote(note) => {
                if !matches!(self.store_note, Some(Err(_))) {
                    self.store_note = Some(note);
                }
            }
            Action::DelayRefused(service, reason) => {
                self.delay_refusals.retain(|(s, _)| *s != service);
                self.delay_refusals.push((service, reason));
                self.delay_refusals.sort_by_key(|(s, _)| *s);
                self.show_delay_refusals();
            }
            Action::Cleared => {
                for service in &mut self.services {
                    service.log.clear();
                    service.log_dropped = 0;
                }
                self.notifications.clear();
                self.notifications_dropped = 0;
                self.monitor_refusal_said = false;
                self.placed_order = None;
                self.form_error = None;
                self.selected_packet = None;
                self.trace_version += 1;
            }
            Action::ProtocolChanged(protocol) => {
                self.protocol = protocol;
                self.protocol_error = None;
                self.broker_capabilities = None;
                self.capability_refusal = None;
                // New connections for every service, a crashed one's too (as for a change of
                // sessions or instances): the crash is over.
                self.end_crashes();
                self.links_starting();
            }
        }
    }
}

/// `eda-<session_tag>-<slug>`, e.g. `eda-3f9a1c-payment`: the client id of `service`'s MQTT
/// client in the page whose session tag it is.
pub fn client_id(session_tag: &str, service: ServiceId) -> String {
    Instance::from(service).client_id(session_tag)
}

/// A view of every client the page runs when PaymentService runs `payment_instances`, each
/// starting to connect to `broker_url`.
fn service_views(session_tag: &str, broker_url: &str, payment_instances: u8) -> Vec<ServiceView> {
    Instance::all(payment_instances)
        .into_iter()
        .map(|instance| ServiceView {
            id: instance.service,
            number: instance.number,
            client_id: instance.client_id(session_tag),
            link: Link::starting(broker_url),
            connected_at: None,
            log: VecDeque::new(),
            log_dropped: 0,
            duplicates_ignored: 0,
            crashed_at: None,
            presence: None,
            unrelayed: None,
        })
        .collect()
}

/// Where a refused value is explained beside its field ([`State::refusals_shown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalPlace {
    /// The settings below the flow diagram.
    Settings,
    /// The Read model panel (the projection delay).
    ReadModel,
    /// The Dead letters panel (the wait between tries).
    DeadLetters,
    /// The animation's bar above the sequence diagram (`?speed=`, `?view=`: 42-AK F3, said
    /// there only, far below the first screen).
    Playback,
}
