//! Running a command and measuring it: its output, wall time and its own
//! peak memory. One copy for the integration tests (`tests/it`) and the
//! bench (`benches/gate.rs`), each of which includes this file with
//! `#[path]`, so that both measure the same way.

use std::path::Path;
use std::process::{Command, Output};

/// One run of a command: what it printed, how long it took, its peak memory.
pub struct Run {
    pub output: Output,
    pub elapsed: std::time::Duration,
    /// Peak resident memory of the command's process, in KiB (GNU time's).
    pub peak_kib: u64,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// Assert the run stayed within a time and a memory bound.
    pub fn assert_bounded(&self, seconds: u64, mib: u64) {
        assert!(
            self.elapsed < std::time::Duration::from_secs(seconds),
            "took {:?}, over {seconds} s",
            self.elapsed
        );
        assert!(
            self.peak_kib < mib * 1024,
            "peak memory {} MiB, over {mib} MiB",
            self.peak_kib / 1024
        );
    }
}

/// Run a command, measuring its time and its own peak memory.
///
/// The peak comes from GNU time, which forks the command from its own small
/// process: a child forked (or spawned) straight from the measuring process
/// would report, through wait4, the measuring process's high-water mark when
/// that is higher (Linux carries it over to the child and across exec), and
/// late in a long test run (or a bench that built a corpus) it is.
/// scripts/test installs GNU time.
pub fn run_measured(cmd: Command) -> Run {
    const TIME: &str = "/usr/bin/time";
    assert!(
        Path::new(TIME).exists(),
        "GNU time is needed to measure memory (scripts/test installs it)"
    );
    let mut timed = Command::new(TIME);
    timed
        .args(["-f", "GOVOPS_PEAK_KIB=%M"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let mut run = run_waited(timed);
    let stderr = String::from_utf8_lossy(&run.output.stderr).into_owned();
    let (rest, peak) = stderr
        .trim_end()
        .rsplit_once("GOVOPS_PEAK_KIB=")
        .unwrap_or_else(|| panic!("GNU time's report in: {stderr}"));
    run.peak_kib = peak.trim().parse().expect("GNU time's %M");
    // GNU time adds a line of its own for a failing or killed command.
    let rest = match rest.trim_end_matches('\n').rsplit_once('\n') {
        Some((before, last))
            if last.starts_with("Command exited with non-zero status")
                || last.starts_with("Command terminated by signal") =>
        {
            format!("{before}\n")
        }
        None if rest.starts_with("Command exited with non-zero status")
            || rest.starts_with("Command terminated by signal") =>
        {
            String::new()
        }
        _ => rest.to_string(),
    };
    run.output.stderr = rest.into_bytes();
    run
}

/// Run `cmd` to completion, reaping it with `wait4` (its exit status and
/// time; getrusage of all children would mix in other tests').
#[allow(clippy::zombie_processes)] // reaped by wait4, which std cannot see
#[allow(unsafe_code)] // wait4: the child's own peak memory, which std does not give
fn run_waited(mut cmd: Command) -> Run {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("govops runs");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            pipe.read_to_end(&mut buf).expect("read the pipe");
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and the pid is our own unreaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4: {}", std::io::Error::last_os_error());
    Run {
        output: Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        },
        elapsed: started.elapsed(),
        peak_kib: usage.ru_maxrss.cast_unsigned(),
    }
}
