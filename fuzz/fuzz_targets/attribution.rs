//! A git-ai note and an Agent Trace file are written by whoever pushed them:
//! any bytes. Their parsers and the counting built on them must never panic,
//! and a commit's AI lines stay within what it adds.
#![no_main]

use govops::collect::attribution::{agent_trace, apply, git_ai, Records};
use govops::collect::build_commit;
use govops::collect::git::RawCommit;
use govops::input::{FileChange, FileKind, FileStatus, Person};
use govops::provenance::IdentityTable;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static TABLE: OnceLock<IdentityTable> = OnceLock::new();
const SHA: &str = "0123456789012345678901234567890123456789";

fn file(path: &str, additions: u64) -> FileChange {
    FileChange {
        path: path.into(),
        old_path: None,
        status: FileStatus::Modified,
        kind: FileKind::File,
        additions,
        deletions: 0,
        binary: false,
        lines_counted: true,
        first_line: Some(1),
        ai_lines: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let table = TABLE.get_or_init(IdentityTable::builtin);
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            let _ = agent_trace::parse_record(line);
        }
    }
    let mut records = Records::new();
    let parents = vec!["1".repeat(40)];
    if git_ai::parse(table, SHA, &parents, data, &mut records).is_err() {
        assert!(records.is_empty(), "a malformed note left records");
    }
    let Some(rec) = records.remove(SHA) else {
        return;
    };
    let person = Person {
        name: "A".into(),
        email: "a@b".into(),
        time: "2026-01-01T00:00:00Z".into(),
    };
    let raw = RawCommit {
        sha: SHA.into(),
        parents,
        message: b"change".to_vec(),
        author: person.clone(),
        committer: person,
        files: vec![file("a", 10), file("src/main.rs", 1000), file("f", 3)],
    };
    let mut commit = build_commit(raw, table, &[], &mut Vec::new());
    let (n, _) = apply(&mut commit, rec);
    assert!(n <= 1013);
    for f in &commit.files {
        assert!(f.ai_lines.unwrap() <= f.additions);
    }
});
