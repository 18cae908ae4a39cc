//! Keepalive (§3.1.2.10): a PINGREQ when the client has been quiet for the keepalive interval,
//! or has heard nothing for it, and a dead connection declared when the PINGRESP does not come
//! back in time.

use std::time::Duration;

/// What [`Keepalive::poll`] asks the session to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepaliveAction {
    /// Nothing is due.
    Nothing,
    /// Nothing was sent for the whole interval: send PINGREQ (3.1.1 [MQTT-3.1.2-23], 5.0
    /// [MQTT-3.1.2-20]) and call [`Keepalive::on_ping_sent`].
    SendPing,
    /// No PINGRESP within the timeout: the connection is dead.
    Expired,
}

/// The keepalive timer of one connection, on the session's clock (no timer of its own: the
/// session re-arms the driver's for [`Keepalive::deadline`]).
///
/// The interval counts from the last packet *sent* (the broker only needs to hear from us once
/// per interval, 3.1.1 [MQTT-3.1.2-23]) or the last *received*, whichever is older: a client
/// that keeps sending to a broker that stopped answering (hung, not closed) would otherwise
/// never ping it, and never learn (a newcomer's break-test, 36-S F2: OrderService, sending its
/// compensations again and again, still read "connected" 65 s into a frozen broker). A PINGREQ
/// may be sent at any time (§3.12).
#[derive(Debug)]
pub struct Keepalive {
    interval: Duration,
    timeout: Duration,
    last_sent: Duration,
    last_received: Duration,
    ping_sent_at: Option<Duration>,
}

impl Keepalive {
    /// A PINGREQ after `interval` of silence, and the connection declared dead if no PINGRESP
    /// comes within `timeout` of it. An `interval` of zero turns keepalive off (§3.1.2.10).
    pub fn new(interval: Duration, timeout: Duration) -> Self {
        Self {
            interval,
            timeout,
            last_sent: Duration::ZERO,
            last_received: Duration::ZERO,
            ping_sent_at: None,
        }
    }

    /// A new interval, e.g. the broker's Server Keep Alive (MQTT 5.0), which overrides ours.
    pub fn set_interval(&mut self, interval: Duration) {
        self.interval = interval;
    }

    /// The interval in force.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Starts counting afresh at `now` with no ping outstanding: a new connection, or CONNACK.
    pub fn reset(&mut self, now: Duration) {
        self.last_sent = now;
        self.last_received = now;
        self.ping_sent_at = None;
    }

    /// A packet (any kind) came in at `now`.
    pub fn on_received(&mut self, now: Duration) {
        self.last_received = now;
    }

    /// A packet (any kind) went out at `now`.
    pub fn on_sent(&mut self, now: Duration) {
        self.last_sent = now;
    }

    /// The PINGREQ went out at `now`: the PINGRESP is due within the timeout.
    pub fn on_ping_sent(&mut self, now: Duration) {
        self.ping_sent_at = Some(now);
    }

    /// The PINGRESP arrived at `now`: how long it took since its PINGREQ (`None` for one no
    /// PINGREQ awaited).
    pub fn on_pingresp(&mut self, now: Duration) -> Option<Duration> {
        self.ping_sent_at
            .take()
            .map(|sent| now.saturating_sub(sent))
    }

    /// A PINGREQ went out and its PINGRESP has not come yet.
    pub fn awaiting_pingresp(&self) -> bool {
        self.ping_sent_at.is_some()
    }

    /// When [`Keepalive::poll`] next has something to say: the ping's due time, or the
    /// PINGRESP's deadline while one is awaited. `None` when keepalive is off.
    pub fn deadline(&self) -> Option<Duration> {
        if self.interval.is_zero() {
            return None;
        }
        Some(match self.ping_sent_at {
            Some(at) => at + self.timeout,
            None => self.last_sent.min(self.last_received) + self.interval,
        })
    }

    /// What is due at `now`.
    pub fn poll(&self, now: Duration) -> KeepaliveAction {
        match self.deadline() {
            Some(deadline) if now >= deadline => match self.ping_sent_at {
                Some(_) => KeepaliveAction::Expired,
                None => KeepaliveAction::SendPing,
            },
            _ => KeepaliveAction::Nothing,
        }
    }

    /// How long a PINGRESP may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A new wait for the PINGRESP, from the next PINGREQ on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn pings_after_a_quiet_interval_then_expires() {
        let mut k = Keepalive::new(S(30), S(10));
        k.reset(S(100));
        assert_eq!(k.poll(S(129)), KeepaliveAction::Nothing);
        assert_eq!(k.poll(S(130)), KeepaliveAction::SendPing);
        k.on_ping_sent(S(130));
        assert_eq!(k.deadline(), Some(S(140)));
        assert_eq!(k.poll(S(139)), KeepaliveAction::Nothing);
        assert_eq!(k.poll(S(140)), KeepaliveAction::Expired);
    }

    #[test]
    fn traffic_postpones_the_ping_and_a_pingresp_clears_it() {
        let mut k = Keepalive::new(S(30), S(10));
        k.reset(S(0));
        k.on_sent(S(20));
        k.on_received(S(21));
        assert_eq!(k.poll(S(30)), KeepaliveAction::Nothing);
        k.on_sent(S(50));
        k.on_ping_sent(S(50));
        k.on_received(S(55));
        k.on_pingresp(S(55));
        assert_eq!(k.poll(S(60)), KeepaliveAction::Nothing);
    }

    /// 36-S F2: sending all the time to a broker that answers nothing still pings it, and
    /// the connection ends when no PINGRESP comes.
    #[test]
    fn sending_to_a_silent_broker_still_pings_it() {
        let mut k = Keepalive::new(S(30), S(10));
        k.reset(S(0));
        for at in [5, 10, 20, 29] {
            k.on_sent(S(at));
        }
        assert_eq!(k.poll(S(29)), KeepaliveAction::Nothing);
        assert_eq!(k.poll(S(30)), KeepaliveAction::SendPing);
        k.on_ping_sent(S(30));
        k.on_sent(S(35));
        assert_eq!(k.poll(S(40)), KeepaliveAction::Expired);
        // Heard from it meanwhile: no ping.
        let mut k = Keepalive::new(S(30), S(10));
        k.reset(S(0));
        k.on_sent(S(20));
        k.on_received(S(25));
        k.on_sent(S(40));
        assert_eq!(k.poll(S(50)), KeepaliveAction::Nothing);
        assert_eq!(k.poll(S(55)), KeepaliveAction::SendPing);
    }

    #[test]
    fn a_new_interval_moves_the_next_ping() {
        let mut k = Keepalive::new(S(30), S(10));
        k.reset(S(0));
        k.set_interval(S(5));
        assert_eq!(k.interval(), S(5));
        assert_eq!(k.poll(S(5)), KeepaliveAction::SendPing);
        k.set_interval(Duration::ZERO);
        assert_eq!(k.deadline(), None);
    }

    #[test]
    fn zero_interval_disables_keepalive() {
        let k = Keepalive::new(Duration::ZERO, S(10));
        assert_eq!(k.deadline(), None);
        assert_eq!(k.poll(S(1_000_000)), KeepaliveAction::Nothing);
    }
}
