//! Terraform and OpenTofu JSON plans (`terraform show -json PLAN`): found by
//! the `terraform.plans` globs among the changed files (every file with
//! `--all-manifests`) or given with `--plan FILE` (`-` for stdin), read within
//! `limits.max_plan_bytes`, and turned into `input::Plan`s: each resource
//! change with its tags as they will be applied, its region, and the
//! `resource` block it comes from in the repository's `.tf` files (hcl-edit
//! keeps byte spans). A plan is attacker-controlled input in a pull request:
//! a plan that cannot be read, has another format major version or is
//! marked errored becomes an input error (GOV-INPUT-001), never a pass.

use crate::collect::git::{EntryKind, Snapshot};
use crate::config::ValidConfig;
use crate::error::{Error, Result};
use crate::input::{FileChange, FileKind, FileStatus, InputError, Plan, PlannedResource};
use crate::repo_path;
use git2::Repository;
use hcl_edit::structure::{Body, Structure};
use hcl_edit::Span;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

mod tf_json;

/// Planned values nested deeper than this are replaced by a marker string: no
/// rule looks that deep, and the evaluator's copy of the input stays bounded.
/// (serde_json itself refuses nesting past 128 levels: an input error.)
pub const MAX_VALUE_DEPTH: usize = 32;

/// What stands in for values past `MAX_VALUE_DEPTH`.
const TOO_DEEP: &str = "(too deep)";

/// What to read plans from.
pub struct Request<'a> {
    pub repo: &'a Repository,
    /// The repository root, to name `--plan` files inside it by their repository path.
    pub root: &'a Path,
    pub head: &'a Snapshot,
    pub changes: &'a [FileChange],
    pub config: &'a ValidConfig,
    /// Every plan file at head, not only the changed ones.
    pub all: bool,
    /// `--plan` arguments, in order (`-` is standard input).
    pub files: &'a [PathBuf],
    /// Standard input is already read as a manifest stream.
    pub stdin_taken: bool,
}

/// Read every plan the request names. Problems with one plan are input
/// errors; only what stops the whole run (git, usage) is an `Err`.
pub fn collect(req: &Request<'_>, errors: &mut Vec<InputError>) -> Result<Vec<Plan>> {
    let cfg = &req.config.config;
    let max = cfg.limits.max_plan_bytes;
    // (name in reports, repository path when in the repository, bytes)
    let mut found: Vec<(String, Option<String>, Vec<u8>)> = Vec::new();
    let mut error = |file: &str, line: Option<u32>, column: Option<u32>, message: String| {
        errors.push(InputError {
            file: file.to_string(),
            commit: None,
            line,
            column,
            message,
        });
    };
    for path in repo_plans(req)? {
        let Some(stat) = req.head.stat(req.repo, &path)? else {
            continue;
        };
        if stat.symlink {
            error(
                &path,
                None,
                None,
                "is a symbolic link where a Terraform plan is expected; links are not followed, so the plan is not judged".into(),
            );
            continue;
        }
        if stat.size > max {
            error(&path, None, None, over_limit(stat.size, max));
            continue;
        }
        let bytes = req.head.read_stat(req.repo, &path, &stat)?;
        found.push((path.clone(), Some(path), bytes));
    }
    for file in req.files {
        if file.as_os_str() == "-" {
            if req.stdin_taken {
                return Err(Error::Usage(
                    "--plan - and --manifests - both read standard input; give one of them a file"
                        .into(),
                ));
            }
            match read_bounded(std::io::stdin().lock(), max) {
                Ok(Some(bytes)) => found.push(("-".into(), None, bytes)),
                Ok(None) => error("-", None, None, over_limit(max + 1, max)),
                Err(e) => return Err(Error::io("stdin", e)),
            }
            continue;
        }
        let name = repo_path::from_path(file);
        let in_repo = std::fs::canonicalize(file)
            .ok()
            .zip(std::fs::canonicalize(req.root).ok())
            .and_then(|(f, r)| f.strip_prefix(&r).ok().map(repo_path::from_path));
        let opened = std::fs::File::open(file).and_then(|f| Ok((f.metadata()?, f)));
        let (meta, handle) = match opened {
            Ok(x) => x,
            // The operator named it: a missing plan is a usage error, not a finding.
            Err(e) => return Err(Error::io(&name, format!("cannot read the plan: {e}"))),
        };
        // A plan the globs already found in the change is judged once.
        if in_repo
            .as_ref()
            .is_some_and(|p| found.iter().any(|(_, r, _)| r.as_ref() == Some(p)))
        {
            continue;
        }
        if meta.len() > max {
            error(&name, None, None, over_limit(meta.len(), max));
            continue;
        }
        match read_bounded(handle, max) {
            Ok(Some(bytes)) => found.push((name, in_repo, bytes)),
            Ok(None) => error(&name, None, None, over_limit(max + 1, max)),
            Err(e) => return Err(Error::io(&name, format!("cannot read the plan: {e}"))),
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut sources = TfSources::new(req)?;
    let mut plans = Vec::new();
    for (name, repo_path, bytes) in found {
        match parse(&bytes, cfg.limits.max_plan_resources) {
            Ok(raw) => plans.push(build(req, &mut sources, name, repo_path.as_deref(), raw)),
            Err(e) => error(&name, e.line, e.column, e.message),
        }
    }
    Ok(plans)
}

fn over_limit(size: u64, max: u64) -> String {
    format!("the plan is {size} bytes, over limits.max_plan_bytes ({max}): not read, so not judged")
}

/// Read at most `max` bytes; None when there is more.
fn read_bounded(reader: impl Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// The plan files of the repository this run judges: the changed ones (every
/// one with `--all-manifests`) that the `terraform.plans` globs take.
fn repo_plans(req: &Request<'_>) -> Result<Vec<String>> {
    let globs = &req.config.plans;
    let matches = |path: &str| globs.is_match(repo_path::to_path(path));
    let mut out: Vec<String> = req
        .changes
        .iter()
        .filter(|f| {
            f.status != FileStatus::Deleted && f.kind != FileKind::Gitlink && matches(&f.path)
        })
        .map(|f| f.path.clone())
        .collect();
    if req.all {
        let seen: BTreeSet<String> = out.iter().cloned().collect();
        for entry in req.head.list(req.repo, "")? {
            if !seen.contains(&entry.path) && matches(&entry.path) {
                out.push(entry.path);
            }
        }
    }
    Ok(out)
}

/// A plan that cannot be judged, and where.
#[derive(Debug)]
struct ParseError {
    line: Option<u32>,
    column: Option<u32>,
    message: String,
}

// Only the parts of the plan format that rules read are typed: serde skips
// the rest (prior_state, planned_values, expressions) without keeping it.
#[derive(Deserialize)]
struct RawPlan {
    format_version: Option<String>,
    terraform_version: Option<String>,
    #[serde(default)]
    errored: bool,
    #[serde(default)]
    variables: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "bounded_changes")]
    resource_changes: Option<Vec<RawChange>>,
    #[serde(default)]
    configuration: Option<RawConfiguration>,
}

#[derive(Deserialize)]
struct RawChange {
    address: String,
    #[serde(default)]
    module_address: Option<String>,
    #[serde(default = "managed")]
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    provider_name: String,
    #[serde(default)]
    deposed: Option<String>,
    change: RawChangeBody,
}

thread_local! {
    /// `limits.max_plan_resources` for the parse under way on this thread.
    static MAX_RESOURCES: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// `resource_changes`, refused past `limits.max_plan_resources` while it is
/// read: memory stays bounded by the limit, not by the plan's size.
fn bounded_changes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<RawChange>>, D::Error> {
    struct Changes(usize);
    impl<'de> serde::de::Visitor<'de> for Changes {
        type Value = Option<Vec<RawChange>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of resource changes")
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(change) = seq.next_element::<RawChange>()? {
                if out.len() == self.0 {
                    return Err(serde::de::Error::custom(format!(
                        "more than limits.max_plan_resources ({}) resource changes: the plan is not judged; raise the limit for a plan this large",
                        self.0
                    )));
                }
                out.push(change);
            }
            Ok(Some(out))
        }
    }
    d.deserialize_any(Changes(MAX_RESOURCES.with(std::cell::Cell::get)))
}

fn managed() -> String {
    "managed".into()
}

#[derive(Deserialize)]
struct RawChangeBody {
    actions: Vec<String>,
    #[serde(default)]
    before: Option<Ids>,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
}

/// What names a resource's account in its prior values: the rest of
/// `before` is not kept.
#[derive(Deserialize, Default)]
struct Ids {
    #[serde(default)]
    arn: Value,
    #[serde(default)]
    id: Value,
    #[serde(default)]
    project: Value,
}

#[derive(Deserialize, Default)]
struct RawConfiguration {
    #[serde(default)]
    provider_config: Map<String, Value>,
    #[serde(default)]
    root_module: Option<RawModule>,
}

#[derive(Deserialize, Default)]
struct RawModule {
    #[serde(default)]
    resources: Vec<RawConfigResource>,
    #[serde(default)]
    module_calls: HashMap<String, RawModuleCall>,
}

#[derive(Deserialize)]
struct RawConfigResource {
    address: String,
    #[serde(default)]
    provider_config_key: Option<String>,
}

#[derive(Deserialize)]
struct RawModuleCall {
    #[serde(default)]
    module: Option<RawModule>,
}

fn parse(bytes: &[u8], max_resources: usize) -> std::result::Result<RawPlan, ParseError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    MAX_RESOURCES.with(|m| m.set(max_resources));
    let raw: RawPlan = serde_json::from_slice(bytes).map_err(|e| ParseError {
        line: (e.line() > 0).then_some(e.line() as u32),
        column: (e.column() > 0).then_some(e.column() as u32),
        message: format!(
            "not a Terraform JSON plan (`terraform show -json PLAN`): {}",
            strip_position(&e.to_string())
        ),
    })?;
    let fail = |message: String| ParseError {
        line: None,
        column: None,
        message,
    };
    let Some(version) = &raw.format_version else {
        return Err(fail(
            "has no format_version: not a Terraform JSON plan (`terraform show -json PLAN`)".into(),
        ));
    };
    if version.split('.').next() != Some("1") {
        return Err(fail(format!(
            "plan format_version {version:?}: this govops reads format 1.x, so the plan is not judged"
        )));
    }
    if raw.errored {
        return Err(fail(
            "the plan is marked errored: Terraform could not finish planning, so it is incomplete and not judged".into(),
        ));
    }
    if raw.resource_changes.is_none() && raw.configuration.is_none() {
        return Err(fail(
            "has neither resource_changes nor configuration: not a plan (a state file?)".into(),
        ));
    }
    Ok(raw)
}

/// serde_json's message ends with " at line L column C", which the finding carries apart.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

/// The provider configuration behind each resource of the configuration,
/// by its address without instance keys (`module.a.aws_s3_bucket.b`).
fn provider_keys(
    module: &RawModule,
    prefix: &str,
    depth: usize,
    out: &mut HashMap<String, String>,
) {
    if depth > MAX_VALUE_DEPTH {
        return;
    }
    for r in &module.resources {
        if let Some(key) = &r.provider_config_key {
            out.insert(format!("{prefix}{}", r.address), key.clone());
        }
    }
    for (name, call) in &module.module_calls {
        if let Some(m) = &call.module {
            provider_keys(m, &format!("{prefix}module.{name}."), depth + 1, out);
        }
    }
}

/// A provider configuration's constant expression at `path`
/// (`expressions.region.constant_value`; blocks are arrays of one).
fn constant<'v>(provider: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut v = provider.get("expressions")?;
    for key in path {
        v = v.get(key)?;
        if let Some(first) = v.as_array().and_then(|a| a.first()) {
            v = first;
        }
    }
    v.get("constant_value")
}

fn build(
    req: &Request<'_>,
    sources: &mut TfSources,
    file: String,
    repo_path: Option<&str>,
    raw: RawPlan,
) -> Plan {
    let cfg = &req.config;
    let configuration = raw.configuration.unwrap_or_default();
    let providers = &configuration.provider_config;
    let mut keys = HashMap::new();
    if let Some(root) = &configuration.root_module {
        provider_keys(root, "", 0, &mut keys);
    }
    let mut accounts = BTreeSet::new();
    for p in providers.values() {
        if let Some(ids) = constant(p, &["allowed_account_ids"]).and_then(Value::as_array) {
            accounts.extend(ids.iter().filter_map(Value::as_str).map(str::to_string));
        }
        if let Some(arn) = constant(p, &["assume_role", "role_arn"]).and_then(Value::as_str) {
            accounts.extend(arn_account(arn));
        }
    }
    let changes = raw.resource_changes.unwrap_or_default();
    let root = sources.root_for(repo_path, &changes);
    let mut resources = Vec::with_capacity(changes.len());
    for c in changes {
        let config_address = config_address(&c);
        let provider = keys
            .get(&config_address)
            .and_then(|k| providers.get(k.rsplit(':').next().unwrap_or(k)))
            .or_else(|| providers.get(provider_type(&c.provider_name)));
        let change = change_word(&c.change.actions);
        if !matches!(change.as_str(), "no-op" | "read") {
            let before = c.change.before.as_ref();
            for v in [
                c.change.after.get("arn"),
                before.map(|b| &b.arn),
                c.change.after.get("id"),
                before.map(|b| &b.id),
                c.change.after.get("project"),
                before.map(|b| &b.project),
            ]
            .into_iter()
            .flatten()
            {
                accounts.extend(v.as_str().and_then(value_account));
            }
        }
        let tags = applied_tags(&c.change.after, &c.change.after_unknown, provider);
        let (region, region_unknown) = region(&c.change.after, &c.change.after_unknown, provider);
        let (src_file, line) = match root.as_deref().and_then(|r| sources.locate(r, &c)) {
            Some((f, l)) => (f, Some(l)),
            None => (file.clone(), None),
        };
        let mut after = c.change.after;
        let mut after_unknown = c.change.after_unknown;
        truncate(&mut after, 0);
        truncate(&mut after_unknown, 0);
        resources.push(PlannedResource {
            provider_type: provider_type(&c.provider_name).to_string(),
            address: c.address,
            module: c.module_address,
            mode: c.mode,
            r#type: c.kind,
            name: c.name,
            provider: c.provider_name,
            actions: c.change.actions,
            change,
            deposed: c.deposed,
            after,
            after_unknown,
            tags: tags.known,
            tags_unknown: tags.unknown,
            tags_all_unknown: tags.all_unknown,
            tags_attribute: tags.attribute,
            region,
            region_unknown,
            file: src_file,
            line,
        });
    }
    let mut environments = BTreeSet::new();
    let mut env_paths: Vec<String> = repo_path.map(str::to_string).into_iter().collect();
    if let Some(r) = &root {
        env_paths.extend(sources.files_in(r));
    }
    for path in &env_paths {
        if let Some((env, _)) = cfg
            .env_paths
            .iter()
            .find(|(_, globs)| globs.is_match(repo_path::to_path(path)))
        {
            environments.insert(env.clone());
        }
    }
    if let Some(vars) = &raw.variables {
        for name in &cfg.config.cloud.environment_variables {
            if let Some(v) = vars
                .get(name)
                .and_then(|v| v.get("value"))
                .and_then(Value::as_str)
            {
                environments.insert(v.to_string());
            }
        }
    }
    Plan {
        file,
        format_version: raw.format_version.unwrap_or_default(),
        terraform_version: raw.terraform_version,
        root,
        environments: environments.into_iter().collect(),
        accounts: accounts.into_iter().collect(),
        resources,
    }
}

/// `registry.terraform.io/hashicorp/aws` -> `aws`.
fn provider_type(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The plan's actions as one word.
fn change_word(actions: &[String]) -> String {
    let has = |a: &str| actions.iter().any(|x| x == a);
    if has("delete") && has("create") {
        "replace".into()
    } else if actions.len() == 1 {
        actions[0].clone()
    } else {
        actions.join("-")
    }
}

/// The account in an ARN (`arn:aws:iam::123456789012:role/x`).
fn arn_account(arn: &str) -> Option<String> {
    let account = arn.strip_prefix("arn:")?.split(':').nth(3)?;
    (!account.is_empty()).then(|| account.to_string())
}

/// The account a resource's identifier names: an AWS ARN's account, an
/// Azure id's subscription, a GCP project.
fn value_account(value: &str) -> Option<String> {
    if value.starts_with("arn:") {
        return arn_account(value);
    }
    if let Some(rest) = value.strip_prefix("/subscriptions/") {
        return rest.split('/').next().map(str::to_string);
    }
    if let Some(rest) = value.strip_prefix("projects/") {
        return rest.split('/').next().map(str::to_string);
    }
    None
}

/// The resource's address in the configuration: the module path without
/// instance keys, then `type.name` (`data.type.name` for data sources).
fn config_address(c: &RawChange) -> String {
    let mut out = String::new();
    for m in module_names(c.module_address.as_deref().unwrap_or("")) {
        out.push_str("module.");
        out.push_str(&m);
        out.push('.');
    }
    if c.mode == "data" {
        out.push_str("data.");
    }
    out.push_str(&c.kind);
    out.push('.');
    out.push_str(&c.name);
    out
}

/// The module names of `module.a["x.y"].module.b[0]`: `[a, b]`. Instance
/// keys may hold dots and brackets inside their quotes.
fn module_names(address: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['[', '.']).unwrap_or(after.len());
        names.push(after[..end].to_string());
        rest = &after[end..];
        if rest.starts_with('[') {
            let mut in_string = false;
            let mut escaped = false;
            let mut close = rest.len();
            for (i, ch) in rest.char_indices() {
                match ch {
                    _ if escaped => escaped = false,
                    '\\' if in_string => escaped = true,
                    '"' => in_string = !in_string,
                    ']' if !in_string => {
                        close = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            rest = &rest[close..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    names
}

struct Tags {
    known: Map<String, Value>,
    unknown: Vec<String>,
    all_unknown: bool,
    attribute: bool,
}

/// The tags as they will be applied. The provider's merged set (`tags_all`,
/// Google's `effective_labels`) when the plan has it; else the resource's
/// own `tags`/`labels` over the provider's constant `default_tags`
/// (`default_labels`). Unknown values are listed apart, and a set that is
/// unknown as a whole (or merged from defaults that are not constants)
/// makes every absent key unknown rather than missing.
fn applied_tags(after: &Value, unknown: &Value, provider: Option<&Value>) -> Tags {
    let mut out = Tags {
        known: Map::new(),
        unknown: Vec::new(),
        all_unknown: false,
        attribute: false,
    };
    let split = |out: &mut Tags, attr: &str| {
        if let Some(map) = after.get(attr).and_then(Value::as_object) {
            for (k, v) in map {
                out.known.insert(k.clone(), v.clone());
            }
        }
        match unknown.get(attr) {
            Some(Value::Bool(true)) => out.all_unknown = true,
            Some(Value::Object(keys)) => {
                for (k, v) in keys {
                    if v == &Value::Bool(true) {
                        out.known.remove(k);
                        out.unknown.push(k.clone());
                    }
                }
            }
            _ => {}
        }
    };
    for attr in ["tags_all", "effective_labels"] {
        let present = after.get(attr).is_some_and(Value::is_object);
        let is_unknown = unknown.get(attr) == Some(&Value::Bool(true));
        out.attribute |= after.get(attr).is_some() || is_unknown;
        if present {
            split(&mut out, attr);
            return out;
        }
    }
    // No merged set: the provider's defaults, then the resource's own over them.
    let defaults = provider.and_then(|p| {
        constant(p, &["default_tags", "tags"]).or_else(|| constant(p, &["default_labels"]))
    });
    let has_default_block = provider
        .and_then(|p| p.get("expressions"))
        .is_some_and(|e| e.get("default_tags").is_some() || e.get("default_labels").is_some());
    match defaults.and_then(Value::as_object) {
        Some(map) => out
            .known
            .extend(map.iter().map(|(k, v)| (k.clone(), v.clone()))),
        None if has_default_block => out.all_unknown = true,
        None => {}
    }
    for attr in ["tags", "labels"] {
        let is_unknown = unknown.get(attr) == Some(&Value::Bool(true));
        if after.get(attr).is_some() || is_unknown {
            out.attribute = true;
            split(&mut out, attr);
            break;
        }
    }
    out.unknown.sort();
    out.unknown.dedup();
    out
}

/// The resource's region, or its provider's constant one.
fn region(after: &Value, unknown: &Value, provider: Option<&Value>) -> (Option<String>, bool) {
    for attr in ["region", "location"] {
        if unknown.get(attr) == Some(&Value::Bool(true)) {
            return (None, true);
        }
        if let Some(r) = after.get(attr).and_then(Value::as_str) {
            return (Some(r.to_string()), false);
        }
    }
    match provider {
        Some(p) => match constant(p, &["region"]).and_then(Value::as_str) {
            Some(r) => (Some(r.to_string()), false),
            // A region from a variable or another resource: known at apply.
            None => (None, p.pointer("/expressions/region").is_some()),
        },
        None => (None, false),
    }
}

/// Replace what lies deeper than `MAX_VALUE_DEPTH` by a marker.
fn truncate(value: &mut Value, depth: usize) {
    match value {
        Value::Array(items) if depth >= MAX_VALUE_DEPTH => {
            items.clear();
            *value = Value::String(TOO_DEEP.into());
        }
        Value::Object(_) if depth >= MAX_VALUE_DEPTH => *value = Value::String(TOO_DEEP.into()),
        Value::Array(items) => items.iter_mut().for_each(|v| truncate(v, depth + 1)),
        Value::Object(map) => map.values_mut().for_each(|v| truncate(v, depth + 1)),
        _ => {}
    }
}

/// The `.tf` files of the head, by folder, parsed on first use.
struct TfSources<'a> {
    repo: &'a Repository,
    head: &'a Snapshot,
    max_file: u64,
    /// Bytes of `.tf` files still to be read in this run.
    budget: u64,
    dirs: HashMap<String, Vec<String>>,
    parsed: HashMap<String, Folder>,
}

/// What one folder's `.tf` files declare, with the file and line of each.
#[derive(Default)]
struct Folder {
    /// (block type: resource | data, resource type, name) -> (file, line)
    blocks: HashMap<(String, String, String), (String, u32)>,
    /// module name -> (file, line, source)
    modules: HashMap<String, (String, u32, Option<String>)>,
}

impl<'a> TfSources<'a> {
    // Terraform matches the suffixes case-sensitively (`MAIN.TF` is not read).
    #[allow(clippy::case_sensitive_file_extension_comparisons)]
    fn new(req: &Request<'a>) -> Result<Self> {
        let mut dirs: HashMap<String, Vec<String>> = HashMap::new();
        for entry in req.head.list(req.repo, "")? {
            // Terraform reads `*.tf` and `*.tf.json` by those exact suffixes.
            if entry.kind == EntryKind::File
                && (entry.path.ends_with(".tf") || entry.path.ends_with(".tf.json"))
            {
                let dir = entry.path.rfind('/').map_or("", |i| &entry.path[..i]);
                dirs.entry(dir.to_string()).or_default().push(entry.path);
            }
        }
        let limits = &req.config.config.limits;
        Ok(TfSources {
            repo: req.repo,
            head: req.head,
            max_file: limits.max_file_bytes,
            budget: limits.max_total_bytes,
            dirs,
            parsed: HashMap::new(),
        })
    }

    fn files_in(&self, dir: &str) -> Vec<String> {
        self.dirs.get(dir).cloned().unwrap_or_default()
    }

    /// The root module's folder: the plan's own folder or the nearest one
    /// above it with `.tf` files; for a plan from outside the repository,
    /// the folder that declares most of the plan's root resources.
    fn root_for(&mut self, plan_path: Option<&str>, changes: &[RawChange]) -> Option<String> {
        if self.dirs.is_empty() {
            return None;
        }
        if let Some(path) = plan_path {
            let mut dir = path.rfind('/').map_or("", |i| &path[..i]);
            loop {
                if self.dirs.contains_key(dir) {
                    return Some(dir.to_string());
                }
                if dir.is_empty() {
                    return None;
                }
                dir = dir.rfind('/').map_or("", |i| &dir[..i]);
            }
        }
        let wanted: BTreeSet<(String, String, String)> = changes
            .iter()
            .filter(|c| c.module_address.is_none())
            .map(|c| (block_type(&c.mode).into(), c.kind.clone(), c.name.clone()))
            .collect();
        let mut dirs: Vec<String> = self.dirs.keys().cloned().collect();
        dirs.sort();
        let mut best: Option<(usize, String)> = None;
        let mut tie = false;
        for dir in dirs {
            let folder = self.folder(&dir);
            let n = wanted
                .iter()
                .filter(|k| folder.blocks.contains_key(*k))
                .count();
            match &best {
                _ if n == 0 => {}
                Some((b, _)) if n < *b => {}
                Some((b, _)) if n == *b => tie = true,
                _ => {
                    best = Some((n, dir));
                    tie = false;
                }
            }
        }
        // Two folders that declare the same resources: guessing would point
        // findings at the wrong file; the plan file is named instead.
        best.filter(|_| !tie).map(|(_, d)| d)
    }

    fn folder(&mut self, dir: &str) -> &Folder {
        if !self.parsed.contains_key(dir) {
            let folder = self.parse_folder(dir);
            self.parsed.insert(dir.to_string(), folder);
        }
        &self.parsed[dir]
    }

    #[allow(clippy::case_sensitive_file_extension_comparisons)]
    fn parse_folder(&mut self, dir: &str) -> Folder {
        let mut folder = Folder::default();
        for path in self.files_in(dir) {
            // A .tf file that cannot be read or parsed only loses positions:
            // findings then point at the plan, which is what is judged.
            let Ok(Some(stat)) = self.head.stat(self.repo, &path) else {
                continue;
            };
            if stat.symlink || stat.size > self.max_file || stat.size > self.budget {
                continue;
            }
            self.budget -= stat.size;
            let Ok(bytes) = self.head.read_stat(self.repo, &path, &stat) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if path.ends_with(".tf.json") {
                if let Some(blocks) = tf_json::blocks(text) {
                    index_json(&blocks, text, &path, &mut folder);
                }
                continue;
            }
            let Ok(body) = hcl_edit::parser::parse_body(text) else {
                continue;
            };
            index_body(&body, text, &path, &mut folder);
        }
        folder
    }

    /// The file and line of the block a resource change comes from:
    /// module calls with a local source are followed into their folder; a
    /// module from elsewhere is pointed at by its call.
    fn locate(&mut self, root: &str, c: &RawChange) -> Option<(String, u32)> {
        let mut dir = root.to_string();
        for name in module_names(c.module_address.as_deref().unwrap_or("")) {
            let (file, line, source) = self.folder(&dir).modules.get(&name)?.clone();
            match source.as_deref().and_then(|s| local_dir(&dir, s)) {
                Some(next) if self.dirs.contains_key(&next) => dir = next,
                _ => return Some((file, line)),
            }
        }
        let key = (
            block_type(&c.mode).to_string(),
            c.kind.clone(),
            c.name.clone(),
        );
        self.folder(&dir).blocks.get(&key).cloned()
    }
}

fn block_type(mode: &str) -> &'static str {
    if mode == "data" {
        "data"
    } else {
        "resource"
    }
}

/// The 1-based line of each byte offset of a text.
fn line_finder(text: &str) -> impl Fn(usize) -> u32 {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    move |offset: usize| starts.partition_point(|s| *s <= offset) as u32
}

/// Record the blocks of a `.tf.json` file (first declaration wins, as for `.tf`).
fn index_json(blocks: &[tf_json::Block], text: &str, path: &str, folder: &mut Folder) {
    let line_of = line_finder(text);
    for b in blocks {
        let line = line_of(b.offset);
        match (b.kind.as_str(), b.labels.as_slice()) {
            (kind @ ("resource" | "data"), [t, n]) => {
                folder
                    .blocks
                    .entry((kind.to_string(), t.clone(), n.clone()))
                    .or_insert((path.to_string(), line));
            }
            ("module", [n]) => {
                folder.modules.entry(n.clone()).or_insert((
                    path.to_string(),
                    line,
                    b.source.clone(),
                ));
            }
            _ => {}
        }
    }
}

/// Record the `resource`, `data` and `module` blocks of a file's body.
fn index_body(body: &Body, text: &str, path: &str, folder: &mut Folder) {
    let line_of = line_finder(text);
    for structure in body.iter() {
        let Structure::Block(block) = structure else {
            continue;
        };
        let Some(span) = block.span() else {
            continue;
        };
        let line = line_of(span.start);
        let labels: Vec<&str> = block
            .labels
            .iter()
            .map(hcl_edit::structure::BlockLabel::as_str)
            .collect();
        match (block.ident.as_str(), labels.as_slice()) {
            (kind @ ("resource" | "data"), [t, n]) => {
                folder
                    .blocks
                    .entry((kind.to_string(), t.to_string(), n.to_string()))
                    .or_insert((path.to_string(), line));
            }
            ("module", [n]) => {
                let source = block
                    .body
                    .get_attribute("source")
                    .and_then(|a| a.value.as_str())
                    .map(str::to_string);
                folder
                    .modules
                    .entry(n.to_string())
                    .or_insert((path.to_string(), line, source));
            }
            _ => {}
        }
    }
}

/// A module source that is a folder of this repository (`./x`, `../x`),
/// joined to the caller's folder; None for a registry, git or URL source,
/// or one that leaves the repository.
fn local_dir(dir: &str, source: &str) -> Option<String> {
    if !(source.starts_with("./") || source.starts_with("../")) {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_skip_instance_keys() {
        assert_eq!(
            module_names(r#"module.a["x.y]\"z"].module.b[0]"#),
            vec!["a", "b"]
        );
        assert!(module_names("").is_empty());
    }

    #[test]
    fn local_sources_stay_in_the_repository() {
        assert_eq!(
            local_dir("infra", "./modules/net").as_deref(),
            Some("infra/modules/net")
        );
        assert_eq!(
            local_dir("infra/prod", "../modules/x/").as_deref(),
            Some("infra/modules/x")
        );
        assert_eq!(local_dir("", "../x"), None);
        assert_eq!(local_dir("infra", "hashicorp/consul/aws"), None);
    }

    #[test]
    fn deep_values_are_cut() {
        let mut v = Value::Null;
        for _ in 0..100 {
            v = serde_json::json!({ "a": v });
        }
        truncate(&mut v, 0);
        let text = v.to_string();
        assert!(text.contains(TOO_DEEP));
        assert_eq!(text.matches('{').count(), MAX_VALUE_DEPTH);
    }

    #[test]
    fn unknown_format_versions_and_errored_plans_are_refused() {
        for bad in [
            r#"{"format_version":"2.0","resource_changes":[]}"#,
            r#"{"format_version":"1.2","errored":true,"resource_changes":[]}"#,
            r#"{"resource_changes":[]}"#,
            r#"{"format_version":"1.0","values":{}}"#,
            r#"{"format_version":"1.0","resource_changes":[{"address":1}]}"#,
            "[",
        ] {
            assert!(parse(bad.as_bytes(), usize::MAX).is_err(), "{bad}");
        }
        let deep = format!(
            r#"{{"format_version":"1.2","resource_changes":[{{"address":"a.b","type":"a","name":"b","change":{{"actions":["create"],"after":{}{}}}}}]}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let e = parse(deep.as_bytes(), usize::MAX).err().unwrap();
        assert!(e.message.contains("recursion"), "{e:?}");
    }

    #[test]
    fn resource_changes_past_the_limit_are_refused_while_read() {
        let change = r#"{"address":"a.b","type":"a","name":"b","change":{"actions":["create"]}}"#;
        let plan = |n: usize| {
            format!(
                r#"{{"format_version":"1.2","resource_changes":[{}]}}"#,
                vec![change; n].join(",")
            )
        };
        assert_eq!(
            parse(plan(3).as_bytes(), 3)
                .ok()
                .unwrap()
                .resource_changes
                .unwrap()
                .len(),
            3
        );
        let e = parse(plan(4).as_bytes(), 3).err().unwrap();
        assert!(e.message.contains("max_plan_resources"), "{e:?}");
        assert!(parse(
            br#"{"format_version":"1.2","resource_changes":null,"configuration":{}}"#,
            3
        )
        .is_ok());
    }

    #[test]
    fn tags_all_wins_and_unknown_keys_are_apart() {
        let after = serde_json::json!({"tags": {"Name": "a"}, "tags_all": {"Name": "a", "Owner": null, "Env": "dev"}});
        let unknown = serde_json::json!({"tags_all": {"Owner": true}});
        let t = applied_tags(&after, &unknown, None);
        assert_eq!(t.unknown, vec!["Owner"]);
        assert!(t.known.contains_key("Env") && !t.known.contains_key("Owner"));
        assert!(!t.all_unknown && t.attribute);
    }

    #[test]
    fn defaults_merge_under_own_tags_when_there_is_no_merged_set() {
        let provider = serde_json::json!({"expressions": {"default_tags": [{"tags": {"constant_value": {"Owner": "ops", "Env": "dev"}}}]}});
        let after = serde_json::json!({"tags": {"Env": "prod"}});
        let t = applied_tags(
            &after,
            &serde_json::json!({"tags_all": true}),
            Some(&provider),
        );
        assert_eq!(t.known["Env"], "prod");
        assert_eq!(t.known["Owner"], "ops");
        assert!(!t.all_unknown);
        let dynamic = serde_json::json!({"expressions": {"default_tags": [{"tags": {"references": ["var.tags"]}}]}});
        assert!(applied_tags(&after, &Value::Null, Some(&dynamic)).all_unknown);
    }
}
