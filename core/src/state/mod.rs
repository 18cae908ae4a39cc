//! The page's state and the one reducer that changes it. Pure: the Yew glue lives in
//! `components/app.rs`, so every transition is tested natively.

use std::collections::VecDeque;
use std::time::Duration;

use broker_bridge::{ProtocolVersion, QoS};
use uuid::Uuid;

use crate::services::ServiceId;

mod link;
mod qos;
pub use link::*;
pub use qos::*;

#[cfg(test)]
mod tests;

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
    /// The QoS of each topic's publishes and subscriptions.
    pub qos: FlowQos,
    /// Why a `?qos=` in the link was not used.
    pub qos_error: Option<String>,
    /// Why a `?speed=` or `?view=` in the link was not used.
    pub playback_error: Option<String>,
    /// The part of the picture shown.
    pub panel: Panel,
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
    QosChanged(FlowQos),
    /// Several of these, in order: the runtime reports what happened in batches.
    Batch(Vec<Action>),
    /// The learner chose what the picture shows.
    PanelChosen(Panel),
    /// The playback's speed, pause or step changed (it lives in the trace).
    PlaybackChanged,
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
            qos: FlowQos::default(),
            qos_error: None,
            playback_error: None,
            panel: Panel::All,
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
