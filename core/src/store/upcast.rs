//! Upcasting: an event stored in an older schema is read into today's shape as it is loaded,
//! so nothing past the decoder knows older shapes existed (the stored text is never rewritten
//! in place; writing the store out again writes the current schema).
//!
//! Two changes so far, each to one type; every other type's `data` reads the same in every
//! schema:
//!
//! - **1 → 2, `OrderCreated`**: schema 1 recorded who and how much only, the total as text
//!   (`{"customer":"C123","total":"59.98"}`); schema 2 has the seed's names, a number and the
//!   items (`{"customerId":"C123","items":[],"totalAmount":59.98}`; a schema-1 order's items
//!   were never recorded, so they are empty).
//! - **2 → 3, `PaymentFailed`**: schema 2 kept the reason only (`{"reason":"payment
//!   declined"}`); schema 3 keeps the decline's `paymentId` too, as `payments/processed` carried
//!   it, so a decline read back after a reload is recognised when the wire shows it again. A
//!   schema-2 decline's id was never recorded: it is read as the nil id
//!   (`00000000-0000-0000-0000-000000000000`).

use serde_json::{Map, Value};

use crate::domain::money::{Cents, MAX_EXACT_CENTS};

/// The schema [`super::StoredEvent::to_json`] writes, and the one every decoded event is
/// brought to.
pub const CURRENT_SCHEMA: u32 = 3;

/// `data` of an event `type_name` stored in `schema` (1 to [`CURRENT_SCHEMA`]), brought to the
/// current schema one step at a time. Errors name the field at fault; the caller checks the
/// schema's range first.
pub fn upcast(type_name: &str, schema: u32, mut data: Value) -> Result<Value, String> {
    for from in schema..CURRENT_SCHEMA {
        data = match (from, type_name) {
            (1, "OrderCreated") => order_created_1_to_2(data)?,
            (2, "PaymentFailed") => payment_failed_2_to_3(data)?,
            _ => data,
        };
    }
    Ok(data)
}

/// Schema 1's `{"customer":"C123","total":"59.98"}` → schema 2's
/// `{"customerId":"C123","items":[],"totalAmount":59.98}`. Fields schema 1 did not know are
/// kept (a reader ignores them), except that schema 2's own names win.
fn order_created_1_to_2(data: Value) -> Result<Value, String> {
    let Value::Object(mut old) = data else {
        return Err("schema 1 `data` of OrderCreated is not an object".into());
    };
    let customer = match old.remove("customer") {
        Some(Value::String(customer)) => customer,
        Some(other) => return Err(format!("schema 1 `customer` is {}, not text", kind(&other))),
        None => return Err("schema 1 `customer` is missing".into()),
    };
    let total = match old.remove("total") {
        Some(Value::String(total)) => parse_total_cents(&total).map_err(|why| {
            let shown: String = total.chars().take(40).collect();
            format!(
                "schema 1 `total` {} is not an amount: {why}",
                crate::outside_text::quoted(&shown)
            )
        })?,
        Some(other) => return Err(format!("schema 1 `total` is {}, not text", kind(&other))),
        None => return Err("schema 1 `total` is missing".into()),
    };
    let mut new = Map::new();
    new.insert("customerId".into(), Value::String(customer));
    new.insert("items".into(), Value::Array(Vec::new()));
    new.insert("totalAmount".into(), total.to_amount().into());
    for (key, value) in old {
        new.entry(key).or_insert(value);
    }
    Ok(Value::Object(new))
}

/// Schema 2's `{"reason":"payment declined"}` → schema 3's
/// `{"paymentId":"00000000-0000-0000-0000-000000000000","reason":"payment declined"}`: the id
/// was never recorded, so it is the nil id. A `paymentId` already there is kept.
fn payment_failed_2_to_3(data: Value) -> Result<Value, String> {
    let Value::Object(mut old) = data else {
        return Err("schema 2 `data` of PaymentFailed is not an object".into());
    };
    old.entry("paymentId")
        .or_insert_with(|| Value::String(uuid::Uuid::nil().to_string()));
    Ok(Value::Object(old))
}

/// A total as schema 1 wrote it, plain decimal text (`59.98`, `60`, `0.5`), read into exact
/// cents. No sign, no exponent, at most 2 decimals, at most [`MAX_EXACT_CENTS`] (9999999999999.99).
fn parse_total_cents(text: &str) -> Result<Cents, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err("use a plain number like 59.98".to_owned());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return Err("at most 2 decimals (cents)".to_owned());
    }
    let value = |part: &str| {
        part.bytes().try_fold(0u64, |acc, b| {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
    };
    let fraction_cents = value(&format!("{fraction:0<2}")).unwrap_or(0);
    let cents = value(whole)
        .and_then(|units| units.checked_mul(100))
        .and_then(|cents| cents.checked_add(fraction_cents))
        .filter(|&cents| cents <= MAX_EXACT_CENTS)
        .ok_or_else(|| {
            format!(
                "too large: at most {}, the largest amount a message may carry exactly to the \
                 cent",
                Cents(MAX_EXACT_CENTS)
            )
        })?;
    Ok(Cents(cents))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schema_1_order_created_gets_the_seed_s_names_a_number_and_no_items() {
        let old = json!({"customer": "C123", "total": "59.98"});
        assert_eq!(
            upcast("OrderCreated", 1, old),
            Ok(json!({"customerId": "C123", "items": [], "totalAmount": 59.98}))
        );
    }

    #[test]
    fn the_text_total_becomes_the_number_of_its_exact_cents() {
        for (text, amount) in [
            ("59.98", 59.98),
            ("0.1", 0.1),
            ("60", 60.0),
            (".5", 0.5),
            ("7.", 7.0),
            ("1.230", 1.23),
            ("0", 0.0),
            ("9999999999999.99", 9_999_999_999_999.99),
        ] {
            let old = json!({"customer": "C1", "total": text});
            let new = upcast("OrderCreated", 1, old).unwrap();
            assert_eq!(new["totalAmount"].as_f64(), Some(amount), "{text}");
        }
    }

    #[test]
    fn a_total_that_is_no_amount_is_refused_by_name() {
        let cases = [
            ("", "use a plain number"),
            ("-1", "use a plain number"),
            ("1e3", "use a plain number"),
            ("59,98", "use a plain number"),
            ("1.234", "at most 2 decimals"),
            (
                "10000000000000",
                "too large: at most 9999999999999.99, the largest amount",
            ),
            ("99999999999999999999999", "too large"),
        ];
        for (text, why) in cases {
            let error =
                upcast("OrderCreated", 1, json!({"customer": "C1", "total": text})).unwrap_err();
            assert!(error.starts_with("schema 1 `total` \""), "{error}");
            assert!(
                error.ends_with(why) || error.contains(why),
                "{text}: {error}"
            );
        }
        let cases = [
            (json!({"total": "1"}), "schema 1 `customer` is missing"),
            (
                json!({"customer": 5, "total": "1"}),
                "schema 1 `customer` is a number, not text",
            ),
            (json!({"customer": "C1"}), "schema 1 `total` is missing"),
            (
                json!({"customer": "C1", "total": 59.98}),
                "schema 1 `total` is a number, not text",
            ),
            (
                json!([]),
                "schema 1 `data` of OrderCreated is not an object",
            ),
        ];
        for (data, expected) in cases {
            assert_eq!(upcast("OrderCreated", 1, data), Err(expected.to_owned()));
        }
    }

    #[test]
    fn other_types_and_current_data_pass_unchanged() {
        let data = json!({"reason": "payment declined"});
        assert_eq!(upcast("OrderCancelled", 1, data.clone()), Ok(data.clone()));
        let current = json!({"customerId": "C1", "items": [], "totalAmount": 1.0});
        assert_eq!(upcast("OrderCreated", 2, current.clone()), Ok(current));
    }

    #[test]
    fn unknown_schema_1_fields_are_kept_and_schema_2_names_win() {
        let old = json!({"customer": "C1", "total": "2", "note": "gift", "items": "kept?"});
        let new = upcast("OrderCreated", 1, old).unwrap();
        assert_eq!(new["note"], "gift");
        assert_eq!(new["items"], json!([]));
    }
}
