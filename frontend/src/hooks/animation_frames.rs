//! A callback on every animation frame, for as long as a component asks for it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

type Frame = Rc<RefCell<Option<Closure<dyn FnMut()>>>>;

fn request(window: &web_sys::Window, frame: &Frame) -> Option<i32> {
    let frame = frame.borrow();
    window
        .request_animation_frame(frame.as_ref()?.as_ref().unchecked_ref())
        .ok()
}

/// Calls `on_frame` before every repaint while `active` is true; nothing otherwise. The
/// callback is the one given when `active` last became true.
#[hook]
pub fn use_animation_frames(active: bool, on_frame: Callback<()>) {
    use_effect_with(active, move |&active| {
        let frame: Frame = Rc::new(RefCell::new(None));
        let id = Rc::new(Cell::new(None::<i32>));
        let window = web_sys::window();
        if let (true, Some(window)) = (active, window.clone()) {
            let (next, id_in) = (frame.clone(), id.clone());
            let window_in = window.clone();
            *frame.borrow_mut() = Some(Closure::new(move || {
                on_frame.emit(());
                id_in.set(request(&window_in, &next));
            }));
            id.set(request(&window, &frame));
        }
        move || {
            if let (Some(window), Some(id)) = (window, id.get()) {
                let _ = window.cancel_animation_frame(id);
            }
            // Breaks the closure's cycle through `next`; wasm-bindgen defers freeing it if
            // this runs during the frame's own call.
            frame.borrow_mut().take();
        }
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
