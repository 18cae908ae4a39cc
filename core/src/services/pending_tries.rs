//! Messages waiting to be tried again: a handler failed on them and [`next_step`] said
//! [`Step::Retry`]. They were acknowledged to the broker when they arrived (PUBACK, or PUBCOMP
//! at QoS 2), so the broker will not send them again: they exist only here until their last try
//! ends (processed, or dead-lettered). Kept beside the services' memory, not in a timer, so that
//! a runtime replaced by another (a new MQTT version, session mode or number of instances) hands
//! them over ([`PendingTries::take_all`]) as it hands over the scheduled work, and a crash can
//! say which ones died with the instance ([`PendingTries::crashed`], [`PendingTry::lost_with_crash`]).
//!
//! The driver arms a timer per try for [`PendingTries::schedule`]'s due time and takes the try
//! back when it fires ([`PendingTries::take`]); no clock is read here. It also keeps each try in
//! the tab's database under [`PendingTry::key`] ([`PendingTry::to_stored`]) until it is taken or
//! lost with a crash, so a reload of the page tries it again when due
//! ([`PendingTry::from_stored`]) instead of losing it.
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::QoS;
//! use eda_core::domain::Timestamp;
//! use eda_core::services::instances::Instance;
//! use eda_core::services::pending_tries::{PendingTries, Received};
//! use eda_core::services::ServiceId;
//!
//! let now = Timestamp::from_unix_millis(1_705_314_600_000).unwrap();
//! let payment = Instance::from(ServiceId::Payment);
//! let message = Received {
//!     instance: payment,
//!     topic: "orders/created".into(),
//!     qos: QoS::AtLeastOnce,
//!     correlation: None,
//!     payload: br#"{"orderId":"5b1c6c1e-7a56-4f1e-9d0a-3f3c2b1a0e9d"}"#.to_vec(),
//! };
//! let mut pending = PendingTries::default();
//! let id = pending.schedule(now, Duration::from_millis(200), message, 2, "t-1".into());
//! // PaymentService crashes before its timer fires: the try is lost, and its log says so.
//! let lost = pending.crashed(payment);
//! assert_eq!(
//!     lost[0].lost_with_crash(),
//!     "lost with the crash: orders/created 5b1c6c1e-7a56-4f1e-9d0a-3f3c2b1a0e9d was waiting \
//!      for try 2 of 3 (acknowledged to the broker when it arrived, so the broker will not send \
//!      it again)"
//! );
//! assert!(pending.take(id).is_none(), "its timer finds nothing to try");
//! ```
//!
//! [`next_step`]: super::dead_letter::next_step
//! [`Step::Retry`]: super::dead_letter::Step::Retry

use std::collections::BTreeMap;
use std::time::Duration;

use broker_bridge::QoS;
use serde::{Deserialize, Serialize};

use super::dead_letter::MAX_ATTEMPTS;
use super::instances::Instance;
use crate::domain::Timestamp;
use crate::trace::recording::{hex, unhex};

/// A message an instance's client received, as its handler saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The instance whose client received it (and whose handler tries it).
    pub instance: Instance,
    /// Its topic, without the page's namespace, e.g. `orders/created`.
    pub topic: String,
    /// The QoS it arrived with.
    pub qos: QoS,
    /// The `correlationId` user property it carried (MQTT 5.0).
    pub correlation: Option<String>,
    /// Its payload, as received.
    pub payload: Vec<u8>,
}

/// A message waiting for its next try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTry {
    /// The message.
    pub message: Received,
    /// The try it waits for: 2 to [`MAX_ATTEMPTS`].
    pub attempt: u32,
    /// When that try is due.
    pub due: Timestamp,
    /// Its key in the tab's database, unique across reloads (the driver draws it).
    pub key: String,
}

/// A [`PendingTry`] as the tab's database keeps it: `{"instance":"payment-2",
/// "topic":"orders/created","qos":1,"correlationId":null,"payloadHex":"7b 7d","attempt":2,
/// "dueMs":1705314600200}` (the payload's bytes as hex pairs, so any payload comes back whole).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredTry {
    instance: String,
    topic: String,
    qos: u8,
    correlation_id: Option<String>,
    payload_hex: String,
    attempt: u32,
    due_ms: i64,
}

impl PendingTry {
    /// "{topic} {orderId} was waiting for try {attempt} of 3"; without the order id if the
    /// payload names none.
    fn waiting(&self) -> String {
        let order = serde_json::from_slice::<serde_json::Value>(&self.message.payload)
            .ok()
            .and_then(|json| json.get("orderId")?.as_str().map(|id| format!(" {id}")))
            .unwrap_or_default();
        format!(
            "{}{order} was waiting for try {} of {MAX_ATTEMPTS}",
            self.message.topic, self.attempt
        )
    }

    /// The service log's sentence for a try lost with its instance's crash: "lost with the
    /// crash: {topic} {orderId} was waiting for try {attempt} of 3 (…)"; without the order id if
    /// the payload names none.
    pub fn lost_with_crash(&self) -> String {
        format!(
            "lost with the crash: {} (acknowledged to the broker when it arrived, so the broker \
             will not send it again)",
            self.waiting()
        )
    }

    /// The service log's sentence for a try the tab's database kept across a reload: "{topic}
    /// {orderId} was waiting for try {attempt} of 3 at the reload; the tab's database kept it,
    /// and it is tried when due".
    pub fn kept_across_reload(&self) -> String {
        format!(
            "{} at the reload; the tab's database kept it, and it is tried when due",
            self.waiting()
        )
    }

    /// The try as the tab's database keeps it (a private `StoredTry`'s JSON), under [`PendingTry::key`].
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&StoredTry {
            instance: self.message.instance.slug(),
            topic: self.message.topic.clone(),
            qos: self.message.qos.level(),
            correlation_id: self.message.correlation.clone(),
            payload_hex: hex(&self.message.payload),
            attempt: self.attempt,
            due_ms: self.due.unix_millis(),
        })
        .expect("a pending try always serializes to JSON")
    }

    /// The try stored under `key` as `json` ([`PendingTry::to_stored`]); `None` for a row that
    /// is not one (another version of the page wrote it, or it names no instance, QoS, attempt
    /// from 2 to 3 or time the page knows).
    pub fn from_stored(key: &str, json: &str) -> Option<PendingTry> {
        let stored: StoredTry = serde_json::from_str(json).ok()?;
        if !(2..=MAX_ATTEMPTS).contains(&stored.attempt) {
            return None;
        }
        Some(PendingTry {
            message: Received {
                instance: Instance::from_slug(&stored.instance)?,
                topic: stored.topic,
                qos: QoS::from_bits(stored.qos).ok()?,
                correlation: stored.correlation_id,
                payload: unhex(&stored.payload_hex).ok()?,
            },
            attempt: stored.attempt,
            due: Timestamp::from_unix_millis(stored.due_ms).ok()?,
            key: key.to_owned(),
        })
    }
}

/// The tries waiting, each under the id its timer knows it by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingTries {
    next_id: u64,
    waiting: BTreeMap<u64, PendingTry>,
}

impl PendingTries {
    /// Keeps `message` for its `attempt`-th try, due `after` `now`, under `key` in the tab's
    /// database ([`PendingTry::key`]); returns the id its timer takes it back by
    /// ([`PendingTries::take`]).
    pub fn schedule(
        &mut self,
        now: Timestamp,
        after: Duration,
        message: Received,
        attempt: u32,
        key: String,
    ) -> u64 {
        let after = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        let due_ms = now.unix_millis().saturating_add(after);
        let due = Timestamp::from_unix_millis(due_ms).unwrap_or(now);
        self.keep(PendingTry {
            message,
            attempt,
            due,
            key,
        })
    }

    /// Keeps `pending` as it is (a try handed over by another runtime, or read back from the
    /// tab's database after a reload); returns its new id.
    pub fn keep(&mut self, pending: PendingTry) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.waiting.insert(id, pending);
        id
    }

    /// The try kept under `id`, if it is still waiting.
    pub fn get(&self, id: u64) -> Option<&PendingTry> {
        self.waiting.get(&id)
    }

    /// The try kept under `id`, taken out to be tried now; `None` if it is gone (lost with a
    /// crash, or handed over to another runtime).
    pub fn take(&mut self, id: u64) -> Option<PendingTry> {
        self.waiting.remove(&id)
    }

    /// `instance` crashed: its tries die with it (its work in hand). Returns them, in the order
    /// they were scheduled, for its log.
    pub fn crashed(&mut self, instance: Instance) -> Vec<PendingTry> {
        let ids: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, p)| p.message.instance == instance)
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.waiting.remove(&id))
            .collect()
    }

    /// Every try waiting, in the order they were scheduled, taken out (for the next runtime).
    pub fn take_all(&mut self) -> Vec<PendingTry> {
        std::mem::take(&mut self.waiting).into_values().collect()
    }

    /// How many tries are waiting.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether no try is waiting.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::ServiceId;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_705_314_600_000 + ms).unwrap()
    }

    fn received(instance: Instance, payload: &[u8]) -> Received {
        Received {
            instance,
            topic: "orders/created".into(),
            qos: QoS::AtLeastOnce,
            correlation: None,
            payload: payload.to_vec(),
        }
    }

    fn payment(n: u8) -> Instance {
        Instance {
            service: ServiceId::Payment,
            number: n,
        }
    }

    #[test]
    fn a_try_is_due_its_delay_after_it_was_scheduled_and_taken_once() {
        let mut pending = PendingTries::default();
        let id = pending.schedule(
            at(0),
            Duration::from_millis(200),
            received(payment(1), b"{}"),
            2,
            "k".into(),
        );
        assert_eq!(pending.len(), 1);
        let taken = pending.take(id).expect("waiting");
        assert_eq!((taken.attempt, taken.due), (2, at(200)));
        assert_eq!(pending.take(id), None, "taken once");
        assert!(pending.is_empty());
    }

    #[test]
    fn a_crash_takes_only_the_crashed_instance_s_tries() {
        let mut pending = PendingTries::default();
        let mine = pending.schedule(
            at(0),
            Duration::from_millis(200),
            received(payment(2), b"{}"),
            2,
            "k".into(),
        );
        let other = pending.schedule(
            at(0),
            Duration::from_millis(200),
            received(payment(1), b"{}"),
            3,
            "k".into(),
        );
        let lost = pending.crashed(payment(2));
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].message.instance, payment(2));
        assert_eq!(pending.take(mine), None, "its timer finds nothing");
        assert!(
            pending.take(other).is_some(),
            "the other instance's try goes on"
        );
    }

    #[test]
    fn handed_over_tries_keep_their_due_time_and_order() {
        let mut old = PendingTries::default();
        old.schedule(
            at(0),
            Duration::from_millis(200),
            received(payment(1), b"1"),
            2,
            "k".into(),
        );
        old.schedule(
            at(50),
            Duration::from_millis(200),
            received(payment(2), b"2"),
            3,
            "k".into(),
        );
        let handed = old.take_all();
        assert!(old.is_empty(), "the old runtime's timers find nothing");
        let mut new = PendingTries::default();
        let ids: Vec<u64> = handed.iter().cloned().map(|p| new.keep(p)).collect();
        let first = new.take(ids[0]).unwrap();
        let second = new.take(ids[1]).unwrap();
        assert_eq!(
            (first.due, first.attempt, first.message.payload),
            (at(200), 2, b"1".to_vec())
        );
        assert_eq!((second.due, second.attempt), (at(250), 3));
    }

    #[test]
    fn the_lost_sentence_names_the_order_when_the_payload_does() {
        let lost = PendingTry {
            message: received(payment(1), b"not json"),
            attempt: 3,
            due: at(0),
            key: "k".into(),
        };
        assert!(
            lost.lost_with_crash()
                .starts_with("lost with the crash: orders/created was waiting for try 3 of 3"),
            "{}",
            lost.lost_with_crash()
        );
    }

    #[test]
    fn a_stored_try_comes_back_whole_and_a_row_that_is_not_one_does_not() {
        let kept = PendingTry {
            message: Received {
                instance: payment(2),
                topic: "orders/created".into(),
                qos: QoS::ExactlyOnce,
                correlation: Some("c-1".into()),
                payload: b"\xff{\"orderId\":\"o-1\"}".to_vec(),
            },
            attempt: 3,
            due: at(450),
            key: "k-9".into(),
        };
        let json = kept.to_stored();
        assert_eq!(PendingTry::from_stored("k-9", &json), Some(kept.clone()));
        assert!(json.contains("\"instance\":\"payment-2\""), "{json}");
        for (what, row) in [
            ("not JSON", "nope".to_owned()),
            ("attempt 1", json.replace("\"attempt\":3", "\"attempt\":1")),
            ("attempt 4", json.replace("\"attempt\":3", "\"attempt\":4")),
            ("QoS 3", json.replace("\"qos\":2", "\"qos\":3")),
            ("no such service", json.replace("payment-2", "billing")),
            (
                "bad hex",
                json.replace("\"payloadHex\":\"ff", "\"payloadHex\":\"zz"),
            ),
        ] {
            assert_eq!(PendingTry::from_stored("k-9", &row), None, "{what}");
        }
    }

    #[test]
    fn a_try_kept_across_a_reload_says_so_in_the_log() {
        let kept = PendingTry {
            message: received(payment(1), br#"{"orderId":"o-7"}"#),
            attempt: 2,
            due: at(0),
            key: "k".into(),
        };
        assert_eq!(
            kept.kept_across_reload(),
            "orders/created o-7 was waiting for try 2 of 3 at the reload; the tab's database kept \
             it, and it is tried when due"
        );
    }
}
