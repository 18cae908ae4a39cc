//! Every MQTT packet the four clients sent and received, newest first, in a virtualised table:
//! the whole history is one scrollable list of fixed-height rows, but only the rows in view (and
//! a few either side) are in the DOM, so thousands of packets cost a few dozen rows. A row opens
//! its packet in the detail panel below ([`super::packet_detail`]). Which rows to draw is
//! computed by [`eda_core::trace::virtual_list`] from the scroll position measured here.
//!
//! Scrolled away from the top, the list keeps the reader's place ([`Anchor`]): packets arriving
//! above the rows in view move the scroll position by as many rows, so the row under the pointer
//! stays under it. At the very top the newest packets appear as they come.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, MutationObserver, MutationObserverInit};
use yew::prelude::*;

use super::packet_detail::PacketDetail;
use super::packet_row::{packet_row, spacer, RowContext};
use crate::hooks::use_window_resize;
use crate::SharedTrace;
use eda_core::trace::virtual_list::{reveal, rows_in_view, Anchor, Listing, Viewport};

/// Rows drawn beyond those in view on each side, so a short scroll finds them already there.
const OVERSCAN: usize = 8;

/// Rows after which the box has surely reached its CSS height (25 rows, 7 two-line rows on a
/// phone).
const GROWING_ROWS: usize = 64;

/// What the list assumes until it has measured itself: 28 px rows, 24 of them under the header
/// (styles.css, `.packet-list`).
const UNMEASURED: Viewport = Viewport {
    scroll_top: 0,
    height: 25 * 28,
    header: 28,
    row_height: 28,
};

#[derive(Properties, PartialEq)]
pub struct PacketInspectorProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded.
    pub version: u64,
    /// The open packet (its seq); when it changes, the list scrolls to its row.
    pub selected: Option<u64>,
    pub on_select: Callback<Option<u64>>,
    /// Only packets with `seq < below` are listed (what the playback shows); `None` lists all.
    #[prop_or_default]
    pub below: Option<u64>,
    /// Publish an opened PUBLISH's message again; no button without it (a recording).
    #[prop_or_default]
    pub on_deliver_again: Option<Callback<u64>>,
}

/// The list's scroll container as a [`Viewport`], `None` while it is not in the page. Header
/// and row heights are read from the drawn ones; `known` stands in while there are none.
fn measure(list: &NodeRef, known: Viewport) -> Option<Viewport> {
    let list = list.cast::<HtmlElement>()?;
    let height_of = |selector: &str| {
        list.query_selector(selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlElement>().ok())
            .map(|e| e.offset_height())
            .filter(|h| *h > 0)
    };
    Some(Viewport {
        scroll_top: list.scroll_top(),
        height: list.client_height(),
        header: height_of("thead").unwrap_or(known.header),
        row_height: height_of("tr.packet-row").unwrap_or(known.row_height),
    })
}

/// Scrolls the list, if needed, so row `index` is whole in view, and draws that window. A
/// move forgets the reader's place (`anchor`): the scroll event that follows takes the new one,
/// and until then packets arriving must not pull the list back to the old one.
fn show_row(
    list: &NodeRef,
    index: usize,
    viewport: &UseStateHandle<Viewport>,
    anchor: &RefCell<Option<Anchor>>,
) {
    let (Some(element), Some(measured)) = (list.cast::<HtmlElement>(), measure(list, **viewport))
    else {
        return;
    };
    let scroll_top = match reveal(index, measured) {
        Some(top) => {
            element.set_scroll_top(top);
            *anchor.borrow_mut() = None;
            // The browser may clamp it.
            element.scroll_top()
        }
        None => measured.scroll_top,
    };
    viewport.set(Viewport {
        scroll_top,
        ..measured
    });
}

/// Puts the reader's packet (`anchor`) back where it was in the list, among the rows as drawn
/// now (those below `drawn_below`, not those of the render that asked: a later render may
/// have drawn newer ones since). Records the move in `own_scroll` (its scroll event is not the
/// reader's) and gives the viewport to keep; `None` at the top (no place kept: nothing is
/// measured, as reading the scroll position lays the page out) or when nothing moved.
fn keep_place(
    list: &NodeRef,
    known: Viewport,
    anchor: &RefCell<Option<Anchor>>,
    drawn_below: Option<u64>,
    own_scroll: &RefCell<Option<i32>>,
    trace: &SharedTrace,
) -> Option<Viewport> {
    let (Some(kept), Some(below)) = (*anchor.borrow(), drawn_below) else {
        return None;
    };
    let element = list.cast::<HtmlElement>()?;
    let measured = measure(list, known)?;
    let trace = trace.0.borrow();
    let listing = Listing::new(&trace.packets, Some(below));
    let top = kept.scroll_top_for(listing.index_of(kept.seq), measured)?;
    element.set_scroll_top(top);
    let measured = Viewport {
        // The browser may clamp it.
        scroll_top: element.scroll_top(),
        ..measured
    };
    *own_scroll.borrow_mut() = Some(measured.scroll_top);
    *anchor.borrow_mut() = Anchor::of(&listing, measured);
    Some(measured)
}

/// Focuses the opener of packet `seq` if its row is drawn.
fn focus_row(list: &NodeRef, seq: u64) -> bool {
    let button = list
        .cast::<HtmlElement>()
        .and_then(|l| {
            l.query_selector(&format!("button[data-seq=\"{seq}\"]"))
                .ok()
        })
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    button.is_some_and(|b| b.focus().is_ok())
}

#[component]
pub fn PacketInspector(props: &PacketInspectorProps) -> Html {
    let viewport = use_state_eq(|| UNMEASURED);
    let list_ref = use_node_ref();
    let section_ref = use_node_ref();
    // The packet whose opener takes the focus once its row is drawn (after a key moved there).
    let focus_next = use_mut_ref(|| None::<u64>);
    // The reader's place while scrolled away from the top, as of the last scroll.
    let anchor = use_mut_ref(|| None::<Anchor>);
    // The rows as last drawn end below this seq: packets recorded since (the trace is told at
    // once, the list drawn at most once a frame) are not on screen yet, and a scroll measured
    // meanwhile is a place among the rows drawn.
    let drawn_below = use_mut_ref(|| None::<u64>);
    // The scroll position this component last set to keep the reader's place. Its scroll event
    // comes a frame later, and newer rows may be drawn by then (their own move not made yet):
    // that event is not the reader's, and must not take a place among the newer rows.
    let own_scroll = use_mut_ref(|| None::<i32>);

    let trace = props.trace.0.borrow();
    let history = &trace.packets;
    let listing = Listing::new(history, props.below);
    let total = listing.len();
    let newest = listing.get(0).map(|p| p.seq);
    *drawn_below.borrow_mut() = newest.map(|seq| seq + 1);

    // Measured once the list is in the page, again whenever it comes back after Clear, and on
    // each of its first packets: they grow the box towards its CSS height.
    {
        let (viewport, list) = (viewport.clone(), list_ref.clone());
        use_effect_with(
            (listing.is_empty(), total.min(GROWING_ROWS)),
            move |(empty, _)| match measure(&list, *viewport) {
                Some(measured) => viewport.set(measured),
                None if *empty => viewport.set(Viewport {
                    scroll_top: 0,
                    ..*viewport
                }),
                None => {}
            },
        );
    }
    // And when the window changes size: the box's height may follow (styles.css).
    {
        let (viewport, list) = (viewport.clone(), list_ref.clone());
        use_window_resize(move || {
            if let Some(measured) = measure(&list, *viewport) {
                viewport.set(measured);
            }
        });
    }
    // Packets arrived (or left) while the reader is scrolled down: back to the same rows, as
    // soon as they are drawn. Under load Yew hands the browser back between a render and its
    // effects (every 16 ms, decision 0017), and a frame painted in between showed the rows for
    // the new place at the old scroll position: a blank list, or the wrong rows, for a frame or
    // more. A mutation observer on the newest packet drawn runs before the browser paints
    // again; the effect stays for the renders that change the rows without a newer packet.
    {
        let keep = {
            let (viewport, list, anchor) = (viewport.clone(), list_ref.clone(), anchor.clone());
            let (trace, drawn_below) = (props.trace.clone(), drawn_below.clone());
            let own_scroll = own_scroll.clone();
            Rc::new(move || {
                let below = *drawn_below.borrow();
                if let Some(measured) =
                    keep_place(&list, *viewport, &anchor, below, &own_scroll, &trace)
                {
                    viewport.set(measured);
                }
            })
        };
        let on_drawn = keep.clone();
        use_effect_with((total, newest), move |_| on_drawn());
        let section = section_ref.clone();
        use_effect_with((), move |_| {
            let callback = Closure::<dyn Fn()>::new(move || keep());
            let observer = MutationObserver::new(callback.as_ref().unchecked_ref()).ok();
            if let (Some(observer), Some(section)) = (&observer, section.cast::<web_sys::Node>()) {
                let init = MutationObserverInit::new();
                init.set_subtree(true);
                init.set_attribute_filter(&js_sys::Array::of1(&"data-newest".into()));
                let _ = observer.observe_with_options(&section, &init);
            }
            move || {
                if let Some(observer) = observer {
                    observer.disconnect();
                }
                drop(callback);
            }
        });
    }
    // A packet selected elsewhere (an arrow of the sequence diagram) is scrolled into view.
    {
        let (viewport, list, anchor) = (viewport.clone(), list_ref.clone(), anchor.clone());
        let (trace, below) = (props.trace.clone(), props.below);
        use_effect_with(props.selected, move |selected| {
            let index = selected.and_then(|seq| {
                let trace = trace.0.borrow();
                Listing::new(&trace.packets, below).index_of(seq)
            });
            if let Some(index) = index {
                show_row(&list, index, &viewport, &anchor);
            }
        });
    }
    {
        let (focus_next, list) = (focus_next.clone(), list_ref.clone());
        use_effect(move || {
            let pending = focus_next.borrow_mut().take();
            if let Some(seq) = pending {
                focus_row(&list, seq);
            }
        });
    }

    let onscroll = {
        let (viewport, list, trace) = (viewport.clone(), list_ref.clone(), props.trace.clone());
        let (anchor, own_scroll) = (anchor.clone(), own_scroll.clone());
        Callback::from(move |_: Event| {
            if let Some(measured) = measure(&list, *viewport) {
                // The event of the move made above: the place is kept (it was for the rows
                // drawn then; if newer ones are drawn since, their move comes next). Taken
                // here, it was a place among the newer rows, and the list moved under the
                // pointer by as many rows (a clean-clone run: 9).
                if own_scroll.borrow_mut().take() == Some(measured.scroll_top) {
                    viewport.set(measured);
                    return;
                }
                let trace = trace.0.borrow();
                *anchor.borrow_mut() = (*drawn_below.borrow()).and_then(|below| {
                    Anchor::of(&Listing::new(&trace.packets, Some(below)), measured)
                });
                viewport.set(measured);
            }
        })
    };
    let move_to = {
        let (viewport, list, focus_next) = (viewport.clone(), list_ref.clone(), focus_next.clone());
        let (trace, below, on_select) = (props.trace.clone(), props.below, props.on_select.clone());
        let anchor = anchor.clone();
        Callback::from(move |index: usize| {
            let Some(seq) = Listing::new(&trace.0.borrow().packets, below)
                .get(index)
                .map(|p| p.seq)
            else {
                return;
            };
            on_select.emit(Some(seq));
            show_row(&list, index, &viewport, &anchor);
            if !focus_row(&list, seq) {
                *focus_next.borrow_mut() = Some(seq);
            }
        })
    };

    let opened = props
        .selected
        .and_then(|seq| history.get(seq))
        .filter(|p| props.below.is_none_or(|below| p.seq < below))
        .cloned();
    let on_close = {
        let (on_select, list, focus_next) = (props.on_select.clone(), list_ref.clone(), focus_next);
        let seq = props.selected;
        Callback::from(move |()| {
            on_select.emit(None);
            // Back to the row the panel belonged to, not to the top of the page.
            if let Some(seq) = seq.filter(|seq| !focus_row(&list, *seq)) {
                *focus_next.borrow_mut() = Some(seq);
            }
        })
    };

    // Escape, anywhere in the inspector (a row, the open packet's buttons), closes the packet.
    let onkeydown = {
        let (on_close, open) = (on_close.clone(), opened.is_some());
        Callback::from(move |e: KeyboardEvent| {
            if open && e.key() == "Escape" {
                e.prevent_default();
                on_close.emit(());
            }
        })
    };

    // Scrolled down, the rows are drawn where the reader's packet now is. Chromium's scroll
    // anchoring then moves the scroll position with that row before the frame is painted; the
    // effect above does it where the browser does not.
    let drawn_at = (*anchor.borrow())
        .and_then(|kept| kept.scroll_top_for(listing.index_of(kept.seq), *viewport))
        .map_or(*viewport, |scroll_top| Viewport {
            scroll_top,
            ..*viewport
        });
    let window = rows_in_view(total, drawn_at, OVERSCAN);
    let cx = RowContext {
        total,
        selected: props.selected,
        on_select: &props.on_select,
        move_to: &move_to,
    };
    let count = if total < history.len() {
        format!(
            " — {total} of {} packets, up to the playback cursor",
            history.len()
        )
    } else {
        format!(" — {total} packets")
    };
    html! {
        <section class="card packet-inspector" ref={section_ref} aria-labelledby="inspector-title" {onkeydown}>
            <h2 id="inspector-title" tabindex="-1">{ "Packet inspector" }
                <span class="muted" data-testid="packet-count">{ count }</span></h2>
            if history.dropped() > 0 {
                <p class="dropped" data-testid="packets-not-shown" data-dropped={history.dropped().to_string()}>
                    { format!("{} older packets were dropped from the history: it keeps the newest {}.",
                        history.dropped(), history.capacity()) }
                </p>
            }
            if listing.is_empty() {
                <p class="empty">{ if history.is_empty() {
                    "No packets yet: they appear as the four clients talk to the broker."
                } else {
                    "No packets up to the playback cursor."
                } }</p>
            } else {
                <p class="hint muted" id="inspector-keys">
                    { "Open a packet with its time. On a packet, ↑ and ↓ move to the next one, Home and End to the newest and oldest; Escape closes the open packet." }
                </p>
                <div class="table-scroll packet-list" ref={list_ref} {onscroll} data-testid="packet-list">
                    // The roles keep it a table for screen readers when a narrow screen draws each
                    // row as a two-line grid (styles.css), which drops the table's own semantics.
                    <table role="table" aria-labelledby="inspector-title" aria-describedby="inspector-keys"
                        aria-rowcount={(total + 1).to_string()} data-newest={newest.map(|seq| seq.to_string())}>
                        <colgroup>
                            <col class="col-time" /><col class="col-client" /><col class="col-dir" />
                            <col class="col-kind" /><col class="col-topic" /><col class="col-qos" />
                            <col class="col-id" /><col class="col-flags" /><col class="col-size" />
                            <col class="col-reason" />
                        </colgroup>
                        <thead role="rowgroup"><tr role="row" aria-rowindex="1">
                            <th role="columnheader">{ "Time" }</th><th role="columnheader" class="client">{ "Client" }</th>
                            <th role="columnheader" class="dir">{ "Dir" }</th><th role="columnheader" class="kind">{ "Kind" }</th>
                            <th role="columnheader" class="topic">{ "Topic" }</th><th role="columnheader" class="qos">{ "QoS" }</th>
                            <th role="columnheader" class="id">{ "Id" }</th><th role="columnheader" class="flags">{ "Flags" }</th>
                            <th role="columnheader" class="size">{ "Bytes" }</th><th role="columnheader" class="reason">{ "Reason" }</th>
                        </tr></thead>
                        <tbody role="rowgroup">
                            { spacer("before", window.before) }
                            { for listing.rows(window.start, window.end).enumerate()
                                .map(|(i, p)| packet_row(p, window.start + i, &cx)) }
                            { spacer("after", window.after) }
                        </tbody>
                    </table>
                </div>
            }
            if let Some(packet) = opened {
                <PacketDetail {packet} {on_close} on_deliver_again={props.on_deliver_again.clone()} />
            }
        </section>
    }
}
