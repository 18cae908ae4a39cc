//! The events of the order flow and their JSON on the wire.
//!
//! ```
//! use eda_core::domain::events::DomainEvent;
//! use eda_core::domain::topics;
//!
//! let payload = br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6",
//!     "reservationId":"9de43f67-1234-5678-b9cd-4e567f89abc3","success":true,
//!     "reservedAt":"2024-01-15T10:30:00.800Z"}"#;
//! let event = DomainEvent::decode(topics::INVENTORY_RESERVED, payload).unwrap();
//! assert_eq!(event.topic(), topics::INVENTORY_RESERVED);
//! assert_eq!(DomainEvent::decode(event.topic(), &event.to_json()), Ok(event));
//! ```

mod decode;
mod payloads;
#[cfg(test)]
pub(crate) mod seed;

use uuid::Uuid;

pub use decode::EventError;
pub use payloads::{InventoryReserved, OrderCreated, OrderItem, PaymentProcessed};

use crate::domain::topics;

/// Any event of the flow, tagged by the topic it travels on.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    OrderCreated(OrderCreated),
    PaymentProcessed(PaymentProcessed),
    InventoryReserved(InventoryReserved),
}

impl DomainEvent {
    /// The topic this event is published on.
    pub fn topic(&self) -> &'static str {
        match self {
            DomainEvent::OrderCreated(_) => topics::ORDERS_CREATED,
            DomainEvent::PaymentProcessed(_) => topics::PAYMENTS_PROCESSED,
            DomainEvent::InventoryReserved(_) => topics::INVENTORY_RESERVED,
        }
    }

    /// The event's type name as the seed calls it, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::OrderCreated(_) => "OrderCreated",
            DomainEvent::PaymentProcessed(_) => "PaymentProcessed",
            DomainEvent::InventoryReserved(_) => "InventoryReserved",
        }
    }

    /// The order every event of the flow belongs to (the correlation id).
    pub fn order_id(&self) -> Uuid {
        match self {
            DomainEvent::OrderCreated(e) => e.order_id,
            DomainEvent::PaymentProcessed(e) => e.order_id,
            DomainEvent::InventoryReserved(e) => e.order_id,
        }
    }

    /// The payload to publish: compact JSON of the inner event, fields in the seed's order.
    pub fn to_json(&self) -> Vec<u8> {
        let written = match self {
            DomainEvent::OrderCreated(e) => serde_json::to_vec(e),
            DomainEvent::PaymentProcessed(e) => serde_json::to_vec(e),
            DomainEvent::InventoryReserved(e) => serde_json::to_vec(e),
        };
        // serde_json only fails on a failing writer (a Vec never does), a failing Serialize
        // impl (ours write plain strings, numbers and bools) or a non-string map key (none).
        written.expect("a domain event always serializes to JSON")
    }
}

impl From<OrderCreated> for DomainEvent {
    fn from(event: OrderCreated) -> Self {
        DomainEvent::OrderCreated(event)
    }
}

impl From<PaymentProcessed> for DomainEvent {
    fn from(event: PaymentProcessed) -> Self {
        DomainEvent::PaymentProcessed(event)
    }
}

impl From<InventoryReserved> for DomainEvent {
    fn from(event: InventoryReserved) -> Self {
        DomainEvent::InventoryReserved(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_events() -> [(&'static str, &'static str, DomainEvent); 3] {
        let order: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
        let payment: PaymentProcessed = serde_json::from_str(seed::PAYMENT_PROCESSED).unwrap();
        let stock: InventoryReserved = serde_json::from_str(seed::INVENTORY_RESERVED).unwrap();
        [
            (topics::ORDERS_CREATED, seed::ORDER_CREATED, order.into()),
            (
                topics::PAYMENTS_PROCESSED,
                seed::PAYMENT_PROCESSED,
                payment.into(),
            ),
            (
                topics::INVENTORY_RESERVED,
                seed::INVENTORY_RESERVED,
                stock.into(),
            ),
        ]
    }

    #[test]
    fn to_json_writes_the_seed_payload_byte_for_byte_without_layout() {
        for (_, literal, event) in seed_events() {
            let compact: String = literal.split_whitespace().collect();
            assert_eq!(String::from_utf8(event.to_json()).unwrap(), compact);
        }
    }

    #[test]
    fn to_json_reads_back_as_the_seed_value() {
        for (_, literal, event) in seed_events() {
            let written: serde_json::Value = serde_json::from_slice(&event.to_json()).unwrap();
            let expected: serde_json::Value = serde_json::from_str(literal).unwrap();
            assert_eq!(written, expected);
        }
    }

    #[test]
    fn each_event_knows_its_topic_name_and_order() {
        let names = ["OrderCreated", "PaymentProcessed", "InventoryReserved"];
        for ((topic, _, event), name) in seed_events().into_iter().zip(names) {
            assert_eq!(event.topic(), topic);
            assert_eq!(event.name(), name);
            assert_eq!(event.order_id().to_string(), seed::ORDER_ID);
        }
    }

    #[test]
    fn decoding_what_to_json_wrote_gives_the_event_back() {
        for (topic, _, event) in seed_events() {
            assert_eq!(DomainEvent::decode(topic, &event.to_json()), Ok(event));
        }
    }
}
