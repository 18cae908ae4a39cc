//! Reading JavaScript arguments (plain objects, strings, `Uint8Array`s) into the client's own
//! types. Every mistake becomes an `Error` naming the field.

use std::time::Duration;

use broker_bridge::packet::Property;
use broker_bridge::{LastWill, Options, PublishRequest, QoS};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn invalid(message: String) -> JsError {
    JsError::new(&message)
}

/// `object[key]`, with `undefined` and `null` read as absent.
fn field(object: &JsValue, key: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    js_sys::Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn string(value: &JsValue, name: &str) -> Result<String, JsError> {
    value
        .as_string()
        .ok_or_else(|| invalid(format!("{name} must be a string")))
}

fn boolean(value: &JsValue, name: &str) -> Result<bool, JsError> {
    value
        .as_bool()
        .ok_or_else(|| invalid(format!("{name} must be true or false")))
}

/// A whole number from 0 to `max`.
fn whole(value: &JsValue, name: &str, max: u32) -> Result<u32, JsError> {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(max)).contains(&n) => Ok(n as u32),
        _ => Err(invalid(format!(
            "{name} must be a whole number from 0 to {max}"
        ))),
    }
}

fn qos(value: &JsValue, name: &str) -> Result<QoS, JsError> {
    let level = whole(value, name, 2)?;
    QoS::from_bits(level as u8).map_err(|e| invalid(format!("{name}: {e}")))
}

/// A string (its UTF-8 bytes) or a `Uint8Array`.
pub fn bytes(value: &JsValue, name: &str) -> Result<Vec<u8>, JsError> {
    if let Some(text) = value.as_string() {
        return Ok(text.into_bytes());
    }
    value
        .dyn_ref::<js_sys::Uint8Array>()
        .map(js_sys::Uint8Array::to_vec)
        .ok_or_else(|| invalid(format!("{name} must be a string or a Uint8Array")))
}

/// `{ clientId, version, cleanSession, sessionExpirySecs, keepAliveSecs, will }`.
pub fn connect_options(object: &JsValue) -> Result<Options, JsError> {
    if !object.is_object() {
        return Err(invalid(
            "options must be an object with at least a clientId".into(),
        ));
    }
    let client_id = field(object, "clientId")
        .ok_or_else(|| invalid("options.clientId is missing".into()))
        .and_then(|v| string(&v, "options.clientId"))?;
    let mut options = Options::new(client_id);
    match field(object, "version").map(|v| v.as_f64()) {
        None | Some(Some(4.0)) => {}
        Some(Some(5.0)) => options = options.v5(),
        Some(_) => {
            return Err(invalid(
                "options.version must be 4 (MQTT 3.1.1) or 5 (MQTT 5.0)".into(),
            ))
        }
    }
    if let Some(v) = field(object, "cleanSession") {
        options.clean_session = boolean(&v, "options.cleanSession")?;
    }
    if let Some(v) = field(object, "keepAliveSecs") {
        let secs = whole(&v, "options.keepAliveSecs", u16::MAX.into())?;
        options.keep_alive = Duration::from_secs(secs.into());
    }
    if let Some(v) = field(object, "sessionExpirySecs") {
        let secs = whole(&v, "options.sessionExpirySecs", u32::MAX)?;
        options.session_expiry = Some(Duration::from_secs(secs.into()));
    }
    if let Some(will) = field(object, "will") {
        options.will = Some(last_will(&will)?);
    }
    Ok(options)
}

fn last_will(object: &JsValue) -> Result<LastWill, JsError> {
    let topic = field(object, "topic")
        .ok_or_else(|| invalid("options.will.topic is missing".into()))
        .and_then(|v| string(&v, "options.will.topic"))?;
    let payload = match field(object, "payload") {
        Some(v) => bytes(&v, "options.will.payload")?,
        None => Vec::new(),
    };
    let qos = match field(object, "qos") {
        Some(v) => qos(&v, "options.will.qos")?,
        None => QoS::AtMostOnce,
    };
    let mut will = LastWill::new(topic, payload, qos);
    if let Some(v) = field(object, "retain") {
        will.retain = boolean(&v, "options.will.retain")?;
    }
    Ok(will)
}

/// A message and its MQTT 5.0 properties `{ userProperties, responseTopic, correlationData,
/// contentType, messageExpirySecs }` (`properties` may be `undefined`).
pub fn publish_request(
    topic: &str,
    payload: Vec<u8>,
    qos: QoS,
    retain: bool,
    properties: &JsValue,
) -> Result<PublishRequest, JsError> {
    let mut request = PublishRequest::new(topic, payload, qos).retained(retain);
    if properties.is_undefined() || properties.is_null() {
        return Ok(request);
    }
    if !properties.is_object() {
        return Err(invalid("properties must be an object".into()));
    }
    if let Some(list) = field(properties, "userProperties") {
        for (name, value) in user_properties(&list)? {
            request = request.with_user_property(name, value);
        }
    }
    if let Some(v) = field(properties, "responseTopic") {
        let topic = string(&v, "properties.responseTopic")?;
        request = request.with_property(Property::ResponseTopic(topic));
    }
    if let Some(v) = field(properties, "correlationData") {
        let data = bytes(&v, "properties.correlationData")?;
        request = request.with_property(Property::CorrelationData(data));
    }
    if let Some(v) = field(properties, "contentType") {
        let content_type = string(&v, "properties.contentType")?;
        request = request.with_property(Property::ContentType(content_type));
    }
    if let Some(v) = field(properties, "messageExpirySecs") {
        let secs = whole(&v, "properties.messageExpirySecs", u32::MAX)?;
        request = request.with_property(Property::MessageExpiryInterval(secs));
    }
    Ok(request)
}

/// `[[name, value], …]`.
fn user_properties(list: &JsValue) -> Result<Vec<(String, String)>, JsError> {
    const SHAPE: &str = "properties.userProperties must be an array of [name, value] strings";
    let list = list
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| invalid(SHAPE.into()))?;
    list.iter()
        .map(|pair| {
            let pair = pair
                .dyn_into::<js_sys::Array>()
                .map_err(|_| invalid(SHAPE.into()))?;
            match (
                pair.length(),
                pair.get(0).as_string(),
                pair.get(1).as_string(),
            ) {
                (2, Some(name), Some(value)) => Ok((name, value)),
                _ => Err(invalid(SHAPE.into())),
            }
        })
        .collect()
}
