//! Fuzz target `proof`: see `arnmap_fuzz::proof` (shared with `tests/engine/fuzz_regressions.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| arnmap_fuzz::proof(data));
