//! The click-to-order form: raw text from the inputs in, a valid order or every problem out.
//!
//! ```
//! use eda_core::domain::order_form::{validate, OrderDraft};
//!
//! let order = validate(&OrderDraft::seed_example()).unwrap();
//! assert_eq!(order.total_cents, 5998);
//! assert_eq!(order.total_amount(), 59.98);
//! ```

use std::fmt;

use crate::domain::events::OrderItem;
use crate::domain::money::{parse_price_cents, Cents};

pub use crate::domain::money::MAX_PRICE_CENTS;

/// Longest customer id, in characters after trimming.
pub const MAX_CUSTOMER_ID_CHARS: usize = 64;
/// Longest product id, in characters after trimming.
pub const MAX_PRODUCT_ID_CHARS: usize = 64;
/// Most lines in one order.
pub const MAX_ITEMS: usize = 50;
/// Most units of one product in one line.
pub const MAX_QUANTITY: u32 = 10_000;

/// What the form holds while the user types.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderDraft {
    pub customer_id: String,
    pub items: Vec<ItemDraft>,
}

/// One item row, exactly as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDraft {
    pub product_id: String,
    pub quantity: String,
    pub price: String,
}

impl OrderDraft {
    /// The order from the seed's walkthrough: C123 buys two P001 at 29.99.
    pub fn seed_example() -> OrderDraft {
        OrderDraft {
            customer_id: "C123".into(),
            items: vec![ItemDraft {
                product_id: "P001".into(),
                quantity: "2".into(),
                price: "29.99".into(),
            }],
        }
    }
}

impl ItemDraft {
    /// An empty row, as "add item" creates it.
    pub fn blank() -> ItemDraft {
        ItemDraft {
            product_id: String::new(),
            quantity: String::new(),
            price: String::new(),
        }
    }
}

/// The input a problem belongs to; rows are 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    CustomerId,
    Items,
    ProductId(usize),
    Quantity(usize),
    Price(usize),
}

impl Field {
    /// The field's name in the page's DOM contract: `customer-id`, `items`, `price-2`, …
    /// (inputs are `#<key>`, their errors `[data-testid="error-<key>"]`).
    pub fn key(self) -> String {
        match self {
            Field::CustomerId => "customer-id".into(),
            Field::Items => "items".into(),
            Field::ProductId(row) => format!("product-id-{row}"),
            Field::Quantity(row) => format!("quantity-{row}"),
            Field::Price(row) => format!("price-{row}"),
        }
    }
}

impl Field {
    /// The field as the form labels it: `Customer id`, `Items`, `Item 3: Quantity` (rows
    /// counted from 1, as the form's legends count them).
    pub fn label(self) -> String {
        match self {
            Field::CustomerId => "Customer id".into(),
            Field::Items => "Items".into(),
            Field::ProductId(row) => format!("Item {}: Product id", row + 1),
            Field::Quantity(row) => format!("Item {}: Quantity", row + 1),
            Field::Price(row) => format!("Item {}: Unit price", row + 1),
        }
    }
}

/// One sentence over [`validate`]'s problems for beside the form's buttons, where the person
/// who clicked is looking: how many fields need fixing and which comes first (each field says
/// why beside it). `None` for fewer than two: one problem's own message is enough. A newcomer's
/// break-test: 50 empty items gave 150 messages and nothing at the buttons.
pub fn summary(problems: &[FieldError]) -> Option<String> {
    let (first, count) = (problems.first()?, problems.len());
    (count >= 2).then(|| {
        format!(
            "{count} fields need fixing before the order can be placed (each says why beside \
             it); the first is {}.",
            first.field.label()
        )
    })
}

/// One problem, worded for the person typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An order that passed every rule, ready for OrderService to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOrder {
    /// Trimmed.
    pub customer_id: String,
    /// Product ids trimmed, prices exact to the cent.
    pub items: Vec<OrderItem>,
    /// Σ quantity × unit price, computed in whole cents.
    pub total_cents: u64,
}

impl ValidOrder {
    /// The total as the event carries it (5998 -> 59.98).
    pub fn total_amount(&self) -> f64 {
        Cents(self.total_cents).to_amount()
    }
}

/// Checks every field and reports every problem at once, in the order the form shows them.
pub fn validate(draft: &OrderDraft) -> Result<ValidOrder, Vec<FieldError>> {
    let mut errors = Vec::new();
    let customer_id = report(
        &mut errors,
        Field::CustomerId,
        check_id(&draft.customer_id, "Customer ID", MAX_CUSTOMER_ID_CHARS),
    );
    let count = draft.items.len();
    let items_problem = match count {
        0 => Some("Add at least one item".to_owned()),
        n if n > MAX_ITEMS => Some(format!("An order can have at most {MAX_ITEMS} items")),
        _ => None,
    };
    if let Some(message) = items_problem {
        errors.push(FieldError {
            field: Field::Items,
            message,
        });
    }

    let mut items = Vec::with_capacity(count);
    let mut total_cents = 0u64;
    for (row, item) in draft.items.iter().enumerate() {
        let product_id = report(
            &mut errors,
            Field::ProductId(row),
            check_product_id(&item.product_id),
        );
        let quantity = report(
            &mut errors,
            Field::Quantity(row),
            parse_quantity(&item.quantity),
        );
        let price_cents = report(
            &mut errors,
            Field::Price(row),
            parse_price_cents(&item.price).map_err(|e| e.to_string()),
        );
        if let (Some(product_id), Some(quantity), Some(price_cents)) =
            (product_id, quantity, price_cents)
        {
            // Within the limits the sum stays below 2^46; saturating only guards the rows past
            // MAX_ITEMS, which are refused anyway.
            total_cents =
                total_cents.saturating_add(u64::from(quantity).saturating_mul(price_cents));
            items.push(OrderItem {
                product_id,
                quantity,
                price: Cents(price_cents).to_amount(),
            });
        }
    }

    match customer_id {
        Some(customer_id) if errors.is_empty() => Ok(ValidOrder {
            customer_id,
            items,
            total_cents,
        }),
        _ => Err(errors),
    }
}

/// Keeps the value, or files the message under `field`.
fn report<T>(errors: &mut Vec<FieldError>, field: Field, result: Result<T, String>) -> Option<T> {
    result
        .map_err(|message| errors.push(FieldError { field, message }))
        .ok()
}

/// A product id as the order form accepts it (and the stock, from a field or a link): trimmed,
/// 1 to [`MAX_PRODUCT_ID_CHARS`] characters, no control characters, and no `,` or `:`, which
/// the Stock field and `?stock=` separate products and units with (a break-test ordered
/// `A,B`, which no stock could then list, and its dead letter said to add it to the stock).
/// Returns it trimmed, or the sentence refusing it.
pub fn check_product_id(text: &str) -> Result<String, String> {
    let id = check_id(text, "Product ID", MAX_PRODUCT_ID_CHARS)?;
    if id.contains([',', ':']) {
        return Err(
            "Product ID must not contain , or : (the Stock field separates products and units \
             with them)"
                .to_owned(),
        );
    }
    Ok(id)
}

/// An identifier as typed: trimmed, present, short, printable. Returns it trimmed.
fn check_id(text: &str, label: &str, max_chars: usize) -> Result<String, String> {
    let id = text.trim();
    if id.is_empty() {
        return Err(format!("{label} is required"));
    }
    // Counted in Unicode code points, as said: an accent typed as its own mark counts apart
    // from its letter, so a field showing 40 characters may hold 80 (42-AK F6).
    let count = id.chars().count();
    if count > max_chars {
        return Err(format!(
            "{label} must be at most {max_chars} characters (Unicode code points; this has \
             {count})"
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(format!("{label} must not contain control characters"));
    }
    // What the browser hands over for half of a UTF-16 pair (a broken paste): sent as it is,
    // the id would not be what the field showed.
    if id.contains(char::REPLACEMENT_CHARACTER) {
        return Err(format!(
            "{label} has a broken character (U+FFFD, what the browser gives for half of a \
             character pair): type it again"
        ));
    }
    // A zero-width space alone, or a right-to-left override before the text: an id of nothing
    // visible, or shown otherwise than it is (a newcomer's break-test placed orders for both).
    let hidden = |c: &char| !c.is_whitespace() && crate::outside_text::is_invisible(*c);
    if let Some(c) = id.chars().find(hidden) {
        return Err(format!(
            "{label} must not contain invisible characters ({})",
            crate::outside_text::marker(c)
        ));
    }
    Ok(id.to_owned())
}

fn parse_quantity(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let refuse = || format!("Quantity must be a whole number from 1 to {MAX_QUANTITY}");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    // Saturating: "99999999999999999999" is out of range, not an overflow panic.
    let value = text.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    match u32::try_from(value) {
        Ok(quantity @ 1..=MAX_QUANTITY) => Ok(quantity),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUANTITY_MESSAGE: &str = "Quantity must be a whole number from 1 to 10000";

    fn item(product_id: &str, quantity: &str, price: &str) -> ItemDraft {
        ItemDraft {
            product_id: product_id.into(),
            quantity: quantity.into(),
            price: price.into(),
        }
    }

    fn draft(customer_id: &str, items: Vec<ItemDraft>) -> OrderDraft {
        OrderDraft {
            customer_id: customer_id.into(),
            items,
        }
    }

    fn errors_of(draft: &OrderDraft) -> Vec<(Field, String)> {
        validate(draft)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    /// The message for `field` when it is the only thing wrong with the seed example.
    fn only_error(field: Field, edit: impl FnOnce(&mut OrderDraft)) -> String {
        let mut draft = OrderDraft::seed_example();
        edit(&mut draft);
        let errors = errors_of(&draft);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, field);
        errors[0].1.clone()
    }

    #[test]
    fn seed_example_totals_59_98() {
        let order = validate(&OrderDraft::seed_example()).unwrap();
        assert_eq!(order.customer_id, "C123");
        assert_eq!(
            order.items,
            [OrderItem {
                product_id: "P001".into(),
                quantity: 2,
                price: 29.99
            }]
        );
        assert_eq!(order.total_cents, 5998);
        assert_eq!(order.total_amount(), 59.98);
    }

    #[test]
    fn totals_several_items_in_cents() {
        let order = validate(&draft(
            "C123",
            vec![
                item("P001", "2", "29.99"),
                item("P002", "1", "0.5"),
                item("P003", "3", "10"),
            ],
        ))
        .unwrap();
        assert_eq!(order.total_cents, 5998 + 50 + 3000);
        assert_eq!(order.total_amount(), 90.48);
        assert_eq!(order.items[1].price, 0.5);
    }

    #[test]
    fn a_tenth_times_three_is_exactly_thirty_cents() {
        let order = validate(&draft("C1", vec![item("P", "3", "0.1")])).unwrap();
        assert_eq!(order.total_cents, 30);
        assert_eq!(order.total_amount(), 0.3);
        // What the same sum gives in floating point, and why cents are used.
        assert_ne!(0.1 * 3.0, 0.3);
    }

    #[test]
    fn the_largest_order_allowed_does_not_overflow() {
        let row = item("P", "10000", "1000000.00");
        let order = validate(&draft("C", vec![row; MAX_ITEMS])).unwrap();
        let expected = MAX_ITEMS as u64 * u64::from(MAX_QUANTITY) * MAX_PRICE_CENTS;
        assert_eq!(order.total_cents, expected);
        assert_eq!(order.total_amount(), 500_000_000_000.0);
    }

    #[test]
    fn trims_ids_and_keeps_inner_spaces() {
        let order = validate(&draft("  Ada L ", vec![item("\tP 001 ", " 2 ", " 29.99 ")])).unwrap();
        assert_eq!(order.customer_id, "Ada L");
        assert_eq!(order.items[0].product_id, "P 001");
        assert_eq!(order.items[0].quantity, 2);
    }

    #[test]
    fn customer_id_rules() {
        let set = |text: String| move |d: &mut OrderDraft| d.customer_id = text;
        assert_eq!(
            only_error(Field::CustomerId, set("".into())),
            "Customer ID is required"
        );
        assert_eq!(
            only_error(Field::CustomerId, set(" \t ".into())),
            "Customer ID is required"
        );
        assert_eq!(
            only_error(Field::CustomerId, set("C".repeat(65))),
            "Customer ID must be at most 64 characters (Unicode code points; this has 65)"
        );
        // 40 letters each typed with a combining accent: 80 code points (42-AK F6).
        assert_eq!(
            only_error(Field::CustomerId, set("e\u{301}".repeat(40))),
            "Customer ID must be at most 64 characters (Unicode code points; this has 80)"
        );
        assert_eq!(
            only_error(Field::CustomerId, set("C1\u{7}23".into())),
            "Customer ID must not contain control characters"
        );
        assert_eq!(
            only_error(Field::CustomerId, set("C1\n23".into())),
            "Customer ID must not contain control characters"
        );
        assert_eq!(
            only_error(Field::CustomerId, set("\u{200B}".into())),
            "Customer ID must not contain invisible characters (⟨U+200B ZWSP⟩)"
        );
        assert_eq!(
            only_error(Field::CustomerId, set("\u{202E}EVIL".into())),
            "Customer ID must not contain invisible characters (⟨U+202E RLO⟩)"
        );
        assert!(validate(&draft("C 123", vec![item("P", "1", "1")])).is_ok());
        // The limit counts characters, not bytes.
        assert!(validate(&draft(&"é".repeat(64), vec![item("P", "1", "1")])).is_ok());
        assert!(validate(&draft(&"C".repeat(64), vec![item("P", "1", "1")])).is_ok());
    }

    #[test]
    fn item_count_rules() {
        assert_eq!(
            only_error(Field::Items, |d| d.items.clear()),
            "Add at least one item"
        );
        let too_many = draft("C", vec![item("P", "1", "1"); MAX_ITEMS + 1]);
        assert_eq!(
            errors_of(&too_many),
            [(
                Field::Items,
                "An order can have at most 50 items".to_owned()
            )]
        );
    }

    #[test]
    fn product_id_rules() {
        let set = |text: String| move |d: &mut OrderDraft| d.items[0].product_id = text;
        let field = Field::ProductId(0);
        assert_eq!(only_error(field, set(" ".into())), "Product ID is required");
        assert_eq!(
            only_error(field, set("P".repeat(65))),
            "Product ID must be at most 64 characters (Unicode code points; this has 65)"
        );
        assert_eq!(
            only_error(field, set("P\u{0}1".into())),
            "Product ID must not contain control characters"
        );
        for separator in ["A,B", "A:B"] {
            assert_eq!(
                only_error(field, set(separator.into())),
                "Product ID must not contain , or : (the Stock field separates products and \
                 units with them)"
            );
        }
        assert_eq!(
            only_error(field, set("P\u{FFFD}".into())),
            "Product ID has a broken character (U+FFFD, what the browser gives for half of a \
             character pair): type it again"
        );
        let customer = |d: &mut OrderDraft| d.customer_id = "C\u{FFFD}".into();
        assert!(only_error(Field::CustomerId, customer).starts_with("Customer ID has a broken"));
    }

    #[test]
    fn quantity_must_be_a_whole_number_within_limits() {
        for text in [
            "2.5",
            "abc",
            "0",
            "-1",
            "",
            " ",
            "+2",
            "1e3",
            "10001",
            "99999999999999999999999",
        ] {
            let set = |d: &mut OrderDraft| d.items[0].quantity = text.into();
            assert_eq!(
                only_error(Field::Quantity(0), set),
                QUANTITY_MESSAGE,
                "{text:?}"
            );
        }
        for (text, quantity) in [("1", 1), ("10000", MAX_QUANTITY), ("007", 7), (" 3 ", 3)] {
            let order = validate(&draft("C", vec![item("P", text, "1")])).unwrap();
            assert_eq!(order.items[0].quantity, quantity, "{text:?}");
        }
    }

    #[test]
    fn price_must_be_a_plain_number_with_two_decimals_within_limits() {
        let cases = [
            ("-1", "Price must be from 0 to 1000000.00"),
            ("1000000.01", "Price must be from 0 to 1000000.00"),
            ("abc", "Price must be a plain number like 29.99"),
            ("NaN", "Price must be a plain number like 29.99"),
            ("inf", "Price must be a plain number like 29.99"),
            ("1e5", "Price must be a plain number like 29.99"),
            ("1.234", "Price can have at most 2 decimals (cents)"),
            ("", "Price is required"),
        ];
        for (text, message) in cases {
            let set = |d: &mut OrderDraft| d.items[0].price = text.into();
            assert_eq!(only_error(Field::Price(0), set), message, "{text:?}");
        }
        for (text, price) in [("29.99", 29.99), ("30", 30.0), ("0.5", 0.5), ("0", 0.0)] {
            let order = validate(&draft("C", vec![item("P", "1", text)])).unwrap();
            assert_eq!(order.items[0].price, price, "{text:?}");
        }
    }

    #[test]
    fn reports_every_problem_at_once_in_form_order() {
        let bad = draft(
            "",
            vec![
                item("P001", "2", "29.99"),
                item("", "0", "1.234"),
                item("P003", "1", "abc"),
            ],
        );
        assert_eq!(
            errors_of(&bad),
            [
                (Field::CustomerId, "Customer ID is required".to_owned()),
                (Field::ProductId(1), "Product ID is required".to_owned()),
                (Field::Quantity(1), QUANTITY_MESSAGE.to_owned()),
                (
                    Field::Price(1),
                    "Price can have at most 2 decimals (cents)".to_owned()
                ),
                (
                    Field::Price(2),
                    "Price must be a plain number like 29.99".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn errors_point_at_the_row_they_belong_to() {
        let mut rows = vec![item("P", "1", "1"); 5];
        rows[3].quantity = "x".into();
        let errors = errors_of(&draft("C", rows));
        assert_eq!(errors, [(Field::Quantity(3), QUANTITY_MESSAGE.to_owned())]);
    }

    #[test]
    fn fields_name_their_place_in_the_page() {
        assert_eq!(Field::CustomerId.key(), "customer-id");
        assert_eq!(Field::Items.key(), "items");
        assert_eq!(Field::ProductId(0).key(), "product-id-0");
        assert_eq!(Field::Quantity(12).key(), "quantity-12");
        assert_eq!(Field::Price(3).key(), "price-3");
    }

    #[test]
    fn a_blank_row_is_refused_on_all_three_inputs() {
        let errors = errors_of(&draft("C", vec![ItemDraft::blank()]));
        let fields: Vec<Field> = errors.iter().map(|(field, _)| *field).collect();
        assert_eq!(
            fields,
            [Field::ProductId(0), Field::Quantity(0), Field::Price(0)]
        );
    }

    #[test]
    fn the_summary_counts_the_problems_and_names_the_first_field() {
        let draft = OrderDraft {
            customer_id: String::new(),
            items: vec![ItemDraft::blank(); 50],
        };
        let problems = validate(&draft).unwrap_err();
        assert!(problems.len() >= 150, "{}", problems.len());
        assert_eq!(
            summary(&problems).as_deref(),
            Some(
                format!(
                    "{} fields need fixing before the order can be placed (each says why beside \
                     it); the first is Customer id.",
                    problems.len()
                )
                .as_str()
            )
        );
        assert_eq!(
            summary(&problems[..1]),
            None,
            "one message beside its field is enough"
        );
        assert_eq!(summary(&[]), None);
        assert_eq!(Field::Price(2).label(), "Item 3: Unit price");
    }
}
