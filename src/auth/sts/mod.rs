//! The STS exchange: replaying a checked proof and reading the answer.
//!
//! - [`Transport`] is the seam an auth service plugs its own HTTP client into
//!   (sync; call it from `spawn_blocking`). [`HttpTransport`] is the default:
//!   ureq over rustls, no redirects, no proxy, timeouts and a size cap.
//! - [`xml`] parses `GetCallerIdentityResponse` and `ErrorResponse`.
//! - [`exchange`] retries throttling and 5xx (only those) with jittered
//!   backoff, maps errors to [`StsError`], and checks the result with
//!   [`CallerIdentity::from_sts`](crate::arn::identity::CallerIdentity::from_sts).

pub mod http;
pub mod replay;
pub mod xml;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use http::HttpTransport;
pub use replay::{RetryPolicy, call_sts};
pub use xml::XmlError;

use crate::arn::identity::IdentityError;
use crate::arn::partition::Partition;

/// One request to replay: to `https://{host}/` (or the host's override).
#[derive(Debug, Clone, Copy)]
pub struct StsRequest<'a> {
    /// The allowlisted STS host the proof names; also the Host header.
    pub host: &'a str,
    /// Headers, names as the client spelled them, Host included. No
    /// `Content-Length`: the transport sends the body's length.
    pub headers: &'a [(String, String)],
    /// The body, byte for byte.
    pub body: &'a [u8],
}

/// What came back: status and (size-capped) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsResponse {
    /// HTTP status.
    pub status: u16,
    /// The body, at most the transport's cap.
    pub body: Vec<u8>,
}

/// Sends a request to STS. Implementations must not follow redirects, must
/// bound the time they take and the bytes they read, and must send only to
/// the request's host (or an override configured for it).
pub trait Transport: Send + Sync {
    /// Sends one request, without retrying.
    fn send(&self, request: &StsRequest<'_>) -> Result<StsResponse, TransportError>;
}

/// A request that got no complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The connection could not be made.
    #[error("could not connect to STS: {0}")]
    Connect(String),
    /// A timeout elapsed (connect, response or body).
    #[error("STS timed out: {0}")]
    Timeout(String),
    /// The response body exceeded the cap.
    #[error("the STS response exceeded {0} bytes")]
    TooLarge(u64),
    /// Any other I/O, TLS or protocol failure.
    #[error("STS request failed: {0}")]
    Io(String),
}

/// The STS exchange failed: no identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StsError {
    /// No response (see [`TransportError`]).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// STS computed another signature (`SignatureDoesNotMatch`): the proof was altered.
    #[error("STS rejected the signature: {0}")]
    BadSignature(String),
    /// The credentials or the request have expired (`ExpiredToken`, `RequestExpired`).
    #[error("STS reports the credentials or request expired ({code}): {message}")]
    Expired {
        /// The STS error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The access key or session token is unknown or invalid.
    #[error("STS rejected the credentials ({code}): {message}")]
    InvalidToken {
        /// The STS error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// Still throttled after every retry.
    #[error("STS throttled the request {attempts} times")]
    Throttled {
        /// Attempts made.
        attempts: u32,
    },
    /// Still failing with 5xx after every retry.
    #[error("STS unavailable (status {status}) after {attempts} attempts")]
    Unavailable {
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// STS answered with a redirect; redirects are never followed.
    #[error("STS answered with redirect status {0}; redirects are never followed")]
    Redirect(u16),
    /// Another STS error.
    #[error("STS refused the request (status {status}, {code}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The STS error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The response could not be understood.
    #[error("malformed STS response (status {status}): {reason}")]
    Malformed {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        #[source]
        reason: MalformedResponse,
    },
    /// The result is not a consistent caller identity (docs/semantics.md §1).
    #[error("STS returned an invalid caller identity: {0}")]
    Identity(#[from] IdentityError),
    /// The caller's partition is not the STS host's.
    #[error("STS host of partition `{host}` returned a caller of partition `{caller}`")]
    PartitionMismatch {
        /// The host's partition.
        host: Partition,
        /// The caller's.
        caller: Partition,
    },
}

impl StsError {
    /// A stable name for the failure (the variant's name).
    pub const fn code(&self) -> &'static str {
        match self {
            StsError::Transport(TransportError::Connect(_)) => "Connect",
            StsError::Transport(TransportError::Timeout(_)) => "Timeout",
            StsError::Transport(TransportError::TooLarge(_)) => "TooLarge",
            StsError::Transport(TransportError::Io(_)) => "Io",
            StsError::BadSignature(_) => "BadSignature",
            StsError::Expired { .. } => "Expired",
            StsError::InvalidToken { .. } => "InvalidToken",
            StsError::Throttled { .. } => "Throttled",
            StsError::Unavailable { .. } => "Unavailable",
            StsError::Redirect(_) => "Redirect",
            StsError::Rejected { .. } => "Rejected",
            StsError::Malformed { .. } => "Malformed",
            StsError::Identity(_) => "Identity",
            StsError::PartitionMismatch { .. } => "PartitionMismatch",
        }
    }
}

/// What was wrong with an STS response that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedResponse {
    /// The body is not an STS answer.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// A `GetCallerIdentityResult` came with a status other than 200.
    #[error("a GetCallerIdentityResult with status {0}, not 200")]
    ResultWithStatus(u16),
}

/// Timeouts, caps and retries of the STS call. Every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StsConfig {
    /// TCP + TLS connect timeout, ms. Default 2000.
    pub connect_timeout_ms: u64,
    /// Time to the response headers after sending, ms. Default 5000.
    pub response_timeout_ms: u64,
    /// Time to read the whole body, ms. Default 5000.
    pub body_timeout_ms: u64,
    /// The largest response body read, bytes. Default 64 KiB (a real
    /// response is under 1 KiB).
    pub max_response_bytes: u64,
    /// Retries after throttling or 5xx (so at most `retries + 1` attempts).
    /// Default 2.
    pub retries: u32,
    /// First backoff, ms; doubled each retry, jittered to 50–100 %. Default 100.
    pub backoff_base_ms: u64,
    /// Backoff ceiling, ms. Default 1000.
    pub backoff_max_ms: u64,
    /// Host → base URL (`"sts.amazonaws.com": "http://127.0.0.1:5000"`): where
    /// the bytes for that host go. Never widens the allowlist: the proof must
    /// still name an allowlisted host, which is also the Host header sent.
    /// `http://` is accepted only for loopback addresses.
    pub overrides: std::collections::BTreeMap<String, String>,
}

impl Default for StsConfig {
    fn default() -> Self {
        StsConfig {
            connect_timeout_ms: 2000,
            response_timeout_ms: 5000,
            body_timeout_ms: 5000,
            max_response_bytes: 64 * 1024,
            retries: 2,
            backoff_base_ms: 100,
            backoff_max_ms: 1000,
            overrides: Default::default(),
        }
    }
}

impl StsConfig {
    /// The retry policy part.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.retries,
            base: Duration::from_millis(self.backoff_base_ms),
            max: Duration::from_millis(self.backoff_max_ms),
        }
    }
}
