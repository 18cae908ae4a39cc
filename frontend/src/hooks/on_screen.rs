//! Whether a part of the page is on screen, so a part scrolled away can redraw less often: at
//! 100 orders a second every redraw of a diagram nobody sees is time taken from the one in view.

use gloo::events::EventListener;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};
use yew::prelude::*;

/// True while the element behind `node` is on screen or within a quarter screen of it (true
/// until the browser first says otherwise).
///
/// `drawn`: whether the caller's view draws the element `node` is bound to in this render (a
/// part drawn only later, or only for some panel choices). The element is watched from the
/// render that draws it: each time `drawn` turns true it is watched anew, since a part drawn
/// again is a new element. While nothing is watched the answer stays as it was (true at first).
#[hook]
pub fn use_on_screen(node: NodeRef, drawn: bool) -> bool {
    let on_screen = use_state_eq(|| true);
    {
        let on_screen = on_screen.clone();
        use_effect_with((node, drawn), move |(node, _)| {
            let callback = Closure::<dyn Fn(js_sys::Array)>::new(move |entries: js_sys::Array| {
                let last = entries
                    .iter()
                    .filter_map(|e| e.dyn_into::<IntersectionObserverEntry>().ok())
                    .next_back();
                if let Some(entry) = last {
                    on_screen.set(entry.is_intersecting());
                }
            });
            let init = IntersectionObserverInit::new();
            init.set_root_margin("25% 0px");
            let observer =
                IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init)
                    .ok();
            if let (Some(observer), Some(element)) = (&observer, node.cast::<web_sys::Element>()) {
                observer.observe(&element);
            }
            move || {
                if let Some(observer) = observer {
                    observer.disconnect();
                }
                drop(callback);
            }
        });
    }
    *on_screen
}

/// How often a part off screen is still drawn again, when what it shows has changed.
pub const OFF_SCREEN_EVERY_MS: f64 = 1000.0;

/// The props to draw a part with: `current` while it is on screen; off screen, those it last
/// had, brought up to date at most once every [`OFF_SCREEN_EVERY_MS`] (a timer makes sure the
/// last change is drawn), so a part nobody sees costs a redraw a second, not twenty.
#[hook]
pub fn use_while_on_screen<T>(on_screen: bool, current: T) -> T
where
    T: Clone + PartialEq + 'static,
{
    let kept = use_mut_ref(|| None::<(T, f64)>);
    let timer_set = use_mut_ref(|| false);
    let redraw = use_force_update();
    let now = crate::clock::unix_millis();
    let mut kept = kept.borrow_mut();
    let since = match &*kept {
        Some((value, at)) if !on_screen && *value != current => now - at,
        _ => f64::INFINITY,
    };
    if since >= OFF_SCREEN_EVERY_MS {
        *kept = Some((current.clone(), now));
        return current;
    }
    if !*timer_set.borrow() {
        *timer_set.borrow_mut() = true;
        let timer_set = timer_set.clone();
        let wait = (OFF_SCREEN_EVERY_MS - since).max(0.0) as u32;
        gloo::timers::callback::Timeout::new(wait, move || {
            *timer_set.borrow_mut() = false;
            redraw.force_update();
        })
        .forget();
    }
    kept.as_ref().map_or(current, |(value, _)| value.clone())
}

/// Calls `on_resize` whenever the browser window changes size, for as long as the component
/// lives (the callback given at its first render).
#[hook]
pub fn use_window_resize<F>(on_resize: F)
where
    F: Fn() + 'static,
{
    let on_resize = std::cell::RefCell::new(Some(on_resize));
    use_effect_with((), move |_| {
        let handler = on_resize.borrow_mut().take();
        // Removed from the window when dropped.
        let listener = web_sys::window().map(|window| {
            EventListener::new(&window, "resize", move |_| {
                if let Some(handler) = &handler {
                    handler()
                }
            })
        });
        move || drop(listener)
    });
}

/// Whether the page below its top part is drawn yet: `false` in the first render, `true` from a
/// zero-delay timer queued after it, one task later (and in every render after that).
///
/// Why: the first render is one long task (~40 ms of script on a 2-vCPU machine, more under
/// load), and what it waits for is the services' answers, shown by the badges at the top of
/// the page ([`crate::boot::after_first_answers`]). Drawing the header and the broker's section
/// first puts the badges, and what a first screen shows, on screen sooner (docs/benchmarks.md,
/// "Start-up"); the rest follows one task later, below, so nothing already drawn moves.
#[hook]
pub fn use_after_first_render() -> bool {
    let after = use_state_eq(|| false);
    {
        let after = after.clone();
        use_effect_with((), move |_| {
            let timer = gloo::timers::callback::Timeout::new(0, move || after.set(true));
            // Dropped with the page (a test's unmount) before it fires: it never does.
            move || drop(timer)
        });
    }
    *after
}

/// Once the page below its top part is drawn (`below` turns true), scrolls the element the
/// address's `#fragment` names into view: the browser looked for it when the document loaded,
/// before the page drew it, and so stayed at the top (a shared link to `#sequence-title` or
/// `#orders-title`). Nothing without a fragment, or when it names no element.
#[hook]
pub fn use_fragment_target(below: bool) {
    use_effect_with(below, |below| {
        if *below {
            let window = web_sys::window();
            let hash = window.as_ref().and_then(|w| w.location().hash().ok());
            let id = hash
                .as_deref()
                .and_then(|h| h.strip_prefix('#'))
                .unwrap_or("");
            let target = (!id.is_empty())
                .then(|| window.and_then(|w| w.document()))
                .flatten()
                .and_then(|d| d.get_element_by_id(&decode_fragment(id)));
            if let Some(target) = target {
                target.scroll_into_view();
            }
        }
    });
}

/// A fragment as the address bar holds it (percent-encoded) made an element id again.
fn decode_fragment(id: &str) -> String {
    js_sys::decode_uri_component(id)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| id.to_owned())
}
