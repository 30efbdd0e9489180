//! `arnmap fmt`: rewrite policy files in the canonical layout, or check them.

use std::path::PathBuf;
use std::process::ExitCode;

use arnmap::SourceMap;

use super::{EXIT_FAILED, EXIT_OK, EXIT_POLICY, stderr_color};

/// `arnmap fmt`
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Policy files, or directories of `*.policy` files.
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Change nothing; exit 1 when a file is not formatted.
    #[arg(long)]
    pub check: bool,
}

/// Runs `arnmap fmt`: exit 0 when every file is (now) formatted, 1 with
/// `--check` when one is not, 2 when a file does not parse or cannot be written.
pub fn run(args: FmtArgs) -> ExitCode {
    let sources = match SourceMap::load(&args.paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_POLICY);
        }
    };
    let mut status = EXIT_OK;
    for (_, source) in sources.iter() {
        let formatted = match arnmap::format_policy(&source.text) {
            Ok(f) => f,
            Err(diagnostic) => {
                let mut one = SourceMap::new();
                one.add(source.name.clone(), source.text.clone());
                eprint!("{}", diagnostic.render(&one, stderr_color()));
                status = EXIT_POLICY;
                continue;
            }
        };
        if formatted == *source.text {
            continue;
        }
        if args.check {
            eprintln!(
                "{} is not formatted (run `arnmap fmt {}`)",
                source.name, source.name
            );
            status = status.max(EXIT_FAILED);
        } else if let Err(e) = std::fs::write(&*source.name, formatted) {
            eprintln!("error: cannot write `{}`: {e}", source.name);
            status = EXIT_POLICY;
        } else {
            eprintln!("formatted {}", source.name);
        }
    }
    ExitCode::from(status)
}
