//! The Dead letters panel: every message a service gave up on, with the reason, the attempts and
//! the payload (editable), to **Retry** (publish it again to its original topic, fixed or not)
//! or **Discard**. The model is [`eda_core::trace::dead_letters`]; this only draws it.
//!
//! A click whose `detail` is 2 or more (the second click of a double-click) is part of the
//! gesture its first click started, not a new one: the first click's Retry or Discard takes its
//! dead letter off the list, the next one's button moves under the pointer, and the second
//! click would otherwise retry (or discard) that one too.
//!
//! The focus stays in the list: when a Retry or Discard takes its dead letter off the list, the
//! same button of the dead letter now in its place (the next one down, or the last one) takes
//! the focus, or the panel's heading when the list is empty. Without it the removed button's
//! focus falls to the page's body, and a keyboard or screen-reader user loses the place.

use std::rc::Rc;
use std::time::Duration;

use eda_core::services::settings::still_in_use;
use eda_core::services::{FlowField, ServiceId};
use eda_core::trace::dead_letters::{
    dead_letters, order_ended_note, KeptDeadLetter, KeptDeadLetters,
};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlTextAreaElement};
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
    /// The page's list ([`eda_core::state::State::dead_letters`]), shared; `None` for a
    /// recording, whose dead letters are read off its packets. The panel draws the newest
    /// [`DRAWN_AT_MOST`].
    #[prop_or_default]
    pub kept: Option<Rc<KeptDeadLetters>>,
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
    /// That its order has ended since ([`order_ended_note`]).
    ended: Option<String>,
    /// Told of a Retry or Discard press: the button pressed and its `data-testid`.
    on_pressed: Callback<(HtmlElement, &'static str)>,
}

/// A pressed Retry or Discard: the button, its dead letter's place in the list (0 is the top),
/// and the button's `data-testid`.
type Pressed = (HtmlElement, u32, &'static str);

/// The place of the dead letter `button` belongs to among its list's items (0 is the top).
fn place_of(button: &HtmlElement) -> u32 {
    let mut place = 0;
    let mut item = button
        .closest("li")
        .ok()
        .flatten()
        .and_then(|li| li.previous_element_sibling());
    while let Some(before) = item {
        place += 1;
        item = before.previous_element_sibling();
    }
    place
}

/// Once `pressed`'s button has left the page, and only if the focus left with it (it is on the
/// body or nowhere), gives it to the same button of the dead letter at the same place, the last
/// one if the list is shorter now, or `heading` if the list is empty.
fn keep_focus(pressed: &mut Option<Pressed>, list: &NodeRef, heading: &NodeRef) {
    let Some((button, _, _)) = pressed.as_ref() else {
        return;
    };
    if button.is_connected() {
        return;
    }
    let Some((_, place, testid)) = pressed.take() else {
        return;
    };
    let document = gloo::utils::document();
    let lost = document
        .active_element()
        .is_none_or(|active| document.body().is_none_or(|body| *body == active));
    if !lost {
        return;
    }
    let buttons = list.cast::<HtmlElement>().and_then(|l| {
        l.query_selector_all(&format!("[data-testid=\"{testid}\"]"))
            .ok()
    });
    let next = buttons.and_then(|all| {
        let last = all.length().checked_sub(1)?;
        all.item(place.min(last))?.dyn_into::<HtmlElement>().ok()
    });
    let _ = next
        .or_else(|| heading.cast::<HtmlElement>())
        .map(|target| target.focus());
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
    let pressed =
        |event: &MouseEvent, on_pressed: &Callback<(HtmlElement, &'static str)>, testid| {
            // Yew listens on the page's root, so the button is found from the event's target.
            let target = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
            let button = target.and_then(|t| t.closest("button").ok().flatten());
            if let Some(button) = button.and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
                on_pressed.emit((button, testid));
            }
        };
    let retry = props.on_retry.clone().map(|on_retry| {
        let (draft, id, service) = (draft.clone(), seen.id.clone(), seen.service);
        let letter = seen.letter.clone();
        let on_pressed = props.on_pressed.clone();
        Callback::from(move |event: MouseEvent| {
            if new_click(&event) {
                pressed(&event, &on_pressed, "dead-letter-retry");
                let bytes = letter.retry_bytes(&draft);
                on_retry.emit((id.clone(), service, letter.topic.clone(), bytes));
            }
        })
    });
    let discard = props.on_discard.clone().map(|on_discard| {
        let id = seen.id.clone();
        let on_pressed = props.on_pressed.clone();
        Callback::from(move |event: MouseEvent| {
            if new_click(&event) {
                pressed(&event, &on_pressed, "dead-letter-discard");
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
            if let Some(why) = &seen.refused {
                <p class="error" data-testid="dead-letter-refused">
                    { "Not on " }<code>{ outside(&eda_core::services::dead_letter::deadletter_topic(seen.service)) }</code>
                    { ": " }{ reason(why) }
                    { ". No other client received it (the broker's access rules, or its limits): \
                       this list holds the only copy. Retry the message, or Discard it once you \
                       have looked at it." }
                </p>
            }
            if let Some(ended) = &props.ended {
                <p class="note" data-testid="dead-letter-order-ended">{ ended.clone() }</p>
            }
            if let Some((error, repeated)) = &props.refusal {
                <p class="error" role="alert" data-testid="redelivery-error">{ sentence(error) }{ repeated.clone() }</p>
            }
        </li>
    }
}

/// How many dead letters the panel draws, the newest: each is a form (a text box, *Retry*,
/// *Discard*), and a flood of junk (1,000 messages, one dead letter per consumer each) drew
/// 4,000 of them at every change of the page, which then took seconds per order (40-AE F1). The
/// rest stay kept (and in the tab's database) and come up as the newer ones are handled.
pub const DRAWN_AT_MOST: usize = 100;

#[component]
pub fn DeadLettersPanel(props: &DeadLettersPanelProps) -> Html {
    let all: Rc<KeptDeadLetters> = match &props.kept {
        Some(kept) => kept.clone(),
        None => Rc::new(
            dead_letters(&props.trace.0.borrow().packets, &[])
                .into_iter()
                .map(|seen| KeptDeadLetter {
                    id: format!("packet-{}", seen.seq),
                    service: seen.service,
                    letter: seen.letter,
                    unpublished: false,
                    refused: None,
                })
                .collect(),
        ),
    };
    let total = all.len();
    let letters = &all[total.saturating_sub(DRAWN_AT_MOST)..];
    let hidden = total - letters.len();
    let list_ref = use_node_ref();
    let heading_ref = use_node_ref();
    let pressed = use_mut_ref(|| None::<Pressed>);
    {
        let (pressed, list_ref, heading_ref) =
            (pressed.clone(), list_ref.clone(), heading_ref.clone());
        use_effect(move || keep_focus(&mut pressed.borrow_mut(), &list_ref, &heading_ref));
    }
    let on_pressed = {
        let pressed = pressed.clone();
        Callback::from(move |(button, testid): (HtmlElement, &'static str)| {
            let place = place_of(&button);
            *pressed.borrow_mut() = Some((button, place, testid));
        })
    };
    // The orders as the Orders panel shows them, for each letter's ended note.
    let trace = props.trace.0.borrow();
    let book = trace.orders_shown();
    let poison = props
        .on_poison
        .clone()
        .map(|on_poison| on_poison.reform(|_: MouseEvent| ()));
    html! {
        <section class="card dead-letters" aria-labelledby="dead-letters-title" data-testid="dead-letters-panel">
            <h2 id="dead-letters-title" tabindex="-1" ref={heading_ref}>{ "Dead letters" }
                <span class="muted" data-testid="dead-letters-count">{ format!(" — {total}") }</span></h2>
            <p class="muted">
                { "A message a service cannot process goes to deadletter/<service>: at once if it can never be \
                   processed as it is (not JSON, the wrong shape), after three tries if its handler fails. \
                   A message waiting for its next try is kept in the tab's database too: a reload tries it \
                   again when it is due. This list is what the services published, or will: one decided while \
                   the broker cannot be reached waits in its service's client and goes out once it \
                   reconnects. A broker that refuses a \
                   dead letter (its access rules) says so under MQTT 5.0, and the letter is marked; under \
                   3.1.1 it drops it without a word." }
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
                <ul ref={list_ref}>
                    { for letters.iter().rev().cloned().map(|letter| {
                        let key = letter.id.clone();
                        let ended = order_ended_note(&letter.letter, &book);
                        let refusal = props.retry_refusal.as_ref()
                            .filter(|(id, _, _)| *id == letter.id)
                            .map(|(_, error, repeated)| (error.clone(), repeated.clone()));
                        html! {
                            <Letter {key} {letter} {refusal} {ended} on_retry={props.on_retry.clone()} on_discard={props.on_discard.clone()}
                                on_pressed={on_pressed.clone()} />
                        }
                    }) }
                </ul>
                if hidden > 0 {
                    <p class="dropped" data-testid="dead-letters-hidden" data-count={hidden.to_string()}>{ format!(
                        "{hidden} older dead letters not shown: the list draws the newest {DRAWN_AT_MOST} \
                         of the {total} kept (all of them are kept, in the tab's database too). Retry or \
                         Discard newer ones to bring older ones up."
                    ) }</p>
                }
            }
        </section>
    }
}
