//! The `github` report: workflow commands that annotate the pull request,
//! escaped as the Actions toolkit escapes them, plus the step outputs.

use super::Report;
use crate::finding::{Severity, Status};
use crate::judge::Verdict;

/// `%`, CR and LF in a command's message (toolkit's `escapeData`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Also `:` and `,` in a property value (toolkit's `escapeProperty`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for f in &report.judgement.findings {
        let command = match (f.status, f.severity) {
            (Status::Open, Severity::Deny | Severity::Review) => "error",
            (Status::Open, Severity::Warn) => "warning",
            _ => "notice",
        };
        let mut props = Vec::new();
        if let Some(file) = &f.file {
            props.push(format!("file={}", escape_property(file)));
            if let Some(line) = f.line {
                props.push(format!("line={line}"));
                if let Some(col) = f.column {
                    props.push(format!("col={col}"));
                }
            }
        }
        props.push(format!("title={}", escape_property(&f.id)));
        let mut message = f.message.clone();
        if let Some(label) = f.commit_label(&report.input.commits) {
            message.push_str(&format!(" (commit {label})"));
        }
        match f.status {
            Status::Waived => message.push_str(" [waived]"),
            Status::Approved => message.push_str(" [approved]"),
            Status::Open => {}
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            escape_data(&message)
        ));
    }
    let verdict = match report.judgement.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    out.push_str(&format!(
        "govops: {verdict}: {} open finding(s), {} waived, {} approved\n",
        report.judgement.count_status(Status::Open),
        report.judgement.count_status(Status::Waived),
        report.judgement.count_status(Status::Approved)
    ));
    out
}

/// `$GITHUB_OUTPUT` lines: verdict, open findings, the audit record's hash.
pub fn outputs(report: &Report<'_>) -> String {
    let verdict = match report.judgement.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
    };
    format!(
        "verdict={verdict}\nfindings={}\naudit-hash={}\n",
        report.judgement.count_status(Status::Open),
        report.audit.as_ref().map(|a| a.hash.as_str()).unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
