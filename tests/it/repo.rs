//! A throwaway git repository and a way to run govops in it.

pub use crate::measure::{run_measured, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Repo {
    pub dir: tempfile::TempDir,
    clock: std::cell::Cell<u64>,
}

/// A labelled Deployment, as a clean GitOps repository holds it.
pub fn deployment(name: &str, env: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {env}
  labels:
    app.kubernetes.io/name: {name}
    environment: {env}
    owner: team-a
    cost-center: cc-100
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: {name}
          image: registry.example.com/{name}:1.0.0
"
    )
}

/// Environment variables that would leak the host's git or CI setup into a test.
const SCRUB: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_PATH",
    "GITHUB_EVENT_NAME",
    "GITHUB_HEAD_REF",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "CI",
    "PRE_COMMIT",
    "PRE_COMMIT_FROM_REF",
    "PRE_COMMIT_TO_REF",
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "NO_COLOR",
    "COLUMNS",
];

pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir);
    for v in SCRUB {
        cmd.env_remove(v);
    }
    cmd
}

impl Repo {
    /// A new repository on branch `main` with a human's identity configured.
    pub fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("temp dir"),
            clock: std::cell::Cell::new(1_780_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Ada Lovelace"]);
        repo.git(&["config", "user.email", "ada@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = git_command(self.dir.path())
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.dir.path().join(path)).unwrap();
    }

    /// The usual production change of these tests: scale `api` in prod to two
    /// replicas, committed with `message`. Its sha.
    pub fn scale_prod(&self, message: &str) -> String {
        self.write(
            "deploy/prod/api.yaml",
            deployment("api", "prod").replace("replicas: 1", "replicas: 2"),
        );
        self.commit(message)
    }

    /// Commit everything as the configured human; returns the sha.
    pub fn commit(&self, message: &str) -> String {
        self.commit_as("Ada Lovelace", "ada@example.com", message)
    }

    /// Commit everything with an exact message and author.
    pub fn commit_as(&self, name: &str, email: &str, message: &str) -> String {
        self.git(&["add", "-A"]);
        let t = self.clock.get() + 60;
        self.clock.set(t);
        let date = format!("@{t} +0000");
        let msg = self.dir.path().join(".git/TEST_MSG");
        std::fs::write(&msg, message).unwrap();
        let out = git_command(self.dir.path())
            .args(["commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F"])
            .arg(&msg)
            .env("GIT_AUTHOR_NAME", name)
            .env("GIT_AUTHOR_EMAIL", email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "commit: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.git(&["rev-parse", "HEAD"])
    }

    /// The setup of a change under review: `main` holds `files` (a config,
    /// a policy, manifests), committed as "base", and a `feature` branch is
    /// checked out on top of it, so that `check` judges feature against
    /// main with main's policy.
    /// `config` committed on main, then a branch `feature` that adds `path`.
    pub fn feature_adding(config: &str, path: &str, content: &str) -> Repo {
        let repo = Repo::new();
        repo.write(".govops.yaml", config);
        repo.commit("Config");
        repo.git(&["checkout", "-q", "-b", "feature"]);
        repo.write(path, content);
        repo.commit("Deploy");
        repo
    }

    pub fn with_main(files: &[(&str, &str)]) -> Repo {
        Repo::branched("base", files)
    }

    /// `with_main`, with main's commit message.
    fn branched(message: &str, files: &[(&str, &str)]) -> Repo {
        let repo = Repo::new();
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.commit(message);
        repo.git(&["checkout", "-q", "-b", "feature"]);
        repo
    }

    /// A GitOps repository on main (labelled dev and prod manifests), and a
    /// `feature` branch checked out on top of it. (Its commit message is
    /// part of the snapshots' commit shas.)
    pub fn gitops() -> Repo {
        Repo::branched(
            "Initial deployment",
            &[
                ("deploy/dev/api.yaml", &deployment("api", "dev")),
                ("deploy/prod/api.yaml", &deployment("api", "prod")),
                ("README.md", "# service\n"),
            ],
        )
    }

    pub fn govops(&self, args: &[&str]) -> Run {
        self.govops_env(args, &[])
    }

    pub fn govops_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_govops"));
        cmd.current_dir(self.dir.path()).args(args);
        for v in SCRUB {
            cmd.env_remove(v);
        }
        cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        run_measured(cmd)
    }

    /// `govops check --format json` with extra args; the parsed report.
    pub fn check_json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let (run, report) = self.check_json_run(args);
        (run.code(), report)
    }

    /// `check_json`, with the run itself (for its time and memory).
    pub fn check_json_run(&self, args: &[&str]) -> (Run, serde_json::Value) {
        let mut all = vec!["check", "--format", "json"];
        if !args.contains(&"--now") {
            all.extend(["--now", "2026-11-21T12:00:00Z"]);
        }
        all.extend_from_slice(args);
        let run = self.govops(&all);
        let report = serde_json::from_str(&run.stdout()).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): stdout={} stderr={}",
                run.stdout(),
                run.stderr()
            )
        });
        (run, report)
    }
}

/// The rule ids of a JSON report's findings, sorted.
pub fn ids(report: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The findings of one rule.
pub fn findings<'a>(report: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

/// (id, line) of every finding whose id starts with `prefix`, sorted; each
/// must be in `file`.
pub fn lines_of(report: &serde_json::Value, prefix: &str, file: &str) -> Vec<(String, u64)> {
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_str().unwrap().starts_with(prefix))
        .map(|f| {
            assert_eq!(f["file"], file, "{f:#}");
            (
                f["id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

/// Validate a SARIF file as GitHub would take it (scripts/validate-sarif:
/// the SARIF 2.1.0 schema, then Microsoft's multitool with GitHub's rules;
/// any error or warning fails). scripts/test installs the tools.
pub fn validate_sarif(path: &Path) {
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-sarif"))
        .arg(path)
        .output()
        .expect("scripts/validate-sarif runs (scripts/test installs its tools)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run a command with `input` on its standard input; what it printed.
pub fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input)
        .expect("write its stdin");
    child.wait_with_output().expect("wait for it")
}
