//! Authentication: a Datadog-format proof is pre-checked offline
//! ([`proof`]), replayed to STS ([`sts`]) by the [`verifier`], mapped by the
//! policy, and exchanged for a token ([`token`]) in [`exchange`]
//! (docs/semantics.md §5–6).

#[cfg(feature = "token")]
pub mod exchange;
pub mod proof;
#[cfg(feature = "sts")]
pub mod sts;
#[cfg(feature = "token")]
pub mod token;
#[cfg(feature = "sts")]
pub mod verifier;
