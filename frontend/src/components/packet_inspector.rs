//! Every MQTT packet the four clients sent and received, newest first. A row opens to the
//! decoded fields, the payload (pretty JSON) and the raw bytes in hex. Everything from the wire
//! is shown as text, never as HTML.

use yew::prelude::*;

use crate::trace::{SharedTrace, TracedPacket};
use broker_bridge::Direction;

/// Rows drawn at once; the rest stay in the history (and in a recording).
pub const INSPECTOR_ROWS: usize = 200;

#[derive(Properties, PartialEq)]
pub struct PacketInspectorProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded.
    pub version: u64,
    pub selected: Option<u64>,
    pub on_select: Callback<Option<u64>>,
}

/// `12.345 s` on the page's clock, without float formatting.
pub fn clock(at: std::time::Duration) -> String {
    format!("{}.{:03} s", at.as_secs(), at.subsec_millis())
}

fn row(packet: &TracedPacket, open: bool, on_select: &Callback<Option<u64>>) -> Html {
    let seq = packet.seq;
    let toggle = {
        let on_select = on_select.clone();
        Callback::from(move |_: MouseEvent| on_select.emit(if open { None } else { Some(seq) }))
    };
    let (arrow, direction) = match packet.direction {
        Direction::Outgoing => ("→", "out"),
        Direction::Incoming => ("←", "in"),
    };
    let qos = packet
        .qos
        .map(|q| q.level().to_string())
        .unwrap_or_default();
    let id = packet.packet_id.map(|i| i.to_string()).unwrap_or_default();
    let detail = open.then(|| {
        html! {
            <tr class="packet-detail" data-testid="packet-detail">
                <td colspan="10">
                    <dl class="fields">
                        { for packet.fields().into_iter().map(|(name, value)| html! {
                            <><dt>{ name }</dt><dd>{ value }</dd></>
                        }) }
                    </dl>
                    if let Some(payload) = packet.payload_text() {
                        <h4>{ "Payload" }</h4>
                        <pre class="payload" data-testid="packet-payload">{ payload }</pre>
                    }
                    <h4>{ format!("Bytes ({})", packet.size) }</h4>
                    <pre class="hex" data-testid="packet-hex">{ packet.hex() }</pre>
                </td>
            </tr>
        }
    });
    html! {
        <>
            <tr class={classes!("packet-row", direction, open.then_some("open"))} data-testid="packet-row"
                data-seq={seq.to_string()} data-service={packet.service.slug()} data-direction={direction}
                data-kind={packet.kind.name()} data-topic={packet.topic.clone()} data-qos={qos.clone()}
                data-packet-id={id.clone()}>
                <td><button type="button" class="link" onclick={toggle} aria-expanded={open.to_string()}
                    aria-label={format!("Packet {seq}: {} {}", packet.kind.name(), if open { "close" } else { "open" })}>
                    { clock(packet.at) }</button></td>
                <td>{ packet.service.name() }</td>
                <td title={if direction == "out" { "sent to the broker" } else { "received from the broker" }}>{ arrow }</td>
                <td class="kind">{ packet.kind.name() }</td>
                <td>{ packet.topic.clone().unwrap_or_default() }</td>
                <td>{ qos }</td>
                <td>{ id }</td>
                <td>{ packet.flags() }</td>
                <td class="size">{ packet.size }</td>
                <td class="reason">{ packet.reason.clone().unwrap_or_default() }</td>
            </tr>
            { for detail }
        </>
    }
}

#[component]
pub fn PacketInspector(props: &PacketInspectorProps) -> Html {
    let trace = props.trace.0.borrow();
    let packets = &trace.packets;
    let shown: Vec<&TracedPacket> = packets.iter().rev().take(INSPECTOR_ROWS).collect();
    let hidden = packets.len().saturating_sub(shown.len());
    html! {
        <section class="card packet-inspector" aria-labelledby="inspector-title">
            <h2 id="inspector-title">{ "Packet inspector" }
                <span class="muted">{ format!(" — {} packets", packets.len()) }</span></h2>
            if shown.is_empty() {
                <p class="empty">{ "No packets yet: they appear as the four clients talk to the broker." }</p>
            } else {
                <div class="table-scroll">
                    <table>
                        <thead><tr>
                            <th>{ "Time" }</th><th>{ "Client" }</th><th>{ "Dir" }</th><th>{ "Kind" }</th>
                            <th>{ "Topic" }</th><th>{ "QoS" }</th><th>{ "Id" }</th><th>{ "Flags" }</th>
                            <th>{ "Bytes" }</th><th>{ "Reason" }</th>
                        </tr></thead>
                        <tbody>
                            { for shown.iter().map(|p| row(p, props.selected == Some(p.seq), &props.on_select)) }
                        </tbody>
                    </table>
                </div>
            }
            if hidden > 0 || packets.dropped() > 0 {
                <p class="dropped" data-testid="packets-not-shown">
                    { format!("Showing the newest {}; {} older kept but not shown, {} dropped from the history.",
                        shown.len(), hidden, packets.dropped()) }
                </p>
            }
        </section>
    }
}
