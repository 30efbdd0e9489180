//! `arnmap serve`: its HTTP API, and end to end with real peers.

// clippy.toml's allow-*-in-tests cover `#[test]` functions only; the helpers
// beside them may unwrap, expect, panic and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod pg_support;
mod serve_admin;
mod serve_api;
mod serve_e2e;
mod serve_replicas;
mod serve_support;
mod serve_writes;
#[path = "../auth/sts_support.rs"]
mod sts_support;
