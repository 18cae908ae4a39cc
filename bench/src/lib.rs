//! Browser benchmarks of `broker-bridge`, run by `scripts/bench` (see `docs/benchmarks.md`).
//!
//! Two functions are exported to JavaScript through wasm-bindgen (`--target web`); each opens
//! its own client (clean session, unique client id, unique topic), subscribes to its topic,
//! waits for SUBACK, measures, and closes the client:
//!
//! ```js
//! import init, { latency, throughput } from './pkg/eda_bench.js';
//! await init();
//! const ms = await latency('ws://127.0.0.1:9001', 1, 300, 64);       // Float64Array
//! const perSecond = await throughput('ws://127.0.0.1:9001', 1, 5000, 200);
//! ```
//!
//! `bench/mqttjs.js` implements the same two functions with MQTT.js, and `bench/run.mjs` runs
//! both in one page. A failure (broker unreachable, subscription refused, messages missing at
//! the deadline) rejects the promise with a readable message; nothing here panics.
//!
//! The same build also exports [`JsClient`](js_client::JsClient), our client for JavaScript,
//! which the interoperability tests (`e2e/interop.test.mjs`) drive in a page. The size figure
//! of the benchmark comes from `examples/client_only.rs`, so this does not weigh on it.
//!
//! Everything is wasm32-only: on other targets this crate is empty.

// A benchmark is a driver whose job is reading the clock (see clippy.toml).
#![allow(clippy::disallowed_methods)]

#[cfg(target_arch = "wasm32")]
mod deadline;
#[cfg(target_arch = "wasm32")]
pub mod js_client;
#[cfg(target_arch = "wasm32")]
mod probe;
#[cfg(target_arch = "wasm32")]
mod progress;

#[cfg(target_arch = "wasm32")]
pub use exports::{latency, throughput};

#[cfg(target_arch = "wasm32")]
mod exports {
    use js_sys::Float64Array;
    use wasm_bindgen::prelude::*;

    use crate::probe::{clock, Probe};

    /// Messages sent and received before the timed ones: the first round trips pay for lazy
    /// initialisation (JIT tiers, allocator growth, the broker's first routing of the topic).
    const WARM_UP: u32 = 10;

    /// Round-trip latency through the broker, in milliseconds, one sample per message.
    ///
    /// Publishes one message at a time to the client's own topic and waits until it is
    /// delivered back before sending the next. `count` samples are returned; warm-up messages
    /// are not among them.
    #[wasm_bindgen]
    pub async fn latency(
        url: String,
        qos: u8,
        count: u32,
        payload_len: u32,
    ) -> Result<Float64Array, JsValue> {
        let probe = Probe::open(&url, qos, payload_len).await?;
        let clock = clock()?;
        let payload = vec![b'x'; payload_len as usize];
        let samples = Float64Array::new_with_length(count);
        for i in 0..WARM_UP + count {
            let start = clock.now();
            probe.publish(payload.clone())?;
            probe.received(i + 1).await?;
            let elapsed = clock.now() - start;
            if i >= WARM_UP {
                samples.set_index(i - WARM_UP, elapsed);
            }
        }
        Ok(samples)
    }

    /// Sustained throughput through the broker, in messages per second.
    ///
    /// Publishes `count` messages back to back, as fast as `publish` returns, and times from
    /// the first publish until the last of them has been delivered back.
    #[wasm_bindgen]
    pub async fn throughput(
        url: String,
        qos: u8,
        count: u32,
        payload_len: u32,
    ) -> Result<f64, JsValue> {
        if count == 0 {
            return Err(JsError::new("throughput needs at least one message").into());
        }
        let probe = Probe::open(&url, qos, payload_len).await?;
        let clock = clock()?;
        let payload = vec![b'x'; payload_len as usize];
        let start = clock.now();
        for _ in 0..count {
            probe.publish(payload.clone())?;
        }
        probe.received(count).await?;
        let seconds = (clock.now() - start) / 1000.0;
        Ok(f64::from(count) / seconds.max(f64::EPSILON))
    }
}
