//! Starting and shutting down: [`Runtime::start`] connects a client per service instance and
//! the status monitor, and takes up a [`Handover`] (the services' memory, what the old clients
//! had not got acknowledged, their schedule, the messages waiting for their next try); [`Runtime::shut_down`] disconnects them politely
//! and returns the handover for the next runtime.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::ws::{Client, ClientEvent};
use broker_bridge::{Event, Link, Options, PublishRequest, QoS};

use crate::clock::{self, wall_clock};
use crate::SharedTrace;
use eda_core::domain::topics::{INVENTORY_STOCK_FILTER, INVENTORY_STOCK_PREFIX};
use eda_core::services::instances::{filters, Instance};
use eda_core::services::order_gate::READ_SIDE_WAIT;
use eda_core::services::presence::watch::PresenceWatch;
use eda_core::services::presence::{Heard, Presence, STATUS_FILTER};
use eda_core::services::{Flow, ServiceId};
use eda_core::state::Action;
use eda_core::trace::service_links::ServiceLinks;
use eda_core::trace::service_status::ServiceEvent;
use eda_core::trace::Participant;

use super::clients::{connect, recall, service_options, sign_in, subscribe};
use super::presence::status_request;
use super::report::problem;
use super::{Connection, Handover, Report, Runtime};

impl Runtime {
    /// Connects the four services (and PaymentService's further instances) to `url` with MQTT
    /// `protocol`, their client ids `eda-<session_tag>-<service>` (`…-payment-2`); `report`
    /// receives what the page's panels show, in batches at most every 100 ms, and `trace` every
    /// packet and service event. `handover` is the services' memory ([`Handover::new`], or
    /// what [`Runtime::shut_down`] returned): its scheduled work (deadlines, payments and
    /// reservations in hand) and the messages waiting for their next try are armed again, and
    /// what the old clients had not got acknowledged is published again.
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
            carried,
            pending_tries,
            keeper,
            current,
            learned,
            held_back,
        } = handover;
        let instances = Instance::all(payment_instances);
        // InventoryService starts from the stock it holds (the levels it states on connecting).
        report(Action::StockNow(flow.inventory.stock().clone()));
        let held = flow.inventory.held();
        report(Action::StockHeld(held.clone()));
        let style = flow.settings.saga;
        let scheduled = flow.scheduled();
        trace.0.borrow_mut().saga = style;
        // A new client for each service: whatever the old one had in hand is gone.
        {
            let mut trace = trace.0.borrow_mut();
            trace.record_restart_all(clock::now(), &instances);
            for service in ServiceId::ALL {
                let url = brokers.url_of(service, url).to_owned();
                trace.record_service(clock::now(), service, ServiceEvent::Restarted { url });
            }
        }
        let early_links = super::clients::EarlyLinks::default();
        let runtime = Rc::new_cyclic(|weak: &std::rc::Weak<Runtime>| {
            let clients = instances
                .iter()
                .map(|&instance| {
                    let mut options =
                        service_options(session_tag, instance, protocol, session, namespace);
                    sign_in(&mut options, credentials.for_service(instance.service));
                    let url = brokers.url_of(instance.service, url);
                    let client = connect(weak, instance, options, url, &report, &early_links);
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
                let monitor_url = url.to_owned();
                let monitor = Client::connect(options, url, move |event| {
                    let Some(runtime) = weak.upgrade() else {
                        return;
                    };
                    match event {
                        ClientEvent::Session(Event::Message(message)) => {
                            let topic = ns.strip(&message.topic).unwrap_or_default();
                            if topic.starts_with(INVENTORY_STOCK_PREFIX) {
                                runtime.stock_heard(topic, &message.payload);
                            } else if let Some((instance, heard)) =
                                Heard::read(topic, &message.payload)
                            {
                                runtime.met(instance, &heard, message.retain);
                                if let Heard::Status(presence) = heard {
                                    runtime.status_heard(instance, &presence);
                                    runtime.tell(Action::PresenceSeen(
                                        instance,
                                        presence,
                                        (!message.retain).then(clock::now),
                                    ));
                                }
                            }
                        }
                        // Over the page's size limit, skipped unread: false all the same, so put
                        // right as an unreadable one is.
                        ClientEvent::Session(Event::MessageTooLarge(skipped)) => {
                            let topic = ns.strip(&skipped.topic).unwrap_or_default();
                            if topic.starts_with(INVENTORY_STOCK_PREFIX) {
                                runtime.stock_too_large(topic, skipped.size);
                            } else if let Some((instance, _)) = Heard::read(topic, b"") {
                                let heard = Heard::TooLarge { size: skipped.size };
                                runtime.met(instance, &heard, skipped.retain);
                            }
                        }
                        ClientEvent::Session(Event::Subscribed { .. }) => {
                            runtime.monitor_subscribed()
                        }
                        // Traced like a service's: the Last Wills and the stock levels on the
                        // wire views (37-U F1, F15).
                        ClientEvent::Session(Event::Packet(packet)) => {
                            runtime.trace_packet(Participant::Monitor, &packet)
                        }
                        // Refused for good (the whole page's user or password): said once, as
                        // the badges' "broker: online" lines and the other-page warning need it.
                        ClientEvent::Link(Link::Disconnected { reason, .. })
                            if reason.is_permanent_refusal() =>
                        {
                            runtime.monitor_refused();
                            // The in-page broker has no users: clear the password (41-AJ F3).
                            let advice = broker_bridge::url::is_in_page(&monitor_url)
                                .then(|| reason.refusal_advice_at(&monitor_url))
                                .flatten();
                            runtime.tell(Action::MonitorRefused(reason.to_string(), advice));
                        }
                        // Lost (or never made): the badges' status lines are the last heard,
                        // and the page says why while services elsewhere carry on (35-L F8).
                        // Stopped on purpose (a broker switch) is no loss.
                        ClientEvent::Link(Link::Disconnected { reason, .. })
                            if !reason.is_stopped() =>
                        {
                            runtime.tell(Action::MonitorLost(reason.to_string()));
                        }
                        // Accepted (signed in again): a refusal said before is followed by
                        // "Signed in", so the notifications do not end on a failure.
                        ClientEvent::Link(Link::Connected { .. }) => {
                            runtime.monitor_refused.set(false);
                            runtime.tell(Action::MonitorAccepted);
                        }
                        _ => {}
                    }
                });
                // The services' status, and the stock levels InventoryService keeps true.
                let status_filter = namespace.wire(STATUS_FILTER);
                let stock_filter = namespace.wire(INVENTORY_STOCK_FILTER);
                let wanted = [
                    (status_filter.as_str(), QoS::AtLeastOnce),
                    (stock_filter.as_str(), QoS::AtLeastOnce),
                ];
                if let Err(e) = monitor.subscribe(&wanted) {
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
                left_sessions: RefCell::default(),
                session_tag: session_tag.to_owned(),
                session,
                payment_instances,
                links: RefCell::new(ServiceLinks::new(&instances)),
                order_gate: RefCell::default(),
                gate_told: RefCell::default(),
                form_refusal: RefCell::default(),
                gate_after_read: Cell::default(),
                held_told: RefCell::new(held),
                // The page was told by the runtime this one replaces, if any.
                style_waiting_told: Cell::new(flow.style_waiting()),
                held_back: RefCell::new(held_back.map(|held| held.for_instances(&instances))),
                armed: RefCell::new(Vec::new()),
                awaiting_echo: RefCell::default(),
                url: RefCell::new(url.to_owned()),
                brokers: RefCell::new(brokers.clone()),
                qos: Cell::new(qos),
                flow: RefCell::new(flow),
                subscribed_style: Cell::new(style),
                closed: Cell::new(false),
                pending_tries: RefCell::default(),
                checks_behind_owed: RefCell::default(),
                watch: RefCell::new(PresenceWatch::new(session_tag)),
                relay: RefCell::default(),
                announced: RefCell::default(),
                online_since: RefCell::default(),
                kept: RefCell::new(kept),
                carried: RefCell::new(carried),
                learned: RefCell::new(learned),
                monitor_ready: Cell::new(false),
                announce_later: RefCell::default(),
                monitor_refused: Cell::new(false),
                protocol,
                credentials: credentials.clone(),
                acl_probe: Cell::new(None),
                acl_probe_delivered: Cell::new(None),
                namespace: namespace.clone(),
                report,
                trace,
                keeper,
                current: current.clone(),
                pending: RefCell::new(Vec::new()),
                trace_changed: Cell::new(false),
                report_due: Cell::new(None),
                last_report: Cell::new(None),
                report_cost: Rc::new(Cell::new(Duration::ZERO)),
            }
        });
        // What the runtime before it decided and the tab's database had not kept yet is carried
        // out by this one once it is kept.
        *current.borrow_mut() = Rc::downgrade(&runtime);
        // Sessions earlier pages of the tab left on the broker, ended after the services
        // connect.
        runtime.end_left_sessions();
        // Orders wait for QueryService's first SUBACK at start-up only, and not for long: the
        // read side must not hold the write side back.
        runtime.later(READ_SIDE_WAIT, |runtime| {
            runtime.order_gate.borrow_mut().read_side_released();
            runtime.review_order_gate();
        });
        // The links reported while the runtime was built (the page has them already).
        for (instance, link) in early_links.take() {
            runtime.note_link(instance, &link);
        }
        // What the old clients had not got acknowledged goes out again (an instance no longer
        // run hands its messages to the service's first), queued until connected.
        for (instance, client) in runtime.clients.borrow().clone() {
            runtime.publish_kept(instance, &client, super::crash::PREVIOUS_CLIENT);
        }
        // An instance no longer run cannot resume its session: what it had in flight is
        // published anew, by the service's first instance, with what it had not sent.
        // (`publish_kept` above took every running instance's.)
        for (instance, carried) in runtime.carried.take() {
            runtime
                .kept
                .borrow_mut()
                .push((instance, carried.into_requests()));
        }
        let orphans: Vec<(Instance, Vec<PublishRequest>)> = runtime.kept.take();
        for (instance, requests) in orphans {
            runtime
                .kept
                .borrow_mut()
                .push((instance.service.into(), requests));
            let first = runtime.client(instance.service.into());
            runtime.publish_kept(
                instance.service.into(),
                &first,
                super::crash::PREVIOUS_CLIENT,
            );
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
        // The messages waiting for their next try go on, each when due.
        runtime.resume_tries(pending_tries);
        runtime
    }

    /// Disconnects the services politely, for good (before a runtime replaces this one), and
    /// hands over their memory and schedule for the next ([`Runtime::start`]): a new MQTT
    /// version, session mode or number of instances means new connections, not new services.
    /// `next_instances`: another runtime follows on this page, running that many PaymentService
    /// instances; `None` when none follows (a recording is shown; *Back to live* reloads).
    pub fn shut_down(&self, next_instances: Option<u8>) -> Handover {
        self.closed.set(true);
        // Until the next runtime starts (none while a recording is shown), no runtime carries
        // out what the database keeps meanwhile.
        *self.current.borrow_mut() = std::rc::Weak::new();
        let mut kept = self.kept.take();
        let mut carried = self.carried.take();
        for (instance, client) in self.clients.borrow().iter() {
            if !self.is_crashed(*instance) {
                // In flight, with their packet ids, for the next client under the same client
                // id to send again as its session's own; then what was not sent yet.
                carried.push((*instance, client.take_in_flight()));
                kept.push((*instance, client.unacknowledged()));
            }
        }
        for (instance, client) in self.clients.borrow().iter() {
            // Its DISCONNECT discards the Will: say on purpose that it stopped.
            let stopped = Presence::stopped(instance.service, &client.client_id());
            let _ = client.publish_with(status_request(*instance, &stopped, &self.namespace));
            // An instance the next runtime does not run (PaymentService's instances lowered)
            // leaves its shared subscriptions: Mosquitto keeps a member whose session outlives
            // it in the group and queues its share for it. One that comes back keeps what it
            // subscribed to, so the broker queues what is published while it reconnects; its
            // next connection subscribes to what it wants then, and drops what it no longer
            // wants once the broker says it kept the session (`unsubscribe_stale`). It had
            // dropped them all first (newcomers' break-tests, 34-J F1 and 34-K F7: orders and
            // cancellations published during a switch of version, sessions or instances, or a
            // Sign in the broker refused, reached no PaymentService: "payment timed out", a
            // charge never refunded). Not when none follows (a recording is shown; Back to live
            // reloads): the kept sessions keep everything.
            let leaves = next_instances.is_some_and(|next| instance.number > next);
            if instance.service == ServiceId::Payment && leaves {
                let mine = self.filters_of(ServiceId::Payment);
                let mine: Vec<String> =
                    mine.iter().map(|f| self.namespace.wire_filter(f)).collect();
                let mine: Vec<&str> = mine.iter().map(String::as_str).collect();
                let _ = client.unsubscribe(&mine);
            }
            client.close();
        }
        self.monitor.close();
        self.stop_ending_left_sessions();
        let settings = self.flow.borrow().settings.clone();
        Handover {
            flow: self.flow.replace(Flow::new(settings)),
            kept,
            carried,
            pending_tries: self.pending_tries.borrow_mut().take_all(),
            keeper: self.keeper.clone(),
            current: self.current.clone(),
            learned: self.learned.take(),
            held_back: self.held_back.take(),
        }
    }
}
