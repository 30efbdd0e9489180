//! The policies in force: the policy files loaded at start, compiled once and
//! shared by every org, plus each org's persona mappings from the store,
//! compiled on their own.
//!
//! An org's decision merges the two by precedence ([`OrgPolicy`]): the
//! mappings are rules of the org declared after every file rule, so file
//! rules and API rules meet under the one set of precedence rules without a
//! per-org copy of the files. A write compiles only its org's mappings, lints
//! only the new rule against the rules it can meet, runs the org's `test`
//! blocks against the merged decision, and swaps the whole table with one
//! `store` (readers never see half a change).
//!
//! An org whose stored mappings no longer compile, pass the files' tests or
//! lint with the files is quarantined: its exchanges fail closed.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::auth::exchange::{OrgUnavailable, PolicySource};
use crate::engine::policy::{CompiledPolicy, OrgPolicy};
use crate::engine::policy_tests::{TestOutcome, expectation_met};
use crate::lint;
use crate::policy::datadog::{PersonaMapping, policy_text};
use crate::policy::diagnostic::{Diagnostic, Diagnostics};
use crate::policy::source::{SourceId, SourceMap};
use crate::rule::condition::Caller;

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

/// Why an org's mappings were refused: the diagnostics, with the sources to
/// render them against (the policy files, then the org's generated source).
pub type Refused = (SourceMap, Diagnostics);

/// An org's entry in the table.
#[derive(Debug, Clone)]
enum OrgState {
    /// Its mappings, compiled on their own.
    Serving(Arc<CompiledPolicy>),
    /// Its stored mappings do not work with the files: fail closed.
    Quarantined(String),
}

/// The compiled policies, per org.
pub struct OrgPolicies {
    files: SourceMap,
    base: Arc<CompiledPolicy>,
    table: ArcSwap<HashMap<String, OrgState>>,
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

    /// The sources diagnostics of an org's compile are rendered against: the
    /// files, then the org's generated source, whose diagnostics' spans are
    /// moved there by [`OrgPolicies::rebase`].
    fn render_sources(&self, org: &str, text: &str) -> SourceMap {
        let mut sources = self.files.clone();
        sources.add(mappings_source_name(org), text);
        sources
    }

    /// Moves a diagnostic of the org's own policy (source 0) after the files.
    fn rebase(&self, mut d: Diagnostic) -> Diagnostic {
        d.span.source = SourceId(d.span.source.0 + self.files.iter().count() as u32);
        d
    }

    /// Compiles `mappings` on their own as `org`'s rules and runs the files'
    /// `test` blocks of `org` against the merged decision, without linting
    /// and without installing anything.
    pub fn compile_stored(
        &self,
        org: &str,
        mappings: &[StoredMapping],
    ) -> Result<Arc<CompiledPolicy>, Refused> {
        let text = mappings_policy_text(org, mappings);
        let own = CompiledPolicy::compile_str(&mappings_source_name(org), &text).map_err(|d| {
            (
                self.render_sources(org, &text),
                Diagnostics(d.0.into_iter().map(|d| self.rebase(d)).collect()),
            )
        })?;
        let own = Arc::new(own);
        let failures = self.failing_tests(org, &own);
        if !failures.is_empty() {
            return Err((self.render_sources(org, &text), Diagnostics(failures)));
        }
        Ok(own)
    }

    /// [`OrgPolicies::compile_stored`] with the org's last mapping, `new`,
    /// linted against the org's file rules and other mappings
    /// ([`lint::lint_new_rule`]): `Err` on a compile error, a failing test or
    /// any lint error (an invalid pattern, an ambiguous or undecidable
    /// overlap, a duplicate with another account).
    pub fn compile_with_new(
        &self,
        org: &str,
        mappings: &[StoredMapping],
        new: &str,
    ) -> Result<Arc<CompiledPolicy>, Refused> {
        let own = self.compile_stored(org, mappings)?;
        let findings = lint::lint_new_rule(&self.base, &own, org, new, lint::Against::All);
        if lint::has_errors(&findings) {
            let text = mappings_policy_text(org, mappings);
            return Err((
                self.render_sources(org, &text),
                Diagnostics(findings.into_iter().map(|d| self.rebase(d)).collect()),
            ));
        }
        Ok(own)
    }

    /// Lints every stored mapping of `org` (compiled as `own`) against the
    /// files' rules of `org`: what a change of the files can break.
    pub fn lint_stored(
        &self,
        org: &str,
        mappings: &[StoredMapping],
        own: &CompiledPolicy,
    ) -> Result<(), Refused> {
        let errors: Vec<Diagnostic> = lint::lint_own_rules_against_files(&self.base, own, org)
            .into_iter()
            .filter(Diagnostic::is_error)
            .map(|d| self.rebase(d))
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        let text = mappings_policy_text(org, mappings);
        Err((self.render_sources(org, &text), Diagnostics(errors)))
    }

    /// The files' tests of `org` that fail with `own` merged in.
    fn failing_tests(&self, org: &str, own: &Arc<CompiledPolicy>) -> Vec<Diagnostic> {
        let Some((_, o)) = self.base.org(org) else {
            return Vec::new();
        };
        let merged = OrgPolicy {
            files: Arc::clone(&self.base),
            own: Some(Arc::clone(own)),
        };
        o.tests
            .iter()
            .filter_map(|test| {
                let caller = Caller {
                    identity: &test.identity,
                    region: test.region.as_deref(),
                };
                let decision = merged.decide(org, &caller);
                if expectation_met(&test.expect, &decision) {
                    return None;
                }
                TestOutcome {
                    org,
                    test,
                    decision,
                    reference_disagrees: None,
                }
                .diagnostic()
            })
            .collect()
    }

    fn update(&self, org: &str, state: Option<OrgState>) {
        self.table.rcu(|table| {
            let mut next = HashMap::clone(table);
            match &state {
                Some(state) => next.insert(org.to_owned(), state.clone()),
                None => next.remove(org),
            };
            next
        });
    }

    /// Makes `policy` (the org's mappings alone) the one in force for `org`
    /// (one atomic swap).
    pub fn install(&self, org: &str, policy: Arc<CompiledPolicy>) {
        self.update(org, Some(OrgState::Serving(policy)));
    }

    /// Goes back to the files alone for `org` (its last mapping was deleted).
    pub fn remove(&self, org: &str) {
        self.update(org, None);
    }

    /// Fails `org` closed: its exchanges are refused until its mappings work.
    pub fn quarantine(&self, org: &str, reason: String) {
        self.update(org, Some(OrgState::Quarantined(reason)));
    }

    /// The quarantined orgs and why, by org.
    pub fn quarantined(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .table
            .load()
            .iter()
            .filter_map(|(org, state)| match state {
                OrgState::Quarantined(reason) => Some((org.clone(), reason.clone())),
                OrgState::Serving(_) => None,
            })
            .collect();
        out.sort();
        out
    }

    /// Decides for a caller in `org` with the policy in force (the files and
    /// the org's mappings merged by precedence); `Err` when the org is
    /// quarantined.
    pub fn decide(
        &self,
        org: &str,
        caller: &Caller<'_>,
    ) -> Result<crate::engine::decision::Decision, OrgUnavailable> {
        Ok(self.policy_for(org)?.decide(org, caller))
    }

    /// Is `org` quarantined?
    pub fn is_quarantined(&self, org: &str) -> bool {
        matches!(self.table.load().get(org), Some(OrgState::Quarantined(_)))
    }
}

impl PolicySource for OrgPolicies {
    fn policy_for(&self, org: &str) -> Result<OrgPolicy, OrgUnavailable> {
        match self.table.load().get(org) {
            None => Ok(OrgPolicy::files(Arc::clone(&self.base))),
            Some(OrgState::Serving(own)) => Ok(OrgPolicy {
                files: Arc::clone(&self.base),
                own: Some(Arc::clone(own)),
            }),
            Some(OrgState::Quarantined(_)) => Err(OrgUnavailable),
        }
    }
}
