//! A stored event's JSON: every type written and read back, older schemas upcast, and anything
//! else refused with a sentence, never a panic.

use proptest::prelude::*;

use super::*;

fn decode(text: &str) -> Result<StoredEvent, StoreError> {
    StoredEvent::decode(text.as_bytes())
}

fn json(event: &StoredEvent) -> String {
    String::from_utf8(event.to_json()).unwrap()
}

/// A's `PaymentConfirmed`, position 3.
fn payment() -> StoredEvent {
    shop().read_all(3, Some(3))[0].clone()
}

#[test]
fn every_event_of_the_shop_reads_back_as_itself() {
    let store = shop();
    let mut types_seen: Vec<&str> = Vec::new();
    for event in store.read_all(0, None) {
        assert_eq!(decode(&json(event)).as_ref(), Ok(event), "{}", json(event));
        types_seen.push(event.event.type_name());
    }
    types_seen.sort_unstable();
    types_seen.dedup();
    let mut all = EVENT_TYPES.to_vec();
    all.sort_unstable();
    assert_eq!(types_seen, all, "the shop holds every type");
}

#[test]
fn each_type_writes_its_documented_data() {
    let store = shop();
    let data_of = |position: u64| -> String {
        let text = json(&store.read_all(position, Some(position))[0]);
        let data = text.split_once(r#""data":"#).unwrap().1;
        data[..data.len() - 1].to_owned()
    };
    let cases = [
        (
            1,
            r#"{"customerId":"C123","items":[{"productId":"P001","quantity":2,"price":29.99}],"totalAmount":59.98}"#,
        ),
        (
            2,
            r#"{"reservationId":"00000000-0000-0000-0000-00000000010a"}"#,
        ),
        (
            3,
            r#"{"paymentId":"00000000-0000-0000-0000-00000000020a","amount":59.98}"#,
        ),
        (4, "{}"),
        (
            7,
            r#"{"paymentId":"00000000-0000-0000-0000-0000000002ff","reason":"payment declined"}"#,
        ),
        (8, r#"{"reason":"payment declined"}"#),
    ];
    for (position, data) in cases {
        assert_eq!(data_of(position), data, "position {position}");
    }
    assert_eq!(
        json(&payment()),
        r#"{"position":3,"stream":"00000000-0000-0000-0000-00000000000a","version":3,"type":"PaymentConfirmed","schema":3,"recordedAt":"2026-12-01T10:30:01.000Z","data":{"paymentId":"00000000-0000-0000-0000-00000000020a","amount":59.98}}"#
    );
}

#[test]
fn a_schema_1_order_is_upcast_as_it_is_read_and_written_back_in_the_current_schema() {
    let old = r#"{"position":1,"stream":"00000000-0000-0000-0000-00000000000a","version":1,"type":"OrderCreated","schema":1,"recordedAt":"2026-12-01T10:30:00.000Z","data":{"customer":"C123","total":"59.98"}}"#;
    let event = decode(old).unwrap();
    assert_eq!(event.schema, 1, "it says what it was written in");
    assert_eq!(
        event.event,
        StreamEvent::Created {
            customer_id: "C123".into(),
            items: vec![],
            total_amount: 59.98,
            saga: None,
        }
    );
    let written = json(&event);
    assert!(written.contains(r#""schema":3"#), "{written}");
    assert!(
        written.ends_with(r#""data":{"customerId":"C123","items":[],"totalAmount":59.98}}"#),
        "{written}"
    );
    let again = decode(&written).unwrap();
    assert_eq!((again.schema, &again.event), (3, &event.event));
    // The upcast order is folded like any other.
    let store = EventStore::load(vec![event]).unwrap();
    assert_eq!(store.fold(A).unwrap().total, 59.98);
    // A schema-1 event of a type no later schema changed reads as it is.
    let old_payment = json(&payment()).replace(r#""schema":3"#, r#""schema":1"#);
    assert_eq!(decode(&old_payment).unwrap().event, payment().event);
    // A bad schema-1 total is named.
    let bad = old.replace(r#""59.98""#, r#""59,98""#);
    assert_eq!(
        decode(&bad).unwrap_err().to_string(),
        "stored OrderCreated has the wrong `data`: schema 1 `total` \"59,98\" is not an amount: \
         use a plain number like 59.98"
    );
}

#[test]
fn refuses_what_is_not_a_stored_event_with_a_sentence() {
    let good = json(&payment());
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "stored event is not JSON: the text ends where a value should come at line 1 column 0"),
        (
            format!("\u{FEFF}{good}"),
            "stored event is not JSON: expected value at line 1 column 1, where the payload has \
             U+FEFF BYTE ORDER MARK (BOM), which does not show",
        ),
        ("[]".into(), "stored event is not an event of the store: it is a list, not an object"),
        (" 42".into(), "stored event is not an event of the store: it is a number, not an object"),
        ("null".into(), "stored event is not an event of the store: it is null, not an object"),
        (r#""x""#.into(), "stored event is not an event of the store: it is text, not an object"),
        (
            r#"[1,"00000000-0000-0000-0000-00000000000a",1,"OrderCompleted",2,"2026-12-01T10:30:00Z",{}]"#.into(),
            "stored event is not an event of the store: it is a list, not an object",
        ),
        (
            r#"{"position":"1"}"#.into(),
            "stored event is not an event of the store: the text \"1\" where a whole number from 0 to 18446744073709551615 is expected (write it without quotes) at line 1 column 15",
        ),
        (
            good.replace(r#""recordedAt":"2026-12-01T10:30:01.000Z","#, ""),
            "stored event is not an event of the store: missing field `recordedAt` at line 1 column 186",
        ),
        (
            good.replace("PaymentConfirmed", "PaymentTaken"),
            "stored event has `type` \"PaymentTaken\", which no order's stream holds: use one of \
             OrderCreated, InventoryConfirmed, InventoryFailed, PaymentConfirmed, PaymentFailed, \
             OrderCompleted, OrderCancelled, InventoryReleased, PaymentRefunded",
        ),
        (
            good.replace(r#""schema":3"#, r#""schema":4"#),
            "stored PaymentConfirmed has schema 4; this page reads schemas 1 to 3",
        ),
        (
            good.replace(r#""schema":3"#, r#""schema":0"#),
            "stored PaymentConfirmed has schema 0; this page reads schemas 1 to 3",
        ),
        (
            good.replace(r#""paymentId""#, r#""payment""#),
            "stored PaymentConfirmed has the wrong `data`: missing field `paymentId`",
        ),
        (
            good.replace(r#""amount":59.98"#, r#""amount":"59.98""#),
            "stored PaymentConfirmed has the wrong `data`: the text \"59.98\" where a number is expected (write it without quotes)",
        ),
        (
            good.replace(r#""amount":59.98"#, r#""amount":-1"#),
            "stored PaymentConfirmed is not valid: `amount` is -1; it must be a number of at least 0",
        ),
        (
            // Read back after a reload, an amount past the limit is refused too.
            good.replace(r#""amount":59.98"#, r#""amount":1e300"#),
            "stored PaymentConfirmed is not valid: `amount` is 1e300, more than 9999999999999.99, \
             the largest amount a message may carry exactly to the cent; send an amount of at \
             most 9999999999999.99",
        ),
        (
            good.replace(r#""position":3"#, r#""position":0"#),
            "stored PaymentConfirmed is not valid: `position` is 0; positions start at 1",
        ),
        (
            good.replace(r#""version":3"#, r#""version":0"#),
            "stored PaymentConfirmed is not valid: `version` is 0; versions start at 1",
        ),
        (
            good.replace(r#""position":3"#, r#""position":-3"#),
            "stored event is not an event of the store: the number -3 where a whole number from 0 to 18446744073709551615 is expected at line 1 column 14",
        ),
        (
            // One past the largest: serde reads it as a float and gives it as
            // 1.8446744073709552e19, a number nobody sent (break-test 33-H F5).
            good.replace(r#""position":3"#, r#""position":18446744073709551616"#),
            "stored event is not an event of the store: a number of 20 digits where a whole number from 0 to 18446744073709551615 is expected at line 1 column 32",
        ),
        (
            good.replace(r#""position":3"#, r#""position":-18446744073709551616"#),
            "stored event is not an event of the store: a negative number of 20 digits where a whole number from 0 to 18446744073709551615 is expected at line 1 column 33",
        ),
        (
            good.replace(r#""position":3"#, r#""position":2.5"#),
            "stored event is not an event of the store: the number 2.5 where a whole number from 0 to 18446744073709551615 is expected at line 1 column 15",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(decode(&text).unwrap_err().to_string(), expected, "{text}");
    }
    assert_eq!(
        StoredEvent::decode(b"{\"a\":\"\xc3\x28\"}"),
        Err(StoreError::NotUtf8)
    );
    let cancelled = r#"{"position":9,"stream":"00000000-0000-0000-0000-00000000000c","version":2,"type":"OrderCancelled","schema":2,"recordedAt":"2026-12-01T10:30:55.000Z","data":{"reason":" "}}"#;
    assert_eq!(
        decode(cancelled).unwrap_err().to_string(),
        "stored OrderCancelled is not valid: `reason` is empty; it says why"
    );
    let no_customer = json(&shop().read_all(1, Some(1))[0]).replace("C123", "");
    assert!(decode(&no_customer)
        .unwrap_err()
        .to_string()
        .ends_with("`customerId` is empty"));
}

#[test]
fn echoes_of_outside_text_are_short_and_visible() {
    let long_type = json(&payment()).replace("PaymentConfirmed", &"X".repeat(10_000));
    let message = decode(&long_type).unwrap_err().to_string();
    assert!(message.len() < 400, "{}", message.len());
    for (from, to) in [
        (
            r#""position":3"#,
            format!(r#""position":"{}""#, "9".repeat(100_000)),
        ),
        (
            r#""amount":59.98"#,
            format!(r#""amount":"{}""#, "9".repeat(100_000)),
        ),
    ] {
        let message = decode(&json(&payment()).replace(from, &to))
            .unwrap_err()
            .to_string();
        assert!(
            message.len() < 400 && message.ends_with("… (cut)"),
            "{message}"
        );
    }
    let hidden = json(&payment()).replace("PaymentConfirmed", "Payment\u{202E}Confirmed");
    let message = decode(&hidden).unwrap_err().to_string();
    assert!(
        message.contains("Payment⟨U+202E RLO⟩Confirmed"),
        "{message}"
    );
}

#[test]
fn fields_it_does_not_know_are_ignored() {
    let newer = json(&payment())
        .replacen('{', r#"{"correlationId":"x","#, 1)
        .replace(r#""amount":59.98"#, r#""amount":59.98,"currency":"EUR""#);
    assert_eq!(decode(&newer), Ok(payment()));
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    assert!(matches!(decode(&deep), Err(StoreError::NotJson(_))));
    let deep_data = json(&payment()).replace(
        r#""data":{"#,
        &format!(
            r#""data":{{"x":{}1{}, "#,
            "[".repeat(5_000),
            "]".repeat(5_000)
        ),
    );
    assert!(decode(&deep_data).is_err());
}

#[test]
fn decode_on_checks_the_topic_is_the_stream_s() {
    let bytes = payment().to_json();
    let own = topic(A);
    assert_eq!(
        own,
        "eventstore/orders/00000000-0000-0000-0000-00000000000a"
    );
    assert_eq!(payment().topic(), own);
    assert_eq!(stream_of_topic(&own), Some(A));
    assert_eq!(stream_of_topic("eventstore/orders/x"), None);
    assert_eq!(stream_of_topic("orders/created"), None);
    assert_eq!(StoredEvent::decode_on(&own, &bytes), Ok(payment()));
    let error = StoredEvent::decode_on(&topic(B), &bytes).unwrap_err();
    assert_eq!(
        error.to_string(),
        "stored event of order-00000000-0000-0000-0000-00000000000a arrived on topic \
         \"eventstore/orders/00000000-0000-0000-0000-00000000000b\", not \
         eventstore/orders/00000000-0000-0000-0000-00000000000a"
    );
}

/// Bytes that look like a stored event: the shop's JSON with a few bytes changed.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let lines: Vec<Vec<u8>> = shop()
        .read_all(0, None)
        .iter()
        .map(StoredEvent::to_json)
        .collect();
    let alphabet = br#"{}[]":,0123456789.-eE truefalsnul\"#.to_vec();
    (
        proptest::sample::select(lines),
        proptest::collection::vec(
            (any::<prop::sample::Index>(), any::<u8>(), any::<bool>()),
            1..4,
        ),
    )
        .prop_map(move |(mut line, changes)| {
            for (at, byte, json_ish) in changes {
                let i = at.index(line.len());
                line[i] = if json_ish {
                    alphabet[usize::from(byte) % alphabet.len()]
                } else {
                    byte
                };
            }
            line
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_give_an_event_or_a_readable_error(
        bytes in proptest::collection::vec(any::<u8>(), 0..400)
    ) {
        match StoredEvent::decode(&bytes) {
            Ok(event) => prop_assert_eq!(StoredEvent::decode(&event.to_json()), Ok(event)),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn damaged_events_give_an_event_that_round_trips_or_a_readable_error(bytes in mutated()) {
        match StoredEvent::decode(&bytes) {
            Ok(event) => {
                let again = StoredEvent::decode(&event.to_json());
                prop_assert_eq!(again.map(|e| e.event), Ok(event.event));
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn arbitrary_text_as_json_lines_never_panics(text in "(\\PC|\n){0,300}") {
        let _ = EventStore::from_json_lines(&text);
    }
}
