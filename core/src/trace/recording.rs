//! A recorded session: every packet (with its raw bytes) and every click, as JSON a learner can
//! download, share and load again to replay the diagrams with no broker. Pure: the page hands
//! in the text and gets a trace back, or a sentence saying why not.
//!
//! Format (version 2):
//! ```json
//! { "format": "eda-playground-recording", "version": 2, "dropped": 0, "saga": "parallel",
//!   "packets": [ { "seq": 1, "atUs": 2100, "service": "order", "clientId": "eda-3f9a1c-order",
//!                  "direction": "out", "protocol": "3.1.1", "bytes": "10 1f 00 04 …" } ],
//!   "actions": [ { "type": "placedOrder", "atUs": 2000, "orderId": "…" } ] }
//! ```
//! Times are microseconds on the recording page's clock; only differences matter. Packets are
//! listed in the order they were recorded: each `seq` above the one before (a file where two
//! packets share a `seq`, or one goes back, is refused). Their times need not be in order: the
//! clients stamp them on their own, so two packets recorded one after the other may carry times
//! a few microseconds the other way round, and the replay shows each in its place. A file may
//! hold more packets than the page replays ([`REPLAYED`], the 2000 a live page keeps): it
//! replays its last ones and says so. Version 2
//! adds `saga`, the style the sagas ran under (it decides the flow diagram's edges); a version 1
//! file (the playground before sagas) loads as `parallel`. The sagas themselves, like every
//! diagram, are rebuilt from the packets. Version 3 adds `namespace`, the topic namespace the
//! page ran under (`?ns=class-7`; its packets' topics start with `class-7/`), so the replay
//! reads their topics as the flow's; a page without a namespace still writes version 2, which
//! the playgrounds before namespaces read. Version 4 adds the *Crash* and *Restart* clicks
//! (`{ "type": "crashed", "atUs": 3000, "client": "payment" }`, `"restarted"`), so the replay
//! shows the service crashed in between; a session without them still writes 2 or 3.
//! Version 5 adds the changes of *Coordination* made while recording
//! (`{ "type": "styleChanged", "atUs": 4000, "from": "parallel", "to": "choreography" }`):
//! `saga` is then the style the recording starts under, each change says from when the next
//! one applies, and the replay draws each moment under the style it ran under (a teacher's
//! break-test: a parallel session downloaded after switching to choreography replayed with
//! choreography's subscriptions throughout). Version 5 also adds `losses`, the services'
//! connections lost (`[{ "atUs": 44900000, "service": "order", "reason": "the connection
//! dropped after 12 s" }]`, left out when none): packets cannot tell a connection that
//! dropped, only the reconnection after it, so without them a broker outage replayed as a
//! quiet stretch with every service connected (a teacher's break-test). A session without a
//! change or a loss writes 2 to 4. Version 6 adds the status monitor's packets
//! (`"service": "monitor"`, [`super::Participant::Monitor`]): the page's sixth client, through
//! which the Last Wills and the retained stock levels arrive, so the replay draws them as the
//! live page did; a session without them writes 2 to 5. In any version, a PUBLISH over the
//! page's size limit (256 KiB), its payload skipped unread, is recorded without its payload and
//! with `"skipped": { "size": 300010, "max": 262144 }` (its whole size on the wire and the
//! limit, in bytes), so the replay shows it before the PUBACK that answered it; a page from
//! before reads it as a PUBLISH with an empty payload.

use std::time::Duration;

use broker_bridge::{Direction, Packet, PacketEvent, PacketKind, ProtocolVersion};
use serde::{Deserialize, Serialize};

use super::history::UserAction;
use super::{PacketHistory, Trace, HISTORY_CAPACITY};
use crate::domain::namespace::Namespace;
use crate::outside_text::grouped;
use crate::services::instances::Instance;
use crate::services::ServiceId;

pub const FORMAT: &str = "eda-playground-recording";
/// The version this page writes and reads. Bump it when the shape changes, and keep reading
/// the older ones here (or say why not).
pub const VERSION: u32 = 6;
/// The largest `seq` a recording may hold, 2^53: JSON numbers above it are not exact in
/// JavaScript, and the views count one past the last.
pub const MAX_SEQ: u64 = 1 << 53;

/// The most packets (and clicks) a loaded recording replays: as many as the live page keeps
/// ([`HISTORY_CAPACITY`]), so that a replay, its diagrams and its trace export cost what a
/// live session's do. A file holding more (only one made or edited by hand: the page never
/// records more than it keeps) replays its last `REPLAYED`; the earlier ones are counted as
/// dropped ([`PacketHistory::dropped`]) and the page says so ([`replayed_part`]).
pub const REPLAYED: usize = HISTORY_CAPACITY;

/// The sentences the page shows under a loaded recording that begins partway through its
/// session: its page had let go of packets before it was downloaded (the file's `dropped`,
/// [`Trace::recorded_dropped`]: a teacher's break-test found half a lesson's orders "unknown"
/// with no word why), or the file holds more than [`REPLAYED`] and only its end is replayed.
/// `None` when the replay shows the session from its start.
pub fn replayed_part(trace: &Trace) -> Option<String> {
    let packets = &trace.packets;
    let mut said = Vec::new();
    if trace.recorded_dropped > 0 {
        said.push(format!(
            "This recording begins partway through its session: the page that made it keeps \
             the last {} packets and had let go of the {} before them, so an order begun \
             earlier replays without its start (\"unknown\" in the Orders panel).",
            grouped(HISTORY_CAPACITY as u64),
            grouped(trace.recorded_dropped),
        ));
    }
    let dropped = packets.dropped();
    if dropped > 0 {
        let kept = packets.len() as u64;
        said.push(format!(
            "This recording holds {} packets; the page replays the last {}, as many as it keeps \
             of a live session, so its diagrams, orders and trace export begin partway through.",
            grouped(dropped + kept),
            grouped(kept),
        ));
    }
    (!said.is_empty()).then(|| said.join(" "))
}

/// The sentence the page shows after *Download recording* when the file does not hold the
/// whole session: the page keeps the last [`HISTORY_CAPACITY`] packets, and had let go of
/// older ones (or the trace shown is a recording that began partway). `None` when it holds
/// it all.
pub fn download_note(trace: &Trace) -> Option<String> {
    let dropped = trace.packets.dropped() + trace.recorded_dropped;
    (dropped > 0).then(|| {
        format!(
            "The file holds the last {} packets of this session: the page keeps no more, and \
             had let go of the {} before them, so an order begun earlier replays without its \
             start. To record a whole lesson, press Clear before it and download before it \
             passes {} packets (the count beside the packet inspector).",
            grouped(trace.packets.len() as u64),
            grouped(dropped),
            grouped(HISTORY_CAPACITY as u64),
        )
    })
}

/// Why a file cannot be replayed. Its `Display` is the sentence the page shows after the file's
/// name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    /// The text does not parse as JSON (serde's reason, with its line and column).
    #[error("this file is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object of a recording's fields: an array, a string, a `"version"` that
    /// is not a whole number from 0 to `u64::MAX` (negative, a fraction, too large, a string).
    #[error("this file is JSON, but not in the shape of a recording: {0}")]
    WrongShape(String),
    /// A JSON object without `"format": "eda-playground-recording"`.
    #[error("this file is not a playground recording (no \"format\": \"{FORMAT}\")")]
    NotARecording,
    /// A format version above [`VERSION`].
    #[error("this recording was made by a newer playground (format version {0}); this page reads versions 1 to {VERSION}")]
    Newer(u64),
    /// A format version below 1.
    #[error("this recording says it has format version {0}, but version 1 was the playground's first; this page reads versions 1 to {VERSION}")]
    Older(u64),
    /// The recording's fields are missing or of the wrong type: a whole number (`dropped`, an
    /// action's `atUs`) that is not one, said in plain words; otherwise serde's reason.
    #[error("this recording is damaged: {0}")]
    Damaged(String),
    /// Packet `index` (0-based, in the file's order) cannot be replayed.
    #[error("packet {index} of the recording cannot be read: {reason}")]
    BadPacket { index: usize, reason: String },
}

/// What a JSON value is, in a few words, for a sentence saying it is the wrong one.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "true or false",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Why `value` is not a whole number from 0 to `u64::MAX`, in a few plain words ("negative
/// (-5)", "a string"), or the number. serde's own words ("invalid value: integer `-5`,
/// expected u64 at line 1 column 1928") are Rust's, not a reader's.
fn whole_number(value: &serde_json::Value) -> Result<u64, String> {
    use serde_json::Value;
    let Value::Number(number) = value else {
        return Err(json_kind(value).to_owned());
    };
    if let Some(n) = number.as_u64() {
        return Ok(n);
    }
    if let Some(n) = number.as_i64() {
        return Err(format!("negative ({n})"));
    }
    // Neither u64 nor i64: serde_json read it as a float.
    let x = number.as_f64().unwrap_or(f64::NAN);
    Err(if x < 0.0 {
        format!("negative ({number})")
    } else if x.fract() != 0.0 || !x.is_finite() {
        format!("a number that is not a whole one ({number})")
    } else if x >= 18_446_744_073_709_551_616.0 {
        format!("a whole number too large to read (above {})", u64::MAX)
    } else {
        format!("a number written with a fraction or an exponent ({number}), not as a plain whole number")
    })
}

/// `field` of `fields`, if present, as [`whole_number`] reads it; the error is a sentence:
/// `its "<field>" is <why>: <meaning>`, `meaning` saying what the field holds.
fn check_whole(
    fields: &serde_json::Map<String, serde_json::Value>,
    field: &str,
    meaning: &str,
) -> Result<(), String> {
    match fields.get(field).map(whole_number) {
        Some(Err(why)) => Err(format!("its \"{field}\" is {why}: {meaning}")),
        _ => Ok(()),
    }
}

/// The whole numbers of a recording (`dropped`, each packet's `seq` and `atUs`, each action's
/// `atUs`), checked before serde reads the rest, so a wrong one is refused in plain words.
fn check_numbers(
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), RecordingError> {
    const AT_US: &str =
        "a time since the start of the recording, in µs, is a whole number of 0 or more";
    check_whole(
        fields,
        "dropped",
        "the count of packets left out before the first is a whole number of 0 or more",
    )
    .map_err(RecordingError::Damaged)?;
    if let Some(packets) = fields.get("packets").and_then(serde_json::Value::as_array) {
        for (index, packet) in packets.iter().enumerate() {
            let Some(packet) = packet.as_object() else {
                continue;
            };
            check_whole(
                packet,
                "seq",
                "a packet's sequence number is a whole number of 0 or more",
            )
            .and_then(|()| check_whole(packet, "atUs", AT_US))
            .map_err(|reason| RecordingError::BadPacket { index, reason })?;
        }
    }
    if let Some(actions) = fields.get("actions").and_then(serde_json::Value::as_array) {
        for (index, action) in actions.iter().enumerate() {
            if let Some(action) = action.as_object() {
                check_whole(action, "atUs", AT_US)
                    .and_then(|()| check_action(action))
                    .map_err(|why| RecordingError::Damaged(format!("action {index}: {why}")))?;
            }
        }
    }
    Ok(())
}

/// An action's `type` and what it names (an order id, a client), checked before serde reads it,
/// so the refusal says which action (a newcomer's break-test: serde's "UUID parsing failed" and
/// "unknown variant `explode`" named none). The error is a sentence after `action <n>: `.
fn check_action(action: &serde_json::Map<String, serde_json::Value>) -> Result<(), String> {
    const TYPES: &str =
        "an action's type is \"placedOrder\", \"crashed\", \"restarted\" or \"styleChanged\"";
    let text = |field: &str| match action.get(field) {
        None => Err(format!("it has no \"{field}\"")),
        Some(serde_json::Value::String(text)) => Ok(text.as_str()),
        Some(other) => Err(format!("its \"{field}\" is {}", json_kind(other))),
    };
    let kind = text("type").map_err(|why| format!("{why}: {TYPES}"))?;
    match kind {
        "placedOrder" => {
            let id =
                text("orderId").map_err(|why| format!("{why}: a placed order's id is a UUID"))?;
            if uuid::Uuid::parse_str(id).is_err() {
                return Err(format!(
                    "its \"orderId\" {} is not a UUID (such as \"6f1c2a9e-3b7d-4e8a-9c1f-2d5e8b4a7c10\")",
                    crate::outside_text::quoted(id),
                ));
            }
        }
        "crashed" | "restarted" => {
            let client = text("client")
                .map_err(|why| format!("{why}: a crash or restart names a service's client"))?;
            if Instance::from_slug(client).is_none() {
                return Err(format!(
                    "its \"client\" names {}, which is no service of the playground (\"payment\", \"payment-2\", …)",
                    crate::outside_text::quoted(client)
                ));
            }
        }
        "styleChanged" => {
            for field in ["from", "to"] {
                let style = text(field).map_err(|why| {
                    format!("{why}: a change of saga style names the style it leaves and the one it takes")
                })?;
                if let Err(why) = style.parse::<crate::services::SagaStyle>() {
                    return Err(format!("its \"{field}\": {why}"));
                }
            }
        }
        other => {
            return Err(format!(
                "its \"type\" is {}: {TYPES}",
                crate::outside_text::quoted(other)
            ))
        }
    }
    Ok(())
}

/// The recording's JSON and the format version it says it has, checked before the rest is
/// read: the shape of the rest depends on it.
fn format_version(text: &str) -> Result<(serde_json::Value, u64), RecordingError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| RecordingError::NotJson(e.to_string()))?;
    let serde_json::Value::Object(fields) = &value else {
        return Err(RecordingError::WrongShape(format!(
            "it holds {}, where a recording is an object ({{\"format\": \"{FORMAT}\", …}})",
            json_kind(&value)
        )));
    };
    if fields.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return Err(RecordingError::NotARecording);
    }
    match fields.get("version").map(whole_number) {
        None => Err(RecordingError::Damaged("no format version".into())),
        Some(Err(why)) => Err(RecordingError::WrongShape(format!(
            "its \"version\" is {why}, where a format version belongs: a whole number from 1"
        ))),
        Some(Ok(version)) => Ok((value, version)),
    }
}

/// Where serde's `error` reading `value` as a recording lies: the first packet or action that
/// does not read on its own ([`RecordingError::BadPacket`], `action <n>: …`), else the whole
/// file's; serde's backticks (``missing field `bytes` ``) become quotes. A newcomer's
/// break-test: a packet without its "bytes" was refused as "missing field `bytes`", naming no
/// packet, where every other refusal names one.
fn damage_located(value: &serde_json::Value, error: &serde_json::Error) -> RecordingError {
    let words = |e: &serde_json::Error| e.to_string().replace('`', "\"");
    let list = |field: &str| {
        value
            .get(field)
            .and_then(serde_json::Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    for (index, packet) in list("packets").iter().enumerate() {
        if let Err(e) = PacketV1::deserialize(packet) {
            return RecordingError::BadPacket {
                index,
                reason: words(&e),
            };
        }
    }
    for (index, action) in list("actions").iter().enumerate() {
        if let Err(e) = ActionV1::deserialize(action) {
            return RecordingError::Damaged(format!("action {index}: {}", words(&e)));
        }
    }
    RecordingError::Damaged(words(error))
}

/// Versions 1 to 3: version 1 has no `saga`, versions 1 and 2 no `namespace`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordingV1 {
    format: String,
    version: u32,
    dropped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    saga: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    packets: Vec<PacketV1>,
    actions: Vec<ActionV1>,
    /// Version 5: the services' connections that were lost (`[]` if none, and then left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    losses: Vec<LossV1>,
}

/// Version 5: a service's connection lost: when, whose (`order`, `payment`, …) and why.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LossV1 {
    at_us: u64,
    service: String,
    reason: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PacketV1 {
    seq: u64,
    at_us: u64,
    service: String,
    client_id: String,
    direction: String,
    protocol: String,
    bytes: String,
    /// A PUBLISH over the page's size limit, its payload skipped unread: `bytes` hold it
    /// without its payload ([`broker_bridge::PacketEvent::skipped`]). Absent for the others; a
    /// page from before it reads such a PUBLISH as one with an empty payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skipped: Option<SkippedV1>,
}

/// [`PacketV1::skipped`]: the whole packet's size on the wire and the limit it broke, in bytes.
#[derive(Serialize, Deserialize)]
struct SkippedV1 {
    size: usize,
    max: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum ActionV1 {
    #[serde(rename_all = "camelCase")]
    PlacedOrder { at_us: u64, order_id: uuid::Uuid },
    /// Version 4: *Crash* on a badge; `client` is the instance's slug (`payment`, `payment-2`).
    #[serde(rename_all = "camelCase")]
    Crashed { at_us: u64, client: String },
    /// Version 4: *Restart* on a crashed badge.
    #[serde(rename_all = "camelCase")]
    Restarted { at_us: u64, client: String },
    /// Version 5: the services began following saga style `to` (they followed `from`).
    #[serde(rename_all = "camelCase")]
    StyleChanged {
        at_us: u64,
        from: String,
        to: String,
    },
}

/// The service or instance a crash or restart names (`payment`, `payment-2`).
fn instance_named(client: &str) -> Result<Instance, RecordingError> {
    Instance::from_slug(client).ok_or_else(|| {
        RecordingError::Damaged(format!(
            "a crash or restart names {}, which is no service of the playground",
            crate::outside_text::quoted(client)
        ))
    })
}

fn micros(at: Duration) -> u64 {
    at.as_micros().min(u64::MAX as u128) as u64
}

/// The version each client speaks, learned from its CONNECTs as the packets go by.
#[derive(Default)]
struct Spoken(std::collections::HashMap<String, ProtocolVersion>);

impl Spoken {
    /// The version `packet` was spoken in: its client's, from the client's last CONNECT (its
    /// protocol level); for a client whose CONNECT the trace no longer holds, guessed from the
    /// bytes (our encoder is canonical: re-encoding in 3.1.1 gives them back exactly for a
    /// 3.1.1 packet, and for a 5.0 acknowledgement with nothing beyond its packet id, which
    /// then reads the same either way). A newcomer's break-test: an in-page MQTT 5 recording
    /// labelled every CONNECT and bare acknowledgement "3.1.1".
    fn protocol(&mut self, p: &super::TracedPacket) -> ProtocolVersion {
        if let Packet::Connect(connect) = &*p.packet {
            self.0.insert(p.client_id.clone(), connect.protocol);
        }
        if let Some(known) = self.0.get(&p.client_id) {
            return *known;
        }
        match p.packet.encode(ProtocolVersion::V311) {
            Ok(again) if *again == *p.bytes => ProtocolVersion::V311,
            _ => ProtocolVersion::V5,
        }
    }
}

fn protocol_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::V311 => "3.1.1",
        ProtocolVersion::V5 => "5.0",
    }
}

/// `bytes` as lowercase hex pairs separated by spaces (`"ff fe 20"`).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The bytes of [`hex`]'s text: each byte exactly two hex digits, bytes separated by white
/// space. A lone digit (`7` for `7d` cut short) is refused, not read as `07` (a newcomer's
/// break-test: a Will payload lost its closing `}` without a word); a run of digits without
/// spaces is named by its start and length, not quoted whole.
pub(crate) fn unhex(text: &str) -> Result<Vec<u8>, String> {
    text.split_ascii_whitespace()
        .map(|pair| {
            let digits = pair.chars().all(|c| c.is_ascii_hexdigit());
            match pair.len() {
                2 if digits => u8::from_str_radix(pair, 16).map_err(|e| e.to_string()),
                n if digits && n > 2 => {
                    let start: String = pair.chars().take(8).collect();
                    Err(format!(
                        "\"{start}…\" ({n} hex digits) is not a hex byte: write each byte as two \
                         digits, the bytes separated by spaces (\"ff fe 20\")"
                    ))
                }
                1 if digits => Err(format!(
                    "{pair:?} is not a hex byte: each byte is written as two digits (00 to ff), \
                     so a digit is missing"
                )),
                _ => Err(format!(
                    "{:?} is not a hex byte",
                    pair.chars().take(16).collect::<String>()
                )),
            }
        })
        .collect()
}

/// The trace as recording JSON (pretty-printed, so it can be read and diffed).
pub fn record(trace: &Trace) -> String {
    let namespace = trace.packets.namespace().value().map(str::to_owned);
    let has = |kind: fn(&UserAction) -> bool| trace.actions.iter().any(kind);
    let crashes = has(|a| matches!(a, UserAction::Crashed { .. } | UserAction::Restarted { .. }));
    let changes = has(|a| matches!(a, UserAction::StyleChanged { .. }));
    let losses = trace.services.losses();
    // Version 5 holds both.
    let changes = changes || !losses.is_empty();
    let monitored = trace
        .packets
        .iter()
        .any(|p| p.participant == super::Participant::Monitor);
    // The oldest version that holds what the session did, so older pages still read it.
    let version = match (changes, crashes, namespace.is_some()) {
        _ if monitored => VERSION,
        (true, ..) => 5,
        (false, true, _) => 4,
        (false, false, true) => 3,
        (false, false, false) => 2,
    };
    let mut spoken = Spoken::default();
    let recording = RecordingV1 {
        format: FORMAT.into(),
        version,
        dropped: trace.packets.dropped() + trace.recorded_dropped,
        // The style the recording starts under; its changes are among the actions.
        saga: Some(trace.saga_at(Duration::ZERO).value().to_owned()),
        namespace,
        packets: trace
            .packets
            .iter()
            .map(|p| PacketV1 {
                seq: p.seq,
                at_us: micros(p.at),
                service: p.participant.slug().into(),
                client_id: p.client_id.clone(),
                direction: match p.direction {
                    Direction::Outgoing => "out".into(),
                    Direction::Incoming => "in".into(),
                },
                protocol: protocol_name(spoken.protocol(p)).into(),
                bytes: hex(&p.bytes),
                skipped: p.skipped.map(|s| SkippedV1 {
                    size: s.size,
                    max: s.max,
                }),
            })
            .collect(),
        actions: trace
            .actions
            .iter()
            .map(|a| match a {
                UserAction::PlacedOrder { at, order_id } => ActionV1::PlacedOrder {
                    at_us: micros(*at),
                    order_id: *order_id,
                },
                UserAction::Crashed { at, instance } => ActionV1::Crashed {
                    at_us: micros(*at),
                    client: instance.slug(),
                },
                UserAction::Restarted { at, instance } => ActionV1::Restarted {
                    at_us: micros(*at),
                    client: instance.slug(),
                },
                UserAction::StyleChanged { at, from, to } => ActionV1::StyleChanged {
                    at_us: micros(*at),
                    from: from.value().to_owned(),
                    to: to.value().to_owned(),
                },
            })
            .collect(),
        losses: losses
            .into_iter()
            .map(|(at, service, reason)| LossV1 {
                at_us: micros(at),
                service: service.slug().into(),
                reason,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&recording).unwrap_or_default()
}

/// Reads a recording back into a trace: every packet decoded again from its bytes.
pub fn load(text: &str) -> Result<Trace, RecordingError> {
    let (value, version) = format_version(text)?;
    match version {
        v if (1..=u64::from(VERSION)).contains(&v) => {}
        v if v > u64::from(VERSION) => return Err(RecordingError::Newer(v)),
        v => return Err(RecordingError::Older(v)),
    }
    if let serde_json::Value::Object(fields) = &value {
        check_numbers(fields)?;
    }
    let recording = RecordingV1::deserialize(&value).map_err(|e| damage_located(&value, &e))?;
    let namespace = match recording.namespace.as_deref() {
        None => Namespace::none(),
        Some(text) => Namespace::parse(text)
            .map_err(|e| RecordingError::Damaged(format!("\"namespace\": {e}")))?,
    };
    let mut packets = PacketHistory::new(REPLAYED).with_namespace(namespace.clone());
    // The packets before the last [`REPLAYED`] are counted, not kept: their seqs are checked
    // (the order of the whole file), their bytes are not read.
    let first_replayed = recording.packets.len().saturating_sub(REPLAYED);
    packets.count_dropped(first_replayed as u64);
    let mut previous: Option<(usize, u64)> = None;
    let mut topics = PublishTopics::default();
    for (index, p) in recording.packets.iter().enumerate() {
        let bad = |reason: String| RecordingError::BadPacket { index, reason };
        // The views key each packet by its seq and find one by it: two packets under one seq,
        // or a seq going back, would make them draw or open the wrong one.
        match previous {
            Some((before, seq)) if p.seq == seq => {
                return Err(bad(format!(
                    "its seq {seq} is packet {before}'s too; each packet has a seq of its own"
                )))
            }
            Some((before, seq)) if p.seq < seq => {
                return Err(bad(format!(
                    "its seq {} is below packet {before}'s ({seq}); packets are listed in the \
                     order they were recorded, each seq above the one before",
                    p.seq
                )))
            }
            _ => {}
        }
        if p.seq > MAX_SEQ {
            return Err(bad(format!(
                "its seq {} is too large: at most {MAX_SEQ}",
                p.seq
            )));
        }
        previous = Some((index, p.seq));
        if index < first_replayed {
            continue;
        }
        // "monitor" from version 6 on; an older file naming it was not made by a playground,
        // and is read all the same.
        let participant = super::Participant::from_slug(&p.service)
            .ok_or_else(|| bad(format!("unknown service {:?}", p.service)))?;
        let direction = match p.direction.as_str() {
            "out" => Direction::Outgoing,
            "in" => Direction::Incoming,
            other => return Err(bad(format!("unknown direction {other:?}"))),
        };
        let protocol = match p.protocol.as_str() {
            "3.1.1" => ProtocolVersion::V311,
            "5.0" | "5" => ProtocolVersion::V5,
            other => return Err(bad(format!("unknown protocol {other:?}"))),
        };
        let bytes = unhex(&p.bytes).map_err(bad)?;
        let packet = match Packet::decode(&bytes, usize::MAX, protocol) {
            Ok(Some((packet, used))) if used == bytes.len() => packet,
            Ok(_) => return Err(bad("its bytes are not exactly one packet".into())),
            Err(e) => return Err(bad(e.to_string())),
        };
        let (packet_kind, event_size) = (packet.kind(), bytes.len());
        let event = PacketEvent {
            at: Duration::from_micros(p.at_us),
            client_id: p.client_id.clone(),
            direction,
            packet,
            bytes,
            protocol,
            skipped: match (&p.skipped, &packet_kind) {
                (None, _) => None,
                (Some(s), PacketKind::Publish) if s.size >= event_size && s.max < s.size => {
                    Some(broker_bridge::SkippedPayload {
                        size: s.size,
                        max: s.max,
                    })
                }
                (Some(_), _) => {
                    return Err(bad(
                        "its \"skipped\" is not that of a PUBLISH over the limit it names".into(),
                    ))
                }
            },
        };
        if matches!(event.packet, Packet::Publish(_)) {
            if let Some(wire) = event.topic() {
                topics.see(wire, &namespace);
            }
        }
        packets.push(super::TracedPacket::from_event_in(
            p.seq,
            participant,
            &event,
            &namespace,
        ));
    }
    topics.check(&namespace)?;
    let mut actions = super::ActionLog::new(REPLAYED);
    let starts = match recording.saga.as_deref() {
        None => crate::services::SagaStyle::default(),
        Some(text) => text
            .parse()
            .map_err(|e: String| RecordingError::Damaged(format!("\"saga\": {e}")))?,
    };
    // The style in effect after the changes read so far: each change starts from it.
    let mut style = starts;
    for action in recording.actions {
        match action {
            ActionV1::PlacedOrder { at_us, order_id } => actions.push(UserAction::PlacedOrder {
                at: Duration::from_micros(at_us),
                order_id,
            }),
            ActionV1::Crashed { at_us, client } => actions.push(UserAction::Crashed {
                at: Duration::from_micros(at_us),
                instance: instance_named(&client)?,
            }),
            ActionV1::Restarted { at_us, client } => actions.push(UserAction::Restarted {
                at: Duration::from_micros(at_us),
                instance: instance_named(&client)?,
            }),
            ActionV1::StyleChanged { at_us, from, to } => {
                let read = |text: &str| -> Result<crate::services::SagaStyle, RecordingError> {
                    text.parse().map_err(|e: String| {
                        RecordingError::Damaged(format!("a change of saga style: {e}"))
                    })
                };
                let (from, to) = (read(&from)?, read(&to)?);
                if from != style {
                    return Err(RecordingError::Damaged(format!(
                        "a change of saga style at {at_us} µs starts from {}, but the style then \
                         was {} (the recording's \"saga\" or the change before it)",
                        from.value(),
                        style.value()
                    )));
                }
                style = to;
                actions.push(UserAction::StyleChanged {
                    at: Duration::from_micros(at_us),
                    from,
                    to,
                });
            }
        }
    }
    let losses = recording
        .losses
        .into_iter()
        .map(|loss| {
            let service = ServiceId::ALL
                .into_iter()
                .find(|s| s.slug() == loss.service)
                .ok_or_else(|| {
                    RecordingError::Damaged(format!(
                        "a lost connection names {}, which is no service of the playground \
                         (\"order\", \"payment\", \"inventory\", \"notification\", \"query\")",
                        crate::outside_text::quoted(&loss.service)
                    ))
                })?;
            let reason = crate::outside_text::cut(&loss.reason, 300)
                .map_or_else(|| loss.reason.clone(), |start| format!("{start}…"));
            Ok((Duration::from_micros(loss.at_us), service, reason))
        })
        .collect::<Result<Vec<_>, RecordingError>>()?;
    let mut trace = Trace::new(packets, actions);
    // The style after the last change: [`Trace::saga_at`] gives each earlier moment's.
    trace.saga = style;
    // A recording has no live services behind it: their badges and its orders come from its
    // packets.
    let actions: Vec<UserAction> = trace.actions.iter().copied().collect();
    trace.services = super::service_status::ServiceLog::inferred_with(
        &trace.packets,
        &actions,
        &losses,
        trace.saga,
        HISTORY_CAPACITY,
    );
    trace.orders =
        super::orders::OrderBook::from_packets(&trace.packets, super::orders::ORDERS_KEPT);
    let payment =
        |instance: Instance| (instance.service == ServiceId::Payment).then_some(instance.number);
    let clicked = actions.iter().filter_map(|action| match *action {
        UserAction::Crashed { instance, .. } | UserAction::Restarted { instance, .. } => {
            payment(instance)
        }
        UserAction::PlacedOrder { .. } | UserAction::StyleChanged { .. } => None,
    });
    trace.recorded_dropped = recording.dropped;
    trace.recorded_payment_instances = trace
        .packets
        .iter()
        .filter_map(|p| Instance::from_slug(crate::services::instances::client_label(&p.client_id)))
        .filter_map(payment)
        .chain(clicked)
        .max()
        .unwrap_or(1);
    Ok(trace)
}

/// What a recording's PUBLISH packets say of its `namespace`: the first one's topic, and
/// whether one at least is on a topic of the flow under it.
#[derive(Default)]
struct PublishTopics {
    first: Option<String>,
    of_the_flow: bool,
}

impl PublishTopics {
    fn see(&mut self, wire: &str, namespace: &Namespace) {
        if self.of_the_flow {
            return;
        }
        self.first.get_or_insert_with(|| wire.to_owned());
        let reserved = crate::domain::namespace::reserved_levels();
        self.of_the_flow = namespace
            .strip(wire)
            .and_then(|topic| topic.split('/').next())
            .is_some_and(|level| reserved.contains(&level));
    }

    /// Refuses a recording none of whose PUBLISH packets is on a topic of the flow under its
    /// `namespace` (a teacher's break-test: a recording made under `?ns=c` with its
    /// `"namespace"` edited, or dropped, replayed 562 packets into an empty picture with no
    /// word why). One with no PUBLISH at all is kept: nothing in it contradicts its namespace.
    fn check(&self, namespace: &Namespace) -> Result<(), RecordingError> {
        let Some(first) = self.first.as_deref().filter(|_| !self.of_the_flow) else {
            return Ok(());
        };
        let named = match namespace.value() {
            Some(ns) => format!("\"namespace\" {}", crate::outside_text::quoted(ns)),
            None => "no \"namespace\" (the seed's topics)".to_owned(),
        };
        Err(RecordingError::Damaged(format!(
            "it has {named}, and none of its PUBLISH packets is on a topic of the flow under it \
             (the first is on {}): a recording's namespace is the ?ns= of the page that made it",
            crate::outside_text::quoted(first)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_bridge::packet::{Ack, Connect, Publish};
    use broker_bridge::QoS;

    fn event(at_ms: u64, direction: Direction, packet: Packet, v: ProtocolVersion) -> PacketEvent {
        PacketEvent {
            at: Duration::from_millis(at_ms),
            client_id: "eda-abc123-order".into(),
            direction,
            bytes: packet.encode(v).unwrap(),
            packet,
            protocol: v,
            skipped: None,
        }
    }

    fn sample(v: ProtocolVersion) -> Trace {
        let mut packets = PacketHistory::new(100);
        let mut publish = Publish::new(
            "orders/created",
            br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}"#.to_vec(),
            QoS::AtLeastOnce,
        );
        publish.packet_id = Some(1);
        packets.record(
            ServiceId::Order,
            &event(
                1,
                Direction::Outgoing,
                Packet::Connect(Connect::new(v, "eda-abc123-order", 30)),
                v,
            ),
        );
        packets.record(
            ServiceId::Order,
            &event(2, Direction::Outgoing, Packet::Publish(publish), v),
        );
        packets.record(
            ServiceId::Order,
            &event(3, Direction::Incoming, Packet::PubAck(Ack::new(1)), v),
        );
        let mut actions = super::super::ActionLog::new(10);
        actions.push(UserAction::PlacedOrder {
            at: Duration::from_micros(1500),
            order_id: "3fa85f64-5717-4562-b3fc-2c963f66afa6".parse().unwrap(),
        });
        Trace::new(packets, actions)
    }

    fn summary(trace: &Trace) -> Vec<(u64, Duration, String, Vec<u8>)> {
        trace
            .packets
            .iter()
            .map(|p| (p.seq, p.at, p.kind.name().to_owned(), p.bytes.to_vec()))
            .collect()
    }

    #[test]
    fn a_byte_is_two_hex_digits_each_separated_by_white_space() {
        assert_eq!(unhex("ff fe 20").unwrap(), [0xff, 0xfe, 0x20]);
        // A digit cut off the last byte (a newcomer's break-test: `7` for `7d` was read as 07).
        let cut = unhex("22 7").unwrap_err();
        assert!(cut.starts_with("\"7\" is not a hex byte"), "{cut}");
        // Bytes run together: named by their start and length, not quoted whole.
        let run = unhex(&"ab".repeat(220)).unwrap_err();
        assert!(run.starts_with("\"abababab…\" (440 hex digits)"), "{run}");
        assert!(unhex("zz")
            .unwrap_err()
            .starts_with("\"zz\" is not a hex byte"));
    }

    #[test]
    fn a_recording_never_holds_the_credentials_of_a_connect() {
        for v in [ProtocolVersion::V311, ProtocolVersion::V5] {
            let mut connect = Connect::new(v, "eda-abc123-payment", 30);
            connect.username = Some("PaymentService".into());
            connect.password = Some(b"hunter2-secret".to_vec());
            let mut packets = PacketHistory::new(10);
            // The event as a driver that did not redact it would hand it over.
            packets.record(
                ServiceId::Payment,
                &event(1, Direction::Outgoing, Packet::Connect(connect), v),
            );
            let trace = Trace::new(packets, super::super::ActionLog::new(10));
            let text = record(&trace);
            let raw: Vec<u8> = text
                .split('"')
                .filter(|part| {
                    part.len() > 2 && part.bytes().all(|b| b.is_ascii_hexdigit() || b == b' ')
                })
                .flat_map(|part| unhex(part).unwrap_or_default())
                .collect();
            for secret in ["PaymentService", "hunter2"] {
                assert!(!text.contains(secret), "{text}");
                assert!(
                    !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} in the bytes of {text}"
                );
            }
            let loaded = load(&text).unwrap();
            let shown = loaded.packets.iter().next().unwrap();
            let Packet::Connect(c) = &*shown.packet else {
                panic!("{shown:?}")
            };
            assert_eq!(c.username.as_deref(), Some("**************"));
            assert_eq!(c.password.as_deref(), Some(&b"**************"[..]));
        }
    }

    #[test]
    fn a_recording_loads_back_into_the_same_packets_and_clicks_in_both_versions() {
        for v in [ProtocolVersion::V311, ProtocolVersion::V5] {
            let trace = sample(v);
            let text = record(&trace);
            let loaded = load(&text).unwrap();
            assert_eq!(summary(&loaded), summary(&trace), "{v}");
            assert_eq!(
                loaded.actions.iter().cloned().collect::<Vec<_>>(),
                trace.actions.iter().cloned().collect::<Vec<_>>()
            );
            let name = protocol_name(v);
            assert!(
                text.contains(&format!("\"protocol\": \"{name}\"")),
                "{text}"
            );
            // Every packet of a client that connected in 5.0 says so, its CONNECT and its bare
            // acknowledgements too (a newcomer's break-test found them labelled 3.1.1).
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let labels: std::collections::BTreeSet<&str> = json["packets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["protocol"].as_str().unwrap())
                .collect();
            assert_eq!(labels, [name].into_iter().collect(), "{v}");
        }
    }

    /// A PUBLISH over the page's limit, its payload skipped unread, is recorded and replayed
    /// as one (42-AK F1: a recording held a lone PUBACK of nothing), with its whole size and
    /// why; a "skipped" on another packet, or below its limit, is refused.
    #[test]
    fn a_publish_skipped_unread_is_recorded_and_replayed_with_its_size() {
        let mut packets = PacketHistory::new(10);
        let mut publish = Publish::new("payments/processed", Vec::new(), QoS::AtLeastOnce);
        publish.packet_id = Some(1);
        let mut skipped = event(
            1,
            Direction::Incoming,
            Packet::Publish(publish),
            ProtocolVersion::V311,
        );
        skipped.skipped = Some(broker_bridge::SkippedPayload {
            size: 300_010,
            max: 262_144,
        });
        packets.record(ServiceId::Order, &skipped);
        let trace = Trace {
            packets,
            ..Trace::default()
        };
        let text = record(&trace);
        assert!(
            text.contains("\"skipped\": {\n        \"size\": 300010,\n        \"max\": 262144"),
            "{text}"
        );
        let loaded = load(&text).unwrap();
        let replayed = loaded.packets.iter().next().unwrap();
        assert_eq!(replayed.size, 300_010);
        assert_eq!(
            replayed.reason.as_deref(),
            Some("skipped unread: 300 KB, more than this page's 256 KiB limit")
        );
        assert!(replayed
            .fields()
            .contains(&("Payload".to_owned(), replayed.reason.clone().unwrap())));
        let below = text.replace("\"size\": 300010", "\"size\": 100");
        let refused = load(&below).err();
        assert!(
            matches!(refused, Some(RecordingError::BadPacket { ref reason, .. }) if reason.contains("skipped")),
            "{refused:?}"
        );
    }

    #[test]
    fn what_cannot_be_loaded_says_why() {
        assert!(matches!(load("not json"), Err(RecordingError::NotJson(_))));
        assert_eq!(
            load(r#"{"hello":1}"#).err().unwrap(),
            RecordingError::NotARecording
        );
        let newer = r#"{"format":"eda-playground-recording","version":7,"packets":[]}"#;
        let error = load(newer).err().unwrap();
        assert_eq!(error, RecordingError::Newer(7));
        assert!(error.to_string().contains("newer playground"));
        // No playground wrote a version before 1: such a file is refused, and says so.
        let older = r#"{"format":"eda-playground-recording","version":0,"packets":[]}"#;
        let error = load(older).err().unwrap();
        assert_eq!(error, RecordingError::Older(0));
        assert!(error
            .to_string()
            .contains("version 1 was the playground's first"));
        let no_version = r#"{"format":"eda-playground-recording"}"#;
        assert!(matches!(load(no_version), Err(RecordingError::Damaged(_))));
        let missing = r#"{"format":"eda-playground-recording","version":1}"#;
        assert!(matches!(load(missing), Err(RecordingError::Damaged(_))));
    }

    #[test]
    fn a_recording_says_how_many_payment_instances_its_page_ran() {
        let text = record(&sample(ProtocolVersion::V311));
        assert_eq!(load(&text).unwrap().recorded_payment_instances, 1);
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["actions"] =
            serde_json::json!([{"type": "crashed", "atUs": 5, "client": "payment-3"}]);
        assert_eq!(
            load(&value.to_string()).unwrap().recorded_payment_instances,
            3
        );
        value["actions"] = serde_json::json!([]);
        value["packets"][0]["clientId"] = "eda-abc123-payment-2".into();
        value["packets"][0]["service"] = "payment".into();
        assert_eq!(
            load(&value.to_string()).unwrap().recorded_payment_instances,
            2
        );
    }

    #[test]
    fn a_namespace_that_none_of_its_messages_is_under_is_refused() {
        let text = record(&sample(ProtocolVersion::V311));
        assert!(load(&text).is_ok(), "the seed's topics, no namespace");
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["namespace"] = "zz".into();
        let error = load(&value.to_string()).err().unwrap();
        assert_eq!(
            error,
            RecordingError::Damaged(
                "it has \"namespace\" \"zz\", and none of its PUBLISH packets is on a topic of \
                 the flow under it (the first is on \"orders/created\"): a recording's namespace \
                 is the ?ns= of the page that made it"
                    .into()
            )
        );
        // Made under ?ns=c, its namespace dropped.
        let topic = hex(&Packet::Publish(Publish::new(
            "c/orders/created",
            b"{}".to_vec(),
            QoS::AtMostOnce,
        ))
        .encode(ProtocolVersion::V311)
        .unwrap());
        value["namespace"] = serde_json::Value::Null;
        value["packets"][1]["bytes"] = topic.into();
        let error = load(&value.to_string()).err().unwrap().to_string();
        assert!(error.contains("it has no \"namespace\" (the seed's topics), and none of its PUBLISH packets is on a topic of the flow under it (the first is on \"c/orders/created\")"), "{error}");
        value["namespace"] = "c".into();
        assert!(load(&value.to_string()).is_ok(), "under its own namespace");
    }

    #[test]
    fn a_recording_keeps_its_saga_style_and_a_version_1_file_loads_as_parallel() {
        let mut trace = sample(ProtocolVersion::V311);
        trace.saga = crate::services::SagaStyle::Orchestration;
        let text = record(&trace);
        assert!(
            text.contains("\"version\": 2") && text.contains("\"saga\": \"orchestration\""),
            "{text}"
        );
        assert_eq!(
            load(&text).unwrap().saga,
            crate::services::SagaStyle::Orchestration
        );
        // As the playground before sagas wrote it.
        let v1 = text
            .replace("\"version\": 2", "\"version\": 1")
            .replace("  \"saga\": \"orchestration\",\n", "");
        assert!(!v1.contains("saga"), "{v1}");
        let loaded = load(&v1).unwrap();
        assert_eq!(loaded.saga, crate::services::SagaStyle::Parallel);
        assert_eq!(summary(&loaded), summary(&trace));
        let bad = text.replace("\"orchestration\"", "\"anarchy\"");
        let error = load(&bad).err().unwrap();
        assert!(error.to_string().contains("not a saga style"), "{error}");
    }

    #[test]
    fn a_change_of_saga_style_is_recorded_and_each_moment_replays_under_its_own_style() {
        use crate::services::SagaStyle::{Choreography, Parallel};
        let mut trace = sample(ProtocolVersion::V311);
        // The order (packets at 1 to 3 ms) ran in parallel; the switch came after it.
        trace.saga = Choreography;
        trace.actions.push(UserAction::StyleChanged {
            at: Duration::from_millis(4),
            from: Parallel,
            to: Choreography,
        });
        assert_eq!(trace.saga_at(Duration::from_millis(2)), Parallel);
        assert_eq!(trace.saga_at(Duration::from_millis(5)), Choreography);
        let text = record(&trace);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], 5);
        assert_eq!(json["saga"], "parallel", "the style it starts under");
        assert_eq!(
            json["actions"][1],
            serde_json::json!({"type": "styleChanged", "atUs": 4000, "from": "parallel", "to": "choreography"})
        );
        let loaded = load(&text).unwrap();
        assert_eq!(loaded.saga, Choreography, "the style after the last change");
        assert_eq!(loaded.saga_at(Duration::from_millis(2)), Parallel);
        assert_eq!(loaded.saga_at(Duration::from_millis(5)), Choreography);
        // A change that does not start from the style in effect is named, not guessed at.
        let bad = text.replace("\"from\": \"parallel\"", "\"from\": \"orchestration\"");
        let error = load(&bad).err().unwrap().to_string();
        assert!(
            error.contains("a change of saga style at 4000 µs starts from orchestration, but the style then was parallel"),
            "{error}"
        );
        let unknown = text.replace("\"to\": \"choreography\"", "\"to\": \"anarchy\"");
        let error = load(&unknown).err().unwrap().to_string();
        assert!(
            error.contains("action 1: its \"to\": ") && error.contains("not a saga style"),
            "{error}"
        );
        // Without a change, the oldest version that holds the session, as before.
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&record(&sample(ProtocolVersion::V311)))
                .unwrap()["version"],
            2
        );
    }

    #[test]
    fn a_lost_connection_is_recorded_and_its_replay_shows_the_service_disconnected_until_it_reconnects(
    ) {
        use crate::trace::service_status::ServiceEvent;
        use broker_bridge::{ConnectionError, Link};
        let mut script = crate::trace::script::Script::new(ProtocolVersion::V311);
        script.connect_all();
        let connected = script.now();
        let mut trace = Trace::new(script.history, script.actions);
        let link = |link| ServiceEvent::Link(link);
        let up = || Link::Connected {
            url: "ws://b".into(),
        };
        let lost = |reason: ConnectionError| Link::Disconnected {
            url: "ws://b".into(),
            reason,
            retry_in: Duration::from_secs(1),
            attempt: 1,
        };
        let ms = Duration::from_millis;
        trace
            .services
            .record(connected, ServiceId::Order, link(up()));
        let dropped = ConnectionError::TransportFailed("the connection dropped".into());
        trace.services.record(
            connected + ms(50),
            ServiceId::Order,
            link(lost(dropped.clone())),
        );
        // Tries that fail while it is down are not more losses.
        trace
            .services
            .record(connected + ms(60), ServiceId::Order, link(lost(dropped)));
        // A client the page stopped (a Crash) lost nothing to the broker.
        trace
            .services
            .record(connected, ServiceId::Payment, link(up()));
        let stopped = ConnectionError::Stopped("crashed".into());
        trace
            .services
            .record(connected + ms(70), ServiceId::Payment, link(lost(stopped)));
        let text = record(&trace);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], 5);
        let at_us = micros(connected + ms(50));
        assert_eq!(
            json["losses"],
            serde_json::json!([{"atUs": at_us, "service": "order", "reason": "the connection dropped"}])
        );
        let loaded = load(&text).unwrap();
        let status = |at| loaded.services.status_at(ServiceId::Order, Some(at)).link;
        assert!(matches!(status(connected + ms(10)), Link::Connected { .. }));
        match status(connected + ms(80)) {
            Link::Disconnected { reason, .. } => {
                assert_eq!(reason.to_string(), "the connection dropped")
            }
            other => panic!("{other:?}"),
        }
        // Downloaded again from the replay, the loss is still in the file.
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&record(&loaded)).unwrap()["losses"],
            json["losses"]
        );
        let unknown = text.replace(
            "\"service\": \"order\",\n      \"reason\"",
            "\"service\": \"kitchen\",\n      \"reason\"",
        );
        assert_ne!(unknown, text);
        let error = load(&unknown).err().unwrap().to_string();
        assert!(
            error.contains("a lost connection names \"kitchen\""),
            "{error}"
        );
    }

    // A CI run of the e2e outage case: no packet came between the loss and the reconnection,
    // so nothing drew the services disconnected in the replay.
    #[test]
    fn a_replay_is_drawn_again_when_its_time_passes_a_lost_connection() {
        use crate::trace::service_status::ServiceEvent;
        use broker_bridge::{ConnectionError, Link};
        let mut script = crate::trace::script::Script::new(ProtocolVersion::V311);
        script.connect_all();
        let connected = script.now();
        script.place_order(crate::trace::script::order(1), QoS::AtLeastOnce);
        let mut live = Trace::new(script.history, script.actions);
        let lost_at = connected + Duration::from_micros(500);
        live.services.record(
            connected,
            ServiceId::Order,
            ServiceEvent::Link(Link::Connected {
                url: "ws://b".into(),
            }),
        );
        live.services.record(
            lost_at,
            ServiceId::Order,
            ServiceEvent::Link(Link::Disconnected {
                url: "ws://b".into(),
                reason: ConnectionError::TransportFailed("dropped".into()),
                retry_in: Duration::ZERO,
                attempt: 1,
            }),
        );
        let loaded = load(&record(&live)).unwrap();
        let first = loaded.packets.iter().map(|p| p.at).min().unwrap();
        let mut view = Trace::default();
        view.replay(loaded, Duration::ZERO);
        // At 1× the view's time is the first packet's plus the wall's.
        let wall = |at: Duration| at - first;
        view.tick(wall(lost_at - Duration::from_micros(200)));
        let order = |view: &Trace| view.statuses()[0].1.link.word();
        assert_eq!(order(&view), "connected");
        let (changed, _) = view.tick(wall(lost_at + Duration::from_micros(200)));
        assert!(
            changed,
            "passing the loss is a change to draw, with no packet"
        );
        assert_eq!(order(&view), "disconnected");
        let (again, _) = view.tick(wall(lost_at + Duration::from_micros(300)));
        assert!(!again, "and only once");
    }

    #[test]
    fn a_replayed_recording_shows_its_orders() {
        let mut script = crate::trace::script::Script::new(ProtocolVersion::V311);
        script.connect_all();
        script.place_order(crate::trace::script::order(1), QoS::AtLeastOnce);
        let trace = Trace::new(script.history, script.actions);
        let loaded = load(&record(&trace)).unwrap();
        assert!(loaded.orders.row(crate::trace::script::order(1)).is_some());
    }

    // A newcomer's break-test: a recording kept no trace of Crash and Restart, so its replay
    // showed PaymentService connected and idle while an order waited for it.
    #[test]
    fn a_recording_keeps_crash_and_restart_and_its_replay_shows_the_service_crashed_between() {
        use crate::services::instances::Instance;
        use crate::trace::service_status::ServiceEvent;
        let mut script = crate::trace::script::Script::new(ProtocolVersion::V311);
        script.connect_all();
        let payment = Instance::from(ServiceId::Payment);
        script.wait(10);
        let crashed_at = script.now();
        script.actions.push(UserAction::Crashed {
            at: crashed_at,
            instance: payment,
        });
        script.wait(10);
        script.place_order(crate::trace::script::order(1), QoS::AtLeastOnce);
        script.wait(10);
        let restarted_at = script.now();
        script.actions.push(UserAction::Restarted {
            at: restarted_at,
            instance: payment,
        });
        script.wait(10);
        let text = record(&Trace::new(script.history, script.actions));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["version"], 4);
        assert!(text.contains(r#""type": "crashed""#) && text.contains(r#""client": "payment""#));
        let loaded = load(&text).unwrap();
        let clicks: Vec<_> = loaded.actions.iter().copied().collect();
        assert!(clicks.contains(&UserAction::Crashed {
            at: crashed_at,
            instance: payment
        }));
        let events: Vec<_> = loaded
            .services
            .events()
            .filter(|(_, s, e)| {
                *s == ServiceId::Payment
                    && matches!(e, ServiceEvent::Crashed | ServiceEvent::Restarted { .. })
            })
            .map(|(at, _, e)| (at, matches!(e, ServiceEvent::Crashed)))
            .collect();
        assert_eq!(events, [(crashed_at, true), (restarted_at, false)]);
        // The crash's outage is read back too.
        let outages = crate::trace::outages::outages(&loaded, loaded.saga);
        assert_eq!(outages.len(), 1, "{outages:?}");
        assert_eq!(outages[0].restarted_at, Some(restarted_at));
        // A click naming no service is refused with its name.
        let forged = text.replace(r#""client": "payment""#, r#""client": "billing""#);
        let error = load(&forged).unwrap_err().to_string();
        assert!(
            error.contains(
                "action 0: its \"client\" names \"billing\", which is no service of the playground"
            ),
            "{error}"
        );
        // A session without a crash still writes version 2, which older pages read.
        let mut plain = crate::trace::script::Script::new(ProtocolVersion::V311);
        plain.connect_all();
        let json: serde_json::Value =
            serde_json::from_str(&record(&Trace::new(plain.history, plain.actions))).unwrap();
        assert_eq!(json["version"], 2);
    }

    /// The recording of one order, with `edit` applied to its packets' JSON objects.
    fn edited(edit: impl FnOnce(&mut Vec<serde_json::Value>)) -> String {
        let mut script = crate::trace::script::Script::new(ProtocolVersion::V311);
        script.connect_all();
        script.place_order(crate::trace::script::order(1), QoS::AtLeastOnce);
        let text = record(&Trace::new(script.history, script.actions));
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        edit(json["packets"].as_array_mut().unwrap());
        json.to_string()
    }

    #[test]
    fn packets_sharing_a_seq_or_going_back_are_refused_with_the_packet_named() {
        // Two packets under one seq: the views key each packet by it (a Yew panic, before).
        let duplicated = edited(|packets| {
            let copy = packets[3]["seq"].clone();
            packets[4]["seq"] = copy;
        });
        let error = load(&duplicated).expect_err("refused");
        assert!(
            matches!(&error, RecordingError::BadPacket { index: 4, reason }
                if reason.contains("packet 3's too")),
            "{error}"
        );
        // A seq going back, or one too large to count on.
        let backwards = edited(|packets| packets[5]["seq"] = 1.into());
        let error = load(&backwards).expect_err("refused").to_string();
        assert!(
            error.starts_with("packet 5 of the recording cannot be read: its seq 1 is below"),
            "{error}"
        );
        let huge = edited(|packets| {
            let last = packets.len() - 1;
            packets[last]["seq"] = u64::MAX.into();
        });
        let error = load(&huge).expect_err("refused").to_string();
        assert!(error.contains("too large"), "{error}");
        // Gaps are fine: a recording of a history that dropped packets has them.
        let gaps = edited(|packets| {
            for (i, p) in packets.iter_mut().enumerate() {
                p["seq"] = (10 * i as u64 + 7).into();
            }
        });
        assert!(load(&gaps).is_ok());
    }

    #[test]
    fn json_of_the_wrong_shape_says_so_and_not_that_it_is_not_json() {
        for (text, says) in [
            ("[]", "it holds an array, where a recording is an object"),
            ("\"recording\"", "it holds a string"),
            ("42", "it holds a number"),
            ("null", "it holds null"),
            (
                r#"{"format":"eda-playground-recording","version":"2","packets":[]}"#,
                "its \"version\" is a string, where a format version belongs: a whole number from 1",
            ),
            (
                r#"{"format":"eda-playground-recording","version":1.5}"#,
                "its \"version\" is a number that is not a whole one (1.5), where",
            ),
            // A newcomer's break-test: -1 and 2^64 were "a number that is not a whole one".
            (
                r#"{"format":"eda-playground-recording","version":-1}"#,
                "its \"version\" is negative (-1), where a format version belongs",
            ),
            (
                r#"{"format":"eda-playground-recording","version":18446744073709551616}"#,
                "its \"version\" is a whole number too large to read (above 18446744073709551615)",
            ),
        ] {
            let error = load(text).expect_err("refused");
            assert!(
                matches!(error, RecordingError::WrongShape(_)),
                "{text}: {error:?}"
            );
            let message = error.to_string();
            assert!(
                message.starts_with("this file is JSON, but not in the shape of a recording")
                    && message.contains(says),
                "{text}: {message}"
            );
        }
        // Not JSON at all is still told apart.
        assert!(matches!(load("{"), Err(RecordingError::NotJson(_))));
        assert!(matches!(load(""), Err(RecordingError::NotJson(_))));
        // A version number too large for any playground is a newer one's.
        let huge = r#"{"format":"eda-playground-recording","version":18446744073709551615}"#;
        assert_eq!(load(huge).err(), Some(RecordingError::Newer(u64::MAX)));
    }

    /// A newcomer's break-test: `"atUs": -1000000000000` or `"dropped": -5` said serde's
    /// "invalid value: integer `-1000000000000`, expected u64 at line 1 column 1928".
    #[test]
    fn a_wrong_whole_number_is_refused_in_plain_words() {
        let mut with_dropped: serde_json::Value = serde_json::from_str(&edited(|_| {})).unwrap();
        with_dropped["dropped"] = (-5).into();
        let error = load(&with_dropped.to_string())
            .expect_err("refused")
            .to_string();
        assert_eq!(
            error,
            "this recording is damaged: its \"dropped\" is negative (-5): the count of packets \
             left out before the first is a whole number of 0 or more"
        );
        let early = edited(|packets| packets[2]["atUs"] = (-1_000_000_000_000_i64).into());
        let error = load(&early).expect_err("refused").to_string();
        assert_eq!(
            error,
            "packet 2 of the recording cannot be read: its \"atUs\" is negative \
             (-1000000000000): a time since the start of the recording, in µs, is a whole \
             number of 0 or more"
        );
        let fraction = edited(|packets| packets[1]["atUs"] = 2.5.into());
        let error = load(&fraction).expect_err("refused").to_string();
        assert!(
            error.starts_with(
                "packet 1 of the recording cannot be read: its \"atUs\" is a number that is \
                 not a whole one (2.5)"
            ),
            "{error}"
        );
        let text_seq = edited(|packets| packets[0]["seq"] = "one".into());
        let error = load(&text_seq).expect_err("refused").to_string();
        assert!(
            error.starts_with("packet 0 of the recording cannot be read: its \"seq\" is a string"),
            "{error}"
        );
        let huge: String = edited(|packets| packets[3]["atUs"] = 0.into()).replacen(
            "\"atUs\":0",
            "\"atUs\":18446744073709551616",
            1,
        );
        let error = load(&huge).expect_err("refused").to_string();
        assert!(error.contains("too large to read"), "{error}");
        let mut action: serde_json::Value = serde_json::from_str(&edited(|_| {})).unwrap();
        action["actions"][0]["atUs"] = (-1).into();
        let error = load(&action.to_string()).expect_err("refused").to_string();
        assert!(
            error.starts_with("this recording is damaged: action 0: its \"atUs\" is negative (-1)"),
            "{error}"
        );
    }

    // A newcomer's break-test: a packet without "bytes" was refused as "missing field `bytes`",
    // naming no packet.
    #[test]
    fn a_packet_missing_a_field_is_named() {
        let text = record(&sample(ProtocolVersion::V311));
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["packets"][2].as_object_mut().unwrap().remove("bytes");
        let error = load(&value.to_string()).expect_err("refused");
        assert!(
            matches!(&error, RecordingError::BadPacket { index: 2, reason } if reason == "missing field \"bytes\""),
            "{error}"
        );
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["packets"][1]["service"] = 7.into();
        let error = load(&value.to_string()).expect_err("refused").to_string();
        assert!(error.contains("packet 1"), "{error}");
        assert!(!error.contains('`'), "{error}");
    }

    // A newcomer's break-test: a bad order id or an unknown action type came back as serde's
    // words ("UUID parsing failed …", "unknown variant `explode`"), naming no action.
    #[test]
    fn a_damaged_action_is_named() {
        let text = record(&sample(ProtocolVersion::V311));
        let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let placed = value["actions"][0].clone();
            value["actions"] = serde_json::json!([placed.clone(), placed]);
            edit(&mut value["actions"][1]);
            load(&value.to_string()).expect_err("refused").to_string()
        };
        type Edit<'a> = &'a dyn Fn(&mut serde_json::Value);
        let cases: [(Edit, &str); 6] = [
            (&|a| a["orderId"] = "not-a-uuid".into(), "action 1: its \"orderId\" \"not-a-uuid\" is not a UUID"),
            (&|a| a["orderId"] = 7.into(), "action 1: its \"orderId\" is a number: a placed order's id is a UUID"),
            (&|a| a["type"] = "explode".into(), "action 1: its \"type\" is \"explode\": an action's type is \"placedOrder\", \"crashed\", \"restarted\" or \"styleChanged\""),
            (&|a| { a.as_object_mut().unwrap().remove("type"); }, "action 1: it has no \"type\""),
            (&|a| { a["type"] = "crashed".into(); a["client"] = "kitchen".into(); }, "action 1: its \"client\" names \"kitchen\", which is no service of the playground"),
            (&|a| a["type"] = "restarted".into(), "action 1: it has no \"client\""),
        ];
        for (edit, expected) in cases {
            let error = refused(edit);
            assert!(
                error.starts_with(&format!("this recording is damaged: {expected}")),
                "{error}"
            );
        }
        // The good ones still load.
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["actions"] = serde_json::json!([
            value["actions"][0].clone(),
            {"type": "crashed", "atUs": 5, "client": "payment-2"},
            {"type": "restarted", "atUs": 6, "client": "inventory"},
        ]);
        assert_eq!(load(&value.to_string()).unwrap().actions.iter().count(), 3);
    }

    #[test]
    fn a_damaged_packet_is_named() {
        let text = record(&sample(ProtocolVersion::V311));
        let broken = text.replacen("\"bytes\": \"10", "\"bytes\": \"zz", 1);
        match load(&broken) {
            Err(RecordingError::BadPacket { index: 0, reason }) => assert!(reason.contains("zz")),
            other => panic!("expected packet 0 to be refused, got {:?}", other.err()),
        }
        let truncated = text.replacen("\"bytes\": \"40 02 00 01\"", "\"bytes\": \"40 02 00\"", 1);
        assert!(matches!(
            load(&truncated),
            Err(RecordingError::BadPacket { index: 2, .. })
        ));
    }

    // A newcomer's break-test: a 34 MB recording (a real one repeated 60 times, 70,680
    // packets) was kept whole, and its replay, diagrams and trace export cost seconds a frame.
    #[test]
    fn a_recording_longer_than_the_page_keeps_replays_its_last_packets_and_says_so() {
        let long = edited(|packets| {
            let one: Vec<serde_json::Value> = packets.clone();
            packets.clear();
            for i in 0..(REPLAYED + 500) {
                let mut p = one[i % one.len()].clone();
                p["seq"] = (i as u64 + 1).into();
                packets.push(p);
            }
        });
        let trace = load(&long).unwrap();
        assert_eq!(trace.packets.len(), REPLAYED);
        assert_eq!(trace.packets.dropped(), 500);
        assert_eq!(trace.packets.iter().next().map(|p| p.seq), Some(501));
        assert_eq!(trace.packets.next_seq(), REPLAYED as u64 + 501);
        assert_eq!(
            replayed_part(&trace).as_deref(),
            Some(
                "This recording holds 2,500 packets; the page replays the last 2,000, as many as \
                 it keeps of a live session, so its diagrams, orders and trace export begin \
                 partway through."
            )
        );
        // The packets not replayed are still checked for their order.
        let mut json: serde_json::Value = serde_json::from_str(&long).unwrap();
        json["packets"][3]["seq"] = 1.into();
        assert!(matches!(
            load(&json.to_string()),
            Err(RecordingError::BadPacket { index: 3, .. })
        ));
        // A recording the page made (never more than it keeps) replays whole, and says nothing.
        let short = load(&edited(|_| {})).unwrap();
        assert_eq!(short.packets.dropped(), 0);
        assert_eq!(replayed_part(&short), None);
        assert_eq!(download_note(&short), None);
        // Made by a page that had let go of 1,949 packets: said at the replay, and again if
        // the replay is downloaded.
        let mut partway: serde_json::Value = serde_json::from_str(&edited(|_| {})).unwrap();
        partway["dropped"] = 1949.into();
        let partway = load(&partway.to_string()).unwrap();
        assert_eq!(
            replayed_part(&partway).as_deref(),
            Some(
                "This recording begins partway through its session: the page that made it \
                 keeps the last 2,000 packets and had let go of the 1,949 before them, so an \
                 order begun earlier replays without its start (\"unknown\" in the Orders \
                 panel)."
            )
        );
        let again: serde_json::Value = serde_json::from_str(&record(&partway)).unwrap();
        assert_eq!(again["dropped"], 1949);
        let note = download_note(&partway).unwrap();
        assert!(
            note.contains("had let go of the 1,949 before them"),
            "{note}"
        );
        assert_eq!(grouped(70_680), "70,680");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000_000), "1,000,000");
    }
}
