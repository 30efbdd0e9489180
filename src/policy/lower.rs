//! Lowering pest pairs into the typed AST, collecting every error with its span.

use std::borrow::Cow;

use pest::iterators::Pair;

use super::ast::{
    Comparison, EffectDecl, Expectation, Expr, File, Operand, Org, RuleDecl, TestDecl,
};
use super::parser::Rule;
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::policy::source::{SourceId, Span, Spanned};
use crate::rule::condition::{Attribute, Operator};

/// Lowers a `policy` pair. Items with errors are dropped and their
/// diagnostics pushed; the rest of the file is still lowered.
pub fn lower<'i>(
    source: SourceId,
    policy: Pair<'i, Rule>,
    diags: &mut Vec<Diagnostic>,
) -> File<'i> {
    let mut lowerer = Lowerer { source, diags };
    let orgs = policy
        .into_inner()
        .filter(|p| p.as_rule() == Rule::org_block)
        .map(|p| lowerer.org(p))
        .collect();
    File { orgs }
}

struct Lowerer<'d> {
    source: SourceId,
    diags: &'d mut Vec<Diagnostic>,
}

/// The inner pairs that carry meaning (keywords and punctuation dropped).
fn meaningful(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::kw_org
                | Rule::kw_map
                | Rule::kw_to
                | Rule::kw_as
                | Rule::kw_when
                | Rule::kw_and
                | Rule::kw_or
                | Rule::kw_test
                | Rule::open_brace
                | Rule::close_brace
                | Rule::open_paren
                | Rule::close_paren
                | Rule::open_bracket
                | Rule::close_bracket
                | Rule::comma
                | Rule::arrow
        )
    })
}

/// [`unescape`], borrowing the body when it has no backslash.
pub fn unescape_cow(body: &str) -> Cow<'_, str> {
    if body.contains('\\') {
        Cow::Owned(unescape(body))
    } else {
        Cow::Borrowed(body)
    }
}

/// Unescapes a string body: `\"` → `"`, `\\` → `\`, other backslashes kept.
pub fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('"' | '\\')) {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The closest candidate by edit distance, if it is close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, c)| d <= 2.max(c.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

impl Lowerer<'_> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.source, s.start(), s.end())
    }

    fn string<'i>(&self, pair: Pair<'i, Rule>) -> Spanned<Cow<'i, str>> {
        let span = self.span(&pair);
        let body = pair.into_inner().next().map_or("", |b| b.as_str());
        Spanned {
            node: unescape_cow(body),
            span,
        }
    }

    fn org<'i>(&mut self, pair: Pair<'i, Rule>) -> Org<'i> {
        let span = self.span(&pair);
        let mut inner = meaningful(pair);
        let id = match inner.next() {
            Some(p) => self.string(p),
            None => Spanned {
                node: Cow::Borrowed(""),
                span,
            },
        };
        let mut org = Org {
            id,
            rules: Vec::new(),
            tests: Vec::new(),
            span,
        };
        for item in inner {
            match item.as_rule() {
                Rule::map_rule | Rule::deny_rule => {
                    if let Some(rule) = self.rule(item) {
                        org.rules.push(rule);
                    }
                }
                Rule::test_case => {
                    if let Some(test) = self.test(item) {
                        org.tests.push(test);
                    }
                }
                _ => {}
            }
        }
        org
    }

    fn rule<'i>(&mut self, pair: Pair<'i, Rule>) -> Option<RuleDecl<'i>> {
        let span = self.span(&pair);
        let is_map = pair.as_rule() == Rule::map_rule;
        let mut strings = Vec::new();
        let mut name = None;
        let mut condition = None;
        let mut failed = false;
        for part in meaningful(pair) {
            match part.as_rule() {
                Rule::string => strings.push(self.string(part)),
                Rule::rule_name => {
                    name = meaningful(part)
                        .find(|p| p.as_rule() == Rule::rule_id)
                        .map(|p| Spanned {
                            span: self.span(&p),
                            node: p.as_str(),
                        });
                }
                Rule::when_clause => {
                    match meaningful(part).next().and_then(|c| self.condition(c)) {
                        Some(expr) => condition = Some(expr),
                        None => failed = true,
                    }
                }
                _ => {}
            }
        }
        let mut strings = strings.into_iter();
        let pattern = strings.next()?;
        let effect = if is_map {
            EffectDecl::Map {
                target: strings.next()?,
            }
        } else {
            EffectDecl::Deny
        };
        Some(RuleDecl {
            effect,
            pattern,
            name,
            condition,
            span,
            valid: !failed,
        })
    }

    /// Lowers `condition`, `conjunction` or `negation`; `None` after an error.
    fn condition<'i>(&mut self, pair: Pair<'i, Rule>) -> Option<Expr<'i>> {
        match pair.as_rule() {
            Rule::condition | Rule::conjunction => {
                let or = pair.as_rule() == Rule::condition;
                let parts: Vec<Option<Expr<'i>>> =
                    meaningful(pair).map(|p| self.condition(p)).collect();
                let mut parts: Vec<Expr<'i>> = parts.into_iter().collect::<Option<_>>()?;
                if parts.len() == 1 {
                    return parts.pop();
                }
                Some(if or {
                    Expr::Or(parts)
                } else {
                    Expr::And(parts)
                })
            }
            Rule::negation => {
                let mut nots = 0;
                let mut inner = None;
                for p in meaningful(pair) {
                    if p.as_rule() == Rule::kw_not {
                        nots += 1;
                    } else {
                        inner = self.condition(p);
                    }
                }
                let mut expr = inner?;
                for _ in 0..nots {
                    expr = Expr::Not(Box::new(expr));
                }
                Some(expr)
            }
            Rule::comparison => self.comparison(pair).map(Expr::Compare),
            _ => None,
        }
    }

    fn comparison<'i>(&mut self, pair: Pair<'i, Rule>) -> Option<Comparison<'i>> {
        let mut parts = meaningful(pair);
        let (attr_pair, op_pair, operand_pair) = (parts.next()?, parts.next()?, parts.next()?);
        let attribute = self.attribute(&attr_pair);
        let operator = self.operator(op_pair);
        let operand = match operand_pair.as_rule() {
            Rule::string_list => {
                let list_span = self.span(&operand_pair);
                let items = meaningful(operand_pair)
                    .filter(|p| p.as_rule() == Rule::string)
                    .map(|p| self.string(p))
                    .collect();
                Operand::List(Spanned {
                    node: items,
                    span: list_span,
                })
            }
            _ => Operand::Str(self.string(operand_pair)),
        };
        let (attribute, operator) = (attribute?, operator?);
        let list = matches!(operand, Operand::List(_));
        if (operator.node == Operator::In) != list {
            let operand_span = match &operand {
                Operand::Str(s) => s.span,
                Operand::List(l) => l.span,
            };
            let (message, help) = if list {
                (
                    format!(
                        "`{}` compares with one string, not a list",
                        operator.node.as_str()
                    ),
                    "use `in [\"a\", \"b\"]` to test membership",
                )
            } else {
                (
                    "`in` takes a list of strings".to_owned(),
                    "write `in [\"a\", \"b\"]`",
                )
            };
            self.diags.push(
                Diagnostic::error(Code::OperandKind, operand_span, message)
                    .with_label("this operand")
                    .with_help(help),
            );
            return None;
        }
        Some(Comparison {
            attribute,
            operator,
            operand,
        })
    }

    fn attribute(&mut self, pair: &Pair<'_, Rule>) -> Option<Spanned<Attribute>> {
        let span = self.span(pair);
        let word = pair.as_str();
        match word.parse::<Attribute>() {
            Ok(attribute) => Some(Spanned {
                node: attribute,
                span,
            }),
            Err(()) => {
                let names = Attribute::ALL.map(Attribute::as_str);
                let help = match did_you_mean(word, names) {
                    Some(best) => {
                        format!("did you mean `{best}`? attributes are {}", names.join(", "))
                    }
                    None => format!("attributes are {}", names.join(", ")),
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::UnknownAttribute,
                        span,
                        format!("unknown attribute `{word}`"),
                    )
                    .with_label("not an attribute")
                    .with_help(help),
                );
                None
            }
        }
    }

    fn operator(&mut self, pair: Pair<'_, Rule>) -> Option<Spanned<Operator>> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        let operator = match inner.as_rule() {
            Rule::op_eq => Operator::Eq,
            Rule::op_ne => Operator::Ne,
            Rule::op_regex => Operator::Regex,
            Rule::kw_in => Operator::In,
            Rule::kw_matches => Operator::Matches,
            _ => {
                let word = inner.as_str();
                let suggestion = match word {
                    "=" | "===" => Some("=="),
                    "~=" | "~" | "=~~" => Some("=~"),
                    "<>" | "!==" | "!" => Some("!="),
                    _ => did_you_mean(word, Operator::SPELLINGS),
                };
                let help = match suggestion {
                    Some(best) => {
                        format!("did you mean `{best}`? operators are ==, !=, in, matches, =~")
                    }
                    None => "operators are ==, !=, in, matches, =~".to_owned(),
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::UnknownOperator,
                        span,
                        format!("unknown operator `{word}`"),
                    )
                    .with_label("not an operator")
                    .with_help(help),
                );
                return None;
            }
        };
        Some(Spanned {
            node: operator,
            span,
        })
    }

    fn test<'i>(&mut self, pair: Pair<'i, Rule>) -> Option<TestDecl<'i>> {
        let span = self.span(&pair);
        let mut arn = None;
        let (mut user_id, mut region) = (None, None);
        let mut expect = None;
        for part in meaningful(pair) {
            match part.as_rule() {
                Rule::string => arn = Some(self.string(part)),
                Rule::test_option => {
                    let mut inner = part.into_inner();
                    let (key, value) = (inner.next()?, inner.next()?);
                    let value = self.string(value);
                    match key.as_rule() {
                        Rule::kw_user_id => user_id = Some(value),
                        _ => region = Some(value),
                    }
                }
                Rule::expectation => {
                    let e_span = self.span(&part);
                    let inner = part.into_inner().next()?;
                    let node = match inner.as_rule() {
                        Rule::kw_deny => Expectation::Deny,
                        Rule::kw_none => Expectation::NoMatch,
                        _ => Expectation::User(self.string(inner).node.into_owned()),
                    };
                    expect = Some(Spanned { node, span: e_span });
                }
                _ => {}
            }
        }
        Some(TestDecl {
            arn: arn?,
            user_id,
            region,
            expect: expect?,
            span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_keeps_other_backslashes() {
        assert_eq!(unescape(r#"a\"b\\c\.d"#), r#"a"b\c\.d"#);
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("sesion", ["session", "name"]), Some("session"));
        assert_eq!(did_you_mean("zzzzzz", ["session", "name"]), None);
    }
}
