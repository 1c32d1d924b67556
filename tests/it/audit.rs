//! The audit log: records chain, tampering is named, concurrent runs lose nothing.

use crate::repo::Repo;

fn repo_with_runs(runs: usize) -> (Repo, std::path::PathBuf) {
    let repo = Repo::gitops();
    repo.scale_prod("Scale prod");
    let log = repo.path().join("audit/govops.jsonl");
    for i in 0..runs {
        let approver = format!("reviewer{i}");
        let mut args = vec![
            "check",
            "--format",
            "json",
            "--audit-log",
            log.to_str().unwrap(),
        ];
        if i % 2 == 1 {
            args.extend(["--approved-by", approver.as_str()]);
        }
        repo.govops(&args);
    }
    (repo, log)
}

fn verify(repo: &Repo, log: &std::path::Path) -> (i32, String) {
    let run = repo.govops(&["audit", "verify", log.to_str().unwrap()]);
    (run.code(), run.stdout() + &run.stderr())
}

#[test]
fn records_chain_and_reports_name_them() {
    let (repo, log) = repo_with_runs(2);
    let (code, out) = verify(&repo, &log);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 2 record(s), head sha256:"), "{out}");
    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["seq"], 1);
    assert_eq!(records[0]["prev"], serde_json::Value::Null);
    let st = &records[0]["statement"];
    assert_eq!(st["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        st["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    assert_eq!(
        st["subject"][0]["digest"]["gitCommit"],
        repo.git(&["rev-parse", "HEAD"]).as_str()
    );
    assert_eq!(st["predicate"]["result"], "FAILED");
    assert_eq!(st["predicate"]["failedTests"][0], "GOV-BLAST-003");
    assert!(st["predicate"]["passedTests"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "GOV-TAG-001"));
    assert_eq!(
        records[1]["statement"]["predicate"]["result"], "WARNED",
        "approved review finding"
    );
    assert_eq!(records[1]["findings"][0]["approval"]["by"][0], "reviewer1");
    // The json report names the record it wrote.
    let (_, report) = repo.check_json(&["--audit-log", log.to_str().unwrap()]);
    assert_eq!(report["audit"]["seq"], 3);
    let (_, out) = verify(&repo, &log);
    assert!(
        out.contains(report["audit"]["hash"].as_str().unwrap()),
        "{out}"
    );
    // show filters by rule and verdict.
    let show = repo.govops(&["audit", "show", log.to_str().unwrap(), "--verdict", "pass"]);
    assert!(
        show.stdout().contains("#2 ") && !show.stdout().contains("#1 "),
        "{}",
        show.stdout()
    );
    assert!(
        show.stdout().contains("approved by reviewer1"),
        "{}",
        show.stdout()
    );
}

#[test]
fn every_kind_of_tampering_is_detected() {
    let (repo, log) = repo_with_runs(4);
    let good = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let check = |text: String, expect: &str| {
        std::fs::write(&log, text).unwrap();
        let (code, out) = verify(&repo, &log);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(expect), "expected {expect:?}: {out}");
    };
    check(
        good.replacen("\"status\":\"open\"", "\"status\":\"waived\"", 1),
        "record 1 was altered",
    );
    check(
        format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3]),
        "were removed",
    );
    check(
        format!("{}\n{}\n{}\n{}\n", lines[1], lines[0], lines[2], lines[3]),
        "record 2 where record 1",
    );
    check(
        format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..40]),
        "torn last line",
    );
    // Cutting off the end leaves a valid chain; the head kept elsewhere catches it.
    std::fs::write(&log, format!("{}\n{}\n{}\n", lines[0], lines[1], lines[2])).unwrap();
    assert_eq!(verify(&repo, &log).0, 0);
    std::fs::write(&log, &good).unwrap();
    let (_, out) = verify(&repo, &log);
    let head = out.split("head ").nth(1).unwrap().trim().to_string();
    std::fs::write(&log, format!("{}\n{}\n{}\n", lines[0], lines[1], lines[2])).unwrap();
    let run = repo.govops(&["audit", "verify", log.to_str().unwrap(), "--head", &head]);
    assert_eq!(run.code(), 1, "{}", run.stdout());
}

#[test]
fn a_torn_log_is_not_appended_to() {
    let (repo, log) = repo_with_runs(1);
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{\"seq\": 2, \"pre");
    std::fs::write(&log, &text).unwrap();
    let run = repo.govops(&["check", "--audit-log", log.to_str().unwrap()]);
    assert_eq!(run.code(), 2, "a run that cannot leave a record fails");
    assert!(run.stderr().contains("torn"), "{}", run.stderr());
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        text,
        "nothing was buried"
    );
}

#[test]
fn concurrent_runs_lose_nothing() {
    let (repo, log) = repo_with_runs(0);
    let children: Vec<_> = (0..12)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_govops"))
                .current_dir(repo.path())
                .args([
                    "check",
                    "--format",
                    "json",
                    "--audit-log",
                    log.to_str().unwrap(),
                ])
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert_eq!(c.wait().unwrap().code(), Some(1));
    }
    let (code, out) = verify(&repo, &log);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 12 record(s)"), "{out}");
}

#[test]
fn signed_records_verify_with_govops_and_with_ssh_keygen() {
    let (repo, log) = repo_with_runs(0);
    let key = repo.path().join(".git/audit_key");
    let keygen = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "ci@example.com",
            "-f",
        ])
        .arg(&key)
        .status()
        .expect("ssh-keygen is installed");
    assert!(keygen.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let signers = repo.path().join(".git/allowed_signers");
    std::fs::write(
        &signers,
        format!("ci@example.com namespaces=\"govops-audit\" {public}"),
    )
    .unwrap();
    for _ in 0..2 {
        let run = repo.govops(&[
            "check",
            "--audit-log",
            log.to_str().unwrap(),
            "--sign-key",
            key.to_str().unwrap(),
        ]);
        assert_eq!(run.code(), 1, "{}", run.stderr());
    }
    let run = repo.govops(&[
        "audit",
        "verify",
        log.to_str().unwrap(),
        "--allowed-signers",
        signers.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), 0, "{}", run.stdout());
    // The real ssh-keygen accepts the exported signature over the DSSE bytes.
    let export = repo.path().join(".git/sigs");
    repo.govops(&[
        "audit",
        "show",
        log.to_str().unwrap(),
        "--export-signatures",
        export.to_str().unwrap(),
    ]);
    for seq in 1..=2 {
        let verify = std::process::Command::new("ssh-keygen")
            .args([
                "-Y",
                "verify",
                "-I",
                "ci@example.com",
                "-n",
                "govops-audit",
                "-f",
            ])
            .arg(&signers)
            .arg("-s")
            .arg(export.join(format!("record-{seq}.sig")))
            .stdin(std::fs::File::open(export.join(format!("record-{seq}.pae"))).unwrap())
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    // A statement changed after signing, chain re-computed, is still caught.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    records[1]["statement"]["predicate"]["result"] = "PASSED".into();
    std::fs::write(
        &log,
        serde_json::to_string(&records[0]).unwrap()
            + "\n"
            + &serde_json::to_string(&records[1]).unwrap()
            + "\n",
    )
    .unwrap();
    let run = repo.govops(&[
        "audit",
        "verify",
        log.to_str().unwrap(),
        "--allowed-signers",
        signers.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), 1, "{}", run.stdout());
    assert!(
        run.stdout()
            .contains("record 2 has a statement that differs from the signed one"),
        "{}",
        run.stdout()
    );
    // An unsigned record does not pass when signatures are required.
    let (repo2, log2) = repo_with_runs(1);
    let run = repo2.govops(&[
        "audit",
        "verify",
        log2.to_str().unwrap(),
        "--allowed-signers",
        signers.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stdout().contains("record 1 is not signed"),
        "{}",
        run.stdout()
    );
}
