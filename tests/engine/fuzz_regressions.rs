//! Replays every input kept in `fuzz/regressions/<target>/` through the same
//! code the fuzz target runs (`fuzz/src/lib.rs`, included here), plus the
//! seed corpora in `fuzz/seeds/`, on stable. A minimised crash is added to
//! `fuzz/regressions/<target>/` when it is fixed, so it stays fixed.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
pub(crate) mod arnmap_fuzz;

use std::path::Path;

fn replay(dir: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir);
    let mut replayed = 0;
    for (target, run) in arnmap_fuzz::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files {
            if file.file_name().is_some_and(|n| n == ".gitkeep") {
                continue;
            }
            let data = std::fs::read(&file).unwrap();
            eprintln!("{target}: {}", file.display());
            run(&data);
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn every_regression_input_passes() {
    let n = replay("regressions");
    eprintln!("{n} regression inputs replayed");
}

#[test]
fn every_seed_passes() {
    // The seeds are committed: an empty replay means they went missing.
    assert!(
        replay("seeds") > 100,
        "fuzz/seeds/ is missing or nearly empty"
    );
}
