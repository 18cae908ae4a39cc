//! How a session's connections have gone, and what follows from it: the delay before the next
//! attempt, and the words for a connection that ended without an MQTT reason.
//!
//! A CONNACK alone proves little: a broker may accept and close at once, or another client
//! with our client id may take the connection over a second later. So the backoff is not
//! reset when the broker accepts, only once a connection proves healthy: it lived
//! [`Options::healthy_after`](super::Options::healthy_after), or carried application traffic
//! (a live message in, or one of ours acknowledged). Until then every loss lengthens the next
//! delay, up to the maximum.
//!
//! MQTT 3.1.1 has no DISCONNECT from the broker, and even MQTT 5.0's (0x8E Session taken over)
//! rarely makes it through a WebSocket before the broker closes it; so "taken over" is
//! inferred from what the client saw: the broker accepted the connection, answered what we
//! asked, and then closed it while we were waiting for nothing, twice in a row.

use std::time::Duration;

use super::{ConnectionError, Takeover};
use crate::backoff::Backoff;
use crate::packet::ReasonCode;

/// Idle closes in a row after which a takeover is inferred.
const TAKEOVER_AFTER: u32 = 2;

/// The current connection, from its CONNACK.
#[derive(Debug, Clone, Copy)]
struct Accepted {
    at: Duration,
    /// It carried application traffic: healthy whatever its age.
    delivered: bool,
    /// The broker answered something we asked on it (SUBACK, PUBACK, PINGRESP …).
    served: bool,
}

/// The connections of one session: the current one, the losses in a row, the backoff.
#[derive(Debug, Clone)]
pub(super) struct Health {
    backoff: Backoff,
    healthy_after: Duration,
    current: Option<Accepted>,
    /// Accepted connections in a row that ended before they proved healthy.
    unhealthy_in_a_row: u32,
    /// Of those, the last ones that the broker closed while it had answered everything.
    idle_closes_in_a_row: u32,
    /// Connections in a row ended by the broker's protocol violation (a malformed packet, a
    /// packet it must not send), however healthy each looked before it: the delays grow with
    /// them. A newcomer's break-test: a broker sending the same malformed PUBLISH 3 s into each
    /// connection had the page reconnect every 3.5 s for ever, "attempt 1" each time, since
    /// each connection had carried traffic first and so started the delays over.
    faults_in_a_row: u32,
}

impl Health {
    pub(super) fn new(min: Duration, max: Duration, healthy_after: Duration) -> Self {
        Health {
            backoff: Backoff::new(min, max),
            healthy_after,
            current: None,
            unhealthy_in_a_row: 0,
            idle_closes_in_a_row: 0,
            faults_in_a_row: 0,
        }
    }

    /// The broker accepted a connection at `now`.
    pub(super) fn on_accepted(&mut self, now: Duration) {
        self.current = Some(Accepted {
            at: now,
            delivered: false,
            served: false,
        });
    }

    /// The connection carried application traffic: it is healthy, and the delays start over.
    pub(super) fn on_delivered(&mut self) {
        if let Some(current) = &mut self.current {
            current.delivered = true;
            self.proved_healthy();
        }
    }

    /// The broker answered a request of ours on the current connection.
    pub(super) fn on_served(&mut self) {
        if let Some(current) = &mut self.current {
            current.served = true;
        }
    }

    /// The session left politely: the connection is over without a loss.
    pub(super) fn on_left(&mut self) {
        self.current = None;
    }

    fn proved_healthy(&mut self) {
        self.backoff.reset();
        self.unhealthy_in_a_row = 0;
        self.idle_closes_in_a_row = 0;
    }

    /// A connection whose transport had opened ended at `now` for `reason`; `idle` says
    /// whether nothing of ours awaited an answer. Returns the reason to report: a transport
    /// that closed is told apart by what came before it. Attempts the broker never accepted
    /// (refused, no CONNACK, never reached) lengthen the delays but neither break nor extend
    /// a row of connections that died young.
    pub(super) fn on_lost(
        &mut self,
        now: Duration,
        reason: ConnectionError,
        idle: bool,
    ) -> ConnectionError {
        let Some(accepted) = self.current.take() else {
            return match reason {
                transport @ (ConnectionError::TransportClosed { .. }
                | ConnectionError::TransportFailed(_)) => ConnectionError::ClosedBeforeConnAck {
                    transport: Box::new(transport),
                },
                other => other,
            };
        };
        let after = now.saturating_sub(accepted.at);
        if matches!(reason, ConnectionError::Protocol(_)) {
            // Not healthy, whatever came before: the same fault may well come again.
            self.faults_in_a_row = self.faults_in_a_row.saturating_add(1);
            self.unhealthy_in_a_row = self.unhealthy_in_a_row.saturating_add(1);
            self.backoff.at_least(self.faults_in_a_row - 1);
            self.idle_closes_in_a_row = 0;
            return reason;
        }
        self.faults_in_a_row = 0;
        let healthy = accepted.delivered || after >= self.healthy_after;
        if healthy {
            self.proved_healthy();
        } else {
            self.unhealthy_in_a_row = self.unhealthy_in_a_row.saturating_add(1);
        }
        match reason {
            ConnectionError::BrokerDisconnect(disconnect)
                if disconnect.reason == ReasonCode::SessionTakenOver =>
            {
                ConnectionError::TakenOver(Takeover::Said(disconnect))
            }
            transport @ (ConnectionError::TransportClosed { .. }
            | ConnectionError::TransportFailed(_)) => {
                if healthy {
                    return ConnectionError::Dropped {
                        after,
                        transport: Box::new(transport),
                    };
                }
                if accepted.served && idle {
                    self.idle_closes_in_a_row = self.idle_closes_in_a_row.saturating_add(1);
                } else {
                    self.idle_closes_in_a_row = 0;
                }
                if self.idle_closes_in_a_row >= TAKEOVER_AFTER {
                    ConnectionError::TakenOver(Takeover::Inferred {
                        after,
                        times: self.idle_closes_in_a_row,
                    })
                } else if self.unhealthy_in_a_row <= 1 {
                    // One young connection closed is no pattern: a broker killed a second after
                    // accepting looks the same from here (44-AQ F3: the page said the broker
                    // "answers" and closed the connection on purpose, sending the learner to its
                    // ACLs, while it was dead). The next attempt tells: refused, or accepted
                    // and closed again.
                    ConnectionError::Dropped {
                        after,
                        transport: Box::new(transport),
                    }
                } else {
                    ConnectionError::ClosedAfterAccept {
                        after,
                        in_a_row: self.unhealthy_in_a_row,
                        transport: Box::new(transport),
                    }
                }
            }
            other => {
                self.idle_closes_in_a_row = 0;
                other
            }
        }
    }

    /// The delay before the next attempt, counting one more; `jitter` in `[0, 1)`.
    pub(super) fn next_delay(&mut self, jitter: f64) -> Duration {
        self.backoff.next_delay(jitter)
    }

    /// Delays handed out since a connection last proved healthy (or since the start).
    pub(super) fn attempt(&self) -> u32 {
        self.backoff.attempt()
    }

    /// Starts the delays and the counts over, e.g. for another broker.
    pub(super) fn reset(&mut self) {
        self.proved_healthy();
        self.faults_in_a_row = 0;
    }
}
