//! What a merge adds beyond its parents (what `git show --remerge-diff`
//! shows): its tree against the tree the parents merged again would have had.
//! Nothing for a clean merge, the resolution for a conflict, the extra lines
//! of an evil merge, and a side's change the merge silently dropped.
//!
//! Two ways to the same answer:
//! - `changes`, the one used: the paths each side changed since the
//!   merge-base, as git's merge-ort finds them. A path only one side changed
//!   takes that side's entry, a file both sides edited in place is merged line
//!   by line, and the merge's own tree is compared with that, path by path,
//!   without ever writing the merged tree. Its cost follows the size of the
//!   three changes, not of the tree.
//! - `merged_tree`, the reference: libgit2 merges the parents into a whole
//!   index (renames found, several merge-bases merged recursively) and
//!   writes its tree. Its cost follows the size of the tree, for every merge:
//!   a history of merges in a large repository spent most of its time there.
//!   `changes` falls back to it wherever the paths alone cannot decide (both
//!   sides added, deleted, renamed or retyped one path, or a folder of it;
//!   several merge-bases; a file over `max_diff_bytes` both sides changed),
//!   and the differential test holds the two to the same answer.
//!
//! The objects a remerge writes (merged files, conflict markers, the merged
//! tree) go to an in-memory object store of a handle of its own, never into
//! the repository.

use super::objects::Objects;
use super::reopen;
use super::tree::{self, Context, EntryType, RawChange};
use crate::error::Result;
use git2::{Oid, Repository};
use std::collections::{BTreeMap, HashMap};

/// A tree entry as the walk reads it: id and raw mode (None: absent, or a
/// folder, which is no path of its own).
type Entry = tree::RawSide;

/// The changed paths between two trees: path -> (old, new).
type Changes = BTreeMap<Vec<u8>, (Entry, Entry)>;

/// A worker's handle for redoing merges: opened on the first merge, with an
/// in-memory object store for what merges write, and kept for the next ones
/// (its caches stay warm; a handle per merge re-read every tree).
#[derive(Default)]
pub struct Merger {
    handle: Option<Repository>,
    /// Bytes of merged files its in-memory store holds.
    written: u64,
}

impl Merger {
    /// The most merged files' bytes a handle keeps in memory: past it, the
    /// handle is dropped and a new one opened, so a history of many
    /// conflicted merges of large files cannot fill the memory.
    const MAX_WRITTEN: u64 = 256 << 20;

    fn handle(&mut self, repo: &Repository) -> Option<&Repository> {
        if self.written > Self::MAX_WRITTEN {
            self.handle = None;
            self.written = 0;
        }
        if self.handle.is_none() {
            let handle = reopen(repo.path()).ok()?;
            handle.odb().ok()?.add_new_mempack_backend(1000).ok()?;
            self.handle = Some(handle);
        }
        self.handle.as_ref()
    }
}

/// A merge's own changes, and the handle whose objects they name.
pub struct Remerged<'m> {
    pub handle: &'m Repository,
    pub raw: Vec<RawChange>,
    /// The merge's two parents and its tree: enough to redo the merge as a
    /// whole tree when renames must be paired by similarity.
    parents: (Oid, Oid),
    tree: Oid,
    max_diff_bytes: u64,
}

impl<'m> Remerged<'m> {
    /// libgit2's tree diff between the merged tree and the merge's, for
    /// pairing renames by similarity; the merged tree is only written here,
    /// when a rename needs it.
    pub fn diff(
        &self,
        opts: &mut git2::DiffOptions,
    ) -> std::result::Result<git2::Diff<'m>, git2::Error> {
        let merged = merged_tree(self.handle, self.parents, self.max_diff_bytes, &mut 0)
            .ok_or_else(|| git2::Error::from_str("the merge cannot be redone"))?;
        let old = self.handle.find_tree(merged)?;
        let new = self.handle.find_tree(self.tree)?;
        self.handle
            .diff_tree_to_tree(Some(&old), Some(&new), Some(opts))
    }
}

/// A two-parent merge's own changes. None (judge against the first parent,
/// which can only count more) for an octopus merge, or when the merge
/// cannot be redone (a missing object). An unreadable tree in the merged
/// tree or the merge's is an error, as it is for any commit.
pub fn changes<'m>(
    repo: &Repository,
    merger: &'m mut Merger,
    commit: &git2::Commit<'_>,
    ctx: Context<'_>,
    max_diff_bytes: u64,
) -> Result<Option<Remerged<'m>>> {
    let Some((ours, theirs)) = two_parents(commit) else {
        return Ok(None);
    };
    if merger.handle(repo).is_none() {
        return Ok(None);
    }
    let written = &mut merger.written;
    let Some(handle) = merger.handle.as_ref() else {
        return Ok(None);
    };
    let parents = (ours, theirs);
    let tree = commit.tree_id();
    let raw = if let Some(raw) = by_paths(handle, parents, tree, ctx, max_diff_bytes, written) {
        raw
    } else {
        let Some(merged) = merged_tree(handle, parents, max_diff_bytes, written) else {
            return Ok(None);
        };
        tree::walk(&Objects::new(handle)?, Some(merged), Some(tree), ctx)?
    };
    Ok(Some(Remerged {
        handle,
        raw,
        parents,
        tree,
        max_diff_bytes,
    }))
}

/// A merge's two parents (None for an octopus merge or a single parent).
pub(super) fn two_parents(commit: &git2::Commit<'_>) -> Option<(Oid, Oid)> {
    match (
        commit.parent_id(0),
        commit.parent_id(1),
        commit.parent_count(),
    ) {
        (Ok(ours), Ok(theirs), 2) => Some((ours, theirs)),
        _ => None,
    }
}

/// The changed paths between two trees, folders' sides left out.
fn changed(
    objects: &Objects<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    ctx: Context<'_>,
) -> Option<Changes> {
    let mut out = Changes::new();
    let file = |e: Entry| e.filter(|(_, mode)| EntryType::of(*mode) != EntryType::Tree);
    tree::walk_with(objects, old, new, ctx, &mut |path, o, n| {
        let (o, n) = (file(o), file(n));
        if o.is_some() || n.is_some() {
            out.insert(path.to_vec(), (o, n));
        }
    })
    .ok()?;
    Some(out)
}

/// Whether `path`, or a folder of it, or a path inside it, was changed.
fn touches(changes: &Changes, path: &[u8]) -> bool {
    if changes.contains_key(path) {
        return true;
    }
    let folders = path
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .map(|(i, _)| &path[..i]);
    for folder in folders {
        if changes.contains_key(folder) {
            return true;
        }
    }
    let mut inside = path.to_vec();
    inside.push(b'/');
    changes
        .range(inside.clone()..)
        .next()
        .is_some_and(|(p, _)| p.starts_with(&inside))
}

/// The executable bit, the only permission git keeps.
fn exec(mode: u32) -> bool {
    mode & 0o100 != 0
}

/// The merge's own changes from the paths the sides changed; None where
/// only a whole remerge can tell (see the module's notes).
pub(super) fn by_paths(
    handle: &Repository,
    (ours, theirs): (Oid, Oid),
    tree: Oid,
    ctx: Context<'_>,
    max_diff_bytes: u64,
    written: &mut u64,
) -> Option<Vec<RawChange>> {
    let base = match handle.merge_bases(ours, theirs) {
        Ok(bases) if bases.len() == 1 => Some(handle.find_commit(bases[0]).ok()?.tree_id()),
        Ok(_) => return None,
        Err(e) if e.code() == git2::ErrorCode::NotFound => None,
        Err(_) => return None,
    };
    let objects = Objects::new(handle).ok()?;
    let tree_of = |id: Oid| handle.find_commit(id).ok().map(|c| c.tree_id());
    let (ours_tree, theirs_tree) = (tree_of(ours)?, tree_of(theirs)?);
    let d1 = changed(&objects, base, Some(ours_tree), ctx)?;
    let d2 = changed(&objects, base, Some(theirs_tree), ctx)?;
    // The merged entry of each path the second side changed: its own where
    // the first did not touch it, the line merge of a file both edited.
    let mut merged: HashMap<&[u8], (Entry, Entry)> = HashMap::with_capacity(d2.len());
    for (path, &(before, after)) in &d2 {
        if !touches(&d1, path) {
            // (the first parent's entry, the merged one)
            merged.insert(path, (before, after));
            continue;
        }
        let &(b1, after1) = d1.get(path.as_slice())?;
        let file = |e: Entry| e.filter(|(_, m)| EntryType::of(*m) == EntryType::File);
        let (Some((b, mb)), Some((o, mo)), Some((t, mt))) =
            (file(before), file(after1), file(after))
        else {
            return None;
        };
        if b1 != before || exec(mb) != exec(mo) || exec(mb) != exec(mt) {
            return None;
        }
        let id = if o == t {
            o
        } else {
            let what = || tree::at(ctx, path);
            for id in [b, o, t] {
                if objects.blob_size(id, &what).ok()? > max_diff_bytes {
                    return None;
                }
            }
            // Through the object reader: a blobless clone fetches what it lacks.
            let content = |id: Oid| objects.blob(id, &what).ok();
            let (b, o, t) = (content(b)?, content(o)?, content(t)?);
            merge_file(
                handle,
                path,
                (b.content(), mb),
                (o.content(), mo),
                (t.content(), mt),
                written,
            )?
            .0
        };
        merged.insert(path, (after1, Some((id, mo))));
    }
    // The merge against its first parent, then each path the second side
    // brought compared with what the merged tree would hold there.
    let against_ours = changed(&objects, Some(ours_tree), Some(tree), ctx)?;
    let mut out: Vec<(&[u8], Entry, Entry)> = Vec::with_capacity(against_ours.len() + merged.len());
    for (path, &(first, own)) in &against_ours {
        match merged.get(path.as_slice()) {
            Some(&(_, remerged)) => out.push((path, remerged, own)),
            None => out.push((path, first, own)),
        }
    }
    for (path, &(first, remerged)) in &merged {
        if !against_ours.contains_key(*path) {
            // The merge kept the first parent's entry here.
            out.push((path, remerged, first));
        }
    }
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut raw = Vec::new();
    for (path, old, new) in out {
        tree::record(&mut raw, path, old, new);
    }
    Some(raw)
}

/// A file merged line by line as git merges it (`git merge-file`), with
/// conflict markers labelled by `path` where both sides changed the same
/// lines, and written to the handle's in-memory store: its id and length.
/// Each side is a content and its raw mode; `written` counts the bytes.
///
/// libgit2's own call, not git2's `merge_file_from_index`: git2 reads the
/// result through a slice from a null pointer when the merge is empty, which
/// is undefined behaviour (a debug build aborts on it).
#[allow(unsafe_code)] // the libgit2 call; see the SAFETY note
fn merge_file(
    handle: &Repository,
    path: &[u8],
    ancestor: (&[u8], u32),
    ours: (&[u8], u32),
    theirs: (&[u8], u32),
    written: &mut u64,
) -> Option<(Oid, usize)> {
    use libgit2_sys as raw;
    let path = std::ffi::CString::new(path).ok()?;
    let input = |(content, mode): (&[u8], u32)| raw::git_merge_file_input {
        // GIT_MERGE_FILE_INPUT_VERSION (libgit2-sys does not export it).
        version: 1,
        // A non-null pointer even for an empty file.
        ptr: if content.is_empty() {
            b"".as_ptr()
        } else {
            content.as_ptr()
        }
        .cast(),
        size: content.len(),
        path: path.as_ptr(),
        mode,
    };
    let (ancestor, ours, theirs) = (input(ancestor), input(ours), input(theirs));
    let mut out = raw::git_merge_file_result {
        automergeable: 0,
        path: std::ptr::null(),
        mode: 0,
        ptr: std::ptr::null(),
        len: 0,
    };
    // SAFETY: the inputs point at slices and a C string that outlive the
    // call; libgit2 fills `out`, which is read only when the call succeeded
    // and its pointer is not null, and freed once.
    unsafe {
        let failed = raw::git_merge_file(
            &raw mut out,
            &raw const ancestor,
            &raw const ours,
            &raw const theirs,
            std::ptr::null(),
        ) < 0;
        let merged: &[u8] = if failed || out.ptr.is_null() || out.len == 0 {
            &[]
        } else {
            std::slice::from_raw_parts(out.ptr.cast::<u8>(), out.len)
        };
        // The merged bytes are written while libgit2 still holds them.
        let id = (!failed).then(|| handle.blob(merged).ok()).flatten();
        let len = merged.len();
        raw::git_merge_file_result_free(&raw mut out);
        *written += len as u64;
        id.map(|id| (id, len))
    }
}

/// The tree a two-parent merge would have had without any hand edit: the
/// parents merged again by libgit2 (recursively over several merge-bases,
/// renames found), a conflicted file written with its conflict markers, as
/// git's remerge-diff does. A conflicted file over `max_diff_bytes` is not
/// merged line by line: its first parent's version stands in for the
/// markers, so its resolution counts in full.
pub(super) fn merged_tree(
    handle: &Repository,
    (ours, theirs): (Oid, Oid),
    max_diff_bytes: u64,
    written: &mut u64,
) -> Option<Oid> {
    let ours = handle.find_commit(ours).ok()?;
    let theirs = handle.find_commit(theirs).ok()?;
    let mut index = handle.merge_commits(&ours, &theirs, None).ok()?;
    if index.has_conflicts() {
        let conflicts: Vec<git2::IndexConflict> = index
            .conflicts()
            .ok()?
            .collect::<std::result::Result<_, _>>()
            .ok()?;
        let empty = handle.blob(b"").ok()?;
        for c in conflicts {
            let Some(side) = c.our.as_ref().or(c.their.as_ref()) else {
                continue;
            };
            let path = crate::repo_path::bytes_to_path(&side.path).to_path_buf();
            let is_file = |e: &git2::IndexEntry| e.mode & 0o170000 == 0o100000;
            let small = |e: &git2::IndexEntry| u64::from(e.file_size) <= max_diff_bytes;
            let mut entry = copy(side);
            if let (Some(our), Some(their)) = (&c.our, &c.their) {
                if is_file(our) && is_file(their) && small(our) && small(their) {
                    let ancestor = c.ancestor.as_ref().map_or_else(
                        || {
                            let mut a = copy(our);
                            a.id = empty;
                            a.file_size = 0;
                            a
                        },
                        copy,
                    );
                    let content = |e: &git2::IndexEntry| handle.find_blob(e.id).ok();
                    let (a, o, t) = (content(&ancestor)?, content(our)?, content(their)?);
                    let (id, len) = merge_file(
                        handle,
                        &our.path,
                        (a.content(), ancestor.mode),
                        (o.content(), our.mode),
                        (t.content(), their.mode),
                        written,
                    )?;
                    entry.id = id;
                    // The index keeps sizes in 32 bits, as git does: larger ones saturate
                    // (the size is only a hint for the stat check).
                    entry.file_size = u32::try_from(len).unwrap_or(u32::MAX);
                }
            }
            // Stage 0: the entry that resolves the conflict.
            entry.flags &= !0x3000;
            index.conflict_remove(&path).ok()?;
            index.add(&entry).ok()?;
        }
    }
    index.write_tree_to(handle).ok()
}

/// An index entry, field by field (git2's type is not Clone).
fn copy(e: &git2::IndexEntry) -> git2::IndexEntry {
    git2::IndexEntry {
        ctime: e.ctime,
        mtime: e.mtime,
        dev: e.dev,
        ino: e.ino,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        file_size: e.file_size,
        id: e.id,
        flags: e.flags,
        flags_extended: e.flags_extended,
        path: e.path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_past_its_budget_of_merged_bytes_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut merger = Merger::default();
        let first: *const Repository = merger.handle(&repo).unwrap();
        let again: *const Repository = merger.handle(&repo).unwrap();
        assert!(std::ptr::eq(first, again), "kept while under the budget");
        merger.written = Merger::MAX_WRITTEN + 1;
        let id = merger.handle(&repo).unwrap().blob(b"x").unwrap();
        assert_eq!(merger.written, 0, "a new handle starts empty");
        // The old handle's in-memory objects went with it.
        merger.written = Merger::MAX_WRITTEN + 1;
        assert!(merger.handle(&repo).unwrap().find_blob(id).is_err());
    }
}
