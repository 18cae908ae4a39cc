//! The MQTT topics of the order flow: the only place these strings live.

/// Published by OrderService; PaymentService, InventoryService and NotificationService listen.
pub const ORDERS_CREATED: &str = "orders/created";

/// Published by PaymentService; NotificationService listens.
pub const PAYMENTS_PROCESSED: &str = "payments/processed";

/// Published by InventoryService; NotificationService listens.
pub const INVENTORY_RESERVED: &str = "inventory/reserved";

/// Every topic of the flow, in the order a placed order travels them.
pub const ALL: [&str; 3] = [ORDERS_CREATED, PAYMENTS_PROCESSED, INVENTORY_RESERVED];
