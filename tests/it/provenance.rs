//! Provenance, round 2: what counts as AI work (merges judged by their own
//! change, the aider committer suffix, model names), the conventions of the
//! identity table, and a table a team extends in its config.

use crate::repo::Repo;
use serde_json::Value;

/// `govops check --dump-input` over `base..HEAD`: the input document.
fn input(repo: &Repo, base: &str) -> Value {
    let run = repo.govops(&[
        "check",
        "--dump-input",
        "--base",
        base,
        "--now",
        "2026-11-21T12:00:00Z",
    ]);
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", run.stdout(), run.stderr()))
}

fn commit<'a>(input: &'a Value, sha: &str) -> &'a Value {
    input["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sha"] == sha)
        .unwrap_or_else(|| panic!("commit {sha} not in {input}"))
}

fn lines(files: &Value) -> u64 {
    files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["additions"].as_u64().unwrap() + f["deletions"].as_u64().unwrap())
        .sum()
}

const CLAUDE: &str = "\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\n";

fn numbered(n: usize, tag: &str) -> String {
    (0..n).map(|i| format!("{tag} line {i}\n")).collect()
}

/// main moves on by 300 lines in many files while an AI-assisted branch
/// works; the branch then merges main in. The merge brings main's lines but
/// adds none of its own: zero lines, no file, no per-commit finding; the
/// range totals still hold everything.
#[test]
fn a_clean_merge_adds_nothing_of_its_own() {
    let repo = Repo::new();
    repo.write("app/a.txt", "a\n");
    repo.commit("base");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app/a.txt", "a\nfeature\n");
    repo.commit(&format!("feature work{CLAUDE}"));
    repo.git(&["checkout", "-q", "main"]);
    for i in 0..3 {
        repo.write(&format!("infra/prod/f{i}.txt"), numbered(100, "main"));
    }
    repo.commit("main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&[
        "merge",
        "-q",
        "--no-edit",
        "-m",
        &format!("Merge main{CLAUDE}"),
        "main",
    ]);
    let merge = repo.git(&["rev-parse", "HEAD"]);
    let input = input(&repo, &base);
    let m = commit(&input, &merge);
    assert_eq!(m["parents"].as_array().unwrap().len(), 2);
    assert!(m["ai"]["assisted"].as_bool().unwrap());
    assert_eq!(m["files"], serde_json::json!([]), "{}", m["files"]);
    assert!(input["changes"]["additions"].as_u64().unwrap() >= 300);
    repo.write(
        ".govops.yaml",
        "version: 1\nblast_radius:\n  ai_max_lines: 50\n  protected_paths: ['infra/prod/**']\n",
    );
    let (_, report) = repo.check_json(&["--base", &base, "--config", ".govops.yaml"]);
    let on_merge: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["commit"] == merge.as_str())
        .collect();
    assert!(on_merge.is_empty(), "{on_merge:?}");
}

/// A merge that resolves a conflict counts its resolution (what
/// `git show --remerge-diff` shows), and an evil merge counts the lines it
/// slips in beyond both parents; neither counts what the parents brought.
#[test]
fn a_conflict_resolution_and_an_evil_merge_count_their_own_lines() {
    let repo = Repo::new();
    repo.write("app/conf.txt", "one\ntwo\nthree\n");
    repo.commit("base");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app/conf.txt", "one\nTWO feature\nthree\n");
    repo.commit("feature edit");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("app/conf.txt", "one\nTWO main\nthree\n");
    repo.write("app/big.txt", numbered(200, "main"));
    repo.commit("main edit");
    repo.git(&["checkout", "-q", "feature"]);
    let out = crate::repo::git_command(&repo.path())
        .args(["merge", "-q", "main"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the merge conflicts");
    repo.write("app/conf.txt", "one\nTWO both\nthree\n");
    repo.write("app/evil.txt", "slipped in\n");
    repo.commit(&format!("Merge main{CLAUDE}"));
    let merge = repo.git(&["rev-parse", "HEAD"]);
    let input = input(&repo, &base);
    let m = commit(&input, &merge);
    let paths: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["app/conf.txt", "app/evil.txt"], "{}", m["files"]);
    // The resolution replaces the 7-line conflict block with one line; the
    // evil file adds one. main's 200 lines are not the merge's.
    let n = lines(&m["files"]);
    assert!((2..20).contains(&n), "{n}: {}", m["files"]);
    // git agrees on which files the merge itself changed.
    let git_files = repo.git(&["show", "--remerge-diff", "--format=", "--name-only", &merge]);
    let mut git_files: Vec<&str> = git_files.lines().collect();
    git_files.sort();
    assert_eq!(paths, git_files);
}
