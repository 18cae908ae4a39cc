//! The live sequence diagram: one arrow per packet between the service's lifeline and the
//! broker's, plus the form's "Place order". Filter by order, hide connection packets, zoom,
//! click an arrow to open its packet, export SVG or Mermaid.

use uuid::Uuid;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::download::download;
use crate::SharedTrace;
use eda_core::trace::sequence::follow::FollowNewest;
use eda_core::trace::sequence::rows::{
    ArrowShape, RowAnchor, HEADS_STRIP, HEAD_HEIGHT, HEAD_TOP, HEAD_WIDTH, ROW_HEIGHT, TIME_GUTTER,
};
use eda_core::trace::{
    arrows, orders_in, sequence_layout, sequence_layout_since, to_mermaid, to_svg, View,
};

/// How many of the newest orders the filter offers.
const ORDER_CHOICES: usize = 50;

#[derive(Properties, PartialEq)]
pub struct SequenceDiagramProps {
    pub trace: SharedTrace,
    pub version: u64,
    pub on_select: Callback<Option<u64>>,
    /// Off screen the box does not follow the newest arrow (reading its height would lay out
    /// the page in the middle of a render); back on screen it does again.
    #[prop_or(true)]
    pub on_screen: bool,
}

#[component]
pub fn SequenceDiagram(props: &SequenceDiagramProps) -> Html {
    let view = use_state(View::default);
    let zoom = use_state(|| 1.0_f64);
    let show_mermaid = use_state(|| false);
    // The scroll box: what part of the diagram is in view, and whether it sticks to the
    // newest arrow (it does until the learner scrolls up).
    let scroller = use_node_ref();
    let band = use_state_eq(|| (0_i32, 600_i32));
    let follow = use_mut_ref(FollowNewest::default);
    // The anchor's `base` when the reader let go of the newest arrow (see `held` below).
    let held_since = use_mut_ref(|| None::<usize>);
    // The arrow with the keyboard focus (its index among the arrows drawn): it stays in the
    // page however the box scrolls, with every row between it and the rows in view, so Tab
    // goes on to its neighbour; and the box does not jump to the newest arrow meanwhile.
    let focused = use_state_eq(|| None::<usize>);
    let anchored = use_mut_ref(|| None::<(View, RowAnchor)>);
    let on_scroll = {
        let (scroller, band, follow) = (scroller.clone(), band.clone(), follow.clone());
        Callback::from(move |_: Event| {
            if let Some(el) = scroller.cast::<web_sys::Element>() {
                let top = el.scroll_top();
                follow
                    .borrow_mut()
                    .scrolled(top, el.client_height(), el.scroll_height());
                band.set((top, el.client_height()));
            }
        })
    };
    {
        // Scrolled to the bottom just before the next paint, when the browser lays the page
        // out anyway, instead of forcing a layout of its own in the middle of the render.
        let (scroller, follow) = (scroller.clone(), follow.clone());
        let frame = use_mut_ref(|| None::<gloo::render::AnimationFrame>);
        let on_screen = props.on_screen;
        let focus_inside = focused.is_some();
        use_effect(move || {
            if on_screen && follow.borrow().following() && !focus_inside {
                let next = gloo::render::request_animation_frame(move |_| {
                    // Asked again: the learner may have scrolled up (or moved the focus up)
                    // since the request.
                    if !follow.borrow().following() {
                        return;
                    }
                    if let Some(el) = scroller.cast::<web_sys::Element>() {
                        el.set_scroll_top(el.scroll_height());
                        follow.borrow_mut().followed(el.scroll_top());
                    }
                });
                // Replacing an earlier request cancels it: one scroll per frame.
                *frame.borrow_mut() = Some(next);
            }
        });
    }

    let trace = props.trace.0.borrow();
    // What the playback shows; the filter and the checkbox are the learner's.
    let shown_view = View {
        shown: trace.playback.shown(),
        ..*view
    };
    let drawn = arrows(&trace.packets, &trace.actions, &shown_view);
    // The newest orders only: under load the history holds a hundred or more.
    let orders: Vec<Uuid> = {
        let all = orders_in(&trace.packets, &trace.actions);
        let skip = all.len().saturating_sub(ORDER_CHOICES);
        all.into_iter().skip(skip).collect()
    };
    // Rows keep their place in the page as older arrows leave the history: one transform
    // changes, not every row and time label in the page (the filter or the connection packets
    // start it again; a replay's steps do not, the anchor sees a history replaced itself).
    let anchor = {
        let mut slot = anchored.borrow_mut();
        let filter = View {
            shown: None,
            ..shown_view
        };
        let previous = slot.as_ref().filter(|(was, _)| *was == filter);
        let next = RowAnchor::follow(previous.map(|(_, anchor)| anchor), &drawn);
        *slot = Some((filter, next));
        next
    };
    let shapes =
        sequence_layout_since(&drawn, *zoom, anchor.origin).counting_rows_from(anchor.base);
    let row = ROW_HEIGHT * *zoom;
    let shift = row * anchor.base as f64;
    // Scrolled away from the newest arrow, the picture holds still: as older arrows leave the
    // history (past its 2,000 packets, one per packet) the rows stay where the reader saw them,
    // and the box grows by a blank band above instead of every arrow moving up a row per
    // packet (a newcomer's break-test, 3 runs of 3). Following again lets the band go.
    let held = {
        let mut held_since = held_since.borrow_mut();
        if follow.borrow().following() {
            *held_since = None;
        } else if held_since.is_none_or(|base| base > anchor.base) {
            // Let go now, or the rows started counting again (another filter, a rebase).
            *held_since = Some(anchor.base);
        }
        held_since.map_or(0.0, |base| row * (anchor.base - base) as f64)
    };

    let on_order = {
        let view = view.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            view.set(View {
                order: value.parse().ok(),
                ..*view
            });
        })
    };
    let on_control = {
        let view = view.clone();
        Callback::from(move |e: Event| {
            let checked = e.target_unchecked_into::<HtmlInputElement>().checked();
            view.set(View {
                control_packets: checked,
                ..*view
            });
        })
    };
    let zoom_by = |factor: f64| {
        let zoom = zoom.clone();
        Callback::from(move |_: MouseEvent| zoom.set((*zoom * factor).clamp(0.25, 4.0)))
    };
    // Exports are made when asked for: at 100 orders a second the view holds ~2000 arrows.
    let on_download = {
        let (trace, zoom) = (props.trace.clone(), *zoom);
        Callback::from(move |_: MouseEvent| {
            let trace = trace.0.borrow();
            let drawn = arrows(&trace.packets, &trace.actions, &shown_view);
            let svg_text = to_svg(&sequence_layout(&drawn, zoom));
            let _ = download("sequence-diagram.svg", "image/svg+xml", &svg_text);
        })
    };
    let mermaid = if *show_mermaid {
        to_mermaid(&drawn)
    } else {
        String::new()
    };
    let on_mermaid = {
        let show = show_mermaid.clone();
        Callback::from(move |_: MouseEvent| show.set(!*show))
    };
    let on_copy = {
        let mermaid = mermaid.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(window) = web_sys::window() {
                let _ = window.navigator().clipboard().write_text(&mermaid);
            }
        })
    };

    let heads = shapes.lifelines.iter().map(|(lifeline, x)| {
        html! {
            <g class="lifeline-head" data-testid="sequence-head" data-lifeline={lifeline.ident()}>
                <rect x={(x - HEAD_WIDTH / 2.0).to_string()} y={HEAD_TOP.to_string()} width={HEAD_WIDTH.to_string()}
                    height={HEAD_HEIGHT.to_string()} rx="4" class="head" />
                <text x={x.to_string()} y={(HEAD_TOP + HEAD_HEIGHT / 2.0 + 4.0).to_string()} text-anchor="middle"
                    class="head-name">{ lifeline.name() }</text>
            </g>
        }
    });
    // Only the rows in view, and a screen and a half either side, are put in the page.
    let (top, height) = *band;
    let margin = f64::from(height) * 1.5;
    // In the layout's units: the page draws it `held` lower.
    let mut in_view = shapes.arrows_between(
        f64::from(top) - held - margin,
        f64::from(top + height) - held + margin,
    );
    if let Some(at) = focused.and_then(|index| shapes.arrows.iter().position(|a| a.index == index))
    {
        in_view = in_view.start.min(at)..in_view.end.max(at + 1);
    }
    let rows = &shapes.arrows[in_view];
    // The lines in the diagram, over the rows put in the page only (at 2,000 arrows a lifeline
    // is 56,000 units long, and its dashes were painted whole on every frame); their start
    // kept on the dash pattern's period, so the dashes do not shift as the box scrolls.
    let (life_top, life_bottom) = {
        let period = 8.0;
        let from = (f64::from(top) - margin - shapes.lifeline_top).max(0.0);
        let first = shapes.lifeline_top + (from / period).floor() * period;
        let last = (f64::from(top + height) + margin).min(shapes.lifeline_bottom + held);
        (first.min(last), last)
    };
    // The heads in a strip of their own that stays at the top of the scroll box (sticky), so
    // the newest arrows, far down, keep their lane names.
    let lines_of_life = shapes.lifelines.iter().map(|(lifeline, x)| {
        html! {
            <g class="lifeline" data-lifeline={lifeline.ident()}>
                <line x1={x.to_string()} y1={life_top.to_string()} x2={x.to_string()}
                    y2={life_bottom.to_string()} class="life" />
            </g>
        }
    });
    let lines = rows.iter().map(|arrow| {
        let (from, to) = drawn
            .get(arrow.index)
            .map(|a| (a.from.ident(), a.to.ident()))
            .unwrap_or_default();
        let seq = arrow.packet_seq;
        let y = (arrow.y + shift).to_string();
        // Keyed by its packet: as the rows in view shift, an element stays its arrow (unkeyed,
        // Yew gave it another arrow's label and click, so a click or the keyboard focus landed
        // on a neighbour). An arrow without a packet (an action) by its place in the list.
        let key = row_key(arrow);
        let onclick = {
            let on_select = props.on_select.clone();
            Callback::from(move |_: MouseEvent| {
                if seq.is_some() {
                    on_select.emit(seq)
                }
            })
        };
        let onfocus = {
            let (focused, index) = (focused.clone(), arrow.index);
            Callback::from(move |_: FocusEvent| focused.set(Some(index)))
        };
        let onblur = {
            let (focused, scroller) = (focused.clone(), scroller.clone());
            Callback::from(move |e: FocusEvent| {
                // Tab to the next arrow: its focus event sets it (a render in between, with
                // no arrow focused, could take that one out of the page).
                let to = e.related_target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
                let inside = scroller
                    .cast::<web_sys::Element>()
                    .is_some_and(|box_| to.is_some_and(|to| box_.contains(Some(&to))));
                if !inside {
                    focused.set(None);
                }
            })
        };
        let onkeydown = {
            let on_select = props.on_select.clone();
            Callback::from(move |e: KeyboardEvent| {
                if seq.is_some() && (e.key() == "Enter" || e.key() == " ") {
                    e.prevent_default();
                    on_select.emit(seq)
                }
            })
        };
        html! {
            <g {key} class={classes!("arrow", arrow.dashed.then_some("reply"), arrow.packet_seq.is_some().then_some("clickable"), arrow.mark.map(|m| m.word()))}
                data-testid="seq-arrow" data-seq={arrow.packet_seq.map(|s| s.to_string())}
                data-mark={arrow.mark.map(|m| m.word())}
                data-label={arrow.label.clone()} data-from={from} data-to={to} {onclick} {onkeydown} {onfocus} {onblur}
                tabindex={seq.map(|_| "0")} role={seq.map(|_| "button")}
                aria-label={seq.map(|_| format!("{}: open this packet", arrow.label))}>
                <title>{ &arrow.label }</title>
                // A wide transparent line: a 1-pixel arrow is hard to hit.
                <line class="hit" x1={arrow.x1.to_string()} y1={y.clone()} x2={arrow.x2.to_string()}
                    y2={y.clone()} />
                <line x1={arrow.x1.to_string()} y1={y.clone()} x2={arrow.x2.to_string()}
                    y2={y} marker-end="url(#arrowhead)" />
                if arrow.labelled {
                    <text x={((arrow.x1 + arrow.x2) / 2.0).to_string()} y={(arrow.y + shift - 5.0).to_string()}
                        text-anchor="middle">{ &arrow.label }</text>
                }
            </g>
        }
    });

    html! {
        <section class="card sequence-diagram" aria-labelledby="sequence-title">
            <h2 id="sequence-title">{ "Sequence diagram" }
                <span class="muted">{ format!(" — {} arrows", drawn.len()) }</span></h2>
            <div class="toolbar">
                <label>{ "Order " }
                    <select id="sequence-order" onchange={on_order}>
                        <option value="" selected={view.order.is_none()}>{ "All orders" }</option>
                        if let Some(chosen) = view.order.filter(|id| !orders.contains(id)) {
                            <option key={format!("chosen-{chosen}")} value={chosen.to_string()} selected=true>{ chosen.to_string() }</option>
                        }
                        { for orders.iter().map(|id| html! {
                            <option key={id.to_string()} value={id.to_string()} selected={view.order == Some(*id)}>{ id.to_string() }</option>
                        }) }
                    </select>
                </label>
                <label><input id="sequence-control" type="checkbox" checked={view.control_packets} onchange={on_control} />
                    { " Connection packets" }</label>
                <button type="button" onclick={zoom_by(1.0 / 1.25)} aria-label="Zoom out">{ "−" }</button>
                <button type="button" onclick={zoom_by(1.25)} aria-label="Zoom in">{ "+" }</button>
                <button type="button" onclick={on_download} data-testid="download-svg">{ "Download SVG" }</button>
                <button type="button" onclick={on_mermaid} aria-expanded={show_mermaid.to_string()}
                    data-testid="show-mermaid">{ "Mermaid" }</button>
            </div>
            if *show_mermaid {
                <div class="mermaid">
                    <textarea readonly=true rows="8" data-testid="mermaid-text" aria-label="Mermaid text of this view"
                        value={mermaid.clone()} />
                    <button type="button" onclick={on_copy}>{ "Copy" }</button>
                </div>
            }
            <div class="svg-scroll" ref={scroller.clone()} onscroll={on_scroll} data-testid="sequence-scroll">
                <svg xmlns="http://www.w3.org/2000/svg" class="sequence-heads" aria-hidden="true" data-testid="sequence-heads"
                    width={shapes.width.to_string()} height={HEADS_STRIP.to_string()}
                    viewBox={format!("0 0 {} {HEADS_STRIP}", shapes.width)}>
                    { for heads }
                </svg>
                // Drawn from the top of the box, under the strip of heads.
                <svg xmlns="http://www.w3.org/2000/svg" width={shapes.width.to_string()} height={(shapes.height + held).to_string()}
                    viewBox={format!("0 0 {} {}", shapes.width, shapes.height + held)} role="img"
                    style={format!("margin-top: -{HEADS_STRIP}px")}
                    aria-label="Sequence diagram of the order flow" data-testid="sequence-svg">
                    <defs>
                        <marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9"
                            markerHeight="9" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
                        </marker>
                    </defs>
                    { for lines_of_life }
                    <g class="rows" transform={format!("translate(0 {})", held - shift)}>
                        // Times sit in the left margin, outside the clickable arrow groups; keyed
                        // like the arrows, so a time stays on its row.
                        <g class="times">{ for rows.iter().filter(|arrow| arrow.labelled).map(|arrow| html! {
                            <text key={row_key(arrow)} x={(TIME_GUTTER - 8.0).to_string()} y={(arrow.y + shift + 4.0).to_string()}
                                text-anchor="end" class="time" data-testid="seq-time" data-seq={arrow.packet_seq.map(|s| s.to_string())}>{ &arrow.time_label }</text>
                        }) }</g>
                        // Their own group: a fully keyed list (among the unkeyed times, Yew would
                        // make each arrow again whenever its place changed, and the focus with it).
                        <g class="arrows">{ for lines }</g>
                    </g>
                </svg>
            </div>
        </section>
    }
}

/// A row's key: its packet, or for an action (no packet) its place in the list.
fn row_key(arrow: &ArrowShape) -> String {
    match arrow.packet_seq {
        Some(seq) => format!("p{seq}"),
        None => format!("a{}", arrow.index),
    }
}
