//! The WebSockets `index.html` opens at navigation, handed to the MQTT clients.
//!
//! The page's wasm arrives and starts a few hundred milliseconds after navigation, and a broker
//! such as Mosquitto 2.0.11 takes about 200 ms per WebSocket handshake, one socket at a time.
//! So a few lines of script in `index.html` open the services' sockets at once, from the same
//! link parameters the page reads (`?broker=`, `?broker_<service>=`, `?payment_instances=`;
//! none for the in-page broker, none for a value it is unsure of), and leave them in
//! `window.__edaEarlySockets`: `[{ url, ws, take() }]`, where `take()` returns the socket's
//! `open`, `message` and `close` events so far and stops recording them. [`offer_all`] hands
//! them to `broker_bridge::early` before the first render; each client then takes the socket
//! opened for its URL instead of opening one ([`broker_bridge::early`] replays what happened to
//! it meanwhile), and [`close_unclaimed`] closes the rest once the services have started.

use broker_bridge::early::{offer, EarlySocket};
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, WebSocket};

/// Where `index.html` leaves its sockets.
pub const GLOBAL: &str = "__edaEarlySockets";

/// Offers every socket `index.html` opened to the clients about to start; call once, before
/// the services start. Anything unexpected in the global is skipped.
pub fn offer_all() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let key = JsValue::from_str(GLOBAL);
    let Ok(list) = Reflect::get(&window, &key) else {
        return;
    };
    let _ = Reflect::delete_property(&window, &key);
    let Ok(list) = list.dyn_into::<Array>() else {
        return;
    };
    for entry in list.iter() {
        let field = |name: &str| Reflect::get(&entry, &JsValue::from_str(name)).ok();
        let (Some(url), Some(Ok(ws)), Some(Ok(take))) = (
            field("url").and_then(|u| u.as_string()),
            field("ws").map(JsCast::dyn_into::<WebSocket>),
            field("take").map(JsCast::dyn_into::<Function>),
        ) else {
            continue;
        };
        let events = move || match take.call0(&entry).map(JsCast::dyn_into::<Array>) {
            Ok(Ok(events)) => events.iter().map(JsCast::unchecked_into::<Event>).collect(),
            _ => Vec::new(),
        };
        offer(&url, EarlySocket::new(ws, events));
    }
}

/// Closes the sockets no client took.
pub fn close_unclaimed() {
    broker_bridge::early::close_unclaimed();
}
