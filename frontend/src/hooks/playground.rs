//! `use_playground()`: the page's state, its trace and its four services, and a handle whose
//! methods are everything the learner can do. Components call the methods; what each does is
//! decided in the core (the reducer, the trace's operations, the query grammar) and carried out
//! by the runtime.

use std::cell::RefCell;
use std::rc::Rc;

use eda_core::domain::events::DomainEvent;
use eda_core::domain::order_form::ValidOrder;
use eda_core::domain::order_form::{validate, OrderDraft};
use eda_core::outside_text::isolate;
use eda_core::services::credentials::Credentials;
use eda_core::services::dead_letter::POISON_CUSTOMER;
use eda_core::services::instances::{parse_instances, Instance};
use eda_core::services::order::place;
use eda_core::services::settings::still_in_use;
use eda_core::services::{FlowField, ServiceId};
use eda_core::state::broker_switch::LeftInFlight;
use eda_core::state::query::{check_broker_url, parse_delay, protocol_from_query};
use eda_core::state::service_brokers::ServiceBrokers;
use eda_core::state::{Action, FlowQos, Panel, SessionMode, Setting, State};
use eda_core::trace::playback::Speed;
use eda_core::trace::Trace;
use yew::prelude::*;

use super::{use_animation_frames, Page};
use crate::boot::{self, Connect};
use crate::runtime::Runtime;
use crate::{address_bar, clock, SharedTrace};

/// How many orders "Place 10 orders" places.
pub const BURST: usize = 10;

/// The page and what the learner can do to it. Cheap to clone.
#[derive(Clone)]
pub struct Playground {
    state: UseReducerHandle<Page>,
    trace: SharedTrace,
    runtime: Rc<RefCell<Option<Rc<Runtime>>>>,
    copied: UseStateHandle<bool>,
    /// Who the clients sign in as: in this tab's memory only (never the link, the state, the
    /// trace or the tab's storage); a reload forgets them.
    credentials: UseStateHandle<Credentials>,
}

impl Playground {
    /// The page's state as of this render.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Every packet, click and service event, and the view's clock.
    pub fn trace(&self) -> &SharedTrace {
        &self.trace
    }

    /// Who the clients sign in as.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Signs the clients in as `credentials` from now on: they connect anew
    /// (`use_playground` starts a new runtime when the credentials change).
    pub fn set_credentials(&self, credentials: Credentials) {
        self.credentials.set(credentials);
    }

    /// The clients the broker refused for good try again now.
    pub fn retry_refused(&self) {
        if let Some(runtime) = self.runtime.borrow().as_ref() {
            runtime.retry_refused();
        }
    }

    /// PaymentService publishes outside its ACL, to show least privilege at work.
    pub fn publish_outside_acl(&self) {
        let result = match self.runtime.borrow().as_ref() {
            Some(runtime) => runtime.publish_outside_acl(),
            None => Err("the services are not running (a recording is shown)".to_owned()),
        };
        if let Err(reason) = result {
            self.state.dispatch(Action::AclProbe(reason));
        }
    }

    /// Whether "Copy link" has copied the address.
    pub fn link_copied(&self) -> bool {
        *self.copied
    }

    /// Places `count` copies of `order` with OrderService; stops at the first refusal and
    /// says why in the form.
    pub fn place(&self, order: &ValidOrder, count: usize) {
        let placed = match self.runtime.borrow().as_ref() {
            Some(runtime) => runtime.place_orders(order, count),
            None => {
                self.state.dispatch(Action::OrderRefused(
                    "The services are not running (a recording is shown, or they are still \
                     starting)."
                        .into(),
                ));
                return;
            }
        };
        let mut actions: Vec<Action> = placed.orders.into_iter().map(Action::OrderPlaced).collect();
        actions.extend(placed.refused.map(Action::OrderRefused));
        self.state.dispatch(Action::Batch(actions));
    }

    /// How long PaymentService (or InventoryService) works on an order, from the text of its
    /// field: whole milliseconds, 0 to 10000; anything else is explained and ignored.
    pub fn set_delay(&self, service: ServiceId, text: &str) {
        let name = if service == ServiceId::Payment {
            "Payment"
        } else {
            "Inventory"
        };
        match parse_delay(name, text) {
            Ok(delay) => {
                let mut delays = self.state.flow.delays;
                let setting = if service == ServiceId::Payment {
                    delays.payment = delay;
                    Setting::PaymentDelay(delay)
                } else {
                    delays.inventory = delay;
                    Setting::InventoryDelay(delay)
                };
                if let Some(runtime) = self.runtime.borrow().as_ref() {
                    runtime.set_delays(delays);
                }
                address_bar::remember(&setting);
                self.state.dispatch(Action::DelayTaken(service, delays));
            }
            // The field's refusal says what still runs, as the other settings' do.
            Err(reason) => {
                let in_use = if service == ServiceId::Payment {
                    self.state.flow.delays.payment
                } else {
                    self.state.flow.delays.inventory
                };
                self.state.dispatch(Action::DelayRefused(
                    service,
                    still_in_use(&reason, "delay", in_use),
                ))
            }
        }
    }

    /// A saga or failure setting typed or picked in the page (the style, the payment rule, the
    /// stock, the deadline): used from the next message on, kept in the link, or explained.
    pub fn set_flow_field(&self, field: FlowField, text: &str) {
        let next = match self.state.flow.with(field, text) {
            Ok(next) => next,
            Err(reason) => return self.state.dispatch(Action::FlowRefused(field, reason)),
        };
        let setting = match field {
            FlowField::Saga => Setting::Saga(next.saga),
            FlowField::PaymentMode | FlowField::DeclineOver | FlowField::DeclinePercent => {
                Setting::Payment(next.payment)
            }
            FlowField::SagaTimeout => Setting::SagaTimeout(next.saga_timeout),
            FlowField::Stock => Setting::Stock(next.stock.clone()),
            FlowField::Dedupe => Setting::Dedupe(next.dedupe),
            FlowField::DuplicatesPercent => Setting::Duplicates(next.duplicates_percent),
            FlowField::ProjectionDelay => Setting::ProjectionDelay(next.projection_delay),
            FlowField::RetryAfter => Setting::RetryAfter(next.retry_after),
        };
        if let Some(runtime) = self.runtime.borrow().as_ref() {
            if field == FlowField::Stock {
                runtime.set_stock(next.stock.clone());
            } else {
                runtime.set_flow(next.clone());
            }
        }
        // The style chosen goes into the link at once, waiting or not: a reload meanwhile
        // follows the restored sagas' style until they end, then this one (`Flow::restore`;
        // 44-AQ F7: the link named the style only once the services followed it, and a reload
        // while the switch waited dropped the choice without a word).
        address_bar::remember(&setting);
        self.state.dispatch(Action::FlowTaken(field, next));
    }

    /// Publishes once more the PUBLISH traced as `seq` (its topic, payload and QoS), as a
    /// redelivery would; says why not in the recording bar's place for errors (a refusal while
    /// its client is crashed or not connected goes by itself once it could go:
    /// [`Runtime::deliver_again`]).
    pub fn deliver_again(&self, seq: u64) {
        let result = match self.runtime.borrow().as_ref() {
            Some(runtime) => runtime.deliver_again(seq),
            None => {
                Err("Deliver again: the services are not running (a recording is shown)".to_owned())
            }
        };
        self.state.dispatch(match result {
            Ok(note) => Action::RedeliveryDone(note),
            Err(sentence) => Action::RedeliveryRefused(sentence),
        });
    }

    /// Publishes a dead letter's message (perhaps fixed: `payload` is the text the learner left,
    /// or the original bytes of a message that was not text, left unedited)
    /// to its original topic with the client of the service that publishes that topic
    /// ([`eda_core::services::acl::publisher_of`]; `service`, the one that gave up, for a topic no service owns), so a
    /// least-privilege ACL allows the retry, and takes it off the list. Held back while it
    /// could not be delivered ([`Runtime::retry_dead_letter`]): then the page says why, and the
    /// dead letter stays listed.
    pub fn retry_dead_letter(&self, id: String, service: ServiceId, topic: &str, payload: Vec<u8>) {
        let result = match self.runtime.borrow().as_ref() {
            Some(runtime) => runtime
                .retry_dead_letter(service, topic, payload)
                .map(|()| runtime.forget_dead_letter(&id)),
            None => Err("Retry: the services are not running (a recording is shown)".to_owned()),
        };
        match result {
            Ok(()) => self.state.dispatch(Action::DeadLetterHandled(id)),
            Err(reason) => self.state.dispatch(Action::RetryRefused { id, reason }),
        }
    }

    /// Takes a dead letter off the list (and out of the tab's database) without publishing it.
    pub fn discard_dead_letter(&self, id: String) {
        if let Some(runtime) = self.runtime.borrow().as_ref() {
            runtime.forget_dead_letter(&id);
        }
        self.state.dispatch(Action::DeadLetterHandled(id));
    }

    /// Publishes a poison message: the form's example order for the customer
    /// [`POISON_CUSTOMER`], on which every service's handler fails. Held back, as an order is,
    /// while it could not reach its consumers ([`Runtime::send_poison`]).
    pub fn send_poison(&self) {
        let result = match (self.runtime.borrow().as_ref(), clock::wall_clock()) {
            (Some(runtime), Some(now)) => {
                let mut order = validate(&OrderDraft::seed_example())
                    .expect("the seed's example order is valid");
                order.customer_id = POISON_CUSTOMER.to_owned();
                let created = place(now, clock::fresh_id(), &order);
                let event = DomainEvent::from(created);
                runtime.send_poison(event.topic(), event.to_json())
            }
            (None, _) => {
                Err("Poison message: the services are not running (a recording is shown)".into())
            }
            (_, None) => Err("Poison message: the browser clock is out of range".to_owned()),
        };
        self.state.dispatch(match result {
            Ok(()) => Action::RedeliveryDone(None),
            Err(sentence) => Action::RedeliveryRefused(sentence),
        });
    }

    /// Crashes a service (or one of PaymentService's instances): its connection drops without
    /// DISCONNECT (the broker publishes its Last Will).
    pub fn crash(&self, instance: Instance) {
        if let Some(runtime) = self.runtime.borrow().as_ref() {
            runtime.crash(instance);
        }
    }

    /// Starts a crashed service (or instance) again, under the same client id.
    pub fn restart(&self, instance: Instance) {
        if let Some(runtime) = self.runtime.borrow().as_ref() {
            runtime.restart(instance);
        }
    }

    /// How many instances PaymentService runs, `1` to `3`: the services connect anew with
    /// them (more than one share its work through a shared subscription).
    pub fn set_payment_instances(&self, value: &str) {
        match parse_instances(value) {
            Ok(instances) => {
                address_bar::remember(&Setting::PaymentInstances(instances));
                // `use_playground` starts a new runtime when the number of instances changes.
                self.state
                    .dispatch(Action::PaymentInstancesChanged(instances));
            }
            Err(reason) => self.state.dispatch(Action::SharingRefused(reason)),
        }
    }

    /// Whether the broker keeps the services' sessions while they are away (`persistent` or
    /// `clean`): the services reconnect with it.
    pub fn set_session(&self, value: &str) {
        match SessionMode::parse(value) {
            Ok(mode) => {
                address_bar::remember(&Setting::Session(mode));
                // `use_playground` starts a new runtime when the session mode changes.
                self.state.dispatch(Action::SessionChanged(mode));
            }
            Err(reason) => self.state.dispatch(Action::SessionRefused(reason)),
        }
    }

    /// Connects the services to the broker at `raw` (a `ws://` or `wss://` URL), or says why
    /// not. What was in flight on the old broker (orders open, publishes not acknowledged) is
    /// said under the *Broker* field ([`eda_core::state::broker_switch`]).
    pub fn connect(&self, raw: &str) {
        match check_broker_url(raw) {
            Ok(url) => {
                // What the old broker keeps, and what goes out again on the new one: a note.
                let mut left = LeftInFlight::default();
                if let Some(runtime) = self.runtime.borrow().as_ref() {
                    left = runtime.in_flight();
                    runtime.set_url(&url);
                }
                address_bar::remember(&Setting::Broker(url.clone()));
                self.state.dispatch(Action::BrokerSwitched { url, left });
            }
            Err(e) => self.state.dispatch(Action::BrokerUrlInvalid(e)),
        }
    }

    /// Puts every service on the page's broker: the `?broker_<service>=` parameters go from the
    /// link, and the services that had a broker of their own move to the page's.
    pub fn use_page_broker_for_all(&self) {
        let none = ServiceBrokers::default();
        if let Some(runtime) = self.runtime.borrow().as_ref() {
            runtime.set_service_brokers(none.clone());
        }
        address_bar::remember(&Setting::ServiceBrokers(none.clone()));
        self.state.dispatch(Action::ServiceBrokersChanged(none));
    }

    /// Each topic's QoS from now on (the subscriptions are made again).
    pub fn set_qos(&self, qos: FlowQos) {
        if let Some(runtime) = self.runtime.borrow().as_ref() {
            runtime.set_qos(qos);
        }
        address_bar::remember(&Setting::Qos(qos));
        self.state.dispatch(Action::QosChanged(qos));
    }

    /// The MQTT version, `3.1.1` or `5`: the services connect anew with it.
    pub fn set_protocol(&self, value: &str) {
        let (protocol, _) = protocol_from_query(Some(value));
        address_bar::remember(&Setting::Protocol(protocol));
        // `use_playground` starts a new runtime when the state's protocol changes.
        self.state.dispatch(Action::ProtocolChanged(protocol));
    }

    /// QueryService's read model replaced by `model`, rebuilt from the event store.
    ///
    /// # Errors
    ///
    /// As [`crate::runtime::Runtime::replace_read_model`]: the events QueryService still holds
    /// in its projection delay, and the read model is left as it is.
    pub fn replace_read_model(&self, model: eda_core::store::ReadModel) -> Result<(), usize> {
        match self.runtime.borrow().as_ref() {
            Some(runtime) => runtime.replace_read_model(model),
            None => Ok(()),
        }
    }

    /// Forgets the packets, clicks, logs and notifications shown so far: the picture. The
    /// dead letters left to retry or discard stay listed (work to do, not picture).
    pub fn clear(&self) {
        self.trace.0.borrow_mut().clear(clock::now());
        self.state.dispatch(Action::Cleared);
    }

    /// How many sagas the running services have not ended (0 with none running, as while a
    /// recording is shown): what loading a recording now would stop half-done.
    pub fn sagas_in_flight(&self) -> usize {
        self.runtime
            .borrow()
            .as_ref()
            .map_or(0, |runtime| runtime.sagas_in_flight())
    }

    /// Shows a loaded recording instead of the live session (the services stop), or says why
    /// the file named `name` could not be loaded.
    pub fn load(&self, name: String, loaded: Result<Trace, String>) {
        match loaded {
            Ok(recorded) => {
                let mut left_open = None;
                let old = self.runtime.borrow_mut().take();
                if let Some(old) = old {
                    // A recording is shown instead: the services' memory goes with them, and
                    // the sagas in flight wait in OrderService's store for Back to live (a
                    // reload). Counted as the services count them: an order cancelled whose
                    // charge is still in hand is one, though its row says cancelled.
                    left_open = Some(old.sagas_in_flight());
                    let _ = old.shut_down(None);
                }
                self.trace.0.borrow_mut().replay(recorded, clock::now());
                self.state
                    .dispatch(Action::ReplayLoaded { name, left_open });
            }
            Err(reason) => self.state.dispatch(Action::RecordingRefused(format!(
                "{}: {reason}",
                isolate(&name)
            ))),
        }
    }

    /// Copies the page's address, which holds every setting changed in the page.
    pub fn copy_link(&self) {
        let (Some(window), Some(href)) = (web_sys::window(), address_bar::current()) else {
            return;
        };
        let _ = window.navigator().clipboard().write_text(&href);
        self.copied.set(true);
    }

    /// Pauses the picture, or runs it on from where it stopped.
    pub fn toggle_pause(&self) {
        self.trace.0.borrow_mut().toggle_pause(clock::now());
        self.state.dispatch(Action::PlaybackChanged);
    }

    /// Live: shows everything held back and follows the wire. A recording: plays it again.
    pub fn jump(&self) {
        let speed = {
            let mut trace = self.trace.0.borrow_mut();
            trace.jump(clock::now());
            trace.playback.speed()
        };
        // Back to live leaves slow motion.
        if speed != self.state.speed {
            address_bar::remember(&Setting::Speed(speed));
            self.state.dispatch(Action::SpeedChanged(speed));
        }
        self.state.dispatch(Action::PlaybackChanged);
    }

    /// Pauses and shows the next packet, opened in the inspector.
    pub fn step(&self) {
        let stepped = self.trace.0.borrow_mut().step(clock::now());
        self.state.dispatch(Action::PlaybackChanged);
        if stepped.is_some() {
            self.state.dispatch(Action::SelectPacket(stepped));
        }
    }

    /// Plays the picture at `speed`.
    pub fn set_speed(&self, speed: Speed) {
        self.trace.0.borrow_mut().set_speed(speed, clock::now());
        address_bar::remember(&Setting::Speed(speed));
        self.state.dispatch(Action::SpeedChanged(speed));
    }

    /// Shows everything, or one part of the picture at full width.
    pub fn choose_panel(&self, panel: Panel) {
        address_bar::remember(&Setting::Panel(panel));
        self.state.dispatch(Action::PanelChosen(panel));
    }

    /// Opens the packet numbered `seq` in the inspector (`None` closes it). Reads no state, so
    /// a callback made once may call it.
    pub fn select_packet(&self, seq: Option<u64>) {
        self.state.dispatch(Action::SelectPacket(seq));
    }
}

/// The page: its state from the link, its trace, its four services (started before the first
/// render by [`boot`], and started anew when the MQTT version changes), and the view's clock
/// moved on every frame while it runs behind the wire or plays a recording.
#[hook]
pub fn use_playground() -> Playground {
    // Made before the first render (or now, if `main` did not): see `crate::boot`.
    let boot = use_memo((), |_| boot::take());
    // What the services reported before the page listened is part of its first state.
    let state = use_reducer(|| {
        let mut state = boot.state.clone();
        for action in boot.reports.take_held() {
            state.apply(action);
        }
        Page(state)
    });
    {
        let dispatcher = state.dispatcher();
        use_memo((), |_| {
            let to_page = dispatcher.clone();
            let held = boot
                .reports
                .deliver_to(move |action| to_page.dispatch(action));
            if !held.is_empty() {
                dispatcher.dispatch(Action::Batch(held));
            }
        });
    }
    let trace = boot.trace.clone();
    let runtime = boot.runtime.clone();
    let copied = use_state(|| false);
    let credentials = use_state(Credentials::none);

    let needs_frames = trace.0.borrow().playback.needs_frames(clock::now());
    {
        let (trace, dispatcher) = (trace.clone(), state.dispatcher());
        use_animation_frames(
            needs_frames,
            Callback::from(move |_| {
                let (changed, done) = trace.0.borrow_mut().tick(clock::now());
                if changed || done {
                    dispatcher.dispatch(Action::TraceChanged);
                }
            }),
        );
    }

    // Restarted when the MQTT version, the session mode, the number of PaymentService's
    // instances or the credentials change: the connections are made anew. The first run finds
    // the services `boot` started with the same settings, and leaves them.
    {
        let (state, boot) = (state.clone(), boot.clone());
        let connect = Connect::of(&state, &credentials);
        use_effect_with(connect, move |connect| {
            let first = boot.started_with.borrow_mut().take();
            if first.as_ref() == Some(connect) && boot.runtime.borrow().is_some() {
                return;
            }
            boot::start_services(
                &boot.runtime,
                &state,
                &connect.credentials,
                &boot.trace,
                &boot.keeper,
                &boot.reports,
            );
        });
    }

    Playground {
        state,
        trace,
        runtime,
        copied,
        credentials,
    }
}
