//! Fuzz target `pattern`: see `arnmap_fuzz::pattern` (shared with `tests/engine/fuzz_regressions.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| arnmap_fuzz::pattern(data));
