//! The four services of the order flow as decisions: a message in, commands out.
//!
//! [`Flow`] holds what the services remember (the orders' sagas, the stock, the charges) and
//! the learner's [`FlowSettings`]. A driver gives each service its own MQTT client and runs the
//! commands: it publishes [`Command::Publish`] (and, retained, [`Command::Retain`]), shows
//! [`Command::Notify`], and for [`Command::Schedule`] arms a timer that later calls
//! [`Flow::complete`] with the time it fired and a fresh id. Time and ids are inputs, so whole
//! sagas are played through in tests without waiting.
//!
//! ```
//! use eda_core::domain::{topics, Timestamp};
//! use eda_core::services::{Command, Flow, FlowSettings, ServiceId};
//! use uuid::Uuid;
//!
//! let order = br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","customerId":"C123",
//!     "items":[{"productId":"P001","quantity":2,"price":29.99}],"totalAmount":59.98,
//!     "createdAt":"2024-01-15T10:30:00.000Z"}"#;
//! let mut flow = Flow::new(FlowSettings::default());
//! let now = Timestamp::from_unix_millis(1_705_314_600_000).unwrap();
//! let mut commands = flow.handle(ServiceId::Payment, now, topics::ORDERS_CREATED, order).unwrap();
//! let Some(Command::Schedule { after, work }) = commands.pop() else { panic!("payment waits") };
//! assert_eq!(after.as_millis(), 1000);
//!
//! let fired_at = Timestamp::from_unix_millis(1_705_314_601_000).unwrap();
//! let published = flow.complete(work, fired_at, Uuid::nil());
//! assert!(matches!(&published[..], [Command::Publish(event)] if event.topic() == topics::PAYMENTS_PROCESSED));
//! ```

pub mod acl;
pub mod credentials;
pub mod dead_letter;
pub mod durable;
pub mod instances;
pub mod inventory;
pub(crate) mod memory;
pub mod notification;
pub mod order;
pub mod order_gate;
pub mod payment;
pub mod pending_tries;
pub mod presence;
pub mod query;
pub mod refusal_shown;
pub mod retry_gate;
pub mod settings;
pub mod stock_levels;

use std::fmt;
use std::time::Duration;

use uuid::Uuid;

pub use settings::{FlowField, FlowSettings, PaymentRule, SagaStyle, Stock};

/// Whether the message of `identity` is one the services publish twice when
/// `duplicates_percent` of them are: decided by the identity's id, so a link replays the same
/// duplicates.
pub fn published_twice(identity: (&'static str, Uuid), duplicates_percent: u8) -> bool {
    duplicates_percent > 0 && settings::percentile(identity.1) < duplicates_percent
}

use crate::config::{DEFAULT_INVENTORY_DELAY, DEFAULT_PAYMENT_DELAY};
use crate::domain::events::{DomainEvent, EventError, OrderItem};
use crate::domain::order::OrderStatus;
use crate::domain::timestamp::Timestamp;
use crate::domain::topics;

/// One of the services; each has its own MQTT client. The seed's four run the order flow;
/// QueryService is the read side (CQRS, source document 004's Query Service): it projects the
/// event store's events into a read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceId {
    Order,
    Payment,
    Inventory,
    Notification,
    Query,
}

impl ServiceId {
    /// In the order the seed introduces them, then the read side.
    pub const ALL: [ServiceId; 5] = [
        ServiceId::Order,
        ServiceId::Payment,
        ServiceId::Inventory,
        ServiceId::Notification,
        ServiceId::Query,
    ];

    /// The name the seed gives the service.
    pub fn name(self) -> &'static str {
        match self {
            ServiceId::Order => "OrderService",
            ServiceId::Payment => "PaymentService",
            ServiceId::Inventory => "InventoryService",
            ServiceId::Notification => "NotificationService",
            ServiceId::Query => "QueryService",
        }
    }

    /// Lowercase, for MQTT client ids and the page's test selectors.
    pub fn slug(self) -> &'static str {
        match self {
            ServiceId::Order => "order",
            ServiceId::Payment => "payment",
            ServiceId::Inventory => "inventory",
            ServiceId::Notification => "notification",
            ServiceId::Query => "query",
        }
    }

    /// The topics the service's client subscribes to under `style`.
    pub fn subscriptions(self, style: SagaStyle) -> &'static [&'static str] {
        use topics::*;
        match (self, style) {
            // Every result and compensation, whatever the style: it keeps each order's state.
            (ServiceId::Order, _) => &[
                ORDERS_CREATED,
                INVENTORY_RESERVED,
                PAYMENTS_PROCESSED,
                INVENTORY_RELEASED,
                PAYMENTS_REFUNDED,
            ],
            // The outcome too: a cancellation undoes the charge, a confirmation makes it final.
            (ServiceId::Payment, SagaStyle::Parallel) => {
                &[ORDERS_CREATED, ORDERS_CONFIRMED, ORDERS_CANCELLED]
            }
            // The order's total, then the reservation that starts the charge.
            (ServiceId::Payment, SagaStyle::Choreography) => &[
                ORDERS_CREATED,
                INVENTORY_RESERVED,
                ORDERS_CONFIRMED,
                ORDERS_CANCELLED,
            ],
            (ServiceId::Payment, SagaStyle::Orchestration) => {
                &[COMMAND_CHARGE_PAYMENT, COMMAND_REFUND_PAYMENT]
            }
            (ServiceId::Inventory, SagaStyle::Orchestration) => {
                &[COMMAND_RESERVE_INVENTORY, COMMAND_RELEASE_INVENTORY]
            }
            (ServiceId::Inventory, _) => &[ORDERS_CREATED, ORDERS_CONFIRMED, ORDERS_CANCELLED],
            (ServiceId::Notification, _) => &[
                ORDERS_CREATED,
                PAYMENTS_PROCESSED,
                INVENTORY_RESERVED,
                ORDERS_CONFIRMED,
                ORDERS_CANCELLED,
                PAYMENTS_REFUNDED,
            ],
            // Every order's stream, as OrderService appends it (a filter: one topic per order).
            (ServiceId::Query, _) => &[crate::store::EVENTSTORE_FILTER],
        }
    }

    /// The topics the service publishes to under `style`.
    pub fn publications(self, style: SagaStyle) -> &'static [&'static str] {
        use topics::*;
        match (self, style) {
            (ServiceId::Order, SagaStyle::Orchestration) => &[
                ORDERS_CREATED,
                ORDERS_CONFIRMED,
                ORDERS_CANCELLED,
                crate::store::EVENTSTORE_FILTER,
                COMMAND_RESERVE_INVENTORY,
                COMMAND_CHARGE_PAYMENT,
                COMMAND_RELEASE_INVENTORY,
                COMMAND_REFUND_PAYMENT,
            ],
            (ServiceId::Order, _) => &[
                ORDERS_CREATED,
                ORDERS_CONFIRMED,
                ORDERS_CANCELLED,
                crate::store::EVENTSTORE_FILTER,
            ],
            (ServiceId::Payment, _) => &[PAYMENTS_PROCESSED, PAYMENTS_REFUNDED],
            (ServiceId::Inventory, _) => &[INVENTORY_RESERVED, INVENTORY_RELEASED],
            (ServiceId::Notification | ServiceId::Query, _) => &[],
        }
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a service asks its driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Publish the message on its topic with the service's client.
    Publish(DomainEvent),
    /// Run `work` through [`Flow::complete`] once `after` has passed.
    Schedule { after: Duration, work: Work },
    /// Show a notification to the user (NotificationService's only output).
    Notify(String),
    /// Publish, retained, with the service's client: InventoryService's stock level of one
    /// product, or an empty message that clears it (see [`stock_levels`]).
    Retain(stock_levels::StockUpdate),
    /// A line for the service's own event log: OrderService sending a compensation again, or
    /// (`gave_up`) giving up on it, shown as a failure.
    Log { line: String, gave_up: bool },
    /// OrderService appended this event to its event store: keep it (the browser's database)
    /// and publish it on `eventstore/orders/<orderId>` for the read side
    /// ([`crate::store::topic`]).
    Record(crate::store::StoredEvent),
}

/// Work that finishes later, through [`Flow::complete`]: a charge or a reservation (simulated
/// work that takes the learner's delay), or a saga's deadline.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// PaymentService charges `amount` (currency units) for the order.
    Charge { order_id: Uuid, amount: f64 },
    /// InventoryService reserves the items for the order.
    Reserve {
        order_id: Uuid,
        items: Vec<OrderItem>,
    },
    /// OrderService's deadline for the order's saga.
    Deadline { order_id: Uuid },
    /// OrderService checks that the compensation `undo` of a cancelled order was seen done
    /// (`inventory/released`, `payments/refunded`); its message has gone out `sent` times. Not
    /// seen: sent again, or given up after [`crate::config::COMPENSATION_TRIES`]
    /// ([`order::OrderService::check_compensation`]).
    Compensation {
        order_id: Uuid,
        undo: order::Undo,
        sent: u32,
    },
    /// QueryService projects an event of the store into its read model (after the projection
    /// delay).
    Project(crate::store::StoredEvent),
}

impl Work {
    /// The service doing the work, whose client publishes the result.
    pub fn service(&self) -> ServiceId {
        match self {
            Work::Charge { .. } => ServiceId::Payment,
            Work::Reserve { .. } => ServiceId::Inventory,
            Work::Deadline { .. } | Work::Compensation { .. } => ServiceId::Order,
            Work::Project(_) => ServiceId::Query,
        }
    }

    /// The order the work is for.
    pub fn order_id(&self) -> Uuid {
        match self {
            Work::Charge { order_id, .. }
            | Work::Reserve { order_id, .. }
            | Work::Deadline { order_id }
            | Work::Compensation { order_id, .. } => *order_id,
            Work::Project(event) => event.stream,
        }
    }

    /// Whether this is simulated work a service is busy with (shown counting down on its
    /// badge), rather than a deadline, a compensation check or a projection waiting in the
    /// background.
    pub fn is_busy(&self) -> bool {
        !matches!(
            self,
            Work::Deadline { .. } | Work::Compensation { .. } | Work::Project(_)
        )
    }
}

/// Why a service did not process a message; shown beside the message in the event log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    pub reason: String,
    /// What kind of refusal: it decides whether the message is retried, dead-lettered or only
    /// logged ([`dead_letter::next_step`]).
    pub kind: RejectionKind,
    /// What the service publishes all the same: for a copy of a compensation it answered before
    /// (a [`RejectionKind::Duplicate`]), its answer again (`PaymentService::answers_again`,
    /// `InventoryService::answers_again`); empty for every other refusal.
    pub answer_again: Vec<Command>,
}

/// What kind of refusal a [`Rejection`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// A well-formed message the service decided against: a topic it does not subscribe to, a
    /// transition the order refuses, an order it never saw. Logged.
    Refused,
    /// A message that can never be processed as it is: not UTF-8, not JSON, the wrong shape,
    /// impossible values. Dead-lettered at once.
    Malformed,
    /// A well-formed message about something the service does not know: an order for a
    /// product InventoryService's stock does not list ([`inventory`]). Dead-lettered at once,
    /// and not remembered as processed, so its Retry, once the cause is fixed, is handled.
    Unknown,
    /// The handler failed on it (a poison message). Tried again, then dead-lettered.
    Failed,
    /// Processed before, and ignored this time (the idempotent consumer). Logged.
    Duplicate,
    /// A message about an order whose `orders/created` has not reached this service yet
    /// (topics keep no order between them, MQTT §4.6): kept, and handled when the order's
    /// creation arrives ([`Flow::handle`]). Logged.
    Early,
    /// A message under an identity of the order's (a charge's payment id) whose content is not
    /// the order's: a payment or a refund of another amount than its total
    /// ([`crate::domain::order::Refusal::WrongAmount`], `ShortRefund`, `RefundOverCharge`,
    /// `ZeroRefund`).
    /// Logged, and not remembered as processed, so the real message under the same id is still
    /// handled (a newcomer's break-test: a 0.01 refund under the charge's id made the real
    /// refund a "duplicate").
    NotItsOwn,
}

/// What a duplicate's log line adds about where the copy came from ([`Rejection::delivered`]).
fn duplicate_origin(redelivered: bool) -> &'static str {
    if redelivered {
        " — a redelivery by the broker (DUP flag set): it had sent this PUBLISH before the \
         reconnection and had no acknowledgement for it, so it sent it again (MQTT 3.1.1 \
         §3.3.1.1, 5.0 §3.3.1.1); nobody published it twice"
    } else {
        " — a second PUBLISH under the same identity (DUP flag not set): published again, by \
         its publisher or another client, or sent again by a broker restarted from an older \
         save of its sessions (it had delivered it before the save was overtaken)"
    }
}

impl Rejection {
    /// A refusal ([`RejectionKind::Refused`]) for this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Rejection {
            reason: reason.into(),
            kind: RejectionKind::Refused,
            answer_again: Vec::new(),
        }
    }

    /// Whether the message was a duplicate, ignored.
    pub fn is_duplicate(&self) -> bool {
        self.kind == RejectionKind::Duplicate
    }

    /// A duplicate's reason with where the copy came from, told by the PUBLISH's DUP flag
    /// (`redelivered`); any other rejection as it is.
    ///
    /// - DUP set: the broker sent this PUBLISH before and had no acknowledgement for it when
    ///   the connection ended, so it delivered it again after the reconnection (MQTT 3.1.1
    ///   §3.3.1.1, 5.0 §3.3.1.1; §4.4 for when it must). Nobody published it twice:
    ///   `mosquitto_sub` on the topic does not see a second copy.
    /// - DUP not set: a second PUBLISH of the same event reached the broker (its publisher sent
    ///   it again, as `?duplicates=` makes it do); the broker does not pass a publisher's DUP
    ///   flag on (same section), so that is all the flag can tell.
    ///
    /// e.g. "duplicate ignored: orders/created 3fa8… was processed before — a redelivery by
    /// the broker (DUP flag set): …".
    pub fn delivered(mut self, redelivered: bool) -> Self {
        if self.is_duplicate() {
            self.reason.push_str(duplicate_origin(redelivered));
        }
        self
    }

    /// The refusal of a retained copy of a message on the flow topic `wire_topic` (as on the
    /// wire, with the page's namespace): the broker sends a topic's retained message to each
    /// new subscription, with RETAIN set (MQTT 3.1.1 §3.3.1.3; 5.0 §3.3.1.3 unless Retain As
    /// Published was asked for, which the services do not ask). An event or a command happens
    /// once; processed again at each subscription it would charge and reserve again on every
    /// reload. So it is logged ([`RejectionKind::Refused`]), never processed, and the sentence
    /// says how to clear it:
    ///
    /// "a retained copy, sent by the broker to each new subscription: an event happens once, so
    /// it is not processed (retained messages are for state, such as the stock levels). Clear it
    /// with `mosquitto_pub -r -t orders/created -n`"
    pub fn retained_copy(wire_topic: &str) -> Self {
        Rejection::new(format!(
            "a retained copy, sent by the broker to each new subscription: an event happens \
             once, so it is not processed (retained messages are for state, such as the stock \
             levels). Clear it with `mosquitto_pub -r -t {} -n`",
            crate::outside_text::isolate(wire_topic)
        ))
    }

    /// An [`RejectionKind::Early`] message about `order_id`: `service` has not seen it created.
    pub fn early(service: ServiceId, order_id: Uuid) -> Self {
        Rejection {
            reason: format!(
                "{service} has not seen order {order_id} created yet: kept, and handled when \
                 its orders/created arrives"
            ),
            kind: RejectionKind::Early,
            answer_again: Vec::new(),
        }
    }
}

impl From<EventError> for Rejection {
    fn from(error: EventError) -> Self {
        let kind = match error {
            // Nothing to process: not a message that failed (an empty retained message is how
            // MQTT clears a topic's retained message, and every subscriber receives it).
            EventError::UnknownTopic(_) | EventError::Empty => RejectionKind::Refused,
            _ => RejectionKind::Malformed,
        };
        Rejection {
            reason: error.to_string(),
            kind,
            answer_again: Vec::new(),
        }
    }
}

/// How long the simulated work takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delays {
    pub payment: Duration,
    pub inventory: Duration,
}

impl Default for Delays {
    fn default() -> Self {
        Delays {
            payment: DEFAULT_PAYMENT_DELAY,
            inventory: DEFAULT_INVENTORY_DELAY,
        }
    }
}

/// A message kept until its order's creation arrives: its topic and payload.
type EarlyMessage = (&'static str, Vec<u8>);

/// The four services' memory and the settings they decide by.
#[derive(Debug, Clone)]
pub struct Flow {
    /// What the learner set; changes apply to the next message.
    pub settings: FlowSettings,
    /// OrderService: the sagas.
    pub order: order::OrderService,
    /// PaymentService: the charges.
    pub payment: payment::PaymentService,
    /// InventoryService: the stock and the reservations.
    pub inventory: inventory::InventoryService,
    /// QueryService: the read model.
    pub query: query::QueryService,
    /// NotificationService: what it told the customer.
    pub notification: notification::NotificationService,
    /// What each consumer processed, by message identity ([`DomainEvent::identity`]). Kept in
    /// the services' memory, not in their MQTT clients, so it survives a crashed client.
    processed: memory::Recent<(ServiceId, &'static str, Uuid), ()>,
    /// Messages that arrived before their order's creation ([`RejectionKind::Early`]), per
    /// service and order, with their topic, to be handled when it arrives.
    early: memory::Recent<(ServiceId, Uuid), Vec<EarlyMessage>>,
    /// A style chosen while sagas were in flight, waiting for them to end.
    waiting_style: Option<SagaStyle>,
    /// Work scheduled and not yet completed or abandoned, with when it is due (Unix ms): the
    /// services' scheduler, kept with their memory so new clients can take it over.
    scheduled: Vec<(i64, Work)>,
    /// Where OrderService's latest copy of each compensating message stands, by order and
    /// topic: unsent when decided, published once its driver says its PUBLISH went out
    /// ([`Flow::published`]). A compensation check never sends a copy beside one still unsent,
    /// and counts its deadline from the publication ([`order::check_waits`]).
    on_wire: memory::Recent<(Uuid, &'static str), order::CopyOnWire>,
    /// The identities in `processed` of each participant's messages, by service and order: what
    /// its memo ([`durable::Memo`]) lists as processed.
    processed_of: memory::Recent<(ServiceId, Uuid), Vec<(&'static str, Uuid)>>,
    /// The participants' orders whose memo in the tab's database could not be read back
    /// ([`durable::Memo::unreadable`]): what was done for them is unknown, so a copy of the
    /// message that starts their step stays a duplicate ([`Flow::starts_step`]).
    unreadable: memory::Recent<(ServiceId, Uuid), ()>,
    /// The participants' orders whose memory changed since [`Flow::take_changed`].
    touched: std::collections::BTreeSet<(ServiceId, Uuid)>,
    /// The participants' orders whose memos were handed out to keep (or restored), the newest
    /// [`durable::MEMOS_KEPT`]: one pushed out is handed out as forgotten, to delete.
    memos_kept: memory::Recent<(ServiceId, Uuid), ()>,
    /// Memos pushed out of `memos_kept` since [`Flow::take_changed`].
    forgotten: Vec<(ServiceId, Uuid)>,
    /// InventoryService's stock as last handed out to keep (or restored).
    stock_kept: Stock,
    /// Whether the stock was handed out to keep (or restored) at least once: the link's stock
    /// is written with the first thing InventoryService handles, even unchanged (an order
    /// refused as out of stock), so that a later link without `?stock=` in the same tab finds
    /// it (a newcomer's break-test: `?stock=P001:1`, an order refused, then a link without
    /// stock sold without limit).
    stock_written: bool,
    /// The tab's database was read back and held no stock: the link's levels are written at
    /// the next [`Flow::take_changed`], so a reload or a later link keeps them (a newcomer's
    /// break-test, 36-S F4: `?stock=P777:7` with no order placed was forgotten, while the
    /// broker kept retaining the level).
    stock_due: bool,
}

impl Flow {
    /// The services with nothing remembered yet, InventoryService holding `settings.stock`.
    pub fn new(settings: FlowSettings) -> Flow {
        let stock = settings.stock.clone();
        Flow {
            inventory: inventory::InventoryService::new(settings.stock.clone()),
            settings,
            order: order::OrderService::default(),
            payment: payment::PaymentService::default(),
            query: query::QueryService::default(),
            notification: notification::NotificationService::default(),
            processed: memory::Recent::new(4 * memory::ORDERS_REMEMBERED),
            early: memory::Recent::new(memory::ORDERS_REMEMBERED),
            waiting_style: None,
            scheduled: Vec::new(),
            on_wire: memory::Recent::new(2 * memory::ORDERS_REMEMBERED),
            processed_of: memory::Recent::new(3 * memory::ORDERS_REMEMBERED),
            unreadable: memory::Recent::new(3 * memory::ORDERS_REMEMBERED),
            touched: std::collections::BTreeSet::new(),
            memos_kept: memory::Recent::new(durable::MEMOS_KEPT),
            forgotten: Vec::new(),
            stock_kept: stock,
            stock_written: false,
            stock_due: false,
        }
    }

    /// The same flow keeping at most `memos` participant memos (at least one) in the tab's
    /// database instead of [`durable::MEMOS_KEPT`]: for tests that fill the bound with a few
    /// orders. Call it before anything is handled or restored.
    pub fn keeping_memos(mut self, memos: usize) -> Flow {
        self.memos_kept = memory::Recent::new(memos);
        self
    }

    /// What the participants' memory changed since the last call (or since [`Flow::new`]): a
    /// memo for each order a participant handled a message of or did work for, the stock if
    /// it changed, and the memos to delete; for the driver to keep in the tab's database
    /// ([`durable`]).
    ///
    /// The database keeps the memos of the newest [`durable::MEMOS_KEPT`] (participant, order)
    /// pairs handed out, as the core keeps the processed ids of as many: a memo handed out past
    /// that bound pushes out the oldest, whose key comes back in [`durable::Changed::forgotten`]
    /// (never one handed out in the same call).
    pub fn take_changed(&mut self) -> durable::Changed {
        let touched = std::mem::take(&mut self.touched);
        let inventory_handled = touched.iter().any(|(s, _)| *s == ServiceId::Inventory);
        for key in &touched {
            if let Some(old) = self.memos_kept.insert_forgetting(*key, ()) {
                self.forgotten.push(old);
            }
        }
        let forgotten = std::mem::take(&mut self.forgotten)
            .into_iter()
            .filter(|key| !self.memos_kept.contains(key))
            .map(|(service, order_id)| format!("{}/{order_id}", service.slug()))
            .collect();
        let memos = touched
            .into_iter()
            .filter(|key| self.memos_kept.contains(key))
            .map(|(service, order_id)| self.memo(service, order_id))
            .collect();
        let first = !self.stock_written
            && (inventory_handled || self.stock_due)
            && !self.inventory.stock().0.is_empty();
        let stock = (self.inventory.stock() != &self.stock_kept || first).then(|| {
            self.stock_written = true;
            self.stock_kept = self.inventory.stock().clone();
            self.stock_kept.clone()
        });
        durable::Changed {
            memos,
            stock,
            forgotten,
        }
    }

    /// Whether PaymentService or InventoryService remembers anything of `order_id` (a message
    /// of it processed, a charge, a reservation, a step of its saga), kept across a reload or
    /// not. After a reload, an order kept by the placement's outbox that neither heard of most
    /// likely never reached the broker: OrderService publishes it again (decision 0023).
    pub fn participants_heard_of(&self, order_id: Uuid) -> bool {
        [ServiceId::Payment, ServiceId::Inventory]
            .into_iter()
            .any(|service| {
                let memo = self.memo(service, order_id);
                !memo.processed.is_empty() || memo.payment.is_some() || memo.inventory.is_some()
            })
    }

    /// What `service` remembers of `order_id`.
    fn memo(&self, service: ServiceId, order_id: Uuid) -> durable::Memo {
        let processed = self
            .processed_of
            .get(&(service, order_id))
            .map(|ids| ids.iter().map(|(t, id)| ((*t).to_owned(), *id)).collect())
            .unwrap_or_default();
        durable::Memo {
            v: durable::MEMO_VERSION,
            service: service.slug().to_owned(),
            order_id,
            processed,
            payment: (service == ServiceId::Payment)
                .then(|| self.payment.memo(order_id))
                .flatten(),
            inventory: (service == ServiceId::Inventory)
                .then(|| self.inventory.memo(order_id))
                .flatten(),
            notification: (service == ServiceId::Notification)
                .then(|| self.notification.memo(order_id))
                .flatten(),
            early: self
                .early
                .get(&(service, order_id))
                .map(|kept| {
                    kept.iter()
                        .map(|(topic, payload)| durable::EarlyMemo {
                            topic: (*topic).to_owned(),
                            payload: String::from_utf8_lossy(payload).into_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            unreadable: false,
        }
    }

    /// Takes back the participants' memos and InventoryService's `stock` kept in the tab's
    /// database (after a reload, before any message is handled): what each processed, charged,
    /// reserved and saw of each order. The stock kept is the truth (written before each level
    /// went out retained); `None` keeps the link's. Returns what was restored, for the logs.
    ///
    /// At most [`durable::MEMOS_KEPT`] memos are taken back (a database filled under a larger
    /// bound): the last ones given; the others are not restored, and their keys come back from
    /// the next [`Flow::take_changed`] as forgotten, to delete.
    pub fn restore_memos(
        &mut self,
        memos: Vec<durable::Memo>,
        stock: Option<Stock>,
    ) -> durable::Restored {
        let mut restored = durable::Restored::default();
        self.stock_due = stock.is_none();
        if let Some(stock) = stock {
            self.inventory.restore_stock(stock.clone());
            self.stock_kept = stock;
            self.stock_written = true;
            restored.stock = true;
        }
        let mut memos: Vec<(ServiceId, durable::Memo)> = memos
            .into_iter()
            .filter_map(|memo| Some((memo.service_id()?, memo)))
            .collect();
        let past_bound = memos.len().saturating_sub(self.memos_kept.capacity());
        for (service, memo) in memos.drain(..past_bound) {
            self.forgotten.push((service, memo.order_id));
        }
        for (service, memo) in memos {
            if let Some(old) = self
                .memos_kept
                .insert_forgetting((service, memo.order_id), ())
            {
                self.forgotten.push(old);
            }
            let ids: Vec<(&'static str, Uuid)> = memo
                .processed
                .iter()
                .filter_map(|(topic, id)| Some((durable::known_topic(topic)?, *id)))
                .collect();
            let starting = self.starting_topic(service);
            let step_asked = ids.iter().any(|(topic, _)| Some(*topic) == starting);
            if memo.unreadable {
                restored
                    .unreadable
                    .entry(service)
                    .or_default()
                    .push(memo.order_id);
                self.unreadable.insert((service, memo.order_id), ());
            } else if !ids.is_empty() {
                *restored.processed.entry(service).or_default() += 1;
            }
            for &(topic, id) in &ids {
                self.processed.insert((service, topic, id), ());
            }
            self.processed_of.insert((service, memo.order_id), ids);
            if let Some(payment) = &memo.payment {
                restored.charges += self.payment.restore_memo(memo.order_id, payment);
            }
            if let Some(inventory) = &memo.inventory {
                restored.reservations += self.inventory.restore_memo(memo.order_id, inventory);
            }
            if let Some(notification) = &memo.notification {
                self.notification.restore_memo(memo.order_id, notification);
            }
            let early: Vec<EarlyMessage> = memo
                .early
                .iter()
                .filter_map(|e| Some((durable::known_topic(&e.topic)?, e.payload.clone().into())))
                .collect();
            if !early.is_empty() {
                *restored.early.entry(service).or_default() += early.len();
                self.early.insert((service, memo.order_id), early);
            }
            // The step's message processed, no result kept: its work was under way at the
            // reload and died with the page (42-AL F5: "10 orders processed" said nothing of
            // it, and each order then timed out).
            let died = !memo.unreadable
                && step_asked
                && match service {
                    ServiceId::Payment => self.payment.owes_its_step(memo.order_id),
                    ServiceId::Inventory => self.inventory.owes_its_step(memo.order_id),
                    _ => false,
                };
            if died {
                *restored.died.entry(service).or_default() += 1;
            }
        }
        restored
    }

    /// The topic whose message starts `service`'s step under the current style
    /// ([`Flow::starts_step`]): PaymentService's `orders/created` (parallel),
    /// `inventory/reserved` (choreography) or `commands/payment/charge` (orchestration);
    /// InventoryService's `orders/created` or `commands/inventory/reserve`. `None` for a service
    /// without one.
    pub fn starting_topic(&self, service: ServiceId) -> Option<&'static str> {
        let style = self.settings.saga;
        match (service, style) {
            (ServiceId::Payment, SagaStyle::Parallel) => Some(topics::ORDERS_CREATED),
            (ServiceId::Payment, SagaStyle::Choreography) => Some(topics::INVENTORY_RESERVED),
            (ServiceId::Payment, SagaStyle::Orchestration) => Some(topics::COMMAND_CHARGE_PAYMENT),
            (ServiceId::Inventory, SagaStyle::Orchestration) => {
                Some(topics::COMMAND_RESERVE_INVENTORY)
            }
            (ServiceId::Inventory, _) => Some(topics::ORDERS_CREATED),
            _ => None,
        }
    }

    /// Notes that `service`'s memory of `order_id` may have changed (a participant's only).
    fn touch(&mut self, service: ServiceId, order_id: Uuid) {
        if matches!(
            service,
            ServiceId::Payment | ServiceId::Inventory | ServiceId::Notification
        ) {
            self.touched.insert((service, order_id));
        }
    }

    /// Coordinates new sagas in `style`. With sagas in flight ([`Flow::sagas_in_flight`]) the
    /// change waits until they have all ended: the services drain first, as a deployment
    /// changing its saga's coordination would, because the services of a saga started in one
    /// style do not follow another's messages (PaymentService, orchestrated, no longer hears
    /// `orders/cancelled`). Returns whether it applied at once.
    pub fn choose_style(&mut self, style: SagaStyle) -> bool {
        self.waiting_style = (style != self.settings.saga).then_some(style);
        self.apply_waiting_style();
        self.waiting_style.is_none()
    }

    /// The style waiting for the sagas in flight, and how many there are.
    pub fn style_waiting(&self) -> Option<(SagaStyle, usize)> {
        self.waiting_style
            .map(|style| (style, self.sagas_in_flight()))
    }

    /// How many sagas have not ended (0 when all have): an order neither confirmed nor
    /// cancelled, or cancelled with a charge not yet refunded or stock not yet released (or a
    /// compensation OrderService still checks, its step's outcome unknown), or with a payment
    /// or reservation still being worked on ([`Flow::abandon`] for work that
    /// died).
    pub fn sagas_in_flight(&self) -> usize {
        self.open_sagas().len()
    }

    /// The orders whose sagas have not ended ([`Flow::sagas_in_flight`]).
    fn open_sagas(&self) -> std::collections::BTreeSet<Uuid> {
        // Filled by `extend`, not `collect`: collecting into a B-tree compiles a sort of its own.
        let mut open = std::collections::BTreeSet::<Uuid>::new();
        open.extend(
            self.scheduled
                .iter()
                .filter(|(_, work)| work.is_busy())
                .map(|(_, work)| work.order_id()),
        );
        open.extend(
            self.order
                .sagas()
                .filter(|saga| {
                    let id = saga.order.order_id;
                    match saga.order.status {
                        OrderStatus::Completed => false,
                        // A compensation OrderService gave up on is no longer awaited: the
                        // switch does not wait for it for ever (a newcomer's break-test: every
                        // new order was refused after "refund not confirmed after 4 tries").
                        OrderStatus::Cancelled => {
                            // Nor one OrderService took as ended ("nothing to undo" answered,
                            // the nil id, from whoever): it asks nothing more, so a charge or a
                            // reservation a participant still holds would keep the switch
                            // waiting for ever (a newcomer's break-test, 35-P F3: every new
                            // order refused, no saga open, the wire silent).
                            use crate::domain::order::Step;
                            let ended = |step: &Step| {
                                matches!(step, Step::Compensated(_) | Step::Forgotten(_))
                            };
                            let open = |undo| !self.order.gave_up(id, undo);
                            (self.payment.has_charged(id)
                                && open(order::Undo::Refund)
                                && !ended(&saga.order.payment))
                                || (self.inventory.holds(id)
                                    && open(order::Undo::Release)
                                    && !ended(&saga.order.inventory))
                                || self.still_checking(id, &order::to_undo(&saga.order, saga.style))
                        }
                        _ => true,
                    }
                })
                .map(|saga| saga.order.order_id),
        );
        open
    }

    /// Whether `event` starts `service`'s step under the current style: PaymentService's charge
    /// (the order's creation in parallel, the reservation in choreography, the command in
    /// orchestration), InventoryService's reservation (the order's creation, or the command in
    /// orchestration).
    fn starts_step(&self, service: ServiceId, event: &DomainEvent) -> bool {
        match event {
            // A command starts its step in any style (one sent before a switch of style).
            DomainEvent::ChargePayment(_) => service == ServiceId::Payment,
            DomainEvent::ReserveInventory(_) => service == ServiceId::Inventory,
            // A failed reservation starts no charge.
            DomainEvent::InventoryReserved(reserved) if !reserved.success => false,
            _ => self.starting_topic(service) == Some(event.topic()),
        }
    }

    /// Whether OrderService still checks one of the compensations `open` of order `id` (a
    /// [`Work::Compensation`] scheduled, not given up): it will ask for it again in the saga's
    /// style, so the saga has not ended for a change of style (a newcomer's break-test: after
    /// a switch to orchestration, OrderService sent its `orders/cancelled` again to a
    /// PaymentService no longer subscribed to it, and gave up with "check by hand").
    fn still_checking(&self, id: Uuid, open: &[order::Undo]) -> bool {
        self.has_work(|work| {
            matches!(work, Work::Compensation { order_id, undo, .. } if *order_id == id && open.contains(undo))
        })
    }

    /// Scheduled `work` will not complete: its service crashed, and the work died with it (a
    /// style waiting for it may apply now).
    pub fn abandon(&mut self, work: &Work) {
        self.unschedule(work);
        self.apply_waiting_style();
    }

    /// The work scheduled and not completed, with when it is due: what a new set of clients
    /// must arm again to carry on (the services' memory outlives their MQTT connections).
    pub fn scheduled(&self) -> Vec<(Timestamp, Work)> {
        self.scheduled
            .iter()
            .filter_map(|(due, work)| Some((Timestamp::from_unix_millis(*due).ok()?, work.clone())))
            .collect()
    }

    /// Drops from `commands` a compensation check of an order's release or refund that is
    /// already being checked: a success heard after the cancellation, for a step the
    /// cancellation already compensates (its answer had not come), must not start a second
    /// round of checks, each sending the compensating message again.
    fn drop_running_checks(&self, commands: &mut Vec<Command>) {
        let mut checked: Vec<(Uuid, order::Undo)> = self
            .scheduled
            .iter()
            .filter_map(|(_, work)| match work {
                Work::Compensation { order_id, undo, .. } => Some((*order_id, *undo)),
                _ => None,
            })
            .collect();
        commands.retain(|command| match command {
            Command::Schedule {
                work: Work::Compensation { order_id, undo, .. },
                ..
            } => {
                let new = !checked.contains(&(*order_id, *undo));
                checked.push((*order_id, *undo));
                new
            }
            _ => true,
        });
    }

    /// The events QueryService received and holds until its projection delay is over
    /// ([`Work::Project`]), in the order they were scheduled.
    fn projections(&self) -> impl Iterator<Item = &crate::store::StoredEvent> {
        self.scheduled.iter().filter_map(|(_, w)| match w {
            Work::Project(event) => Some(event),
            _ => None,
        })
    }

    /// The store positions of the events QueryService holds for its projection delay
    /// ([`Work::Project`]): received, and projected when their delay is over.
    pub fn projection_positions(&self) -> std::collections::BTreeSet<u64> {
        self.projections().map(|event| event.position).collect()
    }

    /// `model` as it will be once the events QueryService holds for its projection delay
    /// ([`Work::Project`]) are projected into it, in the order of their positions: what a read
    /// model that is only behind catches up to by itself.
    pub fn with_projections_pending(
        &self,
        model: &crate::store::ReadModel,
    ) -> crate::store::ReadModel {
        let mut pending: Vec<&crate::store::StoredEvent> = self.projections().collect();
        pending.sort_by_key(|event| event.position);
        let mut caught_up = model.clone();
        for event in pending {
            caught_up.project(event);
        }
        caught_up
    }

    /// How many events QueryService received and holds until its projection delay is over
    /// ([`Work::Project`]): while there are any, its read model is behind, not wrong.
    pub fn projections_pending(&self) -> usize {
        self.projections().count()
    }

    /// QueryService crashed: the events it received and held until its projection delay was
    /// over ([`Work::Project`]) die with it, as any process's work in hand does (each was
    /// acknowledged to the broker when it arrived, so the broker will not send it again; its read
    /// model misses them until *Rebuild*). Returns how many. The driver's timers for them must
    /// not project them ([`Work::Project`] armed before the crash).
    pub fn drop_projections(&mut self) -> usize {
        let before = self.scheduled.len();
        self.scheduled
            .retain(|(_, work)| !matches!(work, Work::Project(_)));
        before - self.scheduled.len()
    }

    /// How many copies of `work` are scheduled and not completed (two, for an order charged
    /// twice with the idempotent consumers off).
    pub fn scheduled_count(&self, work: &Work) -> usize {
        self.scheduled.iter().filter(|(_, w)| w == work).count()
    }

    /// Whether scheduled work that `which` picks is not completed yet.
    fn has_work(&self, which: impl Fn(&Work) -> bool) -> bool {
        self.scheduled.iter().any(|(_, work)| which(work))
    }

    fn unschedule(&mut self, work: &Work) {
        if let Some(i) = self.scheduled.iter().position(|(_, w)| w == work) {
            self.scheduled.remove(i);
        }
    }

    /// Notes the work in `commands`, decided at `now`, as scheduled.
    /// OrderService takes over `store` (the page's own, read back from the browser's database
    /// after a reload; see [`order::OrderService::restore`]): each saga under the style in use,
    /// each open order's deadline due in what is left of the deadline in use since it was
    /// created; QueryService's read model is rebuilt from it (its events are not delivered
    /// again). `resent`: the orders whose compensation the outbox publishes again now (their
    /// checks are due a whole deadline from now). Returns those deadlines, to arm; they are
    /// part of the schedule handed over.
    pub fn restore(
        &mut self,
        store: crate::store::EventStore,
        now: Timestamp,
        resent: &[Uuid],
    ) -> Vec<Command> {
        let mut rebuild = crate::store::Rebuild::new(None);
        while !rebuild.step(&store, usize::MAX).is_finished() {}
        self.query.restore(rebuild.finish());
        let (style, timeout) = (self.settings.saga, self.settings.saga_timeout);
        let commands = self.order.restore(store, style, timeout, now, resent);
        self.note_scheduled(now, &commands);
        self.follow_restored_style();
        commands
    }

    /// After a restore: when the sagas restored in flight started under another style than
    /// the link's, the services follow theirs until they have ended, and the link's waits
    /// ([`Flow::style_waiting`]), as a switch chosen mid-saga does (44-AQ F1: a lesson link
    /// with `saga=orchestration` opened, or Back pressed, while a parallel saga was open: its
    /// cancellation went to a PaymentService no longer subscribed to `orders/cancelled`, and
    /// the charge was never refunded). With sagas of several styles, the style of most.
    fn follow_restored_style(&mut self) {
        let open = self.open_sagas();
        let mut counts: Vec<(SagaStyle, usize)> = Vec::new();
        for saga in self.order.sagas() {
            if open.contains(&saga.order.order_id) {
                match counts.iter_mut().find(|(style, _)| *style == saga.style) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((saga.style, 1)),
                }
            }
        }
        let Some(restored) = counts
            .iter()
            .max_by_key(|(_, n)| *n)
            .map(|(style, _)| *style)
        else {
            return;
        };
        if restored != self.settings.saga {
            let linked = std::mem::replace(&mut self.settings.saga, restored);
            self.waiting_style = Some(linked);
            self.apply_waiting_style();
        }
    }

    /// OrderService's client sent a PUBLISH of `payload` on `topic` (without the namespace) at
    /// `now`, a first send (not a DUP resend): if it is a compensating message
    /// ([`order::compensation_of`]), its check counts from now. Any other message, or one
    /// that does not decode, changes nothing.
    pub fn published(&mut self, topic: &str, payload: &[u8], now: Timestamp) {
        let Some(key) = order::compensation_on(topic, payload) else {
            return;
        };
        self.on_wire.insert(key, order::CopyOnWire::Published(now));
    }

    /// OrderService's client refused, before sending, `payload` on `topic` (without the
    /// namespace): a compensating message that will never go out, refused when it was
    /// published or later from the client's offline queue (the broker's limits, learnt on
    /// reconnecting, forbid it: the driver gives the topic and payload the queue kept). Its
    /// check no longer waits for it, and sends it again when due, as it did before it knew
    /// what the wire had: the same as a check due while its copy's fate is unknown, not the
    /// wait of a copy held back while the broker is down, since this copy will never leave.
    /// A copy refused again is said again in OrderService's log, once per deadline.
    pub fn not_published(&mut self, topic: &str, payload: &[u8]) {
        if let Some(key) = order::compensation_on(topic, payload) {
            if self.on_wire.get(&key) == Some(&order::CopyOnWire::Unsent) {
                self.on_wire.remove(&key);
            }
        }
    }

    /// Notes each compensating message OrderService decided in `commands` as unsent, until its
    /// driver reports its publication ([`Flow::published`]).
    fn note_unsent(&mut self, commands: &[Command]) {
        for command in commands {
            if let Some(key) = match command {
                Command::Publish(event) => order::compensation_of(event),
                _ => None,
            } {
                self.on_wire.insert(key, order::CopyOnWire::Unsent);
            }
        }
    }

    fn note_scheduled(&mut self, now: Timestamp, commands: &[Command]) {
        for command in commands {
            if let Command::Schedule { after, work } = command {
                let after = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
                let due = now.unix_millis().saturating_add(after);
                self.scheduled.push((due, work.clone()));
            }
        }
    }

    fn apply_waiting_style(&mut self) {
        if let Some(style) = self.waiting_style {
            if self.sagas_in_flight() == 0 {
                self.settings.saga = style;
                self.waiting_style = None;
            }
        }
    }

    /// `service` received `payload` on `topic` at `now`: what should it do?
    ///
    /// A message on a topic the service does not subscribe to (under the current style) is
    /// refused before its payload is read: that the message should never have arrived is the
    /// more useful thing to know.
    pub fn handle(
        &mut self,
        service: ServiceId,
        now: Timestamp,
        topic: &str,
        payload: &[u8],
    ) -> Result<Vec<Command>, Rejection> {
        let mut outcome = self.handle_message(service, now, topic, payload);
        if let Ok(commands) = &mut outcome {
            self.drop_running_checks(commands);
            self.note_scheduled(now, commands);
            self.note_unsent(commands);
        }
        self.apply_waiting_style();
        outcome
    }

    /// Whether `payload` on `topic` asks `service`, a participant that no longer subscribes to
    /// `topic`, for its compensation of an order it charged (reserved) for: an
    /// `orders/cancelled`, or orchestration's refund (release) command. It still owes it (or,
    /// undone, the answer again, as to a duplicate). The broker kept it in the participant's
    /// session from before a style switch (a crashed PaymentService restarted after the
    /// switch, which OrderService's given-up refund had let go ahead); the saga keeps the rules
    /// it started under (a newcomer's break-test, 45-AV F1: refused as "does not subscribe",
    /// the charge of a cancelled order was never refunded).
    fn owed_after_a_switch(&self, service: ServiceId, topic: &str, payload: &[u8]) -> bool {
        use crate::domain::topics::{
            COMMAND_REFUND_PAYMENT, COMMAND_RELEASE_INVENTORY, ORDERS_CANCELLED,
        };
        let asks = match service {
            ServiceId::Payment => [ORDERS_CANCELLED, COMMAND_REFUND_PAYMENT].contains(&topic),
            ServiceId::Inventory => [ORDERS_CANCELLED, COMMAND_RELEASE_INVENTORY].contains(&topic),
            _ => false,
        };
        let Some(order_id) = asks
            .then(|| DomainEvent::decode(topic, payload).ok())
            .flatten()
            .map(|event| event.order_id())
        else {
            return false;
        };
        match service {
            ServiceId::Payment => !self.payment.charges_of(order_id).is_empty(),
            _ => self.inventory.did_reserve(order_id),
        }
    }

    fn handle_message(
        &mut self,
        service: ServiceId,
        now: Timestamp,
        topic: &str,
        payload: &[u8],
    ) -> Result<Vec<Command>, Rejection> {
        let follows = service
            .subscriptions(self.settings.saga)
            .iter()
            .any(|filter| broker_bridge::topic::matches(filter, topic))
            || self.owed_after_a_switch(service, topic, payload);
        if !follows {
            return Err(Rejection::new(format!(
                "{service} does not subscribe to `{}`",
                crate::outside_text::isolate(topic)
            )));
        }
        if service == ServiceId::Query {
            if payload.is_empty() {
                return Err(EventError::Empty.into());
            }
            let event =
                crate::store::StoredEvent::decode_on(topic, payload).map_err(|e| Rejection {
                    reason: e.to_string(),
                    kind: RejectionKind::Malformed,
                    answer_again: Vec::new(),
                })?;
            return self.query.on_stored(self.settings.projection_delay, event);
        }
        let event = DomainEvent::decode(topic, payload)?;
        // An order whose creation QueryService could never receive from the event store is
        // refused by every service alike (44-AQ F2: accepted and completed, its event of
        // 262,085 bytes never reached the read model, and the page blamed a sender).
        if let DomainEvent::OrderCreated(created) = &event {
            let size = crate::store::created_event_size(created);
            if size > crate::store::PAGE_PACKET_LIMIT {
                let (size, limit) =
                    broker_bridge::codec::over_limit(size, crate::store::PAGE_PACKET_LIMIT);
                return Err(Rejection {
                    reason: format!(
                        "order refused: its OrderCreated in OrderService's event store would take \
                         up to {size} on eventstore/orders/…, over the {limit} this page's \
                         clients read, so QueryService could never receive it: send fewer or \
                         shorter items"
                    ),
                    kind: RejectionKind::Malformed,
                    answer_again: Vec::new(),
                });
            }
        }
        let (identity_topic, id) = event.identity();
        let key = (service, identity_topic, id);
        let (order_id, event_topic) = (event.order_id(), event.topic());
        let created = matches!(event, DomainEvent::OrderCreated(_));
        // A copy of a compensation that found the step under way (no answer then) and finds it
        // gone now (a reload ended it): answered as the first, not ignored.
        let owed = match (service, &event) {
            (
                ServiceId::Payment,
                DomainEvent::OrderCancelled(_) | DomainEvent::RefundPayment(_),
            ) => {
                !self.has_work(|w| matches!(w, Work::Charge { order_id: o, .. } if *o == order_id))
                    && self.payment.owes_an_answer(order_id)
            }
            (
                ServiceId::Inventory,
                DomainEvent::OrderCancelled(_) | DomainEvent::ReleaseInventory(_),
            ) => {
                !self.has_work(|w| matches!(w, Work::Reserve { order_id: o, .. } if *o == order_id))
                    && self.inventory.owes_an_answer(order_id)
            }
            // A copy of the message that starts a participant's step, whose work died before it
            // had any effect (a crash, a reload): done now, not ignored (42-AL F9: the crash
            // line said the broker would not send it again; Deliver again did, and the copy was
            // "processed before" though nothing was charged).
            // A copy of a command whose work died, once the saga was compensated before the
            // step: answered "order already cancelled" as a late command is (43-AN F5).
            _ if self.starts_step(service, &event)
                && !self.unreadable.contains(&(service, order_id)) =>
            {
                let command = matches!(
                    event,
                    DomainEvent::ChargePayment(_) | DomainEvent::ReserveInventory(_)
                );
                match service {
                    ServiceId::Payment => {
                        !self.has_work(
                            |w| matches!(w, Work::Charge { order_id: o, .. } if *o == order_id),
                        ) && (self.payment.owes_its_step(order_id)
                            || command && self.payment.never_did_its_step(order_id))
                    }
                    ServiceId::Inventory => {
                        !self.has_work(
                            |w| matches!(w, Work::Reserve { order_id: o, .. } if *o == order_id),
                        ) && (self.inventory.owes_its_step(order_id)
                            || command && self.inventory.never_did_its_step(order_id))
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if self.settings.dedupe && self.processed.contains(&key) && !owed {
            // A copy of a compensation answered before gets the answer again: OrderService asks
            // until it hears one, and the first may have been lost on its way.
            let answer_again = match (service, &event) {
                (
                    ServiceId::Payment,
                    DomainEvent::OrderCancelled(_) | DomainEvent::RefundPayment(_),
                ) => self.payment.answers_again(order_id),
                (
                    ServiceId::Inventory,
                    DomainEvent::OrderCancelled(_) | DomainEvent::ReleaseInventory(_),
                ) => self.inventory.answers_again(order_id),
                _ => Vec::new(),
            };
            let again = if answer_again.is_empty() {
                ""
            } else {
                "; its answer is sent again"
            };
            return Err(Rejection {
                reason: format!(
                    "duplicate ignored: {identity_topic} {id} was processed before{again}"
                ),
                kind: RejectionKind::Duplicate,
                answer_again,
            });
        }
        if let DomainEvent::OrderCreated(order) = &event {
            if order.customer_id == dead_letter::POISON_CUSTOMER {
                return Err(Rejection {
                    reason: format!(
                        "the handler failed: customer {:?} makes it fail every time (a poison \
                         message)",
                        dead_letter::POISON_CUSTOMER
                    ),
                    kind: RejectionKind::Failed,
                    answer_again: Vec::new(),
                });
            }
        }
        let outcome = match service {
            ServiceId::Order => self.order_on_event(now, event),
            ServiceId::Payment => {
                let charging = self
                    .has_work(|w| matches!(w, Work::Charge { order_id: o, .. } if *o == order_id));
                self.payment.on_event(&self.settings, now, event, charging)
            }
            ServiceId::Inventory => {
                let reserving = self
                    .has_work(|w| matches!(w, Work::Reserve { order_id: o, .. } if *o == order_id));
                self.inventory
                    .on_event(&self.settings, now, event, reserving)
            }
            ServiceId::Notification => self.notification.on_event(&event),
            // Handled above: the read side takes the store's events, not the domain's.
            ServiceId::Query => Ok(Vec::new()),
        };
        match &outcome {
            // Kept for when the order's creation arrives; not processed yet.
            Err(rejection) if rejection.kind == RejectionKind::Early => {
                let message = (event_topic, payload.to_vec());
                match self.early.get_mut(&(service, order_id)) {
                    Some(kept) => kept.push(message),
                    None => self.early.insert((service, order_id), vec![message]),
                }
                // Kept in the tab's database too ([`durable::Memo::early`]), OrderService's
                // as well as a participant's.
                self.touched.insert((service, order_id));
                return outcome;
            }
            // Not processed: dead-lettered, and its Retry (perhaps once the cause is fixed)
            // must not be taken for a duplicate.
            Err(rejection)
                if matches!(
                    rejection.kind,
                    RejectionKind::Unknown
                        | RejectionKind::Failed
                        | RejectionKind::Malformed
                        | RejectionKind::NotItsOwn
                ) => {}
            // Remembered once handled (a refusal counts as handled: it would be refused again),
            // whether the idempotent consumers are on or not: the setting decides what a copy
            // does, not what is remembered, so switching it on covers what was processed while
            // it was off (a newcomer's break-test: a copy of an order processed with it off,
            // published after it was switched on, was charged and reserved again).
            _ => {
                self.processed.insert(key, ());
                let (service, topic, id) = key;
                match self.processed_of.get_mut(&(service, order_id)) {
                    Some(ids) if !ids.contains(&(topic, id)) => ids.push((topic, id)),
                    Some(_) => {}
                    None => self
                        .processed_of
                        .insert((service, order_id), vec![(topic, id)]),
                }
                self.touch(service, order_id);
            }
        }
        // The order is known now: what arrived before it is handled, in the order it came.
        if let (Ok(mut commands), true) = (outcome.clone(), created) {
            if let Some(kept) = self.early.remove(&(service, order_id)) {
                self.touched.insert((service, order_id));
                for (topic, payload) in kept {
                    if let Ok(more) = self.handle_message(service, now, topic, &payload) {
                        commands.extend(more);
                    }
                }
            }
            return Ok(commands);
        }
        outcome
    }

    /// OrderService decides on `event` at `now`. The order's deadline, if it passed before `now`
    /// and has not acted yet, acts first: OrderService was away (crashed, or its timer late in a
    /// busy tab) when it passed, and a result it hears only afterwards came too late, however
    /// early it was made. Without this, which came first after a restart depended on whether the
    /// broker's queued results or the driver's timer were quicker (the newcomer's batch of ten,
    /// all completed though their deadline had passed while OrderService was down).
    fn order_on_event(
        &mut self,
        now: Timestamp,
        event: DomainEvent,
    ) -> Result<Vec<Command>, Rejection> {
        let deadline = Work::Deadline {
            order_id: event.order_id(),
        };
        let overdue = self
            .scheduled
            .iter()
            .any(|(due, work)| *work == deadline && *due <= now.unix_millis());
        let mut commands = Vec::new();
        if overdue {
            self.unschedule(&deadline);
            commands = self.order.deadline(&self.settings, event.order_id(), now);
        }
        match self.order.on_event(&self.settings, now, event) {
            Ok(more) => {
                commands.extend(more);
                Ok(commands)
            }
            // The deadline's cancellation is in the store and must go out. (Nothing refuses a
            // result for an order just cancelled, so this is a guard, not a path.)
            Err(_) if !commands.is_empty() => Ok(commands),
            Err(refusal) => Err(refusal),
        }
    }

    /// A scheduled `work` is due at `now`; `fresh_id` identifies what it produces (a payment or
    /// a reservation).
    pub fn complete(&mut self, work: Work, now: Timestamp, fresh_id: Uuid) -> Vec<Command> {
        self.unschedule(&work);
        let mut commands = self.complete_work(work, now, fresh_id);
        self.drop_running_checks(&mut commands);
        self.note_scheduled(now, &commands);
        self.note_unsent(&commands);
        self.apply_waiting_style();
        commands
    }

    fn complete_work(&mut self, work: Work, now: Timestamp, fresh_id: Uuid) -> Vec<Command> {
        match work {
            Work::Charge { order_id, amount } => {
                self.touch(ServiceId::Payment, order_id);
                let rule = self.settings.payment;
                self.payment.charge(&rule, order_id, amount, now, fresh_id)
            }
            Work::Reserve { order_id, items } => {
                self.touch(ServiceId::Inventory, order_id);
                self.inventory.reserve(order_id, &items, now, fresh_id)
            }
            Work::Deadline { order_id } => self.order.deadline(&self.settings, order_id, now),
            Work::Compensation {
                order_id,
                undo,
                sent,
            } => {
                // The copy before it still waits to go out, or went out less than a deadline
                // ago: the check looks again later, and sends nothing now.
                let settings = &self.settings;
                let style = self.order.saga(order_id).map(|saga| saga.style);
                let copy = style.and_then(|style| {
                    let topic = order::compensating_topic(style, undo);
                    self.on_wire.get(&(order_id, topic)).copied()
                });
                if let Some(after) = order::check_waits(copy, settings.saga_timeout, now) {
                    let work = Work::Compensation {
                        order_id,
                        undo,
                        sent,
                    };
                    return vec![Command::Schedule { after, work }];
                }
                self.order
                    .check_compensation(settings, order_id, undo, sent, now)
            }
            // A duplicate or an early event is only not applied: nothing to publish.
            Work::Project(event) => self.query.project(&event).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod durable_tests;
#[cfg(test)]
mod saga_tests;
#[cfg(test)]
mod tests;
