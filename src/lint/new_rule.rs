//! One new rule linted against the rules it can meet: what a service runs
//! when a persona-mapping write arrives. The cost is one pair question per
//! rule of the org (most answered by the cheap pre-filters), not one per pair
//! of the org's rules.
//!
//! The new rule lives in the org's own policy (compiled apart from the shared
//! policy files, declared after every file rule); the others are the org's
//! file rules and, when asked, its other own rules. Unlike [`super::lint`],
//! an ambiguity question that cannot be decided within the analysis budget is
//! an error: a write is refused rather than accepted unchecked.

use crate::arn::identity::CallerIdentity;
use crate::engine::policy::CompiledPolicy;
use crate::engine::precedence::precedence_key;
use crate::lint::automaton::TooComplex;
use crate::lint::overlap::{self, Prefilter};
use crate::lint::pairs::{self, Names};
use crate::lint::{Context, Options, empty};
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::policy::source::Span;
use crate::rule::Rule;

/// Names rules of two policies: the shared files and the org's own.
struct Joint<'a> {
    files: &'a CompiledPolicy,
    own: &'a Context<'a>,
}

impl Joint<'_> {
    fn is_own(&self, rule: &Rule) -> bool {
        self.own
            .policy
            .rules()
            .as_ptr_range()
            .contains(&std::ptr::from_ref(rule))
    }

    /// Declaration order across both: every file rule first.
    fn order(&self, rule: &Rule) -> (bool, u32) {
        (self.is_own(rule), rule.decl)
    }
}

impl Names for Joint<'_> {
    fn id(&self, rule: &Rule) -> String {
        rule.id.to_string()
    }
    fn location(&self, rule: &Rule) -> String {
        if self.is_own(rule) {
            return self.own.location(rule);
        }
        self.files
            .sources()
            .locate(rule.span)
            .map_or("?".into(), |(f, l, c)| format!("{f}:{l}:{c}"))
    }
    fn pattern_span(&self, rule: &Rule) -> Span {
        if self.is_own(rule) {
            self.own.pattern_span(rule)
        } else {
            rule.span
        }
    }
    fn declared_before(&self, a: &Rule, b: &Rule) -> bool {
        self.order(a) < self.order(b)
    }
}

/// Which rules a new rule is linted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// The org's file rules and its other own rules (a write).
    All,
    /// The org's file rules only (own rules already checked against each
    /// other, e.g. stored mappings after the files changed).
    Files,
}

/// Lints the rule of `own` named `rule` (a rule of `org`) against the rules
/// of `org` it can meet: a pattern that matches no caller, a duplicate with
/// another effect, an ambiguous equal-specificity overlap (or one that cannot
/// be decided within the budget: an error too), and being shadowed
/// (a warning). Diagnostics about the new rule carry spans into `own`'s
/// sources. Test blocks are not run here (they need the combined decision).
pub fn lint_new_rule(
    files: &CompiledPolicy,
    own: &CompiledPolicy,
    org: &str,
    rule: &str,
    against: Against,
) -> Vec<Diagnostic> {
    let ctx = Context::new(own, Options { org: Some(org) });
    let names = Joint { files, own: &ctx };
    let Some((own_org, _)) = own.org(org) else {
        return Vec::new();
    };
    let own_rules = ctx.rules(own_org);
    let file_rules = file_rules(files, org);
    match own_rules.iter().copied().find(|r| r.id.as_text() == rule) {
        Some(new) => lint_one(&names, &file_rules, &own_rules, new, against),
        None => Vec::new(),
    }
}

/// [`lint_new_rule`] with [`Against::Files`] for every rule of `org` in
/// `own` (parsing `own` once): what a change of the files can break.
pub fn lint_own_rules_against_files(
    files: &CompiledPolicy,
    own: &CompiledPolicy,
    org: &str,
) -> Vec<Diagnostic> {
    let ctx = Context::new(own, Options { org: Some(org) });
    let names = Joint { files, own: &ctx };
    let Some((own_org, _)) = own.org(org) else {
        return Vec::new();
    };
    let own_rules = ctx.rules(own_org);
    let file_rules = file_rules(files, org);
    own_rules
        .iter()
        .flat_map(|new| lint_one(&names, &file_rules, &own_rules, new, Against::Files))
        .collect()
}

/// The file rules of `org`.
fn file_rules<'p>(files: &'p CompiledPolicy, org: &str) -> Vec<&'p Rule> {
    files
        .org(org)
        .map(|(_, o)| {
            o.rules
                .iter()
                .filter_map(|&r| files.rules().get(r as usize))
                .collect()
        })
        .unwrap_or_default()
}

fn lint_one(
    names: &Joint<'_>,
    file_rules: &[&Rule],
    own_rules: &[&Rule],
    new: &Rule,
    against: Against,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    // One caller of the new rule (for the shadowing question). Whether the
    // pattern matches anyone at all does not depend on other rules: asked
    // on a write, not when stored rules are checked against new files.
    let mut example = None;
    if against == Against::All {
        let found = overlap::example(&new.pattern);
        if let Ok(None) = found {
            out.extend(empty::finding(names, new));
        }
        example = Some(found);
    }
    let others = file_rules.iter().map(|&r| (r, false)).chain(
        own_rules
            .iter()
            .filter(move |&&r| against == Against::All && !std::ptr::eq(r, new))
            .map(|&r| (r, true)),
    );
    let as_caller = |found: Result<Option<String>, TooComplex>| {
        found.map(|arn| arn.and_then(|arn| CallerIdentity::parse_arn(&arn).ok()))
    };
    let mut example = example.map(as_caller);
    let filter = Prefilter::new(&new.pattern);
    let new_key = {
        let (l, a, d) = precedence_key(new);
        (l, a, true, d)
    };
    // The first finding of each kind and severity (a warning never hides an error).
    let mut reported: Vec<(Code, bool)> = Vec::new();
    for (other, is_own) in others {
        let same_pattern = other.pattern.as_str() == new.pattern.as_str();
        if !(same_pattern || filter.may_overlap(&Prefilter::new(&other.pattern)))
            || !pairs::may_meet(other, new)
        {
            continue;
        }
        let other_first = {
            let (l, a, d) = precedence_key(other);
            (l, a, is_own, d) < new_key
        };
        let example = example.get_or_insert_with(|| as_caller(overlap::example(&new.pattern)));
        let found = match check_pair(names, other, new, other_first, example.as_ref()) {
            Ok(found) => found,
            Err(TooComplex) => Some(undecided(names, other, new)),
        };
        if let Some(d) = found
            && !reported.contains(&(d.code, d.is_error()))
        {
            reported.push((d.code, d.is_error()));
            out.push(d);
        }
    }
    out
}

/// The finding about `b` that `a` causes: a duplicate, an ambiguity, or
/// shadowing. `Err` only when the ambiguity question cannot be decided within
/// the budget (an undecidable shadowing question is skipped: a warning at most).
fn check_pair(
    names: &dyn Names,
    a: &Rule,
    b: &Rule,
    a_first: bool,
    b_example: Result<&Option<CallerIdentity>, &TooComplex>,
) -> Result<Option<Diagnostic>, TooComplex> {
    if a.pattern.as_str() == b.pattern.as_str()
        && pairs::condition_key(a) == pairs::condition_key(b)
    {
        return Ok(Some(pairs::duplicate(names, a, b)));
    }
    if let Some(ambiguous) = pairs::ambiguity(names, a, b)? {
        return Ok(Some(ambiguous));
    }
    Ok(pairs::shadowing(names, a, b, a_first, b_example).unwrap_or(None))
}

/// A pair whose ambiguity could not be decided within the budget: an error.
fn undecided(names: &dyn Names, a: &Rule, b: &Rule) -> Diagnostic {
    Diagnostic::error(
        Code::AnalysisLimit,
        names.pattern_span(b),
        format!(
            "whether rules `{}` and `{}` ({}) can match the same caller with equal specificity and different targets could not be decided within the analysis budget; the rule is refused rather than accepted unchecked",
            names.id(b),
            names.id(a),
            names.location(a)
        ),
    )
    .with_label("undecided overlap")
    .with_help("simplify the pattern (fewer `?` after a `*`), make it more or less specific than the other rule, or give both the same target")
    .with_rule(names.id(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";

    fn policy(name: &str, rules: &[(&str, &str, &str)]) -> CompiledPolicy {
        let mut text = format!("org \"{ORG}\" {{\n");
        for (pattern, target, id) in rules {
            text.push_str(&format!(
                "    map \"arn:aws:iam::123456789012:{pattern}\" to \"{target}\" as {id}\n"
            ));
        }
        text.push_str("}\n");
        CompiledPolicy::compile_str(name, &text).unwrap()
    }

    fn codes(d: &[Diagnostic]) -> Vec<(Code, bool, Option<&str>)> {
        d.iter()
            .map(|d| (d.code, d.is_error(), d.rule.as_deref()))
            .collect()
    }

    #[test]
    fn a_new_rule_meets_the_files_and_the_org_s_rules() {
        let files = policy("files.policy", &[("user/a*", "f@x.com", "file-a")]);
        // Ambiguous with a file rule (equal specificity, another account).
        let own = policy("api:o", &[("user/*z", "m@x.com", "m1")]);
        let found = lint_new_rule(&files, &own, ORG, "m1", Against::All);
        assert_eq!(
            codes(&found),
            [(Code::AmbiguousOverlap, true, Some("m1"))],
            "{found:?}"
        );
        // Ambiguous with another mapping; checked only when asked.
        let own = policy(
            "api:o",
            &[("user/bb*", "m@x.com", "m1"), ("user/*bb", "n@x.com", "m2")],
        );
        let found = lint_new_rule(&files, &own, ORG, "m2", Against::All);
        assert_eq!(
            codes(&found),
            [(Code::AmbiguousOverlap, true, Some("m2"))],
            "{found:?}"
        );
        assert!(lint_own_rules_against_files(&files, &own, ORG).is_empty());
        // Disjoint, more specific, or the same account: accepted.
        let own = policy(
            "api:o",
            &[
                ("user/bb*", "m@x.com", "m1"),
                ("user/ab*", "n@x.com", "m2"),
                ("user/*a", "f@x.com", "m3"),
            ],
        );
        for id in ["m1", "m2", "m3"] {
            let found = lint_new_rule(&files, &own, ORG, id, Against::All);
            assert!(!crate::lint::has_errors(&found), "{id}: {found:?}");
        }
    }

    #[test]
    fn an_overlap_beyond_the_budget_is_an_error() {
        let q15 = "?".repeat(15);
        let (a, b) = (format!("user/*ab?{q15}"), format!("user/*a?b{q15}"));
        let files = policy("files.policy", &[(&a, "f@x.com", "file-a")]);
        let own = policy("api:o", &[(&b, "m@x.com", "m1")]);
        let found = lint_new_rule(&files, &own, ORG, "m1", Against::All);
        assert!(crate::lint::has_errors(&found), "{found:?}");
        assert_eq!(
            codes(&found),
            [(Code::AnalysisLimit, true, Some("m1"))],
            "{found:?}"
        );
    }
}
