//! The gate's speed, measured against the floor.
//!
//! Builds its own corpus with `git fast-import`: about 2,000 commits (a mix of
//! Claude, Copilot, kernel-style and human commits touching one to three
//! files each) and about 5,000 Kubernetes documents in 1,000 files. Then,
//! side by side in one run:
//!
//! - the floor: `git log --numstat` over the range plus reading every manifest;
//! - `govops check --all-manifests` over the range (median time, peak memory);
//! - `govops check --commit-msg-file` (median), and gitlint on the same
//!   message when it is installed;
//! - the full check at 1x, 2x and 4x the corpus, to show how cost grows.
//!
//! Run: `cargo bench --bench gate` (`GOVOPS_BENCH_SCALES=1` for one size only).

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOVOPS: &str = env!("CARGO_BIN_EXE_govops");

/// `cargo test --all-targets` runs this too (without `--bench`): then it is a
/// smoke test of the benchmark itself, on a twentieth of the corpus, one run
/// each, in a debug build, measuring nothing.
struct Mode {
    divisor: usize,
    runs: usize,
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let mode = if smoke {
        println!("smoke run (cargo test): a 1/20 corpus, one run each; `cargo bench --bench gate` measures");
        Mode {
            divisor: 20,
            runs: 1,
        }
    } else {
        Mode {
            divisor: 1,
            runs: 7,
        }
    };
    let scales: Vec<usize> = match std::env::var("GOVOPS_BENCH_SCALES") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) if smoke => vec![1],
        Err(_) => vec![1, 2, 4],
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(if smoke {
        "bench-corpus-smoke"
    } else {
        "bench-corpus"
    });
    let mut growth = Vec::new();
    for (i, &scale) in scales.iter().enumerate() {
        let corpus = Corpus::build(&root.join(format!("x{scale}")), scale, mode.divisor);
        // The floor and govops alternate, run by run, and the ratio is the
        // median of each run's pair: on a shared machine whose speed drifts
        // by tens of percent within a minute, medians taken minutes apart
        // compare different machines.
        let mut peak_kib = 0;
        let mut pairs = Vec::with_capacity(mode.runs);
        for _ in 0..mode.runs {
            let log = run_quiet(git(&corpus.dir).args([
                "log",
                "--numstat",
                "--format=%H%n%an <%ae>%n%B",
                &corpus.range(),
            ]));
            let t = Instant::now();
            for f in &corpus.manifest_files {
                std::hint::black_box(std::fs::read(corpus.dir.join(f)).unwrap());
            }
            let read = t.elapsed();
            let (full, rss) = run_measured(Command::new(GOVOPS).current_dir(&corpus.dir).args([
                "check",
                "--base",
                &corpus.base,
                "--head",
                "HEAD",
                "--all-manifests",
                "--format",
                "json",
                "--fail-on",
                "never",
            ]));
            peak_kib = peak_kib.max(rss);
            pairs.push((log, read, full));
        }
        let mid = |f: &dyn Fn(&(Duration, Duration, Duration)) -> Duration| {
            let mut v: Vec<Duration> = pairs.iter().map(f).collect();
            v.sort();
            v[v.len() / 2]
        };
        let (floor_log, floor_read) = (mid(&|p| p.0), mid(&|p| p.1));
        let floor = mid(&|p| p.0 + p.1);
        let full = mid(&|p| p.2);
        let mut ratios: Vec<f64> = pairs
            .iter()
            .map(|(log, read, full)| full.as_secs_f64() / (*log + *read).as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        growth.push((scale, corpus.commits, corpus.documents, full, floor, ratio));
        if i == 0 {
            println!(
                "corpus x{scale}: {} commits, {} documents in {} files",
                corpus.commits,
                corpus.documents,
                corpus.manifest_files.len()
            );
            println!(
                "floor: git log --numstat {} + reading manifests {} = {}",
                ms(floor_log),
                ms(floor_read),
                ms(floor)
            );
            println!(
                "govops check --all-manifests: median {} = {:.2}x the floor (median of {} paired runs); peak memory {:.1} MB",
                ms(full),
                ratio,
                mode.runs,
                peak_kib as f64 / 1024.0
            );
            commit_msg(&corpus, &mode);
        }
    }
    if growth.len() > 1 {
        // The floor grows too, and not quite linearly: each commit's diff
        // walks its folders' trees, which grow with the corpus. govops is
        // shown against its own first size and against the floor at each size.
        println!(
            "growth (full check, --all-manifests; floor = git log --numstat + reading manifests):"
        );
        let (_, c0, _, t0, f0, _) = growth[0];
        for (scale, commits, docs, t, floor, ratio) in &growth {
            println!(
                "  x{scale}: {commits} commits, {docs} documents: govops {} ({:.2}x the first size), floor {} ({:.2}x); govops/floor {:.2}x, for {:.1}x the input",
                ms(*t),
                t.as_secs_f64() / t0.as_secs_f64(),
                ms(*floor),
                floor.as_secs_f64() / f0.as_secs_f64(),
                ratio,
                *commits as f64 / c0 as f64
            );
        }
    }
}

/// The commit-msg hook's answer time, and gitlint's on the same message.
fn commit_msg(corpus: &Corpus, mode: &Mode) {
    let msg = corpus.dir.join(".git/BENCH_MSG");
    std::fs::write(
        &msg,
        "Retry the payment client on 503\n\nThe upstream returns 503 during deploys.\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\nSigned-off-by: Ada Lovelace <ada@example.com>\n",
    )
    .unwrap();
    let govops = median(if mode.runs == 1 { 3 } else { 51 }, || {
        run_quiet(
            Command::new(GOVOPS)
                .current_dir(&corpus.dir)
                .arg("check")
                .arg("--commit-msg-file")
                .arg(&msg),
        )
    });
    let mut line = format!("govops check --commit-msg-file: median {}", ms(govops));
    let has_gitlint = mode.runs > 1
        && Command::new("gitlint")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if has_gitlint {
        let gitlint = median(11, || {
            run_quiet(
                Command::new("gitlint")
                    .current_dir(&corpus.dir)
                    .arg("--msg-filename")
                    .arg(&msg),
            )
        });
        let _ = write!(
            line,
            "; gitlint {} on the same message: govops is {:.0}x faster",
            ms(gitlint),
            gitlint.as_secs_f64() / govops.as_secs_f64()
        );
    } else if mode.runs == 1 {
        line.push_str("; gitlint skipped in a smoke run");
    } else {
        line.push_str("; gitlint not installed (pip install gitlint), no comparison");
    }
    println!("{line}");
}

struct Corpus {
    dir: PathBuf,
    base: String,
    commits: usize,
    documents: usize,
    manifest_files: Vec<String>,
}

impl Corpus {
    fn range(&self) -> String {
        format!("{}..HEAD", self.base)
    }

    /// Build (or reuse) the corpus at `dir`: one commit adding every manifest,
    /// then the range of 2,000 x `scale` commits (divided by `divisor` for a smoke run).
    fn build(dir: &Path, scale: usize, divisor: usize) -> Corpus {
        let files = 1000 * scale / divisor;
        let commits = 2000 * scale / divisor;
        let manifest_files: Vec<String> = (0..files)
            .map(|i| format!("deploy/{}/svc{i:05}.yaml", env_of(i)))
            .collect();
        let done = dir.join(".git/BENCH_READY");
        if !done.exists() {
            let _ = std::fs::remove_dir_all(dir);
            std::fs::create_dir_all(dir).unwrap();
            assert!(git(dir)
                .args(["init", "-q", "-b", "main"])
                .status()
                .unwrap()
                .success());
            let mut stream = Vec::with_capacity(64 << 20);
            let mut versions = vec![0usize; files];
            let mut t = 1_750_000_000u64;
            // The base: every manifest, added by a human.
            let _ = write!(stream, "commit refs/heads/main\nmark :1\n");
            person(&mut stream, "Ada Lovelace", "ada@example.com", t);
            data(&mut stream, b"Add the services\n");
            for (i, f) in manifest_files.iter().enumerate() {
                inline(&mut stream, f, manifest(i, 0).as_bytes());
            }
            let mut rng = 0x2545_f491_4f6c_dd1du64;
            for c in 0..commits {
                t += 97;
                let r = next(&mut rng);
                let _ = write!(stream, "commit refs/heads/main\nmark :{}\n", c + 2);
                let (message, name, email) = message_for(c, r);
                person(&mut stream, name, email, t);
                data(&mut stream, message.as_bytes());
                let _ = writeln!(stream, "from :{}", c + 1);
                let touched = 1 + (r >> 8) as usize % 3;
                for k in 0..touched {
                    let pick = (next(&mut rng) >> 16) as usize;
                    if k == 0 && pick.is_multiple_of(4) {
                        let i = pick % files;
                        versions[i] += 1;
                        inline(
                            &mut stream,
                            &manifest_files[i],
                            manifest(i, versions[i]).as_bytes(),
                        );
                    } else {
                        let m = pick % 400;
                        let body: String = (0..20 + pick % 40)
                            .map(|l| format!("pub fn f{l}() -> u32 {{ {} }}\n", c + l))
                            .collect();
                        inline(&mut stream, &format!("src/m{m:03}.rs"), body.as_bytes());
                    }
                }
                stream.push(b'\n');
            }
            let mut child = git(dir)
                .args(["fast-import", "--quiet"])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&stream).unwrap();
            assert!(child.wait().unwrap().success());
            assert!(git(dir)
                .args(["reset", "-q", "--hard", "main"])
                .status()
                .unwrap()
                .success());
            std::fs::write(&done, "").unwrap();
        }
        let base = String::from_utf8(
            git(dir)
                .args(["rev-list", "--max-parents=0", "HEAD"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim()
        .to_string();
        Corpus {
            dir: dir.to_path_buf(),
            base,
            commits,
            documents: files * 5,
            manifest_files,
        }
    }
}

fn env_of(i: usize) -> &'static str {
    ["dev", "staging", "prod"][i % 3]
}

fn message_for(c: usize, r: u64) -> (String, &'static str, &'static str) {
    let subject = format!("Change {c}: adjust the service configuration");
    match r % 20 {
        0..=5 => (format!("{subject}\n\nWhy: keep the retry budget in line.\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\n"), "Ada Lovelace", "ada@example.com"),
        6..=7 => (format!("{subject}\n\nCo-authored-by: Copilot <copilot@github.com>\nAI-Model: gpt-5\n"), "Grace Hopper", "grace@example.com"),
        8 => (format!("{subject}\n\nAssisted-by: Claude:claude-3-opus coccinelle sparse\nSigned-off-by: Linus <linus@example.com>\n"), "Linus", "linus@example.com"),
        9 => (format!("aider: {subject}\n\nCo-authored-by: aider (gpt-4o) <aider@aider.chat>\n"), "Paul (aider)", "paul@example.com"),
        _ => (format!("{subject}\n\nA longer explanation of the change,\nover two lines.\n\nSigned-off-by: Alan Turing <alan@example.com>\nReviewed-by: Grace Hopper <grace@example.com>\n"), "Alan Turing", "alan@example.com"),
    }
}

/// Five documents: a Deployment, a Service, a ConfigMap, an HPA and a PDB.
fn manifest(i: usize, version: usize) -> String {
    let env = env_of(i);
    let name = format!("svc{i:05}");
    let labels = format!(
        "    app.kubernetes.io/name: {name}\n    environment: {env}\n    owner: team-{}\n    cost-center: cc-{}\n",
        i % 17,
        i % 5
    );
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {env}
  labels:
{labels}spec:
  replicas: {}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
        - name: app
          image: registry.example.com/{name}:1.{version}.0
          ports:
            - containerPort: 8080
          env:
            - name: OTEL_SERVICE_NAME
              value: {name}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {env}
  labels:
{labels}spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {env}
data:
  LOG_LEVEL: info
  RETRIES: \"{}\"
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  namespace: {env}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  minReplicas: 2
  maxReplicas: 10
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
  namespace: {env}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
",
        2 + version % 3,
        3 + version
    )
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn person(out: &mut Vec<u8>, name: &str, email: &str, t: u64) {
    let _ = writeln!(
        out,
        "author {name} <{email}> {t} +0000\ncommitter {name} <{email}> {t} +0000"
    );
}

fn data(out: &mut Vec<u8>, bytes: &[u8]) {
    let _ = writeln!(out, "data {}", bytes.len());
    out.extend_from_slice(bytes);
    out.push(b'\n');
}

fn inline(out: &mut Vec<u8>, path: &str, bytes: &[u8]) {
    let _ = writeln!(out, "M 100644 inline {path}");
    data(out, bytes);
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    cmd
}

fn run_quiet(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let elapsed = t.elapsed();
    assert!(
        status.code().is_some_and(|c| c <= 1),
        "{cmd:?} failed: {status}"
    );
    elapsed
}

/// Run a command, returning its wall time and its own peak RSS in KiB.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
fn run_measured(cmd: &mut Command) -> (Duration, i64) {
    let t = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: plain libc call on our own child's pid with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = t.elapsed();
    assert_eq!(pid, child.id() as i32);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) <= 1,
        "{cmd:?} failed: {status}"
    );
    (elapsed, usage.ru_maxrss)
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
