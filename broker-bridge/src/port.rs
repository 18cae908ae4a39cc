//! The in-page broker's transport: the same MQTT bytes as over a WebSocket, carried by a
//! `MessagePort` to a broker that runs in this page (a Web Worker).
//!
//! [`crate::ws::Client`] uses it when its URL is [`crate::url::IN_PAGE_BROKER`]: for each
//! connection attempt it asks the page's [`PortOpener`] (registered once with
//! [`set_in_page_broker`]) for a fresh port, one port per MQTT connection as one socket per
//! connection. Each message on the port is an `ArrayBuffer` of MQTT bytes, in either
//! direction; closing the port ends the connection as closing a socket does (without
//! DISCONNECT the broker publishes the Will), and the broker closing its end fires `close`
//! here. The opener is the page's business (which worker, where its file is): this crate only
//! moves bytes.

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

/// One connection's port, with its listeners; dropping it closes the port.
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
        self.port.close();
    }
}
