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
    let repo = Repo::with_main(&[("app/a.txt", "a\n")]);
    let base = repo.git(&["rev-parse", "HEAD"]);
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
    let repo = Repo::with_main(&[("app/conf.txt", "one\ntwo\nthree\n")]);
    let base = repo.git(&["rev-parse", "HEAD"]);
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

fn tools(c: &Value) -> Vec<(String, Value)> {
    c["ai"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tool"].as_str().unwrap().to_string(), t["model"].clone()))
        .collect()
}

/// What counts as AI authorship: a committer suffix alone does not (it is
/// recorded); indented co-author lines of a squash do; every model of a
/// commit is kept; an agent's own name at the vendor's address is no model.
#[test]
fn what_counts_as_ai_authorship() {
    let repo = Repo::new();
    repo.write("a.txt", "0\n");
    repo.commit("base");
    let base = repo.git(&["rev-parse", "HEAD"]);
    // aider committed the human's dirty files: only the committer is suffixed.
    repo.git(&["config", "user.name", "Ada Lovelace (aider)"]);
    repo.write("a.txt", "1\n");
    let dirty = repo.commit_as("Ada Lovelace", "ada@example.com", "Update a.txt");
    repo.git(&["config", "user.name", "Ada Lovelace"]);
    repo.write("a.txt", "2\n");
    let squash = repo.commit(
        "Squashed commit of the following:\n\ncommit 1234\n    Add retry\n    \n    Co-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>\n",
    );
    repo.write("a.txt", "3\n");
    let two = repo.commit(
        "Two models\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\nCo-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>\n",
    );
    repo.write("a.txt", "4\n");
    let mayor = repo.commit("Agent work\n\nCo-Authored-By: mayor <noreply@anthropic.com>\n");
    let input = input(&repo, &base);

    let c = commit(&input, &dirty);
    assert_eq!(c["ai"]["assisted"], false, "{}", c["ai"]);
    assert_eq!(c["ai"]["committed_by"][0]["tool"], "aider", "{}", c["ai"]);
    assert_eq!(
        c["ai"]["committed_by"][0]["evidence"][0]["source"],
        "committer"
    );

    let c = commit(&input, &squash);
    assert_eq!(
        tools(c),
        [("claude-code".to_string(), "Claude Sonnet 4.5".into())],
        "{}",
        c["ai"]
    );

    let c = commit(&input, &two);
    assert_eq!(
        c["ai"]["tools"][0]["models"],
        serde_json::json!(["Claude Opus 4.6", "Claude Sonnet 4.5"])
    );

    let c = commit(&input, &mayor);
    assert_eq!(tools(c), [("claude-code".to_string(), Value::Null)]);
    assert_eq!(c["ai"]["tools"][0]["models"], serde_json::json!([]));
}

/// Every convention of the issue, as the tool writes it: (author name,
/// author email, message, tool, model).
const CONVENTIONS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("Ada", "ada@example.com", "x\n\nCo-authored-by: Codex <noreply@openai.com>\n", "codex", None),
    ("Ada", "ada@example.com", "x\n\nCo-authored-by: codex <codex@openai.com>\n", "codex", None),
    ("Ada", "ada@example.com", "x\n\nCo-authored-by: aider (gpt-4o) <noreply@aider.chat>\n", "aider", Some("gpt-4o")),
    ("Ada", "ada@example.com", "x\n\nCo-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>\n", "copilot", None),
    ("Ada", "ada@example.com", "x\n\nCo-Authored-By: Claude Code <claude@anthropic.com>\n", "claude-code", None),
    ("claude[bot]", "209825114+claude[bot]@users.noreply.github.com", "x\n", "claude-code", None),
    ("claude-code-action[bot]", "1+claude-code-action[bot]@users.noreply.github.com", "x\n", "claude-code", None),
    ("Ada", "ada@example.com", "x\n\nMade-with: Cursor\n", "cursor", None),
    ("Cursor Agent", "cursoragent@cursor.com", "x\n", "cursor", None),
    ("Ada", "ada@example.com", "x\n\n🤖 Generated with [opencode](https://opencode.ai)\n", "opencode", None),
    ("Ada", "ada@example.com", "x\n\nCo-Authored-By: opencode <noreply@opencode.ai>\n", "opencode", None),
    ("opencode-agent[bot]", "2+opencode-agent[bot]@users.noreply.github.com", "x\n", "opencode", None),
    ("Ada", "ada@example.com", "x\n\nCo-authored-by: Qwen-Coder <qwen-coder@alibabacloud.com>\n", "qwen-code", None),
    ("openhands", "openhands@all-hands.dev", "x\n", "openhands", None),
    ("Ada", "ada@example.com", "x\n\n💘 Generated with Crush\n\nAssisted-by: Crush:glm-5\n", "crush", Some("glm-5")),
    ("Ada", "ada@example.com", "x\n\nCo-Authored-By: Crush <crush@charm.land>\n", "crush", None),
    ("Ada", "ada@example.com", "x\n\nCo-Authored-By: Warp <agent@warp.dev>\n", "warp", None),
    ("Ada", "ada@example.com", "x\n\nCo-authored-by: Junie <junie@jetbrains.com>\n", "junie", None),
    ("jetbrains-ai[bot]", "3+jetbrains-ai[bot]@users.noreply.github.com", "x\n", "junie", None),
    ("cline[bot]", "4+cline[bot]@users.noreply.github.com", "x\n", "cline", None),
    ("Ada", "ada@example.com", "x\n\n🤖 Generated with [Firebender](https://firebender.com)\n\nCo-Authored-By: Firebender <help@firebender.com>\n", "firebender", None),
    ("Ada", "ada@example.com", "x\n\nReplit-Commit-Author: Agent\nReplit-Commit-Session-Id: 5a1e\n", "replit", None),
    ("Ada", "ada@example.com", "x\n\nEntire-Agent: Claude Code\nEntire-Checkpoint: a3b2c4d5e6f7\n", "claude-code", None),
    ("Ada", "ada@example.com", "x\n\nAgent-Signature: gpt-5.6 on behalf of Ada\n", "unknown", Some("gpt-5.6")),
    ("Ada", "ada@example.com", "x\n\nCo-Authored-By: Amp <amp@ampcode.com>\nAmp-Thread-ID: https://ampcode.com/threads/T-1\n", "amp", None),
];

#[test]
fn every_convention_of_the_issue_is_recognised() {
    let repo = Repo::new();
    repo.write("a.txt", "0\n");
    repo.commit("base");
    let base = repo.git(&["rev-parse", "HEAD"]);
    let mut shas = Vec::new();
    for (i, (name, email, message, _, _)) in CONVENTIONS.iter().enumerate() {
        repo.write("a.txt", format!("{i}\n"));
        shas.push(repo.commit_as(name, email, message));
    }
    let input = input(&repo, &base);
    let mut wrong = Vec::new();
    for (sha, (name, email, message, tool, model)) in shas.iter().zip(CONVENTIONS) {
        let c = commit(&input, sha);
        let want = vec![(tool.to_string(), model.map_or(Value::Null, Value::from))];
        if tools(c) != want {
            wrong.push(format!("{name} <{email}> {message:?}: {:?}", tools(c)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A team extends the table without a release: in its config, or in a file
/// the config names, read from the base like all policy and in the digest.
#[test]
fn a_team_adds_identities_in_its_config_or_a_file() {
    for inline in [true, false] {
        let repo = Repo::new();
        let entry = "- id: house-agent\n  names: [house agent]\n  identities:\n    - {email: agent@corp.example, model: parens}\n";
        if inline {
            let indented: String = entry.lines().map(|l| format!("    {l}\n")).collect();
            repo.write(
                ".govops.yaml",
                format!("version: 1\nai:\n  identities:\n{indented}"),
            );
        } else {
            repo.write(
                ".govops.yaml",
                "version: 1\nai:\n  identities: policy/ai-identities.yaml\n",
            );
            repo.write("policy/ai-identities.yaml", format!("tools:\n{entry}"));
        }
        repo.commit("policy");
        let base = repo.git(&["rev-parse", "HEAD"]);
        repo.write("a.txt", "1\n");
        let sha = repo.commit("x\n\nCo-authored-by: House Agent (o5) <agent@corp.example>\n");
        let input = input(&repo, &base);
        let c = commit(&input, &sha);
        assert_eq!(
            tools(c),
            [("house-agent".to_string(), "o5".into())],
            "inline {inline}"
        );
        let files: Vec<&str> = input["policy"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            files.contains(&"policy/ai-identities.yaml"),
            !inline,
            "{files:?}"
        );
    }
}

/// A named identity file that is missing or malformed stops the run with
/// its name, never a silent pass with the built-in table.
#[test]
fn a_bad_identity_file_is_named() {
    let repo = Repo::new();
    repo.write(
        ".govops.yaml",
        "version: 1\nai:\n  identities: ai-ids.yaml\n",
    );
    repo.write("ai-ids.yaml", "tools:\n  - {id: x, colour: red}\n");
    repo.commit("policy");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.write("a.txt", "1\n");
    repo.commit("x");
    let run = repo.govops(&["check", "--base", &base]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("ai-ids.yaml"), "{}", run.stderr());
    repo.write(".govops.yaml", "version: 1\nai:\n  identities: gone.yaml\n");
    repo.commit("policy 2");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.write("a.txt", "2\n");
    repo.commit("y");
    let run = repo.govops(&["check", "--base", &base]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("gone.yaml"), "{}", run.stderr());
}
