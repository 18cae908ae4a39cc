//! Text from outside and what the broker did, as the page shows them (wasm-bindgen-test,
//! headless Chromium): a customer id in its own `<bdi>` with its invisible characters boxed,
//! subscriptions as the broker answered them, and help that fits the diagnosis.
#![cfg(target_arch = "wasm32")]

use std::collections::VecDeque;
use std::time::Duration;

use broker_bridge::session::ABNORMAL_CLOSURE;
use broker_bridge::{ConnectionError, Link, QoS, Takeover};
use eda_core::services::ServiceId;
use eda_core::state::{ServiceView, State};
use eda_core::trace::service_status::Grant;
use frontend::components::{EventLog, Notifications, ServiceBadge, StatusStrip};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn rendered() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

fn mount_root() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

fn text_of(root: &web_sys::Element, selector: &str) -> Vec<String> {
    let nodes = root.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

#[derive(Properties, PartialEq)]
struct NotificationsHarnessProps {
    items: VecDeque<String>,
}

#[component]
fn NotificationsHarness(props: &NotificationsHarnessProps) -> Html {
    html! { <Notifications items={props.items.clone()} dropped={0} /> }
}

#[wasm_bindgen_test]
async fn a_customer_id_sits_in_its_own_bdi_and_its_invisible_characters_show() {
    let root = mount_root();
    let items: VecDeque<String> = [
        "Order confirmation email sent to \u{2068}שלום\u{2069}",
        "Order confirmation email sent to C⟨U+202E RLO⟩123",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    yew::Renderer::<NotificationsHarness>::with_root_and_props(
        root.clone(),
        NotificationsHarnessProps { items },
    )
    .render();
    rendered().await;
    assert_eq!(
        text_of(&root, "[data-testid=notification]"),
        [
            "Order confirmation email sent to שלום",
            "Order confirmation email sent to C⟨U+202E RLO⟩123"
        ],
        "the isolation marks become markup, not text"
    );
    assert_eq!(text_of(&root, "[data-testid=notification] bdi"), ["שלום"]);
}

#[derive(Properties, PartialEq)]
struct LogHarnessProps {
    service: ServiceView,
    subscriptions: Vec<(&'static str, Grant)>,
}

#[component]
fn LogHarness(props: &LogHarnessProps) -> Html {
    html! { <EventLog service={props.service.clone()} subscriptions={props.subscriptions.clone()} /> }
}

#[wasm_bindgen_test]
async fn the_header_lists_what_the_broker_granted_and_marks_what_it_refused() {
    let root = mount_root();
    let state = State::new("ws://localhost:9001".into(), None, "a1b2c3");
    let subscriptions = vec![
        ("orders/created", Grant::Granted(QoS::AtLeastOnce)),
        (
            "payments/processed",
            Grant::Refused("Unspecified error (0x80)".into()),
        ),
        ("inventory/reserved", Grant::Asked),
    ];
    yew::Renderer::<LogHarness>::with_root_and_props(
        root.clone(),
        LogHarnessProps {
            service: state.service(ServiceId::Notification).clone(),
            subscriptions,
        },
    )
    .render();
    rendered().await;
    assert_eq!(
        text_of(&root, "[data-testid=subscriptions]"),
        [
            "Subscribes to orders/created, inventory/reserved (asked); the broker refused \
          ✕ payments/processed (Unspecified error (0x80))."
        ]
    );
    assert_eq!(
        text_of(&root, "[data-testid=subscription][data-state=refused]"),
        ["✕ payments/processed (Unspecified error (0x80))"]
    );
}

#[derive(Properties, PartialEq)]
struct StripHarnessProps {
    services: Vec<ServiceBadge>,
}

#[component]
fn StripHarness(props: &StripHarnessProps) -> Html {
    html! { <StatusStrip services={props.services.clone()} broker_url="ws://127.0.0.1:9001" /> }
}

fn down(reason: ConnectionError) -> Vec<ServiceBadge> {
    vec![ServiceBadge {
        instance: ServiceId::Payment.into(),
        client_id: "eda-a1b2c3-payment".into(),
        link: Link::Disconnected {
            url: "ws://127.0.0.1:9001".into(),
            reason,
            retry_in: Duration::from_millis(4000),
            attempt: 3,
        },
        crashed: false,
        presence: None,
        unrelayed: None,
        connected_at: None,
    }]
}

#[wasm_bindgen_test]
async fn the_help_fits_what_happened_and_advises_starting_mosquitto_only_when_nothing_answered() {
    let unreachable = ConnectionError::TransportClosed {
        code: ABNORMAL_CLOSURE,
        reason: String::new(),
    };
    let cases = [
        (unreachable.clone(), "unreachable", true),
        (
            ConnectionError::TakenOver(Takeover::Inferred {
                after: Duration::from_millis(1000),
                times: 2,
            }),
            "taken-over",
            false,
        ),
        (
            ConnectionError::ClosedAfterAccept {
                after: Duration::from_millis(50),
                in_a_row: 3,
                transport: Box::new(unreachable),
            },
            "closed-after-accept",
            false,
        ),
    ];
    for (reason, diagnosis, advises_mosquitto) in cases {
        let root = mount_root();
        let words = reason.to_string();
        yew::Renderer::<StripHarness>::with_root_and_props(
            root.clone(),
            StripHarnessProps {
                services: down(reason),
            },
        )
        .render();
        rendered().await;
        let help = root
            .query_selector("[data-testid=broker-help]")
            .unwrap()
            .unwrap();
        assert_eq!(
            help.get_attribute("data-diagnosis").as_deref(),
            Some(diagnosis)
        );
        let text = help.text_content().unwrap_or_default();
        assert!(text.contains(&words), "{text}");
        assert!(text.contains("Retrying in 4.0 s (attempt 3)"), "{text}");
        assert_eq!(
            text.contains("Start Mosquitto"),
            advises_mosquitto,
            "{text}"
        );
        // A wrong path closes like an absent broker: the path is named only then.
        let path_help = help
            .query_selector("[data-testid=broker-path-help]")
            .unwrap();
        assert_eq!(path_help.is_some(), advises_mosquitto, "{text}");
    }
}
