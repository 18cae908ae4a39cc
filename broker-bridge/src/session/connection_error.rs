//! Why a connection ended ([`ConnectionError`]), after quinn's `ConnectionLost { reason }`.
//!
//! Typed so a page can tell a refusal it should show and stop on from a loss that the next
//! reconnect may heal, and so tests match variants instead of words. The [`Display`] of each
//! variant is the sentence users read in the page's status strip and event log; end-to-end
//! tests (`e2e/`) match some of them, so a change of wording is a change of behaviour.
//!
//! [`Display`]: std::fmt::Display

use std::time::Duration;

use super::send::explain;
use super::SessionError;
use crate::packet::{
    ConnAck, ConnectReturnCode, DecodeError, Disconnect, EncodeError, PacketKind, ProtocolVersion,
    ReasonCode,
};

/// The WebSocket close code of a connection that ended without a close frame: refused, never
/// reached, or dropped (RFC 6455 §7.4.1). Browsers hide the real cause behind it on purpose.
pub const ABNORMAL_CLOSURE: u16 = 1006;

/// Why a connection is over: carried by [`Event::ConnectionLost`](super::Event::ConnectionLost)
/// and by [`Link::Disconnected`](crate::Link::Disconnected).
///
/// The session itself produces the variants from `OpenTimeout` to `InvalidConnect`; the
/// driver reports `TransportClosed`, `TransportFailed` and `TextFrame` through
/// [`Session::handle_transport_closed`](super::Session::handle_transport_closed), and the
/// session tells a transport that closed apart by what came before it: `ClosedBeforeConnAck`,
/// `ClosedAfterAccept`, `TakenOver` or `Dropped` (a transport that never opened stays
/// `TransportClosed` or `TransportFailed`: nothing answered). `Stopped` comes only from the
/// application.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// The transport (a WebSocket) did not open within
    /// [`Options::connect_timeout`](super::Options::connect_timeout) of starting to open it
    /// ([`Session::handle_transport_opening`](super::Session::handle_transport_opening)):
    /// something accepted the TCP connection and never answered the WebSocket handshake (a
    /// server that is no WebSocket listener), or a firewall drops the connection in silence.
    /// MQTT.js bounds the same wait with its `connectTimeout` (30 s by default).
    #[error(
        "no answer to the WebSocket opening handshake within {} ms",
        .timeout.as_millis()
    )]
    OpenTimeout {
        /// The wait that ran out (shown in whole milliseconds).
        timeout: Duration,
    },
    /// No CONNACK within [`Options::connect_timeout`](super::Options::connect_timeout) of
    /// starting to open the transport (or of opening it, when the driver did not say when it
    /// started). MQTT 3.1.1 §3.2 and 5.0 §3.2: the client "SHOULD close the
    /// Network Connection" after "a reasonable amount of time".
    // Whole milliseconds: float formatting would add kilobytes to the wasm.
    #[error("no CONNACK from the broker within {} ms", .timeout.as_millis())]
    ConnectTimeout {
        /// The wait that ran out (shown in whole milliseconds).
        timeout: Duration,
    },
    /// A PINGREQ went unanswered for [`Options::ping_timeout`](super::Options::ping_timeout)
    /// (MQTT 3.1.1 and 5.0 §3.1.2.10: the client "SHOULD close the Network Connection").
    #[error("no PINGRESP from the broker within {} ms", .timeout.as_millis())]
    KeepaliveTimeout {
        /// The wait that ran out (shown in whole milliseconds).
        timeout: Duration,
    },
    /// The broker answered CONNECT with a refusal: a 3.1.1 return code 1-5 (§3.2.2.3) or a 5.0
    /// reason code of 0x80 or more (§3.2.2.2), after which it closes the connection (3.1.1
    /// [MQTT-3.2.2-5], 5.0 [MQTT-3.2.2-7]). 3.1.1 codes are shown in words for the page, 5.0
    /// ones with the spec's name, the Reason String and the Server Reference.
    #[error("the broker refused the connection: {}", refusal(*.protocol, .connack))]
    Refused {
        /// The version the refused CONNECT spoke: it decides how the code reads.
        protocol: ProtocolVersion,
        /// The refusal; in 3.1.1 its code is the return code's 5.0 equivalent
        /// ([`ConnectReturnCode::reason`]).
        connack: ConnAck,
    },
    /// MQTT 5.0: the broker sent DISCONNECT (§3.14) with its reason code, e.g. 0x8E Session
    /// taken over, 0x9C Use another server (with a Server Reference, §4.11).
    #[error("the broker disconnected: {}", explain(.0.reason, PacketKind::Disconnect, &.0.properties))]
    BrokerDisconnect(Disconnect),
    /// The broker broke the protocol; in 5.0 the session first tells it why with a DISCONNECT
    /// (§4.13).
    #[error(transparent)]
    Protocol(#[from] ProtocolViolation),
    /// A packet the session must send in answer could not be sent: in practice the
    /// SUBSCRIBE that re-makes the subscriptions after CONNACK, when it is larger than the
    /// broker's Maximum Packet Size or no packet identifier is free.
    #[error("could not answer the broker: {0}")]
    AnswerFailed(SessionError),
    /// Our CONNECT cannot be encoded (e.g. a client id over 65,535 bytes, or a 5.0-only field
    /// in a 3.1.1 CONNECT): no broker will take these [`Options`](super::Options).
    #[error("could not encode CONNECT: {0}")]
    InvalidConnect(EncodeError),
    /// The transport opened, then closed before the broker answered CONNECT: something answers
    /// at that address, but it did not accept us as an MQTT client.
    #[error("the connection opened, then closed before the broker answered CONNECT{}", detail(.transport))]
    ClosedBeforeConnAck {
        /// How the transport closed ([`ConnectionError::TransportClosed`] or
        /// [`ConnectionError::TransportFailed`]).
        transport: Box<ConnectionError>,
    },
    /// The broker accepted CONNECT, then the transport closed, without an MQTT word, before the
    /// connection proved healthy (it had not lived
    /// [`Options::healthy_after`](super::Options::healthy_after) nor carried a message), the
    /// second time in a row or later (the first is [`ConnectionError::Dropped`]: a broker
    /// killed then looks the same). The reconnect delays keep growing while this repeats.
    #[error(
        "accepted, then closed by the broker after {}{}{}",
        duration_text(*.after),
        times(*.in_a_row),
        detail(.transport)
    )]
    ClosedAfterAccept {
        /// From CONNACK to the close.
        after: Duration,
        /// How many accepted connections in a row ended so (this one included), with no
        /// healthy one in between.
        in_a_row: u32,
        /// How the transport closed.
        transport: Box<ConnectionError>,
    },
    /// Another client connected with our client id, and the broker closed our connection to
    /// let it in (3.1.1 §3.1.4, 5.0 [MQTT-3.1.4-3]).
    #[error("taken over by another client using this client id{0}")]
    TakenOver(Takeover),
    /// A connection that had proved healthy (see
    /// [`Options::healthy_after`](super::Options::healthy_after)), or the first young one in a
    /// row, closed without an MQTT word: the broker went away, or the path to it (a young one
    /// closed twice in a row is [`ConnectionError::ClosedAfterAccept`]).
    #[error("the connection dropped after {}{}", duration_text(*.after), detail(.transport))]
    Dropped {
        /// From CONNACK to the close.
        after: Duration,
        /// How the transport closed.
        transport: Box<ConnectionError>,
    },
    /// The WebSocket closed: [`ABNORMAL_CLOSURE`] (1006) when there was no close frame, the
    /// usual way a browser reports a broker it could not reach or a connection that dropped;
    /// otherwise the broker's or a proxy's close code and reason (RFC 6455 §7.4). As an
    /// [`Event::ConnectionLost`](super::Event::ConnectionLost) reason: the socket never opened
    /// (once it had, the session reports one of the variants above).
    #[error("{}", transport_closed(*.code, .reason))]
    TransportClosed {
        /// The WebSocket close code.
        code: u16,
        /// The close frame's reason; empty when there was none.
        reason: String,
    },
    /// The transport could not be opened or failed, in the words of whoever noticed (e.g. the
    /// browser refusing a malformed URL).
    #[error("{0}")]
    TransportFailed(String),
    /// The broker sent a WebSocket text frame; MQTT travels in binary frames only, and the
    /// receiver "MUST close the Network Connection" ([MQTT-6.0.0-1], 3.1.1 and 5.0).
    #[error("the broker sent a text frame; MQTT needs binary")]
    TextFrame,
    /// Closed on purpose, or never started, by the application; never produced by the session
    /// or the driver. The text is shown as it is (a page showing a recording uses
    /// `stopped while a recording is shown`).
    #[error("{0}")]
    Stopped(String),
}

impl ConnectionError {
    /// The broker refused CONNECT. For the same client id, credentials and protocol version the
    /// answer is usually the same on every retry, so a page should show it rather than a
    /// spinner. [`ConnectionError::reason_code`] tells the exceptions: Server unavailable
    /// (0x88, 3.1.1's return code 3), Server busy (0x89) and Connection rate exceeded (0x9F)
    /// say to try again later.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ConnectionError::Refused { .. })
    }

    /// A refusal that retrying cannot fix: the same CONNECT gets the same answer until the
    /// user changes something. MQTT 5.0 reason codes (§3.2.2.2) 0x84 Unsupported Protocol
    /// Version, 0x85 Client Identifier not valid, 0x86 Bad User Name or Password, 0x87 Not
    /// authorized, 0x8A Banned, 0x8C Bad authentication method, and the refusals of what the
    /// CONNECT carries, the same on every try: 0x90 Topic Name invalid (the Will's topic), 0x95
    /// Packet too large (a newcomer's break-test, 34-J F4: Mosquitto's `message_size_limit`
    /// under a long Will was retried every few seconds for ever, the help saying the service
    /// "lost its connection") and 0x99 Payload format invalid (the Will's payload); and the MQTT
    /// 3.1.1 return codes (§3.2.2.3) 1, 2, 4 and 5, which read as the first four. Not 3.1.1's 3
    /// (Server unavailable, 0x88), 0x89 Server busy, 0x9F Connection rate exceeded, nor the
    /// other codes: a later try may succeed. (0x9A and 0x9B, for the Will's retain flag and QoS,
    /// are retried: the session lowers the Will first.)
    pub fn is_permanent_refusal(&self) -> bool {
        match self {
            ConnectionError::Refused { connack, .. } => matches!(
                connack.code,
                ReasonCode::UnsupportedProtocolVersion
                    | ReasonCode::ClientIdentifierNotValid
                    | ReasonCode::BadUserNameOrPassword
                    | ReasonCode::NotAuthorized
                    | ReasonCode::Banned
                    | ReasonCode::BadAuthenticationMethod
                    | ReasonCode::TopicNameInvalid
                    | ReasonCode::PacketTooLarge
                    | ReasonCode::PayloadFormatInvalid
            ),
            _ => false,
        }
    }

    /// No CONNACK or no PINGRESP in time: the broker or the path to it is slow or gone, and a
    /// reconnect may well succeed.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            ConnectionError::OpenTimeout { .. }
                | ConnectionError::ConnectTimeout { .. }
                | ConnectionError::KeepaliveTimeout { .. }
        )
    }

    /// The connect timeout ran out: the WebSocket did not open
    /// ([`ConnectionError::OpenTimeout`]) or opened and no CONNACK came
    /// ([`ConnectionError::ConnectTimeout`]). Something may well listen at the address (so
    /// "start the broker" is the wrong advice), but it did not answer as an MQTT broker's
    /// WebSocket listener does. The wait, or `None` for any other reason.
    pub fn unanswered_within(&self) -> Option<Duration> {
        match self {
            ConnectionError::OpenTimeout { timeout }
            | ConnectionError::ConnectTimeout { timeout } => Some(*timeout),
            _ => None,
        }
    }

    /// Nothing answered: the transport never opened (the driver's
    /// [`ConnectionError::TransportClosed`] or [`ConnectionError::TransportFailed`] for a socket
    /// that never opened), so the broker is not running there, or cannot be reached. The only
    /// case where "start the broker" is the right advice.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ConnectionError::TransportClosed { .. } | ConnectionError::TransportFailed(_)
        )
    }

    /// The broker accepted us, then the connection ended before it proved healthy, or another
    /// client took it over: reconnecting at once would only repeat it.
    pub fn is_closed_after_accept(&self) -> bool {
        matches!(
            self,
            ConnectionError::ClosedAfterAccept { .. } | ConnectionError::TakenOver(_)
        )
    }

    /// The broker broke MQTT (a malformed packet, a packet it must not send) or MQTT over
    /// WebSocket (a text frame): a broker bug or not an MQTT broker at all; retrying rarely
    /// helps.
    pub fn is_protocol_violation(&self) -> bool {
        matches!(
            self,
            ConnectionError::Protocol(_) | ConnectionError::TextFrame
        )
    }

    /// The application stopped the client; nothing will reconnect.
    pub fn is_stopped(&self) -> bool {
        matches!(self, ConnectionError::Stopped(_))
    }

    /// The broker's reason code: the refusing CONNACK's (a 3.1.1 return code as its 5.0
    /// equivalent) or the DISCONNECT's. `None` for losses the broker did not explain.
    pub fn reason_code(&self) -> Option<ReasonCode> {
        match self {
            ConnectionError::Refused { connack, .. } => Some(connack.code),
            ConnectionError::BrokerDisconnect(disconnect)
            | ConnectionError::TakenOver(Takeover::Said(disconnect)) => Some(disconnect.reason),
            _ => None,
        }
    }
}

/// What tells that another client took our connection over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Takeover {
    /// MQTT 5.0: the broker said so, with a DISCONNECT of reason 0x8E Session taken over.
    Said(Disconnect),
    /// Inferred: the broker accepted us and answered what we asked, then closed the connection
    /// without a word while we waited for nothing, `times` connections in a row. MQTT 3.1.1
    /// brokers close the older connection this way when a client connects with the same id
    /// (and over WebSocket a 5.0 broker's DISCONNECT is often lost with the socket).
    Inferred {
        /// How long the last connection lived after CONNACK.
        after: Duration,
        /// Connections in a row that ended so.
        times: u32,
    },
}

impl std::fmt::Display for Takeover {
    /// What follows "taken over by another client using this client id".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Takeover::Said(d) => write!(
                f,
                " (the broker said: {})",
                explain(d.reason, PacketKind::Disconnect, &d.properties)
            ),
            Takeover::Inferred { after, times } => write!(
                f,
                ", it seems: the broker answered this client, then closed the connection \
                 without a word while it was idle, {times} times in a row (the last after {})",
                duration_text(*after)
            ),
        }
    }
}

/// A fault of the broker that the session worked around: the connection carries on
/// ([`Event::BrokerFault`](super::Event::BrokerFault)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerFault {
    /// MQTT 3.1.1: Session Present 1 in answer to a CONNECT with Clean Session 1, which
    /// [MQTT-3.2.2-1] forbids. Not trusted: the session starts afresh and subscribes.
    #[error(
        "the broker claimed a session this client never had (Session Present in answer to \
         Clean Session, [MQTT-3.2.2-1]); subscribing anyway"
    )]
    SessionPresentOnCleanSession,
    /// A QoS 2 PUBLISH with DUP 0 and another topic or payload under a packet id whose earlier
    /// message still awaited its PUBREL: the broker forgot that exchange (restored from an older
    /// save) and reused the id. A repeat would carry DUP 1 ([MQTT-3.3.1-1]): the message is
    /// delivered as the new one it is.
    #[error(
        "the broker sent a new QoS 2 message on {topic} under packet id {packet_id}, whose \
         earlier message still awaited its PUBREL: it forgot that exchange (restored from an \
         older save?); the new message is delivered, not dropped as a repeat"
    )]
    ForgottenQos2 {
        /// The packet id reused.
        packet_id: u16,
        /// The new message's topic, as on the wire.
        topic: String,
    },
}

/// How the broker broke the protocol. The session detects these in what the broker sends and,
/// in MQTT 5.0, answers with a DISCONNECT carrying [`ProtocolViolation::reason_code`] before it
/// gives the connection up (§4.13).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolViolation {
    /// Bytes that are no valid packet, or a packet over our
    /// [`Options::max_packet_size`](super::Options::max_packet_size) (5.0 [MQTT-3.1.2-24]: the
    /// broker must not send one).
    #[error("malformed packet from the broker: {0}")]
    Malformed(DecodeError),
    /// AUTH, though our CONNECT had no Authentication Method (5.0 [MQTT-4.12.0-6]).
    #[error("the broker sent AUTH, but we asked for no extended authentication")]
    UnexpectedAuth,
    /// A packet only a client sends: CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, or (3.1.1)
    /// DISCONNECT.
    #[error("the broker sent {0}, which only clients send")]
    ClientOnlyPacket(PacketKind),
    /// A CONNACK on a connection that already had one (5.0 [MQTT-3.2.0-2]).
    #[error("the broker sent a second CONNACK")]
    SecondConnAck,
    /// A PUBLISH with a Topic Alias: our CONNECT's Topic Alias Maximum is 0, so the broker must
    /// send none (5.0 [MQTT-3.1.2-27]).
    #[error("the broker sent Topic Alias {0}, but we allow none (Topic Alias Maximum 0)")]
    TopicAlias(u16),
    /// MQTT 5.0: Session Present 1 in answer to a CONNECT with Clean Start 1. The broker must
    /// not ([MQTT-3.2.2-2]), and a client without session state that sees it must close the
    /// connection ([MQTT-3.2.2-4]).
    #[error("the broker claimed a session this client never had (Session Present in answer to Clean Start)")]
    SessionPresentOnCleanStart,
    /// More unacknowledged QoS 2 messages than our Receive Maximum (5.0 §3.1.2.11.3, §4.9).
    #[error(
        "the broker sent more than our Receive Maximum of {limit} QoS 2 messages without \
         waiting for our acknowledgements"
    )]
    ReceiveMaximumExceeded {
        /// Our Receive Maximum ([`Options::receive_maximum`](super::Options::receive_maximum)).
        limit: u16,
    },
    /// A SUBACK whose return (reason) codes are not one per topic filter of the SUBSCRIBE it
    /// answers (3.1.1 §3.9.3 [MQTT-3.8.4-5], 5.0 §3.9.3 [MQTT-3.9.3-1]). A newcomer's
    /// break-test: a SUBACK one code short left the last filter "asked" for good, in silence.
    #[error(
        "the broker's SUBACK answered {filters} topic filters with {codes} return codes (one \
         per filter is the rule)"
    )]
    SubAckCount {
        /// Topic filters in the SUBSCRIBE.
        filters: usize,
        /// Return (reason) codes in the SUBACK.
        codes: usize,
    },
}

impl ProtocolViolation {
    /// The reason code of the DISCONNECT the session sends for it in MQTT 5.0.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            ProtocolViolation::Malformed(DecodeError::PacketTooLarge { .. }) => {
                ReasonCode::PacketTooLarge
            }
            ProtocolViolation::Malformed(_) => ReasonCode::MalformedPacket,
            ProtocolViolation::UnexpectedAuth
            | ProtocolViolation::ClientOnlyPacket(_)
            | ProtocolViolation::SecondConnAck
            | ProtocolViolation::SessionPresentOnCleanStart
            | ProtocolViolation::SubAckCount { .. } => ReasonCode::ProtocolError,
            ProtocolViolation::TopicAlias(_) => ReasonCode::TopicAliasInvalid,
            ProtocolViolation::ReceiveMaximumExceeded { .. } => ReasonCode::ReceiveMaximumExceeded,
        }
    }
}

/// A refusing CONNACK in words: a 3.1.1 return code described, a 5.0 reason code explained.
pub(crate) fn refusal(protocol: ProtocolVersion, connack: &ConnAck) -> String {
    match protocol {
        ProtocolVersion::V311 => ConnectReturnCode::from_reason(connack.code).map_or_else(
            || connack.code.to_string(),
            |c| format!("{} (return code {})", c.describe(), c as u8),
        ),
        ProtocolVersion::V5 => explain(connack.code, PacketKind::ConnAck, &connack.properties),
    }
}

/// A duration for people to read: `50 ms` below ten seconds, `12 s` up to two minutes,
/// `3 min 5 s` beyond; whole units, rounded down (float formatting would add kilobytes to the
/// wasm). The page writes every duration a learner reads in a sentence so.
pub fn duration_text(d: Duration) -> String {
    let millis = d.as_millis();
    match d.as_secs() {
        _ if millis < 10_000 => format!("{millis} ms"),
        secs @ 0..=119 => format!("{secs} s"),
        secs => format!("{} min {} s", secs / 60, secs % 60),
    }
}

fn times(in_a_row: u32) -> String {
    if in_a_row > 1 {
        format!(" ({in_a_row} times in a row)")
    } else {
        String::new()
    }
}

/// What the transport said, when it said more than "closed" (a close frame with a code other
/// than 1000 or 1005, or a reason; or the words of whoever noticed a failure).
fn detail(transport: &ConnectionError) -> String {
    match transport {
        ConnectionError::TransportClosed { code, reason }
            if reason.is_empty() && matches!(*code, ABNORMAL_CLOSURE | 1000 | 1005) =>
        {
            String::new()
        }
        ConnectionError::TransportClosed { code, reason } if reason.is_empty() => {
            format!(" (WebSocket close code {code})")
        }
        ConnectionError::TransportClosed { code, reason } => {
            format!(" (WebSocket close code {code}: {reason})")
        }
        other => format!(" ({other})"),
    }
}

fn transport_closed(code: u16, reason: &str) -> String {
    match code {
        ABNORMAL_CLOSURE => "could not reach the broker: the WebSocket did not open".to_owned(),
        code if reason.is_empty() => format!("connection closed (code {code})"),
        code => format!("connection closed (code {code}: {reason})"),
    }
}

mod advice;
#[cfg(test)]
mod tests;
