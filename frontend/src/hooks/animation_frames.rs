//! A callback on every animation frame, for as long as a component asks for it.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::render::{request_animation_frame, AnimationFrame};
use yew::prelude::*;

/// The frame requested next; dropping it cancels the request.
type Next = Rc<RefCell<Option<AnimationFrame>>>;

/// Asks for the next frame, which calls `on_frame` and asks again.
fn schedule(next: &Next, on_frame: Callback<()>) {
    let again = next.clone();
    let frame = request_animation_frame(move |_| {
        on_frame.emit(());
        schedule(&again, on_frame);
    });
    *next.borrow_mut() = Some(frame);
}

/// Calls `on_frame` before every repaint while `active` is true; nothing otherwise. The
/// callback is the one given when `active` last became true.
#[hook]
pub fn use_animation_frames(active: bool, on_frame: Callback<()>) {
    use_effect_with(active, move |&active| {
        let next: Next = Rc::new(RefCell::new(None));
        if active {
            schedule(&next, on_frame);
        }
        // Cancels the frame asked for and breaks the cycle through `again`.
        move || drop(next.borrow_mut().take())
    });
}

/// Whether the learner asked the system for reduced motion.
pub fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|m| m.matches())
}
