//! Property: for random policies and callers, the indexed matcher and the
//! reference matcher (docs/semantics.md §2–3 written literally) make the same decision,
//! down to the rule that decided.
//!
//! Patterns and callers are drawn from small alphabets so that rules overlap
//! heavily: literal and wildcard names, both account scopes, several
//! partitions, all caller kinds, conditions (some needing attributes the
//! caller may lack), denies and several orgs.

use arnmap::{Caller, CallerIdentity, CompiledPolicy, Pattern};
use proptest::prelude::*;
use proptest::sample::select;

const NAMES: &[&str] = &[
    "a",
    "ab",
    "ba",
    "abcd",
    "abcde",
    "abcdef",
    "abcdx",
    "ab-x",
    "x-team7",
    "team7-ab",
    "svc-a-7",
    "svc-7",
    "s-b-7",
    "name7",
    "abcd-team7",
];
// Suffix shapes (`*-x`, `*b`) are where a role-name wildcard would reach into
// a session name (`ab/a-x`) if it were compared with the raw form.
const NAME_GLOBS: &[&str] = &[
    "a", "ab", "abcd", "abcde", "abcdef", "a*", "*b", "ab*", "abcd*", "abcde*", "abcde?", "?bcde",
    "*", "a?", "*cd*", "*-x", "a?-x", "ab-x",
];
const SESSIONS: &[&str] = &[
    "aa", "ab", "ba", "bbbb", "abcde", "a-x", "sess7", "x-sess7", "sess7-x",
];
const SESSION_GLOBS: &[&str] = &["aa", "ab", "a*", "*", "?b", "bbbb", "abcd*", "*e"];

/// Suffix, session literal with a role wildcard, `user/*/name`, short prefix
/// with a literal after the wildcard, and inner literal runs.
const SHAPES: &[&str] = &[
    "assumed-role/*-team7",
    "assumed-role/*team7",
    "assumed-role/*7",
    "assumed-role/?-team7",
    "assumed-role/*/sess7",
    "assumed-role/*b/sess7",
    "assumed-role/*/*sess7",
    "assumed-role/*/sess7*",
    "assumed-role/x-team7/sess7",
    "user/*/name7",
    "user/x/*/name7",
    "user/*/name7*",
    "user/*name7",
    "assumed-role/svc-*-7",
    "assumed-role/s-*-7",
    "assumed-role/s*-7",
    "assumed-role/svc-?-7",
    "assumed-role/*team7*",
    "assumed-role/*-tea*7",
    "assumed-role/a*bcd-*7",
    "assumed-role/*/*ess7-*",
    "*sess7*",
    "*team7*",
    "*/name7",
    "federated-user/*bcde*",
];

fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        select(NAME_GLOBS).prop_map(|r| format!("assumed-role/{r}")),
        (select(NAME_GLOBS), select(SESSION_GLOBS))
            .prop_map(|(r, s)| format!("assumed-role/{r}/{s}")),
        select(NAME_GLOBS).prop_map(|r| format!("role/{r}")),
        select(NAME_GLOBS).prop_map(|r| format!("user/{r}")),
        (select(&["x", "x/y", "*", "x*"][..]), select(NAME_GLOBS))
            .prop_map(|(p, r)| format!("user/{p}/{r}")),
        select(NAME_GLOBS).prop_map(|r| format!("federated-user/{r}")),
        // The shapes the index files under a suffix or an inner literal run
        // rather than a prefix (issue 13): they compete for keys with each
        // other and with the prefix shapes above.
        select(SHAPES).prop_map(str::to_owned),
        select(
            &[
                "root",
                "*",
                "ro*",
                "*a",
                "?*",
                "assumed-*",
                "*/aa",
                "user*",
                "abcd*"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    (
        select(&["aws", "aws", "aws-cn", "*", "aws*", "aws-?n"][..]),
        select(&["iam", "sts", "*", "i*"][..]),
        select(&["", "", "", "*"][..]),
        select(&["111111111111", "222222222222", "*", "1*", "11111111111?"][..]),
        resource(),
    )
        .prop_map(|(p, s, r, a, res)| format!("arn:{p}:{s}:{r}:{a}:{res}"))
        .prop_filter("must compile", |p| Pattern::parse(p).is_ok())
}

fn condition() -> impl Strategy<Value = String> {
    let atom = select(
        &[
            r#"session == "aa""#,
            r#"name in ["a", "abcde"]"#,
            r#"account != "111111111111""#,
            r#"principal_id == "AROAA""#,
            r#"region == "us-east-1""#,
            r#"kind == "user""#,
            r#"path matches "/x/*""#,
            r#"session =~ "^a""#,
            r#"partition == "aws""#,
            r#"user_id =~ "AIDA""#,
        ][..],
    );
    prop_oneof![
        atom.clone().prop_map(str::to_owned),
        (atom.clone(), atom.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
        (atom.clone(), atom.clone()).prop_map(|(a, b)| format!("{a} or not {b}")),
        atom.prop_map(|a| format!("not ({a})")),
    ]
}

#[derive(Debug, Clone)]
struct RuleSpec {
    org: usize,
    deny: bool,
    pattern: String,
    target: &'static str,
    condition: Option<String>,
}

fn rule() -> impl Strategy<Value = RuleSpec> {
    (
        0..3usize,
        prop::bool::weighted(0.2),
        pattern(),
        select(
            &[
                "u1@x.com",
                "u2@x.com",
                "{session}@x.com",
                "{name}",
                "{principal_id}",
            ][..],
        ),
        prop::option::weighted(0.3, condition()),
    )
        .prop_map(|(org, deny, pattern, target, condition)| RuleSpec {
            org,
            deny,
            pattern,
            target,
            condition,
        })
}

fn policy_text(rules: &[RuleSpec]) -> String {
    let mut text = String::new();
    for (i, r) in rules.iter().enumerate() {
        let head = if r.deny {
            format!("deny \"{}\"", r.pattern)
        } else {
            format!("map \"{}\" to \"{}\"", r.pattern, r.target)
        };
        let when = r
            .condition
            .as_ref()
            .map(|c| format!(" when {c}"))
            .unwrap_or_default();
        // One block per rule: orgs span blocks, and declaration order is kept.
        text.push_str(&format!("org \"o{}\" {{ {head} as r{i}{when} }}\n", r.org));
    }
    text
}

#[derive(Debug, Clone)]
struct CallerSpec {
    arn: String,
    user_id: Option<String>,
    region: Option<&'static str>,
}

fn caller() -> impl Strategy<Value = CallerSpec> {
    let partition = select(&["aws", "aws-cn"][..]);
    let account = select(&["111111111111", "222222222222"][..]);
    let region = prop::option::of(select(&["us-east-1", "eu-west-1"][..]));
    let with_id = prop::bool::ANY;
    prop_oneof![
        (
            partition.clone(),
            account.clone(),
            select(NAMES),
            select(SESSIONS),
            select(&["AROAA", "AROAB"][..])
        )
            .prop_map(|(p, a, r, s, id)| (
                format!("arn:{p}:sts::{a}:assumed-role/{r}/{s}"),
                format!("{id}:{s}")
            )),
        (
            partition.clone(),
            account.clone(),
            select(&["", "x/", "x/y/", "abcd/", "x/y/z/", "team7/"][..]),
            select(NAMES)
        )
            .prop_map(|(p, a, path, n)| (
                format!("arn:{p}:iam::{a}:user/{path}{n}"),
                "AIDAEXAMPLE".to_owned()
            )),
        (partition.clone(), account.clone(), select(NAMES)).prop_map(|(p, a, n)| (
            format!("arn:{p}:sts::{a}:federated-user/{n}"),
            format!("{a}:{n}")
        )),
        (partition, account).prop_map(|(p, a)| (format!("arn:{p}:iam::{a}:root"), a.to_owned())),
    ]
    .prop_flat_map(move |(arn, uid)| (Just(arn), Just(uid), with_id, region.clone()))
    .prop_map(|(arn, uid, with_id, region)| CallerSpec {
        arn,
        user_id: with_id.then_some(uid),
        region,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn indexed_matcher_agrees_with_reference(
        rules in prop::collection::vec(rule(), 1..30),
        callers in prop::collection::vec(caller(), 1..12),
    ) {
        let text = policy_text(&rules);
        let policy = CompiledPolicy::compile_str("random.policy", &text)
            .unwrap_or_else(|d| panic!("{text}\n{}", d.render(&arnmap::SourceMap::new(), false)));
        for c in &callers {
            let id = match &c.user_id {
                Some(uid) => CallerIdentity::parse(&c.arn, uid),
                None => CallerIdentity::parse_arn(&c.arn),
            }
            .unwrap_or_else(|e| panic!("{}: {e}", c.arn));
            let caller = Caller { identity: &id, region: c.region };
            for org in ["o0", "o1", "o2", "unknown"] {
                let indexed = policy.decide(org, &caller);
                let reference = policy.evaluate_reference(org, &caller).to_decision();
                prop_assert_eq!(&indexed, &reference, "org {} caller {:?}\n{}", org, c, text);
            }
        }
    }
}

/// The pattern written in one of the spellings of a role-name pattern
/// (docs/semantics.md §2), or `None` when it is not one.
fn respell(pattern: &str, spelling: usize) -> Option<String> {
    let p = Pattern::parse(pattern).unwrap();
    if !p.names_role() {
        return None;
    }
    let name = p.resource().strip_prefix("assumed-role/")?;
    let (service, resource) = match spelling % 5 {
        0 => ("iam", format!("role/{name}")),
        1 => ("sts", format!("assumed-role/{name}/*")),
        2 => ("sts", format!("assumed-role/{name}")),
        3 => ("*", format!("role/{name}")),
        _ => ("*", format!("assumed-role/{name}/*")),
    };
    Some(format!(
        "arn:{}:{service}:{}:{}:{resource}",
        p.partition(),
        p.region(),
        p.account()
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `role/NAME`, `assumed-role/NAME/*` and `assumed-role/NAME` are one
    /// rule, for wildcard names too: writing the role-name rules of a random
    /// policy in other spellings changes no decision (rules are named, so
    /// even the deciding rule's id must stay the same).
    #[test]
    fn role_name_spellings_are_one_rule(
        rules in prop::collection::vec(rule(), 1..30),
        spellings in prop::collection::vec(0..5usize, 30),
        callers in prop::collection::vec(caller(), 1..12),
    ) {
        let mut respelled = rules.clone();
        let mut changed = 0;
        for (r, &spelling) in respelled.iter_mut().zip(&spellings) {
            if let Some(other) = respell(&r.pattern, spelling) {
                let (a, b) = (Pattern::parse(&r.pattern).unwrap(), Pattern::parse(&other).unwrap());
                prop_assert_eq!(a.as_str(), b.as_str(), "{} and {} normalise differently", r.pattern, other);
                prop_assert_eq!(a.literal_len(), b.literal_len());
                changed += usize::from(r.pattern != other);
                r.pattern = other;
            }
        }
        prop_assume!(changed > 0);
        let (text, other_text) = (policy_text(&rules), policy_text(&respelled));
        let policy = CompiledPolicy::compile_str("random.policy", &text).unwrap();
        let other = CompiledPolicy::compile_str("random.policy", &other_text).unwrap();
        for c in &callers {
            let id = match &c.user_id {
                Some(uid) => CallerIdentity::parse(&c.arn, uid),
                None => CallerIdentity::parse_arn(&c.arn),
            }
            .unwrap();
            let caller = Caller { identity: &id, region: c.region };
            for org in ["o0", "o1", "o2"] {
                let before = policy.decide(org, &caller);
                let after = other.decide(org, &caller);
                prop_assert_eq!(&before, &after, "org {} caller {:?}\n{}\nrespelled:\n{}", org, c, text, other_text);
                let reference = other.evaluate_reference(org, &caller).to_decision();
                prop_assert_eq!(&after, &reference, "org {} caller {:?}\n{}", org, c, other_text);
            }
        }
    }
}

/// The generators do produce every decision kind (so agreement is not vacuous).
#[test]
fn generators_cover_every_decision_kind() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let rules = prop::collection::vec(rule(), 1..30)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let callers = prop::collection::vec(caller(), 1..12)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let policy = CompiledPolicy::compile_str("random.policy", &policy_text(&rules)).unwrap();
        for c in &callers {
            let id = match &c.user_id {
                Some(uid) => CallerIdentity::parse(&c.arn, uid).unwrap(),
                None => CallerIdentity::parse_arn(&c.arn).unwrap(),
            };
            for org in ["o0", "o1", "o2"] {
                seen.insert(
                    policy
                        .decide(
                            org,
                            &Caller {
                                identity: &id,
                                region: c.region,
                            },
                        )
                        .kind(),
                );
            }
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["denied", "error", "mapped", "no_match"]
    );
}

/// `policy_text`, numbering rules from `first` (so a split keeps every name).
fn policy_text_from(rules: &[RuleSpec], first: usize) -> String {
    let mut text = String::new();
    for (i, r) in rules.iter().enumerate() {
        let head = if r.deny {
            format!("deny \"{}\"", r.pattern)
        } else {
            format!("map \"{}\" to \"{}\"", r.pattern, r.target)
        };
        let when = r
            .condition
            .as_ref()
            .map(|c| format!(" when {c}"))
            .unwrap_or_default();
        text.push_str(&format!(
            "org \"o{}\" {{ {head} as r{}{when} }}\n",
            r.org,
            first + i
        ));
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Deciding with the files and an org's own rules compiled apart, then
    /// combined by precedence, is deciding over one policy holding both (the
    /// files declared first), down to the rule that decided.
    #[test]
    fn combining_two_policies_is_deciding_over_their_union(
        rules in prop::collection::vec(rule(), 1..30),
        split in 0..30usize,
        callers in prop::collection::vec(caller(), 1..12),
    ) {
        let split = split.min(rules.len());
        let (files_text, own_text) = (
            policy_text_from(&rules[..split], 0),
            policy_text_from(&rules[split..], split),
        );
        let files = CompiledPolicy::compile_str("files.policy", &files_text).unwrap();
        let own = CompiledPolicy::compile_str("api:o", &own_text).unwrap();
        let mut both = arnmap::SourceMap::new();
        both.add("files.policy", files_text.as_str());
        both.add("api:o", own_text.as_str());
        let union = CompiledPolicy::compile(&both).unwrap();
        for c in &callers {
            let id = match &c.user_id {
                Some(uid) => CallerIdentity::parse(&c.arn, uid),
                None => CallerIdentity::parse_arn(&c.arn),
            }
            .unwrap();
            let caller = Caller { identity: &id, region: c.region };
            for org in ["o0", "o1", "o2", "unknown"] {
                let combined = arnmap::internals::precedence::combine(
                    files.evaluate(org, &caller),
                    own.evaluate(org, &caller),
                )
                .to_decision();
                prop_assert_eq!(&combined, &union.decide(org, &caller), "org {} caller {:?}\nfiles:\n{}\nown:\n{}", org, c, files_text, own_text);
            }
        }
    }
}
