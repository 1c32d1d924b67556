//! The input document (`govops.input/v1`): everything a rule may look at.
//! Collectors fill it; the evaluator hands it to Rego as `input`; `--dump-input`
//! prints it. Fields may be added within v1, never renamed or removed.

use crate::collect::trailers::Trailer;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

pub const SCHEMA: &str = "govops.input/v1";

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Input {
    pub schema: &'static str,
    pub now: String,
    pub mode: Mode,
    pub repo: Repo,
    pub context: Context,
    pub config: Value,
    pub policy: PolicySource,
    pub commits: Vec<Commit>,
    pub changes: Changes,
    pub manifests: Vec<Manifest>,
    pub skipped: Skipped,
    pub errors: Vec<InputError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Range,
    CommitMsg,
    Staged,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Repo {
    pub root: String,
    pub head: Option<String>,
    pub base: Option<String>,
    pub merge_base: Option<String>,
    pub branch: Option<String>,
    pub shallow: bool,
    /// How the range was chosen (flags, github-event, pre-push, upstream, head-only, ...).
    pub range_source: String,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Context {
    pub ci: String,
    pub event: Option<String>,
    pub actor: Option<String>,
    pub pr: Option<PullRequest>,
    pub approvals: Vec<String>,
    /// Link to the CI run, when known.
    pub run_url: Option<String>,
    pub run_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    pub author: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicySource {
    /// base | worktree | builtin | file | REV
    pub source: String,
    pub r#ref: Option<String>,
    pub digest: String,
    /// The config file's path relative to the root (where it is or would be).
    pub config_path: String,
    /// User rule dirs, relative to the root.
    pub dirs: Vec<String>,
    /// Every file that makes up the policy, with its sha256.
    pub files: Vec<PolicyFile>,
    /// When the range edits the policy: what is wrong with the head's
    /// version (empty when it loads and compiles). Merging an invalid
    /// policy would break the gate for every later change.
    pub head_problems: Vec<PolicyProblem>,
}

/// A problem of the policy at the head of the range.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicyProblem {
    pub file: String,
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PolicyFile {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub time: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Commit {
    /// Null for the pending commit of the commit-msg hook.
    pub sha: Option<String>,
    pub parents: Vec<String>,
    pub subject: String,
    pub body: String,
    pub author: Person,
    pub committer: Person,
    pub trailers: Vec<Trailer>,
    pub ai: Ai,
    pub reviews: Vec<Identity>,
    pub signoffs: Vec<Identity>,
    pub files: Vec<FileChange>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Ai {
    pub assisted: bool,
    pub declared: Option<&'static str>,
    pub tools: Vec<Tool>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Tool {
    pub tool: String,
    pub model: Option<String>,
    pub session: Option<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Evidence {
    pub source: &'static str,
    pub key: String,
    pub value: String,
}

/// A person named in a trailer: a reviewer or a sign-off. `tool` is the AI
/// tool the identity belongs to, null for a human.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Identity {
    pub key: String,
    pub name: String,
    pub email: String,
    pub tool: Option<String>,
}

/// What a changed path is in git: a regular file, a symbolic link, or a
/// gitlink (a submodule's commit). Links and gitlinks hold no manifest of
/// their own, but a cluster can still receive what they point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Symlink,
    Gitlink,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileChange {
    pub path: String,
    pub old_path: Option<String>,
    pub status: &'static str,
    /// What the path is at the head (at the base for a deleted path).
    pub kind: FileKind,
    pub additions: u64,
    pub deletions: u64,
    pub binary: bool,
    /// False when the lines were not counted: a side is over
    /// `limits.max_diff_bytes` (additions and deletions are then 0).
    pub lines_counted: bool,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Changes {
    pub files: Vec<RangeFile>,
    pub additions: u64,
    pub deletions: u64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RangeFile {
    pub path: String,
    pub old_path: Option<String>,
    pub status: &'static str,
    pub kind: FileKind,
    pub additions: u64,
    pub deletions: u64,
    pub binary: bool,
    /// As in a commit's files: false when the lines were not counted.
    pub lines_counted: bool,
    pub ai_commits: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Manifest {
    pub file: String,
    pub doc: usize,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: serde_json::Map<String, Value>,
    pub annotations: serde_json::Map<String, Value>,
    pub environment: Option<String>,
    pub change: &'static str,
    pub object: Value,
    pub previous: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Skipped {
    pub documents: usize,
    pub helm_templates: usize,
    pub symlinks: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InputError {
    pub file: String,
    /// The commit concerned, for errors about a commit rather than a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}
