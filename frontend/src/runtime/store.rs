//! OrderService's event store and QueryService's read model: each appended event published on
//! `eventstore/orders/<orderId>` and kept in the page's copy, the store taken over from the
//! tab's database after a reload, and a rebuilt read model taken in.

use std::rc::Rc;

use broker_bridge::{PublishRequest, QoS, SessionError};

use crate::clock::{self, wall_clock};
use crate::store_keeper::Publication;
use eda_core::services::instances::Instance;
use eda_core::services::{Command, ServiceId, Work};
use eda_core::store::{EventStore, ReadModel, StoredEvent};

use super::publish::at_most_broker_maximum;
use super::report::problem;
use super::Runtime;

impl Runtime {
    /// OrderService appended `event` to its store: published on `eventstore/orders/<orderId>`
    /// (QoS 1, or the broker's maximum if lower: a `max_qos 0` broker takes it at most once),
    /// for the read side and anyone watching, and kept in the page's copy of the store (the
    /// Event store panel).
    pub(super) fn record_stored(self: &Rc<Self>, instance: Instance, event: StoredEvent) {
        if !self.held_behind_owed(instance, || Publication::Stored(event.clone())) {
            self.publish_stored(instance, &event);
        }
        // Bound first: the log below records into the trace too (a guard kept for the `if let`
        // body panicked the page, "already borrowed").
        let inserted = self.trace.0.borrow_mut().store.insert(event);
        if let Err(e) = inserted {
            self.log(instance.service, problem("event store", e.to_string()));
        }
        // The panels that read the store (and the Orders panel's word on an outcome not yet on
        // the wire) follow it, with no packet to tell them while the broker is away.
        self.trace_changed.set(true);
        self.report_soon();
    }

    /// Publishes `event`, appended to OrderService's store, on `eventstore/orders/<orderId>`
    /// with `instance`'s client; a refusal goes to its log (and, for good, off the outbox), and
    /// one for the broker's Maximum Packet Size to the page's warnings and the Read model
    /// panel's line of events not projected.
    pub(super) fn publish_stored(self: &Rc<Self>, instance: Instance, event: &StoredEvent) {
        let topic = self.namespace.wire(&event.topic());
        let client = self.client(instance);
        let qos = at_most_broker_maximum(&client, QoS::AtLeastOnce);
        let payload = event.to_json();
        let request = PublishRequest::new(topic.clone(), payload.clone(), qos);
        let Some(request) = self.unless_crashed(instance, request) else {
            return;
        };
        if let Err(e) = client.publish_with(request) {
            self.outbox_publish_refused(instance.service, (&topic, &payload), &e);
            self.log(instance.service, problem(&event.topic(), e.to_string()));
            self.warn_if_too_large(&event.topic(), &e);
            // Never on the wire: the Read model panel says why it waits for it.
            if let SessionError::PacketTooLarge { size, max, .. } = e {
                self.trace
                    .0
                    .borrow_mut()
                    .not_projected
                    .not_published(event, size, max);
                self.trace_changed.set(true);
                self.report_soon();
            }
        }
    }

    /// QueryService takes `model` (a rebuild from the event store) as its read model, and the
    /// page's copy follows: the repair after a loss (a clean session while it was down).
    ///
    /// # Errors
    ///
    /// How many events QueryService holds until its projection delay is over, when they are
    /// all its read model lacks: it is behind, not wrong, and is left as it is (a newcomer's
    /// break-test: a rebuild during the delay "repaired" a model that was only stale, and the
    /// lag line said it had caught up while the events were still on their way). One that
    /// would still differ once they are projected (events lost in a crash, one from outside)
    /// is replaced, though some wait (41-AH F5: "Nothing is missing yet" beside a lag line
    /// saying events were lost); those then arrive as duplicates.
    pub fn replace_read_model(self: &Rc<Self>, model: ReadModel) -> Result<(), usize> {
        let pending = self.flow.borrow().projections_pending();
        if pending > 0 {
            let caught_up = self
                .flow
                .borrow()
                .with_projections_pending(&self.trace.0.borrow().read_model);
            if caught_up == model {
                return Err(pending);
            }
        }
        self.flow.borrow_mut().query.restore(model.clone());
        let mut trace = self.trace.0.borrow_mut();
        trace.read_model = model;
        // The store's own events it had not projected are in the rebuilt model.
        trace.not_projected.rebuilt();
        drop(trace);
        self.trace_changed.set(true);
        self.report_soon();
        Ok(())
    }

    /// OrderService takes over `store`, read back from the tab's database after a reload: its
    /// orders, their histories, and each open saga's deadline (what is left of it). Refused,
    /// with why, once OrderService has appended anything of its own (an order placed before
    /// the database answered): the page then keeps what it has.
    pub fn restore_store(self: &Rc<Self>, store: EventStore) -> Result<String, String> {
        let Some(now) = wall_clock() else {
            return Err("the browser clock is out of range".into());
        };
        let (streams, events) = (store.streams().len(), store.len());
        let resent = self
            .keeper
            .as_ref()
            .map_or_else(Vec::new, |keeper| keeper.owed_compensations());
        let commands = {
            let mut flow = self.flow.borrow_mut();
            if !flow.order.store().is_empty() {
                return Err(format!(
                    "The {events} stored events were not restored: orders were placed before \
                     the browser's database answered. The database now holds this page's."
                ));
            }
            flow.restore(store.clone(), now, &resent)
        };
        let open = commands
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Command::Schedule {
                        work: Work::Deadline { .. },
                        ..
                    }
                )
            })
            .count();
        let checks = commands.len() - open;
        let model = self.flow.borrow().query.model().clone();
        {
            let mut trace = self.trace.0.borrow_mut();
            trace.read_model = model;
            // The Orders panel draws the restored orders, marked so, for the wire to move on.
            // An outcome not yet acknowledged by the broker leaves its row open (36-Q F4).
            let owed = self
                .keeper
                .as_ref()
                .map_or_else(Vec::new, |keeper| keeper.owed_outcomes());
            trace.orders.restore_owing(clock::now(), &store, &owed);
            // With what the participants took back before it (their charges and reservations).
            let flow = self.flow.borrow();
            trace
                .orders
                .take_participants(&flow.payment, &flow.inventory);
            trace.store = store;
        }
        self.trace_changed.set(true);
        self.report_soon();
        // The checks of compensations owed wait for them to go out again (publish_owed).
        let (behind, commands): (Vec<Command>, Vec<Command>) =
            commands.into_iter().partition(|command| {
                matches!(command, Command::Schedule { work: Work::Compensation { order_id, .. }, .. }
                    if resent.contains(order_id))
            });
        *self.checks_behind_owed.borrow_mut() = behind;
        self.run(ServiceId::Order.into(), commands);
        // Restored sagas of another style than the link's: the services follow theirs until
        // they end (44-AQ F1), and the link's style waits, said as a switch mid-saga is.
        self.follow_style();
        let owed = self.keeper.as_ref().map_or(0, |keeper| keeper.owed_count());
        let again = match owed {
            0 => String::new(),
            1 => " 1 message that followed from them was never acknowledged by the broker: \
                  OrderService publishes it again once it is connected (its event log says \
                  when)."
                .to_owned(),
            n => format!(
                " {n} messages that followed from them were never acknowledged by the broker: \
                 OrderService publishes them again once it is connected (its event log says \
                 when)."
            ),
        };
        self.publish_owed();
        let checks = match checks {
            0 => String::new(),
            1 => " 1 compensation of a cancelled order was not seen done: OrderService checks \
                  it again."
                .to_owned(),
            n => format!(
                " {n} compensations of cancelled orders were not seen done: OrderService \
                 checks them again."
            ),
        };
        // The in-page broker runs in the page: a reload ends it with everything it held (a
        // newcomer's break-test read "delivered after this", and nothing came).
        // A participant's work under way (a charge taking payment_ms) is not kept across a
        // reload, as across a crash: with orders open, the note says so (41-AI F3: an order
        // whose charge was under way timed out, and the note blamed the broker).
        let held = match (
            broker_bridge::url::is_in_page(&self.url_of(ServiceId::Order)),
            open > 0,
        ) {
            (true, true) => {
                "the in-page broker kept nothing across the reload (it ran in the page), so a \
                 message it had not delivered yet is gone; and work a service had under way (a \
                 charge or a reservation that takes its time) died with the page, as in a \
                 crash: an open order waiting for either ends by its deadline"
            }
            (true, false) => {
                "the in-page broker kept nothing across the reload (it ran in the page)"
            }
            (false, true) => {
                "what the broker kept for the services meanwhile (an order placed just before \
                 the reload, say) is delivered after this; work a service had under way (a \
                 charge or a reservation that takes its time) died with the page, as in a \
                 crash: an open order waiting for it ends by its deadline"
            }
            (false, false) => {
                "what the broker kept for the services meanwhile (an order placed just before \
                 the reload, say) is delivered after this"
            }
        };
        // "0 still open, each resuming …" read oddly (a newcomer's break-test).
        let open = match open {
            // Said of the moment of the restore: the Orders panel counts what is open now
            // (38-Z F4: "10 still open" stood beside "0 open" long after).
            0 => "none was open".to_owned(),
            1 => "1 was open, and resumed with what was left of its deadline".to_owned(),
            n => format!("{n} were open, and each resumed with what was left of its deadline"),
        };
        Ok(format!(
            "Restored from the browser's database: {streams} order{} ({events} event{}), and \
             the read model rebuilt from them; {open}; {held}.{checks}{again}",
            if streams == 1 { "" } else { "s" },
            if events == 1 { "" } else { "s" }
        ))
    }
}
