//! `govops stats`: what AI-assisted commits did to a history, measured
//! against the human-only commits of the same history. This module reads the
//! commits (with the gate's own commit reader and provenance, so a commit
//! counted as AI here is one the gate judges as AI) and derives one fact
//! row per commit; `metrics` groups the rows, `render` and `html` print them,
//! `rework` follows added lines through later commits.

pub mod html;
pub mod metrics;
pub mod render;
pub mod rework;
mod svg;

use crate::collect::{self, git};
use crate::error::{Error, Result};
use crate::input::Commit;
use crate::provenance::IdentityTable;
use git2::{Oid, Repository};
use regex::Regex;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The schema name of the JSON export.
pub const SCHEMA: &str = "govops.stats/v1";
/// The tool name of commits with no AI evidence.
pub const HUMAN: &str = "human";
/// The tool name of a commit declared AI-assisted without naming a tool.
pub const UNKNOWN: &str = "unknown";

pub const DAY: i64 = 86_400;
/// A fix within this long after a commit, on one of its files, is its follow-up.
pub const FIX_WINDOW_S: i64 = 7 * DAY;

/// One commit of the range, as the statistics see it. Also the CSV row and
/// the `commits[]` element of the JSON export (`govops schema stats`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CommitRow {
    pub sha: String,
    /// Author date, Unix seconds (when the change was written).
    pub author_time: i64,
    /// Committer date, Unix seconds (when it landed in this history).
    pub commit_time: i64,
    /// `YYYY-MM` of the author date, in UTC.
    pub month: String,
    pub author: String,
    pub author_email: String,
    pub subject: String,
    /// AI tools with evidence in the commit; empty for a human-only commit.
    pub tools: Vec<String>,
    /// `tool:model` for each tool (`tool:unknown` when it names no model).
    pub models: Vec<String>,
    pub lines_added: u64,
    pub lines_deleted: u64,
    /// AI-written lines where line-level attribution exists; null until it does.
    pub ai_lines: Option<u64>,
    /// The files it changed (the path after a rename).
    #[serde(skip)]
    pub files: Vec<String>,
    /// A human's review trailer (`approvals.review_trailers`: Reviewed-by,
    /// Approved-by, Acked-by by default) names someone who is not an AI tool.
    pub reviewed: bool,
    /// The commit that reverted it, within the range.
    pub reverted_by: Option<String>,
    pub time_to_revert_s: Option<i64>,
    /// The first later commit within 7 days whose subject marks a fix and
    /// that touches one of its files.
    pub fix_followup: Option<String>,
    /// The pull request that brought it, when its merge names one (`#N`).
    pub pr: Option<u64>,
    /// The merge commit (or squash commit) that brought it to the head's
    /// first-parent history.
    pub merged_by: Option<String>,
    /// From the first commit of its pull request to the merge.
    pub time_to_merge_s: Option<i64>,
    /// Lines it added; of them, deleted or rewritten within 14 and 30 days
    /// (null: not measured, or the window reaches past the range's end).
    pub rework_lines_14d: Option<u64>,
    pub rework_lines_30d: Option<u64>,
    /// GOV-AI rules of today's policy this commit fails.
    pub policy_failures: Vec<String>,
}

impl CommitRow {
    pub fn is_human(&self) -> bool {
        self.tools.is_empty()
    }
}

/// What to read.
pub struct Options {
    pub base: Option<String>,
    pub head: Option<String>,
    /// Author dates, Unix seconds: since (included), until (excluded).
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub rework: bool,
    pub max_diff_bytes: u64,
    /// Line-level attribution, read as the gate reads it: `ai.agent_trace`,
    /// `limits.max_file_bytes` and `limits.max_total_bytes`.
    pub agent_trace: String,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

/// The range as read.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RangeInfo {
    /// The repository's name (GITHUB_REPOSITORY, else its origin or folder).
    pub repository: Option<String>,
    pub base: Option<String>,
    pub head: String,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Non-merge commits counted.
    pub commits: usize,
    /// Merge commits seen (not counted as commits; used for time to merge
    /// and reverts of merges).
    pub merges: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    /// A shallow clone: the history stops at commits whose parents are
    /// missing; their lines and rework are not counted.
    pub shallow: bool,
}

/// The facts of a range: one row per non-merge commit, oldest first.
pub struct Facts {
    pub range: RangeInfo,
    pub rows: Vec<CommitRow>,
    /// The AI commits as the gate sees them, for the policy view.
    pub ai_commits: Vec<Commit>,
    /// Whether rework was measured.
    pub rework: bool,
}

/// A header read of every commit: enough to split merges from the rest and
/// to date them, before the (costlier) diffs.
struct Header {
    oid: Oid,
    parents: Vec<Oid>,
    author_time: i64,
    commit_time: i64,
    message: String,
}

/// The commits of `base..head` (all of head's history without a base),
/// oldest first.
fn walk(repo: &Repository, opts: &Options) -> Result<(Option<Oid>, Oid, Vec<Oid>)> {
    let (base, head) = if let Some(b) = &opts.base {
        let r = git::resolve_range(repo, Some(b), opts.head.as_deref(), None)?;
        (r.base, r.head)
    } else {
        let rev = opts.head.as_deref().unwrap_or("HEAD");
        let head = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| {
                Error::Git(format!(
                    "head commit {rev} is not in this repository (or it has no commit yet)"
                ))
            })?
            .id();
        (None, head)
    };
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    walk.push(head)?;
    if let Some(b) = base {
        walk.hide(b)?;
    }
    let ids = walk
        .map(|r| r.map_err(Error::from))
        .collect::<Result<_>>()?;
    Ok((base, head, ids))
}

fn headers(repo: &Repository, ids: &[Oid]) -> Result<Vec<Header>> {
    ids.iter()
        .map(|id| {
            let c = repo.find_commit(*id)?;
            let mut message = String::from_utf8_lossy(c.message_raw_bytes()).into_owned();
            if message.len() > collect::MAX_MESSAGE_BYTES {
                let mut cut = collect::MAX_MESSAGE_BYTES;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
            }
            let author_time = c.author().when().seconds();
            let commit_time = c.committer().when().seconds();
            Ok(Header {
                oid: *id,
                parents: c.parent_ids().collect(),
                author_time,
                commit_time,
                message,
            })
        })
        .collect()
}

/// `YYYY-MM` of a Unix time, in UTC.
pub fn month_of(t: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
        Err(_) => "unknown".into(),
    }
}

/// Read the range and derive every per-commit fact.
pub fn read(
    repo: &Repository,
    opts: &Options,
    table: &IdentityTable,
    review_keys: &[String],
    progress: &dyn Fn(u64, u64),
) -> Result<Facts> {
    let (base, head, ids) = walk(repo, opts)?;
    crate::timing::mark("stats: commit list");
    let all = headers(repo, &ids)?;
    crate::timing::mark("stats: headers");
    let in_window = |h: &Header| {
        opts.since.is_none_or(|s| h.author_time >= s)
            && opts.until.is_none_or(|u| h.author_time < u)
    };
    let (merges, singles): (Vec<&Header>, Vec<&Header>) = all
        .iter()
        .filter(|h| in_window(h))
        .partition(|h| h.parents.len() > 1);
    let single_ids: Vec<Oid> = singles.iter().map(|h| h.oid).collect();

    // The gate's reader, in batches so that a long history shows progress.
    let mut rows = Vec::with_capacity(singles.len());
    let mut ai_commits = Vec::new();
    let mut errors = Vec::new();
    let total = single_ids.len() as u64;
    // git-ai notes and Agent Trace records, read as the gate reads them:
    // a commit they cover has its AI-written lines.
    let sources = crate::collect::attribution::Sources {
        repo,
        head,
        trace_path: &opts.agent_trace,
        max_bytes: opts.max_file_bytes,
        max_total: opts.max_total_bytes,
        spent: std::cell::Cell::new(0),
        table,
    };
    let mut attribution_notes = Vec::new();
    // The trace file once for the whole history; the notes batch by batch.
    let shas: Vec<String> = single_ids.iter().map(Oid::to_string).collect();
    let shas: Vec<&str> = shas.iter().map(String::as_str).collect();
    let mut traces = crate::collect::attribution::read_traces(
        &sources,
        &shas,
        &mut errors,
        &mut attribution_notes,
    );
    for (n, batch) in single_ids.chunks(1024).enumerate() {
        let mut commits: Vec<Commit> = collect::read_commits(
            repo,
            batch,
            opts.max_diff_bytes,
            table,
            review_keys,
            &mut errors,
        )?;
        crate::collect::attribution::collect_notes(
            &sources,
            &mut traces,
            &mut commits,
            &mut errors,
            &mut attribution_notes,
        );
        for (commit, h) in commits.into_iter().zip(&singles[n * 1024..]) {
            rows.push(row(&commit, h, table));
            if commit.ai.assisted {
                ai_commits.push(commit);
            }
        }
        progress(((n + 1) * 1024).min(single_ids.len()) as u64, total);
    }

    crate::timing::mark("stats: commits read");
    let index: HashMap<Oid, usize> = singles
        .iter()
        .enumerate()
        .map(|(i, h)| (h.oid, i))
        .collect();
    let members = merge_members(&all, head, &index);
    pull_requests(&mut rows, &singles, &merges, &members);
    reverts(&mut rows, &singles, &merges, &members, &index);
    fix_followups(&mut rows);
    crate::timing::mark("stats: reverts, merges, fixes");
    if opts.rework {
        rework::measure(repo, &mut rows, &single_ids, opts.max_diff_bytes)?;
    }
    let cut = shallow_boundary(repo);
    for r in rows.iter_mut().filter(|r| cut.contains(&r.sha)) {
        // libgit2 reads a commit whose parent was not fetched as a root
        // commit: its diff is its whole tree, not its change.
        r.lines_added = 0;
        r.lines_deleted = 0;
        r.rework_lines_14d = None;
        r.rework_lines_30d = None;
    }
    let range = RangeInfo {
        repository: None,
        base: base.map(|b| b.to_string()),
        head: head.to_string(),
        since: opts.since.map(|s| crate::clock::format_git_time(s, 0)),
        until: opts.until.map(|s| crate::clock::format_git_time(s, 0)),
        commits: rows.len(),
        merges: merges.len(),
        first: rows
            .first()
            .map(|r| crate::clock::format_git_time(r.author_time, 0)),
        last: rows
            .last()
            .map(|r| crate::clock::format_git_time(r.author_time, 0)),
        shallow: repo.is_shallow(),
    };
    Ok(Facts {
        range,
        rows,
        ai_commits,
        rework: opts.rework,
    })
}

/// The commits a shallow clone was cut at (`.git/shallow`): their parents
/// are not in the repository.
fn shallow_boundary(repo: &Repository) -> std::collections::HashSet<String> {
    if !repo.is_shallow() {
        return Default::default();
    }
    std::fs::read_to_string(repo.path().join("shallow"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn row(commit: &Commit, h: &Header, table: &IdentityTable) -> CommitRow {
    let mut tools: Vec<String> = Vec::new();
    let mut models: Vec<String> = Vec::new();
    for t in &commit.ai.tools {
        if !tools.contains(&t.tool) {
            tools.push(t.tool.clone());
        }
        let names: Vec<&str> = if t.models.is_empty() {
            vec![UNKNOWN]
        } else {
            t.models.iter().map(String::as_str).collect()
        };
        for m in names {
            let key = format!("{}:{m}", t.tool);
            if !models.contains(&key) {
                models.push(key);
            }
        }
    }
    if commit.ai.assisted && tools.is_empty() {
        tools.push(UNKNOWN.into());
        models.push(format!("{UNKNOWN}:{UNKNOWN}"));
    }
    let reviewed = commit.reviews.iter().any(|r| {
        r.tool.is_none()
            && table.identify(&r.name, &r.email).is_none()
            && !r.name.ends_with("[bot]")
    });
    CommitRow {
        sha: h.oid.to_string(),
        author_time: h.author_time,
        commit_time: h.commit_time,
        month: month_of(h.author_time),
        author: commit.author.name.clone(),
        author_email: commit.author.email.clone(),
        subject: commit.subject.clone(),
        tools,
        models,
        lines_added: commit.files.iter().map(|f| f.additions).sum(),
        lines_deleted: commit.files.iter().map(|f| f.deletions).sum(),
        ai_lines: ai_lines(commit),
        files: commit.files.iter().map(|f| f.path.clone()).collect(),
        reviewed,
        reverted_by: None,
        time_to_revert_s: None,
        fix_followup: None,
        pr: None,
        merged_by: None,
        time_to_merge_s: None,
        rework_lines_14d: None,
        rework_lines_30d: None,
        policy_failures: Vec::new(),
    }
}

/// The commit's AI-written lines when a git-ai note or an Agent Trace
/// record covers it; null otherwise, rather than a guess from whole-commit
/// attribution.
fn ai_lines(commit: &Commit) -> Option<u64> {
    commit.ai.lines.as_ref().map(|l| l.ai)
}

/// The commits each first-parent merge of `head` brought: reachable from
/// its second (and later) parents, not from its first parent's history and
/// not brought by an earlier merge. Merges on side branches (a feature
/// branch syncing main) are not pull-request merges and bring nothing here.
fn merge_members(
    all: &[Header],
    head: Oid,
    index: &HashMap<Oid, usize>,
) -> HashMap<Oid, Vec<usize>> {
    let by_oid: HashMap<Oid, &Header> = all.iter().map(|h| (h.oid, h)).collect();
    let mut chain = Vec::new();
    let mut on_chain = std::collections::HashSet::new();
    let mut at = Some(head);
    while let Some(oid) = at {
        let Some(h) = by_oid.get(&oid) else { break };
        chain.push(oid);
        on_chain.insert(oid);
        at = h.parents.first().copied();
    }
    let mut seen: std::collections::HashSet<Oid> = std::collections::HashSet::new();
    let mut out = HashMap::new();
    for merge in chain.iter().rev() {
        let h = by_oid[merge];
        if h.parents.len() < 2 {
            continue;
        }
        let mut brought = Vec::new();
        let mut stack: Vec<Oid> = h.parents[1..].to_vec();
        while let Some(oid) = stack.pop() {
            if on_chain.contains(&oid) || !seen.insert(oid) {
                continue;
            }
            // Outside the range (before its base): the branch started there.
            let Some(p) = by_oid.get(&oid) else { continue };
            if let Some(i) = index.get(&oid) {
                brought.push(*i);
            }
            stack.extend(p.parents.iter().copied());
        }
        brought.sort_unstable();
        out.insert(*merge, brought);
    }
    out
}

static PR_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^Merge pull request #(\d+)\b|\(#(\d+)\)\s*$|^Merged? PR #?(\d+)\b)").unwrap()
});

fn pr_number(subject: &str) -> Option<u64> {
    let c = PR_NUMBER.captures(subject)?;
    (1..=3)
        .find_map(|i| c.get(i))
        .and_then(|m| m.as_str().parse().ok())
}

fn subject_of(message: &str) -> &str {
    message.trim_start().lines().next().unwrap_or("").trim()
}

/// Time to merge: for a merge commit, from the earliest author date of the
/// commits it brought to its committer date; for a squash merge (a
/// non-merge commit whose subject ends in `(#N)`), from its author date
/// (which GitHub and `git rebase` keep from the first commit) to its
/// committer date, when the two differ.
fn pull_requests(
    rows: &mut [CommitRow],
    singles: &[&Header],
    merges: &[&Header],
    members: &HashMap<Oid, Vec<usize>>,
) {
    for m in merges {
        let Some(brought) = members.get(&m.oid).filter(|b| !b.is_empty()) else {
            continue;
        };
        let first = brought
            .iter()
            .map(|i| singles[*i].author_time)
            .min()
            .unwrap_or(m.commit_time);
        let ttm = (m.commit_time - first).max(0);
        let pr = pr_number(subject_of(&m.message));
        for i in brought {
            rows[*i].pr = pr;
            rows[*i].merged_by = Some(m.oid.to_string());
            rows[*i].time_to_merge_s = Some(ttm);
        }
    }
    for (i, h) in singles.iter().enumerate() {
        if rows[i].merged_by.is_some() {
            continue;
        }
        if let Some(pr) = pr_number(&rows[i].subject) {
            rows[i].pr = Some(pr);
            rows[i].merged_by = Some(h.oid.to_string());
            if h.commit_time > h.author_time {
                rows[i].time_to_merge_s = Some(h.commit_time - h.author_time);
            }
        }
    }
}

static REVERTS_SHA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bThis reverts commit ([0-9a-f]{7,64})\b").unwrap());
static REVERT_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^Revert "(.+)"(?:\s*\(#\d+\))?$"#).unwrap());

/// Reverts: a commit (or a merge) whose message says `This reverts commit
/// SHA` (what `git revert` writes; a revert of a merge reverts every commit
/// the merge brought), or, without one, whose subject is `Revert "S"` for
/// the latest earlier commit with subject S. Each reverted commit counts
/// once, at its first revert.
fn reverts(
    rows: &mut [CommitRow],
    singles: &[&Header],
    merges: &[&Header],
    members: &HashMap<Oid, Vec<usize>>,
    index: &HashMap<Oid, usize>,
) {
    let mut shas: Vec<(String, Oid)> = singles
        .iter()
        .chain(merges)
        .map(|h| (h.oid.to_string(), h.oid))
        .collect();
    shas.sort();
    let find = |prefix: &str| -> Option<Oid> {
        let prefix = prefix.to_ascii_lowercase();
        let start = shas.partition_point(|(s, _)| s.as_str() < prefix.as_str());
        let mut hits = shas[start..]
            .iter()
            .take_while(|(s, _)| s.starts_with(&prefix));
        let first = hits.next()?;
        // An ambiguous abbreviation names nothing for sure.
        hits.next().is_none().then_some(first.1)
    };
    let mut by_subject: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, h) in singles.iter().enumerate() {
        by_subject
            .entry(subject_of(&h.message))
            .or_default()
            .push(i);
    }
    // Every reverting commit, merges too (reverting a merge by merging a
    // revert branch is counted at the revert commit itself).
    let mut reverters: Vec<&Header> = singles.to_vec();
    reverters.sort_by_key(|h| h.commit_time);
    for r in reverters {
        let mut targets: Vec<usize> = Vec::new();
        let named: Vec<Oid> = REVERTS_SHA
            .captures_iter(&r.message)
            .filter_map(|c| find(&c[1]))
            .collect();
        for oid in &named {
            if let Some(i) = index.get(oid) {
                targets.push(*i);
            } else if let Some(brought) = members.get(oid) {
                targets.extend(brought.iter().copied());
            }
        }
        if named.is_empty() {
            if let Some(c) = REVERT_SUBJECT.captures(subject_of(&r.message)) {
                let me = index[&r.oid];
                if let Some(i) = by_subject
                    .get(&c[1])
                    .and_then(|v| v.iter().rev().find(|i| **i < me))
                {
                    targets.push(*i);
                }
            }
        }
        for i in targets {
            if i == index[&r.oid] || rows[i].reverted_by.is_some() {
                continue;
            }
            rows[i].reverted_by = Some(r.oid.to_string());
            rows[i].time_to_revert_s = Some((r.commit_time - singles[i].commit_time).max(0));
        }
    }
}

static FIX_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*\[?(?:hot|bug)?fix(?:e[sd]|ing)?\b(?:\([^)]*\))?!?").unwrap()
});

/// Whether a subject marks a fix: `fix ...`, `Fixes ...`, `hotfix: ...`,
/// `bugfix ...`, conventional `fix:` / `fix(scope):`.
pub fn is_fix(subject: &str) -> bool {
    FIX_SUBJECT.is_match(subject)
}

/// For each commit, the first later fix commit within 7 days (committer
/// dates) that changes one of its files. Indexed by path, so the cost
/// follows the number of file changes of fix commits.
fn fix_followups(rows: &mut [CommitRow]) {
    let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        for f in &r.files {
            by_path.entry(f.as_str()).or_default().push(i);
        }
    }
    let mut found: Vec<Option<(i64, usize)>> = vec![None; rows.len()];
    for (fi, fix) in rows.iter().enumerate() {
        if !is_fix(&fix.subject) {
            continue;
        }
        for f in &fix.files {
            for &ci in by_path.get(f.as_str()).into_iter().flatten() {
                let c = &rows[ci];
                let dt = fix.commit_time - c.commit_time;
                let later = dt > 0 || (dt == 0 && fi > ci);
                if ci != fi
                    && later
                    && dt <= FIX_WINDOW_S
                    && found[ci].is_none_or(|(t, _)| fix.commit_time < t)
                {
                    found[ci] = Some((fix.commit_time, fi));
                }
            }
        }
    }
    let shas: Vec<String> = rows.iter().map(|r| r.sha.clone()).collect();
    for (r, f) in rows.iter_mut().zip(found) {
        r.fix_followup = f.map(|(_, i)| shas[i].clone());
    }
}

/// Parse `--since`/`--until`: `YYYY-MM-DD` (midnight UTC) or RFC 3339.
pub fn parse_date(flag: &str, text: &str) -> Result<i64> {
    if let Some(t) = crate::clock::parse_now(text) {
        return Ok(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &fmt)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| {
            Error::Usage(format!(
                "{flag} {text:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_subjects() {
        for s in [
            "fix: x",
            "Fix typo",
            "fix(api)!: y",
            "Hotfix prod",
            "bugfix: z",
            "[fix] a",
            "Fixes #3",
            "fixed it",
        ] {
            assert!(is_fix(s), "{s}");
        }
        for s in [
            "prefix things",
            "Add fixture",
            "Refactor fix path",
            "fixture: add",
        ] {
            assert!(!is_fix(s), "{s}");
        }
    }

    #[test]
    fn pr_numbers() {
        assert_eq!(pr_number("Merge pull request #12 from a/b"), Some(12));
        assert_eq!(pr_number("Add x (#345)"), Some(345));
        assert_eq!(pr_number("Add x (#345) more"), None);
        assert_eq!(pr_number("Merge branch 'x'"), None);
    }
}
