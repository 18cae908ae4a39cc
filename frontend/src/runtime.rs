//! The driver of the four services: each gets its own MQTT client (`broker_bridge::ws`), its
//! messages go through the pure decisions in [`eda_core::services`], and the commands those return
//! are carried out here: publish, arm a timer for simulated work, notify. What the page's
//! panels show is reported as a [`state::Action`](eda_core::state::Action); every packet, and
//! every [`ServiceEvent`] the flow diagram's badges are projected from, goes into the trace.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use broker_bridge::ws::{Client, ClientEvent};
use broker_bridge::{Event, LastWill, Link, Options, ProtocolVersion, PublishRequest, QoS};
use gloo::timers::callback::Timeout;
use uuid::Uuid;

use crate::clock::{self, fresh_id, time_of_day, wall_clock};
use crate::SharedTrace;
use eda_core::domain::order_form::ValidOrder;
use eda_core::domain::DomainEvent;
use eda_core::services::dead_letter::{
    deadletter_topic, next_step, DeadLetter, Step, MAX_ATTEMPTS,
};
use eda_core::services::presence::{status_topic, Presence, STATUS_FILTER};
use eda_core::services::{
    order, published_twice, Command, Delays, Flow, FlowSettings, Rejection, ServiceId, Stock,
};
use eda_core::state::{client_id, Action, FlowQos, LogEntry, Outcome, SessionMode};
use eda_core::trace::service_status::CRASHED;
use eda_core::trace::service_status::{LastOutcome, ServiceEvent};
use eda_core::trace::UserAction;

/// What the services did reaches the page at most this often, in one batch, so a burst of
/// messages (100 orders a second is ~1200 actions and ~3000 packets) re-renders once.
const REPORT_EVERY_MS: u32 = 100;

type Report = Rc<dyn Fn(Action)>;

pub struct Runtime {
    /// Each service's client; a restart replaces one.
    clients: RefCell<Vec<(ServiceId, Client)>>,
    /// Follows `services/+/status` for the page: the services' status as the broker tells it.
    monitor: Client,
    /// `eda-<tag>`: the client ids' stem.
    session_tag: String,
    /// Whether the broker keeps the services' sessions while they are away.
    session: SessionMode,
    /// Services the learner crashed and has not restarted.
    crashed: RefCell<Vec<ServiceId>>,
    /// The broker the clients use.
    url: RefCell<String>,
    /// The QoS of each topic's subscriptions and publishes.
    qos: Cell<FlowQos>,
    /// What the four services remember, and the settings they decide by.
    flow: RefCell<Flow>,
    /// InventoryService's stock as the page was last told it ([`Action::StockNow`]).
    stock_told: RefCell<Stock>,
    protocol: ProtocolVersion,
    report: Report,
    trace: SharedTrace,
    /// What happened since the last report, in order.
    pending: RefCell<Vec<Action>>,
    /// Packets were recorded since the last report.
    trace_changed: Cell<bool>,
    /// A report is already scheduled.
    report_scheduled: Cell<bool>,
}

/// How the four services connect.
#[derive(Debug, Clone, Copy)]
pub struct Connection<'a> {
    /// The broker's URL, already checked.
    pub url: &'a str,
    /// Six hex digits: the client ids are `eda-<tag>-<service>`.
    pub session_tag: &'a str,
    /// Each topic's QoS.
    pub qos: FlowQos,
    /// MQTT 3.1.1 or 5.0.
    pub protocol: ProtocolVersion,
    /// Whether the broker keeps their sessions while they are away.
    pub session: SessionMode,
}

/// A message a service's client received, kept for another try.
struct Received {
    service: ServiceId,
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
    /// Why the next order was not placed (OrderService not connected, a publish refused).
    pub refused: Option<String>,
}

impl Runtime {
    /// Connects the four services to `url` with MQTT `protocol`, their client ids
    /// `eda-<session_tag>-<service>`; `report` receives what the page's panels show, in
    /// batches at most every 100 ms, and `trace` every packet and service event.
    pub fn start(
        connection: Connection<'_>,
        settings: FlowSettings,
        trace: SharedTrace,
        report: impl Fn(Action) + 'static,
    ) -> Rc<Self> {
        let Connection {
            url,
            session_tag,
            qos,
            protocol,
            session,
        } = connection;
        let report: Report = Rc::new(report);
        let style = settings.saga;
        trace.0.borrow_mut().saga = style;
        // A new client for each service: whatever the old one had in hand is gone.
        {
            let mut trace = trace.0.borrow_mut();
            for service in ServiceId::ALL {
                let url = url.to_owned();
                trace
                    .services
                    .record(clock::now(), service, ServiceEvent::Restarted { url });
            }
        }
        Rc::new_cyclic(|weak: &std::rc::Weak<Runtime>| {
            let clients = ServiceId::ALL
                .iter()
                .map(|&service| {
                    let options = service_options(session_tag, service, protocol, session);
                    let client = connect(weak, service, options, url, &report);
                    subscribe(service, &client, service.subscriptions(style), qos, &report);
                    (service, client)
                })
                .collect();
            let monitor = {
                let weak = weak.clone();
                let mut options = Options::new(format!("eda-{session_tag}-monitor"));
                options.protocol = protocol;
                let monitor = Client::connect(options, url, move |event| {
                    if let (Some(runtime), ClientEvent::Session(Event::Message(message))) =
                        (weak.upgrade(), event)
                    {
                        if let Some((service, presence)) =
                            Presence::decode(&message.topic, &message.payload)
                        {
                            runtime.tell(Action::PresenceSeen(service, presence, clock::now()));
                        }
                    }
                });
                if let Err(e) = monitor.subscribe(&[(STATUS_FILTER, QoS::AtLeastOnce)]) {
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
                crashed: RefCell::new(Vec::new()),
                url: RefCell::new(url.to_owned()),
                qos: Cell::new(qos),
                stock_told: RefCell::new(settings.stock.clone()),
                flow: RefCell::new(Flow::new(settings)),
                protocol,
                report,
                trace,
                pending: RefCell::new(Vec::new()),
                trace_changed: Cell::new(false),
                report_scheduled: Cell::new(false),
            }
        })
    }

    /// Drops `service`'s connection without a word of MQTT, as a killed process would: the
    /// broker publishes its Last Will. Its simulated work in hand dies with it; its memory (the
    /// sagas, the stock, what it processed) stays, as a database would.
    pub fn crash(self: &Rc<Self>, service: ServiceId) {
        if self.crashed.borrow().contains(&service) {
            return;
        }
        self.crashed.borrow_mut().push(service);
        self.client(service).abort();
        let link = Link::Disconnected {
            url: self.url.borrow().clone(),
            reason: broker_bridge::ConnectionError::Stopped(CRASHED.to_owned()),
            retry_in: std::time::Duration::ZERO,
            attempt: 0,
        };
        self.record(service, ServiceEvent::Crashed);
        self.tell(Action::Link(service, link));
        self.tell(Action::Crashed(service, clock::now()));
    }

    /// Starts `service` again with a new client under the same client id: with a persistent
    /// session the broker delivers what it queued meanwhile.
    pub fn restart(self: &Rc<Self>, service: ServiceId) {
        if !self.crashed.borrow().contains(&service) {
            return;
        }
        self.crashed.borrow_mut().retain(|s| *s != service);
        let url = self.url.borrow().clone();
        self.record(service, ServiceEvent::Restarted { url: url.clone() });
        let options = service_options(&self.session_tag, service, self.protocol, self.session);
        let weak = Rc::downgrade(self);
        let client = connect(&weak, service, options, &url, &self.report);
        let style = self.flow.borrow().settings.saga;
        subscribe(
            service,
            &client,
            service.subscriptions(style),
            self.qos.get(),
            &self.report,
        );
        if let Some(slot) = self
            .clients
            .borrow_mut()
            .iter_mut()
            .find(|(s, _)| *s == service)
        {
            slot.1 = client;
        }
        self.tell(Action::Restarted(service));
    }

    /// Whether `service` is crashed.
    fn is_crashed(&self, service: ServiceId) -> bool {
        self.crashed.borrow().contains(&service)
    }

    /// How long PaymentService and InventoryService work on the next orders.
    pub fn set_delays(&self, delays: Delays) {
        self.flow.borrow_mut().settings.delays = delays;
    }

    /// The saga's style, payment rule and deadline from now on (orders in flight keep the style
    /// they started under). A new style changes who subscribes to what: subscriptions no
    /// longer needed are dropped and new ones made. The stock is [`Runtime::set_stock`]'s.
    pub fn set_flow(self: &Rc<Self>, settings: FlowSettings) {
        let old = self.flow.borrow().settings.saga;
        let new = settings.saga;
        {
            let mut flow = self.flow.borrow_mut();
            let stock = flow.inventory.stock().clone();
            flow.settings = FlowSettings { stock, ..settings };
        }
        if old != new {
            self.trace.0.borrow_mut().saga = new;
            self.trace_changed.set(true);
            for (service, client) in self.clients.borrow().iter() {
                let gone: Vec<&str> = service
                    .subscriptions(old)
                    .iter()
                    .copied()
                    .filter(|t| !service.subscriptions(new).contains(t))
                    .collect();
                if !gone.is_empty() {
                    if let Err(e) = client.unsubscribe(&gone) {
                        self.log(*service, problem("unsubscribe", e.to_string()));
                    }
                }
                subscribe(
                    *service,
                    client,
                    service.subscriptions(new),
                    self.qos.get(),
                    &self.report,
                );
            }
            self.report_soon();
        }
    }

    /// The share of published messages sent twice (`?duplicates=`).
    fn duplicates(&self) -> u8 {
        self.flow.borrow().settings.duplicates_percent
    }

    /// Publishes once more, with `service`'s client, exactly the message of the traced PUBLISH
    /// numbered `seq` (same topic, payload and QoS): what a consumer sees when a message is
    /// redelivered after a lost acknowledgement. Says why not if the packet is gone or is not a
    /// PUBLISH, or the services are not running.
    pub fn deliver_again(&self, seq: u64) -> Result<(), String> {
        let (service, publish) = {
            let trace = self.trace.0.borrow();
            let packet = trace
                .packets
                .get(seq)
                .ok_or_else(|| format!("packet {seq} is no longer in the trace"))?;
            match packet.packet.as_ref() {
                broker_bridge::Packet::Publish(p) => (packet.service, p.clone()),
                _ => return Err(format!("packet {seq} is not a PUBLISH")),
            }
        };
        let request = PublishRequest::new(&publish.topic, publish.payload.clone(), publish.qos);
        self.client(service)
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| format!("{service} could not publish it again: {e}"))
    }

    /// InventoryService's stock on hand from now on (reservations held are kept).
    pub fn set_stock(self: &Rc<Self>, stock: Stock) {
        let mut flow = self.flow.borrow_mut();
        flow.settings.stock = stock.clone();
        flow.inventory.set_stock(stock.clone());
        drop(flow);
        *self.stock_told.borrow_mut() = stock.clone();
        self.tell(Action::StockNow(stock));
    }

    /// Disconnects the four services politely, for good (before a runtime replaces this one).
    pub fn shut_down(&self) {
        for (service, client) in self.clients.borrow().iter() {
            // Its DISCONNECT discards the Will: say on purpose that it stopped.
            let stopped = Presence::stopped(*service, &client.client_id());
            let _ = client.publish_with(status_request(*service, &stopped));
            client.close();
        }
        self.monitor.close();
    }

    /// Publishes a domain event with `service`'s client at its topic's QoS. Under MQTT 5.0 the
    /// event carries its orderId in the `correlationId` user property.
    fn publish(&self, service: ServiceId, event: &DomainEvent) -> Result<(), String> {
        let qos = self.qos.get().of(event.topic());
        let mut request = PublishRequest::new(event.topic(), event.to_json(), qos);
        if self.protocol == ProtocolVersion::V5 {
            request = request.with_user_property(
                eda_core::config::CORRELATION_PROPERTY,
                event.order_id().to_string(),
            );
        }
        self.client(service)
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Uses `qos` from now on: subscriptions are made again with each topic's QoS (the broker
    /// replaces them) and every later publish carries its topic's.
    pub fn set_qos(&self, qos: FlowQos) {
        self.qos.set(qos);
        let style = self.flow.borrow().settings.saga;
        for (service, client) in self.clients.borrow().iter() {
            subscribe(
                *service,
                client,
                service.subscriptions(style),
                qos,
                &self.report,
            );
        }
    }

    fn client(&self, service: ServiceId) -> Client {
        self.clients
            .borrow()
            .iter()
            .find(|(s, _)| *s == service)
            .expect("start() creates a client for every service")
            .1
            .clone()
    }

    /// Moves every client to the broker at `url` (a URL already checked).
    pub fn set_url(&self, url: &str) {
        *self.url.borrow_mut() = url.to_owned();
        for (service, client) in self.clients.borrow().iter() {
            if !self.is_crashed(*service) {
                client.set_url(url);
            }
        }
        self.monitor.set_url(url);
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
    /// Refused while OrderService is not connected: then why, and what to do (with a space
    /// before it), for the form's sentence ([`order::orders_refused`]).
    fn place_order(self: &Rc<Self>, order: &ValidOrder) -> Result<Uuid, (String, &'static str)> {
        let client = self.client(ServiceId::Order);
        let broker_url = self.url.borrow();
        if !client.is_connected() {
            return Err((
                format!("OrderService is not connected to the broker at {broker_url}"),
                " Start Mosquitto (./scripts/play) or fix the broker URL, then try again.",
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
        self.publish(ServiceId::Order, &event)
            .map_err(|e| (format!("OrderService could not publish: {e}"), ""))?;
        self.record(ServiceId::Order, ServiceEvent::Outcome(LastOutcome::Done));
        Ok(order_id)
    }

    fn on_client_event(self: &Rc<Self>, service: ServiceId, event: ClientEvent) {
        match event {
            ClientEvent::Link(link) => {
                if link.is_connected() {
                    // Retained, so whoever joins later learns it is up (its Will says otherwise
                    // if it dies).
                    let client = self.client(service);
                    if let Some(now) = wall_clock() {
                        let online = Presence::online(service, &client.client_id(), now);
                        if let Err(e) = client.publish_with(status_request(service, &online)) {
                            self.log(service, problem("status", e.to_string()));
                        }
                    }
                }
                self.record(service, ServiceEvent::Link(link.clone()));
                self.tell(Action::Link(service, link));
            }
            ClientEvent::Session(Event::Message(message)) => {
                let correlation = message
                    .properties
                    .user_property(eda_core::config::CORRELATION_PROPERTY)
                    .map(str::to_owned);
                self.on_message(
                    service,
                    &message.topic,
                    message.qos,
                    correlation,
                    &message.payload,
                )
            }
            ClientEvent::Session(Event::Subscribed { filters, granted }) => {
                let answers = filters.iter().map(|(f, _)| f.clone()).zip(granted.clone());
                self.record(service, ServiceEvent::Subscribed(answers.collect()));
                for ((filter, _), code) in filters.iter().zip(&granted) {
                    if code.is_failure() {
                        self.log(
                            service,
                            problem(
                                "subscribe",
                                format!("the broker refused {filter}: {}", code.describe()),
                            ),
                        );
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
            ClientEvent::Session(Event::Packet(packet)) => {
                self.trace.0.borrow_mut().record(service, &packet);
                self.trace_changed.set(true);
                self.report_soon();
            }
            ClientEvent::Session(_) => {}
        }
    }

    /// Records what `service` did for its badge in the flow diagram (in the trace, so the
    /// playback's clock governs it like the packets).
    fn record(self: &Rc<Self>, service: ServiceId, event: ServiceEvent) {
        self.trace
            .0
            .borrow_mut()
            .services
            .record(clock::now(), service, event);
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
            Outcome::Accepted | Outcome::Duplicate(_) => LastOutcome::Done,
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

    fn report_soon(self: &Rc<Self>) {
        if self.report_scheduled.replace(true) {
            return;
        }
        let runtime = Rc::downgrade(self);
        Timeout::new(REPORT_EVERY_MS, move || {
            if let Some(runtime) = runtime.upgrade() {
                runtime.report_scheduled.set(false);
                let mut actions = std::mem::take(&mut *runtime.pending.borrow_mut());
                if runtime.trace_changed.replace(false) {
                    actions.push(Action::TraceChanged);
                }
                if !actions.is_empty() {
                    (runtime.report)(Action::Batch(actions));
                }
            }
        })
        .forget();
    }

    fn on_message(
        self: &Rc<Self>,
        service: ServiceId,
        topic: &str,
        qos: QoS,
        correlation: Option<String>,
        payload: &[u8],
    ) {
        let message = Received {
            service,
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
        let service = message.service;
        let decision = match wall_clock() {
            Some(now) => {
                self.flow
                    .borrow_mut()
                    .handle(service, now, &message.topic, &message.payload)
            }
            None => Err(Rejection::new("the browser clock is out of range")),
        };
        let rejection = decision.as_ref().err();
        let step = rejection.map(|r| next_step(r.kind, attempt));
        let outcome = match (&decision, step) {
            (Ok(_), _) => Outcome::Accepted,
            (Err(r), _) if r.is_duplicate() => Outcome::Duplicate(r.reason.clone()),
            (Err(r), Some(Step::Retry { .. })) => Outcome::Failed(format!(
                "{} (attempt {attempt} of {MAX_ATTEMPTS}; trying again)",
                r.reason
            )),
            (Err(r), Some(Step::DeadLetter)) => Outcome::Rejected(format!(
                "{} (attempt {attempt}; sent to {})",
                r.reason,
                deadletter_topic(service)
            )),
            (Err(r), _) => Outcome::Rejected(r.reason.clone()),
        };
        // A duplicate ignored, like a message that asked for nothing, leaves the badge as it was.
        let did_something = match &decision {
            Ok(commands) => !commands.is_empty(),
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
        match (decision, step) {
            (Ok(commands), _) => self.run(service, commands),
            (Err(_), Some(Step::Retry { after })) => {
                let runtime = Rc::downgrade(self);
                let millis = after.as_millis().min(u32::MAX as u128) as u32;
                Timeout::new(millis, move || {
                    if let Some(runtime) = runtime.upgrade() {
                        if !runtime.is_crashed(message.service) {
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
        let letter = DeadLetter {
            service: message.service.name().to_owned(),
            topic: message.topic.clone(),
            payload: String::from_utf8_lossy(&message.payload).into_owned(),
            reason: reason.to_owned(),
            attempts,
            failed_at: now,
        };
        let request = PublishRequest::new(
            deadletter_topic(message.service),
            letter.to_json(),
            QoS::AtLeastOnce,
        );
        if let Err(e) = self.client(message.service).publish_with(request) {
            self.log(message.service, problem("dead letter", e.to_string()));
        }
    }

    /// Publishes `payload` to `topic` with `service`'s client at the topic's QoS: a dead
    /// letter's message retried (perhaps fixed), or a poison message sent on purpose.
    pub fn publish_raw(
        &self,
        service: ServiceId,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<(), String> {
        if self.is_crashed(service) {
            return Err(format!("{service} is crashed: restart it first"));
        }
        let request = PublishRequest::new(topic, payload, self.qos.get().of(topic));
        self.client(service)
            .publish_with(request)
            .map(|_| ())
            .map_err(|e| format!("{service} could not publish it: {e}"))
    }

    fn run(self: &Rc<Self>, service: ServiceId, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Publish(event) => {
                    let twice = published_twice(event.identity(), self.duplicates());
                    let result = self.publish(service, &event).and_then(|()| {
                        // The duplicate-rate injection: the same message once more, as a
                        // redelivery after a lost acknowledgement would look to a consumer.
                        if twice {
                            self.publish(service, &event)
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
                Command::Schedule { after, work } => {
                    let (worker, order_id, busy) =
                        (work.service(), work.order_id(), work.is_busy());
                    // On the packets' clock, so the flow diagram counts down against it.
                    let due = clock::now() + after;
                    if busy {
                        self.record(worker, ServiceEvent::WorkStarted { order_id, due });
                    }
                    let runtime = Rc::downgrade(self);
                    let millis = after.as_millis().min(u32::MAX as u128) as u32;
                    Timeout::new(millis, move || {
                        let Some(runtime) = runtime.upgrade() else {
                            return;
                        };
                        if runtime.is_crashed(worker) {
                            // The deadline of a saga is kept (as a scheduler would keep it) and
                            // acts once OrderService is back; simulated work died in the crash.
                            if !busy {
                                runtime.run(
                                    worker,
                                    vec![Command::Schedule {
                                        after: RETRY_DEADLINE,
                                        work,
                                    }],
                                );
                            }
                            return;
                        }
                        // Before the result goes out, so a publish that fails is the last word.
                        if busy {
                            runtime.record(worker, ServiceEvent::WorkDone { order_id });
                        }
                        match wall_clock() {
                            Some(now) => {
                                let done =
                                    runtime.flow.borrow_mut().complete(work, now, fresh_id());
                                runtime.run(worker, done)
                            }
                            None => runtime.log(
                                worker,
                                problem("work", "the browser clock is out of range".into()),
                            ),
                        }
                    })
                    .forget();
                }
                Command::Notify(text) => self.tell(Action::Notified(text)),
            }
        }
        // Against what the page was last told, not the stock when these commands were made:
        // a reservation changes it in `complete`, before its commands get here.
        let now = self.flow.borrow().inventory.stock().clone();
        if now != *self.stock_told.borrow() {
            *self.stock_told.borrow_mut() = now.clone();
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
const RETRY_DEADLINE: std::time::Duration = std::time::Duration::from_millis(500);

/// The connection options of `service`'s client: its client id, MQTT version, session kept or
/// not, and its Last Will (retained "offline" on its status topic).
fn service_options(
    session_tag: &str,
    service: ServiceId,
    protocol: ProtocolVersion,
    session: SessionMode,
) -> Options {
    let id = client_id(session_tag, service);
    let mut options = Options::new(id.clone());
    options.protocol = protocol;
    let persistent = session == SessionMode::Persistent;
    options.clean_session = !persistent;
    if persistent && protocol == ProtocolVersion::V5 {
        options.session_expiry = Some(SESSION_EXPIRY);
    }
    let will = Presence::will(service, &id);
    let mut last_will = LastWill::new(status_topic(service), will.to_json(), QoS::AtLeastOnce);
    last_will.retain = true;
    options.will = Some(last_will);
    options
}

/// How long the broker keeps a persistent 5.0 session after its connection ends.
const SESSION_EXPIRY: std::time::Duration = std::time::Duration::from_secs(3600);

/// A retained status message of `service`, at QoS 0: the broker keeps it all the same, and an
/// acknowledgement would make every new connection look healthy at once (the reconnect delay
/// starts over only for a connection that carried the flow's traffic).
fn status_request(service: ServiceId, presence: &Presence) -> PublishRequest {
    PublishRequest::new(status_topic(service), presence.to_json(), QoS::AtMostOnce).retained(true)
}

/// A client for `service` that reports to the runtime behind `weak`.
fn connect(
    weak: &std::rc::Weak<Runtime>,
    service: ServiceId,
    options: Options,
    url: &str,
    report: &Report,
) -> Client {
    let (weak, early_report) = (weak.clone(), report.clone());
    Client::connect(options, url, move |event| {
        if let Some(runtime) = weak.upgrade() {
            runtime.on_client_event(service, event);
        } else if let ClientEvent::Link(link) = event {
            // Events before `new_cyclic` returns: only link changes occur.
            early_report(Action::Link(service, link));
        }
    })
}

/// Subscribes `service`'s client to `topics`, each at its QoS. The session remembers them and
/// makes them again on every new connection.
fn subscribe(service: ServiceId, client: &Client, topics: &[&str], qos: FlowQos, report: &Report) {
    let topics: Vec<_> = topics.iter().map(|&t| (t, qos.of(t))).collect();
    if topics.is_empty() {
        return;
    }
    if let Err(e) = client.subscribe(&topics) {
        report(Action::Logged(service, problem("subscribe", e.to_string())));
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
