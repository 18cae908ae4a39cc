//! What a switch of the page's broker leaves behind: the messages in flight on the broker the
//! services leave stay there. A persistent session (MQTT 3.1.1 §3.1.2.4, 5.0 §3.1.2.4) lives on
//! one broker: the messages it queued for a service, and the acknowledgements it still owes, are
//! the old broker's; the new broker has no session of these services and never receives them.
//! A switch while orders are open (or publishes are not yet acknowledged) is said under the
//! *Broker* field: a note rather than a confirmation, since a teacher switches on purpose.

/// What was in flight when the page's broker changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftInFlight {
    /// Sagas not ended (orders neither completed nor cancelled).
    pub open_orders: usize,
    /// The services' QoS 1 and 2 publishes not yet fully acknowledged by the old broker (or not
    /// sent yet).
    pub unacknowledged: usize,
}

impl LeftInFlight {
    /// Whether nothing was in flight: the switch loses nothing.
    pub fn is_empty(self) -> bool {
        self.open_orders == 0 && self.unacknowledged == 0
    }
}

/// The note shown under the *Broker* field after the page's broker changed from `from` to `to`
/// with `left` in flight; `None` when nothing was in flight or the broker stayed the same.
///
/// ```
/// # use eda_core::state::broker_switch::{switch_note, LeftInFlight};
/// let left = LeftInFlight { open_orders: 0, unacknowledged: 0 };
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
    let what = match (left.open_orders, left.unacknowledged) {
        (open, 0) => count(open, "order open", "orders open"),
        (0, unacked) => count(
            unacked,
            "message not yet acknowledged",
            "messages not yet acknowledged",
        ),
        (open, unacked) => format!(
            "{} and {}",
            count(open, "order open", "orders open"),
            count(
                unacked,
                "message not yet acknowledged",
                "messages not yet acknowledged"
            )
        ),
    };
    let (from, to) = (named(from), named(to));
    Some(format!(
        "Switched brokers with {what}: the messages in flight on {from} stay on that broker (a \
         persistent session lives on one broker, and {to}, if it is another broker, has none of \
         these services'), so a service may never receive some of them. An open order may end \
         by its deadline, and the read model may miss events: its lag line says so, and \
         Rebuild (Read model panel) projects them from the event store."
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
    fn a_switch_with_orders_open_says_what_stays_on_the_old_broker() {
        let left = LeftInFlight {
            open_orders: 10,
            unacknowledged: 0,
        };
        assert_eq!(
            switch_note("ws://127.0.0.1:9001", "ws://127.0.0.1:9002", left).as_deref(),
            Some(
                "Switched brokers with 10 orders open: the messages in flight on \
                 ws://127.0.0.1:9001 stay on that broker (a persistent session lives on one \
                 broker, and ws://127.0.0.1:9002, if it is another broker, has none of these \
                 services'), so a service may never receive some of them. An open order may \
                 end by its deadline, and the read model may miss events: its lag line says so, \
                 and Rebuild (Read model panel) projects them from the event store."
            )
        );
    }

    #[test]
    fn the_in_page_broker_is_named_in_words() {
        let left = LeftInFlight {
            open_orders: 1,
            unacknowledged: 0,
        };
        let note = switch_note("ws://127.0.0.1:9001", "inpage", left).unwrap();
        assert!(
            note.contains("and the in-page broker, if it is another broker, has none"),
            "{note}"
        );
        let back = switch_note("inpage", "ws://127.0.0.1:9001", left).unwrap();
        assert!(
            back.contains("the messages in flight on the in-page broker stay"),
            "{back}"
        );
    }

    #[test]
    fn counts_are_singular_or_plural_and_both_are_named() {
        let note = |open_orders, unacknowledged| {
            switch_note(
                "ws://a",
                "ws://b",
                LeftInFlight {
                    open_orders,
                    unacknowledged,
                },
            )
            .unwrap()
        };
        assert!(note(1, 0).starts_with("Switched brokers with 1 order open: "));
        assert!(note(0, 1).starts_with("Switched brokers with 1 message not yet acknowledged: "));
        assert!(note(2, 3).starts_with(
            "Switched brokers with 2 orders open and 3 messages not yet acknowledged: "
        ));
    }

    #[test]
    fn nothing_in_flight_or_the_same_broker_says_nothing() {
        let open = LeftInFlight {
            open_orders: 1,
            unacknowledged: 0,
        };
        assert_eq!(
            switch_note("ws://a", "ws://b", LeftInFlight::default()),
            None
        );
        assert_eq!(switch_note("ws://a", "ws://a", open), None);
    }
}
