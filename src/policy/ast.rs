//! The typed syntax tree of a policy file; every node keeps its span.
//! Strings borrow from the source text (`'s`) unless unescaping changed them.

use std::borrow::Cow;

use crate::policy::source::{Span, Spanned};
use crate::rule::condition::{Attribute, Operator};

/// One parsed policy file.
#[derive(Debug, Clone, Default)]
pub struct File<'s> {
    /// The org blocks, in order.
    pub orgs: Vec<Org<'s>>,
}

/// `org "ID" { … }`
#[derive(Debug, Clone)]
pub struct Org<'s> {
    /// The org id.
    pub id: Spanned<Cow<'s, str>>,
    /// Its rules, in order.
    pub rules: Vec<RuleDecl<'s>>,
    /// Its tests, in order.
    pub tests: Vec<TestDecl<'s>>,
    /// The whole block.
    pub span: Span,
}

/// What a rule does when it wins.
#[derive(Debug, Clone)]
pub enum EffectDecl<'s> {
    /// `map … to "TARGET"`
    Map {
        /// The target account identifier or template.
        target: Spanned<Cow<'s, str>>,
    },
    /// `deny …`
    Deny,
}

/// A `map` or `deny` rule.
#[derive(Debug, Clone)]
pub struct RuleDecl<'s> {
    /// Map or deny.
    pub effect: EffectDecl<'s>,
    /// The ARN pattern as written.
    pub pattern: Spanned<Cow<'s, str>>,
    /// The `as NAME`, if any.
    pub name: Option<Spanned<&'s str>>,
    /// The `when` condition, if any.
    pub condition: Option<Expr<'s>>,
    /// The whole rule.
    pub span: Span,
    /// False when part of the rule (its condition) had errors while
    /// lowering: the rest is still checked, then the rule is dropped.
    pub valid: bool,
}

/// A condition expression.
#[derive(Debug, Clone)]
pub enum Expr<'s> {
    /// `a or b or …`
    Or(Vec<Expr<'s>>),
    /// `a and b and …`
    And(Vec<Expr<'s>>),
    /// `not a`
    Not(Box<Expr<'s>>),
    /// `ATTRIBUTE OP OPERAND`
    Compare(Comparison<'s>),
}

/// `ATTRIBUTE OP OPERAND`
#[derive(Debug, Clone)]
pub struct Comparison<'s> {
    /// The attribute.
    pub attribute: Spanned<Attribute>,
    /// The operator.
    pub operator: Spanned<Operator>,
    /// The operand.
    pub operand: Operand<'s>,
}

/// A string or a list of strings.
#[derive(Debug, Clone)]
pub enum Operand<'s> {
    /// `"x"`
    Str(Spanned<Cow<'s, str>>),
    /// `["x", "y"]`
    List(Spanned<Vec<Spanned<Cow<'s, str>>>>),
}

pub use crate::rule::Expectation;

/// `test "ARN" [user_id "…"] [region "…"] -> …`
#[derive(Debug, Clone)]
pub struct TestDecl<'s> {
    /// The caller ARN.
    pub arn: Spanned<Cow<'s, str>>,
    /// The caller's UserId, if given.
    pub user_id: Option<Spanned<Cow<'s, str>>>,
    /// The signing region, if given.
    pub region: Option<Spanned<Cow<'s, str>>>,
    /// The expected decision.
    pub expect: Spanned<Expectation>,
    /// The whole test.
    pub span: Span,
}
