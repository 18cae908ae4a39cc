//! The event-driven architecture playground.
//!
//! Three layers, one direction:
//! - [`domain`] and [`services`]: pure. Events in the seed's JSON, order validation, and each
//!   service's decisions as functions of `(now, message)` returning commands. No clock, no
//!   browser API; tested natively.
//! - `runtime` (wasm32): gives each service its own MQTT client from `broker-bridge`, runs
//!   scheduled work on browser timers, and reports everything to the view.
//! - `components` (wasm32): small Yew components over one reducer ([`state`]).

#[cfg(target_arch = "wasm32")]
pub mod components;
pub mod config;
pub mod domain;
#[cfg(target_arch = "wasm32")]
pub mod runtime;
pub mod services;
pub mod state;
pub mod trace;
