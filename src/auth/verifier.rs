//! The [`Verifier`]: pre-checks, replay protection, the STS exchange, in that
//! order, configured from RON.
//!
//! ```ron
//! (
//!     proof: (max_skew_secs: 900, org_header: "x-ddog-org-id", partitions: ["aws"], regions: []),
//!     sts: (connect_timeout_ms: 2000, response_timeout_ms: 5000, retries: 2,
//!           overrides: {"sts.amazonaws.com": "http://127.0.0.1:5000"}),
//!     replay: (enabled: false, capacity: 100000),
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
//! bounded by `replay.capacity`; when it is full of live entries new proofs
//! are refused ([`VerifyError::ReplayCacheFull`]) rather than forgetting an
//! old one. Off by default because Datadog's clients re-sign for each token
//! request anyway and a shared deployment needs a shared store.

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
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            enabled: false,
            capacity: 100_000,
        }
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
    /// The replay cache is full of live entries; refusing rather than forgetting.
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
        })
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
            let window = Duration::from_secs(self.config.proof.max_skew_secs);
            let expires = checked.signed_at().checked_add(window).unwrap_or(now);
            self.cache().reserve(
                &checked.authorization().signature,
                expires,
                now,
                self.config.replay.capacity,
            )?;
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
    Ok(())
}

/// Signatures seen, each until its window closes.
///
/// Invariant: `order` holds exactly the entries of `expiry` (one
/// `(expires, signature)` per signature), sorted by expiry; so neither ever
/// holds more than `capacity` entries.
#[derive(Debug, Default)]
struct ReplayCache {
    expiry: HashMap<String, SystemTime>,
    order: VecDeque<(SystemTime, String)>,
}

impl ReplayCache {
    fn reserve(
        &mut self,
        signature: &str,
        expires: SystemTime,
        now: SystemTime,
        capacity: usize,
    ) -> Result<(), VerifyError> {
        self.purge(now);
        if self.expiry.contains_key(signature) {
            return Err(VerifyError::Replayed);
        }
        if self.expiry.len() >= capacity {
            return Err(VerifyError::ReplayCacheFull);
        }
        self.expiry.insert(signature.to_owned(), expires);
        // Keep `order` sorted by expiry so the purge stops early.
        let at = self.order.partition_point(|(e, _)| *e <= expires);
        self.order.insert(at, (expires, signature.to_owned()));
        Ok(())
    }

    /// Forgets every signature whose window has closed by `now`.
    fn purge(&mut self, now: SystemTime) {
        while self.order.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, sig)) = self.order.pop_front() {
                self.expiry.remove(&sig);
            }
        }
    }

    /// Forgets `signature` (its STS call failed), from the map and the queue.
    fn release(&mut self, signature: &str) {
        let Some(expires) = self.expiry.remove(signature) else {
            return;
        };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_cache_remembers_until_expiry() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut c = ReplayCache::default();
        c.reserve("a", t0 + Duration::from_secs(10), t0, 2).unwrap();
        assert_eq!(
            c.reserve("a", t0 + Duration::from_secs(10), t0, 2),
            Err(VerifyError::Replayed)
        );
        c.reserve("b", t0 + Duration::from_secs(20), t0, 2).unwrap();
        assert_eq!(
            c.reserve("c", t0 + Duration::from_secs(20), t0, 2),
            Err(VerifyError::ReplayCacheFull)
        );
        let later = t0 + Duration::from_secs(11);
        c.reserve("c", later + Duration::from_secs(20), later, 2)
            .unwrap();
        c.reserve(
            "a",
            later + Duration::from_secs(5),
            later + Duration::from_secs(1),
            3,
        )
        .unwrap();
        c.release("a");
        assert_eq!(c.expiry.len(), 2);
        assert_eq!(c.order.len(), 2);
    }

    /// Many reservations, releases and expiries: the queue never outgrows the
    /// capacity and always holds exactly the map's entries.
    #[test]
    fn replay_cache_queue_stays_bounded() {
        const CAPACITY: usize = 16;
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut c = ReplayCache::default();
        let mut rng = fastrand::Rng::with_seed(7);
        for step in 0..20_000u64 {
            let now = t0 + Duration::from_secs(step / 4);
            let sig = format!("sig{}", rng.u32(0..64));
            let expires = now + Duration::from_secs(rng.u64(0..30));
            let reserved = c.reserve(&sig, expires, now, CAPACITY).is_ok();
            // Every third accepted proof fails at STS and is released; the
            // same signature then comes back (the client retries).
            if reserved && rng.u8(0..3) == 0 {
                c.release(&sig);
                let _ = c.reserve(&sig, expires, now, CAPACITY);
            }
            assert!(c.order.len() <= CAPACITY, "step {step}: {}", c.order.len());
            assert_eq!(c.order.len(), c.expiry.len(), "step {step}");
            assert!(c.order.iter().all(|(e, s)| c.expiry.get(s) == Some(e)));
            assert!(
                c.order
                    .iter()
                    .zip(c.order.iter().skip(1))
                    .all(|(a, b)| a.0 <= b.0)
            );
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
