//! The page's state as Yew's reducer holds it.

use std::ops::Deref;
use std::rc::Rc;

use eda_core::state::{Action, State};
use yew::prelude::*;

/// [`State`] for `use_reducer`: every [`Action`] goes through [`State::apply`], which is pure
/// and tested natively.
#[derive(Debug, Clone, PartialEq)]
pub struct Page(pub State);

impl Reducible for Page {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut page = Rc::unwrap_or_clone(self);
        page.0.apply(action);
        Rc::new(page)
    }
}

impl Deref for Page {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}
