//! The `markdown` report: a summary ready for a pull request comment or the
//! GitHub step summary, with links to the lines findings point at. Every
//! repository string is escaped (`escape::markdown` for text, never a code
//! span, whose fences repository text could match; `uri_path` for link
//! targets), and the document stays within its consumer's size limit.

use super::escape::{markdown, truncate, uri, uri_path};
use super::{Rendered, Report};
use crate::finding::{Finding, Severity, Status};
use crate::judge::Verdict;

/// A pull request comment's body holds at most 65,536 characters.
pub const COMMENT_BUDGET: usize = 65_536;
/// A finding's message is cut to this many bytes in a table cell.
const MESSAGE_BYTES: usize = 1_000;

fn location(f: &Finding, report: &Report<'_>) -> String {
    let Some(file) = &f.file else {
        return f
            .commit_label(&report.input.commits)
            .map(|l| format!("commit {}", markdown(&l)))
            .unwrap_or_default();
    };
    let text = match f.line {
        Some(line) => format!("{file}:{line}"),
        None => file.clone(),
    };
    let anchor = f.line.map(|l| format!("#L{l}")).unwrap_or_default();
    match &report.blob_url {
        Some(base) => format!(
            "[{}]({}/{}{anchor})",
            markdown(&text),
            uri(base),
            uri_path(file)
        ),
        None => markdown(&text),
    }
}

fn row(f: &Finding, report: &Report<'_>) -> String {
    format!(
        "| {} | {} | {} | {} | {} |\n",
        markdown(&f.id),
        f.severity,
        f.status,
        location(f, report),
        markdown(&truncate(&f.message, MESSAGE_BYTES))
    )
}

/// The report in at most `budget` bytes: rows most severe first, and when
/// they do not all fit, a line saying how many are left out and where they are.
pub fn render(report: &Report<'_>, budget: usize) -> Rendered {
    let j = report.judgement;
    let (commits, ai, manifests, files) = report.counts();
    let open = |s| j.count(s, Status::Open);
    let mut out = String::new();
    out.push_str(match j.verdict {
        Verdict::Pass => "## govops: ✅ passed\n\n",
        Verdict::Fail => "## govops: ❌ failed\n\n",
    });
    out.push_str(&format!(
        "Checked {commits} commit(s) ({ai} AI-assisted), {files} changed file(s) and {manifests} manifest(s) against policy {} from {}, with govops {}.\n\n",
        markdown(&report.input.policy.digest[..report.input.policy.digest.len().min(19)]),
        markdown(&report.input.policy.source),
        markdown(env!("CARGO_PKG_VERSION"))
    ));
    out.push_str(
        "| deny | review | warn | waived | baselined | approved |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} |\n\n",
        open(Severity::Deny),
        open(Severity::Review),
        open(Severity::Warn),
        j.count_status(Status::Waived),
        j.count_status(Status::Baselined),
        j.count_status(Status::Approved)
    ));
    let mut tail = String::new();
    if j.verdict == Verdict::Fail {
        tail.push_str("**What to do next**\n\n");
        tail.push_str("- Fix the open findings; `govops rules show ID` explains each rule and how to fix it.\n");
        if open(Severity::Review) > 0 {
            tail.push_str("- Review findings pass with a human approval: an approving review, or a label listed in `approvals.labels`.\n");
        }
        tail.push_str("- To accept a finding for a while, add a waiver to `.govops.yaml` with an owner, a reason and an expiry date (it takes effect once merged).\n");
    }
    for note in &report.notes {
        tail.push_str(&format!("\n> {}\n", markdown(note)));
    }
    let mut notices = Vec::new();
    if !j.findings.is_empty() {
        let mut order: Vec<&Finding> = j.findings.iter().collect();
        order.sort_by_key(|f| super::priority(f));
        // Room kept for the line that says what was left out.
        let reserve = 400 + report.full_list().len() * 2;
        let mut table =
            String::from("| rule | severity | status | where | finding |\n|---|---|---|---|---|\n");
        let mut shown = 0;
        for f in &order {
            let row = row(f, report);
            if out.len() + table.len() + row.len() + tail.len() + reserve > budget {
                break;
            }
            table.push_str(&row);
            shown += 1;
        }
        if shown > 0 {
            out.push_str(&table);
            out.push('\n');
        }
        let left = order.len() - shown;
        if left > 0 {
            let line = format!(
                "{left} more finding(s) not shown here (this summary has a size limit); every one is in {}",
                report.full_list()
            );
            out.push_str(&format!("**{}.**\n\n", markdown(&line)));
            notices.push(format!("markdown summary: {line}"));
        }
    }
    out.push_str(&tail);
    Rendered { text: out, notices }
}
