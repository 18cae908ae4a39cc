//! The schema and the blocked upgrade (which needs a schema version other than the page's), in
//! Chromium, with the browser's own API beside the driver.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{open_version, EventDb, StorageError};

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
    drop(EventDb::open(name).await.expect("a version 1 database"));
    let other = other_tab_opens(name, 1)
        .await
        .expect("the other tab's connection");

    let error = open_version(name, 2).await.unwrap_err();
    assert_eq!(error, StorageError::Blocked);
    assert!(
        error.to_string().contains("close the other tabs"),
        "{error}"
    );

    // The other tab lets go: the upgrade we gave up on must not happen (the browser would then
    // refuse version 1 with a VersionError) nor leave a connection open.
    other.close();
    let again = other_tab_opens(name, 1).await;
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
    let db = other_tab_opens(name, 1).await.unwrap();
    assert_eq!(db.version(), 1.0);
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
