//! The MQTT topics of the order flow: the only place these strings live. Each is documented,
//! with an example payload, in `docs/wire-contract/`.
//!
//! The seed's three topics carry the happy path; the saga adds the order's outcome, the
//! compensations, and (under orchestration) the commands OrderService sends.

/// Published by OrderService when an order is placed (the seed's `OrderCreated`).
pub const ORDERS_CREATED: &str = "orders/created";

/// Published by PaymentService once it has charged, or failed to charge (the seed's
/// `PaymentProcessed`, `success: false` with a `reason` on failure).
pub const PAYMENTS_PROCESSED: &str = "payments/processed";

/// Published by InventoryService once it has reserved, or failed to reserve (the seed's
/// `InventoryReserved`, `success: false` with a `reason` on failure).
pub const INVENTORY_RESERVED: &str = "inventory/reserved";

/// Published by OrderService when an order's saga completes: every step succeeded.
pub const ORDERS_CONFIRMED: &str = "orders/confirmed";

/// Published by OrderService when an order's saga gives up, with the reason.
pub const ORDERS_CANCELLED: &str = "orders/cancelled";

/// Published by InventoryService when it gives back the stock it reserved for a cancelled order
/// (a compensation).
pub const INVENTORY_RELEASED: &str = "inventory/released";

/// Published by PaymentService when it refunds a charge for a cancelled order (a
/// compensation).
pub const PAYMENTS_REFUNDED: &str = "payments/refunded";

/// Orchestration: OrderService asks InventoryService to reserve an order's items.
pub const COMMAND_RESERVE_INVENTORY: &str = "commands/inventory/reserve";

/// Orchestration: OrderService asks PaymentService to charge an order.
pub const COMMAND_CHARGE_PAYMENT: &str = "commands/payment/charge";

/// Orchestration: OrderService asks InventoryService to release a reservation (a compensation).
pub const COMMAND_RELEASE_INVENTORY: &str = "commands/inventory/release";

/// Orchestration: OrderService asks PaymentService to refund a charge (a compensation).
pub const COMMAND_REFUND_PAYMENT: &str = "commands/payment/refund";

/// Retained, outside the saga: InventoryService's units on hand of one counted product, on
/// `inventory/stock/<productId>` (see [`crate::services::stock_levels`]). This is the prefix.
pub const INVENTORY_STOCK_PREFIX: &str = "inventory/stock/";

/// Every product's level: what a late joiner subscribes to.
pub const INVENTORY_STOCK_FILTER: &str = "inventory/stock/+";

/// The seed's three topics, in the order a placed order travels them. Each names a QoS
/// family: every other topic travels at the QoS of one of these (see [`qos_family`]).
pub const SEED: [&str; 3] = [ORDERS_CREATED, PAYMENTS_PROCESSED, INVENTORY_RESERVED];

/// Every topic of the flow.
pub const ALL: [&str; 11] = [
    ORDERS_CREATED,
    PAYMENTS_PROCESSED,
    INVENTORY_RESERVED,
    ORDERS_CONFIRMED,
    ORDERS_CANCELLED,
    INVENTORY_RELEASED,
    PAYMENTS_REFUNDED,
    COMMAND_RESERVE_INVENTORY,
    COMMAND_CHARGE_PAYMENT,
    COMMAND_RELEASE_INVENTORY,
    COMMAND_REFUND_PAYMENT,
];

/// The seed topic whose QoS `topic` travels at: `orders/…` at `orders/created`'s,
/// `payments/…` and `commands/payment/…` at `payments/processed`'s, `inventory/…` and
/// `commands/inventory/…` at `inventory/reserved`'s. `None` for a topic outside the flow.
pub fn qos_family(topic: &str) -> Option<&'static str> {
    let family = topic.strip_prefix("commands/").unwrap_or(topic);
    match family.split('/').next()? {
        "orders" => Some(ORDERS_CREATED),
        "payments" | "payment" => Some(PAYMENTS_PROCESSED),
        "inventory" => Some(INVENTORY_RESERVED),
        _ => None,
    }
}

/// Whether `topic` carries a compensation: a release or refund, or the command asking for one.
pub fn is_compensation(topic: &str) -> bool {
    matches!(
        topic,
        INVENTORY_RELEASED | PAYMENTS_REFUNDED | COMMAND_RELEASE_INVENTORY | COMMAND_REFUND_PAYMENT
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_has_a_qos_family_among_the_seed_s() {
        for topic in ALL {
            let family = qos_family(topic).unwrap_or_else(|| panic!("{topic}"));
            assert!(SEED.contains(&family), "{topic}");
            assert_eq!(
                topic.trim_start_matches("commands/")[..3],
                family[..3],
                "{topic}"
            );
        }
        assert_eq!(qos_family("telemetry/x"), None);
        assert_eq!(qos_family(""), None);
    }

    #[test]
    fn compensations_are_the_releases_and_refunds() {
        let compensations: Vec<_> = ALL.into_iter().filter(|t| is_compensation(t)).collect();
        assert_eq!(
            compensations,
            [
                INVENTORY_RELEASED,
                PAYMENTS_REFUNDED,
                COMMAND_RELEASE_INVENTORY,
                COMMAND_REFUND_PAYMENT
            ]
        );
    }
}
