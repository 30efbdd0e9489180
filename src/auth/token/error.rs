//! Why a token was not accepted, could not be issued, or a key could not be
//! made, read or stored: one error type per operation.

/// Why [`TokenIssuer::verify`](super::TokenIssuer::verify) refused a token.
/// Each check has its own variant so a log line says which one refused it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyTokenError {
    /// The token is not three base64url parts with a JSON header, or its
    /// header names an algorithm this crate does not know (`alg: none` lands here).
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header names an algorithm none of our verification keys uses.
    #[error("algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    /// The header has no `kid`.
    #[error("the token has no key id (kid)")]
    MissingKeyId,
    /// No verification key has this `kid`.
    #[error("unknown key id {0:?}")]
    UnknownKeyId(String),
    /// The header's algorithm is not the algorithm of the key its `kid` names
    /// (algorithm confusion).
    #[error("algorithm {header} does not match key {kid} ({key})")]
    AlgorithmMismatch {
        /// What the header claims.
        header: String,
        /// The key id.
        kid: String,
        /// The key's algorithm.
        key: String,
    },
    /// The signature does not verify.
    #[error("invalid signature")]
    Signature,
    /// `iss` is not ours.
    #[error("wrong issuer")]
    Issuer,
    /// `aud` is not ours.
    #[error("wrong audience")]
    Audience,
    /// A required claim is missing or has the wrong type.
    #[error("invalid claims: {0}")]
    Claims(String),
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` (or `iat`) is in the future.
    #[error("token not yet valid")]
    NotYetValid,
}

impl VerifyTokenError {
    /// A stable short name for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyTokenError::Malformed(_) => "malformed",
            VerifyTokenError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            VerifyTokenError::MissingKeyId => "missing_kid",
            VerifyTokenError::UnknownKeyId(_) => "unknown_kid",
            VerifyTokenError::AlgorithmMismatch { .. } => "algorithm_mismatch",
            VerifyTokenError::Signature => "signature",
            VerifyTokenError::Issuer => "issuer",
            VerifyTokenError::Audience => "audience",
            VerifyTokenError::Claims(_) => "claims",
            VerifyTokenError::Expired => "expired",
            VerifyTokenError::NotYetValid => "not_yet_valid",
        }
    }
}

/// Why a [`TokenIssuer`](super::TokenIssuer) could not be built or could not
/// sign a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The token configuration is not usable.
    #[error("token configuration: {0}")]
    Config(String),
    /// The key ring has no usable signing key.
    #[error("{0}")]
    Key(#[from] KeyStoreError),
    /// Signing failed.
    #[error("could not sign the token: {0}")]
    Sign(String),
}

impl IssueError {
    /// A stable short name for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            IssueError::Config(_) => "config",
            IssueError::Key(e) => e.code(),
            IssueError::Sign(_) => "sign",
        }
    }
}

/// Why a key could not be generated, parsed, read or written, or a key ring
/// is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// A key could not be generated, read or written.
    #[error("key {path}: {reason}")]
    Key {
        /// The file or key concerned.
        path: String,
        /// Why.
        reason: String,
    },
    /// The key configuration is not usable (an unknown algorithm, a ring
    /// without its signing key, a stored key of another algorithm).
    #[error("token configuration: {0}")]
    Config(String),
}

impl KeyStoreError {
    /// A stable short name for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            KeyStoreError::Key { .. } => "key",
            KeyStoreError::Config(_) => "config",
        }
    }
}
