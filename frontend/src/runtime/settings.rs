//! The learner's settings applied to running services: work delays, the saga's style (and the
//! subscriptions that follow it once the sagas in flight end), the stock on hand, each topic's
//! QoS, and the duplicate rate.

use std::rc::Rc;

use eda_core::services::instances::filters;
use eda_core::services::{Delays, FlowSettings, ServiceId, Stock};
use eda_core::state::{Action, FlowQos};

use super::clients::subscribe;
use super::Runtime;

impl Runtime {
    /// How long PaymentService and InventoryService work on the next orders.
    pub fn set_delays(&self, delays: Delays) {
        self.flow.borrow_mut().settings.delays = delays;
    }

    /// The saga's style, payment rule and deadline from now on. A new style waits for the
    /// sagas in flight to end ([`Flow::choose_style`]); then it changes who subscribes to
    /// what (`Runtime::follow_style`). The stock is [`Runtime::set_stock`]'s.
    ///
    /// [`Flow::choose_style`]: eda_core::services::Flow::choose_style
    pub fn set_flow(self: &Rc<Self>, settings: FlowSettings) {
        {
            let mut flow = self.flow.borrow_mut();
            let (stock, saga) = (flow.inventory.stock().clone(), flow.settings.saga);
            let style = settings.saga;
            flow.settings = FlowSettings {
                stock,
                saga,
                ..settings
            };
            flow.choose_style(style);
        }
        self.follow_style();
    }

    /// After anything that may start or end a saga: tells the page the style still waiting and
    /// for how many sagas in flight, when that changed (the note's count follows the sagas as
    /// they end, and the order gate, which holds new orders back meanwhile, is looked at
    /// again); and makes the clients' subscriptions those of the flow's style, if it changed:
    /// the ones no longer needed are dropped and the new ones made, and orders wait for every
    /// client's SUBACK, a crashed one's after its Restart ([`OrderGate::resubscribing`]).
    ///
    /// [`OrderGate::resubscribing`]: eda_core::services::order_gate::OrderGate::resubscribing
    pub(super) fn follow_style(self: &Rc<Self>) {
        let waiting = self.flow.borrow().style_waiting();
        let count_changed = self.style_waiting_told.replace(waiting) != waiting;
        let (old, new) = (
            self.subscribed_style.get(),
            self.flow.borrow().settings.saga,
        );
        if old == new {
            if count_changed {
                self.tell(Action::StyleWaiting(waiting));
                self.review_order_gate();
            }
            return;
        }
        self.subscribed_style.set(new);
        // The link names the style chosen: the one waiting, else the one the services follow
        // now (after a restore they may follow the restored sagas' for a while).
        let chosen = waiting.map_or(new, |(style, _)| style);
        crate::address_bar::remember(&eda_core::state::query::Setting::Saga(chosen));
        {
            let mut trace = self.trace.0.borrow_mut();
            trace.saga = new;
            // For a recording: each part of the session replays under the style it ran under.
            let at = crate::clock::now();
            trace
                .actions
                .push(eda_core::trace::history::UserAction::StyleChanged {
                    at,
                    from: old,
                    to: new,
                });
        }
        self.trace_changed.set(true);
        let (instances, tag) = (self.payment_instances, &self.session_tag);
        for (instance, client) in self.clients.borrow().iter() {
            let service = instance.service;
            let wanted = filters(service, new, instances, tag);
            let had = filters(service, old, instances, tag);
            let gone: Vec<String> = had
                .iter()
                .filter(|f| !wanted.contains(f))
                .cloned()
                .collect();
            self.unsubscribe_flow(service, client, &gone);
            // Its filters changed: orders wait for its SUBACK, crashed or disconnected too (its
            // kept session holds the old style's filters, 40-AF F1). A service whose filters
            // are the same under both styles (NotificationService, InventoryService between
            // parallel and choreography) holds nothing back (40-AG F1).
            if !gone.is_empty() || wanted.iter().any(|f| !had.contains(f)) {
                self.order_gate.borrow_mut().resubscribing(*instance);
            }
            let qos = self.qos.get();
            subscribe(
                *instance,
                client,
                &wanted,
                qos,
                &self.namespace,
                &self.report,
            );
        }
        self.tell(Action::StyleWaiting(waiting));
        self.review_order_gate();
    }

    /// The share of published messages sent twice (`?duplicates=`).
    pub(super) fn duplicates(&self) -> u8 {
        self.flow.borrow().settings.duplicates_percent
    }

    /// InventoryService's stock on hand from now on (reservations held are kept): the levels
    /// that changed are published retained, and a product no longer counted has its retained
    /// level cleared.
    pub fn set_stock(self: &Rc<Self>, stock: Stock) {
        let retained = {
            let mut flow = self.flow.borrow_mut();
            flow.settings.stock = stock.clone();
            flow.inventory.set_stock(stock.clone())
        };
        self.run(ServiceId::Inventory.into(), retained);
        self.tell(Action::StockNow(stock));
        self.tell_held();
    }

    /// Uses `qos` from now on: subscriptions are made again with each topic's QoS (the broker
    /// replaces them) and every later publish carries its topic's.
    pub fn set_qos(&self, qos: FlowQos) {
        self.qos.set(qos);
        for (instance, client) in self.clients.borrow().iter() {
            let wanted = self.filters_of(instance.service);
            subscribe(
                *instance,
                client,
                &wanted,
                qos,
                &self.namespace,
                &self.report,
            );
        }
    }
}
