//! The `arnmap` binary's commands, run as a subprocess
//! (`env!("CARGO_BIN_EXE_arnmap")`): output formats and exit codes.

// clippy.toml's allow-*-in-tests cover `#[test]` functions only; the helpers
// beside them may unwrap, expect, panic and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod admin_cli;
mod cli;
mod lint_cli;
mod sarif;
