//! Deployment manifests: which files hold them (include/exclude globs, Helm
//! templates and symlinks skipped), loading them with positions (Lists
//! unpacked into their items), matching each object with its version at the
//! merge-base, and the environment it belongs to.
//!
//! A file that cannot be read never passes silently: it becomes an input
//! error, which the built-in rule GOV-INPUT-001 turns into a deny finding.
//! A skip is never something the judged change can grant itself: content the
//! base judged that the head skips (a Chart.yaml above it, a rename into an
//! excluded name, a link, a lost kind) is recorded in `skipped.unjudged`,
//! which GOV-INPUT-002/003 turn into findings.

use crate::collect::git::{EntryKind, Handle, Snapshot};
use crate::config::ValidConfig;
use crate::error::Result;
use crate::input::{InputError, ListItem, Manifest, ManifestChange, SkipReason, Skipped, Unjudged};
use crate::source::SourceFile;
use crate::yaml::{self, Document, NodeKind};
use git2::Repository;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

impl From<&crate::config::Limits> for yaml::Limits {
    fn from(l: &crate::config::Limits) -> Self {
        yaml::Limits {
            max_documents: l.max_documents,
            max_alias_expansion: l.max_alias_expansion,
        }
    }
}

/// The List items among a file's objects, by doc number.
fn items(objects: &[Object]) -> impl Iterator<Item = (usize, &ListItem)> {
    objects
        .iter()
        .filter_map(|o| o.item.as_ref().map(|item| (o.doc, item)))
}

/// One object of a file: a document, or an item of a List in one.
#[derive(Debug, Clone)]
pub struct Object {
    pub doc: usize,
    pub item: Option<ListItem>,
    pub value: Value,
}

/// The objects of a file's documents, each List replaced by its items as
/// `kubectl apply` unpacks it (an object with `kind` and `items`; nested
/// Lists too). An item gets a doc number of its own, after the file's
/// documents, so that file and doc still name one object.
pub fn objects(docs: &[Document]) -> std::result::Result<Vec<Object>, yaml::LoadError> {
    let mut next = docs.last().map_or(0, |d| d.index + 1);
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        if is_list(&d.root) {
            unpack(&d.root, d.index, "", &mut next, &mut out)?;
        } else {
            out.push(Object {
                doc: d.index,
                item: None,
                value: d.root.to_json(),
            });
        }
    }
    Ok(out)
}

/// What kubectl decodes as a list: an object with a kind and `items` (its
/// decoder looks for `items`, not at the kind's name).
fn is_list(node: &yaml::Node) -> bool {
    matches!(
        node.get("kind").map(|k| &k.kind),
        Some(NodeKind::Scalar(Value::String(_)))
    ) && node.get("items").is_some()
}

fn unpack(
    list: &yaml::Node,
    doc: usize,
    pointer: &str,
    next: &mut usize,
    out: &mut Vec<Object>,
) -> std::result::Result<(), yaml::LoadError> {
    let Some(items) = list.get("items") else {
        return Ok(());
    };
    let at = list.locate(&format!("{pointer}/items"));
    match &items.kind {
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let pointer = format!("{pointer}/items/{i}");
                if !matches!(item.kind, NodeKind::Map(_)) {
                    return Err(yaml::LoadError {
                        pos: item.pos,
                        message: format!(
                            "item {pointer} of a List is not an object: kubectl cannot apply it"
                        ),
                    });
                }
                if is_list(item) {
                    unpack(item, doc, &pointer, next, out)?;
                } else {
                    out.push(Object {
                        doc: *next,
                        item: Some(ListItem { doc, pointer }),
                        value: item.to_json(),
                    });
                    *next += 1;
                }
            }
            Ok(())
        }
        // `items: null` is an empty List.
        NodeKind::Scalar(Value::Null) => Ok(()),
        _ => Err(yaml::LoadError {
            pos: if pointer.is_empty() { at } else { items.pos },
            message: format!(
                "`items` of a List ({}) must be a list of objects",
                if pointer.is_empty() {
                    "/items".to_string()
                } else {
                    format!("{pointer}/items")
                }
            ),
        }),
    }
}

/// What collection made of one version of a file.
enum FileState {
    /// Its objects, Lists unpacked.
    Read(Vec<Object>),
    /// Not read: a symbolic link.
    Link,
    /// Could not be read; for the head version an input error says why.
    Failed,
    /// No regular file there (nothing, or a submodule).
    Absent,
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
        self.skipped.append(other.skipped);
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
    /// Why the head version is not read, known before reading it: symlink,
    /// gitlink, excluded, not-a-manifest-name. It is a candidate still, for
    /// the list of skipped files and to see whether the base judged it.
    pub skip: Option<SkipReason>,
}

pub struct Loader<'a> {
    pub repo: &'a Repository,
    pub config: &'a ValidConfig,
    /// `--manifests` globs, replacing the configured include globs.
    pub include_override: Option<globset::GlobSet>,
    /// Manifest bytes read so far in this run, by every reader thread
    /// (`limits.max_total_bytes`).
    pub spent: &'a std::sync::atomic::AtomicU64,
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
        // A Terraform plan is JSON too, judged by collect/terraform.rs.
        include.is_match(&path)
            && !self.config.exclude.is_match(&path)
            && !self.config.plans.is_match(&path)
    }

    /// Whether a path's manifests are judged: by the globs, the extension's
    /// case aside (kubectl and Argo CD read `App.YAML` like `app.yaml`).
    pub fn judges(&self, path: &str) -> bool {
        self.wanted(path) || lower_extension(path).is_some_and(|p| self.wanted(&p))
    }

    /// Whether the include globs take a path that the exclude globs leave out.
    pub fn excluded(&self, path: &str) -> bool {
        let include = self
            .include_override
            .as_ref()
            .unwrap_or(&self.config.include);
        let lower = lower_extension(path);
        let included =
            include.is_match(path) || lower.as_deref().is_some_and(|p| include.is_match(p));
        included
            && (self.config.exclude.is_match(path)
                || lower.is_some_and(|p| self.config.exclude.is_match(p)))
    }

    /// Load the candidates from `head` (and their previous versions from
    /// `before`). Reading and parsing thousands of files is split over the
    /// cores, each with its own handle on the repository (libgit2's are not
    /// shared between threads); the result is in the candidates' order.
    pub fn load(
        &self,
        head: &Snapshot,
        before: Option<&Snapshot>,
        candidates: Vec<Candidate>,
    ) -> Result<Collected> {
        // Contiguous parts: files of one folder share trees and Helm charts.
        let fan = crate::parallel::Fan {
            what: "a manifest reader",
            serial_below: 64,
            pieces: crate::parallel::Pieces::PerWorker,
        };
        let path = self.repo.path();
        let (config, include, spent) = (self.config, &self.include_override, self.spent);
        let parts = crate::parallel::map(
            &candidates,
            fan,
            Handle::Caller(self.repo),
            || {
                let repo = crate::collect::git::reopen(path)?;
                if matches!(head, Snapshot::Index) {
                    crate::collect::git::index::use_hooks_index(&repo)?;
                }
                Ok(Handle::Own(repo))
            },
            |repo, part| {
                let loader = Loader {
                    repo,
                    config,
                    include_override: include.clone(),
                    spent,
                };
                loader.load_part(head, before, part)
            },
        )?;
        let mut parts = parts.into_iter();
        let mut out = parts.next().unwrap_or_default();
        for part in parts {
            out.append(part);
        }
        Ok(out)
    }

    /// Load some candidates, in order, on this thread.
    fn load_part(
        &self,
        head: &Snapshot,
        before: Option<&Snapshot>,
        candidates: &[Candidate],
    ) -> Result<Collected> {
        let mut out = Collected::default();
        // Whether a folder is a chart, per snapshot: one lookup per folder.
        let mut charts: HashMap<String, bool> = HashMap::new();
        let mut base_charts: HashMap<String, bool> = HashMap::new();
        for c in candidates {
            let skip = match c.skip {
                Some(reason) => Some(reason),
                None if c.deleted => self
                    .is_helm_template(before.unwrap_or(head), &c.path, &mut base_charts)?
                    .then_some(SkipReason::HelmTemplate),
                None => self
                    .is_helm_template(head, &c.path, &mut charts)?
                    .then_some(SkipReason::HelmTemplate),
            };
            if let Some(reason) = skip {
                if reason != SkipReason::NotAManifestName {
                    out.skipped.file(&c.path, reason);
                }
                if !c.deleted {
                    self.judged_at_base(c, before, reason, &mut base_charts, &mut out)?;
                }
                continue;
            }
            let previous = match (&c.before, before) {
                (Some(p), Some(snap)) if !c.unchanged => {
                    match self.load_file(snap, p, &mut out, false)? {
                        FileState::Read(objects) => Some(objects),
                        _ => None,
                    }
                }
                _ => None,
            };
            let current = if c.deleted {
                None
            } else {
                match self.load_file(head, &c.path, &mut out, true)? {
                    FileState::Read(objects) => Some(objects),
                    // An error says why; its previous objects must not then
                    // look deleted.
                    FileState::Failed => continue,
                    state => {
                        let reason = if matches!(state, FileState::Link) {
                            out.skipped.file(&c.path, SkipReason::Symlink);
                            SkipReason::Symlink
                        } else {
                            SkipReason::NotAFile
                        };
                        self.judged_at_base(c, before, reason, &mut base_charts, &mut out)?;
                        continue;
                    }
                }
            };
            let mut previous_objects: BTreeMap<ObjectKey, Object> = BTreeMap::new();
            for o in previous.unwrap_or_default() {
                if let Some(key) = object_key(&o.value) {
                    previous_objects.insert(key, o);
                }
            }
            let old_path = c.before.as_deref().filter(|p| *p != c.path);
            let moved = old_path.is_some();
            let mut unkeyed = 0;
            for o in current.unwrap_or_default() {
                let Some(key) = object_key(&o.value) else {
                    out.skipped.documents += 1;
                    unkeyed += 1;
                    continue;
                };
                let prev = previous_objects.remove(&key).map(|o| o.value);
                let change = match (&prev, c.unchanged) {
                    (_, true) => ManifestChange::Unchanged,
                    // A moved file's objects are changed, whatever their
                    // content: they leave the application that syncs the
                    // old folder (which prunes them) for the new one's.
                    (Some(p), _) if *p == o.value && !moved => ManifestChange::Unchanged,
                    (Some(_), _) => ManifestChange::Modified,
                    (None, _) => ManifestChange::Added,
                };
                let was_in = prev.as_ref().and(old_path);
                out.manifests
                    .push(self.manifest(&c.path, was_in, o, prev, change));
            }
            // Objects the base judged that became documents without
            // apiVersion or kind: the change took them out of judgement.
            if unkeyed > 0 && !previous_objects.is_empty() {
                let old = c.before.clone().unwrap_or_else(|| c.path.clone());
                let environments = self.environments(&old, previous_objects.values());
                out.skipped.unjudged.push(Unjudged {
                    path: c.path.clone(),
                    old_path: (old != c.path).then_some(old),
                    reason: SkipReason::NoKind,
                    message: format!(
                        "{}: {unkeyed} document(s) without apiVersion or kind, and {} object(s) judged at the base are gone: a document the gate skips is not judged",
                        c.path,
                        previous_objects.len()
                    ),
                    environments,
                });
            }
            // A deleted object lived at the old path: that path's
            // environment is its own (a rename out of deploy/prod/ that also
            // renames the object must not judge it as the new folder's).
            for (_, o) in previous_objects {
                let value = o.value.clone();
                out.manifests.push(self.manifest(
                    &c.path,
                    old_path,
                    o,
                    Some(value),
                    ManifestChange::Deleted,
                ));
            }
        }
        Ok(out)
    }

    /// The head version of a candidate is skipped for `reason`: if its base
    /// version held objects the gate judged, the change took them out of
    /// judgement, and that is recorded for GOV-INPUT-002/003.
    fn judged_at_base(
        &self,
        c: &Candidate,
        before: Option<&Snapshot>,
        reason: SkipReason,
        base_charts: &mut HashMap<String, bool>,
        out: &mut Collected,
    ) -> Result<()> {
        let (Some(old), Some(snap)) = (&c.before, before) else {
            return Ok(());
        };
        if !self.judges(old) || self.is_helm_template(snap, old, base_charts)? {
            return Ok(());
        }
        let FileState::Read(objects) = self.load_file(snap, old, out, false)? else {
            return Ok(());
        };
        let judged: Vec<&Object> = objects
            .iter()
            .filter(|o| object_key(&o.value).is_some())
            .collect();
        if judged.is_empty() {
            return Ok(());
        }
        let what = match reason {
            SkipReason::HelmTemplate => "is now a Helm template (a Chart.yaml above its templates/ folder), which govops does not read",
            SkipReason::Excluded => "matches manifests.exclude",
            SkipReason::NotAManifestName => "has no manifest file name (manifests.include)",
            SkipReason::Symlink => "is now a symbolic link, which govops does not follow",
            SkipReason::Gitlink => "is now a submodule (gitlink), another repository's content",
            SkipReason::NotAFile | SkipReason::NoKind | SkipReason::LinkAdded => {
                "is no longer a regular file"
            }
        };
        let renamed = if old != &c.path {
            format!(" (renamed from {old})")
        } else {
            String::new()
        };
        out.skipped.unjudged.push(Unjudged {
            path: c.path.clone(),
            old_path: (old != &c.path).then(|| old.clone()),
            reason,
            message: format!(
                "{}{renamed} {what}: its {} object(s) judged at the base are no longer judged",
                c.path,
                judged.len()
            ),
            environments: self.environments(old, judged.into_iter()),
        });
        Ok(())
    }

    /// The distinct environments of some objects of `file`, sorted: every
    /// one each is associated with (see `associated`).
    fn environments<'o>(
        &self,
        file: &str,
        objects: impl Iterator<Item = &'o Object>,
    ) -> Vec<String> {
        let mut set = BTreeSet::new();
        for o in objects {
            self.associated(file, &o.value, &mut set);
        }
        set.into_iter().collect()
    }

    /// Every environment one version of an object is associated with: its
    /// label AND its annotation, its path's first `environments.paths`
    /// match, and every production environment whose globs take the path.
    /// The author of a change chooses the label and the file name; the
    /// folder is what Argo CD syncs. A path in a production folder is
    /// production whatever an earlier glob or the label says.
    fn associated(&self, file: &str, object: &Value, out: &mut BTreeSet<String>) {
        let envs = &self.config.config.environments;
        let meta = object.get("metadata");
        for k in ["labels", "annotations"] {
            if let Some(e) = meta
                .and_then(|m| m.get(k))
                .and_then(|m| m.get(&envs.label))
                .and_then(Value::as_str)
            {
                out.insert(e.to_string());
            }
        }
        let path = crate::repo_path::to_path(file);
        let mut first = true;
        for (env, set) in &self.config.env_paths {
            if (first || envs.production.contains(env)) && set.is_match(&path) {
                out.insert(env.clone());
                first = false;
            }
        }
    }

    /// An object's environment: its label, else its annotation, else by path.
    pub fn environment(&self, file: &str, object: &Value) -> Option<String> {
        let meta = object.get("metadata");
        let env_key = &self.config.config.environments.label;
        let from = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(|m| m.get(env_key))
                .and_then(Value::as_str)
        };
        from("labels")
            .or_else(|| from("annotations"))
            .map(str::to_string)
            .or_else(|| {
                // Matched on the path's exact bytes (`file` may be escaped).
                let path = crate::repo_path::to_path(file);
                self.config
                    .env_paths
                    .iter()
                    .find(|(_, set)| set.is_match(&path))
                    .map(|(env, _)| env.clone())
            })
    }

    /// The input's record of one object; `previous_file` is where its
    /// previous version was, when that is another file.
    fn manifest(
        &self,
        file: &str,
        previous_file: Option<&str>,
        o: Object,
        previous: Option<Value>,
        change: ManifestChange,
    ) -> Manifest {
        let object = o.value;
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
        let environment = self.environment(file, &object);
        let was_in = previous_file.unwrap_or(file);
        let mut environments = BTreeSet::new();
        self.associated(file, &object, &mut environments);
        let previous_environment = previous.as_ref().and_then(|p| {
            self.associated(was_in, p, &mut environments);
            self.environment(was_in, p)
        });
        Manifest {
            file: file.to_string(),
            doc: o.doc,
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
            environments: environments.into_iter().collect(),
            previous_environment,
            change,
            object,
            previous,
            previous_file: previous_file.map(str::to_string),
            item: o.item,
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
            let known = if let Some(k) = charts.get(&chart_dir) {
                *k
            } else {
                let chart = if chart_dir.is_empty() {
                    "Chart.yaml".to_string()
                } else {
                    format!("{chart_dir}/Chart.yaml")
                };
                let is_chart = snap.size(self.repo, &chart)?.is_some();
                charts.insert(chart_dir, is_chart);
                is_chart
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
        let limits = yaml::Limits::from(&self.config.config.limits);
        let docs = yaml::load(text, limits);
        let positions = docs
            .as_ref()
            .map(|d| yaml::Positions::of(d))
            .unwrap_or_default();
        let objects = match docs.and_then(|docs| objects(&docs)) {
            Ok(o) => o,
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
        let source = SourceFile::new(text.to_string(), positions).with_items(items(&objects));
        for o in objects {
            if object_key(&o.value).is_none() {
                out.skipped.documents += 1;
                continue;
            }
            out.manifests
                .push(self.manifest(name, None, o, None, ManifestChange::Unchanged));
        }
        out.sources.insert(name.to_string(), source);
    }

    /// Load one file's objects, recording errors and (for the head
    /// version) its source.
    fn load_file(
        &self,
        snap: &Snapshot,
        path: &str,
        out: &mut Collected,
        is_head: bool,
    ) -> Result<FileState> {
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
            return Ok(FileState::Absent);
        };
        if stat.symlink {
            // Links are never followed: one can point out of the repository.
            return Ok(FileState::Link);
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
            return Ok(FileState::Failed);
        }
        // Many files each under the per-file limit must not add up to
        // gigabytes of parsed nodes: the run has one budget.
        let spent = self
            .spent
            .fetch_add(size, std::sync::atomic::Ordering::Relaxed)
            .saturating_add(size);
        if spent > limits.max_total_bytes {
            error(
                None,
                None,
                format!(
                    "not read: the manifests of this run passed limits.max_total_bytes ({} bytes) before this file, so it is not judged; check a narrower range, or raise the limit",
                    limits.max_total_bytes
                ),
            );
            return Ok(FileState::Failed);
        }
        let bytes = match snap.read_stat(self.repo, path, &stat) {
            Ok(b) => b,
            Err(e) => {
                error(None, None, format!("cannot be read: {e}"));
                return Ok(FileState::Failed);
            }
        };
        let text = match decode(&bytes) {
            Ok(t) => t,
            Err((line, message)) => {
                error(Some(line), None, message);
                return Ok(FileState::Failed);
            }
        };
        let limits = yaml::Limits::from(limits);
        let docs = yaml::load(&text, limits);
        // Positions are kept for the head's files, the ones findings point
        // into, from this one parse.
        let positions = match (&docs, is_head) {
            (Ok(docs), true) => yaml::Positions::of(docs),
            _ => yaml::Positions::default(),
        };
        match docs.and_then(|docs| objects(&docs)) {
            Ok(objects) => {
                if is_head {
                    out.sources.insert(
                        path.to_string(),
                        SourceFile::new(text, positions).with_items(items(&objects)),
                    );
                }
                Ok(FileState::Read(objects))
            }
            Err(e) => {
                error(
                    Some(e.pos.line),
                    Some(e.pos.column),
                    format!("not valid YAML: {}", e.message),
                );
                if is_head {
                    out.sources
                        .insert(path.to_string(), SourceFile::new(text, positions));
                }
                Ok(FileState::Failed)
            }
        }
    }
}

/// `path` with its extension in lower case, when that differs.
fn lower_extension(path: &str) -> Option<String> {
    let name_start = path.rfind('/').map_or(0, |i| i + 1);
    let dot = path[name_start..].rfind('.')? + name_start;
    let ext = &path[dot..];
    ext.bytes()
        .any(|b| b.is_ascii_uppercase())
        .then(|| format!("{}{}", &path[..dot], ext.to_ascii_lowercase()))
}

/// Manifests are UTF-8 text; a NUL byte or a bad sequence means a binary file.
pub fn decode(bytes: &[u8]) -> std::result::Result<String, (u32, String)> {
    let line_of =
        |offset: usize| bytes[..offset].iter().filter(|b| **b == b'\n').count() as u32 + 1;
    // A Git LFS pointer: the manifest itself is stored elsewhere, and a
    // checkout with LFS (Argo CD can) applies content govops never saw.
    if bytes.starts_with(b"version https://git-lfs.github.com/spec/") {
        return Err((
            1,
            "is a Git LFS pointer: the manifest's content is not in the repository, so it cannot be judged (commit manifests without LFS)".into(),
        ));
    }
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

/// All candidates of a snapshot (`--all-manifests`): the changed ones as
/// `changed` has them, in tree order, then those the tree walk does not list
/// (deleted files, submodules); unchanged files besides.
pub fn every_file(
    loader: &Loader<'_>,
    repo: &Repository,
    snap: &Snapshot,
    changed: Vec<Candidate>,
    skipped: &mut Skipped,
) -> Result<Vec<Candidate>> {
    let mut by_path: HashMap<String, Candidate> = HashMap::with_capacity(changed.len());
    let mut rest = Vec::new();
    for c in changed {
        if c.deleted || by_path.contains_key(&c.path) {
            rest.push(c);
        } else {
            by_path.insert(c.path.clone(), c);
        }
    }
    let mut out = Vec::new();
    for entry in snap.list(repo, "")? {
        if let Some(c) = by_path.remove(&entry.path) {
            out.push(c);
            continue;
        }
        if !loader.judges(&entry.path) {
            if loader.excluded(&entry.path) {
                skipped.file(&entry.path, SkipReason::Excluded);
            }
            continue;
        }
        if entry.kind == EntryKind::Symlink {
            skipped.file(&entry.path, SkipReason::Symlink);
            continue;
        }
        out.push(Candidate {
            before: Some(entry.path.clone()),
            unchanged: true,
            deleted: false,
            skip: None,
            path: entry.path,
        });
    }
    // Those the walk did not meet, in their own order.
    let mut left: Vec<Candidate> = by_path.into_values().collect();
    left.sort_by(|a, b| a.path.cmp(&b.path));
    out.extend(left);
    out.extend(rest);
    Ok(out)
}
