//! The indexed matcher: finds the rules whose patterns can match a caller
//! without scanning the rules.
//!
//! Each rule is filed under every form kind it may match
//! ([`Pattern::fits_form_kind`](crate::arn::pattern::Pattern::fits_form_kind): user,
//! assumed-role, session-less role, role, federated user, root), its literal
//! account (or "any account"), and one key taken from its resource section:
//!
//! * a literal resource is keyed by itself (*exact* strategy);
//! * a wildcard resource is keyed by one of its literal runs, chosen per rule
//!   at compile time (see below):
//!   * *prefix*: its literal prefix cut back to the last `/` (a *boundary*),
//!     plus the next [`KEY_CHARS`] literal characters when it has that many;
//!   * *suffix*: the last `min(n, SUFFIX_CHARS)` characters of the literal run
//!     after its last wildcard (`assumed-role/*-team7` → `-team7`,
//!     `user/*/name7` → `/name7`), when that run is not empty;
//!   * *infix*: [`INFIX_CHARS`] characters of its longest inner literal run
//!     (between two wildcards, `assumed-role/*-team7-*` → `am7-`), when that
//!     run has at least that many.
//!
//! The prefix key always exists (for `*` it is the empty prefix: such rules
//! are candidates for every caller of their scope, the small residual that
//! lint warns about as broad). Among a rule's possible keys the compiler takes
//! the one shared by the fewest rules of the whole policy (on a tie, prefix
//! before suffix before infix, the cheaper lookups), so a policy of
//! `*-team{i}` rules files each under its own suffix instead of all under
//! `assumed-role/`.
//!
//! A lookup probes, per form of the caller and account scope, only the key
//! shapes the org uses (a bit mask per org, form and scope): the exact key,
//! the prefix keys at the resource's few boundaries (its start and the
//! position after each `/`), one suffix key per suffix length in use, and —
//! only for scopes holding infix rules — every [`INFIX_CHARS`]-byte window of
//! the resource, first checked against a 64-bit filter of the scope's infix
//! keys. The cost depends on the caller, not on the number of rules. Keys are
//! 64-bit hashes kept in one open-addressing table (linear probing, at most ⅔
//! full, a single-rule bucket stored inline); a collision only adds
//! candidates, which are all checked against their org, form kind and full
//! pattern (`CompiledPolicy::evaluate`), so correctness never depends on the
//! hash. Every key is a substring the resource of any
//! matching form must hold at that place (a prefix, a suffix, or somewhere),
//! so the candidates are a superset of the matches.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};
use smallvec::SmallVec;

use crate::arn::identity::{CallerIdentity, FormKind};
use crate::arn::pattern::Literal;
use crate::arn::wildcard;
use crate::rule::{OrgId, Rule};

/// Literal characters after a boundary that a prefix key includes.
pub const KEY_CHARS: usize = 4;
/// The longest suffix key: a longer trailing literal is keyed by its last
/// this many characters.
pub const SUFFIX_CHARS: usize = 8;
/// The length of an infix key (a window of an inner literal run).
pub const INFIX_CHARS: usize = 4;
/// Low bits of a candidate that say which form of the caller found it
/// (a caller has at most three forms).
pub const FORM_BITS: u32 = 2;
/// The most rules a candidate can name (`rank << FORM_BITS` fits a `u32`);
/// a larger policy is decided by the reference matcher.
pub const MAX_RULES: usize = (u32::MAX >> FORM_BITS) as usize;
const WILD_ACCOUNT: u64 = u64::MAX;
const EXACT: u8 = u8::MAX;
/// Suffix strategies are `SUFFIX + len` (`len` in `1..=SUFFIX_CHARS`).
const SUFFIX: u8 = 64;
const INFIX: u8 = 128;
/// Prefix keys deeper than this share the deepest strategy (their text still differs).
const MAX_DEPTH: usize = 14;
/// Bits `0..=29` of a scope's mask are the prefix strategies (`depth * 2 +
/// long`); this mask covers them.
const PREFIX_BITS: u64 = (1 << 30) - 1;
/// Bit `SUFFIX_SHIFT - 1 + len` is set when some rule of the scope has a
/// suffix key of `len` characters.
const SUFFIX_SHIFT: u32 = 32;
/// Set when some rule of the scope has an infix key.
const INFIX_BIT: u64 = 1 << 62;
/// Set when some rule of the scope has an exact key.
const EXACT_BIT: u64 = 1 << 63;

/// `[form kind][0 = literal account, 1 = any account]` → which key shapes
/// the org uses, so that a lookup probes only those.
#[derive(Debug, Clone, Copy, Default)]
struct OrgMeta {
    scopes: [[u64; 2]; 6],
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
    /// [`infix_scope`] → a 64-bit filter of the scope's infix keys (bit
    /// [`filter_bit`]), for the scopes that have any: most windows of a
    /// caller's resource are then rejected without touching the table.
    infix: FxHashMap<u64, u64>,
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

fn infix_scope(org: OrgId, form: FormKind, scope: usize) -> u64 {
    (u64::from(org) << 8) | ((form.index() as u64) << 1) | scope as u64
}

fn filter_bit(k: u64) -> u64 {
    1 << (k >> 58)
}

fn is_wild(b: &u8) -> bool {
    *b == b'*' || *b == b'?'
}

/// Infix windows of a rule's longest inner run offered as keys (the last
/// ones of the run; the compiler takes the least shared).
const INFIX_WINDOWS: usize = 6;

/// The keys a wildcard resource may be filed under, as `(strategy, text)`:
/// the prefix key (always), the suffix key, and up to [`INFIX_WINDOWS`]
/// infix keys, in this order (the order of preference on a tie).
fn key_options(resource: &str) -> SmallVec<[(u8, &[u8]); 4]> {
    let bytes = resource.as_bytes();
    let mut options = SmallVec::new();
    let prefix = wildcard::literal_prefix(resource);
    let boundary = prefix.rfind('/').map_or(0, |p| p + 1);
    let depth = prefix.get(..boundary).map_or(0, |p| p.matches('/').count());
    let long = prefix.len() - boundary >= KEY_CHARS;
    let end = if long { boundary + KEY_CHARS } else { boundary };
    options.push((
        prefix_strategy(depth, long),
        bytes.get(..end).unwrap_or_default(),
    ));
    let first = bytes.iter().position(is_wild);
    let last = bytes.iter().rposition(is_wild);
    if let Some(w) = last
        && let Some(run) = bytes.get(w + 1..)
    {
        let n = run.len().min(SUFFIX_CHARS);
        if let Some(text) = run.get(run.len() - n..)
            && n > 0
        {
            options.push((SUFFIX + n as u8, text));
        }
    }
    if let (Some(f), Some(l)) = (first, last)
        && f < l
        && let Some(run) = bytes.get(f + 1..l).and_then(|inner| {
            inner
                .split(is_wild)
                .filter(|run| run.len() >= INFIX_CHARS)
                .max_by_key(|run| run.len())
        })
    {
        let windows = run.windows(INFIX_CHARS);
        let skip = windows.len().saturating_sub(INFIX_WINDOWS);
        options.extend(windows.skip(skip).map(|w| (INFIX, w)));
    }
    options
}

/// A wildcard rule under one form kind and account scope, and the keys it
/// may be filed under (`[prefix, suffix, infix]` as `(strategy, key)`).
struct Pending {
    rule: u32,
    org: OrgId,
    form: FormKind,
    scope: usize,
    keys: SmallVec<[(u8, u64); 3]>,
}

impl Index {
    /// Builds the index; `rules` must be in precedence order.
    pub fn build(rules: &[Rule], org_count: usize) -> Index {
        let mut orgs = vec![OrgMeta::default(); org_count];
        let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(rules.len());
        let mut pending: Vec<Pending> = Vec::new();
        let mut choices = false;
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
            let options = wildcard::has_wildcard(resource).then(|| key_options(resource));
            for form in FormKind::ALL {
                if !pattern.fits_form_kind(form) {
                    continue;
                }
                match &options {
                    Some(options) => {
                        let keys: SmallVec<[(u8, u64); 3]> = options
                            .iter()
                            .map(|&(strategy, text)| {
                                (strategy, key(rule.org, form, account, strategy, text))
                            })
                            .collect();
                        choices |= keys.len() > 1;
                        pending.push(Pending {
                            rule: i as u32,
                            org: rule.org,
                            form,
                            scope,
                            keys,
                        });
                    }
                    None => {
                        if let Some(mask) = meta
                            .scopes
                            .get_mut(form.index())
                            .and_then(|s| s.get_mut(scope))
                        {
                            *mask |= EXACT_BIT;
                            let k = key(rule.org, form, account, EXACT, resource.as_bytes());
                            pairs.push((k, i as u32));
                        }
                    }
                }
            }
        }
        // How many rules each possible key would hold: a rule goes under its
        // least shared key (counted only when some rule has a choice).
        let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
        if choices {
            counts.reserve(pending.len());
            for p in &pending {
                for &(_, k) in &p.keys {
                    *counts.entry(k).or_default() += 1;
                }
            }
        }
        let mut infix: FxHashMap<u64, u64> = FxHashMap::default();
        for p in &pending {
            let mut best: Option<(u8, u64, u32)> = None;
            for &(strategy, k) in &p.keys {
                let n = counts.get(&k).copied().unwrap_or(0);
                // Strictly fewer: on a tie the earlier (cheaper) shape stays.
                if best.is_none_or(|(_, _, m)| n < m) {
                    best = Some((strategy, k, n));
                }
            }
            let Some((strategy, k, _)) = best else {
                continue;
            };
            let Some(mask) = orgs
                .get_mut(p.org as usize)
                .and_then(|meta| meta.scopes.get_mut(p.form.index()))
                .and_then(|s| s.get_mut(p.scope))
            else {
                continue;
            };
            *mask |= if strategy == INFIX {
                *infix
                    .entry(infix_scope(p.org, p.form, p.scope))
                    .or_default() |= filter_bit(k);
                INFIX_BIT
            } else if strategy > SUFFIX {
                1 << (SUFFIX_SHIFT - 1 + u32::from(strategy - SUFFIX))
            } else {
                1 << strategy
            };
            pairs.push((k, p.rule));
        }
        drop(counts);
        drop(pending);
        infix.shrink_to_fit();
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
            infix,
            filed: pairs.len(),
            rules: rules.len(),
        }
    }

    /// Pushes the rules under key `k`, each tagged with the form that probed.
    fn probe(&self, k: u64, form: u32, out: &mut SmallVec<[u32; 16]>) {
        match self.table.get(k) {
            Some(Slot { start, len: 1, .. }) => out.push(start << FORM_BITS | form),
            Some(Slot { start, len, .. }) => {
                if let Some(found) = self.entries.get(start as usize..(start + len) as usize) {
                    out.extend(found.iter().map(|&r| r << FORM_BITS | form));
                }
            }
            None => {}
        }
    }

    /// Pushes, in precedence order and without duplicates, `rank << FORM_BITS
    /// | form` for every rule of `org` whose pattern may match form number
    /// `form` of `identity.forms()` (a superset of the matches: a rule that
    /// matches the caller through a form is pushed with that form, so it
    /// needs to be checked against that form only). A rule found through two
    /// forms is pushed twice, the entries adjacent.
    pub fn candidates(&self, org: OrgId, identity: &CallerIdentity, out: &mut SmallVec<[u32; 16]>) {
        let Some(meta) = self.orgs.get(org as usize) else {
            return;
        };
        let account = identity.account().parse::<u64>().unwrap_or(WILD_ACCOUNT);
        for (tag, form) in identity.forms().enumerate() {
            let tag = tag as u32;
            let Some(scopes) = meta.scopes.get(form.kind.index()) else {
                continue;
            };
            let resource = form.resource.as_bytes();
            for (scope, (&mask, account)) in scopes.iter().zip([account, WILD_ACCOUNT]).enumerate()
            {
                if mask & EXACT_BIT != 0 {
                    self.probe(key(org, form.kind, account, EXACT, resource), tag, out);
                }
                let mut suffixes = (mask >> SUFFIX_SHIFT) & ((1 << SUFFIX_CHARS) - 1);
                while suffixes != 0 {
                    let len = suffixes.trailing_zeros() as usize + 1;
                    suffixes &= suffixes - 1;
                    if let Some(text) = resource
                        .len()
                        .checked_sub(len)
                        .and_then(|at| resource.get(at..))
                    {
                        let strategy = SUFFIX + len as u8;
                        self.probe(key(org, form.kind, account, strategy, text), tag, out);
                    }
                }
                if mask & INFIX_BIT != 0 {
                    let filter = self
                        .infix
                        .get(&infix_scope(org, form.kind, scope))
                        .copied()
                        .unwrap_or(u64::MAX);
                    for window in resource.windows(INFIX_CHARS) {
                        let k = key(org, form.kind, account, INFIX, window);
                        if filter & filter_bit(k) != 0 {
                            self.probe(k, tag, out);
                        }
                    }
                }
                let prefixes = mask & PREFIX_BITS;
                if prefixes == 0 {
                    continue;
                }
                // The deepest prefix key the scope uses: no need to look past it.
                let deepest = (63 - prefixes.leading_zeros()) as usize / 2;
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
                        self.probe(key(org, form.kind, account, short, text), tag, out);
                    }
                    let long = prefix_strategy(depth, true);
                    if mask & (1 << long) != 0
                        && let Some(text) = resource.get(..boundary + KEY_CHARS)
                        && !text.get(boundary..).unwrap_or_default().contains(&b'/')
                    {
                        self.probe(key(org, form.kind, account, long, text), tag, out);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::policy::CompiledPolicy;

    /// One org of `n` rules of one shape: every caller gets a handful of
    /// candidates, not `n` (the shapes of issue 13).
    #[test]
    fn every_shape_is_keyed_selectively() {
        let shapes: [(&str, &str); 5] = [
            (
                "arn:aws:sts::123456789012:assumed-role/*-team{i}",
                "arn:aws:sts::123456789012:assumed-role/x-team{i}/s-1",
            ),
            (
                "arn:aws:sts::123456789012:assumed-role/*/sess{i}",
                "arn:aws:sts::123456789012:assumed-role/r-1/sess{i}",
            ),
            (
                "arn:aws:iam::123456789012:user/*/name{i}",
                "arn:aws:iam::123456789012:user/eng/x/name{i}",
            ),
            (
                "arn:aws:sts::*:assumed-role/svc-*-{i}",
                "arn:aws:sts::123456789012:assumed-role/svc-a-{i}/s-1",
            ),
            (
                "arn:aws:sts::*:assumed-role/*-team{i}-*",
                "arn:aws:sts::123456789012:assumed-role/x-team{i}-y/s-1",
            ),
        ];
        for (pattern, caller) in shapes {
            let mut text = String::from("org \"o\" {\n");
            for i in 1000..3000 {
                let p = pattern.replace("{i}", &i.to_string());
                text.push_str(&format!("  map \"{p}\" to \"u{i}@x.com\"\n"));
            }
            text.push_str("}\n");
            let policy = CompiledPolicy::compile_str("shape.policy", &text).unwrap();
            let index = Index::build(policy.rules(), policy.orgs().len());
            for i in [1000, 1999, 2999] {
                let arn = caller.replace("{i}", &i.to_string());
                let id = CallerIdentity::parse_arn(&arn).unwrap();
                let mut out = SmallVec::new();
                index.candidates(0, &id, &mut out);
                assert!(!out.is_empty(), "{pattern}: {arn} has no candidate");
                let mut rules: Vec<u32> = out.iter().map(|&c| c >> FORM_BITS).collect();
                rules.dedup();
                assert!(
                    rules.len() <= 4,
                    "{pattern}: {arn} has {} candidates",
                    rules.len()
                );
                let matching = rules
                    .iter()
                    .filter(|&&r| policy.rules()[r as usize].pattern.matches(&id))
                    .count();
                assert_eq!(matching, 1, "{pattern}: {arn}");
            }
        }
    }
}
