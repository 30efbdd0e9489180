//! [`CompiledPolicy`]: the immutable, indexed result of compiling a policy,
//! and the two ways to ask it for a decision (the index, and the reference
//! matcher that states docs/semantics.md §2–3 literally).

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::engine::compiler;
use crate::engine::decision::{Decision, Verdict};
use crate::engine::index::{Index, IndexStats};
use crate::engine::precedence;
use crate::policy::diagnostic::{Diagnostic, Diagnostics};
use crate::policy::source::SourceMap;
use crate::rule::condition::Caller;
use crate::rule::{Org, OrgId, Rule};

/// A compiled, immutable, `Send + Sync` policy.
#[derive(Debug)]
pub struct CompiledPolicy {
    sources: SourceMap,
    orgs: Vec<Org>,
    org_ids: FxHashMap<Box<str>, OrgId>,
    /// Rules sorted by precedence within each org: a lower index wins.
    rules: Vec<Rule>,
    index: Index,
    warnings: Vec<Diagnostic>,
}

impl CompiledPolicy {
    /// Parses, lowers and compiles every source. Errors are collected from
    /// all sources; warnings are kept on the compiled policy.
    pub fn compile(sources: &SourceMap) -> Result<CompiledPolicy, Diagnostics> {
        let compiler::Compiled {
            orgs,
            org_ids,
            rules,
            warnings,
        } = compiler::compile(sources)?;
        Ok(CompiledPolicy::assemble(
            sources.clone(),
            orgs,
            org_ids,
            rules,
            warnings,
        ))
    }

    /// Compiles one text (handy for tests and embedding).
    pub fn compile_str(name: &str, text: &str) -> Result<CompiledPolicy, Diagnostics> {
        let mut sources = SourceMap::new();
        sources.add(name, text);
        CompiledPolicy::compile(&sources)
    }

    fn assemble(
        sources: SourceMap,
        mut orgs: Vec<Org>,
        org_ids: FxHashMap<Box<str>, OrgId>,
        rules: Vec<Rule>,
        warnings: Vec<Diagnostic>,
    ) -> CompiledPolicy {
        // Order rules by precedence; org lists keep declaration order.
        let mut order: Vec<u32> = (0..rules.len() as u32).collect();
        order.sort_by_cached_key(|&i| rules.get(i as usize).map(precedence::precedence_key));
        let mut new_index = vec![0u32; rules.len()];
        for (new, &old) in order.iter().enumerate() {
            if let Some(slot) = new_index.get_mut(old as usize) {
                *slot = new as u32;
            }
        }
        let mut slots: Vec<Option<Rule>> = rules.into_iter().map(Some).collect();
        let rules: Vec<Rule> = order
            .iter()
            .filter_map(|&old| slots.get_mut(old as usize).and_then(Option::take))
            .collect();
        for org in &mut orgs {
            for r in &mut org.rules {
                *r = new_index.get(*r as usize).copied().unwrap_or(*r);
            }
            org.rules
                .sort_by_key(|&r| rules.get(r as usize).map_or(0, |rule| rule.decl));
            org.rules.shrink_to_fit();
        }
        let index = Index::build(&rules, orgs.len());
        CompiledPolicy {
            sources,
            orgs,
            org_ids,
            rules,
            index,
            warnings,
        }
    }

    /// The sources it was compiled from.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// Warnings found while compiling.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Every rule, in precedence order within each org.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every org.
    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }

    /// The org with this id.
    pub fn org(&self, id: &str) -> Option<(OrgId, &Org)> {
        let &org_id = self.org_ids.get(id)?;
        Some((org_id, self.orgs.get(org_id as usize)?))
    }

    /// A rule's id: its `as` name, else `file:line`.
    pub fn rule_id<'a>(&self, rule: &'a Rule) -> Cow<'a, str> {
        rule.id.as_text()
    }

    /// Decides for a caller in an org with the indexed matcher. An unknown
    /// org has no rules: [`Verdict::NoMatch`].
    pub fn evaluate<'p>(&'p self, org: &str, caller: &Caller<'_>) -> Verdict<'p> {
        let Some(&org_id) = self.org_ids.get(org) else {
            return Verdict::NoMatch;
        };
        let mut candidates: SmallVec<[u32; 16]> = SmallVec::new();
        self.index
            .candidates(org_id, caller.identity, &mut candidates);
        // Match each candidate once: precedence walks the matches twice.
        let matched: SmallVec<[&Rule; 8]> = candidates
            .iter()
            .filter_map(|&i| self.rules.get(i as usize))
            .filter(|rule| rule.pattern.matches_fitting(caller.identity))
            .collect();
        precedence::resolve(matched.iter().copied(), caller)
    }

    /// Decides with the reference matcher: docs/semantics.md §2–3 written literally.
    pub fn evaluate_reference<'p>(&'p self, org: &str, caller: &Caller<'_>) -> Verdict<'p> {
        match self.org(org) {
            Some((_, org)) => super::reference::evaluate(&self.rules, org, caller),
            None => Verdict::NoMatch,
        }
    }

    /// Decides and returns an owned, self-explaining decision.
    pub fn decide(&self, org: &str, caller: &Caller<'_>) -> Decision {
        self.evaluate(org, caller).to_decision()
    }

    /// Statistics about the compiled form.
    pub fn stats(&self) -> IndexStats {
        self.index.stats()
    }
}
