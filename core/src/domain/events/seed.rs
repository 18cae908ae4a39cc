//! The three payloads exactly as the seed's "Data Flow" section prints them, from
//! `docs/wire-contract/` (the one copy the Rust tests, the end-to-end suite and the README
//! share). Tests across the crate compare against these, so a drift from the wire contract
//! fails loudly.

pub const ORDER_CREATED: &str = include_str!("../../../../docs/wire-contract/order-created.json");

pub const PAYMENT_PROCESSED: &str =
    include_str!("../../../../docs/wire-contract/payment-processed.json");

pub const INVENTORY_RESERVED: &str =
    include_str!("../../../../docs/wire-contract/inventory-reserved.json");

/// The orderId all three seed payloads share.
pub const ORDER_ID: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
