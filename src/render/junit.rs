//! The `junit` report: one testsuite per rule family, one testcase per rule,
//! a failure for each rule with open findings (all of them in its text).

use super::Report;
use crate::finding::{Finding, Status};
use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};

pub fn render(report: &Report<'_>) -> String {
    let findings = &report.judgement.findings;
    let mut ids: Vec<(String, String)> = report
        .catalog
        .iter()
        .map(|d| (Finding::family(&d.id).to_string(), d.id.clone()))
        .collect();
    for f in findings {
        if !ids.iter().any(|(_, id)| *id == f.id) {
            ids.push((Finding::family(&f.id).to_string(), f.id.clone()));
        }
    }
    let mut families: Vec<String> = ids.iter().map(|(fam, _)| fam.clone()).collect();
    families.sort();
    families.dedup();
    let mut junit = Junit::new("govops");
    for family in families {
        let mut suite = TestSuite::new(format!("govops.{family}"));
        for (_, id) in ids.iter().filter(|(fam, _)| *fam == family) {
            let open: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.id == *id && f.status == Status::Open)
                .collect();
            let title = report
                .catalog
                .iter()
                .find(|d| d.id == *id)
                .map(|d| d.title.clone());
            let status = if open.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!(
                    "{} open finding(s): {}",
                    open.len(),
                    open[0].message
                ));
                status.set_type(open[0].severity.to_string());
                status.set_description(
                    open.iter()
                        .map(|f| line(f, report))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                status
            };
            let mut case = TestCase::new(
                match &title {
                    Some(t) => format!("{id}: {t}"),
                    None => id.clone(),
                },
                status,
            );
            case.set_classname(format!("govops.{family}"));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().unwrap_or_default()
}

fn line(f: &Finding, report: &Report<'_>) -> String {
    let mut at = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{file}:{line}: "),
        (Some(file), None) => format!("{file}: "),
        _ => String::new(),
    };
    if let Some(label) = f.commit_label(&report.input.commits) {
        at.push_str(&format!("commit {label}: "));
    }
    format!("[{}] {at}{}", f.severity, f.message)
}
