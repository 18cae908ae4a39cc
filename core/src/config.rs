//! One place for the defaults a user may change.

use std::time::Duration;

/// The broker the page connects to unless `?broker=` or the URL field says otherwise.
pub const DEFAULT_BROKER_URL: &str = "ws://localhost:9001";

/// How long PaymentService "works" on an order before publishing (seed flow: 1 s).
pub const DEFAULT_PAYMENT_DELAY: Duration = Duration::from_millis(1000);

/// How long InventoryService "works" on an order before publishing (seed flow: 0.8 s).
pub const DEFAULT_INVENTORY_DELAY: Duration = Duration::from_millis(800);

/// The QoS of every publish and subscription of the order flow unless `?qos=` or the page's
/// selector says otherwise: at least once, so a dropped connection loses no event.
pub const DEFAULT_QOS: broker_bridge::QoS = broker_bridge::QoS::AtLeastOnce;

/// The MQTT version of the four services' connections unless `?mqtt=` or the page says otherwise.
pub const DEFAULT_PROTOCOL: broker_bridge::ProtocolVersion = broker_bridge::ProtocolVersion::V311;

/// Under MQTT 5.0 every event of the flow carries its orderId in this user property, so a
/// trace can follow one order across services without reading payloads.
pub const CORRELATION_PROPERTY: &str = "correlationId";

/// How many times in all OrderService sends a compensating message (the first time included)
/// before it gives up on seeing the compensation done: `orders/cancelled` under parallel and
/// choreography, `commands/inventory/release` or `commands/payment/refund` under orchestration.
/// It waits the saga's deadline (`?saga_timeout_ms=`) between tries, so it gives up 4 deadlines
/// after the first send.
pub const COMPENSATION_TRIES: u32 = 4;

#[cfg(test)]
mod tests {
    /// The README tells a learner where Mosquitto logs every packet; the development config
    /// ships with that line commented out (it is very verbose), and the README must say so.
    #[test]
    fn the_readme_and_the_broker_config_agree_on_logging_every_packet() {
        let readme = include_str!("../../README.md");
        let conf = include_str!("../../static/mosquitto.conf");
        let on = conf.lines().any(|l| l.trim() == "log_type all");
        let commented = conf.lines().any(|l| l.trim() == "#log_type all");
        assert!(on || commented, "static/mosquitto.conf names log_type all");
        let says_uncomment = readme.contains("uncomment `#log_type all`");
        assert_eq!(
            says_uncomment, !on,
            "the README says to uncomment log_type all exactly when the config has it off"
        );
        assert!(
            on || !readme.contains("(`log_type all` in"),
            "the README must not say the config logs every packet"
        );
    }
}
