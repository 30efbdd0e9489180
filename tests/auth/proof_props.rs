//! Property tests standing in for the fuzz target: `precheck` is total (never
//! panics) on arbitrary text and on byte-level mutations of a valid proof.

use std::time::{Duration, UNIX_EPOCH};

use arnmap::internals::wire::{decode, encode};
use arnmap::{PrecheckConfig, precheck};
use proptest::prelude::*;

const VALID_HEADERS: &str = r#"{"Content-Length":["43"],"Content-Type":["application/x-www-form-urlencoded; charset=utf-8"],"X-Amz-Date":["20260101T000000Z"],"x-ddog-org-id":["org"],"X-Amz-Security-Token":["t"],"host":["sts.amazonaws.com"],"Authorization":["AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE12/20260101/us-east-1/sts/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-ddog-org-id, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"]}"#;

fn valid() -> String {
    encode(
        b"Action=GetCallerIdentity&Version=2011-06-15",
        VALID_HEADERS,
        "POST",
        "https://sts.amazonaws.com",
    )
}

fn now() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

#[test]
fn the_seed_is_valid() {
    assert!(precheck(&valid(), "org", now(), &PrecheckConfig::default()).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,600}") {
        let _ = precheck(&s, "org", now(), &PrecheckConfig::default());
    }

    #[test]
    fn mutated_headers_never_panic(at in 0usize..VALID_HEADERS.len(), c in any::<char>(), skew in 0u64..4_000_000_000) {
        let mut h: Vec<char> = VALID_HEADERS.chars().collect();
        let at = at.min(h.len() - 1);
        h[at] = c;
        let h: String = h.into_iter().collect();
        let proof = encode(b"Action=GetCallerIdentity&Version=2011-06-15", &h, "POST", "https://sts.amazonaws.com");
        let t = UNIX_EPOCH + Duration::from_secs(skew);
        let _ = precheck(&proof, "org", t, &PrecheckConfig::default());
    }

    #[test]
    fn mutated_urls_never_panic(url in "[a-zA-Z:/.@?#%0-9\\-\\[\\]]{0,80}") {
        let proof = encode(b"Action=GetCallerIdentity&Version=2011-06-15", VALID_HEADERS, "POST", &url);
        if let Ok(checked) = precheck(&proof, "org", now(), &PrecheckConfig::default()) {
            // Whatever passed names an allowlisted host.
            prop_assert!(arnmap::internals::parse_sts_host(&checked.host().host).is_some());
        }
    }

    #[test]
    fn decoding_round_trips(body in proptest::collection::vec(any::<u8>(), 0..64), method in "[A-Z]{1,7}") {
        let proof = encode(&body, "{}", &method, "https://x");
        let raw = decode(&proof).unwrap();
        prop_assert_eq!(raw.body, body);
        prop_assert_eq!(raw.method, method);
    }
}
