//! `arnmap lint`: every check a policy author runs before a policy ships.
//!
//! The library entry points work on in-memory sources and never do I/O:
//!
//! * [`lint_sources`] parses, compiles and lints a [`SourceMap`] (file name +
//!   text): compile errors come back as diagnostics too, so one call answers
//!   "may this policy ship?";
//! * [`lint`] lints an already compiled policy, optionally restricted to one
//!   org ([`Options::org`]); refuse a change when [`has_errors`] is true.
//!
//! (`arnmap serve` lints a persona-mapping write with a crate-private entry
//! point that asks only the questions involving the new rule, at a cost
//! proportional to the rules it can meet.)
//!
//! Checks, one module per family:
//!
//! * `pairs`: duplicate rules, rules that can never win (shadowed by a deny,
//!   or by a rule that precedes them and covers them), and two map rules that
//!   can match the same caller with equal specificity and different targets.
//!   Overlap and cover are decided exactly by `overlap` (an automaton product
//!   per ARN section); a rule with a condition never shadows anything.
//! * `broad`: a map rule without a condition that matches any account, or
//!   every principal of an account.
//! * `template`: a template that renders something that is not an account
//!   identifier for some caller the rule matches (with that caller).
//! * `coverage`: failing `test` blocks (errors) and rules that no test
//!   exercises (notes).
//! * `orgs`: org ids that are not UUIDs.
//! * `empty`: patterns that compile but match no caller (exact).
//!
//! Compile diagnostics (syntax, unknown names, bad regexes, impossible
//! patterns, role paths, user wildcards crossing path segments) are part of
//! the result.

pub(crate) mod automaton;
pub(crate) mod broad;
pub(crate) mod coverage;
pub(crate) mod empty;
// Only the service lints single writes.
#[cfg(feature = "serve")]
pub(crate) mod new_rule;
pub(crate) mod orgs;
#[doc(hidden)]
pub mod overlap;
pub(crate) mod pairs;
pub(crate) mod report;

#[cfg(feature = "serve")]
pub(crate) use new_rule::{Against, lint_new_rule, lint_own_rules_against_files};
pub use report::{Record, records, sarif};
pub(crate) mod template;

use rustc_hash::FxHashMap;

use crate::engine::policy::CompiledPolicy;
use crate::policy::ast;
use crate::policy::diagnostic::{Diagnostic, Severity};
use crate::policy::source::{SourceMap, Span};
use crate::rule::{OrgId, Rule};

/// What to lint.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Only this org's rules, tests and warnings (all orgs when `None`).
    pub org: Option<&'a str>,
}

/// Parses, compiles and lints sources. When the policy does not compile, the
/// result is the compile diagnostics (errors and warnings) of every org,
/// whatever [`Options::org`] says: a policy that does not compile cannot serve
/// any org.
pub fn lint_sources(sources: &SourceMap, options: Options<'_>) -> Vec<Diagnostic> {
    match CompiledPolicy::compile(sources) {
        Ok(policy) => lint(&policy, options),
        Err(diagnostics) => diagnostics.0,
    }
}

/// Lints a compiled policy: its compile warnings plus every lint check,
/// sorted by position.
pub fn lint(policy: &CompiledPolicy, options: Options<'_>) -> Vec<Diagnostic> {
    let ctx = Context::new(policy, options);
    let mut out: Vec<Diagnostic> = policy
        .warnings()
        .iter()
        .filter(|d| ctx.span_in_scope(d.span))
        .map(|d| ctx.with_rule_of_span(d.clone()))
        .collect();
    orgs::check(&ctx, &mut out);
    for org in ctx.orgs() {
        empty::check(&ctx, org, &mut out);
        pairs::check(&ctx, org, &mut out);
        broad::check(&ctx, org, &mut out);
        template::check(&ctx, org, &mut out);
    }
    coverage::check(&ctx, &mut out);
    out.sort_by(|a, b| {
        (a.span.source, a.span.start, a.code).cmp(&(b.span.source, b.span.start, b.code))
    });
    out.dedup();
    out
}

/// Is any diagnostic an error (the policy, or the write, must be refused)?
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// Is any diagnostic a warning or an error (`--deny-warnings` fails)?
pub fn has_warnings(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity >= Severity::Warning)
}

/// What the checks share: the policy, the scope, and spans from the syntax tree.
pub(crate) struct Context<'p> {
    /// The policy.
    pub policy: &'p CompiledPolicy,
    scope: Option<OrgId>,
    /// Rule span → the span of its pattern.
    pattern_spans: FxHashMap<Span, Span>,
    /// Rule span → the span of its target.
    target_spans: FxHashMap<Span, Span>,
    /// Every `org "ID"` as written, with the span of the id and of the block.
    org_decls: Vec<(String, Span, Span)>,
}

impl<'p> Context<'p> {
    fn new(policy: &'p CompiledPolicy, options: Options<'_>) -> Context<'p> {
        let (files, _) = crate::policy::parse_all(policy.sources());
        let mut pattern_spans = FxHashMap::default();
        let mut target_spans = FxHashMap::default();
        let mut org_decls = Vec::new();
        for (_, file) in &files {
            for org in &file.orgs {
                org_decls.push((org.id.node.to_string(), org.id.span, org.span));
                for rule in &org.rules {
                    pattern_spans.insert(rule.span, rule.pattern.span);
                    if let ast::EffectDecl::Map { target } = &rule.effect {
                        target_spans.insert(rule.span, target.span);
                    }
                }
            }
        }
        // An unknown org is a scope with no rules: nothing of another org leaks in.
        let scope = options
            .org
            .map(|id| policy.org(id).map_or(OrgId::MAX, |(org_id, _)| org_id));
        Context {
            policy,
            scope,
            pattern_spans,
            target_spans,
            org_decls,
        }
    }

    /// The orgs in scope.
    pub fn orgs(&self) -> impl Iterator<Item = OrgId> + '_ {
        (0..self.policy.orgs().len() as OrgId).filter(|&o| self.scope.is_none_or(|s| s == o))
    }

    /// Is this org in scope?
    pub fn org_in_scope(&self, id: &str) -> bool {
        match self.scope {
            None => true,
            Some(s) => self.policy.org(id).is_some_and(|(o, _)| o == s),
        }
    }

    /// Is a span inside a block of an org in scope?
    fn span_in_scope(&self, span: Span) -> bool {
        self.scope.is_none()
            || self.org_decls.iter().any(|(id, _, block)| {
                self.org_in_scope(id)
                    && block.source == span.source
                    && block.start <= span.start
                    && span.end <= block.end
            })
    }

    /// `org "ID"` declarations in scope: the id and its span.
    pub fn org_decls(&self) -> impl Iterator<Item = (&str, Span)> {
        self.org_decls
            .iter()
            .filter(|(id, _, _)| self.org_in_scope(id))
            .map(|(id, span, _)| (id.as_str(), *span))
    }

    /// The rules of an org, in precedence order (a lower position wins).
    pub fn rules(&self, org: OrgId) -> Vec<&'p Rule> {
        let mut rules: Vec<&Rule> = self
            .policy
            .orgs()
            .get(org as usize)
            .map(|o| {
                o.rules
                    .iter()
                    .filter_map(|&r| self.policy.rules().get(r as usize))
                    .collect()
            })
            .unwrap_or_default();
        rules.sort_by_key(|r| crate::engine::precedence::precedence_key(r));
        rules
    }

    /// The span of a rule's pattern (the rule's span if unknown).
    pub fn pattern_span(&self, rule: &Rule) -> Span {
        self.pattern_spans
            .get(&rule.span)
            .copied()
            .unwrap_or(rule.span)
    }

    /// The span of a map rule's target (the rule's span if unknown).
    pub fn target_span(&self, rule: &Rule) -> Span {
        self.target_spans
            .get(&rule.span)
            .copied()
            .unwrap_or(rule.span)
    }

    /// Names the rule whose text holds the diagnostic's span, if it has none.
    fn with_rule_of_span(&self, d: Diagnostic) -> Diagnostic {
        if d.rule.is_some() {
            return d;
        }
        let rule = self.policy.rules().iter().find(|r| {
            r.span.source == d.span.source
                && r.span.start <= d.span.start
                && d.span.end <= r.span.end
        });
        match rule {
            Some(rule) => {
                let id = self.id(rule);
                d.with_rule(id)
            }
            None => d,
        }
    }

    /// A rule's id (`as` name or `file:line`).
    pub fn id(&self, rule: &Rule) -> String {
        self.policy.rule_id(rule).into_owned()
    }

    /// `file:line:col` of a rule, for messages.
    pub fn location(&self, rule: &Rule) -> String {
        self.policy
            .sources()
            .locate(rule.span)
            .map_or("?".into(), |(f, l, c)| format!("{f}:{l}:{c}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::diagnostic::Code;

    const A: &str = "11111111-2222-4333-8444-555555555555";
    const B: &str = "66666666-7777-4888-9999-aaaaaaaaaaaa";

    /// What a service does with a persona-mapping write: lint the org's new
    /// policy from in-memory sources and refuse it on an error.
    #[test]
    fn one_org_is_linted_from_in_memory_sources() {
        let mut sources = SourceMap::new();
        sources.add(
            "a.policy",
            format!(
                r#"org "{A}" {{
                    map "arn:aws:sts::123456789012:assumed-role/ci-*" to "ci@example.com" as m1
                    map "arn:aws:sts::123456789012:assumed-role/*-ci" to "other@example.com" as m2
                }}"#
            ),
        );
        sources.add(
            "b.policy",
            format!(r#"org "{B}" {{ map "arn:aws:sts::123456789012:assumed-role/x" to "x@example.com" as only }}"#),
        );
        let a = lint_sources(&sources, Options { org: Some(A) });
        assert!(has_errors(&a));
        let error = a.iter().find(|d| d.is_error()).unwrap();
        assert_eq!(error.code, Code::AmbiguousOverlap);
        assert_eq!(error.rule.as_deref(), Some("m2"));
        assert!(
            error.message.contains("assumed-role/ci-"),
            "{}",
            error.message
        );
        let b = lint_sources(&sources, Options { org: Some(B) });
        assert!(!has_errors(&b), "{b:?}");
        assert!(b.iter().all(|d| d.rule.as_deref() == Some("only")));
        assert!(
            !lint_sources(
                &sources,
                Options {
                    org: Some("nobody")
                }
            )
            .iter()
            .any(|d| d.severity > Severity::Note)
        );
    }
}
