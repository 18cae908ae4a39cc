//! WebSockets opened before the clients: a page can open its sockets from a few lines of script
//! at navigation, while its wasm is still being fetched, and offer them here ([`offer`]). A
//! [`crate::ws::Client`] about to open a socket to a URL takes a socket offered for exactly that
//! URL instead, once: the same socket, only opened earlier. What happened to it meanwhile (its
//! `open`, any `message`, its `close`) is replayed to the client in order, as the events
//! themselves, so the client behaves exactly as if it had opened the socket: the same MQTT
//! bytes, the same errors for a broker that is not there. Sockets nobody took are closed with
//! [`close_unclaimed`].
//!
//! ```ignore
//! // At start-up, before any client connects:
//! broker_bridge::early::offer("ws://localhost:9001", EarlySocket::new(ws, move || events()));
//! // … the clients connect (and take what they find) …
//! broker_bridge::early::close_unclaimed();
//! ```

use std::cell::RefCell;

use web_sys::{Event, WebSocket};

/// A socket opened before its client, and how to get what happened to it so far.
pub struct EarlySocket {
    ws: WebSocket,
    events: Box<dyn FnOnce() -> Vec<Event>>,
}

impl EarlySocket {
    /// `ws` (opened with the `mqtt` subprotocol) and `events`: called once, when a client takes
    /// the socket (or it is closed unclaimed), it returns the socket's `open`, `message` and
    /// `close` events so far, in order, and stops recording them.
    pub fn new(ws: WebSocket, events: impl FnOnce() -> Vec<Event> + 'static) -> Self {
        EarlySocket {
            ws,
            events: Box::new(events),
        }
    }

    /// The socket and its events so far; no more are recorded.
    pub(crate) fn take(self) -> (WebSocket, Vec<Event>) {
        let events = (self.events)();
        (self.ws, events)
    }
}

thread_local! {
    static OFFERED: RefCell<Vec<(String, EarlySocket)>> = const { RefCell::new(Vec::new()) };
}

/// Offers `socket`, opened to `url`, to the first client that connects to `url` (compared as
/// written, as [`crate::url::parse_broker_url`] returns it). Several sockets to one URL go to
/// its clients in the order offered.
pub fn offer(url: &str, socket: EarlySocket) {
    OFFERED.with(|o| o.borrow_mut().push((url.to_owned(), socket)));
}

/// The first socket offered for `url`, if one is left.
pub(crate) fn take(url: &str) -> Option<EarlySocket> {
    OFFERED.with(|o| {
        let mut offered = o.borrow_mut();
        let at = offered.iter().position(|(u, _)| u == url)?;
        Some(offered.remove(at).1)
    })
}

/// Closes the sockets no client took (the page connected somewhere else, or fewer clients).
pub fn close_unclaimed() {
    let left = OFFERED.with(|o| std::mem::take(&mut *o.borrow_mut()));
    for (_, socket) in left {
        let (ws, _) = socket.take();
        let _ = ws.close();
    }
}
