//! Trust: policy comes from the base revision, waivers expire, and the
//! report names the policy the change was judged by.

use crate::repo::{deployment, findings, ids, Repo};

fn repo_with_policy(config: &str) -> Repo {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".govops.yaml", config);
    repo.commit("Policy");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo
}

#[test]
fn a_pull_request_cannot_relax_the_config_that_judges_it() {
    let repo = repo_with_policy("version: 1\ntags:\n  required: [owner, team]\n");
    repo.write(
        "deploy/dev/api.yaml",
        deployment("api", "dev").replace("replicas: 1", "replicas: 2"),
    );
    repo.write(".govops.yaml", "version: 1\ntags:\n  required: []\n");
    repo.commit("Scale, and drop the team label requirement");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-POLICY-001", "GOV-TAG-001"]);
    let p = &findings(&report, "GOV-POLICY-001")[0];
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("judged by the policy from the base revision"),
        "{p}"
    );
    assert_eq!(report["policy"]["source"], "base");
    assert!(report["policy"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    // The operator may choose the working tree explicitly.
    let (_, report) = repo.check_json(&["--policy-ref", "worktree"]);
    assert_eq!(ids(&report), vec!["GOV-POLICY-001"]);
}

#[test]
fn a_pull_request_cannot_delete_a_rule() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".govops.yaml", "version: 1\npolicy: [policy]\n");
    repo.write(
        "policy/no_latest.rego",
        "package govops.rules.team\nimport rego.v1\ndeny contains f if {\n  some m in input.manifests\n  some c in m.object.spec.template.spec.containers\n  endswith(c.image, \":latest\")\n  f := {\"id\": \"TEAM-IMG-001\", \"message\": \"image uses :latest\", \"file\": m.file, \"doc\": m.doc, \"pointer\": \"/spec/template/spec/containers\"}\n}\n",
    );
    repo.commit("Team rule");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.remove("policy/no_latest.rego");
    repo.write("policy/README.md", "rules moved\n");
    repo.write(
        "deploy/dev/api.yaml",
        deployment("api", "dev").replace(":1.0.0", ":latest"),
    );
    repo.commit("Use latest and drop the rule");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    // The head's policy names a rule dir with no rule left: invalid.
    assert_eq!(
        ids(&report),
        vec![
            "GOV-POLICY-001",
            "GOV-POLICY-001",
            "GOV-POLICY-002",
            "TEAM-IMG-001"
        ]
    );
    assert_eq!(findings(&report, "TEAM-IMG-001")[0]["line"], 15);
}

#[test]
fn waivers_work_until_their_last_day() {
    let repo = repo_with_policy(
        "version: 1
waivers:
  - rule: GOV-TAG-001
    path: 'legacy/**'
    reason: migrating the legacy stack
    owner: ops@example.com
    expires: 2026-11-20
",
    );
    repo.write("legacy/old.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: old\n  labels:\n    app.kubernetes.io/name: old\n    environment: dev\n    cost-center: cc-1\n");
    repo.commit("Legacy service without owner");
    let (code, report) = repo.check_json(&["--now", "2026-11-20T23:59:59Z"]);
    assert_eq!(code, 0, "{report:#}");
    let f = &findings(&report, "GOV-TAG-001")[0];
    assert_eq!(f["status"], "waived");
    assert_eq!(f["waiver"]["owner"], "ops@example.com");
    assert_eq!(f["waiver"]["reason"], "migrating the legacy stack");
    // The day after its expiry it waives nothing, and says so.
    let (code, report) = repo.check_json(&["--now", "2026-11-21T00:00:00Z"]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-TAG-001", "GOV-WAIVER-001"]);
    let w = &findings(&report, "GOV-WAIVER-001")[0];
    assert_eq!(w["file"], ".govops.yaml");
    assert_eq!(w["line"], 3);
    assert!(w["message"]
        .as_str()
        .unwrap()
        .contains("expired on 2026-11-20"));
}

#[test]
fn unused_waivers_are_reported() {
    let repo = repo_with_policy(
        "version: 1\nwaivers:\n  - {rule: GOV-AI-001, reason: x, owner: a@b.c, expires: 2030-01-01}\n    # scoped to what this change does not touch: not judged, so not unused\n  - {rule: GOV-TAG-001, path: \"legacy/**\", reason: x, owner: a@b.c, expires: 2030-01-01}\n  - {rule: GOV-AI-001, commit: 0123456789ab, reason: x, owner: a@b.c, expires: 2030-01-01}\n",
    );
    repo.write("a.txt", "a\n");
    repo.commit("Nothing to waive");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 0);
    assert_eq!(ids(&report), vec!["GOV-WAIVER-001"]);
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("waiver #1 for GOV-AI-001 matched no finding"));
    // Once the change touches what a scoped waiver names and nothing
    // matches, it is unused.
    repo.write("legacy/notes.txt", "x\n");
    repo.commit("Touch legacy");
    let (_, report) = repo.check_json(&[]);
    assert_eq!(ids(&report), vec!["GOV-WAIVER-001", "GOV-WAIVER-001"]);
    assert!(report
        .to_string()
        .contains("waiver #2 for GOV-TAG-001 matched no finding"));
}

#[test]
fn waiver_without_owner_is_a_config_error() {
    let repo = repo_with_policy(
        "version: 1\nwaivers:\n  - {rule: GOV-AI-001, reason: x, expires: 2030-01-01}\n",
    );
    repo.write("a.txt", "a\n");
    repo.commit("A change judged by that config");
    let run = repo.govops(&["check"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("owner"), "{}", run.stderr());
}

#[test]
fn review_trailers_approve_only_when_enabled() {
    let repo = Repo::gitops();
    repo.scale_prod("Scale prod\n\nReviewed-by: Grace Hopper <grace@example.com>\n");
    assert_eq!(
        repo.check_json(&[]).0,
        1,
        "in a pull request the author writes trailers"
    );
    repo.write("c.yaml", "version: 1\napprovals:\n  trailers: true\n");
    let (code, report) = repo.check_json(&["--config", "c.yaml"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["findings"][0]["approval"]["by"][0], "Grace Hopper");
    assert_eq!(report["policy"]["source"], "file");
}
