//! The whole order flow played in virtual time: the four services' decisions wired through an
//! in-memory stand-in for the broker, timers fired by advancing a number.

use std::collections::VecDeque;
use std::time::Duration;

use uuid::Uuid;

use super::{complete, handle, order, Command, Delays, ServiceId, Work};
use crate::domain::events::{seed, DomainEvent};
use crate::domain::order_form::{validate, OrderDraft};
use crate::domain::timestamp::Timestamp;

const START_MS: i64 = 1_705_314_600_000; // 2024-01-15T10:30:00Z, the seed's createdAt

struct Flow {
    delays: Delays,
    now_ms: i64,
    timers: Vec<(i64, Work)>,
    fresh_ids: VecDeque<Uuid>,
    published: Vec<(i64, &'static str, String)>,
    notifications: Vec<(i64, String)>,
}

impl Flow {
    fn new(delays: Delays, fresh_ids: &[&str]) -> Flow {
        Flow {
            delays,
            now_ms: START_MS,
            timers: Vec::new(),
            fresh_ids: fresh_ids.iter().map(|id| id.parse().unwrap()).collect(),
            published: Vec::new(),
            notifications: Vec::new(),
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.now_ms).unwrap()
    }

    fn run(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Publish(event) => self.publish(&event),
                Command::Schedule { after, work } => {
                    let due = self.now_ms + i64::try_from(after.as_millis()).unwrap();
                    self.timers.push((due, work));
                }
                Command::Notify(text) => self.notifications.push((self.now_ms, text)),
            }
        }
    }

    /// Like the broker: every subscriber of the topic gets the bytes that were published.
    fn publish(&mut self, event: &DomainEvent) {
        let payload = event.to_json();
        let text = String::from_utf8(payload.clone()).unwrap();
        self.published.push((self.now_ms, event.topic(), text));
        for service in ServiceId::ALL {
            if service.subscriptions().contains(&event.topic()) {
                let commands = handle(service, &self.delays, event.topic(), &payload).unwrap();
                self.run(commands);
            }
        }
    }

    /// Fires every timer, earliest first, each at its own time.
    fn run_timers(&mut self) {
        while let Some(next) = (0..self.timers.len()).min_by_key(|&i| self.timers[i].0) {
            let (due, work) = self.timers.remove(next);
            self.now_ms = due;
            let fresh_id = self.fresh_ids.pop_front().unwrap();
            let commands = complete(work, self.now(), fresh_id);
            self.run(commands);
        }
    }

    fn place(&mut self, order_id: &str, draft: &OrderDraft) {
        let order = validate(draft).unwrap();
        let created = order::place(self.now(), order_id.parse().unwrap(), &order);
        self.run(vec![Command::Publish(created.into())]);
    }
}

fn compact(pretty: &str) -> String {
    pretty.split_whitespace().collect()
}

#[test]
fn the_seed_order_reproduces_the_seed_s_data_flow_byte_for_byte() {
    // Inventory finishes first (0.8 s), so it takes the first fresh id.
    let ids = [
        "9de43f67-1234-5678-b9cd-4e567f89abc3",
        "7bc21a45-8923-4671-a1ed-3d874e22bfa2",
    ];
    let mut flow = Flow::new(Delays::default(), &ids);
    flow.place(seed::ORDER_ID, &OrderDraft::seed_example());
    flow.run_timers();

    assert_eq!(
        flow.published,
        [
            (START_MS, "orders/created", compact(seed::ORDER_CREATED)),
            (
                START_MS + 800,
                "inventory/reserved",
                compact(seed::INVENTORY_RESERVED)
            ),
            (
                START_MS + 1000,
                "payments/processed",
                compact(seed::PAYMENT_PROCESSED)
            ),
        ]
    );
}

#[test]
fn notifications_arrive_in_the_order_the_seed_s_timings_give() {
    let ids = [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ];
    let mut flow = Flow::new(Delays::default(), &ids);
    flow.place(seed::ORDER_ID, &OrderDraft::seed_example());
    flow.run_timers();

    let order_id = seed::ORDER_ID;
    assert_eq!(
        flow.notifications,
        [
            (START_MS, "Order confirmation email sent to C123".to_owned()),
            (
                START_MS + 800,
                format!("Inventory confirmation for Order {order_id}")
            ),
            (
                START_MS + 1000,
                format!("Payment confirmation for Order {order_id}")
            ),
        ]
    );
}

#[test]
fn delays_are_inputs_so_a_slower_warehouse_reorders_the_notifications() {
    let delays = Delays {
        payment: Duration::from_millis(100),
        inventory: Duration::from_secs(5),
    };
    let ids = [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ];
    let mut flow = Flow::new(delays, &ids);
    flow.place(seed::ORDER_ID, &OrderDraft::seed_example());
    flow.run_timers();

    let times_and_topics: Vec<(i64, &str)> = flow
        .published
        .iter()
        .map(|(at, topic, _)| (*at - START_MS, *topic))
        .collect();
    assert_eq!(
        times_and_topics,
        [
            (0, "orders/created"),
            (100, "payments/processed"),
            (5000, "inventory/reserved")
        ]
    );
}

#[test]
fn two_orders_in_flight_keep_their_own_ids() {
    let ids = [
        "00000000-0000-4000-8000-00000000000a",
        "00000000-0000-4000-8000-00000000000b",
    ];
    let ids = [ids, ids].concat();
    let mut flow = Flow::new(Delays::default(), &ids);
    let first = "11111111-1111-4111-8111-111111111111";
    let second = "22222222-2222-4222-8222-222222222222";
    flow.place(first, &OrderDraft::seed_example());
    flow.now_ms += 500;
    let mut other = OrderDraft::seed_example();
    other.customer_id = "C456".into();
    flow.place(second, &other);
    flow.run_timers();

    let texts: Vec<(i64, &str)> = flow
        .notifications
        .iter()
        .map(|(at, text)| (*at - START_MS, text.as_str()))
        .collect();
    let expected = [
        (0, "Order confirmation email sent to C123".to_owned()),
        (500, "Order confirmation email sent to C456".to_owned()),
        (800, format!("Inventory confirmation for Order {first}")),
        (1000, format!("Payment confirmation for Order {first}")),
        (1300, format!("Inventory confirmation for Order {second}")),
        (1500, format!("Payment confirmation for Order {second}")),
    ];
    let expected: Vec<(i64, &str)> = expected.iter().map(|(at, t)| (*at, t.as_str())).collect();
    assert_eq!(texts, expected);
}
