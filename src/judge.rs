//! Judging findings, in one place and in this order: severity overrides from
//! the config, waivers (with owners, reasons and expiry), the baseline
//! (findings the repository had when govops was adopted), human approvals of
//! review findings, then the verdict against `--fail-on`.

use crate::baseline::Baseline;
use crate::clock;
use crate::collect::context::Approver;
use crate::config::{SeverityOverride, ValidConfig};
use crate::finding::{Approval, Finding, Severity, Status, WaiverRef};
use crate::input::{named_enum, ApprovalSource, Input};
use time::OffsetDateTime;

/// The rule raised by the judge itself.
pub const WAIVER_RULE: &str = "GOV-WAIVER-001";

named_enum! {
    /// The least severity an open finding needs to fail the gate (`never`:
    /// nothing fails it).
    #[derive(clap::ValueEnum)]
    pub enum FailOn {
        Deny = "deny",
        Review = "review",
        Warn = "warn",
        Never = "never",
    }
}

impl FailOn {
    /// The least severity that fails the gate; None for `never`.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Deny => Some(Severity::Deny),
            FailOn::Review => Some(Severity::Review),
            FailOn::Warn => Some(Severity::Warn),
            FailOn::Never => None,
        }
    }

    /// Whether a finding fails the gate at this threshold: open, and at
    /// least as severe. The verdict, every report and the audit record ask
    /// this one question.
    pub fn fails(self, f: &Finding) -> bool {
        f.status == Status::Open && self.threshold().is_some_and(|t| f.severity >= t)
    }
}

named_enum! {
    pub enum Verdict {
        Pass = "pass",
        Fail = "fail",
    }
}

#[derive(Debug)]
pub struct Judgement {
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    pub fail_on: FailOn,
}

impl Judgement {
    pub fn count(&self, severity: Severity, status: Status) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity && f.status == status)
            .count()
    }

    pub fn count_status(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// Settle severities, waivers, the baseline and approvals, then the verdict.
/// `is_ai(name)` tells an AI identity, which never approves. `baseline` must
/// come from where the policy was read, never from the judged change.
#[allow(clippy::too_many_arguments)]
pub fn judge(
    raw: Vec<Finding>,
    config: &ValidConfig,
    baseline: &Baseline,
    input: &Input,
    approvers: &[Approver],
    now: OffsetDateTime,
    fail_on: FailOn,
    is_ai: &dyn Fn(&str, &str) -> bool,
) -> Judgement {
    let cfg = &config.config;
    let mut findings = Vec::with_capacity(raw.len());
    let mut used = vec![false; cfg.waivers.len()];
    let mut waiver_findings = Vec::new();
    let max_days = cfg.waivers.max_days();
    for (i, w) in cfg.waivers.iter().enumerate() {
        let expired = clock::parse_date(&w.expires).is_none_or(|d| !clock::still_valid(d, now));
        if !expired && too_far(&w.expires, max_days, now) {
            used[i] = true;
            waiver_findings.push(waiver_finding(
                config,
                input,
                i,
                format!(
                    "waiver #{} for {} expires on {}, more than {} days from now (waivers.max_days; owner {}): it waives nothing; set an earlier expiry and renew it when it runs out",
                    i + 1,
                    w.rule,
                    w.expires,
                    max_days.unwrap_or_default(),
                    w.owner
                ),
            ));
        }
        if expired {
            used[i] = true;
            waiver_findings.push(waiver_finding(
                config,
                input,
                i,
                format!(
                    "waiver #{} for {} expired on {} (owner {}): it waives nothing now; renew it or fix the findings",
                    i + 1,
                    w.rule,
                    w.expires,
                    w.owner
                ),
            ));
        }
    }
    let waivers: Vec<Compiled<'_>> = cfg
        .waivers
        .iter()
        .map(|w| Compiled::new(w, now, max_days))
        .collect();
    let mut baselined = baseline.matcher();
    let humans: Vec<&Approver> = approvers.iter().filter(|a| !is_ai(&a.name, "")).collect();
    for mut f in raw.into_iter() {
        match cfg.severity.get(&f.id) {
            Some(SeverityOverride::Off) => continue,
            Some(SeverityOverride::Deny) => f.severity = Severity::Deny,
            Some(SeverityOverride::Review) => f.severity = Severity::Review,
            Some(SeverityOverride::Warn) => f.severity = Severity::Warn,
            None => {}
        }
        if let Some(i) = waivers.iter().position(|w| w.matches(&f)) {
            used[i] = true;
            let w = &cfg.waivers[i];
            f.status = Status::Waived;
            f.waiver = Some(WaiverRef {
                index: i,
                reason: w.reason.clone(),
                owner: w.owner.clone(),
                expires: w.expires.clone(),
            });
        } else if baselined.take(&f) {
            f.status = Status::Baselined;
        } else if f.severity == Severity::Review {
            let mut by: Vec<String> = humans.iter().map(|a| a.name.clone()).collect();
            let mut via: Vec<ApprovalSource> = humans.iter().map(|a| a.via).collect();
            if cfg.approvals.trailers {
                for r in trailer_reviewers(input, &f) {
                    by.push(r);
                    via.push(ApprovalSource::Trailer);
                }
            }
            if !by.is_empty() {
                via.dedup();
                f.status = Status::Approved;
                f.approval = Some(Approval { by, via });
            }
        }
        findings.push(f);
    }
    for (i, w) in cfg.waivers.iter().enumerate() {
        // Unused only when what it names was judged in this run: a waiver
        // for a file or commit this change does not touch still guards the
        // next change that does, and removing it would break that one.
        if !used[i] && waivers[i].in_scope(input) {
            waiver_findings.push(waiver_finding(
                config,
                input,
                i,
                format!(
                    "waiver #{} for {} matched no finding (owner {}): remove it, so it cannot hide a future finding",
                    i + 1,
                    w.rule,
                    w.owner
                ),
            ));
        }
    }
    for mut f in waiver_findings {
        match cfg.severity.get(WAIVER_RULE) {
            Some(SeverityOverride::Off) => continue,
            Some(SeverityOverride::Deny) => f.severity = Severity::Deny,
            Some(SeverityOverride::Review) => f.severity = Severity::Review,
            _ => {}
        }
        findings.push(f);
    }
    let failed = findings.iter().any(|f| fail_on.fails(f));
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.commit.cmp(&b.commit))
            .then_with(|| a.message.cmp(&b.message))
    });
    Judgement {
        findings,
        verdict: if failed { Verdict::Fail } else { Verdict::Pass },
        fail_on,
    }
}

/// A waiver ready to match: its glob compiled and its date read once, not
/// once per finding.
struct Compiled<'a> {
    waiver: &'a crate::config::Waiver,
    live: bool,
    path: Option<globset::GlobMatcher>,
    commit: Option<String>,
}

impl<'a> Compiled<'a> {
    fn new(waiver: &'a crate::config::Waiver, now: OffsetDateTime, max_days: Option<i64>) -> Self {
        Compiled {
            waiver,
            live: clock::parse_date(&waiver.expires).is_some_and(|d| clock::still_valid(d, now))
                && !too_far(&waiver.expires, max_days, now),
            // The config was validated: an invalid glob cannot reach here,
            // and one that did would match nothing (fail closed).
            path: waiver
                .path
                .as_ref()
                .and_then(|g| crate::config::glob(g).ok())
                .map(|g| g.compile_matcher()),
            commit: waiver.commit.as_ref().map(|c| c.to_ascii_lowercase()),
        }
    }

    fn path_matches(&self, file: &str) -> bool {
        self.path.as_ref().is_some_and(|m| m.is_match(file))
    }

    fn matches(&self, f: &Finding) -> bool {
        let w = self.waiver;
        let path = w.path.is_none() || f.file.as_deref().is_some_and(|p| self.path_matches(p));
        let commit = self.commit.as_ref().is_none_or(|c| {
            f.commit
                .as_ref()
                .is_some_and(|sha| sha.starts_with(c.as_str()))
        });
        let name = w
            .name
            .as_ref()
            .is_none_or(|n| f.name.as_deref() == Some(n.as_str()));
        self.live && w.rule == f.id && path && commit && name
    }

    /// Whether this run judged what the waiver names: a file matching its
    /// path, its commit, an object of its name.
    fn in_scope(&self, input: &Input) -> bool {
        let w = self.waiver;
        let path = w.path.is_none()
            || input.changes.files.iter().any(|f| {
                self.path_matches(&f.path)
                    || f.old_path.as_deref().is_some_and(|p| self.path_matches(p))
            })
            || input.manifests.iter().any(|m| self.path_matches(&m.file));
        let commit = self.commit.as_ref().is_none_or(|c| {
            input.commits.iter().any(|k| {
                k.sha
                    .as_deref()
                    .is_some_and(|sha| sha.starts_with(c.as_str()))
            })
        });
        let name = w.name.as_ref().is_none_or(|n| {
            input
                .manifests
                .iter()
                .any(|m| m.name.as_deref() == Some(n.as_str()))
        });
        path && commit && name
    }
}

/// Whether a waiver expiring on `expires` ends more than `max_days` days
/// after the run's clock. Judged against `now` (`--now` makes it
/// reproducible): a waiver has no creation date to count from, and a
/// bound checked only when the config is validated would pass a waiver
/// written for ten years once and never again look at it.
fn too_far(expires: &str, max_days: Option<i64>, now: OffsetDateTime) -> bool {
    let (Some(max), Some(date)) = (max_days, clock::parse_date(expires)) else {
        return false;
    };
    let today = now.to_offset(time::UtcOffset::UTC).date();
    (date - today).whole_days() > max
}

/// Human review trailers on the commit a finding concerns (any commit of the
/// range for range-level findings). Used only when `approvals.trailers` is on.
fn trailer_reviewers(input: &Input, f: &Finding) -> Vec<String> {
    let mut out = Vec::new();
    for c in &input.commits {
        if f.commit.is_some() && c.sha != f.commit {
            continue;
        }
        for r in &c.reviews {
            if r.tool.is_none() && !out.contains(&r.name) {
                out.push(r.name.clone());
            }
        }
    }
    out
}

fn waiver_finding(config: &ValidConfig, input: &Input, index: usize, message: String) -> Finding {
    let from_file = !config.bytes.is_empty();
    Finding {
        id: WAIVER_RULE.into(),
        severity: Severity::Warn,
        status: Status::Open,
        message,
        file: from_file.then(|| input.policy.config_path.clone()),
        line: if from_file {
            config.line_of(&config.config.waivers.pointer(index))
        } else {
            None
        },
        column: None,
        commit: None,
        name: None,
        waiver: None,
        approval: None,
    }
}
