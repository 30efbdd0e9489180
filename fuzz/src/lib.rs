//! The bodies of arnmap's fuzz targets. Each target in `fuzz_targets/` is one
//! line calling a function here, and `tests/engine/fuzz_regressions.rs` includes this
//! same file to replay every input kept in `fuzz/regressions/<target>/` on
//! stable, so a crash found once is checked by every `cargo test`.
//!
//! A function panics exactly when it has found a bug: a panic inside arnmap,
//! or a broken invariant asserted here.

use std::time::{Duration, UNIX_EPOCH};

use arbitrary::{Arbitrary, Unstructured};
use arnmap::internals::{parse_sts_host, wire};
use arnmap::{Caller, CallerIdentity, CompiledPolicy, Pattern, SourceMap};
use arnmap::{PrecheckConfig, precheck};

/// Inputs longer than this are ignored: they only slow the fuzzer down.
pub const MAX_INPUT: usize = 16 * 1024;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by name, for the regression replay.
pub const TARGETS: [(&str, Target); 5] = [
    ("policy_parser", policy_parser),
    ("identity", identity),
    ("pattern", pattern),
    ("equivalence", equivalence),
    ("proof", proof),
];

/// Bounds pest's recursion the way a service should: the call limit is
/// process-global, so it is set by the harness, not by the library.
fn limit_pest() {
    pest::set_call_limit(std::num::NonZeroUsize::new(2_000_000));
}

fn text(data: &[u8]) -> Option<&str> {
    if data.len() > MAX_INPUT {
        return None;
    }
    std::str::from_utf8(data).ok()
}

/// Both matchers must reach the same decision, down to the rule.
fn assert_equivalent(policy: &CompiledPolicy, org: &str, caller: &Caller<'_>) {
    let indexed = policy.decide(org, caller);
    let reference = policy.evaluate_reference(org, caller).to_decision();
    assert_eq!(
        indexed, reference,
        "indexed and reference matchers disagree on {} in org {org}",
        caller.identity
    );
}

/// Policy text → compile (parse, lower, compile, index). Never panics;
/// errors render; a policy that compiles agrees with the reference matcher
/// on its own `test` callers; and parse → fmt → parse gives the same policy.
pub fn policy_parser(data: &[u8]) {
    let Some(text) = text(data) else { return };
    limit_pest();
    fast_path_agrees(text);
    let mut sources = SourceMap::new();
    sources.add("fuzz.policy", text);
    match CompiledPolicy::compile(&sources) {
        Err(diags) => {
            let rendered = diags.render(&sources, false);
            assert!(!rendered.is_empty(), "an error rendered as nothing");
        }
        Ok(policy) => {
            for org in policy.orgs() {
                for test in &org.tests {
                    assert_equivalent(&policy, &org.id, &Caller::new(&test.identity));
                }
            }
            let _ = arnmap::run_tests(&policy);
        }
    }
    fmt_round_trip(text);
}

/// The front end's fast path agrees with pest and the lowering
/// (`src/policy/fast.rs`): when it reads a file, pest and the lowering read
/// the same AST, spans included, without a diagnostic; when pest fails or the
/// lowering reports a diagnostic, it gives up. It gives up on nothing else
/// but conditions nested deeper than its bound, and pest's own limits (its
/// call limit, set above, and its stack guard) are not the language's.
pub fn fast_path_agrees(text: &str) {
    use arnmap::internals::front;
    let fast = front::parse_fast(text);
    let (pest, diags) = front::parse_pest(text);
    if diags.iter().any(|d| d.message.contains("limit reached")) {
        return; // pest's call limit or stack guard, not a syntax error
    }
    let clean = pest.is_some() && diags.is_empty();
    // A large file is read in pieces cut before an `org` that starts a line;
    // a cut that is not between two org blocks gives up, never reads otherwise.
    for pieces in [2, 3, 7] {
        if let Some(file) = front::parse_fast_in_pieces(text, pieces) {
            assert_eq!(
                format!("{:?}", Some(file)),
                format!("{fast:?}"),
                "the fast path in {pieces} pieces reads otherwise"
            );
        }
    }
    match &fast {
        Some(file) => {
            assert!(
                clean,
                "the fast path read a text pest and the lowering reject: {:?}",
                diags.iter().map(|d| &d.message).collect::<Vec<_>>()
            );
            assert_eq!(
                format!("{:?}", Some(file)),
                format!("{pest:?}"),
                "the fast path and pest + lower read different files"
            );
        }
        None if clean => {
            let nesting = text.matches('(').count() + text.matches("not").count();
            assert!(
                nesting > front::MAX_DEPTH as usize,
                "the fast path gave up on a text pest and the lowering read cleanly"
            );
        }
        None => {}
    }
}

/// What a compiled policy means, rule by rule: org, id, pattern, effect,
/// target, condition and precedence. `fmt` must not change it.
fn meaning(policy: &CompiledPolicy) -> Vec<String> {
    policy
        .rules()
        .iter()
        .map(|r| {
            let org = policy
                .orgs()
                .get(r.org as usize)
                .map(|o| &*o.id)
                .unwrap_or("?");
            format!(
                "{org} {} {} {:?} {:?} {:?}",
                policy.rule_id(r),
                r.pattern,
                r.effect,
                r.condition,
                arnmap::internals::precedence::precedence_key(r)
            )
        })
        .collect()
}

/// parse → fmt → parse: formatting is idempotent, keeps whether the text
/// compiles, and never changes what a policy that compiles means.
fn fmt_round_trip(text: &str) {
    let Ok(formatted) = arnmap::format_policy(text) else {
        return;
    };
    match arnmap::format_policy(&formatted) {
        Ok(again) => assert_eq!(again, formatted, "fmt is not idempotent"),
        Err(e) => panic!("formatted text does not parse: {}", e.message),
    }
    let before = CompiledPolicy::compile_str("fuzz.policy", text);
    let after = CompiledPolicy::compile_str("fuzz.policy", &formatted);
    match (before, after) {
        (Ok(a), Ok(b)) => assert_eq!(meaning(&a), meaning(&b), "fmt changed the policy"),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(_)) => panic!("fmt made a compiling policy fail"),
        (Err(_), Ok(_)) => panic!("fmt made a failing policy compile"),
    }
}

/// `ARN \n USER_ID \n ACCOUNT` → the three identity parsers. A parsed
/// identity round-trips, and each of its forms, written as a pattern,
/// matches it.
pub fn identity(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let mut lines = text.splitn(3, '\n');
    let arn = lines.next().unwrap_or_default();
    let user_id = lines.next();
    let account = lines.next();
    let parsed = match (user_id, account) {
        (Some(uid), Some(acct)) => CallerIdentity::from_sts(arn, uid, acct),
        (Some(uid), None) => CallerIdentity::parse(arn, uid),
        _ => CallerIdentity::parse_arn(arn),
    };
    let Ok(id) = parsed else { return };
    let again = CallerIdentity::parse_arn(id.arn());
    assert!(again.is_ok(), "{} does not parse again", id.arn());
    assert_eq!(id.arn(), arn);
    for form in id.forms() {
        let written = id.form_arn(&form);
        match Pattern::parse(&written) {
            Ok(p) => assert!(p.matches(&id), "form {written} does not match {id}"),
            Err(e) => panic!("form {written} of {id} is not a pattern: {e}"),
        }
    }
}

/// `PATTERN \n CALLER-ARN` → the pattern compiler. Normalisation is
/// idempotent, and a one-rule policy maps the caller exactly when
/// `Pattern::matches` says so, through both matchers.
pub fn pattern(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let (pattern, caller) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(p) = Pattern::parse(pattern) else {
        return;
    };
    match Pattern::parse(p.as_str()) {
        Ok(again) => assert_eq!(
            again.as_str(),
            p.as_str(),
            "normalising twice changes {pattern}"
        ),
        Err(e) => panic!("normalised {} of {pattern} does not parse: {e}", p.as_str()),
    }
    assert!(p.literal_len() <= p.as_str().len());
    let Ok(id) = CallerIdentity::parse_arn(caller) else {
        return;
    };
    if p.as_str().contains(['"', '\\', '\n', '\r']) {
        return;
    }
    let policy_text = format!(
        "org \"o\" {{ map \"{}\" to \"u@example.com\" }}",
        p.as_str()
    );
    let Ok(policy) = CompiledPolicy::compile_str("fuzz.policy", &policy_text) else {
        panic!("a pattern that parses does not compile: {policy_text}");
    };
    let caller = Caller::new(&id);
    assert_equivalent(&policy, "o", &caller);
    let mapped = matches!(policy.decide("o", &caller), arnmap::Decision::Mapped { .. });
    assert_eq!(mapped, p.matches(&id), "{} vs {id}", p.as_str());
}

/// Decodes a proof and runs every pre-check at a fixed clock. Never panics;
/// whatever passes names an allowlisted STS host and the asked-for org.
pub fn proof(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let (org, raw) = match text.split_once('\n') {
        Some((org, raw)) if org.len() <= 64 => (org, raw),
        _ => ("org", text),
    };
    let _ = wire::decode(raw);
    let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    if let Ok(checked) = precheck(raw, org, now, &PrecheckConfig::default()) {
        assert!(
            parse_sts_host(&checked.host().host).is_some(),
            "accepted a proof for host {}",
            checked.host().host
        );
        assert_eq!(checked.org(), org);
    }
}

// New choices go at the end of each list (issue 13 appended the shapes the
// index keys by suffix or inner run), so earlier indices keep their meaning.
const NAMES: &[&str] = &[
    "a", "ab", "ba", "abcd", "abcde", "abcdef", "abcdx", "x-team7", "svc-a-7", "name7", "team7-ab",
];
const NAME_GLOBS: &[&str] = &[
    "a", "ab", "abcd", "abcde", "abcdef", "a*", "*b", "ab*", "abcd*", "abcde*", "abcde?", "?bcde",
    "*", "a?", "*cd*", "*-team7", "svc-*-7", "*team7*", "s*-7", "name7", "*-t?am7",
];
const SESSIONS: &[&str] = &["aa", "ab", "ba", "bbbb", "abcde", "sess7", "x-sess7"];
const SESSION_GLOBS: &[&str] = &[
    "aa", "ab", "a*", "*", "?b", "bbbb", "abcd*", "*e", "sess7", "*sess7*", "*-sess7",
];
const PATHS: &[&str] = &["", "x/", "x/y/", "abcd/", "x/y/z/"];
const PATH_GLOBS: &[&str] = &["x", "x/y", "*", "x*", "?", "abcd", "x/*", "*/y"];
const OTHER: &[&str] = &[
    "root",
    "*",
    "ro*",
    "*a",
    "?*",
    "assumed-*",
    "*/aa",
    "user*",
    "abcd*",
    "*/*",
    "*sess7*",
    "*/name7",
    "assumed-role/*/sess7",
    "*team7*",
];
const PARTITIONS: &[&str] = &["aws", "aws", "aws-cn", "*", "aws*", "aws-?n", "aws-us-gov"];
const CALLER_PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];
const SERVICES: &[&str] = &["iam", "sts", "*", "i*", "?ts"];
const REGIONS: &[&str] = &["", "", "", "*"];
const ACCOUNTS: &[&str] = &[
    "111111111111",
    "222222222222",
    "*",
    "1*",
    "11111111111?",
    "*1",
];
const CALLER_ACCOUNTS: &[&str] = &["111111111111", "222222222222", "333333333333"];
const TARGETS_TEXT: &[&str] = &[
    "u1@x.com",
    "u2@x.com",
    "{session}@x.com",
    "{name}",
    "{principal_id}",
    "{account}",
];
const ATOMS: &[&str] = &[
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
];

fn pick(list: &[&'static str], i: u8) -> &'static str {
    list.get(usize::from(i) % list.len().max(1))
        .copied()
        .unwrap_or_default()
}

/// A resource section, from the shapes people write.
#[derive(Debug, Arbitrary)]
enum ResourceCase {
    AssumedRole(u8),
    Session(u8, u8),
    Role(u8),
    User(u8),
    UserPath(u8, u8),
    Federated(u8),
    Other(u8),
}

impl ResourceCase {
    fn text(&self) -> String {
        match *self {
            ResourceCase::AssumedRole(r) => format!("assumed-role/{}", pick(NAME_GLOBS, r)),
            ResourceCase::Session(r, s) => {
                format!(
                    "assumed-role/{}/{}",
                    pick(NAME_GLOBS, r),
                    pick(SESSION_GLOBS, s)
                )
            }
            ResourceCase::Role(r) => format!("role/{}", pick(NAME_GLOBS, r)),
            ResourceCase::User(r) => format!("user/{}", pick(NAME_GLOBS, r)),
            ResourceCase::UserPath(p, r) => {
                format!("user/{}/{}", pick(PATH_GLOBS, p), pick(NAME_GLOBS, r))
            }
            ResourceCase::Federated(r) => format!("federated-user/{}", pick(NAME_GLOBS, r)),
            ResourceCase::Other(r) => pick(OTHER, r).to_owned(),
        }
    }
}

/// `a`, `a and b`, `a or not b`, `not (a)`.
#[derive(Debug, Arbitrary)]
enum ConditionCase {
    One(u8),
    And(u8, u8),
    OrNot(u8, u8),
    Not(u8),
}

impl ConditionCase {
    fn text(&self) -> String {
        match *self {
            ConditionCase::One(a) => pick(ATOMS, a).to_owned(),
            ConditionCase::And(a, b) => format!("{} and {}", pick(ATOMS, a), pick(ATOMS, b)),
            ConditionCase::OrNot(a, b) => format!("{} or not {}", pick(ATOMS, a), pick(ATOMS, b)),
            ConditionCase::Not(a) => format!("not ({})", pick(ATOMS, a)),
        }
    }
}

/// One rule of a structured policy.
#[derive(Debug, Arbitrary)]
pub struct RuleCase {
    org: u8,
    deny: bool,
    partition: u8,
    service: u8,
    region: u8,
    account: u8,
    resource: ResourceCase,
    target: u8,
    condition: Option<ConditionCase>,
}

impl RuleCase {
    fn pattern(&self) -> String {
        format!(
            "arn:{}:{}:{}:{}:{}",
            pick(PARTITIONS, self.partition),
            pick(SERVICES, self.service),
            pick(REGIONS, self.region),
            pick(ACCOUNTS, self.account),
            self.resource.text()
        )
    }
}

/// A caller of one of the four kinds.
#[derive(Debug, Arbitrary)]
pub struct CallerCase {
    org: u8,
    kind: u8,
    partition: u8,
    account: u8,
    name: u8,
    session: u8,
    path: u8,
    region: bool,
}

impl CallerCase {
    fn identity(&self) -> Option<CallerIdentity> {
        let p = pick(CALLER_PARTITIONS, self.partition);
        let a = pick(CALLER_ACCOUNTS, self.account);
        let name = pick(NAMES, self.name);
        let (arn, uid) = match self.kind % 4 {
            0 => (
                format!(
                    "arn:{p}:sts::{a}:assumed-role/{name}/{}",
                    pick(SESSIONS, self.session)
                ),
                format!("AROAA:{}", pick(SESSIONS, self.session)),
            ),
            1 => (
                format!("arn:{p}:iam::{a}:user/{}{name}", pick(PATHS, self.path)),
                "AIDAA".to_owned(),
            ),
            2 => (
                format!("arn:{p}:sts::{a}:federated-user/{name}"),
                format!("{a}:{name}"),
            ),
            _ => (format!("arn:{p}:iam::{a}:root"), a.to_owned()),
        };
        CallerIdentity::parse(&arn, &uid).ok()
    }
}

/// A structured policy and the callers to ask about.
#[derive(Debug, Arbitrary)]
pub struct EquivalenceCase {
    rules: Vec<RuleCase>,
    callers: Vec<CallerCase>,
}

impl EquivalenceCase {
    /// The policy text: one block per rule (orgs span blocks), rules named.
    pub fn policy_text(&self) -> String {
        let mut text = String::new();
        for (i, r) in self.rules.iter().take(64).enumerate() {
            let pattern = r.pattern();
            if Pattern::parse(&pattern).is_err() {
                continue;
            }
            let head = if r.deny {
                format!("deny \"{pattern}\"")
            } else {
                format!("map \"{pattern}\" to \"{}\"", pick(TARGETS_TEXT, r.target))
            };
            let when = r
                .condition
                .as_ref()
                .map(|c| format!(" when {}", c.text()))
                .unwrap_or_default();
            let org = r.org % 3;
            // Unnamed rules get `file:line` ids: give every other one a name.
            let name = if i % 2 == 0 {
                format!(" as r{i}")
            } else {
                String::new()
            };
            text.push_str(&format!("org \"o{org}\" {{ {head}{name}{when} }}\n"));
        }
        text
    }
}

/// Structured policies and callers: the indexed matcher and the reference
/// matcher reach the same decision, down to the deciding rule.
pub fn equivalence(data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(case) = EquivalenceCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let text = case.policy_text();
    let policy = match CompiledPolicy::compile_str("fuzz.policy", &text) {
        Ok(policy) => policy,
        Err(diags) => panic!(
            "a policy of valid patterns does not compile:\n{text}\n{}",
            diags.render(&SourceMap::new(), false)
        ),
    };
    for c in case.callers.iter().take(32) {
        let Some(id) = c.identity() else { continue };
        let caller = Caller {
            identity: &id,
            region: c.region.then_some("us-east-1"),
        };
        assert_equivalent(&policy, &format!("o{}", c.org % 4), &caller);
    }
}
