//! The services' MQTT clients: how each is set up (client id, session, Last Will, sign-in),
//! connected so its events reach the runtime, and subscribed; and which client and broker
//! serve an instance.

use std::cell::RefCell;
use std::rc::Rc;

use broker_bridge::learned_limits::LearnedLimits;
use broker_bridge::ws::{Client, ClientEvent};
use broker_bridge::{LastWill, Link, Options, ProtocolVersion, QoS};

use eda_core::domain::namespace::Namespace;
use eda_core::services::credentials::Login;
use eda_core::services::instances::{filters, Instance};
use eda_core::services::presence::{status_topic, Presence};
use eda_core::services::ServiceId;
use eda_core::state::{Action, FlowQos, SessionMode};

use super::report::problem;
use super::{Report, Runtime};

impl Runtime {
    /// The client of `instance`; the service's first one if the page does not run it.
    pub(super) fn client(&self, instance: Instance) -> Client {
        self.client_of(instance)
            .or_else(|| self.client_of(instance.service.into()))
            .expect("start() creates a client for every service")
    }

    /// The client of `instance`, if the page runs it.
    pub(super) fn client_of(&self, instance: Instance) -> Option<Client> {
        let clients = self.clients.borrow();
        let found = clients.iter().find(|(i, _)| *i == instance);
        found.map(|(_, client)| client.clone())
    }

    /// Who the clients sign in as (the page's status client as [`Credentials::page`]).
    ///
    /// [`Credentials::page`]: eda_core::services::credentials::Credentials::page
    pub fn credentials(&self) -> &eda_core::services::credentials::Credentials {
        &self.credentials
    }

    /// The broker `service`'s clients talk to: its own, or the page's.
    pub(super) fn url_of(&self, service: ServiceId) -> String {
        let page = self.url.borrow();
        self.brokers.borrow().url_of(service, &page).to_owned()
    }

    /// The filters each instance of `service` subscribes to now (shared by PaymentService's
    /// instances when it runs several).
    pub(super) fn filters_of(&self, service: ServiceId) -> Vec<String> {
        let style = self.subscribed_style.get();
        filters(service, style, self.payment_instances, &self.session_tag)
    }

    /// Asks `client` (one of `service`'s) to UNSUBSCRIBE from the flow's `filters`, as they are
    /// on the wire (under the page's namespace); nothing for none. A request the client cannot
    /// send is logged under `service`.
    pub(super) fn unsubscribe_flow(
        self: &std::rc::Rc<Self>,
        service: ServiceId,
        client: &Client,
        filters: &[String],
    ) {
        if filters.is_empty() {
            return;
        }
        let wired: Vec<String> = filters
            .iter()
            .map(|f| self.namespace.wire_filter(f))
            .collect();
        let wired: Vec<&str> = wired.iter().map(String::as_str).collect();
        if let Err(e) = client.unsubscribe(&wired) {
            self.log(
                service,
                super::report::problem("unsubscribe", e.to_string()),
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
}

/// Link changes reported before the runtime existed (while `Rc::new_cyclic` builds it, e.g. a
/// WebSocket the browser refused at once): told to the page then, and noted by the runtime
/// once built ([`Runtime::note_link`]), so the order form refuses on the state the badges
/// show.
pub(super) type EarlyLinks = Rc<RefCell<Vec<(Instance, Link)>>>;

/// A client for `instance` that reports to the runtime behind `weak` (to `early`, and the page,
/// before that runtime exists).
pub(super) fn connect(
    weak: &std::rc::Weak<Runtime>,
    instance: Instance,
    options: Options,
    url: &str,
    report: &Report,
    early: &EarlyLinks,
) -> Client {
    let (weak, early_report, early) = (weak.clone(), report.clone(), early.clone());
    Client::connect(options, url, move |event| {
        if let Some(runtime) = weak.upgrade() {
            runtime.on_client_event(instance, event);
        } else if let ClientEvent::Link(link) = event {
            // Events before `new_cyclic` returns: only link changes occur.
            early.borrow_mut().push((instance, link.clone()));
            early_report(Action::Link(instance, link));
        }
    })
}

/// The connection options of a service's (or instance's) client: its client id, MQTT version,
/// session kept or not, and its Last Will (retained "offline" on its own status topic).
pub(super) fn service_options(
    session_tag: &str,
    instance: Instance,
    protocol: ProtocolVersion,
    session: SessionMode,
    namespace: &Namespace,
) -> Options {
    let (service, id) = (instance.service, instance.client_id(session_tag));
    let mut options = Options::new(id.clone());
    options.protocol = protocol;
    options.max_packet_size = RECEIVE_LIMIT;
    // What a service publishes while offline waits for the next connection, all of it: the
    // library's default keeps 100 and refuses the rest, and a broker down past the saga's
    // deadline with 50 orders in flight then lost cancellations OrderService had already
    // stored (two publishes each). What the services queue is bounded by the work they
    // accepted: the order gate takes no new order while OrderService is offline.
    options.offline_queue_limit = usize::MAX;
    let persistent = session == SessionMode::Persistent;
    options.clean_session = !persistent;
    // A service answers a message only once what it led to is in the tab's database
    // (`Runtime::answer_when_kept`, decision 0022): OrderService's events, the participants'
    // memory. A reload a moment after *Place 10 orders* otherwise lost orders the broker had
    // delivered and OrderService had not stored, while the participants charged and reserved
    // them; and one right after InventoryService heard an order's outcome left its units held
    // for good. The persistent session gets the message again after the reload.
    options.manual_acks = persistent;
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

/// The largest packet, fixed header included, the services' clients accept from the broker
/// (256 KiB, [`Options::max_packet_size`]): a larger message is skipped (3.1.1) or not sent to
/// them (5.0), and a *Retry* that large is refused.
pub(super) const RECEIVE_LIMIT: usize = 256 * 1024;

/// The User Name and Password of `login`, if any, in `options`.
pub(super) fn sign_in(options: &mut Options, login: Option<&Login>) {
    options.username = login.map(|l| l.username().to_owned());
    options.password = login.and_then(Login::password);
}

/// How long the broker keeps a persistent 5.0 session after its connection ends.
const SESSION_EXPIRY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Subscribes `instance`'s client to `filters` (the flow's, put under `namespace` on the wire),
/// each at the QoS of its topic (a shared subscription's, its filter's). The session remembers
/// them and makes them again on every new connection.
pub(super) fn subscribe(
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

/// MQTT 3.1.1: hands `client`, of the broker at `url`, the maximum QoS learned of that broker
/// (by this or another client, earlier in the page's life), if any.
pub(super) fn recall(learned: &LearnedLimits, client: &Client, url: &str) {
    if let Some(learned) = learned.of(url) {
        client.learn_maximum_qos(learned.clone());
    }
}
