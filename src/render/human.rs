//! The `human` report: one miette diagnostic per finding (the manifest line
//! labelled, or the commit's short sha and subject), then a summary. Plain
//! ASCII without colour when not writing to a terminal.

use super::escape::{visible, visible_text, visible_text_offset};
use super::{Report, Style};
use crate::finding::{Finding, Severity, Status};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};
use std::collections::HashMap;
use std::fmt;

struct FindingDiagnostic {
    title: String,
    code: String,
    severity: miette::Severity,
    source: Option<NamedSource<String>>,
    label: Option<LabeledSpan>,
    help: Option<String>,
}

impl fmt::Debug for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

/// Byte span of the token at `line`:`column` (1-based, column in characters).
fn span_at(text: &str, line: u32, column: u32) -> Option<SourceSpan> {
    let start_of_line: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = text.get(start_of_line..)?;
    let line_text = rest.split('\n').next().unwrap_or("");
    let offset: usize = line_text
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    let token = &line_text[offset.min(line_text.len())..];
    let len = token
        .find([':', ' ', ',', '}', ']'])
        .unwrap_or(token.len())
        .max(1)
        .min(token.len().max(1));
    Some(SourceSpan::new((start_of_line + offset).into(), len))
}

/// A finding's status, as its block shows it.
fn status_text(f: &Finding) -> String {
    match f.status {
        Status::Open => String::new(),
        Status::Waived => {
            let w = f.waiver.as_ref();
            format!(
                " [waived until {} by {}: {}]",
                visible(w.map_or("", |w| &w.expires)),
                visible(w.map_or("", |w| &w.owner)),
                visible(w.map_or("", |w| &w.reason))
            )
        }
        Status::Baselined => format!(" [{}]", f.status),
        Status::Approved => format!(
            " [approved by {}]",
            visible(
                &f.approval
                    .as_ref()
                    .map(|a| a.by.join(", "))
                    .unwrap_or_default()
            )
        ),
    }
}

/// Where a finding is, in one line: `file:line:col`, `file`, or the commit.
fn place(f: &Finding, report: &Report<'_>) -> String {
    let mut at = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{}:{line}", visible(file)),
        (Some(file), None) => visible(file).into_owned(),
        _ => String::new(),
    };
    if let Some(label) = f.commit_label(&report.input.commits) {
        if !at.is_empty() {
            at.push(' ');
        }
        at.push_str(&format!("commit {}", visible(&label)));
    }
    at
}

/// One block: the first finding of a fold with its snippet, and the places
/// of the others.
fn diagnostic(
    group: &[&Finding],
    report: &Report<'_>,
    sources: &mut HashMap<String, String>,
    verbose: bool,
) -> FindingDiagnostic {
    let f = group[0];
    let severity = match (f.status, f.severity) {
        (Status::Open, Severity::Deny) => miette::Severity::Error,
        (Status::Open, Severity::Review) => miette::Severity::Warning,
        _ => miette::Severity::Advice,
    };
    let mut help = Vec::new();
    if let Some(label) = f.commit_label(&report.input.commits) {
        help.push(format!("commit {}", visible(&label)));
    }
    let mut source = None;
    let mut label = None;
    if let (Some(file), Some(line)) = (&f.file, f.line) {
        match report.sources.get(file) {
            Some(src) => {
                if let Some(span) = span_at(&src.text, line, f.column.unwrap_or(1)) {
                    // The snippet is repository text too: escaped, with the
                    // span moved to where its bytes landed.
                    let start = span.offset();
                    let end = start + span.len();
                    let text = sources
                        .entry(file.clone())
                        .or_insert_with(|| visible_text(&src.text).into_owned());
                    let (start, end) = (
                        visible_text_offset(&src.text, start),
                        visible_text_offset(&src.text, end),
                    );
                    source = Some(NamedSource::new(visible(file), text.clone()));
                    label = Some(LabeledSpan::new_with_span(
                        Some(f.severity.to_string()),
                        SourceSpan::new(start.into(), end.saturating_sub(start)),
                    ));
                }
            }
            None => help.push(format!("at {}:{line}", visible(file))),
        }
    } else if let Some(file) = &f.file {
        help.push(format!("in {}", visible(file)));
    }
    if group.len() > 1 {
        let shown = if verbose {
            group.len()
        } else {
            PLACES.min(group.len())
        };
        help.push(format!(
            "{} more on this {}:",
            group.len() - 1,
            if f.commit.is_some() && f.file.is_none() {
                "commit"
            } else {
                "object"
            }
        ));
        for other in &group[1..shown] {
            help.push(format!(
                "  {}: {}{}",
                place(other, report),
                visible(&other.message),
                status_text(other)
            ));
        }
        if shown < group.len() {
            help.push(format!(
                "  ... and {} more (--verbose or --format json lists every one)",
                group.len() - shown
            ));
        }
    }
    help.push(format!("govops rules show {}", visible(&f.id)));
    FindingDiagnostic {
        title: format!("{}{}", visible(&f.message), status_text(f)),
        code: visible(&f.id).into_owned(),
        severity,
        source,
        label,
        help: Some(help.join("\n")),
    }
}

/// Blocks shown per rule, and in all, without `--verbose`.
const BLOCKS_PER_RULE: usize = 5;
const BLOCKS: usize = 25;
/// Places listed in one folded block without `--verbose`.
const PLACES: usize = 10;

pub fn render(report: &Report<'_>, style: Style) -> String {
    let mut out = String::new();
    let mut hidden = 0;
    if !style.quiet {
        let theme = if style.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::none()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(style.width);
        let mut sources = HashMap::new();
        let mut shown_blocks = 0;
        for (id, folds) in group(&report.judgement.findings) {
            let total: usize = folds.iter().map(Vec::len).sum();
            let open = folds
                .iter()
                .flatten()
                .filter(|f| f.status == Status::Open)
                .count();
            out.push_str(&format!(
                "{}: {total} finding{}, {open} open\n\n",
                visible(id),
                plural(total)
            ));
            for (n, fold) in folds.iter().enumerate() {
                if !style.verbose && (n >= BLOCKS_PER_RULE || shown_blocks >= BLOCKS) {
                    let rest: usize = folds[n..].iter().map(Vec::len).sum();
                    hidden += rest;
                    out.push_str(&format!(
                        "... and {rest} more {} finding{} (--verbose or --format json lists every one)\n\n",
                        visible(id),
                        plural(rest)
                    ));
                    break;
                }
                shown_blocks += 1;
                let d = diagnostic(fold, report, &mut sources, style.verbose);
                if handler.render_report(&mut out, &d).is_err() {
                    out.push_str(&format!("{}: {}\n", d.code, d.title));
                }
                out.push('\n');
                if !style.verbose {
                    hidden += fold.len().saturating_sub(PLACES);
                }
            }
        }
    }
    out.push_str(&summary(report, style, hidden));
    out
}

/// Findings by rule (rules in order of their most pressing finding), each
/// rule's findings folded by status and the commit or object they concern.
fn group(findings: &[Finding]) -> Vec<(&str, Vec<Vec<&Finding>>)> {
    type Key<'a> = (u8, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| super::priority(f));
    let mut rules: Vec<(&str, Vec<Vec<&Finding>>)> = Vec::new();
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    let mut fold_index: HashMap<(&str, Key<'_>), usize> = HashMap::new();
    for f in sorted {
        let r = *rule_index.entry(&f.id).or_insert_with(|| {
            rules.push((&f.id, Vec::new()));
            rules.len() - 1
        });
        // One object is a file and a name; a commit finding without a file
        // folds by commit; anything else stands alone.
        let key: Key<'_> = (
            f.status as u8,
            f.commit.as_deref(),
            f.file.as_deref(),
            f.name.as_deref(),
        );
        let foldable = f.name.is_some() || (f.commit.is_some() && f.file.is_none());
        let folds = &mut rules[r].1;
        match fold_index.get(&(f.id.as_str(), key)) {
            Some(&i) if foldable => folds[i].push(f),
            _ => {
                fold_index.insert((&f.id, key), folds.len());
                folds.push(vec![f]);
            }
        }
    }
    rules
}

fn summary(report: &Report<'_>, style: Style, hidden: usize) -> String {
    let j = report.judgement;
    let i = report.input;
    let open = |s| j.count(s, Status::Open);
    let (commits, ai, manifests, files) = report.counts();
    let verdict = j.verdict.as_str().to_uppercase();
    let mut out = format!(
        "govops: {verdict}: {} deny, {} review, {} warn open; {} waived, {} baselined, {} approved\n",
        open(Severity::Deny),
        open(Severity::Review),
        open(Severity::Warn),
        j.count_status(Status::Waived),
        j.count_status(Status::Baselined),
        j.count_status(Status::Approved),
    );
    if style.quiet {
        return out;
    }
    let blocks: usize = group(&j.findings).iter().map(|(_, f)| f.len()).sum();
    let folded = j.findings.len() - blocks;
    if folded > 0 || hidden > 0 {
        out.push_str(&format!(
            "  {} finding{}: {folded} folded into the block of their commit or object, {hidden} not shown (--verbose or --format json lists every one)\n",
            j.findings.len(),
            plural(j.findings.len()),
        ));
    }
    let short = |s: &Option<String>| s.as_deref().map(|s| s[..s.len().min(7)].to_string());
    let range = match (short(&i.repo.base), short(&i.repo.head)) {
        (Some(b), Some(h)) => format!("{b}..{h} ({})", i.repo.range_source),
        (None, Some(h)) => format!("{h} alone ({})", i.repo.range_source),
        _ => i.repo.range_source.clone(),
    };
    out.push_str(&format!(
        "  checked {commits} commit{} ({ai} AI-assisted), {files} changed file{}, {manifests} manifest{}; {range}\n",
        plural(commits),
        plural(files),
        plural(manifests)
    ));
    let policy_ref = i
        .policy
        .r#ref
        .as_deref()
        .map(|r| format!(" {}", &r[..r.len().min(7)]))
        .unwrap_or_default();
    out.push_str(&format!(
        "  policy: {}{policy_ref} {}; govops {}\n",
        visible(&i.policy.source),
        &i.policy.digest[..i.policy.digest.len().min(23)],
        env!("CARGO_PKG_VERSION")
    ));
    if let Some(a) = &report.audit {
        out.push_str(&format!(
            "  audit: record {} in {} ({})\n",
            a.seq,
            a.log,
            &a.hash[..a.hash.len().min(23)]
        ));
    }
    for note in &report.notes {
        out.push_str(&format!("  note: {}\n", visible(note)));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
