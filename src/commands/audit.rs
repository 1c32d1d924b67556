//! `govops audit verify FILE`, `govops audit show FILE` and `govops audit
//! repair FILE`.

use super::print;
use crate::audit::{self, signing, Repaired, Verification};
use crate::cli::{AuditCommand, Global};
use crate::error::{Error, Exit, Result};
use serde_json::Value;
use std::path::Path;

pub fn run(_global: &Global, cmd: &AuditCommand) -> Result<Exit> {
    match cmd {
        AuditCommand::Verify {
            file,
            head,
            allowed_signers,
        } => verify(file, head.as_deref(), allowed_signers.as_deref()),
        AuditCommand::Repair {
            file,
            reason,
            sign_key,
        } => {
            let signer = sign_key.as_deref().map(signing::Signer::load).transpose()?;
            let now = crate::clock::format_utc(time::OffsetDateTime::now_utc());
            let target = audit::LogTarget::Operator(file.clone());
            match audit::repair(&target, &now, reason.as_deref(), signer.as_ref())? {
                Repaired::Nothing { records } => {
                    print(&format!(
                        "{}: intact ({records} record(s)): nothing to repair\n",
                        file.display()
                    ))?;
                    Ok(Exit::Pass)
                }
                Repaired::TornTail {
                    removed,
                    saved_to,
                    seq,
                    hash,
                } => {
                    print(&format!(
                        "{}: set aside a torn last line ({removed} bytes) in {}; record {seq} ({hash}) says so; runs can append again\n",
                        file.display(),
                        saved_to.display()
                    ))?;
                    Ok(Exit::Pass)
                }
                Repaired::Refused(why) => {
                    print(&format!(
                        "{}: NOT REPAIRED: {why}. Only a torn last line (a crash during a write) is repaired; this damage is evidence: keep the log as it is and investigate\n",
                        file.display()
                    ))?;
                    Ok(Exit::Fail)
                }
            }
        }
        AuditCommand::Show {
            file,
            commit,
            verdict,
            rule,
            json,
            export_signatures,
        } => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                Error::io(file.display(), format!("cannot read the audit log: {e}"))
            })?;
            let mut out = String::new();
            for (i, line) in text.lines().enumerate() {
                let Ok(record) = serde_json::from_str::<Value>(line) else {
                    out.push_str(&format!(
                        "line {}: not a JSON record (run `govops audit verify`)\n",
                        i + 1
                    ));
                    continue;
                };
                if let Some(repair) = record.get("repair") {
                    if commit.is_some() || verdict.is_some() || rule.is_some() {
                        continue;
                    }
                    if *json {
                        out.push_str(line);
                        out.push('\n');
                    } else {
                        out.push_str(&format!(
                            "#{} {} REPAIR: set aside {} byte(s) ({}) in {}{}\n",
                            record["seq"],
                            record["recorded_at"].as_str().unwrap_or("-"),
                            repair.pointer("/removed/bytes").unwrap_or(&Value::Null),
                            repair
                                .pointer("/removed/what")
                                .and_then(Value::as_str)
                                .unwrap_or("-"),
                            repair
                                .get("saved_to")
                                .and_then(Value::as_str)
                                .unwrap_or("-"),
                            repair
                                .get("reason")
                                .and_then(Value::as_str)
                                .map(|r| format!(": {r}"))
                                .unwrap_or_default(),
                        ));
                    }
                    continue;
                }
                let head = record
                    .pointer("/statement/subject/0/digest/gitCommit")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let result = record
                    .pointer("/statement/predicate/result")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let findings = record
                    .get("findings")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if commit
                    .as_ref()
                    .is_some_and(|c| !head.starts_with(c.as_str()))
                {
                    continue;
                }
                let record_verdict = record
                    .pointer("/context/verdict")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if verdict
                    .as_ref()
                    .is_some_and(|v| !v.eq_ignore_ascii_case(record_verdict))
                {
                    continue;
                }
                if rule
                    .as_ref()
                    .is_some_and(|r| !findings.iter().any(|f| f["id"] == r.as_str()))
                {
                    continue;
                }
                if let Some(dir) = export_signatures {
                    export(dir, &record)?;
                }
                if *json {
                    out.push_str(line);
                    out.push('\n');
                    continue;
                }
                let get = |p: &str| {
                    record
                        .pointer(p)
                        .and_then(Value::as_str)
                        .unwrap_or("-")
                        .to_string()
                };
                out.push_str(&format!(
                    "#{} {} {result} head {} ({}) by {} via {}; policy {} {}\n",
                    record["seq"],
                    get("/recorded_at"),
                    &head[..head.len().min(12)],
                    get("/context/range/source"),
                    get("/context/actor"),
                    get("/context/ci"),
                    get("/context/policy/source"),
                    &get("/context/policy/digest")[..get("/context/policy/digest").len().min(19)],
                ));
                for f in &findings {
                    let mut who = String::new();
                    if let Some(w) = f.get("waiver").filter(|w| !w.is_null()) {
                        who = format!(
                            " (waived by {} until {}: {})",
                            w["owner"].as_str().unwrap_or(""),
                            w["expires"].as_str().unwrap_or(""),
                            w["reason"].as_str().unwrap_or("")
                        );
                    }
                    if let Some(a) = f.get("approval").filter(|a| !a.is_null()) {
                        let by: Vec<&str> = a["by"]
                            .as_array()
                            .map(|b| b.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        who = format!(" (approved by {})", by.join(", "));
                    }
                    out.push_str(&format!(
                        "    {} {} {}: {}{who}\n",
                        f["status"].as_str().unwrap_or(""),
                        f["severity"].as_str().unwrap_or(""),
                        f["id"].as_str().unwrap_or(""),
                        f["message"].as_str().unwrap_or("")
                    ));
                }
            }
            print(&out)?;
            Ok(Exit::Pass)
        }
    }
}

/// `audit verify`: the chain, then (with allowed signers) every signature,
/// then the head kept elsewhere. Without `--head` the output says that the
/// end of the log is unverified.
fn verify(file: &Path, head: Option<&str>, allowed_signers: Option<&Path>) -> Result<Exit> {
    let bytes = std::fs::read(file)
        .map_err(|e| Error::io(file.display(), format!("cannot read the audit log: {e}")))?;
    let (records, last) = match audit::verify(&bytes) {
        Verification::Intact { records, head } => (records, head.unwrap_or_default()),
        Verification::Torn { why, .. } => {
            print(&format!(
                "{}: TORN: {why}. If no one cut the log, `govops audit repair {}` sets the torn line aside\n",
                file.display(),
                file.display()
            ))?;
            return Ok(Exit::Fail);
        }
        Verification::Broken(why) => {
            print(&format!("{}: TAMPERED: {why}\n", file.display()))?;
            return Ok(Exit::Fail);
        }
    };
    if let Some(signers) = allowed_signers {
        let signers = signing::allowed_signers(signers)?;
        for (i, line) in bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            let record: Value = serde_json::from_slice(line).unwrap_or_default();
            if let Err(why) = signing::check(&record, &signers) {
                print(&format!(
                    "{}: TAMPERED: record {} {why}\n",
                    file.display(),
                    i + 1
                ))?;
                return Ok(Exit::Fail);
            }
        }
    }
    match head {
        Some(expected) if expected != last => {
            print(&format!(
                "{}: TAMPERED: the chain is intact but ends at {last}, not at the expected head {expected}: records were added, altered or cut off at the end\n",
                file.display()
            ))?;
            Ok(Exit::Fail)
        }
        Some(_) => {
            print(&format!(
                "{}: intact: {records} record(s), head {last} (the expected head)\n",
                file.display()
            ))?;
            Ok(Exit::Pass)
        }
        None => {
            let edit = if allowed_signers.is_some() {
                "records cut off the end"
            } else {
                "records cut off the end, or an edit of the last record,"
            };
            print(&format!(
                "{}: intact: {records} record(s), head {last}\n{}: the end of the log is unverified: {edit} would pass; pass --head with the head hash recorded elsewhere (the run's `audit-hash`) to check it\n",
                file.display(),
                file.display()
            ))?;
            Ok(Exit::Pass)
        }
    }
}

/// Write a signed record's envelope (for DSSE tooling), and the PAE and
/// SSH signature (for `ssh-keygen -Y verify`), as record-SEQ.*.
fn export(dir: &Path, record: &Value) -> Result<()> {
    let Some(envelope) = record.get("envelope") else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    let base = dir.join(format!("record-{}", record["seq"]));
    let write = |ext: &str, bytes: &[u8]| {
        let path = base.with_extension(ext);
        std::fs::write(&path, bytes).map_err(|e| Error::io(path.display(), e))
    };
    let pretty = serde_json::to_vec_pretty(envelope).map_err(|e| Error::io(dir.display(), e))?;
    write("dsse.json", &pretty)?;
    if let Some((pae, sig)) = signing::sshsig_parts(record) {
        write("pae", &pae)?;
        write("sig", signing::armor(&sig).as_bytes())?;
    }
    Ok(())
}
