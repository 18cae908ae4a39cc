//! One row of the packet inspector's list: the packet's columns, and its time as the button that
//! opens it; on that button, the arrow keys and Home and End move to another packet. Every row
//! is of one height, which the virtualised list relies on: one line, or on a narrow screen (a
//! phone) two, with the packet id, size, QoS and reason left to the packet's detail
//! (styles.css, by the cells' classes).

use yew::prelude::*;

use super::outside_text::{outside, reason as reason_text};
use super::packet_detail::{clock, describe, DETAIL_ID};
use broker_bridge::Direction;
use eda_core::outside_text::visible;
use eda_core::trace::virtual_list::row_for_key;
use eda_core::trace::TracedPacket;

/// What every row needs from the list.
pub struct RowContext<'a> {
    /// Packets listed.
    pub total: usize,
    pub selected: Option<u64>,
    pub on_select: &'a Callback<Option<u64>>,
    /// Moves the selection and the focus to the packet in that row (a key was pressed).
    pub move_to: &'a Callback<usize>,
}

/// Packet `packet`, in row `index` of the list (0 the newest).
pub fn packet_row(packet: &TracedPacket, index: usize, cx: &RowContext) -> Html {
    let seq = packet.seq;
    let open = cx.selected == Some(seq);
    let onclick = cx
        .on_select
        .reform(move |_: MouseEvent| (!open).then_some(seq));
    let onkeydown = {
        let (move_to, total) = (cx.move_to.clone(), cx.total);
        Callback::from(move |e: KeyboardEvent| {
            if e.alt_key() || e.ctrl_key() || e.meta_key() || e.shift_key() {
                return;
            }
            if let Some(target) = row_for_key(&e.key(), index, total) {
                // The list must not scroll by itself as well.
                e.prevent_default();
                if target != index {
                    move_to.emit(target);
                }
            }
        })
    };
    let direction = match packet.direction {
        Direction::Outgoing => "out",
        Direction::Incoming => "in",
    };
    let (arrow, arrow_title) = match packet.direction {
        Direction::Outgoing => ("→", "sent to the broker"),
        Direction::Incoming => ("←", "received from the broker"),
    };
    let qos = packet
        .qos
        .map(|q| q.level().to_string())
        .unwrap_or_default();
    let id = packet.packet_id.map(|i| i.to_string()).unwrap_or_default();
    // The topic as it went over the wire, topic namespace (`?ns=`) and all.
    let topic = packet.wire_topic().unwrap_or_default().to_owned();
    let reason = packet.reason.clone().unwrap_or_default();
    let label = describe(packet);
    let mark = packet.mark();
    html! {
        <tr key={seq} role="row" class={classes!("packet-row", direction, open.then_some("open"), mark.map(|m| m.word()))}
            data-mark={mark.map(|m| m.word())}
            data-testid="packet-row" aria-rowindex={(index + 2).to_string()}
            data-seq={seq.to_string()} data-service={packet.participant.slug()} data-direction={direction}
            data-kind={packet.kind.name()} data-topic={packet.wire_topic().map(str::to_owned)} data-qos={qos.clone()}
            data-packet-id={id.clone()}>
            <td role="cell"><button type="button" class="link" data-seq={seq.to_string()} {onclick} {onkeydown}
                aria-pressed={open.to_string()} aria-controls={open.then_some(DETAIL_ID)}
                aria-label={label}>{ clock(packet.at) }</button></td>
            <td role="cell" class="client" title={packet.instance_name()}>{ packet.instance_name() }</td>
            <td role="cell" class="dir" title={arrow_title}>{ arrow }</td>
            <td role="cell" class="kind">{ packet.kind.name() }</td>
            <td role="cell" class="topic" title={visible(&topic).into_owned()}>
                if let Some(mark) = mark {
                    <span class="mark" title={mark.word()}>{ format!("{} ", mark.symbol()) }</span>
                }
                { outside(&topic) }
            </td>
            <td role="cell" class="qos">{ qos }</td>
            <td role="cell" class="id">{ id }</td>
            <td role="cell" class="flags">{ packet.flags() }</td>
            <td role="cell" class="size">{ packet.size }</td>
            <td role="cell" class="reason" title={visible(&reason).into_owned()}>{ reason_text(&reason) }</td>
        </tr>
    }
}

/// A row standing for `px` pixels of rows not drawn, so the scrollbar spans the whole list.
/// Always there and keyed, like the rows: then Yew moves no row when the window slides, and a
/// focused opener keeps its focus.
pub fn spacer(key: &'static str, px: u64) -> Html {
    html! {
        <tr {key} class="packet-spacer" aria-hidden="true" hidden={px == 0}
            style={format!("height: {px}px")}>
            <td colspan="10"></td>
        </tr>
    }
}
