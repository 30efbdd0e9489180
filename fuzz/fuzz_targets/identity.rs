//! Fuzz target `identity`: see `arnmap_fuzz::identity` (shared with `tests/engine/fuzz_regressions.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| arnmap_fuzz::identity(data));
