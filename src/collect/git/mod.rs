//! The repository: opening it, choosing the range to check and reading its
//! commits here; raw trees in `tree`, objects (and a partial clone's missing
//! ones) in `objects`, changes and line counts in `diff`, files of a
//! revision, the index or the working tree in `snapshot`.

use crate::clock;
use crate::collect::context::RangeHint;
use crate::error::{Error, Result};
use crate::input::{FileChange, Person, RangeSource};
use git2::{Oid, Repository};
use objects::Objects;
use std::path::{Path, PathBuf};

mod diff;
#[doc(hidden)]
pub mod differential;
pub mod index;
mod objects;
pub mod remerge;
mod snapshot;
pub mod tree;

pub use diff::{is_binary, Staged};
pub use snapshot::{Entry, EntryKind, Snapshot, Stat};

/// The object cache of one repository handle, in bytes.
const CACHE_BYTES: usize = 48 << 20;

/// Open the repository that contains `dir` (or the current directory).
#[allow(unsafe_code)] // libgit2's global options; see each block
pub fn open(dir: Option<&Path>) -> Result<Repository> {
    // CI containers check out as one user and run as another; git's
    // safe.directory check would refuse them, and govops only reads.
    // SAFETY: set once, before any repository is opened, from one thread.
    unsafe {
        let _ = git2::opts::set_verify_owner_validation(false);
    }
    // libgit2 re-hashes every object it reads; git itself does not, and the
    // hashing was most of the time spent reading a range.
    git2::opts::strict_hash_verification(false);
    // Redoing a merge (remerge) writes its tree, and libgit2 first checks
    // that every entry's object exists: a pack lookup per file of the
    // repository for every merge, three quarters of a check of a history of
    // merges. The entries come from the repository's own trees.
    git2::opts::strict_object_creation(false);
    // libgit2 caches only trees under 4 KiB; a GitOps folder of a few hundred
    // manifests is a larger tree, re-inflated and re-patched from its delta
    // for every commit that touches it. Cache trees of any realistic size.
    // SAFETY: as above: once, before any repository is opened.
    unsafe {
        let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 4 << 20);
    }
    // Each repository handle (one per reader thread) caches up to this much.
    // libgit2's default, 256 MiB, was reached by trees nobody reads again on
    // a long history (a 8,000-commit check peaked at 440 MB); what is read
    // again is the last commit's trees and the head's, far less. Over the
    // limit libgit2 drops cached objects, which are then read again.
    // SAFETY: as above. (git2 does not wrap this option.)
    unsafe {
        libgit2_sys::git_libgit2_opts(
            libgit2_sys::GIT_OPT_SET_CACHE_MAX_SIZE.cast_signed(),
            CACHE_BYTES.cast_signed(),
        );
    }
    let start = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir().map_err(|e| Error::io(".", e))?,
    };
    let repo = Repository::discover(&start).map_err(|e| {
        Error::Git(format!(
            "{} is not inside a git repository ({}); run govops in a repository or pass -C DIR",
            start.display(),
            e.message()
        ))
    })?;
    Ok(repo)
}

/// Open the repository at `git_dir` again (another thread's handle), with
/// pack readers of its own.
pub fn reopen(git_dir: &Path) -> Result<Repository> {
    let repo = Repository::open(git_dir)?;
    own_pack_readers(&repo);
    Ok(repo)
}

/// Give `repo` pack readers that no other handle shares.
///
/// libgit2 keeps one reader per pack file for the whole process, found by
/// the pack's path, and every object read takes that reader's locks (its
/// window list, its cache of delta bases). Threads reading a range's commits
/// through one reader waited on each other more than they read: an object
/// read cost two to four times what it costs on one thread. An object
/// database that names the same folder by another spelling (`objects/./`)
/// gets readers of its own, over the same files. Where that database cannot
/// be made, or cannot find HEAD's commit, the handle keeps the shared one.
///
/// Each reader holds its pack file open: with many packs, a handle per
/// thread multiplied the open files past a low limit (256 on macOS), where
/// libgit2 reports the objects of the packs it could not open as missing.
/// A repository of more than `MAX_PACKS` packs keeps the shared readers.
fn own_pack_readers(repo: &Repository) {
    /// Packs a repository may have for its handles to get readers of their
    /// own: a handle per worker (at most 8) then opens at most 8 x 16 files
    /// more, and `git gc` keeps a repository at a few packs.
    const MAX_PACKS: usize = 16;
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    // The objects of a linked worktree are in the common git dir.
    let objects = repo.commondir().join("objects");
    let packs = std::fs::read_dir(objects.join("pack")).map_or(usize::MAX, |entries| {
        entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
            .count()
    });
    if packs > MAX_PACKS {
        return;
    }
    // A spelling per handle open at once (handles are few: a worker each);
    // two handles that share one past 32 share readers, which is slower,
    // never different.
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 32 + 1;
    let mut dir = objects.into_os_string();
    for _ in 0..n {
        dir.push("/.");
    }
    let Some(dir) = dir.to_str() else {
        return;
    };
    let Ok(odb) = git2::Odb::new() else {
        return;
    };
    if odb.add_disk_alternate(dir).is_err() {
        return;
    }
    let head = repo.head().ok().and_then(|h| h.target());
    if head.is_some_and(|id| !odb.exists(id)) {
        return;
    }
    let _ = repo.set_odb(&odb);
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
    pub source: RangeSource,
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
            if let Err(e) = repo.head() {
                if e.code() == git2::ErrorCode::UnbornBranch {
                    let branch = repo
                        .find_reference("HEAD")
                        .ok()
                        .and_then(|h| h.symbolic_target().map(str::to_string))
                        .unwrap_or_default();
                    return Error::Git(format!(
                        "{what} commit {rev}: this repository has no commit yet ({} is unborn), \
                         so there is no range to check. Check the staged changes with \
                         `govops check --staged`, or commit first.",
                        branch.trim_start_matches("refs/heads/")
                    ));
                }
            }
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
        return with_merge_base(repo, base, head, RangeSource::Flags);
    }
    if head_flag.is_none() {
        if let Some(h) = hint {
            let head = resolve(repo, h.head.as_deref().unwrap_or("HEAD"), "head")?;
            if h.head_only {
                // A push that creates a branch brings every commit that is
                // not on the default branch, not only its last one.
                if let Some(range) = new_branch_range(repo, head, h.default_branch.as_deref()) {
                    return Ok(range);
                }
                return head_alone(repo, head, h.source);
            }
            if let Some(base) = &h.base {
                let base = resolve(repo, base, "base")?;
                return with_merge_base(repo, base, head, h.source);
            }
        }
    }
    // The head the environment names (a pre-push of a new branch names the
    // pushed commit and no base), else HEAD: judging HEAD there would pass a
    // branch pushed from another checkout state.
    let hinted = hint
        .filter(|_| head_flag.is_none())
        .and_then(|h| h.head.as_deref());
    let head = resolve(repo, head_flag.or(hinted).unwrap_or("HEAD"), "head")?;
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
                    source,
                });
            }
        }
    }
    head_alone(repo, head, RangeSource::HeadOnly)
}

/// The default branch a head left: the first of `default_branch` (as
/// fetched, then local), origin/HEAD, main and master that is here and that
/// the head is not on; with the merge-base of the two.
pub fn left_default_branch(
    repo: &Repository,
    head: Oid,
    default_branch: Option<&str>,
) -> Option<(Oid, Oid)> {
    let names = default_branch
        .into_iter()
        .flat_map(|b| [format!("origin/{b}"), b.to_string()])
        .chain(["origin/HEAD", "main", "master"].map(String::from));
    names.into_iter().find_map(|name| {
        let target = repo
            .revparse_single(&name)
            .and_then(|o| o.peel_to_commit())
            .ok()?;
        let mb = repo.merge_base(head, target.id()).ok()?;
        (mb != head).then_some((target.id(), mb))
    })
}

/// The range of a branch's first push: from its merge-base with the
/// default branch, when that branch is here and the head is not on it.
fn new_branch_range(repo: &Repository, head: Oid, default_branch: Option<&str>) -> Option<Range> {
    let (base, merge_base) = left_default_branch(repo, head, default_branch)?;
    Some(Range {
        base: Some(base),
        head,
        merge_base: Some(merge_base),
        source: RangeSource::NewBranch,
    })
}

fn upstream_candidates(repo: &Repository) -> Vec<(String, RangeSource)> {
    let mut out = Vec::new();
    if let Ok(head) = repo.head() {
        if let Some(name) = head.name() {
            if let Ok(up) = repo.branch_upstream_name(name) {
                if let Some(up) = up.as_str() {
                    out.push((up.to_string(), RangeSource::Upstream));
                }
            }
        }
    }
    for c in ["origin/HEAD", "main", "master"] {
        out.push((c.to_string(), RangeSource::DefaultBranch));
    }
    out
}

fn with_merge_base(repo: &Repository, base: Oid, head: Oid, source: RangeSource) -> Result<Range> {
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
        source,
    })
}

fn head_alone(repo: &Repository, head: Oid, source: RangeSource) -> Result<Range> {
    let commit = repo.find_commit(head)?;
    Ok(Range {
        base: None,
        head,
        merge_base: commit.parent_id(0).ok(),
        source,
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
pub fn read_commit(repo: &Repository, oid: Oid, max_diff_bytes: u64) -> Result<RawCommit> {
    let objects = Objects::new(repo)?;
    read_commit_with(
        &objects,
        &mut remerge::Merger::default(),
        oid,
        max_diff_bytes,
    )
}

/// `read_commit`, reading objects through `objects` and redoing merges in
/// `merger` (a worker's, both kept from commit to commit of its piece).
fn read_commit_with(
    objects: &Objects<'_>,
    merger: &mut remerge::Merger,
    oid: Oid,
    max_diff_bytes: u64,
) -> Result<RawCommit> {
    let repo = objects.repo();
    let commit = repo.find_commit(oid)?;
    let parent_tree = match commit.parent(0) {
        Ok(p) => Some(p.tree_id()),
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
    let ctx = || format!("commit {}", short(oid));
    // A merge is judged by what it adds beyond its parents (what `git show
    // --remerge-diff` shows), not by everything its second parent brought.
    let files = match remerge::changes(repo, merger, &commit, &ctx, max_diff_bytes)? {
        Some(mut merge) => diff::changes(
            &Objects::new(merge.handle)?,
            std::mem::take(&mut merge.raw),
            &ctx,
            max_diff_bytes,
            |opts| merge.diff(opts),
        )?,
        None => diff::tree_changes(
            objects,
            parent_tree,
            Some(commit.tree_id()),
            &ctx,
            max_diff_bytes,
        )?,
    };
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

/// Read many commits, spread over the cores: each worker opens its own
/// handle on the repository (a `Repository` is not shareable across threads)
/// and hands each commit it read to `then` (what is made of a commit is made
/// on every core, not after on one).
pub fn read_commits<T: Send>(
    repo: &Repository,
    ids: &[Oid],
    max_diff_bytes: u64,
    then: impl Fn(RawCommit) -> T + Sync,
) -> Result<Vec<T>> {
    let path = repo.path();
    // Four pieces a worker, taken in turn: commits differ in cost (a merge
    // redone, a large file diffed), and with one contiguous half each, one
    // worker read alone for a tenth of the phase. A piece is still long
    // enough that its commits share the trees they read.
    let fan = crate::parallel::Fan {
        what: "a commit reader",
        serial_below: 64,
        pieces: crate::parallel::Pieces::Of(ids.len().div_ceil(crate::parallel::workers() * 4)),
    };
    let parts = crate::parallel::map(
        ids,
        fan,
        Handle::Caller(repo),
        || reopen(path).map(Handle::Own),
        |repo, part| {
            // What they keep serves the whole piece.
            let objects = Objects::new(repo)?;
            let mut merger = remerge::Merger::default();
            part.iter()
                .map(|id| read_commit_with(&objects, &mut merger, *id, max_diff_bytes).map(&then))
                .collect::<Result<Vec<_>>>()
        },
    )?;
    Ok(parts.into_iter().flatten().collect())
}

/// A worker's repository: the caller's, or one the worker opened.
pub enum Handle<'a> {
    Caller(&'a Repository),
    Own(Repository),
}

impl std::ops::Deref for Handle<'_> {
    type Target = Repository;
    fn deref(&self) -> &Repository {
        match self {
            Handle::Caller(r) => r,
            Handle::Own(r) => r,
        }
    }
}

/// Changes between two commits' trees (either may be absent: the empty tree).
pub fn diff_trees(
    repo: &Repository,
    old: Option<Oid>,
    new: Option<Oid>,
    max_diff_bytes: u64,
) -> Result<Vec<FileChange>> {
    let tree = |c: Option<Oid>| -> Result<Option<Oid>> {
        c.map(|c| repo.find_commit(c).map(|c| c.tree_id()))
            .transpose()
            .map_err(Error::from)
    };
    let ctx = || match (old, new) {
        (Some(o), Some(n)) => format!("the range {}..{}", short(o), short(n)),
        (_, Some(n)) => format!("commit {}", short(n)),
        _ => "the range".to_string(),
    };
    diff::tree_changes(
        &Objects::new(repo)?,
        tree(old)?,
        tree(new)?,
        &ctx,
        max_diff_bytes,
    )
}

/// The staged changes: the index against HEAD (or the empty tree).
pub fn diff_staged(repo: &Repository, max_diff_bytes: u64) -> Result<diff::Staged> {
    diff::staged(repo, max_diff_bytes)
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
