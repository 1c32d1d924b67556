//! The commit-msg mode: one pending commit, its message from a file.

use crate::repo::{ids, Repo};

fn check_message(repo: &Repo, message: &str) -> (i32, serde_json::Value) {
    let file = repo.path().join(".git/COMMIT_EDITMSG");
    std::fs::write(&file, message).unwrap();
    repo.check_json(&["--commit-msg-file", file.to_str().unwrap()])
}

#[test]
fn provenance_without_model_is_refused_and_with_model_accepted() {
    let repo = Repo::gitops();
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.git(&["add", "-A"]);
    let (code, report) = check_message(
        &repo,
        "Add f\n\nCo-authored-by: Copilot <copilot@github.com>\n",
    );
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-AI-001"]);
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("(pending)"));
    let (code, report) = check_message(
        &repo,
        "Add f\n\nCo-authored-by: Copilot <copilot@github.com>\nAI-Model: gpt-5\n# Please enter the commit message\n",
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["commits"], 1);
    assert_eq!(report["summary"]["files_changed"], 1);
}

#[test]
fn comments_and_scissors_are_not_the_message() {
    let repo = Repo::gitops();
    let (code, report) = check_message(
        &repo,
        "Human change\n\n# Co-authored-by: Cursor <cursoragent@cursor.com>\n# ------------------------ >8 ------------------------\nCo-authored-by: Cursor <cursoragent@cursor.com>\n",
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["ai_commits"], 0);
}

#[test]
fn staged_manifests_are_judged() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/new.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: new\n",
    );
    repo.git(&["add", "-A"]);
    // An unstaged edit is not what will be committed.
    repo.write("deploy/dev/new.yaml", "not: [valid\n");
    let (code, report) = repo.check_json(&["--staged"]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-TAG-001"; 4]);
    assert_eq!(report["findings"][0]["line"], 3);
}

#[test]
fn missing_message_file_is_exit_2() {
    let repo = Repo::gitops();
    let run = repo.govops(&["check", "--commit-msg-file", "nope.txt"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("nope.txt"), "{}", run.stderr());
}

/// The hook compiles the built-in rules before it has read the policy; a
/// team's rules, and a team's edit of nothing but their own file, must still
/// be judged by what the policy holds.
#[test]
fn a_team_rule_is_judged_although_the_builtin_rules_compile_ahead() {
    let repo = Repo::gitops();
    repo.write(".govops.yaml", "version: 1\npolicy: [team]\n");
    let rule = |id: &str| {
        format!(
            "package govops.rules.team\nimport rego.v1\n\ndeny contains f if {{\n\tsome c in input.commits\n\tcontains(c.subject, \"forbidden\")\n\tf := {{\"id\": \"{id}\", \"message\": \"no\"}}\n}}\n"
        )
    };
    repo.write("team/words.rego", rule("TEAM-WORD-001"));
    repo.git(&["add", "-A"]);
    repo.commit("Team rules");
    let (code, report) = check_message(&repo, "A forbidden word\n");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["TEAM-WORD-001"]);
    // The rule as it is in the work tree now, not as it was compiled before.
    repo.write("team/words.rego", rule("TEAM-WORD-002"));
    let (code, report) = check_message(&repo, "A forbidden word\n");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["TEAM-WORD-002"]);
    let (code, report) = check_message(&repo, "A fine word\n");
    assert_eq!(code, 0, "{report:#}");
}

/// The opt-in families are compiled only when enabled, and the rules a hook
/// compiled ahead (the defaults') must not stand in for a config that
/// enables one.
#[test]
fn an_enabled_opt_in_family_is_judged_in_the_hook() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/api.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  labels: {app.kubernetes.io/name: api, environment: dev, owner: a, cost-center: c}\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: api:1\n",
    );
    repo.git(&["add", "-A"]);
    let (code, report) = check_message(&repo, "Add the api\n");
    assert_eq!(code, 0, "disabled by default: {report:#}");
    repo.write(".govops.yaml", "version: 1\ntelemetry:\n  enabled: true\n");
    repo.git(&["add", "-A"]);
    let (code, report) = check_message(&repo, "Add the api\n");
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).iter().all(|id| id == "GOV-OTEL-001") && !ids(&report).is_empty(),
        "{report:#}"
    );
}

/// A hook compiles the families that judge manifests (tags, telemetry,
/// models) and plans (cloud) only when the change has some: each must find
/// nothing when its list is empty, whatever else the input holds. Here the
/// input has a finding of every one of them, and the rest of a real input
/// (commits, changes, config with every family enabled).
#[test]
fn the_families_a_hook_compiles_on_demand_find_nothing_without_their_list() {
    let repo = Repo::new();
    repo.write(
        ".govops.yaml",
        "version: 1
telemetry: {enabled: true}
models: {enabled: true, registries: ['s3://models']}
cloud:
  tag_names: {owner: Owner, environment: Environment, cost-center: CostCenter}
  max_deletes: 1
",
    );
    repo.commit("Config");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("deploy/api.yaml", crate::telemetry::DEPLOYMENT);
    repo.write("deploy/model.yaml", crate::models::ISVC);
    repo.write(
        "deploy/bare.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: bare\n",
    );
    repo.write(
        "infra/app.tfplan.json",
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/terraform/plan.json"),
        )
        .unwrap(),
    );
    repo.write(".github/workflows/ci.yml", "on: push\n");
    repo.commit("Deploy\n\nCo-authored-by: Copilot <copilot@github.com>\n");
    let run = repo.govops(&["check", "--dump-input", "--base", "main"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let input: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();

    let rules: Vec<_> = govops::policy::builtin_rules()
        .into_iter()
        .filter(|r| !r.is_test())
        .collect();
    let mut evaluator = govops::evaluate::Evaluator::new(&rules, 60_000).unwrap();
    let mut ids_of = |input: &serde_json::Value| -> Vec<String> {
        let mut ids: Vec<String> = evaluator
            .findings_of_json(input)
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let all = ids_of(&input);
    for (list, families) in [
        ("manifests", &["GOV-TAG-", "GOV-OTEL-", "GOV-MODEL-"][..]),
        ("plans", &["GOV-CLOUD-"][..]),
    ] {
        for family in families {
            assert!(
                all.iter().any(|id| id.starts_with(family)),
                "the input exercises {family}: {all:?}"
            );
        }
        let mut without = input.clone();
        without[list] = serde_json::json!([]);
        let found = ids_of(&without);
        assert!(
            found.iter().any(|id| id.starts_with("GOV-AI-")),
            "the rest is judged: {found:?}"
        );
        for family in families {
            assert!(
                !found.iter().any(|id| id.starts_with(family)),
                "{family} found something without {list}: {found:?}"
            );
        }
    }
}

/// A commit that stages a manifest among other files: the families that
/// judge manifests are compiled for it, and judge it.
#[test]
fn a_hook_with_a_staged_manifest_judges_it() {
    let repo = Repo::gitops();
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.write(
        "deploy/dev/new.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: new\n",
    );
    repo.git(&["add", "-A"]);
    let (code, report) = check_message(&repo, "Add a service\n");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-TAG-001"; 4]);
    // Without the manifest, nothing of theirs.
    repo.git(&["rm", "-q", "--cached", "deploy/dev/new.yaml"]);
    let (code, report) = check_message(&repo, "Add f\n");
    assert_eq!(code, 0, "{report:#}");
}
