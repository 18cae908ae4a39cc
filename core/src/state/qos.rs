//! The QoS of each topic of the flow: the QoS its publisher sends with and its subscribers ask
//! for. A link sets every topic at once with `?qos=`, or one of the seed's three topics with
//! `?qos_<first segment>=` (`?qos_orders=2&qos_payments=0`), the per-topic value winning. Every
//! other topic travels at the QoS of its family's seed topic ([`topics::qos_family`]):
//! `orders/cancelled` at `orders/created`'s, `commands/payment/charge` at `payments/processed`'s.

use broker_bridge::QoS;

use crate::domain::topics;

/// One QoS per topic of [`topics::SEED`], in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowQos([QoS; topics::SEED.len()]);

impl Default for FlowQos {
    fn default() -> Self {
        Self::uniform(crate::config::DEFAULT_QOS)
    }
}

impl FlowQos {
    /// The same QoS for every topic.
    pub const fn uniform(qos: QoS) -> Self {
        FlowQos([qos; topics::SEED.len()])
    }

    fn index(topic: &str) -> Option<usize> {
        let family = topics::qos_family(topic)?;
        topics::SEED.iter().position(|t| *t == family)
    }

    /// The QoS of `topic` (its family's); the default for a topic outside the flow.
    pub fn of(&self, topic: &str) -> QoS {
        Self::index(topic).map_or(crate::config::DEFAULT_QOS, |i| self.0[i])
    }

    /// A copy with `topic`'s family at `qos`; unchanged if `topic` is not one of the flow's.
    pub fn with(mut self, topic: &str, qos: QoS) -> Self {
        if let Some(i) = Self::index(topic) {
            self.0[i] = qos;
        }
        self
    }

    /// The QoS shared by every topic, or `None` when they differ.
    pub fn uniform_level(&self) -> Option<QoS> {
        let first = self.0[0];
        self.0.iter().all(|q| *q == first).then_some(first)
    }

    /// Each of the seed's topics with its QoS (its family's), in the order an order travels
    /// them.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, QoS)> + '_ {
        topics::SEED.iter().copied().zip(self.0.iter().copied())
    }

    /// The query parameters that say this and nothing else: `qos=N` when every topic agrees,
    /// otherwise one `qos_<segment>=N` per topic. `None` removes a parameter from the link.
    pub fn link_params(&self) -> Vec<(String, Option<String>)> {
        let uniform = self.uniform_level();
        let mut params = vec![("qos".to_owned(), uniform.map(|q| q.level().to_string()))];
        params.extend(self.iter().map(|(topic, qos)| {
            let value = uniform.is_none().then(|| qos.level().to_string());
            (link_key(topic), value)
        }));
        params
    }
}

/// The link parameter of one topic: `qos_orders` for `orders/created`.
pub fn link_key(topic: &str) -> String {
    format!("qos_{}", topic.split('/').next().unwrap_or(topic))
}

/// `0`, `1` or `2`.
pub fn parse_level(text: &str) -> Option<QoS> {
    match text.trim() {
        "0" => Some(QoS::AtMostOnce),
        "1" => Some(QoS::AtLeastOnce),
        "2" => Some(QoS::ExactlyOnce),
        _ => None,
    }
}

/// The QoS of every topic at start-up from `?qos=` and the per-topic parameters (`param` looks
/// one up by name), and a sentence for each value ignored because it was not 0, 1 or 2.
pub fn flow_qos_from_query(param: impl Fn(&str) -> Option<String>) -> (FlowQos, Option<String>) {
    let default = crate::config::DEFAULT_QOS;
    let mut errors = Vec::new();
    let mut refuse = |key: &str, text: &str, fallback: QoS| {
        errors.push(format!(
            "Ignored ?{key}={} in the link: QoS is 0, 1 or 2. Using {}.",
            crate::outside_text::quoted(text),
            fallback.level()
        ))
    };
    let all = match param("qos") {
        None => default,
        Some(text) => parse_level(&text).unwrap_or_else(|| {
            refuse("qos", &text, default);
            default
        }),
    };
    let mut qos = FlowQos::uniform(all);
    for topic in topics::SEED {
        let key = link_key(topic);
        if let Some(text) = param(&key) {
            match parse_level(&text) {
                Some(level) => qos = qos.with(topic, level),
                None => refuse(&key, &text, all),
            }
        }
    }
    (qos, (!errors.is_empty()).then(|| errors.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn query(pairs: &[(&str, &str)]) -> (FlowQos, Option<String>) {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        flow_qos_from_query(|key| map.get(key).cloned())
    }

    #[test]
    fn one_parameter_sets_every_topic() {
        let (qos, error) = query(&[("qos", "2")]);
        assert_eq!((qos, error), (FlowQos::uniform(QoS::ExactlyOnce), None));
        assert_eq!(query(&[]), (FlowQos::uniform(QoS::AtLeastOnce), None));
    }

    #[test]
    fn a_topic_parameter_wins_over_the_shared_one() {
        let (qos, error) = query(&[("qos", "2"), ("qos_payments", "0")]);
        assert_eq!(error, None);
        let levels: Vec<_> = qos.iter().map(|(t, q)| (t, q.level())).collect();
        assert_eq!(
            levels,
            [
                ("orders/created", 2),
                ("payments/processed", 0),
                ("inventory/reserved", 2)
            ]
        );
        assert_eq!(qos.uniform_level(), None);
    }

    #[test]
    fn bad_values_are_named_and_ignored() {
        let (qos, error) = query(&[("qos", "two"), ("qos_inventory", "9"), ("qos_orders", "0")]);
        assert_eq!(qos.of("orders/created"), QoS::AtMostOnce);
        assert_eq!(qos.of("inventory/reserved"), QoS::AtLeastOnce);
        let error = error.unwrap();
        assert!(error.contains("?qos=\"two\""), "{error}");
        assert!(error.contains("?qos_inventory=\"9\""), "{error}");
        assert!(error.contains("0, 1 or 2"), "{error}");
    }

    #[test]
    fn link_params_round_trip_through_the_query() {
        for qos in [
            FlowQos::uniform(QoS::AtMostOnce),
            FlowQos::default().with("inventory/reserved", QoS::ExactlyOnce),
            FlowQos::uniform(QoS::AtLeastOnce)
                .with("orders/created", QoS::AtMostOnce)
                .with("payments/processed", QoS::ExactlyOnce),
        ] {
            let params: HashMap<String, String> = qos
                .link_params()
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect();
            assert_eq!(query_map(&params), (qos, None), "{params:?}");
        }
        // Every topic agreeing takes one parameter, and removes the per-topic ones.
        let params = FlowQos::uniform(QoS::ExactlyOnce).link_params();
        assert_eq!(params[0], ("qos".to_owned(), Some("2".to_owned())));
        assert!(params[1..].iter().all(|(_, v)| v.is_none()));
    }

    fn query_map(map: &HashMap<String, String>) -> (FlowQos, Option<String>) {
        flow_qos_from_query(|key| map.get(key).cloned())
    }

    #[test]
    fn every_topic_travels_at_its_family_s_qos() {
        let qos = FlowQos::default()
            .with("orders/created", QoS::ExactlyOnce)
            .with("payments/processed", QoS::AtMostOnce);
        for (topic, level) in [
            ("orders/cancelled", 2),
            ("orders/confirmed", 2),
            ("payments/refunded", 0),
            ("commands/payment/charge", 0),
            ("commands/inventory/release", 1),
            ("inventory/released", 1),
        ] {
            assert_eq!(qos.of(topic).level(), level, "{topic}");
        }
        assert_eq!(
            qos.with("commands/payment/refund", QoS::ExactlyOnce)
                .of("payments/processed")
                .level(),
            2
        );
    }

    #[test]
    fn every_topic_key_is_a_link_parameter() {
        for topic in topics::SEED {
            assert!(
                crate::state::query::LINK_PARAMS.contains(&link_key(topic).as_str()),
                "{topic}"
            );
        }
        assert_eq!(link_key("orders/created"), "qos_orders");
    }
}
