//! Reports: every format reads the same `Report` (the judgement, the input
//! it was made on, and the sources findings point into).

mod escape;
pub mod github;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;

use crate::audit::AuditRef;
use crate::catalog::RuleDoc;
use crate::config::ValidConfig;
use crate::error::{Error, Result};
use crate::finding::{Finding, Status};
use crate::input::{Input, SkipReason, Skipped};
use crate::judge::Judgement;
use crate::source::SourceFile;
use std::collections::HashMap;
use std::path::Path;

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

/// Skipped paths named per class in a report's notes; the input document
/// lists more (`skipped.files`).
const NOTE_PATHS: usize = 10;

/// What was not judged, by class, with the paths (bounded): a skip must be
/// visible in every report, whatever its format.
pub fn skipped_notes(skipped: &Skipped) -> Vec<String> {
    let paths = |reason: SkipReason, count: usize| {
        let listed: Vec<&str> = skipped
            .files
            .iter()
            .filter(|f| f.reason == reason)
            .map(|f| f.path.as_str())
            .take(NOTE_PATHS)
            .collect();
        let more = count.saturating_sub(listed.len());
        let mut text = listed.join(", ");
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        text
    };
    let mut notes = Vec::new();
    if skipped.helm_templates > 0 {
        notes.push(format!(
            "{} Helm template file(s) skipped: {}; render them and pipe the output, e.g. `helm template CHART | govops check --manifests -`",
            skipped.helm_templates,
            paths(SkipReason::HelmTemplate, skipped.helm_templates)
        ));
    }
    if skipped.documents > 0 {
        notes.push(format!(
            "{} YAML/JSON document(s) without apiVersion and kind skipped",
            skipped.documents
        ));
    }
    if skipped.symlinks > 0 {
        notes.push(format!(
            "{} symbolic link(s) not followed: {}",
            skipped.symlinks,
            paths(SkipReason::Symlink, skipped.symlinks)
        ));
    }
    if skipped.gitlinks > 0 {
        notes.push(format!(
            "{} submodule(s) (gitlinks) not judged: {}",
            skipped.gitlinks,
            paths(SkipReason::Gitlink, skipped.gitlinks)
        ));
    }
    if skipped.excluded > 0 {
        notes.push(format!(
            "{} file(s) left out by manifests.exclude: {}",
            skipped.excluded,
            paths(SkipReason::Excluded, skipped.excluded)
        ));
    }
    notes
}

/// Write each `--report FMT:PATH` file, uncoloured. Returns what the
/// reports' limits left out, to say on stderr.
pub fn write_reports(
    report: &Report<'_>,
    targets: &[(Format, &Path)],
    style: Style,
) -> Result<Vec<String>> {
    let mut notices = Vec::new();
    for (format, path) in targets {
        let rendered = render(
            *format,
            report,
            Style {
                color: false,
                ..style
            },
        );
        notices.extend(rendered.notices);
        std::fs::write(path, rendered.text)
            .map_err(|e| Error::io(path.display(), format!("cannot write the report: {e}")))?;
    }
    Ok(notices)
}
