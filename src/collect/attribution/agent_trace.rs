//! Agent Trace records (agent-trace.dev, v0.1): one JSON trace record per
//! line of `.agent-trace/traces.jsonl` (or `ai.agent_trace`), read at the
//! head of the range. A record names its git revision; its files' ranges
//! are attributed to `ai`, `human`, `mixed` or `unknown` contributors.

use super::{shown, tool_id, Agent, Records, Sources};
use crate::collect::git::Snapshot;
use crate::input::{InputError, LineSource};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

const SOURCE: LineSource = LineSource::AgentTrace;

/// Read the trace file and add each record to the commit it names.
pub fn read(
    src: &Sources<'_>,
    shas: &[&str],
    records: &mut Records,
    errors: &mut Vec<InputError>,
    notes: &mut Vec<String>,
) {
    let path = src.trace_path;
    let error = |line: Option<u32>, message: String| InputError {
        file: path.to_string(),
        commit: None,
        line,
        column: None,
        message,
    };
    let head = Snapshot::Commit(src.head);
    let size = match head.size(src.repo, path) {
        Ok(Some(size)) => size,
        Ok(None) => return,
        Err(e) => {
            errors.push(error(None, format!("cannot be read: {e}")));
            return;
        }
    };
    if size > src.max_bytes {
        errors.push(error(
            None,
            format!(
                "the Agent Trace file is {size} bytes, over limits.max_file_bytes ({}): not read, so which lines AI wrote is unknown",
                src.max_bytes
            ),
        ));
        return;
    }
    if let Err(message) = src.charge(size) {
        errors.push(error(None, message));
        return;
    }
    let content = match head.read(src.repo, path) {
        Ok(Some(c)) => c,
        Ok(None) => return,
        Err(e) => {
            errors.push(error(None, format!("cannot be read: {e}")));
            return;
        }
    };
    let Ok(text) = std::str::from_utf8(&content) else {
        errors.push(error(None, "the Agent Trace file is not UTF-8".into()));
        return;
    };
    let in_range: HashSet<&str> = shas.iter().copied().collect();
    let mut unread_versions: BTreeMap<String, usize> = BTreeMap::new();
    let mut no_revision = 0usize;
    let mut unknown_revisions: HashSet<String> = HashSet::new();
    let mut outside: HashSet<String> = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = Some(i as u32 + 1);
        if line.trim().is_empty() {
            continue;
        }
        let record = match parse_record(line) {
            Ok(r) => r,
            Err(message) => {
                errors.push(error(
                    at,
                    format!("{message}: the trace record cannot be judged"),
                ));
                continue;
            }
        };
        if !(record.version.starts_with("0.1.")) {
            *unread_versions.entry(record.version.clone()).or_default() += 1;
            continue;
        }
        let revision = match &record.vcs {
            Some((kind, rev)) if kind == "git" => rev.to_ascii_lowercase(),
            _ => {
                no_revision += 1;
                continue;
            }
        };
        if !in_range.contains(revision.as_str()) {
            outside.insert(revision);
            continue;
        }
        let rec = records.entry(revision).or_default();
        rec.source(SOURCE);
        let recorded = record.tool.clone().unwrap_or_else(|| "unknown".into());
        for (path, spans) in record.files {
            for span in spans.into_iter().filter(|s| s.ai) {
                let index = rec.agent(Agent {
                    tool: tool_id(src.table, &recorded),
                    recorded: recorded.clone(),
                    model: span.model,
                    session: span.session,
                    source: SOURCE,
                });
                let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
                rec.files.entry(path.clone()).or_default().push((
                    clamp(span.start),
                    clamp(span.end),
                    index,
                ));
            }
        }
    }
    // Revisions outside the range are the history's (the file keeps every
    // record); one that is no commit here cannot be placed.
    for rev in outside {
        let known = git2::Oid::from_str(&rev)
            .ok()
            .is_some_and(|oid| src.repo.find_commit(oid).is_ok());
        if !known {
            unknown_revisions.insert(rev);
        }
    }
    for (version, n) in unread_versions {
        notes.push(format!(
            "{path}: {n} trace record(s) of Agent Trace version {version:?}, which this govops does not read (it reads 0.1): their lines are not used"
        ));
    }
    if no_revision > 0 {
        notes.push(format!(
            "{path}: {no_revision} trace record(s) name no git revision (vcs): they cannot be tied to a commit and are not used"
        ));
    }
    if !unknown_revisions.is_empty() {
        let mut list: Vec<String> = unknown_revisions.into_iter().collect();
        list.sort();
        let n = list.len();
        list.truncate(5);
        let list: Vec<String> = list.iter().map(|r| shown(r)).collect();
        notes.push(format!(
            "{path}: trace records name {n} revision(s) that are no commit of this repository ({}{}): not used",
            list.join(", "),
            if n > 5 { ", ..." } else { "" }
        ));
    }
}

struct Span {
    start: u64,
    end: u64,
    ai: bool,
    model: Option<String>,
    session: Option<String>,
}

pub struct Record {
    version: String,
    vcs: Option<(String, String)>,
    tool: Option<String>,
    files: Vec<(String, Vec<Span>)>,
}

/// One trace record, checked against the schema's required fields.
/// (Public for the attribution fuzz target.)
pub fn parse_record(line: &str) -> Result<Record, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let record = value.as_object().ok_or("not a JSON object")?;
    let version = record
        .get("version")
        .and_then(Value::as_str)
        .ok_or("no version")?;
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("version {version:?} is not MAJOR.MINOR.PATCH"));
    }
    let vcs = match record.get("vcs") {
        None | Some(Value::Null) => None,
        Some(Value::Object(vcs)) => {
            let text = |k: &str| vcs.get(k).and_then(Value::as_str).map(str::to_string);
            Some((
                text("type").ok_or("vcs has no type")?,
                text("revision").ok_or("vcs has no revision")?,
            ))
        }
        Some(_) => return Err("vcs is not an object".into()),
    };
    let tool = record
        .get("tool")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let files = record
        .get("files")
        .and_then(Value::as_array)
        .ok_or("no files array")?;
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let path = file
            .get("path")
            .and_then(Value::as_str)
            .ok_or("a file has no path")?;
        let conversations = file
            .get("conversations")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("file {path} has no conversations array"))?;
        let mut spans = Vec::new();
        for conv in conversations {
            let conv_contributor = conv.get("contributor").and_then(Value::as_object);
            let session = conv.get("url").and_then(Value::as_str).map(str::to_string);
            let ranges = conv
                .get("ranges")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("a conversation of {path} has no ranges array"))?;
            for range in ranges {
                let line = |k: &str| range.get(k).and_then(Value::as_u64);
                let (Some(start), Some(end)) = (line("start_line"), line("end_line")) else {
                    return Err(format!(
                        "a range of {path} lacks integer start_line and end_line"
                    ));
                };
                if start == 0 || end < start {
                    return Err(format!(
                        "the range {start}-{end} of {path} is not 1-based lines in order"
                    ));
                }
                // A range's own contributor overrides its conversation's.
                let contributor = range
                    .get("contributor")
                    .and_then(Value::as_object)
                    .or(conv_contributor);
                let (ai, model) = judge(contributor)?;
                spans.push(Span {
                    start,
                    end,
                    ai,
                    model,
                    session: session.clone(),
                });
            }
        }
        out.push((path.to_string(), spans));
    }
    Ok(Record {
        version: version.to_string(),
        vcs,
        tool,
        files: out,
    })
}

/// Whether a contributor wrote AI lines: `ai`, and `mixed` (human-edited AI
/// output or AI-edited human code: AI had a hand in the line, and a gate
/// counts it). A range with no contributor is `unknown`.
fn judge(contributor: Option<&Map<String, Value>>) -> Result<(bool, Option<String>), String> {
    let Some(c) = contributor else {
        return Ok((false, None));
    };
    let kind = c
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a contributor has no type")?;
    let ai = match kind {
        "ai" | "mixed" => true,
        "human" | "unknown" => false,
        other => {
            return Err(format!(
                "contributor type {other:?} is not ai, human, mixed or unknown"
            ))
        }
    };
    let model = c
        .get("model_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok((ai, model))
}
