//! Phase timings for `-v`: each phase of a run prints when it ended, counted
//! from the start of the run. A performance report a user can read without a
//! profiler (and how the benchmark's figures are explained).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
static START: OnceLock<Instant> = OnceLock::new();

/// Start the clock; `mark` prints from now on.
pub fn enable() {
    START.get_or_init(Instant::now);
    ENABLED.store(true, Ordering::Relaxed);
}

/// Print that `phase` ended, when enabled. Cheap when not.
pub fn mark(phase: &str) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let start = START.get_or_init(Instant::now);
    eprintln!(
        "govops: {phase} done at {:.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
}
