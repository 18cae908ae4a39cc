//! OrderService's **outbox** (the transactional-outbox pattern): what follows from an append is
//! written in the same transaction as the events, and stays there until the broker has
//! acknowledged every message of it; a page that starts again publishes what is left.
//!
//! **What follows from an append** is what OrderService decided together with it, in the
//! decision's order ([`owed`]): each appended event's copy on `eventstore/orders/<orderId>` and
//! every message the decision publishes (the outcome, e.g. `orders/cancelled`, or a command).
//! They are kept as they were decided, topic and payload byte for byte: a decision run again
//! after a reload would differ (new ids, new times, a deadline already past), so what is
//! published again is what was decided, never a new decision. One row per decision, keyed by the
//! position of its last appended event; a decision that appends nothing owes nothing.
//!
//! **Acknowledged** means: PUBACK (QoS 1) or PUBCOMP (QoS 2) for the PUBLISH that carried it, or
//! sent at all for QoS 0 (MQTT 3.1.1 §4.3, 5.0 §4.3); a PUBLISH the broker refused (an MQTT 5.0
//! reason code of 0x80 or more) counts too: sending it again would be refused again. A message
//! is recognised on the wire by its topic and payload, so a publish that waited in the client's
//! offline queue (its packet id is given only when it is sent) is followed through its PUBLISH.
//!
//! A message that did go out before a reload but whose acknowledgement was not yet recorded is
//! published again: the consumers ignore what they processed already (a domain event by its
//! identity, e.g. the orderId of `orders/cancelled`; a stored event by its stream and version),
//! so the repeat is harmless. (A consumer in the reloaded page remembers nothing from before
//! the reload: it takes the repeat as new, and finds nothing to do, e.g. nothing to refund.)
//!
//! A message the client **refuses before sending** is settled too when the refusal can never
//! turn into a send ([`refused_for_good`]: its packet is larger than the broker's Maximum
//! Packet Size, its topic or properties break MQTT's rules): published again after every
//! reload, it would be refused again, every time. A refusal that may pass later (the offline
//! queue full, no packet identifier free) keeps the message owed.
//!
//! The driver feeds it: [`Outbox::owe`] with each decision's row, [`Outbox::handle_sent`] with
//! each PUBLISH OrderService's client sends, [`Outbox::handle_acknowledged`] with each PUBACK
//! or PUBCOMP (or refusal), [`Outbox::handle_refused`] with each refusal for good before
//! sending; each returns the positions now settled, whose rows it deletes.
//!
//! ```
//! use eda_core::store::outbox::{Outbox, OwedMessage};
//!
//! let cancelled = OwedMessage { topic: "orders/cancelled".into(), payload: "{}".into() };
//! let mut outbox = Outbox::default();
//! outbox.owe(7, vec![cancelled.clone()]);
//! // Queued while offline, then sent with packet id 3 once connected, and acknowledged.
//! assert_eq!(outbox.handle_sent("orders/cancelled", b"{}", Some(3)), Vec::<u64>::new());
//! assert_eq!(outbox.handle_acknowledged(3), vec![7]);
//! assert!(outbox.is_settled());
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use broker_bridge::SessionError;

use crate::services::Command;

/// Whether the client's refusal to publish (nothing was sent) is for good: the same message
/// would be refused again however often it is published. For good: a PUBLISH larger than the
/// broker's Maximum Packet Size (MQTT 5.0 §3.2.2.3.6, [MQTT-3.2.2-15]; the size of an owed
/// message never changes), a topic that breaks §4.7, a packet that cannot be encoded (e.g.
/// beyond MQTT's 256 MB Remaining Length) or properties PUBLISH may not carry. Not for good:
/// the offline queue full, every packet identifier in use, a QoS or retain flag above what the
/// broker allows (the page caps those to the broker's, so they pass next time).
pub fn refused_for_good(error: &SessionError) -> bool {
    match error {
        SessionError::PacketTooLarge { .. }
        | SessionError::InvalidTopic(_)
        | SessionError::Encode(_)
        | SessionError::PropertyNotForPublish(_) => true,
        SessionError::OfflineQueueFull { .. }
        | SessionError::NoPacketId
        | SessionError::QoSNotSupported { .. }
        | SessionError::RetainNotSupported
        | SessionError::NoLocalOnSharedSubscription(_) => false,
    }
}

/// One message that follows from an append: its topic (the flow's, without the page's
/// namespace) and its payload (JSON text), exactly as decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedMessage {
    /// The topic, e.g. `orders/cancelled` or `eventstore/orders/<orderId>`.
    pub topic: String,
    /// The payload, as published.
    pub payload: String,
}

/// The order whose compensation `message` asks for: the cancellation (`orders/cancelled`) or
/// the orchestrator's release and refund commands, by their `orderId`; `None` for any other
/// message.
pub fn compensated_order(message: &OwedMessage) -> Option<uuid::Uuid> {
    use crate::domain::topics::{
        COMMAND_REFUND_PAYMENT, COMMAND_RELEASE_INVENTORY, ORDERS_CANCELLED,
    };
    order_on(
        message,
        &[
            ORDERS_CANCELLED,
            COMMAND_RELEASE_INVENTORY,
            COMMAND_REFUND_PAYMENT,
        ],
    )
}

/// The `orderId` of `message` when its topic is one of `topics`.
fn order_on(message: &OwedMessage, topics: &[&str]) -> Option<uuid::Uuid> {
    if !topics.contains(&message.topic.as_str()) {
        return None;
    }
    crate::domain::events::order_id_in_payload(message.payload.as_bytes())
}

/// The order whose outcome `message` is (`orders/cancelled` or `orders/confirmed`), by its
/// `orderId`; `None` for any other message.
pub fn outcome_order(message: &OwedMessage) -> Option<uuid::Uuid> {
    use crate::domain::topics::{ORDERS_CANCELLED, ORDERS_CONFIRMED};
    order_on(message, &[ORDERS_CANCELLED, ORDERS_CONFIRMED])
}

/// What `commands` (one OrderService decision) owe the wire once their appends are stored: the
/// position of the last event appended, and each stored event's copy and each published
/// message, in the decision's order. `None` when the decision appends nothing.
pub fn owed(commands: &[Command]) -> Option<(u64, Vec<OwedMessage>)> {
    let position = commands.iter().rev().find_map(|command| match command {
        Command::Record(event) => Some(event.position),
        _ => None,
    })?;
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    let messages = commands
        .iter()
        .filter_map(|command| match command {
            Command::Record(event) => Some(OwedMessage {
                topic: event.topic(),
                payload: text(event.to_json()),
            }),
            Command::Publish(event) => Some(OwedMessage {
                topic: event.topic().to_owned(),
                payload: text(event.to_json()),
            }),
            _ => None,
        })
        .collect();
    Some((position, messages))
}

/// A row as the database keeps it: the messages as a JSON array of `{ topic, payload }`.
pub fn row_to_json(messages: &[OwedMessage]) -> String {
    serde_json::to_string(messages).unwrap_or_else(|_| "[]".to_owned())
}

/// A row read back from the database.
///
/// # Errors
/// The parser's message, for a row this page did not write.
pub fn row_from_json(json: &str) -> Result<Vec<OwedMessage>, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// The rows not settled yet, and the PUBLISH packets of theirs awaiting an acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    /// By position: the messages of the row not acknowledged yet, in order.
    unsettled: BTreeMap<u64, Vec<OwedMessage>>,
    /// Sent at QoS 1 or 2 and owed by a row: by packet identifier.
    in_flight: HashMap<u16, OwedMessage>,
}

impl Outbox {
    /// Remembers the row at `position` (the last event of its decision). An empty row is
    /// settled already and not kept.
    pub fn owe(&mut self, position: u64, messages: Vec<OwedMessage>) {
        if !messages.is_empty() {
            self.unsettled.insert(position, messages);
        }
    }

    /// OrderService's client sent a PUBLISH (not a DUP resend: the same packet id follows it)
    /// of `topic` (without the namespace) and `payload`, with `packet_id` (`None` at QoS 0).
    /// Returns the positions settled by it: a QoS 0 message is settled once sent.
    pub fn handle_sent(&mut self, topic: &str, payload: &[u8], packet_id: Option<u16>) -> Vec<u64> {
        let owed = self
            .unsettled
            .values()
            .flatten()
            .find(|m| m.topic == topic && m.payload.as_bytes() == payload)
            .cloned();
        match (owed, packet_id) {
            (Some(message), None) => self.settle(&message),
            (Some(message), Some(id)) => {
                self.in_flight.insert(id, message);
                Vec::new()
            }
            (None, Some(id)) => {
                // The id now carries a message no row owes.
                self.in_flight.remove(&id);
                Vec::new()
            }
            (None, None) => Vec::new(),
        }
    }

    /// The broker acknowledged (PUBACK, PUBCOMP) or refused the PUBLISH with `packet_id`.
    /// Returns the positions settled by it.
    pub fn handle_acknowledged(&mut self, packet_id: u16) -> Vec<u64> {
        match self.in_flight.remove(&packet_id) {
            Some(message) => self.settle(&message),
            None => Vec::new(),
        }
    }

    /// OrderService's client refused for good ([`refused_for_good`]), before sending it, the
    /// message on `topic` (without the namespace) with `payload`, or, `None` for a message
    /// that waited in the offline queue and broke the broker's limits once connected (the
    /// session names only its topic), the first owed message on `topic` not in flight: it is
    /// crossed off its row. Returns the positions settled by it.
    pub fn handle_refused(&mut self, topic: &str, payload: Option<&[u8]>) -> Vec<u64> {
        let in_flight: Vec<&OwedMessage> = self.in_flight.values().collect();
        let refused = self
            .unsettled
            .values()
            .flatten()
            .find(|m| {
                m.topic == topic
                    && match payload {
                        Some(payload) => m.payload.as_bytes() == payload,
                        None => !in_flight.contains(m),
                    }
            })
            .cloned();
        match refused {
            Some(message) => self.settle(&message),
            None => Vec::new(),
        }
    }

    /// The rows not settled, by position, each with the messages it still owes.
    pub fn unsettled(&self) -> impl Iterator<Item = (u64, &[OwedMessage])> {
        self.unsettled.iter().map(|(p, m)| (*p, m.as_slice()))
    }

    /// Every row is settled.
    pub fn is_settled(&self) -> bool {
        self.unsettled.is_empty()
    }

    /// Forgets every row (the database was emptied).
    pub fn clear(&mut self) {
        self.unsettled.clear();
        self.in_flight.clear();
    }

    /// Takes `message` off the first row that owes it; that row's position if it is now empty.
    fn settle(&mut self, message: &OwedMessage) -> Vec<u64> {
        let Some((&position, messages)) = self
            .unsettled
            .iter_mut()
            .find(|(_, messages)| messages.contains(message))
        else {
            return Vec::new();
        };
        if let Some(at) = messages.iter().position(|m| m == message) {
            messages.remove(at);
        }
        if messages.is_empty() {
            self.unsettled.remove(&position);
            return vec![position];
        }
        Vec::new()
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
