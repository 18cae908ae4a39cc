//! What a learner sets to make things go wrong, and how the saga is coordinated: the payment
//! rule, the stock, the saga's deadline and its style. Each has a text form for the link and the
//! page (`?saga=`, `?payment=`, `?decline_over=`, `?decline_pct=`, `?stock=`,
//! `?saga_timeout_ms=`), parsed here with a sentence for anything refused.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use super::Delays;
use crate::domain::money::{amount_text, parse_amount_cents, Cents};
use crate::outside_text::value_named;

/// How the order's saga is coordinated (`?saga=`). In JSON (the stored `OrderCreated`'s
/// `saga`), its [`SagaStyle::value`]: `"parallel"`, `"choreography"`, `"orchestration"`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SagaStyle {
    /// The seed's proof of concept: PaymentService and InventoryService both react to
    /// `orders/created`; OrderService joins their results, in either order.
    #[default]
    Parallel,
    /// Source document 003: InventoryService reacts to `orders/created`, PaymentService to a
    /// successful reservation, OrderService to the payment. No one gives orders.
    Choreography,
    /// Source document 004: OrderService sends commands and waits for each reply before the
    /// next step; compensation is a command too.
    Orchestration,
}

impl SagaStyle {
    /// Every style, in the order the page lists them.
    pub const ALL: [SagaStyle; 3] = [
        SagaStyle::Parallel,
        SagaStyle::Choreography,
        SagaStyle::Orchestration,
    ];

    /// The value of `?saga=`.
    pub fn value(self) -> &'static str {
        match self {
            SagaStyle::Parallel => "parallel",
            SagaStyle::Choreography => "choreography",
            SagaStyle::Orchestration => "orchestration",
        }
    }

    /// What the style trades, in two or three sentences, for the page.
    pub fn trade_off(self) -> &'static str {
        match self {
            SagaStyle::Parallel => {
                "Payment and inventory both start when the order is created, so the order \
                 completes sooner; OrderService joins their results in whichever order they \
                 come. The price: work is done that a failure then has to undo (a charge \
                 refunded because the stock was missing)."
            }
            SagaStyle::Choreography => {
                "Each service reacts to the event before it: inventory to the order, payment \
                 to the reservation, OrderService to the payment. Services stay loosely \
                 coupled and no one is in charge, but the order of the steps lives in every \
                 subscription, and the whole process is visible only by watching all of them."
            }
            SagaStyle::Orchestration => {
                "OrderService tells each service what to do with a command and waits for the \
                 reply before the next step, compensations included. The process is written \
                 in one place and easy to follow and change, at the price of a central \
                 coordinator every service depends on."
            }
        }
    }
}

impl fmt::Display for SagaStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value())
    }
}

impl std::str::FromStr for SagaStyle {
    type Err = String;

    /// `parallel`, `choreography` or `orchestration`, in any case (`Orchestration`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SagaStyle::ALL
            .into_iter()
            .find(|s| s.value().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                format!(
                    "{} is not a saga style: use {}",
                    value_named(text),
                    SagaStyle::ALL.map(SagaStyle::value).join(", ")
                )
            })
    }
}

/// The largest percentage of `?decline_pct=`.
pub const MAX_PERCENT: u8 = 100;

/// When PaymentService declines a charge (`?payment=`, `?decline_over=`, `?decline_pct=`).
/// The rules add up: a charge is declined if any says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentRule {
    /// `?payment=decline`: every charge is declined.
    pub decline_all: bool,
    /// `?decline_over=100`: orders whose total is more than this are declined.
    pub decline_over: Option<Cents>,
    /// `?decline_pct=30`: this share of orders is declined, chosen by order id (the same order
    /// id always gets the same answer, so a link replays the same outcome). 0 to 100.
    pub decline_percent: u8,
}

impl PaymentRule {
    /// Why the charge of `total` for `order_id` is declined, or `None` if it is approved.
    pub fn decline_reason(&self, order_id: Uuid, total: f64) -> Option<String> {
        if self.decline_all {
            return Some("payment declined".to_owned());
        }
        if let Some(limit) = self.decline_over {
            if total > limit.to_amount() {
                return Some(format!(
                    "payment declined: the total {} is over the limit of {limit}",
                    amount_text(total)
                ));
            }
        }
        if self.decline_percent > 0 && percentile(order_id) < self.decline_percent {
            return Some(format!(
                "payment declined ({} % of orders are)",
                self.decline_percent
            ));
        }
        None
    }
}

/// Where `order_id` falls in 0..100, the same every time: its 128 bits modulo 100.
pub fn percentile(order_id: Uuid) -> u8 {
    (order_id.as_u128() % 100) as u8
}

/// `approve` or `decline`, the value of `?payment=`, in any case (`DECLINE` is read `decline`,
/// as `WS://` is read `ws://`).
pub fn parse_payment_mode(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "approve" => Ok(false),
        "decline" => Ok(true),
        _ => Err(format!(
            "{} is not a payment mode: use approve or decline",
            value_named(text.trim())
        )),
    }
}

/// An amount like `100` or `99.50`, the value of `?decline_over=` and of the *Decline orders
/// over* field: from 0 to 1,000,000.00, at most two decimals. The sentence refusing one speaks
/// of an amount, not of the order form's price.
pub fn parse_limit(text: &str) -> Result<Cents, String> {
    parse_amount_cents(text)
        .map(Cents)
        // Its reason says when it is empty.
        .map_err(|e| {
            format!(
                "{} is not an amount: {e}",
                crate::outside_text::quoted(text)
            )
        })
}

/// `text`, trimmed, as a whole number written in digits only: no sign (`+5`), no exponent, no
/// separator, as the order form's quantities and the amounts are read
/// ([`crate::domain::money::parse_price_cents`]); `None` otherwise, or out of `T`'s range.
/// Every whole-number setting of the link and the page goes through it, so `+100` is refused
/// everywhere (a newcomer's break-test: accepted for `payment_ms`, refused for `qos`).
pub fn whole_number<T: std::str::FromStr>(text: &str) -> Option<T> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A whole percentage 0 to 100, the value of `?decline_pct=`.
pub fn parse_percent(text: &str) -> Result<u8, String> {
    match whole_number::<u8>(text).ok_or(()) {
        Ok(p) if p <= MAX_PERCENT => Ok(p),
        _ => Err(format!(
            "{} is not a percentage: use a whole number from 0 to {MAX_PERCENT}",
            value_named(text)
        )),
    }
}

/// The most units of one product the stock may hold.
pub const MAX_STOCK: u32 = 1_000_000;
/// The most products a stock may list.
pub const MAX_PRODUCTS: usize = 50;
/// The longest product id, as the order form allows.
pub const MAX_PRODUCT_ID: usize = crate::domain::order_form::MAX_PRODUCT_ID_CHARS;

/// InventoryService's stock: units on hand per product. An empty stock (the default) counts
/// nothing and knows every product (there is always enough), as in the seed, where every
/// reservation succeeds. A stock that lists products is also the catalogue: a product it does
/// not list is unknown, and an order for one is dead-lettered ([`Stock::unknown`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stock(pub BTreeMap<String, u32>);

impl Stock {
    /// These levels with `held` added back: the units held for orders not ended come back
    /// on hand when released, so a link that starts a page from the levels of this one counts
    /// them (a newcomer's break-test, 34-K F2: a reload with 4 units held wrote `P001:1` into
    /// the link while the page went back to 5). A product `held` names that these levels do
    /// not count stays uncounted; each sum stops at [`MAX_STOCK`].
    pub fn with_held(&self, held: &Stock) -> Stock {
        let mut levels = self.0.clone();
        for (product, units) in &held.0 {
            if let Some(level) = levels.get_mut(product) {
                *level = level.saturating_add(*units).min(MAX_STOCK);
            }
        }
        Stock(levels)
    }

    /// `P001:5,P002:0`: product id, colon, units; commas between (spaces allowed). Empty text
    /// is an empty stock (nothing counted). A refusal names every bad entry, each with its
    /// reason, separated by `; ` (a newcomer's break-test: `P001:-3,P002:abc,:5` named only the
    /// first).
    pub fn parse(text: &str) -> Result<Stock, String> {
        let mut levels = BTreeMap::new();
        let mut problems = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((product, units)) = part.split_once(':') else {
                problems.push(format!(
                    "{} is not product:units (for example P001:5)",
                    value_named(part)
                ));
                continue;
            };
            // The order form's rule for a product id, so the stock can name any product an
            // order can hold, and none it cannot.
            let product = match crate::domain::order_form::check_product_id(product) {
                Ok(product) => product,
                Err(e) => {
                    problems.push(format!("{}: {e}", value_named(part)));
                    continue;
                }
            };
            let units = match whole_number::<u32>(units).ok_or(()) {
                Ok(n) if n <= MAX_STOCK => n,
                // Another separator between products (a newcomer's break-test: `P001:5;P002:3`
                // was told its units were wrong).
                _ if units.contains([';', ':', '|', '&']) || units.trim().contains(' ') => {
                    problems.push(format!(
                        "{}: put a comma between products (for example P001:5,P002:3)",
                        value_named(part)
                    ));
                    continue;
                }
                _ => {
                    problems.push(format!(
                        "{}: units are a whole number from 0 to {MAX_STOCK}",
                        value_named(part)
                    ));
                    continue;
                }
            };
            let twice = format!("{} is listed twice", value_named(&product));
            if levels.insert(product, units).is_some() && !problems.contains(&twice) {
                problems.push(twice);
            }
        }
        if levels.len() > MAX_PRODUCTS {
            problems.push(format!("at most {MAX_PRODUCTS} products"));
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Stock(levels))
    }

    /// Units of `product` on hand; `None` when it is not counted.
    pub fn of(&self, product: &str) -> Option<u32> {
        self.0.get(product).copied()
    }

    /// The products of `items` this stock does not list, each once, in the order they come;
    /// always none for an empty stock (it knows every product).
    ///
    /// ```
    /// use eda_core::services::settings::Stock;
    /// let stock = Stock::parse("P001:5").unwrap();
    /// assert_eq!(stock.unknown(["P001", "P009", "P009"]), ["P009"]);
    /// assert!(Stock::default().unknown(["P009"]).is_empty());
    /// ```
    pub fn unknown<'a>(&self, items: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut unknown: Vec<&str> = Vec::new();
        if self.0.is_empty() {
            return unknown;
        }
        for product in items {
            if !self.0.contains_key(product) && !unknown.contains(&product) {
                unknown.push(product);
            }
        }
        unknown
    }
}

impl fmt::Display for Stock {
    /// The text [`Stock::parse`] reads: `P001:5,P002:0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(p, n)| format!("{p}:{n}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// The saga's deadline unless `?saga_timeout_ms=` says otherwise: long enough for the default
/// delays one after the other (1.8 s), short enough to watch.
pub const DEFAULT_SAGA_TIMEOUT: Duration = Duration::from_millis(5_000);
/// The shortest and longest deadline a learner may set, in milliseconds.
pub const SAGA_TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u64> = 100..=60_000;

/// A deadline in whole milliseconds, the value of `?saga_timeout_ms=`.
pub fn parse_saga_timeout(text: &str) -> Result<Duration, String> {
    parse_millis(text, SAGA_TIMEOUT_RANGE_MS, "a saga deadline")
}

/// Whole milliseconds within `range` (surrounding white space allowed), as a link parameter or
/// a field gives them. The error is a sentence for the page: `"{text}" is not {what}: use whole
/// milliseconds from {start} to {end}`.
pub fn parse_millis(
    text: &str,
    range: std::ops::RangeInclusive<u64>,
    what: &str,
) -> Result<Duration, String> {
    match whole_number::<u64>(text).ok_or(()) {
        Ok(ms) if range.contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{} is not {what}: use whole milliseconds from {} to {}",
            value_named(text),
            range.start(),
            range.end()
        )),
    }
}

/// `text` as a sentence: trimmed, with a full stop when it ends without one (`.`, `!`, `?`).
/// The parsers' reasons end without one, so they can be quoted inside other sentences.
pub fn as_sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// Why a setting typed or linked was refused, then the value kept, as two sentences: `Projection
/// delay: "-5" is not a projection delay: use whole milliseconds from 0 to 60000. The delay in
/// use is still 500 ms.` `what` names the setting in the second sentence (`delay`, `wait`);
/// `in_use` is the value still in use, in whole milliseconds. Every field that says what is
/// still in use after a refusal says it through this.
pub fn still_in_use(reason: &str, what: &str, in_use: Duration) -> String {
    format!(
        "{} The {what} in use is still {} ms.",
        as_sentence(reason),
        in_use.as_millis()
    )
}

/// Everything the services' decisions depend on besides the messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSettings {
    /// How long payment and inventory work.
    pub delays: Delays,
    /// How the saga is coordinated.
    pub saga: SagaStyle,
    /// When payments are declined.
    pub payment: PaymentRule,
    /// The stock InventoryService starts from.
    pub stock: Stock,
    /// How long OrderService waits for an order's saga before cancelling it.
    pub saga_timeout: Duration,
    /// Each consumer remembers what it processed and ignores a message seen before (the
    /// idempotent consumer, `?dedupe=on`, the default); off, a redelivery is processed again.
    pub dedupe: bool,
    /// The share of messages the services publish twice, 0 to 100 (`?duplicates=`), chosen by
    /// the message's identity so a link replays the same duplicates.
    pub duplicates_percent: u8,
    /// How long QueryService waits before projecting each event into its read model
    /// (`?projection_ms=`, 0 to 60000 ms, default 0): the read side's lag, made visible.
    pub projection_delay: Duration,
    /// How long a service waits before trying again a message its handler failed on
    /// (`?retry_ms=`, 0 to 10000 ms, default [`RETRY_AFTER`], 200 ms); see
    /// [`super::dead_letter::next_step`].
    ///
    /// [`RETRY_AFTER`]: super::dead_letter::RETRY_AFTER
    pub retry_after: Duration,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            delays: Delays::default(),
            saga: SagaStyle::default(),
            payment: PaymentRule::default(),
            stock: Stock::default(),
            saga_timeout: DEFAULT_SAGA_TIMEOUT,
            dedupe: true,
            duplicates_percent: 0,
            projection_delay: crate::store::DEFAULT_PROJECTION_DELAY,
            retry_after: super::dead_letter::RETRY_AFTER,
        }
    }
}

/// `on` or `off`, the value of `?dedupe=`, in any case.
pub fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!(
            "{} is neither on nor off",
            value_named(text.trim())
        )),
    }
}

/// One setting of [`FlowSettings`] a learner types or picks in the page (ordered as the page
/// lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlowField {
    /// The saga's style: `parallel`, `choreography`, `orchestration`.
    Saga,
    /// `approve` or `decline`.
    PaymentMode,
    /// An amount, or empty for no limit.
    DeclineOver,
    /// 0 to 100.
    DeclinePercent,
    /// Whole milliseconds, 100 to 60000.
    SagaTimeout,
    /// `P001:5,P002:0`, or empty for nothing counted.
    Stock,
    /// `on` or `off`.
    Dedupe,
    /// 0 to 100.
    DuplicatesPercent,
    /// Whole milliseconds, 0 to 60000.
    ProjectionDelay,
    /// Whole milliseconds, 0 to 10000: the wait between two tries of a failing handler.
    RetryAfter,
}

impl FlowSettings {
    /// These settings with `field` set from `text`, or why `text` cannot be used (the sentence
    /// names the field).
    pub fn with(&self, field: FlowField, text: &str) -> Result<FlowSettings, String> {
        let mut next = self.clone();
        match field {
            FlowField::Saga => next.saga = text.parse()?,
            FlowField::PaymentMode => next.payment.decline_all = parse_payment_mode(text)?,
            FlowField::DeclineOver if text.trim().is_empty() => next.payment.decline_over = None,
            FlowField::DeclineOver => {
                next.payment.decline_over =
                    Some(parse_limit(text).map_err(|e| format!("Decline over: {e}"))?)
            }
            FlowField::DeclinePercent => {
                next.payment.decline_percent =
                    parse_percent(text).map_err(|e| format!("Decline share: {e}"))?
            }
            FlowField::SagaTimeout => {
                next.saga_timeout =
                    parse_saga_timeout(text).map_err(|e| format!("Saga deadline: {e}"))?
            }
            FlowField::Stock => {
                next.stock = Stock::parse(text).map_err(|e| format!("Stock: {e}"))?
            }
            FlowField::Dedupe => {
                next.dedupe = parse_on_off(text).map_err(|e| format!("Idempotency: {e}"))?
            }
            FlowField::DuplicatesPercent => {
                next.duplicates_percent =
                    parse_percent(text).map_err(|e| format!("Duplicates: {e}"))?
            }
            FlowField::ProjectionDelay => {
                next.projection_delay = crate::store::parse_projection_delay(text)
                    .map_err(|e| format!("Projection delay: {e}"))?
            }
            FlowField::RetryAfter => {
                next.retry_after = super::dead_letter::parse_retry_after(text)
                    .map_err(|e| format!("Wait between tries: {e}"))?
            }
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_numbers_are_digits_only_with_no_sign() {
        use super::whole_number;
        assert_eq!(whole_number::<u64>(" 800 "), Some(800));
        assert_eq!(whole_number::<u64>("0800"), Some(800));
        for refused in ["+100", "-1", "1e3", "1_000", "1.0", "", " ", "٣"] {
            assert_eq!(whole_number::<u64>(refused), None, "{refused:?}");
        }
        assert_eq!(whole_number::<u8>("256"), None, "out of range");
        assert!(super::parse_percent("+5").is_err());
        assert!(super::parse_saga_timeout("+1000").is_err());
        assert!(crate::state::query::parse_delay("Payment", "+100").is_err());
        assert!(crate::services::instances::parse_instances("+2").is_err());
        assert!(Stock::parse("P001:+5").is_err());
    }

    use super::*;

    #[test]
    fn held_units_are_added_back_to_the_levels_a_link_carries() {
        let on_hand = Stock::parse("P001:1,P002:0").unwrap();
        let held = Stock::parse("P001:4,P003:2").unwrap();
        assert_eq!(
            on_hand.with_held(&held),
            Stock::parse("P001:5,P002:0").unwrap()
        );
        let full = Stock::parse(&format!("P001:{MAX_STOCK}")).unwrap();
        assert_eq!(full.with_held(&held), full);
        assert_eq!(Stock::default().with_held(&held), Stock::default());
    }

    /// A newcomer's break-test: a projection delay typed and refused read "…from 0 to 60000 The
    /// delay in use is still 0 ms." (no full stop between the two sentences); one from the link
    /// had its full stop already, and must not get a second.
    #[test]
    fn a_refusal_and_the_value_still_in_use_read_as_two_sentences() {
        let typed = FlowSettings::default()
            .with(FlowField::ProjectionDelay, "-5")
            .unwrap_err();
        assert_eq!(
            still_in_use(&typed, "delay", Duration::ZERO),
            "Projection delay: \"-5\" is not a projection delay: use whole milliseconds from 0 \
             to 60000. The delay in use is still 0 ms."
        );
        let typed = FlowSettings::default()
            .with(FlowField::RetryAfter, "soon")
            .unwrap_err();
        assert_eq!(
            still_in_use(&typed, "wait", Duration::from_millis(200)),
            "Wait between tries: \"soon\" is not a wait between tries: use whole milliseconds \
             from 0 to 10000. The wait in use is still 200 ms."
        );
        assert_eq!(
            still_in_use(
                "Ignored ?retry_ms= in the link: it is late.",
                "wait",
                Duration::ZERO
            ),
            "Ignored ?retry_ms= in the link: it is late. The wait in use is still 0 ms."
        );
        assert_eq!(as_sentence("Why? "), "Why?");
    }

    #[test]
    fn a_field_typed_in_the_page_changes_that_setting_or_says_why_not() {
        let start = FlowSettings::default();
        let set = |field, text| start.with(field, text);
        assert_eq!(
            set(FlowField::Saga, "orchestration").unwrap().saga,
            SagaStyle::Orchestration
        );
        assert!(
            set(FlowField::PaymentMode, "decline")
                .unwrap()
                .payment
                .decline_all
        );
        assert_eq!(
            set(FlowField::DeclineOver, "99.50")
                .unwrap()
                .payment
                .decline_over,
            Some(Cents(9950))
        );
        assert_eq!(
            set(FlowField::DeclineOver, " ")
                .unwrap()
                .payment
                .decline_over,
            None
        );
        assert_eq!(
            set(FlowField::DeclinePercent, "25")
                .unwrap()
                .payment
                .decline_percent,
            25
        );
        assert_eq!(
            set(FlowField::SagaTimeout, "750").unwrap().saga_timeout,
            Duration::from_millis(750)
        );
        assert_eq!(
            set(FlowField::Stock, "P001:1").unwrap().stock.of("P001"),
            Some(1)
        );
        for (field, text, says) in [
            (FlowField::Saga, "x", "not a saga style"),
            (FlowField::DeclineOver, "-1", "Decline over:"),
            (FlowField::DeclinePercent, "101", "Decline share:"),
            (FlowField::SagaTimeout, "5", "Saga deadline:"),
            (FlowField::Stock, "P001", "Stock:"),
        ] {
            let error = set(field, text).unwrap_err();
            assert!(error.contains(says), "{field:?}: {error}");
        }
    }

    #[test]
    fn styles_read_and_write_their_link_value() {
        for style in SagaStyle::ALL {
            assert_eq!(style.value().parse(), Ok(style));
            assert!(style.trade_off().len() > 100);
        }
        let error = "saga".parse::<SagaStyle>().unwrap_err();
        assert!(
            error.contains("parallel, choreography, orchestration"),
            "{error}"
        );
    }

    #[test]
    fn the_payment_rules_add_up_and_say_why() {
        let id = |n: u128| Uuid::from_u128(n);
        let approve = PaymentRule::default();
        assert_eq!(approve.decline_reason(id(5), 1e6), None);
        let all = PaymentRule {
            decline_all: true,
            ..approve
        };
        assert_eq!(
            all.decline_reason(id(5), 1.0).as_deref(),
            Some("payment declined")
        );
        let over = PaymentRule {
            decline_over: Some(Cents(10_000)),
            ..approve
        };
        assert_eq!(
            over.decline_reason(id(5), 100.0),
            None,
            "at the limit is fine"
        );
        assert_eq!(
            over.decline_reason(id(5), 100.01).as_deref(),
            Some("payment declined: the total 100.01 is over the limit of 100.00")
        );
        let some = PaymentRule {
            decline_percent: 30,
            ..approve
        };
        assert_eq!(
            some.decline_reason(id(129), 1.0).as_deref(),
            Some("payment declined (30 % of orders are)"),
            "129 mod 100 is 29, below 30"
        );
        assert_eq!(some.decline_reason(id(130), 1.0), None);
    }

    #[test]
    fn a_percentage_declines_about_that_share_and_always_the_same_orders() {
        let rule = PaymentRule {
            decline_percent: 30,
            ..PaymentRule::default()
        };
        // Ids spread like v4 UUIDs: a multiplicative hash of the index.
        let ids: Vec<Uuid> = (1..=1000u128)
            .map(|n| Uuid::from_u128(n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)))
            .collect();
        let declined = ids
            .iter()
            .filter(|&&id| rule.decline_reason(id, 1.0).is_some())
            .count();
        assert!((250..=350).contains(&declined), "{declined} of 1000");
        for id in &ids {
            assert_eq!(rule.decline_reason(*id, 1.0), rule.decline_reason(*id, 1.0));
        }
    }

    #[test]
    fn stock_reads_writes_and_refuses_with_reasons() {
        let stock = Stock::parse(" P001:5 , P002:0,").unwrap();
        assert_eq!(
            (stock.of("P001"), stock.of("P002"), stock.of("P003")),
            (Some(5), Some(0), None)
        );
        assert_eq!(stock.to_string(), "P001:5,P002:0");
        assert_eq!(Stock::parse(&stock.to_string()), Ok(stock));
        assert_eq!(Stock::parse(""), Ok(Stock::default()));
        for (bad, says) in [
            ("P001", "product:units"),
            ("P001:-1", "whole number"),
            ("P001:x", "whole number"),
            (":5", "Product ID is required"),
            // The order form's rule for a product id: no NUL, no more than 64 characters.
            (
                "\u{0}:1",
                "\"⟨U+0000 NUL⟩:1\": Product ID must not contain control characters",
            ),
            (&format!("{}:1", "P".repeat(65)), "at most 64 characters"),
            ("P001:1,P001:2", "listed twice"),
            ("P001:2000000", "1000000"),
            ("P001:5;P002:3", "put a comma between products"),
            ("P001:5 P002:3", "put a comma between products"),
        ] {
            let error = Stock::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn modes_limits_percentages_and_deadlines_parse_or_say_why() {
        assert_eq!(parse_payment_mode("decline"), Ok(true));
        assert_eq!(parse_payment_mode("approve"), Ok(false));
        assert!(parse_payment_mode("maybe")
            .unwrap_err()
            .contains("approve or decline"));
        assert_eq!(parse_limit("99.5"), Ok(Cents(9950)));
        assert!(parse_limit("-1").is_err());
        assert_eq!(parse_percent("100"), Ok(100));
        assert!(parse_percent("101").unwrap_err().contains("0 to 100"));
        assert_eq!(parse_saga_timeout("1500"), Ok(Duration::from_millis(1500)));
        assert!(parse_saga_timeout("50")
            .unwrap_err()
            .contains("100 to 60000"));
    }
}
