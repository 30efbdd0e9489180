//! One STS exchange: send, retry throttling and 5xx with jittered backoff,
//! classify the answer, check the identity.

use std::time::Duration;

use super::xml::{StsXml, parse};
use super::{MalformedResponse, StsError, StsRequest, StsResponse, Transport};
use crate::arn::identity::CallerIdentity;
use crate::auth::proof::CheckedProof;

/// How often and how patiently to retry. Only throttling and 5xx are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubled each retry.
    pub base: Duration,
    /// Backoff ceiling.
    pub max: Duration,
}

impl RetryPolicy {
    /// The pause before retry number `n` (0-based): `base·2ⁿ`, capped, then
    /// jittered uniformly to 50–100 % of that.
    pub fn backoff(&self, n: u32) -> Duration {
        let full = self
            .base
            .saturating_mul(1u32.checked_shl(n.min(16)).unwrap_or(u32::MAX))
            .min(self.max);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=jitter_ms))
    }
}

/// STS error codes meaning "slow down".
const THROTTLING: [&str; 4] = [
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// What one attempt amounted to.
enum Outcome {
    Done(Result<CallerIdentity, StsError>),
    Throttled,
    Unavailable(u16),
}

/// Replays a checked proof to STS and returns the caller it names.
pub fn call_sts(
    transport: &dyn Transport,
    proof: &CheckedProof,
    policy: RetryPolicy,
) -> Result<CallerIdentity, StsError> {
    let request = StsRequest {
        host: &proof.host().host,
        headers: proof.headers(),
        body: proof.body(),
    };
    let mut attempt = 0u32;
    loop {
        let response = transport.send(&request)?;
        let outcome = classify(&response);
        attempt += 1;
        let give_up = attempt > policy.retries;
        match outcome {
            Outcome::Done(result) => {
                let identity = result?;
                if identity.partition() != proof.host().partition {
                    return Err(StsError::PartitionMismatch {
                        host: proof.host().partition,
                        caller: identity.partition(),
                    });
                }
                return Ok(identity);
            }
            Outcome::Throttled if give_up => return Err(StsError::Throttled { attempts: attempt }),
            Outcome::Unavailable(status) if give_up => {
                return Err(StsError::Unavailable {
                    status,
                    attempts: attempt,
                });
            }
            Outcome::Throttled | Outcome::Unavailable(_) => {
                std::thread::sleep(policy.backoff(attempt - 1));
            }
        }
    }
}

fn classify(response: &StsResponse) -> Outcome {
    let status = response.status;
    if (300..400).contains(&status) {
        return Outcome::Done(Err(StsError::Redirect(status)));
    }
    if status == 429 {
        return Outcome::Throttled;
    }
    let parsed = parse(&response.body);
    match parsed {
        Ok(StsXml::Identity {
            arn,
            user_id,
            account,
        }) if status == 200 => Outcome::Done(
            CallerIdentity::from_sts(&arn, &user_id, &account).map_err(StsError::Identity),
        ),
        Ok(StsXml::Identity { .. }) => Outcome::Done(Err(StsError::Malformed {
            status,
            reason: MalformedResponse::ResultWithStatus(status),
        })),
        Ok(StsXml::Error { code, message }) => {
            if THROTTLING.contains(&code.as_str()) {
                return Outcome::Throttled;
            }
            if status >= 500 {
                return Outcome::Unavailable(status);
            }
            Outcome::Done(Err(error_for(status, code, message)))
        }
        Err(_) if status >= 500 => Outcome::Unavailable(status),
        Err(e) => Outcome::Done(Err(StsError::Malformed {
            status,
            reason: e.into(),
        })),
    }
}

fn error_for(status: u16, code: String, message: String) -> StsError {
    match code.as_str() {
        "SignatureDoesNotMatch" | "IncompleteSignature" => StsError::BadSignature(message),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
            StsError::Expired { code, message }
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "InvalidToken"
        | "MissingAuthenticationToken"
        | "AccessDenied"
        | "AuthFailure" => StsError::InvalidToken { code, message },
        _ => StsError::Rejected {
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let p = RetryPolicy {
            retries: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        for n in 0..40 {
            let d = p.backoff(n);
            assert!(d <= Duration::from_millis(1000), "{n}: {d:?}");
            let full = (100u64 << n.min(10)).min(1000);
            assert!(d >= Duration::from_millis(full / 2), "{n}: {d:?}");
        }
    }
}
