//! Catch-up or loss: what a crashed service missed while it was down, and whether the broker
//! delivered it when the service came back. The lesson of persistent sessions, read off the
//! trace: the messages the other services published while it was down, on topics it subscribes
//! to, and which of them it received after its restart.
//!
//! With a persistent session (MQTT 3.1.1 clean session off, 5.0 session expiry) and QoS 1 or 2
//! the broker queues them and delivers them on reconnect: **caught up**. With a clean session,
//! or at QoS 0, they are gone: **lost**, and the saga of each order they belonged to times out.

use std::time::Duration;

use broker_bridge::Direction;

use super::service_status::ServiceEvent;
use super::Trace;
use crate::services::{SagaStyle, ServiceId};

/// One crash of a service, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// The service that crashed.
    pub service: ServiceId,
    /// When it crashed, on the packets' clock.
    pub crashed_at: Duration,
    /// When it was restarted; `None` while it is down.
    pub restarted_at: Option<Duration>,
    /// Messages published meanwhile (by the other services) on topics it subscribes to.
    pub missed: usize,
    /// How many of those it received after its restart.
    pub caught_up: usize,
}

impl Outage {
    /// Missed and never received: lost (0 while the service is still down).
    pub fn lost(&self) -> usize {
        match self.restarted_at {
            Some(_) => self.missed - self.caught_up,
            None => 0,
        }
    }

    /// The outage in a sentence, for the page.
    pub fn describe(&self) -> String {
        let name = self.service.name();
        let messages = |n: usize| {
            if n == 1 {
                "1 message".to_owned()
            } else {
                format!("{n} messages")
            }
        };
        match self.restarted_at {
            None => format!(
                "{name} is down: {} published for it so far.",
                messages(self.missed)
            ),
            Some(at) => {
                let down = at.saturating_sub(self.crashed_at);
                format!(
                    "{name} was down {}.{} s: {} published for it meanwhile; {} caught up on restart, {} lost.",
                    down.as_secs(),
                    down.subsec_millis() / 100,
                    messages(self.missed),
                    self.caught_up,
                    self.lost()
                )
            }
        }
    }
}

/// What tells a message from another: a message of the flow by its identity
/// ([`crate::domain::events::DomainEvent::identity`]), an event of the store by its stream and
/// version (QueryService's messages).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    Message(&'static str, uuid::Uuid),
    Stored(uuid::Uuid, u64),
}

fn identity(packet: &super::packet::TracedPacket) -> Option<Identity> {
    if let Some(message) = packet.message.as_deref() {
        let (topic, id) = message.identity();
        return Some(Identity::Message(topic, id));
    }
    let topic = packet.topic.as_deref()?;
    let broker_bridge::packet::Packet::Publish(publish) = packet.packet.as_ref() else {
        return None;
    };
    let event = crate::store::StoredEvent::decode_on(topic, &publish.payload).ok()?;
    Some(Identity::Stored(event.stream, event.version))
}

/// Every crash the trace holds, oldest first, under the saga `style` (it decides the topics
/// each service subscribes to).
pub fn outages(trace: &Trace, style: SagaStyle) -> Vec<Outage> {
    let mut outages: Vec<Outage> = Vec::new();
    for (at, service, event) in trace.services.events() {
        match event {
            ServiceEvent::Crashed => outages.push(Outage {
                service,
                crashed_at: at,
                restarted_at: None,
                missed: 0,
                caught_up: 0,
            }),
            ServiceEvent::Restarted { .. } => {
                if let Some(open) = outages
                    .iter_mut()
                    .rev()
                    .find(|o| o.service == service && o.restarted_at.is_none())
                {
                    open.restarted_at = Some(at);
                }
            }
            _ => {}
        }
    }
    for outage in &mut outages {
        let wanted = outage.service.subscriptions(style);
        let end = outage.restarted_at.unwrap_or(Duration::MAX);
        let missed: Vec<Identity> = trace
            .packets
            .iter()
            .filter(|p| {
                p.direction == Direction::Outgoing
                    && p.service != outage.service
                    && p.at >= outage.crashed_at
                    && p.at < end
            })
            .filter(|p| {
                p.topic.as_deref().is_some_and(|topic| {
                    wanted
                        .iter()
                        .any(|filter| broker_bridge::topic::matches(filter, topic))
                })
            })
            .filter_map(identity)
            .collect();
        outage.missed = missed.len();
        outage.caught_up = match outage.restarted_at {
            None => 0,
            Some(restart) => {
                // What the service received after its restart, each read once.
                let received: std::collections::HashSet<Identity> = trace
                    .packets
                    .iter()
                    .filter(|p| {
                        p.service == outage.service
                            && p.direction == Direction::Incoming
                            && p.at >= restart
                    })
                    .filter_map(identity)
                    .collect();
                missed.iter().filter(|i| received.contains(*i)).count()
            }
        };
    }
    outages
}

#[cfg(test)]
mod tests {
    use broker_bridge::{ProtocolVersion, QoS};

    use super::*;
    use crate::trace::script::{order, Script};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// PaymentService crashes, two orders go out, it restarts, and (if `catch_up`) receives
    /// them.
    fn crash_and_restart(catch_up: bool) -> Trace {
        let mut script = Script::new(ProtocolVersion::V311);
        script.connect_all();
        let mut trace_events = vec![(script.now() + ms(1), ServiceEvent::Crashed)];
        script.wait(10);
        for n in [1, 2] {
            script.publish(
                ServiceId::Order,
                Direction::Outgoing,
                crate::domain::topics::ORDERS_CREATED,
                order(n),
                QoS::AtLeastOnce,
            );
        }
        script.wait(10);
        trace_events.push((script.now(), ServiceEvent::Restarted { url: String::new() }));
        if catch_up {
            for n in [1, 2] {
                script.publish(
                    ServiceId::Payment,
                    Direction::Incoming,
                    crate::domain::topics::ORDERS_CREATED,
                    order(n),
                    QoS::AtLeastOnce,
                );
            }
        }
        let mut trace = Trace::new(script.history, script.actions);
        for (at, event) in trace_events {
            trace.services.record(at, ServiceId::Payment, event);
        }
        trace
    }

    #[test]
    fn a_persistent_session_catches_up_and_a_clean_one_loses() {
        let caught = outages(&crash_and_restart(true), SagaStyle::Parallel);
        assert_eq!(caught.len(), 1);
        let o = &caught[0];
        assert_eq!(
            (o.service, o.missed, o.caught_up, o.lost()),
            (ServiceId::Payment, 2, 2, 0)
        );
        assert!(
            o.describe()
                .contains("2 messages published for it meanwhile; 2 caught up on restart, 0 lost"),
            "{}",
            o.describe()
        );

        let lost = outages(&crash_and_restart(false), SagaStyle::Parallel);
        assert_eq!(
            (lost[0].missed, lost[0].caught_up, lost[0].lost()),
            (2, 0, 2)
        );
    }

    #[test]
    fn only_topics_the_service_subscribes_to_count() {
        // Under orchestration PaymentService listens to commands, not to orders/created.
        let o = &outages(&crash_and_restart(true), SagaStyle::Orchestration)[0];
        assert_eq!((o.missed, o.caught_up), (0, 0));
    }

    #[test]
    fn while_down_nothing_is_lost_yet() {
        let mut trace = crash_and_restart(false);
        // Forget the restart: the service is still down.
        let events: Vec<(Duration, ServiceId, ServiceEvent)> = trace
            .services
            .events()
            .filter(|(_, _, e)| !matches!(e, ServiceEvent::Restarted { .. }))
            .map(|(at, s, e)| (at, s, e.clone()))
            .collect();
        trace.services = super::super::service_status::ServiceLog::new(100);
        for (at, service, event) in events {
            trace.services.record(at, service, event);
        }
        let o = &outages(&trace, SagaStyle::Parallel)[0];
        assert_eq!((o.restarted_at, o.missed, o.lost()), (None, 2, 0));
        assert!(
            o.describe()
                .starts_with("PaymentService is down: 2 messages"),
            "{}",
            o.describe()
        );
    }
}
