//! Hostile input is a finding (or exit 2 for the gate's own config), never a
//! crash, a hang, or a pass; and each run stays within a time and a memory
//! bound (a debug build: generous on time, strict on memory).

use crate::repo::{findings, ids, Repo};

/// Bounds for one hostile run: seconds, MiB of peak resident memory.
const SECONDS: u64 = 10;
const MIB: u64 = 128;

fn input_error(path: &str, content: &[u8]) -> serde_json::Value {
    let repo = Repo::gitops();
    repo.write(path, content);
    repo.commit("Hostile file");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    let code = run.code();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"], "{report:#}");
    findings(&report, "GOV-INPUT-001")[0].clone()
}

#[test]
fn alias_bomb() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10u8 {
        let (p, t) = ((b'a' + i - 1) as char, (b'a' + i) as char);
        bomb.push_str(&format!(
            "{t}: &{t} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        ));
    }
    let f = input_error("deploy/bomb.yaml", bomb.as_bytes());
    assert!(f["message"].as_str().unwrap().contains("alias"), "{f}");
}

#[test]
fn binary_file_named_yaml() {
    let f = input_error("deploy/blob.yaml", b"\x7fELF\x02\x01\x01\x00\x00\x00binary");
    assert!(f["message"].as_str().unwrap().contains("binary"), "{f}");
}

#[test]
fn invalid_utf8() {
    let f = input_error(
        "deploy/latin1.yaml",
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: caf\xe9\n",
    );
    assert_eq!(f["line"], 4);
    assert!(f["message"].as_str().unwrap().contains("UTF-8"), "{f}");
}

#[test]
fn file_over_the_size_limit() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        ".govops.yaml",
        "version: 1\nlimits:\n  max_file_bytes: 1000\n",
    );
    repo.commit("Small limit");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write("deploy/big.yaml", format!("# {}\n", "x".repeat(2000)));
    repo.commit("Big file");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 1);
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"]);
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("max_file_bytes"));
}

#[test]
fn too_many_documents() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".govops.yaml", "version: 1\nlimits:\n  max_documents: 3\n");
    repo.commit("Few documents");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write(
        "deploy/many.yaml",
        "a: 1\n---\na: 2\n---\na: 3\n---\na: 4\n",
    );
    repo.commit("Many documents");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"]);
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("max_documents"));
}

#[test]
fn deep_nesting() {
    let deep = format!("{}1{}\n", "[".repeat(5000), "]".repeat(5000));
    input_error("deploy/deep.yaml", deep.as_bytes());
}

#[test]
fn duplicate_keys() {
    let f = input_error(
        "deploy/dup.yaml",
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {}\n  labels: {owner: x}\n",
    );
    assert_eq!(f["line"], 6);
}

#[test]
fn symlink_out_of_the_tree_is_not_followed() {
    let repo = Repo::gitops();
    std::os::unix::fs::symlink("/etc/passwd", repo.path().join("deploy/passwd.yaml")).unwrap();
    repo.commit("Link out");
    let (code, report) = repo.check_json(&["--all-manifests"]);
    // Not followed, listed, and (added in a manifest folder) a finding.
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-INPUT-002"], "{report:#}");
    assert_eq!(report["summary"]["skipped_symlinks"], 1);
}

#[test]
fn non_utf8_and_enormous_commit_messages() {
    let repo = Repo::gitops();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "-A"]);
    let msg = repo.path().join(".git/MSG");
    std::fs::write(
        &msg,
        b"Caf\xe9 au lait\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n",
    )
    .unwrap();
    repo.git(&[
        "commit",
        "-q",
        "--cleanup=verbatim",
        "-F",
        msg.to_str().unwrap(),
    ]);
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&report), vec!["GOV-AI-001"]);
    repo.write("b.txt", "b\n");
    repo.commit(&format!("Huge\n\n{}\n", "word ".repeat(300_000)));
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 1);
    assert!(
        ids(&report).contains(&"GOV-INPUT-001".to_string()),
        "{report:#}"
    );
}

#[test]
fn a_rule_past_the_evaluation_time_limit_is_exit_2_naming_its_file_and_line() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        ".govops.yaml",
        "version: 1\npolicy: [team]\nlimits:\n  eval_timeout_ms: 300\n",
    );
    repo.write(
        "team/slow.rego",
        "package govops.rules.team\nimport rego.v1\n\n# Ten billion pairs: never finishes.\ndeny contains f if {\n\tsome i in numbers.range(1, 100000)\n\tsome j in numbers.range(1, 100000)\n\ti * j < 0\n\tf := {\"id\": \"TEAM-SLOW-001\", \"message\": \"never\"}\n}\n",
    );
    repo.commit("A slow team rule");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write("a.txt", "a\n");
    repo.commit("Anything");
    let run = repo.govops(&["check"]);
    // Two budgets at most: the run, and finding which rule ran out of time.
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    let err = run.stderr();
    assert!(err.contains("team/slow.rego:5"), "{err}");
    assert!(err.contains("limits.eval_timeout_ms (300 ms)"), "{err}");
}
