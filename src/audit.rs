//! The audit record: one JSON line per run, appended under an exclusive lock
//! and fsynced, each carrying the sha256 of the line before it, so that any
//! edit, removal, reordering or truncation of the log can be detected.
//! Each record holds an in-toto Statement (test-result predicate) about the
//! head commit.

use crate::error::{Error, Result};
use crate::finding::{Finding, Status};
use crate::input::Input;
use crate::judge::{FailOn, Judgement, Verdict};
use crate::render::AuditRef;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";

/// The hash of a record: sha256 of its line's bytes, newline excluded.
pub fn hash_line(line: &[u8]) -> String {
    format!("sha256:{}", crate::policy::hex(&Sha256::digest(line)))
}

/// The in-toto Statement for one run: the head commit is the subject, the
/// policy files are the configuration, rule ids are the tests.
pub fn statement(input: &Input, judgement: &Judgement, rule_ids: &[String]) -> Value {
    let failing = |f: &Finding| {
        f.status == Status::Open
            && match judgement.fail_on {
                FailOn::Deny => f.severity == crate::finding::Severity::Deny,
                FailOn::Review => f.severity >= crate::finding::Severity::Review,
                FailOn::Warn => true,
                FailOn::Never => false,
            }
    };
    let mut failed: Vec<String> = Vec::new();
    let mut warned: Vec<String> = Vec::new();
    for f in &judgement.findings {
        let list = if failing(f) { &mut failed } else { &mut warned };
        if !list.contains(&f.id) {
            list.push(f.id.clone());
        }
    }
    warned.retain(|id| !failed.contains(id));
    let passed: Vec<&String> = rule_ids
        .iter()
        .filter(|id| !failed.contains(id) && !warned.contains(id))
        .collect();
    let result = match (judgement.verdict, warned.is_empty()) {
        (Verdict::Fail, _) => "FAILED",
        (Verdict::Pass, false) => "WARNED",
        (Verdict::Pass, true) => "PASSED",
    };
    let repo_name = std::env::var("GITHUB_REPOSITORY")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| input.repo.root.clone());
    let configuration: Vec<Value> = input
        .policy
        .files
        .iter()
        .map(|f| json!({"name": f.name, "digest": {"sha256": f.sha256}}))
        .collect();
    let mut predicate = json!({
        "result": result,
        "configuration": configuration,
        "passedTests": passed,
        "warnedTests": warned,
        "failedTests": failed,
    });
    if let Some(url) = &input.context.run_url {
        predicate["url"] = json!(url);
    }
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": repo_name, "digest": {"gitCommit": input.repo.head}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    })
}

/// Who ran the gate, where, on what: what an auditor asks months later.
pub fn context(input: &Input, judgement: &Judgement) -> Value {
    json!({
        "ci": input.context.ci,
        "event": input.context.event,
        "actor": input.context.actor,
        "run_id": input.context.run_id,
        "run_url": input.context.run_url,
        "pr": input.context.pr,
        "approvals": input.context.approvals,
        "mode": input.mode,
        "range": {"base": input.repo.base, "head": input.repo.head, "merge_base": input.repo.merge_base, "source": input.repo.range_source},
        "policy": {"source": input.policy.source, "ref": input.policy.r#ref, "digest": input.policy.digest},
        "now": input.now,
        "verdict": judgement.verdict,
        "fail_on": judgement.fail_on,
        "govops": env!("CARGO_PKG_VERSION"),
    })
}

/// The last line of an audit log: its bytes, or an error when the log ends
/// in a torn line (a crash during a write).
fn last_line(file: &mut File, path: &Path) -> Result<Option<Vec<u8>>> {
    let len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io(path.display(), e))?;
    if len == 0 {
        return Ok(None);
    }
    // Read backwards in growing windows until the line before the last newline is whole.
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path.display(), e))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        file.read_to_end(&mut buf)
            .map_err(|e| Error::io(path.display(), e))?;
        if buf.last() != Some(&b'\n') {
            return Err(Error::io(
                path.display(),
                "the audit log ends in a torn line (a crash during a write?); `govops audit verify` shows it. Move the log aside and keep it as evidence before appending again",
            ));
        }
        let body = &buf[..buf.len() - 1];
        match body.iter().rposition(|b| *b == b'\n') {
            Some(i) => return Ok(Some(body[i + 1..].to_vec())),
            None if start == 0 => return Ok(Some(body.to_vec())),
            None => window *= 4,
        }
    }
}

/// Append one record for this run; returns where it went.
pub fn append(
    path: &Path,
    statement: Value,
    findings: &[Finding],
    context: Value,
    recorded_at: &str,
) -> Result<AuditRef> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(
                dir.display(),
                format!("cannot create the audit log's folder: {e}"),
            )
        })?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| Error::io(path.display(), format!("cannot open the audit log: {e}")))?;
    // Exclusive for read-last-record-then-append: concurrent runs queue here.
    file.lock()
        .map_err(|e| Error::io(path.display(), format!("cannot lock the audit log: {e}")))?;
    let (seq, prev) = match last_line(&mut file, path)? {
        None => (1, Value::Null),
        Some(line) => {
            let last: Value = serde_json::from_slice(&line).map_err(|e| {
                Error::io(
                    path.display(),
                    format!("the last audit record is not JSON ({e}); run `govops audit verify`"),
                )
            })?;
            let seq = last.get("seq").and_then(Value::as_u64).ok_or_else(|| {
                Error::io(
                    path.display(),
                    "the last audit record has no seq; run `govops audit verify`",
                )
            })?;
            (seq + 1, Value::String(hash_line(&line)))
        }
    };
    let record = json!({
        "seq": seq,
        "prev": prev,
        "recorded_at": recorded_at,
        "statement": statement,
        "findings": findings,
        "context": context,
    });
    let mut line = serde_json::to_vec(&record).map_err(|e| Error::io(path.display(), e))?;
    let hash = hash_line(&line);
    line.push(b'\n');
    // One write of the whole line, then fsync: a crash leaves at most a torn
    // last line, which verify names and the next append refuses to bury.
    file.write_all(&line)
        .and_then(|_| file.sync_all())
        .map_err(|e| {
            Error::io(
                path.display(),
                format!("cannot write the audit record: {e}"),
            )
        })?;
    let _ = file.unlock();
    Ok(AuditRef {
        log: path.display().to_string(),
        seq,
        hash,
    })
}

/// What `verify` found.
#[derive(Debug)]
pub enum Verification {
    /// The chain holds: number of records and the hash of the last one.
    Intact { records: u64, head: Option<String> },
    /// The first problem, in words that name the record.
    Broken(String),
}

/// Recompute the chain of an audit log.
pub fn verify(bytes: &[u8]) -> Verification {
    let mut prev: Option<String> = None;
    let mut expected = 1u64;
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let torn = lines.last().is_some_and(|l| !l.is_empty());
    if !torn {
        lines.pop();
    }
    let count = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        let is_last = number == count;
        if torn && is_last {
            return Verification::Broken(format!(
                "line {number} is a torn last line ({} bytes without a newline): a crash during a write, or a truncated log; the {} records before it are intact",
                line.len(),
                number - 1
            ));
        }
        let record: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                return Verification::Broken(format!(
                    "line {number} is not a JSON record ({e}): it was altered"
                ))
            }
        };
        let seq = record.get("seq").and_then(Value::as_u64);
        if seq != Some(expected) {
            return Verification::Broken(match seq {
                Some(s) if s > expected => format!("line {number} holds record {s} where record {expected} was expected: records were removed"),
                Some(s) => format!("line {number} holds record {s} where record {expected} was expected: records were reordered or duplicated"),
                None => format!("line {number} has no seq: it was altered"),
            });
        }
        let claimed = record
            .get("prev")
            .and_then(Value::as_str)
            .map(str::to_string);
        if claimed != prev {
            return Verification::Broken(match expected {
                1 => format!("record 1 (line {number}) names a previous record: records before it were removed"),
                _ => format!(
                    "record {expected} (line {number}) does not chain to record {}: record {} was altered, or records were removed or reordered",
                    expected - 1,
                    expected - 1
                ),
            });
        }
        prev = Some(hash_line(line));
        expected += 1;
    }
    Verification::Intact {
        records: expected - 1,
        head: prev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = Value::Null;
        for seq in 1..=n {
            let line =
                serde_json::to_vec(&json!({"seq": seq, "prev": prev, "findings": []})).unwrap();
            prev = Value::String(hash_line(&line));
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        match verify(&log(3)) {
            Verification::Intact { records, head } => {
                assert_eq!(records, 3);
                assert!(head.unwrap().starts_with("sha256:"));
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn every_tampering_is_named() {
        let good = String::from_utf8(log(4)).unwrap();
        let lines: Vec<&str> = good.lines().collect();
        let broken = |text: String| match verify(text.as_bytes()) {
            Verification::Broken(why) => why,
            v => panic!("not detected: {v:?}"),
        };
        let altered = good
            .replacen("\"findings\":[]", "\"findings\":[1]", 2)
            .replacen("\"findings\":[1]", "\"findings\":[]", 1);
        assert!(broken(altered).contains("record 2 was altered"));
        let removed = format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3]);
        assert!(broken(removed).contains("removed"));
        let reordered = format!("{}\n{}\n{}\n{}\n", lines[0], lines[2], lines[1], lines[3]);
        assert!(broken(reordered).contains("removed"));
        let head_cut = format!("{}\n{}\n", lines[1], lines[2]);
        assert!(broken(head_cut).contains("record 1"));
        let torn = format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..10]);
        assert!(broken(torn).contains("torn last line"));
    }
}
