//! The driver of the four services: each gets its own MQTT client (`broker_bridge::ws`), its
//! messages go through the pure decisions in [`eda_core::services`], and the commands those return
//! are carried out here: publish, arm a timer for simulated work, notify. Everything the page
//! shows is reported as a [`state::Action`](eda_core::state::Action).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use broker_bridge::ws::{Client, ClientEvent, Link};
use broker_bridge::{Event, Options, ProtocolVersion, PublishRequest, QoS};
use gloo::timers::callback::Timeout;
use uuid::Uuid;

use crate::SharedTrace;
use eda_core::domain::order_form::ValidOrder;
use eda_core::domain::{DomainEvent, Timestamp};
use eda_core::services::{self, order, Command, Delays, ServiceId};
use eda_core::state::{client_id, Action, FlowQos, LinkView, LogEntry, Outcome};
use eda_core::trace::UserAction;

/// What the services did reaches the page at most this often, in one batch, so a burst of
/// messages (100 orders a second is ~1200 actions and ~3000 packets) re-renders once.
const REPORT_EVERY_MS: u32 = 100;

type Report = Rc<dyn Fn(Action)>;

pub struct Runtime {
    clients: Vec<(ServiceId, Client)>,
    /// The QoS of each topic's subscriptions and publishes.
    qos: Cell<FlowQos>,
    delays: Cell<Delays>,
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

/// Wall-clock time as the domain's timestamp (the domain never reads the clock itself).
fn wall_clock() -> Option<Timestamp> {
    Timestamp::from_unix_millis(js_sys::Date::now() as i64).ok()
}

fn time_of_day(now: Option<Timestamp>) -> String {
    // "2024-01-15T10:30:00.800Z" → "10:30:00.800"
    now.map(|t| t.to_string().get(11..23).unwrap_or_default().to_owned())
        .unwrap_or_default()
}

impl Runtime {
    /// Connects the four services to `url` with MQTT `protocol`; `report` receives everything
    /// the page shows.
    pub fn start(
        url: &str,
        session_tag: &str,
        qos: FlowQos,
        protocol: ProtocolVersion,
        trace: SharedTrace,
        report: impl Fn(Action) + 'static,
    ) -> Rc<Self> {
        let report: Report = Rc::new(report);
        Rc::new_cyclic(|weak: &std::rc::Weak<Runtime>| {
            let clients = ServiceId::ALL
                .iter()
                .map(|&service| {
                    let (weak, early_report) = (weak.clone(), report.clone());
                    let mut options = Options::new(client_id(session_tag, service));
                    options.protocol = protocol;
                    let client = Client::connect(options, url, move |event| {
                        if let Some(runtime) = weak.upgrade() {
                            runtime.on_client_event(service, event);
                        } else if let ClientEvent::Link(link) = event {
                            // Events before `new_cyclic` returns: only link changes occur.
                            early_report(Action::Link(service, link_view(link)));
                        }
                    });
                    subscribe(service, &client, qos, &report);
                    (service, client)
                })
                .collect();
            Runtime {
                clients,
                qos: Cell::new(qos),
                delays: Cell::new(Delays::default()),
                protocol,
                report,
                trace,
                pending: RefCell::new(Vec::new()),
                trace_changed: Cell::new(false),
                report_scheduled: Cell::new(false),
            }
        })
    }

    /// How long PaymentService and InventoryService work on the next orders.
    pub fn set_delays(&self, delays: Delays) {
        self.delays.set(delays);
    }

    /// Disconnects the four services politely, for good (before a runtime replaces this one).
    pub fn shut_down(&self) {
        for (_, client) in &self.clients {
            client.close();
        }
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
        for (service, client) in &self.clients {
            subscribe(*service, client, qos, &self.report);
        }
    }

    fn client(&self, service: ServiceId) -> &Client {
        &self
            .clients
            .iter()
            .find(|(s, _)| *s == service)
            .expect("start() creates a client for every service")
            .1
    }

    pub fn set_url(&self, url: &str) {
        for (_, client) in &self.clients {
            client.set_url(url);
        }
    }

    /// OrderService publishes the order and returns its id at once, before anyone answers.
    /// Refused, with a reason for the form, while OrderService is not connected.
    pub fn place_order(&self, order: &ValidOrder, broker_url: &str) -> Result<Uuid, String> {
        let client = self.client(ServiceId::Order);
        if !client.is_connected() {
            return Err(format!(
                "OrderService is not connected to the broker at {broker_url}, so the order was \
                 not placed. Start Mosquitto (./scripts/play) or fix the broker URL, then try again."
            ));
        }
        let now = wall_clock().ok_or("the browser clock is out of range")?;
        let order_id = Uuid::new_v4();
        let event = DomainEvent::OrderCreated(order::place(now, order_id, order));
        // The click, on the packets' clock, for the sequence diagram's Client lifeline.
        self.trace
            .0
            .borrow_mut()
            .actions
            .push(UserAction::PlacedOrder {
                at: broker_bridge::ws::now(),
                order_id,
            });
        self.publish(ServiceId::Order, &event)
            .map_err(|e| format!("OrderService could not publish the order: {e}"))?;
        Ok(order_id)
    }

    fn on_client_event(self: &Rc<Self>, service: ServiceId, event: ClientEvent) {
        match event {
            ClientEvent::Link(link) => self.tell(Action::Link(service, link_view(link))),
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
                for ((filter, _), code) in filters.iter().zip(&granted) {
                    if code.is_failure() {
                        self.tell(Action::Logged(
                            service,
                            problem(
                                "subscribe",
                                format!("the broker refused {filter}: {}", code.describe()),
                            ),
                        ));
                    }
                }
            }
            ClientEvent::Session(Event::Packet(packet)) => {
                self.trace.0.borrow_mut().packets.record(service, &packet);
                self.trace_changed.set(true);
                self.report_soon();
            }
            ClientEvent::Session(_) => {}
        }
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
        let decision = services::handle(service, &self.delays.get(), topic, payload);
        let outcome = match &decision {
            Ok(_) => Outcome::Accepted,
            Err(rejection) => Outcome::Rejected(rejection.reason.clone()),
        };
        self.tell(Action::Logged(
            service,
            LogEntry {
                at: time_of_day(wall_clock()),
                topic: topic.to_owned(),
                qos: Some(qos),
                correlation,
                payload: String::from_utf8_lossy(payload).into_owned(),
                outcome,
            },
        ));
        if let Ok(commands) = decision {
            self.run(service, commands);
        }
    }

    fn run(self: &Rc<Self>, service: ServiceId, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Publish(event) => {
                    if let Err(e) = self.publish(service, &event) {
                        self.tell(Action::Logged(service, problem(event.topic(), e)));
                    }
                }
                Command::Schedule { after, work } => {
                    let (worker, order_id) = (work.service(), work.order_id());
                    // On the packets' clock, so the flow diagram counts down against it.
                    self.tell(Action::WorkStarted {
                        service: worker,
                        order_id,
                        due: broker_bridge::ws::now() + after,
                    });
                    let runtime = Rc::downgrade(self);
                    let millis = after.as_millis().min(u32::MAX as u128) as u32;
                    Timeout::new(millis, move || {
                        let Some(runtime) = runtime.upgrade() else {
                            return;
                        };
                        // Before the result goes out, so a publish that fails is the last word.
                        runtime.tell(Action::WorkDone {
                            service: worker,
                            order_id,
                        });
                        match wall_clock() {
                            Some(now) => {
                                runtime.run(worker, services::complete(work, now, Uuid::new_v4()))
                            }
                            None => runtime.tell(Action::Logged(
                                worker,
                                problem("work", "the browser clock is out of range".into()),
                            )),
                        }
                    })
                    .forget();
                }
                Command::Notify(text) => self.tell(Action::Notified(text)),
            }
        }
    }
}

/// Subscribes `service`'s client to its topics, each at its QoS. The session remembers them and
/// makes them again on every new connection.
fn subscribe(service: ServiceId, client: &Client, qos: FlowQos, report: &Report) {
    let topics: Vec<_> = service
        .subscriptions()
        .iter()
        .map(|&t| (t, qos.of(t)))
        .collect();
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

fn link_view(link: Link) -> LinkView {
    match link {
        Link::Connecting { attempt, .. } => LinkView::Connecting { attempt },
        Link::Connected { .. } => LinkView::Connected,
        Link::Disconnected {
            reason,
            retry_in,
            attempt,
            ..
        } => LinkView::Disconnected {
            reason: reason.to_string(),
            retry_in,
            attempt,
        },
    }
}
