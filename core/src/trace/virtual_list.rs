//! A long list seen through a scroll container of fixed height, one fixed-height row per item:
//! which rows are worth putting in the DOM, how tall the spacers around them must be for the
//! scrollbar to stand for the whole list, and where to scroll so a row comes into view. Plus
//! the packet inspector's list itself: the history, newest first, up to a playback cursor.
//!
//! Pure arithmetic in CSS pixels: the view reads the container's `scrollTop` and sizes and
//! hands them in as a [`Viewport`].
//!
//! ```
//! use eda_core::trace::virtual_list::{rows_in_view, Viewport};
//!
//! // 2000 rows of 28 px under a 28 px sticky header, in a box 700 px tall, scrolled to 2800 px.
//! let viewport = Viewport { scroll_top: 2800, height: 700, header: 28, row_height: 28 };
//! let window = rows_in_view(2000, viewport, 8);
//! assert_eq!((window.start, window.end), (92, 133));
//! assert_eq!(window.before, 92 * 28);
//! assert_eq!(window.after, (2000 - 133) * 28);
//! ```

use super::history::PacketHistory;
use super::packet::TracedPacket;

/// The scroll container as the list needs it, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    /// How far the content is scrolled (`scrollTop`).
    pub scroll_top: i32,
    /// The container's inner height (`clientHeight`), sticky header included.
    pub height: i32,
    /// The sticky header's height: it covers the top of the rows.
    pub header: i32,
    /// Every row's height.
    pub row_height: i32,
}

/// The rows `start..end` go in the DOM; spacers of `before` and `after` pixels stand for the
/// rows above and below them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowWindow {
    pub start: usize,
    pub end: usize,
    pub before: u64,
    pub after: u64,
}

impl RowWindow {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl Viewport {
    fn row_height(&self) -> u64 {
        self.row_height.max(1) as u64
    }

    /// Rows that fit under the header, counting a partly shown row at each edge.
    fn rows_visible(&self) -> usize {
        let room = (self.height - self.header).max(0) as u64;
        (room.div_ceil(self.row_height()) + 1) as usize
    }
}

/// The rows of a list of `total` that `viewport` shows, with `overscan` more on each side so a
/// short scroll shows rows already drawn.
///
/// A `scroll_top` past the end (the list shrank, say on Clear, before the browser clamped the
/// scroll position) shows the last rows rather than none.
pub fn rows_in_view(total: usize, viewport: Viewport, overscan: usize) -> RowWindow {
    let row = viewport.row_height();
    let visible = viewport.rows_visible();
    let scrolled_rows = (viewport.scroll_top.max(0) as u64 / row) as usize;
    let first = scrolled_rows.min(total.saturating_sub(visible));
    let start = first.saturating_sub(overscan);
    let end = first
        .saturating_add(visible)
        .saturating_add(overscan)
        .min(total);
    RowWindow {
        start,
        end,
        before: start as u64 * row,
        after: (total - end) as u64 * row,
    }
}

/// The `scrollTop` that shows row `index` whole, moving as little as possible; `None` when it
/// already is.
pub fn reveal(index: usize, viewport: Viewport) -> Option<i32> {
    let row = viewport.row_height() as i64;
    let top = index as i64 * row;
    let scroll_top = viewport.scroll_top.max(0) as i64;
    let room = (viewport.height - viewport.header).max(0) as i64;
    let target = if top < scroll_top {
        top
    } else if top + row > scroll_top + room {
        // The row's bottom at the container's bottom, or its top under the header when the
        // container is shorter than one row.
        (top + row - room).min(top)
    } else {
        return None;
    };
    Some(target.clamp(0, i32::MAX as i64) as i32)
}

/// Where the reader is in a list that grows at its top (the packet inspector's, newest first):
/// the packet in the first row under the header, by its `seq`, and how many pixels of that row
/// are scrolled past. Kept while packets arrive, so the rows the reader looks at (or is about to
/// click) stay where they are instead of moving down one row per new packet.
///
/// ```
/// use eda_core::trace::virtual_list::{Anchor, Viewport};
///
/// let view = Viewport { scroll_top: 10 * 28 + 5, height: 700, header: 28, row_height: 28 };
/// // Packet 990 was in row 10; 7 packets arrive above it, so it is in row 17 now.
/// let anchor = Anchor { seq: 990, into_row: 5 };
/// assert_eq!(anchor.scroll_top_for(Some(17), view), Some(17 * 28 + 5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// The packet in the first row shown under the header.
    pub seq: u64,
    /// Pixels of that row scrolled past (0 to the row's height − 1).
    pub into_row: i32,
}

impl Anchor {
    /// The anchor of `viewport` over `listing`. `None` at the very top (`scroll_top` 0: the
    /// reader follows the newest packets, which then appear at the top) and for an empty list.
    pub fn of(listing: &Listing<'_>, viewport: Viewport) -> Option<Anchor> {
        if viewport.scroll_top <= 0 {
            return None;
        }
        let row = viewport.row_height() as i32;
        let index = (viewport.scroll_top / row) as usize;
        let packet = listing.get(index.min(listing.len().checked_sub(1)?))?;
        Some(Anchor {
            seq: packet.seq,
            into_row: viewport.scroll_top % row,
        })
    }

    /// The `scrollTop` that puts the anchor's packet back where it was, now that it is in row
    /// `index` (`Listing::index_of` its `seq`). `None` when it is no longer listed (dropped from
    /// the history, cleared, or after the playback cursor) or is already there.
    pub fn scroll_top_for(&self, index: Option<usize>, viewport: Viewport) -> Option<i32> {
        let row = viewport.row_height() as i64;
        let target = (index? as i64 * row + i64::from(self.into_row)).min(i32::MAX as i64) as i32;
        (target != viewport.scroll_top).then_some(target)
    }
}

/// The row a key moves to from row `index` of `total` (0 at the top): ↓ the next, ↑ the one
/// before, Home the first, End the last. `None` for other keys and past either end.
pub fn row_for_key(key: &str, index: usize, total: usize) -> Option<usize> {
    let target = match key {
        "ArrowDown" => index + 1,
        "ArrowUp" => index.checked_sub(1)?,
        "Home" => 0,
        "End" => total.checked_sub(1)?,
        _ => return None,
    };
    (target < total).then_some(target)
}

/// The packets the inspector lists: the history newest first, only those numbered below
/// `below` (what the playback shows) when it is given. Relies on the history's increasing `seq`.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    history: &'a PacketHistory,
    /// The oldest `len` packets of the history are listed.
    len: usize,
}

impl<'a> Listing<'a> {
    pub fn new(history: &'a PacketHistory, below: Option<u64>) -> Self {
        let len = match below {
            None => history.len(),
            Some(below) => history
                .iter()
                .rposition(|p| p.seq < below)
                .map_or(0, |oldest_first| oldest_first + 1),
        };
        Listing { history, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packet in row `index`, 0 the newest.
    pub fn get(&self, index: usize) -> Option<&'a TracedPacket> {
        let from_oldest = self.len.checked_sub(index + 1)?;
        self.history.iter().nth(from_oldest)
    }

    /// Rows `start..end`, newest first.
    pub fn rows(&self, start: usize, end: usize) -> impl Iterator<Item = &'a TracedPacket> + 'a {
        let end = end.min(self.len);
        self.history
            .iter()
            .take(self.len)
            .rev()
            .skip(start)
            .take(end.saturating_sub(start))
    }

    /// The row of packet `seq`, unless it is not listed (dropped, cleared, or not shown yet).
    pub fn index_of(&self, seq: u64) -> Option<usize> {
        let from_oldest = self
            .history
            .iter()
            .take(self.len)
            .rposition(|p| p.seq == seq)?;
        Some(self.len - 1 - from_oldest)
    }
}

#[cfg(test)]
mod tests {
    use broker_bridge::packet::Ack;
    use broker_bridge::{Direction, Packet, ProtocolVersion};

    use super::*;
    use crate::services::ServiceId;
    use crate::trace::script::event;

    /// 28 px rows under a 28 px header in a box 24 rows tall (plus the header).
    const VIEW: Viewport = Viewport {
        scroll_top: 0,
        height: 25 * 28,
        header: 28,
        row_height: 28,
    };

    fn scrolled(scroll_top: i32) -> Viewport {
        Viewport { scroll_top, ..VIEW }
    }

    #[test]
    fn at_the_top_the_first_rows_and_the_overscan_below_them() {
        let window = rows_in_view(2000, VIEW, 8);
        // 24 rows fit, one more may show partly, 8 more below.
        assert_eq!((window.start, window.end), (0, 33));
        assert_eq!(window.before, 0);
        assert_eq!(window.after, (2000 - 33) * 28);
    }

    #[test]
    fn scrolled_the_overscan_is_on_both_sides() {
        // Row 100 at the top.
        let window = rows_in_view(2000, scrolled(100 * 28), 8);
        assert_eq!((window.start, window.end), (92, 133));
        assert_eq!(window.len(), 41);
        // Half a row further still starts from row 100.
        assert_eq!(rows_in_view(2000, scrolled(100 * 28 + 14), 8), window);
        // No overscan: exactly what shows.
        let bare = rows_in_view(2000, scrolled(100 * 28), 0);
        assert_eq!((bare.start, bare.end), (100, 125));
    }

    #[test]
    fn the_spacers_and_rows_add_up_to_the_whole_list() {
        for scroll_top in [0, 1, 27, 28, 5_000, 30_000, 55_300, 56_000, 90_000] {
            let window = rows_in_view(2000, scrolled(scroll_top), 8);
            assert_eq!(
                window.before + window.len() as u64 * 28 + window.after,
                2000 * 28,
                "at {scroll_top}"
            );
        }
    }

    #[test]
    fn at_the_bottom_the_last_row_is_drawn() {
        // The most the container scrolls: header and rows, less its height.
        let max = 28 + 2000 * 28 - VIEW.height;
        let window = rows_in_view(2000, scrolled(max), 8);
        assert_eq!(window.end, 2000);
        assert_eq!(window.after, 0);
        assert_eq!(window.start, 2000 - 25 - 8);
    }

    #[test]
    fn an_empty_list_draws_nothing() {
        for viewport in [VIEW, scrolled(10_000)] {
            let window = rows_in_view(0, viewport, 8);
            assert!(window.is_empty());
            assert_eq!((window.before, window.after), (0, 0));
        }
    }

    #[test]
    fn scrolled_past_the_end_of_a_list_that_shrank_shows_its_last_rows() {
        // Scrolled to the bottom of 2000 rows, then Clear and 3 new packets.
        let window = rows_in_view(3, scrolled(55_300), 8);
        assert_eq!(
            (window.start, window.end, window.before, window.after),
            (0, 3, 0, 0)
        );
        // 100 rows left: the last screenful and its overscan above.
        let window = rows_in_view(100, scrolled(55_300), 8);
        assert_eq!((window.start, window.end), (100 - 25 - 8, 100));
        assert_eq!(window.after, 0);
    }

    #[test]
    fn a_short_list_is_drawn_whole() {
        let window = rows_in_view(10, VIEW, 8);
        assert_eq!(
            (window.start, window.end, window.before, window.after),
            (0, 10, 0, 0)
        );
    }

    #[test]
    fn an_unmeasured_or_odd_viewport_never_divides_by_zero_or_panics() {
        let odd = Viewport {
            scroll_top: -40,
            height: 0,
            header: 50,
            row_height: 0,
        };
        let window = rows_in_view(2000, odd, 8);
        assert_eq!(window.start, 0);
        assert!(window.end > 0 && window.end <= 2000);
        assert_eq!(reveal(3, odd), Some(3));
    }

    #[test]
    fn reveal_scrolls_only_as_far_as_needed() {
        let at_row_100 = scrolled(100 * 28);
        // Rows 100 to 123 are whole under the header: nothing to do.
        assert_eq!(reveal(100, at_row_100), None);
        assert_eq!(reveal(123, at_row_100), None);
        // Above: that row at the top.
        assert_eq!(reveal(40, at_row_100), Some(40 * 28));
        assert_eq!(reveal(99, at_row_100), Some(99 * 28));
        // Below: that row at the bottom, whole.
        assert_eq!(reveal(124, at_row_100), Some(101 * 28));
        assert_eq!(reveal(1999, at_row_100), Some((1999 - 23) * 28));
        // Half a row scrolled: the half-hidden top row needs a scroll back.
        assert_eq!(reveal(100, scrolled(100 * 28 + 14)), Some(100 * 28));
        // The first row from anywhere below.
        assert_eq!(reveal(0, at_row_100), Some(0));
    }

    #[test]
    fn a_revealed_row_is_in_the_window_drawn_there() {
        for index in [0, 1, 57, 500, 1998, 1999] {
            let scroll_top = reveal(index, scrolled(30_000)).unwrap_or(30_000);
            let window = rows_in_view(2000, scrolled(scroll_top), 0);
            assert!(
                window.start <= index && index < window.end,
                "{index}: {window:?}"
            );
        }
    }

    #[test]
    fn an_anchor_keeps_the_packet_in_view_where_it_was_as_packets_arrive_above() {
        let mut history = history(100, 2000);
        // Scrolled 10 rows and 5 px down: packet 89 (row 10) is at the top.
        let view = scrolled(10 * 28 + 5);
        let anchor = Anchor::of(&Listing::new(&history, None), view).unwrap();
        assert_eq!(
            anchor,
            Anchor {
                seq: 89,
                into_row: 5
            }
        );
        // 7 packets more, above it: it is row 17 now, and the view follows it there.
        for id in 100..107u16 {
            let ack = Packet::PubAck(Ack::new(id + 1));
            let event = event(id.into(), Direction::Incoming, ack, ProtocolVersion::V311);
            history.record(ServiceId::Order, &event);
        }
        let listing = Listing::new(&history, None);
        let index = listing.index_of(anchor.seq);
        assert_eq!(index, Some(17));
        let top = anchor.scroll_top_for(index, view).unwrap();
        assert_eq!(top, 17 * 28 + 5);
        let window = rows_in_view(listing.len(), scrolled(top), 0);
        assert_eq!(listing.get(window.start).map(|p| p.seq), Some(89));
        // Already there: nothing to do.
        assert_eq!(anchor.scroll_top_for(index, scrolled(top)), None);
    }

    #[test]
    fn at_the_top_or_with_the_packet_gone_there_is_nothing_to_keep() {
        let history = history(100, 2000);
        let listing = Listing::new(&history, None);
        // At the top the reader follows the newest packets.
        assert_eq!(Anchor::of(&listing, VIEW), None);
        assert_eq!(
            Anchor::of(&Listing::new(&PacketHistory::new(5), None), scrolled(50)),
            None
        );
        // Scrolled past the end of a list that shrank: its last packet.
        let anchor = Anchor::of(&listing, scrolled(500 * 28)).unwrap();
        assert_eq!(anchor.seq, 0);
        // The packet dropped from the history, or cleared: no scroll.
        let gone = Anchor {
            seq: 5_000,
            into_row: 3,
        };
        assert_eq!(gone.scroll_top_for(listing.index_of(gone.seq), VIEW), None);
    }

    #[test]
    fn keys_move_one_row_or_to_either_end_and_stop_there() {
        assert_eq!(row_for_key("ArrowDown", 5, 10), Some(6));
        assert_eq!(row_for_key("ArrowUp", 5, 10), Some(4));
        assert_eq!(row_for_key("Home", 5, 10), Some(0));
        assert_eq!(row_for_key("End", 5, 10), Some(9));
        assert_eq!(row_for_key("ArrowDown", 9, 10), None, "the last row");
        assert_eq!(row_for_key("ArrowUp", 0, 10), None, "the first row");
        assert_eq!(row_for_key("End", 0, 0), None, "an empty list");
        assert_eq!(row_for_key("Enter", 5, 10), None, "the button's own key");
        assert_eq!(row_for_key("a", 5, 10), None);
    }

    fn history(packets: u16, capacity: usize) -> PacketHistory {
        let mut history = PacketHistory::new(capacity);
        for id in 0..packets {
            let ack = Packet::PubAck(Ack::new(id + 1));
            let event = event(id.into(), Direction::Incoming, ack, ProtocolVersion::V311);
            history.record(ServiceId::Order, &event);
        }
        history
    }

    fn seqs<'a>(rows: impl Iterator<Item = &'a TracedPacket>) -> Vec<u64> {
        rows.map(|p| p.seq).collect()
    }

    #[test]
    fn the_listing_is_the_history_newest_first() {
        // Seqs 0..10 recorded, 0..3 dropped.
        let history = history(10, 7);
        let listing = Listing::new(&history, None);
        assert_eq!(listing.len(), 7);
        assert_eq!(seqs(listing.rows(0, 100)), [9, 8, 7, 6, 5, 4, 3]);
        assert_eq!(seqs(listing.rows(2, 4)), [7, 6]);
        assert_eq!(listing.get(0).map(|p| p.seq), Some(9));
        assert_eq!(listing.get(6).map(|p| p.seq), Some(3));
        assert_eq!(listing.get(7).map(|p| p.seq), None);
        assert_eq!(listing.index_of(9), Some(0));
        assert_eq!(listing.index_of(3), Some(6));
        assert_eq!(listing.index_of(2), None, "dropped");
        assert_eq!(listing.index_of(10), None, "not yet recorded");
    }

    #[test]
    fn below_a_cursor_only_the_packets_before_it_are_listed() {
        let history = history(10, 7);
        let listing = Listing::new(&history, Some(6));
        assert_eq!(listing.len(), 3);
        assert_eq!(seqs(listing.rows(0, 100)), [5, 4, 3]);
        assert_eq!(listing.index_of(5), Some(0));
        assert_eq!(listing.index_of(7), None, "after the cursor");
        // A cursor before the oldest kept packet lists nothing; one past the newest, all.
        assert!(Listing::new(&history, Some(3)).is_empty());
        assert_eq!(Listing::new(&history, Some(99)).len(), 7);
        assert!(Listing::new(&PacketHistory::new(5), None).is_empty());
    }
}
