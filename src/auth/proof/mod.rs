//! Proofs: decoding the Datadog wire format and every pre-check of docs/semantics.md §5.
//!
//! Pure: no I/O and no clock reads. [`precheck`] takes the current time as a
//! parameter, which makes it a ready fuzz target:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use arnmap::{precheck, PrecheckConfig, ProofError};
//! let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
//! let err = precheck("not a proof", "org", now, &PrecheckConfig::default()).unwrap_err();
//! assert!(matches!(err, ProofError::Parts(1)));
//! ```
//!
//! Decisions where the spec is silent, all fail-closed:
//! - The body must be exactly `Action=GetCallerIdentity&Version=2011-06-15`
//!   or the same two parameters in the other order; nothing else (no extra
//!   parameter, no trailing `&`, no percent-encoding variants).
//! - Every header carries exactly one value, and no name appears twice
//!   (case-insensitively). Framing and hop-by-hop headers are refused.
//! - The URL may be `https://HOST` or `https://HOST/`: the Python client
//!   signs the former; both are posted to `/`.
//! - Headers that are neither signed nor `Authorization`/`User-Agent` are
//!   dropped, never replayed: they cannot change what STS checks.

mod checks;
mod error;
pub mod host;
#[cfg(feature = "sign")]
pub mod sign;
pub mod sigv4;
pub mod wire;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use checks::precheck;
pub use error::ProofError;
pub use host::{StsHost, parse_sts_host};
pub use sigv4::Authorization;

/// At most this many headers in a proof.
pub const MAX_HEADERS: usize = 32;
/// The GetCallerIdentity body every Datadog client sends.
pub const GET_CALLER_IDENTITY_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// The default org binding header.
pub const DEFAULT_ORG_HEADER: &str = "x-ddog-org-id";

/// What the pre-checks accept. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrecheckConfig {
    /// The longest proof accepted, in bytes. Default 16 KiB (a proof with a
    /// long session token is about 3 KiB).
    pub max_proof_bytes: usize,
    /// How far `X-Amz-Date` may be from now, either way, in seconds.
    /// Default 900 (15 minutes, the window STS itself applies).
    pub max_skew_secs: u64,
    /// The header that binds the proof to an org; it must be signed.
    /// Default `x-ddog-org-id`. Compared case-insensitively.
    pub org_header: String,
    /// Partitions whose STS hosts are accepted, by name (`aws`, `aws-cn`…).
    /// Default: all eight.
    pub partitions: Vec<String>,
    /// Regions whose STS hosts are accepted. Empty (the default) accepts
    /// every well-formed region of an allowed partition.
    pub regions: Vec<String>,
}

impl Default for PrecheckConfig {
    fn default() -> Self {
        PrecheckConfig {
            max_proof_bytes: 16 * 1024,
            max_skew_secs: 900,
            org_header: DEFAULT_ORG_HEADER.to_owned(),
            partitions: crate::arn::partition::Partition::ALL
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            regions: Vec::new(),
        }
    }
}

/// A proof decoded from the wire format, nothing checked yet beyond its size
/// and encoding. Decode once, read the org it claims ([`DecodedProof::bound_org`])
/// to pick that org's policy, then run the pre-checks
/// ([`DecodedProof::precheck`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedProof {
    raw: wire::RawProof,
}

impl DecodedProof {
    /// Checks the proof's size against `cfg` and decodes its four parts.
    pub fn decode(raw: &str, cfg: &PrecheckConfig) -> Result<DecodedProof, ProofError> {
        if raw.len() > cfg.max_proof_bytes {
            return Err(ProofError::TooLarge {
                len: raw.len(),
                max: cfg.max_proof_bytes,
            });
        }
        Ok(DecodedProof {
            raw: wire::decode(raw)?,
        })
    }

    /// The org the proof says it is for: the first value of its org binding
    /// header (`cfg.org_header`), if any. It proves nothing by itself:
    /// [`DecodedProof::precheck`] with this org then checks that the header
    /// is signed, single and well formed.
    pub fn bound_org(&self, cfg: &PrecheckConfig) -> Option<&str> {
        self.raw
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&cfg.org_header))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }

    /// Runs every pre-check against the org asked for (see [`precheck`]).
    pub fn precheck(
        self,
        org: &str,
        now: SystemTime,
        cfg: &PrecheckConfig,
    ) -> Result<CheckedProof, ProofError> {
        checks::run(self.raw, org, now, cfg)
    }
}

/// A proof that passed every pre-check: what to replay, and what it claims.
///
/// Only [`precheck`] (or [`DecodedProof::precheck`]) makes one, so holding a
/// `CheckedProof` means the checks ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProof {
    host: StsHost,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    authorization: Authorization,
    signed_at: SystemTime,
    org: String,
}

impl CheckedProof {
    /// The STS host it was signed for (and its partition and region).
    pub fn host(&self) -> &StsHost {
        &self.host
    }

    /// Headers to replay, names as the client spelled them: the signed ones,
    /// `Authorization` and `User-Agent`. `Content-Length` is left out: the
    /// transport must send the body's length (it was checked to agree).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The value of a replayed header, looked up case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body, byte for byte.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The parsed `Authorization`.
    pub fn authorization(&self) -> &Authorization {
        &self.authorization
    }

    /// `X-Amz-Date`.
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// The org the proof is bound to.
    pub fn org(&self) -> &str {
        &self.org
    }
}
