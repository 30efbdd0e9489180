//! arnmap: map AWS caller identities to accounts with a compiled policy.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod identity;
pub mod partition;
pub mod proof;
#[cfg(feature = "sts")]
pub mod sts;
#[cfg(feature = "sts")]
pub mod verifier;
