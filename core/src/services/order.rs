//! OrderService: turns a valid order from the form into the `OrderCreated` event it publishes.

use uuid::Uuid;

use crate::domain::events::OrderCreated;
use crate::domain::order_form::ValidOrder;
use crate::domain::timestamp::Timestamp;

/// The event for `order`, placed at `now` under `order_id` (the seed's `Guid.NewGuid()`, made
/// by the caller). The total comes from whole cents, so it is exact to the cent.
pub fn place(now: Timestamp, order_id: Uuid, order: &ValidOrder) -> OrderCreated {
    OrderCreated {
        order_id,
        customer_id: order.customer_id.clone(),
        items: order.items.clone(),
        total_amount: order.total_amount(),
        created_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::{seed, DomainEvent};
    use crate::domain::order_form::{validate, ItemDraft, OrderDraft};

    #[test]
    fn placing_the_seed_example_publishes_the_seed_payload() {
        let order = validate(&OrderDraft::seed_example()).unwrap();
        let now = Timestamp::parse("2024-01-15T10:30:00Z").unwrap();
        let event = place(now, seed::ORDER_ID.parse().unwrap(), &order);

        let expected: OrderCreated = serde_json::from_str(seed::ORDER_CREATED).unwrap();
        assert_eq!(event, expected);
        let compact: String = seed::ORDER_CREATED.split_whitespace().collect();
        assert_eq!(DomainEvent::from(event).to_json(), compact.into_bytes());
    }

    #[test]
    fn the_total_is_exact_to_the_cent() {
        let draft = OrderDraft {
            customer_id: "C9".into(),
            items: vec![
                ItemDraft {
                    product_id: "P1".into(),
                    quantity: "3".into(),
                    price: "0.1".into(),
                },
                ItemDraft {
                    product_id: "P2".into(),
                    quantity: "1".into(),
                    price: "0.2".into(),
                },
            ],
        };
        let order = validate(&draft).unwrap();
        let now = Timestamp::from_unix_millis(0).unwrap();
        let event = place(now, Uuid::nil(), &order);
        assert_eq!(event.total_amount, 0.5);
        let json = String::from_utf8(DomainEvent::from(event).to_json()).unwrap();
        assert!(json.contains(r#""totalAmount":0.5,"#), "{json}");
        assert!(json.contains(r#""price":0.1}"#), "{json}");
    }

    #[test]
    fn ids_and_time_are_the_callers() {
        let order = validate(&OrderDraft::seed_example()).unwrap();
        let id = Uuid::from_u128(42);
        let now = Timestamp::from_unix_millis(1_705_314_600_800).unwrap();
        let event = place(now, id, &order);
        assert_eq!((event.order_id, event.created_at), (id, now));
        assert_eq!(event.customer_id, "C123");
    }
}
