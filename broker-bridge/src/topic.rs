//! Topic names and topic filters (§4.7): what is valid, and which topics a filter matches.
//! Shared subscriptions (MQTT 5.0 §4.8.2), `$share/{group}/{filter}`, are filters too: the
//! broker hands each message to one member of the group, and the inner filter decides matching.

/// The prefix of a shared subscription.
pub const SHARE_PREFIX: &str = "$share/";

/// Why a topic name or filter is refused before anything is sent. Each variant carries the
/// topic as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// [MQTT-4.7.3-1]: at least one character.
    #[error("a topic must not be empty")]
    Empty,
    /// [MQTT-4.7.3-3]: at most 65,535 bytes of UTF-8.
    #[error("topic {0:?} is longer than 65535 bytes")]
    TooLong(String),
    /// [MQTT-4.7.3-2]: no null character.
    #[error("topic {0:?} contains U+0000")]
    Nul(String),
    /// [MQTT-4.7.1-1]: wildcards are for filters only.
    #[error("topic name {0:?} contains a wildcard (+ or #); only subscriptions may use them")]
    WildcardInName(String),
    /// [MQTT-4.7.1-2]: `#` is a whole level, and the last.
    #[error("topic filter {0:?}: # must be the last level, alone (e.g. orders/#)")]
    MisplacedHash(String),
    /// [MQTT-4.7.1-3]: `+` is a whole level.
    #[error("topic filter {0:?}: + must be a whole level (e.g. orders/+/created)")]
    MisplacedPlus(String),
    /// A shared subscription with an empty group name or one holding a wildcard (5.0
    /// [MQTT-4.8.2-1], [MQTT-4.8.2-2]), or no valid filter after it.
    #[error("shared subscription {0:?}: the group name must be non-empty and without wildcards, and a filter must follow ($share/{{group}}/{{filter}})")]
    InvalidShare(String),
}

fn common(topic: &str) -> Result<(), TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > u16::MAX as usize {
        return Err(TopicError::TooLong(topic.to_owned()));
    }
    if topic.contains('\0') {
        return Err(TopicError::Nul(topic.to_owned()));
    }
    Ok(())
}

/// Checks a name to publish to: non-empty, at most 65,535 bytes, no U+0000, no wildcards.
///
/// # Errors
///
/// The first rule broken, as a [`TopicError`].
pub fn validate_name(name: &str) -> Result<(), TopicError> {
    common(name)?;
    if name.contains(['+', '#']) {
        return Err(TopicError::WildcardInName(name.to_owned()));
    }
    Ok(())
}

/// `(group, inner filter)` of a shared subscription `$share/{group}/{filter}`, however malformed
/// its parts; `None` for an ordinary filter.
pub fn shared_parts(filter: &str) -> Option<(&str, &str)> {
    let rest = filter.strip_prefix(SHARE_PREFIX)?;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

/// Checks a filter to subscribe with: `+` stands for one whole level, `#` for the rest, last. A
/// shared subscription needs a group name without wildcards and a valid filter after it.
///
/// # Errors
///
/// The first rule broken, as a [`TopicError`].
pub fn validate_filter(filter: &str) -> Result<(), TopicError> {
    common(filter)?;
    if let Some((group, inner)) = shared_parts(filter) {
        if group.is_empty() || group.contains(['+', '#']) || inner.is_empty() {
            return Err(TopicError::InvalidShare(filter.to_owned()));
        }
        return validate_levels(inner).map_err(|_| TopicError::InvalidShare(filter.to_owned()));
    }
    validate_levels(filter)
}

fn validate_levels(filter: &str) -> Result<(), TopicError> {
    let levels: Vec<&str> = filter.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        if level.contains('#') && (*level != "#" || i + 1 != levels.len()) {
            return Err(TopicError::MisplacedHash(filter.to_owned()));
        }
        if level.contains('+') && *level != "+" {
            return Err(TopicError::MisplacedPlus(filter.to_owned()));
        }
    }
    Ok(())
}

/// Whether `filter` matches `topic`. Topics starting with `$` (broker internals such as
/// `$SYS/…`) are not matched by a filter starting with a wildcard (§4.7.2). A shared
/// subscription matches what its inner filter matches.
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = shared_parts(filter).map_or(filter, |(_, inner)| inner);
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match (level, topic_levels.next()) {
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (l, Some(t)) if l == t => {}
            _ => return false,
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_wildcards_and_emptiness() {
        assert_eq!(validate_name("orders/created"), Ok(()));
        assert_eq!(validate_name("/"), Ok(()));
        assert_eq!(validate_name(""), Err(TopicError::Empty));
        assert!(matches!(
            validate_name("orders/+"),
            Err(TopicError::WildcardInName(_))
        ));
        assert!(matches!(validate_name("a\0b"), Err(TopicError::Nul(_))));
    }

    #[test]
    fn filters_place_wildcards_on_whole_levels() {
        for ok in ["#", "+", "orders/#", "orders/+/x", "+/+", "/+", "a//b"] {
            assert_eq!(validate_filter(ok), Ok(()), "{ok}");
        }
        for bad in ["orders#", "orders/#/x", "##"] {
            assert!(
                matches!(validate_filter(bad), Err(TopicError::MisplacedHash(_))),
                "{bad}"
            );
        }
        for bad in ["orders+", "orders/+x", "a/++"] {
            assert!(
                matches!(validate_filter(bad), Err(TopicError::MisplacedPlus(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn shared_subscriptions_need_a_group_and_a_filter() {
        for ok in [
            "$share/workers/orders/#",
            "$share/g/+",
            "$share/g/a/b",
            "$sharex/#",
        ] {
            assert_eq!(validate_filter(ok), Ok(()), "{ok}");
        }
        for bad in [
            "$share/",
            "$share//orders",
            "$share/g",
            "$share/g/",
            "$share/+/orders",
            "$share/g#/orders",
            "$share/g/orders/#/x",
        ] {
            assert!(
                matches!(validate_filter(bad), Err(TopicError::InvalidShare(_))),
                "{bad}"
            );
        }
        assert_eq!(shared_parts("$share/g/a/b"), Some(("g", "a/b")));
        assert_eq!(shared_parts("orders/#"), None);
    }

    #[test]
    fn a_shared_subscription_matches_like_its_inner_filter() {
        let cases = [
            ("$share/workers/orders/+", "orders/created", true),
            ("$share/workers/orders/+", "orders/created/x", false),
            ("$share/workers/#", "payments/processed", true),
            ("$share/workers/#", "$SYS/uptime", false),
            (
                "$share/workers/orders/created",
                "workers/orders/created",
                false,
            ),
        ];
        for (filter, topic, expected) in cases {
            assert_eq!(matches(filter, topic), expected, "{filter} vs {topic}");
        }
    }

    #[test]
    fn matching_follows_the_spec_examples() {
        let cases = [
            ("orders/created", "orders/created", true),
            ("orders/created", "orders/created/x", false),
            ("orders/+", "orders/created", true),
            ("orders/+", "orders", false),
            ("orders/+", "orders/", true),
            ("orders/#", "orders", true),
            ("orders/#", "orders/a/b", true),
            ("#", "anything/at/all", true),
            ("+/+", "/finance", true),
            ("+", "/finance", false),
            ("#", "$SYS/broker/uptime", false),
            ("+/broker/uptime", "$SYS/broker/uptime", false),
            ("$SYS/#", "$SYS/broker/uptime", true),
        ];
        for (filter, topic, expected) in cases {
            assert_eq!(matches(filter, topic), expected, "{filter} vs {topic}");
        }
    }
}
