//! The command line: commands, flags and their help, as users and scripts see them.

use crate::judge::FailOn;
use crate::render::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "govops",
    version,
    about = "A policy-as-code gate for AI-assisted changes: provenance, required metadata and blast radius, in Rego.",
    after_help = "Exit codes: 0 passed, 1 the policy failed, 2 govops could not do its job."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The repository (default: discovered from the current directory)
    #[arg(short = 'C', long = "repo", global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Config file to use instead of .govops.yaml (read from disk as given)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When to use colour (NO_COLOR is honoured)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print less: the verdict and counts only
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more: every finding in the human report, and timings of each phase on stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gate on a commit range, a pending commit message, or the staged changes
    Check(Box<CheckArgs>),
    /// The rule catalog
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Run Rego unit tests (`test_*` rules) of the built-in rules and of DIRs
    Test(TestArgs),
    /// The audit log: verify its hash chain, print its records, or set aside a torn last line
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a commented .govops.yaml with the defaults, and print next steps
    Init {
        /// Overwrite an existing .govops.yaml
        #[arg(long)]
        force: bool,
    },
    /// The config file: check it before it is committed
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Git hooks without the pre-commit framework
    #[command(subcommand)]
    Hook(HookCommand),
    /// Write today's open findings to the baseline file; later checks report them as baselined
    ///
    /// Judges every manifest at HEAD (as `check --all-manifests` does) with
    /// the working tree's policy, and writes the open findings about files
    /// to the file named by `baseline:` in the config (default
    /// .govops-baseline.json). Commit the file: checks read it from the base
    /// revision, so a pull request cannot baseline its own findings.
    Baseline(BaselineArgs),
    /// Statistics of AI-assisted commits against the human ones: share,
    /// reverts, fix follow-ups, rework, time to merge, reviews, policy
    ///
    /// Over the whole history of HEAD by default (or --base..--head). The
    /// same AI reading as `check`, with the policy's identity table.
    /// Definitions and their biases: --explain.
    Stats(Box<StatsArgs>),
    /// Print the JSON Schema of a document
    Schema {
        #[arg(value_enum)]
        kind: SchemaKind,
    },
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Only drop entries that no longer match a finding (fixed ones); add nothing
    #[arg(long)]
    pub prune: bool,
    /// Extra Rego rule dirs, as given to `check --policy` (repeatable)
    #[arg(long, value_name = "DIR")]
    pub policy: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a config file and its rule dirs: every problem at once, as
    /// file:line: key path; exit 1 when there is any
    Validate {
        /// The config file (default: --config, else .govops.yaml at the
        /// repository root, from disk)
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install native commit-msg and pre-push hooks (respects core.hooksPath)
    Install {
        /// Replace hooks that govops did not write
        #[arg(long)]
        force: bool,
        /// Remove the hooks govops wrote
        #[arg(long)]
        uninstall: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// .govops.yaml
    Config,
    /// The input document rules see (govops.input/v1)
    Input,
    /// The json report (govops.report/v1)
    Report,
    /// The stats export (govops.stats/v1; its commits are the CSV's rows)
    Stats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    Table,
    Json,
    Csv,
    /// A self-contained dashboard (inline SVG charts, no network)
    Html,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Base of the range (excluded); default: the whole history of head
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Head of the range (included); default HEAD
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// Only commits with an author date from DATE on (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only commits with an author date before DATE
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// The rows of the table
    #[arg(long, value_enum, default_value_t = crate::stats::metrics::By::Tool)]
    pub by: crate::stats::metrics::By,
    /// Output format (json and csv: `govops schema stats`)
    #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,
    /// Write to FILE instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Skip rework tracking (the costliest measure)
    #[arg(long)]
    pub no_rework: bool,
    /// Print the definitions of the measures and their known biases
    #[arg(long)]
    pub explain: bool,
    /// Extra Rego rule dirs for the policy view (as `check --policy`)
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Measure the rework replay against git blame on N files at head (stderr)
    #[arg(long, value_name = "N", hide = true)]
    pub rework_accuracy: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit 1 naming the first record altered, removed, reordered or torn
    ///
    /// Without --head the end of the log is unverified: records cut off the
    /// end, or an edit of the last record, leave a valid chain. Keep the head
    /// hash of each run elsewhere (the `audit-hash` output) and pass it.
    Verify {
        /// The audit log
        file: PathBuf,
        /// The head hash recorded elsewhere (CI output, artifact): detects changes at the end of the log
        #[arg(long, value_name = "sha256:HEX")]
        head: Option<String>,
        /// Require every record to be signed by a key in this allowed_signers file
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
    },
    /// Print records readably
    Show {
        /// The audit log
        file: PathBuf,
        /// Only records about this head commit (sha or prefix)
        #[arg(long)]
        commit: Option<String>,
        /// Only records with this verdict (pass or fail)
        #[arg(long)]
        verdict: Option<String>,
        /// Only records with a finding of this rule
        #[arg(long)]
        rule: Option<String>,
        /// Print the records as JSON lines
        #[arg(long)]
        json: bool,
        /// Write each shown signed record's DSSE envelope (record-N.dsse.json),
        /// its signed bytes (record-N.pae) and SSH signature (record-N.sig,
        /// for `ssh-keygen -Y verify -n govops-audit ... < record-N.pae`) to DIR
        #[arg(long, value_name = "DIR")]
        export_signatures: Option<PathBuf>,
    },
    /// Set aside a torn last line left by a crash, so that runs can append again
    ///
    /// The torn bytes are saved beside the log (FILE.torn-TIME), the log is
    /// cut back to its last whole record, and a repair record naming what was
    /// removed (length, sha256, side file) is appended to the chain. Any other
    /// damage (an altered, removed or reordered record) is refused with exit 1:
    /// it is evidence, not a crash. An intact log is left alone (exit 0).
    Repair {
        /// The audit log
        file: PathBuf,
        /// Why, in the repair record (e.g. a ticket)
        #[arg(long)]
        reason: Option<String>,
        /// Sign the repair record (DSSE) with this SSH ed25519 private key
        #[arg(long, value_name = "PATH")]
        sign_key: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Dirs of user rules and their tests
    pub dirs: Vec<PathBuf>,
    /// Print per-file coverage of the rules (tests left out)
    #[arg(long)]
    pub coverage: bool,
    /// Fail when total coverage is under PCT
    #[arg(long, value_name = "PCT")]
    pub threshold: Option<f64>,
    /// Name every passing test too
    #[arg(long = "verbose-tests")]
    pub verbose_tests: bool,
    /// Evaluation time limit for the whole run, in milliseconds
    #[arg(long, default_value_t = 60_000, hide = true)]
    pub timeout_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule: id, family, default severity, title
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Extra Rego dirs whose rule documents to list (as `check --policy`)
        #[arg(long, value_name = "DIR")]
        policy: Vec<PathBuf>,
    },
    /// Show a rule's documentation
    Show {
        /// The rule id, e.g. GOV-TAG-001
        id: String,
        /// Extra Rego dirs whose rule documents to search (as `check --policy`)
        #[arg(long, value_name = "DIR")]
        policy: Vec<PathBuf>,
    },
}

/// A `--report FMT:PATH` target.
#[derive(Debug, Clone)]
pub struct ReportTarget {
    pub format: Format,
    pub path: PathBuf,
}

impl std::str::FromStr for ReportTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (fmt, path) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?} is not FMT:PATH (e.g. json:govops.json)"))?;
        if path.is_empty() {
            return Err(format!("{s:?} names no path"));
        }
        Ok(ReportTarget {
            format: fmt.parse()?,
            path: PathBuf::from(path),
        })
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Base of the range (excluded); default: from CI, else the upstream's merge-base
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Head of the range (included)
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// Check one pending commit: its message from FILE, staged changes (commit-msg hook)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["base", "head", "staged"])]
    pub commit_msg_file: Option<PathBuf>,
    /// Check the staged changes only (pre-commit stage)
    #[arg(long, conflicts_with_all = ["base", "head"])]
    pub staged: bool,
    /// Judge every manifest at head, not only the changed ones
    #[arg(long)]
    pub all_manifests: bool,
    /// Manifest globs replacing the configured includes; `-` reads a stream from stdin
    #[arg(long = "manifests", value_name = "GLOB")]
    pub manifests: Vec<String>,
    /// The path that manifests read from stdin are named by in reports,
    /// and that path waivers and environment paths match (default `-`)
    #[arg(long, value_name = "PATH", default_value = "-")]
    pub stdin_name: String,
    /// A Terraform/OpenTofu JSON plan (`terraform show -json PLAN`) to judge,
    /// besides those `terraform.plans` finds in the change (repeatable; `-` is stdin)
    #[arg(long = "plan", value_name = "FILE")]
    pub plans: Vec<PathBuf>,
    /// Extra Rego rule dirs (repeatable)
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Where config and user rules are read from: base (range default), worktree, or a revision
    #[arg(long, value_name = "REV|worktree")]
    pub policy_ref: Option<String>,
    /// Report format on stdout
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write a report to a file, as FMT:PATH (repeatable)
    #[arg(long = "report", value_name = "FMT:PATH")]
    pub reports: Vec<ReportTarget>,
    /// Append an audit record to FILE
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Sign each audit record's statement (DSSE) with this SSH ed25519 private key
    /// (needs --audit-log or audit.log in the config)
    #[arg(long, value_name = "PATH")]
    pub sign_key: Option<PathBuf>,
    /// A human approval known to the CI system (repeatable)
    #[arg(long = "approved-by", value_name = "NAME")]
    pub approved_by: Vec<String>,
    /// Lowest open severity that fails the gate
    #[arg(long, value_enum, default_value_t = FailOn::Review)]
    pub fail_on: FailOn,
    /// The evaluation clock, RFC 3339 (for reproducible runs and waiver expiry)
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Print the input document as JSON and exit 0, evaluating nothing
    #[arg(long)]
    pub dump_input: bool,
}
