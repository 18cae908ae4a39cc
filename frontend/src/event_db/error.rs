//! What can go wrong with the browser's database, in words a learner can act on.

use wasm_bindgen::{JsCast, JsValue};

/// Why the event store could not be opened, written or read. Its `Display` is the message for
/// the page: what happened, and that the page goes on in memory (nothing already shown is lost).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The browser gives this page no database: `indexedDB` is missing or throws when touched
    /// (a private window, site data blocked, a sandboxed frame). `reason` is the browser's own
    /// words, for the developer tools.
    #[error(
        "This browser does not let the page keep a database here (private window, or site data \
         blocked), so the orders, the dead letters, the messages waiting for their next try and \
         what PaymentService and InventoryService charged, reserved and processed will not come \
         back after a reload (a reloaded PaymentService would charge a redelivered order \
         again). The page keeps working in memory; nothing shown is \
         lost. The browser said: {reason}"
    )]
    Unavailable {
        /// The browser's explanation, e.g. `SecurityError: The operation is insecure.`
        reason: String,
    },
    /// Another tab of the playground holds the database open at an older version and did not
    /// let go, so this tab cannot upgrade it.
    #[error(
        "Another tab of the playground holds the database open, so this tab cannot use it: close \
         the other tabs of the playground and reload this one. Until then the page keeps working \
         in memory; nothing shown is lost."
    )]
    Blocked,
    /// The database did not answer in [`crate::store_keeper::READ_BACK_LIMIT`]: opening or
    /// reading it back hung. The page stops waiting for it and goes on in memory.
    #[error(
        "The browser's database did not answer within {0} s, so the page stopped waiting for \
         it: what arrived meanwhile is handled now, and from now on the orders, the dead \
         letters and what PaymentService and InventoryService charged, reserved and processed \
         are kept in memory only and will not come back after a reload. Nothing shown is lost. \
         Reload the page to try the database again once no order is open (an order in flight \
         now is kept in memory only: after a reload it would never end); if it still does not \
         answer, close the browser's other tabs of this site."
    )]
    NoAnswer(u64),
    /// The browser's storage for this site is full: the batch was not saved (none of it).
    #[error(
        "The browser's storage for this site is full, so the latest changes (orders' events, \
         dead letters, messages waiting for their next try, the participants' charges and \
         reservations) were not saved and will not come \
         back after a reload. The page keeps working in memory; nothing shown is \
         lost. It saves nothing more in this page: free some disk space or clear this site's \
         data, then reload once no order is open to save again."
    )]
    QuotaExceeded,
    /// The database was deleted while the page ran: the learner cleared this site's data (the
    /// developer tools' *Clear site data*, the browser's settings), seen as a `versionchange`
    /// with no new version (IndexedDB 3.0, "delete a database"). What the page stored is gone
    /// and it stores nothing more, so a reload starts empty.
    #[error(
        "This site's data was cleared while the page ran (the browser's database was deleted), \
         so nothing kept before is left and the page stores nothing more. The page keeps \
         working in memory; nothing shown is lost, and the orders in flight end as long as this \
         page stays open. A reload starts with no orders, no dead letters and no memory of what \
         PaymentService and InventoryService charged and reserved: an order still open then \
         never ends, and nothing is undone for it."
    )]
    Deleted,
    /// The browser closed the connection itself (the `close` event, IndexedDB 3.0 "close a
    /// database connection" with forced set): site data cleared from the browser's settings,
    /// or the disk failed. Whether what was stored survives is not known.
    #[error(
        "The browser closed the page's database: this site's data was cleared (the developer \
         tools' Clear site data, the browser's settings), or the disk failed. The page stores \
         nothing more and keeps working in memory; nothing shown is lost, and the orders in \
         flight end as long as this page stays open. If the site's data was cleared, a reload \
         starts with no orders, no dead letters and no memory of what PaymentService and \
         InventoryService charged and reserved: an order still open then never ends, and \
         nothing is undone for it."
    )]
    Closed,
    /// Another tab opened the database at a newer version (a newer build of the playground):
    /// this tab let go of it so that the upgrade can go ahead, and stores nothing more.
    #[error(
        "Another tab opened this tab's database with a newer version of the playground, so this \
         tab let go of it and stores nothing more. The page keeps working in memory; nothing \
         shown is lost, but what happens from now on will not come back after a reload."
    )]
    Upgraded,
    /// Anything else, with what went wrong.
    #[error(
        "The page's database failed ({0}). The page keeps working in memory; nothing shown is \
         lost, but nothing from now on is kept, and a reload tries the database again (an order \
         open then never ends). If this comes back on every reload, open the page in a new tab \
         (a new tab has a database of its own) or clear this site's data."
    )]
    Other(String),
}

impl StorageError {
    /// What went wrong in a few words, without the advice the page's message gives (for a
    /// sentence that already gave it): the browser's own words for
    /// [`StorageError::Unavailable`] and [`StorageError::Other`].
    pub fn reason(&self) -> String {
        match self {
            Self::Unavailable { reason } | Self::Other(reason) => reason.clone(),
            Self::Blocked => "another tab holds the database open".to_owned(),
            Self::NoAnswer(seconds) => format!("no answer within {seconds} s"),
            Self::QuotaExceeded => "the browser's storage for this site is full".to_owned(),
            Self::Deleted => "the database was deleted".to_owned(),
            Self::Closed => "the browser closed the database".to_owned(),
            Self::Upgraded => "another tab upgraded the database".to_owned(),
        }
    }

    /// The error for a failure the browser reported as `value` (a `DOMException` as a rule):
    /// `QuotaExceededError` is [`StorageError::QuotaExceeded`], anything else
    /// [`StorageError::Other`] with the exception's name and message.
    pub(crate) fn from_js(value: &JsValue) -> Self {
        match value.dyn_ref::<web_sys::DomException>() {
            Some(exception) if exception.name() == "QuotaExceededError" => Self::QuotaExceeded,
            _ => Self::Other(describe(value)),
        }
    }

    /// The error for a failure of the `idb` crate.
    pub(crate) fn from_idb(error: idb::Error) -> Self {
        match exception_of(&error) {
            Some(exception) => Self::from_js(&exception),
            None => Self::Other(error.to_string()),
        }
    }

    /// The error for a failure to open the database: an open that the browser refuses for any
    /// reason but a full disk or a newer database is the database being unavailable here.
    pub(crate) fn from_open(error: idb::Error) -> Self {
        let Some(exception) = exception_of(&error) else {
            return Self::Unavailable {
                reason: error.to_string(),
            };
        };
        match exception
            .dyn_ref::<web_sys::DomException>()
            .map(|e| e.name())
        {
            Some(name) if name == "QuotaExceededError" => Self::QuotaExceeded,
            Some(name) if name == "VersionError" => Self::Other(format!(
                "it was made by a newer version of the playground ({})",
                describe(&exception)
            )),
            _ => Self::Unavailable {
                reason: describe(&exception),
            },
        }
    }
}

/// The browser's exception inside an `idb` error, if it carries one.
fn exception_of(error: &idb::Error) -> Option<JsValue> {
    use idb::Error as E;
    let value = match error {
        E::DomException(exception) => return Some(exception.clone().into()),
        E::AddFailed(v)
        | E::ClearFailed(v)
        | E::UpdateFailed(v)
        | E::DeleteFailed(v)
        | E::GetAllFailed(v)
        | E::GetAllKeysFailed(v)
        | E::IndexedDbNotFound(v)
        | E::IndexedDbOpenFailed(v)
        | E::ObjectStoreNotFound(v)
        | E::ObjectStoreCreateFailed(v)
        | E::IndexCreateFailed(v)
        | E::TransactionOpenFailed(v)
        | E::TransactionAbortError(v) => v,
        _ => return None,
    };
    Some(value.clone())
}

/// `Name: message` of an exception, or the value as JavaScript would print it.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(exception) = value.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", exception.name(), exception.message());
    }
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", error.name(), error.message());
    }
    if value.is_undefined() {
        return "undefined".to_owned();
    }
    value
        .as_string()
        .unwrap_or_else(|| js_sys::JSON::stringify(value).map_or_else(|_| "?".into(), String::from))
}
