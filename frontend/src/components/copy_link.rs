//! "Copy link": the page's address holds every setting changed in the page, so the copied link
//! opens the page set up the same way.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CopyLinkProps {
    /// The link was copied (the confirmation stays).
    pub copied: bool,
    pub on_copy: Callback<MouseEvent>,
}

#[component]
pub fn CopyLink(props: &CopyLinkProps) -> Html {
    html! {
        <div class="setting">
            <button type="button" onclick={props.on_copy.clone()} data-testid="copy-link">{ "Copy link" }</button>
            if props.copied {
                <span role="status" data-testid="link-copied">{ "Link copied: it opens the page with these settings." }</span>
            }
        </div>
    }
}
