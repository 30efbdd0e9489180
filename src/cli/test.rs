//! `arnmap test`: run every `test` block of a policy.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{EXIT_FAILED, EXIT_OK, EXIT_POLICY, load_policy, stderr_color};

/// `arnmap test`
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy files, or directories of `*.policy` files.
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
}

/// Runs `arnmap test`: exit 0 when every test passes, 1 when one fails, 2
/// when the policy does not compile.
pub fn run(args: TestArgs) -> ExitCode {
    let Some(policy) = load_policy(&args.paths) else {
        return ExitCode::from(EXIT_POLICY);
    };
    let outcomes = arnmap::run_tests(&policy);
    let mut failed = 0;
    for outcome in &outcomes {
        let (file, line) = policy
            .sources()
            .locate(outcome.test.span)
            .map_or(("?".into(), 0), |(f, l, _)| (f.to_owned(), l));
        let arn = outcome.test.identity.arn();
        if let Some(diag) = outcome.diagnostic() {
            failed += 1;
            println!("FAIL {file}:{line} [{}] {arn}", outcome.org);
            eprint!("{}", diag.render(policy.sources(), stderr_color()));
        } else {
            println!(
                "ok   {file}:{line} [{}] {arn} -> {}",
                outcome.org, outcome.decision
            );
        }
    }
    let passed = outcomes.len() - failed;
    println!("\ntest result: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::from(EXIT_OK)
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}
