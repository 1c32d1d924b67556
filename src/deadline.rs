//! The run's deadline: whatever the input, `govops check` finishes or fails
//! within `limits.run_timeout_ms`. Each reader bounds its own input (file
//! sizes, alias budgets, diff sizes, tree depth, Rego time); this is the
//! backstop for a cost nobody thought of, so that a hostile pull request can
//! stall a CI job for minutes at most, and the job then fails (exit 2)
//! instead of passing or hanging until the CI system kills it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Set once the run starts writing its audit record and reports: from then
/// on it finishes, since stopping mid-write would tear what it writes, and
/// what is left is bounded work.
static FINISHING: AtomicBool = AtomicBool::new(false);

/// The phase the run is in, for the message when the deadline passes.
static PHASE: Mutex<&str> = Mutex::new("starting");

/// Say what the run is doing now (named in the deadline's message).
pub fn phase(name: &'static str) {
    if let Ok(mut p) = PHASE.lock() {
        *p = name;
    }
}

/// Exit with code 2 when the run has not reached `finishing` within `limit`
/// from now. The watch runs on its own thread, so it fires even while the
/// main thread is inside a library call (libgit2, the YAML parser, regorus).
pub fn arm(limit: Duration) {
    let until = Instant::now() + limit;
    std::thread::spawn(move || {
        loop {
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep(until - now);
        }
        if FINISHING.load(Ordering::SeqCst) {
            return;
        }
        let phase = PHASE.lock().map_or("running", |p| *p);
        eprintln!(
            "govops: error: the run took longer than limits.run_timeout_ms ({} ms) while {phase}; nothing was judged. \
             Check a narrower range (--base), or raise the limit in the policy if the repository is this large",
            limit.as_millis()
        );
        std::process::exit(crate::error::Exit::Error as i32);
    });
}

/// The run is writing its results: the deadline no longer applies.
pub fn finishing() {
    FINISHING.store(true, Ordering::SeqCst);
}
