//! Our MQTT 5.0 encodings against an independent codec (`mqttbytes::v5`): for every packet its
//! model can hold, it must read our bytes as the same packet, its writer must produce the same
//! bytes, and we must decode what it writes back to our packet.
//!
//! mqttbytes keeps properties in per-packet structs and writes them in a fixed order of its
//! own, so each test builds our (wire-ordered) property lists in that order. Where its model
//! cannot follow, the test says so and checks what it can:
//! - it has no AUTH packet;
//! - its `v5::read` refuses a DISCONNECT of remaining length 0, and its DISCONNECT reader needs a
//!   property length after a reason code, so the one-byte form (reason only) is compared by
//!   bytes alone;
//! - its CONNACK writer leaves out an empty property list (not valid 5.0), so we hand it an
//!   empty struct to write; its readers turn an empty list into `None`;
//! - passwords are `String`s there, and an empty username or password means "absent";
//! - its DISCONNECT reason codes follow the table of §3.14.2.1, which lacks 0x8C (Bad
//!   authentication method) that the summary Table 2-6 allows, and which we accept.
#![cfg(not(target_arch = "wasm32"))]

use broker_bridge::packet::{
    Ack, Auth, ConnAck, Connect, Disconnect, LastWill, Packet, Properties, Property,
    ProtocolVersion, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    SubscribeReturnCode, SubscriptionOptions, UnsubAck, Unsubscribe, ALL_REASON_CODES,
};
use broker_bridge::PacketKind;
use bytes::{Bytes, BytesMut};
use mqttbytes::v5;
use proptest::prelude::*;

const V5: ProtocolVersion = ProtocolVersion::V5;

fn their_qos(qos: QoS) -> mqttbytes::QoS {
    match qos {
        QoS::AtMostOnce => mqttbytes::QoS::AtMostOnce,
        QoS::AtLeastOnce => mqttbytes::QoS::AtLeastOnce,
        QoS::ExactlyOnce => mqttbytes::QoS::ExactlyOnce,
    }
}

/// Every property value, as mqttbytes' structs hold them.
#[derive(Default)]
struct Fields {
    payload_format: Option<u8>,
    message_expiry: Option<u32>,
    content_type: Option<String>,
    response_topic: Option<String>,
    correlation: Option<Bytes>,
    subscription_ids: Vec<usize>,
    session_expiry: Option<u32>,
    assigned_id: Option<String>,
    server_keep_alive: Option<u16>,
    auth_method: Option<String>,
    auth_data: Option<Bytes>,
    request_problem: Option<u8>,
    will_delay: Option<u32>,
    request_response: Option<u8>,
    response_info: Option<String>,
    server_reference: Option<String>,
    reason: Option<String>,
    receive_max: Option<u16>,
    topic_alias_max: Option<u16>,
    topic_alias: Option<u16>,
    max_qos: Option<u8>,
    retain_available: Option<u8>,
    user: Vec<(String, String)>,
    max_packet_size: Option<u32>,
    wildcard: Option<u8>,
    subscription_ids_available: Option<u8>,
    shared: Option<u8>,
}

fn fields(props: &Properties) -> Fields {
    let mut f = Fields::default();
    let b = |v: &bool| Some(u8::from(*v));
    for p in props {
        match p {
            Property::PayloadFormatIndicator(v) => f.payload_format = b(v),
            Property::MessageExpiryInterval(v) => f.message_expiry = Some(*v),
            Property::ContentType(v) => f.content_type = Some(v.clone()),
            Property::ResponseTopic(v) => f.response_topic = Some(v.clone()),
            Property::CorrelationData(v) => f.correlation = Some(Bytes::from(v.clone())),
            Property::SubscriptionIdentifier(v) => f.subscription_ids.push(*v as usize),
            Property::SessionExpiryInterval(v) => f.session_expiry = Some(*v),
            Property::AssignedClientIdentifier(v) => f.assigned_id = Some(v.clone()),
            Property::ServerKeepAlive(v) => f.server_keep_alive = Some(*v),
            Property::AuthenticationMethod(v) => f.auth_method = Some(v.clone()),
            Property::AuthenticationData(v) => f.auth_data = Some(Bytes::from(v.clone())),
            Property::RequestProblemInformation(v) => f.request_problem = b(v),
            Property::WillDelayInterval(v) => f.will_delay = Some(*v),
            Property::RequestResponseInformation(v) => f.request_response = b(v),
            Property::ResponseInformation(v) => f.response_info = Some(v.clone()),
            Property::ServerReference(v) => f.server_reference = Some(v.clone()),
            Property::ReasonString(v) => f.reason = Some(v.clone()),
            Property::ReceiveMaximum(v) => f.receive_max = Some(*v),
            Property::TopicAliasMaximum(v) => f.topic_alias_max = Some(*v),
            Property::TopicAlias(v) => f.topic_alias = Some(*v),
            Property::MaximumQoS(v) => f.max_qos = Some(v.level()),
            Property::RetainAvailable(v) => f.retain_available = b(v),
            Property::UserProperty(k, v) => f.user.push((k.clone(), v.clone())),
            Property::MaximumPacketSize(v) => f.max_packet_size = Some(*v),
            Property::WildcardSubscriptionAvailable(v) => f.wildcard = b(v),
            Property::SubscriptionIdentifierAvailable(v) => f.subscription_ids_available = b(v),
            Property::SharedSubscriptionAvailable(v) => f.shared = b(v),
        }
    }
    f
}

/// `None` for an empty list: how mqttbytes reads one.
fn some<T>(props: &Properties, make: impl FnOnce(Fields) -> T) -> Option<T> {
    (!props.is_empty()).then(|| make(fields(props)))
}

/// The Reason String and User Properties every acknowledgement's properties hold there.
type AckProps = (Option<String>, Vec<(String, String)>);

fn ack_props(props: &Properties) -> Option<AckProps> {
    some(props, |f| (f.reason, f.user))
}

fn connack_code(code: ReasonCode) -> v5::ConnectReturnCode {
    use v5::ConnectReturnCode as C;
    use ReasonCode as R;
    match code {
        R::Success => C::Success,
        R::UnspecifiedError => C::UnspecifiedError,
        R::MalformedPacket => C::MalformedPacket,
        R::ProtocolError => C::ProtocolError,
        R::ImplementationSpecificError => C::ImplementationSpecificError,
        R::UnsupportedProtocolVersion => C::UnsupportedProtocolVersion,
        R::ClientIdentifierNotValid => C::ClientIdentifierNotValid,
        R::BadUserNameOrPassword => C::BadUserNamePassword,
        R::NotAuthorized => C::NotAuthorized,
        R::ServerUnavailable => C::ServerUnavailable,
        R::ServerBusy => C::ServerBusy,
        R::Banned => C::Banned,
        R::BadAuthenticationMethod => C::BadAuthenticationMethod,
        R::TopicNameInvalid => C::TopicNameInvalid,
        R::PacketTooLarge => C::PacketTooLarge,
        R::QuotaExceeded => C::QuotaExceeded,
        R::PayloadFormatInvalid => C::PayloadFormatInvalid,
        R::RetainNotSupported => C::RetainNotSupported,
        R::QoSNotSupported => C::QoSNotSupported,
        R::UseAnotherServer => C::UseAnotherServer,
        R::ServerMoved => C::ServerMoved,
        R::ConnectionRateExceeded => C::ConnectionRateExceeded,
        other => panic!("{other} is not a CONNACK code"),
    }
}

fn puback_reason(code: ReasonCode) -> v5::PubAckReason {
    use v5::PubAckReason as A;
    use ReasonCode as R;
    match code {
        R::Success => A::Success,
        R::NoMatchingSubscribers => A::NoMatchingSubscribers,
        R::UnspecifiedError => A::UnspecifiedError,
        R::ImplementationSpecificError => A::ImplementationSpecificError,
        R::NotAuthorized => A::NotAuthorized,
        R::TopicNameInvalid => A::TopicNameInvalid,
        R::PacketIdentifierInUse => A::PacketIdentifierInUse,
        R::QuotaExceeded => A::QuotaExceeded,
        R::PayloadFormatInvalid => A::PayloadFormatInvalid,
        other => panic!("{other} is not a PUBACK code"),
    }
}

fn pubrec_reason(code: ReasonCode) -> v5::PubRecReason {
    use v5::PubRecReason as A;
    use ReasonCode as R;
    match code {
        R::Success => A::Success,
        R::NoMatchingSubscribers => A::NoMatchingSubscribers,
        R::UnspecifiedError => A::UnspecifiedError,
        R::ImplementationSpecificError => A::ImplementationSpecificError,
        R::NotAuthorized => A::NotAuthorized,
        R::TopicNameInvalid => A::TopicNameInvalid,
        R::PacketIdentifierInUse => A::PacketIdentifierInUse,
        R::QuotaExceeded => A::QuotaExceeded,
        R::PayloadFormatInvalid => A::PayloadFormatInvalid,
        other => panic!("{other} is not a PUBREC code"),
    }
}

fn unsuback_reason(code: ReasonCode) -> v5::UnsubAckReason {
    use v5::UnsubAckReason as A;
    use ReasonCode as R;
    match code {
        R::Success => A::Success,
        R::NoSubscriptionExisted => A::NoSubscriptionExisted,
        R::UnspecifiedError => A::UnspecifiedError,
        R::ImplementationSpecificError => A::ImplementationSpecificError,
        R::NotAuthorized => A::NotAuthorized,
        R::TopicFilterInvalid => A::TopicFilterInvalid,
        R::PacketIdentifierInUse => A::PacketIdentifierInUse,
        other => panic!("{other} is not an UNSUBACK code"),
    }
}

fn will_props(props: &Properties) -> Option<v5::WillProperties> {
    some(props, |f| v5::WillProperties {
        delay_interval: f.will_delay,
        payload_format_indicator: f.payload_format,
        message_expiry_interval: f.message_expiry,
        content_type: f.content_type,
        response_topic: f.response_topic,
        correlation_data: f.correlation,
        user_properties: f.user,
    })
}

fn connack_props(f: Fields) -> v5::ConnAckProperties {
    v5::ConnAckProperties {
        session_expiry_interval: f.session_expiry,
        receive_max: f.receive_max,
        max_qos: f.max_qos,
        retain_available: f.retain_available,
        max_packet_size: f.max_packet_size,
        assigned_client_identifier: f.assigned_id,
        topic_alias_max: f.topic_alias_max,
        reason_string: f.reason,
        user_properties: f.user,
        wildcard_subscription_available: f.wildcard,
        subscription_identifiers_available: f.subscription_ids_available,
        shared_subscription_available: f.shared,
        server_keep_alive: f.server_keep_alive,
        response_information: f.response_info,
        server_reference: f.server_reference,
        authentication_method: f.auth_method,
        authentication_data: f.auth_data,
    }
}

/// The same packet in mqttbytes' terms. `for_writing` works around its CONNACK writer.
fn theirs(packet: &Packet, for_writing: bool) -> v5::Packet {
    match packet {
        Packet::Connect(c) => v5::Packet::Connect(v5::Connect {
            protocol: mqttbytes::Protocol::V5,
            keep_alive: c.keep_alive,
            client_id: c.client_id.clone(),
            clean_session: c.clean_session,
            last_will: c.will.as_ref().map(|w| v5::LastWill {
                topic: w.topic.clone(),
                message: Bytes::from(w.payload.clone()),
                qos: their_qos(w.qos),
                retain: w.retain,
                properties: will_props(&w.properties),
            }),
            login: (c.username.is_some() || c.password.is_some()).then(|| v5::Login {
                username: c.username.clone().unwrap_or_default(),
                password: String::from_utf8(c.password.clone().unwrap_or_default()).unwrap(),
            }),
            properties: some(&c.properties, |f| v5::ConnectProperties {
                session_expiry_interval: f.session_expiry,
                receive_maximum: f.receive_max,
                max_packet_size: f.max_packet_size,
                topic_alias_max: f.topic_alias_max,
                request_response_info: f.request_response,
                request_problem_info: f.request_problem,
                user_properties: f.user,
                authentication_method: f.auth_method,
                authentication_data: f.auth_data,
            }),
        }),
        Packet::ConnAck(a) => v5::Packet::ConnAck(v5::ConnAck {
            session_present: a.session_present,
            code: connack_code(a.code),
            properties: if for_writing {
                Some(connack_props(fields(&a.properties)))
            } else {
                some(&a.properties, connack_props)
            },
        }),
        Packet::Publish(p) => v5::Packet::Publish(v5::Publish {
            dup: p.dup,
            qos: their_qos(p.qos),
            retain: p.retain,
            topic: p.topic.clone(),
            pkid: p.packet_id.unwrap_or(0),
            payload: Bytes::from(p.payload.clone()),
            properties: some(&p.properties, |f| v5::PublishProperties {
                payload_format_indicator: f.payload_format,
                message_expiry_interval: f.message_expiry,
                topic_alias: f.topic_alias,
                response_topic: f.response_topic,
                correlation_data: f.correlation,
                user_properties: f.user,
                subscription_identifiers: f.subscription_ids,
                content_type: f.content_type,
            }),
        }),
        Packet::PubAck(a) => v5::Packet::PubAck(v5::PubAck {
            pkid: a.packet_id,
            reason: puback_reason(a.reason),
            properties: ack_props(&a.properties).map(|(reason_string, user_properties)| {
                v5::PubAckProperties {
                    reason_string,
                    user_properties,
                }
            }),
        }),
        Packet::PubRec(a) => v5::Packet::PubRec(v5::PubRec {
            pkid: a.packet_id,
            reason: pubrec_reason(a.reason),
            properties: ack_props(&a.properties).map(|(reason_string, user_properties)| {
                v5::PubRecProperties {
                    reason_string,
                    user_properties,
                }
            }),
        }),
        Packet::PubRel(a) => v5::Packet::PubRel(v5::PubRel {
            pkid: a.packet_id,
            reason: match a.reason {
                ReasonCode::Success => v5::PubRelReason::Success,
                _ => v5::PubRelReason::PacketIdentifierNotFound,
            },
            properties: ack_props(&a.properties).map(|(reason_string, user_properties)| {
                v5::PubRelProperties {
                    reason_string,
                    user_properties,
                }
            }),
        }),
        Packet::PubComp(a) => v5::Packet::PubComp(v5::PubComp {
            pkid: a.packet_id,
            reason: match a.reason {
                ReasonCode::Success => v5::PubCompReason::Success,
                _ => v5::PubCompReason::PacketIdentifierNotFound,
            },
            properties: ack_props(&a.properties).map(|(reason_string, user_properties)| {
                v5::PubCompProperties {
                    reason_string,
                    user_properties,
                }
            }),
        }),
        Packet::Subscribe(s) => v5::Packet::Subscribe(v5::Subscribe {
            pkid: s.packet_id,
            filters: s
                .filters
                .iter()
                .map(|(path, o)| v5::SubscribeFilter {
                    path: path.clone(),
                    qos: their_qos(o.qos),
                    nolocal: o.no_local,
                    preserve_retain: o.retain_as_published,
                    retain_forward_rule: match o.retain_handling {
                        RetainHandling::SendAtSubscribe => v5::RetainForwardRule::OnEverySubscribe,
                        RetainHandling::SendAtSubscribeIfNew => {
                            v5::RetainForwardRule::OnNewSubscribe
                        }
                        RetainHandling::DoNotSend => v5::RetainForwardRule::Never,
                    },
                })
                .collect(),
            properties: some(&s.properties, |f| v5::SubscribeProperties {
                id: f.subscription_ids.first().copied(),
                user_properties: f.user,
            }),
        }),
        Packet::SubAck(s) => v5::Packet::SubAck(v5::SubAck {
            pkid: s.packet_id,
            return_codes: s
                .return_codes
                .iter()
                .map(|c| v5::SubscribeReasonCode::try_from(c.reason().byte()).unwrap())
                .collect(),
            properties: ack_props(&s.properties).map(|(reason_string, user_properties)| {
                v5::SubAckProperties {
                    reason_string,
                    user_properties,
                }
            }),
        }),
        Packet::Unsubscribe(u) => v5::Packet::Unsubscribe(v5::Unsubscribe {
            pkid: u.packet_id,
            filters: u.filters.clone(),
            properties: some(&u.properties, |f| v5::UnsubscribeProperties {
                user_properties: f.user,
            }),
        }),
        Packet::UnsubAck(u) => v5::Packet::UnsubAck(v5::UnsubAck {
            pkid: u.packet_id,
            reasons: u.reasons.iter().map(|r| unsuback_reason(*r)).collect(),
            properties: ack_props(&u.properties).map(|(reason_string, user_properties)| {
                v5::UnsubAckProperties {
                    reason_string,
                    user_properties,
                }
            }),
        }),
        Packet::PingReq => v5::Packet::PingReq,
        Packet::PingResp => v5::Packet::PingResp,
        Packet::Disconnect(d) => v5::Packet::Disconnect(v5::Disconnect {
            reason_code: v5::DisconnectReasonCode::try_from(d.reason.byte()).unwrap(),
            properties: some(&d.properties, |f| v5::DisconnectProperties {
                session_expiry_interval: f.session_expiry,
                reason_string: f.reason,
                user_properties: f.user,
                server_reference: f.server_reference,
            }),
        }),
        Packet::Auth(_) => unreachable!("mqttbytes 0.6 has no AUTH packet"),
    }
}

fn their_bytes(packet: &v5::Packet) -> Vec<u8> {
    let mut buf = BytesMut::new();
    match packet {
        v5::Packet::Connect(p) => p.write(&mut buf),
        v5::Packet::ConnAck(p) => p.write(&mut buf),
        v5::Packet::Publish(p) => p.write(&mut buf),
        v5::Packet::PubAck(p) => p.write(&mut buf),
        v5::Packet::PubRec(p) => p.write(&mut buf),
        v5::Packet::PubRel(p) => p.write(&mut buf),
        v5::Packet::PubComp(p) => p.write(&mut buf),
        v5::Packet::Subscribe(p) => p.write(&mut buf),
        v5::Packet::SubAck(p) => p.write(&mut buf),
        v5::Packet::Unsubscribe(p) => p.write(&mut buf),
        v5::Packet::UnsubAck(p) => p.write(&mut buf),
        v5::Packet::PingReq => v5::PingReq.write(&mut buf),
        v5::Packet::PingResp => v5::PingResp.write(&mut buf),
        v5::Packet::Disconnect(p) => p.write(&mut buf),
    }
    .expect("mqttbytes encodes");
    buf.to_vec()
}

/// mqttbytes' reading of our bytes, where its readers can.
fn their_reading(ours: &[u8]) -> Option<v5::Packet> {
    let mut buf = BytesMut::from(ours);
    if ours[0] == 0xe0 {
        if ours[1] == 1 {
            return None; // reason code only: it expects a property length
        }
        let header = mqttbytes::check(buf.iter(), usize::MAX).expect("a whole packet");
        let read = v5::Disconnect::read(header, buf.freeze()).expect("mqttbytes reads it");
        return Some(v5::Packet::Disconnect(read));
    }
    Some(v5::read(&mut buf, usize::MAX).expect("mqttbytes reads our bytes"))
}

fn cross_check(packet: Packet) {
    let ours = packet.encode(V5).expect("we encode");
    if let Some(read) = their_reading(&ours) {
        assert_eq!(
            read,
            theirs(&packet, false),
            "mqttbytes reads our {} as another packet",
            packet.kind()
        );
    }
    let theirs_bytes = their_bytes(&theirs(&packet, true));
    assert_eq!(ours, theirs_bytes, "different bytes for {packet:#?}");
    let (decoded, used) = Packet::decode(&theirs_bytes, usize::MAX, V5)
        .expect("we decode theirs")
        .expect("complete");
    assert_eq!((decoded, used), (packet, theirs_bytes.len()));
}

fn reason_props(reason: &str) -> Properties {
    Properties::new()
        .with(Property::ReasonString(reason.into()))
        .with_user_property("trace", "7")
        .with_user_property("trace", "8")
}

fn codes_of(kind: PacketKind) -> Vec<ReasonCode> {
    ALL_REASON_CODES
        .into_iter()
        .filter(|c| c.allowed_in(kind))
        .collect()
}

#[test]
fn connect_with_every_property_matches() {
    let minimal = Connect::new(V5, "eda-1a2b3c-payment", 30);
    cross_check(Packet::Connect(minimal.clone()));
    let mut full = Connect {
        clean_session: false,
        username: Some("learner".into()),
        password: Some(b"secret".to_vec()),
        will: Some(LastWill {
            retain: true,
            ..LastWill::new(
                "services/payment/status",
                b"offline".to_vec(),
                QoS::AtLeastOnce,
            )
        }),
        ..minimal
    };
    cross_check(Packet::Connect(full.clone()));
    // mqttbytes' order: 17, 33, 39, 34, 25, 23, 38…, 21, 22.
    full.properties = Properties::new()
        .with(Property::SessionExpiryInterval(3600))
        .with(Property::ReceiveMaximum(10))
        .with(Property::MaximumPacketSize(262_144))
        .with(Property::TopicAliasMaximum(0))
        .with(Property::RequestResponseInformation(true))
        .with(Property::RequestProblemInformation(false))
        .with_user_property("app", "eda")
        .with_user_property("app", "playground")
        .with(Property::AuthenticationMethod("PLAIN".into()))
        .with(Property::AuthenticationData(b"token".to_vec()));
    // Will properties in its order: 24, 1, 2, 3, 8, 9, 38….
    full.will.as_mut().unwrap().properties = Properties::new()
        .with(Property::WillDelayInterval(5))
        .with(Property::PayloadFormatIndicator(true))
        .with(Property::MessageExpiryInterval(60))
        .with(Property::ContentType("text/plain".into()))
        .with(Property::ResponseTopic("services/payment/ack".into()))
        .with(Property::CorrelationData(vec![7; 16]))
        .with_user_property("reason", "crash");
    cross_check(Packet::Connect(full.clone()));
    // 5.0 lets a password come without a username.
    cross_check(Packet::Connect(Connect {
        username: None,
        ..full
    }));
}

#[test]
fn connack_with_every_code_and_property_matches() {
    for code in codes_of(PacketKind::ConnAck) {
        cross_check(Packet::ConnAck(ConnAck::new(
            code == ReasonCode::Success,
            code,
        )));
    }
    // mqttbytes' order: 17, 33, 36, 37, 39, 18, 34, 31, 38…, 40, 41, 42, 19, 26, 28, 21, 22.
    let properties = Properties::new()
        .with(Property::SessionExpiryInterval(3600))
        .with(Property::ReceiveMaximum(20))
        .with(Property::MaximumQoS(QoS::AtLeastOnce))
        .with(Property::RetainAvailable(false))
        .with(Property::MaximumPacketSize(1 << 20))
        .with(Property::AssignedClientIdentifier("auto-7f3a".into()))
        .with(Property::TopicAliasMaximum(10))
        .with(Property::ReasonString("welcome".into()))
        .with_user_property("region", "eu")
        .with(Property::WildcardSubscriptionAvailable(true))
        .with(Property::SubscriptionIdentifierAvailable(false))
        .with(Property::SharedSubscriptionAvailable(true))
        .with(Property::ServerKeepAlive(20))
        .with(Property::ResponseInformation("replies/".into()))
        .with(Property::ServerReference("other:1883".into()))
        .with(Property::AuthenticationMethod("SCRAM-SHA-1".into()))
        .with(Property::AuthenticationData(vec![1, 2, 3]));
    cross_check(Packet::ConnAck(ConnAck {
        session_present: true,
        code: ReasonCode::Success,
        properties,
    }));
}

#[test]
fn publish_with_every_property_matches() {
    let base = Publish {
        packet_id: Some(9),
        ..Publish::new("orders/created", b"{}".to_vec(), QoS::AtLeastOnce)
    };
    cross_check(Packet::Publish(base.clone()));
    // mqttbytes' order: 1, 2, 35, 8, 9, 38…, 11…, 3.
    let properties = Properties::new()
        .with(Property::PayloadFormatIndicator(true))
        .with(Property::MessageExpiryInterval(30))
        .with(Property::TopicAlias(4))
        .with(Property::ResponseTopic("orders/replies/7".into()))
        .with(Property::CorrelationData(b"req-7".to_vec()))
        .with_user_property("correlationId", "3fa85f64")
        .with_user_property("source", "OrderService")
        .with(Property::SubscriptionIdentifier(1))
        .with(Property::SubscriptionIdentifier(268_435_455))
        .with(Property::ContentType("application/json".into()));
    cross_check(Packet::Publish(Publish { properties, ..base }));
}

#[test]
fn publish_acknowledgements_in_every_form_match() {
    let kinds = [
        (PacketKind::PubAck, Packet::PubAck as fn(Ack) -> Packet),
        (PacketKind::PubRec, Packet::PubRec),
        (PacketKind::PubRel, Packet::PubRel),
        (PacketKind::PubComp, Packet::PubComp),
    ];
    for (kind, make) in kinds {
        for reason in codes_of(kind) {
            // Remaining length 2 (Success) or 3 (a reason, no properties)…
            cross_check(make(Ack::with_reason(7, reason)));
            // …and the long form with properties.
            cross_check(make(Ack {
                packet_id: 7,
                reason,
                properties: reason_props(reason.describe()),
            }));
        }
    }
}

#[test]
fn subscribe_with_every_option_and_suback_with_every_code_match() {
    let filters = vec![
        (
            "orders/created".to_owned(),
            SubscriptionOptions::new(QoS::AtLeastOnce),
        ),
        (
            "$share/workers/payments/#".to_owned(),
            SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                no_local: false,
                retain_as_published: true,
                retain_handling: RetainHandling::SendAtSubscribeIfNew,
            },
        ),
        (
            "inventory/+".to_owned(),
            SubscriptionOptions {
                no_local: true,
                retain_handling: RetainHandling::DoNotSend,
                ..QoS::AtMostOnce.into()
            },
        ),
    ];
    cross_check(Packet::Subscribe(Subscribe {
        packet_id: 2,
        filters: filters.clone(),
        properties: Properties::new(),
    }));
    cross_check(Packet::Subscribe(Subscribe {
        packet_id: 2,
        filters,
        properties: Properties::new()
            .with(Property::SubscriptionIdentifier(16_384))
            .with_user_property("who", "inventory"),
    }));
    let codes: Vec<_> = codes_of(PacketKind::SubAck)
        .into_iter()
        .map(|c| SubscribeReturnCode::from_reason(c).unwrap())
        .collect();
    cross_check(Packet::SubAck(SubAck::new(2, codes.clone())));
    cross_check(Packet::SubAck(SubAck {
        properties: reason_props("quota"),
        ..SubAck::new(2, codes)
    }));
}

#[test]
fn unsubscribe_and_unsuback_with_every_code_match() {
    let unsubscribe = Unsubscribe {
        packet_id: 3,
        filters: vec!["orders/created".into(), "payments/#".into()],
        properties: Properties::new(),
    };
    cross_check(Packet::Unsubscribe(unsubscribe.clone()));
    cross_check(Packet::Unsubscribe(Unsubscribe {
        properties: Properties::new().with_user_property("why", "shutdown"),
        ..unsubscribe
    }));
    let reasons = codes_of(PacketKind::UnsubAck);
    cross_check(Packet::UnsubAck(UnsubAck {
        reasons: reasons.clone(),
        ..UnsubAck::new(3)
    }));
    cross_check(Packet::UnsubAck(UnsubAck {
        packet_id: 3,
        reasons,
        properties: reason_props("done"),
    }));
}

#[test]
fn disconnect_in_every_form_and_ping_match() {
    cross_check(Packet::PingReq);
    cross_check(Packet::PingResp);
    // Table 2-6 of the specification allows 0x8C (Bad authentication method) on DISCONNECT;
    // the DISCONNECT section's own table, which mqttbytes follows, leaves it out.
    let codes = codes_of(PacketKind::Disconnect);
    assert!(codes.contains(&ReasonCode::BadAuthenticationMethod));
    for reason in codes
        .into_iter()
        .filter(|c| *c != ReasonCode::BadAuthenticationMethod)
    {
        // Remaining length 0 (Normal disconnection) or 1 (bytes only, see the header).
        cross_check(Packet::Disconnect(Disconnect::new(reason)));
        // mqttbytes' order: 17, 31, 38…, 28.
        cross_check(Packet::Disconnect(Disconnect {
            reason,
            properties: Properties::new()
                .with(Property::SessionExpiryInterval(0))
                .with(Property::ReasonString(reason.describe().into()))
                .with_user_property("node", "b")
                .with(Property::ServerReference("broker-2:1883".into())),
        }));
    }
}

#[test]
fn auth_is_beyond_the_independent_codec() {
    // mqttbytes 0.6 has no AUTH: the most we can check is that it does not take our bytes for
    // some other packet.
    let ours = Packet::Auth(Auth::default()).encode(V5).unwrap();
    assert!(v5::read(&mut BytesMut::from(&ours[..]), usize::MAX).is_err());
}

proptest! {
    /// Publishes of any topic, payload, QoS, flags and common properties encode identically.
    #[test]
    fn any_v5_publish_matches_the_independent_codec(
        topic in "[a-z0-9/ _-]{1,40}",
        payload in proptest::collection::vec(any::<u8>(), 0..2000),
        qos in 0u8..3,
        packet_id in 1u16..,
        dup in any::<bool>(),
        retain in any::<bool>(),
        expiry in proptest::option::of(any::<u32>()),
        correlation in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        users in proptest::collection::vec(("[a-zA-Z]{0,8}", "[ -~]{0,16}"), 0..4),
        subscription_ids in proptest::collection::vec(1u32..=268_435_455, 0..3),
    ) {
        let qos = QoS::from_bits(qos).unwrap();
        let (packet_id, dup) = match qos {
            QoS::AtMostOnce => (None, false),
            _ => (Some(packet_id), dup),
        };
        let mut properties = Properties::new();
        if let Some(expiry) = expiry {
            properties.add(Property::MessageExpiryInterval(expiry));
        }
        if let Some(data) = correlation {
            properties.add(Property::CorrelationData(data));
        }
        for (k, v) in users {
            properties.add(Property::UserProperty(k, v));
        }
        for id in subscription_ids {
            properties.add(Property::SubscriptionIdentifier(id));
        }
        cross_check(Packet::Publish(Publish {
            packet_id,
            dup,
            retain,
            properties,
            ..Publish::new(topic, payload, qos)
        }));
    }
}
