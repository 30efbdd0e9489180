//! The token exchange: proof → verified identity → policy decision → token,
//! with one structured audit event per attempt.
//!
//! Audit events go to the `tracing` target `arnmap::audit` at level INFO with
//! the fields `outcome`, `org`, `arn`, `decision`, `rule` and `reason`. They
//! never carry the proof, a key or a token. Every field that a request can
//! influence (the org, the ARN, the error detail, …) is recorded as a string,
//! which `tracing`'s formatters quote and escape: a control character from a
//! request never reaches the log as itself.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::auth::proof::{DecodedProof, ProofError};
use crate::auth::sts::StsError;
use crate::auth::token::{IssueError, IssuedToken, TokenIssuer, TokenSubject};
use crate::auth::verifier::{Verified, Verifier, VerifyError};
use crate::engine::decision::Decision;
use crate::engine::policy::OrgPolicy;
use crate::engine::reload::PolicyHandle;
use crate::rule::condition::Caller;

/// Where the exchange finds the policy of an org.
pub trait PolicySource: Send + Sync {
    /// The policy in force for `org` now (one load per exchange), or
    /// [`OrgUnavailable`] when the org cannot be served (fail closed).
    fn policy_for(&self, org: &str) -> Result<OrgPolicy, OrgUnavailable>;
}

/// An org whose policy cannot be served now (its stored rules do not
/// compile or lint with the policy files): its exchanges are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgUnavailable;

impl<T: PolicySource + ?Sized> PolicySource for Arc<T> {
    fn policy_for(&self, org: &str) -> Result<OrgPolicy, OrgUnavailable> {
        (**self).policy_for(org)
    }
}

impl PolicySource for PolicyHandle {
    fn policy_for(&self, _org: &str) -> Result<OrgPolicy, OrgUnavailable> {
        Ok(OrgPolicy::files(self.load()))
    }
}

/// Why an exchange issued no token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The proof was refused (pre-checks, replay, or STS said no).
    #[error("{0}")]
    Proof(#[from] VerifyError),
    /// No rule maps the caller in this org.
    #[error("{arn} is not mapped to an account in org {org}")]
    NotMapped {
        /// The org asked for.
        org: String,
        /// The caller.
        arn: String,
    },
    /// A deny rule matched.
    #[error("{arn} is denied in org {org} by rule {rule}")]
    Denied {
        /// The org asked for.
        org: String,
        /// The caller.
        arn: String,
        /// The deny rule.
        rule: String,
    },
    /// The policy could not decide (fail closed).
    #[error("no decision for {arn} in org {org}: {reason}")]
    Undecided {
        /// The org asked for.
        org: String,
        /// The caller.
        arn: String,
        /// The rule concerned, if any.
        rule: Option<String>,
        /// Why.
        reason: String,
    },
    /// The org has no rules at all; STS was not asked.
    #[error("org {org} has no policy")]
    UnknownOrg {
        /// The org the proof is bound to.
        org: String,
    },
    /// The org's policy cannot be served now (fail closed); STS was not asked.
    #[error("org {org} is unavailable: its persona mappings could not be loaded")]
    OrgUnavailable {
        /// The org.
        org: String,
    },
    /// The org's exchange rate limit is exhausted (checked once STS confirmed
    /// the caller and the policy mapped it); no token was issued.
    #[error("too many exchanges for org {org}; retry in {retry_after_secs} s")]
    RateLimited {
        /// The org.
        org: String,
        /// Seconds until a retry can succeed (at least 1).
        retry_after_secs: u64,
    },
    /// The token could not be signed.
    #[error("{0}")]
    Token(#[from] IssueError),
}

/// How an HTTP front should answer an [`ExchangeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401: the proof does not authenticate anyone.
    Unauthenticated,
    /// 403: authenticated, but not allowed in.
    Forbidden,
    /// 429: slow down; retry after this many seconds.
    TooMany(u64),
    /// 503: STS could not be asked (throttled, down, unreachable); retry later.
    Unavailable,
    /// 500: our fault.
    Internal,
}

impl ExchangeError {
    /// The kind of refusal.
    pub fn refusal(&self) -> Refusal {
        match self {
            ExchangeError::Proof(VerifyError::Sts(
                StsError::Throttled { .. } | StsError::Unavailable { .. } | StsError::Transport(_),
            ))
            | ExchangeError::Proof(VerifyError::ReplayCacheFull)
            | ExchangeError::OrgUnavailable { .. } => Refusal::Unavailable,
            ExchangeError::Proof(_) => Refusal::Unauthenticated,
            ExchangeError::NotMapped { .. }
            | ExchangeError::Denied { .. }
            | ExchangeError::Undecided { .. }
            | ExchangeError::UnknownOrg { .. } => Refusal::Forbidden,
            ExchangeError::RateLimited {
                retry_after_secs, ..
            } => Refusal::TooMany(*retry_after_secs),
            ExchangeError::Token(_) => Refusal::Internal,
        }
    }

    /// Whether the client that sent the proof answers for this refusal: it
    /// failed before or at STS (no proof, a pre-check, an org without rules,
    /// STS refused the proof, a replay), or STS confirmed a caller the policy
    /// does not let in (not mapped, denied). Not: STS or the replay cache
    /// unavailable, an undecidable policy, the org's rate, signing.
    pub fn charged_to_client(&self) -> bool {
        match self {
            ExchangeError::Proof(_) => self.refusal() == Refusal::Unauthenticated,
            ExchangeError::NotMapped { .. }
            | ExchangeError::Denied { .. }
            | ExchangeError::UnknownOrg { .. } => true,
            ExchangeError::Undecided { .. }
            | ExchangeError::OrgUnavailable { .. }
            | ExchangeError::RateLimited { .. }
            | ExchangeError::Token(_) => false,
        }
    }

    /// A stable name for logs and metrics: `proof.*`, `sts.*`, `not_mapped`, …
    pub fn code(&self) -> String {
        match self {
            ExchangeError::Proof(e) => e.code(),
            ExchangeError::NotMapped { .. } => "not_mapped".into(),
            ExchangeError::Denied { .. } => "denied".into(),
            ExchangeError::Undecided { .. } => "undecided".into(),
            ExchangeError::UnknownOrg { .. } => "unknown_org".into(),
            ExchangeError::OrgUnavailable { .. } => "org_unavailable".into(),
            ExchangeError::RateLimited { .. } => "rate_limited".into(),
            ExchangeError::Token(e) => format!("token.{}", e.code()),
        }
    }
}

/// A successful exchange.
#[derive(Debug, Clone)]
pub struct Exchanged {
    /// The token and its claims.
    pub token: IssuedToken,
    /// The verified caller.
    pub verified: Verified,
}

/// The pipeline. `Send + Sync`; share one per process. [`TokenExchange::exchange`]
/// blocks on STS: call it from `spawn_blocking` in async code.
pub struct TokenExchange<P> {
    verifier: Arc<Verifier>,
    policies: P,
    issuer: Arc<TokenIssuer>,
    on_sts: Option<StsObserver>,
}

/// Called with the duration of each STS exchange (for a latency histogram).
pub type StsObserver = Arc<dyn Fn(Duration) + Send + Sync>;

impl<P: PolicySource> TokenExchange<P> {
    /// Builds the pipeline.
    pub fn new(verifier: Arc<Verifier>, policies: P, issuer: Arc<TokenIssuer>) -> Self {
        TokenExchange {
            verifier,
            policies,
            issuer,
            on_sts: None,
        }
    }

    /// Reports the duration of every STS call to `observer`.
    pub fn with_sts_observer(mut self, observer: StsObserver) -> Self {
        self.on_sts = Some(observer);
        self
    }

    /// The policy source.
    pub fn policies(&self) -> &P {
        &self.policies
    }

    /// The token issuer.
    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// Runs one exchange for the org the proof is bound to, and writes its
    /// audit event.
    pub fn exchange(&self, raw: &str, now: SystemTime) -> Result<Exchanged, ExchangeError> {
        self.exchange_gated(raw, now, |_| Ok(()))
    }

    /// [`TokenExchange::exchange`] with `gate` asked, once STS confirmed the
    /// caller and the policy mapped it, whether this org may be issued a token
    /// now (its rate limit). Only confirmed, mapped callers reach `gate`, so a
    /// proof that merely names an org (anyone can forge one) never uses up
    /// that org's budget.
    ///
    /// Order: the proof is decoded (once) and its org binding read; the
    /// pre-checks run (no network); an org without any rule is refused; STS;
    /// the policy; `gate`; the token.
    pub fn exchange_gated(
        &self,
        raw: &str,
        now: SystemTime,
        gate: impl FnOnce(&str) -> Result<(), ExchangeError>,
    ) -> Result<Exchanged, ExchangeError> {
        let cfg = &self.verifier.config().proof;
        let decoded = DecodedProof::decode(raw, cfg);
        let org = decoded
            .as_ref()
            .ok()
            .and_then(|d| d.bound_org(cfg))
            .unwrap_or_default()
            .to_owned();
        let result = self.run(decoded, &org, now, gate);
        audit(&org, &result);
        result
    }

    fn run(
        &self,
        decoded: Result<DecodedProof, ProofError>,
        org: &str,
        now: SystemTime,
        gate: impl FnOnce(&str) -> Result<(), ExchangeError>,
    ) -> Result<Exchanged, ExchangeError> {
        let checked = decoded
            .and_then(|d| d.precheck(org, now, &self.verifier.config().proof))
            .map_err(VerifyError::from)?;
        let policy = self.policies.policy_for(org).map_err(|OrgUnavailable| {
            ExchangeError::OrgUnavailable {
                org: org.to_owned(),
            }
        })?;
        if !policy.knows(org) {
            return Err(ExchangeError::UnknownOrg {
                org: org.to_owned(),
            });
        }
        let started = Instant::now();
        let verified = self.verifier.verify_checked(checked, now);
        if let Some(observe) = &self.on_sts {
            observe(started.elapsed());
        }
        let verified = verified?;
        let caller = Caller {
            identity: &verified.identity,
            region: Some(&verified.region),
        };
        let arn = verified.identity.arn().to_owned();
        match policy.decide(org, &caller) {
            Decision::Mapped { user, rule } => {
                gate(org)?;
                let subject = TokenSubject {
                    account: user,
                    org: org.to_owned(),
                    aws_arn: arn,
                    aws_account: verified.identity.account().to_owned(),
                    rule,
                };
                let token = self.issuer.issue(&subject, now)?;
                Ok(Exchanged { token, verified })
            }
            Decision::Denied { rule } => Err(ExchangeError::Denied {
                org: org.to_owned(),
                arn,
                rule,
            }),
            Decision::NoMatch => Err(ExchangeError::NotMapped {
                org: org.to_owned(),
                arn,
            }),
            Decision::Error { rule, reason } => Err(ExchangeError::Undecided {
                org: org.to_owned(),
                arn,
                rule,
                reason,
            }),
        }
    }
}

fn audit(org: &str, result: &Result<Exchanged, ExchangeError>) {
    match result {
        // `&str` fields are recorded with `record_str`, which the formatters
        // quote and escape; never `%` (Display, written raw) for these.
        Ok(done) => tracing::info!(
            target: "arnmap::audit",
            outcome = "issued",
            org,
            arn = done.token.claims.aws_arn.as_str(),
            decision = "mapped",
            rule = done.token.claims.rule.as_str(),
            account = done.token.claims.sub.as_str(),
            jti = done.token.claims.jti.as_str(),
            "token issued"
        ),
        Err(e) => {
            let (arn, decision, rule) = match e {
                ExchangeError::NotMapped { arn, .. } => (arn.as_str(), "no_match", ""),
                ExchangeError::Denied { arn, rule, .. } => (arn.as_str(), "denied", rule.as_str()),
                ExchangeError::Undecided { arn, rule, .. } => {
                    (arn.as_str(), "error", rule.as_deref().unwrap_or(""))
                }
                ExchangeError::Proof(_)
                | ExchangeError::Token(_)
                | ExchangeError::UnknownOrg { .. }
                | ExchangeError::OrgUnavailable { .. }
                | ExchangeError::RateLimited { .. } => ("", "none", ""),
            };
            tracing::info!(
                target: "arnmap::audit",
                outcome = "refused",
                org,
                arn,
                decision,
                rule,
                reason = e.code().as_str(),
                detail = e.to_string().as_str(),
                "token refused"
            );
        }
    }
}
