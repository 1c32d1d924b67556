//! The metrics: per-commit rows grouped by tool, model, month, author or
//! path, each group with the same measures. A commit with several tools (or
//! models, or paths) counts once in each of its groups.

use super::{CommitRow, Facts, HUMAN, SCHEMA};
use serde::Serialize;
use std::collections::BTreeMap;

pub const REWORK_SHORT_S: i64 = 14 * super::DAY;
pub const REWORK_LONG_S: i64 = 30 * super::DAY;

/// One group's measures. The key fields (`tool`, `model`, `month`, `author`,
/// `path`) are set according to the grouping.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Row {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub commits: u64,
    /// commits / all commits of the range (of the month, for month rows).
    pub share: f64,
    pub lines_added: u64,
    pub lines_deleted: u64,
    /// Null until line-level attribution exists for every commit of the group.
    pub ai_lines: Option<u64>,
    pub reverted: u64,
    pub revert_rate: f64,
    pub median_time_to_revert_s: Option<i64>,
    pub fix_followups: u64,
    pub fix_followup_rate: f64,
    /// Share of the added lines (of commits whose window closed within the
    /// range) deleted or rewritten within 14 / 30 days. Null: not measured.
    pub rework_14d: Option<f64>,
    pub rework_30d: Option<f64>,
    /// Pull requests (merge commits or squash merges) with a commit of the group.
    pub merged_prs: u64,
    pub median_time_to_merge_s: Option<i64>,
    pub reviewed: u64,
    pub review_rate: f64,
    /// AI commits failing today's GOV-AI rules (human rows: 0).
    pub policy_failing: u64,
}

/// The policy view: the range's AI commits judged by today's GOV-AI rules.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct PolicyView {
    pub ai_commits: u64,
    pub failing: u64,
    /// Commits failing each rule.
    pub by_rule: BTreeMap<String, u64>,
    /// Where the policy was read from.
    pub source: String,
    /// Why the view is empty, when the rules could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The JSON export (`govops.stats/v1`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub schema: &'static str,
    pub range: super::RangeInfo,
    pub rework_measured: bool,
    pub overall: Row,
    pub tools: Vec<Row>,
    pub models: Vec<Row>,
    pub months: Vec<Row>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<Vec<Row>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<Row>>,
    pub policy: PolicyView,
    pub commits: Vec<CommitRow>,
    /// The rows of the chosen grouping (`--by`), for the table.
    #[serde(skip)]
    #[schemars(skip)]
    pub table: Vec<Row>,
}

/// The grouping of the table (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Tool,
    Model,
    Author,
    Month,
    Path,
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        round(n as f64 / d as f64)
    }
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

/// The measures of a set of commits; `total` is the commit count shares are
/// taken of; `end` the range's last commit time (rework windows that reach
/// past it are left out).
pub fn measure(rows: &[&CommitRow], total: u64, end: i64, rework: bool) -> Row {
    let commits = rows.len() as u64;
    let reverted = rows.iter().filter(|r| r.reverted_by.is_some()).count() as u64;
    let fix = rows.iter().filter(|r| r.fix_followup.is_some()).count() as u64;
    let reviewed = rows.iter().filter(|r| r.reviewed).count() as u64;
    // One time per pull request, however many of its commits are here.
    let mut prs: BTreeMap<&str, Option<i64>> = BTreeMap::new();
    for r in rows {
        if let Some(m) = &r.merged_by {
            prs.insert(m, r.time_to_merge_s);
        }
    }
    let rework_share = |window: i64, pick: fn(&CommitRow) -> Option<u64>| -> Option<f64> {
        if !rework {
            return None;
        }
        let (mut added, mut reworked) = (0u64, 0u64);
        for r in rows.iter().filter(|r| r.commit_time + window <= end) {
            if let Some(n) = pick(r) {
                added += r.lines_added;
                reworked += n;
            }
        }
        (added > 0).then(|| ratio(reworked, added))
    };
    // The commits with a line-level record, summed; null when none has one.
    let ai_lines = rows
        .iter()
        .filter_map(|r| r.ai_lines)
        .fold(None, |acc: Option<u64>, n| Some(acc.unwrap_or(0) + n));
    Row {
        month: None,
        tool: None,
        model: None,
        author: None,
        path: None,
        commits,
        share: ratio(commits, total),
        lines_added: rows.iter().map(|r| r.lines_added).sum(),
        lines_deleted: rows.iter().map(|r| r.lines_deleted).sum(),
        ai_lines: if rows.is_empty() { None } else { ai_lines },
        reverted,
        revert_rate: ratio(reverted, commits),
        median_time_to_revert_s: median(rows.iter().filter_map(|r| r.time_to_revert_s).collect()),
        fix_followups: fix,
        fix_followup_rate: ratio(fix, commits),
        rework_14d: rework_share(REWORK_SHORT_S, |r| r.rework_lines_14d),
        rework_30d: rework_share(REWORK_LONG_S, |r| r.rework_lines_30d),
        merged_prs: prs.len() as u64,
        median_time_to_merge_s: median(prs.values().filter_map(|t| *t).collect()),
        reviewed,
        review_rate: ratio(reviewed, commits),
        policy_failing: rows
            .iter()
            .filter(|r| !r.policy_failures.is_empty())
            .count() as u64,
    }
}

/// The keys a commit belongs to under a grouping.
fn keys(r: &CommitRow, by: By) -> Vec<String> {
    match by {
        By::Tool if r.is_human() => vec![HUMAN.into()],
        By::Tool => r.tools.clone(),
        By::Model if r.is_human() => vec![format!("{HUMAN}:")],
        By::Model => r.models.clone(),
        By::Author => vec![r.author_email.to_lowercase()],
        By::Month => vec![r.month.clone()],
        By::Path => {
            let mut tops: Vec<String> = r
                .files
                .iter()
                .map(|f| match f.split_once('/') {
                    Some((top, _)) => format!("{top}/"),
                    None => "(root)".to_string(),
                })
                .collect();
            tops.sort();
            tops.dedup();
            tops
        }
    }
}

/// Group rows: the groups in order of commits (most first), then name.
pub fn group(rows: &[CommitRow], by: By, total: u64, end: i64, rework: bool) -> Vec<Row> {
    let mut groups: BTreeMap<String, Vec<&CommitRow>> = BTreeMap::new();
    for r in rows {
        for k in keys(r, by) {
            groups.entry(k).or_default().push(r);
        }
    }
    let mut out: Vec<Row> = groups
        .into_iter()
        .map(|(k, members)| {
            let mut row = measure(&members, total, end, rework);
            match by {
                By::Tool => row.tool = Some(k),
                By::Model => {
                    let (t, m) = k.split_once(':').unwrap_or((&k, ""));
                    row.tool = Some(t.to_string());
                    row.model = (!m.is_empty()).then(|| m.to_string());
                }
                By::Author => row.author = Some(k),
                By::Month => row.month = Some(k),
                By::Path => row.path = Some(k),
            }
            row
        })
        .collect();
    // The human baseline last among tools, so AI tools read first.
    out.sort_by(|a, b| {
        let human = |r: &Row| r.tool.as_deref() == Some(HUMAN);
        if by == By::Month {
            return a.month.cmp(&b.month);
        }
        human(a)
            .cmp(&human(b))
            .then(b.commits.cmp(&a.commits))
            .then(a.tool.cmp(&b.tool))
            .then(a.model.cmp(&b.model))
            .then(a.author.cmp(&b.author))
            .then(a.path.cmp(&b.path))
    });
    out
}

/// Month × tool rows: each month's commits by tool, shares of that month.
fn months(rows: &[CommitRow], end: i64, rework: bool) -> Vec<Row> {
    let mut by_month: BTreeMap<&str, Vec<CommitRow>> = BTreeMap::new();
    for r in rows {
        by_month.entry(&r.month).or_default().push(r.clone());
    }
    let mut out = Vec::new();
    for (month, members) in by_month {
        for mut row in group(&members, By::Tool, members.len() as u64, end, rework) {
            row.month = Some(month.to_string());
            out.push(row);
        }
    }
    out
}

pub fn report(facts: &Facts, by: By, policy: PolicyView) -> Report {
    let rows = &facts.rows;
    let total = rows.len() as u64;
    let end = rows.iter().map(|r| r.commit_time).max().unwrap_or(0);
    let rework = facts.rework;
    let all: Vec<&CommitRow> = rows.iter().collect();
    let mut overall = measure(&all, total, end, rework);
    overall.tool = Some("all".into());
    Report {
        schema: SCHEMA,
        range: facts.range.clone(),
        rework_measured: rework,
        overall,
        tools: group(rows, By::Tool, total, end, rework),
        models: group(rows, By::Model, total, end, rework),
        months: months(rows, end, rework),
        authors: (by == By::Author).then(|| group(rows, By::Author, total, end, rework)),
        paths: (by == By::Path).then(|| group(rows, By::Path, total, end, rework)),
        policy,
        commits: rows.clone(),
        table: group(rows, by, total, end, rework),
    }
}
