//! The sequence diagram as data: which arrows to draw between which lifelines, in what order,
//! for the current view (one order or all, control packets or not).
//!
//! Every service's client is its own connection, so a packet is drawn on the leg it crossed:
//! what OrderService's client sent goes OrderService → Broker, what the broker delivered to
//! PaymentService's client goes Broker → PaymentService. One message at QoS 1 is thus a PUBLISH
//! and a PUBACK on the publisher's leg and again on each subscriber's.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use broker_bridge::{Direction, Packet, PacketKind};
use uuid::Uuid;

pub mod export;
pub mod follow;
pub mod rows;

use super::history::{PacketHistory, UserAction};
use super::packet::{Mark, Participant, TracedPacket};
use super::playback::shows;
use crate::outside_text::isolate;
use crate::services::ServiceId;

/// The seed diagram's columns, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lifeline {
    Client,
    OrderService,
    Broker,
    PaymentService,
    InventoryService,
    NotificationService,
    /// The read side, after the seed's columns.
    QueryService,
    /// The page's status monitor ([`Participant::Monitor`]): the Last Wills and the retained
    /// stock levels are delivered to it.
    StatusMonitor,
}

impl Lifeline {
    /// In the seed's order, then the read side and the status monitor.
    pub const ALL: [Lifeline; 8] = [
        Lifeline::Client,
        Lifeline::OrderService,
        Lifeline::Broker,
        Lifeline::PaymentService,
        Lifeline::InventoryService,
        Lifeline::NotificationService,
        Lifeline::QueryService,
        Lifeline::StatusMonitor,
    ];

    /// The heading the seed gives the column.
    pub fn name(self) -> &'static str {
        match self {
            Lifeline::Client => "Client",
            Lifeline::Broker => "MQTT Broker",
            Lifeline::OrderService => ServiceId::Order.name(),
            Lifeline::PaymentService => ServiceId::Payment.name(),
            Lifeline::InventoryService => ServiceId::Inventory.name(),
            Lifeline::NotificationService => ServiceId::Notification.name(),
            Lifeline::QueryService => ServiceId::Query.name(),
            Lifeline::StatusMonitor => Participant::Monitor.name(),
        }
    }

    /// One word, for Mermaid participants and element ids.
    pub fn ident(self) -> &'static str {
        match self {
            Lifeline::Broker => "Broker",
            Lifeline::StatusMonitor => "StatusMonitor",
            other => other.name(),
        }
    }

    /// Its column, from 0.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_service(service: ServiceId) -> Lifeline {
        match service {
            ServiceId::Order => Lifeline::OrderService,
            ServiceId::Payment => Lifeline::PaymentService,
            ServiceId::Inventory => Lifeline::InventoryService,
            ServiceId::Notification => Lifeline::NotificationService,
            ServiceId::Query => Lifeline::QueryService,
        }
    }

    /// The lifeline of whoever's client saw a packet.
    pub fn of(participant: Participant) -> Lifeline {
        match participant {
            Participant::Service(service) => Lifeline::from_service(service),
            Participant::Monitor => Lifeline::StatusMonitor,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrowKind {
    Packet(PacketKind),
    /// The user places an order (the seed's `POST Order`).
    PlaceOrder,
    /// OrderService answers with the order id at once (the seed's `200 OK`).
    OrderAccepted,
}

impl ArrowKind {
    /// Answers and the steps of the publish handshakes: drawn dashed, as UML draws replies.
    pub fn is_reply(self) -> bool {
        use PacketKind as K;
        match self {
            ArrowKind::Packet(kind) => matches!(
                kind,
                K::ConnAck
                    | K::PubAck
                    | K::PubRec
                    | K::PubRel
                    | K::PubComp
                    | K::SubAck
                    | K::UnsubAck
                    | K::PingResp
            ),
            ArrowKind::PlaceOrder => false,
            ArrowKind::OrderAccepted => true,
        }
    }

    /// Connection housekeeping rather than the flow's messages: hidden unless asked for.
    pub fn is_control(self) -> bool {
        use PacketKind as K;
        matches!(
            self,
            ArrowKind::Packet(
                K::Connect
                    | K::ConnAck
                    | K::Subscribe
                    | K::SubAck
                    | K::Unsubscribe
                    | K::UnsubAck
                    | K::PingReq
                    | K::PingResp
                    | K::Disconnect
                    | K::Auth
            )
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrow {
    pub from: Lifeline,
    pub to: Lifeline,
    pub label: String,
    pub at: Duration,
    /// The packet to open when the arrow is clicked; `None` for the user's actions.
    pub packet_seq: Option<u64>,
    /// The order the packet carries, or, for an acknowledgement, the order of the PUBLISH it
    /// acknowledges.
    pub order_id: Option<Uuid>,
    pub kind: ArrowKind,
    /// A failure or compensation the packet carries: drawn in its colour, and its label starts
    /// with the mark's symbol.
    pub mark: Option<Mark>,
}

/// What the diagram shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// Only this order's messages and their acknowledgements.
    pub order: Option<Uuid>,
    /// CONNECT, SUBSCRIBE, PINGREQ … and their answers.
    pub control_packets: bool,
    /// Only what the playback shows ([`super::playback::Playback::shown`]); `None`: all.
    pub shown: Option<super::playback::Shown>,
}

/// The arrows of `view`, by time. At the same instant the click comes first, then the packets
/// in the order they were traced, then OrderService's answer, as the seed draws them.
pub fn arrows<'a>(
    history: &PacketHistory,
    actions: impl IntoIterator<Item = &'a UserAction>,
    view: &View,
) -> Vec<Arrow> {
    let orders = packet_orders(history);
    let wanted = |order: Option<Uuid>| view.order.is_none_or(|want| order == Some(want));
    // (time, rank at that time, seq or action index, arrow): sorted on the first three.
    let mut keyed: Vec<(Duration, u8, u64, Arrow)> = Vec::new();
    for packet in history {
        let kind = ArrowKind::Packet(packet.kind);
        let order_id = orders.get(&packet.seq).copied();
        let hidden = !shows(view.shown, packet.seq);
        if hidden || (kind.is_control() && !view.control_packets) || !wanted(order_id) {
            continue;
        }
        let service = Lifeline::of(packet.participant);
        let (from, to) = match packet.direction {
            Direction::Outgoing => (service, Lifeline::Broker),
            Direction::Incoming => (Lifeline::Broker, service),
        };
        let mark = packet.mark();
        let label = match mark {
            Some(mark) => format!("{} {}", mark.symbol(), packet_label(packet)),
            None => packet_label(packet),
        };
        let arrow = Arrow {
            from,
            to,
            label,
            at: packet.at,
            packet_seq: Some(packet.seq),
            order_id,
            kind,
            mark,
        };
        keyed.push((packet.at, 1, packet.seq, arrow));
    }
    // Once the history has dropped packets, a click older than its oldest packet lost its
    // order's packets: its arrows would stand alone above the rest, and there can be ~2000 of
    // them (the clicks are kept as long as the packets, one per order, not one per packet).
    let kept_since = (history.dropped() > 0)
        .then(|| history.iter().next().map(|p| p.at))
        .flatten();
    for (index, action) in (0u64..).zip(actions) {
        let UserAction::PlacedOrder { at, order_id } = *action else {
            continue;
        };
        if !wanted(Some(order_id))
            || view.shown.is_some_and(|s| !s.action(at))
            || kept_since.is_some_and(|since| at < since)
        {
            continue;
        }
        let arrow = |from, to, label: String, kind| Arrow {
            from,
            to,
            label,
            at,
            packet_seq: None,
            order_id: Some(order_id),
            kind,
            mark: None,
        };
        let (client, order) = (Lifeline::Client, Lifeline::OrderService);
        let short = &order_id.to_string()[..8];
        keyed.push((
            at,
            0,
            index,
            arrow(client, order, "Place order".into(), ArrowKind::PlaceOrder),
        ));
        let accepted = arrow(
            order,
            client,
            format!("orderId {short}…"),
            ArrowKind::OrderAccepted,
        );
        keyed.push((at, 2, index, accepted));
    }
    crate::stable_sort::by_key(&mut keyed, |(at, rank, seq, _)| (*at, *rank, *seq));
    keyed.into_iter().map(|(.., arrow)| arrow).collect()
}

/// Each arrow's time since the first of the view, in whole milliseconds, for its label.
pub fn relative_ms(arrows: &[Arrow]) -> Vec<u64> {
    let start = arrows.iter().map(|a| a.at).min().unwrap_or_default();
    arrows
        .iter()
        .map(|a| u64::try_from(a.at.saturating_sub(start).as_millis()).unwrap_or(u64::MAX))
        .collect()
}

/// The order of every packet that has one, by `seq`: its own (correlation property or
/// payload), or for PUBACK, PUBREC, PUBREL and PUBCOMP that of the PUBLISH they acknowledge.
///
/// A handshake belongs to one client and one direction of publishing: the client numbers its
/// own publishes and the broker numbers its deliveries to that client, independently, so the
/// same id can be in flight both ways. The PUBLISH's direction is the opposite of PUBACK's,
/// PUBREC's and PUBCOMP's, and the same as PUBREL's. PUBACK and PUBCOMP end the handshake.
pub fn packet_orders(history: &PacketHistory) -> HashMap<u64, Uuid> {
    let mut open: HashMap<(Participant, Direction, u16), Option<Uuid>> = HashMap::new();
    let mut orders = HashMap::new();
    for packet in history {
        let mut order = packet.order_id;
        match (packet.kind, packet.packet_id) {
            (PacketKind::Publish, Some(id)) => {
                open.insert((packet.participant, packet.direction, id), packet.order_id);
            }
            (
                kind @ (PacketKind::PubAck
                | PacketKind::PubRec
                | PacketKind::PubRel
                | PacketKind::PubComp),
                Some(id),
            ) => {
                let publish_direction = match (kind, packet.direction) {
                    (PacketKind::PubRel, same) => same,
                    (_, Direction::Outgoing) => Direction::Incoming,
                    (_, Direction::Incoming) => Direction::Outgoing,
                };
                let key = (packet.participant, publish_direction, id);
                let flow = match kind {
                    PacketKind::PubAck | PacketKind::PubComp => open.remove(&key),
                    _ => open.get(&key).copied(),
                };
                order = order.or(flow.flatten());
            }
            _ => {}
        }
        if let Some(order) = order {
            orders.insert(packet.seq, order);
        }
    }
    orders
}

/// The orders in the trace, first seen first: the choices of the diagram's order filter.
pub fn orders_in<'a>(
    history: &PacketHistory,
    actions: impl IntoIterator<Item = &'a UserAction>,
) -> Vec<Uuid> {
    let mut seen: Vec<(Duration, Uuid)> = actions
        .into_iter()
        .filter_map(|a| Some((a.at(), a.order_id()?)))
        .chain(history.iter().filter_map(|p| Some((p.at, p.order_id?))))
        .collect();
    crate::stable_sort::by_key(&mut seen, |(at, _)| *at);
    let mut unique = HashSet::new();
    seen.into_iter()
        .filter_map(|(_, order)| unique.insert(order).then_some(order))
        .collect()
}

/// `PUBLISH orders/created (QoS 1, id 3)`, `PUBACK (id 3)`, `SUBSCRIBE orders/created`,
/// `CONNECT`; a refusal follows a colon. Topics, filters and reasons came from outside: their
/// invisible characters are named and right-to-left ones isolated ([`isolate`]).
fn packet_label(packet: &TracedPacket) -> String {
    let name = packet.kind.name();
    let mut label = match packet.packet.as_ref() {
        Packet::Publish(publish) => {
            let mut details = vec![format!("QoS {}", publish.qos.level())];
            details.extend(publish.packet_id.map(|id| format!("id {id}")));
            details.extend(publish.dup.then(|| "DUP".to_owned()));
            details.extend(publish.retain.then(|| "RETAIN".to_owned()));
            // A retained PUBLISH with no payload clears what the broker retains on its topic
            // (MQTT 3.1.1 §3.3.1.3, 5.0 §3.3.1.3): said, or it reads like any other
            // (a break-test, 37-U F7).
            if publish.retain && publish.payload.is_empty() {
                details.push("empty: clears the retained message".to_owned());
            }
            let topic = match publish.properties.topic_alias() {
                Some(alias) if publish.topic.is_empty() => format!("[topic alias {alias}]"),
                _ => isolate(&publish.topic).into_owned(),
            };
            format!("{name} {topic} ({})", details.join(", "))
        }
        Packet::Subscribe(subscribe) => {
            let filters: Vec<_> = subscribe.filters.iter().map(|(f, _)| isolate(f)).collect();
            format!("{name} {}", filters.join(", "))
        }
        Packet::Unsubscribe(unsubscribe) => {
            let filters: Vec<_> = unsubscribe.filters.iter().map(|f| isolate(f)).collect();
            format!("{name} {}", filters.join(", "))
        }
        _ => match packet.packet_id {
            Some(id) => format!("{name} (id {id})"),
            None => name.to_owned(),
        },
    };
    if let Some(reason) = &packet.reason {
        label.push_str(": ");
        label.push_str(&isolate(reason));
    }
    // Competing consumers share PaymentService's lifeline: a further instance is named.
    if let Some(instance) = packet.further_instance() {
        label.push_str(" · ");
        label.push_str(&instance.name());
    }
    label
}

#[cfg(test)]
mod tests;
