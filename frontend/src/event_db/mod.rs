//! The page's durable event store: the browser's own database (IndexedDB, through the
//! [`idb`] crate; see docs/decisions/0012-browser-database.md). It stores opaque [`Record`]s,
//! keyed by their `position`, and knows nothing of what they mean.
//!
//! ```ignore
//! let db = EventDb::open(DATABASE_NAME).await?;            // or show the error, go on in memory
//! db.append(&[Record { position: 1, stream: "order-1".into(), version: 1, json }]).await?;
//! let records = db.load_all().await?;                      // every record, by position
//! ```
//!
//! Every failure is a [`StorageError`] whose text can be shown as it is: the store never panics,
//! and a page that gets an error keeps what it has in memory.
//!
//! The database, one per tab session and topic namespace: [`DATABASE_NAME`]`-<tag>` (or
//! `-<tag>@<namespace>`, `crate::store_keeper::database_name`), version 2: the object store
//! `events` with key path `position` and a non-unique index `stream` on `stream`, and (since
//! version 2) the object store `outbox` with key path `position`: what follows from the events
//! up to that position and is not yet acknowledged on the wire ([`OutboxRow`], written with
//! them in one transaction by [`EventDb::append_with_outbox`], deleted by [`EventDb::settle`]).
//! The upgrade from version 1 adds an empty `outbox`: events stored before it count as
//! published. Version 3 adds the object store `deadLetters` with key path `id`: the dead letters
//! the page lists until the learner retries or discards them ([`KeptRow`], written by
//! [`EventDb::write_kept`]). Version 4 adds the object store `pendingTries` with key path `id`:
//! the messages a service waits to try again, so that a reload tries them when due instead of
//! losing them (the same [`KeptRow`] shape). Version 5 adds the object store `participants` with
//! key path `id`: what PaymentService, InventoryService and NotificationService remember of
//! each order (`payment/<orderId>`…) and InventoryService's stock (`inventory/stock`), so that
//! their memory survives a reload as their effects do (decision 0021; the same shape). Each
//! upgrade only adds what is missing, so what an
//! older version of the page stored stays readable.

mod error;
mod record;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::future::{poll_fn, Future, IntoFuture};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use wasm_bindgen::{JsCast, JsValue};

use idb::{
    Database, DatabaseEvent, Event, Factory, KeyPath, ObjectStore, ObjectStoreParams, Request,
    TransactionMode, TransactionResult,
};

pub use error::StorageError;
pub use record::{KeptRow, OutboxRow, Record};

/// The playground's database name (one per origin).
pub const DATABASE_NAME: &str = "eda-playground";
/// The database's schema version: 2 added the `outbox` store, 3 the `deadLetters` store, 4 the
/// `pendingTries` store, 5 the `participants` store.
const VERSION: u32 = 5;
/// The object store holding the records.
const STORE: &str = "events";
/// The object store holding what is owed to the wire.
const OUTBOX: &str = "outbox";
/// The object store holding the dead letters left to handle.
const DEAD_LETTERS: &str = "deadLetters";
/// The object store holding the messages waiting for their next try.
const PENDING_TRIES: &str = "pendingTries";
/// The object store holding the participants' memory.
const PARTICIPANTS: &str = "participants";

/// The stores of rows the page keeps by id ([`KeptRow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kept {
    /// `deadLetters`: the dead letters left to handle.
    DeadLetters,
    /// `pendingTries`: the messages waiting for their next try.
    PendingTries,
    /// `participants`: what the participants remember of each order, and the stock.
    Participants,
}

impl Kept {
    fn store(self) -> &'static str {
        match self {
            Kept::DeadLetters => DEAD_LETTERS,
            Kept::PendingTries => PENDING_TRIES,
            Kept::Participants => PARTICIPANTS,
        }
    }
}

/// A change to a row kept by id: store it (`Ok`, replacing one of the same id) or delete it
/// (`Err(id)`).
pub type KeptChange = (Kept, Result<KeptRow, String>);

/// `changes` with only the last change to each row (the same store and id): what writing them
/// all in order would leave, in fewer requests. The others keep their order. A flood of junk
/// stores each dead letter twice in one batch (unpublished, then acknowledged): 24,000 puts
/// for 3,000 junk messages, half of them overwritten in the same transaction.
pub fn last_change_per_row(changes: Vec<KeptChange>) -> Vec<KeptChange> {
    let id = |change: &KeptChange| match &change.1 {
        Ok(row) => row.id.clone(),
        Err(id) => id.clone(),
    };
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<KeptChange> = changes
        .into_iter()
        .rev()
        .filter(|change| seen.insert((change.0, id(change))))
        .collect();
    kept.reverse();
    kept
}
/// The index on the records' `stream`.
const STREAM_INDEX: &str = "stream";

/// An open connection to the event store. Dropping it closes the connection; it lets go by
/// itself when the database is deleted or another tab upgrades it to a newer version, and the
/// browser may close it (later calls then fail with [`StorageError::Other`];
/// [`EventDb::on_lost`] tells which it was when it happens).
///
/// Await each call to its end. The writes ([`EventDb::append`], [`EventDb::append_with_outbox`],
/// [`EventDb::settle`], [`EventDb::write_kept`]) make all their requests when first polled: a
/// future dropped after that loses only the answer, and the batch is stored or not as a whole
/// all the same. Dropping the future of [`EventDb::clear`] half-way drops `idb`'s event
/// handlers: the browser then reports an error and, as a rule, aborts the transaction.
#[derive(Debug)]
pub struct EventDb {
    db: Database,
    lost: Rc<Lost>,
}

/// How the open connection was lost, and who to tell ([`EventDb::on_lost`]).
#[derive(Default)]
struct Lost {
    /// Set at the first loss; later ones are the same loss seen again.
    error: std::cell::RefCell<Option<StorageError>>,
    notify: std::cell::RefCell<Option<Notify>>,
}

/// Who [`Lost`] tells.
type Notify = Box<dyn FnOnce(StorageError)>;

impl std::fmt::Debug for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lost")
            .field("error", &self.error.borrow())
            .finish_non_exhaustive()
    }
}

impl Lost {
    fn fire(&self, error: StorageError) {
        if self.error.borrow().is_some() {
            return;
        }
        *self.error.borrow_mut() = Some(error.clone());
        let notify = self.notify.borrow_mut().take();
        if let Some(notify) = notify {
            notify(error);
        }
    }
}

impl EventDb {
    /// Opens the database `name` (creating it, with its store and index, the first time).
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] if the browser gives no database (no `indexedDB`, or it
    /// throws, or refuses to open); [`StorageError::Blocked`] if another tab holds an older
    /// version open; [`StorageError::QuotaExceeded`] if there is no room to create it;
    /// [`StorageError::Other`] for a database made by a newer version of the page.
    pub async fn open(name: &str) -> Result<EventDb, StorageError> {
        open_version(name, VERSION).await
    }

    /// Calls `then` once, when the connection is lost while the page runs (at once if it
    /// already was): [`StorageError::Deleted`] when the database is deleted (the learner
    /// cleared the site's data; the connection lets go so that the deletion is not blocked),
    /// [`StorageError::Upgraded`] when another tab opens it at a newer version (let go too),
    /// [`StorageError::Closed`] when the browser closes it itself. Every call after that
    /// fails; a write already under way ends as the browser ends it (a deletion or an upgrade
    /// waits for it). A later `on_lost` replaces an earlier one not yet called.
    pub fn on_lost(&self, then: impl FnOnce(StorageError) + 'static) {
        let already = self.lost.error.borrow().clone();
        match already {
            Some(error) => then(error),
            None => *self.lost.notify.borrow_mut() = Some(Box::new(then)),
        }
    }

    /// Stores `records` in one transaction: all of them or, on any error, none. Never
    /// overwrites: a `position` already stored fails the whole batch. An empty batch does
    /// nothing.
    ///
    /// # Errors
    /// [`StorageError::QuotaExceeded`] when the site's storage is full; [`StorageError::Other`]
    /// for a position already stored (`ConstraintError`), a position or version above 2^53 − 1,
    /// or a closed connection.
    pub async fn append(&self, records: &[Record]) -> Result<(), StorageError> {
        self.append_with_outbox(records, &[]).await
    }

    /// [`EventDb::append`], with the `outbox` rows of what follows from these records, in the
    /// same transaction: all of it or none. A row's position already stored fails the whole
    /// batch too.
    ///
    /// # Errors
    /// As [`EventDb::append`].
    pub async fn append_with_outbox(
        &self,
        records: &[Record],
        outbox: &[OutboxRow],
    ) -> Result<(), StorageError> {
        if records.is_empty() && outbox.is_empty() {
            return Ok(());
        }
        let values = records
            .iter()
            .map(Record::to_js)
            .collect::<Result<Vec<_>, _>>()?;
        let rows = outbox
            .iter()
            .map(OutboxRow::to_js)
            .collect::<Result<Vec<_>, _>>()?;
        let (transaction, store) = self.store(TransactionMode::ReadWrite)?;
        let owed = transaction
            .object_store(OUTBOX)
            .map_err(StorageError::from_idb)?;
        // Every request is made before the first await, so the transaction stays active; the
        // first request to fail aborts it (its error event is not cancelled), and the others
        // then fail too. No request has a handler: only the transaction's end is awaited
        // ([`ended`]).
        let adds = values
            .iter()
            .map(|value| (&store, value))
            .chain(rows.iter().map(|row| (&owed, row)));
        for (store, value) in adds {
            if let Err(error) = store.add(value, None) {
                let _ = store.transaction().abort();
                return Err(StorageError::from_idb(error));
            }
        }
        ended(transaction).await
    }

    /// Every stored record, in ascending `position`.
    ///
    /// # Errors
    /// [`StorageError::Other`] if the database fails or holds a record this page did not write
    /// (the error names its position).
    pub async fn load_all(&self) -> Result<Vec<Record>, StorageError> {
        let (_transaction, store) = self.store(TransactionMode::ReadOnly)?;
        let request = store.get_all(None, None).map_err(StorageError::from_idb)?;
        let values = request.await.map_err(StorageError::from_idb)?;
        values.iter().map(Record::from_js).collect()
    }

    /// The stored records in ascending `position` up to the first this page cannot read
    /// (another version's, or damaged), and that one's position and error: a reload reads back
    /// what comes before it rather than nothing (a newcomer's break-test, 36-Q F2: one bad record
    /// threw the whole database away).
    ///
    /// # Errors
    /// [`StorageError::Other`] if the database fails.
    pub async fn load_readable(
        &self,
    ) -> Result<(Vec<Record>, Option<(u64, StorageError)>), StorageError> {
        let (_transaction, store) = self.store(TransactionMode::ReadOnly)?;
        let request = store.get_all(None, None).map_err(StorageError::from_idb)?;
        let values = request.await.map_err(StorageError::from_idb)?;
        let mut records = Vec::with_capacity(values.len());
        for value in values.iter() {
            match Record::from_js(value) {
                Ok(record) => records.push(record),
                Err(error) => {
                    let position = js_sys::Reflect::get(value, &"position".into())
                        .ok()
                        .and_then(|p| p.as_f64())
                        .map_or(0, |p| p as u64);
                    return Ok((records, Some((position, error))));
                }
            }
        }
        Ok((records, None))
    }

    /// Deletes every record and every `outbox` row at `position` or after it.
    ///
    /// # Errors
    /// As [`EventDb::append`].
    pub async fn truncate_from(&self, position: u64) -> Result<(), StorageError> {
        let (transaction, store) = self.store(TransactionMode::ReadWrite)?;
        let owed = transaction
            .object_store(OUTBOX)
            .map_err(StorageError::from_idb)?;
        let from = || {
            idb::KeyRange::lower_bound(&JsValue::from_f64(position as f64), None)
                .map(idb::Query::KeyRange)
                .map_err(StorageError::from_idb)
        };
        let deleted = (
            store.delete(from()?).map_err(StorageError::from_idb)?,
            owed.delete(from()?).map_err(StorageError::from_idb)?,
        );
        let (events, rows) = (deleted.0.await, deleted.1.await);
        events.map_err(StorageError::from_idb)?;
        rows.map_err(StorageError::from_idb)?;
        finish(transaction.await, &store)
    }

    /// Every `outbox` row this page can read, in ascending `position`, and how many it could
    /// not (left out, as the rows of [`EventDb::load_kept`] are).
    ///
    /// # Errors
    /// [`StorageError::Other`] if the database fails.
    pub async fn load_outbox_readable(&self) -> Result<(Vec<OutboxRow>, usize), StorageError> {
        let values = self.outbox_values().await?;
        let rows: Vec<OutboxRow> = values
            .iter()
            .filter_map(|value| OutboxRow::from_js(value).ok())
            .collect();
        let unreadable = values.len() - rows.len();
        Ok((rows, unreadable))
    }

    /// Every `outbox` row (what follows from stored events and was not acknowledged), in
    /// ascending `position`.
    ///
    /// # Errors
    /// As [`EventDb::load_all`].
    pub async fn load_outbox(&self) -> Result<Vec<OutboxRow>, StorageError> {
        let values = self.outbox_values().await?;
        values.iter().map(OutboxRow::from_js).collect()
    }

    /// Every object in `outbox`, as stored, in ascending `position`.
    async fn outbox_values(&self) -> Result<Vec<JsValue>, StorageError> {
        let (_transaction, store) = self.store(TransactionMode::ReadOnly)?;
        let owed = store
            .transaction()
            .object_store(OUTBOX)
            .map_err(StorageError::from_idb)?;
        let request = owed.get_all(None, None).map_err(StorageError::from_idb)?;
        request.await.map_err(StorageError::from_idb)
    }

    /// Deletes the `outbox` rows at `positions` (what followed from them was acknowledged); a
    /// position with no row is no error.
    ///
    /// # Errors
    /// As [`EventDb::append`].
    pub async fn settle(&self, positions: &[u64]) -> Result<(), StorageError> {
        if positions.is_empty() {
            return Ok(());
        }
        let (transaction, store) = self.store(TransactionMode::ReadWrite)?;
        let owed = transaction
            .object_store(OUTBOX)
            .map_err(StorageError::from_idb)?;
        for &position in positions {
            let key = idb::Query::Key(JsValue::from_f64(position as f64));
            if let Err(error) = owed.delete(key) {
                let _ = store.transaction().abort();
                return Err(StorageError::from_idb(error));
            }
        }
        ended(transaction).await
    }

    /// Every row of `kept`, by `id` (rows this driver did not write are left out).
    ///
    /// # Errors
    /// [`StorageError::Other`] if the database fails.
    pub async fn load_kept(&self, kept: Kept) -> Result<Vec<KeptRow>, StorageError> {
        let transaction = self
            .db
            .transaction(&[kept.store()], TransactionMode::ReadOnly)
            .map_err(StorageError::from_idb)?;
        let store = transaction
            .object_store(kept.store())
            .map_err(StorageError::from_idb)?;
        let request = store.get_all(None, None).map_err(StorageError::from_idb)?;
        let values = request.await.map_err(StorageError::from_idb)?;
        Ok(values.iter().filter_map(KeptRow::from_js).collect())
    }

    /// In one transaction, in order: each change stores a row of its store (`Ok`, replacing one
    /// of the same id) or deletes one (`Err(id)`; an id with no row is no error).
    ///
    /// # Errors
    /// As [`EventDb::append`].
    pub async fn write_kept(&self, changes: &[KeptChange]) -> Result<(), StorageError> {
        let Some((first, _)) = changes.first() else {
            return Ok(());
        };
        let transaction = self
            .db
            .transaction(
                &[DEAD_LETTERS, PENDING_TRIES, PARTICIPANTS],
                TransactionMode::ReadWrite,
            )
            .map_err(StorageError::from_idb)?;
        let first = transaction
            .object_store(first.store())
            .map_err(StorageError::from_idb)?;
        // As in `append_with_outbox`: no request has a handler, the transaction's end is awaited.
        for (kept, change) in changes {
            let made = transaction
                .object_store(kept.store())
                .map_err(StorageError::from_idb)
                .and_then(|store| match change {
                    Ok(row) => row.to_js().and_then(|value| {
                        store
                            .put(&value, None)
                            .map(drop)
                            .map_err(StorageError::from_idb)
                    }),
                    Err(id) => store
                        .delete(idb::Query::Key(JsValue::from_str(id)))
                        .map(drop)
                        .map_err(StorageError::from_idb),
                });
            if let Err(error) = made {
                let _ = first.transaction().abort();
                return Err(error);
            }
        }
        ended(transaction).await
    }

    /// Deletes every record and every `outbox` row (the database and its stores stay; the dead
    /// letters too).
    ///
    /// # Errors
    /// As [`EventDb::append`].
    pub async fn clear(&self) -> Result<(), StorageError> {
        let (transaction, store) = self.store(TransactionMode::ReadWrite)?;
        let owed = transaction
            .object_store(OUTBOX)
            .map_err(StorageError::from_idb)?;
        let cleared = (
            store.clear().map_err(StorageError::from_idb)?,
            owed.clear().map_err(StorageError::from_idb)?,
        );
        let (events, rows) = (cleared.0.await, cleared.1.await);
        events.map_err(StorageError::from_idb)?;
        rows.map_err(StorageError::from_idb)?;
        finish(transaction.await, &store)
    }

    fn store(
        &self,
        mode: TransactionMode,
    ) -> Result<(idb::Transaction, ObjectStore), StorageError> {
        let transaction = self
            .db
            .transaction(&[STORE, OUTBOX], mode)
            .map_err(StorageError::from_idb)?;
        let store = transaction
            .object_store(STORE)
            .map_err(StorageError::from_idb)?;
        Ok((transaction, store))
    }
}

impl Drop for EventDb {
    fn drop(&mut self) {
        self.db.close();
    }
}

/// Waits for a write `transaction` to end: `Ok` once committed; once aborted, the transaction's
/// error (the first request's to fail, e.g. `ConstraintError` for a key already stored, or a full
/// disk found when the browser commits: [`StorageError::QuotaExceeded`]).
///
/// Its requests carry no event handlers and are not awaited one by one: the transaction stands
/// or falls as a whole, and a handler per request made the browser call into the page once per
/// row stored, about 17 calls per order under load (issue 14). The browser itself resolves a
/// promise from the transaction's `complete` and `abort` events, so their tasks run no code of
/// the page either, only the continuation.
async fn ended(transaction: idb::Transaction) -> Result<(), StorageError> {
    let transaction = web_sys::IdbTransaction::from(transaction);
    let end = js_sys::Promise::new(&mut |resolve, _reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onabort(Some(&resolve));
    });
    let event = wasm_bindgen_futures::JsFuture::from(end)
        .await
        .map_err(|error| StorageError::Other(error::describe(&error)))?;
    if event.unchecked_into::<web_sys::Event>().type_() == "complete" {
        return Ok(());
    }
    Err(match transaction.error() {
        Some(exception) => StorageError::from_js(&exception.into()),
        None => StorageError::Other("the browser aborted the transaction".to_owned()),
    })
}

/// A transaction's end as a result: an abort carries the transaction's error (a full disk is
/// reported this way, when the browser commits).
fn finish(
    outcome: Result<TransactionResult, idb::Error>,
    store: &ObjectStore,
) -> Result<(), StorageError> {
    match outcome {
        Ok(TransactionResult::Committed) => Ok(()),
        Ok(TransactionResult::Aborted) => Err(match store.transaction().error() {
            Some(exception) => StorageError::from_js(&exception.into()),
            None => StorageError::Other("the browser aborted the transaction".to_owned()),
        }),
        Err(error) => Err(StorageError::from_idb(error)),
    }
}

/// Opens `name` at schema `version`: [`EventDb::open`] with the version as a parameter, so a
/// test can ask for an upgrade that another connection blocks.
pub(crate) async fn open_version(name: &str, version: u32) -> Result<EventDb, StorageError> {
    let factory = Factory::new().map_err(|error| match error {
        idb::Error::IndexedDbNotFound(value) if value.is_undefined() || value.is_null() => {
            StorageError::Unavailable {
                reason: "indexedDB is not defined".to_owned(),
            }
        }
        error => StorageError::from_open(error),
    })?;
    let mut request = factory
        .open(name, Some(version))
        .map_err(StorageError::from_open)?;

    // The browser reports `blocked` and then waits, possibly forever, for the other tab. We
    // answer Blocked at once; should the other tab let go later, the upgrade that then starts
    // is aborted (below), so no connection is left open behind the caller's back.
    let blocked = Rc::new(Blocked::default());
    let upgrade_failed = Rc::new(Cell::new(None::<StorageError>));
    request.on_blocked({
        let blocked = blocked.clone();
        move |_| blocked.fire()
    });
    request.on_upgrade_needed({
        let (blocked, upgrade_failed) = (blocked.clone(), upgrade_failed.clone());
        move |event| {
            if let Err(error) = upgrade(&event, blocked.fired.get()) {
                upgrade_failed.set(Some(error));
            }
        }
    });

    let mut opening = pin!(request.into_future());
    let opened = poll_fn(|cx| {
        if let Poll::Ready(result) = opening.as_mut().poll(cx) {
            return Poll::Ready(Some(result));
        }
        if blocked.fired.get() {
            return Poll::Ready(None);
        }
        blocked.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    })
    .await;
    match opened {
        None => Err(StorageError::Blocked),
        Some(Ok(db)) => {
            let raw = web_sys::IdbDatabase::from(db);
            let lost = Rc::new(Lost::default());
            watch_for_loss(&raw, &lost);
            Ok(EventDb {
                db: Database::from(raw),
                lost,
            })
        }
        Some(Err(error)) => Err(upgrade_failed
            .take()
            .unwrap_or_else(|| StorageError::from_open(error))),
    }
}

/// Lets go of `raw` when another context deletes the database or opens it at a newer version
/// (the `versionchange` event: its `newVersion` is null for a deletion), so that it is not
/// blocked, and tells `lost` either way; tells it too when the browser closes the connection
/// itself (the `close` event: site data cleared, a disk failure).
fn watch_for_loss(raw: &web_sys::IdbDatabase, lost: &Rc<Lost>) {
    let on_version_change = {
        let (raw, lost) = (raw.clone(), lost.clone());
        wasm_bindgen::closure::Closure::once_into_js(
            move |event: web_sys::IdbVersionChangeEvent| {
                raw.close();
                lost.fire(match event.new_version() {
                    None => StorageError::Deleted,
                    Some(_) => StorageError::Upgraded,
                });
            },
        )
    };
    raw.set_onversionchange(Some(on_version_change.unchecked_ref()));
    let on_close = {
        let lost = lost.clone();
        wasm_bindgen::closure::Closure::once_into_js(move |_: web_sys::Event| {
            lost.fire(StorageError::Closed)
        })
    };
    raw.set_onclose(Some(on_close.unchecked_ref()));
}

/// The `blocked` event, seen by the future that waits for the open.
#[derive(Default)]
struct Blocked {
    fired: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Blocked {
    fn fire(&self) {
        self.fired.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// Creates what is missing (the `events` store and its index, the `outbox` store, the
/// `deadLetters`, `pendingTries` and `participants` stores); aborts the upgrade if the caller was already told the open is blocked.
fn upgrade(event: &idb::event::VersionChangeEvent, gave_up: bool) -> Result<(), StorageError> {
    let request = event.target().map_err(StorageError::from_idb)?;
    if gave_up {
        if let Some(transaction) = request.transaction() {
            let _ = transaction.abort();
        }
        return Ok(());
    }
    let db = event.database().map_err(StorageError::from_idb)?;
    let names = db.store_names();
    let keyed_by_position = || {
        let mut params = ObjectStoreParams::new();
        params.key_path(Some(KeyPath::new_single("position")));
        params
    };
    if !names.iter().any(|name| name == STORE) {
        let store = db
            .create_object_store(STORE, keyed_by_position())
            .map_err(StorageError::from_idb)?;
        store
            .create_index(STREAM_INDEX, KeyPath::new_single("stream"), None)
            .map_err(StorageError::from_idb)?;
    }
    // From version 1: the events stored before count as published (nothing is owed for them).
    if !names.iter().any(|name| name == OUTBOX) {
        db.create_object_store(OUTBOX, keyed_by_position())
            .map_err(StorageError::from_idb)?;
    }
    // From version 2: no dead letter was kept before; from version 3, no try; from version 4,
    // no participant's memory (a reload of an older page forgot it).
    for name in [DEAD_LETTERS, PENDING_TRIES, PARTICIPANTS] {
        if !names.iter().any(|existing| existing == name) {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(KeyPath::new_single("id")));
            db.create_object_store(name, params)
                .map_err(StorageError::from_idb)?;
        }
    }
    Ok(())
}
