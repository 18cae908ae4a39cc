//! The read side (CQRS): QueryService's read model, which it projects from the event store's
//! events it receives on `eventstore/orders/+` (a copy kept in step by the runtime,
//! [`eda_core::trace::Trace::read_model`]). The panel shows how far it is behind the store
//! (events and milliseconds), answers questions from it (orders by customer, by status, the
//! totals: stale right after an order when a projection delay is set, then caught up), sets
//! the delay (`?projection_ms=`), and rebuilds a read model from the event store, from position
//! 0 up to the end or to a chosen position (time travel), with its progress, saying whether it
//! equals the live one. The lag line also says which events QueryService received and did not
//! project, and why ([`eda_core::store::NotProjected`]): its own event log is not on the page.

use std::time::Duration;

use eda_core::domain::money::amount_text;
use eda_core::domain::order::OrderStatus;
use eda_core::domain::Timestamp;
use eda_core::services::settings::still_in_use;
use eda_core::services::FlowField;
use eda_core::services::ServiceId;
use eda_core::store::{lag_text, rebuilt_heading, Lag, QueryCrash, ReadModel, Rebuild, Totals};
use eda_core::trace::playback::Source;
use eda_core::trace::Trace;
use gloo::timers::callback::Timeout;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::outside_text::outside;
use super::DraftField;
use crate::{clock, SharedTrace};

/// How many events one step of a rebuild projects before letting the page draw.
const REBUILD_STEP: usize = 250;
/// How many answer rows are drawn; the rest are counted.
const ROWS_DRAWN: usize = 50;

#[derive(Properties, PartialEq)]
pub struct QueryPanelProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded.
    pub version: u64,
    /// The projection delay in use.
    pub projection_delay: Duration,
    /// Set a saga setting from its text (here the projection delay).
    pub on_flow: Callback<(FlowField, String)>,
    /// Why the projection delay typed or linked was not used, if it was not.
    #[prop_or_default]
    pub delay_error: Option<String>,
    /// Make a rebuilt read model QueryService's (none while a recording is shown, or while
    /// QueryService is crashed: a crashed process rebuilds nothing).
    #[prop_or_default]
    /// Its answer: `Err` with how many events QueryService still holds in its projection
    /// delay, when it did not take the model for that.
    pub on_replace: Option<Callback<ReadModel, Result<(), usize>>>,
    /// QueryService is crashed (the learner pressed *Crash*): a rebuild that differs from its
    /// read model does not replace it, and says so.
    #[prop_or_default]
    pub query_crashed: bool,
}

/// What the Query box asks.
#[derive(Debug, Clone, PartialEq)]
enum Question {
    Customer(String),
    Status(OrderStatus),
}

/// Where a rebuild is.
#[derive(Debug, Clone, PartialEq)]
enum Rebuilt {
    Idle,
    Running {
        done: u64,
        total: u64,
    },
    Done {
        model: ReadModel,
        /// The position typed (`None`: empty), which may be past the store's end.
        asked: Option<u64>,
        up_to: Option<u64>,
        equals_live: Option<bool>,
        /// It differed and was offered to QueryService: taken (`Ok`), or not, while it held
        /// this many events in its projection delay (`Err`). `None`: not offered.
        replaced: Option<Result<(), usize>>,
        /// Why it would not have been offered, as the page was when Rebuild was pressed (said
        /// if it differed and was not offered): read then, not at each render, or a Restart
        /// afterwards turned "QueryService is crashed" into "a recording is shown" (40-AD F2).
        kept: &'static str,
    },
    Refused(String),
}

fn totals_text(totals: &Totals) -> String {
    format!(
        "{} order{}: {} completed, {} cancelled, {} open; revenue {}",
        totals.orders,
        if totals.orders == 1 { "" } else { "s" },
        totals.completed,
        totals.cancelled,
        totals.pending,
        totals.revenue
    )
}

#[component]
pub fn QueryPanel(props: &QueryPanelProps) -> Html {
    let question = use_state(|| Question::Customer("C123".to_owned()));
    let rebuilt = use_state(|| Rebuilt::Idle);
    let up_to = use_state(String::new);
    let trace = props.trace.0.borrow();
    let (model, store) = (&trace.read_model, &trace.store);
    let lag = clock::wall_clock().map(|now| Lag::of(model, store, now));
    // While behind, the milliseconds keep growing: redraw every quarter second.
    let tick = use_state(|| 0u32);
    {
        let behind = lag.is_some_and(|l| l.events_behind > 0);
        let tick = tick.clone();
        use_effect_with((behind, *tick), move |(behind, _)| {
            let timer = behind.then(|| Timeout::new(250, move || tick.set(tick.wrapping_add(1))));
            move || drop(timer)
        });
    }

    let on_kind = {
        let question = question.clone();
        Callback::from(move |e: Event| {
            let kind = e.target_unchecked_into::<HtmlSelectElement>().value();
            question.set(match OrderStatus::from_name(&kind) {
                Some(status) => Question::Status(status),
                None => Question::Customer("C123".to_owned()),
            });
        })
    };
    let on_customer = {
        let question = question.clone();
        Callback::from(move |e: InputEvent| {
            let text = e.target_unchecked_into::<HtmlInputElement>().value();
            question.set(Question::Customer(text));
        })
    };
    let answer: Vec<_> = match &*question {
        Question::Customer(customer) => model.by_customer_typed(customer),
        Question::Status(status) => model.by_status(*status),
    };
    let rows = answer.iter().rev().take(ROWS_DRAWN).map(|view| {
        html! {
            <tr key={view.order_id.to_string()} data-testid="query-answer-row" data-order-id={view.order_id.to_string()}
                data-status={view.status.name()}>
                <td><code>{ view.order_id.to_string() }</code></td>
                <td>{ outside(&view.customer_id) }</td>
                <td>{ view.status.name() }</td>
                <td class="num">{ amount_text(view.total_amount) }</td>
                <td class="num">{ view.version }</td>
            </tr>
        }
    });

    let on_up_to = {
        let up_to = up_to.clone();
        Callback::from(move |e: InputEvent| {
            up_to.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let rebuild = {
        let (trace, rebuilt, up_to) = (props.trace.clone(), rebuilt.clone(), up_to.clone());
        let on_replace = props.on_replace.clone();
        let kept = if props.query_crashed {
            ": QueryService was crashed, so its read model was left as it is. Restart it if it \
             still is, then Rebuild again to replace it."
        } else {
            ": a recording was shown, so the live read model was left as it is."
        };
        Callback::from(move |_: MouseEvent| {
            let limit = match up_to.trim() {
                "" => None,
                text => match text.parse::<u64>() {
                    Ok(p) => Some(p),
                    Err(e) => {
                        let why = if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) {
                            "too large for a position"
                        } else {
                            "not a position: a whole number, or empty for the whole store"
                        };
                        rebuilt.set(Rebuilt::Refused(format!("\"{text}\" is {why}.")));
                        return;
                    }
                },
            };
            rebuilt.set(Rebuilt::Running { done: 0, total: 0 });
            let head = trace.0.borrow().store.head();
            // Up to a position past the store's end is the whole store (and the result says so).
            let (asked, limit) = (limit, limit.filter(|&p| p < head));
            step(
                trace.clone(),
                rebuilt.clone(),
                Rebuild::new(limit),
                (asked, limit),
                (on_replace.clone(), kept),
            );
        })
    };
    let progress = match &*rebuilt {
        Rebuilt::Idle => Html::default(),
        Rebuilt::Running { done, total } => html! {
            <p data-testid="rebuild-progress" data-done={done.to_string()} data-total={total.to_string()}>
                <label for="rebuild-bar">{ format!("Rebuilding: {done} of {total} events") }</label>
                <progress id="rebuild-bar" max={total.max(&1).to_string()} value={done.to_string()} />
            </p>
        },
        Rebuilt::Done {
            model: rebuilt,
            asked,
            up_to,
            equals_live,
            replaced,
            kept,
        } => {
            let position = rebuilt.position();
            const DIFFERED: &str = "It differed from the live read model at that position (still \
                behind, or QueryService missed events or took some the store does not have)";
            html! {
                <div data-testid="rebuild-result" data-position={position.to_string()}
                    data-equals-live={equals_live.map(|e| e.to_string()).unwrap_or_default()}>
                    <p>{ rebuilt_heading(*asked, *up_to, position) }<span data-testid="rebuild-totals">{ totals_text(&rebuilt.totals()) }</span>{ "." }</p>
                    { match equals_live {
                        Some(true) => html! { <p class="ok">{ "It equalled the live read model at that position: the projection is a function of the events." }</p> },
                        Some(false) => match replaced {
                            Some(Ok(())) => html! { <p class="error" role="alert" data-testid="rebuild-replaced">{ DIFFERED }{ ": QueryService now answers from the rebuilt one." }</p> },
                            Some(Err(pending)) => html! { <p class="muted" data-testid="rebuild-not-replaced" data-pending={pending.to_string()}>{ behind_text(*pending) }</p> },
                            None => html! { <p class="error" role="alert" data-testid="rebuild-not-replaced">{ DIFFERED }{ kept }</p> },
                        },
                        None => html! { <p class="muted">{ "A point in the past: not compared with the live read model." }</p> },
                    } }
                </div>
            }
        }
        Rebuilt::Refused(why) => {
            html! { <p class="error" role="alert" data-testid="rebuild-error">{ why.clone() }</p> }
        }
    };

    let position = model.position();
    let head = store.head();
    html! {
        <section class="card read-model" aria-labelledby="read-model-title" data-testid="read-model">
            <h2 id="read-model-title">{ "Read model (QueryService)" }</h2>
            // The filter as on the wire, under `?ns=` with its levels (43-AP F5).
            <p class="muted">{ format!("QueryService is its own MQTT client: it subscribes to {} and projects each event OrderService appends into this read model (CQRS: the writes go to the event store, the questions to the read model). With a projection delay, its answers are stale until it catches up. A new delay applies to the events that arrive after it: those already waiting keep theirs.", trace.packets.namespace().wire("eventstore/orders/+")) }</p>
            <DraftField id="projection-ms" label="Projection delay (ms)" kind="number" min="0" max="60000" step="100"
                value={props.projection_delay.as_millis().to_string()}
                on_change={props.on_flow.reform(|text| (FlowField::ProjectionDelay, text))} />
            if let Some(error) = &props.delay_error {
                <p class="error" role="alert" data-testid="projection-error">
                    { still_in_use(error, "delay", props.projection_delay) }
                </p>
            }
            { match lag.map(|lag| (lag, crash_of(&trace).filter(|_| lag.events_behind > 0))) {
                Some((lag, crash)) => {
                    let text = lag_text(lag, model, store, &trace.projecting, crash,
                        &trace.not_projected, trace.packets.namespace());
                    html! {
                    <p data-testid="query-lag" data-events-behind={lag.events_behind.to_string()}
                        data-ms-behind={lag.ms_behind.to_string()} data-skipped={lag.skipped.to_string()}
                        data-held={model.held().to_string()}
                        data-not-projected={trace.not_projected.count().to_string()}
                        class={classes!((lag.events_behind > 0 || model.held() > 0
                            || trace.not_projected.count() > 0).then_some("behind"))}>
                        { text.line }
                        if let Some(lost) = text.lost {
                            <span data-testid="query-lost-in-crash">{ format!(" {lost}") }</span>
                        }
                        { text.not_projected.map(|line| format!(" {line}")).unwrap_or_default() }
                    </p>
                    }
                },
                None => Html::default(),
            } }
            <p data-testid="query-totals">{ totals_text(&model.totals()) }</p>
            <fieldset class="query-box">
                <legend>{ "Query" }</legend>
                <label for="query-kind">{ "Orders " }</label>
                <select id="query-kind" data-testid="query-kind" onchange={on_kind}>
                    <option value="customer" selected={matches!(*question, Question::Customer(_))}>{ "of customer" }</option>
                    { for OrderStatus::ALL.iter().map(|s| html! {
                        <option value={s.name()} selected={*question == Question::Status(*s)}>{ format!("in status {}", s.name()) }</option>
                    }) }
                </select>
                if let Question::Customer(customer) = &*question {
                    <input id="query-customer" data-testid="query-customer" aria-label="Customer id" value={customer.clone()} oninput={on_customer} />
                }
                // No id typed: no question asked (a newcomer's break-test read "0 orders" as an
                // answer).
                if matches!(&*question, Question::Customer(c) if c.trim().is_empty()) {
                    <p class="muted" data-testid="query-hint">
                        { "Type a customer id (C123 in the form's default order) to ask for that customer's orders: the id must match exactly, capitals included." }
                    </p>
                } else {
                    <p data-testid="query-answer" data-count={answer.len().to_string()} data-position={position.to_string()}
                        data-head={head.to_string()}>
                        { format!("{} order{}, answered from the read model at position {position} (the store is at {head}).",
                            answer.len(), if answer.len() == 1 { "" } else { "s" }) }
                    </p>
                }
                // The table draws the newest rows only: said, so it and the count above agree.
                if answer.len() > ROWS_DRAWN {
                    <p class="muted" data-testid="query-answer-shown">
                        { format!("The table shows the newest {ROWS_DRAWN}; the other {} are in the count above.", answer.len() - ROWS_DRAWN) }
                    </p>
                }
                if !answer.is_empty() {
                    <div class="table-scroll">
                        <table>
                            <thead><tr><th>{ "Order" }</th><th>{ "Customer" }</th><th>{ "Status" }</th><th>{ "Total" }</th><th>{ "Version" }</th></tr></thead>
                            <tbody>{ for rows }</tbody>
                        </table>
                    </div>
                }
            </fieldset>
            <fieldset class="rebuild">
                <legend>{ "Rebuild from the event store" }</legend>
                <label for="rebuild-up-to">{ "Up to position (empty: all)" }</label>
                <input id="rebuild-up-to" data-testid="rebuild-up-to" inputmode="numeric" value={(*up_to).clone()} oninput={on_up_to} />
                <button type="button" class="small" data-testid="rebuild" onclick={rebuild}
                    disabled={matches!(*rebuilt, Rebuilt::Running { .. })}>{ "Rebuild" }</button>
                { progress }
            </fieldset>
        </section>
    }
}

/// QueryService's last crash, for what the lag line adds when it cost events (the live page
/// only): the events it held for its projection delay when it crashed, and, once its crash
/// line has settled, those appended while it was down and lost, will not come
/// ([`lost_in_crash`], [`died_in_crash_older`]). The crash's times, on the packets' clock, are
/// put on the page's clock as the events' `recordedAt` are.
fn crash_of(trace: &Trace) -> Option<QueryCrash> {
    if trace.playback.source() != Source::Live {
        return None;
    }
    let now = clock::now();
    // The live page's own count (the read-back of a recording's packets is not needed live,
    // and would replay the whole history at every redraw).
    let outage = trace
        .outage_ledger
        .outages()
        .into_iter()
        .rev()
        .find(|o| o.instance.service == ServiceId::Query)?;
    let wall_now = clock::wall_clock()?.unix_millis();
    let on_page_clock = |at: Duration| {
        let ago = now.saturating_sub(at).as_millis();
        Timestamp::from_unix_millis(wall_now - i64::try_from(ago).unwrap_or(i64::MAX)).ok()
    };
    let restarted = match outage.restarted_at {
        Some(at) => Some(on_page_clock(at)?),
        None => None,
    };
    let crash = QueryCrash {
        crashed: on_page_clock(outage.crashed_at)?,
        restarted,
        lost: outage.lost_at(now),
        held: outage.work_lost,
    };
    Some(crash)
}

/// Why a whole rebuild that differed did not replace the read model of a QueryService holding
/// `pending` events in its projection delay.
fn behind_text(pending: usize) -> String {
    let events = if pending == 1 { "event" } else { "events" };
    format!(
        "It differs from the live read model because QueryService is still behind: {pending} \
         {events} it received wait out its projection delay. Nothing is missing yet, so its read \
         model stays as it is: it catches up by itself (eventual consistency). Rebuild again once \
         it has, to compare."
    )
}

/// Offers a rebuilt read model to QueryService: `Ok` taken, `Err(pending)` not, while it held
/// that many events in its projection delay.
type OnReplace = Callback<ReadModel, Result<(), usize>>;

/// One step of a rebuild, then the next after the page has drawn. A whole rebuild that differs
/// from the live read model replaces it (`on_replace`).
fn step(
    trace: SharedTrace,
    rebuilt: UseStateHandle<Rebuilt>,
    mut rebuild: Rebuild,
    (asked, limit): (Option<u64>, Option<u64>),
    (on_replace, kept): (Option<OnReplace>, &'static str),
) {
    let progress = rebuild.step(&trace.0.borrow().store, REBUILD_STEP);
    if progress.is_finished() {
        let model = rebuild.finish();
        // The whole store: equal, or the live model is wrong (it missed events, or holds some
        // the store does not have). A point in the past is not compared.
        let equals_live = limit
            .is_none()
            .then(|| trace.0.borrow().read_model == model);
        let replaced = match (equals_live, &on_replace) {
            (Some(false), Some(on_replace)) => Some(on_replace.emit(model.clone())),
            _ => None,
        };
        rebuilt.set(Rebuilt::Done {
            model,
            asked,
            up_to: limit,
            equals_live,
            replaced,
            kept,
        });
        return;
    }
    rebuilt.set(Rebuilt::Running {
        done: progress.done,
        total: progress.total,
    });
    Timeout::new(0, move || {
        step(trace, rebuilt, rebuild, (asked, limit), (on_replace, kept))
    })
    .forget();
}
