//! The driver of the four services: each gets its own MQTT client (`broker_bridge::ws`), and
//! PaymentService one per instance when it runs several (competing for its work through a shared
//! subscription); their messages go through the pure decisions in [`eda_core::services`], and
//! the commands those return are carried out here: publish (retained, for the stock levels), arm
//! a timer for simulated work, notify. What the page's panels show is reported as a
//! [`state::Action`](eda_core::state::Action); every packet, and every
//! [`ServiceEvent`](eda_core::trace::service_status::ServiceEvent) the flow diagram's badges
//! are projected from, goes into the trace.
//!
//! [`Runtime`] is one type whose methods live beside the concern they serve:
//!
//! - `lifecycle`: [`Runtime::start`] and [`Runtime::shut_down`], and the [`Handover`] between
//!   two runtimes.
//! - `clients`: each client's options (client id, session, Last Will, sign-in), connecting,
//!   subscribing, and which client and broker serve an instance.
//! - `brokers`: the page's broker and the services' own, moving clients between them, trying
//!   refused clients again, the maximum QoS learned of a broker (MQTT 3.1.1).
//! - `client_events`: what a client reports (link, messages, SUBACKs, packets, acknowledgements).
//! - `presence`: the services saying online on `services/+/status`, and answering another page.
//! - `report`: badge events, log lines and the page's actions, sent in batches.
//! - `messages`: a received message handled, tried again (kept meanwhile, handed over, lost
//!   with a crash), or sent to the dead letters.
//! - `work`: carrying out the services' commands, timers for simulated work and deadlines, and
//!   OrderService's outbox through the store keeper.
//! - `publish`: domain events, retained stock levels, a traced PUBLISH delivered again.
//! - `gates`: the order gate and the retry gate (and *Deliver again*'s), what they held back,
//!   telling the page.
//! - `orders`: placing orders from the form. `dead_letters`: *Retry* and the poison message.
//! - `crash`: crash and restart, what a crashed client had not got acknowledged.
//! - `settings`: delays, the saga's style, the stock, each topic's QoS.
//! - `store`: the event store published and kept, taken over after a reload; the read model.
//! - `acl_probe`: the least-privilege demonstration.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::learned_limits::LearnedLimits;
use broker_bridge::ws::Client;
use broker_bridge::{ProtocolVersion, PublishRequest};
use uuid::Uuid;

use crate::store_keeper::StoreKeeper;
use crate::SharedTrace;
use eda_core::domain::namespace::Namespace;
use eda_core::services::credentials::Credentials;
use eda_core::services::instances::Instance;
use eda_core::services::order_gate::OrderGate;
use eda_core::services::pending_tries::{PendingTries, PendingTry};
use eda_core::services::{Flow, SagaStyle};
use eda_core::state::service_brokers::ServiceBrokers;
use eda_core::state::{Action, FlowQos, SessionMode};
use eda_core::trace::service_links::ServiceLinks;

mod acl_probe;
mod brokers;
mod client_events;
mod clients;
mod crash;
mod dead_letters;
mod gates;
mod left_sessions;
mod lifecycle;
mod messages;
mod orders;
mod outbox;
mod presence;
mod publish;
mod report;
mod settings;
mod store;
mod work;

use gates::HeldBack;

type Report = Rc<dyn Fn(Action)>;

/// The runtime that runs the services now (none between runtimes, or while a recording is
/// shown), shared from one runtime to the next through the [`Handover`].
type Current = Rc<RefCell<std::rc::Weak<Runtime>>>;

/// The form's refusal while it is shown: when (on the page's clock), the gate's refusal it
/// said (`None` when no gate made it), and how many orders were asked and placed (its sentence,
/// `order::orders_refused`, said again when the refusal's figures move).
type ShownRefusal = Option<(
    Duration,
    Option<eda_core::services::order_gate::OrderRefusal>,
    (usize, usize),
)>;

pub struct Runtime {
    /// Each service's client, and PaymentService's further instances'; a restart replaces one.
    clients: RefCell<Vec<(Instance, Client)>>,
    /// Follows `services/+/status` for the page: the services' status as the broker tells it.
    monitor: Client,
    /// The clients ending the sessions PaymentService's instances left on the broker, each
    /// until the broker accepts its clean CONNECT (`left_sessions.rs`).
    left_sessions: RefCell<Vec<(Instance, Client)>>,
    /// `eda-<tag>`: the client ids' stem.
    session_tag: String,
    /// Whether the broker keeps the services' sessions while they are away.
    session: SessionMode,
    /// How many instances PaymentService runs.
    payment_instances: u8,
    /// Each instance's link, which the learner crashed, their work in hand: what each service's
    /// badge is told.
    links: RefCell<ServiceLinks>,
    /// Which services have subscribed since the start: no order goes out before they have.
    order_gate: RefCell<OrderGate>,
    /// What the page was last told of the order gate (`None`: nothing yet): why no order can
    /// be placed, or `None` once one can.
    gate_told: RefCell<Option<Option<String>>>,
    /// The form's last refusal, while it is shown: when (on the page's clock) and the gate's
    /// refusal it said (`None` when no gate made it). It goes once it is out of date (the gate
    /// opened, or refuses for another cause: `order_gate::still_true`), but not before it has
    /// been readable (`refusal_shown`); and the timer that looks again then.
    form_refusal: RefCell<(ShownRefusal, Option<gloo::timers::callback::Timeout>)>,
    /// A look at the order gate is held until the tab's database has been read back.
    gate_after_read: Cell<bool>,
    /// What the page was last told of the units InventoryService's open reservations hold
    /// (`Runtime::tell_held`).
    held_told: RefCell<eda_core::services::Stock>,
    /// What the page was last told of a coordination style waiting for the sagas in flight
    /// (the style and how many sagas), `None` when none waits.
    style_waiting_told: Cell<Option<(SagaStyle, usize)>>,
    /// The last *Retry* or poison message the gate held back, and the page's sentence for it:
    /// the sentence goes once the gate would let it through.
    held_back: RefCell<Option<HeldBack>>,
    /// The work this runtime has armed a timer for and that has not fallen due ([`Runtime::arm`]):
    /// a decision carried out late (kept in the tab's database first) may schedule work the
    /// handover already armed again, and is then not armed twice
    /// ([`Runtime::arm_scheduled`]); and busy work whose worker crashed since is not handed
    /// over ([`Runtime::shut_down`]).
    armed: RefCell<Vec<Armed>>,
    /// The orders placed whose own `orders/created` OrderService has not heard yet, by a
    /// digest of the payload ([`echo_key`]): [`Runtime::await_echo`] checks them.
    awaiting_echo: RefCell<std::collections::HashSet<u64>>,
    /// The page's broker: the monitor's, and every service's without its own.
    url: RefCell<String>,
    /// The services with a broker of their own (`?broker_<service>=`).
    brokers: RefCell<ServiceBrokers>,
    /// The QoS of each topic's subscriptions and publishes.
    qos: Cell<FlowQos>,
    /// What the four services remember, and the settings they decide by.
    flow: RefCell<Flow>,
    /// The style the clients' subscriptions follow (the flow's, once a change has drained).
    subscribed_style: Cell<SagaStyle>,
    /// Shut down: its timers do nothing (a new runtime has armed them again).
    closed: Cell<bool>,
    /// Messages a failing handler waits to try again: handed over to the next runtime, lost
    /// (and logged) with their instance's crash.
    pending_tries: RefCell<PendingTries>,
    /// The restored compensation checks of orders whose compensation a reload found owed:
    /// armed once that is published again ([`Runtime::publish_owed`]), so a check does not send
    /// the same message beside it while the owed one waits for the broker.
    checks_behind_owed: RefCell<Vec<eda_core::services::Command>>,
    /// What each crashed instance's client had not got acknowledged (or not sent): kept, as a
    /// client keeping its session state on disk keeps it, and published again on restart.
    kept: RefCell<Vec<(Instance, Vec<PublishRequest>)>>,
    /// What an earlier client of each instance had in flight (QoS 1 and 2, with its packet
    /// identifiers: [`broker_bridge::inflight::Carried`]), for its next client under the same
    /// client id to send again as the session's own ([`Runtime::publish_kept`]).
    carried: RefCell<Vec<(Instance, broker_bridge::inflight::Carried)>>,
    /// Other pages' services seen on the broker, and what to do about their statuses.
    watch: RefCell<eda_core::services::presence::watch::PresenceWatch>,
    /// Whether the broker relays each instance's online status back to the monitor: one it
    /// drops (its user's access rules) is said, and holds orders back.
    relay: RefCell<eda_core::services::presence::relay::StatusRelay>,
    /// Instances that said online (retained) since the monitor's last SUBACK.
    announced: RefCell<std::collections::BTreeSet<Instance>>,
    /// When each instance's current connection was first said online: the `since` of every
    /// later online of that connection (an answer to another page, a status said again), so a
    /// late subscriber reads when the service came online, not when it last spoke (38-Z F3).
    online_since: RefCell<std::collections::BTreeMap<Instance, eda_core::domain::Timestamp>>,
    /// The monitor follows `services/+/status`: until then the services wait to say they are
    /// online, so that another page answering them is heard.
    monitor_ready: Cell<bool>,
    /// Instances connected before the monitor was ready, to announce once it is.
    announce_later: RefCell<Vec<Instance>>,
    /// The monitor's broker refused it for good (the whole page's user or password) and has
    /// not accepted it since: no status can come back, so no order is held for one.
    monitor_refused: Cell<bool>,
    /// MQTT 3.1.1: the maximum QoS learned of each broker, kept across broker switches and
    /// runtimes for the page's lifetime (a reload forgets it).
    learned: RefCell<LearnedLimits>,
    protocol: ProtocolVersion,
    /// Who each client signs in as: a restarted client signs in again.
    credentials: Credentials,
    /// The packet id of the least-privilege demonstration's publish, awaiting its answer.
    acl_probe: Cell<Option<u16>>,
    /// The least-privilege demonstration's delivery: `Some(false)` while awaited, `Some(true)`
    /// once one of the page's services received it, `None` when none is awaited.
    acl_probe_delivered: Cell<Option<bool>>,
    /// The topic namespace every topic travels under (`?ns=`): put on each topic published and
    /// filter subscribed, taken off each topic received.
    namespace: Namespace,
    report: Report,
    trace: SharedTrace,
    /// Keeps OrderService's events in the tab's database as they are appended.
    keeper: Option<Rc<StoreKeeper>>,
    /// The runtime running the services now, shared by every runtime that ran them on this
    /// page: what one decided and was waiting for the tab's database to keep
    /// ([`StoreKeeper::after_kept`], `after_memos`) is carried out by whichever runs them when
    /// the database answers (a switch of MQTT version, session mode or instances may come in
    /// between); by none while a recording is shown.
    current: Current,
    /// What happened since the last report, in order.
    pending: RefCell<Vec<Action>>,
    /// Packets were recorded since the last report.
    trace_changed: Cell<bool>,
    /// When the scheduled report goes out (the page's clock), if one is scheduled.
    report_due: Cell<Option<Duration>>,
    /// When the last report went out (the page's clock).
    last_report: Cell<Option<Duration>>,
    /// How long the last report took to apply and render (the page's clock): what the period
    /// before the next is stretched by
    /// ([`report_period`](eda_core::state::pacing::report_period)).
    report_cost: Rc<Cell<Duration>>,
}

/// How the four services connect.
#[derive(Debug, Clone, Copy)]
pub struct Connection<'a> {
    /// The page's broker's URL, already checked.
    pub url: &'a str,
    /// The services that talk to a broker of their own instead (URLs already checked).
    pub brokers: &'a ServiceBrokers,
    /// Six hex digits: the client ids are `eda-<tag>-<service>`.
    pub session_tag: &'a str,
    /// Each topic's QoS.
    pub qos: FlowQos,
    /// MQTT 3.1.1 or 5.0.
    pub protocol: ProtocolVersion,
    /// Whether the broker keeps their sessions while they are away.
    pub session: SessionMode,
    /// How many instances PaymentService runs (1 to 3).
    pub payment_instances: u8,
    /// Who each client signs in as (page-wide, or a service's own); kept in memory only.
    pub credentials: &'a Credentials,
    /// The topic namespace (`?ns=`), none for the seed's topics.
    pub namespace: &'a Namespace,
}

/// The key of an order's `orders/created` payload in [`Runtime::await_echo`]'s set.
fn echo_key(payload: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    payload.hash(&mut hasher);
    hasher.finish()
}

/// A timer [`Runtime::arm`] set: the work, who does it, and that worker's crash count then.
#[derive(Debug, Clone, PartialEq)]
struct Armed {
    work: eda_core::services::Work,
    worker: Instance,
    crashes: u32,
}

/// What a runtime hands to the next ([`Runtime::shut_down`], [`Runtime::start`]): the
/// services' memory and schedule, what their clients had not got acknowledged, and the messages
/// waiting for their next try.
pub struct Handover {
    /// The services' memory and schedule.
    pub flow: Flow,
    kept: Vec<(Instance, Vec<PublishRequest>)>,
    carried: Vec<(Instance, broker_bridge::inflight::Carried)>,
    /// Messages a failing handler was waiting to try again (acknowledged to the broker already,
    /// so nothing else holds them), each with when its try is due.
    pending_tries: Vec<PendingTry>,
    /// Where OrderService's event store is kept (the tab's database), if anywhere.
    keeper: Option<Rc<StoreKeeper>>,
    /// Which runtime runs the services ([`Runtime::current`]).
    current: Current,
    /// MQTT 3.1.1: the maximum QoS learned of each broker, for the page's lifetime.
    learned: LearnedLimits,
    /// A retry, poison message or *Deliver again* the gate refused, whose sentence the page
    /// still shows: the next runtime takes it back once it could go.
    held_back: Option<gates::HeldBack>,
}

impl Handover {
    /// Services that remember nothing yet.
    pub fn new(flow: Flow) -> Self {
        Handover {
            flow,
            kept: Vec::new(),
            carried: Vec::new(),
            pending_tries: Vec::new(),
            keeper: None,
            current: Current::default(),
            learned: LearnedLimits::default(),
            held_back: None,
        }
    }

    /// The same, with OrderService's events kept by `keeper` as they are appended.
    pub fn kept_by(mut self, keeper: Rc<StoreKeeper>) -> Self {
        self.keeper = Some(keeper);
        self
    }
}

/// What [`Runtime::place_orders`] did: the orders placed, in order, and why it stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The ids of the orders published.
    pub orders: Vec<Uuid>,
    /// Why the next order was not placed (the order gate shut, a publish refused).
    pub refused: Option<String>,
}
