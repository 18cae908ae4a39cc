//! The warning that another page's services are online on this broker (every order processed
//! twice). It comes unasked, so it floats over the foot of the window instead of moving the page;
//! on a phone it covers a third of the window, so *Hide* takes it away until another page's
//! services come online ([`shows_warning`]).

use std::collections::BTreeSet;

use eda_core::domain::namespace::Namespace;
use eda_core::state::{other_pages_warning, shows_warning};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct OtherPagesAlertProps {
    /// The other pages' service client ids online on the page's status topics.
    pub others: BTreeSet<String>,
    pub namespace: Namespace,
}

/// Nothing while no other page is online, or while every one online was hidden.
#[component]
pub fn OtherPagesAlert(props: &OtherPagesAlertProps) -> Html {
    // The client ids online when the reader pressed Hide: kept while the page is open.
    let dismissed = use_state(BTreeSet::<String>::new);
    if !shows_warning(&props.others, &dismissed) {
        return html! {};
    }
    let on_hide = {
        let dismissed = dismissed.clone();
        let others = props.others.clone();
        Callback::from(move |_: MouseEvent| {
            let mut hidden = (*dismissed).clone();
            hidden.extend(others.iter().cloned());
            dismissed.set(hidden);
        })
    };
    html! {
        <div class="error page-alert" role="alert" data-testid="other-playground">
            <p>{ other_pages_warning(&props.others, &props.namespace) }</p>
            <button type="button" data-testid="hide-other-playground" onclick={on_hide}
                title="Hide this warning until another page's services come online">{ "Hide" }</button>
        </div>
    }
}
