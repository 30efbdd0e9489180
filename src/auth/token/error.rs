//! Why a token could not be issued or was not accepted.

/// Token and key errors. Verification failures each have their own variant so
/// a log line says which check refused the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
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
    /// Issuing failed while signing.
    #[error("could not sign the token: {0}")]
    Sign(String),
    /// A key could not be generated, read or written.
    #[error("key {path}: {reason}")]
    Key {
        /// The file or key concerned.
        path: String,
        /// Why.
        reason: String,
    },
    /// The configuration is not usable.
    #[error("token configuration: {0}")]
    Config(String),
}

impl TokenError {
    /// A stable short name for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "malformed",
            TokenError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            TokenError::MissingKeyId => "missing_kid",
            TokenError::UnknownKeyId(_) => "unknown_kid",
            TokenError::AlgorithmMismatch { .. } => "algorithm_mismatch",
            TokenError::Signature => "signature",
            TokenError::Issuer => "issuer",
            TokenError::Audience => "audience",
            TokenError::Claims(_) => "claims",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::Sign(_) => "sign",
            TokenError::Key { .. } => "key",
            TokenError::Config(_) => "config",
        }
    }
}
