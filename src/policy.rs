//! Where the policy comes from: the config file and the Rego rules, read from
//! a trusted place. In range mode that is the base revision, so a pull request
//! cannot weaken the gate that judges it; the policy's digest goes into every
//! report and audit record.

use crate::catalog::{self, RuleDoc};
use crate::collect::git::{EntryKind, Snapshot};
use crate::config::{self, ValidConfig};
use crate::error::{Error, Result};
use crate::input::{PolicyFile, PolicySource};
use git2::Repository;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// A Rego file to evaluate (or test).
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// How it is named in messages: `rules/ai/ai.rego` for built-ins, the
    /// repository path for user rules.
    pub name: String,
    pub text: String,
    pub builtin: bool,
}

impl RuleFile {
    pub fn is_test(&self) -> bool {
        self.name.ends_with("_test.rego")
    }
}

/// The policy in force for one run.
#[derive(Debug)]
pub struct Policy {
    pub config: ValidConfig,
    pub rules: Vec<RuleFile>,
    /// The catalog of this run: the built-in rule documents and the user's.
    pub docs: Vec<RuleDoc>,
    pub source: PolicySource,
}

/// Where to read config and user rules from.
#[derive(Debug, Clone)]
pub enum PolicyRef {
    /// The base revision of the range (the default in range mode).
    Base(git2::Oid),
    /// The working tree (hooks, and runs without a base).
    Worktree,
    /// A revision named with `--policy-ref REV`.
    Revision(git2::Oid, String),
}

/// The built-in Rego rules (tests included), in path order.
pub fn builtin_rules() -> Vec<RuleFile> {
    BUILTIN_RULES
        .iter()
        .filter(|(p, _)| p.ends_with(".rego"))
        .map(|(p, t)| RuleFile {
            name: p.to_string(),
            text: t.to_string(),
            builtin: true,
        })
        .collect()
}

/// Load the policy. `config_file`: `--config`, read from disk as the operator
/// named it. `extra_dirs`: `--policy` dirs, likewise from disk.
pub fn load(
    repo: &Repository,
    root: &Path,
    at: &PolicyRef,
    config_file: Option<&Path>,
    extra_dirs: &[PathBuf],
) -> Result<Policy> {
    let (snapshot, source, reference) = match at {
        PolicyRef::Base(oid) => (
            Snapshot::Commit(*oid),
            "base".to_string(),
            Some(oid.to_string()),
        ),
        PolicyRef::Revision(oid, name) => {
            (Snapshot::Commit(*oid), name.clone(), Some(oid.to_string()))
        }
        PolicyRef::Worktree => (
            Snapshot::Worktree(root.to_path_buf()),
            "worktree".to_string(),
            None,
        ),
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let (config, config_path, source) = match config_file {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Error::io(path.display(), format!("cannot read the config: {e}")))?;
            let shown = path.display().to_string();
            let rel = std::fs::canonicalize(path)
                .ok()
                .and_then(|abs| {
                    let root = std::fs::canonicalize(root).ok()?;
                    abs.strip_prefix(root)
                        .ok()
                        .map(|r| r.to_string_lossy().replace('\\', "/"))
                })
                .unwrap_or_else(|| shown.clone());
            files.push((rel.clone(), bytes.clone()));
            (ValidConfig::parse(bytes, shown)?, rel, "file".to_string())
        }
        None => match snapshot.read(repo, config::FILE_NAME)? {
            Some(bytes) => {
                let origin = match &snapshot {
                    Snapshot::Commit(oid) => format!(
                        "{} (at {})",
                        config::FILE_NAME,
                        crate::collect::git::short(*oid)
                    ),
                    _ => config::FILE_NAME.to_string(),
                };
                files.push((config::FILE_NAME.to_string(), bytes.clone()));
                (
                    ValidConfig::parse(bytes, origin)?,
                    config::FILE_NAME.to_string(),
                    source,
                )
            }
            None => (
                ValidConfig::builtin(),
                config::FILE_NAME.to_string(),
                source,
            ),
        },
    };
    let mut rules: Vec<RuleFile> = builtin_rules();
    let mut user_docs = Vec::new();
    let mut dirs = Vec::new();
    for dir in &config.config.policy {
        let dir = dir.trim_matches('/').to_string();
        let (found, docs) = policy_files(repo, &snapshot, &dir)?;
        user_docs.extend(docs);
        if found.is_empty() {
            return Err(Error::Usage(format!(
                "policy dir {dir:?} (from {}) holds no .rego file in {}",
                config.origin,
                snapshot.describe()
            )));
        }
        rules.extend(found);
        dirs.push(dir);
    }
    for dir in extra_dirs {
        let abs = if dir.is_absolute() {
            dir.clone()
        } else {
            std::env::current_dir()
                .map_err(|e| Error::io(".", e))?
                .join(dir)
        };
        if !abs.is_dir() {
            return Err(Error::io(dir.display(), "--policy names no directory"));
        }
        let (found, docs) = policy_files(repo, &Snapshot::Worktree(abs.clone()), "")?;
        if found.is_empty() {
            return Err(Error::io(dir.display(), "--policy dir holds no .rego file"));
        }
        user_docs.extend(docs.into_iter().map(|mut d| {
            d.source = d.source.map(|s| dir.join(s).display().to_string());
            d
        }));
        rules.extend(found.into_iter().map(|mut r| {
            r.name = dir.join(&r.name).display().to_string();
            r
        }));
        if let Ok(rel) = abs.strip_prefix(root) {
            dirs.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    let mut digest_files: Vec<(String, Vec<u8>)> = files;
    digest_files.extend(
        rules
            .iter()
            .map(|r| (r.name.clone(), r.text.clone().into_bytes())),
    );
    digest_files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Sha256::new();
    let mut listed = Vec::new();
    for (name, bytes) in &digest_files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(bytes);
        listed.push(PolicyFile {
            name: name.clone(),
            sha256: hex(&Sha256::digest(bytes)),
        });
    }
    let source = if config_file.is_none()
        && config.bytes.is_empty()
        && dirs.is_empty()
        && matches!(at, PolicyRef::Worktree)
    {
        "builtin".to_string()
    } else {
        source
    };
    Ok(Policy {
        source: PolicySource {
            source,
            r#ref: reference,
            digest: format!("sha256:{}", hex(&hasher.finalize())),
            config_path,
            dirs,
            files: listed,
        },
        config,
        rules,
        docs: catalog::with_user_docs(user_docs)?,
    })
}

/// Every `.rego` file below `dir` of a snapshot, tests included, in path
/// order; and the rule documents (`.md` with front matter) beside them.
fn policy_files(
    repo: &Repository,
    snapshot: &Snapshot,
    dir: &str,
) -> Result<(Vec<RuleFile>, Vec<RuleDoc>)> {
    let mut out = Vec::new();
    let mut docs = Vec::new();
    for entry in snapshot.list(repo, dir)? {
        if entry.path.ends_with(".md") && entry.kind != EntryKind::Symlink {
            if let Some(bytes) = snapshot.read(repo, &entry.path)? {
                let text = String::from_utf8_lossy(&bytes);
                docs.extend(catalog::parse_user_doc(&entry.path, &text)?);
            }
            continue;
        }
        if !entry.path.ends_with(".rego") {
            continue;
        }
        if entry.kind == EntryKind::Symlink {
            return Err(Error::io(
                &entry.path,
                "a rule file is a symbolic link; govops does not follow links",
            ));
        }
        let Some(bytes) = snapshot.read(repo, &entry.path)? else {
            continue;
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::io(&entry.path, "a rule file is not UTF-8 text"))?;
        out.push(RuleFile {
            name: entry.path,
            text,
            builtin: false,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((out, docs))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
