//! The four services of the order flow as pure decisions: a message in, commands out.
//!
//! A driver gives each service its own MQTT client and runs the commands: it publishes
//! [`Command::Publish`], shows [`Command::Notify`], and for [`Command::Schedule`] arms a timer
//! that later calls [`complete`] with the time it fired and a fresh id. Time and ids are inputs,
//! so a whole order can be played through in a test without waiting.
//!
//! ```
//! use eda_core::domain::{topics, Timestamp};
//! use eda_core::services::{complete, handle, Command, Delays, ServiceId};
//! use uuid::Uuid;
//!
//! let order = br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","customerId":"C123",
//!     "items":[{"productId":"P001","quantity":2,"price":29.99}],"totalAmount":59.98,
//!     "createdAt":"2024-01-15T10:30:00.000Z"}"#;
//! let commands = handle(ServiceId::Payment, &Delays::default(), topics::ORDERS_CREATED, order);
//! let Ok(mut commands) = commands else { panic!("the seed order is valid") };
//! let Some(Command::Schedule { after, work }) = commands.pop() else { panic!("payment waits") };
//! assert_eq!(after.as_millis(), 1000);
//!
//! let fired_at = Timestamp::from_unix_millis(1_705_314_601_000).unwrap();
//! let published = complete(work, fired_at, Uuid::nil());
//! assert!(matches!(&published[..], [Command::Publish(event)] if event.topic() == topics::PAYMENTS_PROCESSED));
//! ```

pub mod inventory;
pub mod notification;
pub mod order;
pub mod payment;

use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use crate::config::{DEFAULT_INVENTORY_DELAY, DEFAULT_PAYMENT_DELAY};
use crate::domain::events::{DomainEvent, EventError, OrderCreated};
use crate::domain::timestamp::Timestamp;
use crate::domain::topics;

/// One of the four services; each has its own MQTT client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceId {
    Order,
    Payment,
    Inventory,
    Notification,
}

impl ServiceId {
    /// In the order the seed introduces them.
    pub const ALL: [ServiceId; 4] = [
        ServiceId::Order,
        ServiceId::Payment,
        ServiceId::Inventory,
        ServiceId::Notification,
    ];

    /// The name the seed gives the service.
    pub fn name(self) -> &'static str {
        match self {
            ServiceId::Order => "OrderService",
            ServiceId::Payment => "PaymentService",
            ServiceId::Inventory => "InventoryService",
            ServiceId::Notification => "NotificationService",
        }
    }

    /// Lowercase, for MQTT client ids and the page's test selectors.
    pub fn slug(self) -> &'static str {
        match self {
            ServiceId::Order => "order",
            ServiceId::Payment => "payment",
            ServiceId::Inventory => "inventory",
            ServiceId::Notification => "notification",
        }
    }

    /// The topics the service's client subscribes to.
    pub fn subscriptions(self) -> &'static [&'static str] {
        match self {
            ServiceId::Order => &[],
            ServiceId::Payment | ServiceId::Inventory => &[topics::ORDERS_CREATED],
            ServiceId::Notification => &topics::ALL,
        }
    }

    /// The topics the service publishes to.
    pub fn publications(self) -> &'static [&'static str] {
        match self {
            ServiceId::Order => &[topics::ORDERS_CREATED],
            ServiceId::Payment => &[topics::PAYMENTS_PROCESSED],
            ServiceId::Inventory => &[topics::INVENTORY_RESERVED],
            ServiceId::Notification => &[],
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
    /// Publish the event on its topic with the service's client.
    Publish(DomainEvent),
    /// Run `work` through [`complete`] once `after` has passed.
    Schedule { after: Duration, work: Work },
    /// Show a notification to the user (NotificationService's only output).
    Notify(String),
}

/// Simulated work that takes time, finished by [`complete`].
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    ChargePayment(OrderCreated),
    ReserveInventory(OrderCreated),
}

impl Work {
    /// The service doing the work, whose client publishes the result.
    pub fn service(&self) -> ServiceId {
        match self {
            Work::ChargePayment(_) => ServiceId::Payment,
            Work::ReserveInventory(_) => ServiceId::Inventory,
        }
    }

    /// The order the work is for.
    pub fn order_id(&self) -> Uuid {
        match self {
            Work::ChargePayment(order) | Work::ReserveInventory(order) => order.order_id,
        }
    }
}

/// Why a service refused a message; shown beside the message in the event log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    pub reason: String,
}

impl From<EventError> for Rejection {
    fn from(error: EventError) -> Self {
        Rejection {
            reason: error.to_string(),
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

/// `service` received `payload` on `topic`: what should it do?
///
/// A message on a topic the service does not subscribe to is refused before its payload is
/// read: that the message should never have arrived is the more useful thing to know.
pub fn handle(
    service: ServiceId,
    delays: &Delays,
    topic: &str,
    payload: &[u8],
) -> Result<Vec<Command>, Rejection> {
    if !service.subscriptions().contains(&topic) {
        return Err(Rejection {
            reason: format!(
                "{service} does not subscribe to `{}`",
                crate::outside_text::isolate(topic)
            ),
        });
    }
    let event = DomainEvent::decode(topic, payload)?;
    Ok(match service {
        // Subscribes to nothing, so refused above; it only publishes (see `order::place`).
        ServiceId::Order => Vec::new(),
        ServiceId::Payment => payment::on_event(delays, event),
        ServiceId::Inventory => inventory::on_event(delays, event),
        ServiceId::Notification => notification::on_event(&event),
    })
}

/// A scheduled `work` is due at `now`; `fresh_id` identifies what it produces (payment or
/// reservation).
pub fn complete(work: Work, now: Timestamp, fresh_id: Uuid) -> Vec<Command> {
    let event = match work {
        Work::ChargePayment(order) => payment::charge(&order, now, fresh_id).into(),
        Work::ReserveInventory(order) => inventory::reserve(&order, now, fresh_id).into(),
    };
    vec![Command::Publish(event)]
}

#[cfg(test)]
mod flow_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::seed;

    #[test]
    fn services_are_named_as_in_the_seed() {
        let table = [
            (ServiceId::Order, "OrderService", "order"),
            (ServiceId::Payment, "PaymentService", "payment"),
            (ServiceId::Inventory, "InventoryService", "inventory"),
            (
                ServiceId::Notification,
                "NotificationService",
                "notification",
            ),
        ];
        assert_eq!(ServiceId::ALL, table.map(|(id, _, _)| id));
        for (id, name, slug) in table {
            assert_eq!(
                (id.name(), id.slug(), id.to_string()),
                (name, slug, name.to_owned())
            );
        }
    }

    #[test]
    fn subscriptions_follow_the_seed_diagram() {
        let table: [(ServiceId, &[&str]); 4] = [
            (ServiceId::Order, &[]),
            (ServiceId::Payment, &["orders/created"]),
            (ServiceId::Inventory, &["orders/created"]),
            (
                ServiceId::Notification,
                &["orders/created", "payments/processed", "inventory/reserved"],
            ),
        ];
        for (id, topics) in table {
            assert_eq!(id.subscriptions(), topics, "{id}");
        }
    }

    #[test]
    fn every_published_topic_has_a_subscriber_and_a_single_publisher() {
        for topic in topics::ALL {
            let publishers = ServiceId::ALL
                .iter()
                .filter(|s| s.publications().contains(&topic));
            let subscribers = ServiceId::ALL
                .iter()
                .filter(|s| s.subscriptions().contains(&topic));
            assert_eq!(publishers.count(), 1, "{topic}");
            assert!(subscribers.count() >= 1, "{topic}");
        }
    }

    #[test]
    fn default_delays_are_the_seed_s_one_second_and_800_ms() {
        let delays = Delays::default();
        assert_eq!(delays.payment, Duration::from_millis(1000));
        assert_eq!(delays.inventory, Duration::from_millis(800));
    }

    fn order() -> OrderCreated {
        serde_json::from_str(seed::ORDER_CREATED).unwrap()
    }

    fn reason(result: Result<Vec<Command>, Rejection>) -> String {
        result.unwrap_err().reason
    }

    #[test]
    fn decisions_per_service_and_topic() {
        let delays = Delays {
            payment: Duration::from_millis(5),
            inventory: Duration::from_millis(7),
        };
        let order_json = seed::ORDER_CREATED.as_bytes();
        let table = [
            (
                ServiceId::Payment,
                vec![Command::Schedule {
                    after: delays.payment,
                    work: Work::ChargePayment(order()),
                }],
            ),
            (
                ServiceId::Inventory,
                vec![Command::Schedule {
                    after: delays.inventory,
                    work: Work::ReserveInventory(order()),
                }],
            ),
            (
                ServiceId::Notification,
                vec![Command::Notify(
                    "Order confirmation email sent to C123".into(),
                )],
            ),
        ];
        for (service, expected) in table {
            assert_eq!(
                handle(service, &delays, topics::ORDERS_CREATED, order_json),
                Ok(expected)
            );
        }
    }

    #[test]
    fn refuses_topics_the_service_does_not_subscribe_to() {
        let delays = Delays::default();
        let cases = [
            (
                ServiceId::Order,
                topics::ORDERS_CREATED,
                seed::ORDER_CREATED,
            ),
            (
                ServiceId::Payment,
                topics::PAYMENTS_PROCESSED,
                seed::PAYMENT_PROCESSED,
            ),
            (
                ServiceId::Payment,
                topics::INVENTORY_RESERVED,
                seed::INVENTORY_RESERVED,
            ),
            (
                ServiceId::Inventory,
                topics::INVENTORY_RESERVED,
                seed::INVENTORY_RESERVED,
            ),
            (ServiceId::Notification, "orders/cancelled", "{}"),
        ];
        for (service, topic, payload) in cases {
            assert_eq!(
                reason(handle(service, &delays, topic, payload.as_bytes())),
                format!("{service} does not subscribe to `{topic}`")
            );
        }
    }

    #[test]
    fn refuses_payloads_that_are_not_the_event_with_a_readable_reason() {
        let delays = Delays::default();
        let empty_items = r#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","customerId":"C123",
            "items":[],"totalAmount":0,"createdAt":"2024-01-15T10:30:00.000Z"}"#;
        let cases = [
            ("not json", "payload is not JSON: expected ident at line 1 column 2"),
            ("{}", "payload is not an OrderCreated event: missing field `orderId` at line 1 column 2"),
            (empty_items, "payload is not a valid OrderCreated event: `items` is empty; an order has at least one item"),
        ];
        for service in [
            ServiceId::Payment,
            ServiceId::Inventory,
            ServiceId::Notification,
        ] {
            for (payload, expected) in cases {
                let result = handle(service, &delays, topics::ORDERS_CREATED, payload.as_bytes());
                assert_eq!(reason(result), expected, "{service}");
            }
            let result = handle(service, &delays, topics::ORDERS_CREATED, &[0xc3, 0x28]);
            assert_eq!(reason(result), "payload is not UTF-8 text");
        }
    }

    #[test]
    fn rejection_reads_as_its_reason() {
        let rejection = Rejection::from(EventError::NotUtf8);
        assert_eq!(rejection.to_string(), "payload is not UTF-8 text");
    }

    #[test]
    fn completing_work_publishes_the_result_with_the_given_time_and_id() {
        let now = Timestamp::parse("2024-01-15T10:30:01.000Z").unwrap();
        let payment_id: Uuid = "7bc21a45-8923-4671-a1ed-3d874e22bfa2".parse().unwrap();
        let charged = complete(Work::ChargePayment(order()), now, payment_id);
        let expected: DomainEvent =
            serde_json::from_str::<crate::domain::PaymentProcessed>(seed::PAYMENT_PROCESSED)
                .unwrap()
                .into();
        assert_eq!(charged, [Command::Publish(expected)]);

        let now = Timestamp::parse("2024-01-15T10:30:00.800Z").unwrap();
        let reservation_id: Uuid = "9de43f67-1234-5678-b9cd-4e567f89abc3".parse().unwrap();
        let reserved = complete(Work::ReserveInventory(order()), now, reservation_id);
        let expected: DomainEvent =
            serde_json::from_str::<crate::domain::InventoryReserved>(seed::INVENTORY_RESERVED)
                .unwrap()
                .into();
        assert_eq!(reserved, [Command::Publish(expected)]);
    }

    #[test]
    fn work_knows_its_service_and_order() {
        let charge = Work::ChargePayment(order());
        let reserve = Work::ReserveInventory(order());
        assert_eq!(
            (charge.service(), reserve.service()),
            (ServiceId::Payment, ServiceId::Inventory)
        );
        assert_eq!(charge.order_id().to_string(), seed::ORDER_ID);
        assert_eq!(reserve.order_id(), charge.order_id());
    }
}
