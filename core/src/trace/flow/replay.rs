//! The services' badges worked out from the packets alone, for a recording: there are no live
//! services behind it, but its packets say when each client connected, received an order and
//! published its result. A payment's countdown runs to the moment the recording shows its
//! result going out.

use std::time::Duration;

use broker_bridge::{Direction, PacketKind};

use crate::domain::topics;
use crate::services::{Delays, ServiceId};
use crate::state::{LastOutcome, LinkView, PendingWork, WorkView};
use crate::trace::history::PacketHistory;
use crate::trace::packet::TracedPacket;
use crate::trace::playback::{shows, Shown};

/// Each service's link and work as the packets shown so far tell them, in [`ServiceId::ALL`]'s
/// order.
pub fn replayed_services(
    history: &PacketHistory,
    shown: Option<Shown>,
) -> Vec<(ServiceId, LinkView, WorkView)> {
    let visible = |p: &&TracedPacket| shows(shown, p.seq);
    ServiceId::ALL
        .into_iter()
        .map(|service| {
            let mut link = LinkView::Connecting { attempt: 0 };
            let mut work = WorkView::default();
            let mine = history.iter().filter(|p| p.service == service);
            for packet in mine.clone().filter(visible) {
                match (packet.kind, packet.direction) {
                    (PacketKind::ConnAck, Direction::Incoming) => {
                        link = match &packet.reason {
                            None => LinkView::Connected,
                            Some(reason) => disconnected(reason),
                        }
                    }
                    (PacketKind::Disconnect, _) => link = disconnected("the client disconnected"),
                    (PacketKind::Publish, Direction::Incoming) => {
                        let works = matches!(service, ServiceId::Payment | ServiceId::Inventory);
                        match packet.order_id {
                            Some(order_id) if works => {
                                let due = result_time(mine.clone(), order_id)
                                    .unwrap_or(packet.at + default_delay(service));
                                work.pending.push_back(PendingWork { order_id, due });
                            }
                            _ => work.last = LastOutcome::Done,
                        }
                    }
                    (PacketKind::Publish, Direction::Outgoing) => {
                        let order = packet.order_id;
                        if let Some(i) = work.pending.iter().position(|w| Some(w.order_id) == order)
                        {
                            work.pending.remove(i);
                        }
                        work.last = LastOutcome::Done;
                    }
                    _ => {}
                }
            }
            (service, link, bounded(work))
        })
        .collect()
}

fn disconnected(reason: &str) -> LinkView {
    LinkView::Disconnected {
        reason: reason.to_owned(),
        retry_in: Duration::ZERO,
        attempt: 0,
    }
}

/// When the service published its result for `order_id`, if the recording holds it.
fn result_time<'a>(
    mut packets: impl Iterator<Item = &'a TracedPacket>,
    order_id: uuid::Uuid,
) -> Option<Duration> {
    packets
        .find(|p| {
            p.kind == PacketKind::Publish
                && p.direction == Direction::Outgoing
                && p.order_id == Some(order_id)
                && p.topic.as_deref() != Some(topics::ORDERS_CREATED)
        })
        .map(|p| p.at)
}

fn default_delay(service: ServiceId) -> Duration {
    let delays = Delays::default();
    match service {
        ServiceId::Payment => delays.payment,
        _ => delays.inventory,
    }
}

/// At most [`crate::state::WORK_LIMIT`] pieces, as the live page keeps: the newest.
fn bounded(mut work: WorkView) -> WorkView {
    let excess = work.pending.len().saturating_sub(crate::state::WORK_LIMIT);
    work.pending.drain(..excess);
    work
}

#[cfg(test)]
mod tests {
    use broker_bridge::{ProtocolVersion, QoS};

    use super::*;
    use crate::trace::script::{order, Script};

    fn of(
        services: &[(ServiceId, LinkView, WorkView)],
        service: ServiceId,
    ) -> (LinkView, WorkView) {
        let (_, link, work) = services.iter().find(|(s, ..)| *s == service).unwrap();
        (link.clone(), work.clone())
    }

    #[test]
    fn links_come_from_connack_and_work_from_the_order_and_its_result() {
        let mut script = Script::new(ProtocolVersion::V311);
        script.connect_all();
        script.place_order(order(1), QoS::AtLeastOnce);
        let history = &script.history;
        // Everything shown: connected, and every service done.
        let all = replayed_services(history, None);
        for (service, link, work) in &all {
            assert_eq!(link, &LinkView::Connected, "{service}");
            assert!(work.pending.is_empty(), "{service}");
            assert_eq!(work.last, LastOutcome::Done, "{service}");
        }
        // Shown up to the delivery of orders/created to PaymentService: it is working, due
        // when the recording shows its payments/processed going out.
        let delivered = history
            .iter()
            .find(|p| {
                p.service == ServiceId::Payment
                    && p.kind == PacketKind::Publish
                    && p.direction == Direction::Incoming
            })
            .unwrap();
        let result = history
            .iter()
            .find(|p| p.topic.as_deref() == Some(topics::PAYMENTS_PROCESSED))
            .unwrap();
        let cut = Shown {
            below: delivered.seq + 1,
            until: delivered.at,
        };
        let (link, work) = of(&replayed_services(history, Some(cut)), ServiceId::Payment);
        assert_eq!(link, LinkView::Connected);
        let pending: Vec<_> = work.pending.iter().map(|w| (w.order_id, w.due)).collect();
        assert_eq!(pending, [(order(1), result.at)]);
        // Before any packet: every client still connecting.
        let none = Shown {
            below: 0,
            until: Duration::ZERO,
        };
        for (_, link, work) in replayed_services(history, Some(none)) {
            assert_eq!(link, LinkView::Connecting { attempt: 0 });
            assert_eq!(work, WorkView::default());
        }
    }
}
