//! Raw tree objects: parsing entries as git does, classifying them by their
//! mode's type bits, and walking two trees together without recursion.
//!
//! git reads a tree entry's mode by its type bits (`canon_mode`): `100600`
//! is a regular file, `40755` a directory, and any type it does not know is a
//! gitlink. A pull request can write such modes (servers accept them with a
//! warning), so every place that reads a tree classifies entries here.

use super::objects::{Data, Objects};
use crate::error::{Error, Result};
use crate::input::FileKind;
use crate::repo_path;
use git2::Oid;

/// The deepest tree git itself reads (`core.maxTreeDepth`): a deeper one is
/// refused with an error naming the commit and the path, not walked.
pub const MAX_TREE_DEPTH: usize = 4096;

/// What a tree entry is, as git checks it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Tree,
    File,
    Symlink,
    Gitlink,
}

impl EntryType {
    /// git's `canon_mode`: the type bits decide; an unknown type is a gitlink.
    pub fn of(mode: u32) -> EntryType {
        match mode & 0o170000 {
            0o040000 => EntryType::Tree,
            0o100000 => EntryType::File,
            0o120000 => EntryType::Symlink,
            _ => EntryType::Gitlink,
        }
    }

    /// The kind of a changed path (None for a tree, which is no path of its own).
    pub fn file_kind(self) -> Option<FileKind> {
        match self {
            EntryType::Tree => None,
            EntryType::File => Some(FileKind::File),
            EntryType::Symlink => Some(FileKind::Symlink),
            EntryType::Gitlink => Some(FileKind::Gitlink),
        }
    }

    /// Whether the entry's id names a blob of this repository.
    pub fn is_blob(self) -> bool {
        matches!(self, EntryType::File | EntryType::Symlink)
    }
}

/// One entry of a raw tree object: `<octal mode> <name>\0<20-byte id>`.
#[derive(Debug, Clone, Copy)]
pub struct RawEntry<'a> {
    pub mode: u32,
    pub name: &'a [u8],
    pub id: Oid,
}

impl RawEntry<'_> {
    pub fn kind(&self) -> EntryType {
        EntryType::of(self.mode)
    }
}

/// The entries of a raw tree object, read one at a time without allocating
/// (libgit2's tree parsing allocated for every entry and was a large share of
/// reading a range).
#[derive(Clone, Copy)]
pub struct Entries<'a> {
    pub rest: &'a [u8],
}

fn corrupt(why: &str) -> Error {
    Error::Git(format!("a tree object is corrupt: {why}"))
}

impl<'a> Entries<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Entries { rest: data }
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
            .ok_or_else(|| corrupt("an entry has no end"))?;
        let len = nul + 21;
        if len > self.rest.len() {
            return Err(corrupt("an entry's id is cut short"));
        }
        Ok(len)
    }

    /// Parse the next entry, if any. The mode is read as git reads it (octal
    /// digits up to the space); libgit2 refuses a mode over 16 bits, and so
    /// does this parser, so that both readers see the same trees.
    pub fn peek(&self) -> Result<Option<RawEntry<'a>>> {
        let len = self.next_len()?;
        if len == 0 {
            return Ok(None);
        }
        let entry = &self.rest[..len];
        let space = entry
            .iter()
            .position(|b| *b == b' ')
            .filter(|s| *s > 0 && *s < len - 21)
            .ok_or_else(|| corrupt("an entry has no mode"))?;
        let mode = entry[..space]
            .iter()
            .try_fold(0u32, |m, b| {
                (b'0'..=b'7')
                    .contains(b)
                    .then(|| m * 8 + u32::from(b - b'0'))
                    .filter(|m| *m <= 0o177777)
            })
            .ok_or_else(|| corrupt("an entry's mode is not a file mode"))?;
        let name = &entry[space + 1..len - 21];
        // libgit2 refuses these too; git would read a longer name.
        if name.is_empty() || name.len() > 0xffff {
            return Err(corrupt("an entry's name is empty or over 64 KiB"));
        }
        // Names git refuses to check out (its verify_path): a hand-made tree
        // can hold them, and a `/` inside one name would make a path that the
        // diff lists and the loader cannot find, so its content passed unread.
        if name.contains(&b'/')
            || name == b"."
            || name == b".."
            || name.eq_ignore_ascii_case(b".git")
        {
            return Err(Error::Git(format!(
                "a tree holds an entry named {:?}, which git refuses to check out: the tree was made by hand, not by git; nothing was judged",
                crate::repo_path::escape(name)
            )));
        }
        Ok(Some(RawEntry {
            mode,
            name,
            id: Oid::from_bytes(&entry[len - 20..]).map_err(|_| corrupt("a bad id"))?,
        }))
    }

    pub fn advance(&mut self) -> Result<()> {
        let len = self.next_len()?;
        self.rest = &self.rest[len..];
        Ok(())
    }

    /// Skip the entries two trees share byte for byte (same mode, name and
    /// id): in a folder of thousands of manifests a commit changes one or
    /// two, and comparing raw bytes is much cheaper than parsing entries.
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
}

/// git's tree order: a directory sorts as if its name ended with `/`.
fn tree_order(a: &RawEntry<'_>, b: &RawEntry<'_>) -> std::cmp::Ordering {
    let tail = |e: &RawEntry<'_>| {
        if e.kind() == EntryType::Tree {
            b'/'
        } else {
            0
        }
    };
    let n = a.name.len().min(b.name.len());
    a.name[..n].cmp(&b.name[..n]).then_with(|| {
        let ca = a.name.get(n).copied().unwrap_or_else(|| tail(a));
        let cb = b.name.get(n).copied().unwrap_or_else(|| tail(b));
        ca.cmp(&cb)
    })
}

/// One side of an entry as a tree holds it: id and raw mode.
pub type RawSide = Option<(Oid, u32)>;

/// One side of a changed path: its id and what it is (never a tree).
pub type Side = Option<(Oid, EntryType)>;

/// A path whose entry differs between two trees (its exact bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChange {
    pub path: Vec<u8>,
    pub old: Side,
    pub new: Side,
}

/// One level of the walk: the two trees' data and how far each is read.
struct Frame<'a> {
    old: Option<Data<'a>>,
    new: Option<Data<'a>>,
    old_at: usize,
    new_at: usize,
    /// The folder's path with its trailing `/` ("" at the root).
    prefix: Vec<u8>,
}

/// Where a walk is, for its error messages: "commit abc1234", "the index".
pub type Context<'a> = &'a dyn Fn() -> String;

/// Read a tree for the walk, refusing an entry whose id is no tree.
fn read_tree<'a>(
    objects: &'a Objects<'_>,
    id: Option<Oid>,
    ctx: Context<'_>,
    path: &[u8],
) -> Result<Option<Data<'a>>> {
    id.map(|id| objects.tree(id, &|| at(ctx, path))).transpose()
}

/// "commit abc1234, path deploy/x": where a problem is.
pub fn at(ctx: Context<'_>, path: &[u8]) -> String {
    if path.is_empty() {
        ctx()
    } else {
        format!("{}, path {}", ctx(), repo_path::escape(path))
    }
}

/// The changes between two trees (either may be absent: the empty tree), in
/// git's path order. Subtrees with the same id on both sides are skipped, so
/// the cost follows the size of the change, not of the tree. The walk keeps
/// its own stack (a deep tree cannot overflow the thread's) and refuses trees
/// deeper than `MAX_TREE_DEPTH`. A path whose type changes (file, link,
/// gitlink, folder) is a deletion and an addition, as `git diff` shows it.
pub fn walk(
    objects: &Objects<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    ctx: Context<'_>,
) -> Result<Vec<RawChange>> {
    let mut out = Vec::new();
    walk_with(objects, old, new, ctx, &mut |path, o, n| {
        record(&mut out, path, o, n);
    })?;
    Ok(out)
}

/// The walk, handing each differing entry's path and sides (id and raw
/// mode; a folder's side too, before its entries) to `emit`.
pub fn walk_with(
    objects: &Objects<'_>,
    old: Option<Oid>,
    new: Option<Oid>,
    ctx: Context<'_>,
    emit: &mut dyn FnMut(&[u8], RawSide, RawSide),
) -> Result<()> {
    let mut stack = vec![Frame {
        old: read_tree(objects, old, ctx, b"")?,
        new: read_tree(objects, new, ctx, b"")?,
        old_at: 0,
        new_at: 0,
        prefix: Vec::new(),
    }];
    while let Some(frame) = stack.last_mut() {
        let mut olds = Entries::new(frame.old.as_ref().map_or(&[][..], |d| &d[frame.old_at..]));
        let mut news = Entries::new(frame.new.as_ref().map_or(&[][..], |d| &d[frame.new_at..]));
        let (olds_len, news_len) = (olds.rest.len(), news.rest.len());
        let err = |e: Error| match e {
            Error::Git(m) => Error::Git(format!("{}: {m}", at(ctx, &frame.prefix))),
            e => e,
        };
        Entries::skip_same(&mut olds, &mut news).map_err(err)?;
        let (a, b) = (olds.peek().map_err(err)?, news.peek().map_err(err)?);
        let order = match (&a, &b) {
            (None, None) => {
                stack.pop();
                continue;
            }
            (Some(a), Some(b)) => tree_order(a, b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        let (o, n) = match order {
            std::cmp::Ordering::Less => {
                olds.advance().map_err(err)?;
                (a, None)
            }
            std::cmp::Ordering::Greater => {
                news.advance().map_err(err)?;
                (None, b)
            }
            std::cmp::Ordering::Equal => {
                olds.advance().map_err(err)?;
                news.advance().map_err(err)?;
                (a, b)
            }
        };
        frame.old_at += olds_len - olds.rest.len();
        frame.new_at += news_len - news.rest.len();
        if let (Some(a), Some(b)) = (&o, &n) {
            if a.id == b.id && a.kind() == EntryType::Tree && b.kind() == EntryType::Tree {
                continue;
            }
        }
        let name = o
            .as_ref()
            .or(n.as_ref())
            .map(|e| e.name)
            .unwrap_or_default();
        let mut path = frame.prefix.clone();
        path.extend_from_slice(name);
        let side = |e: &Option<RawEntry<'_>>| e.map(|e| (e.id, e.mode));
        emit(&path, side(&o), side(&n));
        let tree =
            |e: &Option<RawEntry<'_>>| e.filter(|e| e.kind() == EntryType::Tree).map(|e| e.id);
        let (to, tn) = (tree(&o), tree(&n));
        if to.is_some() || tn.is_some() {
            if stack.len() >= MAX_TREE_DEPTH {
                return Err(too_deep(ctx, &path));
            }
            path.push(b'/');
            let next = Frame {
                old: read_tree(objects, to, ctx, &path)?,
                new: read_tree(objects, tn, ctx, &path)?,
                old_at: 0,
                new_at: 0,
                prefix: path,
            };
            stack.push(next);
        }
    }
    Ok(())
}

/// Record the change of a path between two entries (id, mode), as git sees
/// it: nothing when only permission bits git ignores differ (`100600` is
/// `100644`), a deletion and an addition when the type changes (file, link,
/// gitlink; a folder's side is walked, not recorded).
pub fn record(
    out: &mut Vec<RawChange>,
    path: &[u8],
    old: Option<(Oid, u32)>,
    new: Option<(Oid, u32)>,
) {
    let side = |s: Option<(Oid, u32)>| -> Side {
        s.map(|(id, mode)| (id, EntryType::of(mode)))
            .filter(|(_, t)| *t != EntryType::Tree)
    };
    let (so, sn) = (side(old), side(new));
    match (so, sn, old, new) {
        (None, None, _, _) => {}
        (Some((a, ka)), Some((b, kb)), Some((_, ma)), Some((_, mb))) if ka == kb => {
            // git keeps only the executable bit of a file's permissions.
            let exec = |m: u32| ka == EntryType::File && m & 0o100 != 0;
            if a != b || exec(ma) != exec(mb) {
                out.push(RawChange {
                    path: path.to_vec(),
                    old: so,
                    new: sn,
                });
            }
        }
        (Some(_), Some(_), _, _) => {
            out.push(RawChange {
                path: path.to_vec(),
                old: so,
                new: None,
            });
            out.push(RawChange {
                path: path.to_vec(),
                old: None,
                new: sn,
            });
        }
        _ => out.push(RawChange {
            path: path.to_vec(),
            old: so,
            new: sn,
        }),
    }
}

pub fn too_deep(ctx: Context<'_>, path: &[u8]) -> Error {
    // The path is thousands of folders long: its start says where it is.
    let shown = match path.get(..200) {
        Some(start) => [start, "/…".as_bytes()].concat(),
        None => path.to_vec(),
    };
    Error::Git(format!(
        "{}: the tree is more than {MAX_TREE_DEPTH} folders deep, deeper than git itself \
         reads (core.maxTreeDepth); govops refuses to judge it",
        at(ctx, &shown)
    ))
}

/// Every entry of a tree but its folders (gitlinks included), in path order:
/// the addition of each, as `walk` from the empty tree finds it.
pub fn list(objects: &Objects<'_>, tree: Oid, ctx: Context<'_>) -> Result<Vec<RawChange>> {
    walk(objects, None, Some(tree), ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_classify_as_git_reads_them() {
        assert_eq!(EntryType::of(0o100644), EntryType::File);
        assert_eq!(EntryType::of(0o100600), EntryType::File);
        assert_eq!(EntryType::of(0o100000), EntryType::File);
        assert_eq!(EntryType::of(0o120777), EntryType::Symlink);
        assert_eq!(EntryType::of(0o40755), EntryType::Tree);
        assert_eq!(EntryType::of(0o160000), EntryType::Gitlink);
        assert_eq!(EntryType::of(0), EntryType::Gitlink);
        assert_eq!(EntryType::of(0o170000), EntryType::Gitlink);
    }

    #[test]
    fn modes_parse_like_git() {
        let entry = |mode: &str| {
            let mut raw = format!("{mode} name\0").into_bytes();
            raw.extend([7u8; 20]);
            raw
        };
        let mode = |m: &str| {
            Entries::new(&entry(m))
                .peek()
                .ok()
                .flatten()
                .map(|e| e.mode)
        };
        assert_eq!(mode("100600"), Some(0o100600));
        assert_eq!(mode("0100644"), Some(0o100644));
        assert_eq!(mode("40755"), Some(0o40755));
        assert_eq!(mode("1100644"), None);
        assert_eq!(mode("10064a"), None);
        assert_eq!(mode(""), None);
    }
}
