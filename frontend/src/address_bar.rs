//! The address bar: the query string read when the page opens and written whenever a setting
//! changes in the page, so copying the address reproduces the set-up. The grammar (which
//! parameters, which values) is the core's, [`eda_core::state::query`]; this only moves the
//! text in and out of the browser.

use eda_core::state::Setting;

/// The query string's parameters, percent-decoded, in order (repeated keys kept), by the
/// core's [`eda_core::state::query::query_pairs`] rather than `URLSearchParams`: a value whose
/// escapes are not UTF-8 is kept as written in the address, so its refusal echoes it instead of
/// a replacement character.
pub fn query_pairs() -> Vec<(String, String)> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .map(|search| eda_core::state::query::query_pairs(&search))
        .unwrap_or_default()
}

/// Writes `setting` into the address (replacing the history entry, so Back still leaves the
/// page), by [`eda_core::state::query::with_params`]. Does nothing if the browser refuses.
pub fn remember(setting: &Setting) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(page) = web_sys::Url::new(&href) else {
        return;
    };
    // Written by the core, as the README writes links (`?broker=ws://…`), not
    // `URLSearchParams`' `ws%3A%2F%2F…`.
    page.set_search(&eda_core::state::query::with_params(
        &page.search(),
        &setting.params(),
    ));
    if let Ok(history) = window.history() {
        let _ =
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&page.href()));
    }
}

/// Takes the parameter pairs `drop` (key, value, as [`query_pairs`] decodes them) out of the
/// address (replacing the history entry), keeping every other pair in its order: a link's broker
/// URL carrying credentials must not be written back or copied
/// ([`eda_core::state::query::params_with_credentials`]).
pub fn forget(drop: &[(&str, &str)]) {
    if drop.is_empty() {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(page) = window
        .location()
        .href()
        .and_then(|href| web_sys::Url::new(&href))
    else {
        return;
    };
    let Ok(kept) = web_sys::UrlSearchParams::new() else {
        return;
    };
    for (key, value) in query_pairs() {
        if !drop.contains(&(key.as_str(), value.as_str())) {
            kept.append(&key, &value);
        }
    }
    page.set_search(&String::from(kept.to_string()));
    if let Ok(history) = window.history() {
        let _ =
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&page.href()));
    }
}

/// Makes the address say what the page runs once it has read its link
/// ([`eda_core::state::query::tidied`]): every parameter it refused taken out (an unknown key, a
/// value it explained and replaced by the default, a repeat after the first), and every value
/// it accepted in another form rewritten as *Copy link* writes it (`?inventory_ms=%20800` →
/// `800`, `?mqtt=311` → `3.1.1`); replacing the history entry, without a reload, so a copied
/// address is not refused again. The refusals shown keep quoting what was refused; the other
/// parameters stay as written. Does nothing if nothing changes or the browser refuses.
pub fn tidy() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let Some(kept) = location
        .search()
        .ok()
        .and_then(|search| eda_core::state::query::tidied(&search))
    else {
        return;
    };
    let Ok(page) = location.href().and_then(|href| web_sys::Url::new(&href)) else {
        return;
    };
    page.set_search(&kept);
    if let Ok(history) = window.history() {
        let _ =
            history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&page.href()));
    }
}

/// The page's address as it is now: every setting changed in the page is in it.
pub fn current() -> Option<String> {
    web_sys::window()?.location().href().ok()
}

/// Whether the page came over https (`location.protocol` is `https:`); `false` outside a
/// browser.
pub fn over_https() -> bool {
    web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https:"))
}
