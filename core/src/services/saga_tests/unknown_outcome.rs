//! A step whose answer never came back: OrderService cancels the order at its deadline without
//! knowing whether the charge (or reservation) it asked for happened, e.g. a
//! `payments/processed` the broker dropped on its way to OrderService's clean session after a
//! restart. It compensates that step too (the standard saga rule: every step asked for and not
//! heard failed), and the participant makes that safe: it undoes what it did, or, having done
//! nothing, says so and refuses the step when it comes later (the compensation before the step).

use super::*;
use crate::domain::order::Step;

/// What the broker does with one message on its way to one subscriber.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Fate {
    Deliver,
    /// Dropped (a session the broker lost).
    Lose,
    /// Delivered only once everything else is settled (still on its way).
    Hold,
}

impl Wire {
    /// [`Wire::settle`], each message's fate chosen by `fate`; what it held is then delivered
    /// and the wire settled again, every message delivered.
    pub(super) fn settle_with(&mut self, mut fate: impl FnMut(ServiceId, &DomainEvent) -> Fate) {
        let mut held = Vec::new();
        loop {
            if let Some((service, event)) = self.queue.pop_front() {
                match fate(service, &event) {
                    Fate::Lose => {}
                    Fate::Hold => held.push((service, event)),
                    Fate::Deliver => self.handle_one(service, &event),
                }
                continue;
            }
            let Some(next) =
                (0..self.timers.len()).min_by_key(|&i| (self.timers[i].0, self.timers[i].1))
            else {
                break;
            };
            self.fire_timer(next);
        }
        self.queue.extend(held);
        self.settle();
    }

    /// The successful charges published for `order_id`.
    fn charges(&self, order_id: Uuid) -> usize {
        self.published
            .iter()
            .filter(|(_, e)| matches!(e, DomainEvent::PaymentProcessed(p) if p.order_id == order_id && p.success))
            .count()
    }

    /// The refunds published for `order_id`: of a charge, and of nothing (before the step).
    fn refunds(&self, order_id: Uuid) -> (usize, usize) {
        let refunds = self.published.iter().filter_map(|(_, e)| match e {
            DomainEvent::PaymentRefunded(r) if r.order_id == order_id => {
                Some(r.payment_id.is_nil())
            }
            _ => None,
        });
        refunds.fold((0, 0), |(real, none), uncharged| match uncharged {
            true => (real, none + 1),
            false => (real + 1, none),
        })
    }

    fn gave_up(&self) -> Vec<&String> {
        self.logged
            .iter()
            .filter(|l| l.contains("gives up"))
            .collect()
    }
}

fn slow_deadline(style: SagaStyle) -> Wire {
    let mut wire = Wire::new(FlowSettings {
        saga: style,
        saga_timeout: Duration::from_millis(3000),
        stock: stock(10),
        ..FlowSettings::default()
    });
    wire.place(order_id(1), &draft(2));
    wire
}

/// The message that starts PaymentService's charge under `style`: `orders/created` in parallel,
/// `inventory/reserved` under choreography, the command under orchestration.
fn starts_the_charge(style: SagaStyle) -> &'static str {
    match style {
        SagaStyle::Parallel => topics::ORDERS_CREATED,
        SagaStyle::Choreography => topics::INVENTORY_RESERVED,
        SagaStyle::Orchestration => topics::COMMAND_CHARGE_PAYMENT,
    }
}

/// The newcomer's fault, in every style: the charge goes through (1 s), but the broker drops
/// its `payments/processed` on the way to OrderService, and the first compensating message on
/// the way to PaymentService (its clean session not subscribed again yet). The deadline (3 s)
/// cancels the order; the charge must be refunded all the same.
#[test]
fn a_charge_whose_answer_was_lost_is_refunded_when_the_order_is_cancelled() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        let mut wire = slow_deadline(style);
        let mut first_compensation = true;
        wire.settle_with(|service, event| match (service, event) {
            (ServiceId::Order, DomainEvent::PaymentProcessed(_)) => Fate::Lose,
            (ServiceId::Payment, e) if e.is_compensation() && first_compensation => {
                first_compensation = false;
                Fate::Lose
            }
            _ => Fate::Deliver,
        });
        let case = format!("{style:?}: {:?}", wire.topics_of(id));
        assert_eq!(
            wire.outcome(id),
            Ok(Some("payment timed out".into())),
            "{case}"
        );
        assert_eq!(wire.charges(id), 1, "{case}");
        assert_eq!(wire.refunds(id), (1, 0), "{case}: the charge refunded");
        assert!(!wire.flow.payment.has_charged(id), "{case}");
        assert!(!wire.flow.inventory.holds(id), "{case}");
        let order = wire.flow.order.saga(id).unwrap().order;
        assert!(
            matches!(order.payment, Step::Compensated(p) if !p.is_nil()),
            "{case}: {}",
            order.payment
        );
        assert_eq!(wire.gave_up(), Vec::<&String>::new(), "{case}");
    }
}

/// The compensation before the step: the message that starts the charge is still on its way
/// when the deadline cancels the order (`commands/payment/charge` under orchestration,
/// `orders/created` in parallel, `inventory/reserved` under choreography). PaymentService has
/// nothing to refund and says so (the nil `paymentId`), OrderService sees the compensation
/// end, and when the message arrives the order is not charged.
#[test]
fn a_refund_before_the_charge_is_answered_and_the_charge_then_refused() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        let mut wire = slow_deadline(style);
        let starts_the_charge = starts_the_charge(style);
        wire.settle_with(|service, event| match service {
            ServiceId::Payment if event.topic() == starts_the_charge => Fate::Hold,
            _ => Fate::Deliver,
        });
        let case = format!("{style:?}: {:?}", wire.topics_of(id));
        assert_eq!(
            wire.outcome(id),
            Ok(Some("payment timed out".into())),
            "{case}"
        );
        assert_eq!(wire.charges(id), 0, "{case}: never charged");
        assert_eq!(
            wire.refunds(id),
            (0, 1),
            "{case}: nothing to refund, said once"
        );
        assert!(
            !wire
                .notifications
                .iter()
                .any(|n| n.starts_with("Refund issued")),
            "{case}: the customer is told of no refund: {:?}",
            wire.notifications
        );
        let order = wire.flow.order.saga(id).unwrap().order;
        assert_eq!(wire.count(id, topics::INVENTORY_RELEASED), 1, "{case}");
        assert!(!wire.flow.inventory.holds(id), "{case}");
        assert!(!wire.flow.payment.has_charged(id), "{case}");
        assert_eq!(wire.gave_up(), Vec::<&String>::new(), "{case}");
        match style {
            // The command is work PaymentService was asked for: it answers it, refused.
            SagaStyle::Orchestration => {
                let refused: Vec<&DomainEvent> = wire
                    .published
                    .iter()
                    .map(|(_, e)| e)
                    .filter(|e| e.topic() == topics::PAYMENTS_PROCESSED)
                    .collect();
                assert!(
                    matches!(refused[..], [DomainEvent::PaymentProcessed(p)]
                        if !p.success && p.reason.as_deref() == Some("order already cancelled")),
                    "{case}: {refused:?}"
                );
                assert_eq!(
                    order.payment,
                    Step::Failed("order already cancelled".into()),
                    "{case}"
                );
            }
            // An event about an order already cancelled starts nothing, and PaymentService's
            // log says why (it used to say nothing: the break-test's "accepted, then silent").
            _ => {
                assert_eq!(wire.count(id, topics::PAYMENTS_PROCESSED), 0, "{case}");
                assert_eq!(
                    wire.logged,
                    [
                        format!(
                            "order {id}: nothing to refund, it was never charged here: answered \
                             with the nil paymentId (the compensation before the step); a charge \
                             asked for it later is not made"
                        ),
                        format!(
                            "order {id} is cancelled: nothing is charged for it (its \
                             cancellation arrived first)"
                        )
                    ],
                    "{case}"
                );
                assert_eq!(order.payment, Step::Compensated(Uuid::nil()), "{case}");
                assert_eq!(order.payment.to_string(), "undone before it was done");
            }
        }
    }
}

/// The same for the reservation: under orchestration the reserve command is still on its way
/// when the order is cancelled (the reservation takes longer than the deadline is not this
/// case: that one is under way, and is released once done).
#[test]
fn a_release_before_the_reservation_is_answered_and_the_reservation_then_refused() {
    let id = order_id(1);
    let mut wire = slow_deadline(SagaStyle::Orchestration);
    wire.settle_with(|service, event| match service {
        ServiceId::Inventory if event.topic() == topics::COMMAND_RESERVE_INVENTORY => Fate::Hold,
        _ => Fate::Deliver,
    });
    let case = format!("{:?}", wire.topics_of(id));
    assert_eq!(
        wire.outcome(id),
        Ok(Some("inventory timed out".into())),
        "{case}"
    );
    let released: Vec<bool> = wire
        .published
        .iter()
        .filter_map(|(_, e)| match e {
            DomainEvent::InventoryReleased(r) => Some(r.reservation_id.is_nil()),
            _ => None,
        })
        .collect();
    assert_eq!(released, [true], "{case}");
    assert!(
        wire.published
            .iter()
            .any(|(_, e)| matches!(e, DomainEvent::InventoryReserved(r)
            if !r.success && r.reason.as_deref() == Some("order already cancelled"))),
        "{case}"
    );
    assert_eq!(wire.flow.inventory.stock().of("P001"), Some(10), "{case}");
    assert_eq!(wire.count(id, topics::COMMAND_CHARGE_PAYMENT), 0, "{case}");
    assert_eq!(wire.gave_up(), Vec::<&String>::new(), "{case}");
}

/// A step still under way when the order is cancelled is not answered "nothing to undo": it
/// completes and is undone, and the order's checks see that, once each (no second round of
/// checks for the late success of a step the cancellation already compensates).
#[test]
fn a_step_under_way_at_the_cancellation_is_undone_once_it_completes() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        let mut wire = Wire::new(FlowSettings {
            saga: style,
            saga_timeout: Duration::from_millis(1500),
            stock: stock(10),
            delays: Delays {
                payment: Duration::from_millis(1000),
                inventory: Duration::from_millis(2000),
            },
            ..FlowSettings::default()
        });
        wire.place(id, &draft(2));
        wire.settle();
        let case = format!("{style:?}: {:?}", wire.topics_of(id));
        assert_eq!(
            wire.outcome(id),
            Ok(Some("inventory timed out".into())),
            "{case}"
        );
        let released = wire.count(id, topics::INVENTORY_RELEASED);
        assert_eq!(released, 1, "{case}: the late reservation released, once");
        assert_eq!(wire.flow.inventory.stock().of("P001"), Some(10), "{case}");
        assert_eq!(wire.refunds(id).0, wire.charges(id), "{case}");
        assert_eq!(
            wire.sent_again(),
            Vec::<&String>::new(),
            "{case}: nothing sent again"
        );
        assert!(wire.rejections.is_empty(), "{case}: {:?}", wire.rejections);
    }
}

/// The answer lost instead of the request: PaymentService refunds the late charge and
/// InventoryService releases the late reservation, but the broker drops both answers on their
/// way to OrderService (its session lost). OrderService asks again (a copy of
/// `orders/cancelled`, the same bytes); the participants, having answered before, answer again
/// with the same messages, byte for byte, whether the copy is taken for a duplicate (the
/// idempotent consumer, `?dedupe=on`) or processed again (`off`): nothing is undone twice, and
/// OrderService sees both compensations end instead of giving up after 4 tries.
#[test]
fn an_answer_lost_on_its_way_is_sent_again_when_the_compensation_is_asked_again() {
    let id = order_id(1);
    for dedupe in [true, false] {
        let mut wire = Wire::new(FlowSettings {
            saga: SagaStyle::Parallel,
            saga_timeout: Duration::from_millis(1500),
            delays: Delays {
                payment: Duration::from_millis(2500),
                inventory: Duration::from_millis(2000),
            },
            dedupe,
            stock: stock(10),
            ..FlowSettings::default()
        });
        wire.place(id, &draft(2));
        let (mut refund_lost, mut release_lost) = (false, false);
        wire.settle_with(|service, event| match (service, event) {
            // The charge's and the reservation's results never reach OrderService either.
            (
                ServiceId::Order,
                DomainEvent::PaymentProcessed(_) | DomainEvent::InventoryReserved(_),
            ) => Fate::Lose,
            (ServiceId::Order, DomainEvent::PaymentRefunded(_)) if !refund_lost => {
                refund_lost = true;
                Fate::Lose
            }
            (ServiceId::Order, DomainEvent::InventoryReleased(_)) if !release_lost => {
                release_lost = true;
                Fate::Lose
            }
            _ => Fate::Deliver,
        });
        let case = format!("dedupe {dedupe}: {:?}", wire.topics_of(id));
        assert_eq!(
            wire.outcome(id),
            Ok(Some("inventory and payment timed out".into())),
            "{case}"
        );
        assert_eq!(wire.charges(id), 1, "{case}");
        assert_eq!(
            wire.count(id, topics::ORDERS_CANCELLED),
            2,
            "{case}: asked twice"
        );
        let answers = |topic: &str| -> Vec<Vec<u8>> {
            wire.published
                .iter()
                .map(|(_, e)| e)
                .filter(|e| e.topic() == topic && e.order_id() == id)
                .map(|e| e.to_json())
                .collect()
        };
        for topic in [topics::PAYMENTS_REFUNDED, topics::INVENTORY_RELEASED] {
            let sent = answers(topic);
            assert_eq!(sent.len(), 2, "{case}: {topic} answered twice");
            assert_eq!(
                sent[0], sent[1],
                "{case}: {topic} the same message, byte for byte"
            );
        }
        assert_eq!(wire.refunds(id), (2, 0), "{case}: the real refund, twice");
        assert!(!wire.flow.payment.has_charged(id), "{case}");
        assert!(!wire.flow.inventory.holds(id), "{case}");
        assert_eq!(
            wire.flow.inventory.stock().of("P001"),
            Some(10),
            "{case}: given back once"
        );
        let order = wire.flow.order.saga(id).unwrap().order;
        assert!(
            matches!(order.payment, Step::Compensated(p) if !p.is_nil()),
            "{case}: {}",
            order.payment
        );
        assert!(
            matches!(order.inventory, Step::Compensated(r) if !r.is_nil()),
            "{case}: {}",
            order.inventory
        );
        assert_eq!(wire.gave_up(), Vec::<&String>::new(), "{case}");
    }
}

/// The compensation before the step, its answer lost: asked again a deadline later, the
/// participant says "nothing was done" with the very same message (dated as the first), so the
/// lesson's "byte for byte" holds for the nil answers too (a break-test found a new
/// `refundedAt` each time).
#[test]
fn the_answer_that_nothing_was_done_is_the_same_message_each_time_it_is_asked() {
    let id = order_id(1);
    for style in SagaStyle::ALL {
        let mut wire = slow_deadline(style);
        let starts_the_charge = starts_the_charge(style);
        let mut lost = false;
        wire.settle_with(|service, event| match (service, event) {
            (ServiceId::Payment, e) if e.topic() == starts_the_charge => Fate::Hold,
            (ServiceId::Order, DomainEvent::PaymentRefunded(r)) if r.is_uncharged() && !lost => {
                lost = true;
                Fate::Lose
            }
            _ => Fate::Deliver,
        });
        let case = format!("{style:?}: {:?}", wire.topics_of(id));
        let answers: Vec<Vec<u8>> = wire
            .published
            .iter()
            .map(|(_, e)| e)
            .filter(|e| e.topic() == topics::PAYMENTS_REFUNDED && e.order_id() == id)
            .map(|e| e.to_json())
            .collect();
        assert_eq!(answers.len(), 2, "{case}: answered, lost, answered again");
        assert_eq!(
            answers[0], answers[1],
            "{case}: the same message, byte for byte"
        );
        assert_eq!(wire.refunds(id), (0, 2), "{case}");
        let order = wire.flow.order.saga(id).unwrap().order;
        let step = match style {
            // The late command is answered too: refused (the other test's case).
            SagaStyle::Orchestration => Step::Failed("order already cancelled".into()),
            _ => Step::Compensated(Uuid::nil()),
        };
        assert_eq!(order.payment, step, "{case}");
        assert_eq!(wire.gave_up(), Vec::<&String>::new(), "{case}");
    }
}
