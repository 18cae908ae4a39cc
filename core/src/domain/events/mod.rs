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

pub(crate) mod decode;
mod payloads;
#[cfg(test)]
pub(crate) mod seed;
#[cfg(test)]
mod wire_contract;

use uuid::Uuid;

pub use decode::{article, EventError};
pub(crate) use decode::{check_total, in_words, with_hidden};
pub use payloads::{
    ChargePayment, InventoryReleased, InventoryReserved, OrderCancelled, OrderConfirmed,
    OrderCreated, OrderItem, PaymentProcessed, PaymentRefunded, RefundPayment, ReleaseInventory,
    ReserveInventory,
};

use crate::domain::topics;

/// Declares [`DomainEvent`] from one line per message: variant (= payload type) and topic.
macro_rules! messages {
    ($($(#[$doc:meta])* $variant:ident => $topic:path),+ $(,)?) => {
        /// Any message of the flow (an event, or under orchestration a command), tagged by the
        /// topic it travels on.
        #[derive(Debug, Clone, PartialEq)]
        pub enum DomainEvent {
            $($(#[$doc])* $variant($variant),)+
        }

        impl DomainEvent {
            /// The topic this message is published on.
            pub fn topic(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => $topic,)+
                }
            }

            /// The message's type name (the seed's, for its three), for logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => stringify!($variant),)+
                }
            }

            /// The order every message of the flow belongs to (the correlation id).
            pub fn order_id(&self) -> Uuid {
                match self {
                    $(DomainEvent::$variant(m) => m.order_id,)+
                }
            }

            /// The payload to publish: compact JSON of the inner message, fields in their
            /// declared order (the seed's, for its three).
            pub fn to_json(&self) -> Vec<u8> {
                let written = match self {
                    $(DomainEvent::$variant(m) => serde_json::to_vec(m),)+
                };
                // serde_json only fails on a failing writer (a Vec never does), a failing
                // Serialize impl (ours write plain strings, numbers and bools) or a non-string
                // map key (none).
                written.expect("a message of the flow always serializes to JSON")
            }

            /// Parses `text` as the message `topic` carries; `None` for a topic outside the flow.
            fn parse_for(topic: &str, text: &str) -> Option<Result<DomainEvent, EventError>> {
                match topic {
                    $($topic => Some(decode::parse(text, stringify!($variant)).map(DomainEvent::$variant)),)+
                    _ => None,
                }
            }
        }

        $(impl From<$variant> for DomainEvent {
            fn from(message: $variant) -> Self {
                DomainEvent::$variant(message)
            }
        })+
    };
}

messages! {
    /// The seed's: an order was placed.
    OrderCreated => topics::ORDERS_CREATED,
    /// The seed's: a charge succeeded or failed.
    PaymentProcessed => topics::PAYMENTS_PROCESSED,
    /// The seed's: a reservation succeeded or failed.
    InventoryReserved => topics::INVENTORY_RESERVED,
    /// The saga completed.
    OrderConfirmed => topics::ORDERS_CONFIRMED,
    /// The saga gave up.
    OrderCancelled => topics::ORDERS_CANCELLED,
    /// A compensation: stock given back.
    InventoryReleased => topics::INVENTORY_RELEASED,
    /// A compensation: a charge refunded.
    PaymentRefunded => topics::PAYMENTS_REFUNDED,
    /// Orchestration's command to InventoryService.
    ReserveInventory => topics::COMMAND_RESERVE_INVENTORY,
    /// Orchestration's command to PaymentService.
    ChargePayment => topics::COMMAND_CHARGE_PAYMENT,
    /// Orchestration's compensation command to InventoryService.
    ReleaseInventory => topics::COMMAND_RELEASE_INVENTORY,
    /// Orchestration's compensation command to PaymentService.
    RefundPayment => topics::COMMAND_REFUND_PAYMENT,
}

impl DomainEvent {
    /// What makes this message the same message when it arrives again, for an idempotent
    /// consumer: its topic and the id it carries that no other message on that topic carries
    /// (the seed's events have no event id of their own): the payment's id for a payment and
    /// its refund, the reservation's for a reservation and its release, and the order's for
    /// everything that happens to an order once (created, confirmed, cancelled, each command).
    /// A redelivery after a lost PUBACK is the same bytes, so the same identity; a second,
    /// genuine charge has a new payment id.
    pub fn identity(&self) -> (&'static str, Uuid) {
        let id = match self {
            // The nil id names no payment or reservation (a newcomer's break-test: two orders'
            // failures with the nil reservationId, and the second was ignored as a copy of the
            // first): the order's, as for a compensation before the step.
            DomainEvent::PaymentProcessed(m) if !m.payment_id.is_nil() => m.payment_id,
            // A compensation before the step names no payment or reservation: the order's.
            DomainEvent::PaymentRefunded(m) if !m.is_uncharged() => m.payment_id,
            DomainEvent::InventoryReserved(m) if !m.reservation_id.is_nil() => m.reservation_id,
            DomainEvent::InventoryReleased(m) if !m.is_unreserved() => m.reservation_id,
            other => other.order_id(),
        };
        (self.topic(), id)
    }

    /// Whether this message says a step failed or the order was cancelled.
    pub fn is_failure(&self) -> bool {
        match self {
            DomainEvent::PaymentProcessed(m) => !m.success,
            DomainEvent::InventoryReserved(m) => !m.success,
            DomainEvent::OrderCancelled(_) => true,
            _ => false,
        }
    }

    /// Whether this message is a compensation (a release or refund, or the command for one).
    pub fn is_compensation(&self) -> bool {
        topics::is_compensation(self.topic())
    }
}

/// The `orderId` a message's `payload` carries (the correlation id of the flow's messages,
/// [`DomainEvent::order_id`]), read without knowing the message's type: `Some` when the
/// payload is a JSON object whose `orderId` is a string spelling a UUID; `None` for bytes that
/// are not JSON, a JSON value that is not an object (an array is not read positionally), an
/// object without `orderId`, or an `orderId` that is not a UUID string. serde_json bounds the
/// nesting depth, so a hostile payload cannot overflow the stack.
pub(crate) fn order_id_in_payload(payload: &[u8]) -> Option<Uuid> {
    match serde_json::from_slice::<serde_json::Value>(payload).ok()? {
        serde_json::Value::Object(fields) => fields.get("orderId")?.as_str()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod order_id_tests {
    use super::*;

    #[test]
    fn the_order_id_is_read_from_a_json_object_s_order_id_and_from_nothing_else() {
        let id = Uuid::parse_str("3fa85f64-5717-4562-b3fc-2c963f66afa6").unwrap();
        assert_eq!(
            order_id_in_payload(br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","x":1}"#),
            Some(id)
        );
        for payload in [
            &br#"{"reservationId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}"#[..],
            br#"{"orderId":"order-42"}"#,
            br#"{"orderId":42}"#,
            br#"["3fa85f64-5717-4562-b3fc-2c963f66afa6"]"#,
            b"orderId=3fa85f64-5717-4562-b3fc-2c963f66afa6",
            b"\xff\xfe{",
            b"",
        ] {
            assert_eq!(
                order_id_in_payload(payload),
                None,
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
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
    fn every_topic_of_the_flow_carries_one_message_and_reads_back() {
        let now = crate::domain::Timestamp::parse("2024-01-15T10:30:01.000Z").unwrap();
        let id = Uuid::from_u128(9);
        let order_id: Uuid = seed::ORDER_ID.parse().unwrap();
        let order: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
        let messages: Vec<DomainEvent> = vec![
            order.clone().into(),
            OrderConfirmed {
                order_id,
                confirmed_at: now,
            }
            .into(),
            OrderCancelled {
                order_id,
                reason: "payment declined".into(),
                cancelled_at: now,
            }
            .into(),
            InventoryReleased {
                order_id,
                reservation_id: id,
                released_at: now,
            }
            .into(),
            PaymentRefunded {
                order_id,
                payment_id: id,
                amount: 59.98,
                refunded_at: now,
            }
            .into(),
            ReserveInventory {
                order_id,
                items: order.items.clone(),
                requested_at: now,
            }
            .into(),
            ChargePayment {
                order_id,
                customer_id: "C123".into(),
                amount: 59.98,
                requested_at: now,
            }
            .into(),
            ReleaseInventory {
                order_id,
                reason: "payment declined".into(),
                requested_at: now,
            }
            .into(),
            RefundPayment {
                order_id,
                reason: "payment timed out".into(),
                requested_at: now,
            }
            .into(),
        ];
        let mut topics_seen: Vec<&str> = messages.iter().map(DomainEvent::topic).collect();
        topics_seen.extend([topics::PAYMENTS_PROCESSED, topics::INVENTORY_RESERVED]);
        topics_seen.sort_unstable();
        let mut all = topics::ALL.to_vec();
        all.sort_unstable();
        assert_eq!(topics_seen, all, "one message per topic");
        for message in messages {
            assert_eq!(message.order_id(), order_id);
            let json = String::from_utf8(message.to_json()).unwrap();
            assert!(json.starts_with(r#"{"orderId":"3fa85f64"#), "{json}");
            assert!(!json.contains('_'), "camelCase: {json}");
            assert_eq!(
                DomainEvent::decode(message.topic(), json.as_bytes()),
                Ok(message)
            );
        }
    }

    #[test]
    fn a_failure_adds_success_false_and_a_reason_and_a_success_stays_the_seed_s() {
        let mut payment: PaymentProcessed = serde_json::from_str(seed::PAYMENT_PROCESSED).unwrap();
        let compact: String = seed::PAYMENT_PROCESSED.split_whitespace().collect();
        assert_eq!(
            String::from_utf8(DomainEvent::from(payment.clone()).to_json()).unwrap(),
            compact
        );
        payment.success = false;
        payment.reason = Some("payment declined".into());
        let failed = DomainEvent::from(payment);
        let json = String::from_utf8(failed.to_json()).unwrap();
        assert!(
            json.contains(r#""success":false,"reason":"payment declined","processedAt""#),
            "{json}"
        );
        assert!(failed.is_failure() && !failed.is_compensation());
    }

    #[test]
    fn decoding_what_to_json_wrote_gives_the_event_back() {
        for (topic, _, event) in seed_events() {
            assert_eq!(DomainEvent::decode(topic, &event.to_json()), Ok(event));
        }
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    /// A newcomer's break-test: two orders' reservation failures, both with the nil
    /// reservationId, and the second was ignored as "a second PUBLISH of the same event".
    #[test]
    fn results_with_the_nil_id_are_told_apart_by_their_order() {
        let failure = |order: u128| -> DomainEvent {
            InventoryReserved {
                order_id: Uuid::from_u128(order),
                reservation_id: Uuid::nil(),
                success: false,
                reason: Some("out of stock: P001 (2 asked, 0 left)".into()),
                reserved_at: crate::domain::Timestamp::parse("2024-01-15T10:30:00.000Z").unwrap(),
            }
            .into()
        };
        assert_ne!(failure(1).identity(), failure(2).identity());
        assert_eq!(failure(1).identity(), failure(1).identity());
    }
}
