//! The pest binding of `grammar/policy.pest`, and syntax errors as diagnostics.

use pest::Parser as _;
use pest::iterators::Pair;
use pest_derive::Parser;

use crate::policy::diagnostic::{Code, Diagnostic};
use crate::policy::source::{SourceId, Span};

pub use generated::{PolicyParser, Rule};

mod generated {
    #![allow(missing_docs)]
    use super::Parser;

    /// The generated parser; `Rule` names the grammar's rules.
    #[derive(Parser)]
    #[grammar = "../grammar/policy.pest"]
    pub struct PolicyParser;
}

/// Parses one source text into its `policy` pair, or a located syntax error.
pub fn parse(source: SourceId, text: &str) -> Result<Pair<'_, Rule>, Box<Diagnostic>> {
    match PolicyParser::parse(Rule::policy, text) {
        Ok(mut pairs) => pairs.next().ok_or_else(|| {
            Box::new(Diagnostic::error(
                Code::Syntax,
                Span::new(source, 0, 0),
                "empty parse",
            ))
        }),
        Err(error) => Err(Box::new(syntax_error(source, text, error))),
    }
}

fn syntax_error(source: SourceId, text: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    let error = error.renamed_rules(|rule| friendly_name(*rule).to_owned());
    let (start, end) = match error.location {
        pest::error::InputLocation::Pos(p) => (p, next_char_end(text, p)),
        pest::error::InputLocation::Span((s, e)) => (s, e),
    };
    let message = error.variant.message().into_owned();
    let found = text
        .get(start..)
        .and_then(|rest| rest.split_whitespace().next())
        .map_or("end of file".to_owned(), |tok| {
            format!("`{}`", tok.chars().take(24).collect::<String>())
        });
    Diagnostic::error(
        Code::Syntax,
        Span::new(source, start, end),
        format!("syntax error: {message}"),
    )
    .with_label(format!("found {found}"))
    .with_help(syntax_help(&message))
}

fn next_char_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(at, |c| at + c.len_utf8())
}

fn syntax_help(message: &str) -> String {
    if message.contains("`->`") {
        "a test reads: test \"ARN\" -> \"user@example.com\" | deny | none".into()
    } else if message.contains("comparison operator") {
        "operators are ==, !=, in, matches and =~".into()
    } else if message.contains("`org`") {
        "every rule lives in a block: org \"ORG-ID\" { map \"PATTERN\" to \"USER\" }".into()
    } else {
        "see the policy language guide in the README".into()
    }
}

/// The name a rule has in "expected …" messages.
pub fn friendly_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::policy => "a policy",
        Rule::org_block => "an `org` block",
        Rule::item => "`map`, `deny` or `test`",
        Rule::primary => "a comparison or `(`",
        Rule::operand => "a string or a list of strings",
        Rule::quote => "`\"`",
        Rule::map_rule => "a `map` rule",
        Rule::deny_rule => "a `deny` rule",
        Rule::rule_name => "`as NAME`",
        Rule::when_clause => "`when CONDITION`",
        Rule::condition | Rule::conjunction | Rule::negation => "a condition",
        Rule::comparison => "a comparison",
        Rule::operator | Rule::op_unknown => "a comparison operator",
        Rule::op_regex => "`=~`",
        Rule::op_eq => "`==`",
        Rule::op_ne => "`!=`",
        Rule::string_list => "a list of strings",
        Rule::test_case => "a `test`",
        Rule::test_option => "`user_id` or `region`",
        Rule::expectation => "`\"USER\"`, `deny` or `none`",
        Rule::string | Rule::string_body | Rule::escape | Rule::lone_backslash => {
            "a double-quoted string"
        }
        Rule::name => "a name",
        Rule::rule_id => "a rule id",
        Rule::kw_org => "`org`",
        Rule::kw_map => "`map`",
        Rule::kw_to => "`to`",
        Rule::kw_deny => "`deny`",
        Rule::kw_as => "`as`",
        Rule::kw_when => "`when`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_matches => "`matches`",
        Rule::kw_test => "`test`",
        Rule::kw_user_id => "`user_id`",
        Rule::kw_region => "`region`",
        Rule::kw_none => "`none`",
        Rule::open_brace => "`{`",
        Rule::close_brace => "`}`",
        Rule::open_paren => "`(`",
        Rule::close_paren => "`)`",
        Rule::open_bracket => "`[`",
        Rule::close_bracket => "`]`",
        Rule::comma => "`,`",
        Rule::arrow => "`->`",
        Rule::WHITESPACE | Rule::COMMENT | Rule::word_char => "whitespace",
    }
}
