//! The page's side of the in-page broker: starts its Web Worker the first time a service
//! connects to [`IN_PAGE_BROKER`], and hands each connection a `MessagePort` from it
//! ([`broker_bridge::port`]). Nothing is loaded until then, so a page on Mosquitto never
//! fetches the broker.
//!
//! The worker is `inpage-broker_loader.js` (`static/inpage-broker_loader.js`, copied beside
//! `index.html`, not hashed: it starts wasm-bindgen's glue for the `inpage-broker` crate with
//! a single `{ module_or_path }` object, as the glue asks), loaded relative to the page so it
//! works under any `--public-url`; it loads `inpage-broker.js` and `inpage-broker_bg.wasm`
//! beside itself. Its
//! messages are described in `inpage-broker/src/main.rs`. A worker that fails to start is
//! reported to every waiting connection (the clients retry after their usual delay, which
//! starts a new worker).

use std::cell::RefCell;
use std::collections::HashMap;

use broker_bridge::port::{set_in_page_broker, PortReply};
use broker_bridge::url::IN_PAGE_BROKER;
use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageEvent, MessagePort, Worker};

/// The worker's script, relative to the page.
pub const WORKER_SCRIPT: &str = "./inpage-broker_loader.js";

/// Registers the in-page broker with `broker_bridge`; call once, before any client connects.
pub fn install() {
    set_in_page_broker(ask);
}

struct Running {
    worker: Worker,
    ready: bool,
    next_id: u32,
    /// Asked of the worker, waiting for its port.
    waiting: HashMap<u32, PortReply>,
    /// Asked before the worker said it is ready.
    queued: Vec<PortReply>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

thread_local! {
    static BROKER: RefCell<Option<Running>> = const { RefCell::new(None) };
}

fn ask(reply: PortReply) {
    let failed = BROKER.with(|broker| {
        let mut broker = broker.borrow_mut();
        if broker.is_none() {
            match start() {
                Ok(running) => *broker = Some(running),
                Err(why) => return Some((why, vec![reply])),
            }
        }
        let running = broker.as_mut().expect("started above");
        if running.ready {
            running.send(reply);
        } else {
            running.queued.push(reply);
        }
        None
    });
    if let Some((why, replies)) = failed {
        fail_all(&why, replies);
    }
}

fn start() -> Result<Running, String> {
    let worker = Worker::new(WORKER_SCRIPT)
        .map_err(|e| format!("the browser refused to start {WORKER_SCRIPT}: {}", text(&e)))?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(on_message);
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(|event: web_sys::Event| {
        // An ErrorEvent for an exception in the worker; a bare Event for a script that did
        // not load (the browser says no more, on purpose).
        let why = match event.dyn_ref::<ErrorEvent>() {
            Some(error) => format!("its worker failed: {}", error.message()),
            None => format!("its worker {WORKER_SCRIPT} did not load"),
        };
        stop(&why);
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Running {
        worker,
        ready: false,
        next_id: 0,
        waiting: HashMap::new(),
        queued: Vec::new(),
        _on_message: on_message,
        _on_error: on_error,
    })
}

impl Running {
    fn send(&mut self, reply: PortReply) {
        self.next_id += 1;
        let id = self.next_id;
        let ask = js_sys::Object::new();
        let _ = Reflect::set(&ask, &"id".into(), &id.into());
        match self.worker.post_message(&ask) {
            Ok(()) => {
                self.waiting.insert(id, reply);
            }
            // Not under the borrow: the reply reaches a client, which may ask again later.
            Err(e) => {
                let why = format!("the page could not ask it for a connection: {}", text(&e));
                wasm_bindgen_futures::spawn_local(async move { reply(Err(why)) });
            }
        }
    }
}

/// The worker's answers: `ready`, `failed`, or a port (or an error) for one request.
fn on_message(event: MessageEvent) {
    let data = event.data();
    let field = |name: &str| Reflect::get(&data, &name.into()).unwrap_or(JsValue::UNDEFINED);
    if let Some(why) = field("failed").as_string() {
        stop(&format!("its worker failed: {why}"));
        return;
    }
    if field("ready").is_truthy() {
        BROKER.with(|broker| {
            if let Some(running) = broker.borrow_mut().as_mut() {
                running.ready = true;
                for reply in std::mem::take(&mut running.queued) {
                    running.send(reply);
                }
            }
        });
        return;
    }
    let Some(id) = field("id").as_f64() else {
        return;
    };
    let reply = BROKER.with(|broker| {
        let mut broker = broker.borrow_mut();
        broker.as_mut()?.waiting.remove(&(id as u32))
    });
    let Some(reply) = reply else {
        return;
    };
    match field("port").dyn_into::<MessagePort>() {
        Ok(port) => reply(Ok(port)),
        Err(_) => reply(Err(field("error")
            .as_string()
            .unwrap_or_else(|| "its worker sent no port".to_owned()))),
    }
}

/// The worker is unusable: end it and tell everyone waiting. The next connection attempt
/// starts a new one.
fn stop(why: &str) {
    let replies = BROKER.with(|broker| {
        let Some(mut running) = broker.borrow_mut().take() else {
            return Vec::new();
        };
        running.worker.terminate();
        let mut replies: Vec<PortReply> = running.waiting.drain().map(|(_, r)| r).collect();
        replies.append(&mut running.queued);
        replies
    });
    fail_all(why, replies);
}

fn fail_all(why: &str, replies: Vec<PortReply>) {
    web_sys::console::warn_1(&format!("{IN_PAGE_BROKER} broker: {why}").into());
    for reply in replies {
        reply(Err(why.to_owned()));
    }
}

fn text(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
