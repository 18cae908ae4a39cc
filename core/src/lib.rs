//! The playground's pure core: everything the page decides, with no clock, no randomness and
//! no browser. The frontend crate drives it (a WebSocket client per service, browser timers, the
//! page's clock, Yew); tests drive it on virtual time.
//!
//! Layers point one way, each using only those before it:
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | the defaults a user may change: broker URL, delays, QoS, MQTT version |
//! | [`outside_text`] | text from outside shown as it is: invisible characters named, right-to-left runs isolated |
//! | [`domain`] | the messages and topics (the seed's JSON, byte for byte, and the saga's), the order aggregate, timestamps, money, the order form's rules |
//! | [`store`] | event sourcing and CQRS: OrderService's event store (a stream per order), QueryService's read model, AnalyticsService's figures |
//! | [`services`] | the four services as decisions over what they remember ([`services::Flow`]): `handle(message) -> commands`; simulated work and the saga's deadline as scheduled commands; the saga (OrderService's process manager) in its three styles |
//! | [`trace`] | every packet the clients saw, the user's clicks and what the services did; the orders as the wire tells them; the playback clock; the sequence and flow diagrams' geometry; recordings |
//! | [`state`] | the page's state, its one reducer, and the link's grammar |
//! | [`analytics`] | AnalyticsService: the store's figures and the broker round trip as the page shows them (headlines, CSV, the charts' geometry) |
//!
//! What keeps the line: this crate depends on no browser crate on any target (it uses
//! `broker-bridge` without its `browser` feature), and clippy refuses clock reads and fresh
//! random ids here (`clippy.toml`; `scripts/lib/purity-probe.sh` shows it). Time comes in as a
//! `Duration` on the packets' clock or a [`domain::Timestamp`]; ids come in as arguments.
//!
//! Driving the core by hand, as the page does (a link opens the page, a service receives an
//! order and works on it, its packets and work go into the trace, the flow diagram reads its
//! badge):
//!
//! ```
//! use std::time::Duration;
//! use broker_bridge::packet::{Packet, Publish};
//! use broker_bridge::{Direction, PacketEvent, ProtocolVersion, QoS};
//! use eda_core::domain::{topics, Timestamp};
//! use eda_core::services::{Command, Flow, ServiceId};
//! use eda_core::state::State;
//! use eda_core::trace::flow::service_state;
//! use eda_core::trace::service_status::ServiceEvent;
//! use eda_core::trace::Trace;
//! use uuid::Uuid;
//!
//! // The page opens with a link; the session tag would be random in the browser.
//! let state = State::from_link([("payment_ms", "200")], "a1b2c3");
//! assert_eq!(state.service(ServiceId::Payment).client_id, "eda-a1b2c3-payment");
//!
//! // PaymentService's client receives the seed's order at 5 ms on the packets' clock.
//! let order = br#"{"orderId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","customerId":"C123",
//!     "items":[{"productId":"P001","quantity":2,"price":29.99}],"totalAmount":59.98,
//!     "createdAt":"2024-01-15T10:30:00.000Z"}"#;
//! let mut trace = Trace::default();
//! let packet = Packet::Publish(Publish::new(topics::ORDERS_CREATED, order.to_vec(), QoS::AtMostOnce));
//! let at = Duration::from_millis(5);
//! let bytes = packet.encode(ProtocolVersion::V311).unwrap();
//! let event = PacketEvent { at, client_id: "eda-a1b2c3-payment".into(), direction: Direction::Incoming, packet, bytes, protocol: ProtocolVersion::V311, skipped: None };
//! trace.packets.record(ServiceId::Payment, &event);
//!
//! // Its decision: work for 200 ms (the link's delay), then publish the payment.
//! let mut flow = Flow::new(state.flow.clone());
//! let received = Timestamp::from_unix_millis(1_705_314_600_005).unwrap();
//! let mut commands = flow.handle(ServiceId::Payment, received, topics::ORDERS_CREATED, order).unwrap();
//! let Some(Command::Schedule { after, work }) = commands.pop() else { panic!("payment works first") };
//! let order_id = work.order_id();
//! trace.services.record(at, ServiceId::Payment, ServiceEvent::WorkStarted { order_id, due: at + after });
//!
//! // The flow diagram's badge, 50 ms later: working, 0.2 s to go (tenths, rounded up).
//! let (_, status) = &trace.statuses()[1];
//! let badge = service_state(ServiceId::Payment, status, at + Duration::from_millis(50));
//! assert_eq!(badge.activity_text().as_deref(), Some("◔ working 0.2 s"));
//!
//! // The driver's timer fires; the time and a fresh id are its inputs.
//! let fired = Timestamp::from_unix_millis(1_705_314_601_000).unwrap();
//! let published = flow.complete(work, fired, Uuid::from_u128(1));
//! assert!(matches!(&published[..], [Command::Publish(e)] if e.topic() == topics::PAYMENTS_PROCESSED));
//! ```

pub mod analytics;
pub mod config;
pub mod domain;
pub mod outside_text;
pub mod services;
mod stable_sort;
pub mod state;
pub mod store;
pub mod trace;

#[cfg(feature = "purity-probe")]
pub mod purity_probe;
