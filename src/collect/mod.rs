//! Collecting the facts a policy judges: commits and their provenance, the
//! changed files, the manifests and the CI context, assembled into the input
//! document.

pub mod context;
pub mod git;
pub mod manifests;
pub mod provenance;
pub mod trailers;
pub mod yaml;

use crate::config::Limits;
use crate::error::Result;
use crate::input::{self, Changes, Commit, FileChange, Input, InputError, Mode, RangeFile};
use crate::policy::Policy;
use crate::timing;
use context::Environment;
use git::{Range, RawCommit, Snapshot};
use git2::Repository;
use manifests::{Candidate, Collected, Loader, SourceFile};
use provenance::{CommitFacts, IdentityTable};
use std::collections::HashMap;
use std::path::Path;

/// Commit messages longer than this are read only this far, and the
/// truncation is an input error: an enormous message must not slip through.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// What to collect.
pub struct Request<'a> {
    pub repo: &'a Repository,
    pub root: &'a Path,
    pub mode: Mode,
    pub range: Option<&'a Range>,
    /// The pending message (commit-msg mode).
    pub message: Option<Vec<u8>>,
    /// The staged changes when they were read ahead (commit-msg and staged
    /// modes); read here when None.
    pub staged: Option<Vec<FileChange>>,
    pub policy: &'a Policy,
    pub table: &'a IdentityTable,
    pub env: &'a Environment,
    pub all_manifests: bool,
    pub manifest_globs: Option<globset::GlobSet>,
    /// A manifest stream read from standard input (`--manifests -`), and
    /// the path it is named by (`--stdin-name`).
    pub stdin: Option<String>,
    pub stdin_name: &'a str,
    pub now: String,
}

/// The input document and what is needed to point findings at source lines.
pub struct Collection {
    pub input: Input,
    pub sources: HashMap<String, SourceFile>,
}

pub fn collect(mut req: Request<'_>) -> Result<Collection> {
    let cfg = &req.policy.config;
    let review_keys = &cfg.config.approvals.review_trailers;
    let max_diff_bytes = cfg.config.limits.max_diff_bytes;
    let mut errors: Vec<InputError> = Vec::new();
    let mut commits = Vec::new();
    let (changes, head_snapshot, before_snapshot) = match (req.mode, req.range) {
        (Mode::Range, Some(range)) => {
            let ids = git::commit_ids(req.repo, range)?;
            timing::mark("collect: commit list");
            for raw in git::read_commits(req.repo, &ids, max_diff_bytes)? {
                commits.push(build_commit(raw, req.table, review_keys, &mut errors));
            }
            timing::mark("collect: commits");
            let files =
                git::diff_trees(req.repo, range.merge_base, Some(range.head), max_diff_bytes)?;
            timing::mark("collect: range diff");
            (
                files,
                Snapshot::Commit(range.head),
                range.merge_base.map(Snapshot::Commit),
            )
        }
        _ => {
            // Read ahead with the default limit; again when the config sets another.
            let files = match req.staged.take() {
                Some(files) if max_diff_bytes == Limits::default().max_diff_bytes => files,
                _ => git::diff_staged(req.repo, max_diff_bytes)?,
            };
            if let Some(message) = &req.message {
                let author = git::pending_author(req.repo);
                let raw = RawCommit {
                    sha: String::new(),
                    parents: req
                        .repo
                        .head()
                        .ok()
                        .and_then(|h| h.target())
                        .map(|t| vec![t.to_string()])
                        .unwrap_or_default(),
                    message: trailers::strip_message(message),
                    committer: author.clone(),
                    author,
                    files: files.clone(),
                };
                commits.push(build_commit(raw, req.table, review_keys, &mut errors));
            }
            let head = req.repo.head().ok().and_then(|h| h.target());
            (files, Snapshot::Index, head.map(Snapshot::Commit))
        }
    };

    let loader = Loader {
        repo: req.repo,
        config: cfg,
        include_override: req.manifest_globs.clone(),
    };
    let mut collected = Collected::default();
    let changed: HashMap<String, Option<String>> = changes
        .iter()
        .filter(|f| f.status != "deleted")
        .map(|f| {
            let before = match f.status {
                "added" => None,
                "renamed" => f.old_path.clone(),
                _ => Some(f.path.clone()),
            };
            (f.path.clone(), before)
        })
        .collect();
    if req.stdin.is_none() || req.manifest_globs.is_some() {
        let mut candidates = if req.all_manifests {
            manifests::every_file(
                &loader,
                req.repo,
                &head_snapshot,
                &changed,
                &mut collected.skipped,
            )?
        } else {
            changes
                .iter()
                .filter(|f| f.status != "deleted" && loader.wanted(&f.path))
                .map(|f| Candidate {
                    path: f.path.clone(),
                    before: changed.get(&f.path).cloned().flatten(),
                    unchanged: false,
                    deleted: false,
                })
                .collect()
        };
        candidates.extend(
            changes
                .iter()
                .filter(|f| f.status == "deleted" && loader.wanted(&f.path))
                .map(|f| Candidate {
                    path: f.path.clone(),
                    before: Some(f.path.clone()),
                    unchanged: false,
                    deleted: true,
                }),
        );
        timing::mark("collect: manifest list");
        let loaded = loader.load(&head_snapshot, before_snapshot.as_ref(), candidates)?;
        timing::mark("collect: manifests");
        let skipped = collected.skipped.symlinks;
        collected = loaded;
        collected.skipped.symlinks += skipped;
    }
    if let Some(text) = &req.stdin {
        loader.load_stream(req.stdin_name, text, &mut collected);
    }
    errors.extend(std::mem::take(&mut collected.errors));

    // Which AI-assisted commits touched each changed file: one index of the
    // paths they touched (as renamed from, too), so the cost follows the
    // number of file changes, not changed files times AI commits.
    let mut ai_touched: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in commits.iter().filter(|c| c.ai.assisted) {
        let Some(sha) = c.sha.as_deref() else {
            continue;
        };
        for f in &c.files {
            let paths = std::iter::once(f.path.as_str()).chain(f.old_path.as_deref());
            for path in paths {
                let shas = ai_touched.entry(path).or_default();
                if shas.last() != Some(&sha) {
                    shas.push(sha);
                }
            }
        }
    }
    let range_files: Vec<RangeFile> = changes
        .iter()
        .map(|f| RangeFile {
            path: f.path.clone(),
            old_path: f.old_path.clone(),
            status: f.status,
            kind: f.kind,
            additions: f.additions,
            deletions: f.deletions,
            binary: f.binary,
            lines_counted: f.lines_counted,
            ai_commits: ai_touched
                .get(f.path.as_str())
                .map(|shas| shas.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        })
        .collect();
    let env = req.env;
    let mut context = env.context.clone();
    if let Some(reviewer) = &env.review_approved_by {
        if !context.approvals.contains(reviewer) {
            context.approvals.push(reviewer.clone());
        }
    }
    let range_source = req
        .range
        .map_or_else(|| req.mode_name(), |r| r.source.clone());
    let input = Input {
        schema: input::SCHEMA,
        now: req.now,
        mode: req.mode,
        repo: input::Repo {
            root: req.root.display().to_string(),
            head: req.range.map(|r| r.head.to_string()),
            base: req.range.and_then(|r| r.base.map(|b| b.to_string())),
            merge_base: req.range.and_then(|r| r.merge_base.map(|b| b.to_string())),
            branch: env.branch.clone().or_else(|| git::branch(req.repo)),
            shallow: req.repo.is_shallow(),
            range_source,
        },
        context,
        config: serde_json::to_value(&cfg.config).unwrap_or_default(),
        policy: req.policy.source.clone(),
        commits,
        changes: Changes {
            additions: changes.iter().map(|f| f.additions).sum(),
            deletions: changes.iter().map(|f| f.deletions).sum(),
            files: range_files,
        },
        manifests: collected.manifests,
        skipped: collected.skipped,
        errors,
    };
    Ok(Collection {
        input,
        sources: collected.sources,
    })
}

impl Request<'_> {
    fn mode_name(&self) -> String {
        match self.mode {
            Mode::Range => "range",
            Mode::CommitMsg => "commit-msg",
            Mode::Staged => "staged",
        }
        .to_string()
    }
}

/// A commit as rules see it: trailers as git parses them, provenance, people.
/// (Public for the trailer fuzz target, which feeds it arbitrary messages.)
pub fn build_commit(
    mut raw: RawCommit,
    table: &IdentityTable,
    review_keys: &[String],
    errors: &mut Vec<InputError>,
) -> Commit {
    if raw.message.len() > MAX_MESSAGE_BYTES {
        errors.push(InputError {
            file: String::new(),
            line: None,
            column: None,
            commit: (!raw.sha.is_empty()).then(|| raw.sha.clone()),
            message: format!(
                "the commit message is {} bytes, over {} : only the first MiB was read, so it cannot be judged",
                raw.message.len(),
                MAX_MESSAGE_BYTES
            ),
        });
        raw.message.truncate(MAX_MESSAGE_BYTES);
    }
    let block = trailers::parse(&raw.message, false);
    let body_lines = trailers::trailer_shaped_lines(&raw.message, &block.range);
    let message = String::from_utf8_lossy(&raw.message);
    let (subject, body) = split_message(&message);
    let provenance = table.analyse(
        &CommitFacts {
            subject: &subject,
            body: &body,
            author: (&raw.author.name, &raw.author.email),
            committer: (&raw.committer.name, &raw.committer.email),
            trailers: &block.trailers,
            body_lines: &body_lines,
        },
        review_keys,
    );
    Commit {
        sha: (!raw.sha.is_empty()).then_some(raw.sha),
        parents: raw.parents,
        subject,
        body,
        author: raw.author,
        committer: raw.committer,
        trailers: block.trailers,
        ai: provenance.ai,
        reviews: provenance.reviews,
        signoffs: provenance.signoffs,
        files: raw.files,
    }
}

/// git's subject (`%s`: the first paragraph, lines joined by spaces) and body (`%b`).
fn split_message(message: &str) -> (String, String) {
    let message = message.trim_start_matches(['\n', '\r']);
    let mut subject = Vec::new();
    let mut rest = "";
    let mut offset = 0;
    for line in message.split_inclusive('\n') {
        offset += line.len();
        if line.trim().is_empty() {
            rest = &message[offset..];
            break;
        }
        subject.push(line.trim());
    }
    (
        subject.join(" "),
        rest.trim_start_matches(['\n', '\r']).to_string(),
    )
}
