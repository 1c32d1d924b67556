//! Ways around the gate found by attacking it as a pull request author
//! would, each closed: a hand-made tree entry whose name holds a `/`, a
//! manifest committed as a Git LFS pointer, a new branch pushed with its
//! changes before its last commit, and many large files in one change.

use crate::repo::{findings, ids, Repo};

/// A cluster-admin binding, the content an attacker wants applied.
const BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: pwn, labels: {environment: prod}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: prod}]\n";

/// A tree object written byte by byte, as git would refuse to write it.
fn raw_tree(repo: &Repo, entries: &[(&str, &str, &str)]) -> String {
    let mut bytes = Vec::new();
    for (mode, name, id) in entries {
        bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        bytes.extend((0..20).map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap()));
    }
    let path = repo.path().join(".git/raw-tree");
    std::fs::write(&path, bytes).unwrap();
    repo.git(&[
        "hash-object",
        "-t",
        "tree",
        "-w",
        "--literally",
        path.to_str().unwrap(),
    ])
}

#[test]
fn a_tree_entry_git_refuses_to_check_out_is_not_a_way_in() {
    for name in ["prod/pwn.yaml", "..", ".", ".git", ".GIT"] {
        let repo = Repo::gitops();
        let blob_path = repo.path().join(".git/blob");
        std::fs::write(&blob_path, BINDING).unwrap();
        let blob = repo.git(&["hash-object", "-w", blob_path.to_str().unwrap()]);
        let sub = raw_tree(&repo, &[("100644", name, &blob)]);
        let root = raw_tree(&repo, &[("40000", "deploy", &sub)]);
        let commit = repo.git(&["commit-tree", &root, "-p", "main", "-m", "add rbac"]);
        let run = repo.govops(&["check", "--base", "main", "--head", &commit]);
        assert_eq!(run.code(), 2, "{name}: {}{}", run.stdout(), run.stderr());
        assert!(
            run.stderr().contains("refuses to check out"),
            "{name}: {}",
            run.stderr()
        );
        run.assert_bounded(10, 128);
    }
}

#[test]
fn a_manifest_committed_as_an_lfs_pointer_is_not_judged_as_empty() {
    let repo = Repo::gitops();
    repo.write(
        ".gitattributes",
        "deploy/prod/*.yaml filter=lfs diff=lfs merge=lfs -text\n",
    );
    repo.write(
        "deploy/prod/pwn.yaml",
        "version https://git-lfs.github.com/spec/v1\noid sha256:284cc3f7c9ba839f3a11acf9c5591f117b74c76ab015dbee673764359e3b8ee8\nsize 358\n",
    );
    repo.commit("Add a binding (through LFS)");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(ids(&report), vec!["GOV-INPUT-001"], "{report:#}");
    let f = &findings(&report, "GOV-INPUT-001")[0];
    assert!(
        f["message"].as_str().unwrap().contains("Git LFS pointer"),
        "{f}"
    );
    assert_eq!(f["file"], "deploy/prod/pwn.yaml");
}

/// Many large files, each under the per-file limit, do not add up without
/// bound: past the run's budget each further file is a finding, not read.
#[test]
fn many_large_files_spend_one_budget() {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        ".govops.yaml",
        "version: 1\nlimits:\n  max_total_bytes: 300000\n",
    );
    repo.commit("A small budget");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    // Six ConfigMaps of about 100 KB each: three fit, the rest do not.
    let data: String = (0..4000)
        .map(|i| format!("  key{i}: value-{i:016}\n"))
        .collect();
    for n in 0..6 {
        repo.write(
            &format!("deploy/dev/config-{n}.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{n}\ndata:\n{data}"
            ),
        );
    }
    repo.commit("Six large ConfigMaps");
    let (run, report) = repo.check_json_run(&[]);
    run.assert_bounded(10, 128);
    assert_eq!(run.code(), 1, "{report:#}");
    let unread = findings(&report, "GOV-INPUT-001");
    assert!(
        (3..=4).contains(&unread.len()),
        "{} unread: {report:#}",
        unread.len()
    );
    assert!(unread[0]["message"]
        .as_str()
        .unwrap()
        .contains("limits.max_total_bytes"));
}
