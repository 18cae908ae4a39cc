//! The least-privilege demonstration: PaymentService publishes where its ACL does not allow,
//! and the page is told how the broker answered (MQTT 5.0 PUBACK 0x87, or 3.1.1's silent drop).

use std::rc::Rc;

use broker_bridge::{ProtocolVersion, PublishRequest, QoS};

use eda_core::services::acl::OUTSIDE_ACL;
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
        let payload = format!("{{\"probe\":\"least privilege: {service} publishing on {topic}\"}}");
        let request = PublishRequest::new(
            self.namespace.wire(topic),
            payload.into_bytes(),
            QoS::AtLeastOnce,
        );
        match self.client(service.into()).publish_with(request) {
            Ok(broker_bridge::Publishing::Sent { packet_id }) => {
                self.acl_probe.set(packet_id);
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
        let (service, topic) = OUTSIDE_ACL;
        if instance != service.into() || packet_id.is_none() || self.acl_probe.get() != packet_id {
            return;
        }
        self.acl_probe.set(None);
        let text = match (refused, self.protocol) {
            (Some(reason), _) => format!(
                "Refused: {service} may not publish on {topic}, and the broker said so \
                 ({reason}). Nobody received it."
            ),
            (None, ProtocolVersion::V311) => format!(
                "The broker answered PUBACK, as MQTT 3.1.1 requires: 3.1.1 has no way to refuse a \
                 PUBLISH. A broker enforcing the ACL (Mosquitto with \
                 static/mosquitto-secure.conf) dropped it silently: nobody subscribed to {topic} \
                 received it, and {service} cannot tell. Switch to MQTT 5.0 to see the refusal \
                 (reason code 0x87 Not authorized)."
            ),
            (None, _) => format!(
                "Accepted: this broker let {service} publish on {topic} (PUBACK Success): it \
                 enforces no ACL for this user."
            ),
        };
        self.tell(Action::AclProbe(text));
    }
}
