//! The packet inspector in a real browser (wasm-bindgen-test, headless Chromium), with the
//! page's own stylesheet: a full history is a virtualised list (a few dozen rows in the DOM, a
//! scrollbar for all of them), a packet selected elsewhere scrolls into view and opens in the
//! detail panel, the keyboard moves between packets, and Clear or a playback cursor shorten the
//! list.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use broker_bridge::packet::{Ack, Packet, Publish};
use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
use eda_core::services::ServiceId;
use eda_core::trace::HISTORY_CAPACITY;
use frontend::components::PacketInspector;
use frontend::SharedTrace;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Packets recorded: the history keeps the newest 2000 (seqs 300 to 2299).
const RECORDED: u64 = 2300;
const OLDEST: u64 = RECORDED - HISTORY_CAPACITY as u64;
const NEWEST: u64 = RECORDED - 1;
/// The packet whose payload is markup, far down the list.
const MARKUP: u64 = 400;
/// Rows the DOM may hold: those in view (24) and the overscan, far below 2000.
const MAX_ROWS: usize = 60;

fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

/// Lets Yew render and run its effects (which may render again).
async fn settle() {
    for _ in 0..4 {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            window()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5)
                .unwrap();
        });
        JsFuture::from(promise).await.unwrap();
    }
}

fn event(seq: u64) -> (ServiceId, PacketEvent) {
    let (service, direction, packet) = if seq == MARKUP {
        let publish = Publish::new("orders/created", b"<b>x</b>".to_vec(), QoS::AtMostOnce);
        (
            ServiceId::Payment,
            Direction::Incoming,
            Packet::Publish(publish),
        )
    } else if seq % 2 == 0 {
        let mut publish = Publish::new("orders/created", br#"{"n":1}"#.to_vec(), QoS::AtLeastOnce);
        publish.packet_id = Some(1 + (seq % 1000) as u16);
        (
            ServiceId::Order,
            Direction::Outgoing,
            Packet::Publish(publish),
        )
    } else {
        let ack = Packet::PubAck(Ack::new(1 + (seq % 1000) as u16));
        (ServiceId::Order, Direction::Incoming, ack)
    };
    let bytes = packet.encode(ProtocolVersion::V311).unwrap();
    let event = PacketEvent {
        at: Duration::from_millis(seq),
        client_id: format!("eda-test00-{}", service.slug()),
        direction,
        packet,
        bytes,
        protocol: ProtocolVersion::V311,
        skipped: None,
    };
    (service, event)
}

fn record(trace: &SharedTrace, seqs: std::ops::Range<u64>) {
    let mut trace = trace.0.borrow_mut();
    for seq in seqs {
        let (service, event) = event(seq);
        assert_eq!(trace.packets.record(service, &event), seq);
    }
}

/// A full history: 2300 packets recorded, the oldest 300 dropped.
fn full_trace() -> SharedTrace {
    let trace = SharedTrace::new();
    record(&trace, 0..RECORDED);
    trace
}

#[derive(Properties, PartialEq, Clone)]
struct HarnessProps {
    trace: SharedTrace,
    version: u64,
    /// A selection from outside (the sequence diagram's click).
    selected: Option<u64>,
    below: Option<u64>,
    /// Every `on_select` the inspector emitted.
    chosen: Rc<RefCell<Vec<Option<u64>>>>,
}

/// The page in small: what the inspector (or the outside) selects is what it shows open.
#[component]
fn Harness(props: &HarnessProps) -> Html {
    let selected = use_state_eq(|| props.selected);
    {
        let selected = selected.clone();
        use_effect_with(props.selected, move |outside| selected.set(*outside));
    }
    let on_select = {
        let (selected, chosen) = (selected.clone(), props.chosen.clone());
        Callback::from(move |seq| {
            chosen.borrow_mut().push(seq);
            selected.set(seq);
        })
    };
    html! {
        <PacketInspector trace={props.trace.clone()} version={props.version} selected={*selected}
            {on_select} below={props.below} />
    }
}

/// The page's stylesheet, once: row heights and the list's height come from it.
fn with_styles() {
    let document = window().document().unwrap();
    if document.get_element_by_id("page-styles").is_none() {
        let style = document.create_element("style").unwrap();
        style.set_id("page-styles");
        style.set_text_content(Some(include_str!("../../static/styles.css")));
        document.body().unwrap().append_child(&style).unwrap();
    }
}

struct Mounted {
    root: Element,
    app: yew::AppHandle<Harness>,
    props: HarnessProps,
}

impl Mounted {
    async fn new(trace: SharedTrace, selected: Option<u64>, below: Option<u64>) -> Mounted {
        with_styles();
        let document = window().document().unwrap();
        let root = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&root).unwrap();
        let props = HarnessProps {
            trace,
            version: 1,
            selected,
            below,
            chosen: Rc::default(),
        };
        let app =
            yew::Renderer::<Harness>::with_root_and_props(root.clone(), props.clone()).render();
        settle().await;
        Mounted { root, app, props }
    }

    async fn update(&mut self, change: impl FnOnce(&mut HarnessProps)) {
        change(&mut self.props);
        self.app.update(self.props.clone());
        settle().await;
    }

    fn one(&self, selector: &str) -> Option<HtmlElement> {
        self.root
            .query_selector(selector)
            .unwrap()
            .map(|e| e.dyn_into().unwrap())
    }

    fn list(&self) -> HtmlElement {
        self.one("[data-testid=packet-list]").expect("the list")
    }

    fn text(&self, selector: &str) -> String {
        self.one(selector)
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    }

    /// The seqs of the rows in the DOM, top to bottom.
    fn rows(&self) -> Vec<u64> {
        let rows = self
            .root
            .query_selector_all("[data-testid=packet-row]")
            .unwrap();
        (0..rows.length())
            .map(|i| {
                let row: Element = rows.item(i).unwrap().dyn_into().unwrap();
                row.get_attribute("data-seq").unwrap().parse().unwrap()
            })
            .collect()
    }

    fn row(&self, seq: u64) -> Option<HtmlElement> {
        self.one(&format!("[data-testid=packet-row][data-seq='{seq}']"))
    }

    /// Scrolls the list as a user would, and lets it redraw.
    async fn scroll_to(&self, top: i32) {
        let list = self.list();
        list.set_scroll_top(top);
        list.dispatch_event(&web_sys::Event::new("scroll").unwrap())
            .unwrap();
        settle().await;
    }

    /// Presses `key` on the focused element.
    async fn press(&self, key: &str) {
        let target = window().document().unwrap().active_element().unwrap();
        let init = js_sys::Object::new();
        js_sys::Reflect::set(&init, &"key".into(), &key.into()).unwrap();
        js_sys::Reflect::set(&init, &"bubbles".into(), &true.into()).unwrap();
        js_sys::Reflect::set(&init, &"cancelable".into(), &true.into()).unwrap();
        let constructor: js_sys::Function =
            js_sys::Reflect::get(&window(), &"KeyboardEvent".into())
                .unwrap()
                .dyn_into()
                .unwrap();
        let args = js_sys::Array::of2(&"keydown".into(), &init);
        let event: web_sys::Event = js_sys::Reflect::construct(&constructor, &args)
            .unwrap()
            .dyn_into()
            .unwrap();
        target.dispatch_event(&event).unwrap();
        settle().await;
    }

    fn unmount(self) {
        self.app.destroy();
        self.root.remove();
    }
}

/// The element's top and bottom on the screen.
fn span(element: &Element) -> (f64, f64) {
    let rect = js_sys::Reflect::get(element, &"getBoundingClientRect".into())
        .unwrap()
        .dyn_into::<js_sys::Function>()
        .unwrap()
        .call0(element)
        .unwrap();
    let number = |name: &str| {
        js_sys::Reflect::get(&rect, &JsValue::from_str(name))
            .unwrap()
            .as_f64()
            .unwrap()
    };
    (number("top"), number("bottom"))
}

/// Whether `row` shows whole in the list, below its sticky header.
fn in_view(mounted: &Mounted, row: &Element) -> bool {
    let (list_top, list_bottom) = span(&mounted.list());
    let header_bottom = span(&mounted.one("thead").unwrap()).1;
    let (top, bottom) = span(row);
    top >= header_bottom.max(list_top) - 0.5 && bottom <= list_bottom + 0.5
}

fn is_open(row: &Element) -> bool {
    row.get_attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|c| c == "open"))
}

fn active_seq() -> Option<String> {
    window()
        .document()
        .unwrap()
        .active_element()
        .and_then(|e| e.get_attribute("data-seq"))
}

#[wasm_bindgen_test]
async fn a_full_history_is_a_few_dozen_rows_with_a_scrollbar_for_all_of_them() {
    let mounted = Mounted::new(full_trace(), None, None).await;

    let rows = mounted.rows();
    assert!(
        (20..=MAX_ROWS).contains(&rows.len()),
        "{} rows drawn of 2000",
        rows.len()
    );
    // Newest first, in order.
    assert_eq!(rows[0], NEWEST);
    assert!(rows.windows(2).all(|w| w[0] == w[1] + 1), "{rows:?}");
    // The whole list is in the scrollbar and in what a screen reader is told.
    let row_height = mounted.row(NEWEST).unwrap().offset_height();
    assert!(row_height > 10, "rows are {row_height} px");
    let list = mounted.list();
    assert!(
        list.scroll_height() >= 2000 * row_height,
        "scrollHeight {} for 2000 rows of {row_height} px",
        list.scroll_height()
    );
    assert!(
        list.client_height() < 40 * row_height,
        "the list is a box, not the page"
    );
    let table = mounted.one("table").unwrap();
    assert_eq!(
        table.get_attribute("aria-rowcount").as_deref(),
        Some("2001")
    );
    let first = mounted.row(NEWEST).unwrap();
    assert_eq!(first.get_attribute("aria-rowindex").as_deref(), Some("2"));
    // The count, and what the history had to drop.
    assert!(
        mounted.text("#inspector-title").contains("2000 packets"),
        "{}",
        mounted.text("#inspector-title")
    );
    let dropped = mounted.text("[data-testid=packets-not-shown]");
    assert!(dropped.contains("300 older packets"), "{dropped}");

    // Scrolled to the bottom: the oldest packet kept is drawn, the newest no longer.
    mounted.scroll_to(list.scroll_height()).await;
    let rows = mounted.rows();
    assert!(rows.len() <= MAX_ROWS, "{} rows drawn", rows.len());
    assert_eq!(rows.last(), Some(&OLDEST), "{rows:?}");
    assert!(!rows.contains(&NEWEST));
    let oldest = mounted.row(OLDEST).unwrap();
    assert_eq!(
        oldest.get_attribute("aria-rowindex").as_deref(),
        Some("2001")
    );
    assert!(
        in_view(&mounted, &oldest),
        "the oldest row shows at the bottom"
    );

    // Half way: the rows there, and only those.
    mounted.scroll_to(1000 * row_height).await;
    let rows = mounted.rows();
    assert!(rows.len() <= MAX_ROWS);
    let middle = NEWEST - 1000;
    assert!(rows.contains(&middle), "row {middle} in {rows:?}");
    assert!(in_view(&mounted, &mounted.row(middle).unwrap()));
    mounted.unmount();
}

#[wasm_bindgen_test]
async fn a_packet_selected_elsewhere_scrolls_into_view_and_opens_as_text() {
    let mut mounted = Mounted::new(full_trace(), None, None).await;
    assert!(mounted.row(MARKUP).is_none(), "far down, not drawn yet");
    assert!(mounted.one("[data-testid=packet-detail]").is_none());

    // The sequence diagram's click selects it.
    mounted.update(|p| p.selected = Some(MARKUP)).await;
    let row = mounted.row(MARKUP).expect("the selected row is drawn");
    assert!(is_open(&row));
    assert!(in_view(&mounted, &row), "the selected row shows whole");
    assert!(mounted.rows().len() <= MAX_ROWS);
    assert_eq!(
        mounted
            .one("[data-testid=packet-row].open")
            .unwrap()
            .get_attribute("data-seq"),
        Some(MARKUP.to_string())
    );

    // Its detail, beside the list: the payload is text, never markup.
    let detail = mounted.one("[data-testid=packet-detail]").unwrap();
    assert_eq!(detail.get_attribute("data-seq"), Some(MARKUP.to_string()));
    assert_eq!(mounted.text("[data-testid=packet-payload]"), "<b>x</b>");
    assert!(
        detail.query_selector("b").unwrap().is_none(),
        "no element from the payload"
    );
    assert!(
        mounted.text("[data-testid=packet-hex]").starts_with("30 "),
        "PUBLISH QoS 0 bytes"
    );
    assert!(
        mounted
            .text("#packet-detail-title")
            .contains("PaymentService received PUBLISH orders/created"),
        "{}",
        mounted.text("#packet-detail-title")
    );
    let opener = mounted
        .one(&format!("button[data-seq='{MARKUP}']"))
        .unwrap();
    assert_eq!(
        opener.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );

    // Selected again from outside, near the top: the list scrolls back up.
    mounted.update(|p| p.selected = Some(NEWEST - 3)).await;
    let row = mounted.row(NEWEST - 3).expect("drawn again near the top");
    assert!(in_view(&mounted, &row));
    assert!(mounted.row(MARKUP).is_none(), "the old window is gone");

    // Closing the panel unselects.
    mounted
        .one("[data-testid=packet-detail] button.close")
        .unwrap()
        .click();
    settle().await;
    assert_eq!(mounted.props.chosen.borrow().last(), Some(&None));
    assert!(mounted.one("[data-testid=packet-detail]").is_none());
    assert_eq!(
        active_seq(),
        Some((NEWEST - 3).to_string()),
        "focus back on its row"
    );
    mounted.unmount();
}

#[wasm_bindgen_test]
async fn the_keyboard_moves_between_packets_scrolling_as_needed() {
    let mounted = Mounted::new(full_trace(), None, None).await;
    // Every opener is a button, in the tab order.
    let opener = mounted
        .one(&format!("button[data-seq='{NEWEST}']"))
        .unwrap();
    assert_eq!(opener.tag_name(), "BUTTON");
    assert!(opener.tab_index() >= 0);
    assert!(
        opener
            .get_attribute("aria-label")
            .unwrap()
            .starts_with(&format!("Packet {NEWEST}: OrderService received PUBACK")),
        "{:?}",
        opener.get_attribute("aria-label")
    );
    opener.focus().unwrap();

    mounted.press("ArrowDown").await;
    assert_eq!(active_seq(), Some((NEWEST - 1).to_string()));
    assert_eq!(
        mounted.props.chosen.borrow().last(),
        Some(&Some(NEWEST - 1))
    );
    assert!(is_open(&mounted.row(NEWEST - 1).unwrap()));
    mounted.press("ArrowUp").await;
    assert_eq!(active_seq(), Some(NEWEST.to_string()));
    mounted.press("ArrowUp").await;
    assert_eq!(active_seq(), Some(NEWEST.to_string()), "nothing newer");

    // Down past the rows in view: the list follows.
    for _ in 0..40 {
        mounted.press("ArrowDown").await;
    }
    let focused = NEWEST - 40;
    assert_eq!(active_seq(), Some(focused.to_string()));
    assert!(in_view(&mounted, &mounted.row(focused).unwrap()));

    // End and Home: the oldest and the newest, far outside the rows drawn.
    mounted.press("End").await;
    assert_eq!(active_seq(), Some(OLDEST.to_string()));
    assert!(in_view(&mounted, &mounted.row(OLDEST).unwrap()));
    assert!(mounted.rows().len() <= MAX_ROWS);
    mounted.press("ArrowDown").await;
    assert_eq!(active_seq(), Some(OLDEST.to_string()), "nothing older");
    mounted.press("Home").await;
    assert_eq!(active_seq(), Some(NEWEST.to_string()));
    assert!(in_view(&mounted, &mounted.row(NEWEST).unwrap()));
    mounted.unmount();
}

#[wasm_bindgen_test]
async fn after_clear_a_list_scrolled_to_the_bottom_starts_again_at_the_top() {
    let trace = full_trace();
    let mut mounted = Mounted::new(trace.clone(), None, None).await;
    mounted.scroll_to(mounted.list().scroll_height()).await;
    assert_eq!(mounted.rows().last(), Some(&OLDEST));

    trace.0.borrow_mut().packets.clear();
    mounted.update(|p| p.version += 1).await;
    assert!(mounted.rows().is_empty());
    assert!(mounted
        .text(".packet-inspector .empty")
        .starts_with("No packets yet"));
    assert!(mounted.one("[data-testid=packets-not-shown]").is_none());

    record(&trace, RECORDED..RECORDED + 3);
    mounted.update(|p| p.version += 1).await;
    assert_eq!(mounted.rows(), [RECORDED + 2, RECORDED + 1, RECORDED]);
    assert_eq!(mounted.list().scroll_top(), 0);
    assert!(
        mounted.one(".packet-spacer:not([hidden])").is_none(),
        "no room for rows not drawn"
    );
    assert!(in_view(&mounted, &mounted.row(RECORDED + 2).unwrap()));

    // Cleared while scrolled to the bottom, with new packets at once (the list never empty):
    // the browser pulls the scroll position back, and the list follows.
    let next = RECORDED + 3;
    record(&trace, next..next + 2000);
    mounted.update(|p| p.version += 1).await;
    mounted.scroll_to(mounted.list().scroll_height()).await;
    assert!(mounted.list().scroll_top() > 1000);
    trace.0.borrow_mut().packets.clear();
    let next = next + 2000;
    record(&trace, next..next + 3);
    mounted.update(|p| p.version += 1).await;
    assert_eq!(mounted.rows(), [next + 2, next + 1, next]);
    assert!(in_view(&mounted, &mounted.row(next + 2).unwrap()));
    // More packets: the list shows the newest, not the empty place where the old end was.
    record(&trace, next + 3..next + 500);
    mounted.update(|p| p.version += 1).await;
    let rows = mounted.rows();
    assert_eq!(rows.first(), Some(&(next + 499)));
    assert!(rows.len() <= MAX_ROWS);
    assert!(in_view(&mounted, &mounted.row(next + 499).unwrap()));
    mounted.unmount();
}

#[wasm_bindgen_test]
async fn packets_arriving_one_by_one_fill_the_box_without_a_scroll() {
    let trace = SharedTrace::new();
    let mut mounted = Mounted::new(trace.clone(), None, None).await;
    assert!(mounted
        .text(".packet-inspector .empty")
        .starts_with("No packets yet"));
    // The box grows with its first rows, then holds still at its height.
    for seq in 0..40 {
        record(&trace, seq..seq + 1);
        mounted.update(|p| p.version += 1).await;
    }
    record(&trace, 40..200);
    mounted.update(|p| p.version += 1).await;
    let rows = mounted.rows();
    assert_eq!(rows.first(), Some(&199));
    assert!(rows.len() <= MAX_ROWS, "{} rows", rows.len());
    // Rows down to the box's bottom edge, none missing below the first screenful.
    let list_bottom = span(&mounted.list()).1;
    let last_drawn = mounted.row(*rows.last().unwrap()).unwrap();
    assert!(
        span(&last_drawn).1 >= list_bottom,
        "{} rows drawn end above the box's bottom",
        rows.len()
    );
    assert!(
        mounted.list().client_height() > 20 * 28,
        "the box reached its height"
    );
    mounted.unmount();
}

#[wasm_bindgen_test]
async fn up_to_a_playback_cursor_only_the_packets_before_it_are_listed() {
    let cursor = 1000;
    let mut mounted = Mounted::new(full_trace(), Some(NEWEST), Some(cursor + 1)).await;
    assert_eq!(mounted.rows()[0], cursor);
    let listed = cursor - OLDEST + 1;
    assert_eq!(
        mounted.one("table").unwrap().get_attribute("aria-rowcount"),
        Some((listed + 1).to_string())
    );
    let title = mounted.text("#inspector-title");
    assert!(
        title.contains(&format!("{listed} of 2000 packets")),
        "{title}"
    );
    // A packet after the cursor is not shown open.
    assert!(mounted.one("[data-testid=packet-detail]").is_none());

    // The cursor moves on: more rows, the newest first.
    mounted.update(|p| p.below = Some(cursor + 11)).await;
    assert_eq!(mounted.rows()[0], cursor + 10);
    // Before the oldest packet kept: nothing to list.
    mounted.update(|p| p.below = Some(OLDEST)).await;
    assert!(mounted.rows().is_empty());
    assert!(mounted
        .text(".packet-inspector .empty")
        .contains("playback cursor"));
    mounted.update(|p| p.below = None).await;
    assert_eq!(mounted.rows()[0], NEWEST);
    mounted.unmount();
}
