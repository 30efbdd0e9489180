//! The compiled data model, a leaf of the crate: rules, their effects and
//! orgs, test cases, and the pieces a rule is made of (caller attributes and
//! conditions, targets). The compiler builds these; precedence, the index,
//! the reference matcher and lint read them.

pub mod condition;
pub mod target;

use std::borrow::Cow;
use std::fmt;

use crate::arn::identity::CallerIdentity;
use crate::arn::pattern::Pattern;
use crate::policy::source::Span;
use crate::text::{SharedStr, Text};
use condition::Condition;
use target::Target;

/// Index of an org in a [`CompiledPolicy`].
pub type OrgId = u32;

/// What a rule does when it wins.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Map the caller to the rendered target.
    Map(Target),
    /// Refuse the caller.
    Deny,
}

/// A rule's id, reported in decisions, logs and tokens (docs/semantics.md §3).
/// 16 bytes: it sits in every rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuleId {
    /// Written `as NAME`.
    Named(SharedStr),
    /// Unnamed: the file and line where the rule starts.
    At {
        /// The source's name (shared by every rule of the file).
        file: SharedStr,
        /// The 1-based line.
        line: u32,
    },
}

impl RuleId {
    /// The id as text (borrowed for named rules).
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            RuleId::Named(name) => Cow::Borrowed(name.as_str()),
            RuleId::At { file, line } => Cow::Owned(format!("{file}:{line}")),
        }
    }

    /// The `as NAME`, if the rule has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            RuleId::Named(name) => Some(name),
            RuleId::At { .. } => None,
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleId::Named(name) => f.write_str(name),
            RuleId::At { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// A compiled rule. 104 bytes (the compiled policy keeps one per rule).
#[derive(Debug, Clone)]
pub struct Rule {
    /// The org the rule belongs to.
    pub org: OrgId,
    /// Map or deny.
    pub effect: Effect,
    /// The normalised pattern.
    pub pattern: Pattern,
    /// The `when` condition.
    pub condition: Option<Box<Condition>>,
    /// The rule's id: its `as NAME`, else `file:line`.
    pub id: RuleId,
    /// Where the rule is written.
    pub span: Span,
    /// Declaration order across all sources.
    pub decl: u32,
}

/// A compiled `test` block.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The org whose rules it tests.
    pub org: OrgId,
    /// The caller.
    pub identity: CallerIdentity,
    /// The signing region, if given.
    pub region: Option<String>,
    /// What it expects.
    pub expect: Expectation,
    /// Where it is written.
    pub span: Span,
}

/// One org's rules and tests.
#[derive(Debug, Clone)]
pub struct Org {
    /// The org id as written (a range of the policy source).
    pub id: Text,
    /// Its rules (indices into `CompiledPolicy::rules`), in declaration order.
    pub rules: Vec<u32>,
    /// Its tests, in declaration order.
    pub tests: Vec<TestCase>,
}

/// What a test expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// `-> "user"`
    User(String),
    /// `-> deny`
    Deny,
    /// `-> none`
    NoMatch,
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    #[test]
    fn sizes() {
        assert_eq!(size_of::<super::RuleId>(), 16);
        assert_eq!(size_of::<super::Rule>(), 104);
    }
}
