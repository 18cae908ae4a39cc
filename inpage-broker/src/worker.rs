//! The worker's side: one broker, and a port for each connection the page asks for.

use js_sys::{Array, Object, Reflect};
use mqtt5_wasm::{WasmBroker, WasmBrokerConfig};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// Starts the broker and answers the page; any failure is told to the page as `failed`.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    match broker() {
        Ok(broker) => serve(&scope, broker),
        Err(why) => {
            let _ = scope.post_message(&object(&[("failed", text(&why).into())]));
        }
    }
}

/// The broker as the playground needs it: anonymous clients (the page's services send no
/// user name, as with the project's Mosquitto config), everything else `mqtt5-wasm`'s
/// defaults: QoS up to 2, retained messages, sessions kept until their expiry (3.1.1 clean
/// session off: kept for good), all in this worker's memory.
fn broker() -> Result<WasmBroker, JsValue> {
    let mut config = WasmBrokerConfig::new();
    config.set_allow_anonymous(true);
    WasmBroker::with_config(config)
}

fn serve(scope: &DedicatedWorkerGlobalScope, broker: WasmBroker) {
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let id = Reflect::get(&event.data(), &"id".into()).unwrap_or(JsValue::NULL);
        let sent = match broker.create_client_port() {
            Ok(port) => reply_to.post_message_with_transfer(
                &object(&[("id", id), ("port", port.clone().into())]),
                &Array::of1(&port),
            ),
            Err(why) => reply_to.post_message(&object(&[("id", id), ("error", text(&why).into())])),
        };
        if let Err(why) = sent {
            web_sys::console::error_2(&"in-page broker: cannot answer the page".into(), &why);
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page wants it: so does its listener.
    on_message.forget();
    let _ = scope.post_message(&object(&[("ready", JsValue::TRUE)]));
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object
}

fn text(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| value.dyn_ref::<js_sys::Error>().map(|e| e.message().into()))
        .unwrap_or_else(|| format!("{value:?}"))
}
