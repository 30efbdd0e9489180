//! The `arnmap` binary's commands, run as a subprocess
//! (`env!("CARGO_BIN_EXE_arnmap")`): output formats and exit codes.

mod cli;
mod lint_cli;
mod sarif;
