//! A service's bounded memory: the newest entries by key, the oldest forgotten first, so a
//! long-running page holds a fixed amount whatever arrives.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use uuid::Uuid;

use super::durable::{time_of, SagaMemo};
use crate::domain::timestamp::Timestamp;

/// How many orders a service remembers.
pub const ORDERS_REMEMBERED: usize = 10_000;

/// The newest `capacity` entries by key; inserting past it forgets the oldest.
#[derive(Debug, Clone, PartialEq)]
pub struct Recent<K: Hash + Eq, V> {
    entries: HashMap<K, V>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Recent<K, V> {
    /// An empty memory of at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Recent {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Remembers `value` under `key`, replacing what was there (which keeps its place).
    pub fn insert(&mut self, key: K, value: V) {
        self.insert_forgetting(key, value);
    }

    /// [`Recent::insert`], returning the key of the oldest entry it forgot to make room, if it
    /// did (so that a copy kept elsewhere can forget it too).
    pub fn insert_forgetting(&mut self, key: K, value: V) -> Option<K> {
        if self.entries.insert(key.clone(), value).is_some() {
            return None;
        }
        self.order.push_back(key);
        if self.order.len() <= self.capacity {
            return None;
        }
        let old = self.order.pop_front()?;
        self.entries.remove(&old);
        Some(old)
    }

    /// How many entries it remembers at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// What is remembered under `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// What is remembered under `key`, to change it.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key)
    }

    /// Forgets what is remembered under `key`, and returns it.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let value = self.entries.remove(key)?;
        self.order.retain(|k| k != key);
        Some(value)
    }

    /// Whether anything is remembered under `key`.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter()
    }
}

/// What [`SagaStanding::compensation`] tells a participant to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compensation {
    /// The step was done here: undo what is not undone yet; all of it undone before, publish
    /// those answers again (the first may have been lost on its way to OrderService, which asks
    /// until it hears one).
    Undo,
    /// Nothing to publish now.
    Nothing,
    /// Compensated before the step already: publish that answer again, as it went.
    AnswerAgain,
    /// Never done here: publish the compensation before the step (the nil id) dated now.
    BeforeTheStep,
}

/// How a compensation was asked of a participant (decision 0008).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// By `orders/cancelled` (parallel, choreography): broadcast to every participant whatever
    /// OrderService heard, so the first one for a failed step needs no answer.
    ByCancellation,
    /// By the orchestrator's command (`inventory/commands/release`, `payments/commands/refund`):
    /// sent only for a step whose outcome OrderService holds as done or unknown, so even the
    /// first one for a failed step means OrderService did not hear the failure.
    ByCommand,
}

/// The reason a participant refuses a step finished after the order was heard confirmed without
/// it ([`SagaStanding::confirmed_while_under_way`]).
pub const CONFIRMED_WITHOUT_IT: &str =
    "order already confirmed without this step (orders/confirmed came while it was under way): \
     not done a second time";

/// What a participant (PaymentService, InventoryService) remembers of how each order's saga
/// stands, beside its own work: the newest [`ORDERS_REMEMBERED`] orders of each kind.
#[derive(Debug, Clone)]
pub struct SagaStanding {
    /// Orders seen cancelled: the step completing later is undone at once.
    pub cancelled: Recent<Uuid, ()>,
    /// Orders seen confirmed: a cancellation after it undoes nothing.
    pub confirmed: Recent<Uuid, ()>,
    /// Orders whose step failed or will not start (a payment declined; under choreography, the
    /// reservation failed first): a cancellation has nothing to answer.
    pub failed: Recent<Uuid, ()>,
    /// Failed orders whose compensation was asked once already: the first request needs no
    /// answer (OrderService heard the failure), a copy of it does (OrderService asks again
    /// because it did not; [`SagaStanding::compensation`]). Not kept across a reload: a copy
    /// after one is taken as the first, and the next copy is answered.
    pub failed_asked: Recent<Uuid, ()>,
    /// Orders compensated before the step (a refund or release of nothing published), with when:
    /// the step asked later is refused, and the answer is sent again as it was.
    pub compensated_early: Recent<Uuid, Timestamp>,
    /// Orders heard confirmed while this participant's step for them was under way: OrderService
    /// completed them on another result, so the step, once done, is refused instead of charging
    /// or reserving a second time ([`SagaStanding::confirmed_while_under_way`]). Not kept across
    /// a reload (the work in hand is not either).
    pub confirmed_under_way: Recent<Uuid, ()>,
}

impl Default for SagaStanding {
    fn default() -> Self {
        SagaStanding {
            cancelled: Recent::new(ORDERS_REMEMBERED),
            confirmed: Recent::new(ORDERS_REMEMBERED),
            failed: Recent::new(ORDERS_REMEMBERED),
            failed_asked: Recent::new(ORDERS_REMEMBERED),
            compensated_early: Recent::new(ORDERS_REMEMBERED),
            confirmed_under_way: Recent::new(ORDERS_REMEMBERED),
        }
    }
}

impl SagaStanding {
    /// An order heard confirmed (`orders/confirmed`) at a participant whose step for it is
    /// `under_way` (scheduled, not done): remembered as confirmed, and, if under way, as
    /// confirmed without this step.
    pub fn confirmation(&mut self, order_id: Uuid, under_way: bool) {
        self.confirmed.insert(order_id, ());
        if under_way {
            self.confirmed_under_way.insert(order_id, ());
        }
    }

    /// Whether the step for `order_id`, done now, was still under way when the order was heard
    /// confirmed: then it is refused ([`CONFIRMED_WITHOUT_IT`]), not done a second time. A
    /// newcomer's break-test: results forged before `orders/created` completed the order at
    /// once; PaymentService and InventoryService, hearing `orders/confirmed` with their step
    /// under way, then charged and reserved all the same, and nobody undid it. Asked once per
    /// confirmation, and only with the idempotent consumers on: with them off, a step done
    /// twice is the lesson.
    pub fn confirmed_while_under_way(&mut self, order_id: Uuid) -> bool {
        self.confirmed_under_way.remove(&order_id).is_some()
    }
    /// An order heard cancelled (`orders/cancelled`) at a participant: refused, with a reason
    /// naming what is not `undone` (`"refunded"`, `"released"`), if the order was confirmed
    /// before (a cancellation after the confirmation undoes nothing); else remembered as
    /// cancelled, and the caller compensates ([`SagaStanding::compensation`]).
    pub fn cancellation(&mut self, order_id: Uuid, undone: &str) -> Result<(), String> {
        if self.confirmed.contains(&order_id) {
            return Err(format!(
                "order {order_id} was already confirmed: nothing is {undone}"
            ));
        }
        self.cancelled.insert(order_id, ());
        Ok(())
    }

    /// What a participant does with a compensation of `order_id` asked at `now` (a refund or
    /// a release, asked by `orders/cancelled` or by the orchestrator's command; decision 0008),
    /// given whether its step was `done_here` for the order (charged, reserved) and whether it
    /// is `under_way` now. The rule both participants follow:
    /// - done here: undo what is not undone yet ([`Compensation::Undo`]);
    /// - under way: nothing now, the step is undone at once when it completes (a command is not
    ///   sent twice: a copy would be taken for a duplicate);
    /// - failed: nothing to undo, and nothing to answer the first `orders/cancelled`
    ///   (OrderService heard the failure, [`Asked::ByCancellation`]); asked again, or by a
    ///   command, OrderService did not hear it (its answer lost, a deadline
    ///   passed first), so the compensation before the step answers it, as for a step never
    ///   done: the nil id, "nothing to undo" (a newcomer's break-test: a failed reservation
    ///   whose answer was lost had OrderService ask 4 times, give up and send the learner to
    ///   "check by hand" for a reservation that never was);
    /// - compensated before the step already: the same answer again, dated as the first;
    /// - else the compensation before the step, remembered with `now`: the step asked later is
    ///   refused.
    pub fn compensation(
        &mut self,
        order_id: Uuid,
        now: Timestamp,
        done_here: bool,
        under_way: bool,
        asked: Asked,
    ) -> Compensation {
        if done_here {
            return Compensation::Undo;
        }
        if under_way {
            self.cancelled.insert(order_id, ());
            return Compensation::Nothing;
        }
        if self.failed.contains(&order_id)
            && asked == Asked::ByCancellation
            && !self.failed_asked.contains(&order_id)
        {
            self.failed_asked.insert(order_id, ());
            return Compensation::Nothing;
        }
        if self.compensated_early.contains(&order_id) {
            return Compensation::AnswerAgain;
        }
        self.compensated_early.insert(order_id, now);
        self.cancelled.insert(order_id, ());
        Compensation::BeforeTheStep
    }

    /// Whether a copy of a compensation of `order_id` (its identity processed before) still
    /// owes an answer: nothing was `done_here` for it and it was not answered as a
    /// compensation before the step. The first copy arrived while the step was under way,
    /// which a reload then ended, or after the step failed: either way no answer went out, and
    /// OrderService asking again means it heard none, so the copy is handled as a request
    /// ([`SagaStanding::compensation`]: the compensation before the step) rather than ignored
    /// as a duplicate with nothing to send again. The caller checks that no step is under way
    /// now.
    pub fn owes_an_answer(&self, order_id: Uuid, done_here: bool) -> bool {
        !done_here && !self.compensated_early.contains(&order_id)
    }

    /// Whether this participant still owes `order_id`'s step its result: not `done_here`, and
    /// the saga neither cancelled, confirmed, failed nor compensated before the step here. A
    /// copy of the message that starts the step, processed before, is then handled as the
    /// first rather than ignored: the step's work died (a crash, a reload) before it had any
    /// effect, so the record that it was processed outlived what it recorded (42-AL F9). The
    /// caller checks that no step is under way now.
    pub fn owes_its_step(&self, order_id: Uuid, done_here: bool) -> bool {
        self.never_did_its_step(order_id, done_here)
            && !self.cancelled.contains(&order_id)
            && !self.compensated_early.contains(&order_id)
    }

    /// Whether this participant neither did `order_id`'s step (not `done_here`) nor saw it fail
    /// or confirmed: the step's work died before it had any effect, whatever became of the
    /// saga since. A copy of a command that starts the step (orchestration), processed before,
    /// is then handled as the first: while the saga runs it does the step
    /// ([`SagaStanding::owes_its_step`]); once it was compensated before the step, it is
    /// answered `order already cancelled`, as a late command is, rather than ignored as a
    /// duplicate of work that never happened, with OrderService left without an answer (43-AN
    /// F5). The caller checks that no step is under way now.
    pub fn never_did_its_step(&self, order_id: Uuid, done_here: bool) -> bool {
        !done_here && !self.confirmed.contains(&order_id) && !self.failed.contains(&order_id)
    }

    /// How `order_id`'s saga stands, to keep in the tab's database ([`super::durable`]).
    pub fn memo(&self, order_id: Uuid) -> SagaMemo {
        SagaMemo {
            cancelled: self.cancelled.contains(&order_id),
            confirmed: self.confirmed.contains(&order_id),
            failed: self.failed.contains(&order_id),
            compensated_early_at: self
                .compensated_early
                .get(&order_id)
                .map(|t| t.unix_millis()),
        }
    }

    /// Takes back what [`SagaStanding::memo`] gave for `order_id` (after a reload).
    pub fn restore(&mut self, order_id: Uuid, memo: &SagaMemo) {
        for (flag, set) in [
            (memo.cancelled, &mut self.cancelled),
            (memo.confirmed, &mut self.confirmed),
            (memo.failed, &mut self.failed),
        ] {
            if flag {
                set.insert(order_id, ());
            }
        }
        if let Some(at) = time_of(memo.compensated_early_at) {
            self.compensated_early.insert(order_id, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_forgotten_first_and_a_replacement_keeps_its_place() {
        let mut memory = Recent::new(2);
        memory.insert(1, "a");
        memory.insert(2, "b");
        memory.insert(1, "a2");
        memory.insert(3, "c");
        assert_eq!(
            (memory.get(&1), memory.get(&2), memory.get(&3)),
            (None, Some(&"b"), Some(&"c"))
        );
        assert_eq!(memory.entries.len(), 2);
        if let Some(v) = memory.get_mut(&2) {
            *v = "b2";
        }
        assert!(memory.contains(&2) && memory.get(&2) == Some(&"b2"));
    }

    #[test]
    fn a_compensation_follows_the_participants_rule() {
        let (order, now) = (
            Uuid::from_u128(7),
            Timestamp::from_unix_millis(1_000).unwrap(),
        );
        let later = Timestamp::from_unix_millis(2_000).unwrap();
        let mut saga = SagaStanding::default();
        assert_eq!(
            saga.compensation(order, now, true, false, Asked::ByCancellation),
            Compensation::Undo
        );
        assert_eq!(
            saga.compensation(order, now, false, true, Asked::ByCancellation),
            Compensation::Nothing,
            "under way: undone when it completes"
        );
        assert!(saga.cancelled.contains(&order) && !saga.compensated_early.contains(&order));

        let mut saga = SagaStanding::default();
        saga.failed.insert(order, ());
        assert_eq!(
            saga.compensation(order, now, false, false, Asked::ByCancellation),
            Compensation::Nothing,
            "failed: OrderService heard the failure, the first request needs no answer"
        );
        // Asked again: OrderService did not hear the failure (a newcomer's break-test: it gave
        // up after 4 tries and said to check by hand). A copy owes the answer, and gets "nothing
        // to undo", then the same again.
        assert!(saga.owes_an_answer(order, false));
        assert_eq!(
            saga.compensation(order, later, false, false, Asked::ByCancellation),
            Compensation::BeforeTheStep
        );
        assert_eq!(
            saga.compensation(order, later, false, false, Asked::ByCancellation),
            Compensation::AnswerAgain
        );
        assert!(!saga.owes_an_answer(order, false));

        let mut saga = SagaStanding::default();
        assert!(saga.owes_an_answer(order, false));
        assert!(
            !saga.owes_an_answer(order, true),
            "done here: its undo is the answer"
        );
        assert_eq!(
            saga.compensation(order, now, false, false, Asked::ByCancellation),
            Compensation::BeforeTheStep
        );
        assert_eq!(
            saga.compensation(order, later, false, false, Asked::ByCancellation),
            Compensation::AnswerAgain
        );
        assert_eq!(
            saga.compensated_early.get(&order),
            Some(&now),
            "dated as the first"
        );
        assert!(!saga.owes_an_answer(order, false));
    }

    #[test]
    fn a_cancellation_after_the_confirmation_is_refused() {
        let order = Uuid::from_u128(8);
        let mut saga = SagaStanding::default();
        saga.confirmed.insert(order, ());
        assert_eq!(
            saga.cancellation(order, "refunded"),
            Err(format!(
                "order {order} was already confirmed: nothing is refunded"
            ))
        );
        assert!(!saga.cancelled.contains(&order));
        let other = Uuid::from_u128(9);
        assert_eq!(saga.cancellation(other, "released"), Ok(()));
        assert!(saga.cancelled.contains(&other));
    }

    #[test]
    fn inserting_past_the_capacity_names_the_entry_forgotten() {
        let mut memory = Recent::new(2);
        assert_eq!(memory.insert_forgetting(1, ()), None);
        assert_eq!(memory.insert_forgetting(2, ()), None);
        assert_eq!(
            memory.insert_forgetting(2, ()),
            None,
            "a replacement forgets nothing"
        );
        assert_eq!(memory.insert_forgetting(3, ()), Some(1));
        assert_eq!(memory.entries.len(), 2);
    }
}
