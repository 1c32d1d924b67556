//! Line-level AI attribution: which lines of a commit AI wrote, read from
//! git-ai authorship notes (`refs/notes/ai`) and Agent Trace records, and
//! counted into the input document (`commits[].ai.lines`,
//! `commits[].files[].ai_lines`, `changes.ai_lines`, `changes.ai_share`).

pub mod agent_trace;
pub mod git_ai;

use crate::input::{AiLines, Commit, Evidence, InputError, LineSource, Tool};
use crate::provenance::IdentityTable;
use std::collections::HashMap;

/// The tool id of AI lines whose record does not name a tool.
pub const UNKNOWN: &str = "unknown";

/// The tool behind attributed lines, as a record names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// govops' tool id.
    pub tool: String,
    /// The name the record gives (git-ai's `agent_id.tool`, Agent Trace's `tool.name`).
    pub recorded: String,
    pub model: Option<String>,
    pub session: Option<String>,
    pub source: LineSource,
}

/// An inclusive 1-based span of lines, with the index of its agent. Lines
/// past u32::MAX are clamped: no file git diffs has as many.
pub type Span = (u32, u32, u32);

/// One commit's attributed lines: per path, its spans.
#[derive(Debug, Default)]
pub struct CommitRecords {
    pub sources: Vec<LineSource>,
    pub agents: Vec<Agent>,
    pub files: HashMap<String, Vec<Span>>,
}

impl CommitRecords {
    pub fn source(&mut self, source: LineSource) {
        if !self.sources.contains(&source) {
            self.sources.push(source);
        }
    }

    /// Add another source's records of the same commit.
    pub fn merge(&mut self, other: CommitRecords) {
        for s in other.sources {
            self.source(s);
        }
        let index: Vec<u32> = other.agents.into_iter().map(|a| self.agent(a)).collect();
        for (path, spans) in other.files {
            let mine = self.files.entry(path).or_default();
            mine.extend(spans.into_iter().map(|(s, e, a)| (s, e, index[a as usize])));
        }
    }

    /// The index of an agent, added when new.
    pub fn agent(&mut self, agent: Agent) -> u32 {
        let i = if let Some(i) = self.agents.iter().position(|a| *a == agent) {
            i
        } else {
            self.agents.push(agent);
            self.agents.len() - 1
        };
        u32::try_from(i).unwrap_or(u32::MAX)
    }
}

/// Records by commit sha.
pub type Records = HashMap<String, CommitRecords>;

/// Where attribution is read from, and what bounds the reading.
pub struct Sources<'a> {
    pub repo: &'a git2::Repository,
    pub head: git2::Oid,
    /// `ai.agent_trace`.
    pub trace_path: &'a str,
    /// `limits.max_file_bytes`: a larger note or trace file is not read.
    pub max_bytes: u64,
    /// `limits.max_total_bytes`: the notes and the trace file read in one
    /// run, together (a budget of their own, beside the manifests'); past
    /// it, each further one is a finding, not read.
    pub max_total: u64,
    pub spent: std::cell::Cell<u64>,
    pub table: &'a IdentityTable,
}

impl Sources<'_> {
    /// Take `size` bytes from the run's budget; why not, when over it.
    pub fn charge(&self, size: u64) -> Result<(), String> {
        let spent = self.spent.get().saturating_add(size);
        if spent > self.max_total {
            return Err(format!(
                "not read: the line attribution records of this run pass limits.max_total_bytes ({}), so which lines AI wrote is unknown",
                self.max_total
            ));
        }
        self.spent.set(spent);
        Ok(())
    }
}

/// Read both sources for the range's commits and fill their `ai.lines` and
/// `files[].ai_lines`; the range's AI lines, None when no commit has a
/// record (see `share`).
pub fn collect(
    src: &Sources<'_>,
    commits: &mut [Commit],
    errors: &mut Vec<InputError>,
    notes: &mut Vec<String>,
) -> Option<u64> {
    let shas: Vec<&str> = commits.iter().filter_map(|c| c.sha.as_deref()).collect();
    if shas.is_empty() {
        return None;
    }
    // The trace file first (one file, bounded), then one note at a time.
    let mut records = read_traces(src, &shas, errors, notes);
    collect_notes(src, &mut records, commits, errors, notes)
}

/// The Agent Trace records of the commits `shas`, by commit: read once for
/// a run (the file counts once against the run's byte budget), then handed
/// to `collect_notes` for as many batches of commits as there are.
pub fn read_traces(
    src: &Sources<'_>,
    shas: &[&str],
    errors: &mut Vec<InputError>,
    notes: &mut Vec<String>,
) -> Records {
    let mut records = Records::new();
    agent_trace::read(src, shas, &mut records, errors, notes);
    records
}

/// Fill `commits` from their git-ai notes and the trace `records` read
/// before (taken out as they are used); the commits' AI lines, None when
/// no commit has a record. One note at a time is read, counted and dropped:
/// memory holds one note's spans, not the range's.
pub fn collect_notes(
    src: &Sources<'_>,
    records: &mut Records,
    commits: &mut [Commit],
    errors: &mut Vec<InputError>,
    notes: &mut Vec<String>,
) -> Option<u64> {
    let tree = git_ai::open(src, errors);
    let mut range_ai: Option<u64> = None;
    for c in commits.iter_mut() {
        let Some(sha) = c.sha.clone() else {
            continue;
        };
        if let Some(tree) = &tree {
            git_ai::read(src, tree, &sha, records, errors, notes);
        }
        if let Some(rec) = records.remove(&sha) {
            let (n, elsewhere) = apply(c, rec);
            range_ai = Some(range_ai.unwrap_or(0) + n);
            if !elsewhere.is_empty() {
                notes.push(unchanged_note(&sha, elsewhere));
            }
        }
    }
    range_ai
}

/// The share of the range's added lines that AI wrote, at most 1 (a line
/// rewritten by a later commit of the range counts in both).
pub fn share(ai_lines: Option<u64>, additions: u64) -> Option<f64> {
    ai_lines.map(|n| match additions {
        0 => 0.0,
        added => (n as f64 / added as f64).min(1.0),
    })
}

/// Map a recorded agent name onto govops' tool id: git-ai's and Agent
/// Trace's own names first, then the identity table's tool names, else the
/// name lower-cased (spaces to `-`, as `Assisted-by:` names are).
pub fn tool_id(table: &IdentityTable, name: &str) -> String {
    let lower = name.trim().to_lowercase();
    // git-ai's agent presets (src/commands/checkpoint_agent) and the Agent
    // Trace reference (`claude-code`, `cursor`) where they differ from ours.
    let alias = match lower.as_str() {
        "claude" | "claude-web" => Some("claude-code"),
        "github-copilot-cli" | "copilot-cli" => Some("copilot"),
        "cursor-agent" | "cursor-cli" => Some("cursor"),
        "codex-cloud" | "codex-cli" => Some("codex"),
        "droid" => Some("factory"),
        "continue-cli" => Some("continue"),
        _ => None,
    };
    if let Some(id) = alias {
        return id.to_string();
    }
    match table.by_name(&lower) {
        Some((id, "")) => id.to_string(),
        _ => lower.split_whitespace().collect::<Vec<_>>().join("-"),
    }
}

/// The number of distinct lines in spans sorted by start: overlapping
/// records of one line count it once.
fn covered(spans: &[Span]) -> u64 {
    let mut total = 0u64;
    let mut current: Option<(u64, u64)> = None;
    for &(start, end, _) in spans {
        let (start, end) = (u64::from(start), u64::from(end));
        match current {
            Some((s, e)) if start <= e + 1 => current = Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s + 1;
                current = Some((start, end));
            }
            None => current = Some((start, end)),
        }
    }
    total + current.map_or(0, |(s, e)| e - s + 1)
}

/// Count each commit's attributed lines in the files it changes. A file's
/// count is at most the lines the commit adds to it: a record cannot charge
/// a commit with lines it did not write (a merge's parents' lines, a claim
/// of a billion lines), and the share of added lines stays at most 1.
/// Spans are sorted in place, never copied: a note of millions of ranges
/// costs its 12 bytes a range once.
/// Returns the commit's AI lines, and the files records attribute AI lines
/// in that the commit does not change (not counted: said in the report).
pub fn apply(c: &mut Commit, mut rec: CommitRecords) -> (u64, Vec<String>) {
    let mut lines = AiLines {
        sources: rec.sources.clone(),
        ..AiLines::default()
    };
    let mut per_agent: Vec<u64> = vec![0; rec.agents.len()];
    for f in c.files.iter_mut() {
        let spans = rec
            .files
            .get_mut(&f.path)
            .map(Vec::as_mut_slice)
            .unwrap_or(&mut []);
        let cap = if f.lines_counted {
            f.additions
        } else {
            u64::MAX
        };
        spans.sort_unstable();
        let n = covered(spans).min(cap);
        f.ai_lines = Some(n);
        lines.ai += n;
        if n == 0 {
            continue;
        }
        spans.sort_unstable_by_key(|&(s, e, a)| (a, s, e));
        for group in spans.chunk_by(|x, y| x.2 == y.2) {
            per_agent[group[0].2 as usize] += covered(group).min(n);
        }
    }
    for (agent, &n) in rec.agents.iter().zip(&per_agent) {
        if n == 0 {
            continue;
        }
        *lines.by_tool.entry(agent.tool.clone()).or_default() += n;
        // No tool named, no evidence of one: counted, not listed.
        if agent.tool != UNKNOWN {
            record_tool(c, agent);
        }
    }
    if lines.ai > 0 {
        c.ai.assisted = true;
    }
    let n = lines.ai;
    c.ai.lines = Some(lines);
    let changed: std::collections::HashSet<&str> =
        c.files.iter().map(|f| f.path.as_str()).collect();
    let mut elsewhere: Vec<String> = rec
        .files
        .into_iter()
        .filter(|(path, spans)| !spans.is_empty() && !changed.contains(path.as_str()))
        .map(|(path, _)| path)
        .collect();
    elsewhere.sort();
    (n, elsewhere)
}

/// A name a record gives (a path, a key, a revision), as a report note
/// shows it: quoted with its control characters escaped, and at most 80
/// characters (the record is anyone's text).
pub fn shown(name: &str) -> String {
    let mut short: String = name.chars().take(80).collect();
    if short.len() < name.len() {
        short.push_str("...");
    }
    format!("{short:?}")
}

fn unchanged_note(sha: &str, mut paths: Vec<String>) -> String {
    let n = paths.len();
    paths.truncate(3);
    let paths: Vec<String> = paths.iter().map(|p| shown(p)).collect();
    format!(
        "the line records of commit {} attribute AI lines in {n} file(s) the commit does not change ({}{}): those lines are not counted",
        &sha[..sha.len().min(12)],
        paths.join(", "),
        if n > 3 { ", ..." } else { "" }
    )
}

/// A record that attributes lines to a tool is evidence of that tool, as a
/// trailer would be: the commit's tools list it, with its model.
fn record_tool(c: &mut Commit, agent: &Agent) {
    let evidence = Evidence {
        source: agent.source.into(),
        key: match agent.source {
            LineSource::GitAiNote => "agent_id.tool",
            LineSource::AgentTrace => "tool.name",
        }
        .to_string(),
        value: agent.recorded.clone(),
    };
    let tool = if let Some(i) = c.ai.tools.iter_mut().position(|t| t.tool == agent.tool) {
        &mut c.ai.tools[i]
    } else {
        c.ai.tools.push(Tool {
            tool: agent.tool.clone(),
            model: None,
            models: Vec::new(),
            session: None,
            evidence: Vec::new(),
        });
        c.ai.tools.last_mut().expect("just pushed")
    };
    if let Some(m) = &agent.model {
        if !tool.models.contains(m) {
            tool.models.push(m.clone());
        }
        tool.model.get_or_insert_with(|| m.clone());
    }
    if let Some(s) = &agent.session {
        tool.session.get_or_insert_with(|| s.clone());
    }
    if !tool.evidence.contains(&evidence) {
        tool.evidence.push(evidence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_adjacent_spans_count_once() {
        assert_eq!(covered(&[(1, 4, 0), (3, 6, 1), (7, 7, 0), (10, 10, 0)]), 8);
        assert_eq!(covered(&[]), 0);
        let max = u64::from(u32::MAX);
        assert_eq!(covered(&[(1, 2, 0), (5, u32::MAX, 0)]), max - 2);
        assert_eq!(covered(&[(1, u32::MAX, 0), (1, u32::MAX, 0)]), max);
    }

    #[test]
    fn recorded_names_map_onto_tool_ids() {
        let table = IdentityTable::builtin();
        assert_eq!(tool_id(&table, "claude"), "claude-code");
        assert_eq!(tool_id(&table, "claude-code"), "claude-code");
        assert_eq!(tool_id(&table, "github-copilot"), "copilot");
        assert_eq!(tool_id(&table, "droid"), "factory");
        assert_eq!(tool_id(&table, "Cursor"), "cursor");
        assert_eq!(tool_id(&table, "My Agent"), "my-agent");
    }
}
