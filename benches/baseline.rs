//! The baselines the indexed matcher is compared with, each computing the same
//! decisions (the suite asserts agreement on every caller before timing):
//!
//! * a linear scan with per-pattern `ArnLike` matching over the org's rules
//!   (what Vault and Teleport do) — arnmap's reference matcher is exactly that;
//! * one `regex::RegexSet` over all patterns of all orgs;
//! * one `globset::GlobSet` over all patterns of all orgs.
//!
//! The sets match `ORG|FORM-ARN` against `ORG|PATTERN`, once per form of the
//! caller, and hand the matching rules (in precedence order) to the same
//! precedence walk as arnmap. The regex translation is exact (`*` → `[^:]*`,
//! `?` → `[^:]`). globset's `*` cannot be told not to cross `:`, so the glob
//! translation is exact only for callers whose resource holds no `:` (every
//! caller of the generated sets; agreement is asserted anyway).
//!
//! A role-name pattern (normalised `…:sts::A:assumed-role/NAME`) is compared
//! with the role name only, never with the raw `assumed-role/ROLE/SESSION`
//! form (docs/semantics.md §2). No section of a caller ARN but the resource
//! holds a `/`, so both sets implement that by keeping such a pattern's
//! wildcards from matching `/` (globset's `/**` at the end still crosses it,
//! harmlessly: that NAME matches every role name anyway).

use arnmap::Rule;
use arnmap::{Caller, CompiledPolicy, Verdict};

/// Linear scan: every rule of the org, `ArnLike` on every form.
pub fn linear<'p>(policy: &'p CompiledPolicy, org: &str, caller: &Caller<'_>) -> Verdict<'p> {
    policy.evaluate_reference(org, caller)
}

fn org_of(policy: &CompiledPolicy, rule: &Rule) -> String {
    policy
        .orgs()
        .get(rule.org as usize)
        .map(|o| o.id.to_string())
        .unwrap_or_default()
}

/// The texts a set is asked about: `ORG|ARN` for each form of the caller.
fn subjects(org: &str, caller: &Caller<'_>) -> Vec<String> {
    caller
        .identity
        .forms()
        .map(|form| format!("{org}|{}", caller.identity.form_arn(&form)))
        .collect()
}

fn resolve<'p>(
    policy: &'p CompiledPolicy,
    mut hits: Vec<usize>,
    caller: &Caller<'_>,
) -> Verdict<'p> {
    hits.sort_unstable();
    hits.dedup();
    let rules = policy.rules();
    arnmap::internals::precedence::resolve(hits.iter().filter_map(|&i| rules.get(i)), caller)
}

/// One `RegexSet` over every pattern (index = rule index).
pub struct RegexBaseline {
    set: regex::RegexSet,
}

impl RegexBaseline {
    /// Compiles every rule's normalised pattern into one set.
    pub fn build(policy: &CompiledPolicy) -> RegexBaseline {
        let patterns: Vec<String> = policy
            .rules()
            .iter()
            .map(|rule| {
                let mut re = String::from("^");
                re.push_str(&regex::escape(&org_of(policy, rule)));
                re.push_str(r"\|");
                let mut literal = [0u8; 4];
                let (star, one) = if rule.pattern.names_role() {
                    ("[^:/]*", "[^:/]")
                } else {
                    ("[^:]*", "[^:]")
                };
                for c in rule.pattern.as_str().chars() {
                    match c {
                        '*' => re.push_str(star),
                        '?' => re.push_str(one),
                        c => re.push_str(&regex::escape(c.encode_utf8(&mut literal))),
                    }
                }
                re.push('$');
                re
            })
            .collect();
        let set = regex::RegexSetBuilder::new(patterns)
            .size_limit(usize::MAX >> 4)
            .dfa_size_limit(64 << 20)
            .build();
        match set {
            Ok(set) => RegexBaseline { set },
            Err(e) => {
                eprintln!("RegexSet baseline does not build: {e}");
                std::process::exit(2)
            }
        }
    }

    /// Decides like arnmap.
    pub fn evaluate<'p>(
        &self,
        policy: &'p CompiledPolicy,
        org: &str,
        caller: &Caller<'_>,
    ) -> Verdict<'p> {
        let hits = subjects(org, caller)
            .iter()
            .flat_map(|s| self.set.matches(s).into_iter())
            .collect();
        resolve(policy, hits, caller)
    }
}

/// `GlobSet`s over every pattern: one when globset can build it, else the
/// fewest equal chunks that build (globset caps each set's regex NFA at
/// 10 MiB, which patterns with a middle `*` exceed at 100k rules).
pub struct GlobBaseline {
    /// `(index of the chunk's first rule, the chunk's set)`.
    sets: Vec<(usize, globset::GlobSet)>,
}

fn glob_of(policy: &CompiledPolicy, rule: &Rule) -> globset::Glob {
    let mut glob = org_of(policy, rule);
    glob.push('|');
    for c in rule.pattern.as_str().chars() {
        match c {
            '[' | ']' | '{' | '}' | '\\' => {
                glob.push('[');
                glob.push(c);
                glob.push(']');
            }
            c => glob.push(c),
        }
    }
    match globset::GlobBuilder::new(&glob)
        .literal_separator(rule.pattern.names_role())
        .backslash_escape(false)
        .build()
    {
        Ok(g) => g,
        Err(e) => {
            eprintln!("glob {glob:?} does not build: {e}");
            std::process::exit(2)
        }
    }
}

impl GlobBaseline {
    /// Compiles every rule's normalised pattern.
    pub fn build(policy: &CompiledPolicy) -> GlobBaseline {
        let globs: Vec<globset::Glob> = policy.rules().iter().map(|r| glob_of(policy, r)).collect();
        let mut chunks = 1usize;
        loop {
            let size = globs.len().div_ceil(chunks).max(1);
            let built: Result<Vec<_>, _> = globs
                .chunks(size)
                .enumerate()
                .map(|(i, chunk)| {
                    let mut builder = globset::GlobSetBuilder::new();
                    for g in chunk {
                        builder.add(g.clone());
                    }
                    builder.build().map(|set| (i * size, set))
                })
                .collect();
            match built {
                Ok(sets) => return GlobBaseline { sets },
                Err(e) if size > 1 => {
                    eprintln!(
                        "{chunks} GlobSet(s) do not build ({e}); trying {}",
                        chunks * 2
                    );
                    chunks *= 2;
                }
                Err(e) => {
                    eprintln!("GlobSet baseline does not build: {e}");
                    std::process::exit(2)
                }
            }
        }
    }

    /// How many sets it took.
    pub fn sets(&self) -> usize {
        self.sets.len()
    }

    /// Decides like arnmap.
    pub fn evaluate<'p>(
        &self,
        policy: &'p CompiledPolicy,
        org: &str,
        caller: &Caller<'_>,
    ) -> Verdict<'p> {
        let subjects = subjects(org, caller);
        let mut hits = Vec::new();
        for (first, set) in &self.sets {
            for s in &subjects {
                hits.extend(set.matches(s).into_iter().map(|i| first + i));
            }
        }
        resolve(policy, hits, caller)
    }
}

/// The strongest baseline a user could assemble from libraries (issue 13):
/// an exact-key `HashMap` for fully literal patterns, and for wildcard
/// patterns one `aho-corasick` prefilter over each pattern's longest literal
/// run in its resource (after the kind's own `assumed-role/`, `user/`, …,
/// which every rule of the kind shares), then an `ArnLike` check of each
/// rule whose literal occurs in a form of the caller. Wildcard patterns
/// with no such literal are checked for every caller of their org.
///
/// The `ArnLike` check is [`arnmap::Pattern::matches`], which compares a
/// role-name pattern with the session-less form only (docs/semantics.md
/// §2.4), so the baseline agrees with arnmap on that rule too.
pub struct PrefilterBaseline {
    /// `ORG|ARN` → literal rules with that normalised pattern.
    exact: std::collections::HashMap<String, Vec<usize>>,
    /// Literal runs of the wildcard rules.
    ac: aho_corasick::AhoCorasick,
    /// Literal run id → the rules whose longest literal it is.
    by_literal: Vec<Vec<usize>>,
    /// Org id → wildcard rules without a usable literal.
    residual: std::collections::HashMap<u32, Vec<usize>>,
}

/// The longest literal run of a resource pattern, without the kind's prefix.
fn longest_literal(resource: &str) -> &str {
    let rest = ["assumed-role/", "federated-user/", "user/", "role/"]
        .iter()
        .find_map(|p| resource.strip_prefix(p))
        .unwrap_or(resource);
    // On a tie the last run wins: `svc-*-123` is keyed by `-123`, which few
    // rules share, rather than by the common `svc-`.
    rest.split(['*', '?'])
        .max_by_key(|run| run.len())
        .unwrap_or_default()
}

impl PrefilterBaseline {
    /// Files every rule.
    pub fn build(policy: &CompiledPolicy) -> PrefilterBaseline {
        let mut exact: std::collections::HashMap<String, Vec<usize>> = Default::default();
        let mut literals: std::collections::HashMap<&str, usize> = Default::default();
        let mut by_literal: Vec<Vec<usize>> = Vec::new();
        let mut residual: std::collections::HashMap<u32, Vec<usize>> = Default::default();
        for (i, rule) in policy.rules().iter().enumerate() {
            let text = rule.pattern.as_str();
            if !text.contains(['*', '?']) {
                exact
                    .entry(format!("{}|{text}", org_of(policy, rule)))
                    .or_default()
                    .push(i);
                continue;
            }
            let literal = longest_literal(rule.pattern.resource());
            if literal.is_empty() {
                residual.entry(rule.org).or_default().push(i);
                continue;
            }
            let next = by_literal.len();
            let id = *literals.entry(literal).or_insert(next);
            if id == next {
                by_literal.push(Vec::new());
            }
            if let Some(rules) = by_literal.get_mut(id) {
                rules.push(i);
            }
        }
        let mut patterns: Vec<(&str, usize)> = literals.into_iter().collect();
        patterns.sort_by_key(|&(_, id)| id);
        let ac = match aho_corasick::AhoCorasick::new(patterns.iter().map(|&(p, _)| p)) {
            Ok(ac) => ac,
            Err(e) => {
                eprintln!("the aho-corasick prefilter does not build: {e}");
                std::process::exit(2)
            }
        };
        PrefilterBaseline {
            exact,
            ac,
            by_literal,
            residual,
        }
    }

    /// Decides like arnmap.
    pub fn evaluate<'p>(
        &self,
        policy: &'p CompiledPolicy,
        org: &str,
        caller: &Caller<'_>,
    ) -> Verdict<'p> {
        let Some((org_id, _)) = policy.org(org) else {
            return Verdict::NoMatch;
        };
        let rules = policy.rules();
        let id = caller.identity;
        let mut hits: Vec<usize> = Vec::new();
        let mut key = String::with_capacity(org.len() + 96);
        for form in id.forms() {
            key.clear();
            key.push_str(org);
            key.push('|');
            key.push_str(&id.form_arn(&form));
            if let Some(found) = self.exact.get(&key) {
                hits.extend(
                    found
                        .iter()
                        .copied()
                        .filter(|&r| rules.get(r).is_some_and(|rule| rule.pattern.matches(id))),
                );
            }
            for m in self.ac.find_overlapping_iter(form.resource) {
                let Some(found) = self.by_literal.get(m.pattern().as_usize()) else {
                    continue;
                };
                hits.extend(found.iter().copied().filter(|&r| {
                    rules
                        .get(r)
                        .is_some_and(|rule| rule.org == org_id && rule.pattern.matches(id))
                }));
            }
        }
        if let Some(found) = self.residual.get(&org_id) {
            hits.extend(
                found
                    .iter()
                    .copied()
                    .filter(|&r| rules.get(r).is_some_and(|rule| rule.pattern.matches(id))),
            );
        }
        resolve(policy, hits, caller)
    }
}
