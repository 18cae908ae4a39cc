//! Checking a broker URL before handing it to the browser, so a typo gets a sentence, not an
//! exception.

/// Why a broker URL is refused. Each variant carries the URL (trimmed); the message does not
/// repeat it, so the page can show it as it shows any text from outside (its invisible
/// characters named), before the message: `"ws://<script>:9001": its host …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerUrlError {
    /// Nothing but white space.
    #[error("the broker URL is empty; try ws://localhost:9001")]
    Empty,
    /// Not `ws://` or `wss://`: a browser opens WebSockets to nothing else (`mqtt://` and
    /// `http://` are the usual slips).
    #[error(
        "it is not a WebSocket URL: it must start with ws:// or wss:// (e.g. ws://localhost:9001), \
         or be inpage for the broker that runs in this page"
    )]
    Scheme(String),
    /// Close to `inpage` but not it (`in-page`, `in page`, `inpage2`): a slip, named as such
    /// rather than as a URL without `ws://` (a newcomer's break-test).
    #[error(
        "it is not a broker: did you mean inpage (one word, the broker that runs in this page)?"
    )]
    NearInPage(String),
    /// Nothing between the scheme and the port or path (or an empty `[]`).
    #[error("it has no host name")]
    MissingHost(String),
    /// An IPv6 address opened with `[` and never closed (`ws://[::1:9001`): a newcomer's
    /// break-test was told "it has no host name".
    #[error(
        "its IPv6 address has no closing ]: write it in brackets, then the port (ws://[::1]:9001)"
    )]
    UnclosedIpv6(String),
    /// A host that is neither a name (letters, digits, `-`, `.`, `_`) nor an IP address: the
    /// browser would refuse to open the WebSocket ("Failed to construct 'WebSocket'").
    #[error("its host is not a host name or an IP address (letters, digits, - . _; or [IPv6])")]
    Host {
        /// The URL.
        url: String,
        /// What stood where the host belongs.
        host: String,
    },
    /// A port that is not a number from 1 to 65,535.
    #[error("its port is not valid: use a number from 1 to 65535")]
    Port {
        /// The URL.
        url: String,
        /// What stood where the port belongs.
        port: String,
    },
    /// White space, a control character or an invisible formatting character (a bidi override
    /// such as U+202E, a zero-width space, a BOM) inside the URL: the last would show the
    /// address reordered or unchanged while the page connects elsewhere.
    #[error("it contains spaces, control characters or invisible formatting characters")]
    Whitespace(String),
    /// A `%` in the path or query not followed by two hex digits (RFC 3986 §2.1): Mosquitto
    /// answers such a handshake with HTTP 403, which the browser reports as a socket that never
    /// opened (a break-test's `/%zz`).
    #[error("its path has a % not followed by two hex digits (write %25 for a % itself)")]
    PercentEscape(String),
    /// A `#fragment`: browsers refuse one in a WebSocket URL.
    #[error("it has a #fragment, which a WebSocket URL may not have")]
    Fragment(String),
    /// A backslash (`ws://host:9001\mqtt`): a slip for `/` (a browser reads it as one), which
    /// was reported as a bad port (a newcomer's break-test, 41-AI F8).
    #[error("it has a backslash (\\): a URL's path is written with / (ws://host:9001/mqtt)")]
    Backslash(String),
    /// A user name or password in the URL (`ws://user:password@host`, RFC 3986 §3.2.1): a
    /// broker URL goes into shareable links, so credentials belong in the page's own fields.
    /// Carries the URL **without** them, so that showing it repeats no secret.
    #[error(
        "it carries a user name or password (user:password@): links are shared, so type them \
         in the page's User name and Password fields instead, and use the address without them"
    )]
    Credentials(String),
}

impl BrokerUrlError {
    /// The URL as it may be shown beside the message (trimmed; without the credentials of
    /// [`BrokerUrlError::Credentials`]); `None` for [`BrokerUrlError::Empty`].
    pub fn shown_url(&self) -> Option<&str> {
        match self {
            BrokerUrlError::Empty => None,
            BrokerUrlError::Scheme(url)
            | BrokerUrlError::NearInPage(url)
            | BrokerUrlError::MissingHost(url)
            | BrokerUrlError::UnclosedIpv6(url)
            | BrokerUrlError::Whitespace(url)
            | BrokerUrlError::Fragment(url)
            | BrokerUrlError::Backslash(url)
            | BrokerUrlError::PercentEscape(url)
            | BrokerUrlError::Credentials(url)
            | BrokerUrlError::Host { url, .. }
            | BrokerUrlError::Port { url, .. } => Some(url),
        }
    }
}

/// `input` without the user information of its authority (`user:password@`), if it has any.
/// Also for a URL missing its `//` (`ws:user:password@host`), so that no message repeats a
/// secret whatever the slip.
fn without_userinfo(input: &str) -> Option<String> {
    let (scheme, rest) = match input.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => {
            let (scheme, rest) = input.split_once(':')?;
            (format!("{scheme}:"), rest)
        }
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (_, host) = authority.rsplit_once('@')?;
    Some(format!("{scheme}{host}{tail}"))
}

/// Whether `input` carries a user name or password (`user:password@`) where a broker URL has
/// its host: such a value must not stay in a link ([`BrokerUrlError::Credentials`]).
pub fn carries_credentials(input: &str) -> bool {
    without_userinfo(input.trim()).is_some()
}

/// The address of the in-page broker: a broker running in this page (a Web Worker), reached
/// over a `MessagePort` instead of a WebSocket ([`crate::port`]). Written as it is in a link
/// (`?broker=inpage`) and in the broker field.
pub const IN_PAGE_BROKER: &str = "inpage";

/// Whether `url` (as [`parse_broker_url`] returned it) names the in-page broker.
pub fn is_in_page(url: &str) -> bool {
    url == IN_PAGE_BROKER
}

/// Whether `text` (no scheme) reads as `inpage` once its case, spaces and punctuation go, or
/// begins so: `in-page`, `In Page`, `in_page`, `inpage2`.
fn near_in_page(text: &str) -> bool {
    let letters: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    letters.starts_with(IN_PAGE_BROKER)
}

/// Validates a `ws://` or `wss://` URL and returns it trimmed, or [`IN_PAGE_BROKER`] for
/// `inpage` in any case. Only the form is checked: the browser still resolves the host, and
/// the connection may fail.
///
/// # Errors
///
/// The first problem found, as a [`BrokerUrlError`].
pub fn parse_broker_url(input: &str) -> Result<String, BrokerUrlError> {
    let url = input.trim();
    if url.is_empty() {
        return Err(BrokerUrlError::Empty);
    }
    if url.eq_ignore_ascii_case(IN_PAGE_BROKER) {
        return Ok(IN_PAGE_BROKER.to_owned());
    }
    if !url.contains("://") && near_in_page(url) {
        return Err(BrokerUrlError::NearInPage(url.to_owned()));
    }
    // First, so no other message repeats the secret.
    if let Some(bare) = without_userinfo(url) {
        return Err(BrokerUrlError::Credentials(bare));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_format_character(c))
    {
        return Err(BrokerUrlError::Whitespace(url.to_owned()));
    }
    // The scheme and the host are case-insensitive (RFC 3986 §3.1, §3.2.2): `WS://LOCALHOST`
    // is `ws://localhost`, written in lower case so the page compares URLs as it shows them.
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(scheme, _)| ["ws", "wss"].iter().any(|s| scheme.eq_ignore_ascii_case(s)))
        .ok_or_else(|| BrokerUrlError::Scheme(url.to_owned()))?;
    if url.contains('#') {
        return Err(BrokerUrlError::Fragment(url.to_owned()));
    }
    if url.contains('\\') {
        return Err(BrokerUrlError::Backslash(url.to_owned()));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.starts_with('[') && !authority.contains(']') {
        return Err(BrokerUrlError::UnclosedIpv6(url.to_owned()));
    }
    // An empty port is the scheme's default (RFC 3986 §3.2.3, `port = *DIGIT`; the browser
    // opens `ws://host:` on port 80): written without the colon.
    let (authority, rest) = match authority.strip_suffix(':') {
        Some(bare) if !bare.ends_with(':') && (bare.contains(']') || !bare.contains(':')) => {
            (bare, format!("{bare}{}", &rest[authority.len()..]))
        }
        _ => (authority, rest.to_owned()),
    };
    let rest = rest.as_str();
    let (host, port) = split_host_port(authority);
    if host.is_empty() || host == "[]" {
        return Err(BrokerUrlError::MissingHost(url.to_owned()));
    }
    if !is_host(host) {
        return Err(BrokerUrlError::Host {
            url: url.to_owned(),
            host: host.to_owned(),
        });
    }
    // The port as a number: `019502` is port 19502 to the browser, so written so (the page
    // keys what it learns of a broker by its URL).
    let authority = match port {
        Some(port) => match port.parse::<u16>() {
            Ok(p) if p > 0 => format!("{host}:{p}"),
            _ => {
                return Err(BrokerUrlError::Port {
                    url: url.to_owned(),
                    port: port.to_owned(),
                })
            }
        },
        None => authority.to_owned(),
    };
    let after = &rest[rest.len() - path_and_query(&format!("x://{rest}")).len()..];
    let bytes = after.as_bytes();
    let bad_escape = bytes.iter().enumerate().any(|(at, &b)| {
        b == b'%'
            && !(bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if bad_escape {
        return Err(BrokerUrlError::PercentEscape(url.to_owned()));
    }
    Ok(format!(
        "{}://{}{after}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

/// The path and query string of a broker URL, as the WebSocket handshake asks for them
/// (`/mqtt`, `/ws?tenant=a`); `""` when the URL names only a host and port (the browser then
/// asks for `/`). Works on any text: it is what follows the first `/` or `?` after `scheme://`.
pub fn path_and_query(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find(['/', '?']).map_or("", |at| &rest[at..])
}

/// Which path the broker products serve MQTT over WebSocket at: a browser reports a WebSocket
/// refused at a wrong path (an HTTP 404 on the upgrade) only as a close (code 1006), exactly as
/// it reports a broker that is not running. Returns a sentence for the page about the path of
/// `url`, e.g. `Or something runs there, but nothing answered MQTT over WebSocket at the path /foo: …`;
/// empty for a node of `./scripts/cluster` (any path is right there).
pub fn path_advice(url: &str) -> String {
    // A node of this project's cluster answers at any path: the page names it already
    // ([`start_advice`]), and other brokers' paths are beside the point (35-L F4).
    if matches!(known_broker(url), KnownBroker::ClusterNode(_)) {
        return String::new();
    }
    let path = path_and_query(url);
    let at = if path.is_empty() || path == "/" {
        "without a path (the browser asks for /)".to_owned()
    } else {
        format!("at the path {}", ellipsized(path, SHOWN))
    };
    format!(
        "Or something runs there, but nothing answered MQTT over WebSocket {at}: another kind \
         of server on that port (the browser cannot tell it from no server at all), or a broker \
         that wants a path: EMQX, HiveMQ, VerneMQ and NanoMQ use /mqtt (e.g. \
         ws://host:8083/mqtt), RabbitMQ /ws (ws://host:15675/ws); Mosquitto answers at any path."
    )
}

/// How many characters of a URL's path or host the advice repeats before `…`: a link may carry a
/// URL thousands of characters long (a newcomer's break-test: a 5,000-character URL gave a
/// 10,000-character help).
const SHOWN: usize = 80;

/// The first `max` characters of `text` (Unicode scalar values, so the cut never splits one)
/// when it has more; `None` when it has `max` characters or fewer. The one cut every shortened
/// echo of outside text uses: a URL in this module's advice, and the page's refusals and views
/// (`eda_core::outside_text` re-exports it).
///
/// ```
/// use broker_bridge::url::cut;
///
/// assert_eq!(cut("ws://host:9001", 5), Some("ws://"));
/// assert_eq!(cut("éé€€", 3), Some("éé€"));
/// assert_eq!(cut("abc", 3), None);
/// ```
pub fn cut(text: &str, max: usize) -> Option<&str> {
    let (end, _) = text.char_indices().nth(max)?;
    Some(&text[..end])
}

/// `text` cut to its first `max` characters ([`cut`]), with `…` after them when longer.
fn ellipsized(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match cut(text, max) {
        Some(start) => format!("{start}…").into(),
        None => text.into(),
    }
}

/// The brokers this project starts itself, told by their URL, so that the help for a broker
/// that cannot be reached says how to start the right one ([`start_advice`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownBroker {
    /// This project's Mosquitto, `ws://localhost:9001` (or `127.0.0.1`, `[::1]`; any path):
    /// `./scripts/play` or `mosquitto -c static/mosquitto.conf`.
    Mosquitto,
    /// This project's Mosquitto with TLS and passwords, `wss://localhost:9443`:
    /// `./scripts/play --secure`.
    SecureMosquitto,
    /// A node of `./scripts/cluster`'s local cluster: `'a'` at `ws://127.0.0.1:9101`, `'b'` at
    /// `ws://127.0.0.1:9102` (or `localhost`).
    ClusterNode(char),
    /// Any other broker: this project cannot say how it is started.
    Other,
}

/// Which of this project's brokers `url` names, if any: by scheme, a loopback host
/// (`localhost`, `127.0.0.1`, `[::1]`, in any case) and port, whatever the path.
pub fn known_broker(url: &str) -> KnownBroker {
    match loopback_scheme_port(url) {
        Some((scheme, Some(port))) => match (scheme.as_str(), port) {
            ("ws", "9001") => KnownBroker::Mosquitto,
            ("wss", "9443") => KnownBroker::SecureMosquitto,
            ("ws", "9101") => KnownBroker::ClusterNode('a'),
            ("ws", "9102") => KnownBroker::ClusterNode('b'),
            _ => KnownBroker::Other,
        },
        _ => KnownBroker::Other,
    }
}

/// For a URL on this machine (`localhost`, `127.0.0.1`, `[::1]`, in any case): its scheme in
/// lowercase and its port, if given; `None` for any other host.
fn loopback_scheme_port(url: &str) -> Option<(String, Option<&str>)> {
    let (scheme, host, port) = scheme_host_port(url)?;
    matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
    .then(|| (scheme.to_ascii_lowercase(), port))
}

/// `url`'s scheme as written, and its authority's host and port (if given):
/// `("ws", "localhost", Some("9001"))` for `ws://localhost:9001/mqtt`; `None` without `://`.
fn scheme_host_port(url: &str) -> Option<(&str, &str, Option<&str>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let (host, port) = split_host_port(authority);
    Some((scheme, host, port))
}

/// The plain MQTT (TCP) port of a broker this project starts ([`known_broker`]), for a
/// `mosquitto_sub` beside the page: 1883 for this project's Mosquitto (both configs; see
/// `static/mosquitto.conf`), 1891 and 1892 for nodes A and B of `./scripts/cluster`. `None` for
/// any other broker: its plain port cannot be told from its WebSocket URL.
pub fn plain_mqtt_port(url: &str) -> Option<u16> {
    match known_broker(url) {
        KnownBroker::Mosquitto | KnownBroker::SecureMosquitto => Some(1883),
        KnownBroker::ClusterNode('a') => Some(1891),
        KnownBroker::ClusterNode(_) => Some(1892),
        KnownBroker::Other => None,
    }
}

/// A loopback `ws://` URL at the plain MQTT port of a broker this project starts: which broker,
/// and the WebSocket URL the page needs instead (a newcomer's break-test copied 1892 from the
/// README's `mosquitto_sub -p 1892` into the link, and was told to start Mosquitto).
fn plain_port_given(url: &str) -> Option<(&'static str, &'static str)> {
    match loopback_scheme_port(url)?.1? {
        "1883" => Some(("this project's Mosquitto", "ws://localhost:9001")),
        "1891" => Some((
            "node A of this project's local cluster",
            "ws://127.0.0.1:9101",
        )),
        "1892" => Some((
            "node B of this project's local cluster",
            "ws://127.0.0.1:9102",
        )),
        _ => None,
    }
}

/// The ports brokers commonly serve MQTT over WebSocket with TLS on: 443 (HTTPS), 8084 (EMQX),
/// 8443, 8884 (Mosquitto's and HiveMQ's public test brokers) and 9443 (this project's
/// `./scripts/play --secure`).
const TLS_WEBSOCKET_PORTS: [&str; 5] = ["443", "8084", "8443", "8884", "9443"];

/// A `ws://` URL (plain WebSocket) at one of [`TLS_WEBSOCKET_PORTS`]: that port, since the
/// broker there most likely wants `wss://` (a newcomer's break-test put `ws://localhost:9443`
/// and was told only to start a broker).
fn tls_port_over_ws(url: &str) -> Option<&str> {
    let (scheme, _, port) = scheme_host_port(url)?;
    let port = port.filter(|_| scheme.eq_ignore_ascii_case("ws"))?;
    TLS_WEBSOCKET_PORTS.contains(&port).then_some(port)
}

/// What a CONNECT left without a CONNACK means at `url`, when the broker there is one this
/// project starts and the cause is known: a node of `./scripts/cluster` holds every CONNECT while
/// its Redis is unreachable (`e2e/lib/aedes-cluster-node.mjs`), so the URL is right and Redis is
/// what to start (a newcomer's break-test, 35-L F7, was told to check the URL and the port of
/// Mosquitto). `None` for any other broker: the page's general help applies.
pub fn unanswered_connect_advice(url: &str) -> Option<String> {
    let KnownBroker::ClusterNode(node) = known_broker(url) else {
        return None;
    };
    let big = node.to_ascii_uppercase();
    Some(format!(
        "This is node {big} of this project's local cluster (aedes on Redis), and the URL is \
         right: a node takes the WebSocket but holds every CONNECT while its Redis is \
         unreachable (its log, target/cluster-{node}.log, then says redis unreachable). If \
         ./scripts/cluster said Redis stopped, start Redis again with the command it printed \
         (redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no, from the \
         project's folder); the services connect by themselves once it is back, and the node's \
         queued messages are delivered then."
    ))
}

/// What to do when nothing answers at `url` (as [`parse_broker_url`] returned it): how to start
/// the broker there, when it is one this project starts ([`known_broker`]), else to start that
/// broker or check its address. One or more sentences for the page, e.g. for
/// `ws://127.0.0.1:9102`: `This is node B of this project's local cluster: ./scripts/cluster
/// starts it …`. Mosquitto is advised only for Mosquitto's own addresses: another broker is
/// not started by `./scripts/play`, and `./scripts/play` beside `./scripts/cluster` would take
/// the same port for the page (8080).
pub fn start_advice(url: &str) -> String {
    match known_broker(url) {
        KnownBroker::Mosquitto => "Start Mosquitto with this project's config: ./scripts/play or \
             mosquitto -c static/mosquitto.conf (WebSocket listener on port 9001). Another \
             broker? Put its ws:// URL above."
            .to_owned(),
        KnownBroker::SecureMosquitto => "Start this project's Mosquitto with TLS and passwords: \
             ./scripts/play --secure (WebSocket over TLS on port 9443). Another broker? Put its \
             URL above."
            .to_owned(),
        KnownBroker::ClusterNode(node) => {
            let (big, tcp, ws) = if node == 'a' {
                ('A', 1891, 9101)
            } else {
                ('B', 1892, 9102)
            };
            format!(
                "This is node {big} of this project's local cluster (aedes on Redis): \
                 ./scripts/cluster starts it, with the other node and Redis, and serves the page \
                 (on port 8080 unless given --port, as ./scripts/play: two of them need two \
                 ports). If the cluster runs and only this node stopped, start it again from the \
                 project's folder: node e2e/lib/aedes-cluster-node.mjs {node} 6390 {tcp} {ws} \
                 (it logs to that terminal, and listens once Redis answers: if Redis stopped \
                 too, start Redis first with the command ./scripts/cluster printed)."
            )
        }
        KnownBroker::Other => {
            if let Some((broker, ws)) = plain_port_given(url) {
                return format!(
                    "That port is {broker}'s plain MQTT port (for mosquitto_sub and other TCP \
                     clients); a browser speaks MQTT over WebSocket only, which it serves at \
                     {ws}: put that above."
                );
            }
            let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
            let authority = rest.split(['/', '?']).next().unwrap_or(rest);
            // A host name that does not resolve fails as a closed port does: the browser keeps
            // the reason from the page (a newcomer's break-test read "start the broker" for a
            // typo in the name).
            let (host, _) = split_host_port(authority);
            let named = !host.starts_with('[')
                && host.parse::<std::net::Ipv4Addr>().is_err()
                && !host.eq_ignore_ascii_case("localhost");
            let name = if named {
                format!(
                    " If {} is a typo, or a name your network cannot look up, it fails the \
                     same way: the browser does not tell the page which.",
                    ellipsized(host, SHOWN)
                )
            } else {
                String::new()
            };
            let tls = tls_port_over_ws(url)
                .map(|port| {
                    format!(
                        " Port {port} usually serves WebSocket over TLS: if it does here, the \
                         URL needs wss://, not ws:// (a TLS listener drops a plain connection \
                         without a word)."
                    )
                })
                .unwrap_or_default();
            let authority = ellipsized(authority, SHOWN);
            format!(
                "Start the MQTT broker that should answer at {authority}, or check its address \
                 above (scheme, host, port and path).{tls}{name} This project's own brokers: \
                 Mosquitto at ws://localhost:9001 (./scripts/play), the cluster's nodes at \
                 ws://127.0.0.1:9101 and ws://127.0.0.1:9102 (./scripts/cluster)."
            )
        }
    }
}

/// A host name (letters of any script, digits, `-`, `_`, dots between labels) or an IPv6
/// literal in brackets. IPv4 addresses are host names by this rule.
fn is_host(host: &str) -> bool {
    match host.strip_prefix('[') {
        Some(inside) => inside.strip_suffix(']').is_some_and(|address| {
            address.contains(':')
                && address
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        }),
        // A trailing dot is a fully qualified name.
        None => host
            .strip_suffix('.')
            .unwrap_or(host)
            .split('.')
            .all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            }),
    }
}

/// Splits `host:port`, minding IPv6 literals such as `[::1]:9001`.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        return match s.find(']') {
            Some(end) => {
                let port = s[end + 1..].strip_prefix(':');
                (&s[..=end], port)
            }
            None => ("", None),
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    }
}

/// Whether `c` is an invisible formatting character (Unicode category Cf, the ones a URL may
/// meet): soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and
/// direction marks (U+200B–U+200F), bidi embeddings and overrides (U+202A–U+202E), word
/// joiner and invisible operators (U+2060–U+2064), bidi isolates (U+2066–U+2069), and the BOM.
fn is_format_character(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newcomer's break-test: a 5,000-character URL gave a 10,000-character help.
    #[test]
    fn advice_for_a_very_long_url_repeats_only_the_start_of_it() {
        let long_path = format!("ws://localhost:9555/{}", "p".repeat(5000));
        let advice = path_advice(&long_path);
        assert!(advice.len() < 600, "{advice}");
        assert!(
            advice.contains(&format!("at the path /{}…:", "p".repeat(79))),
            "{advice}"
        );
        let long_host = format!("ws://{}.example:9555/mqtt", "h".repeat(5000));
        let advice = start_advice(&long_host);
        assert!(advice.len() < 900, "{advice}");
        assert!(
            advice.contains(&format!("answer at {}…,", "h".repeat(80))),
            "{advice}"
        );
        // A URL of common length is said whole.
        assert!(path_advice("ws://host:8083/mqtt").contains("at the path /mqtt:"));
        assert_eq!(
            path_advice("ws://127.0.0.1:9102/"),
            "",
            "a node of the cluster: any path"
        );
        assert_eq!(ellipsized("abc", 3), "abc");
        assert_eq!(ellipsized("abcd", 3), "abc…");
        assert_eq!(ellipsized("ééé", 2), "éé…");
    }

    #[test]
    fn the_in_page_broker_is_named_inpage_in_any_case() {
        for input in ["inpage", " InPage ", "INPAGE"] {
            assert_eq!(parse_broker_url(input).as_deref(), Ok(IN_PAGE_BROKER));
        }
        assert!(is_in_page(&parse_broker_url("inpage").unwrap()));
        assert!(!is_in_page("ws://inpage:9001"));
        assert!(parse_broker_url("inpage:9001").is_err());
        assert!(parse_broker_url("ws://inpage").is_ok_and(|url| !is_in_page(&url)));
    }

    #[test]
    fn good_urls_pass_trimmed() {
        for url in [
            "ws://localhost:9001",
            "ws://127.0.0.1:19001/",
            "wss://broker.example.org/mqtt",
            "ws://[::1]:9001",
            "ws://host",
        ] {
            assert_eq!(parse_broker_url(&format!("  {url} ")), Ok(url.to_owned()));
        }
    }

    #[test]
    fn the_scheme_and_host_are_taken_in_any_case_and_written_in_lower_case() {
        assert_eq!(
            parse_broker_url("WS://LOCALHOST:9001"),
            Ok("ws://localhost:9001".to_owned())
        );
        assert_eq!(
            parse_broker_url("Wss://Broker.Example.ORG/MQTT?Tenant=A"),
            Ok("wss://broker.example.org/MQTT?Tenant=A".to_owned()),
            "the path and query keep their case"
        );
        assert_eq!(
            parse_broker_url("WS://[::ABCD]:9001"),
            Ok("ws://[::abcd]:9001".to_owned())
        );
        assert!(matches!(
            parse_broker_url("HTTP://localhost:9001"),
            Err(BrokerUrlError::Scheme(_))
        ));
    }

    #[test]
    fn a_slip_of_inpage_is_named_as_one() {
        for slip in ["in-page", "In Page", "in_page", "inpage2", "INPAGE:9001"] {
            assert_eq!(
                parse_broker_url(slip),
                Err(BrokerUrlError::NearInPage(slip.to_owned())),
                "{slip}"
            );
        }
        assert!(BrokerUrlError::NearInPage("in-page".into())
            .to_string()
            .contains("did you mean inpage"));
        // A host of that name is a host.
        assert_eq!(
            parse_broker_url("ws://inpage2:9001"),
            Ok("ws://inpage2:9001".to_owned())
        );
        assert!(BrokerUrlError::Scheme("x".into())
            .to_string()
            .ends_with("or be inpage for the broker that runs in this page"));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert_eq!(parse_broker_url(" "), Err(BrokerUrlError::Empty));
        assert!(matches!(
            parse_broker_url("http://nope"),
            Err(BrokerUrlError::Scheme(_))
        ));
        assert!(matches!(
            parse_broker_url("localhost:9001"),
            Err(BrokerUrlError::Scheme(_))
        ));
        assert!(matches!(
            parse_broker_url("ws://:9001"),
            Err(BrokerUrlError::MissingHost(_))
        ));
        // `ws://h:` is the default port (an_unclosed_ipv6_address_is_named_and_an_empty_port_is_the_default).
        for bad_port in ["ws://h:0", "ws://h:65536", "ws://h:abc"] {
            assert!(
                matches!(parse_broker_url(bad_port), Err(BrokerUrlError::Port { .. })),
                "{bad_port}"
            );
        }
        for hidden in [
            "ws://a b",
            "ws://127.0.0.1:9206/\u{202e}evil/path",
            "ws://local\u{200b}host:9001",
            "\u{feff}ws://localhost:9001",
            "ws://localhost:9001/\u{2066}x",
        ] {
            assert!(
                matches!(parse_broker_url(hidden), Err(BrokerUrlError::Whitespace(_))),
                "{hidden:?}"
            );
        }
        let message = parse_broker_url("http://nope").unwrap_err().to_string();
        assert!(message.contains("ws://"), "{message}");
    }

    #[test]
    fn credentials_in_the_url_are_refused_and_never_repeated() {
        for (with, bare) in [
            ("ws://ada:hunter2@localhost:9001", "ws://localhost:9001"),
            (
                "wss://ada@broker.example.org/mqtt",
                "wss://broker.example.org/mqtt",
            ),
            (" ws://a:b@c:d@[::1]:9001/x?y=@ ", "ws://[::1]:9001/x?y=@"),
            ("ws://ada:hunter 2@host", "ws://host"),
            ("ws:ada:hunter2@host:9001", "ws:host:9001"),
        ] {
            let error = parse_broker_url(with).expect_err(with);
            assert_eq!(
                error,
                BrokerUrlError::Credentials(bare.to_owned()),
                "{with}"
            );
            assert_eq!(error.shown_url(), Some(bare));
            let message = error.to_string();
            assert!(
                !message.contains("hunter2") && !message.contains("ada"),
                "{message}"
            );
            assert!(
                message.contains("User name and Password fields"),
                "{message}"
            );
        }
    }

    #[test]
    fn the_path_and_query_are_kept_and_named() {
        for (url, path) in [
            ("ws://localhost:9001", ""),
            ("ws://localhost:9001/", "/"),
            ("ws://127.0.0.1:8083/mqtt", "/mqtt"),
            ("wss://broker.example.org:8084/mqtt", "/mqtt"),
            ("ws://host:15675/ws?vhost=a&x=1", "/ws?vhost=a&x=1"),
            ("ws://host?x=1", "?x=1"),
        ] {
            // A path and a query string pass the check untouched.
            assert_eq!(parse_broker_url(url).as_deref(), Ok(url));
            assert_eq!(path_and_query(url), path, "{url}");
        }
        let advice = path_advice("ws://127.0.0.1:8083/wrong");
        assert!(advice.contains("at the path /wrong"), "{advice}");
        assert!(
            advice.contains("/mqtt") && advice.contains("RabbitMQ /ws"),
            "{advice}"
        );
        let advice = path_advice("ws://127.0.0.1:8083");
        assert!(advice.contains("without a path"), "{advice}");
    }

    /// A break-test: `/%zz` got HTTP 403 from Mosquitto and the help said any path would do;
    /// `:019502` was kept as written, another broker to the page than `:19502`.
    #[test]
    fn a_broken_percent_escape_is_refused_and_a_port_is_written_as_a_number() {
        for url in ["ws://h:9001/%zz", "ws://h:9001/a%2", "ws://h:9001/?x=%"] {
            assert_eq!(
                parse_broker_url(url),
                Err(BrokerUrlError::PercentEscape(url.into())),
                "{url}"
            );
        }
        assert_eq!(
            parse_broker_url("ws://h:9001/a%2Fb%25").as_deref(),
            Ok("ws://h:9001/a%2Fb%25")
        );
        assert_eq!(
            parse_broker_url("ws://127.0.0.1:019502/mqtt").as_deref(),
            Ok("ws://127.0.0.1:19502/mqtt")
        );
        assert_eq!(
            parse_broker_url("ws://[::1]:09001").as_deref(),
            Ok("ws://[::1]:9001")
        );
    }

    #[test]
    fn a_host_the_browser_would_refuse_is_refused_here() {
        // Each of these made the browser throw "Failed to construct 'WebSocket'", at every retry.
        for bad in [
            "ws://<script>:9001",
            "ws://a\\b:9001",
            "ws://a%20b:9001",
            "ws://exa mple",
            "ws://a..b:9001",
            "ws://.a:9001",
            "ws://[zz::1]:9001",
            "ws://a|b/",
            "ws://\u{202E}host:9001",
        ] {
            let error = parse_broker_url(bad).expect_err(bad);
            assert!(
                matches!(
                    error,
                    BrokerUrlError::Host { .. }
                        | BrokerUrlError::Whitespace(_)
                        | BrokerUrlError::MissingHost(_)
                        | BrokerUrlError::Backslash(_)
                ),
                "{bad}: {error:?}"
            );
        }
        assert!(matches!(
            parse_broker_url("ws://localhost:9001/#x"),
            Err(BrokerUrlError::Fragment(_))
        ));
        // 41-AI F8: said as a backslash, not as a bad port.
        let slash = parse_broker_url("ws://127.0.0.1:21992\\mqtt").unwrap_err();
        assert!(matches!(slash, BrokerUrlError::Backslash(_)), "{slash:?}");
        assert_eq!(
            slash.to_string(),
            "it has a backslash (\\): a URL's path is written with / (ws://host:9001/mqtt)"
        );
        for good in [
            "ws://broker-1.example.org:8083/mqtt",
            "ws://my_broker:9001",
            "ws://10.0.0.2:9001",
            "ws://[fe80::1]:9001",
            "ws://bücher.example:9001",
            "ws://localhost.:9001",
            "wss://host/path?x=<y>&at=a@b",
        ] {
            assert_eq!(parse_broker_url(good).as_deref(), Ok(good));
        }
        // The message never repeats the URL: the page shows it as text from outside.
        let message = parse_broker_url("ws://<script>:9001")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("<script>"), "{message}");
    }

    #[test]
    fn a_cluster_node_holding_connect_is_told_to_start_redis_not_to_fix_the_url() {
        for (url, node) in [("ws://127.0.0.1:9102", 'B'), ("ws://localhost:9101/", 'A')] {
            let advice = unanswered_connect_advice(url).expect(url);
            assert!(
                advice.starts_with(&format!(
                    "This is node {node} of this project's local cluster (aedes on Redis), and \
                     the URL is right"
                )) && advice.contains("start Redis again"),
                "{advice}"
            );
        }
        for url in [
            "ws://localhost:9001",
            "ws://127.0.0.1:9103",
            "wss://example.com/mqtt",
        ] {
            assert_eq!(unanswered_connect_advice(url), None, "{url}");
        }
    }

    #[test]
    fn the_start_advice_fits_the_broker_the_url_names() {
        let mosquitto = "Start Mosquitto with this project's config: ./scripts/play";
        for url in [
            "ws://localhost:9001",
            "ws://127.0.0.1:9001/",
            "ws://[::1]:9001/mqtt",
        ] {
            assert_eq!(known_broker(url), KnownBroker::Mosquitto, "{url}");
            assert!(start_advice(url).starts_with(mosquitto), "{url}");
        }
        let secure = start_advice("wss://localhost:9443");
        assert!(secure.contains("./scripts/play --secure"), "{secure}");

        // The cluster's nodes: how ./scripts/cluster starts them, and how to start one again.
        let b = start_advice("ws://127.0.0.1:9102");
        assert!(
            b.starts_with("This is node B of this project's local cluster"),
            "{b}"
        );
        assert!(b.contains("./scripts/cluster starts it"), "{b}");
        assert!(
            b.contains("node e2e/lib/aedes-cluster-node.mjs b 6390 1892 9102"),
            "{b}"
        );
        assert!(!b.contains("Mosquitto"), "{b}");
        // Not "the same port 8080" when the page is served on another, nor a log file a node
        // started by hand does not write (a newcomer's break-test, 35-L F4).
        assert!(
            !b.contains("target/cluster-b.log") && b.contains("unless given --port"),
            "{b}"
        );
        assert!(b.contains("listens once Redis answers"), "{b}");
        let a = start_advice("ws://localhost:9101");
        assert!(
            a.contains("node A") && a.contains("aedes-cluster-node.mjs a 6390 1891 9101"),
            "{a}"
        );

        // A known broker's plain MQTT port in a ws:// URL: its WebSocket URL instead.
        let tcp = start_advice("ws://127.0.0.1:1892");
        assert!(
            tcp.starts_with("That port is node B of this project's local cluster's plain MQTT")
                && tcp.contains("ws://127.0.0.1:9102"),
            "{tcp}"
        );
        assert!(start_advice("ws://localhost:1883").contains("ws://localhost:9001"));
        assert_eq!(plain_mqtt_port("ws://127.0.0.1:9101"), Some(1891));
        assert_eq!(plain_mqtt_port("ws://localhost:9001"), Some(1883));
        assert_eq!(plain_mqtt_port("ws://broker.example.org:8083/mqtt"), None);

        // Any other broker: named by its address, started by whoever runs it; no Mosquitto
        // instructions.
        for (url, named) in [
            ("ws://127.0.0.1:9103", "127.0.0.1:9103"),
            (
                "ws://broker.example.org:8083/mqtt",
                "broker.example.org:8083",
            ),
            ("wss://localhost:9001", "localhost:9001"),
            ("ws://10.0.0.5:9102", "10.0.0.5:9102"),
            ("ws://localhost", "localhost"),
        ] {
            assert_eq!(known_broker(url), KnownBroker::Other, "{url}");
            let advice = start_advice(url);
            assert!(
                advice.starts_with(&format!(
                    "Start the MQTT broker that should answer at {named}, or check its address"
                )),
                "{advice}"
            );
            assert!(!advice.contains("Start Mosquitto"), "{advice}");
            assert!(!advice.contains("This is node"), "{advice}");
            // Where this project's own brokers are, the cluster's too (35-L F5: a cluster page
            // was pointed at 9001 alone).
            assert!(
                advice.ends_with("ws://127.0.0.1:9102 (./scripts/cluster)."),
                "{advice}"
            );
        }
    }

    /// Newcomers' break-tests: `ws://[::1:19611` was refused as having no host name, and
    /// `ws://127.0.0.1:` as having an invalid port.
    #[test]
    fn an_unclosed_ipv6_address_is_named_and_an_empty_port_is_the_default() {
        assert_eq!(
            parse_broker_url("ws://[::1:19611"),
            Err(BrokerUrlError::UnclosedIpv6("ws://[::1:19611".into()))
        );
        assert_eq!(
            parse_broker_url("ws://[::1:19611").unwrap_err().to_string(),
            "its IPv6 address has no closing ]: write it in brackets, then the port (ws://[::1]:9001)"
        );
        assert_eq!(
            parse_broker_url("ws://127.0.0.1:").as_deref(),
            Ok("ws://127.0.0.1")
        );
        assert_eq!(
            parse_broker_url("ws://[::1]:/mqtt").as_deref(),
            Ok("ws://[::1]/mqtt")
        );
        assert_eq!(
            parse_broker_url("ws://[::1]:9001").as_deref(),
            Ok("ws://[::1]:9001")
        );
        assert!(matches!(
            parse_broker_url("ws://host::"),
            Err(BrokerUrlError::Port { .. } | BrokerUrlError::Host { .. })
        ));
    }

    /// A newcomer's break-test: ws://nonexistent.invalid:19611 was told to start the broker,
    /// never that the name may not exist.
    #[test]
    fn a_host_name_that_may_not_resolve_is_named_in_the_advice() {
        let advice = start_advice("ws://nonexistent.invalid:19611");
        assert!(
            advice.contains(
                "If nonexistent.invalid is a typo, or a name your network cannot look up"
            ),
            "{advice}"
        );
        for address in [
            "ws://127.0.0.1:19611",
            "ws://[::1]:19611",
            "ws://localhost:19611/x",
        ] {
            assert!(!start_advice(address).contains("typo"), "{address}");
        }
    }

    /// A newcomer's break-test (32-E F6): `ws://localhost:9443`, the secure broker's TLS port
    /// with the plain scheme, was told only to start a broker.
    #[test]
    fn a_plain_websocket_url_at_a_tls_port_is_told_wss() {
        for url in [
            "ws://localhost:9443",
            "ws://broker.example:8884/mqtt",
            "WS://10.0.0.1:443",
        ] {
            let advice = start_advice(url);
            assert!(
                advice.contains(
                    "usually serves WebSocket over TLS: if it does here, the URL \
                     needs wss://, not ws://"
                ),
                "{url}: {advice}"
            );
        }
        for url in [
            "wss://broker.example:8884",
            "ws://127.0.0.1:19611",
            "ws://h",
        ] {
            assert!(!start_advice(url).contains("wss://, not"), "{url}");
        }
    }
}
