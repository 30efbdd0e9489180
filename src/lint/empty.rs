//! Patterns that compile but can match no caller, decided exactly: the
//! compiler rejects impossible sections one at a time; this check asks the
//! overlap analysis whether any caller at all matches (e.g.
//! `assumed-role/ROLE/?` needs a one-character session, and sessions have two
//! or more).

use crate::lint::Context;
use crate::lint::overlap;
use crate::lint::pairs::Names;
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::rule::{OrgId, Rule};

/// Runs the check on one org.
pub fn check(ctx: &Context<'_>, org: OrgId, out: &mut Vec<Diagnostic>) {
    for rule in ctx.rules(org) {
        out.extend(finding(ctx, rule));
    }
}

/// The error about one rule, if its pattern can match no caller.
pub(crate) fn finding(ctx: &dyn Names, rule: &Rule) -> Option<Diagnostic> {
    let Ok(None) = overlap::example(&rule.pattern) else {
        return None;
    };
    Some(
        Diagnostic::error(
            Code::PatternResource,
            ctx.pattern_span(rule),
            format!(
                "pattern `{}` can match no caller: no user, root, federated user or assumed role (in any of its ARN forms) has such a resource",
                rule.pattern
            ),
        )
        .with_label("matches nothing")
        .with_help("names are 1 to 64 of A-Z a-z 0-9 + = , . @ _ -, sessions 2 to 64; user paths have no empty segment")
        .with_rule(ctx.id(rule)),
    )
}
