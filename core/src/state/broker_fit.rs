//! Settings the broker cannot honour: each setting of the page compared with what the broker's
//! CONNACK says it can do ([`BrokerCapabilities`], MQTT 5.0 §3.2.2.3), and a warning naming the
//! setting and the CONNACK property for each mismatch, instead of a silent failure.
//!
//! | setting | CONNACK property | what happens |
//! |---|---|---|
//! | `?qos=2` (or a topic's) | Maximum QoS below it | publishes go at the broker's maximum instead ([`BrokerCapabilities::cap_qos`]) |
//! | `?payment_instances=` 2 or 3 | Shared Subscription Available 0 | the `$share/…` subscriptions are refused |
//! | `?stock=`, the services' status and Last Wills | Retain Available 0 | retained messages are refused |
//! | the wildcard filters the page follows | Wildcard Subscription Available 0 | those subscriptions are refused |
//! | a message | Maximum Packet Size | that message is not sent ([`message_too_large`]) |
//!
//! Under MQTT 3.1.1 the CONNACK says nothing, so nothing is warned but a maximum QoS the
//! session learned ([`BrokerCapabilities::maximum_qos_learned`]: a SUBACK granted less than
//! asked, or the broker closed the connection after a QoS 2 PUBLISH): the QoS warning then
//! says so, in the same place.

use broker_bridge::capabilities::{BrokerCapabilities, RefusedCapabilities};
use broker_bridge::{ConnectionError, Link, QoS};

use super::qos::{link_key, FlowQos};
use super::State;
use crate::services::dead_letter::DEADLETTER_FILTER;
use crate::services::presence::STATUS_FILTER;
use crate::services::{SagaStyle, ServiceId};

/// One setting the broker cannot honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityWarning {
    /// The setting, as the link names it where it can: `?qos=2`, `?qos_orders=2`,
    /// `?payment_instances=3`, `?stock=`, `retained status`, `wildcard subscriptions`, `message
    /// size`.
    pub setting: String,
    /// The CONNACK property that rules it out, named as in the specification, e.g.
    /// `Maximum QoS`.
    pub property: &'static str,
    /// The whole sentence for the page: the setting, the property's value, what the page does
    /// about it and what the learner can do.
    pub text: String,
}

/// What the page asks of the broker: the settings [`warnings`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUse {
    /// The QoS of each topic.
    pub qos: FlowQos,
    /// How many instances PaymentService runs (more than one share through `$share/…`).
    pub payment_instances: u8,
    /// Whether InventoryService keeps retained stock levels (`?stock=` set).
    pub retained_stock: bool,
    /// The filters with `+` or `#` the page's clients subscribe to.
    pub wildcard_filters: Vec<String>,
}

impl BrokerUse {
    /// What the page's current settings ask of the broker.
    pub fn of(state: &State) -> Self {
        BrokerUse {
            qos: state.qos,
            payment_instances: state.payment_instances,
            retained_stock: !state.flow.stock.0.is_empty(),
            wildcard_filters: wildcard_filters(state.flow.saga),
        }
    }
}

/// The wildcard filters the page's clients subscribe to under `style`: the services' own (the
/// event store's `eventstore/orders/+`, the stock levels …), the page's `services/+/status`
/// and `deadletter/+`; each once, in that order.
pub fn wildcard_filters(style: SagaStyle) -> Vec<String> {
    let mut filters: Vec<String> = Vec::new();
    let services = ServiceId::ALL
        .iter()
        .flat_map(|s| s.subscriptions(style).iter().copied());
    for filter in services.chain([STATUS_FILTER, DEADLETTER_FILTER]) {
        if filter.contains(['+', '#']) && !filters.iter().any(|f| f == filter) {
            filters.push(filter.to_owned());
        }
    }
    filters
}

/// The warnings for `using` the broker whose CONNACK gave `caps`, in the order of the module's
/// table; under MQTT 3.1.1 (its CONNACK announces nothing) only the QoS one, once the maximum
/// QoS was learned.
pub fn warnings(caps: &BrokerCapabilities, using: &BrokerUse) -> Vec<CapabilityWarning> {
    let mut out = Vec::new();
    out.extend(qos_warning(caps, &using.qos));
    if !caps.announced {
        return out;
    }
    if using.payment_instances > 1 && !caps.shared_subscription_available {
        let n = using.payment_instances;
        out.push(CapabilityWarning {
            setting: format!("?payment_instances={n}"),
            property: "Shared Subscription Available",
            text: format!(
                "PaymentService runs {n} instances (?payment_instances={n}), which share its \
                 work through a shared subscription ($share/…), but the broker's CONNACK says \
                 Shared Subscription Available 0: it refuses them, and nothing reaches the \
                 instances on those topics. Run one instance, or use a broker with shared \
                 subscriptions."
            ),
        });
    }
    if !caps.retain_available {
        let (setting, what) = if using.retained_stock {
            (
                "?stock=",
                "InventoryService's retained stock levels (?stock=) and the services' retained \
                 status and Last Wills",
            )
        } else {
            (
                "retained status",
                "The services' retained status and Last Wills",
            )
        };
        out.push(CapabilityWarning {
            setting: setting.to_owned(),
            property: "Retain Available",
            text: format!(
                "{what} need retained messages, but the broker's CONNACK says Retain Available \
                 0: they are not kept (MQTT 5.0 [MQTT-3.2.2-14]), so a client that joins later \
                 does not learn them. The services say online, and InventoryService states its \
                 levels, without the retain flag, so the clients online at the time still hear \
                 them."
            ),
        });
    }
    if !caps.wildcard_subscription_available && !using.wildcard_filters.is_empty() {
        out.push(CapabilityWarning {
            setting: "wildcard subscriptions".to_owned(),
            property: "Wildcard Subscription Available",
            text: format!(
                "The page subscribes with wildcards ({}), but the broker's CONNACK says Wildcard \
                 Subscription Available 0: it refuses those subscriptions, and what they follow \
                 (the services' status, the event store, the dead letters) does not arrive.",
                using.wildcard_filters.join(", ")
            ),
        });
    }
    out
}

/// Every warning the page shows now: [`warnings`] for its settings against the current
/// broker's capabilities (none before a CONNACK), then the last message a limit kept from being
/// sent.
pub fn of_state(state: &State) -> Vec<CapabilityWarning> {
    let mut out = state
        .broker_capabilities
        .as_ref()
        .map(|caps| warnings(caps, &BrokerUse::of(state)))
        .unwrap_or_default();
    out.extend(state.capability_refusal.clone());
    out
}

/// What the capabilities panel says while no CONNACK accepted a service of the page but one
/// refused it (a wrong password, a version the broker does not speak …): the first refusal
/// among the services, read for the capabilities ([`RefusedCapabilities`]). `None` once
/// capabilities are known, or while nothing refused (the panel then waits for a CONNACK).
pub fn refused_capabilities(state: &State) -> Option<RefusedCapabilities> {
    if state.broker_capabilities.is_some() {
        return None;
    }
    state.services.iter().find_map(|s| match &s.link {
        Link::Disconnected {
            reason: ConnectionError::Refused { protocol, connack },
            ..
        } => Some(RefusedCapabilities::of(*protocol, connack)),
        _ => None,
    })
}

/// The QoS warning: every topic whose QoS is above the broker's Maximum QoS (stated in a 5.0
/// CONNACK, or learned under 3.1.1), named by its link parameter (`?qos=2` when all topics
/// agree).
fn qos_warning(caps: &BrokerCapabilities, qos: &FlowQos) -> Option<CapabilityWarning> {
    if !caps.announced && caps.maximum_qos_learned.is_none() {
        return None;
    }
    let maximum = caps.maximum_qos;
    let over: Vec<(&str, QoS)> = qos.iter().filter(|(_, q)| *q > maximum).collect();
    let Some(highest) = over.iter().map(|(_, q)| *q).max() else {
        // Every topic at QoS 0 already: what the page itself sends at QoS 1 is still lowered.
        return (maximum == QoS::AtMostOnce).then(|| CapabilityWarning {
            text: AT_MOST_ONCE.trim_start().to_owned(),
            setting: "event store, dead letters, Wills".into(),
            property: "Maximum QoS",
        });
    };
    let setting = match qos.uniform_level() {
        Some(q) => format!("?qos={}", q.level()),
        None => over
            .iter()
            .map(|(topic, q)| format!("?{}={}", link_key(topic), q.level()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let (max, chosen) = (maximum.level(), highest.level());
    // The default is not named as a link parameter the link does not hold (a newcomer's
    // break-test: "QoS 1 is chosen (?qos=1)" on a link with no `qos`).
    let chosen_text = if *qos == FlowQos::default() {
        format!("QoS {chosen} is the default (?qos= changes it)")
    } else {
        format!("QoS {chosen} is chosen ({setting})")
    };
    let text = match &caps.maximum_qos_learned {
        Some(learned) => format!(
            "{}. {chosen_text}, but an MQTT 3.1.1 CONNACK cannot \
             state a Maximum QoS, and a broker may close the connection on a PUBLISH above its \
             own (Mosquitto's max_qos does): the services publish at QoS {max} instead, and any \
             message sent above it before this was known goes again at QoS {max}. Subscriptions \
             still ask for QoS {chosen}; the broker grants at most {max}. MQTT 5 would have said it \
             in the CONNACK.",
            sentence(&learned.to_string())
        ),
        None => format!(
            "{chosen_text}, but the broker's CONNACK says Maximum QoS {max}: \
             the services publish at QoS {max} instead, since a client must not send a QoS above \
             it (MQTT 5.0 §3.2.2.3.4, [MQTT-3.2.2-11]). Subscriptions still ask for QoS \
             {chosen}; the broker grants at most {max}."
        ),
    };
    let text = if maximum == QoS::AtMostOnce {
        text + AT_MOST_ONCE
    } else {
        text
    };
    Some(CapabilityWarning {
        text,
        setting,
        property: "Maximum QoS",
    })
}

/// What a broker taking QoS 0 only (Mosquitto's `max_qos 0`) does to what the page always
/// sends at QoS 1, whatever `?qos=` says.
const AT_MOST_ONCE: &str = " At QoS 0 nothing is acknowledged: the event store \
     (eventstore/orders/…), the dead letters and, under MQTT 5, the Last Wills go at most once \
     too, so a message lost on the way is lost for good (the read model may stay behind until \
     it is rebuilt from the store). Under MQTT 3.1.1 such a broker closes a CONNECT whose Will \
     is QoS 1 before its CONNACK: use MQTT 5.";

/// `text` with its first letter in capitals, to open a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The warning for a message of `size` bytes to `topic` (the flow's topic, without a namespace)
/// that was not sent because the broker's Maximum Packet Size is `max` bytes (MQTT 5.0
/// §3.2.2.3.6, [MQTT-3.2.2-15]): any of the page's messages, an order's events, its stored
/// events on `eventstore/orders/<id>` (which the read model then never has) or a dead letter
/// (which carries the whole message it failed on). The advice fits the topic.
pub fn message_too_large(topic: &str, size: usize, max: usize) -> CapabilityWarning {
    let advice = if topic.starts_with("deadletter/") {
        "A dead letter carries the whole message that failed, so it is larger than that \
         message: the page keeps it in its Dead letters panel. Raise the broker's limit \
         (Mosquitto: max_packet_size) to see dead letters on the wire."
    } else if topic.starts_with("eventstore/") {
        "The order's stored event never reaches the read model, nor do the events after it. \
         Order fewer items, or raise the broker's limit (Mosquitto: max_packet_size)."
    } else {
        "Order fewer items, or raise the broker's limit (Mosquitto: max_packet_size)."
    };
    CapabilityWarning {
        setting: "message size".to_owned(),
        property: "Maximum Packet Size",
        text: format!(
            "A message to {topic} is {size} bytes as a PUBLISH, but the broker's CONNACK says \
             Maximum Packet Size {max} bytes: it was not sent (MQTT 5.0 [MQTT-3.2.2-15]). \
             {advice}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_bridge::packet::{ConnAck, Property, ReasonCode};
    use broker_bridge::ProtocolVersion;

    fn caps(properties: &[Property]) -> BrokerCapabilities {
        let mut ack = ConnAck::new(false, ReasonCode::Success);
        for p in properties {
            ack.properties.add(p.clone());
        }
        BrokerCapabilities::of(ProtocolVersion::V5, &ack)
    }

    fn using(qos: QoS) -> BrokerUse {
        BrokerUse {
            qos: FlowQos::uniform(qos),
            payment_instances: 1,
            retained_stock: false,
            wildcard_filters: wildcard_filters(SagaStyle::Parallel),
        }
    }

    fn properties(warnings: &[CapabilityWarning]) -> Vec<&'static str> {
        warnings.iter().map(|w| w.property).collect()
    }

    #[test]
    fn a_broker_that_allows_everything_warns_of_nothing() {
        let mut everything = using(QoS::ExactlyOnce);
        everything.payment_instances = 3;
        everything.retained_stock = true;
        assert_eq!(warnings(&caps(&[]), &everything), []);
    }

    #[test]
    fn qos_2_on_a_broker_of_maximum_qos_1_names_the_setting_and_the_property() {
        let broker = caps(&[Property::MaximumQoS(QoS::AtLeastOnce)]);
        let found = warnings(&broker, &using(QoS::ExactlyOnce));
        assert_eq!(properties(&found), ["Maximum QoS"]);
        assert_eq!(found[0].setting, "?qos=2");
        assert!(found[0].text.contains("Maximum QoS 1"), "{}", found[0].text);
        assert!(
            found[0].text.contains("publish at QoS 1"),
            "{}",
            found[0].text
        );
        // QoS 1 fits: no warning.
        assert_eq!(warnings(&broker, &using(QoS::AtLeastOnce)), []);
        // One topic at 2: named by its own parameter.
        let mixed = BrokerUse {
            qos: FlowQos::uniform(QoS::AtLeastOnce).with("payments/processed", QoS::ExactlyOnce),
            ..using(QoS::AtLeastOnce)
        };
        let found = warnings(&broker, &mixed);
        assert_eq!(found[0].setting, "?qos_payments=2");
        // Maximum QoS 0 catches QoS 1 too.
        let strict = caps(&[Property::MaximumQoS(QoS::AtMostOnce)]);
        assert!(warnings(&strict, &using(QoS::AtLeastOnce))[0]
            .text
            .contains("Maximum QoS 0"));
    }

    #[test]
    fn competing_consumers_without_shared_subscriptions_are_warned_of() {
        let broker = caps(&[Property::SharedSubscriptionAvailable(false)]);
        let mut three = using(QoS::AtLeastOnce);
        assert_eq!(warnings(&broker, &three), [], "one instance shares nothing");
        three.payment_instances = 3;
        let found = warnings(&broker, &three);
        assert_eq!(properties(&found), ["Shared Subscription Available"]);
        assert_eq!(found[0].setting, "?payment_instances=3");
        assert!(found[0].text.contains("Shared Subscription Available 0"));
    }

    #[test]
    fn retained_stock_and_wildcards_the_broker_lacks_are_warned_of() {
        let broker = caps(&[
            Property::RetainAvailable(false),
            Property::WildcardSubscriptionAvailable(false),
        ]);
        let mut stocked = using(QoS::AtLeastOnce);
        stocked.retained_stock = true;
        let found = warnings(&broker, &stocked);
        assert_eq!(
            properties(&found),
            ["Retain Available", "Wildcard Subscription Available"]
        );
        assert_eq!(found[0].setting, "?stock=");
        assert!(found[0].text.contains("Retain Available 0"));
        assert!(
            found[1].text.contains("services/+/status"),
            "{}",
            found[1].text
        );
        assert_eq!(
            warnings(&broker, &using(QoS::AtLeastOnce))[0].setting,
            "retained status"
        );
    }

    #[test]
    fn under_3_1_1_nothing_is_known_so_nothing_is_warned() {
        let ack = ConnAck::new(false, ReasonCode::Success);
        let broker = BrokerCapabilities::of(ProtocolVersion::V311, &ack);
        let mut all = using(QoS::ExactlyOnce);
        all.payment_instances = 3;
        assert_eq!(warnings(&broker, &all), []);
    }

    #[test]
    fn under_3_1_1_a_learned_maximum_qos_is_warned_of_with_how_it_was_learned() {
        use broker_bridge::capabilities::{LearnedMaximumQoS, QoSEvidence};
        let ack = ConnAck::new(false, ReasonCode::Success);
        let learned = LearnedMaximumQoS {
            maximum: QoS::AtLeastOnce,
            evidence: QoSEvidence::Granted {
                filter: "orders/created".into(),
                asked: QoS::ExactlyOnce,
                granted: QoS::AtLeastOnce,
            },
        };
        let broker =
            BrokerCapabilities::of(ProtocolVersion::V311, &ack).with_learned(Some(&learned));
        let mut all = using(QoS::ExactlyOnce);
        all.payment_instances = 3;
        let found = warnings(&broker, &all);
        assert_eq!(properties(&found), ["Maximum QoS"], "nothing else is known");
        assert_eq!(found[0].setting, "?qos=2");
        assert!(
            found[0].text.starts_with(
                "This broker grants at most QoS 1: a SUBACK granted QoS 1 for orders/created, \
                 asked at QoS 2"
            ),
            "{}",
            found[0].text
        );
        assert!(found[0].text.contains("publish at QoS 1 instead"));
        assert_eq!(
            warnings(&broker, &using(QoS::AtLeastOnce)),
            [],
            "QoS 1 fits"
        );
    }

    #[test]
    fn a_broker_taking_qos_0_only_is_warned_of_for_the_event_store_and_wills_too() {
        let broker = caps(&[Property::MaximumQoS(QoS::AtMostOnce)]);
        let found = warnings(&broker, &using(QoS::AtLeastOnce));
        assert_eq!(properties(&found), ["Maximum QoS"]);
        assert_eq!(found[0].setting, "?qos=1");
        assert!(
            found[0].text.starts_with(
                "QoS 1 is the default (?qos= changes it), but the broker's CONNACK says Maximum \
                 QoS 0"
            ),
            "{}",
            found[0].text
        );
        assert!(
            found[0].text.contains("publish at QoS 0 instead"),
            "{}",
            found[0].text
        );
        assert!(
            found[0]
                .text
                .contains("the event store (eventstore/orders/…), the dead letters"),
            "{}",
            found[0].text
        );
        assert!(found[0].text.contains("Last Wills go at most once"));
        let all_zero = warnings(&broker, &using(QoS::AtMostOnce));
        assert_eq!(
            properties(&all_zero),
            ["Maximum QoS"],
            "QoS 0 chosen: still said"
        );
        assert!(all_zero[0]
            .text
            .starts_with("At QoS 0 nothing is acknowledged"));
        let one = caps(&[Property::MaximumQoS(QoS::AtLeastOnce)]);
        let found = warnings(&one, &using(QoS::ExactlyOnce));
        assert!(!found[0].text.contains("event store"), "QoS 1 keeps them");
    }

    #[test]
    fn the_page_s_wildcard_filters_are_found_from_the_services_subscriptions() {
        let filters = wildcard_filters(SagaStyle::Parallel);
        assert!(filters.contains(&STATUS_FILTER.to_owned()));
        assert!(filters.contains(&DEADLETTER_FILTER.to_owned()));
        assert!(filters.iter().all(|f| f.contains(['+', '#'])));
    }

    #[test]
    fn the_page_s_warnings_follow_its_state() {
        use crate::state::Action;
        let mut state = State::new("ws://h:9001/mqtt".into(), None, "t");
        state.qos = FlowQos::uniform(QoS::ExactlyOnce);
        assert_eq!(of_state(&state), [], "no CONNACK yet");
        let broker = caps(&[Property::MaximumQoS(QoS::AtLeastOnce)]);
        state.apply(Action::BrokerCapabilities(broker));
        assert_eq!(properties(&of_state(&state)), ["Maximum QoS"]);
        state.apply(Action::CapabilityRefused(message_too_large("t", 9, 8)));
        assert_eq!(
            properties(&of_state(&state)),
            ["Maximum QoS", "Maximum Packet Size"]
        );
        // Another broker: nothing known until its CONNACK.
        state.apply(Action::BrokerChanged("ws://other:8083/mqtt".into()));
        assert_eq!(of_state(&state), []);
        assert_eq!(state.broker_capabilities, None);
    }

    #[test]
    fn a_refusing_connack_replaces_the_wait_until_capabilities_are_known() {
        use crate::services::instances::Instance;
        use crate::state::Action;
        use broker_bridge::packet::ConnAck;
        use std::time::Duration;
        let mut state = State::new("ws://h:9001".into(), None, "t");
        assert_eq!(
            refused_capabilities(&state),
            None,
            "nothing refused: waiting"
        );
        let refusal = ConnectionError::Refused {
            protocol: ProtocolVersion::V5,
            connack: ConnAck::new(false, ReasonCode::BadUserNameOrPassword),
        };
        let down = Link::Disconnected {
            url: "ws://h:9001".into(),
            reason: refusal,
            retry_in: Duration::ZERO,
            attempt: 1,
        };
        state.apply(Action::Link(Instance::from(ServiceId::Payment), down));
        let refused = refused_capabilities(&state).expect("the refusal is read");
        assert_eq!(refused.reason, "Bad User Name or Password (0x86)");
        // Another service accepted: the capabilities are known, the refusal is its own matter.
        state.apply(Action::BrokerCapabilities(caps(&[])));
        assert_eq!(refused_capabilities(&state), None);
    }

    #[test]
    fn a_message_too_large_names_the_size_and_the_limit() {
        let w = message_too_large("orders/created", 3000, 2000);
        assert_eq!(w.property, "Maximum Packet Size");
        assert!(w.text.contains("3000 bytes") && w.text.contains("Maximum Packet Size 2000"));
        assert!(w.text.ends_with(
            "Order fewer items, or raise the broker's limit (Mosquitto: max_packet_size)."
        ));
    }

    #[test]
    fn a_dead_letter_or_a_stored_event_too_large_says_what_it_costs() {
        let w = message_too_large("deadletter/payment", 2068, 2000);
        assert!(
            w.text
                .starts_with("A message to deadletter/payment is 2068 bytes"),
            "{}",
            w.text
        );
        assert!(
            w.text
                .contains("the page keeps it in its Dead letters panel"),
            "{}",
            w.text
        );
        let w = message_too_large(
            "eventstore/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6",
            454,
            420,
        );
        assert!(
            w.text.contains("never reaches the read model"),
            "{}",
            w.text
        );
    }
}
