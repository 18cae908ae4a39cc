//! The services' presence on `services/+/status`: saying online (retained) once the status
//! monitor listens, again to another page's services met on the same broker, and again
//! (retained) when another client's offline overwrote the status of a service still connected.

use std::rc::Rc;

use broker_bridge::{PublishRequest, QoS};

use crate::clock::wall_clock;
use eda_core::domain::namespace::Namespace;
use eda_core::services::instances::Instance;
use eda_core::services::presence::relay::{
    across_brokers_note, unrelayed_note, SignedInAs, Ticket, Verdict, ACROSS_BROKERS_GRACE,
    RELAY_GRACE,
};
use eda_core::services::presence::watch::{say_again_note, OurClient, Reaction};
use eda_core::services::presence::{status_topic, Heard, Presence};
use eda_core::services::stock_levels::StockRepair;
use eda_core::services::ServiceId;
use eda_core::state::Action;
use eda_core::trace::Participant;

use super::report::{note, problem};
use super::Runtime;

impl Runtime {
    /// `instance` says, retained, that it is online; not retained on a broker that keeps no
    /// retained messages (MQTT 5.0 Retain Available 0), so the pages online now still hear it
    /// (the other-page warning, the badges): it was not sent at all, and two pages on such a
    /// broker charged every order twice with no warning (a newcomer's break-test).
    pub(super) fn announce(self: &Rc<Self>, instance: Instance) {
        let client = self.client(instance);
        if let Some(now) = wall_clock() {
            let since = self.online_since(instance, now);
            let online = Presence::online(instance.service, &client.client_id(), since);
            let keeps_retained = client.capabilities().is_none_or(|c| c.retain_available);
            let request =
                status_request(instance, &online, &self.namespace).retained(keeps_retained);
            match client.publish_with(request) {
                Ok(_) => {
                    self.announced.borrow_mut().insert(instance);
                    self.await_relay(instance, &client.client_id());
                }
                Err(e) => self.log(instance.service, problem("status", e.to_string())),
            }
        }
    }

    /// `instance` said online as `client_id`: if the monitor listens on its broker, the status
    /// should come back through it within [`RELAY_GRACE`]; if it does not, the broker drops what
    /// the instance publishes (its user's access rules), and the page says so
    /// ([`Runtime::relay_due`]). A service on a broker of its own should be heard too, through
    /// the cluster its broker and the page's form, within [`ACROSS_BROKERS_GRACE`]; orders are
    /// not held for it.
    fn await_relay(self: &Rc<Self>, instance: Instance, client_id: &str) {
        let ticket = self.relay.borrow_mut().announced(instance, client_id);
        if self.url_of(instance.service) != *self.url.borrow() {
            self.later(ACROSS_BROKERS_GRACE, move |runtime| {
                runtime.relay_due(ticket)
            });
            return;
        }
        self.hold_until_relayed(instance);
        self.later(RELAY_GRACE, move |runtime| runtime.relay_due(ticket));
    }

    /// `instance` is connected to the page's broker: if it is signed in as a user of the
    /// learner's, orders wait until its status comes back through the monitor (or is found
    /// overdue), since that user's access rules may drop them in silence
    /// ([`OrderRefusal::RelayPending`](eda_core::services::order_gate::OrderRefusal::RelayPending)).
    /// Called on connecting (before the monitor listens, the announcement waits for it) and on
    /// announcing; anonymous clients and services on a broker of their own are not held.
    pub(super) fn hold_until_relayed(self: &Rc<Self>, instance: Instance) {
        if self.url_of(instance.service) != *self.url.borrow()
            || self.credentials.for_service(instance.service).is_none()
            || self.monitor_refused.get()
        {
            return;
        }
        let topic = self.namespace.wire(&status_topic(instance));
        self.order_gate.borrow_mut().relay_pending(instance, &topic);
        self.review_order_gate();
    }

    /// The status monitor was refused for good (the whole page's user or password): no status
    /// can come back through it, so the services waiting for it to listen are not held on that
    /// account (the monitor's refusal is said on its own; their orders go as they would
    /// without a monitor). A wrong whole-page password must not block every order.
    pub(super) fn monitor_refused(self: &Rc<Self>) {
        self.monitor_refused.set(true);
        let waiting = self.announce_later.borrow().clone();
        for instance in waiting {
            if !self.relay.borrow().awaits(instance) {
                self.order_gate.borrow_mut().relay_settled_pending(instance);
            }
        }
        self.review_order_gate();
    }

    /// [`RELAY_GRACE`] after an announcement: if it has not come back while the monitor listened,
    /// its service's log and badge say so, and orders wait for it
    /// ([`OrderRefusal::NotRelayed`](eda_core::services::order_gate::OrderRefusal::NotRelayed)).
    fn relay_due(self: &Rc<Self>, ticket: Ticket) {
        let listening = self.monitor_ready.get() && self.monitor.is_connected();
        let verdict = self.relay.borrow_mut().due(ticket, listening);
        let Verdict::Unrelayed(instance) = verdict else {
            // Not judged (the monitor was not listening) or judged already: orders no longer
            // wait for this announcement.
            let instance = ticket.instance();
            if !self.relay.borrow().awaits(instance) {
                self.order_gate.borrow_mut().relay_settled_pending(instance);
                self.review_order_gate();
            }
            return;
        };
        let topic = self.namespace.wire(&status_topic(instance));
        let own_url = self.url_of(instance.service);
        let page_url = self.url.borrow().clone();
        if own_url != page_url {
            // On a broker of its own that does not pass its messages on to the page's: said,
            // not held (the page cannot tell a slow cluster from none).
            let link_key = format!("broker_{}", instance.service.slug());
            let words = across_brokers_note(
                &instance.to_string(),
                &topic,
                &own_url,
                &page_url,
                &link_key,
            );
            self.log(instance.service, problem("status", words.clone()));
            self.tell_now(Action::StatusUnrelayed(instance, Some(words)));
            return;
        }
        let five = self.protocol == broker_bridge::ProtocolVersion::V5;
        let monitor_suspect = self.relay.borrow().heard_none() && self.credentials.page().is_some();
        let signed_in = match (
            self.credentials.own(instance.service),
            self.credentials.page(),
        ) {
            (Some(_), _) => SignedInAs::ItsOwnUser,
            (None, Some(_)) => SignedInAs::ThePageUser,
            (None, None) => SignedInAs::Nobody,
        };
        let words = unrelayed_note(
            &instance.to_string(),
            &topic,
            five,
            monitor_suspect,
            signed_in,
        );
        self.log(instance.service, problem("status", words.clone()));
        if signed_in != SignedInAs::Nobody {
            self.order_gate.borrow_mut().unrelayed(instance, &topic);
        } else {
            self.order_gate.borrow_mut().relay_settled_pending(instance);
        }
        self.tell_now(Action::StatusUnrelayed(instance, Some(words)));
        self.review_order_gate();
    }

    /// The monitor heard `presence` on `instance`'s status topic: its own online, after the page
    /// said the broker did not relay it, takes that back.
    pub(super) fn status_heard(self: &Rc<Self>, instance: Instance, presence: &Presence) {
        let was_awaited = self.relay.borrow().awaits(instance);
        let taken_back = self.relay.borrow_mut().heard(instance, presence);
        if was_awaited && !self.relay.borrow().awaits(instance) && !taken_back {
            // Heard in time: orders no longer wait for it.
            self.order_gate.borrow_mut().relay_settled_pending(instance);
            self.review_order_gate();
        }
        if taken_back {
            let topic = self.namespace.wire(&status_topic(instance));
            self.log(
                instance.service,
                note(
                    "status",
                    format!("the broker relayed its online status ({topic}) at last"),
                ),
            );
            self.relay_settled(instance);
        }
    }

    /// `instance`'s connection ended: its status is judged afresh on its next connection.
    pub(super) fn relay_left(self: &Rc<Self>, instance: Instance) {
        if self.relay.borrow_mut().left(instance) {
            self.relay_settled(instance);
        } else {
            // Awaited, perhaps: orders wait for its next connection's status, if signed in.
            self.order_gate.borrow_mut().relay_settled_pending(instance);
            self.review_order_gate();
        }
    }

    /// The page no longer says `instance`'s status is not relayed, nor holds orders for it.
    fn relay_settled(self: &Rc<Self>, instance: Instance) {
        self.order_gate.borrow_mut().relayed(instance);
        self.tell_now(Action::StatusUnrelayed(instance, None));
        self.review_order_gate();
    }

    /// A packet `participant`'s client sent or received, traced, and the page told soon: a
    /// service's, or the status monitor's on its own lifeline ([`Participant::Monitor`]), so a
    /// Last Will the broker publishes, or a stock level anyone retained, is seen arriving where
    /// the page reads it.
    pub(super) fn trace_packet(
        self: &Rc<Self>,
        participant: impl Into<Participant>,
        packet: &broker_bridge::PacketEvent,
    ) {
        self.trace.0.borrow_mut().record(participant, packet);
        self.trace_changed.set(true);
        self.report_soon();
    }

    /// The monitor's subscription is in place: the instances connected meanwhile say they are
    /// online now (another page's services, hearing it, answer: see [`Runtime::met`]).
    pub(super) fn monitor_subscribed(self: &Rc<Self>) {
        self.monitor_ready.set(true);
        self.relay.borrow_mut().monitor_subscribed();
        self.announced.borrow_mut().clear();
        let waiting = std::mem::take(&mut *self.announce_later.borrow_mut());
        for instance in waiting {
            if !self.is_crashed(instance) && self.client(instance).is_connected() {
                self.announce(instance);
            }
        }
    }

    /// The monitor saw a message on `instance`'s status topic (`stored`: its RETAIN flag, a message
    /// kept from before the subscription). Another page met live for the first time: our
    /// services say they are online, not retained, so it learns of this page. Another client's
    /// offline over a service of ours that is connected: it says online again, retained, so the
    /// broker's retained word is true again; the same over anything that is no connection's
    /// own status (unreadable, without a client id, naming another service, cleared). The rules:
    /// [`eda_core::services::presence::watch::PresenceWatch`].
    pub(super) fn met(self: &Rc<Self>, instance: Instance, heard: &Heard, stored: bool) {
        let ours = match self.client_of(instance) {
            Some(client) if client.is_connected() && !self.is_crashed(instance) => {
                if self.announced.borrow().contains(&instance) {
                    OurClient::AnnouncedSinceSubscribed
                } else {
                    OurClient::Connected
                }
            }
            _ => OurClient::NotConnected,
        };
        let reaction = self.watch.borrow_mut().hear(instance, heard, stored, ours);
        match reaction {
            Reaction::Nothing => {}
            Reaction::SayOnlineAgain => {
                let topic = self.namespace.wire(&status_topic(instance));
                let own = self
                    .client_of(instance)
                    .map_or_else(String::new, |client| client.client_id());
                self.log(
                    instance.service,
                    note("status", say_again_note(&topic, heard, &own)),
                );
                self.announce(instance);
            }
            Reaction::AnswerNewPage => self.answer_new_page(),
        }
    }

    /// The monitor saw a message on `topic` (without the namespace) under `inventory/stock/+`:
    /// if it is false for a product InventoryService counts (cleared, unreadable) while
    /// InventoryService is connected, it says so and states the level again, retained, at QoS 0
    /// like its levels on connecting. Rules: [`StockRepair::check`].
    pub(super) fn stock_heard(self: &Rc<Self>, topic: &str, payload: &[u8]) {
        self.repair_stock(topic, |stock| StockRepair::check(stock, topic, payload));
    }

    /// The monitor skipped a message of `size` bytes on `topic` (without the namespace) under
    /// `inventory/stock/+`, over the page's size limit: for a product InventoryService counts,
    /// while it is connected, it says so and states the level again ([`StockRepair::too_large`]).
    pub(super) fn stock_too_large(self: &Rc<Self>, topic: &str, size: usize) {
        self.repair_stock(topic, |stock| StockRepair::too_large(stock, topic, size));
    }

    /// While InventoryService is connected, the repair `judge` finds for its stock on `topic`
    /// (without the namespace), if any: said in its log, and the level stated again, retained,
    /// at QoS 0 like its levels on connecting.
    fn repair_stock(
        self: &Rc<Self>,
        topic: &str,
        judge: impl FnOnce(&eda_core::services::Stock) -> Option<StockRepair>,
    ) {
        let inventory = Instance::from(ServiceId::Inventory);
        let alive = self
            .client_of(inventory)
            .is_some_and(|client| client.is_connected() && !self.is_crashed(inventory));
        if !alive {
            return;
        }
        let repair = judge(self.flow.borrow().inventory.stock());
        if let Some(repair) = repair {
            let wire = self.namespace.wire(topic);
            self.log(ServiceId::Inventory, note("stock", repair.note(&wire)));
            if let Err(e) = self.retain(inventory, &repair.update, QoS::AtMostOnce) {
                self.log(ServiceId::Inventory, problem(topic, e));
            }
        }
    }

    /// When `instance`'s current connection was first said online; `now` if it has not been.
    fn online_since(
        &self,
        instance: Instance,
        now: eda_core::domain::Timestamp,
    ) -> eda_core::domain::Timestamp {
        *self
            .online_since
            .borrow_mut()
            .entry(instance)
            .or_insert(now)
    }

    /// Each connected, uncrashed service says it is online, not retained: the retained slot
    /// stays the newcomer's, and the two pages stop there.
    fn answer_new_page(self: &Rc<Self>) {
        let Some(now) = wall_clock() else {
            return;
        };
        for (instance, client) in self.clients.borrow().iter() {
            if self.is_crashed(*instance) || !client.is_connected() {
                continue;
            }
            let since = self.online_since(*instance, now);
            let online = Presence::online(instance.service, &client.client_id(), since);
            let topic = self.namespace.wire(&status_topic(*instance));
            let request = PublishRequest::new(topic, online.to_json(), QoS::AtMostOnce);
            let _ = client.publish_with(request);
        }
    }
}

/// A retained status message of `service`, at QoS 0: the broker keeps it all the same, and an
/// acknowledgement would make every new connection look healthy at once (the reconnect delay
/// starts over only for a connection that carried the flow's traffic).
pub(super) fn status_request(
    instance: Instance,
    presence: &Presence,
    namespace: &Namespace,
) -> PublishRequest {
    let topic = namespace.wire(&status_topic(instance));
    PublishRequest::new(topic, presence.to_json(), QoS::AtMostOnce).retained(true)
}
