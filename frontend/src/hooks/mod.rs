//! The page's hooks: effects a component reaches through a `use_…()` call.

mod animation_frames;
mod busy;
mod on_screen;
mod page;
mod playground;
mod reload_scroll;

pub use animation_frames::{prefers_reduced_motion, use_animation_frames};
pub use busy::use_busy;
pub use on_screen::{
    use_after_first_render, use_fragment_target, use_on_screen, use_while_on_screen,
    use_window_resize,
};
pub use page::Page;
pub use playground::{use_playground, Playground, BURST};
pub use reload_scroll::use_reload_scroll;
