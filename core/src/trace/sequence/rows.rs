//! Where everything of the sequence diagram goes, in SVG user units: one computation for the
//! diagram on the page and for the exported SVG file, so the two always agree.
//!
//! Columns are fixed; each arrow gets its own row, in the order of [`super::arrows`], so time
//! runs downwards. `zoom` scales the rows only; zoomed out until a row is lower than a line of
//! text ([`LABEL_ROOM`]), only every few rows keep their texts, so they do not overprint.

use std::time::Duration;

use super::{Arrow, Lifeline};

/// A row's time since the first arrow shown, short enough for the time gutter (about 56 units
/// of 11 px type, eight characters): `+6692 ms` under 10 s, then seconds, `+30.52 s` under
/// 100 s, `+123.4 s` under 1,000 s, `+1234 s` after (a break-test, 38-Y F3, found the `+` of
/// `+30517 ms` cut off, and a longer session would lose digits). The packet inspector and the
/// Mermaid export keep whole milliseconds.
pub fn elapsed_label(elapsed: Duration) -> String {
    // Cut, not rounded: a time never reads later than it is.
    let ms = elapsed.as_millis();
    let (whole, part) = (ms / 1000, ms % 1000);
    match ms {
        0..10_000 => format!("+{ms} ms"),
        10_000..100_000 => format!("+{whole}.{:02} s", part / 10),
        100_000..1_000_000 => format!("+{whole}.{} s", part / 100),
        _ => format!("+{whole} s"),
    }
}

/// Distance between two lifelines: eight of them (the seed's six, QueryService and the status
/// monitor) and the time gutter make 1120 units, which fit the page's widest column (1200 px
/// less its margins and the card's padding, about 1130 px), so no lifeline is cut off on a wide
/// screen.
pub const COLUMN_WIDTH: f64 = 132.0;
/// Left of the first lifeline: room for the time labels.
pub const TIME_GUTTER: f64 = 64.0;
/// The boxes naming each lifeline at the top.
pub const HEAD_TOP: f64 = 10.0;
/// A head's box: its column less a gap, room for `NotificationService` in 11 px bold type.
pub const HEAD_WIDTH: f64 = 128.0;
pub const HEAD_HEIGHT: f64 = 32.0;
/// The strip of lifeline heads the page keeps in view at the top of the scrolled diagram:
/// the heads and a little room below them.
pub const HEADS_STRIP: f64 = HEAD_TOP + HEAD_HEIGHT + 6.0;
/// Between rows at zoom 1.
pub const ROW_HEIGHT: f64 = 28.0;
pub const MIN_ZOOM: f64 = 0.25;
/// The least height, in SVG units, a row's texts (its label above the arrow, its time beside
/// it, in 11 to 13 px type) take without running into the next row's.
pub const LABEL_ROOM: f64 = 14.0;
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
    /// One row in how many has its texts drawn ([`ArrowShape::labelled`]): 1 down to rows of
    /// [`LABEL_ROOM`] units, 2 at zoom 0.4 (rows of 11.2), 4 at the least zoom (rows of 7).
    pub label_every: usize,
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
    /// Whether its label and time are drawn: every row's from zoom 1 down to rows of
    /// [`LABEL_ROOM`]; below that one row in [`SequenceLayout::label_every`] (the first, then
    /// every n-th), so the texts drawn do not overprint. The arrow is drawn either way, and
    /// keeps its label as its tooltip.
    pub labelled: bool,
}

/// The layout of `arrows` at `zoom`, each time label counted from the first arrow (the
/// exports' times).
pub fn sequence_layout(arrows: &[Arrow], zoom: f64) -> SequenceLayout {
    let first_at = arrows.iter().map(|a| a.at).min().unwrap_or_default();
    sequence_layout_since(arrows, zoom, first_at)
}

/// The same with each time label counted from `origin` (the page's: [`RowAnchor::origin`]);
/// an arrow before it is labelled "+0 ms".
pub fn sequence_layout_since(arrows: &[Arrow], zoom: f64, origin: Duration) -> SequenceLayout {
    let zoom = if zoom.is_finite() && zoom > 0.0 {
        zoom.clamp(MIN_ZOOM, MAX_ZOOM)
    } else {
        1.0
    };
    let row = ROW_HEIGHT * zoom;
    // A hair below LABEL_ROOM still counts as room: zoom steps of 1.25 land near it.
    let label_every = ((LABEL_ROOM - 0.01) / row).ceil().max(1.0) as usize;
    let x_of = |lifeline: Lifeline| TIME_GUTTER + COLUMN_WIDTH * (lifeline.index() as f64 + 0.5);
    let lifeline_top = HEAD_TOP + HEAD_HEIGHT;
    let first_row = lifeline_top + FIRST_ROW_GAP;
    let shapes = arrows
        .iter()
        .enumerate()
        .map(|(index, arrow)| ArrowShape {
            index,
            packet_seq: arrow.packet_seq,
            x1: x_of(arrow.from),
            x2: x_of(arrow.to),
            y: first_row + row * index as f64,
            label: arrow.label.clone(),
            time_label: elapsed_label(arrow.at.saturating_sub(origin)),
            dashed: arrow.kind.is_reply(),
            mark: arrow.mark,
            labelled: index % label_every == 0,
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
        label_every,
    }
}

impl SequenceLayout {
    /// The same layout with its rows numbered from `base` (the page's [`RowAnchor::base`]:
    /// arrows that left the history since) for [`ArrowShape::labelled`], so a row keeps its
    /// texts, or keeps none, as older arrows leave and every index moves down.
    pub fn counting_rows_from(mut self, base: usize) -> SequenceLayout {
        let every = self.label_every;
        for arrow in &mut self.arrows {
            arrow.labelled = (base + arrow.index) % every == 0;
        }
        self
    }

    /// The arrows whose rows lie between `top` and `bottom` (SVG units): the ones worth
    /// drawing when the diagram is scrolled there. Rows run downwards, so it is one range.
    pub fn arrows_between(&self, top: f64, bottom: f64) -> std::ops::Range<usize> {
        let start = self.arrows.partition_point(|a| a.y < top);
        let end = self.arrows.partition_point(|a| a.y <= bottom);
        start..end.max(start)
    }
}

/// After this many rows above the first arrow, a live diagram starts counting them again from 0
/// ([`RowAnchor::follow`]): browsers keep SVG coordinates in single precision, and 10,000 rows
/// of 112 units (zoom 4) are about 1.1 million units, where a float still holds a tenth of one.
pub const REBASE_AFTER: usize = 10_000;

/// Where a live diagram's rows stand from one render to the next, so an arrow keeps its place
/// in the page while older arrows leave the history (at [`crate::trace::HISTORY_CAPACITY`]
/// packets every new one drops the oldest, and without it every row in the page moved up one
/// and every time label changed, on every packet).
///
/// The page draws row `i` of a layout at `y + row height × base` inside a group moved up by
/// `row height × base`: what the learner sees is the layout's, what changes in the page is the
/// rows that come and go and one transform. Time labels count from `origin`
/// ([`sequence_layout_since`]). While the reader has scrolled away from the newest arrow the
/// page also holds the picture still: it moves the group down by `row height × (base − the
/// base when they let go)`, so the arrows in view stay where they were as older ones leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowAnchor {
    /// Arrows that have left the history since the anchor was set (or last started again).
    pub base: usize,
    /// The instant the time labels count from: the first arrow's when the anchor was set.
    pub origin: Duration,
    /// The newest arrow with a packet, by its `seq`, and its row counted from `base`'s start.
    newest: Option<(u64, usize)>,
}

impl RowAnchor {
    /// The anchor for `arrows` (by time, as [`super::arrows`] gives them) given the one of the
    /// previous render of the same view, or `None` for a new view (a filter, another
    /// recording): then `base` is 0 and `origin` is the first arrow's time.
    ///
    /// It starts again (`base` 0) when the previous newest arrow is no longer among `arrows`
    /// (the history was replaced) or `base` would pass [`REBASE_AFTER`]; `origin` is kept
    /// unless an arrow is older than it.
    pub fn follow(previous: Option<&RowAnchor>, arrows: &[Arrow]) -> RowAnchor {
        let first_at = arrows.iter().map(|a| a.at).min().unwrap_or_default();
        let newest = arrows
            .iter()
            .enumerate()
            .rev()
            .find_map(|(index, a)| a.packet_seq.map(|seq| (seq, index)));
        let kept = previous.and_then(|previous| {
            let (seq, row) = previous.newest?;
            // The previous newest arrow is near the end: look for it from there.
            let index = arrows.iter().rposition(|a| a.packet_seq == Some(seq))?;
            let base = row.checked_sub(index)?;
            let origin = (previous.origin <= first_at).then_some(previous.origin)?;
            Some((base, origin))
        });
        let (base, origin) = match kept {
            Some((base, origin)) if base <= REBASE_AFTER => (base, origin),
            Some((_, origin)) => (0, origin),
            None => (0, first_at),
        };
        RowAnchor {
            base,
            origin,
            newest: newest.map(|(seq, index)| (seq, base + index)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_s_time_fits_the_gutter_however_long_the_session() {
        let label = |ms: u64| elapsed_label(Duration::from_millis(ms));
        assert_eq!(label(0), "+0 ms");
        assert_eq!(label(9_999), "+9999 ms");
        assert_eq!(label(30_517), "+30.51 s");
        assert_eq!(label(99_999), "+99.99 s");
        assert_eq!(label(123_456), "+123.4 s");
        assert_eq!(label(7_654_321), "+7654 s");
        for ms in [
            0, 9_999, 10_000, 99_999, 100_000, 999_999, 1_000_000, 99_999_999,
        ] {
            assert!(label(ms).chars().count() <= 8, "{}", label(ms));
        }
    }
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
    fn zoomed_out_below_a_line_of_text_only_every_few_rows_keep_their_texts() {
        let arrows = flow();
        let every = |zoom| sequence_layout(&arrows, zoom).label_every;
        // Rows of 28, 22.4, 17.9 and 14.3 units: room for every row's texts.
        for zoom in [1.0, 0.8, 0.64, 0.512, 4.0] {
            assert_eq!(every(zoom), 1, "zoom {zoom}");
        }
        // A phone's break-test: six taps of Zoom out (0.26) printed the times over each other.
        assert_eq!(every(0.4096), 2);
        assert_eq!(every(0.262144), 2);
        assert_eq!(
            every(0.25),
            2,
            "rows of 7 units: every second row, 14 apart"
        );
        let layout = sequence_layout(&arrows, 0.25);
        let labelled: Vec<bool> = layout.arrows.iter().map(|a| a.labelled).collect();
        assert_eq!(labelled[..4], [true, false, true, false]);
        let ys: Vec<f64> = layout
            .arrows
            .iter()
            .filter(|a| a.labelled)
            .map(|a| a.y)
            .collect();
        assert!(ys.windows(2).all(|w| w[1] - w[0] >= LABEL_ROOM), "{ys:?}");
        assert!(sequence_layout(&arrows, 1.0)
            .arrows
            .iter()
            .all(|a| a.labelled));
        // One arrow gone from the history: each row that kept its texts keeps them.
        let after = sequence_layout(&arrows[1..], 0.25).counting_rows_from(1);
        let kept: Vec<bool> = after.arrows.iter().map(|a| a.labelled).collect();
        assert_eq!(kept[..3], labelled[1..4]);
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

    #[test]
    fn an_anchored_arrow_keeps_its_row_as_older_ones_leave() {
        let all = flow();
        assert!(
            all.len() > 12 && all[0].packet_seq.is_none(),
            "the click, then packets"
        );
        let first = RowAnchor::follow(None, &all[..10]);
        assert_eq!((first.base, first.origin), (0, all[0].at));
        let before = sequence_layout_since(&all[..10], 1.0, first.origin);
        assert_eq!(
            before.arrows[3].time_label,
            format!("+{} ms", (all[3].at - all[0].at).as_millis())
        );
        // Four arrows leave the history and the rest arrive: each stays on its row, and its
        // time label says the same as before.
        let slid = RowAnchor::follow(Some(&first), &all[4..]);
        assert_eq!((slid.base, slid.origin), (4, all[0].at));
        let after = sequence_layout_since(&all[4..], 1.0, slid.origin);
        for (index, shape) in after.arrows.iter().enumerate() {
            assert_eq!(slid.base + index, index + 4);
            if let Some(was) = before.arrows.get(index + 4) {
                assert_eq!(shape.time_label, was.time_label);
            }
        }
        // Counted from the first arrow, the labels of the arrows left changed.
        let from_first = sequence_layout(&all[4..], 1.0);
        assert_eq!(from_first.arrows[0].time_label, "+0 ms");
        // Nothing changed: nothing moves.
        assert_eq!(RowAnchor::follow(Some(&slid), &all[4..]), slid);
    }

    #[test]
    fn an_anchor_starts_again_for_another_history_or_far_down() {
        let all = flow();
        let (early, late) = all.split_at(all.len() / 2);
        let first = RowAnchor::follow(None, early);
        // Another history (a recording loaded): the newest arrow is gone; its own origin.
        let other = RowAnchor::follow(Some(&first), &late[1..]);
        assert_eq!((other.base, other.origin), (0, late[1].at));
        // An origin later than an arrow now drawn (a replay from the start) is not kept.
        let back = RowAnchor::follow(Some(&other), &all);
        assert_eq!((back.base, back.origin), (0, all[0].at));
        // Past REBASE_AFTER rows the count starts again; the time labels keep their origin.
        let seq = all[5].packet_seq.unwrap();
        let far = RowAnchor {
            base: REBASE_AFTER,
            origin: all[0].at,
            newest: Some((seq, REBASE_AFTER + 5)),
        };
        assert_eq!(RowAnchor::follow(Some(&far), &all[..6]).base, REBASE_AFTER);
        let again = RowAnchor::follow(Some(&far), &all[1..]);
        assert_eq!((again.base, again.origin), (0, all[0].at));
        assert_eq!(RowAnchor::follow(None, &[]).base, 0);
    }
}
