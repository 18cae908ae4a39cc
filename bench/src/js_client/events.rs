//! What the client reports, as plain JavaScript objects with a `type`:
//!
//! | `type` | fields |
//! |---|---|
//! | `connected` | `sessionPresent` |
//! | `message` | `topic`, `payload` (UTF-8, lossy), `payloadHex`, `qos`, `retain`, `dup`, `packetId`, `userProperties` (`[[name, value]]`), `responseTopic`, `correlationData` (UTF-8, lossy), `correlationDataHex`, `contentType`, `messageExpirySecs` |
//! | `subscribed` | `filters` (`[[filter, qos]]`), `granted` (the SUBACK codes: 0, 1, 2, or 0x80 and up for a refusal), `reasons` (their names) |
//! | `unsubscribed` | `filters`, `reasons` (MQTT 5.0 codes; empty in 3.1.1) |
//! | `delivered` | `packetId`, `topic` |
//! | `publishFailed` | `packetId` (or `null`), `topic`, `reason` |
//! | `lost` | `reason` (the session gave the connection up) |
//! | `tooLarge` | `topic`, `size`, `qos`, `packetId`, `reason`: a 3.1.1 message over the limit, skipped and acknowledged |
//! | `brokerFault` | `reason`: a broker fault the session worked around (e.g. Session Present to a clean session) |
//! | `link` | `state` (`connecting`, `connected`, `disconnected`), `url`, `attempt`, `reason`, `retryInMs` |
//! | `packet` | `direction` (`out`, `in`), `kind` (`PUBLISH`, `PUBACK` …), `packetId`, `qos`, `dup`, `retain`, `topic`, `reasonCode`, `userProperties` |
//! | `closed` | `how` (`disconnect`, `abrupt`): this binding stopped the client |
//!
//! Absent values are `null`.

use broker_bridge::packet::Properties;
use broker_bridge::ws::{ClientEvent, Link};
use broker_bridge::{Direction, Event, PacketEvent, Publish, Publishing, SubscribeReturnCode};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// A plain object built field by field.
struct Fields(Object);

impl Fields {
    fn of(kind: &str) -> Self {
        Fields(Object::new()).set("type", kind)
    }

    fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        // Setting a data property on a plain object cannot fail.
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }

    fn done(self) -> JsValue {
        self.0.into()
    }
}

fn opt<T: Into<JsValue>>(value: Option<T>) -> JsValue {
    value.map_or(JsValue::NULL, Into::into)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Array {
    items
        .into_iter()
        .map(|s| JsValue::from_str(s.as_ref()))
        .collect()
}

fn user_properties(properties: &Properties) -> Array {
    properties
        .user_properties()
        .map(|(name, value)| JsValue::from(strings([name, value])))
        .collect()
}

pub fn to_js(event: &ClientEvent) -> JsValue {
    match event {
        ClientEvent::Session(event) => session_event(event),
        ClientEvent::Link(link) => link_event(link),
    }
}

fn session_event(event: &Event) -> JsValue {
    match event {
        Event::Packet(packet) => packet_event(packet),
        Event::Connected { session_present } => Fields::of("connected")
            .set("sessionPresent", *session_present)
            .done(),
        Event::Subscribed { filters, granted } => {
            let filters: Array = filters
                .iter()
                .map(|(filter, qos)| {
                    let pair = Array::of2(&filter.into(), &qos.level().into());
                    JsValue::from(pair)
                })
                .collect();
            let codes: Array = granted.iter().map(|c| JsValue::from(code(*c))).collect();
            let reasons = strings(granted.iter().map(|c| c.reason().describe()));
            Fields::of("subscribed")
                .set("filters", filters)
                .set("granted", codes)
                .set("reasons", reasons)
                .done()
        }
        Event::Unsubscribed { filters, reasons } => Fields::of("unsubscribed")
            .set("filters", strings(filters))
            .set(
                "reasons",
                reasons
                    .iter()
                    .map(|r| JsValue::from(r.byte()))
                    .collect::<Array>(),
            )
            .done(),
        Event::Message(message) => message_event(message),
        Event::Delivered { packet_id, topic } => Fields::of("delivered")
            .set("packetId", *packet_id)
            .set("topic", topic.as_str())
            .done(),
        Event::PublishFailed {
            packet_id,
            topic,
            reason,
            ..
        } => Fields::of("publishFailed")
            .set("packetId", opt(*packet_id))
            .set("topic", topic.as_str())
            .set("reason", reason.as_str())
            .done(),
        Event::ConnectionLost { reason } => {
            Fields::of("lost").set("reason", reason.to_string()).done()
        }
        Event::MessageTooLarge(skipped) => Fields::of("tooLarge")
            .set("topic", skipped.topic.as_str())
            .set("size", skipped.size as u32)
            .set("qos", skipped.qos.level())
            .set("packetId", opt(skipped.packet_id))
            .set("reason", skipped.to_string())
            .done(),
        Event::BrokerFault(fault) => Fields::of("brokerFault")
            .set("reason", fault.to_string())
            .done(),
        Event::PingWaitLonger { missed, wait } => Fields::of("pingWaitLonger")
            .set("missed", *missed)
            .set("waitMs", wait.as_millis() as u32)
            .done(),
        Event::WillAdjusted(change) => Fields::of("willAdjusted")
            .set("reason", change.as_str())
            .done(),
        Event::MaximumQoSLearned(learned) => Fields::of("maximumQosLearned")
            .set("maximum", learned.maximum.level())
            .set("reason", learned.to_string())
            .done(),
        Event::QoSLowered {
            packet_id,
            topic,
            asked,
            sent,
        } => Fields::of("qosLowered")
            .set("packetId", opt(*packet_id))
            .set("topic", topic.as_str())
            .set("asked", asked.level())
            .set("sent", sent.level())
            .done(),
    }
}

/// The SUBACK byte: the granted QoS, or the refusal's reason code.
fn code(granted: SubscribeReturnCode) -> u8 {
    match granted {
        SubscribeReturnCode::Granted(qos) => qos.level(),
        refusal => refusal.reason().byte(),
    }
}

fn message_event(message: &Publish) -> JsValue {
    let p = &message.properties;
    Fields::of("message")
        .set("topic", message.topic.as_str())
        .set(
            "payload",
            String::from_utf8_lossy(&message.payload).as_ref(),
        )
        .set("payloadHex", hex(&message.payload))
        .set("qos", message.qos.level())
        .set("retain", message.retain)
        .set("dup", message.dup)
        .set("packetId", opt(message.packet_id))
        .set("userProperties", user_properties(p))
        .set("responseTopic", opt(p.response_topic()))
        .set(
            "correlationData",
            opt(p
                .correlation_data()
                .map(|d| String::from_utf8_lossy(d).into_owned())),
        )
        .set("correlationDataHex", opt(p.correlation_data().map(hex)))
        .set("contentType", opt(p.content_type()))
        .set("messageExpirySecs", opt(p.message_expiry_interval()))
        .done()
}

fn packet_event(packet: &PacketEvent) -> JsValue {
    let direction = match packet.direction {
        Direction::Outgoing => "out",
        Direction::Incoming => "in",
    };
    let (dup, retain) = packet.publish_flags().unzip();
    Fields::of("packet")
        .set("direction", direction)
        .set("kind", packet.kind().name())
        .set("packetId", opt(packet.packet_id()))
        .set("qos", opt(packet.qos().map(|q| q.level())))
        .set("dup", opt(dup))
        .set("retain", opt(retain))
        .set("topic", opt(packet.topic()))
        .set("reasonCode", opt(packet.reason_code().map(|r| r.byte())))
        .set(
            "userProperties",
            opt(packet.properties().map(user_properties)),
        )
        .done()
}

fn link_event(link: &Link) -> JsValue {
    match link {
        Link::Connecting { url, attempt, .. } => Fields::of("link")
            .set("state", "connecting")
            .set("url", url.as_str())
            .set("attempt", *attempt)
            .set("reason", JsValue::NULL)
            .set("retryInMs", JsValue::NULL),
        Link::Connected { url } => Fields::of("link")
            .set("state", "connected")
            .set("url", url.as_str())
            .set("attempt", JsValue::NULL)
            .set("reason", JsValue::NULL)
            .set("retryInMs", JsValue::NULL),
        Link::Disconnected {
            url,
            reason,
            retry_in,
            attempt,
        } => Fields::of("link")
            .set("state", "disconnected")
            .set("url", url.as_str())
            .set("attempt", *attempt)
            .set("reason", reason.to_string())
            .set("retryInMs", retry_in.as_millis() as f64),
    }
    .done()
}

/// `closed`: the binding stopped the client (`how`: `disconnect` or `abrupt`).
pub fn closed(how: &str) -> JsValue {
    Fields::of("closed").set("how", how).done()
}

/// What [`super::JsClient::publish`] returns.
pub fn publishing(outcome: Publishing) -> JsValue {
    match outcome {
        Publishing::Sent { packet_id } => Fields::of("sent")
            .set("sent", true)
            .set("packetId", opt(packet_id)),
        Publishing::Queued { queued } => Fields::of("queued")
            .set("sent", false)
            .set("queued", queued as u32),
    }
    .done()
}
