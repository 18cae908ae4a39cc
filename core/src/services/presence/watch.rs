//! What a page does with the statuses it hears on `services/+/status` when it shares a
//! namespace with other pages: each status topic retains one message, whoever wrote it last.
//!
//! - Another page met **live** for the first time (it just said it is online): this page's
//!   services answer, not retained, so that page learns of this one (the retained slot is now
//!   its own). A page met through a **stored** retained message was there before this page's
//!   monitor subscribed, and hears this page's own announcement, made after: no answer. So two
//!   pages exchange one message per service each, not one per client met.
//! - Another client's **offline** (its Last Will, or its stopped message) on the topic of a
//!   service this page runs and has connected: the broker's retained word is now false for this
//!   page's service, which says online again, retained. This page's own client's offline (its
//!   Will after the learner crashed it) is answered only if that client is connected again (a
//!   Will come late): the crash lesson keeps its Will.
//!   Online never answers offline, so two live pages cannot ping-pong.
//! - A page that went (its Wills made this page say online again, retained) and comes back
//!   (a reload: the same client ids, online again) is not answered: its monitor, subscribed
//!   before it said online, got that retained word, stored or live, unless another status
//!   overwrote it meanwhile. So a reload costs one message per service of this page, not two.
//! - Anything on that topic that is no connection's own status (an unreadable message, a
//!   status without a `clientId`, one naming another service, a cleared topic: see
//!   [`Heard`]) is answered the same way: the service is alive, so it says online again,
//!   retained. Its own announcement is its own status, and another page's is an online: neither
//!   is answered retained, so the repair stops there, on one page or two.
//!
//! ```
//! use eda_core::services::presence::watch::{OurClient, PresenceWatch, Reaction};
//! use eda_core::services::presence::Presence;
//! use eda_core::services::ServiceId;
//!
//! let mut watch = PresenceWatch::new("aaaaaa");
//! let will = Presence::will(ServiceId::Order, "eda-bbbbbb-order");
//! let stored = false; // heard live, not a retained message sent on subscribing
//! assert_eq!(
//!     watch.handle(&will, stored, OurClient::Connected),
//!     Reaction::SayOnlineAgain
//! );
//! ```

use std::collections::BTreeSet;

use super::{Heard, Presence, WILL_REASON};
use crate::services::instances::Instance;

/// How this page's client of the instance a status is about stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OurClient {
    /// This page runs no such instance, or its client is not connected, or the learner crashed
    /// it: nothing of ours to speak for.
    NotConnected,
    /// Connected, and it said online (retained) after the monitor's SUBACK: a status stored
    /// before that subscription is already overwritten by ours.
    AnnouncedSinceSubscribed,
    /// Connected.
    Connected,
}

/// What the page does about one status it heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// Nothing.
    Nothing,
    /// A page met live for the first time: each of this page's connected, uncrashed services
    /// says online once, **not** retained (the retained slot stays the newcomer's).
    AnswerNewPage,
    /// The instance's retained status is another client's offline while this page's client of
    /// it is connected: say online again, **retained**, and tell the learner why.
    SayOnlineAgain,
}

/// The other pages' clients a page has seen online (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct PresenceWatch {
    /// This page's client-id prefix, `eda-<tag>-`.
    ours: String,
    /// Client ids of other pages' services seen online.
    met: BTreeSet<String>,
    /// The instances whose topic holds this page's retained online said again
    /// ([`Reaction::SayOnlineAgain`]), overwritten by nothing heard since.
    said_again: BTreeSet<Instance>,
}

impl PresenceWatch {
    /// A watch for the page whose client ids are `eda-<session_tag>-<service>`.
    pub fn new(session_tag: &str) -> PresenceWatch {
        PresenceWatch {
            ours: format!("eda-{session_tag}-"),
            met: BTreeSet::new(),
            said_again: BTreeSet::new(),
        }
    }

    /// The reaction to `presence`, heard on a status topic of a service this page runs; `stored` is the
    /// PUBLISH's RETAIN flag as received (a retained message sent because of a new
    /// subscription, MQTT 3.1.1 §3.3.1.3), `ours` how this page's client of that service stands.
    pub fn handle(&mut self, presence: &Presence, stored: bool, ours: OurClient) -> Reaction {
        if presence.client_id.starts_with(&self.ours) {
            // Its own online is never answered. Its own offline (its Last Will, stopped on
            // purpose) stays while its client is crashed or gone: the crash lesson keeps its
            // Will. Heard while its client is connected, it is a word of an earlier connection
            // under the same client id, come late (a broker that noticed the lost connection
            // late; a cluster node that took this client's node for dead and published its Will
            // for it, seen on a loaded machine), and false: answered as any false status is. So
            // is anything else under its client id, which it never says (a break-test forged
            // `"offline","reason":"fake"` with it, and the page believed it).
            if presence.is_online() {
                return Reaction::Nothing;
            }
            return say_again_if_alive(ours, stored);
        }
        if !presence.is_online() {
            self.met.remove(&presence.client_id);
            return say_again_if_alive(ours, stored);
        }
        let page = page_of(&presence.client_id);
        let known = self.met.iter().any(|id| page_of(id) == page);
        self.met.insert(presence.client_id.clone());
        if known || stored {
            Reaction::Nothing
        } else {
            Reaction::AnswerNewPage
        }
    }
}

impl PresenceWatch {
    /// The reaction to whatever came on `instance`'s status topic, of a service this page runs
    /// ([`Heard::read`]); `stored` and `ours` as for [`PresenceWatch::handle`]. A status is
    /// handled as there; anything else is false for a service that is alive, which says online
    /// again (retained) unless its announcement since the monitor subscribed already replaced
    /// a stored one. A page met live whose online comes right after this page said online
    /// again on that topic (nothing else heard there between: a reload after its Wills) heard
    /// that retained word, so it is not answered ([`Reaction::Nothing`]; the page is known
    /// from then on).
    pub fn hear(
        &mut self,
        instance: Instance,
        heard: &Heard,
        stored: bool,
        ours: OurClient,
    ) -> Reaction {
        let own_online = matches!(heard, Heard::Status(presence)
            if presence.is_online() && presence.client_id.starts_with(&self.ours));
        if own_online {
            // Its own word heard back: the topic still holds it.
            return Reaction::Nothing;
        }
        // Anything else overwrote what this page said there.
        let said_again = self.said_again.remove(&instance);
        let reaction = match heard {
            Heard::Status(presence) => self.handle(presence, stored, ours),
            Heard::Cleared
            | Heard::WithoutClientId { .. }
            | Heard::OtherService { .. }
            | Heard::Unreadable(_)
            | Heard::TooLarge { .. } => say_again_if_alive(ours, stored),
        };
        match reaction {
            Reaction::SayOnlineAgain => {
                self.said_again.insert(instance);
                reaction
            }
            Reaction::AnswerNewPage if said_again => Reaction::Nothing,
            _ => reaction,
        }
    }
}

/// Why a service says online again, in words, for its log: `heard` came on `topic` (as on
/// the wire, with the namespace) while the service is connected under `own_client_id`.
pub fn say_again_note(topic: &str, heard: &Heard, own_client_id: &str) -> String {
    let what = match heard {
        Heard::Status(presence) => return overwritten_note(topic, presence, own_client_id),
        Heard::Cleared => format!("the retained status on {topic} was cleared (an empty message)"),
        Heard::WithoutClientId { status } => {
            format!("a status \"{status}\" without a clientId on {topic}: no connection's word")
        }
        Heard::OtherService { named } => {
            format!("a status naming {named} on {topic}, this service's topic")
        }
        Heard::Unreadable(text) => format!(
            "an unreadable status on {topic}: \"{text}\" (not a status of the wire contract)"
        ),
        Heard::TooLarge { size } => format!(
            "a message of {size} bytes on {topic}, over this page's size limit (skipped unread; \
             no status is that large)"
        ),
    };
    format!(
        "{what}; this service is still connected, and a late subscriber would read that instead \
         of its status: said online again, retained"
    )
}

/// A false status on the topic of an instance whose client is `ours`, `stored` before the
/// monitor's subscription or not: the instance says online again if it is connected, unless its
/// announcement since the monitor subscribed already replaced a stored one.
fn say_again_if_alive(ours: OurClient, stored: bool) -> Reaction {
    match (ours, stored) {
        (OurClient::Connected, _) | (OurClient::AnnouncedSinceSubscribed, false) => {
            Reaction::SayOnlineAgain
        }
        _ => Reaction::Nothing,
    }
}

/// Whether `presence` is one of the two offline statuses a service of this page says under its
/// own client id: its Last Will, or stopped on purpose ([`Presence::will`],
/// [`Presence::stopped`]).
fn is_own_offline(presence: &Presence) -> bool {
    let ours = |word: Presence| presence.reason == word.reason && presence.status == word.status;
    ours(Presence::will(super::super::ServiceId::Order, ""))
        || ours(Presence::stopped(super::super::ServiceId::Order, ""))
}

/// Why a service says online again, in words, for its log: `presence` is the other client's
/// offline status that overwrote this page's on `topic`, or one under this service's own
/// client id `own_client_id`: its own offline come late, or a status it never says
/// ([`PresenceWatch::handle`]).
pub fn overwritten_note(topic: &str, presence: &Presence, own_client_id: &str) -> String {
    if is_own_offline(presence) && presence.client_id == own_client_id {
        let what = if presence.reason.as_deref() == Some(WILL_REASON) {
            "its own Last Will"
        } else {
            "its own \"stopped on purpose\""
        };
        return format!(
            "{what} (client {own_client_id}) came on {topic} while this service is connected: \
             a word of an earlier connection under the same client id, come late (a broker \
             that was stopped: Mosquitto publishes each connected client's Will as it shuts \
             down, and with persistence it keeps it as the retained status across the restart; \
             a broker that noticed the lost connection late; or a cluster node that took this \
             service's node for dead and published its Will for it), so a late subscriber \
             would read \"offline\"; said online again, retained"
        );
    }
    if !is_own_offline(presence) && presence.client_id.starts_with("eda-") {
        let why = presence.reason.as_deref().map_or_else(String::new, |r| {
            format!(" ({})", crate::outside_text::quoted(r))
        });
        return format!(
            "a status \"{}\"{why} naming the playground's client {}, which no service of the \
             playground says (they say online, their Last Will, or stopped on purpose), \
             overwrote the retained status on {topic} while this service is still connected; \
             said online again, retained",
            presence.status, presence.client_id
        );
    }
    let what = if presence.reason.as_deref() == Some(WILL_REASON) {
        "Last Will (its connection ended without DISCONNECT)"
    } else {
        "offline status"
    };
    format!(
        "another client ({}) shares this topic: its {what} overwrote the retained status on {topic} \
         while this service is still connected, so a late subscriber would read \"offline\"; \
         said online again, retained",
        presence.client_id
    )
}

/// The page part of a client id, `eda-<tag>-<service>` → `<tag>`; the whole id for any other
/// shape.
fn page_of(client_id: &str) -> &str {
    client_id
        .strip_prefix("eda-")
        .and_then(|rest| rest.split('-').next())
        .unwrap_or(client_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::services::ServiceId;

    fn now() -> Timestamp {
        Timestamp::parse("2024-01-15T10:30:00.000Z").unwrap()
    }

    #[test]
    fn another_client_s_will_on_a_connected_service_s_topic_is_answered_retained() {
        let mut a = PresenceWatch::new("aaaaaa");
        let will = Presence::will(ServiceId::Payment, "eda-bbbbbb-payment");
        for ours in [OurClient::Connected, OurClient::AnnouncedSinceSubscribed] {
            assert_eq!(a.handle(&will, false, ours), Reaction::SayOnlineAgain);
        }
        let stopped = Presence::stopped(ServiceId::Payment, "eda-bbbbbb-payment");
        assert_eq!(
            a.handle(&stopped, false, OurClient::Connected),
            Reaction::SayOnlineAgain
        );
    }

    #[test]
    fn a_crashed_or_absent_service_s_will_stays() {
        let mut a = PresenceWatch::new("aaaaaa");
        let own = Presence::will(ServiceId::Payment, "eda-aaaaaa-payment");
        assert_eq!(
            a.handle(&own, false, OurClient::NotConnected),
            Reaction::Nothing,
            "this page's own Will (the learner's crash) stays while its client is down"
        );
        let other = Presence::will(ServiceId::Payment, "eda-bbbbbb-payment");
        assert_eq!(
            a.handle(&other, false, OurClient::NotConnected),
            Reaction::Nothing
        );
    }

    #[test]
    fn a_stored_offline_already_overwritten_by_our_announcement_is_not_answered_twice() {
        let mut a = PresenceWatch::new("aaaaaa");
        let will = Presence::will(ServiceId::Order, "eda-cccccc-order");
        assert_eq!(
            a.handle(&will, true, OurClient::AnnouncedSinceSubscribed),
            Reaction::Nothing
        );
        assert_eq!(
            a.handle(&will, true, OurClient::Connected),
            Reaction::SayOnlineAgain,
            "the monitor subscribed again later: the stored Will is false for us"
        );
    }

    #[test]
    fn two_pages_exchange_one_message_per_service_and_online_never_answers() {
        // Page A runs; page B opens: B's monitor gets A's five stored statuses, then B
        // announces (retained) and A hears B's five live.
        let (mut a, mut b) = (PresenceWatch::new("aaaaaa"), PresenceWatch::new("bbbbbb"));
        let mut answers = (0, 0);
        for service in ServiceId::ALL {
            let from_a =
                Presence::online(service, &format!("eda-aaaaaa-{}", service.slug()), now());
            if b.handle(&from_a, true, OurClient::AnnouncedSinceSubscribed) != Reaction::Nothing {
                answers.1 += 1;
            }
        }
        for service in ServiceId::ALL {
            let from_b =
                Presence::online(service, &format!("eda-bbbbbb-{}", service.slug()), now());
            match a.handle(&from_b, false, OurClient::Connected) {
                Reaction::AnswerNewPage => answers.0 += 1,
                Reaction::Nothing => {}
                other => panic!("online answered with {other:?}"),
            }
        }
        // B hears A's answer (live): A is known.
        for service in ServiceId::ALL {
            let from_a =
                Presence::online(service, &format!("eda-aaaaaa-{}", service.slug()), now());
            assert_eq!(
                b.handle(&from_a, false, OurClient::Connected),
                Reaction::Nothing
            );
        }
        assert_eq!(
            answers,
            (1, 0),
            "A answers B once (all its services); B none"
        );
    }

    #[test]
    fn a_page_that_went_and_came_back_is_answered_again() {
        let mut a = PresenceWatch::new("aaaaaa");
        let online = Presence::online(ServiceId::Order, "eda-bbbbbb-order", now());
        let will = Presence::will(ServiceId::Order, "eda-bbbbbb-order");
        assert_eq!(
            a.handle(&online, false, OurClient::NotConnected),
            Reaction::AnswerNewPage
        );
        a.handle(&will, false, OurClient::NotConnected);
        assert_eq!(
            a.handle(&online, false, OurClient::NotConnected),
            Reaction::AnswerNewPage
        );
    }

    #[test]
    fn a_reloaded_page_hears_the_status_said_again_after_its_wills_and_is_not_answered() {
        // B reloads: its Wills (one per service), then its new connections' onlines, same ids.
        let mut a = PresenceWatch::new("aaaaaa");
        let connected = OurClient::AnnouncedSinceSubscribed;
        let status = |p: Presence| Heard::Status(p);
        let id = |s: ServiceId| format!("eda-bbbbbb-{}", s.slug());
        let mut said = Vec::new();
        for service in ServiceId::ALL {
            let online = status(Presence::online(service, &id(service), now()));
            a.hear(service.into(), &online, true, connected);
        }
        for service in ServiceId::ALL {
            let will = status(Presence::will(service, &id(service)));
            said.push(a.hear(service.into(), &will, false, connected));
            // Its own retained online, heard back, leaves the topic as it is.
            let own = status(Presence::online(
                service,
                &format!("eda-aaaaaa-{}", service.slug()),
                now(),
            ));
            assert_eq!(
                a.hear(service.into(), &own, false, connected),
                Reaction::Nothing
            );
        }
        for service in ServiceId::ALL {
            let online = status(Presence::online(service, &id(service), now()));
            said.push(a.hear(service.into(), &online, false, connected));
        }
        let again = said
            .iter()
            .filter(|r| **r == Reaction::SayOnlineAgain)
            .count();
        let answers = said
            .iter()
            .filter(|r| **r == Reaction::AnswerNewPage)
            .count();
        assert_eq!(
            (again, answers),
            (ServiceId::ALL.len(), 0),
            "once per service per Will, and no answer besides: {said:?}"
        );
    }

    #[test]
    fn a_page_coming_back_after_another_status_overwrote_ours_is_answered_and_one_that_heard_ours_is_not(
    ) {
        let mut a = PresenceWatch::new("aaaaaa");
        let order = Instance::from(ServiceId::Order);
        let connected = OurClient::AnnouncedSinceSubscribed;
        let b = |status: Presence| Heard::Status(status);
        let will = b(Presence::will(ServiceId::Order, "eda-bbbbbb-order"));
        assert_eq!(
            a.hear(order, &will, false, connected),
            Reaction::SayOnlineAgain
        );
        // A third page opens: it heard ours (so no answer), and its online takes the retained
        // slot, so B, subscribing now, would not read ours.
        let c = b(Presence::online(
            ServiceId::Order,
            "eda-cccccc-order",
            now(),
        ));
        assert_eq!(a.hear(order, &c, false, connected), Reaction::Nothing);
        let back = b(Presence::online(
            ServiceId::Order,
            "eda-bbbbbb-order",
            now(),
        ));
        assert_eq!(
            a.hear(order, &back, false, connected),
            Reaction::AnswerNewPage
        );
    }

    #[test]
    fn the_note_names_the_will_and_the_other_client() {
        let will = Presence::will(ServiceId::Order, "eda-bbbbbb-order");
        let text = overwritten_note("t10/services/order/status", &will, "eda-aaaaaa-order");
        assert!(text.contains("eda-bbbbbb-order"), "{text}");
        assert!(text.contains("Last Will"), "{text}");
        assert!(text.contains("said online again, retained"), "{text}");
    }

    #[test]
    fn anything_but_a_status_on_a_connected_service_s_topic_is_answered_retained_once() {
        let payment = Instance::from(ServiceId::Payment);
        let mut a = PresenceWatch::new("aaaaaa");
        for heard in [
            Heard::Cleared,
            Heard::Unreadable("not json".into()),
            Heard::WithoutClientId {
                status: "offline".into(),
            },
            Heard::OtherService {
                named: "OrderService".into(),
            },
        ] {
            for ours in [OurClient::Connected, OurClient::AnnouncedSinceSubscribed] {
                assert_eq!(
                    a.hear(payment, &heard, false, ours),
                    Reaction::SayOnlineAgain
                );
            }
            assert_eq!(
                a.hear(payment, &heard, true, OurClient::AnnouncedSinceSubscribed),
                Reaction::Nothing,
                "stored before our announcement, which replaced it"
            );
            assert_eq!(
                a.hear(payment, &heard, false, OurClient::NotConnected),
                Reaction::Nothing
            );
        }
        // Its own re-announcement, heard back, is not answered: no loop.
        let own = Presence::online(ServiceId::Payment, "eda-aaaaaa-payment", now());
        assert_eq!(
            a.hear(
                payment,
                &Heard::Status(own),
                false,
                OurClient::AnnouncedSinceSubscribed
            ),
            Reaction::Nothing
        );
    }

    /// A newcomer's break-test (35-M F6): a 300 KB retained message on a status topic, skipped
    /// unread, was never put right.
    #[test]
    fn a_message_over_the_page_s_limit_on_a_status_topic_is_said_over() {
        let payment = Instance::from(ServiceId::Payment);
        let mut watch = PresenceWatch::new("aaaaaa");
        let heard = Heard::TooLarge { size: 300_005 };
        assert_eq!(
            watch.hear(payment, &heard, false, OurClient::AnnouncedSinceSubscribed),
            Reaction::SayOnlineAgain
        );
        let note = say_again_note("services/payment/status", &heard, "eda-aaaaaa-payment");
        assert!(
            note.starts_with(
                "a message of 300005 bytes on services/payment/status, over this page's size \
                 limit (skipped unread; no status is that large)"
            ),
            "{note}"
        );
    }

    #[test]
    fn two_pages_repairing_the_same_topic_stop_after_one_announcement_each() {
        // Garbage on services/payment/status: both pages say online again, retained; each hears
        // the other's online live, which is never answered retained.
        let payment = Instance::from(ServiceId::Payment);
        let (mut a, mut b) = (PresenceWatch::new("aaaaaa"), PresenceWatch::new("bbbbbb"));
        let garbage = Heard::Unreadable("not json".into());
        let connected = OurClient::AnnouncedSinceSubscribed;
        assert_eq!(
            a.hear(payment, &garbage, false, connected),
            Reaction::SayOnlineAgain
        );
        assert_eq!(
            b.hear(payment, &garbage, false, connected),
            Reaction::SayOnlineAgain
        );
        // They had met already (the two-page warning).
        let from_a = Presence::online(ServiceId::Payment, "eda-aaaaaa-payment", now());
        let from_b = Presence::online(ServiceId::Payment, "eda-bbbbbb-payment", now());
        a.handle(&from_b, false, connected);
        b.handle(&from_a, false, connected);
        for _ in 0..3 {
            assert_eq!(
                a.hear(payment, &Heard::Status(from_b.clone()), false, connected),
                Reaction::Nothing
            );
            assert_eq!(
                b.hear(payment, &Heard::Status(from_a.clone()), false, connected),
                Reaction::Nothing
            );
        }
    }

    #[test]
    fn its_own_offline_heard_while_its_client_is_connected_again_is_answered() {
        // CI, a cluster of two aedes nodes: node A took node B (restarted a moment before) for
        // dead and published the Will of PaymentService, connected to node B; the badge stayed
        // offline for good, since a service's own Will was never answered.
        let mut a = PresenceWatch::new("aaaaaa");
        for own in [
            Presence::will(ServiceId::Payment, "eda-aaaaaa-payment"),
            Presence::stopped(ServiceId::Payment, "eda-aaaaaa-payment"),
        ] {
            for ours in [OurClient::Connected, OurClient::AnnouncedSinceSubscribed] {
                assert_eq!(a.handle(&own, false, ours), Reaction::SayOnlineAgain);
            }
            assert_eq!(
                a.handle(&own, true, OurClient::AnnouncedSinceSubscribed),
                Reaction::Nothing,
                "stored before its announcement, which overwrote it"
            );
        }
        let will = Presence::will(ServiceId::Payment, "eda-aaaaaa-payment");
        let note = overwritten_note("services/payment/status", &will, "eda-aaaaaa-payment");
        assert!(
            note.starts_with(
                "its own Last Will (client eda-aaaaaa-payment) came on services/payment/status \
                 while this service is connected"
            ),
            "{note}"
        );
        assert!(note.ends_with("said online again, retained"), "{note}");
    }

    #[test]
    fn the_say_again_note_says_what_came_in_words() {
        let topic = "services/payment/status";
        let text = say_again_note(
            topic,
            &Heard::Unreadable("not json".into()),
            "eda-aaaaaa-payment",
        );
        assert!(
            text.starts_with("an unreadable status on services/payment/status: \"not json\""),
            "{text}"
        );
        assert!(text.ends_with("said online again, retained"), "{text}");
        let text = say_again_note(
            "services/order/status",
            &Heard::WithoutClientId {
                status: "offline".into(),
            },
            "eda-aaaaaa-order",
        );
        assert!(text.contains("\"offline\" without a clientId"), "{text}");
        let text = say_again_note(
            "services/notification/status",
            &Heard::Cleared,
            "eda-aaaaaa-notification",
        );
        assert!(text.contains("was cleared"), "{text}");
        let text = say_again_note(
            topic,
            &Heard::OtherService {
                named: "OrderService".into(),
            },
            "eda-aaaaaa-payment",
        );
        assert!(text.contains("naming OrderService"), "{text}");
    }

    #[test]
    fn its_own_client_id_on_a_word_it_never_says_is_answered_its_will_not_while_down() {
        // A break-test: `{"status":"offline","reason":"fake own","clientId":"<ours>"}`
        // turned the badge offline for good while PaymentService was connected.
        let mut a = PresenceWatch::new("aaaaaa");
        let forged = Presence {
            reason: Some("fake own".into()),
            ..Presence::will(ServiceId::Payment, "eda-aaaaaa-payment")
        };
        assert_eq!(
            a.handle(&forged, false, OurClient::Connected),
            Reaction::SayOnlineAgain
        );
        assert_eq!(
            a.handle(&forged, false, OurClient::NotConnected),
            Reaction::Nothing,
            "a crashed service speaks for nothing"
        );
        for own in [
            Presence::will(ServiceId::Payment, "eda-aaaaaa-payment"),
            Presence::stopped(ServiceId::Payment, "eda-aaaaaa-payment"),
        ] {
            assert_eq!(
                a.handle(&own, false, OurClient::NotConnected),
                Reaction::Nothing
            );
        }
        let note = overwritten_note("services/payment/status", &forged, "eda-aaaaaa-payment");
        assert!(
            note.starts_with(
                "a status \"offline\" (\"fake own\") naming the playground's client \
                 eda-aaaaaa-payment, which no service of the playground says"
            ),
            "{note}"
        );
    }
}
