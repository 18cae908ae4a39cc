//! The note under the *Broker* field after a switch that left orders open or messages not yet
//! acknowledged ([`eda_core::state::broker_switch`]). It goes once every order open at the
//! switch has ended, as the Orders panel tells ([`LeftInFlight::settled`]).

use eda_core::state::broker_switch::LeftInFlight;
use yew::prelude::*;

use crate::SharedTrace;

#[derive(Properties, PartialEq)]
pub struct BrokerSwitchNoteProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded: an order may have ended.
    pub version: u64,
    /// The note's words; `None`: nothing to say.
    pub note: Option<String>,
    /// What the switch left in flight, and when.
    pub left: Option<LeftInFlight>,
}

#[component]
pub fn BrokerSwitchNote(props: &BrokerSwitchNoteProps) -> Html {
    let Some(note) = &props.note else {
        return Html::default();
    };
    let settled = props
        .left
        .is_some_and(|left| left.settled(&props.trace.0.borrow().orders));
    if settled {
        return Html::default();
    }
    html! { <p class="note" role="status" data-testid="broker-switch-note">{ note.clone() }</p> }
}
