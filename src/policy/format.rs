//! `arnmap fmt`: the canonical layout of a policy file.
//!
//! The formatter normalises what is *inside* lines and keeps the lines
//! themselves, so a rule's default id (`file:line`) does not move:
//!
//! * every `org`, `map`, `deny`, `test` and closing `}` starts a line
//!   (a line is split only where two of them shared one); `org "ID" {` is
//!   one line;
//! * indentation is 4 spaces for items, 8 for a continued item (`when …`),
//!   12 for a continued condition;
//! * one space between tokens, none inside `( )` and `[ ]` or before `,`;
//! * comments are kept where they are (a trailing comment stays on its
//!   line), blank lines are kept, trailing whitespace is dropped and the file
//!   ends with one line break.
//!
//! Tokens are copied as written (strings keep their escapes), so formatting
//! never changes what a policy means; `format(format(x)) == format(x)`.

use pest::iterators::Pair;

use crate::policy::diagnostic::Diagnostic;
use crate::policy::parser::{self, Rule};
use crate::policy::source::SourceId;

#[derive(Debug, Clone, Copy)]
struct Leaf<'a> {
    rule: Rule,
    text: &'a str,
    start: usize,
    end: usize,
    /// Inside a `when` clause.
    in_condition: bool,
    /// The first token of an `org` block or an item.
    starts_item: bool,
}

fn leaves<'a>(pair: Pair<'a, Rule>, in_condition: bool, out: &mut Vec<Leaf<'a>>) {
    let rule = pair.as_rule();
    let in_condition = in_condition || rule == Rule::condition;
    let span = pair.as_span();
    let mut inner = pair.clone().into_inner().peekable();
    if rule == Rule::string || inner.peek().is_none() {
        if rule != Rule::EOI {
            out.push(Leaf {
                rule,
                text: span.as_str(),
                start: span.start(),
                end: span.end(),
                in_condition,
                starts_item: false,
            });
        }
        return;
    }
    let first = out.len();
    for child in inner {
        leaves(child, in_condition, out);
    }
    if matches!(
        rule,
        Rule::org_block | Rule::map_rule | Rule::deny_rule | Rule::test_case
    ) && let Some(leaf) = out.get_mut(first)
    {
        leaf.starts_item = true;
    }
}

/// What lies between two tokens: line breaks and comments.
#[derive(Debug, Default)]
struct Gap<'a> {
    /// `(line breaks before it, comment text)` for each comment.
    comments: Vec<(usize, &'a str)>,
    /// Line breaks after the last comment (or in the whole gap).
    breaks: usize,
}

fn gap(text: &str) -> Gap<'_> {
    let mut g = Gap::default();
    let mut rest = text;
    let mut breaks = 0;
    while let Some(c) = rest.chars().next() {
        if c == '#' {
            let end = rest.find('\n').unwrap_or(rest.len());
            let (comment, after) = rest.split_at(end);
            g.comments.push((breaks, comment.trim_end()));
            breaks = 0;
            rest = after;
        } else {
            if c == '\n' {
                breaks += 1;
            }
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
    }
    g.breaks = breaks;
    g
}

fn starts_line(leaf: &Leaf<'_>) -> bool {
    leaf.starts_item || leaf.rule == Rule::close_brace
}

fn indent(leaf: &Leaf<'_>) -> usize {
    match leaf.rule {
        Rule::kw_org | Rule::close_brace => 0,
        Rule::kw_map | Rule::kw_deny | Rule::kw_test if leaf.starts_item => 4,
        Rule::kw_when => 8,
        _ if leaf.in_condition => 12,
        _ => 8,
    }
}

fn tight(prev: Rule, next: Rule) -> bool {
    matches!(prev, Rule::open_paren | Rule::open_bracket)
        || matches!(next, Rule::close_paren | Rule::close_bracket | Rule::comma)
}

/// Formats a policy text; a syntax error comes back as its diagnostic.
pub fn format(text: &str) -> Result<String, Box<Diagnostic>> {
    let pair = parser::parse(SourceId(0), text)?;
    let mut tokens = Vec::new();
    leaves(pair, false, &mut tokens);
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<Leaf<'_>> = None;
    let mut line_open = false;
    let newline = |out: &mut String, n: usize| {
        while out.ends_with(' ') {
            out.pop();
        }
        for _ in 0..n {
            out.push('\n');
        }
    };
    for leaf in &tokens {
        let before = prev.map_or(0, |p| p.end);
        let g = gap(text.get(before..leaf.start).unwrap_or_default());
        let pad = " ".repeat(indent(leaf));
        for (breaks, comment) in &g.comments {
            if *breaks == 0 && line_open {
                out.push_str("  ");
                out.push_str(comment);
            } else {
                newline(&mut out, (*breaks).max(usize::from(line_open)));
                out.push_str(&pad);
                out.push_str(comment);
            }
            line_open = true;
        }
        let mut breaks = g.breaks;
        // A comment always ends its line; so do the tokens that start lines.
        let forced = !g.comments.is_empty() || starts_line(leaf);
        if leaf.rule == Rule::open_brace && g.comments.is_empty() {
            breaks = 0;
        } else if forced && line_open {
            breaks = breaks.max(1);
        }
        if breaks > 0 || !line_open {
            newline(&mut out, breaks);
            out.push_str(&pad);
        } else if let Some(p) = prev
            && !tight(p.rule, leaf.rule)
        {
            out.push(' ');
        }
        out.push_str(leaf.text);
        line_open = true;
        prev = Some(*leaf);
    }
    let tail = gap(text.get(prev.map_or(0, |p| p.end)..).unwrap_or_default());
    for (breaks, comment) in &tail.comments {
        if *breaks == 0 && line_open {
            out.push_str("  ");
        } else {
            newline(&mut out, (*breaks).max(usize::from(line_open)));
        }
        out.push_str(comment);
        line_open = true;
    }
    newline(&mut out, 0);
    while out.ends_with('\n') {
        out.pop();
    }
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn normalises_spacing_and_keeps_comments_and_lines() {
        let text = "# head\norg   \"o\"{\n  map \"arn:aws:sts::123456789012:assumed-role/a\"   to \"a@example.com\" as a # why\n\n\t\tdeny \"arn:aws:iam::*:root\"\n   when ( account in [ \"111111111111\" , \"222222222222\" ] )\n}   # end\n\n\n";
        let want = "# head\norg \"o\" {\n    map \"arn:aws:sts::123456789012:assumed-role/a\" to \"a@example.com\" as a  # why\n\n    deny \"arn:aws:iam::*:root\"\n        when (account in [\"111111111111\", \"222222222222\"])\n}  # end\n";
        assert_eq!(format(text).unwrap(), want);
        assert_eq!(format(want).unwrap(), want);
    }

    #[test]
    fn splits_items_that_share_a_line() {
        let text = "org \"o\" { map \"arn:aws:iam::*:root\" to \"r\" deny \"arn:aws:iam::*:user/*\" test \"arn:aws:iam::123456789012:root\" -> deny }";
        let want = "org \"o\" {\n    map \"arn:aws:iam::*:root\" to \"r\"\n    deny \"arn:aws:iam::*:user/*\"\n    test \"arn:aws:iam::123456789012:root\" -> deny\n}\n";
        assert_eq!(format(text).unwrap(), want);
    }

    #[test]
    fn syntax_errors_are_diagnostics() {
        assert!(format("org {").is_err());
    }
}
