//! The order flow's vocabulary: topics, events in the seed's JSON, timestamps, money and the
//! order form's rules. Pure: no clock, no randomness, no browser; times and ids are inputs.

pub mod events;
pub mod money;
pub mod order_form;
pub mod timestamp;
pub mod topics;

pub use events::{
    DomainEvent, EventError, InventoryReserved, OrderCreated, OrderItem, PaymentProcessed,
};
pub use timestamp::{Timestamp, TimestampError};

#[cfg(test)]
mod purity {
    use std::path::Path;

    /// Tokens the pure core must not contain. Split so this file does not match itself.
    const FORBIDDEN: [[&str; 2]; 7] = [
        ["SystemTime::", "now"],
        ["Instant::", "now"],
        ["new_", "v4"],
        ["web_", "sys"],
        ["js_", "sys"],
        ["gloo", "::"],
        ["yew", "::"],
    ];

    fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }

    /// The compiler cannot keep the clock and the browser out of a module of a crate that
    /// depends on them, so this test does.
    #[test]
    fn domain_and_services_read_no_clock_no_randomness_no_browser() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src.join("domain"), &mut files);
        rust_files(&src.join("services"), &mut files);
        assert!(files.len() >= 8, "found only {files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for [head, tail] in FORBIDDEN {
                let token = format!("{head}{tail}");
                assert!(!text.contains(&token), "{} uses {token}", file.display());
            }
        }
    }
}
