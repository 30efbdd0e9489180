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
/// Subcommands of the `arnmap` binary that live in the library (wired by `src/main.rs`).
#[cfg(all(feature = "cli", feature = "sts", feature = "sign"))]
pub mod cli {
    pub mod proof;
    pub mod verify;
}
