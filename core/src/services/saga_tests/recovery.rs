//! A saga recovering from what an outage takes away: OrderService away while its deadline
//! passes, and compensations that never reach their consumer (a broker that lost the
//! sessions), in every style.

use super::*;

impl Wire {
    /// A wire whose sagas have the deadline these cases use (1.5 s), in `style`, with the
    /// payment and the reservation taking `payment_ms` and `inventory_ms`.
    fn timed(style: SagaStyle, payment_ms: u64, inventory_ms: u64) -> Wire {
        Wire::new(FlowSettings {
            saga: style,
            saga_timeout: Duration::from_millis(1500),
            delays: Delays {
                payment: Duration::from_millis(payment_ms),
                inventory: Duration::from_millis(inventory_ms),
            },
            ..FlowSettings::default()
        })
    }

    /// [`Wire::timed`] with the default work delays.
    fn timed_default(style: SagaStyle) -> Wire {
        Wire::new(FlowSettings {
            saga: style,
            saga_timeout: Duration::from_millis(1500),
            ..FlowSettings::default()
        })
    }

    /// Takes what is on its way to `service` off the wire: held for a crashed client whose
    /// session the broker keeps, or lost with a session the broker lost.
    fn take_for(&mut self, service: ServiceId) -> Vec<(ServiceId, DomainEvent)> {
        let taken = self.queue.iter().filter(|(s, _)| *s == service).cloned();
        let taken = taken.collect();
        self.queue.retain(|(s, _)| *s != service);
        taken
    }

    /// Fires the timers due up to `until_ms` (earliest first) that `fire` accepts, delivering
    /// everything but what goes to `away` after each; the others stay armed.
    fn run_until(&mut self, until_ms: i64, away: ServiceId, fire: impl Fn(&Work) -> bool) {
        let mut held = Vec::new();
        loop {
            self.deliver_except(away, &mut held);
            let next = (0..self.timers.len())
                .filter(|&i| self.timers[i].0 <= until_ms && fire(&self.timers[i].2))
                .min_by_key(|&i| (self.timers[i].0, self.timers[i].1));
            let Some(next) = next else { break };
            self.fire_timer(next);
        }
        self.now_ms = until_ms;
        self.queue.extend(held);
    }

    /// Runs the wire until nothing is left to deliver or fire, the services in `gone` gone for
    /// good (crashed with their work in hand): what goes to them is dropped, their timers too.
    fn settle_without(&mut self, gone: &[ServiceId]) {
        loop {
            self.queue.retain(|(service, _)| !gone.contains(service));
            self.timers
                .retain(|(_, _, work)| !gone.contains(&work.service()));
            if let Some((service, event)) = self.queue.pop_front() {
                self.handle_one(service, &event);
                continue;
            }
            if self.timers.is_empty() {
                break;
            }
            self.fire_next();
        }
    }

    fn deliver_except(&mut self, away: ServiceId, held: &mut Vec<(ServiceId, DomainEvent)>) {
        held.extend(self.take_for(away));
        self.deliver();
        held.extend(self.take_for(away));
    }
}

/// The newcomer's batch: payment 3 s, deadline 1.5 s, OrderService crashed just after the
/// orders went out and restarted 5 s later. Its deadlines passed while it was away; the results
/// the broker kept for it arrive first thing on restart, before any timer of the new client
/// fires. Each order must be cancelled as timed out, and its charge refunded.
#[test]
fn a_deadline_that_passed_while_order_service_was_away_acts_before_the_results_it_missed() {
    for style in SagaStyle::ALL {
        let mut wire = Wire::timed(style, 3000, 800);
        let orders: Vec<Uuid> = (0..10).map(order_id).collect();
        for &id in &orders {
            wire.place(id, &draft(2));
        }
        // OrderService hears its orders created, then crashes at 0.2 s.
        wire.deliver();
        let crash_ms = START_MS + 200;
        // Away until 5.2 s: the broker keeps what is published for it; its deadline timers
        // only wait (the driver arms them again while it is crashed).
        wire.run_until(START_MS + 5_200, ServiceId::Order, |work| {
            !matches!(work, Work::Deadline { .. })
        });
        assert!(wire.now_ms > crash_ms);
        // Back: the broker delivers what it kept before any timer fires.
        wire.deliver();
        wire.settle();
        for &id in &orders {
            // Timed out on what OrderService had not heard of by then (the reservation too,
            // made after the crash).
            let reason = wire.outcome(id).unwrap();
            assert!(
                reason.as_deref().is_some_and(|r| r.ends_with("timed out")),
                "{style:?}: {reason:?}, {:?}",
                wire.topics_of(id)
            );
            let charged = wire.count(id, topics::PAYMENTS_PROCESSED);
            assert_eq!(
                wire.count(id, topics::PAYMENTS_REFUNDED),
                charged,
                "{style:?}"
            );
            assert!(!wire.flow.payment.has_charged(id), "{style:?}: refunded");
            assert!(!wire.flow.inventory.holds(id), "{style:?}: released");
        }
    }
}

impl Wire {
    /// [`Wire::settle`], but the broker loses OrderService's compensating messages on their way
    /// to the participants (their sessions lost): the first `lose` copies of each, per
    /// subscriber and topic, never arrive.
    fn settle_losing(&mut self, lose: usize) {
        let compensating = [
            topics::ORDERS_CANCELLED,
            topics::COMMAND_RELEASE_INVENTORY,
            topics::COMMAND_REFUND_PAYMENT,
        ];
        let mut lost: Vec<(ServiceId, &'static str)> = Vec::new();
        loop {
            let mut kept = VecDeque::new();
            for (service, event) in self.queue.drain(..) {
                let participant = matches!(service, ServiceId::Payment | ServiceId::Inventory);
                let key = (service, event.topic());
                if participant
                    && compensating.contains(&event.topic())
                    && lost.iter().filter(|k| **k == key).count() < lose
                {
                    lost.push(key);
                } else {
                    kept.push_back((service, event));
                }
            }
            self.queue = kept;
            if self.queue.is_empty() && self.timers.is_empty() {
                return;
            }
            // One step: deliver one message, or (nothing on its way) fire the earliest timer.
            if let Some((service, event)) = self.queue.pop_front() {
                self.handle_one(service, &event);
                continue;
            }
            let next = (0..self.timers.len())
                .min_by_key(|&i| (self.timers[i].0, self.timers[i].1))
                .unwrap();
            self.fire_timer(next);
        }
    }

    /// The copies of `topic` published for `order_id`, with when (ms after the start).
    fn sent_at(&self, order_id: Uuid, topic: &str) -> Vec<i64> {
        self.published
            .iter()
            .filter(|(_, e)| e.order_id() == order_id && e.topic() == topic)
            .map(|(at, _)| at - START_MS)
            .collect()
    }
}

/// Cancelled at its deadline (1.5 s) with the reservation (2 s) and the charge (3 s) still in
/// hand; both succeed late. The compensating message is lost the first time.
fn late_successes(style: SagaStyle) -> Wire {
    let mut wire = Wire::timed(style, 3000, 2000);
    wire.place(order_id(1), &draft(2));
    wire
}

#[test]
fn a_compensation_lost_on_its_way_is_sent_again_until_it_is_seen_done() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        let mut wire = late_successes(style);
        wire.settle_losing(1);
        let reason = wire.outcome(id).unwrap();
        assert!(
            reason.as_deref().is_some_and(|r| r.ends_with("timed out")),
            "{style:?}: {reason:?} {:?}",
            wire.topics_of(id)
        );
        assert!(!wire.flow.inventory.holds(id), "{style:?}: released");
        assert!(!wire.flow.payment.has_charged(id), "{style:?}: refunded");
        let order = wire.flow.order.saga(id).unwrap().order;
        assert!(!order.inventory.is_confirmed() && !order.payment.is_confirmed());
        // The release's line says "release and refund" while the refund is awaited too.
        let sent_again = |what: &str| {
            let both = what.replacen("release", "release and refund", 1);
            wire.logged
                .iter()
                .filter(|l| l.starts_with(what) || l.starts_with(&both))
                .count()
        };
        match style {
            // A copy of orders/cancelled one deadline after the cancellation (both steps were
            // under way then, their outcome unknown: both are compensated). In parallel it
            // reaches PaymentService after its late charge (3 s), so the refund's check finds
            // it done. Under choreography the charge starts on the late reservation (2 s) and
            // ends at 5 s: still unknown at the refund's check (3 s, after the release's),
            // which does not send a copy beside the release's copy of the same moment, but a
            // deadline after it (4.5 s); PaymentService, charging, takes the first, and
            // refunds the charge at once when it completes.
            SagaStyle::Parallel | SagaStyle::Choreography => {
                let (sent, refund_again) = match style {
                    SagaStyle::Parallel => (&[1500, 3000][..], 0),
                    _ => (&[1500, 3000, 4500][..], 1),
                };
                assert_eq!(wire.sent_at(id, topics::ORDERS_CANCELLED), sent);
                let copies: Vec<&DomainEvent> = wire
                    .published
                    .iter()
                    .filter(|(_, e)| e.topic() == topics::ORDERS_CANCELLED)
                    .map(|(_, e)| e)
                    .collect();
                assert_eq!(copies[0], copies[1], "the same message, byte for byte");
                assert_eq!(
                    sent_again("release not confirmed yet"),
                    1,
                    "{:?}",
                    wire.logged
                );
                assert_eq!(
                    sent_again("refund not confirmed yet"),
                    refund_again,
                    "{:?}",
                    wire.logged
                );
            }
            // Orchestrated, the charge is never asked for (the stock came after the
            // deadline): the release command, sent at the cancellation (the reservation's
            // outcome unknown), again 1.5 s later; not on the late reservation, which the
            // first command already covers.
            SagaStyle::Orchestration => {
                assert_eq!(
                    wire.sent_at(id, topics::COMMAND_RELEASE_INVENTORY),
                    [1500, 3000]
                );
                assert_eq!(wire.count(id, topics::PAYMENTS_PROCESSED), 0);
                assert_eq!(
                    sent_again("release not confirmed yet"),
                    1,
                    "{:?}",
                    wire.logged
                );
            }
        }
        // Released once; a copy of orders/cancelled sent again for the refund (choreography)
        // gets the same release again, byte for byte (answered before: answered again).
        let releases: Vec<Vec<u8>> = wire
            .published
            .iter()
            .filter(|(_, e)| e.topic() == topics::INVENTORY_RELEASED && e.order_id() == id)
            .map(|(_, e)| e.to_json())
            .collect();
        let expected = match style {
            SagaStyle::Choreography => 2,
            _ => 1,
        };
        assert_eq!(releases.len(), expected, "{style:?}");
        assert!(releases.iter().all(|r| *r == releases[0]), "{style:?}");
        assert!(
            !wire.logged.iter().any(|l| l.contains("gives up")),
            "{style:?}"
        );
        assert_eq!(
            wire.flow.order.copies_counted(),
            0,
            "{style:?}: everything undone: the copies' count is forgotten"
        );
    }
}

#[test]
fn a_compensation_seen_done_is_not_sent_again() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        let mut wire = late_successes(style);
        wire.settle();
        let reason = wire.outcome(id).unwrap();
        assert!(
            reason.is_some_and(|r| r.ends_with("timed out")),
            "{style:?}"
        );
        assert_eq!(wire.count(id, topics::ORDERS_CANCELLED), 1, "{style:?}");
        assert!(
            wire.count(id, topics::COMMAND_RELEASE_INVENTORY) <= 1,
            "{style:?}"
        );
        assert_eq!(wire.sent_again(), Vec::<&String>::new(), "{style:?}");
        assert!(!wire.flow.inventory.holds(id) && !wire.flow.payment.has_charged(id));
    }
}

#[test]
fn a_compensation_never_seen_is_given_up_after_its_tries_and_said_so() {
    let id = order_id(1);
    let tries = crate::config::COMPENSATION_TRIES as usize;
    for style in SagaStyle::ALL {
        let mut wire = late_successes(style);
        wire.settle_losing(usize::MAX);
        let topic = match style {
            SagaStyle::Orchestration => topics::COMMAND_RELEASE_INVENTORY,
            _ => topics::ORDERS_CANCELLED,
        };
        let sent = wire.sent_at(id, topic);
        assert!(wire.timers.is_empty(), "{style:?}: the checks end");
        let gave_up: Vec<&String> = wire
            .logged
            .iter()
            .filter(|l| l.contains("gives up"))
            .collect();
        match style {
            SagaStyle::Orchestration => {
                assert_eq!(sent, [1500, 3000, 4500, 6000]);
                assert_eq!(gave_up.len(), 1, "{:?}", wire.logged);
                assert!(
                    gave_up[0].starts_with(&format!("release not confirmed after {tries} tries"))
                );
            }
            _ => {
                // The first orders/cancelled, then 3 copies: one a round, for the release and
                // the refund both (the same message asks for both), and its line says both.
                assert_eq!(sent.len(), tries, "{sent:?}");
                assert!(
                    wire.logged
                        .iter()
                        .any(|l| l.starts_with("release and refund not confirmed yet")),
                    "{style:?}: {:?}",
                    wire.logged
                );
                assert_eq!(gave_up.len(), 2, "{:?}", wire.logged);
                assert!(gave_up
                    .iter()
                    .any(|l| l.starts_with(&format!("refund not confirmed after {tries} tries"))));
            }
        }
        assert!(wire.flow.inventory.holds(id), "{style:?}: never released");
    }
}

/// The page reloads after the deadline cancelled the order (1.5 s) and OrderService recorded
/// the late reservation (heard at 2.1 s), before it heard the release: the restored store still
/// shows the stock reserved and not released, so the reloaded OrderService checks it again, a
/// deadline after the reservation was recorded, as the page before would have. The reloaded
/// InventoryService remembers no reservation (reloaded with no database to keep its memory in): asked again, it
/// answers that it has nothing to release (the nil reservation id, a compensation before the
/// step), and that answer ends the check after one more try. Under parallel the charge asked
/// with the reservation is still in hand at the reload: its refund is checked again too, and
/// the same copy of `orders/cancelled` ends it (nothing to refund).
#[test]
fn a_reload_restores_the_check_of_a_compensation_not_seen_yet() {
    let id = order_id(1);
    let tries = crate::config::COMPENSATION_TRIES;
    for style in SagaStyle::ALL {
        let mut before = late_successes(style);
        before.deliver();
        // OrderService's messages are held from here; its deadline fires.
        before.run_until(START_MS + 2_100, ServiceId::Order, |_| true);
        // It hears the reservation, and the page dies before anything else.
        let reserved = before
            .queue
            .iter()
            .position(|(s, e)| *s == ServiceId::Order && e.topic() == topics::INVENTORY_RESERVED)
            .unwrap();
        let (service, event) = before.queue.remove(reserved).unwrap();
        let now = before.now();
        let commands = before
            .flow
            .handle(service, now, event.topic(), &event.to_json())
            .unwrap();
        before.run(commands);
        let order = before.flow.order.saga(id).unwrap().order;
        assert_eq!(order.status, OrderStatus::Cancelled, "{style:?}");
        assert!(
            order.inventory.is_confirmed(),
            "{style:?}: not released yet"
        );

        let mut after = Wire::new(before.flow.settings.clone());
        after.now_ms = before.now_ms;
        let store = before.flow.order.store().clone();
        // The same reload with the cancellation still owed (never acknowledged): the outbox
        // publishes it again now, so its check is due a whole deadline from now, not at once
        // beside it (a break-test saw orders/cancelled go out twice in the same moment).
        let mut owed = Wire::new(before.flow.settings.clone());
        owed.now_ms = before.now_ms + 10_000;
        let resent = owed.flow.restore(store.clone(), owed.now(), &[id]);
        let timeout = u64::try_from(owed.flow.settings.saga_timeout.as_millis()).unwrap();
        assert!(
            resent.iter().any(|c| matches!(c,
                Command::Schedule { after, work: Work::Compensation { order_id, .. } }
                    if *order_id == id && after.as_millis() == u128::from(timeout))),
            "{style:?}: {resent:?}"
        );
        let commands = after.flow.restore(store, after.now(), &[]);
        after.run(commands);
        let checks: Vec<(i64, &Work)> = after
            .timers
            .iter()
            .map(|(due, _, work)| (due - START_MS, work))
            .collect();
        let release = Work::Compensation {
            order_id: id,
            undo: order::Undo::Release,
            sent: 1,
        };
        // Under parallel the charge (3 s) was asked too, at the creation, and is still in hand:
        // its refund is checked again as well, a deadline after the cancellation. Under
        // choreography PaymentService heard orders/cancelled before the reservation and
        // answered that it had nothing to refund (seen before the reload); under orchestration
        // OrderService never asked for the charge (it asks once it hears the stock reserved,
        // here after the cancellation).
        let refund = Work::Compensation {
            order_id: id,
            undo: order::Undo::Refund,
            sent: 1,
        };
        if style == SagaStyle::Parallel {
            assert_eq!(checks, [(3_600, &release), (3_000, &refund)], "{style:?}");
        } else {
            assert_eq!(checks, [(3_600, &release)], "{style:?}");
        }

        after.settle();
        // The release's line says "release and refund" while the refund is awaited too.
        let logged = |start: &str| {
            let both = start.replacen("release", "release and refund", 1);
            after
                .logged
                .iter()
                .filter(|l| l.starts_with(start) || l.starts_with(&both))
                .count()
        };
        assert_eq!(
            logged("release not confirmed yet"),
            1,
            "{style:?}: {:?}",
            after.logged
        );
        assert_eq!(
            logged(&format!("release not confirmed after {tries} tries")),
            0,
            "{style:?}: {:?}",
            after.logged
        );
        let released = after
            .published
            .iter()
            .filter(|(_, e)| e.topic() == topics::INVENTORY_RELEASED)
            .count();
        assert_eq!(released, 1, "{style:?}: one answer, nothing to release");
        // The same copy of orders/cancelled asks the reloaded PaymentService, which never
        // charged: nothing to refund (the nil id), and the refund's check ends with it.
        let refunded: Vec<Uuid> = after
            .published
            .iter()
            .filter_map(|(_, e)| match e {
                DomainEvent::PaymentRefunded(r) => Some(r.payment_id),
                _ => None,
            })
            .collect();
        let expected: &[Uuid] = match style {
            SagaStyle::Orchestration => &[],
            _ => &[Uuid::nil()],
        };
        assert_eq!(refunded, expected, "{style:?}");
        assert_eq!(after.sent_again().len(), 1, "{style:?}: {:?}", after.logged);
    }
}

/// A newcomer's break-test: reservation 0.3 s, charge 2 s, deadline 1.5 s; the page reloads at
/// 1.85 s, after the cancellation asked for the refund and before the charge was done. The
/// charge in hand and the refund asked while it ran die with the page, so nothing answers. The
/// restored store shows the charge asked and never answered: the reloaded OrderService checks
/// the refund again, a deadline after the cancellation, as the page before would have. The
/// reloaded PaymentService never charged: asked again, it answers that there was nothing to
/// refund (the nil payment id), and that answer ends the check after one more try.
#[test]
fn a_reload_restores_the_check_of_a_compensation_asked_while_its_step_was_in_hand() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        let mut before = Wire::timed(style, 2000, 300);
        before.place(id, &draft(2));
        before.run_until(START_MS + 1_850, ServiceId::Notification, |_| true);
        let order = before.flow.order.saga(id).unwrap().order;
        assert_eq!(order.status, OrderStatus::Cancelled, "{style:?}");
        assert_eq!(
            order.payment,
            crate::domain::order::Step::Awaiting,
            "{style:?}: charge in hand"
        );
        let asked = match style {
            SagaStyle::Orchestration => topics::COMMAND_REFUND_PAYMENT,
            _ => topics::ORDERS_CANCELLED,
        };
        assert_eq!(before.sent_at(id, asked), [1_500], "{style:?}");
        assert_eq!(before.count(id, topics::PAYMENTS_REFUNDED), 0, "{style:?}");

        let mut after = Wire::new(before.flow.settings.clone());
        after.now_ms = before.now_ms;
        let commands = after
            .flow
            .restore(before.flow.order.store().clone(), after.now(), &[]);
        after.run(commands);
        let checks: Vec<(i64, &Work)> = after
            .timers
            .iter()
            .map(|(due, _, work)| (due - START_MS, work))
            .collect();
        let refund = Work::Compensation {
            order_id: id,
            undo: order::Undo::Refund,
            sent: 1,
        };
        assert_eq!(checks, [(3_000, &refund)], "{style:?}");

        after.settle();
        assert_eq!(after.sent_at(id, asked), [3_000], "{style:?}: asked again");
        let refunded: Vec<Uuid> = after
            .published
            .iter()
            .filter_map(|(_, e)| match e {
                DomainEvent::PaymentRefunded(r) if r.order_id == id => Some(r.payment_id),
                _ => None,
            })
            .collect();
        assert_eq!(refunded, [Uuid::nil()], "{style:?}: nothing to refund");
        assert_eq!(
            after.flow.order.saga(id).unwrap().order.payment,
            crate::domain::order::Step::Compensated(Uuid::nil()),
            "{style:?}"
        );
        assert_eq!(
            after.sent_again(),
            [&format!(
                "refund not confirmed yet: {asked} sent again for order {id} (try 2 of {})",
                crate::config::COMPENSATION_TRIES
            )],
            "{style:?}"
        );
        assert!(!after.flow.payment.has_charged(id), "{style:?}");
    }
}

/// Order 1 (2 units) created at 0 s under `style` with a 1.5 s deadline and cancelled by it,
/// the flow driven by hand with the broker down: the driver reports nothing published. Returns
/// the flow and what the cancellation decided.
fn cancelled_while_the_broker_is_down(style: SagaStyle) -> (Flow, Vec<Command>) {
    let id = order_id(1);
    let mut flow = Flow::new(FlowSettings {
        saga: style,
        saga_timeout: Duration::from_millis(1500),
        ..FlowSettings::default()
    });
    let created = order::place(at(0), id, &validate(&draft(2)).unwrap());
    let json = DomainEvent::from(created).to_json();
    flow.handle(ServiceId::Order, at(0), topics::ORDERS_CREATED, &json)
        .unwrap();
    let cancellation = flow.complete(Work::Deadline { order_id: id }, at(1500), order_id(99));
    (flow, cancellation)
}

/// `ms` after the start.
fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(START_MS + ms).unwrap()
}

/// The messages `commands` publish.
/// The message of `cancellation` that asks for the stock to be released under `style`
/// (`orders/cancelled`, or the orchestrator's command), with its topic.
fn release_message(style: SagaStyle, cancellation: &[Command]) -> (&'static str, DomainEvent) {
    let topic = order::compensating_topic(style, order::Undo::Release);
    let message = publishes(cancellation)
        .into_iter()
        .find(|e| e.topic() == topic)
        .cloned()
        .unwrap_or_else(|| panic!("{style:?}: {cancellation:?}"));
    (topic, message)
}

fn publishes(commands: &[Command]) -> Vec<&DomainEvent> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Publish(event) => Some(event),
            _ => None,
        })
        .collect()
}

#[test]
fn a_compensation_check_due_while_its_message_waits_for_the_broker_sends_nothing_and_counts_from_its_publication(
) {
    // A break-test: the broker down past the deadline and the check's own deadline, each
    // orders/cancelled went out twice, 0.7 s apart, once the broker was back: the first from
    // OrderService's client, where it had waited, and a copy from the check, due long before.
    let id = order_id(1);
    let ms = |ms: u64| Duration::from_millis(ms);
    for style in SagaStyle::ALL {
        let (mut flow, cancellation) = cancelled_while_the_broker_is_down(style);
        let (topic, first) = release_message(style, &cancellation);
        let check = |sent| Work::Compensation {
            order_id: id,
            undo: order::Undo::Release,
            sent,
        };
        let schedule = |after, sent| Command::Schedule {
            after: ms(after),
            work: check(sent),
        };
        assert!(cancellation.contains(&schedule(1500, 1)), "{style:?}");
        // Due at 3 s with the cancellation still unsent: nothing goes out, and the check looks
        // again a deadline later.
        let due = flow.complete(check(1), at(3000), order_id(98));
        assert_eq!(due, [schedule(1500, 1)], "{style:?}");
        // The broker back at 4 s: the cancellation goes out then.
        for event in publishes(&cancellation) {
            flow.published(event.topic(), &event.to_json(), at(4000));
        }
        // Due at 4.5 s: the copy on the wire is given a whole deadline from its publication.
        let due = flow.complete(check(1), at(4500), order_id(97));
        assert_eq!(due, [schedule(1000, 1)], "{style:?}");
        // At 5.5 s, the release still not seen: the copy goes out again (the same
        // orders/cancelled; under orchestration the command again).
        let again = flow.complete(check(1), at(5500), order_id(96));
        let sent: Vec<&DomainEvent> = publishes(&again);
        assert_eq!(sent.len(), 1, "{style:?}: {again:?}");
        assert_eq!((sent[0].topic(), sent[0].order_id()), (topic, id));
        if style != SagaStyle::Orchestration {
            assert_eq!(sent[0], &first, "byte for byte");
        }
        assert!(again.contains(&schedule(1500, 2)), "{style:?}: {again:?}");
        // The broker down again: that copy waits, and so does the next check.
        let due = flow.complete(check(2), at(7000), order_id(95));
        assert_eq!(due, [schedule(1500, 2)], "{style:?}");
        // A copy the client refused for good never goes out: the check no longer waits for it.
        flow.not_published(sent[0].topic(), &sent[0].to_json());
        let due = flow.complete(check(2), at(8500), order_id(94));
        assert_eq!(publishes(&due).len(), 1, "{style:?}: {due:?}");
    }
}

#[test]
fn a_compensation_refused_from_the_offline_queue_is_known_by_its_topic_and_payload_and_not_waited_for(
) {
    // The broker down at the deadline: the compensating message waits in OrderService's
    // client's offline queue. Reconnected, the client refuses it (the broker's limits): the
    // driver gives the topic and payload it had queued, and the check stops waiting for it.
    let id = order_id(1);
    let ms = |ms: u64| Duration::from_millis(ms);
    for style in SagaStyle::ALL {
        let (mut flow, cancellation) = cancelled_while_the_broker_is_down(style);
        let (topic, queued) = release_message(style, &cancellation);
        let check = Work::Compensation {
            order_id: id,
            undo: order::Undo::Release,
            sent: 1,
        };
        let waits = [Command::Schedule {
            after: ms(1500),
            work: check.clone(),
        }];
        // Another order's copy refused, or the topic alone: not this check's copy.
        let json = String::from_utf8(queued.to_json()).unwrap();
        let other = json.replace(&id.to_string(), &order_id(2).to_string());
        assert_ne!(other, json, "{style:?}: the other order's copy differs");
        flow.not_published(topic, other.as_bytes());
        flow.not_published(topic, b"");
        assert_eq!(
            flow.complete(check.clone(), at(3000), order_id(98)),
            waits,
            "{style:?}: still waiting for its own copy"
        );
        // Its own copy refused: due, it sends one now, as when nothing is known of the wire.
        flow.not_published(topic, json.as_bytes());
        let due = flow.complete(check.clone(), at(4500), order_id(97));
        let sent = publishes(&due);
        assert_eq!(sent.len(), 1, "{style:?}: {due:?}");
        assert_eq!((sent[0].topic(), sent[0].order_id()), (topic, id));
    }
}

/// PaymentService crashed with the order in hand (a newcomer's break-test: the README's "Undo
/// what was never done" at a human pace): it never answers the charge nor any refund asked.
/// OrderService gives up on the refund after its tries, and its log does not speak of a
/// charge it never heard of: whether there is one is unknown.
#[test]
fn a_refund_given_up_for_a_payment_never_answered_says_the_charge_is_unknown() {
    let id = order_id(1);
    let mut wire = Wire::timed(SagaStyle::Parallel, 1000, 500);
    wire.place(id, &draft(2));
    wire.settle_without(&[ServiceId::Payment]);
    assert_eq!(
        wire.outcome(id).unwrap().as_deref(),
        Some("payment timed out")
    );
    let gave_up: Vec<&String> = wire
        .logged
        .iter()
        .filter(|l| l.contains("gives up"))
        .collect();
    assert_eq!(
        gave_up.len(),
        1,
        "the release was seen: only the refund is given up: {gave_up:?}"
    );
    assert!(
        gave_up[0].ends_with(&format!(
            "order {id} stays cancelled, and whether it has a charge to undo is unknown \
             (PaymentService never answered): check by hand"
        )),
        "{}",
        gave_up[0]
    );
    assert!(!wire.flow.inventory.holds(id), "released");
}

/// Both participants gone with the order in hand (a newcomer's break-test: a cluster node killed
/// 200 ms after the order, PaymentService and InventoryService on it): OrderService gives up on
/// both compensations, and its log names both, the charge as well as the reservation (it named
/// only the reservation, though the order had been charged).
#[test]
fn both_participants_never_answering_gives_up_on_the_charge_and_the_reservation() {
    let id = order_id(1);
    let mut wire = Wire::timed_default(SagaStyle::Parallel);
    wire.place(id, &draft(2));
    wire.settle_without(&[ServiceId::Payment, ServiceId::Inventory]);
    assert_eq!(
        wire.outcome(id).unwrap().as_deref(),
        Some("inventory and payment timed out")
    );
    let gave_up: Vec<&String> = wire
        .logged
        .iter()
        .filter(|l| l.contains("gives up"))
        .collect();
    assert_eq!(gave_up.len(), 2, "{gave_up:?}");
    // The release gives up first, and its orders/cancelled stops: the same line names the
    // charge its copies asked to refund.
    assert!(gave_up[0].starts_with("release not confirmed after 4 tries"));
    assert!(
        gave_up[0].ends_with(&format!(
            "order {id} stays cancelled, and whether it has a reservation to undo is unknown \
             (InventoryService never answered): check by hand. Its refund was asked by the same \
             orders/cancelled, which is no longer sent again: whether it has a charge to undo is \
             unknown too (PaymentService never answered)."
        )),
        "{}",
        gave_up[0]
    );
    assert!(
        gave_up[1].ends_with(&format!(
            "order {id} stays cancelled, and whether it has a charge to undo is unknown \
             (PaymentService never answered): check by hand"
        )),
        "{}",
        gave_up[1]
    );
}

/// A release given up on after its last try, then seen done after all (the participant was
/// reconnecting after a broker restart): OrderService's log takes the give-up back.
#[test]
fn a_compensation_seen_done_after_the_give_up_is_said_so() {
    use crate::domain::events::InventoryReleased;
    use crate::domain::order::Step;
    let id = order_id(1);
    let mut wire = late_successes(SagaStyle::Orchestration);
    wire.settle_losing(usize::MAX);
    assert!(wire
        .logged
        .iter()
        .any(|l| l.starts_with("release not confirmed after")));
    let Step::Confirmed(reservation_id) = wire.flow.order.saga(id).unwrap().order.inventory else {
        panic!("the late reservation is recorded");
    };
    let released = InventoryReleased {
        order_id: id,
        reservation_id,
        released_at: wire.now(),
    };
    wire.handle_one(ServiceId::Order, &released.clone().into());
    let after_all: Vec<&String> = wire
        .logged
        .iter()
        .filter(|l| l.contains("after all"))
        .collect();
    assert_eq!(
        after_all,
        [&format!(
            "release of order {id} seen done after all, after OrderService gave up on it: \
             nothing is left to undo by hand"
        )]
    );
    // Said once: a copy is a duplicate.
    wire.handle_one(ServiceId::Order, &released.into());
    assert_eq!(
        wire.logged
            .iter()
            .filter(|l| l.contains("after all"))
            .count(),
        1
    );
}

/// A newcomer's break-test: a step failed (out of stock; a payment declined), but its failure
/// never reached OrderService (the broker restarted without its data before OrderService had
/// subscribed again; OrderService crashed with a clean session). The deadline cancelled the
/// order with that step's outcome unknown, and OrderService asked for it to be undone. The
/// participant, with nothing to undo, answered nothing, every time: OrderService sent its
/// message 4 times, gave up and told the learner to check a reservation (or charge) by hand that
/// never was. Now a request OrderService sends knowing nothing of the failure (a command, or a
/// copy of `orders/cancelled`) gets "nothing to undo" (the nil id), which ends the check.
#[test]
fn a_failed_step_whose_failure_was_lost_answers_that_there_is_nothing_to_undo() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        for declined in [false, true] {
            let mut settings = FlowSettings {
                saga: style,
                saga_timeout: Duration::from_millis(1500),
                stock: stock(if declined { 10 } else { 0 }),
                ..FlowSettings::default()
            };
            settings.payment.decline_all = declined;
            let mut wire = Wire::new(settings);
            wire.place(id, &draft(2));
            // The failure is lost on its way to OrderService; everything else arrives.
            let lost = |service: ServiceId, event: &DomainEvent| {
                service == ServiceId::Order
                    && match event {
                        DomainEvent::InventoryReserved(r) => !r.success,
                        DomainEvent::PaymentProcessed(p) => !p.success,
                        _ => false,
                    }
            };
            wire.settle_with(|service, event| {
                if lost(service, event) {
                    super::unknown_outcome::Fate::Lose
                } else {
                    super::unknown_outcome::Fate::Deliver
                }
            });
            let case = format!("{style:?}, declined {declined}");
            let reason = wire.outcome(id).unwrap();
            assert!(
                reason.as_deref().is_some_and(|r| r.ends_with("timed out")),
                "{case}: {reason:?}"
            );
            assert!(
                !wire.logged.iter().any(|l| l.contains("gives up")),
                "{case}: {:?}",
                wire.logged
            );
            let nothing_to_undo = wire.published.iter().any(|(_, e)| match e {
                DomainEvent::InventoryReleased(r) => !declined && r.is_unreserved(),
                DomainEvent::PaymentRefunded(r) => declined && r.is_uncharged(),
                _ => false,
            });
            assert!(nothing_to_undo, "{case}: {:?}", wire.topics_of(id));
            assert!(
                wire.logged
                    .iter()
                    .any(|l| l.contains("failed here; OrderService asks for a")),
                "{case}: the participant's log says why it answers: {:?}",
                wire.logged
            );
            // No stock or money moved by the answer.
            assert!(!wire.flow.payment.has_charged(id), "{case}");
            assert!(!wire.flow.inventory.holds(id), "{case}");
        }
    }
}

/// The failure heard as usual: the first `orders/cancelled` gets no answer from the
/// participant whose step failed, as before (OrderService does not wait for one).
#[test]
fn a_failed_step_heard_by_order_service_gets_no_answer_to_the_cancellation() {
    let id = order_id(1);
    for style in [SagaStyle::Parallel, SagaStyle::Choreography] {
        let mut wire = Wire::new(FlowSettings {
            saga: style,
            stock: stock(0),
            ..FlowSettings::default()
        });
        wire.place(id, &draft(2));
        wire.settle();
        assert_eq!(wire.count(id, topics::INVENTORY_RELEASED), 0, "{style:?}");
        assert_eq!(wire.count(id, topics::ORDERS_CANCELLED), 1, "{style:?}");
        assert_eq!(wire.sent_again(), Vec::<&String>::new(), "{style:?}");
    }
}

/// A newcomer's break-test: PaymentService crashed, the order cancelled at its deadline, and a
/// change to orchestration applied at once; OrderService then asked for the refund again with
/// `orders/cancelled`, which PaymentService, orchestrated, no longer hears, and gave up ("check
/// by hand"). The change waits while a compensation is still checked, and applies once
/// PaymentService answers.
#[test]
fn a_change_of_style_waits_for_the_compensations_still_checked() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(10),
        ..settings(SagaStyle::Parallel)
    });
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.deliver();
    // PaymentService crashes with the charge in hand: the work dies, and what is published for
    // it meanwhile waits in its session.
    wire.abandon_work_of(ServiceId::Payment);
    let mut queued: Vec<(ServiceId, DomainEvent)> = Vec::new();
    let cancelled = |w: &Wire| {
        w.flow
            .order
            .saga(id)
            .is_some_and(|s| s.order.status == OrderStatus::Cancelled)
    };
    while !cancelled(&wire) {
        wire.deliver_except(ServiceId::Payment, &mut queued);
        wire.fire_next();
    }
    // The release comes at once; the refund is still asked (its charge's outcome unknown).
    wire.deliver_except(ServiceId::Payment, &mut queued);
    assert_eq!(wire.count(id, topics::INVENTORY_RELEASED), 1);
    assert!(!wire.flow.choose_style(SagaStyle::Orchestration));
    assert_eq!(
        wire.flow.style_waiting(),
        Some((SagaStyle::Orchestration, 1))
    );
    // PaymentService restarted: it hears the cancellation, has nothing to refund, says so.
    for (service, event) in queued {
        wire.handle_one(service, &event);
    }
    wire.deliver();
    assert_eq!(wire.flow.style_waiting(), None);
    assert_eq!(wire.flow.settings.saga, SagaStyle::Orchestration);
    wire.settle();
    assert_eq!(wire.sent_again(), [] as [&String; 0]);
    assert_eq!(wire.outcome(id), Ok(Some("payment timed out".into())));
}

/// A newcomer's break-test: PaymentService charged, then crashed with a clean session (it never
/// hears the cancellation); OrderService gave up on the refund after its last try, and a change
/// of style waited for ever, refusing every new order. The saga has ended as far as
/// OrderService can take it: the change applies.
#[test]
fn a_change_of_style_stops_waiting_for_a_compensation_order_service_gave_up_on() {
    let mut wire = Wire::new(FlowSettings {
        stock: stock(1),
        delays: Delays {
            payment: Duration::from_millis(300),
            inventory: Duration::from_millis(800),
        },
        ..settings(SagaStyle::Parallel)
    });
    let id = order_id(1);
    wire.place(id, &draft(2));
    wire.deliver();
    // The charge (0.3 s) goes out and is heard; then PaymentService is gone for good.
    wire.fire_next();
    wire.deliver();
    assert_eq!(wire.count(id, topics::PAYMENTS_PROCESSED), 1);
    // What is published for PaymentService from now on is lost (a clean session).
    let deliver_without_payment = |wire: &mut Wire| {
        while let Some((service, event)) = wire.queue.pop_front() {
            if service != ServiceId::Payment {
                wire.handle_one(service, &event);
            }
        }
    };
    wire.fire_next();
    deliver_without_payment(&mut wire);
    assert_eq!(
        wire.outcome(id),
        Ok(Some("out of stock: P001 (2 asked, 1 left)".into()))
    );
    assert!(!wire.flow.choose_style(SagaStyle::Orchestration));
    while !wire.timers.is_empty() {
        wire.fire_next();
        deliver_without_payment(&mut wire);
    }
    assert!(wire
        .logged
        .iter()
        .any(|l| l.contains("refund not confirmed after 4 tries")));
    assert_eq!(wire.flow.style_waiting(), None);
    assert_eq!(wire.flow.settings.saga, SagaStyle::Orchestration);
}

/// 40-AD F1: charged before the deadline (0.5 s), reserved just after the first round of checks
/// (3 s), PaymentService crashed for good after its charge. The release is heard between the
/// two checks of that round (InventoryService answers the copy before the refund's check
/// runs); the refund never is.
/// `orders/cancelled` goes out COMPENSATION_TRIES times in all (the first and its copies), the
/// log numbers the copies 2, 3, 4 once each, and OrderService gives up after the last.
#[test]
fn a_refund_never_seen_after_the_release_was_seen_counts_each_copy_once() {
    let id = order_id(1);
    let tries = crate::config::COMPENSATION_TRIES as usize;
    {
        let style = SagaStyle::Parallel;
        let mut wire = Wire::timed(style, 500, 3001);
        wire.place(id, &draft(2));
        // Up to the charge (and, under choreography, the reservation that asks for it).
        while !wire
            .published
            .iter()
            .any(|(_, e)| e.topic() == topics::PAYMENTS_PROCESSED)
        {
            wire.deliver();
            assert!(
                !wire.timers.is_empty(),
                "{style:?}: {:?}",
                wire.topics_of(id)
            );
            wire.fire_next();
        }
        wire.settle_without(&[ServiceId::Payment]);
        let copies = wire.sent_at(id, topics::ORDERS_CANCELLED);
        let lines: Vec<&String> = wire.sent_again();
        assert_eq!(copies.len(), tries, "{style:?}: {copies:?} {lines:#?}");
        let numbered: Vec<String> = lines
            .iter()
            .filter_map(|l| l.split("(try ").nth(1).map(|n| n.to_owned()))
            .collect();
        let expected: Vec<String> = (2..=tries).map(|n| format!("{n} of {tries})")).collect();
        assert_eq!(numbered, expected, "{style:?}: {lines:#?}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("refund not confirmed after {tries} tries"))),
            "{style:?}: {lines:#?}"
        );
    }
}

/// Both participants gone, both compensations given up on after their tries (or only the
/// release, the refund's check still due in that round); then InventoryService comes back and
/// its late reservation arrives. Under parallel and
/// choreography OrderService checks the release afresh: a new round of copies of
/// `orders/cancelled` (the count shared by the release and the refund starts again: the four
/// copies sent before the give-up are not counted against the new reservation, which none of
/// them could have asked to undo).
#[test]
fn a_reservation_seen_after_the_give_up_gets_a_fresh_round_of_copies() {
    use crate::domain::events::InventoryReserved;
    let id = order_id(1);
    let tries = crate::config::COMPENSATION_TRIES as usize;
    let cases = [SagaStyle::Parallel, SagaStyle::Choreography]
        .into_iter()
        .flat_map(|style| [(style, false), (style, true)]);
    for (style, between) in cases {
        let mut wire = Wire::timed_default(style);
        wire.place(id, &draft(2));
        let gone = [ServiceId::Payment, ServiceId::Inventory];
        if between {
            // Up to the release's give-up: the refund's check, due in the same round, has
            // not run yet.
            while !wire
                .logged
                .iter()
                .any(|l| l.starts_with("release not confirmed after"))
            {
                wire.queue.retain(|(service, _)| !gone.contains(service));
                wire.timers
                    .retain(|(_, _, work)| !gone.contains(&work.service()));
                wire.deliver();
                wire.fire_next();
            }
            assert!(!wire
                .logged
                .iter()
                .any(|l| l.starts_with("refund not confirmed after")));
        } else {
            wire.settle_without(&gone);
            wire.now_ms += 10_000;
        }
        let before = wire.sent_at(id, topics::ORDERS_CANCELLED).len();
        assert_eq!(before, tries, "{style:?}");
        let reserved = InventoryReserved {
            order_id: id,
            reservation_id: order_id(99),
            success: true,
            reason: None,
            reserved_at: wire.now(),
        };
        wire.handle_one(ServiceId::Order, &reserved.into());
        wire.settle_without(&[ServiceId::Payment, ServiceId::Inventory]);
        let after = wire.sent_at(id, topics::ORDERS_CANCELLED).len() - before;
        assert!(
            after >= 1,
            "{style:?}: the late reservation gets a copy of orders/cancelled: {:#?}",
            wire.logged
        );
        assert!(after < tries, "{style:?}: {after} copies");
        assert_eq!(
            wire.flow.order.copies_counted(),
            0,
            "{style:?}: given up: forgotten"
        );
    }
}

/// 44-AQ F1: a parallel saga charged, then the tab opened a link naming orchestration (a
/// lesson link, or Back): the reloaded services subscribed as orchestration, the restored
/// saga's cancellation went on `orders/cancelled` to a PaymentService no longer subscribed to
/// it, and the charge was never refunded. The services follow the restored sagas' style until
/// they end; then the link's applies.
#[test]
fn a_reload_under_another_style_follows_the_restored_sagas_until_they_end() {
    let id = order_id(1);
    // One step done, the other in hand (the charge, or under parallel the reservation).
    for (started, linked, payment_ms, inventory_ms) in [
        (SagaStyle::Parallel, SagaStyle::Orchestration, 300, 4_000),
        (
            SagaStyle::Choreography,
            SagaStyle::Orchestration,
            4_000,
            300,
        ),
        (SagaStyle::Orchestration, SagaStyle::Parallel, 4_000, 300),
    ] {
        let mut before = Wire::timed(started, payment_ms, inventory_ms);
        before.place(id, &draft(2));
        before.run_until(START_MS + 1_000, ServiceId::Notification, |_| true);
        let memos = before.flow.take_changed().memos;

        let mut after = Wire::new(FlowSettings {
            saga: linked,
            ..before.flow.settings.clone()
        });
        after.now_ms = before.now_ms;
        after.flow.restore_memos(memos, None);
        let commands = after
            .flow
            .restore(before.flow.order.store().clone(), after.now(), &[]);
        assert_eq!(
            after.flow.settings.saga, started,
            "{started:?} → {linked:?}"
        );
        assert_eq!(
            after.flow.style_waiting(),
            Some((linked, 1)),
            "{started:?} → {linked:?}"
        );
        after.run(commands);
        after.settle();
        let charged = before.count(id, topics::PAYMENTS_PROCESSED);
        let refunds: Vec<f64> = after
            .published
            .iter()
            .filter_map(|(_, e)| match e {
                DomainEvent::PaymentRefunded(r) if r.order_id == id && !r.payment_id.is_nil() => {
                    Some(r.amount)
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            refunds.len(),
            charged,
            "{started:?} → {linked:?}: every charge refunded"
        );
        let reserved = before.count(id, topics::INVENTORY_RESERVED);
        assert_eq!(
            charged + reserved,
            1,
            "{started:?}: one step done before the reload"
        );
        assert!(
            after.count(id, topics::INVENTORY_RELEASED) >= reserved,
            "{started:?} → {linked:?}: the reservation released"
        );
        assert!(
            !after.flow.payment.has_charged(id),
            "{started:?} → {linked:?}"
        );
        assert!(!after.flow.inventory.holds(id), "{started:?} → {linked:?}");
        assert_eq!(after.flow.style_waiting(), None, "{started:?} → {linked:?}");
        assert_eq!(after.flow.settings.saga, linked, "{started:?} → {linked:?}");
    }
}

/// The same with a second reservation recorded after the give-up: the release of one of the
/// two leaves the other held, so the give-up is taken back only once both are released.
#[test]
fn a_compensation_seen_done_after_the_give_up_counts_every_step_of_its_kind() {
    use crate::domain::events::{InventoryReleased, InventoryReserved};
    use crate::domain::order::Step;
    let id = order_id(1);
    let mut wire = late_successes(SagaStyle::Orchestration);
    wire.settle_losing(usize::MAX);
    let Step::Confirmed(first) = wire.flow.order.saga(id).unwrap().order.inventory else {
        panic!("the late reservation is recorded");
    };
    let second = Uuid::from_u128(0x77);
    let reserved = InventoryReserved {
        order_id: id,
        reservation_id: second,
        success: true,
        reason: None,
        reserved_at: wire.now(),
    };
    wire.handle_one(ServiceId::Order, &reserved.into());
    let release = |reservation_id| -> DomainEvent {
        InventoryReleased {
            order_id: id,
            reservation_id,
            released_at: Timestamp::from_unix_millis(1_705_314_700_000).unwrap(),
        }
        .into()
    };
    let after_all = |wire: &Wire| {
        wire.logged
            .iter()
            .filter(|l| l.contains("after all"))
            .count()
    };
    wire.handle_one(ServiceId::Order, &release(first));
    assert_eq!(after_all(&wire), 0, "the second reservation is still held");
    wire.handle_one(ServiceId::Order, &release(second));
    assert_eq!(after_all(&wire), 1);
}
