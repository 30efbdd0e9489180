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

use crate::compile::CompiledPolicy;
use crate::diagnostic::Diagnostics;
use crate::exchange::PolicySource;
use crate::source::SourceMap;

use super::store::StoredMapping;

/// The name of the generated source holding an org's API mappings.
pub fn mappings_source_name(org: &str) -> String {
    format!("api:{org}")
}

/// The rule name of an API mapping (rule names must start with a letter).
pub fn mapping_rule_name(id: &str) -> String {
    format!("mapping-{id}")
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The policy text of an org's mappings: one `map` rule per mapping, named
/// after the mapping id. Line `n + 2` holds mapping `n`.
pub fn mappings_policy_text(org: &str, mappings: &[StoredMapping]) -> String {
    let mut text = format!("org {} {{\n", quote(org));
    for m in mappings {
        text.push_str(&format!(
            "    map {} to {} as {}\n",
            quote(&m.arn_pattern),
            quote(&m.account_identifier),
            mapping_rule_name(&m.id)
        ));
    }
    text.push_str("}\n");
    text
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

    /// Compiles the files with `mappings` as `org`'s API rules, without
    /// installing anything. Errors name the generated source
    /// [`mappings_source_name`].
    pub fn compile_with(
        &self,
        org: &str,
        mappings: &[StoredMapping],
    ) -> Result<(SourceMap, CompiledPolicy), Diagnostics> {
        let mut sources = self.files.clone();
        sources.add(
            mappings_source_name(org),
            mappings_policy_text(org, mappings),
        );
        let policy = CompiledPolicy::compile(&sources)?;
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
