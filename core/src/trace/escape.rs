//! Text from the wire (topics, payload-derived labels) placed into SVG and Mermaid must stay
//! text: these turn the characters each format would read as syntax into its escapes.

/// For XML text and attribute values. Characters XML 1.0 cannot hold at all (most control
/// characters) become U+FFFD, so the document always parses.
pub(super) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// For a Mermaid message: one line, and none of the characters Mermaid's grammar or its HTML
/// rendering reads (`;` ends a statement, `#` starts an entity, `<br>` breaks a line, `&lt;` is
/// an HTML entity, `%%{…}%%` is a directive wherever it stands: a topic from outside could
/// restyle or reconfigure the diagram, found by a newcomer's break-test), written
/// as Mermaid's numeric entity codes `#NN;`.
pub(super) fn mermaid(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' | ';' | ':' | '<' | '>' | '&' | '%' => {
                out.push('#');
                out.push_str(&u32::from(c).to_string());
                out.push(';');
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_keeps_markup_as_text() {
        assert_eq!(
            xml(r#"<script>&"x'</script>"#),
            "&lt;script&gt;&amp;&quot;x&apos;&lt;/script&gt;"
        );
        assert_eq!(
            xml("a\u{0}b\u{1b}c\u{ffff}\td"),
            "a\u{fffd}b\u{fffd}c\u{fffd}\td"
        );
        assert_eq!(xml("café ✓"), "café ✓");
    }

    #[test]
    fn mermaid_keeps_one_statement_on_one_line() {
        assert_eq!(
            mermaid("a;b#c:d<br>e&f\ng\r\"h%"),
            "a#59;b#35;c#58;d#60;br#62;e#38;f g \"h#37;"
        );
        assert_eq!(
            mermaid("x%%{init: {\"theme\":\"dark\"}}%%"),
            "x#37;#37;{init#58; {\"theme\"#58;\"dark\"}}#37;#37;"
        );
        assert_eq!(mermaid("orderId 3fa85f64…"), "orderId 3fa85f64…");
    }
}
