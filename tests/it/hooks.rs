//! Native hooks: a real `git commit` is rejected, then accepted.

use crate::repo::{deployment, Repo};

#[test]
fn commit_msg_hook_rejects_then_accepts_a_real_commit() {
    let repo = Repo::gitops();
    let run = repo.govops(&["hook", "install"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let hook = repo.path().join(".git/hooks/commit-msg");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("--commit-msg-file"));
    repo.write("a.txt", "a\n");
    repo.git(&["add", "-A"]);
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_govops"));
    let commit = |msg: &str| {
        crate::repo::git_command(&repo.path())
            .args(["commit", "-q", "-m", msg])
            .env("GOVOPS", bin)
            .output()
            .unwrap()
    };
    let out = commit("Add a\n\nCo-authored-by: Cursor <cursoragent@cursor.com>");
    assert!(
        !out.status.success(),
        "a commit without its model is rejected"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("GOV-AI-001"), "{said}");
    let out = commit("Add a\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\nAI-Model: gpt-5");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A review finding (an AI-assisted change to a protected path) is shown
    // but does not block: it is approved on the pull request, not here.
    repo.write(".github/workflows/ci.yml", "on: push\n");
    repo.git(&["add", "-A"]);
    let out =
        commit("Touch CI\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\nAI-Model: gpt-5");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("GOV-BLAST-001"), "{said}");
    // An existing foreign hook is not overwritten without --force; uninstall removes only ours.
    std::fs::write(
        repo.path().join(".git/hooks/pre-push"),
        "#!/bin/sh\nexit 0\n",
    )
    .unwrap();
    std::fs::remove_file(&hook).unwrap();
    assert_eq!(repo.govops(&["hook", "install"]).code(), 2);
    assert_eq!(repo.govops(&["hook", "install", "--force"]).code(), 0);
    let run = repo.govops(&["hook", "install", "--uninstall"]);
    assert_eq!(run.code(), 0);
    assert!(!hook.exists());
}

/// `git commit -a` stages into a temporary index named by GIT_INDEX_FILE:
/// the hook must judge those files, not the (empty) staged set of
/// `.git/index`, or an unstaged edit that drops a required label would pass.
#[test]
fn commit_msg_hook_sees_what_commit_a_records() {
    let repo = Repo::gitops();
    assert_eq!(repo.govops(&["hook", "install"]).code(), 0);
    // An unstaged edit that drops a required label: a deny finding.
    repo.write(
        "deploy/prod/api.yaml",
        deployment("api", "prod").replace("    owner: team-a\n", ""),
    );
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_govops"));
    let out = crate::repo::git_command(&repo.path())
        .args([
            "commit",
            "-q",
            "-a",
            "-m",
            "Scale api\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\nAI-Model: gpt-5",
        ])
        .env("GOVOPS", bin)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("GOV-TAG-001"), "{said}");
}

#[test]
fn hooks_path_is_respected() {
    let repo = Repo::gitops();
    repo.git(&["config", "core.hooksPath", "githooks"]);
    assert_eq!(repo.govops(&["hook", "install"]).code(), 0);
    assert!(repo.path().join("githooks/commit-msg").exists());
    assert!(repo.path().join("githooks/pre-push").exists());
}

#[test]
fn init_schema_and_completions() {
    let repo = Repo::new();
    let run = repo.govops(&["init"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run.stdout().contains("govops hook install"));
    assert_eq!(
        repo.govops(&["init"]).code(),
        2,
        "never overwrites silently"
    );
    for kind in ["config", "input", "report"] {
        let run = repo.govops(&["schema", kind]);
        let schema: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
        assert!(schema["properties"].is_object(), "{kind}");
    }
    assert!(repo
        .govops(&["completions", "bash"])
        .stdout()
        .contains("govops"));
}
