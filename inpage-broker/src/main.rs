//! The in-page broker: `mqtt5-wasm`'s MQTT broker (3.1.1 and 5.0, in memory) in a dedicated Web
//! Worker, so it stays out of the page's own wasm and loads only when a learner chooses it.
//!
//! Trunk builds this binary as a worker (`data-type="worker"` in `frontend/index.html`, with a
//! loader shim): `inpage-broker_loader.js` beside the page starts it. The conversation with
//! the page is two kinds of message:
//! - worker → page, once: `{ "ready": true }` when the broker runs (messages sent before it
//!   would have found no listener), or `{ "failed": "<why>" }`;
//! - page → worker `{ "id": n }`, answered `{ "id": n, "port": MessagePort }` (the port
//!   transferred) or `{ "id": n, "error": "<why>" }`: one port per MQTT connection, which
//!   carries raw MQTT bytes (`ArrayBuffer`s) both ways. Closing it ends the connection (the
//!   broker then publishes the client's Will unless it sent DISCONNECT).

#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
fn main() {
    worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The in-page broker runs in a browser's Web Worker: see frontend/index.html.");
}
