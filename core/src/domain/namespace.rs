//! A topic namespace (`?ns=class-7`): one prefix in front of every topic the page publishes
//! and subscribes to, so that many pages can share one broker without consuming each other's
//! messages (thirty learners on one classroom broker). The only place the prefix is put on and
//! taken off.
//!
//! The services, the saga and every view that classifies packets by topic keep speaking the
//! seed's topics ([`super::topics`]); the runtime puts the namespace on where it meets the
//! broker ([`Namespace::wire`], [`Namespace::wire_filter`]) and takes it off what it receives
//! ([`Namespace::strip`]). Without a namespace both are the identity: the wire carries the
//! seed's topics byte for byte.
//!
//! MQTT topic levels keep namespaces apart (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7): `orders/created`
//! does not match `class-7/orders/created`, nor the reverse, and a shared subscription keeps
//! its `$share/<group>/` in front (§4.8.2 of MQTT 5.0), so it becomes
//! `$share/<group>/class-7/<filter>`.
//!
//! ```
//! use eda_core::domain::namespace::Namespace;
//!
//! let ns: Namespace = "class-7".parse().unwrap();
//! assert_eq!(ns.wire("orders/created"), "class-7/orders/created");
//! assert_eq!(ns.wire_filter("$share/eda-a1b2c3-payment/orders/created"),
//!            "$share/eda-a1b2c3-payment/class-7/orders/created");
//! assert_eq!(ns.strip("class-7/orders/created"), Some("orders/created"));
//! assert_eq!(ns.strip("class-8/orders/created"), None);
//! assert_eq!(ns.watch_filter(), "class-7/#");
//!
//! let none = Namespace::none();
//! assert_eq!(none.wire("orders/created"), "orders/created");
//! assert_eq!(none.strip("orders/created"), Some("orders/created"));
//! assert!("class+7".parse::<Namespace>().is_err());
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use broker_bridge::topic::{shared_parts, SHARE_PREFIX};

/// The longest namespace accepted, in characters (all of them ASCII, so bytes too): room for a class and a group
/// (`school-12/class-7b/group-3`) while the topics stay readable in the diagrams.
pub const MAX_LEN: usize = 64;

/// Why a `?ns=` value is not a namespace. Its `Display` is a clause for the page's sentence
/// ("Ignored ?ns=… in the link: {this}.").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamespaceError {
    #[error("it is empty")]
    Empty,
    /// Only white space (`?ns=+` is a space): trimmed, nothing is left.
    #[error(
        "it holds only white space (in a link, + stands for a space; MQTT's wildcard + is %2B, \
         and no namespace may hold one)"
    )]
    Blank,
    #[error("it is {0} characters long; a namespace has at most {MAX_LEN}")]
    TooLong(usize),
    /// A leading, trailing or doubled `/`.
    #[error("it has an empty topic level (a leading, trailing or doubled /)")]
    EmptyLevel,
    /// A level of white space only (`?ns=a/+` is `a/ `: 43-AO F4, it was called an empty
    /// level).
    #[error(
        "its level {0:?} is only white space (in a link, + stands for a space; MQTT's wildcard \
         + is %2B, and no namespace may hold one)"
    )]
    BlankLevel(String),
    /// `+` or `#`: wildcards belong in filters, never in a topic name (MQTT 3.1.1 §4.7.1).
    #[error("{0} is an MQTT wildcard, which a topic name may not contain")]
    Wildcard(char),
    /// A first level starting with `$` is the broker's (`$SYS`, `$share`; MQTT 3.1.1 §4.7.2).
    #[error("a topic starting with $ is the broker's ($SYS, $share), not the application's")]
    Dollar,
    /// Anything outside ASCII letters, digits, `-`, `_` and `/`.
    /// Shown as the page shows outside text: `"é"`, or `⟨U+202E RLO⟩` for one that does not show.
    /// A space says what a `+` in a link is (44-AR F3: `?ns=a+b` was refused for a space the
    /// learner never typed).
    #[error(
        "{} is not allowed{}: use letters (a-z, A-Z), digits, - and _, with / between levels",
        shown_char(*.0),
        if *.0 == ' ' { " (in a link, + stands for a space; MQTT's wildcard + is %2B, and no namespace may hold one)" } else { "" }
    )]
    Character(char),
    /// A level the flow's own topics start with (`orders`, `eventstore` …), at any depth: under
    /// it, a namespaced topic could match a page with the levels before it as its namespace, or
    /// with none (`eventstore/orders/created` matches `eventstore/orders/+`, and
    /// `k/eventstore/orders/created` matches `k/eventstore/orders/+`), and the two pages would
    /// process each other's messages.
    #[error(
        "its level {0:?} is one the flow's own topics start with, so a page whose namespace is \
         the levels before it (or a page without one) could receive its messages: pick another \
         name (e.g. class-7)"
    )]
    Reserved(String),
}

/// `c` as the page shows outside text: in quotes, or named in a box when it does not show
/// (`⟨U+202E RLO⟩`, [`crate::outside_text::visible`]).
fn shown_char(c: char) -> String {
    let text = c.to_string();
    match crate::outside_text::visible(&text) {
        std::borrow::Cow::Borrowed(_) => format!("\"{text}\""),
        std::borrow::Cow::Owned(named) => named,
    }
}

/// The first topic levels of the flow's own topics and filters (seed, saga, commands, status,
/// dead letters, stock, event store): no namespace may start with one ([`NamespaceError::Reserved`]).
pub fn reserved_levels() -> Vec<&'static str> {
    use crate::domain::topics;
    let mut levels: Vec<&'static str> = topics::ALL
        .iter()
        .copied()
        .chain([
            topics::INVENTORY_STOCK_FILTER,
            crate::services::presence::STATUS_FILTER,
            crate::services::dead_letter::DEADLETTER_FILTER,
            crate::store::EVENTSTORE_FILTER,
        ])
        .filter_map(|t| t.split('/').next())
        .collect();
    crate::stable_sort::by(&mut levels, |a, b| a.cmp(b));
    levels.dedup();
    levels
}

/// One or more topic levels of ASCII letters, digits, `-` and `_` (e.g. `class-7`,
/// `school/class-7`), or none (the default: the seed's topics as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Namespace(Option<String>);

impl Namespace {
    /// No namespace: every topic as the seed has it.
    pub fn none() -> Self {
        Namespace(None)
    }

    /// Checks `text` (trimmed) as a namespace: see [`NamespaceError`] for what is refused.
    pub fn parse(text: &str) -> Result<Self, NamespaceError> {
        let trimmed = text.trim();
        if let Some(level) = text
            .split('/')
            .find(|level| !level.is_empty() && level.trim().is_empty())
            .filter(|_| !trimmed.is_empty())
        {
            return Err(NamespaceError::BlankLevel(level.to_owned()));
        }
        if trimmed.is_empty() {
            return Err(if text.is_empty() {
                NamespaceError::Empty
            } else {
                NamespaceError::Blank
            });
        }
        let text = trimmed;
        let length = text.chars().count();
        if length > MAX_LEN {
            return Err(NamespaceError::TooLong(length));
        }
        if text.starts_with('$') {
            return Err(NamespaceError::Dollar);
        }
        if let Some(c) = text.chars().find(|c| matches!(c, '+' | '#')) {
            return Err(NamespaceError::Wildcard(c));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/');
        if let Some(c) = text.chars().find(|&c| !allowed(c)) {
            return Err(NamespaceError::Character(c));
        }
        if text.split('/').any(str::is_empty) {
            return Err(NamespaceError::EmptyLevel);
        }
        // Any level, not only the first: under `k/eventstore` a topic could match a page whose
        // namespace is `k` (`k/eventstore/orders/created` matches `k/eventstore/orders/+`), as
        // under `eventstore` one matches a page without a namespace (a newcomer's break-test).
        let reserved = reserved_levels();
        if let Some(level) = text.split('/').find(|level| reserved.contains(level)) {
            return Err(NamespaceError::Reserved(level.to_owned()));
        }
        Ok(Namespace(Some(text.to_owned())))
    }

    /// The namespace's levels (`class-7`), or `None` without one: the value of `?ns=`.
    pub fn value(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Whether there is no namespace.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// `topic` as it goes on the wire: `<namespace>/<topic>`, or `topic` itself without a
    /// namespace. For topic names and plain filters (`services/+/status` →
    /// `class-7/services/+/status`); a shared subscription goes through [`Self::wire_filter`].
    pub fn wire(&self, topic: &str) -> String {
        match &self.0 {
            Some(ns) => format!("{ns}/{topic}"),
            None => topic.to_owned(),
        }
    }

    /// A subscription filter as it goes on the wire: a shared subscription keeps
    /// `$share/<group>/` in front and the namespace goes before its filter; any other filter is
    /// [`Self::wire`]'s.
    pub fn wire_filter(&self, filter: &str) -> String {
        match (&self.0, shared_parts(filter)) {
            (Some(_), Some((group, inner))) => {
                format!("{SHARE_PREFIX}{group}/{}", self.wire(inner))
            }
            _ => self.wire(filter),
        }
    }

    /// The flow's topic of a topic received or sent on the wire: without the namespace's
    /// levels, or `None` when `wire` is not under the namespace. Without a namespace, `wire`
    /// itself.
    pub fn strip<'a>(&self, wire: &'a str) -> Option<&'a str> {
        match &self.0 {
            None => Some(wire),
            Some(ns) => wire.strip_prefix(ns.as_str())?.strip_prefix('/'),
        }
    }

    /// [`Self::strip`] for a subscription filter: `$share/<group>/<namespace>/<filter>` gives
    /// `$share/<group>/<filter>`.
    pub fn strip_filter<'a>(&self, wire: &'a str) -> Option<Cow<'a, str>> {
        match (&self.0, shared_parts(wire)) {
            (Some(_), Some((group, inner))) => {
                let inner = self.strip(inner)?;
                Some(Cow::Owned(format!("{SHARE_PREFIX}{group}/{inner}")))
            }
            _ => self.strip(wire).map(Cow::Borrowed),
        }
    }

    /// The filter that sees every topic of the page: `<namespace>/#`, or `#`.
    pub fn watch_filter(&self) -> String {
        self.wire("#")
    }
}

impl FromStr for Namespace {
    type Err = NamespaceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Namespace::parse(text)
    }
}

/// The value of `?ns=`, empty without a namespace.
impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::topics;

    #[test]
    fn good_namespaces_are_one_or_more_levels_of_letters_digits_dash_and_underscore() {
        for good in [
            "class-7",
            "a",
            "School_3/class-7b",
            "a/b/c",
            "  class-7  ",
            "0",
        ] {
            let ns = Namespace::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(ns.value(), Some(good.trim()));
        }
        assert!(Namespace::parse(&"x".repeat(MAX_LEN)).is_ok());
    }

    #[test]
    fn bad_namespaces_say_what_is_wrong() {
        use NamespaceError::*;
        let cases = [
            ("", Empty),
            ("   ", Blank),
            ("class+7", Wildcard('+')),
            ("class-7/#", Wildcard('#')),
            ("$SYS", Dollar),
            ("$share", Dollar),
            ("/class-7", EmptyLevel),
            ("class-7/", EmptyLevel),
            ("a//b", EmptyLevel),
            // `?ns=a/+` in a link (43-AO F4).
            ("a/ ", BlankLevel(" ".into())),
            ("a/ /b", BlankLevel(" ".into())),
            ("class 7", Character(' ')),
            ("clàss", Character('à')),
            ("a\u{200b}b", Character('\u{200b}')),
            ("a\0b", Character('\0')),
            ("eventstore", Reserved("eventstore".into())),
            ("orders/class-7", Reserved("orders".into())),
            ("services", Reserved("services".into())),
            ("deadletter", Reserved("deadletter".into())),
            // At any depth: `k/eventstore/orders/created` would reach the page of `k`.
            ("k/eventstore", Reserved("eventstore".into())),
            ("school/orders/class-7", Reserved("orders".into())),
        ];
        // The levels docs/wire-contract/README.md names.
        assert_eq!(
            reserved_levels(),
            [
                "commands",
                "deadletter",
                "eventstore",
                "inventory",
                "orders",
                "payments",
                "services"
            ]
        );
        for (text, expected) in cases {
            assert_eq!(Namespace::parse(text), Err(expected), "{text:?}");
        }
        let long = "x".repeat(MAX_LEN + 1);
        assert_eq!(Namespace::parse(&long), Err(TooLong(MAX_LEN + 1)));
        assert!(TooLong(65).to_string().contains("at most 64"));
        // Named as the page names outside text, not as Rust escapes it.
        assert_eq!(
            Character('\u{202e}').to_string(),
            "⟨U+202E RLO⟩ is not allowed: use letters (a-z, A-Z), digits, - and _, with / between levels"
        );
        assert!(Character('\0')
            .to_string()
            .starts_with("⟨U+0000 NUL⟩ is not allowed"));
        assert!(Character('à')
            .to_string()
            .starts_with("\"à\" is not allowed"));
        // 44-AR F3: `?ns=a+b` arrives as "a b".
        assert_eq!(
            Namespace::parse("a b").unwrap_err().to_string(),
            "\" \" is not allowed (in a link, + stands for a space; MQTT's wildcard + is %2B, \
             and no namespace may hold one): use letters (a-z, A-Z), digits, - and _, with / \
             between levels"
        );
        assert!(Blank
            .to_string()
            .starts_with("it holds only white space (in a link, + stands for a space"));
    }

    #[test]
    fn without_a_namespace_every_topic_is_the_seed_s() {
        let none = Namespace::none();
        for topic in topics::ALL {
            assert_eq!(none.wire(topic), topic);
            assert_eq!(none.strip(topic), Some(topic));
        }
        assert_eq!(
            none.wire_filter("$share/g/orders/created"),
            "$share/g/orders/created"
        );
        assert_eq!(
            none.strip_filter("$share/g/orders/created").as_deref(),
            Some("$share/g/orders/created")
        );
        assert_eq!(none.watch_filter(), "#");
        assert_eq!(none.to_string(), "");
    }

    #[test]
    fn a_namespace_goes_on_every_topic_and_comes_off_again() {
        let ns: Namespace = "school/class-7".parse().unwrap();
        for topic in topics::ALL.into_iter().chain([
            topics::INVENTORY_STOCK_FILTER,
            "services/+/status",
            "deadletter/+",
        ]) {
            let wire = ns.wire(topic);
            assert_eq!(wire, format!("school/class-7/{topic}"));
            assert_eq!(ns.strip(&wire), Some(topic));
            assert_eq!(ns.strip_filter(&wire).as_deref(), Some(topic));
        }
        let shared = "$share/eda-t-payment/orders/created";
        let wire = ns.wire_filter(shared);
        assert_eq!(wire, "$share/eda-t-payment/school/class-7/orders/created");
        assert_eq!(ns.strip_filter(&wire).as_deref(), Some(shared));
        assert_eq!(ns.watch_filter(), "school/class-7/#");
        assert_eq!(ns.to_string(), "school/class-7");
    }

    #[test]
    fn a_topic_outside_the_namespace_is_not_stripped() {
        let ns: Namespace = "class-7".parse().unwrap();
        for outside in [
            "orders/created",
            "class-8/orders/created",
            "class-70/orders/created",
            "class-7",
            "x/class-7/orders/created",
        ] {
            assert_eq!(ns.strip(outside), None, "{outside}");
        }
        assert_eq!(ns.strip_filter("$share/g/class-8/orders/created"), None);
        assert_eq!(ns.strip("class-7/"), Some(""));
    }

    #[test]
    fn a_namespaced_topic_never_matches_a_filter_of_a_page_without_one() {
        use crate::services::{dead_letter, presence};
        use crate::store::EVENTSTORE_FILTER;
        use broker_bridge::topic::matches;
        let filters: Vec<&str> = topics::ALL
            .iter()
            .copied()
            .chain([
                topics::INVENTORY_STOCK_FILTER,
                presence::STATUS_FILTER,
                dead_letter::DEADLETTER_FILTER,
                EVENTSTORE_FILTER,
            ])
            .collect();
        let names = [
            "class-7",
            "a",
            "inventoryx",
            "school/class-7",
            "stock",
            "created",
        ];
        let topics_of_a_page = |ns: &Namespace| {
            let mut all: Vec<String> = topics::ALL.iter().map(|t| ns.wire(t)).collect();
            all.push(ns.wire("inventory/stock/P001"));
            all.push(ns.wire("services/order/status"));
            all.push(ns.wire("deadletter/payment"));
            all.push(ns.wire("eventstore/orders/o-1"));
            all
        };
        for name in names {
            let ns = Namespace::parse(name).unwrap();
            for topic in topics_of_a_page(&ns) {
                for filter in &filters {
                    assert!(!matches(filter, &topic), "{name}: {topic} matches {filter}");
                }
            }
        }
    }
}
