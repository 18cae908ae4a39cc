//! The playground's pure core.
//!
//! Placeholder docs; rewritten below once the layout settles.

pub mod config;
pub mod domain;
pub mod services;
pub mod state;
pub mod trace;

#[cfg(feature = "purity-probe")]
pub mod purity_probe;
