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
    signer: Option<&signing::Signer>,
) -> Result<AuditRef> {
    let envelope = signer.map(|s| s.envelope(&statement)).transpose()?;
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
    let mut record = json!({
        "seq": seq,
        "prev": prev,
        "recorded_at": recorded_at,
        "statement": statement,
        "findings": findings,
        "context": context,
    });
    if let Some(envelope) = envelope {
        record["envelope"] = envelope;
    }
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

/// Signing: each record's statement as a DSSE envelope whose signature is an
/// SSH signature (SSHSIG, namespace `govops-audit`) over the DSSE
/// pre-authentication encoding, so `ssh-keygen -Y verify` can check it.
pub mod signing {
    use crate::error::{Error, Result};
    use base64::Engine as _;
    use serde_json::{json, Value};
    use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
    use std::path::Path;

    pub const NAMESPACE: &str = "govops-audit";
    pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    /// DSSE's pre-authentication encoding of a payload.
    pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .into_bytes();
        out.extend_from_slice(payload);
        out
    }

    /// An SSH ed25519 key that signs audit records.
    pub struct Signer {
        key: PrivateKey,
    }

    impl Signer {
        pub fn load(path: &Path) -> Result<Self> {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::io(path.display(), format!("cannot read the signing key: {e}"))
            })?;
            let key = PrivateKey::from_openssh(&text).map_err(|e| {
                Error::io(path.display(), format!("not an OpenSSH private key: {e}"))
            })?;
            if key.is_encrypted() {
                return Err(Error::io(path.display(), "the signing key is encrypted; use an unencrypted key kept in the CI's secret store"));
            }
            if key.algorithm() != ssh_key::Algorithm::Ed25519 {
                return Err(Error::io(
                    path.display(),
                    format!("the signing key is {}, not ed25519", key.algorithm()),
                ));
            }
            Ok(Signer { key })
        }

        /// The DSSE envelope of a statement.
        pub fn envelope(&self, statement: &Value) -> Result<Value> {
            let payload = serde_json::to_vec(statement).map_err(|e| Error::Usage(e.to_string()))?;
            let sig = self
                .key
                .sign(NAMESPACE, HashAlg::Sha512, &pae(PAYLOAD_TYPE, &payload))
                .map_err(|e| Error::Usage(format!("signing the audit record: {e}")))?;
            let pem = sig
                .to_pem(LineEnding::LF)
                .map_err(|e| Error::Usage(e.to_string()))?;
            Ok(json!({
                "payloadType": PAYLOAD_TYPE,
                "payload": B64.encode(&payload),
                "signatures": [{
                    "keyid": self.key.public_key().fingerprint(HashAlg::Sha256).to_string(),
                    "sig": pem_body(&pem),
                }],
            }))
        }
    }

    /// The base64 body of an armored signature: the SSHSIG blob itself.
    fn pem_body(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    /// The armored form `ssh-keygen -Y verify -s` reads.
    pub fn armor(sig_b64: &str) -> String {
        let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
        for chunk in sig_b64.as_bytes().chunks(70) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END SSH SIGNATURE-----\n");
        out
    }

    /// Keys of an `allowed_signers` file (the format `ssh-keygen -Y verify` reads).
    pub fn allowed_signers(path: &Path) -> Result<Vec<(String, PublicKey)>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path.display(), format!("cannot read allowed signers: {e}")))?;
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let Some(k) = tokens.iter().position(|t| {
                t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-")
            }) else {
                return Err(Error::io(
                    format!("{}:{}", path.display(), i + 1),
                    "no public key on this line",
                ));
            };
            let key = PublicKey::from_openssh(&tokens[k..].join(" ")).map_err(|e| {
                Error::io(
                    format!("{}:{}", path.display(), i + 1),
                    format!("not a public key: {e}"),
                )
            })?;
            out.push((tokens[0].to_string(), key));
        }
        Ok(out)
    }

    /// The PAE bytes and the signature of a record's envelope.
    pub fn signed_parts(record: &Value) -> Option<(Vec<u8>, String)> {
        let env = record.get("envelope")?;
        let payload = B64.decode(env.get("payload")?.as_str()?).ok()?;
        let payload_type = env.get("payloadType")?.as_str()?;
        let sig = env.pointer("/signatures/0/sig")?.as_str()?.to_string();
        Some((pae(payload_type, &payload), sig))
    }

    /// Check a record's envelope: signed by an allowed key, over this statement.
    pub fn check(
        record: &Value,
        signers: &[(String, PublicKey)],
    ) -> std::result::Result<String, String> {
        let env = record.get("envelope").ok_or("is not signed")?;
        let payload = env
            .get("payload")
            .and_then(Value::as_str)
            .and_then(|p| B64.decode(p).ok())
            .ok_or("has an envelope without a payload")?;
        let signed: Value = serde_json::from_slice(&payload)
            .map_err(|_| "has an envelope whose payload is not JSON")?;
        if Some(&signed) != record.get("statement") {
            return Err("has a statement that differs from the signed one".into());
        }
        let (pae, sig) = signed_parts(record).ok_or("has a malformed envelope")?;
        let sig = SshSig::from_pem(armor(&sig))
            .map_err(|e| format!("has a malformed signature ({e})"))?;
        for (principal, key) in signers {
            if key.verify(NAMESPACE, &pae, &sig).is_ok() {
                return Ok(principal.clone());
            }
        }
        Err("has a signature from no allowed signer".into())
    }
}
