//! The trace shared by the runtime (which records into it) and the views (which read it).

use std::cell::RefCell;
use std::rc::Rc;

use eda_core::trace::{ActionLog, PacketHistory, Trace, HISTORY_CAPACITY};

/// One [`Trace`] behind an `Rc<RefCell<…>>`: the runtime records every packet into it and the
/// views read it. Kept out of the reducer's state, which is copied on every action; views
/// re-render on the state's `trace_version` instead.
#[derive(Clone)]
pub struct SharedTrace(pub Rc<RefCell<Trace>>);

impl SharedTrace {
    /// An empty trace holding up to [`HISTORY_CAPACITY`] packets and as many user actions.
    pub fn new() -> Self {
        SharedTrace(Rc::new(RefCell::new(Trace::new(
            PacketHistory::new(HISTORY_CAPACITY),
            ActionLog::new(HISTORY_CAPACITY),
        ))))
    }
}

impl Default for SharedTrace {
    fn default() -> Self {
        Self::new()
    }
}

/// The same trace is equal to itself; views re-render on the state's `trace_version`.
impl PartialEq for SharedTrace {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}
