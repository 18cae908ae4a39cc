//! The in-page broker's transport: the same MQTT bytes as over a WebSocket, carried by a
//! `MessagePort` to a broker that runs in this page (a Web Worker).
//!
//! [`crate::ws::Client`] uses it when its URL is [`crate::url::IN_PAGE_BROKER`]: for each
//! connection attempt it asks the page's [`PortOpener`] (registered once with
//! [`set_in_page_broker`]) for a fresh port, one port per MQTT connection as one socket per
//! connection. Each message on the port is an `ArrayBuffer` of MQTT bytes, in either
//! direction. The opener is the page's business (which worker, where its file is): this crate
//! only moves bytes.
//!
//! **Ending a connection.** A socket's end reaches the broker by itself; a port's does not:
//! the `close` event of `MessagePort` that `mqtt5-wasm`'s broker listens for is not fired by
//! Chromium 156 unless the `MessagePortCloseEvent` Blink feature is switched on (checked
//! here), so a dropped port would look alive until its keepalive ran out (1.5 × 30 s). So a
//! port is hung up with [`HANG_UP`] before it is closed: two bytes that are no MQTT packet,
//! on which the broker ends the connection as malformed, and publishes the Will if no
//! DISCONNECT came first, as it must for any connection that ends without one (MQTT 3.1.1
//! §3.1.2.5, 5.0 §3.1.2.5). After a DISCONNECT they arrive at a closed connection and are
//! dropped. They never enter the session, so no packet event shows them. The other way, where
//! `close` does fire, the broker closing its end is reported as the connection closing.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, MessagePort};

/// Hands a client the port of one new connection to the in-page broker, or the reason there
/// is none (the worker did not start, …). Called at most once.
pub type PortReply = Box<dyn FnOnce(Result<MessagePort, String>)>;

/// Opens connections to the in-page broker: given a [`PortReply`], calls it (now or later)
/// with a new port entangled with one of the broker's.
pub type PortOpener = Rc<dyn Fn(PortReply)>;

thread_local! {
    static OPENER: RefCell<Option<PortOpener>> = const { RefCell::new(None) };
}

/// Registers how this page reaches its in-page broker; the page calls it once at start-up
/// (the opener should start the broker only when first asked). Replaces an earlier one.
pub fn set_in_page_broker(opener: impl Fn(PortReply) + 'static) {
    OPENER.with(|o| *o.borrow_mut() = Some(Rc::new(opener)));
}

/// Asks the registered opener for a port; without one, `reply` gets the reason at once.
pub(crate) fn open(reply: PortReply) {
    let opener = OPENER.with(|o| o.borrow().clone());
    match opener {
        Some(opener) => opener(reply),
        None => reply(Err("this page has no in-page broker".to_owned())),
    }
}

/// What a port carries last before it is closed: a fixed header of packet type 0, which is
/// reserved in MQTT 3.1.1 (§2.2.1) and 5.0 (§2.1.2), so no broker takes it for a packet.
pub const HANG_UP: [u8; 2] = [0x00, 0x00];

/// One connection's port, with its listeners; dropping it hangs up ([`HANG_UP`]) and closes
/// the port.
pub(crate) struct Port {
    port: MessagePort,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    on_close: Closure<dyn FnMut(web_sys::Event)>,
}

impl Port {
    /// Listens on `port` (which starts its queue) and for its `close`.
    pub(crate) fn new(
        port: MessagePort,
        on_message: Closure<dyn FnMut(MessageEvent)>,
        on_close: Closure<dyn FnMut(web_sys::Event)>,
    ) -> Self {
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let _ = port.add_event_listener_with_callback("close", on_close.as_ref().unchecked_ref());
        Port {
            port,
            _on_message: on_message,
            on_close,
        }
    }

    /// Posts `bytes` as one `ArrayBuffer`, transferred rather than copied. A port whose other
    /// end is gone drops it silently, as a closed socket would; its `close` tells.
    pub(crate) fn send(&self, bytes: &[u8]) {
        let buffer = js_sys::Uint8Array::from(bytes).buffer();
        let _ = self
            .port
            .post_message_with_transferable(&buffer, &js_sys::Array::of1(&buffer));
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        self.port.set_onmessage(None);
        let _ = self
            .port
            .remove_event_listener_with_callback("close", self.on_close.as_ref().unchecked_ref());
        self.send(&HANG_UP);
        self.port.close();
    }
}
