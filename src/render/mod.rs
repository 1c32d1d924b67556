//! Reports: every format reads the same `Report` (the judgement, the input
//! it was made on, and the sources findings point into).

mod escape;
pub mod github;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;

use crate::catalog::RuleDoc;
use crate::config::ValidConfig;
use crate::finding::{Finding, Severity, Status};
use crate::input::Input;
use crate::judge::{FailOn, Judgement};
use crate::source::SourceFile;
use std::collections::HashMap;

pub use json::JsonReport;

/// The `json` report's shape, for `govops schema report`.
pub type JsonReportSchema = JsonReport<'static>;

/// Report formats, for `--format` and `--report FMT:PATH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with source snippets, for people.
    Human,
    /// `govops.report/v1`, for scripts.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// JUnit XML, for CI test report views.
    Junit,
    /// GitHub Actions workflow commands (annotations), step summary and outputs.
    Github,
    /// A Markdown summary, ready for a pull request comment.
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        <Format as clap::ValueEnum>::from_str(s, true)
            .map_err(|_| format!("unknown report format {s:?} (expected human, json, sarif, junit, github or markdown)"))
    }
}

/// The audit record written for this run, when there is one.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct AuditRef {
    pub log: String,
    pub seq: u64,
    pub hash: String,
}

/// Everything a renderer may read.
pub struct Report<'a> {
    pub judgement: &'a Judgement,
    pub input: &'a Input,
    pub sources: &'a HashMap<String, SourceFile>,
    pub audit: Option<AuditRef>,
    /// Things the reader should know about how the run went (e.g. HEAD alone).
    pub notes: Vec<String>,
    /// The rule catalog, for reports that describe rules (SARIF, JUnit).
    pub catalog: Vec<RuleDoc>,
    /// Base URL of files at the head commit, for links (`.../blob/SHA`).
    pub blob_url: Option<String>,
    /// The config the run was judged by (its file, when there is one, is
    /// where findings about the range or the policy point).
    pub config: &'a ValidConfig,
    /// Where this run's `json` report is written, if it is: reports that must
    /// leave findings out send the reader there.
    pub json_report: Option<String>,
}

/// How a report is dressed for a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub width: usize,
}

/// A rendered report, and what the user should hear about it on stderr
/// (findings a consumer's limits made it leave out).
pub struct Rendered {
    pub text: String,
    pub notices: Vec<String>,
}

/// The Markdown summary for `$GITHUB_STEP_SUMMARY`, in at most `budget`
/// bytes (the runner drops a step's whole summary past 1 MiB).
pub fn summary(report: &Report<'_>, budget: usize) -> Rendered {
    markdown::render(report, budget)
}

/// Render a report in `format`.
pub fn render(format: Format, report: &Report<'_>, style: Style) -> Rendered {
    let text = |text| Rendered {
        text,
        notices: Vec::new(),
    };
    match format {
        Format::Human => text(human::render(report, style)),
        Format::Json => text(json::render(report)),
        Format::Sarif => sarif::render(report),
        Format::Junit => text(junit::render(report)),
        Format::Github => github::render(report),
        Format::Markdown => markdown::render(report, markdown::COMMENT_BUDGET),
    }
}

/// Whether an open finding fails the gate at `--fail-on`.
pub fn fails_gate(f: &Finding, fail_on: FailOn) -> bool {
    let threshold = match fail_on {
        FailOn::Deny => Severity::Deny,
        FailOn::Review => Severity::Review,
        FailOn::Warn => Severity::Warn,
        FailOn::Never => return false,
    };
    f.status == Status::Open && f.severity >= threshold
}

/// The order in which reports that cannot show everything keep findings:
/// open before waived, baselined and approved, most severe first, then those that
/// point at a line before those that do not.
pub fn priority(f: &Finding) -> impl Ord {
    (
        f.status != Status::Open,
        std::cmp::Reverse(f.severity),
        f.line.is_none(),
        f.file.is_none(),
    )
}

impl Report<'_> {
    /// Commits, AI-assisted commits, manifests, files changed.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let i = self.input;
        (
            i.commits.len(),
            i.commits.iter().filter(|c| c.ai.assisted).count(),
            i.manifests.len(),
            i.changes.files.len(),
        )
    }

    /// Why a baselined finding does not fail the gate, in words.
    pub fn baselined_reason(&self) -> String {
        format!(
            "baselined in {} (it was there when govops was adopted; `govops baseline --prune` drops it once fixed)",
            self.config.config.baseline
        )
    }

    /// Where the full list of findings is, for reports that leave some out.
    pub fn full_list(&self) -> String {
        match &self.json_report {
            Some(path) => format!("the json report {path}"),
            None => "`govops check --format json`".into(),
        }
    }
}
