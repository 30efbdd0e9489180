//! `arnmap lint`: every check, printed for humans, as JSON, or as SARIF.

use std::path::PathBuf;
use std::process::ExitCode;

use arnmap::Severity;
use arnmap::SourceMap;
use arnmap::lint::{self, Options};

use super::{EXIT_FAILED, EXIT_OK, EXIT_POLICY, stderr_color};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rendered like a compiler's diagnostics (stderr), with a summary.
    Human,
    /// A JSON array of diagnostics (stdout).
    Json,
    /// SARIF 2.1.0 (stdout), for code scanning.
    Sarif,
}

/// `arnmap lint`
#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Policy files, or directories of `*.policy` files.
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Only lint this org.
    #[arg(long)]
    pub org: Option<String>,
}

/// Runs `arnmap lint`: exit 0 when clean (warnings allowed), 1 when there are
/// warnings and `--deny-warnings` is given, 2 when there is an error.
pub fn run(args: LintArgs) -> ExitCode {
    let sources = match SourceMap::load(&args.paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_POLICY);
        }
    };
    let diagnostics = lint::lint_sources(
        &sources,
        Options {
            org: args.org.as_deref(),
        },
    );
    match args.format {
        Format::Human => {
            for d in &diagnostics {
                let at = sources
                    .locate(d.span)
                    .map(|(f, l, c)| format!(" {f}:{l}:{c}"))
                    .unwrap_or_default();
                eprintln!("{}[{}]:{at}", d.severity, d.code);
                eprintln!("{}", d.render(&sources, stderr_color()));
            }
            let count = |s| diagnostics.iter().filter(|d| d.severity == s).count();
            eprintln!(
                "lint: {} error(s), {} warning(s), {} note(s)",
                count(Severity::Error),
                count(Severity::Warning),
                count(Severity::Note)
            );
        }
        Format::Json => {
            let records = lint::records(&sources, &diagnostics);
            print_out(&serde_json::to_string_pretty(&records).unwrap_or_else(|_| "[]".into()));
        }
        Format::Sarif => {
            let log = lint::sarif(&sources, &diagnostics);
            print_out(&serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into()));
        }
    }
    if lint::has_errors(&diagnostics) {
        ExitCode::from(EXIT_POLICY)
    } else if args.deny_warnings && lint::has_warnings(&diagnostics) {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// Prints to stdout; a closed pipe is not an error worth a panic.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}
