//! The indexed matcher: finds the rules whose patterns can match a caller
//! without scanning the rules.
//!
//! Each rule is filed under every form kind it may match (user, assumed-role,
//! session-less role, role, federated user, root), its literal account (or
//! "any account"), and one key taken from its resource section:
//!
//! * a literal resource is keyed by itself (exact strategy);
//! * a wildcard resource is keyed by its literal prefix cut back to the last
//!   `/` (a *boundary*), plus the next [`KEY_CHARS`] literal characters when
//!   it has that many (prefix strategy).
//!
//! A caller's form resource has only a few boundaries (its start and the
//! position after each `/`), so a lookup probes at most
//! `forms × 2 account scopes × (1 + 2 × boundaries)` hash keys, and only those
//! the org actually uses (a bit mask per org, form and scope). The cost depends
//! on the caller, not on the number of rules. Keys are 64-bit hashes; a
//! collision only adds candidates, which are all checked against the full
//! pattern, so correctness never depends on the hash.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};
use smallvec::SmallVec;

use crate::compile::{OrgId, Rule};
use crate::identity::{CallerIdentity, FormKind};
use crate::pattern::Literal;
use crate::wildcard;

/// Literal characters after a boundary that a prefix key includes.
pub const KEY_CHARS: usize = 4;
const WILD_ACCOUNT: u64 = u64::MAX;
const EXACT: u8 = u8::MAX;
const MAX_DEPTH: usize = 15;

#[derive(Debug, Clone, Copy, Default)]
struct ScopeMeta {
    exact: bool,
    /// Bit `depth * 2 + long` is set when some prefix key has that shape.
    prefix_mask: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct OrgMeta {
    /// `[form kind][0 = literal account, 1 = any account]`
    scopes: [[ScopeMeta; 2]; 6],
}

/// Sizes of the compiled index, for benchmarks and `arnmap` diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Rules indexed.
    pub rules: usize,
    /// Distinct keys.
    pub keys: usize,
    /// Rule entries under all keys.
    pub entries: usize,
    /// Orgs.
    pub orgs: usize,
}

/// The index over a policy's rules (immutable, `Send + Sync`).
#[derive(Debug, Default)]
pub struct Index {
    orgs: Vec<OrgMeta>,
    buckets: FxHashMap<u64, (u32, u32)>,
    entries: Vec<u32>,
    rules: usize,
}

fn key(org: OrgId, form: FormKind, account: u64, strategy: u8, text: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write_u32(org);
    h.write_u8(form as u8);
    h.write_u64(account);
    h.write_u8(strategy);
    h.write(text);
    h.write_usize(text.len());
    h.finish()
}

fn prefix_strategy(depth: usize, long: bool) -> u8 {
    (depth.min(MAX_DEPTH) * 2 + usize::from(long)) as u8
}

impl Index {
    /// Builds the index; `rules` must be in precedence order.
    pub fn build(rules: &[Rule], org_count: usize) -> Index {
        let mut orgs = vec![OrgMeta::default(); org_count];
        let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let Some(meta) = orgs.get_mut(rule.org as usize) else {
                continue;
            };
            let pattern = &rule.pattern;
            let (account, scope) = match pattern.literal_account() {
                Literal::Exact(a) => (a.parse::<u64>().unwrap_or(WILD_ACCOUNT), 0),
                Literal::Wild => (WILD_ACCOUNT, 1),
            };
            let resource = pattern.resource();
            for form in FormKind::ALL {
                if !pattern.may_match_form_kind(form) {
                    continue;
                }
                let Some(slot) = meta
                    .scopes
                    .get_mut(form.index())
                    .and_then(|s| s.get_mut(scope))
                else {
                    continue;
                };
                let k = if wildcard::has_wildcard(resource) {
                    let prefix = wildcard::literal_prefix(resource);
                    let boundary = prefix.rfind('/').map_or(0, |p| p + 1);
                    let depth = prefix.get(..boundary).map_or(0, |p| p.matches('/').count());
                    let long = prefix.len() - boundary >= KEY_CHARS;
                    let end = if long { boundary + KEY_CHARS } else { boundary };
                    let strategy = prefix_strategy(depth, long);
                    slot.prefix_mask |= 1 << strategy;
                    key(
                        rule.org,
                        form,
                        account,
                        strategy,
                        prefix.as_bytes().get(..end).unwrap_or_default(),
                    )
                } else {
                    slot.exact = true;
                    key(rule.org, form, account, EXACT, resource.as_bytes())
                };
                pairs.push((k, i as u32));
            }
        }
        pairs.sort_unstable();
        let mut buckets = FxHashMap::default();
        buckets.reserve(pairs.len());
        let mut entries = Vec::with_capacity(pairs.len());
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            let start = entries.len() as u32;
            entries.extend(group.iter().map(|&(_, r)| r));
            if let Some(&(k, _)) = group.first() {
                buckets.insert(k, (start, group.len() as u32));
            }
        }
        buckets.shrink_to_fit();
        Index {
            orgs,
            buckets,
            entries,
            rules: rules.len(),
        }
    }

    fn probe(&self, k: u64, out: &mut SmallVec<[u32; 16]>) {
        if let Some(&(start, len)) = self.buckets.get(&k)
            && let Some(found) = self.entries.get(start as usize..(start + len) as usize)
        {
            out.extend_from_slice(found);
        }
    }

    /// Pushes, in precedence order and without duplicates, every rule of
    /// `org` whose pattern may match `identity` (a superset of the matches).
    pub fn candidates(&self, org: OrgId, identity: &CallerIdentity, out: &mut SmallVec<[u32; 16]>) {
        let Some(meta) = self.orgs.get(org as usize) else {
            return;
        };
        let account = identity.account().parse::<u64>().unwrap_or(WILD_ACCOUNT);
        for form in identity.forms() {
            let Some(scopes) = meta.scopes.get(form.kind.index()) else {
                continue;
            };
            let resource = form.resource.as_bytes();
            for (scope, account) in scopes.iter().zip([account, WILD_ACCOUNT]) {
                if scope.exact {
                    self.probe(key(org, form.kind, account, EXACT, resource), out);
                }
                if scope.prefix_mask == 0 {
                    continue;
                }
                let boundaries = std::iter::once(0).chain(
                    resource
                        .iter()
                        .enumerate()
                        .filter(|&(_, &c)| c == b'/')
                        .map(|(i, _)| i + 1),
                );
                for (depth, boundary) in boundaries.enumerate() {
                    let short = prefix_strategy(depth, false);
                    if scope.prefix_mask & (1 << short) != 0
                        && let Some(text) = resource.get(..boundary)
                    {
                        self.probe(key(org, form.kind, account, short, text), out);
                    }
                    let long = prefix_strategy(depth, true);
                    if scope.prefix_mask & (1 << long) != 0
                        && let Some(text) = resource.get(..boundary + KEY_CHARS)
                        && !text.get(boundary..).unwrap_or_default().contains(&b'/')
                    {
                        self.probe(key(org, form.kind, account, long, text), out);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// Sizes of the index.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            rules: self.rules,
            keys: self.buckets.len(),
            entries: self.entries.len(),
            orgs: self.orgs.len(),
        }
    }
}
