//! The tab's session tag in a real browser (headless Chromium's `sessionStorage`): kept across
//! a reload of the same tab, never left in storage while a page holds it (so a duplicated tab
//! draws its own), and fresh in a new tab.
#![cfg(target_arch = "wasm32")]

use eda_core::domain::namespace::Namespace;
use frontend::tab_session::{put_tag, session_tag, tag_key, take_tag, TAG_KEY};
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
    assert!(put_tag(&storage, TAG_KEY, "0a1b2c"));
    assert_eq!(stored().as_deref(), Some("0a1b2c"));
    assert_eq!(take_tag(&storage, TAG_KEY).as_deref(), Some("0a1b2c"));
    assert_eq!(stored(), None);
    assert_eq!(take_tag(&storage, TAG_KEY), None);
}

#[wasm_bindgen_test]
fn a_stored_value_that_is_not_a_tag_is_dropped() {
    let storage = storage();
    for bad in [
        "", "0a1b2", "0a1b2c3", "0A1B2C", "zzzzzz", "0a1b2-", "eda-0a",
    ] {
        storage.set_item(TAG_KEY, bad).unwrap();
        assert_eq!(take_tag(&storage, TAG_KEY), None, "{bad:?}");
        assert_eq!(stored(), None, "{bad:?} left behind");
    }
}

#[wasm_bindgen_test]
fn a_reload_keeps_the_tag_and_a_new_tab_gets_another() {
    let storage = storage();
    let _ = take_tag(&storage, TAG_KEY);

    let first = session_tag(&Namespace::none());
    assert!(
        first.len() == 6 && first.bytes().all(|b| b.is_ascii_hexdigit()),
        "{first}"
    );
    // While the page lives, a duplicated tab would copy nothing.
    assert_eq!(stored(), None);

    page_goes();
    assert_eq!(stored().as_deref(), Some(first.as_str()));
    let reloaded = session_tag(&Namespace::none());
    assert_eq!(reloaded, first);
    assert_eq!(stored(), None);

    // A new tab starts with an empty sessionStorage.
    let _ = take_tag(&storage, TAG_KEY);
    let new_tab = session_tag(&Namespace::none());
    assert_ne!(new_tab, first);
}

#[wasm_bindgen_test]
fn each_namespace_keeps_its_own_tag() {
    let storage = storage();
    let (a, b) = (
        Namespace::parse("ta").unwrap(),
        Namespace::parse("tb").unwrap(),
    );
    assert_eq!(tag_key(&a), "eda-session-tag@ta");
    assert_eq!(tag_key(&Namespace::none()), TAG_KEY);
    for ns in [&a, &b] {
        let _ = take_tag(&storage, &tag_key(ns));
    }

    let under_a = session_tag(&a);
    page_goes();
    // The tab opens ?ns=tb: not a's sessions.
    let under_b = session_tag(&b);
    assert_ne!(under_b, under_a);
    page_goes();
    // Back under ?ns=ta: a's tag again, and b's kept for later.
    assert_eq!(session_tag(&a), under_a);
    assert_eq!(
        storage.get_item(&tag_key(&b)).unwrap().as_deref(),
        Some(under_b.as_str())
    );
}
