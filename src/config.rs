//! `.govops.yaml`: the configuration model, its built-in defaults, and its
//! validation. Parsing (serde-saphyr, unknown keys rejected) and validation
//! are two phases; validation collects every problem, each with file, line and key.

use crate::error::{ConfigError, ConfigProblem};
use crate::yaml;
use globset::{Glob, GlobSet, GlobSetBuilder};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The name of the config file at the repository root.
pub const FILE_NAME: &str = ".govops.yaml";

/// The whole configuration. Every section has defaults, so an absent file
/// and an empty section mean the same thing.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Format version of this file; must be 1.
    #[serde(default)]
    pub version: Option<u32>,
    /// Which files hold deployment manifests.
    pub manifests: Manifests,
    /// How a manifest's environment is known.
    pub environments: Environments,
    /// What AI-assisted commits must declare, and which tools may be used.
    pub ai: Ai,
    /// Metadata every deployable object must carry.
    pub tags: Tags,
    /// How much one change may touch.
    pub blast_radius: BlastRadius,
    /// Where Terraform (or OpenTofu) JSON plans are found.
    pub terraform: Terraform,
    /// What the `cloud` rules ask of a plan's resources: tags, regions, destruction.
    pub cloud: Cloud,
    /// The OpenTelemetry contract (opt-in): resource attributes every
    /// workload container sets, agreeing with the workload's labels.
    pub telemetry: Telemetry,
    /// Model deployments (opt-in): approved model registries and model cards.
    pub models: Models,
    /// What counts as a human approval of a review finding.
    pub approvals: Approvals,
    /// Per rule id: deny | review | warn | off.
    pub severity: IndexMap<String, SeverityOverride>,
    /// Extra Rego rule dirs, relative to the repository root.
    pub policy: Vec<String>,
    /// Findings that are accepted for a while, with an owner and a reason:
    /// a list of waivers, or `{max_days: N, list: [...]}` to bound how far
    /// ahead any waiver may expire.
    pub waivers: Waivers,
    /// The baseline file (written by `govops baseline`), relative to the
    /// repository root and inside it: findings listed there existed when
    /// govops was adopted; they are reported as `baselined` and do not fail
    /// the gate. Read from the same place as this file (the base revision in
    /// a pull request).
    pub baseline: String,
    /// Where audit records are appended.
    pub audit: Audit,
    /// Bounds on untrusted input.
    pub limits: Limits,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Manifests {
    /// Globs of files to read as manifests.
    pub include: Vec<String>,
    /// Globs of files never read as manifests.
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Environments {
    /// Label (or annotation) key that names a manifest's environment; read first.
    pub label: String,
    /// Else by path: environment name to globs, first match wins.
    pub paths: IndexMap<String, Vec<String>>,
    /// Environments that count as production.
    pub production: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Ai {
    /// Provenance fields an AI-assisted commit must carry: tool, model, session.
    pub require: Vec<ProvenanceField>,
    /// Every commit must say whether AI was used (AI-Assisted: yes|no).
    pub require_declaration: bool,
    /// If not empty, only these tools (glob on the tool id) may appear.
    pub allowed: Vec<String>,
    /// Tools or models that must no longer be used: the off switch.
    pub blocked: Vec<Blocked>,
    /// Identities the team adds to the built-in table (rules/ai/identities.yaml):
    /// a list of tool entries of its shape, a mapping with `tools:` (and
    /// `trailers:`), or the path of such a YAML file in the repository, read
    /// from where the config is read and part of the policy digest.
    pub identities: Option<Identities>,
    /// Globs of paths for which an AI-assisted commit must carry line-level
    /// provenance (a git-ai note or Agent Trace record saying which lines AI
    /// wrote): GOV-AI-006. Empty: not required.
    pub require_line_provenance: Vec<String>,
    /// The Agent Trace file (JSON Lines of trace records), relative to the
    /// repository root, read at the head of the range.
    pub agent_trace: String,
}

/// `ai.identities`: entries, or a file that holds them.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Identities {
    File(String),
    Tools(Vec<crate::provenance::ToolEntry>),
    Table(Box<crate::provenance::TableExtension>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProvenanceField {
    Tool,
    Model,
    Session,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Blocked {
    /// Glob on the tool id.
    pub tool: String,
    /// Glob on the model; absent: every model of the tool.
    #[serde(default)]
    pub model: Option<String>,
    /// Commits on or after this date (committer time); absent: all.
    #[serde(default)]
    pub since: Option<String>,
    /// Why it is blocked; shown in the finding.
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Tags {
    /// Kinds that must carry the required labels.
    pub kinds: Vec<String>,
    /// Labels every object of those kinds must carry.
    pub required: Vec<String>,
    /// Per label: a list of allowed values, or {pattern: REGEX}.
    pub allowed: IndexMap<String, Allowed>,
    /// Env vars every container of a workload must declare.
    pub env_vars: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Allowed {
    Values(Vec<String>),
    Pattern {
        /// A regular expression the whole value must match.
        pattern: String,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BlastRadius {
    /// Paths an AI-assisted commit may touch only with a human approval.
    pub protected_paths: Vec<String>,
    /// Paths left out of change sizes (lock files and the like).
    pub ignore_paths: Vec<String>,
    /// Files changed per range (null: no limit).
    pub max_files: Option<u64>,
    /// Lines changed per range, additions + deletions (null: no limit).
    pub max_lines: Option<u64>,
    /// Files changed per AI-assisted commit (null: no limit).
    pub ai_max_files: Option<u64>,
    /// Lines changed per AI-assisted commit (null: no limit).
    pub ai_max_lines: Option<u64>,
    /// Distinct workloads changed in the range (null: no limit).
    pub max_workloads: Option<u64>,
    /// Distinct environments changed in the range (null: no limit).
    pub max_environments: Option<u64>,
    /// Kinds whose change reaches beyond one namespace.
    pub cluster_scoped_kinds: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Terraform {
    /// Globs of JSON plan files (`terraform show -json PLAN > x.tfplan.json`)
    /// in the repository: the changed ones are judged (every one with
    /// `--all-manifests`). `--plan FILE` adds plans from outside. Files these
    /// globs take are never read as manifests.
    pub plans: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Cloud {
    /// Labels (the `tags.required` vocabulary) every taggable resource of a
    /// plan must carry as tags.
    pub required: Vec<String>,
    /// Per label: the tag key it is carried under in the cloud (`owner:
    /// Owner`); a label not listed is looked for under its own name. Allowed
    /// values come from `tags.allowed`, keyed by the label.
    pub tag_names: IndexMap<String, String>,
    /// Providers (the last part of the provider's name: aws, azurerm,
    /// google) whose resources are judged for tags.
    pub tagged_providers: Vec<String>,
    /// Resource types that cannot carry tags, besides the table shipped with
    /// the rules (rules/cloud/untaggable.rego); globs on the type.
    pub untaggable: Vec<String>,
    /// Approved regions, per provider (aws, azurerm, google) or per resource
    /// type (which wins); globs. A provider or type not listed is not judged.
    pub regions: IndexMap<String, Vec<String>>,
    /// Deletes and replaces one plan may hold before a human must look (null: no limit).
    pub max_deletes: Option<u64>,
    /// Cloud account ids (AWS account, Azure subscription, GCP project) that
    /// are production: a plan that changes anything in one needs a review.
    pub production_accounts: Vec<String>,
    /// Plan variables whose value names the environment (then matched with
    /// `environments.production`).
    pub environment_variables: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Telemetry {
    /// Judge workload containers for the OpenTelemetry contract (GOV-OTEL-*).
    pub enabled: bool,
    /// Resource attributes every container must set (OTEL_SERVICE_NAME,
    /// OTEL_RESOURCE_ATTRIBUTES, or the OpenTelemetry Operator's
    /// `resource.opentelemetry.io/<attribute>` pod annotations).
    /// `service.name` must equal the `service_name_label` label (else the
    /// workload's name); `deployment.environment.name` the manifest's
    /// environment (`environments.*`); others are only required.
    pub required: Vec<String>,
    /// The label `service.name` must agree with.
    pub service_name_label: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Models {
    /// Judge model-serving objects (GOV-MODEL-*).
    pub enabled: bool,
    /// Kinds that serve models, each with extra JSON pointers of its storage
    /// URIs (`*` matches one token). Everywhere in them a `storageUri`, a
    /// `storageUris` entry or a `STORAGE_URI` env entry is judged too.
    pub kinds: IndexMap<String, Vec<String>>,
    /// URI prefixes of approved model registries (`s3://models`,
    /// `gs://bucket/path`); matched on a `/` boundary, the scheme in any
    /// case; a URI with `.` or `..` segments is never approved.
    pub registries: Vec<String>,
    /// The annotation that must name the model card (a URL or a path).
    pub model_card_annotation: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Approvals {
    /// Pull request labels that count as a human approval.
    pub labels: Vec<String>,
    /// Count review trailers as approvals (off: in a pull request the author writes them).
    pub trailers: bool,
    /// Trailer keys that record a review.
    pub review_trailers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeverityOverride {
    Deny,
    Review,
    Warn,
    Off,
}

/// The shortest commit prefix a waiver may name.
pub const MIN_WAIVER_SHA: usize = 12;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// The rule id this waiver applies to.
    pub rule: String,
    /// Only findings in files matching this glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only findings about this commit (a sha or a prefix of at least 12 hex
    /// digits: a 7-digit prefix can be ground by an attacker in seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Only findings about the object of this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why the finding is accepted.
    pub reason: String,
    /// Who answers for it (an email).
    pub owner: String,
    /// Last day it applies (YYYY-MM-DD, UTC).
    pub expires: String,
}

/// The waivers: a plain list (no bound on expiry), or a mapping with a bound.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Waivers {
    List(Vec<Waiver>),
    Bounded(BoundedWaivers),
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundedWaivers {
    /// A waiver may expire at most this many days after the run's clock
    /// (`--now`); one that expires later waives nothing and is a
    /// GOV-WAIVER-001 finding. Null: no bound.
    // Signed, so that a negative number gets validation's clear message,
    // not the parser's "did not match any variant".
    #[serde(default)]
    pub max_days: Option<i64>,
    /// The waivers.
    #[serde(default)]
    pub list: Vec<Waiver>,
}

impl Default for Waivers {
    fn default() -> Self {
        Waivers::List(Vec::new())
    }
}

impl std::ops::Deref for Waivers {
    type Target = [Waiver];
    fn deref(&self) -> &[Waiver] {
        match self {
            Waivers::List(list) | Waivers::Bounded(BoundedWaivers { list, .. }) => list,
        }
    }
}

impl Waivers {
    /// The bound on how far ahead a waiver may expire, in days.
    pub fn max_days(&self) -> Option<i64> {
        match self {
            Waivers::List(_) => None,
            Waivers::Bounded(b) => b.max_days,
        }
    }

    /// The JSON Pointer of waiver `index` in the config file, in the form the
    /// file uses.
    pub fn pointer(&self, index: usize) -> String {
        match self {
            Waivers::List(_) => format!("/waivers/{index}"),
            Waivers::Bounded(_) => format!("/waivers/list/{index}"),
        }
    }
}

/// The baseline file's path when the config names none.
pub const BASELINE_FILE: &str = ".govops-baseline.json";

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Audit {
    /// Default audit log path, relative to the repository root and inside it
    /// (not in .git, no symbolic links); null: no audit record unless --audit-log.
    pub log: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// A larger manifest file is a GOV-INPUT-001 finding, not read.
    pub max_file_bytes: u64,
    /// Manifest bytes read in one run, all files together (head and base
    /// versions): past it, each further file is a GOV-INPUT-001 finding, not
    /// read. Bounds memory when a change adds many large files. The line
    /// attribution records (git-ai notes, the Agent Trace file) have a
    /// budget of the same size of their own.
    pub max_total_bytes: u64,
    /// A changed file larger than this counts as changed, but its lines are
    /// not counted (`lines_counted: false`) and its content is not read.
    pub max_diff_bytes: u64,
    /// A larger Terraform plan is a GOV-INPUT-001 finding, not read (plans
    /// of large estates run to tens of megabytes, past `max_file_bytes`).
    pub max_plan_bytes: u64,
    /// Resource changes per plan: a plan with more is a GOV-INPUT-001
    /// finding, refused while it is read (bounds memory and time).
    pub max_plan_resources: usize,
    /// Documents per file.
    pub max_documents: usize,
    /// YAML nodes produced by aliases, per document.
    pub max_alias_expansion: usize,
    /// Rego evaluation time per run, in milliseconds.
    pub eval_timeout_ms: u64,
    /// The whole run (reading the repository, evaluating, judging), in
    /// milliseconds: past it the run fails with exit 2.
    pub run_timeout_ms: u64,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(std::string::ToString::to_string).collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: Some(1),
            manifests: Manifests::default(),
            environments: Environments::default(),
            ai: Ai::default(),
            tags: Tags::default(),
            blast_radius: BlastRadius::default(),
            terraform: Terraform::default(),
            cloud: Cloud::default(),
            telemetry: Telemetry::default(),
            models: Models::default(),
            approvals: Approvals::default(),
            severity: IndexMap::new(),
            policy: Vec::new(),
            waivers: Waivers::default(),
            baseline: BASELINE_FILE.into(),
            audit: Audit::default(),
            limits: Limits::default(),
        }
    }
}

impl Default for Manifests {
    fn default() -> Self {
        Manifests {
            include: strings(&["**/*.yaml", "**/*.yml", "**/*.json"]),
            // Beyond the contract's list: well-known JSON files that are never
            // manifests and are often not strict JSON (comments) or huge.
            exclude: strings(&[
                ".github/**",
                "**/node_modules/**",
                ".govops.yaml",
                BASELINE_FILE,
                "**/package-lock.json",
                "**/tsconfig*.json",
                "**/jsconfig*.json",
                // Editor and dev-container settings are JSONC, never manifests,
                // in any folder (a monorepo has one per package).
                "**/.vscode/**",
                "**/.devcontainer/**",
            ]),
        }
    }
}

impl Default for Environments {
    fn default() -> Self {
        Environments {
            label: "environment".into(),
            paths: IndexMap::new(),
            production: strings(&["prod", "production"]),
        }
    }
}

impl Default for Ai {
    fn default() -> Self {
        Ai {
            require: vec![ProvenanceField::Tool, ProvenanceField::Model],
            require_declaration: false,
            allowed: Vec::new(),
            blocked: Vec::new(),
            identities: None,
            require_line_provenance: Vec::new(),
            agent_trace: ".agent-trace/traces.jsonl".into(),
        }
    }
}

impl Default for Tags {
    fn default() -> Self {
        let mut allowed = IndexMap::new();
        allowed.insert(
            "environment".to_string(),
            Allowed::Values(strings(&["dev", "staging", "prod"])),
        );
        Tags {
            kinds: strings(&[
                "Deployment",
                "StatefulSet",
                "DaemonSet",
                "Job",
                "CronJob",
                "Pod",
                "ReplicaSet",
                "Service",
                "Ingress",
            ]),
            required: strings(&[
                "app.kubernetes.io/name",
                "environment",
                "owner",
                "cost-center",
            ]),
            allowed,
            env_vars: Vec::new(),
        }
    }
}

impl Default for BlastRadius {
    fn default() -> Self {
        BlastRadius {
            protected_paths: strings(&[".github/workflows/**", ".govops.yaml", "**/*.rego"]),
            ignore_paths: strings(&["**/*.lock", "**/package-lock.json", "**/go.sum"]),
            max_files: None,
            max_lines: None,
            ai_max_files: Some(25),
            ai_max_lines: Some(800),
            max_workloads: Some(10),
            max_environments: Some(1),
            cluster_scoped_kinds: strings(&[
                "Namespace",
                "ClusterRole",
                "ClusterRoleBinding",
                "CustomResourceDefinition",
                "ValidatingWebhookConfiguration",
                "MutatingWebhookConfiguration",
            ]),
        }
    }
}

impl Default for Terraform {
    fn default() -> Self {
        Terraform {
            plans: strings(&["**/*.tfplan.json"]),
        }
    }
}

impl Default for Cloud {
    fn default() -> Self {
        Cloud {
            required: strings(&["environment", "owner", "cost-center"]),
            tag_names: IndexMap::new(),
            tagged_providers: strings(&["aws", "azurerm", "google", "google-beta"]),
            untaggable: Vec::new(),
            regions: IndexMap::new(),
            max_deletes: Some(10),
            production_accounts: Vec::new(),
            environment_variables: strings(&["environment", "env"]),
        }
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            enabled: false,
            required: strings(&["service.name", "deployment.environment.name"]),
            service_name_label: "app.kubernetes.io/name".into(),
        }
    }
}

impl Default for Models {
    fn default() -> Self {
        Models {
            enabled: false,
            kinds: IndexMap::from([("InferenceService".to_string(), Vec::new())]),
            registries: Vec::new(),
            model_card_annotation: "govops.dev/model-card".into(),
        }
    }
}

impl Default for Approvals {
    fn default() -> Self {
        Approvals {
            labels: strings(&["govops:approved"]),
            trailers: false,
            review_trailers: strings(&["Reviewed-by", "Acked-by", "Approved-by"]),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 10 * 1024 * 1024,
            max_diff_bytes: 4 * 1024 * 1024,
            max_plan_bytes: 256 * 1024 * 1024,
            max_plan_resources: 100_000,
            max_total_bytes: 64 * 1024 * 1024,
            max_documents: 10_000,
            max_alias_expansion: 100_000,
            eval_timeout_ms: 10_000,
            run_timeout_ms: 900_000,
        }
    }
}

/// Bounds for reading the config file itself (one document, few aliases).
const CONFIG_LIMITS: yaml::Limits = yaml::Limits {
    max_documents: 1,
    max_alias_expansion: 10_000,
};

/// A config that passed validation, with its globs compiled.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    pub config: Config,
    /// Where it came from, for messages ("(built-in defaults)" when no file).
    pub origin: String,
    /// The file's bytes (empty for the defaults), part of the policy digest.
    pub bytes: Vec<u8>,
    pub include: GlobSet,
    pub exclude: GlobSet,
    /// `terraform.plans`.
    pub plans: GlobSet,
    pub env_paths: Vec<(String, GlobSet)>,
}

/// The JSON Schema of `.govops.yaml`, as `govops schema config` prints it
/// and the loader checks it. `version` is required and must be 1, as the
/// loader has it (the Rust field is optional only so that a missing
/// version gets a clear message instead of serde's).
pub fn json_schema() -> &'static serde_json::Value {
    // Built once: every parse of a config (the hook's too) checks its shape.
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = serde_json::to_value(schemars::schema_for!(Config))
            .expect("the config's schema serialises");
        schema["required"] = serde_json::json!(["version"]);
        schema["properties"]["version"] = serde_json::json!({
            "description": "Format version of this file; must be 1.",
            "type": "integer",
            "const": 1,
        });
        schema
    })
}

impl ValidConfig {
    /// The built-in defaults: what runs with no `.govops.yaml`.
    pub fn builtin() -> Self {
        validate(
            Config::default(),
            "(built-in defaults)".into(),
            Vec::new(),
            None,
        )
        .expect("the built-in defaults are valid")
    }

    /// Parse and validate config file bytes; `origin` names the file in errors.
    pub fn parse(bytes: Vec<u8>, origin: String) -> Result<Self, ConfigError> {
        let text = std::str::from_utf8(&bytes).map_err(|e| ConfigError {
            origin: origin.clone(),
            problems: vec![ConfigProblem {
                line: None,
                key: None,
                message: format!("not UTF-8 text (byte {})", e.valid_up_to()),
            }],
        })?;
        // One positioned parse serves the shape check and, later, the lines
        // of validation problems.
        let positions = yaml::load_core(text, CONFIG_LIMITS)
            .ok()
            .and_then(|mut d| d.pop());
        // The shape first, all problems at once; serde then reports one.
        if let Some(doc) = &positions {
            let mut problems = Problems {
                list: Vec::new(),
                positions: Some(&doc.root),
            };
            for p in crate::shape::check(json_schema(), &doc.root.to_json()) {
                problems.add(&p.pointer, p.message);
            }
            if !problems.list.is_empty() {
                let mut problems = problems.list;
                problems.sort_by_key(|p| p.line.unwrap_or(0));
                return Err(ConfigError { origin, problems });
            }
        }
        let config: Config = if text.trim().is_empty() {
            return Err(ConfigError {
                origin,
                problems: vec![ConfigProblem {
                    line: None,
                    key: Some("version".into()),
                    message: "the file is empty; it needs at least `version: 1`".into(),
                }],
            });
        } else {
            serde_saphyr::from_str(text).map_err(|e| ConfigError {
                origin: origin.clone(),
                problems: vec![ConfigProblem {
                    line: e.location().and_then(|l| u32::try_from(l.line()).ok()),
                    key: None,
                    message: first_line(&e.without_snippet().to_string()),
                }],
            })?
        };
        validate(config, origin, bytes, positions.map(|d| d.root))
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// Compile a list of globs the way every path glob in govops works: `**/`
/// matches any number of folders, `*` stays within one.
pub fn globset(patterns: &[String]) -> Result<GlobSet, (usize, String)> {
    let mut builder = GlobSetBuilder::new();
    for (i, p) in patterns.iter().enumerate() {
        let glob = glob(p).map_err(|e| (i, e))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| (0, e.to_string()))
}

pub fn glob(pattern: &str) -> Result<Glob, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

fn validate(
    mut config: Config,
    origin: String,
    bytes: Vec<u8>,
    positions: Option<yaml::Node>,
) -> Result<ValidConfig, ConfigError> {
    let mut problems = Problems {
        list: Vec::new(),
        positions: positions.as_ref(),
    };
    let mut problem = |pointer: &str, message: String| problems.add(pointer, message);
    if config.version != Some(1) {
        match config.version {
            None => problem("/version", "`version: 1` is required".into()),
            Some(v) => problem(
                "/version",
                format!("unknown version {v}; this govops reads version 1"),
            ),
        }
    }
    let compile = |problems: &mut Problems<'_>, pointer: &str, list: &[String]| -> GlobSet {
        match globset(list) {
            Ok(set) => set,
            Err((i, e)) => {
                problems.add(
                    &format!("{pointer}/{i}"),
                    format!("invalid glob {:?}: {e}", list.get(i).map_or("", |s| s)),
                );
                GlobSet::empty()
            }
        }
    };
    // Globs the rules match (through the `glob` extension) are only parsed
    // here: compiling each list into a set, to drop it, was half of reading
    // the built-in defaults, in every hook.
    let check = |problems: &mut Problems<'_>, pointer: &str, list: &[String]| {
        for (i, pattern) in list.iter().enumerate() {
            if let Err(e) = glob(pattern) {
                problems.add(
                    &format!("{pointer}/{i}"),
                    format!("invalid glob {pattern:?}: {e}"),
                );
            }
        }
    };
    let include = compile(
        &mut problems,
        "/manifests/include",
        &config.manifests.include,
    );
    let exclude = compile(
        &mut problems,
        "/manifests/exclude",
        &config.manifests.exclude,
    );
    check(
        &mut problems,
        "/blast_radius/protected_paths",
        &config.blast_radius.protected_paths,
    );
    check(
        &mut problems,
        "/blast_radius/ignore_paths",
        &config.blast_radius.ignore_paths,
    );
    check(&mut problems, "/ai/allowed", &config.ai.allowed);
    check(
        &mut problems,
        "/ai/require_line_provenance",
        &config.ai.require_line_provenance,
    );
    // Read from the head's tree: a path inside the repository.
    let trace = &config.ai.agent_trace;
    if trace.is_empty()
        || trace.starts_with('/')
        || trace
            .split(['/', '\\'])
            .any(|part| part == ".." || part.is_empty())
    {
        problems.add(
            "/ai/agent_trace",
            format!("{trace:?} is not a path inside the repository (relative, no `..`)"),
        );
    }
    let plans = compile(&mut problems, "/terraform/plans", &config.terraform.plans);
    check(&mut problems, "/cloud/untaggable", &config.cloud.untaggable);
    for (key, globs) in &config.cloud.regions {
        check(&mut problems, &format!("/cloud/regions/{key}"), globs);
    }
    let env_paths = config
        .environments
        .paths
        .iter()
        .map(|(env, globs)| {
            (
                env.clone(),
                compile(&mut problems, &format!("/environments/paths/{env}"), globs),
            )
        })
        .collect();
    for (i, b) in config.ai.blocked.iter().enumerate() {
        check(
            &mut problems,
            &format!("/ai/blocked/{i}/tool"),
            std::slice::from_ref(&b.tool),
        );
        if let Some(m) = &b.model {
            check(
                &mut problems,
                &format!("/ai/blocked/{i}/model"),
                std::slice::from_ref(m),
            );
        }
        if let Some(since) = &b.since {
            if crate::clock::parse_date(since).is_none() {
                problems.add(
                    &format!("/ai/blocked/{i}/since"),
                    format!("{since:?} is not a date (YYYY-MM-DD)"),
                );
            }
        }
    }
    for (key, allowed) in &config.tags.allowed {
        if let Allowed::Pattern { pattern } = allowed {
            if let Err(e) = regex_check(pattern) {
                problems.add(
                    &format!("/tags/allowed/{key}/pattern"),
                    format!("invalid regex {pattern:?}: {e}"),
                );
            }
        }
    }
    for (i, w) in config.waivers.iter().enumerate() {
        let at = config.waivers.pointer(i);
        if crate::clock::parse_date(&w.expires).is_none() {
            problems.add(
                &format!("{at}/expires"),
                format!("{:?} is not a date (YYYY-MM-DD)", w.expires),
            );
        }
        for (field, value) in [("reason", &w.reason), ("owner", &w.owner)] {
            if value.trim().is_empty() {
                problems.add(
                    &format!("{at}/{field}"),
                    format!("a waiver needs a {field}"),
                );
            }
        }
        if let Some(p) = &w.path {
            check(
                &mut problems,
                &format!("{at}/path"),
                std::slice::from_ref(p),
            );
        }
        if let Some(c) = &w.commit {
            // A short prefix would waive any commit an attacker grinds to
            // match it: 7 hex digits are 2^28 tries, minutes on a laptop.
            if !(MIN_WAIVER_SHA..=64).contains(&c.len())
                || !c.bytes().all(|b| b.is_ascii_hexdigit())
            {
                problems.add(
                    &format!("{at}/commit"),
                    format!(
                        "{c:?} is not a commit sha or a prefix of at least {MIN_WAIVER_SHA} hex digits"
                    ),
                );
            }
        }
    }
    for (i, dir) in config.policy.iter_mut().enumerate() {
        // Normalised (`./policy/` is `policy`): a revision's tree is read by
        // this path, and GOV-POLICY-001 compares it with changed paths.
        let parts: Vec<&str> = dir
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        if dir.starts_with('/') || parts.contains(&"..") {
            problems.add(
                &format!("/policy/{i}"),
                format!("{dir:?} must be a path inside the repository"),
            );
        } else {
            *dir = parts.join("/");
        }
    }
    if let Some(log) = &config.audit.log {
        if let Err(why) = confined_file(log) {
            problems.add(
                "/audit/log",
                format!("{log:?} must name a file inside the repository: {why} (an operator's --audit-log may point anywhere)"),
            );
        }
    }
    // Normalised (`./a//b.json` is `a/b.json`), so that the policy rule
    // compares it with changed paths as they are.
    match confined_file(&config.baseline) {
        Ok(parts) => config.baseline = parts.join("/"),
        Err(why) => problems.add(
            "/baseline",
            format!(
                "{:?} must name a file inside the repository: {why}",
                config.baseline
            ),
        ),
    }
    if let Some(days) = config
        .waivers
        .max_days()
        .filter(|d| !(1..=36_500).contains(d))
    {
        problems.add(
            "/waivers/max_days",
            format!("{days} is not a number of days from 1 to 36500; remove it for no bound"),
        );
    }
    if config.limits.max_documents == 0
        || config.limits.eval_timeout_ms == 0
        || config.limits.run_timeout_ms == 0
    {
        problems.add("/limits", "limits must be greater than zero".into());
    }
    if !problems.list.is_empty() {
        return Err(ConfigError {
            origin,
            problems: problems.list,
        });
    }
    Ok(ValidConfig {
        config,
        origin,
        bytes,
        include,
        exclude,
        plans,
        env_paths,
    })
}

/// Check a file path named by a config file, which the checked change may
/// control: it must stay inside the repository and out of its git dir
/// (hooks and `.git/config` run code). This is the textual half; the
/// writer also refuses symbolic links on the way (`audit::LogTarget`).
/// Returns the path's components.
pub fn confined_file(path: &str) -> Result<Vec<&str>, String> {
    if path.trim().is_empty() {
        return Err("it is empty".into());
    }
    if path.contains('\0') {
        return Err("it holds a NUL byte".into());
    }
    if path.contains('\\') {
        return Err("use / between folders, not \\".into());
    }
    if path.starts_with('/') {
        return Err("it is an absolute path".into());
    }
    if path.starts_with('~') {
        return Err("~ is not expanded; name a path relative to the repository root".into());
    }
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err("it is an absolute (drive) path".into());
    }
    if path.ends_with('/') {
        return Err("it names a folder, not a file".into());
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.is_empty() {
        return Err("it names the repository root, not a file".into());
    }
    for part in &parts {
        if *part == ".." {
            return Err("`..` leaves the repository".into());
        }
        // Case and trailing dots or spaces do not matter to every file
        // system (macOS, Windows): `.GIT`, `.git.` and `git~1` all reach
        // the git dir there.
        let folded = part.trim_end_matches(['.', ' ']).to_ascii_lowercase();
        if folded == ".git" || folded == "git~1" {
            return Err("it is inside the git dir (hooks and config there run code)".into());
        }
    }
    Ok(parts)
}

/// Validation problems, each placed at its key's line.
struct Problems<'a> {
    list: Vec<ConfigProblem>,
    positions: Option<&'a yaml::Node>,
}

impl Problems<'_> {
    fn add(&mut self, pointer: &str, message: String) {
        let line = self
            .positions
            .map(|root| root.locate(pointer).line)
            .filter(|l| *l > 0);
        self.list.push(ConfigProblem {
            line,
            // The document itself (pointer "") has no key to name.
            key: Some(pointer.trim_start_matches('/').replace('/', ".")).filter(|k| !k.is_empty()),
            message,
        });
    }
}

/// Check a regex the way Rego's `regex.match` will compile it.
fn regex_check(pattern: &str) -> Result<(), String> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| first_line(&e.to_string()))
}

impl ValidConfig {
    /// Rule ids mentioned by `severity` and `waivers`, with the pointer of each,
    /// so the caller can check them against the catalog.
    pub fn rule_references(&self) -> Vec<(String, String)> {
        let mut refs: Vec<(String, String)> = self
            .config
            .severity
            .keys()
            .map(|id| (id.clone(), format!("/severity/{id}")))
            .collect();
        refs.extend(self.config.waivers.iter().enumerate().map(|(i, w)| {
            (
                w.rule.clone(),
                format!("{}/rule", self.config.waivers.pointer(i)),
            )
        }));
        refs
    }

    /// Line of a JSON Pointer in the config file (None for the defaults).
    pub fn line_of(&self, pointer: &str) -> Option<u32> {
        let text = std::str::from_utf8(&self.bytes).ok()?;
        let docs = yaml::load_core(text, CONFIG_LIMITS).ok()?;
        Some(docs.first()?.root.locate(pointer).line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        let c = ValidConfig::builtin();
        assert!(c.include.is_match("deploy/app.yaml"));
        assert!(c.include.is_match("app.yaml"));
        assert!(c.exclude.is_match(".github/workflows/ci.yml"));
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let err = ValidConfig::parse(
            b"version: 1\ntags:\n  requird: [a]\n".to_vec(),
            ".govops.yaml".into(),
        )
        .unwrap_err();
        assert_eq!(err.problems[0].line, Some(3), "{err:?}");
        assert!(err.problems[0].message.contains("requird"), "{err:?}");
    }

    #[test]
    fn validation_collects_every_problem() {
        let text = "version: 1\nmanifests:\n  include: ['a/{b']\nwaivers:\n  - rule: GOV-TAG-001\n    reason: ''\n    owner: a@b\n    expires: soon\n";
        let err = ValidConfig::parse(text.as_bytes().to_vec(), "c.yaml".into()).unwrap_err();
        let lines: Vec<_> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(3), Some(8), Some(6)], "{err:?}");
    }

    #[test]
    fn an_audit_log_stays_inside_the_repository() {
        for bad in [
            "../../.bash_profile",
            "/home/u/.bash_profile",
            "logs/../../x",
            ".git/hooks/pre-commit",
            "sub/.GIT/config",
            ".git./hooks/post-checkout",
            "git~1/hooks/x",
            "~/.profile",
            "C:/Windows/x",
            "a\\b",
            "logs/",
            ".",
            "",
        ] {
            let text = format!("version: 1\naudit:\n  log: {bad:?}\n");
            let err = ValidConfig::parse(text.into_bytes(), ".govops.yaml".into()).expect_err(bad);
            assert_eq!(err.problems[0].key.as_deref(), Some("audit.log"), "{bad}");
            assert_eq!(err.problems[0].line, Some(3), "{bad}: {err:?}");
        }
        for good in [
            "audit/govops.jsonl",
            "./audit.jsonl",
            "a/.gitx/log",
            ".github.log",
        ] {
            let text = format!("version: 1\naudit:\n  log: {good:?}\n");
            ValidConfig::parse(text.into_bytes(), ".govops.yaml".into()).expect(good);
        }
    }

    #[test]
    fn version_is_required() {
        let err = ValidConfig::parse(b"tags: {}\n".to_vec(), "c".into()).unwrap_err();
        assert_eq!(err.problems[0].key.as_deref(), Some("version"));
    }
}
