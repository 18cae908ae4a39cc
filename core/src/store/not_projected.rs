//! The events QueryService received and did not project, for the Read model panel: an event
//! its read model refuses (one no event store holds, e.g. an `OrderCancelled` after the
//! order's `OrderCompleted`: [`super::Projected::Refused`]) and a message skipped unread for
//! its size (over the page's 256 KiB limit, MQTT 3.1.1). QueryService's own event log is not on
//! the page: without this line such an event vanished with no word. A message that cannot be
//! read at all (not JSON, the wrong shape) is no concern of this: it is dead-lettered, as every
//! service's is (README "Things to try: dead letters"); a duplicate and an event held for the
//! version it follows are not either (the projection's rules, [`super::ReadModel::project`]).
//!
//! ```
//! use eda_core::store::{NotProjected, StoredEvent};
//!
//! let mut ignored = NotProjected::default();
//! assert_eq!(ignored.line(), None);
//! let event = StoredEvent::decode(br#"{"position":9999,"stream":"3fa85f64-5717-4562-b3fc-2c963f66afa6","version":5,"type":"OrderCancelled","schema":3,"recordedAt":"2026-12-02T09:37:10.000Z","data":{"reason":"by hand"}}"#).unwrap();
//! ignored.refused(&event, "OrderCancelled refused: the order is already Completed", false);
//! assert_eq!(
//!     ignored.line().unwrap(),
//!     "Not projected, 1 event: OrderCancelled (version 5 of \
//!      order-3fa85f64-5717-4562-b3fc-2c963f66afa6, position 9999): refused: the order is \
//!      already Completed. This page's event store does not hold it: something other than \
//!      this page's OrderService published it on eventstore/orders/… (another page on the same \
//!      topics, or a client by hand), and the read model ignores it."
//! );
//! ```

use std::collections::VecDeque;

use broker_bridge::codec::{over_limit, OversizedPublish};

use super::{stream_name, StoredEvent};
use crate::outside_text::isolate;

/// How many of the events not projected the line names, newest last; the rest are counted.
const NAMED: usize = 3;

/// `OrderCancelled (version 5 of order-…, position 9999)`.
fn describe(event: &StoredEvent) -> String {
    format!(
        "{} (version {} of {}, position {})",
        event.event.type_name(),
        event.version,
        stream_name(event.stream),
        event.position
    )
}

/// Why one message QueryService received was not projected.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ignored {
    /// An event its read model refuses, with the projection's reason.
    Refused {
        /// `OrderCancelled (version 5 of order-…, position 9999)`.
        event: String,
        reason: String,
        /// This page's event store holds the event, byte for byte: the one the read model took
        /// at its place before is the stranger.
        in_this_store: bool,
        /// Refused by the read model a Rebuild has since replaced: its reason speaks of that
        /// one (an order the rebuilt model may no longer hold, 43-AO F2).
        before_rebuild: bool,
    },
    /// OrderService's own event, appended to its store, that its broker would not take: larger
    /// than the broker's Maximum Packet Size, so never published.
    NotPublished {
        /// `OrderCreated (version 1 of order-…, position 7)`.
        event: String,
        /// Its PUBLISH, in bytes.
        size: usize,
        /// The broker's Maximum Packet Size, in bytes.
        max: usize,
    },
    /// A message skipped unread for its size.
    TooLarge {
        /// The topic as it came, isolated for display.
        topic: String,
        /// The size on the wire, in bytes.
        size: usize,
        /// The page's limit, in bytes.
        max: usize,
    },
}

impl Ignored {
    /// An event of this page's event store: a rebuild from it projects it.
    fn of_the_store(&self) -> bool {
        match self {
            Ignored::Refused { in_this_store, .. } => *in_this_store,
            Ignored::NotPublished { .. } => true,
            Ignored::TooLarge { .. } => false,
        }
    }
}

/// The messages QueryService received and did not project, the newest [`NAMED`] kept (the
/// others counted), and the line that says why (shown in the Read model panel's lag line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotProjected {
    kept: VecDeque<Ignored>,
    count: u64,
    /// Of `count`, those of this page's store (refused while it holds them, or never
    /// published), named or not: a rebuild from the store repairs them all.
    of_the_store: u64,
}

impl NotProjected {
    /// QueryService's read model refused `event` for `reason` ([`super::Projected::Refused`]:
    /// "OrderCancelled refused: the order is already Completed"; the event's type is not said
    /// twice); `in_this_store`: this page's event store holds that very event (at its position),
    /// so what the read model projected before at its place (the same position, or the same
    /// version of its order) came from something other than this page's OrderService: the line
    /// says so, instead of saying that this page's store does not hold the refused one (a newcomer's break-test:
    /// a forged event at the next position, or a second page on the same topics).
    pub fn refused(&mut self, event: &StoredEvent, reason: &str, in_this_store: bool) {
        let type_name = event.event.type_name();
        let reason = reason
            .strip_prefix(type_name)
            .map_or(reason, str::trim_start);
        self.push(Ignored::Refused {
            event: describe(event),
            reason: reason.to_owned(),
            in_this_store,
            before_rebuild: false,
        });
    }

    /// OrderService appended `event` to its store, but its PUBLISH of `size` bytes exceeds the
    /// broker's Maximum Packet Size of `max` bytes (MQTT 5.0 §3.2.2.3.6): it was never sent, so
    /// the read model never has it, and holds the events after it for good.
    pub fn not_published(&mut self, event: &StoredEvent, size: usize, max: usize) {
        self.push(Ignored::NotPublished {
            event: describe(event),
            size,
            max,
        });
    }

    /// QueryService's client skipped `skipped` unread: larger than the page's limit.
    pub fn too_large(&mut self, skipped: &OversizedPublish) {
        self.push(Ignored::TooLarge {
            topic: isolate(&skipped.topic).into_owned(),
            size: skipped.size,
            max: skipped.max,
        });
    }

    /// QueryService took a read model rebuilt from this page's whole event store
    /// ([`super::Rebuild`]): the events of that store it had not projected are in it now (one
    /// refused while the store holds it, one never published for its size). Those named are no
    /// longer counted; a stranger (no store of this page holds it) is still not projected, and a
    /// message skipped unread may have been either, so both stay, as do older ones not named.
    ///
    /// The store's own ones older than the named are no longer counted either (41-AH F7: "1
    /// older not named", the store's own event, stayed after the rebuild that projected it).
    ///
    /// A stranger's refusal kept says it was the read model's before the Rebuild: its reason
    /// ("the order is already Completed at version 2") may speak of an order the rebuilt one no
    /// longer holds (43-AO F2).
    pub fn rebuilt(&mut self) {
        self.kept.retain(|ignored| !ignored.of_the_store());
        for ignored in &mut self.kept {
            if let Ignored::Refused { before_rebuild, .. } = ignored {
                *before_rebuild = true;
            }
        }
        self.count -= self.of_the_store;
        self.of_the_store = 0;
    }

    fn push(&mut self, ignored: Ignored) {
        self.count += 1;
        if ignored.of_the_store() {
            self.of_the_store += 1;
        }
        self.kept.push_back(ignored);
        while self.kept.len() > NAMED {
            self.kept.pop_front();
        }
    }

    /// How many messages were not projected, since the page opened.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// What was not projected and why, the newest three named: `None` when nothing was.
    /// "Not projected, 2 events: OrderCancelled (version 5 of order-…, position 9999): …; a
    /// message of 400 KB on eventstore/orders/… exceeds this page's 256 KiB limit: skipped
    /// unread. …"
    pub fn line(&self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let mut named: Vec<String> = Vec::new();
        let older = self.count - self.kept.len() as u64;
        if older > 0 {
            named.push(format!("{older} older not named"));
        }
        let (mut refused, mut ours, mut large) = (0usize, false, false);
        for ignored in &self.kept {
            if let Ignored::Refused { in_this_store, .. } = ignored {
                if *in_this_store {
                    ours = true;
                } else {
                    refused += 1;
                }
            }
        }
        // Both kinds named: each says which it is, as the sentences after speak of both (44-AS
        // F3: "This page's event store does not hold it" followed the store's own event).
        let mixed = refused > 0 && ours;
        for ignored in &self.kept {
            named.push(match ignored {
                Ignored::Refused {
                    event,
                    reason,
                    in_this_store,
                    before_rebuild,
                } => {
                    let whose = match (mixed, *in_this_store) {
                        (false, _) => "",
                        (true, true) => " [in this page's store]",
                        (true, false) => " [in no store of this page]",
                    };
                    if *before_rebuild {
                        format!(
                            "{event}{whose}: {reason} (so the read model stood before the Rebuild)"
                        )
                    } else {
                        format!("{event}{whose}: {reason}")
                    }
                }
                Ignored::NotPublished { event, size, max } => format!(
                    "{event} was never published: its PUBLISH is {size} bytes, more than the \
                     broker's Maximum Packet Size of {max}, so the events after it wait for it \
                     for good"
                ),
                Ignored::TooLarge { topic, size, max } => {
                    large = true;
                    let (size, limit) = over_limit(*size, *max);
                    format!(
                        "a message of {size} on {topic} exceeds this page's {limit} limit: \
                         skipped unread"
                    )
                }
            });
        }
        let events = match self.count {
            1 => "1 event".to_owned(),
            n => format!("{n} events"),
        };
        let mut line = format!("Not projected, {events}: {}.", named.join("; "));
        // "them" for several (41-AJ F2 read "does not hold it" after three events named).
        if mixed {
            line.push_str(
                " Those in no store of this page: something other than this page's OrderService \
                 published them on eventstore/orders/… (another page on the same topics, or a \
                 client by hand), and the read model ignores them. Those in this page's store: \
                 what the read model took at their place before is in no store of this page. \
                 Rebuild projects the store's own events afresh.",
            );
        } else if refused > 0 {
            let it = if refused == 1 { "it" } else { "them" };
            line.push_str(&format!(
                " This page's event store does not hold {it}: something other than this page's \
                 OrderService published {it} on eventstore/orders/… (another page on the same \
                 topics, or a client by hand), and the read model ignores {it}."
            ));
        }
        if ours && !mixed {
            line.push_str(
                " This page's event store holds the event refused: what the read model took at \
                 its place before is in no store of this page, so something other than this \
                 page's OrderService published it (another page on the same topics, or a client \
                 by hand). Rebuild projects the store's own events afresh.",
            );
        }
        if large {
            line.push_str(
                " OrderService never publishes an event that large: publish a smaller one.",
            );
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_bridge::QoS;

    fn event(position: u64, version: u64) -> StoredEvent {
        let json = format!(
            r#"{{"position":{position},"stream":"3fa85f64-5717-4562-b3fc-2c963f66afa6","version":{version},"type":"OrderCancelled","schema":3,"recordedAt":"2026-12-02T09:37:10.000Z","data":{{"reason":"by hand"}}}}"#
        );
        StoredEvent::decode(json.as_bytes()).unwrap()
    }

    fn oversized(size: usize) -> OversizedPublish {
        OversizedPublish {
            topic: "eventstore/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6".into(),
            qos: QoS::AtLeastOnce,
            packet_id: Some(3),
            dup: false,
            retain: false,
            size,
            max: 256 * 1024,
        }
    }

    #[test]
    fn each_refusal_and_skipped_message_is_named_with_why_the_newest_three() {
        let mut ignored = NotProjected::default();
        ignored.refused(
            &event(9999, 5),
            "OrderCancelled refused: the order is already Completed",
            false,
        );
        ignored.refused(
            &event(5, 5),
            "OrderCancelled refused: the order is already Completed",
            false,
        );
        ignored.too_large(&oversized(400_000));
        assert_eq!(ignored.count(), 3);
        let line = ignored.line().unwrap();
        assert!(line.starts_with("Not projected, 3 events: OrderCancelled (version 5 of order-3fa85f64-5717-4562-b3fc-2c963f66afa6, position 9999): refused: the order is already Completed; "), "{line}");
        assert!(line.contains("position 5): refused: the order"), "{line}");
        assert!(
            line.contains(
                "a message of 400 KB on eventstore/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6 \
                 exceeds this page's 256 KiB limit: skipped unread"
            ),
            "{line}"
        );
        assert!(line.contains("something other than this page's OrderService published them"));
        assert!(line.ends_with("publish a smaller one."), "{line}");

        ignored.refused(&event(6, 6), "the order is already Completed", false);
        let line = ignored.line().unwrap();
        assert!(line.starts_with("Not projected, 4 events: 1 older not named; OrderCancelled (version 5 of order-3fa85f64-5717-4562-b3fc-2c963f66afa6, position 5)"), "{line}");
        assert!(!line.contains("position 9999"), "{line}");
    }

    #[test]
    fn a_rebuild_from_the_store_repairs_the_store_s_own_events_not_the_strangers() {
        let mut ignored = NotProjected::default();
        ignored.refused(
            &event(5, 1),
            "refused: position 5 was projected before",
            true,
        );
        ignored.refused(&event(9999, 5), "the order is already Completed", false);
        ignored.not_published(&event(7, 2), 400_000, 262_144);
        ignored.too_large(&oversized(400_000));
        assert_eq!(ignored.count(), 4);
        ignored.rebuilt();
        // The store's own events are in the rebuilt model, the oldest too, no longer named
        // (41-AH F7: it stayed counted, "1 older not named"); the stranger and the skipped
        // message (whosever it was) are still not projected.
        assert_eq!(ignored.count(), 2);
        let line = ignored.line().unwrap();
        assert!(line.starts_with("Not projected, 2 events: "), "{line}");
        assert!(!line.contains("not named"), "{line}");
        assert!(line.contains("position 9999"), "{line}");
        // Its reason was the read model's before the Rebuild (43-AO F2).
        assert!(
            line.contains(
                "the order is already Completed (so the read model stood before the Rebuild)"
            ),
            "{line}"
        );
        assert!(!line.contains("never published"), "{line}");
        assert!(!line.contains("This page's event store holds"), "{line}");
        // Only the store's own: nothing left to say.
        let mut ours = NotProjected::default();
        ours.refused(&event(5, 1), "refused", true);
        ours.rebuilt();
        assert_eq!((ours.count(), ours.line()), (0, None));
    }

    #[test]
    fn a_refused_event_this_page_s_store_holds_blames_the_one_taken_before() {
        let mut ignored = NotProjected::default();
        ignored.refused(
            &event(5, 1),
            "OrderCancelled refused: position 5 was projected before, from another event",
            true,
        );
        let line = ignored.line().unwrap();
        assert!(
            line.contains("This page's event store holds the event refused"),
            "{line}"
        );
        assert!(
            !line.contains("This page's event store does not hold it"),
            "the refused one is the store's own: {line}"
        );
        // Both kinds named: each says which it is (44-AS F3: "This page's event store does not
        // hold it" followed the store's own event, named last).
        ignored.refused(&event(9, 9), "the order is already Completed", false);
        ignored.refused(
            &event(11, 2),
            "OrderCompleted refused: the order is already Cancelled",
            true,
        );
        let line = ignored.line().unwrap();
        assert!(
            line.contains("position 9) [in no store of this page]: the order is already Completed")
                && line.contains("position 11) [in this page's store]: OrderCompleted refused"),
            "both kinds named: {line}"
        );
        assert!(!line.contains("does not hold it"), "{line}");
        assert!(
            line.ends_with(
                " Those in no store of this page: something other than this page's OrderService \
                 published them on eventstore/orders/… (another page on the same topics, or a \
                 client by hand), and the read model ignores them. Those in this page's store: \
                 what the read model took at their place before is in no store of this page. \
                 Rebuild projects the store's own events afresh."
            ),
            "{line}"
        );
        // Several not held alone: "them" (41-AJ F2).
        let mut strangers = NotProjected::default();
        strangers.refused(&event(9, 9), "the order is already Completed", false);
        strangers.refused(&event(10, 9), "the order is already Completed", false);
        let line = strangers.line().unwrap();
        assert!(
            line.contains(
                "This page's event store does not hold them: something other than this page's \
                 OrderService published them on eventstore/orders/… (another page on the same \
                 topics, or a client by hand), and the read model ignores them."
            ),
            "{line}"
        );
    }

    #[test]
    fn an_event_the_broker_would_not_take_is_named_with_its_size_and_the_limit() {
        let mut ignored = NotProjected::default();
        ignored.not_published(&event(7, 1), 454, 420);
        assert_eq!(
            ignored.line().unwrap(),
            "Not projected, 1 event: OrderCancelled (version 1 of \
             order-3fa85f64-5717-4562-b3fc-2c963f66afa6, position 7) was never published: its \
             PUBLISH is 454 bytes, more than the broker's Maximum Packet Size of 420, so the \
             events after it wait for it for good."
        );
    }

    #[test]
    fn only_a_skipped_message_says_nothing_of_other_publishers() {
        let mut ignored = NotProjected::default();
        ignored.too_large(&oversized(300_000));
        let line = ignored.line().unwrap();
        assert!(
            line.starts_with("Not projected, 1 event: a message of 300 KB"),
            "{line}"
        );
        assert!(!line.contains("No event store"), "{line}");
    }
}
