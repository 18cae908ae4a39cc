//! One benchmark client: a `broker_bridge::ws::Client` subscribed to a topic of its own, whose
//! handler counts the messages that come back.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::ws::{Client, ClientEvent, Link};
use broker_bridge::{Event, Options, QoS, SubscribeReturnCode};
use wasm_bindgen::prelude::JsError;
use wasm_bindgen::JsValue;
use web_sys::{Performance, Window};

use crate::deadline::Deadline;
use crate::progress::{Progress, Shared, Stop};

/// A whole run (connect, subscribe, every message) must finish within this.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

pub struct Probe {
    client: Client,
    topic: String,
    qos: QoS,
    progress: Shared,
    _deadline: Deadline,
}

fn window() -> Result<Window, JsValue> {
    web_sys::window().ok_or_else(|| JsError::new("the benchmark must run in a browser page").into())
}

/// The page's monotonic clock, in milliseconds (`performance.now()`).
pub fn clock() -> Result<Performance, JsValue> {
    window()?
        .performance()
        .ok_or_else(|| JsError::new("performance.now() is not available").into())
}

fn error(message: String) -> JsValue {
    JsError::new(&message).into()
}

impl Probe {
    /// Connects to `url`, subscribes to a fresh topic at `qos` and waits for the SUBACK.
    pub async fn open(url: &str, qos: u8, payload_len: u32) -> Result<Probe, JsValue> {
        let qos =
            QoS::from_bits(qos).map_err(|_| error(format!("QoS must be 0, 1 or 2, not {qos}")))?;
        let window = window()?;
        // 12 hex digits: unique enough among the runs of one page, and the client id stays
        // within MQTT 3.1.1's 23 characters.
        let tag = (js_sys::Math::random() * f64::from(1u32 << 24) * f64::from(1u32 << 24)) as u64;
        let client_id = format!("bench-bb-{tag:012x}");
        let topic = format!("eda-bench/bb/{tag:012x}");

        let progress: Shared = Rc::new(RefCell::new(Progress::default()));
        let deadline = Deadline::start(&window, RUN_DEADLINE, &progress)?;
        let handler = {
            let progress = progress.clone();
            let topic = topic.clone();
            let payload_len = payload_len as usize;
            move |event: ClientEvent| on_event(&progress, &topic, payload_len, qos, event)
        };
        let client = Client::connect(Options::new(client_id), url, handler);
        client
            .subscribe(&[(topic.as_str(), qos)])
            .map_err(|e| error(format!("could not subscribe to {topic}: {e}")))?;
        let probe = Probe {
            client,
            topic,
            qos,
            progress,
            _deadline: deadline,
        };
        Progress::until(&probe.progress, |p| p.subscribed)
            .await
            .map_err(|stop| probe.explain(stop, &format!("subscribing via {url}")))?;
        Ok(probe)
    }

    pub fn publish(&self, payload: Vec<u8>) -> Result<(), JsValue> {
        self.client
            .publish(&self.topic, payload, self.qos, false)
            .map(drop)
            .map_err(|e| error(format!("publish to {} refused: {e}", self.topic)))
    }

    /// Waits until `count` messages in all have come back.
    pub async fn received(&self, count: u32) -> Result<(), JsValue> {
        self.progress.borrow_mut().wanted = count;
        Progress::until(&self.progress, |p| p.received >= count)
            .await
            .map_err(|stop| self.explain(stop, &format!("waiting for {count} messages")))
    }

    fn explain(&self, stop: Stop, doing: &str) -> JsValue {
        let received = self.progress.borrow().received;
        let what = match stop {
            Stop::Failed(reason) => reason,
            Stop::TimedOut => format!("not done within {} s", RUN_DEADLINE.as_secs()),
        };
        error(format!(
            "broker-bridge, {doing} on {} (QoS {}, {received} received so far): {what}",
            self.topic,
            self.qos.level()
        ))
    }
}

/// The client's handler: counts our messages and wakes the benchmark when it has enough.
fn on_event(progress: &Shared, topic: &str, payload_len: usize, qos: QoS, event: ClientEvent) {
    let mut p = progress.borrow_mut();
    match event {
        ClientEvent::Session(Event::Message(message)) => {
            if message.topic != topic || message.payload.len() != payload_len {
                p.fail(format!(
                    "unexpected message: {} bytes on {}",
                    message.payload.len(),
                    message.topic
                ));
            } else {
                p.received += 1;
                // Wake only when the awaited count is reached: one resumption per wait.
                if p.received < p.wanted {
                    return;
                }
            }
        }
        ClientEvent::Session(Event::Subscribed { granted, .. }) => match granted.as_slice() {
            [SubscribeReturnCode::Granted(q)] if *q == qos => p.subscribed = true,
            [SubscribeReturnCode::Granted(q)] => p.fail(format!(
                "the broker granted QoS {} instead of {}",
                q.level(),
                qos.level()
            )),
            _ => p.fail("the broker refused the subscription".into()),
        },
        ClientEvent::Link(Link::Disconnected { url, reason, .. }) => {
            p.fail(format!("lost the connection to {url}: {reason}"));
        }
        _ => return,
    }
    p.wake();
}
