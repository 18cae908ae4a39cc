//! QueryService: the read side (CQRS; source document 004's Query Service with its read
//! models, eventual consistency and idempotent handlers). Its own MQTT client subscribes to
//! `eventstore/orders/+` and projects each event OrderService appended into a
//! [`ReadModel`] (orders by customer and by status, totals), after the learner's projection
//! delay (`?projection_ms=`, default 0): until then the read model is behind the store, and
//! its answers are stale.
//!
//! The projection is idempotent (an event already applied is a duplicate, ignored) and keeps
//! an event that arrives before the one it follows until the gap fills
//! ([`ReadModel::project`]).

use super::{Command, Rejection, RejectionKind, Work};
use crate::store::{Projected, ReadModel, StoredEvent};

/// QueryService's memory: the read model it answers from.
#[derive(Debug, Clone, Default)]
pub struct QueryService {
    model: ReadModel,
}

impl QueryService {
    /// The read model as projected so far.
    pub fn model(&self) -> &ReadModel {
        &self.model
    }

    /// Takes over `model` (rebuilt from the store the page read back after a reload: what it
    /// had projected before is not delivered again).
    pub fn restore(&mut self, model: ReadModel) {
        self.model = model;
    }

    /// An event from the store arrived: projected after `delay` (a [`Work::Project`]), or at
    /// once when it is zero.
    pub fn on_stored(
        &mut self,
        delay: std::time::Duration,
        event: StoredEvent,
    ) -> Result<Vec<Command>, Rejection> {
        if delay.is_zero() {
            return self.project(&event);
        }
        Ok(vec![Command::Schedule {
            after: delay,
            work: Work::Project(event),
        }])
    }

    /// Projects `event` into the read model. A duplicate is refused as one (logged "duplicate
    /// ignored"); an event ahead of its stream's next version is kept until the gap fills
    /// (logged "kept"); an event that cannot belong to a stream (a second `OrderCreated`) is
    /// refused.
    pub fn project(&mut self, event: &StoredEvent) -> Result<Vec<Command>, Rejection> {
        match self.model.project(event) {
            Projected::Applied { .. } => Ok(Vec::new()),
            Projected::Duplicate => Err(Rejection {
                reason: format!(
                    "duplicate ignored: {} version {} was projected before",
                    crate::store::stream_name(event.stream),
                    event.version
                ),
                kind: RejectionKind::Duplicate,
                answer_again: Vec::new(),
            }),
            Projected::Held => Err(Rejection {
                reason: format!(
                    "{} version {} arrived before the version it follows: kept, and projected \
                     when the gap fills",
                    crate::store::stream_name(event.stream),
                    event.version
                ),
                kind: RejectionKind::Early,
                answer_again: Vec::new(),
            }),
            Projected::Refused(reason) => Err(Rejection::new(reason)),
        }
    }
}
