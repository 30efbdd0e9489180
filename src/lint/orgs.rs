//! Org ids: an org is a tenant of the service, named by a UUID.

use crate::lint::Context;
use crate::policy::diagnostic::{Code, Diagnostic};
use crate::rule::target::is_uuid;

/// Warns about org ids that are not UUIDs.
pub fn check(ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (id, span) in ctx.org_decls() {
        if !is_uuid(id) {
            out.push(
                Diagnostic::warning(
                    Code::OrgIdNotUuid,
                    span,
                    format!("org id `{id}` is not a UUID"),
                )
                .with_label("this org id")
                .with_help("org ids are the tenant's UUID, e.g. \"0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10\"; a decision for any other id matches nothing"),
            );
        }
    }
}
