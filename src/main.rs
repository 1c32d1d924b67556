//! The `govops` binary: parse the command line, run one command, exit with its code.

use clap::Parser;

// The gate allocates many small values (YAML nodes, Rego values); mimalloc
// made a full check of the benchmark corpus markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = govops::cli::Cli::parse();
    let exit = govops::commands::run(cli);
    std::process::ExitCode::from(exit as u8)
}
