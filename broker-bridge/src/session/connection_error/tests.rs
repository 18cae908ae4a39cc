//! Every reason's text, as users read it today: a change here is a change users see (and
//! `e2e/interop/refusals.mjs` matches two of them).

use std::time::Duration;

use super::*;
use crate::packet::{Properties, Property};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn refused(protocol: ProtocolVersion, code: ReasonCode, properties: Properties) -> ConnectionError {
    ConnectionError::Refused {
        protocol,
        connack: ConnAck {
            properties,
            ..ConnAck::new(false, code)
        },
    }
}

fn disconnect(code: ReasonCode, properties: Properties) -> ConnectionError {
    ConnectionError::BrokerDisconnect(Disconnect {
        reason: code,
        properties,
    })
}

fn closed(code: u16, reason: &str) -> ConnectionError {
    ConnectionError::TransportClosed {
        code,
        reason: reason.into(),
    }
}

fn protocol(violation: ProtocolViolation) -> ConnectionError {
    ConnectionError::Protocol(violation)
}

#[test]
fn each_reason_reads_as_it_always_has() {
    use ProtocolVersion::{V311, V5};
    let none = Properties::new;
    let why = |text: &str| Properties::new().with(Property::ReasonString(text.into()));
    let table: Vec<(ConnectionError, &str)> =
        vec![
        (
            ConnectionError::ConnectTimeout {
                timeout: Duration::from_secs(10),
            },
            "no CONNACK from the broker within 10000 ms",
        ),
        (
            ConnectionError::KeepaliveTimeout {
                timeout: Duration::from_millis(2500),
            },
            "no PINGRESP from the broker within 2500 ms",
        ),
        (
            refused(V311, ReasonCode::ClientIdentifierNotValid, none()),
            "the broker refused the connection: the broker rejected the client id (return code 2)",
        ),
        (
            refused(V311, ReasonCode::NotAuthorized, none()),
            "the broker refused the connection: \
             not authorized (the broker refuses this client: a wrong password, a user it does not know, or anonymous clients not allowed in) (return code 5)",
        ),
        (
            // Not a 3.1.1 return code: only a hand-made CONNACK can carry it.
            refused(V311, ReasonCode::Banned, none()),
            "the broker refused the connection: Banned (0x8A)",
        ),
        (
            refused(V5, ReasonCode::UnsupportedProtocolVersion, none()),
            "the broker refused the connection: Unsupported Protocol Version (0x84)",
        ),
        (
            refused(
                V5,
                ReasonCode::UseAnotherServer,
                why("full").with(Property::ServerReference("broker-2:1883".into())),
            ),
            "the broker refused the connection: \
             Use another server (0x9C): full (server reference: broker-2:1883)",
        ),
        (
            disconnect(ReasonCode::SessionTakenOver, why("another client connected as c")),
            "the broker disconnected: Session taken over (0x8E): another client connected as c",
        ),
        (
            disconnect(ReasonCode::NORMAL_DISCONNECTION, none()),
            "the broker disconnected: Normal disconnection (0x00)",
        ),
        (
            protocol(ProtocolViolation::Malformed(DecodeError::ReservedPacketType(0))),
            "malformed packet from the broker: reserved packet type 0",
        ),
        (
            protocol(ProtocolViolation::Malformed(DecodeError::PacketTooLarge {
                size: 300,
                max: 256,
            })),
            "malformed packet from the broker: packet of 300 bytes exceeds the maximum of 256 \
             bytes",
        ),
        (
            protocol(ProtocolViolation::UnexpectedAuth),
            "the broker sent AUTH, but we asked for no extended authentication",
        ),
        (
            protocol(ProtocolViolation::ClientOnlyPacket(PacketKind::PingReq)),
            "the broker sent PINGREQ, which only clients send",
        ),
        (
            protocol(ProtocolViolation::SecondConnAck),
            "the broker sent a second CONNACK",
        ),
        (
            protocol(ProtocolViolation::TopicAlias(3)),
            "the broker sent Topic Alias 3, but we allow none (Topic Alias Maximum 0)",
        ),
        (
            protocol(ProtocolViolation::ReceiveMaximumExceeded { limit: 1 }),
            "the broker sent more than our Receive Maximum of 1 QoS 2 messages without waiting \
             for our acknowledgements",
        ),
        (
            ConnectionError::AnswerFailed(SessionError::NoPacketId),
            "could not answer the broker: all packet identifiers are in use",
        ),
        (
            ConnectionError::InvalidConnect(EncodeError::FieldTooLong {
                what: "client id",
                len: 70_000,
            }),
            "could not encode CONNECT: client id is 70000 bytes; at most 65535 fit",
        ),
        (
            ConnectionError::TransportClosed {
                code: ABNORMAL_CLOSURE,
                reason: String::new(),
            },
            "could not reach the broker: the WebSocket did not open",
        ),
        (
            ConnectionError::ClosedBeforeConnAck {
                transport: Box::new(ConnectionError::TransportClosed {
                    code: 1002,
                    reason: String::new(),
                }),
            },
            "the connection opened, then closed before the broker answered CONNECT \
             (WebSocket close code 1002)",
        ),
        (
            ConnectionError::ClosedAfterAccept {
                after: Duration::from_millis(50),
                in_a_row: 1,
                transport: Box::new(closed(ABNORMAL_CLOSURE, "")),
            },
            "accepted, then closed by the broker after 50 ms",
        ),
        (
            ConnectionError::ClosedAfterAccept {
                after: Duration::from_millis(1250),
                in_a_row: 3,
                transport: Box::new(closed(1008, "policy")),
            },
            "accepted, then closed by the broker after 1250 ms (3 times in a row) \
             (WebSocket close code 1008: policy)",
        ),
        (
            ConnectionError::TakenOver(Takeover::Inferred {
                after: Duration::from_secs(12),
                times: 2,
            }),
            "taken over by another client using this client id, it seems: the broker answered \
             this client, then closed the connection without a word while it was idle, 2 times \
             in a row (the last after 12 s)",
        ),
        (
            ConnectionError::TakenOver(Takeover::Said(Disconnect {
                reason: ReasonCode::SessionTakenOver,
                properties: why("another client connected as c"),
            })),
            "taken over by another client using this client id (the broker said: Session taken \
             over (0x8E): another client connected as c)",
        ),
        (
            ConnectionError::Dropped {
                after: Duration::from_secs(185),
                transport: Box::new(closed(1000, "")),
            },
            "the connection dropped after 3 min 5 s",
        ),
        (
            protocol(ProtocolViolation::SessionPresentOnCleanStart),
            "the broker claimed a session this client never had (Session Present in answer to \
             Clean Start)",
        ),
        (
            ConnectionError::TransportClosed {
                code: 1000,
                reason: String::new(),
            },
            "connection closed (code 1000)",
        ),
        (
            ConnectionError::TransportClosed {
                code: 1011,
                reason: "overloaded".into(),
            },
            "connection closed (code 1011: overloaded)",
        ),
        (
            ConnectionError::TransportFailed("the browser refused to open the WebSocket".into()),
            "the browser refused to open the WebSocket",
        ),
        (
            ConnectionError::TextFrame,
            "the broker sent a text frame; MQTT needs binary",
        ),
        (
            ConnectionError::Stopped("stopped while a recording is shown".into()),
            "stopped while a recording is shown",
        ),
    ];
    for (reason, text) in table {
        assert_eq!(reason.to_string(), text, "{reason:?}");
    }
}

#[test]
fn a_page_tells_refusals_timeouts_violations_and_stops_apart() {
    let refusal = refused(ProtocolVersion::V5, ReasonCode::Banned, Properties::new());
    let timeout = ConnectionError::KeepaliveTimeout {
        timeout: Duration::from_secs(10),
    };
    let violation = protocol(ProtocolViolation::SecondConnAck);
    let stopped = ConnectionError::Stopped("stopped".into());
    let dropped = ConnectionError::TransportClosed {
        code: ABNORMAL_CLOSURE,
        reason: String::new(),
    };
    let kinds = |r: &ConnectionError| {
        [
            r.is_refusal(),
            r.is_timeout(),
            r.is_protocol_violation(),
            r.is_stopped(),
        ]
    };
    assert_eq!(kinds(&refusal), [true, false, false, false]);
    assert_eq!(kinds(&timeout), [false, true, false, false]);
    assert_eq!(kinds(&violation), [false, false, true, false]);
    assert_eq!(
        kinds(&ConnectionError::TextFrame),
        [false, false, true, false]
    );
    assert_eq!(kinds(&stopped), [false, false, false, true]);
    assert_eq!(kinds(&dropped), [false; 4]);

    // Only a transport that never opened means nothing answers there.
    let young = ConnectionError::ClosedAfterAccept {
        after: Duration::from_millis(50),
        in_a_row: 1,
        transport: Box::new(dropped.clone()),
    };
    let late = ConnectionError::Dropped {
        after: Duration::from_secs(60),
        transport: Box::new(dropped.clone()),
    };
    let where_ = |r: &ConnectionError| [r.is_unreachable(), r.is_closed_after_accept()];
    assert_eq!(where_(&dropped), [true, false]);
    assert_eq!(
        where_(&ConnectionError::TransportFailed("bad URL".into())),
        [true, false]
    );
    assert_eq!(where_(&young), [false, true]);
    assert_eq!(where_(&late), [false, false]);
    assert_eq!(where_(&timeout), [false, false]);

    assert_eq!(refusal.reason_code(), Some(ReasonCode::Banned));
    let taken_over = disconnect(ReasonCode::SessionTakenOver, Properties::new());
    assert_eq!(taken_over.reason_code(), Some(ReasonCode::SessionTakenOver));
    assert_eq!(timeout.reason_code(), None);
    assert_eq!(violation.reason_code(), None, "our code, not the broker's");
}

#[test]
fn each_violation_is_answered_with_its_reason_code() {
    let table = [
        (
            ProtocolViolation::Malformed(DecodeError::Truncated),
            ReasonCode::MalformedPacket,
        ),
        (
            ProtocolViolation::Malformed(DecodeError::PacketTooLarge { size: 9, max: 8 }),
            ReasonCode::PacketTooLarge,
        ),
        (ProtocolViolation::UnexpectedAuth, ReasonCode::ProtocolError),
        (
            ProtocolViolation::ClientOnlyPacket(PacketKind::Subscribe),
            ReasonCode::ProtocolError,
        ),
        (ProtocolViolation::SecondConnAck, ReasonCode::ProtocolError),
        (
            ProtocolViolation::TopicAlias(1),
            ReasonCode::TopicAliasInvalid,
        ),
        (
            ProtocolViolation::ReceiveMaximumExceeded { limit: 4 },
            ReasonCode::ReceiveMaximumExceeded,
        ),
    ];
    for (violation, code) in table {
        assert_eq!(violation.reason_code(), code, "{violation:?}");
        assert!(
            code.allowed_in(PacketKind::Disconnect),
            "{code} on DISCONNECT"
        );
    }
}
