//! A stored record and its shape in the database: a plain object
//! `{ position, stream, version, json }`, numbers as JavaScript numbers.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use super::StorageError;

/// One stored event, opaque to the database: where it stands in the whole log (`position`, the
/// key), which stream it belongs to and its version in that stream, and the event itself as the
/// caller serialised it (`json`, stored and returned unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's place in the whole store, unique: the key. At most 2^53 − 1 (the largest
    /// integer a JavaScript number holds exactly).
    pub position: u64,
    /// The stream (e.g. one order) the record belongs to; indexed.
    pub stream: String,
    /// The record's version within its stream. At most 2^53 − 1.
    pub version: u64,
    /// The event, as text. Not parsed here.
    pub json: String,
}

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

impl Record {
    /// The record as the object stored, or an error for a number JavaScript cannot hold exactly.
    pub(crate) fn to_js(&self) -> Result<JsValue, StorageError> {
        let object = Object::new();
        let set = |key: &str, value: JsValue| {
            Reflect::set(&object, &key.into(), &value).map_err(|e| StorageError::from_js(&e))
        };
        set("position", exact_number("position", self.position)?)?;
        set("stream", self.stream.as_str().into())?;
        set("version", exact_number("version", self.version)?)?;
        set("json", self.json.as_str().into())?;
        Ok(object.into())
    }

    /// The record read back from a stored object; an error names what is wrong with an object
    /// this driver did not write (another version of the page, or a damaged database).
    pub(crate) fn from_js(value: &JsValue) -> Result<Record, StorageError> {
        let get = |key: &str| Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let number = |key: &str| {
            get(key)
                .as_f64()
                .filter(|n| n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER as f64).contains(n))
                .map(|n| n as u64)
                .ok_or_else(|| damaged(key, value))
        };
        let text = |key: &str| get(key).as_string().ok_or_else(|| damaged(key, value));
        Ok(Record {
            position: number("position")?,
            stream: text("stream")?,
            version: number("version")?,
            json: text("json")?,
        })
    }
}

fn exact_number(field: &str, n: u64) -> Result<JsValue, StorageError> {
    if n > MAX_SAFE_INTEGER {
        return Err(StorageError::Other(format!(
            "a record's {field} {n} is larger than the database can store exactly (2^53 - 1)"
        )));
    }
    Ok(JsValue::from_f64(n as f64))
}

fn damaged(field: &str, value: &JsValue) -> StorageError {
    let position = Reflect::get(value, &"position".into())
        .ok()
        .and_then(|p| p.as_f64())
        .map_or_else(|| "?".to_owned(), |p| p.to_string());
    StorageError::Other(format!(
        "a stored record (position {position}) has no valid `{field}`: it was not written by this \
         version of the playground"
    ))
}

/// What follows from the stored events up to `position` and is not yet acknowledged on the
/// wire: one row of the `outbox` store, `{ position, json }`, opaque to the database (the
/// caller's text, stored and returned unchanged; see `eda_core::store::outbox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// The position of the last event it follows from: the key. At most 2^53 − 1.
    pub position: u64,
    /// What is owed, as text. Not parsed here.
    pub json: String,
}

impl OutboxRow {
    /// The row as the object stored, or an error for a position JavaScript cannot hold exactly.
    pub(crate) fn to_js(&self) -> Result<JsValue, StorageError> {
        let object = Object::new();
        let set = |key: &str, value: JsValue| {
            Reflect::set(&object, &key.into(), &value).map_err(|e| StorageError::from_js(&e))
        };
        set("position", exact_number("position", self.position)?)?;
        set("json", self.json.as_str().into())?;
        Ok(object.into())
    }

    /// The row read back from a stored object; an error names what is wrong with an object this
    /// driver did not write.
    pub(crate) fn from_js(value: &JsValue) -> Result<OutboxRow, StorageError> {
        let get = |key: &str| Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let position = get("position")
            .as_f64()
            .filter(|n| n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER as f64).contains(n))
            .map(|n| n as u64)
            .ok_or_else(|| damaged("position", value))?;
        let json = get("json")
            .as_string()
            .ok_or_else(|| damaged("json", value))?;
        Ok(OutboxRow { position, json })
    }
}

/// One row of a store the page keeps by id ([`super::Kept`]): a dead letter it lists until the
/// learner retries or discards it (`deadLetters`, see
/// `eda_core::trace::dead_letters::KeptDeadLetter`), or a message waiting for its next try
/// (`pendingTries`, see `eda_core::services::pending_tries::PendingTry`). `{ id, json }`,
/// opaque to the database: the caller's text, stored and returned unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRow {
    /// Unique for the tab: the key.
    pub id: String,
    /// The dead letter or the try, as text. Not parsed here.
    pub json: String,
}

impl KeptRow {
    /// The row as the object stored.
    pub(crate) fn to_js(&self) -> Result<JsValue, StorageError> {
        let object = Object::new();
        let set = |key: &str, value: JsValue| {
            Reflect::set(&object, &key.into(), &value).map_err(|e| StorageError::from_js(&e))
        };
        set("id", self.id.as_str().into())?;
        set("json", self.json.as_str().into())?;
        Ok(object.into())
    }

    /// The row read back from a stored object; `None` for an object this driver did not write.
    pub(crate) fn from_js(value: &JsValue) -> Option<KeptRow> {
        let get = |key: &str| Reflect::get(value, &key.into()).ok()?.as_string();
        Some(KeptRow {
            id: get("id")?,
            json: get("json")?,
        })
    }
}
