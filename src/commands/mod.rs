//! One module per command; `run` dispatches and turns errors into exit code 2.

mod audit;
mod baseline;
mod check;
mod config;
mod hook;
pub mod init;
mod rules;
mod stats;
mod test;

use crate::cli::{Cli, ColorChoice, Command, Global};
use crate::error::{Error, Exit};
use std::io::{IsTerminal, Write};

pub fn run(cli: Cli) -> Exit {
    let result = match &cli.command {
        Command::Check(args) => check::run(&cli.global, args),
        Command::Rules(cmd) => rules::run(&cli.global, cmd),
        Command::Test(args) => test::run(&cli.global, args),
        Command::Audit(cmd) => audit::run(&cli.global, cmd),
        Command::Baseline(args) => baseline::run(&cli.global, args),
        Command::Config(crate::cli::ConfigCommand::Validate { file }) => {
            config::validate(&cli.global, file.as_deref())
        }
        Command::Init { force } => init::init(&cli.global, *force),
        Command::Hook(crate::cli::HookCommand::Install { force, uninstall }) => {
            hook::install(&cli.global, *force, *uninstall)
        }
        Command::Stats(args) => stats::run(&cli.global, args),
        Command::Schema { kind } => init::schema(*kind),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "govops", &mut out);
            print(&String::from_utf8_lossy(&out)).map(|_| Exit::Pass)
        }
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("govops: error: {e}");
            Exit::Error
        }
    }
}

/// Whether stdout gets colour.
pub fn use_color(global: &Global) -> bool {
    match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Write to stdout; a closed pipe (`govops ... | head`) is not a failure.
pub fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("stdout", e)),
        _ => Ok(()),
    }
}
