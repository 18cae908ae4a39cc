//! What an order's stream holds: its creation, then the aggregate's own events, unchanged. Each
//! has a `type` name and a `data` object in the stored JSON (camelCase, as on the wire).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::events::{check_total, OrderCreated, OrderItem};
use crate::domain::money::amount_cents;
use crate::domain::order::OrderEvent;
use crate::services::SagaStyle;

/// One event of an order's stream (source document 004's `DomainEvent`s, as its
/// `PostgresEventStore` saves them). The first event of every stream is [`StreamEvent::Created`],
/// and only the first; the rest are the aggregate's [`OrderEvent`]s.
///
/// | `type` | `data` |
/// |---|---|
/// | `OrderCreated` | `{"customerId":"C123","items":[{"productId":"P001","quantity":2,"price":29.99}],"totalAmount":59.98,"saga":"parallel"}` (`saga` when known) |
/// | `InventoryConfirmed`, `InventoryReleased` | `{"reservationId":"<uuid>"}` |
/// | `PaymentConfirmed`, `PaymentRefunded` | `{"paymentId":"<uuid>","amount":59.98}` |
/// | `PaymentFailed` | `{"paymentId":"<uuid>","reason":"payment declined"}` (schema 3; schema 2 kept no `paymentId`) |
/// | `InventoryFailed`, `OrderCancelled` | `{"reason":"payment declined"}` |
/// | `OrderCompleted` | `{}` |
///
/// Amounts are in currency units, as the wire carries them (see [`crate::domain::money`]).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The order was placed: the seed's `OrderCreated` without its id (the stream's) and time
    /// (the stored event's `recordedAt`).
    Created {
        /// Who ordered (the seed's `customerId`).
        customer_id: String,
        /// The order's lines (empty for an order recorded in schema 1).
        items: Vec<OrderItem>,
        /// The total in currency units (59.98).
        total_amount: f64,
        /// The coordination its saga started under (`"saga":"orchestration"`), so that a
        /// reload resumes it under that style, whatever the link's (a newcomer's break-test,
        /// 35-N F4: orchestrated sagas that had ended were asked for a refund again after a
        /// reload into the default style). `None` for an order stored before it was kept, or
        /// from a `orders/created` of another page: the page's style then.
        saga: Option<SagaStyle>,
    },
    /// What happened to the order afterwards.
    Order(OrderEvent),
}

/// Every `type` name a stream holds, in the order an order usually lives them.
pub const EVENT_TYPES: [&str; 9] = [
    "OrderCreated",
    "InventoryConfirmed",
    "InventoryFailed",
    "PaymentConfirmed",
    "PaymentFailed",
    "OrderCompleted",
    "OrderCancelled",
    "InventoryReleased",
    "PaymentRefunded",
];

impl StreamEvent {
    /// The event's `type` name in the stored JSON: one of [`EVENT_TYPES`].
    pub fn type_name(&self) -> &'static str {
        match self {
            StreamEvent::Created { .. } => "OrderCreated",
            StreamEvent::Order(event) => match event {
                OrderEvent::InventoryConfirmed { .. } => "InventoryConfirmed",
                OrderEvent::InventoryFailed { .. } => "InventoryFailed",
                OrderEvent::PaymentConfirmed { .. } => "PaymentConfirmed",
                OrderEvent::PaymentFailed { .. } => "PaymentFailed",
                OrderEvent::Completed => "OrderCompleted",
                OrderEvent::Cancelled { .. } => "OrderCancelled",
                OrderEvent::InventoryReleased { .. } => "InventoryReleased",
                OrderEvent::PaymentRefunded { .. } => "PaymentRefunded",
            },
        }
    }

    /// Whether the order's life ends here (`OrderCompleted` or `OrderCancelled`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            StreamEvent::Order(OrderEvent::Completed | OrderEvent::Cancelled { .. })
        )
    }

    /// The `data` object of the stored JSON, as compact text (`{"reason":"payment declined"}`),
    /// for a view that shows an event's body.
    pub fn data_json(&self) -> String {
        serde_json::to_string(&self.data()).unwrap_or_default()
    }

    /// The `data` object of the stored JSON.
    pub(super) fn data(&self) -> Data {
        match self.clone() {
            StreamEvent::Created {
                customer_id,
                items,
                total_amount,
                saga,
            } => Data::Created(CreatedData {
                customer_id,
                items,
                total_amount,
                saga,
            }),
            StreamEvent::Order(event) => match event {
                OrderEvent::InventoryConfirmed { reservation_id }
                | OrderEvent::InventoryReleased { reservation_id } => {
                    Data::Reservation(ReservationData { reservation_id })
                }
                OrderEvent::PaymentConfirmed { payment_id, amount }
                | OrderEvent::PaymentRefunded { payment_id, amount } => {
                    Data::Payment(PaymentData { payment_id, amount })
                }
                OrderEvent::PaymentFailed { payment_id, reason } => {
                    Data::Decline(DeclineData { payment_id, reason })
                }
                OrderEvent::InventoryFailed { reason } | OrderEvent::Cancelled { reason } => {
                    Data::Reason(ReasonData { reason })
                }
                OrderEvent::Completed => Data::Nothing(NoData {}),
            },
        }
    }

    /// The event named `type_name` from its `data` (already in the current schema); `None` for
    /// a name outside [`EVENT_TYPES`], else serde_json's words for what is wrong with `data`.
    pub(super) fn from_data(type_name: &str, data: Value) -> Option<Result<StreamEvent, String>> {
        fn read<T: serde::de::DeserializeOwned>(data: Value) -> Result<T, String> {
            serde_json::from_value(data).map_err(|e| e.to_string())
        }
        use OrderEvent as E;
        let event = match type_name {
            "OrderCreated" => read::<CreatedData>(data).map(|d| StreamEvent::Created {
                customer_id: d.customer_id,
                items: d.items,
                total_amount: d.total_amount,
                saga: d.saga,
            }),
            "InventoryConfirmed" => read::<ReservationData>(data).map(|d| {
                StreamEvent::Order(E::InventoryConfirmed {
                    reservation_id: d.reservation_id,
                })
            }),
            "InventoryReleased" => read::<ReservationData>(data).map(|d| {
                StreamEvent::Order(E::InventoryReleased {
                    reservation_id: d.reservation_id,
                })
            }),
            "PaymentConfirmed" => read::<PaymentData>(data).map(|d| {
                StreamEvent::Order(E::PaymentConfirmed {
                    payment_id: d.payment_id,
                    amount: d.amount,
                })
            }),
            "PaymentRefunded" => read::<PaymentData>(data).map(|d| {
                StreamEvent::Order(E::PaymentRefunded {
                    payment_id: d.payment_id,
                    amount: d.amount,
                })
            }),
            "InventoryFailed" => read::<ReasonData>(data)
                .map(|d| StreamEvent::Order(E::InventoryFailed { reason: d.reason })),
            "PaymentFailed" => read::<DeclineData>(data).map(|d| {
                StreamEvent::Order(E::PaymentFailed {
                    payment_id: d.payment_id,
                    reason: d.reason,
                })
            }),
            "OrderCancelled" => read::<ReasonData>(data)
                .map(|d| StreamEvent::Order(E::Cancelled { reason: d.reason })),
            "OrderCompleted" => read::<NoData>(data).map(|_| StreamEvent::Order(E::Completed)),
            _ => return None,
        };
        Some(event)
    }

    /// What no order can hold, naming the `data` field at fault: a negative, infinite or NaN
    /// amount, one beyond [`MAX_EXACT_CENTS`](crate::domain::money::MAX_EXACT_CENTS) (no double
    /// counts it to the cent) or not a whole number of cents, a total that is not its items'
    /// sum (when the event has items), an empty customer, an item of quantity 0, an empty reason.
    pub(super) fn check(&self) -> Result<(), String> {
        fn amount(field: &str, value: f64) -> Result<(), String> {
            amount_cents(field, value).map(drop)
        }
        match self {
            StreamEvent::Created {
                customer_id,
                items,
                total_amount,
                ..
            } => {
                if customer_id.trim().is_empty() {
                    return Err("`customerId` is empty".into());
                }
                for (index, item) in items.iter().enumerate() {
                    if item.quantity == 0 {
                        return Err(format!(
                            "`items[{index}].quantity` is 0; it must be at least 1"
                        ));
                    }
                    amount(&format!("items[{index}].price"), item.price)?;
                }
                amount("totalAmount", *total_amount)?;
                // Schema 1 kept no items, only the total: nothing to add up.
                if items.is_empty() {
                    return Ok(());
                }
                check_total(items, *total_amount)
            }
            StreamEvent::Order(
                OrderEvent::PaymentConfirmed { amount: a, .. }
                | OrderEvent::PaymentRefunded { amount: a, .. },
            ) => amount("amount", *a),
            StreamEvent::Order(
                OrderEvent::InventoryFailed { reason }
                | OrderEvent::PaymentFailed { reason, .. }
                | OrderEvent::Cancelled { reason },
            ) if reason.trim().is_empty() => Err("`reason` is empty; it says why".into()),
            StreamEvent::Order(_) => Ok(()),
        }
    }
}

impl From<OrderCreated> for StreamEvent {
    /// The stream's first event from the order's `orders/created` message (its id is the
    /// stream's, its `createdAt` is not kept: the stored event's `recordedAt` is the store's).
    fn from(order: OrderCreated) -> Self {
        StreamEvent::Created {
            customer_id: order.customer_id,
            items: order.items,
            total_amount: order.total_amount,
            saga: None,
        }
    }
}

impl From<OrderEvent> for StreamEvent {
    fn from(event: OrderEvent) -> Self {
        StreamEvent::Order(event)
    }
}

/// The `data` object of each kind of event, written in the order the table above shows.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum Data {
    Created(CreatedData),
    Reservation(ReservationData),
    Payment(PaymentData),
    Decline(DeclineData),
    Reason(ReasonData),
    Nothing(NoData),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreatedData {
    customer_id: String,
    items: Vec<OrderItem>,
    total_amount: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    saga: Option<SagaStyle>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReservationData {
    reservation_id: Uuid,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PaymentData {
    payment_id: Uuid,
    amount: f64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeclineData {
    payment_id: Uuid,
    reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ReasonData {
    reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct NoData {}
