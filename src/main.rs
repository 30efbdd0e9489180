//! The `arnmap` command-line interface.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Map AWS caller identities to accounts with a compiled policy.
#[derive(Debug, Parser)]
#[command(name = "arnmap", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide which account a caller maps to.
    Check(cli::check::CheckArgs),
    /// Run the policy's `test` blocks.
    Test(cli::test::TestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => cli::check::run(args),
        Command::Test(args) => cli::test::run(args),
    }
}
