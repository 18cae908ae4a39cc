//! The three payloads exactly as the seed's "Data Flow" section prints them. Tests across the
//! crate compare against these literals, so a drift from the wire contract fails loudly.

pub const ORDER_CREATED: &str = r#"{
  "orderId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  "customerId": "C123",
  "items": [
    {
      "productId": "P001",
      "quantity": 2,
      "price": 29.99
    }
  ],
  "totalAmount": 59.98,
  "createdAt": "2024-01-15T10:30:00.000Z"
}"#;

pub const PAYMENT_PROCESSED: &str = r#"{
  "orderId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  "paymentId": "7bc21a45-8923-4671-a1ed-3d874e22bfa2",
  "amount": 59.98,
  "success": true,
  "processedAt": "2024-01-15T10:30:01.000Z"
}"#;

pub const INVENTORY_RESERVED: &str = r#"{
  "orderId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  "reservationId": "9de43f67-1234-5678-b9cd-4e567f89abc3",
  "success": true,
  "reservedAt": "2024-01-15T10:30:00.800Z"
}"#;

/// The orderId all three seed payloads share.
pub const ORDER_ID: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
