//! One browser timer per run: when it fires, every wait of the run ends with a time-out.

use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Window;

use crate::progress::Shared;

pub struct Deadline {
    window: Window,
    handle: i32,
    _on_expiry: Closure<dyn FnMut()>,
}

impl Deadline {
    pub fn start(window: &Window, after: Duration, progress: &Shared) -> Result<Self, JsValue> {
        let weak = Rc::downgrade(progress);
        let on_expiry = Closure::<dyn FnMut()>::new(move || {
            if let Some(progress) = weak.upgrade() {
                let mut progress = progress.borrow_mut();
                progress.timed_out = true;
                progress.wake();
            }
        });
        let millis = i32::try_from(after.as_millis()).unwrap_or(i32::MAX);
        let handle = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            on_expiry.as_ref().unchecked_ref(),
            millis,
        )?;
        Ok(Self {
            window: window.clone(),
            handle,
            _on_expiry: on_expiry,
        })
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        self.window.clear_timeout_with_handle(self.handle);
    }
}
