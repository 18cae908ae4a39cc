//! The warning a page shows while another page's services are online on its broker under the
//! same topics: each is a second set of consumers of every order.

use std::collections::BTreeSet;

use crate::domain::namespace::Namespace;

/// The sentence for the other pages' service client ids `others` (see
/// [`super::State::other_playgrounds`]) when this page runs under `namespace`: what happens (every
/// order processed twice) and what to do (a topic namespace per page, `?ns=`; another broker; or
/// close the other tab).
pub fn other_pages_warning(others: &BTreeSet<String>, namespace: &Namespace) -> String {
    // Client ids come from the wire (anyone may publish a status): an invisible or
    // direction-changing character is named, not obeyed (a newcomer's break-test: a U+202E in
    // one drew the whole warning mirrored).
    let ids = others
        .iter()
        .map(|id| crate::outside_text::visible(id).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let (topics, advice) = match namespace.value() {
        None => (
            "the same topics".to_owned(),
            "Give each page its own topic namespace (?ns=class-7 in one link, ?ns=class-8 in \
             the other)"
                .to_owned(),
        ),
        Some(ns) => (
            format!("the same topics, under {ns}/"),
            format!("Give the other page a namespace of its own (not ?ns={ns})"),
        ),
    };
    // One page or several (a classroom on one broker: 38-Z F1 read "processed twice" beside
    // orders charged 5 times, with five other pages online).
    let pages: BTreeSet<&str> = others.iter().map(|id| page_of(id)).collect();
    match pages.len() {
        0 | 1 => format!(
            "Another page's services are online on this broker ({ids}): they follow {topics}, \
             so every order is processed twice: reserved twice (each page's InventoryService \
             keeps its reservation), confirmed or cancelled by both OrderServices, and charged \
             twice unless one page's OrderService confirms it on the other page's charge first \
             (that page's PaymentService then refuses to charge it). {advice}, or its own \
             broker (?broker=; another node of the same cluster is the same broker), or close \
             the other tab."
        ),
        n => {
            let times = n + 1;
            let advice = advice.replace("Give the other page", "Give each other page");
            format!(
                "{n} other pages' services are online on this broker ({ids}): they follow \
                 {topics}, so every order is processed {times} times: reserved {times} times \
                 (each page's InventoryService keeps its reservation), confirmed or cancelled \
                 by every page's OrderService, and charged up to {times} times (a page's \
                 PaymentService refuses to charge an order its OrderService has already \
                 confirmed on another page's charge). {advice}, or its own broker (?broker=; \
                 another node of the same cluster is the same broker), or close the other tabs."
            )
        }
    }
}

/// Whether the warning shows, once the reader hid it while `dismissed` were online: while any
/// of `others` belongs to a page none of them belongs to ([`page_of`]), i.e. until another
/// page's services come online. A page already hidden stays hidden when it reconnects, and when
/// more of its services come online after the click (a newcomer's page said online one service
/// at a time, and the warning came back as each did). On a phone the warning covers a third of
/// the window, so it can be hidden.
pub fn shows_warning(others: &BTreeSet<String>, dismissed: &BTreeSet<String>) -> bool {
    let hidden: BTreeSet<&str> = dismissed.iter().map(|id| page_of(id)).collect();
    others.iter().any(|id| !hidden.contains(page_of(id)))
}

/// The page a service's client id belongs to: `eda-<tag>` of the page's ids
/// (`eda-<tag>-<service>`, `eda-<tag>-payment-2`; [`crate::services::instances::Instance::client_id`]), or the whole id for
/// one of another form (a client the page did not name).
fn page_of(client_id: &str) -> &str {
    let mut dashes = client_id.match_indices('-').map(|(i, _)| i);
    match (client_id.starts_with("eda-"), dashes.nth(1)) {
        (true, Some(second)) => &client_id[..second],
        _ => client_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_counts_the_other_pages() {
        let ids = |list: &[&str]| {
            list.iter()
                .map(|s| (*s).to_owned())
                .collect::<BTreeSet<_>>()
        };
        let one = other_pages_warning(
            &ids(&["eda-aa-order", "eda-aa-payment", "eda-aa-payment-2"]),
            &Namespace::none(),
        );
        assert!(one.contains("every order is processed twice"), "{one}");
        let five = other_pages_warning(
            &ids(&[
                "eda-aa-order",
                "eda-bb-order",
                "eda-bb-payment",
                "eda-cc-order",
                "eda-dd-order",
                "eda-ee-inventory",
            ]),
            &Namespace::none(),
        );
        assert!(
            five.starts_with("5 other pages' services are online on this broker"),
            "{five}"
        );
        assert!(five.contains("every order is processed 6 times: reserved 6 times"));
        assert!(five.contains("charged up to 6 times"));
        assert!(five.ends_with("or close the other tabs."));
    }

    #[test]
    fn a_client_id_from_the_wire_cannot_turn_the_warning_around() {
        let others: BTreeSet<String> = ["ab\u{202e}evil".to_owned()].into();
        let text = other_pages_warning(&others, &Namespace::none());
        assert!(!text.contains('\u{202e}'), "{text}");
        assert!(text.contains("(ab⟨U+202E RLO⟩evil)"), "{text}");
    }

    #[test]
    fn a_hidden_warning_comes_back_only_for_another_page() {
        let set = |ids: &[&str]| {
            ids.iter()
                .map(|id| (*id).to_owned())
                .collect::<BTreeSet<_>>()
        };
        let page_b = set(&["eda-b2c3d4-order", "eda-b2c3d4-payment"]);
        assert!(!shows_warning(&BTreeSet::new(), &BTreeSet::new()), "alone");
        assert!(shows_warning(&page_b, &BTreeSet::new()), "not hidden");
        assert!(!shows_warning(&page_b, &page_b), "hidden");
        // One of B's services going offline and back: the same page, still hidden.
        assert!(!shows_warning(&set(&["eda-b2c3d4-order"]), &page_b));
        // Another page: shown again.
        let b_and_c = set(&["eda-b2c3d4-order", "eda-b2c3d4-payment", "eda-c9d8e7-order"]);
        assert!(shows_warning(&b_and_c, &page_b));
        // B's other services online after the click: still B, still hidden.
        let all_of_b = set(&[
            "eda-b2c3d4-order",
            "eda-b2c3d4-payment",
            "eda-b2c3d4-payment-2",
            "eda-b2c3d4-query",
        ]);
        assert!(!shows_warning(&all_of_b, &page_b));
        // A client id of another form is a page of its own.
        assert!(shows_warning(&set(&["someone"]), &page_b));
        assert!(!shows_warning(&set(&["someone"]), &set(&["someone"])));
    }

    #[test]
    fn the_warning_names_the_other_services_and_suggests_a_namespace() {
        let others: BTreeSet<String> = [
            "eda-b2c3d4-order".to_owned(),
            "eda-b2c3d4-payment".to_owned(),
        ]
        .into();
        let plain = other_pages_warning(&others, &Namespace::none());
        assert!(
            plain.contains("(eda-b2c3d4-order, eda-b2c3d4-payment)"),
            "{plain}"
        );
        assert!(plain.contains("every order is processed twice"), "{plain}");
        assert!(plain.contains("?ns=class-7"), "{plain}");
        let ns: Namespace = "class-7".parse().unwrap();
        let under = other_pages_warning(&others, &ns);
        assert!(
            under.contains("under class-7/") && under.contains("not ?ns=class-7"),
            "{under}"
        );
    }
}
