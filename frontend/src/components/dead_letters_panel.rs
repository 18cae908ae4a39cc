//! The Dead letters panel: every message a service gave up on, with the reason, the attempts and
//! the payload (editable), to **Retry** (publish it again to its original topic, fixed or not)
//! or **Discard**. The model is [`eda_core::trace::dead_letters`]; this only draws it.

use eda_core::services::ServiceId;
use eda_core::trace::dead_letters::{dead_letters, DeadLetterSeen};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::outside_text::{outside, reason};
use crate::SharedTrace;

/// A retry: the dead letter's packet, its service, its original topic, the payload to send.
pub type RetryRequest = (u64, ServiceId, String, String);

#[derive(Properties, PartialEq)]
pub struct DeadLettersPanelProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded.
    pub version: u64,
    /// Dead letters already retried or discarded.
    pub handled: Vec<u64>,
    /// Publish a dead letter's message again; no buttons without it (a recording).
    #[prop_or_default]
    pub on_retry: Option<Callback<RetryRequest>>,
    #[prop_or_default]
    pub on_discard: Option<Callback<u64>>,
    /// Publish a poison message.
    #[prop_or_default]
    pub on_poison: Option<Callback<()>>,
}

#[derive(Properties, PartialEq)]
struct LetterProps {
    letter: DeadLetterSeen,
    on_retry: Option<Callback<RetryRequest>>,
    on_discard: Option<Callback<u64>>,
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
        let (draft, seq, service) = (draft.clone(), seen.seq, seen.service);
        let topic = seen.letter.topic.clone();
        Callback::from(move |_: MouseEvent| {
            on_retry.emit((seq, service, topic.clone(), (*draft).clone()));
        })
    });
    let discard = props.on_discard.clone().map(|on_discard| {
        let seq = seen.seq;
        Callback::from(move |_: MouseEvent| on_discard.emit(seq))
    });
    let letter = &seen.letter;
    let id = format!("dead-letter-{}", seen.seq);
    html! {
        <li key={seen.seq} data-testid="dead-letter" data-seq={seen.seq.to_string()} data-service={seen.service.slug()}
            data-topic={letter.topic.clone()} data-attempts={letter.attempts.to_string()}>
            <p><strong>{ seen.service.name() }</strong>{ " gave up on a message on " }<code>{ outside(&letter.topic) }</code>
                { format!(" after {} attempt{}: ", letter.attempts, if letter.attempts == 1 { "" } else { "s" }) }
                <span data-testid="dead-letter-reason">{ reason(&letter.reason) }</span></p>
            <label for={id.clone()}>{ "Payload (fix it here, then Retry)" }</label>
            <textarea id={id} rows="3" data-testid="dead-letter-payload" value={(*draft).clone()} {oninput} />
            if let Some(retry) = retry {
                <button type="button" class="small" data-testid="dead-letter-retry" onclick={retry}
                    aria-label={format!("Retry {}'s dead letter on {}", seen.service.name(), letter.topic)}>{ "Retry" }</button>
            }
            if let Some(discard) = discard {
                <button type="button" class="small" data-testid="dead-letter-discard" onclick={discard}
                    aria-label={format!("Discard {}'s dead letter on {}", seen.service.name(), letter.topic)}>{ "Discard" }</button>
            }
        </li>
    }
}

#[component]
pub fn DeadLettersPanel(props: &DeadLettersPanelProps) -> Html {
    let letters = dead_letters(&props.trace.0.borrow().packets, &props.handled);
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
                   processed as it is (not JSON, the wrong shape), after three tries if its handler fails." }
            </p>
            if let Some(poison) = poison {
                <p><button type="button" data-testid="send-poison" onclick={poison}>{ "Send a poison message" }</button>
                    <span class="muted">{ " an order for customer POISON: every handler fails on it." }</span></p>
            }
            if letters.is_empty() {
                <p class="empty">{ "None." }</p>
            } else {
                <ul>
                    { for letters.into_iter().rev().map(|letter| {
                        let key = letter.seq;
                        html! {
                            <Letter {key} {letter} on_retry={props.on_retry.clone()} on_discard={props.on_discard.clone()} />
                        }
                    }) }
                </ul>
            }
        </section>
    }
}
