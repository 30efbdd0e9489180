//! The data-driven lint test: every policy in `tests/lint/` is linted and its
//! diagnostics, as `(code, line, column)`, must be exactly those listed for it
//! in `tests/lint/expected.tsv`. There is one policy per diagnostic code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arnmap::Code;
use arnmap::SourceMap;
use arnmap::lint::{self, Options};

type Found = BTreeSet<(String, u32, u32)>;

fn expected() -> BTreeMap<String, Found> {
    let text = std::fs::read_to_string("tests/lint/expected.tsv").unwrap();
    let mut out: BTreeMap<String, Found> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "bad line in expected.tsv: {line:?}");
        out.entry(f[0].to_owned()).or_default().insert((
            format!("arnmap::{}", f[1]),
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
        ));
    }
    out
}

fn lint_file(path: &Path) -> Found {
    let mut sources = SourceMap::new();
    sources.add(
        path.display().to_string(),
        std::fs::read_to_string(path).unwrap(),
    );
    let name = path.file_stem().unwrap().to_str().unwrap();
    lint::lint_sources(&sources, Options::default())
        .iter()
        .filter(|d| d.code != Code::UntestedRule || name == "untested-rule")
        .map(|d| {
            let (_, line, col) = sources.locate(d.span).unwrap();
            (d.code.as_str().to_owned(), line, col)
        })
        .collect()
}

#[test]
fn every_bad_policy_gives_exactly_its_diagnostics() {
    let expected = expected();
    let mut files: Vec<_> = std::fs::read_dir("tests/lint")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let got = lint_file(path);
        let want = expected.get(&name).cloned().unwrap_or_default();
        if got != want {
            let lines: Vec<String> = got
                .iter()
                .map(|(c, l, col)| {
                    format!("{name}\t{}\t{l}\t{col}", c.trim_start_matches("arnmap::"))
                })
                .collect();
            failures.push(format!("{name}: got\n{}", lines.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(
        expected
            .keys()
            .filter(|k| !files.iter().any(|p| p.ends_with(k.as_str())))
            .count(),
        0,
        "expected.tsv names a file that does not exist"
    );
}

#[test]
fn every_code_has_its_bad_policy() {
    for code in Code::ALL {
        let slug = code.as_str().trim_start_matches("arnmap::");
        let path = format!("tests/lint/{slug}.policy");
        assert!(Path::new(&path).exists(), "no {path}");
        let found = lint_file(Path::new(&path));
        assert!(
            found.iter().any(|(c, _, _)| c == code.as_str()),
            "{path} does not produce {code}: {found:?}"
        );
    }
}

#[test]
fn the_example_policies_pass_deny_warnings() {
    let sources = SourceMap::load(&["policies"]).unwrap();
    let diagnostics = lint::lint_sources(&sources, Options::default());
    assert!(
        !lint::has_warnings(&diagnostics),
        "{}",
        arnmap::Diagnostics(diagnostics).render(&sources, false)
    );
}

#[test]
fn the_readme_lists_every_code() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    for code in Code::ALL {
        assert!(
            readme.contains(&format!("| `{}` |", code.as_str())),
            "README's code table lacks {code}"
        );
    }
}
