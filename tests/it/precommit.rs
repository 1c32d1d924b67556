//! The pre-commit framework: the real `pre-commit` client installs govops from
//! this project's `.pre-commit-hooks.yaml` (`language: rust`, so `cargo
//! install`) and runs the commit-msg hook on two messages.
//!
//! `scripts/test` installs the client. The install is a real cargo build, so
//! the test keeps it cheap: one target directory shared by both runs, and the
//! release profile turned down to a debug-speed build through cargo's
//! `CARGO_PROFILE_RELEASE_*` variables, which pre-commit passes through.

use std::path::Path;
use std::process::{Command, Output};

use crate::repo::{git_command, Repo};

/// The project as a hook repository: its files (not its build output) in a
/// fresh git repository with one commit, as a user's `repo:` would clone it.
fn hook_repository(into: &Path) {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let skip = ["target", ".git", "fuzz"];
    for entry in walkdir::WalkDir::new(project)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| e.depth() > 1 || !skip.iter().any(|s| e.file_name() == *s))
    {
        let entry = entry.expect("walk the project");
        let to = into.join(entry.path().strip_prefix(project).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    let git = |args: &[&str]| {
        let out = git_command(into).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.name=Hook Maintainer",
        "-c",
        "user.email=hooks@example.com",
        "commit",
        "-q",
        "-m",
        "govops hooks",
    ]);
}

fn try_repo(user: &Repo, hooks: &Path, message: &str) -> Output {
    let msg = user.path().join(".git/COMMIT_EDITMSG");
    std::fs::write(&msg, message).unwrap();
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pre-commit");
    let mut cmd = Command::new("pre-commit");
    cmd.current_dir(user.path())
        .args(["try-repo"])
        .arg(hooks)
        .args(["govops-commit-msg", "--hook-stage", "commit-msg"])
        .arg("--commit-msg-filename")
        .arg(&msg)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "64")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env_remove("PRE_COMMIT")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("CI");
    match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run `pre-commit` ({e}): scripts/test installs it"),
    }
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn pre_commit_try_repo_fails_a_message_without_provenance_and_passes_one_with_it() {
    let hooks = tempfile::tempdir().unwrap();
    hook_repository(hooks.path());
    let user = Repo::gitops();

    let out = try_repo(
        &user,
        hooks.path(),
        "Add a\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
    );
    let text = said(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("govops (commit message provenance)"),
        "{text}"
    );
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("GOV-AI-001"), "{text}");
    assert!(text.contains("does not record its model"), "{text}");

    let out = try_repo(
        &user,
        hooks.path(),
        "Add a\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nAssisted-by: Claude:claude-opus-4\n",
    );
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Passed"), "{text}");
}
