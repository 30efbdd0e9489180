//! `arnmap import --datadog` and `arnmap export --datadog`: Datadog's
//! persona-mapping API documents to a policy and back.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use arnmap::CompiledPolicy;
use arnmap::datadog;

use super::{EXIT_FAILED, EXIT_OK, EXIT_POLICY, load_policy, stderr_color};

/// `arnmap import`
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A persona-mapping API response (`{"data":[…]}` or `{"data":{…}}`); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub datadog: PathBuf,
    /// The org the mappings belong to.
    #[arg(long)]
    pub org: String,
}

/// `arnmap export`
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Print persona-mapping create requests (the only export format).
    #[arg(long, required = true)]
    pub datadog: bool,
    /// The org whose rules are exported.
    #[arg(long)]
    pub org: String,
    /// Policy files, or directories of `*.policy` files.
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
}

/// Prints the policy equivalent to the mappings. Exit 0; 1 when the document
/// is unreadable; 2 when the printed policy does not compile (its errors on stderr).
pub fn import(args: ImportArgs) -> ExitCode {
    let text = if args.datadog.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.datadog)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", args.datadog.display());
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let mappings = match datadog::parse_mappings(&text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: `{}`: {e}", args.datadog.display());
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let policy = datadog::policy_text(&args.org, &mappings);
    let _ = std::io::stdout().lock().write_all(policy.as_bytes());
    match CompiledPolicy::compile_str("imported.policy", &policy) {
        Ok(_) => ExitCode::from(EXIT_OK),
        Err(diagnostics) => {
            let mut sources = arnmap::SourceMap::new();
            sources.add("imported.policy", policy);
            eprint!("{}", diagnostics.render(&sources, stderr_color()));
            ExitCode::from(EXIT_POLICY)
        }
    }
}

/// Prints one create-request body per line; names on stderr the rules the
/// API cannot express. Exit 0, or 2 when the policy does not compile.
pub fn export(args: ExportArgs) -> ExitCode {
    let Some(policy) = load_policy(&args.paths) else {
        return ExitCode::from(EXIT_POLICY);
    };
    let export = datadog::export(&policy, &args.org);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for body in &export.requests {
        if writeln!(out, "{body}").is_err() {
            return ExitCode::from(EXIT_OK);
        }
    }
    for (rule, why) in &export.skipped {
        eprintln!("skipped rule `{rule}`: {why}");
    }
    ExitCode::from(EXIT_OK)
}
