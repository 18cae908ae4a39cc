//! The order flow's vocabulary: topics, events in the seed's JSON, timestamps, money and the
//! order form's rules. Pure: no clock, no randomness, no browser; times and ids are inputs.

pub mod events;
pub mod money;
pub mod namespace;
pub mod order;
pub mod order_form;
pub mod timestamp;
pub mod topics;

pub use events::{
    DomainEvent, EventError, InventoryReserved, OrderCreated, OrderItem, PaymentProcessed,
};
pub use timestamp::{Timestamp, TimestampError};
