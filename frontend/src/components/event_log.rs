//! One service's event log: every message its client received, accepted or rejected with the
//! reason, newest first. Payloads are shown as text, never as HTML; everything that came from
//! outside is isolated with its invisible characters named ([`super::outside_text`]). The
//! header lists the subscriptions as the broker answered them, refused ones marked.

use yew::prelude::*;

use super::outside_text::{outside, outside_cut, outside_lines, reason};
use crate::hooks::use_busy;
use eda_core::outside_text::length_note;
use eda_core::services::ServiceId;
use eda_core::state::{LogEntry, Outcome, ServiceView};
use eda_core::trace::service_status::Grant;

#[derive(Properties, PartialEq)]
pub struct EventLogProps {
    pub service: ServiceView,
    /// Each filter the service subscribes to, with the broker's answer on this connection.
    #[prop_or_default]
    pub subscriptions: Vec<(&'static str, Grant)>,
    /// The shared subscription's group and how many instances share it, when the service runs
    /// several (its log holds every instance's messages).
    #[prop_or_default]
    pub shared: Option<(String, u8)>,
}

/// "Subscribes to orders/created, inventory/reserved; the broker refused payments/processed
/// (Unspecified error (0x80))", each filter marked with its answer.
fn subscriptions_line(subscriptions: &[(&'static str, Grant)]) -> Html {
    let item = |(filter, grant): &(&'static str, Grant)| {
        let title = match grant {
            Grant::Asked => "asked for; the broker has not answered on this connection".to_owned(),
            Grant::Granted(qos) => format!("granted by the broker at QoS {}", qos.level()),
            Grant::Refused(why) => format!("refused by the broker: {why}"),
            Grant::Kept(qos) => format!(
                "kept by the broker's session (CONNACK Session Present): granted at QoS {} on an \
                 earlier connection, not asked again",
                qos.level()
            ),
        };
        let text = match grant {
            Grant::Asked => format!("{filter} (asked)"),
            Grant::Granted(_) => (*filter).to_owned(),
            Grant::Refused(why) => format!("✕ {filter} ({why})"),
            Grant::Kept(_) => format!("{filter} (kept, session present)"),
        };
        html! {
            <span class={classes!("subscription", grant.word())} data-testid="subscription"
                data-filter={*filter} data-state={grant.word()} {title}>{ text }</span>
        }
    };
    let (refused, held): (Vec<_>, Vec<_>) = subscriptions
        .iter()
        .partition(|(_, grant)| matches!(grant, Grant::Refused(_)));
    let join = |items: Vec<&(&'static str, Grant)>| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, s)| html! { <>{ if i > 0 { ", " } else { "" } }{ item(s) }</> })
            .collect::<Html>()
    };
    html! {
        <>
            if held.is_empty() {
                { "Subscribed to nothing" }
            } else {
                { "Subscribes to " }{ join(held) }
            }
            if !refused.is_empty() {
                { "; the broker refused " }{ join(refused) }
            }
            { "." }
        </>
    }
}

/// How many characters of a `correlationId` an entry shows. One published from outside may be
/// any length (20,000 characters made one entry 7,573 px tall); the rest is counted after the
/// cut, and the whole value is the cut text's title and the entry's `data-correlation`.
const CORRELATION_CHARS: usize = 64;

/// How many of the newest entries a log draws while the page is busy (`data-busy`, under a
/// sustained load). The log keeps all of its entries; the rest are drawn again once the page is
/// calm. At 100 orders a second each report (every 400 ms) replaced the whole drawn log, 100
/// entries in each of four logs, and their elements cost the page more than anything a learner
/// could read at that rate (issue 14; `docs/benchmarks.md`, twenty-second session). The log's
/// box shows about four.
pub const BUSY_ENTRIES_DRAWN: usize = 20;

#[derive(Properties, PartialEq)]
struct LogLineProps {
    service: ServiceId,
    entry: LogEntry,
}

/// One entry: a component of its own, so an entry already in the page is not drawn again when
/// another arrives (its props are equal).
#[component]
fn LogLine(props: &LogLineProps) -> Html {
    let entry = &props.entry;
    let (status, verdict) = match &entry.outcome {
        Outcome::Accepted => ("accepted", None),
        Outcome::Note => ("note", None),
        Outcome::Rejected(reason) => ("rejected", Some(("Rejected: ", reason))),
        Outcome::Failed(reason) => ("failed", Some(("Failed: ", reason))),
        Outcome::Duplicate(reason) => ("duplicate", Some(("Ignored: ", reason))),
        Outcome::Kept(reason) => ("kept", Some(("Kept: ", reason))),
        Outcome::Lowered(reason) => ("lowered", Some(("QoS lowered: ", reason))),
    };
    html! {
        <li class={classes!("log-entry", status)} data-testid="log-entry"
            data-service={props.service.slug()} data-topic={entry.topic.clone()} data-status={status}
            data-qos={entry.qos.map(|q| q.level().to_string())}
            data-correlation={entry.correlation.clone()}>
            <span class="time">{ &entry.at }</span>
            <span class="topic">{ outside(&entry.topic) }</span>
            if let Some(qos) = entry.qos {
                <span class="qos" title="QoS the message arrived with">{ format!("QoS {}", qos.level()) }</span>
            }
            if let Some(correlation) = &entry.correlation {
                <span class="correlation" title="MQTT 5 user property correlationId">
                    { "correlationId " }{ outside_cut(correlation, CORRELATION_CHARS) }
                    if let Some(note) = length_note(correlation, CORRELATION_CHARS) {
                        { " " }{ note }
                    }
                </span>
            }
            <span class="status">{ status }</span>
            if !entry.payload.is_empty() {
                <code class="payload">{ outside_lines(&entry.payload) }</code>
            }
            if let Some((verdict, why)) = verdict {
                <span class="reason">{ verdict }{ reason(why) }</span>
            }
        </li>
    }
}

#[component]
pub fn EventLog(props: &EventLogProps) -> Html {
    let service = &props.service;
    let busy = use_busy();
    let drawn = if busy {
        BUSY_ENTRIES_DRAWN.min(service.log.len())
    } else {
        service.log.len()
    };
    // Each entry keyed by its number since the log began, so a new one is one insertion,
    // not a rewrite of every row (100 orders a second is hundreds of entries a second).
    let received = service.log_dropped + service.log.len();
    let rows = service
        .log
        .iter()
        .take(drawn)
        .enumerate()
        .map(|(i, entry)| {
            html! { <LogLine key={received - i} service={service.id} entry={entry.clone()} /> }
        });
    let held_back = service.log.len() - drawn;
    html! {
        <section class="card event-log" aria-label={format!("{} event log", service.id.name())}>
            <h2>{ service.id.name() }<span class="muted">{ " — messages received, newest first" }</span></h2>
            if service.duplicates_ignored > 0 {
                <p class="hint" data-testid="duplicates-ignored" data-service={service.id.slug()}
                    data-count={service.duplicates_ignored.to_string()}>
                    { format!("{} duplicate{} ignored so far (redeliveries absorbed by the idempotent consumer)",
                        service.duplicates_ignored, if service.duplicates_ignored == 1 { "" } else { "s" }) }
                </p>
            }
            <p class="subscriptions" data-testid="subscriptions">
                if props.subscriptions.is_empty() {
                    { "Subscribes to nothing; publishes orders/created." }
                } else {
                    { subscriptions_line(&props.subscriptions) }
                }
            </p>
            if let Some((group, instances)) = &props.shared {
                <p class="subscriptions" data-testid="shared-subscription">
                    { format!("{instances} instances, each subscribed through the shared subscription \
                               $share/{group}/<topic>: the broker gives each message to one of them. \
                               This log holds what each received.") }
                </p>
            }
            if service.log.is_empty() {
                <p class="empty">{ "No messages received yet." }</p>
            }
            <ol class="log">{ for rows }</ol>
            if held_back > 0 {
                <p class="dropped" data-testid="log-held-back" data-count={held_back.to_string()}>
                    { format!("The page is busy: the newest {drawn} entries are drawn; the other \
                               {held_back} are kept and drawn again once it is calm.") }
                </p>
            }
            if service.log_dropped > 0 {
                <p class="dropped">{ format!("{} older entries not shown.", service.log_dropped) }</p>
            }
        </section>
    }
}
