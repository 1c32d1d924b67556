//! The input document (`govops.input/v1`): everything a rule may look at.
//! Collectors fill it; the evaluator hands it to Rego as `input`; `--dump-input`
//! prints it. Fields may be added within v1, never renamed or removed.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

pub const SCHEMA: &str = "govops.input/v1";

/// An enum of words: each variant's word is written once and is the same in
/// JSON (serde, so Rego rules and reports see it; schemars, so the schema
/// lists every word) and in text (`as_str`, `Display`), so the two cannot
/// drift apart and code compares variants, never strings.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every variant, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The variant's word, as JSON spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            /// The word; `pad`, so that `{:<8}` aligns it in tables.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

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
    /// Terraform (or OpenTofu) JSON plans: `terraform.plans` globs and `--plan`.
    pub plans: Vec<Plan>,
    pub skipped: Skipped,
    pub errors: Vec<InputError>,
    /// What the line-level AI attribution records (git-ai notes, Agent
    /// Trace) held that was not used, and why.
    pub attribution: Attribution,
}

/// Line-level attribution records read but not used (another schema version,
/// a note computed for another commit, a trace of no commit of this
/// repository): each is a note in every report, never a silent skip.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Attribution {
    pub notes: Vec<String>,
}

named_enum! {
    /// What is checked: a range of commits, the pending commit of the
    /// commit-msg hook, or the staged changes.
    pub enum Mode {
        Range = "range",
        CommitMsg = "commit-msg",
        Staged = "staged",
    }
}

named_enum! {
    /// How the range was chosen: `flags` (--base), the CI's hint
    /// (`github-event`, `pre-push`), the merge-base with the `upstream` or a
    /// `default-branch`, a `new-branch`'s first push, `head-only` (HEAD
    /// alone), or `baseline` (the tree at HEAD, for `govops baseline`).
    pub enum RangeSource {
        Flags = "flags",
        GithubEvent = "github-event",
        PrePush = "pre-push",
        Upstream = "upstream",
        DefaultBranch = "default-branch",
        NewBranch = "new-branch",
        HeadOnly = "head-only",
        Baseline = "baseline",
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Repo {
    pub root: String,
    pub head: Option<String>,
    pub base: Option<String>,
    pub merge_base: Option<String>,
    pub branch: Option<String>,
    pub shallow: bool,
    /// How the range was chosen (a `RangeSource`), or the mode checked
    /// when there is no range (commit-msg, staged).
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

named_enum! {
    /// What a human approval of review findings came through: a pull
    /// request `label` listed in `approvals.labels`, `--approved-by` (`cli`),
    /// an approving pull request `review`, a review `trailer` of the commit
    /// (`approvals.trailers`).
    pub enum ApprovalSource {
        Label = "label",
        Cli = "cli",
        Review = "review",
        Trailer = "trailer",
    }
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

/// One `Key: value` trailer, as `git interpret-trailers --parse` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Trailer {
    pub key: String,
    pub value: String,
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
    /// What the commit itself changed: against its parent; for a merge of
    /// two parents, against the parents merged again (what `git show
    /// --remerge-diff` shows: nothing for a clean merge, the conflict
    /// resolutions and any extra edit otherwise), so a merge is not charged
    /// with what its parents brought. Range totals are in `changes`.
    pub files: Vec<FileChange>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Ai {
    pub assisted: bool,
    /// What the commit's declaration trailer says, when it has one.
    pub declared: Option<Declared>,
    pub tools: Vec<Tool>,
    /// Tools seen only as the commit's committer (aider suffixes the
    /// committer of a human's dirty files it committed with `(aider)`):
    /// recorded, not judged as AI authorship.
    pub committed_by: Vec<Tool>,
    /// The lines of this commit's files that line-level records (git-ai
    /// authorship notes, Agent Trace) attribute to AI; absent when no such
    /// record exists for the commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<AiLines>,
}

/// AI-written lines of one commit, from line-level attribution records.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct AiLines {
    /// Lines the records attribute to AI (`ai` or `mixed` contributors), in
    /// the files the commit changes, at most the lines it adds to each.
    pub ai: u64,
    /// The same, per tool id (a line two tools claim counts for both).
    pub by_tool: std::collections::BTreeMap<String, u64>,
    /// Where they were read.
    pub sources: Vec<LineSource>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Tool {
    pub tool: String,
    /// The first model the commit names for this tool.
    pub model: Option<String>,
    /// Every model the commit names for this tool, in order (a squash of
    /// work by two models names both).
    pub models: Vec<String>,
    pub session: Option<String>,
    pub evidence: Vec<Evidence>,
}

named_enum! {
    /// A commit's own declaration of AI use (`AI-Assisted: yes`, or a
    /// human-authorship trailer for `no`).
    pub enum Declared {
        Yes = "yes",
        No = "no",
    }
}

named_enum! {
    /// The part of a commit a piece of provenance evidence was read from:
    /// `trailer` (the message's last paragraph), `body` (a `Key: value` line
    /// higher up, or a tool's body marker), `author`, `committer`, `subject`;
    /// or a line-level record beside the commit (`git-ai-note`, `agent-trace`).
    pub enum EvidenceSource {
        Trailer = "trailer",
        Body = "body",
        Author = "author",
        Committer = "committer",
        Subject = "subject",
        GitAiNote = "git-ai-note",
        AgentTrace = "agent-trace",
    }
}

named_enum! {
    /// Where line-level AI attribution was read: a git-ai authorship note
    /// (`refs/notes/ai`) or an Agent Trace record.
    pub enum LineSource {
        GitAiNote = "git-ai-note",
        AgentTrace = "agent-trace",
    }
}

impl From<LineSource> for EvidenceSource {
    fn from(source: LineSource) -> Self {
        match source {
            LineSource::GitAiNote => EvidenceSource::GitAiNote,
            LineSource::AgentTrace => EvidenceSource::AgentTrace,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Evidence {
    /// Where it was read.
    pub source: EvidenceSource,
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

named_enum! {
    /// How a path changed, as git shows it: `renamed` is moved (and maybe
    /// edited), from `old_path`. A path whose type changed (a file turned
    /// into a link) is a deletion and an addition.
    pub enum FileStatus {
        Added = "added",
        Modified = "modified",
        Deleted = "deleted",
        Renamed = "renamed",
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileChange {
    pub path: String,
    pub old_path: Option<String>,
    pub status: FileStatus,
    /// What the path is at the head (at the base for a deleted path).
    pub kind: FileKind,
    pub additions: u64,
    pub deletions: u64,
    pub binary: bool,
    /// False when the lines were not counted: a side is over
    /// `limits.max_diff_bytes` (additions and deletions are then 0).
    pub lines_counted: bool,
    /// The first line of the new version that the change touches (1 for an
    /// added, binary or uncounted file; none for a deleted one): where a
    /// finding about the commit points in this file.
    pub first_line: Option<u32>,
    /// The lines of this file the commit's line-level records attribute to
    /// AI (see `ai.lines`); null when the commit has no such record.
    pub ai_lines: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Changes {
    pub files: Vec<RangeFile>,
    pub additions: u64,
    pub deletions: u64,
    /// AI-written lines of the commits that have line-level records, summed;
    /// null when no commit of the range has one.
    pub ai_lines: Option<u64>,
    /// `ai_lines` over `additions` (at most 1); null as `ai_lines`.
    pub ai_share: Option<f64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RangeFile {
    pub path: String,
    pub old_path: Option<String>,
    pub status: FileStatus,
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
    /// The environment of the head version: label, else annotation, else
    /// the first `environments.paths` match. One value, for scripts.
    pub environment: Option<String>,
    /// Every environment the object is associated with, sorted: its label
    /// and annotation, its path's (first match, and every production
    /// environment whose globs take the path), at head and in its previous
    /// version. The change itself controls the head's label and path, so
    /// the production decision uses all of them, not `environment`.
    pub environments: Vec<String>,
    /// The environment of the previous version, as `environment` is chosen
    /// (null when there is none): a change of it is a move between
    /// environments.
    pub previous_environment: Option<String>,
    pub change: ManifestChange,
    pub object: Value,
    pub previous: Option<Value>,
    /// The file the previous version was in, when it was another (a rename
    /// or a move); null otherwise.
    pub previous_file: Option<String>,
    /// For an item of a List (any object with `items`, as `kubectl apply`
    /// unpacks it): where it is. Its `doc` is then a number of its own, past
    /// the file's documents, so that `file` and `doc` still name one object
    /// and a finding's pointer leads to the item's own lines.
    pub item: Option<ListItem>,
}

named_enum! {
    /// What the range did to a manifest object: `added`, `modified` (its
    /// content, or the file it lives in: a moved object leaves one Argo CD
    /// application for another), `deleted`, `unchanged`.
    pub enum ManifestChange {
        Added = "added",
        Modified = "modified",
        Deleted = "deleted",
        Unchanged = "unchanged",
    }
}

/// Where a List's item sits: the document of the outermost List, and the JSON
/// Pointer to the item in it (`/items/3`, `/items/0/items/1` when nested).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListItem {
    pub doc: usize,
    pub pointer: String,
}

/// A Terraform or OpenTofu plan (`terraform show -json PLAN`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Plan {
    /// The plan file: a repository path, a `--plan` path as given, or `-`.
    pub file: String,
    pub format_version: String,
    pub terraform_version: Option<String>,
    /// The folder of the root module's `.tf` files in the repository, when found.
    pub root: Option<String>,
    /// Environments the plan is associated with: `environments.paths` of the
    /// plan file and of its root folder, and the values of the plan
    /// variables named in `cloud.environment_variables`; sorted.
    pub environments: Vec<String>,
    /// Cloud accounts the plan reaches: providers' `allowed_account_ids`,
    /// the account of an `assume_role` ARN, and the account in the ARN of
    /// each changed resource; sorted.
    pub accounts: Vec<String>,
    /// Every resource change of the plan (`resource_changes`), in its order.
    pub resources: Vec<PlannedResource>,
}

/// One resource change of a plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlannedResource {
    /// `module.net.aws_subnet.a["x"]`.
    pub address: String,
    /// `module.net`, null in the root module.
    pub module: Option<String>,
    /// managed | data
    pub mode: String,
    pub r#type: String,
    pub name: String,
    /// The provider's full name (`registry.terraform.io/hashicorp/aws`).
    pub provider: String,
    /// Its last part (`aws`): what `cloud.*` keys name.
    pub provider_type: String,
    /// The plan's actions: create, update, delete, read, no-op, forget.
    pub actions: Vec<String>,
    /// One word: create, update, delete, replace (delete and create in
    /// either order), read, no-op, forget.
    pub change: String,
    /// Set for a deposed object (being deleted).
    pub deposed: Option<String>,
    /// The planned values; values deeper than 32 levels are replaced by the
    /// string "(too deep)". Null for a delete.
    pub after: Value,
    /// Which planned values are known only after apply (true) or known.
    pub after_unknown: Value,
    /// The tags as they will be applied: `tags_all` (the provider's
    /// `default_tags` merged in), Google's `effective_labels`, or else the
    /// resource's `tags`/`labels` over the provider's constant default tags.
    /// Known values only.
    pub tags: serde_json::Map<String, Value>,
    /// Tag keys whose value is known only after apply.
    pub tags_unknown: Vec<String>,
    /// The whole tag set is known only after apply: any key not in `tags`
    /// may still be set.
    pub tags_all_unknown: bool,
    /// Whether the planned values have a tags or labels attribute at all.
    pub tags_attribute: bool,
    /// The resource's region: its `region` or `location`, else its
    /// provider's constant `region`; null when not known before apply.
    pub region: Option<String>,
    pub region_unknown: bool,
    /// Where a finding about it points: the `.tf` file of its `resource`
    /// block (or of the module call, for a module from outside the
    /// repository) when found, else the plan file.
    pub file: String,
    /// The line of that block; null when `file` is the plan.
    pub line: Option<u32>,
}

/// Skipped files listed by path, at most: the counts stay exact, the list
/// stays small enough for every report of a 100,000-file tree.
pub const MAX_SKIPPED_LISTED: usize = 200;

/// What the gate did not judge, counted and (files) listed for every report.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Skipped {
    /// Documents without string apiVersion and kind.
    pub documents: usize,
    pub helm_templates: usize,
    pub symlinks: usize,
    /// Submodules: their content is another repository's.
    pub gitlinks: usize,
    /// Files the include globs take and `manifests.exclude` leaves out.
    pub excluded: usize,
    /// The first MAX_SKIPPED_LISTED skipped files, with why.
    pub files: Vec<SkippedFile>,
    /// Skipped files beyond that list.
    pub files_unlisted: usize,
    /// What this change itself made the gate skip: each is a GOV-INPUT-002
    /// finding (a skip must never be something the judged change grants itself).
    pub unjudged: Vec<Unjudged>,
}

named_enum! {
    /// Why the gate did not judge a file: `helm-template` (below a chart's
    /// templates/ folder), `symlink`, `gitlink` (a submodule), `excluded`
    /// (`manifests.exclude`) list skipped files; a change that takes judged
    /// content out of judgement may also give `not-a-manifest-name`
    /// (renamed past `manifests.include`), `not-a-file` (no regular file at
    /// the head), `no-kind` (its documents lost apiVersion or kind) or
    /// `link-added` (a link or submodule in a folder that holds manifests).
    pub enum SkipReason {
        HelmTemplate = "helm-template",
        Symlink = "symlink",
        Gitlink = "gitlink",
        Excluded = "excluded",
        NotAManifestName = "not-a-manifest-name",
        NotAFile = "not-a-file",
        NoKind = "no-kind",
        LinkAdded = "link-added",
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SkippedFile {
    pub path: String,
    /// helm-template | symlink | gitlink | excluded
    pub reason: SkipReason,
}

/// Content the change took out of judgement, or a link it put into a
/// manifest folder.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Unjudged {
    pub path: String,
    /// The path at the merge-base, when it differs.
    pub old_path: Option<String>,
    pub reason: SkipReason,
    /// What happened, for the finding's message.
    pub message: String,
    /// The environments of the objects no longer judged (of the path, for a link).
    pub environments: Vec<String>,
}

impl Skipped {
    /// Count a skipped file by its reason, and list it while there is room.
    pub fn file(&mut self, path: &str, reason: SkipReason) {
        match reason {
            SkipReason::HelmTemplate => self.helm_templates += 1,
            SkipReason::Symlink => self.symlinks += 1,
            SkipReason::Gitlink => self.gitlinks += 1,
            SkipReason::Excluded => self.excluded += 1,
            // Not a class of skipped files: listed, not counted.
            SkipReason::NotAManifestName
            | SkipReason::NotAFile
            | SkipReason::NoKind
            | SkipReason::LinkAdded => {}
        }
        self.list(SkippedFile {
            path: path.to_string(),
            reason,
        });
    }

    fn list(&mut self, file: SkippedFile) {
        if self.files.len() < MAX_SKIPPED_LISTED {
            self.files.push(file);
        } else {
            self.files_unlisted += 1;
        }
    }

    /// Add what another part of the collection skipped.
    pub fn append(&mut self, other: Skipped) {
        self.documents += other.documents;
        self.helm_templates += other.helm_templates;
        self.symlinks += other.symlinks;
        self.gitlinks += other.gitlinks;
        self.excluded += other.excluded;
        self.files_unlisted += other.files_unlisted;
        for f in other.files {
            self.list(f);
        }
        self.unjudged.extend(other.unjudged);
    }
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

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use std::fmt::Display;

    /// Each word is written once, in `named_enum!`: JSON, `as_str` and
    /// `Display` (padded, for tables) agree for every variant.
    fn agree<T: Serialize + Display>(all: &[T]) {
        for v in all {
            let json = serde_json::to_value(v).unwrap();
            let word = json.as_str().unwrap();
            assert_eq!(v.to_string(), word);
            assert_eq!(format!("{v:<20}|"), format!("{word:<20}|"));
        }
    }

    #[test]
    fn every_word_is_its_json() {
        use crate::finding::{Severity, Status};
        use crate::judge::{FailOn, Verdict};
        agree(super::Mode::ALL);
        agree(super::Declared::ALL);
        agree(super::EvidenceSource::ALL);
        agree(super::FileStatus::ALL);
        agree(super::ManifestChange::ALL);
        agree(super::SkipReason::ALL);
        agree(super::RangeSource::ALL);
        agree(Severity::ALL);
        agree(Status::ALL);
        agree(super::ApprovalSource::ALL);
        agree(FailOn::ALL);
        agree(Verdict::ALL);
    }
}
