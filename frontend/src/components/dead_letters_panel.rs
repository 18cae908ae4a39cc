//! The Dead letters panel: every message a service gave up on, with the reason, the attempts and
//! the payload (editable), to **Retry** (publish it again to its original topic, fixed or not)
//! or **Discard**. The model is [`eda_core::trace::dead_letters`]; this only draws it.
//!
//! A click whose `detail` is 2 or more (the second click of a double-click) is part of the
//! gesture its first click started, not a new one: the first click's Retry or Discard takes its
//! dead letter off the list, the next one's button moves under the pointer, and the second
//! click would otherwise retry (or discard) that one too.

use std::time::Duration;

use eda_core::services::settings::still_in_use;
use eda_core::services::{FlowField, ServiceId};
use eda_core::trace::dead_letters::{dead_letters, KeptDeadLetter};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::outside_text::{outside, reason, sentence};
use super::DraftField;
use crate::SharedTrace;

/// A retry: the dead letter's id, its service, its original topic, the payload's bytes to send
/// ([`eda_core::services::dead_letter::DeadLetter::retry_bytes`]).
pub type RetryRequest = (String, ServiceId, String, Vec<u8>);

#[derive(Properties, PartialEq)]
pub struct DeadLettersPanelProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded.
    pub version: u64,
    /// The page's list ([`eda_core::state::State::dead_letters`]); `None` for a recording,
    /// whose dead letters are read off its packets.
    #[prop_or_default]
    pub kept: Option<Vec<KeptDeadLetter>>,
    /// The browser's database keeps nothing (it failed, or there is none): the list is in this
    /// page's memory only, and the panel says so.
    #[prop_or_default]
    pub in_memory_only: bool,
    /// Publish a dead letter's message again; no buttons without it (a recording).
    #[prop_or_default]
    pub on_retry: Option<Callback<RetryRequest>>,
    /// Take a dead letter (by id) off the list.
    #[prop_or_default]
    pub on_discard: Option<Callback<String>>,
    /// Publish a poison message.
    #[prop_or_default]
    pub on_poison: Option<Callback<()>>,
    /// The wait between two tries of a failing handler (`?retry_ms=`).
    #[prop_or(eda_core::services::dead_letter::RETRY_AFTER)]
    pub retry_after: Duration,
    /// Why the wait typed or linked was not used, if it was not.
    #[prop_or_default]
    pub retry_error: Option<String>,
    /// Set the wait from its text; no field without it (a recording).
    #[prop_or_default]
    pub on_flow: Option<Callback<(FlowField, String)>>,
    /// Why the last *Retry* published nothing: the letter's id, the sentence, and what follows
    /// it when it repeats ([`eda_core::state::State::redelivery_repeated`]). Said under that
    /// letter's buttons.
    #[prop_or_default]
    pub retry_refusal: Option<(String, String, String)>,
}

#[derive(Properties, PartialEq)]
struct LetterProps {
    letter: KeptDeadLetter,
    on_retry: Option<Callback<RetryRequest>>,
    on_discard: Option<Callback<String>>,
    /// Why its last *Retry* published nothing, and what follows when it repeats.
    refusal: Option<(String, String)>,
}

/// Whether `event` is a new click, not the second (or third) click of a double-click.
fn new_click(event: &MouseEvent) -> bool {
    event.detail() < 2
}

#[component]
fn Letter(props: &LetterProps) -> Html {
    let seen = &props.letter;
    // What the learner typed, kept while the page redraws around it (Yew puts a controlled
    // field back to its value on every render).
    let draft = use_state(|| seen.letter.payload.clone());
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let retry = props.on_retry.clone().map(|on_retry| {
        let (draft, id, service) = (draft.clone(), seen.id.clone(), seen.service);
        let letter = seen.letter.clone();
        Callback::from(move |event: MouseEvent| {
            if new_click(&event) {
                let bytes = letter.retry_bytes(&draft);
                on_retry.emit((id.clone(), service, letter.topic.clone(), bytes));
            }
        })
    });
    let discard = props.on_discard.clone().map(|on_discard| {
        let id = seen.id.clone();
        Callback::from(move |event: MouseEvent| {
            if new_click(&event) {
                on_discard.emit(id.clone())
            }
        })
    });
    let letter = &seen.letter;
    let id = format!("dead-letter-{}", seen.id);
    html! {
        <li key={seen.id.clone()} data-testid="dead-letter" data-id={seen.id.clone()} data-service={seen.service.slug()}
            data-topic={letter.topic.clone()} data-attempts={letter.attempts.to_string()}>
            <p><strong>{ seen.service.name() }</strong>{ " gave up on a message on " }<code>{ outside(&letter.topic) }</code>
                { format!(" after {} attempt{}: ", letter.attempts, if letter.attempts == 1 { "" } else { "s" }) }
                <span data-testid="dead-letter-reason">{ reason(&letter.reason) }</span></p>
            <label for={id.clone()}>{ "Payload (fix it here, then Retry)" }</label>
            <textarea id={id} rows="3" data-testid="dead-letter-payload" value={(*draft).clone()} {oninput} />
            if let Some(hex) = &letter.payload_hex {
                <p class="note" data-testid="dead-letter-not-text">
                    { "This message is not UTF-8 text: each � above stands for bytes that are not. \
                       Retried as it is, unedited, it goes out as the bytes that failed (" }
                    <code>{ eda_core::outside_text::cut(hex, 48).map_or_else(|| hex.clone(), |start| format!("{start}…")) }</code>
                    { "); edited, as the text you leave." }</p>
            }
            if let Some(retry) = retry {
                <button type="button" class="small" data-testid="dead-letter-retry" onclick={retry}
                    aria-label={format!("Retry {}'s dead letter on {}", seen.service.name(), letter.topic)}>{ "Retry" }</button>
            }
            if let Some(discard) = discard {
                <button type="button" class="small" data-testid="dead-letter-discard" onclick={discard}
                    aria-label={format!("Discard {}'s dead letter on {}", seen.service.name(), letter.topic)}>{ "Discard" }</button>
            }
            if let Some((error, repeated)) = &props.refusal {
                <p class="error" role="alert" data-testid="redelivery-error">{ sentence(error) }{ repeated.clone() }</p>
            }
        </li>
    }
}

#[component]
pub fn DeadLettersPanel(props: &DeadLettersPanelProps) -> Html {
    let letters = match &props.kept {
        Some(kept) => kept.clone(),
        None => dead_letters(&props.trace.0.borrow().packets, &[])
            .into_iter()
            .map(|seen| KeptDeadLetter {
                id: format!("packet-{}", seen.seq),
                service: seen.service,
                letter: seen.letter,
                unpublished: false,
            })
            .collect(),
    };
    let poison = props
        .on_poison
        .clone()
        .map(|on_poison| on_poison.reform(|_: MouseEvent| ()));
    html! {
        <section class="card dead-letters" aria-labelledby="dead-letters-title" data-testid="dead-letters-panel">
            <h2 id="dead-letters-title">{ "Dead letters" }
                <span class="muted" data-testid="dead-letters-count">{ format!(" — {}", letters.len()) }</span></h2>
            <p class="muted">
                { "A message a service cannot process goes to deadletter/<service>: at once if it can never be \
                   processed as it is (not JSON, the wrong shape), after three tries if its handler fails. \
                   A message waiting for its next try is kept in the tab's database too: a reload tries it \
                   again when it is due." }
            </p>
            if let Some(poison) = poison {
                <p><button type="button" data-testid="send-poison" onclick={poison}>{ "Send a poison message" }</button>
                    <span class="muted">{ " an order for customer POISON: every handler fails on it." }</span></p>
            }
            if let Some(on_flow) = &props.on_flow {
                <DraftField id="retry-ms" label="Wait between tries (ms)" kind="number" min="0" max="10000" step="100"
                    value={props.retry_after.as_millis().to_string()}
                    on_change={on_flow.reform(|text| (FlowField::RetryAfter, text))} />
                if let Some(error) = &props.retry_error {
                    <p class="error" role="alert" data-testid="retry-error">
                        { still_in_use(error, "wait", props.retry_after) }
                    </p>
                }
            }
            if props.in_memory_only {
                <p class="muted" data-testid="dead-letters-in-memory">
                    { "The browser's database is not keeping anything (the Event store panel says why), so \
                       these dead letters are kept in this page's memory only: a reload loses them. \
                       Retry or Discard them before you reload." }
                </p>
            }
            if letters.is_empty() {
                <p class="empty">{ "None." }</p>
            } else {
                <ul>
                    { for letters.into_iter().rev().map(|letter| {
                        let key = letter.id.clone();
                        let refusal = props.retry_refusal.as_ref()
                            .filter(|(id, _, _)| *id == letter.id)
                            .map(|(_, error, repeated)| (error.clone(), repeated.clone()));
                        html! {
                            <Letter {key} {letter} {refusal} on_retry={props.on_retry.clone()} on_discard={props.on_discard.clone()} />
                        }
                    }) }
                </ul>
            }
        </section>
    }
}
