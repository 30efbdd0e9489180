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

#[cfg(feature = "token")]
pub use checks::bound_org;
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

/// A proof that passed every pre-check: what to replay, and what it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProof {
    /// The STS host it was signed for (and its partition and region).
    pub host: StsHost,
    /// Headers to replay, names as the client spelled them: the signed ones,
    /// `Authorization` and `User-Agent`. `Content-Length` is left out: the
    /// transport must send the body's length (it was checked to agree).
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// The parsed `Authorization`.
    pub authorization: Authorization,
    /// `X-Amz-Date`.
    pub signed_at: SystemTime,
    /// The org the proof is bound to.
    pub org: String,
}

impl CheckedProof {
    /// The value of a replayed header, looked up case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
