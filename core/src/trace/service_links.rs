//! A service's badge when it runs several clients: PaymentService's instances competing for its
//! work. The service is up while any of its instances is, and crashed only when every one is;
//! an instance that crashes alone takes only its own work in hand with it. With one instance
//! per service (the default) the badge follows that instance exactly, as it always did.
//!
//! The driver tells [`ServiceLinks`] what happens to each instance and records the
//! [`ServiceEvent`]s it returns in the trace.
//!
//! ```
//! use broker_bridge::Link;
//! use eda_core::services::instances::Instance;
//! use eda_core::services::ServiceId;
//! use eda_core::trace::service_links::ServiceLinks;
//! use eda_core::trace::service_status::ServiceEvent;
//! use uuid::Uuid;
//!
//! let (first, second) = (Instance::from(ServiceId::Payment), Instance::new(ServiceId::Payment, 2));
//! let mut links = ServiceLinks::new(&Instance::all(2));
//! let up = Link::Connected { url: "ws://h:1".into() };
//! assert_eq!(links.link(first, up.clone()), Some(ServiceEvent::Link(up.clone())));
//! assert_eq!(links.link(second, up), None, "PaymentService was up already");
//! links.work_started(second, Uuid::nil());
//! // The second instance crashes with an order in hand: the service is still up, the order is lost.
//! assert_eq!(links.crash(second), [ServiceEvent::WorkLost { order_id: Uuid::nil() }]);
//! assert_eq!(links.crash(first), [ServiceEvent::Crashed], "now every instance is down");
//! ```

use std::collections::HashMap;

use broker_bridge::Link;
use uuid::Uuid;

use super::service_status::ServiceEvent;
use crate::services::instances::Instance;
use crate::services::ServiceId;

/// Each instance's link, which are crashed, and their simulated work in hand; and the link each
/// service's badge was last told.
#[derive(Debug, Clone, Default)]
pub struct ServiceLinks {
    links: Vec<(Instance, Link)>,
    crashed: Vec<Instance>,
    in_hand: Vec<(Instance, Uuid)>,
    /// How many times the learner crashed each instance.
    crashes: HashMap<Instance, u32>,
    shown: HashMap<ServiceId, Link>,
}

impl ServiceLinks {
    /// The `instances` the page runs, each starting.
    pub fn new(instances: &[Instance]) -> Self {
        ServiceLinks {
            links: instances.iter().map(|i| (*i, Link::starting(""))).collect(),
            ..ServiceLinks::default()
        }
    }

    /// `instance`'s client reported `link`: the service's new link, if its badge changes.
    pub fn link(&mut self, instance: Instance, link: Link) -> Option<ServiceEvent> {
        if let Some(slot) = self.links.iter_mut().find(|(i, _)| *i == instance) {
            slot.1 = link;
        }
        let service = instance.service;
        let now = self.service_link(service)?;
        if self.shown.get(&service) == Some(&now) {
            return None;
        }
        self.shown.insert(service, now.clone());
        Some(ServiceEvent::Link(now))
    }

    /// The link of the best-placed of `service`'s running instances: connected if any is,
    /// else connecting if any is, else the first one's. `None` when every one is crashed.
    fn service_link(&self, service: ServiceId) -> Option<Link> {
        let running: Vec<&Link> = self
            .links
            .iter()
            .filter(|(i, _)| i.service == service && !self.crashed.contains(i))
            .map(|(_, link)| link)
            .collect();
        let rank = |link: &&&Link| match **link {
            Link::Connected { .. } => 0,
            Link::Connecting { .. } => 1,
            Link::Disconnected { .. } => 2,
        };
        running.iter().min_by_key(rank).map(|link| (**link).clone())
    }

    /// The learner crashed `instance`: [`ServiceEvent::Crashed`] once every instance of its
    /// service is down; before that, the work `instance` had in hand is lost, and the service
    /// carries on with the others.
    pub fn crash(&mut self, instance: Instance) -> Vec<ServiceEvent> {
        if self.crashed.contains(&instance) {
            return Vec::new();
        }
        self.crashed.push(instance);
        *self.crashes.entry(instance).or_default() += 1;
        let lost = self.in_hand_of(instance);
        self.in_hand.retain(|(i, _)| *i != instance);
        let service = instance.service;
        if self.service_link(service).is_none() {
            self.shown.remove(&service);
            return vec![ServiceEvent::Crashed];
        }
        let mut events: Vec<ServiceEvent> = lost
            .into_iter()
            .map(|order_id| ServiceEvent::WorkLost { order_id })
            .collect();
        // Its link no longer counts: the badge may now show another instance's.
        if let Some(now) = self.service_link(service) {
            if self.shown.get(&service) != Some(&now) {
                self.shown.insert(service, now.clone());
                events.push(ServiceEvent::Link(now));
            }
        }
        events
    }

    /// The learner restarted `instance` with a new client at `url`: [`ServiceEvent::Restarted`]
    /// if its service was down, nothing if other instances kept it up.
    pub fn restart(&mut self, instance: Instance, url: &str) -> Option<ServiceEvent> {
        if !self.crashed.contains(&instance) {
            return None;
        }
        let was_down = self.service_link(instance.service).is_none();
        self.crashed.retain(|i| *i != instance);
        if let Some(slot) = self.links.iter_mut().find(|(i, _)| *i == instance) {
            slot.1 = Link::starting(url);
        }
        was_down.then(|| ServiceEvent::Restarted {
            url: url.to_owned(),
        })
    }

    /// The link `instance`'s client last reported (its last one before a crash, while
    /// crashed); `None` for an instance the page does not run.
    pub fn link_of(&self, instance: Instance) -> Option<&Link> {
        self.links
            .iter()
            .find(|(i, _)| *i == instance)
            .map(|(_, link)| link)
    }

    /// Whether the learner crashed `instance` (and has not restarted it).
    pub fn is_crashed(&self, instance: Instance) -> bool {
        self.crashed.contains(&instance)
    }

    /// How many times the learner crashed `instance` on this page (0 if never): work armed
    /// before a crash dies with it, though its timer falls due after the *Restart*.
    pub fn crash_count(&self, instance: Instance) -> u32 {
        self.crashes.get(&instance).copied().unwrap_or(0)
    }

    /// The orders `instance` has simulated work in hand for, oldest first (an order twice if
    /// it works on two deliveries of it).
    pub fn in_hand_of(&self, instance: Instance) -> Vec<Uuid> {
        self.in_hand
            .iter()
            .filter(|(i, _)| *i == instance)
            .map(|(_, order_id)| *order_id)
            .collect()
    }

    /// `instance` started simulated work for `order_id`.
    pub fn work_started(&mut self, instance: Instance, order_id: Uuid) {
        self.in_hand.push((instance, order_id));
    }

    /// `instance`'s work for `order_id` is done (one piece, if it had two).
    pub fn work_done(&mut self, instance: Instance, order_id: Uuid) {
        if let Some(at) = self.in_hand.iter().position(|w| *w == (instance, order_id)) {
            self.in_hand.remove(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_bridge::ConnectionError;
    use std::time::Duration;

    fn up() -> Link {
        Link::Connected {
            url: "ws://h:1".into(),
        }
    }

    fn down() -> Link {
        Link::Disconnected {
            url: "ws://h:1".into(),
            reason: ConnectionError::TransportFailed("gone".into()),
            retry_in: Duration::from_secs(1),
            attempt: 1,
        }
    }

    #[test]
    fn one_instance_per_service_is_followed_exactly() {
        let order = Instance::from(ServiceId::Order);
        let mut links = ServiceLinks::new(&Instance::all(1));
        assert_eq!(links.link(order, up()), Some(ServiceEvent::Link(up())));
        assert_eq!(
            links.link(order, up()),
            None,
            "no change, nothing to record"
        );
        assert_eq!(links.link(order, down()), Some(ServiceEvent::Link(down())));
        links.work_started(order, Uuid::nil());
        assert_eq!(links.in_hand_of(order), [Uuid::nil()]);
        assert_eq!(links.crash_count(order), 0);
        assert_eq!(links.crash(order), [ServiceEvent::Crashed]);
        assert!(links.is_crashed(order));
        assert!(
            links.in_hand_of(order).is_empty(),
            "its work in hand died with it"
        );
        assert_eq!(links.crash(order), [], "crashed once");
        assert_eq!(links.crash_count(order), 1);
        assert_eq!(
            links.restart(order, "ws://h:1"),
            Some(ServiceEvent::Restarted {
                url: "ws://h:1".into()
            })
        );
        assert_eq!(links.restart(order, "ws://h:1"), None, "not crashed");
        assert_eq!(links.link(order, up()), Some(ServiceEvent::Link(up())));
    }

    #[test]
    fn a_service_with_instances_is_up_while_any_is_and_crashed_when_all_are() {
        let first = Instance::from(ServiceId::Payment);
        let second = Instance::new(ServiceId::Payment, 2);
        let mut links = ServiceLinks::new(&Instance::all(2));
        assert_eq!(links.link(second, up()), Some(ServiceEvent::Link(up())));
        assert_eq!(links.link(first, down()), None, "the second keeps it up");
        links.work_started(first, Uuid::from_u128(1));
        links.work_started(second, Uuid::from_u128(2));
        links.work_done(second, Uuid::from_u128(2));
        links.work_started(second, Uuid::from_u128(3));
        // The connected one crashes: the badge shows the other's link, and its order is lost.
        assert_eq!(
            links.crash(second),
            [
                ServiceEvent::WorkLost {
                    order_id: Uuid::from_u128(3)
                },
                ServiceEvent::Link(down())
            ]
        );
        assert_eq!(links.crash(first), [ServiceEvent::Crashed]);
        // The first back: the service was down, so it restarts.
        assert!(matches!(
            links.restart(first, "ws://h:1"),
            Some(ServiceEvent::Restarted { .. })
        ));
        assert_eq!(links.link(first, up()), Some(ServiceEvent::Link(up())));
        // The second back while the first runs: nothing to say.
        assert_eq!(links.restart(second, "ws://h:1"), None);
        assert_eq!(links.link(second, up()), None);
    }
}
