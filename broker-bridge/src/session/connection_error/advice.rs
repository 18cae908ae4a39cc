//! What a user can do about a refusal retrying cannot fix, by its reason code: the words a
//! page shows, and whether signing in is the answer (only then should a page offer its
//! sign-in form).

use super::ConnectionError;
use crate::packet::{ProtocolVersion, ReasonCode};

/// The advice for a refusal of who we are (or of a rule the broker does not name), as a
/// literal for `concat!`.
macro_rules! check_credentials {
    () => {
        "Check the user name and password (Sign in to the broker, at the top of the page), or \
         the broker's access rules, then press Try again. Mosquitto's log shows only the refusal \
         (Sending CONNACK with this code), not which rule: a wrong password, a user it does not \
         know and anonymous clients not allowed look the same there."
    };
}

impl ConnectionError {
    /// The broker refused who we are: 0x86 Bad User Name or Password or 0x87 Not authorized
    /// (MQTT 5.0 §3.2.2.2; 3.1.1 return codes 4 and 5, §3.2.2.3). Other user names or
    /// passwords may fix it; no other refusal asks for them.
    pub fn asks_for_credentials(&self) -> bool {
        matches!(
            self,
            ConnectionError::Refused { connack, .. } if matches!(
                connack.code,
                ReasonCode::BadUserNameOrPassword | ReasonCode::NotAuthorized
            )
        )
    }

    /// [`ConnectionError::refusal_advice`] for the broker at `url`: the in-page broker
    /// ([`crate::url::is_in_page`]) has no users or access rules and answers 0x86 Bad User
    /// Name or Password to any CONNECT with a password, so its refusal of who we are is
    /// answered with that, not with Mosquitto's log and limits (a newcomer's break-test, 41-AI
    /// F2, signed in there for the least-privilege lesson).
    pub fn refusal_advice_at(&self, url: &str) -> Option<&'static str> {
        if crate::url::is_in_page(url) && self.asks_for_credentials() {
            return Some(
                "The in-page broker has no users or access rules, and refuses any password: \
                 clear the passwords under Sign in to the broker and press Sign in (its \
                 least-privilege lesson needs Mosquitto: see the README).",
            );
        }
        self.refusal_advice()
    }

    /// For a refusal retrying cannot fix ([`ConnectionError::is_permanent_refusal`]), what to
    /// change before pressing Try again, as a sentence; `None` for any other reason.
    pub fn refusal_advice(&self) -> Option<&'static str> {
        if !self.is_permanent_refusal() {
            return None;
        }
        Some(match self.reason_code() {
            Some(ReasonCode::UnsupportedProtocolVersion) => {
                "The broker does not speak this MQTT version: choose the other one under \
                 Protocol (aedes, for one, speaks only 3.1.1)."
            }
            Some(ReasonCode::ClientIdentifierNotValid) => {
                "The broker refuses the client id (too long, or characters it does not take): \
                 reload the page for new ones, or use another broker."
            }
            Some(ReasonCode::Banned) => {
                "The broker has banned this client: its operator can lift the ban, or use \
                 another broker, then press Try again."
            }
            Some(ReasonCode::BadAuthenticationMethod) => {
                "The broker wants an authentication method this page does not offer: use \
                 another broker, or sign in with a user name and password if it takes them."
            }
            Some(ReasonCode::PacketTooLarge) => {
                "The CONNECT is larger than the broker takes: the service's Last Will (its \
                 status), client id and credentials. Raise the broker's limit (Mosquitto: \
                 message_size_limit, max_packet_size), or use a shorter namespace, user name or \
                 password, then press Try again."
            }
            Some(ReasonCode::TopicNameInvalid | ReasonCode::PayloadFormatInvalid) => {
                "The broker refuses the service's Last Will (its topic, under the namespace, or \
                 its payload): use another namespace, or another broker, then press Try again."
            }
            // Mosquitto answers 3.1.1's return code 5 for other rules too (a newcomer's
            // break-test, 34-J F4: a Will over its `message_size_limit`, on a broker that lets
            // anonymous clients in); under 5.0 that Will gets 0x95 (43-AN F2). Its log does not
            // name the rule (39-AA F4).
            _ if matches!(
                self,
                ConnectionError::Refused {
                    protocol: ProtocolVersion::V311,
                    ..
                }
            ) =>
            {
                concat!(
                    check_credentials!(),
                    " It refuses with this code a Last Will larger than its message_size_limit \
                     too."
                )
            }
            _ => check_credentials!(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::ConnAck;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn refused(protocol: ProtocolVersion, code: ReasonCode) -> ConnectionError {
        ConnectionError::Refused {
            protocol,
            connack: ConnAck::new(false, code),
        }
    }

    #[test]
    fn only_a_bad_user_name_or_password_or_not_authorized_asks_for_credentials() {
        for protocol in [ProtocolVersion::V311, ProtocolVersion::V5] {
            assert!(refused(protocol, ReasonCode::BadUserNameOrPassword).asks_for_credentials());
            assert!(refused(protocol, ReasonCode::NotAuthorized).asks_for_credentials());
            for code in [
                ReasonCode::UnsupportedProtocolVersion,
                ReasonCode::ClientIdentifierNotValid,
                ReasonCode::Banned,
                ReasonCode::ServerUnavailable,
            ] {
                assert!(!refused(protocol, code).asks_for_credentials(), "{code:?}");
            }
        }
        let closed = ConnectionError::TransportFailed("gone".into());
        assert!(!closed.asks_for_credentials());
    }

    #[test]
    fn the_in_page_broker_s_refusal_of_a_password_says_it_has_no_users() {
        for protocol in [ProtocolVersion::V311, ProtocolVersion::V5] {
            let bad = refused(protocol, ReasonCode::BadUserNameOrPassword);
            let there = bad.refusal_advice_at("inpage").unwrap();
            assert!(
                there.starts_with("The in-page broker has no users"),
                "{there}"
            );
            assert!(!there.contains("Mosquitto's log"), "{there}");
            assert_eq!(
                bad.refusal_advice_at("ws://localhost:9001"),
                bad.refusal_advice()
            );
            let version = refused(protocol, ReasonCode::UnsupportedProtocolVersion);
            assert_eq!(
                version.refusal_advice_at("inpage"),
                version.refusal_advice()
            );
        }
    }

    #[test]
    fn the_advice_follows_the_reason() {
        let advice = |code| refused(ProtocolVersion::V5, code).refusal_advice().unwrap();
        let version = advice(ReasonCode::UnsupportedProtocolVersion);
        assert!(version.contains("under Protocol"), "{version}");
        assert!(!version.contains("password"), "{version}");
        assert!(advice(ReasonCode::ClientIdentifierNotValid).contains("client id"));
        assert!(advice(ReasonCode::Banned).contains("banned"));
        let too_large = advice(ReasonCode::PacketTooLarge);
        assert!(too_large.contains("message_size_limit"), "{too_large}");
        assert!(!too_large.contains("password (Sign in"), "{too_large}");
        assert!(advice(ReasonCode::TopicNameInvalid).contains("Last Will"));
        // 3.1.1's return code 5 from Mosquitto for a Will over its message_size_limit, on a
        // broker that lets anonymous clients in (break-test 34-J F4); the log names no rule
        // (39-AA F4), and the advice does not send the learner to look for one.
        let five = refused(ProtocolVersion::V311, ReasonCode::NotAuthorized)
            .refusal_advice()
            .unwrap();
        assert!(
            five.contains("Mosquitto's log shows only the refusal") && !five.contains("says which"),
            "{five}"
        );
        assert!(five.contains("message_size_limit"), "{five}");
        // Under 5.0 Mosquitto refuses that Will with 0x95, not 0x87 (43-AN F2).
        let eighty_seven = advice(ReasonCode::NotAuthorized);
        assert!(
            !eighty_seven.contains("message_size_limit"),
            "{eighty_seven}"
        );
        assert!(five.starts_with(eighty_seven), "{five}");
        let credentials = advice(ReasonCode::BadUserNameOrPassword);
        assert!(
            credentials.contains("user name and password"),
            "{credentials}"
        );
        assert!(
            credentials.contains("at the top of the page"),
            "{credentials}"
        );
        assert_eq!(advice(ReasonCode::NotAuthorized), credentials);
    }

    #[test]
    fn a_refusal_a_retry_may_heal_has_no_advice() {
        let busy = refused(ProtocolVersion::V5, ReasonCode::ServerBusy);
        assert_eq!(busy.refusal_advice(), None);
        let closed = ConnectionError::TransportFailed("gone".into());
        assert_eq!(closed.refusal_advice(), None);
    }
}
