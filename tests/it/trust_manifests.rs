//! Trust in manifest discovery: nothing the judged change does may make the
//! gate skip content it judged before (a Chart.yaml above it, a rename into
//! an excluded name, a link, a lost kind), Lists are judged item by item,
//! every skipped file is named in the reports, and hostile manifests stay
//! within time and memory bounds.

use crate::repo::{deployment, findings, ids, Repo};

/// Bounds for one hostile run (a debug build): seconds, MiB of peak memory.
const SECONDS: u64 = 10;
const MIB: u64 = 256;

fn symlink(repo: &Repo, target: &str, path: &str) {
    let full = repo.path().join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&full);
    std::os::unix::fs::symlink(target, full).unwrap();
}

fn messages(report: &serde_json::Value, id: &str) -> String {
    findings(report, id)
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_chart_yaml_cannot_turn_a_production_manifest_into_an_unjudged_template() {
    let repo = Repo::gitops();
    std::fs::create_dir_all(repo.path().join("deploy/prod/templates")).unwrap();
    repo.git(&[
        "mv",
        "deploy/prod/api.yaml",
        "deploy/prod/templates/api.yaml",
    ]);
    repo.write(
        "deploy/prod/Chart.yaml",
        "apiVersion: v2\nname: api\nversion: 1.0.0\n",
    );
    repo.commit("Package the service as a chart");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-INPUT-003"], "{report:#}");
    let f = &findings(&report, "GOV-INPUT-003")[0];
    assert_eq!(f["severity"], "deny");
    assert_eq!(f["file"], "deploy/prod/templates/api.yaml");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("renamed from deploy/prod/api.yaml"),
        "{f}"
    );
    // The template is named in every report, and counted in the summary.
    assert_eq!(report["summary"]["skipped_helm_templates"], 1);
    assert!(
        report["notes"]
            .to_string()
            .contains("deploy/prod/templates/api.yaml"),
        "{}",
        report["notes"]
    );
    // SARIF (a tool notification), JUnit (system-out) and the workflow
    // log name it too.
    let sarif = repo.path().join(".git/out.sarif");
    let junit = repo.path().join(".git/out.xml");
    let run = repo.govops(&[
        "check",
        "--format",
        "github",
        "--report",
        &format!("sarif:{}", sarif.display()),
        "--report",
        &format!("junit:{}", junit.display()),
    ]);
    crate::repo::validate_sarif(&sarif);
    for (what, text) in [
        ("sarif", std::fs::read_to_string(&sarif).unwrap()),
        ("junit", std::fs::read_to_string(&junit).unwrap()),
        ("github", run.stdout()),
    ] {
        assert!(
            text.contains("Helm template file(s) skipped: deploy/prod/templates/api.yaml"),
            "{what}: {text}"
        );
    }
    for format in ["human", "markdown"] {
        let run = repo.govops(&["check", "--format", format, "--now", "2026-11-21T12:00:00Z"]);
        // Markdown escapes its punctuation: read it without the escapes.
        let shown = run.stdout().replace('\\', "");
        assert!(
            shown.contains("Helm template file(s) skipped: deploy/prod/templates/api.yaml"),
            "{format}: {}",
            run.stdout()
        );
    }
}

#[test]
fn a_chart_yaml_added_above_unchanged_manifests_is_a_finding() {
    // Manifests in folders named templates.
    let repo = Repo::with_main(&[
        ("deploy/dev/templates/api.yaml", &deployment("api", "dev")),
        ("deploy/prod/templates/api.yaml", &deployment("api", "prod")),
    ]);
    repo.write(
        "deploy/dev/Chart.yaml",
        "apiVersion: v2\nname: api\nversion: 1.0.0\n",
    );
    repo.write(
        "deploy/prod/Chart.yaml",
        "apiVersion: v2\nname: api\nversion: 1.0.0\n",
    );
    repo.commit("Charts");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        ids(&report),
        vec!["GOV-INPUT-002", "GOV-INPUT-003"],
        "{report:#}"
    );
    assert_eq!(
        findings(&report, "GOV-INPUT-002")[0]["file"],
        "deploy/dev/templates/api.yaml"
    );
    assert_eq!(
        findings(&report, "GOV-INPUT-003")[0]["file"],
        "deploy/prod/templates/api.yaml"
    );
    // --all-manifests reaches the same verdict.
    let (_, report) = repo.check_json(&["--all-manifests"]);
    assert_eq!(
        ids(&report),
        vec!["GOV-INPUT-002", "GOV-INPUT-003"],
        "{report:#}"
    );
    // An existing chart's templates stay a plain, listed skip.
    repo.git(&["checkout", "-q", "-b", "next"]);
    repo.write("deploy/dev/templates/api.yaml", "{{ .Values.x }}\n");
    repo.commit("Template it");
    let (code, report) = repo.check_json(&["--base", "feature"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(report["notes"]
        .to_string()
        .contains("deploy/dev/templates/api.yaml"));
}

#[test]
fn renames_out_of_judgement_are_findings() {
    for (to, id) in [
        (".github/api.yaml", "GOV-INPUT-003"),
        ("deploy/prod/api.yaml.txt", "GOV-INPUT-003"),
        ("deploy/prod/node_modules/api.yaml", "GOV-INPUT-003"),
    ] {
        let repo = Repo::gitops();
        let full = repo.path().join(to);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        repo.git(&["mv", "deploy/prod/api.yaml", to]);
        repo.commit("Move it");
        let (code, report) = repo.check_json(&[]);
        assert_eq!(code, 1, "{to}: {report:#}");
        assert_eq!(ids(&report), vec![id], "{to}: {report:#}");
        assert!(messages(&report, id).contains(to), "{report:#}");
    }
}

#[test]
fn a_manifest_turned_into_a_symlink_or_a_document_without_kind_is_a_finding() {
    let repo = Repo::gitops();
    symlink(&repo, "../dev/api.yaml", "deploy/prod/api.yaml");
    repo.commit("Link prod to dev");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-INPUT-003"], "{report:#}");
    assert!(messages(&report, "GOV-INPUT-003").contains("symbolic link"));
    assert_eq!(report["summary"]["skipped_symlinks"], 1);

    let repo = Repo::gitops();
    repo.write(
        "deploy/prod/api.yaml",
        deployment("api", "prod").replace("apiVersion: apps/v1\n", ""),
    );
    repo.commit("Drop the apiVersion");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).contains(&"GOV-INPUT-003".to_string()),
        "{report:#}"
    );
}

#[test]
fn links_added_in_manifest_folders_are_findings_and_listed() {
    let repo = Repo::gitops();
    symlink(&repo, "/etc", "deploy/dev/extra");
    symlink(&repo, "../dev/api.yaml", "deploy/prod/db.yaml");
    repo.commit("Two links");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        ids(&report),
        vec!["GOV-INPUT-002", "GOV-INPUT-002"],
        "{report:#}"
    );
    assert!(findings(&report, "GOV-INPUT-002")
        .iter()
        .all(|f| f["severity"] == "review"));
    let text = messages(&report, "GOV-INPUT-002");
    assert!(text.contains("deploy/dev/extra"), "{text}");
    assert!(text.contains("deploy/prod/db.yaml"), "{text}");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("2 symbolic link(s) not followed: "),
        "{notes}"
    );
    assert!(
        notes.contains("deploy/dev/extra") && notes.contains("deploy/prod/db.yaml"),
        "{notes}"
    );
    // A link outside manifest folders is no finding.
    let repo = Repo::gitops();
    symlink(&repo, "README.md", "docs/README.md");
    repo.commit("Docs link");
    let (code, report) = repo.check_json(&[]);
    assert_eq!((code, ids(&report)), (0, vec![]), "{report:#}");
}

#[test]
fn a_submodule_added_in_a_manifest_folder_is_a_finding_and_listed() {
    let repo = Repo::gitops();
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},deploy/prod/sub"),
    ]);
    // Not `repo.commit`: `git add -A` would drop a gitlink with no folder.
    repo.git(&["commit", "-q", "-m", "A submodule"]);
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-INPUT-002"], "{report:#}");
    assert!(messages(&report, "GOV-INPUT-002").contains("deploy/prod/sub"));
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("1 submodule(s) (gitlinks) not judged: deploy/prod/sub"),
        "{notes}"
    );
}

#[test]
fn extensions_match_in_any_case_and_editor_folders_are_excluded_at_any_depth() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/worker.YAML",
        deployment("worker", "dev").replace("    owner: team-a\n", ""),
    );
    repo.write(
        "deploy/dev/.vscode/settings.json",
        "{\n  // JSONC\n  \"a\": 1,\n}\n",
    );
    repo.write(
        "deploy/.devcontainer/devcontainer.json",
        "{ /* JSONC */ }\n",
    );
    repo.write("web/tsconfig.json", "{ \"compilerOptions\": {} }\n");
    repo.commit("Worker, editor settings");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-TAG-001"], "{report:#}");
    assert_eq!(
        findings(&report, "GOV-TAG-001")[0]["file"],
        "deploy/dev/worker.YAML"
    );
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("3 file(s) left out by manifests.exclude"),
        "{notes}"
    );
    assert!(notes.contains("web/tsconfig.json"), "{notes}");
}

const LIST: &str = "apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
  - apiVersion: v1
    kind: List
    items:
      - apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: hidden
          labels:
            environment: prod
        spec:
          replicas: 1
";

#[test]
fn list_items_are_judged_with_their_own_lines() {
    let repo = Repo::gitops();
    repo.write("deploy/dev/list.yaml", LIST);
    repo.commit("A List");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    let mut found = ids(&report);
    found.dedup();
    assert_eq!(found, vec!["GOV-BLAST-003", "GOV-TAG-001"], "{report:#}");
    let tag = &findings(&report, "GOV-TAG-001")[0];
    assert_eq!(tag["file"], "deploy/dev/list.yaml");
    assert_eq!(tag["line"], 15, "the nested item's labels: {tag}");
    assert_eq!(tag["name"], "hidden");
    let blast = &findings(&report, "GOV-BLAST-003")[0];
    assert_eq!(blast["line"], 11, "the nested item itself: {blast}");
    let run = repo.govops(&["check", "--dump-input", "--now", "2026-11-21T12:00:00Z"]);
    let input: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let hidden = input["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "hidden")
        .unwrap();
    assert_eq!(hidden["item"]["doc"], 0);
    assert_eq!(hidden["item"]["pointer"], "/items/1/items/0");
}

#[test]
fn a_malformed_list_is_an_input_error() {
    for (text, line) in [
        ("apiVersion: v1\nkind: List\nitems: {a: 1}\n", 3),
        ("apiVersion: v1\nkind: List\nitems:\n  - just a string\n", 4),
    ] {
        let repo = Repo::gitops();
        repo.write("deploy/dev/list.yaml", text);
        repo.commit("A bad List");
        let (code, report) = repo.check_json(&[]);
        assert_eq!(code, 1, "{report:#}");
        assert_eq!(ids(&report), vec!["GOV-INPUT-001"], "{report:#}");
        assert_eq!(
            findings(&report, "GOV-INPUT-001")[0]["line"],
            line,
            "{report:#}"
        );
    }
}

#[test]
fn list_items_piped_in_are_judged() {
    let repo = Repo::gitops();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_govops"));
    let out = cmd
        .current_dir(repo.path())
        .args([
            "check",
            "--format",
            "json",
            "--manifests",
            "-",
            "--now",
            "2026-11-21T12:00:00Z",
        ])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(LIST.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tag = &findings(&report, "GOV-TAG-001")[0];
    assert_eq!(tag["line"], 15, "{report:#}");
}

/// A JSON object with `keys` keys, as a manifest's annotations.
fn many_keys(keys: usize) -> String {
    let mut text = String::from(
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"big\"}, \"data\": {",
    );
    for i in 0..keys {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("\"key{i}\": \"{i}\""));
    }
    text.push_str("}}\n");
    text
}

#[test]
fn eighty_thousand_keys_stay_bounded() {
    let repo = Repo::gitops();
    repo.write("deploy/dev/big.json", many_keys(80_000));
    repo.commit("Big object");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 0, "{report:#}");
}

/// 200 nested anchors around a large list: each anchor used to copy it.
pub fn nested_anchors() -> String {
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: anchors\ndata:\n");
    for i in 0..199 {
        text.push_str(&format!("{}k{i}: &a{i}\n", "  ".repeat(i + 1)));
    }
    // The innermost anchor holds a 600 KB list.
    text.push_str(&format!(
        "{}k199: &a199 [{}x]\n",
        "  ".repeat(200),
        "x, ".repeat(200_000)
    ));
    text
}

#[test]
fn nested_anchors_stay_bounded() {
    let repo = Repo::gitops();
    repo.write("deploy/dev/anchors.yaml", nested_anchors());
    repo.commit("Anchors");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 0, "{report:#}");
}

#[test]
fn many_documents_long_scalars_and_alias_bombs_per_document_stay_bounded() {
    let repo = Repo::gitops();
    // 10,000 documents (the default limit), each a small bomb within the
    // per-document budget: together far past it.
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
    repo.write(
        "deploy/dev/bombs.yaml",
        format!("---\n{bomb}").repeat(10_000),
    );
    repo.write(
        "deploy/dev/long.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: long\ndata:\n  a: {}\n",
            "y".repeat(9_000_000)
        ),
    );
    repo.write(
        "deploy/dev/docs.yaml",
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n".repeat(9_000),
    );
    repo.commit("Heavy files");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"], "{report:#}");
    assert!(
        messages(&report, "GOV-INPUT-001").contains("in this file"),
        "{report:#}"
    );
}

#[test]
fn many_links_stay_bounded_and_the_list_is_capped() {
    let repo = Repo::gitops();
    for i in 0..3_000 {
        symlink(
            &repo,
            "../prod/api.yaml",
            &format!("deploy/dev/link{i}.yaml"),
        );
    }
    repo.commit("Many links");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(findings(&report, "GOV-INPUT-002").len(), 3_000);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("3000 symbolic link(s) not followed: "),
        "{notes}"
    );
    assert!(notes.contains(" and 2990 more"), "{notes}");
    let run = repo.govops(&["check", "--dump-input", "--now", "2026-11-21T12:00:00Z"]);
    let input: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(input["skipped"]["files"].as_array().unwrap().len(), 200);
    assert_eq!(input["skipped"]["files_unlisted"], 2_800);
    assert_eq!(input["skipped"]["symlinks"], 3_000);
}
