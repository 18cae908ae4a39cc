//! InventoryService's stock as **retained state**: the units on hand of each counted product,
//! published retained on `inventory/stock/<productId>` whenever they change (a reservation, a
//! release, the learner editing the stock) and once more each time InventoryService connects.
//! The broker keeps the last one per topic, so a client that subscribes later
//! (`mosquitto_sub -t 'inventory/stock/#'`, a second tab) gets the current levels at once. A
//! product no longer counted gets an **empty** retained message, which clears the broker's
//! value: a later subscriber gets nothing for it.
//!
//! InventoryService decides ([`Command::Retain`](super::Command::Retain)); the driver publishes.
//!
//! ```
//! use eda_core::services::stock_levels::StockUpdate;
//! use eda_core::services::Stock;
//!
//! let before = Stock::parse("P001:5,P002:1").unwrap();
//! let after = Stock::parse("P001:3").unwrap();
//! let updates = StockUpdate::between(&before, &after);
//! assert_eq!(updates[0].topic(), "inventory/stock/P001");
//! assert_eq!(updates[0].payload(), br#"{"productId":"P001","units":3}"#);
//! assert_eq!(updates[1].topic(), "inventory/stock/P002");
//! assert!(updates[1].payload().is_empty(), "cleared: P002 is no longer counted");
//! ```

use serde::{Deserialize, Serialize};

use super::settings::Stock;
use crate::domain::topics::INVENTORY_STOCK_PREFIX;

/// One product's units on hand: the payload of `inventory/stock/<productId>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    /// The product, as the orders name it.
    pub product_id: String,
    /// Units on hand now (reserved units are not on hand).
    pub units: u32,
}

/// What InventoryService tells the broker to keep for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockUpdate {
    /// The product's units on hand now.
    Level(StockLevel),
    /// The product is no longer counted: an empty retained message clears its level.
    Uncounted(String),
}

impl StockUpdate {
    /// `product_id` has `units` on hand.
    pub fn level(product_id: &str, units: u32) -> StockUpdate {
        StockUpdate::Level(StockLevel {
            product_id: product_id.to_owned(),
            units,
        })
    }

    /// The product it is about.
    pub fn product_id(&self) -> &str {
        match self {
            StockUpdate::Level(level) => &level.product_id,
            StockUpdate::Uncounted(product_id) => product_id,
        }
    }

    /// `inventory/stock/<productId>` ([`stock_topic`]).
    pub fn topic(&self) -> String {
        stock_topic(self.product_id())
    }

    /// Compact JSON for a level; empty for a product no longer counted (clearing the retained
    /// message).
    pub fn payload(&self) -> Vec<u8> {
        match self {
            StockUpdate::Level(level) => {
                serde_json::to_vec(level).expect("a stock level always serializes to JSON")
            }
            StockUpdate::Uncounted(_) => Vec::new(),
        }
    }

    /// The update a message on `topic` carries; `None` for a topic outside
    /// `inventory/stock/<productId>` or a payload that is neither empty nor this product's
    /// level.
    pub fn decode(topic: &str, payload: &[u8]) -> Option<StockUpdate> {
        let product_id = product_of(topic.strip_prefix(INVENTORY_STOCK_PREFIX)?)?;
        if payload.is_empty() {
            return Some(StockUpdate::Uncounted(product_id));
        }
        let level: StockLevel = serde_json::from_slice(payload).ok()?;
        (level.product_id == product_id).then_some(StockUpdate::Level(level))
    }

    /// Every counted product's level: what InventoryService states when it connects.
    pub fn levels(stock: &Stock) -> Vec<StockUpdate> {
        stock
            .0
            .iter()
            .map(|(product, &units)| StockUpdate::level(product, units))
            .collect()
    }

    /// What changed from `before` to `after`: a level for each product new or with other
    /// units, then a clearing for each product no longer counted; by product id.
    pub fn between(before: &Stock, after: &Stock) -> Vec<StockUpdate> {
        let changed = after
            .0
            .iter()
            .filter(|(product, units)| before.0.get(*product) != Some(units))
            .map(|(product, &units)| StockUpdate::level(product, units));
        let gone = before
            .0
            .keys()
            .filter(|product| !after.0.contains_key(*product))
            .map(|product| StockUpdate::Uncounted(product.clone()));
        changed.chain(gone).collect()
    }
}

/// What InventoryService does about a retained message on `inventory/stock/<productId>` that is
/// false for a product it counts: states the level again, retained ([`StockRepair::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRepair {
    /// The level it states again.
    pub update: StockUpdate,
    /// What came instead, in words (e.g. `an unreadable level: "oops"`).
    pub what: String,
}

impl StockRepair {
    /// The repair a message on `topic` (without the namespace) calls for, given the `stock`
    /// InventoryService counts: `None` for a topic outside `inventory/stock/<productId>`, a
    /// product it does not count, or any readable level of that product (its own, or another
    /// page's on the same broker, which is left alone so that two pages cannot ping-pong).
    /// A cleared topic, an unreadable payload (not JSON, negative or fractional units, another
    /// product's id) on a counted product's topic: its level again.
    pub fn check(stock: &Stock, topic: &str, payload: &[u8]) -> Option<StockRepair> {
        let product = product_of(topic.strip_prefix(INVENTORY_STOCK_PREFIX)?)?;
        let units = *stock.0.get(&product)?;
        let what = match StockUpdate::decode(topic, payload) {
            Some(StockUpdate::Level(_)) => return None,
            Some(StockUpdate::Uncounted(_)) => "its retained level was cleared (an empty message)".to_owned(),
            None => format!(
                "an unreadable level: \"{}\" (not {{\"productId\":\"{product}\",\"units\":<a whole number, 0 or more>}})",
                super::presence::shown_text(payload)
            ),
        };
        Some(StockRepair {
            update: StockUpdate::level(&product, units),
            what,
        })
    }

    /// The repair a message of `size` bytes on `topic` (without the namespace) calls for, which
    /// the page skipped unread as over its size limit: the level again, for a product
    /// InventoryService counts (no level is that large; retained, a late subscriber would read
    /// it: a newcomer's break-test, 35-M F6); `None` for another topic or product.
    pub fn too_large(stock: &Stock, topic: &str, size: usize) -> Option<StockRepair> {
        let product = product_of(topic.strip_prefix(INVENTORY_STOCK_PREFIX)?)?;
        let units = *stock.0.get(&product)?;
        Some(StockRepair {
            update: StockUpdate::level(&product, units),
            what: format!(
                "a message of {size} bytes, over this page's size limit (skipped unread; no \
                 level is that large)"
            ),
        })
    }

    /// The note for InventoryService's log; `topic` as on the wire (with the namespace).
    pub fn note(&self, topic: &str) -> String {
        let units = match &self.update {
            StockUpdate::Level(level) => level.units,
            StockUpdate::Uncounted(_) => 0,
        };
        format!(
            "{topic}: {}, while InventoryService counts {units} on hand; a late subscriber would \
             read that instead: stated the level again, retained",
            self.what
        )
    }
}

/// `inventory/stock/<productId>`. The product id is one topic level: `%`, `/`, the wildcards
/// `+` and `#`, and control characters are percent-encoded (`P/1` → `inventory/stock/P%2F1`),
/// so any product id the stock accepts makes a valid topic name.
pub fn stock_topic(product_id: &str) -> String {
    let mut topic = String::from(INVENTORY_STOCK_PREFIX);
    for c in product_id.chars() {
        if matches!(c, '%' | '/' | '+' | '#') || c.is_control() {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                topic.push_str(&format!("%{byte:02X}"));
            }
        } else {
            topic.push(c);
        }
    }
    topic
}

/// The product id of a topic level written by [`stock_topic`]; `None` if it is not one.
fn product_of(level: &str) -> Option<String> {
    if level.is_empty() || level.contains(['/', '+', '#']) {
        return None;
    }
    let mut bytes = Vec::with_capacity(level.len());
    let mut rest = level.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    let product = String::from_utf8(bytes).ok()?;
    (stock_topic(&product) == format!("{INVENTORY_STOCK_PREFIX}{level}")).then_some(product)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newcomer's break-test (35-M F6): a 300 KB retained level, skipped unread.
    #[test]
    fn a_message_over_the_page_s_limit_on_a_counted_level_is_stated_again() {
        let stock = Stock::parse("P001:7").unwrap();
        let repair = StockRepair::too_large(&stock, "inventory/stock/P001", 300_005).unwrap();
        assert_eq!(repair.update, StockUpdate::level("P001", 7));
        assert!(repair
            .what
            .starts_with("a message of 300005 bytes, over this page's size limit"));
        assert_eq!(
            StockRepair::too_large(&stock, "inventory/stock/P009", 300_005),
            None
        );
        assert_eq!(
            StockRepair::too_large(&stock, "orders/created", 300_005),
            None
        );
    }

    #[test]
    fn levels_and_clearings_read_back_from_their_topic() {
        for update in [
            StockUpdate::level("P001", 3),
            StockUpdate::level("P/1+#%", 0),
            StockUpdate::Uncounted("P002".into()),
            StockUpdate::Uncounted("a\u{7}b".into()),
        ] {
            let topic = update.topic();
            assert_eq!(
                StockUpdate::decode(&topic, &update.payload()),
                Some(update.clone())
            );
            assert!(
                broker_bridge::topic::validate_name(&topic).is_ok(),
                "{topic:?} is a valid topic name"
            );
        }
        assert_eq!(
            StockUpdate::level("P/1+#%", 0).topic(),
            "inventory/stock/P%2F1%2B%23%25"
        );
    }

    #[test]
    fn anything_else_is_not_a_stock_level() {
        let level = StockUpdate::level("P001", 3).payload();
        for (topic, payload) in [
            ("inventory/reserved", &level[..]),
            ("inventory/stock/", b""),
            ("inventory/stock/P002", &level[..]),
            ("inventory/stock/P001", b"3"),
            ("inventory/stock/P%2", b""),
            ("inventory/stock/P%2f1", b""),
            ("inventory/stock/a/b", b""),
        ] {
            assert_eq!(StockUpdate::decode(topic, payload), None, "{topic}");
        }
    }

    #[test]
    fn between_says_what_changed_and_clears_what_is_gone() {
        let stock = |text| Stock::parse(text).unwrap();
        assert_eq!(
            StockUpdate::between(
                &stock("P001:5,P002:1,P003:0"),
                &stock("P001:5,P002:0,P004:7")
            ),
            [
                StockUpdate::level("P002", 0),
                StockUpdate::level("P004", 7),
                StockUpdate::Uncounted("P003".into()),
            ]
        );
        assert_eq!(StockUpdate::between(&stock("P001:1"), &stock("P001:1")), []);
        assert_eq!(
            StockUpdate::levels(&stock("P002:0,P001:4")),
            [StockUpdate::level("P001", 4), StockUpdate::level("P002", 0)]
        );
    }

    #[test]
    fn the_wire_contract_s_example_reads_and_writes_back_byte_for_byte() {
        let text = include_str!("../../../docs/wire-contract/stock-level.json");
        // No spaces inside its strings: the layout is all the whitespace there is.
        let compact: String = text.split_whitespace().collect();
        let update = StockUpdate::decode("inventory/stock/P001", compact.as_bytes())
            .expect("stock-level.json is P001's level");
        assert_eq!(update, StockUpdate::level("P001", 3));
        assert_eq!(String::from_utf8(update.payload()).unwrap(), compact);
        let readme = include_str!("../../../docs/wire-contract/README.md");
        assert!(
            readme.contains("`inventory/stock/<productId>`"),
            "README: the topic"
        );
        assert!(
            readme.contains("(stock-level.json)"),
            "README links the example"
        );
    }

    #[test]
    fn a_counted_product_s_garbage_or_clearing_is_repaired_and_a_readable_level_left_alone() {
        let stock = Stock::parse("P001:10,P002:0").unwrap();
        let level = |p: &str, u| StockUpdate::level(p, u);
        for payload in [
            &br#"{"productId":"P001","units":-5}"#[..],
            b"not json",
            b"",
            br#"{"productId":"P002","units":3}"#,
            br#"{"productId":"P001","units":1.5}"#,
        ] {
            let repair = StockRepair::check(&stock, "inventory/stock/P001", payload)
                .unwrap_or_else(|| panic!("{:?} is repaired", String::from_utf8_lossy(payload)));
            assert_eq!(repair.update, level("P001", 10));
        }
        let repair = StockRepair::check(
            &stock,
            "inventory/stock/P001",
            br#"{"productId":"P001","units":-5}"#,
        )
        .unwrap();
        let note = repair.note("inventory/stock/P001");
        assert!(
            note.starts_with(
                r#"inventory/stock/P001: an unreadable level: "{"productId":"P001","units":-5}""#
            ),
            "{note}"
        );
        assert!(note.contains("counts 10 on hand"), "{note}");
        assert!(note.ends_with("stated the level again, retained"), "{note}");
        let cleared = StockRepair::check(&stock, "inventory/stock/P002", b"").unwrap();
        assert_eq!(cleared.update, level("P002", 0));
        assert!(cleared.what.contains("cleared"));
        // Its own level, another page's readable level, a product not counted: nothing.
        for (topic, payload) in [
            ("inventory/stock/P001", level("P001", 10).payload()),
            ("inventory/stock/P001", level("P001", 3).payload()),
            ("inventory/stock/P999", b"not json".to_vec()),
            ("inventory/stock/P999", Vec::new()),
            ("orders/created", b"x".to_vec()),
        ] {
            assert_eq!(StockRepair::check(&stock, topic, &payload), None, "{topic}");
        }
    }
}
