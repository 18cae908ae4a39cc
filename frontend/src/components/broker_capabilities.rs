//! What the broker can do, as its CONNACK said (MQTT 5.0 §3.2.2.3), and a warning for each
//! setting of the page it cannot honour. The reading and the warnings are the core's
//! ([`broker_bridge::capabilities`], [`eda_core::state::broker_fit`]); this only draws them.

use broker_bridge::capabilities::{BrokerCapabilities, CapabilityRow, RefusedCapabilities};
use eda_core::state::broker_fit::CapabilityWarning;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BrokerCapabilitiesProps {
    /// From the last accepting CONNACK; `None` until one came.
    pub capabilities: Option<BrokerCapabilities>,
    /// The settings the broker cannot honour, each with the CONNACK property that says so.
    pub warnings: Vec<CapabilityWarning>,
    /// While `capabilities` is `None`: a refusing CONNACK, read for the capabilities (shown
    /// instead of the wait).
    #[prop_or_default]
    pub refused: Option<RefusedCapabilities>,
}

/// `Maximum QoS` → `maximum-qos`, for `data-property`.
fn slug(property: &str) -> String {
    property.to_ascii_lowercase().replace(' ', "-")
}

/// A `<dt>`/`<dd>` pair per capability: the value, and where it came from (stated in the
/// CONNACK, the default, or learned under 3.1.1).
fn rows(rows: Vec<CapabilityRow>) -> Html {
    rows.into_iter()
        .map(|row| {
            let source = match (&row.learned, row.stated) {
                (Some(how), _) => format!("not in a 3.1.1 CONNACK ({}): learned, {how}", row.id),
                (None, true) => format!("stated in CONNACK ({})", row.id),
                (None, false) => format!("not in CONNACK ({}): the default", row.id),
            };
            html! {
                <>
                    <dt>{ row.property }</dt>
                    <dd data-testid="capability" data-property={slug(row.property)}
                        data-stated={row.stated.to_string()}
                        data-learned={row.learned.is_some().to_string()} title={source}>
                        { row.value }
                        if let Some(how) = &row.learned {
                            <span class="hint">{ format!(" (learned: {how})") }</span>
                        } else if !row.stated {
                            <span class="hint">{ " (default)" }</span>
                        }
                    </dd>
                </>
            }
        })
        .collect::<Html>()
}

#[component]
pub fn BrokerCapabilitiesView(props: &BrokerCapabilitiesProps) -> Html {
    let warnings = props
        .warnings
        .iter()
        .map(|w| {
            html! {
                <p class="error" role="alert" data-testid="capability-warning"
                    data-property={slug(w.property)} data-setting={w.setting.clone()}>{ &w.text }</p>
            }
        })
        .collect::<Html>();
    let Some(caps) = &props.capabilities else {
        if let Some(refused) = &props.refused {
            return html! {
                <div class="broker-capabilities" data-testid="broker-capabilities" data-state="refused">
                    <p class="hint" data-testid="capabilities-refused">
                        { "Broker capabilities: refused: " }{ &refused.reason }{ ". " }
                        { &refused.meaning }
                    </p>
                    if !refused.rows.is_empty() { <dl>{ rows(refused.rows.clone()) }</dl> }
                    { warnings }
                </div>
            };
        }
        return html! {
            <div class="broker-capabilities" data-testid="broker-capabilities" data-state="waiting">
                <p class="hint">{ "Broker capabilities: waiting for the broker's CONNACK." }</p>
                { warnings }
            </div>
        };
    };
    let rows = rows(caps.rows());
    html! {
        <div class="broker-capabilities" data-testid="broker-capabilities" data-state="known"
            data-announced={caps.announced.to_string()}>
            <details>
                <summary>{ "Broker capabilities (from its CONNACK)" }</summary>
                if caps.announced {
                    <p class="hint">{ "MQTT 5: what the broker's CONNACK stated; a property it \
                        left out has its default, marked (default)." }</p>
                } else {
                    <p class="hint" data-testid="capabilities-note">{ "MQTT 3.1.1: its CONNACK \
                        carries none of these, so the defaults below are assumed, and a limit of \
                        the broker shows only when it closes the connection; but a Maximum QoS \
                        the services learned (a SUBACK granting less than asked) is marked \
                        (learned). Choose MQTT 5 to read them." }</p>
                }
                <dl>{ rows }</dl>
            </details>
            { warnings }
        </div>
    }
}
