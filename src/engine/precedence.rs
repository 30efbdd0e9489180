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
