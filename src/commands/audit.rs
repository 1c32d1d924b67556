//! `govops audit verify FILE` and `govops audit show FILE`.

use super::print;
use crate::audit::{self, signing, Verification};
use crate::cli::{AuditCommand, Global};
use crate::error::{Error, Exit, Result};
use serde_json::Value;

pub fn run(_global: &Global, cmd: &AuditCommand) -> Result<Exit> {
    match cmd {
        AuditCommand::Verify {
            file,
            head,
            allowed_signers,
        } => {
            let bytes = std::fs::read(file).map_err(|e| {
                Error::io(file.display(), format!("cannot read the audit log: {e}"))
            })?;
            if let (Verification::Intact { .. }, Some(signers)) =
                (audit::verify(&bytes), allowed_signers)
            {
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
            match audit::verify(&bytes) {
                Verification::Intact {
                    records,
                    head: last,
                } => {
                    let last = last.unwrap_or_default();
                    if let Some(expected) = head {
                        if *expected != last {
                            print(&format!(
                                "{}: TAMPERED: the chain is intact but ends at {last}, not at the expected head {expected}: records were added, altered or cut off at the end\n",
                                file.display()
                            ))?;
                            return Ok(Exit::Fail);
                        }
                    }
                    print(&format!(
                        "{}: intact: {records} record(s), head {last}\n",
                        file.display()
                    ))?;
                    Ok(Exit::Pass)
                }
                Verification::Broken(why) => {
                    print(&format!("{}: TAMPERED: {why}\n", file.display()))?;
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
                    if let Some((pae, sig)) = signing::signed_parts(&record) {
                        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
                        let base = dir.join(format!("record-{}", record["seq"]));
                        std::fs::write(base.with_extension("pae"), pae)
                            .map_err(|e| Error::io(dir.display(), e))?;
                        std::fs::write(base.with_extension("sig"), signing::armor(&sig))
                            .map_err(|e| Error::io(dir.display(), e))?;
                    }
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
