//! Whether the sequence diagram's scroll box follows its newest arrow (its bottom), as a
//! learner expects of a live log: it does until they scroll up, and again once they scroll back
//! to the bottom.
//!
//! Pure: the page reports the scroll events and its own scrolls; this decides.

/// How close to the bottom, in CSS pixels, counts as at the bottom (a row is 28 at zoom 1).
pub const AT_BOTTOM_SLACK: i32 = 8;

/// Follows the newest arrow until the reader scrolls up. A scroll event is compared with the
/// last position known, the box's own scrolls included ([`FollowNewest::followed`]): the event
/// of one of them comes a frame later, and a reader's scroll up made in between (to the top,
/// say) was otherwise compared with a position from before it and not seen as a move up (the
/// box then took the reader back down to the newest arrow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowNewest {
    following: bool,
    /// The scroll position (`scrollTop`, CSS pixels) last reported or made.
    last_top: i32,
}

impl Default for FollowNewest {
    fn default() -> Self {
        FollowNewest {
            following: true,
            last_top: 0,
        }
    }
}

impl FollowNewest {
    /// Whether the box should scroll itself to its newest arrow. `true` at first.
    pub fn following(&self) -> bool {
        self.following
    }

    /// A scroll event: the box is at `top` (`scrollTop`), `client_height` tall, its content
    /// `scroll_height` (CSS pixels). Scrolling up lets go of the newest arrow; being within
    /// [`AT_BOTTOM_SLACK`] of the bottom takes it again. Arrows added since the box's own
    /// scroll to the bottom (the content grew under an unmoved box) count as neither.
    pub fn scrolled(&mut self, top: i32, client_height: i32, scroll_height: i32) {
        if top < self.last_top {
            self.following = false;
        }
        if top + client_height >= scroll_height - AT_BOTTOM_SLACK {
            self.following = true;
        }
        self.last_top = top;
    }

    /// The box scrolled itself to its newest arrow and is now at `top` (as read back: the
    /// browser clamps it).
    pub fn followed(&mut self, top: i32) {
        self.last_top = top;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_until_scrolled_up_and_again_at_the_bottom() {
        let mut follow = FollowNewest::default();
        assert!(follow.following());
        follow.followed(1000);
        follow.scrolled(1000, 500, 1600); // arrows added since: neither
        assert!(follow.following());
        follow.scrolled(900, 500, 1600);
        assert!(!follow.following(), "scrolled up");
        follow.scrolled(950, 500, 1600);
        assert!(!follow.following(), "down, but not to the bottom");
        follow.scrolled(1095, 500, 1600);
        assert!(follow.following(), "within the slack of the bottom");
    }

    // The box had never been scrolled (off screen it does not follow), came into view and
    // scrolled itself to the bottom; the reader's scroll to the top came before that scroll's
    // event. Compared with the position before the box's own scroll (0), it was no move up.
    #[test]
    fn a_scroll_to_the_top_before_the_event_of_the_box_own_scroll_lets_go() {
        let mut follow = FollowNewest::default();
        follow.followed(4000);
        follow.scrolled(0, 500, 4500);
        assert!(!follow.following());
    }

    #[test]
    fn a_box_shorter_than_its_content_never_lets_go_at_the_bottom() {
        let mut follow = FollowNewest::default();
        follow.followed(0);
        follow.scrolled(0, 500, 300);
        assert!(follow.following(), "everything in view is the bottom");
    }
}
