//! The `govops` binary: parse the command line, run one command, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = govops::cli::Cli::parse();
    let exit = govops::commands::run(cli);
    std::process::ExitCode::from(exit as u8)
}
