//! One service's event log: every message its client received, accepted or rejected with the
//! reason, newest first. Payloads are shown as text, never as HTML.

use yew::prelude::*;

use eda_core::services::SagaStyle;
use eda_core::state::{Outcome, ServiceView};

#[derive(Properties, PartialEq)]
pub struct EventLogProps {
    pub service: ServiceView,
    /// The saga's style: it decides what the service subscribes to.
    pub saga: SagaStyle,
}

#[component]
pub fn EventLog(props: &EventLogProps) -> Html {
    let service = &props.service;
    let subscriptions = service.id.subscriptions(props.saga);
    // Each entry keyed by its number since the log began, so a new one is one insertion,
    // not a rewrite of every row (100 orders a second is hundreds of entries a second).
    let received = service.log_dropped + service.log.len();
    let rows = service.log.iter().enumerate().map(|(i, entry)| {
        let (status, verdict) = match &entry.outcome {
            Outcome::Accepted => ("accepted", None),
            Outcome::Rejected(reason) => ("rejected", Some(format!("Rejected: {reason}"))),
            Outcome::Failed(reason) => ("failed", Some(format!("Failed: {reason}"))),
        };
        html! {
            <li key={received - i} class={classes!("log-entry", status)} data-testid="log-entry"
                data-service={service.id.slug()} data-topic={entry.topic.clone()} data-status={status}
                data-qos={entry.qos.map(|q| q.level().to_string())}
                data-correlation={entry.correlation.clone()}>
                <span class="time">{ &entry.at }</span>
                <span class="topic">{ &entry.topic }</span>
                if let Some(qos) = entry.qos {
                    <span class="qos" title="QoS the message arrived with">{ format!("QoS {}", qos.level()) }</span>
                }
                if let Some(correlation) = &entry.correlation {
                    <span class="correlation" title="MQTT 5 user property correlationId">{ format!("correlationId {correlation}") }</span>
                }
                <span class="status">{ status }</span>
                if !entry.payload.is_empty() {
                    <code class="payload">{ &entry.payload }</code>
                }
                if let Some(verdict) = verdict {
                    <span class="reason">{ verdict }</span>
                }
            </li>
        }
    });
    html! {
        <section class="card event-log" aria-label={format!("{} event log", service.id.name())}>
            <h2>{ service.id.name() }<span class="muted">{ " — messages received, newest first" }</span></h2>
            <p class="subscriptions">
                if subscriptions.is_empty() {
                    { "Subscribes to nothing; publishes orders/created." }
                } else {
                    { format!("Subscribes to {}", subscriptions.join(", ")) }
                }
            </p>
            if service.log.is_empty() {
                <p class="empty">{ "No messages received yet." }</p>
            }
            <ol class="log">{ for rows }</ol>
            if service.log_dropped > 0 {
                <p class="dropped">{ format!("{} older entries not shown.", service.log_dropped) }</p>
            }
        </section>
    }
}
