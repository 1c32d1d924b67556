//! The `junit` report: one testsuite per rule family; per rule, one passing
//! testcase when it found nothing, else one testcase per finding. It tells
//! the gate's verdict: a failure is exactly an open finding at or above
//! `--fail-on`; an open finding below it, and a waived, baselined or
//! approved one, is a skipped case saying why (and who answers for it).
//! Repository text goes through `escape::xml`.

use super::escape::{truncate, xml};
use super::Report;
use crate::finding::{Finding, Status};
use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use std::collections::HashMap;
use std::time::Duration;

/// A message is cut to this many bytes in a case.
const MESSAGE_BYTES: usize = 2_000;

pub fn render(report: &Report<'_>) -> String {
    let findings = &report.judgement.findings;
    let ids = crate::catalog::rule_ids(&report.catalog, findings);
    let mut by_rule: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in findings {
        by_rule.entry(&f.id).or_default().push(f);
    }
    let mut families: Vec<&str> = ids.iter().map(|id| Finding::family(id)).collect();
    families.sort();
    families.dedup();
    let mut junit = Junit::new(format!("govops {}", env!("CARGO_PKG_VERSION")));
    // govops judges in one pass: cases take no time of their own.
    junit.set_time(Duration::ZERO);
    for family in families {
        let mut suite = TestSuite::new(format!("govops.{}", xml(family)));
        suite.set_time(Duration::ZERO);
        for id in ids.iter().filter(|id| Finding::family(id) == family) {
            let title = report
                .catalog
                .iter()
                .find(|d| d.id == *id)
                .map(|d| format!("{}: {}", xml(id), xml(&d.title)))
                .unwrap_or_else(|| xml(id).into_owned());
            let found = by_rule.get(id).map(Vec::as_slice).unwrap_or_default();
            if found.is_empty() {
                suite.add_test_case(case(title.clone(), None, family, TestCaseStatus::success()));
            }
            for f in found {
                let (file, place) = place(f, report);
                let name = match &place {
                    Some(place) => format!("{title} at {place}"),
                    None => title.clone(),
                };
                let message = xml(&truncate(&f.message, MESSAGE_BYTES)).into_owned();
                let status = if report.judgement.fail_on.fails(f) {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(message);
                    status.set_type(f.severity.to_string());
                    status
                } else {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(format!("{}: {message}", why_not_failed(f, report)));
                    status.set_type(f.severity.to_string());
                    status
                };
                suite.add_test_case(case(name, file, family, status));
            }
        }
        junit.add_test_suite(suite);
    }
    // What was skipped, by path: every report lists it (a suite without
    // cases, its notes as system-out).
    if !report.notes.is_empty() {
        let mut notes = TestSuite::new("govops.notes");
        notes.set_time(Duration::ZERO);
        let text: Vec<String> = report.notes.iter().map(|n| xml(n).into_owned()).collect();
        notes.set_system_out(text.join("\n"));
        junit.add_test_suite(notes);
    }
    // XML written to memory: no I/O to fail, and every string was made
    // valid text by `escape::xml`.
    junit
        .to_string()
        .expect("the junit report serialises in memory")
}

fn case(name: String, file: Option<String>, family: &str, status: TestCaseStatus) -> TestCase {
    let mut case = TestCase::new(name, status);
    case.set_classname(format!("govops.{}", xml(family)));
    case.set_time(Duration::ZERO);
    if let Some(file) = file {
        case.extra.insert("file".into(), file.into());
    }
    case
}

/// The file a finding concerns (for the `file` attribute) and its place in
/// words (`file:line`, and the commit).
fn place(f: &Finding, report: &Report<'_>) -> (Option<String>, Option<String>) {
    let file = super::github::file_of(f, report).map(|f| xml(f).into_owned());
    let mut at = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{}:{line}", xml(file)),
        (Some(file), None) => xml(file).into_owned(),
        _ => String::new(),
    };
    if let Some(label) = f.commit_label(&report.input.commits) {
        if !at.is_empty() {
            at.push(' ');
        }
        at.push_str(&format!("commit {}", xml(&label)));
    }
    (file, (!at.is_empty()).then_some(at))
}

/// Why an open or accepted finding does not fail the gate.
fn why_not_failed(f: &Finding, report: &Report<'_>) -> String {
    match f.status {
        Status::Waived => {
            let w = f.waiver.as_ref();
            format!(
                "waived until {} by {}: {}",
                xml(w.map_or("", |w| &w.expires)),
                xml(w.map_or("", |w| &w.owner)),
                xml(w.map_or("", |w| &w.reason))
            )
        }
        Status::Baselined => xml(&report.baselined_reason()).into_owned(),
        Status::Approved => format!(
            "approved by {}",
            xml(&f
                .approval
                .as_ref()
                .map(|a| a.by.join(", "))
                .unwrap_or_default())
        ),
        Status::Open => format!(
            "{} is below --fail-on {}",
            f.severity, report.judgement.fail_on
        ),
    }
}
