//! The policy's `test` blocks: failing tests are errors; a rule that decides
//! no test is a note (nothing shows that it does what its author meant).

use crate::engine::policy_tests as testing;
use crate::lint::Context;
use crate::policy::diagnostic::{Code, Diagnostic};

/// Runs the tests of the orgs in scope and reports failures and untested rules.
pub fn check(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let policy = ctx.policy;
    let outcomes: Vec<_> = testing::run(policy)
        .into_iter()
        .filter(|o| ctx.org_in_scope(o.org))
        .collect();
    out.extend(outcomes.iter().filter_map(testing::TestOutcome::diagnostic));
    for org in ctx.orgs() {
        let Some(org_decl) = policy.orgs().get(org as usize) else {
            continue;
        };
        let exercised: Vec<String> = outcomes
            .iter()
            .filter(|o| o.org == &*org_decl.id)
            .filter_map(|o| match &o.decision {
                crate::Decision::Mapped { rule, .. } | crate::Decision::Denied { rule } => {
                    Some(rule.clone())
                }
                crate::Decision::Error { rule, .. } => rule.clone(),
                crate::Decision::NoMatch => None,
            })
            .collect();
        for rule in ctx.rules(org) {
            let id = ctx.id(rule);
            if exercised.contains(&id) {
                continue;
            }
            out.push(
                Diagnostic::note(
                    Code::UntestedRule,
                    ctx.pattern_span(rule),
                    format!("no `test` block is decided by rule `{id}`"),
                )
                .with_label("untested")
                .with_help("add a test such as: test \"ARN\" -> \"user@example.com\"")
                .with_rule(id),
            );
        }
    }
}
