//! `data-busy` on the page's root element while the page is under a sustained load
//! ([`eda_core::state::pacing::Load`]):
//! the stylesheet then stops laying out and painting the parts scrolled out of sight
//! (`content-visibility: auto`). Only while busy, because Chromium leaves such skipped parts
//! out of the accessibility tree: a calm page keeps every part in it.

use gloo::timers::callback::Timeout;
use std::cell::Cell;

use eda_core::state::pacing::{Load, CALM_AFTER};

thread_local! {
    static LOAD: Cell<Load> = Cell::new(Load::default());
    static BUSY: Cell<bool> = const { Cell::new(false) };
    /// Counts reports, so the calm-down timer knows whether one came since it was armed.
    static REPORTS: Cell<u64> = const { Cell::new(0) };
}

/// Takes in the size of the report just made (its actions): sets or clears `data-busy` when
/// the page's state changes, and clears it when no report comes for [`CALM_AFTER`] (the load
/// is over).
pub fn follow(actions: usize) {
    let report = REPORTS.with(|r| {
        r.set(r.get() + 1);
        r.get()
    });
    let now_busy = LOAD.with(|l| {
        let mut load = l.get();
        let busy = load.report(actions);
        l.set(load);
        busy
    });
    set(now_busy);
    if now_busy {
        Timeout::new(CALM_AFTER.as_millis() as u32, move || {
            if REPORTS.with(Cell::get) == report {
                LOAD.with(|l| l.set(Load::default()));
                set(false);
            }
        })
        .forget();
    }
}

fn set(now_busy: bool) {
    if BUSY.with(|b| b.replace(now_busy)) == now_busy {
        return;
    }
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element());
    if let Some(root) = root {
        let _ = if now_busy {
            root.set_attribute("data-busy", "true")
        } else {
            root.remove_attribute("data-busy")
        };
    }
}
