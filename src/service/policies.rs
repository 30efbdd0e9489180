//! The policies in force: the policy files loaded at start, plus each org's
//! persona mappings from the store, compiled together per org.
//!
//! Orgs without API mappings share one compiled policy of the files alone.
//! An org with mappings has its own: the files plus one generated source of
//! that org's mappings, so file rules and API rules meet under the one set of
//! precedence rules. A write recompiles only its org and swaps the whole
//! table with one `store` (readers never see half a change).

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::auth::exchange::PolicySource;
use crate::engine::policy::CompiledPolicy;
use crate::lint;
use crate::policy::datadog::{PersonaMapping, policy_text};
use crate::policy::diagnostic::Diagnostics;
use crate::policy::source::SourceMap;

use super::store::StoredMapping;

/// The name of the generated source holding an org's API mappings.
pub fn mappings_source_name(org: &str) -> String {
    format!("api:{org}")
}

/// The policy text of an org's mappings ([`crate::policy::datadog::policy_text`]):
/// one `map` rule per mapping, named after the mapping id, so decisions and
/// tokens name the mapping that matched.
pub fn mappings_policy_text(org: &str, mappings: &[StoredMapping]) -> String {
    let mappings: Vec<PersonaMapping> = mappings
        .iter()
        .map(|m| PersonaMapping {
            id: m.id.clone(),
            account_identifier: m.account_identifier.clone(),
            arn_pattern: m.arn_pattern.clone(),
            account_uuid: None,
        })
        .collect();
    policy_text(org, &mappings)
}

/// The compiled policies, per org.
pub struct OrgPolicies {
    files: SourceMap,
    base: Arc<CompiledPolicy>,
    table: ArcSwap<HashMap<String, Arc<CompiledPolicy>>>,
}

impl std::fmt::Debug for OrgPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgPolicies")
            .field("orgs_with_mappings", &self.table.load().len())
            .finish_non_exhaustive()
    }
}

impl OrgPolicies {
    /// Starts from the policy files (already compiled) and no mappings.
    pub fn new(files: SourceMap, base: CompiledPolicy) -> OrgPolicies {
        OrgPolicies {
            files,
            base: Arc::new(base),
            table: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// The policy files' sources.
    pub fn files(&self) -> &SourceMap {
        &self.files
    }

    /// Compiles the files with `mappings` as `org`'s API rules and lints
    /// that org, without installing anything. `Err` holds the compile errors,
    /// or every lint diagnostic when lint found an error (an invalid pattern,
    /// two rules that can match one caller with equal specificity and
    /// different accounts, a `test` block the change breaks, …). Diagnostics
    /// in the mappings name the generated source [`mappings_source_name`].
    pub fn compile_with(
        &self,
        org: &str,
        mappings: &[StoredMapping],
    ) -> Result<(SourceMap, CompiledPolicy), (SourceMap, Diagnostics)> {
        let mut sources = self.files.clone();
        sources.add(
            mappings_source_name(org),
            mappings_policy_text(org, mappings),
        );
        let policy = match CompiledPolicy::compile(&sources) {
            Ok(policy) => policy,
            Err(diagnostics) => return Err((sources, diagnostics)),
        };
        let findings = lint::lint(&policy, lint::Options { org: Some(org) });
        if lint::has_errors(&findings) {
            return Err((sources, Diagnostics(findings)));
        }
        Ok((sources, policy))
    }

    /// Makes `policy` the one in force for `org` (one atomic swap).
    pub fn install(&self, org: &str, policy: CompiledPolicy) {
        let policy = Arc::new(policy);
        self.table.rcu(|table| {
            let mut next = HashMap::clone(table);
            next.insert(org.to_owned(), Arc::clone(&policy));
            next
        });
    }

    /// Goes back to the files alone for `org` (its last mapping was deleted).
    pub fn remove(&self, org: &str) {
        self.table.rcu(|table| {
            let mut next = HashMap::clone(table);
            next.remove(org);
            next
        });
    }
}

impl PolicySource for OrgPolicies {
    fn policy_for(&self, org: &str) -> Arc<CompiledPolicy> {
        self.table
            .load()
            .get(org)
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.base))
    }
}
