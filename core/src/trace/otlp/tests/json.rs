//! The export as text: OTLP/JSON's shape field by field, a session of several orders, times on
//! the Unix clock, the clock's start for a recording, and what cannot be exported.

use std::collections::HashSet;

use broker_bridge::QoS;

use super::*;
use crate::trace::otlp::wire::client;

#[test]
fn a_session_holds_one_trace_per_order_and_says_the_same_every_time() {
    let mut wire = Wire::new(
        settings(SagaStyle::Parallel, |s| {
            s.stock = Stock::parse("P001:3").unwrap()
        }),
        QoS::AtLeastOnce,
    );
    wire.place(order(1), 2);
    wire.place(order(2), 2); // one unit left: out of stock
    wire.settle();
    let export = export_session(&wire.history, epoch()).unwrap();
    assert_eq!(export.file_name, "playground-session.otlp.json");
    assert_eq!((export.orders, export.left_out.len()), (2, 0));
    let (traces, _) = session_traces(&wire.history);
    assert_eq!(
        traces.iter().map(|t| t.order_id).collect::<Vec<_>>(),
        [order(1), order(2)]
    );
    assert_eq!(traces[0].root().error, None);
    assert!(traces[1]
        .root()
        .error
        .as_deref()
        .unwrap()
        .starts_with("out of stock"));
    for trace in &traces {
        assert_well_formed(&wire, trace);
        assert_eq!(*trace, order_trace(&wire.history, trace.order_id).unwrap());
    }
    assert_eq!(
        export.spans,
        traces.iter().map(|t| t.spans.len()).sum::<usize>()
    );

    let json: serde_json::Value = serde_json::from_str(&export.json).unwrap();
    assert_json_well_formed(&export.json);
    let trace_ids: HashSet<&str> = all_spans(&json)
        .map(|s| s["traceId"].as_str().unwrap())
        .collect();
    let expected: HashSet<String> = [order(1), order(2)]
        .iter()
        .map(|o| o.simple().to_string())
        .collect();
    assert_eq!(trace_ids, expected.iter().map(String::as_str).collect());
    assert_eq!(all_spans(&json).count(), export.spans);
    // One resource per client, in the services' order, each named after its service.
    let resources: Vec<(String, String)> = json["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let attribute = |i: usize| {
                r["resource"]["attributes"][i]["value"]["stringValue"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            (attribute(0), attribute(1))
        })
        .collect();
    // The clients that sent or received the orders' packets (this wire has no read side).
    let expected: Vec<(String, String)> = ServiceId::ALL
        .iter()
        .filter(|s| **s != ServiceId::Query)
        .map(|s| (s.name().to_owned(), client(*s)))
        .collect();
    assert_eq!(resources, expected);
    // Deterministic: the same packets give the same text; a recording of them too.
    assert_eq!(
        export_session(&wire.history, epoch()).unwrap().json,
        export.json
    );
    let mut recorded =
        crate::trace::Trace::new(wire.history.clone(), crate::trace::ActionLog::new(10));
    recorded.saga = SagaStyle::Parallel;
    let loaded =
        crate::trace::recording::load(&crate::trace::recording::record(&recorded)).unwrap();
    assert_eq!(
        export_session(&loaded.packets, epoch()).unwrap().json,
        export.json
    );
}

fn all_spans(json: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    json["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeSpans"].as_array().unwrap())
        .flat_map(|s| s["spans"].as_array().unwrap())
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn nanos(value: &serde_json::Value) -> u64 {
    let text = value.as_str().expect("times are strings");
    assert!(text.bytes().all(|b| b.is_ascii_digit()), "{text}");
    text.parse().unwrap()
}

fn assert_attributes(list: &serde_json::Value) {
    let Some(list) = list.as_array() else {
        assert!(list.is_null(), "attributes are a list, or absent");
        return;
    };
    let mut keys = HashSet::new();
    for kv in list {
        let fields = kv.as_object().unwrap();
        assert_eq!(fields.len(), 2, "{kv}");
        assert!(
            keys.insert(kv["key"].as_str().unwrap()),
            "keys unique: {kv}"
        );
        let value = kv["value"].as_object().unwrap();
        assert_eq!(value.len(), 1, "{kv}");
        match value.iter().next().unwrap() {
            (k, v) if k == "stringValue" => assert!(v.is_string()),
            (k, v) if k == "intValue" => assert!(v.as_str().unwrap().parse::<i64>().is_ok()),
            (k, v) if k == "boolValue" => assert!(v.is_boolean()),
            (k, v) if k == "doubleValue" => assert!(v.is_f64()),
            (k, v) if k == "arrayValue" => assert!(v["values"].is_array()),
            (k, _) => panic!("not an AnyValue field: {k}"),
        }
    }
}

/// The OTLP/JSON shape, field by field.
pub(super) fn assert_json_well_formed(text: &str) {
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 1, "only resourceSpans");
    for resource in json["resourceSpans"].as_array().unwrap() {
        let name = &resource["resource"]["attributes"][0];
        assert_eq!(name["key"], "service.name");
        assert!(ServiceId::ALL
            .iter()
            .any(|s| name["value"]["stringValue"] == s.name()));
        assert_attributes(&resource["resource"]["attributes"]);
        let scopes = resource["scopeSpans"].as_array().unwrap();
        assert_eq!(scopes.len(), 1);
        assert_eq!(scopes[0]["scope"]["name"], SCOPE_NAME);
        let mut previous = (String::new(), 0);
        for span in scopes[0]["spans"].as_array().unwrap() {
            let allowed = [
                "traceId",
                "spanId",
                "parentSpanId",
                "name",
                "kind",
                "startTimeUnixNano",
                "endTimeUnixNano",
                "attributes",
                "events",
                "links",
                "status",
            ];
            for key in span.as_object().unwrap().keys() {
                assert!(allowed.contains(&key.as_str()), "span field {key}");
            }
            assert!(
                is_hex(span["traceId"].as_str().unwrap(), 32),
                "{}",
                span["traceId"]
            );
            assert!(is_hex(span["spanId"].as_str().unwrap(), 16));
            if let Some(parent) = span.get("parentSpanId") {
                assert!(is_hex(parent.as_str().unwrap(), 16));
            }
            assert!([1, 4, 5].contains(&span["kind"].as_u64().unwrap()));
            let (start, end) = (
                nanos(&span["startTimeUnixNano"]),
                nanos(&span["endTimeUnixNano"]),
            );
            assert!(start <= end);
            let trace_id = span["traceId"].as_str().unwrap().to_owned();
            assert!(
                (trace_id.clone(), start) >= previous,
                "sorted by trace, then start"
            );
            previous = (trace_id, start);
            assert_attributes(&span["attributes"]);
            for event in span["events"].as_array().into_iter().flatten() {
                let at = nanos(&event["timeUnixNano"]);
                assert!((start..=end).contains(&at));
                assert!(event["name"].is_string());
                assert_attributes(&event["attributes"]);
            }
            for link in span["links"].as_array().into_iter().flatten() {
                assert_eq!(link["traceId"], span["traceId"]);
                assert!(is_hex(link["spanId"].as_str().unwrap(), 16));
            }
            if let Some(status) = span.get("status") {
                assert_eq!(status["code"], 2, "ERROR");
                assert!(!status["message"].as_str().unwrap().is_empty());
            }
        }
    }
}

#[test]
fn the_json_puts_the_packets_times_on_the_unix_clock_in_nanoseconds() {
    let (_, trace) = saga(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    let json: serde_json::Value =
        serde_json::from_str(&to_json(std::slice::from_ref(&trace), epoch()).unwrap()).unwrap();
    // OrderService's resource comes first; its first span by start is the saga's, at 10 ms.
    let order_spans = &json["resourceSpans"][0]["scopeSpans"][0]["spans"];
    let root = &order_spans[0];
    assert_eq!(root["name"], "order saga");
    assert_eq!(root["traceId"], order(1).simple().to_string());
    assert_eq!(root.get("parentSpanId"), None);
    assert_eq!(root["kind"], 1);
    let start = START_UNIX_MS as u64 * 1_000_000 + 10_000_000;
    assert_eq!(root["startTimeUnixNano"], start.to_string());
    let created = &order_spans[1];
    assert_eq!(created["name"], "publish orders/created");
    assert_eq!(created["parentSpanId"], root["spanId"]);
    assert_eq!(created["kind"], 4);
    // The span ids say where to look: the packet inspector's seq plus one.
    let first_seq = created["events"][0]["attributes"][0]["value"]["intValue"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_eq!(created["spanId"], format!("{:016x}", first_seq + 1));
    // An array attribute: what a handling published.
    let payment = &json["resourceSpans"][1]["scopeSpans"][0]["spans"][0];
    let published = payment["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv["key"] == "eda.published")
        .unwrap();
    assert_eq!(
        published["value"],
        serde_json::json!({"arrayValue": {"values": [{"stringValue": "payments/processed"}]}})
    );
}

#[test]
fn the_start_of_a_recording_s_clock_is_estimated_from_the_messages_stamps() {
    let (wire, _) = saga(settings(SagaStyle::Choreography, |_| {}), QoS::AtLeastOnce);
    assert_eq!(Epoch::from_messages(&wire.history), Some(epoch()));
    assert_eq!(Epoch::from_messages(&PacketHistory::new(1)), None);
}

#[test]
fn what_cannot_be_exported_says_why() {
    let (wire, _) = saga(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    assert_eq!(
        export_order(&wire.history, Uuid::nil(), epoch()),
        Err(OtlpError::NilOrder)
    );
    let elsewhere = order(9);
    let missing = export_order(&wire.history, elsewhere, epoch()).unwrap_err();
    assert_eq!(missing, OtlpError::NotInTrace(elsewhere));
    assert!(missing
        .to_string()
        .starts_with(&format!("order {elsewhere} is not in the trace")));
    assert_eq!(
        export_session(&PacketHistory::new(10), epoch()),
        Err(OtlpError::NoOrders)
    );
    // Replaying, no order can be placed: the sentence says what can be done instead.
    let replayed = OtlpError::NoOrders.for_recording().to_string();
    assert!(!replayed.contains("place an order first"), "{replayed}");
    assert!(replayed.contains("Back to live"), "{replayed}");
    assert_eq!(
        OtlpError::NilOrder.for_recording(),
        OtlpError::NilOrder,
        "only the empty session changes"
    );
    for bad in [f64::NAN, -1.0, f64::INFINITY, 1e300] {
        let error = Epoch::from_unix_millis(bad).unwrap_err();
        assert!(matches!(error, OtlpError::BadEpoch(_)), "{bad}");
    }
    assert_eq!(
        Epoch::from_unix_millis(1_705_314_600_000.5),
        Ok(Epoch::from_unix_nanos(1_705_314_600_000_500_000))
    );
    let late = Epoch::from_unix_nanos(u64::MAX - 5);
    let error = export_order(&wire.history, order(1), late).unwrap_err();
    assert!(matches!(error, OtlpError::TimeOutOfRange(_)), "{error}");
}

#[test]
fn orders_from_outside_odd_or_nil_are_exported_or_left_out_without_a_panic() {
    let mut wire = Wire::new(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    // Results for an order nobody created, from an outside client the page never sees: only
    // the deliveries are traced.
    let stranger = order(7);
    let result = format!(
        r#"{{"orderId":"{stranger}","paymentId":"{}","amount":1e12,"success":true,"processedAt":"2024-01-15T10:30:00.000Z"}}"#,
        order(8)
    );
    wire.publish_raw(
        ServiceId::Notification,
        "payments/processed",
        result.into_bytes(),
    );
    let nil = format!(
        r#"{{"orderId":"{}","note":"not a message of the flow"}}"#,
        Uuid::nil()
    );
    wire.publish_raw(ServiceId::Notification, "elsewhere/topic", nil.into_bytes());
    wire.publish_raw(
        ServiceId::Notification,
        "elsewhere/topic",
        b"\xff not json".to_vec(),
    );
    wire.settle();
    let export = export_session(&wire.history, epoch()).unwrap();
    assert_eq!(export.left_out, [Uuid::nil()]);
    assert_eq!(
        export.note().as_deref(),
        Some("1 order with the nil id left out: OpenTelemetry forbids an all-zero trace id")
    );
    assert_json_well_formed(&export.json);
    let trace = order_trace(&wire.history, stranger).unwrap();
    assert_well_formed(&wire, &trace);
    assert_eq!(
        trace.root().attribute("eda.order.start"),
        Some(&Value::Text("unknown".into()))
    );
    assert_eq!(
        trace.root().attribute("eda.order.total"),
        None,
        "no orders/created seen"
    );
}

/// A newcomer's break-test: 51 orders, a file of 50 traces, ten of them without their start,
/// and no word on the page. Past the packets kept, the note says what the file holds.
#[test]
fn a_session_past_the_packets_kept_says_what_the_file_lacks() {
    use crate::trace::history::PacketHistory;
    let mut wire = Wire::new(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    wire.history = PacketHistory::new(40);
    for n in 1..=4 {
        wire.place(order(n), 1);
        wire.settle();
    }
    let export = export_session(&wire.history, epoch()).unwrap();
    assert!(export.packets_dropped > 0);
    assert!(
        export.orders < 4,
        "the oldest orders' packets are gone: {}",
        export.orders
    );
    let note = export.note().unwrap();
    assert!(
        note.starts_with(&format!(
            "it holds the newest 40 packets, {} older ones dropped: ",
            export.packets_dropped
        )) && note.ends_with("orders whose every packet is older are not in it"),
        "{note}"
    );
    if export.without_start > 0 {
        assert!(
            note.contains(" after its orders/created; ")
                || note.contains(" after their orders/created; "),
            "{note}"
        );
    }
    // Every packet kept: nothing to say.
    let mut whole = Wire::new(settings(SagaStyle::Parallel, |_| {}), QoS::AtLeastOnce);
    whole.place(order(1), 1);
    whole.settle();
    assert_eq!(
        export_session(&whole.history, epoch()).unwrap().note(),
        None
    );
}
