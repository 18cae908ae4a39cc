//! Placing orders from the form: OrderService publishes `orders/created`, one order after the
//! other, while the order gate lets them through ([`Runtime::place_orders`]).

use std::rc::Rc;

use uuid::Uuid;

use crate::clock::{self, fresh_id, wall_clock};
use eda_core::domain::order_form::ValidOrder;
use eda_core::domain::DomainEvent;
use eda_core::services::instances::Instance;
use eda_core::services::{order, ServiceId};
use eda_core::trace::service_status::{LastOutcome, ServiceEvent};
use eda_core::trace::UserAction;

use super::{Placed, Runtime};

impl Runtime {
    /// Places `count` copies of `order` (the form's "Place order" is one, "Place 10 orders"
    /// ten), stopping at the first refusal.
    pub fn place_orders(self: &Rc<Self>, order: &ValidOrder, count: usize) -> Placed {
        let mut placed = Placed {
            orders: Vec::with_capacity(count),
            refused: None,
        };
        for _ in 0..count {
            match self.place_order(order) {
                Ok(id) => placed.orders.push(id),
                Err((cause, advice)) => {
                    let sentence = order::orders_refused(&cause, count, placed.orders.len());
                    placed.refused = Some(format!("{sentence}{advice}"));
                    break;
                }
            }
        }
        placed
    }

    /// OrderService publishes the order and returns its id at once, before anyone answers.
    /// Refused, nothing published, while the order gate is shut ([`OrderGate::check_new_order`]:
    /// OrderService crashed or not connected, a service not yet subscribed, a coordination
    /// switch waiting for the sagas in flight): then why, and what
    /// to do (with a space before it), for the form's sentence ([`order::orders_refused`]).
    fn place_order(self: &Rc<Self>, order: &ValidOrder) -> Result<Uuid, (String, String)> {
        if let Err(refusal) = self.new_order_gate() {
            return Err((refusal.cause(), refusal.advice()));
        }
        let client = self.client(ServiceId::Order.into());
        if !client.is_connected() {
            let broker_url = self.url_of(ServiceId::Order);
            return Err((
                format!("OrderService is not connected to the broker at {broker_url}"),
                " It reconnects by itself; try again once it has.".to_owned(),
            ));
        }
        let now = wall_clock().ok_or((
            "the browser clock is out of range".to_owned(),
            String::new(),
        ))?;
        let order_id = fresh_id();
        let event = DomainEvent::OrderCreated(order::place(now, order_id, order));
        // The click, on the packets' clock, for the sequence diagram's Client lifeline.
        let at = clock::now();
        self.trace
            .0
            .borrow_mut()
            .actions
            .push(UserAction::PlacedOrder { at, order_id });
        // The duplicate-rate injection (*Publish twice*) covers the order too, as the README
        // says: a newcomer's break-test saw every other topic doubled and never orders/created,
        // so with idempotency off no order was ever charged twice by it.
        let twice = eda_core::services::published_twice(event.identity(), self.duplicates());
        let order_service = Instance::from(ServiceId::Order);
        self.publish(order_service, &event)
            .and_then(|()| {
                if twice {
                    self.publish(order_service, &event)
                } else {
                    Ok(())
                }
            })
            .map_err(|e| {
                (
                    format!("OrderService could not publish: {e}"),
                    String::new(),
                )
            })?;
        self.record(ServiceId::Order, ServiceEvent::Outcome(LastOutcome::Done));
        Ok(order_id)
    }
}
