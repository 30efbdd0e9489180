//! The [`Verifier`]: pre-checks, replay protection, the STS exchange, in that
//! order, configured from RON.
//!
//! ```ron
//! (
//!     proof: (max_skew_secs: 900, org_header: "x-ddog-org-id", partitions: ["aws"], regions: []),
//!     sts: (connect_timeout_ms: 2000, response_timeout_ms: 5000, retries: 2,
//!           overrides: {"sts.amazonaws.com": "http://127.0.0.1:5000"}),
//!     replay: (enabled: false, capacity: 100000, per_org_capacity: None),
//! )
//! ```
//!
//! Every field may be left out; see [`PrecheckConfig`], [`StsConfig`] and
//! [`ReplayConfig`] for the defaults.
//!
//! ## Replay protection (off by default)
//! A proof is a bearer credential for its date window: whoever captures one
//! can present it again until `X-Amz-Date + max_skew_secs`. With
//! `replay.enabled`, the verifier remembers each accepted signature until its
//! window closes and refuses it a second time ([`VerifyError::Replayed`]).
//! The memory is per process (several replicas each accept a proof once) and
//! bounded twice: by `replay.capacity` in all, and by
//! `replay.per_org_capacity` for each org (default: half of `capacity`, so
//! one org's sustained default budget, 50/s × 901 s ≈ 45 000 entries, fits).
//! When either bound is reached by live entries, new proofs (of that org, or
//! of any org) are refused ([`VerifyError::ReplayCacheFull`]) rather than
//! forgetting an old one; so one busy or hostile org fills its own share and
//! gets its own 503s while every other org keeps working, as long as
//! `capacity` ≥ (orgs that may be busy at once) × `per_org_capacity`.
//! Off by default because Datadog's clients re-sign for each token request
//! anyway and a shared deployment needs a shared store.
//!
//! An entry lives exactly as long as the pre-checks would accept its proof
//! again: until `X-Amz-Date + max_skew_secs + 1 s` (the date check compares
//! whole seconds), never longer. A proof dated in the future is accepted
//! until that instant too, so its entry must live as long; since the date
//! check refuses proofs dated more than `max_skew_secs` ahead, no entry lives
//! past `now + 2 × max_skew_secs + 2 s`. Expiring it earlier (at
//! `min(X-Amz-Date, now) + max_skew_secs`) would let it be replayed in the
//! rest of its window. An org's sustained rate is therefore bounded by its
//! share: about `per_org_capacity / (max_skew_secs + 1)` exchanges per second.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::arn::identity::CallerIdentity;
use crate::arn::partition::Partition;
use crate::auth::proof::{CheckedProof, PrecheckConfig, ProofError, precheck};
use crate::auth::sts::http::OverrideError;
use crate::auth::sts::{HttpTransport, StsConfig, StsError, Transport, call_sts};

/// The widest date window a configuration may ask for (STS itself allows 15 minutes).
pub const MAX_SKEW_SECS: u64 = 3600;

/// Replay protection settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayConfig {
    /// Refuse a signature seen before within its window. Default `false`.
    pub enabled: bool,
    /// The most signatures remembered at once. Default 100 000 (≈10 MiB).
    pub capacity: usize,
    /// The most signatures remembered at once for one org, between 1 and
    /// `capacity`. Default `None`: half of `capacity` (at least 1): an org
    /// exchanging at the default rate limit (50/s) for a whole window (901 s)
    /// fits, and one org can never take more than half.
    pub per_org_capacity: Option<usize>,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            enabled: false,
            capacity: 100_000,
            per_org_capacity: None,
        }
    }
}

impl ReplayConfig {
    /// The per-org share in force: `per_org_capacity`, else `capacity / 2`,
    /// at least 1 and at most `capacity`.
    fn org_share(&self) -> usize {
        self.per_org_capacity
            .unwrap_or(self.capacity / 2)
            .max(1)
            .min(self.capacity)
    }
}

/// The whole verifier configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifierConfig {
    /// The pre-checks.
    pub proof: PrecheckConfig,
    /// The STS call.
    pub sts: StsConfig,
    /// Replay protection.
    pub replay: ReplayConfig,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not valid RON for [`VerifierConfig`].
    #[error("invalid verifier configuration: {0}")]
    Ron(#[from] ron::error::SpannedError),
    /// An unknown partition name.
    #[error("unknown partition `{0}` in proof.partitions")]
    Partition(String),
    /// A region that belongs to no allowed partition.
    #[error("region `{0}` in proof.regions is not a region of an allowed partition")]
    Region(String),
    /// A date window wider than [`MAX_SKEW_SECS`].
    #[error("proof.max_skew_secs is {0}; at most {MAX_SKEW_SECS} (one hour) is accepted")]
    Skew(u64),
    /// An empty org header name.
    #[error("proof.org_header is empty")]
    OrgHeader,
    /// A bad STS override.
    #[error(transparent)]
    Override(#[from] OverrideError),
    /// A per-org replay share of 0 or above the whole capacity.
    #[error(
        "replay.per_org_capacity is {share}; it must be between 1 and replay.capacity ({capacity})"
    )]
    ReplayShare {
        /// `replay.per_org_capacity`.
        share: usize,
        /// `replay.capacity`.
        capacity: usize,
    },
}

/// Why a proof was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A pre-check failed; nothing was sent.
    #[error("{0}")]
    Proof(#[from] ProofError),
    /// This signature was accepted before (replay protection on).
    #[error("this proof was already used")]
    Replayed,
    /// The replay cache, or the org's share of it, is full of live entries;
    /// refusing rather than forgetting.
    #[error("the replay cache is full; try again shortly")]
    ReplayCacheFull,
    /// The STS exchange failed.
    #[error("{0}")]
    Sts(#[from] StsError),
}

impl VerifyError {
    /// A stable name: `proof.<check>`, `sts.<failure>`, `replayed`, `replay_cache_full`.
    pub fn code(&self) -> String {
        match self {
            VerifyError::Proof(e) => format!("proof.{}", e.code()),
            VerifyError::Replayed => "replayed".into(),
            VerifyError::ReplayCacheFull => "replay_cache_full".into(),
            VerifyError::Sts(e) => format!("sts.{}", e.code()),
        }
    }
}

/// An accepted proof: who the caller is and where the proof was signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The caller identity STS reported, checked (docs/semantics.md §1).
    pub identity: CallerIdentity,
    /// The region of the STS host the proof was signed for (`us-east-1` for
    /// the global host); the policy attribute `region`.
    pub region: String,
    /// The partition of that host.
    pub partition: Partition,
    /// The access key id that signed the proof.
    pub access_key_id: String,
}

/// Verifies proofs. `Send + Sync`; share one per process.
pub struct Verifier {
    config: VerifierConfig,
    transport: Arc<dyn Transport>,
    replay: Mutex<ReplayCache>,
    /// The replay cache replicas share, consulted after this process's own.
    shared: Option<Arc<dyn SharedReplay>>,
}

/// What a shared replay cache answers a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    /// Reserved: no other process accepted this signature in its window.
    Reserved,
    /// Another process (or this one) reserved it before.
    Replayed,
    /// The org's share of the shared cache is full of live entries.
    Full,
}

/// A replay cache several processes share (the service's PostgreSQL
/// store). Errors mean "cannot be reached": the verifier then keeps to its
/// own cache (one-time use per process only) until it answers again.
pub(crate) trait SharedReplay: Send + Sync {
    /// Reserves `signature` for `org` until `expires`, if the org holds
    /// fewer than `per_org` live entries at `now`.
    fn reserve(
        &self,
        signature: &str,
        org: &str,
        expires: SystemTime,
        now: SystemTime,
        per_org: usize,
    ) -> Result<Shared, String>;
    /// Forgets `signature` (its STS call failed). Best effort.
    fn release(&self, signature: &str);
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier with the default HTTPS transport.
    pub fn new(config: VerifierConfig) -> Result<Self, ConfigError> {
        let transport = HttpTransport::new(&config.sts)?;
        Self::with_transport(config, Arc::new(transport))
    }

    /// A verifier parsed from RON, with the default HTTPS transport.
    pub fn from_ron(text: &str) -> Result<Self, ConfigError> {
        Self::new(ron::from_str(text)?)
    }

    /// A verifier that sends through `transport` (an auth service's own client).
    pub fn with_transport(
        config: VerifierConfig,
        transport: Arc<dyn Transport>,
    ) -> Result<Self, ConfigError> {
        validate(&config)?;
        Ok(Verifier {
            config,
            transport,
            replay: Mutex::new(ReplayCache::default()),
            shared: None,
        })
    }

    /// Also reserves each accepted signature in `shared`, the replay cache
    /// of every replica (when replay protection is on): a proof accepted by
    /// one replica is refused by the others. While `shared` cannot be
    /// reached, this process's own cache still refuses what it has seen.
    pub(crate) fn with_shared_replay(mut self, shared: Arc<dyn SharedReplay>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Pre-checks only: no network, no replay bookkeeping.
    pub fn precheck(
        &self,
        raw: &str,
        org: &str,
        now: SystemTime,
    ) -> Result<CheckedProof, ProofError> {
        precheck(raw, org, now, &self.config.proof)
    }

    /// Checks `raw` for `org` at `now`, replays it to STS and returns the caller.
    /// Blocking: call it from `spawn_blocking` in async code.
    pub fn verify(&self, raw: &str, org: &str, now: SystemTime) -> Result<Verified, VerifyError> {
        let checked = self.precheck(raw, org, now)?;
        self.verify_checked(checked, now)
    }

    /// Replays a proof that already passed [`Verifier::precheck`] to STS
    /// (with replay protection, when on) and returns the caller. Blocking.
    pub fn verify_checked(
        &self,
        checked: CheckedProof,
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        let replay = self.config.replay.enabled;
        if replay {
            // Unrepresentable expiry: refuse rather than remember too briefly.
            let expires = replay_expiry(checked.signed_at(), self.config.proof.max_skew_secs)
                .ok_or(VerifyError::ReplayCacheFull)?;
            self.cache().reserve(
                &checked.authorization().signature,
                checked.org(),
                expires,
                now,
                Bounds::of(&self.config.replay),
            )?;
            if let Some(shared) = &self.shared {
                let signature = &checked.authorization().signature;
                let answer = shared.reserve(
                    signature,
                    checked.org(),
                    expires,
                    now,
                    self.config.replay.org_share(),
                );
                match answer {
                    Ok(Shared::Reserved) => {}
                    // Kept in the local cache too: refused here at once next time.
                    Ok(Shared::Replayed) => return Err(VerifyError::Replayed),
                    Ok(Shared::Full) => {
                        self.cache().release(signature);
                        return Err(VerifyError::ReplayCacheFull);
                    }
                    // Logged by `shared`; one-time use is enforced locally.
                    Err(_) => {}
                }
            }
        }
        let result = call_sts(
            self.transport.as_ref(),
            &checked,
            self.config.sts.retry_policy(),
        );
        match result {
            Ok(identity) => Ok(Verified {
                identity,
                region: checked.host().region.clone(),
                partition: checked.host().partition,
                access_key_id: checked.authorization().access_key_id.clone(),
            }),
            Err(e) => {
                if replay {
                    self.cache().release(&checked.authorization().signature);
                    if let Some(shared) = &self.shared {
                        shared.release(&checked.authorization().signature);
                    }
                }
                Err(e.into())
            }
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ReplayCache> {
        self.replay.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn validate(config: &VerifierConfig) -> Result<(), ConfigError> {
    let mut allowed = Vec::new();
    for name in &config.proof.partitions {
        let p: Partition = name
            .parse()
            .map_err(|_| ConfigError::Partition(name.clone()))?;
        allowed.push(p);
    }
    for region in &config.proof.regions {
        if !Partition::of_region(region).is_some_and(|p| allowed.contains(&p)) {
            return Err(ConfigError::Region(region.clone()));
        }
    }
    if config.proof.org_header.trim().is_empty() {
        return Err(ConfigError::OrgHeader);
    }
    if config.proof.max_skew_secs > MAX_SKEW_SECS {
        return Err(ConfigError::Skew(config.proof.max_skew_secs));
    }
    for (host, url) in &config.sts.overrides {
        crate::auth::sts::http::check_override(host, url)?;
    }
    if let Some(share) = config.replay.per_org_capacity
        && (share == 0 || share > config.replay.capacity)
    {
        return Err(ConfigError::ReplayShare {
            share,
            capacity: config.replay.capacity,
        });
    }
    Ok(())
}

/// The first instant at which the pre-checks refuse a proof signed at
/// `signed_at` as expired: they compare whole seconds, so a proof is still
/// accepted `max_skew_secs + 0.999… s` after its date. Its replay entry must
/// live until then, and no longer. `None` only if that instant is not
/// representable (a parsed `X-Amz-Date` within the skew of now never is).
fn replay_expiry(signed_at: SystemTime, max_skew_secs: u64) -> Option<SystemTime> {
    signed_at.checked_add(Duration::from_secs(max_skew_secs.saturating_add(1)))
}

/// The two bounds on the replay cache.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    /// All entries.
    capacity: usize,
    /// The entries of one org.
    per_org: usize,
}

impl Bounds {
    fn of(config: &ReplayConfig) -> Self {
        Bounds {
            capacity: config.capacity,
            per_org: config.org_share(),
        }
    }
}

/// Signatures seen, each until its window closes.
///
/// Invariants: `order` holds exactly the entries of `expiry` (one
/// `(expires, signature)` per signature), sorted by expiry; `per_org` counts
/// the entries of each org that has any (no zero counts), so its counts sum
/// to `expiry.len()`. Hence the cache never holds more than the capacity, nor
/// an org more than its share.
#[derive(Debug, Default)]
struct ReplayCache {
    expiry: HashMap<String, (SystemTime, Arc<str>)>,
    order: VecDeque<(SystemTime, String)>,
    per_org: HashMap<Arc<str>, usize>,
}

impl ReplayCache {
    fn reserve(
        &mut self,
        signature: &str,
        org: &str,
        expires: SystemTime,
        now: SystemTime,
        bounds: Bounds,
    ) -> Result<(), VerifyError> {
        self.purge(now);
        if self.expiry.contains_key(signature) {
            return Err(VerifyError::Replayed);
        }
        let held = self.per_org.get(org).copied().unwrap_or(0);
        if held >= bounds.per_org || self.expiry.len() >= bounds.capacity {
            return Err(VerifyError::ReplayCacheFull);
        }
        let org = match self.per_org.get_key_value(org) {
            Some((key, _)) => Arc::clone(key),
            None => Arc::from(org),
        };
        *self.per_org.entry(Arc::clone(&org)).or_insert(0) += 1;
        self.expiry.insert(signature.to_owned(), (expires, org));
        // Keep `order` sorted by expiry so the purge stops early.
        let at = self.order.partition_point(|(e, _)| *e <= expires);
        self.order.insert(at, (expires, signature.to_owned()));
        Ok(())
    }

    /// Forgets every signature whose window has closed by `now`.
    fn purge(&mut self, now: SystemTime) {
        while self.order.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, sig)) = self.order.pop_front()
                && let Some((_, org)) = self.expiry.remove(&sig)
            {
                self.uncount(&org);
            }
        }
    }

    /// Forgets `signature` (its STS call failed), from the map and the queue.
    fn release(&mut self, signature: &str) {
        let Some((expires, org)) = self.expiry.remove(signature) else {
            return;
        };
        self.uncount(&org);
        let start = self.order.partition_point(|(e, _)| *e < expires);
        let found = self
            .order
            .range(start..)
            .take_while(|(e, _)| *e == expires)
            .position(|(_, s)| s == signature);
        if let Some(offset) = found {
            self.order.remove(start + offset);
        }
    }

    /// One entry of `org` fewer.
    fn uncount(&mut self, org: &str) {
        if let Some(n) = self.per_org.get_mut(org) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_org.remove(org);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(capacity: usize, per_org: usize) -> Bounds {
        Bounds { capacity, per_org }
    }

    #[test]
    fn replay_cache_remembers_until_expiry() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let b2 = bounds(2, 2);
        let mut c = ReplayCache::default();
        c.reserve("a", "o", t0 + Duration::from_secs(10), t0, b2)
            .unwrap();
        assert_eq!(
            c.reserve("a", "o", t0 + Duration::from_secs(10), t0, b2),
            Err(VerifyError::Replayed)
        );
        c.reserve("b", "o", t0 + Duration::from_secs(20), t0, b2)
            .unwrap();
        assert_eq!(
            c.reserve("c", "o", t0 + Duration::from_secs(20), t0, b2),
            Err(VerifyError::ReplayCacheFull)
        );
        let later = t0 + Duration::from_secs(11);
        c.reserve("c", "o", later + Duration::from_secs(20), later, b2)
            .unwrap();
        c.reserve(
            "a",
            "o",
            later + Duration::from_secs(5),
            later + Duration::from_secs(1),
            bounds(3, 3),
        )
        .unwrap();
        c.release("a");
        assert_eq!(c.expiry.len(), 2);
        assert_eq!(c.order.len(), 2);
        assert_eq!(c.per_org.get("o"), Some(&2));
    }

    /// Many reservations, releases and expiries across orgs: the queue never
    /// outgrows the capacity, no org its share, and the queue and the counts
    /// always agree with the map.
    #[test]
    fn replay_cache_queue_stays_bounded() {
        const CAPACITY: usize = 16;
        const SHARE: usize = 7;
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut c = ReplayCache::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let orgs = ["org-a", "org-b", "org-c"];
        for step in 0..20_000u64 {
            let now = t0 + Duration::from_secs(step / 4);
            let org = orgs[rng.usize(0..orgs.len())];
            let sig = format!("sig{}", rng.u32(0..64));
            let expires = now + Duration::from_secs(rng.u64(0..30));
            let b = bounds(CAPACITY, SHARE);
            let reserved = c.reserve(&sig, org, expires, now, b).is_ok();
            // Every third accepted proof fails at STS and is released; the
            // same signature then comes back (the client retries).
            if reserved && rng.u8(0..3) == 0 {
                c.release(&sig);
                let _ = c.reserve(&sig, org, expires, now, b);
            }
            assert!(c.order.len() <= CAPACITY, "step {step}: {}", c.order.len());
            assert_eq!(c.order.len(), c.expiry.len(), "step {step}");
            assert!(
                c.order
                    .iter()
                    .all(|(e, s)| c.expiry.get(s).map(|v| v.0) == Some(*e))
            );
            assert!(
                c.order
                    .iter()
                    .zip(c.order.iter().skip(1))
                    .all(|(a, b)| a.0 <= b.0)
            );
            assert!(c.per_org.values().all(|n| (1..=SHARE).contains(n)));
            assert_eq!(c.per_org.values().sum::<usize>(), c.expiry.len());
            for (org, n) in &c.per_org {
                let held = c.expiry.values().filter(|(_, o)| o == org).count();
                assert_eq!(held, *n, "step {step}: {org}");
            }
        }
    }

    /// Org A filling its share is refused; org B is not, and A gets room
    /// again as its entries expire.
    #[test]
    fn one_org_filling_its_share_does_not_refuse_another() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let b = bounds(10, 4);
        let mut c = ReplayCache::default();
        let expires = t0 + Duration::from_secs(60);
        let mut accepted = 0;
        for i in 0..10 {
            if c.reserve(&format!("a{i}"), "org-a", expires, t0, b).is_ok() {
                accepted += 1;
            } else {
                assert_eq!(
                    c.reserve(&format!("a{i}"), "org-a", expires, t0, b),
                    Err(VerifyError::ReplayCacheFull)
                );
            }
        }
        assert_eq!(accepted, 4);
        for i in 0..4 {
            c.reserve(&format!("b{i}"), "org-b", expires, t0, b)
                .unwrap();
        }
        assert_eq!(
            c.reserve("b4", "org-b", expires, t0, b),
            Err(VerifyError::ReplayCacheFull)
        );
        // The global bound still holds: two more orgs of 1 fill it.
        c.reserve("c0", "org-c", expires, t0, b).unwrap();
        c.reserve("d0", "org-d", expires, t0, b).unwrap();
        assert_eq!(
            c.reserve("e0", "org-e", expires, t0, b),
            Err(VerifyError::ReplayCacheFull)
        );
        let later = expires;
        c.reserve(
            "a-later",
            "org-a",
            later + Duration::from_secs(60),
            later,
            b,
        )
        .unwrap();
        assert_eq!(c.per_org.get("org-a"), Some(&1));
        assert!(!c.per_org.contains_key("org-b"));
    }

    #[test]
    fn the_default_share_is_half_the_capacity() {
        assert_eq!(ReplayConfig::default().org_share(), 50_000);
        let small = ReplayConfig {
            capacity: 1,
            ..ReplayConfig::default()
        };
        assert_eq!(small.org_share(), 1);
        let set = ReplayConfig {
            per_org_capacity: Some(3),
            ..ReplayConfig::default()
        };
        assert_eq!(set.org_share(), 3);
        let zero = VerifierConfig {
            replay: ReplayConfig {
                per_org_capacity: Some(0),
                ..ReplayConfig::default()
            },
            ..VerifierConfig::default()
        };
        assert!(matches!(
            Verifier::new(zero),
            Err(ConfigError::ReplayShare { .. })
        ));
        assert!(matches!(
            Verifier::from_ron("(replay: (capacity: 10, per_org_capacity: Some(11)))"),
            Err(ConfigError::ReplayShare { .. })
        ));
    }

    /// Through the verifier, with proofs STS accepts: the cases the cache
    /// exists for.
    #[cfg(feature = "sign")]
    mod with_sts {
        use super::*;
        use crate::auth::proof::sign::{AwsCredentials, make_proof};
        use crate::auth::sts::{StsRequest, StsResponse, TransportError};

        /// An STS that accepts every proof.
        struct AcceptingSts;

        impl Transport for AcceptingSts {
            fn send(&self, _: &StsRequest<'_>) -> Result<StsResponse, TransportError> {
                let body = br#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#;
                Ok(StsResponse {
                    status: 200,
                    body: body.to_vec(),
                })
            }
        }

        fn verifier(ron: &str) -> Verifier {
            let config: VerifierConfig = ron::from_str(ron).unwrap();
            Verifier::with_transport(config, Arc::new(AcceptingSts)).unwrap()
        }

        /// A distinct proof (its own key, so its own signature) for `org`, dated `at`.
        fn proof(n: usize, org: &str, at: SystemTime) -> String {
            let creds = AwsCredentials {
                access_key_id: format!("AKIAEXAMPLE{n:09}"),
                secret_access_key: format!("secret-{n}"),
                session_token: None,
            };
            make_proof(&creds, org, None, at).unwrap()
        }

        fn t0() -> SystemTime {
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        }

        /// Only the replay settings every version of the configuration has:
        /// one org's valid traffic must not fill the cache for all.
        #[test]
        fn org_a_filling_the_cache_does_not_refuse_org_b() {
            let v = verifier("(replay: (enabled: true, capacity: 20))");
            let now = t0();
            let mut full = 0;
            for n in 0..20 {
                match v.verify(&proof(n, "org-a", now), "org-a", now) {
                    Ok(_) => {}
                    Err(VerifyError::ReplayCacheFull) => full += 1,
                    Err(e) => panic!("org-a proof {n}: {e}"),
                }
            }
            assert!(full > 0, "org-a was never held to its share");
            for n in 100..102 {
                v.verify(&proof(n, "org-b", now), "org-b", now)
                    .unwrap_or_else(|e| panic!("org-b refused: {e}"));
            }
        }

        /// A proof is remembered for as long as the pre-checks accept it,
        /// the last fraction of a second included.
        #[test]
        fn a_proof_is_remembered_while_it_is_accepted() {
            let v = verifier("(proof: (max_skew_secs: 60), replay: (enabled: true))");
            let at = t0();
            let raw = proof(1, "org-a", at);
            v.verify(&raw, "org-a", at).unwrap();
            let last = at + Duration::from_millis(60_999);
            assert!(v.precheck(&raw, "org-a", last).is_ok());
            assert_eq!(
                v.verify(&raw, "org-a", last).map(|_| ()),
                Err(VerifyError::Replayed)
            );
            let gone = at + Duration::from_secs(61);
            assert!(v.precheck(&raw, "org-a", gone).is_err());
            v.cache().purge(gone);
            assert!(v.cache().expiry.is_empty());
        }

        /// A proof dated as far ahead as the pre-checks allow: its entry
        /// lives until the proof's own window closes (so it cannot be
        /// replayed in it) and never past now + 2 × skew + 2 s.
        #[test]
        fn a_future_dated_proofs_entry_lives_no_longer_than_its_window() {
            let skew = 60;
            let v = verifier("(proof: (max_skew_secs: 60), replay: (enabled: true))");
            let now = t0() + Duration::from_millis(250);
            // The furthest ahead the date check allows: 60.75 s.
            let signed = t0() + Duration::from_secs(skew + 1);
            let raw = proof(2, "org-a", signed);
            v.verify(&raw, "org-a", now).unwrap();
            let expires = v.cache().expiry.values().next().unwrap().0;
            assert!(expires <= now + Duration::from_secs(2 * skew + 2));
            assert_eq!(expires, signed + Duration::from_secs(skew + 1));
            // Still accepted by the pre-checks until then, and refused as replayed.
            let late = expires - Duration::from_millis(1);
            assert!(v.precheck(&raw, "org-a", late).is_ok());
            assert_eq!(
                v.verify(&raw, "org-a", late).map(|_| ()),
                Err(VerifyError::Replayed)
            );
            // From then on the pre-checks refuse it, and the entry is gone.
            assert!(v.precheck(&raw, "org-a", expires).is_err());
            v.cache().purge(expires);
            assert!(v.cache().expiry.is_empty());
            assert!(v.cache().per_org.is_empty());
        }
    }

    #[test]
    fn config_parses_from_ron() {
        let cfg: VerifierConfig = ron::from_str(
            r#"(proof: (max_skew_secs: 60, partitions: ["aws"]), sts: (retries: 0, overrides: {"sts.amazonaws.com": "http://127.0.0.1:9"}), replay: (enabled: true))"#,
        )
        .unwrap();
        assert_eq!(cfg.proof.max_skew_secs, 60);
        assert_eq!(cfg.proof.org_header, "x-ddog-org-id");
        assert!(cfg.replay.enabled);
        assert!(Verifier::new(cfg).is_ok());
        assert!(Verifier::from_ron("(proof: (partitions: [\"aws-xx\"]))").is_err());
        assert!(
            Verifier::from_ron("(proof: (regions: [\"cn-north-1\"], partitions: [\"aws\"]))")
                .is_err()
        );
        assert!(Verifier::from_ron("(nope: 1)").is_err());
        assert!(
            Verifier::from_ron("(sts: (overrides: {\"evil.com\": \"http://127.0.0.1:1\"}))")
                .is_err()
        );
    }
}
