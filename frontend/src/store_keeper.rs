//! The driver that keeps OrderService's event store in the browser's database
//! ([`crate::event_db`]): on start it reads back what this tab stored before a reload, and from
//! then on it writes each event OrderService appends, in order, one batch at a time.
//!
//! It is also OrderService's **outbox**: what OrderService decided together with an append
//! (the event on `eventstore/orders/<orderId>`, and the outcome or command that follows from
//! it) waits, through [`StoreKeeper::after_kept`], until the database has committed the event,
//! so nothing goes out on the wire that a reload could lose and decide differently.
//!
//! One database per tab session (`eda-playground-<tag>`: the tag survives a reload of the same
//! tab, [`crate::tab_session`]), so two tabs never write into each other's positions. A failure
//! (no database in a private window, a blocked upgrade, a full disk) is reported once, in words
//! the learner can act on; the page then goes on in memory and writes nothing more, so the
//! database never holds a store with a gap.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use eda_core::store::{stream_name, EventStore, StoredEvent};

use crate::event_db::{EventDb, Record, StorageError, DATABASE_NAME};

/// What the keeper tells the page.
pub type Report = Rc<dyn Fn(Result<String, String>)>;

/// Where the keeper stands.
enum Db {
    /// Opening and reading back: writes wait in the queue.
    Opening,
    Open(Rc<EventDb>),
    /// Failed or unavailable: nothing more is written.
    Off,
}

/// What waits for the database: run once every event up to its position is committed.
type Waiting = (u64, Box<dyn FnOnce()>);

/// Keeps the events OrderService appends in the tab's database. Cheap to share (`Rc`).
pub struct StoreKeeper {
    db: RefCell<Db>,
    /// Events to write, in position order.
    queue: RefCell<Vec<Record>>,
    /// A batch is being written.
    writing: Cell<bool>,
    /// The last position the database committed (or, off, the last given).
    committed: Cell<u64>,
    /// The last position given to keep.
    given: Cell<u64>,
    /// Work waiting for its events to be committed, in the order it came.
    waiting: RefCell<std::collections::VecDeque<Waiting>>,
    report: Report,
}

/// The database name of the tab session `tag`.
pub fn database_name(tag: &str) -> String {
    format!("{DATABASE_NAME}-{tag}")
}

impl StoreKeeper {
    /// A keeper for the tab session `tag`: it opens the database and reads back what it holds,
    /// then hands it to `restore` (the store read back; an error if its events do not make a
    /// store). `report` gets `Ok(sentence)` for what was restored, `Err(message)` for a
    /// failure. Writes made meanwhile wait.
    pub fn start(
        tag: &str,
        report: impl Fn(Result<String, String>) + 'static,
        restore: impl FnOnce(EventStore) -> Result<String, String> + 'static,
    ) -> Rc<StoreKeeper> {
        let keeper = Rc::new(StoreKeeper {
            db: RefCell::new(Db::Opening),
            queue: RefCell::new(Vec::new()),
            writing: Cell::new(false),
            committed: Cell::new(0),
            given: Cell::new(0),
            waiting: RefCell::default(),
            report: Rc::new(report),
        });
        let name = database_name(tag);
        let weak = Rc::downgrade(&keeper);
        wasm_bindgen_futures::spawn_local(async move {
            let opened = open_and_read(&name).await;
            let Some(keeper) = weak.upgrade() else {
                return;
            };
            match opened {
                Ok((db, store)) => {
                    if !store.is_empty() {
                        let restored = restore(store);
                        if restored.is_err() {
                            // Not taken (the page had started without it): the database is
                            // made to hold what the page holds, from the queue.
                            if let Err(error) = db.clear().await {
                                (keeper.report)(restored);
                                return keeper.turn_off(error.to_string());
                            }
                        }
                        (keeper.report)(restored);
                    }
                    *keeper.db.borrow_mut() = Db::Open(Rc::new(db));
                    keeper.flush();
                }
                Err(message) => keeper.turn_off(message),
            }
        });
        keeper
    }

    /// Writes `event` after every event given before it.
    pub fn keep(self: &Rc<Self>, event: &StoredEvent) {
        self.given.set(self.given.get().max(event.position));
        if matches!(*self.db.borrow(), Db::Off) {
            self.committed.set(self.given.get());
            return;
        }
        self.queue.borrow_mut().push(Record {
            position: event.position,
            stream: stream_name(event.stream),
            version: event.version,
            json: String::from_utf8_lossy(&event.to_json()).into_owned(),
        });
        self.flush();
    }

    /// Runs `then` once the database has committed every event given so far (at once when it
    /// has, or when the page keeps nothing: no database), after whatever waits already, in
    /// the order they came: the outbox.
    pub fn after_kept(&self, then: Box<dyn FnOnce()>) {
        let upto = self.given.get();
        if upto <= self.committed.get() && self.waiting.borrow().is_empty() {
            return then();
        }
        self.waiting.borrow_mut().push_back((upto, then));
    }

    /// Runs, in order, what waited for positions now committed.
    fn release(&self) {
        loop {
            let next = {
                let mut waiting = self.waiting.borrow_mut();
                match waiting.front() {
                    Some((upto, _)) if *upto <= self.committed.get() => waiting.pop_front(),
                    _ => None,
                }
            };
            match next {
                Some((_, then)) => then(),
                None => return,
            }
        }
    }

    /// Forgets everything queued and stops writing, with `message` for the page; what waited
    /// goes ahead (the page goes on in memory).
    fn turn_off(&self, message: String) {
        *self.db.borrow_mut() = Db::Off;
        self.queue.borrow_mut().clear();
        self.committed.set(self.given.get());
        (self.report)(Err(message));
        self.release();
    }

    /// Writes what is queued, one batch at a time, unless a batch is on its way.
    fn flush(self: &Rc<Self>) {
        let db = match &*self.db.borrow() {
            Db::Open(db) => db.clone(),
            _ => return,
        };
        if self.writing.get() || self.queue.borrow().is_empty() {
            return;
        }
        self.writing.set(true);
        let batch = std::mem::take(&mut *self.queue.borrow_mut());
        let keeper = self.clone();
        let last = batch.last().map_or(0, |r| r.position);
        wasm_bindgen_futures::spawn_local(async move {
            let written = db.append(&batch).await;
            keeper.writing.set(false);
            match written {
                Ok(()) => {
                    keeper.committed.set(keeper.committed.get().max(last));
                    keeper.release();
                    keeper.flush();
                }
                Err(error) => keeper.turn_off(error.to_string()),
            }
        });
    }
}

/// Opens the tab's database and reads its store back.
async fn open_and_read(name: &str) -> Result<(EventDb, EventStore), String> {
    let db = EventDb::open(name).await.map_err(|e| e.to_string())?;
    let records = db.load_all().await.map_err(|e| e.to_string())?;
    let mut events = Vec::with_capacity(records.len());
    for record in &records {
        match StoredEvent::decode(record.json.as_bytes()) {
            Ok(event) => events.push(event),
            Err(error) => {
                return Err(StorageError::Other(format!(
                    "the stored event at position {} could not be read: {error}",
                    record.position
                ))
                .to_string())
            }
        }
    }
    let store = EventStore::load(events).map_err(|error| {
        StorageError::Other(format!("the stored events do not make a store: {error}")).to_string()
    })?;
    Ok((db, store))
}
