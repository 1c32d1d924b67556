//! Line-level AI attribution (issue #16): git-ai authorship notes under
//! `refs/notes/ai` (standard `authorship/3.0.0`, its examples copied from
//! the published spec) and Agent Trace records (v0.1), counted into the
//! input document and used by the rules; malformed, foreign and hostile
//! records handled explicitly.

use crate::repo::Repo;
use serde_json::{json, Value};

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

fn file<'a>(commit: &'a Value, path: &str) -> &'a Value {
    commit["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {commit}"))
}

fn note(repo: &Repo, sha: &str, text: &str) {
    repo.git(&["notes", "--ref=ai", "add", "-f", "-m", text, sha]);
}

fn numbered(n: usize, tag: &str) -> String {
    (1..=n).map(|i| format!("{tag} {i}\n")).collect()
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn findings<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn notes(report: &Value) -> String {
    report["notes"].to_string()
}

/// The spec's complete example (1.2.5, sessions format), for a commit that
/// adds src/main.rs (60 lines) and src/lib.rs (30 lines).
fn sessions_note(sha: &str) -> String {
    format!(
        r#"src/main.rs
  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10,15-20
  s_c9883b05a2487d::t_a1b2c3d4e5f678 25,30-35
  h_31dce776f88375 42-50
src/lib.rs
  s_e7f2a90b31cc48::t_deadbeef012345 1-50
---
{{
  "schema_version": "authorship/3.0.0",
  "git_ai_version": "1.4.5",
  "base_commit_sha": "{sha}",
  "prompts": {{}},
  "humans": {{
    "h_31dce776f88375": {{
      "author": "Developer <dev@example.com>"
    }}
  }},
  "sessions": {{
    "s_c9883b05a2487d": {{
      "agent_id": {{
        "tool": "cursor",
        "id": "6ef2299e-a67f-432b-aa80-3d2fb4d28999",
        "model": "claude-sonnet-4-5-20250514"
      }},
      "human_author": "dev@example.com"
    }},
    "s_e7f2a90b31cc48": {{
      "agent_id": {{
        "tool": "claude",
        "id": "conv_abc123def456",
        "model": "claude-sonnet-4-5-20250514"
      }},
      "human_author": "dev@example.com",
      "custom_attributes": {{
        "team": "backend"
      }}
    }}
  }}
}}"#
    )
}

/// The spec's legacy example (1.2.6): bare 16-hex keys into `prompts`.
fn legacy_note(sha: &str, file: &str) -> String {
    format!(
        r#"{file}
  abcd1234abcd1234 1-10,15-20
  ef0b5678ef0b5678 25,30-35
---
{{
  "schema_version": "authorship/3.0.0",
  "git_ai_version": "1.0.23",
  "base_commit_sha": "{sha}",
  "prompts": {{
    "abcd1234abcd1234": {{
      "agent_id": {{
        "tool": "cursor",
        "id": "6ef2299e-a67f-432b-aa80-3d2fb4d28999",
        "model": "claude-4.5-opus"
      }},
      "human_author": "Developer <dev@example.com>",
      "total_additions": 25,
      "total_deletions": 5,
      "accepted_lines": 20,
      "overriden_lines": 0
    }},
    "ef0b5678ef0b5678": {{
      "agent_id": {{
        "tool": "cursor",
        "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "model": "claude-3-sonnet"
      }},
      "human_author": "Developer <dev@example.com>",
      "total_additions": 6,
      "total_deletions": 0,
      "accepted_lines": 6,
      "overriden_lines": 0
    }}
  }}
}}"#
    )
}

/// A note counts, per file the commit changes, the lines its AI sessions
/// attest (not the known human's), at most the lines the commit adds; by
/// tool id; and is evidence of the tool, with its model, though no trailer
/// names it.
#[test]
fn a_git_ai_note_counts_ai_lines_per_file_and_tool() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    repo.write("src/main.rs", numbered(60, "main"));
    repo.write("src/lib.rs", numbered(30, "lib"));
    let sha = repo.commit("add the service");
    note(&repo, &sha, &sessions_note(&sha));
    repo.write("src/util.rs", numbered(40, "util"));
    let legacy = repo.commit("add util");
    note(&repo, &legacy, &legacy_note(&legacy, "src/util.rs"));
    repo.write("docs/a.md", numbered(5, "doc"));
    let human = repo.commit("docs, no note");

    let doc = input(&repo, &base);
    let c = commit(&doc, &sha);
    // main.rs: 1-10, 15-20, 25, 30-35 = 23 (42-50 is the human's); lib.rs:
    // 1-50 attested, 30 added.
    assert_eq!(file(c, "src/main.rs")["ai_lines"], 23, "{c}");
    assert_eq!(file(c, "src/lib.rs")["ai_lines"], 30, "{c}");
    assert_eq!(
        c["ai"]["lines"],
        json!({"ai": 53, "by_tool": {"cursor": 23, "claude-code": 30}, "sources": ["git-ai-note"]})
    );
    assert_eq!(c["ai"]["assisted"], true);
    let tools = c["ai"]["tools"].as_array().unwrap();
    let cursor = tools.iter().find(|t| t["tool"] == "cursor").unwrap();
    assert_eq!(cursor["model"], "claude-sonnet-4-5-20250514");
    assert_eq!(cursor["evidence"][0]["source"], "git-ai-note");
    assert_eq!(cursor["evidence"][0]["value"], "cursor");

    let l = commit(&doc, &legacy);
    assert_eq!(
        l["ai"]["lines"],
        json!({"ai": 23, "by_tool": {"cursor": 23}, "sources": ["git-ai-note"]})
    );
    let models = &l["ai"]["tools"][0]["models"];
    assert_eq!(models, &json!(["claude-4.5-opus", "claude-3-sonnet"]));

    // The notes name only files their commits change: nothing to say.
    assert_eq!(doc["attribution"]["notes"], json!([]));
    let h = commit(&doc, &human);
    assert!(h["ai"].get("lines").is_none(), "{h}");
    assert_eq!(file(h, "docs/a.md")["ai_lines"], Value::Null);
    assert_eq!(doc["changes"]["ai_lines"], 76);
    let share = doc["changes"]["ai_share"].as_f64().unwrap();
    assert!((share - 76.0 / 135.0).abs() < 1e-9, "{share}");
}

/// Without any line-level record, the range's AI lines are null.
#[test]
fn without_records_the_range_has_no_line_data() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    repo.write("a.txt", "a\n");
    let sha = repo.commit("change\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\n");
    let doc = input(&repo, &base);
    assert_eq!(doc["changes"]["ai_lines"], Value::Null);
    assert_eq!(doc["changes"]["ai_share"], Value::Null);
    assert!(commit(&doc, &sha)["ai"].get("lines").is_none());
}

/// Agent Trace (v0.1): records in `.agent-trace/traces.jsonl` at the head,
/// each naming its commit; ai and mixed ranges count, human and unknown do
/// not; a range's contributor overrides its conversation's.
#[test]
fn agent_trace_records_count_ai_and_mixed_lines() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    repo.write("src/utils/parser.ts", numbered(80, "parser"));
    repo.write("src/utils/helpers.ts", numbered(30, "helpers"));
    let sha = repo.commit("parser");
    let record = json!({
        "version": "0.1.0",
        "id": "550e8400-e29b-41d4-a716-446655440000",
        "timestamp": "2026-01-23T14:30:00Z",
        "vcs": {"type": "git", "revision": sha},
        "tool": {"name": "cursor", "version": "2.4.0"},
        "files": [
            {"path": "src/utils/parser.ts", "conversations": [
                {"url": "https://api.cursor.com/v1/conversations/12345",
                 "contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-5-20251101"},
                 "ranges": [
                     {"start_line": 42, "end_line": 67, "content_hash": "murmur3:9f2e8a1b"},
                     {"start_line": 70, "end_line": 71, "contributor": {"type": "human"}},
                     {"start_line": 1, "end_line": 2, "contributor": {"type": "mixed", "model_id": "openai/gpt-4o"}}
                 ],
                 "related": [{"type": "session", "url": "https://api.cursor.com/v1/sessions/67890"}]}
            ]},
            {"path": "src/utils/helpers.ts", "conversations": [
                {"contributor": {"type": "human"}, "ranges": [{"start_line": 10, "end_line": 25}]},
                {"contributor": {"type": "unknown"}, "ranges": [{"start_line": 1, "end_line": 5}]}
            ]}
        ],
        "metadata": {"confidence": 0.95, "dev.cursor": {"workspace_id": "ws-abc123"}}
    });
    // A record of a commit before the range: history, not this range's.
    let old = json!({"version": "0.1.0", "id": "1", "timestamp": "2026-01-01T00:00:00Z",
        "vcs": {"type": "git", "revision": base},
        "files": [{"path": "README.md", "conversations": [{"contributor": {"type": "ai"}, "ranges": [{"start_line": 1, "end_line": 1}]}]}]});
    repo.write(".agent-trace/traces.jsonl", format!("{old}\n{record}\n"));
    let traces = repo.commit("record the traces");

    let doc = input(&repo, &base);
    let c = commit(&doc, &sha);
    assert_eq!(file(c, "src/utils/parser.ts")["ai_lines"], 28, "{c}");
    assert_eq!(file(c, "src/utils/helpers.ts")["ai_lines"], 0, "{c}");
    assert_eq!(
        c["ai"]["lines"],
        json!({"ai": 28, "by_tool": {"cursor": 28}, "sources": ["agent-trace"]})
    );
    let cursor = &c["ai"]["tools"][0];
    assert_eq!(cursor["tool"], "cursor");
    assert_eq!(
        cursor["models"],
        json!(["anthropic/claude-opus-4-5-20251101", "openai/gpt-4o"])
    );
    assert_eq!(cursor["evidence"][0]["source"], "agent-trace");
    assert!(commit(&doc, &traces)["ai"].get("lines").is_none());
    assert_eq!(doc["attribution"]["notes"], json!([]));
}

/// Records the gate cannot place or read are said, never silently dropped:
/// another schema version, a note computed for another commit, a trace of
/// no commit here, a trace with no revision.
#[test]
fn unknown_versions_and_foreign_records_are_noted() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    repo.write("a.txt", numbered(10, "a"));
    let newer = repo.commit("a");
    let v4 = legacy_note(&newer, "a.txt").replace("authorship/3.0.0", "authorship/4.0.0");
    note(&repo, &newer, &v4);
    repo.write("b.txt", numbered(10, "b"));
    let copied = repo.commit("b");
    // Computed for another commit (a copy that was not recomputed).
    note(&repo, &copied, &legacy_note(&"1".repeat(40), "b.txt"));
    let trace = |version: &str, vcs: Value| {
        json!({"version": version, "id": "x", "timestamp": "2026-01-01T00:00:00Z", "vcs": vcs,
            "files": [{"path": "a.txt", "conversations": [{"contributor": {"type": "ai"}, "ranges": [{"start_line": 1, "end_line": 3}]}]}]})
        .to_string()
    };
    let lines = [
        trace("0.2.0", json!({"type": "git", "revision": newer})),
        trace("0.1.0", Value::Null),
        trace("0.1.0", json!({"type": "jj", "revision": "kkmpptxz"})),
        trace("0.1.0", json!({"type": "git", "revision": "2".repeat(40)})),
    ];
    repo.write(".agent-trace/traces.jsonl", lines.join("\n"));
    repo.commit("traces");
    // Keys the metadata lacks (git-ai writes such notes): an AI key's lines
    // count as AI by an unknown tool, a human key's do not.
    repo.write("c.txt", numbered(10, "c"));
    let undeclared = repo.commit("c");
    let text = legacy_note(&undeclared, "c.txt")
        .replace("abcd1234abcd1234 1-10,15-20", "ffff0000ffff0000 1-4")
        .replace("ef0b5678ef0b5678 25,30-35", "h_0000000000aaaa 5-10");
    note(&repo, &undeclared, &text);

    let doc = input(&repo, &base);
    assert!(commit(&doc, &newer)["ai"].get("lines").is_none());
    assert!(commit(&doc, &copied)["ai"].get("lines").is_none());
    let (code, report) = repo.check_json(&["--base", &base]);
    let text = notes(&report);
    assert!(text.contains("authorship/4.0.0"), "{text}");
    assert!(
        text.contains("computed for commit \\\"1111111111111111111111111111111111111111\\\""),
        "{text}"
    );
    assert!(text.contains("version \\\"0.2.0\\\""), "{text}");
    assert!(
        text.contains("2 trace record(s) name no git revision"),
        "{text}"
    );
    assert!(
        text.contains("2222222222222222222222222222222222222222"),
        "{text}"
    );
    assert!(
        text.contains(
            "2 attestation key(s) are not in its metadata (\\\"ffff0000ffff0000\\\", \\\"h_0000000000aaaa\\\")"
        ),
        "{text}"
    );
    let u = commit(&doc, &undeclared);
    assert_eq!(
        u["ai"]["lines"],
        json!({"ai": 4, "by_tool": {"unknown": 4}, "sources": ["git-ai-note"]})
    );
    assert_eq!(u["ai"]["tools"], json!([]));
    assert!(
        !ids(&report).contains(&"GOV-INPUT-001".to_string()),
        "{report}"
    );
    assert!(code == 0 || code == 1, "{code}");
}

/// A malformed note or trace record is a GOV-INPUT-001 finding naming the
/// notes ref (and line) or the trace file and line; the commit then has no
/// line data, so its rules count every line.
#[test]
fn malformed_notes_and_traces_are_input_findings() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    let mut shas = Vec::new();
    let bad = |sha: &str| -> Vec<String> {
        let good = legacy_note(sha, "f.txt");
        vec![
            "f.txt\n  abcd1234abcd1234 1-10\n".to_string(),
            good.replace("1-10,15-20", "10-2"),
            good.replace("abcd1234abcd1234 1-10", "s_c9883b05a2487d 1-10"),
            good.replace("\"schema_version\": \"authorship/3.0.0\",", ""),
            good.replace("  \"prompts\": {", "  \"prompts\": {{"),
            good.replace("  abcd1234abcd1234", "   abcd1234abcd1234"),
            good.replace("f.txt\n", ""),
        ]
    };
    for i in 0..7 {
        repo.write("f.txt", numbered(20 + i, "f"));
        let sha = repo.commit(&format!("f {i}"));
        note(&repo, &sha, &bad(&sha)[i]);
        shas.push(sha);
    }
    repo.write(
        ".agent-trace/traces.jsonl",
        "{\"version\": \"0.1.0\", \"id\": \"x\", \"timestamp\": \"t\", \"files\": [\n\
         {\"version\": \"0.1.0\", \"id\": \"x\", \"timestamp\": \"t\", \"files\": [{\"path\": \"f.txt\", \"conversations\": [{\"ranges\": [{\"start_line\": 0, \"end_line\": 1}]}]}]}\n\
         {\"version\": \"one\", \"id\": \"x\", \"timestamp\": \"t\", \"files\": []}\n",
    );
    repo.commit("traces");

    let doc = input(&repo, &base);
    for sha in &shas {
        assert!(commit(&doc, sha)["ai"].get("lines").is_none(), "{sha}");
    }
    let (_, report) = repo.check_json(&["--base", &base]);
    let found = findings(&report, "GOV-INPUT-001");
    let on_notes: Vec<&&Value> = found
        .iter()
        .filter(|f| f["message"].as_str().unwrap().starts_with("refs/notes/ai"))
        .collect();
    assert_eq!(on_notes.len(), 7, "{found:#?}");
    for sha in &shas {
        assert!(
            on_notes.iter().any(|f| f["commit"] == sha.as_str()),
            "no finding for {sha}: {found:#?}"
        );
    }
    let messages: String = found
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(messages.contains("no `---` line"), "{messages}");
    assert!(messages.contains("\"10-2\""), "{messages}");
    assert!(messages.contains("is not SESSION::TRACE"), "{messages}");
    assert!(messages.contains("no schema_version"), "{messages}");
    assert!(messages.contains("not JSON"), "{messages}");
    assert!(messages.contains("exactly two spaces"), "{messages}");
    assert!(messages.contains("before any file path"), "{messages}");
    let on_traces: Vec<&&Value> = found
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .starts_with(".agent-trace/traces.jsonl")
        })
        .collect();
    assert_eq!(on_traces.len(), 3, "{found:#?}");
    let lines: Vec<i64> = on_traces
        .iter()
        .filter_map(|f| f["line"].as_i64())
        .collect();
    assert_eq!(lines, vec![1, 2, 3], "{on_traces:#?}");
}

/// Notes belong to one commit each: a note on a commit before the range is
/// not read for the range, even when it names the range's files.
#[test]
fn a_note_on_a_commit_outside_the_range_is_ignored() {
    let repo = Repo::new();
    repo.write("f.txt", numbered(30, "f"));
    let base = repo.commit("base");
    note(&repo, &base, &legacy_note(&base, "f.txt"));
    repo.write("f.txt", numbered(40, "f"));
    let sha = repo.commit("grow f");
    let doc = input(&repo, &base);
    assert!(commit(&doc, &sha)["ai"].get("lines").is_none());
    assert_eq!(doc["changes"]["ai_lines"], Value::Null);
    assert_eq!(doc["attribution"]["notes"], json!([]));
}

/// A merge is charged with its own change (the remerge diff): a clean
/// merge with a note has no files, so zero AI lines; a merge that resolves
/// a conflict with AI has the lines of its resolution.
#[test]
fn merges_count_their_own_lines_only() {
    let repo = Repo::new();
    repo.write("conf.txt", "a\nb\nc\n");
    repo.write("other.txt", "o\n");
    let base = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("conf.txt", "a\nfeature\nc\n");
    repo.commit("feature side");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("conf.txt", "a\nmain\nc\n");
    repo.write("more.txt", numbered(20, "more"));
    repo.commit("main side");
    repo.git(&["checkout", "-q", "feature"]);
    // A conflicting merge, resolved (as an AI would) with two new lines.
    let out = crate::repo::git_command(&repo.path())
        .args(["merge", "-q", "main"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the merge should conflict");
    repo.write("conf.txt", "a\nfeature and main\nresolved\nc\n");
    let resolved = repo.commit("Merge main: resolve conf.txt");
    note(
        &repo,
        &resolved,
        &legacy_note(&resolved, "conf.txt").replace("1-10,15-20", "2-3"),
    );
    // A clean merge whose note claims the lines its parent brought.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("late.txt", numbered(10, "late"));
    repo.commit("main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);
    let clean = repo.git(&["rev-parse", "HEAD"]);
    note(&repo, &clean, &legacy_note(&clean, "late.txt"));

    let doc = input(&repo, &base);
    let r = commit(&doc, &resolved);
    assert_eq!(file(r, "conf.txt")["ai_lines"], 2, "{r}");
    assert_eq!(r["ai"]["lines"]["ai"], 2);
    let c = commit(&doc, &clean);
    assert_eq!(c["files"], json!([]), "{c}");
    assert_eq!(c["ai"]["lines"]["ai"], 0, "{c}");
    assert_eq!(c["ai"]["assisted"], false, "{c}");
    // Its note's lines are in a file it does not change itself: said.
    let notes = doc["attribution"]["notes"].to_string();
    assert!(
        notes.contains("in 1 file(s) the commit does not change (\\\"late.txt\\\")"),
        "{notes}"
    );
}

/// The rules, end to end: an AI squash whose note puts every AI line in
/// tests does not trip the protected workflow a human edited in it; the
/// same commit without its note does; and GOV-AI-006 asks for line
/// provenance where the config requires it.
#[test]
fn rules_count_ai_written_lines() {
    let repo = Repo::new();
    repo.write(".github/workflows/ci.yml", "on: push\njobs: {}\n");
    repo.write("tests/t.rs", "// tests\n");
    repo.write(
        ".govops.yaml",
        "version: 1\nai:\n  require_line_provenance: [\"services/payments/**\"]\n",
    );
    let base = repo.commit("base");
    repo.write(
        ".github/workflows/ci.yml",
        "on: [push, pull_request]\njobs: {}\n",
    );
    repo.write("tests/t.rs", numbered(30, "// test"));
    let squash = repo.commit(
        "squash: tests and the CI trigger\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\n",
    );
    let (_, report) = repo.check_json(&["--base", &base]);
    assert!(
        ids(&report).contains(&"GOV-BLAST-001".to_string()),
        "{report}"
    );
    note(
        &repo,
        &squash,
        &legacy_note(&squash, "tests/t.rs").replace("1-10,15-20", "1-30"),
    );
    let (_, report) = repo.check_json(&["--base", &base]);
    assert!(
        !ids(&report).contains(&"GOV-BLAST-001".to_string()),
        "{report}"
    );
    // The note says AI wrote a line of the workflow: flagged again.
    let both = legacy_note(&squash, "tests/t.rs")
        .replace("1-10,15-20", "1-30")
        .replacen(
            "tests/t.rs\n",
            ".github/workflows/ci.yml\n  abcd1234abcd1234 1\ntests/t.rs\n",
            1,
        );
    note(&repo, &squash, &both);
    let (_, report) = repo.check_json(&["--base", &base]);
    assert_eq!(findings(&report, "GOV-BLAST-001").len(), 1, "{report}");

    repo.write("services/payments/refund.go", numbered(5, "// refund"));
    let pay = repo.commit("refunds\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\n");
    let (_, report) = repo.check_json(&["--base", &base]);
    let f = findings(&report, "GOV-AI-006");
    assert_eq!(f.len(), 1, "{report}");
    assert_eq!(f[0]["commit"], pay.as_str());
    note(
        &repo,
        &pay,
        &legacy_note(&pay, "services/payments/refund.go").replace("1-10,15-20", "1-5"),
    );
    let (_, report) = repo.check_json(&["--base", &base]);
    assert!(findings(&report, "GOV-AI-006").is_empty(), "{report}");
}

/// A note larger than limits.max_file_bytes is a finding, and is not read:
/// the run's memory stays far under the note's size.
#[test]
fn a_huge_note_is_a_finding_not_a_read() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    repo.write("a.txt", "a\n");
    let sha = repo.commit("a");
    // 64 MiB of one repeated attestation line, stored as a note blob.
    let path = repo.path().join(".git/HUGE_NOTE");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"a.txt\n").unwrap();
        let line = b"  abcd1234abcd1234 1-1\n";
        for _ in 0..(64 << 20) / line.len() {
            f.write_all(line).unwrap();
        }
    }
    let blob = repo.git(&["hash-object", "-w", path.to_str().unwrap()]);
    std::fs::remove_file(&path).unwrap();
    repo.git(&["notes", "--ref=ai", "add", "-C", &blob, &sha]);
    let (run, report) = repo.check_json_run(&["--base", &base]);
    let found = findings(&report, "GOV-INPUT-001");
    assert_eq!(found.len(), 1, "{report}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(message.contains("over limits.max_file_bytes"), "{message}");
    assert_eq!(found[0]["commit"], sha.as_str());
    eprintln!(
        "huge note: {:?}, peak {} MiB",
        run.elapsed,
        run.peak_kib / 1024
    );
    run.assert_bounded(20, 48);
}

/// A note of a million ranges (under the size limit) is read in time
/// linear in its size.
#[test]
fn a_note_with_a_million_ranges_is_linear() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    repo.write("a.txt", numbered(2_000_000, "a"));
    let sha = repo.commit("two million lines");
    let ranges: Vec<String> = (0..1_000_000u64).map(|i| (2 * i + 1).to_string()).collect();
    let text = legacy_note(&sha, "a.txt").replace("1-10,15-20", &ranges.join(","));
    let path = repo.path().join(".git/BIG_NOTE");
    std::fs::write(&path, &text).unwrap();
    repo.git(&[
        "notes",
        "--ref=ai",
        "add",
        "-F",
        path.to_str().unwrap(),
        &sha,
    ]);
    let (run, report) = repo.check_json_run(&["--base", &base, "--dump-input"]);
    let _ = report;
    let doc: Value = serde_json::from_str(&run.stdout()).unwrap();
    // The million odd lines of abcd..., and 25 and 30-35 of ef0b....
    assert_eq!(commit(&doc, &sha)["ai"]["lines"]["ai"], 1_000_003);
    eprintln!(
        "million ranges ({} bytes): {:?}, peak {} MiB",
        text.len(),
        run.elapsed,
        run.peak_kib / 1024
    );
    run.assert_bounded(60, 400);
}

/// A note and a trace record of the same commit add up: a line both name
/// counts once, and both sources are listed.
#[test]
fn a_note_and_a_trace_of_one_commit_are_merged() {
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    let base = repo.commit("base");
    repo.write("f.txt", numbered(100, "f"));
    let sha = repo.commit("f");
    // The note: 1-10, 15-20, 25, 30-35 (cursor); the trace: 30-49 (claude-code).
    note(&repo, &sha, &legacy_note(&sha, "f.txt"));
    let record = json!({"version": "0.1.0", "id": "x", "timestamp": "2026-01-01T00:00:00Z",
        "vcs": {"type": "git", "revision": sha}, "tool": {"name": "claude-code"},
        "files": [{"path": "f.txt", "conversations": [{"contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-6"}, "ranges": [{"start_line": 30, "end_line": 49}]}]}]});
    repo.write(".agent-trace/traces.jsonl", format!("{record}\n"));
    repo.commit("traces");
    let doc = input(&repo, &base);
    let c = commit(&doc, &sha);
    assert_eq!(
        c["ai"]["lines"],
        json!({"ai": 37, "by_tool": {"claude-code": 20, "cursor": 23}, "sources": ["agent-trace", "git-ai-note"]}),
        "{c}"
    );
}

/// The notes and the trace file read in one run share a byte budget
/// (limits.max_total_bytes): past it, each further note is a finding, not
/// read, and its commit has no line data.
#[test]
fn line_records_share_a_byte_budget() {
    let repo = Repo::new();
    repo.write(
        ".govops.yaml",
        "version: 1\nlimits:\n  max_total_bytes: 2500\n",
    );
    let base = repo.commit("base");
    let mut shas = Vec::new();
    for i in 0..3 {
        repo.write(&format!("f{i}.txt"), numbered(40, "f"));
        let sha = repo.commit(&format!("f{i}"));
        note(&repo, &sha, &legacy_note(&sha, &format!("f{i}.txt")));
        shas.push(sha);
    }
    let doc = input(&repo, &base);
    assert_eq!(commit(&doc, &shas[0])["ai"]["lines"]["ai"], 23);
    assert!(commit(&doc, &shas[2])["ai"].get("lines").is_none());
    let errors = doc["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["commit"] == shas[2].as_str()
            && e["message"]
                .as_str()
                .unwrap()
                .contains("limits.max_total_bytes")),
        "{errors:?}"
    );
}

/// `ai.agent_trace` names where the trace file is; a path out of the
/// repository is a config error; a trace file over limits.max_file_bytes is
/// a finding naming it, not read.
#[test]
fn the_trace_file_is_where_config_says_and_bounded() {
    let repo = Repo::new();
    repo.write(
        ".govops.yaml",
        "version: 1\nai:\n  agent_trace: traces/ai.jsonl\nlimits:\n  max_file_bytes: 4000\n",
    );
    let base = repo.commit("base");
    repo.write("f.txt", numbered(10, "f"));
    let sha = repo.commit("f");
    let record = |sha: &str| {
        json!({"version": "0.1.0", "id": "x", "timestamp": "2026-01-01T00:00:00Z",
            "vcs": {"type": "git", "revision": sha}, "tool": {"name": "Cursor"},
            "files": [{"path": "f.txt", "conversations": [{"contributor": {"type": "ai"}, "ranges": [{"start_line": 1, "end_line": 4}]}]}]})
        .to_string()
    };
    // At the default path: not read.
    repo.write(".agent-trace/traces.jsonl", record(&sha));
    repo.write("traces/ai.jsonl", record(&sha));
    repo.commit("traces");
    let doc = input(&repo, &base);
    assert_eq!(
        commit(&doc, &sha)["ai"]["lines"],
        json!({"ai": 4, "by_tool": {"cursor": 4}, "sources": ["agent-trace"]})
    );
    // Over the size limit: a finding on the file.
    repo.write("traces/ai.jsonl", vec![record(&sha); 20].join("\n"));
    repo.commit("more traces");
    let doc = input(&repo, &base);
    assert!(commit(&doc, &sha)["ai"].get("lines").is_none());
    let errors = doc["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["file"] == "traces/ai.jsonl"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("limits.max_file_bytes")),
        "{errors:?}"
    );
    // Out of the repository: the config is refused, naming line and key.
    repo.write(
        ".govops.yaml",
        "version: 1\nai:\n  agent_trace: ../x.jsonl\n",
    );
    let run = repo.govops(&["config", "validate"]);
    assert_ne!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    assert!(
        (run.stdout() + &run.stderr()).contains(":3: ai.agent_trace"),
        "{}{}",
        run.stdout(),
        run.stderr()
    );
}
