//! The repository: opening it, choosing the range to check, reading commits
//! and their diffs, and reading files from a revision, the index or the
//! working tree through one `Snapshot` type.

use crate::clock;
use crate::collect::context::RangeHint;
use crate::error::{Error, Result};
use crate::input::{FileChange, Person};
use git2::{
    Delta, DiffFindOptions, DiffOptions, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult,
};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Open the repository that contains `dir` (or the current directory).
pub fn open(dir: Option<&Path>) -> Result<Repository> {
    // CI containers check out as one user and run as another; git's
    // safe.directory check would refuse them, and govops only reads.
    // SAFETY: set once, before any repository is opened, from one thread.
    unsafe {
        let _ = git2::opts::set_verify_owner_validation(false);
    }
    let start = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir().map_err(|e| Error::io(".", e))?,
    };
    Repository::discover(&start).map_err(|e| {
        Error::Git(format!(
            "{} is not inside a git repository ({}); run govops in a repository or pass -C DIR",
            start.display(),
            e.message()
        ))
    })
}

/// The work tree root (or the git dir of a bare repository).
pub fn root(repo: &Repository) -> PathBuf {
    repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf()
}

/// The commits to check and the trees to diff.
#[derive(Debug, Clone)]
pub struct Range {
    pub base: Option<Oid>,
    pub head: Oid,
    /// What `head` is diffed against: merge-base(base, head), or head's first
    /// parent when head is checked alone.
    pub merge_base: Option<Oid>,
    pub source: String,
}

fn shallow_hint(repo: &Repository) -> &'static str {
    if repo.is_shallow() {
        " This is a shallow clone: fetch the history (actions/checkout with `fetch-depth: 0`, or `git fetch --deepen=100`)."
    } else {
        " Fetch it (`git fetch origin`) or name a commit that exists."
    }
}

fn resolve(repo: &Repository, rev: &str, what: &str) -> Result<Oid> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|_| {
            Error::Git(format!(
                "{what} commit {rev} is not in this repository.{}",
                shallow_hint(repo)
            ))
        })
}

/// Choose the range, first match wins: flags, the CI's hint (GitHub event,
/// pre-push refs), the merge-base with the upstream / origin/HEAD / main /
/// master, else HEAD alone.
pub fn resolve_range(
    repo: &Repository,
    base_flag: Option<&str>,
    head_flag: Option<&str>,
    hint: Option<&RangeHint>,
) -> Result<Range> {
    if let Some(base) = base_flag {
        let head = resolve(repo, head_flag.unwrap_or("HEAD"), "head")?;
        let base = resolve(repo, base, "base")?;
        return with_merge_base(repo, base, head, "flags");
    }
    if head_flag.is_none() {
        if let Some(h) = hint {
            let head = resolve(repo, h.head.as_deref().unwrap_or("HEAD"), "head")?;
            if h.head_only {
                return head_alone(repo, head, h.source);
            }
            if let Some(base) = &h.base {
                let base = resolve(repo, base, "base")?;
                return with_merge_base(repo, base, head, h.source);
            }
        }
    }
    let head = resolve(repo, head_flag.unwrap_or("HEAD"), "head")?;
    for (candidate, source) in upstream_candidates(repo) {
        let Ok(obj) = repo.revparse_single(&candidate) else {
            continue;
        };
        let Ok(target) = obj.peel_to_commit() else {
            continue;
        };
        if let Ok(mb) = repo.merge_base(head, target.id()) {
            if mb != head {
                return Ok(Range {
                    base: Some(target.id()),
                    head,
                    merge_base: Some(mb),
                    source: source.to_string(),
                });
            }
        }
    }
    head_alone(repo, head, "head-only")
}

fn upstream_candidates(repo: &Repository) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    if let Ok(head) = repo.head() {
        if let Some(name) = head.name() {
            if let Ok(up) = repo.branch_upstream_name(name) {
                if let Some(up) = up.as_str() {
                    out.push((up.to_string(), "upstream"));
                }
            }
        }
    }
    for c in ["origin/HEAD", "main", "master"] {
        out.push((c.to_string(), "default-branch"));
    }
    out
}

fn with_merge_base(repo: &Repository, base: Oid, head: Oid, source: &str) -> Result<Range> {
    let mb = repo.merge_base(base, head).map_err(|_| {
        Error::Git(format!(
            "base {} and head {} have no common ancestor in this repository.{}",
            short(base),
            short(head),
            shallow_hint(repo)
        ))
    })?;
    Ok(Range {
        base: Some(base),
        head,
        merge_base: Some(mb),
        source: source.to_string(),
    })
}

fn head_alone(repo: &Repository, head: Oid, source: &str) -> Result<Range> {
    let commit = repo.find_commit(head)?;
    Ok(Range {
        base: None,
        head,
        merge_base: commit.parent_id(0).ok(),
        source: source.to_string(),
    })
}

pub fn short(oid: Oid) -> String {
    oid.to_string()[..7].to_string()
}

/// Commits of the range, oldest first (`base..head`; merges included).
pub fn commit_ids(repo: &Repository, range: &Range) -> Result<Vec<Oid>> {
    let Some(base) = range.base else {
        return Ok(vec![range.head]);
    };
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    walk.push(range.head)?;
    walk.hide(base)?;
    walk.map(|r| r.map_err(Error::from)).collect()
}

/// One commit as git stores it.
pub struct RawCommit {
    pub sha: String,
    pub parents: Vec<String>,
    pub message: Vec<u8>,
    pub author: Person,
    pub committer: Person,
    pub files: Vec<FileChange>,
}

fn person(sig: &git2::Signature<'_>) -> Person {
    Person {
        name: String::from_utf8_lossy(sig.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(sig.email_bytes()).into_owned(),
        time: clock::format_git_time(sig.when().seconds(), sig.when().offset_minutes()),
    }
}

/// Read a commit and its changes against its first parent.
pub fn read_commit(repo: &Repository, oid: Oid) -> Result<RawCommit> {
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parent_tree = match commit.parent(0) {
        Ok(p) => Some(p.tree()?),
        Err(_) if commit.parent_count() == 0 => None,
        Err(e) => {
            return Err(Error::Git(format!(
                "parent of {} is missing ({}).{}",
                short(oid),
                e.message(),
                shallow_hint(repo)
            )))
        }
    };
    let mut opts = diff_options();
    let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut opts))?;
    let files = file_changes(diff)?;
    let (author, committer) = (person(&commit.author()), person(&commit.committer()));
    Ok(RawCommit {
        sha: oid.to_string(),
        parents: commit.parent_ids().map(|p| p.to_string()).collect(),
        message: commit.message_raw_bytes().to_vec(),
        author,
        committer,
        files,
    })
}

fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.context_lines(0).ignore_submodules(true);
    opts
}

/// Changes between two trees (either may be absent: the empty tree).
pub fn diff_trees(
    repo: &Repository,
    old: Option<Oid>,
    new: Option<Oid>,
) -> Result<Vec<FileChange>> {
    let tree = |c: Option<Oid>| -> Result<Option<git2::Tree<'_>>> {
        c.map(|c| repo.find_commit(c).and_then(|c| c.tree()))
            .transpose()
            .map_err(Error::from)
    };
    let (old, new) = (tree(old)?, tree(new)?);
    let mut opts = diff_options();
    let diff = repo.diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut opts))?;
    file_changes(diff)
}

/// The staged changes: the index against HEAD (or the empty tree).
pub fn diff_staged(repo: &Repository) -> Result<Vec<FileChange>> {
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let index = repo.index()?;
    let mut opts = diff_options();
    let diff = repo.diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut opts))?;
    file_changes(diff)
}

/// Per-file statistics of a diff, with renames found.
fn file_changes(mut diff: git2::Diff<'_>) -> Result<Vec<FileChange>> {
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))?;
    let files: RefCell<Vec<FileChange>> = RefCell::new(Vec::with_capacity(diff.deltas().len()));
    diff.foreach(
        &mut |delta, _| {
            let path = |f: git2::DiffFile<'_>| {
                f.path_bytes()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
            };
            let new_path = path(delta.new_file());
            let old_path = path(delta.old_file());
            let status = match delta.status() {
                Delta::Added | Delta::Copied => "added",
                Delta::Deleted => "deleted",
                Delta::Renamed => "renamed",
                _ => "modified",
            };
            let path = match status {
                "deleted" => old_path.clone(),
                _ => new_path.clone(),
            }
            .unwrap_or_default();
            files.borrow_mut().push(FileChange {
                old_path: (status == "renamed").then_some(old_path).flatten(),
                path,
                status,
                additions: 0,
                deletions: 0,
                binary: delta.flags().is_binary(),
            });
            true
        },
        Some(&mut |_, _| {
            if let Some(f) = files.borrow_mut().last_mut() {
                f.binary = true;
            }
            true
        }),
        None,
        Some(&mut |_, _, line| {
            if let Some(f) = files.borrow_mut().last_mut() {
                match line.origin() {
                    '+' => f.additions += 1,
                    '-' => f.deletions += 1,
                    _ => {}
                }
            }
            true
        }),
    )?;
    Ok(files.into_inner())
}

/// Files as they are at one point: a commit's tree, the index, or the working tree.
#[derive(Debug, Clone)]
pub enum Snapshot {
    Commit(Oid),
    Index,
    Worktree(PathBuf),
}

/// A file listed in a snapshot.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    /// Never followed: a link can point out of the repository.
    Symlink,
}

impl Snapshot {
    pub fn describe(&self) -> String {
        match self {
            Snapshot::Commit(oid) => short(*oid),
            Snapshot::Index => "the index".into(),
            Snapshot::Worktree(_) => "the working tree".into(),
        }
    }

    /// Every file below `dir` ("" for the whole tree), without `.git/`.
    pub fn list(&self, repo: &Repository, dir: &str) -> Result<Vec<Entry>> {
        let dir = dir.trim_matches('/');
        let under = |p: &str| dir.is_empty() || p == dir || p.starts_with(&format!("{dir}/"));
        let mut out = Vec::new();
        match self {
            Snapshot::Commit(oid) => {
                let tree = repo.find_commit(*oid)?.tree()?;
                tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
                    if entry.kind() != Some(ObjectType::Blob) {
                        return TreeWalkResult::Ok;
                    }
                    let path = format!("{parent}{}", String::from_utf8_lossy(entry.name_bytes()));
                    if under(&path) {
                        let kind = if entry.filemode() == 0o120000 {
                            EntryKind::Symlink
                        } else {
                            EntryKind::File
                        };
                        out.push(Entry { path, kind });
                    }
                    TreeWalkResult::Ok
                })?;
            }
            Snapshot::Index => {
                let index = repo.index()?;
                for e in index.iter() {
                    let path = String::from_utf8_lossy(&e.path).into_owned();
                    // Submodules (gitlinks) hold no file of this repository.
                    if e.mode == 0o160000 || !under(&path) {
                        continue;
                    }
                    let kind = if e.mode == 0o120000 {
                        EntryKind::Symlink
                    } else {
                        EntryKind::File
                    };
                    out.push(Entry { path, kind });
                }
            }
            Snapshot::Worktree(root) => {
                let start = if dir.is_empty() {
                    root.clone()
                } else {
                    root.join(dir)
                };
                if !start.exists() {
                    return Ok(out);
                }
                let walker = walkdir::WalkDir::new(&start)
                    .follow_links(false)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| e.file_name() != ".git");
                for e in walker {
                    let e = e.map_err(|e| Error::io(start.display(), e))?;
                    let ft = e.file_type();
                    if ft.is_dir() {
                        continue;
                    }
                    let Ok(rel) = e.path().strip_prefix(root) else {
                        continue;
                    };
                    let path = rel.to_string_lossy().replace('\\', "/");
                    let kind = if ft.is_symlink() {
                        EntryKind::Symlink
                    } else {
                        EntryKind::File
                    };
                    out.push(Entry { path, kind });
                }
            }
        }
        Ok(out)
    }

    /// The size of a file, without reading it; None when it does not exist.
    pub fn size(&self, repo: &Repository, path: &str) -> Result<Option<u64>> {
        match self.blob_id(repo, path)? {
            Some(oid) => Ok(Some(repo.odb()?.read_header(oid)?.0 as u64)),
            None => match self {
                Snapshot::Worktree(root) => Ok(std::fs::symlink_metadata(root.join(path))
                    .ok()
                    .map(|m| m.len())),
                _ => Ok(None),
            },
        }
    }

    /// Read a file; None when it does not exist.
    pub fn read(&self, repo: &Repository, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Snapshot::Worktree(root) => {
                let full = root.join(path);
                match std::fs::symlink_metadata(&full) {
                    Ok(m) if m.file_type().is_symlink() => Err(Error::io(
                        path,
                        "is a symbolic link; govops does not follow links",
                    )),
                    Ok(_) => std::fs::read(&full)
                        .map(Some)
                        .map_err(|e| Error::io(full.display(), e)),
                    Err(_) => Ok(None),
                }
            }
            _ => match self.blob_id(repo, path)? {
                Some(oid) => Ok(Some(repo.find_blob(oid)?.content().to_vec())),
                None => Ok(None),
            },
        }
    }

    /// Whether `path` is a symbolic link here (links are never followed).
    pub fn is_symlink(&self, repo: &Repository, path: &str) -> Result<bool> {
        Ok(match self {
            Snapshot::Commit(oid) => {
                let tree = repo.find_commit(*oid)?.tree()?;
                tree.get_path(Path::new(path))
                    .is_ok_and(|e| e.filemode() == 0o120000)
            }
            Snapshot::Index => repo
                .index()?
                .get_path(Path::new(path), 0)
                .is_some_and(|e| e.mode == 0o120000),
            Snapshot::Worktree(root) => {
                std::fs::symlink_metadata(root.join(path)).is_ok_and(|m| m.file_type().is_symlink())
            }
        })
    }

    fn blob_id(&self, repo: &Repository, path: &str) -> Result<Option<Oid>> {
        match self {
            Snapshot::Commit(oid) => {
                let tree = repo.find_commit(*oid)?.tree()?;
                Ok(tree
                    .get_path(Path::new(path))
                    .ok()
                    .filter(|e| e.kind() == Some(ObjectType::Blob))
                    .map(|e| e.id()))
            }
            Snapshot::Index => Ok(repo.index()?.get_path(Path::new(path), 0).map(|e| e.id)),
            Snapshot::Worktree(_) => Ok(None),
        }
    }
}

/// Author identity for a commit that does not exist yet (the commit-msg hook):
/// git's environment overrides first, then `user.name` / `user.email`.
pub fn pending_author(repo: &Repository) -> Person {
    let config = repo.config().ok();
    let get = |env: &str, key: &str| {
        std::env::var(env)
            .ok()
            .or_else(|| config.as_ref().and_then(|c| c.get_string(key).ok()))
            .unwrap_or_default()
    };
    Person {
        name: get("GIT_AUTHOR_NAME", "user.name"),
        email: get("GIT_AUTHOR_EMAIL", "user.email"),
        time: clock::format_utc(time::OffsetDateTime::now_utc()),
    }
}

/// The branch name of HEAD, when HEAD is on a branch.
pub fn branch(repo: &Repository) -> Option<String> {
    let head = repo.head().ok()?;
    head.is_branch()
        .then(|| head.shorthand().map(str::to_string))
        .flatten()
}
