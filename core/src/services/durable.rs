//! The participants' memory as rows the tab's database keeps, so that it survives a reload as
//! the effects it records do (decision 0021).
//!
//! An idempotent consumer's record of what it processed, and a participant's record of what it
//! must be able to undo, are as durable as the charge or the reservation: a PaymentService that
//! forgot them charges a redelivered `orders/created` again and answers a refund with "nothing
//! was charged". So [`super::Flow`] notes each order whose participant memory changed, and
//! [`super::Flow::take_changed`] hands the driver one [`Memo`] per service and order (and
//! InventoryService's stock when it changed) to write; [`super::Flow::restore_memos`] takes
//! them back after a reload, before any message is handled.
//!
//! A memo is stored as JSON under [`Memo::key`] (`payment/<orderId>`, `inventory/<orderId>`,
//! `notification/<orderId>`), the stock under [`STOCK_KEY`]:
//!
//! ```
//! use eda_core::services::durable::Memo;
//! let json = r#"{"v":1,"service":"payment","orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6",
//!   "processed":[["orders/created","3fa85f64-5717-4562-b3fc-2c963f66afa6"]],
//!   "payment":{"charges":[{"paymentId":"6fa85f64-5717-4562-b3fc-2c963f66afa6","amount":59.98}]}}"#;
//! let memo = Memo::from_stored(json).unwrap();
//! assert_eq!(memo.key(), "payment/3fa85f64-5717-4562-b3fc-2c963f66afa6");
//! ```
//!
//! A row written by another version of the page (another `v`, another shape) is left out:
//! [`Memo::from_stored`] answers `None`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ServiceId, Stock};
use crate::domain::timestamp::Timestamp;
use crate::domain::topics;

/// The version of the memo's shape this page writes and reads (`"v"`).
pub const MEMO_VERSION: u32 = 1;

/// The key of InventoryService's stock row: `inventory/stock`.
pub const STOCK_KEY: &str = "inventory/stock";

/// What one participant (`service`) remembers of one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memo {
    /// [`MEMO_VERSION`].
    pub v: u32,
    /// The service's slug: `payment`, `inventory`, `notification`, or `order` (OrderService's
    /// [`Memo::early`] only: its own state is the event store).
    pub service: String,
    pub order_id: Uuid,
    /// The identities (topic, id) of the messages about the order the service processed (its
    /// idempotent consumer's record; [`crate::domain::DomainEvent::identity`]).
    #[serde(default)]
    pub processed: Vec<(String, Uuid)>,
    /// PaymentService's part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentMemo>,
    /// InventoryService's part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryMemo>,
    /// NotificationService's part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<NotificationMemo>,
    /// Messages about the order that came before its creation, kept to be handled when it
    /// arrives ([`super::RejectionKind::Early`]), in the order they came. OrderService
    /// acknowledges such a message to the broker only once this is committed, so a reload
    /// keeps it (a newcomer's break-test, 33-H F3: the early results were lost with the page,
    /// and the order, charged and reserved, was cancelled at its deadline).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub early: Vec<EarlyMemo>,
    /// Made by [`Memo::unreadable`] for a row this version could not read: not written back.
    #[serde(skip)]
    pub unreadable: bool,
}

/// A message kept until its order's creation arrives ([`Memo::early`]): its topic (one of the
/// flow's, without the page's namespace) and its payload as received (JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyMemo {
    pub topic: String,
    pub payload: String,
}

/// What NotificationService told the customer of an order, to refuse what contradicts it
/// ([`super::notification::NotificationService::on_event`]): whether it told the order
/// confirmed, and the charges it told of (their `refundedAt` is never set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NotificationMemo {
    pub confirmed: bool,
    pub charges: Vec<ChargeMemo>,
}

/// What PaymentService remembers of an order: its total, its charges, and how its saga stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentMemo {
    /// The order's total (currency units), kept until the reservation starts the charge
    /// (choreography).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    pub charges: Vec<ChargeMemo>,
    pub saga: SagaMemo,
}

/// One charge: its id, amount (currency units) and when it was refunded (Unix ms; `None`: not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeMemo {
    pub payment_id: Uuid,
    pub amount: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<i64>,
}

/// What InventoryService remembers of an order: its reservations, and how its saga stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InventoryMemo {
    pub held: Vec<HeldMemo>,
    pub saga: SagaMemo,
    /// Asked to reserve by command (orchestration): no outcome comes, so its units are taken,
    /// not held.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub commanded: bool,
}

/// How a participant's part of an order's saga stands ([`super::memory::SagaStanding`]): the
/// order seen cancelled, seen confirmed, its step failed (or will not start), and when it was
/// compensated before the step (Unix ms), if it was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SagaMemo {
    pub cancelled: bool,
    pub confirmed: bool,
    pub failed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensated_early_at: Option<i64>,
}

/// One reservation: its id, the units it took per counted product, and when it was released
/// (Unix ms; `None`: still held).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldMemo {
    pub reservation_id: Uuid,
    pub taken: BTreeMap<String, u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<i64>,
}

impl Memo {
    /// The row's key: `<service slug>/<orderId>`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.service, self.order_id)
    }

    /// The row's text (JSON).
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("a memo always serializes to JSON")
    }

    /// The memo read back from its row's text; `None` for a row this version of the page did
    /// not write (another `v`, another shape, an unknown service).
    pub fn from_stored(json: &str) -> Option<Memo> {
        let memo: Memo = serde_json::from_str(json).ok()?;
        (memo.v == MEMO_VERSION && memo.service_id().is_some()).then_some(memo)
    }

    /// For a row keyed `key` (`payment/<orderId>`, [`Memo::key`]) whose text this version of the
    /// page cannot read (another `v`, another shape): a memo that records only that the service
    /// processed the order's creation and its command, so a redelivery of them is ignored
    /// rather than charged or reserved a second time (a newcomer's break-test, 36-Q F3: a
    /// PaymentService row of another version was dropped without a word, and the republished
    /// order was charged twice, never refunded). What the service did for the order is not
    /// known: [`Restored::lines`] says so. `None` for a key that names no participant and order.
    pub fn unreadable(key: &str) -> Option<Memo> {
        let (service, order) = key.split_once('/')?;
        let order_id: Uuid = order.parse().ok()?;
        let mut memo: Memo = serde_json::from_value(serde_json::json!({
            "v": MEMO_VERSION,
            "service": service,
            "orderId": order_id,
        }))
        .ok()?;
        memo.service_id()?;
        memo.processed = [
            topics::ORDERS_CREATED,
            topics::COMMAND_CHARGE_PAYMENT,
            topics::COMMAND_RESERVE_INVENTORY,
        ]
        .map(|topic| (topic.to_owned(), order_id))
        .to_vec();
        memo.unreadable = true;
        Some(memo)
    }

    /// The participant the memo is of.
    pub fn service_id(&self) -> Option<ServiceId> {
        [
            ServiceId::Payment,
            ServiceId::Inventory,
            ServiceId::Notification,
            ServiceId::Order,
        ]
        .into_iter()
        .find(|s| s.slug() == self.service)
    }
}

/// The stock row's text: `{"v":1,"levels":{"P001":8}}`.
pub fn stock_to_stored(stock: &Stock) -> String {
    serde_json::json!({ "v": MEMO_VERSION, "levels": stock.0 }).to_string()
}

/// The stock read back from its row's text; `None` for a row another version wrote.
pub fn stock_from_stored(json: &str) -> Option<Stock> {
    #[derive(Deserialize)]
    struct Row {
        v: u32,
        levels: BTreeMap<String, u32>,
    }
    let row: Row = serde_json::from_str(json).ok()?;
    (row.v == MEMO_VERSION).then_some(Stock(row.levels))
}

/// The topic constant named `topic`, for an identity read back (the processed record keys
/// topics as `&'static str`); `None` for a topic the page does not know.
pub(super) fn known_topic(topic: &str) -> Option<&'static str> {
    topics::ALL.into_iter().find(|t| *t == topic)
}

/// A time read back (Unix ms); `None` if out of range.
pub(super) fn time_of(ms: Option<i64>) -> Option<Timestamp> {
    Timestamp::from_unix_millis(ms?).ok()
}

/// How many memos (one per participant and order) the tab's database keeps by default:
/// 3 × [`super::memory::ORDERS_REMEMBERED`] (30,000), as many as the core keeps lists of
/// processed ids for (one per participant and order, the three participants together).
pub const MEMOS_KEPT: usize = 3 * super::memory::ORDERS_REMEMBERED;

/// What the participants' memos changed since the last [`super::Flow::take_changed`]: each
/// memo to write, the stock if it changed, and the keys of the rows to delete.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changed {
    pub memos: Vec<Memo>,
    pub stock: Option<Stock>,
    /// The keys ([`Memo::key`]) of memos the core no longer keeps: the oldest, pushed out by
    /// newer ones past the bound ([`MEMOS_KEPT`], [`super::Flow::keeping_memos`]), or read back
    /// past it. Deleted after the writes, so the database never holds more rows than the core
    /// keeps memos, and a reload never brings back what the live page had forgotten.
    pub forgotten: Vec<String>,
}

impl Changed {
    /// Whether there is nothing to write or delete.
    pub fn is_empty(&self) -> bool {
        self.memos.is_empty() && self.stock.is_none() && self.forgotten.is_empty()
    }
}

/// What [`super::Flow::restore_memos`] took back, per participant, for its log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Charges not refunded.
    pub charges: usize,
    /// Open reservations: not released, of orders neither confirmed nor reserved by command
    /// (as [`super::InventoryService::held`] counts them; README "Held means open").
    pub reservations: usize,
    /// Orders with a message processed, per service.
    pub processed: BTreeMap<ServiceId, usize>,
    /// Whether the stock was taken from the database.
    pub stock: bool,
    /// Messages kept until their order's creation arrives ([`Memo::early`]), per service.
    pub early: BTreeMap<ServiceId, usize>,
    /// Rows this version could not read ([`Memo::unreadable`]), per service: their orders'.
    pub unreadable: BTreeMap<ServiceId, Vec<Uuid>>,
    /// Orders whose step's message PaymentService or InventoryService had processed with no
    /// result kept: the charge or reservation was under way at the reload, and died with the
    /// page, per service.
    pub died: BTreeMap<ServiceId, usize>,
}

impl Restored {
    /// One line for each participant's log that restored anything, e.g. `(Payment, "restored
    /// from the tab's database after a reload: 3 charges, 12 orders processed")` (the charges
    /// not refunded, the open reservations).
    pub fn lines(&self) -> Vec<(ServiceId, String)> {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let processed = |s| self.processed.get(&s).copied().unwrap_or(0);
        let mut lines = Vec::new();
        let head = "restored from the tab's database after a reload:";
        // "; the charge of 3 of them was under way …": work in hand dies with the page.
        let died = |service, step: &str, done: &str| match self.died.get(&service) {
            Some(&n) if n > 0 => format!(
                "; the {step} of {} was under way at the reload and died with the page, as in a \
                 crash (nothing {done}: a copy of the order that comes again is {done}, not taken \
                 for a duplicate)",
                if n == 1 {
                    "1 of them".to_owned()
                } else {
                    format!("{n} of them")
                }
            ),
            _ => String::new(),
        };
        if processed(ServiceId::Payment) > 0 || self.charges > 0 {
            lines.push((
                ServiceId::Payment,
                format!(
                    "{head} {}, {} processed{}",
                    plural(self.charges, "charge", "charges"),
                    plural(processed(ServiceId::Payment), "order", "orders"),
                    died(ServiceId::Payment, "charge", "charged")
                ),
            ));
        }
        if processed(ServiceId::Inventory) > 0 || self.reservations > 0 || self.stock {
            lines.push((
                ServiceId::Inventory,
                format!(
                    "{head} {}, {} processed{}{}",
                    plural(self.reservations, "open reservation", "open reservations"),
                    plural(processed(ServiceId::Inventory), "order", "orders"),
                    died(ServiceId::Inventory, "reservation", "reserved"),
                    if self.stock {
                        "; the stock levels are the database's (and stated again, retained)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if processed(ServiceId::Notification) > 0 {
            lines.push((
                ServiceId::Notification,
                format!(
                    "{head} {} processed (no email is sent twice)",
                    plural(processed(ServiceId::Notification), "order", "orders")
                ),
            ));
        }
        for (service, orders) in &self.unreadable {
            let first = orders.first().map(Uuid::to_string).unwrap_or_default();
            let more = match orders.len() {
                0 | 1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            lines.push((
                *service,
                format!(
                    "{head} {} of its memory could not be read (written by another version of the \
                     playground?), of order {first}{more}: a redelivery of {} is ignored, but what \
                     it did for {} is not known (a cancellation would find nothing to undo)",
                    plural(orders.len(), "row", "rows"),
                    if orders.len() == 1 {
                        "that order"
                    } else {
                        "those orders"
                    },
                    if orders.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
        for (&service, &n) in &self.early {
            lines.push((
                service,
                format!(
                    "{head} {} kept until {} order's creation arrives",
                    plural(n, "message", "messages"),
                    if n == 1 { "its" } else { "their" }
                ),
            ));
        }
        lines
    }
}
