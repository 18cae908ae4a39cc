//! Dead letters: a message a service cannot process is not lost. A message that can never be
//! processed as it is (not JSON, the wrong shape, impossible values, an order for a product the
//! stock does not list) goes at once to
//! `deadletter/<service>`; a handler that fails is tried again, [`MAX_ATTEMPTS`] times in all,
//! [`RETRY_AFTER`] apart (or `?retry_ms=`, [`parse_retry_after`]), before its message goes there. The dead letter keeps the original
//! topic and payload (as text), the reason, the attempts and the time, so someone can read it,
//! fix it and publish it again.
//!
//! A **poison message** here is an order whose `customerId` is [`POISON_CUSTOMER`]: every
//! service's handler fails on it, every time (as a bug triggered by one input would).
//!
//! ```
//! use std::time::Duration;
//! use eda_core::services::dead_letter::{next_step, Step, MAX_ATTEMPTS};
//! use eda_core::services::RejectionKind;
//!
//! let wait = Duration::from_millis(200);
//! assert_eq!(next_step(RejectionKind::Failed, 1, wait), Step::Retry { after: wait });
//! assert_eq!(next_step(RejectionKind::Failed, MAX_ATTEMPTS, wait), Step::DeadLetter);
//! assert_eq!(next_step(RejectionKind::Malformed, 1, wait), Step::DeadLetter);
//! assert_eq!(next_step(RejectionKind::Refused, 1, wait), Step::Log);
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{RejectionKind, ServiceId};
use crate::domain::Timestamp;

/// How many times a failing handler is tried before its message is dead-lettered.
pub const MAX_ATTEMPTS: u32 = 3;

/// How long between two attempts unless `?retry_ms=` says otherwise.
pub const RETRY_AFTER: Duration = Duration::from_millis(200);

/// The waits between two attempts a learner may set with `?retry_ms=`, in milliseconds: long
/// enough to crash a service or reload the page between two tries.
pub const RETRY_AFTER_RANGE_MS: std::ops::RangeInclusive<u64> = 0..=10_000;

/// A wait between two attempts in whole milliseconds from 0 to 10000, the value of
/// `?retry_ms=`. The error is a sentence for the page:
/// `"soon" is not a wait between tries: use whole milliseconds from 0 to 10000`.
pub fn parse_retry_after(text: &str) -> Result<Duration, String> {
    super::settings::parse_millis(text, RETRY_AFTER_RANGE_MS, "a wait between tries")
}

/// The customer id that makes every handler fail.
pub const POISON_CUSTOMER: &str = "POISON";

/// The filter that follows every service's dead letters.
pub const DEADLETTER_FILTER: &str = "deadletter/+";

/// The topic of `service`'s dead letters: `deadletter/<slug>`.
pub fn deadletter_topic(service: ServiceId) -> String {
    format!("deadletter/{}", service.slug())
}

/// What to do after a message failed on its `attempts`-th try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Try again after this long.
    Retry {
        /// The wait before the next attempt.
        after: Duration,
    },
    /// Give up: publish it to the service's dead-letter topic.
    DeadLetter,
    /// Log it and move on: the message was fine, the service decided against it (a duplicate,
    /// a transition the order refuses, a topic it does not subscribe to).
    Log,
}

/// The rule: malformed messages and messages about what the service does not know (an unknown
/// product) go to the dead letters at once, a failing handler is tried
/// [`MAX_ATTEMPTS`] times, `retry_after` apart, anything else is only logged.
pub fn next_step(kind: RejectionKind, attempts: u32, retry_after: Duration) -> Step {
    match kind {
        RejectionKind::Malformed | RejectionKind::Unknown => Step::DeadLetter,
        RejectionKind::Failed if attempts < MAX_ATTEMPTS => Step::Retry { after: retry_after },
        RejectionKind::Failed => Step::DeadLetter,
        RejectionKind::Refused
        | RejectionKind::Duplicate
        | RejectionKind::Early
        | RejectionKind::NotItsOwn => Step::Log,
    }
}

/// What `deadletter/<service>` carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// The service that gave up, e.g. `PaymentService`.
    pub service: String,
    /// The topic the message arrived on.
    pub topic: String,
    /// The message as it arrived, as text (invalid UTF-8 replaced by U+FFFD).
    pub payload: String,
    /// The message's bytes in hex (`"ff fe 20 62"`), only when they are not UTF-8 text, so that
    /// `payload` lost some: a Retry of the payload as shown, unedited, sends these bytes
    /// ([`DeadLetter::retry_bytes`]). Absent (not `null`) otherwise, so a dead letter of text
    /// is as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hex: Option<String>,
    /// Why it could not be processed.
    pub reason: String,
    /// How many times it was tried.
    pub attempts: u32,
    /// When the service gave up.
    pub failed_at: Timestamp,
}

impl DeadLetter {
    /// A dead letter of the message `bytes` that arrived on `topic`: `payload` its text, and
    /// `payload_hex` its bytes when they are not UTF-8.
    pub fn of_message(
        service: ServiceId,
        topic: &str,
        bytes: &[u8],
        reason: &str,
        attempts: u32,
        failed_at: Timestamp,
    ) -> DeadLetter {
        DeadLetter {
            service: service.name().to_owned(),
            topic: topic.to_owned(),
            payload: String::from_utf8_lossy(bytes).into_owned(),
            payload_hex: std::str::from_utf8(bytes)
                .is_err()
                .then(|| crate::trace::recording::hex(bytes)),
            reason: reason.to_owned(),
            attempts,
            failed_at,
        }
    }

    /// What a Retry of `text` (the payload as the learner left it) publishes: the original
    /// bytes when `text` is the payload as shown, unedited, and the message was not UTF-8
    /// ([`DeadLetter::payload_hex`]); else `text` itself.
    pub fn retry_bytes(&self, text: &str) -> Vec<u8> {
        match &self.payload_hex {
            Some(hex) if text == self.payload => {
                crate::trace::recording::unhex(hex).unwrap_or_else(|_| text.as_bytes().to_vec())
            }
            _ => text.as_bytes().to_vec(),
        }
    }

    /// The payload: compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a dead letter always serializes to JSON")
    }

    /// The dead letter in a message on `topic`, if it is one of a service's.
    pub fn decode(topic: &str, payload: &[u8]) -> Option<(ServiceId, DeadLetter)> {
        let slug = topic.strip_prefix("deadletter/")?;
        let service = ServiceId::ALL.into_iter().find(|s| s.slug() == slug)?;
        Some((service, serde_json::from_slice(payload).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_handler_gets_three_tries_and_a_malformed_message_one() {
        let wait = Duration::from_millis(3000);
        let steps: Vec<Step> = (1..=3)
            .map(|n| next_step(RejectionKind::Failed, n, wait))
            .collect();
        assert_eq!(
            steps,
            [
                Step::Retry { after: wait },
                Step::Retry { after: wait },
                Step::DeadLetter
            ]
        );
        assert_eq!(
            next_step(RejectionKind::Malformed, 1, wait),
            Step::DeadLetter
        );
        assert_eq!(next_step(RejectionKind::Duplicate, 1, wait), Step::Log);
    }

    #[test]
    fn the_wait_between_tries_reads_whole_milliseconds_up_to_ten_seconds() {
        for (text, ms) in [("0", 0), ("200", 200), (" 3000 ", 3000), ("10000", 10_000)] {
            assert_eq!(parse_retry_after(text), Ok(Duration::from_millis(ms)));
        }
        for text in ["-1", "10001", "1.5", "", "soon"] {
            let error = parse_retry_after(text).unwrap_err();
            assert!(
                error.ends_with(
                    "is not a wait between tries: use whole milliseconds from 0 to 10000"
                ),
                "{text}: {error}"
            );
        }
        assert_eq!(
            parse_retry_after("soon").unwrap_err(),
            "\"soon\" is not a wait between tries: use whole milliseconds from 0 to 10000"
        );
    }

    #[test]
    fn a_message_that_is_not_utf8_keeps_its_bytes_for_an_unedited_retry() {
        // A break-test: `printf '\xff\xfe bad'` dead-lettered as "\u{fffd}\u{fffd} bad": a
        // Retry sent ef bf bd ef bf bd, not the message that failed.
        let failed_at = Timestamp::from_unix_millis(0).unwrap();
        let bytes = b"\xff\xfe bad";
        let letter = DeadLetter::of_message(
            ServiceId::Order,
            "inventory/reserved",
            bytes,
            "not UTF-8",
            1,
            failed_at,
        );
        assert_eq!(letter.payload, "\u{fffd}\u{fffd} bad");
        assert_eq!(letter.payload_hex.as_deref(), Some("ff fe 20 62 61 64"));
        let json = String::from_utf8(letter.to_json()).unwrap();
        assert!(
            json.contains(r#""payloadHex":"ff fe 20 62 61 64""#),
            "{json}"
        );
        let (_, back) = DeadLetter::decode("deadletter/order", json.as_bytes()).unwrap();
        assert_eq!(back, letter);
        assert_eq!(
            back.retry_bytes(&back.payload),
            bytes.to_vec(),
            "unedited: the bytes that failed"
        );
        assert_eq!(
            back.retry_bytes("fixed"),
            b"fixed".to_vec(),
            "edited: the text"
        );

        // Text stays as it was: no payloadHex in the JSON, the text retried.
        let text = DeadLetter::of_message(
            ServiceId::Order,
            "orders/created",
            b"not json",
            "x",
            1,
            failed_at,
        );
        assert_eq!(text.payload_hex, None);
        assert!(!String::from_utf8(text.to_json())
            .unwrap()
            .contains("payloadHex"));
        assert_eq!(text.retry_bytes("not json"), b"not json".to_vec());
    }

    #[test]
    fn a_dead_letter_reads_back_from_its_topic() {
        let letter = DeadLetter {
            service: "PaymentService".into(),
            topic: "orders/created".into(),
            payload: "not json".into(),
            payload_hex: None,
            reason: "payload is not JSON: a word JSON does not know at line 1 column 2 (its only words are true, false and null; a text goes in double quotes)".into(),
            attempts: 1,
            failed_at: Timestamp::from_unix_millis(0).unwrap(),
        };
        let topic = deadletter_topic(ServiceId::Payment);
        assert_eq!(topic, "deadletter/payment");
        assert_eq!(
            DeadLetter::decode(&topic, &letter.to_json()),
            Some((ServiceId::Payment, letter.clone()))
        );
        assert_eq!(
            DeadLetter::decode("deadletter/nobody", &letter.to_json()),
            None
        );
        assert_eq!(
            DeadLetter::decode("orders/created", &letter.to_json()),
            None
        );
        assert_eq!(DeadLetter::decode(&topic, b"{}"), None);
    }

    /// Each dead letter in `docs/wire-contract/` is what its service publishes: it reads back,
    /// writes back byte for byte (without layout), and its reason, kind and attempts are the
    /// ones [`super::Flow::handle`] gives for the payload it carries (deadletter-payment.json:
    /// a poison order, tried 3 times; deadletter-inventory.json: an unknown product, once;
    /// deadletter-order-not-text.json: bytes that are not UTF-8, once, kept in `payloadHex`).
    #[test]
    fn the_wire_contract_examples_are_what_the_services_write() {
        use super::super::settings::Stock;
        use super::super::{Flow, FlowSettings};
        let examples = [
            (
                include_str!("../../../docs/wire-contract/deadletter-payment.json"),
                "deadletter/payment",
                ServiceId::Payment,
                RejectionKind::Failed,
                Stock::default(),
            ),
            (
                include_str!("../../../docs/wire-contract/deadletter-inventory.json"),
                "deadletter/inventory",
                ServiceId::Inventory,
                RejectionKind::Unknown,
                Stock::parse("P001:5,P002:3").unwrap(),
            ),
            (
                include_str!("../../../docs/wire-contract/deadletter-order-not-text.json"),
                "deadletter/order",
                ServiceId::Order,
                RejectionKind::Malformed,
                Stock::default(),
            ),
        ];
        for (text, topic, expected, kind, stock) in examples {
            let (service, letter) =
                DeadLetter::decode(topic, text.as_bytes()).expect("the example is a dead letter");
            assert_eq!(service, expected);
            assert_eq!(letter.service, service.name());
            let (mut compact, mut in_string, mut escaped) = (String::new(), false, false);
            for c in text.chars() {
                if in_string || !c.is_whitespace() {
                    compact.push(c);
                }
                match (in_string, escaped, c) {
                    (true, true, _) => escaped = false,
                    (true, false, '\\') => escaped = true,
                    (_, false, '"') => in_string = !in_string,
                    _ => {}
                }
            }
            assert_eq!(String::from_utf8(letter.to_json()).unwrap(), compact);
            let mut flow = Flow::new(FlowSettings {
                stock: stock.clone(),
                ..FlowSettings::default()
            });
            flow.inventory.set_stock(stock);
            let rejection = flow
                .handle(
                    service,
                    Timestamp::from_unix_millis(0).unwrap(),
                    &letter.topic,
                    // The bytes that failed: the text, or those of payloadHex.
                    &letter.retry_bytes(&letter.payload),
                )
                .expect_err("the example's message is not processed");
            assert_eq!(rejection.kind, kind, "{topic}");
            assert_eq!(rejection.reason, letter.reason, "{topic}");
            let attempts = (1..=MAX_ATTEMPTS)
                .find(|&n| next_step(kind, n, RETRY_AFTER) == Step::DeadLetter)
                .unwrap();
            assert_eq!(letter.attempts, attempts, "{topic}");
        }
    }
}
