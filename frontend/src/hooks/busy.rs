//! Whether the page is busy (`data-busy`, [`crate::busy`]), for a component that draws less
//! while it is.

use yew::prelude::*;

/// True while the page is under a sustained load ([`crate::busy::is_busy`]); the component
/// renders again when the page turns busy or calm.
#[hook]
pub fn use_busy() -> bool {
    let busy = use_state_eq(crate::busy::is_busy);
    {
        let busy = busy.clone();
        use_effect_with((), move |_| {
            // Switched between the first render and this effect: taken now.
            busy.set(crate::busy::is_busy());
            let watch = crate::busy::watch(Callback::from(move |now| busy.set(now)));
            move || drop(watch)
        });
    }
    *busy
}
