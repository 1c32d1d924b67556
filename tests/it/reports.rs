//! Reports for CI: SARIF as code scanning reads it, JUnit, GitHub
//! annotations with a simulated Actions environment, Markdown.

use crate::repo::{deployment, Repo};
use std::path::Path;

/// A feature branch with a deny, a review (approved) and a waived finding.
fn failing_repo() -> Repo {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        ".govops.yaml",
        "version: 1\nwaivers:\n  - {rule: GOV-TAG-001, name: legacy, reason: 'old, see OPS-1', owner: ops@example.com, expires: 2030-01-01}\n",
    );
    repo.commit("Policy");
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
    repo.write("src/a.rs", "fn a() {}\n");
    repo.commit(
        "Workers, prod scale, and code\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n",
    );
    repo
}

#[test]
fn sarif_has_what_code_scanning_reads() {
    let repo = failing_repo();
    let sarif = repo.path().join("govops.sarif");
    let run = repo.govops(&[
        "check",
        "--format",
        "json",
        "--approved-by",
        "grace",
        "--report",
        &format!("sarif:{}", sarif.display()),
    ]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    crate::repo::validate_sarif(&sarif);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "GOV-TAG-001"
        && r["shortDescription"]["text"] == "Manifest lacks a required label"));
    let results = run0["results"].as_array().unwrap();
    let tag = results
        .iter()
        .find(|r| r["ruleId"] == "GOV-TAG-001" && r.get("suppressions").is_none())
        .unwrap();
    assert_eq!(tag["level"], "error");
    let loc = &tag["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "deploy/dev/worker.yaml");
    assert_eq!(loc["region"]["startLine"], 6);
    assert!(
        tag["partialFingerprints"]["govopsFinding/v1"]
            .as_str()
            .unwrap()
            .len()
            == 32
    );
    let waived = results
        .iter()
        .find(|r| r["ruleId"] == "GOV-TAG-001" && r.get("suppressions").is_some())
        .unwrap();
    assert!(waived["suppressions"][0]["justification"]
        .as_str()
        .unwrap()
        .contains("OPS-1"));
    let approved = results
        .iter()
        .find(|r| r["ruleId"] == "GOV-BLAST-003")
        .unwrap();
    assert!(approved["suppressions"][0]["justification"]
        .as_str()
        .unwrap()
        .contains("grace"));
    // A commit finding points at the file its commit changed.
    let ai = results
        .iter()
        .find(|r| r["ruleId"] == "GOV-AI-001")
        .unwrap();
    assert!(
        ai["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .len()
            > 1
    );
    assert_eq!(
        run0["tool"]["driver"]["semanticVersion"],
        env!("CARGO_PKG_VERSION")
    );
    for r in results {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1, "{r:#}");
        let hash = r["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .unwrap();
        assert!(hash.len() == 18 && hash.ends_with(":1"), "{hash}");
        if let Some(s) = r.get("suppressions") {
            assert_eq!(s[0]["status"], "accepted", "code scanning closes it");
        }
    }
}

#[test]
fn action_yml_validates_against_the_actions_schema() {
    let action = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let check = std::process::Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-actions"])
        .arg(&action)
        .output()
        .expect("check-jsonschema is installed by scripts/test");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let workflows = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    for entry in std::fs::read_dir(workflows).unwrap() {
        let check = std::process::Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(entry.unwrap().path())
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

#[test]
fn junit_has_a_suite_per_family_and_a_case_per_rule() {
    let repo = failing_repo();
    let run = repo.govops(&["check", "--format", "junit"]);
    assert_eq!(run.code(), 1);
    let xml = run.stdout();
    assert!(xml.starts_with("<?xml"), "{xml}");
    // The worker's missing label fails; the waived legacy one is skipped,
    // saying who waived it and why.
    assert!(
        xml.contains(
            r#"<testsuite name="govops.TAG" tests="4" skipped="1" errors="0" failures="1" time="0.000">"#
        ),
        "{xml}"
    );
    assert!(
        xml.contains(
            r#"<testcase name="GOV-TAG-002: Label value is not allowed" classname="govops.TAG" time="0.000"/>"#
        ),
        "{xml}"
    );
    assert!(xml.contains("at deploy/dev/worker.yaml:6\" classname=\"govops.TAG\" time=\"0.000\" file=\"deploy/dev/worker.yaml\""), "{xml}");
    assert!(
        xml.contains(
            "<skipped message=\"waived until 2030-01-01 by ops@example.com: old, see OPS-1: "
        ),
        "{xml}"
    );
    assert!(xml.contains(r#"<testsuite name="govops.AI""#), "{xml}");
}

#[test]
fn github_annotations_summary_and_outputs() {
    let repo = failing_repo();
    let summary = repo.path().join(".git/summary.md");
    let output = repo.path().join(".git/output.txt");
    std::fs::write(&summary, "previous step\n").unwrap();
    let run = repo.govops_env(
        &["check", "--format", "github"],
        &[
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/deploy"),
        ],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let out = run.stdout();
    assert!(
        out.contains("::error file=deploy/dev/worker.yaml,line=6,col=3,title=GOV-TAG-001::Deployment worker has no label \"owner\"\n"),
        "{out}"
    );
    assert!(
        out.contains("title=GOV-AI-001::AI-assisted commit"),
        "{out}"
    );
    assert!(
        out.contains("::error file=deploy/prod/api.yaml,line=1,col=1,title=GOV-BLAST-003::"),
        "{out}"
    );
    assert!(
        out.contains("::notice file=deploy/dev/legacy.yaml"),
        "waived findings are notices: {out}"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("previous step\n## govops: ❌ failed"),
        "{summary}"
    );
    assert!(
        summary.contains("[deploy\\/dev\\/worker\\.yaml\\:6](https://github.com/acme/deploy/blob/"),
        "{summary}"
    );
    assert!(summary.contains("What to do next"), "{summary}");
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(
        outputs.starts_with("verdict=fail\nfindings=4\naudit-hash="),
        "{outputs}"
    );
}

#[test]
fn review_event_approval_passes_the_review_findings() {
    let repo = Repo::gitops();
    let base = repo.git(&["rev-parse", "main"]);
    let head = repo.scale_prod("Scale prod");
    let event = repo.path().join(".git/event.json");
    let payload = |state: &str| {
        format!(
            r#"{{"review": {{"state": "{state}", "user": {{"login": "grace"}}}},
               "pull_request": {{"number": 3, "title": "t", "user": {{"login": "ada"}}, "labels": [],
               "base": {{"sha": "{base}"}}, "head": {{"sha": "{head}", "ref": "feature"}}}}}}"#
        )
    };
    let env = |path: &str| {
        vec![
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "pull_request_review"),
            ("GITHUB_EVENT_PATH", path),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect::<Vec<_>>()
    };
    std::fs::write(&event, payload("commented")).unwrap();
    let e = env(event.to_str().unwrap());
    let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        repo.govops_env(&["check", "--format", "json"], &e).code(),
        1
    );
    std::fs::write(&event, payload("approved")).unwrap();
    let run = repo.govops_env(&["check", "--format", "json"], &e);
    assert_eq!(run.code(), 0, "{}", run.stdout());
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(report["findings"][0]["approval"]["via"][0], "review");
}

#[test]
fn markdown_report_for_a_pr_comment() {
    let repo = failing_repo();
    let run = repo.govops(&["check", "--format", "markdown"]);
    assert_eq!(run.code(), 1);
    let md = run.stdout();
    assert!(
        md.contains("| deny | review | warn | waived | baselined | approved |"),
        "{md}"
    );
    assert!(
        md.contains("| GOV\\-TAG\\-001 | deny | open | deploy\\/dev\\/worker\\.yaml\\:6 |"),
        "{md}"
    );
}

/// Every report says which govops wrote it.
#[test]
fn every_report_records_the_version() {
    let repo = failing_repo();
    let version = env!("CARGO_PKG_VERSION");
    let (_, report) = repo.check_json(&[]);
    assert_eq!(report["version"], version);
    for format in ["human", "markdown", "junit"] {
        let run = repo.govops(&["check", "--format", format]);
        assert!(
            run.stdout().contains(&format!("govops {version}"))
                || run
                    .stdout()
                    .contains(&format!("govops {}", version.replace('.', "\\."))),
            "{format}: {}",
            run.stdout()
        );
    }
    let outputs = repo.path().join(".git/outputs");
    repo.govops_env(
        &["check", "--format", "github"],
        &[("GITHUB_OUTPUT", outputs.to_str().unwrap())],
    );
    let written = std::fs::read_to_string(&outputs).unwrap();
    assert!(
        written.contains(&format!("version={version}\n")),
        "{written}"
    );
}

/// A finding about a commit points at the first line that commit changed.
#[test]
fn commit_findings_point_at_the_first_changed_line() {
    let repo = Repo::gitops();
    let lines: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    repo.write("src/app.txt", &lines);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Base text"]);
    repo.write("src/app.txt", lines.replace("line 12\n", "line twelve\n"));
    repo.commit("Edit\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n");
    let sarif = repo.path().join(".git/out.sarif");
    let outputs = repo.path().join(".git/out.txt");
    let run = repo.govops_env(
        &["check", "--format", "github", "--report", &format!("sarif:{}", sarif.display())],
        &[("GITHUB_OUTPUT", outputs.to_str().unwrap())],
    );
    assert_eq!(run.code(), 1, "{}", run.stdout());
    crate::repo::validate_sarif(&sarif);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let ai = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "GOV-AI-001")
        .expect("GOV-AI-001");
    let location = &ai["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/app.txt");
    assert_eq!(location["region"]["startLine"], 12, "{ai:#}");
    assert!(
        run.stdout().contains("file=src/app.txt,line=12"),
        "{}",
        run.stdout()
    );
}
