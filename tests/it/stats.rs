//! `govops stats` on histories built with known answers: every measure is
//! asserted exactly, the table is snapshotted, the CSV export is checked
//! column by column, the dashboard is rendered in a real headless browser
//! and the exports of several repositories are rolled up with DuckDB.

use crate::repo::{git_command, Repo};
use serde_json::{json, Value};

/// 2026-03-01T00:00:00Z.
const T0: i64 = 1_772_323_200;
const DAY: i64 = 86_400;

const CLAUDE: &str = "Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>";
const CLAUDE_NO_MODEL: &str = "Co-Authored-By: Claude <noreply@anthropic.com>";
const AIDER: &str = "Co-authored-by: aider (gpt-4o) <aider@aider.chat>";

/// Commit everything with an exact message and exact author and committer dates.
fn commit_at(repo: &Repo, message: &str, author: i64, committer: i64) -> String {
    repo.git(&["add", "-A"]);
    let msg = repo.path().join(".git/TEST_MSG");
    std::fs::write(&msg, message).unwrap();
    let out = git_command(&repo.path())
        .args(["commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F"])
        .arg(&msg)
        .env("GIT_AUTHOR_DATE", format!("@{author} +0000"))
        .env("GIT_COMMITTER_DATE", format!("@{committer} +0000"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo.git(&["rev-parse", "HEAD"])
}

fn lines(n: usize, tag: &str) -> String {
    (1..=n).map(|i| format!("{tag} line {i}\n")).collect()
}

/// The known history (dates from T0, 2026-03-01):
///   d0  H1 human       adds a.txt (10 lines)
///   d1  A1 claude-code adds b.txt (4 lines)                      Opus 4.6
///   d2  A2 aider       rewrites a.txt lines 1-2                   gpt-4o
///   d3  H2 human       "fix: correct b": rewrites b.txt line 1   (A1's fix follow-up, 1 line of A1 reworked)
///   d4  A3 claude-code adds c.txt (3 lines), no model             (fails GOV-AI-001)
///   d5  R1 human       git revert of A3 (c.txt deleted: A3 reverted after 1 day, 3 lines reworked)
///   feature branch from R1:
///   d6  F1 human       adds d.txt (2 lines)
///   d7  F2 claude-code appends to d.txt (1 line)
///   d8  merge "Merge pull request #7 from o/feature", --no-ff: PR #7 merged 2 days after F1
///   d8+1h (committed d9) S1 human "Add e (#9)", squash merge: 23 h; Reviewed-by a human
///   d40 L  human       README (in April; its windows are still open)
fn known() -> (Repo, Vec<String>) {
    let repo = Repo::new();
    let mut shas = Vec::new();
    repo.write("a.txt", lines(10, "a"));
    shas.push(commit_at(&repo, "Initial a\n", T0, T0));
    repo.write("b.txt", lines(4, "b"));
    shas.push(commit_at(
        &repo,
        &format!("Add b\n\n{CLAUDE}\n"),
        T0 + DAY,
        T0 + DAY,
    ));
    repo.write(
        "a.txt",
        lines(10, "a").replacen("a line 1\na line 2\n", "A1\nA2\n", 1),
    );
    shas.push(commit_at(
        &repo,
        &format!("Rework a\n\n{AIDER}\n"),
        T0 + 2 * DAY,
        T0 + 2 * DAY,
    ));
    repo.write("b.txt", lines(4, "b").replacen("b line 1\n", "B1\n", 1));
    shas.push(commit_at(
        &repo,
        "fix: correct b\n",
        T0 + 3 * DAY,
        T0 + 3 * DAY,
    ));
    repo.write("c.txt", lines(3, "c"));
    let a3 = commit_at(
        &repo,
        &format!("Add c\n\n{CLAUDE_NO_MODEL}\n"),
        T0 + 4 * DAY,
        T0 + 4 * DAY,
    );
    shas.push(a3.clone());
    repo.remove("c.txt");
    shas.push(commit_at(
        &repo,
        &format!("Revert \"Add c\"\n\nThis reverts commit {a3}.\n"),
        T0 + 5 * DAY,
        T0 + 5 * DAY,
    ));
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("d.txt", lines(2, "d"));
    shas.push(commit_at(&repo, "Add d\n", T0 + 6 * DAY, T0 + 6 * DAY));
    repo.write("d.txt", lines(3, "d"));
    shas.push(commit_at(
        &repo,
        &format!("Extend d\n\n{CLAUDE}\n"),
        T0 + 7 * DAY,
        T0 + 7 * DAY,
    ));
    repo.git(&["checkout", "-q", "main"]);
    let out = git_command(&repo.path())
        .args([
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge pull request #7 from o/feature",
            "feature",
        ])
        .env("GIT_AUTHOR_DATE", format!("@{} +0000", T0 + 8 * DAY))
        .env("GIT_COMMITTER_DATE", format!("@{} +0000", T0 + 8 * DAY))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo.write("e.txt", lines(5, "e"));
    shas.push(commit_at(
        &repo,
        "Add e (#9)\n\nReviewed-by: Grace Hopper <grace@example.com>\n",
        T0 + 8 * DAY + 3600,
        T0 + 9 * DAY,
    ));
    repo.write("README.md", "# readme\n");
    shas.push(commit_at(&repo, "Docs\n", T0 + 40 * DAY, T0 + 40 * DAY));
    (repo, shas)
}

fn stats_json(repo: &Repo, args: &[&str]) -> Value {
    let mut all = vec!["stats", "--format", "json"];
    all.extend_from_slice(args);
    let run = repo.govops(&all);
    assert_eq!(run.code(), 0, "stderr: {}", run.stderr());
    serde_json::from_str(&run.stdout()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout()))
}

fn row<'a>(rows: &'a Value, key: &str, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row {key}={value} in {rows:#}"))
}

/// The contract's fields of a row, as a comparable object.
fn contract(r: &Value) -> Value {
    let keys = [
        "commits",
        "share",
        "lines_added",
        "lines_deleted",
        "ai_lines",
        "reverted",
        "revert_rate",
        "median_time_to_revert_s",
        "fix_followups",
        "rework_14d",
        "rework_30d",
        "merged_prs",
        "median_time_to_merge_s",
        "reviewed",
        "policy_failing",
    ];
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), r[*k].clone()))
            .collect(),
    )
}

#[test]
fn every_measure_of_a_known_history() {
    let (repo, shas) = known();
    let report = stats_json(&repo, &[]);
    assert_eq!(report["schema"], "govops.stats/v1");
    assert_eq!(report["range"]["commits"], 10);
    assert_eq!(report["range"]["merges"], 1);
    let tools = &report["tools"];
    assert_eq!(
        tools
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["tool"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["claude-code", "aider", "human"]
    );
    assert_eq!(
        contract(row(tools, "tool", "claude-code")),
        json!({
            "commits": 3, "share": 0.3, "lines_added": 8, "lines_deleted": 0, "ai_lines": null,
            "reverted": 1, "revert_rate": 0.3333, "median_time_to_revert_s": DAY,
            "fix_followups": 1, "rework_14d": 0.5, "rework_30d": 0.5,
            "merged_prs": 1, "median_time_to_merge_s": 2 * DAY, "reviewed": 0, "policy_failing": 1
        })
    );
    assert_eq!(
        contract(row(tools, "tool", "aider")),
        json!({
            "commits": 1, "share": 0.1, "lines_added": 2, "lines_deleted": 2, "ai_lines": null,
            "reverted": 0, "revert_rate": 0.0, "median_time_to_revert_s": null,
            "fix_followups": 0, "rework_14d": 0.0, "rework_30d": 0.0,
            "merged_prs": 0, "median_time_to_merge_s": null, "reviewed": 0, "policy_failing": 0
        })
    );
    // Human rework: of H1's 10, H2's 1, F1's 2 and S1's 5 lines (R1 adds
    // none, L's window is open), A2 rewrote 2 of H1's: 2/18.
    assert_eq!(
        contract(row(tools, "tool", "human")),
        json!({
            "commits": 6, "share": 0.6, "lines_added": 10 + 1 + 2 + 5 + 1, "lines_deleted": 1 + 3,
            "ai_lines": null, "reverted": 0, "revert_rate": 0.0, "median_time_to_revert_s": null,
            "fix_followups": 0, "rework_14d": 0.1111, "rework_30d": 0.1111,
            "merged_prs": 2, "median_time_to_merge_s": (2 * DAY + DAY - 3600) / 2,
            "reviewed": 1, "policy_failing": 0
        })
    );
    assert_eq!(report["overall"]["commits"], 10);
    assert_eq!(report["overall"]["reverted"], 1);

    // Models: Opus 4.6 twice, the model-less commit apart.
    let models = &report["models"];
    let opus = models
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tool"] == "claude-code" && r["model"] == "Claude Opus 4.6")
        .unwrap_or_else(|| panic!("{models:#}"));
    assert_eq!(opus["commits"], 2);
    assert_eq!(row(models, "model", "unknown")["commits"], 1);
    assert_eq!(row(models, "model", "gpt-4o")["tool"], "aider");

    // Months: March holds all but L.
    let months = report["months"].as_array().unwrap();
    let march_claude = months
        .iter()
        .find(|r| r["month"] == "2026-03" && r["tool"] == "claude-code")
        .unwrap();
    assert_eq!(march_claude["commits"], 3);
    assert_eq!(march_claude["share"], 0.3333);
    let april: Vec<&Value> = months.iter().filter(|r| r["month"] == "2026-04").collect();
    assert_eq!(april.len(), 1);
    assert_eq!(april[0]["tool"], "human");
    assert_eq!(april[0]["share"], 1.0);

    // The policy view: A3 names no model.
    assert_eq!(
        report["policy"],
        json!({"ai_commits": 4, "failing": 1, "by_rule": {"GOV-AI-001": 1}, "source": "builtin"})
    );

    // Per commit.
    let commits = report["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 10);
    let by_sha = |sha: &str| commits.iter().find(|c| c["sha"] == sha).unwrap();
    let [h1, a1, a2, h2, a3, r1, f1, f2, s1, l] = shas.as_slice() else {
        panic!("{shas:?}")
    };
    assert_eq!(by_sha(a3)["reverted_by"], r1.as_str());
    assert_eq!(by_sha(a3)["time_to_revert_s"], DAY);
    assert_eq!(by_sha(a3)["policy_failures"], json!(["GOV-AI-001"]));
    assert_eq!(by_sha(a1)["fix_followup"], h2.as_str());
    assert_eq!(by_sha(a1)["rework_lines_14d"], 1);
    assert_eq!(by_sha(h1)["rework_lines_14d"], 2);
    assert_eq!(by_sha(a2)["tools"], json!(["aider"]));
    assert_eq!(by_sha(f1)["pr"], 7);
    assert_eq!(by_sha(f2)["time_to_merge_s"], 2 * DAY);
    assert_eq!(by_sha(s1)["pr"], 9);
    assert_eq!(by_sha(s1)["time_to_merge_s"], DAY - 3600);
    assert_eq!(by_sha(s1)["reviewed"], true);
    assert_eq!(by_sha(l)["rework_lines_14d"], Value::Null);
    assert_eq!(by_sha(h2)["fix_followup"], Value::Null);
}

/// A revert of a merge (`git revert -m 1 MERGE`) reverts every commit the
/// merge brought; a revert found only by its subject counts too; a revert
/// outside --since/--until does not.
#[test]
fn reverts_of_merges_and_by_subject() {
    let (repo, shas) = known();
    let merge = repo.git(&["rev-parse", "HEAD~2"]);
    let out = git_command(&repo.path())
        .args(["revert", "--no-edit", "-m", "1", &merge])
        .env("GIT_AUTHOR_DATE", format!("@{} +0000", T0 + 41 * DAY))
        .env("GIT_COMMITTER_DATE", format!("@{} +0000", T0 + 41 * DAY))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo.write("README.md", "# readme\nmore\n");
    let docs2 = commit_at(&repo, "Docs again\n", T0 + 42 * DAY, T0 + 42 * DAY);
    commit_at(
        &repo,
        "Revert \"Docs again\"\n",
        T0 + 43 * DAY,
        T0 + 43 * DAY,
    );
    let report = stats_json(&repo, &["--no-rework"]);
    let commits = report["commits"].as_array().unwrap();
    let by_sha = |sha: &str| commits.iter().find(|c| c["sha"] == sha).unwrap();
    for sha in [&shas[6], &shas[7]] {
        assert_eq!(
            by_sha(sha)["time_to_revert_s"],
            41 * DAY - 7 * DAY + if sha == &shas[6] { DAY } else { 0 }
        );
    }
    assert!(by_sha(&docs2)["reverted_by"].is_string());
    let tools = &report["tools"];
    assert_eq!(row(tools, "tool", "claude-code")["reverted"], 2);
    // F1 (merge), docs2 (subject); R1, the merge's revert and the last are new commits.
    assert_eq!(row(tools, "tool", "human")["reverted"], 2);
    assert_eq!(row(tools, "tool", "human")["rework_14d"], Value::Null);

    // Only March: the April reverts are outside the range.
    let march = stats_json(
        &repo,
        &[
            "--since",
            "2026-03-01",
            "--until",
            "2026-04-01",
            "--no-rework",
        ],
    );
    assert_eq!(march["range"]["commits"], 9);
    assert_eq!(row(&march["tools"], "tool", "claude-code")["reverted"], 1);
    assert_eq!(row(&march["tools"], "tool", "human")["reverted"], 0);
}

/// --base limits the range like check's flags; several tools on one commit
/// count once for each; a bot's or an AI's review is no review evidence.
#[test]
fn base_range_several_tools_and_review_evidence() {
    let (repo, shas) = known();
    repo.write("f.txt", "f\n");
    commit_at(
        &repo,
        &format!("Pair\n\n{CLAUDE}\n{AIDER}\nReviewed-by: Claude <noreply@anthropic.com>\nReviewed-by: dependabot[bot] <bot@example.com>\n"),
        T0 + 41 * DAY,
        T0 + 41 * DAY,
    );
    let report = stats_json(&repo, &["--base", &shas[9], "--no-rework"]);
    assert_eq!(report["range"]["commits"], 1);
    let tools = &report["tools"];
    assert_eq!(row(tools, "tool", "claude-code")["commits"], 1);
    assert_eq!(row(tools, "tool", "aider")["commits"], 1);
    assert_eq!(row(tools, "tool", "claude-code")["share"], 1.0);
    assert_eq!(row(tools, "tool", "claude-code")["reviewed"], 0);
    assert_eq!(report["overall"]["commits"], 1);
}

#[test]
fn the_table_snapshot() {
    let (repo, _) = known();
    let run = repo.govops(&["stats"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{7}\b", "[sha]");
    settings.bind(|| insta::assert_snapshot!("stats_table", run.stdout()));
    let by_month = repo.govops(&["stats", "--by", "month", "--no-rework"]);
    settings.bind(|| insta::assert_snapshot!("stats_table_by_month", by_month.stdout()));
}

/// The CSV export: a header of the documented columns, one row per commit,
/// RFC 4180 quoting of a subject with a comma and a quote.
#[test]
fn csv_export_one_row_per_commit() {
    let (repo, shas) = known();
    repo.write("g.txt", "g\n");
    commit_at(
        &repo,
        "Odd, \"quoted\" subject\n",
        T0 + 41 * DAY,
        T0 + 41 * DAY,
    );
    let run = repo.govops(&["stats", "--format", "csv", "--no-rework"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let text = run.stdout();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12, "{text}");
    assert_eq!(lines[0], "repository,sha,author_time,commit_time,month,author,author_email,tools,models,lines_added,lines_deleted,ai_lines,reviewed,reverted_by,time_to_revert_s,fix_followup,pr,merged_by,time_to_merge_s,rework_lines_14d,rework_lines_30d,policy_failures,subject");
    let a3 = lines.iter().find(|l| l.contains(&shas[4])).unwrap();
    assert!(
        a3.contains(&format!(
            ",claude-code,claude-code:unknown,3,0,,false,{},86400,",
            shas[5]
        )),
        "{a3}"
    );
    assert!(a3.ends_with(",GOV-AI-001,Add c"), "{a3}");
    assert!(
        lines[11].ends_with(",\"Odd, \"\"quoted\"\" subject\""),
        "{}",
        lines[11]
    );
    // The schema names the columns.
    let schema = repo.govops(&["schema", "stats"]);
    assert_eq!(schema.code(), 0);
    let schema: Value = serde_json::from_str(&schema.stdout()).unwrap();
    assert!(schema["description"]
        .as_str()
        .unwrap()
        .contains("time_to_merge_s"));
    assert!(schema["properties"]["commits"].is_object(), "{schema:#}");
}

/// CSV injection: a name, an email or a subject that starts like a
/// spreadsheet formula is written with a leading `'`, so opening the export
/// shows it as text instead of running it.
#[test]
fn csv_cells_that_start_like_a_formula_are_text() {
    let repo = Repo::new();
    // (git trims a leading tab or carriage return from names and subjects.)
    let starts = ["=", "+", "-", "@"];
    for (i, start) in starts.iter().enumerate() {
        repo.write(&format!("f{i}.txt"), "x\n");
        repo.git(&["add", "-A"]);
        let out = git_command(&repo.path())
            .args(["commit", "-q", "-m"])
            .arg(format!(
                "{start}HYPERLINK(\"http://evil.example\",\"x\") {i}"
            ))
            .env("GIT_AUTHOR_NAME", format!("{start}cmd|' /C calc'!A0"))
            .env("GIT_AUTHOR_EMAIL", format!("{start}1+1@example.com"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let run = repo.govops(&["stats", "--format", "csv", "--no-rework"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let text = run.stdout();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), starts.len(), "{text}");
    for row in rows {
        // Split on the commas outside quotes.
        let mut cells = vec![String::new()];
        let mut quoted = false;
        for c in row.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => cells.push(String::new()),
                c => cells.last_mut().unwrap().push(c),
            }
        }
        let (author, email, subject) = (&cells[5], &cells[6], &cells[22]);
        for cell in [author, email, subject] {
            assert!(cell.starts_with('\''), "{cell:?} in {row}");
        }
    }
}

/// Bad input: a date that is not one, a head that is not there: exit 2
/// with a message naming the flag; an empty range is an empty report.
#[test]
fn bad_input_is_named() {
    let (repo, _) = known();
    let run = repo.govops(&["stats", "--since", "yesterday"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("--since \"yesterday\""),
        "{}",
        run.stderr()
    );
    let run = repo.govops(&["stats", "--head", "nope"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("nope"), "{}", run.stderr());
    let empty = stats_json(&repo, &["--since", "2030-01-01"]);
    assert_eq!(empty["range"]["commits"], 0);
    assert_eq!(empty["tools"], json!([]));
    let explain = repo.govops(&["stats", "--explain"]);
    assert!(explain.stdout().contains("Bias:"));
}

/// A six-month history with three tools, reverts, fixes and pull requests:
/// enough for every chart of the dashboard to have something to draw.
fn busy() -> Repo {
    let repo = Repo::new();
    let trailers = [
        "",
        CLAUDE,
        AIDER,
        "Co-authored-by: Copilot <copilot@github.com>",
        "",
        CLAUDE_NO_MODEL,
    ];
    let mut t = T0;
    for month in 0..6i64 {
        for k in 0..12i64 {
            let file = format!("src/m{}.txt", k % 4);
            let old = std::fs::read_to_string(repo.path().join(&file)).unwrap_or_default();
            repo.write(
                &file,
                format!(
                    "{old}{}",
                    lines(((k % 5) + 1) as usize, &format!("m{month}k{k}"))
                ),
            );
            let trailer = trailers[((k + month) % trailers.len() as i64) as usize];
            let subject = if k % 5 == 4 {
                format!("fix: m{month} k{k}")
            } else {
                format!("Change m{month} k{k}")
            };
            t += (2 + k % 3) * DAY / 2;
            let sha = commit_at(&repo, &format!("{subject}\n\n{trailer}\n"), t, t);
            if k % 6 == 5 {
                let out = git_command(&repo.path())
                    .args(["revert", "--no-edit", &sha])
                    .env("GIT_AUTHOR_DATE", format!("@{} +0000", t + 3600))
                    .env("GIT_COMMITTER_DATE", format!("@{} +0000", t + 3600))
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        repo.git(&["checkout", "-q", "-b", &format!("pr{month}")]);
        repo.write(&format!("pr/{month}.txt"), lines(3, "pr"));
        let trailer = trailers[(month as usize) % trailers.len()];
        commit_at(&repo, &format!("PR work {month}\n\n{trailer}\n"), t, t);
        repo.git(&["checkout", "-q", "main"]);
        let merged = t + (month + 1) * 7200;
        let out = git_command(&repo.path())
            .args([
                "merge",
                "-q",
                "--no-ff",
                "-m",
                &format!("Merge pull request #{month} from o/pr{month}"),
                &format!("pr{month}"),
            ])
            .env("GIT_AUTHOR_DATE", format!("@{merged} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{merged} +0000"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t = merged;
    }
    repo
}

/// The dashboard is one self-contained file: no script, no external
/// reference, inline SVG; and a real browser renders it without a console
/// error. The screenshot is written to target/ (a CI artifact). Without
/// chromium the test fails when GOVOPS_REQUIRE_BROWSER=1 (scripts/test),
/// else it says so and checks the file alone.
#[test]
fn dashboard_renders_in_a_headless_browser() {
    let repo = busy();
    let out = repo.path().join("dashboard.html");
    let run = repo.govops(&[
        "stats",
        "--format",
        "html",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg ").count(), 3, "three charts");
    for external in ["<script", "http://", "https://", "src=", "@import", "url("] {
        let hits: Vec<&str> = html
            .match_indices(external)
            .map(|(i, _)| &html[i.saturating_sub(40)..(i + 60).min(html.len())])
            .filter(|ctx| !ctx.contains("xmlns=\"http://www.w3.org/2000/svg\""))
            .collect();
        assert!(hits.is_empty(), "{external}: {hits:?}");
    }
    assert!(html.contains("prefers-color-scheme: dark"));
    for tool in ["claude-code", "aider", "copilot", "human"] {
        assert!(html.contains(tool), "{tool}");
    }

    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        assert!(
            std::env::var("GOVOPS_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "chromium is not installed and GOVOPS_REQUIRE_BROWSER=1: install it (apt-get install chromium; scripts/test does)"
        );
        eprintln!("chromium not found: the dashboard was checked as a file only");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("stats-dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let url = format!("file://{}", out.display());
    let chromium = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(browser);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(&url);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{browser}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dom = chromium(&["--dump-dom"]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom_text.contains("<svg"),
        "the browser's DOM has no chart: {dom_text}"
    );
    assert!(dom_text.contains("AI share over time"));
    let shot_run = chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1100,2600",
        "--hide-scrollbars",
    ]);
    // What the page logs to the console (an error, a refused resource
    // under the page's Content-Security-Policy) is in chromium's log.
    for log in [&dom.stderr, &shot_run.stderr] {
        let log = String::from_utf8_lossy(log);
        let console: Vec<&str> = log
            .lines()
            .filter(|l| {
                l.contains("CONSOLE")
                    || l.contains("Content Security Policy")
                    || l.contains("Uncaught")
            })
            .collect();
        assert!(console.is_empty(), "console messages: {console:#?}");
    }
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

/// The organisation-wide table, from many repositories' CSV exports: the
/// query the README gives (a commit counts once for each of its tools; time
/// to merge once per pull request of a repository).
const ROLLUP_SQL: &str = "
WITH c AS (SELECT * FROM read_csv(?, header = true, auto_detect = true)),
t AS (SELECT *, unnest(string_split(tools, ';')) AS tool FROM c)
SELECT tool,
       count(*) AS commits,
       round(count(*) / (SELECT count(*) FROM c), 4) AS share,
       sum(lines_added) AS lines_added,
       count(reverted_by) AS reverted,
       count(fix_followup) AS fix_followups,
       (SELECT median(ttm) FROM (SELECT DISTINCT repository, merged_by, time_to_merge_s AS ttm
          FROM t AS p WHERE p.tool = t.tool AND p.merged_by IS NOT NULL AND p.time_to_merge_s IS NOT NULL)) AS median_time_to_merge_s
FROM t GROUP BY tool ORDER BY tool";

/// The Python with duckdb: GOVOPS_TEST_PYTHON, else scripts/test's venv.
fn duckdb_python() -> Option<std::path::PathBuf> {
    let python = std::env::var_os("GOVOPS_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-test/bin/python")
        });
    let ok = std::process::Command::new(&python)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{}: no duckdb; scripts/test installs it (pip install duckdb)",
        python.display()
    );
    eprintln!("skipped: {} has no duckdb", python.display());
    None
}

#[test]
fn csv_exports_of_several_repositories_roll_up_in_duckdb() {
    let Some(python) = duckdb_python() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let repos = [
        ("known-1", known().0),
        ("known-2", known().0),
        ("busy", busy()),
    ];
    let mut files = Vec::new();
    let mut expected: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    for (name, repo) in &repos {
        repo.git(&[
            "remote",
            "add",
            "origin",
            &format!("https://git.example.com/org/{name}.git"),
        ]);
        let file = out.path().join(format!("{name}.csv"));
        let run = repo.govops(&[
            "stats",
            "--format",
            "csv",
            "--output",
            file.to_str().unwrap(),
        ]);
        assert_eq!(run.code(), 0, "{}", run.stderr());
        files.push(file.display().to_string());
        for t in stats_json(repo, &[])["tools"].as_array().unwrap() {
            let e = expected
                .entry(t["tool"].as_str().unwrap().to_string())
                .or_default();
            e.0 += t["commits"].as_u64().unwrap();
            e.1 += t["reverted"].as_u64().unwrap();
            e.2 += t["fix_followups"].as_u64().unwrap();
        }
    }
    let script = "import duckdb, json, sys\nsql, files = sys.argv[1], json.loads(sys.argv[2])\nrows = duckdb.sql(sql.replace('?', repr(files))).fetchall()\nprint(json.dumps([[v if not hasattr(v, 'is_integer') else float(v) for v in r] for r in rows]))";
    let query = |files: &[String]| -> Vec<Value> {
        let run = std::process::Command::new(&python)
            .args([
                "-c",
                script,
                ROLLUP_SQL,
                &serde_json::to_string(files).unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&run.stdout).unwrap()
    };
    let rows = query(&files);
    let got: std::collections::BTreeMap<String, (u64, u64, u64)> = rows
        .iter()
        .map(|r| {
            let n = |i: usize| r[i].as_f64().unwrap() as u64;
            (r[0].as_str().unwrap().to_string(), (n(1), n(4), n(5)))
        })
        .collect();
    assert_eq!(got, expected, "{rows:?}");
    // Two copies of the known history: the same pull requests twice, in
    // two repositories: medians as in one.
    let known = query(&files[..2]);
    let claude = known.iter().find(|r| r[0] == "claude-code").unwrap();
    assert_eq!(claude[1].as_f64(), Some(6.0));
    assert_eq!(claude[2].as_f64(), Some(0.3));
    assert_eq!(claude[6].as_f64(), Some(2.0 * DAY as f64));
    let human = known.iter().find(|r| r[0] == "human").unwrap();
    assert_eq!(human[6].as_f64(), Some(((2 * DAY + DAY - 3600) / 2) as f64));
}

/// Rework follows lines through a rename and into files older than the
/// range (--base): their lines have no origin in the range but keep their
/// place, so a later hunk lands on the right line.
#[test]
fn rework_follows_renames_and_files_older_than_the_range() {
    let repo = Repo::new();
    repo.write("a.txt", lines(10, "a"));
    let base = commit_at(&repo, "Base\n", T0, T0);
    repo.remove("a.txt");
    let mut text = lines(10, "a").replacen("a line 5\n", "AI 5\n", 1);
    text.push_str("AI 11\nAI 12\n");
    repo.write("z.txt", &text);
    let c1 = commit_at(&repo, &format!("Move a\n\n{CLAUDE}\n"), T0 + DAY, T0 + DAY);
    repo.write(
        "z.txt",
        text.replacen("AI 5\n", "", 1).replacen("a line 9\n", "", 1),
    );
    let c2 = commit_at(&repo, "Trim z\n", T0 + 3 * DAY, T0 + 3 * DAY);
    repo.write("README.md", "x\n");
    commit_at(&repo, "Later\n", T0 + 40 * DAY, T0 + 40 * DAY);
    let report = stats_json(&repo, &["--base", &base]);
    let commits = report["commits"].as_array().unwrap();
    let by_sha = |sha: &str| commits.iter().find(|c| c["sha"] == sha).unwrap();
    assert_eq!(by_sha(&c1)["lines_added"], 3);
    assert_eq!(by_sha(&c1)["rework_lines_14d"], 1, "{:#}", by_sha(&c1));
    assert_eq!(by_sha(&c1)["rework_lines_30d"], 1);
    assert_eq!(by_sha(&c2)["rework_lines_14d"], 0);
    assert_eq!(
        row(&report["tools"], "tool", "claude-code")["rework_14d"],
        0.3333
    );
}

/// Hostile history: a 0.9 MiB commit message full of control characters and
/// markup, a 40 MB file, a subject that would be a spreadsheet formula:
/// every format is written, bounded in time and memory, and the dashboard
/// carries no raw markup from the history.
#[test]
fn hostile_history_is_bounded_and_escaped() {
    let repo = Repo::new();
    repo.write("big.bin", vec![b'x'; 40 << 20]);
    let mut message = String::from("<script>alert(1)</script> \u{1b}[31m=HYPERLINK(\"x\")\n\n");
    message.push_str(&"\u{1}\u{7}<b>&\"'\n".repeat(100_000));
    message.push_str(&format!(
        "\n{CLAUDE}\nAssisted-by: aider:<img/src=x/onerror=alert(1)>x\n"
    ));
    commit_at(&repo, &message, T0, T0);
    repo.write("big.bin", vec![b'y'; 40 << 20]);
    commit_at(
        &repo,
        "fix: <img src=x onerror=alert(1)>\n",
        T0 + DAY,
        T0 + DAY,
    );
    for format in ["table", "json", "csv", "html"] {
        let out = repo.path().join(format!("out.{format}"));
        let run = repo.govops(&["stats", "--format", format, "-o", out.to_str().unwrap()]);
        assert_eq!(run.code(), 0, "{format}: {}", run.stderr());
        assert_eq!(run.stderr(), "", "silent when stderr is not a terminal");
        run.assert_bounded(20, 400);
        let text = std::fs::read_to_string(&out).unwrap();
        if format == "html" {
            assert!(
                text.contains("&lt;img/src=x/onerror=alert(1)&gt;x"),
                "the model, escaped"
            );
            assert!(
                !text.contains("<script>") && !text.contains("<img") && !text.contains('\u{1}')
            );
        }
    }
}

/// A linear history of `n` commits written with git fast-import: each
/// commit appends two lines to one of 200 files, every third one with
/// Claude's co-author line, every tenth a fix.
pub fn long_history(n: usize) -> Repo {
    let repo = Repo::new();
    let mut stream = String::new();
    let mut files: Vec<String> = vec![String::new(); 200];
    for i in 0..n {
        let f = (i * 7) % files.len();
        files[f].push_str(&format!("line {i} a\nline {i} b\n"));
        let subject = if i % 10 == 9 {
            format!("fix: {i}")
        } else {
            format!("Change {i}")
        };
        let trailer = if i % 3 == 0 {
            format!("\n\n{CLAUDE}")
        } else {
            String::new()
        };
        let msg = format!("{subject}{trailer}\n");
        let t = T0 + (i as i64) * 600;
        stream.push_str(&format!(
            "commit refs/heads/main\nauthor Ada <ada@example.com> {t} +0000\ncommitter Ada <ada@example.com> {t} +0000\ndata {}\n{msg}",
            msg.len()
        ));
        // fast-import continues the branch: no `from` needed.
        stream.push_str(&format!(
            "M 100644 inline src/f{f}.txt\ndata {}\n{}\n",
            files[f].len(),
            files[f]
        ));
    }
    let out = crate::repo::run_with_stdin(
        {
            let mut cmd = git_command(&repo.path());
            cmd.args(["fast-import", "--quiet"]);
            cmd
        },
        stream.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo.git(&["reset", "-q", "--hard", "main"]);
    repo
}

/// Speed: 10,000 commits read in about the time of `git log --numstat`
/// (the issue's bound is 2x, for an optimised build; a debug build is
/// given 6x), rework measured separately.
#[test]
fn ten_thousand_commits_in_about_the_time_of_git_log() {
    let repo = long_history(10_000);
    let started = std::time::Instant::now();
    let out = git_command(&repo.path())
        .args(["log", "--numstat"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let git_log = started.elapsed();
    let run = repo.govops(&[
        "stats",
        "--no-rework",
        "--format",
        "json",
        "-o",
        "/dev/null",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let rework = repo.govops(&["stats", "--format", "json", "-o", "/dev/null"]);
    assert_eq!(rework.code(), 0, "{}", rework.stderr());
    eprintln!(
        "10,000 commits: git log --numstat {git_log:?}; govops stats --no-rework {:?} ({} MiB); with rework {:?} ({} MiB)",
        run.elapsed,
        run.peak_kib / 1024,
        rework.elapsed,
        rework.peak_kib / 1024
    );
    // The issue's 2x holds for an optimised build (measured on aider's
    // 12,461 commits: 1.4x); govops's own code unoptimised, on a shared
    // machine, is given 6x.
    let factor = if cfg!(debug_assertions) { 6 } else { 2 };
    assert!(
        run.elapsed < git_log * factor + std::time::Duration::from_secs(1),
        "{:?} against git log's {git_log:?}",
        run.elapsed
    );
    run.assert_bounded(60, 400);
    rework.assert_bounded(120, 600);
}

/// A shallow clone (CI's default checkout) ends its history at a commit
/// whose parent is missing: that commit's diff is not against its parent,
/// so its lines are not counted (nor its rework), and the report says the
/// history is cut.
#[test]
fn a_shallow_clone_says_so_and_does_not_count_the_cut_commit() {
    let (repo, shas) = known();
    let clone = tempfile::tempdir().unwrap();
    let out = git_command(clone.path())
        .args(["clone", "-q", "--depth", "2", "--no-single-branch"])
        .arg(format!("file://{}", repo.path().display()))
        .arg("c")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = clone.path().join("c");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_govops"))
        .current_dir(&dir)
        .args(["stats", "--format", "json"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["range"]["shallow"], true);
    // S1 and L are here; S1's parent (the merge) is not.
    let commits = report["commits"].as_array().unwrap();
    let s1 = commits
        .iter()
        .find(|c| c["sha"] == shas[8].as_str())
        .unwrap();
    assert_eq!(
        (s1["lines_added"].as_u64(), s1["lines_deleted"].as_u64()),
        (Some(0), Some(0)),
        "{s1:#}"
    );
    let table = std::process::Command::new(env!("CARGO_BIN_EXE_govops"))
        .current_dir(&dir)
        .args(["stats"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("shallow clone"));
}

/// A commit a git-ai note covers has its AI-written lines in the stats, as
/// the gate counts them; commits without a record stay null.
#[test]
fn ai_lines_come_from_line_level_records() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    repo.commit("base");
    let lines: String = (1..=40).map(|i| format!("line {i}\n")).collect();
    repo.write("src/main.rs", &lines);
    let sha = repo.commit("add main");
    let note = format!(
        r#"src/main.rs
  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10,15-20
---
{{
  "schema_version": "authorship/3.0.0",
  "git_ai_version": "1.4.5",
  "base_commit_sha": "{sha}",
  "prompts": {{}},
  "sessions": {{
    "s_c9883b05a2487d": {{
      "agent_id": {{"tool": "cursor", "id": "6ef2299e", "model": "claude-sonnet-4-5-20250514"}},
      "human_author": "dev@example.com"
    }}
  }}
}}"#
    );
    repo.git(&["notes", "--ref=ai", "add", "-f", "-m", &note, &sha]);
    repo.write("docs.md", "more\n");
    repo.commit("docs");
    let stats = stats_json(&repo, &["--no-rework"]);
    let cursor = row(&stats["tools"], "tool", "cursor");
    assert_eq!(cursor["commits"], 1, "{stats:#}");
    assert_eq!(cursor["ai_lines"], 16, "{cursor:#}");
    assert_eq!(
        row(&stats["tools"], "tool", "human")["ai_lines"],
        Value::Null
    );
}
