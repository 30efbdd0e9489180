//! Machine-readable lint output: JSON records and SARIF 2.1.0.

use serde::Serialize;
use serde_json::{Value, json};

use crate::policy::diagnostic::{Code, Diagnostic, Severity};
use crate::policy::source::SourceMap;

/// One diagnostic as `arnmap lint --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The stable code, `arnmap::…`.
    pub code: &'static str,
    /// `error`, `warning` or `note`.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The file name.
    pub file: String,
    /// 1-based line of the start.
    pub line: u32,
    /// 1-based column (in characters) of the start.
    pub column: u32,
    /// 1-based line of the end.
    pub end_line: u32,
    /// 1-based column of the end (one past the last character).
    pub end_column: u32,
    /// What to do about it.
    pub help: Option<String>,
    /// The rule concerned, if any.
    pub rule: Option<String>,
}

/// The records of some diagnostics.
pub fn records(sources: &SourceMap, diagnostics: &[Diagnostic]) -> Vec<Record> {
    diagnostics
        .iter()
        .map(|d| {
            let source = sources.get(d.span.source);
            let (line, column) = source.map_or((0, 0), |s| s.line_col(d.span.start));
            let (end_line, end_column) = source.map_or((0, 0), |s| s.line_col(d.span.end));
            Record {
                code: d.code.as_str(),
                severity: d.severity,
                message: d.message.to_string(),
                file: source.map_or(String::new(), |s| s.name.to_string()),
                line,
                column,
                end_line,
                end_column,
                help: d.help.as_deref().map(str::to_owned),
                rule: d.rule.clone(),
            }
        })
        .collect()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A SARIF 2.1.0 log with one run: every code as a reporting rule, every
/// diagnostic as a result located by file, line and column.
pub fn sarif(sources: &SourceMap, diagnostics: &[Diagnostic]) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.as_str().trim_start_matches("arnmap::"),
                "shortDescription": { "text": code.summary() },
                "fullDescription": { "text": code.summary() },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .zip(records(sources, diagnostics))
        .map(|(d, r)| {
            let rule_index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
            let text = match &r.help {
                Some(help) => format!("{}\nhelp: {help}", r.message),
                None => r.message.clone(),
            };
            let mut result = json!({
                "ruleId": r.code,
                "ruleIndex": rule_index,
                "level": level(r.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&r.file) },
                        "region": {
                            "startLine": r.line.max(1),
                            "startColumn": r.column.max(1),
                            "endLine": r.end_line.max(1),
                            "endColumn": r.end_column.max(1),
                        }
                    }
                }],
            });
            if let (Some(rule), Some(obj)) = (&r.rule, result.as_object_mut()) {
                obj.insert("properties".into(), json!({ "policyRule": rule }));
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "arnmap",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}

/// A relative file name as a URI reference (`/` separators, spaces escaped).
fn uri(file: &str) -> String {
    let file = file.strip_prefix("./").unwrap_or(file).replace('\\', "/");
    file.replace('%', "%25").replace(' ', "%20")
}
