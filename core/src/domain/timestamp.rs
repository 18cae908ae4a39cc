//! A point in time as the events carry it: UTC, millisecond precision, written like
//! JavaScript's `Date.prototype.toISOString` (`2024-01-15T10:30:00.800Z`).
//!
//! Nothing here reads a clock: the runtime turns `Date.now()` into a [`Timestamp`] with
//! [`Timestamp::from_unix_millis`] and passes it in.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A UTC instant with millisecond precision, between the years 0000 and 9999.
///
/// Precision is cut to milliseconds on the way in, so that what is shown, what is sent and
/// what compares equal are the same thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Why a number or a string is not a [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("{0} ms since 1970 is outside the years 0000 to 9999")]
    OutOfRange(i64),
    #[error("`{0}` is not an RFC 3339 timestamp such as 2024-01-15T10:30:00.000Z")]
    NotRfc3339(String),
}

/// Echoing a whole megabyte of garbage back into the event log helps nobody.
const MAX_ECHOED_CHARS: usize = 40;

impl Timestamp {
    /// The instant `ms` milliseconds after 1970-01-01T00:00:00Z (what `Date.now()` returns).
    pub fn from_unix_millis(ms: i64) -> Result<Timestamp, TimestampError> {
        let nanos = i128::from(ms) * 1_000_000;
        match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            // A negative year would not fit the four digits of the wire format.
            Ok(instant) if instant.year() >= 0 => Ok(Timestamp(instant)),
            _ => Err(TimestampError::OutOfRange(ms)),
        }
    }

    /// Parses any RFC 3339 timestamp (`Z` or an offset, any number of fraction digits) and
    /// normalises it to UTC, dropping anything finer than a millisecond.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            TimestampError::NotRfc3339(text.chars().take(MAX_ECHOED_CHARS).collect())
        })?;
        let ms = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
        // The parser only accepts years 0000..=9999, so this always fits; an offset can still
        // push the UTC instant just outside that range, which `from_unix_millis` reports.
        let ms = i64::try_from(ms).map_err(|_| TimestampError::OutOfRange(i64::MAX))?;
        Timestamp::from_unix_millis(ms)
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn unix_millis(self) -> i64 {
        // Within years 0000..=9999 the value is about ±2.5e14, far inside i64.
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn formats_unix_millis_like_to_iso_string() {
        let t = Timestamp::from_unix_millis(1_705_314_600_800).unwrap();
        assert_eq!(t.to_string(), "2024-01-15T10:30:00.800Z");
        assert_eq!(t.unix_millis(), 1_705_314_600_800);
    }

    #[test]
    fn always_writes_three_fraction_digits() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_705_314_601_000, "2024-01-15T10:30:01.000Z"),
            (1_705_314_600_007, "2024-01-15T10:30:00.007Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ];
        for (ms, expected) in cases {
            assert_eq!(
                Timestamp::from_unix_millis(ms).unwrap().to_string(),
                expected
            );
        }
    }

    #[test]
    fn parses_both_formats_the_seed_uses() {
        let whole = at("2024-01-15T10:30:00Z");
        let with_millis = at("2024-01-15T10:30:00.000Z");
        assert_eq!(whole, with_millis);
        assert_eq!(whole.unix_millis(), 1_705_314_600_000);
        assert_eq!(whole.to_string(), "2024-01-15T10:30:00.000Z");
        assert_eq!(
            at("2024-01-15T10:30:00.800Z").unix_millis(),
            1_705_314_600_800
        );
    }

    #[test]
    fn normalises_offsets_to_utc() {
        assert_eq!(
            at("2024-01-15T12:30:00.800+02:00").to_string(),
            "2024-01-15T10:30:00.800Z"
        );
        assert_eq!(
            at("2024-01-15T05:00:00-05:30").to_string(),
            "2024-01-15T10:30:00.000Z"
        );
        assert_eq!(at("2024-01-15T10:30:00+00:00"), at("2024-01-15T10:30:00Z"));
        // Crossing midnight backwards through the offset.
        assert_eq!(
            at("2024-01-01T01:00:00+03:00").to_string(),
            "2023-12-31T22:00:00.000Z"
        );
    }

    #[test]
    fn drops_precision_below_a_millisecond() {
        assert_eq!(
            at("2024-01-15T10:30:00.123999Z").to_string(),
            "2024-01-15T10:30:00.123Z"
        );
        assert_eq!(
            at("2024-01-15T10:30:00.123999Z"),
            at("2024-01-15T10:30:00.123Z")
        );
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "garbage",
            "2024-01-15",
            "10:30:00Z",
            "2024-01-15T10:30:00",
            "2024-13-15T10:30:00Z",
            "2024-02-30T10:30:00Z",
            "2024-01-15T25:30:00Z",
            "2024-01-15 10:30:00 UTC",
            "1705314600800",
        ] {
            assert!(
                matches!(Timestamp::parse(text), Err(TimestampError::NotRfc3339(_))),
                "{text:?} was accepted"
            );
        }
    }

    #[test]
    fn errors_echo_a_bounded_part_of_the_input() {
        let long = "x".repeat(10_000);
        let message = Timestamp::parse(&long).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
        assert!(message.contains("RFC 3339"), "{message}");
    }

    #[test]
    fn rejects_instants_outside_four_digit_years() {
        assert_eq!(
            at("0000-01-01T00:00:00Z").to_string(),
            "0000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            at("9999-12-31T23:59:59.999Z").to_string(),
            "9999-12-31T23:59:59.999Z"
        );
        let first = at("0000-01-01T00:00:00Z").unix_millis();
        let last = at("9999-12-31T23:59:59.999Z").unix_millis();
        assert!(Timestamp::from_unix_millis(first - 1).is_err());
        assert!(Timestamp::from_unix_millis(last + 1).is_err());
        for ms in [i64::MIN, i64::MAX] {
            assert_eq!(
                Timestamp::from_unix_millis(ms),
                Err(TimestampError::OutOfRange(ms))
            );
        }
        // Valid text whose UTC instant leaves the range.
        assert!(Timestamp::parse("9999-12-31T23:30:00-01:00").is_err());
        assert!(Timestamp::parse("0000-01-01T00:30:00+01:00").is_err());
    }

    #[test]
    fn orders_by_instant() {
        assert!(at("2024-01-15T10:30:00.800Z") < at("2024-01-15T10:30:01.000Z"));
        assert!(at("2024-01-15T12:00:00+02:00") < at("2024-01-15T10:30:00Z"));
    }

    #[test]
    fn serde_writes_the_display_form_and_reads_any_rfc3339() {
        let t = Timestamp::from_unix_millis(1_705_314_600_800).unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#""2024-01-15T10:30:00.800Z""#
        );
        let read: Timestamp = serde_json::from_str(r#""2024-01-15T11:30:00.8+01:00""#).unwrap();
        assert_eq!(read, t);
        let error = serde_json::from_str::<Timestamp>(r#""yesterday""#).unwrap_err();
        assert!(
            error.to_string().contains("`yesterday` is not an RFC 3339"),
            "{error}"
        );
        assert!(serde_json::from_str::<Timestamp>("1705314600800").is_err());
    }
}
