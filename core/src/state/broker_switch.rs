//! What a switch of the page's broker leaves behind. A persistent session (MQTT 3.1.1 §3.1.2.4,
//! 5.0 §3.1.2.4) lives on one broker: the messages the old broker accepted and had not yet
//! delivered to the services (queued for their sessions, or in flight to them) stay there; the
//! new broker has no session of these services and never receives them. The services' own
//! publishes not yet acknowledged (sent or still queued) travel with their clients and are
//! published again on the new broker (§4.4: a subscriber may receive one twice). A broker that
//! never accepted the services' connection holds nothing of theirs.
//! A switch while orders are open (or publishes are not yet acknowledged) is said under the
//! *Broker* field: a note rather than a confirmation, since a teacher switches on purpose.

use std::time::Duration;

use crate::trace::orders::OrderBook;

/// What was in flight when the page's broker changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftInFlight {
    /// Sagas not ended (orders neither completed nor cancelled).
    pub open_orders: usize,
    /// The services' QoS 1 and 2 publishes not yet fully acknowledged by the old broker (or not
    /// sent yet): they go out again on the new broker.
    pub unacknowledged: usize,
    /// Whether the old broker accepted a connection of any service that moves (a CONNACK since
    /// it became the page's broker); `false` for a broker that never answered or refused every
    /// try: it holds nothing of theirs.
    pub reached: bool,
    /// Whether the broker switched to is one these services left earlier in the page's life
    /// after it had accepted them, with persistent sessions: it still holds those sessions,
    /// and what it queued for them since comes when they reconnect. Set by the page's state
    /// ([`crate::state::State`] remembers the brokers left), not by the runtime.
    pub returning: bool,
    /// Whether the services ran clean sessions (MQTT 3.1.1 Clean Session 1, 5.0 Session Expiry
    /// 0): the old broker discards each session, and what it had not delivered, as the
    /// connection ends (§3.1.2.4); nothing stays on it. Set by the page's state, not by the
    /// runtime.
    pub clean: bool,
    /// When the broker changed, on the packets' clock (the page's monotonic clock, as
    /// [`crate::trace::packet::TracedPacket::at`]): the orders open then are the ones first
    /// seen by this time ([`LeftInFlight::settled`]).
    pub at: Duration,
}

impl LeftInFlight {
    /// Whether nothing was in flight: the switch loses nothing.
    pub fn is_empty(self) -> bool {
        self.open_orders == 0 && self.unacknowledged == 0
    }

    /// Whether every order open at the switch has ended since, as `book` (the live Orders
    /// panel's) tells: no order first seen by [`LeftInFlight::at`] is open any more. The note
    /// then warns of nothing and goes (a newcomer's break-test, 34-K F12: it stayed under the
    /// *Broker* field through later orders, a broker restart and other settings, although the
    /// Orders panel showed all 10 ended). `false` when no order was open (a note of messages
    /// not yet acknowledged only): it stays until the next switch.
    pub fn settled(&self, book: &OrderBook) -> bool {
        self.open_orders > 0 && book.open_first_seen_by(self.at) == 0
    }
}

/// The note shown under the *Broker* field after the page's broker changed from `from` to `to`
/// with `left` in flight; `None` when nothing was in flight or the broker stayed the same.
///
/// ```
/// # use eda_core::state::broker_switch::{switch_note, LeftInFlight};
/// let left = LeftInFlight { open_orders: 0, unacknowledged: 0, reached: true, ..Default::default() };
/// assert_eq!(switch_note("ws://a:9001", "ws://b:9001", left), None);
/// ```
pub fn switch_note(from: &str, to: &str, left: LeftInFlight) -> Option<String> {
    if left.is_empty() || from == to {
        return None;
    }
    let count = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let unacked = count(
        left.unacknowledged,
        "message not yet acknowledged",
        "messages not yet acknowledged",
    );
    let what = match (left.open_orders, left.unacknowledged) {
        (open, 0) => count(open, "order open", "orders open"),
        (0, _) => unacked.clone(),
        (open, _) => format!("{} and {unacked}", count(open, "order open", "orders open")),
    };
    // One side the in-page broker and the other not: surely another broker (44-AR F4).
    let surely_other = broker_bridge::url::is_in_page(from) != broker_bridge::url::is_in_page(to);
    let (from, to) = (named(from), named(to));
    let again = match left.unacknowledged {
        0 => String::new(),
        1 => format!(" The message not yet acknowledged is published again on {to}."),
        n => format!(" The {n} messages not yet acknowledged are published again on {to}."),
    };
    if !left.reached {
        return Some(format!(
            "Switched brokers with {what}: {from} never accepted the services' connection, so \
             nothing of theirs stays on it.{again}"
        ));
    }
    // A newcomer's break-test (34-K F3): under clean sessions the note gave the persistent
    // session's reason ("stay on that broker").
    if left.clean {
        return Some(format!(
            "Switched brokers with {what}: the services ran clean sessions, so {from} discarded \
             what it had accepted and not yet delivered to them as each connection ended (a \
             clean session lasts as long as its connection), and a service may never receive \
             some of them. An open order may end by its deadline, and the read model may miss \
             events: its lag line says so, and Rebuild (Read model panel) projects them from \
             the event store.{again}"
        ));
    }
    // Between the two nodes of ./scripts/cluster: one broker to the services, their persistent
    // sessions kept in the Redis both share, so nothing stays behind (a newcomer's break-test,
    // 35-L F9: the note hedged "if it is another broker", and every order completed).
    let node = |url: &str| {
        matches!(
            broker_bridge::url::known_broker(url),
            broker_bridge::url::KnownBroker::ClusterNode(_)
        )
    };
    if node(from) && node(to) {
        return Some(format!(
            "Switched brokers with {what}: {from} and {to} are the two nodes of this project's \
             local cluster, which keep the services' persistent sessions in the Redis they \
             share, so what {from} accepted and had not yet delivered reaches the services on \
             {to}: nothing stays behind.{again}"
        ));
    }
    // A newcomer's break-test (32-E F6): back on a broker left earlier, the note said it had
    // none of these services' sessions; it keeps the ones they left there.
    let there = if left.returning {
        format!(
            "; {to} still holds the sessions these services left on it earlier, and sends what \
             it queued for them since"
        )
    } else if surely_other {
        format!(", and {to} has none of these services'")
    } else {
        format!(", and {to}, if it is another broker, has none of these services'")
    };
    Some(format!(
        "Switched brokers with {what}: the messages {from} accepted and had not yet delivered \
         to the services stay on that broker (a persistent session lives on one broker{there}), \
         so a service may never receive some of them. An open order may end by its deadline, \
         and the read model may miss events: its lag line says so, and Rebuild (Read model \
         panel) projects them from the event store.{again}"
    ))
}

/// A broker as the note names it: its URL, or "the in-page broker" for `inpage`.
fn named(url: &str) -> &str {
    if broker_bridge::url::is_in_page(url) {
        "the in-page broker"
    } else {
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn between_the_two_nodes_of_the_local_cluster_nothing_stays_behind() {
        let note = switch_note(
            "ws://127.0.0.1:9101",
            "ws://127.0.0.1:9102",
            left(10, 0, true),
        )
        .unwrap();
        assert!(
            note.starts_with(
                "Switched brokers with 10 orders open: ws://127.0.0.1:9101 and \
                 ws://127.0.0.1:9102 are the two nodes of this project's local cluster"
            ) && note.ends_with("nothing stays behind."),
            "{note}"
        );
        assert!(!note.contains("if it is another broker"), "{note}");
        // Clean sessions end with their connections, on a cluster too.
        let clean = LeftInFlight {
            clean: true,
            ..left(10, 0, true)
        };
        let note = switch_note("ws://127.0.0.1:9101", "ws://127.0.0.1:9102", clean).unwrap();
        assert!(note.contains("the services ran clean sessions"), "{note}");
    }

    fn left(open_orders: usize, unacknowledged: usize, reached: bool) -> LeftInFlight {
        LeftInFlight {
            open_orders,
            unacknowledged,
            reached,
            returning: false,
            clean: false,
            at: Duration::ZERO,
        }
    }

    /// `orders/created` then, if `outcome`, `orders/confirmed` of order `n`, by OrderService's
    /// client, at `at` ms on the packets' clock.
    fn order(book: &mut OrderBook, n: u128, at: u64, outcome: bool) {
        use crate::domain::events::{OrderConfirmed, OrderCreated, OrderItem};
        use crate::domain::Timestamp;
        let now = Timestamp::from_unix_millis(0).unwrap();
        let id = uuid::Uuid::from_u128(n);
        let created = OrderCreated {
            order_id: id,
            customer_id: "C123".into(),
            items: vec![OrderItem {
                product_id: "P001".into(),
                quantity: 1,
                price: 1.0,
            }],
            total_amount: 1.0,
            created_at: now,
        };
        book.apply(Duration::from_millis(at), &created.into());
        if outcome {
            let confirmed = OrderConfirmed {
                order_id: id,
                confirmed_at: now,
            };
            book.apply(Duration::from_millis(at + 1), &confirmed.into());
        }
    }

    // A newcomer's break-test (34-K F12): the note stayed for good after every order it warned
    // about had ended.
    #[test]
    fn the_note_is_settled_once_every_order_open_at_the_switch_has_ended() {
        let mut book = OrderBook::new(100);
        order(&mut book, 1, 10, false);
        order(&mut book, 2, 20, false);
        let switched = LeftInFlight {
            at: Duration::from_millis(30),
            ..left(2, 0, true)
        };
        assert!(!switched.settled(&book));
        order(&mut book, 1, 40, true);
        // An order placed after the switch, still open, is no order the note warned of.
        order(&mut book, 3, 50, false);
        assert!(!switched.settled(&book), "order 2 is still open");
        order(&mut book, 2, 60, true);
        assert!(switched.settled(&book));
        // A note of messages not yet acknowledged only stays: no order tells when they landed.
        let unacknowledged = LeftInFlight {
            at: Duration::from_millis(30),
            ..left(0, 3, true)
        };
        assert!(!unacknowledged.settled(&book));
    }

    #[test]
    fn under_clean_sessions_the_old_broker_keeps_nothing() {
        let clean = LeftInFlight {
            clean: true,
            ..left(1, 0, true)
        };
        let note = switch_note("ws://a:9001", "ws://b:9001", clean).unwrap();
        assert!(
            note.starts_with(
                "Switched brokers with 1 order open: the services ran clean sessions, so \
                 ws://a:9001 discarded what it had accepted and not yet delivered to them"
            ),
            "{note}"
        );
        assert!(!note.contains("persistent"), "{note}");
        assert!(!note.contains("stay on that broker"), "{note}");
    }

    #[test]
    fn back_on_a_broker_left_earlier_its_kept_sessions_are_said() {
        let back = LeftInFlight {
            returning: true,
            ..left(2, 0, true)
        };
        let note = switch_note("ws://b:9001", "ws://a:9001", back).unwrap();
        assert!(
            note.contains(
                "(a persistent session lives on one broker; ws://a:9001 still holds the sessions \
                 these services left on it earlier, and sends what it queued for them since), so"
            ),
            "{note}"
        );
        assert!(!note.contains("has none"), "{note}");
    }

    #[test]
    fn a_switch_with_orders_open_says_what_stays_on_the_old_broker() {
        assert_eq!(
            switch_note(
                "ws://127.0.0.1:9001",
                "ws://127.0.0.1:9002",
                left(10, 0, true)
            )
            .as_deref(),
            Some(
                "Switched brokers with 10 orders open: the messages ws://127.0.0.1:9001 accepted \
                 and had not yet delivered to the services stay on that broker (a persistent \
                 session lives on one broker, and ws://127.0.0.1:9002, if it is another broker, \
                 has none of these services'), so a service may never receive some of them. An \
                 open order may end by its deadline, and the read model may miss events: its lag \
                 line says so, and Rebuild (Read model panel) projects them from the event store."
            )
        );
    }

    // A newcomer's break-test (C8): Connect to a broker that never answered, then back. The
    // note said the 40 messages in flight "stay on" the unreachable broker; they had waited in
    // the clients' offline queues and went out on the broker they came back to.
    #[test]
    fn messages_not_acknowledged_go_out_on_the_new_broker_and_an_unreached_one_holds_nothing() {
        let note = switch_note(
            "ws://127.0.0.1:19799",
            "ws://127.0.0.1:19752",
            left(10, 40, false),
        )
        .unwrap();
        assert_eq!(
            note,
            "Switched brokers with 10 orders open and 40 messages not yet acknowledged: \
             ws://127.0.0.1:19799 never accepted the services' connection, so nothing of theirs \
             stays on it. The 40 messages not yet acknowledged are published again on \
             ws://127.0.0.1:19752."
        );
        let reached = switch_note("ws://a", "ws://b", left(0, 1, true)).unwrap();
        assert!(reached.contains("the messages ws://a accepted and had not yet delivered"));
        assert!(
            reached.ends_with(" The message not yet acknowledged is published again on ws://b."),
            "{reached}"
        );
        assert!(!switch_note("ws://a", "ws://b", left(1, 0, false))
            .unwrap()
            .contains("published again"));
    }

    #[test]
    // 44-AR F4: "and the in-page broker, if it is another broker, has none": it always is.
    fn the_in_page_broker_is_named_in_words() {
        let note = switch_note("ws://127.0.0.1:9001", "inpage", left(1, 0, true)).unwrap();
        assert!(
            note.contains("and the in-page broker has none of these services'"),
            "{note}"
        );
        let back = switch_note("inpage", "ws://127.0.0.1:9001", left(1, 0, true)).unwrap();
        assert!(
            back.contains("the messages the in-page broker accepted and had not"),
            "{back}"
        );
    }

    #[test]
    fn counts_are_singular_or_plural_and_both_are_named() {
        let note = |open_orders, unacknowledged| {
            switch_note("ws://a", "ws://b", left(open_orders, unacknowledged, true)).unwrap()
        };
        assert!(note(1, 0).starts_with("Switched brokers with 1 order open: "));
        assert!(note(0, 1).starts_with("Switched brokers with 1 message not yet acknowledged: "));
        assert!(note(2, 3).starts_with(
            "Switched brokers with 2 orders open and 3 messages not yet acknowledged: "
        ));
    }

    #[test]
    fn nothing_in_flight_or_the_same_broker_says_nothing() {
        assert_eq!(switch_note("ws://a", "ws://b", left(0, 0, true)), None);
        assert_eq!(switch_note("ws://a", "ws://b", left(0, 0, false)), None);
        assert_eq!(switch_note("ws://a", "ws://a", left(3, 2, true)), None);
    }
}
