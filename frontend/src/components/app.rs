//! The page: its layout, and each control wired to what it does ([`use_playground`]'s handle).

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::broker_capabilities::BrokerCapabilitiesView;
use super::outside_text::sentence;
use super::{
    AnalyticsPanel, BrokerBar, BrokerSwitchNote, CopyLink, CredentialsPanel, DeadLettersPanel,
    DeliverySettings, DraftField, EventLog, EventStorePanel, FlowDiagram, InPageBroker,
    NamespaceNote, Notifications, OrderForm, OrdersPanel, OtherPagesAlert, Outages,
    PacketInspector, PanelChoice, PaymentInstances, PlaybackBar, ProtocolSelect, QosSettings,
    QueryPanel, RecordingBar, SagaSettings, SequenceDiagram, ServiceBadge, ServiceBrokersList,
    SettingSelect, StatusStrip, StockPanel,
};
use crate::hooks::{
    use_after_first_render, use_busy, use_fragment_target, use_on_screen, use_playground,
    use_reload_scroll, use_while_on_screen, Playground, BURST,
};
use eda_core::domain::order_form::ValidOrder;
use eda_core::services::instances::share_group;
use eda_core::services::{FlowField, ServiceId};
use eda_core::state::{broker_fit, Panel, RefusalPlace};

/// The services with an event log, in the order the logs are shown.
const LOGGED: [ServiceId; 4] = [
    ServiceId::Payment,
    ServiceId::Inventory,
    ServiceId::Notification,
    ServiceId::Order,
];

/// The session choices: whether the broker keeps a service's session while it is down.
fn session_choices() -> Vec<(AttrValue, AttrValue)> {
    vec![
        (
            "persistent".into(),
            "persistent: the broker queues what a service misses while down (at QoS 1 or 2; \
             QoS 0 is never queued)"
                .into(),
        ),
        (
            "clean".into(),
            "clean: what is published while a service is down is lost to it".into(),
        ),
    ]
}

/// The first screen's pointer to where refused values are explained ([`State::refusals_shown`]):
/// "A setting was not taken: the settings and the Read model panel say which, and why, beside
/// its field." with a link to each. Nothing when nothing was refused.
fn refusals_pointer(places: &[RefusalPlace]) -> Html {
    if places.is_empty() {
        return Html::default();
    }
    let links = places.iter().enumerate().map(|(i, place)| {
        let (href, words) = match place {
            RefusalPlace::Settings => ("#the-settings", "the settings"),
            RefusalPlace::ReadModel => ("#projection-ms", "the Read model panel"),
            RefusalPlace::DeadLetters => ("#retry-ms", "the Dead letters panel"),
            RefusalPlace::Playback => ("#speed", "the animation's bar"),
        };
        let joint = match (i, places.len() - 1 - i) {
            (0, _) => "",
            (_, 0) => " and ",
            _ => ", ",
        };
        html! { <>{ joint }<a {href}>{ words }</a></> }
    });
    // "the settings" is plural; a panel is one.
    let verb = if places.len() == 1 && places[0] != RefusalPlace::Settings {
        " says"
    } else {
        " say"
    };
    html! {
        <p class="error" data-testid="settings-refused">
            { "A setting was not taken: " }
            { for links }
            { verb }{ " which, and why, beside its field." }
        </p>
    }
}

/// The services (instances) the broker refused for good, the first one's reason and what to
/// do about it (`Not retrying PaymentService, OrderService: the broker refused …`), and whether
/// signing in may fix it (only then does the sign-in form open); `None` when none waits for
/// the user.
fn refused_for_good(services: &[eda_core::state::ServiceView]) -> Option<(String, bool)> {
    let waiting: Vec<_> = services
        .iter()
        .filter(|s| s.link.waits_for_user())
        .collect();
    let broker_bridge::Link::Disconnected { reason, url, .. } = &waiting.first()?.link else {
        return None;
    };
    let names: Vec<String> = waiting.iter().map(|s| s.instance().name()).collect();
    let advice = reason.refusal_advice_at(url).unwrap_or_default();
    Some((
        format!("Not retrying {}: {reason}. {advice}", names.join(", ")),
        reason.asks_for_credentials(),
    ))
}

/// Whether the part behind `node` is on screen (see [`use_on_screen`]; `drawn`: whether this
/// render draws it), and the page's trace version to draw it with: the current one while on
/// screen or while the page is calm (`busy` false), at most a second old out of sight while it
/// is busy ([`use_while_on_screen`]).
#[hook]
fn use_part_version(node: NodeRef, drawn: bool, busy: bool, version: u64) -> (bool, u64) {
    let on_screen = use_on_screen(node, drawn);
    (on_screen, use_while_on_screen(on_screen || !busy, version))
}

/// The page's handle as of the latest render, for callbacks made once (see [`use_page_callback`]).
type LatestPage = Rc<RefCell<Playground>>;

/// A callback made once, at the first render, that does `act` to the page as of the latest
/// render (the state a callback made in that render would have seen).
///
/// Why not a `Callback::from` per render: a new callback is never equal to the last one
/// (`Callback`'s `PartialEq` compares the closure's address), so every component given one was
/// drawn again at every report of the services, whatever else it was given. The parts out of
/// sight drawn "at most once a second" (decision 0017: the packet inspector, the Orders, dead
/// letter and read-model panels) were drawn at every report under load, each settings control
/// too (`bench/profile/per-order.mjs --mutations` counts the DOM changes by part).
#[hook]
fn use_page_callback<IN, OUT, F>(latest: &LatestPage, act: F) -> Callback<IN, OUT>
where
    IN: 'static,
    OUT: 'static,
    F: Fn(&Playground, IN) -> OUT + 'static,
{
    let latest = latest.clone();
    use_callback((), move |input: IN, _| {
        // A clone, not a borrow held across `act`: a render it starts may store the next page.
        let page = latest.borrow().clone();
        act(&page, input)
    })
}

#[component]
pub fn App() -> Html {
    let page = use_playground();
    let state = page.state();
    let trace = page.trace().clone();

    // Every callback is kept from render to render (`use_page_callback`), so no component is
    // drawn again for a new one.
    let latest: LatestPage = use_mut_ref(|| page.clone());
    *latest.borrow_mut() = page.clone();
    let on_place = use_page_callback(&latest, |p, order: ValidOrder| p.place(&order, 1));
    let on_burst = use_page_callback(&latest, |p, order: ValidOrder| p.place(&order, BURST));
    let on_select_packet = use_page_callback(&latest, |p, seq: Option<u64>| p.select_packet(seq));
    let on_payment_delay = use_page_callback(&latest, |p, text: String| {
        p.set_delay(ServiceId::Payment, &text)
    });
    let on_inventory_delay = use_page_callback(&latest, |p, text: String| {
        p.set_delay(ServiceId::Inventory, &text)
    });
    let on_connect = use_page_callback(&latest, |p, url: String| p.connect(&url));
    let on_credentials =
        use_page_callback(&latest, |p, credentials| p.set_credentials(credentials));
    let (refused, ask_credentials) =
        refused_for_good(&state.services).map_or((None, false), |(text, ask)| (Some(text), ask));
    let on_qos = use_page_callback(&latest, |p, qos| p.set_qos(qos));
    let on_protocol = use_page_callback(&latest, |p, value: String| p.set_protocol(&value));
    let on_loaded = use_page_callback(
        &latest,
        |p, (name, result): super::recording_bar::Loaded| p.load(name, result),
    );
    let on_speed = use_page_callback(&latest, |p, speed| p.set_speed(speed));
    let on_flow = use_page_callback(&latest, |p, (field, text): (FlowField, String)| {
        p.set_flow_field(field, &text)
    });
    let on_deliver_again = use_page_callback(&latest, |p, seq: u64| p.deliver_again(seq));
    let on_retry_refused = use_page_callback(&latest, |p, _| p.retry_refused());
    let on_probe = use_page_callback(&latest, |p, _| p.publish_outside_acl());
    let on_reset_brokers = use_page_callback(&latest, |p, _| p.use_page_broker_for_all());
    let on_pause = use_page_callback(&latest, |p, _| p.toggle_pause());
    let on_step = use_page_callback(&latest, |p, _| p.step());
    let on_jump = use_page_callback(&latest, |p, _| p.jump());
    let on_copy = use_page_callback(&latest, |p, _| p.copy_link());
    let on_clear = use_page_callback(&latest, |p, _| p.clear());
    let on_poison = use_page_callback(&latest, |p, _| p.send_poison());
    let sagas_in_flight = use_page_callback(&latest, |p, ()| p.sagas_in_flight());
    let on_replace = use_page_callback(&latest, |p, model| p.replace_read_model(model));
    let live = state.replaying.is_none();
    // The page's scheme does not change while it runs: read once, not on every render.
    let page_https = *use_memo((), |_| crate::address_bar::over_https());
    // A recording names the instances its page ran, not this page's setting.
    let payment_instances = if live {
        state.payment_instances
    } else {
        trace.0.borrow().recorded_payment_instances.max(1)
    };
    // QueryService crashed: a rebuild does not replace its read model.
    let query_crashed = state
        .services
        .iter()
        .any(|s| s.id == ServiceId::Query && s.crashed_at.is_some());
    let on_retry = use_page_callback(
        &latest,
        |p, (id, service, topic, payload): super::dead_letters_panel::RetryRequest| {
            p.retry_dead_letter(id, service, &topic, payload)
        },
    );
    let on_discard = use_page_callback(&latest, |p, id| p.discard_dead_letter(id));
    let on_stock = use_page_callback(&latest, |p, text: String| {
        p.set_flow_field(FlowField::Stock, &text)
    });
    let on_panel = use_page_callback(&latest, |p, panel| p.choose_panel(panel));
    let on_crash = use_page_callback(&latest, |p, service| p.crash(service));
    let on_restart = use_page_callback(&latest, |p, service| p.restart(service));
    let on_session = use_page_callback(&latest, |p, value: String| p.set_session(&value));
    let on_instances =
        use_page_callback(&latest, |p, value: String| p.set_payment_instances(&value));

    // The first render draws the header and the broker's section (the badges); the rest of
    // the page follows one task later.
    let below = use_after_first_render();
    // A link to a part of the page (`#sequence-title`) lands on it once it is drawn.
    use_fragment_target(below);
    // A reload comes back where the learner was, once the whole page is drawn.
    use_reload_scroll(below);

    // A part scrolled out of sight is drawn again at most once a second (under load, most of
    // the page's time is drawing).
    let flow_ref = use_node_ref();
    let sequence_ref = use_node_ref();
    let inspector_ref = use_node_ref();
    let flow_on_screen = use_on_screen(flow_ref.clone(), below && state.panel.shows(Panel::Flow));
    let sequence_on_screen = use_on_screen(
        sequence_ref.clone(),
        below && state.panel.shows(Panel::Sequence),
    );
    let busy = use_busy();
    let inspector_on_screen = use_on_screen(
        inspector_ref.clone(),
        below && state.panel.shows(Panel::Packets),
    );
    let flow_version = use_while_on_screen(flow_on_screen, state.trace_version);
    let sequence_version = use_while_on_screen(sequence_on_screen, state.trace_version);
    // Out of sight while the page is busy the inspector is drawn once a second, but never with
    // the cursor of the other source: a recording just loaded, drawn with the live page's
    // "everything" for up to a second, listed its last packet first before the replay had drawn
    // any (a break-test).
    let below_now = trace.0.borrow().playback.shown().map(|s| s.below);
    let cursor_seen = use_mut_ref(|| below_now.is_some());
    let cursor_switched = cursor_seen.replace(below_now.is_some()) != below_now.is_some();
    let (inspector_version, inspector_below) = use_while_on_screen(
        inspector_on_screen || cursor_switched || !busy,
        (state.trace_version, below_now),
    );

    // The logs and the notifications, too, are drawn once a second while out of sight, and the
    // panels below the wire while out of sight and busy: at 100 orders a second they are most
    // of what there is to draw.
    let main_ref = use_node_ref();
    let orders_ref = use_node_ref();
    let broker_ref = use_node_ref();
    let broker_on_screen = use_on_screen(broker_ref.clone(), true);
    let outages_version = use_while_on_screen(broker_on_screen, state.trace_version);
    let main_on_screen = use_on_screen(main_ref.clone(), below);
    // The inspector and the panels below the wire are held back out of sight only while the
    // page is busy (`data-busy`, decision 0017): on a calm page a redraw costs little, and what
    // each part says agrees with the others at every moment, as a learner reading the page
    // (or a test) expects. Each panel below the wire is a part of its own: the section is three screens and more
    // long, and one answer for all of it drew the read model and the analytics, far down,
    // whenever the Orders panel's top was in sight (under the sequence diagram).
    let letters_ref = use_node_ref();
    let store_ref = use_node_ref();
    let query_ref = use_node_ref();
    let analytics_ref = use_node_ref();
    let (orders_on_screen, orders_version) =
        use_part_version(orders_ref.clone(), below, busy, state.trace_version);
    let (letters_on_screen, letters_version) =
        use_part_version(letters_ref.clone(), below, busy, state.trace_version);
    let (store_on_screen, store_version) =
        use_part_version(store_ref.clone(), below, busy, state.trace_version);
    let (query_on_screen, query_version) =
        use_part_version(query_ref.clone(), below, busy, state.trace_version);
    let (analytics_on_screen, analytics_version) =
        use_part_version(analytics_ref.clone(), below, busy, state.trace_version);
    // The subscriptions as the broker answered them, from the same projection as the badges.
    let statuses = trace.0.borrow().statuses();
    let subscriptions_of = |id: ServiceId| {
        statuses
            .iter()
            .find(|(service, _)| *service == id)
            .map(|(_, status)| status.subscriptions(id, state.flow.saga))
            .unwrap_or_default()
    };
    let (logged, (notifications, notifications_dropped), subscriptions) = use_while_on_screen(
        main_on_screen,
        (
            LOGGED.map(|id| state.service(id).clone()),
            (state.notifications.clone(), state.notifications_dropped),
            LOGGED.map(subscriptions_of),
        ),
    );
    let logs = logged
        .into_iter()
        .zip(subscriptions)
        .map(|(service, subscriptions)| {
            let id = service.id;
            let shared = (id == ServiceId::Payment && state.payment_instances > 1)
                .then(|| (share_group(id, &state.session_tag), state.payment_instances));
            html! { <EventLog {service} {subscriptions} {shared} /> }
        })
        .collect::<Html>();
    let badges = state
        .services
        .iter()
        .map(|s| ServiceBadge {
            instance: s.instance(),
            client_id: s.client_id.clone(),
            link: s.link.clone(),
            crashed: s.crashed_at.is_some(),
            presence: s.presence.clone(),
            unrelayed: s.unrelayed.clone(),
            connected_at: s.connected_at.clone(),
        })
        .collect::<Vec<_>>();
    // The in-page broker is offered while no running service has a connection and one of them
    // found nothing usable at its address: not reachable, silent (no WebSocket handshake or
    // CONNACK in time), or closed before CONNACK. Kept while a retry is under way (a newcomer's
    // break-test: the button blinked away at every retry, and never came for a silent port).
    let running = || badges.iter().filter(|b| !b.crashed);
    let unreachable = !running().any(|b| matches!(b.link, broker_bridge::Link::Connected { .. }))
        && running().any(|b| match &b.link {
            broker_bridge::Link::Disconnected { reason, .. } => nothing_usable(reason),
            broker_bridge::Link::Connecting {
                last_failure: Some(reason),
                ..
            } => nothing_usable(reason),
            _ => false,
        });

    html! {
        <>
            <header class="page-header">
                // Keyboard users' way past the diagrams' many stops (a newcomer counted 96 Tabs
                // to the first packet): hidden until one of them has the focus. Their targets
                // take the focus (tabindex -1), so a screen reader says where the learner landed.
                <nav class="skip-links" aria-label="Skip to a part of the page" data-testid="skip-links">
                    <a href="#order-form-title">{ "Skip to the order form" }</a>
                    <a href="#the-settings">{ "Skip to the settings: delivery, saga, failures, duplicates" }</a>
                    <a href="#the-wire">{ "Skip to the wire: recordings, sequence diagram, packets" }</a>
                    // Past the sequence diagram's arrows too, each a stop (45-AU F3: 54 Tabs
                    // from the wire to the first packet).
                    <a href="#inspector-title">{ "Skip to the packet inspector" }</a>
                    <a href="#the-orders">{ "Skip to the orders, dead letters and event store" }</a>
                </nav>
                <h1>{ "Event-driven architecture playground" }</h1>
                <p class="lede">
                    { "The four services of an order flow, and QueryService reading their event \
                       store, run in this page, each its own MQTT client of a real broker \
                       (Mosquitto, or another you name). " }
                    <a href="#order-form-title" data-testid="lede-order-link">{ "Place an order" }</a>
                    { " below and watch the events cross the broker; then break things with the " }
                    <a href="#the-settings" data-testid="lede-settings-link">{ "settings" }</a>
                    { " under the flow diagram." }
                </p>
            </header>
            // Another page's services can come online at any moment, unasked: the warning floats
            // over the page's foot instead of pushing everything below it down under the mouse.
            <OtherPagesAlert others={state.other_playgrounds.clone()} namespace={state.namespace.clone()} />
            <section class="broker" aria-label="Broker connection" ref={broker_ref} data-on-screen={broker_on_screen.to_string()}>
                // Keyed by the URL: a broker chosen elsewhere (the in-page offer) shows in the field.
                // Alone in its own element: a keyed child among unkeyed siblings came back after
                // them when its key changed, and the field moved below the notes about it (a
                // newcomer's break-test: "put its ws:// URL above" with the field below).
                <div class="broker-bar-slot">
                    <BrokerBar key={state.broker_url.clone()} url={state.broker_url.clone()} error={state.broker_url_error.clone()} on_connect={on_connect.clone()} />
                </div>
                <InPageBroker url={state.broker_url.clone()} unreachable={unreachable} {on_connect} />
                <BrokerSwitchNote trace={trace.clone()} version={outages_version} note={state.broker_switch_note.clone()}
                    left={state.broker_switch_left} />
                <CredentialsPanel in_use={page.credentials().in_use()} {refused} {ask_credentials} probe={state.acl_probe.clone()}
                    on_apply={on_credentials} on_retry={on_retry_refused}
                    {on_probe} />
                <BrokerCapabilitiesView capabilities={state.broker_capabilities.clone()} warnings={broker_fit::of_state(state)}
                    refused={broker_fit::refused_capabilities(state)} />
                <NamespaceNote namespace={state.namespace.clone()} error={state.namespace_error.clone()}
                    in_page={broker_bridge::url::is_in_page(&state.broker_url)} broker_url={state.broker_url.clone()} />
                <ServiceBrokersList page_url={state.broker_url.clone()} brokers={state.service_brokers.clone()}
                    error={state.service_brokers_error.clone()} on_reset={on_reset_brokers} />
                // The services first: on opening, the first screen shows them connected (or why
                // not), then the order form.
                <StatusStrip services={badges} broker_url={state.broker_url.clone()} replaying={state.replaying.is_some()}
                    monitor_lost={state.monitor_lost.clone()} page_https={page_https}
                    on_crash={live.then_some(on_crash)} on_restart={live.then_some(on_restart)} />
                <Outages trace={trace.clone()} version={outages_version} saga={state.flow.saga} />
                // What the link asked that the page did not take is said on the first screen: the
                // settings, where each refusal stands beside its field, are further down.
                if let Some(notice) = &state.link_notice {
                    <p class="error" role="alert" data-testid="link-notice">{ sentence(notice) }</p>
                }
                { refusals_pointer(&state.refusals_shown()) }
            </section>
            if below {
                <main class="layout" ref={main_ref} data-on-screen={main_on_screen.to_string()}>
                    <div class="column">
                        <OrderForm {on_place} {on_burst} placed_order={state.placed_order} form_error={state.form_error.clone()}
                            created_topic={AttrValue::from(state.namespace.wire(eda_core::domain::topics::ORDERS_CREATED))}
                            order_gate={state.order_gate.clone()} />
                        <Notifications items={notifications} dropped={notifications_dropped} />
                    </div>
                    <div class="column logs">{ logs }</div>
                </main>
                <section class="layout wide picture-controls" aria-label="The picture">
                    <PlaybackBar trace={trace.clone()} version={state.trace_version}
                        error={state.playback_error.clone()} {on_speed} {on_pause}
                        {on_step} {on_jump} />
                    <PanelChoice selected={state.panel} on_choose={on_panel} />
                </section>
                if state.panel.shows(Panel::Flow) {
                    <section class="layout wide" aria-label="The flow" ref={flow_ref} data-on-screen={flow_on_screen.to_string()}>
                        <FlowDiagram trace={trace.clone()} version={flow_version}
                            placed_order={state.placed_order} form_error={state.form_error.clone()}
                            broker_url={live.then(|| state.broker_url.clone())} on_screen={flow_on_screen}
                            payment_instances={payment_instances}
                            presence={state.services.iter().filter(|s| s.number == 1).filter_map(|s| Some((s.id, s.presence.as_ref()?.short_words(s.link.is_connected(), s.crashed_at.is_some())))).collect::<Vec<_>>()} />
                    </section>
                }
                // The settings that break things come after the order form and the flow diagram:
                // a newcomer opening the page sees the services, the form and the picture first
                // (the settings, above them, filled more than the first screen).
                <section class="layout wide" id="the-settings" tabindex="-1" aria-labelledby="settings-title">
                    <h2 id="settings-title">{ "Settings: break things on purpose" }</h2>
                    <div class="settings">
                        <QosSettings qos={state.qos} error={state.qos_error.clone()} on_change={on_qos} />
                        <div class="setting">
                            <DraftField id="payment-delay" label="Payment works (ms)" min="0" max="10000" step="100"
                                value={state.flow.delays.payment.as_millis().to_string()} on_change={on_payment_delay} />
                            <DraftField id="inventory-delay" label="Inventory works (ms)" min="0" max="10000" step="100"
                                value={state.flow.delays.inventory.as_millis().to_string()} on_change={on_inventory_delay} />
                        </div>
                        if let Some(error) = &state.delays_error {
                            <p class="error" role="alert" data-testid="delays-error">{ sentence(error) }</p>
                        }
                        <CopyLink copied={page.link_copied()} {on_copy} />
                        <ProtocolSelect protocol={state.protocol} error={state.protocol_error.clone()} on_change={on_protocol} />
                        <SettingSelect id="session-mode" label="Sessions" choices={session_choices()}
                            selected={state.session.value()} error={state.session_error.clone()} on_change={on_session} />
                        <SagaSettings flow={state.flow.clone()} error={state.flow_error.clone()} waiting={state.style_waiting} on_change={on_flow.clone()} />
                        <StockPanel configured={state.flow.stock.clone()} levels={state.stock.clone()} held={state.stock_held.clone()}
                            uncounted={state.uncounted.iter().cloned().collect::<Vec<_>>()} on_change={on_stock}
                            error={state.stock_error.clone()} restored={state.stock_restored_note()}
                            retained={state.broker_capabilities.as_ref().is_none_or(|c| c.retain_available)} />
                        <DeliverySettings flow={state.flow.clone()} on_change={on_flow.clone()} error={state.delivery_error.clone()} />
                        <PaymentInstances instances={state.payment_instances} session={state.session}
                            in_page={broker_bridge::url::is_in_page(state.service_brokers.url_of(ServiceId::Payment, &state.broker_url))}
                            error={state.instances_error.clone()} on_change={on_instances} />
                    </div>
                </section>
                <section class="layout wide" id="the-wire" tabindex="-1" aria-label="The wire">
                    <RecordingBar trace={trace.clone()} replaying={state.replaying.clone()} left_open={state.left_open}
                        error={state.recording_error.clone()} {on_loaded} {on_clear}
                        {sagas_in_flight} />
                    if state.panel.shows(Panel::Sequence) {
                        <div class="part" ref={sequence_ref} data-on-screen={sequence_on_screen.to_string()}>
                            <SequenceDiagram trace={trace.clone()} version={sequence_version} on_select={on_select_packet.clone()} on_screen={sequence_on_screen} />
                        </div>
                    }
                    if state.panel.shows(Panel::Packets) {
                        <div class="part" ref={inspector_ref} data-on-screen={inspector_on_screen.to_string()}>
                            <PacketInspector trace={trace.clone()} version={inspector_version}
                                selected={state.selected_packet} on_select={on_select_packet} below={inspector_below}
                                on_deliver_again={live.then(|| on_deliver_again.clone())} />
                        </div>
                    }
                </section>
                <section class="layout wide" id="the-orders" tabindex="-1" aria-label="The orders">
                    <div class="part" ref={orders_ref} data-on-screen={orders_on_screen.to_string()}>
                        <OrdersPanel trace={trace.clone()} version={orders_version}
                            show_handlers={payment_instances > 1}
                            clean_session={state.session == eda_core::state::SessionMode::Clean}
                            on_deliver_again={live.then(|| on_deliver_again.clone())} />
                    </div>
                    <div class="part" ref={letters_ref} data-on-screen={letters_on_screen.to_string()}>
                        <DeadLettersPanel trace={trace.clone()} version={letters_version}
                            kept={live.then(|| state.dead_letters.clone())}
                            in_memory_only={matches!(state.store_note, Some(Err(_)))} on_retry={live.then_some(on_retry)}
                            on_discard={live.then_some(on_discard)} on_poison={live.then_some(on_poison)}
                            retry_after={state.flow.retry_after} retry_error={state.retry_error.clone()}
                            on_flow={live.then(|| on_flow.clone())}
                            retry_refusal={state.redelivery_letter.clone().zip(state.redelivery_error.clone())
                                .map(|(id, reason)| (id, reason, state.redelivery_repeated()))} />
                        if let (Some(error), None) = (&state.redelivery_error, &state.redelivery_letter) {
                            <p class="error" role="alert" data-testid="redelivery-error">{ sentence(error) }{ state.redelivery_repeated() }</p>
                        }
                        if let Some(note) = &state.redelivery_note {
                            <p class="muted" role="status" data-testid="redelivery-note">{ note.clone() }</p>
                        }
                    </div>
                    <div class="part" ref={store_ref} data-on-screen={store_on_screen.to_string()}>
                        <EventStorePanel trace={trace.clone()} version={store_version} note={state.store_note.clone()} />
                    </div>
                    <div class="part" ref={query_ref} data-on-screen={query_on_screen.to_string()}>
                        <QueryPanel trace={trace.clone()} version={query_version}
                            projection_delay={state.flow.projection_delay} on_flow={on_flow.clone()}
                            delay_error={state.projection_error.clone()}
                            query_crashed={query_crashed}
                            on_replace={(live && !query_crashed).then_some(on_replace)} />
                    </div>
                    <div class="part" ref={analytics_ref} data-on-screen={analytics_on_screen.to_string()}>
                        <AnalyticsPanel trace={trace.clone()} version={analytics_version} />
                    </div>
                </section>
            }
        </>
    }
}

/// Whether `reason` says nothing usable answered at the broker's address: unreachable, silent
/// (no answer to the WebSocket handshake, or no CONNACK, in time), or closed before CONNACK.
fn nothing_usable(reason: &broker_bridge::ConnectionError) -> bool {
    use broker_bridge::ConnectionError as E;
    reason.is_unreachable()
        || matches!(
            reason,
            E::OpenTimeout { .. } | E::ConnectTimeout { .. } | E::ClosedBeforeConnAck { .. }
        )
}
