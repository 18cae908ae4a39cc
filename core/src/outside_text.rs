//! Text from outside (payload fields, topic names, client ids, reason strings), shown as it is.
//!
//! Anyone may publish to the broker, so a customer id may hold a right-to-left override
//! (U+202E) that turns the sentence around it backwards, a NUL that shows as a blank box, or a
//! byte order mark nobody can see. Before such text is shown:
//!
//! - [`visible`] names every control and invisible character in place (`⟨U+202E RLO⟩`), so none
//!   of them acts and each can be seen; [`visible_lines`] keeps line feeds and tabs, for a
//!   payload shown as a block; [`pieces`] gives the same as pieces a view can style;
//! - [`isolate`] does that and, when the text holds right-to-left letters, wraps it in
//!   FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE (U+2068 … U+2069), the plain-text form of
//!   `<bdi>`, so it cannot reorder the words around it wherever the sentence goes (a title, an
//!   SVG label, an export). Text without right-to-left letters and without controls is returned
//!   unchanged: isolation would change nothing in how it shows, and our own labels and tests
//!   stay byte for byte what they were. A view turns each isolated run back into `<bdi>`
//!   ([`isolated_runs`]).
//! - [`char_at`] and [`long_name`] name an invisible character where a parser stopped, so an
//!   error caused by a BOM or a zero-width space says so.
//!
//! Only how the text is shown changes: bytes on the wire and in recordings stay as they came.
//!
//! ```
//! use eda_core::outside_text::{isolate, visible};
//!
//! assert_eq!(visible("C\u{202E}123"), "C⟨U+202E RLO⟩123");
//! assert_eq!(visible("C\u{0}1"), "C⟨U+0000 NUL⟩1");
//! assert_eq!(isolate("C123"), "C123");
//! assert_eq!(isolate("שלום"), "\u{2068}שלום\u{2069}");
//! ```

use std::borrow::Cow;

/// Opens an isolated run in plain text (U+2068 FIRST STRONG ISOLATE).
pub const ISOLATE_START: char = '\u{2068}';
/// Closes it (U+2069 POP DIRECTIONAL ISOLATE).
pub const ISOLATE_END: char = '\u{2069}';

/// Characters that do not show, or that change how the text around them shows: ranges with a
/// short name (shown in the text) and a long one (for titles and error messages). Zero-width
/// joiners (U+200C, U+200D) and variation selectors are left alone: scripts and emoji need them
/// and they reorder nothing.
const INVISIBLE: &[(char, char, &str, &str)] = &[
    ('\u{0}', '\u{0}', "NUL", "NULL"),
    ('\u{1}', '\u{8}', "", "control character"),
    ('\u{9}', '\u{9}', "TAB", "CHARACTER TABULATION"),
    ('\u{A}', '\u{A}', "LF", "LINE FEED"),
    ('\u{B}', '\u{C}', "", "control character"),
    ('\u{D}', '\u{D}', "CR", "CARRIAGE RETURN"),
    ('\u{E}', '\u{1A}', "", "control character"),
    ('\u{1B}', '\u{1B}', "ESC", "ESCAPE"),
    ('\u{1C}', '\u{1F}', "", "control character"),
    ('\u{7F}', '\u{7F}', "DEL", "DELETE"),
    ('\u{80}', '\u{9F}', "", "control character"),
    ('\u{AD}', '\u{AD}', "SHY", "SOFT HYPHEN"),
    ('\u{34F}', '\u{34F}', "CGJ", "COMBINING GRAPHEME JOINER"),
    ('\u{61C}', '\u{61C}', "ALM", "ARABIC LETTER MARK"),
    ('\u{115F}', '\u{1160}', "", "HANGUL FILLER"),
    ('\u{17B4}', '\u{17B5}', "", "KHMER INHERENT VOWEL"),
    ('\u{180E}', '\u{180E}', "MVS", "MONGOLIAN VOWEL SEPARATOR"),
    ('\u{200B}', '\u{200B}', "ZWSP", "ZERO WIDTH SPACE"),
    ('\u{200E}', '\u{200E}', "LRM", "LEFT-TO-RIGHT MARK"),
    ('\u{200F}', '\u{200F}', "RLM", "RIGHT-TO-LEFT MARK"),
    ('\u{2028}', '\u{2028}', "LSEP", "LINE SEPARATOR"),
    ('\u{2029}', '\u{2029}', "PSEP", "PARAGRAPH SEPARATOR"),
    ('\u{202A}', '\u{202A}', "LRE", "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', '\u{202B}', "RLE", "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', '\u{202C}', "PDF", "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', '\u{202D}', "LRO", "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', '\u{202E}', "RLO", "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{2060}', '\u{2060}', "WJ", "WORD JOINER"),
    ('\u{2061}', '\u{2064}', "", "invisible operator"),
    ('\u{2066}', '\u{2066}', "LRI", "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', '\u{2067}', "RLI", "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', '\u{2068}', "FSI", "FIRST STRONG ISOLATE"),
    ('\u{2069}', '\u{2069}', "PDI", "POP DIRECTIONAL ISOLATE"),
    ('\u{206A}', '\u{206F}', "", "deprecated format character"),
    ('\u{3164}', '\u{3164}', "", "HANGUL FILLER"),
    ('\u{FEFF}', '\u{FEFF}', "BOM", "BYTE ORDER MARK"),
    ('\u{FFA0}', '\u{FFA0}', "", "HALFWIDTH HANGUL FILLER"),
    (
        '\u{FFF9}',
        '\u{FFFB}',
        "",
        "interlinear annotation character",
    ),
    ('\u{E0000}', '\u{E007F}', "", "tag character"),
];

/// Spaces that look like a space but are not JSON whitespace: named in parser errors only.
const LOOKALIKE_SPACES: &[(char, char, &str)] = &[
    ('\u{A0}', '\u{A0}', "NO-BREAK SPACE"),
    ('\u{1680}', '\u{1680}', "OGHAM SPACE MARK"),
    ('\u{2000}', '\u{200A}', "typographic space"),
    ('\u{202F}', '\u{202F}', "NARROW NO-BREAK SPACE"),
    ('\u{205F}', '\u{205F}', "MEDIUM MATHEMATICAL SPACE"),
    ('\u{3000}', '\u{3000}', "IDEOGRAPHIC SPACE"),
];

fn lookup(c: char) -> Option<(&'static str, &'static str)> {
    INVISIBLE
        .iter()
        .find(|(from, to, _, _)| (*from..=*to).contains(&c))
        .map(|(_, _, short, long)| (*short, *long))
}

/// Whether `c` does not show, or changes how the text around it shows.
pub fn is_invisible(c: char) -> bool {
    lookup(c).is_some()
}

/// `⟨U+202E RLO⟩`: how an invisible character is written in its place.
pub fn marker(c: char) -> String {
    match lookup(c) {
        Some((short, _)) if !short.is_empty() => format!("⟨U+{:04X} {short}⟩", u32::from(c)),
        _ => format!("⟨U+{:04X}⟩", u32::from(c)),
    }
}

/// `U+202E RIGHT-TO-LEFT OVERRIDE`, for a title or an error; `None` for a character that shows.
pub fn long_name(c: char) -> Option<String> {
    let name = lookup(c).map(|(_, long)| long).or_else(|| {
        LOOKALIKE_SPACES
            .iter()
            .find(|(from, to, _)| (*from..=*to).contains(&c))
            .map(|(_, _, long)| *long)
    })?;
    let short = lookup(c).map_or("", |(short, _)| short);
    Some(match short {
        "" | "TAB" | "LF" | "CR" | "NUL" | "DEL" | "ESC" => {
            format!("U+{:04X} {name}", u32::from(c))
        }
        short => format!("U+{:04X} {name} ({short})", u32::from(c)),
    })
}

/// A piece of text from outside as it is to be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Characters that show as they are.
    Text(&'a str),
    /// A character that would not show, or would reorder its neighbours: shown by its
    /// [`marker`], e.g. in a box, with its [`long_name`] as a title.
    Invisible(char),
}

/// `text` cut into what shows as it is and the invisible characters between. With
/// `keep_lines`, line feeds and tabs stay in the text (a payload shown as a block).
pub fn pieces(text: &str, keep_lines: bool) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let kept = keep_lines && matches!(c, '\n' | '\t');
        if is_invisible(c) && !kept {
            if start < i {
                out.push(Piece::Text(&text[start..i]));
            }
            out.push(Piece::Invisible(c));
            start = i + c.len_utf8();
        }
    }
    if start < text.len() {
        out.push(Piece::Text(&text[start..]));
    }
    out
}

fn join(pieces: Vec<Piece<'_>>) -> String {
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => Cow::Borrowed(text),
            Piece::Invisible(c) => Cow::Owned(marker(c)),
        })
        .collect()
}

/// `text` with every control and invisible character named in its place, on one line.
pub fn visible(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_invisible) {
        Cow::Owned(join(pieces(text, false)))
    } else {
        Cow::Borrowed(text)
    }
}

/// As [`visible`], but line feeds and tabs stay: for a payload shown as a block.
pub fn visible_lines(text: &str) -> Cow<'_, str> {
    if text
        .chars()
        .any(|c| is_invisible(c) && !matches!(c, '\n' | '\t'))
    {
        Cow::Owned(join(pieces(text, true)))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `c` is a right-to-left letter or digit (Hebrew, Arabic, Syriac, Thaana, N'Ko …):
/// what could reorder the text around it.
fn is_right_to_left(c: char) -> bool {
    matches!(c,
        '\u{590}'..='\u{8FF}'
        | '\u{FB1D}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFE}'
        | '\u{10800}'..='\u{10FFF}'
        | '\u{1E800}'..='\u{1EFFF}')
}

/// `text` made [`visible`], and isolated from the text around it (FSI … PDI) when it holds
/// right-to-left letters. For text from outside placed inside a sentence of ours.
pub fn isolate(text: &str) -> Cow<'_, str> {
    let shown = visible(text);
    if shown.chars().any(is_right_to_left) {
        Cow::Owned(format!("{ISOLATE_START}{shown}{ISOLATE_END}"))
    } else {
        shown
    }
}

/// A sentence cut into our words (`false`) and the runs [`isolate`] marked (`true`, without the
/// marks), for a view that shows each run in a `<bdi>`. Marks without a partner are dropped.
pub fn isolated_runs(sentence: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = sentence;
    while let Some(open) = rest.find(ISOLATE_START) {
        let inside = &rest[open + ISOLATE_START.len_utf8()..];
        let Some(close) = inside.find(ISOLATE_END) else {
            break;
        };
        if open > 0 {
            out.push((false, &rest[..open]));
        }
        out.push((true, &inside[..close]));
        rest = &inside[close + ISOLATE_END.len_utf8()..];
    }
    let rest = rest.trim_matches([ISOLATE_START, ISOLATE_END]);
    if !rest.is_empty() {
        out.push((false, rest));
    }
    out
}

/// `text` from outside, in double quotes, as a sentence of ours echoes a value it refuses (a
/// link parameter, a field): [`isolate`]d, so an invisible character is named (`"⟨U+202E RLO⟩2"`,
/// not `"\u{202e}2"`) and right-to-left letters cannot reorder the sentence.
///
/// A value longer than [`QUOTED_CHARS`] characters is cut there, and its length said, so a
/// sentence echoing a pasted page of text stays a sentence.
///
/// ```
/// use eda_core::outside_text::quoted;
///
/// assert_eq!(quoted("7"), "\"7\"");
/// assert_eq!(quoted("\u{202E}2"), "\"⟨U+202E RLO⟩2\"");
/// assert_eq!(quoted(&"a".repeat(5000)), format!("\"{}…\" (5000 characters)", "a".repeat(80)));
/// ```
pub fn quoted(text: &str) -> String {
    match cut(text, QUOTED_CHARS) {
        Some(start) => format!(
            "\"{}…\" ({} characters)",
            isolate(start),
            text.chars().count()
        ),
        None => format!("\"{}\"", isolate(text)),
    }
}

/// A setting's value as a refusal names it: [`quoted`], or `an empty value` for nothing but
/// white space (a cleared field, `?projection_ms=` with nothing after it), which `""` would
/// name poorly (a newcomer's break-test: `"" is not a projection delay`).
pub fn value_named(text: &str) -> String {
    if text.trim().is_empty() {
        "an empty value".to_owned()
    } else {
        quoted(text)
    }
}

/// How many characters of a value [`quoted`] echoes before it cuts.
pub const QUOTED_CHARS: usize = 80;

/// The first `max` characters of `text` when it has more (for a tight place that shows the
/// rest elsewhere, e.g. in a title); `None` when it fits. broker-bridge's, which cuts the URLs
/// its advice repeats, so the two cut alike.
pub use broker_bridge::url::cut;

/// `n` with a comma between each group of three digits (`70,680`), as the page writes counts.
///
/// ```
/// use eda_core::outside_text::grouped;
///
/// assert_eq!(grouped(20_000), "20,000");
/// assert_eq!(grouped(999), "999");
/// ```
pub use broker_bridge::codec::grouped;

/// What a view adds after `text` cut by [`cut`] to `max` characters, so the reader knows how
/// much is not shown: `"(20,000 characters)"`; `None` when it fits.
///
/// ```
/// use eda_core::outside_text::length_note;
///
/// assert_eq!(length_note(&"x".repeat(20_000), 64).as_deref(), Some("(20,000 characters)"));
/// assert_eq!(length_note("C123", 64), None);
/// ```
pub fn length_note(text: &str, max: usize) -> Option<String> {
    cut(text, max)?;
    Some(format!(
        "({} characters)",
        grouped(text.chars().count() as u64)
    ))
}

/// The character at a parser's `line` and `column` (1-based; the column counts bytes, as
/// `serde_json` does); `None` off the text or inside a character.
pub fn char_at(text: &str, line: usize, column: usize) -> Option<char> {
    let line_text = text.split('\n').nth(line.checked_sub(1)?)?;
    line_text.get(column.checked_sub(1)?..)?.chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_named_in_place() {
        let table = [
            ("C\u{202E}123", "C⟨U+202E RLO⟩123"),
            ("C\u{0}123", "C⟨U+0000 NUL⟩123"),
            ("\u{FEFF}{}", "⟨U+FEFF BOM⟩{}"),
            ("a\u{200B}b\u{2066}c", "a⟨U+200B ZWSP⟩b⟨U+2066 LRI⟩c"),
            ("a\nb\tc\r", "a⟨U+000A LF⟩b⟨U+0009 TAB⟩c⟨U+000D CR⟩"),
            ("\u{7}\u{85}", "⟨U+0007⟩⟨U+0085⟩"),
            ("tag\u{E0041}", "tag⟨U+E0041⟩"),
        ];
        for (text, shown) in table {
            assert_eq!(visible(text), shown, "{text:?}");
        }
    }

    #[test]
    fn ordinary_text_is_returned_as_it_is() {
        for text in [
            "C123",
            "orders/created",
            "café ✓",
            "ada@example.com",
            "👩‍💻", // a zero-width joiner between emoji stays
            "שלום",
            "عربي",
        ] {
            assert!(
                matches!(visible(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn a_block_keeps_its_lines_and_tabs() {
        assert_eq!(
            visible_lines("{\n\t\"a\": \"\u{202E}x\"\r\n}"),
            "{\n\t\"a\": \"⟨U+202E RLO⟩x\"⟨U+000D CR⟩\n}"
        );
        assert!(matches!(visible_lines("{\n\t1\n}"), Cow::Borrowed(_)));
    }

    #[test]
    fn pieces_tell_text_from_invisible_characters() {
        assert_eq!(
            pieces("a\u{202E}bc\u{0}", false),
            [
                Piece::Text("a"),
                Piece::Invisible('\u{202E}'),
                Piece::Text("bc"),
                Piece::Invisible('\u{0}')
            ]
        );
        assert_eq!(pieces("", false), []);
    }

    #[test]
    fn right_to_left_text_is_isolated_and_other_text_is_not() {
        assert_eq!(isolate("C123"), "C123");
        assert_eq!(isolate("C\u{202E}123"), "C⟨U+202E RLO⟩123");
        assert_eq!(isolate("שלום 1"), "\u{2068}שלום 1\u{2069}");
        // Isolates inside the text are named, so the marks we add cannot be forged.
        assert_eq!(isolate("\u{2069}שלום"), "\u{2068}⟨U+2069 PDI⟩שלום\u{2069}");
    }

    #[test]
    fn isolated_runs_come_back_for_the_view() {
        let sentence = format!("sent to {} and {}.", isolate("שלום"), isolate("C1"));
        assert_eq!(
            isolated_runs(&sentence),
            [(false, "sent to "), (true, "שלום"), (false, " and C1.")]
        );
        assert_eq!(isolated_runs("plain"), [(false, "plain")]);
        assert_eq!(isolated_runs("\u{2068}open"), [(false, "open")]);
    }

    #[test]
    fn a_refused_value_is_quoted_visibly_and_long_text_is_cut_on_a_character() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted(""), "\"\"");
        assert_eq!(quoted("\u{0}1"), "\"⟨U+0000 NUL⟩1\"");
        assert_eq!(quoted("שלום"), "\"\u{2068}שלום\u{2069}\"");
        assert_eq!(cut("abcdef", 3), Some("abc"));
        assert_eq!(cut("abc", 3), None);
        assert_eq!(cut("éé€€", 3), Some("éé€"));
        assert_eq!(cut("", 0), None);
    }

    #[test]
    fn a_parser_position_names_what_is_there() {
        let named = |text: &str, line, column| char_at(text, line, column).and_then(long_name);
        assert_eq!(
            named("\u{FEFF}{}", 1, 1).as_deref(),
            Some("U+FEFF BYTE ORDER MARK (BOM)")
        );
        assert_eq!(
            named("{\"é\":\u{200B}1}", 1, 7).as_deref(),
            Some("U+200B ZERO WIDTH SPACE (ZWSP)")
        );
        assert_eq!(
            named("{\"a\":1,\n \u{A0}\"b\":2}", 2, 2).as_deref(),
            Some("U+00A0 NO-BREAK SPACE")
        );
        assert_eq!(named("{\"a\": x}", 1, 7), None);
        assert_eq!(char_at("{}", 0, 1), None);
        assert_eq!(char_at("{}", 5, 1), None);
        assert_eq!(char_at("é", 1, 2), None, "not on a character boundary");
        assert_eq!(long_name('\u{0}').as_deref(), Some("U+0000 NULL"));
    }
}
