//! The `arnmap` subcommands, one module each.

pub mod admin;
pub mod check;
pub mod datadog;
pub mod explain;
pub mod format;
pub mod lint;
pub mod proof;
pub mod serve;
pub mod test;
pub mod verify;

use std::io::IsTerminal;
use std::path::PathBuf;

use arnmap::SourceMap;
use arnmap::{CompiledPolicy, Diagnostics};

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: the command ran but found failures (tests, rejections).
pub const EXIT_FAILED: u8 = 1;
/// Exit status: the policy did not load or compile.
pub const EXIT_POLICY: u8 = 2;

/// Should stderr output be coloured?
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Loads and compiles policy paths, printing diagnostics (errors and
/// warnings) to stderr. `None` when the policy does not load or compile.
pub fn load_policy(paths: &[PathBuf]) -> Option<CompiledPolicy> {
    let sources = match SourceMap::load(paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    match CompiledPolicy::compile(&sources) {
        Ok(policy) => Some(policy),
        Err(diagnostics) => {
            eprint!("{}", render_all(&sources, &diagnostics));
            let errors = diagnostics.0.iter().filter(|d| d.is_error()).count();
            eprintln!("error: the policy does not compile ({errors} error(s))");
            None
        }
    }
}

fn render_all(sources: &SourceMap, diagnostics: &Diagnostics) -> String {
    diagnostics.render(sources, stderr_color())
}
