//! Ending the persistent sessions that PaymentService's instances left on the broker when a
//! runtime runs fewer of them ([`sessions_left_behind`]): each with a short-lived client under
//! the left instance's client id that connects with Clean Session 1 (Clean Start and Session
//! Expiry 0 on MQTT 5.0) and leaves at once with DISCONNECT. Until then the broker keeps the
//! left instance in the shared subscription's group and queues a share of every later order
//! for it, to deliver again when an instance of that number comes back.

use std::rc::Rc;

use broker_bridge::ws::{Client, ClientEvent};
use broker_bridge::{ConnectionError, Link, Options};

use eda_core::services::instances::{sessions_left_behind, Instance};
use eda_core::services::ServiceId;
use eda_core::state::SessionMode;

use super::clients::sign_in;
use super::report::{note, problem};
use super::Runtime;
use crate::tab_session;

impl Runtime {
    /// Starts ending the sessions of the PaymentService instances that pages of this tab ran
    /// and this runtime does not (the tab remembers how many ran, [`tab_session::instances_ran`]),
    /// after the services' own clients (the browser opens one WebSocket at a time per host).
    /// Nothing when none is left behind, so a page that keeps its number of instances opens no
    /// further connection.
    pub(super) fn end_left_sessions(self: &Rc<Self>) {
        let left = sessions_left_behind(
            tab_session::instances_ran(&self.session_tag),
            self.payment_instances,
        );
        let url = self.url_of(ServiceId::Payment);
        for instance in left {
            let mut options = Options::new(instance.client_id(&self.session_tag));
            options.protocol = self.protocol;
            // Options' defaults: Clean Session 1 (Clean Start on 5.0) and Session Expiry 0,
            // no Will, no subscription.
            sign_in(
                &mut options,
                self.credentials.for_service(ServiceId::Payment),
            );
            let weak = Rc::downgrade(self);
            let client = Client::connect(options, &url, move |event| {
                let Some(runtime) = weak.upgrade() else {
                    return;
                };
                match event {
                    ClientEvent::Link(Link::Connected { .. }) => {
                        runtime.left_session_ended(instance)
                    }
                    ClientEvent::Link(Link::Disconnected { reason, .. })
                        if reason.is_permanent_refusal() =>
                    {
                        runtime.left_session_refused(instance, &reason)
                    }
                    _ => {}
                }
            });
            self.left_sessions.borrow_mut().push((instance, client));
        }
        self.remember_instances_ran();
    }

    /// The broker accepted the clean CONNECT under `instance`'s client id: the old session is
    /// gone; the client leaves (DISCONNECT) and PaymentService's log says what went with it.
    fn left_session_ended(self: &Rc<Self>, instance: Instance) {
        let Some(client) = self.take_left_session(instance) else {
            return;
        };
        client.close();
        self.remember_instances_ran();
        let text = format!(
            "{instance} is not run now: the page ended the session it had on the broker (a \
             CONNECT with Clean Session 1 under {}, then DISCONNECT), so the broker gives it no \
             share of later messages. Whatever the broker had queued for it went with its \
             session: Mosquitto gives it to no other instance (MQTT 5.0 §4.8.2 says a broker \
             should give a QoS 1 message to another member and must not a QoS 2 one; 3.1.1 has \
             no shared subscriptions), so an order among them ends at its deadline",
            instance.client_id(&self.session_tag)
        );
        self.log(ServiceId::Payment, note("session", text));
    }

    /// The broker refused the clean CONNECT for good: said in PaymentService's log; the tab
    /// still remembers the instance, so its next page tries again.
    fn left_session_refused(self: &Rc<Self>, instance: Instance, reason: &ConnectionError) {
        let Some(client) = self.take_left_session(instance) else {
            return;
        };
        client.close();
        let text = format!(
            "could not end the session {instance} left on the broker ({reason}): the broker may \
             keep giving it a share of the orders, to deliver when {instance} runs again"
        );
        self.log(ServiceId::Payment, problem("session", text));
    }

    fn take_left_session(&self, instance: Instance) -> Option<Client> {
        let mut left = self.left_sessions.borrow_mut();
        let at = left.iter().position(|(i, _)| *i == instance)?;
        Some(left.remove(at).1)
    }

    /// Keeps for the tab how many instances may still hold a session on the broker: those this
    /// runtime runs with persistent sessions (a clean session ends with its connection), and any
    /// left behind not ended yet.
    fn remember_instances_ran(&self) {
        let running = match self.session {
            SessionMode::Persistent => self.payment_instances,
            SessionMode::Clean => 1,
        };
        let pending = self
            .left_sessions
            .borrow()
            .iter()
            .map(|(i, _)| i.number)
            .max();
        let ran = pending.unwrap_or(1).max(running);
        tab_session::remember_instances_ran(&self.session_tag, ran);
    }

    /// Stops the clients still ending left sessions (a new runtime starts them again).
    pub(super) fn stop_ending_left_sessions(&self) {
        for (_, client) in self.left_sessions.take() {
            client.close();
        }
    }
}
