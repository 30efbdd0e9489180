//! The policy language front end: sources and diagnostics, text → pest
//! pairs → typed AST, the canonical layout (`format`), and Datadog
//! persona mappings as policy text (`datadog`).

pub mod ast;
pub mod datadog;
pub mod diagnostic;
pub mod fast;
pub mod format;
pub mod lower;
pub mod parser;
pub mod source;

use crate::policy::diagnostic::Diagnostic;
use crate::policy::source::{SourceId, SourceMap};

/// Parses and lowers every source; returns the files that parsed and every
/// diagnostic found (one syntax error per file at most, all lowering errors).
/// Each file is first read by the [`fast`] path; a file it is not sure of
/// goes through pest and [`lower`], which report its diagnostics.
pub(crate) fn parse_all(sources: &SourceMap) -> (Vec<(SourceId, ast::File<'_>)>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for (id, source) in sources.iter() {
        if let Some(file) = parse_one(id, &source.text, &mut diags) {
            files.push((id, file));
        }
    }
    (files, diags)
}

/// One source: the fast path, else pest and the lowering, whose syntax error
/// (then `None`) or lowering diagnostics are pushed to `diags`.
pub(crate) fn parse_one<'s>(
    id: SourceId,
    text: &'s str,
    diags: &mut Vec<Diagnostic>,
) -> Option<ast::File<'s>> {
    if let Some(file) = fast::parse(id, text) {
        return Some(file);
    }
    parse_slow(id, text, diags)
}

/// pest and the lowering alone (the grammar of record): the syntax error
/// (then `None`) or the lowering diagnostics are pushed to `diags`.
pub(crate) fn parse_slow<'s>(
    id: SourceId,
    text: &'s str,
    diags: &mut Vec<Diagnostic>,
) -> Option<ast::File<'s>> {
    match parser::parse(id, text) {
        Ok(pair) => Some(lower::lower(id, pair, diags)),
        Err(diag) => {
            diags.push(*diag);
            None
        }
    }
}
