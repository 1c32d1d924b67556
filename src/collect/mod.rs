//! Collecting the facts a policy judges: commits and their provenance, the
//! changed files, the manifests and the CI context, assembled into the input
//! document.

pub mod attribution;
pub mod context;
pub mod git;
pub mod manifests;
pub mod terraform;

use crate::config::{Limits, ValidConfig};
use crate::error::Result;
use crate::input::{
    self, Changes, Commit, FileChange, FileKind, FileStatus, Input, InputError, Mode, PolicySource,
    RangeFile, SkipReason,
};
use crate::provenance::{CommitFacts, IdentityTable};
use crate::source::SourceFile;
use crate::timing;
use crate::trailers;
use context::Environment;
use git::{Range, RawCommit, Snapshot};
use git2::Repository;
use manifests::{Candidate, Collected, Loader};
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
    pub staged: Option<git::Staged>,
    pub config: &'a ValidConfig,
    /// Where the policy was read from, for `input.policy`.
    pub policy_source: PolicySource,
    /// The AI identities: the built-in table with the team's additions
    /// (`Policy::identity_table`).
    pub table: &'a IdentityTable,
    pub env: &'a Environment,
    pub all_manifests: bool,
    pub manifest_globs: Option<globset::GlobSet>,
    /// A manifest stream read from standard input (`--manifests -`), and
    /// the path it is named by (`--stdin-name`).
    pub stdin: Option<String>,
    pub stdin_name: &'a str,
    /// `--plan` files (`-`: standard input), judged with the plans the
    /// `terraform.plans` globs find in the change.
    pub plan_files: &'a [std::path::PathBuf],
    pub now: String,
}

/// The input document and what is needed to point findings at source lines.
pub struct Collection {
    pub input: Input,
    pub sources: HashMap<String, SourceFile>,
}

/// From this many commits the range diff is read beside them (with a second
/// core): below it, a thread and a repository handle cost more than the diff.
const RANGE_DIFF_APART: usize = 64;

pub fn collect(mut req: Request<'_>) -> Result<Collection> {
    let table = req.table;
    let cfg = req.config;
    let review_keys = &cfg.config.approvals.review_trailers;
    let max_diff_bytes = cfg.config.limits.max_diff_bytes;
    let mut errors: Vec<InputError> = Vec::new();
    let mut commits = Vec::new();
    // Line-level AI attribution (range mode: records name commits).
    let mut range_ai_lines = None;
    let mut attribution_notes = Vec::new();
    let (changes, head_snapshot, before_snapshot) =
        if let (Mode::Range, Some(range)) = (req.mode, req.range) {
            let ids = git::commit_ids(req.repo, range)?;
            timing::mark("collect: commit list");
            // The range's own diff does not depend on its commits: on a long
            // range it is read on its own thread meanwhile, instead of alone
            // on one core after them (a twentieth of a check of 2,000 commits).
            let (old, new) = (range.merge_base, range.head);
            let apart = ids.len() >= RANGE_DIFF_APART && crate::parallel::workers() > 1;
            let range_diff = apart.then(|| {
                let path = req.repo.path().to_path_buf();
                crate::parallel::spawn("the range diff", move || {
                    git::diff_trees(&git::reopen(&path)?, old, Some(new), max_diff_bytes)
                })
            });
            commits = read_commits(
                req.repo,
                &ids,
                max_diff_bytes,
                table,
                review_keys,
                &mut errors,
            )?;
            timing::mark("collect: commits");
            let sources = attribution::Sources {
                repo: req.repo,
                head: range.head,
                trace_path: &cfg.config.ai.agent_trace,
                max_bytes: cfg.config.limits.max_file_bytes,
                max_total: cfg.config.limits.max_total_bytes,
                spent: std::cell::Cell::new(0),
                table,
            };
            range_ai_lines =
                attribution::collect(&sources, &mut commits, &mut errors, &mut attribution_notes);
            timing::mark("collect: line attribution");
            let files = match range_diff {
                Some(task) => task.join()??,
                None => git::diff_trees(req.repo, old, Some(new), max_diff_bytes)?,
            };
            timing::mark("collect: range diff");
            (
                files,
                Snapshot::Commit(range.head),
                range.merge_base.map(Snapshot::Commit),
            )
        } else {
            // Read ahead with the default limit; again when the config sets another.
            let staged = match req.staged.take() {
                Some(staged) if max_diff_bytes == Limits::default().max_diff_bytes => staged,
                _ => git::diff_staged(req.repo, max_diff_bytes)?,
            };
            let (files, snapshot) = if let Some(tree) = staged.tree {
                (staged.files, Snapshot::Staged(tree))
            } else {
                // Entry by entry, from the index git's hooks are given (the
                // reader ahead used a handle of its own).
                git::index::use_hooks_index(req.repo)?;
                (staged.files, Snapshot::Index)
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
                commits.push(build_commit(raw, table, review_keys, &mut errors));
            }
            let head = req.repo.head().ok().and_then(|h| h.target());
            (files, snapshot, head.map(Snapshot::Commit))
        };

    let spent = std::sync::atomic::AtomicU64::new(0);
    let loader = Loader {
        repo: req.repo,
        config: cfg,
        include_override: req.manifest_globs.clone(),
        spent: &spent,
    };
    let mut collected = Collected::default();
    if req.stdin.is_none() || req.manifest_globs.is_some() {
        let before = before_snapshot.as_ref();
        let mut candidates =
            change_candidates(&loader, req.repo, &changes, &head_snapshot, before)?;
        if req.all_manifests {
            candidates = manifests::every_file(
                &loader,
                req.repo,
                &head_snapshot,
                candidates,
                &mut collected.skipped,
            )?;
        }
        timing::mark("collect: manifest list");
        let loaded = loader.load(&head_snapshot, before, candidates)?;
        timing::mark("collect: manifests");
        let listed = std::mem::take(&mut collected.skipped);
        collected = loaded;
        collected.skipped.append(listed);
        links_in_manifest_folders(&loader, req.repo, &changes, &head_snapshot, &mut collected)?;
    }
    if let Some(text) = &req.stdin {
        loader.load_stream(req.stdin_name, text, &mut collected);
    }
    errors.extend(std::mem::take(&mut collected.errors));
    let plans = terraform::collect(
        &terraform::Request {
            repo: req.repo,
            root: req.root,
            head: &head_snapshot,
            changes: &changes,
            config: cfg,
            all: req.all_manifests,
            files: req.plan_files,
            stdin_taken: req.stdin.is_some(),
        },
        &mut errors,
    )?;
    timing::mark("collect: plans");

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
                .map(|shas| shas.iter().map(std::string::ToString::to_string).collect())
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
        .map_or_else(|| req.mode.to_string(), |r| r.source.to_string());
    let additions = changes.iter().map(|f| f.additions).sum();
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
        // An empty config here would judge by no config at all: never
        // default it. A config of strings, numbers and string-keyed maps
        // always converts.
        config: serde_json::to_value(&cfg.config).expect("the config converts to JSON"),
        policy: req.policy_source,
        commits,
        changes: Changes {
            additions,
            deletions: changes.iter().map(|f| f.deletions).sum(),
            files: range_files,
            ai_lines: range_ai_lines,
            ai_share: attribution::share(range_ai_lines, additions),
        },
        manifests: collected.manifests,
        plans,
        skipped: collected.skipped,
        errors,
        attribution: input::Attribution {
            notes: attribution_notes,
        },
    };
    Ok(Collection {
        input,
        sources: collected.sources,
    })
}

/// The manifest candidates of a change: every changed file the globs take
/// (`.YAML` too), and every changed path that may hide manifests from the
/// gate: a file renamed from a manifest name, one the exclude globs leave out,
/// a link or a submodule; and, when the change adds a Chart.yaml, the files
/// under its templates/ folder, which it turns into Helm templates.
fn change_candidates(
    loader: &Loader<'_>,
    repo: &Repository,
    changes: &[FileChange],
    head: &Snapshot,
    before: Option<&Snapshot>,
) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    let mut deleted = Vec::new();
    // A path whose type changed (a manifest turned into a link or a
    // submodule) is a deletion plus an addition, as git shows it: judged as
    // one path that was a manifest at the base.
    let added: std::collections::HashSet<&str> = changes
        .iter()
        .filter(|f| f.status == FileStatus::Added)
        .map(|f| f.path.as_str())
        .collect();
    let retyped: std::collections::HashSet<&str> = changes
        .iter()
        .filter(|f| f.status == FileStatus::Deleted && added.contains(f.path.as_str()))
        .map(|f| f.path.as_str())
        .collect();
    for f in changes {
        if f.status == FileStatus::Deleted {
            if loader.judges(&f.path) && !retyped.contains(f.path.as_str()) {
                deleted.push(Candidate {
                    path: f.path.clone(),
                    before: Some(f.path.clone()),
                    unchanged: false,
                    deleted: true,
                    skip: None,
                });
            }
            continue;
        }
        let before_path = match f.status {
            FileStatus::Added if retyped.contains(f.path.as_str()) => Some(f.path.clone()),
            FileStatus::Added => None,
            FileStatus::Renamed => f.old_path.clone(),
            FileStatus::Modified | FileStatus::Deleted => Some(f.path.clone()),
        };
        let skip = match f.kind {
            FileKind::Gitlink => Some(SkipReason::Gitlink),
            FileKind::Symlink => Some(SkipReason::Symlink),
            FileKind::File if loader.excluded(&f.path) => Some(SkipReason::Excluded),
            FileKind::File if !loader.judges(&f.path) => Some(SkipReason::NotAManifestName),
            FileKind::File => None,
        };
        let judged_before = before_path.as_deref().is_some_and(|p| loader.judges(p));
        let wanted = match skip {
            None | Some(SkipReason::Excluded) => true,
            Some(SkipReason::NotAManifestName) => judged_before,
            // Links and submodules: listed where the globs take them; those in
            // manifest folders are findings (see links_in_manifest_folders).
            _ => judged_before || loader.judges(&f.path),
        };
        if wanted {
            out.push(Candidate {
                path: f.path.clone(),
                before: before_path,
                unchanged: false,
                deleted: false,
                skip,
            });
        }
    }
    // A Chart.yaml the change adds makes Helm templates of the files below
    // its templates/ folder, changed or not: the unchanged ones are judged
    // again, to see whether the base judged them as manifests.
    let changed: std::collections::HashSet<&str> =
        changes.iter().map(|f| f.path.as_str()).collect();
    let mut new_charts: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for f in changes {
        let is_chart = f.path == "Chart.yaml" || f.path.ends_with("/Chart.yaml");
        if f.status == FileStatus::Deleted || f.kind != FileKind::File || !is_chart {
            continue;
        }
        let existed = match before {
            Some(snap) => snap.size(repo, &f.path)?.is_some(),
            None => false,
        };
        if !existed {
            new_charts.insert(&f.path[..f.path.len() - "Chart.yaml".len()]);
        }
    }
    if !new_charts.is_empty() {
        // One walk of the tree, however many charts the change adds.
        for entry in head.list(repo, "")? {
            let in_new_chart = entry.path.match_indices("templates/").any(|(i, _)| {
                (i == 0 || entry.path.as_bytes()[i - 1] == b'/')
                    && new_charts.contains(&entry.path[..i])
            });
            if !in_new_chart || changed.contains(entry.path.as_str()) || !loader.judges(&entry.path)
            {
                continue;
            }
            out.push(Candidate {
                before: Some(entry.path.clone()),
                unchanged: true,
                deleted: false,
                skip: None,
                path: entry.path,
            });
        }
    }
    out.extend(deleted);
    Ok(out)
}

/// A symbolic link or a submodule the change adds (or changes) in a folder
/// that holds manifests is a finding: whatever it points to reaches the
/// cluster unjudged. A folder holds manifests when a judged file is in it
/// or, below the root, anywhere under it.
fn links_in_manifest_folders(
    loader: &Loader<'_>,
    repo: &Repository,
    changes: &[FileChange],
    head: &Snapshot,
    collected: &mut Collected,
) -> Result<()> {
    let links: Vec<&FileChange> = changes
        .iter()
        .filter(|f| f.status != FileStatus::Deleted && f.kind != FileKind::File)
        .collect();
    if links.is_empty() {
        return Ok(());
    }
    let mut folders: std::collections::HashSet<String> = std::collections::HashSet::new();
    for entry in head.list(repo, "")? {
        if entry.kind != git::EntryKind::File || !loader.judges(&entry.path) {
            continue;
        }
        match entry.path.rfind('/') {
            None => {
                folders.insert(String::new());
            }
            Some(end) => {
                let mut dir = &entry.path[..end];
                while folders.insert(dir.to_string()) {
                    match dir.rfind('/') {
                        Some(i) => dir = &dir[..i],
                        None => break,
                    }
                }
            }
        }
    }
    // Links already recorded (a manifest turned into a link): one finding each.
    let recorded: std::collections::HashSet<String> = collected
        .skipped
        .unjudged
        .iter()
        .map(|u| u.path.clone())
        .collect();
    for f in links {
        let parent = f.path.rfind('/').map_or("", |i| &f.path[..i]);
        let in_folder = folders.contains(parent) || loader.judges(&f.path);
        if !in_folder || recorded.contains(&f.path) {
            continue;
        }
        let (what, reason) = match f.kind {
            FileKind::Gitlink => ("a submodule (gitlink)", SkipReason::Gitlink),
            _ => ("a symbolic link", SkipReason::Symlink),
        };
        if !loader.judges(&f.path) {
            // Listed with the skipped files, as the judged names are.
            collected.skipped.file(&f.path, reason);
        }
        let verb = if f.status == FileStatus::Added {
            "adds"
        } else {
            "changes"
        };
        collected.skipped.unjudged.push(input::Unjudged {
            path: f.path.clone(),
            old_path: f.old_path.clone(),
            reason: SkipReason::LinkAdded,
            message: format!(
                "this change {verb} {what} at {} in a folder that holds manifests: what it points to is not judged",
                f.path
            ),
            environments: loader
                .environment(&f.path, &serde_json::Value::Null)
                .into_iter()
                .collect(),
        });
    }
    Ok(())
}

/// A commit as rules see it: trailers as git parses them, provenance, people.
/// (Public for the trailer fuzz target, which feeds it arbitrary messages.)
/// The commits `ids`, read and built on every core, in their order; the
/// problems found in them are appended to `errors`, in the same order.
pub fn read_commits(
    repo: &git2::Repository,
    ids: &[git2::Oid],
    max_diff_bytes: u64,
    table: &IdentityTable,
    review_keys: &[String],
    errors: &mut Vec<InputError>,
) -> Result<Vec<Commit>> {
    let built = git::read_commits(repo, ids, max_diff_bytes, |raw| {
        let mut found = Vec::new();
        (build_commit(raw, table, review_keys, &mut found), found)
    })?;
    let mut commits = Vec::with_capacity(built.len());
    for (commit, found) in built {
        commits.push(commit);
        errors.extend(found);
    }
    Ok(commits)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ValidConfig;

    fn git(dir: &Path, args: &[&str]) {
        let ok = std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    /// The range walk reports gitlinks on its own branch; the decision on
    /// what a change's gitlink means is made here.
    #[test]
    fn a_submodule_added_in_a_manifest_folder_is_unjudged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        git(path, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(path.join("deploy/prod")).unwrap();
        std::fs::write(
            path.join("deploy/prod/a.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        )
        .unwrap();
        git(path, &["add", "-A"]);
        git(
            path,
            &[
                "-c",
                "user.name=A",
                "-c",
                "user.email=a@b",
                "commit",
                "-qm",
                "a",
            ],
        );
        let repo = Repository::open(path).unwrap();
        let head = repo.head().unwrap().target().unwrap();
        let config = ValidConfig::builtin();
        let spent = std::sync::atomic::AtomicU64::new(0);
        let loader = Loader {
            repo: &repo,
            config: &config,
            include_override: None,
            spent: &spent,
        };
        let change = |path: &str| FileChange {
            path: path.into(),
            old_path: None,
            status: FileStatus::Added,
            kind: FileKind::Gitlink,
            additions: 0,
            deletions: 0,
            binary: false,
            lines_counted: true,
            first_line: Some(1),
            ai_lines: None,
        };
        let changes = vec![change("deploy/prod/sub"), change("vendor/lib")];
        let snap = Snapshot::Commit(head);
        let candidates = change_candidates(&loader, &repo, &changes, &snap, Some(&snap)).unwrap();
        assert!(candidates.is_empty());
        let mut collected = Collected::default();
        links_in_manifest_folders(&loader, &repo, &changes, &snap, &mut collected).unwrap();
        let unjudged = &collected.skipped.unjudged;
        assert_eq!(unjudged.len(), 1, "{unjudged:?}");
        assert_eq!(unjudged[0].path, "deploy/prod/sub");
        assert!(unjudged[0].message.contains("submodule"));
        assert_eq!(collected.skipped.gitlinks, 1);
        assert_eq!(collected.skipped.files[0].path, "deploy/prod/sub");
    }
}
