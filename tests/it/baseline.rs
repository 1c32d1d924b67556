//! `govops baseline`: adopting govops on a repository that already has
//! findings, and the limits of what a baseline may accept.

use crate::repo::{deployment, findings, Repo};

const BASELINE: &str = ".govops-baseline.json";

/// A Deployment without the `owner` and `cost-center` labels: two GOV-TAG-001.
fn unlabelled(name: &str) -> String {
    deployment(name, "dev")
        .replace("    owner: team-a\n", "")
        .replace("    cost-center: cc-100\n", "")
}

/// A repository on main with two unlabelled workloads (four findings), the
/// baseline written and committed, and a `feature` branch checked out.
fn adopted() -> Repo {
    let repo = Repo::new();
    repo.write(
        "deploy/dev/apps.yaml",
        format!("{}---\n{}", unlabelled("web"), unlabelled("api")),
    );
    repo.commit("Existing deployments");
    let run = repo.govops(&["baseline"]);
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    assert!(
        run.stdout().contains("4 finding(s) (4 added, 0 dropped)"),
        "{}",
        run.stdout()
    );
    repo.commit("Adopt govops: baseline today's findings");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo
}

fn statuses(report: &serde_json::Value, id: &str) -> Vec<String> {
    findings(report, id)
        .iter()
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn baselined_findings_are_shown_and_counted_but_pass() {
    let repo = adopted();
    let text = std::fs::read_to_string(repo.path().join(BASELINE)).unwrap();
    assert!(
        text.contains("\"schema\": \"govops.baseline/v1\""),
        "{text}"
    );
    assert!(
        text.contains("\"about\""),
        "a header says what it is: {text}"
    );
    // An unrelated edit moves every line of the baselined objects.
    let moved = format!(
        "# the dev apps\n# (moved down)\n{}---\n{}",
        unlabelled("web").replace("replicas: 1", "replicas: 3"),
        unlabelled("api")
    );
    repo.write("deploy/dev/apps.yaml", moved);
    repo.commit("Scale web");
    let sarif = repo.path().join("out.sarif");
    let junit = repo.path().join("out.xml");
    let md = repo.path().join("out.md");
    let (code, report) = repo.check_json(&[
        "--base",
        "main",
        "--report",
        &format!("sarif:{}", sarif.display()),
        "--report",
        &format!("junit:{}", junit.display()),
        "--report",
        &format!("markdown:{}", md.display()),
    ]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["summary"]["baselined"], 4, "{report}");
    assert_eq!(report["summary"]["deny"], 0, "{report}");
    assert_eq!(statuses(&report, "GOV-TAG-001"), vec!["baselined"; 4]);
    // Still pointing at today's lines.
    assert!(findings(&report, "GOV-TAG-001")
        .iter()
        .all(|f| f["line"].as_u64().unwrap() > 2));

    crate::repo::validate_sarif(&sarif);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for r in results {
        assert_eq!(r["suppressions"][0]["status"], "accepted", "{r}");
        assert!(r["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("baselined in .govops-baseline.json"));
    }
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(junit.matches("<skipped").count(), 4, "{junit}");
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(
        junit.contains("baselined in .govops-baseline.json"),
        "{junit}"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("| waived | baselined | approved |"), "{md}");
    assert!(md.contains("| baselined |"), "{md}");

    let human = repo.govops(&["check", "--base", "main", "--color", "never"]);
    assert_eq!(human.code(), 0, "{}", human.stdout());
    assert!(
        human.stdout().contains("0 waived, 4 baselined, 0 approved"),
        "{}",
        human.stdout()
    );
    assert!(human.stdout().contains("[baselined]"), "{}", human.stdout());
    let github = repo.govops(&["check", "--base", "main", "--format", "github"]);
    assert!(
        github.stdout().contains("4 baselined"),
        "{}",
        github.stdout()
    );
    assert!(
        github.stdout().contains("[baselined]"),
        "{}",
        github.stdout()
    );
}

#[test]
fn a_new_finding_does_not_hide_behind_an_old_entry() {
    // Another object with the same problem, in the same file.
    let repo = adopted();
    let text = std::fs::read_to_string(repo.path().join("deploy/dev/apps.yaml")).unwrap();
    repo.write(
        "deploy/dev/apps.yaml",
        format!("{text}---\n{}", unlabelled("jobs")),
    );
    repo.commit("Add jobs");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report}");
    let open: Vec<_> = findings(&report, "GOV-TAG-001")
        .into_iter()
        .filter(|f| f["status"] == "open")
        .collect();
    assert_eq!(open.len(), 2, "{report}");
    assert!(open.iter().all(|f| f["name"] == "jobs"), "{report}");
    assert_eq!(report["summary"]["baselined"], 4);

    // A copy of a baselined object (same name, same messages): one too many.
    let repo = adopted();
    let text = std::fs::read_to_string(repo.path().join("deploy/dev/apps.yaml")).unwrap();
    repo.write(
        "deploy/dev/apps.yaml",
        format!("{text}---\n{}", unlabelled("web")),
    );
    repo.commit("Copy web");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["baselined"], 4);
    assert_eq!(report["summary"]["deny"], 2, "{report}");

    // The same object in another file is another finding.
    let repo = adopted();
    repo.write("deploy/dev/web.yaml", unlabelled("web"));
    repo.commit("web in its own file");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["deny"], 2, "{report}");
}

#[test]
fn a_pull_request_cannot_baseline_its_own_findings() {
    let repo = adopted();
    repo.write("deploy/dev/new.yaml", unlabelled("new"));
    repo.commit("Add new");
    // The author regenerates the baseline in the pull request itself.
    let run = repo.govops(&["baseline"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(
        std::fs::read_to_string(repo.path().join(BASELINE))
            .unwrap()
            .contains("deploy/dev/new.yaml"),
        "the worktree baseline lists it"
    );
    repo.commit("Baseline new");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report}");
    let open: Vec<_> = findings(&report, "GOV-TAG-001")
        .into_iter()
        .filter(|f| f["status"] == "open")
        .collect();
    assert_eq!(open.len(), 2, "the base's baseline judges: {report}");
    let policy = findings(&report, "GOV-POLICY-001");
    assert_eq!(policy.len(), 1, "{report}");
    assert_eq!(policy[0]["file"], BASELINE);
    // The pull request's own policy reading (the worktree, as a hook does)
    // is not what judges the range.
    assert_eq!(report["policy"]["source"], "base");

    // Nor can a pull request move the baseline to a file it writes.
    let repo = adopted();
    repo.write("deploy/dev/new.yaml", unlabelled("new"));
    repo.write(".govops.yaml", "version: 1\nbaseline: mine.json\n");
    repo.govops(&["baseline"]);
    repo.commit("Add new, with a baseline of my own");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["deny"], 2, "{report}");
}

#[test]
fn prune_drops_fixed_findings_and_adds_none() {
    let repo = adopted();
    // Fix web (both labels), and break something new.
    let fixed = format!(
        "{}---\n{}---\n{}",
        deployment("web", "dev"),
        unlabelled("api"),
        unlabelled("new")
    );
    repo.write("deploy/dev/apps.yaml", fixed);
    repo.commit("Label web; add new");
    let run = repo.govops(&["baseline", "--prune"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(
        run.stdout().contains("2 fixed finding(s) pruned, 2 left"),
        "{}",
        run.stdout()
    );
    let text = std::fs::read_to_string(repo.path().join(BASELINE)).unwrap();
    assert!(!text.contains("Deployment web"), "{text}");
    assert!(text.contains("Deployment api"), "{text}");
    assert!(
        !text.contains("Deployment new"),
        "prune adds nothing: {text}"
    );
    // Run again: nothing to do, the file is left alone.
    let again = repo.govops(&["baseline", "--prune"]);
    assert!(
        again
            .stdout()
            .contains("0 fixed finding(s) pruned, 2 left; the file is unchanged"),
        "{}",
        again.stdout()
    );
}

#[test]
fn commit_findings_are_not_baselined() {
    // An AI-assisted commit without a model: GOV-AI-001 is about that
    // commit, which the next range does not hold.
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    repo.commit("Start");
    repo.write("README.md", "y\n");
    repo.commit("Edit\n\nAI-Assisted: yes\nAI-Tool: claude-code\n");
    let run = repo.govops(&["baseline"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run.stdout().contains(": 0 finding(s)"), "{}", run.stdout());
}

#[test]
fn a_file_that_cannot_be_parsed_is_not_baselined() {
    let repo = Repo::new();
    repo.write("deploy/bad.yaml", "apiVersion: v1\nkind: [\n");
    repo.commit("Broken");
    let run = repo.govops(&["baseline"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(
        run.stdout()
            .contains("1 open finding(s) cannot be baselined"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("GOV-INPUT-001"), "{}", run.stdout());
    repo.commit("Baseline");
    let (code, report) = repo.check_json(&["--all-manifests"]);
    assert_eq!(code, 1, "{report}");
    let input = findings(&report, "GOV-INPUT-001");
    assert_eq!(input.len(), 1, "{report}");
    assert_eq!(input[0]["status"], "open");
    assert_eq!(report["summary"]["baselined"], 0);
}

#[test]
fn the_baseline_path_stays_in_the_repository() {
    for bad in ["../outside.json", "/tmp/x.json", ".git/hooks/post-checkout"] {
        let repo = Repo::new();
        repo.write(".govops.yaml", format!("version: 1\nbaseline: {bad:?}\n"));
        repo.commit("Config");
        let run = repo.govops(&["baseline"]);
        assert_eq!(run.code(), 2, "{bad}: {}", run.stdout());
        assert!(
            run.stderr().contains(".govops.yaml:2: baseline:"),
            "{bad}: {}",
            run.stderr()
        );
    }
    // A symbolic link on the way is not written through.
    let repo = Repo::new();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join("gov")).unwrap();
    repo.write(".govops.yaml", "version: 1\nbaseline: gov/baseline.json\n");
    repo.commit("Config");
    let run = repo.govops(&["baseline"]);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    assert!(run.stderr().contains("symbolic link"), "{}", run.stderr());
    assert!(!outside.path().join("baseline.json").exists());
}

#[test]
fn a_broken_baseline_file_stops_the_gate() {
    // The baseline is policy: an unreadable one is exit 2 naming the file,
    // never a silent empty baseline (that would fail everything) nor a pass.
    let repo = Repo::with_main(&[(
        BASELINE,
        "{\"schema\": \"govops.baseline/v1\", \"findings\": [\n",
    )]);
    repo.write("README.md", "x\n");
    repo.commit("Edit");
    let run = repo.govops(&["check", "--base", "main"]);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    assert!(
        run.stderr().contains(".govops-baseline.json (at ")
            && run.stderr().contains("invalid baseline file: line"),
        "{}",
        run.stderr()
    );
    // A symbolic link at base is refused too.
    let repo = Repo::new();
    std::os::unix::fs::symlink("/etc/passwd", repo.path().join(BASELINE)).unwrap();
    repo.commit("Linked baseline");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("README.md", "x\n");
    repo.commit("Edit");
    let run = repo.govops(&["check", "--base", "main"]);
    assert_eq!(run.code(), 2, "{}", run.stdout());
    assert!(run.stderr().contains("symbolic link"), "{}", run.stderr());
}

#[test]
fn a_pull_request_that_breaks_the_baseline_file_is_a_finding() {
    let repo = adopted();
    repo.write(BASELINE, "not json");
    repo.commit("Break the baseline");
    let (code, report) = repo.check_json(&["--base", "main"]);
    assert_eq!(code, 1, "{report}");
    let broken = findings(&report, "GOV-POLICY-002");
    assert_eq!(broken.len(), 1, "{report}");
    assert!(
        broken[0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid baseline file"),
        "{report}"
    );
}

fn waiver_config(max_days: u32, expires: &str) -> String {
    format!(
        "version: 1
waivers:
  max_days: {max_days}
  list:
    - rule: GOV-TAG-001
      path: deploy/**
      reason: labels come with the platform migration
      owner: ops@example.com
      expires: {expires}
"
    )
}

#[test]
fn waivers_max_days_bounds_how_far_a_waiver_reaches() {
    // --now is 2026-11-21: 2026-12-21 is 30 days ahead, 2026-12-22 is 31.
    for (expires, waived) in [("2026-12-21", true), ("2026-12-22", false)] {
        let repo = Repo::with_main(&[(".govops.yaml", &waiver_config(30, expires))]);
        repo.write("deploy/dev/web.yaml", unlabelled("web"));
        repo.commit("Add web");
        let (code, report) = repo.check_json(&["--base", "main"]);
        let tags = statuses(&report, "GOV-TAG-001");
        let waivers = findings(&report, "GOV-WAIVER-001");
        if waived {
            assert_eq!(code, 0, "{report}");
            assert_eq!(tags, vec!["waived"; 2]);
            assert!(waivers.is_empty(), "{report}");
        } else {
            assert_eq!(code, 1, "{report}");
            assert_eq!(tags, vec!["open"; 2]);
            assert_eq!(waivers.len(), 1, "{report}");
            let message = waivers[0]["message"].as_str().unwrap();
            assert!(message.contains("more than 30 days"), "{message}");
            // Pointing at the waiver in the mapping form.
            assert_eq!(waivers[0]["line"], 5, "{report}");
        }
    }
    // A bound that is no number of days is a config error naming the key.
    for bad in ["0", "-1"] {
        let repo = Repo::new();
        repo.write(
            ".govops.yaml",
            waiver_config(1, "2026-12-01").replace("max_days: 1", &format!("max_days: {bad}")),
        );
        let run = repo.govops(&["config", "validate"]);
        let out = format!("{}{}", run.stdout(), run.stderr());
        assert_eq!(run.code(), 1, "{out}");
        assert!(
            out.contains(":3: waivers.max_days: ") && out.contains("not a number of days"),
            "{out}"
        );
    }
}
