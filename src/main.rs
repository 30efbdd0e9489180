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
    /// Check a policy for mistakes: overlaps, shadowed rules, broad patterns, failing tests.
    Lint(cli::lint::LintArgs),
    /// Show every rule that matched a caller, the winner and the precedence step that decided.
    Explain(cli::explain::ExplainArgs),
    /// Rewrite policy files in the canonical layout (`--check`: only report).
    Fmt(cli::format::FmtArgs),
    /// Print the policy equivalent to a Datadog persona-mapping API response.
    Import(cli::datadog::ImportArgs),
    /// Print Datadog persona-mapping create requests for a policy's rules.
    Export(cli::datadog::ExportArgs),
    /// Print a proof signed with the AWS credentials in the environment.
    Proof(cli::proof::ProofArgs),
    /// Check a proof, replay it to STS and print the caller it proves.
    Verify(cli::verify::VerifyArgs),
    /// Run the reference service (token exchange, persona-mapping API, JWKS).
    Serve(cli::serve::ServeArgs),
    /// Manage API/application keys and token signing keys in the data dir.
    #[command(subcommand)]
    Keys(cli::admin::KeysCommand),
    /// Let tokens issued to an account use the persona-mapping API (`--revoke`: no longer).
    Grant(cli::admin::GrantArgs),
    /// List or delete an org's stored persona mappings (recovery, service stopped).
    #[command(subcommand)]
    Mappings(cli::admin::MappingsCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => cli::check::run(args),
        Command::Test(args) => cli::test::run(args),
        Command::Lint(args) => cli::lint::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Fmt(args) => cli::format::run(args),
        Command::Import(args) => cli::datadog::import(args),
        Command::Export(args) => cli::datadog::export(args),
        Command::Proof(args) => cli::proof::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Serve(args) => cli::serve::run(args),
        Command::Keys(command) => cli::admin::keys(command),
        Command::Grant(args) => cli::admin::grant(args),
        Command::Mappings(command) => cli::admin::mappings(command),
    }
}
