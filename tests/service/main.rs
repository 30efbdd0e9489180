//! `arnmap serve`: its HTTP API, and end to end with real peers.

mod serve_api;
mod serve_e2e;
mod serve_support;
#[path = "../auth/sts_support.rs"]
mod sts_support;
