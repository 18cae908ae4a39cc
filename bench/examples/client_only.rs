//! The smallest useful JavaScript binding of `broker-bridge`, built only to be weighed.
//!
//! `scripts/bench` builds it next to the benchmark (`--example client_only`), runs it through
//! the same wasm-bindgen and `wasm-opt -Oz`, and `bench/run.mjs` reports its gzipped size:
//! the client without the benchmark's harness (async exports, timers, statistics). It is what
//! a page would ship to connect, subscribe, publish and hear messages and link changes:
//!
//! ```js
//! const client = connect(url, 'my-id', (topic, payload) => {}, (connected, reason) => {});
//! client.subscribe('orders/#', 1);
//! client.publish('orders/created', new TextEncoder().encode('{}'), 1, false);
//! ```
#![cfg(target_arch = "wasm32")]

use broker_bridge::ws::{Client, ClientEvent, Link};
use broker_bridge::{Event, Options, QoS};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct MqttClient(Client);

/// Connects at once (and reconnects on its own); `on_message(topic, payload)` and
/// `on_link(connected, reason)` are called from the socket's events.
#[wasm_bindgen]
pub fn connect(
    url: &str,
    client_id: &str,
    on_message: js_sys::Function,
    on_link: js_sys::Function,
) -> MqttClient {
    let client = Client::connect(Options::new(client_id), url, move |event| {
        // A throwing callback is the page's problem, not the connection's.
        let _ = match event {
            ClientEvent::Session(Event::Message(message)) => on_message.call2(
                &JsValue::NULL,
                &JsValue::from_str(&message.topic),
                &js_sys::Uint8Array::from(message.payload.as_slice()),
            ),
            ClientEvent::Link(Link::Connected { .. }) => {
                on_link.call2(&JsValue::NULL, &JsValue::TRUE, &JsValue::UNDEFINED)
            }
            ClientEvent::Link(Link::Disconnected { reason, .. }) => on_link.call2(
                &JsValue::NULL,
                &JsValue::FALSE,
                &JsValue::from_str(&reason.to_string()),
            ),
            _ => Ok(JsValue::UNDEFINED),
        };
    });
    MqttClient(client)
}

fn qos(level: u8) -> Result<QoS, JsError> {
    QoS::from_bits(level).map_err(|e| JsError::new(&e.to_string()))
}

#[wasm_bindgen]
impl MqttClient {
    pub fn subscribe(&self, filter: &str, level: u8) -> Result<(), JsError> {
        self.0
            .subscribe(&[(filter, qos(level)?)])
            .map_err(|e| JsError::new(&e.to_string()))
    }

    pub fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        level: u8,
        retain: bool,
    ) -> Result<(), JsError> {
        self.0
            .publish(topic, payload.to_vec(), qos(level)?, retain)
            .map(drop)
            .map_err(|e| JsError::new(&e.to_string()))
    }
}
