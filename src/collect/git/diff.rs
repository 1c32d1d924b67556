//! Changes and their line counts: between two trees (a commit, the range) and
//! between HEAD and the index (the staged change). Paths, modes and renames
//! are found the same way on both: entries classified as `tree` does, type
//! changes split into a deletion and an addition, renames paired by id and
//! then by libgit2's similarity. Blobs over `limits.max_diff_bytes` are
//! counted as changed but never read, so a huge file costs a header read.

use super::objects::Objects;
use super::tree::{self, Context, EntryType, RawChange, Side};
use crate::error::{Error, Result};
use crate::input::{FileChange, FileKind, FileStatus};
use crate::repo_path;
use git2::{DiffFindOptions, DiffOptions, Oid, Repository};
use std::collections::HashMap;
use std::path::Path;

/// A raw change, and the path it was renamed from.
struct Paired {
    change: RawChange,
    from: Option<Vec<u8>>,
}

/// Changes between two trees (either may be absent: the empty tree).
pub fn tree_changes(
    objects: &Objects<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    ctx: Context<'_>,
    max_diff_bytes: u64,
) -> Result<Vec<FileChange>> {
    let raw = tree::walk(objects, old, new, ctx)?;
    let repo = objects.repo();
    changes(objects, raw, ctx, max_diff_bytes, |opts| {
        let old_tree = old.map(|t| repo.find_tree(t)).transpose()?;
        let new_tree = new.map(|t| repo.find_tree(t)).transpose()?;
        repo.diff_tree_to_tree(old_tree.as_ref(), new_tree.as_ref(), Some(opts))
    })
}

/// Changes from raw ones: renames paired, lines counted. `diff` gives
/// libgit2's diff of the same two trees, limited to some paths, for pairing
/// renames by similarity (called only when such a pairing is left to do).
pub fn changes<'r>(
    objects: &Objects<'r>,
    raw: Vec<RawChange>,
    ctx: Context<'_>,
    max_diff_bytes: u64,
    diff: impl FnOnce(&mut DiffOptions) -> std::result::Result<git2::Diff<'r>, git2::Error>,
) -> Result<Vec<FileChange>> {
    let paired = pair_renames(objects, raw, ctx, max_diff_bytes, diff)?;
    counted(objects, paired, ctx, max_diff_bytes)
}

/// The staged change, and the tree the index holds when git's cache of
/// trees says which (`index::cached_tree`): the files are then read from it.
pub struct Staged {
    pub files: Vec<FileChange>,
    pub tree: Option<Oid>,
}

/// The staged changes: the index against HEAD (or the empty tree when HEAD
/// has no commit yet).
pub fn staged(repo: &Repository, max_diff_bytes: u64) -> Result<Staged> {
    let objects = Objects::new(repo)?;
    let ctx: Context<'_> = &|| "the index".to_string();
    if let Some(tree) = super::index::cached_tree(repo) {
        let head = head_tree(repo)?;
        // Any trouble reading that tree (a cache naming an object that is
        // not there) is left to libgit2's diff of the index itself.
        if let Ok(files) = tree_changes(&objects, head, Some(tree), ctx, max_diff_bytes) {
            return Ok(Staged {
                files,
                tree: Some(tree),
            });
        }
    }
    super::index::use_hooks_index(repo)?;
    Ok(Staged {
        files: staged_index(repo, &objects, max_diff_bytes)?,
        tree: None,
    })
}

/// HEAD's tree, or `None` when HEAD has no commit yet.
fn head_tree(repo: &Repository) -> Result<Option<Oid>> {
    match repo.head() {
        Ok(h) => Ok(Some(
            h.peel_to_tree()
                .map_err(|e| Error::Git(format!("HEAD: cannot read its tree: {}", e.message())))?
                .id(),
        )),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(Error::Git(format!("HEAD: {}", e.message()))),
    }
}

/// The index against HEAD, by libgit2's diff of the index itself.
pub fn staged_index(
    repo: &Repository,
    objects: &Objects<'_>,
    max_diff_bytes: u64,
) -> Result<Vec<FileChange>> {
    let ctx: Context<'_> = &|| "the index".to_string();
    let head = head_tree(repo)?.map(|t| repo.find_tree(t)).transpose()?;
    let index = repo.index()?;
    let mut opts = DiffOptions::new();
    opts.ignore_submodules(false).include_typechange(false);
    let diff = repo.diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut opts))?;
    let mut raw = Vec::with_capacity(diff.deltas().len());
    for delta in diff.deltas() {
        // The sides as git reads them: HEAD's tree entry by its raw mode, the
        // index entry by its mode (libgit2's own mode accessor panics on a
        // mode it does not know).
        let old = match (delta.old_file().path_bytes(), &head) {
            (Some(p), Some(tree)) if delta.old_file().id() != Oid::zero() => tree
                .get_path(&repo_path::bytes_to_path(p))
                .ok()
                .map(|e| (e.id(), e.filemode_raw().cast_unsigned())),
            _ => None,
        };
        let new = match delta.new_file().path_bytes() {
            Some(p) if delta.new_file().id() != Oid::zero() => index
                .get_path(&repo_path::bytes_to_path(p), 0)
                .map(|e| (e.id, e.mode)),
            _ => None,
        };
        let path = delta
            .new_file()
            .path_bytes()
            .or(delta.old_file().path_bytes())
            .unwrap_or_default()
            .to_vec();
        tree::record(&mut raw, &path, old, new);
    }
    drop(diff);
    let paired = pair_renames(objects, raw, ctx, max_diff_bytes, |opts| {
        repo.diff_tree_to_index(head.as_ref(), Some(&index), Some(opts))
    })?;
    counted(objects, paired, ctx, max_diff_bytes)
}

/// Pair deleted and added files into renames: the same blob first (cheap,
/// any size), then libgit2's similarity among files small enough to read,
/// restricted to those paths. A failure to pair leaves a deletion and an
/// addition, which is what was found anyway: nothing is hidden by it.
fn pair_renames<'r>(
    objects: &Objects<'r>,
    raw: Vec<RawChange>,
    ctx: Context<'_>,
    max_diff_bytes: u64,
    diff: impl FnOnce(&mut DiffOptions) -> std::result::Result<git2::Diff<'r>, git2::Error>,
) -> Result<Vec<Paired>> {
    let is_file = |s: &Side| matches!(s, Some((_, EntryType::File)));
    let deleted: Vec<usize> = (0..raw.len())
        .filter(|i| is_file(&raw[*i].old) && raw[*i].new.is_none())
        .collect();
    let added: Vec<usize> = (0..raw.len())
        .filter(|i| raw[*i].old.is_none() && is_file(&raw[*i].new))
        .collect();
    let mut from: HashMap<usize, usize> = HashMap::new();
    if !deleted.is_empty() && !added.is_empty() {
        let mut by_id: HashMap<Oid, Vec<usize>> = HashMap::new();
        for d in deleted.iter().rev() {
            if let Some((id, _)) = raw[*d].old {
                by_id.entry(id).or_default().push(*d);
            }
        }
        for a in &added {
            let id = raw[*a].new.map(|s| s.0).unwrap_or_else(Oid::zero);
            if let Some(d) = by_id.get_mut(&id).and_then(Vec::pop) {
                from.insert(*a, d);
            }
        }
        let taken: std::collections::HashSet<usize> = from.values().copied().collect();
        let small = |i: usize, side: Side| -> Result<bool> {
            let Some((id, _)) = side else {
                return Ok(false);
            };
            let what = || tree::at(ctx, &raw[i].path);
            Ok(objects.blob_size(id, &what)? <= max_diff_bytes)
        };
        let mut left_deleted = Vec::new();
        for d in deleted.iter().filter(|d| !taken.contains(d)) {
            if small(*d, raw[*d].old)? {
                left_deleted.push(*d);
            }
        }
        let mut left_added = Vec::new();
        for a in added.iter().filter(|a| !from.contains_key(a)) {
            if small(*a, raw[*a].new)? {
                left_added.push(*a);
            }
        }
        if !left_deleted.is_empty() && !left_added.is_empty() {
            let mut opts = DiffOptions::new();
            opts.ignore_submodules(false).disable_pathspec_match(true);
            for i in left_deleted.iter().chain(&left_added) {
                opts.pathspec(raw[*i].path.as_slice());
            }
            let index_of: HashMap<(&[u8], bool), usize> = left_deleted
                .iter()
                .map(|i| ((raw[*i].path.as_slice(), false), *i))
                .chain(
                    left_added
                        .iter()
                        .map(|i| ((raw[*i].path.as_slice(), true), *i)),
                )
                .collect();
            if let Ok(pairs) = similar(diff, &mut opts) {
                for (old, new) in pairs {
                    let (Some(d), Some(a)) = (
                        index_of.get(&(old.as_slice(), false)),
                        index_of.get(&(new.as_slice(), true)),
                    ) else {
                        continue;
                    };
                    if !from.contains_key(a) && !from.values().any(|v| v == d) {
                        from.insert(*a, *d);
                    }
                }
            }
        }
    }
    let gone: std::collections::HashSet<usize> = from.values().copied().collect();
    let mut slots: Vec<Option<RawChange>> = raw.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(slots.len());
    for i in 0..slots.len() {
        if gone.contains(&i) {
            continue;
        }
        let Some(mut change) = slots[i].take() else {
            continue;
        };
        let renamed = from.get(&i).and_then(|d| slots[*d].take());
        let from = renamed.map(|old| {
            change.old = old.old;
            old.path
        });
        out.push(Paired { change, from });
    }
    Ok(out)
}

/// A rename's old and new path.
type RenamePair = (Vec<u8>, Vec<u8>);

/// The renames libgit2 finds in a diff limited to some paths.
fn similar<'r>(
    diff: impl FnOnce(&mut DiffOptions) -> std::result::Result<git2::Diff<'r>, git2::Error>,
    opts: &mut DiffOptions,
) -> std::result::Result<Vec<RenamePair>, git2::Error> {
    let mut diff = diff(opts)?;
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))?;
    Ok(diff
        .deltas()
        .filter(|d| d.status() == git2::Delta::Renamed)
        .filter_map(|d| {
            Some((
                d.old_file().path_bytes()?.to_vec(),
                d.new_file().path_bytes()?.to_vec(),
            ))
        })
        .collect())
}

/// Count the lines of each change, reading no blob over the limit.
fn counted(
    objects: &Objects<'_>,
    paired: Vec<Paired>,
    ctx: Context<'_>,
    max_diff_bytes: u64,
) -> Result<Vec<FileChange>> {
    // A partial clone fetches what is missing in one run of git.
    objects.prefetch(paired.iter().flat_map(|p| {
        [p.change.old, p.change.new]
            .into_iter()
            .flatten()
            .filter(|(_, t)| t.is_blob())
            .map(|(id, _)| id)
    }));
    let mut opts = DiffOptions::new();
    // Text: `count` has told binary files apart already.
    opts.context_lines(0).force_text(true);
    paired
        .into_iter()
        .map(|p| count(objects, p, ctx, max_diff_bytes, &mut opts))
        .collect()
}

fn count(
    objects: &Objects<'_>,
    p: Paired,
    ctx: Context<'_>,
    max_diff_bytes: u64,
    opts: &mut DiffOptions,
) -> Result<FileChange> {
    let RawChange { path, old, new } = p.change;
    let what = || tree::at(ctx, &path);
    let blob_side = |side: Side| side.filter(|(_, t)| t.is_blob()).map(|(id, _)| id);
    let (ob, nb) = (blob_side(old), blob_side(new));
    let mut too_big = false;
    for id in [ob, nb].into_iter().flatten() {
        too_big |= objects.blob_size(id, &what)? > max_diff_bytes;
    }
    let (mut additions, mut deletions, mut binary) = (0, 0, false);
    let mut first_line = new.map(|_| 1u32);
    if !too_big {
        let load = |id: Option<Oid>| id.map(|id| objects.blob(id, &what)).transpose();
        let (before, after) = (load(ob)?, load(nb)?);
        binary = [&before, &after]
            .into_iter()
            .flatten()
            .any(|b| is_binary(b.content()));
        if !binary {
            (additions, deletions) = match (&before, &after) {
                (Some(b), Some(a)) if b.id() == a.id() => (0, 0),
                // An empty path, not none: without a path libgit2 names the
                // blobs "file" and looks up .gitattributes for that name on
                // every diff (15% of a full check); an empty path skips the
                // diff-driver lookup, which line counts do not use.
                (Some(b), Some(a)) => {
                    let no_path = Some(Path::new(""));
                    let patch = git2::Patch::from_blobs(b, no_path, a, no_path, Some(opts))
                        .map_err(|e| Error::Git(format!("{}: {}", what(), e.message())))?;
                    let (_, adds, dels) = patch.line_stats()?;
                    // A hunk that only deletes starts at the line before the
                    // gap (0 at the top of the file).
                    if patch.num_hunks() > 0 {
                        let (hunk, _) = patch.hunk(0)?;
                        first_line = Some(hunk.new_start().max(1));
                    }
                    (adds, dels)
                }
                (None, Some(a)) => (line_count(a.content()), 0),
                (Some(b), None) => (0, line_count(b.content())),
                (None, None) => (0, 0),
            };
        }
    }
    let kind = new
        .or(old)
        .and_then(|(_, t)| t.file_kind())
        .unwrap_or(FileKind::File);
    Ok(FileChange {
        path: repo_path::escape(&path).into_owned(),
        old_path: p.from.as_deref().map(|f| repo_path::escape(f).into_owned()),
        status: match (old, new, &p.from) {
            (_, _, Some(_)) => FileStatus::Renamed,
            (None, _, _) => FileStatus::Added,
            (_, None, _) => FileStatus::Deleted,
            _ => FileStatus::Modified,
        },
        kind,
        additions: additions as u64,
        deletions: deletions as u64,
        binary,
        lines_counted: !too_big,
        first_line,
        ai_lines: None,
    })
}

/// Whether git diffs a file's content as binary: a NUL byte among its first
/// 8,000 (`buffer_is_binary` in git). `git diff --numstat` then prints no
/// line counts; libgit2's own test (which also weighs control characters)
/// scanned each blob three times and was a thirtieth of reading a range.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0)
}

/// Lines as `git diff --numstat` counts them: a last line without a newline
/// counts too.
fn line_count(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|b| **b == b'\n').count();
    newlines + usize::from(bytes.last().is_some_and(|b| *b != b'\n'))
}
