//! A reload comes back where the learner was. The browser's own scroll restoration runs while
//! the page is still short (the part below the broker's section is drawn one task after the
//! first render, [`super::use_after_first_render`]), so it landed at the top. Instead the page
//! keeps its scroll position in the tab's `sessionStorage` when it goes (`pagehide`, which a
//! reload fires), keyed by its address, and scrolls back there once the whole page is drawn.
//! A `#fragment` that names an element keeps priority ([`super::use_fragment_target`]).

use gloo::events::EventListener;
use wasm_bindgen::JsValue;
use web_sys::{Storage, Window};
use yew::prelude::*;

/// The `sessionStorage` key's start; the page's address (`location.href`) follows.
const KEY_PREFIX: &str = "eda-scroll-y ";

/// Keeps the page's scroll position across a reload: stored when the page goes, put back once
/// `below` (the whole page is drawn) turns true, then forgotten. Nothing where storage is
/// denied, or when the address's `#fragment` names an element.
#[hook]
pub fn use_reload_scroll(below: bool) {
    use_effect_with((), |_| {
        let listener = web_sys::window().map(|window| {
            // The browser would restore before the page is drawn, and perhaps again after ours.
            let _ = js_sys::Reflect::set(
                &window.history().map_or(JsValue::NULL, JsValue::from),
                &JsValue::from_str("scrollRestoration"),
                &JsValue::from_str("manual"),
            );
            let target = window.clone();
            EventListener::new(&window, "pagehide", move |_| {
                if let (Some(storage), Some(key)) = (session_storage(&target), key(&target)) {
                    let y = target.scroll_y().unwrap_or(0.0);
                    let _ = storage.set_item(&key, &y.to_string());
                }
            })
        });
        move || drop(listener)
    });
    use_effect_with(below, |below| {
        if !*below {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let (Some(storage), Some(key)) = (session_storage(&window), key(&window)) else {
            return;
        };
        let stored = storage.get_item(&key).ok().flatten();
        let _ = storage.remove_item(&key);
        let y = stored.and_then(|y| y.parse::<f64>().ok());
        if let Some(y) = y.filter(|y| y.is_finite() && *y > 0.0) {
            if !fragment_names_an_element(&window) {
                window.scroll_to_with_x_and_y(0.0, y);
            }
        }
    });
}

/// The key under which this address's position is kept.
fn key(window: &Window) -> Option<String> {
    let href = window.location().href().ok()?;
    Some(format!("{KEY_PREFIX}{href}"))
}

/// Whether the address's `#fragment` names an element of the page.
fn fragment_names_an_element(window: &Window) -> bool {
    let hash = window.location().hash().unwrap_or_default();
    let id = hash.strip_prefix('#').unwrap_or("");
    let decoded = js_sys::decode_uri_component(id)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| id.to_owned());
    !id.is_empty()
        && window
            .document()
            .and_then(|d| d.get_element_by_id(&decoded))
            .is_some()
}

/// The tab's `sessionStorage`, or `None` where the browser denies it.
fn session_storage(window: &Window) -> Option<Storage> {
    window.session_storage().ok().flatten()
}
