//! `govops check` end to end: a clean repository passes with zero config, and
//! each built-in rule fires where it should and nowhere else.

use crate::repo::{deployment, findings, ids, Repo};

#[test]
fn clean_repository_passes_with_zero_config() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/api.yaml",
        deployment("api", "dev").replace("replicas: 1", "replicas: 2"),
    );
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.commit("Scale the api to two replicas");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(ids(&report), Vec::<String>::new());
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["summary"]["commits"], 1);
    assert_eq!(report["summary"]["manifests"], 1);
    assert_eq!(report["policy"]["source"], "base");
    assert_eq!(report["range"]["source"], "default-branch");
    // Every manifest at head is clean too.
    let (code, report) = repo.check_json(&["--all-manifests"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["manifests"], 2);
}

#[test]
fn human_report_labels_the_offending_line() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/worker.yaml",
        deployment("worker", "dev").replace("    owner: team-a\n", ""),
    );
    repo.commit("Add the worker");
    let run = repo.govops(&["check", "--color", "never"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let out = run.stdout();
    assert!(out.contains("GOV-TAG-001"), "{out}");
    assert!(
        out.contains("Deployment worker has no label \"owner\""),
        "{out}"
    );
    assert!(out.contains("[deploy/dev/worker.yaml:6:3]"), "{out}");
    assert!(out.contains(" 6 |   labels:"), "{out}");
    assert!(
        out.contains("govops: FAIL: 1 deny, 0 review, 0 warn open"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "no colour when not a terminal");
}

#[test]
fn tag_001_points_at_labels_or_metadata() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/worker.yaml",
        deployment("worker", "dev").replace("    cost-center: cc-100\n", ""),
    );
    repo.write(
        "deploy/dev/bare.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: bare\nspec: {}\n",
    );
    repo.commit("Add a worker and a service");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    let tag = findings(&report, "GOV-TAG-001");
    let at = |file: &str| -> Vec<(u64, u64)> {
        tag.iter()
            .filter(|f| f["file"] == file)
            .map(|f| (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(at("deploy/dev/worker.yaml"), vec![(6, 3)]);
    // No labels at all: all four required labels point at `metadata:`.
    assert_eq!(at("deploy/dev/bare.yaml"), vec![(3, 1); 4]);
    assert_eq!(ids(&report), vec!["GOV-TAG-001"; 5]);
}

#[test]
fn tag_002_points_at_the_value_key() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/api.yaml",
        deployment("api", "dev").replace("environment: dev", "environment: develop"),
    );
    repo.commit("Rename the environment");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    // The relabel reaches both environments, dev and develop (BLAST-004).
    assert_eq!(ids(&report), vec!["GOV-BLAST-004", "GOV-TAG-002"]);
    let f = &findings(&report, "GOV-TAG-002")[0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(8), Some(5))
    );
}

#[test]
fn tag_003_points_at_the_container() {
    let repo = Repo::gitops();
    repo.write(
        ".govops.yaml",
        "version: 1\ntags:\n  env_vars: [OTEL_SERVICE_NAME]\n",
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("Require OTEL_SERVICE_NAME");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write(
        "deploy/dev/api.yaml",
        deployment("api", "dev").replace("replicas: 1", "replicas: 3"),
    );
    repo.commit("Scale up");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-TAG-003"]);
    let f = &findings(&report, "GOV-TAG-003")[0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(16), Some(11))
    );
}

#[test]
fn ai_001_commit_without_model() {
    let repo = Repo::gitops();
    repo.write("src/lib.rs", "pub fn f() {}\n");
    let sha = repo.commit("Add f\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n");
    repo.write("src/lib.rs", "pub fn f() -> u8 { 1 }\n");
    repo.commit(
        "Return one\n\nCo-Authored-By: Claude Opus 4.6 (1M context) <noreply@anthropic.com>\n",
    );
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-AI-001"]);
    assert_eq!(findings(&report, "GOV-AI-001")[0]["commit"], sha.as_str());
    assert_eq!(report["summary"]["ai_commits"], 2);
}

#[test]
fn ai_rules_from_config() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        ".govops.yaml",
        "version: 1
ai:
  require_declaration: true
  allowed: ['claude-*', copilot]
  blocked:
    - {tool: copilot, model: 'gpt-3.5*', since: 2020-01-01, reason: insecure suggestions}
",
    );
    repo.commit("Adopt govops\n\nAI-Assisted: no\n");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write("a.txt", "a\n");
    let undeclared = repo.commit("Plain human commit\n");
    repo.write("b.txt", "b\n");
    let cursor = repo.commit("Cursor commit\n\nAssisted-by: cursor:gpt-5\n");
    repo.write("c.txt", "c\n");
    let blocked = repo.commit(
        "Old model\n\nCo-authored-by: Copilot <copilot@github.com>\nAI-Model: gpt-3.5-turbo\n",
    );
    repo.write("d.txt", "d\n");
    let signed = repo.commit(
        "Signed by a bot\n\nAssisted-by: claude-code:claude-opus-4-6\nSigned-off-by: Claude <noreply@anthropic.com>\n",
    );
    repo.write("e.txt", "e\n");
    repo.commit("Declared human work\n\nAI-Assisted: no\n");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        ids(&report),
        vec!["GOV-AI-002", "GOV-AI-003", "GOV-AI-004", "GOV-AI-005"]
    );
    for (id, sha) in [
        ("GOV-AI-002", &blocked),
        ("GOV-AI-003", &cursor),
        ("GOV-AI-004", &undeclared),
        ("GOV-AI-005", &signed),
    ] {
        assert_eq!(findings(&report, id)[0]["commit"], sha.as_str(), "{id}");
    }
}

#[test]
fn blast_001_and_002_for_ai_commits() {
    let repo = Repo::gitops();
    repo.write(".github/workflows/ci.yml", "on: push\n");
    for i in 0..26 {
        repo.write(&format!("src/m{i}.rs"), "pub fn f() {}\n");
    }
    let sha =
        repo.commit("Scaffold\n\nCo-authored-by: Copilot <copilot@github.com>\nAI-Model: gpt-5\n");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-BLAST-001", "GOV-BLAST-002"]);
    let b1 = &findings(&report, "GOV-BLAST-001")[0];
    assert_eq!(b1["file"], ".github/workflows/ci.yml");
    assert_eq!(b1["commit"], sha.as_str());
    // The same change by a human is not a blast-radius concern.
    let repo = Repo::gitops();
    repo.write(".github/workflows/ci.yml", "on: push\n");
    repo.commit("CI");
    assert_eq!(repo.check_json(&[]).0, 0);
}

#[test]
fn blast_003_production_needs_approval() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/prod/api.yaml",
        deployment("api", "prod").replace("replicas: 1", "replicas: 4"),
    );
    repo.commit("Scale prod");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-BLAST-003"]);
    let f = &findings(&report, "GOV-BLAST-003")[0];
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64()),
        (Some("deploy/prod/api.yaml"), Some(1))
    );
    // A human approval known to CI approves it; an AI identity never does.
    let (code, report) = repo.check_json(&["--approved-by", "copilot-pull-request-reviewer[bot]"]);
    assert_eq!(code, 1, "{report:#}");
    let (code, report) = repo.check_json(&["--approved-by", "grace"]);
    assert_eq!(code, 0, "{report:#}");
    let f = &findings(&report, "GOV-BLAST-003")[0];
    assert_eq!(f["status"], "approved");
    assert_eq!(f["approval"]["by"][0], "grace");
    assert_eq!(report["summary"]["approved"], 1);
    // --fail-on deny lets review findings through.
    assert_eq!(repo.check_json(&["--fail-on", "deny"]).0, 0);
}

#[test]
fn blast_004_and_005_scope() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/api.yaml",
        deployment("api", "dev").replace("1.0.0", "1.1.0"),
    );
    repo.write(
        "deploy/prod/api.yaml",
        deployment("api", "prod").replace("1.0.0", "1.1.0"),
    );
    repo.write(
        "deploy/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n",
    );
    repo.commit("Release 1.1.0 everywhere");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        ids(&report),
        vec!["GOV-BLAST-003", "GOV-BLAST-004", "GOV-BLAST-005"]
    );
    assert!(findings(&report, "GOV-BLAST-004")[0]["message"]
        .as_str()
        .unwrap()
        .contains("2 environments (dev, prod)"));
    assert_eq!(findings(&report, "GOV-BLAST-005")[0]["line"], 1);
}

#[test]
fn deleted_objects_are_changes() {
    let repo = Repo::gitops();
    repo.remove("deploy/prod/api.yaml");
    repo.commit("Retire prod api");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-BLAST-003"]);
    let f = &findings(&report, "GOV-BLAST-003")[0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("deletes Deployment api"),
        "{f}"
    );
    assert_eq!(f["line"], serde_json::Value::Null);
}

#[test]
fn input_001_points_at_the_parse_error() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/broken.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  labels: {app: x\n",
    );
    repo.commit("Broken manifest");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"]);
    let f = &findings(&report, "GOV-INPUT-001")[0];
    assert_eq!(f["file"], "deploy/dev/broken.yaml");
    assert!(f["line"].as_u64().unwrap() >= 4, "{f}");
}

#[test]
fn helm_templates_and_non_manifests_are_skipped_and_counted() {
    let repo = Repo::gitops();
    repo.write(
        "charts/api/Chart.yaml",
        "apiVersion: v2\nname: api\nversion: 0.1.0\n",
    );
    repo.write(
        "charts/api/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n",
    );
    repo.write("config/settings.json", "{\"debug\": true}\n");
    repo.commit("Add a chart");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["skipped_helm_templates"], 1);
    // Chart.yaml has apiVersion but no kind; settings.json has neither.
    assert_eq!(report["summary"]["skipped_documents"], 2);
    assert!(report["notes"].to_string().contains("helm template"));
}

#[test]
fn manifests_from_stdin() {
    let repo = Repo::gitops();
    let stream = format!(
        "{}---\n{}",
        deployment("a", "dev"),
        deployment("b", "dev").replace("    owner: team-a\n", "")
    );
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_govops"));
    cmd.current_dir(repo.path())
        .args(["check", "--format", "json", "--manifests", "-"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    let out = crate::repo::run_with_stdin(cmd, stream.as_bytes());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids(&report), vec!["GOV-TAG-001"]);
    let f = &findings(&report, "GOV-TAG-001")[0];
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64()),
        (Some("-"), Some(24))
    );
}

#[test]
fn dump_input_prints_the_document() {
    let repo = Repo::gitops();
    repo.write("x.txt", "x\n");
    let sha = repo.commit(
        "Subject line\n\nBody.\n\nCo-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>\n",
    );
    let run = repo.govops(&["check", "--dump-input", "--now", "2026-11-21T12:00:00Z"]);
    assert_eq!(run.code(), 0);
    let input: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(input["schema"], "govops.input/v1");
    assert_eq!(input["now"], "2026-11-21T12:00:00Z");
    let c = &input["commits"][0];
    assert_eq!(c["sha"], sha.as_str());
    assert_eq!(c["subject"], "Subject line");
    assert_eq!(c["ai"]["tools"][0]["tool"], "claude-code");
    assert_eq!(c["ai"]["tools"][0]["model"], "Claude Sonnet 4.5");
    assert_eq!(c["files"][0]["path"], "x.txt");
    assert_eq!(c["files"][0]["additions"], 1);
    assert_eq!(input["changes"]["files"][0]["ai_commits"][0], sha.as_str());
    assert_eq!(input["config"]["blast_radius"]["ai_max_lines"], 800);
}

#[test]
fn hidden_co_author_in_the_body_counts() {
    let repo = Repo::gitops();
    repo.write("x.txt", "x\n");
    repo.commit(
        "Fix it\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n\nExecuted-By: a script\nmore prose here\n",
    );
    let run = repo.govops(&["check", "--dump-input"]);
    let input: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let c = &input["commits"][0];
    assert_eq!(
        c["trailers"],
        serde_json::json!([]),
        "git sees no trailer block"
    );
    assert_eq!(c["ai"]["tools"][0]["evidence"][0]["source"], "body");
}

#[test]
fn range_from_flags_includes_merges() {
    let repo = Repo::gitops();
    let base = repo.git(&["rev-parse", "main"]);
    repo.write("a.txt", "a\n");
    repo.commit("On feature");
    repo.git(&["checkout", "-q", "-b", "side", "main"]);
    repo.write("b.txt", "b\n");
    repo.commit("On side");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    let (code, report) = repo.check_json(&["--base", &base, "--head", "HEAD"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["commits"], 3);
    assert_eq!(report["range"]["source"], "flags");
    let run = repo.govops(&["check", "--dump-input", "--base", &base]);
    let input: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let merge = input["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["parents"].as_array().unwrap().len() == 2)
        .unwrap();
    // A clean merge brings b.txt in but changes nothing of its own (issue
    // #16: judged by its remerge diff); the range still holds b.txt.
    assert_eq!(merge["files"], serde_json::json!([]));
    assert!(input["changes"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "b.txt"));
}

#[test]
fn head_alone_when_there_is_no_base() {
    let repo = Repo::new();
    repo.write("deploy/api.yaml", deployment("api", "dev"));
    repo.commit("Only commit");
    let run = repo.govops(&["check", "--color", "never"]);
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    assert!(
        run.stdout().contains("checked HEAD alone"),
        "{}",
        run.stdout()
    );
}

#[test]
fn shallow_clone_names_the_missing_base() {
    let repo = Repo::gitops();
    repo.write("a.txt", "a\n");
    repo.commit("More");
    let base = repo.git(&["rev-parse", "main"]);
    let clone = tempfile::tempdir().unwrap();
    let out = crate::repo::git_command(clone.path())
        .args(["clone", "-q", "--depth", "1", "--branch", "feature"])
        .arg(format!("file://{}", repo.path().display()))
        .arg("c")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_govops"))
        .current_dir(clone.path().join("c"))
        .args(["check", "--base", &base])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains(&base) && err.contains("fetch-depth: 0") && err.contains("shallow"),
        "{err}"
    );
}

#[test]
fn github_pull_request_event_sets_range_and_approval_label() {
    let repo = Repo::gitops();
    let base = repo.git(&["rev-parse", "main"]);
    let head = repo.scale_prod("Scale prod");
    let payload = |labels: &str| {
        format!(
            r#"{{"pull_request": {{"number": 7, "title": "Scale prod", "user": {{"login": "ada"}},
               "labels": [{labels}], "base": {{"sha": "{base}"}}, "head": {{"sha": "{head}", "ref": "feature"}}}}}}"#
        )
    };
    let event = repo.path().join(".git/event.json");
    std::fs::write(&event, payload("")).unwrap();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
    ];
    let run = repo.govops_env(&["check", "--format", "json"], &env);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["range"]["source"], "github-event");
    assert_eq!(ids(&report), vec!["GOV-BLAST-003"]);
    std::fs::write(&event, payload(r#"{"name": "govops:approved"}"#)).unwrap();
    let run = repo.govops_env(&["check", "--format", "json"], &env);
    assert_eq!(run.code(), 0, "{}", run.stdout());
}

#[test]
fn line_counts_agree_with_git_numstat() {
    // Per-commit and range sizes feed GOV-BLAST-002: they must be git's.
    let repo = Repo::gitops();
    repo.write("keep.txt", "one\ntwo\nthree\n");
    repo.write("gone.txt", "a\nb\n");
    repo.write("bin.dat", b"\x00\x01\x02binary\n");
    // Where git and libgit2 tell binary apart differently: git looks for a
    // NUL in the first 8,000 bytes only, and does not weigh control bytes.
    let late_nul = |tail: &str| {
        let mut bytes = "line\n".repeat(1700).into_bytes();
        bytes.extend_from_slice(b"\x00");
        bytes.extend_from_slice(tail.as_bytes());
        bytes
    };
    repo.write("late-nul.txt", late_nul("a\n"));
    repo.write("control.txt", b"\x01\x02\x03\x04\n\x05\x06\x07\n");
    repo.write("utf16.txt", b"\xff\xfea\x00\n\x00");
    repo.write("becomes-binary.txt", "text\n");
    repo.commit("Base files");
    repo.write("keep.txt", "one\n2\nthree\nfour");
    repo.write("new.txt", "x\ny\nz");
    repo.write("empty.txt", "");
    repo.write("bin.dat", b"\x00\x01\x03binary!\n");
    repo.write("late-nul.txt", late_nul("b\nc\n"));
    repo.write("control.txt", b"\x01\x02\x03\x04\n\x05\x06\x08\n\x0e\n");
    repo.write("utf16.txt", b"\xff\xfeb\x00\n\x00");
    repo.write("becomes-binary.txt", b"text\n\x00\n");
    let changed = repo.commit("Modify and add");
    repo.remove("gone.txt");
    let deleted = repo.commit("Delete");
    repo.remove("new.txt");
    repo.write("moved.txt", "x\ny\nz");
    let renamed = repo.commit("Rename");
    let run = repo.govops(&["check", "--dump-input"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let input: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    for (sha, files) in [(changed, 8), (deleted, 1), (renamed, 1)] {
        let commit = input["commits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["sha"] == sha.as_str())
            .unwrap();
        let numstat = repo.git(&["show", "--numstat", "-M", "--format=", &sha]);
        let mut checked = 0;
        for line in numstat.lines().filter(|l| !l.is_empty()) {
            let mut parts = line.split('\t');
            let (add, del, path) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let path = path.rsplit(" => ").next().unwrap();
            let file = commit["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["path"] == path)
                .unwrap_or_else(|| panic!("{path} missing from {commit:#}"));
            assert_eq!(file["binary"], add == "-", "{path} binary");
            if add != "-" {
                assert_eq!(file["additions"].to_string(), add, "{path} additions");
                assert_eq!(file["deletions"].to_string(), del, "{path} deletions");
            }
            checked += 1;
        }
        assert_eq!(checked, files, "{numstat}");
    }
}

/// `helm template . | govops check --manifests -` in a folder that is no
/// git repository, with a name that path waivers and environments match.
#[test]
fn manifests_from_stdin_outside_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".govops.yaml"),
        "version: 1\nenvironments:\n  paths: {prod: [\"rendered/prod/**\"]}\nwaivers:\n  - {rule: GOV-TAG-001, path: \"rendered/prod/**\", name: b, reason: migrating, owner: a@b.c, expires: 2030-01-01}\n",
    )
    .unwrap();
    let stream = format!(
        "{}---\n{}",
        deployment("a", "prod"),
        deployment("b", "prod").replace("    owner: team-a\n", "")
    );
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_govops"));
        cmd.current_dir(dir.path())
            .args([
                "check",
                "--format",
                "json",
                "--now",
                "2026-11-21T12:00:00Z",
                "--manifests",
                "-",
            ])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap());
        let out = crate::repo::run_with_stdin(cmd, stream.as_bytes());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    // Named `-`, the waiver's path does not match: the finding is open.
    let (code, report) = run(&[]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(findings(&report, "GOV-TAG-001")[0]["status"], "open");
    // Named as the rendered file, it does.
    let (code, report) = run(&["--stdin-name", "rendered/prod/all.yaml"]);
    assert_eq!(code, Some(0), "{report:#}");
    let f = &findings(&report, "GOV-TAG-001")[0];
    assert_eq!(f["status"], "waived");
    assert_eq!(f["file"], "rendered/prod/all.yaml");
}
