//! `fmt` is idempotent and never changes meaning: for every policy in
//! `policies/` and `tests/lint/`, `format(format(x)) == format(x)`, and when
//! `x` compiles, `format(x)` compiles to the same rules (same ids, patterns,
//! effects, conditions, precedence) and the same tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use arnmap::CompiledPolicy;
use arnmap::fmt::format;

fn policies() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["policies", "tests/lint"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "policy") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn meaning(policy: &CompiledPolicy) -> Vec<String> {
    let mut out: Vec<String> = policy
        .rules()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {:?} {:?} {:?}",
                policy.orgs()[r.org as usize].id,
                policy.rule_id(r),
                r.pattern,
                r.effect,
                r.condition,
                arnmap::decision::precedence_key(r)
            )
        })
        .collect();
    for org in policy.orgs() {
        for t in &org.tests {
            out.push(format!(
                "{} test {} {:?} {:?} {:?}",
                org.id,
                t.identity.arn(),
                t.identity.user_id(),
                t.region,
                t.expect
            ));
        }
    }
    out
}

#[test]
fn fmt_is_idempotent_and_keeps_meaning() {
    let mut formatted_some = 0;
    for path in policies() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(once) = format(&text) else {
            assert!(name.ends_with("syntax.policy"), "{name} does not parse");
            continue;
        };
        formatted_some += 1;
        assert_eq!(
            format(&once).unwrap(),
            once,
            "{name}: fmt is not idempotent"
        );
        let before = CompiledPolicy::compile_str(&name, &text);
        let after = CompiledPolicy::compile_str(&name, &once);
        match (before, after) {
            (Ok(b), Ok(a)) => assert_eq!(meaning(&b), meaning(&a), "{name}: fmt changed meaning"),
            (Err(b), Err(a)) => {
                let codes =
                    |d: &arnmap::Diagnostics| d.0.iter().map(|d| d.code).collect::<Vec<_>>();
                assert_eq!(codes(&b), codes(&a), "{name}: fmt changed the errors");
            }
            _ => panic!("{name}: fmt changed whether the policy compiles"),
        }
    }
    assert!(formatted_some > 30);
}

#[test]
fn the_example_policies_are_formatted() {
    for path in policies().iter().filter(|p| p.starts_with("policies")) {
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            format(&text).unwrap(),
            text,
            "{} is not formatted",
            path.display()
        );
    }
}
