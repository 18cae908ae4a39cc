//! The page's start, before Yew's first render: the state from the link, the trace, the store
//! keeper and the four services, connecting as soon as the wasm runs.
//!
//! A first render takes a few hundred milliseconds on a modest machine; a broker such as aedes
//! lets five clients in within ~50 ms. So `main` calls [`start`] before
//! `yew::Renderer::render`, and `use_playground` ([`crate::hooks`]) takes what it made
//! ([`take`]) instead of making it. What the services report before the page listens waits in
//! a [`Mailbox`] and is applied to the page's first state; after that it goes straight to the
//! reducer. The first render itself waits, briefly, for the broker's answers to the CONNECTs
//! sent at start ([`after_first_answers`]), so that it draws the services connected.
//!
//! ```ignore
//! frontend::early_sockets::offer_all();
//! frontend::boot::start();                      // the clients connect now
//! frontend::boot::after_first_answers(|| {      // their CONNACKs come first (≤ 100 ms)
//!     yew::Renderer::<App>::new().render();     // use_playground() calls boot::take()
//! });
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::ProtocolVersion;
use eda_core::services::credentials::Credentials;
use eda_core::services::Flow;
use eda_core::state::query::{fragment_notice, namespace_from_query, params_with_credentials};
use eda_core::state::{Action, SessionMode, State};
use eda_core::trace::playback::Playback;
use eda_core::trace::PacketHistory;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::mailbox::Mailbox;
use crate::runtime::{Connection, Handover, Runtime};
use crate::store_keeper::StoreKeeper;
use crate::{address_bar, early_sockets, tab_session, SharedTrace};

/// The running services, if any (none while a recording is shown).
pub type RuntimeSlot = Rc<RefCell<Option<Rc<Runtime>>>>;

/// What the services' connections are made with: a change of any of them starts a new runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct Connect {
    pub protocol: ProtocolVersion,
    pub session: SessionMode,
    pub payment_instances: u8,
    pub credentials: Credentials,
}

impl Connect {
    /// What `state` and `credentials` say.
    pub fn of(state: &State, credentials: &Credentials) -> Self {
        Connect {
            protocol: state.protocol,
            session: state.session,
            payment_instances: state.payment_instances,
            credentials: credentials.clone(),
        }
    }
}

/// What the page starts with.
pub struct Boot {
    /// The state from the link, before anything the services reported.
    pub state: State,
    pub trace: SharedTrace,
    pub runtime: RuntimeSlot,
    pub keeper: Rc<StoreKeeper>,
    /// The services' and the keeper's reports, held until the page listens.
    pub reports: Mailbox<Action>,
    /// What the running services were started with, until the page's first effect has seen
    /// it (then the effect starts nothing new).
    pub started_with: RefCell<Option<Connect>>,
}

thread_local! {
    static STARTED: RefCell<Option<Boot>> = const { RefCell::new(None) };
}

/// Starts the page: reads the link, takes the tab's session tag, starts the store keeper and
/// the services. Call once, before the first render; [`take`] hands it to the page.
pub fn start() {
    let boot = Boot::start();
    STARTED.with(|started| *started.borrow_mut() = Some(boot));
}

/// What [`start`] made, once; or, if nothing was started, a start made now.
pub fn take() -> Boot {
    STARTED
        .with(|started| started.borrow_mut().take())
        .unwrap_or_else(Boot::start)
}

impl Boot {
    fn start() -> Boot {
        let pairs = address_bar::query_pairs();
        let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        // A broker URL with a user name or password is refused (the page says so), and taken
        // out of the address so no copied link repeats it.
        address_bar::forget(&params_with_credentials(pairs.clone()));
        // The tab's tag is kept per namespace (tab_session): read `?ns=` as the state will.
        let (namespace, _) =
            namespace_from_query(pairs.clone().find(|(k, _)| *k == "ns").map(|(_, v)| v));
        let mut state = State::from_link(pairs, &tab_session::session_tag(&namespace));
        // Parameters after a `#` never reach the query: say so (46-AZ F5).
        let fragment = gloo::utils::window().location().hash().unwrap_or_default();
        if let Some(notice) = fragment_notice(fragment.trim_start_matches('#')) {
            state.link_notice = Some(match state.link_notice.take() {
                Some(before) => format!("{before} {notice}"),
                None => notice,
            });
        }
        state.link_reloaded = reloaded();
        // The state says why each refused value was ignored; the address keeps only what the
        // page runs, each value as the page writes it, so copying it shares a link that is not
        // refused again.
        address_bar::tidy();

        let trace = SharedTrace::new();
        trace.0.borrow_mut().playback = Playback::live(state.speed);
        // Its packets' topics travel under the page's namespace for good (`?ns=`).
        {
            let packets = &mut trace.0.borrow_mut().packets;
            *packets =
                PacketHistory::new(packets.capacity()).with_namespace(state.namespace.clone());
        }

        let runtime: RuntimeSlot = Rc::default();
        let reports = Mailbox::new();
        // The tab's database: read back once (a reload restores the participants' memory,
        // OrderService's store, the dead letters left to handle and the messages waiting for
        // their next try), then kept in
        // step with every event OrderService appends, every dead letter published, retried or
        // discarded, and every try kept or ended.
        let keeper = {
            let (report, runtime, tries_to) = (reports.clone(), runtime.clone(), runtime.clone());
            let (restored, rows) = (reports.clone(), trace.clone());
            let participants_to = runtime.clone();
            let letters_to = runtime.clone();
            StoreKeeper::start(
                &state.session_tag,
                &state.namespace,
                move |note| report.post(Action::StoreNote(note)),
                move |memos, stock| {
                    // Left in the database while a recording is shown (no services run).
                    if let Some(runtime) = participants_to.borrow().as_ref() {
                        runtime.restore_participants(memos, stock);
                    }
                },
                move |store| match runtime.borrow().as_ref() {
                    Some(runtime) => runtime.restore_store(store),
                    None => Err("The stored orders were not restored: the services are not \
                                 running (a recording is shown)."
                        .into()),
                },
                move |dead_letters| {
                    // The Orders panel's row of an order OrderService dead-lettered comes back
                    // with them (no store holds such an order).
                    rows.0
                        .borrow_mut()
                        .orders
                        .restore_dead_lettered(crate::clock::now(), &dead_letters);
                    // Those the broker had not acknowledged go out again (left for the next
                    // reload while a recording is shown).
                    if let Some(runtime) = letters_to.borrow().as_ref() {
                        runtime.publish_unacked_dead_letters(&dead_letters);
                    }
                    restored.post(Action::DeadLettersRestored(dead_letters));
                    restored.post(Action::TraceChanged);
                },
                move |tries, placed| {
                    // Left in the database while a recording is shown (no services run).
                    if let Some(runtime) = tries_to.borrow().as_ref() {
                        if !tries.is_empty() {
                            runtime.restore_tries(tries);
                        }
                        runtime.restore_placed(placed);
                    }
                },
            )
        };

        let credentials = Credentials::none();
        let boot = Boot {
            started_with: RefCell::new(Some(Connect::of(&state, &credentials))),
            state,
            trace,
            runtime,
            keeper,
            reports,
        };
        start_services(
            &boot.runtime,
            &boot.state,
            &credentials,
            &boot.trace,
            &boot.keeper,
            &boot.reports,
        );
        boot
    }
}

/// Starts the services in `slot` with `state`'s connection settings and `credentials`,
/// replacing those running: new connections, the same services (their memory and schedule
/// carry over; the first start takes them from `state`'s flow, kept by `keeper`).
pub fn start_services(
    slot: &RuntimeSlot,
    state: &State,
    credentials: &Credentials,
    trace: &SharedTrace,
    keeper: &Rc<StoreKeeper>,
    reports: &Mailbox<Action>,
) {
    let old = slot.borrow_mut().take();
    if old
        .as_ref()
        .is_some_and(|old| old.credentials().page() != credentials.page())
    {
        reports.post(Action::StatusReaderChanged);
    }
    let handover = match old {
        Some(old) => old.shut_down(Some(state.payment_instances)),
        None => Handover::new(Flow::new(state.flow.clone())).kept_by(keeper.clone()),
    };
    let connection = Connection {
        url: &state.broker_url,
        brokers: &state.service_brokers,
        session_tag: &state.session_tag,
        qos: state.qos,
        protocol: state.protocol,
        session: state.session,
        payment_instances: state.payment_instances,
        credentials,
        namespace: &state.namespace,
    };
    let report = reports.clone();
    let started = Runtime::start(connection, handover, trace.clone(), move |action| {
        report.post(action);
        // A service connected (or refused): the first render may have waited for it.
        render_if_answered();
    });
    *slot.borrow_mut() = Some(started);
    // The services have taken the sockets index.html opened for them.
    early_sockets::close_unclaimed();
}

/// How long the first render waits, at most, for the answers to the CONNECTs sent at start:
/// about what the first render itself costs on a modest machine (~50–100 ms of the main
/// thread), beyond which rendering first would have shown the services no later.
pub const ANSWERS_WAIT: Duration = Duration::from_millis(100);

thread_local! {
    /// The first render, while it waits for those answers.
    static FIRST_RENDER: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
}

/// Runs `render` once no service started by [`start`] awaits a CONNACK (each is connected,
/// refused, or has no socket open yet), or [`ANSWERS_WAIT`] after the check, whichever comes
/// first; at once without a `window`.
///
/// Why: a CONNACK that arrives during the first render (one long task) waits for its end, and
/// the badge it turns `connected` waits for a second render; a broker nearby answers a CONNECT
/// within a few ms, so the first render waits for it and draws the services connected. With no
/// socket open yet (a broker slow to shake hands, such as Mosquitto 2.0.11 at ~200 ms a
/// handshake) nothing is awaited and the page renders at once. Checked from a microtask queued
/// now: after the clients have taken over the sockets `index.html` opened and queued their
/// CONNECTs (`broker_bridge::ws` replays an early `open` from a microtask queued during
/// [`start`]; the bytes leave from its flush's zero-delay timer, while the page waits); then
/// again on every report of the services until the render.
pub fn after_first_answers(render: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else {
        return render();
    };
    FIRST_RENDER.with(|first| *first.borrow_mut() = Some(Box::new(render)));
    let check = Closure::once_into_js(move || {
        if awaiting_answers() {
            let wait = ANSWERS_WAIT.as_millis() as u32;
            gloo::timers::callback::Timeout::new(wait, render_first).forget();
        } else {
            render_first();
        }
    });
    window.queue_microtask(check.unchecked_ref());
}

/// Renders now if the first render waits and nothing it waits for is left.
fn render_if_answered() {
    let waiting = FIRST_RENDER.with(|first| first.borrow().is_some());
    if waiting && !awaiting_answers() {
        render_first();
    }
}

fn render_first() {
    if let Some(render) = FIRST_RENDER.with(|first| first.borrow_mut().take()) {
        render();
    }
}

/// Whether a service started by [`start`] has sent its CONNECT and awaits the CONNACK.
fn awaiting_answers() -> bool {
    STARTED.with(|started| {
        let started = started.borrow();
        let runtime = started
            .as_ref()
            .and_then(|boot| boot.runtime.borrow().clone());
        runtime.is_some_and(|runtime| runtime.awaits_connack())
    })
}

/// Whether the browser loaded this page by its reload (the Navigation Timing entry's `type`
/// is `"reload"`, W3C Navigation Timing Level 2 §4): the link is then the one the tab had, not
/// a later one. `false` when the browser does not say.
fn reloaded() -> bool {
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else {
        return false;
    };
    let entries = performance.get_entries_by_type("navigation");
    let entry = entries.get(0);
    js_sys::Reflect::get(&entry, &"type".into())
        .ok()
        .and_then(|kind| kind.as_string())
        .is_some_and(|kind| kind == "reload")
}
