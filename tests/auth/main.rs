//! Proofs, the STS exchange and tokens: pre-checks, a misbehaving STS, moto's
//! STS end to end, JWT issue and verification.

// clippy.toml's allow-*-in-tests cover `#[test]` functions only; the helpers
// beside them may unwrap, expect, panic and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod proof_malformed;
mod proof_props;
mod sts_faults;
mod sts_moto;
mod sts_support;
mod token;
