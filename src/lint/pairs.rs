//! Checks over pairs of rules of one org: duplicates, rules that can never
//! win, and ambiguous equal-specificity overlaps. Overlap and cover are exact
//! ([`super::overlap`]); a rule with a condition never shadows another.

use crate::arn::identity::CallerIdentity;
use crate::arn::pattern::Literal;
use crate::lint::Context;
use crate::lint::automaton::TooComplex;
use crate::lint::overlap::{self, Prefilter};
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::policy::source::Span;
use crate::rule::condition::{Attribute, Condition, Test};
use crate::rule::{Effect, OrgId, Rule};

/// How the pair checks name rules: their id, where they are written, the
/// span of their pattern, and declaration order (which may span policies).
pub(crate) trait Names {
    /// A rule's id.
    fn id(&self, rule: &Rule) -> String;
    /// `file:line:col` of a rule.
    fn location(&self, rule: &Rule) -> String;
    /// The span of a rule's pattern.
    fn pattern_span(&self, rule: &Rule) -> Span;
    /// Is `a` declared before `b`?
    fn declared_before(&self, a: &Rule, b: &Rule) -> bool {
        a.decl < b.decl
    }
}

impl Names for Context<'_> {
    fn id(&self, rule: &Rule) -> String {
        Context::id(self, rule)
    }
    fn location(&self, rule: &Rule) -> String {
        Context::location(self, rule)
    }
    fn pattern_span(&self, rule: &Rule) -> Span {
        Context::pattern_span(self, rule)
    }
}

/// Runs the pair checks on one org.
pub fn check(ctx: &Context<'_>, org: OrgId, out: &mut Vec<Diagnostic>) {
    let rules = ctx.rules(org);
    // One caller of each rule: a rule that does not match it cannot cover the rule.
    let examples: Vec<Result<Option<CallerIdentity>, TooComplex>> = rules
        .iter()
        .map(|r| {
            overlap::example(&r.pattern)
                .map(|arn| arn.and_then(|arn| CallerIdentity::parse_arn(&arn).ok()))
        })
        .collect();
    let filters: Vec<Prefilter<'_>> = rules.iter().map(|r| Prefilter::new(&r.pattern)).collect();
    // Per rule, the first finding of each kind (so a warning never hides an error).
    for (j, b) in rules.iter().enumerate() {
        let example = examples.get(j).cloned().unwrap_or(Err(TooComplex));
        let mut reported: Vec<Code> = Vec::new();
        for (i, a) in rules.iter().enumerate() {
            let meet = match (filters.get(i), filters.get(j)) {
                (Some(fa), Some(fb)) => fa.may_overlap(fb),
                _ => true,
            };
            let same_pattern = a.pattern.as_str() == b.pattern.as_str();
            // Neither a duplicate, nor ambiguity or shadowing without a common caller.
            if i == j || !(meet || same_pattern) || !may_meet(a, b) {
                continue;
            }
            let found = match pair(ctx, a, b, i < j, example.as_ref()) {
                Ok(found) => found,
                Err(TooComplex) => Some(too_complex(ctx, a, b)),
            };
            if let Some(d) = found
                && !reported.contains(&d.code)
            {
                reported.push(d.code);
                out.push(d);
            }
        }
    }
}

/// Cheap pre-filter: two literal accounts that differ never meet.
pub(crate) fn may_meet(a: &Rule, b: &Rule) -> bool {
    match (a.pattern.literal_account(), b.pattern.literal_account()) {
        (Literal::Exact(x), Literal::Exact(y)) => x == y,
        _ => true,
    }
}

fn target(rule: &Rule) -> Option<String> {
    match &rule.effect {
        Effect::Map(t) => Some(t.to_string()),
        Effect::Deny => None,
    }
}

pub(crate) fn condition_key(rule: &Rule) -> Option<String> {
    rule.condition.as_ref().map(|c| format!("{c:?}"))
}

/// The diagnostic about `b` that `a` causes, if any. `a_first`: `a` precedes
/// `b` in precedence order.
/// `b_example`: a caller `b` matches (`None` when it matches none).
fn pair(
    ctx: &dyn Names,
    a: &Rule,
    b: &Rule,
    a_first: bool,
    b_example: Result<&Option<CallerIdentity>, &TooComplex>,
) -> Result<Option<Diagnostic>, TooComplex> {
    // Duplicates: reported once, on the later declaration.
    if a.pattern.as_str() == b.pattern.as_str() && condition_key(a) == condition_key(b) {
        return Ok((!ctx.declared_before(b, a)).then(|| duplicate(ctx, a, b)));
    }
    if let Some(ambiguous) = ambiguity(ctx, a, b)? {
        return Ok(Some(ambiguous));
    }
    shadowing(ctx, a, b, a_first, b_example)
}

/// `b` repeats `a`'s normalised pattern and condition: a warning when the
/// effect is the same too, an error when it differs.
pub(crate) fn duplicate(ctx: &dyn Names, a: &Rule, b: &Rule) -> Diagnostic {
    let same_effect = target(a) == target(b);
    let message = format!(
        "rule `{}` duplicates rule `{}` ({}): the same normalised pattern `{}`{}",
        ctx.id(b),
        ctx.id(a),
        ctx.location(a),
        b.pattern,
        if same_effect {
            ""
        } else {
            " with a different effect"
        }
    );
    let d = if same_effect {
        Diagnostic::warning(Code::DuplicateRule, ctx.pattern_span(b), message)
    } else {
        Diagnostic::error(Code::DuplicateRule, ctx.pattern_span(b), message)
    };
    d.with_label("duplicate")
        .with_help("remove one of the two rules (patterns are compared after normalisation: role/NAME, assumed-role/NAME and assumed-role/NAME/* are one)")
        .with_rule(ctx.id(b))
}

/// Two maps, `a` declared first, that can match one caller with equal
/// specificity and different targets (reported once, on the later one).
pub(crate) fn ambiguity(
    ctx: &dyn Names,
    a: &Rule,
    b: &Rule,
) -> Result<Option<Diagnostic>, TooComplex> {
    let both_maps = matches!((&a.effect, &b.effect), (Effect::Map(_), Effect::Map(_)));
    if !(both_maps
        && ctx.declared_before(a, b)
        && a.pattern.literal_len() == b.pattern.literal_len()
        && atoms(a) == atoms(b)
        && target(a) != target(b)
        && !conditions_disjoint(a, b))
    {
        return Ok(None);
    }
    let Some(caller) = overlap::overlap(&a.pattern, &b.pattern)? else {
        return Ok(None);
    };
    Ok(Some(
        Diagnostic::error(
            Code::AmbiguousOverlap,
            ctx.pattern_span(b),
            format!(
                "rules `{}` and `{}` ({}) can match the same caller with equal specificity and different targets, e.g. {caller}",
                ctx.id(b),
                ctx.id(a),
                ctx.location(a)
            ),
        )
        .with_label("ambiguous with an earlier rule")
        .with_help("only declaration order decides between them: make one pattern more specific, add a condition, or give both the same target")
        .with_rule(ctx.id(b)),
    ))
}

/// `a` has no condition, decides before `b` (or denies), and matches every
/// caller `b` matches: `b` can never win.
pub(crate) fn shadowing(
    ctx: &dyn Names,
    a: &Rule,
    b: &Rule,
    a_first: bool,
    b_example: Result<&Option<CallerIdentity>, &TooComplex>,
) -> Result<Option<Diagnostic>, TooComplex> {
    if a.condition.is_some() {
        return Ok(None);
    }
    let shadows = match (&a.effect, &b.effect) {
        (Effect::Deny, Effect::Map(_)) => true,
        (Effect::Deny, Effect::Deny) | (Effect::Map(_), Effect::Map(_)) => a_first,
        (Effect::Map(_), Effect::Deny) => false,
    };
    let may_cover = match b_example {
        Ok(Some(id)) => a.pattern.matches(id),
        Ok(None) => false,
        Err(_) => true,
    };
    if !shadows || !may_cover || !overlap::covers(&a.pattern, &b.pattern)? {
        return Ok(None);
    }
    let by_deny = matches!((&a.effect, &b.effect), (Effect::Deny, Effect::Map(_)));
    let (code, why) = if by_deny {
        (
            Code::ShadowedByDeny,
            "it denies every caller this rule matches",
        )
    } else {
        (
            Code::ShadowedRule,
            "it precedes this rule and matches every caller this rule matches",
        )
    };
    Ok(Some(
        Diagnostic::warning(
            code,
            ctx.pattern_span(b),
            format!(
                "rule `{}` can never win: rule `{}` ({}) has no condition and {why}",
                ctx.id(b),
                ctx.id(a),
                ctx.location(a)
            ),
        )
        .with_label("never decides")
        .with_help("remove the rule, or narrow the other rule's pattern or give it a condition")
        .with_rule(ctx.id(b)),
    ))
}

fn atoms(rule: &Rule) -> usize {
    rule.condition.as_ref().map_or(0, |c| c.atoms())
}

/// The values an `ATTR == v` / `ATTR in [..]` conjunct pins an attribute to.
fn pinned(condition: &Condition) -> Vec<(Attribute, Vec<&str>)> {
    let parts: &[Condition] = match condition {
        Condition::All(parts) => parts,
        other => std::slice::from_ref(other),
    };
    parts
        .iter()
        .filter_map(|c| match c {
            Condition::Compare {
                attribute,
                test: Test::Eq(v),
            } => Some((*attribute, vec![&**v])),
            Condition::Compare {
                attribute,
                test: Test::In(vs),
            } => Some((*attribute, vs.iter().map(|v| &**v).collect())),
            _ => None,
        })
        .collect()
}

/// Can the two conditions never hold for one caller? (Only the simple,
/// certain case: both pin one attribute to disjoint literal values.)
fn conditions_disjoint(a: &Rule, b: &Rule) -> bool {
    let (Some(ca), Some(cb)) = (&a.condition, &b.condition) else {
        return false;
    };
    let (pa, pb) = (pinned(ca), pinned(cb));
    pa.iter().any(|(attr_a, va)| {
        pb.iter()
            .any(|(attr_b, vb)| attr_a == attr_b && !va.iter().any(|v| vb.contains(v)))
    })
}

pub(crate) fn too_complex(ctx: &dyn Names, a: &Rule, b: &Rule) -> Diagnostic {
    Diagnostic::note(
        Code::AnalysisLimit,
        ctx.pattern_span(b),
        format!(
            "the overlap of rules `{}` and `{}` is too intricate to decide exactly; it was not checked",
            ctx.id(b),
            ctx.id(a)
        ),
    )
    .with_help("simplify the patterns (fewer `?` after a `*`)")
    .with_rule(ctx.id(b))
}

#[cfg(test)]
mod tests {
    use crate::CompiledPolicy;
    use crate::lint::{Options, lint};
    use crate::policy::diagnostic::Code;

    #[test]
    fn a_warning_does_not_hide_an_error_about_the_same_rule() {
        let policy = CompiledPolicy::compile_str(
            "p.policy",
            r#"org "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10" {
                deny "arn:aws:sts::123456789012:assumed-role/*" as no-roles
                map "arn:aws:sts::123456789012:assumed-role/a-*" to "a@example.com" as a
                map "arn:aws:sts::123456789012:assumed-role/*-a" to "b@example.com" as b
            }"#,
        )
        .unwrap();
        let found: Vec<(Code, Option<String>)> = lint(&policy, Options::default())
            .into_iter()
            .filter(|d| d.code != Code::UntestedRule)
            .map(|d| (d.code, d.rule))
            .collect();
        assert!(
            found.contains(&(Code::AmbiguousOverlap, Some("b".into()))),
            "{found:?}"
        );
        assert!(
            found.contains(&(Code::ShadowedByDeny, Some("b".into()))),
            "{found:?}"
        );
        assert!(
            found.contains(&(Code::ShadowedByDeny, Some("a".into()))),
            "{found:?}"
        );
    }
}
