//! The fast tree walk against libgit2's own tree diff, on trees generated from
//! bytes (a fuzzer's input, or a seeded generator in the unit test): odd
//! modes, nesting, files turning into folders, links and gitlinks. Both sides
//! are read as git reads modes; any other difference is a bug in the walk.

use super::objects::Objects;
use super::remerge;
use super::tree::{self, EntryType};
use git2::{ObjectType, Oid, Repository};
use std::collections::BTreeMap;

/// Modes a pull request can write: git's own, and odd ones git accepts.
/// Not mode 0: libgit2 takes it for "unreadable" and drops the entry, where
/// git reads a gitlink (`canon_mode`); the walk follows git, and the
/// integration tests check that case against `git diff-tree`.
const MODES: &[u32] = &[
    0o100644, 0o100755, 0o100600, 0o100664, 0o100000, 0o120000, 0o120777, 0o160000, 0o40000,
    0o40755, 0o40777, 0o170000,
];

/// Names chosen to exercise git's order, where a folder sorts as if its
/// name ended with `/` (`-` < `.` < `/` < `0`), and a name that is no UTF-8.
const NAMES: &[&[u8]] = &[b"a", b"a-b", b"a.b", b"a0", b"ab", b"b", b"\xff"];

/// Short contents, and lines far enough apart for a clean line merge.
const CONTENTS: &[&[u8]] = &[
    b"1\n",
    b"2\n",
    b"1\n2\n",
    b"",
    b"1\n2\n3\n4\n5\n6\n",
    b"0\n2\n3\n4\n5\n6\n",
    b"1\n2\n3\n4\n5\n7\n",
    b"\0binary\n",
];

/// A generated tree entry.
#[derive(Clone, Debug)]
enum Node {
    Leaf(u32, Oid),
    Tree(u32, Vec<(Vec<u8>, Node)>),
}

/// The fuzzer's bytes, read one decision at a time (zeros when exhausted).
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::from(self.next()) % items.len()]
    }
}

fn leaf(odb: &git2::Odb<'_>, bytes: &mut Bytes<'_>, mode: u32) -> Result<Node, String> {
    let id = if EntryType::of(mode) == EntryType::Gitlink {
        // A submodule's commit: any id, never read.
        Oid::hash_object(ObjectType::Blob, &[bytes.next()]).map_err(|e| e.to_string())?
    } else {
        odb.write(ObjectType::Blob, bytes.pick(CONTENTS))
            .map_err(|e| e.to_string())?
    };
    Ok(Node::Leaf(mode, id))
}

fn generate(odb: &git2::Odb<'_>, bytes: &mut Bytes<'_>, depth: usize) -> Result<Node, String> {
    let count = usize::from(bytes.next() % 7);
    let mut entries = Vec::new();
    for _ in 0..count {
        let name = bytes.pick(NAMES).to_vec();
        let mode = bytes.pick(MODES);
        let node = if EntryType::of(mode) == EntryType::Tree && depth < 4 {
            match generate(odb, bytes, depth + 1)? {
                Node::Tree(_, e) => Node::Tree(mode, e),
                leaf @ Node::Leaf(..) => leaf,
            }
        } else if EntryType::of(mode) == EntryType::Tree {
            leaf(odb, bytes, 0o100644)?
        } else {
            leaf(odb, bytes, mode)?
        };
        entries.push((name, node));
    }
    Ok(Node::Tree(0o40000, entries))
}

/// A changed copy: each entry kept, dropped, re-moded, replaced or recursed.
fn mutate(
    odb: &git2::Odb<'_>,
    bytes: &mut Bytes<'_>,
    node: &Node,
    depth: usize,
) -> Result<Node, String> {
    let Node::Tree(mode, entries) = node else {
        return Ok(node.clone());
    };
    let mut out = Vec::new();
    for (name, child) in entries {
        match bytes.next() % 8 {
            0 => {}
            1 => {
                let mode = bytes.pick(MODES);
                let changed = match child {
                    Node::Leaf(_, id) if EntryType::of(mode) != EntryType::Tree => {
                        Node::Leaf(mode, *id)
                    }
                    Node::Tree(_, e) if EntryType::of(mode) == EntryType::Tree => {
                        Node::Tree(mode, e.clone())
                    }
                    _ => leaf(odb, bytes, 0o100644)?,
                };
                out.push((name.clone(), changed));
            }
            2 => out.push((name.clone(), generate(odb, bytes, depth + 1)?)),
            3 => {
                let mode = bytes_mode(bytes);
                out.push((name.clone(), leaf(odb, bytes, mode)?));
            }
            4 => out.push((name.clone(), mutate(odb, bytes, child, depth + 1)?)),
            _ => out.push((name.clone(), child.clone())),
        }
    }
    if bytes.next().is_multiple_of(3) {
        let name = bytes.pick(NAMES).to_vec();
        let mode = bytes_mode(bytes);
        out.push((name, leaf(odb, bytes, mode)?));
    }
    Ok(Node::Tree(*mode, out))
}

fn bytes_mode(bytes: &mut Bytes<'_>) -> u32 {
    let mode = bytes.pick(MODES);
    if EntryType::of(mode) == EntryType::Tree {
        0o100644
    } else {
        mode
    }
}

/// Write a tree as git would (names unique, in git's order), modes as given.
fn write(odb: &git2::Odb<'_>, node: &Node) -> Result<Oid, String> {
    let Node::Tree(_, entries) = node else {
        return Err("not a tree".into());
    };
    let mut written: Vec<(Vec<u8>, u32, Oid)> = Vec::new();
    for (name, child) in entries {
        if written.iter().any(|(n, _, _)| n == name) {
            continue;
        }
        let (mode, id) = match child {
            Node::Leaf(mode, id) => (*mode, *id),
            Node::Tree(mode, _) => (*mode, write(odb, child)?),
        };
        written.push((name.clone(), mode, id));
    }
    let key = |(name, mode, _): &(Vec<u8>, u32, Oid)| {
        let mut k = name.clone();
        if EntryType::of(*mode) == EntryType::Tree {
            k.push(b'/');
        }
        k
    };
    written.sort_by_key(key);
    let mut data = Vec::new();
    for (name, mode, id) in &written {
        data.extend_from_slice(format!("{mode:o} ").as_bytes());
        data.extend_from_slice(name);
        data.push(0);
        data.extend_from_slice(id.as_bytes());
    }
    odb.write(ObjectType::Tree, &data)
        .map_err(|e| e.to_string())
}

/// One side of a path as git sees it: id, type, executable bit.
type Seen = Option<(Oid, EntryType, bool)>;

fn seen(id: Oid, mode: u32) -> Seen {
    let t = EntryType::of(mode);
    Some((id, t, t == EntryType::File && mode & 0o100 != 0))
}

/// The changes of each path. A deletion and an addition of one path merge
/// into one change only when the type changed (git's split); a file deleted
/// and added again with the same type is a pairing bug, and stays visible.
type Folded = BTreeMap<Vec<u8>, Vec<(Seen, Seen)>>;

fn fold(changes: impl Iterator<Item = (Vec<u8>, Seen, Seen)>, libgit2: bool) -> Folded {
    let mut out: Folded = BTreeMap::new();
    for (path, old, new) in changes {
        out.entry(path).or_default().push((old, new));
    }
    for records in out.values_mut() {
        if let [(Some(o), None), (None, Some(n))] | [(None, Some(n)), (Some(o), None)] = records[..]
        {
            // libgit2 splits by raw type bits, where git may read one type
            // (170000 and 160000 are both gitlinks): merge whatever it split.
            if o.1 != n.1 || libgit2 {
                *records = vec![(Some(o), Some(n))];
            }
        }
        // libgit2 reports raw mode changes git does not see (100644 -> 100600).
        records.retain(|(o, n)| o != n);
    }
    out.retain(|_, r| !r.is_empty());
    out
}

/// Generate two trees from `data` and compare the walk with libgit2's diff.
pub fn check(data: &[u8]) -> Result<(), String> {
    let odb = git2::Odb::new().map_err(|e| e.to_string())?;
    odb.add_new_mempack_backend(1).map_err(|e| e.to_string())?;
    let repo = Repository::from_odb(odb).map_err(|e| e.to_string())?;
    let odb = repo.odb().map_err(|e| e.to_string())?;
    let mut bytes = Bytes(data);
    let a = generate(&odb, &mut bytes, 0)?;
    let b = mutate(&odb, &mut bytes, &a, 0)?;
    let (ta, tb) = (write(&odb, &a)?, write(&odb, &b)?);
    compare(&repo, ta, tb)
        .map_err(|e| format!("{e}\n old: {}\n new: {}", dump(&odb, ta), dump(&odb, tb)))
}

/// A tree's entries, recursively, for a failure's message.
fn dump(odb: &git2::Odb<'_>, id: Oid) -> String {
    let Ok(obj) = odb.read(id) else {
        return format!("<{id} unreadable>");
    };
    let mut entries = tree::Entries::new(obj.data());
    let mut out = Vec::new();
    while let Ok(Some(e)) = entries.peek() {
        let name = crate::repo_path::escape(e.name).into_owned();
        if EntryType::of(e.mode) == EntryType::Tree {
            out.push(format!("{:o} {name}/{{{}}}", e.mode, dump(odb, e.id)));
        } else {
            out.push(format!("{:o} {name} {}", e.mode, &e.id.to_string()[..4]));
        }
        if entries.advance().is_err() {
            break;
        }
    }
    out.join(", ")
}

/// Compare the walk and libgit2's tree diff between two trees of `repo`.
pub fn compare(repo: &Repository, old: Oid, new: Oid) -> Result<(), String> {
    let objects = Objects::new(repo).map_err(|e| e.to_string())?;
    let ctx = || "test".to_string();
    let walked = tree::walk(&objects, Some(old), Some(new), &ctx).map_err(|e| e.to_string())?;
    let ours = fold(
        walked.into_iter().map(|c| {
            // The walk keeps the type; the executable bit is the tree's.
            let side = |s: tree::Side, t: Oid| {
                s.and_then(|(id, kind)| {
                    let mode = repo
                        .find_tree(t)
                        .and_then(|t| t.get_path(&crate::repo_path::bytes_to_path(&c.path)))
                        .map_or(0, |e| e.filemode_raw().cast_unsigned());
                    let seen = seen(id, mode);
                    // A type the walk got wrong shows as a difference.
                    seen.map(|(id, t, x)| (id, if t == kind { t } else { kind }, x))
                })
            };
            (c.path.clone(), side(c.old, old), side(c.new, new))
        }),
        false,
    );
    let (old_tree, new_tree) = (
        repo.find_tree(old).map_err(|e| e.to_string())?,
        repo.find_tree(new).map_err(|e| e.to_string())?,
    );
    let mut opts = git2::DiffOptions::new();
    opts.ignore_submodules(false);
    let diff = repo
        .diff_tree_to_tree(Some(&old_tree), Some(&new_tree), Some(&mut opts))
        .map_err(|e| e.to_string())?;
    let side = |tree: &git2::Tree<'_>, file: git2::DiffFile<'_>| -> Seen {
        let path = file.path_bytes()?;
        if file.id().is_zero() {
            return None;
        }
        let entry = tree.get_path(&crate::repo_path::bytes_to_path(path)).ok()?;
        seen(file.id(), entry.filemode_raw().cast_unsigned())
    };
    let theirs = fold(
        diff.deltas().map(|d| {
            let path = d
                .new_file()
                .path_bytes()
                .or(d.old_file().path_bytes())
                .unwrap_or_default()
                .to_vec();
            let old_side = side(&old_tree, d.old_file());
            let new_side = side(&new_tree, d.new_file());
            // libgit2 names a deleted or added side with a zero id.
            (path, old_side, new_side)
        }),
        true,
    );
    if ours != theirs {
        return Err(format!(
            "the walk and libgit2 differ\n walk:    {ours:?}\n libgit2: {theirs:?}"
        ));
    }
    Ok(())
}

/// A written tree read back as a generated one (to change a merged tree).
fn read(odb: &git2::Odb<'_>, id: Oid, mode: u32) -> Result<Node, String> {
    let obj = odb.read(id).map_err(|e| e.to_string())?;
    let mut entries = tree::Entries::new(obj.data());
    let mut out = Vec::new();
    while let Some(e) = entries.peek().map_err(|e| e.to_string())? {
        let node = if EntryType::of(e.mode) == EntryType::Tree {
            read(odb, e.id, e.mode)?
        } else {
            Node::Leaf(e.mode, e.id)
        };
        out.push((e.name.to_vec(), node));
        entries.advance().map_err(|e| e.to_string())?;
    }
    Ok(Node::Tree(mode, out))
}

/// A copy whose regular files may get other contents, modes kept.
fn edit(odb: &git2::Odb<'_>, bytes: &mut Bytes<'_>, node: &Node) -> Result<Node, String> {
    Ok(match node {
        Node::Leaf(mode, _)
            if EntryType::of(*mode) == EntryType::File && bytes.next().is_multiple_of(2) =>
        {
            let id = odb
                .write(ObjectType::Blob, bytes.pick(CONTENTS))
                .map_err(|e| e.to_string())?;
            // Now and then the executable bit flips too.
            let mode = if bytes.next().is_multiple_of(4) {
                *mode ^ 0o111
            } else {
                *mode
            };
            Node::Leaf(mode, id)
        }
        Node::Leaf(..) => node.clone(),
        Node::Tree(mode, entries) => Node::Tree(
            *mode,
            entries
                .iter()
                .map(|(name, n)| Ok((name.clone(), edit(odb, bytes, n)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Whether a generated tree holds an entry of a type git does not know.
fn odd_type(node: &Node) -> bool {
    match node {
        Node::Leaf(mode, _) => ![0o100000, 0o120000, 0o160000].contains(&(mode & 0o170000)),
        Node::Tree(_, entries) => entries.iter().any(|(_, n)| odd_type(n)),
    }
}

/// Generate a merge from `data` (a base, two sides changed from it, and the
/// merge's tree: the clean remerge, an evil change of it, or one side's) and
/// compare the merge's own changes as `remerge` finds them by paths with
/// those against libgit2's whole remerge. Ok(true) when the paths decided
/// (no fallback), so a test can see that it exercised them.
pub fn remerge_check(data: &[u8]) -> Result<bool, String> {
    let odb = git2::Odb::new().map_err(|e| e.to_string())?;
    odb.add_new_mempack_backend(1).map_err(|e| e.to_string())?;
    let repo = Repository::from_odb(odb).map_err(|e| e.to_string())?;
    let odb = repo.odb().map_err(|e| e.to_string())?;
    let mut bytes = Bytes(data);
    let base = generate(&odb, &mut bytes, 0)?;
    // Sides that change the tree's shape, or that only edit files in place
    // (both sides editing one file is where lines are merged).
    let in_place = bytes.next() % 2 == 0;
    let side = |bytes: &mut Bytes<'_>| {
        if in_place {
            edit(&odb, bytes, &base)
        } else {
            mutate(&odb, bytes, &base, 0)
        }
    };
    let ours = side(&mut bytes)?;
    let theirs = side(&mut bytes)?;
    let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(0, 0))
        .map_err(|e| e.to_string())?;
    let commit = |tree: Oid, parents: &[Oid]| -> Result<Oid, String> {
        let tree = repo.find_tree(tree).map_err(|e| e.to_string())?;
        let parents: Vec<git2::Commit<'_>> = parents
            .iter()
            .map(|p| repo.find_commit(*p))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        repo.commit(None, &sig, &sig, "m", &tree, &parents)
            .map_err(|e| e.to_string())
    };
    let base_commit = commit(write(&odb, &base)?, &[])?;
    let ours_commit = commit(write(&odb, &ours)?, &[base_commit])?;
    // Now and then two unrelated histories, merged with no base.
    let theirs_parents: &[Oid] = if bytes.next() % 8 == 0 {
        &[]
    } else {
        &[base_commit]
    };
    let theirs_commit = commit(write(&odb, &theirs)?, theirs_parents)?;
    // libgit2's index reads a mode of an unknown type (170000) as a regular
    // file, where git reads a gitlink: its remerge of such a tree is no
    // reference (the walk's reading of modes is checked against libgit2's
    // diff and git's in their own tests).
    if [&base, &ours, &theirs].into_iter().any(odd_type) {
        return Ok(false);
    }
    let parents = (ours_commit, theirs_commit);
    let max_diff_bytes = if bytes.next() % 4 == 0 { 4 } else { u64::MAX };
    let Some(remerged) = remerge::merged_tree(&repo, parents, max_diff_bytes, &mut 0) else {
        // libgit2 cannot redo it (an entry its index refuses): the merge is
        // judged against its first parent either way.
        return Ok(false);
    };
    let tree = match bytes.next() % 5 {
        0 => remerged,
        1 => {
            let evil = mutate(&odb, &mut bytes, &read(&odb, remerged, 0o40000)?, 0)?;
            if odd_type(&evil) {
                return Ok(false);
            }
            write(&odb, &evil)?
        }
        2 => write(&odb, &ours)?,
        3 => write(&odb, &theirs)?,
        _ => {
            let evil = mutate(&odb, &mut bytes, &ours, 0)?;
            if odd_type(&evil) {
                return Ok(false);
            }
            write(&odb, &evil)?
        }
    };
    let ctx = || "test".to_string();
    let objects = Objects::new(&repo).map_err(|e| e.to_string())?;
    let reference =
        tree::walk(&objects, Some(remerged), Some(tree), &ctx).map_err(|e| e.to_string())?;
    let Some(by_paths) = remerge::by_paths(&repo, parents, tree, &ctx, max_diff_bytes, &mut 0)
    else {
        return Ok(false);
    };
    if by_paths != reference {
        return Err(format!(
            "the merge's changes by paths and by a whole remerge differ\n by paths: {by_paths:?}\n remerge:  {reference:?}\n base: {}\n ours: {}\n theirs: {}\n merge: {}",
            dump(&odb, write(&odb, &base)?),
            dump(&odb, write(&odb, &ours)?),
            dump(&odb, write(&odb, &theirs)?),
            dump(&odb, tree),
        ));
    }
    Ok(true)
}

/// Compare the two ways on a merge of a real repository: Ok(None) when one
/// of them cannot redo it (an object the clone lacks), Ok(Some(decided by
/// paths)) when they agree.
pub fn remerge_compare(repo: &Repository, merge: Oid) -> Result<Option<bool>, String> {
    let commit = repo.find_commit(merge).map_err(|e| e.to_string())?;
    let Some((ours, theirs)) = remerge::two_parents(&commit) else {
        return Ok(None);
    };
    let odb = repo.odb().map_err(|e| e.to_string())?;
    odb.add_new_mempack_backend(1000)
        .map_err(|e| e.to_string())?;
    let ctx = || format!("merge {merge}");
    let max_diff_bytes = 4 << 20;
    let Some(remerged) = remerge::merged_tree(repo, (ours, theirs), max_diff_bytes, &mut 0) else {
        return Ok(None);
    };
    let objects = Objects::new(repo).map_err(|e| e.to_string())?;
    let Ok(reference) = tree::walk(&objects, Some(remerged), Some(commit.tree_id()), &ctx) else {
        return Ok(None);
    };
    let Some(by_paths) = remerge::by_paths(
        repo,
        (ours, theirs),
        commit.tree_id(),
        &ctx,
        max_diff_bytes,
        &mut 0,
    ) else {
        return Ok(Some(false));
    };
    if by_paths != reference {
        return Err(format!(
            "merge {merge}: by paths {by_paths:?}\n remerge {reference:?}"
        ));
    }
    Ok(Some(true))
}

#[cfg(test)]
mod tests {
    /// A fixed generator: every seed is a reproducible case.
    fn bytes(seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..512)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    /// Every merge of a real repository, both ways:
    /// `GOVOPS_REMERGE_REPO=path cargo test --release --lib real_merges -- --ignored`.
    #[test]
    #[ignore = "needs a repository named in GOVOPS_REMERGE_REPO"]
    fn real_merges_redone_by_paths_agree_with_whole_remerges() {
        let path = std::env::var("GOVOPS_REMERGE_REPO").expect("GOVOPS_REMERGE_REPO");
        let repo = git2::Repository::open(path).unwrap();
        let mut walk = repo.revwalk().unwrap();
        walk.push_head().unwrap();
        let (mut merges, mut by_paths, mut skipped) = (0, 0, 0);
        for id in walk {
            let id = id.unwrap();
            if repo.find_commit(id).unwrap().parent_count() != 2 {
                continue;
            }
            merges += 1;
            match super::remerge_compare(&repo, id) {
                Ok(Some(decided)) => by_paths += usize::from(decided),
                Ok(None) => skipped += 1,
                Err(e) => panic!("{e}"),
            }
        }
        eprintln!("{merges} merges: {by_paths} decided by paths, {skipped} not redone");
    }

    #[test]
    fn merges_redone_by_paths_agree_with_whole_remerges() {
        let mut by_paths = 0;
        for seed in 0..20000 {
            match super::remerge_check(&bytes(seed)) {
                Ok(decided) => by_paths += usize::from(decided),
                Err(e) => panic!("seed {seed}: {e}"),
            }
        }
        // Most generated merges must be decided by paths, or this test
        // would compare little.
        assert!(by_paths > 5000, "only {by_paths} merges decided by paths");
    }

    #[test]
    fn the_walk_agrees_with_libgit2_on_generated_trees() {
        for seed in 0..400 {
            if let Err(e) = super::check(&bytes(seed)) {
                panic!("seed {seed}: {e}");
            }
        }
    }
}
