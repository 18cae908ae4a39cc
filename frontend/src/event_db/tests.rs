//! The schema and the blocked upgrade (which needs a schema version other than the page's), in
//! Chromium, with the browser's own API beside the driver.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{open_version, EventDb, Kept, KeptRow, StorageError};

/// Opens `name` at `version` with the browser's API directly, as another tab would: a
/// connection that ignores `versionchange`, so it blocks upgrades until it is closed.
async fn other_tab_opens(name: &str, version: u32) -> Result<web_sys::IdbDatabase, String> {
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let request = factory.open_with_u32(name, version).unwrap();
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    match JsFuture::from(done).await {
        Ok(_) => Ok(request.result().unwrap().unchecked_into()),
        Err(_) => Err(request
            .error()
            .ok()
            .flatten()
            .map(|e| e.name())
            .unwrap_or_default()),
    }
}

#[wasm_bindgen_test]
async fn an_upgrade_blocked_by_another_tab_is_reported_and_then_abandoned() {
    let name = "eda-test-blocked";
    drop(EventDb::open(name).await.expect("a version 5 database"));
    let other = other_tab_opens(name, 5)
        .await
        .expect("the other tab's connection");

    let error = open_version(name, 6).await.unwrap_err();
    assert_eq!(error, StorageError::Blocked);
    assert!(
        error.to_string().contains("close the other tabs"),
        "{error}"
    );

    // The other tab lets go: the upgrade we gave up on must not happen (the browser would then
    // refuse version 5 with a VersionError) nor leave a connection open.
    other.close();
    let again = other_tab_opens(name, 5).await;
    assert!(
        again.is_ok(),
        "the database was upgraded after all: {again:?}"
    );
    again.unwrap().close();
}

#[wasm_bindgen_test]
async fn the_database_has_the_store_keyed_by_position_and_the_stream_index() {
    let name = "eda-test-schema";
    drop(EventDb::open(name).await.unwrap());
    let db = other_tab_opens(name, 5).await.unwrap();
    assert_eq!(db.version(), 5.0);
    for kept in ["deadLetters", "pendingTries", "participants"] {
        let store = db
            .transaction_with_str(kept)
            .unwrap()
            .object_store(kept)
            .unwrap();
        assert_eq!(
            store.key_path().unwrap().as_string().as_deref(),
            Some("id"),
            "{kept}"
        );
    }
    let outbox = db
        .transaction_with_str("outbox")
        .unwrap()
        .object_store("outbox")
        .unwrap();
    assert_eq!(
        outbox.key_path().unwrap().as_string().as_deref(),
        Some("position")
    );
    let store = db
        .transaction_with_str("events")
        .unwrap()
        .object_store("events")
        .unwrap();
    assert_eq!(
        store.key_path().unwrap().as_string().as_deref(),
        Some("position")
    );
    assert!(!store.auto_increment());
    let index = store.index("stream").unwrap();
    assert_eq!(
        index.key_path().unwrap().as_string().as_deref(),
        Some("stream")
    );
    assert!(!index.unique());
    db.close();
}

/// A version 1 database (the page before the outbox) with one event, made with the browser's
/// API as that page made it.
async fn a_version_1_database_with_one_event(name: &str) {
    an_older_database_with_one_event(name, 1).await
}

/// A database of schema `version` (1: `events`; 2: and `outbox`, with a row owed for the
/// event; 3: and `deadLetters`, with one dead letter) holding one event, made with the browser's
/// API as the page of that version made it.
async fn an_older_database_with_one_event(name: &str, version: u32) {
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let request = factory.open_with_u32(name, version).unwrap();
    let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new({
        let request = request.clone();
        move |_| {
            let db: web_sys::IdbDatabase = request.result().unwrap().unchecked_into();
            let params = web_sys::IdbObjectStoreParameters::new();
            params.set_key_path(&"position".into());
            let store = db
                .create_object_store_with_optional_parameters("events", &params)
                .unwrap();
            store.create_index_with_str("stream", "stream").unwrap();
            if version >= 2 {
                db.create_object_store_with_optional_parameters("outbox", &params)
                    .unwrap();
            }
            if version >= 3 {
                let by_id = web_sys::IdbObjectStoreParameters::new();
                by_id.set_key_path(&"id".into());
                db.create_object_store_with_optional_parameters("deadLetters", &by_id)
                    .unwrap();
            }
        }
    });
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(done).await.unwrap();
    let db: web_sys::IdbDatabase = request.result().unwrap().unchecked_into();
    let stores = js_sys::Array::of1(&"events".into());
    if version >= 2 {
        stores.push(&"outbox".into());
    }
    if version >= 3 {
        stores.push(&"deadLetters".into());
    }
    let transaction = db
        .transaction_with_str_sequence_and_mode(&stores, web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    let record = super::Record {
        position: 1,
        stream: "order-1".into(),
        version: 1,
        json: "{}".into(),
    };
    transaction
        .object_store("events")
        .unwrap()
        .add(&record.to_js().unwrap())
        .unwrap();
    if version >= 2 {
        let row = super::OutboxRow {
            position: 1,
            json: "[]".into(),
        };
        transaction
            .object_store("outbox")
            .unwrap()
            .add(&row.to_js().unwrap())
            .unwrap();
    }
    if version >= 3 {
        let letter = KeptRow {
            id: "d-1".into(),
            json: "{}".into(),
        };
        transaction
            .object_store("deadLetters")
            .unwrap()
            .add(&letter.to_js().unwrap())
            .unwrap();
    }
    let committed = js_sys::Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onerror(Some(&reject));
    });
    JsFuture::from(committed).await.unwrap();
    db.close();
}

#[wasm_bindgen_test]
async fn the_upgrade_from_version_1_keeps_the_events_and_owes_nothing_for_them() {
    let name = "eda-test-upgrade";
    a_version_1_database_with_one_event(name).await;
    let db = EventDb::open(name).await.expect("upgraded to version 5");
    assert_eq!(db.load_all().await.unwrap().len(), 1, "the event is kept");
    assert_eq!(db.load_outbox().await.unwrap(), [], "counted as published");
    assert_eq!(
        db.load_kept(Kept::DeadLetters).await.unwrap(),
        [],
        "no dead letter kept"
    );
    assert_eq!(
        db.load_kept(Kept::PendingTries).await.unwrap(),
        [],
        "no try kept"
    );
}

#[wasm_bindgen_test]
async fn the_upgrade_from_version_2_keeps_the_events_and_what_they_owe() {
    let name = "eda-test-upgrade-2";
    an_older_database_with_one_event(name, 2).await;
    let db = EventDb::open(name).await.expect("upgraded to version 5");
    assert_eq!(db.load_all().await.unwrap().len(), 1, "the event is kept");
    assert_eq!(
        db.load_outbox().await.unwrap().len(),
        1,
        "what it owes is kept"
    );
    assert_eq!(
        db.load_kept(Kept::DeadLetters).await.unwrap(),
        [],
        "no dead letter kept"
    );
}

#[wasm_bindgen_test]
async fn the_upgrade_from_version_3_keeps_the_dead_letters_and_adds_the_tries() {
    let name = "eda-test-upgrade-3";
    an_older_database_with_one_event(name, 3).await;
    let db = EventDb::open(name).await.expect("upgraded to version 5");
    assert_eq!(db.load_all().await.unwrap().len(), 1, "the event is kept");
    assert_eq!(db.load_outbox().await.unwrap().len(), 1, "what it owes too");
    assert_eq!(
        db.load_kept(Kept::DeadLetters).await.unwrap(),
        [KeptRow {
            id: "d-1".into(),
            json: "{}".into()
        }],
        "the dead letter is kept"
    );
    assert_eq!(db.load_kept(Kept::PendingTries).await.unwrap(), []);
    assert_eq!(
        db.load_kept(Kept::Participants).await.unwrap(),
        [],
        "no participant's memory kept before version 5"
    );
}

#[wasm_bindgen_test]
async fn a_dead_letter_is_kept_until_deleted_and_clear_leaves_it() {
    let name = "eda-test-dead-letters";
    let db = EventDb::open(name).await.unwrap();
    let row = |id: &str, json: &str| KeptRow {
        id: id.into(),
        json: json.into(),
    };
    let (letters, tries) = (Kept::DeadLetters, Kept::PendingTries);
    db.write_kept(&[
        (letters, Ok(row("a", "1"))),
        (tries, Ok(row("a", "try"))),
        (letters, Ok(row("b", "2"))),
        (letters, Ok(row("a", "3"))),
    ])
    .await
    .unwrap();
    db.clear().await.unwrap();
    drop(db);
    let db = EventDb::open(name).await.unwrap();
    assert_eq!(
        db.load_kept(letters).await.unwrap(),
        [row("a", "3"), row("b", "2")]
    );
    assert_eq!(
        db.load_kept(tries).await.unwrap(),
        [row("a", "try")],
        "each store its own rows"
    );
    db.write_kept(&[
        (letters, Err("a".into())),
        (letters, Err("nobody".into())),
        (tries, Err("a".into())),
    ])
    .await
    .unwrap();
    assert_eq!(db.load_kept(letters).await.unwrap(), [row("b", "2")]);
    assert_eq!(db.load_kept(tries).await.unwrap(), []);
}

#[wasm_bindgen_test]
async fn an_outbox_row_is_kept_with_its_events_until_settled() {
    let name = "eda-test-outbox";
    let db = EventDb::open(name).await.unwrap();
    db.clear().await.unwrap();
    let record = |position| super::Record {
        position,
        stream: "order-1".into(),
        version: position,
        json: "{}".into(),
    };
    let row = |position| super::OutboxRow {
        position,
        json: format!("[{position}]"),
    };
    db.append_with_outbox(&[record(1)], &[row(1)])
        .await
        .unwrap();
    db.append_with_outbox(&[record(2)], &[row(2)])
        .await
        .unwrap();
    // A row already there fails the batch, events included, with the browser's own words.
    match db.append_with_outbox(&[record(3)], &[row(2)]).await {
        Err(super::StorageError::Other(words)) => {
            assert!(words.starts_with("ConstraintError"), "{words}")
        }
        other => panic!("a position already stored: {other:?}"),
    }
    match db.append(&[record(1)]).await {
        Err(super::StorageError::Other(words)) => {
            assert!(words.starts_with("ConstraintError"), "{words}")
        }
        other => panic!("an event already stored: {other:?}"),
    }
    drop(db);
    let db = EventDb::open(name).await.unwrap();
    assert_eq!(db.load_all().await.unwrap().len(), 2);
    assert_eq!(db.load_outbox().await.unwrap(), [row(1), row(2)]);
    db.settle(&[1, 7]).await.unwrap();
    assert_eq!(db.load_outbox().await.unwrap(), [row(2)]);
    db.clear().await.unwrap();
    assert_eq!(db.load_outbox().await.unwrap(), []);
}

/// Resolves with what `db` reports once its connection is lost ([`EventDb::on_lost`]).
fn lost(db: &EventDb) -> js_sys::Promise {
    let mut report = None;
    let promise = js_sys::Promise::new(&mut |resolve, _| report = Some(resolve));
    let resolve = report.unwrap();
    db.on_lost(move |error| {
        let words = wasm_bindgen::JsValue::from_str(&format!("{error:?}"));
        resolve.call1(&wasm_bindgen::JsValue::NULL, &words).unwrap();
    });
    promise
}

// A newcomer's break-test deleted the tab's database while the page ran (as *Clear site data*
// does): the page let go, but learnt of it only at its next write, and then blamed "the
// connection is closing".
#[wasm_bindgen_test]
async fn a_deleted_database_is_let_go_at_once_and_reported_as_deleted() {
    let name = "eda-test-deleted";
    let db = EventDb::open(name).await.unwrap();
    let reported = lost(&db);
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let request = factory.delete_database(name).unwrap();
    let deleted = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
        // Not let go: the deletion would wait for this connection.
        request.set_onblocked(Some(&reject));
    });
    JsFuture::from(deleted)
        .await
        .expect("deleted, not blocked by the page's connection");
    let words = JsFuture::from(reported).await.unwrap();
    assert_eq!(words.as_string().as_deref(), Some("Deleted"));
    assert!(
        db.append(&[super::Record {
            position: 1,
            stream: "order-1".into(),
            version: 1,
            json: "{}".into(),
        }])
        .await
        .is_err(),
        "nothing is written after"
    );
    // Told once, at once, to a listener that comes late too.
    let again = JsFuture::from(lost(&db)).await.unwrap();
    assert_eq!(again.as_string().as_deref(), Some("Deleted"));
}

#[wasm_bindgen_test]
async fn a_newer_version_in_another_tab_is_let_through_and_reported() {
    let name = "eda-test-upgraded";
    let db = EventDb::open(name).await.unwrap();
    let reported = lost(&db);
    let other = other_tab_opens(name, 6)
        .await
        .expect("the upgrade is not blocked by the page's connection");
    let words = JsFuture::from(reported).await.unwrap();
    assert_eq!(words.as_string().as_deref(), Some("Upgraded"));
    other.close();
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    factory.delete_database(name).unwrap();
}

/// A batch of changes to rows by id keeps only each row's last change, the others in order:
/// writing what is left leaves the stores as writing them all would.
#[wasm_bindgen_test]
fn only_the_last_change_to_each_row_is_written() {
    use super::last_change_per_row;
    let put = |kept: Kept, id: &str, json: &str| {
        (
            kept,
            Ok(KeptRow {
                id: id.to_owned(),
                json: json.to_owned(),
            }),
        )
    };
    let delete = |kept: Kept, id: &str| (kept, Err(id.to_owned()));
    let changes = vec![
        put(Kept::DeadLetters, "a", "a unpublished"),
        put(Kept::DeadLetters, "b", "b unpublished"),
        put(Kept::DeadLetters, "a", "a published"),
        // The same id in another store is another row.
        put(Kept::PendingTries, "a", "try a"),
        put(Kept::DeadLetters, "c", "c"),
        delete(Kept::DeadLetters, "c"),
        delete(Kept::DeadLetters, "d"),
        put(Kept::DeadLetters, "d", "d again"),
    ];
    assert_eq!(
        last_change_per_row(changes),
        vec![
            put(Kept::DeadLetters, "b", "b unpublished"),
            put(Kept::DeadLetters, "a", "a published"),
            put(Kept::PendingTries, "a", "try a"),
            delete(Kept::DeadLetters, "c"),
            put(Kept::DeadLetters, "d", "d again"),
        ]
    );
}
