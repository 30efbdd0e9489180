//! proptest: the exact overlap and cover decisions agree with brute force
//! over every caller built from a small alphabet.
//!
//! Both directions are checked soundly: when the analysis answers with a
//! witness caller, that caller must parse and match as claimed; when it
//! answers "none", no caller of the brute-force set (every string of
//! `a b c / !` up to 5 bytes, as user paths, federated users, assumed roles
//! and the root, in 2 partitions × 3 accounts) may contradict it.

use std::sync::OnceLock;

use arnmap::lint::overlap;
use arnmap::{CallerIdentity, Pattern};
use proptest::prelude::*;

fn callers() -> &'static [CallerIdentity] {
    static CALLERS: OnceLock<Vec<CallerIdentity>> = OnceLock::new();
    CALLERS.get_or_init(|| {
        let alphabet = ['a', 'b', 'c', '/', '!'];
        let mut words = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(frontier.iter().cloned());
        }
        let mut out = Vec::new();
        for partition in ["aws", "aws-cn"] {
            for account in ["123456789012", "123456789011", "999999999999"] {
                let mut arns = vec![format!("arn:{partition}:iam::{account}:root")];
                for w in &words {
                    arns.push(format!("arn:{partition}:iam::{account}:user/{w}"));
                    arns.push(format!("arn:{partition}:sts::{account}:federated-user/{w}"));
                    arns.push(format!("arn:{partition}:sts::{account}:assumed-role/{w}"));
                }
                out.extend(
                    arns.iter()
                        .filter_map(|a| CallerIdentity::parse_arn(a).ok()),
                );
            }
        }
        out
    })
}

fn pattern() -> impl Strategy<Value = Pattern> {
    let partition = prop::sample::select(vec!["aws", "*", "aws-c?", "aws*"]);
    let service = prop::sample::select(vec!["iam", "sts", "*", "?ts", "i*"]);
    let account = prop::sample::select(vec!["123456789012", "*", "12345678901?", "1*2", "9*"]);
    let prefix = prop::sample::select(vec![
        "user/",
        "assumed-role/",
        "role/",
        "federated-user/",
        "",
        "root",
        "*",
        "assumed-role/a/",
        // Role-name patterns (`assumed-role/NAME`, NAME without `/`) with a
        // leading wildcard, which must not reach into the session name.
        "assumed-role/*",
        "role/*",
    ]);
    let body = prop::collection::vec(prop::sample::select(vec!["a", "b", "/", "*", "?"]), 0..4)
        .prop_map(|v| v.concat());
    (partition, service, account, prefix, body)
        .prop_filter_map("not a valid pattern", |(p, s, a, prefix, body)| {
            Pattern::parse(&format!("arn:{p}:{s}::{a}:{prefix}{body}")).ok()
        })
}

/// Role-name patterns are compared with the session-less form only
/// (docs/semantics.md §2): the analysis must not find overlaps through the
/// raw `assumed-role/ROLE/SESSION` form, and must agree with brute force.
#[test]
fn role_name_patterns_do_not_reach_into_the_session() {
    let p = |s: &str| Pattern::parse(&format!("arn:aws:sts::123456789012:{s}")).unwrap();
    let pairs = [
        ("assumed-role/*b", "assumed-role/a/bb", false),
        ("assumed-role/*b", "assumed-role/*/bb", true),
        ("assumed-role/*b", "assumed-role/a", false),
        ("assumed-role/a?b", "assumed-role/a/*", false),
        ("assumed-role/*-admin", "assumed-role/dev/x-admin", false),
        ("assumed-role/*-admin", "assumed-role/ops-admin/s1", true),
        ("assumed-role/*", "assumed-role/a/bb", true),
    ];
    for (a, b, expected) in pairs {
        let (a, b) = (p(a), p(b));
        let found = overlap::overlap(&a, &b).unwrap();
        assert_eq!(found.is_some(), expected, "{a} and {b}: {found:?}");
        let both = callers().iter().find(|c| a.matches(c) && b.matches(c));
        if !expected {
            assert!(
                both.is_none(),
                "{a} and {b} both match {:?}",
                both.map(|c| c.arn())
            );
        }
    }
    // `*b` as a role name does not cover `a/bb`-style callers; `*` does.
    let (star_b, raw) = (p("assumed-role/*b"), p("assumed-role/a/bb"));
    let outside = overlap::uncovered(&star_b, &raw).unwrap().unwrap();
    assert!(raw.matches(&parse(&outside)) && !star_b.matches(&parse(&outside)));
    assert!(overlap::covers(&p("assumed-role/*"), &raw).unwrap());
}

fn parse(arn: &str) -> CallerIdentity {
    CallerIdentity::parse_arn(arn).unwrap_or_else(|e| panic!("witness {arn} is no caller: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn overlap_agrees_with_brute_force(a in pattern(), b in pattern()) {
        match overlap::overlap(&a, &b).unwrap() {
            Some(arn) => {
                let id = parse(&arn);
                prop_assert!(a.matches(&id) && b.matches(&id), "{arn} does not match both {a} and {b}");
            }
            None => {
                let both = callers().iter().find(|c| a.matches(c) && b.matches(c));
                prop_assert!(both.is_none(), "{a} and {b} both match {:?}", both.map(|c| c.arn()));
            }
        }
    }

    #[test]
    fn cover_agrees_with_brute_force(a in pattern(), b in pattern()) {
        match overlap::uncovered(&a, &b).unwrap() {
            Some(arn) => {
                let id = parse(&arn);
                prop_assert!(b.matches(&id) && !a.matches(&id), "{arn}: not a caller of {b} outside {a}");
            }
            None => {
                let outside = callers().iter().find(|c| b.matches(c) && !a.matches(c));
                prop_assert!(outside.is_none(), "{a} does not cover {b}: {:?}", outside.map(|c| c.arn()));
            }
        }
    }

    #[test]
    fn the_cheap_filter_never_rejects_an_overlap(a in pattern(), b in pattern()) {
        if let Some(arn) = overlap::overlap(&a, &b).unwrap() {
            prop_assert!(overlap::may_overlap(&a, &b), "{a} and {b} overlap at {arn}");
        }
    }

    #[test]
    fn a_pattern_covers_itself(a in pattern()) {
        prop_assert!(overlap::covers(&a, &a).unwrap());
        if let Some(arn) = overlap::example(&a).unwrap() {
            prop_assert!(a.matches(&parse(&arn)));
        }
    }
}

fn rules() -> impl Strategy<Value = Vec<(bool, Pattern)>> {
    prop::collection::vec((any::<bool>(), pattern()), 2..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A rule lint calls shadowed never decides for any caller of the set.
    #[test]
    fn shadowed_rules_never_decide(rules in rules()) {
        let mut text = String::from("org \"0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10\" {\n");
        for (i, (deny, p)) in rules.iter().enumerate() {
            if *deny && i > 0 {
                text.push_str(&format!("    deny \"{p}\" as r{i}\n"));
            } else {
                text.push_str(&format!("    map \"{p}\" to \"u{i}@example.com\" as r{i}\n"));
            }
        }
        text.push_str("}\n");
        let policy = arnmap::CompiledPolicy::compile_str("p.policy", &text).unwrap();
        let shadowed: Vec<String> = arnmap::lint::lint(&policy, arnmap::lint::Options::default())
            .into_iter()
            .filter(|d| matches!(d.code, arnmap::Code::ShadowedRule | arnmap::Code::ShadowedByDeny))
            .filter_map(|d| d.rule)
            .collect();
        for caller in callers() {
            let decision = policy.decide("0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10", &arnmap::Caller::new(caller));
            let rule = match &decision {
                arnmap::Decision::Mapped { rule, .. } | arnmap::Decision::Denied { rule } => Some(rule),
                _ => None,
            };
            if let Some(rule) = rule {
                prop_assert!(!shadowed.contains(rule), "{rule} is called shadowed but decides {}\n{text}", caller.arn());
            }
        }
    }
}

/// Patterns whose fixed-length tails disagree cannot overlap: the cheap
/// filter says so without the (budget-bound) automaton search.
#[test]
fn disagreeing_tails_are_settled_by_the_cheap_filter() {
    let p = |r: &str| Pattern::parse(&format!("arn:aws:iam::123456789012:{r}")).unwrap();
    let q = "?".repeat(16);
    assert!(!overlap::may_overlap(
        &p(&format!("user/*ab{q}")),
        &p(&format!("user/*cb{q}"))
    ));
    for (a, b) in [
        ("user/*ab?", "user/*b?"),
        ("user/*ab", "user/*?b"),
        ("user/a*", "user/*b"),
    ] {
        let (a, b) = (p(a), p(b));
        assert!(overlap::overlap(&a, &b).unwrap().is_some(), "{a} {b}");
        assert!(overlap::may_overlap(&a, &b), "{a} {b}");
    }
}
