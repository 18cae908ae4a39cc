//! Whether the broker relays what a connected service says: a service that says online
//! (retained, on `services/<service>/status`) should hear its own words back through the page's
//! status monitor within moments. When it does not, the broker is dropping what that client
//! publishes: a broker drops in silence a PUBLISH its access rules (ACL) deny (MQTT 3.1.1 has no
//! way to refuse one, §3.3.5; MQTT 5.0 answers only QoS 1 and 2 with reason code 0x87, and the
//! status goes at QoS 0), and Mosquitto 2.0 grants a SUBSCRIBE its ACL denies and then withholds
//! the messages. So a service signed in as a user without rights to its topics looks connected
//! and subscribed, and its orders time out; its status that never comes back is the one thing
//! the page can see.
//!
//! The driver tells [`StatusRelay`] each announcement ([`StatusRelay::announced`]: it arms a
//! timer of [`RELAY_GRACE`] with the ticket), each status the monitor hears
//! ([`StatusRelay::heard`]) and each connection that ends ([`StatusRelay::left`]); when the
//! timer fires, [`StatusRelay::due`] says whether the status is overdue. No clock is read.
//!
//! ```
//! use eda_core::services::presence::relay::{StatusRelay, Verdict};
//! use eda_core::services::presence::Presence;
//! use eda_core::services::ServiceId;
//!
//! let mut relay = StatusRelay::default();
//! let ticket = relay.announced(ServiceId::Payment, "eda-a1b2c3-payment");
//! assert_eq!(relay.due(ticket, true), Verdict::Unrelayed(ServiceId::Payment.into()));
//! assert!(relay.is_unrelayed(ServiceId::Payment));
//! // Heard at last (its user was given the rights): relayed.
//! let online = Presence::online(ServiceId::Payment, "eda-a1b2c3-payment",
//!     eda_core::domain::Timestamp::parse("2024-01-15T10:30:00.000Z").unwrap());
//! assert_eq!(relay.heard(ServiceId::Payment, &online), true);
//! assert!(!relay.is_unrelayed(ServiceId::Payment));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::super::instances::Instance;
use super::super::ServiceId;
use super::Presence;

/// How long after saying online a service's status may take to come back through the monitor
/// before the page says it has not: a broker on the same machine relays it in milliseconds, a
/// distant one in well under a second.
pub const RELAY_GRACE: Duration = Duration::from_secs(3);

/// One announcement awaited: what [`StatusRelay::due`] is asked about when its timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    instance: Instance,
    number: u64,
}

impl Ticket {
    /// The instance whose announcement this ticket awaits.
    pub fn instance(&self) -> Instance {
        self.instance
    }
}

/// What [`StatusRelay::due`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Heard back, or no longer awaited (its connection ended, it announced again since), or the
    /// monitor was not listening: nothing to say.
    Nothing,
    /// Not heard back within [`RELAY_GRACE`] while the monitor listened: the broker drops what
    /// this instance publishes (or what it would be sent).
    Unrelayed(Instance),
}

/// Each instance's last announcement not heard back yet, and the instances found unrelayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusRelay {
    /// Instance → (its client id, the announcement's number).
    awaited: BTreeMap<Instance, (String, u64)>,
    /// Not heard back in time, not heard since.
    unrelayed: BTreeSet<Instance>,
    /// Numbers the announcements.
    next: u64,
    /// Some instance's own online came back since the monitor last subscribed.
    heard_any: bool,
}

impl StatusRelay {
    /// The monitor subscribed (again): whether it hears anything is judged afresh.
    pub fn monitor_subscribed(&mut self) {
        self.heard_any = false;
    }

    /// Whether no instance's own online has come back through the monitor since it last
    /// subscribed: when every status is missing, the monitor (the whole page's user) is the
    /// likelier cause than each service's user ([`unrelayed_note`]).
    pub fn heard_none(&self) -> bool {
        !self.heard_any
    }

    /// `instance`, connected as `client_id`, said online (retained) while the monitor was
    /// subscribed to `services/+/status` on the same broker: returns the ticket to ask
    /// [`StatusRelay::due`] about [`RELAY_GRACE`] later. An instance already unrelayed stays so
    /// until heard.
    pub fn announced(&mut self, instance: impl Into<Instance>, client_id: &str) -> Ticket {
        let instance = instance.into();
        self.next += 1;
        self.awaited
            .insert(instance, (client_id.to_owned(), self.next));
        Ticket {
            instance,
            number: self.next,
        }
    }

    /// The monitor heard `presence` on `instance`'s status topic. Its own client's online (the
    /// client id awaited, or the last one found unrelayed) means the broker relays it: returns
    /// whether it had been found unrelayed (the page then takes its warning back).
    pub fn heard(&mut self, instance: impl Into<Instance>, presence: &Presence) -> bool {
        let instance = instance.into();
        let ours = self
            .awaited
            .get(&instance)
            .is_some_and(|(id, _)| *id == presence.client_id);
        if !presence.is_online() || !ours {
            return false;
        }
        self.heard_any = true;
        self.awaited.remove(&instance);
        self.unrelayed.remove(&instance)
    }

    /// Whether `instance`'s last announcement is still awaited: not heard back, not found
    /// overdue ([`StatusRelay::due`]), its connection not ended.
    pub fn awaits(&self, instance: impl Into<Instance>) -> bool {
        self.awaited.contains_key(&instance.into())
    }

    /// `instance`'s connection ended (or it crashed, or it moved broker): nothing of it is
    /// awaited, and its next connection is judged afresh. Returns whether it had been found
    /// unrelayed.
    pub fn left(&mut self, instance: impl Into<Instance>) -> bool {
        let instance = instance.into();
        self.awaited.remove(&instance);
        self.unrelayed.remove(&instance)
    }

    /// `ticket`'s [`RELAY_GRACE`] is over; `monitor_listening`: the status monitor is connected
    /// and subscribed (without it the page hears nothing, and says nothing).
    pub fn due(&mut self, ticket: Ticket, monitor_listening: bool) -> Verdict {
        let awaited = self
            .awaited
            .get(&ticket.instance)
            .is_some_and(|(_, number)| *number == ticket.number);
        if !awaited || !monitor_listening {
            return Verdict::Nothing;
        }
        if self.unrelayed.insert(ticket.instance) {
            Verdict::Unrelayed(ticket.instance)
        } else {
            // Said already, for an earlier announcement of the same connection.
            Verdict::Nothing
        }
    }

    /// Whether `instance` was found unrelayed and not heard since.
    pub fn is_unrelayed(&self, instance: impl Into<Instance>) -> bool {
        self.unrelayed.contains(&instance.into())
    }

    /// The first instance of `service` found unrelayed and not heard since, if any.
    pub fn unrelayed_of(&self, service: ServiceId) -> Option<Instance> {
        self.unrelayed
            .iter()
            .copied()
            .find(|i| i.service == service)
    }

    /// The instances found unrelayed, in order.
    pub fn unrelayed(&self) -> impl Iterator<Item = Instance> + '_ {
        self.unrelayed.iter().copied()
    }
}

/// As whom a service's client connected ([`unrelayed_note`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedInAs {
    /// No user name: the broker's rules for anonymous clients.
    Nobody,
    /// Its own user (Sign in to the broker, the service's pair).
    ItsOwnUser,
    /// The whole page's user, having none of its own: the status monitor's too.
    ThePageUser,
}

/// The words [`unrelayed_note`] adds when no service's status came back at all: the page's
/// status monitor is the likelier cause, and the page says it once, not once per service (a
/// newcomer's break-test, 34-J F2, read the same 700 characters five times).
pub const MONITOR_HEARS_NOTHING: &str =
    "No service's status has come back through the page's status monitor";

/// What the page says of `instance` (named as the page names it, e.g. `PaymentService`) whose
/// status on `topic` (as on the wire, with the namespace) has not come back, under MQTT
/// `protocol_five` (5.0) or 3.1.1: the sentence for its badge and its log.
///
/// `monitor_hears_nothing`: no service's own status has come back at all while the status
/// monitor reads as the whole page's user ([`StatusRelay::heard_none`]); the note then points at
/// that user first (a newcomer's break-test: a whole-page user without read rights on
/// `services/+/status` had every service blamed, each with its right password).
///
/// `signed_in`: as whom the instance connected. An anonymous one is under the broker's rules
/// for anonymous clients, and orders are not held for it: a newcomer's break-test, an
/// anonymous broker whose ACL denied only the status topics, held every order for good and sent
/// the learner to a user that did not exist. One with no user of its own signs in as the whole
/// page's user, the status monitor's: when nothing comes back, that user may read but not
/// publish, and the note says so (41-AI F1: only the page's `watcher` filled in, the note sent
/// the teacher to check the monitor's user, which could read everything).
pub fn unrelayed_note(
    instance: &str,
    topic: &str,
    protocol_five: bool,
    monitor_hears_nothing: bool,
    signed_in: SignedInAs,
) -> String {
    let why = if protocol_five {
        "a broker drops in silence a QoS 0 PUBLISH its access rules deny (MQTT 5 answers only \
         QoS 1 and 2, with reason code 0x87 Not authorized), and Mosquitto grants a SUBSCRIBE its \
         rules deny, then withholds the messages"
    } else {
        "a broker drops in silence what its access rules deny (MQTT 3.1.1 has no way to refuse a \
         PUBLISH), and Mosquitto grants a SUBSCRIBE its rules deny, then withholds the messages"
    };
    // The monitor's filter under the page's namespace, as on the wire (a newcomer's
    // break-test, 34-J F9: under ?ns=school/class-7 the note named services/+/status).
    let prefix = topic.rfind("services/").map_or("", |at| &topic[..at]);
    let monitor = if monitor_hears_nothing && signed_in == SignedInAs::ThePageUser {
        format!(
            " {MONITOR_HEARS_NOTHING} at all. {instance} has no user of its own, so it signs in \
             as the whole page's user (under Sign in to the broker), as the status monitor does: \
             that user must publish its status as well as read {prefix}services/+/status, and a \
             user that may only read (a watcher) has each service's status dropped in silence. \
             Give each service its own user, or that user the right to publish the services' \
             topics."
        )
    } else if monitor_hears_nothing {
        format!(
            " {MONITOR_HEARS_NOTHING} at all, \
             which points at the monitor first: it reads {prefix}services/+/status as the whole \
             page's user (under Sign in to the broker), and a user that may not read there is \
             granted the SUBSCRIBE and sent nothing. Check that user before each service's."
        )
    } else {
        String::new()
    };
    let deep = crate::services::order_gate::deep_namespace(topic);
    let check = match signed_in {
        SignedInAs::ItsOwnUser => format!(
            "Check that {instance}'s user (under Sign in to the broker) may publish and \
             subscribe to its topics{deep}; orders wait until its status comes through."
        ),
        SignedInAs::ThePageUser => format!(
            "Check that the whole page's user (under Sign in to the broker), which {instance} \
             signs in as, may publish and subscribe to its topics{deep}; orders wait until its \
             status comes through."
        ),
        SignedInAs::Nobody => format!(
            "No user is signed in for {instance}: the broker's rules for anonymous clients \
             decide. Check them, or sign in as a user that may publish and subscribe to its \
             topics{deep}. Orders are not held for an anonymous client: if those rules deny its \
             order topics too, its orders run out their deadline."
        ),
    };
    format!(
        "{instance} is connected, but the broker has not relayed its online status ({topic}) \
         within {} s: {why}. {check}{monitor}",
        RELAY_GRACE.as_secs(),
    )
}

/// How long the online status of a service on a broker of its own (`?broker_<service>=`) may
/// take to reach the page's status monitor, on the page's broker, through the cluster they
/// should form: nodes sharing a store pass it on within a second or two.
pub const ACROSS_BROKERS_GRACE: Duration = Duration::from_secs(10);

/// What the page says of `instance` on its own broker `own_url` whose online status on `topic`
/// (as on the wire) never reached the page's broker `page_url` within [`ACROSS_BROKERS_GRACE`]:
/// the two are not nodes of one cluster (or the link between them is down), so nothing
/// published on one reaches the other's clients. A newcomer's break-test: a link naming another
/// broker's port for PaymentService, and every order ended "payment timed out" with nothing
/// saying why. `link_key` is the link's parameter (`broker_payment`).
pub fn across_brokers_note(
    instance: &str,
    topic: &str,
    own_url: &str,
    page_url: &str,
    link_key: &str,
) -> String {
    format!(
        "{instance} is connected to its own broker {own_url}, but its online status ({topic}) \
         has not reached the page's broker {page_url} within {} s: {own_url} does not pass its \
         messages on to {page_url}, so the two are not nodes of one cluster (or the link between \
         them is down), and no order reaches {instance}; each runs out its deadline. Give \
         {instance} a node of the page's cluster (?{link_key}=), or leave it on the page's \
         broker.",
        ACROSS_BROKERS_GRACE.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::services::ServiceId;

    fn online(service: ServiceId, id: &str) -> Presence {
        Presence::online(
            service,
            id,
            Timestamp::parse("2024-01-15T10:30:00.000Z").unwrap(),
        )
    }

    #[test]
    fn a_status_heard_back_in_time_is_relayed() {
        let mut relay = StatusRelay::default();
        let ticket = relay.announced(ServiceId::Payment, "eda-ab-payment");
        assert!(!relay.heard(
            ServiceId::Payment,
            &online(ServiceId::Payment, "eda-ab-payment")
        ));
        assert_eq!(relay.due(ticket, true), Verdict::Nothing);
        assert!(!relay.is_unrelayed(ServiceId::Payment));
    }

    #[test]
    fn a_status_not_heard_back_while_the_monitor_listens_is_unrelayed_once() {
        let mut relay = StatusRelay::default();
        let first = relay.announced(ServiceId::Payment, "eda-ab-payment");
        // Another client's online, or its own Will, are not its online heard back.
        assert!(!relay.heard(
            ServiceId::Payment,
            &online(ServiceId::Payment, "eda-cd-payment")
        ));
        let will = Presence::will(ServiceId::Payment, "eda-ab-payment");
        assert!(!relay.heard(ServiceId::Payment, &will));
        assert_eq!(
            relay.due(first, true),
            Verdict::Unrelayed(ServiceId::Payment.into())
        );
        assert!(relay.is_unrelayed(ServiceId::Payment));
        assert!(!relay.is_unrelayed(ServiceId::Order));
        // Announced again on the same connection (answering a false status): said once.
        let second = relay.announced(ServiceId::Payment, "eda-ab-payment");
        assert_eq!(relay.due(second, true), Verdict::Nothing);
        assert!(relay.is_unrelayed(ServiceId::Payment));
        // Its user was given the rights, and it announced: heard, the warning goes.
        relay.announced(ServiceId::Payment, "eda-ab-payment");
        assert!(relay.heard(
            ServiceId::Payment,
            &online(ServiceId::Payment, "eda-ab-payment")
        ));
        assert_eq!(relay.unrelayed().count(), 0);
    }

    #[test]
    fn nothing_is_said_without_the_monitor_nor_after_the_connection_ended() {
        let mut relay = StatusRelay::default();
        let ticket = relay.announced(ServiceId::Order, "eda-ab-order");
        assert_eq!(
            relay.due(ticket, false),
            Verdict::Nothing,
            "the monitor not listening"
        );
        let ticket = relay.announced(ServiceId::Order, "eda-ab-order");
        assert!(!relay.left(ServiceId::Order));
        assert_eq!(
            relay.due(ticket, true),
            Verdict::Nothing,
            "its connection ended"
        );
        // An old ticket of a connection announced again is not the one awaited.
        let old = relay.announced(ServiceId::Order, "eda-ab-order");
        let new = relay.announced(ServiceId::Order, "eda-ab-order");
        assert_eq!(relay.due(old, true), Verdict::Nothing);
        assert_eq!(
            relay.due(new, true),
            Verdict::Unrelayed(ServiceId::Order.into())
        );
        assert!(
            relay.left(ServiceId::Order),
            "its warning goes with the connection"
        );
        assert!(!relay.is_unrelayed(ServiceId::Order));
    }

    #[test]
    fn an_instance_of_payment_service_is_judged_on_its_own() {
        let mut relay = StatusRelay::default();
        let second = Instance::new(ServiceId::Payment, 2);
        let ticket = relay.announced(second, "eda-ab-payment-2");
        assert_eq!(relay.due(ticket, true), Verdict::Unrelayed(second));
        assert!(relay.is_unrelayed(second));
        assert!(
            !relay.is_unrelayed(ServiceId::Payment),
            "the first instance is heard apart"
        );
        assert_eq!(relay.unrelayed_of(ServiceId::Payment), Some(second));
        assert_eq!(relay.unrelayed_of(ServiceId::Order), None);
    }

    #[test]
    fn every_status_missing_points_at_the_monitor_first() {
        let mut relay = StatusRelay::default();
        relay.monitor_subscribed();
        let order = relay.announced(ServiceId::Order, "eda-ab-order");
        let payment = relay.announced(ServiceId::Payment, "eda-ab-payment");
        assert!(relay.heard_none());
        assert_eq!(
            relay.due(order, true),
            Verdict::Unrelayed(ServiceId::Order.into())
        );
        assert!(
            relay.heard_none(),
            "none came back: the monitor is the first suspect"
        );
        // Under a namespace, the monitor's filter as on the wire (break-test 34-J F9).
        let deep = unrelayed_note(
            "OrderService",
            "school/class-7/services/order/status",
            false,
            true,
            SignedInAs::ItsOwnUser,
        );
        assert!(
            deep.contains("it reads school/class-7/services/+/status as the whole page's user"),
            "{deep}"
        );
        let text = unrelayed_note(
            "OrderService",
            "services/order/status",
            false,
            true,
            SignedInAs::ItsOwnUser,
        );
        assert!(
            text.ends_with(
                "No service's status has come back through the page's status monitor at all, \
                 which points at the monitor first: it reads services/+/status as the whole \
                 page's user (under Sign in to the broker), and a user that may not read there \
                 is granted the SUBSCRIBE and sent nothing. Check that user before each \
                 service's."
            ),
            "{text}"
        );
        // One came back: the monitor hears, so each missing status is its own service's.
        relay.heard(
            ServiceId::Payment,
            &online(ServiceId::Payment, "eda-ab-payment"),
        );
        assert!(!relay.heard_none());
        assert_eq!(relay.due(payment, true), Verdict::Nothing);
        // Subscribed again (another whole-page user): judged afresh.
        relay.monitor_subscribed();
        assert!(relay.heard_none());
    }

    /// 41-AI F1: only the whole page's user filled in (a watcher, which may read everything
    /// and publish nothing): every service signs in as it, and nothing comes back. The note
    /// says the services sign in as that user and need users of their own, not to check the
    /// monitor's reading first.
    #[test]
    fn a_service_signed_in_as_the_page_s_user_is_told_so_when_nothing_comes_back() {
        let text = unrelayed_note(
            "OrderService",
            "services/order/status",
            false,
            true,
            SignedInAs::ThePageUser,
        );
        assert!(
            text.contains(
                "Check that the whole page's user (under Sign in to the broker), which \
                 OrderService signs in as, may publish and subscribe to its topics"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "No service's status has come back through the page's status monitor at all. \
                 OrderService has no user of its own, so it signs in as the whole page's user \
                 (under Sign in to the broker), as the status monitor does: that user must \
                 publish its status as well as read services/+/status, and a user that may only \
                 read (a watcher) has each service's status dropped in silence. Give each \
                 service its own user, or that user the right to publish the services' topics."
            ),
            "{text}"
        );
        assert!(!text.contains("points at the monitor first"), "{text}");
    }

    #[test]
    fn the_note_names_the_service_the_topic_and_what_to_check() {
        let text = unrelayed_note(
            "PaymentService",
            "services/payment/status",
            false,
            false,
            SignedInAs::ItsOwnUser,
        );
        assert!(
            text.starts_with(
                "PaymentService is connected, but the broker has not relayed its online status \
                 (services/payment/status) within 3 s: a broker drops in silence what its access \
                 rules deny (MQTT 3.1.1"
            ),
            "{text}"
        );
        assert!(
            text.contains("Check that PaymentService's user (under Sign in to the broker) may publish and subscribe to its topics"),
            "{text}"
        );
        let five = unrelayed_note(
            "PaymentService",
            "class-7/services/payment/status",
            true,
            false,
            SignedInAs::ItsOwnUser,
        );
        assert!(five.contains("(class-7/services/payment/status)"), "{five}");
        assert!(five.contains("0x87"), "{five}");
        // Anonymous: no user to check, and orders are not held.
        let anonymous = unrelayed_note(
            "PaymentService",
            "services/payment/status",
            false,
            false,
            SignedInAs::Nobody,
        );
        assert!(!anonymous.contains("user (under Sign in"), "{anonymous}");
        assert!(
            anonymous.contains("No user is signed in for PaymentService: the broker's rules for anonymous clients decide"),
            "{anonymous}"
        );
        assert!(anonymous.contains("Orders are not held"), "{anonymous}");
    }

    #[test]
    fn a_status_that_never_crosses_to_the_page_s_broker_names_both_brokers() {
        let text = across_brokers_note(
            "PaymentService",
            "mix/services/payment/status",
            "ws://127.0.0.1:19624",
            "ws://127.0.0.1:19611",
            "broker_payment",
        );
        assert!(
            text.starts_with(
                "PaymentService is connected to its own broker ws://127.0.0.1:19624, but its \
                 online status (mix/services/payment/status) has not reached the page's broker \
                 ws://127.0.0.1:19611 within 10 s"
            ),
            "{text}"
        );
        assert!(text.contains("not nodes of one cluster"), "{text}");
        assert!(text.contains("(?broker_payment=)"), "{text}");
    }
}
