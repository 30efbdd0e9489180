//! `fmt` is idempotent and never changes meaning: for every policy in
//! `policies/` and `tests/lint/`, `format(format(x)) == format(x)`, and when
//! `x` compiles, `format(x)` compiles to the same rules (same ids, patterns,
//! effects, conditions, precedence) and the same tests.

use arnmap::CompiledPolicy;
use arnmap::format_policy as format;

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
                arnmap::internals::precedence::precedence_key(r)
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

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// The tokens of item `kind`, named `r{n}` when it is a rule.
    fn item(kind: usize, n: usize) -> Vec<String> {
        let name = format!("r{n}");
        let tokens: Vec<&str> = match kind {
            0 => vec![
                "map",
                "\"arn:aws:sts::123456789012:assumed-role/a\"",
                "to",
                "\"a@example.com\"",
                "as",
                &name,
            ],
            1 => vec!["deny", "\"arn:aws:iam::*:root\"", "as", &name],
            2 => vec![
                "map",
                "\"arn:aws:iam::*:user/*\"",
                "to",
                "\"{name}\"",
                "as",
                &name,
                "when",
                "not",
                "(",
                "account",
                "in",
                "[",
                "\"111111111111\"",
                ",",
                "\"222222222222\"",
                "]",
                "or",
                "session",
                "=~",
                "\"^a\\\\.b$\"",
                ")",
            ],
            3 => vec![
                "test",
                "\"arn:aws:iam::123456789012:root\"",
                "user_id",
                "\"123456789012\"",
                "->",
                "deny",
            ],
            _ => vec![
                "test",
                "\"arn:aws:sts::123456789012:assumed-role/a/s1\"",
                "->",
                "\"a@example.com\"",
            ],
        };
        tokens.into_iter().map(str::to_owned).collect()
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            " ",
            "  ",
            "\t",
            "\n",
            "\n\n",
            " # note\n",
            "\n  # own line\n",
            "\r\n",
        ])
    }

    /// A valid policy: random items joined by random whitespace and comments.
    fn policy() -> impl Strategy<Value = String> {
        let kinds = prop::collection::vec(0..5usize, 0..6);
        (kinds, prop::collection::vec(separator(), 1..40)).prop_map(|(kinds, seps)| {
            let mut tokens: Vec<String> = ["org", "\"0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10\"", "{"]
                .map(str::to_owned)
                .to_vec();
            for (n, kind) in kinds.into_iter().enumerate() {
                tokens.extend(item(kind, n));
            }
            tokens.push("}".into());
            let mut text = String::new();
            for (t, sep) in tokens.iter().zip(seps.iter().cycle()) {
                text.push_str(t);
                text.push_str(sep);
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn fmt_of_any_layout_is_stable_and_keeps_meaning(text in policy()) {
            let once = format(&text).unwrap();
            prop_assert_eq!(format(&once).unwrap(), once.clone());
            let before = CompiledPolicy::compile_str("p.policy", &text).unwrap();
            let after = CompiledPolicy::compile_str("p.policy", &once).unwrap();
            prop_assert_eq!(meaning(&before), meaning(&after));
            prop_assert_eq!(text.matches('#').count(), once.matches('#').count());
        }
    }
}
