//! Commit-message trailers, parsed the way git's `trailer.c` parses them
//! (`git interpret-trailers --parse`), plus git's `stripspace` for messages
//! that come from an editor (the commit-msg hook sees comments and scissors).
//!
//! The parser works on bytes because commit messages need not be UTF-8;
//! keys and values are decoded lossily only at the end.

use crate::input::Trailer;

/// Where the trailer block sits in a message, and what it holds.
#[derive(Debug, Default)]
pub struct TrailerBlock {
    pub trailers: Vec<Trailer>,
    /// Byte range of the block within the message; empty when there is none.
    pub range: std::ops::Range<usize>,
}

/// git's default `core.commentChar`.
const COMMENT: u8 = b'#';
/// Prefixes that git itself writes; a block holding one needs only 25% trailer lines.
const GIT_GENERATED_PREFIXES: [&[u8]; 2] = [b"Signed-off-by: ", b"(cherry picked from commit "];
/// The scissors line of `git commit -v`; everything below it is ignored.
const CUT_LINE: &[u8] = b" ------------------------ >8 ------------------------\n";

/// Parse the trailers of `message`.
///
/// `divider`: honour a `---` line as the start of a patch (what
/// `interpret-trailers` does by default); `git log --format=%(trailers)` and
/// govops' commit view turn it off, because a commit message is not an email.
pub fn parse(message: &[u8], divider: bool) -> TrailerBlock {
    let end = end_of_log_message(message, divider);
    let start = trailer_block_start(message, end);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    // Index of the last line that can take continuations (a real trailer).
    let mut last: Option<usize> = None;
    for line in split_inclusive(&message[start..end]) {
        if let (Some(i), true) = (last, line.first().is_some_and(|b| is_space(*b))) {
            lines[i].extend_from_slice(line);
            continue;
        }
        lines.push(line.to_vec());
        last = separator(line).map(|_| lines.len() - 1);
    }
    let trailers = lines
        .iter()
        .filter(|l| l.first() != Some(&COMMENT))
        .filter_map(|l| {
            let sep = separator(l)?;
            let key = trim(&l[..sep]);
            let value = unfold(trim(&l[sep + 1..]));
            Some(Trailer {
                key: String::from_utf8_lossy(key).into_owned(),
                value: String::from_utf8_lossy(&value).into_owned(),
            })
        })
        .collect();
    TrailerBlock {
        trailers,
        range: start..end,
    }
}

/// Lines that look like trailers (`Key: value` at the start of a line, or
/// after indentation) anywhere after the subject, outside the real trailer block. Real histories hide
/// AI co-author lines there (a paragraph after the block hides it from git).
pub fn trailer_shaped_lines(message: &[u8], block: &std::ops::Range<usize>) -> Vec<Trailer> {
    let body_start = end_of_title(message, message.len());
    let mut out = Vec::new();
    let mut offset = 0;
    for line in split_inclusive(message) {
        let here = offset;
        offset += line.len();
        if here < body_start || block.contains(&here) {
            continue;
        }
        // Indented too: `git merge --squash` and squash bodies quote each
        // commit's message indented by four spaces, trailers included.
        let line = &line[line.iter().take_while(|b| is_space(**b)).count()..];
        if let Some(sep) = separator(line) {
            out.push(Trailer {
                key: String::from_utf8_lossy(trim(&line[..sep])).into_owned(),
                value: String::from_utf8_lossy(trim(&line[sep + 1..])).into_owned(),
            });
        }
    }
    out
}

/// git's `stripspace --strip-comments`, after cutting at the scissors line:
/// what `git commit` stores for a message written in an editor.
pub fn strip_message(message: &[u8]) -> Vec<u8> {
    let cut = locate_scissors(message, message.len());
    let mut out: Vec<u8> = Vec::with_capacity(cut);
    let mut pending_blank = false;
    for line in split_inclusive(&message[..cut]) {
        if line.first() == Some(&COMMENT) {
            continue;
        }
        let content = trim_end(line);
        if content.is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if pending_blank {
            out.push(b'\n');
            pending_blank = false;
        }
        out.extend_from_slice(content);
        out.push(b'\n');
    }
    out
}

fn split_inclusive(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    buf.split_inclusive(|b| *b == b'\n')
}

/// git's `isspace` (sane_ctype): space, tab, LF and CR; not VT or FF.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !is_space(*b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !is_space(*b))
        .map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

fn trim_end(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|b| !is_space(*b)).map_or(0, |i| i + 1);
    &s[..end]
}

/// Folded values collapse each newline and the indentation after it to one space.
fn unfold(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let c = value[i];
        i += 1;
        if c == b'\n' {
            while i < value.len() && is_space(value[i]) {
                i += 1;
            }
            out.push(b' ');
        } else {
            out.push(c);
        }
    }
    trim(&out).to_vec()
}

fn is_blank_line(line: &[u8]) -> bool {
    line.iter()
        .take_while(|b| **b != b'\n')
        .all(|b| is_space(*b))
}

/// Position of the `:` that ends a trailer key, when the line is a trailer
/// (git's `find_separator` returning at least 1: a line that starts with `:`
/// has no key). Keys are ASCII letters, digits and `-`, optionally followed
/// by blanks before the separator.
fn separator(line: &[u8]) -> Option<usize> {
    let mut whitespace_found = false;
    for (i, &c) in line.iter().enumerate() {
        if c == b':' {
            return (i >= 1).then_some(i);
        }
        if !whitespace_found && (c.is_ascii_alphanumeric() || c == b'-') {
            continue;
        }
        if i != 0 && (c == b' ' || c == b'\t') {
            whitespace_found = true;
            continue;
        }
        break;
    }
    None
}

/// Offset just past the subject paragraph (the title can never hold trailers).
fn end_of_title(buf: &[u8], len: usize) -> usize {
    let mut pos = 0;
    while pos < len {
        let line = line_at(buf, pos, len);
        if line.first() != Some(&COMMENT) && is_blank_line(line) {
            return pos;
        }
        pos += line.len();
    }
    len
}

fn line_at(buf: &[u8], pos: usize, len: usize) -> &[u8] {
    let rest = &buf[pos..len];
    match rest.iter().position(|b| *b == b'\n') {
        Some(i) => &rest[..=i],
        None => rest,
    }
}

/// Start of the last line before `len` (a trailing newline belongs to it).
fn last_line(buf: &[u8], len: usize) -> Option<usize> {
    match len {
        0 => None,
        1 => Some(0),
        _ => Some(
            buf[..len - 1]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1),
        ),
    }
}

/// git's `find_trailer_block_start`: walk back from the end over the last
/// paragraph; it is a trailer block when every line is a trailer, or when it
/// holds a git-generated trailer and at least 25% of its lines are trailers.
fn trailer_block_start(buf: &[u8], len: usize) -> usize {
    let title_end = end_of_title(buf, len);
    let mut only_spaces = true;
    let mut recognized_prefix = false;
    let (mut trailer_lines, mut non_trailer_lines, mut possible_continuation_lines) = (0, 0, 0);
    let mut cursor = last_line(buf, len);
    while let Some(l) = cursor.filter(|l| *l >= title_end) {
        cursor = last_line(buf, l);
        let line = line_at(buf, l, len);
        if line.first() == Some(&COMMENT) {
            non_trailer_lines += possible_continuation_lines;
            possible_continuation_lines = 0;
            continue;
        }
        if is_blank_line(line) {
            if only_spaces {
                continue;
            }
            non_trailer_lines += possible_continuation_lines;
            let block = l + line.len();
            if recognized_prefix && trailer_lines * 3 >= non_trailer_lines {
                return block;
            }
            if trailer_lines > 0 && non_trailer_lines == 0 {
                return block;
            }
            return len;
        }
        only_spaces = false;
        if GIT_GENERATED_PREFIXES.iter().any(|p| line.starts_with(p)) {
            trailer_lines += 1;
            possible_continuation_lines = 0;
            recognized_prefix = true;
            continue;
        }
        let starts_with_space = line.first().is_some_and(|b| is_space(*b));
        if separator(line).is_some() && !starts_with_space {
            trailer_lines += 1;
            possible_continuation_lines = 0;
        } else if starts_with_space {
            possible_continuation_lines += 1;
        } else {
            non_trailer_lines += 1 + possible_continuation_lines;
            possible_continuation_lines = 0;
        }
    }
    len
}

/// git's `find_end_of_log_message`: drop a patch part (from a `---` line),
/// then trailing comments, blank lines and everything below the scissors.
fn end_of_log_message(buf: &[u8], divider: bool) -> usize {
    let mut end = buf.len();
    if divider {
        let mut pos = 0;
        for line in split_inclusive(buf) {
            if line.starts_with(b"---") && line.get(3).is_some_and(|b| is_space(*b)) {
                end = pos;
                break;
            }
            pos += line.len();
        }
    }
    end - ignored_log_message_bytes(buf, end)
}

fn locate_scissors(buf: &[u8], len: usize) -> usize {
    let mut pos = 0;
    while pos < len {
        let line = line_at(buf, pos, len);
        if line.first() == Some(&COMMENT) && buf[pos + 1..len].starts_with(CUT_LINE) {
            return pos;
        }
        pos += line.len();
    }
    len
}

/// git's `ignored_log_message_bytes`: the run of comment lines, blank lines and
/// old-style `Conflicts:` blocks at the end of the message.
fn ignored_log_message_bytes(buf: &[u8], len: usize) -> usize {
    let cutoff = locate_scissors(buf, len);
    let mut boc: Option<usize> = None;
    let mut in_old_conflicts_block = false;
    let mut bol = 0;
    while bol < cutoff {
        let line = line_at(buf, bol, len);
        if line.first() == Some(&COMMENT) || line.first() == Some(&b'\n') {
            boc.get_or_insert(bol);
        } else if buf[bol..len].starts_with(b"Conflicts:\n") {
            in_old_conflicts_block = true;
            boc.get_or_insert(bol);
        } else if in_old_conflicts_block && line.first() == Some(&b'\t') {
            // a path in the conflicts block
        } else if boc.is_some() {
            boc = None;
            in_old_conflicts_block = false;
        }
        bol += line.len();
    }
    match boc {
        Some(b) => len - b,
        None => len - cutoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(msg: &str) -> Vec<(String, String)> {
        parse(msg.as_bytes(), false)
            .trailers
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect()
    }

    #[test]
    fn subject_is_never_a_trailer() {
        assert!(keys("Fixes: nothing\n").is_empty());
        assert!(keys("subject\nKey: value\n").is_empty());
    }

    #[test]
    fn last_paragraph_of_trailers() {
        let got = keys("subject\n\nbody text\n\nSigned-off-by: A <a@x>\nCo-Authored-By: Claude <noreply@anthropic.com>\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, "Co-Authored-By");
    }

    #[test]
    fn prose_with_a_git_trailer_needs_a_quarter() {
        // 1 trailer among 3 prose lines: 1*3 >= 3, so the block counts.
        let got = keys("s\n\none\ntwo\nthree\nSigned-off-by: A <a@x>\n");
        assert_eq!(got, vec![("Signed-off-by".into(), "A <a@x>".into())]);
        // Without a git-generated prefix, prose disqualifies the paragraph.
        assert!(keys("s\n\none\nKey: v\n").is_empty());
    }

    #[test]
    fn continuation_lines_fold() {
        let got = keys("s\n\nKey: first\n  second\n");
        assert_eq!(got, vec![("Key".into(), "first second".into())]);
    }

    #[test]
    fn strip_message_drops_comments_and_scissors() {
        let msg = b"subject\n\n\n\nbody  \n# comment\n# ------------------------ >8 ------------------------\ndiff\n";
        assert_eq!(strip_message(msg), b"subject\n\nbody\n");
    }
}
