//! The browser driver: a [`Session`] fed by a `WebSocket` (subprotocol `mqtt`) and one timer.
//! For the URL [`IN_PAGE_BROKER`] the same bytes travel over a `MessagePort` to the broker
//! running in this page instead ([`crate::port`]); everything else is the same.
//!
//! All protocol decisions are the session's, including how long to wait before reconnecting
//! ([`Session::reconnect_delay`]) and what a closed socket means; this file only moves bytes
//! and time, and reports to one handler. Nothing here panics on input from the network
//! or the user: a bad URL or a refused socket becomes [`Link::Disconnected`] with a reason.
//!
//! Two things here are about speed (see `docs/benchmarks.md`):
//! - Packets leave in **one WebSocket frame per flush**, and the flush runs from a zero-delay
//!   timer (a macrotask), after the handler has reacted and after frames the broker sent back
//!   to back have all been answered. One frame per packet costs the browser and the broker per
//!   frame, and Mosquitto 2.0.11 can hold back a second frame that arrives in the same read
//!   until its next 100 ms tick (seen as 101 ms round trips at QoS 1 and 2 when we flushed per
//!   packet, and still at QoS 2 when we flushed from a microtask).
//! - The session's timer is re-armed only when its deadline moves **earlier**; a timer that fires
//!   before a deadline that moved later finds nothing due and re-arms.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use gloo::timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

pub use crate::link::Link;
use crate::packet::{ProtocolVersion, Publish, QoS, SubscriptionOptions};
use crate::port::Port;
use crate::session::{
    ConnectionError, DeliveryToken, Event, Options, PublishRequest, Publishing, Session,
    SessionError, Status,
};
use crate::url::{is_in_page, IN_PAGE_BROKER};

/// What the driver reports: the session's events and changes of the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// An event of the session, as it came. [`Event::ConnectionLost`] is followed by a
    /// [`Link::Disconnected`] with the same reason; a loss the driver noticed itself (the
    /// socket closed or failed) comes as that `Link` event only.
    Session(Event),
    /// The link changed: connecting (each attempt), connected (after CONNACK), or
    /// disconnected with the reason and the delay before the next attempt.
    Link(Link),
}

type Handler = Rc<dyn Fn(ClientEvent)>;

/// One MQTT client over one browser WebSocket, reconnecting until closed, after the delays
/// the session gives ([`Options::reconnect_min`] growing to [`Options::reconnect_max`]), except
/// after a refusal retrying cannot fix ([`Session::should_reconnect`]): then it reports
/// [`Link::Disconnected`] with `retry_in` zero and waits for [`Client::retry_now`].
/// Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct Client {
    inner: Rc<RefCell<Inner>>,
}

struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

struct Inner {
    session: Session,
    url: String,
    socket: Option<Socket>,
    /// The connection's port instead of `socket`, to the in-page broker.
    port: Option<Port>,
    session_timer: Option<Timeout>,
    retry_timer: Option<Timeout>,
    handler: Handler,
    /// The deadline `session_timer` is armed for.
    timer_deadline: Option<Duration>,
    /// Raised on every new socket, so callbacks of a replaced socket are ignored.
    generation: u64,
    outbox: Vec<ClientEvent>,
    /// Bytes for the current socket, sent as one frame at the end of this event-loop turn.
    unsent: Vec<u8>,
    flush_scheduled: bool,
    /// Set by [`Client::close`]: nothing reconnects.
    closed: bool,
    /// Why the last try failed, while tries keep failing ([`Link::Connecting`]'s
    /// `last_failure`); cleared when the broker accepts, and for a fresh start.
    last_failure: Option<ConnectionError>,
    /// Whether the broker at `url` accepted a connection (a CONNACK) since the client was given
    /// that URL ([`Client::has_reached_broker`]).
    reached: bool,
}

thread_local! {
    /// The window's `performance`, looked up once: the clock is read on every packet, timer and
    /// report, and finding `window` and its `performance` each time cost more than `now()`
    /// itself (0.3 ms of main thread per order at 100 orders a second, issue 14's profile).
    static PERFORMANCE: Option<web_sys::Performance> =
        web_sys::window().and_then(|w| w.performance());
}

/// The page's monotonic clock (`performance.now()`, or `Date.now()` where there is no
/// `window`) as the session's `now`.
pub fn now() -> Duration {
    let millis = PERFORMANCE
        .with(|p| p.as_ref().map(web_sys::Performance::now))
        .unwrap_or_else(js_sys::Date::now);
    Duration::from_secs_f64(millis.max(0.0) / 1000.0)
}

impl Client {
    /// Creates the client and starts connecting to `url` (`ws://` or `wss://`, with the `mqtt`
    /// subprotocol, [MQTT-6.0.0-3]; or [`IN_PAGE_BROKER`], over a port from
    /// [`crate::port::set_in_page_broker`]'s opener) at once. `handler` receives every [`ClientEvent`], also
    /// those caused by the client's own calls; it may call the client again. A URL the
    /// browser refuses is reported as [`Link::Disconnected`] with
    /// [`ConnectionError::TransportFailed`] and retried like any failure; check it first with
    /// [`crate::url::parse_broker_url`].
    pub fn connect(options: Options, url: &str, handler: impl Fn(ClientEvent) + 'static) -> Self {
        let client = Client {
            inner: Rc::new(RefCell::new(Inner {
                session: Session::new(options),
                url: url.to_owned(),
                socket: None,
                port: None,
                session_timer: None,
                retry_timer: None,
                timer_deadline: None,
                handler: Rc::new(handler),
                generation: 0,
                outbox: Vec::new(),
                unsent: Vec::new(),
                flush_scheduled: false,
                closed: false,
                last_failure: None,
                reached: false,
            })),
        };
        client.open_socket();
        client
    }

    /// [`Session::client_id`].
    pub fn client_id(&self) -> String {
        self.inner.borrow().session.client_id().to_owned()
    }

    /// [`Session::status`].
    pub fn status(&self) -> Status {
        self.inner.borrow().session.status()
    }

    /// The broker's URL: the one it connects (or is connected) to, as given to
    /// [`Client::connect`] or [`Client::set_url`].
    pub fn url(&self) -> String {
        self.inner.borrow().url.clone()
    }

    /// Whether the broker at [`Client::url`] accepted a connection of this client (a CONNACK)
    /// since the client was given that URL, by [`Client::connect`] or [`Client::set_url`]:
    /// `false` for a broker that never answered, or refused every try. Only a broker reached
    /// can hold messages of the client's session.
    pub fn has_reached_broker(&self) -> bool {
        self.inner.borrow().reached
    }

    /// Whether the broker has accepted the current connection.
    pub fn is_connected(&self) -> bool {
        self.status() == Status::Connected
    }

    /// The MQTT version this client speaks ([`Options::protocol`]).
    pub fn protocol(&self) -> ProtocolVersion {
        self.inner.borrow().session.protocol()
    }

    /// The client identifier the broker assigned (MQTT 5.0, when connected with an empty one).
    pub fn assigned_client_id(&self) -> Option<String> {
        let inner = self.inner.borrow();
        inner.session.assigned_client_id().map(str::to_owned)
    }

    /// [`Session::capabilities`]: what the broker's last accepting CONNACK allows.
    pub fn capabilities(&self) -> Option<crate::capabilities::BrokerCapabilities> {
        self.inner.borrow().session.capabilities()
    }

    /// [`Session::learn_maximum_qos`]: the broker's maximum QoS, as another client of it
    /// learned it (MQTT 3.1.1). Returns whether it was lower than this client knew.
    pub fn learn_maximum_qos(&self, learned: crate::capabilities::LearnedMaximumQoS) -> bool {
        self.inner.borrow_mut().session.learn_maximum_qos(learned)
    }

    /// [`Session::subscribe`], now.
    ///
    /// # Errors
    ///
    /// As [`Session::subscribe`].
    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> Result<(), SessionError> {
        let result = self.inner.borrow_mut().session.subscribe(now(), filters);
        self.pump();
        result
    }

    /// [`Client::subscribe`] with MQTT 5.0 subscription options.
    ///
    /// # Errors
    ///
    /// As [`Session::subscribe_with`].
    pub fn subscribe_with(
        &self,
        filters: &[(&str, SubscriptionOptions)],
    ) -> Result<(), SessionError> {
        let result = self
            .inner
            .borrow_mut()
            .session
            .subscribe_with(now(), filters);
        self.pump();
        result
    }

    /// [`Session::unsubscribe`], now.
    ///
    /// # Errors
    ///
    /// As [`Session::unsubscribe`].
    pub fn unsubscribe(&self, filters: &[&str]) -> Result<(), SessionError> {
        let result = self.inner.borrow_mut().session.unsubscribe(now(), filters);
        self.pump();
        result
    }

    /// [`Session::publish`], now.
    ///
    /// # Errors
    ///
    /// As [`Session::publish_with`].
    pub fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    ) -> Result<Publishing, SessionError> {
        let result = self
            .inner
            .borrow_mut()
            .session
            .publish(now(), topic, payload, qos, retain);
        self.pump();
        result
    }

    /// Publishes with MQTT 5.0 properties (user properties, response topic, correlation data,
    /// message expiry …): see [`Session::publish_with`].
    ///
    /// # Errors
    ///
    /// As [`Session::publish_with`].
    pub fn publish_with(&self, request: PublishRequest) -> Result<Publishing, SessionError> {
        let result = self.inner.borrow_mut().session.publish_with(now(), request);
        self.pump();
        result
    }

    /// Whether [`Client::publish_with`] would accept `request` now, nothing sent: see
    /// [`Session::check_publish`].
    ///
    /// # Errors
    ///
    /// As [`Session::check_publish`].
    pub fn check_publish(&self, request: &PublishRequest) -> Result<(), SessionError> {
        self.inner.borrow().session.check_publish(request)
    }

    /// The token that acknowledges `publish` once the application has made it safe, when
    /// [`Options::manual_acks`] is on: see [`Session::delivery_token`].
    pub fn delivery_token(&self, publish: &Publish) -> Option<DeliveryToken> {
        self.inner.borrow().session.delivery_token(publish)
    }

    /// Sends the PUBACK or PUBREC the message `token` names is owed, in the order received:
    /// see [`Session::acknowledge`]. Nothing for a closed client or an earlier connection's
    /// token (the broker sends that message again).
    pub fn acknowledge(&self, token: DeliveryToken) {
        if self.inner.borrow().closed {
            return;
        }
        self.inner.borrow_mut().session.acknowledge(now(), token);
        self.pump();
    }

    /// Leaves the broker politely (DISCONNECT, so no Last Will) and stops for good: no
    /// reconnect, no timer. Messages still queued offline are dropped with the client. No
    /// [`ClientEvent::Link`] follows: a page that shows the stop builds
    /// [`Link::Disconnected`] with [`ConnectionError::Stopped`] itself.
    pub fn close(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.closed = true;
            inner.leave();
        }
        // The DISCONNECT's packet event, like every packet's, reaches the handler.
        self.hand_out_events();
    }

    /// [`Session::unacknowledged`]: what a process keeping its session state would still hold
    /// after dying (call it before [`Client::abort`] to hand it to a new client).
    pub fn unacknowledged(&self) -> Vec<PublishRequest> {
        self.inner.borrow().session.unacknowledged()
    }

    /// [`Session::take_in_flight`]: its publishes in flight, with their packet identifiers, for
    /// the client that follows it under the same client id ([`Client::adopt_in_flight`]).
    pub fn take_in_flight(&self) -> crate::inflight::Carried {
        self.inner.borrow_mut().session.take_in_flight()
    }

    /// [`Session::adopt_in_flight`]: call it before the connection's CONNACK (right after
    /// [`Client::connect`]); they are sent again after it.
    pub fn adopt_in_flight(&self, carried: crate::inflight::Carried) {
        if !carried.is_empty() {
            self.inner.borrow_mut().session.adopt_in_flight(carried);
        }
    }

    /// Drops the connection without a word of MQTT, as a crashed tab would: the broker
    /// publishes the Last Will. Stops for good, like [`Client::close`].
    pub fn abort(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.closed = true;
        inner.retry_timer = None;
        inner.drop_socket();
    }

    /// Leaves the current broker politely and connects to another one; what was learned of the
    /// old one is forgotten ([`Session::forget_broker`]).
    pub fn set_url(&self, url: &str) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.leave();
            inner.url = url.to_owned();
            inner.reached = false;
            inner.session.forget_broker();
            inner.last_failure = None;
        }
        self.hand_out_events();
        self.open_socket();
    }

    /// Connects again now, with the reconnect delays started over: the "Try again" after a
    /// refusal the driver does not retry by itself
    /// ([`ConnectionError::is_permanent_refusal`]). A connection that is up is left politely
    /// first.
    pub fn retry_now(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.leave();
            inner.session.reset_reconnect();
            inner.last_failure = None;
        }
        self.hand_out_events();
        self.open_socket();
    }

    /// The User Name and Password of the next CONNECT ([`Session::set_credentials`]); the
    /// client leaves politely and connects again with them at once.
    pub fn set_credentials(&self, username: Option<String>, password: Option<Vec<u8>>) {
        self.inner
            .borrow_mut()
            .session
            .set_credentials(username, password);
        self.retry_now();
    }

    fn weak(&self) -> Weak<RefCell<Inner>> {
        Rc::downgrade(&self.inner)
    }

    /// Runs `f` on the client if it still exists and `generation` is the current socket's.
    fn callback<E: wasm_bindgen::convert::FromWasmAbi + 'static>(
        &self,
        generation: u64,
        f: impl Fn(&Client, E) + 'static,
    ) -> Closure<dyn FnMut(E)> {
        let weak = self.weak();
        Closure::new(move |event: E| {
            if let Some(inner) = weak.upgrade() {
                let client = Client { inner };
                if client.inner.borrow().generation == generation {
                    f(&client, event);
                }
            }
        })
    }

    fn open_socket(&self) {
        let (url, generation, attempt, last_failure) = {
            let mut inner = self.inner.borrow_mut();
            if inner.closed {
                return;
            }
            inner.generation += 1;
            inner.drop_socket();
            (
                inner.url.clone(),
                inner.generation,
                inner.session.reconnect_attempt(),
                inner.last_failure.clone(),
            )
        };
        self.emit(ClientEvent::Link(Link::Connecting {
            url: url.clone(),
            attempt,
            last_failure,
        }));
        // The connect timeout starts now: a server that accepts the TCP connection and never
        // answers the WebSocket handshake would otherwise leave the socket opening for minutes.
        self.inner
            .borrow_mut()
            .session
            .handle_transport_opening(now());
        self.arm();
        if is_in_page(&url) {
            self.open_port(generation);
            return;
        }
        // A socket the page opened for this URL before the client existed, if one is left
        // ([`crate::early`]); what happened to it meanwhile is replayed below.
        let (ws, earlier) = match crate::early::take(&url) {
            Some(early) => early.take(),
            None => match WebSocket::new_with_str(&url, "mqtt") {
                Ok(ws) => (ws, Vec::new()),
                Err(e) => {
                    let text = e
                        .dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                        .unwrap_or_else(|| "the browser refused to open the WebSocket".into());
                    self.drop_connection(ConnectionError::TransportFailed(text));
                    return;
                }
            },
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_open = self.callback(generation, |client, _: web_sys::Event| {
            client.on_socket_open();
        });
        let on_message = self.callback(generation, Client::on_socket_message);
        let on_close = self.callback(generation, Client::on_socket_close);
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.inner.borrow_mut().socket = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
        if !earlier.is_empty() {
            self.replay(generation, earlier);
        }
    }

    fn on_socket_open(&self) {
        self.inner.borrow_mut().session.handle_transport_open(now());
        self.pump();
    }

    fn on_socket_message(&self, event: MessageEvent) {
        let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else {
            self.drop_connection(ConnectionError::TextFrame);
            return;
        };
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        self.inner.borrow_mut().session.handle_bytes(now(), &bytes);
        self.pump();
    }

    fn on_socket_close(&self, event: CloseEvent) {
        self.drop_connection(ConnectionError::TransportClosed {
            code: event.code(),
            reason: event.reason(),
        });
    }

    /// Hands an early socket's past `events` to the handlers above, in order, from a microtask:
    /// after the code that connected has returned, as the browser delivers events, and before
    /// any event still to come (those are tasks). Stops if the socket is replaced meanwhile.
    fn replay(&self, generation: u64, events: Vec<web_sys::Event>) {
        let weak = self.weak();
        let replay = Closure::once_into_js(move || {
            for event in events {
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let client = Client { inner };
                if client.inner.borrow().generation != generation {
                    return;
                }
                match event.type_().as_str() {
                    "open" => client.on_socket_open(),
                    "message" => client.on_socket_message(event.unchecked_into()),
                    "close" => client.on_socket_close(event.unchecked_into()),
                    _ => {}
                }
            }
        });
        let replay: js_sys::Function = replay.unchecked_into();
        match web_sys::window() {
            Some(window) => window.queue_microtask(&replay),
            // No window, no page script offering sockets; a task all the same.
            None => {
                Timeout::new(0, move || {
                    let _ = replay.call0(&JsValue::NULL);
                })
                .forget();
            }
        }
    }

    /// Asks for a port to the in-page broker; once it comes, the connection is open at once
    /// (a port has no handshake of its own).
    fn open_port(&self, generation: u64) {
        let weak = self.weak();
        crate::port::open(Box::new(move |result| {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let client = Client { inner };
            if client.inner.borrow().generation != generation {
                return; // A later attempt (or close) replaced this one; the port drops, closed.
            }
            let port = match result {
                Ok(port) => port,
                Err(text) => {
                    let text = format!("the {IN_PAGE_BROKER} broker did not start: {text}");
                    client.drop_connection(ConnectionError::TransportFailed(text));
                    return;
                }
            };
            let on_message = client.callback(generation, |client, event: MessageEvent| {
                let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else {
                    client.drop_connection(ConnectionError::TextFrame);
                    return;
                };
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                let now = now();
                client.inner.borrow_mut().session.handle_bytes(now, &bytes);
                client.pump();
            });
            let on_close = client.callback(generation, |client, _: web_sys::Event| {
                client.drop_connection(ConnectionError::TransportClosed {
                    code: 1000,
                    reason: "the in-page broker closed the connection".to_owned(),
                });
            });
            client.inner.borrow_mut().port = Some(Port::new(port, on_message, on_close));
            client
                .inner
                .borrow_mut()
                .session
                .handle_transport_open(now());
            client.pump();
        }));
    }

    /// The connection is unusable: tell the session, close the socket, try again later. The
    /// session's words for the loss win over the socket's: it knows whether the broker had
    /// accepted us, and for how long.
    fn drop_connection(&self, reason: ConnectionError) {
        let reason = {
            let mut inner = self.inner.borrow_mut();
            inner.session.handle_transport_closed(now(), reason.clone());
            // Take the session's own ConnectionLost out: `retry_later` reports this loss.
            inner.collect_events();
            let mut told = None;
            inner.outbox.retain(|e| match e {
                ClientEvent::Session(Event::ConnectionLost { reason }) => {
                    told = Some(reason.clone());
                    false
                }
                _ => true,
            });
            told.unwrap_or(reason)
        };
        self.retry_later(reason);
    }

    fn retry_later(&self, reason: ConnectionError) {
        let (url, retry_in, attempt) = {
            let mut inner = self.inner.borrow_mut();
            inner.drop_socket();
            if inner.closed {
                return;
            }
            inner.last_failure = Some(reason.clone());
            let attempt = inner.session.reconnect_attempt() + 1;
            if !inner.session.should_reconnect(&reason) {
                // A refusal the same CONNECT would meet again: wait for the user
                // (`retry_now`, `set_credentials`, `set_url`).
                inner.retry_timer = None;
                let url = inner.url.clone();
                drop(inner);
                self.pump();
                self.emit(ClientEvent::Link(Link::Disconnected {
                    url,
                    reason,
                    retry_in: Duration::ZERO,
                    attempt,
                }));
                return;
            }
            let retry_in = inner.session.reconnect_delay(js_sys::Math::random());
            let weak = self.weak();
            inner.retry_timer = Some(Timeout::new(retry_in.as_millis() as u32, move || {
                if let Some(inner) = weak.upgrade() {
                    Client { inner }.open_socket();
                }
            }));
            (inner.url.clone(), retry_in, attempt)
        };
        self.pump();
        self.emit(ClientEvent::Link(Link::Disconnected {
            url,
            reason,
            retry_in,
            attempt,
        }));
    }

    /// Sends what the session wants sent, re-arms its timer, and hands its events out.
    fn pump(&self) {
        let (events, lost) = {
            let mut inner = self.inner.borrow_mut();
            inner.take_transmit();
            inner.collect_events();
            let events = std::mem::take(&mut inner.outbox);
            let lost = events.iter().find_map(|e| match e {
                ClientEvent::Session(Event::ConnectionLost { reason }) => Some(reason.clone()),
                _ => None,
            });
            if lost.is_some() {
                // A last DISCONNECT (with its reason, in 5.0) leaves before the socket closes.
                inner.send_unsent();
            }
            self.arm_timer(&mut inner);
            (events, lost)
        };
        let url = self.inner.borrow().url.clone();
        for event in events {
            let connected = matches!(event, ClientEvent::Session(Event::Connected { .. }));
            self.emit(event);
            if connected {
                let mut inner = self.inner.borrow_mut();
                inner.last_failure = None;
                inner.reached = true;
                drop(inner);
                self.emit(ClientEvent::Link(Link::Connected { url: url.clone() }));
            }
        }
        if let Some(reason) = lost {
            self.retry_later(reason);
            return;
        }
        // Scheduled after the handler ran: what it publishes in reaction (at once, or from a
        // future woken meanwhile) joins the same frame as our acknowledgements.
        let mut inner = self.inner.borrow_mut();
        if !inner.unsent.is_empty() && !inner.flush_scheduled {
            inner.flush_scheduled = true;
            self.schedule_flush();
        }
    }

    /// Arms the session's timer for its deadline, outside a `pump`.
    fn arm(&self) {
        let mut inner = self.inner.borrow_mut();
        self.arm_timer(&mut inner);
    }

    fn arm_timer(&self, inner: &mut Inner) {
        let Some(deadline) = inner.session.poll_timeout() else {
            inner.session_timer = None;
            inner.timer_deadline = None;
            return;
        };
        if inner.session_timer.is_some() && inner.timer_deadline.is_some_and(|t| t <= deadline) {
            return;
        }
        let wait = deadline.saturating_sub(now());
        let weak = self.weak();
        inner.timer_deadline = Some(deadline);
        // +1 ms: a timer that fires a hair early would find nothing due and re-arm at once.
        inner.session_timer = Some(Timeout::new(wait.as_millis() as u32 + 1, move || {
            if let Some(inner) = weak.upgrade() {
                let client = Client { inner };
                {
                    let mut inner = client.inner.borrow_mut();
                    inner.timer_deadline = None;
                    inner.session.handle_timeout(now());
                }
                client.pump();
            }
        }));
    }

    /// Sends the gathered bytes from a zero-delay timer (see the module docs for why not a
    /// microtask).
    fn schedule_flush(&self) {
        let weak = self.weak();
        Timeout::new(0, move || {
            if let Some(inner) = weak.upgrade() {
                let mut inner = inner.borrow_mut();
                inner.flush_scheduled = false;
                inner.send_unsent();
            }
        })
        .forget();
    }

    /// Gives the handler what the session reported outside a `pump` (e.g. a DISCONNECT).
    fn hand_out_events(&self) {
        let events = {
            let mut inner = self.inner.borrow_mut();
            inner.collect_events();
            std::mem::take(&mut inner.outbox)
        };
        for event in events {
            self.emit(event);
        }
    }

    fn emit(&self, event: ClientEvent) {
        let handler = self.inner.borrow().handler.clone();
        handler(event);
    }
}

impl Inner {
    /// Moves what the session wants sent into this turn's frame.
    fn take_transmit(&mut self) {
        while let Some(bytes) = self.session.poll_transmit() {
            self.unsent.extend_from_slice(&bytes);
        }
    }

    fn send_unsent(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        if let Some(socket) = &self.socket {
            // A failed send shows up as the socket's close event.
            let _ = socket.ws.send_with_u8_array(&self.unsent);
        } else if let Some(port) = &self.port {
            port.send(&self.unsent);
        }
        self.unsent.clear();
    }

    /// DISCONNECT, sent at once (before its socket closes), and no retry pending.
    fn leave(&mut self) {
        self.session.disconnect(now());
        self.take_transmit();
        self.send_unsent();
        self.retry_timer = None;
        self.drop_socket();
    }

    /// Closes the socket; bytes meant for it are dropped, never sent on the next one.
    fn drop_socket(&mut self) {
        self.socket = None;
        self.port = None;
        self.unsent.clear();
        self.session_timer = None;
        self.timer_deadline = None;
    }

    fn collect_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            self.outbox.push(ClientEvent::Session(event));
        }
    }
}
