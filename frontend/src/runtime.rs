//! The driver of the four services: each gets its own MQTT client (`broker_bridge::ws`), and
//! PaymentService one per instance when it runs several (competing for its work through a shared
//! subscription); their messages go through the pure decisions in [`eda_core::services`], and
//! the commands those return are carried out here: publish (retained, for the stock levels), arm
//! a timer for simulated work, notify. What the page's panels show is reported as a
//! [`state::Action`](eda_core::state::Action); every packet, and every [`ServiceEvent`] the flow
//! diagram's badges are projected from, goes into the trace.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::learned_limits::LearnedLimits;
use broker_bridge::ws::{Client, ClientEvent};
use broker_bridge::{
    Event, LastWill, Link, Options, ProtocolVersion, PublishRequest, QoS, SessionError,
};
use gloo::timers::callback::Timeout;
use uuid::Uuid;

use crate::clock::{self, fresh_id, time_of_day, wall_clock};
use crate::SharedTrace;
use eda_core::domain::namespace::Namespace;
use eda_core::domain::order_form::ValidOrder;
use eda_core::domain::DomainEvent;
use eda_core::services::acl::{publisher_of, OUTSIDE_ACL};
use eda_core::services::credentials::{Credentials, Login};
use eda_core::services::dead_letter::{
    deadletter_topic, next_step, DeadLetter, Step, MAX_ATTEMPTS,
};
use eda_core::services::instances::{filters, Instance};
use eda_core::services::order_gate::{OrderGate, OrderLink, OrderRefusal};
use eda_core::services::presence::{status_topic, Presence, STATUS_FILTER};
use eda_core::services::retry_gate::{poison_refused, retry_refused, Retry, RetryRefusal};
use eda_core::services::stock_levels::StockUpdate;
use eda_core::services::{
    order, published_twice, Command, Delays, Flow, FlowSettings, Rejection, RejectionKind,
    SagaStyle, ServiceId, Stock, Work,
};
use eda_core::state::pacing::report_period;
use eda_core::state::service_brokers::ServiceBrokers;
use eda_core::state::{broker_fit, Action, FlowQos, LogEntry, Outcome, SessionMode};
use eda_core::store::{EventStore, ReadModel, StoredEvent};

use crate::store_keeper::StoreKeeper;
use eda_core::trace::service_links::ServiceLinks;
use eda_core::trace::service_status::CRASHED;
use eda_core::trace::service_status::{LastOutcome, ServiceEvent};
use eda_core::trace::UserAction;

type Report = Rc<dyn Fn(Action)>;

pub struct Runtime {
    /// Each service's client, and PaymentService's further instances'; a restart replaces one.
    clients: RefCell<Vec<(Instance, Client)>>,
    /// Follows `services/+/status` for the page: the services' status as the broker tells it.
    monitor: Client,
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
    /// The last *Retry* or poison message the gate held back, and the page's sentence for it:
    /// the sentence goes once the gate would let it through.
    held_back: RefCell<Option<HeldBack>>,
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
    /// What each crashed instance's client had not got acknowledged (or not sent): kept, as a
    /// client keeping its session state on disk keeps it, and published again on restart.
    kept: RefCell<Vec<(Instance, Vec<PublishRequest>)>>,
    /// Client ids of another page's services seen online on the broker.
    others_met: RefCell<std::collections::BTreeSet<String>>,
    /// The monitor follows `services/+/status`: until then the services wait to say they are
    /// online, so that another page answering them is heard.
    monitor_ready: Cell<bool>,
    /// Instances connected before the monitor was ready, to announce once it is.
    announce_later: RefCell<Vec<Instance>>,
    /// MQTT 3.1.1: the maximum QoS learned of each broker, kept across broker switches and
    /// runtimes for the page's lifetime (a reload forgets it).
    learned: RefCell<LearnedLimits>,
    protocol: ProtocolVersion,
    /// Who each client signs in as: a restarted client signs in again.
    credentials: Credentials,
    /// The packet id of the least-privilege demonstration's publish, awaiting its answer.
    acl_probe: Cell<Option<u16>>,
    /// The topic namespace every topic travels under (`?ns=`): put on each topic published and
    /// filter subscribed, taken off each topic received.
    namespace: Namespace,
    report: Report,
    trace: SharedTrace,
    /// Keeps OrderService's events in the tab's database as they are appended.
    keeper: Option<Rc<StoreKeeper>>,
    /// What happened since the last report, in order.
    pending: RefCell<Vec<Action>>,
    /// Packets were recorded since the last report.
    trace_changed: Cell<bool>,
    /// When the scheduled report goes out (the page's clock), if one is scheduled.
    report_due: Cell<Option<Duration>>,
    /// When the last report went out (the page's clock).
    last_report: Cell<Option<Duration>>,
    /// How long the last report took to apply and render (the page's clock): what the period
    /// before the next is stretched by ([`report_period`]).
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

/// What a runtime hands to the next ([`Runtime::shut_down`], [`Runtime::start`]): the
/// services' memory and schedule, and what their clients had not got acknowledged.
pub struct Handover {
    /// The services' memory and schedule.
    pub flow: Flow,
    kept: Vec<(Instance, Vec<PublishRequest>)>,
    /// Where OrderService's event store is kept (the tab's database), if anywhere.
    keeper: Option<Rc<StoreKeeper>>,
    /// MQTT 3.1.1: the maximum QoS learned of each broker, for the page's lifetime.
    learned: LearnedLimits,
}

impl Handover {
    /// Services that remember nothing yet.
    pub fn new(flow: Flow) -> Self {
        Handover {
            flow,
            kept: Vec::new(),
            keeper: None,
            learned: LearnedLimits::default(),
        }
    }

    /// The same, with OrderService's events kept by `keeper` as they are appended.
    pub fn kept_by(mut self, keeper: Rc<StoreKeeper>) -> Self {
        self.keeper = Some(keeper);
        self
    }
}

/// A message an instance's client received, kept for another try.
struct Received {
    instance: Instance,
    topic: String,
    qos: QoS,
    correlation: Option<String>,
    payload: Vec<u8>,
}

/// What [`Runtime::place_orders`] did: the orders placed, in order, and why it stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The ids of the orders published.
    pub orders: Vec<Uuid>,
    /// Why the next order was not placed (the order gate shut, a publish refused).
    pub refused: Option<String>,
}

impl Runtime {
    /// Connects the four services (and PaymentService's further instances) to `url` with MQTT
    /// `protocol`, their client ids `eda-<session_tag>-<service>` (`…-payment-2`); `report`
    /// receives what the page's panels show, in batches at most every 100 ms, and `trace` every
    /// packet and service event. `handover` is the services' memory ([`Handover::new`], or
    /// what [`Runtime::shut_down`] returned): its scheduled work (deadlines, payments and
    /// reservations in hand) is armed again, and what the old clients had not got
    /// acknowledged is published again.
    pub fn start(
        connection: Connection<'_>,
        handover: Handover,
        trace: SharedTrace,
        report: impl Fn(Action) + 'static,
    ) -> Rc<Self> {
        let Connection {
            url,
            brokers,
            session_tag,
            qos,
            protocol,
            session,
            payment_instances,
            credentials,
            namespace,
        } = connection;
        let report: Report = Rc::new(report);
        let Handover {
            flow,
            kept,
            keeper,
            learned,
        } = handover;
        let instances = Instance::all(payment_instances);
        // InventoryService starts from the stock it holds (the levels it states on connecting).
        report(Action::StockNow(flow.inventory.stock().clone()));
        let style = flow.settings.saga;
        let scheduled = flow.scheduled();
        trace.0.borrow_mut().saga = style;
        // A new client for each service: whatever the old one had in hand is gone.
        {
            let mut trace = trace.0.borrow_mut();
            for service in ServiceId::ALL {
                let url = brokers.url_of(service, url).to_owned();
                trace.record_service(clock::now(), service, ServiceEvent::Restarted { url });
            }
        }
        let runtime = Rc::new_cyclic(|weak: &std::rc::Weak<Runtime>| {
            let clients = instances
                .iter()
                .map(|&instance| {
                    let mut options =
                        service_options(session_tag, instance, protocol, session, namespace);
                    sign_in(&mut options, credentials.for_service(instance.service));
                    let url = brokers.url_of(instance.service, url);
                    let client = connect(weak, instance, options, url, &report);
                    recall(&learned, &client, url);
                    let wanted = filters(instance.service, style, payment_instances, session_tag);
                    subscribe(instance, &client, &wanted, qos, namespace, &report);
                    (instance, client)
                })
                .collect();
            let monitor = {
                let (weak, ns) = (weak.clone(), namespace.clone());
                let mut options = Options::new(format!("eda-{session_tag}-monitor"));
                options.protocol = protocol;
                sign_in(&mut options, credentials.page());
                let monitor = Client::connect(options, url, move |event| {
                    let Some(runtime) = weak.upgrade() else {
                        return;
                    };
                    match event {
                        ClientEvent::Session(Event::Message(message)) => {
                            let topic = ns.strip(&message.topic).unwrap_or_default();
                            if let Some((instance, presence)) =
                                Presence::decode(topic, &message.payload)
                            {
                                runtime.met(&presence);
                                runtime.tell(Action::PresenceSeen(
                                    instance,
                                    presence,
                                    clock::now(),
                                ));
                            }
                        }
                        ClientEvent::Session(Event::Subscribed { .. }) => {
                            runtime.monitor_subscribed()
                        }
                        // Refused for good (the whole page's user or password): said once, as
                        // the badges' "broker: online" lines and the other-page warning need it.
                        ClientEvent::Link(Link::Disconnected { reason, .. })
                            if reason.is_permanent_refusal() =>
                        {
                            runtime.tell(Action::Notified(format!(
                                "The page's status monitor (the whole page's user under Sign in to \
                                 the broker) was refused: {reason}. The services work without it, \
                                 but the badges cannot show what the broker says of them, nor \
                                 the page see another page's services: fix that user and \
                                 password, then Sign in."
                            )));
                        }
                        _ => {}
                    }
                });
                let status_filter = namespace.wire(STATUS_FILTER);
                if let Err(e) = monitor.subscribe(&[(&status_filter, QoS::AtLeastOnce)]) {
                    report(Action::Logged(
                        ServiceId::Notification,
                        problem("subscribe", format!("the status monitor: {e}")),
                    ));
                }
                monitor
            };
            Runtime {
                clients: RefCell::new(clients),
                monitor,
                session_tag: session_tag.to_owned(),
                session,
                payment_instances,
                links: RefCell::new(ServiceLinks::new(&instances)),
                order_gate: RefCell::default(),
                gate_told: RefCell::default(),
                held_back: RefCell::default(),
                url: RefCell::new(url.to_owned()),
                brokers: RefCell::new(brokers.clone()),
                qos: Cell::new(qos),
                flow: RefCell::new(flow),
                subscribed_style: Cell::new(style),
                closed: Cell::new(false),
                others_met: RefCell::default(),
                kept: RefCell::new(kept),
                learned: RefCell::new(learned),
                monitor_ready: Cell::new(false),
                announce_later: RefCell::default(),
                protocol,
                credentials: credentials.clone(),
                acl_probe: Cell::new(None),
                namespace: namespace.clone(),
                report,
                trace,
                keeper,
                pending: RefCell::new(Vec::new()),
                trace_changed: Cell::new(false),
                report_due: Cell::new(None),
                last_report: Cell::new(None),
                report_cost: Rc::new(Cell::new(Duration::ZERO)),
            }
        });
        // What the old clients had not got acknowledged goes out again (an instance no longer
        // run hands its messages to the service's first), queued until connected.
        for (instance, client) in runtime.clients.borrow().clone() {
            runtime.publish_kept(instance, &client);
        }
        let orphans: Vec<(Instance, Vec<PublishRequest>)> = runtime.kept.take();
        for (instance, requests) in orphans {
            runtime
                .kept
                .borrow_mut()
                .push((instance.service.into(), requests));
            let first = runtime.client(instance.service.into());
            runtime.publish_kept(instance.service.into(), &first);
        }
        // What the services had scheduled goes on: due work at once, the rest when due (by the
        // service's first instance: the others' clients are new too).
        if let Some(now) = wall_clock() {
            for (due, work) in scheduled {
                let left = (due.unix_millis() - now.unix_millis()).max(0);
                let worker = work.service().into();
                runtime.arm(Duration::from_millis(left as u64), work, worker);
            }
        }
        runtime
    }

    /// Drops the connection of a service (or one of PaymentService's instances) without a word
    /// of MQTT, as a killed process would: the broker publishes its Last Will. Its simulated
    /// work in hand dies with it; its memory (the sagas, the stock, what it processed) stays, as
    /// a database would. A service with other instances running carries on with them.
    pub fn crash(self: &Rc<Self>, instance: Instance) {
        let Some(client) = self.client_of(instance) else {
            return;
        };
        if self.is_crashed(instance) {
            return;
        }
        let events = self.links.borrow_mut().crash(instance);
        // The charge in its memory is made; the message saying so may not be out yet.
        self.kept
            .borrow_mut()
            .push((instance, client.unacknowledged()));
        client.abort();
        if instance == Instance::from(instance.service) {
            self.order_gate.borrow_mut().left(instance.service);
        }
        let link = Link::Disconnected {
            url: self.url_of(instance.service),
            reason: broker_bridge::ConnectionError::Stopped(CRASHED.to_owned()),
            retry_in: std::time::Duration::ZERO,
            attempt: 0,
        };
        for event in events {
            self.record(instance.service, event);
        }
        self.tell_now(Action::Link(instance, link));
        self.tell(Action::Crashed(instance, clock::now()));
        self.review_order_gate();
    }

    /// Starts a crashed service (or instance) again with a new client under the same client
    /// id: with a persistent session the broker delivers what it queued meanwhile.
    pub fn restart(self: &Rc<Self>, instance: Instance) {
        if !self.is_crashed(instance) {
            return;
        }
        let url = self.url_of(instance.service);
        let restarted = self.links.borrow_mut().restart(instance, &url);
        if let Some(event) = restarted {
            self.record(instance.service, event);
        }
        let mut options = service_options(
            &self.session_tag,
            instance,
            self.protocol,
            self.session,
            &self.namespace,
        );
        sign_in(&mut options, self.credentials.for_service(instance.service));
        let weak = Rc::downgrade(self);
        let client = connect(&weak, instance, options, &url, &self.report);
        recall(&self.learned.borrow(), &client, &url);
        let wanted = self.filters_of(instance.service);
        let qos = self.qos.get();
        subscribe(
            instance,
            &client,
            &wanted,
            qos,
            &self.namespace,
            &self.report,
        );
        self.publish_kept(instance, &client);
        if let Some(slot) = self
            .clients
            .borrow_mut()
            .iter_mut()
            .find(|(i, _)| *i == instance)
        {
            slot.1 = client;
        }
        self.tell(Action::Restarted(instance));
        self.review_order_gate();
    }

    /// Publishes again, with `instance`'s new `client`, what its crashed client had not got
    /// acknowledged, and says so in its log: at least once, so a consumer may see one twice
    /// (and ignores it).
    fn publish_kept(self: &Rc<Self>, instance: Instance, client: &Client) {
        let kept: Vec<PublishRequest> = {
            let mut all = self.kept.borrow_mut();
            let (mine, others): (Vec<_>, Vec<_>) = all.drain(..).partition(|(i, _)| *i == instance);
            *all = others;
            mine.into_iter().flat_map(|(_, kept)| kept).collect()
        };
        if kept.is_empty() {
            return;
        }
        let count = kept.len();
        let topics: Vec<String> = kept.iter().map(|r| r.topic.clone()).collect();
        for request in kept {
            if let Err(e) = client.publish_with(request) {
                self.log(instance.service, problem("restart", e.to_string()));
            }
        }
        let note = format!(
            "published again {count} message{} its crashed client had not got acknowledged \
             ({}): at least once, a consumer may see one twice",
            if count == 1 { "" } else { "s" },
            topics.join(", ")
        );
        self.log(
            instance.service,
            LogEntry {
                at: time_of_day(wall_clock()),
                topic: "restart".to_owned(),
                qos: None,
                correlation: None,
                payload: note,
                outcome: Outcome::Accepted,
            },
        );
    }

    /// Whether the learner crashed `instance` (and has not restarted it).
    fn is_crashed(&self, instance: Instance) -> bool {
        self.links.borrow().is_crashed(instance)
    }

    /// The filters each instance of `service` subscribes to now (shared by PaymentService's
    /// instances when it runs several).
    fn filters_of(&self, service: ServiceId) -> Vec<String> {
        let style = self.subscribed_style.get();
        filters(service, style, self.payment_instances, &self.session_tag)
    }

    /// How long PaymentService and InventoryService work on the next orders.
    pub fn set_delays(&self, delays: Delays) {
        self.flow.borrow_mut().settings.delays = delays;
    }

    /// The saga's style, payment rule and deadline from now on. A new style waits for the
    /// sagas in flight to end ([`Flow::choose_style`]); then it changes who subscribes to
    /// what ([`Runtime::follow_style`]). The stock is [`Runtime::set_stock`]'s.
    pub fn set_flow(self: &Rc<Self>, settings: FlowSettings) {
        let waiting = {
            let mut flow = self.flow.borrow_mut();
            let (stock, saga) = (flow.inventory.stock().clone(), flow.settings.saga);
            let style = settings.saga;
            flow.settings = FlowSettings {
                stock,
                saga,
                ..settings
            };
            flow.choose_style(style);
            flow.style_waiting()
        };
        self.tell(Action::StyleWaiting(waiting));
        self.follow_style();
    }

    /// Makes the clients' subscriptions those of the flow's style, if it changed: the ones no
    /// longer needed are dropped and the new ones made.
    fn follow_style(self: &Rc<Self>) {
        let (old, new) = (
            self.subscribed_style.get(),
            self.flow.borrow().settings.saga,
        );
        if old == new {
            return;
        }
        self.subscribed_style.set(new);
        self.trace.0.borrow_mut().saga = new;
        self.trace_changed.set(true);
        let (instances, tag) = (self.payment_instances, &self.session_tag);
        for (instance, client) in self.clients.borrow().iter() {
            let service = instance.service;
            let wanted = filters(service, new, instances, tag);
            let gone: Vec<String> = filters(service, old, instances, tag)
                .into_iter()
                .filter(|f| !wanted.contains(f))
                .collect();
            if !gone.is_empty() {
                let gone: Vec<String> =
                    gone.iter().map(|f| self.namespace.wire_filter(f)).collect();
                let gone: Vec<&str> = gone.iter().map(String::as_str).collect();
                if let Err(e) = client.unsubscribe(&gone) {
                    self.log(service, problem("unsubscribe", e.to_string()));
                }
            }
            let qos = self.qos.get();
            subscribe(
                *instance,
                client,
                &wanted,
                qos,
                &self.namespace,
                &self.report,
            );
        }
        self.tell(Action::StyleWaiting(None));
    }

    /// The share of published messages sent twice (`?duplicates=`).
    fn duplicates(&self) -> u8 {
        self.flow.borrow().settings.duplicates_percent
    }

    /// Publishes once more, with the client that sent or received it, exactly the message of
    /// the traced PUBLISH numbered `seq` (same topic, payload and QoS): what a consumer sees when
    /// a message is redelivered after a lost acknowledgement. Says why not if the packet is gone
    /// or is not a PUBLISH, or the services are not running.
    pub fn deliver_again(&self, seq: u64) -> Result<(), String> {
        let (service, client_id, publish) = {
            let trace = self.trace.0.borrow();
            let packet = trace
                .packets
                .get(seq)
                .ok_or_else(|| format!("packet {seq} is no longer in the trace"))?;
            match packet.packet.as_ref() {
                broker_bridge::Packet::Publish(p) => {
                    (packet.service, packet.client_id.clone(), p.clone())
                }
                _ => return Err(format!("packet {seq} is not a PUBLISH")),
            }
        };
        let request = PublishRequest::new(&publish.topic, publish.payload.clone(), publish.qos);
        let client = self
            .clients
            .borrow()
            .iter()
            .find(|(_, c)| c.client_id() == client_id)
            .map_or_else(|| self.client(service.into()), |(_, c)| c.clone());
        client
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| format!("{service} could not publish it again: {e}"))
    }

    /// InventoryService's stock on hand from now on (reservations held are kept): the levels
    /// that changed are published retained, and a product no longer counted has its retained
    /// level cleared.
    pub fn set_stock(self: &Rc<Self>, stock: Stock) {
        let retained = {
            let mut flow = self.flow.borrow_mut();
            flow.settings.stock = stock.clone();
            flow.inventory.set_stock(stock.clone())
        };
        self.run(ServiceId::Inventory.into(), retained);
        self.tell(Action::StockNow(stock));
    }

    /// Disconnects the services politely, for good (before a runtime replaces this one), and
    /// hands over their memory and schedule for the next ([`Runtime::start`]): a new MQTT
    /// version, session mode or number of instances means new connections, not new services.
    pub fn shut_down(&self) -> Handover {
        self.closed.set(true);
        let mut kept = self.kept.take();
        for (instance, client) in self.clients.borrow().iter() {
            if !self.is_crashed(*instance) {
                kept.push((*instance, client.unacknowledged()));
            }
        }
        for (instance, client) in self.clients.borrow().iter() {
            // Its DISCONNECT discards the Will: say on purpose that it stopped.
            let stopped = Presence::stopped(instance.service, &client.client_id());
            let _ = client.publish_with(status_request(*instance, &stopped, &self.namespace));
            if instance.service == ServiceId::Payment {
                // The next runtime may subscribe otherwise under the same client id: a kept
                // session would still hold a plain subscription (every message, beside the
                // group's share), and an instance not coming back would keep its place in the
                // group (Mosquitto queues a share for a member whose session outlives it).
                let mine = self.filters_of(ServiceId::Payment);
                let mine: Vec<String> =
                    mine.iter().map(|f| self.namespace.wire_filter(f)).collect();
                let mine: Vec<&str> = mine.iter().map(String::as_str).collect();
                let _ = client.unsubscribe(&mine);
            }
            client.close();
        }
        self.monitor.close();
        let settings = self.flow.borrow().settings.clone();
        Handover {
            flow: self.flow.replace(Flow::new(settings)),
            kept,
            keeper: self.keeper.clone(),
            learned: self.learned.take(),
        }
    }

    /// Publishes, retained, InventoryService's level of one product (or the empty message that
    /// clears it) with `instance`'s client, at `qos`.
    fn retain(&self, instance: Instance, update: &StockUpdate, qos: QoS) -> Result<(), String> {
        let qos = self.capped(instance, qos);
        let topic = self.namespace.wire(&update.topic());
        let request = PublishRequest::new(topic, update.payload(), qos).retained(true);
        self.client(instance)
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// OrderService appended `event` to its store: published on `eventstore/orders/<orderId>`
    /// (QoS 1, or the broker's maximum if lower: a `max_qos 0` broker takes it at most once),
    /// for the read side and anyone watching, and kept in the page's copy of the store (the
    /// Event store panel).
    fn record_stored(self: &Rc<Self>, instance: Instance, event: StoredEvent) {
        let topic = self.namespace.wire(&event.topic());
        let client = self.client(instance);
        let qos = at_most_broker_maximum(&client, QoS::AtLeastOnce);
        let request = PublishRequest::new(topic, event.to_json(), qos);
        if let Err(e) = client.publish_with(request) {
            self.log(instance.service, problem(&event.topic(), e.to_string()));
        }
        if let Err(e) = self.trace.0.borrow_mut().store.insert(event) {
            self.log(instance.service, problem("event store", e.to_string()));
        }
    }

    /// QueryService takes `model` (a rebuild from the event store) as its read model, and the
    /// page's copy follows: the repair after a loss (a clean session while it was down).
    pub fn replace_read_model(self: &Rc<Self>, model: ReadModel) {
        self.flow.borrow_mut().query.restore(model.clone());
        self.trace.0.borrow_mut().read_model = model;
        self.trace_changed.set(true);
        self.report_soon();
    }

    /// OrderService takes over `store`, read back from the tab's database after a reload: its
    /// orders, their histories, and each open saga's deadline (what is left of it). Refused,
    /// with why, once OrderService has appended anything of its own (an order placed before
    /// the database answered): the page then keeps what it has.
    pub fn restore_store(self: &Rc<Self>, store: EventStore) -> Result<String, String> {
        let Some(now) = wall_clock() else {
            return Err("the browser clock is out of range".into());
        };
        let (streams, events) = (store.streams().len(), store.len());
        let commands = {
            let mut flow = self.flow.borrow_mut();
            if !flow.order.store().is_empty() {
                return Err(format!(
                    "The {events} stored events were not restored: orders were placed before \
                     the browser's database answered. The database now holds this page's."
                ));
            }
            flow.restore(store.clone(), now)
        };
        let open = commands.len();
        let model = self.flow.borrow().query.model().clone();
        self.trace.0.borrow_mut().read_model = model;
        self.trace.0.borrow_mut().store = store;
        self.trace_changed.set(true);
        self.report_soon();
        self.run(ServiceId::Order.into(), commands);
        Ok(format!(
            "Restored from the browser's database: {streams} order{} ({events} events), and \
             the read model rebuilt from them; {open} still open, each resuming with what was \
             left of its deadline.",
            if streams == 1 { "" } else { "s" }
        ))
    }

    /// Publishes a domain event with `instance`'s client at its topic's QoS. Under MQTT 5.0 the
    /// event carries its orderId in the `correlationId` user property.
    /// The QoS is the topic's, or the broker's Maximum QoS if lower (the page warns of it, see
    /// `eda_core::state::broker_fit`); a message over the broker's Maximum Packet Size is
    /// reported to the page as well as refused.
    fn publish(self: &Rc<Self>, instance: Instance, event: &DomainEvent) -> Result<(), String> {
        let qos = self.capped(instance, self.qos.get().of(event.topic()));
        let topic = self.namespace.wire(event.topic());
        let mut request = PublishRequest::new(topic, event.to_json(), qos);
        if self.protocol == ProtocolVersion::V5 {
            request = request.with_user_property(
                eda_core::config::CORRELATION_PROPERTY,
                event.order_id().to_string(),
            );
        }
        self.client(instance)
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| {
                if let SessionError::PacketTooLarge { size, max, .. } = e {
                    let warning = broker_fit::message_too_large(event.topic(), size, max);
                    self.tell(Action::CapabilityRefused(warning));
                }
                e.to_string()
            })
    }

    /// `qos`, or the Maximum QoS of `instance`'s broker if that is lower: a client must not
    /// publish above it (MQTT 5.0 §3.2.2.3.4, [MQTT-3.2.2-11]).
    fn capped(&self, instance: Instance, qos: QoS) -> QoS {
        let caps = self.client(instance).capabilities();
        caps.map_or(qos, |caps| caps.cap_qos(qos))
    }

    /// Uses `qos` from now on: subscriptions are made again with each topic's QoS (the broker
    /// replaces them) and every later publish carries its topic's.
    pub fn set_qos(&self, qos: FlowQos) {
        self.qos.set(qos);
        for (instance, client) in self.clients.borrow().iter() {
            let wanted = self.filters_of(instance.service);
            subscribe(
                *instance,
                client,
                &wanted,
                qos,
                &self.namespace,
                &self.report,
            );
        }
    }

    /// Whether a service's client has sent its CONNECT and awaits the broker's answer.
    pub fn awaits_connack(&self) -> bool {
        let clients = self.clients.borrow();
        clients
            .iter()
            .any(|(_, client)| client.status() == broker_bridge::Status::Connecting)
    }

    /// The client of `instance`; the service's first one if the page does not run it.
    fn client(&self, instance: Instance) -> Client {
        self.client_of(instance)
            .or_else(|| self.client_of(instance.service.into()))
            .expect("start() creates a client for every service")
    }

    /// The client of `instance`, if the page runs it.
    fn client_of(&self, instance: Instance) -> Option<Client> {
        let clients = self.clients.borrow();
        let found = clients.iter().find(|(i, _)| *i == instance);
        found.map(|(_, client)| client.clone())
    }

    /// The broker `service`'s clients talk to: its own, or the page's.
    fn url_of(&self, service: ServiceId) -> String {
        let page = self.url.borrow();
        self.brokers.borrow().url_of(service, &page).to_owned()
    }

    /// Makes the broker at `url` (a URL already checked) the page's: the monitor and every
    /// service without a broker of its own move to it (again, if it is the same); the others
    /// stay where they are.
    pub fn set_url(&self, url: &str) {
        *self.url.borrow_mut() = url.to_owned();
        let brokers = self.brokers.borrow().clone();
        self.move_clients(|service| brokers.own(service).is_none());
        self.monitor.set_url(url);
    }

    /// Gives the services in `brokers` a broker of their own from now on, and the others the
    /// page's: each service whose broker changes moves to it.
    pub fn set_service_brokers(&self, brokers: ServiceBrokers) {
        let before: Vec<String> = ServiceId::ALL.map(|s| self.url_of(s)).to_vec();
        *self.brokers.borrow_mut() = brokers;
        self.move_clients(|service| {
            let index = ServiceId::ALL.iter().position(|&s| s == service);
            index.is_none_or(|i| before[i] != self.url_of(service))
        });
    }

    /// Moves the running clients of each service `moves` picks to its broker (a crashed one
    /// connects there when restarted).
    fn move_clients(&self, moves: impl Fn(ServiceId) -> bool) {
        for (instance, client) in self.clients.borrow().iter() {
            if moves(instance.service) && !self.is_crashed(*instance) {
                let url = self.url_of(instance.service);
                // Orders wait until it has subscribed on the new broker (or resumed a session
                // there): an order published before would never reach it.
                self.order_gate.borrow_mut().moved(instance.service);
                client.set_url(&url);
                // Back on a broker whose session is kept, no SUBACK may teach its ceiling
                // again: what was learned of it holds before the first CONNECT.
                recall(&self.learned.borrow(), client, &url);
            }
        }
    }

    /// Every client the broker refused for good (bad user name or password, not authorized …)
    /// tries again now; the others carry on.
    pub fn retry_refused(&self) {
        for (instance, client) in self.clients.borrow().iter() {
            if !self.is_crashed(*instance) && !client.is_connected() {
                client.retry_now();
            }
        }
        if !self.monitor.is_connected() {
            self.monitor.retry_now();
        }
    }

    /// The least-privilege demonstration: PaymentService publishes on `orders/created`, which
    /// its ACL does not allow ([`OUTSIDE_ACL`]). The answer comes as [`Action::AclProbe`]: MQTT
    /// 5.0 PUBACK 0x87 Not authorized; in 3.1.1 a PUBACK that hides the drop.
    pub fn publish_outside_acl(self: &Rc<Self>) -> Result<(), String> {
        let (service, topic) = OUTSIDE_ACL;
        if self.is_crashed(service.into()) {
            return Err(format!("{service} is crashed: restart it first"));
        }
        let payload = format!("{{\"probe\":\"least privilege: {service} publishing on {topic}\"}}");
        let request = PublishRequest::new(
            self.namespace.wire(topic),
            payload.into_bytes(),
            QoS::AtLeastOnce,
        );
        match self.client(service.into()).publish_with(request) {
            Ok(broker_bridge::Publishing::Sent { packet_id }) => {
                self.acl_probe.set(packet_id);
                self.tell(Action::AclProbe(format!(
                    "{service} sent PUBLISH on {topic}; waiting for the broker's answer …"
                )));
                Ok(())
            }
            Ok(_) => Err(format!(
                "{service} is not connected: it would only queue it"
            )),
            Err(e) => Err(format!("{service} could not publish it: {e}")),
        }
    }

    /// The broker answered the least-privilege demonstration's publish.
    fn acl_probe_answered(
        self: &Rc<Self>,
        instance: Instance,
        packet_id: Option<u16>,
        refused: Option<&str>,
    ) {
        let (service, topic) = OUTSIDE_ACL;
        if instance != service.into() || packet_id.is_none() || self.acl_probe.get() != packet_id {
            return;
        }
        self.acl_probe.set(None);
        let text = match (refused, self.protocol) {
            (Some(reason), _) => format!(
                "Refused: {service} may not publish on {topic}, and the broker said so \
                 ({reason}). Nobody received it."
            ),
            (None, ProtocolVersion::V311) => format!(
                "The broker answered PUBACK, as MQTT 3.1.1 requires: 3.1.1 has no way to refuse a \
                 PUBLISH. A broker enforcing the ACL (Mosquitto with \
                 static/mosquitto-secure.conf) dropped it silently: nobody subscribed to {topic} \
                 received it, and {service} cannot tell. Switch to MQTT 5.0 to see the refusal \
                 (reason code 0x87 Not authorized)."
            ),
            (None, _) => format!(
                "Accepted: this broker let {service} publish on {topic} (PUBACK Success): it \
                 enforces no ACL for this user."
            ),
        };
        self.tell(Action::AclProbe(text));
    }

    /// Places `count` copies of `order` (the form's "Place order" is one, "Place 10 orders"
    /// ten), stopping at the first refusal.
    pub fn place_orders(self: &Rc<Self>, order: &ValidOrder, count: usize) -> Placed {
        let mut placed = Placed {
            orders: Vec::with_capacity(count),
            refused: None,
        };
        for _ in 0..count {
            match self.place_order(order) {
                Ok(id) => placed.orders.push(id),
                Err((cause, advice)) => {
                    let sentence = order::orders_refused(&cause, count, placed.orders.len());
                    placed.refused = Some(format!("{sentence}{advice}"));
                    break;
                }
            }
        }
        placed
    }

    /// OrderService publishes the order and returns its id at once, before anyone answers.
    /// Refused, nothing published, while the order gate is shut ([`OrderGate::check`]:
    /// OrderService crashed or not connected, a service not yet subscribed): then why, and what
    /// to do (with a space before it), for the form's sentence ([`order::orders_refused`]).
    fn place_order(self: &Rc<Self>, order: &ValidOrder) -> Result<Uuid, (String, &'static str)> {
        if let Err(refusal) = self.order_gate() {
            return Err((refusal.cause(), refusal.advice()));
        }
        let client = self.client(ServiceId::Order.into());
        if !client.is_connected() {
            let broker_url = self.url_of(ServiceId::Order);
            return Err((
                format!("OrderService is not connected to the broker at {broker_url}"),
                " It reconnects by itself; try again once it has.",
            ));
        }
        let now = wall_clock().ok_or(("the browser clock is out of range".to_owned(), ""))?;
        let order_id = fresh_id();
        let event = DomainEvent::OrderCreated(order::place(now, order_id, order));
        // The click, on the packets' clock, for the sequence diagram's Client lifeline.
        let at = clock::now();
        self.trace
            .0
            .borrow_mut()
            .actions
            .push(UserAction::PlacedOrder { at, order_id });
        self.publish(ServiceId::Order.into(), &event)
            .map_err(|e| (format!("OrderService could not publish: {e}"), ""))?;
        self.record(ServiceId::Order, ServiceEvent::Outcome(LastOutcome::Done));
        Ok(order_id)
    }

    /// Whether OrderService may place an order now ([`OrderGate::check`]): not while it is
    /// crashed or not connected, nor before every service has subscribed once.
    fn order_gate(&self) -> Result<(), OrderRefusal> {
        let order = self.link_state(ServiceId::Order);
        self.order_gate
            .borrow()
            .check(self.subscribed_style.get(), order.as_link())
    }

    /// `service`'s (first instance's) state as the gates need it: crashed, or its link.
    fn link_state(&self, service: ServiceId) -> LinkState {
        let instance = Instance::from(service);
        let links = self.links.borrow();
        if links.is_crashed(instance) {
            return LinkState(None);
        }
        // Before its client's first report the link names no URL yet.
        let reported = links
            .link_of(instance)
            .filter(|link| !link.url().is_empty());
        LinkState(Some(
            reported
                .cloned()
                .unwrap_or_else(|| Link::starting(self.url_of(service))),
        ))
    }

    /// Whether a dead letter of `gave_up` on `topic` may be published again now
    /// ([`OrderGate::check_retry`]).
    fn retry_gate(&self, gave_up: ServiceId, topic: &str) -> Result<(), RetryRefusal> {
        let retry_by = self.link_state(publisher_of(topic).unwrap_or(gave_up));
        let gave_up_state = self.link_state(gave_up);
        let retry = Retry {
            topic,
            gave_up,
            gave_up_link: gave_up_state.as_link(),
            publisher_link: retry_by.as_link(),
            sessions_kept: self.session == SessionMode::Persistent,
        };
        self.order_gate
            .borrow()
            .check_retry(self.subscribed_style.get(), &retry)
    }

    /// Publishes a dead letter's message again (perhaps fixed) to its original `topic`, with
    /// the client of the service that publishes it ([`Retry::publisher`]), if the retry gate lets
    /// it through ([`OrderGate::check_retry`]).
    ///
    /// # Errors
    ///
    /// The page's sentence: why nothing was published ([`retry_refused`], which goes by itself
    /// once the retry could go), or why the publish failed.
    pub fn retry_dead_letter(
        self: &Rc<Self>,
        gave_up: ServiceId,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<(), String> {
        if let Err(refusal) = self.retry_gate(gave_up, topic) {
            return Err(self.hold_back(retry_refused(&refusal), Some((gave_up, topic))));
        }
        *self.held_back.borrow_mut() = None;
        let by = publisher_of(topic).unwrap_or(gave_up);
        self.publish_raw(by, topic, payload)
            .map_err(|reason| format!("Retry: {reason}"))
    }

    /// Publishes a poison message (an order, `payload` on `orders/created`, by OrderService) if
    /// the order gate lets an order through ([`OrderGate::check`]).
    ///
    /// # Errors
    ///
    /// The page's sentence: why nothing was sent ([`poison_refused`], which goes by itself once
    /// an order could go), or why the publish failed.
    pub fn send_poison(self: &Rc<Self>, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        if let Err(refusal) = self.order_gate() {
            return Err(self.hold_back(poison_refused(&refusal), None));
        }
        *self.held_back.borrow_mut() = None;
        self.publish_raw(ServiceId::Order, topic, payload)
            .map_err(|reason| format!("Poison message: {reason}"))
    }

    /// Remembers a refused retry (`Some((gave_up, topic))`) or poison message (`None`) and its
    /// `sentence`, which [`Runtime::review_order_gate`] takes back once it could go; returns
    /// the sentence.
    fn hold_back(&self, sentence: String, retry: Option<(ServiceId, &str)>) -> String {
        *self.held_back.borrow_mut() = Some(HeldBack {
            sentence: sentence.clone(),
            retry: retry.map(|(gave_up, topic)| (gave_up, topic.to_owned())),
        });
        sentence
    }

    /// Looks at the order gate again after a change it depends on, and tells the page if its
    /// answer changed (once orders can be placed, the form's refusal is out of date and goes;
    /// so does the sentence of a retry or poison message held back that could go now).
    fn review_order_gate(self: &Rc<Self>) {
        let passes = self
            .held_back
            .borrow()
            .as_ref()
            .map(|held| match &held.retry {
                Some((gave_up, topic)) => self.retry_gate(*gave_up, topic).is_ok(),
                None => self.order_gate().is_ok(),
            });
        if passes == Some(true) {
            if let Some(held) = self.held_back.borrow_mut().take() {
                self.tell_now(Action::RedeliveryRefusalOutdated(held.sentence));
            }
        }
        let now = self.order_gate().err().map(|refusal| refusal.cause());
        if self.gate_told.borrow().as_ref() == Some(&now) {
            return;
        }
        *self.gate_told.borrow_mut() = Some(now.clone());
        self.tell_now(Action::OrderGate(now));
    }

    fn on_client_event(self: &Rc<Self>, instance: Instance, event: ClientEvent) {
        let service = instance.service;
        match event {
            ClientEvent::Link(link) => {
                if link.is_connected() {
                    self.on_connected(instance);
                } else if instance == Instance::from(service) {
                    // A clean session ends with its connection: subscribed again only after
                    // the next SUBACK (or a CONNACK with Session Present).
                    self.order_gate.borrow_mut().left(service);
                }
                let changed = self.links.borrow_mut().link(instance, link.clone());
                if let Some(event) = changed {
                    self.record(service, event);
                }
                self.tell_now(Action::Link(instance, link));
                self.review_order_gate();
            }
            ClientEvent::Session(Event::Message(message)) => {
                // Every filter is under the namespace: a topic outside it is no message of ours.
                let Some(topic) = self.namespace.strip(&message.topic) else {
                    return;
                };
                let correlation = message
                    .properties
                    .user_property(eda_core::config::CORRELATION_PROPERTY)
                    .map(str::to_owned);
                self.on_message(instance, topic, message.qos, correlation, &message.payload)
            }
            ClientEvent::Session(Event::Subscribed { filters, granted }) => {
                // The flow's filters, as the badges and the flow diagram name them.
                let flow_filter = |f: &String| {
                    self.namespace
                        .strip_filter(f)
                        .map_or_else(|| f.clone(), Into::into)
                };
                let answers = filters
                    .iter()
                    .map(|(f, _)| flow_filter(f))
                    .zip(granted.clone());
                self.record(service, ServiceEvent::Subscribed(answers.collect()));
                // A SUBACK refusing every filter leaves the service deaf: orders keep waiting.
                let any_granted = granted.iter().any(|code| !code.is_failure());
                // Every one counts, not only the first: a retry held back for a clean session
                // waits for the SUBACK after a restart.
                if any_granted {
                    self.order_gate.borrow_mut().subscribed(service);
                    self.review_order_gate();
                }
                for ((filter, _), code) in filters.iter().zip(&granted) {
                    if !code.is_failure() {
                        continue;
                    }
                    let why = code.describe();
                    let text = format!("the broker refused {filter}: {why}");
                    self.log(service, problem("subscribe", text));
                    if broker_bridge::topic::shared_parts(filter).is_some() {
                        self.tell(Action::SharingRefused(format!(
                            "The broker refused {instance}'s shared subscription {filter} \
                             ({why}): PaymentService's instances cannot share its work on this \
                             broker, and nothing reaches them on that topic. Run one instance \
                             (plain subscriptions), or use a broker that supports $share \
                             (Mosquitto 2.0 does, on MQTT 3.1.1 and 5.0)."
                        )));
                    }
                }
            }
            ClientEvent::Session(Event::MessageTooLarge(skipped)) => {
                let at = time_of_day(wall_clock());
                self.log(service, LogEntry::too_large(at, &skipped));
            }
            ClientEvent::Session(Event::BrokerFault(fault)) => {
                let at = time_of_day(wall_clock());
                self.log(service, LogEntry::broker_fault(at, &fault));
            }
            ClientEvent::Session(Event::WillAdjusted(change)) => {
                // Said in the service's log; the next CONNECT carries the Will the broker takes.
                self.log(service, problem("Last Will", change));
            }
            ClientEvent::Session(Event::MaximumQoSLearned(_)) => {
                // MQTT 3.1.1: one client's SUBACK (or the broker's closes) showed the broker's
                // maximum QoS; every client of that broker publishes under it from now on, and
                // the capabilities and the warning say so.
                self.share_maximum_qos(instance);
                if let Some(caps) = self.client(instance).capabilities() {
                    self.tell(Action::BrokerCapabilities(caps));
                }
            }
            ClientEvent::Session(Event::QoSLowered {
                topic, asked, sent, ..
            }) => {
                let topic = self.namespace.strip(&topic).unwrap_or(&topic).to_owned();
                let why = self
                    .client(instance)
                    .capabilities()
                    .and_then(|caps| caps.maximum_qos_learned)
                    .map_or_else(
                        || format!("the broker's CONNACK says Maximum QoS {}", sent.level()),
                        |learned| learned.to_string(),
                    );
                let at = time_of_day(wall_clock());
                let entry = LogEntry::qos_lowered(at, &topic, asked, sent, &why);
                // Said, but no failure on the badge: the message went.
                self.log_and_show(service, entry, false);
            }
            ClientEvent::Session(Event::Packet(packet)) => {
                self.trace.0.borrow_mut().record(service, &packet);
                self.trace_changed.set(true);
                self.report_soon();
            }
            ClientEvent::Session(Event::Delivered { packet_id, .. }) => {
                self.acl_probe_answered(instance, Some(packet_id), None);
            }
            ClientEvent::Session(Event::PublishFailed {
                packet_id,
                topic,
                reason,
            }) => {
                self.acl_probe_answered(instance, packet_id, Some(&reason));
                // A publish the broker refused (e.g. outside the service's ACL) is said, not lost
                // in silence.
                self.log(service, problem(&topic, reason));
            }
            // The broker kept the session, subscriptions included: no SUBSCRIBE follows.
            ClientEvent::Session(Event::Connected {
                session_present: true,
            }) => {
                self.order_gate.borrow_mut().subscribed(service);
                self.review_order_gate();
            }
            ClientEvent::Session(_) => {}
        }
    }

    /// `instance`'s client is connected: it says it is online (retained, so whoever joins later
    /// learns it; its Will says otherwise if it dies), and InventoryService states every
    /// counted product's level (retained: the broker holds the current stock from the start,
    /// and again after it lost it).
    fn on_connected(self: &Rc<Self>, instance: Instance) {
        let service = instance.service;
        self.share_maximum_qos(instance);
        if let Some(caps) = self.client(instance).capabilities() {
            self.tell(Action::BrokerCapabilities(caps));
        }
        if self.monitor_ready.get() {
            self.announce(instance);
        } else {
            self.announce_later.borrow_mut().push(instance);
        }
        if service == ServiceId::Inventory {
            let levels = self.flow.borrow().inventory.levels();
            for command in levels {
                if let Command::Retain(update) = command {
                    // QoS 0, like the status: an acknowledgement on every new connection would
                    // make it look healthy at once (see `status_request`).
                    if let Err(e) = self.retain(instance, &update, QoS::AtMostOnce) {
                        self.log(service, problem(&update.topic(), e));
                    }
                }
            }
        }
    }

    /// MQTT 3.1.1: the lowest maximum QoS a client of `instance`'s broker learned holds for
    /// all of that broker's clients (a service publishing at QoS 2 that subscribes at 1 would
    /// otherwise learn it only from the broker closing its connection).
    fn share_maximum_qos(&self, instance: Instance) {
        let url = self.url_of(instance.service);
        let clients: Vec<Client> = self
            .clients
            .borrow()
            .iter()
            .filter(|(i, _)| self.url_of(i.service) == url)
            .map(|(_, c)| c.clone())
            .collect();
        let lowest = clients
            .iter()
            .filter_map(|c| c.capabilities()?.maximum_qos_learned)
            .min_by_key(|learned| learned.maximum);
        if let Some(learned) = &lowest {
            self.learned.borrow_mut().note(&url, learned);
        }
        if let Some(learned) = self.learned.borrow().of(&url) {
            for client in &clients {
                client.learn_maximum_qos(learned.clone());
            }
        }
    }

    /// `instance` says, retained, that it is online.
    fn announce(self: &Rc<Self>, instance: Instance) {
        let client = self.client(instance);
        if let Some(now) = wall_clock() {
            let online = Presence::online(instance.service, &client.client_id(), now);
            let request = status_request(instance, &online, &self.namespace);
            if let Err(e) = client.publish_with(request) {
                self.log(instance.service, problem("status", e.to_string()));
            }
        }
    }

    /// The monitor's subscription is in place: the instances connected meanwhile say they are
    /// online now (another page's services, hearing it, answer: see [`Runtime::met`]).
    fn monitor_subscribed(self: &Rc<Self>) {
        self.monitor_ready.set(true);
        let waiting = std::mem::take(&mut *self.announce_later.borrow_mut());
        for instance in waiting {
            if !self.is_crashed(instance) && self.client(instance).is_connected() {
                self.announce(instance);
            }
        }
    }

    /// The monitor saw a status: if it is another page's service online, met for the first
    /// time, our services say they are online again, not retained. Each status topic retains
    /// one message, the last page's, so a page that connected later would otherwise never learn
    /// of this one; not retained, so the slot stays the last page's and the two stop there.
    fn met(self: &Rc<Self>, presence: &Presence) {
        let ours = format!("eda-{}-", self.session_tag);
        if presence.client_id.starts_with(&ours) {
            return;
        }
        if !presence.is_online() {
            self.others_met.borrow_mut().remove(&presence.client_id);
            return;
        }
        if !self
            .others_met
            .borrow_mut()
            .insert(presence.client_id.clone())
        {
            return;
        }
        let Some(now) = wall_clock() else {
            return;
        };
        for (instance, client) in self.clients.borrow().iter() {
            if self.is_crashed(*instance) || !client.is_connected() {
                continue;
            }
            let online = Presence::online(instance.service, &client.client_id(), now);
            let topic = self.namespace.wire(&status_topic(*instance));
            let request = PublishRequest::new(topic, online.to_json(), QoS::AtMostOnce);
            let _ = client.publish_with(request);
        }
    }

    /// Records what `service` did for its badge in the flow diagram (in the trace, so the
    /// playback's clock governs it like the packets).
    fn record(self: &Rc<Self>, service: ServiceId, event: ServiceEvent) {
        self.trace
            .0
            .borrow_mut()
            .record_service(clock::now(), service, event);
        self.trace_changed.set(true);
        self.report_soon();
    }

    /// A line in `service`'s event log, and its badge's last outcome.
    fn log(self: &Rc<Self>, service: ServiceId, entry: LogEntry) {
        self.log_and_show(service, entry, true);
    }

    /// A line in `service`'s event log; the badge shows its outcome when `shown` (a message
    /// accepted that made the service do nothing leaves the badge as it was: a failure stays
    /// on screen though a cancellation follows it).
    fn log_and_show(self: &Rc<Self>, service: ServiceId, entry: LogEntry, shown: bool) {
        let outcome = match &entry.outcome {
            Outcome::Accepted | Outcome::Duplicate(_) | Outcome::Kept(_) | Outcome::Lowered(_) => {
                LastOutcome::Done
            }
            Outcome::Rejected(reason) | Outcome::Failed(reason) => {
                LastOutcome::Failed(reason.clone())
            }
        };
        if shown {
            self.record(service, ServiceEvent::Outcome(outcome));
        }
        self.tell(Action::Logged(service, entry));
    }

    /// Tells the page, with the next batch.
    fn tell(self: &Rc<Self>, action: Action) {
        self.pending.borrow_mut().push(action);
        self.report_soon();
    }

    /// Tells the page at once, with whatever else is pending: a change of a service's
    /// connection, rare under any load, and what a learner watches at start-up. Not from a
    /// timer: at start-up a timer waits behind every socket event and render queued meanwhile
    /// (Yew still renders it after this task, from a microtask).
    fn tell_now(self: &Rc<Self>, action: Action) {
        self.pending.borrow_mut().push(action);
        self.report_pending();
    }

    /// Reports at most once a period ([`report_period`]: 100 ms, stretched up to 400 ms while
    /// each report costs the page much to draw), and at once (from a zero-delay timer) when the
    /// last report is that long ago: a lone change, such as a packet, is shown without waiting
    /// out a period; a burst of messages (100 orders a second is ~1200 actions and ~3000
    /// packets) re-renders once a period.
    fn report_soon(self: &Rc<Self>) {
        let period = report_period(self.report_cost.get());
        let wait = self.last_report.get().map_or(Duration::ZERO, |last| {
            (last + period).saturating_sub(clock::now())
        });
        self.schedule_report(wait);
    }

    /// Sends what is pending in `wait`, unless a report is already due by then; a report due
    /// later is brought forward (its timer, when it fires, finds itself replaced).
    fn schedule_report(self: &Rc<Self>, wait: Duration) {
        let due = clock::now() + wait;
        if self
            .report_due
            .get()
            .is_some_and(|scheduled| scheduled <= due)
        {
            return;
        }
        self.report_due.set(Some(due));
        let runtime = Rc::downgrade(self);
        Timeout::new(wait.as_millis() as u32, move || {
            let Some(runtime) = runtime.upgrade() else {
                return;
            };
            if runtime.report_due.get() == Some(due) {
                runtime.report_pending();
            }
        })
        .forget();
    }

    /// Sends what is pending now, in one batch; a report scheduled meanwhile finds itself
    /// replaced and sends nothing.
    fn report_pending(&self) {
        self.report_due.set(None);
        let started = clock::now();
        self.last_report.set(Some(started));
        let mut actions = std::mem::take(&mut *self.pending.borrow_mut());
        if self.trace_changed.replace(false) {
            actions.push(Action::TraceChanged);
        }
        if !actions.is_empty() {
            crate::busy::follow(actions.len());
            (self.report)(Action::Batch(actions));
            // Yew renders from a microtask queued by the report; this one is queued after it,
            // so it runs once the render is done.
            let cost = self.report_cost.clone();
            wasm_bindgen_futures::spawn_local(async move {
                cost.set(clock::now().saturating_sub(started));
            });
        }
    }

    fn on_message(
        self: &Rc<Self>,
        instance: Instance,
        topic: &str,
        qos: QoS,
        correlation: Option<String>,
        payload: &[u8],
    ) {
        let message = Received {
            instance,
            topic: topic.to_owned(),
            qos,
            correlation,
            payload: payload.to_vec(),
        };
        self.handle_message(message, 1);
    }

    /// Handles a message on its `attempt`-th try: processed, or logged, retried after a
    /// failing handler, or published to the service's dead letters ([`next_step`]).
    fn handle_message(self: &Rc<Self>, message: Received, attempt: u32) {
        let (instance, service) = (message.instance, message.instance.service);
        let decision = match wall_clock() {
            Some(now) => {
                let decision =
                    self.flow
                        .borrow_mut()
                        .handle(service, now, &message.topic, &message.payload);
                self.follow_style();
                decision
            }
            None => Err(Rejection::new("the browser clock is out of range")),
        };
        let rejection = decision.as_ref().err();
        let step = rejection.map(|r| next_step(r.kind, attempt));
        let outcome = match (&decision, step) {
            (Ok(_), _) => Outcome::Accepted,
            (Err(r), _) if r.is_duplicate() => Outcome::Duplicate(r.reason.clone()),
            (Err(r), _) if r.kind == RejectionKind::Early => Outcome::Kept(r.reason.clone()),
            (Err(r), Some(Step::Retry { .. })) => Outcome::Failed(format!(
                "{} (attempt {attempt} of {MAX_ATTEMPTS}; trying again)",
                r.reason
            )),
            (Err(r), Some(Step::DeadLetter)) => Outcome::Rejected(format!(
                "{} (attempt {attempt}; sent to {})",
                r.reason,
                self.namespace.wire(&deadletter_topic(service))
            )),
            (Err(r), _) => Outcome::Rejected(r.reason.clone()),
        };
        // A duplicate ignored, like a message that asked for nothing, leaves the badge as it was.
        let did_something = match &decision {
            // QueryService's projection changes its read model and publishes nothing.
            Ok(commands) => !commands.is_empty() || service == ServiceId::Query,
            Err(rejection) => !rejection.is_duplicate(),
        };
        self.log_and_show(
            service,
            LogEntry {
                at: time_of_day(wall_clock()),
                topic: message.topic.clone(),
                qos: Some(message.qos),
                correlation: message.correlation.clone(),
                payload: String::from_utf8_lossy(&message.payload).into_owned(),
                outcome,
            },
            did_something,
        );
        // QueryService projected the event at once (no delay): the page's copy follows.
        if let (ServiceId::Query, Ok(commands)) = (service, &decision) {
            if commands.is_empty() {
                if let Ok(event) = StoredEvent::decode_on(&message.topic, &message.payload) {
                    self.trace.0.borrow_mut().read_model.project(&event);
                }
            }
        }
        match (decision, step) {
            (Ok(commands), _) => self.run(instance, commands),
            (Err(_), Some(Step::Retry { after })) => {
                let runtime = Rc::downgrade(self);
                let millis = after.as_millis().min(u32::MAX as u128) as u32;
                Timeout::new(millis, move || {
                    if let Some(runtime) = runtime.upgrade() {
                        if !runtime.closed.get() && !runtime.is_crashed(message.instance) {
                            runtime.handle_message(message, attempt + 1);
                        }
                    }
                })
                .forget();
            }
            (Err(rejection), Some(Step::DeadLetter)) => {
                self.dead_letter(&message, &rejection.reason, attempt)
            }
            _ => {}
        }
    }

    /// Publishes `message` to its service's dead letters, with why and how many tries.
    fn dead_letter(self: &Rc<Self>, message: &Received, reason: &str, attempts: u32) {
        let Some(now) = wall_clock() else {
            return;
        };
        let service = message.instance.service;
        let letter = DeadLetter {
            service: service.name().to_owned(),
            topic: message.topic.clone(),
            payload: String::from_utf8_lossy(&message.payload).into_owned(),
            reason: reason.to_owned(),
            attempts,
            failed_at: now,
        };
        let client = self.client(message.instance);
        let request = PublishRequest::new(
            self.namespace.wire(&deadletter_topic(service)),
            letter.to_json(),
            at_most_broker_maximum(&client, QoS::AtLeastOnce),
        );
        if let Err(e) = client.publish_with(request) {
            self.log(service, problem("dead letter", e.to_string()));
        }
    }

    /// Publishes `payload` to `topic` with `service`'s (first) client at the topic's QoS: a
    /// dead letter's message retried (perhaps fixed), or a poison message sent on purpose, once
    /// their gate let them through ([`Runtime::retry_dead_letter`], [`Runtime::send_poison`]).
    fn publish_raw(&self, service: ServiceId, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        if self.is_crashed(service.into()) {
            return Err(format!("{service} is crashed: restart it first"));
        }
        let qos = self.capped(service.into(), self.qos.get().of(topic));
        let wire = self.namespace.wire(topic);
        let request = PublishRequest::new(wire, payload, qos);
        self.client(service.into())
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| format!("{service} could not publish it: {e}"))
    }

    /// Arms a timer for `work`, due `after` from now, done by `worker`; the flow has it in its
    /// schedule. Busy work shows on its service's badge. Work of a crashed instance dies (a
    /// saga's deadline is kept, as a scheduler would keep it, and acts once OrderService is
    /// back).
    fn arm(self: &Rc<Self>, after: Duration, work: Work, worker: Instance) {
        let (order_id, busy) = (work.order_id(), work.is_busy());
        // On the packets' clock, so the flow diagram counts down against it.
        let due = clock::now() + after;
        if busy {
            self.links.borrow_mut().work_started(worker, order_id);
            self.record(worker.service, ServiceEvent::WorkStarted { order_id, due });
        }
        let runtime = Rc::downgrade(self);
        let millis = after.as_millis().min(u32::MAX as u128) as u32;
        Timeout::new(millis, move || {
            let Some(runtime) = runtime.upgrade() else {
                return;
            };
            if runtime.closed.get() {
                return;
            }
            if runtime.is_crashed(worker) {
                if busy {
                    runtime.flow.borrow_mut().abandon(&work);
                    runtime.follow_style();
                } else {
                    runtime.arm(RETRY_DEADLINE, work, worker);
                }
                return;
            }
            // Before the result goes out, so a publish that fails is the last word.
            if busy {
                runtime.links.borrow_mut().work_done(worker, order_id);
                runtime.record(worker.service, ServiceEvent::WorkDone { order_id });
            }
            if let Work::Project(event) = &work {
                // The page's copy of the read model follows QueryService's.
                runtime.trace.0.borrow_mut().read_model.project(event);
                runtime.trace_changed.set(true);
                runtime.report_soon();
            }
            match wall_clock() {
                Some(now) => {
                    let done = runtime.flow.borrow_mut().complete(work, now, fresh_id());
                    runtime.run(worker, done);
                    runtime.follow_style();
                }
                None => runtime.log(
                    worker.service,
                    problem("work", "the browser clock is out of range".into()),
                ),
            }
        })
        .forget();
    }

    /// Carries out what `instance`'s service decided, with `instance`'s client: the instance
    /// that received a message does the work it starts and publishes the result.
    fn run(self: &Rc<Self>, instance: Instance, commands: Vec<Command>) {
        // The outbox: what OrderService decided with an append goes out once the append is in
        // the tab's database, so a reload cannot lose an event whose consequences were seen.
        if let (Some(keeper), ServiceId::Order) = (&self.keeper, instance.service) {
            for command in &commands {
                if let Command::Record(event) = command {
                    keeper.keep(event);
                }
            }
            let runtime = Rc::downgrade(self);
            keeper.after_kept(Box::new(move || {
                if let Some(runtime) = runtime.upgrade() {
                    runtime.run_now(instance, commands);
                }
            }));
            return;
        }
        self.run_now(instance, commands);
    }

    /// [`Runtime::run`], now.
    fn run_now(self: &Rc<Self>, instance: Instance, commands: Vec<Command>) {
        let service = instance.service;
        // The stock changed (the decision says so with its retained levels): the page shows it.
        let stock_changed = commands.iter().any(|c| matches!(c, Command::Retain(_)));
        for command in commands {
            match command {
                Command::Publish(event) => {
                    let twice = published_twice(event.identity(), self.duplicates());
                    let result = self.publish(instance, &event).and_then(|()| {
                        // The duplicate-rate injection: the same message once more, as a
                        // redelivery after a lost acknowledgement would look to a consumer.
                        if twice {
                            self.publish(instance, &event)
                        } else {
                            Ok(())
                        }
                    });
                    if let Err(e) = result {
                        self.log(service, problem(event.topic(), e));
                    } else if event.is_failure() && service != ServiceId::Order {
                        // The service that failed a step shows it on its badge.
                        let reason = failure_reason(&event);
                        self.record(service, ServiceEvent::Outcome(LastOutcome::Failed(reason)));
                    }
                }
                Command::Retain(update) => {
                    let qos = self.qos.get().of(&update.topic());
                    if let Err(e) = self.retain(instance, &update, qos) {
                        self.log(service, problem(&update.topic(), e));
                    }
                }
                Command::Schedule { after, work } => {
                    let worker = if work.service() == service {
                        instance
                    } else {
                        work.service().into()
                    };
                    self.arm(after, work, worker);
                }
                Command::Notify(text) => self.tell(Action::Notified(text)),
                Command::Record(event) => self.record_stored(instance, event),
            }
        }
        if stock_changed {
            let now = self.flow.borrow().inventory.stock().clone();
            self.tell(Action::StockNow(now));
        }
    }
}

/// Why a failure message says the step failed.
fn failure_reason(event: &DomainEvent) -> String {
    match event {
        DomainEvent::PaymentProcessed(p) => p.reason.clone(),
        DomainEvent::InventoryReserved(r) => r.reason.clone(),
        DomainEvent::OrderCancelled(c) => Some(c.reason.clone()),
        _ => None,
    }
    .unwrap_or_else(|| "failed".to_owned())
}

/// How long a saga's deadline waits to act again while OrderService is crashed.
const RETRY_DEADLINE: Duration = Duration::from_millis(500);

/// A service's state for the gates: `None` while crashed, else its link.
struct LinkState(Option<Link>);

impl LinkState {
    fn as_link(&self) -> OrderLink<'_> {
        self.0.as_ref().map_or(OrderLink::Crashed, OrderLink::Up)
    }
}

/// A *Retry* (of `retry`'s service's dead letter on its topic) or a poison message (`None`) the
/// gate held back, and what the page was told.
struct HeldBack {
    sentence: String,
    retry: Option<(ServiceId, String)>,
}

/// The connection options of a service's (or instance's) client: its client id, MQTT version,
/// session kept or not, and its Last Will (retained "offline" on its own status topic).
fn service_options(
    session_tag: &str,
    instance: Instance,
    protocol: ProtocolVersion,
    session: SessionMode,
    namespace: &Namespace,
) -> Options {
    let (service, id) = (instance.service, instance.client_id(session_tag));
    let mut options = Options::new(id.clone());
    options.protocol = protocol;
    let persistent = session == SessionMode::Persistent;
    options.clean_session = !persistent;
    if persistent && protocol == ProtocolVersion::V5 {
        options.session_expiry = Some(SESSION_EXPIRY);
    }
    let will = Presence::will(service, &id);
    let topic = namespace.wire(&status_topic(instance));
    let mut last_will = LastWill::new(topic, will.to_json(), QoS::AtLeastOnce);
    last_will.retain = true;
    options.will = Some(last_will);
    options
}

/// The User Name and Password of `login`, if any, in `options`.
fn sign_in(options: &mut Options, login: Option<&Login>) {
    options.username = login.map(|l| l.username().to_owned());
    options.password = login.and_then(Login::password);
}

/// How long the broker keeps a persistent 5.0 session after its connection ends.
const SESSION_EXPIRY: std::time::Duration = std::time::Duration::from_secs(3600);

/// A retained status message of `service`, at QoS 0: the broker keeps it all the same, and an
/// acknowledgement would make every new connection look healthy at once (the reconnect delay
/// starts over only for a connection that carried the flow's traffic).
fn status_request(
    instance: Instance,
    presence: &Presence,
    namespace: &Namespace,
) -> PublishRequest {
    let topic = namespace.wire(&status_topic(instance));
    PublishRequest::new(topic, presence.to_json(), QoS::AtMostOnce).retained(true)
}

/// `qos`, or the maximum QoS `client`'s broker takes if lower (stated in its 5.0 CONNACK, or
/// learned under 3.1.1): a client must not send above it ([MQTT-3.2.2-11]).
fn at_most_broker_maximum(client: &Client, qos: QoS) -> QoS {
    client
        .capabilities()
        .map_or(qos, |caps| qos.min(caps.maximum_qos))
}

/// MQTT 3.1.1: hands `client`, of the broker at `url`, the maximum QoS learned of that broker
/// (by this or another client, earlier in the page's life), if any.
fn recall(learned: &LearnedLimits, client: &Client, url: &str) {
    if let Some(learned) = learned.of(url) {
        client.learn_maximum_qos(learned.clone());
    }
}

/// A client for `instance` that reports to the runtime behind `weak`.
fn connect(
    weak: &std::rc::Weak<Runtime>,
    instance: Instance,
    options: Options,
    url: &str,
    report: &Report,
) -> Client {
    let (weak, early_report) = (weak.clone(), report.clone());
    Client::connect(options, url, move |event| {
        if let Some(runtime) = weak.upgrade() {
            runtime.on_client_event(instance, event);
        } else if let ClientEvent::Link(link) = event {
            // Events before `new_cyclic` returns: only link changes occur.
            early_report(Action::Link(instance, link));
        }
    })
}

/// Subscribes `instance`'s client to `filters` (the flow's, put under `namespace` on the wire),
/// each at the QoS of its topic (a shared subscription's, its filter's). The session remembers
/// them and makes them again on every new connection.
fn subscribe(
    instance: Instance,
    client: &Client,
    filters: &[String],
    qos: FlowQos,
    namespace: &Namespace,
    report: &Report,
) {
    let wired: Vec<(String, QoS)> = filters
        .iter()
        .map(|f| {
            let topic = broker_bridge::topic::shared_parts(f).map_or(f.as_str(), |(_, t)| t);
            (namespace.wire_filter(f), qos.of(topic))
        })
        .collect();
    let topics: Vec<(&str, QoS)> = wired.iter().map(|(f, q)| (f.as_str(), *q)).collect();
    if topics.is_empty() {
        return;
    }
    if let Err(e) = client.subscribe(&topics) {
        let entry = problem("subscribe", e.to_string());
        report(Action::Logged(instance.service, entry));
    }
}

fn problem(topic: &str, reason: String) -> LogEntry {
    LogEntry {
        at: time_of_day(wall_clock()),
        topic: topic.to_owned(),
        qos: None,
        correlation: None,
        payload: String::new(),
        outcome: Outcome::Failed(reason),
    }
}
