//! Proofs, the STS exchange and tokens: pre-checks, a misbehaving STS, moto's
//! STS end to end, JWT issue and verification.

mod proof_malformed;
mod proof_props;
mod sts_faults;
mod sts_moto;
mod sts_support;
mod token;
