//! Rework: of the lines a commit added, how many later commits deleted or
//! rewrote within 14 and 30 days. Lines are followed forwards, as git blame
//! follows them backwards: each file is a list of line origins (the commit
//! that wrote each line), and every later commit's hunks (diffs against its
//! first parent, no context, renames found) replace the origins of the
//! lines they remove with their own. The hunks are read in parallel; the
//! origins are replayed in one pass, in topological order.
//!
//! The approximation: the history is replayed as one line of commits, so a
//! commit of a parallel branch is applied to lines that may already carry
//! the other branch's edits. Its hunks are placed by line number and can
//! land a few lines off; `accuracy` measures the result against libgit2's
//! blame at the head.

use super::{CommitRow, DAY};
use crate::error::{Error, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository};
use std::collections::HashMap;

/// No commit of the range: a line older than the range, or of unknown origin.
const UNKNOWN: u32 = u32::MAX;

/// One hunk: `old_start`/`old_lines` as in `@@ -a,b +c,d @@`.
#[derive(Debug, Clone, Copy)]
struct Hunk {
    old_start: u32,
    old_lines: u32,
    new_lines: u32,
}

struct FileHunks {
    path: String,
    old_path: Option<String>,
    status: Delta,
    old_id: Oid,
    hunks: Vec<Hunk>,
}

fn hunks_of(repo: &Repository, id: Oid, max_diff_bytes: u64) -> Result<Vec<FileHunks>> {
    let commit = repo.find_commit(id)?;
    let old = match commit.parent(0) {
        Ok(p) => Some(p.tree()?),
        Err(_) => None,
    };
    let new = commit.tree()?;
    let mut opts = DiffOptions::new();
    opts.context_lines(0)
        .interhunk_lines(0)
        .ignore_submodules(true)
        .max_size(i64::try_from(max_diff_bytes).unwrap_or(i64::MAX));
    let mut diff = repo.diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut opts))?;
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))?;
    let path = |f: git2::DiffFile<'_>| {
        f.path_bytes()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default()
    };
    let files = std::cell::RefCell::new(Vec::<FileHunks>::new());
    diff.foreach(
        &mut |delta, _| {
            let (new_path, old_path) = (path(delta.new_file()), path(delta.old_file()));
            files.borrow_mut().push(FileHunks {
                old_path: (delta.status() == Delta::Renamed).then_some(old_path),
                path: new_path,
                status: delta.status(),
                old_id: delta.old_file().id(),
                hunks: Vec::new(),
            });
            true
        },
        None,
        Some(&mut |_, h| {
            if let Some(f) = files.borrow_mut().last_mut() {
                f.hunks.push(Hunk {
                    old_start: h.old_start(),
                    old_lines: h.old_lines(),
                    new_lines: h.new_lines(),
                });
            }
            true
        }),
        None,
    )?;
    Ok(files.into_inner())
}

/// The hunks of every commit, read on several cores.
fn all_hunks(repo: &Repository, ids: &[Oid], max_diff_bytes: u64) -> Result<Vec<Vec<FileHunks>>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    if threads == 1 || ids.len() < 64 {
        return ids
            .iter()
            .map(|id| hunks_of(repo, *id, max_diff_bytes))
            .collect();
    }
    let path = repo.path().to_path_buf();
    let chunk = ids.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = ids
            .chunks(chunk)
            .map(|part| {
                let path = &path;
                scope.spawn(move || -> Result<Vec<Vec<FileHunks>>> {
                    let repo = crate::collect::git::reopen(path)?;
                    part.iter()
                        .map(|id| hunks_of(&repo, *id, max_diff_bytes))
                        .collect()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for w in workers {
            out.extend(
                w.join()
                    .map_err(|_| Error::Git("a rework reader thread panicked".into()))??,
            );
        }
        Ok(out)
    })
}

/// Lines of a blob as git counts them (a last line without a newline
/// counts). A blob over `max_bytes` (its size read from the header alone)
/// or one that cannot be read counts 0, as the diff of it does.
fn line_count(repo: &Repository, id: Oid, max_bytes: u64) -> u32 {
    let small = repo
        .odb()
        .and_then(|odb| odb.read_header(id))
        .is_ok_and(|(size, _)| size as u64 <= max_bytes);
    if !small {
        return 0;
    }
    match repo.find_blob(id) {
        // Binary as the gate decides it (git's rule), so the two agree.
        Ok(b) if !crate::collect::git::is_binary(b.content()) => {
            let c = b.content();
            let n = c.iter().filter(|b| **b == b'\n').count();
            (n + usize::from(c.last().is_some_and(|b| *b != b'\n'))) as u32
        }
        _ => 0,
    }
}

/// The replay: line origins per path, after every commit.
pub struct Replay {
    pub files: HashMap<String, Vec<u32>>,
    pub reworked_14d: Vec<u64>,
    pub reworked_30d: Vec<u64>,
}

fn replay(
    repo: &Repository,
    rows: &[CommitRow],
    hunks: Vec<Vec<FileHunks>>,
    max_bytes: u64,
) -> Replay {
    let mut files: HashMap<String, Vec<u32>> = HashMap::new();
    let mut r14 = vec![0u64; rows.len()];
    let mut r30 = vec![0u64; rows.len()];
    for (i, commit) in hunks.into_iter().enumerate() {
        let now = rows[i].commit_time;
        let mut dead = |origins: &[u32]| {
            for &o in origins {
                if o == UNKNOWN {
                    continue;
                }
                let age = now - rows[o as usize].commit_time;
                if age <= 14 * DAY {
                    r14[o as usize] += 1;
                }
                if age <= 30 * DAY {
                    r30[o as usize] += 1;
                }
            }
        };
        for f in commit {
            let from = f.old_path.as_deref().unwrap_or(&f.path);
            let mut lines = match files.remove(from) {
                Some(l) => l,
                // A file older than the range (or a line of history this
                // replay did not see): its lines have no known origin.
                None if !f.old_id.is_zero() && f.status != Delta::Added => {
                    vec![UNKNOWN; line_count(repo, f.old_id, max_bytes) as usize]
                }
                None => Vec::new(),
            };
            if f.status == Delta::Deleted {
                dead(&lines);
                continue;
            }
            let mut next = Vec::with_capacity(lines.len());
            let mut cursor = 0usize;
            for h in &f.hunks {
                let at = if h.old_lines == 0 {
                    h.old_start as usize
                } else {
                    (h.old_start as usize).saturating_sub(1)
                };
                let at = at.clamp(cursor, lines.len());
                next.extend_from_slice(&lines[cursor..at]);
                let end = (at + h.old_lines as usize).min(lines.len());
                dead(&lines[at..end]);
                next.extend(std::iter::repeat_n(i as u32, h.new_lines as usize));
                cursor = end;
            }
            next.extend_from_slice(&lines[cursor.min(lines.len())..]);
            lines.clear();
            files.insert(f.path, next);
        }
    }
    Replay {
        files,
        reworked_14d: r14,
        reworked_30d: r30,
    }
}

/// Measure rework and set each row's reworked line counts (null when its
/// window reaches past the range's last commit).
pub fn measure(
    repo: &Repository,
    rows: &mut [CommitRow],
    ids: &[Oid],
    max_diff_bytes: u64,
) -> Result<()> {
    let hunks = all_hunks(repo, ids, max_diff_bytes)?;
    let result = replay(repo, rows, hunks, max_diff_bytes);
    let end = rows.iter().map(|r| r.commit_time).max().unwrap_or(0);
    for (i, r) in rows.iter_mut().enumerate() {
        if r.commit_time + 14 * DAY <= end {
            r.rework_lines_14d = Some(result.reworked_14d[i].min(r.lines_added));
        }
        if r.commit_time + 30 * DAY <= end {
            r.rework_lines_30d = Some(result.reworked_30d[i].min(r.lines_added));
        }
    }
    Ok(())
}

/// The replay's error, measured: for up to `sample` files at the head (the
/// most recently changed ones), the share of lines whose origin the replay
/// gives as libgit2's blame does. Lines blamed on a commit outside the
/// replayed commits must be unknown to the replay too.
pub fn accuracy(
    repo: &Repository,
    rows: &[CommitRow],
    ids: &[Oid],
    max_diff_bytes: u64,
    sample: usize,
) -> Result<(u64, u64)> {
    let hunks = all_hunks(repo, ids, max_diff_bytes)?;
    let result = replay(repo, rows, hunks, max_diff_bytes);
    let index: HashMap<Oid, u32> = ids
        .iter()
        .enumerate()
        .map(|(i, o)| (*o, i as u32))
        .collect();
    let mut recent: Vec<&String> = Vec::new();
    for r in rows.iter().rev() {
        for f in &r.files {
            if result.files.contains_key(f) && !recent.contains(&f) {
                recent.push(f);
            }
        }
        if recent.len() >= sample {
            break;
        }
    }
    let (mut same, mut total) = (0u64, 0u64);
    let head = ids.last().copied();
    for path in recent.into_iter().take(sample) {
        let mut opts = git2::BlameOptions::new();
        if let Some(h) = head {
            opts.newest_commit(h);
        }
        let Ok(blame) = repo.blame_file(std::path::Path::new(path), Some(&mut opts)) else {
            continue;
        };
        let mine = &result.files[path];
        let mut line = 0usize;
        for hunk in blame.iter() {
            let origin = index
                .get(&hunk.final_commit_id())
                .copied()
                .unwrap_or(UNKNOWN);
            for _ in 0..hunk.lines_in_hunk() {
                total += 1;
                if mine.get(line) == Some(&origin) {
                    same += 1;
                }
                line += 1;
            }
        }
    }
    Ok((same, total))
}
