//! The policy language front end: text → pest pairs → typed AST.

pub mod ast;
pub mod lower;
pub mod parser;

use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

/// Parses and lowers every source; returns the files that parsed and every
/// diagnostic found (one syntax error per file at most, all lowering errors).
pub fn parse_all(
    sources: &SourceMap,
) -> (Vec<(crate::source::SourceId, ast::File)>, Vec<Diagnostic>) {
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
