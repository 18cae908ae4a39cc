//! The packet inspector's decoded fields: what each packet kind says, as (name, value) pairs a
//! person can read. Credentials (the CONNECT's user name and password) show only their size.

use broker_bridge::packet::{ConnectReturnCode, RetainHandling, SubscriptionOptions};
use broker_bridge::{
    Packet, PacketKind, Properties, Property, ProtocolVersion, QoS, ReasonCode, SkippedPayload,
};

type Fields = Vec<(String, String)>;

/// `packet`'s fields, named as `protocol` names them: a 3.1.1 CONNACK's return code (§3.2.2.3
/// of 3.1.1), no reason code where 3.1.1 carries none (PUBACK, PUBREC, PUBREL, PUBCOMP,
/// DISCONNECT). A PUBLISH whose payload was `skipped` unread says so as its payload.
pub(super) fn fields(
    packet: &Packet,
    protocol: ProtocolVersion,
    skipped: Option<SkippedPayload>,
) -> Fields {
    let v5 = protocol == ProtocolVersion::V5;
    let mut out = Fields::new();
    let mut add = |name: &str, value: String| out.push((name.to_owned(), value));
    match packet {
        Packet::Connect(c) => {
            add("Protocol", c.protocol.to_string());
            add("Client id", c.client_id.clone());
            add("Keep alive", seconds_or_off(c.keep_alive));
            // The same flag bit, named as each version's spec names it: 3.1.1's Clean Session
            // (§3.1.2.4) decides whether the session is kept; 5.0's Clean Start (§3.1.2.4)
            // only whether an old one is discarded, the Session Expiry Interval deciding the
            // rest (a break-test, 37-U F8, found 5.0's CONNECT described in 3.1.1's words).
            let flag = match c.protocol {
                broker_bridge::ProtocolVersion::V5 => "Clean start",
                _ => "Clean session",
            };
            add(flag, yes_no(c.clean_session));
            add(
                "Will",
                match &c.will {
                    Some(w) => format!(
                        "{} ({}{}, {})",
                        w.topic,
                        qos(w.qos),
                        if w.retain { ", retain" } else { "" },
                        bytes(w.payload.len())
                    ),
                    None => "none".into(),
                },
            );
            // Never the text: the trace holds them redacted ([`Connect::redacted`]) anyway.
            if let Some(user) = &c.username {
                add("User name", format!("hidden, {}", bytes(user.len())));
            }
            if let Some(password) = &c.password {
                add("Password", format!("hidden, {}", bytes(password.len())));
            }
        }
        Packet::ConnAck(c) => {
            add("Session present", yes_no(c.session_present));
            match ConnectReturnCode::from_reason(c.code).filter(|_| !v5) {
                Some(code) => add("Return code", format!("{} ({})", code.name(), code as u8)),
                None => add("Reason code", c.code.to_string()),
            }
        }
        Packet::Publish(p) => {
            add("Topic", p.topic.clone());
            add("QoS", qos(p.qos));
            add("DUP", yes_no(p.dup));
            add("RETAIN", yes_no(p.retain));
            add("Packet id", packet_id(p.packet_id));
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            add("Packet id", a.packet_id.to_string());
            if v5 {
                add("Reason", a.reason.to_string());
            }
        }
        Packet::Subscribe(s) => {
            add("Packet id", s.packet_id.to_string());
            for (filter, options) in &s.filters {
                add("Filter", format!("{filter} ({})", subscription(options)));
            }
        }
        Packet::SubAck(s) => {
            add("Packet id", s.packet_id.to_string());
            for code in &s.return_codes {
                add("Return code", code.describe_in(protocol));
            }
        }
        Packet::Unsubscribe(u) => {
            add("Packet id", u.packet_id.to_string());
            for filter in &u.filters {
                add("Filter", filter.clone());
            }
        }
        Packet::UnsubAck(u) => {
            add("Packet id", u.packet_id.to_string());
            for reason in &u.reasons {
                add("Reason", reason.to_string());
            }
        }
        Packet::PingReq => add(
            "Purpose",
            "keepalive: the client asks if the broker is there".into(),
        ),
        Packet::PingResp => add("Purpose", "keepalive: the broker answers".into()),
        Packet::Disconnect(d) if v5 => add("Reason", named_in(d.reason, PacketKind::Disconnect)),
        Packet::Disconnect(_) => {}
        Packet::Auth(a) => add("Reason", a.reason.to_string()),
    }
    if let Some(properties) = packet.properties() {
        properties_into(properties, &mut out);
    }
    if let Packet::Publish(p) = packet {
        // Shown with U+FFFD in place of what is not UTF-8: said, so a real U+FFFD can be told
        // from bytes that are not text (42-AK F4); a 5.0 PUBLISH may have promised UTF-8.
        let size = bytes(p.payload.len());
        let said_text = p
            .properties
            .iter()
            .any(|property| matches!(property, Property::PayloadFormatIndicator(true)));
        let value = match (std::str::from_utf8(&p.payload).is_ok(), said_text) {
            // Not read at all: nothing to say of its text.
            _ if let Some(skipped) = skipped => super::packet::skipped_text(skipped),
            (true, _) => size,
            (false, false) => format!(
                "{size}, not valid UTF-8: shown with \u{FFFD} in place of the bytes that are not"
            ),
            (false, true) => format!(
                "{size}, not valid UTF-8, though its Payload Format Indicator says UTF-8 text (a \
                 receiver may refuse it: 0x99 Payload format invalid): shown with \u{FFFD} in \
                 place of the bytes that are not"
            ),
        };
        out.push(("Payload".into(), value));
    }
    out
}

/// One row per property, in wire order; user properties as `name = value`.
fn properties_into(properties: &Properties, out: &mut Fields) {
    for property in properties.iter() {
        let value = match property {
            Property::UserProperty(name, value) => format!("{name} = {value}"),
            Property::PayloadFormatIndicator(utf8) => if *utf8 {
                "UTF-8 text"
            } else {
                "unspecified bytes"
            }
            .into(),
            Property::MessageExpiryInterval(s)
            | Property::SessionExpiryInterval(s)
            | Property::WillDelayInterval(s) => format!("{s} s"),
            Property::ServerKeepAlive(s) => format!("{s} s"),
            Property::ContentType(s)
            | Property::ResponseTopic(s)
            | Property::AssignedClientIdentifier(s)
            | Property::AuthenticationMethod(s)
            | Property::ResponseInformation(s)
            | Property::ServerReference(s)
            | Property::ReasonString(s) => s.clone(),
            Property::CorrelationData(data) | Property::AuthenticationData(data) => binary(data),
            Property::SubscriptionIdentifier(n) => n.to_string(),
            Property::ReceiveMaximum(n)
            | Property::TopicAliasMaximum(n)
            | Property::TopicAlias(n) => n.to_string(),
            Property::MaximumPacketSize(n) => bytes(*n as usize),
            Property::MaximumQoS(q) => qos(*q),
            Property::RequestProblemInformation(b)
            | Property::RequestResponseInformation(b)
            | Property::RetainAvailable(b)
            | Property::WildcardSubscriptionAvailable(b)
            | Property::SubscriptionIdentifierAvailable(b)
            | Property::SharedSubscriptionAvailable(b) => yes_no(*b),
        };
        out.push((property.id().name().to_owned(), value));
    }
}

fn subscription(options: &SubscriptionOptions) -> String {
    let mut words = vec![qos(options.qos)];
    if options.no_local {
        words.push("no local".into());
    }
    if options.retain_as_published {
        words.push("retain as published".into());
    }
    match options.retain_handling {
        RetainHandling::SendAtSubscribe => {}
        RetainHandling::SendAtSubscribeIfNew => words.push("retained if new".into()),
        RetainHandling::DoNotSend => words.push("no retained".into()),
    }
    words.join(", ")
}

/// Text when it is printable UTF-8, else hex: correlation data is usually one or the other.
fn binary(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) if !text.chars().any(char::is_control) => format!("\"{text}\""),
        _ => data
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn named_in(code: ReasonCode, kind: PacketKind) -> String {
    format!("{} (0x{:02X})", code.name_in(kind), code.byte())
}

fn qos(qos: QoS) -> String {
    format!("QoS {}", qos.level())
}

fn packet_id(id: Option<u16>) -> String {
    id.map_or_else(|| "none (QoS 0)".into(), |id| id.to_string())
}

fn seconds_or_off(seconds: u16) -> String {
    if seconds == 0 {
        "off".into()
    } else {
        format!("{seconds} s")
    }
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.into()
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_bridge::packet::{
        Ack, ConnAck, Connect, Disconnect, LastWill, SubAck, Subscribe, SubscribeReturnCode,
        UnsubAck, Unsubscribe,
    };
    use broker_bridge::{ProtocolVersion, Publish};

    fn pairs(packet: Packet) -> Vec<(String, String)> {
        fields(&packet, ProtocolVersion::V5, None)
    }

    /// A payload that is not UTF-8 says so beside its size, and a 5.0 one that promised UTF-8
    /// text says that too (42-AK F4: shown as "�" with no word).
    #[test]
    fn a_payload_that_is_not_utf8_says_so() {
        let payload = |publish: Publish| {
            pairs(Packet::Publish(publish))
                .into_iter()
                .find(|(name, _)| name == "Payload")
                .map(|(_, value)| value)
                .unwrap()
        };
        let text = Publish::new("t", b"ok".to_vec(), QoS::AtMostOnce);
        assert_eq!(payload(text), "2 bytes");
        let bad = Publish::new("t", vec![0xff], QoS::AtMostOnce);
        assert_eq!(
            payload(bad.clone()),
            "1 byte, not valid UTF-8: shown with \u{FFFD} in place of the bytes that are not"
        );
        let promised = Publish {
            properties: Properties::new().with(Property::PayloadFormatIndicator(true)),
            ..bad
        };
        assert!(payload(promised).contains("though its Payload Format Indicator says UTF-8 text"));
    }

    /// 3.1.1's answers carry return codes named in its own words, and PUBACK, PUBREC, PUBREL,
    /// PUBCOMP and DISCONNECT no reason code at all (41-AJ F6: a refused 3.1.1 CONNACK was
    /// shown as "Bad User Name or Password (0x86)", 5.0's code).
    #[test]
    fn answers_in_3_1_1_are_named_as_3_1_1_names_them() {
        let v311 = |packet: Packet| fields(&packet, ProtocolVersion::V311, None);
        assert_eq!(
            v311(Packet::ConnAck(ConnAck::new(
                false,
                ReasonCode::BadUserNameOrPassword
            ))),
            expect(&[
                ("Session present", "no"),
                (
                    "Return code",
                    "Connection Refused, bad user name or password (4)"
                ),
            ])
        );
        assert_eq!(
            v311(Packet::ConnAck(ConnAck::new(true, ReasonCode::Success))),
            expect(&[
                ("Session present", "yes"),
                ("Return code", "Connection Accepted (0)"),
            ])
        );
        assert_eq!(
            v311(Packet::PubAck(Ack::new(5))),
            expect(&[("Packet id", "5")])
        );
        assert_eq!(
            v311(Packet::SubAck(SubAck::new(
                2,
                vec![
                    SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                    SubscribeReturnCode::Failure,
                ],
            ))),
            expect(&[
                ("Packet id", "2"),
                ("Return code", "Success - Maximum QoS 1"),
                ("Return code", "Failure (0x80)"),
            ])
        );
        assert!(v311(Packet::Disconnect(Disconnect::default())).is_empty());
    }

    fn expect(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn publish_lists_flags_properties_and_payload_size() {
        let mut p = Publish::new("orders/created", b"{}".to_vec(), QoS::ExactlyOnce);
        p.packet_id = Some(9);
        p.retain = true;
        p.properties = Properties::new()
            .with_user_property("correlationId", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
            .with(Property::MessageExpiryInterval(60))
            .with(Property::CorrelationData(vec![0, 1, 0xff]));
        assert_eq!(
            pairs(Packet::Publish(p)),
            expect(&[
                ("Topic", "orders/created"),
                ("QoS", "QoS 2"),
                ("DUP", "no"),
                ("RETAIN", "yes"),
                ("Packet id", "9"),
                (
                    "User Property",
                    "correlationId = 3fa85f64-5717-4562-b3fc-2c963f66afa6"
                ),
                ("Message Expiry Interval", "60 s"),
                ("Correlation Data", "00 01 ff"),
                ("Payload", "2 bytes"),
            ])
        );
    }

    #[test]
    fn connect_shows_the_session_but_never_the_credentials() {
        let mut c = Connect::new(ProtocolVersion::V5, "eda-x-order", 30);
        c.will = Some(LastWill::new(
            "status/order",
            b"gone".to_vec(),
            QoS::AtLeastOnce,
        ));
        c.username = Some("ada".into());
        c.password = Some(b"hunter2".to_vec());
        c.properties = Properties::new().with(Property::SessionExpiryInterval(600));
        let fields = pairs(Packet::Connect(c));
        assert_eq!(
            fields,
            expect(&[
                ("Protocol", "MQTT 5.0"),
                ("Client id", "eda-x-order"),
                ("Keep alive", "30 s"),
                ("Clean start", "yes"),
                ("Will", "status/order (QoS 1, 4 bytes)"),
                ("User name", "hidden, 3 bytes"),
                ("Password", "hidden, 7 bytes"),
                ("Session Expiry Interval", "600 s"),
            ])
        );
        assert!(!format!("{fields:?}").contains("hunter2"));
        assert!(!format!("{fields:?}").contains("ada"));
    }

    #[test]
    fn answers_and_subscriptions() {
        let sub = Subscribe {
            packet_id: 2,
            filters: vec![
                (
                    "orders/created".into(),
                    SubscriptionOptions::new(QoS::AtLeastOnce),
                ),
                (
                    "payments/#".into(),
                    SubscriptionOptions {
                        no_local: true,
                        retain_handling: RetainHandling::DoNotSend,
                        ..SubscriptionOptions::new(QoS::AtMostOnce)
                    },
                ),
            ],
            properties: Properties::new(),
        };
        let table = [
            (
                Packet::ConnAck(ConnAck::new(true, ReasonCode::Success)),
                expect(&[
                    ("Session present", "yes"),
                    ("Reason code", "Success (0x00)"),
                ]),
            ),
            (
                Packet::PubRec(Ack::with_reason(5, ReasonCode::QuotaExceeded)),
                expect(&[("Packet id", "5"), ("Reason", "Quota exceeded (0x97)")]),
            ),
            (
                Packet::Subscribe(sub),
                expect(&[
                    ("Packet id", "2"),
                    ("Filter", "orders/created (QoS 1)"),
                    ("Filter", "payments/# (QoS 0, no local, no retained)"),
                ]),
            ),
            (
                Packet::SubAck(SubAck::new(
                    2,
                    vec![
                        SubscribeReturnCode::Granted(QoS::AtLeastOnce),
                        SubscribeReturnCode::Failure,
                    ],
                )),
                expect(&[
                    ("Packet id", "2"),
                    ("Return code", "Granted QoS 1"),
                    ("Return code", "Unspecified error (0x80)"),
                ]),
            ),
            (
                Packet::Unsubscribe(Unsubscribe {
                    packet_id: 3,
                    filters: vec!["orders/created".into()],
                    properties: Properties::new(),
                }),
                expect(&[("Packet id", "3"), ("Filter", "orders/created")]),
            ),
            (
                Packet::UnsubAck(UnsubAck::new(3)),
                expect(&[("Packet id", "3")]),
            ),
            (
                Packet::Disconnect(Disconnect::default()),
                expect(&[("Reason", "Normal disconnection (0x00)")]),
            ),
        ];
        for (packet, expected) in table {
            let kind = packet.kind();
            assert_eq!(pairs(packet), expected, "{kind}");
        }
        assert_eq!(pairs(Packet::PingReq).len(), 1);
    }
}
