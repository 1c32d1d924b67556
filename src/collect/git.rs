//! The repository: opening it, choosing the range to check, reading commits
//! and their diffs, and reading files from a revision, the index or the
//! working tree through one `Snapshot` type.

use crate::clock;
use crate::collect::context::RangeHint;
use crate::error::{Error, Result};
use crate::input::{FileChange, FileKind, Person};
use git2::{
    Delta, DiffFindOptions, DiffOptions, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult,
};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// The object cache of one repository handle, in bytes.
const CACHE_BYTES: usize = 48 << 20;

/// Open the repository that contains `dir` (or the current directory).
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
            libgit2_sys::GIT_OPT_SET_CACHE_MAX_SIZE as std::ffi::c_int,
            CACHE_BYTES as isize,
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
    use_index_file(&repo)?;
    Ok(repo)
}

/// Open the repository at `git_dir` again (another thread's handle).
pub fn reopen(git_dir: &Path) -> Result<Repository> {
    let repo = Repository::open(git_dir)?;
    use_index_file(&repo)?;
    Ok(repo)
}

/// The index git's hooks are given: `git commit -a` and `git commit PATH`
/// stage into a temporary index and name it in `GIT_INDEX_FILE`, which
/// libgit2 ignores. Reading `.git/index` instead would judge a commit
/// without the files it is about to record.
fn use_index_file(repo: &Repository) -> Result<()> {
    let Some(file) = std::env::var_os("GIT_INDEX_FILE").filter(|f| !f.is_empty()) else {
        return Ok(());
    };
    let mut index = git2::Index::open(Path::new(&file)).map_err(|e| {
        Error::Git(format!(
            "GIT_INDEX_FILE {}: cannot read the index: {}",
            Path::new(&file).display(),
            e.message()
        ))
    })?;
    repo.set_index(&mut index)?;
    Ok(())
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
    let files = tree_changes(repo, parent_tree, Some(commit.tree_id()))?;
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

/// Read many commits, spread over the cores: each thread opens its own
/// handle on the repository (a `Repository` is not shareable across threads).
pub fn read_commits(repo: &Repository, ids: &[Oid]) -> Result<Vec<RawCommit>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads == 1 || ids.len() < 64 {
        return ids.iter().map(|id| read_commit(repo, *id)).collect();
    }
    let path = repo.path().to_path_buf();
    let chunk = ids.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = ids
            .chunks(chunk)
            .map(|part| {
                let path = &path;
                scope.spawn(move || -> Result<Vec<RawCommit>> {
                    let repo = reopen(path)?;
                    part.iter().map(|id| read_commit(&repo, *id)).collect()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for w in workers {
            out.extend(
                w.join()
                    .map_err(|_| Error::Git("a commit reader thread panicked".into()))??,
            );
        }
        Ok(out)
    })
}

/// One side of a changed path: blob id and file mode.
type Side = Option<(Oid, i32)>;

/// Changes between two trees (either may be absent: the empty tree).
///
/// Walks both trees together and skips every subtree whose id is the same on
/// both sides, so the cost follows the size of the change, not of the tree
/// (libgit2's generic diff walks every entry). Content is diffed only for
/// changed blobs. When a change both adds and deletes files, libgit2's diff
/// runs instead, for its rename detection.
pub fn tree_changes(
    repo: &Repository,
    old: Option<Oid>,
    new: Option<Oid>,
) -> Result<Vec<FileChange>> {
    let mut changed: Vec<(String, Side, Side)> = Vec::new();
    walk_trees(&repo.odb()?, old, new, "", &mut changed)?;
    let adds = changed.iter().any(|(_, o, n)| o.is_none() && n.is_some());
    let deletes = changed.iter().any(|(_, o, n)| o.is_some() && n.is_none());
    if adds && deletes {
        let old_tree = old.map(|t| repo.find_tree(t)).transpose()?;
        let new_tree = new.map(|t| repo.find_tree(t)).transpose()?;
        let mut opts = diff_options();
        let diff = repo.diff_tree_to_tree(old_tree.as_ref(), new_tree.as_ref(), Some(&mut opts))?;
        return file_changes(diff);
    }
    let mut opts = diff_options();
    changed
        .into_iter()
        .map(|(path, o, n)| {
            let blob = |side: Side| -> Result<Option<git2::Blob<'_>>> {
                match side {
                    Some((oid, _)) => Ok(Some(repo.find_blob(oid)?)),
                    _ => Ok(None),
                }
            };
            let (ob, nb) = (blob(o)?, blob(n)?);
            let binary = ob.as_ref().is_some_and(|b| b.is_binary())
                || nb.as_ref().is_some_and(|b| b.is_binary());
            // An added or deleted file's lines are all added or deleted: only
            // a modified file needs a line diff. Diffing the blobs (not their
            // bytes) spares libgit2 hashing both sides to name them.
            let (additions, deletions) = match (&ob, &nb) {
                (Some(before), Some(after)) if !binary => {
                    // An empty path, not none: without a path libgit2 names
                    // the blobs "file" and looks up .gitattributes for that
                    // name on every diff (15% of a full check); an empty path
                    // skips the diff-driver lookup, which line counts do not use.
                    let no_path = Some(Path::new(""));
                    let patch =
                        git2::Patch::from_blobs(before, no_path, after, no_path, Some(&mut opts))?;
                    let (_, additions, deletions) = patch.line_stats()?;
                    (additions, deletions)
                }
                (None, Some(after)) => (line_count(after.content()), 0),
                (Some(before), None) => (0, line_count(before.content())),
                _ => (0, 0),
            };
            let mode = n.or(o).map_or(0, |(_, mode)| mode as u32);
            Ok(FileChange {
                path,
                old_path: None,
                kind: FileKind::from_mode(mode).unwrap_or(FileKind::File),
                status: match (o, n) {
                    (None, _) => "added",
                    (_, None) => "deleted",
                    _ => "modified",
                },
                additions: if binary { 0 } else { additions as u64 },
                deletions: if binary { 0 } else { deletions as u64 },
                binary,
            })
        })
        .collect()
}

/// Lines as `git diff --numstat` counts them: a last line without a newline
/// counts too.
fn line_count(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|b| **b == b'\n').count();
    newlines + usize::from(bytes.last().is_some_and(|b| *b != b'\n'))
}

/// One entry of a raw tree object: `<octal mode> <name>\0<20-byte id>`.
struct RawEntry<'a> {
    mode: i32,
    name: &'a [u8],
    id: Oid,
}

impl RawEntry<'_> {
    fn is_tree(&self) -> bool {
        self.mode == 0o40000
    }
    fn is_blob(&self) -> bool {
        matches!(self.mode, 0o100644 | 0o100755 | 0o120000 | 0o100664)
    }
}

/// The entries of a raw tree object, read one at a time without allocating
/// (libgit2's tree parsing allocated for every entry and was a large share of
/// reading a range).
struct Entries<'a> {
    rest: &'a [u8],
}

impl<'a> Entries<'a> {
    fn corrupt() -> Error {
        Error::Git("a tree object is corrupt".into())
    }

    /// The byte length of the next entry (0 at the end).
    fn next_len(&self) -> Result<usize> {
        if self.rest.is_empty() {
            return Ok(0);
        }
        let nul = self
            .rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(Self::corrupt)?;
        let len = nul + 21;
        if len > self.rest.len() {
            return Err(Self::corrupt());
        }
        Ok(len)
    }

    /// Parse the next entry, if any.
    fn peek(&self) -> Result<Option<RawEntry<'a>>> {
        let len = self.next_len()?;
        if len == 0 {
            return Ok(None);
        }
        let entry = &self.rest[..len];
        let space = entry
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(Self::corrupt)?;
        let mode = entry[..space]
            .iter()
            .try_fold(0i32, |m, b| {
                (b'0'..=b'7')
                    .contains(b)
                    .then(|| m * 8 + i32::from(b - b'0'))
            })
            .ok_or_else(Self::corrupt)?;
        Ok(Some(RawEntry {
            mode,
            name: &entry[space + 1..len - 21],
            id: Oid::from_bytes(&entry[len - 20..]).map_err(|_| Self::corrupt())?,
        }))
    }

    fn advance(&mut self) -> Result<()> {
        let len = self.next_len()?;
        self.rest = &self.rest[len..];
        Ok(())
    }
}

/// Skip the entries two trees share byte for byte (same mode, name and id):
/// in a folder of thousands of manifests a commit changes one or two, and
/// comparing raw bytes is much cheaper than parsing and ordering entries.
fn skip_same(a: &mut Entries<'_>, b: &mut Entries<'_>) -> Result<()> {
    loop {
        let len = a.next_len()?;
        // The first NUL ends the name in both, so equal bytes up to and
        // including the id mean the same entry length on both sides.
        if len == 0 || b.rest.len() < len || a.rest[..len] != b.rest[..len] {
            return Ok(());
        }
        a.rest = &a.rest[len..];
        b.rest = &b.rest[len..];
    }
}

/// git's tree order: a directory sorts as if its name ended with `/`.
fn tree_order(a: &RawEntry<'_>, b: &RawEntry<'_>) -> std::cmp::Ordering {
    let tail = |e: &RawEntry<'_>| if e.is_tree() { b'/' } else { 0 };
    let n = a.name.len().min(b.name.len());
    a.name[..n].cmp(&b.name[..n]).then_with(|| {
        let ca = a.name.get(n).copied().unwrap_or_else(|| tail(a));
        let cb = b.name.get(n).copied().unwrap_or_else(|| tail(b));
        ca.cmp(&cb)
    })
}

fn walk_trees(
    odb: &git2::Odb<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &str,
    out: &mut Vec<(String, Side, Side)>,
) -> Result<()> {
    let read = |id: Option<Oid>| id.map(|id| odb.read(id)).transpose();
    let (old_obj, new_obj) = (read(old)?, read(new)?);
    let mut olds = Entries {
        rest: old_obj.as_ref().map_or(&[], |o| o.data()),
    };
    let mut news = Entries {
        rest: new_obj.as_ref().map_or(&[], |o| o.data()),
    };
    loop {
        skip_same(&mut olds, &mut news)?;
        let (a, b) = (olds.peek()?, news.peek()?);
        let order = match (&a, &b) {
            (None, None) => return Ok(()),
            (Some(a), Some(b)) => tree_order(a, b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        let (o, n) = match order {
            std::cmp::Ordering::Less => {
                olds.advance()?;
                (a, None)
            }
            std::cmp::Ordering::Greater => {
                news.advance()?;
                (None, b)
            }
            std::cmp::Ordering::Equal => {
                olds.advance()?;
                news.advance()?;
                (a, b)
            }
        };
        let (o, n) = (o.as_ref(), n.as_ref());
        if let (Some(a), Some(b)) = (o, n) {
            if a.id == b.id && a.mode == b.mode {
                continue;
            }
        }
        let name = String::from_utf8_lossy(o.or(n).map(|e| e.name).unwrap_or_default());
        let path = format!("{prefix}{name}");
        let tree = |e: Option<&RawEntry<'_>>| e.filter(|e| e.is_tree()).map(|e| e.id);
        if tree(o).is_some() || tree(n).is_some() {
            walk_trees(odb, tree(o), tree(n), &format!("{path}/"), out)?;
        }
        let side = |e: Option<&RawEntry<'_>>| -> Side {
            e.filter(|e| e.is_blob()).map(|e| (e.id, e.mode))
        };
        let (so, sn) = (side(o), side(n));
        if so.is_some() || sn.is_some() {
            out.push((path, so, sn));
        }
    }
}

fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.context_lines(0).ignore_submodules(true);
    opts
}

/// Changes between two commits' trees (either may be absent: the empty tree).
pub fn diff_trees(
    repo: &Repository,
    old: Option<Oid>,
    new: Option<Oid>,
) -> Result<Vec<FileChange>> {
    let tree = |c: Option<Oid>| -> Result<Option<Oid>> {
        c.map(|c| repo.find_commit(c).map(|c| c.tree_id()))
            .transpose()
            .map_err(Error::from)
    };
    tree_changes(repo, tree(old)?, tree(new)?)
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
            let file = if status == "deleted" {
                delta.old_file()
            } else {
                delta.new_file()
            };
            let kind = FileKind::from_mode(u32::from(file.mode())).unwrap_or(FileKind::File);
            files.borrow_mut().push(FileChange {
                kind,
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

/// A file's size and kind, as `Snapshot::stat` finds it.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub size: u64,
    pub symlink: bool,
    blob: Option<Oid>,
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

    /// What a path is here, without reading it; None when it does not exist.
    pub fn stat(&self, repo: &Repository, path: &str) -> Result<Option<Stat>> {
        let entry = |oid: Oid, mode: u32| -> Result<Option<Stat>> {
            let size = repo.odb()?.read_header(oid)?.0 as u64;
            Ok(Some(Stat {
                size,
                symlink: mode == 0o120000,
                blob: Some(oid),
            }))
        };
        match self {
            Snapshot::Commit(oid) => {
                let tree = repo.find_commit(*oid)?.tree()?;
                match tree.get_path(Path::new(path)) {
                    Ok(e) if e.kind() == Some(ObjectType::Blob) => {
                        entry(e.id(), e.filemode() as u32)
                    }
                    _ => Ok(None),
                }
            }
            Snapshot::Index => match repo.index()?.get_path(Path::new(path), 0) {
                Some(e) if e.mode != 0o160000 => entry(e.id, e.mode),
                _ => Ok(None),
            },
            Snapshot::Worktree(root) => Ok(std::fs::symlink_metadata(root.join(path))
                .ok()
                .filter(|m| !m.is_dir())
                .map(|m| Stat {
                    size: m.len(),
                    symlink: m.file_type().is_symlink(),
                    blob: None,
                })),
        }
    }

    /// Read a file found by `stat`.
    pub fn read_stat(&self, repo: &Repository, path: &str, stat: &Stat) -> Result<Vec<u8>> {
        match (stat.blob, self) {
            (Some(oid), _) => Ok(repo.find_blob(oid)?.content().to_vec()),
            (None, Snapshot::Worktree(root)) => {
                let full = root.join(path);
                std::fs::read(&full).map_err(|e| Error::io(full.display(), e))
            }
            (None, _) => Err(Error::io(path, "not found")),
        }
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
