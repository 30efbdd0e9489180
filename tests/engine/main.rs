//! The engine: parsing, matching, formatting, lint and reload through the
//! library alone. Needs no cargo feature, so
//! `cargo test --no-default-features --test engine` builds without the
//! service's dependencies.

// clippy.toml's allow-*-in-tests cover `#[test]` functions only; the helpers
// beside them (and the included fuzz bodies) may unwrap, expect, panic and index too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod equivalence;
mod fast_parser;
mod fmt;
mod fuzz_regressions;
mod lint_codes;
mod overlap_props;
mod reload;
mod table;
