//! The index a commit is about to record, read the way git's hooks see it.
//!
//! `git commit` (with `-a`, with paths, or plain) brings the index's cache of
//! trees up to date before it runs the `pre-commit` and `commit-msg` hooks,
//! and names the index it will commit in `GIT_INDEX_FILE`. The cache's root
//! then is the very tree the commit records: comparing it with HEAD's tree
//! skips every folder both share, where libgit2's diff of HEAD against the
//! index reads every tree of HEAD and hashes and parses the whole index
//! first (most of a hook's time in a repository of a few thousand files).
//!
//! Only the file's header and extensions are read here, never trusted beyond
//! what git itself trusts: anything unusual (a split or sparse index, an
//! unknown version, a cache that does not cover every entry, a truncated
//! file) answers "no tree", and the caller diffs the index with libgit2.

use git2::{Oid, Repository};
use std::path::{Path, PathBuf};

/// The index file git's hooks are given: `GIT_INDEX_FILE` (a temporary
/// index for `git commit -a` and `git commit PATH`, which libgit2 ignores),
/// else the repository's own.
pub fn path(repo: &Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE").filter(|f| !f.is_empty()) {
        Some(file) => PathBuf::from(file),
        None => repo.path().join("index"),
    }
}

/// Make `repo.index()` the index of `path`: libgit2 reads `.git/index`
/// whatever `GIT_INDEX_FILE` says, and reading it instead would judge a
/// commit without the files it is about to record.
pub fn use_hooks_index(repo: &Repository) -> crate::error::Result<()> {
    if std::env::var_os("GIT_INDEX_FILE").is_none_or(|f| f.is_empty()) {
        return Ok(());
    }
    let file = path(repo);
    let mut index = git2::Index::open(&file).map_err(|e| {
        crate::error::Error::Git(format!(
            "GIT_INDEX_FILE {}: cannot read the index: {}",
            file.display(),
            e.message()
        ))
    })?;
    repo.set_index(&mut index)?;
    Ok(())
}

/// The tree the index holds, when its cache of trees covers all of it (as
/// it does while git runs a commit's hooks); `None` otherwise.
pub fn cached_tree(repo: &Repository) -> Option<Oid> {
    cached_tree_of(&path(repo))
}

fn cached_tree_of(file: &Path) -> Option<Oid> {
    let bytes = std::fs::read(file).ok()?;
    root_of(&bytes)
}

/// Signatures of the extensions that change what the entries mean: a split
/// index keeps its entries in another file, a sparse one folds folders.
const DECLINED: [&[u8; 4]; 2] = [b"link", b"sdir"];

/// The root of the `TREE` extension of an index file's bytes, if valid and
/// covering every entry.
fn root_of(bytes: &[u8]) -> Option<Oid> {
    const HASH: usize = 20;
    let mut at = Reader { bytes, pos: 0 };
    if at.take(4)? != b"DIRC" {
        return None;
    }
    let version = at.u32()?;
    let entries = at.u32()?;
    for _ in 0..entries {
        at.skip_entry(version)?;
    }
    // Extensions until the trailing checksum.
    let end = bytes.len().checked_sub(HASH)?;
    let mut root = None;
    while at.pos + 8 <= end {
        let signature: [u8; 4] = at.take(4)?.try_into().ok()?;
        let size = usize::try_from(at.u32()?).ok()?;
        let data = at.take(size)?;
        if DECLINED.contains(&&signature) {
            return None;
        }
        if &signature == b"TREE" {
            root = tree_root(data, entries);
        }
    }
    if at.pos != end {
        return None;
    }
    root
}

/// The root node of a `TREE` extension: `"" NUL <entries> SP <subtrees> LF`
/// then the tree's id when `<entries>` is not -1 (invalidated).
fn tree_root(data: &[u8], entries: u32) -> Option<Oid> {
    let nul = data.iter().position(|b| *b == 0)?;
    if nul != 0 {
        return None;
    }
    let rest = &data[1..];
    let lf = rest.iter().position(|b| *b == b'\n')?;
    let counts = std::str::from_utf8(&rest[..lf]).ok()?;
    let (covered, _subtrees) = counts.split_once(' ')?;
    // A root that covers fewer entries than the index has is not the tree
    // git would write: git recomputes it, and so must we (by the diff).
    if covered.parse::<i64>().ok()? != i64::from(entries) {
        return None;
    }
    Oid::from_bytes(rest.get(lf + 1..lf + 21)?).ok()
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    /// One index entry: 40 bytes of stat data, the object id, 16 bits of
    /// flags (and 16 more when extended, from version 3), then the path,
    /// NUL-padded to a multiple of 8 bytes before version 4, prefix
    /// compressed and NUL-terminated from it.
    fn skip_entry(&mut self, version: u32) -> Option<()> {
        let start = self.pos;
        self.take(40 + 20)?;
        let flags = u16::from_be_bytes(self.take(2)?.try_into().ok()?);
        // A conflict (stage 1-3) leaves the cache invalid anyway.
        if flags & 0x3000 != 0 {
            return None;
        }
        if flags & 0x4000 != 0 {
            if version < 3 {
                return None;
            }
            self.take(2)?;
        }
        match version {
            2 | 3 => {
                let nul = self.bytes.get(self.pos..)?.iter().position(|b| *b == 0)?;
                let len = self.pos - start + nul;
                // 1 to 8 NULs pad the entry to a multiple of 8 bytes.
                let padded = (len + 8) & !7;
                self.pos = start;
                self.take(padded)?;
            }
            4 => {
                // The number of bytes to drop from the previous path, as
                // git's offset varint: continuation bit first.
                loop {
                    let b = *self.take(1)?.first()?;
                    if b & 0x80 == 0 {
                        break;
                    }
                }
                let nul = self.bytes.get(self.pos..)?.iter().position(|b| *b == 0)?;
                self.take(nul + 1)?;
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = git_output(dir, args);
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    fn git_output(dir: &Path, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_COMMITTER_NAME", "a")
            .env("GIT_COMMITTER_EMAIL", "a@example.com")
            .output()
            .unwrap()
    }

    fn write_tree(dir: &Path) -> Oid {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["write-tree"])
            .output()
            .unwrap();
        Oid::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap()
    }

    /// A repository with nested folders, committed, and a change staged.
    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        git(p, &["init", "-q", "-b", "main"]);
        for (f, t) in [
            ("a/b/c.yaml", "c: 1\n"),
            ("a/d.txt", "d\n"),
            ("z", "z\n"),
            ("long/".repeat(20).as_str(), ""),
        ] {
            if f.ends_with('/') {
                let path = p.join(f).join("deep name with spaces.txt");
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, "deep\n").unwrap();
                continue;
            }
            std::fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            std::fs::write(p.join(f), t).unwrap();
        }
        git(p, &["add", "-A"]);
        git(p, &["commit", "-qm", "base"]);
        std::fs::write(p.join("a/b/c.yaml"), "c: 2\n").unwrap();
        git(p, &["add", "-A"]);
        dir
    }

    #[test]
    fn the_cache_is_the_tree_git_writes_in_every_index_version() {
        for version in ["2", "3", "4"] {
            let dir = repo();
            let p = dir.path();
            git(p, &["update-index", "--index-version", version]);
            // `git add` invalidated the changed file's folders.
            assert_eq!(cached_tree_of(&p.join(".git/index")), None, "v{version}");
            let tree = write_tree(p);
            assert_eq!(
                cached_tree_of(&p.join(".git/index")),
                Some(tree),
                "v{version}"
            );
        }
    }

    #[test]
    fn an_extended_entry_is_read_past() {
        let dir = repo();
        let p = dir.path();
        // Skip-worktree: an extended flag, version 3.
        git(p, &["update-index", "--skip-worktree", "a/d.txt"]);
        let tree = write_tree(p);
        assert_eq!(cached_tree_of(&p.join(".git/index")), Some(tree));
        // An entry added with intent only is in no tree: git leaves the
        // cache's root invalid, and so the index is diffed entry by entry.
        std::fs::write(p.join("a/new.txt"), "n\n").unwrap();
        git(p, &["add", "-N", "a/new.txt"]);
        write_tree(p);
        assert_eq!(cached_tree_of(&p.join(".git/index")), None);
    }

    /// The staged change read from the cache's tree is the one libgit2's
    /// diff of the index gives, for every kind of change at once: edits,
    /// additions, deletions, renames (exact and similar), modes, links,
    /// gitlinks, file/folder swaps, binary, empty and non-UTF-8 names; and
    /// with no commit yet.
    #[test]
    fn the_staged_change_is_the_same_read_either_way() {
        let dir = repo();
        let p = dir.path();
        let write = |f: &str, t: &[u8]| {
            std::fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            std::fs::write(p.join(f), t).unwrap();
        };
        write("a/added.yaml", b"x: 1\n");
        write("bin.dat", &[0, 159, 146, 150, 0, 1]);
        write("empty", b"");
        write("moved/d.txt", b"d\n");
        std::fs::remove_file(p.join("a/d.txt")).unwrap();
        std::fs::remove_file(p.join("z")).unwrap();
        write("z/inside", b"z was a file\n");
        std::os::unix::fs::symlink("../z/inside", p.join("a/link")).unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"caf\xe9 name");
        std::fs::write(p.join(odd), "latin-1\n").unwrap();
        git(p, &["add", "-A"]);
        git(p, &["update-index", "--chmod=+x", "a/added.yaml"]);
        git(
            p,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                "160000,1111111111111111111111111111111111111111,vendored",
            ],
        );
        let fresh = tempfile::tempdir().unwrap();
        git(fresh.path(), &["init", "-q"]);
        std::fs::write(fresh.path().join("first"), "1\n").unwrap();
        git(fresh.path(), &["add", "-A"]);
        for p in [p, fresh.path()] {
            let tree = write_tree(p);
            let repo = Repository::open(p).unwrap();
            let fast = super::super::diff::staged(&repo, 1 << 20).unwrap();
            assert_eq!(fast.tree, Some(tree));
            let objects = super::super::objects::Objects::new(&repo).unwrap();
            let slow = super::super::diff::staged_index(&repo, &objects, 1 << 20).unwrap();
            let json = |f: &[crate::input::FileChange]| serde_json::to_value(f).unwrap();
            assert_eq!(json(&fast.files), json(&slow), "{}", p.display());
            assert!(!slow.is_empty());
        }
    }

    /// Whatever the bytes, the reader answers (a tree or none) and never
    /// panics or reads out of bounds: every byte of a real index of each
    /// version flipped, and every prefix of it.
    #[test]
    fn any_bytes_are_answered() {
        for version in ["2", "3", "4"] {
            let dir = repo();
            let p = dir.path();
            git(p, &["update-index", "--index-version", version]);
            write_tree(p);
            let index = std::fs::read(p.join(".git/index")).unwrap();
            for i in 0..index.len() {
                let _ = root_of(&index[..i]);
                for flip in [0x01, 0x80, 0xff] {
                    let mut bytes = index.clone();
                    bytes[i] ^= flip;
                    let _ = root_of(&bytes);
                }
            }
        }
    }

    #[test]
    fn split_sparse_conflicted_and_broken_indexes_are_declined() {
        let dir = repo();
        let p = dir.path();
        write_tree(p);
        let index = std::fs::read(p.join(".git/index")).unwrap();
        assert!(root_of(&index).is_some());
        // Any cut short, and any byte of the header changed.
        for cut in [0, 4, 12, index.len() / 2, index.len() - 21, index.len() - 1] {
            assert_eq!(root_of(&index[..cut]), None, "cut at {cut}");
        }
        let mut other = index.clone();
        other[7] = 5;
        assert_eq!(root_of(&other), None, "version 5");
        let mut more = index.clone();
        more[11] += 1;
        assert_eq!(root_of(&more), None, "one entry more than the cache covers");

        git(p, &["update-index", "--split-index"]);
        write_tree(p);
        assert_eq!(cached_tree_of(&p.join(".git/index")), None, "split");
        git(p, &["update-index", "--no-split-index"]);

        // A conflict: two stages of one path.
        git(p, &["commit", "-qm", "c2"]);
        git(p, &["checkout", "-q", "-b", "other", "HEAD~1"]);
        std::fs::write(p.join("a/b/c.yaml"), "c: 3\n").unwrap();
        git(p, &["commit", "-qam", "c3"]);
        assert!(!git_output(p, &["merge", "-q", "main"]).status.success());
        assert_eq!(cached_tree_of(&p.join(".git/index")), None, "conflicted");
    }
}
