//! The flow diagram: the order form, the services, the broker and the status monitor as boxes,
//! one edge per topic published or subscribed, and a dot travelling its edge for every PUBLISH
//! packet (the statuses, Wills, stock levels and dead letters too), started
//! when the packet event is recorded. Each box shows its link and what it is doing, with the
//! simulated work counting down; a delivery edge shows whether the broker granted the
//! subscription (a refused one is struck through). With PaymentService's instances competing,
//! its box counts the payments each instance handled. The model is [`eda_core::trace::flow`];
//! this only draws it.

use std::collections::HashMap;

use gloo::timers::callback::Interval;
use uuid::Uuid;
use yew::prelude::*;

use super::flow_pulses::FlowPulses;
use crate::hooks::use_window_resize;
use crate::SharedTrace;
use eda_core::services::instances::{client_label, Instance};
use eda_core::services::{SagaStyle, ServiceId};
use eda_core::trace::flow::{
    broker_state, client_state, edges, flow_layout, monitor_state, roving_step, service_state,
    EdgeKind, EdgeLine, Node, NodeBox, NodeState, Orientation,
};
use eda_core::trace::service_status::{Grant, ServiceStatus};

/// How often the countdown and the expiry of old dots are redrawn, while there are any.
const TICK_MS: u32 = 100;
/// Windows narrower than this (CSS pixels), held upright, get the one-column layout.
const NARROW_BELOW: f64 = 720.0;
/// How far the diagram may grow beyond its natural size on a wide screen.
const MAX_SCALE: f64 = 1.25;

#[derive(Properties, PartialEq)]
pub struct FlowDiagramProps {
    pub trace: SharedTrace,
    /// Changes whenever packets or service events were recorded.
    pub version: u64,
    pub placed_order: Option<Uuid>,
    /// Why the form's last order was refused.
    pub form_error: Option<String>,
    /// The page's broker; `None` while a recording is shown (its broker is not the page's, and
    /// the recording does not name it).
    pub broker_url: Option<String>,
    /// Each service's status as the broker last told it, in words
    /// ([`eda_core::state::PresenceView::short_words`]), if it has.
    #[prop_or_default]
    pub presence: Vec<(ServiceId, &'static str)>,
    /// Off screen the dots and countdowns stop (and start again where the clock says).
    #[prop_or(true)]
    pub on_screen: bool,
    /// How many instances PaymentService runs: with more than one, its box counts what each
    /// handled.
    #[prop_or(1)]
    pub payment_instances: u8,
}

/// What PaymentService's box says of its instances: a short line, its long form, and the
/// counts for the page's tests (`payment:4 payment-2:3`). `by_client` is how many payment
/// results each client published.
fn instances_line(instances: u8, by_client: &[(&str, usize)]) -> (String, String, String) {
    let counts: Vec<(String, usize)> = (1..=instances)
        .map(|n| {
            let label = Instance::new(ServiceId::Payment, n).slug();
            let count = by_client
                .iter()
                .filter(|(client, _)| client_label(client) == label)
                .map(|(_, n)| n)
                .sum();
            (label, count)
        })
        .collect();
    let short = counts
        .iter()
        .map(|(_, n)| n.to_string())
        .collect::<Vec<_>>();
    let long = counts
        .iter()
        .map(|(label, n)| format!("{label} {n}"))
        .collect::<Vec<_>>();
    let data = counts
        .iter()
        .map(|(label, n)| format!("{label}:{n}"))
        .collect::<Vec<_>>();
    (
        format!("{instances} instances: {}", short.join(" · ")),
        format!(
            "; {instances} instances share its work, payments handled by each: {}",
            long.join(", ")
        ),
        data.join(" "),
    )
}

/// The layout for the window: one column on a narrow window held upright; side by side
/// otherwise, a phone held sideways too (44-AR F2: at 667x375 the one column, scaled to the
/// width, was 4.1 screens tall, and the fan-out of one PUBLISH to its four receivers never fit
/// on one; side by side it is 1.4).
fn current_orientation() -> Orientation {
    let window = web_sys::window();
    let size = |f: fn(&web_sys::Window) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>| {
        window
            .as_ref()
            .and_then(|w| f(w).ok())
            .and_then(|v| v.as_f64())
    };
    let width = size(web_sys::Window::inner_width).unwrap_or(NARROW_BELOW);
    let height = size(web_sys::Window::inner_height).unwrap_or(width);
    if width < NARROW_BELOW && height >= width {
        Orientation::Narrow
    } else {
        Orientation::Wide
    }
}

/// `localhost:9001` from `ws://localhost:9001/mqtt`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// Lines of text centred in a box, the first one its name; `instances`, PaymentService's
/// instances line (see [`instances_line`]).
fn node_view(
    b: &NodeBox,
    state: &NodeState,
    extra: Option<String>,
    instances: Option<(String, String, String)>,
    stop: &str,
) -> Html {
    let (instances_text, instances_description, handled) = match instances {
        Some((text, description, handled)) => (Some(text), description, Some(handled)),
        None => (None, String::new(), None),
    };
    let description = format!("{}{instances_description}", state.describe());
    let link_class = state.link.as_ref().map(|l| format!("link {}", l.word()));
    let activity_class = format!("activity {}", state.activity.word());
    let lines: Vec<(String, String)> = [
        Some(("name".to_owned(), b.node.name().to_owned())),
        link_class.zip(state.link_text()),
        state.activity_text().map(|t| (activity_class, t)),
        extra.map(|t| ("host".to_owned(), t)),
        instances_text.map(|t| ("instances".to_owned(), t)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let first = b.center_y() - (16.0 + 15.0 * (lines.len() as f64 - 1.0)) / 2.0 + 12.0;
    let x = b.center_x().to_string();
    html! {
        <g class={classes!("flow-node", state.look())} data-testid={format!("flow-node-{}", b.node.slug())}
            data-state={state.link.as_ref().map(|l| l.word())} data-activity={state.activity.word()}
            data-handled={handled} data-roving={node_key(b.node)}
            tabindex={tab_stop(&node_key(b.node), stop)} role="img" aria-label={description.clone()}>
            <title>{ description }</title>
            <rect class="frame" x={b.x.to_string()} y={b.y.to_string()} width={b.width.to_string()}
                height={b.height.to_string()} rx="8" />
            { for lines.into_iter().enumerate().map(|(i, (class, text))| html! {
                <text class={class} x={x.clone()} y={(first + 15.0 * i as f64).to_string()}
                    text-anchor="middle">{ text }</text>
            }) }
        </g>
    }
}

/// The name of a node among the diagram's keyboard items (`data-roving`).
fn node_key(node: Node) -> String {
    format!("node-{}", node.slug())
}

/// The name of an edge among the diagram's keyboard items (`data-roving`).
fn edge_key(line: &EdgeLine) -> String {
    format!("edge-{}", line.edge.id())
}

/// The item named `stop` is the diagram's one Tab stop; the others are reached with the arrow
/// keys ([`roving_step`]).
fn tab_stop(key: &str, stop: &str) -> &'static str {
    if key == stop {
        "0"
    } else {
        "-1"
    }
}

/// The broker's answer to the subscription a delivery edge stands for (`None` for other edges).
fn grant_of(
    line: &EdgeLine,
    statuses: &[(ServiceId, ServiceStatus)],
    saga: SagaStyle,
) -> Option<Grant> {
    let edge = line.edge;
    let service = edge
        .to
        .service()
        .filter(|_| edge.kind() == EdgeKind::Delivery)?;
    let (_, status) = statuses.iter().find(|(s, _)| *s == service)?;
    let filter = edge.topic?;
    status
        .subscriptions(service, saga)
        .into_iter()
        .find(|(f, _)| *f == filter)
        .map(|(_, grant)| grant)
}

fn edge_view(line: &EdgeLine, hidden: usize, grant: Option<Grant>, stop: &str) -> Html {
    let edge = line.edge;
    let kind = match edge.kind() {
        EdgeKind::Request => "request",
        EdgeKind::Publish => "publish",
        EdgeKind::Delivery => "delivery",
    };
    let mut description = match &grant {
        Some(Grant::Refused(why)) => format!(
            "The broker refused {}'s subscription to {} ({why}): nothing is delivered on it",
            edge.to.name(),
            edge.label()
        ),
        Some(Grant::Asked) => format!(
            "{} asked to subscribe to {}; the broker has not answered on this connection",
            edge.to.name(),
            edge.label()
        ),
        Some(Grant::Kept(_)) => format!(
            "{}; the broker kept {}'s subscription in its session (CONNACK Session Present)",
            edge.describe(),
            edge.to.name()
        ),
        _ => edge.describe(),
    };
    if hidden > 0 {
        description.push_str(&format!("; {hidden} more messages than drawn"));
    }
    let refused = matches!(grant, Some(Grant::Refused(_)));
    let label = if refused {
        format!("✕ {}", edge.label())
    } else {
        edge.label().to_owned()
    };
    let topic_class = edge.topic_class();
    html! {
        <g class={classes!("flow-edge", kind, topic_class.clone(), refused.then_some("refused"))}
            data-testid="flow-edge" data-from={edge.from.slug()} data-to={edge.to.slug()} data-topic={edge.topic}
            data-subscription={grant.as_ref().map(Grant::word)} data-roving={edge_key(line)}
            tabindex={tab_stop(&edge_key(line), stop)} role="img" aria-label={description.clone()}>
            <title>{ description }</title>
            <path class="line" d={line.path()} marker-end={format!("url(#flow-arrow-{topic_class})")} />
            <text class="label" x={line.label_x.to_string()} y={line.label_y.to_string()}
                text-anchor={line.label_anchor}>{ label }</text>
            if hidden > 0 {
                { overflow_badge(line, hidden) }
            }
        </g>
    }
}

/// `+N` in a pill on the line, near its head: the dots of the edge that were not drawn.
fn overflow_badge(line: &EdgeLine, hidden: usize) -> Html {
    let text = format!("+{hidden}");
    let width = 8.0 + 6.0 * text.chars().count() as f64;
    // Clear of the arrowhead (7 × the line's 2 units).
    let (x, y) = line.before_head(18.0 + width / 2.0);
    html! {
        <g class="overflow" data-testid="flow-edge-overflow">
            <rect x={(x - width / 2.0).to_string()} y={(y - 6.0).to_string()} width={width.to_string()}
                height="12" rx="6" />
            <text x={x.to_string()} y={(y + 3.5).to_string()} text-anchor="middle">{ text }</text>
        </g>
    }
}

#[component]
pub fn FlowDiagram(props: &FlowDiagramProps) -> Html {
    let orientation = use_state_eq(current_orientation);
    // The keyboard item last focused (`data-roving`) and its place among the items, which
    // keep the Tab stop.
    let focused = use_state_eq(|| None::<(String, usize)>);
    {
        let orientation = orientation.clone();
        use_window_resize(move || orientation.set(current_orientation()));
    }

    // The packets' clock: the same as every packet's `at` and every work's `due`.
    let now = crate::clock::now();
    // The dots and the badges run on the view's clock, which the playback may slow down,
    // pause or step; live or replayed, the badges are the same projection of the trace.
    let (drawn, statuses, view_now, saga, instances) = {
        let trace = props.trace.0.borrow();
        let (drawn, view_now) = trace.pulses_at(now);
        let instances = (props.payment_instances > 1).then(|| {
            let book = trace.orders_shown();
            let by_client: Vec<(&str, usize)> = book.payments_by().into_iter().collect();
            instances_line(props.payment_instances, &by_client)
        });
        (
            drawn,
            trace.statuses(),
            view_now,
            trace.saga_at(view_now),
            instances,
        )
    };
    // A few times a second while something counts down or a dot is on the page (its edge's
    // "+N" changes as the dots leave); not at all otherwise. The dots move on their own.
    let ticking = !drawn.shown.is_empty()
        || statuses
            .iter()
            .any(|(_, status)| !status.work.pending.is_empty());
    // While the page is busy (`crate::busy`), every third tick: at 100 orders a second the
    // dots are always on the page, and each tick redraws the whole diagram.
    let redraw = use_force_update();
    use_effect_with(ticking, move |&ticking| {
        let mut ticks = 0_u32;
        let interval = ticking.then(|| {
            Interval::new(TICK_MS, move || {
                ticks = ticks.wrapping_add(1);
                if !crate::busy::is_busy() || ticks % 3 == 0 {
                    redraw.force_update();
                }
            })
        });
        move || drop(interval)
    });

    let layout = flow_layout(*orientation, saga);
    // The keyboard's items in the order drawn; the Tab stop is the last one focused, while it
    // is drawn; else the one now in its place (the element drawn there, which kept the focus
    // when a switch of saga style took its edge away: 46-AZ F1), else the first.
    let keys: Vec<String> = layout
        .nodes
        .iter()
        .filter(|b| {
            b.node
                .service()
                .is_none_or(|s| statuses.iter().any(|(id, _)| *id == s))
        })
        .map(|b| node_key(b.node))
        .chain(layout.lines.iter().map(edge_key))
        .collect();
    let stop = match &*focused {
        Some((key, _)) if keys.contains(key) => key.clone(),
        Some((_, at)) => keys
            .get((*at).min(keys.len().saturating_sub(1)))
            .cloned()
            .unwrap_or_default(),
        None => keys.first().cloned().unwrap_or_default(),
    };
    let svg_ref = use_node_ref();
    {
        // After each redraw: the element holding the focus may stand for another item now (a
        // switch of saga style took the focused edge away and its element was reused for
        // another, 46-AZ F1); that item becomes the Tab stop.
        let (focused, keys, stop, svg_ref) =
            (focused.clone(), keys.clone(), stop.clone(), svg_ref.clone());
        use_effect(move || {
            if let Some(key) = focused_item(&svg_ref).filter(|key| *key != stop) {
                remember(&focused, &keys, key);
            }
        });
    }
    let onfocusin = {
        let (focused, keys) = (focused.clone(), keys.clone());
        Callback::from(move |e: FocusEvent| {
            if let Some(key) = roving_key(e.target()) {
                remember(&focused, &keys, key);
            }
        })
    };
    let onkeydown = {
        let (keys, svg_ref) = (keys.clone(), svg_ref.clone());
        Callback::from(move |e: KeyboardEvent| {
            let Some(at) = roving_key(e.target()).and_then(|k| keys.iter().position(|x| *x == k))
            else {
                return;
            };
            let Some(to) = roving_step(keys.len(), at, &e.key()) else {
                return;
            };
            // The arrows move the focus, not the page.
            e.prevent_default();
            focus_item(&svg_ref, &keys[to]);
        })
    };
    let hidden: HashMap<String, usize> = drawn.hidden.iter().map(|(e, n)| (e.id(), *n)).collect();

    let services: HashMap<ServiceId, NodeState> = statuses
        .iter()
        .map(|(id, status)| (*id, service_state(*id, status, view_now)))
        .collect();
    let nodes = layout.nodes.iter().map(|b| {
        let more = instances
            .clone()
            .filter(|_| b.node.service() == Some(ServiceId::Payment));
        let (state, extra) = match b.node {
            Node::Client => (
                client_state(props.placed_order, props.form_error.as_deref()),
                None,
            ),
            Node::Broker => (
                broker_state(statuses.iter().map(|(_, status)| &status.link)),
                Some(
                    props
                        .broker_url
                        .as_deref()
                        .map_or_else(|| "as recorded".to_owned(), |url| host_of(url).to_owned()),
                ),
            ),
            Node::Monitor => (monitor_state(), None),
            node => match node
                .service()
                .and_then(|s| services.get(&s).map(|st| (s, st)))
            {
                Some((service, state)) => {
                    let told = props
                        .presence
                        .iter()
                        .find(|(s, _)| *s == service)
                        .map(|(_, words)| (*words).to_owned());
                    (state.clone(), told)
                }
                None => return Html::default(),
            },
        };
        node_view(b, &state, extra, more, &stop)
    });
    let lines = layout.lines.iter().map(|line| {
        let hidden = hidden.get(&line.edge.id()).copied().unwrap_or(0);
        edge_view(line, hidden, grant_of(line, &statuses, saga), &stop)
    });
    // Filled by `extend`, not `collect`: collecting into a B-tree compiles a sort of its own.
    let mut classes = std::collections::BTreeSet::new();
    classes.extend(edges(saga).iter().map(|e| e.topic_class()));
    let markers = classes.into_iter().map(|class| {
        html! {
            <marker id={format!("flow-arrow-{class}")} class={class} viewBox="0 0 10 10" refX="10" refY="5"
                markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                <path d="M 0 0 L 10 5 L 0 10 z" />
            </marker>
        }
    });

    html! {
        <section class="card flow-diagram" aria-labelledby="flow-title">
            <h2 id="flow-title">{ "Flow" }
                <span class="muted">{ " — each dot is one PUBLISH packet, drawn as it is sent or delivered" }</span></h2>
            <svg xmlns="http://www.w3.org/2000/svg" class="flow-svg" width={layout.width.to_string()}
                height={layout.height.to_string()} viewBox={format!("0 0 {} {}", layout.width, layout.height)}
                style={format!("max-width:{}px", layout.width * MAX_SCALE)} role="group"
                aria-label="The order flow and the status monitor: services, broker, topics and messages" data-testid="flow-svg"
                data-layout={match *orientation { Orientation::Wide => "wide", Orientation::Narrow => "narrow" }}
                ref={svg_ref} {onfocusin} {onkeydown}>
                <defs>{ for markers }</defs>
                // Nodes first: the arrow keys visit the states, then the topics.
                { for nodes }
                { for lines }
                <FlowPulses trace={props.trace.clone()} version={props.version} orientation={*orientation}
                    active={props.on_screen} />
            </svg>
            <p class="flow-legend">
                <span>{ "● connected" }</span><span>{ "◌ connecting" }</span><span>{ "✕ disconnected" }</span>
                <span>{ "◔ working (time left)" }</span><span>{ "✓ done" }</span><span>{ "⚠ failed" }</span>
            </p>
        </section>
    }
}

/// The keyboard item (`data-roving`) an event's target is, or lies in.
fn roving_key(target: Option<web_sys::EventTarget>) -> Option<String> {
    use wasm_bindgen::JsCast;
    target?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("[data-roving]")
        .ok()??
        .get_attribute("data-roving")
}

/// Keeps `key`, and its place among `keys`, as the item last focused (the Tab stop).
fn remember(focused: &UseStateHandle<Option<(String, usize)>>, keys: &[String], key: String) {
    let at = keys.iter().position(|k| *k == key).unwrap_or_default();
    focused.set(Some((key, at)));
}

/// The keyboard item (`data-roving`) of the diagram that holds the document's focus, if any.
fn focused_item(svg: &NodeRef) -> Option<String> {
    let svg = svg.cast::<web_sys::Element>()?;
    let active = gloo::utils::document().active_element()?;
    if !svg.contains(Some(&active)) {
        return None;
    }
    roving_key(Some(active.into()))
}

/// Moves the focus to the diagram's item named `key` (its `focusin` then makes it the Tab stop).
fn focus_item(svg: &NodeRef, key: &str) {
    use wasm_bindgen::JsCast;
    let Some(svg) = svg.cast::<web_sys::Element>() else {
        return;
    };
    let Ok(items) = svg.query_selector_all("[data-roving]") else {
        return;
    };
    let item = (0..items.length())
        .filter_map(|i| items.item(i)?.dyn_into::<web_sys::Element>().ok())
        .find(|item| item.get_attribute("data-roving").as_deref() == Some(key));
    // An SVG element has `focus()` as an HTML element has (the HTMLOrSVGElement mixin); the
    // binding calls it by name.
    if let Some(item) = item {
        let _ = item.unchecked_ref::<web_sys::HtmlElement>().focus();
    }
}
