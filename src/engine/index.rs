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
//!   * *suffix*: the last `n` characters of the literal run after its last
//!     wildcard, for the largest `n` of [`SUFFIX_LENS`] (2, 4, 6, 8) the run
//!     holds (`assumed-role/*-team7` → `-team7`, `user/*/name12345` →
//!     `ame12345`, `assumed-role/*-dev` → `ev`), so a lookup probes at most
//!     four suffix lengths;
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
//! A lookup finds the org in an org table (by the hash of its id, the id
//! compared to confirm), then computes, per form of the caller, the hash of
//! each key text the org's rules use (a bit mask per org, form and account
//! scope says which: the exact key, the prefix keys at the resource's few
//! boundaries — its start and the position after each `/` —, one suffix key
//! per suffix length in use, and — only for scopes holding infix rules —
//! every [`INFIX_CHARS`]-byte window of the resource, first checked against a
//! 64-bit filter of the scope's infix keys), each text hashed once and mixed
//! with each scope's seed. Each key is looked up in a Bloom filter of the
//! table's keys (16 bits per key, so it stays in cache) as it is made: most
//! keys of a lookup are in no rule's shape and stop there. For the others
//! the first table slot is loaded at once and examined only when the batch
//! (up to eight keys) is probed, so that in a policy too large for the cache
//! the misses overlap. In a large policy the table and the filter are on
//! transparent huge pages ([`Words`]), so these random reads do not miss the
//! TLB too. The cost depends on the caller, not on the number of rules.
//!
//! Keys are 64-bit hashes in one open-addressing table (linear probing, at
//! most half full) of 8-byte slots: 32 bits of the key and either one rule
//! (most keys) or where its bucket starts. A lookup takes every slot with its
//! key's 32 bits up to the first empty slot, so a key's own slot is always
//! found; a collision, of 32 or 64 bits, only adds candidates, which are all
//! checked against their org, form kind and full pattern
//! (`CompiledPolicy::evaluate`), so correctness never depends on the hash.
//! Every key is a substring the resource of any matching form must hold at
//! that place (a prefix, a suffix, or somewhere), so the candidates are a
//! superset of the matches.

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::arn::identity::{Form, FormKind};
use crate::arn::pattern::Literal;
use crate::arn::wildcard;
use crate::engine::words::Words;
use crate::rule::{OrgId, Rule};

/// Literal characters after a boundary that a prefix key includes.
pub const KEY_CHARS: usize = 4;
/// The lengths a suffix key may have: a trailing literal run of `n`
/// characters is keyed by its last `SUFFIX_LENS[c]` characters for the
/// largest class `c` that fits, so a lookup probes at most four suffixes.
pub const SUFFIX_LENS: [usize; 4] = [2, 4, 6, 8];
/// The length of an infix key (a window of an inner literal run).
pub const INFIX_CHARS: usize = 4;
/// The most rules the index files (a slot names a rank, or where a bucket
/// starts, in 31 bits, and a policy's rules fill at most a few entries
/// each); a larger policy is decided by the reference matcher.
pub const MAX_RULES: usize = (u32::MAX >> 2) as usize;
const WILD_ACCOUNT: u64 = u64::MAX;
const EXACT: u8 = u8::MAX;
/// Suffix strategies are `SUFFIX + c` for class `c` of [`SUFFIX_LENS`].
const SUFFIX: u8 = 64;
const INFIX: u8 = 128;
/// Prefix keys deeper than this share the deepest strategy (their text still differs).
const MAX_DEPTH: usize = 14;
/// Bits `0..=29` of a scope's mask are the prefix strategies (`depth * 2 +
/// long`); this mask covers them.
const PREFIX_BITS: u64 = (1 << 30) - 1;
/// Bit `SUFFIX_SHIFT + c` is set when some rule of the scope has a suffix
/// key of class `c`.
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
    /// Bytes of the index kept outside the heap: its key table and filter
    /// when they are large enough for huge pages (an anonymous mapping each).
    pub mapped_bytes: usize,
}

/// One slot of the org table: an org id's hash and the org (`u32::MAX`: empty).
#[derive(Debug, Clone, Copy)]
struct OrgSlot {
    hash: u64,
    org: OrgId,
}

const NO_ORG: OrgSlot = OrgSlot {
    hash: 0,
    org: OrgId::MAX,
};

/// The hash an org id is filed under.
fn org_hash(id: &str) -> u64 {
    let h = text_hash(id.as_bytes());
    h ^ (h >> 29)
}

/// Where `hash` falls in `0..len` (Lemire's multiply-shift range reduction,
/// from the hash's high bits): the first slot or word of the org table, the
/// key table and the filter.
fn reduce(hash: u64, len: usize) -> usize {
    ((u128::from(hash) * len as u128) >> 64) as usize
}

/// A slot's value when it is empty.
const EMPTY: u32 = u32::MAX;
/// Set in a slot's value when it names a bucket in [`Index::entries`]
/// (its length, then its ranks) rather than one rule's rank.
const BUCKET: u32 = 1 << 31;

/// One slot of the key table: 32 bits of the key (its *tag*) and either one
/// rule's rank (most keys) or where its bucket starts. Eight bytes, so a
/// probe sequence usually stays within one cache line.
#[derive(Debug, Clone, Copy)]
struct Slot {
    tag: u32,
    value: u32,
}

const EMPTY_SLOT: Slot = Slot {
    tag: 0,
    value: EMPTY,
};

impl Slot {
    /// A slot as the table keeps it: the tag in the low half of a word.
    const fn to_word(self) -> u64 {
        self.tag as u64 | (self.value as u64) << 32
    }

    const fn from_word(word: u64) -> Slot {
        Slot {
            tag: word as u32,
            value: (word >> 32) as u32,
        }
    }

    /// Slot `i` of a table's words, if there is one.
    #[inline(always)]
    fn at(slots: &[u64], i: usize) -> Option<Slot> {
        slots.get(i).copied().map(Slot::from_word)
    }
}

/// An open-addressing table of keys with linear probing, at most half full,
/// built once. A slot keeps only the key's tag, so a lookup collects every
/// slot with the key's tag up to the first empty slot: a key's own slot is
/// always among them (it sits on the key's probe sequence before any empty
/// slot), and another key's slot with the same tag only adds candidates,
/// which are checked against their full pattern anyway.
#[derive(Debug, Default)]
struct Table {
    /// [`Slot::to_word`]s, on huge pages when large ([`Words`]).
    slots: Words,
    keys: usize,
}

impl Table {
    fn with_keys(keys: usize) -> Table {
        let size = if keys == 0 { 0 } else { 2 * keys + 1 };
        Table {
            slots: Words::filled(size, EMPTY_SLOT.to_word()),
            keys: 0,
        }
    }

    /// The slot a key starts probing at.
    fn home(&self, key: u64) -> usize {
        reduce(key, self.slots.len())
    }

    /// Files a key. INVARIANT: [`Table::with_keys`] made room for every key
    /// the builder inserts (at most half full), so a free slot always exists.
    fn insert(&mut self, key: u64, value: u32) {
        let home = self.home(key);
        match first_free(self.slots.as_mut_slice(), home, |&word| {
            Slot::from_word(word).value == EMPTY
        }) {
            Some(word) => {
                *word = Slot {
                    tag: key as u32,
                    value,
                }
                .to_word();
                self.keys += 1;
            }
            None => debug_assert!(false, "key table full: sized for fewer keys than inserted"),
        }
    }
}

/// Where linear probing files a new entry: the first slot from `home` on,
/// wrapping around, that `is_free` says is free (`None` if none is).
fn first_free<T>(slots: &mut [T], home: usize, is_free: impl Fn(&T) -> bool) -> Option<&mut T> {
    let n = slots.len();
    let mut i = home;
    for _ in 0..n {
        if slots.get(i).is_some_and(&is_free) {
            return slots.get_mut(i);
        }
        i = if i + 1 == n { 0 } else { i + 1 };
    }
    None
}

/// A blocked Bloom filter of keys: three bits in one 64-bit word per key,
/// about 16 bits per key (some 0.5 % of absent keys pass). It never
/// rejects a key it holds, so filtering probes through it drops no
/// candidate.
#[derive(Debug, Default)]
struct Filter {
    /// On huge pages when large ([`Words`]).
    words: Words,
}

impl Filter {
    fn with_keys(keys: usize) -> Filter {
        let words = if keys == 0 { 0 } else { keys / 4 + 1 };
        Filter {
            words: Words::filled(words, 0),
        }
    }

    /// The word a key's bits are in (from the key's middle bits; the table
    /// position uses its high bits, the tag its low ones), of `words` words.
    fn word(words: usize, key: u64) -> usize {
        reduce(key.rotate_left(24), words)
    }

    fn bits(key: u64) -> u64 {
        1 << (key & 63) | 1 << ((key >> 6) & 63) | 1 << ((key >> 12) & 63)
    }

    fn insert(&mut self, key: u64) {
        let i = Filter::word(self.words.len(), key);
        if let Some(word) = self.words.as_mut_slice().get_mut(i) {
            *word |= Filter::bits(key);
        }
    }

    /// False only for a key never inserted into the filter whose words are
    /// `words`.
    #[inline(always)]
    fn may_hold(words: &[u64], key: u64) -> bool {
        let bits = Filter::bits(key);
        words
            .get(Filter::word(words.len(), key))
            .is_none_or(|&word| word & bits == bits)
    }
}

/// The index over a policy's rules (immutable, `Send + Sync`).
#[derive(Debug, Default)]
pub struct Index {
    /// Orgs by the hash of their id (open addressing, at most half full).
    org_table: Box<[OrgSlot]>,
    /// The distinct [`OrgMeta`]s (orgs with rules of the same shapes share
    /// one, so the few there are stay in cache).
    metas: Vec<OrgMeta>,
    /// Org → its [`OrgMeta`] in `metas`.
    org_meta: Vec<u32>,
    table: Table,
    /// A filter of every key in `table`, small enough to stay in cache: a
    /// probe whose key it does not hold skips the table (most probes of a
    /// lookup find nothing, and in a large policy each would be a miss).
    filter: Filter,
    /// Buckets of more than one rule: a length, then that many ranks.
    entries: Vec<u32>,
    /// [`infix_scope`] → a 64-bit filter of the scope's infix keys (bit
    /// [`filter_bit`]), for the scopes that have any: most windows of a
    /// caller's resource are then rejected without touching the table.
    infix: FxHashMap<u64, u64>,
    /// Rule entries under all keys (single-rule buckets included).
    filed: usize,
    rules: usize,
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// One step of the key hash (FxHash's: rotate, xor, multiply).
fn fold(h: u64, word: u64) -> u64 {
    (h.rotate_left(26) ^ word).wrapping_mul(MUL)
}

/// Eight bytes as a little-endian word.
fn word(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes).map_or(0, u64::from_le_bytes)
}

/// The last `n` (1 to 7) bytes of `text` as a little-endian word: one load
/// of its last eight bytes shifted, when it has eight.
fn tail(text: &[u8], n: usize) -> u64 {
    match text.len().checked_sub(8).and_then(|at| text.get(at..)) {
        Some(last) => word(last) >> (8 * (8 - n)),
        None => text
            .iter()
            .skip(text.len().saturating_sub(n))
            .rev()
            .fold(0, |w, &b| w << 8 | u64::from(b)),
    }
}

/// Where the first `/` of `bytes` is: eight bytes at a time (a word's
/// bytes xored with `/` have a zero byte where a `/` was), the rest one by one.
fn next_slash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = word(w) ^ (ONES * u64::from(b'/'));
        // The lowest byte of `x` that is zero sets its high bit here (a
        // higher one may be set falsely by a borrow, never a lower one).
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'/')
        .map(|i| at + i)
}

/// The hash of a key's text, eight bytes at a time. A lookup computes it
/// once per text and combines it with each scope's seed ([`key`]).
fn text_hash(text: &[u8]) -> u64 {
    let mut h = fold(0, text.len() as u64);
    let mut words = text.chunks_exact(8);
    for w in &mut words {
        h = fold(h, word(w));
    }
    let rest = words.remainder().len();
    if rest != 0 {
        h = fold(h, tail(text, rest));
    }
    h
}

/// [`text_hash`] of `whole[start..end]` (`None` if out of range). A text
/// shorter than eight bytes (a short prefix or suffix of a resource) has
/// its bytes read with one load from around it in `whole` — the eight
/// bytes up to its end, or from its start — where `text_hash` alone would
/// read them one by one.
#[inline(always)]
fn text_hash_in(whole: &[u8], start: usize, end: usize) -> Option<u64> {
    let text = whole.get(start..end)?;
    let n = text.len();
    if n == 0 || n >= 8 {
        return Some(text_hash(text));
    }
    let bytes = match end.checked_sub(8) {
        Some(from) => whole.get(from..end).map(|w| word(w) >> (8 * (8 - n))),
        None => whole
            .get(start..start + 8)
            .map(|w| word(w) & ((1 << (8 * n)) - 1)),
    };
    Some(bytes.map_or_else(|| text_hash(text), |b| fold(fold(0, n as u64), b)))
}

/// An account as a 64-bit code for its keys' seeds: the low nibbles of its
/// 12 bytes (a digit's value), packed so that distinct 12-digit accounts
/// have distinct codes, none of them [`WILD_ACCOUNT`]; an account of another
/// length is [`WILD_ACCOUNT`]. Two loads and a few operations, not a decimal
/// parse. Bytes that are not digits give a code too (a caller's account
/// comes from a parsed identity, a rule's from a parsed pattern: both are 12
/// digits); were such an account to share a code with another, that would
/// only add candidates, which are checked against their full pattern.
fn account_code(account: &str) -> u64 {
    const NIBBLES: u64 = 0x0F0F_0F0F_0F0F_0F0F;
    let bytes = account.as_bytes();
    if bytes.len() != 12 {
        return WILD_ACCOUNT;
    }
    match (bytes.get(..8), bytes.get(8..)) {
        // Digits 8–11 go into the high nibbles of digits 0–3.
        (Some(low), Some(high)) => {
            let high = <[u8; 4]>::try_from(high).map_or(0, u32::from_le_bytes);
            (word(low) & NIBBLES) | (u64::from(high) & NIBBLES) << 4
        }
        _ => WILD_ACCOUNT,
    }
}

/// What a key is scoped by: the org, the form kind and the account (or
/// [`WILD_ACCOUNT`]). The org and account part ([`account_seed`]) is the
/// same for every form of a caller, so a lookup computes it once per scope.
fn scope_seed(org: OrgId, form: FormKind, account: u64) -> u64 {
    form_seed(account_seed(org, account), form)
}

fn account_seed(org: OrgId, account: u64) -> u64 {
    fold(fold(MUL, u64::from(org)), account)
}

fn form_seed(account_seed: u64, form: FormKind) -> u64 {
    fold(account_seed, form.index() as u64 + 1)
}

/// A key: its scope's seed, its strategy and its text's hash, mixed so that
/// both the high bits (the table position) and the low bits (the tag and the
/// filter bits) depend on all of them. A text hash ends with a multiply, so
/// texts that differ only in their last byte differ only in its high bits:
/// the high half is folded into the low one before the multiply that
/// spreads it, and again after.
#[inline(always)]
fn key(seed: u64, strategy: u8, text: u64) -> u64 {
    let h = (seed ^ text).wrapping_add(u64::from(strategy).wrapping_mul(MUL));
    let h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 32)
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

/// The mask bit of a strategy.
fn strategy_bit(strategy: u8) -> u64 {
    if strategy == EXACT {
        EXACT_BIT
    } else if strategy >= INFIX {
        INFIX_BIT
    } else if strategy >= SUFFIX {
        1 << (SUFFIX_SHIFT + u32::from(strategy - SUFFIX))
    } else {
        1 << strategy
    }
}

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
        && let Some(class) = SUFFIX_LENS.iter().rposition(|&n| n <= run.len())
        && let Some(n) = SUFFIX_LENS.get(class)
        && let Some(text) = run.get(run.len() - n..)
    {
        options.push((SUFFIX + class as u8, text));
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

/// The most keys a lookup collects before probing the table for them (it
/// probes and goes on when full, so a caller may make any number).
const BATCH: usize = 8;

/// One form of a caller in its two account scopes (`[literal, any]`): which
/// key shapes each uses, and each one's seed.
struct Scopes {
    masks: [u64; 2],
    seeds: [u64; 2],
    /// The form's position among the caller's forms (the candidates' tag).
    form: u32,
}

impl Scopes {
    fn union(&self) -> u64 {
        self.masks[0] | self.masks[1]
    }
}

/// A key of a lookup that passed the filter: the key, the form that made it,
/// and its home slot, loaded when the key was kept (the loads of a lookup's
/// keys do not depend on each other, so in a policy too large for the cache
/// their misses overlap; the slots are examined only when the batch is
/// probed).
#[derive(Clone, Copy)]
struct Probe {
    key: u64,
    home: usize,
    form: u32,
    first: Slot,
}

/// The keys of one lookup that passed the filter, probed a batch at a time,
/// and what is told of each candidate they find.
struct Probes<'i, F> {
    index: &'i Index,
    /// The key table's slots and the filter's words, taken once per lookup.
    slots: &'i [u64],
    filter: &'i [u64],
    /// Inline, never spilled (a full batch is probed first); a `SmallVec`
    /// rather than an array so that nothing is written before it is used.
    keys: SmallVec<[Probe; BATCH]>,
    /// Told `(rank, form)` of each candidate.
    visit: F,
}

impl<F: FnMut(u32, u32)> Probes<'_, F> {
    /// Keeps a key for probing, its home slot loaded, if the filter may
    /// hold it.
    #[inline(always)]
    fn add(&mut self, key: u64, form: u32) {
        if !Filter::may_hold(self.filter, key) {
            return;
        }
        if self.keys.len() == BATCH {
            self.flush();
        }
        let home = self.index.table.home(key);
        let first = Slot::at(self.slots, home);
        self.keys.push(Probe {
            key,
            form,
            home,
            first: first.unwrap_or(EMPTY_SLOT),
        });
    }

    /// Probes the keys kept so far.
    fn flush(&mut self) {
        self.index
            .probe_all(self.slots, &self.keys, &mut self.visit);
        self.keys.clear();
    }

    /// Adds the key of a text (its hash computed once) in each scope whose
    /// mask has `bit`.
    #[inline(always)]
    fn text(&mut self, scopes: &Scopes, strategy: u8, bit: u64, hash: u64) {
        if scopes.masks[0] & bit != 0 {
            self.add(key(scopes.seeds[0], strategy, hash), scopes.form);
        }
        if scopes.masks[1] & bit != 0 {
            self.add(key(scopes.seeds[1], strategy, hash), scopes.form);
        }
    }

    /// Adds the exact, suffix and prefix keys of one form's resource that
    /// its scopes use.
    fn form(&mut self, scopes: &Scopes, resource: &[u8]) {
        let union = scopes.union();
        if union & EXACT_BIT != 0 {
            self.text(scopes, EXACT, EXACT_BIT, text_hash(resource));
        }
        let mut suffixes = (union >> SUFFIX_SHIFT) & ((1 << SUFFIX_LENS.len()) - 1);
        while suffixes != 0 {
            let class = suffixes.trailing_zeros();
            suffixes &= suffixes - 1;
            if let Some(&n) = SUFFIX_LENS.get(class as usize)
                && let Some(hash) = resource
                    .len()
                    .checked_sub(n)
                    .and_then(|at| text_hash_in(resource, at, resource.len()))
            {
                self.text(
                    scopes,
                    SUFFIX + class as u8,
                    1 << (SUFFIX_SHIFT + class),
                    hash,
                );
            }
        }
        let prefixes = union & PREFIX_BITS;
        if prefixes == 0 {
            return;
        }
        // The deepest prefix key in use: no need to look past it.
        let deepest = (63 - prefixes.leading_zeros()) as usize / 2;
        let mut boundary = 0;
        let mut depth = 0;
        loop {
            // Where the next `/` is, if any: a long key's characters are
            // those of the path part after the boundary.
            let next = resource.get(boundary..).and_then(next_slash);
            let short = prefix_strategy(depth, false);
            if prefixes & (1 << short) != 0
                && let Some(hash) = text_hash_in(resource, 0, boundary)
            {
                self.text(scopes, short, 1 << short, hash);
            }
            let long = prefix_strategy(depth, true);
            if prefixes & (1 << long) != 0
                && next.is_none_or(|slash| slash >= KEY_CHARS)
                && let Some(hash) = text_hash_in(resource, 0, boundary + KEY_CHARS)
            {
                self.text(scopes, long, 1 << long, hash);
            }
            depth += 1;
            if depth > deepest && deepest < MAX_DEPTH {
                break;
            }
            match next {
                Some(slash) => boundary += slash + 1,
                None => break,
            }
        }
    }
}

impl Index {
    /// Builds the index over `rules` (in precedence order) of the orgs
    /// named `org_ids` (by [`OrgId`]).
    pub fn build<'a>(rules: &[Rule], org_ids: impl ExactSizeIterator<Item = &'a str>) -> Index {
        let org_count = org_ids.len();
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
                Literal::Exact(a) => match account_code(a) {
                    WILD_ACCOUNT => {
                        debug_assert!(false, "literal account {a:?} is not 12 bytes");
                        (WILD_ACCOUNT, 1)
                    }
                    account => (account, 0),
                },
                Literal::Wild => (WILD_ACCOUNT, 1),
            };
            let resource = pattern.resource();
            let options = wildcard::has_wildcard(resource).then(|| key_options(resource));
            let exact = text_hash(resource.as_bytes());
            for form in FormKind::ALL {
                if !pattern.fits_form_kind(form) {
                    continue;
                }
                let seed = scope_seed(rule.org, form, account);
                match &options {
                    Some(options) => {
                        let keys: SmallVec<[(u8, u64); 3]> = options
                            .iter()
                            .map(|&(strategy, text)| {
                                (strategy, key(seed, strategy, text_hash(text)))
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
                            pairs.push((key(seed, EXACT, exact), i as u32));
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
            if strategy == INFIX {
                *infix
                    .entry(infix_scope(p.org, p.form, p.scope))
                    .or_default() |= filter_bit(k);
            }
            *mask |= strategy_bit(strategy);
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
                table.insert(k, first);
            } else {
                let start = entries.len() as u32;
                entries.push(group.len() as u32);
                entries.extend(group.iter().map(|&(_, r)| r));
                table.insert(k, BUCKET | start);
            }
        }
        entries.shrink_to_fit();
        let mut filter = Filter::with_keys(table.keys);
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            if let Some(&(k, _)) = group.first() {
                filter.insert(k);
            }
        }
        let mut org_table =
            vec![NO_ORG; if org_count == 0 { 0 } else { 2 * org_count + 1 }].into_boxed_slice();
        let n = org_table.len();
        for (org, id) in org_ids.enumerate() {
            let hash = org_hash(id);
            let filed = OrgSlot {
                hash,
                org: org as OrgId,
            };
            match first_free(&mut org_table, reduce(hash, n), |slot| {
                slot.org == OrgId::MAX
            }) {
                Some(slot) => *slot = filed,
                None => debug_assert!(false, "org table full: sized for fewer orgs"),
            }
        }
        let mut metas: Vec<OrgMeta> = Vec::new();
        let mut distinct: FxHashMap<[[u64; 2]; 6], u32> = FxHashMap::default();
        let org_meta = orgs
            .iter()
            .map(|meta| {
                *distinct.entry(meta.scopes).or_insert_with(|| {
                    metas.push(*meta);
                    metas.len() as u32 - 1
                })
            })
            .collect();
        metas.shrink_to_fit();
        Index {
            org_table,
            metas,
            org_meta,
            table,
            filter,
            entries,
            infix,
            filed: pairs.len(),
            rules: rules.len(),
        }
    }

    /// Tells `visit` of the rules a slot names, each with the form that
    /// probed.
    #[inline(always)]
    fn visit_slot(&self, value: u32, form: u32, visit: &mut impl FnMut(u32, u32)) {
        if value & BUCKET == 0 {
            visit(value, form);
            return;
        }
        let start = (value & !BUCKET) as usize;
        let len = self.entries.get(start).copied().unwrap_or(0) as usize;
        if let Some(found) = self.entries.get(start + 1..start + 1 + len) {
            for &rank in found {
                visit(rank, form);
            }
        }
    }

    /// Tells `visit` of the rules under each of `probes` (keys the filter
    /// let through, their home slots loaded): every slot with the key's tag
    /// from its home slot up to the first empty one.
    fn probe_all(&self, slots: &[u64], probes: &[Probe], visit: &mut impl FnMut(u32, u32)) {
        let n = slots.len();
        for probe in probes {
            if probe.first.value == EMPTY {
                continue;
            }
            let tag = probe.key as u32;
            if probe.first.tag == tag {
                self.visit_slot(probe.first.value, probe.form, visit);
            }
            // Rarely more than a slot or two: the table is at most half full.
            let mut i = probe.home;
            for _ in 1..n {
                i = if i + 1 == n { 0 } else { i + 1 };
                let Some(slot) = Slot::at(slots, i) else {
                    break;
                };
                if slot.value == EMPTY {
                    break;
                }
                if slot.tag == tag {
                    self.visit_slot(slot.value, probe.form, visit);
                }
            }
        }
    }

    /// Tells `visit` `(rank, form)` for every rule of `org` whose pattern
    /// may match `forms[form]` (the caller's forms, in
    /// [`CallerIdentity::forms`] order, whose account is `account`), in no
    /// particular order. A superset of the matches: a rule that matches the
    /// caller through a form is told with that form, so it needs to be
    /// checked against that form only. A rule may be told more than once
    /// (found through two forms, or through two keys whose tags collide).
    ///
    /// [`CallerIdentity::forms`]: crate::arn::identity::CallerIdentity::forms
    pub fn candidates(
        &self,
        org: OrgId,
        account: &str,
        forms: &[Form<'_>],
        visit: impl FnMut(u32, u32),
    ) {
        let Some(meta) = self
            .org_meta
            .get(org as usize)
            .and_then(|&m| self.metas.get(m as usize))
        else {
            return;
        };
        let account = account_code(account);
        let account_seeds = [account_seed(org, account), account_seed(org, WILD_ACCOUNT)];
        let mut probes = Probes {
            index: self,
            slots: self.table.slots.as_slice(),
            filter: self.filter.words.as_slice(),
            keys: SmallVec::new(),
            visit,
        };
        for (tag, form) in forms.iter().enumerate() {
            let Some(&masks) = meta.scopes.get(form.kind.index()) else {
                continue;
            };
            if masks[0] | masks[1] == 0 {
                continue;
            }
            let scopes = Scopes {
                masks,
                seeds: [
                    form_seed(account_seeds[0], form.kind),
                    form_seed(account_seeds[1], form.kind),
                ],
                form: tag as u32,
            };
            probes.form(&scopes, form.resource.as_bytes());
            if scopes.union() & INFIX_BIT != 0 {
                self.probe_infix(
                    org,
                    form.kind,
                    &scopes,
                    form.resource.as_bytes(),
                    &mut probes,
                );
            }
        }
        probes.flush();
    }

    /// Adds the infix keys of one form: every [`INFIX_CHARS`]-byte window of
    /// its resource, in each scope with infix rules, when the scope's 64-bit
    /// filter of infix keys holds it.
    fn probe_infix(
        &self,
        org: OrgId,
        form: FormKind,
        scopes: &Scopes,
        resource: &[u8],
        probes: &mut Probes<'_, impl FnMut(u32, u32)>,
    ) {
        for (scope, (mask, seed)) in scopes.masks.into_iter().zip(scopes.seeds).enumerate() {
            if mask & INFIX_BIT == 0 {
                continue;
            }
            let filter = self
                .infix
                .get(&infix_scope(org, form, scope))
                .copied()
                .unwrap_or(u64::MAX);
            for end in INFIX_CHARS..=resource.len() {
                let Some(hash) = text_hash_in(resource, end - INFIX_CHARS, end) else {
                    continue;
                };
                let k = key(seed, INFIX, hash);
                if filter & filter_bit(k) != 0 {
                    probes.add(k, scopes.form);
                }
            }
        }
    }

    /// The org whose id is `id`: the first slot on `id`'s probe sequence
    /// with its hash whose org `id_of` gives `id`'s bytes (a hash shared by
    /// two ids only costs a comparison).
    pub fn find_org<'n>(
        &self,
        id: &str,
        id_of: impl Fn(OrgId) -> Option<&'n [u8]>,
    ) -> Option<OrgId> {
        let n = self.org_table.len();
        let hash = org_hash(id);
        let mut i = reduce(hash, n);
        for _ in 0..n {
            let slot = self.org_table.get(i)?;
            if slot.org == OrgId::MAX {
                return None;
            }
            if slot.hash == hash && id_of(slot.org) == Some(id.as_bytes()) {
                return Some(slot.org);
            }
            i = if i + 1 == n { 0 } else { i + 1 };
        }
        None
    }

    /// Sizes of the index.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            rules: self.rules,
            keys: self.table.keys,
            entries: self.filed,
            orgs: self.org_meta.len(),
            mapped_bytes: self.table.slots.mapped_bytes() + self.filter.words.mapped_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::identity::CallerIdentity;

    /// Keys of texts that differ only in their last bytes (`name1000`,
    /// `name1001`, …: the suffix keys of a policy of numbered rules) still
    /// differ in their tag, their table position and their filter bits.
    #[test]
    fn keys_of_nearly_equal_texts_spread() {
        let seed = scope_seed(3, FormKind::User, 123_456_789_012);
        let keys: Vec<u64> = (1000..3000)
            .map(|i| key(seed, SUFFIX + 3, text_hash(format!("name{i}").as_bytes())))
            .collect();
        let distinct = |f: &dyn Fn(u64) -> u64| {
            keys.iter()
                .map(|&k| f(k))
                .collect::<std::collections::HashSet<_>>()
                .len()
        };
        assert_eq!(distinct(&|k| k as u32 as u64), keys.len(), "tags");
        // Positions in a table of twice as many slots: about 1 - 1/e of
        // them distinct if spread at random; clustered keys give far fewer.
        assert!(
            distinct(&|k| reduce(k, 2 * keys.len() + 1) as u64) > keys.len() * 3 / 5,
            "homes"
        );
        assert!(distinct(&Filter::bits) > keys.len() * 9 / 10, "filter bits");
        assert!(
            distinct(&|k| Filter::word(keys.len() / 4 + 1, k) as u64) > keys.len() / 5,
            "filter words"
        );
    }

    /// The filter never rejects a key it holds, and passes few others.
    #[test]
    fn the_filter_holds_every_key_and_few_others() {
        let keys: Vec<u64> = (0..100_000u64)
            .map(|i| key(scope_seed(1, FormKind::User, i), EXACT, text_hash(b"x")))
            .collect();
        let mut filter = Filter::with_keys(keys.len());
        for &k in &keys {
            filter.insert(k);
        }
        let words = filter.words.as_slice();
        assert!(keys.iter().all(|&k| Filter::may_hold(words, k)));
        let others = (0..100_000u64)
            .map(|i| key(scope_seed(2, FormKind::User, i), EXACT, text_hash(b"x")))
            .filter(|&k| Filter::may_hold(words, k))
            .count();
        assert!(others < 2_000, "{others} of 100000 absent keys passed");
        assert!(
            Filter::may_hold(Filter::with_keys(0).words.as_slice(), 7),
            "an empty filter holds no word to reject with"
        );
    }

    /// Every org is found by its id, an unknown id is not, and two ids with
    /// one hash are told apart by the name check.
    #[test]
    fn orgs_are_found_by_id_and_only_by_it() {
        let names: Vec<String> = (0..5_000).map(|i| format!("org-{i}")).collect();
        let index = Index::build(&[], names.iter().map(String::as_str));
        let id_of = |org: OrgId| names.get(org as usize).map(|n| n.as_bytes());
        for (i, name) in names.iter().enumerate() {
            assert_eq!(index.find_org(name, id_of), Some(i as OrgId));
        }
        for absent in ["org-5000", "org-", "org-10 ", "rg-10", ""] {
            assert_eq!(index.find_org(absent, id_of), None, "{absent:?}");
        }
        // An id check that refuses every org: nothing is found, even where
        // the hash matches.
        assert_eq!(index.find_org("org-7", |_| Some(b"other")), None);
        assert_eq!(
            Index::build(&[], std::iter::empty()).find_org("o", id_of),
            None
        );
    }

    /// Distinct 12-digit accounts have distinct codes (checked against the
    /// accounts themselves: every pair of a sample, and every account one
    /// digit away from each), none of them [`WILD_ACCOUNT`]; an account of
    /// another length is [`WILD_ACCOUNT`].
    #[test]
    fn account_codes_tell_accounts_apart() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut accounts: Vec<String> = vec!["000000000000".into(), "999999999999".into()];
        for _ in 0..2_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            accounts.push(
                (0..12)
                    .map(|i| char::from(b'0' + ((seed >> (i * 5)) % 10) as u8))
                    .collect(),
            );
        }
        let mut seen: FxHashMap<u64, &str> = FxHashMap::default();
        for a in &accounts {
            let code = account_code(a);
            assert_ne!(code, WILD_ACCOUNT, "{a}");
            if let Some(other) = seen.insert(code, a) {
                assert_eq!(other, a, "two accounts share a code");
            }
            for at in 0..12 {
                for d in b'0'..=b'9' {
                    let mut near = a.clone().into_bytes();
                    near[at] = d;
                    let near = String::from_utf8(near).unwrap();
                    assert_eq!(account_code(&near) == code, near == *a, "{a} {near}");
                }
            }
        }
        for a in ["", "12345678901", "1234567890123"] {
            assert_eq!(account_code(a), WILD_ACCOUNT, "{a:?}");
        }
    }

    /// The word-at-a-time `/` search finds the first `/`, wherever it is.
    #[test]
    fn next_slash_finds_the_first_slash() {
        for len in 0..40 {
            for a in 0..=len {
                for b in [a, a + 1, a + 3, a + 9, len] {
                    let mut text = vec![b'x'; len];
                    for i in [a, b] {
                        if let Some(c) = text.get_mut(i) {
                            *c = b'/';
                        }
                    }
                    // Bytes next to '/' in value, which a sloppy test could take for it.
                    if let Some(c) = text.get_mut(a.wrapping_sub(1)) {
                        *c = b'.';
                    }
                    let slow = text.iter().position(|&c| c == b'/');
                    assert_eq!(
                        next_slash(&text),
                        slow,
                        "{:?}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

    /// The tail word is the bytes it names, whatever the text's length.
    #[test]
    fn tail_words_are_the_last_bytes() {
        let text = b"0123456789abcdef";
        for len in 1..=text.len() {
            let t = &text[..len];
            for n in 1..=len.min(7) {
                let mut buf = [0u8; 8];
                buf[..n].copy_from_slice(&t[len - n..]);
                assert_eq!(tail(t, n), u64::from_le_bytes(buf), "{len} {n}");
            }
        }
    }

    /// A text's hash read from around it is its hash, wherever it sits in
    /// a longer text (short ones near the start, the end, or both).
    #[test]
    fn hashes_of_texts_within_others_are_their_hashes() {
        let whole: Vec<u8> = (0..20u8).map(|i| b'a' + i).collect();
        for len in 0..=whole.len() {
            let w = &whole[..len];
            for start in 0..=len {
                for end in start..=len {
                    assert_eq!(
                        text_hash_in(w, start, end),
                        Some(text_hash(&w[start..end])),
                        "{len} {start} {end}"
                    );
                }
            }
            assert_eq!(text_hash_in(w, 0, len + 1), None);
        }
    }
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
            let index = Index::build(policy.rules(), policy.orgs().iter().map(|o| &*o.id));
            for i in [1000, 1999, 2999] {
                let arn = caller.replace("{i}", &i.to_string());
                let id = CallerIdentity::parse_arn(&arn).unwrap();
                let forms: Vec<_> = id.forms().collect();
                let mut rules: Vec<u32> = Vec::new();
                index.candidates(0, id.account(), &forms, |rank, _| rules.push(rank));
                assert!(!rules.is_empty(), "{pattern}: {arn} has no candidate");
                rules.sort_unstable();
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
