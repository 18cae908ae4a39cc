//! The state of a client's link to its broker, as a driver reports it and a page shows it.
//!
//! Pure, so views and their tests can use it without a browser: `ws` (feature `browser`,
//! wasm32) produces it; anything may read it.

use std::time::Duration;

use crate::session::ConnectionError;

/// A client's link to the broker: trying, up, or down and waiting to try again.
///
/// This is the one connection-state type of the project: the driver emits it, the page's
/// status strip and flow diagram read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A WebSocket is being opened, or is open and CONNECT awaits its CONNACK.
    Connecting {
        /// The broker URL tried, e.g. `ws://localhost:9001`.
        url: String,
        /// 1 for the first try after a loss or a start, counting up while tries fail; 0 when
        /// nothing has been tried yet.
        attempt: u32,
        /// Why the try before this one failed, while tries keep failing: `None` on the first
        /// try, after a connection the broker accepted, or on another broker. A page keeps
        /// saying what went wrong while it tries again (a connect timeout makes each try last
        /// [`Options::connect_timeout`](crate::Options::connect_timeout)).
        last_failure: Option<ConnectionError>,
    },
    /// The broker accepted CONNECT (a CONNACK with success).
    Connected {
        /// The broker URL of the connection.
        url: String,
    },
    /// The connection failed or was lost; the driver tries again after `retry_in`.
    Disconnected {
        /// The broker URL that failed.
        url: String,
        /// Why; its `Display` is the sentence a user reads, e.g. `no PINGRESP from the broker
        /// within 10000 ms`. [`ConnectionError::Stopped`] when the application stopped the
        /// client (or never started it).
        reason: ConnectionError,
        /// How long until the next try; [`Duration::ZERO`] when none is planned (the client was
        /// stopped, or [`Link::waits_for_user`]).
        retry_in: Duration,
        /// How many tries in a row have failed.
        attempt: u32,
    },
}

impl Link {
    /// Nothing tried yet, at `url`.
    pub fn starting(url: impl Into<String>) -> Link {
        Link::Connecting {
            url: url.into(),
            attempt: 0,
            last_failure: None,
        }
    }

    /// Why the link is not up: the reason it went down ([`Link::Disconnected`]), or, while it
    /// tries again, why the last try failed ([`Link::Connecting`]'s `last_failure`). `None`
    /// when connected or on a first try. What a page shows and refuses on, so its parts agree.
    pub fn failure(&self) -> Option<&ConnectionError> {
        match self {
            Link::Connecting { last_failure, .. } => last_failure.as_ref(),
            Link::Connected { .. } => None,
            Link::Disconnected { reason, .. } => Some(reason),
        }
    }

    /// One word for the state, as badges and `data-state` attributes say it: `connecting`,
    /// `connected` or `disconnected`.
    pub fn word(&self) -> &'static str {
        match self {
            Link::Connecting { .. } => "connecting",
            Link::Connected { .. } => "connected",
            Link::Disconnected { .. } => "disconnected",
        }
    }

    /// A symbol for the state, so it is told by shape as well as colour: `◌`, `●` or `✕`.
    pub fn symbol(&self) -> &'static str {
        match self {
            Link::Connecting { .. } => "◌",
            Link::Connected { .. } => "●",
            Link::Disconnected { .. } => "✕",
        }
    }

    /// Whether the broker has accepted the connection.
    pub fn is_connected(&self) -> bool {
        matches!(self, Link::Connected { .. })
    }

    /// Down after a refusal that retrying cannot fix
    /// ([`ConnectionError::is_permanent_refusal`], e.g. bad user name or password): no retry is
    /// planned, the driver waits for the user.
    pub fn waits_for_user(&self) -> bool {
        matches!(self, Link::Disconnected { reason, .. } if reason.is_permanent_refusal())
    }

    /// The broker URL the state is about.
    pub fn url(&self) -> &str {
        match self {
            Link::Connecting { url, .. }
            | Link::Connected { url }
            | Link::Disconnected { url, .. } => url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_is_the_reason_down_or_the_last_try_s_while_trying_again() {
        let lost = ConnectionError::OpenTimeout {
            timeout: Duration::from_secs(10),
        };
        assert_eq!(Link::starting("ws://a:1").failure(), None);
        let retrying = Link::Connecting {
            url: "ws://a:1".into(),
            attempt: 2,
            last_failure: Some(lost.clone()),
        };
        assert_eq!(retrying.failure(), Some(&lost));
        assert_eq!(retrying.word(), "connecting");
        let down = Link::Disconnected {
            url: "ws://a:1".into(),
            reason: lost.clone(),
            retry_in: Duration::from_secs(1),
            attempt: 2,
        };
        assert_eq!(down.failure(), Some(&lost));
        let up = Link::Connected {
            url: "ws://a:1".into(),
        };
        assert_eq!(up.failure(), None);
    }

    #[test]
    fn each_state_has_a_word_a_symbol_and_its_url() {
        let down = Link::Disconnected {
            url: "ws://b:1".into(),
            reason: ConnectionError::TextFrame,
            retry_in: Duration::from_secs(1),
            attempt: 2,
        };
        let states = [
            Link::starting("ws://a:1"),
            Link::Connected {
                url: "ws://c:1".into(),
            },
            down,
        ];
        let seen: Vec<_> = states
            .iter()
            .map(|l| (l.word(), l.symbol(), l.url(), l.is_connected()))
            .collect();
        assert_eq!(
            seen,
            [
                ("connecting", "◌", "ws://a:1", false),
                ("connected", "●", "ws://c:1", true),
                ("disconnected", "✕", "ws://b:1", false),
            ]
        );
    }
}
