//! The event store in a real browser (wasm-bindgen-test, headless Chromium's IndexedDB): what is
//! appended comes back after the connection is closed and opened again, in order and unchanged;
//! a batch that fails leaves nothing behind; a page without IndexedDB gets `Unavailable` and its
//! message.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;

use frontend::event_db::{EventDb, Record, StorageError};
use gloo::events::EventListener;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn record(position: u64, stream: &str, version: u64, json: &str) -> Record {
    Record {
        position,
        stream: stream.to_owned(),
        version,
        json: json.to_owned(),
    }
}

/// A database of its own for one test, emptied.
async fn fresh(name: &str) -> EventDb {
    let db = EventDb::open(name).await.expect("IndexedDB in Chromium");
    db.clear().await.unwrap();
    db
}

#[wasm_bindgen_test]
async fn two_batches_come_back_after_reopening_in_position_order_unchanged() {
    let name = "eda-test-round-trip";
    let first = [
        record(
            1,
            "order-a",
            1,
            r#"{"type":"OrderPlaced","amount":"12.50"}"#,
        ),
        record(2, "order-b", 1, r#"{"note":"ü € 😀 \"quoted\" \\ \u{0}"}"#),
    ];
    // Out of order on purpose, an empty payload, and the largest exact position.
    let second = [
        record((1 << 53) - 1, "order-a", 3, ""),
        record(3, "order-a", 2, "{\n  \"multi\": \"line\"\r\n}"),
    ];
    {
        let db = fresh(name).await;
        db.append(&first).await.unwrap();
        db.append(&second).await.unwrap();
        db.append(&[]).await.unwrap();
    } // dropped: the connection is closed, as at a reload

    let db = EventDb::open(name).await.unwrap();
    let loaded = db.load_all().await.unwrap();
    let expected = [&first[0], &first[1], &second[1], &second[0]];
    assert_eq!(loaded.iter().collect::<Vec<_>>(), expected);
    for (got, want) in loaded.iter().zip(expected) {
        assert_eq!(got.json.as_bytes(), want.json.as_bytes());
    }
}

#[wasm_bindgen_test]
async fn a_batch_with_a_position_already_stored_writes_nothing() {
    let db = fresh("eda-test-duplicate").await;
    db.append(&[record(1, "s", 1, "{}")]).await.unwrap();
    let uncaught = Rc::new(Cell::new(0));
    let _listening = EventListener::new(&web_sys::window().unwrap(), "error", {
        let uncaught = uncaught.clone();
        move |_| uncaught.set(uncaught.get() + 1)
    });

    let error = db
        .append(&[
            record(2, "s", 2, "{}"),
            record(1, "s", 3, "{}"),
            record(3, "s", 4, "{}"),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::Other(why) if why.contains("ConstraintError")),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("keeps working in memory"),
        "{error}"
    );
    assert_eq!(db.load_all().await.unwrap(), [record(1, "s", 1, "{}")]);
    // No event handler of the failed batch was left to throw in the browser.
    assert_eq!(uncaught.get(), 0, "uncaught errors in the page");
}

#[wasm_bindgen_test]
async fn a_position_javascript_cannot_hold_exactly_is_refused_before_writing() {
    let db = fresh("eda-test-big").await;
    let error = db
        .append(&[record(1, "s", 1, "{}"), record(1 << 53, "s", 2, "{}")])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::Other(why) if why.contains("2^53")),
        "{error:?}"
    );
    assert!(db.load_all().await.unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn clear_empties_the_store_for_good() {
    let name = "eda-test-clear";
    {
        let db = fresh(name).await;
        db.append(&[record(1, "s", 1, "{}"), record(2, "s", 2, "{}")])
            .await
            .unwrap();
        db.clear().await.unwrap();
        assert!(db.load_all().await.unwrap().is_empty());
    }
    let db = EventDb::open(name).await.unwrap();
    assert!(db.load_all().await.unwrap().is_empty());
}

/// Replaces the global `indexedDB` with a getter running `body` for the time of `test`, then
/// puts the browser's own back.
async fn without_indexed_db<F: std::future::Future<Output = ()>>(body: &str, test: F) {
    let window: Object = web_sys::window().unwrap().unchecked_into();
    let key = JsValue::from_str("indexedDB");
    let original = Object::get_own_property_descriptor(&window, &key);
    assert!(
        !original.is_undefined(),
        "Chromium keeps indexedDB on the window itself"
    );
    let replaced = Object::new();
    Reflect::set(&replaced, &"get".into(), &Function::new_no_args(body)).unwrap();
    Reflect::set(&replaced, &"configurable".into(), &true.into()).unwrap();
    Object::define_property(&window, &key, &replaced);
    test.await;
    Object::define_property(&window, &key, original.unchecked_ref());
}

#[wasm_bindgen_test]
async fn a_browser_that_refuses_indexed_db_gets_unavailable_and_a_message() {
    // What Chromium and Firefox do where storage is denied (a sandboxed frame, cookies blocked).
    let thrower = "throw new DOMException('The operation is insecure.', 'SecurityError')";
    without_indexed_db(thrower, async {
        let error = EventDb::open("eda-test-unavailable").await.unwrap_err();
        let StorageError::Unavailable { reason } = &error else {
            panic!("expected Unavailable, got {error:?}");
        };
        assert!(reason.contains("SecurityError"), "{reason}");
        let message = error.to_string();
        assert!(message.contains("private window"), "{message}");
        assert!(message.contains("keeps working in memory"), "{message}");
        assert!(message.contains("nothing shown is lost"), "{message}");
    })
    .await;

    without_indexed_db("return undefined", async {
        let error = EventDb::open("eda-test-unavailable").await.unwrap_err();
        assert_eq!(
            error,
            StorageError::Unavailable {
                reason: "indexedDB is not defined".to_owned()
            }
        );
    })
    .await;

    // Restored: the same page opens its database again.
    EventDb::open("eda-test-unavailable").await.unwrap();
}

#[wasm_bindgen_test]
async fn storage_full_is_reported_as_such_and_the_batch_is_not_written() {
    // The site's quota cannot honestly be filled in a test (it is a share of the disk), so the
    // browser's answer is imitated: the second `add` of the batch throws QuotaExceededError.
    let db = fresh("eda-test-quota").await;
    db.append(&[record(1, "s", 1, "{}")]).await.unwrap();

    let prototype = Reflect::get(&js_sys::global(), &"IDBObjectStore".into())
        .and_then(|class| Reflect::get(&class, &"prototype".into()))
        .unwrap();
    let add = Reflect::get(&prototype, &"add".into()).unwrap();
    let failing = Function::new_with_args(
        "add",
        "let calls = 0; return function (...args) { \
           if (++calls === 2) throw new DOMException('The quota has been exceeded.', \
             'QuotaExceededError'); \
           return add.apply(this, args); };",
    )
    .call1(&JsValue::NULL, &add)
    .unwrap();
    Reflect::set(&prototype, &"add".into(), &failing).unwrap();
    let result = db
        .append(&[record(2, "s", 2, "{}"), record(3, "s", 3, "{}")])
        .await;
    Reflect::set(&prototype, &"add".into(), &add).unwrap();

    let error = result.unwrap_err();
    assert_eq!(error, StorageError::QuotaExceeded);
    assert!(
        error.to_string().contains("storage for this site is full"),
        "{error}"
    );
    assert_eq!(db.load_all().await.unwrap(), [record(1, "s", 1, "{}")]);
}
