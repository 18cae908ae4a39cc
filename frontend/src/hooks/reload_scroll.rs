//! A reload comes back where the learner was. The browser's own scroll restoration runs while
//! the page is still short (the part below the broker's section is drawn one task after the
//! first render, [`super::use_after_first_render`]), so it landed at the top. Instead the page
//! keeps where it was in the tab's `sessionStorage` when it goes (`pagehide`, which a reload
//! fires), keyed by its address, and scrolls back there once the whole page is drawn.
//!
//! Where it was is a part of the page, not a y: what lies above (the logs, the orders restored
//! from the browser's database) is shorter when the position is put back, or fills in after, so
//! the same y landed ~1,900 px lower. The page keeps the first heading or section with an `id`
//! at or below the window's top and how far the window's top was above it, scrolls that
//! element back to the same offset, and the browser's scroll anchoring (CSS
//! `overflow-anchor`, on by default) holds it there while the content above grows. The y is
//! kept too, for a page scrolled where no such element follows.
//! A `#fragment` that names an element keeps priority ([`super::use_fragment_target`]).

use gloo::events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Storage, Window};
use yew::prelude::*;

/// The `sessionStorage` key's start; the page's address (`location.href`) follows.
const KEY_PREFIX: &str = "eda-scroll-y ";

/// The elements a position is kept by: the page's parts and their headings.
const ANCHORS: &str = "section[id], h1[id], h2[id], h3[id], h4[id]";

/// How far above the window's top (CSS px) an anchor may start and still count as at the top:
/// `scrollIntoView` leaves a heading a fraction of a device pixel above it.
const AT_TOP_SLACK: f64 = 2.0;

/// Where the page was when it went: its y (CSS px from the document's top) and, when one was
/// found, the anchor element's `id` and its top's distance from the window's top (CSS px,
/// ≥ `-AT_TOP_SLACK`). Kept as text: `y`, or `y offset id`.
#[derive(Debug, Clone, PartialEq)]
struct Kept {
    y: f64,
    anchor: Option<(String, f64)>,
}

impl Kept {
    fn to_text(&self) -> String {
        match &self.anchor {
            Some((id, offset)) => format!("{} {offset} {id}", self.y),
            None => self.y.to_string(),
        }
    }

    /// `None` for text this page did not write (an id is never empty nor holds spaces).
    fn parse(text: &str) -> Option<Kept> {
        let mut parts = text.splitn(3, ' ');
        let y = parts
            .next()?
            .parse::<f64>()
            .ok()
            .filter(|y| y.is_finite())?;
        let anchor = match (parts.next(), parts.next()) {
            (Some(offset), Some(id)) if !id.is_empty() => {
                let offset = offset.parse::<f64>().ok().filter(|o| o.is_finite())?;
                Some((id.to_owned(), offset))
            }
            (None, None) => None,
            _ => return None,
        };
        Some(Kept { y, anchor })
    }
}

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
                    let kept = Kept {
                        y: target.scroll_y().unwrap_or(0.0),
                        anchor: anchor_at_top(&target),
                    };
                    let _ = storage.set_item(&key, &kept.to_text());
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
        let Some(kept) = stored.as_deref().and_then(Kept::parse) else {
            return;
        };
        if kept.y <= 0.0 || fragment_names_an_element(&window) {
            return;
        }
        let element = kept.anchor.as_ref().and_then(|(id, offset)| {
            let element = window.document()?.get_element_by_id(id)?;
            Some((element, *offset))
        });
        match element {
            Some((element, offset)) => {
                let top = element.get_bounding_client_rect().top();
                let y = window.scroll_y().unwrap_or(0.0) + top - offset;
                window.scroll_to_with_x_and_y(0.0, y.max(0.0));
            }
            None => window.scroll_to_with_x_and_y(0.0, kept.y),
        }
    });
}

/// The first heading or section with an `id` (document order) whose top is at or below the
/// window's top, and that top's distance from the window's top (CSS px).
fn anchor_at_top(window: &Window) -> Option<(String, f64)> {
    let list = window.document()?.query_selector_all(ANCHORS).ok()?;
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
        .find_map(|element| {
            let top = element.get_bounding_client_rect().top();
            let id = element.id();
            (top >= -AT_TOP_SLACK && !id.is_empty() && !id.contains(' ')).then_some((id, top))
        })
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

#[cfg(test)]
mod tests {
    use super::Kept;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_kept_position_reads_back_as_written() {
        let kept = Kept {
            y: 4868.5,
            anchor: Some(("sequence-title".into(), -0.03125)),
        };
        assert_eq!(Kept::parse(&kept.to_text()), Some(kept));
        let y_only = Kept {
            y: 120.0,
            anchor: None,
        };
        assert_eq!(Kept::parse(&y_only.to_text()), Some(y_only));
        // What an older page wrote: a y alone.
        assert_eq!(Kept::parse("300").map(|k| k.y), Some(300.0));
        for bad in ["", "x", "NaN", "1 x title", "1 2", "inf 0 a"] {
            assert_eq!(Kept::parse(bad), None, "{bad}");
        }
    }
}
