//! The services' presence on `services/+/status`: saying online (retained) once the status
//! monitor listens, again to another page's services met on the same broker, and again
//! (retained) when another client's offline overwrote the status of a service still connected.

use std::rc::Rc;

use broker_bridge::{PublishRequest, QoS};

use crate::clock::wall_clock;
use eda_core::domain::namespace::Namespace;
use eda_core::services::instances::Instance;
use eda_core::services::presence::watch::{overwritten_note, OurClient, Reaction};
use eda_core::services::presence::{status_topic, Presence};

use super::report::{note, problem};
use super::Runtime;

impl Runtime {
    /// `instance` says, retained, that it is online.
    pub(super) fn announce(self: &Rc<Self>, instance: Instance) {
        let client = self.client(instance);
        if let Some(now) = wall_clock() {
            let online = Presence::online(instance.service, &client.client_id(), now);
            let request = status_request(instance, &online, &self.namespace);
            match client.publish_with(request) {
                Ok(_) => {
                    self.announced.borrow_mut().insert(instance);
                }
                Err(e) => self.log(instance.service, problem("status", e.to_string())),
            }
        }
    }

    /// The monitor's subscription is in place: the instances connected meanwhile say they are
    /// online now (another page's services, hearing it, answer: see [`Runtime::met`]).
    pub(super) fn monitor_subscribed(self: &Rc<Self>) {
        self.monitor_ready.set(true);
        self.announced.borrow_mut().clear();
        let waiting = std::mem::take(&mut *self.announce_later.borrow_mut());
        for instance in waiting {
            if !self.is_crashed(instance) && self.client(instance).is_connected() {
                self.announce(instance);
            }
        }
    }

    /// The monitor saw a status on `instance`'s topic (`stored`: its RETAIN flag, a message
    /// kept from before the subscription). Another page met live for the first time: our
    /// services say they are online, not retained, so it learns of this page. Another client's
    /// offline over a service of ours that is connected: it says online again, retained, so the
    /// broker's retained word is true again. The rules:
    /// [`eda_core::services::presence::watch::PresenceWatch`].
    pub(super) fn met(self: &Rc<Self>, instance: Instance, presence: &Presence, stored: bool) {
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
        let reaction = self.watch.borrow_mut().handle(presence, stored, ours);
        match reaction {
            Reaction::Nothing => {}
            Reaction::SayOnlineAgain => {
                let topic = self.namespace.wire(&status_topic(instance));
                self.log(
                    instance.service,
                    note("status", overwritten_note(&topic, presence)),
                );
                self.announce(instance);
            }
            Reaction::AnswerNewPage => self.answer_new_page(),
        }
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
            let online = Presence::online(instance.service, &client.client_id(), now);
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
