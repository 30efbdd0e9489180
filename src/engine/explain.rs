//! Why a caller got its decision: every rule whose pattern matched (and
//! through which ARN form), each rule's condition, the winner and the
//! precedence step that decided (docs/semantics.md §3).

use serde::Serialize;

use crate::engine::decision::{Decision, Verdict};
use crate::engine::policy::CompiledPolicy;
use crate::engine::precedence::{Step, precedence_key};
use crate::rule::condition::{Caller, Truth};
use crate::rule::{Effect, Rule};

/// One rule whose pattern matches the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedRule {
    /// The rule id.
    pub rule: String,
    /// `map` or `deny`.
    pub effect: &'static str,
    /// The target (maps only), as written.
    pub target: Option<String>,
    /// The normalised pattern.
    pub pattern: String,
    /// The caller's ARN form the pattern matched.
    pub matched_form: String,
    /// Literal characters in the normalised pattern (first specificity key).
    pub literal_chars: usize,
    /// Comparisons in the condition (second key).
    pub comparisons: usize,
    /// Declaration order (third key).
    pub declared: u32,
    /// `none`, `true`, `false` or `unknown (ATTRIBUTE)`.
    pub condition: String,
    /// Why this rule did or did not decide.
    pub outcome: String,
}

/// The explanation of one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The decision.
    pub decision: Decision,
    /// The precedence step that decided: 1 (deny), 2 (most specific map) or 3 (no match).
    pub step: u8,
    /// The step in words.
    pub reason: String,
    /// Every rule whose pattern matches, in precedence order (denies first).
    pub matched: Vec<MatchedRule>,
}

fn condition_text(truth: Option<Truth>) -> String {
    match truth {
        None => "none".into(),
        Some(Truth::True) => "true".into(),
        Some(Truth::False) => "false".into(),
        Some(Truth::Unknown(a)) => format!("unknown ({a})"),
    }
}

/// Explains the decision for a caller in an org (an unknown org matches nothing).
pub fn explain(policy: &CompiledPolicy, org: &str, caller: &Caller<'_>) -> Explanation {
    let verdict = policy.evaluate(org, caller);
    let winner = verdict.rule().map(|r| r.decl);
    let matched = matching_rules(policy, org, caller)
        .into_iter()
        .map(|rule| matched_rule(rule, caller, winner))
        .collect();
    let step = Step::of(&verdict);
    Explanation {
        decision: verdict.to_decision(),
        step: step.number(),
        reason: step_reason(step, &verdict),
        matched,
    }
}

/// Every rule of the org whose pattern matches, denies first, each group in
/// precedence order.
fn matching_rules<'p>(policy: &'p CompiledPolicy, org: &str, caller: &Caller<'_>) -> Vec<&'p Rule> {
    let mut rules: Vec<&Rule> = policy
        .org(org)
        .map(|(_, o)| {
            o.rules
                .iter()
                .filter_map(|&i| policy.rules().get(i as usize))
                .filter(|r| r.pattern.matches(caller.identity))
                .collect()
        })
        .unwrap_or_default();
    rules.sort_by_key(|r| (matches!(r.effect, Effect::Map(_)), precedence_key(r)));
    rules
}

/// One matching rule as explained: the form it matched through, its
/// condition's value and why it did or did not decide.
fn matched_rule(rule: &Rule, caller: &Caller<'_>, winner: Option<u32>) -> MatchedRule {
    let id = caller.identity;
    let form = id
        .forms()
        .find(|f| rule.pattern.matches_form(id.partition(), id.account(), f))
        .map_or_else(|| id.arn().to_owned(), |f| id.form_arn(&f));
    let truth = rule.condition.as_ref().map(|c| c.eval(caller));
    let outcome = if Some(rule.decl) == winner {
        "decided".to_owned()
    } else {
        match (truth, winner.is_some()) {
            (Some(Truth::False), _) => "its condition does not hold".into(),
            (_, true) => "outranked by the deciding rule".into(),
            (_, false) => "did not decide".into(),
        }
    };
    MatchedRule {
        rule: rule.id.to_string(),
        effect: match rule.effect {
            Effect::Map(_) => "map",
            Effect::Deny => "deny",
        },
        target: match &rule.effect {
            Effect::Map(t) => Some(t.to_string()),
            Effect::Deny => None,
        },
        pattern: rule.pattern.to_string(),
        matched_form: form,
        literal_chars: rule.pattern.literal_len(),
        comparisons: rule.condition.as_ref().map_or(0, |c| c.atoms()),
        declared: rule.decl,
        condition: condition_text(truth),
        outcome,
    }
}

/// The deciding step in words.
fn step_reason(step: Step, verdict: &Verdict<'_>) -> String {
    match (step, verdict) {
        (Step::Deny, Verdict::Error { reason, .. }) => format!(
            "step 1: a matching deny rule's condition is unknown, so the decision fails closed ({reason})"
        ),
        (Step::Deny, _) => {
            "step 1: a matching deny rule's condition holds (deny wins over every map)".to_owned()
        }
        (Step::Map, Verdict::Error { reason, .. }) => format!(
            "step 2: the most specific applicable map rule could not be applied, so the decision fails closed ({reason})"
        ),
        (Step::Map, _) => {
            let (chars, comparisons, decl) = verdict.rule().map_or((0, 0, 0), |rule| {
                (
                    rule.pattern.literal_len(),
                    rule.condition.as_ref().map_or(0, |c| c.atoms()),
                    rule.decl,
                )
            });
            format!(
                "step 2: no deny applies; this is the most specific matching map rule whose condition holds ({chars} literal characters, {comparisons} comparisons, declared #{decl}; ties go to more literal characters, then more comparisons, then earlier declaration)"
            )
        }
        (Step::NoMatch, _) => "step 3: no deny and no map rule applies".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CallerIdentity;

    #[test]
    fn explains_the_winner_and_the_losers() {
        let policy = CompiledPolicy::compile_str(
            "p.policy",
            r#"org "o" {
                map "arn:aws:sts::*:assumed-role/ci-*" to "ci@example.com" as ci
                map "arn:aws:iam::123456789012:role/ci-deploy" to "deploy@example.com" as deploy
                map "arn:aws:sts::123456789012:assumed-role/ci-deploy" to "x@example.com" as never when session == "nope"
                deny "arn:aws:iam::*:root" as no-root
            }"#,
        )
        .unwrap();
        let id = CallerIdentity::parse_arn("arn:aws:sts::123456789012:assumed-role/ci-deploy/s1")
            .unwrap();
        let e = explain(&policy, "o", &Caller::new(&id));
        assert_eq!(e.step, 2);
        assert_eq!(e.decision.kind(), "mapped");
        let ids: Vec<&str> = e.matched.iter().map(|m| m.rule.as_str()).collect();
        assert_eq!(ids, ["never", "deploy", "ci"]);
        assert_eq!(e.matched[0].outcome, "its condition does not hold");
        assert_eq!(e.matched[1].outcome, "decided");
        assert_eq!(
            e.matched[1].matched_form,
            "arn:aws:sts::123456789012:assumed-role/ci-deploy"
        );
        assert_eq!(e.matched[2].outcome, "outranked by the deciding rule");
        // A role-name pattern matches through the session-less form, never the
        // raw one (docs/semantics.md §2).
        assert_eq!(
            e.matched[2].matched_form,
            "arn:aws:sts::123456789012:assumed-role/ci-deploy"
        );
        let root = CallerIdentity::parse_arn("arn:aws:iam::123456789012:root").unwrap();
        let e = explain(&policy, "o", &Caller::new(&root));
        assert_eq!((e.step, e.decision.kind()), (1, "denied"));
        let other = CallerIdentity::parse_arn("arn:aws:iam::123456789012:user/bob").unwrap();
        let e = explain(&policy, "o", &Caller::new(&other));
        assert_eq!((e.step, e.matched.len()), (3, 0));
    }
}
