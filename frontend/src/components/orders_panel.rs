//! The Orders panel: one row per order as the wire told it (id, customer, total, state, the
//! steps taken and the compensations made, why it was cancelled, its time to an outcome),
//! newest first; with PaymentService's instances competing, which instance charged and which
//! refunded. An order whose start the page forgot (Clear) shows "—" for what it no longer
//! knows; one nobody created on the wire is marked as unknown and counted apart; one restored
//! from the browser's database after a reload is marked so, and the wire moves it on. While the
//! wire has not shown an outcome OrderService recorded (the broker is away), the row says so,
//! from OrderService's store. Each row can
//! export its order's saga as an OpenTelemetry trace (OTLP/JSON). On a narrow screen (a phone)
//! each row is drawn as a block of labelled lines instead (styles.css, each cell's
//! `data-label`), so nothing scrolls sideways. The model is [`eda_core::trace::orders`]; this
//! only draws it.

use eda_core::domain::order::OrderStatus;
use eda_core::services::instances::client_label;
use eda_core::store::EventStore;
use eda_core::trace::orders::{
    amount_text, Compensation, OrderRow, ParticipantDown, Start, StepSeen,
};
use eda_core::trace::playback::Source;
use yew::prelude::*;

use super::otlp_export::{export_order, message_view, ExportMessage};
use super::outside_text::{outside, outside_cut, reason_cut};
use crate::hooks::use_busy;
use crate::SharedTrace;

/// How many rows are drawn; the rest are counted.
const ROWS_DRAWN: usize = 100;
/// How many while the page is busy (`data-busy`, a sustained load): at 100 orders a second each
/// report (every 400 ms) replaced some 40 of the 100 rows, and the table laid all of them out
/// again (issue 14). The rest are drawn again once the page is calm.
pub const BUSY_ROWS_DRAWN: usize = 25;
/// How much of a customer id, and of a reason, a cell shows; the whole is its title.
const CUSTOMER_CHARS: usize = 40;
const REASON_CHARS: usize = 160;

#[derive(Properties, PartialEq)]
pub struct OrdersPanelProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded or the playback changed.
    pub version: u64,
    /// Publish an order's `orders/created` again (its packet's seq); no button without it.
    #[prop_or_default]
    pub on_deliver_again: Option<Callback<u64>>,
    /// Say which client published each payment result and refund (PaymentService runs several
    /// instances, competing for its work).
    #[prop_or_default]
    pub show_handlers: bool,
    /// The services' sessions are clean (`?session=clean`): a crashed participant's broker
    /// keeps nothing for it.
    #[prop_or_default]
    pub clean_session: bool,
}

/// " by payment-2", after a step or compensation, when the panel names the instances.
fn by(client: Option<&str>, shown: bool) -> Html {
    match client.filter(|_| shown) {
        Some(client) => html! {
            <span class="by" data-testid="order-handler" data-client={client.to_owned()}>
                { " by " }{ outside(client_label(client)) }</span>
        },
        None => Html::default(),
    }
}

fn status_symbol(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Completed => "✓",
        OrderStatus::Cancelled => "✕",
        _ => "◔",
    }
}

/// What a cell says of a fact the row does not know, and why (its title).
fn unknown_fact(why: &'static str) -> Html {
    html! { <span class="muted" title={why}>{ "—" }</span> }
}

/// Which services the learner has crashed (live only): OrderService, then PaymentService and
/// InventoryService.
#[derive(Clone, Copy)]
struct Crashed {
    order: bool,
    participants: [ParticipantDown; 2],
}

/// One order's row. `store` is OrderService's event store when the book has seen every order
/// (live), for its word on what the wire has not shown yet and on a restored order's time.
fn row_view(
    row: &OrderRow,
    store: Option<&EventStore>,
    on_export: &Callback<uuid::Uuid>,
    on_again: Option<&Callback<u64>>,
    handlers: bool,
    recording: bool,
    crashed: Crashed,
) -> Html {
    let order_crashed = crashed.order;
    let id = row.order_id.to_string();
    let why_unknown = row.start.why_not_known(recording);
    let stored = store.and_then(|store| store.fold(row.order_id));
    let stored = stored.as_ref();
    // Restored after a reload: the packets' clock of the page before went with it; the store's
    // `recordedAt` of its creation and its end still tell (42-AM F2).
    let restored_time = (row.start == Start::Restored)
        .then(|| store.and_then(|store| store.time_to_outcome(row.order_id)))
        .flatten();
    let time = match (row.time_to_outcome(), restored_time, row.ended) {
        (Some(t), _, _) => html! { { format!("{} ms", t.as_millis()) } },
        (None, Some(t), _) => {
            html! {
                <span title="restored after a reload: from the event store, OrderCreated to the event that ended it, by their recordedAt">
                    { format!("{} ms", t.as_millis()) }
                </span>
            }
        }
        (None, None, Some(_)) => unknown_fact(why_unknown),
        // Ended before a reload (restored, its outcome not seen on the wire since): not running.
        (None, None, None) if row.status.is_terminal() => unknown_fact(why_unknown),
        (None, None, None) => html! { { "…" } },
    };
    let customer = match &row.customer_id {
        Some(customer) => outside_cut(customer, CUSTOMER_CHARS),
        None => unknown_fact(why_unknown),
    };
    let total = match row.total {
        Some(total) => html! { <span title={total.to_string()}>{ amount_text(total) }</span> },
        None => unknown_fact(why_unknown),
    };
    let (status, state) = if let Some(note) = row.unknown_note(recording) {
        let state = html! {
            <><span aria-hidden="true">{ "?" }</span>{ " Unknown order" }
              <span class="note">{ note }</span></>
        };
        ("Unknown", state)
    } else if let (true, Some(reason)) = (row.is_dead_lettered(), &row.dead_lettered) {
        // No order exists in OrderService's store, so no deadline ends it: only a Retry does.
        let state = html! {
            <><span aria-hidden="true">{ "✕" }</span>{ " Dead-lettered" }
              { " " }<span class="note line" data-testid="order-dead-lettered">
                { "OrderService could not process its orders/created (" }{ reason_cut(reason, REASON_CHARS) }
                { "), so no order exists and no deadline will end it: fix and Retry it under Dead letters" }</span></>
        };
        ("DeadLettered", state)
    } else if let (true, Some(reason)) = (row.is_refused(), &row.refused) {
        // The broker published nothing: no participant heard of it, no deadline ends it.
        let state = html! {
            <><span aria-hidden="true">{ "✕" }</span>{ " Refused by the broker" }
              { " " }<span class="note line" data-testid="order-refused">
                { format!("the broker answered its orders/created with {reason}: it published nothing, so no other service heard of the order, nothing was charged or reserved, and no deadline will end it. {}", row.refused_advice().0) }</span></>
        };
        ("Refused", state)
    } else {
        let status = row.status.name();
        let state = html! {
            <><span aria-hidden="true">{ status_symbol(row.status) }</span>{ format!(" {status}") }</>
        };
        (status, state)
    };
    let double = row.charges() > 1;
    // A cancelled order whose compensation the wire has not shown yet: OrderService sends it
    // again, and gives up after its last try.
    let compensating = row.compensating(crashed.participants);
    // … or one a participant answered "nothing to undo" for, having forgotten it (a reload).
    let forgotten = row.forgotten();
    let decided = row.decided_note(stored);
    let undone_after = row.undone_after_completion();
    let other_outcome = row.other_outcome_note();
    let undelivered = row.undelivered_note();
    html! {
        <tr key={id.clone()} role="row" data-testid="order-row" data-order-id={id.clone()} data-status={status}
            data-start={row.start.word()}
            data-charges={row.charges().to_string()} data-reservations={row.reservations().to_string()}
            data-compensations={row.compensations.len().to_string()}
            class={classes!("order-row", status.to_lowercase(), double.then_some("double-charge"))}>
            <td role="cell" data-label="Order"><code title={id.clone()}>{ &id[..8] }</code></td>
            <td role="cell" data-label="Customer" data-testid="order-customer">{ customer }</td>
            <td role="cell" class="num" data-label="Total" data-testid="order-total">{ total }</td>
            // Each note on its own line, and a space before it: innerText (copy and paste,
            // screen readers) would otherwise join its first word to the status's last.
            <td role="cell" class="status" data-label="State" data-testid="order-state">{ state }
                if let Some(mark) = row.start.mark() {
                    { " " }<span class="note line restored" data-testid="order-restored">{ mark }</span>
                }
                if let Some(text) = decided {
                    { " " }<span class="note line decided" data-testid="order-decided">{ text }</span>
                }
                if let Some(text) = undelivered {
                    { " " }<span class="note line forgotten" data-testid="order-undelivered">{ text }</span>
                }
                if let Some(text) = compensating {
                    { " " }<span class="note line compensating" data-testid="order-compensating">{ text }</span>
                }
                if let Some(text) = forgotten {
                    { " " }<span class="note line forgotten" data-testid="order-forgotten">{ text }</span>
                }
                if let Some(text) = undone_after {
                    { " " }<span class="note line forgotten" data-testid="order-undone-after">{ text }</span>
                }
                if let Some(text) = other_outcome {
                    { " " }<span class="note line forgotten" data-testid="order-other-outcome">{ reason_cut(&text, 3 * REASON_CHARS) }</span>
                }
            </td>
            <td role="cell" data-label="Steps">
                <ul class="steps">
                    { for row.steps.iter().map(|s: &StepSeen| html! {
                        <li class={classes!(s.failed().then_some("failure"))} data-testid="order-step">
                            { reason_cut(&s.describe(), REASON_CHARS) }{ by(row.step_by(s), handlers && s.is_payment()) }
                            if let Some(unheard) = row.unheard_step(s, order_crashed) {
                                <span class="note" data-testid="order-unheard-step">{ format!(" ({unheard})") }</span>
                            }
                            if let Some(kept) = row.kept_step(s) {
                                <span class="note" data-testid="order-kept-step">{ format!(" ({kept})") }</span>
                            }</li>
                    }) }
                    { for row.compensations.iter().map(|c: &Compensation| html! {
                        <li class="compensation" data-testid="order-compensation">
                            { c.describe() }{ by(row.compensation_by(c), handlers && c.is_refund()) }
                            if let Some(unseen) = row.unseen_step(c) {
                                <span class="note" data-testid="order-unseen-step">{ format!(" ({unseen})") }</span>
                            }
                            if let Some(then) = row.answered_before_a_step(c) {
                                <span class="note" data-testid="order-answered-before">{ format!(" ({then})") }</span>
                            }
                            if let Some(why) = row.not_taken(c) {
                                <span class="note" data-testid="order-not-taken">{ format!(" ({why})") }</span>
                            }</li>
                    }) }
                    if double {
                        <li class="failure" data-testid="order-double-charge">{ format!("✕ charged {} times", row.charges()) }</li>
                    }
                    if row.reservations() > 1 {
                        <li class="failure" data-testid="order-double-reservation">{ format!("✕ reserved {} times", row.reservations()) }</li>
                    }
                </ul>
            </td>
            <td role="cell" class={classes!(row.reason.is_none().then_some("no-value"))} data-label="Cancelled because"
                data-testid="order-reason">{ outside_cut(row.reason.as_deref().unwrap_or_default(), REASON_CHARS) }</td>
            <td role="cell" class="num" data-label="Time to outcome" data-testid="order-time">{ time }</td>
            <td role="cell" data-label="Trace">
                <button type="button" class="small" data-testid="order-export-otlp"
                    aria-label={format!("Export the saga of order {} as an OpenTelemetry trace (OTLP JSON)", &id[..8])}
                    title="This order's saga as an OpenTelemetry trace (OTLP/JSON): open it in Jaeger or any OTLP viewer"
                    onclick={{ let on_export = on_export.clone(); let order_id = row.order_id;
                        Callback::from(move |_: MouseEvent| on_export.emit(order_id)) }}>
                    { "Export trace (OTLP)" }</button>
            </td>
            <td role="cell" class={classes!(row.created_seq.is_none().then_some("no-value"))}
                data-label="Redelivery">
                // Not for an order the broker refuses every time (too large).
                if let (Some(on_again), Some(seq), true) = (on_again, row.created_seq, !row.is_refused() || row.refused_advice().1) {
                    <button type="button" class="small" data-testid="order-deliver-again"
                        aria-label={format!("Deliver order {} again", &id[..8])}
                        onclick={{ let on_again = on_again.clone(); Callback::from(move |_: MouseEvent| on_again.emit(seq)) }}>
                        { "Deliver again" }</button>
                }
            </td>
        </tr>
    }
}

#[component]
pub fn OrdersPanel(props: &OrdersPanelProps) -> Html {
    let otlp_message = use_state(|| None::<ExportMessage>);
    let busy = use_busy();
    let rows_drawn = if busy { BUSY_ROWS_DRAWN } else { ROWS_DRAWN };
    let on_export = {
        let trace = props.trace.clone();
        let otlp_message = otlp_message.clone();
        Callback::from(move |order_id| otlp_message.set(export_order(&trace.0.borrow(), order_id)))
    };
    let trace = props.trace.0.borrow();
    let book = trace.orders_shown();
    // Live, the book has seen every order; paused or replaying, only the packets shown.
    let every_order = matches!(book, std::borrow::Cow::Borrowed(_));
    let total = book.len();
    let counts = book.counts();
    let (completed, cancelled, open) = (counts.completed, counts.cancelled, counts.open);
    let recording = trace.playback.source() == Source::Recording;
    // Live only: a recording's rows say what its packets say.
    let down = |service: eda_core::services::ServiceId| {
        !recording && trace.outage_ledger.is_down(service.into())
    };
    let crashed = Crashed {
        order: down(eda_core::services::ServiceId::Order),
        participants: [
            eda_core::services::ServiceId::Payment,
            eda_core::services::ServiceId::Inventory,
        ]
        .map(|service| {
            if recording {
                ParticipantDown::No
            } else {
                trace
                    .outage_ledger
                    .participant_down(service.into(), props.clean_session)
            }
        }),
    };
    let rows = book
        .rows()
        .rev()
        .take(rows_drawn)
        .map(|row| {
            // OrderService's word on an outcome the wire has not shown yet: live only (a
            // paused view or a recording shows what its packets say).
            row_view(
                row,
                every_order.then_some(&trace.store),
                &on_export,
                props.on_deliver_again.as_ref(),
                props.show_handlers,
                recording,
                crashed,
            )
        })
        .collect::<Html>();
    let hidden = total.saturating_sub(rows_drawn) as u64 + book.dropped();
    // After a reload they include the orders restored from the tab's database (37-U F4).
    let restored = book.rows().any(|r| r.start == Start::Restored);
    let counted = if every_order && restored {
        "The counts above are of every order seen since the page loaded (or Clear), and of \
         those restored from the browser's database after the reload."
    } else if every_order {
        "The counts above are of every order seen since the page loaded (or Clear)."
    } else {
        "The counts above are of the orders in the packets shown."
    };
    let kept = book.capacity();
    // A break-test read "575 older orders not shown: the panel keeps the newest 500" as 575
    // kept: those no longer kept are said apart.
    let drawn_now = total.min(rows_drawn);
    let no_longer_kept = match book.dropped() {
        0 => String::new(),
        dropped => format!(
            ", and {dropped} older ones it no longer keeps (only the newest {kept} are kept)"
        ),
    };
    // Open on the wire, ended in OrderService's store (decided while the broker was away).
    let decided = if every_order {
        book.open_decided_in(&trace.store)
    } else {
        0
    };
    let decided_note = match decided {
        0 => String::new(),
        1 => "; 1 open order ended in OrderService's store already: its outcome is not on the wire yet".to_owned(),
        n => format!("; {n} open orders ended in OrderService's store already: their outcomes are not on the wire yet"),
    };
    let busy_note = if busy {
        format!(" while the page is busy (the newest {ROWS_DRAWN} once it is calm)")
    } else {
        String::new()
    };
    html! {
        <section class="card orders" aria-labelledby="orders-title" data-testid="orders-panel">
            <h2 id="orders-title">{ "Orders" }
                <span class="muted" data-testid="orders-count" data-total={total.to_string()}
                    data-completed={completed.to_string()} data-cancelled={cancelled.to_string()}
                    data-open={open.to_string()} data-unknown={counts.unknown.to_string()}
                    data-dead-lettered={counts.dead_lettered.to_string()} data-refused={counts.refused.to_string()}
                    data-decided={decided.to_string()}>
                    { format!(" — {}{decided_note}", counts.summary()) }</span></h2>
            if total == 0 {
                <p class="empty">{ "None yet: every order seen on the wire gets a row, with its saga." }</p>
            } else {
                <div class="table-scroll">
                    // The roles keep it a table for screen readers when a narrow screen stacks
                    // its rows into blocks (styles.css), which drops the table's own semantics.
                    <table role="table" aria-labelledby="orders-title">
                        <thead role="rowgroup"><tr role="row">
                            <th role="columnheader" scope="col">{ "Order" }</th><th role="columnheader" scope="col">{ "Customer" }</th>
                            <th role="columnheader" scope="col">{ "Total" }</th><th role="columnheader" scope="col">{ "State" }</th>
                            <th role="columnheader" scope="col">{ "Steps and compensations" }</th>
                            <th role="columnheader" scope="col">{ "Cancelled because" }</th>
                            <th role="columnheader" scope="col">{ "Time to outcome" }</th>
                            <th role="columnheader" scope="col">{ "Trace" }</th>
                            <th role="columnheader" scope="col">{ "Redelivery" }</th>
                        </tr></thead>
                        <tbody role="rowgroup">{ rows }</tbody>
                    </table>
                </div>
            }
            { message_view(otlp_message.as_ref()) }
            if hidden > 0 {
                <p class="dropped" data-testid="orders-hidden">{ format!(
                    "{hidden} older orders not shown: the panel draws the newest \
                     {drawn_now}{busy_note} of the {total} it keeps{no_longer_kept}. {counted}"
                ) }</p>
            }
        </section>
    }
}
