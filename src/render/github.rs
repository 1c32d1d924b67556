//! The `github` report: workflow commands that annotate the pull request,
//! escaped as the Actions toolkit escapes them (after every hazard in
//! repository text is made visible), plus the step outputs and summary.
//!
//! GitHub shows 10 error, 10 warning and 10 notice annotations per step:
//! the most useful are emitted first and within those limits, and one last
//! notice says how many more there are and where.

use super::escape::{workflow_data, workflow_property};
use super::{Rendered, Report};
use crate::finding::{Finding, Status};
use crate::input::FileStatus;

/// Annotations GitHub shows per step, of each kind.
pub const SHOWN_PER_KIND: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Error,
    Warning,
    Notice,
}

/// Open findings that fail the gate are errors, other open findings
/// warnings, waived, baselined and approved ones notices.
fn kind(f: &Finding, report: &Report<'_>) -> Kind {
    if f.status != Status::Open {
        Kind::Notice
    } else if report.judgement.fail_on.fails(f) {
        Kind::Error
    } else {
        Kind::Warning
    }
}

/// The file a finding concerns: its own, or for a commit finding the first
/// file its commit changed (as in SARIF).
pub(super) fn file_of<'a>(f: &'a Finding, report: &'a Report<'_>) -> Option<&'a str> {
    place_of(f, report).map(|(file, _)| file)
}

/// The file and line a finding points at: its own; for a finding about a
/// commit without a line, the first line that commit changed in the file it
/// names, or else in the first file it changed that still exists.
pub(super) fn place_of<'a>(
    f: &'a Finding,
    report: &'a Report<'_>,
) -> Option<(&'a str, Option<u32>)> {
    let commit = f.commit.as_deref().and_then(|sha| {
        report
            .input
            .commits
            .iter()
            .find(|c| c.sha.as_deref() == Some(sha))
    });
    if let Some(file) = &f.file {
        let line = f
            .line
            .or_else(|| commit?.files.iter().find(|c| c.path == *file)?.first_line);
        return Some((file, line));
    }
    let changed = commit?
        .files
        .iter()
        .find(|c| c.status != FileStatus::Deleted)?;
    Some((&changed.path, changed.first_line))
}

fn command(f: &Finding, kind: Kind, report: &Report<'_>) -> String {
    let name = match kind {
        Kind::Error => "error",
        Kind::Warning => "warning",
        Kind::Notice => "notice",
    };
    let mut props = Vec::new();
    if let Some((file, line)) = place_of(f, report) {
        props.push(format!("file={}", workflow_property(file)));
        if let Some(line) = line {
            props.push(format!("line={line}"));
            if let Some(col) = f.column {
                props.push(format!("col={col}"));
            }
        }
    }
    props.push(format!("title={}", workflow_property(&f.id)));
    let mut message = f.message.clone();
    if let Some(label) = f.commit_label(&report.input.commits) {
        message.push_str(&format!(" (commit {label})"));
    }
    if f.status != Status::Open {
        message.push_str(&format!(" [{}]", f.status));
    }
    format!(
        "::{name} {}::{}\n",
        props.join(","),
        workflow_data(&super::escape::truncate(&message, 4_000))
    )
}

pub fn render(report: &Report<'_>) -> Rendered {
    let mut order: Vec<&Finding> = report.judgement.findings.iter().collect();
    order.sort_by_key(|f| super::priority(f));
    let mut out = String::new();
    let mut emitted = [0usize; 3];
    let mut left = 0;
    for f in order {
        let kind = kind(f, report);
        // One notice is kept for the line that says what was left out.
        let room = match kind {
            Kind::Notice => SHOWN_PER_KIND - 1,
            _ => SHOWN_PER_KIND,
        };
        let n = &mut emitted[kind as usize];
        if *n >= room {
            left += 1;
            continue;
        }
        *n += 1;
        out.push_str(&command(f, kind, report));
    }
    // What was skipped, by path, as plain log lines: notes are not
    // findings, and annotations are few (the step summary lists them too).
    for note in &report.notes {
        out.push_str(&format!("govops: note: {}\n", workflow_data(note)));
    }
    let mut notices = Vec::new();
    if left > 0 {
        let line = format!(
            "{left} more finding(s) not annotated (GitHub shows {SHOWN_PER_KIND} of each kind per step): every one is in the step summary's table or in {}",
            report.full_list()
        );
        out.push_str(&format!(
            "::notice title=govops::{}\n",
            workflow_data(&line)
        ));
        notices.push(format!("github annotations: {line}"));
    }
    out.push_str(&format!(
        "govops: {}: {} open finding(s), {} waived, {} baselined, {} approved\n",
        report.judgement.verdict.as_str().to_uppercase(),
        report.judgement.count_status(Status::Open),
        report.judgement.count_status(Status::Waived),
        report.judgement.count_status(Status::Baselined),
        report.judgement.count_status(Status::Approved)
    ));
    Rendered { text: out, notices }
}

/// `$GITHUB_OUTPUT` lines: verdict, open findings, the audit record's hash.
pub fn outputs(report: &Report<'_>) -> String {
    format!(
        "verdict={}\nfindings={}\naudit-hash={}\nversion={}\n",
        report.judgement.verdict,
        report.judgement.count_status(Status::Open),
        report.audit.as_ref().map(|a| a.hash.as_str()).unwrap_or(""),
        env!("CARGO_PKG_VERSION")
    )
}

/// The step summary's size limit: the runner drops a summary over 1 MiB.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

/// In GitHub Actions: the Markdown summary on the run's page (within what is
/// left of the step's 1 MiB), and the step outputs. Notices for stderr.
pub fn write_files(report: &Report<'_>) -> std::io::Result<Vec<String>> {
    use std::io::Write;
    let target = |var: &str| std::env::var_os(var).filter(|p| !p.is_empty());
    let append = |path: &std::ffi::OsStr, text: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
    };
    let mut notices = Vec::new();
    if let Some(path) = target("GITHUB_STEP_SUMMARY") {
        let used = std::fs::metadata(&path)
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        let summary = super::summary(report, SUMMARY_LIMIT.saturating_sub(used));
        append(&path, &summary.text).map_err(|e| named(e, "GITHUB_STEP_SUMMARY", &path))?;
        notices.extend(summary.notices);
    }
    if let Some(path) = target("GITHUB_OUTPUT") {
        append(&path, &outputs(report)).map_err(|e| named(e, "GITHUB_OUTPUT", &path))?;
    }
    Ok(notices)
}

fn named(e: std::io::Error, var: &str, path: &std::ffi::OsStr) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!(
            "cannot write ${var} ({}): {e}",
            std::path::Path::new(path).display()
        ),
    )
}
