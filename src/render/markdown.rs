//! The `markdown` report: a summary ready for a pull request comment or the
//! GitHub step summary, with links to the lines findings point at.

use super::Report;
use crate::finding::{Finding, Severity, Status};
use crate::judge::Verdict;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn location(f: &Finding, report: &Report<'_>) -> String {
    let Some(file) = &f.file else {
        return f
            .commit_label(&report.input.commits)
            .map(|l| format!("commit `{}`", cell(&l)))
            .unwrap_or_default();
    };
    let text = match f.line {
        Some(line) => format!("{file}:{line}"),
        None => file.clone(),
    };
    match (&report.blob_url, f.line) {
        (Some(base), Some(line)) => format!("[`{}`]({base}/{file}#L{line})", cell(&text)),
        (Some(base), None) => format!("[`{}`]({base}/{file})", cell(&text)),
        _ => format!("`{}`", cell(&text)),
    }
}

pub fn render(report: &Report<'_>) -> String {
    let j = report.judgement;
    let (commits, ai, manifests, files) = report.counts();
    let open = |s| j.count(s, Status::Open);
    let mut out = String::new();
    out.push_str(match j.verdict {
        Verdict::Pass => "## govops: ✅ passed\n\n",
        Verdict::Fail => "## govops: ❌ failed\n\n",
    });
    out.push_str(&format!(
        "Checked {commits} commit(s) ({ai} AI-assisted), {files} changed file(s) and {manifests} manifest(s) against policy `{}` from {}.\n\n",
        &report.input.policy.digest[..report.input.policy.digest.len().min(19)],
        report.input.policy.source
    ));
    out.push_str("| deny | review | warn | waived | approved |\n|---:|---:|---:|---:|---:|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} |\n\n",
        open(Severity::Deny),
        open(Severity::Review),
        open(Severity::Warn),
        j.count_status(Status::Waived),
        j.count_status(Status::Approved)
    ));
    if !j.findings.is_empty() {
        out.push_str("| rule | severity | status | where | finding |\n|---|---|---|---|---|\n");
        for f in &j.findings {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                f.id,
                f.severity,
                match f.status {
                    Status::Open => "open",
                    Status::Waived => "waived",
                    Status::Approved => "approved",
                },
                location(f, report),
                cell(&f.message)
            ));
        }
        out.push('\n');
    }
    if j.verdict == Verdict::Fail {
        out.push_str("**What to do next**\n\n");
        out.push_str("- Fix the open findings; `govops rules show ID` explains each rule and how to fix it.\n");
        if open(Severity::Review) > 0 {
            out.push_str("- Review findings pass with a human approval: an approving review, or a label listed in `approvals.labels`.\n");
        }
        out.push_str("- To accept a finding for a while, add a waiver to `.govops.yaml` with an owner, a reason and an expiry date (it takes effect once merged).\n");
    }
    for note in &report.notes {
        out.push_str(&format!("\n> {note}\n"));
    }
    out
}
