//! Table-driven tests: every case in `tests/data/*.ron` runs through the
//! parsers, the indexed matcher and the reference matcher.

use arnmap::{Caller, CallerIdentity, CompiledPolicy, Decision, Pattern};
use serde::Deserialize;

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    ron::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The variant name of an error enum, from its Debug form.
fn variant<E: std::fmt::Debug>(e: &E) -> String {
    format!("{e:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[derive(Deserialize)]
struct IdentityCase {
    arn: String,
    user_id: Option<String>,
    account: Option<String>,
    error: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    path: Option<String>,
    session: Option<String>,
    partition: Option<String>,
    principal_id: Option<String>,
    forms: Option<Vec<String>>,
}

#[test]
fn identities() {
    let cases: Vec<IdentityCase> = load("identities.ron");
    assert!(cases.len() > 60, "the table shrank");
    for case in cases {
        let parsed = match (&case.user_id, &case.account) {
            (Some(uid), Some(account)) => CallerIdentity::from_sts(&case.arn, uid, account),
            (Some(uid), None) => CallerIdentity::parse(&case.arn, uid),
            _ => CallerIdentity::parse_arn(&case.arn),
        };
        match (&case.error, parsed) {
            (Some(expected), Err(e)) => {
                assert_eq!(&variant(&e), expected, "{}: wrong error: {e}", case.arn);
                assert!(!e.to_string().is_empty());
            }
            (Some(expected), Ok(id)) => panic!("{}: expected {expected}, parsed {id:?}", case.arn),
            (None, Err(e)) => panic!("{}: unexpected error {e}", case.arn),
            (None, Ok(id)) => {
                let check = |field: &str, want: &Option<String>, got: Option<&str>| {
                    if let Some(want) = want {
                        assert_eq!(Some(want.as_str()), got, "{}: {field}", case.arn);
                    }
                };
                check("kind", &case.kind, Some(id.kind().as_str()));
                check("name", &case.name, id.name());
                check("path", &case.path, id.path());
                check("session", &case.session, id.session());
                check("partition", &case.partition, Some(id.partition().as_str()));
                check("principal_id", &case.principal_id, id.principal_id());
                assert_eq!(id.arn(), case.arn);
                if let Some(forms) = &case.forms {
                    let got: Vec<String> = id.forms().map(|f| id.form_arn(&f)).collect();
                    assert_eq!(&got, forms, "{}: forms", case.arn);
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct PatternCase {
    pattern: String,
    error: Option<String>,
    normalised: Option<String>,
    literal_len: Option<usize>,
    #[serde(default)]
    matches: Vec<String>,
    #[serde(default)]
    rejects: Vec<String>,
}

#[test]
fn patterns() {
    let cases: Vec<PatternCase> = load("patterns.ron");
    assert!(cases.len() > 40, "the table shrank");
    for case in cases {
        let parsed = Pattern::parse(&case.pattern);
        let pattern = match (&case.error, parsed) {
            (Some(expected), Err(e)) => {
                assert_eq!(&variant(&e), expected, "{}: wrong error: {e}", case.pattern);
                // The policy compiler reports it as an error diagnostic too.
                let text = format!("org \"o\" {{ map \"{}\" to \"a@x.com\" }}", case.pattern);
                let diags = CompiledPolicy::compile_str("p.policy", &text).unwrap_err();
                assert!(diags.0.iter().any(|d| d.is_error()), "{}", case.pattern);
                continue;
            }
            (Some(expected), Ok(p)) => panic!("{}: expected {expected}, got {p}", case.pattern),
            (None, Err(e)) => panic!("{}: unexpected error {e}", case.pattern),
            (None, Ok(p)) => p,
        };
        if let Some(normalised) = &case.normalised {
            assert_eq!(pattern.as_str(), normalised, "{}", case.pattern);
        }
        if let Some(literal_len) = case.literal_len {
            assert_eq!(pattern.literal_len(), literal_len, "{}", case.pattern);
        }
        let text = format!(
            "org \"o\" {{ map \"{}\" to \"a@x.com\" as r }}",
            case.pattern
        );
        let policy = CompiledPolicy::compile_str("p.policy", &text).unwrap();
        for (arns, expected) in [(&case.matches, true), (&case.rejects, false)] {
            for arn in arns {
                let id = CallerIdentity::parse_arn(arn).unwrap_or_else(|e| panic!("{arn}: {e}"));
                assert_eq!(pattern.matches(&id), expected, "{} vs {arn}", case.pattern);
                let caller = Caller::new(&id);
                let indexed = policy.decide("o", &caller);
                let reference = policy.evaluate_reference("o", &caller).to_decision();
                assert_eq!(
                    indexed, reference,
                    "{} vs {arn}: matchers disagree",
                    case.pattern
                );
                assert_eq!(
                    indexed.kind() == "mapped",
                    expected,
                    "{} vs {arn}: {indexed:?}",
                    case.pattern
                );
            }
        }
    }
}

#[derive(Deserialize)]
struct DecisionCase {
    policy: String,
    org: String,
    arn: String,
    user_id: Option<String>,
    region: Option<String>,
    decision: String,
    user: Option<String>,
    rule: Option<String>,
    reason: Option<String>,
}

#[test]
fn decisions() {
    let cases: Vec<DecisionCase> = load("decisions.ron");
    assert!(cases.len() > 20, "the table shrank");
    for case in cases {
        let policy = CompiledPolicy::compile_str("case.policy", &case.policy)
            .unwrap_or_else(|d| panic!("{}", d.render(&arnmap::SourceMap::new(), false)));
        let id = match &case.user_id {
            Some(uid) => CallerIdentity::parse(&case.arn, uid),
            None => CallerIdentity::parse_arn(&case.arn),
        }
        .unwrap();
        let caller = Caller {
            identity: &id,
            region: case.region.as_deref(),
        };
        let decision = policy.decide(&case.org, &caller);
        let reference = policy.evaluate_reference(&case.org, &caller).to_decision();
        assert_eq!(decision, reference, "{}: matchers disagree", case.arn);
        assert_eq!(decision.kind(), case.decision, "{}: {decision:?}", case.arn);
        let (user, rule, reason) = match &decision {
            Decision::Mapped { user, rule } => (Some(user), Some(rule), None),
            Decision::Denied { rule } => (None, Some(rule), None),
            Decision::NoMatch => (None, None, None),
            Decision::Error { rule, reason } => (None, rule.as_ref(), Some(reason)),
        };
        if let Some(want) = &case.user {
            assert_eq!(user, Some(want), "{}", case.arn);
        }
        if let Some(want) = &case.rule {
            assert_eq!(rule, Some(want), "{}", case.arn);
        }
        if let Some(want) = &case.reason {
            let reason = reason.unwrap();
            assert!(
                reason.contains(want.as_str()),
                "{}: reason {reason:?} lacks {want:?}",
                case.arn
            );
        }
    }
}
