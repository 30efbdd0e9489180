//! The typed syntax tree of a policy file; every node keeps its span.

use crate::policy::source::{Span, Spanned};
use crate::rule::condition::{Attribute, Operator};

/// One parsed policy file.
#[derive(Debug, Clone, Default)]
pub struct File {
    /// The org blocks, in order.
    pub orgs: Vec<Org>,
}

/// `org "ID" { … }`
#[derive(Debug, Clone)]
pub struct Org {
    /// The org id.
    pub id: Spanned<String>,
    /// Its rules, in order.
    pub rules: Vec<RuleDecl>,
    /// Its tests, in order.
    pub tests: Vec<TestDecl>,
    /// The whole block.
    pub span: Span,
}

/// What a rule does when it wins.
#[derive(Debug, Clone)]
pub enum EffectDecl {
    /// `map … to "TARGET"`
    Map {
        /// The target account identifier or template.
        target: Spanned<String>,
    },
    /// `deny …`
    Deny,
}

/// A `map` or `deny` rule.
#[derive(Debug, Clone)]
pub struct RuleDecl {
    /// Map or deny.
    pub effect: EffectDecl,
    /// The ARN pattern as written.
    pub pattern: Spanned<String>,
    /// The `as NAME`, if any.
    pub name: Option<Spanned<String>>,
    /// The `when` condition, if any.
    pub condition: Option<Expr>,
    /// The whole rule.
    pub span: Span,
    /// False when part of the rule (its condition) had errors while
    /// lowering: the rest is still checked, then the rule is dropped.
    pub valid: bool,
}

/// A condition expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// `a or b or …`
    Or(Vec<Expr>),
    /// `a and b and …`
    And(Vec<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `ATTRIBUTE OP OPERAND`
    Compare(Comparison),
}

/// `ATTRIBUTE OP OPERAND`
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The attribute.
    pub attribute: Spanned<Attribute>,
    /// The operator.
    pub operator: Spanned<Operator>,
    /// The operand.
    pub operand: Operand,
}

/// A string or a list of strings.
#[derive(Debug, Clone)]
pub enum Operand {
    /// `"x"`
    Str(Spanned<String>),
    /// `["x", "y"]`
    List(Spanned<Vec<Spanned<String>>>),
}

pub use crate::rule::Expectation;

/// `test "ARN" [user_id "…"] [region "…"] -> …`
#[derive(Debug, Clone)]
pub struct TestDecl {
    /// The caller ARN.
    pub arn: Spanned<String>,
    /// The caller's UserId, if given.
    pub user_id: Option<Spanned<String>>,
    /// The signing region, if given.
    pub region: Option<Spanned<String>>,
    /// The expected decision.
    pub expect: Spanned<Expectation>,
    /// The whole test.
    pub span: Span,
}
