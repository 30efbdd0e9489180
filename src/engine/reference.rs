//! The reference matcher: docs/semantics.md §2–3 written as literally as possible. It scans
//! every rule of the org, matches each pattern against the caller's forms and
//! applies precedence by comparing keys directly. The indexed matcher must
//! agree with it on every decision (property-tested).

use crate::engine::decision::{DecisionError, Verdict};
use crate::engine::precedence::{eval, first_applicable_map, precedence_key};
use crate::rule::condition::{Caller, Truth};
use crate::rule::{Effect, Org, Rule};

/// Decides for `caller` among `org`'s rules by scanning them all.
pub fn evaluate<'p>(rules: &'p [Rule], org: &Org, caller: &Caller<'_>) -> Verdict<'p> {
    let matching: Vec<&Rule> = org
        .rules
        .iter()
        .filter_map(|&i| rules.get(i as usize))
        .filter(|rule| rule.pattern.matches(caller.identity))
        .collect();
    let denies: Vec<(&Rule, Truth)> = matching
        .iter()
        .filter(|r| matches!(r.effect, Effect::Deny))
        .map(|&r| (r, eval(r, caller)))
        .collect();
    // 1. any matching deny whose condition holds; the most specific is reported.
    if let Some(&(rule, _)) = denies
        .iter()
        .filter(|(_, t)| *t == Truth::True)
        .min_by_key(|(r, _)| precedence_key(r))
    {
        return Verdict::Denied { rule };
    }
    if let Some(&(rule, Truth::Unknown(attribute))) = denies
        .iter()
        .filter(|(_, t)| matches!(t, Truth::Unknown(_)))
        .min_by_key(|(r, _)| precedence_key(r))
    {
        return Verdict::Error {
            rule,
            reason: DecisionError::UnknownAttribute(attribute),
        };
    }
    // 2. the most specific map whose condition holds, never skipping an unknown one.
    let mut maps: Vec<&Rule> = matching
        .into_iter()
        .filter(|r| matches!(r.effect, Effect::Map(_)))
        .collect();
    maps.sort_by_key(|r| precedence_key(r));
    // 3. falls out of the walk: no map applies.
    first_applicable_map(maps.into_iter(), caller)
}
