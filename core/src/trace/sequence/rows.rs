//! Where everything of the sequence diagram goes, in SVG user units: one computation for the
//! diagram on the page and for the exported SVG file, so the two always agree.
//!
//! Columns are fixed; each arrow gets its own row, in the order of [`super::arrows`], so time
//! runs downwards. `zoom` scales the rows only.

use super::{relative_ms, Arrow, Lifeline};

/// Distance between two lifelines: seven of them (the seed's six and QueryService) and the time
/// gutter make 1114 units, which fit the page's widest column (1200 px less its margins and the
/// card's padding, about 1130 px), so no lifeline is cut off on a wide screen.
pub const COLUMN_WIDTH: f64 = 150.0;
/// Left of the first lifeline: room for the time labels.
pub const TIME_GUTTER: f64 = 64.0;
/// The boxes naming each lifeline at the top.
pub const HEAD_TOP: f64 = 10.0;
pub const HEAD_WIDTH: f64 = 150.0;
pub const HEAD_HEIGHT: f64 = 32.0;
/// The strip of lifeline heads the page keeps in view at the top of the scrolled diagram:
/// the heads and a little room below them.
pub const HEADS_STRIP: f64 = HEAD_TOP + HEAD_HEIGHT + 6.0;
/// Between rows at zoom 1.
pub const ROW_HEIGHT: f64 = 28.0;
pub const MIN_ZOOM: f64 = 0.25;
pub const MAX_ZOOM: f64 = 4.0;
const FIRST_ROW_GAP: f64 = 30.0;
const BOTTOM_MARGIN: f64 = 20.0;

#[derive(Debug, Clone, PartialEq)]
pub struct SequenceLayout {
    pub width: f64,
    pub height: f64,
    /// Each lifeline and its x, in the seed's order.
    pub lifelines: Vec<(Lifeline, f64)>,
    /// Where the lifelines' vertical lines start (below the heads) and end.
    pub lifeline_top: f64,
    pub lifeline_bottom: f64,
    pub arrows: Vec<ArrowShape>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArrowShape {
    /// Into the arrows the layout was made from.
    pub index: usize,
    /// The packet the arrow opens, if it is one.
    pub packet_seq: Option<u64>,
    /// From the tail to the head.
    pub x1: f64,
    pub x2: f64,
    pub y: f64,
    pub label: String,
    /// Since the first arrow, e.g. "+12 ms".
    pub time_label: String,
    /// Answers and handshake steps, as UML draws replies.
    pub dashed: bool,
    /// A failure or compensation the arrow carries.
    pub mark: Option<super::super::packet::Mark>,
}

pub fn sequence_layout(arrows: &[Arrow], zoom: f64) -> SequenceLayout {
    let zoom = if zoom.is_finite() && zoom > 0.0 {
        zoom.clamp(MIN_ZOOM, MAX_ZOOM)
    } else {
        1.0
    };
    let row = ROW_HEIGHT * zoom;
    let x_of = |lifeline: Lifeline| TIME_GUTTER + COLUMN_WIDTH * (lifeline.index() as f64 + 0.5);
    let lifeline_top = HEAD_TOP + HEAD_HEIGHT;
    let first_row = lifeline_top + FIRST_ROW_GAP;
    let shapes = arrows
        .iter()
        .zip(relative_ms(arrows))
        .enumerate()
        .map(|(index, (arrow, ms))| ArrowShape {
            index,
            packet_seq: arrow.packet_seq,
            x1: x_of(arrow.from),
            x2: x_of(arrow.to),
            y: first_row + row * index as f64,
            label: arrow.label.clone(),
            time_label: format!("+{ms} ms"),
            dashed: arrow.kind.is_reply(),
            mark: arrow.mark,
        })
        .collect::<Vec<_>>();
    let last_row = first_row + row * shapes.len().saturating_sub(1) as f64;
    let lifeline_bottom = last_row + FIRST_ROW_GAP;
    SequenceLayout {
        width: TIME_GUTTER + COLUMN_WIDTH * Lifeline::ALL.len() as f64,
        height: lifeline_bottom + BOTTOM_MARGIN,
        lifelines: Lifeline::ALL.iter().map(|&l| (l, x_of(l))).collect(),
        lifeline_top,
        lifeline_bottom,
        arrows: shapes,
    }
}

impl SequenceLayout {
    /// The arrows whose rows lie between `top` and `bottom` (SVG units): the ones worth
    /// drawing when the diagram is scrolled there. Rows run downwards, so it is one range.
    pub fn arrows_between(&self, top: f64, bottom: f64) -> std::ops::Range<usize> {
        let start = self.arrows.partition_point(|a| a.y < top);
        let end = self.arrows.partition_point(|a| a.y <= bottom);
        start..end.max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::script::{order, Script};
    use crate::trace::sequence::{arrows, View};
    use broker_bridge::{ProtocolVersion, QoS};

    fn flow() -> Vec<Arrow> {
        let mut script = Script::new(ProtocolVersion::V311);
        script.place_order(order(1), QoS::ExactlyOnce);
        script.place_order(order(2), QoS::AtLeastOnce);
        arrows(&script.history, &script.actions, &View::default())
    }

    #[test]
    fn lifelines_left_to_right_in_the_seed_s_order() {
        let layout = sequence_layout(&[], 1.0);
        let order: Vec<Lifeline> = layout.lifelines.iter().map(|(l, _)| *l).collect();
        assert_eq!(order, Lifeline::ALL);
        assert!(layout.lifelines.windows(2).all(|w| w[0].1 < w[1].1));
        let (_, last_x) = layout.lifelines[5];
        assert!(last_x + HEAD_WIDTH / 2.0 <= layout.width);
        assert!(layout.height > layout.lifeline_top);
    }

    #[test]
    fn time_runs_downwards() {
        let arrows = flow();
        let layout = sequence_layout(&arrows, 1.0);
        assert_eq!(layout.arrows.len(), arrows.len());
        for pair in layout.arrows.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(a.y < b.y);
            assert!(arrows[a.index].at <= arrows[b.index].at);
        }
        let last = layout.arrows.last().unwrap();
        assert!(last.y < layout.lifeline_bottom && layout.lifeline_bottom < layout.height);
        assert_eq!(layout.arrows[0].time_label, "+0 ms");
        let ms: u64 = last.time_label[1..last.time_label.len() - 3]
            .parse()
            .unwrap();
        assert_eq!(
            u128::from(ms),
            (arrows[last.index].at - arrows[0].at).as_millis()
        );
    }

    #[test]
    fn arrows_run_between_their_lifelines_and_replies_are_dashed() {
        let arrows = flow();
        let layout = sequence_layout(&arrows, 1.0);
        let x = |l: Lifeline| layout.lifelines[l.index()].1;
        for shape in &layout.arrows {
            let arrow = &arrows[shape.index];
            assert_eq!((shape.x1, shape.x2), (x(arrow.from), x(arrow.to)));
            assert_eq!(shape.dashed, arrow.kind.is_reply(), "{}", arrow.label);
            assert_eq!(shape.packet_seq, arrow.packet_seq);
        }
        let dashed: Vec<&str> = layout.arrows[..4]
            .iter()
            .filter(|s| s.dashed)
            .map(|s| s.label.as_str())
            .collect();
        assert_eq!(dashed, ["orderId 3fa85f64…", "PUBREC (id 1)"]);
    }

    #[test]
    fn zoom_scales_rows_only_within_bounds() {
        let arrows = flow();
        let gap = |zoom| {
            let l = sequence_layout(&arrows, zoom);
            (l.arrows[1].y - l.arrows[0].y, l.width)
        };
        let (one, width) = gap(1.0);
        assert_eq!(gap(2.0), (2.0 * one, width));
        assert_eq!(gap(100.0), (MAX_ZOOM * one, width));
        assert_eq!(
            gap(0.0),
            (one, width),
            "a zoom that makes no sense is ignored"
        );
        assert_eq!(gap(f64::NAN), (one, width));
        assert_eq!(gap(0.01).0, MIN_ZOOM * one);
    }

    #[test]
    fn only_the_rows_in_a_band_are_picked() {
        let arrows = flow();
        let layout = sequence_layout(&arrows, 1.0);
        let all = layout.arrows_between(f64::MIN, f64::MAX);
        assert_eq!(all, 0..layout.arrows.len());
        let (third, fifth) = (layout.arrows[2].y, layout.arrows[4].y);
        assert_eq!(layout.arrows_between(third - 1.0, fifth + 1.0), 2..5);
        assert_eq!(layout.arrows_between(third, fifth), 2..5, "edges included");
        assert!(layout
            .arrows_between(layout.height, layout.height + 500.0)
            .is_empty());
        assert!(
            layout.arrows_between(fifth, third).is_empty(),
            "an upside-down band"
        );
    }
}
