//! Located diagnostics: every syntax and semantic problem in a policy, with a
//! stable code, the span it is about and a line of help.

use std::borrow::Cow;
use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};
use serde::Serialize;

use crate::policy::source::{SourceMap, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Note,
    /// Suspicious but compiles.
    Warning,
    /// The policy does not compile (or its tests fail).
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($($(#[doc = $doc:literal])+ $variant:ident => $slug:literal,)*) => {
        /// A stable diagnostic code (listed in the README).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
pub enum Code {
            $($(#[doc = $doc])+ $variant,)*
        }

        impl Code {
            /// Every code.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// What the code means, in one sentence (its doc comment).
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!($($doc),+).trim_ascii_start(),)*
                }
            }

            /// The code as printed: `arnmap::unknown-attribute`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => concat!("arnmap::", $slug),)*
                }
            }
        }
    };
}

codes! {
    /// The text does not follow the grammar.
    Syntax => "syntax",
    /// A condition names an attribute that does not exist.
    UnknownAttribute => "unknown-attribute",
    /// A condition uses an operator that does not exist.
    UnknownOperator => "unknown-operator",
    /// An operator got the wrong kind of operand (`in "x"`, `== [..]`).
    OperandKind => "operand-kind",
    /// A regex that does not compile or is over the size limit.
    InvalidRegex => "invalid-regex",
    /// A glob that does not compile.
    InvalidGlob => "invalid-glob",
    /// A template placeholder that does not exist.
    UnknownPlaceholder => "unknown-placeholder",
    /// A template with an unclosed or stray brace.
    TemplateSyntax => "template-syntax",
    /// A literal target that is not an account identifier.
    InvalidTarget => "invalid-target",
    /// A malformed pattern (sections, length).
    PatternSyntax => "pattern-syntax",
    /// A pattern whose partition matches no partition.
    PatternPartition => "pattern-partition",
    /// A pattern whose service is not iam or sts.
    PatternService => "pattern-service",
    /// A pattern with a non-empty region.
    PatternRegion => "pattern-region",
    /// A pattern whose account can never be 12 digits.
    PatternAccount => "pattern-account",
    /// A pattern whose resource is of no caller kind.
    PatternResource => "pattern-resource",
    /// `role/PATH/…` with a wildcard.
    RolePathWildcard => "role-path-wildcard",
    /// A literal role path that is dropped.
    RolePathIgnored => "role-path-ignored",
    /// A user-pattern wildcard that can span path segments.
    UserWildcardCrossesPath => "user-wildcard-crosses-path",
    /// Two rules of one org with the same `as` name.
    DuplicateRuleName => "duplicate-rule-name",
    /// A `test` block whose caller is not a valid caller identity.
    InvalidTestCaller => "invalid-test-caller",
    /// A `test` block whose expectation is not met.
    TestFailed => "test-failed",
    /// Two rules of one org with the same normalised pattern and condition.
    DuplicateRule => "duplicate-rule",
    /// A rule that can never win: an unconditional deny covers it.
    ShadowedByDeny => "shadowed-by-deny",
    /// A rule that can never win: an unconditional rule that precedes it covers it.
    ShadowedRule => "shadowed-rule",
    /// Two map rules that can match one caller with equal specificity and different targets.
    AmbiguousOverlap => "ambiguous-overlap",
    /// A map rule without a condition that matches any account or every principal of one.
    BroadPattern => "broad-pattern",
    /// A template that renders a non-identifier for some caller the rule matches.
    TemplateInvalid => "template-invalid",
    /// An org id that is not a UUID.
    OrgIdNotUuid => "org-id-not-uuid",
    /// A rule that decides no `test` block.
    UntestedRule => "untested-rule",
    /// An overlap question too intricate to decide within the analysis budget.
    AnalysisLimit => "analysis-limit",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error, warning or note.
    pub severity: Severity,
    /// What is wrong (borrowed when it is a fixed text: a policy with many
    /// rules of one warned-about shape keeps no copy per rule).
    pub message: Cow<'static, str>,
    /// Where.
    pub span: Span,
    /// A short label under the underlined span.
    pub label: Option<Cow<'static, str>>,
    /// What to do about it.
    pub help: Option<Cow<'static, str>>,
    /// The rule concerned, if any.
    pub rule: Option<String>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(code: Code, span: Span, message: impl Into<Cow<'static, str>>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            help: None,
            rule: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(code: Code, span: Span, message: impl Into<Cow<'static, str>>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// A note diagnostic.
    pub fn note(code: Code, span: Span, message: impl Into<Cow<'static, str>>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<Cow<'static, str>>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a label under the span.
    pub fn with_label(mut self, label: impl Into<Cow<'static, str>>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Names the rule concerned.
    pub fn with_rule(mut self, rule: impl Into<String>) -> Diagnostic {
        self.rule = Some(rule.into());
        self
    }

    /// Is this an error?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic like a compiler: code, message, `file:line:col`,
    /// the snippet with the span underlined, and the help line.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        let Some(source) = sources.get(self.span.source) else {
            return format!("{}[{}]: {}\n", self.severity, self.code, self.message);
        };
        let severity = match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        };
        let (len, start) = (self.span.range().len(), self.span.start as usize);
        let label = LabeledSpan::new(self.label.as_deref().map(str::to_owned), start, len);
        let mut diag = MietteDiagnostic::new(self.message.clone())
            .with_code(self.code.as_str())
            .with_severity(severity)
            .with_label(label);
        if let Some(help) = &self.help {
            diag = diag.with_help(help.clone());
        }
        let report = miette::Report::new(diag)
            .with_source_code(NamedSource::new(&source.name, source.text.to_string()));
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let mut out = String::new();
        let handler = GraphicalReportHandler::new_themed(theme).with_context_lines(1);
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            out = format!("{}[{}]: {}\n", self.severity, self.code, self.message);
        }
        out
    }
}

/// Several diagnostics, as one error value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} error(s) in the policy", .0.iter().filter(|d| d.is_error()).count())]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Renders them all.
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        self.0
            .iter()
            .map(|d| d.render(sources, color))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
