//! Sagas played by the services' real decisions on virtual time (see `wire.rs`), traced as the
//! page traces them, then exported: the spans each handling gets, their parents, times, links
//! and statuses, one trace per order, and the OTLP/JSON text.

use std::collections::HashSet;

use broker_bridge::QoS;

use super::wire::{Wire, START_UNIX_MS};
use super::*;
use crate::services::{FlowSettings, SagaStyle, ServiceId, Stock};

mod json;
mod namespace;

fn order(n: u128) -> Uuid {
    Uuid::from_u128(0x3fa8_5f64_5717_4562_b3fc_2c96_3f66_0000 + n)
}

fn settings(style: SagaStyle, change: impl FnOnce(&mut FlowSettings)) -> FlowSettings {
    let mut settings = FlowSettings {
        saga: style,
        ..FlowSettings::default()
    };
    change(&mut settings);
    settings
}

/// One order of two units placed and played to its end.
fn saga(settings: FlowSettings, qos: QoS) -> (Wire, SagaTrace) {
    let mut wire = Wire::new(settings, qos);
    wire.place(order(1), 2);
    wire.settle();
    let trace = order_trace(&wire.history, order(1)).unwrap();
    (wire, trace)
}

fn epoch() -> Epoch {
    Epoch::from_unix_nanos(START_UNIX_MS as u64 * 1_000_000)
}

/// Each span in a line: service, name, what it published, its status.
fn summary(trace: &SagaTrace) -> Vec<String> {
    trace
        .spans
        .iter()
        .map(|s| {
            let mut line = format!("{} {}", s.service.name(), s.name);
            if let Some(Value::Texts(published)) = s.attribute("eda.published") {
                line.push_str(&format!(" → {}", published.join(", ")));
            }
            if s.attribute("eda.redelivery").is_some() {
                line.push_str(" (redelivery)");
            }
            if let Some(why) = &s.error {
                line.push_str(&format!(" ✕ {why}"));
            }
            line
        })
        .collect()
}

/// What holds for every saga: the root first and parent of all, unique ids, times in order,
/// links inside the trace, and every PUBLISH of the order in exactly one span.
fn assert_well_formed(wire: &Wire, trace: &SagaTrace) {
    let root = trace.root();
    assert_eq!(
        (root.parent, root.kind, root.name.as_str()),
        (None, SpanKind::Internal, "order saga")
    );
    assert_eq!(trace.trace_id.0, *trace.order_id.as_bytes());
    let ids: HashSet<SpanId> = trace.spans.iter().map(|s| s.span_id).collect();
    assert_eq!(ids.len(), trace.spans.len(), "span ids are unique");
    assert!(!ids.contains(&SpanId([0; 8])), "no all-zero span id");
    for span in &trace.spans[1..] {
        assert_eq!(span.parent, Some(root.span_id), "{}", span.name);
        assert_ne!(span.kind, SpanKind::Internal);
        assert!(
            root.start <= span.start && span.end <= root.end,
            "{}",
            span.name
        );
        for link in &span.links {
            assert!(ids.contains(&link.span_id), "a link inside the trace");
            assert_ne!(link.span_id, span.span_id);
        }
    }
    for span in &trace.spans {
        assert!(span.start <= span.end, "{}", span.name);
        let times: Vec<Duration> = span.events.iter().map(|e| e.at).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{}: {times:?}",
            span.name
        );
        assert!(times.iter().all(|t| (span.start..=span.end).contains(t)));
    }
    let starts: Vec<Duration> = trace.spans[1..].iter().map(|s| s.start).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "sorted by start");
    // Every PUBLISH of the order is an event of exactly one span.
    let mut seqs: Vec<i64> = trace.spans[1..]
        .iter()
        .flat_map(|s| &s.events)
        .filter(|e| e.name.starts_with("PUBLISH"))
        .filter_map(|e| match e.attributes.first() {
            Some(("eda.packet.seq", Value::Int(seq))) => Some(*seq),
            _ => None,
        })
        .collect();
    seqs.sort_unstable();
    let expected: Vec<i64> = wire
        .history
        .iter()
        .filter(|p| packets::order_of(p) == Some(trace.order_id))
        .map(|p| p.seq as i64)
        .collect();
    assert_eq!(seqs, expected, "every PUBLISH of the order, once");
}

fn span<'a>(trace: &'a SagaTrace, service: ServiceId, name: &str) -> &'a Span {
    trace
        .spans
        .iter()
        .find(|s| s.service == service && s.name == name)
        .unwrap_or_else(|| panic!("no {service} {name} in {:#?}", summary(trace)))
}

#[test]
fn a_confirmed_order_has_a_span_per_handling_under_the_saga() {
    let (wire, trace) = saga(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    assert_well_formed(&wire, &trace);
    assert_eq!(
        summary(&trace),
        [
            "OrderService order saga",
            "OrderService publish orders/created → orders/created",
            "OrderService process orders/created",
            "PaymentService process orders/created → payments/processed",
            "InventoryService process orders/created → inventory/reserved",
            "NotificationService process orders/created",
            "OrderService process inventory/reserved",
            "NotificationService process inventory/reserved",
            // The join: the second result confirms the order.
            "OrderService process payments/processed → orders/confirmed",
            "NotificationService process payments/processed",
            "PaymentService process orders/confirmed",
            "InventoryService process orders/confirmed",
            "NotificationService process orders/confirmed",
        ]
    );
    let root = trace.root();
    assert_eq!(root.error, None);
    assert_eq!(
        root.attribute("eda.order.status"),
        Some(&Value::Text("Completed".into()))
    );
    assert_eq!(
        root.attribute("eda.order.total"),
        Some(&Value::Double(59.98))
    );
    let outcome: Vec<&str> = root.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(outcome, ["order created", "order completed"]);

    // PaymentService's handling: from the delivery to its result's acknowledgement, a second
    // after, and linked to the span that published the order.
    let payment = span(&trace, ServiceId::Payment, "process orders/created");
    assert_eq!(payment.kind, SpanKind::Consumer);
    assert_eq!(payment.client_id.as_deref(), Some("eda-test-payment"));
    let events: Vec<&str> = payment.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        events,
        [
            "PUBLISH received",
            "PUBACK sent",
            "PUBLISH sent",
            "PUBACK received"
        ]
    );
    assert_eq!((payment.end - payment.start).as_millis(), 1000);
    let created = span(&trace, ServiceId::Order, "publish orders/created");
    assert_eq!(created.kind, SpanKind::Producer);
    assert_eq!(payment.links.len(), 1);
    assert_eq!(payment.links[0].span_id, created.span_id);
    for (key, value) in [
        ("messaging.system", "mqtt"),
        ("messaging.operation.type", "process"),
        ("messaging.destination.name", "orders/created"),
        ("messaging.client.id", "eda-test-payment"),
        ("messaging.message.id", &order(1).to_string()),
        ("eda.order.id", &order(1).to_string()),
    ] {
        assert_eq!(
            payment.attribute(key),
            Some(&Value::Text(value.into())),
            "{key}"
        );
    }
    assert_eq!(
        created.attribute("messaging.operation.type"),
        Some(&Value::Text("send".into()))
    );
    // The confirmation is linked to the result that completed the join.
    let join = span(&trace, ServiceId::Order, "process payments/processed");
    let charge = span(&trace, ServiceId::Payment, "process orders/created");
    assert_eq!(join.links[0].span_id, charge.span_id);
}

#[test]
fn a_declined_payment_marks_the_decline_and_the_cancellation_as_errors_and_the_release_as_a_compensation(
) {
    let (wire, trace) = saga(
        settings(SagaStyle::Parallel, |s| s.payment.decline_all = true),
        QoS::AtLeastOnce,
    );
    assert_well_formed(&wire, &trace);
    let root = trace.root();
    assert_eq!(root.error.as_deref(), Some("payment declined"));
    assert_eq!(
        root.attribute("eda.order.status"),
        Some(&Value::Text("Cancelled".into()))
    );
    let outcome = root.events.last().unwrap();
    assert_eq!(outcome.name, "order cancelled");
    let lines = summary(&trace);
    for expected in [
        "PaymentService process orders/created → payments/processed ✕ payment declined",
        "OrderService process payments/processed → orders/cancelled ✕ payment declined",
        "InventoryService process orders/cancelled → inventory/released",
        "NotificationService process orders/cancelled",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} in {lines:#?}"
        );
    }
    let release = span(&trace, ServiceId::Inventory, "process orders/cancelled");
    assert_eq!(release.error, None);
    assert_eq!(
        release.attribute("eda.saga.compensation"),
        Some(&Value::Bool(true))
    );
    let errors = trace.spans.iter().filter(|s| s.error.is_some()).count();
    assert_eq!(
        errors, 3,
        "the saga, the decline, the cancellation: {lines:#?}"
    );
}

#[test]
fn a_deadline_s_cancellation_is_a_span_of_its_own_and_the_late_charge_is_refunded_in_its_handling()
{
    let (wire, trace) = saga(
        settings(SagaStyle::Parallel, |s| {
            s.delays.payment = Duration::from_millis(3000);
            s.saga_timeout = Duration::from_millis(2000);
        }),
        QoS::AtLeastOnce,
    );
    assert_well_formed(&wire, &trace);
    let lines = summary(&trace);
    for expected in [
        // No delivery caused it: OrderService's timer did.
        "OrderService publish orders/cancelled → orders/cancelled ✕ payment timed out",
        "InventoryService process orders/cancelled → inventory/released",
        "PaymentService process orders/created → payments/processed, payments/refunded",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} in {lines:#?}"
        );
    }
    let deadline = span(&trace, ServiceId::Order, "publish orders/cancelled");
    assert_eq!(deadline.kind, SpanKind::Producer);
    assert_eq!(trace.root().error.as_deref(), Some("payment timed out"));
}

#[test]
fn orchestration_s_commands_chain_the_handlings() {
    let (wire, trace) = saga(settings(SagaStyle::Orchestration, |_| {}), QoS::AtLeastOnce);
    assert_well_formed(&wire, &trace);
    let lines = summary(&trace);
    for expected in [
        "OrderService process orders/created → commands/inventory/reserve",
        "InventoryService process commands/inventory/reserve → inventory/reserved",
        "OrderService process inventory/reserved → commands/payment/charge",
        "PaymentService process commands/payment/charge → payments/processed",
        "OrderService process payments/processed → orders/confirmed",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} in {lines:#?}"
        );
    }
    // Each command's handling links to the span that sent it.
    let sent = span(&trace, ServiceId::Order, "process inventory/reserved");
    let charged = span(
        &trace,
        ServiceId::Payment,
        "process commands/payment/charge",
    );
    assert_eq!(charged.links[0].span_id, sent.span_id);
}

#[test]
fn every_outcome_in_every_style_is_a_well_formed_trace_whose_root_fails_exactly_when_cancelled() {
    type Change = fn(&mut FlowSettings);
    let cases: [(&str, Change, Option<&str>); 5] = [
        ("all succeed", |_| {}, None),
        (
            "decline",
            |s| s.payment.decline_all = true,
            Some("payment declined"),
        ),
        (
            "out of stock",
            |s| s.stock = Stock::parse("P001:1").unwrap(),
            Some("out of stock: P001 (2 asked, 1 left)"),
        ),
        (
            "timeout",
            |s| {
                s.delays.payment = Duration::from_millis(3000);
                s.saga_timeout = Duration::from_millis(2000);
            },
            Some("payment timed out"),
        ),
        (
            "unknown product",
            |s| s.stock = Stock::parse("P002:5").unwrap(),
            Some("inventory timed out"),
        ),
    ];
    for style in [
        SagaStyle::Parallel,
        SagaStyle::Choreography,
        SagaStyle::Orchestration,
    ] {
        for (name, change, cancelled) in cases {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                let (wire, trace) = saga(settings(style, change), qos);
                let case = format!("{name}, {style}, {qos:?}: {:#?}", summary(&trace));
                assert_well_formed(&wire, &trace);
                let root = trace.root();
                match cancelled {
                    None => assert_eq!(root.error, None, "{case}"),
                    Some(reason) => {
                        let error = root.error.as_deref().unwrap_or_default();
                        assert!(error.contains(reason), "{case}");
                        assert!(!error.is_empty(), "{case}");
                    }
                }
                // Only spans that published a failure fail.
                for span in &trace.spans[1..] {
                    let published_failure = span.events.iter().any(|e| {
                        e.name == "PUBLISH sent"
                            && e.attributes.iter().any(|(k, v)| {
                                *k == "eda.message.type"
                                    && matches!(v, Value::Text(t) if t == "OrderCancelled")
                            })
                    });
                    if published_failure {
                        assert!(span.error.is_some(), "{case}");
                    }
                }
                let json = to_json(std::slice::from_ref(&trace), epoch()).unwrap();
                json::assert_json_well_formed(&json);
            }
        }
    }
}

#[test]
fn an_unknown_product_is_dead_lettered_in_inventory_s_handling_as_an_error() {
    let (wire, trace) = saga(
        settings(SagaStyle::Parallel, |s| {
            s.stock = Stock::parse("P002:5").unwrap()
        }),
        QoS::AtLeastOnce,
    );
    assert_well_formed(&wire, &trace);
    let inventory = span(&trace, ServiceId::Inventory, "process orders/created");
    assert_eq!(
        inventory.attribute("eda.published"),
        Some(&Value::Texts(vec!["deadletter/inventory".into()]))
    );
    let error = inventory.error.as_deref().unwrap_or_default();
    assert!(error.starts_with("dead-lettered: "), "{error}");
    assert!(error.contains("P001"), "{error}");
}

#[test]
fn qos_2_s_four_packets_are_events_of_the_handling_they_belong_to() {
    let (wire, trace) = saga(settings(SagaStyle::Parallel, |_| {}), QoS::ExactlyOnce);
    assert_well_formed(&wire, &trace);
    let payment = span(&trace, ServiceId::Payment, "process orders/created");
    let events: Vec<&str> = payment.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        events,
        [
            "PUBLISH received",
            "PUBREC sent",
            "PUBREL received",
            "PUBCOMP sent",
            "PUBLISH sent",
            "PUBREC received",
            "PUBREL sent",
            "PUBCOMP received"
        ]
    );
    // Each acknowledgement carries the packet id of the PUBLISH before it: the broker's
    // numbering for the delivery, the client's own for the result.
    let ids: Vec<Option<&Value>> = payment
        .events
        .iter()
        .map(|e| {
            e.attributes
                .iter()
                .find(|(k, _)| *k == "eda.mqtt.packet_id")
                .map(|(_, v)| v)
        })
        .collect();
    assert!(
        ids[..4].iter().all(|id| id.is_some() && *id == ids[0]),
        "{ids:?}"
    );
    assert!(
        ids[4..].iter().all(|id| id.is_some() && *id == ids[4]),
        "{ids:?}"
    );
}

#[test]
fn a_redelivery_is_a_span_that_causes_nothing() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    wire.redelivered = vec![crate::domain::topics::ORDERS_CREATED];
    wire.place(order(1), 2);
    wire.settle();
    let trace = order_trace(&wire.history, order(1)).unwrap();
    assert_well_formed(&wire, &trace);
    let lines = summary(&trace);
    for expected in [
        "PaymentService process orders/created → payments/processed",
        "PaymentService process orders/created (redelivery)",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} in {lines:#?}"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("→ payments/processed"))
            .count(),
        1
    );
}

#[test]
fn orchestration_s_deadline_cancels_and_commands_the_compensation_in_one_span() {
    let (wire, trace) = saga(
        settings(SagaStyle::Orchestration, |s| {
            s.delays.payment = Duration::from_millis(3000);
            s.saga_timeout = Duration::from_millis(2000);
        }),
        QoS::AtLeastOnce,
    );
    assert_well_formed(&wire, &trace);
    let lines = summary(&trace);
    for expected in [
        // Seconds after its last publish, from a timer: not the charge command's handling.
        "OrderService process inventory/reserved → commands/payment/charge",
        // The charge asked and not answered is compensated too (its outcome unknown).
        "OrderService publish orders/cancelled → orders/cancelled, commands/inventory/release, commands/payment/refund ✕ payment timed out",
        "InventoryService process commands/inventory/release → inventory/released",
        // The refund asked while the charge was under way: the late charge, undone at once.
        "PaymentService process commands/payment/refund",
        "PaymentService process commands/payment/charge → payments/processed, payments/refunded",
    ] {
        assert!(lines.iter().any(|l| l == expected), "{expected} in {lines:#?}");
    }
}

/// The order's whole story: OrderService's copy of each event it appends, on
/// `eventstore/orders/<orderId>`, goes with the handling that appended it, and each delivery of
/// one to QueryService is a span of its own (its projection). The export of one order had
/// neither, and the session's had no span for QueryService.
#[test]
fn each_event_store_message_is_the_order_s_and_queryservice_s_projection_a_span_each() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    wire.event_store = true;
    wire.place(order(1), 2);
    wire.settle();
    let trace = order_trace(&wire.history, order(1)).unwrap();
    assert_well_formed(&wire, &trace);
    let topic = format!("eventstore/orders/{}", order(1));
    let projections: Vec<&Span> = trace
        .spans
        .iter()
        .filter(|s| s.service == ServiceId::Query)
        .collect();
    let names: Vec<&str> = projections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec![format!("process {topic}").as_str(); 4],
        "{:#?}",
        summary(&trace)
    );
    let kinds: Vec<(&Value, &Value)> = projections
        .iter()
        .map(|s| {
            (
                s.attribute("eda.message.type").unwrap(),
                s.attribute("eda.store.version").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds[0],
        (&Value::Text("OrderCreated".into()), &Value::Int(1))
    );
    assert_eq!(
        kinds[3],
        (&Value::Text("OrderCompleted".into()), &Value::Int(4))
    );
    for span in &projections {
        assert_eq!(span.kind, SpanKind::Consumer);
        let events: Vec<&str> = span.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(events, ["PUBLISH received", "PUBACK sent"]);
        assert_eq!(
            span.links.len(),
            1,
            "linked to the handling that appended it"
        );
    }
    // OrderService's publishes of them are in its handlings, not spans of their own.
    let order_spans: Vec<&str> = trace
        .spans
        .iter()
        .filter(|s| s.service == ServiceId::Order)
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        !order_spans.iter().any(|n| n.contains("eventstore/")),
        "{order_spans:?}"
    );
    let join = span(&trace, ServiceId::Order, "process payments/processed");
    assert_eq!(
        join.attribute("eda.published"),
        Some(&Value::Texts(vec![
            topic.clone(),
            "orders/confirmed".into()
        ])),
        "{:#?}",
        summary(&trace)
    );
    // The session's export has them too.
    let (session, _) = session_traces(&wire.history);
    let query = session
        .iter()
        .flat_map(|t| &t.spans)
        .filter(|s| s.service == ServiceId::Query)
        .count();
    assert_eq!(query, 4);
}

/// One order played to its end with OrderService's event store on (its copies on
/// `eventstore/orders/<orderId>`), a payment of 3000 ms and a deadline of `deadline_ms`.
fn stored_deadline_saga(style: SagaStyle, deadline_ms: u64) -> SagaTrace {
    let mut wire = Wire::new(
        settings(style, |s| {
            s.delays.payment = Duration::from_millis(3000);
            s.delays.inventory = Duration::from_millis(100);
            s.saga_timeout = Duration::from_millis(deadline_ms);
        }),
        QoS::AtLeastOnce,
    );
    wire.event_store = true;
    wire.place(order(1), 2);
    wire.settle();
    let trace = order_trace(&wire.history, order(1)).unwrap();
    assert_well_formed(&wire, &trace);
    trace
}

/// 46-AX F1: with the event store on, a deadline's cancellation after a successful reservation
/// went into the reservation's span (the store's copy, published first, joined the last
/// delivery), which turned ERROR and lasted until the cancellation was sent.
#[test]
fn with_the_event_store_a_deadline_s_cancellation_is_still_a_span_of_its_own() {
    let trace = stored_deadline_saga(SagaStyle::Parallel, 2000);
    let topic = format!("eventstore/orders/{}", order(1));
    let lines = summary(&trace);
    for expected in [
        format!("OrderService process inventory/reserved → {topic}"),
        format!(
            "OrderService publish orders/cancelled → {topic}, orders/cancelled ✕ payment timed out"
        ),
    ] {
        assert!(lines.contains(&expected), "{expected} in {lines:#?}");
    }
    let reserved = span(&trace, ServiceId::Order, "process inventory/reserved");
    assert!(
        reserved.end - reserved.start < ONE_HANDLING,
        "{reserved:#?}"
    );
    let deadline = span(&trace, ServiceId::Order, "publish orders/cancelled");
    assert_eq!(deadline.kind, SpanKind::Producer);
    assert_eq!(
        deadline.attribute("messaging.destination.name"),
        Some(&Value::Text("orders/cancelled".into()))
    );
}

/// 46-AZ F2: under orchestration, the refund command OrderService sent again from its
/// compensation check's timer joined the successful reservation's span (the last result
/// delivered), which then carried a refund and was marked a compensation.
#[test]
fn orchestration_s_refund_sent_again_by_a_timer_joins_no_earlier_handling() {
    let trace = stored_deadline_saga(SagaStyle::Orchestration, 1500);
    let reserved = span(&trace, ServiceId::Order, "process inventory/reserved");
    assert_eq!(
        reserved.attribute("eda.saga.compensation"),
        None,
        "{:#?}",
        summary(&trace)
    );
    let Some(Value::Texts(published)) = reserved.attribute("eda.published") else {
        panic!("{:#?}", summary(&trace));
    };
    assert!(
        !published.iter().any(|t| t == "commands/payment/refund"),
        "{:#?}",
        summary(&trace)
    );
}

/// An event QueryService cannot read is dead-lettered in the span of its delivery, as an error.
#[test]
fn queryservice_s_dead_letter_of_an_unreadable_event_joins_its_projection_span() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    wire.event_store = true;
    wire.place(order(1), 2);
    wire.settle();
    let topic = format!("eventstore/orders/{}", order(1));
    wire.publish_raw(ServiceId::Order, &topic, b"not json".to_vec());
    wire.settle();
    let trace = order_trace(&wire.history, order(1)).unwrap();
    assert_well_formed(&wire, &trace);
    let last = trace
        .spans
        .iter()
        .rfind(|s| s.service == ServiceId::Query)
        .unwrap();
    assert_eq!(
        last.attribute("eda.published"),
        Some(&Value::Texts(vec!["deadletter/query".into()])),
        "{:#?}",
        summary(&trace)
    );
    assert!(last
        .error
        .as_deref()
        .unwrap_or_default()
        .starts_with("dead-lettered: "));
    assert_eq!(
        (last.kind, last.name.as_str()),
        (SpanKind::Consumer, format!("process {topic}").as_str()),
        "the dead letter in the span of the delivery it could not read"
    );
}
