//! Whole sagas played in virtual time: the four services' decisions wired through an in-memory
//! stand-in for the broker (each published message delivered, in order, to every service that
//! subscribes to its topic under the style), timers fired by advancing a number. One table per
//! question the issue asks, run in each of the three styles.

use std::collections::VecDeque;
use std::time::Duration;

use uuid::Uuid;

use super::*;
use crate::domain::events::{seed, DomainEvent};
use crate::domain::order_form::{validate, OrderDraft};
use crate::domain::topics;

const START_MS: i64 = 1_705_314_600_000; // 2024-01-15T10:30:00Z, the seed's createdAt

#[derive(Clone)]
struct Wire {
    flow: Flow,
    now_ms: i64,
    /// Due time, the order armed (ties fire in that order), the work.
    timers: Vec<(i64, u64, Work)>,
    armed: u64,
    next_id: u128,
    /// Messages on their way to a subscriber.
    queue: VecDeque<(ServiceId, DomainEvent)>,
    published: Vec<(i64, DomainEvent)>,
    notifications: Vec<String>,
    /// What the services wrote in their own logs (`Command::Log`).
    logged: Vec<String>,
    rejections: Vec<(ServiceId, &'static str, String)>,
    /// Topics whose messages the broker delivers twice to OrderService (a redelivery).
    duplicated: Vec<&'static str>,
    /// What the broker retains per topic (`Command::Retain`; an empty payload clears it).
    retained: std::collections::BTreeMap<String, Vec<u8>>,
    /// What OrderService appended to its event store, in order (`Command::Record`).
    recorded: Vec<crate::store::StoredEvent>,
}

impl Wire {
    /// OrderService's log lines about compensations sent again or given up (the participants'
    /// notes, such as an event that arrived after its order's cancellation, left out).
    fn sent_again(&self) -> Vec<&String> {
        self.logged
            .iter()
            .filter(|l| l.contains("sent again") || l.contains("gives up"))
            .collect()
    }

    fn new(settings: FlowSettings) -> Wire {
        Wire {
            flow: Flow::new(settings),
            now_ms: START_MS,
            timers: Vec::new(),
            armed: 0,
            next_id: 0x1000,
            queue: VecDeque::new(),
            published: Vec::new(),
            notifications: Vec::new(),
            logged: Vec::new(),
            rejections: Vec::new(),
            duplicated: Vec::new(),
            retained: Default::default(),
            recorded: Vec::new(),
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.now_ms).unwrap()
    }

    /// Fires the timer at `index` of `timers`: the clock moves to its due time and the flow
    /// completes its work, whose commands run.
    fn fire_timer(&mut self, index: usize) {
        let (due, _, work) = self.timers.remove(index);
        self.now_ms = due;
        self.next_id += 1;
        let commands = self
            .flow
            .complete(work, self.now(), Uuid::from_u128(self.next_id));
        self.run(commands);
    }

    fn run(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Publish(event) => self.publish(event),
                Command::Schedule { after, work } => {
                    let due = self.now_ms + i64::try_from(after.as_millis()).unwrap();
                    self.armed += 1;
                    self.timers.push((due, self.armed, work));
                }
                Command::Notify(text) => self.notifications.push(text),
                Command::Log { line, .. } => self.logged.push(line),
                Command::Record(event) => self.recorded.push(event),
                Command::Retain(update) => match update.payload() {
                    empty if empty.is_empty() => drop(self.retained.remove(&update.topic())),
                    payload => drop(self.retained.insert(update.topic(), payload)),
                },
            }
        }
    }

    fn publish(&mut self, event: DomainEvent) {
        self.published.push((self.now_ms, event.clone()));
        // On the wire at once, as the runtime reports each PUBLISH its client sends.
        let now = self.now();
        self.flow.published(event.topic(), &event.to_json(), now);
        for service in ServiceId::ALL {
            let twice = service == ServiceId::Order && self.duplicated.contains(&event.topic());
            let copies = if twice { 2 } else { 1 };
            if service
                .subscriptions(self.flow.settings.saga)
                .contains(&event.topic())
            {
                for _ in 0..copies {
                    self.queue.push_back((service, event.clone()));
                }
            }
        }
    }

    /// Hands `event` to `service` now, as the runtime does: what it asks is run; a refusal is
    /// kept in `rejections`, and what the service publishes all the same (a duplicate
    /// compensation's answer, [`Rejection::answer_again`]) is run.
    fn handle_one(&mut self, service: ServiceId, event: &DomainEvent) {
        let payload = event.to_json();
        let now = self.now();
        match self.flow.handle(service, now, event.topic(), &payload) {
            Ok(commands) => self.run(commands),
            Err(r) => {
                self.rejections.push((service, event.topic(), r.reason));
                self.run(r.answer_again);
            }
        }
    }

    /// Delivers what is on its way (and what that publishes), firing no timer.
    fn deliver(&mut self) {
        while let Some((service, event)) = self.queue.pop_front() {
            self.handle_one(service, &event);
        }
    }

    /// `service` crashed: its work in hand dies ([`Flow::abandon`]) and its timer with it.
    fn abandon_work_of(&mut self, service: ServiceId) {
        let dead: Vec<Work> = self
            .timers
            .iter()
            .filter(|(_, _, w)| w.service() == service)
            .map(|(_, _, w)| w.clone())
            .collect();
        for work in &dead {
            self.flow.abandon(work);
        }
        self.timers.retain(|(_, _, w)| !dead.contains(w));
    }

    /// Fires the earliest timer (the first armed of those due together).
    fn fire_next(&mut self) {
        if let Some(next) =
            (0..self.timers.len()).min_by_key(|&i| (self.timers[i].0, self.timers[i].1))
        {
            self.fire_timer(next);
        }
    }

    /// Delivers what is on its way, then fires timers earliest first, until nothing is left.
    fn settle(&mut self) {
        loop {
            self.deliver();
            if self.timers.is_empty() {
                return;
            }
            self.fire_next();
        }
    }

    fn place(&mut self, order_id: Uuid, draft: &OrderDraft) {
        let order = validate(draft).unwrap();
        let created = order::place(self.now(), order_id, &order);
        self.run(vec![Command::Publish(created.into())]);
    }

    /// The topics published for `order_id`, in order.
    fn topics_of(&self, order_id: Uuid) -> Vec<&'static str> {
        self.published
            .iter()
            .filter(|(_, e)| e.order_id() == order_id)
            .map(|(_, e)| e.topic())
            .collect()
    }

    fn count(&self, order_id: Uuid, topic: &str) -> usize {
        self.topics_of(order_id)
            .iter()
            .filter(|t| **t == topic)
            .count()
    }

    /// How the order ended on the wire: exactly one terminal event, and its reason. A copy of
    /// it (OrderService sending `orders/cancelled` again while it waits for a compensation) is
    /// the same message, not a second outcome.
    fn outcome(&self, order_id: Uuid) -> Result<Option<String>, String> {
        let mut terminal: Vec<&DomainEvent> = self
            .published
            .iter()
            .map(|(_, e)| e)
            .filter(|e| e.order_id() == order_id)
            .filter(|e| {
                matches!(
                    e,
                    DomainEvent::OrderConfirmed(_) | DomainEvent::OrderCancelled(_)
                )
            })
            .collect();
        let mut distinct = Vec::new();
        terminal.retain(|e| {
            let new = !distinct.contains(e);
            distinct.push(*e);
            new
        });
        match terminal[..] {
            [DomainEvent::OrderConfirmed(_)] => Ok(None),
            [DomainEvent::OrderCancelled(c)] => Ok(Some(c.reason.clone())),
            _ => Err(format!(
                "{} terminal events: {:?}",
                terminal.len(),
                self.topics_of(order_id)
            )),
        }
    }
}

fn order_id(n: u128) -> Uuid {
    Uuid::from_u128(0xA000 + n)
}

/// The seed's order (2 × P001 at 29.99) with `quantity` units.
fn draft(quantity: u32) -> OrderDraft {
    let mut draft = OrderDraft::seed_example();
    draft.items[0].quantity = quantity.to_string();
    draft
}

fn settings(style: SagaStyle) -> FlowSettings {
    FlowSettings {
        saga: style,
        ..FlowSettings::default()
    }
}

/// What one case expects of the order: its outcome (None = confirmed, Some(reason) =
/// cancelled), and how many releases and refunds went out.
struct Expect {
    cancelled: Option<&'static str>,
    released: usize,
    refunded: usize,
}

/// Runs one order with `settings` changed by `setup`, in `style`, and checks `expect`.
fn check(
    name: &str,
    style: SagaStyle,
    setup: &dyn Fn(&mut FlowSettings, &mut Vec<&'static str>),
    quantity: u32,
    expect: &Expect,
) -> Wire {
    let mut settings = settings(style);
    let mut duplicated = Vec::new();
    setup(&mut settings, &mut duplicated);
    let mut wire = Wire::new(settings);
    wire.duplicated = duplicated;
    let id = order_id(1);
    wire.place(id, &draft(quantity));
    wire.settle();
    let case = format!("{name} ({style}): {:?}", wire.topics_of(id));
    assert_eq!(
        wire.outcome(id),
        Ok(expect.cancelled.map(str::to_owned)),
        "{case}"
    );
    // Of a reservation or a charge: a compensation before the step (the nil id) undoes none.
    let undone = |topic| {
        let of_something = |e: &DomainEvent| match e {
            DomainEvent::InventoryReleased(r) => !r.is_unreserved(),
            DomainEvent::PaymentRefunded(r) => !r.is_uncharged(),
            _ => false,
        };
        let published = wire.published.iter().map(|(_, e)| e);
        published
            .filter(|e| e.order_id() == id && e.topic() == topic && of_something(e))
            .count()
    };
    let released = undone(topics::INVENTORY_RELEASED);
    let refunded = undone(topics::PAYMENTS_REFUNDED);
    assert_eq!(
        (released, refunded),
        (expect.released, expect.refunded),
        "{case}: releases, refunds"
    );
    // The aggregate agrees with the wire.
    let saga = wire.flow.order.saga(id).unwrap();
    assert!(saga.order.status.is_terminal(), "{case}");
    // Stock never goes negative, and a cancelled order holds none.
    if let Some(left) = wire.flow.inventory.stock().of("P001") {
        let start = match name {
            "out of stock" | "both fail" => 1,
            _ => 10,
        };
        let held = if expect.cancelled.is_none() {
            quantity
        } else {
            0
        };
        assert_eq!(left, start - held, "{case}: stock");
    }
    wire
}

fn stock(units: u32) -> Stock {
    Stock::parse(&format!("P001:{units}")).unwrap()
}

#[test]
fn every_outcome_in_every_style() {
    type Setup = Box<dyn Fn(&mut FlowSettings, &mut Vec<&'static str>)>;
    let ok = |cancelled, released, refunded| Expect {
        cancelled,
        released,
        refunded,
    };
    let cases: Vec<(&str, Setup, u32, [Expect; 3])> = vec![
        (
            "all succeed",
            Box::new(|s, _| s.stock = stock(10)),
            2,
            [ok(None, 0, 0), ok(None, 0, 0), ok(None, 0, 0)],
        ),
        (
            "decline",
            Box::new(|s, _| {
                s.stock = stock(10);
                s.payment.decline_all = true;
            }),
            2,
            // The reservation is released in every style; nothing was charged.
            [
                ok(Some("payment declined"), 1, 0),
                ok(Some("payment declined"), 1, 0),
                ok(Some("payment declined"), 1, 0),
            ],
        ),
        (
            "out of stock",
            Box::new(|s, _| s.stock = stock(1)),
            2,
            // In parallel the payment was taken meanwhile, and is refunded; the sequential
            // styles never charge.
            [
                ok(Some("out of stock: P001 (2 asked, 1 left)"), 0, 1),
                ok(Some("out of stock: P001 (2 asked, 1 left)"), 0, 0),
                ok(Some("out of stock: P001 (2 asked, 1 left)"), 0, 0),
            ],
        ),
        (
            "both fail",
            Box::new(|s, _| {
                s.stock = stock(1);
                s.payment.decline_all = true;
            }),
            2,
            // Inventory (0.8 s) fails before payment (1 s) in parallel; the first reason stays.
            [
                ok(Some("out of stock: P001 (2 asked, 1 left)"), 0, 0),
                ok(Some("out of stock: P001 (2 asked, 1 left)"), 0, 0),
                ok(Some("out of stock: P001 (2 asked, 1 left)"), 0, 0),
            ],
        ),
        (
            "timeout, then a late success",
            Box::new(|s, _| {
                s.stock = stock(10);
                s.delays.payment = Duration::from_millis(3000);
                s.saga_timeout = Duration::from_millis(2000);
            }),
            2,
            // The reservation (in time) is released; the payment that succeeds after the
            // deadline is refunded.
            [
                ok(Some("payment timed out"), 1, 1),
                ok(Some("payment timed out"), 1, 1),
                ok(Some("payment timed out"), 1, 1),
            ],
        ),
        (
            "inventory too slow",
            Box::new(|s, _| {
                s.stock = stock(10);
                s.delays.inventory = Duration::from_millis(3000);
                s.saga_timeout = Duration::from_millis(2000);
            }),
            2,
            [
                ok(Some("inventory timed out"), 1, 1),
                ok(Some("inventory timed out"), 1, 0),
                ok(Some("inventory timed out"), 1, 0),
            ],
        ),
        (
            "duplicate results",
            // With the consumers' memory off: the aggregate alone takes the repeats.
            Box::new(|s, d| {
                s.stock = stock(10);
                s.dedupe = false;
                d.extend([topics::PAYMENTS_PROCESSED, topics::INVENTORY_RESERVED]);
            }),
            2,
            [ok(None, 0, 0), ok(None, 0, 0), ok(None, 0, 0)],
        ),
        (
            "payment first",
            Box::new(|s, _| {
                s.stock = stock(10);
                s.delays.payment = Duration::from_millis(100);
            }),
            2,
            [ok(None, 0, 0), ok(None, 0, 0), ok(None, 0, 0)],
        ),
    ];
    for (name, setup, quantity, expects) in cases {
        for (style, expect) in SagaStyle::ALL.into_iter().zip(&expects) {
            let wire = check(name, style, &*setup, quantity, expect);
            if name == "duplicate results" {
                // The repeats changed nothing and were not taken for contradictions.
                assert!(
                    wire.rejections.iter().all(|(s, ..)| *s != ServiceId::Order),
                    "{style}: {:?}",
                    wire.rejections
                );
            }
        }
    }
}

#[test]
fn orchestration_starts_the_payment_only_after_the_inventory_answered() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(10),
        ..settings(SagaStyle::Orchestration)
    });
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.settle();
    let timeline: Vec<(i64, &str)> = wire
        .published
        .iter()
        .map(|(at, e)| (at - START_MS, e.topic()))
        .collect();
    assert_eq!(
        timeline,
        [
            (0, topics::ORDERS_CREATED),
            (0, topics::COMMAND_RESERVE_INVENTORY),
            (800, topics::INVENTORY_RESERVED),
            (800, topics::COMMAND_CHARGE_PAYMENT),
            (1800, topics::PAYMENTS_PROCESSED),
            (1800, topics::ORDERS_CONFIRMED),
        ]
    );
}

#[test]
fn choreography_charges_on_the_reservation_and_no_one_gives_orders() {
    let mut wire = Wire::new(settings(SagaStyle::Choreography));
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.settle();
    let topics_seen = wire.topics_of(id);
    assert_eq!(
        topics_seen,
        [
            topics::ORDERS_CREATED,
            topics::INVENTORY_RESERVED,
            topics::PAYMENTS_PROCESSED,
            topics::ORDERS_CONFIRMED
        ]
    );
    assert!(topics_seen.iter().all(|t| !t.starts_with("commands/")));
}

#[test]
fn the_seed_order_still_gives_the_seed_s_three_payloads_byte_for_byte() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel));
    // Inventory finishes first (0.8 s), so it takes the first fresh id.
    wire.next_id = "9de43f67-1234-5678-b9cd-4e567f89abc2"
        .parse::<Uuid>()
        .unwrap()
        .as_u128();
    wire.place(seed::ORDER_ID.parse().unwrap(), &OrderDraft::seed_example());
    wire.settle();
    let compact = |pretty: &str| -> String { pretty.split_whitespace().collect() };
    let json = |i: usize| String::from_utf8(wire.published[i].1.to_json()).unwrap();
    assert_eq!(json(0), compact(seed::ORDER_CREATED));
    assert_eq!(json(1), compact(seed::INVENTORY_RESERVED));
    // The payment's id differs from the seed's (ids come in order here); everything else holds.
    let payment: serde_json::Value = serde_json::from_str(&json(2)).unwrap();
    let seed_payment: serde_json::Value = serde_json::from_str(seed::PAYMENT_PROCESSED).unwrap();
    for field in ["orderId", "amount", "success", "processedAt"] {
        assert_eq!(payment[field], seed_payment[field], "{field}");
    }
    assert_eq!(wire.published[3].1.topic(), topics::ORDERS_CONFIRMED);
}

#[test]
fn notifications_tell_the_customer_the_outcome() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(10),
        payment: PaymentRule {
            decline_all: true,
            ..PaymentRule::default()
        },
        ..settings(SagaStyle::Parallel)
    });
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.settle();
    assert_eq!(
        wire.notifications,
        [
            "Order confirmation email sent to C123".to_owned(),
            format!("Inventory confirmation for Order {id}"),
            format!("Payment failed for Order {id}: payment declined"),
            format!("Order {id} cancelled: payment declined"),
        ]
    );
}

#[test]
fn many_orders_at_once_never_take_the_stock_below_zero() {
    for style in SagaStyle::ALL {
        let mut wire = Wire::new(FlowSettings {
            stock: stock(7),
            ..settings(style)
        });
        for n in 0..10 {
            wire.place(order_id(n), &draft(2));
        }
        wire.settle();
        let confirmed = (0..10)
            .filter(|&n| wire.outcome(order_id(n)) == Ok(None))
            .count();
        assert_eq!(confirmed, 3, "{style}: 7 units make three orders of 2");
        assert_eq!(wire.flow.inventory.stock().of("P001"), Some(1), "{style}");
        for n in 0..10 {
            assert!(
                wire.outcome(order_id(n)).is_ok(),
                "{style}: order {n} ends once"
            );
        }
    }
}

#[test]
fn the_broker_retains_every_counted_product_s_level_as_it_changes_and_forgets_a_removed_one() {
    for style in SagaStyle::ALL {
        let mut wire = Wire::new(FlowSettings {
            stock: Stock::parse("P001:7,P002:4").unwrap(),
            ..settings(style)
        });
        let commands = wire.flow.inventory.levels();
        wire.run(commands);
        let retained = |wire: &Wire, product: &str| {
            let payload = wire.retained.get(&format!("inventory/stock/{product}"))?;
            String::from_utf8(payload.clone()).ok()
        };
        assert_eq!(
            retained(&wire, "P002").as_deref(),
            Some(r#"{"productId":"P002","units":4}"#),
            "{style}: stated on connecting"
        );
        // Reservations take from it, a declined payment's release gives back.
        for n in 0..5 {
            wire.place(order_id(n), &draft(2));
        }
        wire.settle();
        assert_eq!(wire.flow.inventory.stock().of("P001"), Some(1), "{style}");
        assert_eq!(
            retained(&wire, "P001").as_deref(),
            Some(r#"{"productId":"P001","units":1}"#),
            "{style}: the last level is the one retained"
        );
        // The learner stops counting P002: its retained level is cleared.
        let commands = wire
            .flow
            .inventory
            .set_stock(Stock::parse("P001:1").unwrap());
        wire.run(commands);
        assert_eq!(retained(&wire, "P002"), None, "{style}");
        assert!(retained(&wire, "P001").is_some(), "{style}");
    }
}

#[test]
fn an_order_published_from_outside_gets_its_terminal_event_and_an_early_result_waits_for_it() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel));
    let created: DomainEvent =
        serde_json::from_str::<crate::domain::OrderCreated>(seed::ORDER_CREATED)
            .unwrap()
            .into();
    wire.publish(created);
    wire.settle();
    assert_eq!(wire.outcome(seed::ORDER_ID.parse().unwrap()), Ok(None));

    let stray =
        seed::PAYMENT_PROCESSED.replace(seed::ORDER_ID, "00000000-0000-4000-8000-000000000099");
    let result = wire.flow.handle(
        ServiceId::Order,
        wire.now(),
        topics::PAYMENTS_PROCESSED,
        stray.as_bytes(),
    );
    let early = result.unwrap_err();
    assert_eq!(
        (early.kind, early.reason.as_str()),
        (
            RejectionKind::Early,
            "OrderService has not seen order 00000000-0000-4000-8000-000000000099 created yet: \
             kept, and handled when its orders/created arrives"
        )
    );
    // Its creation arrives: the payment kept is handled with it, and the order waits only
    // for its stock.
    let late_created =
        seed::ORDER_CREATED.replace(seed::ORDER_ID, "00000000-0000-4000-8000-000000000099");
    let commands = wire
        .flow
        .handle(
            ServiceId::Order,
            wire.now(),
            topics::ORDERS_CREATED,
            late_created.as_bytes(),
        )
        .unwrap();
    assert!(
        matches!(
            commands[..],
            [
                Command::Record(_),
                Command::Schedule { .. },
                Command::Record(_)
            ]
        ),
        "the order's creation, its deadline, and the payment kept, recorded: {commands:?}"
    );
    let saga = wire
        .flow
        .order
        .saga("00000000-0000-4000-8000-000000000099".parse().unwrap())
        .unwrap();
    assert_eq!(
        saga.order.status,
        crate::domain::order::OrderStatus::PaymentConfirmed
    );
}

#[test]
fn an_impossible_transition_is_refused_and_logged() {
    let mut wire = Wire::new(settings(SagaStyle::Orchestration));
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.settle();
    assert_eq!(wire.outcome(id), Ok(None));
    // Someone publishes a declined payment for the completed order.
    let declined = seed::PAYMENT_PROCESSED
        .replace(seed::ORDER_ID, &id.to_string())
        .replace(
            r#""success": true"#,
            r#""success": false, "reason": "card stolen""#,
        );
    let result = wire.flow.handle(
        ServiceId::Order,
        wire.now(),
        topics::PAYMENTS_PROCESSED,
        declined.as_bytes(),
    );
    let refused = result.unwrap_err();
    assert_eq!(
        (refused.kind, refused.reason.as_str()),
        (
            RejectionKind::Refused,
            "the order is already completed: payment failure refused"
        )
    );
    wire.settle();
    assert_eq!(wire.outcome(id), Ok(None), "the order stays completed");
}

#[test]
fn a_cancellation_after_the_confirmation_undoes_nothing() {
    for style in [SagaStyle::Parallel, SagaStyle::Choreography] {
        let mut wire = Wire::new(FlowSettings {
            stock: stock(10),
            ..settings(style)
        });
        let id = order_id(1);
        wire.place(id, &draft(2));
        wire.settle();
        assert_eq!(wire.outcome(id), Ok(None), "{style}");
        // Someone else publishes a cancellation of the confirmed order.
        let late: DomainEvent = crate::domain::events::OrderCancelled {
            order_id: id,
            reason: "changed my mind".into(),
            cancelled_at: wire.now(),
        }
        .into();
        wire.publish(late);
        wire.settle();
        assert_eq!(wire.count(id, topics::PAYMENTS_REFUNDED), 0, "{style}");
        assert_eq!(wire.count(id, topics::INVENTORY_RELEASED), 0, "{style}");
        assert_eq!(wire.flow.inventory.stock().of("P001"), Some(8), "{style}");
        let refused: Vec<&str> = wire
            .rejections
            .iter()
            .filter(|(_, topic, _)| *topic == topics::ORDERS_CANCELLED)
            .map(|(_, _, reason)| reason.as_str())
            .collect();
        assert_eq!(
            refused,
            [
                format!("order {id} was already confirmed: nothing is refunded").as_str(),
                format!("order {id} was already confirmed: nothing is released").as_str(),
                // A newcomer's break-test (C6): the customer was told "cancelled: changed my
                // mind" after "confirmed", though nothing was undone.
                format!(
                    "order {id} was told confirmed already: an order has one outcome, so the \
                     customer is not told it is cancelled (two outcomes on the wire for one order)"
                )
                .as_str(),
            ],
            "{style}"
        );
        assert!(
            !wire.notifications.iter().any(|n| n.contains("cancelled")),
            "{style}: {:?}",
            wire.notifications
        );
        assert!(wire
            .notifications
            .contains(&format!("Order {id} confirmed")));
    }
}

/// A newcomer's break-test: one `orders/cancelled` published from outside while the payment was
/// under way had the stock released and, once charged, the charge refunded, and OrderService,
/// which asked for neither, confirmed the order all the same. A release (or refund) of an order
/// still running now cancels it: no `orders/confirmed`, everything undone, the stock back.
#[test]
fn a_cancellation_from_outside_mid_saga_ends_the_order_cancelled_with_everything_undone() {
    for style in [SagaStyle::Parallel, SagaStyle::Choreography] {
        let mut wire = Wire::new(FlowSettings {
            stock: stock(10),
            ..settings(style)
        });
        wire.flow.settings.delays.payment = Duration::from_millis(3000);
        let id = order_id(1);
        wire.place(id, &draft(2));
        // Until the stock is reserved: the charge is then under way (its timer not fired yet).
        while wire.count(id, topics::INVENTORY_RESERVED) == 0 {
            wire.deliver();
            let next = (0..wire.timers.len())
                .min_by_key(|&i| (wire.timers[i].0, wire.timers[i].1))
                .unwrap();
            wire.fire_timer(next);
        }
        wire.deliver();
        assert_eq!(wire.count(id, topics::INVENTORY_RESERVED), 1, "{style}");
        assert_eq!(wire.count(id, topics::PAYMENTS_PROCESSED), 0, "{style}");
        let forged: DomainEvent = crate::domain::events::OrderCancelled {
            order_id: id,
            reason: "by hand".into(),
            cancelled_at: wire.now(),
        }
        .into();
        wire.publish(forged);
        wire.settle();
        let case = format!("{style}: {:?}", wire.topics_of(id));
        assert_eq!(wire.count(id, topics::ORDERS_CONFIRMED), 0, "{case}");
        let own: Vec<String> = wire
            .published
            .iter()
            .filter_map(|(_, e)| match e {
                DomainEvent::OrderCancelled(c) if c.order_id == id && c.reason != "by hand" => {
                    Some(c.reason.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            own.first().map(String::as_str),
            Some(crate::domain::order::UNASKED_RELEASE),
            "{case}"
        );
        let saga = wire.flow.order.saga(id).unwrap();
        assert_eq!(saga.order.status, OrderStatus::Cancelled, "{case}");
        // Every step undone: the stock back, and the charge (if made) refunded.
        assert_eq!(wire.flow.inventory.stock().of("P001"), Some(10), "{case}");
        let charged = wire
            .published
            .iter()
            .filter(|(_, e)| matches!(e, DomainEvent::PaymentProcessed(p) if p.order_id == id && p.success))
            .count();
        let refunded = wire
            .published
            .iter()
            .filter(|(_, e)| matches!(e, DomainEvent::PaymentRefunded(r) if r.order_id == id && !r.is_uncharged()))
            .count();
        assert_eq!(refunded, charged, "{case}: every charge refunded");
        // OrderService's log says why it cancelled.
        assert!(
            wire.logged.iter().any(|l| l.starts_with(&format!(
                "order {id} cancelled: InventoryService released its reservation \
                 (inventory/released) while the order was still running"
            ))),
            "{case}: {:?}",
            wire.logged
        );
        // Nothing left for OrderService to ask by hand.
        assert!(
            !wire.logged.iter().any(|l| l.contains("gives up")),
            "{case}: {:?}",
            wire.logged
        );
    }
}

#[test]
fn an_order_delivered_twice_is_charged_twice_and_a_cancellation_undoes_both() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(3),
        dedupe: false,
        ..settings(SagaStyle::Parallel)
    });
    let id = order_id(1);
    let order = validate(&draft(2)).unwrap();
    let created: DomainEvent = order::place(wire.now(), id, &order).into();
    // A redelivery, as a lost PUBACK would cause: the same message twice.
    wire.publish(created.clone());
    wire.publish(created);
    wire.settle();
    // The second reservation finds 1 left of 3 and fails: the order is cancelled.
    assert_eq!(
        wire.outcome(id),
        Ok(Some("out of stock: P001 (2 asked, 1 left)".into()))
    );
    assert_eq!(
        wire.count(id, topics::PAYMENTS_PROCESSED),
        2,
        "charged twice"
    );
    assert_eq!(
        wire.count(id, topics::PAYMENTS_REFUNDED),
        2,
        "and both refunded"
    );
    assert_eq!(wire.count(id, topics::INVENTORY_RELEASED), 1);
    assert_eq!(
        wire.flow.inventory.stock().of("P001"),
        Some(3),
        "all given back"
    );
}

#[test]
fn the_idempotent_consumer_ignores_an_order_delivered_twice() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(3),
        ..settings(SagaStyle::Parallel)
    });
    let id = order_id(1);
    let order = validate(&draft(2)).unwrap();
    let created: DomainEvent = order::place(wire.now(), id, &order).into();
    wire.publish(created.clone());
    wire.publish(created);
    wire.settle();
    assert_eq!(wire.outcome(id), Ok(None), "one order, confirmed");
    assert_eq!(
        wire.count(id, topics::PAYMENTS_PROCESSED),
        1,
        "charged once"
    );
    assert_eq!(
        wire.count(id, topics::INVENTORY_RESERVED),
        1,
        "reserved once"
    );
    assert_eq!(wire.flow.inventory.stock().of("P001"), Some(1));
    let ignored: Vec<ServiceId> = wire
        .rejections
        .iter()
        .filter(|(_, topic, reason)| {
            *topic == topics::ORDERS_CREATED && reason.starts_with("duplicate ignored")
        })
        .map(|(service, ..)| *service)
        .collect();
    assert_eq!(
        ignored,
        [
            ServiceId::Order,
            ServiceId::Payment,
            ServiceId::Inventory,
            ServiceId::Notification
        ],
        "every consumer ignored the repeat once"
    );
}

#[test]
fn duplicates_are_chosen_by_identity_so_a_link_replays_them() {
    let picked = |percent| {
        (0..1000u128)
            .filter(|n| {
                published_twice(
                    (
                        topics::ORDERS_CREATED,
                        Uuid::from_u128(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                    ),
                    percent,
                )
            })
            .count()
    };
    assert_eq!(picked(0), 0);
    assert_eq!(picked(100), 1000);
    assert!((150..=250).contains(&picked(20)), "{}", picked(20));
    let id = (topics::PAYMENTS_PROCESSED, Uuid::from_u128(7));
    assert_eq!(published_twice(id, 50), published_twice(id, 50));
}

#[test]
fn a_poison_order_fails_every_handler_and_its_fixed_copy_completes() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel));
    let id = order_id(1);
    let mut poison = validate(&draft(2)).unwrap();
    poison.customer_id = dead_letter::POISON_CUSTOMER.into();
    let created: DomainEvent = order::place(wire.now(), id, &poison).into();
    wire.publish(created);
    wire.settle();
    let failed: Vec<(ServiceId, RejectionKind)> = wire
        .rejections
        .iter()
        .map(|(service, _, reason)| (*service, reason.as_str()))
        .filter(|(_, reason)| reason.contains("poison"))
        .map(|(service, _)| (service, RejectionKind::Failed))
        .collect();
    assert_eq!(
        failed.len(),
        4,
        "every handler failed: {:?}",
        wire.rejections
    );
    assert_eq!(
        wire.topics_of(id),
        [topics::ORDERS_CREATED],
        "nothing else happened"
    );
    // Failing is not processing: the fixed message (same order id) is not a duplicate.
    let fixed: DomainEvent = order::place(wire.now(), id, &validate(&draft(2)).unwrap()).into();
    wire.publish(fixed);
    wire.settle();
    assert_eq!(wire.outcome(id), Ok(None));
}

/// An order for a product the stock does not list: InventoryService refuses it as unknown (a
/// dead letter), in every style; once the product is added to the stock, the same message
/// published again (the dead letter's Retry) is reserved, the other consumers ignore it as a
/// duplicate, and the order completes.
#[test]
fn an_unknown_product_is_dead_lettered_and_its_retry_completes_once_the_stock_lists_it() {
    for style in SagaStyle::ALL {
        let mut wire = Wire::new(FlowSettings {
            stock: stock(5),
            ..settings(style)
        });
        wire.flow.inventory.set_stock(stock(5));
        let id = order_id(1);
        let mut unknown = draft(2);
        unknown.items[0].product_id = "P009".into();
        wire.place(id, &unknown);
        wire.deliver();
        // What InventoryService was asked: the order, or (orchestration) OrderService's command.
        let asked = match style {
            SagaStyle::Orchestration => topics::COMMAND_RESERVE_INVENTORY,
            _ => topics::ORDERS_CREATED,
        };
        let (topic, payload) = wire
            .published
            .iter()
            .find(|(_, e)| e.topic() == asked)
            .map(|(_, e)| (e.topic(), e.to_json()))
            .expect("InventoryService was asked");
        assert!(
            wire.rejections
                .iter()
                .any(|(s, t, r)| *s == ServiceId::Inventory
                    && *t == asked
                    && r.starts_with("unknown product")),
            "{style:?}: {:?}",
            wire.rejections
        );
        let inventory = ServiceId::Inventory;
        let mut flow = wire.flow.clone();
        let refused = flow
            .handle(inventory, wire.now(), topic, &payload)
            .expect_err("an unknown product is refused");
        assert_eq!(refused.kind, RejectionKind::Unknown, "{style:?}");
        assert_eq!(
            dead_letter::next_step(refused.kind, 1, dead_letter::RETRY_AFTER),
            dead_letter::Step::DeadLetter,
            "dead-lettered at once"
        );
        assert!(
            refused
                .reason
                .starts_with("unknown product \"P009\": the stock lists only P001"),
            "{style:?}: {}",
            refused.reason
        );
        assert_eq!(
            wire.count(id, topics::INVENTORY_RESERVED),
            0,
            "{style:?}: nothing reserved"
        );
        assert_eq!(wire.flow.inventory.stock().of("P001"), Some(5));
        // Fixed: the stock lists P009 now. The Retry publishes the same message again.
        wire.flow
            .inventory
            .set_stock(Stock::parse("P001:5,P009:3").unwrap());
        wire.queue.extend(
            ServiceId::ALL
                .into_iter()
                .filter(|s| s.subscriptions(style).contains(&topic))
                .map(|s| (s, DomainEvent::decode(topic, &payload).unwrap())),
        );
        wire.settle();
        assert_eq!(wire.outcome(id), Ok(None), "{style:?}: completed");
        assert_eq!(
            wire.count(id, topics::PAYMENTS_PROCESSED),
            1,
            "{style:?}: charged once"
        );
        assert_eq!(wire.flow.inventory.stock().of("P009"), Some(1), "{style:?}");
    }
}

/// A product taken out of the stock while its reservation is under way fails that reservation
/// (the order is cancelled and compensated), naming it.
#[test]
fn a_product_removed_from_the_stock_mid_reservation_fails_it() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel));
    wire.flow
        .inventory
        .set_stock(Stock::parse("P001:5,P002:5").unwrap());
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.deliver();
    wire.flow
        .inventory
        .set_stock(Stock::parse("P002:5").unwrap());
    wire.settle();
    let reason = wire.outcome(id).unwrap().expect("cancelled");
    assert!(
        reason.contains("P001") && reason.contains("no longer in the stock"),
        "{reason}"
    );
}

/// A newcomer's break-test (C7): stock `P001:5`, two orders of 2 reserved (1 left), the stock
/// set to 10 mid-saga, then both orders time out. The releases give their 4 units back on top
/// of the 10 set (an edit sets the units on hand, reservations held are kept): the units held
/// by open reservations are counted apart ([`InventoryService::held`]) so the page can say so;
/// a release or a confirmation ends the hold.
#[test]
fn units_held_by_open_reservations_are_counted_apart_from_the_stock_on_hand() {
    use std::time::Duration;
    let mut wire = Wire::new(FlowSettings {
        stock: Stock::parse("P001:5").unwrap(),
        delays: crate::services::Delays {
            payment: Duration::from_millis(3_000),
            inventory: Duration::from_millis(200),
        },
        saga_timeout: Duration::from_millis(2_000),
        ..settings(SagaStyle::Parallel)
    });
    wire.flow
        .inventory
        .set_stock(Stock::parse("P001:5").unwrap());
    assert_eq!(wire.flow.inventory.held(), Stock::default(), "nothing held");
    let (first, second) = (order_id(1), order_id(2));
    wire.place(first, &draft(2));
    wire.place(second, &draft(2));
    wire.deliver();
    wire.fire_next();
    wire.fire_next();
    wire.deliver();
    assert_eq!(wire.flow.inventory.stock().of("P001"), Some(1));
    assert_eq!(wire.flow.inventory.held(), Stock::parse("P001:4").unwrap());
    // The learner sets 10 on hand: the 4 held stay held, apart.
    wire.flow
        .inventory
        .set_stock(Stock::parse("P001:10").unwrap());
    assert_eq!(wire.flow.inventory.held(), Stock::parse("P001:4").unwrap());
    wire.settle();
    assert_eq!(
        wire.outcome(first).unwrap().as_deref(),
        Some("payment timed out")
    );
    assert_eq!(
        wire.flow.inventory.stock().of("P001"),
        Some(14),
        "given back on top"
    );
    assert_eq!(
        wire.flow.inventory.held(),
        Stock::default(),
        "released: held no more"
    );

    // A confirmed order's units are sold, not held.
    let mut wire = Wire::new(FlowSettings {
        stock: stock(5),
        ..settings(SagaStyle::Parallel)
    });
    wire.flow.inventory.set_stock(stock(5));
    wire.place(first, &draft(2));
    wire.settle();
    assert_eq!(wire.outcome(first), Ok(None), "confirmed");
    assert_eq!(wire.flow.inventory.stock().of("P001"), Some(3));
    assert_eq!(wire.flow.inventory.held(), Stock::default());
    // Nothing counted: nothing held, whatever was reserved.
    let mut wire = Wire::new(settings(SagaStyle::Parallel));
    wire.place(first, &draft(2));
    wire.settle();
    assert_eq!(wire.flow.inventory.held(), Stock::default());
    // Orchestrated, InventoryService hears no outcome (a break-test saw every completed
    // order's units "held" for good): a reservation by command is taken, not held, and the
    // memo kept for a reload says so.
    let mut wire = Wire::new(FlowSettings {
        stock: stock(5),
        ..settings(SagaStyle::Orchestration)
    });
    wire.flow.inventory.set_stock(stock(5));
    wire.place(first, &draft(2));
    wire.settle();
    assert_eq!(wire.outcome(first), Ok(None), "confirmed");
    assert_eq!(wire.flow.inventory.stock().of("P001"), Some(3));
    assert_eq!(wire.flow.inventory.held(), Stock::default());
    let memo = wire.flow.inventory.memo(first).expect("its reservation");
    assert!(memo.commanded);
    let mut reloaded = crate::services::inventory::InventoryService::new(stock(3));
    reloaded.restore_memo(first, &memo);
    assert_eq!(reloaded.held(), Stock::default(), "after a reload too");
}

/// OrderService is event-sourced: what it recorded (and published for the read side) is its
/// store, each order's saga is the fold of its stream, a projection of the recorded events
/// agrees with the sagas, and a page that reloads its store resumes each open saga with what
/// is left of its deadline.
#[test]
fn order_service_keeps_each_order_as_a_stream_and_a_reload_resumes_open_sagas() {
    use crate::store::{EventStore, ReadModel};
    for style in SagaStyle::ALL {
        let mut wire = Wire::new(FlowSettings {
            stock: stock(2),
            ..settings(style)
        });
        wire.flow.inventory.set_stock(stock(2));
        let (done, short, open) = (order_id(1), order_id(2), order_id(3));
        wire.place(done, &draft(2));
        wire.settle();
        wire.place(short, &draft(1));
        wire.settle();
        wire.place(open, &draft(1));
        wire.deliver();
        let store = wire.flow.order.store().clone();
        assert_eq!(
            store,
            EventStore::load(wire.recorded.clone()).unwrap(),
            "{style:?}: every appended event was recorded, in order"
        );
        let mut read_model = ReadModel::new();
        for event in &wire.recorded {
            read_model.project(event);
        }
        for id in [done, short, open] {
            let saga = wire.flow.order.saga(id).unwrap();
            assert_eq!(store.fold(id).as_ref(), Some(&saga.order), "{style:?}");
            assert_eq!(read_model.get(id).unwrap().status, saga.order.status);
        }
        assert_eq!(
            store.stream(done).map(|e| e.event.type_name()).last(),
            Some("OrderCompleted")
        );
        assert!(
            store
                .stream(short)
                .any(|e| e.event.type_name() == "OrderCancelled"),
            "{style:?}: out of stock"
        );
        // The page reloads 2 s later: the open saga's deadline is due in what is left of 5 s.
        let later = Timestamp::from_unix_millis(wire.now_ms + 2_000).unwrap();
        let mut reloaded = Flow::new(settings(style));
        let deadlines =
            reloaded
                .order
                .restore(store.clone(), style, Duration::from_secs(5), later, &[]);
        let created = store.stream(open).next().unwrap().recorded_at.unix_millis();
        let left = 5_000 - (later.unix_millis() - created);
        assert_eq!(
            deadlines,
            [Command::Schedule {
                after: Duration::from_millis(left as u64),
                work: Work::Deadline { order_id: open },
            }],
            "{style:?}: only the open order"
        );
        assert_eq!(
            reloaded.order.saga(done).unwrap().order.status,
            OrderStatus::Completed
        );
        // Flow::restore also rebuilds QueryService's read model from the store.
        let mut via_flow = Flow::new(settings(style));
        via_flow.restore(store.clone(), later, &[]);
        assert_eq!(
            via_flow.query.model(),
            &read_model,
            "{style:?}: the read model is back"
        );
        // Its deadline passing cancels it, appended after what the old page recorded.
        let cancelled = reloaded
            .order
            .deadline(&FlowSettings::default(), open, later);
        let Some(Command::Record(event)) = cancelled.first() else {
            panic!("{cancelled:?}");
        };
        assert_eq!(event.position, store.head() + 1);
        assert_eq!(event.version, store.version(open) + 1);
    }
}

/// QueryService, the read side: each event OrderService recorded, delivered on its
/// `eventstore/orders/<orderId>` topic, is projected into the read model after the projection
/// delay (until then the answer is stale), a redelivered one is ignored as a duplicate, and
/// the projected model is the rebuild of the store.
#[test]
fn query_service_projects_the_store_s_events_after_the_delay_and_ignores_repeats() {
    use crate::store::{Rebuild, StoredEvent};
    let mut wire = Wire::new(settings(SagaStyle::Parallel));
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.settle();
    assert_eq!(wire.outcome(id), Ok(None));
    let delay = Duration::from_millis(300);
    let mut flow = Flow::new(FlowSettings {
        projection_delay: delay,
        ..settings(SagaStyle::Parallel)
    });
    let now = wire.now();
    let mut due = Vec::new();
    for event in &wire.recorded {
        let commands = flow
            .handle(ServiceId::Query, now, &event.topic(), &event.to_json())
            .unwrap();
        match &commands[..] {
            [Command::Schedule { after, work }] => {
                assert_eq!(*after, delay);
                due.push(work.clone());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        flow.query.model().applied(),
        0,
        "stale until the delay passes"
    );
    assert_eq!(
        flow.projections_pending(),
        wire.recorded.len(),
        "behind, not wrong"
    );
    // A crash loses them; the driver's timers armed before it do not project them.
    let mut crashed = flow.clone();
    assert_eq!(crashed.drop_projections(), wire.recorded.len());
    assert_eq!(crashed.projections_pending(), 0);
    for work in due {
        assert_eq!(work.service(), ServiceId::Query);
        assert!(flow.complete(work, now, Uuid::nil()).is_empty());
    }
    assert_eq!(flow.projections_pending(), 0);
    let model = flow.query.model();
    assert_eq!(
        model.get(id).map(|v| v.status),
        Some(OrderStatus::Completed)
    );
    let mut rebuild = Rebuild::new(None);
    while !rebuild.step(wire.flow.order.store(), 2).is_finished() {}
    assert_eq!(
        &rebuild.finish(),
        model,
        "the rebuild equals the live model"
    );
    // A redelivery (QoS 1) is a duplicate, ignored; a payload that is not a stored event is
    // malformed (dead-lettered); a topic outside the store is not followed.
    flow.settings.projection_delay = Duration::ZERO;
    let first: &StoredEvent = &wire.recorded[0];
    let again = flow.handle(ServiceId::Query, now, &first.topic(), &first.to_json());
    assert_eq!(again.unwrap_err().kind, RejectionKind::Duplicate);
    let garbage = flow.handle(ServiceId::Query, now, &first.topic(), b"not json");
    assert_eq!(garbage.unwrap_err().kind, RejectionKind::Malformed);
    let outside = flow.handle(ServiceId::Query, now, topics::ORDERS_CREATED, b"{}");
    assert_eq!(
        outside.unwrap_err().reason,
        "QueryService does not subscribe to `orders/created`"
    );
}

mod ordering;
mod recovery;
mod unknown_outcome;

#[test]
fn the_flow_keeps_its_schedule_so_new_clients_can_take_it_over() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(10),
        ..settings(SagaStyle::Parallel)
    });
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.deliver();
    let due: Vec<(i64, ServiceId)> = wire
        .flow
        .scheduled()
        .iter()
        .map(|(due, work)| (due.unix_millis() - START_MS, work.service()))
        .collect();
    // The deadline (5 s), the reservation (0.8 s) and the charge (1 s), as decided.
    let mut sorted = due.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            (800, ServiceId::Inventory),
            (1000, ServiceId::Payment),
            (5000, ServiceId::Order)
        ]
    );
    // Work that died with its service is forgotten; completed work too.
    wire.abandon_work_of(ServiceId::Payment);
    assert_eq!(wire.flow.scheduled().len(), 2);
    wire.settle();
    assert_eq!(wire.flow.scheduled(), []);
    assert_eq!(wire.outcome(id), Ok(Some("payment timed out".into())));
}

/// A newcomer's break-test (34-K F8): P002 removed from the stock while InventoryService was on
/// another broker kept its retained level on the first one, which the page said was cleared.
/// Each connection states the levels and clears every product removed in this page's life.
#[test]
fn the_levels_stated_on_connecting_clear_every_product_removed_since_the_page_opened() {
    use super::inventory::InventoryService;
    use super::stock_levels::StockUpdate;
    let mut inventory = InventoryService::new(Stock::parse("P001:100,P002:5").unwrap());
    let stated = |inventory: &InventoryService| {
        inventory
            .levels()
            .into_iter()
            .map(|c| match c {
                Command::Retain(update) => (update.topic(), update.payload()),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>()
    };
    let p001 = (
        "inventory/stock/P001".to_owned(),
        br#"{"productId":"P001","units":100}"#.to_vec(),
    );
    inventory.set_stock(Stock::parse("P001:100").unwrap());
    assert_eq!(
        stated(&inventory),
        [
            p001.clone(),
            ("inventory/stock/P002".to_owned(), Vec::new())
        ],
        "P002's level cleared on the next broker too"
    );
    // Counted again: stated, not cleared.
    inventory.set_stock(Stock::parse("P001:100,P002:1").unwrap());
    assert_eq!(
        stated(&inventory),
        [
            p001,
            (
                "inventory/stock/P002".to_owned(),
                StockUpdate::level("P002", 1).payload()
            )
        ]
    );
}

/// A newcomer's break-test (35-M F9): under choreography a second successful
/// `inventory/reserved` for an order (another InventoryService, or a second tab of the link),
/// under another reservation id, charged it again: after it was charged and confirmed too.
/// The step is the order's: with the idempotent consumers on, it charges nothing more; off,
/// the second charge is the lesson.
#[test]
fn under_choreography_another_reservation_of_a_charged_order_charges_nothing_more() {
    use crate::domain::events::InventoryReserved;
    for dedupe in [true, false] {
        let mut wire = Wire::new(FlowSettings {
            dedupe,
            ..settings(SagaStyle::Choreography)
        });
        let id = order_id(1);
        wire.place(id, &draft(2));
        wire.settle();
        assert_eq!(wire.outcome(id), Ok(None), "confirmed");
        let second: DomainEvent = InventoryReserved {
            order_id: id,
            reservation_id: Uuid::from_u128(0xabc),
            success: true,
            reason: None,
            reserved_at: wire.now(),
        }
        .into();
        wire.publish(second);
        wire.settle();
        let charges = wire.count(id, topics::PAYMENTS_PROCESSED);
        if dedupe {
            assert_eq!(charges, 1, "charged once, whatever the reservations");
            assert!(
                wire.rejections
                    .iter()
                    .any(|(service, _, reason)| *service == ServiceId::Payment
                        && reason.contains("charges nothing: it was charged here already")),
                "{:?}",
                wire.rejections
            );
        } else {
            assert_eq!(
                charges, 2,
                "with the idempotent consumers off: charged twice"
            );
        }
    }
}

/// A newcomer's break-test (35-N F4): an orchestrated saga cancelled ("inventory timed out")
/// and compensated, then the page reloaded into the default (parallel) style: the restored saga
/// was judged by the new style, asked for a refund nobody owed, and its ended stream grew. Its
/// creation keeps the style it started under, and a reload resumes it so.
#[test]
fn a_reload_into_another_style_resumes_each_saga_under_the_style_it_started_under() {
    use crate::store::StreamEvent;
    let mut wire = Wire::new(settings(SagaStyle::Orchestration));
    let id = order_id(1);
    wire.place(id, &draft(1));
    wire.deliver();
    // InventoryService never answers (crashed): the deadline cancels the order.
    wire.abandon_work_of(ServiceId::Inventory);
    wire.settle();
    assert_eq!(wire.outcome(id), Ok(Some("inventory timed out".into())));
    let store = wire.flow.order.store().clone();
    let kept = store.stream(id).next().map(|first| match &first.event {
        StreamEvent::Created { saga, .. } => *saga,
        StreamEvent::Order(_) => None,
    });
    assert_eq!(
        kept,
        Some(Some(SagaStyle::Orchestration)),
        "kept with the creation"
    );
    let checks = |store: crate::store::EventStore| {
        let later = Timestamp::from_unix_millis(wire.now_ms + 2_000).unwrap();
        let mut reloaded = Flow::new(settings(SagaStyle::Parallel));
        let commands = reloaded.order.restore(
            store,
            SagaStyle::Parallel,
            Duration::from_secs(5),
            later,
            &[],
        );
        commands
            .into_iter()
            .filter(|c| {
                matches!(
                    c,
                    Command::Schedule {
                        work: Work::Compensation {
                            undo: super::order::Undo::Refund,
                            ..
                        },
                        ..
                    }
                )
            })
            .count()
    };
    assert_eq!(
        checks(store.clone()),
        0,
        "under orchestration no charge was asked"
    );
    // A store from before the style was kept: the page's style, as before.
    let events: Vec<crate::store::StoredEvent> = store
        .stream(id)
        .map(|stored| {
            let mut stored = stored.clone();
            if let StreamEvent::Created { saga, .. } = &mut stored.event {
                *saga = None;
            }
            stored
        })
        .collect();
    let unkept = crate::store::EventStore::load(events).unwrap();
    assert_eq!(checks(unkept), 1, "judged by the page's style");
}

/// A newcomer's break-test (35-M F10): under orchestration a second successful reservation
/// (another InventoryService's, under its own id) made OrderService send the charge command
/// again. The charge is asked once per order.
#[test]
fn under_orchestration_a_second_reservation_asks_for_no_second_charge() {
    use crate::domain::events::InventoryReserved;
    let mut wire = Wire::new(settings(SagaStyle::Orchestration));
    let id = order_id(1);
    wire.place(id, &draft(2));
    let other: DomainEvent = InventoryReserved {
        order_id: id,
        reservation_id: Uuid::from_u128(0xabc),
        success: true,
        reason: None,
        reserved_at: wire.now(),
    }
    .into();
    wire.publish(other);
    wire.settle();
    assert_eq!(
        wire.count(id, topics::COMMAND_CHARGE_PAYMENT),
        1,
        "one charge command: {:?}",
        wire.topics_of(id)
    );
}

/// A newcomer's break-test (35-P F3): under orchestration a declined order's release command was
/// lost to a crashed InventoryService, and a "nothing to release" (the nil id) from outside
/// ended the compensation for OrderService. InventoryService still held the stock, so a switch
/// of style waited for that saga for ever, and every new order was refused.
#[test]
fn a_compensation_order_service_took_as_ended_keeps_no_switch_waiting() {
    use crate::domain::events::InventoryReleased;
    let mut wire = Wire::new(FlowSettings {
        stock: stock(10),
        payment: PaymentRule {
            decline_all: true,
            ..PaymentRule::default()
        },
        ..settings(SagaStyle::Orchestration)
    });
    let id = order_id(1);
    wire.place(id, &draft(1));
    // Delivers what is on its way, but no release command reaches InventoryService (crashed).
    let deliver_but_releases = |wire: &mut Wire| {
        while let Some((service, event)) = wire.queue.pop_front() {
            let lost = service == ServiceId::Inventory
                && matches!(event, DomainEvent::ReleaseInventory(_));
            if !lost {
                wire.handle_one(service, &event);
            }
        }
    };
    for _ in 0..50 {
        deliver_but_releases(&mut wire);
        if wire.count(id, topics::ORDERS_CANCELLED) > 0 {
            break;
        }
        wire.fire_next();
    }
    assert_eq!(wire.outcome(id), Ok(Some("payment declined".into())));
    let nothing: DomainEvent = InventoryReleased {
        order_id: id,
        reservation_id: Uuid::nil(),
        released_at: wire.now(),
    }
    .into();
    wire.publish(nothing);
    deliver_but_releases(&mut wire);
    assert!(
        wire.flow.inventory.holds(id),
        "InventoryService never heard the release"
    );
    assert_eq!(
        wire.flow.sagas_in_flight(),
        0,
        "OrderService asks nothing more: the saga has ended for a switch"
    );
}

/// 44-AS F1: a refund of part of the charge published by hand while the order ran was refused
/// ("the order is still running") but remembered as processed under the charge's id: the real
/// refund of the cancellation, under the same id, was then a "duplicate" every time, and the
/// store never held it. Refused as not the order's own, it is not remembered.
#[test]
fn a_refused_partial_refund_mid_saga_does_not_block_the_real_refund() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(1),
        ..settings(SagaStyle::Parallel)
    });
    wire.flow.settings.delays.payment = Duration::from_millis(300);
    wire.flow.settings.delays.inventory = Duration::from_millis(3000);
    let id = order_id(1);
    wire.place(id, &draft(2));
    while wire.count(id, topics::PAYMENTS_PROCESSED) == 0 {
        wire.deliver();
        wire.fire_next();
    }
    wire.deliver();
    let charge = wire
        .published
        .iter()
        .find_map(|(_, e)| match e {
            DomainEvent::PaymentProcessed(p) if p.order_id == id => Some(p.payment_id),
            _ => None,
        })
        .unwrap();
    let forged: DomainEvent = crate::domain::events::PaymentRefunded {
        order_id: id,
        payment_id: charge,
        amount: 10.0,
        refunded_at: wire.now(),
    }
    .into();
    wire.publish(forged);
    wire.settle();
    let saga = wire.flow.order.saga(id).unwrap();
    assert_eq!(saga.order.status, OrderStatus::Cancelled);
    assert_eq!(
        saga.order.payment,
        crate::domain::order::Step::Compensated(charge),
        "the real refund recorded: {:?}",
        wire.topics_of(id)
    );
    let stored: Vec<&str> = wire
        .flow
        .order
        .store()
        .stream(id)
        .map(|e| e.event.type_name())
        .collect();
    assert!(stored.contains(&"PaymentRefunded"), "{stored:?}");
}

/// 45-AV F1: PaymentService charged, then crashed; the order was cancelled at its deadline,
/// OrderService gave up on the refund, and the style switched to orchestration. Restarted,
/// PaymentService got the `orders/cancelled` its session had kept and refused it ("does not
/// subscribe"): the charge of a cancelled order was never refunded. A participant that holds
/// the order's step takes it under any style; one that holds nothing still refuses it.
#[test]
fn a_cancellation_kept_from_before_a_switch_to_orchestration_is_still_compensated() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel));
    let id = Uuid::from_u128(0xAB);
    wire.place(id, &draft(2));
    wire.deliver();
    // PaymentService's charge goes out; InventoryService's reservation is still under way.
    let charge = wire
        .timers
        .iter()
        .position(|(_, _, w)| w.service() == ServiceId::Payment)
        .unwrap();
    wire.fire_timer(charge);
    wire.queue.clear();
    assert_eq!(wire.flow.payment.charges_of(id).len(), 1);
    let cancelled: DomainEvent = crate::domain::events::OrderCancelled {
        order_id: id,
        reason: "inventory timed out".into(),
        cancelled_at: wire.now(),
    }
    .into();
    wire.flow.settings.saga = SagaStyle::Orchestration;
    wire.handle_one(ServiceId::Payment, &cancelled);
    assert_eq!(wire.count(id, crate::domain::topics::PAYMENTS_REFUNDED), 1);
    assert!(wire.rejections.is_empty(), "{:?}", wire.rejections);
    // A copy of it kept too: answered as a duplicate (the refund sent again), not refused.
    wire.handle_one(ServiceId::Payment, &cancelled);
    assert_eq!(wire.rejections.len(), 1);
    assert!(
        wire.rejections[0].2.starts_with("duplicate ignored"),
        "{:?}",
        wire.rejections
    );
    assert_eq!(wire.count(id, crate::domain::topics::PAYMENTS_REFUNDED), 2);
    wire.rejections.clear();
    // NotificationService, which holds no step, still refuses what it does not subscribe to
    // under orchestration, and so does PaymentService for an order it never charged.
    let other = Uuid::from_u128(0xAC);
    let never: DomainEvent = crate::domain::events::OrderCancelled {
        order_id: other,
        reason: "by hand".into(),
        cancelled_at: wire.now(),
    }
    .into();
    wire.handle_one(ServiceId::Payment, &never);
    assert_eq!(wire.rejections.len(), 1);
    assert!(
        wire.rejections[0].2.contains("does not subscribe"),
        "{:?}",
        wire.rejections
    );
}

/// 45-AV F1's mirror: InventoryService reserved under orchestration, and the release command
/// its session kept reaches it after a switch to parallel: still released.
#[test]
fn a_release_command_kept_from_before_a_switch_to_parallel_is_still_carried_out() {
    let mut wire = Wire::new(settings(SagaStyle::Orchestration));
    let id = Uuid::from_u128(0xAD);
    wire.place(id, &draft(2));
    wire.deliver();
    // OrderService asks InventoryService to reserve; the reservation goes out.
    let reserve = wire
        .timers
        .iter()
        .position(|(_, _, w)| w.service() == ServiceId::Inventory)
        .unwrap();
    wire.fire_timer(reserve);
    wire.queue.clear();
    assert!(wire.flow.inventory.did_reserve(id));
    let release: DomainEvent = crate::domain::events::ReleaseInventory {
        order_id: id,
        reason: "payment timed out".into(),
        requested_at: wire.now(),
    }
    .into();
    wire.flow.settings.saga = SagaStyle::Parallel;
    wire.handle_one(ServiceId::Inventory, &release);
    assert!(wire.rejections.is_empty(), "{:?}", wire.rejections);
    assert_eq!(wire.count(id, crate::domain::topics::INVENTORY_RELEASED), 1);
}

/// 45-AW F6: a refund by hand recorded, then the same refund again (another refundedAt):
/// OrderService's log said only "accepted" where the row said it was ignored.
#[test]
fn a_refund_recorded_before_is_logged_as_nothing_new() {
    // The idempotent consumer off, as in the break-test (on, the copy is a duplicate).
    let mut wire = Wire::new(FlowSettings {
        dedupe: false,
        ..settings(SagaStyle::Parallel)
    });
    let id = Uuid::from_u128(0xAE);
    wire.place(id, &draft(2));
    wire.settle();
    assert_eq!(wire.outcome(id), Ok(None), "completed");
    let payment_id = wire
        .published
        .iter()
        .find_map(|(_, e)| match e {
            DomainEvent::PaymentProcessed(p) if p.order_id == id => Some(p.payment_id),
            _ => None,
        })
        .unwrap();
    let refund = |at: i64| -> DomainEvent {
        crate::domain::events::PaymentRefunded {
            order_id: id,
            payment_id,
            amount: 59.98,
            refunded_at: Timestamp::from_unix_millis(START_MS + at).unwrap(),
        }
        .into()
    };
    wire.handle_one(ServiceId::Order, &refund(10_000));
    let recorded = wire.recorded.len();
    wire.handle_one(ServiceId::Order, &refund(20_000));
    assert_eq!(
        wire.recorded.len(),
        recorded,
        "nothing recorded the second time"
    );
    assert!(
        wire.logged.iter().any(|l| l
            == &format!("refund of payment {payment_id} for order {id}: nothing new, the order's stream holds it already (one per payment or reservation), so nothing is recorded")),
        "{:?}",
        wire.logged
    );
}
