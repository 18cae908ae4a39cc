//! Signing in to the broker: a user name and password for the whole page and, below, one per
//! service that wins over it; "Try again" for clients the broker refused for good; and, while
//! credentials are in use, the least-privilege demonstration (a publish outside an ACL).
//!
//! The fields are not controlled (no `value`): what is typed stays in the inputs and in the
//! tab's memory, and never goes into the page's state, its link or its recordings.

use eda_core::services::acl::OUTSIDE_ACL;
use eda_core::services::credentials::{check_login, Credentials};
use eda_core::services::ServiceId;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::outside_text::sentence;

#[derive(Properties, PartialEq)]
pub struct CredentialsPanelProps {
    /// Whether any client signs in.
    pub in_use: bool,
    /// The services the broker refused for good, and why (`None`: none is waiting).
    pub refused: Option<String>,
    /// Whether that refusal asks for other credentials
    /// ([`broker_bridge::ConnectionError::asks_for_credentials`]): only then does the form open.
    pub ask_credentials: bool,
    /// What became of the least-privilege demonstration.
    pub probe: Option<String>,
    pub on_apply: Callback<Credentials>,
    pub on_retry: Callback<()>,
    pub on_probe: Callback<()>,
}

/// A user name and password pair of inputs: `user-<key>` and `password-<key>`.
#[derive(Clone, PartialEq)]
struct Pair {
    key: &'static str,
    label: String,
    user: NodeRef,
    password: NodeRef,
}

fn pairs() -> Vec<Pair> {
    let page = ("page", "Whole page (and the status monitor)".to_owned());
    std::iter::once(page)
        .chain(ServiceId::ALL.map(|s| (s.slug(), s.name().to_owned())))
        .map(|(key, label)| Pair {
            key,
            label,
            user: NodeRef::default(),
            password: NodeRef::default(),
        })
        .collect()
}

fn value(node: &NodeRef) -> String {
    node.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

#[component]
pub fn CredentialsPanel(props: &CredentialsPanelProps) -> Html {
    let pairs = use_memo((), |_| pairs());
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (pairs, error, on_apply) = (pairs.clone(), error.clone(), props.on_apply.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut credentials = Credentials::none();
            for pair in pairs.iter() {
                let login = match check_login(&value(&pair.user), &value(&pair.password)) {
                    Ok(login) => login,
                    Err(why) => {
                        error.set(Some(format!("{}: {why}", pair.label)));
                        return;
                    }
                };
                credentials = match ServiceId::ALL.into_iter().find(|s| s.slug() == pair.key) {
                    Some(service) => credentials.with_service(service, login),
                    None => credentials.with_page(login),
                };
            }
            error.set(None);
            on_apply.emit(credentials);
        })
    };
    let rows = pairs.iter().map(|pair| {
        let (user_id, password_id) = (
            format!("user-{}", pair.key),
            format!("password-{}", pair.key),
        );
        html! {
            <fieldset key={pair.key} class="login" data-testid={format!("login-{}", pair.key)}>
                <legend>{ pair.label.clone() }</legend>
                <label for={user_id.clone()}>{ "User name" }</label>
                <input id={user_id} type="text" ref={pair.user.clone()}
                    autocomplete="off" spellcheck="false" />
                <label for={password_id.clone()}>{ "Password" }</label>
                <input id={password_id} type="password" ref={pair.password.clone()}
                    autocomplete="off" />
            </fieldset>
        }
    });
    let on_retry = props.on_retry.reform(|_: MouseEvent| ());
    let on_probe = props.on_probe.reform(|_: MouseEvent| ());
    let (service, topic) = OUTSIDE_ACL;
    html! {
        <section class="credentials" aria-label="Sign in to the broker">
            <details open={props.in_use || props.ask_credentials}>
                <summary>{ if props.in_use { "Signed in to the broker" } else { "Sign in to the broker (user name and password)" } }</summary>
                <form data-testid="credentials-form" {onsubmit}>
                    <p class="hint">
                        { "Kept in this tab's memory only: never in the link, a recording, the event \
                           logs or the packet inspector (which shows \"hidden, N bytes\"); a reload \
                           forgets them. A service's own user name wins over the page's. With " }
                        <code>{ "./scripts/play --secure" }</code>{ " each service has its own user." }
                    </p>
                    { for rows }
                    <button type="submit" data-testid="apply-credentials">{ "Sign in" }</button>
                    if let Some(error) = &*error {
                        <p class="error" role="alert" data-testid="credentials-error">{ sentence(error) }</p>
                    }
                </form>
            </details>
            if let Some(refused) = &props.refused {
                <div class="refused" role="alert" data-testid="refused-for-good">
                    <p>{ sentence(refused) }</p>
                    <button type="button" data-testid="try-again" onclick={on_retry}>{ "Try again" }</button>
                </div>
            }
            if props.in_use {
                <div class="least-privilege" data-testid="least-privilege">
                    <p>{ format!("Least privilege: each service's user may publish only its own topics. \
                                  Try one outside {service}'s:") }</p>
                    <button type="button" data-testid="publish-outside-acl" onclick={on_probe}>
                        { format!("{service} publishes {topic}") }
                    </button>
                    if let Some(probe) = &props.probe {
                        <p role="status" data-testid="acl-probe">{ sentence(probe) }</p>
                    }
                </div>
            }
        </section>
    }
}
