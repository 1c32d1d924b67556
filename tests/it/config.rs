//! Config errors name the file, line and key, and exit 2.

use crate::repo::Repo;

fn config_error(config: &str) -> String {
    let repo = Repo::gitops();
    repo.write("my.yaml", config);
    let run = repo.govops(&["check", "--config", "my.yaml"]);
    assert_eq!(run.code(), 2, "stdout: {}", run.stdout());
    run.stderr()
}

#[test]
fn unknown_key() {
    let err = config_error("version: 1\nblast_radius:\n  max_file: 3\n");
    assert!(err.contains("my.yaml:3"), "{err}");
    assert!(err.contains("max_file"), "{err}");
}

#[test]
fn wrong_type() {
    let err = config_error("version: 1\nai:\n  require_declaration: maybe\n");
    assert!(err.contains("my.yaml:3"), "{err}");
}

#[test]
fn invalid_glob_and_unknown_rule_are_collected() {
    let err = config_error("version: 1\nmanifests:\n  include: ['deploy/[']\n");
    assert!(
        err.contains("my.yaml:3: manifests.include.0: invalid glob"),
        "{err}"
    );
    let err = config_error("version: 1\nseverity:\n  GOV-TAG-01: off\n");
    assert!(
        err.contains("my.yaml:3: severity.GOV-TAG-01: unknown rule"),
        "{err}"
    );
    assert!(err.contains("GOV-TAG-001"), "{err}");
}

#[test]
fn version_is_required() {
    let err = config_error("tags:\n  required: [owner]\n");
    assert!(err.contains("version: 1"), "{err}");
}

#[test]
fn severity_override_turns_a_rule_off_or_down() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/x.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n",
    );
    repo.commit("Unlabelled service");
    repo.write("c.yaml", "version: 1\nseverity:\n  GOV-TAG-001: warn\n");
    let (code, report) = repo.check_json(&["--config", "c.yaml"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["warn"], 4);
    repo.write("c.yaml", "version: 1\nseverity:\n  GOV-TAG-001: 'off'\n");
    let (code, report) = repo.check_json(&["--config", "c.yaml", "--fail-on", "warn"]);
    assert_eq!(code, 0);
    assert_eq!(report["findings"], serde_json::json!([]));
}

#[test]
fn user_rules_from_the_policy_flag() {
    let repo = Repo::gitops();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("rules.rego"),
        "package govops.rules.team\nimport rego.v1\nwarn contains f if {\n  some c in input.commits\n  contains(c.subject, \"WIP\")\n  f := {\"id\": \"TEAM-WIP-001\", \"message\": \"work in progress\", \"commit\": c.sha}\n}\n",
    )
    .unwrap();
    repo.write("a.txt", "a\n");
    repo.commit("WIP: half done");
    let dir = rules.path().to_str().unwrap();
    let (code, report) = repo.check_json(&["--policy", dir]);
    assert_eq!(code, 0);
    assert_eq!(report["findings"][0]["id"], "TEAM-WIP-001");
    assert_eq!(report["findings"][0]["severity"], "warn");
    let (code, _) = repo.check_json(&["--policy", dir, "--fail-on", "warn"]);
    assert_eq!(code, 1);
}

/// A finding set of another type could never report: conftest's older
/// `deny[msg] if` is an object in Rego v1. Every such shape stops the gate
/// (exit 2) at the rule's file and line instead of passing it, and so does
/// a finding set in a package that is never evaluated.
#[test]
fn a_finding_set_of_another_type_stops_the_gate() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/x.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n",
    );
    repo.commit("Unlabelled service");
    for (rule, set, kind) in [
        (
            "deny[msg] if {\n  some m in input.manifests\n  msg := m.name\n}\n",
            "deny",
            "an object",
        ),
        ("review := true\n", "review", "a boolean"),
        ("warn := \"no\"\n", "warn", "a string"),
        ("default deny := {}\n", "deny", "an object"),
    ] {
        repo.write(
            "team/t.rego",
            format!("package govops.rules.team\nimport rego.v1\n\n{rule}"),
        );
        let run = repo.govops(&["check", "--policy", "team"]);
        assert_eq!(run.code(), 2, "{rule}: {}", run.stdout());
        let err = run.stderr();
        assert!(
            err.contains(&format!(
                "the rule `{set}` of package govops.rules.team is {kind}"
            )),
            "{rule}: {err}"
        );
        if !rule.starts_with("default") {
            assert!(err.contains("team/t.rego:4"), "{rule}: {err}");
        }
    }
    // conftest's `package main`: outside govops.rules nothing is judged.
    repo.write(
        "team/t.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  some m in input.manifests\n  msg := m.name\n}\n",
    );
    for args in [&["check", "--policy", "team"][..], &["test", "team"]] {
        let run = repo.govops(args);
        assert_eq!(run.code(), 2, "{args:?}: {}", run.stdout());
        assert!(
            run.stderr()
                .contains("team/t.rego:4: package main defines `deny`, but only packages under govops.rules are judged"),
            "{args:?}: {}",
            run.stderr()
        );
    }
}

/// A finding set is judged wherever Rego puts it, however the file is
/// laid out: an indented head, a ref head (`team.deny`) in the root
/// package, a quoted package name. Each once passed the gate unevaluated.
#[test]
fn finding_sets_are_judged_wherever_rego_defines_them() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/x.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n",
    );
    repo.commit("A service");
    let rule = "contains {\"id\": \"TEAM-1\", \"message\": m.name} if {\n    some m in input.manifests\n  }\n";
    for (package, head, owner) in [
        ("govops.rules.team", "  deny", "govops.rules.team"),
        ("govops.rules", "team.deny", "govops.rules.team"),
        (
            "govops.rules[\"team-a\"]",
            "deny",
            "govops.rules[\"team-a\"]",
        ),
        ("govops.rules.team", "sub.deny", "govops.rules.team.sub"),
    ] {
        repo.write(
            "team/t.rego",
            format!("package {package}\nimport rego.v1\n\n{head} {rule}"),
        );
        let (code, report) = repo.check_json(&["--policy", "team", "--all-manifests"]);
        assert_eq!(code, 1, "{package} {head}: {report}");
        let ids: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["id"].as_str())
            .collect();
        assert!(ids.contains(&"TEAM-1"), "{package} {head}: {ids:?}");
        // A finding without an id is named after the document it is in.
        repo.write(
            "team/t.rego",
            format!("package {package}\nimport rego.v1\n\n{head} contains \"unnamed\" if true\n"),
        );
        let (_, report) = repo.check_json(&["--policy", "team"]);
        assert!(
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == owner),
            "{package} {head}: {report}"
        );
    }
}

/// The team's rule that every case below holds somewhere.
const TEAM_RULE: &str =
    "package govops.rules.team\nimport rego.v1\n\ndeny contains \"TEAM-1\" if true\n";

/// What a policy dir holds in one case: files, links (path, target) and
/// submodules, all relative to the repository.
#[derive(Default)]
struct PolicyDir {
    files: Vec<(&'static str, String)>,
    links: Vec<(&'static str, &'static str)>,
    submodules: Vec<&'static str>,
    /// On disk, the submodules are checked out (a folder with `.git`), not
    /// left empty as a checkout without submodules leaves them.
    checked_out: bool,
}

/// Judge a change with the policy dir `team` holding `dir`, read from disk
/// (`--policy team`) or from the base revision (a committed config naming
/// it `./team/`): the exit code and what the run printed.
fn judged_with(dir: &PolicyDir, from_base: bool) -> (i32, String) {
    let repo = Repo::new();
    repo.write("README.md", "# service\n");
    repo.write("team/ok.rego", "package govops.rules.ok\nimport rego.v1\n");
    for (path, text) in &dir.files {
        repo.write(path, text);
    }
    for (path, target) in &dir.links {
        std::os::unix::fs::symlink(target, repo.path().join(path)).unwrap();
    }
    for path in &dir.submodules {
        if from_base || !dir.checked_out {
            // A gitlink, as `git submodule add` leaves it in the tree.
            // (An empty folder, as an unpopulated submodule leaves it, so
            // that `git add -A` keeps the gitlink.)
            std::fs::create_dir_all(repo.path().join(path)).unwrap();
            let head = repo.commit("Before the submodule");
            repo.git(&[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{head},{path}"),
            ]);
        } else {
            // A submodule's checkout: a folder with its own `.git`.
            repo.write(
                &format!("{path}/.git"),
                "gitdir: ../../.git/modules/shared\n",
            );
            repo.write(&format!("{path}/shared.rego"), TEAM_RULE);
        }
    }
    let run = if from_base {
        repo.write(".govops.yaml", "version: 1\npolicy: [./team/]\n");
        repo.commit("Policy");
        repo.git(&["checkout", "-q", "-b", "feature"]);
        repo.write("notes.txt", "x\n");
        repo.commit("A change");
        repo.govops(&["check", "--base", "main"])
    } else {
        repo.commit("A service");
        repo.govops(&["check", "--policy", "team"])
    };
    (run.code(), format!("{}{}", run.stdout(), run.stderr()))
}

/// Every rule file a policy dir holds is judged, or the check stops naming
/// it: a linked folder of shared rules, a submodule, a rule or a helper kept
/// in a test file, `x.REGO`, a file named `.rego`. From the disk
/// (`--policy`) and from the base revision alike.
#[test]
fn no_rule_file_is_passed_over_silently() {
    let judged = |dir: PolicyDir| -> Vec<(String, bool)> {
        [false, true]
            .into_iter()
            .map(|from_base| {
                let (code, out) = judged_with(&dir, from_base);
                let ok = code == 1 && out.contains("TEAM-1");
                (format!("from_base={from_base}: exit {code}: {out}"), ok)
            })
            .collect()
    };
    let refused = |dir: PolicyDir, what: &str| {
        for from_base in [false, true] {
            let (code, out) = judged_with(&dir, from_base);
            assert_eq!(code, 2, "from_base={from_base}: {out}");
            assert!(out.contains(what), "from_base={from_base}: {out}");
        }
    };
    refused(
        PolicyDir {
            files: vec![("lib/shared.rego", TEAM_RULE.into())],
            links: vec![("team/shared", "../lib")],
            ..PolicyDir::default()
        },
        "team/shared",
    );
    refused(
        PolicyDir {
            files: vec![("notes.md", "# notes\n".into())],
            links: vec![("team/link.rego", "../notes.md")],
            ..PolicyDir::default()
        },
        "symbolic link",
    );
    for checked_out in [false, true] {
        refused(
            PolicyDir {
                submodules: vec!["team/shared"],
                checked_out,
                ..PolicyDir::default()
            },
            "submodule",
        );
    }
    // A link named like a document, and one that resolves through a link.
    refused(
        PolicyDir {
            files: vec![("lib/shared.rego", TEAM_RULE.into())],
            links: vec![("team/shared.md", "../lib")],
            ..PolicyDir::default()
        },
        "team/shared.md",
    );
    refused(
        PolicyDir {
            files: vec![
                ("NOTICE", "notice\n".into()),
                ("vendor/a/NOTICE/shared.rego", TEAM_RULE.into()),
            ],
            links: vec![("lib", "vendor/a/b"), ("team/shared", "../lib/../NOTICE")],
            ..PolicyDir::default()
        },
        "team/shared",
    );
    // A package named like a set holds a set named otherwise.
    refused(
        PolicyDir {
            files: vec![(
                "team/b.rego",
                "package govops.rules.deny\nimport rego.v1\nimages contains {\"id\": \"TEAM-B\", \"message\": \"m\"} if true\n".into(),
            )],
            ..PolicyDir::default()
        },
        "named `deny` like a finding set",
    );
    for (case, dir) in [
        (
            "a rule in a test file",
            PolicyDir {
                files: vec![("team/kept_test.rego", format!("{TEAM_RULE}\ntest_it if true\n"))],
                ..PolicyDir::default()
            },
        ),
        (
            "a helper in a test file",
            PolicyDir {
                files: vec![
                    ("team/lib_test.rego", "package govops.lib\nimport rego.v1\nfindings contains \"TEAM-1\" if true\ntest_it if true\n".into()),
                    ("team/team.rego", "package govops.rules.team\nimport rego.v1\nimport data.govops.lib\ndeny contains f if { some f in lib.findings }\n".into()),
                ],
                ..PolicyDir::default()
            },
        ),
        (
            "a test in the rules' package that fails when run, and settings named after sets",
            PolicyDir {
                files: vec![
                    ("team/team.rego", format!("{TEAM_RULE}review_paths := [\"infra/**\"]\ndeny_registries := {{\"docker.io\"}}\n")),
                    ("team/team_test.rego", "package govops.rules.team\nimport rego.v1\ntest_x if { crypto.x509.parse_certificates(\"\") }\n".into()),
                ],
                ..PolicyDir::default()
            },
        ),
        (
            "x.REGO",
            PolicyDir {
                files: vec![("team/upper.REGO", TEAM_RULE.into())],
                ..PolicyDir::default()
            },
        ),
        (
            "a file named .rego",
            PolicyDir {
                files: vec![("team/x/.rego", TEAM_RULE.into())],
                ..PolicyDir::default()
            },
        ),
        (
            "a rule beside a link to a file that is no rule",
            PolicyDir {
                files: vec![("team/team.rego", TEAM_RULE.into())],
                links: vec![("team/README.md", "../README.md"), ("team/LICENSE", "../README.md")],
                ..PolicyDir::default()
            },
        ),
    ] {
        for (run, ok) in judged(dir) {
            assert!(ok, "{case}: {run}");
        }
    }
}

#[test]
fn invalid_user_rego_is_exit_2_with_file_and_line() {
    let repo = Repo::gitops();
    repo.write(
        "team/bad.rego",
        "package govops.rules.team\nimport rego.v1\ndeny contains f if {\n  f := [\n}\n",
    );
    let run = repo.govops(&["check", "--policy", "team"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("team/bad.rego:4"), "{}", run.stderr());
}

#[test]
fn user_rule_runtime_error_is_exit_2() {
    let repo = Repo::gitops();
    repo.write(
        "team/boom.rego",
        "package govops.rules.team\nimport rego.v1\nlevel := 1 if true\nlevel := 2 if true\ndeny contains f if {\n  level > 0\n  f := {\"id\": \"T-1\", \"message\": \"x\"}\n}\n",
    );
    let run = repo.govops(&["check", "--policy", "team"]);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    assert!(run.stderr().contains("team/boom.rego"), "{}", run.stderr());
}

#[test]
fn built_in_rules_pass_their_rego_tests_with_coverage() {
    let repo = Repo::new();
    let run = repo.govops(&["test", "--coverage", "--threshold", "90"]);
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    assert!(
        run.stdout().contains(" passed, 0 failed"),
        "{}",
        run.stdout()
    );
}

#[test]
fn a_failing_rego_test_is_named_and_exits_1() {
    let repo = Repo::new();
    repo.write(
        "t/team_test.rego",
        "package team_test\nimport rego.v1\ntest_ok if { 1 == 1 }\ntest_broken if { 1 == 2 }\n",
    );
    let run = repo.govops(&["test", "t"]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stdout().contains("FAIL data.team_test.test_broken"),
        "{}",
        run.stdout()
    );
    // Tests are the rules Rego reads, however they are laid out: an
    // indented one, in a quoted package.
    repo.write(
        "t/team_test.rego",
        "package team_test[\"a-b\"]\nimport rego.v1\n  test_indented if { 1 == 2 }\ntest_twice if { 1 == 1 }\ntest_twice if { 2 == 2 }\n",
    );
    let run = repo.govops(&["test", "t"]);
    assert_eq!(run.code(), 1, "{}", run.stdout());
    assert!(
        run.stdout()
            .contains("FAIL data.team_test[\"a-b\"].test_indented"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout().contains(" passed, 1 failed"),
        "{}",
        run.stdout()
    );
}

#[test]
fn a_rego_test_with_a_syntax_error_is_exit_2_with_file_and_line() {
    let repo = Repo::new();
    repo.write(
        "t/team_test.rego",
        "package team_test\nimport rego.v1\ntest_ok if {\n  x := [\n}\n",
    );
    let run = repo.govops(&["test", "t"]);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    assert!(
        run.stderr().contains("t/team_test.rego:4"),
        "{}",
        run.stderr()
    );
}

#[test]
fn coverage_threshold_judges_the_given_dirs_and_counts_untested_files() {
    let repo = Repo::new();
    repo.write(
        "t/team.rego",
        "package team\nimport rego.v1\nx := 1 if true\ny := 2 if true\n",
    );
    repo.write(
        "t/untested.rego",
        "package other\nimport rego.v1\nz := 3 if true\n",
    );
    repo.write(
        "t/team_test.rego",
        "package team_test\nimport rego.v1\ntest_x if { data.team.x == 1 }\n",
    );
    let run = repo.govops(&["test", "t", "--coverage", "--threshold", "40"]);
    assert_eq!(run.code(), 1, "{}", run.stdout());
    let out = run.stdout();
    assert!(out.contains("t/untested.rego (no test reaches it"), "{out}");
    assert!(out.contains("under --threshold 40%"), "{out}");
    let run = repo.govops(&["test", "t", "--coverage", "--threshold", "30"]);
    assert_eq!(run.code(), 0, "{}", run.stdout());
}

/// Three mistakes of three kinds, one run: each with its line and key path.
#[test]
fn validate_shows_every_problem_at_once() {
    let repo = Repo::gitops();
    repo.write(
        ".govops.yaml",
        "version: 1\ntags:\n  required: owner\nseverity:\n  GOV-TAG-001: loud\nblast_radius:\n  max_file: 3\n",
    );
    let run = repo.govops(&["config", "validate"]);
    assert_eq!(run.code(), 1, "{}", run.stdout());
    let err = run.stderr();
    for expected in [
        "(3 problems)",
        ".govops.yaml:3: tags.required: expected a list, found a string",
        ".govops.yaml:5: severity.GOV-TAG-001: loud is not one of: deny, review, warn, off",
        ".govops.yaml:7: blast_radius.max_file: unknown key `max_file`",
    ] {
        assert!(err.contains(expected), "{expected:?} in:\n{err}");
    }
    // The gate says the same, and stops (exit 2).
    let gate = repo.govops(&["check", "--config", ".govops.yaml"]);
    assert_eq!(gate.code(), 2);
    assert!(gate.stderr().contains("(3 problems)"), "{}", gate.stderr());
}

#[test]
fn validate_compiles_the_rule_dirs_it_names() {
    let repo = Repo::gitops();
    repo.write(
        "my.yaml",
        "version: 1\npolicy: [team]\nseverity: {TEAM-9: warn}\n",
    );
    repo.write(
        "team/a.rego",
        "package govops.rules.team\nimport rego.v1\ndeny contains f if {\n",
    );
    let run = repo.govops(&["config", "validate", "my.yaml"]);
    assert_eq!(run.code(), 1);
    let err = run.stderr();
    assert!(err.contains("unknown rule \"TEAM-9\""), "{err}");
    assert!(err.contains("team/a.rego"), "{err}");
    repo.write(
        "team/a.rego",
        "package govops.rules.team\nimport rego.v1\nwarn contains f if {\n  false\n  f := {\"id\": \"TEAM-9\", \"message\": \"x\"}\n}\n",
    );
    let run = repo.govops(&["config", "validate", "my.yaml"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run
        .stdout()
        .contains("my.yaml: valid (1 rule dir, 1 rule file)"));
}

#[test]
fn the_schema_requires_version_as_the_loader_does() {
    let run = Repo::new().govops(&["schema", "config"]);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(schema["required"], serde_json::json!(["version"]));
    assert_eq!(schema["properties"]["version"]["const"], 1);
}

/// A pull request that breaks the config is judged by the base's config,
/// and its breakage is a finding there, before the merge breaks the gate.
#[test]
fn a_range_that_breaks_the_policy_is_a_finding() {
    let repo = Repo::gitops();
    repo.write(".govops.yaml", "version: 1\ntags:\n  required: owner\n");
    repo.commit("Require owners");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "{report:#}");
    let found = crate::repo::findings(&report, "GOV-POLICY-002");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["line"], 3);
    assert_eq!(found[0]["file"], ".govops.yaml");
    assert!(found[0]["message"]
        .as_str()
        .unwrap()
        .contains("tags.required: expected a list, found a string"));
    // Fixed on the branch: only the review of the edit remains.
    repo.write(".govops.yaml", "version: 1\ntags:\n  required: [owner]\n");
    repo.commit("Fix the list");
    let (_, report) = repo.check_json(&[]);
    assert!(
        crate::repo::findings(&report, "GOV-POLICY-002").is_empty(),
        "{report:#}"
    );
    assert!(!crate::repo::findings(&report, "GOV-POLICY-001").is_empty());
}
