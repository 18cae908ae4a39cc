//! Which broker each client talks to: the page's broker and the services' own, moving the
//! clients when they change, trying refused clients again, and the maximum QoS learned of a
//! broker (MQTT 3.1.1) shared by all of its clients.

use broker_bridge::ws::Client;

use eda_core::services::instances::Instance;
use eda_core::services::presence::Presence;
use eda_core::services::ServiceId;
use eda_core::state::broker_switch::LeftInFlight;
use eda_core::state::service_brokers::ServiceBrokers;

use super::clients::recall;
use super::presence::status_request;
use super::Runtime;

impl Runtime {
    /// What is in flight on the services' brokers now: the sagas not ended, the publishes of
    /// the clients that move with the page's broker not yet acknowledged (or not sent: these go
    /// out again on the new broker), and whether the page's broker accepted any of these
    /// clients' connections (only then can it hold messages for them). What a switch of the
    /// page's broker leaves on the old one: [`eda_core::state::broker_switch`].
    pub fn in_flight(&self) -> LeftInFlight {
        let brokers = self.brokers.borrow();
        let clients = self.clients.borrow();
        let moving = || {
            clients
                .iter()
                .filter(|(instance, _)| brokers.own(instance.service).is_none())
                .map(|(_, client)| client)
        };
        LeftInFlight {
            open_orders: self.sagas_in_flight(),
            unacknowledged: moving().map(|client| client.unacknowledged().len()).sum(),
            reached: moving().any(|client| client.has_reached_broker()),
            // The page's state knows the brokers left earlier, and the session mode.
            returning: false,
            clean: false,
            at: crate::clock::now(),
        }
    }

    /// Makes the broker at `url` (a URL already checked) the page's: the monitor and every
    /// service without a broker of its own move to it (again, if it is the same); the others
    /// stay where they are.
    pub fn set_url(&self, url: &str) {
        *self.url.borrow_mut() = url.to_owned();
        let brokers = self.brokers.borrow().clone();
        self.move_clients(|service| brokers.own(service).is_none());
        self.monitor.set_url(url);
    }

    /// Gives the services in `brokers` a broker of their own from now on, and the others the
    /// page's: each service whose broker changes moves to it.
    pub fn set_service_brokers(&self, brokers: ServiceBrokers) {
        let before: Vec<String> = ServiceId::ALL.map(|s| self.url_of(s)).to_vec();
        *self.brokers.borrow_mut() = brokers;
        self.move_clients(|service| {
            let index = ServiceId::ALL.iter().position(|&s| s == service);
            index.is_none_or(|i| before[i] != self.url_of(service))
        });
    }

    /// Moves the running clients of each service `moves` picks to its broker (a crashed one
    /// connects there when restarted).
    fn move_clients(&self, moves: impl Fn(ServiceId) -> bool) {
        for (instance, client) in self.clients.borrow().iter() {
            if moves(instance.service) && !self.is_crashed(*instance) {
                let url = self.url_of(instance.service);
                // Orders wait until it has subscribed on the new broker (or resumed a session
                // there): an order published before would never reach it.
                self.order_gate.borrow_mut().moved(*instance);
                // Said on the broker it leaves, before its DISCONNECT there (which discards
                // the Will): its retained online status would outlive it.
                if client.is_connected() && client.url() != url {
                    let moved = Presence::moved(instance.service, &client.client_id());
                    let _ = client.publish_with(status_request(*instance, &moved, &self.namespace));
                }
                client.set_url(&url);
                // Back on a broker whose session is kept, no SUBACK may teach its ceiling
                // again: what was learned of it holds before the first CONNECT.
                recall(&self.learned.borrow(), client, &url);
            }
        }
    }

    /// Every client the broker refused for good (bad user name or password, not authorized …)
    /// tries again now; the others carry on.
    pub fn retry_refused(&self) {
        for (instance, client) in self.clients.borrow().iter() {
            if !self.is_crashed(*instance) && !client.is_connected() {
                client.retry_now();
            }
        }
        if !self.monitor.is_connected() {
            self.monitor.retry_now();
        }
    }

    /// MQTT 3.1.1: the lowest maximum QoS a client of `instance`'s broker learned holds for
    /// all of that broker's clients (a service publishing at QoS 2 that subscribes at 1 would
    /// otherwise learn it only from the broker closing its connection).
    pub(super) fn share_maximum_qos(&self, instance: Instance) {
        let url = self.url_of(instance.service);
        let clients: Vec<Client> = self
            .clients
            .borrow()
            .iter()
            .filter(|(i, _)| self.url_of(i.service) == url)
            .map(|(_, c)| c.clone())
            .collect();
        let lowest = clients
            .iter()
            .filter_map(|c| c.capabilities()?.maximum_qos_learned)
            .min_by_key(|learned| learned.maximum);
        if let Some(learned) = &lowest {
            self.learned.borrow_mut().note(&url, learned);
        }
        if let Some(learned) = self.learned.borrow().of(&url) {
            for client in &clients {
                client.learn_maximum_qos(learned.clone());
            }
        }
    }
}
