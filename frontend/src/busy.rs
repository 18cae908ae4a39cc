//! `data-busy` on the page's root element while the page is under a sustained load
//! ([`eda_core::state::pacing::Load`]): the stylesheet then stops laying out and painting the
//! parts scrolled out of sight (`content-visibility: auto`). Only while busy, because Chromium
//! leaves such skipped parts out of the accessibility tree: a calm page keeps every part in it.
//!
//! A part skipped is given the height it has at the switch (`contain-intrinsic-size`), so the
//! page keeps its length and nothing on screen moves: without it each part out of sight
//! collapsed to a placeholder height and the page jumped under the learner's mouse.

use std::cell::{Cell, RefCell};

use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;

use eda_core::state::pacing::{Load, CALM_AFTER};

/// The parts that skip layout while busy: the same selector as `static/styles.css`'s
/// `html[data-busy] :is(…)` rule.
pub const SKIPPED_PARTS: &str = "section.broker, main.layout, \
     section.layout.wide:not(.picture-controls), section.layout.wide > .part";

thread_local! {
    static LOAD: Cell<Load> = Cell::new(Load::default());
    static BUSY: Cell<bool> = const { Cell::new(false) };
    /// Counts large batches, so the calm-down timer knows whether one came since it was armed.
    static LARGE: Cell<u64> = const { Cell::new(0) };
    /// Told of each switch, by [`watch`]'s number: the components drawn differently while busy.
    static WATCHERS: RefCell<Vec<(u64, yew::Callback<bool>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_WATCHER: Cell<u64> = const { Cell::new(0) };
}

/// Calls `on_switch` with the new state each time the page turns busy or calm, until the
/// returned [`Watch`] is dropped (what [`crate::hooks::use_busy`] is made of).
pub fn watch(on_switch: yew::Callback<bool>) -> Watch {
    let id = NEXT_WATCHER.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    WATCHERS.with(|w| w.borrow_mut().push((id, on_switch)));
    Watch(id)
}

/// A registration made by [`watch`]; dropping it ends it.
pub struct Watch(u64);

impl Drop for Watch {
    fn drop(&mut self) {
        WATCHERS.with(|w| w.borrow_mut().retain(|(id, _)| *id != self.0));
    }
}

/// Takes in the size of the report just made (its actions): sets `data-busy` once the load is
/// sustained, and clears it [`CALM_AFTER`] after the last large batch.
pub fn follow(actions: usize) {
    let now_busy = LOAD.with(|l| {
        let mut load = l.get();
        let busy = load.report(actions);
        l.set(load);
        busy
    });
    set(now_busy);
    if now_busy && Load::is_large(actions) {
        let large = LARGE.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        Timeout::new(CALM_AFTER.as_millis() as u32, move || {
            if LARGE.with(Cell::get) == large {
                LOAD.with(|l| l.set(Load::default()));
                set(false);
            }
        })
        .forget();
    }
}

/// Whether the page is busy now (`data-busy` set): the report period is then the longest
/// ([`eda_core::state::pacing::report_period`]).
pub fn is_busy() -> bool {
    BUSY.with(Cell::get)
}

fn set(now_busy: bool) {
    if BUSY.with(|b| b.replace(now_busy)) == now_busy {
        return;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(root) = document.document_element() else {
        return;
    };
    if now_busy {
        keep_heights(&document);
        let _ = root.set_attribute("data-busy", "true");
    } else {
        let _ = root.remove_attribute("data-busy");
    }
    // Copied first: a watcher's callback may (through a render) add or drop a watch.
    let watchers: Vec<_> = WATCHERS.with(|w| w.borrow().iter().map(|(_, c)| c.clone()).collect());
    for watcher in watchers {
        watcher.emit(now_busy);
    }
}

/// Gives each part that will skip layout its present height as its placeholder height.
fn keep_heights(document: &web_sys::Document) {
    let Ok(parts) = document.query_selector_all(SKIPPED_PARTS) else {
        return;
    };
    let window = web_sys::window();
    // All heights read first, then all written: one layout, not one per part.
    let heights: Vec<(web_sys::HtmlElement, f64)> = (0..parts.length())
        .filter_map(|i| parts.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .map(|part| {
            // contain-intrinsic-size is the height of the content: padding and borders come on
            // top of it (CSS Sizing 4 §4), so a part given its whole height grew by them.
            let style = window
                .as_ref()
                .and_then(|w| w.get_computed_style(&part).ok().flatten());
            let px = |property: &str| {
                style
                    .as_ref()
                    .and_then(|s| s.get_property_value(property).ok())
                    // JavaScript's own parseFloat ("12px" → 12): Rust's float parser would add
                    // ~25 KB to the module for four numbers.
                    .map(|v| js_sys::parse_float(&v))
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0)
            };
            let around = px("padding-top")
                + px("padding-bottom")
                + px("border-top-width")
                + px("border-bottom-width");
            let height = part.get_bounding_client_rect().height() - around;
            (part, height.max(0.0))
        })
        .collect();
    for (part, height) in heights {
        let _ = part
            .style()
            .set_property("contain-intrinsic-size", &format!("auto {height:.0}px"));
    }
}
