//! The table of malformed proofs (tests/data/proofs/malformed.json): each is
//! rejected with its specific pre-check error, and nothing leaves the process.

use crate::sts_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arnmap::internals::wire::{RawProof, encode};
use arnmap::{PrecheckConfig, precheck};
use arnmap::{Verifier, VerifierConfig, VerifyError};
use serde_json::Value;
use sts_support::{Counting, encode_raw};

const ORG: &str = "0b5c9b6e-8a3e-4b6f-9d3f-2f1c7a2b9e10";
const AKID: &str = "ASIAEXAMPLEEXAMPLE12";
const DAY: &str = "20260101";
const DATE: &str = "20260101T000000Z";
const SIG: &str = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN+/=";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600) // 2026-01-01T00:00:00Z
}

fn auth() -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/{DAY}/us-east-1/sts/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-ddog-org-id, Signature={SIG}"
    )
}

fn fill(s: &str) -> String {
    s.replace("{AUTH}", &auth())
        .replace("{AKID}", AKID)
        .replace("{DAY}", DAY)
        .replace("{DATE}", DATE)
        .replace("{SIG}", SIG)
        .replace("{TOKEN}", TOKEN)
        .replace("{ORG}", ORG)
}

/// The Python datadog-api-client's proof shape, signature aside.
fn base() -> RawProof {
    let h = |n: &str, v: &str| (n.to_owned(), vec![v.to_owned()]);
    RawProof {
        body: b"Action=GetCallerIdentity&Version=2011-06-15".to_vec(),
        headers: vec![
            h("Content-Length", "43"),
            h(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            h("X-Amz-Date", DATE),
            h("x-ddog-org-id", ORG),
            h("X-Amz-Security-Token", TOKEN),
            h("host", "sts.amazonaws.com"),
            h("Authorization", &auth()),
            h("User-Agent", "datadog-api-client-python/2.62.0"),
        ],
        method: "POST".into(),
        url: "https://sts.amazonaws.com".into(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| fill(s.as_str().expect("string")))
        .collect()
}

/// Builds a case's proof from the base and its mutations.
fn build(case: &Value) -> String {
    if let Some(raw) = case["raw"].as_str() {
        if let Some(n) = raw.strip_prefix("PAD:") {
            return "A".repeat(n.parse().expect("pad length"));
        }
        return fill(raw);
    }
    let mut p = base();
    if let Some(m) = case["method"].as_str() {
        p.method = m.to_owned();
    }
    if let Some(u) = case["url"].as_str() {
        p.url = u.to_owned();
    }
    if let Some(b) = case["body"].as_str() {
        p.body = b.as_bytes().to_vec();
    }
    for name in strings(&case["del"]) {
        p.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    }
    if let Some(set) = case["set"].as_object() {
        for (name, value) in set {
            let value = fill(value.as_str().expect("string"));
            match p
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some((_, vs)) => *vs = vec![value],
                None => p.headers.push((name.clone(), vec![value])),
            }
        }
    }
    if let Some(values) = case["values"].as_object() {
        for (name, vs) in values {
            if let Some((_, old)) = p
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                *old = strings(vs);
            }
        }
    }
    for pair in case["add"].as_array().into_iter().flatten() {
        let name = fill(pair[0].as_str().expect("name"));
        p.headers.push((name, strings(&pair[1])));
    }
    if let Some(n) = case["add_many"].as_u64() {
        for i in 0..n {
            p.headers.push((format!("X-Filler-{i}"), vec!["x".into()]));
        }
    }
    let mut proof = encode_raw(&p);
    if let Some(json) = case["raw_headers"].as_str() {
        proof = encode(&p.body, &fill(json), &p.method, &p.url);
    }
    if let Some(parts) = case["raw_parts"].as_array() {
        let mut current: Vec<String> = proof.split('|').map(str::to_owned).collect();
        for (slot, part) in current.iter_mut().zip(parts) {
            if let Some(s) = part.as_str() {
                *slot = s.to_owned();
            }
        }
        proof = current.join("|");
    }
    proof
}

fn config(case: &Value) -> PrecheckConfig {
    match case.get("config") {
        Some(c) => serde_json::from_value(c.clone()).expect("case config"),
        None => PrecheckConfig::default(),
    }
}

fn when(case: &Value) -> SystemTime {
    let offset = case["now_offset_secs"].as_i64().unwrap_or(0);
    if offset >= 0 {
        now() + Duration::from_secs(offset.unsigned_abs())
    } else {
        now() - Duration::from_secs(offset.unsigned_abs())
    }
}

fn cases() -> Vec<Value> {
    let text = include_str!("../data/proofs/malformed.json");
    let table: Value = serde_json::from_str(text).expect("table JSON");
    table["cases"].as_array().expect("cases").clone()
}

#[test]
fn the_base_proof_passes_so_each_case_fails_for_its_own_reason() {
    let proof = encode_raw(&base());
    let checked = precheck(&proof, ORG, now(), &PrecheckConfig::default()).unwrap();
    assert_eq!(checked.host().region, "us-east-1");
    // Replayed: the signed headers, Authorization and User-Agent; not Content-Length.
    assert_eq!(checked.headers().len(), 7);
    assert!(checked.header("content-length").is_none());
    assert_eq!(checked.header("HOST"), Some("sts.amazonaws.com"));

    // Unsigned extras are dropped, never replayed.
    let mut p = base();
    p.headers
        .push(("X-Forwarded-For".into(), vec!["10.0.0.1".into()]));
    p.headers.push(("Accept".into(), vec!["*/*".into()]));
    let checked = precheck(&encode_raw(&p), ORG, now(), &PrecheckConfig::default()).unwrap();
    assert_eq!(checked.headers().len(), 7);
    assert!(checked.header("x-forwarded-for").is_none());
}

#[test]
fn every_malformed_proof_is_rejected_before_the_network() {
    let cases = cases();
    assert!(cases.len() >= 60, "the table holds {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let want = case["error"].as_str().expect("error");
        let proof = build(case);
        let org = case["org"].as_str().unwrap_or(ORG);
        let counting = Counting::new(None);
        let cfg = VerifierConfig {
            proof: config(case),
            ..VerifierConfig::default()
        };
        let verifier = Verifier::with_transport(cfg, counting.clone()).expect("verifier");
        match verifier.verify(&proof, org, when(case)) {
            Err(VerifyError::Proof(e)) if e.code() == want => {
                // The message is specific, never empty.
                assert!(!e.to_string().is_empty());
            }
            other => failures.push(format!("{name}: want {want}, got {other:?}")),
        }
        if counting.count() != 0 {
            failures.push(format!(
                "{name}: {} request(s) left the process",
                counting.count()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_check_has_a_case() {
    let cases = cases();
    let covered: std::collections::BTreeSet<&str> =
        cases.iter().filter_map(|c| c["error"].as_str()).collect();
    for code in [
        "TooLarge",
        "Parts",
        "Base64",
        "Utf8",
        "HeadersJson",
        "TooManyHeaders",
        "HeaderName",
        "HeaderValue",
        "DuplicateHeader",
        "HeaderValues",
        "ForbiddenHeader",
        "UnexpectedAmzHeader",
        "Method",
        "Url",
        "UrlScheme",
        "UrlUserinfo",
        "UrlPort",
        "UrlPath",
        "UrlQuery",
        "UrlFragment",
        "Host",
        "PartitionNotAllowed",
        "RegionNotAllowed",
        "Body",
        "ContentLength",
        "ContentType",
        "MissingHeader",
        "HostMismatch",
        "AuthScheme",
        "AuthSyntax",
        "AccessKeyId",
        "CredentialScope",
        "SignedHeadersSyntax",
        "Unsigned",
        "SignedHeaderAbsent",
        "SignedHeaderUnexpected",
        "Signature",
        "OrgMissing",
        "OrgMismatch",
        "AmzDate",
        "Expired",
        "FutureDated",
        "ScopeDate",
        "ScopeRegion",
    ] {
        assert!(covered.contains(code), "no case for {code}");
    }
}

#[test]
fn go_client_variants_are_accepted() {
    // Canonical-case header names, no Content-Length, no session token
    // (static keys), URL with a trailing slash, the other parameter order.
    let mut p = base();
    p.headers
        .retain(|(n, _)| n != "Content-Length" && n != "X-Amz-Security-Token");
    for (n, v) in &mut p.headers {
        *n = match n.to_ascii_lowercase().as_str() {
            "host" => "Host".into(),
            "x-ddog-org-id" => "X-Ddog-Org-Id".into(),
            _ => n.clone(),
        };
        if n == "Authorization" {
            *v = vec![auth().replace("x-amz-security-token;", "")];
        }
    }
    p.url = "https://sts.amazonaws.com/".into();
    p.body = b"Version=2011-06-15&Action=GetCallerIdentity".to_vec();
    let checked = precheck(&encode_raw(&p), ORG, now(), &PrecheckConfig::default()).unwrap();
    assert_eq!(checked.body().len(), 43);
    // And in both directions of the window, right at its edge.
    let proof = encode_raw(&base());
    for t in [
        now() + Duration::from_secs(900),
        now() - Duration::from_secs(900),
    ] {
        assert!(precheck(&proof, ORG, t, &PrecheckConfig::default()).is_ok());
    }
}
