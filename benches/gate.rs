//! The gate's speed, measured against the floor, on several shapes of
//! repository.
//!
//! Each shape is a corpus built with `git fast-import`: a base commit adding
//! 1,000 manifest files (5,000 Kubernetes documents), then a range of about
//! 2,000 commits (a mix of Claude, Copilot, kernel-style, aider and human
//! commits touching one to three files each). The shapes:
//!
//! - `base`: few findings;
//! - `findings`: most manifests carry findings (missing labels), about 2,300;
//! - `big-file`: besides, a 1 MB JSONL file that one commit in six rewrites
//!   (a sliding window: lines dropped, appended and edited), the shape of a
//!   repository that commits a data or log file;
//! - `merges`: the same changes made on topic branches of one to four
//!   commits, each merged into main with a merge commit;
//! - `tangled`: three topic branches open at once, so main moves under each
//!   while it is open; a file both sides changed is resolved with the
//!   topic's version (the merge redone by govops conflicts there).
//!
//! Side by side in one run, alternating, for each shape and size:
//!
//! - the floor: `git log --numstat --diff-merges=first-parent` over the range
//!   (merges are diffed against their first parent, as govops does) plus
//!   reading every manifest;
//! - `govops check --all-manifests` over the range (median time, peak memory);
//!
//! then the full check at 1x, 2x and 4x the corpus, to show how cost grows,
//! and `govops check --commit-msg-file` in the base corpus (about 1,400
//! tracked files) as `git commit` runs the hook, for the message alone, a
//! source file staged and a manifest staged, against gitlint on the same
//! message when it is installed.
//!
//! Run: `cargo bench --bench gate`. `GOVOPS_BENCH_SHAPES=base,merges` picks
//! shapes, `GOVOPS_BENCH_SCALES=1` sizes, `GOVOPS_BENCH_RUNS=5` the paired runs.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOVOPS: &str = env!("CARGO_BIN_EXE_govops");

/// `cargo test --all-targets` runs this too (without `--bench`): then it is a
/// smoke test of the benchmark itself, on a twentieth of each corpus, one run
/// each, in a debug build, measuring nothing.
struct Mode {
    divisor: usize,
    runs: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Base,
    Findings,
    BigFile,
    Merges,
    Tangled,
}

impl Shape {
    const ALL: [Shape; 5] = [
        Shape::Base,
        Shape::Findings,
        Shape::BigFile,
        Shape::Merges,
        Shape::Tangled,
    ];

    fn name(self) -> &'static str {
        match self {
            Shape::Base => "base",
            Shape::Findings => "findings",
            Shape::BigFile => "big-file",
            Shape::Merges => "merges",
            Shape::Tangled => "tangled",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Shape::Base => "few findings",
            Shape::Findings => "most manifests carry findings",
            Shape::BigFile => "a 1 MB JSONL file rewritten by one commit in six",
            Shape::Merges => "topic branches of 1-4 commits, each merged with a merge commit",
            Shape::Tangled => "three topic branches open at once, main moving under them",
        }
    }
}

/// One shape at one size, measured.
struct Measure {
    scale: usize,
    commits: usize,
    documents: usize,
    findings: usize,
    floor_log: Duration,
    floor_read: Duration,
    floor: Duration,
    full: Duration,
    /// Median, lowest and highest of the per-pair ratios.
    ratio: f64,
    ratio_lo: f64,
    ratio_hi: f64,
    peak_kib: i64,
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let runs = std::env::var("GOVOPS_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0);
    let mode = if smoke {
        println!("smoke run (cargo test): a 1/20 corpus, one run each; `cargo bench --bench gate` measures");
        Mode {
            divisor: 20,
            runs: 1,
        }
    } else {
        Mode {
            divisor: 1,
            runs: runs.unwrap_or(7),
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
    let shapes: Vec<Shape> = match std::env::var("GOVOPS_BENCH_SHAPES") {
        Ok(list) => Shape::ALL
            .into_iter()
            .filter(|s| list.split(',').any(|n| n.trim() == s.name()))
            .collect(),
        Err(_) => Shape::ALL.to_vec(),
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(if smoke {
        "bench-corpus-smoke"
    } else {
        "bench-corpus"
    });
    println!(
        "machine: {} cores, load average {} at the start",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        load()
    );
    let mut summary = Vec::new();
    for &shape in &shapes {
        println!("shape {}: {}", shape.name(), shape.what());
        let mut growth: Vec<Measure> = Vec::new();
        for &scale in &scales {
            let corpus = Corpus::build(
                &root.join(format!("{}-x{scale}", shape.name())),
                shape,
                scale,
                mode.divisor,
            );
            let m = measure(&corpus, &mode);
            println!(
                "  x{scale}: {} commits ({} merges), {} documents, {} findings: floor {} (git log {} + reading manifests {}); govops {} = {:.2}x the floor (median of {} paired runs, {:.2}-{:.2}x); peak memory {:.1} MB",
                corpus.commits,
                corpus.merges,
                corpus.documents,
                m.findings,
                ms(m.floor),
                ms(m.floor_log),
                ms(m.floor_read),
                ms(m.full),
                m.ratio,
                mode.runs,
                m.ratio_lo,
                m.ratio_hi,
                m.peak_kib as f64 / 1024.0
            );
            if shape == Shape::Base && growth.is_empty() {
                commit_msg(&corpus, &mode);
            }
            growth.push(m);
        }
        if growth.len() > 1 {
            // The floor grows too, and not quite linearly: each commit's diff
            // walks its folders' trees, which grow with the corpus. govops is
            // shown against its own first size and against the floor at each size.
            let first = &growth[0];
            let line: Vec<String> = growth
                .iter()
                .map(|m| {
                    format!(
                        "x{}: govops {:.2}x, floor {:.2}x, memory {:.2}x",
                        m.scale,
                        m.full.as_secs_f64() / first.full.as_secs_f64(),
                        m.floor.as_secs_f64() / first.floor.as_secs_f64(),
                        m.peak_kib as f64 / first.peak_kib.max(1) as f64
                    )
                })
                .collect();
            println!("  growth against x{}: {}", first.scale, line.join("; "));
        }
        summary.push((shape, growth));
    }
    println!("load average {} at the end", load());
    println!("| shape | size | commits | documents | findings | floor | govops | govops/floor (range) | peak memory |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (shape, growth) in &summary {
        for m in growth {
            println!(
                "| {} | x{} | {} | {} | {} | {} | {} | {:.2}x ({:.2}-{:.2}) | {:.0} MB |",
                shape.name(),
                m.scale,
                m.commits,
                m.documents,
                m.findings,
                secs(m.floor),
                secs(m.full),
                m.ratio,
                m.ratio_lo,
                m.ratio_hi,
                m.peak_kib as f64 / 1024.0
            );
        }
    }
}

/// The floor and govops, alternating run by run; the ratio is the median of
/// each run's pair: on a shared machine whose speed drifts by tens of percent
/// within a minute, medians taken minutes apart compare different machines.
fn measure(corpus: &Corpus, mode: &Mode) -> Measure {
    let check = || {
        let mut cmd = Command::new(GOVOPS);
        cmd.current_dir(&corpus.dir).args([
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
        ]);
        cmd
    };
    // One run first, unmeasured: it warms the page cache for both sides and
    // counts the findings.
    let out = check().stderr(Stdio::inherit()).output().unwrap();
    assert!(out.status.success(), "govops check failed: {}", out.status);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    let mut peak_kib = 0;
    let mut pairs = Vec::with_capacity(mode.runs);
    for _ in 0..mode.runs {
        let log = run_quiet(git(&corpus.dir).args([
            "log",
            "--numstat",
            "--diff-merges=first-parent",
            "--format=%H%n%an <%ae>%n%B",
            &corpus.range(),
        ]));
        let t = Instant::now();
        for f in &corpus.manifest_files {
            std::hint::black_box(std::fs::read(corpus.dir.join(f)).unwrap());
        }
        let read = t.elapsed();
        let (full, rss) = run_measured(&mut check());
        peak_kib = peak_kib.max(rss);
        pairs.push((log, read, full));
    }
    let mid = |f: &dyn Fn(&(Duration, Duration, Duration)) -> Duration| {
        let mut v: Vec<Duration> = pairs.iter().map(f).collect();
        v.sort();
        v[v.len() / 2]
    };
    let mut ratios: Vec<f64> = pairs
        .iter()
        .map(|(log, read, full)| full.as_secs_f64() / (*log + *read).as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    Measure {
        scale: corpus.scale,
        commits: corpus.commits,
        documents: corpus.documents,
        findings,
        floor_log: mid(&|p| p.0),
        floor_read: mid(&|p| p.1),
        floor: mid(&|p| p.0 + p.1),
        full: mid(&|p| p.2),
        ratio: ratios[ratios.len() / 2],
        ratio_lo: ratios[0],
        ratio_hi: ratios[ratios.len() - 1],
        peak_kib,
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| {
            let v: Vec<&str> = l.split_whitespace().take(3).collect();
            (v.len() == 3).then(|| v.join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The commit-msg hook's answer time, and gitlint's on the same message,
/// as `git commit` runs the hook: the index's cache of trees brought up to
/// date and named in `GIT_INDEX_FILE`. Three commits: the message alone, a
/// source file staged, and a manifest staged (its rules compile then).
fn commit_msg(corpus: &Corpus, mode: &Mode) {
    let msg = corpus.dir.join(".git/BENCH_MSG");
    std::fs::write(
        &msg,
        "Retry the payment client on 503\n\nThe upstream returns 503 during deploys.\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\nSigned-off-by: Ada Lovelace <ada@example.com>\n",
    )
    .unwrap();
    let first = |dir: &str| {
        String::from_utf8(
            git(&corpus.dir)
                .args(["ls-files", dir])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .lines()
        .next()
        .unwrap_or_else(|| panic!("the corpus has files in {dir}"))
        .to_string()
    };
    let (source, manifest) = (first("src"), first("deploy"));
    let cases: [(&str, Option<&str>); 3] = [
        ("the message alone", None),
        ("a source file staged", Some(source.as_str())),
        ("a manifest staged", Some(manifest.as_str())),
    ];
    let mut times: Vec<(&str, Duration)> = Vec::new();
    for (what, file) in cases {
        if let Some(file) = file {
            let path = corpus.dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str("\n# retried on 503\n");
            std::fs::write(&path, text).unwrap();
            run_quiet(git(&corpus.dir).args(["add", "--", file]));
        }
        // What `git commit` does before its hooks run.
        run_quiet(git(&corpus.dir).arg("write-tree"));
        let govops = median(if mode.runs == 1 { 3 } else { 51 }, || {
            run_quiet(
                Command::new(GOVOPS)
                    .current_dir(&corpus.dir)
                    .env("GIT_INDEX_FILE", ".git/index")
                    .arg("check")
                    .arg("--commit-msg-file")
                    .arg(&msg),
            )
        });
        run_quiet(git(&corpus.dir).args(["reset", "-q", "--hard", "HEAD"]));
        times.push((what, govops));
    }
    let shown: Vec<String> = times
        .iter()
        .map(|(what, t)| format!("{} ({what})", ms(*t)))
        .collect();
    let mut line = format!(
        "govops check --commit-msg-file: median {}",
        shown.join(", ")
    );
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
        let slowest = times.iter().map(|(_, t)| *t).max().unwrap();
        let _ = write!(
            line,
            "; gitlint {} on the same message: govops is {:.0}x faster, {:.0}x in the slowest case",
            ms(gitlint),
            gitlint.as_secs_f64() / times[0].1.as_secs_f64(),
            gitlint.as_secs_f64() / slowest.as_secs_f64()
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
    scale: usize,
    commits: usize,
    merges: usize,
    documents: usize,
    manifest_files: Vec<String>,
}

impl Corpus {
    fn range(&self) -> String {
        format!("{}..HEAD", self.base)
    }

    /// Build (or reuse) the corpus of `shape` at `dir`: one commit adding
    /// every manifest, then the range of 2,000 x `scale` commits (divided by
    /// `divisor` for a smoke run).
    fn build(dir: &Path, shape: Shape, scale: usize, divisor: usize) -> Corpus {
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
            let mut child = git(dir)
                .args(["fast-import", "--quiet"])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            // Streamed: the big-file shape writes gigabytes at 4x.
            let mut stream = BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
            Generator {
                out: &mut stream,
                shape,
                files,
                commits,
                divisor,
                manifest_files: &manifest_files,
            }
            .run();
            stream.flush().unwrap();
            drop(stream);
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
        let count = |extra: &[&str]| -> usize {
            let out = git(dir)
                .args(["rev-list", "--count"])
                .args(extra)
                .arg(format!("{base}..HEAD"))
                .output()
                .unwrap()
                .stdout;
            String::from_utf8(out).unwrap().trim().parse().unwrap()
        };
        Corpus {
            dir: dir.to_path_buf(),
            scale,
            commits: count(&[]),
            merges: count(&["--merges"]),
            base,
            documents: files * 5,
            manifest_files,
        }
    }
}

/// Writes one shape's fast-import stream.
struct Generator<'a, W: Write> {
    out: &'a mut W,
    shape: Shape,
    files: usize,
    commits: usize,
    divisor: usize,
    manifest_files: &'a [String],
}

impl<W: Write> Generator<'_, W> {
    fn run(self) {
        let Generator {
            out,
            shape,
            files,
            commits,
            divisor,
            manifest_files,
        } = self;
        let findings = shape == Shape::Findings;
        let mut versions = vec![0usize; files];
        let mut t = 1_750_000_000u64;
        // The base: every manifest, added by a human.
        let _ = write!(out, "commit refs/heads/main\nmark :1\n");
        person(out, "Ada Lovelace", "ada@example.com", t);
        data(out, b"Add the services\n");
        for (i, f) in manifest_files.iter().enumerate() {
            inline(out, f, manifest(i, 0, findings).as_bytes());
        }
        // The big file: 8,000 lines of about 130 bytes (1 MB), a twentieth
        // of it in a smoke run.
        let mut events: std::collections::VecDeque<String> = Default::default();
        let mut serial = 0usize;
        if shape == Shape::BigFile {
            for _ in 0..8000 / divisor {
                events.push_back(event(serial));
                serial += 1;
            }
            inline(out, "data/events.jsonl", joined(&events).as_bytes());
        }
        out.write_all(b"\n").unwrap();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        // The last mark written, and main's last commit.
        let (mut mark, mut main_tip) = (1, 1);
        // Topic branches open at once: one (main does not move while it is
        // open), or three (main moves under each, by the others' merges).
        let open = match shape {
            Shape::Merges => 1,
            Shape::Tangled => 3,
            _ => 0,
        };
        let mut topics: Vec<Topic> = Vec::new();
        let mut c = 0;
        while c < commits {
            t += 97;
            if let Some(done) = topics.iter().position(|t| t.left == 0) {
                // Close the topic: a merge commit on main.
                let topic = topics.remove(done);
                merge(out, &mut mark, main_tip, topic, t);
                main_tip = mark;
                c += 1;
                continue;
            }
            let r = next(&mut rng);
            if topics.len() < open {
                // A topic of 1-4 commits: 2.5 on average, and a merge each,
                // so about one commit in four (3.5) is a merge.
                topics.push(Topic {
                    name: format!("refs/heads/topic-{mark}"),
                    tip: main_tip,
                    left: 1 + (r >> 40) as usize % 4,
                    files: Vec::new(),
                });
            }
            let on = (r >> 44) as usize % topics.len().max(1);
            let (branch, parent) = match topics.get(on) {
                Some(topic) => (topic.name.clone(), topic.tip),
                None => ("refs/heads/main".to_string(), mark),
            };
            mark += 1;
            let _ = write!(out, "commit {branch}\nmark :{mark}\n");
            let (message, name, email) = message_for(c, r);
            person(out, name, email, t);
            data(out, message.as_bytes());
            let _ = writeln!(out, "from :{parent}");
            let touched = 1 + (r >> 8) as usize % 3;
            let mut changed: Vec<(String, Vec<u8>)> = Vec::new();
            for k in 0..touched {
                let pick = (next(&mut rng) >> 16) as usize;
                if k == 0 && pick.is_multiple_of(4) {
                    let i = pick % files;
                    versions[i] += 1;
                    changed.push((
                        manifest_files[i].clone(),
                        manifest(i, versions[i], findings).into_bytes(),
                    ));
                } else {
                    let m = pick % 400;
                    let body: String = (0..20 + pick % 40)
                        .map(|l| format!("pub fn f{l}() -> u32 {{ {} }}\n", c + l))
                        .collect();
                    changed.push((format!("src/m{m:03}.rs"), body.into_bytes()));
                }
            }
            if shape == Shape::BigFile && (r >> 20).is_multiple_of(6) {
                // A sliding window: 20 lines dropped at the top, 20
                // appended, 20 edited in place.
                for _ in 0..20 {
                    events.pop_front();
                    events.push_back(event(serial));
                    serial += 1;
                }
                for _ in 0..20 {
                    let at = (next(&mut rng) >> 16) as usize % events.len();
                    events[at] = event(serial);
                    serial += 1;
                }
                changed.push(("data/events.jsonl".into(), joined(&events).into_bytes()));
            }
            for (path, body) in &changed {
                inline(out, path, body);
            }
            out.write_all(b"\n").unwrap();
            match topics.get_mut(on) {
                Some(topic) => {
                    for (path, body) in changed {
                        match topic.files.iter_mut().find(|(p, _)| *p == path) {
                            Some(slot) => slot.1 = body,
                            None => topic.files.push((path, body)),
                        }
                    }
                    topic.tip = mark;
                    topic.left -= 1;
                }
                None => main_tip = mark,
            }
            c += 1;
        }
        // The topics still open, merged too.
        for topic in topics {
            t += 97;
            merge(out, &mut mark, main_tip, topic, t);
            main_tip = mark;
        }
    }
}

/// A topic branch while it is open: its ref, last commit, commits still to
/// make, and the files it changed with their last content.
struct Topic {
    name: String,
    tip: usize,
    left: usize,
    files: Vec<(String, Vec<u8>)>,
}

/// Merge `topic` into main: main's tree with the topic's files, so where
/// both changed a file the topic's version resolves it.
fn merge(out: &mut impl Write, mark: &mut usize, main_tip: usize, topic: Topic, t: u64) {
    *mark += 1;
    let _ = write!(out, "commit refs/heads/main\nmark :{mark}\n");
    person(out, "Grace Hopper", "grace@example.com", t);
    data(
        out,
        format!(
            "Merge branch '{}'\n\nReviewed-by: Grace Hopper <grace@example.com>\n",
            topic.name.trim_start_matches("refs/heads/")
        )
        .as_bytes(),
    );
    let _ = writeln!(out, "from :{main_tip}\nmerge :{}", topic.tip);
    for (path, body) in &topic.files {
        inline(out, path, body);
    }
    out.write_all(b"\n").unwrap();
}

/// One line of the JSONL file, about 130 bytes.
fn event(serial: usize) -> String {
    format!(
        "{{\"seq\":{serial},\"ts\":\"2026-01-01T00:00:{:02}Z\",\"service\":\"svc{:05}\",\"level\":\"info\",\"latency_ms\":{},\"msg\":\"request served\"}}",
        serial % 60,
        serial % 1000,
        serial * 7 % 1000
    )
}

fn joined(lines: &std::collections::VecDeque<String>) -> String {
    let mut s = String::with_capacity(lines.len() * 132);
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
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
/// With `findings`, nine files in ten lack the `cost-center` label on the
/// Deployment and the Service, and one in four the `owner` label too: about
/// 2.3 findings per file, the shape of a repository adopting the gate.
fn manifest(i: usize, version: usize, findings: bool) -> String {
    let env = env_of(i);
    let name = format!("svc{i:05}");
    let mut labels = format!("    app.kubernetes.io/name: {name}\n    environment: {env}\n");
    if !findings || !i.is_multiple_of(4) {
        let _ = writeln!(labels, "    owner: team-{}", i % 17);
    }
    if !findings || i.is_multiple_of(10) {
        let _ = writeln!(labels, "    cost-center: cc-{}", i % 5);
    }
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

fn person(out: &mut impl Write, name: &str, email: &str, t: u64) {
    let _ = writeln!(
        out,
        "author {name} <{email}> {t} +0000\ncommitter {name} <{email}> {t} +0000"
    );
}

fn data(out: &mut impl Write, bytes: &[u8]) {
    let _ = writeln!(out, "data {}", bytes.len());
    out.write_all(bytes).unwrap();
    out.write_all(b"\n").unwrap();
}

fn inline(out: &mut impl Write, path: &str, bytes: &[u8]) {
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
#[allow(unsafe_code)] // wait4: the child's own peak memory, which std does not give
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
    let pid = unsafe { libc::wait4(child.id().cast_signed(), &mut status, 0, &mut usage) };
    let elapsed = t.elapsed();
    assert_eq!(pid, child.id().cast_signed());
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

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
