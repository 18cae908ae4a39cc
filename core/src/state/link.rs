//! The settings a link carries (`?broker=`, `?qos=` and the per-topic QoS of [`super::qos`],
//! `?mqtt=`, `?payment_ms=`, `?inventory_ms=`): parsed when the page opens, each invalid value explained and ignored.

use std::time::Duration;

use broker_bridge::ProtocolVersion;

use crate::trace::playback::Speed;

/// The broker to use at start-up from the `?broker=` parameter, and why it was ignored if it
/// was not a usable URL.
pub fn broker_from_query(param: Option<&str>) -> (String, Option<String>) {
    let default = crate::config::DEFAULT_BROKER_URL;
    match param.map(broker_bridge::url::parse_broker_url) {
        None => (default.to_owned(), None),
        Some(Ok(url)) => (url, None),
        Some(Err(e)) => (
            default.to_owned(),
            Some(format!(
                "Ignored ?broker= in the link: {e}. Using {default} instead."
            )),
        ),
    }
}

/// The settings a link may carry; anything else in the query string is reported and ignored.
pub const LINK_PARAMS: [&str; 10] = [
    "broker",
    "qos",
    "qos_orders",
    "qos_payments",
    "qos_inventory",
    "mqtt",
    "payment_ms",
    "inventory_ms",
    "speed",
    "view",
];

/// A sentence naming the query parameters the page does not know, if any.
pub fn unknown_params<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut unknown: Vec<&str> = keys
        .into_iter()
        .filter(|k| !LINK_PARAMS.contains(k))
        .collect();
    unknown.dedup();
    (!unknown.is_empty()).then(|| {
        format!(
            "Ignored in the link: {} (this page reads {}).",
            unknown.join(", "),
            LINK_PARAMS.join(", ")
        )
    })
}

/// The longest simulated delay a learner may set.
pub const MAX_DELAY_MS: u64 = 10_000;

/// A delay in whole milliseconds from the link or a field: 0 to [`MAX_DELAY_MS`].
pub fn parse_delay(name: &str, text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(ms) if ms <= MAX_DELAY_MS => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{name} delay {text:?} ignored: use whole milliseconds from 0 to {MAX_DELAY_MS}"
        )),
    }
}

/// The delays at start-up from `?payment_ms=` and `?inventory_ms=`, and why a value was ignored.
pub fn delays_from_query(
    payment: Option<&str>,
    inventory: Option<&str>,
) -> (crate::services::Delays, Option<String>) {
    let mut delays = crate::services::Delays::default();
    let mut errors = Vec::new();
    for (name, param, slot) in [
        ("Payment", payment, &mut delays.payment),
        ("Inventory", inventory, &mut delays.inventory),
    ] {
        if let Some(text) = param {
            match parse_delay(name, text) {
                Ok(delay) => *slot = delay,
                Err(e) => errors.push(e),
            }
        }
    }
    (delays, (!errors.is_empty()).then(|| errors.join("; ")))
}

/// The MQTT version to use at start-up from the `?mqtt=` parameter (`3.1.1` or `5`), and why
/// it was ignored if it was neither.
pub fn protocol_from_query(param: Option<&str>) -> (ProtocolVersion, Option<String>) {
    let default = crate::config::DEFAULT_PROTOCOL;
    match param.map(str::trim) {
        None => (default, None),
        Some("3.1.1" | "4" | "311") => (ProtocolVersion::V311, None),
        Some("5" | "5.0") => (ProtocolVersion::V5, None),
        Some(other) => (
            default,
            Some(format!(
                "Ignored ?mqtt={other:?} in the link: use 3.1.1 or 5. Using MQTT {default}."
            )),
        ),
    }
}

/// The animation speed at start-up from `?speed=` (0.25, 0.5, 1, 2 or 4), and why it was
/// ignored if it was none of these.
pub fn speed_from_query(param: Option<&str>) -> (Speed, Option<String>) {
    match param.map(str::parse::<Speed>) {
        None => (Speed::ONE, None),
        Some(Ok(speed)) => (speed, None),
        Some(Err(e)) => (
            Speed::ONE,
            Some(format!("Ignored ?speed= in the link: {e}. Using 1×.")),
        ),
    }
}

/// Which part of the picture the page shows: everything, or one view at full width.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Panel {
    #[default]
    All,
    Flow,
    Sequence,
    Packets,
}

impl Panel {
    pub const ALL: [Panel; 4] = [Panel::All, Panel::Flow, Panel::Sequence, Panel::Packets];

    /// The value of `?view=`.
    pub fn value(self) -> &'static str {
        match self {
            Panel::All => "all",
            Panel::Flow => "flow",
            Panel::Sequence => "sequence",
            Panel::Packets => "packets",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Panel::All => "Everything",
            Panel::Flow => "Flow diagram",
            Panel::Sequence => "Sequence diagram",
            Panel::Packets => "Packet inspector",
        }
    }

    /// Whether `part` is drawn when this is chosen.
    pub fn shows(self, part: Panel) -> bool {
        self == Panel::All || self == part
    }
}

/// The view at start-up from `?view=`, and why it was ignored if unknown.
pub fn panel_from_query(param: Option<&str>) -> (Panel, Option<String>) {
    let Some(text) = param else {
        return (Panel::All, None);
    };
    match Panel::ALL.into_iter().find(|p| p.value() == text.trim()) {
        Some(panel) => (panel, None),
        None => (
            Panel::All,
            Some(format!(
                "Ignored ?view={text:?} in the link: use {}. Showing everything.",
                Panel::ALL.map(Panel::value).join(", ")
            )),
        ),
    }
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn broker_parameter_is_used_when_valid_and_explained_when_not() {
        assert_eq!(
            broker_from_query(None),
            ("ws://localhost:9001".to_owned(), None)
        );
        assert_eq!(
            broker_from_query(Some("ws://127.0.0.1:19001")),
            ("ws://127.0.0.1:19001".to_owned(), None)
        );
        let (url, error) = broker_from_query(Some("http://nope"));
        assert_eq!(url, "ws://localhost:9001");
        let error = error.unwrap();
        assert!(
            error.contains("http://nope") && error.contains("ws://"),
            "{error}"
        );
    }

    #[test]
    fn mqtt_parameter_is_3_1_1_or_5_and_explained_otherwise() {
        assert_eq!(protocol_from_query(None), (ProtocolVersion::V311, None));
        assert_eq!(protocol_from_query(Some("5")), (ProtocolVersion::V5, None));
        assert_eq!(
            protocol_from_query(Some("3.1.1")),
            (ProtocolVersion::V311, None)
        );
        let (protocol, error) = protocol_from_query(Some("6"));
        assert_eq!(protocol, ProtocolVersion::V311);
        assert!(error.unwrap().contains("3.1.1 or 5"));
    }

    #[test]
    fn delays_come_from_the_link_within_bounds() {
        let (d, e) = delays_from_query(Some("0"), Some("2500"));
        assert_eq!(
            (d.payment.as_millis(), d.inventory.as_millis(), e),
            (0, 2500, None)
        );
        let (d, e) = delays_from_query(Some("-5"), Some("99999"));
        assert_eq!(d, crate::services::Delays::default());
        let e = e.unwrap();
        assert!(
            e.contains("Payment") && e.contains("Inventory") && e.contains("10000"),
            "{e}"
        );
    }

    #[test]
    fn unknown_link_parameters_are_named_once() {
        assert_eq!(unknown_params(["broker", "qos", "mqtt"]), None);
        let notice = unknown_params(["broker", "bogus", "bogus", "colour"]).unwrap();
        assert!(
            notice.starts_with("Ignored in the link: bogus, colour"),
            "{notice}"
        );
        assert!(notice.contains("payment_ms"), "{notice}");
    }

    #[test]
    fn speed_and_view_come_from_the_link_or_are_explained() {
        assert_eq!(speed_from_query(None), (Speed::ONE, None));
        assert_eq!(speed_from_query(Some("0.25")).0.value(), "0.25");
        let (speed, error) = speed_from_query(Some("3"));
        assert_eq!(speed, Speed::ONE);
        assert!(error.unwrap().contains("0.25×, 0.5×, 1×, 2×, 4×"));
        assert_eq!(panel_from_query(Some("sequence")), (Panel::Sequence, None));
        assert_eq!(panel_from_query(None), (Panel::All, None));
        let (panel, error) = panel_from_query(Some("<b>"));
        assert_eq!(panel, Panel::All);
        assert!(error.unwrap().contains("all, flow, sequence, packets"));
        assert!(Panel::Flow.shows(Panel::Flow) && !Panel::Flow.shows(Panel::Packets));
        assert!(Panel::All.shows(Panel::Packets));
    }
}
