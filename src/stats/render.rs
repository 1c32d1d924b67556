//! The text outputs of `govops stats`: the table for people, the JSON and
//! CSV exports for machines (stable columns, documented by `govops schema
//! stats`, so that many repositories' exports can be merged).

use super::metrics::{By, Report, Row};
use super::{CommitRow, HUMAN};

/// The CSV columns, in order. Fields may be added at the end within v1,
/// never renamed, removed or reordered.
pub const CSV_COLUMNS: &[&str] = &[
    "repository",
    "sha",
    "author_time",
    "commit_time",
    "month",
    "author",
    "author_email",
    "tools",
    "models",
    "lines_added",
    "lines_deleted",
    "ai_lines",
    "reviewed",
    "reverted_by",
    "time_to_revert_s",
    "fix_followup",
    "pr",
    "merged_by",
    "time_to_merge_s",
    "rework_lines_14d",
    "rework_lines_30d",
    "policy_failures",
    "subject",
];

/// A CSV field as RFC 4180 writes it: quoted when it holds a comma, a quote
/// or a line break, quotes doubled.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A cell of text a commit's author wrote (a name, an email, a subject, a
/// trailer's tool): one that starts like a formula (`=`, `+`, `-`, `@`, a
/// tab or a carriage return) would run as one when the export is opened in
/// a spreadsheet, so it gets a leading `'`, as OWASP advises for CSV
/// injection. The numbers are the gate's own and left as they are.
fn text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// One row per commit. `tools` and `models` are `;`-separated, `human` for
/// a commit with no AI evidence (DuckDB: `unnest(string_split(tools, ';'))`).
pub fn csv(repository: &str, rows: &[CommitRow]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    for r in rows {
        let tools = if r.is_human() {
            HUMAN.to_string()
        } else {
            r.tools.join(";")
        };
        let models = if r.is_human() {
            HUMAN.to_string()
        } else {
            r.models.join(";")
        };
        let cells = [
            text(repository),
            r.sha.clone(),
            crate::clock::format_git_time(r.author_time, 0),
            crate::clock::format_git_time(r.commit_time, 0),
            r.month.clone(),
            text(&r.author),
            text(&r.author_email),
            text(&tools),
            text(&models),
            r.lines_added.to_string(),
            r.lines_deleted.to_string(),
            opt(&r.ai_lines),
            r.reviewed.to_string(),
            opt(&r.reverted_by),
            opt(&r.time_to_revert_s),
            opt(&r.fix_followup),
            opt(&r.pr),
            text(&opt(&r.merged_by)),
            opt(&r.time_to_merge_s),
            opt(&r.rework_lines_14d),
            opt(&r.rework_lines_30d),
            r.policy_failures.join(";"),
            text(&r.subject),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

pub fn json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

/// A duration for people: `45s`, `12m`, `3h 20m`, `2d 4h`.
pub fn duration(s: i64) -> String {
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}

pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn key(r: &Row, by: By) -> String {
    match by {
        By::Tool => r.tool.clone().unwrap_or_default(),
        By::Model => match (&r.tool, &r.model) {
            (Some(t), Some(m)) => format!("{t} / {m}"),
            (Some(t), None) => t.clone(),
            _ => String::new(),
        },
        By::Author => r.author.clone().unwrap_or_default(),
        By::Month => r.month.clone().unwrap_or_default(),
        By::Path => r.path.clone().unwrap_or_default(),
    }
}

/// The table: one line per group, the range and the policy view above it.
pub fn table(report: &Report, by: By) -> String {
    let r = &report.range;
    let mut out = String::new();
    out.push_str(&format!(
        "govops stats: {} commit(s) ({} merge(s) not counted), {}{}\n",
        r.commits,
        r.merges,
        match &r.base {
            Some(b) => format!(
                "{}..{}",
                &b[..7.min(b.len())],
                &r.head[..7.min(r.head.len())]
            ),
            None => format!("history of {}", &r.head[..7.min(r.head.len())]),
        },
        match (&r.first, &r.last) {
            (Some(f), Some(l)) =>
                format!(", {} to {}", &f[..10.min(f.len())], &l[..10.min(l.len())]),
            _ => String::new(),
        }
    ));
    if r.shallow {
        out.push_str("shallow clone: the history stops where it was cut (fetch it whole: actions/checkout with `fetch-depth: 0`)\n");
    }
    let rows = &report.table;
    let header = [
        match by {
            By::Tool => "TOOL",
            By::Model => "TOOL / MODEL",
            By::Author => "AUTHOR",
            By::Month => "MONTH",
            By::Path => "PATH",
        },
        "COMMITS",
        "SHARE",
        "+LINES",
        "-LINES",
        "REVERTED",
        "FIX<=7D",
        "REWORK14D",
        "REWORK30D",
        "PRS",
        "MERGE(MED)",
        "REVIEWED",
    ];
    let mut cells: Vec<Vec<String>> = vec![header
        .iter()
        .map(std::string::ToString::to_string)
        .collect()];
    let rework = |x: Option<f64>| x.map_or_else(|| "-".into(), pct);
    for row in rows.iter().chain(std::iter::once(&report.overall)) {
        let name = if std::ptr::eq(row, &report.overall) {
            "(all)".to_string()
        } else {
            key(row, by)
        };
        cells.push(vec![
            name,
            row.commits.to_string(),
            pct(row.share),
            row.lines_added.to_string(),
            row.lines_deleted.to_string(),
            format!("{} ({})", row.reverted, pct(row.revert_rate)),
            format!("{} ({})", row.fix_followups, pct(row.fix_followup_rate)),
            rework(row.rework_14d),
            rework(row.rework_30d),
            row.merged_prs.to_string(),
            row.median_time_to_merge_s
                .map_or_else(|| "-".into(), duration),
            format!("{} ({})", row.reviewed, pct(row.review_rate)),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in &cells {
        let mut text = String::new();
        for (i, c) in line.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i == 0 {
                text.push_str(c);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str("  ");
                text.push_str(&" ".repeat(pad));
                text.push_str(c);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    let p = &report.policy;
    out.push_str(&format!(
        "policy ({}): {} of {} AI commit(s) would fail today's GOV-AI rules",
        p.source, p.failing, p.ai_commits
    ));
    if !p.by_rule.is_empty() {
        let rules: Vec<String> = p.by_rule.iter().map(|(k, v)| format!("{k} {v}")).collect();
        out.push_str(&format!(": {}", rules.join(", ")));
    }
    out.push('\n');
    if !report.rework_measured {
        out.push_str("rework not measured (--no-rework)\n");
    }
    out.push_str("definitions and their biases: govops stats --explain\n");
    out
}

/// `govops stats --explain`: each measure, how it is taken, and its bias.
pub const EXPLAIN: &str = "\
govops stats: definitions

Commits. The non-merge commits of the range (base..head, the whole history
of head without --base), filtered by author date with --since/--until. A
commit is AI-assisted when the gate would say so: the same provenance
reading (trailers, identities, subjects, body markers) with the policy's
identity table (ai.identities). Every other commit is `human`, the baseline.
A commit with several tools counts once for each, so tool shares can sum
past 100%. Merge commits are not counted (their lines are their parents').
  Bias: AI help that leaves no trace is counted as human; the human baseline
  is therefore an upper bound of unassisted work.

Share. commits of the group / commits of the range (of the month for month rows).

Lines. Added and deleted lines against the first parent, as the gate counts
them (files over limits.max_diff_bytes and binary files count 0).
ai_lines: the lines git-ai notes (refs/notes/ai) or Agent Trace records
(ai.agent_trace) attribute to AI, as the gate counts them (at most what the
commit adds to each file), summed over the group's commits that have such a
record; null when none has.
  Bias: only tools that record lines are counted (fetch refs/notes/ai
  first); a commit's AI lines count in full in the row of each of its tools,
  whichever tool the record gives them to (the input document's
  commits[].ai.lines.by_tool has the split).

Revert rate. Commits reverted within the range / commits. A commit is
reverted when a later commit says `This reverts commit SHA` (git revert's
message; a revert of a merge reverts every commit that merge brought), or,
without it, has the subject `Revert \"S\"` for an earlier commit with subject
S. Time to revert: the revert's committer date minus the commit's.
  Bias: reverts done by hand without the message, and reverts after the
  range's end, are missed; recent commits have had less time to be reverted.

Fix follow-ups. Commits followed, within 7 days (committer dates), by a
commit that changes one of the same files and whose subject marks a fix:
`fix`, `fixes`, `fixed`, `hotfix`, `bugfix`, `[fix]`, conventional `fix:` or
`fix(scope):`.
  Bias: a fix of an unrelated bug in a busy file counts; a fix whose subject
  does not say so does not; commits in the last 7 days are undercounted.
  Tools that write conventional subjects themselves (aider does) mark more
  of their own commits as fixes than people do: compare within a tool
  over time rather than across tools.

Rework (14 and 30 days). Of the lines a commit added, the share deleted or
rewritten by later commits within 14 / 30 days of its committer date. Lines
are followed through the commits in topological order, hunk by hunk (diffs
with no context, renames followed), like git blame does forwards. Only
commits whose window ends within the range are counted. --no-rework skips it.
  Bias: the history is taken as a line: on parallel branches a hunk can be
  placed on the wrong line (lines are then counted as not reworked when
  outside the file); a moved block counts as rewritten; whitespace-only
  changes count. Merge conflict resolutions are not followed. Measured
  against git blame at the head of a real history with many merges
  (aider, 12,461 commits, its 40 most recently changed files): 86.5% of
  lines have the origin blame gives them; on a linear history, all.

Time to merge. For a merge commit on head's first-parent history: from the
earliest author date of the commits it brought to its committer date. For a
squash merge (a commit whose subject ends with `(#N)`): from its author date
to its committer date, when they differ. The median is over pull requests.
  Bias: author dates are set by the author's clock and kept by rebases;
  a pull request merged by rebase without a PR number is not seen.

Review evidence. Commits with a review trailer (approvals.review_trailers:
Reviewed-by, Approved-by, Acked-by by default) naming a human, not an AI
tool or a bot.
  Bias: reviews recorded only in the forge (GitHub approvals) leave no
  trailer and are not seen.

Policy view. The range's AI commits judged by today's policy (the working
tree's config and rules, as `check --policy-ref worktree`): commits that
fail a GOV-AI rule, by rule. Waivers and severities are not applied.
  Bias: yesterday's commits are judged by today's rules.
";

#[cfg(test)]
mod tests {
    use super::text;

    /// Every start a spreadsheet reads as a formula, and only those.
    #[test]
    fn text_cells_that_start_like_a_formula_get_a_quote() {
        for start in ["=", "+", "-", "@", "\t", "\r"] {
            assert_eq!(text(&format!("{start}SUM(A1)")), format!("'{start}SUM(A1)"));
        }
        for plain in ["", "Ada", "a=b", "'quoted", "1+1"] {
            assert_eq!(text(plain), plain);
        }
    }
}
