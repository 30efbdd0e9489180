//! Decisions: the borrowed [`Verdict`] the matchers return and the owned,
//! self-explaining [`Decision`] (docs/semantics.md §3–4). Which rule decides
//! is [`crate::engine::precedence`]'s job.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::rule::Rule;
use crate::rule::condition::Attribute;
use crate::rule::target::RenderError;

/// Why a decision is an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    pub fn to_decision(&self) -> Decision {
        match self {
            Verdict::Mapped { user, rule } => Decision::Mapped {
                user: user.to_string(),
                rule: rule.id.to_string(),
            },
            Verdict::Denied { rule } => Decision::Denied {
                rule: rule.id.to_string(),
            },
            Verdict::NoMatch => Decision::NoMatch,
            Verdict::Error { rule, reason } => Decision::Error {
                rule: Some(rule.id.to_string()),
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

/// A decision in a few words: `"alice@example.com" (rule r1)`, `deny (rule
/// r2)`, `none`, or the error with its rule.
impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Mapped { user, rule } => write!(f, "\"{user}\" (rule {rule})"),
            Decision::Denied { rule } => write!(f, "deny (rule {rule})"),
            Decision::NoMatch => f.write_str("none"),
            Decision::Error {
                rule: Some(rule),
                reason,
            } => write!(f, "an error in rule {rule}: {reason}"),
            Decision::Error { rule: None, reason } => write!(f, "an error: {reason}"),
        }
    }
}
