//! Fuzz target `policy_parser`: see `arnmap_fuzz::policy_parser` (shared with `tests/engine/fuzz_regressions.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| arnmap_fuzz::policy_parser(data));
