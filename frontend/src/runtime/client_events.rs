//! What a service's client reports (link changes, messages, SUBACKs, packets, publishes
//! delivered or refused, limits learned) and what the runtime does with each; what a client
//! does once connected.

use std::rc::Rc;

use broker_bridge::ws::ClientEvent;
use broker_bridge::{Event, QoS};

use crate::clock::{time_of_day, wall_clock};
use eda_core::services::instances::Instance;
use eda_core::services::presence::session_lost_note;
use eda_core::services::{Command, ServiceId};
use eda_core::state::{Action, LogEntry, SessionMode};
use eda_core::store::stream_of_topic;
use eda_core::trace::service_status::ServiceEvent;

use super::report::problem;
use super::Runtime;

impl Runtime {
    /// What the runtime keeps of `instance`'s link (the gates' view, the trace); the page is
    /// told separately. Also for the links reported before the runtime existed
    /// ([`super::clients::EarlyLinks`]), which the page was told of already.
    pub(super) fn note_link(self: &Rc<Self>, instance: Instance, link: &broker_bridge::Link) {
        if link.is_connected() {
            self.on_connected(instance);
        } else {
            // A clean session ends with its connection: subscribed again only after
            // the next SUBACK (or a CONNACK with Session Present). Each instance
            // counts: its service is reached while one of them is subscribed.
            self.order_gate.borrow_mut().left(instance);
            self.relay_left(instance);
        }
        // A refusal for good is kept, so orders waiting for it say why it will not come.
        self.order_gate.borrow_mut().linked(instance, link);
        let changed = self.links.borrow_mut().link(instance, link.clone());
        if let Some(event) = changed {
            self.record(instance.service, event);
        }
    }

    pub(super) fn on_client_event(self: &Rc<Self>, instance: Instance, event: ClientEvent) {
        let service = instance.service;
        match event {
            ClientEvent::Link(link) => {
                self.note_link(instance, &link);
                self.tell_now(Action::Link(instance, link));
                self.review_order_gate();
            }
            ClientEvent::Session(Event::Message(message)) => {
                // Every filter is under the namespace: a topic outside it is no message of ours.
                let Some(topic) = self.namespace.strip(&message.topic) else {
                    return;
                };
                self.acl_probe_received(topic, &message.payload);
                let correlation = message
                    .properties
                    .user_property(eda_core::config::CORRELATION_PROPERTY)
                    .map(str::to_owned);
                let client = self.client(instance);
                let delivery = super::messages::Delivery {
                    retained: message.retain,
                    // A redelivery by the broker after a reconnection (MQTT §3.3.1.1).
                    redelivered: message.dup,
                    answer: client
                        .delivery_token(&message)
                        .map(|token| (client.clone(), token)),
                };
                self.on_message(
                    instance,
                    topic,
                    message.qos,
                    correlation,
                    &message.payload,
                    delivery,
                )
            }
            ClientEvent::Session(Event::Subscribed { filters, granted }) => {
                // The flow's filters, as the badges and the flow diagram name them.
                let flow_filter = |f: &String| {
                    self.namespace
                        .strip_filter(f)
                        .map_or_else(|| f.clone(), Into::into)
                };
                let answers = filters
                    .iter()
                    .map(|(f, _)| flow_filter(f))
                    .zip(granted.clone());
                self.record(
                    service,
                    ServiceEvent::Subscribed {
                        answers: answers.collect(),
                        protocol: self.protocol,
                    },
                );
                // A SUBACK refusing every filter leaves the service deaf: orders keep waiting.
                let any_granted = granted.iter().any(|code| !code.is_failure());
                // Every one counts, not only the first: a retry held back for a clean session
                // waits for the SUBACK after a restart.
                if any_granted {
                    self.order_gate.borrow_mut().subscribed(instance);
                    self.review_order_gate();
                } else if service == ServiceId::Query {
                    // A deaf read side says so in its log; it does not stop the orders.
                    self.order_gate.borrow_mut().read_side_released();
                    self.review_order_gate();
                } else if let (Some((filter, _)), Some(code)) = (filters.first(), granted.first()) {
                    // Deaf: orders say it will not subscribe by itself, not "goes away".
                    let more = match filters.len() - 1 {
                        0 => String::new(),
                        n => format!(" and {n} more"),
                    };
                    let refused = format!(
                        "the broker refused every subscription of {instance} ({filter}{more}: {})",
                        code.describe_in(self.protocol)
                    );
                    self.order_gate
                        .borrow_mut()
                        .subscription_refused(instance, &refused);
                    self.review_order_gate();
                }
                for ((filter, _), code) in filters.iter().zip(&granted) {
                    if !code.is_failure() {
                        continue;
                    }
                    let why = code.describe_in(self.protocol);
                    let text = format!("the broker refused {filter}: {why}");
                    self.log(service, problem("subscribe", text));
                    if broker_bridge::topic::shared_parts(filter).is_some() {
                        self.tell(Action::SharingRefused(format!(
                            "The broker refused {instance}'s shared subscription {filter} \
                             ({why}): PaymentService's instances cannot share its work on this \
                             broker, and nothing reaches them on that topic. Run one instance \
                             (plain subscriptions), or use a broker that supports $share \
                             (Mosquitto 2.0 does, on MQTT 3.1.1 and 5.0)."
                        )));
                    }
                }
            }
            ClientEvent::Session(Event::MessageTooLarge(skipped)) => {
                let at = time_of_day(wall_clock());
                self.log(service, LogEntry::too_large(at, &skipped));
                // QueryService's log is not on the page: the Read model panel says it too.
                let stream = self
                    .namespace
                    .strip(&skipped.topic)
                    .and_then(stream_of_topic);
                if service == ServiceId::Query && stream.is_some() {
                    self.trace.0.borrow_mut().not_projected.too_large(&skipped);
                    self.trace_changed.set(true);
                    self.report_soon();
                }
            }
            ClientEvent::Session(Event::BrokerFault(fault)) => {
                let at = time_of_day(wall_clock());
                self.log(service, LogEntry::broker_fault(at, &fault));
            }
            ClientEvent::Session(Event::PingWaitLonger { missed, wait }) => {
                // Said in the service's log: the connection ended again, and why it may have.
                let text = broker_bridge::session::ping_wait_text(missed, wait);
                self.log(service, problem("PINGRESP", text));
            }
            ClientEvent::Session(Event::WillAdjusted(change)) => {
                // Said in the service's log; the next CONNECT carries the Will the broker takes.
                self.log(service, problem("Last Will", change));
            }
            ClientEvent::Session(Event::MaximumQoSLearned(_)) => {
                // MQTT 3.1.1: one client's SUBACK (or the broker's closes) showed the broker's
                // maximum QoS; every client of that broker publishes under it from now on, and
                // the capabilities and the warning say so.
                self.share_maximum_qos(instance);
                if let Some(caps) = self.client(instance).capabilities() {
                    self.tell(Action::BrokerCapabilities(caps));
                }
            }
            ClientEvent::Session(Event::QoSLowered {
                topic, asked, sent, ..
            }) => {
                let topic = self.namespace.strip(&topic).unwrap_or(&topic).to_owned();
                let why = self
                    .client(instance)
                    .capabilities()
                    .and_then(|caps| caps.maximum_qos_learned)
                    .map_or_else(
                        || format!("the broker's CONNACK says Maximum QoS {}", sent.level()),
                        |learned| learned.to_string(),
                    );
                let at = time_of_day(wall_clock());
                let entry = LogEntry::qos_lowered(at, &topic, asked, sent, &why);
                // Said, but no failure on the badge: the message went.
                self.log_and_show(service, entry, false);
            }
            ClientEvent::Session(Event::Packet(packet)) => {
                if service == ServiceId::Order {
                    self.outbox_sent(&packet);
                    self.compensation_sent(&packet);
                }
                self.dead_letter_sent(instance, &packet);
                self.trace_packet(service, &packet);
            }
            ClientEvent::Session(Event::Delivered { packet_id, .. }) => {
                self.acl_probe_answered(instance, Some(packet_id), None);
                self.outbox_acknowledged(service, packet_id);
                if let Some(keeper) = &self.keeper {
                    keeper.dead_letter_acknowledged(instance, packet_id, None);
                }
            }
            ClientEvent::Session(Event::PublishFailed {
                packet_id,
                topic,
                payload,
                reason,
            }) => {
                self.acl_probe_answered(instance, packet_id, Some(&reason));
                // An order the broker refused was not published: no copy will come back, and
                // no saga is started from it (its row says the broker refused it).
                if service == ServiceId::Order
                    && self.namespace.strip(&topic)
                        == Some(eda_core::domain::topics::ORDERS_CREATED)
                {
                    self.awaiting_echo
                        .borrow_mut()
                        .remove(&super::echo_key(&payload));
                }
                // Refused: sent again after a reload, it would be refused again.
                if let Some(keeper) = &self.keeper {
                    match packet_id {
                        Some(packet_id) => {
                            keeper.dead_letter_acknowledged(instance, packet_id, Some(&reason))
                        }
                        None => keeper.dead_letter_refused(&topic),
                    }
                }
                // A dead letter the broker refused is marked in the panel: no other client has
                // it (39-AA F2).
                if packet_id.is_some() {
                    let flow_topic = self.namespace.strip(&topic);
                    if let Some((service, letter)) = flow_topic.and_then(|t| {
                        eda_core::services::dead_letter::DeadLetter::decode(t, &payload)
                    }) {
                        self.tell(Action::DeadLetterRefused {
                            service,
                            letter,
                            why: reason.clone(),
                        });
                    }
                }
                match packet_id {
                    Some(packet_id) => self.outbox_acknowledged(service, packet_id),
                    // Queued offline, then over the broker's limits once connected: for good.
                    None => {
                        let why = reason.strip_prefix("not sent: ").unwrap_or(&reason);
                        self.outbox_refused(service, &topic, None, why);
                        if service == ServiceId::Order {
                            self.compensation_refused(&topic, payload);
                        }
                    }
                }
                // A publish the broker refused (e.g. outside the service's ACL) is said, not lost
                // in silence.
                self.log(service, problem(&topic, reason));
            }
            ClientEvent::Session(Event::Connected { session_present }) => {
                // Kept subscriptions show as kept, not as asked forever: no SUBACK comes.
                let present = session_present;
                self.record(service, ServiceEvent::Session { present });
                // The broker kept the session, subscriptions included: no SUBSCRIBE follows.
                if session_present {
                    // Unless its filters changed since (a coordination switch): then its SUBACK.
                    self.order_gate.borrow_mut().session_kept(instance);
                    self.review_order_gate();
                    self.unsubscribe_stale(instance);
                } else if self.session == SessionMode::Persistent
                    && self.order_gate.borrow().had_subscribed(instance)
                {
                    // A failed line in its log; its badge keeps saying what it does (the
                    // service did not fail: the broker forgot it).
                    let words = session_lost_note(&instance.to_string());
                    self.log_and_show(service, problem("session", words), false);
                }
            }
            ClientEvent::Session(_) => {}
        }
    }

    /// A kept session (Session Present) may hold what an earlier page of this tab subscribed
    /// to under another coordination style or number of instances: asked to go
    /// ([`eda_core::services::instances::stale_filters`]), so its messages stop coming.
    fn unsubscribe_stale(self: &Rc<Self>, instance: Instance) {
        let service = instance.service;
        let wanted = self.filters_of(service);
        let stale =
            eda_core::services::instances::stale_filters(service, &wanted, &self.session_tag);
        self.unsubscribe_flow(service, &self.client(instance), &stale);
    }

    /// `instance`'s client is connected: it says it is online (retained, so whoever joins later
    /// learns it; its Will says otherwise if it dies), and InventoryService states every
    /// counted product's level (retained: the broker holds the current stock from the start,
    /// and again after it lost it).
    fn on_connected(self: &Rc<Self>, instance: Instance) {
        let service = instance.service;
        // A new connection: online from its first announcement.
        self.online_since.borrow_mut().remove(&instance);
        self.share_maximum_qos(instance);
        if let Some(caps) = self.client(instance).capabilities() {
            self.tell(Action::BrokerCapabilities(caps));
        }
        if self.monitor_ready.get() {
            self.announce(instance);
        } else {
            self.announce_later.borrow_mut().push(instance);
            // Signed in: held from now, not from the announcement, which waits for the
            // monitor's subscription (an order clicked in between went out unchecked).
            self.hold_until_relayed(instance);
        }
        if service == ServiceId::Inventory {
            // Not before the tab's database is read back: after a reload its levels are the
            // stock, not the link's (a newcomer's break-test: with 2,400 events to read back,
            // the link's 100000 went out retained 125 ms before the database's 98800).
            match self.keeper.as_ref().filter(|k| k.is_reading()) {
                Some(keeper) => {
                    let runtime = Rc::downgrade(self);
                    keeper.hold_while_reading(Box::new(move || {
                        if let Some(runtime) = runtime.upgrade().filter(|r| !r.closed.get()) {
                            if runtime.client(instance).is_connected() {
                                runtime.state_levels(instance);
                            }
                        }
                    }));
                }
                None => self.state_levels(instance),
            }
        }
    }

    /// InventoryService (`instance`) states every counted product's level, retained.
    fn state_levels(self: &Rc<Self>, instance: Instance) {
        let levels = self.flow.borrow().inventory.levels();
        for command in levels {
            if let Command::Retain(update) = command {
                // QoS 0, like the status: an acknowledgement on every new connection would
                // make it look healthy at once (see `status_request`).
                if let Err(e) = self.retain(instance, &update, QoS::AtMostOnce) {
                    self.log(instance.service, problem(&update.topic(), e));
                }
            }
        }
    }
}
