//! `JsClient`: our browser client (`broker_bridge::ws::Client`) for JavaScript, so a test page
//! can drive it and read back everything it saw. `e2e/interop.test.mjs` uses it to check our
//! client against other MQTT implementations.
//!
//! ```js
//! import init, { JsClient } from './pkg/eda_bench.js';
//! await init();
//! const client = JsClient.connect('ws://127.0.0.1:9001', {
//!   clientId: 'interop-1', version: 5, cleanSession: false, sessionExpirySecs: 600,
//!   will: { topic: 'status/interop-1', payload: 'gone', qos: 1, retain: false },
//! });
//! client.subscribe('orders/#', 1);
//! client.publish('orders/created', '{}', 1, false, { userProperties: [['trace', 'a1']] });
//! for (const event of client.events()) console.log(event.type, event);  // drains the buffer
//! client.closeAbruptly();   // no DISCONNECT: the broker publishes the Last Will
//! ```
//!
//! Events are plain objects (see [`events`] for their fields): `connected`, `message`,
//! `subscribed`, `unsubscribed`, `delivered`, `publishFailed`, `lost`, `link`, `packet` (one per
//! MQTT packet in or out) and `closed` (this binding stopped the client). Bad arguments throw an
//! `Error` with a readable message; nothing here panics on input.

mod events;
mod options;

use std::cell::RefCell;
use std::rc::Rc;

use broker_bridge::ws::Client;
use broker_bridge::QoS;
use js_sys::Array;
use wasm_bindgen::prelude::*;

use events::{closed, to_js};
use options::{bytes, connect_options, publish_request};

#[wasm_bindgen]
pub struct JsClient {
    /// `None` once stopped.
    client: Option<Client>,
    client_id: String,
    events: Rc<RefCell<Vec<JsValue>>>,
}

fn refused(what: &str, error: impl std::fmt::Display) -> JsError {
    JsError::new(&format!("{what}: {error}"))
}

fn qos(level: u8) -> Result<QoS, JsError> {
    QoS::from_bits(level).map_err(|_| JsError::new(&format!("QoS must be 0, 1 or 2, not {level}")))
}

#[wasm_bindgen]
impl JsClient {
    /// Starts connecting to `url` at once (and reconnects on its own, like the app's clients).
    /// `options`: `{ clientId, version: 4 | 5, cleanSession, sessionExpirySecs, keepAliveSecs,
    /// will: { topic, payload, qos, retain } }`; only `clientId` is required.
    pub fn connect(url: &str, options: JsValue) -> Result<JsClient, JsError> {
        install_panic_hook();
        let options = connect_options(&options)?;
        let client_id = options.client_id.clone();
        let events = Rc::new(RefCell::new(Vec::new()));
        let buffer = events.clone();
        let client = Client::connect(options, url, move |event| {
            buffer.borrow_mut().push(to_js(&event));
        });
        Ok(JsClient {
            client: Some(client),
            client_id,
            events,
        })
    }

    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> String {
        self.client_id.clone()
    }

    /// Everything that happened since the last call, oldest first.
    pub fn events(&self) -> Array {
        self.events.borrow_mut().drain(..).collect()
    }

    pub fn subscribe(&self, filter: &str, level: u8) -> Result<(), JsError> {
        self.client()?
            .subscribe(&[(filter, qos(level)?)])
            .map_err(|e| refused(&format!("subscribe to {filter:?}"), e))
    }

    pub fn unsubscribe(&self, filter: &str) -> Result<(), JsError> {
        self.client()?
            .unsubscribe(&[filter])
            .map_err(|e| refused(&format!("unsubscribe from {filter:?}"), e))
    }

    /// Publishes `payload` (a string, sent as UTF-8, or a `Uint8Array`). `properties`, MQTT 5.0
    /// only: `{ userProperties: [[name, value], …], responseTopic, correlationData (string or
    /// Uint8Array), contentType, messageExpirySecs }`. Returns `{ sent: true, packetId }` or
    /// `{ sent: false, queued }`.
    pub fn publish(
        &self,
        topic: &str,
        payload: JsValue,
        level: u8,
        retain: bool,
        properties: JsValue,
    ) -> Result<JsValue, JsError> {
        let payload = bytes(&payload, "payload")?;
        let request = publish_request(topic, payload, qos(level)?, retain, &properties)?;
        let outcome = self
            .client()?
            .publish_with(request)
            .map_err(|e| refused(&format!("publish to {topic:?}"), e))?;
        Ok(events::publishing(outcome))
    }

    /// Leaves politely: DISCONNECT (so the broker discards the Last Will), then the socket
    /// closes and the client stops for good.
    pub fn disconnect(&mut self) {
        if let Some(client) = self.client.take() {
            client.close();
            self.events.borrow_mut().push(closed("disconnect"));
        }
    }

    /// Drops the connection without DISCONNECT, as a crashed tab would: the broker publishes
    /// the Last Will. The client stops for good.
    #[wasm_bindgen(js_name = closeAbruptly)]
    pub fn close_abruptly(&mut self) {
        if let Some(client) = self.client.take() {
            client.abort();
            self.events.borrow_mut().push(closed("abrupt"));
        }
    }
}

impl JsClient {
    fn client(&self) -> Result<&Client, JsError> {
        self.client
            .as_ref()
            .ok_or_else(|| JsError::new(&format!("client {} was closed", self.client_id)))
    }
}

/// A panic would otherwise show up only as "unreachable executed": print its message first, so
/// the test's page log names it.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            web_sys::console::error_1(&JsValue::from_str(&info.to_string()));
        }));
    });
}
