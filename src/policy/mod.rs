//! The policy language front end: sources and diagnostics, text → pest
//! pairs → typed AST, the canonical layout (`format`), and Datadog
//! persona mappings as policy text (`datadog`).

pub mod ast;
pub mod datadog;
pub mod diagnostic;
pub mod format;
pub mod lower;
pub mod parser;
pub mod source;

use crate::policy::diagnostic::Diagnostic;
use crate::policy::source::SourceMap;

/// Parses and lowers every source; returns the files that parsed and every
/// diagnostic found (one syntax error per file at most, all lowering errors).
pub(crate) fn parse_all(
    sources: &SourceMap,
) -> (
    Vec<(crate::policy::source::SourceId, ast::File)>,
    Vec<Diagnostic>,
) {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for (id, source) in sources.iter() {
        match parser::parse(id, &source.text) {
            Ok(pair) => files.push((id, lower::lower(id, pair, &mut diags))),
            Err(diag) => diags.push(*diag),
        }
    }
    (files, diags)
}
