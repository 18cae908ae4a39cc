//! Whether an order can be placed now, and if not, why and what to do: the rule behind the
//! form's *Place order* and *Place 10 orders*. A refused order publishes nothing and gets no id.
//!
//! An order is refused while OrderService is crashed or not connected (its reason says which:
//! connecting, refused by the broker, unreachable, dropped), and while a service the order flow
//! needs has not subscribed yet since the services started. The broker delivers a PUBLISH to the
//! subscriptions that exist when it arrives (MQTT 3.1.1 §3.3.5, 5.0 §3.3.4); a client connecting
//! with a fresh client id has no session to keep it meanwhile, so an order published before its
//! consumers' SUBSCRIBE would never reach them and its saga would run out its deadline. Once a
//! service has had its first SUBACK it no longer holds orders back, even if it crashes later:
//! watching a crashed consumer catch up on its session is a lesson of the page. QueryService,
//! the read side, holds orders back only at start-up, for at most [`READ_SIDE_WAIT`].
//!
//! The driver tells the gate each instance's SUBACK ([`OrderGate::subscribed`]), lost connection
//! ([`OrderGate::left`]), crash and restart ([`OrderGate::crashed`], [`OrderGate::restarted`]),
//! and asks it before each order ([`OrderGate::check`]); no clock is read.
//! A dead letter's *Retry* asks the same gate, about its topic's consumers
//! ([`OrderGate::check_retry`], in [`super::retry_gate`]).
//!
//! ```
//! use broker_bridge::Link;
//! use eda_core::services::order_gate::{OrderGate, OrderLink, OrderRefusal};
//! use eda_core::services::{SagaStyle, ServiceId};
//!
//! let up = Link::Connected { url: "ws://h:1".into() };
//! let mut gate = OrderGate::default();
//! for service in [ServiceId::Order, ServiceId::Notification, ServiceId::Query] {
//!     gate.subscribed(service);
//! }
//! let refused = gate.check(SagaStyle::Parallel, OrderLink::Up(&up)).unwrap_err();
//! assert_eq!(
//!     refused.cause(),
//!     "OrderService is waiting for PaymentService, InventoryService to subscribe"
//! );
//! gate.subscribed(ServiceId::Payment);
//! gate.subscribed(ServiceId::Inventory);
//! assert_eq!(gate.check(SagaStyle::Parallel, OrderLink::Up(&up)), Ok(()));
//! assert_eq!(
//!     gate.check(SagaStyle::Parallel, OrderLink::Crashed),
//!     Err(OrderRefusal::Crashed)
//! );
//! ```

use std::collections::{BTreeMap, BTreeSet};

use broker_bridge::Link;

use super::instances::Instance;
use super::{SagaStyle, ServiceId};

/// How long after the services start orders may wait for QueryService's first SUBACK
/// ([`OrderGate::read_side_released`]): 5 s, a few times what five WebSocket handshakes with
/// Mosquitto take (about 200 ms each, one at a time per host).
pub const READ_SIDE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Which services have subscribed at least once since the services started, and which are
/// subscribed on their current connection, counted by instance: a service with several
/// instances (PaymentService's competing consumers, [`super::instances`]) shares one
/// subscription group (`$share/<group>/…`), in which the broker gives each message to one
/// member, so **one subscribed instance is enough** for the service to be reached, and the
/// service is away only while none of its instances is subscribed
/// (`docs/decisions/0009-competing-consumers.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderGate {
    /// Subscribed at least once since the services started or it last moved broker.
    subscribed: BTreeSet<Instance>,
    /// Subscribed since its last connection began: what a clean session needs, since the broker
    /// keeps nothing for it between connections.
    subscribed_now: BTreeSet<Instance>,
    /// Crashed by the learner, not restarted since.
    crashed: BTreeSet<Instance>,
    /// Every instance the gate was told of.
    seen: BTreeSet<Instance>,
    /// Refused for good by its broker ([`Link::waits_for_user`]): the page does not retry
    /// until the learner changes something. Its broker's URL and its refusal.
    refused: BTreeMap<Instance, (String, broker_bridge::ConnectionError)>,
    /// Its last SUBACK refused every filter it asked for: nothing reaches it, and it does not
    /// ask again by itself. What the broker refused, as the page says it.
    deaf: BTreeMap<Instance, String>,
    /// Connected, but its online status never came back through the status monitor
    /// ([`super::presence::relay`]): the broker drops what it publishes (its user's access
    /// rules, most likely). Its status topic, as on the wire.
    unrelayed: BTreeMap<Instance, String>,
    /// Signed in as a user of the learner's, connected and online, its status not come back
    /// through the status monitor yet ([`OrderGate::relay_pending`]). Its status topic.
    pending: BTreeMap<Instance, String>,
    /// Orders no longer wait for QueryService's first SUBACK ([`OrderGate::read_side_released`]).
    read_side_released: bool,
    /// Its filters changed (a coordination switch) since the session its broker may keep was
    /// made: a CONNACK with Session Present does not count as subscribed, only its next SUBACK
    /// (the kept session holds the old style's subscriptions).
    filters_changed: BTreeSet<Instance>,
}

/// A service's state as the gate needs it (OrderService's for orders, a retry's publisher's):
/// crashed by the learner, or its client's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderLink<'a> {
    /// The learner pressed *Crash* and has not pressed *Restart*.
    Crashed,
    /// Running, with this link to its broker.
    Up(&'a Link),
}

/// Why no order can be placed now. [`OrderRefusal::cause`] and [`OrderRefusal::advice`] are the
/// form's sentence (with [`super::order::orders_refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRefusal {
    /// The learner crashed OrderService.
    Crashed,
    /// OrderService is opening its connection (WebSocket, or CONNECT awaiting its CONNACK).
    Connecting {
        /// The broker URL, e.g. `ws://localhost:9001`.
        url: String,
    },
    /// The broker answered CONNECT with a refusal (CONNACK with a failure code).
    Refused {
        url: String,
        /// The broker's answer, as the page says it.
        reason: String,
    },
    /// Nothing answered at `url`: the WebSocket never opened.
    Unreachable { url: String, reason: String },
    /// A connection that had opened ended (dropped, closed by the broker, timed out …).
    Down {
        url: String,
        reason: String,
        /// The broker itself ended the try, in a way a reconnection is likely to meet again:
        /// closed before or soon after CONNACK, taken over, or a protocol violation
        /// ([`broker_bridge::ConnectionError::is_closed_after_accept`] and the like). The page
        /// does not promise that it "reconnects by itself" then.
        repeats: bool,
    },
    /// These services (in [`ServiceId::ALL`]'s order) have not subscribed yet since the
    /// services started.
    WaitingFor(Vec<ServiceId>),
    /// A service the order waits for ([`OrderRefusal::WaitingFor`]) will not subscribe by
    /// itself: its broker refused its CONNECT for good ([`Link::waits_for_user`]: bad user
    /// name or password, not authorized, …) and the page does not retry.
    ServiceRefused {
        /// The first such service, in [`ServiceId::ALL`]'s order.
        service: ServiceId,
        /// Its broker's URL.
        url: String,
        /// The broker's refusal, as the page says it (e.g. "Not authorized (0x87)").
        reason: String,
        /// What to change (its user name and password under Sign in, when those were
        /// refused), a sentence with a space before it.
        advice: &'static str,
    },
    /// A service the order waits for ([`OrderRefusal::WaitingFor`]) will not subscribe by
    /// itself: the broker refused every filter of its SUBSCRIBE, for each of its instances
    /// ([`OrderGate::subscription_refused`]), and the page does not ask again until the
    /// service restarts or its subscriptions change (a break-test: `?payment_instances=2` on a
    /// broker without shared subscriptions, and the form said the wait "goes away").
    Deaf {
        /// The first such service, in [`ServiceId::ALL`]'s order.
        service: ServiceId,
        /// What the broker refused, e.g. "the broker refused $share/g/orders/created:
        /// Unspecified error (0x80)".
        refused: String,
        /// Whether what it refused is a shared subscription (`$share/…`): the advice is to run
        /// one instance.
        shared: bool,
    },
    /// A service the order flow needs is connected and subscribed, but the broker has not relayed
    /// its own online status ([`super::presence::relay`]): the broker drops in silence what its
    /// access rules deny, so an order would reach it, or its answer reach OrderService, no
    /// more than its status did, and the saga would run out its deadline.
    NotRelayed {
        /// The first such service, in [`ServiceId::ALL`]'s order.
        service: ServiceId,
        /// Its status topic, as on the wire (e.g. `services/payment/status`).
        topic: String,
    },
    /// A service the order flow needs signed in as a user of the learner's and said online
    /// moments ago; its status has not come back through the status monitor yet, and until it
    /// does (or [`super::presence::relay::RELAY_GRACE`] passes, [`OrderRefusal::NotRelayed`])
    /// the page cannot tell whether that user may publish and subscribe to its topics. An
    /// order placed then was lost in silence under an ACL that denied it (a newcomer's
    /// break-test: placed 1 s after *Sign in*, it stayed Pending for good).
    RelayPending {
        /// The first such service, in [`ServiceId::ALL`]'s order.
        service: ServiceId,
        /// Its status topic, as on the wire.
        topic: String,
    },
    /// The learner chose another coordination style while sagas were in flight: the services
    /// switch once those sagas end ([`super::Flow::choose_style`]), and a new order would start
    /// a saga in the old style and put the switch off again ([`OrderGate::check_new_order`]).
    Switching {
        /// The style the services switch to.
        to: SagaStyle,
        /// How many sagas are still in flight ([`super::Flow::sagas_in_flight`]).
        in_flight: usize,
    },
    /// The tab's database is still being read back after a reload: what OrderService would
    /// publish waits until it has been (so that the order is handled by services that
    /// remember), up to the page's 10 s limit. A newcomer's break-test (36-Q F5) with a slow
    /// database was told "OrderService published order …" 8 s before it went out.
    ReadingDatabase,
    /// A service the order flow needs has not subscribed (since the services started, or to
    /// the new style's topics since a coordination switch) and is crashed: it will not
    /// subscribe until the learner presses *Restart* (40-AF F2: the form said the message "goes
    /// away once they have", and it never did).
    CrashedUnsubscribed {
        /// The crashed service.
        service: ServiceId,
    },
}

impl OrderGate {
    /// `instance` (a service's only instance: a [`ServiceId`] will do) is subscribed on its
    /// broker: a SUBACK granting at least one of its filters (a SUBACK refusing every filter
    /// does not count: nothing would reach it), or a CONNACK with Session Present (the broker
    /// kept the session, subscriptions included, MQTT 3.1.1 §3.2.2.2, 5.0 §3.2.2.1.1, so no
    /// SUBSCRIBE follows). Returns whether its service had not subscribed yet since the
    /// services started or since it last moved broker.
    pub fn subscribed(&mut self, instance: impl Into<Instance>) -> bool {
        let instance = instance.into();
        self.filters_changed.remove(&instance);
        let first = !self.has_subscribed(instance.service);
        self.seen.insert(instance);
        self.crashed.remove(&instance);
        self.deaf.remove(&instance);
        self.subscribed_now.insert(instance);
        self.subscribed.insert(instance);
        first
    }

    /// `instance` connected again and its broker kept its session (a CONNACK with Session
    /// Present): subscribed ([`OrderGate::subscribed`]), unless its filters changed since
    /// ([`OrderGate::resubscribing`]): then the kept session holds the old style's
    /// subscriptions, and only its SUBACK counts (40-AF F1). Returns what
    /// [`OrderGate::subscribed`] returns, `false` when it waits for the SUBACK.
    pub fn session_kept(&mut self, instance: impl Into<Instance>) -> bool {
        let instance = instance.into();
        if self.filters_changed.contains(&instance) {
            self.seen.insert(instance);
            return false;
        }
        self.subscribed(instance)
    }

    /// `instance`'s connection ended (dropped, left, or not open yet): with a clean session the
    /// broker forgets its subscriptions, so it counts as subscribed again only after its next
    /// SUBACK (or a CONNACK with Session Present). Orders do not wait for it
    /// ([`OrderGate::waiting_for`] looks at the first SUBACK only); a retry does while none of
    /// its service's instances is subscribed ([`OrderGate::check_retry`]).
    pub fn left(&mut self, instance: impl Into<Instance>) {
        let instance = instance.into();
        self.seen.insert(instance);
        self.subscribed_now.remove(&instance);
    }

    /// The learner crashed `instance`: it left ([`OrderGate::left`]) and will not come back
    /// by itself. A service every instance of which is crashed is [`OrderGate::is_down`].
    pub fn crashed(&mut self, instance: impl Into<Instance>) {
        let instance = instance.into();
        self.left(instance);
        self.crashed.insert(instance);
    }

    /// The learner restarted `instance`: it is connecting again, not subscribed yet (it asks
    /// for its subscriptions afresh).
    pub fn restarted(&mut self, instance: impl Into<Instance>) {
        let instance = instance.into();
        self.crashed.remove(&instance);
        self.deaf.remove(&instance);
        self.left(instance);
    }

    /// `instance`'s client reports `link`: a refusal for good ([`Link::waits_for_user`]) is
    /// kept until its next link (signing in again starts a new connection), so that orders
    /// waiting for its service say why it will not come ([`OrderRefusal::ServiceRefused`]).
    pub fn linked(&mut self, instance: impl Into<Instance>, link: &Link) {
        let instance = instance.into();
        self.seen.insert(instance);
        match link {
            Link::Disconnected { url, reason, .. } if link.waits_for_user() => {
                self.refused.insert(instance, (url.clone(), reason.clone()));
            }
            _ => {
                self.refused.remove(&instance);
            }
        }
    }

    /// `instance`'s SUBACK refused every filter it asked for (`refused`: what, and the
    /// broker's reason): orders waiting for its service say it will not come by itself
    /// ([`OrderRefusal::Deaf`]) once every instance of the service is so, until one subscribes,
    /// restarts or moves, or its subscriptions change ([`OrderGate::resubscribing`]).
    pub fn subscription_refused(&mut self, instance: impl Into<Instance>, refused: &str) {
        let instance = instance.into();
        self.seen.insert(instance);
        self.deaf.insert(instance, refused.to_owned());
    }

    /// `instance`'s online status, on `topic` (as on the wire), did not come back through the
    /// status monitor in time ([`super::presence::relay::Verdict::Unrelayed`]): orders wait for
    /// it ([`OrderRefusal::NotRelayed`]) until [`OrderGate::relayed`].
    pub fn unrelayed(&mut self, instance: impl Into<Instance>, topic: &str) {
        let instance = instance.into();
        self.pending.remove(&instance);
        self.unrelayed.insert(instance, topic.to_owned());
    }

    /// `instance`, signed in as a user of the learner's (under *Sign in to the broker*), said
    /// online on `topic` (as on the wire): orders wait for its status to come back
    /// ([`OrderRefusal::RelayPending`]) until [`OrderGate::relayed`] or
    /// [`OrderGate::unrelayed`]. Anonymous clients are not held: the project's brokers let
    /// them do everything, and their statuses come back in milliseconds anyway.
    pub fn relay_pending(&mut self, instance: impl Into<Instance>, topic: &str) {
        self.pending.insert(instance.into(), topic.to_owned());
    }

    /// `instance`'s status came back in time, or was not judged: orders no longer wait for
    /// it on that account ([`OrderRefusal::RelayPending`]); an unrelayed status stays so.
    pub fn relay_settled_pending(&mut self, instance: impl Into<Instance>) {
        self.pending.remove(&instance.into());
    }

    /// `instance`'s status came through at last, or its connection ended (the next one is
    /// judged afresh): orders no longer wait for it on that account.
    pub fn relayed(&mut self, instance: impl Into<Instance>) {
        let instance = instance.into();
        self.unrelayed.remove(&instance);
        self.pending.remove(&instance);
    }

    /// The first service the order flow under `style` needs with an instance whose status the
    /// broker has not relayed, as a refusal.
    fn not_relayed(&self, style: SagaStyle) -> Option<OrderRefusal> {
        let first = |statuses: &BTreeMap<Instance, String>| {
            ServiceId::ALL
                .into_iter()
                .filter(|s| *s != ServiceId::Query && !s.subscriptions(style).is_empty())
                .find_map(|service| {
                    let (_, topic) = statuses.iter().find(|(i, _)| i.service == service)?;
                    Some((service, topic.clone()))
                })
        };
        first(&self.unrelayed)
            .map(|(service, topic)| OrderRefusal::NotRelayed { service, topic })
            .or_else(|| {
                first(&self.pending)
                    .map(|(service, topic)| OrderRefusal::RelayPending { service, topic })
            })
    }

    /// The first service of `waiting` every known instance of which its broker refused for
    /// good, as a refusal.
    fn refused_for_good(&self, waiting: &[ServiceId]) -> Option<OrderRefusal> {
        waiting.iter().find_map(|service| {
            self.refused_connect(*service)
                .or_else(|| self.refused_subscribe(*service))
                .or_else(|| {
                    self.is_down(*service)
                        .then_some(OrderRefusal::CrashedUnsubscribed { service: *service })
                })
        })
    }

    /// [`OrderRefusal::Deaf`] for `service` if its broker refused every filter of each of its
    /// instances.
    fn refused_subscribe(&self, service: ServiceId) -> Option<OrderRefusal> {
        let mut instances = self.seen.iter().filter(|i| i.service == service);
        let first = instances.next()?;
        let refused = self.deaf.get(first)?;
        if !instances.all(|i| self.deaf.contains_key(i)) {
            return None;
        }
        Some(OrderRefusal::Deaf {
            service,
            refused: refused.clone(),
            shared: refused.contains("$share/"),
        })
    }

    /// [`OrderRefusal::ServiceRefused`] for `service` if its broker refused the CONNECT of each
    /// of its instances for good.
    fn refused_connect(&self, service: ServiceId) -> Option<OrderRefusal> {
        let mut instances = self.seen.iter().filter(|i| i.service == service);
        let first = instances.next()?;
        let (url, reason) = self.refused.get(first)?;
        if !instances.all(|i| self.refused.contains_key(i)) {
            return None;
        }
        let advice = if reason.asks_for_credentials() {
            " It will not subscribe by itself: fix its user name and password under Sign in to \
             the broker and press Sign in; this message goes once it has subscribed."
        } else {
            " It will not subscribe by itself: change what the broker refused (its badge's \
             help says what), then try again."
        };
        Some(OrderRefusal::ServiceRefused {
            service,
            url: url.clone(),
            reason: reason.to_string(),
            advice,
        })
    }

    /// Whether one of `service`'s instances at least is subscribed on its current connection
    /// ([`OrderGate::left`]).
    pub fn is_subscribed_now(&self, service: ServiceId) -> bool {
        self.subscribed_now.iter().any(|i| i.service == service)
    }

    /// Whether `instance` has subscribed since the services started (or since it last moved
    /// broker): a later CONNACK without Session Present then means the broker lost its session.
    pub fn had_subscribed(&self, instance: impl Into<Instance>) -> bool {
        self.subscribed.contains(&instance.into())
    }

    /// Whether one of `service`'s instances at least has subscribed since the services started
    /// (or since it last moved broker).
    pub fn has_subscribed(&self, service: ServiceId) -> bool {
        self.subscribed.iter().any(|i| i.service == service)
    }

    /// Whether every instance of `service` the gate knows of is crashed (and one at least is).
    pub fn is_down(&self, service: ServiceId) -> bool {
        let mut instances = self.seen.iter().filter(|i| i.service == service).peekable();
        instances.peek().is_some() && instances.all(|i| self.crashed.contains(i))
    }

    /// `instance` moved to another broker (the broker bar, a broker of its own): what it
    /// subscribed to on the old one does not hold there, so orders wait for it again; all but
    /// QueryService's, which holds orders back only at start-up
    /// ([`OrderGate::read_side_released`]).
    pub fn moved(&mut self, instance: impl Into<Instance>) {
        let instance = instance.into();
        if instance.service == ServiceId::Query {
            self.read_side_released();
        }
        self.seen.insert(instance);
        self.deaf.remove(&instance);
        self.subscribed.remove(&instance);
        self.subscribed_now.remove(&instance);
    }

    /// The services the order flow under `style` needs (every service that subscribes to
    /// something under it) that have not subscribed yet, in [`ServiceId::ALL`]'s order.
    /// QueryService is one only at start-up, for at most [`READ_SIDE_WAIT`]
    /// ([`OrderGate::read_side_released`]): after that it does not hold orders back (what it
    /// misses, its read model says, *Missing N events*, and *Rebuild* projects from the event
    /// store; a QueryService that cannot reach its broker would otherwise stop every order).
    pub fn waiting_for(&self, style: SagaStyle) -> Vec<ServiceId> {
        ServiceId::ALL
            .into_iter()
            .filter(|s| *s != ServiceId::Query || self.read_side_holds())
            .filter(|s| !s.subscriptions(style).is_empty() && !self.has_subscribed(*s))
            .collect()
    }

    /// Orders stop waiting for QueryService's first SUBACK, for good (until the services start
    /// again): the driver calls this [`READ_SIDE_WAIT`] after the services started, and when a
    /// SUBACK of QueryService's refused every filter. The read side must not hold the write
    /// side back for long: from then on what QueryService misses, its read model says
    /// (`docs/decisions/0013-read-side.md`).
    pub fn read_side_released(&mut self) {
        self.read_side_released = true;
    }

    /// Whether orders wait for QueryService: only at start-up, before its first SUBACK, and
    /// while it is neither crashed, nor refused by its broker for good, nor released
    /// ([`OrderGate::read_side_released`]). Without this, an order placed the moment the other
    /// services had subscribed could be published before QueryService's SUBSCRIBE reached the
    /// broker, and the read model would miss its events for good (a newcomer's break-test: the
    /// first order of a page, placed as soon as *Place order* was enabled, was missing from the
    /// query's answer until *Rebuild*).
    fn read_side_holds(&self) -> bool {
        let query = |i: &&Instance| i.service == ServiceId::Query;
        !self.read_side_released
            && !self.has_subscribed(ServiceId::Query)
            && !self.is_down(ServiceId::Query)
            && !self
                .seen
                .iter()
                .filter(query)
                .any(|i| self.refused.contains_key(i))
    }

    /// Whether an order may be placed now, with OrderService `order` under `style`.
    ///
    /// # Errors
    ///
    /// [`OrderRefusal`]: OrderService crashed or not connected (checked first: its own state
    /// is what the learner must fix first), or services still to subscribe (one its broker
    /// refused for good, [`OrderRefusal::ServiceRefused`], named before the others).
    pub fn check(&self, style: SagaStyle, order: OrderLink<'_>) -> Result<(), OrderRefusal> {
        can_publish(order)?;
        let waiting = self.waiting_for(style);
        if waiting.is_empty() {
            // Subscribed once (a SUBACK, or a session the broker kept), then refused every
            // filter by each instance: deaf all the same (a newcomer's break-test, 35-L F2: on
            // the aedes cluster, a kept session counted PaymentService subscribed, its shared
            // filters were then refused, and an order went out that no instance could receive).
            let deaf = ServiceId::ALL
                .into_iter()
                .filter(|s| !s.subscriptions(style).is_empty())
                .find_map(|s| self.refused_subscribe(s));
            if let Some(deaf) = deaf {
                return Err(deaf);
            }
            self.not_relayed(style).map_or(Ok(()), Err)
        } else {
            Err(self
                .refused_for_good(&waiting)
                .unwrap_or(OrderRefusal::WaitingFor(waiting)))
        }
    }

    /// Whether a new order (a new saga: *Place order*, *Place 10 orders*, a poison message) may
    /// be placed now: [`OrderGate::check`], and not while a coordination switch waits for the
    /// sagas in flight (`switching`, [`super::Flow::style_waiting`]). A saga keeps the style it
    /// started under, so an order placed meanwhile would be one more saga in the old style for
    /// the switch to wait for: as long as the learner kept ordering, the switch would never
    /// come. What belongs to the sagas in flight (a reload's owed messages, a dead letter's
    /// *Retry*) is not a new order and does not wait for the switch, which waits for it.
    ///
    /// Nor while the tab's database is still being read back after the page opened
    /// (`reading_database`): the order would go out late ([`OrderRefusal::ReadingDatabase`]).
    ///
    /// # Errors
    ///
    /// [`OrderGate::check`]'s refusals that waiting does not end first (what the learner must
    /// fix, or the failure the help under the badges shows: [`OrderRefusal::passes_by_itself`]
    /// is false), then [`OrderRefusal::ReadingDatabase`], then the other refusals of
    /// [`OrderGate::check`], then [`OrderRefusal::Switching`]. A broker that cannot be reached
    /// is named while the database is read back (CI, stop 45: on a loaded machine the form said
    /// "waiting for the browser's database" while the help said "Cannot reach the MQTT broker").
    pub fn check_new_order(
        &self,
        style: SagaStyle,
        switching: Option<(SagaStyle, usize)>,
        reading_database: bool,
        order: OrderLink<'_>,
    ) -> Result<(), OrderRefusal> {
        match self.check(style, order) {
            Err(refusal) if !refusal.passes_by_itself() => return Err(refusal),
            _ if reading_database => return Err(OrderRefusal::ReadingDatabase),
            checked => checked?,
        }
        match switching {
            Some((to, in_flight)) => Err(OrderRefusal::Switching { to, in_flight }),
            None => Ok(()),
        }
    }

    /// The services switch to another style: `instance` was asked to SUBSCRIBE to the new
    /// style's filters, which hold for it only once its SUBACK came; until then orders wait for
    /// it ([`OrderGate::waiting_for`]), as for a service not subscribed yet, since the broker
    /// delivers a PUBLISH only to the subscriptions that exist when it arrives (e.g. a
    /// `commands/payment/charge` before PaymentService's SUBSCRIBE to `commands/payment/#`).
    /// Crashed or disconnected, too: the session its broker keeps holds the old style's
    /// subscriptions, so what the new style sends it meanwhile is queued for nobody (40-AF F1:
    /// PaymentService crashed across a switch to orchestration, the order's charge command
    /// reached no one and the order was cancelled).
    pub fn resubscribing(&mut self, instance: impl Into<Instance>) {
        let instance = instance.into();
        self.seen.insert(instance);
        self.deaf.remove(&instance);
        self.subscribed.remove(&instance);
        self.filters_changed.insert(instance);
    }
}

/// The refusal of a new order `refusal`, said as what the other services found: while
/// OrderService (`order`) is still opening its first try at the broker and the refusal is one
/// that waiting ends ([`OrderRefusal::passes_by_itself`]: still connecting, the tab's database
/// being read back, services not subscribed yet), another service's try at the same URL that
/// failed for a cause waiting does not end (the broker unreachable, or refusing) is the cause,
/// as the help under the badges says already (43-AP F1: the form said "Wait until it shows
/// connected" for up to 3 s beside "Cannot reach the MQTT broker", the other services' first
/// tries failing before OrderService's). Any other refusal, or no such failure, is as it was.
///
/// ```
/// use eda_core::services::order_gate::{as_the_others_found, OrderLink, OrderRefusal};
/// use broker_bridge::Link;
///
/// let connecting = OrderRefusal::Connecting { url: "ws://h:1".into() };
/// let starting = Link::starting("ws://h:1".to_owned());
/// let order = OrderLink::Up(&starting);
/// assert_eq!(as_the_others_found(connecting.clone(), order, &[order]), connecting);
/// ```
pub fn as_the_others_found(
    refusal: OrderRefusal,
    order: OrderLink<'_>,
    others: &[OrderLink<'_>],
) -> OrderRefusal {
    if !refusal.passes_by_itself() {
        return refusal;
    }
    let Err(OrderRefusal::Connecting { url }) = can_publish(order) else {
        return refusal;
    };
    others
        .iter()
        .filter(|link| matches!(link, OrderLink::Up(link) if link.url() == url))
        .filter_map(|link| can_publish(*link).err())
        .find(|found| {
            matches!(
                found,
                OrderRefusal::Unreachable { .. } | OrderRefusal::Refused { .. }
            )
        })
        .unwrap_or(refusal)
}

/// Whether a service in state `link` can publish now: not crashed, and connected (a publish
/// while connecting would wait in its client's offline queue and go out at the first CONNACK,
/// before anyone resubscribed).
///
/// # Errors
///
/// The [`OrderRefusal`] that says why (every variant but [`OrderRefusal::WaitingFor`]).
pub(super) fn can_publish(link: OrderLink<'_>) -> Result<(), OrderRefusal> {
    let link = match link {
        OrderLink::Crashed => return Err(OrderRefusal::Crashed),
        OrderLink::Up(link) => link,
    };
    let url = link.url().to_owned();
    // The same state the badges and the help under them show ([`Link::failure`]): trying again
    // after a failure is refused for that failure, not as "still connecting".
    match (link, link.failure()) {
        (Link::Connected { .. }, _) => Ok(()),
        (_, None) => Err(OrderRefusal::Connecting { url }),
        (_, Some(reason)) => {
            let text = reason.to_string();
            Err(if reason.is_refusal() {
                OrderRefusal::Refused { url, reason: text }
            } else if reason.is_unreachable() {
                OrderRefusal::Unreachable { url, reason: text }
            } else {
                // Twice in a row at least: after one end, the next try may well work (a
                // newcomer's break-test, 34-J F9: a broker stopped once was said to have ended
                // the connection "each time so far").
                let failures = match link {
                    Link::Disconnected { attempt, .. } | Link::Connecting { attempt, .. } => {
                        *attempt
                    }
                    Link::Connected { .. } => 0,
                };
                let repeats = failures >= 2
                    && (reason.is_closed_after_accept()
                        || reason.is_protocol_violation()
                        || matches!(
                            reason,
                            broker_bridge::ConnectionError::ClosedBeforeConnAck { .. }
                        ));
                OrderRefusal::Down {
                    url,
                    reason: text,
                    repeats,
                }
            })
        }
    }
}

/// Whether a form refusal shown for `shown` is still true while the gate now says `now`
/// (`None`: it passes). The same kind of refusal stays true though its figures move ("the 2
/// sagas in flight", then 1; two services not subscribed, then one); another kind makes it out
/// of date, as an open gate does: "waiting for the browser's database to be read back" once it
/// has been read, though a service has not subscribed yet (CI, stop 45). A refusal that came
/// from no gate (`shown` is `None`: the client refused the PUBLISH, the clock was out of range)
/// stays while the gate refuses anything.
///
/// ```
/// use eda_core::services::order_gate::{still_true, OrderRefusal};
/// use eda_core::services::ServiceId;
///
/// let reading = OrderRefusal::ReadingDatabase;
/// let waiting = OrderRefusal::WaitingFor(vec![ServiceId::Payment]);
/// assert!(still_true(Some(&reading), Some(&reading)));
/// assert!(!still_true(Some(&reading), Some(&waiting)));
/// assert!(!still_true(Some(&reading), None));
/// assert!(still_true(None, Some(&waiting)));
/// ```
pub fn still_true(shown: Option<&OrderRefusal>, now: Option<&OrderRefusal>) -> bool {
    match (shown, now) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(shown), Some(now)) => std::mem::discriminant(shown) == std::mem::discriminant(now),
    }
}

/// The refusal a form's sentence that said `shown` says instead while the gate now says `now`
/// (`None`: it passes), if it is to be said again: the same kind with other figures ("the 2
/// sagas in flight", then 1), or another kind that waiting does not end
/// ([`OrderRefusal::passes_by_itself`] is false: a broker that cannot be reached, refused or
/// dropped, a service crashed or deaf). The sentence said last stays true so (42-AM F3: after a
/// reload, "still connecting… Wait until it shows connected" stayed 4 s beside the help's
/// "Cannot reach the MQTT broker"). Another wait, or an open gate, makes it out of date instead
/// ([`still_true`]); a refusal that came from no gate (`shown` is `None`) is not said again.
///
/// ```
/// use eda_core::services::order_gate::{said_again, OrderRefusal};
/// use eda_core::services::ServiceId;
///
/// let reading = OrderRefusal::ReadingDatabase;
/// let waiting = OrderRefusal::WaitingFor(vec![ServiceId::Payment]);
/// assert_eq!(said_again(Some(&waiting), Some(&OrderRefusal::Crashed)), Some(OrderRefusal::Crashed));
/// assert_eq!(said_again(Some(&reading), Some(&waiting)), None);
/// assert_eq!(said_again(Some(&waiting), Some(&waiting)), None);
/// ```
pub fn said_again(
    shown: Option<&OrderRefusal>,
    now: Option<&OrderRefusal>,
) -> Option<OrderRefusal> {
    let (shown, now) = (shown?, now?);
    let same_kind = std::mem::discriminant(shown) == std::mem::discriminant(now);
    let say = if same_kind {
        shown != now
    } else {
        !now.passes_by_itself()
    };
    say.then(|| now.clone())
}

impl OrderRefusal {
    /// Whether this refusal ends with no more than waiting: a first try to connect, services
    /// still to subscribe or whose online status is on its way back, a coordination switch
    /// waiting for the sagas in flight, the tab's database being read back. The others need
    /// the learner (a crashed service, a broker that refused or cannot be reached, a
    /// subscription refused) or name a failure the help under the badges shows too (a broker
    /// that dropped the connection), and come first in [`OrderGate::check_new_order`].
    ///
    /// ```
    /// use eda_core::services::order_gate::OrderRefusal;
    /// use eda_core::services::ServiceId;
    ///
    /// assert!(OrderRefusal::WaitingFor(vec![ServiceId::Payment]).passes_by_itself());
    /// assert!(!OrderRefusal::Crashed.passes_by_itself());
    /// ```
    pub fn passes_by_itself(&self) -> bool {
        match self {
            OrderRefusal::Connecting { .. }
            | OrderRefusal::WaitingFor(_)
            | OrderRefusal::RelayPending { .. }
            | OrderRefusal::Switching { .. }
            | OrderRefusal::ReadingDatabase => true,
            OrderRefusal::Crashed
            | OrderRefusal::Refused { .. }
            | OrderRefusal::Unreachable { .. }
            | OrderRefusal::Down { .. }
            | OrderRefusal::ServiceRefused { .. }
            | OrderRefusal::Deaf { .. }
            | OrderRefusal::NotRelayed { .. }
            | OrderRefusal::CrashedUnsubscribed { .. } => false,
        }
    }

    /// What stops the order, without a full stop: "OrderService is crashed".
    pub fn cause(&self) -> String {
        self.cause_of(ServiceId::Order)
    }

    /// What stops `publisher` (a service, or one of its instances) from publishing, without a
    /// full stop: "PaymentService is crashed" (a dead letter's *Retry* is published by the
    /// service that owns its topic, *Deliver again* by the client that sent or received it).
    pub fn cause_of(&self, publisher: impl std::fmt::Display) -> String {
        match self {
            OrderRefusal::Crashed => format!("{publisher} is crashed"),
            OrderRefusal::Connecting { url } => {
                format!("{publisher} is still connecting to the broker at {url}")
            }
            OrderRefusal::Refused { url, reason } => {
                format!("{publisher} is not connected: the broker at {url} refused it ({reason})")
            }
            OrderRefusal::Unreachable { url, reason } => {
                format!(
                    "{publisher} is not connected: it cannot reach the broker at {url} ({reason})"
                )
            }
            OrderRefusal::Down { url, reason, .. } => {
                format!("{publisher} is not connected to the broker at {url} ({reason})")
            }
            OrderRefusal::WaitingFor(services) => {
                // Its own subscription named as such, not "OrderService is waiting for
                // OrderService" (a newcomer's break-test, 36-R F4).
                let names: Vec<&str> = services
                    .iter()
                    .filter(|s| **s != ServiceId::Order)
                    .map(|s| s.name())
                    .collect();
                match (services.contains(&ServiceId::Order), names.is_empty()) {
                    (true, true) => format!("{publisher} is waiting for its own subscription"),
                    (true, false) => format!(
                        "{publisher} is waiting for its own subscription and for {} to subscribe",
                        names.join(", ")
                    ),
                    _ => format!(
                        "{publisher} is waiting for {} to subscribe",
                        names.join(", ")
                    ),
                }
            }
            OrderRefusal::ServiceRefused {
                service,
                url,
                reason,
                ..
            } => format!(
                "{publisher} is waiting for {service} to subscribe, but the broker at {url} \
                 refused {service} ({reason}) and the page does not retry"
            ),
            OrderRefusal::Deaf {
                service, refused, ..
            } => format!(
                "{publisher} is waiting for {service} to subscribe, but {refused}, and {service} \
                 does not ask again by itself"
            ),
            // Its own status: "OrderService is waiting for OrderService" read as a bug (a
            // newcomer's break-test).
            OrderRefusal::NotRelayed { service, topic } if *service == ServiceId::Order => {
                format!(
                    "{publisher} is connected, but the broker has not relayed its own online \
                     status ({topic}), and drops in silence what its access rules deny{}",
                    deep_namespace(topic)
                )
            }
            OrderRefusal::NotRelayed { service, topic } => format!(
                "{publisher} is waiting for {service}: it is connected, but the broker has not \
                 relayed its online status ({topic}), and drops in silence what its access rules \
                 deny{}",
                deep_namespace(topic)
            ),
            OrderRefusal::RelayPending { service, topic } => format!(
                "{publisher} is waiting for {service}'s online status ({topic}) to come back \
                 through the broker, the sign that its user may publish and subscribe to its \
                 topics (a broker drops in silence what its access rules deny)"
            ),
            OrderRefusal::Switching { to, in_flight } => {
                let sagas = if *in_flight == 1 { "saga" } else { "sagas" };
                format!(
                    "{publisher} holds new orders back until the services switch to {to} \
                     (waiting for the {in_flight} {sagas} in flight to end)"
                )
            }
            OrderRefusal::ReadingDatabase => {
                format!("{publisher} is waiting for the browser's database to be read back")
            }
            OrderRefusal::CrashedUnsubscribed { service } => format!(
                "{publisher} is waiting for {service} to subscribe, but {service} is crashed"
            ),
        }
    }

    /// [`OrderRefusal::advice`] for `publisher` (a service, or one of its instances): whom to
    /// restart.
    pub fn advice_for(&self, publisher: impl std::fmt::Display) -> String {
        match self {
            OrderRefusal::Crashed => format!(" Press Restart on {publisher}, then try again."),
            other => other.advice(),
        }
    }

    /// What to do, a sentence with a space before it (empty when waiting is all there is to
    /// do). When nothing answered at the address, how to start the broker there
    /// ([`broker_bridge::url::start_advice`]: Mosquitto for this project's Mosquitto, the
    /// cluster's command for a node of `./scripts/cluster`, else that broker).
    pub fn advice(&self) -> String {
        let fixed = match self {
            OrderRefusal::Unreachable { url, .. } => {
                return format!(" {} Then try again.", broker_bridge::url::start_advice(url));
            }
            OrderRefusal::ServiceRefused { advice, .. } => return (*advice).to_owned(),
            OrderRefusal::Deaf { shared: true, .. } => {
                " Its instances cannot share its work on this broker: run one instance (Competing \
                 consumers, plain subscriptions), or use a broker that supports $share; this \
                 message goes once it has subscribed."
            }
            OrderRefusal::CrashedUnsubscribed { service } => {
                return format!(
                    " Press Restart on {service}; this message goes once it has subscribed."
                );
            }
            OrderRefusal::Deaf { service, .. } => {
                return format!(
                    " Change what the broker refused (the access rules for its topics, most \
                     likely), then press Restart on {service}; this message goes once it has \
                     subscribed."
                );
            }
            OrderRefusal::Crashed => " Press Restart on OrderService, then try again.",
            OrderRefusal::Connecting { .. } => " Wait until it shows connected, then try again.",
            OrderRefusal::Refused { .. } => {
                " Change what the broker refused (protocol version, user name or password, \
                 client id), then try again."
            }
            // A newcomer's break-test (32-E F6): a broker that closes every 3.1.1 CONNECT
            // was said to be reconnected to "by itself".
            OrderRefusal::Down { repeats: true, .. } => {
                " It tries again by itself, but the broker has ended its connection each time \
                 so far: the help under the status strip says what to check; try again once it \
                 shows connected."
            }
            OrderRefusal::Down { .. } => " It reconnects by itself; try again once it has.",
            OrderRefusal::WaitingFor(_) => {
                " An order published now would reach nobody who has not subscribed yet; this \
                 message goes away once they have."
            }
            OrderRefusal::NotRelayed { .. } => {
                " Check that its user under Sign in to the broker may publish and subscribe to \
                 its topics, then press Sign in; this message goes once its status comes through."
            }
            OrderRefusal::RelayPending { .. } => {
                " It comes within moments; try again then (after 3 s without it, the page says \
                 what to check)."
            }
            OrderRefusal::Switching { .. } => {
                " A saga keeps the coordination it started under, so a new order now would \
                 put the switch off; this message goes away once the services have switched."
            }
            OrderRefusal::ReadingDatabase => {
                " An order placed now would wait for it; this message goes once it has been \
                 read (after 10 s without an answer the page goes on in memory and says so)."
            }
        };
        fixed.to_owned()
    }
}

/// For a status `topic` under a namespace of more than one level (`school/class-7/services/
/// order/status`), the likely cause besides the user's rights: the project's ACL
/// (`static/mosquitto-secure.acl`) grants one namespace level (`+/services/…`), so a deeper one is
/// denied to every user alike (a newcomer's break-test was sent to check passwords that were
/// right). Empty otherwise.
pub(crate) fn deep_namespace(topic: &str) -> &'static str {
    if topic.split('/').count() > 4 {
        " (under a namespace of more than one level, as here: access rules written for one \
         level, such as this project's +/services/…, deny it to every user alike: try a \
         one-level ?ns=)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_bridge::ConnectionError;
    use std::time::Duration;

    fn up() -> Link {
        Link::Connected {
            url: "ws://h:1".into(),
        }
    }

    fn down(reason: ConnectionError) -> Link {
        Link::Disconnected {
            url: "ws://h:1".into(),
            reason,
            retry_in: Duration::from_secs(1),
            attempt: 1,
        }
    }

    #[test]
    fn a_refusal_of_another_kind_makes_the_form_refusal_out_of_date() {
        let switching = |in_flight| OrderRefusal::Switching {
            to: SagaStyle::Orchestration,
            in_flight,
        };
        // Figures move, the refusal stays true.
        assert!(still_true(Some(&switching(2)), Some(&switching(1))));
        let both = OrderRefusal::WaitingFor(vec![ServiceId::Payment, ServiceId::Inventory]);
        let one = OrderRefusal::WaitingFor(vec![ServiceId::Inventory]);
        assert!(still_true(Some(&both), Some(&one)));
        // Another cause, or none: out of date.
        assert!(!still_true(
            Some(&OrderRefusal::ReadingDatabase),
            Some(&one)
        ));
        assert!(!still_true(
            Some(&OrderRefusal::Crashed),
            Some(&switching(1))
        ));
        assert!(!still_true(Some(&one), None));
        // Not the gate's refusal: true while the gate shuts.
        assert!(still_true(None, Some(&OrderRefusal::Crashed)));
        assert!(!still_true(None, None));
    }

    /// 42-AM F3: a click while OrderService still connected, then the broker found unreachable:
    /// the sentence says that now, not "wait until it shows connected" beside the help's
    /// "Cannot reach the MQTT broker".
    /// 43-AP F1: OrderService's first try still opening, PaymentService's at the same URL
    /// failed unreachable: the form says the broker cannot be reached, as the help does.
    #[test]
    fn a_first_try_still_opening_is_refused_for_what_the_others_found_at_the_same_url() {
        use broker_bridge::ConnectionError;
        let connecting = OrderRefusal::Connecting {
            url: "ws://h:1".into(),
        };
        let starting = Link::starting("ws://h:1".to_owned());
        let order = OrderLink::Up(&starting);
        let failed = |url: &str, reason| Link::Disconnected {
            url: url.into(),
            reason,
            retry_in: Duration::from_secs(1),
            attempt: 1,
        };
        let unreachable = failed(
            "ws://h:1",
            ConnectionError::TransportFailed("the WebSocket did not open".into()),
        );
        let others = [OrderLink::Up(&unreachable)];
        for waiting in [connecting.clone(), OrderRefusal::ReadingDatabase] {
            let found = as_the_others_found(waiting, order, &others);
            assert!(
                matches!(&found, OrderRefusal::Unreachable { url, .. } if url == "ws://h:1"),
                "{found:?}"
            );
        }
        // Another broker's failure (a service on a broker of its own), a crash, a refusal
        // waiting does not end, or OrderService's own try failed already: as it was.
        let elsewhere = failed(
            "ws://other:1",
            ConnectionError::TransportFailed("the WebSocket did not open".into()),
        );
        assert_eq!(
            as_the_others_found(
                connecting.clone(),
                order,
                &[OrderLink::Up(&elsewhere), OrderLink::Crashed]
            ),
            connecting
        );
        assert_eq!(
            as_the_others_found(OrderRefusal::Crashed, order, &others),
            OrderRefusal::Crashed
        );
        let down = OrderRefusal::WaitingFor(vec![ServiceId::Payment]);
        assert_eq!(
            as_the_others_found(down.clone(), OrderLink::Crashed, &others),
            down
        );
    }

    #[test]
    fn a_refusal_that_waiting_does_not_end_is_said_at_once() {
        let connecting = OrderRefusal::Connecting {
            url: "ws://h:1".into(),
        };
        let unreachable = OrderRefusal::Unreachable {
            url: "ws://h:1".into(),
            reason: "the WebSocket did not open".into(),
        };
        assert_eq!(
            said_again(Some(&connecting), Some(&unreachable)),
            Some(unreachable.clone())
        );
        assert_eq!(
            said_again(Some(&OrderRefusal::Crashed), Some(&unreachable)),
            Some(unreachable.clone())
        );
        // Waits give way to a wait, or to an open gate, as still_true says: no new sentence.
        let one = OrderRefusal::WaitingFor(vec![ServiceId::Inventory]);
        assert_eq!(said_again(Some(&connecting), Some(&one)), None);
        assert_eq!(said_again(Some(&unreachable), Some(&connecting)), None);
        assert_eq!(said_again(Some(&unreachable), None), None);
        assert_eq!(said_again(None, Some(&unreachable)), None);
        // Other figures of the same kind: said again with them.
        let both = OrderRefusal::WaitingFor(vec![ServiceId::Payment, ServiceId::Inventory]);
        assert_eq!(said_again(Some(&both), Some(&one)), Some(one.clone()));
        assert_eq!(said_again(Some(&one), Some(&one)), None);
    }

    /// The gate's answer to a new orchestrated order, the broker up.
    fn orchestrated(gate: &OrderGate) -> Result<(), OrderRefusal> {
        gate.check_new_order(SagaStyle::Orchestration, None, false, OrderLink::Up(&up()))
    }

    fn all_subscribed() -> OrderGate {
        let mut gate = OrderGate::default();
        for service in ServiceId::ALL {
            gate.subscribed(service);
        }
        gate
    }

    #[test]
    fn a_service_whose_status_the_broker_does_not_relay_holds_orders_back_until_it_does() {
        let mut gate = all_subscribed();
        let connected = up();
        gate.unrelayed(ServiceId::Payment, "services/payment/status");
        let refused = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&connected))
            .unwrap_err();
        assert_eq!(
            refused,
            OrderRefusal::NotRelayed {
                service: ServiceId::Payment,
                topic: "services/payment/status".into()
            }
        );
        assert_eq!(
            refused.cause(),
            "OrderService is waiting for PaymentService: it is connected, but the broker has \
             not relayed its online status (services/payment/status), and drops in silence \
             what its access rules deny"
        );
        assert!(
            refused.advice().contains("may publish and subscribe"),
            "{}",
            refused.advice()
        );
        // Its own status, under a namespace of two levels: said as such.
        let own = OrderRefusal::NotRelayed {
            service: ServiceId::Order,
            topic: "school/class-7/services/order/status".into(),
        };
        assert_eq!(
            own.cause(),
            "OrderService is connected, but the broker has not relayed its own online status \
             (school/class-7/services/order/status), and drops in silence what its access rules \
             deny (under a namespace of more than one level, as here: access rules written for \
             one level, such as this project's +/services/…, deny it to every user alike: try \
             a one-level ?ns=)"
        );
        // OrderService's own state comes first.
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Crashed),
            Err(OrderRefusal::Crashed)
        );
        gate.relayed(ServiceId::Payment);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Ok(())
        );
        // QueryService holds no order back, as for subscribing.
        gate.unrelayed(ServiceId::Query, "services/query/status");
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Ok(())
        );
        // One of PaymentService's instances is enough to hold orders back: the broker gives a
        // shared message to any member, and drops what this one may not read.
        gate.unrelayed(
            Instance::new(ServiceId::Payment, 2),
            "services/payment-2/status",
        );
        assert!(matches!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Err(OrderRefusal::NotRelayed {
                service: ServiceId::Payment,
                ..
            })
        ));
    }

    #[test]
    fn a_service_whose_every_subscription_the_broker_refused_is_named_with_what_to_change() {
        let connected = up();
        let mut gate = OrderGate::default();
        for service in [
            ServiceId::Order,
            ServiceId::Inventory,
            ServiceId::Notification,
        ] {
            gate.subscribed(service);
        }
        gate.read_side_released();
        let (one, two) = (
            Instance::new(ServiceId::Payment, 1),
            Instance::new(ServiceId::Payment, 2),
        );
        let refused = "the broker refused every subscription of PaymentService 1 \
                       ($share/g/orders/created and 2 more: Unspecified error (0x80))";
        gate.subscription_refused(one, refused);
        // One instance may still subscribe: only waiting.
        gate.left(two);
        assert!(matches!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Err(OrderRefusal::WaitingFor(_))
        ));
        gate.subscription_refused(
            two,
            &refused.replace("PaymentService 1", "PaymentService 2"),
        );
        let deaf = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&connected))
            .unwrap_err();
        assert_eq!(
            deaf.cause(),
            "OrderService is waiting for PaymentService to subscribe, but the broker refused \
             every subscription of PaymentService 1 ($share/g/orders/created and 2 more: \
             Unspecified error (0x80)), and PaymentService does not ask again by itself"
        );
        assert!(
            deaf.advice().contains("run one instance"),
            "{}",
            deaf.advice()
        );
        assert!(!deaf.advice().contains("goes away once they have"));
        // Subscribed before (a CONNACK with Session Present counts), then every filter refused
        // by each instance: deaf all the same (break-test 35-L F2).
        let mut kept = gate.clone();
        kept.subscribed(one);
        kept.subscribed(two);
        assert_eq!(
            kept.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Ok(())
        );
        kept.subscription_refused(one, refused);
        assert_eq!(
            kept.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Ok(()),
            "one instance still takes orders"
        );
        kept.subscription_refused(two, refused);
        assert!(matches!(
            kept.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Err(OrderRefusal::Deaf { shared: true, .. })
        ));
        // Its subscriptions change (one instance, plain filters): waiting again, then placed.
        gate.resubscribing(one);
        assert!(matches!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Err(OrderRefusal::WaitingFor(_))
        ));
        gate.subscribed(one);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Ok(())
        );

        // Not shared (an ACL, say): restart it once the rules are changed.
        let mut gate = OrderGate::default();
        for service in [
            ServiceId::Order,
            ServiceId::Payment,
            ServiceId::Notification,
        ] {
            gate.subscribed(service);
        }
        gate.read_side_released();
        gate.subscription_refused(
            ServiceId::Inventory,
            "the broker refused every subscription of InventoryService (orders/created and 2 \
             more: Not authorized (0x87))",
        );
        let deaf = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&connected))
            .unwrap_err();
        assert!(
            deaf.advice().contains("press Restart on InventoryService"),
            "{}",
            deaf.advice()
        );
        gate.restarted(ServiceId::Inventory);
        assert!(matches!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&connected)),
            Err(OrderRefusal::WaitingFor(_))
        ));
    }

    #[test]
    fn a_crashed_order_service_refuses_even_when_its_client_still_says_connected() {
        let gate = all_subscribed();
        let refused = gate.check(SagaStyle::Parallel, OrderLink::Crashed);
        assert_eq!(refused, Err(OrderRefusal::Crashed));
        let refused = refused.unwrap_err();
        assert!(refused.cause().contains("crashed"), "{}", refused.cause());
        assert!(refused.advice().contains("Restart"), "{}", refused.advice());
        assert!(!refused.advice().contains("Mosquitto"));
    }

    #[test]
    fn orders_wait_until_every_consumer_has_subscribed_once_in_every_style() {
        for style in SagaStyle::ALL {
            let mut gate = OrderGate::default();
            assert_eq!(gate.waiting_for(style), ServiceId::ALL, "{style}");
            // The tab's database still being read back (36-Q F5): said, and what follows.
            let reading = OrderRefusal::ReadingDatabase;
            assert_eq!(
                reading.cause(),
                "OrderService is waiting for the browser's database to be read back"
            );
            assert!(reading.advice().contains("goes once it has been read"));
            // Its own subscription is named as such (36-R F4: "OrderService is waiting for
            // OrderService, PaymentService, …").
            assert_eq!(
                gate.check(style, OrderLink::Up(&up())).unwrap_err().cause(),
                "OrderService is waiting for its own subscription and for PaymentService, \
                 InventoryService, NotificationService, QueryService to subscribe"
            );
            assert!(gate.subscribed(ServiceId::Order));
            assert!(!gate.subscribed(ServiceId::Order), "only the first counts");
            gate.subscribed(ServiceId::Query);
            assert_eq!(
                gate.check(style, OrderLink::Up(&up())),
                Err(OrderRefusal::WaitingFor(vec![
                    ServiceId::Payment,
                    ServiceId::Inventory,
                    ServiceId::Notification
                ])),
                "{style}"
            );
            gate.subscribed(ServiceId::Notification);
            let cause = gate.check(style, OrderLink::Up(&up())).unwrap_err().cause();
            assert_eq!(
                cause,
                "OrderService is waiting for PaymentService, InventoryService to subscribe"
            );
            gate.subscribed(ServiceId::Inventory);
            gate.subscribed(ServiceId::Payment);
            assert_eq!(gate.check(style, OrderLink::Up(&up())), Ok(()), "{style}");
        }
    }

    #[test]
    fn a_service_moved_to_another_broker_holds_orders_until_it_subscribes_there() {
        let mut gate = OrderGate::default();
        for service in ServiceId::ALL {
            gate.subscribed(service);
        }
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
        // The broker bar: every service moves to the new broker.
        for service in ServiceId::ALL {
            gate.moved(service);
        }
        assert_eq!(
            gate.waiting_for(SagaStyle::Parallel),
            [
                ServiceId::Order,
                ServiceId::Payment,
                ServiceId::Inventory,
                ServiceId::Notification
            ]
        );
        for service in [
            ServiceId::Order,
            ServiceId::Inventory,
            ServiceId::Notification,
        ] {
            assert!(gate.subscribed(service), "first there");
        }
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Err(OrderRefusal::WaitingFor(vec![ServiceId::Payment]))
        );
    }

    #[test]
    fn a_coordination_switch_holds_new_orders_back_until_it_is_done() {
        let gate = all_subscribed();
        let up = up();
        let switching = Some((SagaStyle::Orchestration, 3));
        let refused = gate
            .check_new_order(SagaStyle::Parallel, switching, false, OrderLink::Up(&up))
            .unwrap_err();
        assert_eq!(
            refused,
            OrderRefusal::Switching {
                to: SagaStyle::Orchestration,
                in_flight: 3
            }
        );
        assert_eq!(
            refused.cause(),
            "OrderService holds new orders back until the services switch to orchestration \
             (waiting for the 3 sagas in flight to end)"
        );
        assert!(refused
            .advice()
            .contains("goes away once the services have switched"));
        let one = OrderRefusal::Switching {
            to: SagaStyle::Orchestration,
            in_flight: 1,
        };
        assert!(one
            .cause()
            .ends_with("(waiting for the 1 saga in flight to end)"));
        // What belongs to the sagas in flight (owed messages) still goes: the switch waits for it.
        assert_eq!(gate.check(SagaStyle::Parallel, OrderLink::Up(&up)), Ok(()));
        // OrderService's own state comes first: it is what the learner must fix.
        assert_eq!(
            gate.check_new_order(SagaStyle::Parallel, switching, false, OrderLink::Crashed),
            Err(OrderRefusal::Crashed)
        );
        // Switched: orders go again.
        assert_eq!(orchestrated(&gate), Ok(()));
    }

    #[test]
    fn after_a_switch_orders_wait_for_the_new_style_s_subacks() {
        let mut gate = all_subscribed();
        gate.resubscribing(ServiceId::Payment);
        assert_eq!(
            orchestrated(&gate),
            Err(OrderRefusal::WaitingFor(vec![ServiceId::Payment]))
        );
        gate.subscribed(ServiceId::Payment);
        assert_eq!(orchestrated(&gate), Ok(()));
    }

    /// 40-AF F1 and F2: PaymentService crashed, then a switch to orchestration. Orders wait for
    /// it (its kept session holds the old style's subscriptions), the refusal says it is crashed
    /// and to restart it; restarted, its kept session does not count, its SUBACK does.
    #[test]
    fn a_service_crashed_across_a_switch_holds_orders_until_its_suback_and_is_named_crashed() {
        let mut gate = all_subscribed();
        gate.crashed(ServiceId::Payment);
        for service in ServiceId::ALL {
            gate.resubscribing(service);
            if service != ServiceId::Payment {
                gate.subscribed(service);
            }
        }
        let refused = orchestrated(&gate).unwrap_err();
        assert_eq!(
            refused,
            OrderRefusal::CrashedUnsubscribed {
                service: ServiceId::Payment
            }
        );
        assert_eq!(
            format!("{}.{}", refused.cause(), refused.advice()),
            "OrderService is waiting for PaymentService to subscribe, but PaymentService is \
             crashed. Press Restart on PaymentService; this message goes once it has subscribed."
        );
        gate.restarted(ServiceId::Payment);
        assert!(
            !gate.session_kept(ServiceId::Payment),
            "the kept session is the old style's"
        );
        assert_eq!(
            orchestrated(&gate),
            Err(OrderRefusal::WaitingFor(vec![ServiceId::Payment]))
        );
        gate.subscribed(ServiceId::Payment);
        assert_eq!(orchestrated(&gate), Ok(()));
        // Without a switch since, a kept session counts again.
        gate.left(ServiceId::Payment);
        assert!(
            !gate.session_kept(ServiceId::Payment),
            "not its first subscription"
        );
        assert!(gate.has_subscribed(ServiceId::Payment));
    }

    /// A service crashed before it ever subscribed: the same words (40-AF F2).
    #[test]
    fn a_service_crashed_before_its_first_subscription_is_named_crashed() {
        let mut gate = OrderGate::default();
        for service in ServiceId::ALL {
            if service != ServiceId::Inventory {
                gate.subscribed(service);
            }
        }
        gate.crashed(ServiceId::Inventory);
        let up = up();
        assert_eq!(
            gate.check_new_order(SagaStyle::Parallel, None, false, OrderLink::Up(&up)),
            Err(OrderRefusal::CrashedUnsubscribed {
                service: ServiceId::Inventory
            })
        );
    }

    #[test]
    fn a_service_its_broker_refused_for_good_is_named_with_why_and_what_to_do() {
        use broker_bridge::packet::{ConnAck, ProtocolVersion, ReasonCode};
        let refused = |code| {
            down(ConnectionError::Refused {
                protocol: ProtocolVersion::V311,
                connack: ConnAck::new(false, code),
            })
        };
        let mut gate = OrderGate::default();
        for service in [
            ServiceId::Order,
            ServiceId::Inventory,
            ServiceId::Notification,
            ServiceId::Query,
        ] {
            gate.subscribed(service);
        }
        let up = up();
        // PaymentService is still connecting: waiting is all there is to do.
        gate.linked(ServiceId::Payment, &Link::starting("ws://h:1"));
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up)),
            Err(OrderRefusal::WaitingFor(vec![ServiceId::Payment]))
        );
        // Its broker refuses its user for good: the page does not retry, so waiting would never end.
        gate.linked(ServiceId::Payment, &refused(ReasonCode::NotAuthorized));
        let refusal = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&up))
            .unwrap_err();
        assert!(
            matches!(&refusal, OrderRefusal::ServiceRefused { service: ServiceId::Payment, url, .. } if url == "ws://h:1"),
            "{refusal:?}"
        );
        let cause = refusal.cause();
        assert!(
            cause.starts_with(
                "OrderService is waiting for PaymentService to subscribe, but the broker at \
                 ws://h:1 refused PaymentService ("
            ),
            "{cause}"
        );
        assert!(
            cause.contains("0x87") || cause.contains("authorized"),
            "{cause}"
        );
        assert!(cause.ends_with("and the page does not retry"), "{cause}");
        assert!(!refusal.advice().contains("goes away once they have"));
        assert!(
            refusal
                .advice()
                .contains("fix its user name and password under Sign in to the broker"),
            "{}",
            refusal.advice()
        );
        // Another refusal for good: no sign-in advice.
        gate.linked(
            ServiceId::Payment,
            &refused(ReasonCode::UnsupportedProtocolVersion),
        );
        let other = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&up))
            .unwrap_err();
        assert!(matches!(other, OrderRefusal::ServiceRefused { .. }));
        assert!(!other.advice().contains("Sign in"), "{}", other.advice());
        // Signing in again starts a new connection: waiting again, then through.
        gate.linked(ServiceId::Payment, &Link::starting("ws://h:1"));
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up)),
            Err(OrderRefusal::WaitingFor(vec![ServiceId::Payment]))
        );
        gate.subscribed(ServiceId::Payment);
        assert_eq!(gate.check(SagaStyle::Parallel, OrderLink::Up(&up)), Ok(()));
    }

    #[test]
    fn a_service_refused_for_good_after_it_subscribed_does_not_hold_orders_back() {
        use broker_bridge::packet::{ConnAck, ProtocolVersion, ReasonCode};
        let mut gate = all_subscribed();
        gate.left(ServiceId::Payment);
        gate.linked(
            ServiceId::Payment,
            &down(ConnectionError::Refused {
                protocol: ProtocolVersion::V5,
                connack: ConnAck::new(false, ReasonCode::BadUserNameOrPassword),
            }),
        );
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(()),
            "as with a crash: what it misses is the lesson"
        );
    }

    #[test]
    fn query_service_holds_orders_back_only_at_start_up_until_its_first_suback() {
        let flow = [
            ServiceId::Order,
            ServiceId::Payment,
            ServiceId::Inventory,
            ServiceId::Notification,
        ];
        let started = || {
            let mut gate = OrderGate::default();
            for service in flow {
                gate.subscribed(service);
            }
            gate
        };
        let waiting = Err(OrderRefusal::WaitingFor(vec![ServiceId::Query]));
        // An order published before QueryService's SUBSCRIBE would never reach its read model.
        let mut gate = started();
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            waiting
        );
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up()))
                .unwrap_err()
                .cause(),
            "OrderService is waiting for QueryService to subscribe"
        );
        assert!(gate.subscribed(ServiceId::Query));
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
        // Once it has subscribed, a crash or a lost connection does not hold orders back.
        gate.crashed(ServiceId::Query);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
        // Released (READ_SIDE_WAIT after start-up, or a SUBACK refusing every filter).
        let mut gate = started();
        gate.read_side_released();
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
        // Moved to another broker (the broker bar): only at start-up.
        let mut gate = started();
        gate.moved(ServiceId::Query);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
        // Crashed before its first SUBACK: it will not come by itself.
        let mut gate = started();
        gate.crashed(ServiceId::Query);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
        gate.restarted(ServiceId::Query);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            waiting
        );
        // Refused for good by its broker: the read side does not stop the write side.
        use broker_bridge::packet::{ConnAck, ProtocolVersion, ReasonCode};
        let mut gate = started();
        gate.linked(
            ServiceId::Query,
            &down(ConnectionError::Refused {
                protocol: ProtocolVersion::V311,
                connack: ConnAck::new(false, ReasonCode::NotAuthorized),
            }),
        );
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
    }

    /// While the tab's database is read back, a refusal that waiting does not end is named
    /// first (CI, stop 45: a broker that cannot be reached was refused as "waiting for the
    /// browser's database" while the help under the badges said "Cannot reach the MQTT
    /// broker"); waits are the database's.
    #[test]
    fn what_the_learner_must_fix_comes_before_the_database_read() {
        let unreachable = Link::Connecting {
            url: "ws://h:1".into(),
            attempt: 2,
            last_failure: Some(ConnectionError::TransportClosed {
                code: 1006,
                reason: String::new(),
            }),
        };
        let up = up();
        let gate = all_subscribed();
        let new_order = |gate: &OrderGate, order| {
            gate.check_new_order(
                SagaStyle::Parallel,
                Some((SagaStyle::Choreography, 1)),
                true,
                order,
            )
        };
        assert!(matches!(
            new_order(&gate, OrderLink::Up(&unreachable)),
            Err(OrderRefusal::Unreachable { .. })
        ));
        assert_eq!(
            new_order(&gate, OrderLink::Crashed),
            Err(OrderRefusal::Crashed)
        );
        // Waits: the database's.
        assert_eq!(
            new_order(&gate, OrderLink::Up(&up)),
            Err(OrderRefusal::ReadingDatabase)
        );
        let first_try = Link::Connecting {
            url: "ws://h:1".into(),
            attempt: 1,
            last_failure: None,
        };
        assert_eq!(
            new_order(&gate, OrderLink::Up(&first_try)),
            Err(OrderRefusal::ReadingDatabase)
        );
        assert_eq!(
            new_order(&OrderGate::default(), OrderLink::Up(&up)),
            Err(OrderRefusal::ReadingDatabase)
        );
        // Read back: the switch it waited behind.
        assert!(matches!(
            gate.check_new_order(
                SagaStyle::Parallel,
                Some((SagaStyle::Choreography, 1)),
                false,
                OrderLink::Up(&up)
            ),
            Err(OrderRefusal::Switching { .. })
        ));
    }

    /// The form refuses on the state the badges and the help under them show: a service trying
    /// again after a failure is refused for that failure (the help keeps showing it), not as
    /// "still connecting … wait until it shows connected", which it may never do (a broker URL
    /// that fails every time, a server that never answers the handshake).
    #[test]
    fn trying_again_after_a_failure_is_refused_for_the_failure() {
        let gate = OrderGate::default();
        let retrying = |failure: ConnectionError| Link::Connecting {
            url: "ws://h:1/%zz".into(),
            attempt: 3,
            last_failure: Some(failure),
        };
        let unreachable = ConnectionError::TransportClosed {
            code: 1006,
            reason: String::new(),
        };
        let refusal = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&retrying(unreachable)))
            .unwrap_err();
        assert!(
            matches!(refusal, OrderRefusal::Unreachable { .. }),
            "{refusal:?}"
        );
        assert!(
            refusal
                .cause()
                .contains("cannot reach the broker at ws://h:1/%zz"),
            "{}",
            refusal.cause()
        );
        let silent = ConnectionError::OpenTimeout {
            timeout: Duration::from_secs(10),
        };
        let refusal = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&retrying(silent)))
            .unwrap_err();
        assert_eq!(
            refusal.cause(),
            "OrderService is not connected to the broker at ws://h:1/%zz (no answer to the \
             WebSocket opening handshake within 10000 ms)"
        );
        assert!(!refusal.advice().contains("Wait until it shows connected"));
        assert!(
            !refusal.advice().contains("Mosquitto"),
            "something answers there"
        );
    }

    #[test]
    fn a_signed_in_service_s_status_awaited_holds_orders_until_it_comes_back_or_is_overdue() {
        let mut gate = all_subscribed();
        gate.relay_pending(ServiceId::Payment, "services/payment/status");
        let held = gate
            .check(SagaStyle::Parallel, OrderLink::Up(&up()))
            .unwrap_err();
        assert_eq!(
            held,
            OrderRefusal::RelayPending {
                service: ServiceId::Payment,
                topic: "services/payment/status".into()
            }
        );
        assert!(held.cause().contains(
            "waiting for PaymentService's online status (services/payment/status) to come back"
        ));
        // Heard in time: orders go.
        gate.relay_settled_pending(ServiceId::Payment);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
        // Overdue: the refusal says what it found, not that it is waiting.
        gate.relay_pending(ServiceId::Payment, "services/payment/status");
        gate.unrelayed(ServiceId::Payment, "services/payment/status");
        assert!(matches!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Err(OrderRefusal::NotRelayed { .. })
        ));
        // Its status came through at last: nothing left to wait for.
        gate.relayed(ServiceId::Payment);
        assert_eq!(
            gate.check(SagaStyle::Parallel, OrderLink::Up(&up())),
            Ok(())
        );
    }

    #[test]
    fn order_service_s_own_link_comes_first_and_says_the_real_reason() {
        let gate = OrderGate::default();
        let connecting = gate
            .check(
                SagaStyle::Parallel,
                OrderLink::Up(&Link::starting("ws://h:1")),
            )
            .unwrap_err();
        assert_eq!(
            connecting,
            OrderRefusal::Connecting {
                url: "ws://h:1".into()
            }
        );
        let unreachable = gate
            .check(
                SagaStyle::Parallel,
                OrderLink::Up(&down(ConnectionError::TransportFailed(
                    "could not reach the broker".into(),
                ))),
            )
            .unwrap_err();
        assert!(matches!(unreachable, OrderRefusal::Unreachable { .. }));
        assert_eq!(
            unreachable.advice(),
            " Start the MQTT broker that should answer at h:1, or check its address above \
             (scheme, host, port and path). If h is a typo, or a name your network cannot look \
             up, it fails the same way: the browser does not tell the page which. This \
             project's own brokers: Mosquitto at ws://localhost:9001 (./scripts/play), the \
             cluster's nodes at ws://127.0.0.1:9101 and ws://127.0.0.1:9102 (./scripts/cluster). \
             Then try again."
        );
        // How to start the broker follows the address, as the broker bar's help does: a node of
        // ./scripts/cluster is not started by ./scripts/play (a newcomer's break-test was told
        // to "Start Mosquitto (./scripts/play)" with node A down).
        let cluster_node_down = |url: &str| {
            let link = Link::Disconnected {
                url: url.into(),
                reason: ConnectionError::TransportFailed("could not reach the broker".into()),
                retry_in: Duration::from_secs(1),
                attempt: 1,
            };
            gate.check(SagaStyle::Parallel, OrderLink::Up(&link))
                .unwrap_err()
                .advice()
        };
        let node_a = cluster_node_down("ws://127.0.0.1:9101");
        assert!(
            node_a.contains("node A of this project's local cluster"),
            "{node_a}"
        );
        assert!(!node_a.contains("Start Mosquitto"), "{node_a}");
        let mosquitto = cluster_node_down("ws://localhost:9001");
        assert!(mosquitto.contains("./scripts/play"), "{mosquitto}");
        let dropped = gate
            .check(
                SagaStyle::Parallel,
                OrderLink::Up(&down(ConnectionError::Dropped {
                    after: Duration::from_secs(3),
                    transport: Box::new(ConnectionError::TransportFailed("gone".into())),
                })),
            )
            .unwrap_err();
        assert!(matches!(dropped, OrderRefusal::Down { .. }), "{dropped:?}");
        for refusal in [connecting, dropped] {
            assert!(
                !refusal.advice().contains("Mosquitto"),
                "the broker is running: {}",
                refusal.advice()
            );
        }
    }

    // A newcomer's break-test (32-E F6): a broker that closes every 3.1.1 CONNECT (a Will of
    // QoS 1 on `max_qos 0`) was said to be reconnected to "by itself".
    #[test]
    fn a_broker_that_ends_each_try_is_not_promised_a_reconnection() {
        let gate = OrderGate::default();
        // The second end in a row (the first may be a broker stopped once: 34-J F9).
        let again = |reason: ConnectionError| Link::Disconnected {
            url: "ws://h:1".into(),
            reason,
            retry_in: Duration::from_secs(1),
            attempt: 2,
        };
        let refusal = |reason: ConnectionError| {
            gate.check(SagaStyle::Parallel, OrderLink::Up(&again(reason)))
                .unwrap_err()
        };
        let once = gate
            .check(
                SagaStyle::Parallel,
                OrderLink::Up(&down(ConnectionError::TextFrame)),
            )
            .unwrap_err();
        assert_eq!(
            once.advice(),
            " It reconnects by itself; try again once it has."
        );
        let closing = [
            ConnectionError::ClosedBeforeConnAck {
                transport: Box::new(ConnectionError::TransportClosed {
                    code: 1006,
                    reason: String::new(),
                }),
            },
            ConnectionError::ClosedAfterAccept {
                after: Duration::from_millis(50),
                in_a_row: 3,
                transport: Box::new(ConnectionError::TransportFailed("gone".into())),
            },
            ConnectionError::TextFrame,
        ];
        for reason in closing {
            let advice = refusal(reason).advice();
            assert!(
                advice.starts_with(
                    " It tries again by itself, but the broker has ended its connection each \
                     time so far: the help under the status strip says what to check"
                ),
                "{advice}"
            );
            assert!(!advice.contains("reconnects by itself"), "{advice}");
        }
        let dropped = refusal(ConnectionError::Dropped {
            after: Duration::from_secs(3),
            transport: Box::new(ConnectionError::TransportFailed("gone".into())),
        });
        assert_eq!(
            dropped.advice(),
            " It reconnects by itself; try again once it has."
        );
    }
}
