//! A panic in the page's Rust code stops its WebAssembly for good (`panic = "abort"`): the
//! services, the diagrams and every button go dead at once. Said on the page, not only in the
//! developer console, so a learner knows to reload rather than wait.

/// The `data-testid` of the notice.
pub const TEST_ID: &str = "internal-error";

/// Installs the panic hook: the console gets the panic with its stack (as Yew's default hook
/// prints it), and the page [`show`]s the notice. Call before rendering (Yew keeps a hook set
/// this way).
pub fn install() {
    yew::set_custom_panic_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show(&info.to_string());
    }));
}

/// Adds the notice, once, at the foot of the window: plain DOM, since Yew stops with the page's
/// code. `what` is the panic's own text (its file, line and message), cut to 300 characters.
pub fn show(what: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document
        .query_selector(&format!("[data-testid=\"{TEST_ID}\"]"))
        .ok()
        .flatten()
        .is_some()
    {
        return;
    }
    let (Ok(notice), Some(body)) = (document.create_element("div"), document.body()) else {
        return;
    };
    let cut: String = what.chars().take(300).collect();
    let ellipsis = if cut.len() < what.len() { "…" } else { "" };
    notice.set_class_name("error page-alert");
    let _ = notice.set_attribute("role", "alert");
    let _ = notice.set_attribute("data-testid", TEST_ID);
    notice.set_text_content(Some(&format!(
        "The page stopped: an internal error in its code ({cut}{ellipsis}). Nothing on it \
         works any more, and the services answer nothing (the broker drops them once their \
         keep-alive runs out). Reload the page: what this tab's database keeps (OrderService's orders, the participants' memory, the dead \
         letters and the tries waiting) comes back, and the sagas resume. The developer \
         console has the details; please report them."
    )));
    let _ = body.append_child(&notice);
}
