//! Every order of arrival. MQTT keeps the messages of one topic in order (MQTT 3.1.1 §4.6,
//! 5.0 §4.6: an ordered topic) and promises nothing between topics; a timer may fire before a
//! message that is late. These tests put one order through the services and, at every step,
//! try each thing that could happen next: the first message still on its way to one consumer
//! on one topic, or the earliest timer. Every path (every permutation of the order's events at
//! every consumer that the rules allow) must end with exactly one terminal event, nothing
//! charged or held for a cancelled order, exactly the order's total charged and its units held
//! for a confirmed one, and OrderService's record agreeing with the wire.
//!
//! NotificationService's deliveries are made at once: it only tells the customer and
//! publishes nothing, so when they arrive changes no one's state.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// What may happen next.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// The message at this place in the queue reaches its subscriber.
    Deliver(usize),
    /// The earliest timer fires.
    Fire,
}

impl Wire {
    /// Delivers everything on its way to NotificationService.
    fn deliver_notifications(&mut self) {
        while let Some(i) = self
            .queue
            .iter()
            .position(|(s, _)| *s == ServiceId::Notification)
        {
            self.deliver_at(i);
        }
    }

    fn deliver_at(&mut self, i: usize) -> String {
        let (service, event) = self.queue.remove(i).unwrap();
        let what = format!("{}<-{}", service.name(), event.topic());
        self.handle_one(service, &event);
        what
    }

    fn fire_earliest(&mut self) -> String {
        let next = (0..self.timers.len())
            .min_by_key(|&i| (self.timers[i].0, self.timers[i].1))
            .unwrap();
        let (due, _, work) = self.timers.remove(next);
        self.now_ms = self.now_ms.max(due);
        self.next_id += 1;
        let what = format!("timer {:?}", work.service());
        let commands = self
            .flow
            .complete(work, self.now(), Uuid::from_u128(self.next_id));
        self.run(commands);
        what
    }

    /// What may happen next: per consumer and topic, only the first message (a topic keeps
    /// its order), and the earliest timer: at any time if `late` (a message may be held up
    /// past any timer, as in an outage), else only once every message has arrived.
    fn next_steps(&self, late: bool) -> Vec<Next> {
        let mut steps = Vec::new();
        for (i, (service, event)) in self.queue.iter().enumerate() {
            let first = self
                .queue
                .iter()
                .position(|(s, e)| s == service && e.topic() == event.topic());
            if first == Some(i) {
                steps.push(Next::Deliver(i));
            }
        }
        // A compensation check (a whole deadline after the cancellation) fires only once the
        // wire is quiet: held-up messages are this file's question, sending a compensation
        // again is recovery.rs's, and letting it fire early too makes the paths explode.
        let earliest = (0..self.timers.len()).min_by_key(|&i| (self.timers[i].0, self.timers[i].1));
        let check = earliest.is_some_and(|i| matches!(self.timers[i].2, Work::Compensation { .. }));
        if earliest.is_some() && ((late && !check) || steps.is_empty()) {
            steps.push(Next::Fire);
        }
        steps
    }
}

/// What the paths of one case came to.
#[derive(Debug, Default)]
struct Explored {
    paths: usize,
    confirmed: usize,
    /// How many paths ended cancelled, by reason.
    cancelled: BTreeMap<String, usize>,
    /// What OrderService, PaymentService and InventoryService refused on some path.
    refused: BTreeSet<String>,
}

/// Walks every path from `wire`, checking each end with `check`; `path` says how it got here.
fn explore(
    mut wire: Wire,
    late: bool,
    path: &mut Vec<String>,
    explored: &mut Explored,
    check: &dyn Fn(&Wire) -> Result<Option<String>, String>,
) {
    wire.deliver_notifications();
    let steps = wire.next_steps(late);
    if steps.is_empty() {
        explored.paths += 1;
        match check(&wire) {
            Ok(None) => explored.confirmed += 1,
            Ok(Some(reason)) => *explored.cancelled.entry(reason).or_default() += 1,
            Err(problem) => panic!("{problem}\nafter: {}", path.join(", ")),
        }
        for (service, topic, reason) in &wire.rejections {
            explored
                .refused
                .insert(format!("{}<-{topic}: {reason}", service.name()));
        }
        return;
    }
    for step in steps {
        let mut next = wire.clone();
        let what = match step {
            Next::Deliver(i) => next.deliver_at(i),
            Next::Fire => next.fire_earliest(),
        };
        path.push(what);
        explore(next, late, path, explored, check);
        path.pop();
    }
}

/// The checks at the end of a path for order `id` of `quantity` units of P001, the stock
/// starting at `start`: the outcome (None: confirmed; else the cancellation's reason), or
/// what is wrong.
fn settled_correctly(
    wire: &Wire,
    id: Uuid,
    quantity: u32,
    start: u32,
) -> Result<Option<String>, String> {
    let outcome = wire.outcome(id)?;
    let confirmed = outcome.is_none();
    let total = 29.99 * f64::from(quantity);
    let (mut charged, mut refunded) = (0.0, 0.0);
    for (_, event) in &wire.published {
        match event {
            DomainEvent::PaymentProcessed(p) if p.order_id == id && p.success => {
                charged += p.amount
            }
            DomainEvent::PaymentRefunded(r) if r.order_id == id => refunded += r.amount,
            _ => {}
        }
    }
    let net = charged - refunded;
    let expected = if confirmed { total } else { 0.0 };
    if (net - expected).abs() > 0.001 {
        return Err(format!(
            "charged {charged:.2}, refunded {refunded:.2}: net {net:.2}, not {expected:.2} \
             (confirmed: {confirmed})"
        ));
    }
    let left = wire.flow.inventory.stock().of("P001").unwrap_or_default();
    let held = if confirmed { quantity } else { 0 };
    if left != start - held {
        return Err(format!(
            "{left} units left of {start}: {held} should be held (confirmed: {confirmed})"
        ));
    }
    let saga = wire
        .flow
        .order
        .saga(id)
        .ok_or("OrderService lost the saga")?;
    let order = &saga.order;
    let agrees = if confirmed {
        order.status == crate::domain::order::OrderStatus::Completed
    } else {
        order.status == crate::domain::order::OrderStatus::Cancelled
            && !order.inventory.is_confirmed()
            && !order.payment.is_confirmed()
    };
    if !agrees {
        return Err(format!(
            "OrderService's record disagrees with the wire (confirmed: {confirmed}): {order:?}"
        ));
    }
    Ok(outcome)
}

/// One order through every path, in `style`, after `setup`; the stock starts at `start`.
fn every_path(
    style: SagaStyle,
    late: bool,
    start: u32,
    setup: &dyn Fn(&mut FlowSettings),
) -> Explored {
    every_path_changing_style(style, None, late, start, setup)
}

/// [`every_path`], the learner choosing style `then` as soon as the order is placed.
fn every_path_changing_style(
    style: SagaStyle,
    then: Option<SagaStyle>,
    late: bool,
    start: u32,
    setup: &dyn Fn(&mut FlowSettings),
) -> Explored {
    let mut settings = settings(style);
    settings.stock = stock(start);
    setup(&mut settings);
    let mut wire = Wire::new(settings);
    let id = order_id(1);
    wire.place(id, &draft(2));
    if let Some(then) = then {
        wire.deliver();
        assert!(!wire.flow.choose_style(then), "a saga is in flight");
        assert_eq!(wire.flow.style_waiting(), Some((then, 1)));
    }
    let mut explored = Explored::default();
    explore(wire, late, &mut Vec::new(), &mut explored, &|w| {
        let outcome = settled_correctly(w, id, 2, start)?;
        match (then, w.flow.style_waiting()) {
            (Some(then), None) if w.flow.settings.saga == then => Ok(outcome),
            (None, None) => Ok(outcome),
            (_, waiting) => Err(format!(
                "the style is {} and {waiting:?} is waiting",
                w.flow.settings.saga
            )),
        }
    });
    explored
}

/// The refusals allowed on a path: only messages kept until their order's creation arrives,
/// and a copy of `orders/cancelled` ignored by who heard the first: OrderService sends it again
/// when a step it compensates has not answered, which a step still under way (its outcome
/// unknown) has not.
fn only_early(explored: &Explored) -> Vec<&String> {
    explored
        .refused
        .iter()
        .filter(|r| !r.contains("kept, and handled when its orders/created arrives"))
        .filter(|r| !r.contains("<-orders/cancelled: duplicate ignored"))
        .collect()
}

#[test]
fn every_order_of_arrival_of_a_successful_order_confirms_it() {
    for style in SagaStyle::ALL {
        let explored = every_path(style, false, 10, &|_| {});
        assert!(explored.paths > 0);
        assert_eq!(explored.confirmed, explored.paths, "{style}: {explored:#?}");
        assert_eq!(only_early(&explored), [] as [&String; 0], "{style}");
    }
}

#[test]
fn every_order_of_arrival_of_a_failing_order_cancels_it_for_its_reason() {
    let out_of_stock = "out of stock: P001 (2 asked, 1 left)";
    for style in SagaStyle::ALL {
        let declined = every_path(style, false, 10, &|s| s.payment.decline_all = true);
        assert_eq!(
            declined.cancelled.get("payment declined"),
            Some(&declined.paths),
            "{style}: {declined:#?}"
        );
        let short = every_path(style, false, 1, &|_| {});
        assert_eq!(
            short.cancelled.get(out_of_stock),
            Some(&short.paths),
            "{style}: {short:#?}"
        );
        // Both fail: the stock (0.8 s) answers before the payment (1 s), so its reason stays
        // however the messages arrive.
        let both = every_path(style, false, 1, &|s| s.payment.decline_all = true);
        assert_eq!(
            both.cancelled.get(out_of_stock),
            Some(&both.paths),
            "{style}: {both:#?}"
        );
        for explored in [&declined, &short, &both] {
            assert_eq!(only_early(explored), [] as [&String; 0], "{style}");
        }
    }
}

/// Messages held up past any timer (a broker down longer than the saga's deadline): every
/// path still ends with one outcome, nothing charged or held for a cancelled order, and
/// nothing refused but what waits for its order's creation.
#[test]
fn every_order_of_arrival_with_late_messages_ends_in_one_consistent_outcome() {
    for style in SagaStyle::ALL {
        let explored = every_path(style, true, 10, &|_| {});
        assert!(explored.confirmed > 0, "{style}: {explored:#?}");
        assert!(
            explored.cancelled.keys().all(|r| r.ends_with("timed out")),
            "{style}: {explored:#?}"
        );
        assert_eq!(only_early(&explored), [] as [&String; 0], "{style}");
        let short = every_path(style, true, 1, &|s| s.payment.decline_all = true);
        assert_eq!(short.confirmed, 0, "{style}: {short:#?}");
        assert_eq!(only_early(&short), [] as [&String; 0], "{style}");
    }
}

/// The style changed while an order is in flight: it waits for the saga to end, so the order
/// ends as its own style says in every order of arrival (a charge taken in parallel is still
/// refunded when orchestration, which would not hear the cancellation, takes over), and new
/// orders then run in the new style.
#[test]
fn a_style_chosen_mid_saga_waits_for_it_to_end() {
    for from in SagaStyle::ALL {
        for to in SagaStyle::ALL.into_iter().filter(|s| *s != from) {
            // Out of stock, the payment slower than the deadline is not: the refund case.
            let slow = |s: &mut FlowSettings| s.delays.payment = Duration::from_millis(3000);
            for (start, setup) in [(10, &slow as &dyn Fn(&mut FlowSettings)), (1, &slow)] {
                let explored = every_path_changing_style(from, Some(to), false, start, setup);
                assert!(explored.paths > 0, "{from} -> {to}");
                // A message already on its way when the old subscription ended is refused,
                // and needed by no one: the saga had ended.
                let refused: Vec<&String> = only_early(&explored)
                    .into_iter()
                    .filter(|r| !r.contains("does not subscribe to"))
                    .collect();
                assert_eq!(refused, [] as [&String; 0], "{from} -> {to}");
            }
        }
    }
    // Then a new order runs in the new style.
    let mut wire = Wire::new(FlowSettings {
        stock: stock(10),
        ..settings(SagaStyle::Parallel)
    });
    wire.place(order_id(1), &draft(2));
    wire.deliver();
    assert!(!wire.flow.choose_style(SagaStyle::Orchestration));
    wire.settle();
    assert_eq!(wire.flow.settings.saga, SagaStyle::Orchestration);
    wire.place(order_id(2), &draft(2));
    wire.settle();
    assert_eq!(wire.outcome(order_id(2)), Ok(None));
    assert!(wire
        .topics_of(order_id(2))
        .contains(&topics::COMMAND_CHARGE_PAYMENT));
    // With nothing in flight it applies at once.
    assert!(wire.flow.choose_style(SagaStyle::Choreography));
}
