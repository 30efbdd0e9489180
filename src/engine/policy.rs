//! [`CompiledPolicy`]: the immutable, indexed result of compiling a policy,
//! and the two ways to ask it for a decision (the index, and the reference
//! matcher that states docs/semantics.md §2–3 literally).

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::engine::compiler;
use crate::engine::decision::{Decision, Verdict};
use crate::engine::index::{self, Index, IndexStats};
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
            rules,
            warnings,
        } = compiler::compile(sources)?;
        Ok(CompiledPolicy::assemble(
            sources.clone(),
            orgs,
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
        rules: Vec<Rule>,
        warnings: Vec<Diagnostic>,
    ) -> CompiledPolicy {
        // Rank every rule by precedence (a stable sort: equal keys keep
        // declaration order, and the key ends with the declaration anyway).
        let mut rules = rules;
        rules.sort_by_cached_key(precedence::precedence_key);
        rules.shrink_to_fit();
        // INVARIANT: the index and `resolve` rely on this order.
        debug_assert!(rules.is_sorted_by_key(precedence::precedence_key));
        // Each org lists its rules' ranks in declaration order.
        for org in &mut orgs {
            org.rules.clear();
        }
        for (rank, rule) in rules.iter().enumerate() {
            let org = orgs.get_mut(rule.org as usize);
            debug_assert!(org.is_some(), "rule of an unknown org");
            if let Some(org) = org {
                org.rules.push(rank as u32);
            }
        }
        for org in &mut orgs {
            org.rules
                .sort_by_cached_key(|&r| rules.get(r as usize).map(|rule| rule.decl));
            org.rules.shrink_to_fit();
        }
        let index = Index::build(&rules, orgs.iter().map(|org| &*org.id));
        CompiledPolicy {
            sources,
            orgs,
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
        let org_id = self.org_id(id)?;
        Some((org_id, self.orgs.get(org_id as usize)?))
    }

    /// The [`OrgId`] of the org with this id (through the index's org table).
    fn org_id(&self, id: &str) -> Option<OrgId> {
        self.index.find_org(id, |org| {
            self.orgs.get(org as usize).map(|o| o.id.as_bytes())
        })
    }

    /// A rule's id: its `as` name, else `file:line`.
    pub fn rule_id<'a>(&self, rule: &'a Rule) -> Cow<'a, str> {
        rule.id.as_text()
    }

    /// Decides for a caller in an org with the indexed matcher. An unknown
    /// org has no rules: [`Verdict::NoMatch`].
    pub fn evaluate<'p>(&'p self, org: &str, caller: &Caller<'_>) -> Verdict<'p> {
        let Some(org_id) = self.org_id(org) else {
            return Verdict::NoMatch;
        };
        if self.rules.len() > index::MAX_RULES {
            // Candidates could not name every rule (over a billion rules).
            return self.evaluate_reference(org, caller);
        }
        let identity = caller.identity;
        let forms = identity.form_list();
        let forms = forms.as_slice();
        let (partition, account) = (identity.partition(), identity.account());
        // Each candidate is checked as the index finds it, against the form
        // whose key found it only: a rule that matches the caller through a
        // form is a candidate through that form.
        let mut matched: SmallVec<[u32; 8]> = SmallVec::new();
        let mut out_of_range = false;
        self.index.candidates(org_id, account, forms, |rank, form| {
            let (Some(rule), Some(form)) =
                (self.rules.get(rank as usize), forms.get(form as usize))
            else {
                out_of_range = true;
                return;
            };
            // Keys are 64-bit hashes: a collision may bring a rule of another
            // org, which its pattern alone would not reject.
            if rule.org == org_id
                && rule.pattern.fits_form_kind(form.kind)
                && rule.pattern.matches_fitting_form(partition, account, form)
            {
                matched.push(rank);
            }
        });
        if out_of_range {
            // INVARIANT: the index files only ranks of `self.rules` and tells
            // only forms of the caller. Were it broken, dropping the
            // candidate could drop a deny: answer with the reference matcher
            // instead, which needs no index.
            debug_assert!(false, "index candidate out of range");
            return self.evaluate_reference(org, caller);
        }
        // Ranks are precedence order; a rule found twice counts once.
        if matched.len() > 1 {
            matched.sort_unstable();
            matched.dedup();
        }
        precedence::resolve(
            matched
                .iter()
                .filter_map(|&rank| self.rules.get(rank as usize)),
            caller,
        )
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

/// What decides for one org: the shared policy files, and that org's own
/// rules (the service's API mappings) compiled on their own, declared after
/// every file rule. The two are merged by precedence at decision time
/// ([`precedence::combine`]), so the files are compiled once for all orgs.
#[derive(Debug, Clone)]
pub struct OrgPolicy {
    /// The policy files.
    pub files: std::sync::Arc<CompiledPolicy>,
    /// The org's own rules, if it has any.
    pub own: Option<std::sync::Arc<CompiledPolicy>>,
}

impl OrgPolicy {
    /// The files alone.
    pub fn files(files: std::sync::Arc<CompiledPolicy>) -> OrgPolicy {
        OrgPolicy { files, own: None }
    }

    /// Does either part have rules (or tests) for `org`?
    pub fn knows(&self, org: &str) -> bool {
        self.files.org(org).is_some() || self.own.as_ref().is_some_and(|p| p.org(org).is_some())
    }

    /// Decides for a caller in an org: each part's verdict, combined by precedence.
    pub fn evaluate<'p>(&'p self, org: &str, caller: &Caller<'_>) -> Verdict<'p> {
        let files = self.files.evaluate(org, caller);
        match &self.own {
            Some(own) => precedence::combine(files, own.evaluate(org, caller)),
            None => files,
        }
    }

    /// Decides and returns an owned, self-explaining decision.
    pub fn decide(&self, org: &str, caller: &Caller<'_>) -> Decision {
        self.evaluate(org, caller).to_decision()
    }
}
