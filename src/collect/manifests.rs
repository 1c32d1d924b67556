//! Deployment manifests: which files hold them (include/exclude globs, Helm
//! templates and symlinks skipped), loading them with positions, matching each
//! object with its version at the merge-base, and the environment it belongs to.
//!
//! A file that cannot be read never passes silently: it becomes an input
//! error, which the built-in rule GOV-INPUT-001 turns into a deny finding.

use crate::collect::git::{EntryKind, Snapshot};
use crate::collect::yaml::{self, Document, NodeKind, Pos};
use crate::config::ValidConfig;
use crate::error::{Error, Result};
use crate::input::{InputError, Manifest, Skipped};
use git2::Repository;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A loaded file: its text (for snippets and positions).
#[derive(Debug)]
pub struct SourceFile {
    pub text: String,
    /// The positioned documents, parsed again on first use: findings point
    /// into few files, and keeping every node of every file alive until the
    /// report cost 20 MB and a twentieth of a large check.
    docs: OnceLock<Vec<Document>>,
    limits: yaml::Limits,
}

impl SourceFile {
    pub fn new(text: String, limits: yaml::Limits) -> Self {
        SourceFile {
            text,
            docs: OnceLock::new(),
            limits,
        }
    }

    /// Position of a JSON Pointer inside document `doc`.
    pub fn locate(&self, doc: usize, pointer: &str) -> Option<Pos> {
        self.docs
            .get_or_init(|| yaml::load(&self.text, self.limits).unwrap_or_default())
            .iter()
            .find(|d| d.index == doc)
            .map(|d| d.root.locate(pointer))
    }
}

/// What manifest collection produced.
#[derive(Debug, Default)]
pub struct Collected {
    pub manifests: Vec<Manifest>,
    /// Head versions of the files, by path, for locating findings.
    pub sources: HashMap<String, SourceFile>,
    pub skipped: Skipped,
    pub errors: Vec<InputError>,
}

impl Collected {
    /// Add what a later part of the candidates produced.
    fn append(&mut self, other: Collected) {
        self.manifests.extend(other.manifests);
        self.sources.extend(other.sources);
        self.skipped.documents += other.skipped.documents;
        self.skipped.helm_templates += other.skipped.helm_templates;
        self.skipped.symlinks += other.skipped.symlinks;
        self.errors.extend(other.errors);
    }
}

/// Where a file's manifests come from and what it was before.
pub struct Candidate {
    pub path: String,
    /// The path at the merge-base (differs for a rename); None when added.
    pub before: Option<String>,
    /// Whether the file itself is unchanged (then every object is unchanged).
    pub unchanged: bool,
    /// The file was deleted: only its previous objects exist.
    pub deleted: bool,
}

pub struct Loader<'a> {
    pub repo: &'a Repository,
    pub config: &'a ValidConfig,
    /// `--manifests` globs, replacing the configured include globs.
    pub include_override: Option<globset::GlobSet>,
}

impl Loader<'_> {
    /// Whether a path is a manifest candidate by the globs, matched against
    /// the path's exact bytes (`path` is escaped: see `crate::repo_path`).
    pub fn wanted(&self, path: &str) -> bool {
        let include = self
            .include_override
            .as_ref()
            .unwrap_or(&self.config.include);
        let path = crate::repo_path::to_path(path);
        include.is_match(&path) && !self.config.exclude.is_match(&path)
    }

    /// Load the candidates from `head` (and their previous versions from
    /// `before`). Reading and parsing thousands of files is split over the
    /// cores, each with its own handle on the repository (libgit2's are not
    /// shared between threads); the result is in the candidates' order.
    pub fn load(
        &self,
        head: &Snapshot,
        before: Option<&Snapshot>,
        mut candidates: Vec<Candidate>,
    ) -> Result<Collected> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        if threads == 1 || candidates.len() < 64 {
            return self.load_part(head, before, candidates);
        }
        // Contiguous parts: files of one folder share trees and Helm charts.
        let size = candidates.len().div_ceil(threads);
        let mut parts = Vec::with_capacity(threads);
        while candidates.len() > size {
            parts.push(candidates.split_off(candidates.len() - size));
        }
        parts.push(candidates);
        parts.reverse();
        let path = self.repo.path();
        let (config, include) = (self.config, &self.include_override);
        let mut rest = parts.split_off(1);
        let mine = parts.pop().unwrap_or_default();
        std::thread::scope(|scope| {
            let helpers: Vec<_> = rest
                .drain(..)
                .map(|part| {
                    scope.spawn(move || -> Result<Collected> {
                        let repo = crate::collect::git::reopen(path)?;
                        let loader = Loader {
                            repo: &repo,
                            config,
                            include_override: include.clone(),
                        };
                        loader.load_part(head, before, part)
                    })
                })
                .collect();
            let mut out = self.load_part(head, before, mine)?;
            for helper in helpers {
                let part = helper
                    .join()
                    .map_err(|_| Error::Git("a manifest reader thread panicked".into()))??;
                out.append(part);
            }
            Ok(out)
        })
    }

    /// Load some candidates, in order, on this thread.
    fn load_part(
        &self,
        head: &Snapshot,
        before: Option<&Snapshot>,
        candidates: Vec<Candidate>,
    ) -> Result<Collected> {
        let mut out = Collected::default();
        let mut charts: HashMap<String, bool> = HashMap::new();
        for c in candidates {
            let snapshot_for_chart = if c.deleted {
                before.unwrap_or(head)
            } else {
                head
            };
            if self.is_helm_template(snapshot_for_chart, &c.path, &mut charts)? {
                out.skipped.helm_templates += 1;
                continue;
            }
            let previous = match (&c.before, before) {
                (Some(p), Some(snap)) if !c.unchanged => {
                    self.load_file(snap, p, &mut out, false)?
                }
                _ => None,
            };
            let current = if c.deleted {
                None
            } else {
                self.load_file(head, &c.path, &mut out, true)?
            };
            // A head file that failed to load has an error already; its
            // previous objects must not then look deleted.
            if !c.deleted && current.is_none() {
                continue;
            }
            let mut previous_objects: BTreeMap<ObjectKey, (usize, Value)> = BTreeMap::new();
            if let Some(docs) = &previous {
                for d in docs {
                    if let Some(key) = object_key(&d.1) {
                        previous_objects.insert(key, (d.0, d.1.clone()));
                    }
                }
            }
            for (doc, object) in current.unwrap_or_default() {
                let Some(key) = object_key(&object) else {
                    out.skipped.documents += 1;
                    continue;
                };
                let prev = previous_objects.remove(&key).map(|(_, v)| v);
                let change = match (&prev, c.unchanged, c.before.is_some()) {
                    (_, true, _) => "unchanged",
                    (Some(p), _, _) if *p == object => "unchanged",
                    (Some(_), _, _) => "modified",
                    (None, _, _) => "added",
                };
                out.manifests
                    .push(self.manifest(&c.path, doc, object, prev, change));
            }
            for (_, (doc, object)) in previous_objects {
                let mut m = self.manifest(&c.path, doc, object.clone(), Some(object), "deleted");
                m.doc = doc;
                out.manifests.push(m);
            }
        }
        Ok(out)
    }

    fn manifest(
        &self,
        file: &str,
        doc: usize,
        object: Value,
        previous: Option<Value>,
        change: &'static str,
    ) -> Manifest {
        let meta = object.get("metadata");
        let text = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let map = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let labels: Map<String, Value> = map("labels");
        let annotations: Map<String, Value> = map("annotations");
        let env_key = &self.config.config.environments.label;
        let environment = labels
            .get(env_key)
            .or_else(|| annotations.get(env_key))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                let path = crate::repo_path::to_path(file);
                self.config
                    .env_paths
                    .iter()
                    .find(|(_, set)| set.is_match(&path))
                    .map(|(env, _)| env.clone())
            });
        Manifest {
            file: file.to_string(),
            doc,
            api_version: object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            kind: object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            name: text("name"),
            namespace: text("namespace"),
            labels,
            annotations,
            environment,
            change,
            object,
            previous,
        }
    }

    /// A file under `templates/` next to a `Chart.yaml` is a Helm template, not YAML.
    fn is_helm_template(
        &self,
        snap: &Snapshot,
        path: &str,
        charts: &mut HashMap<String, bool>,
    ) -> Result<bool> {
        let parts: Vec<&str> = path.split('/').collect();
        for (i, part) in parts.iter().enumerate().take(parts.len().saturating_sub(1)) {
            if *part != "templates" {
                continue;
            }
            let chart_dir = parts[..i].join("/");
            let known = match charts.get(&chart_dir) {
                Some(k) => *k,
                None => {
                    let chart = if chart_dir.is_empty() {
                        "Chart.yaml".to_string()
                    } else {
                        format!("{chart_dir}/Chart.yaml")
                    };
                    let is_chart = snap.size(self.repo, &chart)?.is_some();
                    charts.insert(chart_dir, is_chart);
                    is_chart
                }
            };
            if known {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Manifests piped in (`helm template . | govops check --manifests -`):
    /// judged for what they hold, not for what they change.
    pub fn load_stream(&self, name: &str, text: &str, out: &mut Collected) {
        let limits = &self.config.config.limits;
        let docs = match yaml::load(text, yaml::Limits::from(limits)) {
            Ok(d) => d,
            Err(e) => {
                out.errors.push(InputError {
                    file: name.to_string(),
                    commit: None,
                    line: Some(e.pos.line),
                    column: Some(e.pos.column),
                    message: format!("not valid YAML: {}", e.message),
                });
                return;
            }
        };
        for d in &docs {
            let object = d.root.to_json();
            if object_key(&object).is_none() {
                out.skipped.documents += 1;
                continue;
            }
            out.manifests
                .push(self.manifest(name, d.index, object, None, "unchanged"));
        }
        drop(docs);
        out.sources.insert(
            name.to_string(),
            SourceFile::new(text.to_string(), yaml::Limits::from(limits)),
        );
    }

    /// Load one file's documents as JSON, recording errors and (for the head
    /// version) its source. None when it could not be loaded or does not exist.
    fn load_file(
        &self,
        snap: &Snapshot,
        path: &str,
        out: &mut Collected,
        is_head: bool,
    ) -> Result<Option<Vec<(usize, Value)>>> {
        let limits = &self.config.config.limits;
        let mut error = |line: Option<u32>, column: Option<u32>, message: String| {
            if is_head {
                out.errors.push(InputError {
                    file: path.to_string(),
                    commit: None,
                    line,
                    column,
                    message,
                });
            }
        };
        let Some(stat) = snap.stat(self.repo, path)? else {
            return Ok(None);
        };
        if stat.symlink {
            // Links are never followed: one can point out of the repository.
            if is_head {
                out.skipped.symlinks += 1;
            }
            return Ok(None);
        }
        let size = stat.size;
        if size > limits.max_file_bytes {
            error(
                None,
                None,
                format!(
                    "{size} bytes is over limits.max_file_bytes ({}): not read, so not judged",
                    limits.max_file_bytes
                ),
            );
            return Ok(None);
        }
        let bytes = match snap.read_stat(self.repo, path, &stat) {
            Ok(b) => b,
            Err(e) => {
                error(None, None, format!("cannot be read: {e}"));
                return Ok(None);
            }
        };
        let text = match decode(&bytes) {
            Ok(t) => t,
            Err((line, message)) => {
                error(Some(line), None, message);
                return Ok(None);
            }
        };
        let docs = match yaml::load(&text, yaml::Limits::from(limits)) {
            Ok(d) => d,
            Err(e) => {
                error(
                    Some(e.pos.line),
                    Some(e.pos.column),
                    format!("not valid YAML: {}", e.message),
                );
                if is_head {
                    out.sources.insert(
                        path.to_string(),
                        SourceFile::new(text, yaml::Limits::from(limits)),
                    );
                }
                return Ok(None);
            }
        };
        let values: Vec<(usize, Value)> = docs
            .iter()
            .filter(|d| {
                matches!(
                    d.root.kind,
                    NodeKind::Map(_) | NodeKind::Seq(_) | NodeKind::Scalar(_)
                )
            })
            .map(|d| (d.index, d.root.to_json()))
            .collect();
        drop(docs);
        if is_head {
            out.sources.insert(
                path.to_string(),
                SourceFile::new(text, yaml::Limits::from(limits)),
            );
        }
        Ok(Some(values))
    }
}

/// Manifests are UTF-8 text; a NUL byte or a bad sequence means a binary file.
pub fn decode(bytes: &[u8]) -> std::result::Result<String, (u32, String)> {
    let line_of =
        |offset: usize| bytes[..offset].iter().filter(|b| **b == b'\n').count() as u32 + 1;
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        return Err((
            line_of(nul),
            "holds a NUL byte: a binary file, not YAML".into(),
        ));
    }
    let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        (
            line_of(at),
            format!("not UTF-8 text (invalid byte at offset {at})"),
        )
    })?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text))
}

/// The identity of an object across revisions: apiVersion, kind, namespace, name.
type ObjectKey = (String, String, Option<String>, Option<String>);

fn object_key(object: &Value) -> Option<ObjectKey> {
    let api = object.get("apiVersion")?.as_str()?;
    let kind = object.get("kind")?.as_str()?;
    let meta = object.get("metadata");
    let get = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some((
        api.to_string(),
        kind.to_string(),
        get("namespace"),
        get("name"),
    ))
}

/// All candidates of a snapshot (`--all-manifests`), marking which changed.
pub fn every_file(
    loader: &Loader<'_>,
    repo: &Repository,
    snap: &Snapshot,
    changed: &HashMap<String, Option<String>>,
    skipped: &mut Skipped,
) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for entry in snap.list(repo, "")? {
        if !loader.wanted(&entry.path) {
            continue;
        }
        if entry.kind == EntryKind::Symlink {
            skipped.symlinks += 1;
            continue;
        }
        let before = changed.get(&entry.path);
        out.push(Candidate {
            before: match before {
                Some(old) => old.clone(),
                None => Some(entry.path.clone()),
            },
            unchanged: before.is_none(),
            deleted: false,
            path: entry.path,
        });
    }
    Ok(out)
}
