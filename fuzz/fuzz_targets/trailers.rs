//! A commit message is written by whoever made the commit: any bytes. The
//! trailer parser and the provenance reading built on it must never panic,
//! and what they return must point inside the message.
#![no_main]

use govops::collect::git::RawCommit;
use govops::collect::build_commit;
use govops::provenance::IdentityTable;
use govops::trailers;
use govops::input::Person;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static TABLE: OnceLock<IdentityTable> = OnceLock::new();

fn person(name: &str, email: &str) -> Person {
    Person {
        name: name.into(),
        email: email.into(),
        time: "2026-01-01T00:00:00Z".into(),
    }
}

fuzz_target!(|message: &[u8]| {
    for divider in [false, true] {
        let block = trailers::parse(message, divider);
        assert!(block.range.start <= block.range.end && block.range.end <= message.len());
        let _ = trailers::trailer_shaped_lines(message, &block.range);
    }
    let stripped = trailers::strip_message(message);
    assert!(stripped.len() <= message.len() + 1);

    // The whole path a commit takes: trailers, body lines, provenance.
    let table = TABLE.get_or_init(IdentityTable::builtin);
    let raw = RawCommit {
        sha: String::new(),
        parents: Vec::new(),
        message: message.to_vec(),
        author: person("Ada", "ada@example.com"),
        committer: person("Ada", "ada@example.com"),
        files: Vec::new(),
    };
    let mut errors = Vec::new();
    let commit = build_commit(raw, table, &["Reviewed-by".to_string()], &mut errors);
    for tool in &commit.ai.tools {
        assert!(!tool.tool.is_empty(), "a tool without a name: {tool:?}");
    }
});
