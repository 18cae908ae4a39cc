use super::*;
use crate::domain::topics;
use crate::services::ServiceId;
use crate::trace::history::UserAction;
use crate::trace::script::{order, Script};
use crate::trace::sequence::rows::sequence_layout;
use crate::trace::sequence::{arrows, View};
use broker_bridge::{Direction, Packet, ProtocolVersion, Publish, QoS};

/// The click, OrderService's QoS 1 publish and its PUBACK.
fn small_case() -> Vec<Arrow> {
    let mut s = Script::new(ProtocolVersion::V311);
    s.actions.push(UserAction::PlacedOrder {
        at: s.now() + std::time::Duration::from_millis(1),
        order_id: order(1),
    });
    s.leg(
        ServiceId::Order,
        Direction::Outgoing,
        topics::ORDERS_CREATED,
        order(1),
        QoS::AtLeastOnce,
    );
    arrows(&s.history, &s.actions, &View::default())
}

/// A PUBLISH on `topic` delivered to PaymentService.
fn delivered_on(topic: &str) -> Vec<Arrow> {
    let mut s = Script::new(ProtocolVersion::V311);
    let publish = Publish::new(topic, b"<b>&amp;</b>".to_vec(), QoS::AtMostOnce);
    s.send(
        ServiceId::Payment,
        Direction::Incoming,
        Packet::Publish(publish),
    );
    arrows(&s.history, &[], &View::default())
}

#[test]
fn mermaid_of_a_small_case() {
    assert_eq!(
        to_mermaid(&small_case()),
        "sequenceDiagram
    participant Client
    participant OrderService
    participant Broker as MQTT Broker
    participant PaymentService
    participant InventoryService
    participant NotificationService
    participant QueryService
    participant StatusMonitor as Status monitor
    Client->>OrderService: [+0 ms] Place order
    OrderService->>Broker: [+0 ms] PUBLISH orders/created (QoS 1, id 1)
    OrderService-->>Client: [+0 ms] orderId 3fa85f64…
    Broker-->>OrderService: [+1 ms] PUBACK (id 1)
"
    );
}

#[test]
fn mermaid_escapes_what_it_would_read_as_syntax() {
    let mermaid = to_mermaid(&delivered_on("a;b#c:d<br>"));
    assert_eq!(
        mermaid.lines().last(),
        Some("    Broker->>PaymentService: [+0 ms] PUBLISH a#59;b#35;c#58;d#60;br#62; (QoS 0)")
    );
    assert_eq!(mermaid.lines().count(), 1 + 8 + 1);
}

#[test]
fn svg_draws_every_lifeline_and_arrow() {
    let arrows = small_case();
    let svg = to_svg(&sequence_layout(&arrows, 1.0));
    assert_well_formed(&svg);
    for lifeline in Lifeline::ALL {
        assert!(svg.contains(&format!(">{}</text>", lifeline.name())));
    }
    assert_eq!(svg.matches("<g class=\"arrow\"").count(), arrows.len());
    assert_eq!(
        svg.matches("marker-end=\"url(#arrowhead)\"").count(),
        arrows.len()
    );
    assert_eq!(
        svg.matches("stroke-dasharray=\"6 4\"").count(),
        2,
        "orderId and PUBACK"
    );
    assert_eq!(svg.matches(" data-seq=\"").count(), 2, "the two packets");
    assert!(svg.contains(">PUBLISH orders/created (QoS 1, id 1)</text>"));
    assert!(svg.contains(">+1 ms</text>"));
}

#[test]
fn svg_keeps_hostile_topics_as_text() {
    let svg = to_svg(&sequence_layout(&delivered_on("<script>&\"'/x\u{1}"), 1.0));
    assert_well_formed(&svg);
    assert!(!svg.contains("<script"));
    // The control character is named in the label already, as on the page.
    assert!(svg.contains(">PUBLISH &lt;script&gt;&amp;&quot;&apos;/x⟨U+0001⟩ (QoS 0)</text>"));
}

#[test]
fn an_empty_view_is_still_a_document() {
    let svg = to_svg(&sequence_layout(&[], 1.0));
    assert_well_formed(&svg);
    assert_eq!(svg.matches("<g class=\"lifeline\"").count(), 8);
    assert_eq!(to_mermaid(&[]).lines().count(), 9);
}

/// Enough of XML to catch what escaping would get wrong: every `<` opens a tag that closes,
/// tags nest and balance under one root, attribute values are quoted and hold no `<`, and every
/// `&` starts one of XML's five entities.
fn assert_well_formed(doc: &str) {
    let mut rest = doc
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("an XML declaration");
    let mut open: Vec<String> = Vec::new();
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        assert_text(&rest[..start]);
        rest = &rest[start + 1..];
        let mut quote = None;
        let mut end = None;
        for (i, c) in rest.char_indices() {
            match (quote, c) {
                (None, '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (Some(_), '<') => panic!("`<` in an attribute value: {rest}"),
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.expect("every tag closes");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "closing tag");
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(!name.is_empty(), "a tag without a name: <{tag}>");
        assert_text(tag);
        if open.is_empty() {
            roots += 1;
        }
        if !tag.ends_with('/') {
            open.push(name);
        }
    }
    assert_text(rest);
    assert!(rest.trim().is_empty(), "text after the root");
    assert_eq!((roots, open), (1, Vec::<String>::new()));
}

fn assert_text(text: &str) {
    for (i, _) in text.match_indices('&') {
        let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|e| text[i..].starts_with(e));
        assert!(entity, "a bare `&` in {text:?}");
    }
    assert!(
        !text
            .chars()
            .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')),
        "a control character XML cannot hold"
    );
}
