//! Repository paths are bytes: git allows any byte but NUL and `/` in a name.
//! The input document carries them as strings, escaped losslessly where they
//! are not plain text, and everything that reads a file turns the string back
//! into the exact bytes.
//!
//! The escape is injective and leaves plain paths unchanged, so globs such as
//! `deploy/prod/**` match the escaped form as they match the bytes:
//! - a byte that is not part of valid UTF-8 is `\xNN` (two lowercase hex digits);
//! - a control character (C0, DEL, C1) is `\xNN` for each of its UTF-8 bytes,
//!   so that a newline, a carriage return or an escape sequence in a name can
//!   neither forge a line of a report nor drive a terminal;
//! - a backslash is `\\`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The string form of a path's bytes (borrowed when nothing needs escaping).
pub fn escape(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text.chars().any(needs_escape) {
            return Cow::Borrowed(text);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if needs_escape(c) {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    push_hex(&mut out, b);
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            push_hex(&mut out, *b);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control()
}

fn push_hex(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push('x');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

/// The exact bytes of an escaped path. A string that `escape` cannot have
/// produced (a lone backslash, a bad `\x`) is taken literally from that point:
/// such a path names no file govops listed.
pub fn unescape(path: &str) -> Cow<'_, [u8]> {
    if !path.contains('\\') {
        return Cow::Borrowed(path.as_bytes());
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                    continue;
                }
                Some(b'x') => {
                    let hex = |k: usize| bytes.get(k).and_then(|b| (*b as char).to_digit(16));
                    if let (Some(hi), Some(lo)) = (hex(i + 2), hex(i + 3)) {
                        out.push(u8::try_from(hi * 16 + lo).expect("two hex digits make a byte"));
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// The file system path of a repository path (relative; join it to a root).
#[cfg(unix)]
pub fn to_path(path: &str) -> Cow<'_, Path> {
    use std::os::unix::ffi::OsStringExt;
    match unescape(path) {
        Cow::Borrowed(b) => bytes_to_path(b),
        Cow::Owned(b) => Cow::Owned(PathBuf::from(std::ffi::OsString::from_vec(b))),
    }
}

/// A path's exact bytes as a `Path` (what libgit2 and globset take).
#[cfg(unix)]
pub fn bytes_to_path(bytes: &[u8]) -> Cow<'_, Path> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

/// A path's bytes as a `Path`: off Unix, the lossy form is the best there is.
#[cfg(not(unix))]
pub fn bytes_to_path(bytes: &[u8]) -> Cow<'_, Path> {
    Cow::Owned(PathBuf::from(String::from_utf8_lossy(bytes).into_owned()))
}

/// The file system path of a repository path (relative; join it to a root).
/// Off Unix a file name is Unicode: the lossy form is the best there is.
#[cfg(not(unix))]
pub fn to_path(path: &str) -> Cow<'_, Path> {
    match unescape(path) {
        Cow::Borrowed(_) => Cow::Borrowed(Path::new(path)),
        Cow::Owned(b) => Cow::Owned(PathBuf::from(String::from_utf8_lossy(&b).into_owned())),
    }
}

/// The escaped repository path of a file system path (relative, `/`-separated).
#[cfg(unix)]
pub fn from_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    escape(path.as_os_str().as_bytes()).into_owned()
}

/// The escaped repository path of a file system path (relative, `/`-separated).
#[cfg(not(unix))]
pub fn from_path(path: &Path) -> String {
    escape(path.to_string_lossy().replace('\\', "/").as_bytes()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_are_unchanged() {
        for p in ["deploy/prod/api.yaml", "café/ü.yml", "a b/c"] {
            assert!(matches!(escape(p.as_bytes()), Cow::Borrowed(_)));
            assert_eq!(unescape(p), p.as_bytes());
        }
    }

    #[test]
    fn escapes_are_lossless_and_distinct() {
        let cases: &[(&[u8], &str)] = &[
            (b"deploy/prod/a\xffb.yaml", "deploy/prod/a\\xffb.yaml"),
            (b"deploy/prod/a\nb.yaml", "deploy/prod/a\\x0ab.yaml"),
            (b"a\\xffb", "a\\\\xffb"),
            (b"esc\x1b[31m", "esc\\x1b[31m"),
            ("c1\u{85}".as_bytes(), "c1\\xc2\\x85"),
            (b"\\", "\\\\"),
        ];
        for (bytes, shown) in cases {
            assert_eq!(escape(bytes), *shown);
            assert_eq!(unescape(shown), *bytes);
        }
    }

    #[test]
    fn round_trip_of_every_byte_pair() {
        let mut seen = std::collections::HashSet::new();
        for a in 0..=255u8 {
            for b in [0u8, b'\\', b'x', b'f', 0x80, 0xc3, 0xa9, 0xff] {
                let bytes = [a, b];
                let shown = escape(&bytes).into_owned();
                assert_eq!(unescape(&shown), &bytes[..], "{shown}");
                assert!(seen.insert(shown));
            }
        }
    }
}
