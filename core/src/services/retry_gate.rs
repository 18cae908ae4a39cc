//! Whether a dead letter's *Retry* can reach its consumers now, and if not, why: the order gate
//! ([`OrderGate`]) asked about the dead letter's topic instead of `orders/created`. A refused
//! retry publishes nothing and its dead letter stays listed (with the learner's edits); the
//! *Send a poison message* button is an order, and asks [`OrderGate::check`] itself.
//! *Deliver again* (a traced PUBLISH published once more by the client that sent or received
//! it) asks the same gate about its topic ([`OrderGate::check_deliver_again`]).
//!
//! A retry is refused if its message is larger than the page's own consumers accept
//! ([`check_retry_size`]: they would skip it, and it would be gone from the list for nothing),
//! and while
//! - its publisher (the service that owns the topic, [`super::acl::publisher_of`]) is crashed
//!   or not connected: a publish while connecting waits in the client's offline queue and goes
//!   out at the first CONNACK, before anyone has subscribed again;
//! - a consumer of the topic has not subscribed since the services started or moved broker: the
//!   broker delivers a PUBLISH only to the subscriptions that exist when it arrives (MQTT 3.1.1
//!   §3.3.5, 5.0 §3.3.4). QueryService does not hold retries back (as for orders), except its
//!   own dead letters;
//! - with clean sessions, the service whose dead letter it is is not subscribed on its current
//!   connection (crashed, reconnecting): its session ended with its connection (MQTT 3.1.1
//!   §3.1.2.4, 5.0 §3.1.2.4 with Session Expiry 0), so the broker would keep nothing for it and
//!   the retried message would never reach the one service it was retried for. Other crashed
//!   consumers do not hold it back: missing what is published while away is the lesson of clean
//!   sessions. With persistent sessions the broker queues it for a crashed consumer;
//! - with clean sessions, another consumer of the topic is reconnecting (not crashed, not
//!   subscribed on its current connection, e.g. right after a broker restart): it subscribes
//!   again within moments, and would miss the message for nothing.
//!
//! A service with several instances (PaymentService's competing consumers) is subscribed while
//! one of its instances at least is: they share one subscription group, in which the broker
//! gives each message to one subscribed member. It is crashed only when every instance is.
//!
//! How long the page shows a refusal is [`super::refusal_shown`]'s rule.
//!
//! ```
//! use broker_bridge::Link;
//! use eda_core::services::order_gate::{OrderGate, OrderLink};
//! use eda_core::services::retry_gate::{retry_refused, Retry};
//! use eda_core::services::{SagaStyle, ServiceId};
//!
//! let up = Link::Connected { url: "ws://h:1".into() };
//! let mut gate = OrderGate::default();
//! for service in ServiceId::ALL {
//!     gate.subscribed(service);
//! }
//! gate.left(ServiceId::Payment); // PaymentService crashed
//! let retry = Retry {
//!     topic: "orders/created",
//!     gave_up: ServiceId::Payment,
//!     gave_up_link: OrderLink::Crashed,
//!     publisher_link: OrderLink::Up(&up),
//!     sessions_kept: false,
//! };
//! let refused = gate.check_retry(SagaStyle::Parallel, &retry).unwrap_err();
//! assert!(retry_refused(&refused).starts_with(
//!     "Retry: PaymentService, whose dead letter this is, is crashed and its session is clean"
//! ));
//! // With persistent sessions the broker queues it for PaymentService.
//! let kept = Retry { sessions_kept: true, ..retry };
//! assert_eq!(gate.check_retry(SagaStyle::Parallel, &kept), Ok(()));
//! ```

use super::acl::publisher_of;
use super::instances::Instance;
use super::order_gate::{can_publish, OrderGate, OrderLink, OrderRefusal};
use super::{SagaStyle, ServiceId};

/// A dead letter's *Retry* (or a *Deliver again*, [`OrderGate::check_deliver_again`]), as the
/// gate needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry<'a> {
    /// The dead letter's original topic, without a namespace, e.g. `orders/created`.
    pub topic: &'a str,
    /// The service whose dead letter it is (the consumer that gave up).
    pub gave_up: ServiceId,
    /// That service's state.
    pub gave_up_link: OrderLink<'a>,
    /// The state of the service that publishes the retry ([`Retry::publisher`]).
    pub publisher_link: OrderLink<'a>,
    /// Whether the broker keeps the services' sessions while they are away (the page's
    /// *persistent* sessions); `false` for clean sessions.
    pub sessions_kept: bool,
}

impl Retry<'_> {
    /// Who publishes the retry: the service that owns the topic, as the original was (so a
    /// least-privilege ACL allows it), or the one that gave up for a topic no service owns.
    pub fn publisher(&self) -> ServiceId {
        publisher_of(self.topic).unwrap_or(self.gave_up)
    }
}

/// Why a dead letter's *Retry* publishes nothing now. [`retry_refused`] says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryRefusal {
    /// The publisher cannot publish, or a consumer of the topic has not subscribed yet
    /// ([`OrderRefusal::WaitingFor`]), as for an order.
    Publisher {
        /// The instance that would publish it: a retry's [`Retry::publisher`] (its first
        /// instance), a *Deliver again*'s instance that sent or received it.
        publisher: Instance,
        /// Why not.
        why: OrderRefusal,
    },
    /// Clean sessions, and the service whose dead letter it is is not subscribed on its current
    /// connection: the broker would keep nothing for it.
    GaveUpAway {
        /// The service whose dead letter it is (for a *Deliver again*: the service that sent or
        /// received the message).
        service: ServiceId,
        /// Every instance of it crashed by the learner (else reconnecting, or connected and not
        /// subscribed yet).
        crashed: bool,
    },
    /// The message, as its PUBLISH, is larger than the largest packet the page's clients
    /// accept from the broker: none of its consumers here would read it.
    TooLarge {
        /// The dead letter's original topic, without a namespace.
        topic: String,
        /// The PUBLISH's size in bytes, fixed header included.
        size: usize,
        /// The page's limit in bytes ([`broker_bridge::Options::max_packet_size`], 256 KiB).
        limit: usize,
    },
    /// The topic is the event store's (`eventstore/orders/<id>`), which OrderService publishes
    /// from its store only, and the payload is not, byte for byte, one of its store's events:
    /// published again under OrderService's name it would be a forged event.
    NotTheStores,
}

/// Whether a *Retry* of `payload` on `topic` keeps to what OrderService publishes there: on the
/// event store's topics (`eventstore/orders/<id>`, decision 0011) only an event its `store`
/// holds, byte for byte; any payload on every other topic. A dead letter QueryService gave up
/// on there is something the store never held (a newcomer's break-test: "fixed" in the panel
/// and retried, it went out by the page's own OrderService client, and the read model took it
/// as a stored event, the real order's held behind it for good); the read model is repaired
/// by *Rebuild*. Checked before the gate: waiting would not make it the store's.
///
/// # Errors
///
/// [`RetryRefusal::NotTheStores`].
pub fn check_store_retry(
    topic: &str,
    payload: &[u8],
    store: &crate::store::EventStore,
) -> Result<(), RetryRefusal> {
    if !topic.starts_with(crate::store::EVENTSTORE_PREFIX) {
        return Ok(());
    }
    let held = crate::store::StoredEvent::decode_on(topic, payload)
        .ok()
        .and_then(|event| store.read_all(event.position, Some(event.position)).first())
        .is_some_and(|kept| kept.to_json() == payload);
    if held {
        Ok(())
    } else {
        Err(RetryRefusal::NotTheStores)
    }
}

/// Whether a *Retry* whose PUBLISH on `topic` takes `size` bytes (fixed header included) can
/// be read by the page's consumers, whose clients accept packets of at most `limit` bytes
/// ([`broker_bridge::Options::max_packet_size`]): in MQTT 3.1.1 they skip a larger message
/// unread, and in 5.0 the broker does not send it to them (Maximum Packet Size,
/// [MQTT-3.1.2-24]). Checked before the gate: waiting would not make it fit.
///
/// # Errors
///
/// [`RetryRefusal::TooLarge`] when `size` is above `limit`.
pub fn check_retry_size(topic: &str, size: usize, limit: usize) -> Result<(), RetryRefusal> {
    if size <= limit {
        return Ok(());
    }
    Err(RetryRefusal::TooLarge {
        topic: topic.to_owned(),
        size,
        limit,
    })
}

impl OrderGate {
    /// The services that must have subscribed before a message on `topic` is published under
    /// `style`: every service subscribing to it, but QueryService unless it is `gave_up`
    /// (see [`OrderGate::waiting_for`] for why), in [`ServiceId::ALL`]'s order.
    pub fn consumers_of(
        style: SagaStyle,
        topic: &str,
        gave_up: ServiceId,
    ) -> impl Iterator<Item = ServiceId> + '_ {
        ServiceId::ALL.into_iter().filter(move |s| {
            (*s != ServiceId::Query || *s == gave_up)
                && s.subscriptions(style)
                    .iter()
                    .any(|filter| broker_bridge::topic::matches(filter, topic))
        })
    }

    /// Whether `retry` may be published now under `style`.
    ///
    /// # Errors
    ///
    /// [`RetryRefusal`]: the publisher crashed or not connected (first: what the learner must
    /// fix first), consumers of the topic not subscribed yet, or (clean sessions) the service
    /// whose dead letter it is, or another consumer still reconnecting, not subscribed on its
    /// current connection.
    pub fn check_retry(&self, style: SagaStyle, retry: &Retry<'_>) -> Result<(), RetryRefusal> {
        self.check_reach(style, retry.publisher().into(), retry)
    }

    /// Whether a traced PUBLISH may be *delivered again* now by `by`, the instance that sent or
    /// received it (`again.publisher_link` is its state; `again.gave_up` its service), under
    /// `style`: the same gate as [`OrderGate::check_retry`]. Not while `by` is crashed (its
    /// aborted client's session would take the publish and nothing would send it: on *Restart*
    /// only what was kept at the crash goes out again) or not connected (a publish while
    /// connecting waits in the client's offline queue and goes out at the first CONNACK), nor
    /// while a consumer of its topic has not subscribed (e.g. right after a broker restart with
    /// clean sessions: the broker delivers a PUBLISH only to the subscriptions that exist when
    /// it arrives, MQTT 3.1.1 §3.3.5, 5.0 §3.3.4).
    ///
    /// # Errors
    ///
    /// [`RetryRefusal`] but [`RetryRefusal::TooLarge`]: [`deliver_again_refused`] says it.
    pub fn check_deliver_again(
        &self,
        style: SagaStyle,
        by: Instance,
        again: &Retry<'_>,
    ) -> Result<(), RetryRefusal> {
        self.check_reach(style, by, again)
    }

    /// The gate of a *Retry* or a *Deliver again* published by `publisher`.
    ///
    /// Consumers that hold it back: one that has not subscribed since the services started or
    /// moved broker; with clean sessions, also one that is not subscribed on its current
    /// connection unless the learner crashed it (every instance of it): one still reconnecting
    /// (a broker restart, a dropped connection) subscribes again within moments and would miss
    /// the message for nothing, while a crashed consumer missing it is the lesson of clean
    /// sessions. The service whose message it is comes first ([`RetryRefusal::GaveUpAway`]).
    /// One subscribed instance is enough for a service ([`OrderGate`]).
    fn check_reach(
        &self,
        style: SagaStyle,
        publisher: Instance,
        retry: &Retry<'_>,
    ) -> Result<(), RetryRefusal> {
        let refused = |why| RetryRefusal::Publisher { publisher, why };
        can_publish(retry.publisher_link).map_err(refused)?;
        let consumers: Vec<ServiceId> =
            Self::consumers_of(style, retry.topic, retry.gave_up).collect();
        let waiting: Vec<ServiceId> = consumers
            .iter()
            .copied()
            .filter(|s| !self.has_subscribed(*s))
            .collect();
        if !waiting.is_empty() {
            return Err(refused(OrderRefusal::WaitingFor(waiting)));
        }
        if retry.sessions_kept {
            return Ok(());
        }
        if consumers.contains(&retry.gave_up) && !self.is_subscribed_now(retry.gave_up) {
            return Err(RetryRefusal::GaveUpAway {
                service: retry.gave_up,
                crashed: retry.gave_up_link == OrderLink::Crashed,
            });
        }
        let reconnecting: Vec<ServiceId> = consumers
            .into_iter()
            .filter(|s| !self.is_subscribed_now(*s) && !self.is_down(*s))
            .collect();
        if !reconnecting.is_empty() {
            return Err(refused(OrderRefusal::WaitingFor(reconnecting)));
        }
        Ok(())
    }
}

/// The page's sentence for a refused *Retry*: "Retry: {why}, so the message was not published
/// again.{what to do} The dead letter stays listed, with your edits."
pub fn retry_refused(refusal: &RetryRefusal) -> String {
    let (cause, advice) = cause_and_advice(refusal, "whose dead letter this is", "Retry");
    format!(
        "Retry: {cause}, so the message was not published again.{advice} The dead letter stays \
         listed, with your edits."
    )
}

/// What stopped a *Retry* or a *Deliver again* (`button`), and what to do: the service whose
/// message it is named as `whose` ("whose dead letter this is").
fn cause_and_advice(refusal: &RetryRefusal, whose: &str, button: &str) -> (String, String) {
    match refusal {
        RetryRefusal::Publisher { publisher, why } => {
            (why.cause_of(*publisher), why.advice_for(*publisher))
        }
        RetryRefusal::GaveUpAway { service, crashed } => {
            let state = if *crashed {
                "is crashed"
            } else {
                "has not subscribed again since it reconnected"
            };
            let cause = format!(
                "{service}, {whose}, {state} and its session is clean: the broker keeps nothing \
                 for it while it is not subscribed"
            );
            let advice = if *crashed {
                format!(
                    " Press Restart on {service}, then {button} once it has subscribed again \
                     (this sentence goes then)."
                )
            } else {
                format!(" Press {button} once it has subscribed again (this sentence goes then).")
            };
            (cause, advice)
        }
        RetryRefusal::TooLarge { topic, size, limit } => {
            let (size, limit) = broker_bridge::codec::over_limit(*size, *limit);
            let cause = format!(
                "a message of {size} on {topic} exceeds this page's {limit} limit: its consumers \
                 here would skip it unread"
            );
            let advice = format!(" Shorten the payload, then press {button}.");
            (cause, advice)
        }
        RetryRefusal::NotTheStores => (
            "OrderService publishes on eventstore/orders/… only the events its event store \
             holds, and this payload is not one of them: published again it would be a forged \
             event under OrderService's name"
                .to_owned(),
            " To give QueryService the store's events, press Rebuild in the Read model panel; \
             then Discard this letter."
                .to_owned(),
        ),
    }
}

/// The page's sentence for a refused *Send a poison message* (an order, refused by
/// [`OrderGate::check`]): "Poison message: {why}, so it was not sent.{what to do}".
pub fn poison_refused(refusal: &OrderRefusal) -> String {
    format!(
        "Poison message: {}, so it was not sent.{}",
        refusal.cause(),
        refusal.advice()
    )
}

/// The page's sentence for a refused *Deliver again* ([`OrderGate::check_deliver_again`]):
/// "Deliver again: {why}, so the message was not published again.{what to do}", e.g. "Deliver
/// again: PaymentService 2 is crashed, so the message was not published again. Press Restart
/// on PaymentService 2, then try again."
pub fn deliver_again_refused(refusal: &RetryRefusal) -> String {
    let (cause, advice) = cause_and_advice(refusal, "which sent or received it", "Deliver again");
    format!("Deliver again: {cause}, so the message was not published again.{advice}")
}

/// What the page adds once a *Deliver again* of a message on `topic` (the flow's, without a
/// namespace) went out under `style`, when it starts no participant's step: `orders/created`
/// under orchestration, which no participant subscribes to (they take the orchestrator's
/// commands, [`ServiceId::subscriptions`]; OrderService and NotificationService ignore the copy). The Orders row's button sends
/// it, and a learner redoing work a crash lost saw nothing happen (43-AN F6). `None` otherwise.
///
/// ```
/// use eda_core::services::retry_gate::redelivered_note;
/// use eda_core::services::SagaStyle;
///
/// assert!(redelivered_note(SagaStyle::Orchestration, "orders/created").unwrap().contains("commands/payment/charge"));
/// assert_eq!(redelivered_note(SagaStyle::Parallel, "orders/created"), None);
/// ```
pub fn redelivered_note(style: SagaStyle, topic: &str) -> Option<String> {
    (style == SagaStyle::Orchestration && topic == crate::domain::topics::ORDERS_CREATED).then(
        || {
            "Deliver again: orders/created went out again. Under orchestration no participant \
             subscribes to it (OrderService and NotificationService do, and ignore the copy as \
             a duplicate), so no participant's step starts from it: to redo a step whose work a \
             crash lost, deliver its command again (commands/payment/charge or \
             commands/inventory/reserve) from the packet inspector."
                .to_owned()
        },
    )
}

#[cfg(test)]
#[path = "retry_gate_tests.rs"]
mod tests;
