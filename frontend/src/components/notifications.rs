//! What NotificationService "sent", in the order it sent it. A customer id from outside sits
//! in its own `<bdi>`, its invisible characters named (see [`super::outside_text`]).

use std::collections::VecDeque;

use yew::prelude::*;

use super::outside_text::sentence;

#[derive(Properties, PartialEq)]
pub struct NotificationsProps {
    pub items: VecDeque<String>,
    pub dropped: usize,
}

#[component]
pub fn Notifications(props: &NotificationsProps) -> Html {
    html! {
        <section class="card notifications" aria-labelledby="notifications-title">
            <h2 id="notifications-title">{ "Notifications" }</h2>
            if props.items.is_empty() {
                <p class="empty">{ "None yet: NotificationService reports every event it receives here." }</p>
            }
            <ul aria-live="polite">
                // Keyed by number since the first, so a new one is one insertion.
                { for props.items.iter().enumerate().map(|(i, text)| html! {
                    <li key={props.dropped + i} data-testid="notification">{ sentence(text) }</li>
                }) }
            </ul>
            if props.dropped > 0 {
                <p class="dropped" data-testid="notifications-dropped" data-dropped={props.dropped.to_string()}>
                    { format!("{} older notifications not shown.", props.dropped) }</p>
            }
        </section>
    }
}
