//! What MQTT 3.1.1 clients learned of each broker, kept for a page's lifetime: the maximum QoS
//! ([`LearnedMaximumQoS`]) by broker URL.
//!
//! A [`Session`](crate::Session) forgets what it learned when it moves to another broker
//! ([`Session::forget_broker`](crate::Session::forget_broker)), and coming back it may learn
//! nothing again: a broker keeping the session answers CONNECT with Session Present, so no
//! SUBSCRIBE is sent and no SUBACK shows its ceiling. A driver notes here what its clients
//! learned and, when a client moves to a broker, hands it what was learned of that one.
//!
//! ```
//! use broker_bridge::capabilities::{LearnedMaximumQoS, QoSEvidence};
//! use broker_bridge::learned_limits::LearnedLimits;
//! use broker_bridge::packet::QoS;
//!
//! let mut limits = LearnedLimits::default();
//! let topic = "orders/created".to_owned();
//! let one = LearnedMaximumQoS { maximum: QoS::AtLeastOnce, evidence: QoSEvidence::ClosedAfterPublish { topic } };
//! assert!(limits.note("ws://localhost:9002", &one));
//! assert_eq!(limits.of("ws://localhost:9002"), Some(&one));
//! assert_eq!(limits.of("ws://localhost:9001"), None); // another broker: nothing known
//! ```

use std::collections::BTreeMap;

use crate::capabilities::LearnedMaximumQoS;

/// The lowest maximum QoS learned of each broker, by its URL as
/// [`parse_broker_url`](crate::url::parse_broker_url) writes it (scheme and host in lower
/// case). Never forgets: a broker restarted with another `max_qos` keeps the old entry until
/// the page is reloaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LearnedLimits {
    by_broker: BTreeMap<String, LearnedMaximumQoS>,
}

impl LearnedLimits {
    /// Notes that a client of the broker at `url` learned `learned`. Kept if lower than what
    /// was known of that broker (or nothing was); returns whether it was.
    pub fn note(&mut self, url: &str, learned: &LearnedMaximumQoS) -> bool {
        match self.by_broker.get(url) {
            Some(known) if known.maximum <= learned.maximum => false,
            _ => {
                self.by_broker.insert(url.to_owned(), learned.clone());
                true
            }
        }
    }

    /// What was learned of the broker at `url`; `None` for a broker no client learned a limit
    /// of (its clients start from QoS 2).
    pub fn of(&self, url: &str) -> Option<&LearnedMaximumQoS> {
        self.by_broker.get(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::QoSEvidence;
    use crate::packet::QoS;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const LIMITED: &str = "ws://localhost:9002";
    const NORMAL: &str = "ws://localhost:9001";

    fn learned(maximum: QoS) -> LearnedMaximumQoS {
        LearnedMaximumQoS {
            maximum,
            evidence: QoSEvidence::Granted {
                filter: "payments/processed".into(),
                asked: QoS::ExactlyOnce,
                granted: maximum,
            },
        }
    }

    #[test]
    fn going_to_another_broker_and_back_finds_what_was_learned_of_the_first() {
        let mut limits = LearnedLimits::default();
        assert!(limits.note(LIMITED, &learned(QoS::AtLeastOnce)));
        assert_eq!(
            limits.of(NORMAL),
            None,
            "another broker starts from the default"
        );
        assert_eq!(limits.of(LIMITED), Some(&learned(QoS::AtLeastOnce)));
    }

    #[test]
    fn the_lowest_maximum_learned_of_a_broker_holds() {
        let mut limits = LearnedLimits::default();
        assert!(limits.note(LIMITED, &learned(QoS::AtLeastOnce)));
        assert!(
            !limits.note(LIMITED, &learned(QoS::AtLeastOnce)),
            "the same again"
        );
        assert!(limits.note(LIMITED, &learned(QoS::AtMostOnce)));
        assert!(
            !limits.note(LIMITED, &learned(QoS::AtLeastOnce)),
            "not raised again"
        );
        assert_eq!(limits.of(LIMITED), Some(&learned(QoS::AtMostOnce)));
    }
}
