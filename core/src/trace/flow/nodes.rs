//! What each node's badge says: its link to the broker and what it is doing.

use std::time::Duration;

use uuid::Uuid;

use super::Node;
use crate::outside_text::isolate;
use crate::services::ServiceId;
use crate::trace::service_status::{LastOutcome, ServiceStatus};
use broker_bridge::Link;

/// What a node is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    Idle,
    /// Simulated work in hand: how many pieces, and how long until the first is due.
    Working {
        orders: usize,
        due_in: Duration,
    },
    Done,
    Failed {
        reason: String,
    },
}

impl Activity {
    /// For `data-activity`.
    pub fn word(&self) -> &'static str {
        match self {
            Activity::Idle => "idle",
            Activity::Working { .. } => "working",
            Activity::Done => "done",
            Activity::Failed { .. } => "failed",
        }
    }

    pub fn symbol(&self) -> &'static str {
        match self {
            Activity::Idle => "–",
            Activity::Working { .. } => "◔",
            Activity::Done => "✓",
            Activity::Failed { .. } => "⚠",
        }
    }
}

/// Everything a node's badge shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    pub node: Node,
    /// `None` for the order form, which is the page itself.
    pub link: Option<Link>,
    pub activity: Activity,
}

impl NodeState {
    /// The one word the node's frame is drawn for (its colour and line style): a link that is
    /// not up overrides the activity, which carries on underneath (work finishes while
    /// disconnected, and its result waits for the broker).
    pub fn look(&self) -> &'static str {
        match &self.link {
            Some(link) if !link.is_connected() => link.word(),
            _ => self.activity.word(),
        }
    }

    /// The link line, e.g. `● connected`; the broker is `reachable` when any service reaches it.
    pub fn link_text(&self) -> Option<String> {
        let link = self.link.as_ref()?;
        let word = match (self.node, link) {
            (Node::Broker, Link::Connected { .. }) => "reachable",
            (Node::Broker, Link::Disconnected { .. }) => "unreachable",
            (_, link) => link.word(),
        };
        Some(format!("{} {word}", link.symbol()))
    }

    /// The activity line, e.g. `◔ working 0.6 s`. The broker and the status monitor have none.
    pub fn activity_text(&self) -> Option<String> {
        let symbol = self.activity.symbol();
        let words = match (&self.activity, self.node) {
            (_, Node::Broker | Node::Monitor) => return None,
            (Activity::Working { orders: 1, due_in }, _) => {
                format!("working {}", seconds(*due_in))
            }
            (Activity::Working { orders, due_in }, _) => {
                format!("{orders} orders, next {}", seconds(*due_in))
            }
            (Activity::Done, Node::Client) => "order placed".to_owned(),
            (Activity::Failed { .. }, Node::Client) => "refused".to_owned(),
            (Activity::Idle, Node::Client) => "ready".to_owned(),
            (activity, _) => activity.word().to_owned(),
        };
        Some(format!("{symbol} {words}"))
    }

    /// The node in a sentence, for screen readers and the tooltip: `<name>, <link>: <activity>`.
    pub fn describe(&self) -> String {
        let name = self.node.name();
        let link = self.link.as_ref().map(|link| match (self.node, link) {
            (Node::Broker, Link::Connected { .. }) => "reached by the services",
            (Node::Broker, Link::Disconnected { .. }) => "no service reaches it",
            (Node::Broker, Link::Connecting { .. }) => "the services are connecting",
            (_, link) => link.word(),
        });
        let activity = match (&self.activity, self.node) {
            (_, Node::Broker) => None,
            (_, Node::Monitor) => Some(MONITOR_DESCRIBED.to_owned()),
            (Activity::Working { orders, due_in }, _) => Some(format!(
                "working on {orders} order{}, next done in {}",
                if *orders == 1 { "" } else { "s" },
                seconds(*due_in)
            )),
            (Activity::Failed { reason }, Node::Client) => {
                Some(format!("refused: {}", isolate(reason)))
            }
            (Activity::Failed { reason }, _) => Some(format!("failed: {}", isolate(reason))),
            (Activity::Done, Node::Client) => Some("order placed".to_owned()),
            (Activity::Idle, Node::Client) => Some("ready".to_owned()),
            (activity, _) => Some(activity.word().to_owned()),
        };
        match (link, activity) {
            (Some(link), Some(activity)) => format!("{name}, {link}: {activity}"),
            (Some(only), None) => format!("{name}: {only}"),
            (None, Some(only)) => format!("{name}: {only}"),
            (None, None) => name.to_owned(),
        }
    }
}

/// `0.6 s`: tenths, rounded up, so the count reaches `0.0 s` only when it is due.
pub fn seconds(duration: Duration) -> String {
    let tenths = duration.as_millis().div_ceil(100);
    format!("{}.{} s", tenths / 10, tenths % 10)
}

/// A service's badge: its link, and its work in hand first, else how its last message or work
/// ended. `now` is on the packets' clock, like the work's due times.
pub fn service_state(service: ServiceId, status: &ServiceStatus, now: Duration) -> NodeState {
    let work = &status.work;
    let activity = match work.pending.iter().map(|w| w.due).min() {
        Some(due) => Activity::Working {
            orders: work.pending.len(),
            due_in: due.saturating_sub(now),
        },
        None => match &work.last {
            LastOutcome::Idle => Activity::Idle,
            LastOutcome::Done => Activity::Done,
            LastOutcome::Failed(reason) => Activity::Failed {
                reason: reason.clone(),
            },
        },
    };
    NodeState {
        node: Node::of(service),
        link: Some(status.link.clone()),
        activity,
    }
}

/// The broker as the services see it: reachable while any of them is connected, unreachable
/// when all of them are disconnected, else connecting.
pub fn broker_state<'a>(links: impl IntoIterator<Item = &'a Link>) -> NodeState {
    let links: Vec<&Link> = links.into_iter().collect();
    let connected = links.iter().find(|l| l.is_connected());
    let all_down =
        !links.is_empty() && links.iter().all(|l| matches!(l, Link::Disconnected { .. }));
    let link = match (connected, all_down, links.first()) {
        (Some(up), _, _) => (*up).clone(),
        (None, true, Some(down)) => (*down).clone(),
        _ => Link::starting(""),
    };
    NodeState {
        node: Node::Broker,
        link: Some(link),
        activity: Activity::Idle,
    }
}

/// What the status monitor's box says to screen readers after its name.
const MONITOR_DESCRIBED: &str = "the page's own client, subscribed to services/+/status and \
     inventory/stock/+: the services' statuses, their Last Wills and the stock levels";

/// The status monitor's box: its name only (no link line, no activity: it handles no order, and
/// the page says elsewhere when it is refused or lost).
pub fn monitor_state() -> NodeState {
    NodeState {
        node: Node::Monitor,
        link: None,
        activity: Activity::Idle,
    }
}

/// The order form: refused (with the reason the form shows), an order placed, or ready.
pub fn client_state(placed_order: Option<Uuid>, refusal: Option<&str>) -> NodeState {
    let activity = match (refusal, placed_order) {
        (Some(reason), _) => Activity::Failed {
            reason: reason.to_owned(),
        },
        (None, Some(_)) => Activity::Done,
        (None, None) => Activity::Idle,
    };
    NodeState {
        node: Node::Client,
        link: None,
        activity,
    }
}

#[cfg(test)]
mod tests;
