//! Fuzz target `equivalence`: see `arnmap_fuzz::equivalence` (shared with `tests/engine/fuzz_regressions.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| arnmap_fuzz::equivalence(data));
