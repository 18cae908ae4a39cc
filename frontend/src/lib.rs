//! The event-driven architecture playground in the browser: the drivers and the view over
//! [`eda_core`].

#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod hooks;
#[cfg(target_arch = "wasm32")]
pub mod runtime;
pub mod shared_trace;

pub use shared_trace::SharedTrace;
