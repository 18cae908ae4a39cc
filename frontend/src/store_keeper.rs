//! The driver that keeps OrderService's event store in the browser's database
//! ([`crate::event_db`]): on start it reads back what this tab stored before a reload, and from
//! then on it writes each event OrderService appends, in order, one batch at a time.
//!
//! It is also OrderService's **outbox**: what OrderService decided together with an append
//! (the event on `eventstore/orders/<orderId>`, and the outcome or command that follows from
//! it) waits, through [`StoreKeeper::after_kept`], until the database has committed the event,
//! so nothing goes out on the wire that a reload could lose and decide differently. What it
//! owes the wire ([`StoreKeeper::keep`]'s `owed`, see [`eda_core::store::outbox`]) is written with the
//! events, in the same transaction, and deleted once the broker acknowledged all of it
//! ([`StoreKeeper::handle_sent`], [`StoreKeeper::handle_acknowledged`]); what a reload finds
//! still owed, [`StoreKeeper::take_owed`] hands to the runtime to publish again.
//!
//! It also keeps the dead letters the page lists until the learner retries or discards them
//! ([`StoreKeeper::keep_dead_letter`], [`StoreKeeper::forget_dead_letter`]), and the messages
//! the services wait to try again until their try comes or dies with a crash
//! ([`StoreKeeper::keep_pending_try`], [`StoreKeeper::forget_pending_try`]), and hands those a
//! reload finds to the page.
//!
//! It also keeps the participants' memory (what PaymentService, InventoryService and
//! NotificationService remember of each order, and the stock: [`eda_core::services::durable`],
//! decision 0021): [`StoreKeeper::keep_memos`] writes it, and what a participant decided waits,
//! through [`StoreKeeper::after_memos`], until it is committed, so that a reload never forgets a
//! charge or a reservation whose message went out. A reload hands it back before anything
//! else, and every message the services receive meanwhile waits until the database has been
//! read back ([`StoreKeeper::hold_while_reading`]): a persistent session delivers what the
//! broker queued right at CONNACK, which must not find the services empty-handed.
//!
//! One database per tab session (`eda-playground-<tag>`: the tag survives a reload of the same
//! tab, [`crate::tab_session`]), so two tabs never write into each other's positions. A failure
//! (no database in a private window, a blocked upgrade, a full disk) is reported once, in words
//! the learner can act on; the page then goes on in memory and writes nothing more, so the
//! database never holds a store with a gap. A write that fails for another reason (Chromium's
//! `UnknownError` for a hiccup of its backing store, an aborted transaction) is tried again
//! first, twice ([`RETRY_PAUSES_MS`]): a transaction commits all of its batch or none of it, so
//! the same batch can go again, and one failed commit no longer empties what the tab kept (a
//! newcomer's break-test, 36-Q F9).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use gloo::timers::callback::Timeout;

use eda_core::domain::namespace::Namespace;
use eda_core::domain::DomainEvent;
use eda_core::services::durable::{self, Memo};
use eda_core::services::instances::Instance;
use eda_core::services::pending_tries::PendingTry;
use eda_core::services::Stock;
use eda_core::store::outbox::{row_from_json, row_to_json, Outbox, OwedMessage};
use eda_core::store::{stream_name, EventStore, StoredEvent};
use eda_core::trace::dead_letters::KeptDeadLetter;

use crate::event_db::{
    EventDb, Kept, KeptChange, KeptRow, OutboxRow, Record, StorageError, DATABASE_NAME,
};

/// The pauses, in ms, before the second and the third try of a write that failed with
/// [`StorageError::Other`]; after the third the keeper gives up ([`StoreKeeper::give_up_writing`]).
/// A full disk, a deleted, closed or upgraded database are not tried again: the same write would
/// meet them again.
pub const RETRY_PAUSES_MS: [i32; 2] = [100, 1000];

/// Waits `ms` milliseconds (the browser's `setTimeout`).
async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Runs `write` until it succeeds, fails with an error other than [`StorageError::Other`], or
/// has failed three times ([`RETRY_PAUSES_MS`]); its last result. `still_open` is asked before
/// each new try: once the keeper is off (the database lost meanwhile) the failure stands.
async fn write_with_retries<F, W>(
    mut write: W,
    still_open: impl Fn() -> bool,
) -> Result<(), StorageError>
where
    W: FnMut() -> F,
    F: std::future::Future<Output = Result<(), StorageError>>,
{
    let mut pauses = RETRY_PAUSES_MS.into_iter();
    loop {
        let result = write().await;
        let retry = matches!(result, Err(StorageError::Other(_))) && still_open();
        match pauses.next().filter(|_| retry) {
            Some(ms) => pause(ms).await,
            None => return result,
        }
    }
}

/// One of OrderService's publications held behind what a reload found owed
/// ([`StoreKeeper::hold_behind_owed`]).
#[derive(Debug, Clone)]
pub enum Publication {
    /// An outcome or command, on its topic.
    Decided(DomainEvent),
    /// An appended event, on `eventstore/orders/<orderId>`.
    Stored(StoredEvent),
}

/// How long the page waits for the tab's database to open and be read back before it goes on
/// in memory ([`StorageError::NoAnswer`]): 10 s, far above a read of the largest store the page
/// keeps (a few hundred ms), so only a database that hangs reaches it. Messages received
/// meanwhile wait ([`StoreKeeper::hold_while_reading`]).
pub const READ_BACK_LIMIT: Duration = Duration::from_secs(10);

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

/// What waits for the database: run once every write up to its mark is committed.
type Waiting = (u64, Box<dyn FnOnce()>);

/// Writes given and committed, each a rising mark (an event's position, or a count of memo
/// writes), and the work waiting for them, run in the order it came once the database has
/// committed up to the mark it was given at.
#[derive(Default)]
struct Commits {
    /// The highest mark given to write.
    given: Cell<u64>,
    /// The highest mark the database committed (or, off, the highest given).
    committed: Cell<u64>,
    waiting: RefCell<std::collections::VecDeque<Waiting>>,
}

impl Commits {
    /// A write up to `mark` is on its way.
    fn give(&self, mark: u64) {
        self.given.set(self.given.get().max(mark));
    }

    /// Runs `then` once everything given so far is committed (at once if it is and nothing
    /// waits before it).
    fn after(&self, then: Box<dyn FnOnce()>) {
        let upto = self.given.get();
        if upto <= self.committed.get() && self.waiting.borrow().is_empty() {
            return then();
        }
        self.waiting.borrow_mut().push_back((upto, then));
    }

    /// The database committed up to `mark`: what waited for it runs, in order.
    fn commit(&self, mark: u64) {
        self.committed.set(self.committed.get().max(mark));
        self.release();
    }

    /// Counts everything given as committed (no database to wait for); what waited runs at the
    /// next [`Commits::release`].
    fn count_all_committed(&self) {
        self.committed.set(self.given.get());
    }

    /// Runs, in order, what waited for marks now committed.
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
}

/// Keeps the events OrderService appends in the tab's database. Cheap to share (`Rc`).
pub struct StoreKeeper {
    db: RefCell<Db>,
    /// Events to write, in position order.
    queue: RefCell<Vec<Record>>,
    /// Outbox rows to write with them.
    owed_queue: RefCell<Vec<OutboxRow>>,
    /// What is owed to the wire and not yet acknowledged.
    outbox: RefCell<Outbox>,
    /// Rows a reload found owed, not yet handed to the runtime to publish again.
    restored_owed: RefCell<Vec<(u64, Vec<OwedMessage>)>>,
    /// OrderService's publications decided since, held until those are published again.
    behind_owed: RefCell<Vec<(Instance, Publication)>>,
    /// A batch is being written.
    writing: Cell<bool>,
    /// Outbox rows to delete (their messages acknowledged), in one transaction at a time.
    settle_queue: RefCell<Vec<u64>>,
    /// A deletion is being written.
    settling: Cell<bool>,
    /// Dead letters and pending tries to store (`Ok`) or delete (`Err(id)`), in order, one
    /// transaction at a time.
    kept_queue: RefCell<Vec<KeptChange>>,
    /// Dead letters or pending tries are being written.
    kept_writing: Cell<bool>,
    /// OrderService's events, by position: work waiting for its events to be committed.
    events: Commits,
    /// The participants' memo writes, counted ([`StoreKeeper::keep_memos`]): what they
    /// decided, waiting for their memos to be committed.
    memos: Commits,
    /// How many memo writes were given when the kept write on its way was taken.
    memos_writing: Cell<u64>,
    /// Messages the services received while the database was being read back.
    held_while_reading: RefCell<Vec<Box<dyn FnOnce()>>>,
    /// Dead letters whose PUBLISH the broker has not acknowledged, stored as
    /// [`KeptDeadLetter::unpublished`] until it does (a reload publishes them again). Kept
    /// here, not in a runtime: a new runtime (another MQTT version, number of instances)
    /// publishes the old clients' unacknowledged messages again, and they are followed on.
    dead_letters_unacked: RefCell<UnackedDeadLetters>,
    report: Report,
}

/// A dead letter on its way to the broker ([`StoreKeeper::dead_letters_unacked`]).
struct UnackedDeadLetter {
    kept: KeptDeadLetter,
    /// Its PUBLISH's topic, as on the wire (with the namespace), and payload.
    topic: String,
    payload: Vec<u8>,
}

/// The dead letters on their way to the broker: those no client has sent yet, oldest first,
/// and those sent at QoS 1 or 2, by the instance that sent each and its packet id (each
/// acknowledgement finds its own at once: a flood of junk leaves thousands in flight, and a
/// search of one list for each PUBLISH and each PUBACK cost the page a time that grew as the
/// square of their number).
#[derive(Default)]
struct UnackedDeadLetters {
    unsent: std::collections::VecDeque<UnackedDeadLetter>,
    /// Oldest first under each key: a new client of an instance may use a packet id again
    /// while the old client's PUBLISH was never acknowledged.
    sent: std::collections::HashMap<(Instance, u16), std::collections::VecDeque<UnackedDeadLetter>>,
}

impl UnackedDeadLetters {
    /// Takes the oldest not sent yet that `matches`.
    fn take_unsent(
        &mut self,
        matches: impl Fn(&UnackedDeadLetter) -> bool,
    ) -> Option<UnackedDeadLetter> {
        let at = self.unsent.iter().position(matches)?;
        self.unsent.remove(at)
    }

    /// Takes the oldest that `instance` sent as `packet_id`.
    fn take_sent(&mut self, instance: Instance, packet_id: u16) -> Option<UnackedDeadLetter> {
        let key = (instance, packet_id);
        let same = self.sent.get_mut(&key)?;
        let taken = same.pop_front();
        if same.is_empty() {
            self.sent.remove(&key);
        }
        taken
    }

    /// No longer follows the dead letter `id`.
    fn forget(&mut self, id: &str) {
        self.unsent.retain(|u| u.kept.id != id);
        self.sent.retain(|_, same| {
            same.retain(|u| u.kept.id != id);
            !same.is_empty()
        });
    }
}

/// The database name of the tab session `tag` under the topic namespace `namespace` (`?ns=`):
/// `eda-playground-<tag>` without one (the name every earlier version used), and
/// `eda-playground-<tag>@<namespace>` with one (`eda-playground-k3x9@class-7`).
///
/// A namespace is a system of its own (README, "A classroom on one broker"): an order created
/// under `a/` is never resumed, compensated or counted by the same tab opened with `?ns=b`, and
/// comes back when the tab opens `?ns=a` again. Another broker under the same namespace keeps
/// the store, as a service moved to another broker keeps its database.
pub fn database_name(tag: &str, namespace: &Namespace) -> String {
    match namespace.value() {
        Some(ns) => format!("{DATABASE_NAME}-{tag}@{ns}"),
        None => format!("{DATABASE_NAME}-{tag}"),
    }
}

impl StoreKeeper {
    /// A keeper for the tab session `tag` under `namespace` (its database: [`database_name`]):
    /// it opens the database and reads back what it holds, then hands the participants' memos
    /// and stock to `restore_participants`, the store to `restore` (the
    /// store read back; an error if its events do not make a store), the dead letters kept to
    /// `restore_dead_letters`, and last the messages waiting for their next try and the orders
    /// placed but not yet stored ([`StoreKeeper::keep_placed`]) to `restore_waiting` (each only
    /// if there are any; rows another version of the page wrote are left out). `report` gets `Ok(sentence)` for what was restored, `Err(message)` for a
    /// failure. Writes made meanwhile wait.
    pub fn start(
        tag: &str,
        namespace: &Namespace,
        report: impl Fn(Result<String, String>) + 'static,
        restore_participants: impl FnOnce(Vec<Memo>, Option<Stock>) + 'static,
        restore: impl FnOnce(EventStore) -> Result<String, String> + 'static,
        restore_dead_letters: impl FnOnce(Vec<KeptDeadLetter>) + 'static,
        restore_waiting: impl FnOnce(Vec<PendingTry>, Vec<Placed>) + 'static,
    ) -> Rc<StoreKeeper> {
        let keeper = Rc::new(StoreKeeper {
            db: RefCell::new(Db::Opening),
            queue: RefCell::new(Vec::new()),
            owed_queue: RefCell::new(Vec::new()),
            outbox: RefCell::default(),
            restored_owed: RefCell::default(),
            behind_owed: RefCell::default(),
            writing: Cell::new(false),
            settle_queue: RefCell::default(),
            settling: Cell::new(false),
            kept_queue: RefCell::default(),
            kept_writing: Cell::new(false),
            events: Commits::default(),
            memos: Commits::default(),
            memos_writing: Cell::new(0),
            held_while_reading: RefCell::default(),
            dead_letters_unacked: RefCell::default(),
            report: Rc::new(report),
        });
        let name = database_name(tag, namespace);
        let weak = Rc::downgrade(&keeper);
        // A database that never answers (a break-test hung `indexedDB.open`) must not hold the
        // services' messages for good: past the limit the page goes on in memory and says so.
        let waited = Rc::downgrade(&keeper);
        Timeout::new(READ_BACK_LIMIT.as_millis() as u32, move || {
            if let Some(keeper) = waited.upgrade().filter(|k| k.is_reading()) {
                keeper.turn_off(StorageError::NoAnswer(READ_BACK_LIMIT.as_secs()).to_string());
                keeper.release_held();
            }
        })
        .forget();
        wasm_bindgen_futures::spawn_local(async move {
            let opened = open_and_read(&name).await;
            let Some(keeper) = weak.upgrade() else {
                return;
            };
            // Too late: the page went on without it (READ_BACK_LIMIT).
            if !keeper.is_reading() {
                return;
            }
            match opened {
                Ok((db, store, owed, dead_letters, tries, (memos, stock, placed), note)) => {
                    // First: the participants decide nothing before they have it back.
                    // Also with nothing kept: the link's stock is then written (36-S F4).
                    restore_participants(memos, stock);
                    if !dead_letters.is_empty() {
                        restore_dead_letters(dead_letters);
                    }
                    if !store.is_empty() {
                        // Before the store is taken: its note says what goes out again.
                        for (position, messages) in &owed {
                            keeper.outbox.borrow_mut().owe(*position, messages.clone());
                        }
                        *keeper.restored_owed.borrow_mut() = owed;
                        let restored = restore(store).map(|text| match &note {
                            Some(note) => format!("{text} {note}"),
                            None => text,
                        });
                        if restored.is_err() {
                            keeper.forget_restored();
                            // Not taken (the page had started without it): the database is
                            // made to hold what the page holds, from the queue.
                            if let Err(error) = db.clear().await {
                                (keeper.report)(restored);
                                keeper.turn_off(error.to_string());
                                return keeper.release_held();
                            }
                        }
                        (keeper.report)(restored);
                    } else if let Some(note) = note {
                        (keeper.report)(Ok(note));
                    }
                    // Deleted (site data cleared) or closed while the page runs: say so at
                    // once, in those words, not at the next write's failure.
                    let lost = Rc::downgrade(&keeper);
                    db.on_lost(move |error| {
                        if let Some(keeper) = lost.upgrade() {
                            keeper.lose(error);
                        }
                    });
                    *keeper.db.borrow_mut() = Db::Open(Rc::new(db));
                    // After the store: OrderService's tries find its orders, and so do the
                    // orders placed, stored or not.
                    if !tries.is_empty() || !placed.is_empty() {
                        restore_waiting(tries, placed);
                    }
                    keeper.flush();
                    keeper.write_kept();
                }
                Err(message) => keeper.turn_off(message),
            }
            // The messages that arrived meanwhile, in the order they came.
            keeper.release_held();
        });
        keeper
    }

    /// Whether the database is still being read back: a message received now must wait
    /// ([`StoreKeeper::hold_while_reading`]).
    pub fn is_reading(&self) -> bool {
        matches!(*self.db.borrow(), Db::Opening)
    }

    /// Runs `then` (the handling of a message a service received) once the database has been
    /// read back and what it held restored (at once if it has).
    pub fn hold_while_reading(&self, then: Box<dyn FnOnce()>) {
        if self.is_reading() {
            self.held_while_reading.borrow_mut().push(then);
        } else {
            then();
        }
    }

    /// Runs what [`StoreKeeper::hold_while_reading`] held, in order.
    fn release_held(&self) {
        let held = std::mem::take(&mut *self.held_while_reading.borrow_mut());
        for then in held {
            then();
        }
    }

    /// Writes what the participants' memory `changed` ([`eda_core::services::Flow::take_changed`]):
    /// each memo under its key, and the stock, then deletes the rows of the memos the core
    /// forgot (`changed.forgotten`: past its bound, [`durable::MEMOS_KEPT`]), so the store
    /// holds no more than the core keeps; with the dead letters' and tries' writes, one
    /// transaction at a time. Nothing once the database is off (the page then remembers in
    /// memory only, and says so).
    pub fn keep_memos(self: &Rc<Self>, changed: durable::Changed) {
        if changed.is_empty() || matches!(*self.db.borrow(), Db::Off) {
            return;
        }
        self.memos.give(self.memos.given.get() + 1);
        {
            let mut queue = self.kept_queue.borrow_mut();
            for memo in &changed.memos {
                queue.push((
                    Kept::Participants,
                    Ok(KeptRow {
                        id: memo.key(),
                        json: memo.to_stored(),
                    }),
                ));
            }
            if let Some(stock) = &changed.stock {
                queue.push((
                    Kept::Participants,
                    Ok(KeptRow {
                        id: durable::STOCK_KEY.to_owned(),
                        json: durable::stock_to_stored(stock),
                    }),
                ));
            }
            for key in changed.forgotten {
                queue.push((Kept::Participants, Err(key)));
            }
        }
        self.write_kept();
    }

    /// Keeps the order OrderService is about to publish (`payload`, its `orders/created`) until
    /// [`StoreKeeper::forget_placed`], in the participants' object store under
    /// [`placed_key`], with the memos (the outbox of the placement: publish it with
    /// [`StoreKeeper::after_memos`], once it is written). OrderService stores an order when its
    /// own `orders/created` comes back; a reload before then (a newcomer's break-test: the
    /// in-page broker, 60–150 ms after *Place 10 orders*) left orders the participants had
    /// processed with no row and no deadline. A reload finds it and OrderService starts the
    /// saga from it unless its copy comes back. Nothing once the database is off.
    pub fn keep_placed(self: &Rc<Self>, order_id: uuid::Uuid, payload: &[u8]) {
        if matches!(*self.db.borrow(), Db::Off) {
            return;
        }
        self.memos.give(self.memos.given.get() + 1);
        self.kept_queue.borrow_mut().push((
            Kept::Participants,
            Ok(KeptRow {
                id: placed_key(order_id),
                json: String::from_utf8_lossy(payload).into_owned(),
            }),
        ));
        self.write_kept();
    }

    /// Deletes the order kept by [`StoreKeeper::keep_placed`]: its `orders/created` is in the
    /// store now (call it once that append is committed: [`StoreKeeper::after_kept`]).
    pub fn forget_placed(self: &Rc<Self>, order_id: uuid::Uuid) {
        self.change_kept(
            Kept::Participants,
            Err(&placed_key(order_id)),
            String::new(),
        );
    }

    /// Runs `then` (what a participant decided: its messages) once every memo given so far is
    /// committed, after whatever waits already (at once when nothing waits, or when the page
    /// keeps nothing). Write first, then publish: a reload can lose a message not yet sent (the
    /// saga's deadline and compensation cover it), never a charge or reservation already on
    /// the wire (decision 0021).
    pub fn after_memos(&self, then: Box<dyn FnOnce()>) {
        self.memos.after(then);
    }

    /// Writes `events` (one decision's appends, in position order) after every event given
    /// before them, in one transaction with what follows from them (`owed`: the position of the
    /// last and the messages, [`eda_core::store::outbox::owed`]), kept until the broker has
    /// acknowledged each message.
    pub fn keep(self: &Rc<Self>, events: &[&StoredEvent], owed: Option<(u64, Vec<OwedMessage>)>) {
        for event in events {
            self.events.give(event.position);
        }
        if matches!(*self.db.borrow(), Db::Off) {
            self.events.count_all_committed();
            return;
        }
        self.queue
            .borrow_mut()
            .extend(events.iter().map(|event| Record {
                position: event.position,
                stream: stream_name(event.stream),
                version: event.version,
                json: String::from_utf8_lossy(&event.to_json()).into_owned(),
            }));
        if let Some((position, messages)) = owed.filter(|(_, m)| !m.is_empty()) {
            self.owed_queue.borrow_mut().push(OutboxRow {
                position,
                json: row_to_json(&messages),
            });
            self.outbox.borrow_mut().owe(position, messages);
        }
        self.flush();
    }

    /// Keeps the dead letter `id` (its text, [`KeptDeadLetter::to_stored`]) until
    /// [`StoreKeeper::forget_dead_letter`]. Nothing is written once the database is off (the
    /// page lists it in memory).
    pub fn keep_dead_letter(self: &Rc<Self>, id: &str, json: String) {
        self.change_kept(Kept::DeadLetters, Ok(id), json);
    }

    /// Deletes the dead letter `id` (retried or discarded).
    pub fn forget_dead_letter(self: &Rc<Self>, id: &str) {
        self.dead_letters_unacked.borrow_mut().forget(id);
        self.change_kept(Kept::DeadLetters, Err(id), String::new());
    }

    /// Keeps `kept` as [`KeptDeadLetter::unpublished`] until the broker acknowledges its
    /// PUBLISH on `topic` (as on the wire) with `payload`, which a client has just accepted to
    /// send ([`StoreKeeper::dead_letter_sent`], [`StoreKeeper::dead_letter_acknowledged`]).
    pub fn keep_dead_letter_unacked(
        self: &Rc<Self>,
        mut kept: KeptDeadLetter,
        topic: String,
        payload: Vec<u8>,
    ) {
        kept.unpublished = true;
        self.change_kept(Kept::DeadLetters, Ok(&kept.id), kept.to_stored());
        self.dead_letters_unacked
            .borrow_mut()
            .unsent
            .push_back(UnackedDeadLetter {
                kept,
                topic,
                payload,
            });
    }

    /// `instance`'s client sent a first PUBLISH (not a DUP resend) on `topic` (as on the
    /// wire) with `payload`: if it carries a dead letter on its way, it is followed by
    /// `packet_id`; at QoS 0 (`None`) it is published once sent.
    pub fn dead_letter_sent(
        self: &Rc<Self>,
        instance: Instance,
        topic: &str,
        payload: &[u8],
        packet_id: Option<u16>,
    ) {
        let mut unacked = self.dead_letters_unacked.borrow_mut();
        let Some(sent) = unacked.take_unsent(|u| u.topic == topic && u.payload == payload) else {
            return;
        };
        match packet_id {
            Some(id) => unacked
                .sent
                .entry((instance, id))
                .or_default()
                .push_back(sent),
            None => {
                drop(unacked);
                self.dead_letter_published(sent.kept);
            }
        }
    }

    /// The broker acknowledged (or refused, saying `refused`: sent again, it would be refused
    /// again) `instance`'s PUBLISH `packet_id`: a dead letter it carried is published, or
    /// stored as refused ([`KeptDeadLetter::refused`]).
    pub fn dead_letter_acknowledged(
        self: &Rc<Self>,
        instance: Instance,
        packet_id: u16,
        refused: Option<&str>,
    ) {
        let mut unacked = self.dead_letters_unacked.borrow_mut();
        let Some(mut done) = unacked.take_sent(instance, packet_id) else {
            return;
        };
        drop(unacked);
        done.kept.refused = refused.map(str::to_owned);
        self.dead_letter_published(done.kept);
    }

    /// A client refused for good, from its offline queue, the message on `topic` (as on the
    /// wire): a dead letter there waiting to be sent will never be, and is no longer followed.
    pub fn dead_letter_refused(self: &Rc<Self>, topic: &str) {
        let mut unacked = self.dead_letters_unacked.borrow_mut();
        if let Some(done) = unacked.take_unsent(|u| u.topic == topic) {
            drop(unacked);
            self.dead_letter_published(done.kept);
        }
    }

    /// The client refused at once the PUBLISH on `topic` (as on the wire) with `payload` that
    /// [`StoreKeeper::keep_dead_letter_unacked`] had just started to follow: it never will be
    /// sent, and is stored as published (listed, not sent again after a reload).
    pub fn dead_letter_not_sent(self: &Rc<Self>, topic: &str, payload: &[u8]) {
        let mut unacked = self.dead_letters_unacked.borrow_mut();
        let Some(at) = unacked
            .unsent
            .iter()
            .rposition(|u| u.topic == topic && u.payload == payload)
        else {
            return;
        };
        let Some(done) = unacked.unsent.remove(at) else {
            return;
        };
        drop(unacked);
        self.dead_letter_published(done.kept);
    }

    /// The dead letter is on the wire (or never will be): stored as published.
    fn dead_letter_published(self: &Rc<Self>, mut kept: KeptDeadLetter) {
        kept.unpublished = false;
        self.change_kept(Kept::DeadLetters, Ok(&kept.id), kept.to_stored());
    }

    /// Keeps `pending` (under [`PendingTry::key`], [`PendingTry::to_stored`]) until
    /// [`StoreKeeper::forget_pending_try`], so that a reload tries it when due. Nothing is
    /// written once the database is off (a reload then loses it).
    pub fn keep_pending_try(self: &Rc<Self>, pending: &PendingTry) {
        self.change_kept(Kept::PendingTries, Ok(&pending.key), pending.to_stored());
    }

    /// Deletes the try kept under `key` (its try came, or it died with a crash).
    pub fn forget_pending_try(self: &Rc<Self>, key: &str) {
        self.change_kept(Kept::PendingTries, Err(key), String::new());
    }

    /// Queues a row of `kept` to store (`Ok(id)`, with `json`) or delete (`Err(id)`).
    fn change_kept(self: &Rc<Self>, kept: Kept, id: Result<&str, &str>, json: String) {
        if matches!(*self.db.borrow(), Db::Off) {
            return;
        }
        let change = match id {
            Ok(id) => Ok(KeptRow {
                id: id.to_owned(),
                json,
            }),
            Err(id) => Err(id.to_owned()),
        };
        self.kept_queue.borrow_mut().push((kept, change));
        self.write_kept();
    }

    /// Writes the queued changes to dead letters and tries, unless a write is on its way (it
    /// calls again). A failure (a full disk) turns the keeper off: the page says so and keeps
    /// them in memory.
    fn write_kept(self: &Rc<Self>) {
        let db = match &*self.db.borrow() {
            Db::Open(db) => db.clone(),
            _ => return,
        };
        if self.kept_writing.get() || self.kept_queue.borrow().is_empty() {
            return;
        }
        self.kept_writing.set(true);
        let changes = crate::event_db::last_change_per_row(std::mem::take(
            &mut *self.kept_queue.borrow_mut(),
        ));
        self.memos_writing.set(self.memos.given.get());
        let keeper = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let open = || matches!(*keeper.db.borrow(), Db::Open(_));
            let written = write_with_retries(|| db.write_kept(&changes), open).await;
            match written {
                Ok(()) => {
                    keeper.kept_writing.set(false);
                    keeper.memos.commit(keeper.memos_writing.get());
                    keeper.write_kept();
                }
                // Nothing is written from now on: the event store would stop short too.
                Err(error) => {
                    keeper.give_up_writing(&db, &error).await;
                    keeper.kept_writing.set(false);
                }
            }
        });
    }

    /// OrderService's client sent a PUBLISH (not a DUP resend) of `topic` (without the page's
    /// namespace) with `payload` and `packet_id` (`None` at QoS 0): an owed message at QoS 0
    /// is settled ([`Outbox::handle_sent`]).
    pub fn handle_sent(self: &Rc<Self>, topic: &str, payload: &[u8], packet_id: Option<u16>) {
        let settled = self
            .outbox
            .borrow_mut()
            .handle_sent(topic, payload, packet_id);
        self.settle(settled);
    }

    /// The broker acknowledged (PUBACK, PUBCOMP) or refused OrderService's PUBLISH with
    /// `packet_id` ([`Outbox::handle_acknowledged`]).
    pub fn handle_acknowledged(self: &Rc<Self>, packet_id: u16) {
        let settled = self.outbox.borrow_mut().handle_acknowledged(packet_id);
        self.settle(settled);
    }

    /// OrderService's client refused for good, before sending, the message on `topic`
    /// (without the namespace) with `payload` (`None`: one refused from the offline queue,
    /// known by its topic only): crossed off what is owed ([`Outbox::handle_refused`]), so a
    /// reload does not publish it again. Whether it was owed.
    pub fn handle_refused(self: &Rc<Self>, topic: &str, payload: Option<&[u8]>) -> bool {
        let before = self
            .outbox
            .borrow()
            .unsettled()
            .map(|(_, m)| m.len())
            .sum::<usize>();
        let settled = self.outbox.borrow_mut().handle_refused(topic, payload);
        let after = self
            .outbox
            .borrow()
            .unsettled()
            .map(|(_, m)| m.len())
            .sum::<usize>();
        self.settle(settled);
        after < before
    }

    /// How many messages a reload found owed and are not yet handed over to publish again.
    pub fn owed_count(&self) -> usize {
        self.restored_owed
            .borrow()
            .iter()
            .map(|(_, m)| m.len())
            .sum()
    }

    /// The orders whose compensation a reload found owed (`orders/cancelled`, or the
    /// orchestrator's release and refund commands), to publish again: their checks wait a
    /// deadline from now ([`eda_core::services::Flow::restore`]).
    pub fn owed_compensations(&self) -> Vec<uuid::Uuid> {
        self.owed_orders(eda_core::store::outbox::compensated_order)
    }

    /// The orders whose outcome (`orders/cancelled`, `orders/confirmed`) a reload found owed:
    /// their rows stay open until the wire shows it.
    pub fn owed_outcomes(&self) -> Vec<uuid::Uuid> {
        self.owed_orders(eda_core::store::outbox::outcome_order)
    }

    /// The orders `pick` names among the messages a reload found owed.
    fn owed_orders(&self, pick: fn(&OwedMessage) -> Option<uuid::Uuid>) -> Vec<uuid::Uuid> {
        self.restored_owed
            .borrow()
            .iter()
            .flat_map(|(_, messages)| messages)
            .filter_map(pick)
            .collect()
    }

    /// Takes, once, what a reload found owed: by position, each row's messages as decided.
    pub fn take_owed(&self) -> Vec<(u64, Vec<OwedMessage>)> {
        std::mem::take(&mut *self.restored_owed.borrow_mut())
    }

    /// Holds the publication `make` gives, of `instance` (OrderService's), while what a reload
    /// found owed waits to be published again, so that it goes out after it: the wire then has
    /// each stream's events in version order, and an outcome after the events it follows
    /// from. `false` (and `make` not called) when nothing waits: publish it now.
    pub fn hold_behind_owed(&self, instance: Instance, make: impl FnOnce() -> Publication) -> bool {
        if self.owed_count() == 0 {
            return false;
        }
        self.behind_owed.borrow_mut().push((instance, make()));
        true
    }

    /// Takes what [`StoreKeeper::hold_behind_owed`] held, in the order it came.
    pub fn take_behind_owed(&self) -> Vec<(Instance, Publication)> {
        std::mem::take(&mut *self.behind_owed.borrow_mut())
    }

    /// Deletes the rows at `positions`: queued, and written with whatever else was
    /// acknowledged meanwhile, one transaction at a time (at 100 orders a second the broker
    /// acknowledges about 300 owed messages a second; one transaction each cost the main thread
    /// more than the deletes). A failure only means that they go out once more after a reload,
    /// which the consumers ignore: it is not reported.
    fn settle(self: &Rc<Self>, positions: Vec<u64>) {
        if positions.is_empty() || !matches!(*self.db.borrow(), Db::Open(_)) {
            return;
        }
        self.settle_queue.borrow_mut().extend(positions);
        self.write_settled();
    }

    /// Deletes what is queued to settle, unless a deletion is on its way (it calls again).
    fn write_settled(self: &Rc<Self>) {
        let db = match &*self.db.borrow() {
            Db::Open(db) => db.clone(),
            _ => return,
        };
        if self.settling.get() || self.settle_queue.borrow().is_empty() {
            return;
        }
        self.settling.set(true);
        let positions = std::mem::take(&mut *self.settle_queue.borrow_mut());
        let keeper = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = db.settle(&positions).await;
            keeper.settling.set(false);
            keeper.write_settled();
        });
    }

    /// Forgets what a reload found owed (its store was not taken, and the database is
    /// emptied): the outbox owes only what this page queued meanwhile, not written yet.
    fn forget_restored(&self) {
        self.restored_owed.borrow_mut().clear();
        let mut outbox = self.outbox.borrow_mut();
        outbox.clear();
        for row in self.owed_queue.borrow().iter() {
            if let Ok(messages) = row_from_json(&row.json) {
                outbox.owe(row.position, messages);
            }
        }
    }

    /// Forgets what is owed (the database no longer holds it).
    fn forget_owed(&self) {
        self.outbox.borrow_mut().clear();
        self.restored_owed.borrow_mut().clear();
        self.owed_queue.borrow_mut().clear();
        self.settle_queue.borrow_mut().clear();
    }

    /// Runs `then` once the database has committed every event given so far (at once when it
    /// has, or when the page keeps nothing: no database), after whatever waits already, in
    /// the order they came: the outbox.
    pub fn after_kept(&self, then: Box<dyn FnOnce()>) {
        self.events.after(then);
    }

    /// Forgets everything queued and stops writing, with `message` for the page; what waited
    /// goes ahead (the page goes on in memory).
    fn turn_off(&self, message: String) {
        *self.db.borrow_mut() = Db::Off;
        self.queue.borrow_mut().clear();
        self.kept_queue.borrow_mut().clear();
        self.forget_owed();
        self.events.count_all_committed();
        self.memos.count_all_committed();
        (self.report)(Err(message));
        self.events.release();
        self.memos.release();
    }

    /// The database was lost while the page ran (deleted, upgraded by another tab, closed by
    /// the browser: [`EventDb::on_lost`]): the keeper turns off with `error`'s message, unless
    /// it already is. Nothing is emptied: there is nothing left to write to.
    fn lose(&self, error: StorageError) {
        if !matches!(*self.db.borrow(), Db::Off) {
            self.turn_off(error.to_string());
        }
    }

    /// A write failed for good with `error`: empties the event store kept in `db` ([`gave_up`]
    /// says why), then turns the keeper off with the page's message. The caller's "writing"
    /// flag stays set until this returns, so nothing else is written meanwhile (and nothing is
    /// after it: the keeper is off). Nothing when the keeper is off already (the database was
    /// lost, [`StoreKeeper::lose`], and a write under way failed with it).
    async fn give_up_writing(&self, db: &EventDb, error: &StorageError) {
        if matches!(*self.db.borrow(), Db::Off) {
            return;
        }
        let emptied = db.clear().await;
        if matches!(*self.db.borrow(), Db::Off) {
            return;
        }
        self.turn_off(gave_up(error, emptied));
    }

    /// Writes what is queued, one batch at a time, unless a batch is on its way.
    fn flush(self: &Rc<Self>) {
        let db = match &*self.db.borrow() {
            Db::Open(db) => db.clone(),
            _ => return,
        };
        if self.writing.get()
            || self.queue.borrow().is_empty() && self.owed_queue.borrow().is_empty()
        {
            return;
        }
        self.writing.set(true);
        let batch = std::mem::take(&mut *self.queue.borrow_mut());
        let owed = std::mem::take(&mut *self.owed_queue.borrow_mut());
        let keeper = self.clone();
        let last = batch.last().map_or(0, |r| r.position);
        wasm_bindgen_futures::spawn_local(async move {
            let open = || matches!(*keeper.db.borrow(), Db::Open(_));
            let written = write_with_retries(|| db.append_with_outbox(&batch, &owed), open).await;
            match written {
                Ok(()) => {
                    keeper.writing.set(false);
                    keeper.events.commit(last);
                    keeper.flush();
                }
                // Still "writing" while the store is emptied: nothing else goes in meanwhile.
                Err(error) => {
                    keeper.give_up_writing(&db, &error).await;
                    keeper.writing.set(false);
                }
            }
        });
    }
}

/// The page's message when a write failed for good (`error`), and the keeper emptied the event
/// store it kept (`emptied`): a store that stops short, read back after a reload, would bring
/// the orders back without their later events, and OrderService would resume their sagas and
/// cancel orders that had ended (a second outcome on the wire: a newcomer's break-test with the
/// site's storage full). An empty one brings back none.
fn gave_up(error: &StorageError, emptied: Result<(), StorageError>) -> String {
    match emptied {
        Ok(()) => format!(
            "{error} So that a reload does not bring back a part of the orders (an order \
             without its later events would be resumed and cancelled, though it had ended), \
             the page emptied the event store it kept: after a reload it starts with no orders, \
             and an order still open then never ends, nothing undone for it. Reload only once \
             no order is open. PaymentService and InventoryService keep what they had saved of \
             the earlier orders, so a redelivery of one is still ignored."
        ),
        Err(also) => format!(
            "{error} The page could not empty the event store it kept either ({}): a reload \
             would bring back a part of the orders and resume those whose later events were \
             not kept, cancelling orders that had ended. Clear this site's data before \
             reloading.",
            also.reason()
        ),
    }
}

/// An order OrderService placed and had not stored when the page went
/// ([`StoreKeeper::keep_placed`]): its id and its `orders/created` as published.
pub type Placed = (uuid::Uuid, Vec<u8>);

/// The participants' object store key of an order placed and not yet stored:
/// `placed:<orderId>`.
fn placed_key(order_id: uuid::Uuid) -> String {
    format!("{PLACED_PREFIX}{order_id}")
}

const PLACED_PREFIX: &str = "placed:";

/// What a reload found owed to the wire: by position, each row's messages.
type Owed = Vec<(u64, Vec<OwedMessage>)>;

/// What a reload reads back: the database, its store, what it owes the wire, the dead letters
/// and the tries it keeps.
type ReadBack = (
    EventDb,
    EventStore,
    Owed,
    Vec<KeptDeadLetter>,
    Vec<PendingTry>,
    (Vec<Memo>, Option<Stock>, Vec<Placed>),
    Option<String>,
);

/// Opens the tab's database and reads its store back, what it still owes the wire, the dead
/// letters it keeps (oldest first; rows that are not a dead letter left out) and the messages
/// waiting for their next try (soonest due first; rows that are not one left out).
async fn open_and_read(name: &str) -> Result<ReadBack, String> {
    let db = EventDb::open(name).await.map_err(|e| e.to_string())?;
    let mut dead_letters: Vec<KeptDeadLetter> = db
        .load_kept(Kept::DeadLetters)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|row| KeptDeadLetter::from_stored(&row.id, &row.json))
        .collect();
    dead_letters.sort_by_key(|d| d.letter.failed_at);
    let mut tries: Vec<PendingTry> = db
        .load_kept(Kept::PendingTries)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|row| PendingTry::from_stored(&row.id, &row.json))
        .collect();
    tries.sort_by_key(|t| t.due);
    // The participants' memory; a row another version of the page wrote is kept as its
    // order's id alone (`Memo::unreadable`).
    let mut memos = Vec::new();
    let mut stock = None;
    let mut placed = Vec::new();
    for row in db
        .load_kept(Kept::Participants)
        .await
        .map_err(|e| e.to_string())?
    {
        if let Some(id) = row.id.strip_prefix(PLACED_PREFIX) {
            if let Ok(order_id) = id.parse() {
                placed.push((order_id, row.json.into_bytes()));
            }
        } else if row.id == durable::STOCK_KEY {
            stock = durable::stock_from_stored(&row.json);
        } else if let Some(memo) = Memo::from_stored(&row.json) {
            memos.push(memo);
        } else if let Some(memo) = Memo::unreadable(&row.id) {
            // Not read, but not forgotten: its order's redelivery stays a duplicate, and the
            // service's log says so (36-Q F3).
            memos.push(memo);
        }
    }
    // The events up to the first this page cannot use (unreadable, or not fitting the store):
    // those are read back, that one and every one after it are deleted, and the page says so
    // (a newcomer's break-test, 36-Q F2: one bad record threw the whole database away, and an
    // order in flight at the reload never ended).
    let (records, unreadable) = db.load_readable().await.map_err(|e| e.to_string())?;
    let mut cut = unreadable.map(|(position, error)| (position, error.to_string()));
    let mut events = Vec::with_capacity(records.len());
    for record in &records {
        if cut.as_ref().is_some_and(|(at, _)| record.position >= *at) {
            break;
        }
        match StoredEvent::decode(record.json.as_bytes()) {
            Ok(event) => events.push(event),
            Err(error) => {
                cut = Some((
                    record.position,
                    format!(
                        "the stored event at position {} could not be read: {error}",
                        record.position
                    ),
                ));
                break;
            }
        }
    }
    let (store, refused) = EventStore::load_prefix(events);
    if let Some((position, error)) = refused {
        cut = Some((
            position,
            format!("the stored event at position {position} does not fit the store: {error}"),
        ));
    }
    let (rows, mut unread_rows) = db.load_outbox_readable().await.map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    let mut owed = Vec::with_capacity(rows.len());
    for row in rows
        .iter()
        .filter(|row| cut.as_ref().is_none_or(|(at, _)| row.position < *at))
    {
        match row_from_json(&row.json) {
            Ok(messages) => owed.push((row.position, messages)),
            Err(_) => unread_rows += 1,
        }
    }
    if let Some((at, why)) = &cut {
        let left_out = records.iter().filter(|r| r.position >= *at).count().max(1);
        db.truncate_from(*at).await.map_err(|e| e.to_string())?;
        notes.push(format!(
            "The page's database held an event it could not use ({why}). It read back the {} \
             stored before it, and deleted {} from there on, so it writes over {} from now \
             on: an order whose history was there is not shown, and what it owed the wire is \
             not sent again.",
            store.head(),
            if left_out == 1 {
                "that one".to_owned()
            } else {
                format!("those {left_out}")
            },
            if left_out == 1 { "it" } else { "them" },
        ));
    }
    if unread_rows > 0 {
        notes.push(format!(
            "{unread_rows} of what stored events owe the wire could not be read (written by \
             another version of the playground?): not sent again."
        ));
    }
    let note = (!notes.is_empty()).then(|| notes.join(" "));
    Ok((
        db,
        store,
        owed,
        dead_letters,
        tries,
        (memos, stock, placed),
        note,
    ))
}

#[cfg(test)]
mod tests {
    //! The participants' rows, in Chromium's IndexedDB: bounded as the core's memos are.

    use eda_core::domain::topics;
    use eda_core::services::{Flow, FlowSettings, ServiceId};
    use wasm_bindgen_futures::JsFuture;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// Resolves once every memo given to `keeper` so far is committed.
    async fn committed(keeper: &Rc<StoreKeeper>) {
        let done = js_sys::Promise::new(&mut |resolve, _| {
            keeper.after_memos(Box::new(move || {
                resolve.call0(&wasm_bindgen::JsValue::NULL).unwrap();
            }));
        });
        JsFuture::from(done).await.unwrap();
    }

    #[wasm_bindgen_test]
    async fn the_participants_rows_stay_within_the_cores_bound() {
        let tag = "test-memos-bound";
        let keeper = StoreKeeper::start(
            tag,
            &Namespace::default(),
            |_| {},
            |_, _| {},
            |_| Ok(String::new()),
            |_| {},
            |_, _| {},
        );
        let mut flow = Flow::new(FlowSettings::default()).keeping_memos(3);
        let now =
            eda_core::domain::timestamp::Timestamp::from_unix_millis(1_705_314_600_000).unwrap();
        for n in 1..=8u128 {
            let order_id = uuid::Uuid::from_u128(n);
            let payload = format!(
                r#"{{"orderId":"{order_id}","customerId":"C123","items":[{{"productId":"P001","quantity":2,"price":29.99}}],"totalAmount":59.98,"createdAt":"2024-01-15T10:30:00.000Z"}}"#
            );
            flow.handle(
                ServiceId::Notification,
                now,
                topics::ORDERS_CREATED,
                payload.as_bytes(),
            )
            .unwrap();
            keeper.keep_memos(flow.take_changed());
        }
        committed(&keeper).await;
        let db = EventDb::open(&database_name(tag, &Namespace::default()))
            .await
            .unwrap();
        let mut kept: Vec<String> = db
            .load_kept(Kept::Participants)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.id)
            .collect();
        kept.sort();
        let newest: Vec<String> = (6..=8u128)
            .map(|n| format!("notification/{}", uuid::Uuid::from_u128(n)))
            .collect();
        assert_eq!(kept, newest, "the newest three orders' rows, no more");
    }
}
