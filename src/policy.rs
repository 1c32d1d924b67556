//! Where the policy comes from: the config file and the Rego rules, read from
//! a trusted place. In range mode that is the base revision, so a pull request
//! cannot weaken the gate that judges it; the policy's digest goes into every
//! report and audit record.

use crate::catalog::{self, RuleDoc, BUILTIN_RULES};
use crate::collect::git::{Entry, EntryKind, Snapshot};
use crate::config::{self, ValidConfig};
use crate::error::{ConfigError, ConfigProblem, Error, Result};
use crate::input::{PolicyFile, PolicySource};
use crate::provenance::{IdentityTable, TableExtension};
use git2::Repository;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A Rego file to evaluate (or test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    /// How it is named in messages: `rules/ai/ai.rego` for built-ins, the
    /// repository path for user rules.
    pub name: String,
    pub text: String,
    pub builtin: bool,
}

impl RuleFile {
    pub fn is_test(&self) -> bool {
        is_test_file(&self.name)
    }

    /// Whether the gate compiles this file to judge a change: every file of
    /// the team's, its tests too (as OPA's loader reads a folder, a helper
    /// kept in a `*_test.rego` file is part of the policy, and a rule file
    /// may import it), and the built-in rules without theirs.
    pub fn is_compiled(&self) -> bool {
        !self.builtin || !self.is_test()
    }
}

/// Whether a rule file is a test file: named `*_test.rego`, in any case (as
/// `policy_files` takes rule files).
pub fn is_test_file(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with("_test.rego")
}

/// The policy in force for one run.
#[derive(Debug)]
pub struct Policy {
    pub config: ValidConfig,
    /// The baseline file the config names, read from where the config was.
    pub baseline: crate::baseline::Baseline,
    pub rules: Vec<RuleFile>,
    /// The catalog of this run: the built-in rule documents and the user's.
    pub docs: Vec<RuleDoc>,
    pub source: PolicySource,
    /// What the config adds to the AI identity table (`ai.identities`).
    pub identities: crate::provenance::TableExtension,
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
    /// A revision the change does not control, chosen because the range has
    /// no base (a push that creates a branch, a head-only run): `how` says
    /// which (`default-branch` or `first-parent`).
    Trusted(git2::Oid, &'static str),
    /// Nothing outside the change to read policy from (the head is a root
    /// commit): the built-in rules and defaults only.
    BuiltinOnly,
}

impl PolicyRef {
    /// Where this run reads its policy: `--policy-ref` (`worktree`, `base`
    /// or a revision) when given; else the base of the range, else a
    /// revision the change does not control (`without_base`); the hooks
    /// (no range) judge the developer's own pending change by the worktree's.
    pub fn choose(
        repo: &Repository,
        flag: Option<&str>,
        range: Option<&crate::collect::git::Range>,
        default_branch: Option<&str>,
    ) -> Result<PolicyRef> {
        Ok(match flag {
            Some("worktree") => PolicyRef::Worktree,
            Some("base") => match range.and_then(|r| r.base) {
                Some(base) => PolicyRef::Base(base),
                None => {
                    return Err(Error::Usage(
                        "--policy-ref base: this run has no base revision".into(),
                    ))
                }
            },
            Some(rev) => {
                let oid = repo
                    .revparse_single(rev)
                    .and_then(|o| o.peel_to_commit())
                    .map_err(|_| Error::Git(format!("--policy-ref {rev}: no such revision")))?
                    .id();
                PolicyRef::Revision(oid, rev.to_string())
            }
            None => match range {
                Some(r) => match r.base {
                    Some(base) => PolicyRef::Base(base),
                    // No base: never the judged commit's own policy.
                    None => PolicyRef::without_base(repo, r.head, default_branch),
                },
                None => PolicyRef::Worktree,
            },
        })
    }

    /// The policy for a range without a base revision: never from the
    /// commit being judged, whose `.govops.yaml` could switch off the rules
    /// that judge it. First the merge-base of `head` with the default branch
    /// (`default_branch`, then `origin/HEAD`, `main`,
    /// `master`), when the head is not already on it; else the head's first
    /// parent, the revision its own change is diffed against; else (a root
    /// commit) the built-in policy.
    pub fn without_base(
        repo: &Repository,
        head: git2::Oid,
        default_branch: Option<&str>,
    ) -> PolicyRef {
        if let Some((_, mb)) = crate::collect::git::left_default_branch(repo, head, default_branch)
        {
            return PolicyRef::Trusted(mb, "default-branch");
        }
        match repo.find_commit(head).and_then(|c| c.parent_id(0)) {
            Ok(parent) => PolicyRef::Trusted(parent, "first-parent"),
            Err(_) => PolicyRef::BuiltinOnly,
        }
    }

    /// A note for the report on where the policy came from, when that is
    /// not the obvious place. `operator`: a `--config` or `--policy` dir
    /// was passed, which the policy holds wherever the rest came from.
    pub fn note(&self, operator: bool) -> Option<String> {
        match self {
            PolicyRef::Trusted(oid, "default-branch") => Some(format!(
                "the range has no base: policy read from {}, the merge-base with the default branch",
                crate::collect::git::short(*oid)
            )),
            PolicyRef::Trusted(oid, _) => Some(format!(
                "the range has no base: policy read from {}, the first parent of the judged commit",
                crate::collect::git::short(*oid)
            )),
            PolicyRef::BuiltinOnly if operator => Some(
                "the range has no base and the judged commit has no parent: its own .govops.yaml is not trusted; judged by the built-in policy and what the command line passed (--config, --policy)".into(),
            ),
            PolicyRef::BuiltinOnly => Some(
                "the range has no base and the judged commit has no parent: judged by the built-in policy only (its own .govops.yaml is not trusted; pass --config or --policy-ref to choose)".into(),
            ),
            _ => None,
        }
    }
}

impl Policy {
    /// The AI identity table to read provenance with: the team's identities
    /// (`ai.identities`) before the built-in ones.
    pub fn identity_table(&self) -> IdentityTable {
        let builtin = IdentityTable::builtin();
        if self.identities.tools.is_empty() && !self.identities.has_trailers() {
            builtin
        } else {
            builtin.extended(&self.identities)
        }
    }
}

/// The built-in Rego rules (tests included), in path order.
pub fn builtin_rules() -> Vec<RuleFile> {
    BUILTIN_RULES
        .iter()
        .filter(|(p, _)| Path::new(p).extension().is_some_and(|e| e == "rego"))
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
        PolicyRef::Trusted(oid, how) => (
            Snapshot::Commit(*oid),
            (*how).to_string(),
            Some(oid.to_string()),
        ),
        PolicyRef::Worktree | PolicyRef::BuiltinOnly => (
            Snapshot::Worktree(root.to_path_buf()),
            "worktree".to_string(),
            None,
        ),
    };
    // An operator's `--config` and the rule dirs it names come from one
    // place, the disk; a config read from a revision names dirs of that
    // revision.
    let dirs_snapshot = match config_file {
        Some(_) => Snapshot::Worktree(root.to_path_buf()),
        None => snapshot.clone(),
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
        None if matches!(at, PolicyRef::BuiltinOnly) => (
            ValidConfig::builtin(),
            config::FILE_NAME.to_string(),
            "builtin".to_string(),
        ),
        None => match read_config(repo, &snapshot)? {
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
    // The baseline is policy too: from the same place as the rule dirs
    // (a pull request cannot baseline its own findings), in the digest.
    let baseline = if matches!(at, PolicyRef::BuiltinOnly) && config_file.is_none() {
        crate::baseline::Baseline::empty(&config.config.baseline)
    } else {
        let (baseline, bytes) = crate::baseline::Baseline::read(repo, &dirs_snapshot, &config)?;
        if let Some(bytes) = bytes {
            files.push((config.config.baseline.clone(), bytes));
        }
        baseline
    };
    // The team's AI identities: inline, or a file read from where the rule
    // dirs are, into the digest like them.
    let identities = match &config.config.ai.identities {
        None => Default::default(),
        Some(config::Identities::Tools(tools)) => crate::provenance::TableExtension {
            tools: tools.clone(),
            ..Default::default()
        },
        Some(config::Identities::Table(table)) => (**table).clone(),
        Some(config::Identities::File(path)) => {
            let (ext, bytes) = read_identities(
                repo,
                &dirs_snapshot,
                path,
                config.config.limits.max_file_bytes,
            )?;
            files.push((path.trim_start_matches("./").to_string(), bytes));
            ext
        }
    };
    let mut rules: Vec<RuleFile> = builtin_rules();
    let mut user_docs = Vec::new();
    let mut dirs = Vec::new();
    for dir in &config.config.policy {
        let dir = dir.trim_matches('/').to_string();
        let (found, docs) = policy_files(repo, &dirs_snapshot, &dir, None)?;
        user_docs.extend(docs);
        if found.is_empty() {
            return Err(Error::Usage(format!(
                "policy dir {dir:?} (from {}) holds no .rego file in {}",
                config.origin,
                dirs_snapshot.describe()
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
        let (found, docs) = policy_files(repo, &Snapshot::Worktree(abs.clone()), "", Some(dir))?;
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
        && extra_dirs.is_empty()
        && matches!(at, PolicyRef::Worktree | PolicyRef::BuiltinOnly)
    {
        "builtin".to_string()
    } else if source == "builtin" && !extra_dirs.is_empty() {
        // The built-in config, with rule dirs read from the disk.
        "worktree".to_string()
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
            head_problems: Vec::new(),
        },
        config,
        baseline,
        rules,
        docs: catalog::with_user_docs(user_docs)?,
        identities,
    })
}

/// The config file of a snapshot, if there is one. A symbolic link is
/// refused by name: reading a link's blob would parse its target path as
/// YAML, and following it could read a file the revision does not hold.
fn read_config(repo: &Repository, snapshot: &Snapshot) -> Result<Option<Vec<u8>>> {
    if let Some(stat) = snapshot.stat(repo, config::FILE_NAME)? {
        if stat.symlink {
            return Err(Error::io(
                format!("{} (in {})", config::FILE_NAME, snapshot.describe()),
                "is a symbolic link; govops reads policy only from a regular file (commit the file itself)",
            ));
        }
    }
    snapshot.read(repo, config::FILE_NAME)
}

/// Every `.rego` file below `dir` of a snapshot, tests included, in path
/// order; and the rule documents (`.md` with front matter) beside them.
/// `shown`: the folder the entries' paths are relative to, as messages name
/// it (a `--policy` dir read from disk), if not the snapshot's root.
// Names are compared in lower case.
#[allow(clippy::case_sensitive_file_extension_comparisons)]
fn policy_files(
    repo: &Repository,
    snapshot: &Snapshot,
    dir: &str,
    shown: Option<&Path>,
) -> Result<(Vec<RuleFile>, Vec<RuleDoc>)> {
    let mut out = Vec::new();
    let mut docs = Vec::new();
    let named = |path: &str| match shown {
        Some(dir) => dir.join(path).display().to_string(),
        None => path.to_string(),
    };
    let mut entries = snapshot.list_with_submodules(repo, dir)?;
    entries.extend(unpopulated_submodules(repo, snapshot, dir));
    for entry in entries {
        let lower = entry.path.to_ascii_lowercase();
        // A submodule's rules are another repository's, absent from the
        // revision's tree: passed over, they would be out of the gate.
        if entry.kind == EntryKind::Gitlink {
            return Err(Error::io(
                named(&entry.path),
                "a policy dir holds a submodule; govops reads policy only from files the revision holds (commit the rule files themselves)",
            ));
        }
        // `.rego` in any case, and a file named `.rego` alone: OPA reads
        // every name that ends so (in lower case), and `x.REGO` means to be
        // read, not passed over.
        let rule_file = lower.ends_with(".rego");
        // A link is not followed, and not passed over either when it could
        // hide a rule, whatever its name: one to a folder of shared rules
        // would take every rule in it out of the gate without a word. A
        // link to a file that is no rule file (a LICENSE, test data) is left
        // alone.
        if entry.kind == EntryKind::Symlink {
            if rule_file || !links_to_other_file(repo, snapshot, &entry.path)? {
                return Err(Error::io(
                    named(&entry.path),
                    "a policy dir holds a symbolic link to a rule file or a folder; govops does not follow links (commit the rule files themselves)",
                ));
            }
            continue;
        }
        // A rule's document.
        if lower.ends_with(".md") {
            if let Some(bytes) = snapshot.read(repo, &entry.path)? {
                let text = String::from_utf8_lossy(&bytes);
                docs.extend(catalog::parse_user_doc(&entry.path, &text)?);
            }
            continue;
        }
        if !rule_file {
            continue;
        }
        let Some(bytes) = snapshot.read(repo, &entry.path)? else {
            continue;
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::io(named(&entry.path), "a rule file is not UTF-8 text"))?;
        out.push(RuleFile {
            name: entry.path,
            text,
            builtin: false,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((out, docs))
}

/// Whether the link at `path` of a snapshot points to a regular file that
/// is no rule file (`.rego` in any case): in a revision, resolved within its
/// tree, never outside it and not through another link; on disk (a folder
/// read from the disk), as the file system resolves it.
fn links_to_other_file(repo: &Repository, snapshot: &Snapshot, path: &str) -> Result<bool> {
    if let Snapshot::Worktree(root) = snapshot {
        let link = root.join(crate::repo_path::to_path(path));
        let is_file = std::fs::metadata(&link).is_ok_and(|m| m.is_file());
        let target = std::fs::canonicalize(&link).ok();
        let named_rule = target
            .as_ref()
            .and_then(|t| t.file_name())
            .is_none_or(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(".rego"));
        return Ok(is_file && !named_rule);
    }
    let target = match snapshot.read(repo, path)? {
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return Ok(false),
        },
        None => return Ok(false),
    };
    if target.starts_with('/') {
        return Ok(false);
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                // `..` after a link would leave the link's target, not its
                // folder: every folder passed through must be a folder.
                if parts.is_empty()
                    || snapshot
                        .stat(repo, &parts.join("/"))?
                        .is_some_and(|s| s.symlink)
                {
                    return Ok(false);
                }
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    for end in 1..parts.len() {
        if snapshot
            .stat(repo, &parts[..end].join("/"))?
            .is_some_and(|s| s.symlink)
        {
            return Ok(false);
        }
    }
    let resolved = parts.join("/");
    if resolved.to_ascii_lowercase().ends_with(".rego") {
        return Ok(false);
    }
    Ok(snapshot
        .stat(repo, &resolved)?
        .is_some_and(|stat| !stat.symlink))
}

/// The submodules the index names below a policy dir read from the disk
/// that have no checkout there (`actions/checkout` without `submodules`
/// leaves an empty folder, which no file listing shows).
fn unpopulated_submodules(repo: &Repository, snapshot: &Snapshot, dir: &str) -> Vec<Entry> {
    let Snapshot::Worktree(root) = snapshot else {
        return Vec::new();
    };
    let (Some(workdir), Ok(index)) = (repo.workdir(), repo.index()) else {
        return Vec::new();
    };
    let (Ok(workdir), Ok(root)) = (workdir.canonicalize(), root.canonicalize()) else {
        return Vec::new();
    };
    // Index paths are the repository's; entries are named from the
    // snapshot's root (the `--policy` dir, or the work tree).
    let Ok(base) = root.strip_prefix(&workdir).map(crate::repo_path::from_path) else {
        return Vec::new();
    };
    let join = |a: &str, b: &str| match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    };
    let rel = join(&base, dir.trim_matches('/'));
    let under = |p: &str| rel.is_empty() || p == rel || p.starts_with(&format!("{rel}/"));
    index
        .iter()
        .filter(|e| e.mode == 0o160_000)
        .map(|e| crate::repo_path::escape(&e.path).into_owned())
        .filter(|p| under(p))
        .map(|p| Entry {
            path: if base.is_empty() {
                p
            } else {
                p.strip_prefix(&format!("{base}/"))
                    .unwrap_or(&p)
                    .to_string()
            },
            kind: EntryKind::Gitlink,
        })
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Policy {
    /// Rule ids in `severity` and `waivers` must exist: a typo would otherwise
    /// silently waive nothing, or fail to turn a rule off.
    pub fn check_rule_references(&self) -> Result<()> {
        let policy = self;
        let docs = &policy.docs;
        let references = policy.config.rule_references();
        if references.is_empty() {
            // Nothing to check; the hook is spared compiling the regex below.
            return Ok(());
        }
        let id_in_rules = regex::Regex::new(r#""id"\s*:\s*"([^"]+)""#).expect("valid regex");
        let user_ids: Vec<String> = policy
            .rules
            .iter()
            .filter(|r| !r.builtin)
            .flat_map(|r| {
                id_in_rules
                    .captures_iter(&r.text)
                    .map(|c| c[1].to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        let problems: Vec<ConfigProblem> = references
            .into_iter()
            .filter(|(id, _)| !docs.iter().any(|d| d.id == *id) && !user_ids.contains(id))
            .map(|(id, pointer)| ConfigProblem {
                line: policy.config.line_of(&pointer),
                key: Some(pointer.trim_start_matches('/').replace('/', ".")),
                message: format!(
                    "unknown rule {id:?}; did you mean {}?",
                    catalog::nearest(&id, docs).join(" or ")
                ),
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(ConfigError {
                origin: policy.config.origin.clone(),
                problems,
            }))
        }
    }
}

/// The identity file a config names (`ai.identities: PATH`), read from the
/// snapshot the policy comes from: a regular file, within the size limit,
/// of the table's shape. Its problems stop the run, naming the file.
fn read_identities(
    repo: &Repository,
    snapshot: &Snapshot,
    path: &str,
    max_bytes: u64,
) -> Result<(TableExtension, Vec<u8>)> {
    let path = path.trim_start_matches("./");
    let origin = format!("{path} (ai.identities, in {})", snapshot.describe());
    let Some(stat) = snapshot.stat(repo, path)? else {
        return Err(Error::io(
            origin,
            "the AI identity file named by ai.identities does not exist",
        ));
    };
    if stat.symlink {
        return Err(Error::io(
            origin,
            "the AI identity file is a symbolic link; govops reads policy only from a regular file",
        ));
    }
    if stat.size > max_bytes {
        return Err(Error::io(
            origin,
            format!(
                "the AI identity file has {} bytes, more than limits.max_file_bytes ({max_bytes})",
                stat.size
            ),
        ));
    }
    let bytes = snapshot.read_stat(repo, path, &stat)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|e| Error::io(&origin, format!("not UTF-8: {e}")))?;
    let ext: TableExtension = serde_saphyr::from_str(text)
        .map_err(|e| Error::io(&origin, format!("not an identity table: {e}")))?;
    Ok((ext, bytes))
}

/// Whether the range changes the config file, the baseline or a file of a
/// rule dir (as the policy in force names them): then the head's policy is
/// validated too (`evaluate::head_policy_problems`).
pub fn edited_by(input: &crate::input::Input) -> bool {
    let policy = &input.policy;
    let baseline = input.config.get("baseline").and_then(|b| b.as_str());
    input.changes.files.iter().any(|f| {
        std::iter::once(f.path.as_str())
            .chain(f.old_path.as_deref())
            .any(|path| {
                path == policy.config_path
                    || baseline == Some(path)
                    || policy.dirs.iter().any(|d| {
                        path.strip_prefix(d.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                    })
            })
    })
}
