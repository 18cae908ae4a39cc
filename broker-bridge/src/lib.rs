//! MQTT over WebSocket for the browser, MQTT 3.1.1 or 5.0.
//!
//! The protocol lives in a sans-I/O core that reads no clock and touches no browser API, so it
//! is tested natively on virtual time; `ws` (wasm32, feature `browser`) is the thin driver that
//! feeds it from a browser `WebSocket` and timers.
//!
//! Driving a [`Session`] by hand (this is all a driver does):
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::{Event, Options, QoS, Session};
//!
//! let mut session = Session::new(Options::new("eda-demo-payment"));
//! session.subscribe(Duration::ZERO, &[("orders/created", QoS::AtLeastOnce)]).unwrap();
//!
//! // The WebSocket opened: the session queues CONNECT.
//! session.handle_transport_open(Duration::ZERO);
//! let connect = session.poll_transmit().unwrap();
//! assert_eq!(connect[0] >> 4, 1);
//!
//! // The broker's CONNACK arrives (possibly split across frames).
//! session.handle_bytes(Duration::from_millis(5), &[0x20, 0x02, 0x00, 0x00]);
//! let mut connected = false;
//! while let Some(event) = session.poll_event() {
//!     connected |= matches!(event, Event::Connected { .. });
//! }
//! assert!(connected);
//! // …and the SUBSCRIBE asked for earlier goes out now.
//! assert_eq!(session.poll_transmit().unwrap()[0], 0x82);
//! // Re-arm one timer for `session.poll_timeout()` and call `handle_timeout` when it fires.
//! assert_eq!(session.poll_timeout(), Some(Duration::from_millis(5) + Duration::from_secs(30)));
//! ```
//!
//! ## MQTT 5.0
//!
//! The protocol version is chosen per connection in [`Options::protocol`] (3.1.1 unless set).
//! The same calls drive a 5.0 session; it adds properties and reason codes both ways, obeys the
//! broker's CONNACK (Server Keep Alive, Receive Maximum, Maximum Packet Size …) and explains
//! refusals in words:
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{ConnAck, Packet, Property};
//! use broker_bridge::{
//!     Event, Options, ProtocolVersion, PublishRequest, Publishing, QoS, ReasonCode, Session,
//! };
//!
//! let mut options = Options::new("eda-demo-order");
//! options.protocol = ProtocolVersion::V5;
//! options.session_expiry = Some(Duration::from_secs(600)); // the broker keeps our session
//! let mut session = Session::new(options);
//! session.handle_transport_open(Duration::ZERO);
//! let connect = session.poll_transmit().unwrap();
//! assert_eq!(connect[8], 5, "protocol level 5");
//!
//! // The broker accepts, and allows one QoS 1/2 message in flight at a time.
//! let mut connack = ConnAck::new(false, ReasonCode::Success);
//! connack.properties.add(Property::ReceiveMaximum(1));
//! let bytes = Packet::ConnAck(connack).encode(ProtocolVersion::V5).unwrap();
//! session.handle_bytes(Duration::from_millis(5), &bytes);
//!
//! // Properties travel with the message; the second waits for the first one's PUBACK.
//! let order = |id: &str| {
//!     PublishRequest::new("orders/created", b"{}".to_vec(), QoS::AtLeastOnce)
//!         .with_user_property("correlationId", id)
//!         .with_property(Property::MessageExpiryInterval(60))
//! };
//! let now = Duration::from_millis(6);
//! assert!(matches!(session.publish_with(now, order("a")), Ok(Publishing::Sent { .. })));
//! assert_eq!(session.publish_with(now, order("b")), Ok(Publishing::Queued { queued: 1 }));
//!
//! // A refusal comes back as an event with the spec's words for the reason code.
//! session.handle_bytes(now, &[0x40, 0x03, 0x00, 0x01, 0x97]); // PUBACK 1: Quota exceeded
//! let failed = std::iter::from_fn(|| session.poll_event()).find_map(|e| match e {
//!     Event::PublishFailed { reason, .. } => Some(reason),
//!     _ => None,
//! });
//! assert_eq!(
//!     failed.as_deref(),
//!     Some("the broker refused the message: Quota exceeded (0x97)")
//! );
//! assert_eq!(session.queued(), 0, "the freed slot sent the waiting message");
//! ```
//!
//! ## When a connection ends
//!
//! [`Event::ConnectionLost`] (and the driver's [`Link::Disconnected`]) carry a
//! [`ConnectionError`]: match it, or show its `Display`, the sentence the page has always shown.
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::{ConnectionError, Event, Options, Session};
//!
//! let mut session = Session::new(Options::new("eda-demo-inventory"));
//! session.handle_transport_open(Duration::ZERO);
//! session.handle_timeout(Duration::from_secs(10)); // no CONNACK came
//! let reason = std::iter::from_fn(|| session.poll_event())
//!     .find_map(|e| match e {
//!         Event::ConnectionLost { reason } => Some(reason),
//!         _ => None,
//!     })
//!     .unwrap();
//! assert_eq!(reason, ConnectionError::ConnectTimeout { timeout: Duration::from_secs(10) });
//! assert!(reason.is_timeout() && !reason.is_refusal());
//! assert_eq!(reason.to_string(), "no CONNACK from the broker within 10000 ms");
//! ```
//!
//! A transport that closes is told apart by what came before it, and the reconnect delays grow
//! until a connection proves healthy (it lived [`Options::healthy_after`] or carried a message),
//! not merely until the broker accepts it:
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::session::ABNORMAL_CLOSURE;
//! use broker_bridge::{ConnectionError, Event, Options, Session};
//!
//! let ms = Duration::from_millis;
//! let mut session = Session::new(Options::new("eda-demo-payment"));
//! let mut delays = Vec::new();
//! for start in [ms(0), ms(600), ms(1700)] {
//!     // Accepted, then closed 50 ms later, three times.
//!     session.handle_transport_open(start);
//!     session.handle_bytes(start, &[0x20, 0x02, 0x00, 0x00]);
//!     let dropped = ConnectionError::TransportClosed { code: ABNORMAL_CLOSURE, reason: String::new() };
//!     session.handle_transport_closed(start + ms(50), dropped);
//!     delays.push(session.reconnect_delay(0.0)); // jitter is an input: 0 for none
//! }
//! assert_eq!(delays, [ms(500), ms(1000), ms(2000)]);
//! let reason = std::iter::from_fn(|| session.poll_event())
//!     .filter_map(|e| match e {
//!         Event::ConnectionLost { reason } => Some(reason.to_string()),
//!         _ => None,
//!     })
//!     .last();
//! assert_eq!(
//!     reason.as_deref(),
//!     Some("accepted, then closed by the broker after 50 ms (3 times in a row)")
//! );
//! ```
//!
//! ## Features
//!
//! - `browser` (default): the `ws` driver (and its `MessagePort` transport, `port`) on wasm32;
//!   nothing on other targets. Without it the crate pulls in no browser crate.
//! - `fuzzing`: `broker_bridge::fuzzing`, the body of the fuzz target in `fuzz/`; not an API.

#![warn(missing_docs)]

pub mod backoff;
pub mod capabilities;
pub mod codec;
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub mod early;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod inflight;
pub mod keepalive;
pub mod learned_limits;
pub mod link;
pub mod packet;
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub mod port;
pub mod session;
pub mod topic;
pub mod trace;
pub mod url;
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
// The driver: the one place of this crate that reads the page's clock, for the session.
#[allow(clippy::disallowed_methods)]
pub mod ws;

pub use link::Link;
pub use packet::{
    LastWill, Packet, PacketKind, Properties, Property, ProtocolVersion, Publish, QoS, ReasonCode,
    SubscribeReturnCode, SubscriptionOptions,
};
pub use session::{
    BrokerFault, ConnectionError, DeliveryToken, Event, Options, ProtocolViolation, PublishRequest,
    Publishing, Session, SessionError, Status, Takeover,
};
pub use trace::{Direction, PacketEvent, SkippedPayload};

// Unit tests built for wasm32 run in headless Chromium, like `tests/browser.rs`.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
