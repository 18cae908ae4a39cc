//! The page's state and the one reducer that changes it. Pure: the Yew glue lives in
//! `components/app.rs`, so every transition is tested natively.

use std::collections::VecDeque;
use std::time::Duration;

use broker_bridge::{ProtocolVersion, QoS};
use uuid::Uuid;

use crate::services::ServiceId;

/// How many event-log entries each service keeps; older ones are dropped and counted.
pub const LOG_LIMIT: usize = 100;
/// How many notifications the page keeps; older ones are dropped and counted.
pub const NOTIFICATION_LIMIT: usize = 100;
/// How many unfinished pieces of simulated work each service remembers. At 100 orders a second
/// and 1 s of work a service has 100 in hand; beyond the limit the oldest (the one due first)
/// is forgotten, and its completion then finds nothing to remove.
pub const WORK_LIMIT: usize = 500;

/// A service's link to the broker, as its status badge shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkView {
    Connecting {
        attempt: u32,
    },
    Connected,
    Disconnected {
        reason: String,
        retry_in: Duration,
        attempt: u32,
    },
}

impl LinkView {
    /// The word used in the badge and in `data-state`.
    pub fn word(&self) -> &'static str {
        match self {
            LinkView::Connecting { .. } => "connecting",
            LinkView::Connected => "connected",
            LinkView::Disconnected { .. } => "disconnected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service processed the message.
    Accepted,
    /// The message was not valid for the service; it carried on.
    Rejected(String),
    /// Something the service tried failed (e.g. a publish the session refused).
    Failed(String),
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

/// Simulated work a service started and has not finished: a charge or a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingWork {
    pub order_id: Uuid,
    /// When its timer is due, on the packets' clock (`broker_bridge::ws::now`).
    pub due: Duration,
}

/// What a service's last message or work came to; shown until the next one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LastOutcome {
    /// Nothing yet.
    #[default]
    Idle,
    /// It handled its last message, or finished its last work.
    Done,
    /// Its last message was rejected, or something it tried (a publish, a subscription) failed.
    Failed(String),
}

/// A service's work as the flow diagram shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkView {
    /// Oldest first; at most [`WORK_LIMIT`].
    pub pending: VecDeque<PendingWork>,
    pub last: LastOutcome,
}

impl WorkView {
    fn start(&mut self, work: PendingWork) {
        if self.pending.len() >= WORK_LIMIT {
            self.pending.pop_front();
        }
        self.pending.push_back(work);
    }

    /// One piece of work for `order_id` ended (a duplicate delivery starts two: one ends).
    fn finish(&mut self, order_id: Uuid) {
        if let Some(index) = self.pending.iter().position(|w| w.order_id == order_id) {
            self.pending.remove(index);
        }
        self.last = LastOutcome::Done;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    pub id: ServiceId,
    pub client_id: String,
    pub link: LinkView,
    pub log: VecDeque<LogEntry>,
    pub log_dropped: usize,
    pub work: WorkView,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The broker the services use (valid: checked before it gets here).
    pub broker_url: String,
    /// Why the URL the user asked for was not used.
    pub broker_url_error: Option<String>,
    /// The QoS of the flow's publishes and subscriptions.
    pub qos: QoS,
    /// Why a `?qos=` in the link was not used.
    pub qos_error: Option<String>,
    /// The MQTT version the services connect with.
    pub protocol: ProtocolVersion,
    /// Why a `?mqtt=` in the link was not used.
    pub protocol_error: Option<String>,
    /// Raised when packets were recorded in the shared trace, so the views re-render.
    pub trace_version: u64,
    /// The packet the inspector shows opened (a `TracedPacket::seq`).
    pub selected_packet: Option<u64>,
    /// The recording shown instead of the live session (its file name); the services are
    /// disconnected meanwhile.
    pub replaying: Option<String>,
    /// Why the last recording file could not be loaded.
    pub recording_error: Option<String>,
    /// How long PaymentService and InventoryService "work" on an order.
    pub delays: crate::services::Delays,
    /// Why a delay from the link or the page was not used.
    pub delays_error: Option<String>,
    /// Query parameters of the link the page does not know.
    pub link_notice: Option<String>,
    pub services: Vec<ServiceView>,
    /// Oldest first.
    pub notifications: VecDeque<String>,
    pub notifications_dropped: usize,
    /// The last order OrderService published.
    pub placed_order: Option<Uuid>,
    /// Why the last "Place order" published nothing.
    pub form_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Link(ServiceId, LinkView),
    Logged(ServiceId, LogEntry),
    Notified(String),
    OrderPlaced(Uuid),
    OrderRefused(String),
    BrokerChanged(String),
    BrokerUrlInvalid(String),
    QosChanged(QoS),
    ProtocolChanged(ProtocolVersion),
    TraceChanged,
    SelectPacket(Option<u64>),
    /// A recording replaced the live trace; the runtime was shut down.
    ReplayLoaded(String),
    RecordingRefused(String),
    DelaysChanged(crate::services::Delays),
    DelaysRefused(String),
    /// Forget the logs, notifications and the last order (the trace is cleared by the caller).
    Cleared,
    /// `service` armed the timer of its simulated work for `order_id`, due at `due` on the
    /// packets' clock.
    WorkStarted {
        service: ServiceId,
        order_id: Uuid,
        due: Duration,
    },
    /// That timer fired; what the work publishes follows (and may still fail).
    WorkDone {
        service: ServiceId,
        order_id: Uuid,
    },
}

impl State {
    /// `session_tag` makes the client ids of this page load unique: `eda-<tag>-<service>`.
    pub fn new(broker_url: String, broker_url_error: Option<String>, session_tag: &str) -> Self {
        Self {
            broker_url,
            broker_url_error,
            qos: crate::config::DEFAULT_QOS,
            qos_error: None,
            protocol: crate::config::DEFAULT_PROTOCOL,
            protocol_error: None,
            trace_version: 0,
            selected_packet: None,
            replaying: None,
            recording_error: None,
            delays: crate::services::Delays::default(),
            delays_error: None,
            link_notice: None,
            services: ServiceId::ALL
                .iter()
                .map(|&id| ServiceView {
                    id,
                    client_id: client_id(session_tag, id),
                    link: LinkView::Connecting { attempt: 0 },
                    log: VecDeque::new(),
                    log_dropped: 0,
                    work: WorkView::default(),
                })
                .collect(),
            notifications: VecDeque::new(),
            notifications_dropped: 0,
            placed_order: None,
            form_error: None,
        }
    }

    pub fn service(&self, id: ServiceId) -> &ServiceView {
        self.services
            .iter()
            .find(|s| s.id == id)
            .expect("State::new creates every service")
    }

    fn service_mut(&mut self, id: ServiceId) -> &mut ServiceView {
        self.services
            .iter_mut()
            .find(|s| s.id == id)
            .expect("State::new creates every service")
    }

    /// Services whose link is down, for the help banner.
    pub fn disconnected(&self) -> impl Iterator<Item = &ServiceView> {
        self.services
            .iter()
            .filter(|s| matches!(s.link, LinkView::Disconnected { .. }))
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Link(id, link) => self.service_mut(id).link = link,
            Action::Logged(id, entry) => {
                let service = self.service_mut(id);
                service.work.last = match &entry.outcome {
                    Outcome::Accepted => LastOutcome::Done,
                    Outcome::Rejected(reason) | Outcome::Failed(reason) => {
                        LastOutcome::Failed(reason.clone())
                    }
                };
                service.log.push_front(entry);
                if service.log.len() > LOG_LIMIT {
                    service.log.pop_back();
                    service.log_dropped += 1;
                }
            }
            Action::Notified(text) => {
                // Oldest first: the notifications tell the order's story in sequence.
                self.notifications.push_back(text);
                if self.notifications.len() > NOTIFICATION_LIMIT {
                    self.notifications.pop_front();
                    self.notifications_dropped += 1;
                }
            }
            Action::OrderPlaced(id) => {
                self.placed_order = Some(id);
                self.form_error = None;
                self.service_mut(ServiceId::Order).work.last = LastOutcome::Done;
            }
            Action::OrderRefused(reason) => self.form_error = Some(reason),
            Action::BrokerChanged(url) => {
                self.broker_url = url;
                self.broker_url_error = None;
                for service in &mut self.services {
                    service.link = LinkView::Connecting { attempt: 0 };
                }
            }
            Action::BrokerUrlInvalid(reason) => self.broker_url_error = Some(reason),
            Action::QosChanged(qos) => {
                self.qos = qos;
                self.qos_error = None;
            }
            Action::TraceChanged => self.trace_version += 1,
            Action::SelectPacket(seq) => self.selected_packet = seq,
            Action::ReplayLoaded(name) => {
                self.replaying = Some(name);
                self.recording_error = None;
                self.selected_packet = None;
                self.trace_version += 1;
                for service in &mut self.services {
                    service.link = LinkView::Disconnected {
                        reason: "stopped while a recording is shown".into(),
                        retry_in: Duration::ZERO,
                        attempt: 0,
                    };
                    service.work = WorkView::default();
                }
            }
            Action::RecordingRefused(reason) => self.recording_error = Some(reason),
            Action::DelaysChanged(delays) => {
                self.delays = delays;
                self.delays_error = None;
            }
            Action::DelaysRefused(reason) => self.delays_error = Some(reason),
            Action::Cleared => {
                for service in &mut self.services {
                    service.log.clear();
                    service.log_dropped = 0;
                }
                self.notifications.clear();
                self.notifications_dropped = 0;
                self.placed_order = None;
                self.form_error = None;
                self.selected_packet = None;
                self.trace_version += 1;
            }
            Action::ProtocolChanged(protocol) => {
                self.protocol = protocol;
                self.protocol_error = None;
                for service in &mut self.services {
                    service.link = LinkView::Connecting { attempt: 0 };
                    // A new runtime replaces the old one, whose timers then never complete.
                    service.work.pending.clear();
                }
            }
            Action::WorkStarted {
                service,
                order_id,
                due,
            } => self
                .service_mut(service)
                .work
                .start(PendingWork { order_id, due }),
            Action::WorkDone { service, order_id } => {
                self.service_mut(service).work.finish(order_id)
            }
        }
    }
}

pub fn client_id(session_tag: &str, service: ServiceId) -> String {
    format!("eda-{session_tag}-{}", service.slug())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::new("ws://localhost:9001".into(), None, "a1b2c3")
    }

    fn entry(n: usize) -> LogEntry {
        LogEntry {
            at: "10:30:00.000".into(),
            topic: "orders/created".into(),
            qos: Some(QoS::AtLeastOnce),
            correlation: None,
            payload: format!("{n}"),
            outcome: Outcome::Accepted,
        }
    }

    #[test]
    fn every_service_has_a_distinct_client_id_and_starts_connecting() {
        let s = state();
        let ids: Vec<_> = s.services.iter().map(|s| s.client_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "eda-a1b2c3-order",
                "eda-a1b2c3-payment",
                "eda-a1b2c3-inventory",
                "eda-a1b2c3-notification"
            ]
        );
        assert!(s.services.iter().all(|s| s.link.word() == "connecting"));
    }

    #[test]
    fn links_change_per_service_and_disconnected_ones_are_listed() {
        let mut s = state();
        s.apply(Action::Link(ServiceId::Payment, LinkView::Connected));
        s.apply(Action::Link(
            ServiceId::Inventory,
            LinkView::Disconnected {
                reason: "gone".into(),
                retry_in: Duration::from_secs(1),
                attempt: 1,
            },
        ));
        assert_eq!(s.service(ServiceId::Payment).link, LinkView::Connected);
        let down: Vec<_> = s.disconnected().map(|v| v.id).collect();
        assert_eq!(down, [ServiceId::Inventory]);
    }

    #[test]
    fn the_log_keeps_the_newest_entries_and_counts_what_it_dropped() {
        let mut s = state();
        for n in 0..LOG_LIMIT + 3 {
            s.apply(Action::Logged(ServiceId::Notification, entry(n)));
        }
        let log = &s.service(ServiceId::Notification);
        assert_eq!(log.log.len(), LOG_LIMIT);
        assert_eq!(log.log_dropped, 3);
        assert_eq!(
            log.log.front().unwrap().payload,
            format!("{}", LOG_LIMIT + 2)
        );
        assert!(s.service(ServiceId::Payment).log.is_empty());
    }

    #[test]
    fn notifications_are_bounded_too() {
        let mut s = state();
        for n in 0..NOTIFICATION_LIMIT + 1 {
            s.apply(Action::Notified(format!("n{n}")));
        }
        assert_eq!(s.notifications.len(), NOTIFICATION_LIMIT);
        assert_eq!(s.notifications_dropped, 1);
        assert_eq!(s.notifications.front().map(String::as_str), Some("n1"));
        assert_eq!(
            s.notifications.back(),
            Some(&format!("n{NOTIFICATION_LIMIT}"))
        );
    }

    #[test]
    fn a_placed_order_clears_the_refusal_and_a_refusal_keeps_the_last_order() {
        let mut s = state();
        s.apply(Action::OrderRefused("not connected".into()));
        assert_eq!(s.form_error.as_deref(), Some("not connected"));
        let id = Uuid::from_u128(7);
        s.apply(Action::OrderPlaced(id));
        assert_eq!((s.placed_order, s.form_error.clone()), (Some(id), None));
        s.apply(Action::OrderRefused("again".into()));
        assert_eq!(s.placed_order, Some(id));
    }

    #[test]
    fn changing_broker_resets_links_and_clears_the_url_error() {
        let mut s = state();
        s.apply(Action::BrokerUrlInvalid("bad".into()));
        s.apply(Action::Link(ServiceId::Order, LinkView::Connected));
        s.apply(Action::BrokerChanged("ws://127.0.0.1:19001".into()));
        assert_eq!(s.broker_url, "ws://127.0.0.1:19001");
        assert_eq!(s.broker_url_error, None);
        assert_eq!(s.service(ServiceId::Order).link.word(), "connecting");
    }

    fn started(service: ServiceId, n: u128, due_ms: u64) -> Action {
        Action::WorkStarted {
            service,
            order_id: Uuid::from_u128(n),
            due: Duration::from_millis(due_ms),
        }
    }

    #[test]
    fn work_is_pending_from_its_start_until_its_timer_fires_then_done() {
        let mut s = state();
        assert_eq!(s.service(ServiceId::Payment).work, WorkView::default());
        s.apply(started(ServiceId::Payment, 1, 1000));
        s.apply(started(ServiceId::Payment, 2, 1300));
        s.apply(started(ServiceId::Inventory, 1, 800));
        let pending = |s: &State, id| {
            s.service(id)
                .work
                .pending
                .iter()
                .map(|w| (w.order_id.as_u128(), w.due.as_millis()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pending(&s, ServiceId::Payment), [(1, 1000), (2, 1300)]);
        s.apply(Action::WorkDone {
            service: ServiceId::Payment,
            order_id: Uuid::from_u128(1),
        });
        assert_eq!(pending(&s, ServiceId::Payment), [(2, 1300)]);
        assert_eq!(s.service(ServiceId::Payment).work.last, LastOutcome::Done);
        assert_eq!(pending(&s, ServiceId::Inventory), [(1, 800)]);
        assert_eq!(s.service(ServiceId::Inventory).work.last, LastOutcome::Idle);
    }

    #[test]
    fn a_duplicate_delivery_is_two_pieces_of_work_and_each_completion_ends_one() {
        let mut s = state();
        s.apply(started(ServiceId::Payment, 1, 1000));
        s.apply(started(ServiceId::Payment, 1, 1005));
        let done = Action::WorkDone {
            service: ServiceId::Payment,
            order_id: Uuid::from_u128(1),
        };
        s.apply(done.clone());
        assert_eq!(s.service(ServiceId::Payment).work.pending.len(), 1);
        s.apply(done.clone());
        s.apply(done);
        assert!(s.service(ServiceId::Payment).work.pending.is_empty());
    }

    #[test]
    fn pending_work_is_bounded_and_forgets_the_oldest() {
        let mut s = state();
        for n in 0..WORK_LIMIT as u128 + 2 {
            s.apply(started(ServiceId::Inventory, n, 800 + n as u64));
        }
        let work = &s.service(ServiceId::Inventory).work;
        assert_eq!(work.pending.len(), WORK_LIMIT);
        assert_eq!(work.pending.front().map(|w| w.order_id.as_u128()), Some(2));
    }

    #[test]
    fn the_last_outcome_follows_the_log_and_a_failure_after_completion_wins() {
        let mut s = state();
        let logged = |outcome| {
            Action::Logged(
                ServiceId::Payment,
                LogEntry {
                    outcome,
                    ..entry(0)
                },
            )
        };
        s.apply(logged(Outcome::Rejected("payload is not JSON".into())));
        assert_eq!(
            s.service(ServiceId::Payment).work.last,
            LastOutcome::Failed("payload is not JSON".into())
        );
        s.apply(logged(Outcome::Accepted));
        assert_eq!(s.service(ServiceId::Payment).work.last, LastOutcome::Done);
        // The runtime reports the end of the work before publishing its result.
        s.apply(started(ServiceId::Payment, 1, 1000));
        s.apply(Action::WorkDone {
            service: ServiceId::Payment,
            order_id: Uuid::from_u128(1),
        });
        s.apply(logged(Outcome::Failed("not connected".into())));
        assert_eq!(
            s.service(ServiceId::Payment).work.last,
            LastOutcome::Failed("not connected".into())
        );
    }

    #[test]
    fn a_placed_order_is_order_service_s_work_done() {
        let mut s = state();
        s.apply(Action::OrderPlaced(Uuid::from_u128(3)));
        assert_eq!(s.service(ServiceId::Order).work.last, LastOutcome::Done);
    }

    #[test]
    fn a_new_protocol_forgets_unfinished_work_whose_runtime_is_gone() {
        let mut s = state();
        s.apply(started(ServiceId::Payment, 1, 1000));
        s.apply(Action::ProtocolChanged(ProtocolVersion::V5));
        assert!(s.service(ServiceId::Payment).work.pending.is_empty());
        s.apply(started(ServiceId::Payment, 2, 2000));
        s.apply(Action::BrokerChanged("ws://127.0.0.1:19001".into()));
        assert_eq!(
            s.service(ServiceId::Payment).work.pending.len(),
            1,
            "the same runtime keeps its timers across a broker change"
        );
    }
}

/// The broker to use at start-up from the `?broker=` parameter, and why it was ignored if it
/// was not a usable URL.
pub fn broker_from_query(param: Option<&str>) -> (String, Option<String>) {
    let default = crate::config::DEFAULT_BROKER_URL;
    match param.map(broker_bridge::url::parse_broker_url) {
        None => (default.to_owned(), None),
        Some(Ok(url)) => (url, None),
        Some(Err(e)) => (
            default.to_owned(),
            Some(format!(
                "Ignored ?broker= in the link: {e}. Using {default} instead."
            )),
        ),
    }
}

/// The QoS to use at start-up from the `?qos=` parameter, and why it was ignored if it was not
/// 0, 1 or 2.
pub fn qos_from_query(param: Option<&str>) -> (QoS, Option<String>) {
    let default = crate::config::DEFAULT_QOS;
    match param.map(str::trim) {
        None => (default, None),
        Some("0") => (QoS::AtMostOnce, None),
        Some("1") => (QoS::AtLeastOnce, None),
        Some("2") => (QoS::ExactlyOnce, None),
        Some(other) => (
            default,
            Some(format!(
                "Ignored ?qos={other:?} in the link: QoS is 0, 1 or 2. Using {}.",
                default.level()
            )),
        ),
    }
}

/// The settings a link may carry; anything else in the query string is reported and ignored.
pub const LINK_PARAMS: [&str; 5] = ["broker", "qos", "mqtt", "payment_ms", "inventory_ms"];

/// A sentence naming the query parameters the page does not know, if any.
pub fn unknown_params<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut unknown: Vec<&str> = keys
        .into_iter()
        .filter(|k| !LINK_PARAMS.contains(k))
        .collect();
    unknown.dedup();
    (!unknown.is_empty()).then(|| {
        format!(
            "Ignored in the link: {} (this page reads {}).",
            unknown.join(", "),
            LINK_PARAMS.join(", ")
        )
    })
}

/// The longest simulated delay a learner may set.
pub const MAX_DELAY_MS: u64 = 10_000;

/// A delay in whole milliseconds from the link or a field: 0 to [`MAX_DELAY_MS`].
pub fn parse_delay(name: &str, text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(ms) if ms <= MAX_DELAY_MS => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{name} delay {text:?} ignored: use whole milliseconds from 0 to {MAX_DELAY_MS}"
        )),
    }
}

/// The delays at start-up from `?payment_ms=` and `?inventory_ms=`, and why a value was ignored.
pub fn delays_from_query(
    payment: Option<&str>,
    inventory: Option<&str>,
) -> (crate::services::Delays, Option<String>) {
    let mut delays = crate::services::Delays::default();
    let mut errors = Vec::new();
    for (name, param, slot) in [
        ("Payment", payment, &mut delays.payment),
        ("Inventory", inventory, &mut delays.inventory),
    ] {
        if let Some(text) = param {
            match parse_delay(name, text) {
                Ok(delay) => *slot = delay,
                Err(e) => errors.push(e),
            }
        }
    }
    (delays, (!errors.is_empty()).then(|| errors.join("; ")))
}

/// The MQTT version to use at start-up from the `?mqtt=` parameter (`3.1.1` or `5`), and why
/// it was ignored if it was neither.
pub fn protocol_from_query(param: Option<&str>) -> (ProtocolVersion, Option<String>) {
    let default = crate::config::DEFAULT_PROTOCOL;
    match param.map(str::trim) {
        None => (default, None),
        Some("3.1.1" | "4" | "311") => (ProtocolVersion::V311, None),
        Some("5" | "5.0") => (ProtocolVersion::V5, None),
        Some(other) => (
            default,
            Some(format!(
                "Ignored ?mqtt={other:?} in the link: use 3.1.1 or 5. Using MQTT {default}."
            )),
        ),
    }
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn broker_parameter_is_used_when_valid_and_explained_when_not() {
        assert_eq!(
            broker_from_query(None),
            ("ws://localhost:9001".to_owned(), None)
        );
        assert_eq!(
            broker_from_query(Some("ws://127.0.0.1:19001")),
            ("ws://127.0.0.1:19001".to_owned(), None)
        );
        let (url, error) = broker_from_query(Some("http://nope"));
        assert_eq!(url, "ws://localhost:9001");
        let error = error.unwrap();
        assert!(
            error.contains("http://nope") && error.contains("ws://"),
            "{error}"
        );
    }

    #[test]
    fn qos_parameter_is_0_1_or_2_and_explained_otherwise() {
        assert_eq!(qos_from_query(None), (QoS::AtLeastOnce, None));
        assert_eq!(qos_from_query(Some("0")), (QoS::AtMostOnce, None));
        assert_eq!(qos_from_query(Some("2")), (QoS::ExactlyOnce, None));
        for bad in ["3", "", "two", "-1"] {
            let (qos, error) = qos_from_query(Some(bad));
            assert_eq!(qos, QoS::AtLeastOnce);
            assert!(error.unwrap().contains("0, 1 or 2"), "{bad}");
        }
    }

    #[test]
    fn changing_qos_clears_its_error() {
        let mut s = State::new("ws://h:1".into(), None, "t");
        s.qos_error = Some("bad".into());
        s.apply(Action::QosChanged(QoS::ExactlyOnce));
        assert_eq!((s.qos, s.qos_error), (QoS::ExactlyOnce, None));
    }

    #[test]
    fn mqtt_parameter_is_3_1_1_or_5_and_explained_otherwise() {
        assert_eq!(protocol_from_query(None), (ProtocolVersion::V311, None));
        assert_eq!(protocol_from_query(Some("5")), (ProtocolVersion::V5, None));
        assert_eq!(
            protocol_from_query(Some("3.1.1")),
            (ProtocolVersion::V311, None)
        );
        let (protocol, error) = protocol_from_query(Some("6"));
        assert_eq!(protocol, ProtocolVersion::V311);
        assert!(error.unwrap().contains("3.1.1 or 5"));
    }

    #[test]
    fn changing_protocol_reconnects_every_service() {
        let mut s = State::new("ws://h:1".into(), None, "t");
        s.apply(Action::Link(ServiceId::Payment, LinkView::Connected));
        s.protocol_error = Some("bad".into());
        s.apply(Action::ProtocolChanged(ProtocolVersion::V5));
        assert_eq!(s.protocol, ProtocolVersion::V5);
        assert_eq!(s.protocol_error, None);
        assert_eq!(s.service(ServiceId::Payment).link.word(), "connecting");
    }

    #[test]
    fn a_loaded_recording_stops_the_services_and_a_refusal_is_kept() {
        let mut s = State::new("ws://h:1".into(), None, "t");
        s.apply(Action::Link(ServiceId::Payment, LinkView::Connected));
        s.apply(Action::RecordingRefused("old.json: not JSON".into()));
        s.apply(Action::ReplayLoaded("session.json".into()));
        assert_eq!(s.replaying.as_deref(), Some("session.json"));
        assert_eq!(s.recording_error, None);
        assert!(s.services.iter().all(|v| v.link.word() == "disconnected"));
        s.apply(Action::RecordingRefused("x.json: newer".into()));
        assert_eq!(s.recording_error.as_deref(), Some("x.json: newer"));
    }

    #[test]
    fn delays_come_from_the_link_within_bounds() {
        let (d, e) = delays_from_query(Some("0"), Some("2500"));
        assert_eq!(
            (d.payment.as_millis(), d.inventory.as_millis(), e),
            (0, 2500, None)
        );
        let (d, e) = delays_from_query(Some("-5"), Some("99999"));
        assert_eq!(d, crate::services::Delays::default());
        let e = e.unwrap();
        assert!(
            e.contains("Payment") && e.contains("Inventory") && e.contains("10000"),
            "{e}"
        );
    }

    #[test]
    fn clearing_forgets_logs_notifications_and_the_last_order() {
        let mut s = State::new("ws://h:1".into(), None, "t");
        s.apply(Action::Notified("n".into()));
        s.apply(Action::OrderPlaced(Uuid::from_u128(1)));
        s.apply(Action::Cleared);
        assert!(s.notifications.is_empty());
        assert_eq!(s.placed_order, None);
    }

    #[test]
    fn unknown_link_parameters_are_named_once() {
        assert_eq!(unknown_params(["broker", "qos", "mqtt"]), None);
        let notice = unknown_params(["broker", "bogus", "bogus", "speed"]).unwrap();
        assert!(
            notice.starts_with("Ignored in the link: bogus, speed"),
            "{notice}"
        );
        assert!(notice.contains("payment_ms"), "{notice}");
    }
}
