//! The flow diagram's moving dots: one per PUBLISH packet the playback shows, placed on every
//! frame from the view's clock while any is travelling, so speed, pause and step move them
//! exactly. Its own component, so a frame redraws the dots and nothing else.

use yew::prelude::*;

use crate::hooks::{prefers_reduced_motion, use_animation_frames};
use crate::SharedTrace;
use eda_core::trace::flow::{flow_layout, Orientation, Pulse, PULSE_WINDOW};

#[derive(Properties, PartialEq)]
pub struct FlowPulsesProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded or the playback changed.
    pub version: u64,
    pub orientation: Orientation,
    /// Moves the dots on every frame; false off screen.
    #[prop_or(true)]
    pub active: bool,
}

#[component]
pub fn FlowPulses(props: &FlowPulsesProps) -> Html {
    let now = crate::clock::now();
    // Which dots to draw changes only when packets are recorded or the playback changes (both
    // change `version`); between those, a frame only moves them and drops those arrived. So the
    // packets are looked through once per version, not on every frame (issue 14: at 100 orders
    // a second the window holds ~2000 packets). The trace remembers the choice: a dot drawn
    // stays until its trip ends (`flow::choose`).
    let chosen = use_memo(props.version, {
        let trace = props.trace.clone();
        move |_| match trace.0.try_borrow_mut() {
            Ok(mut trace) => trace.choose_pulses(now).0.shown,
            Err(_) => trace.0.borrow().pulses_at(now).0.shown,
        }
    });
    let (view_now, paused, saga) = {
        let trace = props.trace.0.borrow();
        let view_now = trace.playback.view_now(now);
        (
            view_now,
            trace.playback.is_paused(),
            trace.saga_at(view_now),
        )
    };
    let shown: Vec<&Pulse> = chosen
        .iter()
        .filter(|pulse| pulse.at <= view_now && view_now - pulse.at <= PULSE_WINDOW)
        .collect();
    // Asked again with each version: the learner may change it while the page is open.
    let reduced_motion = *use_memo(props.version, |_| prefers_reduced_motion());
    let moving = props.active && !paused && !shown.is_empty();
    let redraw = use_force_update();
    // While the page is busy (`crate::busy`: a sustained load, such as 100 orders a second),
    // the dots move on every other frame: each move redraws every dot, and at that load the
    // frames they would take are the page's.
    let frames = use_mut_ref(|| 0_u64);
    use_animation_frames(
        moving,
        Callback::from(move |_| {
            let mut frames = frames.borrow_mut();
            *frames += 1;
            if !crate::busy::is_busy() || *frames % 2 == 0 {
                redraw.force_update();
            }
        }),
    );

    let layout = use_memo((props.orientation, saga), |&(orientation, saga)| {
        flow_layout(orientation, saga)
    });
    let dots = shown.into_iter().filter_map(|pulse| {
        let line = layout.line(pulse.edge)?;
        let travelled = pulse.travelled(view_now);
        // Without motion a dot waits at the head of its edge instead of travelling there.
        let at = if reduced_motion { 1.0 } else { travelled };
        let (x, y) = (
            line.x1 + (line.x2 - line.x1) * at,
            line.y1 + (line.y2 - line.y1) * at,
        );
        // Fades over the last tenth of its trip. Whole pixels and coarse fractions: an
        // attribute that did not change costs nothing to draw again.
        let opacity = ((1.0 - travelled) * 10.0).clamp(0.0, 1.0);
        Some(html! {
            <circle key={pulse.key.id()} class={classes!("flow-pulse", pulse.edge.topic_class(), pulse.mark.map(|m| m.word()))}
                data-testid="flow-pulse" data-seq={pulse.key.seq().map(|s| s.to_string())}
                data-edge={pulse.edge.id()} data-order={pulse.order_id.map(|id| id.to_string())}
                data-travelled={format!("{travelled:.1}")}
                data-motion={if reduced_motion { "arrive" } else { "travel" }}
                r="6" cx={format!("{x:.0}")} cy={format!("{y:.0}")} opacity={format!("{opacity:.1}")} />
        })
    });
    html! { <g class="flow-pulses" aria-hidden="true">{ for dots }</g> }
}
