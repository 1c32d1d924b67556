//! The audit log under attack and under failure: a config's `audit.log`
//! cannot write outside the repository or into its git dir (issue #12 item
//! 12); a failed or killed write leaves a log that verifies or repairs (item
//! 14); signatures verify with standard DSSE tooling and with ssh-keygen, and
//! the statement names the repository by URL (issue #14).

use crate::repo::Repo;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A GitOps repository whose base revision (main) carries `config`, after
/// `setup` ran on main; `feature` scales prod (a failing change).
fn repo_with(config: &str, setup: impl Fn(&Repo)) -> Repo {
    let repo = Repo::gitops();
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".govops.yaml", config);
    setup(&repo);
    repo.commit("Policy");
    repo.git(&["checkout", "-q", "-B", "feature"]);
    repo.scale_prod("Scale prod");
    repo
}

fn log_config(log: &str) -> String {
    format!("version: 1\naudit:\n  log: {log:?}\n")
}

/// The path of `target` relative to the root of `repo`, through `..`.
fn relative_to_root(repo: &Repo, target: &Path) -> String {
    let depth = repo.path().components().count() - 1;
    format!(
        "{}{}",
        "../".repeat(depth),
        target.to_str().unwrap().trim_start_matches('/')
    )
}

#[test]
fn a_config_audit_log_cannot_leave_the_repository_or_enter_git() {
    let outside = tempfile::tempdir().unwrap();
    let profile = outside.path().join(".bash_profile");
    // Empty, as a fresh start-up file is: nothing stops a blind append.
    std::fs::write(&profile, "").unwrap();
    let probe = Repo::new();
    let escapes = [
        relative_to_root(&probe, &profile),
        profile.to_str().unwrap().to_string(),
        ".git/hooks/pre-commit".into(),
        "deploy/../.git/config".into(),
        ".GIT/hooks/post-checkout".into(),
    ];
    for log in &escapes {
        let repo = repo_with(&log_config(log), |_| {});
        // The range's own config is the same: judged from the base, and the
        // worktree's (a hook) alike.
        for extra in [&[][..], &["--policy-ref", "worktree"][..]] {
            let mut args = vec!["check"];
            args.extend_from_slice(extra);
            let run = repo.govops(&args);
            assert_eq!(run.code(), 2, "{log}: {}", run.stderr());
            assert!(
                run.stderr().contains(".govops.yaml")
                    && run.stderr().contains(":3: audit.log")
                    && run.stderr().contains("inside the repository"),
                "{log}: {}",
                run.stderr()
            );
        }
        assert_eq!(std::fs::read_to_string(&profile).unwrap(), "", "{log}");
        assert!(
            !repo.path().join(".git/hooks/pre-commit").exists()
                && !std::fs::read_to_string(repo.path().join(".git/config"))
                    .unwrap()
                    .contains("seq"),
            "{log}"
        );
    }
}

#[test]
fn a_config_audit_log_follows_no_symbolic_link() {
    type Setup<'a> = Box<dyn Fn(&Repo) + 'a>;
    let outside = tempfile::tempdir().unwrap();
    let profile = outside.path().join(".bash_profile");
    // Empty, as a fresh start-up file is: nothing stops a blind append.
    std::fs::write(&profile, "").unwrap();
    let cases: Vec<(&str, Setup)> = vec![
        // The file itself is a link out.
        (
            "audit.jsonl",
            Box::new(|r: &Repo| symlink(&profile, r.path().join("audit.jsonl")).unwrap()),
        ),
        // A parent folder is a link out.
        (
            "logs/.bash_profile",
            Box::new(|r: &Repo| symlink(outside.path(), r.path().join("logs")).unwrap()),
        ),
        // A folder deeper down is a link out.
        (
            "ci/logs/.bash_profile",
            Box::new(|r: &Repo| {
                std::fs::create_dir(r.path().join("ci")).unwrap();
                symlink(outside.path(), r.path().join("ci/logs")).unwrap();
            }),
        ),
        // A link into the git dir.
        (
            "meta/hooks/pre-commit",
            Box::new(|r: &Repo| symlink(".git", r.path().join("meta")).unwrap()),
        ),
    ];
    for (log, setup) in &cases {
        let repo = repo_with(&log_config(log), setup);
        let run = repo.govops(&["check"]);
        assert_eq!(run.code(), 2, "{log}: {}", run.stderr());
        assert!(
            run.stderr().contains("symbolic link") && run.stderr().contains(".govops.yaml"),
            "{log}: {}",
            run.stderr()
        );
        assert_eq!(std::fs::read_to_string(&profile).unwrap(), "", "{log}");
        assert!(!repo.path().join(".git/hooks/pre-commit").exists(), "{log}");
    }
    // The hooks dir named by core.hooksPath (husky and the like) is refused.
    let repo = repo_with(&log_config("githooks/pre-commit"), |r| {
        r.write("githooks/README", "hooks\n");
    });
    repo.git(&["config", "core.hooksPath", "githooks"]);
    let run = repo.govops(&["check"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("hooks dir"), "{}", run.stderr());
    assert!(!repo.path().join("githooks/pre-commit").exists());
    // A plain path inside the repository works, folders created.
    let repo = repo_with(&log_config("audit/ci/govops.jsonl"), |_| {});
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(report["audit"]["seq"], 1);
    assert!(repo.path().join("audit/ci/govops.jsonl").is_file());
    // The operator's --audit-log may point anywhere, links included.
    let elsewhere = outside.path().join("ops/audit.jsonl");
    let (code, report) = repo.check_json(&["--audit-log", elsewhere.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(report["audit"]["seq"], 1);
}

/// Run `govops ARGS` in `repo` with a file size limit of `limit` bytes
/// (RLIMIT_FSIZE): a write past it fails with EFBIG, the kernel's own
/// failure, as on a full disk. With `killed`, SIGXFSZ keeps its default
/// action: the process dies in the middle of the write, as in a crash.
fn govops_with_fsize(repo: &Repo, args: &[&str], limit: u64, killed: bool) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govops"));
    cmd.current_dir(repo.path())
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    for v in [
        "CI",
        "GITHUB_ACTIONS",
        "GITHUB_EVENT_PATH",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(v);
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            if !killed {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            }
            let lim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

fn verify(repo: &Repo, log: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["audit", "verify", log.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = repo.govops(&args);
    (run.code(), run.stdout() + &run.stderr())
}

#[test]
fn a_failed_write_leaves_no_partial_record() {
    let repo = repo_with("version: 1\n", |_| {});
    let log = repo.path().join("audit.jsonl");
    let log_arg = ["check", "--audit-log", log.to_str().unwrap()];
    assert_eq!(repo.govops(&log_arg).code(), 1);
    let before = std::fs::read(&log).unwrap();
    // Room for 100 more bytes: the next record is cut by the kernel.
    let out = govops_with_fsize(&repo, &log_arg, before.len() as u64 + 100, false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the audit record") && stderr.contains("cut back"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "the partial record is gone"
    );
    let (code, out) = verify(&repo, &log, &[]);
    assert_eq!(code, 0, "{out}");
    // And the next run appends as usual.
    assert_eq!(repo.govops(&log_arg).code(), 1);
    let (code, out) = verify(&repo, &log, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 2 record(s)"), "{out}");
}

#[test]
fn a_crash_mid_append_is_named_and_repaired() {
    let repo = repo_with("version: 1\n", |_| {});
    let log = repo.path().join("audit.jsonl");
    let log_arg = ["check", "--audit-log", log.to_str().unwrap()];
    assert_eq!(repo.govops(&log_arg).code(), 1);
    let before = std::fs::read(&log).unwrap();
    // Killed by SIGXFSZ in the middle of writing record 2.
    let out = govops_with_fsize(&repo, &log_arg, before.len() as u64 + 100, true);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(libc::SIGXFSZ)
    );
    let torn = std::fs::read(&log).unwrap();
    assert_eq!(torn.len(), before.len() + 100, "a torn last line");
    // Verify names it; a run refuses to bury it and says what to do.
    let (code, out) = verify(&repo, &log, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("torn last line") && out.contains("audit repair"),
        "{out}"
    );
    let run = repo.govops(&log_arg);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr().contains("govops audit repair"),
        "{}",
        run.stderr()
    );
    // Repair sets the torn bytes aside and records that it did.
    let run = repo.govops(&[
        "audit",
        "repair",
        log.to_str().unwrap(),
        "--reason",
        "INC-42",
    ]);
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    let side: Vec<PathBuf> = std::fs::read_dir(repo.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().contains("audit.jsonl.torn-"))
        .collect();
    assert_eq!(side.len(), 1, "{}", run.stdout());
    assert_eq!(std::fs::read(&side[0]).unwrap(), &torn[before.len()..]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with(std::str::from_utf8(&before).unwrap()));
    let repair: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(repair["seq"], 2);
    assert_eq!(repair["repair"]["removed"]["bytes"], 100);
    assert_eq!(repair["repair"]["reason"], "INC-42");
    assert_eq!(
        repair["repair"]["saved_to"],
        side[0].file_name().unwrap().to_str().unwrap()
    );
    let show = repo.govops(&["audit", "show", log.to_str().unwrap()]);
    assert!(
        show.stdout().contains("#2 ") && show.stdout().contains("REPAIR"),
        "{}",
        show.stdout()
    );
    // The chain goes on through the repair record.
    assert_eq!(repo.govops(&log_arg).code(), 1);
    let (code, out) = verify(&repo, &log, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 3 record(s)"), "{out}");
    // An intact log is left alone.
    let run = repo.govops(&["audit", "repair", log.to_str().unwrap()]);
    assert_eq!(run.code(), 0);
    assert!(
        run.stdout().contains("nothing to repair"),
        "{}",
        run.stdout()
    );
    // Damage that is not a torn tail is refused, and nothing is touched.
    let good = std::fs::read_to_string(&log).unwrap();
    for bad in [
        good.replacen("\"status\":\"open\"", "\"status\":\"waived\"", 1),
        good.lines()
            .skip(1)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
        format!(
            "{}{{\"seq\": 4",
            good.replacen("\"status\":\"open\"", "\"status\":\"waived\"", 1)
        ),
    ] {
        std::fs::write(&log, &bad).unwrap();
        let run = repo.govops(&["audit", "repair", log.to_str().unwrap()]);
        assert_eq!(run.code(), 1, "{}", run.stdout());
        assert!(run.stdout().contains("NOT REPAIRED"), "{}", run.stdout());
        assert_eq!(std::fs::read_to_string(&log).unwrap(), bad);
    }
}

#[test]
fn verify_without_head_says_the_end_is_unverified() {
    let repo = repo_with("version: 1\n", |_| {});
    let log = repo.path().join("audit.jsonl");
    for _ in 0..2 {
        repo.govops(&["check", "--audit-log", log.to_str().unwrap()]);
    }
    let (code, out) = verify(&repo, &log, &[]);
    assert_eq!(code, 0, "{out}");
    let head = out
        .split("head ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(out.contains("the end of the log is unverified"), "{out}");
    // An edit of the last record keeps the chain: only the head shows it.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let edited = format!(
        "{}\n{}\n",
        lines[0],
        lines[1].replace("\"FAILED\"", "\"PASSED\"")
    );
    assert_ne!(edited, text);
    std::fs::write(&log, &edited).unwrap();
    let (code, out) = verify(&repo, &log, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the end of the log is unverified"), "{out}");
    let (code, out) = verify(&repo, &log, &["--head", &head]);
    assert_eq!(code, 1, "{out}");
    std::fs::write(&log, &text).unwrap();
    let (code, out) = verify(&repo, &log, &["--head", &head]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("unverified"), "{out}");
}

/// The Python of the test venv (`.venv-test`, with securesystemslib), or
/// None outside CI; under CI its absence fails the test.
fn test_python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-test/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is missing: scripts/test creates it (pip install securesystemslib[crypto])",
        python.display()
    );
    eprintln!("skipped: {} is missing", python.display());
    None
}

fn keygen(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("audit_key");
    let ok = Command::new("ssh-keygen")
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
    assert!(ok.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public)
}

const DSSE_VERIFY: &str = r#"
import json, sys
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
public, keyid, path = sys.argv[1:4]
key = SSlibKey.from_crypto(load_ssh_public_key(open(public, "rb").read()), keyid=keyid)
ok = 0
for line in open(path):
    record = json.loads(line)
    Envelope.from_dict(record["envelope"]).verify([key], 1)
    ok += 1
print(f"verified {ok}")
"#;

#[test]
fn signatures_verify_with_securesystemslib_and_ssh_keygen() {
    // The log comes from the config: --sign-key works with it.
    let repo = repo_with(&log_config("audit/govops.jsonl"), |_| {});
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://ci:s3cret@git.example.com/org/svc.git",
    ]);
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = keygen(keys.path());
    let log = repo.path().join("audit/govops.jsonl");
    for _ in 0..2 {
        let run = repo.govops(&["check", "--sign-key", key.to_str().unwrap()]);
        assert_eq!(run.code(), 1, "{}", run.stderr());
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    // keyid: the key's SHA-256 fingerprint, as ssh-keygen prints it.
    let fp = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fp.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let env = &records[0]["envelope"];
    assert_eq!(env["signatures"][0]["keyid"], fingerprint.as_str());
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    // The subject is the repository's URL, credentials left out; built-in
    // rules cannot be taken for files of the repository.
    let st = &records[0]["statement"];
    assert_eq!(
        st["subject"][0]["name"],
        "https://git.example.com/org/svc.git"
    );
    assert!(!text.contains("s3cret"));
    let names: Vec<&str> = st["predicate"]["configuration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&".govops.yaml"), "{names:?}");
    assert!(
        names
            .iter()
            .filter(|n| **n != ".govops.yaml")
            .all(|n| n.starts_with("govops://builtin/")),
        "{names:?}"
    );
    // govops verifies them.
    let signers = keys.path().join("allowed_signers");
    std::fs::write(&signers, format!("ci@example.com {public}")).unwrap();
    let (code, out) = verify(
        &repo,
        &log,
        &["--allowed-signers", signers.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    // ssh-keygen verifies the exported SSH form over the same bytes.
    let export = keys.path().join("sigs");
    let run = repo.govops(&[
        "audit",
        "show",
        log.to_str().unwrap(),
        "--export-signatures",
        export.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), 0);
    for seq in 1..=2 {
        let out = Command::new("ssh-keygen")
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
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(export.join(format!("record-{seq}.dsse.json")).is_file());
    }
    // securesystemslib's Envelope.verify accepts the envelopes as they are,
    // and rejects one whose payload was changed.
    let Some(python) = test_python() else {
        return;
    };
    let script = keys.path().join("dsse_verify.py");
    std::fs::write(&script, DSSE_VERIFY).unwrap();
    let run_py = |path: &Path| {
        Command::new(&python)
            .arg(&script)
            .arg(key.with_extension("pub"))
            .arg(&fingerprint)
            .arg(path)
            .output()
            .unwrap()
    };
    let out = run_py(&log);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified 2");
    let mut forged = records[1].clone();
    let payload = forged["envelope"]["payload"].as_str().unwrap().to_string();
    forged["envelope"]["payload"] = payload.replacen('A', "B", 1).into();
    let forged_log = keys.path().join("forged.jsonl");
    std::fs::write(&forged_log, serde_json::to_string(&forged).unwrap() + "\n").unwrap();
    let out = run_py(&forged_log);
    assert!(!out.status.success(), "a changed payload verified");
}

#[test]
fn the_subject_is_a_url_never_a_local_path() {
    let repo = repo_with("version: 1\n", |_| {});
    let log = repo.path().join("audit.jsonl");
    let subject = |env: &[(&str, &str)]| {
        let run = repo.govops_env(&["check", "--audit-log", log.to_str().unwrap()], env);
        assert_eq!(run.code(), 1, "{}", run.stderr());
        let text = std::fs::read_to_string(&log).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        last["statement"]["subject"][0]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let root = repo.path().to_str().unwrap().to_string();
    // No remote: no path either.
    let name = subject(&[]);
    assert!(!name.contains(&root) && !name.starts_with('/'), "{name}");
    // A local remote names only this machine.
    repo.git(&["remote", "add", "origin", "/srv/git/svc.git"]);
    let name = subject(&[]);
    assert!(!name.contains("/srv/git"), "{name}");
    repo.git(&["remote", "set-url", "origin", "git@github.com:org/svc.git"]);
    assert_eq!(subject(&[]), "git@github.com:org/svc.git");
    // In Actions: the server and the repository.
    assert_eq!(
        subject(&[
            ("GITHUB_SERVER_URL", "https://github.example.com"),
            ("GITHUB_REPOSITORY", "org/svc")
        ]),
        "https://github.example.com/org/svc"
    );
}

#[test]
fn a_sign_key_without_any_audit_log_is_a_usage_error() {
    let repo = repo_with("version: 1\n", |_| {});
    let keys = tempfile::tempdir().unwrap();
    let (key, _) = keygen(keys.path());
    let run = repo.govops(&["check", "--sign-key", key.to_str().unwrap()]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("no audit log"), "{}", run.stderr());
}

#[test]
fn a_signed_log_stays_verifiable_through_a_signed_repair() {
    let repo = repo_with("version: 1\n", |_| {});
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = keygen(keys.path());
    let signers = keys.path().join("allowed_signers");
    std::fs::write(&signers, format!("ci@example.com {public}")).unwrap();
    let log = repo.path().join("audit.jsonl");
    let signed_run = [
        "check",
        "--audit-log",
        log.to_str().unwrap(),
        "--sign-key",
        key.to_str().unwrap(),
    ];
    assert_eq!(repo.govops(&signed_run).code(), 1);
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{\"seq\":2,\"prev\":\"sha");
    std::fs::write(&log, &text).unwrap();
    let signers_arg = ["--allowed-signers", signers.to_str().unwrap()];
    // Unsigned, the repair record fails a signature check like any record.
    let unsigned = keys.path().join("unsigned.jsonl");
    std::fs::write(&unsigned, &text).unwrap();
    assert_eq!(
        repo.govops(&["audit", "repair", unsigned.to_str().unwrap()])
            .code(),
        0
    );
    let (code, out) = verify(&repo, &unsigned, &signers_arg);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("record 2 is not signed"), "{out}");
    // Signed, it verifies, and the chain goes on.
    let run = repo.govops(&[
        "audit",
        "repair",
        log.to_str().unwrap(),
        "--sign-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), 0, "{}{}", run.stdout(), run.stderr());
    assert_eq!(repo.govops(&signed_run).code(), 1);
    let (code, out) = verify(&repo, &log, &signers_arg);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact: 3 record(s)"), "{out}");
    // Its account cannot be changed under the signature.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut repair: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    repair["repair"]["removed"]["bytes"] = 1.into();
    std::fs::write(&log, format!("{}\n{}\n", lines[0], repair)).unwrap();
    let (code, out) = verify(&repo, &log, &signers_arg);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("record 2 has a repair account that differs"),
        "{out}"
    );
}
