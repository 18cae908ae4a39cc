//! Components in a real browser (wasm-bindgen-test, headless Chromium): the sequence diagram and
//! the packet inspector render a given packet stream into the expected arrows and rows, and a
//! click on an arrow selects its packet.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::packet::{Ack, Packet, Publish};
use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
use eda_core::services::ServiceId;
use eda_core::trace::UserAction;
use frontend::components::{PacketInspector, SequenceDiagram};
use frontend::SharedTrace;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

const ORDER: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// Lets Yew render: its scheduler runs before a zero-delay timer fires.
async fn rendered() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

fn event(
    at_ms: u64,
    service: ServiceId,
    direction: Direction,
    packet: Packet,
) -> (ServiceId, PacketEvent) {
    let bytes = packet.encode(ProtocolVersion::V311).unwrap();
    let event = PacketEvent {
        at: Duration::from_millis(at_ms),
        client_id: format!("eda-test00-{}", service.slug()),
        direction,
        packet,
        bytes,
        protocol: ProtocolVersion::V311,
        skipped: None,
    };
    (service, event)
}

fn publish(topic: &str, id: u16) -> Packet {
    let payload = format!(r#"{{"orderId":"{ORDER}"}}"#).into_bytes();
    let mut publish = Publish::new(topic, payload, QoS::AtLeastOnce);
    publish.packet_id = Some(id);
    Packet::Publish(publish)
}

/// One order at QoS 1 on its first leg: OrderService → broker → PaymentService.
fn scripted_trace() -> SharedTrace {
    let trace = SharedTrace::new();
    {
        let mut t = trace.0.borrow_mut();
        t.actions.push(UserAction::PlacedOrder {
            at: Duration::from_millis(10),
            order_id: ORDER.parse().unwrap(),
        });
        for (service, e) in [
            event(
                11,
                ServiceId::Order,
                Direction::Outgoing,
                publish("orders/created", 1),
            ),
            event(
                13,
                ServiceId::Order,
                Direction::Incoming,
                Packet::PubAck(Ack::new(1)),
            ),
            event(
                14,
                ServiceId::Payment,
                Direction::Incoming,
                publish("orders/created", 7),
            ),
            event(
                15,
                ServiceId::Payment,
                Direction::Outgoing,
                Packet::PubAck(Ack::new(7)),
            ),
        ] {
            t.packets.record(service, &e);
        }
    }
    trace
}

fn mount_root() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

fn arrows(root: &web_sys::Element) -> Vec<String> {
    let nodes = root.query_selector_all("[data-testid=seq-arrow]").unwrap();
    (0..nodes.length())
        .map(|i| {
            let e: web_sys::Element = nodes.item(i).unwrap().dyn_into().unwrap();
            let attr = |name| e.get_attribute(name).unwrap_or_default();
            format!(
                "{}->{} {}",
                attr("data-from"),
                attr("data-to"),
                attr("data-label")
            )
        })
        .collect()
}

#[derive(Properties, PartialEq)]
struct DiagramHarnessProps {
    trace: SharedTrace,
    selected: Rc<RefCell<Vec<Option<u64>>>>,
}

#[component]
fn DiagramHarness(props: &DiagramHarnessProps) -> Html {
    let selected = props.selected.clone();
    let on_select = Callback::from(move |seq| selected.borrow_mut().push(seq));
    html! { <SequenceDiagram trace={props.trace.clone()} version={1} {on_select} /> }
}

#[wasm_bindgen_test]
async fn the_sequence_diagram_draws_one_arrow_per_packet_and_the_click() {
    let root = mount_root();
    let selected = Rc::new(RefCell::new(Vec::new()));
    yew::Renderer::<DiagramHarness>::with_root_and_props(
        root.clone(),
        DiagramHarnessProps {
            trace: scripted_trace(),
            selected: selected.clone(),
        },
    )
    .render();
    rendered().await;

    assert_eq!(
        arrows(&root),
        [
            "Client->OrderService Place order",
            "OrderService->Client orderId 3fa85f64…",
            "OrderService->Broker PUBLISH orders/created (QoS 1, id 1)",
            "Broker->OrderService PUBACK (id 1)",
            "Broker->PaymentService PUBLISH orders/created (QoS 1, id 7)",
            "PaymentService->Broker PUBACK (id 7)",
        ]
    );

    // Clicking the PUBACK arrow selects that packet (its seq in the history).
    let puback = root
        .query_selector("[data-testid=seq-arrow][data-label='PUBACK (id 1)']")
        .unwrap()
        .unwrap();
    let seq: u64 = puback.get_attribute("data-seq").unwrap().parse().unwrap();
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    let click = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    puback.dispatch_event(&click).unwrap();
    rendered().await;
    assert_eq!(*selected.borrow(), [Some(seq)]);
}

#[derive(Properties, PartialEq)]
struct InspectorHarnessProps {
    trace: SharedTrace,
    selected: Option<u64>,
}

#[component]
fn InspectorHarness(props: &InspectorHarnessProps) -> Html {
    html! {
        <PacketInspector trace={props.trace.clone()} version={1} selected={props.selected}
            on_select={Callback::noop()} />
    }
}

#[wasm_bindgen_test]
async fn the_inspector_lists_every_packet_newest_first_and_opens_one() {
    let trace = scripted_trace();
    let first_seq = trace.0.borrow().packets.iter().next().unwrap().seq;
    let root = mount_root();
    yew::Renderer::<InspectorHarness>::with_root_and_props(
        root.clone(),
        InspectorHarnessProps {
            trace,
            selected: Some(first_seq),
        },
    )
    .render();
    rendered().await;

    let rows = root.query_selector_all("[data-testid=packet-row]").unwrap();
    let kinds: Vec<String> = (0..rows.length())
        .map(|i| {
            let e: web_sys::Element = rows.item(i).unwrap().dyn_into().unwrap();
            format!(
                "{} {} {}",
                e.get_attribute("data-service").unwrap(),
                e.get_attribute("data-direction").unwrap(),
                e.get_attribute("data-kind").unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "payment out PUBACK",
            "payment in PUBLISH",
            "order in PUBACK",
            "order out PUBLISH",
        ]
    );
    // The selected packet (OrderService's PUBLISH) is open: its bytes start with 0x32 (PUBLISH,
    // QoS 1) and its payload is shown as text.
    let hex = root
        .query_selector("[data-testid=packet-hex]")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert!(hex.starts_with("32 "), "{hex}");
    let payload = root
        .query_selector("[data-testid=packet-payload]")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert!(payload.contains(ORDER), "{payload}");
}

#[derive(Properties, PartialEq)]
struct SteppedHarnessProps {
    trace: SharedTrace,
    version: u64,
}

#[component]
fn SteppedHarness(props: &SteppedHarnessProps) -> Html {
    html! { <SequenceDiagram trace={props.trace.clone()} version={props.version} on_select={Callback::noop()} /> }
}

/// The view's clock paused at the start, then stepped: the diagram grows one packet at a time.
#[wasm_bindgen_test]
async fn a_paused_view_draws_only_what_each_step_shows() {
    use eda_core::trace::playback::{Playback, Speed};
    let trace = scripted_trace();
    {
        let mut guard = trace.0.borrow_mut();
        let t = &mut *guard;
        t.playback = Playback::live(Speed::ONE);
        // Paused before the first packet (at 5 ms: the click is at 10).
        t.playback.pause(Duration::from_millis(5), &t.packets);
    }
    let root = mount_root();
    let props = |version| SteppedHarnessProps {
        trace: trace.clone(),
        version,
    };
    let mut app =
        yew::Renderer::<SteppedHarness>::with_root_and_props(root.clone(), props(0)).render();
    rendered().await;
    assert_eq!(arrows(&root), Vec::<String>::new(), "nothing shown yet");

    let mut seen = Vec::new();
    for (version, expected) in (1..=3).zip([3, 4, 5]) {
        {
            let mut guard = trace.0.borrow_mut();
            let t = &mut *guard;
            t.playback.step(Duration::from_millis(100), &t.packets);
        }
        // A new version draws the diagram again, as the page's PlaybackChanged does. The
        // diagram may render twice (its scroll box sticks to the newest arrow): give it a few
        // turns to settle before reading it.
        app.update(props(version));
        for _ in 0..10 {
            rendered().await;
            if arrows(&root).len() == expected {
                break;
            }
        }
        seen.push(arrows(&root).len());
    }
    // The first step shows the click, its answer and the PUBLISH; then one arrow a step.
    assert_eq!(seen, [3, 4, 5]);
    assert_eq!(
        arrows(&root).last().unwrap(),
        "Broker->PaymentService PUBLISH orders/created (QoS 1, id 7)"
    );
}
