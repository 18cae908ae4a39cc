//! The least-privilege demonstration: PaymentService publishes where its ACL does not allow,
//! and the page is told how the broker answered (MQTT 5.0 PUBACK 0x87, or 3.1.1's silent drop).

use std::rc::Rc;

use broker_bridge::{ProtocolVersion, PublishRequest, QoS};

use eda_core::services::acl::{probe_answer, probe_payload, ProbeOutcome, OUTSIDE_ACL};
use eda_core::services::instances::Instance;
use eda_core::state::Action;

use super::Runtime;

impl Runtime {
    /// The least-privilege demonstration: PaymentService publishes on `orders/created`, which
    /// its ACL does not allow ([`OUTSIDE_ACL`]). The answer comes as [`Action::AclProbe`]: MQTT
    /// 5.0 PUBACK 0x87 Not authorized; in 3.1.1 a PUBACK that hides the drop.
    pub fn publish_outside_acl(self: &Rc<Self>) -> Result<(), String> {
        let (service, topic) = OUTSIDE_ACL;
        if self.is_crashed(service.into()) {
            return Err(format!("{service} is crashed: restart it first"));
        }
        let request = PublishRequest::new(
            self.namespace.wire(topic),
            probe_payload().into_bytes(),
            QoS::AtLeastOnce,
        );
        match self.client(service.into()).publish_with(request) {
            Ok(broker_bridge::Publishing::Sent { packet_id }) => {
                self.acl_probe.set(packet_id);
                self.acl_probe_delivered.set(Some(false));
                self.tell(Action::AclProbe(format!(
                    "{service} sent PUBLISH on {topic}; waiting for the broker's answer …"
                )));
                Ok(())
            }
            Ok(_) => Err(format!(
                "{service} is not connected: it would only queue it"
            )),
            Err(e) => Err(format!("{service} could not publish it: {e}")),
        }
    }

    /// The broker answered the least-privilege demonstration's publish.
    pub(super) fn acl_probe_answered(
        self: &Rc<Self>,
        instance: Instance,
        packet_id: Option<u16>,
        refused: Option<&str>,
    ) {
        let (service, _) = OUTSIDE_ACL;
        if instance != service.into() || packet_id.is_none() || self.acl_probe.get() != packet_id {
            return;
        }
        self.acl_probe.set(None);
        let outcome = match refused {
            Some(reason) => {
                self.acl_probe_delivered.set(None);
                ProbeOutcome::Refused(reason.to_owned())
            }
            // One of the page's services received it before the PUBACK came: said already.
            None if self.acl_probe_delivered.get() == Some(true) => return,
            None => ProbeOutcome::Acknowledged,
        };
        let v311 = self.protocol == ProtocolVersion::V311;
        self.tell(Action::AclProbe(probe_answer(&outcome, v311)));
    }

    /// One of the page's services received a message on the demonstration's topic: if it is
    /// the demonstration's own PUBLISH, awaited, the broker passed it on (44-AR F1).
    pub(super) fn acl_probe_received(self: &Rc<Self>, topic: &str, payload: &[u8]) {
        if self.acl_probe_delivered.get() != Some(false)
            || topic != OUTSIDE_ACL.1
            || payload != probe_payload().as_bytes()
        {
            return;
        }
        self.acl_probe_delivered.set(Some(true));
        let v311 = self.protocol == ProtocolVersion::V311;
        self.tell(Action::AclProbe(probe_answer(
            &ProbeOutcome::Delivered,
            v311,
        )));
    }
}
