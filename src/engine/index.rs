//! The indexed matcher: finds the rules whose patterns can match a caller
//! without scanning the rules.
//!
//! Each rule is filed under every form kind it may match
//! ([`Pattern::fits_form_kind`](crate::arn::pattern::Pattern::fits_form_kind): user,
//! assumed-role, session-less role, role, federated user, root), its literal
//! account (or "any account"), and one key taken from its resource section:
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
//! on the caller, not on the number of rules. Keys are 64-bit hashes kept in
//! one open-addressing table (linear probing, at most ⅔ full, a single-rule
//! bucket stored inline); a collision only adds candidates, which are all
//! checked against the full pattern, so correctness never depends on the hash.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use smallvec::SmallVec;

use crate::arn::identity::{CallerIdentity, FormKind};
use crate::arn::pattern::Literal;
use crate::arn::wildcard;
use crate::rule::{OrgId, Rule};

/// Literal characters after a boundary that a prefix key includes.
pub const KEY_CHARS: usize = 4;
const WILD_ACCOUNT: u64 = u64::MAX;
const EXACT: u8 = u8::MAX;
/// Prefix keys deeper than this share the deepest strategy (their text still differs).
const MAX_DEPTH: usize = 14;
/// Bit of a scope's mask set when some rule of the scope has an exact key;
/// bits `0..=29` are the prefix strategies (`depth * 2 + long`).
const EXACT_BIT: u32 = 1 << 31;

/// `[form kind][0 = literal account, 1 = any account]` → which key shapes
/// the org uses, so that a lookup probes only those.
#[derive(Debug, Clone, Copy, Default)]
struct OrgMeta {
    scopes: [[u32; 2]; 6],
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

/// One slot of the key table: a key and its rules. A bucket of one rule
/// keeps the rule index in `start` itself (most buckets), so a hit costs one
/// memory access; larger buckets point into [`Index::entries`].
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: u64,
    start: u32,
    /// 0 for an empty slot.
    len: u32,
}

/// An open-addressing table of 64-bit keys with linear probing, sized for a
/// load of at most 2/3 (no power-of-two rounding) and built once.
#[derive(Debug, Default)]
struct Table {
    slots: Box<[Slot]>,
    keys: usize,
}

impl Table {
    fn with_keys(keys: usize) -> Table {
        let size = if keys == 0 { 0 } else { keys + keys / 2 + 1 };
        Table {
            slots: vec![Slot::default(); size].into_boxed_slice(),
            keys: 0,
        }
    }

    /// The slot a key starts probing at (Lemire's multiply-shift range reduction).
    fn home(&self, key: u64) -> usize {
        ((u128::from(key) * self.slots.len() as u128) >> 64) as usize
    }

    /// Files a key. INVARIANT: [`Table::with_keys`] made room for every key
    /// the builder inserts (at most 2/3 full), so a free slot always exists.
    fn insert(&mut self, key: u64, start: u32, len: u32) {
        let n = self.slots.len();
        let mut i = self.home(key);
        for _ in 0..n {
            match self.slots.get_mut(i) {
                Some(slot) if slot.len == 0 => {
                    *slot = Slot { key, start, len };
                    self.keys += 1;
                    return;
                }
                _ => i = if i + 1 == n { 0 } else { i + 1 },
            }
        }
        debug_assert!(false, "key table full: sized for fewer keys than inserted");
    }

    fn get(&self, key: u64) -> Option<Slot> {
        let n = self.slots.len();
        let mut i = self.home(key);
        for _ in 0..n {
            let slot = *self.slots.get(i)?;
            if slot.len == 0 {
                return None;
            }
            if slot.key == key {
                return Some(slot);
            }
            i = if i + 1 == n { 0 } else { i + 1 };
        }
        None
    }
}

/// The index over a policy's rules (immutable, `Send + Sync`).
#[derive(Debug, Default)]
pub struct Index {
    orgs: Vec<OrgMeta>,
    table: Table,
    entries: Vec<u32>,
    /// Rule entries under all keys (single-rule buckets included).
    filed: usize,
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
                debug_assert!(false, "rule of org {} beyond {org_count} orgs", rule.org);
                continue;
            };
            let pattern = &rule.pattern;
            // A literal account is 12 digits (the pattern parser checks it);
            // were it not, filing the rule under "any account" keeps it a
            // candidate for every caller rather than for none.
            let (account, scope) = match pattern.literal_account() {
                Literal::Exact(a) => match a.parse::<u64>() {
                    Ok(account) => (account, 0),
                    Err(_) => {
                        debug_assert!(false, "literal account {a:?} is not 12 digits");
                        (WILD_ACCOUNT, 1)
                    }
                },
                Literal::Wild => (WILD_ACCOUNT, 1),
            };
            let resource = pattern.resource();
            for form in FormKind::ALL {
                if !pattern.fits_form_kind(form) {
                    continue;
                }
                let Some(mask) = meta
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
                    *mask |= 1 << strategy;
                    key(
                        rule.org,
                        form,
                        account,
                        strategy,
                        prefix.as_bytes().get(..end).unwrap_or_default(),
                    )
                } else {
                    *mask |= EXACT_BIT;
                    key(rule.org, form, account, EXACT, resource.as_bytes())
                };
                pairs.push((k, i as u32));
            }
        }
        pairs.sort_unstable();
        let groups = pairs.chunk_by(|a, b| a.0 == b.0);
        let mut table = Table::with_keys(groups.clone().count());
        let mut entries = Vec::new();
        for group in groups {
            let Some(&(k, first)) = group.first() else {
                continue;
            };
            if let [_] = group {
                table.insert(k, first, 1);
            } else {
                let start = entries.len() as u32;
                entries.extend(group.iter().map(|&(_, r)| r));
                table.insert(k, start, group.len() as u32);
            }
        }
        entries.shrink_to_fit();
        Index {
            orgs,
            table,
            entries,
            filed: pairs.len(),
            rules: rules.len(),
        }
    }

    fn probe(&self, k: u64, out: &mut SmallVec<[u32; 16]>) {
        match self.table.get(k) {
            Some(Slot { start, len: 1, .. }) => out.push(start),
            Some(Slot { start, len, .. }) => {
                if let Some(found) = self.entries.get(start as usize..(start + len) as usize) {
                    out.extend_from_slice(found);
                }
            }
            None => {}
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
            for (&mask, account) in scopes.iter().zip([account, WILD_ACCOUNT]) {
                if mask & EXACT_BIT != 0 {
                    self.probe(key(org, form.kind, account, EXACT, resource), out);
                }
                let prefixes = mask & !EXACT_BIT;
                if prefixes == 0 {
                    continue;
                }
                // The deepest prefix key the scope uses: no need to look past it.
                let deepest = (31 - prefixes.leading_zeros()) as usize / 2;
                let boundaries = std::iter::once(0).chain(
                    resource
                        .iter()
                        .enumerate()
                        .filter(|&(_, &c)| c == b'/')
                        .map(|(i, _)| i + 1),
                );
                for (depth, boundary) in boundaries.enumerate() {
                    if depth > deepest && deepest < MAX_DEPTH {
                        break;
                    }
                    let short = prefix_strategy(depth, false);
                    if mask & (1 << short) != 0
                        && let Some(text) = resource.get(..boundary)
                    {
                        self.probe(key(org, form.kind, account, short, text), out);
                    }
                    let long = prefix_strategy(depth, true);
                    if mask & (1 << long) != 0
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
            keys: self.table.keys,
            entries: self.filed,
            orgs: self.orgs.len(),
        }
    }
}
