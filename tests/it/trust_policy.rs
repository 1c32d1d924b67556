//! Trust: where the policy comes from when the range gives no base, what an
//! operator's `--config` brings with it, and the smaller ways a change could
//! choose its own judge (a linked config, a ground waiver prefix, a run that
//! never ends, approvals given on another commit).

use crate::repo::{deployment, ids, Repo};
use std::process::Command;

/// A config that switches off the rules that would judge the change.
const RELAXED: &str =
    "version: 1\nseverity:\n  GOV-POLICY-001: off\n  GOV-TAG-001: off\n  GOV-BLAST-003: off\n";

/// A production manifest without its required labels: GOV-TAG-001 under the
/// built-in policy.
fn unlabelled(name: &str) -> String {
    format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: prod\nspec:\n  ports: [{{port: 80}}]\n")
}

/// A GitHub push event that creates a branch (`before` all zeros).
fn new_branch_push(repo: &Repo, head: &str, default_branch: &str) -> Vec<(String, String)> {
    let event = repo.path().join(".git/event.json");
    std::fs::write(
        &event,
        serde_json::json!({
            "before": "0000000000000000000000000000000000000000",
            "after": head,
            "repository": {"default_branch": default_branch},
        })
        .to_string(),
    )
    .unwrap();
    vec![
        ("GITHUB_ACTIONS".into(), "true".into()),
        ("GITHUB_EVENT_NAME".into(), "push".into()),
        ("GITHUB_EVENT_PATH".into(), event.display().to_string()),
    ]
}

fn check_with(repo: &Repo, env: &[(String, String)]) -> (i32, serde_json::Value) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = repo.govops_env(
        &["check", "--format", "json", "--now", "2026-11-21T12:00:00Z"],
        &env,
    );
    let report = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", run.stdout(), run.stderr()));
    (run.code(), report)
}

#[test]
fn a_pushed_branch_cannot_bring_the_config_that_judges_it() {
    let repo = Repo::gitops();
    repo.write(".govops.yaml", RELAXED);
    repo.write("deploy/prod/db.yaml", unlabelled("db"));
    let head = repo.commit("Add a database, and a config that waves it through");
    let (code, report) = check_with(&repo, &new_branch_push(&repo, &head, "main"));
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).contains(&"GOV-TAG-001".to_string()),
        "{report:#}"
    );
    assert!(
        ids(&report).contains(&"GOV-POLICY-001".to_string()),
        "{report:#}"
    );
    // The branch's commits are those not on the default branch: judged
    // from there, with the default branch's policy.
    let main = repo.git(&["rev-parse", "main"]);
    assert_eq!(report["range"]["source"], "new-branch");
    assert_eq!(report["policy"]["source"], "base");
    assert_eq!(report["policy"]["ref"], main.as_str());
}

/// A push that creates a branch brings all its commits: a production change
/// in the first of two is judged too, not only the last commit.
#[test]
fn a_pushed_branch_is_judged_from_the_default_branch() {
    let repo = Repo::gitops();
    repo.write("deploy/prod/db.yaml", unlabelled("db"));
    repo.commit("Add a database");
    repo.write("README.md", "# service, documented\n");
    let head = repo.commit("Docs");
    let (code, report) = check_with(&repo, &new_branch_push(&repo, &head, "main"));
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).contains(&"GOV-TAG-001".to_string()),
        "{report:#}"
    );
    // Without the default branch here (a shallow checkout), the pushed
    // commit alone, with its first parent's policy.
    repo.git(&["branch", "-D", "main"]);
    let (_, report) = check_with(&repo, &new_branch_push(&repo, &head, "main"));
    assert_eq!(
        report["range"]["base"],
        serde_json::Value::Null,
        "{report:#}"
    );
    assert_eq!(report["policy"]["source"], "first-parent");
}

#[test]
fn without_a_default_branch_the_first_parent_judges() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "trunk"]);
    repo.write("deploy/dev/api.yaml", deployment("api", "dev"));
    let parent = repo.commit("Initial deployment");
    repo.write(".govops.yaml", RELAXED);
    repo.write("deploy/prod/db.yaml", unlabelled("db"));
    let head = repo.commit("Add a database, and a config that waves it through");
    // A head-only run, as GitHub's new-branch push and a plain local run give.
    let (code, report) = check_with(&repo, &new_branch_push(&repo, &head, "trunk"));
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).contains(&"GOV-TAG-001".to_string()),
        "{report:#}"
    );
    assert_eq!(report["policy"]["source"], "first-parent");
    assert_eq!(report["policy"]["ref"], parent.as_str());
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["policy"]["source"], "first-parent");
}

#[test]
fn a_root_commit_is_judged_by_the_builtin_policy() {
    let repo = Repo::new();
    repo.write(".govops.yaml", RELAXED);
    repo.write("deploy/prod/db.yaml", unlabelled("db"));
    let head = repo.commit("Everything at once");
    let (code, report) = check_with(&repo, &new_branch_push(&repo, &head, "main"));
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).contains(&"GOV-TAG-001".to_string()),
        "{report:#}"
    );
    assert_eq!(report["policy"]["source"], "builtin");
    assert!(report["notes"].to_string().contains("built-in policy only"));
    // An operator's rule dir judges too, and the report says so.
    repo.write(
        "team/t.rego",
        "package govops.rules.team\nimport rego.v1\n\ndeny contains \"TEAM-1\" if true\n",
    );
    let env = new_branch_push(&repo, &head, "main");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = repo.govops_env(&["check", "--format", "json", "--policy", "team"], &env);
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(run.code(), 1, "{report:#}");
    assert!(report.to_string().contains("TEAM-1"), "{report:#}");
    assert_ne!(report["policy"]["source"], "builtin", "{report:#}");
    assert!(
        report["notes"].to_string().contains(
            "judged by the built-in policy and what the command line passed (--config, --policy)"
        ),
        "{report:#}"
    );
    std::fs::remove_file(repo.path().join("team/t.rego")).unwrap();
    // Only the operator takes policy from the change.
    let run = repo.govops(&["check", "--format", "json", "--policy-ref", "worktree"]);
    assert_eq!(run.code(), 0, "{}", run.stdout());
}

#[test]
fn an_operators_config_reads_its_rule_dirs_from_disk() {
    let repo = Repo::gitops();
    let ops = tempfile::tempdir().unwrap();
    let config = ops.path().join("govops.yaml");
    std::fs::write(&config, "version: 1\npolicy: [team-rules]\n").unwrap();
    // The dir exists on disk only: not committed anywhere.
    repo.write(
        "team-rules/team.rego",
        "package govops.rules.team\nimport rego.v1\ndeny contains f if {\n  some c in input.commits\n  f := {\"id\": \"TEAM-001\", \"message\": \"every commit\", \"commit\": c.sha}\n}\n",
    );
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", "A change"]);
    let run = repo.govops(&[
        "--config",
        config.to_str().unwrap(),
        "check",
        "--format",
        "json",
    ]);
    assert_eq!(run.code(), 1, "{} {}", run.stdout(), run.stderr());
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(ids(&report), vec!["TEAM-001"]);
}

#[test]
fn a_linked_base_config_is_named_as_a_link() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write("ops/govops.yaml", "version: 1\n");
    std::os::unix::fs::symlink("ops/govops.yaml", repo.path().join(".govops.yaml")).unwrap();
    repo.commit("Config through a link");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write("a.txt", "a\n");
    repo.commit("A change");
    let run = repo.govops(&["check"]);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    assert!(run.stderr().contains("symbolic link"), "{}", run.stderr());
    assert!(!run.stderr().contains("mapping"), "{}", run.stderr());
}

#[test]
fn a_waiver_names_a_commit_by_at_least_twelve_hex_digits() {
    for (commit, code) in [("1a2b3c4", 2), ("1a2b3c4d5e6", 2), ("1a2b3c4d5e6f", 0)] {
        let repo = Repo::gitops();
        repo.git(&["checkout", "-q", "main"]);
        repo.write(
            ".govops.yaml",
            format!("version: 1\nwaivers:\n  - {{rule: GOV-AI-001, commit: {commit}, reason: x, owner: a@b.c, expires: 2030-01-01}}\n"),
        );
        repo.commit("Policy");
        repo.git(&["checkout", "-q", "-B", "feature"]);
        repo.write("a.txt", "a\n");
        repo.commit("A change");
        let run = repo.govops(&["check", "--now", "2026-11-21T12:00:00Z"]);
        assert_eq!(
            run.code(),
            code,
            "{commit}: {}{}",
            run.stdout(),
            run.stderr()
        );
        if code == 2 {
            assert!(
                run.stderr().contains("at least 12 hex digits"),
                "{}",
                run.stderr()
            );
            assert!(run.stderr().contains("waivers"), "{}", run.stderr());
        }
    }
}

#[test]
fn a_run_past_its_deadline_fails() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".govops.yaml", "version: 1\nlimits:\n  run_timeout_ms: 1\n");
    repo.commit("A very short deadline");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.scale_prod("Scale");
    let run = repo.govops(&["check"]);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    assert!(
        run.stderr().contains("limits.run_timeout_ms"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stdout().is_empty(),
        "no verdict past the deadline: {}",
        run.stdout()
    );
}

/// `scripts/pr-approvals`, as the Action runs it on `gh api --paginate`.
fn approvals(pages: &str, head: &str) -> (i32, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pr-approvals");
    let mut cmd = Command::new(script);
    cmd.arg(head);
    let out = crate::repo::run_with_stdin(cmd, pages.as_bytes());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn review(id: u64, user: &str, state: &str, commit: &str, day: u32) -> serde_json::Value {
    serde_json::json!({
        "id": id, "user": {"login": user}, "state": state, "commit_id": commit, "author_association": "MEMBER",
        "submitted_at": format!("2026-11-{day:02}T12:00:00Z"),
    })
}

#[test]
fn approvals_count_on_the_current_head_and_across_pages() {
    let page1 = serde_json::json!([
        review(1, "ana", "APPROVED", "head", 1),
        review(2, "bo", "APPROVED", "head", 1),
        review(3, "cy", "APPROVED", "old", 1),
        review(4, "di", "APPROVED", "head", 1),
    ]);
    // On the second page: bo asks for changes after approving (bo's latest
    // review decides, though it is on another page), ana only comments (an
    // approval stands), di's approval was dismissed.
    let page2 = serde_json::json!([
        review(5, "bo", "CHANGES_REQUESTED", "head", 2),
        review(6, "ana", "COMMENTED", "head", 3),
        review(7, "di", "DISMISSED", "head", 3),
    ]);
    let (code, out) = approvals(&format!("{page1}\n{page2}\n"), "head");
    assert_eq!(code, 0);
    assert_eq!(out, "ana\n");
    // No reviews at all: nobody approved, and that is no error.
    assert_eq!(approvals("[]\n", "head"), (0, String::new()));
    // An API error, or nothing at all, is an error: never "no approvals".
    for bad in ["{\"message\": \"Bad credentials\"}\n", "", "<html>"] {
        let (code, out) = approvals(bad, "head");
        assert_eq!(code, 1, "{bad:?}");
        assert!(out.is_empty());
    }
}

#[test]
fn the_action_passes_args_without_expanding_globs() {
    let action =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    let script = action
        .split("run: |\n")
        .last()
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix("        ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    // Run the gate step's script with a fake govops that prints its args,
    // in a folder where the glob would match files.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("deploy/a")).unwrap();
    std::fs::write(dir.path().join("deploy/a/x.yaml"), "").unwrap();
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    let fake = dir.path().join("bin/govops");
    std::fs::write(
        &fake,
        "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n",
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", dir.path().join("bin").display()),
        )
        .env("RUNNER_TEMP", dir.path())
        .env(
            "INPUT_ARGS",
            "--manifests deploy/**/*.yaml  --all-manifests",
        )
        .env("INPUT_SARIF", "govops.sarif")
        .env("INPUT_FAIL_ON", "review")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("[--manifests]\n[deploy/**/*.yaml]\n[--all-manifests]"),
        "{stdout}"
    );
}

/// Two environments in one pull request need a human, who can say yes.
#[test]
fn a_two_environment_change_is_approvable() {
    let repo = Repo::gitops();
    for env in ["dev", "prod"] {
        repo.write(
            &format!("deploy/{env}/api.yaml"),
            deployment("api", env).replace("owner: team-a", "owner: team-b"),
        );
    }
    repo.commit("Hand api to team b everywhere");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    // The production change is a review finding of its own (GOV-BLAST-003).
    assert_eq!(ids(&report), vec!["GOV-BLAST-003", "GOV-BLAST-004"]);
    let blast4 = &crate::repo::findings(&report, "GOV-BLAST-004")[0];
    assert_eq!(blast4["severity"], "review");
    let (code, report) = repo.check_json(&["--approved-by", "grace"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        crate::repo::findings(&report, "GOV-BLAST-004")[0]["status"],
        "approved"
    );
}

/// `git push origin topic` from a checkout of a clean main: pre-push names
/// the pushed commit and no base (a new branch); that commit is judged, not
/// HEAD.
#[test]
fn a_pre_push_of_a_new_branch_judges_the_pushed_commits() {
    let repo = Repo::gitops();
    repo.write("deploy/prod/db.yaml", unlabelled("db"));
    let pushed = repo.commit("Add a database");
    repo.git(&["checkout", "-q", "main"]);
    let env = [
        ("PRE_COMMIT_FROM_REF".to_string(), "0".repeat(40)),
        ("PRE_COMMIT_TO_REF".to_string(), pushed.clone()),
    ];
    let (code, report) = check_with(&repo, &env);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        ids(&report).contains(&"GOV-TAG-001".to_string()),
        "{report:#}"
    );
    assert_eq!(report["range"]["head"], pushed.as_str());
}

/// A `pull_request_review` approval counts only as GitHub's required reviews
/// count one: by an owner, member or collaborator, on the current head, not
/// by the author or a bot. On a public repository any account can approve.
#[test]
fn only_a_reviewer_with_write_access_approves_the_current_head() {
    let repo = Repo::gitops();
    let base = repo.git(&["rev-parse", "main"]);
    let head = repo.scale_prod("Scale prod");
    let event = repo.path().join(".git/event.json");
    let run_with = |login: &str, association: &str, commit: &str, kind: &str| {
        std::fs::write(
            &event,
            serde_json::json!({
                "review": {"state": "approved", "author_association": association, "commit_id": commit,
                           "user": {"login": login, "type": kind}},
                "pull_request": {"number": 7, "user": {"login": "mallory"}, "labels": [],
                                 "base": {"sha": base}, "head": {"sha": head, "ref": "feature"}},
            })
            .to_string(),
        )
        .unwrap();
        let env = [
            ("GITHUB_ACTIONS".to_string(), "true".to_string()),
            (
                "GITHUB_EVENT_NAME".to_string(),
                "pull_request_review".to_string(),
            ),
            ("GITHUB_EVENT_PATH".to_string(), event.display().to_string()),
        ];
        check_with(&repo, &env)
    };
    for (login, association, commit, kind, why) in [
        (
            "sockpuppet",
            "NONE",
            head.as_str(),
            "User",
            "not an owner, member or collaborator",
        ),
        (
            "contributor",
            "CONTRIBUTOR",
            head.as_str(),
            "User",
            "not an owner, member or collaborator",
        ),
        (
            "grace",
            "MEMBER",
            base.as_str(),
            "User",
            "not the pull request's head",
        ),
        (
            "mallory",
            "COLLABORATOR",
            head.as_str(),
            "User",
            "wrote the pull request",
        ),
        ("helper[bot]", "MEMBER", head.as_str(), "Bot", "is a bot"),
    ] {
        let (code, report) = run_with(login, association, commit, kind);
        assert_eq!(code, 1, "{login}: {report:#}");
        assert!(
            report["notes"].to_string().contains(why),
            "{login}: {}",
            report["notes"]
        );
    }
    let (code, report) = run_with("grace", "MEMBER", &head, "User");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn the_action_counts_approvals_from_reviewers_with_write_access_only() {
    let review = |id: u64, user: &str, association: &str| {
        serde_json::json!({"id": id, "user": {"login": user, "type": "User"}, "author_association": association,
                           "state": "APPROVED", "commit_id": "head", "submitted_at": "2026-11-01T00:00:00Z"})
    };
    let page = serde_json::json!([
        review(1, "sockpuppet", "NONE"),
        review(2, "ana", "MEMBER"),
        review(3, "drive-by", "CONTRIBUTOR"),
        review(4, "mallory", "COLLABORATOR"),
        {"id": 5, "user": {"login": "ci[bot]", "type": "Bot"}, "author_association": "MEMBER",
         "state": "APPROVED", "commit_id": "head", "submitted_at": "2026-11-01T00:00:00Z"},
    ]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pr-approvals");
    let mut cmd = Command::new(script);
    cmd.args(["head", "mallory"]);
    let out = crate::repo::run_with_stdin(cmd, page.to_string().as_bytes());
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ana\n");
}
