//! Snapshots of everything govops shows users: every report format on a
//! failing and a passing repository, every `--help`, the rule catalog, the
//! display of an invalid config, `govops init`'s file and the config schema.
//!
//! A snapshot pins the whole text, so a change to what users see shows up
//! as a diff in review instead of slipping past a `contains` probe. What
//! differs between runs or machines is redacted (shas, digests, temp paths,
//! times, the version); the repositories themselves are deterministic (a
//! fixed commit clock, a fixed `--now`, `--color never`, COLUMNS=100).
//!
//! To accept a change: `INSTA_UPDATE=always cargo test --test it snapshots`,
//! read the .snap diffs, commit them. Under CI=true insta never writes and
//! fails on any mismatch.

use crate::repo::{deployment, Repo, Run};

const NOW: &str = "2026-11-21T12:00:00Z";

/// Every report format, in the order the `Format` enum lists them.
const FORMATS: &[&str] = &["human", "json", "sarif", "junit", "github", "markdown"];

/// A run as a snapshot shows it: its exit code, stdout and stderr.
fn shown(run: &Run) -> String {
    format!(
        "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
        run.code(),
        run.stdout(),
        run.stderr()
    )
}

/// `text` as a regex matching it literally.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The filters that make a snapshot the same on every run and machine.
/// `shas` names the repository's commits (full sha, label): their short
/// forms become `[label]` too, so a snapshot still says which commit a
/// finding is about. Order matters: specific before generic.
fn settings(repo: Option<&Repo>, shas: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    if let Some(repo) = repo {
        let path = repo.path();
        if let Ok(real) = path.canonicalize() {
            s.add_filter(&literal(&real.display().to_string()), "[REPO]");
        }
        s.add_filter(&literal(&path.display().to_string()), "[REPO]");
    }
    // Any other temp dir (tempfile names them .tmpXXXXXX).
    s.add_filter(r"/[^\s\x22']*/\.tmp[0-9A-Za-z]{6}", "[TEMP]");
    for (sha, label) in shas {
        s.add_filter(&literal(sha), format!("[{label}_SHA]"));
        s.add_filter(&format!(r"\b{}\b", &sha[..7]), format!("[{label}]"));
    }
    s.add_filter(r"\b[0-9a-f]{40}\b", "[SHA]");
    // Policy digests and audit hashes; Markdown escapes the colon.
    s.add_filter(r"sha256(\\?):[0-9a-f]{8,64}", "sha256$1:[DIGEST]");
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})",
        "[TIME]",
    );
    // The version, also as Markdown escapes it (0\.1\.0).
    let version = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(literal)
        .collect::<Vec<_>>()
        .join(r"\\?\.");
    s.add_filter(&format!(r"\b{version}\b"), "[VERSION]");
    s
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![("COLUMNS", "100")]
}

/// A feature branch whose report has every section: an open deny on a
/// manifest (with its source snippet), an open deny about a commit, an open
/// warn (an unused waiver), a waived, a baselined and two approved review
/// findings (`--approved-by`), and notes: a skipped Helm template and a
/// document without apiVersion and kind (its Chart.yaml).
fn failing_repo() -> Repo {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        ".govops.yaml",
        "version: 1
waivers:
  - {rule: GOV-TAG-001, name: legacy, reason: 'old, see OPS-1', owner: ops@example.com, expires: 2030-01-01}
  - {rule: GOV-TAG-002, path: deploy/dev/worker.yaml, reason: trial, owner: ops@example.com, expires: 2030-01-01}
",
    );
    let old = deployment("old", "dev").replace("    cost-center: cc-100\n", "");
    repo.write("deploy/dev/old.yaml", &old);
    // What `govops baseline` writes for old.yaml (pinned here rather than
    // run, so that this repository does not depend on that command).
    repo.write(
        ".govops-baseline.json",
        r#"{
  "schema": "govops.baseline/v1",
  "findings": [
    {
      "rule": "GOV-TAG-001",
      "file": "deploy/dev/old.yaml",
      "object": "old",
      "message": "Deployment old has no label \"cost-center\"",
      "count": 1
    }
  ]
}
"#,
    );
    repo.commit("Policy and a baseline");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write(
        "deploy/dev/worker.yaml",
        deployment("worker", "dev").replace("    owner: team-a\n", ""),
    );
    repo.write(
        "deploy/dev/legacy.yaml",
        deployment("legacy", "dev").replace("    owner: team-a\n", ""),
    );
    repo.write(
        "deploy/prod/api.yaml",
        deployment("api", "prod").replace("replicas: 1", "replicas: 2"),
    );
    repo.write("deploy/dev/old.yaml", old.replace(":1.0.0", ":1.0.1"));
    repo.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 2.3.4\n",
    );
    repo.write(
        "charts/web/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    repo.write("src/a.rs", "fn a() {}\n");
    repo.commit(
        "Workers, prod scale, and code\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n",
    );
    repo
}

/// A clean change: a labelled dev Deployment, committed by a human.
fn passing_repo() -> Repo {
    let repo = Repo::gitops();
    repo.write("deploy/dev/worker.yaml", deployment("worker", "dev"));
    repo.commit("Add the worker");
    repo
}

/// `govops check` in every format; for `github`, the step summary and the
/// outputs it writes too.
fn snapshot_every_format(repo: &Repo, name: &str, extra: &[&str]) {
    let base = repo.git(&["rev-parse", "main"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let settings = settings(Some(repo), &[(&base, "BASE"), (&head, "HEAD")]);
    for format in FORMATS {
        let log = format!(".git/audit-{format}.jsonl");
        let summary = repo.path().join(".git/step-summary.md");
        let outputs = repo.path().join(".git/outputs.txt");
        let mut args = vec![
            "check", "--format", format, "--color", "never", "--now", NOW,
        ];
        args.extend_from_slice(extra);
        if name == "failing" {
            // The audit line of the reports (the record's hash is redacted).
            args.extend(["--audit-log", &log]);
        }
        let mut vars = env();
        let (summary_s, outputs_s) = (summary.display().to_string(), outputs.display().to_string());
        if *format == "github" {
            vars.extend([
                ("GITHUB_STEP_SUMMARY", summary_s.as_str()),
                ("GITHUB_OUTPUT", outputs_s.as_str()),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_REPOSITORY", "acme/deploy"),
            ]);
        }
        let run = repo.govops_env(&args, &vars);
        let mut text = shown(&run);
        match *format {
            "sarif" => text = shown_sarif(&run),
            "github" => {
                for (title, path) in [("step summary", &summary), ("outputs", &outputs)] {
                    let written = std::fs::read_to_string(path).unwrap_or_default();
                    text.push_str(&format!("--- {title}\n{written}"));
                }
            }
            _ => {}
        }
        settings.bind(|| insta::assert_snapshot!(format!("check_{name}_{format}"), text));
    }
}

/// The SARIF report, with each rule's full documentation (its
/// `fullDescription` and `help`) elided: those are the rule documents,
/// pinned by the catalog tests and `rules show`, and 50 KB of them would
/// bury the results in every diff.
fn shown_sarif(run: &Run) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("SARIF is JSON ({e}): {}", run.stdout()));
    for rule in doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .expect("SARIF rules")
    {
        let id = rule["id"].as_str().unwrap_or_default().to_string();
        let elided = serde_json::json!(format!("[the document of {id}]"));
        for key in ["/fullDescription/text", "/help/text", "/help/markdown"] {
            if let Some(v) = rule.pointer_mut(key) {
                *v = elided.clone();
            }
        }
    }
    format!(
        "exit: {}\n--- stdout (rule documents elided)\n{:#}\n--- stderr\n{}",
        run.code(),
        doc,
        run.stderr()
    )
}

#[test]
fn failing_repository_in_every_format() {
    let repo = failing_repo();
    snapshot_every_format(&repo, "failing", &["--approved-by", "grace"]);
}

#[test]
fn passing_repository_in_every_format() {
    let repo = passing_repo();
    snapshot_every_format(&repo, "passing", &[]);
}

/// Every command's help, as `--help` prints it at 100 columns.
#[test]
fn every_help() {
    let repo = Repo::new();
    let settings = settings(None, &[]);
    let commands: &[&[&str]] = &[
        &[],
        &["check"],
        &["rules"],
        &["rules", "list"],
        &["rules", "show"],
        &["test"],
        &["audit"],
        &["audit", "verify"],
        &["audit", "show"],
        &["audit", "repair"],
        &["config"],
        &["config", "validate"],
        &["baseline"],
        &["init"],
        &["hook"],
        &["hook", "install"],
        &["stats"],
        &["schema"],
        &["completions"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let run = repo.govops_env(&args, &env());
        assert_eq!(run.code(), 0, "{args:?}: {}", run.stderr());
        let name = if command.is_empty() {
            "help".to_string()
        } else {
            format!("help_{}", command.join("_"))
        };
        settings.bind(|| insta::assert_snapshot!(name, shown(&run)));
    }
}

#[test]
fn rules_list_and_show() {
    let repo = Repo::new();
    let settings = settings(None, &[]);
    for (name, args) in [
        ("rules_list", &["rules", "list"][..]),
        ("rules_show_tag_001", &["rules", "show", "GOV-TAG-001"][..]),
    ] {
        let run = repo.govops_env(args, &env());
        settings.bind(|| insta::assert_snapshot!(name, shown(&run)));
    }
}

/// An invalid config: every problem, each with its file, line and key path,
/// whether `config validate` or `check` finds it.
#[test]
fn invalid_config_display() {
    let repo = Repo::new();
    // Problems of shape: a wrong type, a wrong value, an unknown key.
    repo.write(
        "shape.yaml",
        "version: 1
tags:
  required: owner
severity:
  GOV-TAG-001: loud
unknown_key: 1
",
    );
    // Problems of meaning: a bad glob, a waiver without a reason or a date.
    repo.write(
        "meaning.yaml",
        "version: 1
manifests:
  include: ['a/{b']
waivers:
  - rule: GOV-TAG-001
    reason: ''
    owner: ops@example.com
    expires: soon
",
    );
    // A negative number where a count belongs. Pinned as it is today, which
    // is a bug: the message names no key path (`limits.max_file_bytes`),
    // and this one problem hides the waiver's missing reason.
    repo.write(
        "number.yaml",
        "version: 1
limits:
  max_file_bytes: -1
waivers:
  - {rule: GOV-TAG-001, reason: '', owner: ops@example.com, expires: 2030-01-01}
",
    );
    let settings = settings(Some(&repo), &[]);
    for file in ["shape", "meaning", "number"] {
        let run = repo.govops_env(&["config", "validate", &format!("{file}.yaml")], &env());
        assert_eq!(run.code(), 1, "{}", run.stderr());
        settings.bind(|| insta::assert_snapshot!(format!("config_validate_{file}"), shown(&run)));
    }
    // The gate cannot judge by a broken policy: exit 2, the same display.
    std::fs::copy(
        repo.path().join("shape.yaml"),
        repo.path().join(".govops.yaml"),
    )
    .unwrap();
    let run = repo.govops_env(
        &["check", "--staged", "--color", "never", "--now", NOW],
        &env(),
    );
    assert_eq!(run.code(), 2, "{}", run.stderr());
    settings.bind(|| insta::assert_snapshot!("check_invalid_config", shown(&run)));
}

/// `govops init`: what it prints and the file it writes.
#[test]
fn init_writes_the_commented_defaults() {
    let repo = Repo::new();
    let run = repo.govops_env(&["init"], &env());
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let written = std::fs::read_to_string(repo.path().join(".govops.yaml")).unwrap();
    let settings = settings(Some(&repo), &[]);
    settings.bind(|| {
        insta::assert_snapshot!("init", shown(&run));
        insta::assert_snapshot!("init_govops_yaml", written);
    });
}

#[test]
fn config_schema() {
    let repo = Repo::new();
    let run = repo.govops_env(&["schema", "config"], &env());
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let schema: serde_json::Value = serde_json::from_str(&run.stdout()).expect("JSON");
    assert!(schema.is_object());
    settings(None, &[]).bind(|| insta::assert_snapshot!("schema_config", shown(&run)));
}
