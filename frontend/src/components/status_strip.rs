//! One badge per service (and per further instance of PaymentService) with its connection
//! state, and help when a connection is down: what happened, in the session's words, and what
//! to do about it. Starting a broker is advised only when nothing answered at the broker's
//! address: Mosquitto at this project's Mosquitto address, `./scripts/cluster` at its nodes'
//! (`broker_bridge::url::start_advice`).

use yew::prelude::*;

use super::outside_text::{outside, outside_cut, reason};
use broker_bridge::{ConnectionError, Link};
use eda_core::outside_text::visible;
use eda_core::services::instances::Instance;
use eda_core::state::PresenceView;

/// One service (or one of PaymentService's further instances) as its badge shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceBadge {
    pub instance: Instance,
    pub client_id: String,
    /// Its client's link, as the client sees it.
    pub link: Link,
    /// The learner crashed it and has not restarted it.
    pub crashed: bool,
    /// Its status as the broker last told it.
    pub presence: Option<PresenceView>,
    /// Connected, but the broker has not relayed its online status: why, and what to check.
    pub unrelayed: Option<String>,
    /// The broker URL of its last accepted connection in this page (`ServiceView::connected_at`).
    pub connected_at: Option<String>,
}

#[derive(Properties, PartialEq)]
pub struct StatusStripProps {
    pub services: Vec<ServiceBadge>,
    /// The page's broker; a badge whose service talks to another names it.
    pub broker_url: String,
    /// A recording is shown: the services were stopped on purpose, no help needed.
    #[prop_or_default]
    pub replaying: bool,
    /// Crash a service or instance (drop its connection without DISCONNECT); no button without
    /// it.
    #[prop_or_default]
    pub on_crash: Option<Callback<Instance>>,
    /// Start a crashed service or instance again.
    #[prop_or_default]
    pub on_restart: Option<Callback<Instance>>,
    /// The page's status monitor is not connected to the page's broker: why.
    #[prop_or_default]
    pub monitor_lost: Option<String>,
    /// The page itself came over https (a browser then refuses its `ws://` WebSockets).
    #[prop_or_default]
    pub page_https: bool,
}

/// What went wrong, as one word for `data-diagnosis`.
fn diagnosis(reason: &ConnectionError) -> &'static str {
    match reason {
        r if r.is_unreachable() => "unreachable",
        r if r.is_permanent_refusal() => "refused-for-good",
        r if r.unanswered_within().is_some() => "unanswered",
        ConnectionError::TakenOver(_) => "taken-over",
        ConnectionError::ClosedAfterAccept { .. } => "closed-after-accept",
        ConnectionError::ClosedBeforeConnAck { .. } => "closed-before-connack",
        _ => "lost",
    }
}

/// For a `wss://` broker URL, the `https://` page of the same host and port, where a browser
/// can be told to trust the broker's certificate.
fn certificate_page(url: &str) -> Option<String> {
    let rest = url.strip_prefix("wss://")?;
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    Some(format!("https://{authority}/"))
}

/// What waiting does for a broker that cannot be reached at `url`. Over ws:// the page
/// connects by itself once the broker is up. Over wss:// the same failure is also a TLS
/// connection the browser gave up on (a certificate it does not trust, or a port with no TLS),
/// which no waiting mends: the help's last paragraph says what does.
fn once_up(url: &str, mixed: bool, worked: bool) -> &'static str {
    if mixed {
        "; waiting will not help: the browser does not let this page open it (below)."
    } else if certificate_page(url).is_some() && !worked {
        "; if no broker runs there, the page connects by itself once one is up. If one does, \
         waiting will not help: the browser could not make the TLS connection (below)."
    } else {
        "; the page connects by itself once the broker is up."
    }
}

/// Whether the WebSocket to `url` could not even be made because the page came over https and
/// `url` is a plain `ws://` one: browsers block that as mixed content (the W3C's *Mixed
/// Content*, §4.3: a WebSocket is blockable), throwing at `new WebSocket()` (the session's
/// [`ConnectionError::TransportFailed`]) whatever runs at the address. `page_https`: the page's
/// own scheme is `https:`.
fn mixed_content(url: &str, why: &ConnectionError, page_https: bool) -> bool {
    page_https && matches!(why, ConnectionError::TransportFailed(_)) && plain_ws(url)
}

/// Whether `url` is a plain WebSocket one (`ws://`, in any case).
fn plain_ws(url: &str) -> bool {
    url.get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("ws://"))
}

/// Whether a `ws://` URL that did not open may name a listener that wants TLS: any `ws://` URL
/// but this project's own plain brokers (Mosquitto on 9001, the cluster's nodes), whose
/// advice is to start them.
fn tls_may_be_wanted(url: &str) -> bool {
    use broker_bridge::url::{known_broker, KnownBroker};
    plain_ws(url)
        && matches!(
            known_broker(url),
            KnownBroker::Other | KnownBroker::SecureMosquitto
        )
}

/// What a connect timeout means, as the rest of a sentence that starts with the broker URL:
/// the WebSocket never opened, or it opened and CONNECT got no CONNACK.
fn unanswered(why: &ConnectionError) -> String {
    let within = why
        .unanswered_within()
        .map(broker_bridge::session::duration_text)
        .unwrap_or_default();
    match why {
        ConnectionError::OpenTimeout { .. } => format!(
            "did not answer the WebSocket handshake within {within}: something there may take \
             the connection without speaking WebSocket, or a firewall drops it in silence."
        ),
        _ => format!(
            "accepted the connection but did not answer the MQTT handshake (no CONNACK to the \
             CONNECT) within {within}."
        ),
    }
}

/// How many characters of a broker URL the help shows before `…` (the whole URL in its
/// title): a link may carry one thousands of characters long, and the help said it whole, more
/// than once (a newcomer's break-test: a 5,000-character URL, a 10,000-character help).
const URL_SHOWN: usize = 120;

/// The help for a service whose link is down: the first line says what happened, the second
/// what to do. `worked`: the broker accepted this service's connection at `url` earlier in this
/// page, so a wrong path, another kind of server or a TLS-only listener are not the cause, and
/// the help does not suggest them (a newcomer's break-test, 44-AT F4).
fn help(
    name: &str,
    client_id: &str,
    url: &str,
    why: &ConnectionError,
    retry: String,
    page_https: bool,
    worked: bool,
) -> Html {
    let text = why.to_string();
    let mixed = mixed_content(url, why, page_https);
    match diagnosis(why) {
        // The in-page broker did not start: nothing to install, Mosquitto is not the answer.
        "unreachable" if broker_bridge::url::is_in_page(url) => html! {
            <p>
                { "The in-page broker is not running (" }{ reason(&text) }
                { format!("). {retry}. Reload the page, or put a Mosquitto's ws:// URL above.") }
            </p>
        },
        "unreachable" => html! {
            <>
                <p>
                    { "Cannot reach the MQTT broker at " }<code>{ outside_cut(url, URL_SHOWN) }</code>
                    { " (" }{ reason(&text) }{ format!("). {retry}{}", once_up(url, mixed, worked)) }
                </p>
                if worked && !mixed {
                    <p data-testid="broker-worked-help">
                        { format!("{name} was connected to the broker at this URL earlier in this \
                           page, so the URL is right: the broker stopped or restarted, or the \
                           network to it went down.") }
                    </p>
                }
                // An https page may not open a ws:// WebSocket: no broker is the answer (a
                // newcomer's break-test, 39-AA F7: the help said to start one that was running).
                if mixed {
                    <p data-testid="broker-mixed-content-help">
                        { "This page was loaded over https, and a browser does not let an https \
                           page open a plain ws:// WebSocket (mixed content), whatever runs at " }
                        <code>{ outside_cut(url, URL_SHOWN) }</code>
                        { ". Use the broker's wss:// URL (a WebSocket listener with TLS, as \
                           ./scripts/play --secure makes on port 9443; README, A Mosquitto you \
                           could expose), or open this page over http." }
                    </p>
                }
                // Mosquitto only at Mosquitto's own address; a cluster node, or any other
                // broker, gets its own advice.
                // Both hold parts of the URL, which a link may fill with invisible characters:
                // named, not obeyed (a newcomer's break-test: a U+202E in the path drew the
                // path advice mirrored).
                if !mixed {
                    <p data-testid="broker-start-help">{ eda_core::outside_text::visible(&broker_bridge::url::start_advice(url)).into_owned() }</p>
                }
                // A WebSocket refused at a wrong path (HTTP 404) closes like an absent broker.
                if !mixed && !worked && !broker_bridge::url::path_advice(url).is_empty() {
                    <p data-testid="broker-path-help">{ eda_core::outside_text::visible(&broker_bridge::url::path_advice(url)).into_owned() }</p>
                }
                // A ws:// URL at a listener that wants TLS closes like an absent broker too (a
                // newcomer's break-test, 39-AA F3); this project's own brokers are known.
                if !mixed && !worked && tls_may_be_wanted(url) {
                    <p data-testid="broker-tls-help">
                        { "Or the broker there takes WebSocket over TLS only (a wss:// listener, as \
                           ./scripts/play --secure makes on port 9443): then use " }
                        <code>{ outside_cut(&format!("wss://{}", &url[5..]), URL_SHOWN) }</code>{ "." }
                    </p>
                }
                // A wss:// broker whose certificate the browser does not trust closes the same way.
                if let Some(page) = certificate_page(url).filter(|_| !worked) {
                    <p data-testid="broker-certificate-help">
                        { "Or, for a wss:// broker, the browser does not trust its certificate (a \
                           self-signed one, as ./scripts/play --secure makes): open " }
                        <code>{ page }</code>
                        { " once in this browser and accept it, then the page connects. Or the \
                           broker there speaks plain WebSocket only (no TLS, as this project's \
                           Mosquitto on 9001): then use " }
                        <code>{ outside_cut(&url.replacen("wss://", "ws://", 1), URL_SHOWN) }</code>{ "." }
                    </p>
                }
            </>
        },
        // Something accepted the connection and kept silent: a server that is no MQTT broker's
        // WebSocket listener (another program on the port, a plain TCP or WebSocket server), or
        // one that hangs. Starting a broker is not the advice: something is there.
        // A node of this project's cluster holding the CONNECT: its Redis is down, the URL is
        // right (a newcomer's break-test, 35-L F7).
        "unanswered"
            if !matches!(why, ConnectionError::OpenTimeout { .. })
                && broker_bridge::url::unanswered_connect_advice(url).is_some() =>
        {
            html! {
                <>
                    <p>
                        <code>{ outside_cut(url, URL_SHOWN) }</code>{ " " }{ unanswered(why) }
                    </p>
                    <p data-testid="broker-unanswered-help" data-cause="cluster-redis">
                        { broker_bridge::url::unanswered_connect_advice(url).unwrap_or_default() }
                        { format!(" {name}: ") }{ reason(&text) }{ format!(". {retry}, waiting longer each time.") }
                    </p>
                </>
            }
        }
        "unanswered" => html! {
            <>
                <p>
                    <code>{ outside_cut(url, URL_SHOWN) }</code>{ " " }{ unanswered(why) }
                    { " Is it an MQTT broker's WebSocket listener?" }
                </p>
                <p data-testid="broker-unanswered-help">
                    { format!("{name}: ") }{ reason(&text) }
                    { format!(
                        ". {retry}, waiting longer each time. Check the port in the URL \
                         (Mosquitto's WebSocket listener is the one with protocol websockets, \
                         9001 in this project), or what runs there."
                    ) }
                </p>
            </>
        },
        "taken-over" => html! {
            <>
                <p>
                    { format!("{name}'s connection to the broker at ") }<code>{ outside_cut(url, URL_SHOWN) }</code>
                    { " was " }{ reason(&text) }{ format!(". {retry}, waiting longer each time.") }
                </p>
                <p>
                    { "Another MQTT client connects as " }<code>{ outside(client_id) }</code>
                    { ", and the broker keeps one connection per client id. Stop that client, or \
                       open the page in a new tab: a new tab picks new client ids (a reload keeps \
                       them). If no other client uses it, the broker itself, or a proxy in front \
                       of it, ends the connections (an idle timeout, a limit, its access rules): \
                       the broker's log says why." }
                </p>
            </>
        },
        "closed-after-accept" => html! {
            <>
                <p>
                    { "The broker at " }<code>{ outside_cut(url, URL_SHOWN) }</code>
                    { format!(" answers, but {name}'s connection was ") }{ reason(&text) }
                    { format!(". {retry}, waiting longer each time.") }
                </p>
                <p>
                    { "The broker's log says why it closes the connection: its limits, its access \
                       rules, or another client using the client id " }
                    <code>{ outside(client_id) }</code>{ "." }
                </p>
            </>
        },
        // Mosquitto's max_qos 0 closes a 3.1.1 CONNECT whose Will is QoS 1 without a CONNACK, and
        // retain_available false one whose Will is retained (5.0 gets 0x9B or 0x9A, and the
        // session adjusts the Will): the cases a user can fix here.
        "closed-before-connack" => html! {
            <>
                <p>
                    { "The broker at " }<code>{ outside_cut(url, URL_SHOWN) }</code>
                    { format!(" took {name}'s connection, but ") }{ reason(&text) }
                    { format!(". {retry}, waiting longer each time.") }
                </p>
                <p data-testid="broker-closed-help">
                    { "Something answers there, but did not accept the CONNECT. Under MQTT 3.1.1 a \
                       broker taking QoS 0 only does this (Mosquitto's max_qos 0 closes a CONNECT \
                       whose Last Will is QoS 1, as every service's is), and so does one that keeps \
                       no retained messages (Mosquitto's retain_available false closes a CONNECT \
                       whose Last Will is retained, as every service's is): choose MQTT 5 under \
                       Protocol, whose CONNACK says which, and the services adjust. Mosquitto's \
                       log names that cause for a TCP client only (disconnected due to QoS too \
                       high or retain not supported); for the page's WebSocket clients it says \
                       just Client <unknown> closed its connection." }
                </p>
            </>
        },
        "refused-for-good" => html! {
            <>
                <p>
                    { format!("{name}: ") }{ reason(&text) }
                    { ". Not retrying: the same CONNECT would be refused again." }
                </p>
                <p>{ why.refusal_advice_at(url).unwrap_or_default() }</p>
            </>
        },
        _ => html! {
            <p>
                { format!("{name} lost its connection to the broker at ") }<code>{ outside_cut(url, URL_SHOWN) }</code>
                { ": " }{ reason(&text) }{ format!(". {retry}.") }
            </p>
        },
    }
}

#[component]
pub fn StatusStrip(props: &StatusStripProps) -> Html {
    let badges = props
        .services
        .iter()
        .map(|badge| {
            let (id, link) = (badge.instance, &badge.link);
            let (name, slug) = (id.name(), id.slug());
            let state = if badge.crashed { "crashed" } else { link.word() };
            let title = match link {
                Link::Disconnected { reason, .. } => visible(&reason.to_string()).into_owned(),
                _ => format!("{name} is {state}"),
            };
            let control = match (&props.on_crash, &props.on_restart, badge.crashed) {
                (_, Some(on_restart), true) => {
                    let on_restart = on_restart.clone();
                    html! {
                        <button type="button" class="small" data-testid={format!("restart-{slug}")}
                            aria-label={format!("Restart {name}")}
                            onclick={Callback::from(move |_: MouseEvent| on_restart.emit(id))}>{ "Restart" }</button>
                    }
                }
                (Some(on_crash), _, false) => {
                    let on_crash = on_crash.clone();
                    html! {
                        <button type="button" class="small" data-testid={format!("crash-{slug}")}
                            aria-label={format!("Crash {name}")}
                            onclick={Callback::from(move |_: MouseEvent| on_crash.emit(id))}>{ "Crash" }</button>
                    }
                }
                _ => Html::default(),
            };
            // The status is heard through the page's status monitor: with it down, every
            // badge's status is the last heard, whatever the service's own link (35-L F8).
            let monitor_up = props.monitor_lost.is_none();
            let heard = link.is_connected() && monitor_up;
            let words = |presence: &PresenceView| {
                if link.is_connected() && !monitor_up {
                    presence.words_monitor_down(badge.crashed)
                } else {
                    presence.words(link.is_connected(), badge.crashed)
                }
            };
            html! {
                <li class={classes!("badge", state)} data-testid={format!("status-{slug}")}
                    data-state={link.word()} data-crashed={badge.crashed.to_string()} title={title}
                    data-broker={link.url().to_owned()}>
                    <span class="symbol" aria-hidden="true">{ if badge.crashed { "✕" } else { link.symbol() } }</span>
                    <span class="name">{ name.clone() }</span>
                    <span class="state">{ state }</span>
                    // A service on a broker of its own (another node of a cluster) says which.
                    // The in-page broker in words, as everywhere else (44-AR F4: "via inpage").
                    if link.url() != props.broker_url {
                        <code class="own-broker" data-testid={format!("own-broker-{slug}")}
                            title={format!("{name} talks to its own broker, {}", own_broker(link.url()))}>
                            { format!("via {}", own_broker(link.url())) }</code>
                    }
                    <code data-testid="client-id">{ &badge.client_id }</code>
                    // Its own online status never came back through the page's broker (said in
                    // full under the strip): the badge says so too, rather than "not heard yet"
                    // or an "online" the status monitor heard before (break-tests 35-L F1,
                    // 34-J F2).
                    if let (Some(words), true, false) = (&badge.unrelayed, link.is_connected(), badge.crashed) {
                        <span class="presence stale" data-testid={format!("presence-{slug}")}
                            data-unrelayed="true" title={visible(words).into_owned()}>
                            { "broker: its status did not come back (below)" }</span>
                    } else if let Some(presence) = &badge.presence {
                        <span class={classes!("presence", presence.is_stale(heard, badge.crashed).then_some("stale"))}
                            data-testid={format!("presence-{slug}")}
                            data-online={presence.online.to_string()}
                            data-stale={presence.is_stale(heard, badge.crashed).to_string()}
                            data-after-crash-ms={presence.after_crash.map(|d| d.as_millis().to_string())}
                            title={words(presence)}>
                            { words(presence) }</span>
                    } else {
                        // The line is there before the status monitor hears the retained status,
                        // so the badges do not grow (and the page jump) when it does.
                        <span class="presence" data-testid={format!("presence-{slug}")}>
                            { "broker: status not heard yet" }</span>
                    }
                    { control }
                </li>
            }
        })
        .collect::<Html>();

    let down = props
        .services
        .iter()
        .filter(|badge| !props.replaying && !badge.crashed)
        .find_map(|badge| {
            // Down, or trying again after a failure (the help stays while it tries: a try may
            // last the whole connect timeout). A service stopped on purpose (crashed, a
            // recording shown) needs no help.
            let why = badge.link.failure().filter(|why| !why.is_stopped())?;
            let retry = match &badge.link {
                Link::Disconnected {
                    retry_in, attempt, ..
                } => Some((*retry_in, *attempt)),
                _ => None,
            };
            Some((
                badge.instance,
                &badge.client_id,
                badge.link.url(),
                why,
                retry,
                match &badge.link {
                    Link::Connecting { attempt, .. } | Link::Disconnected { attempt, .. } => {
                        *attempt
                    }
                    Link::Connected { .. } => 0,
                },
                badge.connected_at.as_deref() == Some(badge.link.url()),
            ))
        });
    let help = down.map(|(service, client_id, url, why, retry, attempt, worked)| {
        let retry = match retry {
            Some((retry_in, attempt)) => {
                // Whole tenths, without float formatting.
                let tenths = (retry_in.as_millis() + 50) / 100;
                format!(
                    "Retrying in {}.{} s (attempt {attempt})",
                    tenths / 10,
                    tenths % 10
                )
            }
            None => format!("Trying again now (attempt {attempt})"),
        };
        html! {
            <div class="help" role="status" data-testid="broker-help" data-service={service.slug()}
                data-diagnosis={diagnosis(why)} data-attempt={attempt.to_string()}>
                { help(&service.name(), client_id, url, why, retry, props.page_https, worked) }
                // A service on a broker of its own: the field above holds the others' (a
                // newcomer's break-test: the help sent the learner to the field, whose broker
                // worked, and never named the service).
                if url != props.broker_url {
                    <p data-testid="broker-own-help">
                        { format!("This is {}'s own broker, set by ", service.service.name()) }
                        <code>{ format!("?broker_{}=", service.service.slug()) }</code>
                        { " in the link (its line under the Broker field), not the one in the field \
                           above, which the other services use. Fix that parameter, or press \
                           Put every service on the broker above." }
                    </p>
                }
            </div>
        }
    });

    // A service connected whose own status never came back: its user's access rules, most
    // likely (the broker drops in silence what they deny).
    let unrelayed: Vec<(&ServiceBadge, &String)> = props
        .services
        .iter()
        .filter(|badge| !badge.crashed && badge.link.is_connected())
        .filter_map(|badge| Some((badge, badge.unrelayed.as_ref()?)))
        .collect();
    // No status came back at all: the monitor is the likelier cause, said once in full; the
    // other services are named after it (a newcomer's break-test, 34-J F2: five times the same
    // 700 characters).
    let monitor_first = unrelayed.len() > 1
        && unrelayed.iter().all(|(_, words)| {
            words.contains(eda_core::services::presence::relay::MONITOR_HEARS_NOTHING)
        });
    let unrelayed = unrelayed
        .iter()
        .enumerate()
        .map(|(index, (badge, words))| {
            let words = if monitor_first && index > 0 {
                format!(
                    "{} is connected too, and its online status has not come back either (above).",
                    badge.instance.name()
                )
            } else {
                visible(words).into_owned()
            };
            html! {
                <p class="help" role="alert" data-testid="status-unrelayed"
                    data-service={badge.instance.slug()}>{ words }</p>
            }
        })
        .collect::<Html>();

    // The page's broker down while services on other brokers carry on: said, with how to
    // start it (a newcomer's break-test, 35-L F8: nothing did; with every service down too,
    // their help says it).
    let monitor_down = props
        .monitor_lost
        .as_ref()
        .filter(|_| !props.replaying)
        .filter(|_| props.services.iter().any(|b| b.link.is_connected()))
        .map(|reason| {
            let url = &props.broker_url;
            let shown: String = url.chars().take(URL_SHOWN).collect();
            let shown = if shown.len() < url.len() { format!("{shown}…") } else { shown };
            let note = eda_core::state::monitor_down_note(
                &shown,
                reason,
                &broker_bridge::url::start_advice(url),
            );
            html! {
                <p class="help" role="status" data-testid="monitor-down">{ visible(&note).into_owned() }</p>
            }
        });

    html! {
        <>
            <ul class="status-strip" aria-label="Service connections">{ badges }</ul>
            { for monitor_down }
            { unrelayed }
            { for help }
        </>
    }
}

/// A service's own broker as its badge names it: its URL as the page shows outside text, or
/// "the in-page broker" for `inpage`.
fn own_broker(url: &str) -> std::borrow::Cow<'_, str> {
    if broker_bridge::url::is_in_page(url) {
        "the in-page broker".into()
    } else {
        visible(url)
    }
}
