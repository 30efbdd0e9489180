//! `when` conditions: attributes of the caller, operators, compiled tests and
//! their three-valued evaluation.
//!
//! An attribute the caller does not have (the `session` of an IAM user, the
//! `user_id` when only an ARN is known) makes its comparison *unknown*.
//! `and`/`or`/`not` follow Kleene's logic, and a rule whose condition ends up
//! unknown is never silently skipped: the decision becomes an error (fail closed).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::arn::identity::CallerIdentity;

/// The longest regex or glob source accepted in a condition.
pub const MAX_REGEX_LEN: usize = 4096;
/// The compiled-size limit handed to the `regex` crate.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A caller attribute a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// `aws`, `aws-cn`, …
    Partition,
    /// The 12-digit account.
    Account,
    /// `user`, `assumed-role`, `federated-user` or `root`.
    Kind,
    /// The user, role or federated-user name.
    Name,
    /// An IAM user's path (`/` when none).
    Path,
    /// An assumed role's session name.
    Session,
    /// The UserId STS reported.
    UserId,
    /// The UserId before `:` (a role's `AROA…` id).
    PrincipalId,
    /// The STS region the proof was signed for.
    Region,
}

impl Attribute {
    /// Every attribute.
    pub const ALL: [Attribute; 9] = [
        Attribute::Partition,
        Attribute::Account,
        Attribute::Kind,
        Attribute::Name,
        Attribute::Path,
        Attribute::Session,
        Attribute::UserId,
        Attribute::PrincipalId,
        Attribute::Region,
    ];

    /// The attribute's name in the policy language.
    pub const fn as_str(self) -> &'static str {
        match self {
            Attribute::Partition => "partition",
            Attribute::Account => "account",
            Attribute::Kind => "kind",
            Attribute::Name => "name",
            Attribute::Path => "path",
            Attribute::Session => "session",
            Attribute::UserId => "user_id",
            Attribute::PrincipalId => "principal_id",
            Attribute::Region => "region",
        }
    }

    /// The attribute's value for a caller, if it has one.
    pub fn value<'a>(self, caller: &Caller<'a>) -> Option<&'a str> {
        let id = caller.identity;
        match self {
            Attribute::Partition => Some(id.partition().as_str()),
            Attribute::Account => Some(id.account()),
            Attribute::Kind => Some(id.kind().as_str()),
            Attribute::Name => id.name(),
            Attribute::Path => id.path(),
            Attribute::Session => id.session(),
            Attribute::UserId => id.user_id(),
            Attribute::PrincipalId => id.principal_id(),
            Attribute::Region => caller.region,
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Attribute {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Attribute::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(())
    }
}

/// A caller as conditions see it: the verified identity and the request's facts.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The identity STS reported.
    pub identity: &'a CallerIdentity,
    /// The STS region the proof was signed for, when known.
    pub region: Option<&'a str>,
}

impl<'a> Caller<'a> {
    /// A caller with no request facts beyond its identity.
    pub fn new(identity: &'a CallerIdentity) -> Caller<'a> {
        Caller {
            identity,
            region: None,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `in [..]`
    In,
    /// `matches "glob"`
    Matches,
    /// `=~ "regex"`
    Regex,
}

impl Operator {
    /// Every operator's spelling.
    pub const SPELLINGS: [&'static str; 5] = ["==", "!=", "in", "matches", "=~"];

    /// The operator as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::In => "in",
            Operator::Matches => "matches",
            Operator::Regex => "=~",
        }
    }
}

/// A compiled test on one attribute value.
#[derive(Debug, Clone)]
pub enum Test {
    /// Equal to.
    Eq(Box<str>),
    /// Not equal to.
    Ne(Box<str>),
    /// One of.
    In(Box<[Box<str>]>),
    /// Matches a glob (`*` may cross `/`). Shared by every rule with the same glob.
    Glob(Arc<globset::GlobMatcher>),
    /// A regex search (anchor it with `^…$` to match the whole value).
    /// Shared by every rule with the same source: a compiled regex and its
    /// match caches are kilobytes, and policies repeat the same few.
    Regex(Arc<regex::Regex>),
}

impl Test {
    fn holds(&self, value: &str) -> bool {
        match self {
            Test::Eq(v) => **v == *value,
            Test::Ne(v) => **v != *value,
            Test::In(vs) => vs.iter().any(|v| **v == *value),
            Test::Glob(g) => g.is_match(value),
            Test::Regex(r) => r.is_match(value),
        }
    }
}

/// Why a test source did not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestError {
    /// A regex that does not compile.
    #[error("invalid regex: {0}")]
    Regex(String),
    /// A regex over the size limits.
    #[error("regex is too large: {0}")]
    RegexTooLarge(String),
    /// A glob that does not compile.
    #[error("invalid glob: {0}")]
    Glob(String),
}

/// Compiles `=~` sources with the size limits.
pub fn compile_regex(source: &str) -> Result<regex::Regex, TestError> {
    if source.len() > MAX_REGEX_LEN {
        return Err(TestError::RegexTooLarge(format!(
            "{} bytes; at most {MAX_REGEX_LEN}",
            source.len()
        )));
    }
    regex::RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => {
                TestError::RegexTooLarge(format!("it compiles to more than {limit} bytes"))
            }
            other => TestError::Regex(other.to_string()),
        })
}

/// Compiles `matches` globs; `*` may cross `/`, as in IAM.
pub fn compile_glob(source: &str) -> Result<globset::GlobMatcher, TestError> {
    if source.len() > MAX_REGEX_LEN {
        return Err(TestError::Glob(format!(
            "{} bytes; at most {MAX_REGEX_LEN}",
            source.len()
        )));
    }
    globset::GlobBuilder::new(source)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| TestError::Glob(e.kind().to_string()))
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Condition {
    /// All hold.
    All(Box<[Condition]>),
    /// One holds.
    Any(Box<[Condition]>),
    /// Does not hold.
    Not(Box<Condition>),
    /// A test on an attribute.
    Compare {
        /// The attribute tested.
        attribute: Attribute,
        /// The test.
        test: Test,
    },
}

/// A three-valued truth: `Unknown` names the attribute the caller lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// Depends on an attribute the caller does not have.
    Unknown(Attribute),
}

impl Condition {
    /// The number of comparisons, the second specificity key.
    pub fn atoms(&self) -> usize {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().map(Condition::atoms).sum(),
            Condition::Not(c) => c.atoms(),
            Condition::Compare { .. } => 1,
        }
    }

    /// Evaluates with Kleene's three-valued logic.
    pub fn eval(&self, caller: &Caller<'_>) -> Truth {
        match self {
            Condition::Compare { attribute, test } => match attribute.value(caller) {
                Some(value) if test.holds(value) => Truth::True,
                Some(_) => Truth::False,
                None => Truth::Unknown(*attribute),
            },
            Condition::Not(c) => match c.eval(caller) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                unknown => unknown,
            },
            Condition::All(cs) => fold(cs, caller, Truth::False, Truth::True),
            Condition::Any(cs) => fold(cs, caller, Truth::True, Truth::False),
        }
    }
}

/// `and` (`decisive` = False) or `or` (`decisive` = True): a decisive value
/// wins, else an unknown, else the neutral value.
fn fold(cs: &[Condition], caller: &Caller<'_>, decisive: Truth, neutral: Truth) -> Truth {
    let mut unknown = None;
    for c in cs {
        match c.eval(caller) {
            t if t == decisive => return decisive,
            Truth::Unknown(a) => unknown = unknown.or(Some(Truth::Unknown(a))),
            _ => {}
        }
    }
    unknown.unwrap_or(neutral)
}
