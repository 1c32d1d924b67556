//! Reports: every format reads the same `Report` (the judgement, the input
//! it was made on, and the sources findings point into).

pub mod github;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;

use crate::catalog::RuleDoc;
use crate::collect::manifests::SourceFile;
use crate::input::Input;
use crate::judge::Judgement;
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
}

/// How a report is dressed for a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub quiet: bool,
    pub width: usize,
}

/// The Markdown summary (for `$GITHUB_STEP_SUMMARY`).
pub fn summary(report: &Report<'_>) -> String {
    markdown::render(report)
}

/// Render a report in `format`.
pub fn render(format: Format, report: &Report<'_>, style: Style) -> String {
    match format {
        Format::Human => human::render(report, style),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report),
        Format::Github => github::render(report),
        Format::Markdown => markdown::render(report),
    }
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
}
