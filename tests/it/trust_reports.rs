//! Reports under hostile repository text and at GitHub's limits: every
//! repository-controlled string escaped for its medium (issue #12 item 13),
//! and every report within what its consumer accepts (issue #14).

use crate::repo::{deployment, Repo};

/// Everything a repository can put in a string that a report medium could
/// act on: every C0 control, DEL, C1 (incl. the 8-bit CSI), line breaks that
/// start Markdown blocks and workflow commands, markup, links, images,
/// autolinks, code fences, table pipes, mentions, Trojan Source characters,
/// and text that looks like an escape already.
fn corpus() -> String {
    let mut s: String = (0u8..0x20).map(char::from).collect();
    s.push_str("\x7f\u{85}\u{9b}31m\u{9d}0;t\u{9c}");
    s.push_str("\r## pwn <img src=x onerror=alert(1)>\n::error file=x,line=1::pwn\r\n");
    s.push_str("%0A::warning::pwn %25 ](http://x) ![i](http://evil/i.png) [l](1) ");
    s.push_str("<http://x> ``` `code` | a | b | @acme/admins &lt; *e* _u_ ~~s~~ ");
    s.push_str(
        "\u{202e}drow\u{202c} \u{2066}iso\u{2069} \u{200b}\u{2028}\u{feff}\u{fffe} \\xff \\n",
    );
    s
}

/// A file name with as much of the corpus as a file system allows.
fn hostile_file() -> String {
    "deploy/dev/e\x1b]0;t\x07 \r\n::error::pwn |`<img src=x>`](http:x) %0A #?\u{202e}.yaml".into()
}

/// A repository whose findings carry the corpus everywhere: a team rule
/// (a Rego-produced message, file and id), a waiver's reason, an object's
/// name and file name, and an AI-assisted commit's subject.
fn hostile_repo() -> Repo {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    let lit = serde_json::to_string(&corpus()).unwrap();
    repo.write(
        "policy/hostile.rego",
        format!(
            "package govops.rules.hostile\nimport rego.v1\n\
             deny contains f if {{\n  f := {{\"id\": \"ACME-HOST-001\", \"message\": {lit}, \"file\": {file}, \"line\": 2}}\n}}\n\
             deny contains f if {{\n  f := {{\"id\": \"ACME-HOST-001\", \"message\": concat(\" \", [\"waived\", {lit}]), \"file\": \"waived/x.yaml\"}}\n}}\n\
             deny contains f if {{\n  f := {{\"id\": \"ACME-HOST-002\", \"message\": {lit}}}\n}}\n",
            file = serde_json::to_string(&format!("w/{}", corpus().replace('\0', ""))).unwrap()
        ),
    );
    // YAML takes only printable characters raw: everything else as \u escapes.
    let reason: String = corpus()
        .chars()
        .map(|c| match c {
            '"' | '\\' => format!("\\{c}"),
            ' '..='~' => c.to_string(),
            c => format!("\\U{:08x}", c as u32),
        })
        .collect();
    let reason = format!("\"{reason}\"");
    repo.write(
        ".govops.yaml",
        format!(
            "version: 1\npolicy: [policy]\nwaivers:\n  - {{rule: ACME-HOST-001, path: 'waived/*', reason: {reason}, owner: ops@example.com, expires: 2099-01-01}}\n"
        ),
    );
    repo.commit("Hostile rules");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    // YAML's double-quoted escapes carry ESC, BEL, CR, LF and bidi into a name.
    let name = "\"x\\e]0;t\\a\\r## pwn <img src=x>\\n::error::pwn |`c`](http://x) \\u202e\"";
    repo.write(
        &hostile_file(),
        deployment("worker", "dev")
            .replace("  name: worker\n", &format!("  name: {name}\n"))
            .replace("    owner: team-a\n", ""),
    );
    repo.commit(
        "Add \x1b[31mred\x07 \r## pwn <img src=x> \u{202e}txt\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n",
    );
    repo
}

/// A character no report may carry raw: C0 but LF, DEL, C1, and the format
/// characters that reorder or hide text.
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

fn assert_clean(what: &str, text: &str) {
    if let Some((i, c)) = text.char_indices().find(|(_, c)| forbidden(*c)) {
        let around: String = text[..i]
            .chars()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .chain(text[i..].chars().take(20))
            .collect();
        panic!("{what}: raw {c:?} at byte {i}: {around:?}");
    }
}

/// No line of a report may start with `::` (a workflow command in an
/// Actions log) unless the report is the `github` format, whose lines are
/// checked separately.
fn assert_no_command_lines(what: &str, text: &str) {
    for line in text.lines() {
        assert!(!line.trim_start().starts_with("::"), "{what}: {line:?}");
    }
}

fn check(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> crate::repo::Run {
    let mut all = vec!["check", "--now", "2026-11-21T12:00:00Z"];
    all.extend_from_slice(args);
    let run = repo.govops_env(&all, env);
    assert_eq!(run.code(), 1, "{}{}", run.stdout(), run.stderr());
    run
}

#[test]
fn hostile_text_is_escaped_in_every_format() {
    let repo = hostile_repo();
    // The corpus reached the findings (else this test proves nothing).
    let (_, report) = repo.check_json(&[]);
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains('\x1b') && m.contains('\r')),
        "{report:#}"
    );
    assert!(messages.iter().any(|m| m.contains("<img")), "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["status"] == "waived"),
        "{report:#}"
    );

    // human, not a terminal and forced colour alike
    for color in ["never", "always"] {
        let run = check(&repo, &["--color", color, "--verbose"], &[]);
        let out = run.stdout();
        let plain = if color == "always" {
            strip_sgr(&out)
        } else {
            out.clone()
        };
        assert_clean(&format!("human --color {color}"), &plain);
        assert_no_command_lines("human", &out);
        assert!(
            plain.contains("\\x1b]0;t\\x07"),
            "visible, not dropped: {plain}"
        );
        assert!(plain.contains("\\u{202e}"), "{plain}");
    }

    // markdown, and the step summary
    let run = check(&repo, &["--format", "markdown"], &[]);
    assert_markdown_safe("markdown", &run.stdout());
    let summary = repo.path().join(".git/summary.md");
    let env = [
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/deploy"),
    ];
    let run = check(&repo, &["--format", "github"], &env);
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert_markdown_safe("step summary", &summary);
    assert!(
        summary.contains("](https://github.com/acme/deploy/blob/"),
        "{summary}"
    );

    // github workflow commands
    let out = run.stdout();
    assert_clean("github", &out);
    for line in out.lines() {
        let Some(rest) = line.strip_prefix("::") else {
            assert!(line.starts_with("govops: "), "{line:?}");
            continue;
        };
        let (command, message) = rest.split_once("::").expect("a command has a message");
        let (name, props) = command.split_once(' ').unwrap_or((command, ""));
        assert!(matches!(name, "error" | "warning" | "notice"), "{line:?}");
        for prop in props.split(',') {
            let (key, value) = prop.split_once('=').unwrap();
            assert!(matches!(key, "file" | "line" | "col" | "title"), "{line:?}");
            assert!(!value.contains([':', ',']), "{line:?}");
        }
        assert!(
            !message.contains("%0A") && !message.contains("%0D"),
            "{line:?}"
        );
    }

    // SARIF: URIs are RFC 3986 references, messages cannot embed links
    let sarif = repo.path().join(".git/out.sarif");
    check(
        &repo,
        &["--report", &format!("sarif:{}", sarif.display())],
        &[],
    );
    crate::repo::validate_sarif(&sarif);
    let text = std::fs::read_to_string(&sarif).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    for result in doc["runs"][0]["results"].as_array().unwrap() {
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)),
            "{uri}"
        );
        let message = result["message"]["text"].as_str().unwrap();
        assert_clean("sarif message", message);
        let bytes = message.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'[' || *b == b']' {
                let slashes = bytes[..i].iter().rev().take_while(|c| **c == b'\\').count();
                assert!(slashes % 2 == 1, "unescaped bracket in {message:?}");
            }
        }
        for s in result["suppressions"].as_array().into_iter().flatten() {
            assert_clean("sarif justification", s["justification"].as_str().unwrap());
        }
    }

    // JUnit: well-formed XML 1.0 with nothing raw
    let run = check(&repo, &["--format", "junit"], &[]);
    let xml = run.stdout();
    assert_clean("junit", &xml);
    quick_junit::Report::deserialize_from_str(&xml).expect("well-formed JUnit XML");
}

/// Markdown that no repository text can restyle: every line one of ours,
/// tables with exactly their cells, no raw `<`, image or link of theirs.
fn assert_markdown_safe(what: &str, md: &str) {
    assert_clean(what, md);
    for line in md.lines() {
        let ours = line.is_empty()
            || line.starts_with("## govops: ")
            || line.starts_with("Checked ")
            || line.starts_with("| ")
            || line.starts_with("|---")
            || line.starts_with("**")
            || line.starts_with("- ")
            || line.starts_with("> ");
        assert!(ours, "{what}: a line that is not ours: {line:?}");
        if line.starts_with("| ") {
            let raw_pipes = line
                .char_indices()
                .filter(|(i, c)| *c == '|' && !line[..*i].ends_with('\\'))
                .count();
            // The counts table has six cells, the findings table five.
            let counts = line.starts_with("| deny |")
                || line
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '|' || c == ' ');
            assert_eq!(raw_pipes, if counts { 7 } else { 6 }, "{what}: {line:?}");
        }
        for (i, _) in line.match_indices('<') {
            assert!(line[..i].ends_with('\\'), "{what}: raw < in {line:?}");
        }
        for (i, _) in line.match_indices("![") {
            assert!(line[..i].ends_with('\\'), "{what}: image in {line:?}");
        }
        for (i, _) in line.match_indices("](") {
            assert!(
                line[..i].ends_with('\\')
                    || line[i..].starts_with("](https://github.com/acme/deploy/blob/"),
                "{what}: link in {line:?}"
            );
        }
        assert!(!line.contains("@acme"), "{what}: a mention in {line:?}");
    }
}

/// Colour sequences (CSI ... m) removed; any other escape stays for
/// `assert_clean` to catch.
fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[end..].starts_with('m') {
            rest = &after[end + 1..];
        } else {
            out.push_str("\x1b[");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A repository whose team rule raises `n` findings: deny, review and warn in
/// turn, each on its own line of one file that exists.
fn many_findings_repo(n: usize) -> Repo {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".govops.yaml", "version: 1\npolicy: [policy]\n");
    repo.write(
        "policy/many.rego",
        format!(
            "package govops.rules.many\nimport rego.v1\n\
             deny contains f if {{\n  some i in numbers.range(1, {n})\n  i % 3 == 0\n  f := {{\"id\": \"ACME-MANY-001\", \"message\": sprintf(\"finding %d of many\", [i]), \"file\": \"README.md\", \"line\": i}}\n}}\n\
             review contains f if {{\n  some i in numbers.range(1, {n})\n  i % 3 == 1\n  f := {{\"id\": \"ACME-MANY-002\", \"message\": sprintf(\"finding %d of many\", [i]), \"file\": \"README.md\", \"line\": i}}\n}}\n\
             warn contains f if {{\n  some i in numbers.range(1, {n})\n  i % 3 == 2\n  f := {{\"id\": \"ACME-MANY-003\", \"message\": sprintf(\"finding %d of many\", [i]), \"file\": \"README.md\", \"line\": i}}\n}}\n"
        ),
    );
    repo.commit("Many rules");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.write("README.md", "# service\n\nMore.\n");
    repo.commit("Docs");
    repo
}

#[test]
fn every_report_stays_within_githubs_limits() {
    let n = 26_000;
    let repo = many_findings_repo(n);
    let sarif = repo.path().join(".git/out.sarif");
    let json = repo.path().join(".git/out.json");
    let junit = repo.path().join(".git/out.xml");
    let summary = repo.path().join(".git/summary.md");
    std::fs::write(&summary, "x".repeat(1000)).unwrap();
    let run = repo.govops_env(
        &[
            "check",
            "--format",
            "github",
            "--report",
            &format!("sarif:{}", sarif.display()),
            "--report",
            &format!("json:{}", json.display()),
            "--report",
            &format!("junit:{}", junit.display()),
        ],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    // Debug build, 26,000 findings through every format.
    run.assert_bounded(60, 1024);
    eprintln!(
        "{n} findings, every format: {:?}, {} MiB peak",
        run.elapsed,
        run.peak_kib / 1024
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), n);

    // SARIF: within 25,000 results, the most severe kept, the rest counted
    // in the run and on stderr, naming where the full list is.
    crate::repo::validate_sarif(&sarif);
    let text = std::fs::read_to_string(&sarif).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let run0 = &doc["runs"][0];
    let results = run0["results"].as_array().unwrap();
    assert!(results.len() <= 25_000, "{}", results.len());
    assert!(text.len() < 20 * 1024 * 1024, "{} bytes", text.len());
    let omitted = run0["properties"]["omittedResults"].as_u64().unwrap();
    let omitted = usize::try_from(omitted).unwrap();
    assert_eq!(results.len() + omitted, n);
    let rank = |r: &serde_json::Value| match r["level"].as_str().unwrap() {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    };
    assert!(results.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])));
    assert_eq!(
        results.iter().filter(|r| r["level"] == "error").count(),
        (1..=n).filter(|i| i % 3 == 0).count(),
        "every deny kept"
    );
    let note = run0["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(note.contains(&format!("{omitted} of {n}")), "{note}");
    assert!(note.contains(json.to_str().unwrap()), "{note}");
    assert!(
        run.stderr().contains(&format!("sarif: {omitted} of {n}")),
        "{}",
        run.stderr()
    );

    // Annotations: 10 errors, 10 warnings, then one notice for the rest.
    let out = run.stdout();
    let count = |p: &str| out.lines().filter(|l| l.starts_with(p)).count();
    assert_eq!(count("::error "), 10, "{out}");
    assert_eq!(count("::warning "), 10, "{out}");
    assert_eq!(count("::notice "), 1, "{out}");
    let last = out.lines().rev().nth(1).unwrap();
    assert!(
        last.starts_with(&format!(
            "::notice title=govops::{} more finding(s) not annotated",
            n - 20
        )),
        "{last}"
    );
    // Deny first.
    assert!(
        out.lines().next().unwrap().contains("title=ACME-MANY-001"),
        "{out}"
    );

    // Step summary: the file, with what was there before, within 1 MiB,
    // ending with what it left out and where.
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.len() <= 1024 * 1024, "{} bytes", md.len());
    assert!(md.len() > 512 * 1024, "uses its room: {} bytes", md.len());
    assert!(
        md.contains("more finding\\(s\\) not shown here"),
        "{}",
        &md[md.len() - 2000..]
    );

    // JUnit: one failure per open finding at or above --fail-on (review by
    // default), the warn findings skipped.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(parsed.failures, (1..=n).filter(|i| i % 3 != 2).count());
    assert_eq!(parsed.skipped, (1..=n).filter(|i| i % 3 == 2).count());
}

#[test]
fn human_report_groups_folds_and_caps() {
    let repo = many_findings_repo(3_000);
    let run = repo.govops(&["check", "--color", "never"]);
    assert_eq!(run.code(), 1);
    let out = run.stdout();
    assert!(out.len() < 64 * 1024, "{} bytes", out.len());
    assert!(
        out.contains("ACME-MANY-001: 1000 findings, 1000 open"),
        "{out}"
    );
    assert!(
        out.contains("... and 995 more ACME-MANY-001 findings"),
        "{out}"
    );
    assert!(
        out.contains("not shown (--verbose or --format json lists every one)"),
        "{out}"
    );
    // -q: the verdict and counts only.
    let run = repo.govops(&["check", "-q"]);
    assert_eq!(
        run.stdout(),
        "govops: FAIL: 1000 deny, 1000 review, 1000 warn open; 0 waived, 0 baselined, 0 approved\n"
    );
    // --verbose: every one.
    let run = repo.govops(&["check", "--color", "never", "--verbose"]);
    assert_eq!(run.stdout().matches("of many").count(), 3_000);

    // Two labels missing on one object fold into one block listing both.
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/worker.yaml",
        deployment("worker", "dev")
            .replace("    owner: team-a\n", "")
            .replace("    cost-center: cc-100\n", ""),
    );
    repo.commit("Worker");
    let run = repo.govops(&["check", "--color", "never"]);
    let out = run.stdout();
    assert!(out.contains("GOV-TAG-001: 2 findings, 2 open"), "{out}");
    assert_eq!(out.matches("[deploy/dev/worker.yaml:").count(), 1, "{out}");
    assert!(out.contains("1 more on this object"), "{out}");
    assert!(out.contains("1 folded into the block"), "{out}");
}

/// The SARIF results of a check, by message.
fn sarif_hashes(repo: &Repo) -> Vec<(String, String, u64)> {
    let sarif = repo.path().join(".git/out.sarif");
    let run = repo.govops(&["check", "--report", &format!("sarif:{}", sarif.display())]);
    crate::repo::validate_sarif(&sarif);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let mut out: Vec<(String, String, u64)> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["message"]["text"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sarif_fingerprints_are_stable_and_distinct() {
    let repo = Repo::gitops();
    let worker = deployment("worker", "dev")
        .replace("    owner: team-a\n", "")
        .replace("    cost-center: cc-100\n", "");
    repo.write("deploy/dev/worker.yaml", &worker);
    repo.commit("Worker");
    let before = sarif_hashes(&repo);
    let tags: Vec<_> = before
        .iter()
        .filter(|(m, _, _)| m.contains("has no label"))
        .collect();
    assert_eq!(tags.len(), 2, "{before:?}");
    assert_eq!(tags[0].2, tags[1].2, "both on the labels line");
    assert_ne!(
        tags[0].1, tags[1].1,
        "two labels missing on one line are two alerts"
    );
    // An unrelated line above the finding moves it, and keeps its identity.
    repo.write("deploy/dev/worker.yaml", format!("# the worker\n{worker}"));
    repo.commit("Comment");
    let after = sarif_hashes(&repo);
    let moved: Vec<_> = after
        .iter()
        .filter(|(m, _, _)| m.contains("has no label"))
        .collect();
    assert_eq!(moved[0].2, tags[0].2 + 1);
    assert_eq!(
        moved.iter().map(|t| &t.1).collect::<Vec<_>>(),
        tags.iter().map(|t| &t.1).collect::<Vec<_>>()
    );
}

#[test]
fn sarif_points_range_findings_at_files_that_exist() {
    // No config file: a finding about the range points at a changed file.
    let repo = Repo::gitops();
    for i in 0..12 {
        repo.write(
            &format!("deploy/dev/w{i}.yaml"),
            deployment(&format!("w{i}"), "dev"),
        );
    }
    repo.commit("Twelve workloads");
    let sarif = repo.path().join(".git/out.sarif");
    let run = repo.govops(&["check", "--report", &format!("sarif:{}", sarif.display())]);
    crate::repo::validate_sarif(&sarif);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let blast = results
        .iter()
        .find(|r| r["ruleId"] == "GOV-BLAST-004")
        .unwrap_or_else(|| panic!("{}{}", run.stdout(), run.stderr()));
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            repo.path().join(uri).is_file(),
            "{uri} does not exist: {blast:#}"
        );
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
}

#[test]
fn junit_failures_are_the_gates_open_findings() {
    let repo = Repo::gitops();
    repo.write(
        "deploy/dev/worker.yaml",
        deployment("worker", "dev").replace("    owner: team-a\n", ""),
    );
    repo.write(
        "deploy/prod/api.yaml",
        deployment("api", "prod").replace("replicas: 1", "replicas: 2"),
    );
    repo.commit("Worker and prod\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n");
    let (_, report) = repo.check_json(&["--fail-on", "never"]);
    let open = |at: &[&str]| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "open" && at.contains(&f["severity"].as_str().unwrap()))
            .count()
    };
    for (fail_on, at) in [
        ("deny", &["deny"][..]),
        ("review", &["deny", "review"][..]),
        ("warn", &["deny", "review", "warn"][..]),
        ("never", &[][..]),
    ] {
        let run = repo.govops(&["check", "--format", "junit", "--fail-on", fail_on]);
        let junit = quick_junit::Report::deserialize_from_str(&run.stdout()).unwrap();
        assert_eq!(
            junit.failures,
            open(at),
            "--fail-on {fail_on}: {}",
            run.stdout()
        );
        assert_eq!(run.code() == 1, open(at) > 0, "--fail-on {fail_on}");
    }
    assert!(
        open(&["review"]) > 0,
        "the range has a review finding: {report:#}"
    );
}
