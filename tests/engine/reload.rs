//! Hot reload: only a fully compiled policy whose tests pass and that lint
//! finds no error in is swapped in.

use std::sync::Arc;

use arnmap::ReloadError;
use arnmap::{Caller, CallerIdentity, PolicyHandle, SourceMap};

fn sources(text: &str) -> SourceMap {
    let mut s = SourceMap::new();
    s.add("live.policy", text);
    s
}

fn user_of(handle: &PolicyHandle, arn: &str) -> Option<String> {
    let id = CallerIdentity::parse_arn(arn).unwrap();
    match handle.load().decide("o", &Caller::new(&id)) {
        arnmap::Decision::Mapped { user, .. } => Some(user),
        _ => None,
    }
}

const V1: &str = r#"org "o" { map "arn:aws:sts::123456789012:assumed-role/r" to "v1@x.com" }"#;
const V2: &str = r#"org "o" { map "arn:aws:sts::123456789012:assumed-role/r" to "v2@x.com"
                              test "arn:aws:sts::123456789012:assumed-role/r/s1" -> "v2@x.com" }"#;
const CALLER: &str = "arn:aws:sts::123456789012:assumed-role/r/s1";

#[test]
fn a_good_policy_is_swapped_in() {
    let handle = PolicyHandle::new(arnmap::prepare(&sources(V1)).unwrap());
    assert_eq!(user_of(&handle, CALLER).as_deref(), Some("v1@x.com"));
    handle.reload(&sources(V2)).unwrap();
    assert_eq!(user_of(&handle, CALLER).as_deref(), Some("v2@x.com"));
}

#[test]
fn a_policy_that_does_not_compile_is_refused_and_the_old_one_serves() {
    let handle = PolicyHandle::new(arnmap::prepare(&sources(V1)).unwrap());
    let err = handle
        .reload(&sources(
            r#"org "o" { map "arn:aws:s3:::x" to "v2@x.com" }"#,
        ))
        .unwrap_err();
    assert!(matches!(err, ReloadError::Compile { .. }));
    assert!(err.render(false).contains("arnmap::pattern-service"));
    assert_eq!(user_of(&handle, CALLER).as_deref(), Some("v1@x.com"));
}

#[test]
fn a_policy_whose_tests_fail_is_refused_and_the_old_one_serves() {
    let handle = PolicyHandle::new(arnmap::prepare(&sources(V1)).unwrap());
    let failing = V2.replace("-> \"v2@x.com\"", "-> deny");
    let err = handle.reload(&sources(&failing)).unwrap_err();
    assert!(matches!(err, ReloadError::Tests { ref failures, .. } if failures.len() == 1));
    assert!(err.render(false).contains("expected deny"));
    assert_eq!(user_of(&handle, CALLER).as_deref(), Some("v1@x.com"));
}

#[test]
fn a_policy_with_lint_errors_is_refused_and_the_old_one_serves() {
    let handle = PolicyHandle::new(arnmap::prepare(&sources(V1)).unwrap());
    let ambiguous = r#"org "o" {
        map "arn:aws:sts::123456789012:assumed-role/r-*" to "a@x.com" as a
        map "arn:aws:sts::123456789012:assumed-role/*-r" to "b@x.com" as b
    }"#;
    let err = handle.reload(&sources(ambiguous)).unwrap_err();
    assert!(matches!(err, ReloadError::Lint { ref errors, .. } if errors.len() == 1));
    assert!(err.render(false).contains("arnmap::ambiguous-overlap"));
    assert_eq!(user_of(&handle, CALLER).as_deref(), Some("v1@x.com"));
    // Warnings do not block a reload: `o` is not a UUID, the rules are untested.
    handle.reload(&sources(V1)).unwrap();
}

#[test]
fn readers_keep_their_snapshot_across_a_swap() {
    let handle = Arc::new(PolicyHandle::new(arnmap::prepare(&sources(V1)).unwrap()));
    let snapshot = handle.load();
    let writer = {
        let handle = Arc::clone(&handle);
        std::thread::spawn(move || {
            for i in 0..50 {
                let text = if i % 2 == 0 { V2 } else { V1 };
                handle.reload(&sources(text)).unwrap();
            }
        })
    };
    let id = CallerIdentity::parse_arn(CALLER).unwrap();
    for _ in 0..2000 {
        // Every load sees one whole policy: v1 or v2, never a mix or a failure.
        let d = handle.load().decide("o", &Caller::new(&id));
        assert!(
            matches!(d, arnmap::Decision::Mapped { ref user, .. } if user == "v1@x.com" || user == "v2@x.com")
        );
    }
    writer.join().unwrap();
    assert!(
        matches!(snapshot.decide("o", &Caller::new(&id)), arnmap::Decision::Mapped { user, .. } if user == "v1@x.com")
    );
}

#[test]
fn open_reads_directories() {
    let handle = PolicyHandle::open(&[concat!(env!("CARGO_MANIFEST_DIR"), "/policies")]).unwrap();
    assert!(handle.load().orgs().len() >= 5);
    let err = PolicyHandle::open(&["/no/such/path"]).unwrap_err();
    assert!(matches!(err, ReloadError::Load(_)));
}
