//! How the saga is coordinated, and the failures a learner can inject: the style (with what it
//! trades), a payment rule, the saga's deadline. Each is also a link parameter.

use eda_core::services::{FlowField, FlowSettings, SagaStyle};
use yew::prelude::*;

use super::outside_text::sentence;
use super::{DraftField, SettingSelect};

#[derive(Properties, PartialEq)]
pub struct SagaSettingsProps {
    pub flow: FlowSettings,
    /// Why a saga or failure setting from the link or the page was not used.
    pub error: Option<String>,
    /// The style chosen, waiting for this many sagas in flight to end.
    #[prop_or_default]
    pub waiting: Option<(SagaStyle, usize)>,
    /// A field and the text typed or picked in it.
    pub on_change: Callback<(FlowField, String)>,
}

#[component]
pub fn SagaSettings(props: &SagaSettingsProps) -> Html {
    let on = |field: FlowField| props.on_change.reform(move |text: String| (field, text));
    let styles: Vec<(AttrValue, AttrValue)> = SagaStyle::ALL
        .iter()
        .map(|s| (AttrValue::from(s.value()), AttrValue::from(s.value())))
        .collect();
    let modes: Vec<(AttrValue, AttrValue)> = vec![
        (
            "approve".into(),
            "approve (unless a rule below declines)".into(),
        ),
        ("decline".into(), "decline every charge".into()),
    ];
    let flow = &props.flow;
    let mode = if flow.payment.decline_all {
        "decline"
    } else {
        "approve"
    };
    html! {
        <fieldset class="saga-settings" data-testid="saga-settings">
            <legend>{ "Saga and failures" }</legend>
            <SettingSelect id="saga-style" label="Coordination" choices={styles}
                selected={flow.saga.value()} error={None::<String>} on_change={on(FlowField::Saga)} />
            if let Some((style, open)) = props.waiting {
                <p class="hint" role="status" data-testid="style-waiting">
                    { format!("The services switch to {style} once the {open} saga{} in flight \
                               end{}: a saga keeps the rules it started under (drain, then switch).",
                              if open == 1 { "" } else { "s" }, if open == 1 { "s" } else { "" }) }
                </p>
            }
            <p class="trade-off" data-testid="saga-trade-off">{ flow.saga.trade_off() }</p>
            <SettingSelect id="payment-mode" label="Payment" choices={modes}
                selected={mode} error={None::<String>} on_change={on(FlowField::PaymentMode)} />
            <div class="setting">
                <DraftField id="decline-over" label="Decline orders over" kind="text"
                    placeholder="no limit" value={flow.payment.decline_over.map(|c| c.to_string()).unwrap_or_default()}
                    on_change={on(FlowField::DeclineOver)} />
                <DraftField id="decline-pct" label="Decline share (%)" min="0" max="100" step="10"
                    value={flow.payment.decline_percent.to_string()} on_change={on(FlowField::DeclinePercent)} />
                <DraftField id="saga-timeout" label="Saga deadline (ms)" min="100" max="60000" step="500"
                    value={flow.saga_timeout.as_millis().to_string()} on_change={on(FlowField::SagaTimeout)} />
            </div>
            if let Some(error) = &props.error {
                <p class="error" role="alert" data-testid="flow-error">{ sentence(error) }</p>
            }
        </fieldset>
    }
}
