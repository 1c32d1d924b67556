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
    std::process::ExitCode::from(exit as u8)
}
