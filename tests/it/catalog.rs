//! The rule catalog from the user's side: `rules list` / `rules show` for the
//! built-in rules and for a team's own rules documented beside them.

use crate::repo::Repo;

const WIP_RULE: &str = "package govops.rules.acme\nimport rego.v1\nwarn contains f if {\n  some c in input.commits\n  contains(c.subject, \"WIP\")\n  f := {\"id\": \"ACME-WIP-001\", \"message\": \"work in progress\", \"commit\": c.sha}\n}\n";

const WIP_DOC: &str = "---
id: ACME-WIP-001
family: acme
severity: warn
title: Work in progress reaches the main branch
---

## What it checks
A commit subject that says WIP.

## Why it matters
Half-done work is hard to review and to revert.

## Example
`WIP: half done`

## How to fix
Squash the WIP commits before the pull request.

## How to waive
A waiver on ACME-WIP-001 with the commit.
";

/// A repository whose committed config names `policy/`, holding one rule and
/// its document (and a README that is not a rule document).
fn team_repo() -> Repo {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".govops.yaml", "version: 1\npolicy: [policy]\n");
    repo.write("policy/wip.rego", WIP_RULE);
    repo.write("policy/ACME-WIP-001.md", WIP_DOC);
    repo.write("policy/README.md", "# Our rules\n\nAsk #platform.\n");
    repo.commit("Team rules");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo
}

#[test]
fn rules_list_and_show_the_built_in_catalog() {
    let repo = Repo::new();
    let run = repo.govops(&["rules", "list"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("ID "), "{}", run.stdout());
    assert_eq!(
        lines.len(),
        1 + builtin_rule_docs(),
        "a header and every built-in rule:
{}",
        run.stdout()
    );
    assert!(run.stdout().contains("GOV-TAG-001"));

    let run = repo.govops(&["rules", "show", "gov-blast-001"]);
    assert_eq!(run.code(), 0);
    for heading in [
        "What it checks",
        "Why it matters",
        "Example",
        "How to fix",
        "How to waive",
    ] {
        assert!(run.stdout().contains(&format!("## {heading}")), "{heading}");
    }

    let run = repo.govops(&["rules", "show", "GOV-TAG-01"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("did you mean GOV-TAG-001"),
        "{}",
        run.stderr()
    );
}

#[test]
fn user_rules_carry_the_same_documentation() {
    let repo = team_repo();
    let run = repo.govops(&["rules", "list", "--json"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let rows: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let wip = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "ACME-WIP-001")
        .expect("the user rule is listed");
    assert_eq!(wip["family"], "acme");
    assert_eq!(wip["severity"], "warn");
    assert_eq!(wip["source"], "policy/ACME-WIP-001.md");
    // The built-in rules and the team's one.
    assert_eq!(rows.as_array().unwrap().len(), builtin_rule_docs() + 1);

    let run = repo.govops(&["rules", "show", "acme-wip-001"]);
    assert_eq!(run.code(), 0);
    assert!(
        run.stdout()
            .contains("documented in policy/ACME-WIP-001.md"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("Squash the WIP commits"));

    // The document reaches the reports: SARIF describes the rule.
    repo.write("a.txt", "a\n");
    repo.commit("WIP: half done");
    let sarif = repo.path().join("out.sarif");
    let run = repo.govops(&["check", "--report", &format!("sarif:{}", sarif.display())]);
    crate::repo::validate_sarif(&sarif);
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = rules.iter().find(|r| r["id"] == "ACME-WIP-001").unwrap();
    assert_eq!(
        rule["shortDescription"]["text"],
        "Work in progress reaches the main branch"
    );
    assert_eq!(rule["defaultConfiguration"]["level"], "note");
}

#[test]
fn broken_or_duplicate_rule_documents_are_exit_2_naming_the_file() {
    let repo = team_repo();
    repo.write(
        "policy/ACME-WIP-001.md",
        WIP_DOC.replace("severity: warn", "severity: high"),
    );
    let run = repo.govops(&["rules", "list"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("policy/ACME-WIP-001.md"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("\"high\""), "{}", run.stderr());

    repo.write("policy/ACME-WIP-001.md", WIP_DOC);
    repo.write(
        "policy/tags.md",
        WIP_DOC.replace("ACME-WIP-001", "GOV-TAG-001"),
    );
    let run = repo.govops(&["rules", "list"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("policy/tags.md")
            && run.stderr().contains("GOV-TAG-001 is already documented"),
        "{}",
        run.stderr()
    );
}

/// The built-in rules, counted by their documents under `rules/`.
fn builtin_rule_docs() -> usize {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    walkdir::WalkDir::new(rules)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            name.starts_with("GOV-") && name.ends_with(".md")
        })
        .count()
}

/// Many team packages, each with a long name, on a small range: every
/// package's findings are read (the query that reads them once passed
/// regorus' 1,024-column line limit with seven packages and exited 2).
#[test]
fn many_long_team_packages_are_all_evaluated() {
    let mut files: Vec<(String, String)> = vec![(
        ".govops.yaml".into(),
        "version: 1\npolicy: [policy]\n".into(),
    )];
    let long = "x".repeat(120);
    for i in 0..25 {
        files.push((
            format!("policy/p{i}.rego"),
            format!(
                "package govops.rules.team{i}_{long}\nimport rego.v1\nwarn contains f if {{\n  count(input.commits) > 0\n  f := {{\"id\": \"TEAM-{i:03}\", \"message\": \"seen\"}}\n}}\n"
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let repo = Repo::with_main(&refs);
    repo.write("README.md", "x\n");
    repo.commit("a change");
    let (code, report) = repo.check_json(&["--fail-on", "never"]);
    assert_eq!(code, 0, "{report:#}");
    let ids: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .filter(|id| id.starts_with("TEAM-"))
        .collect();
    assert_eq!(ids.len(), 25, "{report:#}");
}
