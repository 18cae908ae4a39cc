//! The notice a panic leaves on the page (headless Chromium's DOM): said once, in words, with
//! the panic's own text cut to 300 characters.
#![cfg(target_arch = "wasm32")]

use frontend::panic_notice::{show, TEST_ID};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn notices() -> Vec<String> {
    let document = web_sys::window().unwrap().document().unwrap();
    let found = document
        .query_selector_all(&format!("[data-testid=\"{TEST_ID}\"]"))
        .unwrap();
    (0..found.length())
        .filter_map(|i| found.item(i))
        .map(|n| n.text_content().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
fn a_panic_is_said_once_on_the_page_with_what_to_do() {
    let long = format!("panicked at frontend/src/x.rs:1:1:\n{}", "y".repeat(400));
    show(&long);
    show("a second panic after the first");
    let said = notices();
    assert_eq!(said.len(), 1, "one notice: {said:?}");
    let text = &said[0];
    assert!(
        text.starts_with(
            "The page stopped: an internal error in its code (panicked at frontend/src/x.rs:1:1:"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}…)", "y".repeat(300 - 35))),
        "cut to 300 characters: {text}"
    );
    assert!(text.contains("Reload the page"), "{text}");
    assert!(!text.contains("a second panic"), "{text}");
}
