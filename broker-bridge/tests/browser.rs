//! The WebSocket driver in a real browser against a real Mosquitto.
//!
//! `scripts/test` starts the broker on free ports and builds these tests with
//! `EDA_TEST_BROKER_WS=ws://127.0.0.1:<port>` (see `e2e/with-broker.mjs`).
#![cfg(all(feature = "browser", target_arch = "wasm32"))]

use std::cell::RefCell;
use std::rc::Rc;

use broker_bridge::ws::{Client, ClientEvent, Link};
use broker_bridge::{Event, Options, QoS};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn broker_url() -> &'static str {
    match option_env!("EDA_TEST_BROKER_WS") {
        Some(url) => url,
        None => panic!("EDA_TEST_BROKER_WS must be set at build time: run through scripts/test"),
    }
}

/// A promise and its resolve function, so a handler can finish an `async` test.
fn deferred() -> (js_sys::Promise, js_sys::Function) {
    let mut resolve = None;
    let promise = js_sys::Promise::new(&mut |res, _rej| resolve = Some(res));
    (promise, resolve.expect("the executor runs synchronously"))
}

/// Resolves to `label` after `ms`, to race against the awaited event.
fn timeout(ms: i32, label: &str) -> js_sys::Promise {
    let label = JsValue::from_str(label);
    js_sys::Promise::new(&mut |res, _rej| {
        let window = web_sys::window().unwrap();
        let f = js_sys::Function::new_with_args("res, label", "res(label)");
        let bound = f.bind2(&JsValue::NULL, &res, &label);
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(bound.unchecked_ref(), ms)
            .unwrap();
    })
}

async fn first_of(promise: js_sys::Promise, ms: i32, label: &str) -> String {
    let race = js_sys::Promise::race(&js_sys::Array::of2(&promise, &timeout(ms, label)));
    JsFuture::from(race).await.unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
async fn connects_subscribes_and_receives_its_own_publish_through_mosquitto() {
    let topic = format!("eda/test/{}", js_sys::Math::random().to_bits());
    let (done, resolve) = deferred();
    let client_slot: Rc<RefCell<Option<Client>>> = Rc::default();
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();

    let (slot, log, t) = (client_slot.clone(), seen.clone(), topic.clone());
    let client = Client::connect(
        Options::new("eda-browsertest-echo"),
        broker_url(),
        move |event| match event {
            ClientEvent::Session(Event::Packet(p)) => {
                log.borrow_mut()
                    .push(format!("{:?} {}", p.direction, p.kind()))
            }
            ClientEvent::Session(Event::Subscribed { granted, .. }) => {
                log.borrow_mut().push(format!("granted {granted:?}"));
                let client = slot.borrow().clone().expect("client stored before any I/O");
                client
                    .publish(
                        &t,
                        b"hello over websocket".to_vec(),
                        QoS::AtLeastOnce,
                        false,
                    )
                    .expect("publish accepted");
            }
            ClientEvent::Session(Event::Message(p)) => {
                let text = String::from_utf8_lossy(&p.payload).into_owned();
                resolve
                    .call1(
                        &JsValue::NULL,
                        &JsValue::from_str(&format!("{} {text}", p.topic)),
                    )
                    .unwrap();
            }
            ClientEvent::Link(Link::Disconnected { reason, .. }) => {
                log.borrow_mut().push(format!("disconnected: {reason}"))
            }
            _ => {}
        },
    );
    *client_slot.borrow_mut() = Some(client.clone());
    client
        .subscribe(&[(topic.as_str(), QoS::AtLeastOnce)])
        .unwrap();

    let outcome = first_of(done, 15_000, "timed out").await;
    assert_eq!(
        outcome,
        format!("{topic} hello over websocket"),
        "packets seen: {:?}",
        seen.borrow()
    );
    assert!(client.is_connected());
    let trace = seen.borrow().join(", ");
    for expected in [
        "Outgoing CONNECT",
        "Incoming CONNACK",
        "Outgoing SUBSCRIBE",
        "Incoming SUBACK",
        "Outgoing PUBLISH",
        "Incoming PUBLISH",
        "Outgoing PUBACK",
    ] {
        assert!(trace.contains(expected), "{expected} missing from {trace}");
    }
    assert!(trace.contains("granted [Granted(AtLeastOnce)]"), "{trace}");
}

#[wasm_bindgen_test]
async fn an_unreachable_broker_is_reported_with_a_retry_delay() {
    let (done, resolve) = deferred();
    // Port 1 on loopback: nothing listens there.
    let _client = Client::connect(
        Options::new("eda-browsertest-nobroker"),
        "ws://127.0.0.1:1",
        move |event| {
            if let ClientEvent::Link(Link::Disconnected {
                url,
                reason,
                retry_in,
                attempt,
            }) = event
            {
                let summary = format!(
                    "{url} attempt {attempt} retry>0:{} {reason}",
                    !retry_in.is_zero()
                );
                resolve
                    .call1(&JsValue::NULL, &JsValue::from_str(&summary))
                    .unwrap();
            }
        },
    );
    let outcome = first_of(done, 15_000, "timed out").await;
    assert!(
        outcome.starts_with("ws://127.0.0.1:1 attempt 1 retry>0:true"),
        "{outcome}"
    );
}
