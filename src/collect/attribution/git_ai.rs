//! git-ai authorship notes (`refs/notes/ai`, standard `authorship/3.0.0`):
//! an attestation section (per file, line ranges per session, legacy prompt
//! or known human) and, after a `---` line, JSON metadata naming each AI
//! session's tool and model.

use super::{shown, tool_id, Agent, CommitRecords, Records, Sources, UNKNOWN};
use crate::input::{InputError, LineSource};
use crate::provenance::IdentityTable;
use git2::{ObjectType, Oid, Repository, Tree};
use serde_json::Value;

pub const NOTES_REF: &str = "refs/notes/ai";
pub const SCHEMA: &str = "authorship/3.0.0";
const SOURCE: LineSource = LineSource::GitAiNote;

/// The notes tree, when the repository has `refs/notes/ai`.
pub fn open<'r>(src: &Sources<'r>, errors: &mut Vec<InputError>) -> Option<Tree<'r>> {
    match notes_tree(src.repo) {
        Ok(tree) => tree,
        Err(e) => {
            errors.push(error(None, format!("cannot be read: {e}")));
            None
        }
    }
}

/// Read the note of one commit of the range (notes of other commits are
/// about other commits and not looked at).
pub fn read(
    src: &Sources<'_>,
    tree: &Tree<'_>,
    sha: &str,
    records: &mut Records,
    errors: &mut Vec<InputError>,
    notes: &mut Vec<String>,
) {
    let repo = src.repo;
    let Some(blob) = find_note(repo, tree, sha) else {
        return;
    };
    let size = match repo.odb().and_then(|odb| odb.read_header(blob)) {
        Ok((size, ObjectType::Blob)) => size as u64,
        Ok((_, kind)) => {
            errors.push(error(
                Some(sha),
                format!("the note is a {kind}, not a blob"),
            ));
            return;
        }
        Err(e) => {
            errors.push(error(Some(sha), format!("the note cannot be read: {e}")));
            return;
        }
    };
    if size > src.max_bytes {
        errors.push(error(
            Some(sha),
            format!(
                "the note is {size} bytes, over limits.max_file_bytes ({}): not read, so which lines AI wrote is unknown",
                src.max_bytes
            ),
        ));
        return;
    }
    if let Err(message) = src.charge(size) {
        errors.push(error(Some(sha), message));
        return;
    }
    let content = match repo.find_blob(blob) {
        Ok(b) => b,
        Err(e) => {
            errors.push(error(Some(sha), format!("the note cannot be read: {e}")));
            return;
        }
    };
    let parents: Vec<String> = Oid::from_str(sha)
        .and_then(|oid| repo.find_commit(oid))
        .map(|c| c.parent_ids().map(|p| p.to_string()).collect())
        .unwrap_or_default();
    match parse(src.table, sha, &parents, content.content(), records) {
        Ok(Parsed::Read(None)) => {}
        Ok(Parsed::Read(Some(note))) => notes.push(format!(
            "the git-ai note ({NOTES_REF}) of commit {}: {note}",
            &sha[..sha.len().min(12)]
        )),
        Ok(Parsed::Unused(why)) => notes.push(format!(
            "the git-ai note ({NOTES_REF}) of commit {}: {why}; its lines are not used",
            &sha[..sha.len().min(12)]
        )),
        Err((line, message)) => {
            let mut e = error(Some(sha), message);
            e.line = line;
            errors.push(e);
        }
    }
}

fn error(sha: Option<&str>, message: String) -> InputError {
    InputError {
        file: NOTES_REF.into(),
        commit: sha.map(str::to_string),
        line: None,
        column: None,
        message: match sha {
            Some(sha) => format!(
                "the git-ai note of commit {}: {message}",
                &sha[..sha.len().min(12)]
            ),
            None => message,
        },
    }
}

fn notes_tree(repo: &Repository) -> Result<Option<Tree<'_>>, git2::Error> {
    let reference = match repo.find_reference(NOTES_REF) {
        Ok(r) => r,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(reference.peel_to_commit()?.tree()?))
}

/// The note blob of a commit, wherever git's fan-out put it (`ab/cdef...`,
/// `ab/cd/ef...`): at each level, the full remaining name, else a folder
/// named by its next two digits.
fn find_note(repo: &Repository, tree: &Tree<'_>, sha: &str) -> Option<Oid> {
    let mut current = tree.clone();
    let mut rest = sha;
    loop {
        if let Some(entry) = current.get_name(rest) {
            return (entry.kind() == Some(ObjectType::Blob)).then(|| entry.id());
        }
        if rest.len() <= 2 {
            return None;
        }
        let id = match current.get_name(&rest[..2]) {
            Some(entry) if entry.kind() == Some(ObjectType::Tree) => entry.id(),
            _ => return None,
        };
        current = repo.find_tree(id).ok()?;
        rest = &rest[2..];
    }
}

pub enum Parsed {
    /// Read, with what the report should say about it.
    Read(Option<String>),
    /// Well-formed, but not for this reader or this commit.
    Unused(String),
}

/// A malformed note: the line of the note (when one is at fault) and why.
type Malformed = (Option<u32>, String);

/// Parse one note and add its AI-attributed lines to the commit's records.
/// Linear in the note's size (spans are collected, not lines).
pub fn parse(
    table: &IdentityTable,
    sha: &str,
    parents: &[String],
    content: &[u8],
    records: &mut Records,
) -> Result<Parsed, Malformed> {
    let text =
        std::str::from_utf8(content).map_err(|e| (None, format!("the note is not UTF-8 ({e})")))?;
    // The divider is a line of exactly `---`.
    let (attestation, metadata, meta_line) = if let Some(rest) = text.strip_prefix("---\n") {
        ("", rest, 2)
    } else {
        match text.find("\n---\n") {
            Some(i) => (
                &text[..i + 1],
                &text[i + 5..],
                text[..i + 1].matches('\n').count() as u32 + 2,
            ),
            None => match text.strip_suffix("\n---") {
                Some(att) => (att, "", 0),
                None => return Err((None, "no `---` line divides the attestations from the metadata: not an authorship log".into())),
            },
        }
    };
    let meta: Value = serde_json::from_str(metadata).map_err(|e| {
        (
            Some(meta_line + e.line().saturating_sub(1) as u32),
            format!("the metadata is not JSON: {e}"),
        )
    })?;
    let Some(meta) = meta.as_object() else {
        return Err((Some(meta_line), "the metadata is not a JSON object".into()));
    };
    let version = match meta.get("schema_version") {
        Some(Value::String(v)) => v.as_str(),
        _ => return Err((Some(meta_line), "the metadata has no schema_version".into())),
    };
    if version != SCHEMA {
        return Ok(Parsed::Unused(format!(
            "schema {version:?}, which this govops does not read (it reads {SCHEMA})"
        )));
    }
    // Computed for this commit; notes of git-ai before 1.x name the parent
    // it was computed against. Any other commit: a note copied without its
    // lines being recomputed (a rebase, a cherry-pick) may not match.
    if let Some(Value::String(base)) = meta.get("base_commit_sha") {
        if base != sha && !parents.iter().any(|p| p == base) {
            return Ok(Parsed::Unused(format!(
                "it was computed for commit {} (base_commit_sha), neither this commit nor its parent",
                shown(base)
            )));
        }
    } else {
        return Err((
            Some(meta_line),
            "the metadata has no base_commit_sha".into(),
        ));
    }
    let map = |key: &str| meta.get(key).and_then(Value::as_object);
    let (prompts, sessions, humans) = (map("prompts"), map("sessions"), map("humans"));
    // Kept apart until the whole note is read: a malformed note gives the
    // commit no line data at all (its rules then count every line).
    let mut rec = CommitRecords::default();
    rec.source(SOURCE);
    let mut file: Option<String> = None;
    // Agents resolved once per key: a note repeats its keys in every file.
    let mut known: std::collections::HashMap<&str, Option<u32>> = Default::default();
    let mut undeclared: Vec<&str> = Vec::new();
    for (i, line) in attestation.lines().enumerate() {
        let at = Some(i as u32 + 1);
        if line.is_empty() {
            continue;
        }
        let Some(entry) = line.strip_prefix("  ") else {
            if line.starts_with([' ', '\t']) {
                return Err((
                    at,
                    "an attestation line must be indented by exactly two spaces".into(),
                ));
            }
            let path = match line.strip_prefix('"') {
                Some(quoted) => quoted
                    .strip_suffix('"')
                    .ok_or((at, "a quoted file path lacks its closing quote".to_string()))?,
                None => line,
            };
            file = Some(path.to_string());
            continue;
        };
        if entry.starts_with([' ', '\t']) {
            return Err((
                at,
                "an attestation line must be indented by exactly two spaces".into(),
            ));
        }
        let Some(path) = &file else {
            return Err((at, "an attestation comes before any file path".into()));
        };
        let (key, ranges) = entry.split_once(' ').ok_or((
            at,
            "an attestation needs a key, a space and line ranges".to_string(),
        ))?;
        let agent = if let Some(a) = known.get(key) {
            *a
        } else {
            // The key's prefix says who wrote the lines (`h_` a known
            // human, `s_` and bare hex AI sessions); the metadata names
            // the tool. git-ai itself writes keys its metadata lacks
            // (54 of 940 notes on its own main branch): their lines
            // still count as AI, by an unknown tool, and the report says so.
            let (record, human) = if key.starts_with("h_") {
                (humans.and_then(|h| h.get(key)), true)
            } else if let Some(session) = key.strip_prefix("s_") {
                let id = key
                    .split_once("::")
                    .map(|(s, _)| s)
                    .filter(|_| session.contains("::t_"))
                    .ok_or((at, format!("the session key {key} is not SESSION::TRACE")))?;
                (sessions.and_then(|s| s.get(id)), false)
            } else {
                (prompts.and_then(|p| p.get(key)), false)
            };
            let found = match (record, human) {
                (_, true) => None,
                (Some(record), false) => {
                    Some(rec.agent(agent_of(table, record).map_err(|m| (at, m))?))
                }
                (None, false) => {
                    undeclared.push(key);
                    Some(rec.agent(Agent {
                        tool: UNKNOWN.into(),
                        recorded: key.to_string(),
                        model: None,
                        session: None,
                        source: SOURCE,
                    }))
                }
            };
            if record.is_none() && human {
                undeclared.push(key);
            }
            known.insert(key, found);
            found
        };
        let spans = rec.files.entry(path.clone()).or_default();
        for part in ranges.split(',') {
            let (start, end) = match part.split_once('-') {
                Some((a, b)) => (number(a), number(b)),
                None => (number(part), number(part)),
            };
            let (Some(start), Some(end)) = (start, end) else {
                return Err((at, format!("{part:?} is not a line or a range of lines")));
            };
            if start == 0 || end < start {
                return Err((at, format!("{part:?} is not a range of 1-based lines")));
            }
            if let Some(a) = agent {
                spans.push((clamp(start), clamp(end), a));
            }
        }
    }
    match records.get_mut(sha) {
        Some(existing) => existing.merge(rec),
        None => {
            records.insert(sha.to_string(), rec);
        }
    }
    if undeclared.is_empty() {
        return Ok(Parsed::Read(None));
    }
    let n = undeclared.len();
    undeclared.truncate(3);
    Ok(Parsed::Read(Some(format!(
        "{n} attestation key(s) are not in its metadata ({}{}): lines of AI keys among them count as AI by an unknown tool, of human keys as not AI",
        undeclared.iter().map(|k| shown(k)).collect::<Vec<_>>().join(", "),
        if n > 3 { ", ..." } else { "" }
    ))))
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The agent of a session or prompt record (`agent_id: {tool, id, model}`).
fn agent_of(table: &IdentityTable, record: &Value) -> Result<Agent, String> {
    let agent = record
        .get("agent_id")
        .and_then(Value::as_object)
        .ok_or("a session or prompt has no agent_id")?;
    let text = |key: &str| {
        agent
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let recorded = text("tool").ok_or("an agent_id has no tool")?;
    Ok(Agent {
        tool: tool_id(table, &recorded),
        recorded,
        model: text("model").filter(|m| m != "unknown"),
        session: text("id"),
        source: SOURCE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789012345678901234567890123456789";

    fn note(attestation: &str, base: &str) -> String {
        format!(
            "{attestation}---\n{}",
            serde_json::json!({"schema_version": SCHEMA, "base_commit_sha": base,
                "prompts": {"abcd1234abcd1234": {"agent_id": {"tool": "claude", "id": "x", "model": "m"}}}})
        )
    }

    fn parse_str(text: &str) -> (Result<Parsed, Malformed>, Records) {
        let mut records = Records::new();
        let table = IdentityTable::builtin();
        let parsed = parse(&table, SHA, &[], text.as_bytes(), &mut records);
        (parsed, records)
    }

    /// The note's base is anyone's text: shortening it for the report must
    /// not cut a character in two (it panicked at a byte offset).
    #[test]
    fn a_multibyte_base_is_shown_not_cut() {
        let (parsed, records) = parse_str(&note("f\n  abcd1234abcd1234 1\n", "aééééééééééé\u{7}"));
        let Ok(Parsed::Unused(why)) = parsed else {
            panic!("not unused");
        };
        assert!(why.contains(r#""aééééééééééé\u{7}""#), "{why}");
        assert!(records.is_empty());
    }

    #[test]
    fn an_attestation_only_note_and_an_empty_one() {
        let (parsed, records) = parse_str(&note("f\n  abcd1234abcd1234 1-3,3-4\n", SHA));
        assert!(matches!(parsed, Ok(Parsed::Read(None))));
        assert_eq!(records[SHA].files["f"], vec![(1, 3, 0), (3, 4, 0)]);
        let (parsed, records) = parse_str(&note("", SHA));
        assert!(matches!(parsed, Ok(Parsed::Read(None))));
        assert!(records[SHA].files.is_empty());
    }

    #[test]
    fn lines_past_u32_are_clamped_and_bad_numbers_refused() {
        let (_, records) = parse_str(&note("f\n  abcd1234abcd1234 1-99999999999999\n", SHA));
        assert_eq!(records[SHA].files["f"], vec![(1, u32::MAX, 0)]);
        for bad in [
            "0",
            "3-1",
            "-1",
            "1-",
            "1,,2",
            "+1",
            "1-2-3",
            "99999999999999999999999",
        ] {
            let (parsed, records) =
                parse_str(&note(&format!("f\n  abcd1234abcd1234 {bad}\n"), SHA));
            assert!(matches!(parsed, Err((Some(2), _))), "{bad}");
            assert!(records.is_empty(), "{bad}");
        }
    }
}
