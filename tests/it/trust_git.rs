//! The git layer against a pull request that writes its own objects: odd
//! tree modes, gitlinks, names that are not UTF-8, trees deeper than git
//! reads, huge blobs; and repositories CI hands over half-made (no commit
//! yet, a blobless partial clone). Each is judged or refused by name, never
//! skipped in silence, within a time and a memory bound.

use crate::repo::{findings, git_command, ids, Repo, Run};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Bounds for one hostile run (a debug build): seconds, MiB of peak memory.
const SECONDS: u64 = 10;
const MIB: u64 = 128;

/// A Deployment with none of the required labels: GOV-TAG-001 when judged.
const UNLABELLED: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: rogue\n  namespace: prod\nspec:\n  replicas: 1\n";

fn blob(repo: &Repo, content: &[u8]) -> String {
    let file = repo.path().join(".git/RAW_BLOB");
    std::fs::write(&file, content).unwrap();
    repo.git(&["hash-object", "-w", file.to_str().unwrap()])
}

/// Write a tree object exactly as given (mode text, name bytes, id), in
/// git's order by the caller: `git mktree` would refuse the odd modes.
fn raw_tree(repo: &Repo, entries: &[(&str, &[u8], &str)]) -> String {
    let mut data = Vec::new();
    for (mode, name, id) in entries {
        data.extend_from_slice(mode.as_bytes());
        data.push(b' ');
        data.extend_from_slice(name);
        data.push(0);
        let hex = id.as_bytes();
        for pair in hex.chunks(2) {
            data.push(u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap());
        }
    }
    let file = repo.path().join(".git/RAW_TREE");
    std::fs::write(&file, data).unwrap();
    repo.git(&[
        "hash-object",
        "-t",
        "tree",
        "--literally",
        "-w",
        file.to_str().unwrap(),
    ])
}

/// Commit a tree on top of HEAD (the branch moves; the work tree does not).
fn commit_tree(repo: &Repo, tree: &str, message: &str) -> String {
    let commit = repo.git(&["commit-tree", tree, "-p", "HEAD", "-m", message]);
    repo.git(&["update-ref", "HEAD", &commit]);
    commit
}

/// The feature branch's root tree with `deploy/prod` replaced.
fn with_prod(repo: &Repo, prod_mode: &str, prod: &str) -> String {
    let dev = repo.git(&["rev-parse", "HEAD:deploy/dev"]);
    let readme = repo.git(&["rev-parse", "HEAD:README.md"]);
    let deploy = raw_tree(repo, &[("40000", b"dev", &dev), (prod_mode, b"prod", prod)]);
    raw_tree(
        repo,
        &[
            ("100644", b"README.md", &readme),
            ("40000", b"deploy", &deploy),
        ],
    )
}

/// `govops check --format json` measured from outside the test process: a
/// child's peak RSS (wait4) starts at its parent's high-water mark, which
/// in a long test run says more about the tests than about govops. GNU time
/// forks govops from its own small process.
fn check_measured(repo: &Repo, args: &[&str]) -> (Run, serde_json::Value) {
    let mut all = vec!["check", "--format", "json", "--now", "2026-11-21T12:00:00Z"];
    all.extend_from_slice(args);
    let run = measured(repo, &all);
    let report = serde_json::from_slice(&run.output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stderr()));
    (run, report)
}

/// Any govops run, measured as `check_measured` does.
fn measured(repo: &Repo, all: &[&str]) -> Run {
    if !Path::new("/usr/bin/time").exists() {
        return repo.govops(all);
    }
    let mut cmd = scrubbed("/usr/bin/time", repo.dir.path());
    cmd.args(["-f", "GOVOPS_PEAK_KIB=%M", env!("CARGO_BIN_EXE_govops")])
        .args(all)
        .stdin(std::process::Stdio::null());
    let started = std::time::Instant::now();
    let mut output = cmd.output().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let (rest, peak) = stderr
        .trim_end()
        .rsplit_once("GOVOPS_PEAK_KIB=")
        .expect("GNU time's report");
    let peak_kib = peak.trim().parse().unwrap();
    output.stderr = rest.as_bytes().to_vec();
    Run {
        output,
        elapsed,
        peak_kib,
    }
}

fn dump_input(repo: &Repo, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--dump-input", "--now", "2026-11-21T12:00:00Z"];
    all.extend_from_slice(args);
    let run = repo.govops(&all);
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", run.stdout(), run.stderr()))
}

fn tag_files(report: &serde_json::Value) -> Vec<String> {
    let mut files: Vec<String> = findings(report, "GOV-TAG-001")
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn files_with_odd_modes_and_folders_with_odd_modes_are_judged() {
    let repo = Repo::gitops();
    let api = repo.git(&["rev-parse", "HEAD:deploy/prod/api.yaml"]);
    let rogue = blob(&repo, UNLABELLED.as_bytes());
    let sub = raw_tree(&repo, &[("100600", b"x.yaml", &rogue)]);
    let prod = raw_tree(
        &repo,
        &[
            ("100644", b"api.yaml", &api),
            ("100600", b"new.yaml", &rogue),
            ("40755", b"sub", &sub),
        ],
    );
    let root = with_prod(&repo, "40755", &prod);
    commit_tree(&repo, &root, "Odd modes");
    let (run, report) = check_measured(&repo, &[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 1, "{report:#}");
    assert_eq!(
        tag_files(&report),
        vec!["deploy/prod/new.yaml", "deploy/prod/sub/x.yaml"],
        "{report:#}"
    );
}

#[test]
fn gitlinks_and_type_changes_are_changed_paths() {
    let repo = Repo::gitops();
    let head = repo.git(&["rev-parse", "HEAD"]);
    let api = repo.git(&["rev-parse", "HEAD:deploy/prod/api.yaml"]);
    let target = blob(&repo, b"../dev/api.yaml");
    // A submodule, an unknown type and mode 0 (both gitlinks to git), and
    // the manifest replaced by a link.
    let prod = raw_tree(
        &repo,
        &[
            ("120000", b"api.yaml", &target),
            ("170000", b"odd", &api),
            ("160000", b"vendor", &head),
            ("0", b"zero", &api),
        ],
    );
    let root = with_prod(&repo, "40000", &prod);
    commit_tree(&repo, &root, "Links");
    // git's own view of the same change, for reference.
    let git_view = repo.git(&["diff-tree", "-r", "--no-renames", "main", "HEAD"]);
    for (mode, path) in [
        ("160000", "deploy/prod/odd"),
        ("160000", "deploy/prod/vendor"),
        ("160000", "deploy/prod/zero"),
        ("120000", "deploy/prod/api.yaml"),
    ] {
        assert!(
            git_view
                .lines()
                .any(|l| l.contains(&format!(" {mode} ")) && l.ends_with(path)),
            "{git_view}"
        );
    }
    let input = dump_input(&repo, &[]);
    let files: Vec<(String, String, String)> = input["changes"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |p: &str, s: &str, k: &str| (p.to_string(), s.to_string(), k.to_string());
    assert_eq!(
        files,
        vec![
            expect("deploy/prod/api.yaml", "deleted", "file"),
            expect("deploy/prod/api.yaml", "added", "symlink"),
            expect("deploy/prod/odd", "added", "gitlink"),
            expect("deploy/prod/vendor", "added", "gitlink"),
            expect("deploy/prod/zero", "added", "gitlink"),
        ],
        "{:#}",
        input["changes"]
    );
}

#[test]
fn a_rename_with_an_odd_mode_is_read() {
    let repo = Repo::gitops();
    let edited = crate::repo::deployment("api", "prod").replace("replicas: 1", "replicas: 3");
    let moved = blob(&repo, edited.as_bytes());
    let prod = raw_tree(&repo, &[("100600", b"api-moved.yaml", &moved)]);
    let root = with_prod(&repo, "40000", &prod);
    commit_tree(&repo, &root, "Move and scale");
    let input = dump_input(&repo, &[]);
    let file = &input["changes"]["files"][0];
    assert_eq!(file["status"], "renamed", "{input:#}");
    assert_eq!(file["old_path"], "deploy/prod/api.yaml");
    assert_eq!(file["path"], "deploy/prod/api-moved.yaml");
    assert_eq!(
        (file["additions"].as_u64(), file["deletions"].as_u64()),
        (Some(1), Some(1))
    );
}

fn write_bytes(repo: &Repo, path: &[u8], content: &str) {
    let full = repo.path().join(std::ffi::OsStr::from_bytes(path));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

#[test]
fn names_that_are_not_utf8_or_hold_a_newline_are_judged_and_shown_escaped() {
    let repo = Repo::gitops();
    write_bytes(&repo, b"deploy/prod/caf\xff.yaml", UNLABELLED);
    write_bytes(&repo, b"deploy/prod/new\nline.yaml", UNLABELLED);
    repo.commit("Hostile names");
    let expected = vec![
        r"deploy/prod/caf\xff.yaml".to_string(),
        r"deploy/prod/new\x0aline.yaml".to_string(),
    ];
    let (run, report) = check_measured(&repo, &[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 1, "{report:#}");
    assert_eq!(tag_files(&report), expected, "{report:#}");
    // Every file is judged: nothing cannot be read.
    assert!(
        !ids(&report).contains(&"GOV-INPUT-001".to_string()),
        "{report:#}"
    );
    let human = repo.govops(&["check", "--now", "2026-11-21T12:00:00Z"]);
    let text = human.stdout();
    assert!(text.contains(r"deploy/prod/caf\xff.yaml"), "{text}");
    assert!(text.contains(r"deploy/prod/new\x0aline.yaml"), "{text}");
    // The staged change reads the same names from the index.
    write_bytes(
        &repo,
        b"deploy/prod/caf\xff.yaml",
        &UNLABELLED.replace("rogue", "rogue2"),
    );
    repo.git(&["add", "-A"]);
    let (_, staged) = repo.check_json(&["--staged"]);
    assert_eq!(tag_files(&staged), expected[..1].to_vec(), "{staged:#}");
}

/// A tree `depth` folders deep, written straight into the object store.
fn deep_tree(repo: &Repo, depth: usize) -> git2::Oid {
    let git = git2::Repository::open(repo.path()).unwrap();
    let odb = git.odb().unwrap();
    let leaf = odb
        .write(git2::ObjectType::Blob, UNLABELLED.as_bytes())
        .unwrap();
    let entry = |mode: &str, name: &str, id: git2::Oid| {
        let mut data = format!("{mode} {name}\0").into_bytes();
        data.extend_from_slice(id.as_bytes());
        data
    };
    let mut id = odb
        .write(git2::ObjectType::Tree, &entry("100644", "x.yaml", leaf))
        .unwrap();
    for _ in 0..depth {
        id = odb
            .write(git2::ObjectType::Tree, &entry("40000", "d", id))
            .unwrap();
    }
    id
}

#[test]
fn a_tree_deeper_than_git_reads_is_refused_by_name() {
    let repo = Repo::gitops();
    let deep = deep_tree(&repo, 100_000).to_string();
    let api = repo.git(&["rev-parse", "HEAD:deploy/prod/api.yaml"]);
    let prod = raw_tree(
        &repo,
        &[("100644", b"api.yaml", &api), ("40000", b"deep", &deep)],
    );
    let root = with_prod(&repo, "40000", &prod);
    let commit = commit_tree(&repo, &root, "Deep");
    let run = measured(&repo, &["check", "--now", "2026-11-21T12:00:00Z"]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    let err = run.stderr();
    assert!(err.contains(&commit[..7]), "{err}");
    assert!(err.contains("deploy/prod/deep/d/d/d"), "{err}");
    assert!(err.contains("4096"), "{err}");
    // --all-manifests lists the head's tree: refused the same way.
    let run = repo.govops(&["check", "--all-manifests", "--base", "HEAD~1"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("4096"), "{}", run.stderr());
}

#[test]
fn huge_blobs_count_as_changed_without_being_read() {
    let repo = Repo::gitops();
    // 24 MiB of short lines, changed at its start, in three commits. Written
    // in pieces: a large test process would weigh on the memory other tests
    // measure of the govops processes it starts.
    let write_big = |first: &str| {
        use std::io::Write;
        let full = repo.path().join("assets/data.txt");
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let mut out = std::io::BufWriter::new(std::fs::File::create(full).unwrap());
        out.write_all(first.as_bytes()).unwrap();
        for _ in 0..(24 << 20 >> 5) {
            out.write_all(b"0123456789abcdef0123456789abcde\n").unwrap();
        }
    };
    write_big("");
    repo.commit("Add data");
    for i in 0..3 {
        write_big(&format!("change {i}\n"));
        repo.commit("Change data");
    }
    let (run, report) = check_measured(&repo, &[]);
    run.assert_bounded(SECONDS, MIB);
    assert_eq!(run.code(), 0, "{report:#}");
    let input = dump_input(&repo, &[]);
    let file = input["changes"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "assets/data.txt")
        .unwrap()
        .clone();
    assert_eq!(file["lines_counted"], false, "{file:#}");
    assert_eq!(file["status"], "added");
    for commit in input["commits"].as_array().unwrap() {
        assert_eq!(commit["files"][0]["lines_counted"], false, "{commit:#}");
    }
}

#[test]
fn an_unborn_head_points_at_staged() {
    let repo = Repo::new();
    repo.write("deploy/prod/api.yaml", UNLABELLED);
    let run = repo.govops(&["check"]);
    assert_eq!(run.code(), 2);
    let err = run.stderr();
    assert!(err.contains("no commit yet"), "{err}");
    assert!(err.contains("--staged"), "{err}");
    assert!(!err.contains("Fetch it"), "{err}");
}

/// Run git in `cwd`, which must succeed.
fn git(cwd: &Path, args: &[&str]) {
    let out = git_command(cwd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `program` in `dir` with git's scrubbed environment, for it and the git
/// it runs.
fn scrubbed(program: &str, dir: &Path) -> std::process::Command {
    let git = git_command(dir);
    let mut cmd = std::process::Command::new(program);
    cmd.current_dir(dir);
    for (k, v) in git.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

/// Run govops in another directory than a test repository's.
fn govops_in(dir: &Path, args: &[&str]) -> std::process::Output {
    scrubbed(env!("CARGO_BIN_EXE_govops"), dir)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_blobless_partial_clone_is_judged() {
    let origin = Repo::gitops();
    origin.scale_prod("Scale prod");
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("origin.git");
    let clone = dir.path().join("clone");
    git(
        origin.dir.path(),
        &["clone", "-q", "--bare", ".", bare.to_str().unwrap()],
    );
    git(&bare, &["config", "uploadpack.allowFilter", "true"]);
    let url = format!("file://{}", bare.display());
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            "--branch",
            "feature",
            &url,
            "clone",
        ],
    );
    let run = govops_in(
        &clone,
        &[
            "check",
            "--format",
            "json",
            "--now",
            "2026-11-21T12:00:00Z",
            "--base",
            "origin/main",
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    // The same verdict as in the full repository.
    let (_, full) = origin.check_json(&["--base", "main"]);
    assert_eq!(ids(&report), ids(&full), "{report:#}");
}

/// Reader threads open handles of their own on the repository (with pack
/// readers of their own): wherever git keeps the objects (loose, packed,
/// behind `objects/info/alternates`, in a linked worktree's common dir), a
/// range long enough to be read on every core is judged as the repository
/// itself judges it.
#[test]
fn every_reader_thread_finds_the_objects_wherever_git_keeps_them() {
    let origin = Repo::gitops();
    // Past the fan-out thresholds: 80 commits, 70 manifests.
    for i in 0..80 {
        let name = format!("svc{:02}", i % 70);
        let labelled = crate::repo::deployment(&name, "prod");
        let content = if i % 3 == 0 {
            UNLABELLED.replace("rogue", &name)
        } else {
            labelled.replace("replicas: 1", &format!("replicas: {}", i + 2))
        };
        origin.write(&format!("deploy/prod/{name}.yaml"), content);
        let message = if i % 4 == 0 {
            format!("Scale {name}\n\nCo-authored-by: Claude <noreply@anthropic.com>\n")
        } else {
            format!("Scale {name}")
        };
        origin.commit(&message);
    }
    let check = |dir: &Path, base: &str| -> serde_json::Value {
        let run = govops_in(
            dir,
            &[
                "check",
                "--format",
                "json",
                "--now",
                "2026-11-21T12:00:00Z",
                "--all-manifests",
                "--base",
                base,
            ],
        );
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{}: {stderr}", dir.display());
        serde_json::from_slice(&run.stdout).unwrap()
    };
    // What the findings say, without where the repository is.
    let verdict = |report: &serde_json::Value| -> Vec<String> {
        let mut out: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {} {} {}", f["id"], f["file"], f["line"], f["commit"]))
            .collect();
        out.sort();
        out
    };
    let loose = check(origin.dir.path(), "main");
    let expected = verdict(&loose);
    assert!(
        ids(&loose).contains(&"GOV-TAG-001".to_string()),
        "{loose:#}"
    );
    assert!(expected.len() > 20, "{expected:#?}");

    let dir = tempfile::tempdir().unwrap();
    let origin_path = origin.dir.path().to_str().unwrap();
    // Packed: a clone copies the objects into one pack.
    git(
        dir.path(),
        &["clone", "-q", "--no-local", origin_path, "packed"],
    );
    // Behind alternates: a shared clone holds no objects of its own.
    git(
        dir.path(),
        &["clone", "-q", "--shared", origin_path, "shared"],
    );
    // A linked worktree: its git dir has no objects folder.
    let worktree = dir.path().join("worktree");
    git(
        origin.dir.path(),
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            worktree.to_str().unwrap(),
            "feature",
        ],
    );
    for (clone, base) in [
        (dir.path().join("packed"), "origin/main"),
        (dir.path().join("shared"), "origin/main"),
        (worktree, "main"),
    ] {
        let report = check(&clone, base);
        assert_eq!(verdict(&report), expected, "{}", clone.display());
    }
}

/// A repository of many packs under a low limit of open files (macOS's is
/// 256; 40 here): reader threads with readers of their own would hold every pack
/// open once each, and libgit2 reports what it cannot open as missing.
#[test]
fn many_packs_under_a_low_file_limit_are_judged() {
    let repo = Repo::gitops();
    repo.git(&["config", "gc.auto", "0"]);
    for i in 0..70 {
        let name = format!("svc{i:02}");
        repo.write(
            &format!("deploy/prod/{name}.yaml"),
            UNLABELLED.replace("rogue", &name),
        );
        repo.commit(&format!("Add {name}"));
        if i % 3 == 0 {
            repo.git(&["repack", "-q", "-d"]);
        }
    }
    let packs = std::fs::read_dir(repo.path().join(".git/objects/pack"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("pack".as_ref()))
        .count();
    assert!(packs > 20, "{packs} packs");
    let (_, expected) = repo.check_json(&["--base", "main", "--all-manifests"]);
    let script = format!(
        "ulimit -n 40 && exec {} check --format json --now 2026-11-21T12:00:00Z --base main --all-manifests",
        env!("CARGO_BIN_EXE_govops")
    );
    let out = scrubbed("sh", &repo.path())
        .args(["-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Four required labels missing from each of the 70.
    assert_eq!(findings(&report, "GOV-TAG-001").len(), 280, "{stderr}");
    assert_eq!(ids(&report), ids(&expected));
}
