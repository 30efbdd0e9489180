//! Overly broad map rules: without a condition, a pattern that matches any
//! account, or every principal of an account. (Deny rules may be broad.)

use crate::lint::Context;
use crate::lint::overlap;
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::rule::{Effect, OrgId};

/// Runs the check on one org.
pub fn check(ctx: &Context<'_>, org: OrgId, out: &mut Vec<Diagnostic>) {
    for rule in ctx.rules(org) {
        if rule.condition.is_some() || matches!(rule.effect, Effect::Deny) {
            continue;
        }
        let any_account = overlap::any_account(&rule.pattern).unwrap_or(false);
        let every_principal = overlap::every_principal(&rule.pattern).unwrap_or(false);
        let what = match (any_account, every_principal) {
            (true, true) => "every principal of every account",
            (true, false) => "callers in any account",
            (false, true) => "every principal of the account (users, roles, the root)",
            (false, false) => continue,
        };
        out.push(
            Diagnostic::warning(
                Code::BroadPattern,
                ctx.pattern_span(rule),
                format!(
                    "rule `{}` has no condition and matches {what}",
                    ctx.id(rule)
                ),
            )
            .with_label("too broad")
            .with_help("name the account and the kind of principal (…:123456789012:assumed-role/NAME), or add a `when` condition such as `account in [\"…\"]`")
            .with_rule(ctx.id(rule)),
        );
    }
}
