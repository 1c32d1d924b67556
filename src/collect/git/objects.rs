//! Reading objects: libgit2's object database first, and git itself for an
//! object a partial clone has not fetched yet (`--filter=blob:none`, an
//! `actions/checkout` option): git fetches it from the promisor remote on
//! demand, libgit2 cannot.

use crate::error::{Error, Result};
use git2::{ObjectType, Oid, Repository};
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// An object's bytes: borrowed from libgit2's cache, or read through git.
pub enum Data<'a> {
    Odb(git2::OdbObject<'a>),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Data<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Odb(o) => o.data(),
            Data::Owned(v) => v,
        }
    }
}

/// The object reader of one repository handle.
pub struct Objects<'r> {
    repo: &'r Repository,
    odb: git2::Odb<'r>,
    /// Whether objects may be missing by design (a promisor remote): read
    /// from the config once, by the first `prefetch` or missing object.
    partial: std::cell::OnceCell<bool>,
    /// The sizes of the blobs read so far. A file's new version in one
    /// commit is its old version in the next commit that changes it, and
    /// asking libgit2 for a size resolves the object's delta chain: a tenth
    /// of reading a range.
    sizes: std::cell::RefCell<HashMap<Oid, u64>>,
}

/// At most this many sizes are remembered (a few MB): past it they are all
/// forgotten and remembered anew, which keeps the sizes of the commits at
/// hand without an eviction order.
const SIZES: usize = 1 << 16;

impl<'r> Objects<'r> {
    pub fn new(repo: &'r Repository) -> Result<Self> {
        let odb = repo.odb()?;
        Ok(Objects {
            repo,
            odb,
            partial: std::cell::OnceCell::new(),
            sizes: std::cell::RefCell::default(),
        })
    }

    fn partial(&self) -> bool {
        *self.partial.get_or_init(|| {
            let Ok(config) = self.repo.config() else {
                return false;
            };
            if config.get_string("extensions.partialclone").is_ok() {
                return true;
            }
            let Ok(mut entries) = config.entries(Some(r"remote\..*\.promisor")) else {
                return false;
            };
            let mut any = false;
            while let Some(Ok(entry)) = entries.next() {
                any |= entry.value() == Some("true");
            }
            any
        })
    }

    pub fn repo(&self) -> &'r Repository {
        self.repo
    }

    /// A tree's raw entries; `what` names where it is for errors.
    pub fn tree(&self, id: Oid, what: &dyn Fn() -> String) -> Result<Data<'_>> {
        let data = match self.odb.read(id) {
            Ok(o) if o.kind() == ObjectType::Tree => return Ok(Data::Odb(o)),
            Ok(o) => {
                return Err(Error::Git(format!(
                    "{}: the entry {} is a {}, not a folder (a corrupt tree)",
                    what(),
                    id,
                    o.kind().str()
                )))
            }
            Err(e) => self.fetch(id, "tree", &e, what)?,
        };
        Ok(Data::Owned(data))
    }

    /// A blob's size, without reading it.
    pub fn blob_size(&self, id: Oid, what: &dyn Fn() -> String) -> Result<u64> {
        if let Some(size) = self.sizes.borrow().get(&id) {
            return Ok(*size);
        }
        match self.odb.read_header(id) {
            Ok((size, ObjectType::Blob)) => Ok(size as u64),
            Ok((_, kind)) => Err(not_a_blob(what, id, kind)),
            Err(e) => {
                self.fetch(id, "blob", &e, what)?;
                let (size, _) = self
                    .odb
                    .read_header(id)
                    .map_err(|e| missing(what, id, &e))?;
                Ok(size as u64)
            }
        }
    }

    /// A blob, as libgit2 holds it (fetched first when a partial clone
    /// lacks it).
    pub fn blob(&self, id: Oid, what: &dyn Fn() -> String) -> Result<git2::Blob<'r>> {
        match self.repo.find_blob(id) {
            Ok(b) => {
                let mut sizes = self.sizes.borrow_mut();
                if sizes.len() >= SIZES {
                    sizes.clear();
                }
                sizes.insert(id, b.size() as u64);
                Ok(b)
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                self.fetch(id, "blob", &e, what)?;
                self.repo.find_blob(id).map_err(|e| missing(what, id, &e))
            }
            Err(e) => Err(Error::Git(format!("{}: {}", what(), e.message()))),
        }
    }

    /// Have git read an object libgit2 does not find: in a partial clone git
    /// fetches it from the promisor remote and stores it, where libgit2
    /// then finds it too. Anywhere else the object is missing: say where.
    fn fetch(
        &self,
        id: Oid,
        kind: &str,
        err: &git2::Error,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<u8>> {
        if err.code() != git2::ErrorCode::NotFound {
            return Err(Error::Git(format!("{}: {}", what(), err.message())));
        }
        if !self.partial() {
            return Err(missing(what, id, err));
        }
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.path())
            .args(["cat-file", kind])
            .arg(id.to_string())
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .output();
        match out {
            Ok(out) if out.status.success() => {
                // The fetched object is in a new pack: let libgit2 see it.
                let _ = self.odb.refresh();
                Ok(out.stdout)
            }
            Ok(out) => Err(Error::Git(format!(
                "{}: object {id} is not in this partial clone, and git could not fetch it \
                 from the promisor remote: {}",
                what(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
            Err(e) => Err(Error::Git(format!(
                "{}: object {id} is not in this partial clone, and git could not be run \
                 to fetch it ({e}); install git, or clone without --filter",
                what()
            ))),
        }
    }

    /// Have git fetch, in one run, the blobs of `ids` this partial clone
    /// lacks: one `git cat-file --batch-check` instead of one process per blob.
    pub fn prefetch(&self, ids: impl Iterator<Item = Oid>) {
        // Asked first: the lookups are a pack search per blob, for nothing
        // in a full clone.
        if !self.partial() {
            return;
        }
        let missing: Vec<Oid> = ids.filter(|id| !self.odb.exists(*id)).collect();
        if missing.is_empty() {
            return;
        }
        let child = Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.path())
            .args(["cat-file", "--batch-check"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        // Best effort: what is still missing after it is reported, with its
        // path, when it is read.
        if let Ok(mut child) = child {
            if let Some(mut stdin) = child.stdin.take() {
                for id in &missing {
                    let _ = writeln!(stdin, "{id}");
                }
            }
            let _ = child.wait();
            let _ = self.odb.refresh();
        }
    }
}

fn not_a_blob(what: &dyn Fn() -> String, id: Oid, kind: ObjectType) -> Error {
    Error::Git(format!(
        "{}: the entry {id} is a {}, not a file's content (a corrupt tree)",
        what(),
        kind.str()
    ))
}

fn missing(what: &dyn Fn() -> String, id: Oid, err: &git2::Error) -> Error {
    Error::Git(format!(
        "{}: object {id} is missing from the repository ({}). The clone is incomplete: \
         fetch the full history (actions/checkout with `fetch-depth: 0` and no `filter`, \
         or `git fetch --refetch`)",
        what(),
        err.message()
    ))
}
