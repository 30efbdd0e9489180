//! Decisions and the precedence that picks them (SPEC §3).
//!
//! 1. a matching `deny` whose condition holds → [`Decision::Denied`];
//!    a matching `deny` whose condition is unknown (and none that holds) → error;
//! 2. else the most specific matching `map` (more literal characters in the
//!    normalised pattern, then more comparisons, then earlier declaration):
//!    the first whose condition holds wins; one whose condition is unknown
//!    stops the search with an error rather than falling through;
//! 3. else [`Decision::NoMatch`].

use std::borrow::Cow;
use std::cmp::Reverse;

use serde::Serialize;

use crate::compile::{CompiledPolicy, Effect, Rule};
use crate::condition::{Attribute, Caller, Truth};
use crate::target::RenderError;

/// The precedence key: smaller sorts first and wins.
pub fn precedence_key(rule: &Rule) -> (Reverse<usize>, Reverse<usize>, u32) {
    (
        Reverse(rule.pattern.literal_len()),
        Reverse(rule.condition.as_ref().map_or(0, |c| c.atoms())),
        rule.decl,
    )
}

/// Why a decision is an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// A rule's condition needs an attribute the caller does not have.
    #[error("the condition needs `{0}`, which this caller does not have")]
    UnknownAttribute(Attribute),
    /// The winning rule's template did not render an account identifier.
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// A decision that borrows from the policy (no allocation for literal targets).
#[derive(Debug, Clone)]
pub enum Verdict<'p> {
    /// Mapped to an account.
    Mapped {
        /// The account identifier.
        user: Cow<'p, str>,
        /// The winning rule.
        rule: &'p Rule,
    },
    /// Denied by a rule.
    Denied {
        /// The deny rule.
        rule: &'p Rule,
    },
    /// No rule matched.
    NoMatch,
    /// Fail closed.
    Error {
        /// The rule that could not be applied.
        rule: &'p Rule,
        /// Why.
        reason: DecisionError,
    },
}

impl Verdict<'_> {
    /// The winning or failing rule, if any.
    pub fn rule(&self) -> Option<&Rule> {
        match self {
            Verdict::Mapped { rule, .. }
            | Verdict::Denied { rule }
            | Verdict::Error { rule, .. } => Some(rule),
            Verdict::NoMatch => None,
        }
    }

    /// An owned decision with display rule ids.
    pub fn to_decision(&self, policy: &CompiledPolicy) -> Decision {
        match self {
            Verdict::Mapped { user, rule } => Decision::Mapped {
                user: user.to_string(),
                rule: policy.rule_id(rule).into_owned(),
            },
            Verdict::Denied { rule } => Decision::Denied {
                rule: policy.rule_id(rule).into_owned(),
            },
            Verdict::NoMatch => Decision::NoMatch,
            Verdict::Error { rule, reason } => Decision::Error {
                rule: Some(policy.rule_id(rule).into_owned()),
                reason: reason.to_string(),
            },
        }
    }
}

/// A decision that explains itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// The caller is this account.
    Mapped {
        /// The account identifier.
        user: String,
        /// The rule id that decided.
        rule: String,
    },
    /// A deny rule matched.
    Denied {
        /// The deny rule's id.
        rule: String,
    },
    /// No rule matched.
    NoMatch,
    /// The decision could not be made; the caller is refused.
    Error {
        /// The rule concerned, when there is one.
        rule: Option<String>,
        /// Why.
        reason: String,
    },
}

impl Decision {
    /// `mapped`, `denied`, `no_match` or `error`.
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Mapped { .. } => "mapped",
            Decision::Denied { .. } => "denied",
            Decision::NoMatch => "no_match",
            Decision::Error { .. } => "error",
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
