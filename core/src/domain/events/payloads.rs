//! The payloads of the order flow. The seed's three (`OrderCreated`, `PaymentProcessed`,
//! `InventoryReserved`) are field for field (names and order) as its "Data Flow" section shows
//! them; a failure adds `"success": false` and a `reason`, and a success is byte for byte the
//! seed's. The saga's own (outcomes, compensations, orchestration commands) follow the same
//! style: camelCase, the order id first, an ISO time last. `docs/wire-contract/` has an example
//! of each.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::timestamp::Timestamp;

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub product_id: String,
    /// Units ordered: a whole number from 1 to 4294967295 on the wire (the form takes 1 to
    /// 10000). A value of another type or range is refused with a reason that names this range;
    /// 0 is refused by the event's checks (`decode`), naming the item.
    #[serde(deserialize_with = "quantity")]
    pub quantity: u32,
    /// Unit price in currency units (29.99), as the seed writes it.
    pub price: f64,
}

/// The words serde's error ends with for a quantity of the wrong type or range, so the dead
/// letter's reason names the range the playground accepts, not `u32`'s 0 to 4294967295 (a
/// newcomer's break-test, 35-M F5).
pub(crate) const QUANTITY_EXPECTED: &str = "a whole number of units from 1 to 4294967295";

fn quantity<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    struct Units;
    impl serde::de::Visitor<'_> for Units {
        type Value = u32;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str(QUANTITY_EXPECTED)
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<u32, E> {
            u32::try_from(value)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
        }
        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<u32, E> {
            u32::try_from(value)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
        }
    }
    deserializer.deserialize_u32(Units)
}

/// Published on `orders/created` when a customer places an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub order_id: Uuid,
    pub customer_id: String,
    pub items: Vec<OrderItem>,
    pub total_amount: f64,
    pub created_at: Timestamp,
}

/// Published on `payments/processed` once PaymentService has charged (or failed to charge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentProcessed {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub amount: f64,
    pub success: bool,
    /// Why the charge failed (`payment declined`); absent on success, as in the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub processed_at: Timestamp,
}

/// Published on `inventory/reserved` once InventoryService has reserved (or failed to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryReserved {
    pub order_id: Uuid,
    pub reservation_id: Uuid,
    pub success: bool,
    /// Why the reservation failed (`out of stock: P001 (2 asked, 1 left)`); absent on success,
    /// as in the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub reserved_at: Timestamp,
}

/// Published on `orders/confirmed` when every step of an order's saga succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderConfirmed {
    pub order_id: Uuid,
    pub confirmed_at: Timestamp,
}

/// Published on `orders/cancelled` when an order's saga gave up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub order_id: Uuid,
    /// In words: `payment declined`, `out of stock: P001 (2 asked, 1 left)`, `payment timed out`.
    pub reason: String,
    pub cancelled_at: Timestamp,
}

/// Published on `inventory/released` when the stock reserved for a cancelled order is given
/// back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryReleased {
    pub order_id: Uuid,
    /// The reservation released (its `inventory/reserved` carried the same id); the nil id
    /// when nothing was reserved ([`InventoryReleased::unreserved`]).
    pub reservation_id: Uuid,
    pub released_at: Timestamp,
}

impl InventoryReleased {
    /// A compensation before the step: InventoryService was asked to release `order_id` (the
    /// command, or `orders/cancelled`) and has never reserved for it, nor is reserving. Same
    /// shape as a release, with the nil `reservationId`, so that OrderService sees the
    /// compensation end; InventoryService then refuses a reservation for the order
    /// (`docs/wire-contract/inventory-released-unreserved.json`).
    pub fn unreserved(order_id: Uuid, released_at: Timestamp) -> Self {
        InventoryReleased {
            order_id,
            reservation_id: Uuid::nil(),
            released_at,
        }
    }

    /// Whether this is [`InventoryReleased::unreserved`]: nothing was held, nothing given back.
    pub fn is_unreserved(&self) -> bool {
        self.reservation_id.is_nil()
    }
}

/// Published on `payments/refunded` when the charge for a cancelled order is refunded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefunded {
    pub order_id: Uuid,
    /// The charge refunded (its `payments/processed` carried the same id); the nil id
    /// (`00000000-0000-0000-0000-000000000000`) when nothing was charged
    /// ([`PaymentRefunded::uncharged`]).
    pub payment_id: Uuid,
    pub amount: f64,
    pub refunded_at: Timestamp,
}

impl PaymentRefunded {
    /// A compensation before the step: PaymentService was asked to refund `order_id` (the
    /// command, or `orders/cancelled`) and has never charged it, nor is charging it. Same shape
    /// as a refund, with the nil `paymentId` and an `amount` of 0, so that OrderService sees the
    /// compensation end; PaymentService then refuses a charge for the order
    /// (`docs/wire-contract/payment-refunded-uncharged.json`).
    pub fn uncharged(order_id: Uuid, refunded_at: Timestamp) -> Self {
        PaymentRefunded {
            order_id,
            payment_id: Uuid::nil(),
            amount: 0.0,
            refunded_at,
        }
    }

    /// Whether this is [`PaymentRefunded::uncharged`]: nothing was charged, nothing returned.
    pub fn is_uncharged(&self) -> bool {
        self.payment_id.is_nil()
    }
}

/// Orchestration, on `commands/inventory/reserve`: reserve these items for the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveInventory {
    pub order_id: Uuid,
    pub items: Vec<OrderItem>,
    pub requested_at: Timestamp,
}

/// Orchestration, on `commands/payment/charge`: charge the order's total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargePayment {
    pub order_id: Uuid,
    pub customer_id: String,
    pub amount: f64,
    pub requested_at: Timestamp,
}

/// Orchestration, on `commands/inventory/release`: give back what was reserved for the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseInventory {
    pub order_id: Uuid,
    /// Why the order was cancelled.
    pub reason: String,
    pub requested_at: Timestamp,
}

/// Orchestration, on `commands/payment/refund`: refund what was charged for the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPayment {
    pub order_id: Uuid,
    /// Why the order was cancelled.
    pub reason: String,
    pub requested_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use super::*;
    use crate::domain::events::seed;

    /// The seed's pretty JSON without layout: its strings hold no whitespace.
    fn compact(pretty: &str) -> String {
        pretty.split_whitespace().collect()
    }

    fn round_trip<T: Serialize + DeserializeOwned>(literal: &str) {
        let parsed: T = serde_json::from_str(literal).unwrap();
        let written = serde_json::to_string(&parsed).unwrap();
        let expected: Value = serde_json::from_str(literal).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), expected);
        // Value comparison ignores key order; the byte comparison does not.
        assert_eq!(written, compact(literal));
    }

    #[test]
    fn order_created_round_trips_the_seed_literal() {
        round_trip::<OrderCreated>(seed::ORDER_CREATED);
    }

    #[test]
    fn payment_processed_round_trips_the_seed_literal() {
        round_trip::<PaymentProcessed>(seed::PAYMENT_PROCESSED);
    }

    #[test]
    fn inventory_reserved_round_trips_the_seed_literal() {
        round_trip::<InventoryReserved>(seed::INVENTORY_RESERVED);
    }

    #[test]
    fn seed_order_reads_into_the_expected_values() {
        let order: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
        assert_eq!(order.order_id.to_string(), seed::ORDER_ID);
        assert_eq!(order.customer_id, "C123");
        assert_eq!(
            order.items,
            [OrderItem {
                product_id: "P001".into(),
                quantity: 2,
                price: 29.99
            }]
        );
        assert_eq!(order.total_amount, 59.98);
        assert_eq!(order.created_at.unix_millis(), 1_705_314_600_000);
    }

    #[test]
    fn field_names_are_camel_case_as_in_the_seed() {
        let keys = |literal: &str| -> Vec<String> {
            let Value::Object(map) = serde_json::from_str(literal).unwrap() else {
                panic!("seed payload is an object")
            };
            map.keys().cloned().collect()
        };
        let order: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
        let written = serde_json::to_string(&order).unwrap();
        assert_eq!(keys(&written), keys(seed::ORDER_CREATED));
        for name in [
            "\"orderId\"",
            "\"customerId\"",
            "\"productId\"",
            "\"totalAmount\"",
        ] {
            assert!(written.contains(name), "{name} missing from {written}");
        }
        assert!(!written.contains('_'), "snake_case leaked into {written}");
    }

    #[test]
    fn accepts_a_timestamp_without_fraction_as_the_seed_diagram_writes_it() {
        let diagram = seed::ORDER_CREATED.replace("10:30:00.000Z", "10:30:00Z");
        let order: OrderCreated = serde_json::from_str(&diagram).unwrap();
        let written = serde_json::to_string(&order).unwrap();
        assert!(
            written.contains(r#""createdAt":"2024-01-15T10:30:00.000Z""#),
            "{written}"
        );
    }
}
