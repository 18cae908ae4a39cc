//! The services' presence on `services/+/status`: saying online (retained) once the status
//! monitor listens, and again to another page's services met on the same broker.

use std::rc::Rc;

use broker_bridge::{PublishRequest, QoS};

use crate::clock::wall_clock;
use eda_core::domain::namespace::Namespace;
use eda_core::services::instances::Instance;
use eda_core::services::presence::{status_topic, Presence};

use super::report::problem;
use super::Runtime;

impl Runtime {
    /// `instance` says, retained, that it is online.
    pub(super) fn announce(self: &Rc<Self>, instance: Instance) {
        let client = self.client(instance);
        if let Some(now) = wall_clock() {
            let online = Presence::online(instance.service, &client.client_id(), now);
            let request = status_request(instance, &online, &self.namespace);
            if let Err(e) = client.publish_with(request) {
                self.log(instance.service, problem("status", e.to_string()));
            }
        }
    }

    /// The monitor's subscription is in place: the instances connected meanwhile say they are
    /// online now (another page's services, hearing it, answer: see [`Runtime::met`]).
    pub(super) fn monitor_subscribed(self: &Rc<Self>) {
        self.monitor_ready.set(true);
        let waiting = std::mem::take(&mut *self.announce_later.borrow_mut());
        for instance in waiting {
            if !self.is_crashed(instance) && self.client(instance).is_connected() {
                self.announce(instance);
            }
        }
    }

    /// The monitor saw a status: if it is another page's service online, met for the first
    /// time, our services say they are online again, not retained. Each status topic retains
    /// one message, the last page's, so a page that connected later would otherwise never learn
    /// of this one; not retained, so the slot stays the last page's and the two stop there.
    pub(super) fn met(self: &Rc<Self>, presence: &Presence) {
        let ours = format!("eda-{}-", self.session_tag);
        if presence.client_id.starts_with(&ours) {
            return;
        }
        if !presence.is_online() {
            self.others_met.borrow_mut().remove(&presence.client_id);
            return;
        }
        if !self
            .others_met
            .borrow_mut()
            .insert(presence.client_id.clone())
        {
            return;
        }
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
