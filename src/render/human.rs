//! The `human` report: one miette diagnostic per finding (the manifest line
//! labelled, or the commit's short sha and subject), then a summary. Plain
//! ASCII without colour when not writing to a terminal.

use super::{Report, Style};
use crate::finding::{Finding, Severity, Status};
use crate::judge::Verdict;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};
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

fn diagnostic(f: &Finding, report: &Report<'_>) -> FindingDiagnostic {
    let severity = match (f.status, f.severity) {
        (Status::Open, Severity::Deny) => miette::Severity::Error,
        (Status::Open, Severity::Review) => miette::Severity::Warning,
        _ => miette::Severity::Advice,
    };
    let status = match f.status {
        Status::Open => String::new(),
        Status::Waived => {
            let w = f.waiver.as_ref();
            format!(
                " [waived until {} by {}: {}]",
                w.map_or("", |w| &w.expires),
                w.map_or("", |w| &w.owner),
                w.map_or("", |w| &w.reason)
            )
        }
        Status::Approved => format!(
            " [approved by {}]",
            f.approval
                .as_ref()
                .map(|a| a.by.join(", "))
                .unwrap_or_default()
        ),
    };
    let mut help = Vec::new();
    if let Some(label) = f.commit_label(&report.input.commits) {
        help.push(format!("commit {label}"));
    }
    let mut source = None;
    let mut label = None;
    if let (Some(file), Some(line)) = (&f.file, f.line) {
        match report.sources.get(file) {
            Some(src) => {
                if let Some(span) = span_at(&src.text, line, f.column.unwrap_or(1)) {
                    source = Some(NamedSource::new(file, src.text.clone()));
                    label = Some(LabeledSpan::new_with_span(
                        Some(f.severity.to_string()),
                        span,
                    ));
                }
            }
            None => help.push(format!("at {file}:{line}")),
        }
    } else if let Some(file) = &f.file {
        help.push(format!("in {file}"));
    }
    help.push(format!("govops rules show {}", f.id));
    FindingDiagnostic {
        title: format!("{}{status}", f.message),
        code: f.id.clone(),
        severity,
        source,
        label,
        help: Some(help.join("\n")),
    }
}

pub fn render(report: &Report<'_>, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::none()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(style.width);
    let mut out = String::new();
    for f in &report.judgement.findings {
        if style.quiet && f.status != Status::Open {
            continue;
        }
        let d = diagnostic(f, report);
        if handler.render_report(&mut out, &d).is_err() {
            out.push_str(&format!("{}: {}\n", f.id, f.message));
        }
        out.push('\n');
    }
    out.push_str(&summary(report, style));
    out
}

fn summary(report: &Report<'_>, style: Style) -> String {
    let j = report.judgement;
    let i = report.input;
    let open = |s| j.count(s, Status::Open);
    let (commits, ai, manifests, files) = report.counts();
    let verdict = match j.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    let mut out = format!(
        "govops: {verdict}: {} deny, {} review, {} warn open; {} waived, {} approved\n",
        open(Severity::Deny),
        open(Severity::Review),
        open(Severity::Warn),
        j.count_status(Status::Waived),
        j.count_status(Status::Approved),
    );
    if style.quiet {
        return out;
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
        "  policy: {}{policy_ref} {}\n",
        i.policy.source,
        &i.policy.digest[..i.policy.digest.len().min(23)]
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
        out.push_str(&format!("  note: {note}\n"));
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
