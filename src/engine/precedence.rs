//! Precedence (docs/semantics.md §3): which of the rules whose patterns
//! match a caller decides.
//!
//! 1. a matching `deny` whose condition holds → [`Verdict::Denied`];
//!    a matching `deny` whose condition is unknown (and none that holds) → error;
//! 2. else the most specific matching `map` (more literal characters in the
//!    normalised pattern, then more comparisons, then earlier declaration):
//!    the first whose condition holds wins; one whose condition is unknown
//!    stops the search with an error rather than falling through;
//! 3. else [`Verdict::NoMatch`].

use std::cmp::Reverse;

use crate::engine::decision::{DecisionError, Verdict};
use crate::rule::condition::{Caller, Truth};
use crate::rule::{Effect, Rule};

/// The precedence key: smaller sorts first and wins.
pub fn precedence_key(rule: &Rule) -> (Reverse<usize>, Reverse<usize>, u32) {
    (
        Reverse(rule.pattern.literal_len()),
        Reverse(rule.condition.as_ref().map_or(0, |c| c.atoms())),
        rule.decl,
    )
}

/// The precedence step that produced a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Step 1: a matching deny (or a deny whose condition is unknown).
    Deny,
    /// Step 2: the most specific applicable map (or one that failed closed).
    Map,
    /// Step 3: nothing applies.
    NoMatch,
}

impl Step {
    /// Which step of [`resolve`] returned `verdict`: an error verdict names
    /// the rule that failed, a deny in step 1 and a map in step 2.
    pub fn of(verdict: &Verdict<'_>) -> Step {
        match verdict {
            Verdict::Denied { .. } => Step::Deny,
            Verdict::Error { rule, .. } if matches!(rule.effect, Effect::Deny) => Step::Deny,
            Verdict::Mapped { .. } | Verdict::Error { .. } => Step::Map,
            Verdict::NoMatch => Step::NoMatch,
        }
    }

    /// 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            Step::Deny => 1,
            Step::Map => 2,
            Step::NoMatch => 3,
        }
    }
}

/// Applies precedence to the rules whose patterns match, given in precedence
/// order (the indexed matcher's path).
pub fn resolve<'p>(
    matched: impl Iterator<Item = &'p Rule> + Clone,
    caller: &Caller<'_>,
) -> Verdict<'p> {
    let mut unknown_deny = None;
    for rule in matched.clone().filter(|r| matches!(r.effect, Effect::Deny)) {
        match eval(rule, caller) {
            Truth::True => return Verdict::Denied { rule },
            Truth::Unknown(attribute) => {
                unknown_deny.get_or_insert((rule, attribute));
            }
            Truth::False => {}
        }
    }
    if let Some((rule, attribute)) = unknown_deny {
        return Verdict::Error {
            rule,
            reason: DecisionError::UnknownAttribute(attribute),
        };
    }
    first_applicable_map(matched, caller)
}

/// Step 2 of precedence over maps already in precedence order (denies are
/// skipped): the first whose condition holds wins; one whose condition is
/// unknown stops the walk with an error; none → [`Verdict::NoMatch`].
pub fn first_applicable_map<'p>(
    ordered: impl Iterator<Item = &'p Rule>,
    caller: &Caller<'_>,
) -> Verdict<'p> {
    for rule in ordered {
        let Effect::Map(target) = &rule.effect else {
            continue;
        };
        match eval(rule, caller) {
            Truth::True => {
                return match target.render(caller) {
                    Ok(user) => Verdict::Mapped { user, rule },
                    Err(e) => Verdict::Error {
                        rule,
                        reason: e.into(),
                    },
                };
            }
            Truth::Unknown(attribute) => {
                return Verdict::Error {
                    rule,
                    reason: DecisionError::UnknownAttribute(attribute),
                };
            }
            Truth::False => {}
        }
    }
    Verdict::NoMatch
}

/// A rule's condition, `True` when it has none.
pub fn eval(rule: &Rule, caller: &Caller<'_>) -> Truth {
    rule.condition
        .as_ref()
        .map_or(Truth::True, |c| c.eval(caller))
}

/// Where a verdict stands in precedence: a deny that holds, then a deny whose
/// condition is unknown, then step 2 (a map that decided or failed closed),
/// then no match.
fn stage(verdict: &Verdict<'_>) -> u8 {
    match (Step::of(verdict), verdict) {
        (Step::Deny, Verdict::Denied { .. }) => 0,
        (Step::Deny, _) => 1,
        (Step::Map, _) => 2,
        (Step::NoMatch, _) => 3,
    }
}

/// The precedence key of a rule of one of two rule sets decided apart, the
/// `first` set declared before the `second` (docs/semantics.md §3.6: file
/// rules before API mappings).
fn split_key(rule: &Rule, second: bool) -> (Reverse<usize>, Reverse<usize>, bool, u32) {
    let (literal, atoms, decl) = precedence_key(rule);
    (literal, atoms, second, decl)
}

/// The verdict of the union of two rule sets of one org, from each set's own
/// verdict ([`resolve`] over that set alone), every rule of `first` declared
/// before every rule of `second`.
///
/// Each side's verdict is already the first applicable rule of its step on
/// that side, so the union's is the better of the two: a deny that holds
/// beats a deny whose condition is unknown, which beats step 2, which beats
/// no match; within one stage the rule with the smaller precedence key wins
/// (the first in the union's order). This equals [`resolve`] over one policy
/// holding both sets in that order (property-tested).
pub fn combine<'p>(first: Verdict<'p>, second: Verdict<'p>) -> Verdict<'p> {
    let (a, b) = (stage(&first), stage(&second));
    if a != b {
        return if a < b { first } else { second };
    }
    match (first.rule(), second.rule()) {
        (Some(x), Some(y)) if split_key(y, true) < split_key(x, false) => second,
        (None, Some(_)) => second,
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::identity::CallerIdentity;
    use crate::engine::policy::CompiledPolicy;

    const ORG: &str = "o";

    fn decide_split(files: &str, mappings: &str, arn: &str) -> (String, String) {
        let files_policy = CompiledPolicy::compile_str("files.policy", files).unwrap();
        let own = CompiledPolicy::compile_str("api:o", mappings).unwrap();
        let mut union = crate::policy::source::SourceMap::new();
        union.add("files.policy", files);
        union.add("api:o", mappings);
        let union = CompiledPolicy::compile(&union).unwrap();
        let id = CallerIdentity::parse_arn(arn).unwrap();
        let caller = Caller {
            identity: &id,
            region: None,
        };
        let split = combine(
            files_policy.evaluate(ORG, &caller),
            own.evaluate(ORG, &caller),
        )
        .to_decision();
        let whole = union.decide(ORG, &caller);
        assert_eq!(split, whole, "{files}\n{mappings}\n{arn}");
        (format!("{split:?}"), split.kind().to_owned())
    }

    #[test]
    fn a_deny_in_the_files_beats_a_more_specific_mapping() {
        let (d, kind) = decide_split(
            r#"org "o" { deny "arn:aws:iam::111111111111:user/*" as no }"#,
            r#"org "o" { map "arn:aws:iam::111111111111:user/alice" to "a@x.com" as m }"#,
            "arn:aws:iam::111111111111:user/alice",
        );
        assert_eq!(kind, "denied", "{d}");
    }

    #[test]
    fn the_more_specific_side_wins_and_files_win_ties() {
        let files = r#"org "o" { map "arn:aws:iam::111111111111:user/a*" to "f@x.com" as f }"#;
        let (d, _) = decide_split(
            files,
            r#"org "o" { map "arn:aws:iam::111111111111:user/al*" to "m@x.com" as m }"#,
            "arn:aws:iam::111111111111:user/alice",
        );
        assert!(d.contains("\"m\""), "{d}");
        // Equal specificity: the file rule is declared first.
        let (d, _) = decide_split(
            files,
            r#"org "o" { map "arn:aws:iam::111111111111:user/*e" to "m@x.com" as m }"#,
            "arn:aws:iam::111111111111:user/alice",
        );
        assert!(d.contains("\"f\""), "{d}");
        let (d, kind) = decide_split(
            files,
            r#"org "o" { map "arn:aws:iam::111111111111:user/b*" to "m@x.com" as m }"#,
            "arn:aws:iam::111111111111:user/bob",
        );
        assert_eq!(kind, "mapped", "{d}");
        let (_, kind) = decide_split(
            files,
            r#"org "o" { map "arn:aws:iam::111111111111:user/b*" to "m@x.com" as m }"#,
            "arn:aws:iam::111111111111:user/carol",
        );
        assert_eq!(kind, "no_match");
    }

    #[test]
    fn an_unknown_condition_fails_closed_across_sides() {
        // A file map with an unknown condition ranks first: error, even though
        // the mapping would map the caller.
        let (d, kind) = decide_split(
            r#"org "o" { map "arn:aws:iam::111111111111:user/alice" to "f@x.com" as f when region == "us-east-1" }"#,
            r#"org "o" { map "arn:aws:iam::111111111111:user/al*" to "m@x.com" as m }"#,
            "arn:aws:iam::111111111111:user/alice",
        );
        assert_eq!(kind, "error", "{d}");
        // A deny with an unknown condition beats any map.
        let (d, kind) = decide_split(
            r#"org "o" { deny "arn:aws:iam::111111111111:user/*" as no when region == "us-east-1" }"#,
            r#"org "o" { map "arn:aws:iam::111111111111:user/alice" to "m@x.com" as m }"#,
            "arn:aws:iam::111111111111:user/alice",
        );
        assert_eq!(kind, "error", "{d}");
    }
}
