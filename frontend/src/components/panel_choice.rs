//! What the picture shows: everything, or one view at full width (`?view=` in the link).

use yew::prelude::*;

use eda_core::state::Panel;

#[derive(Properties, PartialEq)]
pub struct PanelChoiceProps {
    pub selected: Panel,
    pub on_choose: Callback<Panel>,
}

#[component]
pub fn PanelChoice(props: &PanelChoiceProps) -> Html {
    html! {
        <div class="panel-choice" role="group" aria-label="Show">
            <span class="label" aria-hidden="true">{ "Show:" }</span>
            { for Panel::ALL.into_iter().map(|panel| {
                let onclick = props.on_choose.reform(move |_: MouseEvent| panel);
                let pressed = props.selected == panel;
                html! {
                    <button type="button" {onclick} aria-pressed={pressed.to_string()}
                        class={classes!(pressed.then_some("chosen"))}
                        data-testid={format!("show-{}", panel.value())}>{ panel.title() }</button>
                }
            }) }
        </div>
    }
}
