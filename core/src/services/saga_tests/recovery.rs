//! A saga recovering from what an outage takes away: OrderService away while its deadline
//! passes, and compensations that never reach their consumer (a broker that lost the
//! sessions), in every style.

use super::*;

impl Wire {
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
            let (due, _, work) = self.timers.remove(next);
            self.now_ms = due;
            self.next_id += 1;
            let commands = self
                .flow
                .complete(work, self.now(), Uuid::from_u128(self.next_id));
            self.run(commands);
        }
        self.now_ms = until_ms;
        self.queue.extend(held);
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
        let mut wire = Wire::new(FlowSettings {
            saga: style,
            saga_timeout: Duration::from_millis(1500),
            delays: Delays {
                payment: Duration::from_millis(3000),
                inventory: Duration::from_millis(800),
            },
            ..FlowSettings::default()
        });
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
