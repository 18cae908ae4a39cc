//! Who each client says it is to the broker: a user name and password for the whole page, and
//! optionally one per service that wins over the page's (a broker enforcing least privilege,
//! such as `static/mosquitto-secure.conf`, has one user per service).
//!
//! Credentials are never part of the page's state, its link or its recordings: the frontend
//! keeps them in the tab's memory only, the CONNECT that carries them is redacted before it
//! reaches the trace, and a broker URL with `user:password@` is refused. A [`Login`]'s `Debug`
//! hides the password, so logging one cannot leak it.

use std::fmt;

use super::ServiceId;

/// A user name and password (MQTT §3.1.3.5 and §3.1.3.6).
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    username: String,
    password: String,
}

impl Login {
    /// The User Name sent in CONNECT.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The Password sent in CONNECT (as its UTF-8 bytes); `None` when empty: a user name alone.
    pub fn password(&self) -> Option<Vec<u8>> {
        (!self.password.is_empty()).then(|| self.password.as_bytes().to_vec())
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field(
                "username",
                &format_args!("hidden, {} bytes", self.username.len()),
            )
            .field(
                "password",
                &format_args!("hidden, {} bytes", self.password.len()),
            )
            .finish()
    }
}

/// Checks what was typed in a user name and password pair: `None` when both are empty (no
/// credentials), the user name trimmed.
///
/// # Errors
///
/// A sentence for the page: a password without a user name (MQTT 3.1.1 [MQTT-3.1.2-22] forbids
/// it, and no broker of this playground takes one), a user name or password over 65,535 bytes
/// (§1.5.3, §3.1.3.6), or a NUL character in the user name ([MQTT-1.5.3-2]).
pub fn check_login(username: &str, password: &str) -> Result<Option<Login>, String> {
    let username = username.trim();
    match (username.is_empty(), password.is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            return Err(
                "a password needs a user name here (MQTT 3.1.1 sends none without one; \
                 5.0 could, but the page asks for both so that a login works in either version)"
                    .into(),
            )
        }
        _ => {}
    }
    if username.len() > usize::from(u16::MAX) || password.len() > usize::from(u16::MAX) {
        return Err("a user name or password may have at most 65,535 bytes".into());
    }
    if username.contains('\0') {
        return Err("a user name may not contain the NUL character".into());
    }
    Ok(Some(Login {
        username: username.to_owned(),
        password: password.to_owned(),
    }))
}

/// The page's credentials and each service's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    page: Option<Login>,
    services: [Option<Login>; ServiceId::ALL.len()],
}

fn index(service: ServiceId) -> usize {
    ServiceId::ALL
        .iter()
        .position(|s| *s == service)
        .unwrap_or_default()
}

impl Credentials {
    /// No credentials: every client connects anonymously.
    pub fn none() -> Self {
        Self::default()
    }

    /// The same, with the page's login (used by every client that has none of its own,
    /// including the page's status monitor).
    pub fn with_page(mut self, login: Option<Login>) -> Self {
        self.page = login;
        self
    }

    /// The same, with `service`'s own login (`None`: it uses the page's).
    pub fn with_service(mut self, service: ServiceId, login: Option<Login>) -> Self {
        self.services[index(service)] = login;
        self
    }

    /// The page's login.
    pub fn page(&self) -> Option<&Login> {
        self.page.as_ref()
    }

    /// The login `service`'s clients (each of PaymentService's instances) connect with: its
    /// own, else the page's, else none.
    pub fn for_service(&self, service: ServiceId) -> Option<&Login> {
        self.services[index(service)]
            .as_ref()
            .or(self.page.as_ref())
    }

    /// `service`'s own login, without the page's.
    pub fn own(&self, service: ServiceId) -> Option<&Login> {
        self.services[index(service)].as_ref()
    }

    /// Whether any client signs in.
    pub fn in_use(&self) -> bool {
        self.page.is_some() || self.services.iter().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_s_own_login_wins_over_the_page_s() {
        let page = check_login("watcher", "w").unwrap();
        let pay = check_login(" PaymentService ", "p").unwrap();
        let credentials = Credentials::none()
            .with_page(page)
            .with_service(ServiceId::Payment, pay);
        assert!(credentials.in_use());
        let user = |s| credentials.for_service(s).map(Login::username);
        assert_eq!(user(ServiceId::Payment), Some("PaymentService"));
        assert_eq!(user(ServiceId::Order), Some("watcher"));
        assert_eq!(credentials.own(ServiceId::Order), None);
        assert!(!Credentials::none().in_use());
        assert_eq!(Credentials::none().for_service(ServiceId::Query), None);
    }

    #[test]
    fn what_was_typed_is_checked_and_never_shown_by_debug() {
        assert_eq!(check_login(" ", ""), Ok(None));
        assert!(check_login("", "secret").unwrap_err().contains("user name"));
        assert!(check_login("a\0b", "x").is_err());
        assert!(check_login(&"u".repeat(70_000), "").is_err());
        let login = check_login("ada", "hunter2").unwrap().unwrap();
        assert_eq!(login.password(), Some(b"hunter2".to_vec()));
        assert_eq!(check_login("ada", "").unwrap().unwrap().password(), None);
        let shown = format!("{:?}", Credentials::none().with_page(Some(login)));
        assert!(
            !shown.contains("hunter2") && !shown.contains("ada"),
            "{shown}"
        );
    }
}
