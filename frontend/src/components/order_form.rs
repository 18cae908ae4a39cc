//! The click-to-order form: edits a draft, validates it with the pure rules, and hands a valid
//! order to OrderService. Every problem is shown next to its field; nothing is published then.

use std::collections::HashMap;

use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::outside_text::sentence;
use eda_core::domain::money::{Cents, MAX_PRICE_CENTS};
use eda_core::domain::order_form::{
    summary, validate, ItemDraft, OrderDraft, ValidOrder, MAX_ITEMS, MAX_QUANTITY,
};

/// Moves the keyboard focus to the input `#<id>`, if there is one (the `items` problem has none).
fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    let element = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}

#[derive(Properties, PartialEq)]
pub struct OrderFormProps {
    /// One order; `BURST` orders come as `BURST` calls of [`OrderFormProps::on_burst`].
    pub on_place: Callback<ValidOrder>,
    /// "Place 10 orders": the same order, ten times at once.
    pub on_burst: Callback<ValidOrder>,
    pub placed_order: Option<Uuid>,
    /// The topic the order went to, as on the wire (`class-7/orders/created` under `?ns=class-7`).
    pub created_topic: AttrValue,
    pub form_error: Option<String>,
    /// Why an order would be refused now; `None` when one can be placed (the buttons'
    /// `data-ready`).
    pub order_gate: Option<String>,
}

/// Which text of the draft an input edits.
#[derive(Clone, Copy)]
enum Part {
    Customer,
    Product(usize),
    Quantity(usize),
    Price(usize),
}

fn set(draft: &mut OrderDraft, part: Part, value: String) {
    match part {
        Part::Customer => draft.customer_id = value,
        Part::Product(row) => {
            if let Some(i) = draft.items.get_mut(row) {
                i.product_id = value
            }
        }
        Part::Quantity(row) => {
            if let Some(i) = draft.items.get_mut(row) {
                i.quantity = value
            }
        }
        Part::Price(row) => {
            if let Some(i) = draft.items.get_mut(row) {
                i.price = value
            }
        }
    }
}

#[component]
pub fn OrderForm(props: &OrderFormProps) -> Html {
    let draft = use_state(OrderDraft::seed_example);
    let errors = use_state(HashMap::<String, String>::new);
    // How many fields need fixing, beside the buttons (two or more: `order_form::summary`).
    let problems_summary = use_state(|| None::<String>);

    let edit = |part: Part| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*draft).clone();
            set(
                &mut next,
                part,
                e.target_unchecked_into::<HtmlInputElement>().value(),
            );
            draft.set(next);
        })
    };
    // An order holds at most MAX_ITEMS lines: at the limit the button is off, and says why.
    let full = draft.items.len() >= MAX_ITEMS;
    let add_item = {
        let draft = draft.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*draft).clone();
            if next.items.len() < MAX_ITEMS {
                next.items.push(ItemDraft::blank());
            }
            draft.set(next);
        })
    };
    let remove_item = |row: usize| {
        let (draft, errors) = (draft.clone(), errors.clone());
        let problems_summary = problems_summary.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*draft).clone();
            if row < next.items.len() {
                next.items.remove(row);
            }
            draft.set(next);
            // Row numbers shift: old messages would point at the wrong row.
            errors.set(HashMap::new());
            problems_summary.set(None);
        })
    };
    // Validates the draft; a valid order goes to `target`, problems go next to their fields.
    let submit_to = |target: Callback<ValidOrder>| {
        let (draft, errors) = (draft.clone(), errors.clone());
        let problems_summary = problems_summary.clone();
        move || match validate(&draft) {
            Ok(order) => {
                errors.set(HashMap::new());
                problems_summary.set(None);
                target.emit(order);
            }
            Err(problems) => {
                problems_summary.set(summary(&problems));
                // The first field to fix gets the focus, as a browser's own validation does.
                if let Some(first) = problems.first() {
                    focus(&first.field.key());
                }
                errors.set(
                    problems
                        .into_iter()
                        .map(|p| (p.field.key(), p.message))
                        .collect(),
                );
            }
        }
    };
    let onsubmit = {
        let submit = submit_to(props.on_place.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            submit();
        })
    };
    // The second (or third) click of a double-click is no new order: a shop's submit button
    // double-clicked is the classic double purchase (a newcomer's break-test, 36-R F1: two
    // orders, two charges). The browser counts the clicks (`detail`), so no clock is read.
    let on_burst = {
        let submit = submit_to(props.on_burst.clone());
        Callback::from(move |e: MouseEvent| {
            if e.detail() < 2 {
                submit();
            }
        })
    };
    let once = Callback::from(|e: MouseEvent| {
        if e.detail() >= 2 {
            // Not submitted: the form's submit is the button's default action.
            e.prevent_default();
        }
    });
    let error_for = |key: &str| -> Html {
        match errors.get(key) {
            Some(message) => html! {
                <span class="field-error" id={format!("error-{key}")} role="alert"
                    data-testid={format!("error-{key}")}>{ message }</span>
            },
            None => html! {},
        }
    };
    let input = |key: String, label: &str, value: &str, part: Part, mode: &'static str| {
        let invalid = errors.contains_key(&key);
        html! {
            <label class="field">
                <span class="label">{ label }</span>
                <input id={key.clone()} type="text" inputmode={mode} value={value.to_owned()}
                    oninput={edit(part)} aria-invalid={invalid.to_string()}
                    aria-describedby={format!("error-{key}")} />
                { error_for(&key) }
            </label>
        }
    };

    let ready = props.order_gate.is_none().to_string();
    let rows = draft
        .items
        .iter()
        .enumerate()
        .map(|(row, item)| {
            html! {
                <fieldset class="item-row" data-testid="item-row">
                    <legend>{ format!("Item {}", row + 1) }</legend>
                    { input(format!("product-id-{row}"), "Product id", &item.product_id, Part::Product(row), "text") }
                    { input(format!("quantity-{row}"), "Quantity", &item.quantity, Part::Quantity(row), "numeric") }
                    { input(format!("price-{row}"), "Unit price", &item.price, Part::Price(row), "decimal") }
                    <button type="button" class="secondary" onclick={remove_item(row)}
                        data-testid={format!("remove-item-{row}")}
                        aria-label={format!("Remove item {}", row + 1)}>{ "Remove" }</button>
                </fieldset>
            }
        })
        .collect::<Html>();

    html! {
        <section class="card order-form" aria-labelledby="order-form-title">
            <h2 id="order-form-title" tabindex="-1">{ "Place an order" }</h2>
            <form {onsubmit} novalidate=true>
                { input("customer-id".into(), "Customer id", &draft.customer_id, Part::Customer, "text") }
                { rows }
                { error_for("items") }
                <p class="hint">{ format!("Up to {MAX_ITEMS} items; quantity 1 to {MAX_QUANTITY}; unit price 0 to {} with at most 2 decimals (cents).", Cents(MAX_PRICE_CENTS)) }</p>
                if full {
                    <p class="hint" id="items-full" data-testid="items-full">
                        { format!("An order holds at most {MAX_ITEMS} items: remove one to add another.") }</p>
                }
                if let Some(text) = &*problems_summary {
                    <p class="error" role="alert" data-testid="form-problems">{ text.clone() }</p>
                }
                <div class="actions">
                    <button type="button" class="secondary" onclick={add_item} data-testid="add-item"
                        disabled={full} aria-describedby={full.then_some("items-full")}>{ "Add item" }</button>
                    <button type="button" class="secondary" onclick={on_burst} data-testid="place-ten" data-ready={ready.clone()}>{ "Place 10 orders" }</button>
                    <button type="submit" class="primary" data-testid="place-order" data-ready={ready} data-gate={props.order_gate.clone()} onclick={once}>{ "Place order" }</button>
                </div>
            </form>
            if let Some(error) = &props.form_error {
                <p class="error" role="alert" data-testid="form-error">{ sentence(error) }</p>
            }
            if let Some(id) = props.placed_order {
                <p class="placed" role="status">
                    { "OrderService published order " }
                    <code data-testid="placed-order-id">{ id.to_string() }</code>
                    { " to " }<code data-testid="placed-order-topic">{ props.created_topic.clone() }</code>
                    { ". Payment and inventory answer on their own time." }
                </p>
            }
        </section>
    }
}
