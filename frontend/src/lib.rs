//! The event-driven architecture playground in the browser: the drivers and the view over the
//! pure core, [`eda_core`].
//!
//! - [`runtime`]: gives each of the four services its own MQTT client (`broker_bridge::ws`),
//!   runs their decisions and their simulated work on browser timers, and records every packet
//!   and service event in the [`SharedTrace`].
//! - [`clock`]: the only place that reads the time or draws a random id.
//! - [`address_bar`]: the query string in and out (its grammar is the core's).
//! - [`event_db`]: the event store's records in the browser's database (IndexedDB), and why it
//!   may be unavailable ([`event_db::StorageError`]).
//! - [`store_keeper`]: writes OrderService's event store into the tab's database as it
//!   appends, and reads it back after a reload.
//! - [`in_page_broker`]: starts the in-page broker's Web Worker when a service first connects
//!   to `inpage`, and hands each connection its `MessagePort`.
//! - [`early_sockets`]: the WebSockets `index.html` opened at navigation, handed to the
//!   clients so the broker's handshakes start before the wasm has arrived.
//! - [`boot`]: the page's start before Yew's first render (the link's state, the trace, the
//!   store keeper, the services connecting), handed to `use_playground`; what the services
//!   report meanwhile waits in a [`mailbox::Mailbox`].
//! - [`tab_session`]: the tab's session tag (the client ids' `<tag>`), kept across a reload.
//! - [`hooks`]: `use_playground()` (the page's state, trace and services, and a handle with a
//!   method for everything the learner can do), and the animation-frame, on-screen and resize
//!   hooks.
//! - [`components`]: small Yew components; `App` lays them out and wires them to the handle.

#[cfg(target_arch = "wasm32")]
pub mod address_bar;
#[cfg(target_arch = "wasm32")]
pub mod boot;
#[cfg(target_arch = "wasm32")]
pub mod busy;
#[cfg(target_arch = "wasm32")]
pub mod clock;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod early_sockets;
#[cfg(target_arch = "wasm32")]
pub mod event_db;
#[cfg(target_arch = "wasm32")]
pub mod hooks;
#[cfg(target_arch = "wasm32")]
pub mod in_page_broker;
pub mod mailbox;
/// Says on the page that a panic stopped it.
#[cfg(target_arch = "wasm32")]
pub mod panic_notice;
#[cfg(target_arch = "wasm32")]
pub mod runtime;
pub mod shared_trace;
#[cfg(target_arch = "wasm32")]
pub mod store_keeper;
#[cfg(target_arch = "wasm32")]
pub mod tab_session;

pub use shared_trace::SharedTrace;

// Unit tests built for wasm32 run in headless Chromium, like `tests/*.rs`.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
