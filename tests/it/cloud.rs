//! Terraform and OpenTofu plans (issue #19): plans found in the change or
//! given with `--plan`, the `cloud` rules over them, findings at the
//! `resource` block of the `.tf` source, and hostile plans (malformed,
//! another format version, too large, deep, huge) as GOV-INPUT-001 findings
//! within time and memory bounds. The fixture plan follows the documented
//! JSON plan format and is loaded by checkov's terraform_plan framework too.

use crate::repo::{findings, ids, Repo};
use std::path::PathBuf;

/// Bounds for one hostile run (a debug build): seconds, MiB of peak memory.
const SECONDS: u64 = 20;
const MIB: u64 = 512;

const CONFIG: &str = "version: 1
cloud:
  tag_names: {owner: Owner, environment: Environment, cost-center: CostCenter}
  max_deletes: 1
";

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terraform")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).unwrap()
}

/// A repository whose base has the config and the `.tf` source, and a
/// feature branch; the plan is added by each test.
fn infra(config: &str) -> Repo {
    let repo = Repo::new();
    repo.write(".govops.yaml", config);
    repo.write("infra/main.tf", read("infra/main.tf"));
    repo.write(
        "infra/modules/net/main.tf",
        read("infra/modules/net/main.tf"),
    );
    repo.commit("Infrastructure");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}

/// (id, file, line) of every finding, sorted.
fn places(report: &serde_json::Value) -> Vec<(String, String, Option<u64>)> {
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64(),
            )
        })
        .collect();
    out.sort();
    out
}

fn place(id: &str, file: &str, line: Option<u64>) -> (String, String, Option<u64>) {
    (id.to_string(), file.to_string(), line)
}

/// What the fixture plan holds, judged with CONFIG: a module resource and a
/// registry module's resource without CostCenter, a tag known only after
/// apply, two destroyed resources; an untaggable type, a random_id, a
/// deleted resource and fully tagged ones are no tag findings.
fn expected_fixture_findings(plan_file: &str) -> Vec<(String, String, Option<u64>)> {
    let mut v = vec![
        // module.net.aws_vpc.main: the module's own file.
        place("GOV-CLOUD-001", "infra/modules/net/main.tf", Some(5)),
        // module.queue (a registry module): its module call.
        place("GOV-CLOUD-001", "infra/main.tf", Some(22)),
        // aws_instance.api: Owner known only after apply.
        place("GOV-CLOUD-003", "infra/main.tf", Some(27)),
        place("GOV-CLOUD-006", plan_file, None),
    ];
    v.sort();
    v
}

#[test]
fn a_plan_in_the_change_is_judged_at_its_resource_blocks() {
    let repo = infra(CONFIG);
    repo.write("infra/app.tfplan.json", read("plan.json"));
    repo.commit("Plan");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        places(&report),
        expected_fixture_findings("infra/app.tfplan.json"),
        "{report:#}"
    );
    let missing = findings(&report, "GOV-CLOUD-001");
    assert!(missing.iter().all(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("\"CostCenter\" (label cost-center)")));
    // The plan is not read as a manifest: nothing skipped.
    assert_eq!(report["notes"], serde_json::json!([]), "{report:#}");
}

#[test]
fn a_plan_from_outside_the_repository_and_from_stdin_is_located_too() {
    let repo = infra(CONFIG);
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("plan.json");
    std::fs::copy(fixture("plan.json"), &outside).unwrap();
    let outside = outside.to_str().unwrap();
    let (code, report) = repo.check_json(&["--base", "main", "--plan", outside]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(places(&report), expected_fixture_findings(outside));

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_govops"));
    cmd.current_dir(repo.path())
        .args(["check", "--format", "json", "--base", "main", "--plan", "-"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    let out = crate::repo::run_with_stdin(cmd, read("plan.json").as_bytes());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(places(&report), expected_fixture_findings("-"));
}

#[test]
fn without_the_tf_source_findings_point_at_the_plan() {
    let repo = Repo::new();
    repo.write(".govops.yaml", CONFIG);
    repo.commit("Config");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("plans/app.tfplan.json", read("plan.json"));
    repo.commit("Plan");
    let (_, report) = repo.check_json(&["--base", "main"]);
    let file = "plans/app.tfplan.json";
    let want = vec![
        place("GOV-CLOUD-001", file, None),
        place("GOV-CLOUD-001", file, None),
        place("GOV-CLOUD-003", file, None),
        place("GOV-CLOUD-006", file, None),
    ];
    assert_eq!(places(&report), want, "{report:#}");
}

#[test]
fn bad_plans_are_input_findings_never_a_pass() {
    let plan = read("plan.json");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", plan.as_bytes()[..plan.len() / 2].to_vec(), "not a Terraform JSON plan"),
        ("v2", plan.replacen("\"format_version\": \"1.2\"", "\"format_version\": \"2.0\"", 1).into_bytes(), "format_version \"2.0\""),
        ("errored", plan.replacen("\"errored\": false", "\"errored\": true", 1).into_bytes(), "errored"),
        ("state", br#"{"format_version":"1.0","values":{}}"#.to_vec(), "not a plan"),
        ("binary", b"\xff\xfe\x00garbage".to_vec(), "not a Terraform JSON plan"),
        // Nesting past serde_json's limit inside planned values.
        (
            "deep",
            format!(
                r#"{{"format_version":"1.2","resource_changes":[{{"address":"a.b","type":"a","name":"b","change":{{"actions":["create"],"after":{}{}}}}}]}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
            "recursion limit",
        ),
    ];
    for (name, bytes, message) in cases {
        let repo = Repo::new();
        repo.write(".govops.yaml", "version: 1\n");
        repo.commit("Config");
        repo.git(&["checkout", "-q", "-b", "feature"]);
        repo.write(&format!("{name}.tfplan.json"), bytes);
        repo.commit("Plan");
        let (run, report) = repo.check_json_run(&["--base", "main"]);
        assert_eq!(run.code(), 1, "{name}: {report:#}");
        let errors = findings(&report, "GOV-INPUT-001");
        assert_eq!(errors.len(), 1, "{name}: {report:#}");
        assert_eq!(errors[0]["file"], format!("{name}.tfplan.json"));
        assert!(
            errors[0]["message"].as_str().unwrap().contains(message),
            "{name}: {report:#}"
        );
        run.assert_bounded(SECONDS, MIB);
    }
}

#[test]
fn a_plan_over_the_limit_is_not_read() {
    let repo = Repo::new();
    repo.write(
        ".govops.yaml",
        "version: 1\nlimits: {max_plan_bytes: 1000}\n",
    );
    repo.commit("Config");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("big.tfplan.json", read("plan.json"));
    repo.commit("Plan");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"], "{report:#}");
    assert!(findings(&report, "GOV-INPUT-001")[0]["message"]
        .as_str()
        .unwrap()
        .contains("limits.max_plan_bytes"));
    // The same through --plan, and through stdin.
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("p.json");
    std::fs::copy(fixture("plan.json"), &outside).unwrap();
    let (code, report) = repo.check_json(&["--plan", outside.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        ids(&report).contains(&"GOV-INPUT-001".to_string()),
        "{report:#}"
    );
}

#[test]
fn a_plan_path_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let repo = infra(CONFIG);
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"pl\xffan.json"));
    std::fs::write(&path, "{").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_govops"));
    cmd.current_dir(repo.path())
        .args(["check", "--format", "json", "--plan"])
        .arg(&path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = findings(&report, "GOV-INPUT-001");
    assert_eq!(errors.len(), 1, "{report:#}");
    assert!(
        errors[0]["file"].as_str().unwrap().contains("pl"),
        "{report:#}"
    );
}

#[test]
fn regions_production_and_ai_commits_behind_a_destructive_plan() {
    let config =
        format!("{CONFIG}  regions: {{aws: [us-*]}}\n  production_accounts: ['111122223333']\n");
    let repo = infra(&config);
    repo.write("infra/app.tfplan.json", read("plan.json"));
    repo.commit("Plan");
    repo.write(
        "infra/main.tf",
        read("infra/main.tf").replace("t3.micro", "t3.small"),
    );
    repo.commit_as(
        "Ada Lovelace",
        "ada@example.com",
        "Resize\n\nAssisted-by: Claude Code <noreply@anthropic.com>\n",
    );
    let (_, report) = repo.check_json(&["--base", "main"]);
    let regions = findings(&report, "GOV-CLOUD-004");
    // Every live AWS resource is in eu-west-1 by its provider (the deleted
    // one and the random_id are not judged).
    assert_eq!(regions.len(), 6, "{report:#}");
    assert!(regions[0]["message"]
        .as_str()
        .unwrap()
        .contains("eu-west-1"));
    let prod = findings(&report, "GOV-CLOUD-007");
    assert_eq!(prod.len(), 1, "{report:#}");
    assert!(prod[0]["message"]
        .as_str()
        .unwrap()
        .contains("111122223333"));
    let ai = findings(&report, "GOV-CLOUD-008");
    assert_eq!(ai.len(), 1, "{report:#}");
    assert_eq!(ai[0]["file"], "infra/main.tf");
}

#[test]
fn a_tag_known_only_after_apply_is_a_review_the_severity_config_settles() {
    for (severity, want) in [("", Some("review")), ("deny", Some("deny")), ("off", None)] {
        let config = match severity {
            "" => CONFIG.to_string(),
            s => format!("{CONFIG}severity: {{GOV-CLOUD-003: {s}}}\n"),
        };
        let repo = infra(&config);
        repo.write("infra/app.tfplan.json", read("plan.json"));
        repo.commit("Plan");
        let (_, report) = repo.check_json(&["--base", "main"]);
        let got = findings(&report, "GOV-CLOUD-003");
        assert_eq!(
            got.len(),
            usize::from(want.is_some()),
            "{severity}: {report:#}"
        );
        if let Some(want) = want {
            assert_eq!(got[0]["severity"], want);
        }
    }
}

#[test]
fn the_fixture_plan_loads_in_checkov() {
    // checkov's terraform_plan framework is an independent reader of the
    // documented plan format (scripts/test installs it).
    let out = std::process::Command::new("checkov")
        .args([
            "--framework",
            "terraform_plan",
            "--skip-download",
            "-o",
            "json",
            "-f",
        ])
        .arg(fixture("plan.json"))
        .output()
        .expect("checkov is installed by scripts/test");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["summary"]["parsing_errors"], 0, "{report:#}");
    // The six live AWS resources, the provider block, and the random_id.
    let count = report["summary"]["resource_count"].as_u64().unwrap();
    assert!(count >= 6, "{report:#}");
}

/// A plan of `n` resources, each with tags and a few KB of planned values.
fn big_plan(n: usize) -> String {
    let mut out = String::from(
        "{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.5\",\"resource_changes\":[",
    );
    let filler = "x".repeat(3500);
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"address\":\"aws_s3_bucket.b{i}\",\"mode\":\"managed\",\"type\":\"aws_s3_bucket\",\"name\":\"b{i}\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"change\":{{\"actions\":[\"create\"],\"before\":null,\"after\":{{\"bucket\":\"b{i}\",\"policy\":\"{filler}\",\"tags_all\":{{\"Owner\":\"a\",\"Environment\":\"dev\",\"CostCenter\":\"c\"}}}},\"after_unknown\":{{\"arn\":true}}}}}}"
        ));
    }
    out.push_str("],\"configuration\":{\"provider_config\":{\"aws\":{\"name\":\"aws\",\"expressions\":{\"region\":{\"constant_value\":\"eu-west-1\"}}}}}}");
    out
}

#[test]
fn a_plan_of_15000_resources_is_judged_in_bounds() {
    let repo = infra(CONFIG);
    let plan = big_plan(15_000);
    assert!(plan.len() > 50_000_000, "{}", plan.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    std::fs::write(&path, &plan).unwrap();
    let (run, report) = repo.check_json_run(&["--base", "main", "--plan", path.to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{report:#}");
    eprintln!(
        "15,000-resource plan ({} MB): {:?}, {} MiB",
        plan.len() / 1_000_000,
        run.elapsed,
        run.peak_kib / 1024
    );
    // A debug build; the release figure is in the report of issue #19.
    run.assert_bounded(60, 1024);
}

#[test]
fn a_plan_with_too_many_resources_is_refused_in_bounded_memory() {
    // Small resource changes, three times limits.max_plan_resources: refused
    // while read, before the input document holds them.
    let repo = infra(CONFIG);
    let mut plan = String::from("{\"format_version\":\"1.2\",\"resource_changes\":[");
    for i in 0..300_000 {
        if i > 0 {
            plan.push(',');
        }
        plan.push_str(&format!(
            "{{\"address\":\"random_id.r{i}\",\"type\":\"random_id\",\"name\":\"r{i}\",\"change\":{{\"actions\":[\"create\"],\"after\":{{}}}}}}"
        ));
    }
    plan.push_str("]}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.json");
    std::fs::write(&path, &plan).unwrap();
    let (run, report) = repo.check_json_run(&["--base", "main", "--plan", path.to_str().unwrap()]);
    assert_eq!(run.code(), 1, "{report:#}");
    let errors = findings(&report, "GOV-INPUT-001");
    assert_eq!(errors.len(), 1, "{report:#}");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("limits.max_plan_resources (100000)"));
    eprintln!(
        "300,000-resource plan ({} MB): {:?}, {} MiB",
        plan.len() / 1_000_000,
        run.elapsed,
        run.peak_kib / 1024
    );
    run.assert_bounded(SECONDS, 256);
}

/// The root module written in Terraform's JSON syntax (`main.tf.json`,
/// object and array forms mixed): findings point at the line of the
/// block's name there, as they do for `.tf`.
#[test]
fn resources_declared_in_tf_json_are_located_to_their_line() {
    let repo = Repo::new();
    repo.write(".govops.yaml", CONFIG);
    repo.write(
        "infra/main.tf.json",
        r#"{
  "provider": {"aws": {"region": "eu-west-1"}},
  "resource": {
    "aws_s3_bucket": {"logs": {"bucket": "logs-bucket"}}
  },
  "module": [
    {"net": {"source": "./modules/net"}},
    {"queue": {"source": "terraform-aws-modules/sqs/aws", "version": "4.2.0"}}
  ],
  "resource": [
    {"aws_instance": [
      {"api": {"ami": "ami-12345678", "instance_type": "t3.micro"}},
      {"web": {"ami": "ami-87654321"}}
    ]},
    {"aws_iam_role_policy": {"read": {"name": "read"}}, "random_id": {"suffix": {}}}
  ]
}
"#,
    );
    repo.write(
        "infra/modules/net/main.tf",
        read("infra/modules/net/main.tf"),
    );
    repo.commit("Infrastructure");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("infra/app.tfplan.json", read("plan.json"));
    repo.commit("Plan");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report:#}");
    let mut want = vec![
        place("GOV-CLOUD-001", "infra/modules/net/main.tf", Some(5)),
        place("GOV-CLOUD-001", "infra/main.tf.json", Some(8)),
        place("GOV-CLOUD-003", "infra/main.tf.json", Some(12)),
        place("GOV-CLOUD-006", "infra/app.tfplan.json", None),
    ];
    want.sort();
    assert_eq!(places(&report), want, "{report:#}");
}
