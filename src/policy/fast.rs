//! The fast path of the front end: a hand-written reader of the policy
//! language (docs/semantics.md §3.1) that goes straight from the text to the
//! [`ast::File`](super::ast::File) that pest (`grammar/policy.pest`, the
//! grammar of record) and [`lower`](super::lower) produce together — the same
//! nodes, the same spans, the same unescaping — without building pest's pair
//! tree in between.
//!
//! It is sure of a file or gives up: it returns `None` on any syntax error,
//! on anything whose lowering reports a diagnostic (an unknown attribute or
//! operator, `in` without a list or a list without `in`, docs/semantics.md
//! §3.3), and on conditions nested deeper than [`MAX_DEPTH`]. The file then
//! goes through pest and the lowering exactly as before, so every diagnostic
//! still comes from them. `tests/engine/fast_parser.rs` (a proptest over the
//! grammar) and the `policy_parser` fuzz target check that whenever this
//! returns a file, pest and the lowering return the same one without a
//! diagnostic.
//!
//! Spans follow pest's rules for where a pair ends, which are not always
//! where its last token ends: a rule with an implicit-whitespace sequence
//! `a ~ b?` keeps the whitespace and comments skipped before an absent `b`.
//! So a `map`/`deny` rule's span runs over the trivia after it, unless it
//! ends in a `when` condition whose last `or` operand is a conjunction of two
//! or more `and` operands (then it ends with that operand's last token).
//! Keywords end before a word character (`mapping` is not `map`).

use std::borrow::Cow;

use super::ast::{
    Comparison, EffectDecl, Expectation, Expr, File, Operand, Org, RuleDecl, TestDecl,
};
use super::lower::unescape_cow;
use crate::policy::source::{SourceId, Span, Spanned};
use crate::rule::condition::{Attribute, Operator};

/// How deep parentheses and `not`s may nest before the fast path leaves the
/// file to pest (whose own recursion is bounded by its stack guard and, in
/// the fuzz harness, its call limit; well inside both).
pub const MAX_DEPTH: u32 = 32;

/// Below this many bytes a file is read on the calling thread alone.
const PARALLEL_MIN_BYTES: usize = 1 << 22;

/// Reads one source text into its AST, or `None` when the text has a syntax
/// error, a lowering diagnostic, or anything this reader is not sure of.
///
/// A large text is read in pieces on several threads, each starting at an
/// `org` at the start of a line. That is nearly always a top-level org block
/// (a string and a comment end at a line break, and no item starts with
/// `org`; but `as` may be followed by the id `org` on the next line), so a
/// piece is only kept when the previous one ended exactly where it starts;
/// otherwise the text is read again in one piece.
pub fn parse(source: SourceId, text: &str) -> Option<File<'_>> {
    // Spans are 32-bit; leave anything longer to pest as before.
    u32::try_from(text.len()).ok()?;
    let threads = crate::parallel::threads();
    if threads > 1
        && text.len() >= PARALLEL_MIN_BYTES
        && let Some(orgs) = parse_pieces(source, text, threads)
    {
        return Some(File { orgs });
    }
    let orgs = orgs_between(source, text, 0, text.len())?;
    Some(File { orgs })
}

/// The org blocks of `text[start..end]`, a run of whole blocks between
/// trivia (`start` is 0 or the `o` of an `org`).
fn orgs_between(source: SourceId, text: &str, start: usize, end: usize) -> Option<Vec<Org<'_>>> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: start,
        source,
    };
    let mut orgs = Vec::new();
    loop {
        reader.skip();
        if reader.pos == end {
            return Some(orgs);
        }
        if reader.pos > end {
            return None;
        }
        orgs.push(reader.org()?);
    }
}

/// The text cut into up to `pieces` runs of org blocks, read in parallel;
/// `None` when a piece does not end exactly where the next starts (or has
/// anything [`parse`] gives up on).
pub fn parse_pieces(source: SourceId, text: &str, pieces: usize) -> Option<Vec<Org<'_>>> {
    let mut bounds = vec![0];
    for k in 1..pieces {
        let from = (text.len() / pieces * k).max(bounds.last().copied().unwrap_or(0) + 1);
        if let Some(at) = org_at_line_start(text, from) {
            bounds.push(at);
        }
    }
    bounds.dedup();
    bounds.push(text.len());
    let ranges: Vec<(usize, usize)> = bounds
        .windows(2)
        .filter_map(|w| Some((*w.first()?, *w.get(1)?)))
        .collect();
    let parts = crate::parallel::map(&ranges, |&(start, end)| {
        orgs_between(source, text, start, end)
    });
    let mut orgs = Vec::new();
    for part in parts {
        orgs.extend(part?);
    }
    Some(orgs)
}

/// The offset of the first `org` keyword that starts a line after `from`.
fn org_at_line_start(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    loop {
        let rest = bytes.get(at..)?;
        let newline = at + rest.iter().position(|&b| b == b'\n')?;
        let start = newline + 1;
        if bytes.get(start..start + 3) == Some(b"org")
            && !bytes.get(start + 3).copied().is_some_and(is_word)
        {
            return Some(start);
        }
        at = start;
    }
}

/// `ASCII_ALPHANUMERIC | "_" | "-"`: a byte that continues a word.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The first byte of a `rule_id`.
fn starts_rule_id(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The first byte of a `name` (an attribute).
fn starts_name(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    source: SourceId,
}

impl<'t> Reader<'t> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace and `#` comments (pest's implicit `WHITESPACE` and `COMMENT`).
    fn skip(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => {
                    let rest = self.bytes.get(self.pos..).unwrap_or_default();
                    self.pos += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
                }
                _ => break,
            }
        }
    }

    /// Consumes `token` if the text continues with it.
    fn token(&mut self, token: &str) -> bool {
        let end = self.pos + token.len();
        if self.bytes.get(self.pos..end) == Some(token.as_bytes()) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// Consumes the keyword `word` if the text continues with it and no word
    /// character follows.
    fn keyword(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) == Some(word.as_bytes())
            && !self.bytes.get(end).copied().is_some_and(is_word)
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// A word whose first byte passes `first`, then word bytes.
    fn word(&mut self, first: fn(u8) -> bool) -> Option<Spanned<&'t str>> {
        let start = self.pos;
        if !self.peek().is_some_and(first) {
            return None;
        }
        let rest = self.bytes.get(start + 1..).unwrap_or_default();
        let end = start + 1 + rest.iter().position(|&b| !is_word(b)).unwrap_or(rest.len());
        self.pos = end;
        Some(Spanned {
            node: self.text.get(start..end)?,
            span: self.span(start, end),
        })
    }

    /// A double-quoted string, unescaped; its span includes the quotes.
    fn string(&mut self) -> Option<Spanned<Cow<'t, str>>> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return None;
        }
        let mut at = start + 1;
        loop {
            match *self.bytes.get(at)? {
                b'"' => break,
                b'\n' | b'\r' => return None,
                b'\\' => {
                    // `\"` and `\\` are escapes; any other backslash is kept.
                    at += if matches!(self.bytes.get(at + 1), Some(b'"' | b'\\')) {
                        2
                    } else {
                        1
                    };
                }
                _ => at += 1,
            }
        }
        let body = self.text.get(start + 1..at)?;
        self.pos = at + 1;
        Some(Spanned {
            node: unescape_cow(body),
            span: self.span(start, self.pos),
        })
    }

    /// `org "ID" { … }`
    fn org(&mut self) -> Option<Org<'t>> {
        let start = self.pos;
        if !self.keyword("org") {
            return None;
        }
        self.skip();
        let id = self.string()?;
        self.skip();
        if !self.token("{") {
            return None;
        }
        let (mut rules, mut tests) = (Vec::new(), Vec::new());
        loop {
            self.skip();
            let item = self.pos;
            if self.token("}") {
                break;
            } else if self.keyword("map") {
                rules.push(self.rule(item, true)?);
            } else if self.keyword("deny") {
                rules.push(self.rule(item, false)?);
            } else if self.keyword("test") {
                tests.push(self.test(item)?);
            } else {
                return None;
            }
        }
        Some(Org {
            id,
            rules,
            tests,
            span: self.span(start, self.pos),
        })
    }

    /// The rest of `map "PATTERN" to "TARGET" [as ID] [when COND]` or
    /// `deny "PATTERN" [as ID] [when COND]`, after its keyword at `start`.
    fn rule(&mut self, start: usize, map: bool) -> Option<RuleDecl<'t>> {
        self.skip();
        let pattern = self.string()?;
        self.skip();
        let effect = if map {
            if !self.keyword("to") {
                return None;
            }
            self.skip();
            let target = self.string()?;
            self.skip();
            EffectDecl::Map { target }
        } else {
            EffectDecl::Deny
        };
        let mut name = None;
        if self.keyword("as") {
            self.skip();
            name = Some(self.word(starts_rule_id)?);
            self.skip();
        }
        // Without a condition the rule's pair ends after the trivia that follows it.
        let mut end = self.pos;
        let mut condition = None;
        if self.keyword("when") {
            self.skip();
            let (expr, expr_end) = self.condition(0)?;
            condition = Some(expr);
            end = expr_end;
        }
        Some(RuleDecl {
            effect,
            pattern,
            name,
            condition,
            span: self.span(start, end),
            valid: true,
        })
    }

    /// `conjunction (or conjunction)*`, with where pest's `condition` pair
    /// ends: after the trivia that follows a lone conjunction, else where the
    /// last conjunction ends.
    fn condition(&mut self, depth: u32) -> Option<(Expr<'t>, usize)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (first, _) = self.conjunction(depth)?;
        self.skip();
        if !self.keyword("or") {
            return Some((first, self.pos));
        }
        let mut parts = vec![first];
        loop {
            self.skip();
            let (next, end) = self.conjunction(depth)?;
            parts.push(next);
            self.skip();
            if !self.keyword("or") {
                return Some((Expr::Or(parts), end));
            }
        }
    }

    /// `negation (and negation)*`, with where pest's `conjunction` pair
    /// ends: after the trivia that follows a lone negation, else where the
    /// last negation ends.
    fn conjunction(&mut self, depth: u32) -> Option<(Expr<'t>, usize)> {
        let first = self.negation(depth)?;
        self.skip();
        if !self.keyword("and") {
            return Some((first, self.pos));
        }
        let mut parts = vec![first];
        loop {
            self.skip();
            parts.push(self.negation(depth)?);
            let end = self.pos;
            self.skip();
            if !self.keyword("and") {
                return Some((Expr::And(parts), end));
            }
        }
    }

    /// `not* (( condition ) | comparison)`; ends where its last token ends.
    fn negation(&mut self, mut depth: u32) -> Option<Expr<'t>> {
        let mut nots = 0;
        while self.keyword("not") {
            nots += 1;
            depth += 1;
            if depth > MAX_DEPTH {
                return None;
            }
            self.skip();
        }
        let mut expr = if self.token("(") {
            self.skip();
            let (inner, _) = self.condition(depth + 1)?;
            self.skip();
            if !self.token(")") {
                return None;
            }
            inner
        } else {
            Expr::Compare(self.comparison()?)
        };
        for _ in 0..nots {
            expr = Expr::Not(Box::new(expr));
        }
        Some(expr)
    }

    /// `ATTRIBUTE OPERATOR OPERAND`; `None` for anything lowering would
    /// report (docs/semantics.md §3.3).
    fn comparison(&mut self) -> Option<Comparison<'t>> {
        let word = self.word(starts_name)?;
        let attribute = Spanned {
            node: word.node.parse::<Attribute>().ok()?,
            span: word.span,
        };
        self.skip();
        let op_start = self.pos;
        // pest's order: `=~`, `==`, `!=`, `in`, `matches`; anything else is
        // an unknown operator (or a syntax error).
        let operator = if self.token("=~") {
            Operator::Regex
        } else if self.token("==") {
            Operator::Eq
        } else if self.token("!=") {
            Operator::Ne
        } else if self.keyword("in") {
            Operator::In
        } else if self.keyword("matches") {
            Operator::Matches
        } else {
            return None;
        };
        let operator = Spanned {
            node: operator,
            span: self.span(op_start, self.pos),
        };
        self.skip();
        let operand = if self.peek() == Some(b'[') {
            Operand::List(self.list()?)
        } else {
            Operand::Str(self.string()?)
        };
        if (operator.node == Operator::In) != matches!(operand, Operand::List(_)) {
            return None;
        }
        Some(Comparison {
            attribute,
            operator,
            operand,
        })
    }

    /// `[ "a", "b", ]` (a trailing comma is allowed).
    fn list(&mut self) -> Option<Spanned<Vec<Spanned<Cow<'t, str>>>>> {
        let start = self.pos;
        if !self.token("[") {
            return None;
        }
        self.skip();
        let mut items = Vec::new();
        if !self.token("]") {
            loop {
                items.push(self.string()?);
                self.skip();
                if self.token(",") {
                    self.skip();
                    if self.token("]") {
                        break;
                    }
                } else if self.token("]") {
                    break;
                } else {
                    return None;
                }
            }
        }
        Some(Spanned {
            node: items,
            span: self.span(start, self.pos),
        })
    }

    /// The rest of `test "ARN" [user_id "ID"] [region "R"] -> EXPECTATION`
    /// after its keyword at `start` (docs/semantics.md §3.5); a repeated
    /// option keeps its last value, as the lowering does.
    fn test(&mut self, start: usize) -> Option<TestDecl<'t>> {
        self.skip();
        let arn = self.string()?;
        let (mut user_id, mut region) = (None, None);
        loop {
            self.skip();
            if self.keyword("user_id") {
                self.skip();
                user_id = Some(self.string()?);
            } else if self.keyword("region") {
                self.skip();
                region = Some(self.string()?);
            } else {
                break;
            }
        }
        if !self.token("->") {
            return None;
        }
        self.skip();
        let expect_start = self.pos;
        let node = if self.keyword("deny") {
            Expectation::Deny
        } else if self.keyword("none") {
            Expectation::NoMatch
        } else {
            Expectation::User(self.string()?.node.into_owned())
        };
        Some(TestDecl {
            arn,
            user_id,
            region,
            expect: Spanned {
                node,
                span: self.span(expect_start, self.pos),
            },
            span: self.span(start, self.pos),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_piece(text: &str) -> String {
        format!("{:?}", orgs_between(SourceId(0), text, 0, text.len()))
    }

    /// A file over the parallel threshold is read in pieces into the same
    /// AST as in one piece.
    #[test]
    fn a_large_file_read_in_pieces_is_the_same() {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < PARALLEL_MIN_BYTES + 4096 {
            text.push_str(&format!(
                "org \"o{i}\" {{\n  map \"arn:aws:sts::123456789012:assumed-role/r{i}\" to \"u@example.com\" when session =~ \"^a\\\\.b\" # c\n  test \"x\" -> none\n}}\n# between\n"
            ));
            i += 1;
        }
        let file = parse(SourceId(0), &text).expect("it parses");
        assert_eq!(format!("{:?}", Some(file.orgs)), one_piece(&text));
        for pieces in [2, 3, 8] {
            let orgs = parse_pieces(SourceId(0), &text, pieces);
            assert_eq!(format!("{orgs:?}"), one_piece(&text), "{pieces} pieces");
        }
    }

    /// A cut before an `org` that is a rule id (`as` on the line before) is
    /// not between two org blocks: the pieces give up, the whole text does not.
    #[test]
    fn a_cut_inside_an_org_block_gives_up() {
        let text = "org \"a\" {\n  map \"p\" to \"t\" as\norg\n}\norg \"b\" {\n}\n";
        assert!(parse_pieces(SourceId(0), text, 2).is_none());
        assert_eq!(
            format!("{:?}", parse(SourceId(0), text).map(|f| f.orgs)),
            one_piece(text)
        );
        assert!(one_piece(text).contains("Some"));
    }
}
