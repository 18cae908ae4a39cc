//! The packet opened in the inspector: its decoded fields, the payload (pretty JSON) and the raw
//! bytes in hex. A panel of its own beside the list, whose rows must all be one height.
//! Everything from the wire is shown as text, never as HTML, isolated with its invisible
//! characters named ([`super::outside_text`]).

use yew::prelude::*;

use super::outside_text::{outside, outside_lines};
use broker_bridge::Direction;
use eda_core::outside_text::isolate;
use eda_core::trace::TracedPacket;

/// The id the list's open row points at (`aria-controls`).
pub const DETAIL_ID: &str = "packet-detail";

#[derive(Properties, PartialEq)]
pub struct PacketDetailProps {
    pub packet: TracedPacket,
    pub on_close: Callback<()>,
    /// Publish this PUBLISH's message again (a redelivery), by its `seq`.
    #[prop_or_default]
    pub on_deliver_again: Option<Callback<u64>>,
}

/// `12.345 s` on the page's clock, without float formatting.
pub fn clock(at: std::time::Duration) -> String {
    format!("{}.{:03} s", at.as_secs(), at.subsec_millis())
}

/// "OrderService sent" or "PaymentService received", for labels.
fn who(packet: &TracedPacket) -> String {
    let verb = match packet.direction {
        Direction::Outgoing => "sent",
        Direction::Incoming => "received",
    };
    format!("{} {verb}", packet.instance_name())
}

/// `Packet 12: OrderService sent PUBLISH orders/created`: a packet in words, for its row's
/// button and the panel's title.
pub fn describe(packet: &TracedPacket) -> String {
    let topic = packet
        .wire_topic()
        .map(|t| format!(" {}", isolate(t)))
        .unwrap_or_default();
    format!(
        "Packet {}: {} {}{topic}",
        packet.seq,
        who(packet),
        packet.kind.name()
    )
}

#[component]
pub fn PacketDetail(props: &PacketDetailProps) -> Html {
    let packet = &props.packet;
    let title = format!("{} at {}", describe(packet), clock(packet.at));
    let close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <section class="packet-detail" id={DETAIL_ID} data-testid="packet-detail" data-seq={packet.seq.to_string()}
            aria-labelledby="packet-detail-title">
            <header>
                <h3 id="packet-detail-title">{ title }</h3>
                <button type="button" class="close" onclick={close}
                    aria-label={format!("Close packet {}", packet.seq)}>{ "Close" }</button>
            </header>
            <dl class="fields">
                { for packet.fields().into_iter().map(|(name, value)| html! {
                    <><dt>{ name }</dt><dd>{ outside(&value) }</dd></>
                }) }
            </dl>
            if let Some(payload) = packet.payload_text() {
                <h4>{ "Payload" }</h4>
                <pre class="payload" data-testid="packet-payload">{ outside_lines(&payload) }</pre>
            }
            // Not for the status monitor's: it publishes nothing, and what it hears no service handles.
            if let (Some(on_again), true) = (&props.on_deliver_again, packet.kind == broker_bridge::PacketKind::Publish && packet.participant.service().is_some()) {
                <p class="deliver-again">
                    <button type="button" data-testid="deliver-again"
                        onclick={{ let (on_again, seq) = (on_again.clone(), packet.seq); Callback::from(move |_: MouseEvent| on_again.emit(seq)) }}>
                        { "Deliver again" }</button>
                    <span class="muted">{ " publishes this message once more, as a redelivery after a lost acknowledgement would." }</span>
                </p>
            }
            // Skipped unread: the bytes shown are its header as the client re-encoded it, not
            // the wire's.
            <h4>{ match packet.skipped {
                Some(_) => format!(
                    "Bytes ({} on the wire; its payload skipped unread, the header as the client re-encoded it)",
                    packet.size
                ),
                None => format!("Bytes ({})", packet.size),
            } }</h4>
            <pre class="hex" data-testid="packet-hex">{ packet.hex() }</pre>
        </section>
    }
}
