//! The tab's session tag in a real browser (headless Chromium's `sessionStorage`): kept across
//! a reload of the same tab, never left in storage while a page holds it (so a duplicated tab
//! draws its own), and fresh in a new tab.
#![cfg(target_arch = "wasm32")]

use frontend::tab_session::{put_tag, session_tag, take_tag, TAG_KEY};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn storage() -> web_sys::Storage {
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
}

fn stored() -> Option<String> {
    storage().get_item(TAG_KEY).unwrap()
}

/// What the browser does to the page when the tab reloads (before the next page starts).
fn page_goes() {
    let event = web_sys::Event::new("pagehide").unwrap();
    web_sys::window().unwrap().dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
fn a_tag_put_is_taken_once() {
    let storage = storage();
    assert!(put_tag(&storage, "0a1b2c"));
    assert_eq!(stored().as_deref(), Some("0a1b2c"));
    assert_eq!(take_tag(&storage).as_deref(), Some("0a1b2c"));
    assert_eq!(stored(), None);
    assert_eq!(take_tag(&storage), None);
}

#[wasm_bindgen_test]
fn a_stored_value_that_is_not_a_tag_is_dropped() {
    let storage = storage();
    for bad in [
        "", "0a1b2", "0a1b2c3", "0A1B2C", "zzzzzz", "0a1b2-", "eda-0a",
    ] {
        storage.set_item(TAG_KEY, bad).unwrap();
        assert_eq!(take_tag(&storage), None, "{bad:?}");
        assert_eq!(stored(), None, "{bad:?} left behind");
    }
}

#[wasm_bindgen_test]
fn a_reload_keeps_the_tag_and_a_new_tab_gets_another() {
    let storage = storage();
    let _ = take_tag(&storage);

    let first = session_tag();
    assert!(
        first.len() == 6 && first.bytes().all(|b| b.is_ascii_hexdigit()),
        "{first}"
    );
    // While the page lives, a duplicated tab would copy nothing.
    assert_eq!(stored(), None);

    page_goes();
    assert_eq!(stored().as_deref(), Some(first.as_str()));
    let reloaded = session_tag();
    assert_eq!(reloaded, first);
    assert_eq!(stored(), None);

    // A new tab starts with an empty sessionStorage.
    let _ = take_tag(&storage);
    let new_tab = session_tag();
    assert_ne!(new_tab, first);
}
