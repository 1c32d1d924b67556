//! Findings: the one small value every renderer reads. A rule's raw finding
//! becomes a `Finding` here, with its manifest pointer turned into file, line
//! and column, and the object's name attached for waivers.

use crate::input::{named_enum, ApprovalSource, Commit, Manifest, ManifestChange};
use crate::source::SourceFile;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;

/// A finding as a rule produced it, before it is located and judged.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub id: String,
    pub severity: Severity,
    pub message: String,
    pub file: Option<String>,
    pub doc: Option<usize>,
    pub pointer: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub commit: Option<String>,
}

named_enum! {
    /// How bad a finding is; its rule's set, or the config's override.
    #[derive(PartialOrd, Ord)]
    // Declared least severe first: `>=` compares severities.
    pub enum Severity {
        Warn = "warn",
        Review = "review",
        Deny = "deny",
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("severity {s:?} is not one of deny, review, warn"))
    }
}

named_enum! {
    /// Whether a finding still counts against the verdict. A `baselined`
    /// one is listed in the baseline file: it existed when govops was
    /// adopted, is shown and counted, and does not fail the gate.
    pub enum Status {
        Open = "open",
        Waived = "waived",
        Approved = "approved",
        Baselined = "baselined",
    }
}

/// The waiver that accepted a finding: who answers for it, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WaiverRef {
    pub index: usize,
    pub reason: String,
    pub owner: String,
    pub expires: String,
}

/// Who approved a review finding, and through what.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Approval {
    pub by: Vec<String>,
    pub via: Vec<ApprovalSource>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub status: Status,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub commit: Option<String>,
    /// The manifest object's name, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub waiver: Option<WaiverRef>,
    pub approval: Option<Approval>,
}

impl Finding {
    /// Build the findings of a run from the rules' output, locating their
    /// pointers. A file's positions come from parsing it again on first use
    /// (the loader keeps only its text); when most files carry findings that
    /// is a second load of every manifest, so those files are parsed first,
    /// on every core, each once.
    pub fn locate_all(
        raw: Vec<RawFinding>,
        manifests: &[Manifest],
        sources: &HashMap<String, SourceFile>,
    ) -> Vec<Finding> {
        // Deleted objects share a file and document index with the head's;
        // the head's object is the one a finding can point into.
        let mut by_doc: HashMap<(&str, usize), &Manifest> = HashMap::with_capacity(manifests.len());
        for m in manifests {
            let slot = by_doc.entry((m.file.as_str(), m.doc)).or_insert(m);
            if slot.change == ManifestChange::Deleted {
                *slot = m;
            }
        }
        let manifests = &by_doc;
        let mut wanted: Vec<&SourceFile> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in raw.iter().filter(|r| r.line.is_none()) {
            let (Some(file), Some(doc)) = (&r.file, r.doc) else {
                continue;
            };
            let deleted = manifests
                .get(&(file.as_str(), doc))
                .is_some_and(|m| m.change == ManifestChange::Deleted);
            if deleted || !seen.insert(file.as_str()) {
                continue;
            }
            if let Some(source) = sources.get(file) {
                wanted.push(source);
            }
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        // A few files (a hook, a small change) are parsed here, on demand:
        // a thread would cost more than it saves.
        if threads > 1 && wanted.len() >= 16 {
            let next = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(|| loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(source) = wanted.get(i) else {
                            break;
                        };
                        // The first lookup parses the file and keeps
                        // its positions for the lookups below.
                        let _ = source.locate(0, "");
                    });
                }
            });
        }
        raw.into_iter()
            .map(|r| Finding::locate(r, manifests, sources))
            .collect()
    }

    /// Build a finding from a rule's output, locating its pointer.
    /// `manifests` indexes the input's manifests by file and document.
    pub fn locate(
        raw: RawFinding,
        manifests: &HashMap<(&str, usize), &Manifest>,
        sources: &HashMap<String, SourceFile>,
    ) -> Finding {
        let manifest = match (&raw.file, raw.doc) {
            (Some(file), Some(doc)) => manifests.get(&(file.as_str(), doc)).copied(),
            _ => None,
        };
        let (mut line, mut column) = (raw.line, raw.column);
        if line.is_none() {
            if let (Some(file), Some(doc)) = (&raw.file, raw.doc) {
                let deleted = manifest.is_some_and(|m| m.change == ManifestChange::Deleted);
                if !deleted {
                    if let Some(pos) = sources
                        .get(file)
                        .and_then(|s| s.locate(doc, raw.pointer.as_deref().unwrap_or("")))
                    {
                        line = Some(pos.line);
                        column = Some(pos.column);
                    }
                }
            }
        }
        Finding {
            id: raw.id,
            severity: raw.severity,
            status: Status::Open,
            message: raw.message,
            file: raw.file,
            line,
            column,
            commit: raw.commit,
            name: manifest.and_then(|m| m.name.clone()),
            waiver: None,
            approval: None,
        }
    }

    /// The short sha and subject of the commit a finding is about.
    pub fn commit_label(&self, commits: &[Commit]) -> Option<String> {
        let sha = self.commit.as_deref()?;
        let subject = commits
            .iter()
            .find(|c| c.sha.as_deref() == Some(sha))
            .map(|c| c.subject.as_str())
            .unwrap_or("");
        Some(format!("{} {subject:?}", &sha[..sha.len().min(7)]))
    }

    /// The rule family: the second part of the id (`GOV-TAG-001` is `TAG`).
    pub fn family(id: &str) -> &str {
        let mut parts = id.split('-');
        match (parts.next(), parts.next()) {
            (Some(_), Some(family)) => family,
            (Some(first), None) => first,
            _ => id,
        }
    }
}
