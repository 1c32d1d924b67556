//! The baseline: the findings a repository already had when govops was
//! adopted, kept in a file in the repository (`baseline:` in the config).
//! Its format, how it is read (as policy, from where the config is read),
//! how a finding matches an entry, and how `--prune` shrinks it.
//!
//! A finding matches by its rule, file, object name and message, never by
//! line: unrelated edits move lines. Each entry has a count, so a new finding
//! that looks exactly like an old one (a copy of a baselined object) is one
//! too many and stays open.

use crate::collect::git::Snapshot;
use crate::config::ValidConfig;
use crate::error::{Error, Result};
use crate::finding::{Finding, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `schema` of a baseline file.
pub const SCHEMA: &str = "govops.baseline/v1";

/// What the file says about itself, for whoever opens it in a review.
const ABOUT: &str = "Findings that existed when govops was adopted: `govops check` reports them as baselined and they do not fail the gate. Written by `govops baseline`; `govops baseline --prune` drops the fixed ones. Edit it only through a reviewed change: it is policy, read from the base revision.";

/// The file as written: sorted entries, one per key.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    schema: String,
    #[serde(default)]
    about: String,
    findings: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    rule: String,
    file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<String>,
    message: String,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

/// What identifies a finding across runs. Field order is the file's sort
/// order: by file, then rule, so a repository's entries read file by file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub file: String,
    pub rule: String,
    pub object: Option<String>,
    pub message: String,
}

/// Rules that never go into a baseline, whatever a hand-edited file says:
/// a file that cannot be parsed (GOV-INPUT-001) hides every other finding
/// in it, so accepting it once would accept whatever the file later holds;
/// waiver and policy findings are about the policy itself and the change
/// under review, not the state of the tree.
const NEVER: &[&str] = &["GOV-INPUT-", "GOV-WAIVER-", "GOV-POLICY-"];

/// The key of a finding that a baseline may hold: one about a file of the
/// tree. Findings about a commit are about the change under review (the
/// next range has other commits), so they are never baselined.
pub fn key(f: &Finding) -> Option<Key> {
    if f.commit.is_some() || NEVER.iter().any(|p| f.id.starts_with(p)) {
        return None;
    }
    Some(Key {
        file: f.file.clone()?,
        rule: f.id.clone(),
        object: f.name.clone(),
        message: f.message.clone(),
    })
}

/// A baseline: how many findings of each key are accepted.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The file's path in the repository (from the config).
    pub path: String,
    entries: BTreeMap<Key, u32>,
}

impl Baseline {
    pub fn empty(path: &str) -> Self {
        Baseline {
            path: path.to_string(),
            entries: BTreeMap::new(),
        }
    }

    /// Findings it accepts, counting each entry's count.
    pub fn len(&self) -> usize {
        // Saturating: counts come from a file (u32 each, any number of them).
        self.entries
            .values()
            .fold(0usize, |sum, n| sum.saturating_add(*n as usize))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parse a baseline file's bytes; `origin` names it in errors.
    pub fn parse(bytes: &[u8], path: &str, origin: &str) -> Result<Self> {
        let bad = |message: String| Error::io(origin, format!("invalid baseline file: {message}"));
        let text = std::str::from_utf8(bytes)
            .map_err(|e| bad(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
        let form: FileForm = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "line {} column {}: {e}; rewrite it with `govops baseline`",
                e.line(),
                e.column()
            ))
        })?;
        if form.schema != SCHEMA {
            return Err(bad(format!(
                "schema {:?}, expected {SCHEMA:?}",
                form.schema
            )));
        }
        let mut entries = BTreeMap::new();
        for (i, e) in form.findings.into_iter().enumerate() {
            if e.count == 0 {
                return Err(bad(format!(
                    "findings[{i}] has count 0; remove the entry instead"
                )));
            }
            let key = Key {
                file: e.file,
                rule: e.rule,
                object: e.object,
                message: e.message,
            };
            let slot: &mut u32 = entries.entry(key).or_insert(0);
            *slot = slot.saturating_add(e.count);
        }
        Ok(Baseline {
            path: path.to_string(),
            entries,
        })
    }

    /// The baseline named by `config`, read from `snapshot` (where the
    /// config itself was read: the base revision in a pull request, so a
    /// change cannot baseline its own findings). No file: an empty baseline.
    /// Returns the file's bytes too, for the policy digest.
    pub fn read(
        repo: &git2::Repository,
        snapshot: &Snapshot,
        config: &ValidConfig,
    ) -> Result<(Self, Option<Vec<u8>>)> {
        let path = config.config.baseline.as_str();
        let origin = match snapshot {
            Snapshot::Commit(oid) => format!("{path} (at {})", crate::collect::git::short(*oid)),
            _ => path.to_string(),
        };
        let Some(stat) = snapshot.stat(repo, path)? else {
            return Ok((Baseline::empty(path), None));
        };
        if stat.symlink {
            return Err(Error::io(
                origin,
                "the baseline file is a symbolic link; govops reads policy only from a regular file",
            ));
        }
        let max = config.config.limits.max_file_bytes;
        if stat.size > max {
            return Err(Error::io(
                origin,
                format!(
                    "the baseline file has {} bytes, more than limits.max_file_bytes ({max})",
                    stat.size
                ),
            ));
        }
        let bytes = snapshot.read_stat(repo, path, &stat)?;
        let baseline = Baseline::parse(&bytes, path, &origin)?;
        Ok((baseline, Some(bytes)))
    }

    /// A baseline of today's open findings, as `govops baseline` writes it.
    pub fn from_findings(path: &str, findings: &[Finding]) -> Self {
        let mut entries = BTreeMap::new();
        for f in findings.iter().filter(|f| f.status == Status::Open) {
            if let Some(k) = key(f) {
                *entries.entry(k).or_insert(0) += 1;
            }
        }
        Baseline {
            path: path.to_string(),
            entries,
        }
    }

    /// This baseline without what no longer happens: each entry's count
    /// becomes at most the number of `findings` (judged without a baseline)
    /// that still match it; entries that match none are dropped.
    pub fn prune(&self, findings: &[Finding]) -> Self {
        let today = Baseline::from_findings(&self.path, findings);
        let entries = self
            .entries
            .iter()
            .filter_map(|(k, n)| {
                let still = today.entries.get(k).copied().unwrap_or(0);
                (still > 0).then(|| (k.clone(), still.min(*n)))
            })
            .collect();
        Baseline {
            path: self.path.clone(),
            entries,
        }
    }

    /// A matcher that hands out each entry's count once per run.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            baseline: self,
            left: self.entries.clone(),
        }
    }

    /// The file's text: sorted entries, stable across runs, one key per
    /// line group, so that a pruned baseline is a small diff.
    pub fn to_json(&self) -> String {
        let form = FileForm {
            schema: SCHEMA.into(),
            about: ABOUT.into(),
            findings: self
                .entries
                .iter()
                .map(|(k, n)| Entry {
                    rule: k.rule.clone(),
                    file: k.file.clone(),
                    object: k.object.clone(),
                    message: k.message.clone(),
                    count: *n,
                })
                .collect(),
        };
        let mut text =
            serde_json::to_string_pretty(&form).expect("the baseline serialises in memory");
        text.push('\n');
        text
    }

    /// Entries (with their counts) in `self` and not in `other`.
    pub fn minus(&self, other: &Baseline) -> usize {
        self.entries.iter().fold(0usize, |sum, (k, n)| {
            let more = n.saturating_sub(other.entries.get(k).copied().unwrap_or(0));
            sum.saturating_add(more as usize)
        })
    }
}

/// One run's use of a baseline: each match spends one of its entry's count.
pub struct Matcher<'a> {
    baseline: &'a Baseline,
    left: BTreeMap<Key, u32>,
}

impl Matcher<'_> {
    /// Whether `f` is accepted by the baseline (spending one count).
    pub fn take(&mut self, f: &Finding) -> bool {
        let Some(k) = key(f) else { return false };
        match self.left.get_mut(&k) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// The baseline file's path, for reports.
    pub fn path(&self) -> &str {
        &self.baseline.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding(id: &str, file: &str, name: &str, message: &str, line: u32) -> Finding {
        Finding {
            id: id.into(),
            severity: Severity::Deny,
            status: Status::Open,
            message: message.into(),
            file: Some(file.into()),
            line: Some(line),
            column: Some(1),
            commit: None,
            name: Some(name.into()),
            waiver: None,
            approval: None,
        }
    }

    #[test]
    fn matches_survive_moved_lines_and_count() {
        let old = vec![
            finding("GOV-TAG-001", "a.yaml", "web", "no owner", 3),
            finding("GOV-TAG-001", "a.yaml", "web", "no owner", 9),
        ];
        let b = Baseline::from_findings(".govops-baseline.json", &old);
        assert_eq!(b.len(), 2);
        let text = b.to_json();
        let read = Baseline::parse(text.as_bytes(), "b", "b").unwrap();
        assert_eq!(read.to_json(), text, "stable round trip");
        let mut m = read.matcher();
        // Lines moved: still the same findings.
        assert!(m.take(&finding("GOV-TAG-001", "a.yaml", "web", "no owner", 30)));
        assert!(m.take(&finding("GOV-TAG-001", "a.yaml", "web", "no owner", 40)));
        // A third one like them is new.
        assert!(!m.take(&finding("GOV-TAG-001", "a.yaml", "web", "no owner", 50)));
        // Another object, file, message or rule is new.
        let mut m = read.matcher();
        assert!(!m.take(&finding("GOV-TAG-001", "a.yaml", "api", "no owner", 3)));
        assert!(!m.take(&finding("GOV-TAG-001", "b.yaml", "web", "no owner", 3)));
        assert!(!m.take(&finding("GOV-TAG-001", "a.yaml", "web", "no env", 3)));
        assert!(!m.take(&finding("GOV-TAG-003", "a.yaml", "web", "no owner", 3)));
    }

    #[test]
    fn commit_input_and_policy_findings_are_never_baselined() {
        let mut c = finding("GOV-TAG-001", "a.yaml", "web", "m", 1);
        c.commit = Some("abc".into());
        assert!(key(&c).is_none());
        for id in ["GOV-INPUT-001", "GOV-WAIVER-001", "GOV-POLICY-001"] {
            assert!(key(&finding(id, "a.yaml", "web", "m", 1)).is_none(), "{id}");
        }
        // Even when a hand-edited file lists them.
        let text = format!(
            r#"{{"schema":"{SCHEMA}","findings":[{{"rule":"GOV-INPUT-001","file":"a.yaml","object":"web","message":"m"}}]}}"#
        );
        let b = Baseline::parse(text.as_bytes(), "b", "b").unwrap();
        assert!(!b
            .matcher()
            .take(&finding("GOV-INPUT-001", "a.yaml", "web", "m", 1)));
    }

    #[test]
    fn prune_keeps_what_still_happens() {
        let old = vec![
            finding("GOV-TAG-001", "a.yaml", "web", "no owner", 3),
            finding("GOV-TAG-001", "a.yaml", "web", "no owner", 4),
            finding("GOV-TAG-001", "a.yaml", "api", "no owner", 9),
        ];
        let b = Baseline::from_findings("b", &old);
        let today = vec![
            finding("GOV-TAG-001", "a.yaml", "web", "no owner", 3),
            // New today: prune never adds.
            finding("GOV-TAG-002", "a.yaml", "web", "bad env", 3),
        ];
        let p = b.prune(&today);
        assert_eq!(p.len(), 1);
        assert_eq!(b.minus(&p), 2);
    }

    #[test]
    fn bad_files_are_named_errors() {
        for (text, want) in [
            ("{", "line 1"),
            (r#"{"schema":"x","findings":[]}"#, "schema"),
            (
                r#"{"schema":"govops.baseline/v1","findings":[{"rule":"R","file":"f","message":"m","count":0}]}"#,
                "count 0",
            ),
            (
                r#"{"schema":"govops.baseline/v1","findings":[],"extra":1}"#,
                "extra",
            ),
        ] {
            let e = Baseline::parse(text.as_bytes(), "b.json", "b.json").unwrap_err();
            let e = e.to_string();
            assert!(e.starts_with("b.json: invalid baseline file"), "{e}");
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
