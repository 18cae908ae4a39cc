//! Prices as whole cents, read straight from what the user typed.
//!
//! Sums of `f64` drift (`0.1 * 3.0 != 0.3`); sums of cents do not. The wire carries currency
//! units as JSON numbers (`29.99`), so the conversion to `f64` happens once, at the edge, from
//! an exact integer: `2999 as f64 / 100.0` is the `f64` nearest to 29.99, the same one that
//! parsing the text "29.99" gives.

use std::fmt;

/// The most a single unit may cost: 1 000 000.00.
pub const MAX_PRICE_CENTS: u64 = 100_000_000;

/// An amount of money in hundredths of the currency unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub u64);

impl Cents {
    /// The amount in currency units, as the events carry it (5998 -> 59.98).
    pub fn to_amount(self) -> f64 {
        // Exact for every amount below 2^53 cents, far above any order the form accepts.
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Cents {
    /// Always two decimals and no separators: `59.98`, `0.30`, `1000000.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// The most cents an amount on the wire may hold: 10^15 − 1, that is 9999999999999.99
/// (ten trillion less a cent).
///
/// The wire carries amounts in currency units as JSON numbers, that is IEEE 754 doubles, and a
/// double's spacing grows with its size: it is below a cent (0.0078) up to 2^46 =
/// 70368744177664 units, and 1/64 (0.0156) from there, where two neighbouring cents
/// (`90071992547409.90` and `.91`) read as the same double. Below this limit (spacing 1/512)
/// every whole number of cents is its own double, so an amount goes from the wire to cents and
/// back to the page exactly. [`amount_cents`] refuses a larger one where a message is read, and
/// no sum ever sees it. Decision 0003.
pub const MAX_EXACT_CENTS: u64 = 999_999_999_999_999;

/// An amount as the events carry it (a JSON number in currency units, `59.98`) in whole cents.
///
/// A double does not hold 29.99 exactly (`29.99 * 100` is 2998.9999999999995), so "a whole
/// number of cents" means: the double a JSON reader gives for some decimal with at most two
/// decimals (`k / 100` for a whole `k`, the same double `Cents(k).to_amount()` gives). That
/// holds at every magnitude up to the limit, and is refused for `0.005`, `3.998` or `1e-7`,
/// which would otherwise be rounded quietly and shown as an amount the wire never carried.
///
/// Errors, naming the JSON `field` at fault, for NaN, an infinity, a negative amount, an
/// amount above [`MAX_EXACT_CENTS`] cents (not every cent is its own double there), and an
/// amount that is not a whole number of cents: the message then is malformed, as any
/// impossible value is.
pub fn amount_cents(field: &str, amount: f64) -> Result<Cents, String> {
    if !amount.is_finite() || amount < 0.0 {
        return Err(format!(
            "`{field}` is {}; it must be a number of at least 0",
            number_text(amount)
        ));
    }
    let hundredths = (amount * 100.0).round();
    // 10^15 − 1 is itself a double, so the comparison is exact.
    if hundredths > MAX_EXACT_CENTS as f64 {
        return Err(format!(
            "`{field}` is {}, more than {max}, the largest amount a message may carry exactly \
             to the cent; send an amount of at most {max}",
            number_text(amount),
            max = Cents(MAX_EXACT_CENTS)
        ));
    }
    // `amount * 100` is itself rounded, so the whole number of cents may be one off it; the
    // amount is whole cents if one of the three neighbours divides back into it exactly.
    // (Division is correctly rounded, so `k / 100.0` is the double nearest to k hundredths.)
    let cents = [hundredths, hundredths - 1.0, hundredths + 1.0]
        .into_iter()
        .find(|&k| (0.0..=MAX_EXACT_CENTS as f64).contains(&k) && k / 100.0 == amount)
        .ok_or_else(|| {
            format!(
                "`{field}` is {}, not a whole number of cents: send at most two decimals",
                number_text(amount)
            )
        })?;
    // In range and whole: the cast is exact (and -0.0 gives 0).
    Ok(Cents(cents as u64))
}

/// Whether two amounts in currency units are the same number of cents (amounts on the wire are
/// whole cents: [`amount_cents`]); an amount that is not a whole number of cents is never the
/// same as another. `59.98` and `59.980` are the same.
pub fn same_cents(a: f64, b: f64) -> bool {
    matches!((amount_cents("a", a), amount_cents("b", b)), (Ok(a), Ok(b)) if a == b)
}

/// Whether amount `a` is more cents than amount `b` (both in currency units, as on the wire);
/// false when either is not a whole number of cents ([`amount_cents`] refuses it).
pub fn more_cents(a: f64, b: f64) -> bool {
    matches!((amount_cents("a", a), amount_cents("b", b)), (Ok(a), Ok(b)) if a > b)
}

/// An amount from the wire as the page shows it, exact to the cent: two decimals for every
/// amount [`amount_cents`] accepts (`59.98`, `0.30`, `9999999999999.99`, from its exact
/// cents, never from the double's rounding); any other (which decoding refuses, so no panel
/// should meet it) as the number itself, in exponent form from a trillion on (`1e300`), so it
/// takes a few characters and not three hundred.
pub fn amount_text(amount: f64) -> String {
    match amount_cents("amount", amount) {
        Ok(cents) => cents.to_string(),
        Err(_) if amount.abs() < 1e12 => amount.to_string(),
        Err(_) => format!("{amount:e}"),
    }
}

/// A number as a reader would write it: plain below 10^16 (`59.98`, `-1`), in exponent form
/// from there (`1e300`), so a huge amount does not fill a sentence with 300 digits.
fn number_text(value: f64) -> String {
    if value.is_finite() && value.abs() >= 1e16 {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// A sum of amounts, added with checked arithmetic: exact to the cent, or known to be beyond
/// what a `u64` of cents holds (184467440737095516.15), rather than stuck at that figure as if
/// it were exact. Starts at [`CentsSum::Exact`] 0.00 ([`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CentsSum {
    /// The sum, exact to the cent.
    Exact(Cents),
    /// The amounts added up to more than `u64::MAX` cents; no figure is given.
    TooLarge,
}

impl Default for CentsSum {
    fn default() -> Self {
        CentsSum::Exact(Cents(0))
    }
}

impl CentsSum {
    /// This sum and `amount`; [`CentsSum::TooLarge`] from the first addition that overflows on.
    #[must_use]
    pub fn plus(self, amount: Cents) -> CentsSum {
        match self {
            CentsSum::Exact(sum) => sum
                .0
                .checked_add(amount.0)
                .map_or(CentsSum::TooLarge, |sum| CentsSum::Exact(Cents(sum))),
            CentsSum::TooLarge => CentsSum::TooLarge,
        }
    }

    /// The sum, if it is exact.
    pub fn exact(self) -> Option<Cents> {
        match self {
            CentsSum::Exact(sum) => Some(sum),
            CentsSum::TooLarge => None,
        }
    }
}

impl PartialEq<Cents> for CentsSum {
    fn eq(&self, other: &Cents) -> bool {
        self.exact() == Some(*other)
    }
}

impl std::iter::Sum<Cents> for CentsSum {
    fn sum<I: Iterator<Item = Cents>>(amounts: I) -> Self {
        amounts.fold(CentsSum::default(), CentsSum::plus)
    }
}

impl fmt::Display for CentsSum {
    /// The exact sum as [`Cents`] shows it (`59.98`), or a sentence saying it is too large to
    /// show exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CentsSum::Exact(sum) => sum.fmt(f),
            CentsSum::TooLarge => write!(
                f,
                "too large to show exactly (more than {})",
                Cents(u64::MAX)
            ),
        }
    }
}

/// Why the text in a price field is not a price. Its `Display` is the order form's sentence;
/// [`PriceError::as_amount`] says the same of any other amount (a link parameter, a limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("Price is required")]
    Empty,
    #[error("Price must be a plain number like 29.99")]
    NotPlainNumber,
    #[error("Price can have at most 2 decimals (cents)")]
    TooManyDecimals,
    #[error("Price must be from 0 to {max}", max = Cents(MAX_PRICE_CENTS))]
    OutOfRange,
}

impl PriceError {
    /// The problem in words for an amount that is not the form's unit price, to follow "… is
    /// not an amount: ".
    pub fn as_amount(self) -> String {
        match self {
            PriceError::Empty => "it is empty; give a plain number like 100 or 99.50".to_owned(),
            PriceError::NotPlainNumber => "use a plain number like 100 or 99.50".to_owned(),
            PriceError::TooManyDecimals => "at most 2 decimals (cents)".to_owned(),
            PriceError::OutOfRange => format!("use an amount from 0 to {}", Cents(MAX_PRICE_CENTS)),
        }
    }
}

/// An amount in plain decimal notation, as [`parse_price_cents`] reads a price, with the
/// problem worded for an amount ([`PriceError::as_amount`]).
pub fn parse_amount_cents(text: &str) -> Result<u64, String> {
    parse_price_cents(text).map_err(PriceError::as_amount)
}

/// Reads a price typed in plain decimal notation (`29.99`, `30`, `0.5`, `.5`) into cents,
/// exactly. Signs, exponents, separators, `NaN` and `inf` are refused rather than guessed at.
pub fn parse_price_cents(text: &str) -> Result<u64, PriceError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PriceError::Empty);
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(PriceError::NotPlainNumber);
    }
    if negative {
        return Err(PriceError::OutOfRange);
    }
    // "1.230" is still a price with two decimals.
    let fraction = fraction.trim_end_matches('0').as_bytes();
    if fraction.len() > 2 {
        return Err(PriceError::TooManyDecimals);
    }
    let digit = |b: u8| u64::from(b - b'0');
    let fraction_cents = fraction
        .iter()
        .chain(b"00")
        .take(2)
        .fold(0, |acc, &b| acc * 10 + digit(b));
    // Saturating: a hundred typed digits must give "too large", not an overflow panic.
    let units = whole.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(digit(b))
    });
    let cents = units.saturating_mul(100).saturating_add(fraction_cents);
    if cents > MAX_PRICE_CENTS {
        return Err(PriceError::OutOfRange);
    }
    Ok(cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_decimals_into_exact_cents() {
        let cases = [
            ("29.99", 2999),
            ("30", 3000),
            ("0.5", 50),
            (".5", 50),
            ("5.", 500),
            ("0", 0),
            ("0.00", 0),
            ("0.1", 10),
            ("0.01", 1),
            ("007.10", 710),
            ("1.230", 123),
            (" 29.99\t", 2999),
            ("1000000", MAX_PRICE_CENTS),
            ("1000000.00", MAX_PRICE_CENTS),
        ];
        for (text, cents) in cases {
            assert_eq!(parse_price_cents(text), Ok(cents), "{text:?}");
        }
    }

    #[test]
    fn refuses_anything_but_plain_decimal_notation() {
        let cases = [
            ("", PriceError::Empty),
            ("   ", PriceError::Empty),
            ("abc", PriceError::NotPlainNumber),
            ("NaN", PriceError::NotPlainNumber),
            ("inf", PriceError::NotPlainNumber),
            ("-inf", PriceError::NotPlainNumber),
            ("1e5", PriceError::NotPlainNumber),
            ("+5", PriceError::NotPlainNumber),
            ("1,50", PriceError::NotPlainNumber),
            ("1 000", PriceError::NotPlainNumber),
            ("1.2.3", PriceError::NotPlainNumber),
            (".", PriceError::NotPlainNumber),
            ("-", PriceError::NotPlainNumber),
            ("0x10", PriceError::NotPlainNumber),
            ("$5", PriceError::NotPlainNumber),
            ("\u{ff15}", PriceError::NotPlainNumber),
            ("1.234", PriceError::TooManyDecimals),
            ("0.001", PriceError::TooManyDecimals),
            ("-1", PriceError::OutOfRange),
            ("-0.5", PriceError::OutOfRange),
            ("1000000.01", PriceError::OutOfRange),
            ("99999999999999999999999999999999", PriceError::OutOfRange),
        ];
        for (text, error) in cases {
            assert_eq!(parse_price_cents(text), Err(error), "{text:?}");
        }
    }

    #[test]
    fn messages_name_the_limits() {
        assert_eq!(
            PriceError::OutOfRange.to_string(),
            "Price must be from 0 to 1000000.00"
        );
        assert_eq!(
            PriceError::TooManyDecimals.to_string(),
            "Price can have at most 2 decimals (cents)"
        );
        // Another amount is not the form's price.
        for error in [
            PriceError::Empty,
            PriceError::NotPlainNumber,
            PriceError::TooManyDecimals,
            PriceError::OutOfRange,
        ] {
            assert!(!error.as_amount().contains("Price"), "{error:?}");
        }
        assert_eq!(
            parse_amount_cents("29.999"),
            Err("at most 2 decimals (cents)".to_owned())
        );
        assert_eq!(
            PriceError::NotPlainNumber.to_string(),
            "Price must be a plain number like 29.99"
        );
    }

    #[test]
    fn converts_to_the_amount_the_wire_carries() {
        assert_eq!(Cents(5998).to_amount(), 59.98);
        assert_eq!(Cents(2999).to_amount(), "29.99".parse::<f64>().unwrap());
        assert_eq!(Cents(30).to_amount(), 0.3);
        assert_eq!(Cents(0).to_amount(), 0.0);
    }

    #[test]
    fn an_amount_up_to_the_limit_is_accepted_one_cent_more_is_not() {
        // Just below the limit: 10^15 − 1 cents, read as a publisher's JSON gives it.
        let largest: f64 = "9999999999999.99".parse().unwrap();
        assert_eq!(
            amount_cents("totalAmount", largest),
            Ok(Cents(MAX_EXACT_CENTS))
        );
        assert_eq!(Cents(MAX_EXACT_CENTS).to_string(), "9999999999999.99");
        assert_eq!(amount_cents("price", 59.98), Ok(Cents(5998)));
        assert_eq!(amount_cents("price", 0.0), Ok(Cents(0)));
        assert_eq!(amount_cents("price", -0.0), Ok(Cents(0)));
        // Just above: one cent more.
        let limit = "the largest amount a message may carry exactly to the cent; send an amount \
                     of at most 9999999999999.99";
        assert_eq!(
            amount_cents("totalAmount", 10_000_000_000_000.0),
            Err(format!(
                "`totalAmount` is 10000000000000, more than 9999999999999.99, {limit}"
            ))
        );
        // The old limit, 2^53 − 1 cents: a cent there has no double of its own.
        let old: f64 = "90071992547409.91".parse().unwrap();
        assert_eq!(old, "90071992547409.90".parse::<f64>().unwrap());
        assert_eq!(
            amount_cents("totalAmount", old),
            Err(format!(
                "`totalAmount` is 90071992547409.9, more than 9999999999999.99, {limit}"
            ))
        );
        // The break-test's amount, said in a few characters, not 301 digits.
        assert_eq!(
            amount_cents("items[0].price", 1e300),
            Err(format!(
                "`items[0].price` is 1e300, more than 9999999999999.99, {limit}"
            ))
        );
        assert_eq!(
            amount_cents("amount", -59.98),
            Err("`amount` is -59.98; it must be a number of at least 0".to_owned())
        );
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX] {
            assert!(amount_cents("amount", value).is_err(), "{value}");
        }
    }

    #[test]
    fn a_sum_that_overflows_says_so_instead_of_sticking() {
        let max = Cents(MAX_EXACT_CENTS);
        // 18446 of the largest amounts still fit in u64 cents, exactly.
        let sum: CentsSum = std::iter::repeat_n(max, 18_446).sum();
        assert_eq!(sum, Cents(18_446 * MAX_EXACT_CENTS));
        assert_eq!(sum.to_string(), "184459999999999815.54");
        // One more does not: the sum says so, and stays so whatever is added after.
        let over = sum.plus(max);
        assert_eq!(over, CentsSum::TooLarge);
        assert_eq!(over.exact(), None);
        assert_eq!(over.plus(Cents(0)), CentsSum::TooLarge);
        assert_eq!(
            over.to_string(),
            "too large to show exactly (more than 184467440737095516.15)"
        );
        assert_ne!(over, Cents(u64::MAX));
        assert_eq!(CentsSum::default().plus(Cents(5998)).to_string(), "59.98");
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Cents(5998).to_string(), "59.98");
        assert_eq!(Cents(30).to_string(), "0.30");
        assert_eq!(Cents(7).to_string(), "0.07");
        assert_eq!(Cents(MAX_PRICE_CENTS).to_string(), "1000000.00");
    }

    #[test]
    fn an_amount_that_is_not_whole_cents_is_refused_at_every_magnitude() {
        // Just outside: the break-test's amounts.
        for (amount, text) in [
            (0.005, "0.005"),
            (3.998, "3.998"),
            (1e-7, "0.0000001"),
            (29.995, "29.995"),
        ] {
            assert_eq!(
                amount_cents("items[0].price", amount),
                Err(format!(
                    "`items[0].price` is {text}, not a whole number of cents: send at most two decimals"
                ))
            );
        }
        // Just inside: every double a two-decimal text reads as, however it rounds.
        for cents in [
            0,
            1,
            2998,
            2999,
            5998,
            30,
            100_000_000,
            123_456_789_012,
            MAX_EXACT_CENTS - 1,
            MAX_EXACT_CENTS,
        ] {
            let text = Cents(cents).to_string();
            assert_eq!(
                amount_cents("amount", text.parse().unwrap()),
                Ok(Cents(cents)),
                "{text}"
            );
        }
        assert_eq!(amount_cents("price", 29.99), Ok(Cents(2999)));
        assert_eq!(
            amount_cents("price", 0.1 * 3.0),
            Err(
                "`price` is 0.30000000000000004, not a whole number of cents: send at most two \
                 decimals"
                    .to_owned()
            )
        );
        // Just outside at the top: half a cent below the limit.
        let half: f64 = "9999999999999.985".parse().unwrap();
        let error = amount_cents("amount", half).unwrap_err();
        assert!(error.contains("not a whole number of cents"), "{error}");
    }

    #[test]
    fn every_cent_up_to_the_limit_is_its_own_double_and_comes_back_as_sent() {
        // The spacing of doubles grows with their size, so it is widest at the limit: there it
        // is below a cent (1/512), so no two cents share a double anywhere below.
        let largest = Cents(MAX_EXACT_CENTS).to_amount();
        let next = f64::from_bits(largest.to_bits() + 1);
        assert_eq!(next - largest, 1.0 / 512.0);
        // Parse the text a publisher sends, read it as cents, show it: the same text, for the
        // cents of every magnitude and the last ten thousand up to the limit.
        let round_trip = |cents: u64| {
            let text = Cents(cents).to_string();
            let amount: f64 = text.parse().unwrap();
            assert_eq!(amount_cents("amount", amount), Ok(Cents(cents)), "{text}");
            assert_eq!(amount_text(amount), text);
        };
        for power in 0..15 {
            (0..1000).for_each(|n| round_trip(10u64.pow(power) + n));
        }
        (MAX_EXACT_CENTS - 10_000..=MAX_EXACT_CENTS).for_each(round_trip);
        // Why not higher: from 2^46 units on the spacing is 1/64, and two cents share a double.
        let at_2_46 = 70_368_744_177_664.0_f64;
        assert_eq!(f64::from_bits(at_2_46.to_bits() + 1) - at_2_46, 1.0 / 64.0);
        assert_eq!(
            "70368744177664.01".parse::<f64>(),
            "70368744177664.02".parse::<f64>()
        );
    }

    #[test]
    fn amounts_are_shown_exact_to_the_cent() {
        assert_eq!(
            amount_text("9999999999999.99".parse().unwrap()),
            "9999999999999.99"
        );
        assert_eq!(amount_text(59.98), "59.98");
        assert_eq!(amount_text(0.0), "0.00");
        assert_eq!(amount_text(1e300), "1e300");
    }
}
