//! The tab's session tag (the `<tag>` of the client ids `eda-<tag>-<service>`) kept across a
//! reload of the same tab, so the broker's persistent sessions of the services deliver what was
//! published while the page was away.
//!
//! The tag lives in `sessionStorage`, which belongs to one tab. It is stored only while no page
//! holds it: taken out when the page starts, put back when the page goes (`pagehide`, which a
//! reload fires). A browser copies `sessionStorage` into a duplicated tab or a window opened
//! from the page, and two live tabs with the same client ids would throw each other off the
//! broker; with the tag out of storage while the page lives, such a tab draws a new one.
//! A tab that crashes loses its tag (no `pagehide`): its next page starts a new session.
//!
//! The tag is kept **per topic namespace** (`?ns=`): the services' persistent sessions hold
//! their namespace's subscriptions, so a tab that opens `?ns=b` after `?ns=a` must not take over
//! `a`'s sessions (the broker would hand `a/…` messages queued meanwhile to `b`'s services,
//! which ignore them: lost for `a`). It draws a tag for `b`, and gets `a`'s back when it opens
//! `?ns=a` again, with what `a`'s sessions queued meanwhile.
//!
//! A tab duplicated after visiting `a` holds a copy of `a`'s tag (only the tag of the namespace
//! a page runs is out of storage): if both tabs then open `?ns=a`, they would share client ids
//! and throw each other off the broker, for good (a newcomer's break-test). So each page also
//! says, in `localStorage` (shared by the origin's tabs), that its tag is in use
//! ([`LIVE_TAGS_KEY`]), from its start to its `pagehide`, refreshed every
//! [`LIVE_REFRESH_MS`]; a page whose stored tag another page holds draws a new one. A tab that
//! crashes leaves its entry behind until it is [`LIVE_STALE_MS`] old.

use eda_core::domain::namespace::Namespace;
use gloo::events::EventListener;
use web_sys::Storage;

use crate::clock;

/// The `sessionStorage` key of the tag without a namespace; under `?ns=<ns>` the key is
/// `eda-session-tag@<ns>` ([`tag_key`]).
pub const TAG_KEY: &str = "eda-session-tag";

/// The `sessionStorage` key of the tag kept for `namespace`: [`TAG_KEY`], or
/// `eda-session-tag@<ns>` under a namespace.
pub fn tag_key(namespace: &Namespace) -> String {
    match namespace.value() {
        Some(ns) => format!("{TAG_KEY}@{ns}"),
        None => TAG_KEY.to_owned(),
    }
}

/// The tag of this page under `namespace`: the tab's tag for that namespace from before a
/// reload (or from the last time the tab opened it), or a fresh one
/// ([`clock::fresh_session_tag`]) in a new tab, in a tab that lost it, or when
/// `sessionStorage` is unavailable. Arranges for the tag to be stored when the page goes.
/// Call it once per page load: it takes the stored tag out.
pub fn session_tag(namespace: &Namespace) -> String {
    let Some(storage) = session_storage() else {
        return clock::fresh_session_tag();
    };
    let key = tag_key(namespace);
    let tag = take_tag(&storage, &key)
        .filter(|tag| !live_elsewhere(tag))
        .unwrap_or_else(clock::fresh_session_tag);
    mark_live(&tag, true);
    if let Some(window) = web_sys::window() {
        let (kept, kept_key) = (tag.clone(), key.clone());
        EventListener::new(&window, "pagehide", move |_| {
            put_tag(&storage, &kept_key, &kept);
            mark_live(&kept, false);
        })
        .forget();
        // Back from the back-forward cache, the page holds its tag again.
        let storage = session_storage();
        let held = tag.clone();
        EventListener::new(&window, "pageshow", move |_| {
            if let Some(storage) = &storage {
                let _ = take_tag(storage, &key);
            }
            mark_live(&held, true);
        })
        .forget();
        let held = tag.clone();
        gloo::timers::callback::Interval::new(LIVE_REFRESH_MS, move || mark_live(&held, true))
            .forget();
    }
    tag
}

/// The `localStorage` key listing the tags pages of this origin hold now:
/// `<tag>:<unix millis of the last refresh>` entries, comma-separated.
pub const LIVE_TAGS_KEY: &str = "eda-live-tags";

/// How often a page says again that its tag is in use (ms). A hidden tab's timers may run
/// once a minute.
pub const LIVE_REFRESH_MS: u32 = 20_000;

/// How old an entry of [`LIVE_TAGS_KEY`] may be before it is taken for a page that went
/// without its `pagehide` (a crash), in ms.
pub const LIVE_STALE_MS: f64 = 180_000.0;

/// The entries of [`LIVE_TAGS_KEY`] as written in `text`, skipping what does not parse.
fn live_entries(text: &str) -> Vec<(String, f64)> {
    text.split(',')
        .filter_map(|entry| {
            let (tag, at) = entry.split_once(':')?;
            Some((tag.to_owned(), at.parse().ok()?))
        })
        .filter(|(tag, _)| is_tag(tag))
        .collect()
}

/// Whether another page of this origin holds `tag` now (an entry of [`LIVE_TAGS_KEY`] fresher
/// than [`LIVE_STALE_MS`]); `false` without `localStorage`.
fn live_elsewhere(tag: &str) -> bool {
    let Some(text) = local_storage().and_then(|s| s.get_item(LIVE_TAGS_KEY).ok().flatten()) else {
        return false;
    };
    let now = clock::unix_millis();
    live_entries(&text)
        .iter()
        .any(|(held, at)| held == tag && now - at < LIVE_STALE_MS)
}

/// Writes (`live`) or removes this page's entry for `tag` in [`LIVE_TAGS_KEY`], dropping stale
/// entries. Nothing where the browser denies `localStorage`.
fn mark_live(tag: &str, live: bool) {
    let Some(storage) = local_storage() else {
        return;
    };
    let now = clock::unix_millis();
    let text = storage
        .get_item(LIVE_TAGS_KEY)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut entries: Vec<(String, f64)> = live_entries(&text)
        .into_iter()
        .filter(|(held, at)| held != tag && now - at < LIVE_STALE_MS)
        .collect();
    if live {
        entries.push((tag.to_owned(), now));
    }
    let written: Vec<String> = entries
        .iter()
        .map(|(held, at)| format!("{held}:{}", at.round()))
        .collect();
    let _ = storage.set_item(LIVE_TAGS_KEY, &written.join(","));
}

/// The origin's `localStorage`, or `None` where the browser denies it.
fn local_storage() -> Option<Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Takes the tag stored under `key` ([`tag_key`]) out of `storage`: `Some` if one was there and
/// is a tag this page makes (six lowercase hex digits), `None` otherwise. Leaves no tag behind
/// under `key` either way.
pub fn take_tag(storage: &Storage, key: &str) -> Option<String> {
    let stored = storage.get_item(key).ok().flatten();
    let _ = storage.remove_item(key);
    stored.filter(|tag| is_tag(tag))
}

/// Stores `tag` under `key` ([`tag_key`]) for a later page of this tab. Returns whether the
/// browser accepted it (it may refuse: storage full or disabled).
pub fn put_tag(storage: &Storage, key: &str, tag: &str) -> bool {
    storage.set_item(key, tag).is_ok()
}

/// The `sessionStorage` key under which a tab keeps how many PaymentService instances its pages
/// with the client ids `eda-<tag>-…` ran since their sessions were last ended:
/// `eda-payment-instances@<tag>`.
fn instances_key(tag: &str) -> String {
    format!("eda-payment-instances@{tag}")
}

/// How many PaymentService instances pages of this tab with session tag `tag` ran since the
/// sessions of those no longer run were last ended (see
/// [`eda_core::services::instances::sessions_left_behind`]): 1 when nothing is stored, when
/// the stored value is not a number, or without `sessionStorage`.
pub fn instances_ran(tag: &str) -> u8 {
    session_storage()
        .and_then(|storage| storage.get_item(&instances_key(tag)).ok().flatten())
        .and_then(|stored| stored.parse().ok())
        .unwrap_or(1)
}

/// Keeps `ran` as [`instances_ran`] for `tag`, for this page's later runtimes and the tab's
/// later pages. Where the browser refuses (storage full or disabled) a later page does not
/// know which sessions were left behind: the README's known gap.
pub fn remember_instances_ran(tag: &str, ran: u8) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(&instances_key(tag), &ran.to_string());
    }
}

/// The tab's `sessionStorage`, or `None` where the browser denies it (sandboxed frames,
/// storage disabled: reading `window.sessionStorage` then throws).
fn session_storage() -> Option<Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn is_tag(tag: &str) -> bool {
    tag.len() == 6
        && tag
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
