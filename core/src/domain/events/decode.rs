//! Reading an event off the wire: any bytes on any topic give an event or an error a learner
//! can read in the event log. Anyone may publish to the broker, so nothing here trusts input.

use serde::de::{DeserializeOwned, IgnoredAny};

use super::{DomainEvent, OrderCreated, OrderItem, PaymentProcessed};
use crate::domain::money::{amount_cents, Cents, CentsSum};
use crate::outside_text::{char_at, is_invisible, isolate, long_name, visible};

/// Why a received message is not an event of the flow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("no event of the order flow is published on topic `{}`", isolate(.0))]
    UnknownTopic(String),
    /// No bytes at all (`mosquitto_pub -n`): said in words, not as serde_json's "EOF while
    /// parsing a value at line 1 column 0". Nothing to process, so a service only logs it (it
    /// is what every subscriber receives when someone clears a topic's retained message).
    #[error(
        "payload is empty: nothing to process (an event of the flow is a JSON object; an empty \
         message is also how MQTT clears a topic's retained message)"
    )]
    Empty,
    #[error("payload is not UTF-8 text")]
    NotUtf8,
    /// serde_json's description of the syntax error, naming the invisible character (a BOM,
    /// a zero-width space …) or look-alike space where it stopped, if there is one.
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not the event its topic carries. Holds the whole sentence, naming the event:
    /// "payload is not an OrderCreated event: missing field `customerId` at line 1 column 40".
    #[error("{0}")]
    WrongShape(String),
    /// The right shape carrying values no order can have (no items, a negative price, …).
    #[error("payload is not a valid {event} event: {reason}")]
    Invalid { event: &'static str, reason: String },
}

impl DomainEvent {
    /// Decodes a message received on `topic`. Fields the seed does not know are ignored, so a
    /// newer publisher does not break an older subscriber.
    pub fn decode(topic: &str, payload: &[u8]) -> Result<DomainEvent, EventError> {
        // The topic first, before reading any byte of an unknown message.
        if DomainEvent::parse_for(topic, "").is_none() {
            return Err(EventError::UnknownTopic(topic.to_owned()));
        }
        if payload.is_empty() {
            return Err(EventError::Empty);
        }
        let text = std::str::from_utf8(payload).map_err(|_| EventError::NotUtf8)?;
        let event = DomainEvent::parse_for(topic, text)
            .unwrap_or_else(|| Err(EventError::UnknownTopic(topic.to_owned())))?;
        check(&event).map_err(|reason| EventError::Invalid {
            event: event.name(),
            reason,
        })?;
        Ok(event)
    }
}

pub(super) fn parse<T: DeserializeOwned>(text: &str, event: &'static str) -> Result<T, EventError> {
    // A first pass over the syntax alone, so "not JSON" and "JSON of the wrong shape" are told
    // apart even when a shape error comes before a syntax error in the text.
    serde_json::from_str::<IgnoredAny>(text)
        .map_err(|e| EventError::NotJson(with_hidden(text, &e)))?;
    let article = article(event);
    // JSON, but not an object at all: said as such, not as serde's complaint about the first
    // element of a list (a newcomer's break-test: `[1,2,3]` read "the number 1 where a
    // formatted UUID string is expected").
    if let Some(what) = not_an_object(text) {
        return Err(EventError::WrongShape(format!(
            "payload is not {article} {event} event: it is {what}, and an event of the flow is \
             a JSON object ({{\"orderId\": …}})"
        )));
    }
    serde_json::from_str(text).map_err(|e| {
        EventError::WrongShape(format!(
            "payload is not {article} {event} event: {}",
            with_hidden(text, &e)
        ))
    })
}

/// The article before an event's type name: `an` before a vowel (`an OrderCancelled`), else `a`
/// (`a PaymentConfirmed`).
pub fn article(type_name: &str) -> &'static str {
    if type_name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// What valid JSON `text` is when it is not an object: "a list", "text", "a number", "true
/// or false", "null" (the words serde's complaints are put in: "the text \"1\"", "a list");
/// `None` for an object. The flow's decoder and the event store's say it alike (44-AS: "a text"
/// in one, "text" and "an array" in the other).
pub(crate) fn not_an_object(text: &str) -> Option<&'static str> {
    match text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .chars()
        .next()?
    {
        '{' => None,
        '[' => Some("a list"),
        '"' => Some("text"),
        't' | 'f' => Some("true or false"),
        'n' => Some("null"),
        _ => Some("a number"),
    }
}

/// serde_json's message, and what is at its position when nobody could see it: "expected
/// value at line 1 column 1, where the payload has U+FEFF BYTE ORDER MARK (BOM), which does
/// not show". serde_json's message may quote the payload, so it is made visible too.
pub(crate) fn with_hidden(text: &str, error: &serde_json::Error) -> String {
    let message = visible(&in_words(&error.to_string())).into_owned();
    let Some(c) = char_at(text, error.line(), error.column()) else {
        return message;
    };
    let Some(name) = long_name(c) else {
        return message;
    };
    let looks = if is_invisible(c) {
        "which does not show"
    } else {
        "which looks like a space but is not one in JSON"
    };
    format!("{message}, where the payload has {name}, {looks}")
}

/// serde's description of a value of the wrong type or range, in words a newcomer reads:
/// *invalid type: string "12.00", expected f64* becomes *the text "12.00" where a number is
/// expected (write it without quotes)*, and *invalid value: integer \`1000000000000000\`,
/// expected u32* becomes *the number 1000000000000000 where a whole number from 0 to
/// 4294967295 is expected*; serde's position (*at line 1 column 117*) is kept at the end. Any
/// other message is kept as serde wrote it. Used for the wire's events and the store's.
pub(crate) fn in_words(message: &str) -> String {
    if let Some(said) = syntax_in_words(message) {
        return said;
    }
    let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message.to_owned();
    };
    let Some((found, expected)) = rest.rsplit_once(", expected ") else {
        return message.to_owned();
    };
    let (expected, position) = match expected.find(" at line ") {
        Some(at) => expected.split_at(at),
        None => (expected, ""),
    };
    let unquoted = |text: &str| text.trim_matches('`').to_owned();
    let found = match found.split_once(' ') {
        Some(("string", text)) => format!("the text {text}"),
        Some(("floating", text)) => number_in_words(&unquoted(text.trim_start_matches("point "))),
        Some(("integer", text)) => format!("the number {}", unquoted(text)),
        Some(("boolean", text)) => unquoted(text),
        _ => match found {
            "map" => "an object".to_owned(),
            "sequence" => "a list".to_owned(),
            "null" | "unit value" => "null".to_owned(),
            other => other.to_owned(),
        },
    };
    let whole = |max: &str| format!("a whole number from 0 to {max}");
    let expected = match expected {
        "f64" | "f32" => "a number".to_owned(),
        "u8" => whole("255"),
        "u16" => whole("65535"),
        "u32" => whole("4294967295"),
        "u64" => whole("18446744073709551615"),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "a list".to_owned(),
        other if other.starts_with("struct ") => "an object".to_owned(),
        other => other.to_owned(),
    };
    let hint = if found.starts_with("the text ") && expected.contains("number") {
        " (write it without quotes)"
    } else {
        ""
    };
    format!("{found} where {expected} is expected{hint}{position}")
}

/// A number serde read as a float, as a newcomer wrote it: `the number 2.5`; a whole number too
/// long for any integer (serde gives it rounded, in exponent form: `1.8446744073709552e19` for
/// 18446744073709551616) by its digits, `a number of 20 digits`, not in a form the sender never
/// wrote (a newcomer's break-test, 33-H F5).
fn number_in_words(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(value) if text.contains(['e', 'E']) && value.is_finite() && value.fract() == 0.0 => {
            let digits = value.abs().log10().floor() as u32 + 1;
            let sign = if value < 0.0 { "negative " } else { "" };
            format!("a {sign}number of {digits} digits")
        }
        _ => format!("the number {text}"),
    }
}

/// serde_json's syntax errors that name its parser's parts (`ident`, `EOF`, trailing
/// characters, keys) in words a newcomer reads, serde's position kept: *expected ident at line 1
/// column 2* (`not json`: after `n` it looked for `null`) becomes *a word JSON does not know at
/// line 1 column 2 (its only words are true, false and null; a text goes in double quotes)*.
/// `None` for any other message (serde_json's others read as English already: *expected
/// value*, *expected `,` or `}`*).
fn syntax_in_words(message: &str) -> Option<String> {
    let (what, position) = match message.find(" at line ") {
        Some(at) => message.split_at(at),
        None => (message, ""),
    };
    let said = |words: &str, hint: &str| Some(format!("{words}{position}{hint}"));
    match what {
        "expected ident" => said(
            "a word JSON does not know",
            " (its only words are true, false and null; a text goes in double quotes)",
        ),
        "trailing characters" => said("more text after the JSON value has ended", ""),
        "key must be a string" => said("no key in double quotes where one should come", ""),
        // 44-AQ F8: "number out of range" named no limit.
        "number out of range" => said(
            "a number out of range",
            " (larger than any number the page reads: about 1.8e308 at most)",
        ),
        // 44-AS F6: serde's "UUID parsing failed: invalid character: found `n` at 0".
        _ if what.starts_with("UUID parsing failed") => said(
            "a text that is not an id",
            " (an id is 32 hexadecimal digits in groups of 8-4-4-4-12, e.g. \
             3fa85f64-5717-4562-b3fc-2c963f66afa6)",
        ),
        _ => {
            let inside = what.strip_prefix("EOF while parsing ")?;
            if inside == "a value" {
                said("the text ends where a value should come", "")
            } else {
                said(&format!("the text ends inside {inside}"), "")
            }
        }
    }
}

/// The business rules serde cannot express; the reason names the JSON field at fault.
fn check(event: &DomainEvent) -> Result<(), String> {
    // A newcomer's break-test: an order with the nil id ran a whole saga, where the nil id is
    // what a participant answers "nothing was done" with (a refund's `paymentId`, a release's
    // `reservationId`).
    if event.order_id().is_nil() {
        return Err(
            "`orderId` is the nil UUID (00000000-0000-0000-0000-000000000000), which names no \
             order: the playground uses it only for \"nothing was done\" in a paymentId or a \
             reservationId"
                .into(),
        );
    }
    match event {
        DomainEvent::OrderCreated(order) => check_order(order),
        DomainEvent::PaymentProcessed(payment) => check_payment(payment),
        DomainEvent::PaymentRefunded(refund) => check_amount("amount", refund.amount),
        DomainEvent::ChargePayment(charge) => check_amount("amount", charge.amount),
        DomainEvent::OrderCancelled(cancelled) if cancelled.reason.trim().is_empty() => {
            Err("`reason` is empty; a cancellation says why".into())
        }
        _ => Ok(()),
    }
}

fn check_order(order: &OrderCreated) -> Result<(), String> {
    if order.customer_id.trim().is_empty() {
        return Err("`customerId` is empty".into());
    }
    if order.items.is_empty() {
        return Err("`items` is empty; an order has at least one item".into());
    }
    for (index, item) in order.items.iter().enumerate() {
        if item.quantity == 0 {
            return Err(format!(
                "`items[{index}].quantity` is 0; it must be at least 1"
            ));
        }
        check_amount(&format!("items[{index}].price"), item.price)?;
    }
    check_total(&order.items, order.total_amount)
}

/// The order's `totalAmount` is the sum of its items' quantity × price, in whole cents: an
/// order whose total says otherwise is malformed (which figure would a service charge?). The
/// reason names both figures. Errors too, as [`amount_cents`] does, for an amount it refuses.
pub(crate) fn check_total(items: &[OrderItem], total_amount: f64) -> Result<(), String> {
    let mut sum = CentsSum::default();
    for (index, item) in items.iter().enumerate() {
        let price = amount_cents(&format!("items[{index}].price"), item.price)?;
        // Checked: a quantity of 4294967295 at the largest price is beyond u64 cents.
        sum = match price.0.checked_mul(u64::from(item.quantity)) {
            Some(line) => sum.plus(Cents(line)),
            None => CentsSum::TooLarge,
        };
    }
    let total = amount_cents("totalAmount", total_amount)?;
    if sum == total {
        return Ok(());
    }
    let items_sum = match sum {
        CentsSum::Exact(sum) => sum.to_string(),
        CentsSum::TooLarge => format!("more than {}", Cents(u64::MAX)),
    };
    Err(format!(
        "`totalAmount` is {total}, but the items add up to {items_sum} (quantity × price of \
         each item); send a total equal to that sum"
    ))
}

fn check_payment(payment: &PaymentProcessed) -> Result<(), String> {
    check_amount("amount", payment.amount)
}

/// An amount no service can count to the cent (negative, or beyond
/// [`MAX_EXACT_CENTS`](crate::domain::money::MAX_EXACT_CENTS)) makes the message malformed.
fn check_amount(field: &str, value: f64) -> Result<(), String> {
    amount_cents(field, value).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::seed;
    use crate::domain::topics;

    fn compact(pretty: &str) -> String {
        pretty.split_whitespace().collect()
    }

    fn decode_order(json: &str) -> Result<DomainEvent, EventError> {
        DomainEvent::decode(topics::ORDERS_CREATED, json.as_bytes())
    }

    fn invalid_reason(result: Result<DomainEvent, EventError>) -> String {
        match result {
            Err(EventError::Invalid { reason, .. }) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn an_order_id_of_nil_is_refused_on_every_topic() {
        let nil =
            seed::ORDER_CREATED.replace(seed::ORDER_ID, "00000000-0000-0000-0000-000000000000");
        assert!(invalid_reason(decode_order(&nil)).starts_with("`orderId` is the nil UUID"));
        let cancelled = r#"{"orderId":"00000000-0000-0000-0000-000000000000","reason":"x","cancelledAt":"2024-01-15T10:30:00.000Z"}"#;
        assert!(invalid_reason(DomainEvent::decode(
            topics::ORDERS_CANCELLED,
            cancelled.as_bytes()
        ))
        .starts_with("`orderId` is the nil UUID"));
    }

    // 44-AS F6, 44-AQ F8: serde's raw "UUID parsing failed: invalid character: found `n` at 0"
    // and a bare "number out of range" became reasons that say what to send.
    #[test]
    fn a_bad_id_and_a_number_out_of_range_are_said_in_words() {
        let bad_id = seed::ORDER_CREATED.replace(seed::ORDER_ID, "not-an-id");
        let said = DomainEvent::decode(topics::ORDERS_CREATED, bad_id.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(said.contains("a text that is not an id at line "), "{said}");
        assert!(said.contains("8-4-4-4-12"), "{said}");
        assert!(!said.contains("UUID parsing failed"), "{said}");
        let huge = seed::ORDER_CREATED.replace("\"quantity\": 2", "\"quantity\": 1e400");
        assert_ne!(huge, seed::ORDER_CREATED);
        let said = DomainEvent::decode(topics::ORDERS_CREATED, huge.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(said.contains("a number out of range at line "), "{said}");
        assert!(said.contains("1.8e308"), "{said}");
    }

    /// `docs/wire-contract/README.md`: every spelling of a UUID is the same id, written back in
    /// the lower-case hyphenated form (a newcomer's break-test, 35-M F4, asked for it said).
    #[test]
    fn an_order_id_in_another_spelling_is_the_same_id_written_in_lower_case() {
        let upper = seed::ORDER_ID.to_uppercase();
        for spelling in [
            upper.clone(),
            format!("{{{upper}}}"),
            format!("urn:uuid:{}", seed::ORDER_ID),
            seed::ORDER_ID.replace('-', ""),
        ] {
            let order = seed::ORDER_CREATED.replace(seed::ORDER_ID, &spelling);
            let decoded = decode_order(&order).expect(&spelling);
            assert_eq!(decoded.order_id().to_string(), seed::ORDER_ID, "{spelling}");
            let written = String::from_utf8(decoded.to_json()).unwrap();
            assert!(written.starts_with(&format!("{{\"orderId\":\"{}\"", seed::ORDER_ID)));
        }
        let doc = include_str!("../../../../docs/wire-contract/README.md");
        assert!(doc.contains("lower-case hyphenated form of the examples, in every answer"));
    }

    #[test]
    fn decodes_each_seed_payload_on_its_topic() {
        let cases = [
            (topics::ORDERS_CREATED, seed::ORDER_CREATED, "OrderCreated"),
            (
                topics::PAYMENTS_PROCESSED,
                seed::PAYMENT_PROCESSED,
                "PaymentProcessed",
            ),
            (
                topics::INVENTORY_RESERVED,
                seed::INVENTORY_RESERVED,
                "InventoryReserved",
            ),
        ];
        for (topic, literal, name) in cases {
            let event = DomainEvent::decode(topic, literal.as_bytes()).unwrap();
            assert_eq!((event.topic(), event.name()), (topic, name));
            assert_eq!(event.order_id().to_string(), seed::ORDER_ID);
        }
    }

    #[test]
    fn a_payload_on_the_wrong_topic_has_the_wrong_shape() {
        let error = DomainEvent::decode(topics::ORDERS_CREATED, seed::PAYMENT_PROCESSED.as_bytes())
            .unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("payload is not an OrderCreated event: missing field"));
    }

    #[test]
    fn rejects_unknown_topics_before_looking_at_the_payload() {
        let error = DomainEvent::decode("orders/archived", &[0xff]).unwrap_err();
        assert_eq!(error, EventError::UnknownTopic("orders/archived".into()));
        assert_eq!(
            error.to_string(),
            "no event of the order flow is published on topic `orders/archived`"
        );
        // Topics are case-sensitive in MQTT.
        let upper = DomainEvent::decode("Orders/Created", seed::ORDER_CREATED.as_bytes());
        assert!(matches!(upper, Err(EventError::UnknownTopic(_))));
    }

    #[test]
    fn an_empty_payload_is_said_in_words() {
        // A break-test: `mosquitto_pub -n` was logged as "payload is not JSON: EOF while
        // parsing a value at line 1 column 0".
        let error = DomainEvent::decode(topics::ORDERS_CREATED, b"").unwrap_err();
        assert_eq!(
            error.to_string(),
            "payload is empty: nothing to process (an event of the flow is a JSON object; an empty \
             message is also how MQTT clears a topic's retained message)"
        );
    }

    #[test]
    fn rejects_bytes_that_are_not_utf8() {
        let error = DomainEvent::decode(topics::ORDERS_CREATED, b"{\"a\":\"\xc3\x28\"}");
        assert_eq!(error, Err(EventError::NotUtf8));
        assert_eq!(EventError::NotUtf8.to_string(), "payload is not UTF-8 text");
    }

    #[test]
    fn rejects_text_that_is_not_json_with_serde_json_s_words() {
        assert_eq!(
            decode_order("hello").unwrap_err().to_string(),
            "payload is not JSON: expected value at line 1 column 1"
        );
        for text in [" ", "{", r#"{"orderId": }"#, "{} {}", "{'orderId': 1}"] {
            let error = decode_order(text).unwrap_err();
            assert!(
                matches!(error, EventError::NotJson(_)),
                "{text:?} gave {error:?}"
            );
        }
        // serde_json's parser words, said in words (a newcomer's break-test: the README's own
        // `-m 'not json'` read "expected ident at line 1 column 2").
        for (text, said) in [
            (
                "not json",
                "a word JSON does not know at line 1 column 2 (its only words are true, false \
                 and null; a text goes in double quotes)",
            ),
            (
                "{} {}",
                "more text after the JSON value has ended at line 1 column 4",
            ),
            (
                r#"{"orderId": 1,}"#,
                "no key in double quotes where one should come at line 1 column 15",
            ),
            (
                "{'orderId': 1}",
                "no key in double quotes where one should come at line 1 column 2",
            ),
            (
                r#"{"orderId": "1"#,
                "the text ends inside a string at line 1 column 14",
            ),
            (
                r#"{"orderId": "#,
                "the text ends where a value should come at line 1 column 12",
            ),
            ("[1, 2", "the text ends inside a list at line 1 column 5"),
        ] {
            assert_eq!(
                decode_order(text).unwrap_err().to_string(),
                format!("payload is not JSON: {said}"),
                "{text:?}"
            );
        }
        // The shape error (a number for orderId) comes first in the text; syntax still wins.
        let error = decode_order(r#"{"orderId": 5, oops"#).unwrap_err();
        assert!(matches!(error, EventError::NotJson(_)), "{error:?}");
    }

    #[test]
    fn an_error_caused_by_a_character_nobody_sees_names_it() {
        let order = compact(seed::ORDER_CREATED);
        let cases = [
            (
                format!("\u{FEFF}{order}"),
                "payload is not JSON: expected value at line 1 column 1, where the payload has \
                 U+FEFF BYTE ORDER MARK (BOM), which does not show",
            ),
            (
                order.replacen(':', ":\u{200B}", 1),
                "payload is not JSON: expected value at line 1 column 12, where the payload has \
                 U+200B ZERO WIDTH SPACE (ZWSP), which does not show",
            ),
            (
                order.replacen(',', ",\u{A0}", 1),
                "payload is not JSON: no key in double quotes where one should come at line 1 \
                 column 51, where the payload has U+00A0 NO-BREAK SPACE, which looks like a space but is not \
                 one in JSON",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(decode_order(&text).unwrap_err().to_string(), expected);
        }
        // What serde_json quotes of the payload it escapes itself.
        let quoted = order.replace(r#""quantity":2"#, "\"quantity\":\"2\u{202E}\"");
        assert_eq!(
            decode_order(&quoted).unwrap_err().to_string(),
            "payload is not an OrderCreated event: the text \"2\\u{202e}\" where a whole number \
             of units from 1 to 4294967295 is expected (write it without quotes) at line 1 column \
             116"
        );
        // Inside a string value an invisible character is no error: it is shown where the
        // value is shown (the notification, the log).
        let hidden = order.replace("C123", "C\u{202E}123");
        assert!(decode_order(&hidden).is_ok());
    }

    #[test]
    fn rejects_json_of_the_wrong_shape_naming_the_field() {
        let without_customer = compact(seed::ORDER_CREATED).replace(r#""customerId":"C123","#, "");
        assert_eq!(
            decode_order(&without_customer).unwrap_err().to_string(),
            "payload is not an OrderCreated event: missing field `customerId` at line 1 column 167"
        );
        let cases = [
            (
                "2,",
                r#""2","#,
                "the text \"2\" where a whole number of units from 1 to 4294967295",
            ),
            (
                "2,",
                "2.5,",
                "the number 2.5 where a whole number of units from 1 to 4294967295",
            ),
            (
                "2,",
                "-2,",
                "the number -2 where a whole number of units from 1 to 4294967295",
            ),
            (seed::ORDER_ID, "guid", "a text that is not an id"),
            (
                "2024-01-15T10:30:00.000Z",
                "timestamp",
                "`timestamp` is not an RFC 3339",
            ),
        ];
        for (from, to, expected) in cases {
            let json = compact(seed::ORDER_CREATED).replacen(from, to, 1);
            let message = decode_order(&json).unwrap_err().to_string();
            assert!(
                message.starts_with("payload is not an OrderCreated event: "),
                "{message}"
            );
            assert!(message.contains(expected), "{message} lacks {expected}");
        }
        for (json, what) in [
            ("[]", "a list"),
            (" [1,2,3]", "a list"),
            ("42", "a number"),
            ("-1", "a number"),
            ("null", "null"),
            ("true", "true or false"),
            (r#""order""#, "text"),
        ] {
            let error = decode_order(json).unwrap_err();
            assert!(matches!(error, EventError::WrongShape(_)), "{json}");
            assert_eq!(
                error.to_string(),
                format!(
                    "payload is not an OrderCreated event: it is {what}, and an event of the \
                     flow is a JSON object ({{\"orderId\": …}})"
                )
            );
        }
        let error = DomainEvent::decode(topics::PAYMENTS_PROCESSED, b"{}").unwrap_err();
        assert!(error
            .to_string()
            .starts_with("payload is not a PaymentProcessed event:"));
        let error = DomainEvent::decode(topics::INVENTORY_RESERVED, b"{}").unwrap_err();
        assert!(error
            .to_string()
            .starts_with("payload is not an InventoryReserved event:"));
    }

    #[test]
    fn tolerates_fields_it_does_not_know() {
        let newer = compact(seed::ORDER_CREATED)
            .replacen('{', r#"{"currency":"EUR","meta":{"v":[1,2]},"#, 1)
            .replace(r#""price":29.99"#, r#""price":29.99,"sku":"x""#);
        let expected = decode_order(seed::ORDER_CREATED).unwrap();
        assert_eq!(decode_order(&newer), Ok(expected));
    }

    #[test]
    fn rejects_orders_no_business_would_send() {
        let seed_order = compact(seed::ORDER_CREATED);
        let cases = [
            (
                r#""customerId":"C123""#,
                r#""customerId":"""#,
                "`customerId` is empty",
            ),
            (
                r#""customerId":"C123""#,
                r#""customerId":"  ""#,
                "`customerId` is empty",
            ),
            (
                r#""quantity":2"#,
                r#""quantity":0"#,
                "`items[0].quantity` is 0",
            ),
            (
                r#""price":29.99"#,
                r#""price":-1"#,
                "`items[0].price` is -1",
            ),
            (
                r#""totalAmount":59.98"#,
                r#""totalAmount":-0.5"#,
                "`totalAmount` is -0.5",
            ),
        ];
        for (from, to, expected) in cases {
            let reason = invalid_reason(decode_order(&seed_order.replace(from, to)));
            assert!(
                reason.starts_with(expected),
                "{reason} does not start with {expected}"
            );
        }
        let empty = format!(
            r#"{{"orderId":"{}","customerId":"C123","items":[],"totalAmount":0,"createdAt":"2024-01-15T10:30:00Z"}}"#,
            seed::ORDER_ID
        );
        let error = decode_order(&empty).unwrap_err();
        assert_eq!(
            error.to_string(),
            "payload is not a valid OrderCreated event: `items` is empty; an order has at least one item"
        );
    }

    #[test]
    fn points_at_the_offending_item_row() {
        let two_items = compact(seed::ORDER_CREATED).replace(
            r#""items":[{"productId":"P001","quantity":2,"price":29.99}]"#,
            r#""items":[{"productId":"P001","quantity":2,"price":29.99},{"productId":"P002","quantity":0,"price":1}]"#,
        );
        assert!(invalid_reason(decode_order(&two_items)).starts_with("`items[1].quantity` is 0"));
    }

    #[test]
    fn rejects_a_negative_payment_but_not_a_failed_one() {
        let seed_payment = compact(seed::PAYMENT_PROCESSED);
        let negative = seed_payment.replace(r#""amount":59.98"#, r#""amount":-59.98"#);
        let result = DomainEvent::decode(topics::PAYMENTS_PROCESSED, negative.as_bytes());
        assert_eq!(
            result.unwrap_err().to_string(),
            "payload is not a valid PaymentProcessed event: `amount` is -59.98; it must be a number of at least 0"
        );
        let failed = seed_payment.replace("true", "false");
        let event = DomainEvent::decode(topics::PAYMENTS_PROCESSED, failed.as_bytes()).unwrap();
        assert!(matches!(event, DomainEvent::PaymentProcessed(p) if !p.success));
    }

    #[test]
    fn non_finite_amounts_never_pass() {
        // JSON cannot spell NaN or infinity, and serde_json refuses numbers beyond f64.
        let huge = compact(seed::ORDER_CREATED).replace("29.99", "1e999");
        assert!(decode_order(&huge).is_err());
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.01] {
            assert!(check_amount("price", value).is_err(), "{value} passed");
        }
        for value in [0.0, -0.0, 0.01, 9_999_999_999_999.99] {
            assert!(check_amount("price", value).is_ok(), "{value} failed");
        }
    }

    #[test]
    fn an_amount_beyond_exact_cents_makes_each_message_that_carries_it_malformed() {
        // The break-test: one order of 1e300 stuck the revenue at 2^64 − 1 cents.
        let limit = "the largest amount a message may carry exactly to the cent; send an amount \
                     of at most 9999999999999.99";
        let order = compact(seed::ORDER_CREATED);
        let cases = [
            (
                topics::ORDERS_CREATED,
                order.replace("29.99", "1e300"),
                "OrderCreated",
                "items[0].price",
                "1e300",
            ),
            (
                topics::ORDERS_CREATED,
                order.replace("59.98", "10000000000000"),
                "OrderCreated",
                "totalAmount",
                "10000000000000",
            ),
            (
                topics::PAYMENTS_PROCESSED,
                compact(seed::PAYMENT_PROCESSED).replace("59.98", "1e17"),
                "PaymentProcessed",
                "amount",
                "1e17",
            ),
        ];
        for (topic, payload, event, field, shown) in cases {
            let error = DomainEvent::decode(topic, payload.as_bytes()).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "payload is not a valid {event} event: `{field}` is {shown}, more than \
                     9999999999999.99, {limit}"
                )
            );
        }
        // Just below the limit, the same messages are events (one item, so the total adds up).
        let below = order
            .replace(r#""quantity":2"#, r#""quantity":1"#)
            .replace("29.99", "9999999999999.99")
            .replace("59.98", "9999999999999.99");
        assert!(decode_order(&below).is_ok());
        // A refund and a charge command are read by the same rule.
        assert!(check_amount("amount", 1e300).is_err());
    }

    /// xorshift64: deterministic noise without a dependency.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn inputs(noise: &mut Noise, literal: &str) -> Vec<Vec<u8>> {
        let base = compact(literal).into_bytes();
        let alphabet = br#"{}[]":,0123456789.-eE truefalsnul\"#;
        let mut out = Vec::new();
        for _ in 0..80 {
            // Random bytes.
            let length = noise.below(48);
            out.push((0..length).map(|_| noise.next() as u8).collect());
            // The valid payload cut short.
            out.push(base[..noise.below(base.len() + 1)].to_vec());
            // The valid payload with a few bytes changed to JSON-ish or arbitrary bytes.
            let mut mutated = base.clone();
            for _ in 0..1 + noise.below(3) {
                let at = noise.below(mutated.len());
                mutated[at] = if noise.below(2) == 0 {
                    alphabet[noise.below(alphabet.len())]
                } else {
                    noise.next() as u8
                };
            }
            out.push(mutated);
        }
        out
    }

    #[test]
    fn any_bytes_give_an_event_or_a_readable_error() {
        let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
        let mut outcomes = (0, 0);
        let cases = [
            (topics::ORDERS_CREATED, seed::ORDER_CREATED),
            (topics::PAYMENTS_PROCESSED, seed::PAYMENT_PROCESSED),
            (topics::INVENTORY_RESERVED, seed::INVENTORY_RESERVED),
        ];
        for (topic, literal) in cases {
            for payload in inputs(&mut noise, literal) {
                match DomainEvent::decode(topic, &payload) {
                    Ok(event) => {
                        outcomes.0 += 1;
                        assert_eq!(event.topic(), topic);
                        assert_eq!(DomainEvent::decode(topic, &event.to_json()), Ok(event));
                    }
                    Err(error) => {
                        outcomes.1 += 1;
                        assert!(!error.to_string().is_empty());
                    }
                }
            }
        }
        // Both paths were exercised: some mutations stay valid, most do not.
        assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
        assert_eq!(outcomes.0 + outcomes.1, 3 * 240);
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(matches!(decode_order(&deep), Err(EventError::NotJson(_))));
        let deep_field = format!(r#"{{"x":{}}}"#, "[".repeat(100_000));
        assert!(decode_order(&deep_field).is_err());
    }

    #[test]
    fn refuses_amounts_that_are_not_whole_cents_and_totals_that_are_not_the_items_sum() {
        let seed_order = compact(seed::ORDER_CREATED);
        let cases = [
            (r#""price":29.99"#, r#""price":0.005"#, "`items[0].price` is 0.005, not a whole number of cents: send at most two decimals"),
            (r#""price":29.99"#, r#""price":1.999"#, "`items[0].price` is 1.999, not a whole number of cents: send at most two decimals"),
            (r#""totalAmount":59.98"#, r#""totalAmount":5"#, "`totalAmount` is 5.00, but the items add up to 59.98 (quantity × price of each item); send a total equal to that sum"),
            (r#""totalAmount":59.98"#, r#""totalAmount":59.99"#, "`totalAmount` is 59.99, but the items add up to 59.98 (quantity × price of each item); send a total equal to that sum"),
            (r#""quantity":2,"price":29.99"#, r#""quantity":4294967295,"price":9999999999999.99"#, "`totalAmount` is 59.98, but the items add up to more than 184467440737095516.15 (quantity × price of each item); send a total equal to that sum"),
        ];
        for (from, to, expected) in cases {
            let json = seed_order.replacen(from, to, 1);
            assert_eq!(invalid_reason(decode_order(&json)), expected, "{json}");
        }
        // Just inside: the seed, and 3 × 0.1 = 0.30 (0.1 * 3.0 is 0.30000000000000004).
        assert!(decode_order(&seed_order).is_ok());
        let tenth = seed_order
            .replace(
                r#""quantity":2,"price":29.99"#,
                r#""quantity":3,"price":0.1"#,
            )
            .replace(r#""totalAmount":59.98"#, r#""totalAmount":0.3"#);
        assert!(decode_order(&tenth).is_ok(), "{tenth}");
    }

    #[test]
    fn serde_s_type_errors_are_said_in_words() {
        let payment =
            compact(seed::PAYMENT_PROCESSED).replace(r#""amount":59.98"#, r#""amount":"12.00""#);
        let message = DomainEvent::decode(topics::PAYMENTS_PROCESSED, payment.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(
                "the text \"12.00\" where a number is expected (write it without quotes) at line 1"
            ),
            "{message}"
        );
        let huge = compact(seed::ORDER_CREATED)
            .replace(r#""quantity":2"#, r#""quantity":1000000000000000"#);
        let message = decode_order(&huge).unwrap_err().to_string();
        assert!(
            message.contains("the number 1000000000000000 where a whole number of units from 1 to 4294967295 is expected at line 1"),
            "{message}"
        );
        assert!(!message.contains("u32"), "{message}");
    }
}
