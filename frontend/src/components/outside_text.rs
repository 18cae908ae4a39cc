//! Text from outside in the page: each string that came over the wire (a topic, a payload, a
//! client id, a reason) sits in its own `<bdi>`, so right-to-left text cannot reorder the words
//! around it, and each control or invisible character shows as a marked box
//! (`⟨U+202E RLO⟩`, its name as the title) instead of acting. The rules are the core's
//! ([`eda_core::outside_text`]); this only draws them.

use yew::prelude::*;

use eda_core::outside_text::{cut, isolated_runs, long_name, marker, pieces, visible, Piece};

fn shown(text: &str, keep_lines: bool) -> Html {
    pieces(text, keep_lines)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => html! { { text } },
            Piece::Invisible(c) => html! {
                <span class="invisible-char" title={long_name(c)}>{ marker(c) }</span>
            },
        })
        .collect()
}

/// A string from outside, on one line: isolated, its invisible characters shown.
pub fn outside(text: &str) -> Html {
    html! { <bdi class="outside">{ shown(text, false) }</bdi> }
}

/// A string from outside in a tight place (a table cell): as [`outside`], but cut to its first
/// `max` characters when longer, with `…` after them and the whole string (its invisible
/// characters named) as the title.
pub fn outside_cut(text: &str, max: usize) -> Html {
    match cut(text, max) {
        None => outside(text),
        Some(start) => html! {
            <bdi class="outside cut" title={visible(text).into_owned()}>
                { shown(start, false) }<span aria-hidden="true">{ "…" }</span>
            </bdi>
        },
    }
}

/// A string from outside shown as a block (a payload): line feeds and tabs kept.
pub fn outside_lines(text: &str) -> Html {
    html! { <bdi class="outside">{ shown(text, true) }</bdi> }
}

/// A sentence of ours holding strings from outside that the core isolated
/// ([`eda_core::outside_text::isolate`]): each such run becomes a `<bdi>`, and any invisible
/// character left anywhere is shown.
pub fn sentence(text: &str) -> Html {
    isolated_runs(text)
        .into_iter()
        .map(|(isolated, run)| {
            if isolated {
                html! { <bdi class="outside">{ shown(run, false) }</bdi> }
            } else {
                shown(run, false)
            }
        })
        .collect()
}

/// A reason or message of ours that may quote text from outside: isolated as a whole from what
/// is around it, and within it as [`sentence`] does.
pub fn reason(text: &str) -> Html {
    html! { <bdi class="reason-text">{ sentence(text) }</bdi> }
}

/// As [`reason`], in a tight place: cut to its first `max` characters when longer, the whole as
/// the title.
pub fn reason_cut(text: &str, max: usize) -> Html {
    match cut(text, max) {
        None => reason(text),
        Some(start) => html! {
            // Our sentence: its outside runs are already named and isolated.
            <bdi class="reason-text cut" title={text.to_owned()}>
                { sentence(start) }<span aria-hidden="true">{ "…" }</span>
            </bdi>
        },
    }
}
