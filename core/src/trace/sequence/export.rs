//! The current view of the sequence diagram as files to keep: Mermaid text (paste it into a
//! Markdown document) and a standalone SVG drawing.

use super::rows::{SequenceLayout, HEAD_HEIGHT, HEAD_TOP, HEAD_WIDTH, TIME_GUTTER};
use super::{relative_ms, Arrow, Lifeline};
use crate::trace::escape;

/// A Mermaid `sequenceDiagram` with every lifeline ([`Lifeline::ALL`]), in the seed's order, and one message
/// per arrow: `->>` for requests and messages, `-->>` for answers and handshake steps. Each
/// message starts with its time since the first arrow.
pub fn to_mermaid(arrows: &[Arrow]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    for lifeline in Lifeline::ALL {
        let (ident, name) = (lifeline.ident(), lifeline.name());
        if ident == name {
            out.push_str(&format!("    participant {ident}\n"));
        } else {
            out.push_str(&format!("    participant {ident} as {name}\n"));
        }
    }
    for (arrow, ms) in arrows.iter().zip(relative_ms(arrows)) {
        let line = if arrow.kind.is_reply() { "-->>" } else { "->>" };
        let text = escape::mermaid(&format!("[+{ms} ms] {}", arrow.label));
        out.push_str(&format!(
            "    {}{line}{}: {text}\n",
            arrow.from.ident(),
            arrow.to.ident()
        ));
    }
    out
}

const FONT: &str = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

/// A standalone SVG document of `layout`. Every piece of text is escaped, so a topic such as
/// `<script>` is drawn, never run.
pub fn to_svg(layout: &SequenceLayout) -> String {
    let (w, h) = (layout.width, layout.height);
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" {FONT} font-size=\"12\">\n"
    ));
    out.push_str("<title>Sequence diagram of the order flow</title>\n");
    out.push_str(
        "<defs><marker id=\"arrowhead\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#333\"/></marker></defs>\n",
    );
    out.push_str(&format!(
        "<rect x=\"0\" y=\"0\" width=\"{w:.0}\" height=\"{h:.0}\" fill=\"#fff\"/>\n"
    ));
    for (lifeline, x) in &layout.lifelines {
        out.push_str(&format!(
            "<g class=\"lifeline\" data-lifeline=\"{ident}\">\
             <line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#999\" \
             stroke-dasharray=\"4 4\"/>\
             <rect x=\"{left:.1}\" y=\"{HEAD_TOP:.1}\" width=\"{HEAD_WIDTH:.1}\" \
             height=\"{HEAD_HEIGHT:.1}\" rx=\"4\" fill=\"#eef3fb\" stroke=\"#4a6fa5\"/>\
             <text x=\"{x:.1}\" y=\"{text_y:.1}\" text-anchor=\"middle\" font-weight=\"600\" font-size=\"11\">\
             {name}</text></g>\n",
            ident = lifeline.ident(),
            top = layout.lifeline_top,
            bottom = layout.lifeline_bottom,
            left = x - HEAD_WIDTH / 2.0,
            text_y = HEAD_TOP + HEAD_HEIGHT / 2.0 + 4.0,
            name = escape::xml(lifeline.name()),
        ));
    }
    for arrow in &layout.arrows {
        let seq = arrow
            .packet_seq
            .map(|seq| format!(" data-seq=\"{seq}\""))
            .unwrap_or_default();
        // Marked in colour and in the label's symbol.
        let (mark_class, stroke) = match arrow.mark {
            Some(mark) => (
                format!(" {}", mark.word()),
                match mark {
                    crate::trace::packet::Mark::Failure => "#b00020",
                    crate::trace::packet::Mark::Compensation => "#8a5a00",
                },
            ),
            None => (String::new(), "#333"),
        };
        let dash = if arrow.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        // Zoomed far out, a row between two labelled ones keeps its label as a tooltip only.
        let texts = if arrow.labelled {
            format!(
                "<text x=\"{mid:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\">{label}</text>\
                 <text x=\"{time_x:.1}\" y=\"{time_y:.1}\" text-anchor=\"end\" fill=\"#777\" \
                 font-size=\"11\">{time}</text>",
                mid = (arrow.x1 + arrow.x2) / 2.0,
                label_y = arrow.y - 5.0,
                time_x = TIME_GUTTER - 8.0,
                time_y = arrow.y + 4.0,
                label = escape::xml(&arrow.label),
                time = escape::xml(&arrow.time_label),
            )
        } else {
            format!("<title>{}</title>", escape::xml(&arrow.label))
        };
        out.push_str(&format!(
            "<g class=\"arrow{mark_class}\"{seq}>\
             <line x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" stroke=\"{stroke}\"{dash} \
             marker-end=\"url(#arrowhead)\"/>{texts}</g>\n",
            x1 = arrow.x1,
            x2 = arrow.x2,
            y = arrow.y,
        ));
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests;
