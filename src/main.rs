//! The `govops` binary: parse the command line, run one command, exit with its code.

use clap::Parser;

// The gate allocates many small values (YAML nodes, Rego values); mimalloc
// made a full check of the benchmark corpus markedly faster than the system
// allocator. Without transparent huge pages (`no_thp`): zeroing a 2 MiB page
// on first touch cost the commit-msg hook a fifth of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // The Rego engine reports lookups that fail by design as anyhow errors;
    // with RUST_BACKTRACE set (common in CI) each one would capture a
    // backtrace. govops never prints them, so library backtraces stay off.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = govops::cli::Cli::parse();
    let exit = govops::commands::run(cli);
    end(exit as u8)
}

/// End the process now that everything is written: the exit handlers would
/// only have mimalloc free and return its pages one by one, which the
/// kernel does at once (2-3 ms of a full check).
#[allow(unsafe_code)]
fn end(code: u8) -> ! {
    use std::io::Write;
    // What is still buffered goes out first (stdout is line-buffered); as
    // at a normal exit, a failure to write it changes nothing more.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process; no Rust code runs after it, and the
    // files govops writes (reports, the audit log) are closed by now.
    unsafe { libc::_exit(i32::from(code)) }
}
