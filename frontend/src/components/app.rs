//! The page: reads `?broker=`, starts the runtime once, and wires callbacks to the reducer.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use uuid::Uuid;
use yew::prelude::*;

use broker_bridge::ProtocolVersion;

use super::{
    BrokerBar, DelayField, EventLog, FlowDiagram, Notifications, OrderForm, PacketInspector,
    PanelChoice, PlaybackBar, QosSettings, RecordingBar, SequenceDiagram, SettingSelect,
    StatusStrip,
};
use crate::hooks::use_animation_frames;
use crate::hooks::{use_on_screen, use_while_on_screen, Page};
use crate::runtime::Runtime;
use crate::SharedTrace;
use eda_core::domain::order_form::ValidOrder;
use eda_core::services::ServiceId;
use eda_core::state::{
    broker_from_query, delays_from_query, flow_qos_from_query, panel_from_query, parse_delay,
    protocol_from_query, speed_from_query, unknown_params, Action, FlowQos, Panel, State,
};
use eda_core::trace::playback::{Playback, Source, Speed};
use eda_core::trace::PacketHistory;

/// Every key of the page's query string, in order.
fn query_keys() -> Vec<String> {
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else {
        return Vec::new();
    };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return Vec::new();
    };
    js_sys::try_iter(&params.keys())
        .ok()
        .flatten()
        .map(|keys| keys.filter_map(|k| k.ok()?.as_string()).collect())
        .unwrap_or_default()
}

fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Puts a setting in the address bar, so copying the link reproduces the set-up.
fn remember_in_url(key: &str, value: &str) {
    remember_all_in_url(&[(key.to_owned(), Some(value.to_owned()))]);
}

/// Sets (`Some`) or removes (`None`) several settings of the address bar at once.
fn remember_all_in_url(params: &[(String, Option<String>)]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(page) = web_sys::Url::new(&href) else {
        return;
    };
    for (key, value) in params {
        match value {
            Some(value) => page.search_params().set(key, value),
            None => page.search_params().delete(key),
        }
    }
    if let Ok(history) = window.history() {
        let _ =
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&page.href()));
    }
}

#[component]
pub fn App() -> Html {
    let state = use_reducer(|| {
        Page({
            let (url, error) = broker_from_query(query_param("broker").as_deref());
            let tag = Uuid::new_v4().simple().to_string()[..6].to_owned();
            let mut state = State::new(url, error, &tag);
            (state.qos, state.qos_error) = flow_qos_from_query(query_param);
            (state.protocol, state.protocol_error) =
                protocol_from_query(query_param("mqtt").as_deref());
            (state.delays, state.delays_error) = delays_from_query(
                query_param("payment_ms").as_deref(),
                query_param("inventory_ms").as_deref(),
            );
            let (panel, panel_error) = panel_from_query(query_param("view").as_deref());
            let speed_error = speed_from_query(query_param("speed").as_deref()).1;
            state.panel = panel;
            state.playback_error = match (speed_error, panel_error) {
                (Some(a), Some(b)) => Some(format!("{a} {b}")),
                (a, b) => a.or(b),
            };
            let keys = query_keys();
            state.link_notice = unknown_params(keys.iter().map(String::as_str));
            state
        })
    });
    let copied = use_state(|| false);
    let runtime = use_mut_ref(|| None::<Rc<Runtime>>);
    // Every packet of the four clients; outside the reducer's state (see `SharedTrace`).
    let trace = use_memo((), |_| {
        let trace = SharedTrace::new();
        let speed = speed_from_query(query_param("speed").as_deref()).0;
        trace.0.borrow_mut().playback = Playback::live(speed);
        trace
    });

    // The view's clock moves on every frame while it runs behind the wire or plays a
    // recording; the views are drawn again only when what they show changed.
    let needs_frames = trace
        .0
        .borrow()
        .playback
        .needs_frames(broker_bridge::ws::now());
    {
        let (trace, dispatcher) = ((*trace).clone(), state.dispatcher());
        use_animation_frames(
            needs_frames,
            Callback::from(move |_| {
                let (changed, done) = change_playback(&trace, |playback, now, packets| {
                    (playback.tick(now, packets), !playback.needs_frames(now))
                });
                if changed || done {
                    dispatcher.dispatch(Action::TraceChanged);
                }
            }),
        );
    }

    // (Re)started when the MQTT version changes: the connections are made anew.
    {
        let (state, runtime, trace) = (state.clone(), runtime.clone(), (*trace).clone());
        use_effect_with(state.protocol, move |protocol| {
            let dispatcher = state.dispatcher();
            // The session tag is the middle of any client id: eda-<tag>-order.
            let tag = state.services[0]
                .client_id
                .trim_start_matches("eda-")
                .trim_end_matches("-order")
                .to_owned();
            if let Some(old) = runtime.borrow_mut().take() {
                old.shut_down();
            }
            let started = Runtime::start(
                &state.broker_url,
                &tag,
                state.qos,
                *protocol,
                trace,
                move |a| dispatcher.dispatch(a),
            );
            started.set_delays(state.delays);
            *runtime.borrow_mut() = Some(started);
        });
    }

    // Kept from render to render (the form is not drawn again for them).
    let on_place = {
        let runtime = runtime.clone();
        use_callback(
            (state.dispatcher(), state.broker_url.clone()),
            move |order: ValidOrder, (dispatcher, url)| {
                place_order(dispatcher, &runtime, url, &order, 1)
            },
        )
    };
    let on_burst = {
        let runtime = runtime.clone();
        use_callback(
            (state.dispatcher(), state.broker_url.clone()),
            move |order: ValidOrder, (dispatcher, url)| {
                place_order(dispatcher, &runtime, url, &order, BURST)
            },
        )
    };
    let on_delay = |name: &'static str| {
        let (state, runtime) = (state.clone(), runtime.clone());
        Callback::from(move |text: String| match parse_delay(name, &text) {
            Ok(delay) => {
                let mut delays = state.delays;
                let key = if name == "Payment" {
                    delays.payment = delay;
                    "payment_ms"
                } else {
                    delays.inventory = delay;
                    "inventory_ms"
                };
                if let Some(runtime) = runtime.borrow().as_ref() {
                    runtime.set_delays(delays);
                }
                remember_in_url(key, &delay.as_millis().to_string());
                state.dispatch(Action::DelaysChanged(delays));
            }
            Err(reason) => state.dispatch(Action::DelaysRefused(reason)),
        })
    };
    let on_clear = {
        let (state, trace) = (state.clone(), (*trace).clone());
        Callback::from(move |_: MouseEvent| {
            {
                let mut trace = trace.0.borrow_mut();
                trace.packets.clear();
                trace.actions.clear();
            }
            change_playback(&trace, |playback, now, packets| playback.tick(now, packets));
            state.dispatch(Action::Cleared);
        })
    };
    let on_connect = {
        let (state, runtime) = (state.clone(), runtime.clone());
        Callback::from(
            move |raw: String| match broker_bridge::url::parse_broker_url(&raw) {
                Ok(url) => {
                    if let Some(runtime) = runtime.borrow().as_ref() {
                        runtime.set_url(&url);
                    }
                    remember_in_url("broker", &url);
                    state.dispatch(Action::BrokerChanged(url));
                }
                Err(e) => state.dispatch(Action::BrokerUrlInvalid(e.to_string())),
            },
        )
    };

    let on_qos = {
        let (state, runtime) = (state.clone(), runtime.clone());
        Callback::from(move |qos: FlowQos| {
            if let Some(runtime) = runtime.borrow().as_ref() {
                runtime.set_qos(qos);
            }
            remember_all_in_url(&qos.link_params());
            state.dispatch(Action::QosChanged(qos));
        })
    };
    let on_protocol = {
        let state = state.clone();
        Callback::from(move |value: String| {
            let protocol = match value.as_str() {
                "5" => ProtocolVersion::V5,
                _ => ProtocolVersion::V311,
            };
            remember_in_url("mqtt", &value);
            // The effect above reconnects the services with the new version.
            state.dispatch(Action::ProtocolChanged(protocol));
        })
    };
    let protocol_choices: Vec<(AttrValue, AttrValue)> = vec![
        ("3.1.1".into(), "MQTT 3.1.1".into()),
        (
            "5".into(),
            "MQTT 5.0 (orderId in a correlationId user property)".into(),
        ),
    ];
    let protocol_value = match state.protocol {
        ProtocolVersion::V311 => "3.1.1",
        ProtocolVersion::V5 => "5",
    };

    let on_loaded = {
        let (state, runtime, trace) = (state.clone(), runtime.clone(), (*trace).clone());
        Callback::from(
            move |(name, result): super::recording_bar::Loaded| match result {
                Ok(recorded) => {
                    // The live services stop: what the diagrams show is the recording alone.
                    if let Some(old) = runtime.borrow_mut().take() {
                        old.shut_down();
                    }
                    let mut trace = trace.0.borrow_mut();
                    let speed = trace.playback.speed();
                    *trace = recorded;
                    let first_action = trace.first_action();
                    trace.playback = Playback::recording(
                        speed,
                        &trace.packets,
                        first_action,
                        broker_bridge::ws::now(),
                    );
                    drop(trace);
                    state.dispatch(Action::ReplayLoaded(name));
                }
                Err(reason) => {
                    state.dispatch(Action::RecordingRefused(format!("{name}: {reason}")))
                }
            },
        )
    };
    let on_copy_link = {
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(window) = web_sys::window() else {
                return;
            };
            if let Ok(href) = window.location().href() {
                // The address bar holds every setting changed in the page (remember_in_url).
                let _ = window.navigator().clipboard().write_text(&href);
                copied.set(true);
            }
        })
    };
    // The same callback from render to render, so the diagrams it goes to are not drawn again
    // for it.
    let on_select_packet = use_callback(state.dispatcher(), |seq: Option<u64>, dispatcher| {
        dispatcher.dispatch(Action::SelectPacket(seq))
    });

    // A part scrolled out of sight is drawn again at most once a second (under load, most of
    // the page's time is drawing).
    let flow_ref = use_node_ref();
    let sequence_ref = use_node_ref();
    let inspector_ref = use_node_ref();
    let flow_on_screen = use_on_screen(flow_ref.clone());
    let sequence_on_screen = use_on_screen(sequence_ref.clone());
    let inspector_on_screen = use_on_screen(inspector_ref.clone());
    let (flow_version, flow_services) = use_while_on_screen(
        flow_on_screen,
        (
            state.trace_version,
            state
                .services
                .iter()
                .map(|s| (s.id, s.link.clone(), s.work.clone()))
                .collect::<Vec<_>>(),
        ),
    );
    let sequence_version = use_while_on_screen(sequence_on_screen, state.trace_version);
    let (inspector_version, inspector_below) = use_while_on_screen(
        inspector_on_screen,
        (
            state.trace_version,
            trace.0.borrow().playback.shown().map(|s| s.below),
        ),
    );

    let on_pause = {
        let (state, trace) = (state.clone(), (*trace).clone());
        Callback::from(move |_: ()| {
            change_playback(&trace, |playback, now, packets| {
                if playback.is_paused() {
                    playback.resume(now, packets)
                } else {
                    playback.pause(now, packets)
                }
            });
            state.dispatch(Action::PlaybackChanged);
        })
    };
    let on_jump = {
        let (state, trace) = (state.clone(), (*trace).clone());
        Callback::from(move |_: ()| {
            let first_action = trace.0.borrow().first_action();
            change_playback(&trace, |playback, now, packets| match playback.source() {
                Source::Live => playback.jump_to_live(now),
                Source::Recording => playback.restart(now, packets, first_action),
            });
            state.dispatch(Action::PlaybackChanged);
        })
    };
    let on_step = {
        let (state, trace) = (state.clone(), (*trace).clone());
        Callback::from(move |_: ()| {
            let stepped =
                change_playback(&trace, |playback, now, packets| playback.step(now, packets));
            state.dispatch(Action::PlaybackChanged);
            // The packet just shown opens in the inspector.
            if stepped.is_some() {
                state.dispatch(Action::SelectPacket(stepped));
            }
        })
    };
    let on_speed = {
        let (state, trace) = (state.clone(), (*trace).clone());
        Callback::from(move |speed: Speed| {
            change_playback(&trace, |playback, now, packets| {
                playback.set_speed(speed, now, packets)
            });
            remember_in_url("speed", speed.value());
            state.dispatch(Action::PlaybackChanged);
        })
    };
    let on_panel = {
        let state = state.clone();
        Callback::from(move |panel: Panel| {
            remember_in_url("view", panel.value());
            state.dispatch(Action::PanelChosen(panel));
        })
    };

    let logs = [
        ServiceId::Payment,
        ServiceId::Inventory,
        ServiceId::Notification,
        ServiceId::Order,
    ]
    .into_iter()
    .map(|id| html! { <EventLog service={state.service(id).clone()} /> })
    .collect::<Html>();

    html! {
        <>
            <header class="page-header">
                <h1>{ "Event-driven architecture playground" }</h1>
                <p class="lede">
                    { "Four services of an order flow run in this page, each its own MQTT client \
                       of a real Mosquitto. Place an order and watch the events cross the broker." }
                </p>
            </header>
            <section class="broker" aria-label="Broker connection">
                <BrokerBar url={state.broker_url.clone()} error={state.broker_url_error.clone()} {on_connect} />
                <div class="settings">
                    <QosSettings qos={state.qos} error={state.qos_error.clone()} on_change={on_qos} />
                    <div class="setting">
                        <DelayField id="payment-delay" label="Payment works (ms)"
                            millis={state.delays.payment.as_millis() as u64} on_change={on_delay("Payment")} />
                        <DelayField id="inventory-delay" label="Inventory works (ms)"
                            millis={state.delays.inventory.as_millis() as u64} on_change={on_delay("Inventory")} />
                    </div>
                    if let Some(notice) = &state.link_notice {
                        <p class="error" role="alert" data-testid="link-notice">{ notice }</p>
                    }
                    if let Some(error) = &state.delays_error {
                        <p class="error" role="alert" data-testid="delays-error">{ error }</p>
                    }
                    <div class="setting">
                        <button type="button" onclick={on_copy_link} data-testid="copy-link">{ "Copy link" }</button>
                        if *copied {
                            <span role="status" data-testid="link-copied">{ "Link copied: it opens the page with these settings." }</span>
                        }
                    </div>
                    <SettingSelect id="mqtt-version" label="Protocol" choices={protocol_choices}
                        selected={protocol_value} error={state.protocol_error.clone()} on_change={on_protocol} />
                </div>
                <StatusStrip services={state.services.iter().map(|s| (s.id, s.client_id.clone(), s.link.clone())).collect::<Vec<_>>()} broker_url={state.broker_url.clone()} replaying={state.replaying.is_some()} />
            </section>
            <main class="layout">
                <div class="column">
                    <OrderForm {on_place} {on_burst} placed_order={state.placed_order} form_error={state.form_error.clone()} />
                    <Notifications items={state.notifications.clone()} dropped={state.notifications_dropped} />
                </div>
                <div class="column logs">{ logs }</div>
            </main>
            <section class="layout wide picture-controls" aria-label="The picture">
                <PlaybackBar trace={(*trace).clone()} version={state.trace_version}
                    error={state.playback_error.clone()} {on_speed} {on_pause} {on_step} {on_jump} />
                <PanelChoice selected={state.panel} on_choose={on_panel} />
            </section>
            if state.panel.shows(Panel::Flow) {
                <section class="layout wide" aria-label="The flow" ref={flow_ref} data-on-screen={flow_on_screen.to_string()}>
                    <FlowDiagram trace={(*trace).clone()} version={flow_version} services={flow_services}
                        placed_order={state.placed_order} form_error={state.form_error.clone()}
                        broker_url={state.broker_url.clone()} on_screen={flow_on_screen} />
                </section>
            }
            <section class="layout wide" aria-label="The wire">
                <RecordingBar trace={(*trace).clone()} replaying={state.replaying.clone()}
                    error={state.recording_error.clone()} {on_loaded} {on_clear} />
                if state.panel.shows(Panel::Sequence) {
                    <div class="part" ref={sequence_ref} data-on-screen={sequence_on_screen.to_string()}>
                        <SequenceDiagram trace={(*trace).clone()} version={sequence_version} on_select={on_select_packet.clone()} />
                    </div>
                }
                if state.panel.shows(Panel::Packets) {
                    <div class="part" ref={inspector_ref} data-on-screen={inspector_on_screen.to_string()}>
                        <PacketInspector trace={(*trace).clone()} version={inspector_version}
                            selected={state.selected_packet} on_select={on_select_packet} below={inspector_below} />
                    </div>
                }
            </section>
        </>
    }
}

/// Changes the view's clock at the page's time now, with the packets it plays.
fn change_playback<T>(
    trace: &SharedTrace,
    change: impl FnOnce(&mut Playback, Duration, &PacketHistory) -> T,
) -> T {
    let mut guard = trace.0.borrow_mut();
    let trace = &mut *guard;
    change(
        &mut trace.playback,
        broker_bridge::ws::now(),
        &trace.packets,
    )
}

/// How many orders "Place 10 orders" places.
const BURST: usize = 10;

/// Places `count` copies of the order; stops at the first refusal and says why.
fn place_order(
    dispatcher: &UseReducerDispatcher<Page>,
    runtime: &RefCell<Option<Rc<Runtime>>>,
    broker_url: &str,
    order: &ValidOrder,
    count: usize,
) {
    for _ in 0..count {
        let outcome = match runtime.borrow().as_ref() {
            Some(runtime) => runtime.place_order(order, broker_url),
            None => Err(
                "The services are not running (a recording is shown, or they are still starting)."
                    .into(),
            ),
        };
        match outcome {
            Ok(id) => dispatcher.dispatch(Action::OrderPlaced(id)),
            Err(reason) => {
                dispatcher.dispatch(Action::OrderRefused(reason));
                return;
            }
        }
    }
}
