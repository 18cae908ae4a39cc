//! OTLP/JSON: the `ExportTraceServiceRequest` of `opentelemetry/proto/collector/trace/v1`
//! in the JSON encoding the OTLP specification defines ("JSON Protobuf Encoding"): proto3's
//! JSON mapping with lowerCamelCase field names, enums as their numbers, 64-bit integers as
//! decimal strings, and — unlike proto3 — trace and span ids as lowercase hex, not base64.
//! Fields at their default value are left out.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::span::{hex, SagaTrace, Span, Value};
use super::{Epoch, OtlpError};
use crate::services::ServiceId;

/// The instrumentation scope every span is under: this crate.
pub const SCOPE_NAME: &str = "eda-playground";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    resource: Resource,
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Serialize)]
struct Resource {
    attributes: Vec<KeyValue>,
}

#[derive(Serialize)]
struct ScopeSpans {
    scope: Scope,
    spans: Vec<JsonSpan>,
}

#[derive(Serialize)]
struct Scope {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSpan {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    name: String,
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attributes: Vec<KeyValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    events: Vec<JsonEvent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<JsonLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonEvent {
    time_unix_nano: String,
    name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attributes: Vec<KeyValue>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonLink {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attributes: Vec<KeyValue>,
}

#[derive(Serialize)]
struct Status {
    /// `STATUS_CODE_ERROR`.
    code: u8,
    message: String,
}

#[derive(Serialize)]
struct KeyValue {
    key: &'static str,
    value: AnyValue,
}

/// The field names are the JSON's (`AnyValue`'s oneof).
#[derive(Serialize)]
enum AnyValue {
    #[serde(rename = "stringValue")]
    Text(String),
    /// int64: a decimal string.
    #[serde(rename = "intValue")]
    Int(String),
    #[serde(rename = "boolValue")]
    Bool(bool),
    #[serde(rename = "doubleValue")]
    Double(f64),
    #[serde(rename = "arrayValue")]
    Array { values: Vec<AnyValue> },
}

fn any_value(value: &Value) -> Option<AnyValue> {
    Some(match value {
        Value::Text(text) => AnyValue::Text(text.clone()),
        Value::Int(n) => AnyValue::Int(n.to_string()),
        Value::Bool(b) => AnyValue::Bool(*b),
        Value::Double(x) if x.is_finite() => AnyValue::Double(*x),
        Value::Double(_) => return None,
        Value::Texts(texts) => AnyValue::Array {
            values: texts.iter().cloned().map(AnyValue::Text).collect(),
        },
    })
}

fn key_values(attributes: &[(&'static str, Value)]) -> Vec<KeyValue> {
    attributes
        .iter()
        .filter_map(|(key, value)| {
            Some(KeyValue {
                key,
                value: any_value(value)?,
            })
        })
        .collect()
}

fn nanos(epoch: Epoch, at: Duration) -> Result<String, OtlpError> {
    epoch.unix_nanos(at).map(|n| n.to_string())
}

fn json_span(trace_id: &str, span: &Span, epoch: Epoch) -> Result<JsonSpan, OtlpError> {
    let events = span
        .events
        .iter()
        .map(|e| {
            Ok(JsonEvent {
                time_unix_nano: nanos(epoch, e.at)?,
                name: e.name.clone(),
                attributes: key_values(&e.attributes),
            })
        })
        .collect::<Result<_, OtlpError>>()?;
    Ok(JsonSpan {
        trace_id: trace_id.to_owned(),
        span_id: span.span_id.to_string(),
        parent_span_id: span.parent.map(|p| p.to_string()),
        name: span.name.clone(),
        kind: span.kind.code(),
        start_time_unix_nano: nanos(epoch, span.start)?,
        end_time_unix_nano: nanos(epoch, span.end)?,
        attributes: key_values(&span.attributes),
        events,
        links: span
            .links
            .iter()
            .map(|l| JsonLink {
                trace_id: trace_id.to_owned(),
                span_id: l.span_id.to_string(),
                attributes: key_values(&l.attributes),
            })
            .collect(),
        status: span.error.as_ref().map(|why| Status {
            code: 2,
            message: why.clone(),
        }),
    })
}

/// The request holding `traces`: one `resourceSpans` per service client (sorted by service,
/// then client id), each with one scope whose spans are sorted by trace id, then start time
/// (a saga's root before the child that starts with it), then span id.
pub(super) fn encode(traces: &[SagaTrace], epoch: Epoch) -> Result<String, OtlpError> {
    type Key = (ServiceId, Option<String>);
    let mut by_resource: BTreeMap<Key, Vec<(&Span, String)>> = BTreeMap::new();
    for trace in traces {
        let trace_id = hex(&trace.trace_id.0);
        for span in &trace.spans {
            by_resource
                .entry((span.service, span.client_id.clone()))
                .or_default()
                .push((span, trace_id.clone()));
        }
    }
    let mut resource_spans = Vec::new();
    for ((service, client_id), mut spans) in by_resource {
        crate::stable_sort::by(&mut spans, |(a, ta), (b, tb)| {
            let key = |s: &Span| (s.start, s.parent.is_some(), s.span_id);
            (ta, key(a)).cmp(&(tb, key(b)))
        });
        let mut attributes = vec![KeyValue {
            key: "service.name",
            value: AnyValue::Text(service.name().to_owned()),
        }];
        if let Some(client_id) = client_id {
            attributes.push(KeyValue {
                key: "service.instance.id",
                value: AnyValue::Text(client_id),
            });
        }
        let spans = spans
            .into_iter()
            .map(|(span, trace_id)| json_span(&trace_id, span, epoch))
            .collect::<Result<_, _>>()?;
        resource_spans.push(ResourceSpans {
            resource: Resource { attributes },
            scope_spans: vec![ScopeSpans {
                scope: Scope {
                    name: SCOPE_NAME,
                    version: env!("CARGO_PKG_VERSION"),
                },
                spans,
            }],
        });
    }
    let request = Request { resource_spans };
    // Plain structs of strings, numbers and finite doubles: serde_json cannot fail on them.
    serde_json::to_string_pretty(&request).map_err(|e| OtlpError::Encoding(e.to_string()))
}
