//! Escaping for each medium a report is read in. Every string that came from
//! the repository (file names, commit subjects, label values, rule messages,
//! waiver reasons...) goes through one of these where it is written, so that
//! it can neither drive a terminal, start a Markdown block or a workflow
//! command, nor break out of a URI, an XML document or a SARIF message.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters that must never reach a reader raw: C0 and C1 controls (ESC
/// starts terminal sequences, CR rewrites a line, LF starts one), DEL, and the
/// Unicode format and separator characters that reorder or hide text (the
/// Trojan Source class: bidi embeddings, overrides and isolates; zero-width
/// characters; line and paragraph separators; non-characters).
pub fn is_hazard(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{ad}'
            | '\u{34f}'
            | '\u{61c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fffb}'
            | '\u{fffe}'
            | '\u{ffff}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// One line of text with every hazard shown as a visible escape (`\x1b`,
/// `\n`, `\u{202e}`): for terminals and logs, whether or not stdout is a
/// terminal, and the first step of every other medium.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hazard) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hazard(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether the hazard at byte `i` of a multi-line text is its structure:
/// LF, tab, and CR right before LF.
fn is_layout(s: &str, i: usize, c: char) -> bool {
    c == '\n' || c == '\t' || (c == '\r' && s[i + 1..].starts_with('\n'))
}

/// A multi-line text (a source file shown in a snippet) with every hazard
/// but its layout made visible.
pub fn visible_text(s: &str) -> Cow<'_, str> {
    if !s
        .char_indices()
        .any(|(i, c)| is_hazard(c) && !is_layout(s, i, c))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for (i, c) in s.char_indices() {
        if is_hazard(c) && !is_layout(s, i, c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Where byte `at` of `s` lands in `visible_text(s)`.
pub fn visible_text_offset(s: &str, at: usize) -> usize {
    let mut scratch = String::new();
    s.char_indices()
        .take_while(|(i, _)| *i < at)
        .map(|(i, c)| {
            if is_hazard(c) && !is_layout(s, i, c) {
                scratch.clear();
                push_escape(&mut scratch, c);
                scratch.len()
            } else {
                c.len_utf8()
            }
        })
        .sum()
}

/// Inline Markdown text (a table cell, a paragraph): hazards made visible,
/// then every ASCII punctuation character CommonMark can give a meaning to
/// backslash-escaped, so no emphasis, link, image, autolink, raw HTML, entity,
/// table pipe or code span can start; an `@` gets a word joiner so that a
/// name cannot mention (notify) a GitHub user or team in a comment.
pub fn markdown(s: &str) -> String {
    let s = visible(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
        if c == '@' {
            out.push('\u{2060}');
        }
    }
    out
}

/// A path as a URI reference (RFC 3986): every byte outside the unreserved
/// set and `/` percent-encoded, so spaces, `%`, `#`, `?`, `(`, `)`, controls
/// and non-ASCII bytes can neither end a link nor change what it points at.
pub fn uri_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A URL of ours from the environment (the server and repository of a
/// GitHub run): reserved characters kept, anything that could end a
/// Markdown link or a JSON-quoted URI (spaces, parentheses, quotes, `<`,
/// `>`, controls, non-ASCII) percent-encoded.
pub fn uri(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?#@!$&*+,;=%".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `%`, CR and LF in a workflow command's message (the Actions toolkit's
/// `escapeData`), after hazards are made visible (the log viewer renders
/// ANSI sequences).
pub fn workflow_data(s: &str) -> String {
    visible(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Also `:` and `,` in a workflow command's property (`escapeProperty`).
pub fn workflow_property(s: &str) -> String {
    workflow_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A SARIF plain-text message: hazards made visible, and square brackets
/// escaped (SARIF 3.11.6: `[text](n)` is an embedded link to a location, so
/// repository text must not be able to form one).
pub fn sarif_message(s: &str) -> String {
    let s = visible(s);
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            // A backslash before a bracket would escape our escape.
            '\\' if matches!(chars.peek(), Some('[' | ']' | '\\')) => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// Text for an XML document (JUnit): hazards made visible, which also removes
/// every character XML 1.0 does not allow (C0 controls but tab, LF and CR;
/// U+FFFE and U+FFFF); the XML writer escapes markup.
pub fn xml(s: &str) -> Cow<'_, str> {
    visible(s)
}

/// At most `max` bytes of `s`, cut at a character boundary, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_escapes_controls_and_bidi() {
        assert_eq!(
            visible("a\x1b[31mb\r\n\u{202e}c\u{85}"),
            "a\\x1b[31mb\\r\\n\\u{202e}c\\x85"
        );
        assert!(matches!(visible("plain ü"), Cow::Borrowed(_)));
        assert_eq!(visible_text("a\r\nb\rc\x07\td\n"), "a\r\nb\\rc\\x07\td\n");
    }

    #[test]
    fn markdown_cannot_start_markup() {
        assert_eq!(
            markdown("![x](http://e/i.png) <img> `c` | @org/team"),
            "\\!\\[x\\]\\(http\\:\\/\\/e\\/i\\.png\\) \\<img\\> \\`c\\` \\| \\@\u{2060}org\\/team"
        );
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri_path("a b/%#?ü.yaml"), "a%20b/%25%23%3F%C3%BC.yaml");
        assert_eq!(uri("https://h/o/r (x)"), "https://h/o/r%20%28x%29");
    }

    #[test]
    fn workflow_commands_escape_like_the_toolkit() {
        assert_eq!(workflow_data("50% done"), "50%25 done");
        assert_eq!(workflow_property("a:b,c%"), "a%3Ab%2Cc%25");
        // A raw line break cannot survive: it is made visible first.
        assert!(!workflow_data("x\r\n::error::y").contains(['\r', '\n']));
    }

    #[test]
    fn sarif_messages_cannot_embed_links() {
        assert_eq!(
            sarif_message("see [here](1) \\[x"),
            "see \\[here\\](1) \\\\\\[x"
        );
    }

    #[test]
    fn truncate_at_a_boundary() {
        assert_eq!(truncate("üüü", 5), "ü…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
