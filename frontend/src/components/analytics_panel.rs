//! The Analytics panel: AnalyticsService (the seed's fifth service) over the page's copy of
//! OrderService's event store and the trace's packets ([`eda_core::analytics::Analytics`]):
//! headline figures, three small charts each with a sentence and a table for screen readers,
//! and the figures as CSV. Redrawn whenever packets were recorded (every append publishes one),
//! so it follows the orders live. Everything shown is computed in the core; this only draws.

use eda_core::analytics::charts::{self, Chart};
use eda_core::analytics::Analytics;
use yew::prelude::*;

use super::download::download;
use super::outside_text::outside;
use crate::SharedTrace;

#[derive(Properties, PartialEq)]
pub struct AnalyticsPanelProps {
    pub trace: SharedTrace,
    /// Changes whenever packets were recorded.
    pub version: u64,
}

#[derive(Properties, PartialEq)]
struct ChartFigureProps {
    /// For selectors and ids: `per-minute`, `reasons`, `time-to-end`.
    name: &'static str,
    title: &'static str,
    chart: Chart,
}

/// One chart: its caption, the drawing (an image named by its summary) and the same numbers
/// as a table only screen readers see. With nothing to draw, the summary says why.
#[component]
fn ChartFigure(props: &ChartFigureProps) -> Html {
    let chart = &props.chart;
    let title_id = format!("analytics-{}-title", props.name);
    let lines = chart.lines.iter().map(|l| {
        html! {
            <line class={l.kind.class()} x1={l.x1.to_string()} y1={l.y1.to_string()}
                x2={l.x2.to_string()} y2={l.y2.to_string()} />
        }
    });
    let bars = chart.bars.iter().map(|b| {
        html! {
            <rect class="bar" x={b.x.to_string()} y={b.y.to_string()} width={b.width.to_string()}
                height={b.height.to_string()} data-value={b.value.to_string()}>
                <title>{ b.tooltip.clone() }</title>
            </rect>
        }
    });
    let texts = chart.texts.iter().map(|t| {
        html! {
            <text class={t.class} x={t.x.to_string()} y={t.y.to_string()} text-anchor={t.anchor.svg()}>
                { t.text.clone() }
            </text>
        }
    });
    let headings = chart
        .table
        .headings
        .iter()
        .map(|h| html! { <th scope="col">{ *h }</th> });
    // Cells may hold a reason from outside: each is shown as such.
    let rows = chart.table.rows.iter().map(|row| {
        html! { <tr>{ for row.iter().map(|cell| html! { <td>{ outside(cell) }</td> }) }</tr> }
    });
    html! {
        <figure class="chart" data-testid={format!("analytics-chart-{}", props.name)}>
            <figcaption>{ props.title }</figcaption>
            if chart.bars.is_empty() {
                <p class="empty" data-testid="analytics-chart-empty">{ chart.summary.clone() }</p>
            } else {
                <svg xmlns="http://www.w3.org/2000/svg" class={classes!("chart-svg", props.name)}
                    viewBox={format!("0 0 {} {}", chart.width, chart.height)} role="img"
                    aria-label={chart.summary.clone()} data-testid="analytics-svg">
                    <title id={title_id}>{ chart.summary.clone() }</title>
                    { for lines }{ for bars }{ for texts }
                </svg>
                if let Some(note) = &chart.note {
                    <p class="muted" data-testid="analytics-chart-note">{ note.clone() }</p>
                }
                <table class="visually-hidden" data-testid="analytics-table">
                    <caption>{ chart.table.caption.clone() }</caption>
                    <thead><tr>{ for headings }</tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            }
        </figure>
    }
}

#[component]
pub fn AnalyticsPanel(props: &AnalyticsPanelProps) -> Html {
    let export_error = use_state(|| None::<String>);
    let analytics = Analytics::of(&props.trace.0.borrow());
    let export = {
        let (trace, export_error) = (props.trace.clone(), export_error.clone());
        Callback::from(move |_: MouseEvent| {
            let csv = Analytics::of(&trace.0.borrow()).to_csv();
            let outcome = download("analytics.csv", "text/csv", &csv);
            export_error.set(
                outcome
                    .err()
                    .map(|_| "The browser refused the download.".to_owned()),
            );
        })
    };
    let figures = analytics.headlines().into_iter().map(|h| {
        html! {
            <div data-testid={format!("analytics-{}", h.key)} data-value={h.value}>
                <dt>{ h.label }</dt><dd>{ h.shown }</dd>
            </div>
        }
    });
    let f = &analytics.figures;
    html! {
        <section class="card analytics" aria-labelledby="analytics-title" data-testid="analytics-panel">
            <h2 id="analytics-title">{ "Analytics" }</h2>
            <p class="muted">
                { "AnalyticsService's figures, computed from OrderService's event store (every event, \
                   as it appends) and, for the broker round trip, from the packets: each QoS 1 or 2 \
                   PUBLISH of the page's clients to its PUBACK or PUBREC." }
            </p>
            <dl class="analytics-figures">{ for figures }</dl>
            <div class="charts">
                <ChartFigure name="per-minute" title="Orders per minute" chart={charts::orders_per_minute(f)} />
                <ChartFigure name="reasons" title="Cancellations by reason" chart={charts::cancellations_by_reason(f)} />
                <ChartFigure name="time-to-end" title="Time from order to end" chart={charts::time_to_end(f)} />
            </div>
            <button type="button" class="small" data-testid="analytics-export" onclick={export}>{ "Export CSV" }</button>
            if let Some(error) = &*export_error {
                <p class="error" role="alert">{ error.clone() }</p>
            }
        </section>
    }
}
