//! What each service is doing, as its badge in the flow diagram shows it: its link to the
//! broker, the subscriptions the broker granted or refused, its simulated work in hand, and how
//! its last message or work ended.
//!
//! One projection for the live page and for a replayed recording: a [`ServiceLog`] of
//! [`ServiceEvent`]s, folded up to the view's time. Live, the runtime records each event as it
//! happens; a recording carries packets only, so [`ServiceLog::inferred`] reads the same events
//! off its packets (a CONNACK is a link up, a SUBACK the broker's answer to the SUBSCRIBE of
//! the same id, an order delivered to PaymentService is work started, its `payments/processed`
//! going out is that work done).
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::Link;
//! use eda_core::services::ServiceId;
//! use eda_core::trace::service_status::{ServiceEvent, ServiceLog};
//! use uuid::Uuid;
//!
//! let ms = Duration::from_millis;
//! let mut log = ServiceLog::new(100);
//! let order_id = Uuid::from_u128(7);
//! log.record(ms(10), ServiceId::Payment, ServiceEvent::Link(Link::Connected { url: "ws://localhost:9001".into() }));
//! log.record(ms(20), ServiceId::Payment, ServiceEvent::WorkStarted { order_id, due: ms(1020) });
//! log.record(ms(1020), ServiceId::Payment, ServiceEvent::WorkDone { order_id });
//!
//! // At 0.5 s the payment is in hand; at 1.1 s it is done.
//! let working = log.status_at(ServiceId::Payment, Some(ms(500)));
//! assert_eq!(working.work.pending.len(), 1);
//! assert!(working.link.is_connected());
//! assert!(log.status_at(ServiceId::Payment, Some(ms(1100))).work.pending.is_empty());
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use std::collections::HashMap;

use broker_bridge::packet::SubscribeReturnCode;
use broker_bridge::{ConnectionError, Direction, Link, Packet, PacketKind, ProtocolVersion, QoS};
use uuid::Uuid;

use super::history::PacketHistory;
use super::packet::TracedPacket;
use crate::domain::events::DomainEvent;
use crate::domain::topics;
use crate::services::{Delays, SagaStyle, ServiceId};

/// How many unfinished pieces of simulated work each service remembers. At 100 orders a second
/// and 1 s of work a service has 100 in hand; beyond the limit the oldest (the one due first)
/// is forgotten, and its completion then finds nothing to remove.
pub const WORK_LIMIT: usize = 500;

/// Simulated work a service started and has not finished: a charge or a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingWork {
    /// The order the work is for.
    pub order_id: Uuid,
    /// When its timer is due, on the packets' clock.
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
    /// Its last message was rejected, or something it tried (a publish, a subscription) failed,
    /// for this reason.
    Failed(String),
}

/// A service's work: what it has in hand and how the last thing it did ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Work {
    /// Oldest first; at most [`WORK_LIMIT`].
    pub pending: VecDeque<PendingWork>,
    /// How its last message or work ended.
    pub last: LastOutcome,
}

/// What the broker answered for one of a service's subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Asked for, and not answered on this connection yet.
    Asked,
    /// Granted, at this maximum QoS.
    Granted(QoS),
    /// Refused, in the broker's words (e.g. `Unspecified error (0x80)`, `Not authorized (0x87)`).
    Refused(String),
    /// Granted at this maximum QoS on an earlier connection, and still held: the broker's
    /// CONNACK said Session Present (MQTT 3.1.1 §3.2.2.2, 5.0 §3.2.2.1.1). The client asks for
    /// it again all the same (a broker restored from an older save may hold the session without
    /// it), and the SUBACK that grants it leaves it kept.
    Kept(QoS),
}

impl Grant {
    /// One word for views and test selectors: `asked`, `granted`, `refused` or `kept`.
    pub fn word(&self) -> &'static str {
        match self {
            Grant::Asked => "asked",
            Grant::Granted(_) => "granted",
            Grant::Refused(_) => "refused",
            Grant::Kept(_) => "kept",
        }
    }

    /// The maximum QoS the broker holds the subscription at, if it holds it.
    pub fn held(&self) -> Option<QoS> {
        match self {
            Grant::Granted(qos) | Grant::Kept(qos) => Some(*qos),
            Grant::Asked | Grant::Refused(_) => None,
        }
    }
}

/// Everything a service's badge shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    /// Its client's link to the broker.
    pub link: Link,
    /// The broker's answers to its subscriptions on the current connection, by filter.
    pub grants: Vec<(String, Grant)>,
    /// The subscriptions the broker held when the last connection ended, by filter, with
    /// their maximum QoS: [`Grant::Kept`] if the next CONNACK says Session Present, forgotten
    /// if it does not (the broker lost the session; the client subscribes again).
    pub held_before: Vec<(String, QoS)>,
    /// Its simulated work.
    pub work: Work,
}

impl Default for ServiceStatus {
    fn default() -> Self {
        ServiceStatus {
            link: Link::starting(""),
            grants: Vec::new(),
            held_before: Vec::new(),
            work: Work::default(),
        }
    }
}

/// Something a service did or that happened to it, as its badge tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceEvent {
    /// Its client's link changed. A link that is not up forgets the broker's answers to its
    /// subscriptions, but remembers those it held until the next CONNACK says whether the
    /// broker kept them ([`ServiceEvent::Session`]).
    Link(Link),
    /// The broker accepted CONNECT with Session Present `present` (MQTT 3.1.1 §3.2.2.2, 5.0
    /// §3.2.2.1.1; never `true` for a clean session). `true`: the subscriptions it held before
    /// are [`Grant::Kept`] (the client asks for them again all the same, and the SUBACK leaves
    /// them kept); `false`: they are gone, and the client's new SUBSCRIBE is answered by a
    /// SUBACK.
    Session {
        /// Whether the broker resumed the session it kept for the client id.
        present: bool,
    },
    /// The broker answered a SUBSCRIBE: each filter with its return code, in order.
    Subscribed {
        /// Each filter of the SUBSCRIBE with the SUBACK's code for it.
        answers: Vec<(String, SubscribeReturnCode)>,
        /// The client's protocol version: how a refusal is named (3.1.1's "Failure (0x80)",
        /// 5.0's "Unspecified error (0x80)").
        protocol: ProtocolVersion,
    },
    /// It armed the timer of its simulated work for `order_id`, due at `due` on the packets'
    /// clock.
    WorkStarted {
        /// The order worked on.
        order_id: Uuid,
        /// When the work is due.
        due: Duration,
    },
    /// That timer fired, or the recording shows the work's result going out; what the work
    /// publishes follows (and may still fail). One piece of work for the order ends (a
    /// duplicate delivery starts two: one ends).
    WorkDone {
        /// The order worked on.
        order_id: Uuid,
    },
    /// One of the service's instances crashed with this work in hand; the service carries on
    /// with its other instances, but this piece of work never finishes.
    WorkLost {
        /// The order worked on.
        order_id: Uuid,
    },
    /// It handled a message ([`LastOutcome::Done`]) or rejected one or failed at something
    /// ([`LastOutcome::Failed`]).
    Outcome(LastOutcome),
    /// A new client replaced the service's (the page reconnected with another MQTT version):
    /// the old client's timers never fire, so the work in hand is forgotten, and the link starts
    /// over at `url`.
    Restarted {
        /// The broker the new client connects to.
        url: String,
    },
    /// The learner crashed the service: its connection dropped without DISCONNECT, and its
    /// work in hand died with it.
    Crashed,
}

impl ServiceStatus {
    /// Each filter `service` subscribes to under `style` (as it declares them, in order) with
    /// the broker's answer: what the page's headers and the flow diagram's delivery edges show.
    /// A shared subscription (`$share/<group>/<filter>`, PaymentService's instances) answers for
    /// its filter.
    pub fn subscriptions(
        &self,
        service: ServiceId,
        style: SagaStyle,
    ) -> Vec<(&'static str, Grant)> {
        service
            .subscriptions(style)
            .iter()
            .map(|&filter| {
                let grant = self
                    .grants
                    .iter()
                    .rfind(|(f, _)| {
                        f == filter
                            || broker_bridge::topic::shared_parts(f)
                                .is_some_and(|(_, inner)| inner == filter)
                    })
                    .map_or(Grant::Asked, |(_, g)| g.clone());
                (filter, grant)
            })
            .collect()
    }

    /// The status after `event`.
    pub fn apply(&mut self, event: &ServiceEvent) {
        match event {
            ServiceEvent::Link(link) => {
                if !link.is_connected() {
                    self.forget_grants();
                }
                self.link = link.clone();
            }
            ServiceEvent::Session { present: true } => {
                for (filter, qos) in std::mem::take(&mut self.held_before) {
                    // A SUBACK on this connection already answered it: that answer stands.
                    if !self.grants.iter().any(|(f, _)| *f == filter) {
                        self.grants.push((filter, Grant::Kept(qos)));
                    }
                }
            }
            ServiceEvent::Session { present: false } => self.held_before.clear(),
            ServiceEvent::Subscribed { answers, protocol } => {
                for (filter, code) in answers {
                    let known = self.grants.iter_mut().find(|(f, _)| f == filter);
                    let grant = match (code, &known) {
                        // Asked again in a session the broker kept (the client asks for every
                        // filter on every connection): granted, it is still the one kept.
                        (SubscribeReturnCode::Granted(qos), Some((_, Grant::Kept(_)))) => {
                            Grant::Kept(*qos)
                        }
                        (SubscribeReturnCode::Granted(qos), _) => Grant::Granted(*qos),
                        (refusal, _) => Grant::Refused(refusal.describe_in(*protocol)),
                    };
                    match known {
                        Some(known) => known.1 = grant,
                        None => self.grants.push((filter.clone(), grant)),
                    }
                }
            }
            ServiceEvent::WorkStarted { order_id, due } => {
                let pending = &mut self.work.pending;
                if pending.len() >= WORK_LIMIT {
                    pending.pop_front();
                }
                pending.push_back(PendingWork {
                    order_id: *order_id,
                    due: *due,
                });
            }
            ServiceEvent::WorkDone { order_id } => {
                let pending = &mut self.work.pending;
                if let Some(index) = pending.iter().position(|w| w.order_id == *order_id) {
                    pending.remove(index);
                }
                self.work.last = LastOutcome::Done;
            }
            ServiceEvent::WorkLost { order_id } => {
                let pending = &mut self.work.pending;
                if let Some(index) = pending.iter().position(|w| w.order_id == *order_id) {
                    pending.remove(index);
                }
            }
            ServiceEvent::Outcome(outcome) => self.work.last = outcome.clone(),
            ServiceEvent::Restarted { url } => {
                self.work.pending.clear();
                // A new client: it subscribes afresh, whatever the broker kept.
                self.grants.clear();
                self.held_before.clear();
                self.link = Link::starting(url.as_str());
            }
            ServiceEvent::Crashed => {
                self.work.pending.clear();
                self.forget_grants();
                self.link = Link::Disconnected {
                    url: self.link.url().to_owned(),
                    reason: ConnectionError::Stopped(CRASHED.to_owned()),
                    retry_in: Duration::ZERO,
                    attempt: 0,
                };
            }
        }
    }
}

impl ServiceStatus {
    /// The connection ended: its answers go, and what the broker held is remembered for the
    /// next CONNACK. After several losses in a row (no connection between them) the
    /// remembered ones stay.
    fn forget_grants(&mut self) {
        for (filter, grant) in std::mem::take(&mut self.grants) {
            let Some(qos) = grant.held() else { continue };
            match self.held_before.iter_mut().find(|(f, _)| *f == filter) {
                Some(known) => known.1 = qos,
                None => self.held_before.push((filter, qos)),
            }
        }
    }
}

/// How a crashed service's link reads.
pub const CRASHED: &str = "crashed: the connection dropped without DISCONNECT";

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    at: Duration,
    service: ServiceId,
    event: ServiceEvent,
}

/// The newest events of the four services, in the order they happened, and each service's
/// status before the oldest of them: an event that falls off the end is folded into that
/// status, so a link that came up long ago is still up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLog {
    base: [ServiceStatus; ServiceId::ALL.len()],
    events: VecDeque<Entry>,
    capacity: usize,
}

fn index(service: ServiceId) -> usize {
    ServiceId::ALL
        .iter()
        .position(|s| *s == service)
        .unwrap_or_default()
}

impl ServiceLog {
    /// An empty log keeping the newest `capacity` events (at least one).
    pub fn new(capacity: usize) -> Self {
        ServiceLog {
            base: Default::default(),
            events: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `event` of `service` at `at` on the packets' clock. Events are recorded in the
    /// order they happen.
    pub fn record(&mut self, at: Duration, service: ServiceId, event: ServiceEvent) {
        if self.events.len() == self.capacity {
            if let Some(old) = self.events.pop_front() {
                self.base[index(old.service)].apply(&old.event);
            }
        }
        self.events.push_back(Entry { at, service, event });
    }

    /// Forgets the events but not what they came to: every status stays as it is now.
    pub fn clear(&mut self) {
        for old in std::mem::take(&mut self.events) {
            self.base[index(old.service)].apply(&old.event);
        }
    }

    /// How many events are kept.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// `service`'s status after the events up to `until` (all of them for `None`).
    pub fn status_at(&self, service: ServiceId, until: Option<Duration>) -> ServiceStatus {
        let mut status = self.base[index(service)].clone();
        for entry in &self.events {
            if until.is_some_and(|until| entry.at > until) {
                break;
            }
            if entry.service == service {
                status.apply(&entry.event);
            }
        }
        status
    }

    /// The events kept, oldest first: when, whose, what.
    pub fn events(&self) -> impl Iterator<Item = (Duration, ServiceId, &ServiceEvent)> {
        self.events.iter().map(|e| (e.at, e.service, &e.event))
    }

    /// Every service's status at `until`, in [`ServiceId::ALL`]'s order.
    pub fn statuses_at(&self, until: Option<Duration>) -> Vec<(ServiceId, ServiceStatus)> {
        ServiceId::ALL
            .into_iter()
            .map(|service| (service, self.status_at(service, until)))
            .collect()
    }

    /// The events a recording's packets tell, for a trace that has no live services behind it.
    ///
    /// - An incoming CONNACK is the link up (or down, if it refused), with its Session Present
    ///   flag (taken as 0 after a CONNECT that asked for a clean session); a DISCONNECT is the
    ///   link down. A SUBACK answers the SUBSCRIBE of its packet id.
    /// - An order delivered to PaymentService or InventoryService starts work, due when the
    ///   recording shows the service's result for that order going out (or after the default
    ///   delay, if the recording ends first).
    /// - Any other delivery is a message handled; a PUBLISH going out ends the work for its
    ///   order.
    pub fn inferred(history: &PacketHistory, style: SagaStyle, capacity: usize) -> ServiceLog {
        ServiceLog::inferred_with(history, &[], &[], style, capacity)
    }

    /// Each loss of a service's connection this log holds: the first
    /// [`Link::Disconnected`] after a [`Link::Connected`], with its time and its reason in
    /// words. A client the page stopped itself ([`ConnectionError::Stopped`]: a *Crash*, a
    /// client replaced, a recording shown) lost nothing to the broker, and is left out. For a
    /// recording ([`ServiceLog::inferred_with`]'s `losses`): its packets cannot tell a
    /// connection that dropped, only the reconnection after it.
    pub fn losses(&self) -> Vec<Loss> {
        // Whether each service is up, by its place in ServiceId::ALL.
        let mut up = [false; ServiceId::ALL.len()];
        let mut losses = Vec::new();
        for (at, service, event) in self.events() {
            let place = ServiceId::ALL.iter().position(|s| *s == service);
            let Some(slot) = place.and_then(|i| up.get_mut(i)) else {
                continue;
            };
            match event {
                ServiceEvent::Link(Link::Connected { .. }) => *slot = true,
                ServiceEvent::Link(Link::Disconnected { reason, .. }) if *slot => {
                    *slot = false;
                    if !matches!(reason, ConnectionError::Stopped(_)) {
                        losses.push((at, service, reason.to_string()));
                    }
                }
                ServiceEvent::Link(_) | ServiceEvent::Crashed => *slot = false,
                _ => {}
            }
        }
        losses
    }

    /// [`ServiceLog::inferred`], with the learner's *Crash* and *Restart* clicks among
    /// `actions` (a recording of version 4): a service is crashed from its crash (every
    /// instance's, when it has several) to its restart, as the live badge was.
    ///
    /// `losses` are the connections the recording says were lost ([`ServiceLog::losses`]):
    /// each service is disconnected, with its reason, from then until its next CONNACK.
    pub fn inferred_with(
        history: &PacketHistory,
        actions: &[super::history::UserAction],
        losses: &[Loss],
        style: SagaStyle,
        capacity: usize,
    ) -> ServiceLog {
        let mut log = ServiceLog::new(capacity);
        let packets: Vec<&TracedPacket> = history.iter().collect();
        let mut clicks = crash_events(&packets, actions);
        clicks.extend(losses.iter().map(|(at, service, reason)| {
            let reason = ConnectionError::TransportFailed(reason.clone());
            let lost = Link::Disconnected {
                url: String::new(),
                reason,
                retry_in: Duration::ZERO,
                attempt: 0,
            };
            (*at, *service, ServiceEvent::Link(lost))
        }));
        crate::stable_sort::by_key(&mut clicks, |(at, ..)| *at);
        let mut clicks = clicks.into_iter().peekable();
        // By client id: PaymentService's instances number their packets each on its own.
        let mut asked: HashMap<(&str, u16), Vec<String>> = HashMap::new();
        // Each client's last CONNECT asked for a clean session: no session can be present then.
        let mut clean: HashMap<&str, bool> = HashMap::new();
        // The style each packet ran under: a recording may hold a change of style.
        let changes: Vec<&super::history::UserAction> = actions
            .iter()
            .filter(|a| matches!(a, super::history::UserAction::StyleChanged { .. }))
            .collect();
        for (i, packet) in packets.iter().enumerate() {
            while let Some((at, service, event)) = clicks.next_if(|(at, ..)| *at <= packet.at) {
                log.record(at, service, event);
            }
            // The status monitor has no badge.
            let Some(service) = packet.participant.service() else {
                continue;
            };
            let event = match (packet.packet.as_ref(), packet.direction) {
                (Packet::Connect(connect), Direction::Outgoing) => {
                    clean.insert(packet.client_id.as_str(), connect.clean_session);
                    continue;
                }
                (Packet::ConnAck(ack), Direction::Incoming) if packet.reason.is_none() => {
                    let asked_clean = clean.get(packet.client_id.as_str()) == Some(&true);
                    let present = ack.session_present && !asked_clean;
                    // A CONNACK opens a new connection; a lost one left no packet to say so.
                    let new = Link::starting(String::new());
                    log.record(packet.at, service, ServiceEvent::Link(new));
                    log.record(packet.at, service, ServiceEvent::Session { present });
                    ServiceEvent::Link(Link::Connected { url: String::new() })
                }
                (Packet::Subscribe(subscribe), Direction::Outgoing) => {
                    // The flow's filters, the topic namespace taken off.
                    let ns = history.namespace();
                    let filters = subscribe
                        .filters
                        .iter()
                        .map(|(f, _)| ns.strip_filter(f).map_or_else(|| f.clone(), Into::into))
                        .collect();
                    asked.insert((packet.client_id.as_str(), subscribe.packet_id), filters);
                    continue;
                }
                (Packet::SubAck(ack), Direction::Incoming) => {
                    let Some(filters) = asked.remove(&(packet.client_id.as_str(), ack.packet_id))
                    else {
                        continue;
                    };
                    let answers = filters.into_iter().zip(ack.return_codes.iter().copied());
                    ServiceEvent::Subscribed {
                        answers: answers.collect(),
                        protocol: packet.protocol,
                    }
                }
                _ => match (packet.kind, packet.direction) {
                    (PacketKind::ConnAck, Direction::Incoming) => {
                        ServiceEvent::Link(match &packet.reason {
                            None => Link::Connected { url: String::new() },
                            Some(reason) => stopped(reason),
                        })
                    }
                    (PacketKind::Disconnect, _) => {
                        ServiceEvent::Link(stopped("the client disconnected"))
                    }
                    (PacketKind::Publish, Direction::Incoming) => {
                        let works = packet.message.as_deref().is_some_and(|m| {
                            let style =
                                super::history::style_at(changes.iter().copied(), style, packet.at);
                            starts_work(service, m, style)
                        });
                        match packet.order_id {
                            Some(order_id) if works => ServiceEvent::WorkStarted {
                                order_id,
                                due: result_time(&packets[i + 1..], service, order_id)
                                    .unwrap_or(packet.at + default_delay(service)),
                            },
                            _ => ServiceEvent::Outcome(LastOutcome::Done),
                        }
                    }
                    (PacketKind::Publish, Direction::Outgoing) => match packet.order_id {
                        Some(order_id) => ServiceEvent::WorkDone { order_id },
                        None => ServiceEvent::Outcome(LastOutcome::Done),
                    },
                    _ => continue,
                },
            };
            log.record(packet.at, service, event);
        }
        for (at, service, event) in clicks {
            log.record(at, service, event);
        }
        log
    }
}

/// A lost connection: when, whose, and why in words ([`ServiceLog::losses`]).
pub type Loss = (Duration, ServiceId, String);

/// The badge events of the *Crash* and *Restart* clicks among `actions`, in time order: each
/// instance's, told through [`super::service_links::ServiceLinks`] as the live page tells them
/// (crashed once every instance of the service is; restarted when the first comes back).
fn crash_events(
    packets: &[&TracedPacket],
    actions: &[super::history::UserAction],
) -> Vec<(Duration, ServiceId, ServiceEvent)> {
    use super::history::UserAction;
    use crate::services::instances::{client_label, Instance};
    let mut clicks: Vec<&UserAction> = actions
        .iter()
        .filter(|a| matches!(a, UserAction::Crashed { .. } | UserAction::Restarted { .. }))
        .collect();
    if clicks.is_empty() {
        return Vec::new();
    }
    crate::stable_sort::by_key(&mut clicks, |a| a.at());
    let mut instances: Vec<Instance> = Vec::new();
    let seen = packets.iter().filter_map(|p| {
        let service = p.participant.service()?;
        Some(
            Instance::from_slug(client_label(&p.client_id))
                .filter(|i| i.service == service)
                .unwrap_or_else(|| service.into()),
        )
    });
    let clicked = clicks.iter().filter_map(|a| match a {
        UserAction::Crashed { instance, .. } | UserAction::Restarted { instance, .. } => {
            Some(*instance)
        }
        UserAction::PlacedOrder { .. } | UserAction::StyleChanged { .. } => None,
    });
    for instance in seen.chain(clicked) {
        if !instances.contains(&instance) {
            instances.push(instance);
        }
    }
    let mut links = super::service_links::ServiceLinks::new(&instances);
    let mut events = Vec::new();
    for click in clicks {
        match *click {
            UserAction::Crashed { at, instance } => {
                for event in links.crash(instance) {
                    if matches!(event, ServiceEvent::Crashed) {
                        events.push((at, instance.service, event));
                    }
                }
            }
            UserAction::Restarted { at, instance } => {
                if let Some(event) = links.restart(instance, "") {
                    events.push((at, instance.service, event));
                }
            }
            UserAction::PlacedOrder { .. } | UserAction::StyleChanged { .. } => {}
        }
    }
    events
}

fn stopped(reason: &str) -> Link {
    Link::Disconnected {
        url: String::new(),
        reason: ConnectionError::Stopped(reason.to_owned()),
        retry_in: Duration::ZERO,
        attempt: 0,
    }
}

/// Whether `message`, delivered to `service` under `style`, starts its simulated work.
pub(crate) fn starts_work(service: ServiceId, message: &DomainEvent, style: SagaStyle) -> bool {
    use DomainEvent as M;
    match (service, message) {
        (ServiceId::Payment, M::OrderCreated(_)) => style == SagaStyle::Parallel,
        (ServiceId::Payment, M::InventoryReserved(r)) => {
            style == SagaStyle::Choreography && r.success
        }
        (ServiceId::Payment, M::ChargePayment(_)) => true,
        (ServiceId::Inventory, M::OrderCreated(_)) => style != SagaStyle::Orchestration,
        (ServiceId::Inventory, M::ReserveInventory(_)) => true,
        _ => false,
    }
}

/// When `service` published its result for `order_id`, if the recording holds it.
fn result_time(later: &[&TracedPacket], service: ServiceId, order_id: Uuid) -> Option<Duration> {
    later
        .iter()
        .find(|p| {
            p.participant == service
                && p.kind == PacketKind::Publish
                && p.direction == Direction::Outgoing
                && p.order_id == Some(order_id)
                && p.topic.as_deref()
                    == Some(match service {
                        ServiceId::Payment => topics::PAYMENTS_PROCESSED,
                        _ => topics::INVENTORY_RESERVED,
                    })
        })
        .map(|p| p.at)
}

fn default_delay(service: ServiceId) -> Duration {
    let delays = Delays::default();
    match service {
        ServiceId::Payment => delays.payment,
        _ => delays.inventory,
    }
}

#[cfg(test)]
mod tests;
