//! The engine: parsing, matching, formatting, lint and reload through the
//! library alone. Needs no cargo feature, so
//! `cargo test --no-default-features --test engine` builds without the
//! service's dependencies.

mod equivalence;
mod fmt;
mod fuzz_regressions;
mod lint_codes;
mod overlap_props;
mod reload;
mod table;
