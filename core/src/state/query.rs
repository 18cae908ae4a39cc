//! The page's address: the settings a link carries, one grammar for reading them and for
//! writing them back.
//!
//! | parameter | values | default |
//! |---|---|---|
//! | `broker` | a `ws://` or `wss://` URL | `ws://localhost:9001` |
//! | `broker_order`, `broker_payment`, `broker_inventory`, `broker_notification`, `broker_query` | a `ws://` or `wss://` URL: that service's own broker ([`super::service_brokers`]) | `broker` |
//! | `qos` | `0`, `1`, `2`: every topic | `1` |
//! | `qos_orders`, `qos_payments`, `qos_inventory` | `0`, `1`, `2`: one topic, winning over `qos` | `qos` |
//! | `mqtt` | `3.1.1` or `5` | `3.1.1` |
//! | `session` | `persistent` or `clean`: whether the broker keeps a service's session while it is down | `persistent` |
//! | `payment_ms`, `inventory_ms` | whole milliseconds, 0 to 10000 | 1000, 800 (the seed's) |
//! | `saga` | `parallel`, `choreography`, `orchestration` | `parallel` |
//! | `payment` | `approve` or `decline` (every charge) | `approve` |
//! | `decline_over` | an amount: orders whose total is more are declined | none |
//! | `decline_pct` | 0 to 100: that share of orders declined, chosen by order id | 0 |
//! | `stock` | `P001:5,P002:0`: units per product; once set, it is the catalogue (an order for an unlisted product is dead-lettered) | none: nothing counted |
//! | `saga_timeout_ms` | whole milliseconds, 100 to 60000 | 5000 |
//! | `dedupe` | `on` or `off`: each consumer ignores a message it processed before | `on` |
//! | `duplicates` | 0 to 100: that share of the messages the services publish goes out twice | 0 |
//! | `projection_ms` | whole milliseconds, 0 to 60000: how long QueryService waits before projecting each event | 0 |
//! | `retry_ms` | whole milliseconds, 0 to 10000: how long a service waits before trying again a message its handler failed on | 200 |
//! | `payment_instances` | 1 to 3: PaymentService's instances, sharing its work through a shared subscription | 1 |
//! | `speed` | `0.25`, `0.5`, `1`, `2`, `4` | `1` |
//! | `view` | `all`, `flow`, `sequence`, `packets` | `all` |
//! | `ns` | a topic namespace, `class-7` or `school/class-7`: every topic under it (see [`crate::domain::namespace`]) | none: the seed's topics |
//!
//! [`State::from_link`] reads them once when the page opens: a value it cannot use is
//! explained in the page and the default taken; a parameter it does not know is named and
//! ignored. [`Setting::params`] gives the parameters to write when the learner changes a
//! setting in the page, so copying the address reproduces the set-up.
//!
//! ```
//! use eda_core::state::{Setting, State};
//! use eda_core::trace::playback::Speed;
//!
//! let link = [("mqtt", "5"), ("speed", "2"), ("colour", "red")];
//! let state = State::from_link(link.iter().map(|&(k, v)| (k, v)), "a1b2c3");
//! assert_eq!(state.speed.value(), "2");
//! assert_eq!(state.services[0].client_id, "eda-a1b2c3-order");
//! assert!(state.link_notice.unwrap().starts_with("Ignored in the link: colour"));
//!
//! let written = Setting::Speed(Speed::ONE).params();
//! assert_eq!(written, [("speed".to_owned(), Some("1".to_owned()))]);
//! ```

use std::time::Duration;

use broker_bridge::ProtocolVersion;

use super::qos::{flow_qos_from_query, FlowQos};
#[cfg(test)]
use super::Action;
use super::State;
use crate::domain::namespace::Namespace;
use crate::outside_text::{isolate, quoted, QUOTED_CHARS};
use crate::services::settings::{
    parse_limit, parse_on_off, parse_payment_mode, parse_percent, parse_saga_timeout,
};
use crate::services::{Delays, FlowField, FlowSettings, PaymentRule, SagaStyle, Stock};
use crate::trace::playback::Speed;

/// A broker URL typed in the page or given in the link, checked as the browser will need it
/// (`ws://` or `wss://`, a host name or IP address, a port from 1 to 65535, no `#fragment`):
/// the URL trimmed, or a sentence that shows what was given (its invisible characters named)
/// and what is wrong with it.
pub fn check_broker_url(raw: &str) -> Result<String, String> {
    // The URL shown is the error's own: without the credentials a URL may carry.
    broker_bridge::url::parse_broker_url(raw).map_err(|e| match (e.shown_url(), &e) {
        (None, _) => e.to_string(),
        // Shown without the secret, and said so: the value quoted is not the one refused.
        (Some(url), broker_bridge::url::BrokerUrlError::Credentials(_)) => {
            format!("{} (shown without its user:password@): {e}", quoted(url))
        }
        (Some(url), _) => format!("{}: {e}", quoted(url)),
    })
}

/// The broker to use at start-up from the `?broker=` parameter, and why it was ignored if it
/// was not a usable URL ([`check_broker_url`]): then the default, `ws://localhost:9001`.
pub fn broker_from_query(param: Option<&str>) -> (String, Option<String>) {
    let default = crate::config::DEFAULT_BROKER_URL;
    match param.map(check_broker_url) {
        None => (default.to_owned(), None),
        Some(Ok(url)) => (url, None),
        Some(Err(e)) => {
            // The address without its user name and password may be the default itself: then
            // "instead" would read as if another broker were chosen.
            let same = param.is_some_and(|raw| {
                matches!(
                    broker_bridge::url::parse_broker_url(raw),
                    Err(broker_bridge::url::BrokerUrlError::Credentials(bare)) if bare == default
                )
            });
            let using = if same {
                format!("Using {default}, the same address without them.")
            } else {
                format!("Using {default} instead.")
            };
            (
                default.to_owned(),
                // A question ("did you mean inpage …?") keeps its mark (41-AI F9 read "?.").
                Some({
                    let e = e.to_string();
                    let stop = if e.ends_with(['?', '.']) { "" } else { "." };
                    format!("Ignored ?broker= in the link: {e}{stop} {using}")
                }),
            )
        }
    }
}

/// The broker parameters of a link (`broker`, `broker_<service>`) whose value carries a user
/// name or password, as (key, value) pairs to take out of the address at once, so that neither
/// *Copy link* nor a setting written back repeats the secret: the page refuses such a value
/// ([`check_broker_url`]). When a key's first value carries them, every value of that key goes
/// (the page runs the default, and a later value left behind would become the first on a
/// reload); when only a later one does (a repeat, which the page ignores), only that pair goes,
/// and the first, which the page runs, stays (a newcomer's break-test: `?broker=` twice, the
/// second with `user:password@`, and the address kept no broker at all).
pub fn params_with_credentials<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> Vec<(&'a str, &'a str)> {
    let is_broker = |key: &str| key == "broker" || key.starts_with("broker_");
    let mut first_refused: Vec<&str> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in pairs.clone() {
        if !is_broker(key) || seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if broker_bridge::url::carries_credentials(value) {
            first_refused.push(key);
        }
    }
    pairs
        .into_iter()
        .filter(|(key, value)| {
            is_broker(key)
                && (first_refused.contains(key) || broker_bridge::url::carries_credentials(value))
        })
        .collect()
}

/// Whether the page refuses `value` for the link parameter `key` when the page opens
/// ([`State::from_link`] explains each refusal and takes the default): an unknown key, or a
/// value its parser does not accept (`?payment_ms=-5`, `?stock=P001:abc`, `?ns=bad/#`, a broker
/// URL that is not `ws://` or carries a user name or password).
pub fn refuses(key: &str, value: &str) -> bool {
    let only = |k: &str| (k == key).then_some(value);
    match key {
        "broker" => broker_from_query(Some(value)).1.is_some(),
        key if super::service_brokers::PARAMS.contains(&key) => {
            super::service_brokers::ServiceBrokers::from_link(only)
                .1
                .is_some()
        }
        "qos" | "qos_orders" | "qos_payments" | "qos_inventory" => {
            flow_qos_from_query(|k| only(k).map(str::to_owned))
                .1
                .is_some()
        }
        "mqtt" => protocol_from_query(Some(value)).1.is_some(),
        "session" => super::SessionMode::parse(value).is_err(),
        "payment_instances" => crate::services::instances::parse_instances(value).is_err(),
        "ns" => namespace_from_query(Some(value)).1.is_some(),
        "payment_ms" | "inventory_ms" => {
            delays_from_query(only("payment_ms"), only("inventory_ms"))
                .1
                .is_some()
        }
        "speed" => speed_from_query(Some(value)).1.is_some(),
        "view" => panel_from_query(Some(value)).1.is_some(),
        key if LINK_PARAMS.contains(&key) => {
            flow_from_query(FlowSettings::default(), only).1 != FlowRefusals::default()
        }
        _ => true,
    }
}

/// The query string `search` (as [`query_pairs`] reads it) without the parameters the page
/// refused when it opened, so the address describes what the page runs and a copied address is
/// not refused again: each unknown key, each value [`refuses`] names, and every repeat of a
/// key after its first (the first counts: [`repeated_params`]). Each parameter kept stays as
/// written, escapes and order included. `None` when nothing was refused (the address stays as
/// it is); `Some("")` when nothing is left (no `?`).
///
/// ```
/// use eda_core::state::query::without_refused;
///
/// let search = "?payment_ms=-5&mqtt=5&stock=P001:abc&ns=school%2Fclass-7&colour=red&mqtt=3.1.1";
/// assert_eq!(without_refused(search).as_deref(), Some("?mqtt=5&ns=school%2Fclass-7"));
/// assert_eq!(without_refused("?speed=2"), None);
/// assert_eq!(without_refused("?speed=fast").as_deref(), Some(""));
/// ```
pub fn without_refused(search: &str) -> Option<String> {
    let raw = search.strip_prefix('?').unwrap_or(search);
    // Empty pairs (`?&&broker=…&`) go too: they carry nothing (a newcomer's break-test saw them
    // stay in the address, which is otherwise what Copy link writes).
    let empty_pairs = !raw.is_empty() && raw.split('&').any(str::is_empty);
    let parts: Vec<&str> = raw.split('&').filter(|part| !part.is_empty()).collect();
    let mut seen: Vec<String> = Vec::new();
    let kept: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let (key, value) = (form_decoded(key), form_decoded(value));
            let first = !seen.contains(&key);
            let keep = first && !refuses(&key, &value);
            seen.push(key);
            keep
        })
        .collect();
    if kept.len() == parts.len() && !empty_pairs {
        return None;
    }
    Some(if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    })
}

/// The value the page writes for the link parameter `key` (the form *Copy link* copies:
/// [`Setting::params`]) when a link gave `value` and the page accepted it, if that differs from
/// `value`: `?inventory_ms= 800` runs 800 and is written `800`, `?mqtt=311` runs MQTT 3.1.1 and
/// is written `3.1.1`. `None` for a value the page refuses ([`refuses`]: [`without_refused`]
/// takes those out), a value already as the page writes it, a value the page writes no
/// parameter for (a default such as `?duplicates=0`, left as given), and the broker URLs and
/// the topic namespace, which are kept as written.
///
/// ```
/// use eda_core::state::query::canonical_value;
///
/// assert_eq!(canonical_value("inventory_ms", " 800").as_deref(), Some("800"));
/// assert_eq!(canonical_value("mqtt", "311").as_deref(), Some("3.1.1"));
/// assert_eq!(canonical_value("mqtt", "5"), None);
/// assert_eq!(canonical_value("mqtt", "6"), None, "refused, not rewritten");
/// ```
pub fn canonical_value(key: &str, value: &str) -> Option<String> {
    written_form(key, value).filter(|written| written != value)
}

/// `value` of `key` as the page writes it in a link, whether or not it was given so; `None`
/// for a refused value or a key the page does not rewrite.
fn written_form(key: &str, value: &str) -> Option<String> {
    if refuses(key, value) {
        return None;
    }
    let state = State::from_link([(key, value)], "");
    if key == "ns" {
        // Taken trimmed (a newcomer's break-test: `?ns=%20a` ran under `a/`, and the address
        // kept ` a`).
        return state.namespace.value().map(str::to_owned);
    }
    let flow = &state.flow;
    let setting = match key {
        "qos" | "qos_orders" | "qos_payments" | "qos_inventory" => Setting::Qos(state.qos),
        "mqtt" => Setting::Protocol(state.protocol),
        "payment_ms" => Setting::PaymentDelay(flow.delays.payment),
        "inventory_ms" => Setting::InventoryDelay(flow.delays.inventory),
        "speed" => Setting::Speed(state.speed),
        "view" => Setting::Panel(state.panel),
        "saga" => Setting::Saga(flow.saga),
        "payment" | "decline_over" | "decline_pct" => Setting::Payment(flow.payment),
        "stock" => Setting::Stock(flow.stock.clone()),
        "saga_timeout_ms" => Setting::SagaTimeout(flow.saga_timeout),
        "dedupe" => Setting::Dedupe(flow.dedupe),
        "duplicates" => Setting::Duplicates(flow.duplicates_percent),
        "projection_ms" => Setting::ProjectionDelay(flow.projection_delay),
        "retry_ms" => Setting::RetryAfter(flow.retry_after),
        "session" => Setting::Session(state.session),
        "payment_instances" => Setting::PaymentInstances(state.payment_instances),
        "broker" => Setting::Broker(state.broker_url.clone()),
        // A service's own broker as the page took it (`%20INPAGE%20` → `inpage`, `WS://` →
        // `ws://`: a newcomer's break-test, 34-I F5, found them kept as written).
        _ if key.starts_with("broker_") => return check_broker_url(value).ok(),
        _ => return None,
    };
    setting
        .params()
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, written)| written)
}

/// The query string `search` with each value the page accepted but reads in another form
/// rewritten as the page writes it ([`canonical_value`]; the first of a repeated key only),
/// and each parameter name the page reads ([`LINK_PARAMS`]) given with escapes written by its
/// decoded name (`?sp%65ed=2` → `?speed=2`), so the address shows what the page runs, as
/// *Copy link* would copy it. Everything else
/// stays as written, order included; a value rewritten, or escaped where it need not be, is
/// written as the README writes links (`ws://h:1`, [`with_params`]). `None` when nothing
/// changes.
///
/// ```
/// use eda_core::state::query::with_canonical_values;
///
/// assert_eq!(
///     with_canonical_values("?inventory_ms=%20800&ns=a%2Fb&mqtt=311").as_deref(),
///     Some("?inventory_ms=800&ns=a/b&mqtt=3.1.1")
/// );
/// assert_eq!(with_canonical_values("?inventory_ms=800&mqtt=5"), None);
/// // Escapes that spell a value as the page writes it are written plainly; a broker URL is
/// // written in lower case, and left as it is when it already is.
/// assert_eq!(
///     with_canonical_values("?qos=%32&broker=WS://LOCALHOST:9201").as_deref(),
///     Some("?qos=2&broker=ws://localhost:9201")
/// );
/// assert_eq!(with_canonical_values("?broker=ws://localhost:9001&mqtt=%35").as_deref(), Some("?broker=ws://localhost:9001&mqtt=5"));
/// assert_eq!(with_canonical_values("?broker=ws://localhost:9001"), None);
/// // A `?` in a broker URL written raw is escaped, as the field writes it (41-AI F7).
/// assert_eq!(
///     with_canonical_values("?broker=ws://h:1/mqtt?tenant=a").as_deref(),
///     Some("?broker=ws://h:1/mqtt%3Ftenant%3Da")
/// );
/// // A name given with escapes is written by its decoded name.
/// assert_eq!(with_canonical_values("?sp%65ed=2").as_deref(), Some("?speed=2"));
/// // A namespace is written as the page takes it, trimmed.
/// assert_eq!(with_canonical_values("?ns=%20a").as_deref(), Some("?ns=a"));
/// assert_eq!(with_canonical_values("?ns=class-7"), None);
/// ```
pub fn with_canonical_values(search: &str) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut changed = false;
    let parts: Vec<String> = search
        .strip_prefix('?')
        .unwrap_or(search)
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
            let (key, value) = (form_decoded(raw_key), form_decoded(raw_value));
            let first = !seen.contains(&key);
            seen.push(key.clone());
            // Rewritten when the page writes it otherwise, escapes included (`?qos=%32`,
            // `ws%3A%2F%2Fh%3A1`), and a character it escapes left raw (41-AI F7: a broker
            // URL's `?` stayed raw from a hand-written link, `%3F` from the field); a value as
            // the page writes it (`ws://h:1`) stays.
            let written = written_form(&key, &value).filter(|written| {
                first && (*written != value || raw_value != form_encoded(written))
            });
            // A name the page reads, given with escapes (`sp%65ed`), is written as the page
            // names it (`speed`), its value as it is if it needs no rewriting.
            let name = LINK_PARAMS
                .contains(&key.as_str())
                .then_some(key.as_str())
                .filter(|name| raw_key != *name);
            match (name, written) {
                (None, None) => part.to_owned(),
                (name, written) => {
                    changed = true;
                    let value = written
                        .map_or_else(|| raw_value.to_owned(), |written| form_encoded(&written));
                    format!("{}={value}", name.unwrap_or(raw_key))
                }
            }
        })
        .collect();
    changed.then(|| format!("?{}", parts.join("&")))
}

/// What the address should say once the page has read its link: the parameters it refused
/// taken out ([`without_refused`]) and the values it accepted in another form rewritten
/// ([`with_canonical_values`]). `None` when the address already says what the page runs;
/// `Some("")` when nothing is left (no `?`).
///
/// ```
/// use eda_core::state::query::tidied;
///
/// assert_eq!(tidied("?speed=fast&mqtt=311").as_deref(), Some("?mqtt=3.1.1"));
/// assert_eq!(tidied("?speed=2"), None);
/// ```
pub fn tidied(search: &str) -> Option<String> {
    match without_refused(search) {
        Some(kept) => Some(with_canonical_values(&kept).unwrap_or(kept)),
        None => with_canonical_values(search),
    }
}

/// `text` percent-encoded for a query value as the README writes links
/// (`?broker=ws://127.0.0.1:9101`): RFC 3986's unreserved characters and `:/@!$'()*,;` as
/// they are (each may stand in a query, RFC 3986 §3.4), every other byte as `%XX`, a space as
/// `%20`, `+` as `%2B` (the form rules [`query_pairs`] reads by take `+` for a space). Not
/// `URLSearchParams`' form, which writes `ws%3A%2F%2F…` (a newcomer's break-test, 34-I F5,
/// found the address and *Copy link* so after *Connect*).
fn form_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b':'
            | b'/'
            | b'@'
            | b'!'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b','
            | b';' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The query string `search` with `changes` made (each key's first pair given the new value in
/// place, or the pair added at the end; `None` takes every pair of the key out; a repeat of a
/// changed key after its first is dropped), every other pair as written. The values are
/// written by [`form_encoded`]. `""` when nothing is left, else `?…`.
///
/// ```
/// use eda_core::state::query::with_params;
///
/// let changed = with_params(
///     "?ns=a&broker=ws%3A%2F%2Fh%3A1&broker=x",
///     &[("broker".into(), Some("ws://127.0.0.1:9101".into())), ("ns".into(), None)],
/// );
/// assert_eq!(changed, "?broker=ws://127.0.0.1:9101");
/// ```
pub fn with_params(search: &str, changes: &[(String, Option<String>)]) -> String {
    let mut parts: Vec<(String, String)> = search
        .strip_prefix('?')
        .unwrap_or(search)
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let raw_key = part.split_once('=').map_or(part, |(key, _)| key);
            (form_decoded(raw_key), part.to_owned())
        })
        .collect();
    for (key, value) in changes {
        let written = value
            .as_ref()
            .map(|value| format!("{}={}", form_encoded(key), form_encoded(value)));
        let first = parts.iter().position(|(k, _)| k == key);
        let mut kept = Vec::with_capacity(parts.len() + 1);
        for (index, part) in parts.into_iter().enumerate() {
            if part.0 != *key {
                kept.push(part);
            } else if Some(index) == first {
                if let Some(written) = &written {
                    kept.push((part.0, written.clone()));
                }
            }
        }
        if let (None, Some(written)) = (first, written) {
            kept.push((key.clone(), written));
        }
        parts = kept;
    }
    if parts.is_empty() {
        return String::new();
    }
    let joined: Vec<String> = parts.into_iter().map(|(_, part)| part).collect();
    format!("?{}", joined.join("&"))
}

/// The query string `search` (`?a=1&b=x%20y`, its `?` optional) as its parameters, in order,
/// repeated keys kept: split on `&`, each pair at its first `=`, `+` read as a space and
/// percent-escapes decoded (the `application/x-www-form-urlencoded` rules a browser's
/// `URLSearchParams` applies). A key or value whose escapes do not decode to UTF-8
/// (`%E0%A4%A`, cut short) is kept as written in the address, so a refusal echoes what was
/// given, not the replacement character `URLSearchParams` puts in its place.
///
/// ```
/// use eda_core::state::query::query_pairs;
///
/// assert_eq!(
///     query_pairs("?broker=ws%3A%2F%2Fh%3A1&ns=a+b&broker=%E0%A4%A"),
///     [("broker", "ws://h:1"), ("ns", "a b"), ("broker", "%E0%A4%A")].map(|(k, v)| (k.to_owned(), v.to_owned()))
/// );
/// ```
pub fn query_pairs(search: &str) -> Vec<(String, String)> {
    search
        .strip_prefix('?')
        .unwrap_or(search)
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            (form_decoded(key), form_decoded(value))
        })
        .collect()
}

/// `text` with `+` as a space and each `%` and two hex digits as its byte; a `%` without two
/// hex digits stays as it is. Kept as written if the bytes are not UTF-8.
fn form_decoded(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// The settings a link may carry; anything else in the query string is reported and ignored.
pub const LINK_PARAMS: [&str; 28] = [
    "broker",
    "broker_order",
    "broker_payment",
    "broker_inventory",
    "broker_notification",
    "broker_query",
    "qos",
    "qos_orders",
    "qos_payments",
    "qos_inventory",
    "mqtt",
    "payment_ms",
    "inventory_ms",
    "speed",
    "view",
    "saga",
    "payment",
    "decline_over",
    "decline_pct",
    "stock",
    "saga_timeout_ms",
    "dedupe",
    "duplicates",
    "projection_ms",
    "retry_ms",
    "session",
    "payment_instances",
    "ns",
];

/// A sentence naming the query parameters the page does not know, if any (each once, its
/// invisible characters named).
pub fn unknown_params<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut unknown: Vec<&str> = Vec::new();
    for key in keys.into_iter().filter(|k| !LINK_PARAMS.contains(k)) {
        if !unknown.contains(&key) {
            unknown.push(key);
        }
    }
    (!unknown.is_empty()).then(|| {
        use std::borrow::Cow;
        let named: Vec<Cow<str>> = unknown
            .iter()
            .map(|k| match (*k, crate::outside_text::cut(k, QUOTED_CHARS)) {
                // `?=x` or `&&`: nothing to echo, so say what it is.
                ("", _) => Cow::Borrowed("a parameter with no name"),
                // A pasted page of text as a name: its start and its length, as for a value.
                (k, Some(start)) => Cow::Owned(format!(
                    "{}… ({} characters)",
                    isolate(start),
                    k.chars().count()
                )),
                // A space before or after a name the page reads (`%20qos=2`): quoted, or the
                // sentence would name as ignored what it lists as read (a newcomer's
                // break-test).
                (k, None) if k.trim() != k => Cow::Owned(quoted(k)),
                (k, None) => isolate(k),
            })
            .collect();
        format!(
            "Ignored in the link: {} (this page reads {}).",
            named.join(", "),
            LINK_PARAMS.join(", ")
        )
    })
}

/// When a broker URL in the link (`?broker=`, `?broker_<service>=`) has a query of its own and
/// an unknown parameter follows it, that parameter was most likely meant for the broker URL,
/// split off at its `&` by the browser: a sentence saying how to write it (`%26` and `%3D`,
/// README "Broker URLs with paths"); `None` otherwise. A newcomer's break-test (34-J F9):
/// `?broker=ws://…/mqtt?tenant=a&x=1` said only that `x` was ignored.
pub fn split_broker_query(pairs: &[(&str, &str)]) -> Option<String> {
    let at = pairs
        .iter()
        .position(|&(k, v)| (k == "broker" || k.starts_with("broker_")) && v.contains('?'))?;
    let (key, url) = pairs[at];
    let strays: Vec<(&str, &str)> = pairs[at + 1..]
        .iter()
        .take_while(|(k, _)| !LINK_PARAMS.contains(k) && !k.starts_with("broker_"))
        .copied()
        .collect();
    if strays.is_empty() {
        return None;
    }
    let rest: String = strays
        .iter()
        .map(|(k, v)| format!("%26{k}%3D{v}"))
        .collect();
    let whole = format!("?{key}={url}{rest}");
    let whole = crate::outside_text::cut(&whole, 2 * QUOTED_CHARS)
        .map(|start| format!("{start}…"))
        .unwrap_or(whole);
    Some(format!(
        "If {} belonged to the broker URL, write its & and = as %26 and %3D: {}.",
        isolate(strays[0].0),
        isolate(&whole)
    ))
}

/// When the link's fragment (what follows its `#`, without it) holds parameters (an `=`): a
/// sentence saying the page read none of it, and how to write a `#` inside a value (`%23`);
/// `None` otherwise (an anchor such as `the-settings` is no parameter). A newcomer's
/// break-test (46-AZ F5): `?ns=bad#value&broker=inpage` ran under namespace `bad` on the default
/// broker, and nothing said `#value&broker=inpage` was dropped (the browser never sends the
/// fragment as query).
///
/// ```
/// use eda_core::state::query::fragment_notice;
/// assert_eq!(fragment_notice("the-settings"), None);
/// assert!(fragment_notice("value&broker=inpage").unwrap().starts_with(
///     "Ignored the end of the link after its #, \"#value&broker=inpage\""
/// ));
/// ```
pub fn fragment_notice(fragment: &str) -> Option<String> {
    if !fragment.contains('=') {
        return None;
    }
    let shown = crate::outside_text::cut(fragment, 2 * QUOTED_CHARS)
        .map(|start| format!("{start}…"))
        .unwrap_or_else(|| fragment.to_owned());
    Some(format!(
        "Ignored the end of the link after its #, \"#{}\": a # ends the address's query, so no \
         parameter after it is read (the value before it stops there); inside a value, write # \
         as %23.",
        isolate(&shown)
    ))
}

/// A sentence for each parameter the page reads that the link gives more than once: the first
/// counts (`?qos given twice; using the first, "1".`).
pub fn repeated_params<'a>(pairs: &[(&'a str, &'a str)]) -> Option<String> {
    let sentences: Vec<String> = LINK_PARAMS
        .iter()
        .filter_map(|&key| {
            let mut values = pairs.iter().filter(|(k, _)| *k == key).map(|&(_, v)| v);
            let first = values.next()?;
            let more = values.count();
            let times = match more {
                0 => return None,
                1 => "twice".to_owned(),
                n => format!("{} times", n + 1),
            };
            Some(format!(
                "?{key} given {times}; using the first, {}.",
                quoted(first)
            ))
        })
        .collect();
    (!sentences.is_empty()).then(|| sentences.join(" "))
}

/// The longest simulated delay a learner may set.
pub const MAX_DELAY_MS: u64 = 10_000;

/// A delay in whole milliseconds from the link or a field: 0 to [`MAX_DELAY_MS`].
pub fn parse_delay(name: &str, text: &str) -> Result<Duration, String> {
    match crate::services::settings::whole_number::<u64>(text).ok_or(()) {
        Ok(ms) if ms <= MAX_DELAY_MS => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{name} delay {} ignored: use whole milliseconds from 0 to {MAX_DELAY_MS}",
            quoted(text)
        )),
    }
}

/// The delays at start-up from `?payment_ms=` and `?inventory_ms=`, and why a value was
/// ignored, in the words of every other link refusal: `Ignored ?payment_ms= in the link:
/// "x" is not a delay: use whole milliseconds from 0 to 10000.` (the fields' own refusal,
/// [`parse_delay`], names the field instead).
pub fn delays_from_query(
    payment: Option<&str>,
    inventory: Option<&str>,
) -> (Delays, Option<String>) {
    let mut delays = Delays::default();
    let mut errors = Vec::new();
    for (key, param, slot) in [
        ("payment_ms", payment, &mut delays.payment),
        ("inventory_ms", inventory, &mut delays.inventory),
    ] {
        if let Some(text) = param {
            match crate::services::settings::parse_millis(text, 0..=MAX_DELAY_MS, "a delay") {
                Ok(delay) => *slot = delay,
                Err(e) => errors.push(format!("Ignored ?{key}= in the link: {e}.")),
            }
        }
    }
    (delays, (!errors.is_empty()).then(|| errors.join(" ")))
}

/// The topic namespace at start-up from `?ns=` ([`Namespace::parse`]), and why it was ignored
/// if it was not one: then none, the seed's topics.
pub fn namespace_from_query(param: Option<&str>) -> (Namespace, Option<String>) {
    match param.map(Namespace::parse) {
        None => (Namespace::none(), None),
        Some(Ok(namespace)) => (namespace, None),
        Some(Err(e)) => (
            Namespace::none(),
            Some(format!(
                "Ignored ?ns={} in the link: {e}. Running without a topic namespace (the \
                 flow's own topics, orders/created and the rest, as any other page on the same \
                 broker uses them; the in-page broker has no other page).",
                quoted(param.unwrap_or_default())
            )),
        ),
    }
}

/// The MQTT version to use at start-up from the `?mqtt=` parameter (`3.1.1` or `5`), and why
/// it was ignored if it was neither.
pub fn protocol_from_query(param: Option<&str>) -> (ProtocolVersion, Option<String>) {
    let default = crate::config::DEFAULT_PROTOCOL;
    match param.map(str::trim) {
        None => (default, None),
        Some("3.1.1" | "4" | "311") => (ProtocolVersion::V311, None),
        Some("5" | "5.0") => (ProtocolVersion::V5, None),
        Some(other) => (
            default,
            // The version's own Display says "MQTT 3.1.1".
            Some(format!(
                "Ignored ?mqtt={} in the link: use 3.1.1 or 5. Using {default}.",
                quoted(other)
            )),
        ),
    }
}

/// The value of `?mqtt=` and of the page's protocol choice: `3.1.1` or `5`.
pub fn protocol_value(protocol: ProtocolVersion) -> &'static str {
    match protocol {
        ProtocolVersion::V311 => "3.1.1",
        ProtocolVersion::V5 => "5",
    }
}

/// The animation speed at start-up from `?speed=` (0.25, 0.5, 1, 2 or 4), and why it was
/// ignored if it was none of these.
pub fn speed_from_query(param: Option<&str>) -> (Speed, Option<String>) {
    match param.map(str::parse::<Speed>) {
        None => (Speed::ONE, None),
        Some(Ok(speed)) => (speed, None),
        Some(Err(e)) => (
            Speed::ONE,
            Some(format!("Ignored ?speed= in the link: {e}. Using 1×.")),
        ),
    }
}

/// Which part of the picture the page shows: everything, or one view at full width.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Panel {
    #[default]
    All,
    Flow,
    Sequence,
    Packets,
}

impl Panel {
    pub const ALL: [Panel; 4] = [Panel::All, Panel::Flow, Panel::Sequence, Panel::Packets];

    /// The value of `?view=`.
    pub fn value(self) -> &'static str {
        match self {
            Panel::All => "all",
            Panel::Flow => "flow",
            Panel::Sequence => "sequence",
            Panel::Packets => "packets",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Panel::All => "Everything",
            Panel::Flow => "Flow diagram",
            Panel::Sequence => "Sequence diagram",
            Panel::Packets => "Packet inspector",
        }
    }

    /// Whether `part` is drawn when this is chosen.
    pub fn shows(self, part: Panel) -> bool {
        self == Panel::All || self == part
    }
}

/// The view at start-up from `?view=`, and why it was ignored if unknown.
pub fn panel_from_query(param: Option<&str>) -> (Panel, Option<String>) {
    let Some(text) = param else {
        return (Panel::All, None);
    };
    match Panel::ALL
        .into_iter()
        .find(|p| p.value().eq_ignore_ascii_case(text.trim()))
    {
        Some(panel) => (panel, None),
        None => (
            Panel::All,
            Some(format!(
                "Ignored ?view={} in the link: use {}. Showing everything.",
                quoted(text),
                Panel::ALL.map(Panel::value).join(", ")
            )),
        ),
    }
}

/// Why values of [`flow_from_query`]'s parameters were ignored, split by the panel that shows
/// them: each panel names only its own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowRefusals {
    /// A sentence for each ignored saga or failure value (`saga`, `payment`, `decline_over`,
    /// `decline_pct`, `saga_timeout_ms`), joined by spaces; shown under *Saga and failures*.
    pub flow_error: Option<String>,
    /// The sentence for an ignored `projection_ms`; shown in the Read model panel.
    pub projection_error: Option<String>,
    /// The sentence for an ignored `retry_ms`; shown in the Dead letters panel.
    pub retry_error: Option<String>,
    /// The sentence for an ignored `stock`; shown by the Stock field.
    pub stock_error: Option<String>,
    /// The sentences for an ignored `dedupe` or `duplicates`, joined by a space; shown under
    /// *Duplicates*.
    pub delivery_error: Option<String>,
    /// Every sentence above by its field, in the order the link was read.
    pub by_field: Vec<(FlowField, String)>,
}

/// The panel that explains a refused value of a [`FlowField`]: the one that sets it, so each
/// panel names only its own fields, from the link and from the page alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowPanel {
    /// *Saga and failures* ([`State::flow_error`]): every field without a panel of its own.
    Saga,
    /// The Read model panel ([`State::projection_error`]): the projection delay.
    ReadModel,
    /// The Dead letters panel ([`State::retry_error`]): the wait between tries.
    DeadLetters,
    /// The Stock field ([`State::stock_error`]).
    Stock,
    /// *Duplicates* ([`State::delivery_error`]): the idempotent consumers and the share
    /// published twice.
    Delivery,
}

impl FlowPanel {
    /// Where a refused value of `field` is said.
    pub fn of(field: FlowField) -> FlowPanel {
        match field {
            FlowField::ProjectionDelay => FlowPanel::ReadModel,
            FlowField::RetryAfter => FlowPanel::DeadLetters,
            FlowField::Stock => FlowPanel::Stock,
            FlowField::Dedupe | FlowField::DuplicatesPercent => FlowPanel::Delivery,
            FlowField::Saga
            | FlowField::PaymentMode
            | FlowField::DeclineOver
            | FlowField::DeclinePercent
            | FlowField::SagaTimeout => FlowPanel::Saga,
        }
    }
}

/// The saga and failure settings from the link (`saga`, `payment`, `decline_over`,
/// `decline_pct`, `stock`, `saga_timeout_ms`, `dedupe`, `duplicates`, `projection_ms`,
/// `retry_ms`) over
/// `flow`, and a sentence for each value ignored.
pub fn flow_from_query<'a>(
    mut flow: FlowSettings,
    get: impl Fn(&str) -> Option<&'a str>,
) -> (FlowSettings, FlowRefusals) {
    // Each sentence goes to the panel of its field: the saga's, the Read model's, the stock's,
    // the duplicates'.
    let (mut errors, mut projection, mut stock, mut delivery, mut retry) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut by_field = Vec::new();
    let mut take = |key: &str, field: FlowField, result: Result<(), String>| {
        if let Err(e) = result {
            let error = format!("Ignored ?{key}= in the link: {e}.");
            by_field.push((field, error.clone()));
            match FlowPanel::of(field) {
                FlowPanel::ReadModel => projection.push(error),
                FlowPanel::DeadLetters => retry.push(error),
                FlowPanel::Stock => stock.push(error),
                FlowPanel::Delivery => delivery.push(error),
                FlowPanel::Saga => errors.push(error),
            }
        }
    };
    if let Some(text) = get("saga") {
        take("saga", FlowField::Saga, text.parse().map(|s| flow.saga = s));
    }
    if let Some(text) = get("payment") {
        take(
            "payment",
            FlowField::PaymentMode,
            parse_payment_mode(text).map(|d| flow.payment.decline_all = d),
        );
    }
    if let Some(text) = get("decline_over") {
        take(
            "decline_over",
            FlowField::DeclineOver,
            parse_limit(text).map(|c| flow.payment.decline_over = Some(c)),
        );
    }
    if let Some(text) = get("decline_pct") {
        take(
            "decline_pct",
            FlowField::DeclinePercent,
            parse_percent(text).map(|p| flow.payment.decline_percent = p),
        );
    }
    if let Some(text) = get("stock") {
        take(
            "stock",
            FlowField::Stock,
            Stock::parse(text).map(|s| flow.stock = s),
        );
    }
    if let Some(text) = get("saga_timeout_ms") {
        take(
            "saga_timeout_ms",
            FlowField::SagaTimeout,
            parse_saga_timeout(text).map(|t| flow.saga_timeout = t),
        );
    }
    if let Some(text) = get("dedupe") {
        take(
            "dedupe",
            FlowField::Dedupe,
            parse_on_off(text).map(|d| flow.dedupe = d),
        );
    }
    if let Some(text) = get("duplicates") {
        take(
            "duplicates",
            FlowField::DuplicatesPercent,
            parse_percent(text).map(|p| flow.duplicates_percent = p),
        );
    }
    if let Some(text) = get("projection_ms") {
        take(
            "projection_ms",
            FlowField::ProjectionDelay,
            crate::store::parse_projection_delay(text).map(|d| flow.projection_delay = d),
        );
    }
    if let Some(text) = get("retry_ms") {
        take(
            "retry_ms",
            FlowField::RetryAfter,
            crate::services::dead_letter::parse_retry_after(text).map(|d| flow.retry_after = d),
        );
    }
    let joined = |sentences: Vec<String>| (!sentences.is_empty()).then(|| sentences.join(" "));
    (
        flow,
        FlowRefusals {
            flow_error: joined(errors),
            projection_error: joined(projection),
            retry_error: joined(retry),
            stock_error: joined(stock),
            delivery_error: joined(delivery),
            by_field,
        },
    )
}

impl State {
    /// The page's state when it opens with a link whose query string holds `pairs` (already
    /// percent-decoded; the first of a repeated key counts), for the page whose client ids carry
    /// `session_tag`. Every setting the link cannot give is its default, and the reason is kept
    /// in the state's `*_error` fields and `link_notice` for the page to show.
    pub fn from_link<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        session_tag: &str,
    ) -> State {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        let get = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|&(_, v)| v);
        let (url, error) = broker_from_query(get("broker"));
        let mut state = State::new(url, error, session_tag);
        let (brokers, brokers_error) = super::service_brokers::ServiceBrokers::from_link(get);
        state.set_service_brokers(brokers);
        state.service_brokers_error = brokers_error;
        (state.qos, state.qos_error) = flow_qos_from_query(|key| get(key).map(str::to_owned));
        (state.protocol, state.protocol_error) = protocol_from_query(get("mqtt"));
        if let Some(text) = get("session") {
            match super::SessionMode::parse(text) {
                Ok(mode) => state.session = mode,
                Err(e) => {
                    state.session_error = Some(format!(
                        "Ignored ?session= in the link: {e}. Using persistent sessions."
                    ))
                }
            }
        }
        if let Some(text) = get("payment_instances") {
            match crate::services::instances::parse_instances(text) {
                Ok(instances) => state.set_payment_instances(instances),
                Err(e) => {
                    state.instances_error = Some(format!(
                        "Ignored ?payment_instances= in the link: {e}. Running one instance."
                    ))
                }
            }
        }
        (state.namespace, state.namespace_error) = namespace_from_query(get("ns"));
        (state.flow.delays, _) = delays_from_query(get("payment_ms"), get("inventory_ms"));
        // Each service's refusal on its own, so that taking one field keeps the other's.
        for (service, payment, inventory) in [
            (crate::services::ServiceId::Payment, get("payment_ms"), None),
            (
                crate::services::ServiceId::Inventory,
                None,
                get("inventory_ms"),
            ),
        ] {
            if let (_, Some(error)) = delays_from_query(payment, inventory) {
                state.delay_refusals.push((service, error));
            }
        }
        state.show_delay_refusals();
        let (flow, refusals) = flow_from_query(state.flow.clone(), get);
        state.stock_from_link =
            (get("stock").is_some() && refusals.stock_error.is_none()).then(|| flow.stock.clone());
        state.flow = flow;
        state.flow_error = refusals.flow_error;
        state.projection_error = refusals.projection_error;
        state.retry_error = refusals.retry_error;
        state.stock_error = refusals.stock_error;
        state.delivery_error = refusals.delivery_error;
        state.flow_refusals = refusals.by_field;
        state.flow_refusals.sort_by_key(|(field, _)| *field);
        state.show_flow_refusals();
        state.stock = state.flow.stock.clone();
        let (speed, speed_error) = speed_from_query(get("speed"));
        let (panel, panel_error) = panel_from_query(get("view"));
        (state.speed, state.panel) = (speed, panel);
        state.playback_error = match (speed_error, panel_error) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
        let notices: Vec<String> = [
            repeated_params(&pairs),
            unknown_params(pairs.iter().map(|&(k, _)| k)),
            split_broker_query(&pairs),
        ]
        .into_iter()
        .flatten()
        .collect();
        state.link_notice = (!notices.is_empty()).then(|| notices.join(" "));
        state
    }
}

/// A setting the learner changed in the page, to be written into the address.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// `?broker=`.
    Broker(String),
    /// `?broker_<service>=` for each service with a broker of its own (the others' removed).
    ServiceBrokers(super::service_brokers::ServiceBrokers),
    /// `?qos=` or the per-topic parameters, whichever says it in fewest words.
    Qos(FlowQos),
    /// `?mqtt=`.
    Protocol(ProtocolVersion),
    /// `?payment_ms=`.
    PaymentDelay(Duration),
    /// `?inventory_ms=`.
    InventoryDelay(Duration),
    /// `?speed=`.
    Speed(Speed),
    /// `?view=`.
    Panel(Panel),
    /// `?saga=`.
    Saga(SagaStyle),
    /// `?payment=`, `?decline_over=` and `?decline_pct=` (a rule at its default removes them).
    Payment(PaymentRule),
    /// `?stock=` (an empty stock removes it).
    Stock(Stock),
    /// `?saga_timeout_ms=`.
    SagaTimeout(Duration),
    /// `?dedupe=`.
    Dedupe(bool),
    /// `?duplicates=` (0 removes it).
    Duplicates(u8),
    /// `?projection_ms=` (0 removes it).
    ProjectionDelay(Duration),
    /// `?retry_ms=` (the default, 200, removes it).
    RetryAfter(Duration),
    /// `?session=`.
    Session(super::SessionMode),
    /// `?payment_instances=` (1 removes it).
    PaymentInstances(u8),
}

impl Setting {
    /// The query parameters that say this setting: `Some` sets one, `None` removes it (the
    /// per-topic QoS parameters go when one `qos` says it all).
    pub fn params(&self) -> Vec<(String, Option<String>)> {
        let one = |key: &str, value: String| vec![(key.to_owned(), Some(value))];
        match self {
            Setting::Broker(url) => one("broker", url.clone()),
            Setting::ServiceBrokers(brokers) => brokers.params(),
            Setting::Qos(qos) => qos.link_params(),
            Setting::Protocol(protocol) => one("mqtt", protocol_value(*protocol).to_owned()),
            Setting::PaymentDelay(delay) => one("payment_ms", delay.as_millis().to_string()),
            Setting::InventoryDelay(delay) => one("inventory_ms", delay.as_millis().to_string()),
            Setting::Speed(speed) => one("speed", speed.value().to_owned()),
            Setting::Panel(panel) => one("view", panel.value().to_owned()),
            Setting::Saga(style) => one("saga", style.value().to_owned()),
            Setting::Payment(rule) => vec![
                (
                    "payment".to_owned(),
                    Some(
                        if rule.decline_all {
                            "decline"
                        } else {
                            "approve"
                        }
                        .to_owned(),
                    ),
                ),
                (
                    "decline_over".to_owned(),
                    rule.decline_over.map(|c| c.to_string()),
                ),
                (
                    "decline_pct".to_owned(),
                    (rule.decline_percent > 0).then(|| rule.decline_percent.to_string()),
                ),
            ],
            Setting::Stock(stock) => vec![(
                "stock".to_owned(),
                (!stock.0.is_empty()).then(|| stock.to_string()),
            )],
            Setting::SagaTimeout(timeout) => {
                one("saga_timeout_ms", timeout.as_millis().to_string())
            }
            Setting::Dedupe(on) => one("dedupe", if *on { "on" } else { "off" }.to_owned()),
            Setting::Session(mode) => one("session", mode.value().to_owned()),
            Setting::Duplicates(percent) => vec![(
                "duplicates".to_owned(),
                (*percent > 0).then(|| percent.to_string()),
            )],
            Setting::PaymentInstances(n) => vec![(
                "payment_instances".to_owned(),
                (*n > 1).then(|| n.to_string()),
            )],
            Setting::ProjectionDelay(delay) => vec![(
                "projection_ms".to_owned(),
                (!delay.is_zero()).then(|| delay.as_millis().to_string()),
            )],
            Setting::RetryAfter(wait) => vec![(
                "retry_ms".to_owned(),
                (*wait != crate::services::dead_letter::RETRY_AFTER)
                    .then(|| wait.as_millis().to_string()),
            )],
        }
    }
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn an_accepted_value_not_in_its_plain_form_is_rewritten_as_the_page_writes_it() {
        for (key, value, written) in [
            ("inventory_ms", " 800", Some("800")),
            ("payment_ms", "0800", Some("800")),
            ("mqtt", "311", Some("3.1.1")),
            ("mqtt", "4", Some("3.1.1")),
            ("mqtt", "5.0", Some("5")),
            ("mqtt", " 5", Some("5")),
            // Words in any case, as a broker URL's scheme (a newcomer's break-test:
            // `saga=Orchestration` was refused where `WS://` was lower-cased).
            ("saga", "Orchestration", Some("orchestration")),
            ("payment", "DECLINE", Some("decline")),
            ("dedupe", "Off", Some("off")),
            ("session", "CLEAN", Some("clean")),
            ("view", "Sequence", Some("sequence")),
            ("saga", "Orchestra", None),
            // A sign is refused in every number, as in qos (`+1`) and the amounts (`+5`).
            ("payment_ms", "+100", None),
            ("decline_pct", "+5", None),
            ("payment_instances", "+2", None),
            // Already plain, refused, or a default the page writes no parameter for.
            ("mqtt", "3.1.1", None),
            ("inventory_ms", "800", None),
            ("mqtt", "6", None),
            ("inventory_ms", "-5", None),
            ("duplicates", "0", None),
            ("ns", "class-7", None),
            ("colour", "red", None),
        ] {
            assert_eq!(
                canonical_value(key, value).as_deref(),
                written,
                "?{key}={value:?}"
            );
        }
    }

    #[test]
    fn the_address_is_tidied_refusals_out_and_accepted_values_plain_the_rest_as_written() {
        assert_eq!(
            tidied("?inventory_ms=%20800&broker=ws%3A%2F%2Fh%3A1&speed=fast&mqtt=311&mqtt=5")
                .as_deref(),
            Some("?inventory_ms=800&broker=ws://h:1&mqtt=3.1.1")
        );
        // Written as the README writes links, not URLSearchParams' escapes (34-I F5).
        assert_eq!(
            tidied("?inventory_ms=800&mqtt=3.1.1&ns=a%2Fb").as_deref(),
            Some("?inventory_ms=800&mqtt=3.1.1&ns=a/b")
        );
        assert_eq!(tidied("?inventory_ms=800&broker=ws://h:1&ns=a/b"), None);
        // A service's own broker as the page took it (34-I F5).
        assert_eq!(
            tidied("?broker=inpage&broker_payment=%20INPAGE%20&broker_inventory=WS://h:2")
                .as_deref(),
            Some("?broker=inpage&broker_payment=inpage&broker_inventory=ws://h:2")
        );
        assert_eq!(tidied("?speed=fast").as_deref(), Some(""));
    }

    #[test]
    fn a_parameter_name_given_with_escapes_is_written_by_its_decoded_name() {
        // `sp%65ed` is `speed`: the page runs it, and the address says `speed`.
        assert_eq!(tidied("?sp%65ed=2").as_deref(), Some("?speed=2"));
        // Its value rewritten too, and a name the page writes no parameter for when it is the
        // default (`duplicates=0`) still decoded.
        assert_eq!(
            tidied("?%6Dqtt=311&ns=a&dupl%69cates=0").as_deref(),
            Some("?mqtt=3.1.1&ns=a&duplicates=0")
        );
        // `+` in a name is a space: no parameter has one, so it is refused and taken out.
        assert_eq!(tidied("?sp+eed=2&qos=2").as_deref(), Some("?qos=2"));
        // A name not given with escapes is left as it is.
        assert_eq!(tidied("?speed=2&qos=2"), None);
    }

    #[test]
    fn a_setting_is_written_into_the_address_readable_the_rest_as_written() {
        let broker = |url: &str| vec![("broker".to_owned(), Some(url.to_owned()))];
        assert_eq!(
            with_params("?ns=a&speed=2", &broker("ws://127.0.0.1:9101/mqtt")),
            "?ns=a&speed=2&broker=ws://127.0.0.1:9101/mqtt"
        );
        // In place, a repeat dropped; what a URL needs escaped in a query value is.
        assert_eq!(
            with_params(
                "?broker=x&ns=a%2Fb&broker=y",
                &broker("ws://h:1/p?t=a&x=1 #+")
            ),
            "?broker=ws://h:1/p%3Ft%3Da%26x%3D1%20%23%2B&ns=a%2Fb"
        );
        // Read back as written.
        let search = with_params("", &broker("ws://h:1/p?t=a&x=1 #+"));
        assert_eq!(
            query_pairs(&search),
            [("broker".to_owned(), "ws://h:1/p?t=a&x=1 #+".to_owned())]
        );
        assert_eq!(with_params("?broker=x", &[("broker".to_owned(), None)]), "");
    }

    #[test]
    fn broker_parameter_is_used_when_valid_and_explained_when_not() {
        assert_eq!(
            broker_from_query(None),
            ("ws://localhost:9001".to_owned(), None)
        );
        assert_eq!(
            broker_from_query(Some("ws://127.0.0.1:19001")),
            ("ws://127.0.0.1:19001".to_owned(), None)
        );
        let (url, error) = broker_from_query(Some("http://nope"));
        assert_eq!(url, "ws://localhost:9001");
        let error = error.unwrap();
        assert!(
            error.contains("http://nope") && error.contains("ws://"),
            "{error}"
        );
    }

    #[test]
    fn mqtt_parameter_is_3_1_1_or_5_and_explained_otherwise() {
        assert_eq!(protocol_from_query(None), (ProtocolVersion::V311, None));
        assert_eq!(protocol_from_query(Some("5")), (ProtocolVersion::V5, None));
        assert_eq!(
            protocol_from_query(Some("3.1.1")),
            (ProtocolVersion::V311, None)
        );
        let (protocol, error) = protocol_from_query(Some("6"));
        assert_eq!(protocol, ProtocolVersion::V311);
        assert!(error.unwrap().contains("3.1.1 or 5"));
    }

    #[test]
    fn delays_come_from_the_link_within_bounds() {
        let (d, e) = delays_from_query(Some("0"), Some("2500"));
        assert_eq!(
            (d.payment.as_millis(), d.inventory.as_millis(), e),
            (0, 2500, None)
        );
        let (d, e) = delays_from_query(Some("-5"), Some("99999"));
        assert_eq!(d, Delays::default());
        let e = e.unwrap();
        assert!(
            e.contains("?payment_ms=") && e.contains("?inventory_ms=") && e.contains("10000"),
            "{e}"
        );
    }

    #[test]
    fn ns_parameter_is_a_namespace_or_explained_and_none_taken() {
        assert_eq!(namespace_from_query(None), (Namespace::none(), None));
        let (ns, error) = namespace_from_query(Some("class-7"));
        assert_eq!((ns.value(), error), (Some("class-7"), None));
        for bad in ["class+7", "", "$SYS", "a//b", "class 7"] {
            let (ns, error) = namespace_from_query(Some(bad));
            assert!(ns.is_none(), "{bad}");
            let error = error.unwrap();
            assert!(
                error.starts_with("Ignored ?ns=") && error.contains("without a topic namespace"),
                "{error}"
            );
            // True on the in-page broker too, which no other page reaches (46-AX F4: "shared
            // with every page on this broker").
            assert!(
                error.ends_with("the in-page broker has no other page)."),
                "{error}"
            );
        }
        let state = State::from_link([("ns", "school/class-7")], "t");
        assert_eq!(state.namespace.value(), Some("school/class-7"));
        assert_eq!(state.link_notice, None, "ns is a parameter the page reads");
        let state = State::from_link([("ns", "class/#")], "t");
        assert!(state.namespace.is_none());
        assert!(state.namespace_error.unwrap().contains("wildcard"));
    }

    #[test]
    fn unknown_link_parameters_are_named_once() {
        assert_eq!(unknown_params(["broker", "qos", "mqtt"]), None);
        let notice = unknown_params(["broker", "bogus", "bogus", "colour"]).unwrap();
        assert!(
            notice.starts_with("Ignored in the link: bogus, colour"),
            "{notice}"
        );
        assert!(notice.contains("payment_ms"), "{notice}");
        // `%20qos=2`: quoted, so the space shows (it read "Ignored in the link: qos").
        // A broker URL's own query split by the browser at its `&` (break-test 34-J F9).
        let split = split_broker_query(&[
            ("broker", "ws://127.0.0.1:9001/mqtt?tenant=a"),
            ("x", "1"),
            ("qos", "1"),
        ])
        .unwrap();
        assert_eq!(
            split,
            "If x belonged to the broker URL, write its & and = as %26 and %3D: \
             ?broker=ws://127.0.0.1:9001/mqtt?tenant=a%26x%3D1."
        );
        assert_eq!(
            split_broker_query(&[("broker", "ws://h:1/mqtt"), ("x", "1")]),
            None,
            "no query in the URL: an unknown parameter of the page's own"
        );
        assert_eq!(
            split_broker_query(&[("broker", "ws://h:1/?a=b"), ("qos", "1")]),
            None,
            "a parameter the page reads follows"
        );
        let notice = unknown_params([" qos"]).unwrap();
        assert!(
            notice.starts_with("Ignored in the link: \" qos\" (this page reads"),
            "{notice}"
        );
        // `?qos=1&&=x`: a parameter with no name is said, not echoed as nothing (", ").
        let notice = unknown_params(["qos", "", "%%"]).unwrap();
        assert!(
            notice.starts_with("Ignored in the link: a parameter with no name, %%"),
            "{notice}"
        );
        // A 5,000-character name is cut as a long value is (it was echoed whole, 770 px tall).
        let long = "a".repeat(5000);
        let notice = unknown_params([long.as_str()]).unwrap();
        assert!(
            notice.starts_with(&format!(
                "Ignored in the link: {}… (5000 characters) (this page reads",
                "a".repeat(80)
            )),
            "{notice}"
        );
    }

    #[test]
    fn speed_and_view_come_from_the_link_or_are_explained() {
        assert_eq!(speed_from_query(None), (Speed::ONE, None));
        assert_eq!(speed_from_query(Some("0.25")).0.value(), "0.25");
        let (speed, error) = speed_from_query(Some("3"));
        assert_eq!(speed, Speed::ONE);
        assert!(error.unwrap().contains("0.25×, 0.5×, 1×, 2×, 4×"));
        assert_eq!(panel_from_query(Some("sequence")), (Panel::Sequence, None));
        assert_eq!(panel_from_query(None), (Panel::All, None));
        let (panel, error) = panel_from_query(Some("<b>"));
        assert_eq!(panel, Panel::All);
        assert!(error.unwrap().contains("all, flow, sequence, packets"));
        assert!(Panel::Flow.shows(Panel::Flow) && !Panel::Flow.shows(Panel::Packets));
        assert!(Panel::All.shows(Panel::Packets));
    }

    fn state_from(pairs: &[(String, Option<String>)]) -> State {
        State::from_link(
            pairs
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_deref()?))),
            "t",
        )
    }

    #[test]
    fn every_setting_written_is_read_back_the_same() {
        use broker_bridge::QoS;
        let settings = [
            Setting::Broker("ws://127.0.0.1:19001".into()),
            Setting::ServiceBrokers({
                let mut brokers = crate::state::service_brokers::ServiceBrokers::default();
                use crate::services::ServiceId;
                brokers.set(ServiceId::Payment, Some("ws://127.0.0.1:19002".into()));
                brokers.set(ServiceId::Query, Some("wss://node-b.example/mqtt".into()));
                brokers
            }),
            Setting::Qos(FlowQos::uniform(QoS::ExactlyOnce)),
            Setting::Qos(FlowQos::default().with("payments/processed", QoS::AtMostOnce)),
            Setting::Protocol(ProtocolVersion::V5),
            Setting::Protocol(ProtocolVersion::V311),
            Setting::PaymentDelay(Duration::from_millis(0)),
            Setting::InventoryDelay(Duration::from_millis(2500)),
            Setting::Speed("0.25".parse().unwrap()),
            Setting::Panel(Panel::Packets),
            Setting::Saga(SagaStyle::Orchestration),
            Setting::Payment(PaymentRule::default()),
            Setting::Payment(PaymentRule {
                decline_all: true,
                decline_over: Some(crate::domain::money::Cents(10_050)),
                decline_percent: 30,
            }),
            Setting::Stock(Stock::parse("P001:1,P002:0").unwrap()),
            Setting::Stock(Stock::default()),
            Setting::SagaTimeout(Duration::from_millis(1500)),
            Setting::Dedupe(false),
            Setting::Session(crate::state::SessionMode::Clean),
            Setting::Session(crate::state::SessionMode::Persistent),
            Setting::Dedupe(true),
            Setting::Duplicates(25),
            Setting::Duplicates(0),
            Setting::PaymentInstances(3),
            Setting::PaymentInstances(1),
            Setting::ProjectionDelay(Duration::from_millis(2500)),
            Setting::ProjectionDelay(Duration::ZERO),
            Setting::RetryAfter(Duration::from_millis(3000)),
            Setting::RetryAfter(Duration::ZERO),
            Setting::RetryAfter(crate::services::dead_letter::RETRY_AFTER),
        ];
        for setting in settings {
            let state = state_from(&setting.params());
            let read = match &setting {
                Setting::Broker(_) => Setting::Broker(state.broker_url.clone()),
                Setting::ServiceBrokers(_) => {
                    Setting::ServiceBrokers(state.service_brokers.clone())
                }
                Setting::Qos(_) => Setting::Qos(state.qos),
                Setting::Protocol(_) => Setting::Protocol(state.protocol),
                Setting::PaymentDelay(_) => Setting::PaymentDelay(state.flow.delays.payment),
                Setting::InventoryDelay(_) => Setting::InventoryDelay(state.flow.delays.inventory),
                Setting::Saga(_) => Setting::Saga(state.flow.saga),
                Setting::Payment(_) => Setting::Payment(state.flow.payment),
                Setting::Stock(_) => Setting::Stock(state.flow.stock.clone()),
                Setting::SagaTimeout(_) => Setting::SagaTimeout(state.flow.saga_timeout),
                Setting::Dedupe(_) => Setting::Dedupe(state.flow.dedupe),
                Setting::Session(_) => Setting::Session(state.session),
                Setting::Duplicates(_) => Setting::Duplicates(state.flow.duplicates_percent),
                Setting::PaymentInstances(_) => Setting::PaymentInstances(state.payment_instances),
                Setting::ProjectionDelay(_) => {
                    Setting::ProjectionDelay(state.flow.projection_delay)
                }
                Setting::RetryAfter(_) => Setting::RetryAfter(state.flow.retry_after),
                Setting::Speed(_) => Setting::Speed(state.speed),
                Setting::Panel(_) => Setting::Panel(state.panel),
            };
            assert_eq!(read, setting);
            assert_eq!(
                state.link_notice, None,
                "{setting:?} writes only known parameters"
            );
            for (key, value) in setting.params() {
                if let Some(value) = value {
                    assert!(!refuses(&key, &value), "{key}={value} stays in the address");
                }
            }
        }
    }

    /// The errors [`State::from_link`] keeps for the page to show, each with its field's name.
    fn link_refusals(state: &State) -> Vec<(&'static str, &str)> {
        [
            ("broker_url_error", &state.broker_url_error),
            ("service_brokers_error", &state.service_brokers_error),
            ("qos_error", &state.qos_error),
            ("protocol_error", &state.protocol_error),
            ("session_error", &state.session_error),
            ("instances_error", &state.instances_error),
            ("namespace_error", &state.namespace_error),
            ("delays_error", &state.delays_error),
            ("flow_error", &state.flow_error),
            ("projection_error", &state.projection_error),
            ("retry_error", &state.retry_error),
            ("stock_error", &state.stock_error),
            ("delivery_error", &state.delivery_error),
            ("playback_error", &state.playback_error),
            ("link_notice", &state.link_notice),
        ]
        .into_iter()
        .filter_map(|(field, error)| Some((field, error.as_deref()?)))
        .collect()
    }

    #[test]
    fn the_keys_refused_are_those_the_page_explains() {
        // A value no parameter accepts: each is refused, and the page says so.
        for key in LINK_PARAMS {
            assert!(refuses(key, "#?"), "{key}=#? is refused");
            let state = State::from_link([(key, "#?")], "t");
            let said = link_refusals(&state);
            assert_eq!(said.len(), 1, "{key}=#? is explained once: {said:?}");
            assert!(said[0].1.contains(&format!("?{key}")), "{said:?}");
        }
        // A key the page does not know, and a broker URL with credentials, are refused too.
        assert!(refuses("colour", "red"));
        assert!(refuses("", "x"));
        assert!(refuses("broker", "ws://user:pw@localhost:9001"));
        assert!(refuses("broker_payment", "ws://user:pw@localhost:9001"));
        // The brief's link: each of its values is refused, alone and together.
        let link = [
            ("payment_ms", "-5"),
            ("stock", "P001:abc"),
            ("speed", "fast"),
            ("ns", "bad/#"),
        ];
        for (key, value) in link {
            assert!(refuses(key, value), "{key}={value}");
        }
        assert_eq!(link_refusals(&State::from_link(link, "t")).len(), 4);
        // Values the page takes are not.
        for (key, value) in [
            ("payment_ms", "0"),
            ("inventory_ms", " 250 "),
            ("stock", "P001:5"),
            ("ns", "school/class-7"),
            ("qos_payments", "0"),
            ("broker_query", "wss://node-b.example/mqtt"),
            ("mqtt", "5"),
            ("view", "flow"),
        ] {
            assert!(!refuses(key, value), "{key}={value}");
        }
    }

    #[test]
    fn the_address_loses_its_refused_parameters_and_keeps_the_rest_as_written() {
        let search = "?payment_ms=-5&stock=P001:abc&speed=fast&ns=bad/ns";
        assert_eq!(
            without_refused(search).as_deref(),
            Some("?ns=bad/ns"),
            "a namespace of two levels is taken"
        );
        assert_eq!(
            without_refused("?payment_ms=-5&stock=P001%3A5&speed=fast&ns=bad%2F%23&qos=2")
                .as_deref(),
            Some("?stock=P001%3A5&qos=2"),
            "the values taken keep their escapes"
        );
        // The first of a repeated key counts; the later ones go, and so does a refused first.
        assert_eq!(
            without_refused("?mqtt=5&mqtt=3.1.1&qos=9&qos=1").as_deref(),
            Some("?mqtt=5")
        );
        // Unknown keys (an empty one too) and a key whose escapes are not UTF-8 go.
        assert_eq!(
            without_refused("colour=red&=x&%E0%A4%A=1&view=flow").as_deref(),
            Some("?view=flow")
        );
        // Nothing refused: nothing to write. Everything refused: no query string.
        assert_eq!(without_refused(""), None);
        // Empty pairs carry nothing: taken out, the rest as written.
        assert_eq!(
            without_refused("?&&broker=ws%3A%2F%2Fh%3A1&&qos=2&").as_deref(),
            Some("?broker=ws%3A%2F%2Fh%3A1&qos=2")
        );
        assert_eq!(without_refused("?"), None);
        assert_eq!(
            without_refused("?view=flow&ns=a+b").as_deref(),
            Some("?view=flow")
        );
        assert_eq!(without_refused("?ns=a+b&speed=fast").as_deref(), Some(""));
        assert_eq!(without_refused("?view=flow&speed=2&ns=class-7"), None);
    }

    #[test]
    fn a_link_sets_everything_at_once_and_explains_what_it_ignored() {
        let link = [
            ("broker", "ws://10.0.0.2:9001"),
            ("qos_orders", "2"),
            ("mqtt", "5"),
            ("payment_ms", "50"),
            ("inventory_ms", "x"),
            ("speed", "9"),
            ("view", "flow"),
            ("bogus", "1"),
        ];
        let state = State::from_link(link, "abc123");
        assert_eq!(state.session_tag, "abc123");
        assert_eq!(state.broker_url, "ws://10.0.0.2:9001");
        assert_eq!(state.services[1].link.url(), "ws://10.0.0.2:9001");
        assert_eq!(state.qos.of("orders/created").level(), 2);
        assert_eq!(state.protocol, ProtocolVersion::V5);
        assert_eq!(state.flow.delays.payment, Duration::from_millis(50));
        assert_eq!(state.flow.delays.inventory, Delays::default().inventory);
        assert!(state.delays_error.unwrap().contains("?inventory_ms="));
        assert_eq!((state.speed, state.panel), (Speed::ONE, Panel::Flow));
        assert!(state.playback_error.unwrap().contains("?speed="));
        assert!(state.link_notice.unwrap().contains("bogus"));
        let empty = State::from_link([], "abc123");
        assert_eq!(
            empty,
            State::new("ws://localhost:9001".into(), None, "abc123")
        );
    }

    #[test]
    fn each_service_starts_on_its_own_broker_from_the_link_and_a_bad_one_falls_back() {
        use crate::services::ServiceId;
        let link = [
            ("broker", "ws://127.0.0.1:9101"),
            ("broker_payment", "ws://127.0.0.1:9102"),
            ("broker_inventory", "ws://127.0.0.1:9102"),
            ("broker_query", "tcp://127.0.0.1:1883"),
            ("payment_instances", "2"),
        ];
        let state = State::from_link(link, "t");
        let urls: Vec<(String, &str)> = state
            .services
            .iter()
            .map(|s| (s.instance().slug(), s.link.url()))
            .collect();
        let a = "ws://127.0.0.1:9101";
        let b = "ws://127.0.0.1:9102";
        assert_eq!(
            urls,
            [
                ("order".to_owned(), a),
                ("payment".to_owned(), b),
                ("inventory".to_owned(), b),
                ("notification".to_owned(), a),
                ("query".to_owned(), a),
                ("payment-2".to_owned(), b),
            ]
        );
        assert_eq!(state.broker_of(ServiceId::Query), a);
        let error = state.service_brokers_error.clone().unwrap();
        assert!(
            error.contains("?broker_query=")
                && error.contains("QueryService uses the page's broker"),
            "{error}"
        );
        assert_eq!(
            (
                state.broker_url_error.as_deref(),
                state.link_notice.as_deref()
            ),
            (None, None)
        );

        // Another page broker: the services without their own follow it, the others stay.
        let mut moved = state.clone();
        let connected = broker_bridge::Link::Connected { url: b.to_owned() };
        for service in [ServiceId::Order, ServiceId::Payment] {
            moved.apply(Action::Link(service.into(), connected.clone()));
        }
        moved.apply(Action::BrokerChanged("ws://127.0.0.1:9200".into()));
        assert!(!moved.service(ServiceId::Order).link.is_connected());
        assert_eq!(
            moved.service(ServiceId::Order).link.url(),
            "ws://127.0.0.1:9200"
        );
        assert_eq!(moved.service(ServiceId::Payment).link.url(), b);
        assert_eq!(
            moved.service(ServiceId::Payment).link,
            connected,
            "a service on its own broker keeps its link"
        );
        assert_eq!(moved.service_brokers, state.service_brokers);
    }

    #[test]
    fn failures_and_the_saga_s_style_come_from_the_link_or_are_explained() {
        let link = [
            ("saga", "choreography"),
            ("payment", "decline"),
            ("decline_pct", "40"),
            ("stock", "P001:1, P002:0"),
            ("saga_timeout_ms", "900"),
        ];
        let state = State::from_link(link, "t");
        assert_eq!(state.flow.saga, SagaStyle::Choreography);
        assert!(state.flow.payment.decline_all);
        assert_eq!(state.flow.payment.decline_percent, 40);
        assert_eq!(state.flow.stock.to_string(), "P001:1,P002:0");
        assert_eq!(
            state.stock, state.flow.stock,
            "the stock shown starts as the link's"
        );
        assert_eq!(state.flow.saga_timeout, Duration::from_millis(900));
        assert_eq!((state.flow_error, state.link_notice), (None, None));

        let bad = [
            ("saga", "anarchy"),
            ("payment", "maybe"),
            ("decline_over", "-3"),
            ("decline_pct", "300"),
            ("stock", "P001"),
            ("saga_timeout_ms", "1"),
        ];
        let state = State::from_link(bad, "t");
        assert_eq!(state.flow, FlowSettings::default());
        let error = state.flow_error.unwrap();
        for key in [
            "?saga=",
            "?payment=",
            "?decline_over=",
            "?decline_pct=",
            "?saga_timeout_ms=",
        ] {
            assert!(error.contains(key), "{key} in {error}");
        }
        // The stock's by its own field, not among the saga's.
        assert!(!error.contains("?stock="), "{error}");
        assert!(state
            .stock_error
            .unwrap()
            .starts_with("Ignored ?stock= in the link: "));
    }

    /// A newcomer's break-test: a bad `?stock=`, `?dedupe=` or `?duplicates=` was explained under
    /// *Saga and failures*, away from the Stock field and the *Duplicates* panel that set them.
    /// Each panel names its own fields, from the link and from the page alike.
    #[test]
    fn stock_and_duplicates_errors_are_shown_by_their_own_fields() {
        use crate::services::FlowField;
        let link = [
            ("saga", "chaos"),
            ("stock", "P001"),
            ("dedupe", "maybe"),
            ("duplicates", "150"),
        ];
        let state = State::from_link(link, "t");
        let saga = state.flow_error.clone().unwrap();
        assert!(saga.contains("?saga="), "{saga}");
        for other in ["?stock=", "?dedupe=", "?duplicates="] {
            assert!(
                !saga.contains(other),
                "{other} under Saga and failures: {saga}"
            );
        }
        let stock = state.stock_error.clone().unwrap();
        assert!(
            stock.starts_with("Ignored ?stock= in the link: "),
            "{stock}"
        );
        let delivery = state.delivery_error.clone().unwrap();
        assert!(
            delivery.starts_with("Ignored ?dedupe= in the link: "),
            "{delivery}"
        );
        assert!(
            delivery.contains(" Ignored ?duplicates= in the link: "),
            "{delivery}"
        );
        assert!(!delivery.contains("?stock=") && !stock.contains("?dedupe="));

        let mut state = State::from_link([], "t");
        state.apply(Action::FlowRefused(FlowField::Stock, "Stock: no".into()));
        state.apply(Action::FlowRefused(
            FlowField::DuplicatesPercent,
            "Publish twice: no".into(),
        ));
        assert_eq!(state.stock_error.as_deref(), Some("Stock: no"));
        assert_eq!(state.delivery_error.as_deref(), Some("Publish twice: no"));
        assert_eq!(state.flow_error, None);
        state.apply(Action::FlowChanged(state.flow.clone()));
        assert_eq!((state.stock_error, state.delivery_error), (None, None));
    }

    /// A newcomer's break-test: `?broker=%E0%A4%A` was echoed as "\u{FFFD}%A" (the browser's
    /// decoding); the refusal quotes what the address holds.
    #[test]
    fn a_bad_percent_escape_is_echoed_as_written() {
        let pairs = query_pairs("?broker=%E0%A4%A&ns=%FF&stock=P001%3A-3&speed=%");
        assert_eq!(
            pairs,
            [
                ("broker", "%E0%A4%A"),
                ("ns", "%FF"),
                ("stock", "P001:-3"),
                ("speed", "%")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let state = State::from_link(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), "t");
        let refusals = [
            state.broker_url_error.clone().unwrap(),
            state.namespace_error.clone().unwrap(),
            state.stock_error.clone().unwrap(),
            state.playback_error.clone().unwrap(),
        ];
        for refusal in &refusals {
            assert!(!refusal.contains('\u{FFFD}'), "{refusal}");
        }
        assert!(refusals[0].contains("\"%E0%A4%A\""), "{}", refusals[0]);
        assert!(refusals[1].contains("\"%FF\""), "{}", refusals[1]);
        assert!(refusals[2].contains("\"P001:-3\""), "{}", refusals[2]);
        assert_eq!(
            query_pairs("a+b=c+d&&e"),
            [("a b".into(), "c d".into()), ("e".into(), String::new())]
        );
    }

    /// A newcomer's break-test: `?payment_ms=` said `Payment delay "" ignored: …` where every
    /// other link refusal says `Ignored ?x= in the link: …`; every millisecond parameter now
    /// does, and the typed field keeps its own wording.
    #[test]
    fn every_millisecond_parameter_is_refused_in_the_common_form() {
        let link = [
            ("payment_ms", ""),
            ("inventory_ms", "-1"),
            ("saga_timeout_ms", "x"),
            ("projection_ms", "1.5"),
            ("retry_ms", "99999999"),
        ];
        let state = State::from_link(link, "t");
        let delays = state.delays_error.unwrap();
        assert_eq!(
            delays,
            "Ignored ?payment_ms= in the link: an empty value is not a delay: use whole milliseconds \
             from 0 to 10000. Ignored ?inventory_ms= in the link: \"-1\" is not a delay: use \
             whole milliseconds from 0 to 10000."
        );
        for (key, error) in [
            ("saga_timeout_ms", state.flow_error.unwrap()),
            ("projection_ms", state.projection_error.unwrap()),
            ("retry_ms", state.retry_error.unwrap()),
        ] {
            assert!(
                error.starts_with(&format!("Ignored ?{key}= in the link: \"")),
                "{error}"
            );
        }
        assert_eq!(
            parse_delay("Payment", "x"),
            Err("Payment delay \"x\" ignored: use whole milliseconds from 0 to 10000".into()),
            "the field's own wording"
        );
    }

    /// A newcomer's break-test: `?stock=P001:-3,P002:abc,:5` named only `"P001:-3"`; the link
    /// is fixed in one go only if every bad entry is named.
    #[test]
    fn a_stock_with_several_bad_entries_names_each() {
        let state = State::from_link([("stock", "P001:-3,P002:abc,:5,P003:2")], "t");
        let error = state.stock_error.unwrap();
        assert!(
            error.starts_with("Ignored ?stock= in the link: "),
            "{error}"
        );
        for bad in ["\"P001:-3\": units", "\"P002:abc\": units", "\":5\": "] {
            assert!(error.contains(bad), "{bad} not named: {error}");
        }
        assert!(
            !error.contains("P003"),
            "a good entry is not named: {error}"
        );
        assert_eq!(error.matches("; ").count(), 2, "{error}");
        assert!(state.flow.stock.0.is_empty(), "the whole stock is ignored");
    }

    #[test]
    fn payment_instances_come_from_the_link_with_a_view_and_client_id_each_or_are_explained() {
        let state = State::from_link([("payment_instances", "3")], "ab");
        assert_eq!(state.payment_instances, 3);
        let ids: Vec<&str> = state
            .services
            .iter()
            .map(|s| s.client_id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "eda-ab-order",
                "eda-ab-payment",
                "eda-ab-inventory",
                "eda-ab-notification",
                "eda-ab-query",
                "eda-ab-payment-2",
                "eda-ab-payment-3"
            ]
        );
        assert_eq!(
            state.service(crate::services::ServiceId::Payment).client_id,
            "eda-ab-payment"
        );
        for bad in ["4", "0", "many"] {
            let state = State::from_link([("payment_instances", bad)], "ab");
            assert_eq!((state.payment_instances, state.services.len()), (1, 5));
            let error = state.instances_error.unwrap();
            assert!(
                error.contains("?payment_instances=") && error.contains("1 to 3"),
                "{error}"
            );
        }
    }

    #[test]
    fn the_first_of_a_repeated_parameter_counts_and_the_page_says_so() {
        let state = State::from_link([("mqtt", "5"), ("mqtt", "3.1.1")], "t");
        assert_eq!(state.protocol, ProtocolVersion::V5);
        assert_eq!(
            state.link_notice.as_deref(),
            Some("?mqtt given twice; using the first, \"5\".")
        );
        let state = State::from_link(
            [
                ("qos", "1"),
                ("qos", "2"),
                ("qos", "0"),
                ("speed", "2"),
                ("x", "1"),
            ],
            "t",
        );
        assert_eq!(state.qos.of("orders/created").level(), 1);
        let notice = state.link_notice.unwrap();
        assert!(
            notice
                .starts_with("?qos given 3 times; using the first, \"1\". Ignored in the link: x"),
            "{notice}"
        );
        assert_eq!(repeated_params(&[("qos", "1"), ("speed", "2")]), None);
    }

    #[test]
    fn every_bad_value_in_the_link_is_echoed_with_its_invisible_characters_named() {
        let rlo = "\u{202E}2";
        let link = [
            ("broker", "ws://\u{202E}h:9001"),
            ("qos", rlo),
            ("qos_payments", rlo),
            ("mqtt", rlo),
            ("session", rlo),
            ("payment_ms", rlo),
            ("speed", rlo),
            ("view", rlo),
            ("saga", rlo),
            ("payment", rlo),
            ("decline_over", rlo),
            ("decline_pct", rlo),
            ("stock", rlo),
            ("saga_timeout_ms", rlo),
            ("dedupe", rlo),
            ("duplicates", rlo),
            ("\u{202E}x", "1"),
        ];
        let state = State::from_link(link, "t");
        let said = [
            state.broker_url_error,
            state.qos_error,
            state.protocol_error,
            state.session_error,
            state.delays_error,
            state.playback_error,
            state.flow_error,
            state.stock_error,
            state.delivery_error,
            state.link_notice,
        ]
        .map(Option::unwrap_or_default)
        .join(" ");
        assert!(!said.contains('\u{202E}'), "{said}");
        assert!(!said.contains("\\u{"), "no Rust escapes: {said}");
        let named = said.matches("⟨U+202E RLO⟩").count();
        assert_eq!(named, link.len(), "each bad value named once: {said}");
    }

    #[test]
    fn the_readme_names_every_setting_copy_link_keeps() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("*Copy link* copies the address")
            .expect("the README says what Copy link keeps");
        let end = start
            + readme[start..]
                .find("reproduces the scenario")
                .expect("in one sentence");
        let sentence = &readme[start..end];
        for key in LINK_PARAMS {
            let named = if key.starts_with("qos_") {
                "`qos_<topic>`".to_owned()
            } else if key.starts_with("broker_") {
                "`broker_<service>`".to_owned()
            } else {
                format!("`{key}`")
            };
            assert!(
                sentence.contains(&named),
                "{named} missing from: {sentence}"
            );
        }
    }

    #[test]
    fn a_bad_mqtt_value_names_the_version_used_once() {
        let (_, error) = protocol_from_query(Some("6"));
        assert_eq!(
            error.as_deref(),
            Some("Ignored ?mqtt=\"6\" in the link: use 3.1.1 or 5. Using MQTT 3.1.1.")
        );
    }

    #[test]
    fn a_broker_url_keeps_its_path_and_query_through_the_link() {
        for url in [
            "ws://127.0.0.1:8083/mqtt",
            "wss://broker.example.org:8084/mqtt",
            "ws://rabbit:15675/ws?vhost=shop&x=1",
        ] {
            let state = State::from_link([("broker", url)], "a1b2c3");
            assert_eq!(state.broker_url, url);
            assert_eq!(state.broker_url_error, None);
            assert_eq!(
                Setting::Broker(state.broker_url.clone()).params(),
                [("broker".to_owned(), Some(url.to_owned()))]
            );
        }
    }

    /// 41-AI F9: the question ends the sentence ("…?", not "…?.").
    #[test]
    fn a_slip_for_inpage_in_the_link_is_asked_about_once() {
        let (url, error) = broker_from_query(Some("In-Page"));
        assert_eq!(url, "ws://localhost:9001");
        assert_eq!(
            error.unwrap(),
            "Ignored ?broker= in the link: \"In-Page\": it is not a broker: did you mean inpage \
             (one word, the broker that runs in this page)? Using ws://localhost:9001 instead."
        );
    }

    #[test]
    fn a_broker_url_the_browser_would_refuse_falls_back_to_the_default_with_a_reason() {
        let (url, error) = broker_from_query(Some("ws://<script>:9001"));
        assert_eq!(url, "ws://localhost:9001");
        let error = error.unwrap();
        assert!(
            error.starts_with("Ignored ?broker= in the link: \"ws://<script>:9001\": its host")
                && error.ends_with("Using ws://localhost:9001 instead."),
            "{error}"
        );
    }

    // A newcomer's break-test: a link's broker URL with a bidi override was taken, and the
    // Broker field showed it reordered ("ws://127.0.0.1:9206/htap/live") while the page
    // connected to ".../<RLO>evil/path".
    #[test]
    fn a_broker_url_with_an_invisible_formatting_character_is_refused_and_named() {
        let (url, error) = broker_from_query(Some("ws://127.0.0.1:9206/\u{202e}evil/path"));
        assert_eq!(url, "ws://localhost:9001");
        let error = error.unwrap();
        assert!(error.contains("⟨U+202E"), "{error}");
        assert!(!error.contains('\u{202e}'), "{error}");
        assert!(refuses("broker", "ws://h:1/\u{200b}"));
    }

    #[test]
    fn credentials_on_the_default_address_do_not_say_another_broker_is_used() {
        // A newcomer read "… Using ws://localhost:9001 instead" after a link to that very
        // address with a user name and password in it.
        let (url, error) = broker_from_query(Some("ws://user:secret@localhost:9001"));
        assert_eq!(url, "ws://localhost:9001");
        let error = error.unwrap();
        assert!(!error.contains("secret"), "{error}");
        // The value quoted is not the one given: said so.
        assert!(
            error.starts_with(
                "Ignored ?broker= in the link: \"ws://localhost:9001\" (shown without its user:password@): it carries"
            ),
            "{error}"
        );
        assert!(
            error.ends_with("Using ws://localhost:9001, the same address without them."),
            "{error}"
        );
        let (_, other) = broker_from_query(Some("ws://user:secret@broker.example:8083/mqtt"));
        assert!(other
            .unwrap()
            .ends_with("Using ws://localhost:9001 instead."));
    }

    #[test]
    fn link_errors_speak_of_the_parameter_not_of_the_form() {
        let state = State::from_link([("decline_over", ""), ("stock", "\u{0}:1")], "t");
        let error = state.flow_error.unwrap();
        assert!(!error.contains("Price"), "{error}");
        assert!(
            error.contains("?decline_over= in the link: \"\" is not an amount"),
            "{error}"
        );
        // The order form's rule for a product id: no control characters. Shown by the Stock
        // field, not among the saga's.
        assert!(!error.contains("?stock="), "{error}");
        let stock = state.stock_error.unwrap();
        assert_eq!(
            stock,
            "Ignored ?stock= in the link: \"⟨U+0000 NUL⟩:1\": Product ID must not contain control characters."
        );
        assert_eq!(state.flow.stock, Stock::default());
    }

    /// A newcomer's link: the Read model's projection-error repeated every saga, payment and
    /// stock error of flow-error. Each panel names only its own fields.
    #[test]
    fn a_bad_link_is_explained_once_each_error_by_its_own_field() {
        use crate::services::FlowField;
        let link = [
            ("saga", "chaos"),
            ("payment", "sometimes"),
            ("decline_pct", "150"),
            ("projection_ms", "NaN"),
        ];
        let state = State::from_link(link, "t");
        let saga = state.flow_error.clone().unwrap_or_default();
        for key in ["?saga=", "?payment=", "?decline_pct="] {
            assert!(saga.contains(key), "{key} in {saga}");
        }
        assert!(!saga.contains("projection"), "not the Read model's: {saga}");
        let projection = state.projection_error.clone().unwrap_or_default();
        assert!(
            projection.starts_with("Ignored ?projection_ms= in the link: "),
            "{projection}"
        );
        for other in ["saga", "payment", "decline", "chaos", "sometimes", "150"] {
            assert!(
                !projection.contains(other),
                "{other} repeated in {projection}"
            );
        }

        // The same from the page's fields: a refused field's sentence goes to its own panel.
        let mut state = state;
        state.apply(Action::FlowRefused(
            FlowField::ProjectionDelay,
            "Projection delay: \"-5\" is not a whole number of milliseconds".into(),
        ));
        assert_eq!(
            state.flow_error.as_deref(),
            Some(saga.as_str()),
            "the saga's unchanged"
        );
        assert!(state.projection_error.unwrap().contains("\"-5\""));
        let mut state = State::from_link([], "t");
        state.apply(Action::FlowRefused(
            FlowField::DeclinePercent,
            "Decline share: no".into(),
        ));
        assert_eq!(state.projection_error, None);
        assert_eq!(state.flow_error.as_deref(), Some("Decline share: no"));
        state.apply(Action::SessionRefused("Sessions: no".into()));
        assert_eq!(
            state.flow_error.as_deref(),
            Some("Decline share: no"),
            "not the saga's"
        );
        assert_eq!(state.session_error.as_deref(), Some("Sessions: no"));
    }
}

#[cfg(test)]
mod credential_tests {
    use super::params_with_credentials;

    #[test]
    fn broker_parameters_with_credentials_are_named_to_be_taken_out_of_the_address() {
        let pairs = [
            ("broker", "ws://alice:s3cret@127.0.0.1:9001"),
            ("qos", "2"),
            ("broker_payment", "ws://bob:pw@host/mqtt"),
            ("broker_order", "ws://127.0.0.1:9101"),
            ("broker_inventory", "ws:carol:pw@host:9001"),
            ("ns", "a@b"),
        ];
        let keys: Vec<&str> = params_with_credentials(pairs)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["broker", "broker_payment", "broker_inventory"]);
        assert!(params_with_credentials([("broker", "inpage")]).is_empty());
    }

    #[test]
    fn a_repeat_with_credentials_goes_and_the_first_the_page_runs_stays() {
        let repeat = [
            ("broker", "wss://localhost:9443"),
            ("ns", "d6"),
            ("broker", "wss://x:s3cret@localhost:9443"),
        ];
        assert_eq!(
            params_with_credentials(repeat),
            [("broker", "wss://x:s3cret@localhost:9443")]
        );
        // The first refused: the page runs the default, so the later one goes too.
        let first = [
            ("broker", "wss://x:s3cret@localhost:9443"),
            ("broker", "ws://other:9001"),
        ];
        assert_eq!(params_with_credentials(first), first);
    }
}
