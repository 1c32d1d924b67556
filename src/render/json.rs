//! The `json` report (`govops.report/v1`).

use super::Report;
use crate::audit::AuditRef;
use crate::finding::{Finding, Severity, Status};
use crate::judge::Verdict;
use serde::Serialize;

pub const SCHEMA: &str = "govops.report/v1";

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct JsonReport<'a> {
    pub schema: &'static str,
    /// The govops version that wrote the report.
    pub version: &'static str,
    pub verdict: Verdict,
    pub range: Range<'a>,
    pub policy: Policy<'a>,
    pub summary: Summary,
    pub findings: &'a [Finding],
    pub audit: Option<AuditRef>,
    pub notes: &'a [String],
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Range<'a> {
    pub base: Option<&'a str>,
    pub head: Option<&'a str>,
    pub merge_base: Option<&'a str>,
    pub source: &'a str,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Policy<'a> {
    pub source: &'a str,
    pub r#ref: Option<&'a str>,
    pub digest: &'a str,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub commits: usize,
    pub ai_commits: usize,
    pub manifests: usize,
    pub files_changed: usize,
    /// Open findings by severity.
    pub deny: usize,
    pub review: usize,
    pub warn: usize,
    pub waived: usize,
    /// Findings listed in the baseline file: shown, not failing.
    pub baselined: usize,
    pub approved: usize,
    pub skipped_documents: usize,
    pub skipped_helm_templates: usize,
    pub skipped_symlinks: usize,
}

impl<'a> JsonReport<'a> {
    pub fn new(report: &'a Report<'a>) -> Self {
        let j = report.judgement;
        let i = report.input;
        let (commits, ai_commits, manifests, files_changed) = report.counts();
        JsonReport {
            schema: SCHEMA,
            version: env!("CARGO_PKG_VERSION"),
            verdict: j.verdict,
            range: Range {
                base: i.repo.base.as_deref(),
                head: i.repo.head.as_deref(),
                merge_base: i.repo.merge_base.as_deref(),
                source: &i.repo.range_source,
            },
            policy: Policy {
                source: &i.policy.source,
                r#ref: i.policy.r#ref.as_deref(),
                digest: &i.policy.digest,
            },
            summary: Summary {
                commits,
                ai_commits,
                manifests,
                files_changed,
                deny: j.count(Severity::Deny, Status::Open),
                review: j.count(Severity::Review, Status::Open),
                warn: j.count(Severity::Warn, Status::Open),
                waived: j.count_status(Status::Waived),
                baselined: j.count_status(Status::Baselined),
                approved: j.count_status(Status::Approved),
                skipped_documents: i.skipped.documents,
                skipped_helm_templates: i.skipped.helm_templates,
                skipped_symlinks: i.skipped.symlinks,
            },
            findings: &j.findings,
            audit: report.audit.clone(),
            notes: &report.notes,
        }
    }
}

pub fn render(report: &Report<'_>) -> String {
    // Our own types, string keys only, written to memory: nothing can fail.
    let mut out = serde_json::to_string_pretty(&JsonReport::new(report))
        .expect("the json report serialises in memory");
    out.push('\n');
    out
}
