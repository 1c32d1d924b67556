//! Files as they are at one point: a commit's tree, the index, or the working
//! tree, through one `Snapshot` type. Paths are escaped strings
//! (`crate::repo_path`); every read turns them back into the exact bytes, and
//! every entry is classified by its mode's type bits, as the diff does.

use super::objects::Objects;
use super::short;
use super::tree::{self, EntryType, MAX_TREE_DEPTH};
use crate::error::{Error, Result};
use crate::repo_path;
use git2::{Oid, Repository};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub enum Snapshot {
    Commit(Oid),
    /// The index, as the tree git's cache says it holds (`index::cached_tree`).
    Staged(Oid),
    /// The index, entry by entry.
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
    /// A submodule: its files are another repository's. Listed only by
    /// `list_with_submodules`.
    Gitlink,
}

impl EntryKind {
    /// Folders hold no file of their own.
    fn of(t: EntryType) -> Option<EntryKind> {
        match t {
            EntryType::File => Some(EntryKind::File),
            EntryType::Symlink => Some(EntryKind::Symlink),
            EntryType::Gitlink => Some(EntryKind::Gitlink),
            EntryType::Tree => None,
        }
    }
}

impl Snapshot {
    pub fn describe(&self) -> String {
        match self {
            Snapshot::Commit(oid) => short(*oid),
            Snapshot::Index | Snapshot::Staged(_) => "the index".into(),
            Snapshot::Worktree(_) => "the working tree".into(),
        }
    }

    fn context(&self) -> String {
        match self {
            Snapshot::Commit(oid) => format!("commit {}", short(*oid)),
            other => other.describe(),
        }
    }

    /// The root tree of a commit, or of the index as git's cache has it.
    fn tree<'r>(&self, repo: &'r Repository) -> Result<git2::Tree<'r>> {
        match self {
            Snapshot::Commit(oid) => repo.find_commit(*oid).and_then(|c| c.tree()),
            Snapshot::Staged(tree) => repo.find_tree(*tree),
            Snapshot::Index | Snapshot::Worktree(_) => {
                unreachable!("only a commit or the index's tree has one")
            }
        }
        .map_err(|e| Error::Git(format!("{}: {}", self.context(), e.message())))
    }

    /// Every file below `dir` ("" for the whole tree), without `.git/`, in
    /// path order. Gitlinks are no files here (the diff lists them).
    pub fn list(&self, repo: &Repository, dir: &str) -> Result<Vec<Entry>> {
        let mut entries = self.list_with_submodules(repo, dir)?;
        entries.retain(|e| e.kind != EntryKind::Gitlink);
        Ok(entries)
    }

    /// `list`, with the submodules below `dir` (or `dir` itself): a gitlink
    /// in a commit or the index, a folder holding `.git` in the working tree
    /// (not entered).
    pub fn list_with_submodules(&self, repo: &Repository, dir: &str) -> Result<Vec<Entry>> {
        let dir = dir.trim_matches('/');
        let dir_bytes = repo_path::unescape(dir);
        let mut out = Vec::new();
        match self {
            Snapshot::Commit(_) | Snapshot::Staged(_) => {
                let root = self.tree(repo)?;
                let (start, prefix) = if dir.is_empty() {
                    (root.id(), Vec::new())
                } else {
                    match root.get_path(&repo_path::bytes_to_path(&dir_bytes)) {
                        Ok(e) => match EntryType::of(e.filemode_raw().cast_unsigned()) {
                            EntryType::Tree => {
                                let mut prefix = dir_bytes.to_vec();
                                prefix.push(b'/');
                                (e.id(), prefix)
                            }
                            EntryType::Gitlink => {
                                out.push(Entry {
                                    path: dir.to_string(),
                                    kind: EntryKind::Gitlink,
                                });
                                return Ok(out);
                            }
                            _ => return Ok(out),
                        },
                        Err(_) => return Ok(out),
                    }
                };
                let objects = Objects::new(repo)?;
                let ctx = || self.context();
                for change in tree::list(&objects, start, &ctx)? {
                    let Some((_, t)) = change.new else { continue };
                    let Some(kind) = EntryKind::of(t) else {
                        continue;
                    };
                    let mut path = prefix.clone();
                    path.extend_from_slice(&change.path);
                    out.push(Entry {
                        path: repo_path::escape(&path).into_owned(),
                        kind,
                    });
                }
            }
            Snapshot::Index => {
                let index = repo.index()?;
                let under = |p: &[u8]| {
                    dir_bytes.is_empty()
                        || p == &dir_bytes[..]
                        || (p.starts_with(&dir_bytes) && p.get(dir_bytes.len()) == Some(&b'/'))
                };
                for e in index.iter() {
                    let Some(kind) = EntryKind::of(EntryType::of(e.mode)) else {
                        continue;
                    };
                    if under(&e.path) {
                        out.push(Entry {
                            path: repo_path::escape(&e.path).into_owned(),
                            kind,
                        });
                    }
                }
            }
            Snapshot::Worktree(root) => {
                let start = if dir.is_empty() {
                    root.clone()
                } else {
                    root.join(repo_path::to_path(dir))
                };
                if !start.exists() {
                    return Ok(out);
                }
                let submodule = |e: &walkdir::DirEntry| {
                    e.file_type().is_dir() && e.path().join(".git").exists()
                };
                let mut walker = walkdir::WalkDir::new(&start)
                    .follow_links(false)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| e.file_name() != ".git");
                while let Some(e) = walker.next() {
                    let e = e.map_err(|e| Error::io(start.display(), e))?;
                    if e.depth() > MAX_TREE_DEPTH {
                        return Err(Error::io(
                            e.path().display(),
                            format!("more than {MAX_TREE_DEPTH} folders deep: not read"),
                        ));
                    }
                    let ft = e.file_type();
                    // The folder the worktree itself is in holds `.git` too.
                    if ft.is_dir() && !(e.depth() == 0 && dir.is_empty()) && submodule(&e) {
                        walker.skip_current_dir();
                        if let Ok(rel) = e.path().strip_prefix(root) {
                            out.push(Entry {
                                path: repo_path::from_path(rel),
                                kind: EntryKind::Gitlink,
                            });
                        }
                        continue;
                    }
                    if ft.is_dir() {
                        continue;
                    }
                    let Ok(rel) = e.path().strip_prefix(root) else {
                        continue;
                    };
                    let kind = if ft.is_symlink() {
                        EntryKind::Symlink
                    } else {
                        EntryKind::File
                    };
                    out.push(Entry {
                        path: repo_path::from_path(rel),
                        kind,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The blob and the mode at `path` of a commit or the index, if a file
    /// or a link is there.
    fn entry(&self, repo: &Repository, path: &str) -> Result<Option<(Oid, EntryKind)>> {
        let bytes = repo_path::unescape(path);
        let fs_path = repo_path::bytes_to_path(&bytes);
        let found = match self {
            Snapshot::Commit(_) | Snapshot::Staged(_) => self
                .tree(repo)?
                .get_path(&fs_path)
                .ok()
                .map(|e| (e.id(), e.filemode_raw().cast_unsigned())),
            Snapshot::Index => repo.index()?.get_path(&fs_path, 0).map(|e| (e.id, e.mode)),
            Snapshot::Worktree(_) => None,
        };
        // A submodule is no file here.
        Ok(found.and_then(|(id, mode)| {
            EntryKind::of(EntryType::of(mode))
                .filter(|k| *k != EntryKind::Gitlink)
                .map(|k| (id, k))
        }))
    }

    fn what<'a>(&'a self, path: &'a str) -> impl Fn() -> String + 'a {
        move || format!("{}, path {path}", self.context())
    }

    /// What a path is here, without reading it; None when it does not exist
    /// (or is a folder or a gitlink).
    pub fn stat(&self, repo: &Repository, path: &str) -> Result<Option<Stat>> {
        if let Snapshot::Worktree(root) = self {
            return Ok(
                std::fs::symlink_metadata(root.join(repo_path::to_path(path)))
                    .ok()
                    .filter(|m| !m.is_dir())
                    .map(|m| Stat {
                        size: m.len(),
                        symlink: m.file_type().is_symlink(),
                        blob: None,
                    }),
            );
        }
        let Some((oid, kind)) = self.entry(repo, path)? else {
            return Ok(None);
        };
        let size = Objects::new(repo)?.blob_size(oid, &self.what(path))?;
        Ok(Some(Stat {
            size,
            symlink: kind == EntryKind::Symlink,
            blob: Some(oid),
        }))
    }

    /// Read a file found by `stat`.
    pub fn read_stat(&self, repo: &Repository, path: &str, stat: &Stat) -> Result<Vec<u8>> {
        match (stat.blob, self) {
            (Some(oid), _) => Ok(Objects::new(repo)?
                .blob(oid, &self.what(path))?
                .content()
                .to_vec()),
            (None, Snapshot::Worktree(root)) => {
                let full = root.join(repo_path::to_path(path));
                std::fs::read(&full).map_err(|e| Error::io(path, e))
            }
            (None, _) => Err(Error::io(path, "not found")),
        }
    }

    /// The size of a file, without reading it; None when it does not exist.
    pub fn size(&self, repo: &Repository, path: &str) -> Result<Option<u64>> {
        Ok(self.stat(repo, path)?.map(|s| s.size))
    }

    /// Read a file; None when it does not exist. A link is never followed.
    pub fn read(&self, repo: &Repository, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Snapshot::Worktree(root) => {
                let full = root.join(repo_path::to_path(path));
                match std::fs::symlink_metadata(&full) {
                    Ok(m) if m.file_type().is_symlink() => Err(Error::io(
                        path,
                        "is a symbolic link; govops does not follow links",
                    )),
                    Ok(_) => std::fs::read(&full)
                        .map(Some)
                        .map_err(|e| Error::io(path, e)),
                    Err(_) => Ok(None),
                }
            }
            _ => match self.entry(repo, path)? {
                Some((oid, _)) => Ok(Some(
                    Objects::new(repo)?
                        .blob(oid, &self.what(path))?
                        .content()
                        .to_vec(),
                )),
                None => Ok(None),
            },
        }
    }
}
