//! MQTT over WebSocket for the browser.
//!
//! The protocol lives in a sans-I/O core that reads no clock and touches no browser API, so it
//! is tested natively on virtual time; [`ws`] (wasm32 only) is the thin driver that feeds it
//! from a browser `WebSocket` and timers.
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

pub mod backoff;
pub mod codec;
#[doc(hidden)]
pub mod fuzzing;
pub mod inflight;
pub mod keepalive;
pub mod packet;
pub mod session;
pub mod topic;
pub mod trace;
pub mod url;
#[cfg(target_arch = "wasm32")]
pub mod ws;

pub use packet::{LastWill, Packet, PacketKind, Publish, QoS, SubscribeReturnCode};
pub use session::{Event, Options, Publishing, Session, SessionError, Status};
pub use trace::{Direction, PacketEvent};
