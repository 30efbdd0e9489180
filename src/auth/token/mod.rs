//! Tokens: short-lived JWTs naming the account a caller was mapped to
//! (docs/semantics.md §6), signed with `jsonwebtoken`, and their JWKS.
//!
//! Verification checks, in this order: the header parses and names an
//! algorithm (`alg: none` does not parse); the algorithm is one some key of
//! ours uses; the header has a `kid` we know; the header's algorithm is that
//! key's algorithm (no algorithm confusion: an HS256 token "signed" with our
//! public key is refused before any crypto); the signature; then the claims —
//! issuer, audience, the required claims, `nbf`/`iat` not in the future and
//! `exp` not past, each with [`TokenConfig::leeway_secs`].

mod error;
pub mod keys;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use error::{IssueError, KeyStoreError, VerifyTokenError};
pub use keys::{KeyPair, KeyRing, SigningAlgorithm};

/// Token settings. Every field has a documented default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// `iss` of every token, and the only issuer accepted. Default `"arnmap"`.
    pub issuer: String,
    /// `aud` of every token, and the only audience accepted. Default `"arnmap-api"`.
    pub audience: String,
    /// Lifetime in seconds. Default 900 (15 minutes); at most 43 200 (12 h).
    pub lifetime_secs: u64,
    /// Clock tolerance when checking `exp`, `nbf` and `iat`. Default 30 s.
    pub leeway_secs: u64,
    /// The algorithm of generated keys. Default `EdDSA`.
    pub algorithm: SigningAlgorithm,
    /// A PKCS#8 PEM signing key to use instead of the generated key ring in
    /// the data dir. Default none.
    pub signing_key: Option<PathBuf>,
    /// More PKCS#8 PEM keys whose tokens are still accepted (rotation).
    /// Default none.
    pub verification_keys: Vec<PathBuf>,
}

/// The longest lifetime a configuration may ask for.
pub const MAX_LIFETIME_SECS: u64 = 12 * 3600;

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            issuer: "arnmap".into(),
            audience: "arnmap-api".into(),
            lifetime_secs: 900,
            leeway_secs: 30,
            algorithm: SigningAlgorithm::EdDSA,
            signing_key: None,
            verification_keys: Vec::new(),
        }
    }
}

/// The claims of an arnmap token (docs/semantics.md §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The account identifier the caller was mapped to.
    pub sub: String,
    /// The org the token is for.
    pub org: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Not before, unix seconds.
    pub nbf: u64,
    /// A fresh UUID per token.
    pub jti: String,
    /// The caller's ARN as STS reported it.
    pub aws_arn: String,
    /// The caller's AWS account.
    pub aws_account: String,
    /// The id of the rule that mapped the caller.
    pub rule: String,
}

/// Who a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    /// The account identifier (becomes `sub`).
    pub account: String,
    /// The org.
    pub org: String,
    /// The caller's ARN.
    pub aws_arn: String,
    /// The caller's AWS account.
    pub aws_account: String,
    /// The rule that decided.
    pub rule: String,
}

/// A signed token and what it says.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its claims.
    pub claims: Claims,
}

/// Issues and verifies tokens. `Send + Sync`; share one per process.
#[derive(Debug)]
pub struct TokenIssuer {
    config: TokenConfig,
    ring: KeyRing,
    /// Public keys other issuers (replicas) published: they verify and are
    /// listed in the JWKS, never sign.
    peers: ArcSwap<Vec<PeerKey>>,
}

/// A public verification key of another issuer.
#[derive(Clone)]
struct PeerKey {
    kid: String,
    algorithm: SigningAlgorithm,
    jwk: Jwk,
    decoding: DecodingKey,
}

impl std::fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenIssuer {
    /// An issuer over `ring`, after checking `config`.
    pub fn new(config: TokenConfig, ring: KeyRing) -> Result<TokenIssuer, IssueError> {
        if config.lifetime_secs == 0 || config.lifetime_secs > MAX_LIFETIME_SECS {
            return Err(IssueError::Config(format!(
                "lifetime_secs must be between 1 and {MAX_LIFETIME_SECS}, not {}",
                config.lifetime_secs
            )));
        }
        if config.issuer.is_empty() || config.audience.is_empty() {
            return Err(IssueError::Config(
                "issuer and audience must not be empty".into(),
            ));
        }
        ring.signing_key()?;
        Ok(TokenIssuer {
            config,
            ring,
            peers: ArcSwap::from_pointee(Vec::new()),
        })
    }

    /// Replaces the public keys other issuers published (`(algorithm, JWK
    /// JSON)`, as [`SigningAlgorithm`] names them): they verify tokens and are
    /// listed in the JWKS beside the ring's keys. Keys of the ring, and keys
    /// that do not parse (logged), are skipped. Returns how many are in use.
    pub(crate) fn set_peer_keys(&self, published: &[(String, String)]) -> usize {
        let mut peers: Vec<PeerKey> = Vec::new();
        for (algorithm, json) in published {
            let parsed = (|| -> Result<PeerKey, String> {
                let algorithm: SigningAlgorithm = algorithm.parse().map_err(|e| format!("{e}"))?;
                let jwk: Jwk = serde_json::from_str(json).map_err(|e| e.to_string())?;
                let kid = jwk.common.key_id.clone().ok_or("no kid")?;
                let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
                Ok(PeerKey {
                    kid,
                    algorithm,
                    jwk,
                    decoding,
                })
            })();
            match parsed {
                Ok(key) => {
                    if self.ring.get(&key.kid).is_none() && !peers.iter().any(|p| p.kid == key.kid)
                    {
                        peers.push(key);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a published verification key is not usable; skipped")
                }
            }
        }
        let n = peers.len();
        self.peers.store(std::sync::Arc::new(peers));
        n
    }

    /// The configuration.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    /// The key ring.
    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// Signs a token for `subject`, valid from `now` for the configured lifetime.
    pub fn issue(
        &self,
        subject: &TokenSubject,
        now: SystemTime,
    ) -> Result<IssuedToken, IssueError> {
        let key = self.ring.signing_key()?;
        let iat = unix(now);
        let claims = Claims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub: subject.account.clone(),
            org: subject.org.clone(),
            exp: iat.saturating_add(self.config.lifetime_secs),
            iat,
            nbf: iat,
            jti: uuid::Uuid::new_v4().to_string(),
            aws_arn: subject.aws_arn.clone(),
            aws_account: subject.aws_account.clone(),
            rule: subject.rule.clone(),
        };
        let mut header = Header::new(key.algorithm().jwt());
        header.kid = Some(key.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key.encoding())
            .map_err(|e| IssueError::Sign(e.to_string()))?;
        Ok(IssuedToken { token, claims })
    }

    /// Verifies `token` at `now` (see the module docs for the order of checks).
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Claims, VerifyTokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyTokenError::Malformed(e.to_string()))?;
        let alg = format!("{:?}", header.alg);
        let peers = self.peers.load();
        if !self
            .ring
            .keys()
            .iter()
            .map(KeyPair::algorithm)
            .chain(peers.iter().map(|p| p.algorithm))
            .any(|a| a.jwt() == header.alg)
        {
            return Err(VerifyTokenError::AlgorithmNotAllowed(alg));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or(VerifyTokenError::MissingKeyId)?;
        let (algorithm, decoding) = match self.ring.get(kid) {
            Some(key) => (key.algorithm(), key.decoding()),
            None => peers
                .iter()
                .find(|p| p.kid == kid)
                .map(|p| (p.algorithm, &p.decoding))
                .ok_or_else(|| VerifyTokenError::UnknownKeyId(kid.to_owned()))?,
        };
        if algorithm.jwt() != header.alg {
            return Err(VerifyTokenError::AlgorithmMismatch {
                header: alg,
                kid: kid.to_owned(),
                key: format!("{algorithm:?}"),
            });
        }
        let mut validation = Validation::new(algorithm.jwt());
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        // Time is checked below against the caller's `now`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let data =
            jsonwebtoken::decode::<Claims>(token, decoding, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::InvalidSignature => VerifyTokenError::Signature,
                    ErrorKind::InvalidIssuer => VerifyTokenError::Issuer,
                    ErrorKind::InvalidAudience => VerifyTokenError::Audience,
                    ErrorKind::InvalidAlgorithm => {
                        VerifyTokenError::AlgorithmNotAllowed(alg.clone())
                    }
                    ErrorKind::MissingRequiredClaim(c) => {
                        VerifyTokenError::Claims(format!("missing {c}"))
                    }
                    ErrorKind::Json(e) => VerifyTokenError::Claims(e.to_string()),
                    _ => VerifyTokenError::Malformed(e.to_string()),
                }
            })?;
        let claims = data.claims;
        let now = unix(now);
        let leeway = self.config.leeway_secs;
        if claims.exp.saturating_add(leeway) <= now {
            return Err(VerifyTokenError::Expired);
        }
        if claims.nbf > now.saturating_add(leeway) || claims.iat > now.saturating_add(leeway) {
            return Err(VerifyTokenError::NotYetValid);
        }
        Ok(claims)
    }

    /// The public keys, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .ring
                .keys()
                .iter()
                .map(|k| k.jwk().clone())
                .chain(self.peers.load().iter().map(|p| p.jwk.clone()))
                .collect(),
        }
    }

    /// The algorithms of the ring's keys.
    pub fn algorithms(&self) -> HashSet<SigningAlgorithm> {
        self.ring.keys().iter().map(|k| k.algorithm()).collect()
    }
}
